/**
 * Which Python module a source file is, from its path relative to a root and which directories
 * are packages (hold an `__init__.py` / `__init__.pyi`). Pure: the caller answers `hasInit`.
 *
 *   Lib/os.py (Lib is no package)   -> os
 *   Lib/json/decoder.py             -> json.decoder
 *   src/pkg/__init__.py             -> pkg
 *   stubs/foo.pyi                   -> foo
 */
export function moduleNameFor(relPath: string, hasInit: (relDir: string) => boolean, isProject?: (relDir: string) => boolean): string {
  const parts = relPath.replace(/\\/g, '/').split('/').filter((p) => p !== '' && p !== '.');
  const file = parts.pop() ?? '';
  const stem = file.replace(/\.pyi?$/, '');
  const names: string[] = stem === '__init__' ? [] : [stem];
  // Walk up while the directory is a package; the first non-package directory ends the name.
  let n = parts.length;
  for (; n > 0; n--) {
    if (!hasInit(parts.slice(0, n).join('/'))) break;
    names.unshift(parts[n - 1]);
  }
  // Namespace packages (PEP 420: no __init__.py) in a project's `src/` layout, such as zope's
  // `src/zope/interface/`: every directory between `src/` and the package names a level. (Only
  // under `src/`, whose children are importable by convention; elsewhere a directory without
  // __init__.py is as likely a folder of scripts.)
  if (isProject && n > 0) {
    const ns: string[] = [];
    for (let k = n; k > 0; k--) {
      const dir = parts[k - 1];
      if (dir === 'src' && isProject(parts.slice(0, k - 1).join('/'))) {
        if (ns.length) return [...ns, ...names].join('.');
        break;
      }
      if (!/^[A-Za-z_]\w*$/.test(dir) || NOT_NAMESPACES.has(dir) || isProject(parts.slice(0, k).join('/'))) break;
      ns.unshift(dir);
    }
  }
  return names.join('.');
}

/** Directories that hold code without being a namespace package of it. */
const NOT_NAMESPACES = new Set(['src', 'lib', 'Lib', 'python', 'tests', 'test', 'docs', 'doc', 'examples', 'scripts', 'tools', 'benchmarks', 'site-packages']);

/** The package a relative import is taken against: the module itself for an `__init__`, its
 *  parent otherwise; then one level up per extra dot. Undefined when it climbs out of the top. */
export function resolveRelative(module: string, isPackage: boolean, level: number, rel: string): string | undefined {
  if (level === 0) return rel;
  const parts = module ? module.split('.') : [];
  if (!isPackage) parts.pop();
  const up = level - 1;
  if (up > parts.length || (parts.length - up === 0 && !rel)) return undefined;
  const base = parts.slice(0, parts.length - up);
  return [...base, ...(rel ? [rel] : [])].join('.') || undefined;
}

/** Whether a file path (either separator) names a package's `__init__`. */
export function isPackageInit(path: string): boolean {
  return /(^|[\\/])__init__\.pyi?$/.test(path);
}
