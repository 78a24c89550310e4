/**
 * The C extractor: one C file's text -> the facts the C linker needs (CPython's C API
 * conventions). One tree-sitter parse and one query walk (queries/c/{defs,tables,macros}.scm
 * compiled together) give the structure: function definitions, initialised declarations,
 * #defines, #includes. Small scanners read what tree-sitter's error recovery handles badly:
 * initialiser contents full of macros, API-call and macro-invocation arguments, Argument Clinic
 * comment blocks, and (as a safety net, only for names the tree missed) definitions and tables
 * that recovery broke apart. Clinic output files (`clinic/*.c.h`) are not parsed: only their
 * `#define X_METHODDEF` lines matter.
 * Pure: text in, JSON-serialisable facts out. Never throws on bad input.
 */
import { parse, queryFor, SyntaxNode } from '../../parse/parsers';
import { versionCondition, versionDefined } from './versionCond';
import defsScm from '../../../queries/c/defs.scm';
import tablesScm from '../../../queries/c/tables.scm';
import macrosScm from '../../../queries/c/macros.scm';
import { LineIndex } from '../lines';
import { API_WORDS, FUNCTION_SHAPED, defineMatters, rangesWithoutBodies, scanTopLevel, type LexedFunction } from './bodies';

/** Bump when the facts' shape or meaning changes (invalidates cached facts). */
export const C_EXTRACTOR_VERSION = 13;

/** One element of an initialiser list. `items` is set when the element is itself a braced
 *  list; `field` when it has a designator (`.tp_name = ...`). `text` has comments removed. */
export interface CElem {
  text: string;
  line: number;
  /** The file it is written in, where not the initialiser's (a field set from another file). */
  file?: string;
  field?: string;
  items?: CElem[];
}

/** An initialised declaration of a C-API struct (type without `struct`, `const`, `static`). */
export interface CInit {
  type: string;
  name: string;
  line: number;
  elems: CElem[];
}

export interface CFunc {
  name: string;
  /** Line of the function's name. */
  line: number;
}

export interface CDefine {
  name: string;
  line: number;
  /** Set for function-like macros. */
  params?: string[];
  /** Replacement text, continuation lines joined, comments removed, trimmed. */
  body: string;
}

/** An Argument Clinic `[clinic input]` block. */
export interface CClinic {
  /** Dotted clinic name (`os.getcwd`, `Struct.pack`, `calcsize`), or the declared name for
   *  `module`/`class` declarations. */
  name: string;
  /** The C base name (`os_getcwd`, `builtin_len` from `len as builtin_len`). */
  cbase: string;
  line: number;
  decl?: 'module' | 'class';
  decorators?: string[];
  /** The function the generated code declares right after the block (`os_getcwd_impl`, or
   *  `builtin_len` when clinic makes no wrapper), and the line of its name. Read from the text,
   *  so it is found even when the body is a macro (`NoArgNoReturnFunctionBody(beep)`). */
  def?: string;
  defLine?: number;
}

/** A call of a C-API function that adds names (PyType_From*, PyModule_Add*,
 *  PyErr_NewException*, SETBUILTIN), including calls inside invocations of this file's macros. */
export interface CCall {
  fn: string;
  args: string[];
  line: number;
  /** The assigned expression, casts stripped (`state->StructError`). */
  lhs?: string;
  /** The macro whose invocation produced the call. */
  via?: string;
}

/** A column-0 invocation of an upper-case macro (candidate function generator: `FUNC1(...)`). */
export interface CMacroUse {
  name: string;
  args: string[];
  line: number;
}

export interface CFileFacts {
  version: number;
  functions: CFunc[];
  inits: CInit[];
  defines: CDefine[];
  clinic: CClinic[];
  calls: CCall[];
  macroUses: CMacroUse[];
  /** `#include "..."` paths as written. */
  includes: string[];
  /** Type object fields set at run time (`Pattern_Type.tp_methods = pattern_methods;` in
   *  mrab-regex); absent when none. */
  typeSets?: CTypeSet[];
  /** Functions this file calls with a module it adds to (`psutil_posix_add_methods(mod)`): a
   *  file of no module of its own that defines one adds to this file's modules. */
  moduleArgCalls?: string[];
  /** `static char NAME[] = "…";` at the top level: names a type spec may take its name from
   *  (zope.interface's `.name = SB__name__`); absent when none. */
  stringConsts?: { name: string; value: string }[];
}

export interface CTypeSet {
  /** The type object variable. */
  type: string;
  /** The PyTypeObject field (`tp_methods`). */
  field: string;
  /** The value, as written. */
  value: string;
  line: number;
}

/** Struct types whose initialisers the linker reads. */
const TABLE_TYPES = new Set([
  'PyTypeObject*', 'PyMethodDef', 'PyGetSetDef', 'PyMemberDef', 'PyTypeObject', 'PyType_Spec', 'PyType_Slot',
  'PyNumberMethods', 'PySequenceMethods', 'PyMappingMethods', 'PyAsyncMethods', 'PyBufferProcs',
  'PyModuleDef', 'PyModuleDef_Slot', 'PyStructSequence_Desc', 'PyStructSequence_Field',
]);

/** What a file must mention to be parsed. A struct type named only through pointers
 *  (`PyMethodDef *meth = ...` in the eval loop) declares no table: `(?!\s*\*)`. */
const NEEDS_PARSE = new RegExp([
  'PyMethodDef(?!\\s*\\*)', 'PyGetSetDef(?!\\s*\\*)', 'PyMemberDef(?!\\s*\\*)', '\\[clinic input\\]', '_METHODDEF',
  'PyTypeObject\\s+[\\w\\s#]+=', 'PyType_Spec(?!\\s*\\*)', 'PyType_Slot(?!\\s*\\*)',
  'Py(?:Number|Sequence|Mapping|Async)Methods(?!\\s*\\*)', 'PyModuleDef(?!\\s*\\*)', 'PyInit_',
  'PyModule_Add', 'PyErr_NewException', 'SETBUILTIN',
  // a token-pasting #define that generates functions: `math_##funcname(PyObject *self, ...) {`
  '##\\s*\\w+\\s*\\((?:[^()]|\\([^()]*\\))*\\)[\\s\\\\]*\\{',
].join('|'));

/** Files written by Argument Clinic (`clinic/*.c.h`): only their `#define X_METHODDEF` lines
 *  matter (the functions they define are wrappers around the `_impl` in the .c file). */
const CLINIC_OUTPUT = /^\s*\/\*\[clinic input\]\s*preserve\s*\[clinic start generated code\]\*\//;

/** Cheap byte scan (no parse): does the file hold anything the linker uses? */
export function cNeedsParse(text: string): boolean {
  return NEEDS_PARSE.test(text);
}

/** A line of C that starts a definition at column 0 names its function before the `(`. */
const DEF_LINE = /^(?:[A-Za-z_][^\n;=(]*?[\s*])?([A-Za-z_]\w*)\s*\(/gm;

/** Names that lines starting at column 0 define or declare (`name(` after an optional return
 *  type): for a file the cheap scan skipped, the functions it may define, which linking looks
 *  for when a table names a function defined nowhere it parsed. No parse. */
export function cColumn0Names(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(DEF_LINE)) out.add(m[1]);
  return [...out];
}

const API_CALL = /\b(PyType_FromSpec|PyType_FromSpecWithBases|PyType_FromModuleAndSpec|PyType_FromMetaclass|PyModule_AddType|PyModule_AddObjectRef|PyModule_AddObject|PyModule_Add|PyModule_AddIntConstant|PyModule_AddStringConstant|PyModule_AddIntMacro|PyModule_AddStringMacro|PyErr_NewExceptionWithDoc|PyErr_NewException|SETBUILTIN|PyModule_GetDict|PyDict_SetItemString|PyDict_SetItem|PyModule_AddFunctions|PyImport_ImportModule|PyObject_SetAttrString|PyObject_GetAttrString|_?PyImport_(?:GetModule|ImportModule)AttrString)\s*\(/g;
/** A macro body that defines a function: `static PyObject * method(PyObject *proxy) {`. */

export function extractC(text: string): CFileFacts {
  const facts: CFileFacts = {
    version: C_EXTRACTOR_VERSION, functions: [], inits: [], defines: [], clinic: [], calls: [],
    macroUses: [], includes: [],
  };
  const lines = new LineIndex(text);
  if (CLINIC_OUTPUT.test(text)) {
    guard(() => collectClinicOutput(text, lines, facts));
    return facts;
  }
  // The lexer names the top-level function definitions; they and other text no fact comes from
  // are left out of the parse: see bodies.ts.
  const top = scanTopLevel(text, true);
  let root: SyntaxNode | undefined;
  try {
    root = parse('c', text, rangesWithoutBodies(text, top.skip)).rootNode;
  } catch {
    root = undefined; // a parser failure must not lose the text scanners' facts
  }
  if (root) guard(() => collectTree(root!, text, facts));
  guard(() => addLexedFunctions(top.functions, lines, facts));
  guard(() => collectInitsFromText(text, lines, facts));
  guard(() => collectClinic(text, lines, facts));
  guard(() => collectCalls(text, 0, lines, facts.calls));
  guard(() => collectMacroCalls(text, lines, facts, top.functions));
  guard(() => collectDictAliases(text, lines, facts));
  guard(() => collectTypeSets(text, lines, facts));
  guard(() => collectStringConsts(text, facts));
  guard(() => collectModuleArgCalls(text, facts));
  guard(() => collectMacroUses(text, lines, facts));
  return facts;
}

function guard(f: () => void): void {
  try {
    f();
  } catch {
    // Extraction is best effort: one failing pass never loses the others.
  }
}

// ---------------------------------------------------------------------------------------------
// Tree-based passes

/** The three queries (function names, initialised declarations, #defines and #includes) run
 *  as one compiled query: one walk of the tree. Tables and definitions live at the top level
 *  or under a few #if levels and an `extern "C" {` block, so matches may not start deeper than
 *  MAX_START_DEPTH (function bodies are not in the tree). */
const MAX_START_DEPTH = 8;

function collectTree(root: SyntaxNode, text: string, facts: CFileFacts): void {
  const q = queryFor('c', 'c-facts', `${defsScm}\n${tablesScm}\n${macrosScm}`);
  for (const m of q.matches(root, { maxStartDepth: MAX_START_DEPTH })) {
    const cap = new Map<string, SyntaxNode>();
    for (const c of m.captures) cap.set(c.name, c.node);
    if (cap.has('definition.function')) {
      const name = cap.get('name');
      if (name) facts.functions.push({ name: name.text, line: name.startPosition.row + 1 });
    } else if (cap.has('definition.table')) {
      guard(() => addInit(cap, text, facts));
    } else if (cap.has('include')) {
      const path = cap.get('path');
      if (path) facts.includes.push(path.text.replace(/^"|"$/g, ''));
    } else if (cap.has('definition.macro')) {
      addDefine(cap, facts);
    }
  }
}

function addInit(cap: Map<string, SyntaxNode>, text: string, facts: CFileFacts): void {
  const decl = cap.get('declarator');
  const value = cap.get('value');
  if (!decl || !value) return;
  let type = cap.get('type')?.text;
  if (type === undefined) {
    // Recovered declaration inside ERROR: the type is the nearest preceding type-like sibling.
    for (let n = decl.parent?.previousNamedSibling; n; n = n.previousNamedSibling) {
      if (/^(?:type_identifier|struct_specifier|primitive_type)$/.test(n.type)) {
        type = n.text;
        break;
      }
      if (!/^(?:storage_class_specifier|type_qualifier|comment)$/.test(n.type)) break;
    }
  }
  type = (type ?? '').replace(/\b(?:struct|const|static)\b/g, '').trim();
  if (!TABLE_TYPES.has(type)) return;
  // Arrays of pointers (`PyTypeObject *types[] = {&A, &B}`) are not type objects, but a
  // module may add each of them (`PyModule_AddType(m, types[i])`): kept as `PyTypeObject*`.
  if (type === 'PyTypeObject' && /\*/.test(decl.text) && /\[/.test(decl.text)) type = 'PyTypeObject*';
  else if (/\*/.test(decl.text) || (type === 'PyTypeObject' && decl.type === 'array_declarator')) return;
  const name = /[A-Za-z_]\w*/.exec(decl.text)?.[0];
  if (!name || facts.inits.some((i) => i.name === name && i.line === decl.startPosition.row + 1)) return;
  // Re-read the braces from the text: error recovery may have cut the node short.
  const start = value.startIndex;
  const end = matchBrace(text, start);
  const isArray = decl.type === 'array_declarator';
  const elems = scanInitialiser(text.slice(start, end), value.startPosition.row + 1, !isArray);
  facts.inits.push({ type, name, line: decl.startPosition.row + 1, elems });
}

/** The definitions the lexer named (left out of the parse, or also found in the tree). */
function addLexedFunctions(found: LexedFunction[], lines: LineIndex, facts: CFileFacts): void {
  const have = new Set(facts.functions.map((f) => f.name));
  for (const f of found) {
    if (have.has(f.name)) continue;
    have.add(f.name);
    facts.functions.push({ name: f.name, line: lines.lineAt(f.at) });
  }
}


/** Safety net for declarations that error recovery broke apart (`static PyMethodDef t[] = {`
 *  split across ERROR nodes): found in the text, added when the tree did not give them. */
function collectInitsFromText(text: string, lines: LineIndex, facts: CFileFacts): void {
  const re = /\b(?:struct\s+)?(PyMethodDef|PyGetSetDef|PyMemberDef|PyTypeObject|PyType_Spec|PyType_Slot|PyNumberMethods|PySequenceMethods|PyMappingMethods|PyAsyncMethods|PyBufferProcs|PyModuleDef|PyModuleDef_Slot)\s*(\*\s*)?([A-Za-z_]\w*)\s*(\[[^\]\n]*\])?\s*=\s*\{/g;
  const have = new Set(facts.inits.map((i) => i.name));
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const [, baseType, star, name, array] = m;
    // `PyTypeObject *types[] = {&A, &B}` (often inside a function body, which the tree does not
    // see): a list of types a module adds one by one. Other pointers are not tables.
    const type = star ? (baseType === 'PyTypeObject' && array ? 'PyTypeObject*' : '') : baseType;
    if (!type || have.has(name) || (type === 'PyTypeObject' && array)) continue;
    const lineStart = text.lastIndexOf('\n', m.index) + 1;
    if (/^\s*(?:\/\/|\*|\/\*|#)/.test(text.slice(lineStart, m.index))) continue; // comment or #define
    const open = m.index + m[0].length - 1;
    const end = matchBrace(text, open);
    const line = lines.lineAt(m.index + m[0].indexOf(name, type.length));
    facts.inits.push({ type, name, line, elems: scanInitialiser(text.slice(open, end), lines.lineAt(open), !array) });
    have.add(name);
    re.lastIndex = end;
  }
}

/** Offset after the '}' matching the '{' at `open` (strings, comments, preprocessor lines
 *  skipped); the text's end when unbalanced. */
export function matchBrace(text: string, open: number): number {
  let depth = 0;
  const n = text.length;
  for (let i = open; i < n; i++) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      let j = i + 1;
      while (j < n && text[j] !== ch && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      i = j;
    } else if (ch === '/' && text[i + 1] === '*') {
      const j = text.indexOf('*/', i + 2);
      i = j < 0 ? n : j + 1;
    } else if (ch === '/' && text[i + 1] === '/') {
      const j = text.indexOf('\n', i);
      i = j < 0 ? n : j;
    } else if (ch === '{') {
      depth++;
    } else if (ch === '}') {
      if (--depth === 0) return i + 1;
    }
  }
  return n;
}

function addDefine(cap: Map<string, SyntaxNode>, facts: CFileFacts): void {
  const name = cap.get('name');
  if (!name) return;
  const params = cap.get('params');
  const value = cap.get('value');
  const body = value ? stripComments(value.text.replace(/\\\r?\n/g, ' ')).trim() : '';
  const d: CDefine = { name: name.text, line: name.startPosition.row + 1, body };
  if (!defineMatters(d.name, !!params, body)) return;
  if (params) d.params = params.text.replace(/^\(|\)$/g, '').replace(/\\\r?\n/g, ' ').split(',').map((s) => s.trim()).filter(Boolean);
  facts.defines.push(d);
}

/** Argument Clinic output: `#define X_METHODDEF    \` + the entry on the next lines. */
function collectClinicOutput(text: string, lines: LineIndex, facts: CFileFacts): void {
  const re = /^[ \t]*#[ \t]*define[ \t]+(\w+_(?:METHODDEF|GETSETDEF))\b((?:[^\n]*\\\r?\n)*[^\n]*)/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const body = stripComments(m[2].replace(/\\\r?\n/g, ' ')).trim();
    facts.defines.push({ name: m[1], line: lines.lineAt(m.index), body });
  }
}

// ---------------------------------------------------------------------------------------------
// Text scanners

function stripComments(s: string): string {
  return s.replace(/\/\*[\s\S]*?(?:\*\/|$)|\/\/[^\n]*/g, ' ');
}

/** Argument Clinic blocks: `/*[clinic input]` ... `[clinic start generated code]*\/`. */
function collectClinic(text: string, lines: LineIndex, facts: CFileFacts): void {
  const START = '/*[clinic input]';
  const END = '[clinic start generated code]';
  const OUT_END = '/*[clinic end generated code';
  let at = text.indexOf(START);
  while (at >= 0) {
    const bodyStart = at + START.length;
    let end = text.indexOf(END, bodyStart);
    const terminated = end >= 0;
    if (!terminated) end = Math.min(text.length, bodyStart + 4000); // unterminated: read what is there
    const before = facts.clinic.length;
    parseClinicBlock(text.slice(bodyStart, end), lines.lineAt(bodyStart), facts.clinic);
    const c = facts.clinic[facts.clinic.length - 1];
    if (terminated && facts.clinic.length > before && !c.decl) {
      const outEnd = text.indexOf(OUT_END, end);
      if (outEnd >= 0 && outEnd - end < 4000) {
        const m = findDeclared(text, end, outEnd, c.cbase);
        if (m) {
          c.def = m.name;
          c.defLine = lines.lineAt(m.index);
        }
      }
    }
    at = text.indexOf(START, end);
  }
}

/** The first `base(` or `base_impl(` (a word of its own, `_impl` preferred at one place) in
 *  text[from, to): what `/\bbase(?:_impl)?\s*\(/` finds in that slice, without compiling a
 *  regular expression per clinic block. */
function findDeclared(text: string, from: number, to: number, base: string): { name: string; index: number } | undefined {
  const callAt = (k: number): boolean => {
    while (k < to && /\s/.test(text[k])) k++;
    return k < to && text[k] === '(';
  };
  for (let i = text.indexOf(base, from); i >= 0 && i + base.length <= to; i = text.indexOf(base, i + 1)) {
    if (i > from && /\w/.test(text[i - 1])) continue;
    const after = i + base.length;
    if (after + 5 <= to && text.startsWith('_impl', after) && callAt(after + 5)) return { name: `${base}_impl`, index: i };
    if (callAt(after)) return { name: base, index: i };
  }
  return undefined;
}

function parseClinicBlock(body: string, firstLine: number, out: CClinic[]): void {
  const ls = body.split('\n');
  const decorators: string[] = [];
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i].trim();
    if (!l) continue;
    const line = firstLine + i;
    let m = /^(module|class)\s+([\w.]+)/.exec(l);
    if (m) {
      out.push({ name: m[2], cbase: m[2].replace(/\./g, '_'), line, decl: m[1] as 'module' | 'class' });
      continue; // a block may declare several modules/classes
    }
    if (l.startsWith('@')) {
      decorators.push(l.slice(1).trim());
      continue;
    }
    if (/^(?:(?:output|dump|destination|set)\s|preserve$|#)/.test(l)) return; // clinic directives
    m = /^([A-Za-z_][\w.]*)(?:\s+as\s+(\w+))?\s*(?:=\s*[\w.]+(?:\s+as\s+\w+)?)?\s*(?:->.*)?$/.exec(l);
    if (m) {
      const c: CClinic = { name: m[1], cbase: m[2] ?? m[1].replace(/\./g, '_'), line };
      if (decorators.length) c.decorators = decorators.slice();
      out.push(c);
    }
    return; // the function's declaration is the block's first real line
  }
}

/** Splits a parenthesised argument list starting at `open` (the '(' offset). Returns the
 *  arguments (comments removed, trimmed) and the offset after ')', or undefined when the list
 *  does not close within `limit` characters. */
export function splitArgs(text: string, open: number, limit = 20000): { args: string[]; end: number } | undefined {
  const args: string[] = [];
  let depth = 0;
  let cur = '';
  const stop = Math.min(text.length, open + limit);
  for (let i = open; i < stop; i++) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      let j = i + 1;
      while (j < stop && text[j] !== ch && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      cur += text.slice(i, j + 1);
      i = j;
      continue;
    }
    if (ch === '/' && text[i + 1] === '*') {
      const j = text.indexOf('*/', i + 2);
      i = j < 0 ? stop : j + 1;
      cur += ' ';
      continue;
    }
    if (ch === '/' && text[i + 1] === '/') {
      const j = text.indexOf('\n', i);
      i = j < 0 ? stop : j - 1;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') {
      depth++;
      if (depth === 1) continue;
    } else if (ch === ')' || ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) {
        if (cur.trim() || args.length) args.push(cur.replace(/\s+/g, ' ').trim());
        return { args, end: i + 1 };
      }
    } else if (ch === ',' && depth === 1) {
      args.push(cur.replace(/\s+/g, ' ').trim());
      cur = '';
      continue;
    }
    if (ch === '\\' && text[i + 1] === '\n') {
      cur += ' ';
      i++;
      continue;
    }
    cur += ch;
  }
  return undefined;
}

/** Removes C casts and `&` from an expression: `(PyObject *)&Foo_Type` -> `Foo_Type`,
 *  `_PyCFunction_CAST(f)` -> `f`. */
export function stripCasts(expr: string): string {
  let s = expr.trim();
  for (let k = 0; k < 8; k++) {
    const before = s;
    s = s.replace(/^\(\s*(?:const\s+)?(?:struct\s+)?\w+(?:\s*\*\s*|\s*\(\s*\*\s*\)\s*\([^()]*\))*\s*\)\s*/, '');
    s = s.replace(/^\(\s*void\s*\(\s*\*\s*\)\s*\(\s*void\s*\)\s*\)\s*/, '');
    const m = /^\w*CAST\w*\s*\(([\s\S]*)\)$/.exec(s);
    if (m) s = m[1].trim();
    // C++: `reinterpret_cast<PyCFunction>(f)`.
    const cpp = /^(?:reinterpret|static|const)_cast\s*<(?:[^<>]|<[^<>]*>)*>\s*\(([\s\S]*)\)$/.exec(s);
    if (cpp && balanced(cpp[1])) s = cpp[1].trim();
    if (s.startsWith('&')) s = s.slice(1).trim();
    const p = /^\(([\s\S]*)\)$/.exec(s);
    if (p && balanced(p[1])) s = p[1].trim();
    if (s === before) break;
  }
  return s;
}

function balanced(s: string): boolean {
  let d = 0;
  for (const ch of s) {
    if (ch === '(') d++;
    else if (ch === ')' && --d < 0) return false;
  }
  return d === 0;
}

/** Finds API calls in `text` (the whole file, or an expanded macro body with `fixedLine`). */
function collectCalls(text: string, fixedLine: number, lines: LineIndex | undefined, out: CCall[], via?: string): void {
  API_CALL.lastIndex = 0;
  const found: { fn: string; index: number; open: number }[] = [];
  for (let m = API_CALL.exec(text); m; m = API_CALL.exec(text)) {
    found.push({ fn: m[1], index: m.index, open: m.index + m[0].length - 1 });
  }
  let importsModules: boolean | undefined;
  for (const f of found) {
    // Skip the macro's own #define line (`#define SETBUILTIN(NAME, OBJECT)`).
    const lineStart = text.lastIndexOf('\n', f.index) + 1;
    if (/^\s*#\s*define\b/.test(text.slice(lineStart, f.index))) continue;
    const r = splitArgs(text, f.open);
    if (!r) continue;
    // In an expanded macro body, an argument that is the macro's own local (`v` in CPython's
    // `SET_SYS`: `PyObject *v = (value); ... PyDict_SetItemString(sysdict, key, v)`) stands for
    // the expression it was set to.
    // PyDict_SetItem names its key with an object: only an expansion (a macro's, a helper's)
    // can tell which (`PyUnicode_FromString("ENODEV")`); calls elsewhere are not kept.
    if (f.fn === 'PyDict_SetItem' && !via) continue;
    // Attributes set on and read from imported modules matter only where a module is imported
    // (CPython's `builtins.open = io.open`): elsewhere they are not kept.
    if (f.fn === 'PyObject_SetAttrString' || f.fn === 'PyObject_GetAttrString') {
      importsModules ??= text.includes('PyImport_ImportModule(');
      if (!importsModules) continue;
    }
    const upToCall = via ? text.slice(0, f.index) : '';
    const args = via ? r.args.map((a) => localValue(upToCall, a.trim()) ?? a) : r.args;
    const call: CCall = { fn: f.fn, args, line: fixedLine || (lines ? lines.lineAt(f.index) : 1) };
    const before = text.slice(Math.max(0, f.index - 200), f.index);
    const lhs = /([A-Za-z_][\w.\->\[\]]*)\s*=\s*(?:\(\s*\w+\s*\*?\s*\)\s*)?$/.exec(before);
    if (lhs && !/[=!<>]=\s*$/.test(before)) call.lhs = lhs[1];
    if (via) call.via = via;
    out.push(call);
  }
}

/** The expression an identifier was last set to in `before` (`PyObject *v = (expr);`). */
function localValue(before: string, name: string): string | undefined {
  if (!/^[A-Za-z_]\w*$/.test(name) || !before.includes(name)) return undefined;
  let re = ASSIGNED.get(name);
  if (!re) {
    re = new RegExp(`\\b${name}\\s*=(?!=)\\s*([^;]+);`, 'g');
    if (ASSIGNED.size > 4096) ASSIGNED.clear();
    ASSIGNED.set(name, re);
  }
  let value: string | undefined;
  for (const m of before.matchAll(re)) value = m[1].trim();
  return value;
}
const ASSIGNED = new Map<string, RegExp>();

/** A function-like macro or a function, as text: what an invocation expands to. */
interface Expandable {
  params: string[];
  body: string;
}

/** Where a name that an adding call gives its module (`PyModule_AddObjectRef(m, NAME, v)`) sits. */
const NAME_ARG: Readonly<Record<string, number>> = {
  PyModule_AddObjectRef: 1, PyModule_AddObject: 1, PyModule_Add: 1, PyModule_AddIntConstant: 1,
  PyModule_AddStringConstant: 1, PyDict_SetItemString: 1, PyDict_SetItem: 1,
  PyErr_NewException: 0, PyErr_NewExceptionWithDoc: 0, SETBUILTIN: 0,
};
const ADDING_CALL = /\b(?:PyModule_Add(?:ObjectRef|Object|IntConstant|StringConstant)?|PyDict_SetItem(?:String)?|PyErr_NewException(?:WithDoc)?)\s*\(/g;

/**
 * Invocations of this file's adders, expanded textually and scanned for API calls, at the
 * invocation's line. Adders: function-like macros whose body calls the C-API's adders
 * (`ADD_TYPE(m, &spec, st->X, NULL)`, CPython's `SET_SYS`); functions that add a name given as
 * one of their parameters (errno's `_add_errcode(module_dict, error_dict, name_str, code)`: its
 * `PyDict_SetItem(module_dict, PyUnicode_FromString(name_str), ...)`); and, to any depth, macros
 * that invoke adders (`SET_SYS_FROM_STRING(key, value)` -> `SET_SYS(key, ...)`, errno's
 * `add_errcode(name, code, comment)` -> `_add_errcode(module_dict, error_dict, name, code)`).
 * Macros are read from the text: the parse keeps only the #defines that call the API directly.
 */
function collectMacroCalls(text: string, lines: LineIndex, facts: CFileFacts, functions: LexedFunction[]): void {
  const adders = new Map<string, Expandable>();
  /** Text that defines adders: invocations inside are the definitions' own, not uses. */
  const defining: [number, number][] = [];
  // Cheap: no adding call anywhere, nothing to expand.
  if (!API_WORDS.test(text)) return;
  const macros = textMacros(text);
  for (const [name, m] of macros) if (API_WORDS.test(m.body)) adders.set(name, m);
  for (const [name, h] of adderFunctions(text, functions)) {
    if (!adders.has(name)) adders.set(name, h);
  }
  if (!adders.size) return;
  for (let grew = true; grew;) {
    grew = false;
    const calls = invocationPattern([...adders.keys()]);
    for (const [name, m] of macros) {
      if (adders.has(name)) continue;
      calls.lastIndex = 0;
      if (calls.test(m.body)) {
        adders.set(name, m);
        grew = true;
      }
    }
  }
  for (const [name, m] of macros) if (adders.has(name)) defining.push(m.span);
  for (const f of functions) if (adders.has(f.name) && f.body && f.body[1] >= 0) defining.push([f.at, f.body[1]]);
  const calls = invocationPattern([...adders.keys()]);
  const expand = (name: string, args: string[], line: number, via: string, depth: number): void => {
    const a = adders.get(name)!;
    const expanded = substitute(a.body, a.params, args);
    collectCalls(expanded, line, undefined, facts.calls, via);
    if (depth >= 4) return;
    const inner = invocationPattern([...adders.keys()]);
    for (let m = inner.exec(expanded); m; m = inner.exec(expanded)) {
      const r = splitArgs(expanded, m.index + m[0].length - 1);
      if (!r) continue;
      expand(m[1], r.args, line, via, depth + 1);
      inner.lastIndex = r.end;
    }
  };
  for (let m = calls.exec(text); m; m = calls.exec(text)) {
    if (defining.some(([a, b]) => m!.index >= a && m!.index < b)) continue;
    const lineStart = text.lastIndexOf('\n', m.index) + 1;
    if (/^\s*#/.test(text.slice(lineStart, m.index))) continue;
    const r = splitArgs(text, m.index + m[0].length - 1);
    if (!r) continue;
    expand(m[1], r.args, lines.lineAt(m.index), m[1], 0);
  }
}

/**
 * A module's dict kept in another variable (`_curses`: `d = PyModule_GetDict(m); ... ModDict = d;`,
 * with `PyDict_SetItemString(ModDict, ...)` elsewhere): recorded as another `PyModule_GetDict`
 * for that variable.
 */
function collectDictAliases(text: string, lines: LineIndex, facts: CFileFacts): void {
  const dicts = new Set(facts.calls.filter((c) => c.fn === 'PyModule_GetDict' && c.lhs && /^[A-Za-z_]\w*$/.test(c.lhs)).map((c) => c.lhs!));
  for (const d of dicts) {
    const re = new RegExp(`(?:^|[;{}])\\s*([A-Za-z_]\\w*)\\s*=\\s*${d}\\s*;`, 'gm');
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (m[1] !== d && !dicts.has(m[1])) facts.calls.push({ fn: 'PyModule_GetDict', args: [], lhs: m[1], line: lines.lineAt(m.index) });
    }
  }
}

/** Calls passing a module this file adds to (the first argument of its PyModule_Add* calls). */
function collectModuleArgCalls(text: string, facts: CFileFacts): void {
  const vars = new Set(facts.calls.filter((c) => c.fn.startsWith('PyModule_Add')).map((c) => (c.args[0] ?? '').trim()).filter((a) => /^[A-Za-z_]\w*$/.test(a)));
  // And what holds a module this file creates (`PyObject *m = PyModule_Create(&def)`).
  for (let i = text.indexOf('PyModule_'); i >= 0; i = text.indexOf('PyModule_', i + 9)) {
    if (!/^PyModule_(?:Create2?|New(?:Object)?|FromDefAndSpec2?)\s*\(/.test(text.slice(i, i + 40))) continue;
    const before = /([A-Za-z_]\w*)\s*=\s*$/.exec(text.slice(Math.max(0, i - 80), i));
    if (before) vars.add(before[1]);
  }
  if (!vars.size) return;
  // Anchored on the `(`: an identifier before it is found by walking back.
  const re = new RegExp(`\\(\\s*(?:${[...vars].join('|')})\\s*[,)]`, 'g');
  const out = new Set<string>();
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let end = m.index;
    while (end > 0 && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
    let start = end;
    while (start > 0 && isIdentChar(text.charCodeAt(start - 1))) start--;
    const name = text.slice(start, end);
    if (name && /^[A-Za-z_]/.test(name) && !/^_?Py[A-Z]/.test(name) && !/^(?:if|while|for|switch|return|sizeof)$/.test(name)) out.add(name);
  }
  if (out.size) facts.moduleArgCalls = [...out].sort();
}

/** Top-level `[static] [const] char NAME[] = "…" "…";` (parenthesised or not) whose strings
 *  could make a dotted name (docstrings are not kept: they would weigh on every fact). */
function collectStringConsts(text: string, facts: CFileFacts): void {
  if (!text.includes('char')) return;
  const re = /^(?:static[ \t]+)?(?:const[ \t]+)?char[ \t]+([A-Za-z_]\w*)[ \t]*\[[ \t]*\][ \t]*=[ \t]*(\(?\s*(?:"[\w.]{0,200}"\s*)+\)?)\s*;/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) (facts.stringConsts ??= []).push({ name: m[1], value: m[2].trim() });
}

/** `X.tp_field = value;` statements: type object fields set at run time. */
function collectTypeSets(text: string, lines: LineIndex, facts: CFileFacts): void {
  // Each `.tp_` right after an identifier (designated initialisers' `.tp_name` are not).
  const tail = /^\.(tp_\w+)\s*=(?!=)\s*([^;]+);/;
  for (let i = text.indexOf('.tp_'); i >= 0; i = text.indexOf('.tp_', i + 4)) {
    let j = i;
    while (j > 0 && isIdentChar(text.charCodeAt(j - 1))) j--;
    if (j === i || !/[A-Za-z_]/.test(text[j])) continue;
    // A statement start before it: line start, `;`, `{` or `}`.
    let k = j - 1;
    while (k >= 0 && (text[k] === ' ' || text[k] === '\t')) k--;
    if (k >= 0 && !'\n;{}'.includes(text[k])) continue;
    const m = tail.exec(text.slice(i, i + 400));
    if (m) (facts.typeSets ??= []).push({ type: text.slice(j, i), field: m[1], value: m[2].trim(), line: lines.lineAt(j) });
  }
}

function isIdentChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** A regex finding invocations of any of `names` (`NAME(`), the name in group 1. */
function invocationPattern(names: string[]): RegExp {
  return new RegExp(`\\b(${names.join('|')})\\s*\\(`, 'g');
}

/** The function-like #defines of a file, read from its text (the first of each name). */
function textMacros(text: string): Map<string, Expandable & { span: [number, number] }> {
  const out = new Map<string, Expandable & { span: [number, number] }>();
  const head = /^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)\(([^)]*)\)/;
  for (let i = text.indexOf('define'); i >= 0; i = text.indexOf('define', i + 6)) {
    const start = text.lastIndexOf('\n', i) + 1;
    const m = head.exec(text.slice(start, i + 200));
    if (!m || out.has(m[1])) continue;
    // The directive runs to the first newline not escaped by a backslash.
    let end = start + m[0].length;
    for (;;) {
      const nl = text.indexOf('\n', end);
      if (nl < 0) { end = text.length; break; }
      const bs = text[nl - 1] === '\r' ? nl - 2 : nl - 1;
      end = nl;
      if (text[bs] !== '\\') break;
      end = nl + 1;
    }
    const body = text.slice(start + m[0].length, end).replace(/\\\r?\n/g, ' ').replace(/\/\*[\s\S]*?(?:\*\/|$)|\/\/[^\n]*/g, ' ').trim();
    const params = m[2].split(',').map((p) => p.trim()).filter(Boolean);
    out.set(m[1], { params, body, span: [start, end] });
    i = end - 6;
  }
  return out;
}

/**
 * This file's functions that add to a module a name given as one of their parameters: the name
 * argument of an adding call in the body is the parameter, or a local set from it
 * (`PyObject *name = PyUnicode_FromString(name_str)`).
 */
function adderFunctions(text: string, functions: LexedFunction[]): Map<string, Expandable> {
  const out = new Map<string, Expandable>();
  if (!text.includes('PyModule_Add') && !text.includes('PyDict_SetItem') && !text.includes('PyErr_NewException')) return out;
  const withBody = functions.filter((f) => f.params && f.body && f.body[1] > f.body[0]);
  if (!withBody.length) return out;
  const paramsOf = new Map<LexedFunction, string[]>();
  ADDING_CALL.lastIndex = 0;
  for (let m = ADDING_CALL.exec(text); m; m = ADDING_CALL.exec(text)) {
    const at = m.index;
    // The function whose body holds the call (bodies are sorted and disjoint).
    let lo = 0, hi = withBody.length - 1, f: LexedFunction | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [a, b] = withBody[mid].body!;
      if (at < a) hi = mid - 1;
      else if (at > b) lo = mid + 1;
      else { f = withBody[mid]; break; }
    }
    if (!f || out.has(f.name)) continue;
    const fn = m[0].replace(/\s*\($/, '');
    const r = splitArgs(text, at + m[0].length - 1);
    let arg = (r?.args[NAME_ARG[fn] ?? 1] ?? '').trim();
    // Most adding calls name a literal: not a helper's.
    if (!arg || arg.startsWith('"')) continue;
    let params = paramsOf.get(f);
    if (!params) {
      const [po, pc] = f.params!;
      params = text.slice(po + 1, pc).split(',').map((p) => /([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*$/.exec(p.trim())?.[1] ?? '')
        .filter((p) => p && p !== 'void');
      paramsOf.set(f, params);
    }
    if (!params.length) continue;
    const unwrap = (x: string): string => stripCasts(x).replace(/^PyUnicode_(?:Intern)?FromString\s*\(([\s\S]*)\)$/, '$1').trim();
    arg = unwrap(arg);
    // A local set from a parameter: `PyObject *name = PyUnicode_FromString(name_str);`.
    if (!params.includes(arg)) arg = unwrap(localValue(text.slice(f.body![0] + 1, at), arg) ?? '');
    if (params.includes(arg)) out.set(f.name, { params, body: text.slice(f.body![0] + 1, f.body![1]) });
  }
  return out;
}

/** Expands a function-like macro body: `#param` -> a string literal, `a ## b` -> pasted. */
export function substitute(body: string, params: string[], args: string[]): string {
  if (!params.length) return body;
  const t = template(body, params);
  if (!t) return body;
  let out = '';
  for (const part of t.parts) {
    if (typeof part === 'string') out += part;
    else {
      const v = (args[part.param] ?? '').trim();
      out += part.str ? `"${v}"` : v;
    }
  }
  return t.pastes || out.includes('##') ? out.replace(/##/g, '') : out;
}

/** A macro body cut once into text and parameter references (`#p` stringified), `##` kept. */
interface Template {
  parts: (string | { param: number; str: boolean })[];
  pastes: boolean;
}
/** By body, then by parameter list: a body string's hash is computed once, a joined key's each time. */
const TEMPLATES = new Map<string, Map<string, Template | null>>();

function template(body: string, params: string[]): Template | null {
  let byParams = TEMPLATES.get(body);
  if (!byParams) {
    if (TEMPLATES.size > 4096) TEMPLATES.clear();
    TEMPLATES.set(body, (byParams = new Map()));
  }
  const key = params.join(',');
  let t = byParams.get(key);
  if (t !== undefined) return t;
  const names = params.map((p) => p.replace(/[^\w]/g, ''));
  const alt = names.filter(Boolean).join('|');
  if (!alt) {
    t = null;
  } else {
    // Stringified parameters first (on the text as written), then `##` pasting, then the rest.
    const marked = body.replace(new RegExp(`(^|[^#])#\\s*(${alt})\\b`, 'g'), (_m, pre: string, p: string) => `${pre}\u0001${p}\u0002`)
      .replace(/\s*##\s*/g, '##');
    const parts: Template['parts'] = [];
    const re = new RegExp(`\u0001(${alt})\u0002|\\b(${alt})\\b`, 'g');
    let last = 0;
    for (let m = re.exec(marked); m; m = re.exec(marked)) {
      if (m.index > last) parts.push(marked.slice(last, m.index));
      parts.push({ param: names.indexOf(m[1] ?? m[2]), str: m[1] !== undefined });
      last = m.index + m[0].length;
    }
    if (last < marked.length) parts.push(marked.slice(last));
    t = { parts, pastes: marked.includes('##') };
  }
  byParams.set(key, t);
  return t;
}

/** Column-0 invocations of upper-case macros and of this file's function-shaped macros
 *  (`FUNC1(acos, acos, 0, "...")`, `Dec_BinaryNumberMethod(mpd_qadd)`): candidate generators. */
function collectMacroUses(text: string, lines: LineIndex, facts: CFileFacts): void {
  const local = new Set(facts.defines.filter((d) => d.params && (d.body.includes('##') || FUNCTION_SHAPED.test(d.body))).map((d) => d.name));
  // Most lines starting `name(` are definitions: when no local macro can match, only
  // upper-case names are looked at.
  const re = local.size ? /^([A-Za-z_]\w*)[ \t]*\(/gm : /^([A-Z_][A-Z0-9_]*)[ \t]*\(/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const name = m[1];
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name) && !local.has(name)) continue;
    const r = splitArgs(text, m.index + m[0].length - 1, 8000);
    if (!r) continue;
    // Long arguments are docstrings: kept short, and still well-formed literals.
    const args = r.args.map((a) => (a.length <= 80 ? a : a.startsWith('"') ? '"..."' : a.slice(0, 80)));
    facts.macroUses.push({ name, args, line: lines.lineAt(m.index) });
    re.lastIndex = r.end;
  }
}

// ---------------------------------------------------------------------------------------------
// Initialiser scanner

interface Tok {
  s: string;
  k: 'id' | 'str' | 'num' | 'p';
  line: number;
}

/** An open `#if` in an initialiser: whether its current branch is skipped, whether a branch was
 *  read, and whether the one compiled is known (version conditions, see versionCond.ts). */
interface IfFrame {
  skip: boolean;
  read: boolean;
  decided: boolean;
}

/** Updates the open `#if`s for one directive; false when it is not a conditional one. Branches
 *  known false for every served Python are skipped, and those after one known true; of the rest,
 *  `firstBranch` reads only the first read, otherwise all. */
function ifDirective(conds: IfFrame[], directive: string, rest: string, firstBranch: boolean): boolean {
  const value = (): boolean | undefined => {
    switch (directive) {
      case 'ifdef': case 'elifdef': return versionDefined(rest.trim(), false);
      case 'ifndef': case 'elifndef': return versionDefined(rest.trim(), true);
      case 'else': return true;
      default: return versionCondition(rest);
    }
  };
  if (directive === 'if' || directive === 'ifdef' || directive === 'ifndef') {
    const v = value();
    conds.push(v === false ? { skip: true, read: false, decided: false } : { skip: false, read: true, decided: v === true });
    return true;
  }
  if (directive === 'endif') {
    conds.pop();
    return true;
  }
  if (!/^(?:else|elif|elifdef|elifndef)$/.test(directive)) return false;
  const top = conds[conds.length - 1];
  if (!top) return true;
  if (top.decided) {
    top.skip = true;
    return true;
  }
  const v = value();
  if (v === false) top.skip = true;
  else if (v === true && !top.read) Object.assign(top, { skip: false, read: true, decided: true });
  else {
    top.skip = firstBranch && top.read;
    top.read = true;
  }
  return true;
}

/** `firstBranch`: read only the first branch of each `#if` (positional struct initialisers,
 *  where reading both branches would shift every later field); otherwise read every branch
 *  (tables, whose entries may all exist on some platform). */
function tokenise(text: string, firstLine: number, firstBranch: boolean): Tok[] {
  const toks: Tok[] = [];
  let line = firstLine;
  let atLineStart = true;
  const conds: IfFrame[] = []; // per open #if
  let skipping = false;
  const n = text.length;
  for (let i = 0; i < n;) {
    const ch = text[i];
    if (ch === '\n') {
      line++;
      atLineStart = true;
      i++;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f' || ch === '\v') {
      i++;
      continue;
    }
    if (ch === '\\' && text[i + 1] === '\n') {
      i += 2;
      line++;
      continue;
    }
    if (ch === '#' && atLineStart) {
      const start = i;
      while (i < n && text[i] !== '\n') {
        if (text[i] === '\\' && text[i + 1] === '\n') {
          i++;
          line++;
        }
        i++;
      }
      const m = /^#\s*(\w+)\s*([^]*)$/.exec(text.slice(start, i).replace(/\\\n/g, ' '));
      if (m && ifDirective(conds, m[1], m[2], firstBranch)) skipping = conds.some((c) => c.skip);
      continue;
    }
    atLineStart = false;
    if (skipping && !(ch === '/' && text[i + 1] === '*')) {
      // Inside a later #if branch: skip to the end of the line (comments still counted below).
      i++;
      while (i < n && text[i] !== '\n' && !(text[i] === '/' && text[i + 1] === '*')) i++;
      continue;
    }
    if (ch === '/' && text[i + 1] === '*') {
      const j = text.indexOf('*/', i + 2);
      const e = j < 0 ? n : j + 2;
      for (let k = i; k < e; k++) if (text[k] === '\n') line++;
      i = e;
      continue;
    }
    if (ch === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (ch === '"' || ch === "'") {
      let j = i + 1;
      while (j < n && text[j] !== ch && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      toks.push({ s: text.slice(i, j + 1), k: 'str', line });
      i = j + 1;
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      let j = i + 1;
      while (j < n && /\w/.test(text[j])) j++;
      toks.push({ s: text.slice(i, j), k: 'id', line });
      i = j;
      continue;
    }
    if (/[0-9]/.test(ch)) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(text[j])) j++;
      toks.push({ s: text.slice(i, j), k: 'num', line });
      i = j;
      continue;
    }
    if (ch === '-' && text[i + 1] === '>') {
      toks.push({ s: '->', k: 'p', line });
      i += 2;
      continue;
    }
    toks.push({ s: ch, k: 'p', line });
    i++;
  }
  return toks;
}

/** Reads an initialiser list's text into elements (recursively for braced elements). */
export function scanInitialiser(text: string, firstLine: number, firstBranch = false): CElem[] {
  const toks = tokenise(text, firstLine, firstBranch);
  if (!toks.length || toks[0].s !== '{') return [];
  return readList(toks, 0, findClose(toks, 0));
}

function findClose(toks: Tok[], open: number): number {
  let d = 0;
  for (let i = open; i < toks.length; i++) {
    const s = toks[i].s;
    if (s === '{' || s === '(' || s === '[') d++;
    else if (s === '}' || s === ')' || s === ']') {
      d--;
      if (d === 0) return i;
    }
  }
  return toks.length;
}

/** Elements between toks[open] '{' and toks[close] '}'. */
function readList(toks: Tok[], open: number, close: number): CElem[] {
  const out: CElem[] = [];
  let start = open + 1;
  let i = start;
  const flush = (end: number): void => {
    if (end > start) out.push(makeElem(toks, start, end));
    start = end;
  };
  while (i < close) {
    const t = toks[i];
    if (t.s === ',') {
      flush(i);
      start = i + 1;
      i++;
      continue;
    }
    // A macro that expands to a whole entry (`X_METHODDEF`, `PyVarObject_HEAD_INIT(...)`) has
    // no comma after it: start a new element when one plainly begins.
    // (After a designator: greenlet's `.ob_base = PyVarObject_HEAD_INIT(NULL, 0)` with no comma.)
    const v = toks[start].s === '.' && toks[start + 1]?.k === 'id' && toks[start + 2]?.s === '=' ? start + 3 : start;
    if (i > v) {
      const prev = toks[i - 1];
      const onlyId = i - v === 1 && toks[v].k === 'id';
      const call = toks[v].k === 'id' && prev.s === ')' && toks[v + 1]?.s === '(' && findClose(toks, v + 1) === i - 1;
      const headInit = call && /HEAD_INIT$/.test(toks[v].s);
      // An upper-case macro call that is a whole entry (`XMLPARSE_GETTER_DEF(ErrorCode)`)
      // followed by another entry.
      const entryMacro = call && /^[A-Z_][A-Z0-9_]*$/.test(toks[v].s) && (t.s === '{' || t.k === 'id');
      if ((onlyId && (t.s === '{' || t.k === 'id') && !/^(?:const|struct|unsigned|signed)$/.test(toks[v].s) && !/_STR$|^PyDoc_/.test(toks[v].s)) ||
        (headInit && t.s !== ',') || entryMacro) {
        flush(i);
      }
    }
    if (t.s === '{' || t.s === '(' || t.s === '[') {
      i = findClose(toks, i) + 1;
      continue;
    }
    i++;
  }
  flush(close);
  return out;
}

function makeElem(toks: Tok[], start: number, end: number): CElem {
  let field: string | undefined;
  if (toks[start].s === '.' && toks[start + 1]?.k === 'id' && toks[start + 2]?.s === '=') {
    field = toks[start + 1].s;
    start += 3;
  }
  const line = toks[Math.min(start, end - 1)]?.line ?? toks[end - 1].line;
  const braced = start < end && toks[start].s === '{' && findClose(toks, start) === end - 1;
  const e: CElem = { text: braced ? '' : joinToks(toks, start, end), line };
  if (field) e.field = field;
  if (braced) e.items = readList(toks, start, end - 1);
  return e;
}

function joinToks(toks: Tok[], start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const t = toks[i];
    if (i > start && t.k !== 'p' && toks[i - 1].k !== 'p') s += ' ';
    s += t.s;
  }
  return s;
}
