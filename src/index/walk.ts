/**
 * Finds the files the index reads under its roots. Symbolic links are not followed out of the
 * roots unless asked; loops are cut by real path; unreadable directories are logged and skipped.
 */
import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';

/** setup.py and its helpers (zstandard's setup_zstd.py). */
export const SETUP_PY = /^setup(?:_\w+)?\.py$/;

export type FileLang = 'c' | 'rust' | 'python';

export interface FoundFile {
  path: string; // absolute
  root: string; // the root it was found under
  lang: FileLang;
}

export interface WalkResult {
  files: FoundFile[];
  /** Cargo.toml / pyproject.toml / setup.py / __init__.py(i) paths: crate and package structure. */
  manifests: string[];
  packageDirs: Set<string>;
  skipped: string[]; // one line each
}

export interface WalkOptions {
  followSymlinks: boolean;
  /** Directory names never entered. */
  skipDirs?: ReadonlySet<string>;
}

export const DEFAULT_SKIP_DIRS: ReadonlySet<string> = new Set([
  '.git', '.hg', '.svn', 'node_modules', 'target', '__pycache__', '.tox', '.nox', '.mypy_cache',
  '.pytest_cache', '.venv', 'venv', '.vscode-test', 'dist', 'build',
]);

/** Python files under these directories are tests, never public API. */
const TEST_DIR = /[\\/](?:test|tests|idle_test|testing)(?:[\\/]|$)/;

/** C++ sources: extensions written against the C API in C++ (greenlet) are read as C. */
export const CPP_FILE = /\.(?:cpp|cc|cxx|hpp|hh|hxx)$/;

export function langOf(name: string): FileLang | undefined {
  if (name.endsWith('.c') || name.endsWith('.h') || CPP_FILE.test(name)) return 'c';
  if (name.endsWith('.rs')) return 'rust';
  if (name.endsWith('.py') || name.endsWith('.pyi')) return 'python';
  return undefined;
}

function inside(child: string, parent: string): boolean {
  const r = relative(parent, child);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

export function walkRoots(roots: string[], opts: WalkOptions): WalkResult {
  const skipDirs = opts.skipDirs ?? DEFAULT_SKIP_DIRS;
  const out: WalkResult = { files: [], manifests: [], packageDirs: new Set(), skipped: [] };
  const seenReal = new Set<string>();
  const seenFiles = new Set<string>();
  for (const root of roots) {
    let realRoot: string;
    try {
      realRoot = realpathSync(root);
    } catch (e) {
      out.skipped.push(`${root}: root not readable (${(e as Error).message})`);
      continue;
    }
    // Each directory with its real path: a plain subdirectory's is its parent's plus its name
    // (no syscall); only symbolic links are resolved.
    const stack: [dir: string, real: string][] = [[root, realRoot]];
    while (stack.length) {
      const [dir, real] = stack.pop()!;
      if (seenReal.has(real)) continue; // symlink loop or a root nested in another
      seenReal.add(real);
      let entries: Dirent[];
      try {
        // Sorted: the same files in the same order on every file system.
        entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      } catch (e) {
        out.skipped.push(`${dir}: directory not readable (${(e as NodeJS.ErrnoException).code ?? e})`);
        continue;
      }
      // Python test suites re-export nothing public: not read at all.
      const testDir = TEST_DIR.test(`/${relative(root, dir)}`);
      const subdirs: [string, string][] = [];
      for (const ent of entries) {
        const name = ent.name;
        const p = join(dir, name);
        let isDir = ent.isDirectory();
        let isFile = ent.isFile();
        let realDir = join(real, name);
        if (ent.isSymbolicLink()) {
          try {
            const target = realpathSync(p);
            if (!opts.followSymlinks && !inside(target, realRoot)) {
              out.skipped.push(`${p}: symbolic link out of the root, not followed (seam.index.followSymlinks)`);
              continue;
            }
            const st = statSync(target);
            isDir = st.isDirectory();
            isFile = st.isFile();
            realDir = target;
          } catch {
            out.skipped.push(`${p}: broken symbolic link`);
            continue;
          }
        }
        if (isDir) {
          if (!skipDirs.has(name) && !name.startsWith('.')) subdirs.push([p, realDir]);
        } else if (isFile) {
          if (name === 'Cargo.toml' || name === 'pyproject.toml' || SETUP_PY.test(name)) out.manifests.push(p);
          if (name === '__init__.py' || name === '__init__.pyi') out.packageDirs.add(dir);
          const lang = langOf(name);
          if (lang === 'python' && testDir) continue;
          if (lang && !seenFiles.has(p)) {
            seenFiles.add(p);
            out.files.push({ path: p, root, lang });
          }
        }
      }
      subdirs.sort((a, b) => (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0));
      stack.push(...subdirs);
    }
  }
  return out;
}
