/**
 * Python linker: per-file facts of many modules -> bindings for pure-Python definitions and
 * aliases for re-exports. Pure.
 *
 * A definition that a re-export from a native-looking module overrides (`def heappush` above
 * `from _heapq import *`, `def fast_sum` in the `except ImportError:` of
 * `from ._speedups import fast_sum`) is kept as a secondary target: rank 10, evidence
 * "pure-Python fallback". Ordinary definitions rank 20. Native targets (other linkers) rank
 * below both, so they are offered first.
 */
import type { Alias, Binding, LinkOutput, TargetKind } from '../model';
import type { PyAssign, PyDef, PyImport, PythonFileFacts } from './extract';
import { isPackageInit, resolveRelative } from './module';
import { BUILTIN_EXCEPTIONS, BUILTIN_TYPES } from './builtinNames';

/** Builtin classes a class may derive from (`class Counter(dict)`: builtins.dict). */
const BUILTIN_BASES = new Set([...BUILTIN_TYPES, ...BUILTIN_EXCEPTIONS]);

export interface PythonFileInput {
  module: string;
  facts: PythonFileFacts;
  /** A `.pyi` stub: aliases only, no bindings. */
  stub: boolean;
}

export const RANK_PY_FALLBACK = 10;
export const RANK_PY_DEF = 20;
export const FALLBACK_EVIDENCE = 'pure-Python fallback';

/** Built-in extension modules whose names do not start with an underscore. */
const NATIVE_MODULES = new Set([
  'posix', 'nt', 'math', 'cmath', 'time', 'sys', 'array', 'select', 'zlib', 'binascii', 'pyexpat',
  'mmap', 'fcntl', 'grp', 'pwd', 'resource', 'syslog', 'termios', 'unicodedata', 'marshal', 'errno',
  'gc', 'itertools', 'atexit', 'faulthandler', 'winreg', 'msvcrt', 'readline', 'builtins',
]);

/** Does a module look native: `_heapq`, `pkg._native`, `posix` (but not `_pydecimal`,
 *  `__future__`)? Only a guess from the name; the index knows the truth once native linkers ran. */
export function looksNative(module: string): boolean {
  const last = module.slice(module.lastIndexOf('.') + 1);
  if (NATIVE_MODULES.has(module)) return true;
  return last.startsWith('_') && !last.startsWith('__') && !last.startsWith('_py');
}

interface ResolvedImport {
  imp: PyImport;
  /** Absolute dotted module the import reads from (relative imports resolved). */
  target: string;
}

export function linkPython(files: Map<string, PythonFileInput>): LinkOutput {
  const out: LinkOutput = { bindings: [], aliases: [], warnings: [] };
  const seenAlias = new Set<string>();
  // Modules with Python source in this batch are not native, whatever their names look like
  // (`zoneinfo._zoneinfo`); a `.pyi` stub alone does not make a module Python.
  const pythonModules = new Set([...files.values()].filter((f) => !f.stub).map((f) => f.module));
  const isNative = (m: string): boolean => looksNative(m) && !pythonModules.has(m);
  // Sources before stubs, so a module with both keeps the .py line for its aliases.
  const ordered = [...files.entries()].sort((a, b) => Number(a[1].stub) - Number(b[1].stub));
  // Decorators that swap what they decorate for the native module's same-named attribute:
  // `pkg._compat._use_c_impl` -> `pkg._native`.
  const swaps = new Map<string, string>();
  for (const [file, { module, facts }] of ordered) {
    for (const s of facts.swaps ?? []) {
      const native = resolveRelative(module, isPackageInit(file), s.level, s.module);
      if (native) swaps.set(`${module}.${s.name}`, native);
    }
  }
  for (const [file, { module, facts, stub }] of ordered) {
    if (!module) continue;
    // A file read without a parse hands on only names from its own top-level package.
    const top = module.split('.')[0];
    const own = facts.light ? facts.imports.filter((i) => i.module.split('.')[0] === top) : facts.imports;
    const imports = resolveImports(file, module, own, out.warnings);
    const named = namedIn(module, imports);
    // A base the module does not bind itself is the builtin of that name (`class Counter(dict)`).
    const bound = new Set([...facts.defs.map((d) => d.name), ...imports.map(({ imp }) => imp.bound), ...(facts.assigns ?? []).map((a) => a.name)]);
    const baseNamed = (b: string): string => (!b.includes('.') && BUILTIN_BASES.has(b) && !bound.has(b) ? `builtins.${b}` : named(b));
    for (const a of [...aliasesOf(file, module, imports), ...assignAliases(file, module, facts.assigns ?? [], named), ...baseAliases(file, module, facts.defs, baseNamed)]) {
      const k = `${a.from}\0${a.to}\0${a.star}`;
      if (seenAlias.has(k)) continue;
      seenAlias.add(k);
      out.aliases.push(a);
    }
    if (stub) continue;
    // Only `from <native> import ...` can override a def: found once per file, not per def;
    // and a later `name = _native.name` (after `from . import _native` or `import _native`).
    const overriding = imports.filter(({ imp, target }) => imp.name !== undefined && isNative(target));
    const rebound = new Map<string, number>(); // name -> first line rebinding it to a native attribute
    for (const a of facts.assigns ?? []) {
      const to = named(a.value);
      const dot = to.lastIndexOf('.');
      if (dot > 0 && isNative(to.slice(0, dot)) && !rebound.has(a.name)) rebound.set(a.name, a.line);
    }
    // A decorator's own name: through `from x import D`, else as `named` reads it.
    const decorator = (x: string): string => {
      const head = x.split('.')[0];
      const from = imports.find(({ imp }) => imp.name !== undefined && imp.name !== '*' && imp.bound === head);
      return from ? `${from.target}.${from.imp.name}${x.slice(head.length)}` : named(x);
    };
    for (const d of facts.defs) {
      // `@_use_c_impl def providedBy(ob)`: the module's name is the native one when it loads.
      const swapped = swaps.size ? d.decorators?.map((x) => swaps.get(decorator(x))).find((m) => m !== undefined) : undefined;
      if (swapped) {
        out.aliases.push({ from: `${module}.${d.name}`, to: `${swapped}.${d.name}`, star: false, file, line: d.line });
        rebound.set(d.name, d.line + 0.5); // the def is the fallback
      }
      out.bindings.push(bindingOf(file, module, d, overriding, isNative, rebound));
    }
    out.bindings.push(...variableBindings(file, module, facts, imports));
  }
  return out;
}

/**
 * A module-level variable set after an import that binds its name, a star import included, is
 * the module's name from then on: `environ = _createenviron()` after `from posix import *` in
 * os.py makes `os.environ` that variable, not `posix.environ`. (Other variables are not bound:
 * the index leads to native code; a pure-Python constant is the Python tooling's.)
 */
function variableBindings(file: string, module: string, facts: PythonFileFacts, imports: ResolvedImport[]): Binding[] {
  const last = new Map<string, number>();
  for (const v of facts.vars ?? []) last.set(v.name, v.line);
  const out: Binding[] = [];
  for (const [name, line] of last) {
    const binds = (imp: PyImport): boolean => imp.bound === name || imp.name === '*';
    if (!imports.some(({ imp }) => binds(imp) && imp.line < line)) continue;
    // Rebound again later, by an import of the name or a definition.
    if (imports.some(({ imp }) => imp.bound === name && imp.line > line)) continue;
    if (facts.defs.some((d) => d.name === name && d.line > line)) continue;
    out.push({
      name: `${module}.${name}`,
      target: { language: 'python', kind: 'variable', file, line, symbol: name, style: 'python', rank: RANK_PY_DEF },
    });
  }
  return out;
}

function resolveImports(file: string, module: string, imports: PyImport[], warnings: string[]): ResolvedImport[] {
  const out: ResolvedImport[] = [];
  for (const imp of imports) {
    if (imp.local) continue;
    const target = resolveRelative(module, isPackageInit(file), imp.level, imp.module);
    if (target === undefined) {
      warnings.push(`${file}:${imp.line}: relative import beyond the top-level package of \`${module}\``);
      continue;
    }
    out.push({ imp, target });
  }
  return out;
}

function aliasesOf(file: string, module: string, imports: ResolvedImport[]): Alias[] {
  const out: Alias[] = [];
  for (const { imp, target } of imports) {
    const guarded = imp.guarded ? { guarded: true } : {};
    let a: Alias | undefined;
    if (imp.name === '*') {
      a = { from: module, to: target, star: true, file, line: imp.line, ...guarded };
    } else if (imp.name !== undefined) {
      a = { from: `${module}.${imp.bound}`, to: `${target}.${imp.name}`, star: false, file, line: imp.line, ...guarded };
    } else if (imp.aliased) {
      // `import posixpath as path` in os.py: os.path is posixpath. A plain `import sys` is not
      // treated as a re-export (every module would alias its imports).
      a = { from: `${module}.${imp.bound}`, to: target, star: false, file, line: imp.line, ...guarded };
    }
    if (a && a.from !== a.to) out.push(a);
  }
  return out;
}

/** `insort = insort_right`: the module's `insort` is its `insort_right` (which a star import
 *  from `_bisect` may make native); `loads = _json.loads` after `import _json`. */
function assignAliases(file: string, module: string, assigns: PyAssign[], named: (dotted: string) => string): Alias[] {
  const out: Alias[] = [];
  for (const a of assigns) {
    const name = `${module}.${a.name}`;
    const to = named(a.value);
    if (to !== name) out.push({ from: name, to, star: false, file, line: a.line });
  }
  return out;
}

/**
 * `class Random(_random.Random)`: what the class does not define it has from its bases, as a
 * star re-export has what the module does not define (`random.Random.random` is
 * `_random.Random.random`). Bases are tried in order.
 */
function baseAliases(file: string, module: string, defs: PyDef[], named: (dotted: string) => string): Alias[] {
  const out: Alias[] = [];
  for (const d of defs) {
    if (d.kind !== 'class' || !d.bases) continue;
    const cls = `${module}.${d.name}`;
    for (const b of d.bases) {
      const to = named(b);
      if (to !== cls) out.push({ from: cls, to, star: true, file, line: d.line });
    }
  }
  return out;
}

/** What a dotted name written in `module` names, absolutely: a name starting with what
 *  `import x` / `import x as y` binds is read from that module; any other is the module's own
 *  (its defs, and what its `from` imports bind, which are aliases already). */
function namedIn(module: string, imports: ResolvedImport[]): (dotted: string) => string {
  const importedModules = new Map<string, string>();
  for (const { imp, target } of imports) {
    if (imp.name !== undefined) continue;
    importedModules.set(imp.bound, imp.aliased ? target : imp.bound);
  }
  return (dotted) => {
    const dot = dotted.indexOf('.');
    const head = dot < 0 ? dotted : dotted.slice(0, dot);
    const from = importedModules.get(head);
    return from === undefined ? `${module}.${dotted}` : `${from}${dot < 0 ? '' : dotted.slice(dot)}`;
  };
}

/** Is this def overridden by a re-export from a native-looking module? */
function overriddenBy(d: PyDef, imports: ResolvedImport[], isNative: (m: string) => boolean): ResolvedImport | undefined {
  const top = d.name.split('.')[0];
  return imports.find(({ imp, target }) => {
    if (imp.name === undefined || !isNative(target)) return false;
    if (imp.bound !== top && imp.bound !== '*') return false;
    // A later import rebinds the name; a def in the except-handler of the import's guarding try
    // only runs when the native import failed.
    return imp.order > d.order || (imp.tryLine !== undefined && (d.inHandlerOf ?? []).includes(imp.tryLine));
  });
}

function bindingOf(
  file: string,
  module: string,
  d: PyDef,
  imports: ResolvedImport[],
  isNative: (m: string) => boolean,
  rebound: ReadonlyMap<string, number>,
): Binding {
  const at = d.name.includes('.') ? undefined : rebound.get(d.name);
  const fallback = overriddenBy(d, imports, isNative) !== undefined || (at !== undefined && at > d.line);
  return {
    name: `${module}.${d.name}`,
    target: {
      language: 'python',
      kind: d.kind as TargetKind,
      file,
      line: d.line,
      symbol: d.name.slice(d.name.lastIndexOf('.') + 1),
      style: 'python',
      rank: fallback ? RANK_PY_FALLBACK : RANK_PY_DEF,
      ...(fallback ? { evidence: FALLBACK_EVIDENCE } : {}),
    },
  };
}
