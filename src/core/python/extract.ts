/**
 * Python extractor: one file's text -> its facts (definitions, imports, `__all__`). Pure; the
 * facts are plain JSON and cached per file. The linker (`link.ts`) turns them into bindings
 * (pure-Python targets) and aliases (re-exports such as `from _heapq import *`).
 *
 * The queries (queries/python/*.scm) say what the facts are, and `pythonFactsOfTree` reads them
 * so. The index reads the same facts with `pythonFactsOfWalk`: one cursor walk over statements
 * that carries the scope down instead of walking up from every match (several times faster;
 * a unit test checks both agree on all of CPython's Lib/).
 */
import { pythonOutline, type OutlineVar } from './skeleton';
import { LineIndex } from '../lines';
import { parse, queryFor, type SyntaxNode } from '../../parse/parsers';
import type { QueryMatch, Tree } from 'tree-sitter';
import defsScm from '../../../queries/python/defs.scm';
import importsScm from '../../../queries/python/imports.scm';
import allScm from '../../../queries/python/all.scm';
import assignsScm from '../../../queries/python/assigns.scm';

/** Bumped whenever the facts' shape or meaning changes (cached facts are then re-extracted). */
export const PY_EXTRACTOR_VERSION = 9;

export type PyDefKind =
  | 'function'
  | 'class'
  | 'method'
  | 'classmethod'
  | 'staticmethod'
  | 'constructor'
  | 'getter'
  | 'setter';

/** A module-level def or class, or a method / nested class of a module-level class. */
export interface PyDef {
  /** Qualified within the module: `heappush`, `OrderedDict`, `OrderedDict.popitem`. */
  name: string;
  kind: PyDefKind;
  /** 1-based line of the name. */
  line: number;
  /** Document order (offset of the statement): compare with `PyImport.order`. */
  order: number;
  /** Lines of the `try` statements whose except handlers contain this def (a fallback defined
   *  when an import in that try's body failed). Absent when none. */
  inHandlerOf?: number[];
  /** A class's bases that are plain dotted names (`_random.Random`), in order; absent when none. */
  bases?: string[];
  /** A module-level definition's decorators that are plain dotted names (arguments dropped),
   *  other than the builtin ones; absent when none. */
  decorators?: string[];
}

/** A decorator that hands back, for what it decorates, the attribute of the same name of a
 *  native module (zope's `_use_c_impl`: `getattr(c_opt, py_impl.__name__)`). */
export interface PySwap {
  /** The decorator function's name. */
  name: string;
  /** The native module, as imported in the file (relative: `level` dots). */
  module: string;
  level: number;
}

export interface PyImport {
  /** The module imported from (`from X import ...`) or imported (`import X`), dotted, without
   *  the leading dots of a relative import: `_json`, `os.path`, `_native`, `` for `from . import y`. */
  module: string;
  /** Leading dots of a relative import; 0 for absolute. */
  level: number;
  /** `from` imports only: the imported name, or `*`. Absent for `import X`. */
  name?: string;
  /** The local name the statement binds: `as` name, the imported name, the first component of
   *  `import a.b`, or `*` for a star import. */
  bound: string;
  /** Whether an `as` clause is present. */
  aliased: boolean;
  /** 1-based line of the imported name (of the module for `import X` / star imports). */
  line: number;
  /** Document order (offset of the statement). */
  order: number;
  /** Inside a `try` body whose handlers catch ImportError / ModuleNotFoundError (or a bare
   *  `except`, `Exception`). */
  guarded: boolean;
  /** Line of the innermost guarding `try` statement, when guarded. */
  tryLine?: number;
  /** True when the import sits inside a function or class body (no re-export). */
  local: boolean;
}

/** A module-level `name = other.name`: the module's `name` is whatever `other.name` is
 *  (`insort = insort_right` in bisect.py, after `from _bisect import *`). */
export interface PyAssign {
  name: string;
  /** A dotted name, as written (`insort_right`, `_json.scanstring`). */
  value: string;
  /** 1-based line of the name. */
  line: number;
}

export interface PythonFileFacts {
  language: 'python';
  defs: PyDef[];
  imports: PyImport[];
  /** Module-level `name = dotted.name` statements; absent when there are none. */
  assigns?: PyAssign[];
  /** Module-level variables given a value that is not a name (`environ = _createenviron()`),
   *  written at column 0, so in no block; absent when none (and in files read without a parse). */
  vars?: OutlineVar[];
  /** `__all__`, when every write to it is literal; absent otherwise (or when there is none). */
  all?: string[];
  /** Decorators defined here that swap a definition for a native one; absent when none. */
  swaps?: PySwap[];
  /** Read without a parse (`pythonLightFacts`): only its column-0 absolute `from` imports and
   *  its column-0 `def`s and `class`es. */
  light?: boolean;
}

/** An import that can hand a name to another module: a star import, a relative import, an
 *  import from a module with a private (`_x`) component, or any import renamed with `as`. */
const REEXPORT_IMPORT =
  /^[ \t]*(?:from[ \t]+[\w.]+[ \t]+import[^\n#]*[\s,(]_[A-Za-z0-9]|from[ \t]+(?:\.|[\w.]*\b_[A-Za-z0-9]|(?:posix|nt|math|cmath|time|sys|itertools|array|select|zlib|binascii|unicodedata|errno|gc|marshal|builtins)\b)|from[ \t]+[\w.]+[ \t]+import[ \t]*\(?[ \t]*\*|import[ \t]+[\w.]+[ \t]+as\b|from[ \t]+[\w.]+[ \t]+import[^\n]*\bas\b)/m;

/** Cheap scan, no parse: can this file re-export anything? Files that cannot are skipped at
 *  indexing time (they bind no native name); `__init__` files and stubs are always read. */
/** `import _native` (a private module, native by its name) and a column-0 `name = _native.attr`
 *  (brotli.py's `decompress = _brotli.decompress`, threading's `_allocate_lock = _thread.allocate_lock`). */
const PRIVATE_IMPORT = /^[ \t]*import[ \t]+(?:[\w.]*\.)?_[A-Za-z0-9]/m;
const NATIVE_ATTR_ASSIGN = /^[A-Za-z_]\w*[ \t]*=[ \t]*_[A-Za-z0-9]\w*\.[A-Za-z_]\w*[ \t]*(?:#|$)/m;

export function pythonNeedsParse(text: string): boolean {
  return REEXPORT_IMPORT.test(text) || (PRIVATE_IMPORT.test(text) && NATIVE_ATTR_ASSIGN.test(text));
}

/**
 * The facts of a file the cheap scan skips, without a parse: its column-0 absolute imports
 * `from a.b import x, y as z` (a package's `__init__` handing on its submodules' names:
 * `from cryptography.x509.base import Certificate`). The linker keeps those from the file's own
 * top-level package; and its column-0 defs and classes. Null when there are none.
 */
export function pythonLightFacts(text: string): PythonFileFacts | null {
  const lines = new LineIndex(text);
  // Its column-0 functions and classes: a star import from it (posixpath's `from genericpath
  // import *`) hands them on, and without them a name falls through to another candidate
  // (`os.path.islink` to ntpath's, Windows-only).
  const defs: PyDef[] = [];
  const def = /^(?:async[ \t]+)?(def|class)[ \t]+([A-Za-z_]\w*)/gm;
  for (let m = def.exec(text); m; m = def.exec(text)) {
    defs.push({ name: m[2], kind: m[1] === 'class' ? 'class' : 'function', line: lines.lineAt(m.index), order: m.index });
  }
  if (!/^from[ \t]/m.test(text)) return defs.length ? { language: 'python', defs, imports: [], light: true } : null;
  const imports: PyImport[] = [];
  const re = /^from[ \t]+([A-Za-z_][\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const line = lines.lineAt(m.index);
    const names = m[2].replace(/#[^\n]*/g, '').replace(/[()\\]/g, ' ').split(',');
    for (const raw of names) {
      const p = /^\s*([A-Za-z_]\w*)(?:\s+as\s+([A-Za-z_]\w*))?\s*$/.exec(raw);
      if (!p) continue;
      imports.push({ module: m[1], level: 0, name: p[1], bound: p[2] ?? p[1], aliased: p[2] !== undefined, line, order: m.index, guarded: false, local: false });
    }
  }
  return imports.length || defs.length ? { language: 'python', defs, imports, light: true } : null;
}

export function extractPython(text: string): PythonFileFacts {
  // Function bodies and other statements are emptied first: see skeleton.ts (lines are kept).
  const vars: OutlineVar[] = [];
  const outline = pythonOutline(text, vars);
  const facts = pythonFactsOfWalk(parse('python', outline), outline, true);
  const called = importingCalls(text, outline);
  if (called.length) {
    facts.imports.push(...called);
    facts.imports.sort((a, b) => a.order - b.order);
  }
  if (vars.length) {
    const kept = vars.filter((v) => !called.some((c) => c.bound === v.name && c.line === v.line));
    if (kept.length) facts.vars = kept;
  }
  const swaps = swapDecorators(text);
  if (swaps.length) facts.swaps = swaps;
  return facts;
}

/** A column-0 definition's body: from `at` (past its header) up to the next line that starts
 *  at column 0 with code. */
function bodyAfter(text: string, at: number): string {
  const rest = text.slice(at);
  const end = /\n(?=[^\s#])/.exec(rest);
  return end ? rest.slice(0, end.index) : rest;
}

/**
 * Module-level `NAME = F()` where `F` is a module-level function of the file, without
 * parameters, that imports and returns: simplejson's `c_scanstring = _import_c_scanstring()`,
 * whose body is `try: from ._speedups import scanstring` / `return scanstring` / `except
 * ImportError: return None`; or a tuple of them (`a, b = _import_speedups()` after `from . import
 * _speedups` / `return (_speedups.a, _speedups.b)`). Read as the guarded, renamed imports they
 * stand for (`from ._speedups import scanstring as c_scanstring`), at the assignment's line.
 * From the text (the outline empties function bodies); `order` is the outline's offset of that
 * line, as the walk's facts have it.
 */
export function importingCalls(text: string, outline: string): PyImport[] {
  const call = /^\(?([A-Za-z_]\w*(?:[ \t]*,[ \t]*[A-Za-z_]\w*)*)[ \t]*,?[ \t]*\)?[ \t]*=[ \t]*(\(\s*)?([A-Za-z_]\w*)\(\)(?:\s*\))?[ \t]*(?:#.*)?$/gm;
  if (!call.test(text)) return [];
  type Imported = { module: string; level: number; name: string };
  const fns = new Map<string, { returns: Imported[]; guarded: boolean }>();
  const def = /^def[ \t]+([A-Za-z_]\w*)[ \t]*\([ \t]*\)[ \t]*(?:->[^:\n]*)?:[ \t]*(?:#.*)?$/gm;
  for (let m = def.exec(text); m; m = def.exec(text)) {
    const body = bodyAfter(text, m.index + m[0].length);
    // What its imports bind: a name (`from M import x [as y]`) or a module (`from . import _m`).
    const bound = new Map<string, Imported>();
    const imp = /^[ \t]+from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+([A-Za-z_]\w*)(?:[ \t]+as[ \t]+([A-Za-z_]\w*))?[ \t]*(?:#.*)?$/gm;
    for (let i = imp.exec(body); i; i = imp.exec(body)) {
      if (i[1] || i[2]) bound.set(i[4] ?? i[3], { module: i[2], level: i[1].length, name: i[3] });
    }
    if (!bound.size) continue;
    // Its first `return`'s value, over lines while brackets are open (comments dropped).
    const ret = /^[ \t]+return[ \t]+/m.exec(body);
    if (!ret) continue;
    const tail = body.slice(ret.index + ret[0].length).replace(/#[^\n]*/g, '');
    let depth = 0, end = 0;
    for (; end < tail.length && !(tail[end] === '\n' && depth <= 0); end++) depth += tail[end] === '(' ? 1 : tail[end] === ')' ? -1 : 0;
    const parts = tail.slice(0, end).replace(/^[\s(]+|[\s),]+$/g, '').split(',').map((p) => p.trim());
    const returns: Imported[] = [];
    for (const part of parts) {
      const dot = part.indexOf('.');
      const direct = bound.get(part);
      const viaModule = dot > 0 ? bound.get(part.slice(0, dot)) : undefined;
      if (direct) returns.push(direct);
      else if (viaModule && /^[A-Za-z_]\w*$/.test(part.slice(dot + 1))) {
        // `from . import _speedups` then `_speedups.attr`: module `._speedups`, name `attr`.
        const module = viaModule.module ? `${viaModule.module}.${viaModule.name}` : viaModule.name;
        returns.push({ module, level: viaModule.level, name: part.slice(dot + 1) });
      } else {
        returns.length = 0;
        break;
      }
    }
    if (returns.length) fns.set(m[1], { returns, guarded: /^[ \t]+try[ \t]*:/m.test(body) });
  }
  if (!fns.size) return [];
  const inText = new LineIndex(text);
  const inOutline = new LineIndex(outline);
  const out: PyImport[] = [];
  call.lastIndex = 0;
  for (let m = call.exec(text); m; m = call.exec(text)) {
    const f = fns.get(m[3]);
    const targets = m[1].split(',').map((t) => t.trim());
    if (!f || targets.length !== f.returns.length) continue;
    const line = inText.lineAt(m.index);
    targets.forEach((bound, k) => {
      const r = f.returns[k];
      out.push({ module: r.module, level: r.level, name: r.name, bound, aliased: bound !== r.name, line, order: inOutline.startOf(line), guarded: f.guarded, local: false });
    });
  }
  return out;
}

/**
 * Decorators written to swap a pure-Python definition for a native one: a module-level
 * `def D(impl, ...)` whose body reads `getattr(<module>, <name>)` with the name taken from
 * `__name__`, in a file that imports exactly one private module (where the native ones are).
 * Read from the text (the outline empties function bodies).
 */
export function swapDecorators(text: string): PySwap[] {
  if (!text.includes('getattr(') || !text.includes('__name__')) return [];
  const natives = new Map<string, PySwap>();
  const imp = /^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(_[A-Za-z0-9]\w*)\b|^[ \t]*import[ \t]+([\w.]*\._[A-Za-z0-9]\w*|_[A-Za-z0-9]\w*)\b/gm;
  for (let m = imp.exec(text); m; m = imp.exec(text)) {
    const level = m[1]?.length ?? 0;
    const module = m[3] ? (m[2] ? `${m[2]}.${m[3]}` : m[3]) : m[4];
    natives.set(`${level}:${module}`, { name: '', module, level });
  }
  if (natives.size !== 1) return [];
  const native = [...natives.values()][0];
  const out: PySwap[] = [];
  const last = native.module.slice(native.module.lastIndexOf('.') + 1);
  if (last.startsWith('_py')) return []; // `_pyio`: the pure-Python twin
  const def = /^def[ \t]+([A-Za-z_]\w*)[ \t]*\([ \t]*([A-Za-z_]\w*)/gm;
  for (let m = def.exec(text); m; m = def.exec(text)) {
    const body = bodyAfter(text, m.index + m[0].length);
    // The name read is the decorated object's own: `getattr(mod, impl.__name__)`, or through a
    // variable set from it (`name = name or impl.__name__` ... `getattr(c_opt, name)`).
    const own = `${m[2]}.__name__`;
    if (!body.includes(own)) continue;
    const vars = [...body.matchAll(new RegExp(`\\b([A-Za-z_]\\w*)[ \\t]*=[^\\n]*\\b${m[2]}\\.__name__\\b`, 'g'))].map((v) => v[1]);
    const read = [...body.matchAll(/\bgetattr\(\s*[A-Za-z_]\w*\s*,\s*([^,()]+?)\s*[,)]/g)].map((g) => g[1]);
    if (read.some((r) => r === own || vars.includes(r))) out.push({ ...native, name: m[1] });
  }
  return out;
}

/** The facts of an already parsed module, read with the queries (the reference reading). */
export function pythonFactsOfTree(root: SyntaxNode): PythonFileFacts {
  const facts: PythonFileFacts = { language: 'python', defs: collectDefs(root), imports: collectImports(root) };
  const assigns = collectAssigns(root);
  if (assigns.length) facts.assigns = assigns;
  const all = root.text.includes('__all__') ? collectAll(root) : undefined;
  if (all) facts.all = all;
  return facts;
}

// ---------------------------------------------------------------------------------------------
// One walk over the statements

/** Where the walk is: what the query-based collectors find by walking up from each match. */
interface WalkScope {
  /** Enclosing classes (outermost first); undefined inside a function. */
  chain: string[] | undefined;
  /** Inside a function or class (an import there binds no module attribute). */
  local: boolean;
  /** Line of the innermost try, in this scope, whose body holds the walk and whose handlers
   *  catch ImportError. */
  guard: number | undefined;
  /** Lines of the tries, in this scope, whose except clauses hold the walk (innermost first). */
  handlers: number[];
}

/** Nodes that hold no statement (so no definition and no import): not entered. */
const NO_STATEMENTS = new Set([
  'expression_statement', 'parameters', 'argument_list', 'decorator', 'comment', 'identifier', 'string',
  'integer', 'dotted_name', 'pass_statement', 'return_statement', 'global_statement', 'nonlocal_statement',
  'assert_statement', 'raise_statement', 'delete_statement', 'break_statement', 'continue_statement',
  'print_statement', 'exec_statement', 'type_alias_statement', 'future_import_statement', 'type',
  'keyword_argument', 'attribute', 'call', 'assignment', 'augmented_assignment',
]);

/** The same facts as `pythonFactsOfTree`, from one cursor walk that enters statements only and
 *  carries the scope down (no walk up from each match, no query over the whole tree). `text` is
 *  the parsed text: `__all__` is looked for in the statements that mention it. `outline`: the
 *  text is `pythonOutline`'s (function bodies emptied), so functions are not entered. */
export function pythonFactsOfWalk(tree: Tree, text: string, outline = false): PythonFileFacts {
  const defs: PyDef[] = [];
  const imports: PyImport[] = [];
  const assigns: PyAssign[] = [];
  const allMatches: QueryMatch[] = [];
  const hasAll = text.includes('__all__');
  const cursor = tree.walk();
  const leaf = (scope: WalkScope): void => {
    // A statement not entered: its `__all__` writes, when at module level.
    if (!hasAll || scope.local) return;
    const at = text.indexOf('__all__', cursor.startIndex);
    if (at < 0 || at >= cursor.endIndex) return;
    for (const m of queryFor('python', 'all', allScm).matches(cursor.currentNode)) allMatches.push(m);
  };
  /** At a function or class definition: records it, then walks its children in its scope. */
  const definition = (scope: WalkScope, statementStart: number, decorators: string[] | undefined): void => {
    const isClass = cursor.nodeType === 'class_definition';
    const bases = isClass ? basesOf(cursor.currentNode) : undefined;
    // A class's body is in its scope (`?` until its name is read, as `classChain` has it).
    const inner: WalkScope = { chain: isClass && scope.chain ? [...scope.chain, '?'] : undefined, local: true, guard: undefined, handlers: [] };
    if (!cursor.gotoFirstChild()) return;
    let named = false;
    do {
      if (!named && cursor.currentFieldName === 'name') {
        named = true;
        const name = text.substring(cursor.startIndex, cursor.endIndex);
        const chain = scope.chain;
        if (cursor.nodeType === 'identifier' && chain !== undefined) {
          const d: PyDef = {
            name: chain.length ? `${chain.join('.')}.${name}` : name,
            kind: isClass ? 'class' : chain.length ? kindOf(decorators ?? [], name) : 'function',
            line: cursor.startPosition.row + 1,
            order: statementStart,
          };
          if (scope.handlers.length) d.inHandlerOf = scope.handlers.slice();
          if (bases?.length) d.bases = bases;
          if (decorators?.length && chain.length === 0) {
            const named = namedDecorators(decorators);
            if (named.length) d.decorators = named;
          }
          defs.push(d);
        }
        if (isClass) inner.chain = chain && [...chain, name];
        // In an outline, a function's parameters and (emptied) body hold no fact.
        if (!isClass && outline) break;
        continue;
      }
      visit(inner);
    } while (cursor.gotoNextSibling());
    cursor.gotoParent();
  };
  const children = (scope: WalkScope): void => {
    if (!cursor.gotoFirstChild()) return;
    do visit(scope);
    while (cursor.gotoNextSibling());
    cursor.gotoParent();
  };
  const visit = (scope: WalkScope): void => {
    const type = cursor.nodeType;
    switch (type) {
      case 'function_definition':
      case 'class_definition':
        definition(scope, cursor.startIndex, undefined);
        return;
      case 'decorated_definition': {
        const node = cursor.currentNode;
        const decorators = node.namedChildren.filter((c) => c.type === 'decorator').map((c) => c.text.replace(/^@\s*/, ''));
        const start = cursor.startIndex;
        if (!cursor.gotoFirstChild()) return;
        do {
          const t = cursor.nodeType;
          if (t === 'function_definition' || t === 'class_definition') definition(scope, start, decorators);
          else visit(scope);
        } while (cursor.gotoNextSibling());
        cursor.gotoParent();
        return;
      }
      case 'import_statement':
      case 'import_from_statement':
        addImport(cursor.currentNode, scope.guard, scope.local, imports);
        return;
      case 'try_statement': {
        const node = cursor.currentNode;
        const line = node.startPosition.row + 1;
        const catches = node.namedChildren.some((c) => (c.type === 'except_clause' || c.type === 'except_group_clause') && catchesImportError(c));
        if (!cursor.gotoFirstChild()) return;
        do {
          const t = cursor.nodeType;
          if (cursor.currentFieldName === 'body') {
            visit(catches ? { ...scope, guard: line } : scope);
          } else if (t === 'except_clause' || t === 'except_group_clause') {
            visit({ ...scope, handlers: [line, ...scope.handlers] });
          } else {
            visit(scope);
          }
        } while (cursor.gotoNextSibling());
        cursor.gotoParent();
        return;
      }
      case 'lambda':
        // Nothing in a lambda is a statement; its `__all__` writes are local.
        return;
      case 'expression_statement':
        if (!scope.local) {
          assigns.push(...assignsOf(cursor.currentNode));
        }
        leaf(scope);
        return;
      default:
        if (NO_STATEMENTS.has(type) || !cursor.nodeIsNamed) {
          leaf(scope);
          return;
        }
        children(scope);
    }
  };
  visit({ chain: [], local: false, guard: undefined, handlers: [] });
  const facts: PythonFileFacts = { language: 'python', defs, imports };
  if (assigns.length) facts.assigns = assigns;
  const all = hasAll ? allOf(allMatches) : undefined;
  if (all) facts.all = all;
  return facts;
}

// ---------------------------------------------------------------------------------------------
// Definitions

const SCOPES = new Set(['function_definition', 'class_definition', 'lambda']);

function collectDefs(root: SyntaxNode): PyDef[] {
  const out: PyDef[] = [];
  for (const m of queryFor('python', 'defs', defsScm).matches(root)) {
    const def = m.captures.find((c) => c.name.startsWith('definition.'))!.node;
    const name = m.captures.find((c) => c.name === 'name')!.node;
    const chain = classChain(def);
    if (chain === undefined) continue; // local to a function
    const isClass = def.type === 'class_definition';
    const d: PyDef = {
      name: [...chain, name.text].join('.'),
      kind: isClass ? 'class' : chain.length ? methodKind(def, name.text) : 'function',
      line: name.startPosition.row + 1,
      order: statementOf(def).startIndex,
    };
    const handlers = handlerTries(def);
    if (handlers.length) d.inHandlerOf = handlers;
    const bases = isClass ? basesOf(def) : [];
    if (bases.length) d.bases = bases;
    const named = chain.length === 0 ? namedDecorators(decoratorsOf(def)) : [];
    if (named.length) d.decorators = named;
    out.push(d);
  }
  return out;
}

/** Names of the classes enclosing a definition, outermost first; undefined when a function
 *  (or lambda) encloses it. */
export function classChain(def: SyntaxNode): string[] | undefined {
  const chain: string[] = [];
  for (let p = def.parent; p; p = p.parent) {
    if (p.type === 'function_definition' || p.type === 'lambda') return undefined;
    if (p.type === 'class_definition') chain.unshift(p.childForFieldName('name')?.text ?? '?');
  }
  return chain;
}

/** The decorators written above a definition (their expressions' text, without `@`). */
export function decoratorsOf(def: SyntaxNode): string[] {
  const p = def.parent;
  if (!p || p.type !== 'decorated_definition') return [];
  return p.namedChildren.filter((c) => c.type === 'decorator').map((c) => c.text.replace(/^@\s*/, ''));
}

function methodKind(def: SyntaxNode, name: string): PyDefKind {
  return kindOf(decoratorsOf(def), name);
}

/** A method's kind from its decorators (their text without `@`) and name. */
const BUILTIN_DECORATORS = new Set(['staticmethod', 'classmethod', 'property', 'functools.wraps', 'wraps', 'dataclass', 'dataclasses.dataclass', 'functools.cache', 'functools.lru_cache', 'lru_cache', 'cache', 'overload', 'typing.overload', 'final', 'typing.final', 'abstractmethod', 'abc.abstractmethod', 'contextmanager', 'contextlib.contextmanager']);

/** Decorators that are plain dotted names (arguments dropped), the builtin ones left out. */
function namedDecorators(decorators: string[]): string[] {
  return decorators.map((x) => x.replace(/\([\s\S]*$/, '').trim()).filter((x) => /^[A-Za-z_][\w.]*$/.test(x) && !BUILTIN_DECORATORS.has(x));
}

function kindOf(decos: string[], name: string): PyDefKind {
  if (decos.includes('staticmethod')) return 'staticmethod';
  if (decos.includes('classmethod')) return 'classmethod';
  if (decos.some((d) => d === 'property' || d === 'functools.cached_property' || d === 'cached_property')) return 'getter';
  if (decos.some((d) => /\.(setter|deleter)$/.test(d))) return 'setter';
  if (name === '__init__' || name === '__new__') return 'constructor';
  return 'method';
}

/** The statement a definition is (its decorated_definition, when decorated). */
function statementOf(def: SyntaxNode): SyntaxNode {
  return def.parent?.type === 'decorated_definition' ? def.parent : def;
}

/** Lines of the try statements (in the same scope) whose except clauses contain `node`. */
function handlerTries(node: SyntaxNode): number[] {
  const out: number[] = [];
  let child = node;
  for (let p = node.parent; p && !SCOPES.has(p.type); child = p, p = p.parent) {
    if (p.type === 'try_statement' && (child.type === 'except_clause' || child.type === 'except_group_clause')) {
      out.push(p.startPosition.row + 1);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Imports

const IMPORT_ERRORS = new Set(['ImportError', 'ModuleNotFoundError', 'Exception', 'BaseException']);

/** Does this except clause catch ImportError (bare, a name, a tuple, `as e`)? */
function catchesImportError(clause: SyntaxNode): boolean {
  const values = clause.childrenForFieldName('value');
  if (values.length === 0) return true; // bare `except:`
  const names: string[] = [];
  const visit = (n: SyntaxNode): void => {
    if (n.type === 'identifier') names.push(n.text);
    else if (n.type === 'attribute') names.push(n.childForFieldName('attribute')?.text ?? '');
    else if (n.type === 'as_pattern') {
      const first = n.namedChildren[0];
      if (first) visit(first);
    } else if (n.type === 'tuple' || n.type === 'parenthesized_expression' || n.type === 'expression_list') {
      n.namedChildren.forEach(visit);
    }
  };
  values.forEach(visit);
  return names.some((n) => IMPORT_ERRORS.has(n));
}

/** The innermost try (same scope) whose body holds `node` and whose handlers catch ImportError. */
function guardingTry(node: SyntaxNode): SyntaxNode | undefined {
  let child = node;
  for (let p = node.parent; p && !SCOPES.has(p.type); child = p, p = p.parent) {
    if (p.type !== 'try_statement') continue;
    if (p.childForFieldName('body')?.id !== child.id) continue;
    if (p.namedChildren.some((c) => (c.type === 'except_clause' || c.type === 'except_group_clause') && catchesImportError(c))) {
      return p;
    }
  }
  return undefined;
}

function isLocal(node: SyntaxNode): boolean {
  for (let p = node.parent; p; p = p.parent) if (SCOPES.has(p.type)) return true;
  return false;
}

/** `from ..a.b import` -> {module: 'a.b', level: 2}. */
export function moduleRef(node: SyntaxNode): { module: string; level: number } {
  if (node.type === 'relative_import') {
    const prefix = node.namedChildren.find((c) => c.type === 'import_prefix');
    const dotted = node.namedChildren.find((c) => c.type === 'dotted_name');
    return { module: dotted ? dottedText(dotted) : '', level: prefix ? prefix.text.replace(/\s/g, '').length : 0 };
  }
  return { module: dottedText(node), level: 0 };
}

/** A dotted_name's text without the whitespace or comments a line continuation may leave. */
export function dottedText(node: SyntaxNode): string {
  if (node.type !== 'dotted_name') return node.text;
  return node.namedChildren.filter((c) => c.type === 'identifier').map((c) => c.text).join('.');
}

/** A plain dotted name: `a`, `a.b.c` (no calls, subscripts or spaces). */
const DOTTED = /^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$/;

/** A class's positional bases that are plain dotted names (not `metaclass=`, `Generic[T]`). */
function basesOf(cls: SyntaxNode): string[] {
  const args = cls.childForFieldName('superclasses');
  if (!args) return [];
  return args.namedChildren.filter((c) => (c.type === 'identifier' || c.type === 'attribute') && DOTTED.test(c.text)).map((c) => c.text);
}

/** `name = dotted.name` as a statement (one target, no annotation): one assign; `name = a or b`
 *  (`scanstring = c_scanstring or py_scanstring` in json/decoder.py), parenthesised or not: one
 *  per operand, in order; anything else: none. */
function assignsOf(stmt: SyntaxNode): PyAssign[] {
  if (stmt.namedChildCount !== 1) return [];
  const a = stmt.namedChildren[0];
  if (a.type !== 'assignment') return [];
  const left = a.childForFieldName('left');
  const right = a.childForFieldName('right');
  if (!left || !right || left.type !== 'identifier' || a.childForFieldName('type')) return [];
  const values = dottedOperands(right);
  if (!values || values.includes(left.text)) return [];
  return values.map((value) => ({ name: left.text, value, line: left.startPosition.row + 1 }));
}

/** `a.b` -> [a.b]; `a or b.c` -> [a, b.c]; `a if a else b` (and `if a is not None`) -> [a, b];
 *  `(…)` unwrapped; anything else undefined. */
function dottedOperands(n: SyntaxNode): string[] | undefined {
  if (n.type === 'identifier' || n.type === 'attribute') return DOTTED.test(n.text) ? [n.text] : undefined;
  if (n.type === 'parenthesized_expression' && n.namedChildCount === 1) return dottedOperands(n.namedChildren[0]);
  if (n.type === 'conditional_expression' && n.namedChildCount === 3) {
    const [then, cond, other] = n.namedChildren;
    const tested = cond.type === 'comparison_operator' && /^([\w.]+)\s+is\s+not\s+None$/.exec(cond.text)?.[1];
    if (cond.text !== then.text && tested !== then.text) return undefined;
    const tv = dottedOperands(then);
    const ov = dottedOperands(other);
    return tv && ov ? [...tv, ...ov] : undefined;
  }
  if (n.type === 'boolean_operator' && n.childForFieldName('operator')?.type === 'or') {
    const l = n.childForFieldName('left');
    const r = n.childForFieldName('right');
    const lv = l && dottedOperands(l);
    const rv = r && dottedOperands(r);
    return lv && rv ? [...lv, ...rv] : undefined;
  }
  return undefined;
}

function collectAssigns(root: SyntaxNode): PyAssign[] {
  const out: PyAssign[] = [];
  for (const m of queryFor('python', 'assigns', assignsScm).matches(root)) {
    const stmt = m.captures.find((c) => c.name === 'statement')!.node;
    if (isLocal(stmt)) continue;
    out.push(...assignsOf(stmt));
  }
  return out;
}

function collectImports(root: SyntaxNode): PyImport[] {
  const out: PyImport[] = [];
  for (const m of queryFor('python', 'imports', importsScm).matches(root)) {
    const stmt = m.captures[0].node;
    const guard = guardingTry(stmt);
    addImport(stmt, guard ? guard.startPosition.row + 1 : undefined, isLocal(stmt), out);
  }
  return out;
}

/** The imports one import statement makes; `tryLine`: the guarding try's line, if any. */
function addImport(stmt: SyntaxNode, tryLine: number | undefined, local: boolean, out: PyImport[]): void {
  const common = {
    order: stmt.startIndex,
    guarded: tryLine !== undefined,
    ...(tryLine !== undefined ? { tryLine } : {}),
    local,
  };
  const names = stmt.childrenForFieldName('name');
  if (stmt.type === 'import_statement') {
    for (const n of names) {
      const target = n.type === 'aliased_import' ? n.childForFieldName('name')! : n;
      const alias = n.type === 'aliased_import' ? n.childForFieldName('alias')?.text : undefined;
      const module = dottedText(target);
      out.push({
        module,
        level: 0,
        bound: alias ?? module.split('.')[0],
        aliased: alias !== undefined,
        line: target.startPosition.row + 1,
        ...common,
      });
    }
    return;
  }
  const modNode = stmt.childForFieldName('module_name');
  if (!modNode) return;
  const ref = moduleRef(modNode);
  if (stmt.namedChildren.some((c) => c.type === 'wildcard_import')) {
    out.push({ ...ref, name: '*', bound: '*', aliased: false, line: modNode.startPosition.row + 1, ...common });
    return;
  }
  for (const n of names) {
    const target = n.type === 'aliased_import' ? n.childForFieldName('name')! : n;
    const alias = n.type === 'aliased_import' ? n.childForFieldName('alias')?.text : undefined;
    const name = dottedText(target);
    out.push({
      ...ref,
      name,
      bound: alias ?? name,
      aliased: alias !== undefined,
      line: target.startPosition.row + 1,
      ...common,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// __all__

/** String literals of a list/tuple (or `a + b` of them); undefined when anything is not literal. */
function literalStrings(n: SyntaxNode): string[] | undefined {
  switch (n.type) {
    case 'string':
      return stringValue(n) === undefined ? undefined : [stringValue(n)!];
    case 'list':
    case 'tuple':
    case 'parenthesized_expression': {
      const out: string[] = [];
      for (const c of n.namedChildren) {
        if (c.type === 'comment') continue;
        const v = literalStrings(c);
        if (!v) return undefined;
        out.push(...v);
      }
      return out;
    }
    case 'binary_operator': {
      if (n.childForFieldName('operator')?.type !== '+') return undefined;
      const l = literalStrings(n.childForFieldName('left')!);
      const r = literalStrings(n.childForFieldName('right')!);
      return l && r ? [...l, ...r] : undefined;
    }
    default:
      return undefined;
  }
}

/** The value of a plain string literal (no interpolation, no escapes that matter for names). */
export function stringValue(n: SyntaxNode): string | undefined {
  if (n.type !== 'string' || n.namedChildren.some((c) => c.type === 'interpolation')) return undefined;
  return n.namedChildren
    .filter((c) => c.type === 'string_content')
    .map((c) => c.text)
    .join('');
}

function collectAll(root: SyntaxNode): string[] | undefined {
  return allOf(queryFor('python', 'all', allScm).matches(root));
}

/** `__all__` from the all.scm matches, in document order. */
function allOf(matches: Iterable<QueryMatch>): string[] | undefined {
  let all: string[] | undefined;
  let broken = false;
  for (const m of matches) {
    const whole = m.captures.find((c) => c.name.startsWith('all.'))!;
    if (isLocal(whole.node)) continue;
    const value = m.captures.find((c) => c.name === 'value')!.node;
    const method = m.captures.find((c) => c.name === 'method')?.node.text;
    const strings = method === 'append' ? (stringValue(value) !== undefined ? [stringValue(value)!] : undefined) : literalStrings(value);
    if (!strings) {
      broken = true;
      continue;
    }
    if (whole.name === 'all.assign') all = strings;
    else all = [...(all ?? []), ...strings];
  }
  return broken ? undefined : all;
}
