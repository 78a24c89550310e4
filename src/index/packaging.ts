/**
 * Which Python module a Rust crate builds, as the project's packaging says. Pure: works on the
 * manifests' texts by path.
 * - maturin: `[tool.maturin] module-name = "pkg._native"` in a pyproject.toml beside the crate, one
 *   directory above it, or anywhere whose `manifest-path` names the crate's Cargo.toml
 *   (cryptography: `manifest-path = "src/rust/Cargo.toml"`);
 * - setuptools-rust: `RustExtension("pkg._mod", path="rust/Cargo.toml")` in a setup.py (path
 *   defaults to the Cargo.toml beside it), or `[[tool.setuptools-rust.ext-modules]]` tables with
 *   `target` and `path` in a pyproject.toml.
 */
import { dirname, join, normalize } from 'node:path';
import { tomlString } from '../core/rust/link';

export interface CratePackaging {
  /** The pyproject.toml text the crate's linker reads (maturin's settings), if any. */
  pyprojectToml?: string;
  /** The dotted module the crate builds when the packaging names it (`tiktoken._tiktoken`). */
  moduleName?: string;
  /** Other modules the same crate is built as by other packagings (cramjam's `pure-rust/`
   *  pyproject.toml builds it as `cramjam_pure_rust.cramjam`). */
  alsoNames?: string[];
}

/** `manifests`: path -> text of every Cargo.toml, pyproject.toml and setup.py found. */
export function packagingOf(crateRoot: string, manifests: ReadonlyMap<string, string>): CratePackaging {
  const cargo = normalize(join(crateRoot, 'Cargo.toml'));
  const out: CratePackaging = {};
  const beside = manifests.get(join(crateRoot, 'pyproject.toml'));
  const above = manifests.get(join(dirname(crateRoot), 'pyproject.toml'));
  if (beside !== undefined) out.pyprojectToml = beside;
  else if (above?.includes('maturin')) out.pyprojectToml = above;
  for (const [path, text] of manifests) {
    const dir = dirname(path);
    if (path.endsWith('pyproject.toml')) {
      const manifestPath = tomlString(text, 'tool.maturin', 'manifest-path');
      if (manifestPath && normalize(join(dir, manifestPath)) === cargo) {
        const name = tomlString(text, 'tool.maturin', 'module-name');
        if (beside?.includes('maturin')) {
          // The crate's own pyproject.toml is the main build; this one builds it again.
          if (name) (out.alsoNames ??= []).push(name);
        } else {
          out.pyprojectToml = text;
          if (name) out.moduleName = name;
        }
      }
      for (const ext of setuptoolsRustTables(text)) {
        if (normalize(join(dir, ext.path ?? 'Cargo.toml')) === cargo) out.moduleName ??= ext.target;
      }
    } else if (path.endsWith('setup.py')) {
      for (const ext of rustExtensions(text)) {
        if (normalize(join(dir, ext.path ?? 'Cargo.toml')) === cargo) out.moduleName ??= ext.target;
      }
    }
  }
  return out;
}

interface RustExtensionDecl {
  target: string;
  path?: string;
}

/** `RustExtension("pkg._mod", ...)` / `RustExtension(target="pkg._mod", path="x/Cargo.toml")`. */
export function rustExtensions(setupPy: string): RustExtensionDecl[] {
  const out: RustExtensionDecl[] = [];
  const re = /\bRustExtension\s*\(/g;
  for (let m = re.exec(setupPy); m; m = re.exec(setupPy)) {
    const args = callText(setupPy, m.index + m[0].length);
    const target = /^\s*(?:target\s*=\s*)?["']([\w.]+)["']/.exec(args)?.[1] ?? /\btarget\s*=\s*["']([\w.]+)["']/.exec(args)?.[1];
    if (!target) continue;
    const path = /\bpath\s*=\s*["']([^"']+)["']/.exec(args)?.[1];
    out.push(path ? { target, path } : { target });
  }
  return out;
}

/** The text of a call's arguments from just after its `(` to the matching `)` (strings skipped). */
function callText(text: string, from: number): string {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) break;
      i = end;
    } else if (ch === '(' || ch === '[' || ch === '{') {
      depth++;
    } else if ((ch === ')' || ch === ']' || ch === '}') && --depth === 0) {
      return text.slice(from, i);
    }
  }
  return text.slice(from, Math.min(text.length, from + 2000));
}

/** `[[tool.setuptools-rust.ext-modules]]` tables: their `target` and `path`. */
export function setuptoolsRustTables(pyproject: string): RustExtensionDecl[] {
  const out: RustExtensionDecl[] = [];
  let cur: Partial<RustExtensionDecl> | undefined;
  const close = (): void => {
    if (cur?.target) out.push(cur.path ? { target: cur.target, path: cur.path } : { target: cur.target });
    cur = undefined;
  };
  for (const raw of pyproject.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (/^\[/.test(line)) {
      close();
      if (/^\[\[\s*tool\.setuptools-rust\.ext-modules\s*\]\]$/.test(line)) cur = {};
      continue;
    }
    if (!cur) continue;
    const kv = /^(target|path)\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(line);
    if (kv) cur[kv[1] as 'target' | 'path'] = kv[2] ?? kv[3];
  }
  close();
  return out;
}
