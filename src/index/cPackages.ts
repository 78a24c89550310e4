/**
 * The import path of a C extension module whose `PyModuleDef` names it bare: simplejson's
 * `_speedups.c` says `"_speedups"` but Python imports `simplejson._speedups`. Pure: works on the
 * C linker's module bindings, setup.py texts and which directories are Python packages.
 * - setup.py (and setup_*.py helpers): `Extension("simplejson._speedups", [...])` (or `name=`,
 *   or `Extension("_xxhash")` under `setup(ext_package="xxhash")`): a module of that last
 *   component, in a file below it, is imported under the dotted name;
 * - otherwise a module in a Python package's directory (`bitarray/_bitarray.c` beside
 *   `bitarray/__init__.py`) is imported from that package.
 */
import { dirname, sep } from 'node:path';
import type { Alias, Binding } from '../core/model';
import { LineIndex } from '../core/lines';

/** The dotted names of the `Extension(...)` objects a setup.py builds (literal names only), and
 *  dotted `name="pkg.mod"` arguments of its helpers (zstandard's setup_zstd.py). */
export function setupExtensionNames(setupPy: string): { name: string; line: number }[] {
  const out: { name: string; line: number }[] = [];
  const lines = new LineIndex(setupPy);
  // `setup(ext_package="xxhash", ext_modules=[Extension("_xxhash", ...)])`: every extension's
  // name is under that package.
  const pkg = /\bext_package\s*=\s*["']([A-Za-z_][\w.]*)["']/.exec(setupPy)?.[1];
  const re = /\bExtension\s*\(\s*(?:name\s*=\s*)?["']([A-Za-z_][\w.]*)["']|\bname\s*=\s*["']([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)["']/g;
  for (let m = re.exec(setupPy); m; m = re.exec(setupPy)) {
    const name = m[1] !== undefined && pkg ? `${pkg}.${m[1]}` : m[1] ?? m[2];
    out.push({ name, line: lines.lineAt(m.index) });
  }
  return out;
}

/**
 * Aliases from each C module's import path to the name its PyModuleDef gives it.
 * `setups`: setup.py path -> text; `packageOf`: a directory -> the dotted package it is ('' when
 * it is not one).
 */
export function cModuleAliases(moduleBindings: readonly Binding[], setups: ReadonlyMap<string, string>, packageOf: (dir: string) => string): Alias[] {
  const declared = [...setups].map(([path, text]) => ({ dir: dirname(path), path, names: setupExtensionNames(text).filter((n) => n.name.includes('.')) }));
  const out: Alias[] = [];
  const seen = new Set<string>();
  for (const b of moduleBindings) {
    const t = b.target;
    if (t.kind !== 'module' || t.language !== 'c' || b.name.includes('.')) continue;
    const file = t.file;
    let from: string | undefined;
    let at = { file, line: t.line };
    for (const d of declared) {
      if (!isUnder(file, d.dir)) continue;
      const hit = d.names.find((n) => n.name.slice(n.name.lastIndexOf('.') + 1) === b.name);
      if (hit) {
        from = hit.name;
        at = { file: d.path, line: hit.line };
        break;
      }
    }
    if (!from) {
      const pkg = packageOf(dirname(file));
      if (pkg) from = `${pkg}.${b.name}`;
    }
    if (!from || from === b.name || seen.has(from)) continue;
    seen.add(from);
    out.push({ from, to: b.name, star: false, ...at });
  }
  return out;
}

/**
 * C modules built by a setup.py of their own inside a project that maturin builds (blake3's
 * `c_impl/`, a C port of the Rust extension): the wheel holds the Rust module, so for a name
 * both define the Rust target comes first (the C one's rank is raised by 3, still ahead of a
 * pure-Python fallback's). `manifests`: path -> text of pyproject.toml and setup.py files.
 * Returns how many bindings it demoted.
 */
export function demoteAlternateCBuilds(cBindings: Binding[], manifests: ReadonlyMap<string, string>): number {
  const maturinDirs: string[] = [];
  const setupDirs: string[] = [];
  for (const [path, text] of manifests) {
    if (path.endsWith('pyproject.toml') && /build-backend\s*=\s*["']maturin["']/.test(text)) maturinDirs.push(dirname(path));
    else if (/(?:^|[\\/])setup\.py$/.test(path)) setupDirs.push(dirname(path));
  }
  if (!maturinDirs.length || !setupDirs.length) return 0;
  const alternate = setupDirs.filter((d) => maturinDirs.some((r) => isUnder(d, r)));
  if (!alternate.length) return 0;
  let n = 0;
  for (const b of cBindings) {
    if (b.target.language !== 'c' || !alternate.some((d) => isUnder(b.target.file, d))) continue;
    b.target.rank = (b.target.rank ?? 0) + 3;
    b.target.evidence = `${b.target.evidence ?? 'C'}; a separate C build (its setup.py) of a project maturin builds`;
    n++;
  }
  return n;
}

/** Is `path` below directory `dir`? */
function isUnder(path: string, dir: string): boolean {
  return path.startsWith(dir + sep) || path.startsWith(`${dir}/`);
}
