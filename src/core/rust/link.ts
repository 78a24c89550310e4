/**
 * Rust linker: the facts of every .rs file of one crate -> Bindings of fully qualified Python
 * names. Rust module paths come from file paths under `src/` plus inline `mod x { }`; `use`
 * paths (including `pub use` re-exports and globs) are followed across the crate.
 */
import type { LinkOutput, Style, TargetKind } from '../model';
import type { RustAttr, RustFileFacts, RustItem, RustModOp, RustPyMacro } from './extract';
import { extractRust, pathSegs } from './extract';
import { expandMacro } from './macroRules';

export interface RustCrate {
  /** Absolute directory holding Cargo.toml. */
  root: string;
  /** Its text. */
  cargoToml: string;
  /** Text of the pyproject.toml that configures it (maturin's settings), if any. */
  pyprojectToml?: string;
  /** The dotted module its packaging says it builds (maturin's module-name, setuptools-rust's
   *  target), when known from elsewhere than `pyprojectToml`. */
  moduleName?: string;
  /** Other dotted modules other packagings build the crate as (see packaging.ts). */
  alsoNames?: string[];
  /** Absolute .rs path -> facts. */
  files: Map<string, RustFileFacts>;
}

// --- a tiny TOML reader: `[section]` headers and `key = "string"` lines -----------------------

export function tomlString(text: string, section: string, key: string): string | undefined {
  let cur = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    const h = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (h) {
      cur = h[1];
      continue;
    }
    if (cur !== section) continue;
    const kv = /^("?)([\w.-]+)\1\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(line);
    if (kv && kv[2] === key) return kv[3] ?? kv[4];
  }
  return undefined;
}

/**
 * Whether PyO3 gives a #[pyclass] without #[new] a `__new__` that raises "No constructor defined":
 * PyO3 before 0.26 always did; from 0.26 only for builds whose minimum Python is below 3.10
 * (`abi3-py37`..`abi3-py39`), others set Py_TPFLAGS_DISALLOW_INSTANTIATION (no `__new__`).
 * Undefined when Cargo.toml does not say (a workspace dependency).
 */
export function pyo3StubNew(cargoToml: string): boolean | undefined {
  const inline = /^\s*pyo3\s*=\s*(?:"([^"]+)"|\{([^}\n]*)\})/m.exec(cargoToml);
  let version = inline?.[1] ?? (inline?.[2] ? /\bversion\s*=\s*"([^"]+)"/.exec(inline[2])?.[1] : undefined);
  version ??= tomlString(cargoToml, 'dependencies.pyo3', 'version');
  const m = version ? /^[\^~=]?\s*0\.(\d+)/.exec(version.trim()) : null;
  if (/\babi3-py3[5-9]\b/.test(cargoToml)) return true;
  if (!m) return undefined;
  return Number(m[1]) < 26;
}

// --- crate model -------------------------------------------------------------------------------

interface ItemRef {
  file: string;
  idx: number;
  item: RustItem;
  /** Full module path of the item's scope (file module + inline mods). */
  mod: string[];
}

interface ModScope {
  items: Map<string, ItemRef[]>;
  uses: Map<string, { path: string[]; from: string[] }>;
  globs: { path: string[]; from: string[] }[];
  children: Set<string>;
}

interface Resolved {
  ref?: ItemRef;
  module?: string[];
}

const key = (p: string[]): string => p.join('::');
const attr = (it: RustItem, name: string): RustAttr | undefined => it.attrs.find((a) => a.name === name);
const has = (it: RustItem, name: string): boolean => it.attrs.some((a) => a.name === name);

/** Where a crate's modules live: the directory of its root file, and that file when Cargo.toml
 *  names one (`[lib] path = "lib.rs"`, `path = "src/python.rs"`); else `src/` with lib.rs. */
interface SrcLayout {
  dir: string;
  rootFile?: string;
}

const normPath = (s: string): string => s.replace(/\\/g, '/').replace(/\/\.\//g, '/').replace(/\/+$/, '');

function fileModule(layout: SrcLayout, file: string): string[] | undefined {
  const f = normPath(file);
  if (layout.rootFile && f === normPath(layout.rootFile)) return [];
  const base = normPath(layout.dir);
  if (!f.startsWith(base + '/')) return undefined;
  const segs = f.slice(base.length + 1).replace(/\.rs$/, '').split('/');
  const last = segs[segs.length - 1];
  if (!layout.rootFile && segs.length === 1 && (last === 'lib' || last === 'main')) return [];
  if (last === 'mod') segs.pop();
  return segs;
}

/** The module path of a file of the crate (outside the source dir: its own name). */
function moduleOfFile(layout: SrcLayout, file: string): string[] {
  return fileModule(layout, file) ?? [file.replace(/^.*[\\/]/, '').replace(/\.rs$/, '')];
}

/** An expansion's items are keyed by the macro's file, this separator and where it was invoked:
 *  the targets name the file (`realFile`), the crate model tells expansions apart. */
const EXPANSION = '\0';
const realFile = (file: string): string => {
  const i = file.indexOf(EXPANSION);
  return i < 0 ? file : file.slice(0, i);
};

/** Item-position invocations of the crate's PyO3-item macros (`make_decompressor!(brotli)`,
 *  rustworkx's `custom_vec_iter_impl!(...)`), expanded: the transcriber with each `$param` made
 *  the argument (newlines made spaces, so each item keeps its line in the macro), extracted, and
 *  placed in the invoking module. `extract` is the Rust extractor (a parse). */
function expandPyMacros(c: RustCrate, layout: SrcLayout, extract: (text: string) => RustFileFacts): Expansion[] {
  const macros = new Map<string, { file: string; m: RustPyMacro }>();
  for (const [file, f] of c.files) for (const m of f.pyMacros ?? []) if (!macros.has(m.name)) macros.set(m.name, { file, m });
  if (!macros.size) return [];
  const out: Expansion[] = [];
  for (const [file, f] of c.files) {
    for (const call of f.macroCalls ?? []) {
      const def = macros.get(call.name);
      if (!def) continue;
      const expanded = expandMacro(def.m.arms, call.args, call.argsLine ?? call.line);
      if (!expanded) continue;
      let facts: RustFileFacts;
      try {
        facts = extract(expanded.text);
      } catch {
        continue;
      }
      // An expansion's line: where it was written. Tokens the invocation handed on keep their
      // lines when it is in the macro's own file; elsewhere, the line they were put on.
      const lineOf = (l: number): number => {
        const at = expanded.lines[l - 1];
        if (!at) return l;
        return at.from === 0 || file === def.file ? at.line : at.at;
      };
      const items = facts.items.map((it) => ({
        ...it,
        line: lineOf(it.line),
        scope: [...call.scope, ...it.scope],
        ...(it.fields ? { fields: it.fields.map((fl) => ({ ...fl, line: lineOf(fl.line), ...(fl.members ? { members: fl.members.map((x) => ({ ...x, line: lineOf(x.line) })) } : {}) })) } : {}),
      }));
      const ops = facts.ops.map((o) => ({ ...o, line: lineOf(o.line) }));
      out.push({ file: `${def.file}${EXPANSION}${file}:${call.line}`, facts: { ...facts, items, ops }, fmod: moduleOfFile(layout, file) });
    }
  }
  return out;
}

interface Expansion {
  file: string;
  facts: RustFileFacts;
  fmod: string[];
}

/** A macro invocation's arguments (or `export_module!`'s fields), split at top-level commas. */
function splitMacroArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) if (text[j] === '\\') j++;
      cur += text.slice(i, j + 1);
      i = j;
      continue;
    }
    if ('([{<'.includes(ch)) depth++;
    else if (')]}>'.includes(ch) && depth > 0) depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

class Crate {
  readonly scopes = new Map<string, ModScope>();
  readonly refs: ItemRef[] = [];
  readonly byFile = new Map<string, ItemRef[]>();

  constructor(c: RustCrate, layout: SrcLayout, expansions: Expansion[] = []) {
    const entries: { file: string; facts: RustFileFacts; fmod?: string[] }[] = [...c.files].map(([file, facts]) => ({ file, facts }));
    entries.push(...expansions);
    for (const { file, facts, fmod: given } of entries) {
      const fmod = given ?? moduleOfFile(layout, file);
      const list: ItemRef[] = [];
      facts.items.forEach((item, idx) => {
        const ref: ItemRef = { file, idx, item, mod: [...fmod, ...item.scope] };
        list.push(ref);
        this.refs.push(ref);
        if (item.inFn !== undefined || item.inImpl !== undefined) return;
        const s = this.scope(ref.mod);
        if (item.kind === 'use') {
          for (const u of item.uses ?? []) {
            if (u.local === '*') s.globs.push({ path: u.path, from: ref.mod });
            else if (u.local !== '_') s.uses.set(u.local, { path: u.path, from: ref.mod });
          }
        } else if (item.kind === 'macro' && (item.name === 'create_exception' || item.name === 'import_exception')) {
          // The type such an invocation declares is an item of its module (`use crate::e::Error`).
          const declared = exceptionOf(item);
          if (declared) {
            const l = s.items.get(declared) ?? [];
            l.push(ref);
            s.items.set(declared, l);
          }
        } else if (item.kind !== 'impl' && item.kind !== 'macro') {
          const l = s.items.get(item.name) ?? [];
          l.push(ref);
          s.items.set(item.name, l);
          if (item.kind === 'mod') s.children.add(item.name);
        }
      });
      this.byFile.set(file, list);
      this.scope(fmod);
    }
  }

  scope(p: string[]): ModScope {
    let s = this.scopes.get(key(p));
    if (!s) {
      s = { items: new Map(), uses: new Map(), globs: [], children: new Set() };
      this.scopes.set(key(p), s);
    }
    return s;
  }

  /** (module, name) pairs being looked up: a `use` / glob cycle ends there. */
  private readonly active = new Set<string>();
  /** Lookups done: what they found, and for a failure the pairs being looked up whose cycles
   *  cut it short (it holds while those are still being looked up; none: it always holds).
   *  Without it, a crate whose modules glob-import one another (rustworkx: `use tree::*` in
   *  lib.rs, `use super::{graph, …}` in tree.rs) is walked once per path: exponentially. */
  private readonly memo = new Map<string, { found: Resolved | undefined; cutBy?: Set<string> }>();
  /** Per lookup running, innermost last: the pairs outside it whose cycles cut it short. */
  private readonly cuts: Set<string>[] = [];

  private lookup(mod: string[], name: string, depth: number): Resolved | undefined {
    const k = `${key(mod)}#${name}`;
    const known = this.memo.get(k);
    if (known && (!known.cutBy || [...known.cutBy].every((c) => this.active.has(c)))) {
      if (known.cutBy) this.cutShort(known.cutBy);
      return known.found;
    }
    if (depth > 24) {
      this.cutShort([DEPTH_CUT]); // never holds elsewhere
      return undefined;
    }
    if (this.active.has(k)) {
      this.cutShort([k]);
      return undefined;
    }
    this.active.add(k);
    const cutBy = new Set<string>();
    this.cuts.push(cutBy);
    let found: Resolved | undefined;
    try {
      found = this.lookupIn(mod, name, depth);
    } finally {
      this.cuts.pop();
      this.active.delete(k);
    }
    cutBy.delete(k); // its own cycles are settled here
    this.memo.set(k, found || !cutBy.size ? { found } : { found, cutBy });
    if (!found && cutBy.size) this.cutShort(cutBy);
    return found;
  }

  private cutShort(by: Iterable<string>): void {
    const top = this.cuts[this.cuts.length - 1];
    if (top) for (const c of by) top.add(c);
  }

  private lookupIn(mod: string[], name: string, depth: number): Resolved | undefined {
    const s = this.scopes.get(key(mod));
    if (!s) return undefined;
    const items = s.items.get(name);
    if (items?.length) {
      // Prefer a definition over a `mod` of the same name only when asked for an item.
      const best = items.find((r) => r.item.kind !== 'mod') ?? items[0];
      if (best.item.kind === 'type' && best.item.aliasOf) return this.resolve(best.mod, best.item.aliasOf, depth + 1) ?? { ref: best };
      return best.item.kind === 'mod' ? { ref: best, module: [...mod, name] } : { ref: best };
    }
    if (this.scopes.has(key([...mod, name]))) return { module: [...mod, name] };
    const u = s.uses.get(name);
    if (u) return this.resolve(u.from, u.path, depth + 1);
    for (const g of s.globs) {
      const m = this.resolve(g.from, g.path, depth + 1);
      if (m?.module) {
        const r = this.lookup(m.module, name, depth + 1);
        if (r) return r;
      }
    }
    return undefined;
  }

  /** Resolves a Rust path written in module `from`. */
  resolve(from: string[], segs: string[], depth = 0): Resolved | undefined {
    if (!segs.length || depth > 24) return undefined;
    let cur: string[] | undefined;
    let i = 0;
    if (segs[0] === 'crate' || segs[0] === '$crate') {
      cur = [];
      i = 1;
    } else if (segs[0] === 'self' || segs[0] === 'super') {
      cur = [...from];
      while (segs[i] === 'self' || segs[i] === 'super') {
        if (segs[i] === 'super') cur.pop();
        i++;
      }
    } else {
      const first = this.lookup(from, segs[0], depth) ?? this.lookup([], segs[0], depth);
      if (!first) return undefined;
      if (segs.length === 1) return first;
      cur = first.module;
      i = 1;
    }
    if (i === segs.length) return { module: cur };
    for (; i < segs.length - 1; i++) {
      if (!cur) return undefined;
      cur = this.lookup(cur, segs[i], depth + 1)?.module;
    }
    return cur ? this.lookup(cur, segs[segs.length - 1], depth + 1) : undefined;
  }

  /** Item refs of `file` by index. */
  at(file: string, idx: number): ItemRef | undefined {
    return this.byFile.get(file)?.[idx];
  }
}

/** A lookup cut short by the depth bound: its failure holds nowhere else. */
const DEPTH_CUT = '\0depth';

// --- Python module tree (PyO3) -----------------------------------------------------------------

interface PyMod {
  pyName: string;
  symbol: string;
  file: string;
  line: number;
  evidence: string;
  functions: { ref: ItemRef; evidence: string }[];
  classes: ItemRef[];
  constants: { name: string; file: string; line: number; evidence: string }[];
  /** create_exception! types exported by `#[pymodule_export] use` (`name` as Python sees it). */
  exceptions?: { ref: ItemRef; name: string }[];
  children: PyMod[];
  /** The item that declares it (`#[pymodule]` fn or mod), if any. */
  decl?: ItemRef;
  /** A dotted `PyModule::new` name (`"pyxirr.pe"`): also reachable by it (its `__name__`,
   *  which helpers put in `sys.modules`). */
  fullName?: string;
  isChild?: boolean;
}

function pymoduleName(it: RustItem): string {
  const pm = attr(it, 'pymodule');
  const pyo3 = attr(it, 'pyo3');
  return pm?.kv.name ?? pyo3?.kv.name ?? pm?.pos.find((p) => /^"/.test(p) || /^\w+$/.test(p) && p !== 'submodule' && p !== 'gil_used') ?? it.name.replace(/^r#/, '');
}

function pyfunctionName(it: RustItem): string {
  const pyo3 = attr(it, 'pyo3');
  const pf = attr(it, 'pyfunction');
  const pyfn = attr(it, 'pyfn');
  return pyo3?.kv.name ?? pf?.kv.name ?? (pyfn && pyfn.pos.length > 1 ? pyfn.pos[1] : undefined) ?? it.name;
}

function pyclassName(it: RustItem): string {
  return attr(it, 'pyclass')?.kv.name ?? attr(it, 'pyo3')?.kv.name ?? it.name;
}

// --- the linker --------------------------------------------------------------------------------

export function linkRustCrate(c: RustCrate): LinkOutput {
  const out: LinkOutput = { bindings: [], aliases: [], warnings: [] };
  const libPath = tomlString(c.cargoToml, 'lib', 'path');
  const rootFile = libPath ? `${c.root}/${libPath.replace(/^(?:\.\/)+/, '')}` : undefined;
  const layout: SrcLayout = rootFile ? { dir: rootFile.replace(/\/[^/]*$/, ''), rootFile } : { dir: `${c.root}/src` };
  const crate = new Crate(c, layout, expandPyMacros(c, layout, extractRust));
  const libName = tomlString(c.cargoToml, 'lib', 'name') ?? tomlString(c.cargoToml, 'package', 'name')?.replace(/-/g, '_');
  const maturinName = c.moduleName ?? (c.pyprojectToml ? tomlString(c.pyprojectToml, 'tool.maturin', 'module-name') : undefined);
  const cpythonApi = /cpython[-_]api/.test(c.cargoToml) || crate.refs.some((r) => r.item.kind === 'macro' && r.item.name === 'export_module');
  const stubNew = pyo3StubNew(c.cargoToml) === true;

  const emit = (name: string, kind: TargetKind, at: string, line: number, symbol: string, style: Style, evidence: string, rank = 0): void => {
    const file = realFile(at);
    name = name.replace(/(^|\.)r#/g, '$1');
    out.bindings.push({ name, target: { language: 'rust', kind, file, line, symbol, style, evidence, rank } });
  };

  // #[pymethods] impls, keyed by the struct they implement.
  const implsOf = new Map<ItemRef, ItemRef[]>();
  for (const r of crate.refs) {
    if (r.item.kind !== 'impl' || !has(r.item, 'pymethods')) continue;
    const target = crate.resolve(r.mod, [r.item.name])?.ref ?? crate.refs.find((s) => (s.item.kind === 'struct' || s.item.kind === 'enum') && s.item.name === r.item.name);
    if (!target) {
      out.warnings.push(`#[pymethods] impl ${r.item.name} in ${realFile(r.file)}: type not found`);
      continue;
    }
    const l = implsOf.get(target) ?? [];
    l.push(r);
    implsOf.set(target, l);
  }
  const membersOf = (impl: ItemRef): ItemRef[] => (crate.byFile.get(impl.file) ?? []).filter((m) => m.item.inImpl === impl.idx);

  const emitClass = (cls: ItemRef, qual: string, style: Style, evidence: string, rank = 0): void => {
    emit(qual, 'class', cls.file, cls.item.line, cls.item.name, style, evidence, rank);
    const pc = attr(cls.item, 'pyclass');
    const getAll = pc ? 'get_all' in pc.kv || pc.pos.includes('get_all') || pc.pos.includes('set_all') : false;
    for (const f of cls.item.fields ?? []) {
      if (cls.item.kind === 'enum') {
        if (style !== 'pyo3') continue;
        const variant = `${qual}.${attr2name(f.attrs) ?? f.name}`;
        emit(variant, 'classattr', cls.file, f.line, f.name, style, `variant of #[pyclass] enum \`${cls.item.name}\``, rank);
        // A data variant is a class of its own: a getter per field, and the constructor and
        // `__match_args__` PyO3 writes from the fields.
        for (const m of f.members ?? []) emit(`${variant}.${m.name}`, 'getter', cls.file, m.line, m.name, style, `field of variant \`${cls.item.name}::${f.name}\``, rank);
        if (f.data) {
          emit(`${variant}.__new__`, 'constructor', cls.file, f.line, f.name, style, `variant \`${f.name}\` (PyO3 builds it from its fields)`, rank + 1);
          emit(`${variant}.__match_args__`, 'classattr', cls.file, f.line, f.name, style, `variant \`${f.name}\`'s fields (PyO3)`, rank + 1);
        }
        continue;
      }
      const po = f.attrs.find((a) => a.name === 'pyo3');
      if (getAll || (po && (po.pos.includes('get') || po.pos.includes('set')))) {
        const how = po && (po.pos.includes('get') || po.pos.includes('set')) ? `#[pyo3(${po.pos.filter((p) => p === 'get' || p === 'set').join(', ')})]` : '#[pyclass(get_all)]';
        emit(`${qual}.${po?.kv.name ?? f.name}`, 'member', cls.file, f.line, f.name, style, `${how} field of \`${cls.item.name}\``, rank);
      }
    }
    const made = new Map<string, ItemRef>();
    for (const impl of implsOf.get(cls) ?? []) {
      for (const m of membersOf(impl)) {
        if (m.item.kind !== 'fn' && m.item.kind !== 'const') continue;
        const b = style === 'cpython-api' ? cpythonApiMethod(m.item) : pyo3Method(m.item);
        if (!b) continue;
        if (!made.has(b.name)) made.set(b.name, m);
        emit(`${qual}.${b.name}`, b.kind, m.file, m.item.line, m.item.name, style, `${b.evidence} on \`${cls.item.name}\``, rank + (b.kind === 'setter' ? 1 : 0));
      }
    }
    // What Python sees without a fn of that name: a #[new] class has no __init__ of its own, so
    // `X(...)`'s arguments go to #[new]; __richcmp__ serves each comparison; #[pyclass(eq, ord,
    // hash, str)] derive them from the Rust traits of the type.
    const also = (name: string, at: ItemRef, kind: TargetKind, evidence: string): void => {
      if (made.has(name)) return;
      made.set(name, at);
      emit(`${qual}.${name}`, kind, at.file, at.item.line, at.item.name, style, evidence, rank + 1);
    };
    const ctor = made.get('__new__');
    if (ctor) also('__init__', ctor, 'constructor', `#[new] on \`${cls.item.name}\` (no __init__: #[new] takes the arguments)`);
    else if (style === 'pyo3' && stubNew) also('__new__', cls, 'constructor', `no #[new] on \`${cls.item.name}\`: PyO3's __new__ raises TypeError`);
    const richcmp = made.get('__richcmp__');
    if (richcmp) for (const op of COMPARISONS) also(op, richcmp, 'slot', `\`__richcmp__\` on \`${cls.item.name}\``);
    // PyO3 answers `!=` with the negation of `__eq__` when there is no `__ne__`; the buffer
    // protocol's Python names are not its Rust ones.
    const eq = made.get('__eq__');
    if (eq) also('__ne__', eq, 'slot', `\`__eq__\` on \`${cls.item.name}\` (PyO3 derives \`__ne__\`)`);
    for (const [rust, py] of [['__getbuffer__', '__buffer__'], ['__releasebuffer__', '__release_buffer__']]) {
      const fn = made.get(rust);
      if (fn) also(py, fn, 'slot', `\`${rust}\` on \`${cls.item.name}\``);
    }
    if (pc && style === 'pyo3') {
      // (`eq_int` on a simple enum: comparisons with ints, and `__int__`; a simple enum's
      // `__repr__` is PyO3's, `Enum.Variant`.)
      const derived: [string, string[]][] = [['eq', ['__eq__', '__ne__']], ['ord', ['__lt__', '__le__', '__gt__', '__ge__']], ['hash', ['__hash__']], ['str', ['__str__']], ['eq_int', ['__eq__', '__ne__', '__int__']]];
      if (cls.item.kind === 'enum' && !(cls.item.fields ?? []).some((f) => f.data)) {
        // A simple enum (no variant carries data): PyO3 writes its repr and its int.
        also('__repr__', cls, 'slot', `#[pyclass] enum \`${cls.item.name}\` (PyO3 writes its repr)`);
        also('__int__', cls, 'slot', `#[pyclass] enum \`${cls.item.name}\` (PyO3 gives a simple enum its discriminant as int)`);
      }
      for (const [option, dunders] of derived) {
        if (!pc.pos.includes(option) && !(option in pc.kv)) continue;
        for (const d of dunders) also(d, cls, 'slot', `#[pyclass(${option})] on \`${cls.item.name}\` (from its Rust traits)`);
      }
    }
    // One half of a slot makes Python list both: `__radd__` beside `__add__` (nb_add), `__delitem__`
    // beside `__setitem__` (mp_ass_subscript); the unwritten half answers NotImplemented or
    // raises. They lead to the half that is written.
    if (style === 'pyo3') {
      for (const [a, b] of SHARED_SLOTS) {
        const wa = made.get(a), wb = made.get(b);
        if (wa && !wb) also(b, wa, 'slot', `\`${a}\` on \`${cls.item.name}\` (PyO3 fills \`${b}\`, same slot)`);
        else if (wb && !wa) also(a, wb, 'slot', `\`${b}\` on \`${cls.item.name}\` (PyO3 fills \`${a}\`, same slot)`);
      }
    }
    // One comparison makes PyO3 write the type's whole richcompare slot, so Python lists all six
    // on it; those with no fn (and not derived) answer NotImplemented. They lead to the
    // comparison that is written.
    const compared = COMPARISONS.find((op) => made.has(op));
    if (compared && style === 'pyo3') {
      const at = made.get(compared)!;
      const by = at === cls ? `#[pyclass(eq)] on \`${cls.item.name}\`` : `\`${at.item.name}\` on \`${cls.item.name}\``;
      for (const op of COMPARISONS) also(op, at, 'slot', `${by}; no \`${op}\`: PyO3 answers NotImplemented`);
      // Comparisons without a hash: CPython makes the instances unhashable (`__hash__` is None).
      also('__hash__', at, 'slot', `${by} without \`__hash__\`: unhashable (None)`);
    }
  };

  // ---- PyO3 ----
  const pymods = new Map<ItemRef, PyMod>();
  const modFor = (r: ItemRef): PyMod => {
    let m = pymods.get(r);
    if (!m) {
      m = {
        pyName: pymoduleName(r.item), symbol: r.item.name, file: r.file, line: r.item.line,
        evidence: r.item.kind === 'mod' ? 'PyO3 #[pymodule] mod' : 'PyO3 #[pymodule]',
        functions: [], classes: [], constants: [], children: [], decl: r,
      };
      pymods.set(r, m);
    }
    return m;
  };
  const addChild = (parent: PyMod, child: PyMod): void => {
    if (child === parent || parent.children.includes(child)) return;
    child.isChild = true;
    parent.children.push(child);
  };
  const addResolved = (into: PyMod, res: Resolved | undefined, what: string, evidence: string): void => {
    const r = res?.ref;
    if (!r) {
      out.warnings.push(`${what}: not found in crate`);
      return;
    }
    const it = r.item;
    if (has(it, 'pymodule')) addChild(into, modFor(r));
    else if (it.kind === 'fn') into.functions.push({ ref: r, evidence });
    else if (it.kind === 'struct' || it.kind === 'enum') into.classes.push(r);
    else if (it.kind === 'macro' && it.name === 'create_exception') (into.exceptions ??= []).push({ ref: r, name: exceptionOf(it) ?? it.name });
    else if (it.kind === 'const' || it.kind === 'static') into.constants.push({ name: it.name, file: r.file, line: it.line, evidence: `#[pymodule_export] \`${it.name}\`` });
  };

  const visited = new Set<string>();
  /** What a helper's parameters were given: the argument as written and, for a path, the item. */
  type Bound = Map<string, { text: string; ref?: ItemRef }>;
  const collectFn = (fn: ItemRef, recv: Set<string>, into: PyMod, depth: number, bound?: Bound): void => {
    const vk = `${fn.file}#${fn.idx}#${into.pyName}#${into.line}#${bound ? [...bound.values()].map((b) => b.text).join(',') : ''}`;
    if (visited.has(vk) || depth > 8) return;
    visited.add(vk);
    const facts = c.files.get(fn.file)!;
    const locals = new Map<string, PyMod>();
    const target = (op: RustModOp): PyMod | undefined =>
      op.recv === undefined ? undefined : locals.get(op.recv) ?? (recv.has(op.recv) ? into : undefined);
    for (const op of facts.ops) {
      if (op.inFn !== fn.idx) continue;
      if (op.op === 'newmodule') {
        const given = op.name ?? (op.nameParam ? /^"([\w.]+)"$/.exec(bound?.get(op.nameParam)?.text ?? '')?.[1] : undefined);
        if (!given) continue;
        const last = given.split('.').pop()!;
        locals.set(op.var!, {
          pyName: op.nameParam ? last : given, symbol: fn.item.name, file: fn.file, line: op.line, evidence: `PyModule::new in \`${fn.item.name}\``,
          functions: [], classes: [], constants: [], children: [],
          ...(op.nameParam && given !== last ? { fullName: given } : {}),
        });
      }
    }
    for (const op of facts.ops) {
      if (op.inFn !== fn.idx) continue;
      const t = target(op);
      switch (op.op) {
        case 'function':
          if (t) addResolved(t, crate.resolve(fn.mod, op.path!), `wrap_pyfunction!(${key(op.path!)}) in ${fn.file}:${op.line}`, 'PyO3 #[pyfunction]');
          break;
        case 'class':
          if (t) addResolved(t, crate.resolve(fn.mod, op.path!), `add_class::<${key(op.path!)}> in ${fn.file}:${op.line}`, 'PyO3 #[pyclass]');
          break;
        case 'constant':
          if (t) t.constants.push({ name: op.name!, file: fn.file, line: op.line, evidence: `m.add("${op.name}") in \`${fn.item.name}\`` });
          break;
        case 'submodule':
          if (!t) break;
          if (op.var && locals.has(op.var)) addChild(t, locals.get(op.var)!);
          else if (op.path) addResolved(t, crate.resolve(fn.mod, op.path), `wrap_pymodule!(${key(op.path)}) in ${fn.file}:${op.line}`, 'PyO3 #[pymodule]');
          break;
        case 'call': {
          const passed = (op.args ?? []).map((a) => locals.get(a) ?? (recv.has(a) ? into : undefined)).filter((m): m is PyMod => !!m);
          if (!passed.length) break;
          // A parameter called as a function (`mod_init(py, child)`) calls what it was given.
          const callee = (op.path!.length === 1 ? bound?.get(op.path![0])?.ref : undefined) ?? crate.resolve(fn.mod, op.path!)?.ref;
          if (callee?.item.kind !== 'fn' || has(callee.item, 'pymodule')) {
            // A #[pymodule] fn called directly on a module variable fills that module.
            if (callee && has(callee.item, 'pymodule')) for (const m of passed) collectFn(callee, new Set(callee.item.params), m, depth + 1);
            break;
          }
          // The helper's parameters bound to what this call passes (literals and fn paths).
          const params = callee.item.params ?? [];
          const given: Bound = new Map();
          (op.argv ?? []).forEach((a, i) => {
            if (!params[i] || !a) return;
            const path = /^[A-Za-z_]\w*(?:::[A-Za-z_]\w*)*$/.test(a) ? crate.resolve(fn.mod, a.split('::'))?.ref : undefined;
            given.set(params[i], { text: a, ref: path?.item.kind === 'fn' ? path : bound?.get(a)?.ref });
          });
          for (const m of passed) collectFn(callee, new Set(params), m, depth + 1, given);
          break;
        }
        default:
          break;
      }
    }
    // #[pyfn(m)] functions nested in this body.
    for (const r of crate.byFile.get(fn.file) ?? []) {
      if (r.item.inFn === fn.idx && r.item.kind === 'fn' && has(r.item, 'pyfn')) {
        into.functions.push({ ref: r, evidence: `PyO3 #[pyfn] in \`${fn.item.name}\`` });
      }
    }
  };

  if (!cpythonApi) {
    for (const r of crate.refs) {
      if (!has(r.item, 'pymodule')) continue;
      const m = modFor(r);
      if (r.item.kind === 'fn') {
        collectFn(r, new Set(r.item.params), m, 0);
      } else if (r.item.kind === 'mod') {
        const inner = [...r.mod, r.item.name];
        for (const x of crate.refs) {
          if (key(x.mod) !== key(inner) || x.item.inFn !== undefined || x.item.inImpl !== undefined) continue;
          const it = x.item;
          if (it.kind === 'use' && has(it, 'pymodule_export')) {
            for (const u of it.uses ?? []) addResolved(m, crate.resolve(x.mod, u.path), `#[pymodule_export] use ${key(u.path)} in ${x.file}:${it.line}`, 'PyO3 #[pymodule_export]');
          } else if (has(it, 'pymodule')) {
            addChild(m, modFor(x));
          } else if (it.kind === 'fn' && has(it, 'pyfunction')) {
            m.functions.push({ ref: x, evidence: 'PyO3 #[pyfunction]' });
          } else if ((it.kind === 'struct' || it.kind === 'enum') && has(it, 'pyclass')) {
            m.classes.push(x);
          } else if ((it.kind === 'const' || it.kind === 'static') && has(it, 'pymodule_export')) {
            m.constants.push({ name: it.name, file: x.file, line: it.line, evidence: `#[pymodule_export] \`${it.name}\`` });
          } else if (it.kind === 'fn' && has(it, 'pymodule_init')) {
            collectFn(x, new Set(it.params), m, 0);
          }
        }
      }
    }

    const placedClasses = new Set<ItemRef>();
    const emitted = new Set<PyMod>();
    const createdExceptions = new Set<string>();
    for (const r of crate.refs) {
      const declared = r.item.kind === 'macro' && r.item.name === 'create_exception' ? exceptionOf(r.item) : undefined;
      if (declared) createdExceptions.add(declared);
    }
    const emitMod = (m: PyMod, qual: string): void => {
      if (emitted.has(m)) return;
      emitted.add(m);
      emit(qual, 'module', m.file, m.line, m.symbol, 'pyo3', m.evidence);
      if (m.fullName && m.fullName !== qual) out.aliases.push({ from: m.fullName, to: qual, star: false, file: realFile(m.file), line: m.line });
      for (const f of m.functions) {
        emit(`${qual}.${pyfunctionName(f.ref.item)}`, 'function', f.ref.file, f.ref.item.line, f.ref.item.name, 'pyo3', f.evidence);
      }
      for (const cls of m.classes) {
        placedClasses.add(cls);
        emitClass(cls, `${qual}.${pyclassName(cls.item)}`, 'pyo3', 'PyO3 #[pyclass]');
        const declared = attr(cls.item, 'pyclass')?.kv.module;
        if (declared && declared !== qual) emitClass(cls, `${declared}.${pyclassName(cls.item)}`, 'pyo3', `PyO3 #[pyclass(module = "${declared}")]`, 1);
      }
      // (`m.add("Error", py.get_type::<Error>())` of a create_exception! type: the definition first.)
      for (const k of m.constants) emit(`${qual}.${k.name}`, 'constant', k.file, k.line, m.symbol, 'pyo3', k.evidence, createdExceptions.has(k.name) ? 1 : 0);
      for (const e of m.exceptions ?? []) emit(`${qual}.${e.name}`, 'exception', e.ref.file, e.ref.item.line, e.name, 'pyo3', '#[pymodule_export] of a create_exception! type');
      for (const ch of m.children) emitMod(ch, `${qual}.${ch.pyName}`);
    };
    for (const m of pymods.values()) {
      if (m.isChild) continue;
      const dotted = maturinName && (maturinName === m.pyName || maturinName.endsWith(`.${m.pyName}`)) ? maturinName : m.pyName;
      if (libName && dotted === m.pyName && libName !== m.pyName && !maturinName) {
        out.warnings.push(`#[pymodule] ${m.pyName} differs from [lib] name ${libName}`);
      }
      emitMod(m, dotted);
      // maturin without a module-name puts the module inside the package of the same name when
      // the project has one (python-source's `pkg/`, or a `pkg.pyi` stub): `pkg/pkg.so`, whose
      // names `pkg/__init__.py` star-imports. Both paths lead to it.
      if (!maturinName && c.pyprojectToml && /maturin/.test(c.pyprojectToml) && !dotted.includes('.')) {
        out.aliases.push({ from: `${dotted}.${dotted}`, to: dotted, star: false, file: realFile(m.file), line: m.line });
      }
      for (const also of c.alsoNames ?? []) {
        if (also !== dotted && (also === m.pyName || also.endsWith(`.${m.pyName}`))) out.aliases.push({ from: also, to: dotted, star: false, file: realFile(m.file), line: m.line });
      }
    }
    // Classes that declare their module but are never added to one.
    for (const r of crate.refs) {
      if ((r.item.kind !== 'struct' && r.item.kind !== 'enum') || !has(r.item, 'pyclass') || placedClasses.has(r)) continue;
      const declared = attr(r.item, 'pyclass')?.kv.module;
      if (declared) emitClass(r, `${declared}.${pyclassName(r.item)}`, 'pyo3', `PyO3 #[pyclass(module = "${declared}")]`, 1);
    }
    // create_exception!(module, Name, Base)
    for (const r of crate.refs) {
      if (r.item.kind !== 'macro' || r.item.name !== 'create_exception') continue;
      const [modIdent, name] = (r.item.tokens ?? '').split(',').map((s) => s.trim());
      if (!modIdent || !name) continue;
      const owner = [...pymods.values()].find((m) => m.pyName === modIdent && !m.isChild);
      const qual = owner && maturinName?.endsWith(`.${modIdent}`) ? maturinName : modIdent;
      emit(`${qual}.${name}`, 'exception', r.file, r.item.line, name, 'pyo3', 'PyO3 create_exception!');
    }
  }

  // ---- Rust-for-CPython safe layer (cpython-api) ----
  if (cpythonApi) {
    const exports = crate.refs.filter((r) => r.item.kind === 'macro' && r.item.name === 'export_module');
    for (const r of exports) {
      const fields = new Map<string, string>();
      for (const part of splitMacroArgs(r.item.tokens ?? '')) {
        const kv = /^(\w+)\s*:\s*([\s\S]*)$/.exec(part);
        if (kv) fields.set(kv[1], kv[2].trim());
      }
      const name = fields.get('name');
      if (!name) continue;
      emit(name, 'module', r.file, r.item.line, `PyModExport_${name}`, 'cpython-api', `export_module! \`${name}\``);
      const methods = (fields.get('methods') ?? '').replace(/^\[|\]$/g, '').split(',').map((s) => s.trim()).filter(Boolean);
      for (const m of methods) {
        const f = crate.resolve(r.mod, pathSegs(m))?.ref;
        if (!f || f.item.kind !== 'fn') {
          out.warnings.push(`export_module! ${name}: method ${m} not found`);
          continue;
        }
        emit(`${name}.${f.item.name}`, 'function', f.file, f.item.line, f.item.name, 'cpython-api', `#[pyfunction] in export_module! \`${name}\``);
      }
      if (exports.length === 1) {
        const exceptions = new Set([...c.files.values()].flatMap((f) => f.ops.filter((o) => o.op === 'exception').map((o) => o.name)));
        for (const [file, facts] of c.files) {
          for (const op of facts.ops) {
            // `m.add(ts, c"error", exc)` re-adds an exception: the exception's creation ranks first.
            const rank = exceptions.has(`${name}.${op.name}`) ? 1 : 0;
            if (op.op === 'constant') emit(`${name}.${op.name}`, 'constant', file, op.line, crate.at(file, op.inFn)?.item.name ?? name, 'cpython-api', `m.add(c"${op.name}")`, rank);
          }
        }
      }
    }
    for (const [file, facts] of c.files) {
      for (const op of facts.ops) {
        if (op.op === 'exception') emit(op.name!, 'exception', file, op.line, crate.at(file, op.inFn)?.item.name ?? op.name!, 'cpython-api', `new_exception(c"${op.name}")`);
      }
    }
    for (const r of crate.refs) {
      const cd = r.item.classDef;
      if (!cd) continue;
      const cls = crate.resolve(r.mod, [cd.type])?.ref;
      if (cls && (cls.item.kind === 'struct' || cls.item.kind === 'enum')) {
        emitClass(cls, cd.pyName, 'cpython-api', `ClassDef::new(c"${cd.pyName}")`);
      } else {
        emit(cd.pyName, 'class', r.file, r.item.line, r.item.name, 'cpython-api', `ClassDef::new(c"${cd.pyName}")`);
      }
    }
  }

  // ---- raw C-API tables in Rust (orjson, the Rust-for-CPython proof of concept) ----
  const moduleDefs = [...c.files].flatMap(([file, f]) => f.moduleDefs.map((d) => ({ file, d })));
  for (const [file, f] of c.files) {
    for (const t of f.typeSpecs ?? []) {
      if (t.name.includes('.')) emit(t.name, 'class', file, t.line, t.name.split('.').pop()!, 'rust-c-api', `PyType_Spec \`${t.name}\``);
    }
  }
  // Names added with PyModule_Add*: the crate's module when it defines exactly one.
  if (moduleDefs.length === 1) {
    const mod = moduleDefs[0].d.name;
    for (const [file, f] of c.files) {
      for (const a of f.moduleAttrs ?? []) {
        const evidence = `\`${a.call}\`${a.via ? ` (via \`${a.via}\`)` : ''}`;
        emit(`${mod}.${a.name}`, 'constant', file, a.line, a.name, 'rust-c-api', evidence, 5);
      }
    }
  }
  if (moduleDefs.length) {
    const tables = new Set([...c.files.values()].flatMap((f) => f.methodDefs.map((m) => m.table)).filter(Boolean));
    const usedTables = new Set(moduleDefs.flatMap((m) => m.d.methods ?? []).filter((t) => tables.has(t)));
    for (const { file, d } of moduleDefs) {
      const init = crate.refs.find((r) => r.item.kind === 'fn' && r.item.name === `PyInit_${d.name}`);
      if (init) emit(d.name, 'module', init.file, init.item.line, init.item.name, 'rust-c-api', `PyInit_${d.name}`);
      emit(d.name, 'module', file, d.line, d.name, 'rust-c-api', `PyModuleDef \`${d.name}\``, init ? 1 : 0);
      for (const [mfile, facts] of c.files) {
        for (const md of facts.methodDefs) {
          const mine = md.table ? (d.methods ?? []).includes(md.table) || (!usedTables.has(md.table) && moduleDefs.length === 1) : moduleDefs.length === 1;
          if (!mine) continue;
          const fileRefs = crate.byFile.get(mfile) ?? [];
          const mod = fileRefs[0]?.mod ?? [];
          const fnPath = pathSegs(md.fn);
          const fn = crate.resolve(mod, fnPath)?.ref ?? fileRefs.find((r) => r.item.kind === 'fn' && r.item.name === fnPath[fnPath.length - 1]);
          const evidence = md.table ? `PyMethodDef \`${md.table}\`` : 'PyMethodDef';
          emit(`${d.name}.${md.name}`, 'function', fn?.file ?? mfile, fn?.item.line ?? md.line, fnPath[fnPath.length - 1], 'rust-c-api', evidence);
        }
      }
    }
  }
  return out;
}

/** The type a create_exception!/import_exception! invocation declares (its second argument). */
function exceptionOf(it: RustItem): string | undefined {
  const name = (it.tokens ?? '').split(',')[1]?.trim();
  return name && /^[A-Za-z_]\w*$/.test(name) ? name : undefined;
}

function attr2name(attrs: RustAttr[]): string | undefined {
  return attrs.find((a) => a.name === 'pyo3')?.kv.name;
}


/** Dunder pairs one type slot serves: Python lists both when either is written. */
const SHARED_SLOTS: [string, string][] = [
  ...['add', 'sub', 'mul', 'matmul', 'truediv', 'floordiv', 'mod', 'divmod', 'pow', 'lshift', 'rshift', 'and', 'xor', 'or']
    .map((op): [string, string] => [`__${op}__`, `__r${op}__`]),
  ['__setitem__', '__delitem__'], ['__set__', '__delete__'], ['__setattr__', '__delattr__'],
];

/** The comparison dunders `__richcmp__` serves. */
const COMPARISONS = ['__eq__', '__ne__', '__lt__', '__le__', '__gt__', '__ge__'];

interface MethodBinding {
  name: string;
  kind: TargetKind;
  evidence: string;
}

/** PyO3's naming rules for an item of a `#[pymethods]` block. */
function pyo3Method(it: RustItem): MethodBinding | undefined {
  const rename = attr(it, 'pyo3')?.kv.name;
  if (it.kind === 'const') {
    return has(it, 'classattr') ? { name: rename ?? it.name, kind: 'classattr', evidence: '#[classattr]' } : undefined;
  }
  const getter = attr(it, 'getter');
  const setter = attr(it, 'setter');
  if (getter) return { name: getter.pos[0] ?? rename ?? it.name.replace(/^get_(?=.)/, ''), kind: 'getter', evidence: '#[getter]' };
  if (setter) return { name: setter.pos[0] ?? rename ?? it.name.replace(/^set_(?=.)/, ''), kind: 'setter', evidence: '#[setter]' };
  if (has(it, 'new')) return { name: '__new__', kind: 'constructor', evidence: '#[new]' };
  if (has(it, 'classattr')) return { name: rename ?? it.name, kind: 'classattr', evidence: '#[classattr]' };
  if (has(it, 'staticmethod')) return { name: rename ?? it.name, kind: 'staticmethod', evidence: '#[staticmethod]' };
  if (has(it, 'classmethod')) return { name: rename ?? it.name, kind: 'classmethod', evidence: '#[classmethod]' };
  const name = rename ?? it.name;
  if (/^__\w+__$/.test(name)) return { name, kind: 'slot', evidence: 'PyO3 magic method' };
  return { name, kind: 'method', evidence: '#[pymethods]' };
}

/** The cpython-api crate's rules: only attributed fns are exposed; names are never rewritten. */
function cpythonApiMethod(it: RustItem): MethodBinding | undefined {
  if (it.kind !== 'fn') return undefined;
  if (has(it, 'new')) return { name: '__new__', kind: 'constructor', evidence: '#[new]' };
  if (has(it, 'getter')) return { name: it.name, kind: 'getter', evidence: '#[getter]' };
  if (has(it, 'setter')) return { name: it.name, kind: 'setter', evidence: '#[setter]' };
  if (has(it, 'pyfunction')) {
    const kind: TargetKind = /^__\w+__$/.test(it.name) ? 'slot' : 'method';
    return { name: it.name, kind, evidence: '#[pyfunction]' };
  }
  return undefined;
}

