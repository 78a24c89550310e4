/**
 * Rust extractor: one .rs file's text -> the facts the Rust linker needs (JSON-serialisable,
 * cached per file). Three binding styles are recognised:
 *  - PyO3 macros (`#[pyfunction]`, `#[pyclass]`, `#[pymethods]`, `#[pymodule]`, ...),
 *  - raw C-API tables written in Rust (`PyMethodDef { ml_name: c"f", ml_meth: .. }`, `PyModuleDef`),
 *  - the Rust-for-CPython safe layer (`export_module! { .. }`, `ClassDef::new(c"mod.Name")`).
 * Structure (items, attributes, calls, struct literals) comes from tree-sitter-rust; only the
 * insides of attributes and macro token trees are read as text.
 */
import type { MacroArm } from './macroRules';
import { parse, queryFor, type SyntaxNode } from '../../parse/parsers';
import { LineIndex } from '../lines';
import itemsScm from '../../../queries/rust/items.scm';
import callsScm from '../../../queries/rust/calls.scm';
import ffiScm from '../../../queries/rust/ffi.scm';

export const RUST_EXTRACTOR_VERSION = 7;

/** `#[name(pos, key = "value")]`: positional arguments and key/value pairs, quotes stripped. */
export interface RustAttr {
  name: string;
  pos: string[];
  kv: Record<string, string>;
}

export interface RustField {
  name: string;
  line: number;
  attrs: RustAttr[];
  /** An enum variant that carries data (`V(u8)`, `V { x: u8 }`). */
  data?: true;
  /** A data variant's fields: named (`V { x: u8 }`: `x`) or positional (`V(u8)`: `_0`). */
  members?: { name: string; line: number }[];
}

export interface RustUse {
  /** Path segments, e.g. ["crate", "a", "b"]; for a glob the module's path. */
  path: string[];
  /** The local name it binds (`as` alias or last segment); '*' for a glob. */
  local: string;
}

export type RustItemKind = 'fn' | 'struct' | 'enum' | 'impl' | 'mod' | 'use' | 'static' | 'const' | 'macro' | 'type';

export interface RustItem {
  kind: RustItemKind;
  /** Identifier; for `impl` the self type's last segment; for `macro` the macro name. */
  name: string;
  /** 1-based line of the name. */
  line: number;
  /** Inline `mod x { }` path inside this file, outermost first. */
  scope: string[];
  attrs: RustAttr[];
  pub?: boolean;
  /** Index (in `items`) of the enclosing function, for items nested in a body (`#[pyfn]`). */
  inFn?: number;
  /** Index of the enclosing `impl` block, for its fns and consts. */
  inImpl?: number;
  /** `mod x;` (the body lives in another file). */
  external?: boolean;
  /** Parameter names of a fn (`m` in `fn init(m: &Bound<PyModule>)`). */
  params?: string[];
  /** Named fields of a struct, variants of an enum. */
  fields?: RustField[];
  /** Flattened `use` tree. */
  uses?: RustUse[];
  /** Token text of a macro invocation (export_module!, create_exception!). */
  tokens?: string;
  /** `static X: ClassDef<T> = ClassDef::new(c"mod.Name")`. */
  classDef?: { type: string; pyName: string };
  /** `type A = b::C;`: the aliased path. */
  aliasOf?: string[];
}

/** A run-time module-building operation found in a function body. */
export interface RustModOp {
  op: 'function' | 'class' | 'submodule' | 'constant' | 'newmodule' | 'call' | 'exception';
  /** Index of the enclosing fn item (-1 at top level). */
  inFn: number;
  line: number;
  /** Receiver variable (`m` in `m.add_class::<T>()`). */
  recv?: string;
  /** Rust path of the function / class / wrapped module / called helper. */
  path?: string[];
  /** Variable holding a module (`let child = PyModule::new(..)`, `add_submodule(&child)`). */
  var?: string;
  /** Python name: constant / new module / exception. */
  name?: string;
  /** Plain identifiers passed to a helper call (`register(py, m)`). */
  args?: string[];
  /** Every argument of a helper call, as written (`"pkg.pe"`, `pe::module`): what the helper's
   *  parameters are bound to. */
  argv?: string[];
  /** `PyModule::new(py, name)` with the name a parameter of the enclosing fn. */
  nameParam?: string;
}

export interface RustMethodDef {
  name: string;
  /** Rust function (path) in `ml_meth`. */
  fn: string;
  line: number;
  /** The `static` holding the entry, when there is one. */
  table?: string;
}

export interface RustModuleDef {
  name: string;
  line: number;
  /** Identifiers in the `m_methods` value (the table's name among them). */
  methods?: string[];
}

/** A name a raw C-API module adds: `PyModule_AddIntConstant(m, c"OPT_X".as_ptr(), ..)`, directly or
 *  through a `macro_rules!` of the file (orjson's `opt!(mptr, c"OPT_X", ..)`). */
export interface RustModuleAttr {
  name: string;
  line: number;
  /** The adding call (`PyModule_AddIntConstant`). */
  call: string;
  /** The macro it was written through, if any. */
  via?: string;
}

/** `PyType_Spec { name: c"orjson.Fragment".as_ptr(), .. }`: a type's dotted name. */
export interface RustTypeSpec {
  name: string;
  line: number;
}

export interface RustFileFacts {
  version: number;
  items: RustItem[];
  ops: RustModOp[];
  methodDefs: RustMethodDef[];
  moduleDefs: RustModuleDef[];
  moduleAttrs?: RustModuleAttr[];
  typeSpecs?: RustTypeSpec[];
  /** `macro_rules!` whose expansion holds PyO3 items (`#[pyclass]`, `#[pymethods]`...). */
  pyMacros?: RustPyMacro[];
  /** Macro invocations in item position (`crate::make_decompressor!(brotli);`), which the
   *  linker expands when they name one of the crate's `pyMacros`. */
  macroCalls?: RustMacroCall[];
}

/** A `macro_rules!` one of whose arms writes PyO3 items: every arm, in order (the first that
 *  matches an invocation is the one Rust expands). */
export interface RustPyMacro {
  name: string;
  arms: MacroArm[];
}

export interface RustMacroCall {
  /** The macro's name (last path segment). */
  name: string;
  /** The arguments' text, without the delimiters. */
  args: string;
  line: number;
  /** Line of the arguments' opening delimiter. */
  argsLine?: number;
  /** Inline `mod x { }` path inside this file. */
  scope: string[];
}

const NEEDLES = [
  '#[py', 'pyo3', 'PyMethodDef', 'PyModuleDef', 'export_module!', 'ClassDef', 'PyInit_', 'PyModule_Add', 'PyType_Spec',
  'create_exception!', 'wrap_pyfunction!', 'wrap_pymodule!', 'add_class', 'add_function',
];

/** Cheap byte scan: could this file contribute bindings, or lead (`mod x;`) to files that do? */
export function rustNeedsParse(text: string): boolean {
  for (const n of NEEDLES) if (text.includes(n)) return true;
  // `mod x;` leads to more files; `pub use` re-exports are followed by `add_class::<T>` paths.
  return /^\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*;/m.test(text) || /^\s*pub(\([^)]*\))?\s+use\s/m.test(text);
}

// ---------------------------------------------------------------------------------------------

const lineOf = (n: SyntaxNode): number => n.startPosition.row + 1;

/** The text of the first string literal in `s` (`"a"`, `c"a"`, `"a\0"`, `c_str!("a")`). */
export function firstString(s: string): string | undefined {
  const m = /"((?:[^"\\]|\\.)*)"/.exec(s);
  if (!m) return undefined;
  return m[1].replace(/\\0$/, '');
}

/** Splits at top-level commas (not inside (), [], {}, <>, strings). */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  let str = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (str) {
      cur += ch;
      if (ch === '\\') cur += s[++i] ?? '';
      else if (ch === '"') str = false;
      continue;
    }
    if (ch === '"') str = true;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

const unquote = (s: string): string => {
  const t = s.trim();
  return t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
};

export function parseAttr(text: string): RustAttr | undefined {
  const inner = text.replace(/^#!?\[/, '').replace(/\]$/, '').trim();
  const m = /^([A-Za-z_][\w:]*)\s*/.exec(inner);
  if (!m) return undefined;
  const attr: RustAttr = { name: m[1].replace(/^pyo3::/, ''), pos: [], kv: {} };
  const rest = inner.slice(m[0].length);
  if (rest.startsWith('(') && rest.endsWith(')')) {
    for (const part of splitTop(rest.slice(1, -1))) {
      const eq = /^([A-Za-z_]\w*)\s*=\s*([\s\S]*)$/.exec(part);
      if (eq) attr.kv[eq[1]] = unquote(eq[2]);
      else attr.pos.push(unquote(part));
    }
  } else if (rest.startsWith('=')) {
    attr.pos.push(unquote(rest.slice(1)));
  }
  return attr;
}

/** Attributes written before `node` (skipping comments). */
function attrsBefore(node: SyntaxNode): RustAttr[] {
  const out: RustAttr[] = [];
  for (let s = node.previousNamedSibling; s; s = s.previousNamedSibling) {
    if (s.type === 'attribute_item') {
      const a = parseAttr(s.text);
      if (a) out.unshift(a);
    } else if (s.type !== 'line_comment' && s.type !== 'block_comment') break;
  }
  return out;
}

function flattenUse(node: SyntaxNode, prefix: string[], out: RustUse[]): void {
  switch (node.type) {
    case 'scoped_use_list': {
      const path = node.childForFieldName('path');
      const list = node.childForFieldName('list');
      const p = path ? [...prefix, ...pathSegs(path.text)] : prefix;
      if (list) for (const c of list.namedChildren) flattenUse(c, p, out);
      return;
    }
    case 'use_list':
      for (const c of node.namedChildren) flattenUse(c, prefix, out);
      return;
    case 'use_as_clause': {
      const path = node.childForFieldName('path');
      const alias = node.childForFieldName('alias');
      if (path && alias) out.push({ path: [...prefix, ...pathSegs(path.text)], local: alias.text });
      return;
    }
    case 'use_wildcard': {
      const inner = node.namedChildren[0];
      out.push({ path: inner ? [...prefix, ...pathSegs(inner.text)] : prefix, local: '*' });
      return;
    }
    case 'line_comment':
    case 'block_comment':
      return;
    default: {
      const segs = [...prefix, ...pathSegs(node.text)];
      const last = segs[segs.length - 1];
      out.push({ path: segs[segs.length - 1] === 'self' ? segs.slice(0, -1) : segs, local: last === 'self' ? segs[segs.length - 2] : last });
    }
  }
}

/** "a :: b::<T>::c" -> ["a", "b", "c"] (generic arguments and `r#` dropped). */
export function pathSegs(text: string): string[] {
  let t = text;
  let prev = '';
  while (prev !== t) {
    prev = t;
    t = t.replace(/<[^<>]*>/g, '');
  }
  return t
    .replace(/^&\s*(mut\s+)?/, '')
    .split('::')
    .map((s) => s.trim().replace(/^r#/, ''))
    .filter((s) => s.length > 0);
}

function typeName(node: SyntaxNode): string {
  const segs = pathSegs(node.text);
  return segs[segs.length - 1] ?? node.text;
}

function enclosing(node: SyntaxNode, type: string): SyntaxNode | null {
  for (let p = node.parent; p; p = p.parent) if (p.type === type) return p;
  return null;
}

function scopeOf(node: SyntaxNode): string[] {
  const out: string[] = [];
  for (let p = node.parent; p; p = p.parent) {
    if (p.type === 'mod_item') {
      const n = p.childForFieldName('name');
      if (n) out.unshift(n.text);
    }
  }
  return out;
}

/** A node's text with its comments cut out. */
function withoutComments(node: SyntaxNode): string {
  const comments = node.descendantsOfType(['line_comment', 'block_comment']);
  let text = node.text;
  for (const c of comments.reverse()) {
    const a = c.startIndex - node.startIndex;
    const b = c.endIndex - node.startIndex;
    text = text.slice(0, a) + text.slice(b);
  }
  return text;
}

/** Finds `name!(...)` inside `node`; returns the macro's token tree text without delimiters. */
function macroArgs(node: SyntaxNode, name: string): string | undefined {
  if (node.type === 'macro_invocation') {
    const m = node.childForFieldName('macro');
    if (m && pathSegs(m.text).pop() === name) {
      const tt = node.namedChildren.find((c) => c.type === 'token_tree');
      return tt ? tt.text.slice(1, -1) : '';
    }
  }
  for (const c of node.namedChildren) {
    const r = macroArgs(c, name);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** `&child`, `child.clone()`, `&wrap_pymodule!(x)(py)` -> the module variable or wrapped path. */
function submoduleArg(args: SyntaxNode): { var?: string; path?: string[] } {
  const wrapped = macroArgs(args, 'wrap_pymodule');
  if (wrapped !== undefined) return { path: pathSegs(splitTop(wrapped)[0] ?? '') };
  const first = args.namedChildren[0];
  if (!first) return {};
  const m = /^&?\s*(?:mut\s+)?([A-Za-z_]\w*)/.exec(first.text);
  return m ? { var: m[1] } : {};
}

const MODULE_METHODS = new Set(['add_function', 'add_wrapped', 'add_class', 'add_submodule', 'add', 'add_type']);

export function extractRust(text: string): RustFileFacts {
  const tree = parse('rust', text);
  const root = tree.rootNode;
  const facts: RustFileFacts = { version: RUST_EXTRACTOR_VERSION, items: [], ops: [], methodDefs: [], moduleDefs: [] };
  const index = new Map<number, number>(); // node id -> item index (fns and impls)

  // Items, in document order so enclosing fns / impls get their index first.
  const matches = queryFor('rust', 'items', itemsScm).matches(root);
  matches.sort((a, b) => a.captures[0].node.startIndex - b.captures[0].node.startIndex);
  for (const m of matches) {
    const itemCap = m.captures.find((c) => c.name.startsWith('item.'));
    const nameCap = m.captures.find((c) => c.name === 'name');
    if (!itemCap || !nameCap) continue;
    const node = itemCap.node;
    const kind = itemCap.name.slice(5) as RustItemKind;
    const item: RustItem = {
      kind,
      name: kind === 'impl' ? typeName(nameCap.node) : kind === 'macro' ? pathSegs(nameCap.node.text).pop() ?? '' : nameCap.node.text.replace(/^r#/, ''),
      line: lineOf(kind === 'use' ? node : nameCap.node),
      scope: scopeOf(node),
      attrs: attrsBefore(node),
    };
    if (kind === 'macro') {
      if (!['export_module', 'create_exception', 'import_exception'].includes(item.name)) {
        const at = node.parent?.type === 'expression_statement' ? node.parent.parent : node.parent;
        if (at && (at.type === 'source_file' || at.type === 'declaration_list') && !enclosing(node, 'function_item')) {
          const tt = node.namedChildren.find((c) => c.type === 'token_tree');
          if (tt) (facts.macroCalls ??= []).push({ name: item.name, args: withoutComments(tt).slice(1, -1), line: item.line, argsLine: lineOf(tt), scope: item.scope });
        }
        continue;
      }
      const tt = node.namedChildren.find((c) => c.type === 'token_tree');
      item.tokens = tt ? withoutComments(tt).slice(1, -1) : '';
    }
    if (node.namedChildren.some((c) => c.type === 'visibility_modifier')) item.pub = true;
    const fn = enclosing(node, 'function_item');
    if (fn && index.has(fn.id)) item.inFn = index.get(fn.id);
    const decl = node.parent;
    if (decl?.type === 'declaration_list' && decl.parent?.type === 'impl_item' && index.has(decl.parent.id)) {
      item.inImpl = index.get(decl.parent.id);
    }
    if (kind === 'mod') item.external = !node.childForFieldName('body');
    if (kind === 'fn') {
      const params = node.childForFieldName('parameters');
      item.params = [];
      for (const p of params?.namedChildren ?? []) {
        const pat = p.type === 'parameter' ? p.childForFieldName('pattern') : null;
        if (pat) item.params.push(pat.text.replace(/^mut\s+/, ''));
      }
    }
    if (kind === 'struct' || kind === 'enum') {
      const body = node.childForFieldName('body');
      item.fields = [];
      for (const f of body?.namedChildren ?? []) {
        if (f.type !== 'field_declaration' && f.type !== 'enum_variant') continue;
        const n = f.childForFieldName('name');
        if (!n) continue;
        const field: RustField = { name: n.text, line: lineOf(n), attrs: attrsBefore(f) };
        const vbody = f.type === 'enum_variant' ? f.childForFieldName('body') : null;
        if (vbody) {
          field.data = true;
          const members: { name: string; line: number }[] = [];
          if (vbody.type === 'field_declaration_list') {
            for (const m of vbody.namedChildren) {
              const mn = m.type === 'field_declaration' ? m.childForFieldName('name') : null;
              if (mn) members.push({ name: mn.text, line: lineOf(mn) });
            }
          } else {
            for (const m of vbody.namedChildren) if (m.type !== 'attribute_item' && m.type !== 'visibility_modifier') members.push({ name: `_${members.length}`, line: lineOf(m) });
          }
          if (members.length) field.members = members;
        }
        item.fields.push(field);
      }
    }
    if (kind === 'use') {
      item.name = '';
      item.uses = [];
      flattenUse(nameCap.node, [], item.uses);
    }
    if (kind === 'static') {
      const ty = node.childForFieldName('type');
      const value = node.childForFieldName('value');
      if (ty && value && /\bClassDef\s*</.test(ty.text) && /ClassDef::new/.test(value.text)) {
        const targ = /<\s*([\w:]+)\s*>/.exec(ty.text);
        const py = firstString(value.text.slice(value.text.indexOf('ClassDef::new')));
        if (targ && py) item.classDef = { type: targ[1].split('::').pop()!, pyName: py };
      }
    }
    if (kind === 'type') {
      const ty = node.childForFieldName('type');
      if (ty) item.aliasOf = pathSegs(ty.text);
    }
    if (kind === 'fn' || kind === 'impl') index.set(node.id, facts.items.length);
    facts.items.push(item);
  }

  const fnIndexOf = (n: SyntaxNode): number => {
    const fn = enclosing(n, 'function_item');
    return fn && index.has(fn.id) ? index.get(fn.id)! : -1;
  };

  // Module-building calls.
  for (const m of queryFor('rust', 'calls', callsScm).matches(root)) {
    const cap = (n: string): SyntaxNode | undefined => m.captures.find((c) => c.name === n)?.node;
    const call = cap('call.method') ?? cap('call.plain') ?? cap('let');
    if (!call) continue;
    const inFn = fnIndexOf(call);
    const line = lineOf(call);
    if (cap('let')) {
      const value = cap('value')!;
      const v = value.text;
      if (/\bPyModule::new(_bound)?\s*\(/.test(v)) {
        const name = firstString(v);
        if (name) facts.ops.push({ op: 'newmodule', inFn, line, var: cap('var')!.text, name });
        else {
          // A helper's `PyModule::new(py, name)`: named by its caller (pyxirr's add_submodule).
          const p = /\bPyModule::new(?:_bound)?\s*\(\s*[^,()]+,\s*&?\s*([A-Za-z_]\w*)\s*\)/.exec(v);
          if (p) facts.ops.push({ op: 'newmodule', inFn, line, var: cap('var')!.text, nameParam: p[1] });
        }
      }
      continue;
    }
    const args = cap('args')!;
    if (cap('call.plain')) {
      const fnText = cap('fn')!.text;
      const segs = pathSegs(fnText);
      const last = segs[segs.length - 1];
      if (last === 'new_exception' || last === 'new_exception_bound') {
        const name = firstString(args.text);
        if (name) facts.ops.push({ op: 'exception', inFn, line, name, path: segs });
        continue;
      }
      if (segs.length >= 2 && segs[segs.length - 2] === 'PyModule') continue;
      const idents = args.namedChildren
        .map((a) => /^&?\s*(?:mut\s+)?([A-Za-z_]\w*)$/.exec(a.text)?.[1])
        .filter((s): s is string => !!s);
      if (idents.length) {
        const argv = args.namedChildren.map((a) => (a.text.length > 200 ? '' : a.text.replace(/^&\s*/, '')));
        facts.ops.push({ op: 'call', inFn, line, path: segs, args: idents, argv });
      }
      continue;
    }
    const method = cap('method')!.text;
    if (!MODULE_METHODS.has(method)) continue;
    const recv = cap('recv')!.text.replace(/^&/, '');
    switch (method) {
      case 'add_function':
      case 'add_wrapped': {
        const w = macroArgs(args, 'wrap_pyfunction');
        if (w !== undefined) facts.ops.push({ op: 'function', inFn, line, recv, path: pathSegs(splitTop(w)[0] ?? '') });
        else {
          const pm = macroArgs(args, 'wrap_pymodule');
          if (pm !== undefined) facts.ops.push({ op: 'submodule', inFn, line, recv, path: pathSegs(splitTop(pm)[0] ?? '') });
        }
        break;
      }
      case 'add_class': {
        const targs = cap('targs');
        if (targs) facts.ops.push({ op: 'class', inFn, line, recv, path: pathSegs(targs.text.slice(1, -1)) });
        break;
      }
      case 'add_submodule':
        facts.ops.push({ op: 'submodule', inFn, line, recv, ...submoduleArg(args) });
        break;
      case 'add': {
        // PyO3: m.add("NAME", v); cpython-api: m.add(ts, c"NAME", v).
        const lits = args.namedChildren.filter((a) => a.type === 'string_literal');
        if (lits.length && (args.namedChildren[0] === lits[0] || args.namedChildren[1] === lits[0])) {
          facts.ops.push({ op: 'constant', inFn, line, recv, name: firstString(lits[0].text)! });
        } else {
          // `parent.add(<name expr>, child)`: a module variable added under a computed name.
          const last = args.namedChildren[args.namedChildren.length - 1];
          const v = last && /^&?\s*([A-Za-z_]\w*)$/.exec(last.text)?.[1];
          if (v && args.namedChildren.length === 2) facts.ops.push({ op: 'submodule', inFn, line, recv, var: v });
        }
        break;
      }
      default:
        break;
    }
  }

  // Raw C-API struct literals.
  for (const m of queryFor('rust', 'ffi', ffiScm).matches(root)) {
    const type = typeName(m.captures.find((c) => c.name === 'type')!.node);
    if (type !== 'PyMethodDef' && type !== 'PyModuleDef' && type !== 'PyType_Spec') continue;
    const fields = m.captures.find((c) => c.name === 'fields')!.node;
    const field = (name: string): SyntaxNode | undefined =>
      fields.namedChildren.find((f) => f.type === 'field_initializer' && f.childForFieldName('field')?.text === name);
    if (type === 'PyType_Spec') {
      const nameField = field('name');
      const name = nameField ? firstString(nameField.text) : undefined;
      if (name && nameField) (facts.typeSpecs ??= []).push({ name, line: lineOf(nameField) });
      continue;
    }
    const staticNode = enclosing(fields, 'static_item');
    const table = staticNode?.childForFieldName('name')?.text;
    if (type === 'PyMethodDef') {
      const nameField = field('ml_name');
      const meth = field('ml_meth')?.childForFieldName('value');
      const name = nameField ? firstString(nameField.text) : undefined;
      if (!name || !nameField || !meth) continue;
      const fn = methFunction(meth);
      if (fn) facts.methodDefs.push({ name, fn, line: lineOf(nameField), ...(table ? { table } : {}) });
    } else {
      const nameField = field('m_name');
      const name = nameField ? firstString(nameField.text) : undefined;
      if (!name || !nameField) continue;
      const methods = field('m_methods')?.childForFieldName('value');
      const idents = methods ? methods.text.match(/[A-Za-z_]\w*/g) ?? [] : [];
      facts.moduleDefs.push({ name, line: lineOf(nameField), ...(idents.length ? { methods: idents } : {}) });
    }
  }
  const attrs = rawModuleAttrs(text);
  if (attrs.length) facts.moduleAttrs = attrs;
  if (text.includes('macro_rules!') && text.includes('#[py')) {
    const macros = pyMacrosOf(text);
    if (macros.length) facts.pyMacros = macros;
  }
  return facts;
}

/** The `macro_rules!` of a text that write PyO3 items in one of their arms. */
export function pyMacrosOf(text: string): RustPyMacro[] {
  const out: RustPyMacro[] = [];
  const re = /\bmacro_rules!\s*([A-Za-z_]\w*)\s*\{/g;
  const lineAt = (offset: number): number => {
    let line = 1;
    for (let k = text.indexOf('\n'); k >= 0 && k < offset; k = text.indexOf('\n', k + 1)) line++;
    return line;
  };
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const end = closeOf(text, m.index + m[0].length - 1);
    if (end < 0) continue;
    const arms: MacroArm[] = [];
    let py = false;
    let i = m.index + m[0].length;
    while (i < end) {
      while (i < end && /[\s;]/.test(text[i])) i++;
      if (i >= end || !'([{'.includes(text[i])) break;
      const mEnd = closeOf(text, i);
      if (mEnd < 0) break;
      const mStart = i + 1;
      i = mEnd + 1;
      while (i < end && /\s/.test(text[i])) i++;
      if (text.slice(i, i + 2) !== '=>') break;
      i += 2;
      while (i < end && /\s/.test(text[i])) i++;
      if (!'([{'.includes(text[i])) break;
      const tEnd = closeOf(text, i);
      if (tEnd < 0) break;
      const body = text.slice(i + 1, tEnd);
      if (/#\[(?:pyo3::)?py(?:class|methods|function)\b/.test(body)) py = true;
      arms.push({ matcher: text.slice(mStart, mEnd), matcherLine: lineAt(mStart), body, line: lineAt(i + 1) });
      i = tEnd + 1;
    }
    if (py && arms.length) out.push({ name: m[1], arms });
  }
  return out;
}

/** The offset of the delimiter closing the one at `open` (strings, chars and comments skipped);
 *  -1 when it is not closed. */
function closeOf(text: string, open: number): number {
  const stack: string[] = [];
  const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      const e = text.indexOf('\n', i);
      if (e < 0) return -1;
      i = e;
    } else if (c === '/' && text[i + 1] === '*') {
      const e = text.indexOf('*/', i + 2);
      if (e < 0) return -1;
      i = e + 1;
    } else if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (pairs[c]) {
      stack.push(pairs[c]);
    } else if (c === ')' || c === ']' || c === '}') {
      if (stack.pop() !== c) return -1;
      if (!stack.length) return i;
    }
  }
  return -1;
}

const RAW_ADDER = /\b(PyModule_Add(?:IntConstant|StringConstant|ObjectRef|Object)?)\s*\(/g;

/**
 * Names added by raw C-API calls, read from the text (macro invocations are token trees to the
 * parser): direct calls, and invocations of this file's `macro_rules!` whose body makes such a
 * call with one of the macro's parameters as the name.
 */
function rawModuleAttrs(text: string): RustModuleAttr[] {
  if (!text.includes('PyModule_Add')) return [];
  const out: RustModuleAttr[] = [];
  const lines = new LineIndex(text);
  const lineAt = (i: number): number => lines.lineAt(i);
  // macro_rules! NAME { ($a:expr, $name:expr, ..) => { .. PyModule_Add..($a, $name.as_ptr(), ..) .. } }
  const macros = new Map<string, { param: number; call: string }>();
  const bodies: [number, number][] = [];
  const macroRe = /\bmacro_rules!\s*([A-Za-z_]\w*)\s*\{/g;
  for (let m = macroRe.exec(text); m; m = macroRe.exec(text)) {
    const open = m.index + m[0].length - 1;
    const close = matchClose(text, open);
    bodies.push([m.index, close]);
    const body = text.slice(open + 1, close);
    const rule = /\(([^()]*)\)\s*=>/.exec(body);
    if (!rule) continue;
    const params = rule[1].split(',').map((p) => /\$(\w+)/.exec(p)?.[1] ?? '');
    RAW_ADDER.lastIndex = 0;
    for (let c = RAW_ADDER.exec(body); c; c = RAW_ADDER.exec(body)) {
      const args = rustArgs(body, c.index + c[0].length - 1);
      const p = /^\$(\w+)/.exec(args?.[1]?.trim() ?? '')?.[1];
      const i = p ? params.indexOf(p) : -1;
      if (i >= 0 && !macros.has(m[1])) macros.set(m[1], { param: i, call: c[1] });
    }
  }
  const inMacro = (i: number): boolean => bodies.some(([a, b]) => i >= a && i < b);
  RAW_ADDER.lastIndex = 0;
  for (let c = RAW_ADDER.exec(text); c; c = RAW_ADDER.exec(text)) {
    if (inMacro(c.index) || text[c.index - 1] === '!' || /fn\s+$/.test(text.slice(Math.max(0, c.index - 8), c.index))) continue;
    const name = firstString(rustArgs(text, c.index + c[0].length - 1)?.[1] ?? '');
    if (name) out.push({ name, line: lineAt(c.index), call: c[1] });
  }
  if (macros.size) {
    const useRe = new RegExp(`\\b(${[...macros.keys()].join('|')})!\\s*\\(`, 'g');
    for (let u = useRe.exec(text); u; u = useRe.exec(text)) {
      if (inMacro(u.index)) continue;
      const mac = macros.get(u[1])!;
      const name = firstString(rustArgs(text, u.index + u[0].length - 1)?.[mac.param] ?? '');
      if (name) out.push({ name, line: lineAt(u.index), call: mac.call, via: `${u[1]}!` });
    }
  }
  return out;
}

/** The index of the bracket closing the one at `open` (strings skipped), or the text's end. */
function matchClose(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (ch === '(' || ch === '[' || ch === '{') {
      depth++;
    } else if ((ch === ')' || ch === ']' || ch === '}') && --depth === 0) {
      return i;
    }
  }
  return text.length;
}

/** The top-level arguments of the call whose `(` is at `open`. */
function rustArgs(text: string, open: number): string[] | undefined {
  const close = matchClose(text, open);
  if (close >= text.length) return undefined;
  const out: string[] = [];
  let depth = 0, cur = '';
  for (let i = open + 1; i < close; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      for (; j < close && text[j] !== '"'; j++) if (text[j] === '\\') j++;
      cur += text.slice(i, j + 1);
      i = j;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** The Rust function named in an `ml_meth` value: `PyMethodDefPointer { PyCFunctionFast: f }`,
 *  `Some(f)`, `f as PyCFunction`, `transmute::<..>(f)`. */
function methFunction(v: SyntaxNode): string | undefined {
  if (v.type === 'identifier') return v.text;
  if (v.type === 'scoped_identifier') return pathSegs(v.text).join('::');
  if (v.type === 'struct_expression') {
    const body = v.childForFieldName('body');
    for (const f of body?.namedChildren ?? []) {
      const val = f.type === 'field_initializer' ? f.childForFieldName('value') : f.type === 'shorthand_field_initializer' ? f : null;
      if (val) {
        const r = methFunction(val);
        if (r) return r;
      }
    }
    return undefined;
  }
  if (v.type === 'type_cast_expression') {
    const val = v.childForFieldName('value');
    return val ? methFunction(val) : undefined;
  }
  if (v.type === 'call_expression') {
    const args = v.childForFieldName('arguments');
    const a = args?.namedChildren[args.namedChildren.length - 1];
    return a ? methFunction(a) : undefined;
  }
  if (v.type === 'unsafe_block' || v.type === 'block' || v.type === 'parenthesized_expression') {
    const last = v.namedChildren[v.namedChildren.length - 1];
    return last ? methFunction(last.type === 'expression_statement' ? last.namedChildren[0] ?? last : last) : undefined;
  }
  return undefined;
}
