/**
 * The C linker: per-file C facts (keyed by absolute path) -> Python names bound to their C
 * implementations. Follows CPython's C-API conventions: PyModuleDef/PyMethodDef tables,
 * Argument Clinic (`_impl` functions, `X_METHODDEF` macros), static PyTypeObject and
 * PyType_Spec/PyType_Slot types with their slots, getsets and members, token-pasting function
 * generators, PyModule_Add*, PyErr_NewException and bltinmodule.c's SETBUILTIN.
 *
 * A C name is looked up from the file that refers to it: that file, then its `#include "..."`
 * closure, and only then a unique definition anywhere. Names defined nowhere are returned in
 * `unresolved` so the indexer can grep the files it skipped and link again. Pure: no I/O.
 */
import type { Alias, Binding, LinkOutput, Target, TargetKind } from '../model';
import { matchBrace, scanInitialiser, splitArgs, stripCasts, substitute, type CClinic, type CDefine, type CElem, type CFileFacts, type CInit, type CTypeSet } from './extract';
import {
  CONSTRUCTOR_SLOTS, GENERIC_SLOT_FUNCTIONS, GETSET_DEF_FIELDS, MEMBER_DEF_FIELDS, METHOD_DEF_FIELDS,
  MODULE_DEF_FIELDS, SLOT_DUNDERS, SLOT_ORDER, SUB_STRUCT_FIELDS, SUB_STRUCT_POINTERS,
  TYPE_OBJECT_FIELDS, TYPE_SPEC_FIELDS, specSlotName,
} from './slots';

interface Located<T> {
  file: string;
  item: T;
}

interface FnTarget {
  file: string;
  line: number;
  symbol: string;
  evidence?: string;
}

/** A type object (static PyTypeObject or PyType_Spec) and the Python names it gets. */
interface TypeInfo {
  file: string;
  init: CInit;
  /** Qualified class names: from tp_name, plus names under which a module adds it. */
  names: string[];
  fields: Map<string, CElem>;
  /** The macro whose invocation defines it, if any. */
  macro?: string;
  /** A struct sequence named without its module (`"waitid_result"`): named once modules are known. */
  bareName?: string;
}

/** A function-like macro body defining a type, a spec, a slot array or a table (`SHA3_TYPE_SPEC`,
 *  CPython's `SimpleExtendsException`): each invocation defines one, at its line. */
const MACRO_INIT = /\b(?:PyTypeObject|PyType_Spec|PyType_Slot|PyMethodDef|PyGetSetDef|PyMemberDef)\s+[\w\s#]+(?:\[\s*\])?\s*=\s*\{/;

/**
 * Of definitions in several platform files, the one whose path names what the including file's
 * name does: `psutil_disk_partitions` seen from `_psutil_linux.c` is arch/linux/disk.c's, not
 * _psutil_aix.c's. Words every candidate's path has decide nothing. Undefined unless one wins.
 */
function platformPick<T>(entries: Located<T>[], from: string): Located<T> | undefined {
  const words = (p: string): Set<string> => new Set(p.toLowerCase().replace(/\.[ch]$/, '').split(/[^a-z0-9]+/).filter((w) => w.length >= 3));
  const fromWords = words(from.slice(Math.max(from.lastIndexOf('/'), from.lastIndexOf('\\')) + 1));
  if (!fromWords.size) return undefined;
  const matched = entries.map((e) => [...words(e.file)].filter((w) => fromWords.has(w)));
  const everywhere = new Set([...fromWords].filter((w) => matched.every((m) => m.includes(w))));
  const scores = matched.map((m) => m.filter((w) => !everywhere.has(w)).length);
  const top = Math.max(...scores);
  if (top === 0) return undefined;
  const winners = new Set(entries.filter((_, i) => scores[i] === top).map((e) => e.file));
  return winners.size === 1 ? entries[scores.indexOf(top)] : undefined;
}

/** CPython's stringifying macros (pymacro.h). */
const STRINGIFY = /^_?Py_X?STRINGIFY$/;
/** A #define whose body stringifies a name: `#define MODULE_NAME_STR Py_STRINGIFY(MODULE_NAME)`. */
const STRINGIFIED = /^_?Py_X?STRINGIFY\s*\(\s*[A-Za-z_]\w*\s*\)$/;

/** What every struct sequence type has from Objects/structseq.c. */
const STRUCT_SEQ_SHARED: readonly [string, string, TargetKind][] = [
  ['__new__', 'structseq_new', 'constructor'], ['__repr__', 'structseq_repr', 'slot'], ['__reduce__', 'structseq_reduce', 'method'],
  ['__replace__', 'structseq_replace', 'method'],
];

/** PyStructSequence_Desc's fields (structseq.h). */
const STRUCT_SEQ_DESC_FIELDS = ['name', 'doc', 'fields', 'n_in_sequence'] as const;

const IDENT = /^[A-Za-z_]\w*$/;

export function linkC(files: Map<string, CFileFacts>): LinkOutput & { unresolved: string[] } {
  return new CLinker(files).run();
}

/** A function of CPython's C API, by its name (`PyType_GenericNew`, `Py_GenericAlias`). */
const C_API_FUNCTION = /^Py(?:[A-Z][A-Za-z]*)?_[A-Z]\w*$/;

/** A C-API function named in a table or slot where CPython's sources are not indexed: the
 *  place that names it, which says which one; undefined for any other name. */
function cApiTarget(name: string, file: string, line: number): { file: string; line: number; symbol: string; evidence: string } | undefined {
  return C_API_FUNCTION.test(name) ? { file, line, symbol: name, evidence: `the C API's \`${name}\`` } : undefined;
}

class CLinker {
  private bindings: Binding[] = [];
  /** Attributes one module sets on another from a third (`builtins.open` is `io.open`). */
  private aliases: Alias[] = [];
  /** Python name -> targets emitted under it (to emit each once). */
  private seen = new Map<string, Target[]>();
  private warnings: string[] = [];
  private unresolved = new Set<string>();
  private funcs = new Map<string, Located<{ line: number; macro?: string }>[]>();
  private inits = new Map<string, Located<CInit>[]>();
  private defines = new Map<string, Located<CDefine>[]>();
  private clinicByBase = new Map<string, Located<CClinic>[]>();
  private byNorm = new Map<string, string>();
  private closures = new Map<string, Map<string, number>>();
  /** `dir\0include` -> the file it resolves to (null: none); many files share both. */
  private includeHits = new Map<string, string | null>();
  /** File names (last path component) of every file linked. */
  private baseNames = new Set<string>();
  private types: TypeInfo[] = [];
  private typeByVar = new Map<string, TypeInfo[]>();
  /** Rank bookkeeping for slot dunders: `name` -> slots already bound. */
  private slotCount = new Map<string, number>();
  /** Type objects defined by macro invocations (`SimpleExtendsException(...)`). */
  private macroTypes: { file: string; init: CInit; macro: string }[] = [];
  /** Set by `pick` when it had to look outside the include closure. */
  private outsideClosure = false;

  constructor(private files: Map<string, CFileFacts>) {}

  run(): LinkOutput & { unresolved: string[] } {
    this.index();
    this.collectTypes();
    const modulesOf = new Map<string, string[]>();
    for (const [file, f] of this.files) modulesOf.set(file, this.modules(file, f));
    for (const t of this.types) {
      if (t.bareName) t.names = (modulesOf.get(t.file) ?? []).map((m) => `${m}.${t.bareName}`);
    }
    // Files of no module of their own add to the modules of the files calling their functions
    // with a module (`psutil_posix_add_methods(mod)`, zstandard's `constants_module_init(m)`).
    // (Not to a module merely nearby: CPython's Objects/ holds `_string`'s, and no file there adds to it.)
    const callersOf = new Map<string, string[]>();
    for (const [file, f] of this.files) for (const fn of f.moduleArgCalls ?? []) push(callersOf, fn, file);
    for (const [file, f] of this.files) {
      let mods = modulesOf.get(file) ?? [];
      if (!mods.length && f.calls.length) {
        const callers = new Set(f.functions.flatMap((fn) => callersOf.get(fn.name) ?? []).filter((g) => g !== file));
        mods = [...new Set([...callers].flatMap((g) => modulesOf.get(g) ?? []))];
      }
      this.linkCalls(file, f, mods);
    }
    for (const t of this.types) this.linkType(t);
    return { bindings: this.bindings, aliases: this.aliases, warnings: this.warnings, unresolved: [...this.unresolved].sort() };
  }

  // -------------------------------------------------------------------------------------------
  // Indexes

  private index(): void {
    for (const [file, f] of this.files) {
      const norm = normPath(file);
      this.byNorm.set(norm, file);
      this.baseNames.add(norm.slice(norm.lastIndexOf('/') + 1));
      for (const fn of f.functions) push(this.funcs, fn.name, { file, item: { line: fn.line } });
      for (const i of f.inits) push(this.inits, i.name, { file, item: i });
      for (const d of f.defines) push(this.defines, d.name, { file, item: d });
      let defined: Set<string> | undefined;
      for (const c of f.clinic) {
        if (c.decl) continue;
        push(this.clinicByBase, c.cbase, { file, item: c });
        defined ??= new Set(f.functions.map((fn) => fn.name));
        if (c.def && c.defLine && !defined.has(c.def)) {
          push(this.funcs, c.def, { file, item: { line: c.defLine } });
        }
      }
    }
    this.indexGenerated();
    this.indexMacroTypes();
  }

  /** `static PyTypeObject _PyExc_ ## EXCNAME = { ... # EXCNAME, ...}` in a macro: each
   *  invocation defines a type object, read from the expanded body at the invocation line. */
  private indexMacroTypes(): void {
    const makers = new Map<string, Located<CDefine>[]>();
    for (const [name, defs] of this.defines) {
      for (const d of defs) if (d.item.params && MACRO_INIT.test(d.item.body)) push(makers, name, d);
    }
    if (!makers.size) return;
    // Macros over makers (`MiddlingExtendsException(...)` -> `static MiddlingExtendsExceptionEx(...)`).
    const direct = new Set(makers.keys());
    for (let grew = true; grew;) {
      grew = false;
      const calls = new RegExp(`\\b(?:${[...makers.keys()].join('|')})\\s*\\(`);
      for (const [name, defs] of this.defines) {
        if (makers.has(name)) continue;
        for (const d of defs) {
          if (d.item.params && calls.test(d.item.body)) {
            push(makers, name, d);
            grew = true;
          }
        }
      }
    }
    /** The text a maker's invocation expands to, through macros over makers. */
    const expand = (d: Located<CDefine>, args: string[], from: string, depth: number): string => {
      const text = substitute(d.item.body, d.item.params ?? [], args);
      if (direct.has(d.item.name) || depth >= 4) return text;
      const inner = new RegExp(`\\b(${[...makers.keys()].join('|')})\\s*\\(`).exec(text);
      const innerDef = inner && this.pick(makers.get(inner[1]), from);
      const innerArgs = inner && splitArgs(text, inner.index + inner[0].length - 1)?.args;
      return innerDef && innerArgs ? expand(innerDef, innerArgs, from, depth + 1) : text;
    };
    for (const [file, f] of this.files) {
      for (const use of f.macroUses) {
        const d = this.pick(makers.get(use.name), file);
        if (!d) continue;
        const text = expand(d, use.args, file, 0);
        const m = /\b(PyTypeObject|PyType_Spec|PyType_Slot|PyMethodDef|PyGetSetDef|PyMemberDef)\s+([A-Za-z_]\w*)\s*(\[\s*\])?\s*=\s*\{/.exec(text);
        if (!m) continue;
        const open = m.index + m[0].length - 1;
        // Positional struct initialisers read their first #if branch only; arrays read all.
        const elems = scanInitialiser(text.slice(open, matchBrace(text, open)), use.line, !m[3]);
        const init: CInit = { type: m[1], name: m[2], line: use.line, elems };
        if (m[1] === 'PyTypeObject' || m[1] === 'PyType_Spec') this.macroTypes.push({ file, init, macro: use.name });
        // Tables and slot arrays are found by name (`initOf`), as if written out.
        else push(this.inits, m[2], { file, item: init });
      }
    }
  }

  /** Functions made by token-pasting macros: `FUNC1(acos, ...)` with `math_##funcname(` in the
   *  macro's body defines `math_acos` at the invocation line. */
  private indexGenerated(): void {
    const templates = new Map<string, Located<(string | number)[]>[]>();
    for (const [name, defs] of this.defines) {
      for (const d of defs) {
        if (!d.item.params || !d.item.body.includes('{')) continue;
        const t = functionTemplate(d.item.body, d.item.params);
        if (t) push(templates, name, { file: d.file, item: t });
      }
    }
    if (!templates.size) return;
    for (const [file, f] of this.files) {
      for (const use of f.macroUses) {
        const ts = templates.get(use.name);
        if (!ts) continue;
        const t = this.pick(ts, file);
        if (!t) continue;
        const name = t.item.map((p) => (typeof p === 'number' ? (use.args[p] ?? '').trim() : p)).join('');
        if (IDENT.test(name)) push(this.funcs, name, { file, item: { line: use.line, macro: use.name } });
      }
    }
  }

  /** The file's #include closure as file -> distance order (the file itself is 0). */
  private closure(file: string): Map<string, number> {
    let c = this.closures.get(file);
    if (c) return c;
    c = new Map([[file, 0]]);
    const queue = [file];
    for (let qi = 0; qi < queue.length && queue.length < 2000; qi++) {
      const cur = queue[qi];
      for (const inc of this.files.get(cur)?.includes ?? []) {
        const r = this.resolveInclude(cur, inc);
        if (r && !c.has(r)) {
          c.set(r, c.size);
          queue.push(r);
        }
      }
    }
    this.closures.set(file, c);
    return c;
  }

  private resolveInclude(from: string, inc: string): string | undefined {
    const dir = dirOf(normPath(from));
    const key = `${dir}\0${inc}`;
    let hit = this.includeHits.get(key);
    if (hit === undefined) {
      hit = this.searchInclude(dir, inc.replace(/\\/g, '/')) ?? null;
      this.includeHits.set(key, hit);
    }
    return hit ?? undefined;
  }

  private searchInclude(dir: string, rel: string): string | undefined {
    if (!this.baseNames.has(rel.slice(rel.lastIndexOf('/') + 1))) return undefined; // no such file anywhere
    const direct = this.byNorm.get(joinPath(dir, rel));
    if (direct) return direct;
    for (let d: string | undefined = dir; d; d = parentDir(d)) {
      for (const sub of ['', 'Include/', 'Include/internal/', 'Include/cpython/', 'Objects/', 'Python/', 'Modules/']) {
        const hit = this.byNorm.get(joinPath(d, sub + rel));
        if (hit) return hit;
      }
    }
    return undefined;
  }

  /** The entry seen from `from`: nearest in its include closure, else a unique one globally,
   *  else the one sharing the longest directory prefix when that is unique. */
  private pick<T>(entries: Located<T>[] | undefined, from: string): Located<T> | undefined {
    if (!entries?.length) return undefined;
    const c = this.closure(from);
    let best: Located<T> | undefined;
    let bestD = Infinity;
    for (const e of entries) {
      const d = c.get(e.file);
      if (d !== undefined && d < bestD) {
        best = e;
        bestD = d;
      }
    }
    if (best) return best;
    // Not in the closure: maybe in an included file the indexer skipped. Report the name so
    // the indexer greps for it (the caller adds it to `unresolved`), then take a unique one.
    this.outsideClosure = true;
    const filesWith = new Set(entries.map((e) => e.file));
    if (filesWith.size === 1) return entries[0];
    const byPlatform = platformPick(entries, from);
    if (byPlatform) return byPlatform;
    let bestLen = -1;
    let tie = false;
    for (const e of entries) {
      const l = commonPrefix(e.file, from);
      if (l > bestLen) {
        bestLen = l;
        best = e;
        tie = false;
      } else if (l === bestLen && e.file !== best?.file) tie = true;
    }
    if (tie) {
      this.warnings.push(`C: ${entries.length} definitions seen from ${from}, none in its include closure`);
      return undefined;
    }
    return best;
  }

  private initOf(name: string, from: string, type?: string): Located<CInit> | undefined {
    const all = this.inits.get(name);
    return this.pick(type ? all?.filter((e) => e.item.type === type) : all, from);
  }

  /** C function -> its implementation: the clinic `_impl` when there is one, else the
   *  function itself (written by hand or generated by a macro). */
  private resolveFn(name: string, from: string, depth = 0): FnTarget | undefined {
    const clinic = this.pick(this.clinicByBase.get(name), from);
    this.outsideClosure = false;
    const def = this.pick(this.funcs.get(name), from);
    const impl = this.pick(this.funcs.get(name + '_impl'), from);
    // A definition found only outside the closure may hide one in a skipped included file.
    // (C-API functions, `Py*`/`_Py*`, are defined elsewhere by design: not reported.)
    if (this.outsideClosure && depth === 0 && !/^_?Py/.test(name)) this.unresolved.add(name);
    const clinicEv = clinic ? `Argument Clinic \`${clinic.item.name}\`` : undefined;
    if (impl && (clinic || !def || /[\\/]clinic[\\/]/.test(def.file))) {
      return { file: impl.file, line: impl.item.line, symbol: name + '_impl', evidence: clinicEv ?? 'Argument Clinic' };
    }
    if (def) {
      const ev = def.item.macro ? `generated by \`${def.item.macro}\`` : clinicEv;
      return { file: def.file, line: def.item.line, symbol: name, evidence: ev };
    }
    const alias = this.pick(this.defines.get(name)?.filter((d) => !d.item.params && IDENT.test(d.item.body)), from);
    if (alias && depth < 4) return this.resolveFn(alias.item.body, alias.file, depth + 1);
    this.unresolved.add(name);
    return undefined;
  }

  /** A name argument: a literal, or an identifier naming a string constant the file sees (brotli's
   *  `static const char kErrorAttr[] = "error";` ... `PyModule_AddObjectRef(m, kErrorAttr, e)`, or a
   *  `#define` in its include closure). */
  private nameArg(arg: string | undefined, from: string): string | undefined {
    const lit = literal(arg);
    if (lit !== undefined || !arg) return lit;
    const id = stripCasts(arg);
    if (!IDENT.test(id)) return undefined;
    // Only a constant this file sees: a macro's parameter (`NAME` in a #define's body) is no
    // constant, whatever another file #defines under that name.
    const own = this.files.get(from)?.stringConsts?.find((x) => x.name === id)?.value;
    const closure = own === undefined ? this.closure(from) : undefined;
    const v = own ?? this.defines.get(id)?.filter((d) => !d.item.params && closure!.has(d.file)).sort((a, b) => closure!.get(a.file)! - closure!.get(b.file)!)[0]?.item.body;
    const text = v === undefined ? undefined : literal(v.trim());
    return text !== undefined && IDENT.test(text) ? text : undefined;
  }

  /** A string expression (`"a.b"`, `MODNAME ".DirEntry"`) -> its possible values: a macro
   *  with several #ifdef'd definitions gives several values. */
  private strings(expr: string, from: string): string[] {
    let out = [''];
    const re = /"((?:[^"\\]|\\.)*)"|([A-Za-z_]\w*)|(\S)/g;
    for (let m = re.exec(expr); m; m = re.exec(expr)) {
      if (m[1] !== undefined) {
        out = out.map((s) => s + m![1]);
      } else if (m[2] !== undefined) {
        if (m[2] === 'PyDoc_STR') continue;
        // `Py_STRINGIFY(MODULE_NAME)` with `#define MODULE_NAME _interpreters`: "_interpreters".
        const str = STRINGIFY.test(m[2]) ? /^\s*\(\s*([A-Za-z_]\w*)\s*\)/.exec(expr.slice(re.lastIndex)) : null;
        if (str) {
          const v = this.identValue(str[1], from);
          out = out.map((x) => x + v);
          re.lastIndex += str[0].length;
          continue;
        }
        const defs = this.defines.get(m[2])?.filter((d) => !d.item.params && (d.item.body.startsWith('"') || STRINGIFIED.test(d.item.body)));
        const first = this.pick(defs, from);
        if (!first) {
          // `static char SB__name__[] = "mod.SpecificationBase";` in the same file.
          const c = this.files.get(from)?.stringConsts?.find((x) => x.name === m![2]);
          const v = c && this.strings(c.value, from);
          if (!v || v.length !== 1) return [];
          out = out.map((x) => x + v[0]);
          continue;
        }
        const vals = [...new Set(defs!.filter((d) => d.file === first.file).flatMap((d) => this.strings(d.item.body, d.file)))];
        out = out.flatMap((s) => vals.map((v) => s + v)).slice(0, 16);
      } else if (m[3] !== '(' && m[3] !== ')') {
        return [];
      }
    }
    return out.filter(Boolean);
  }

  /** What an identifier expands to through object-like #defines naming another identifier. */
  private identValue(name: string, from: string, depth = 0): string {
    const d = this.pick(this.defines.get(name)?.filter((x) => !x.item.params && IDENT.test(x.item.body.trim())), from);
    return d && depth < 4 ? this.identValue(d.item.body.trim(), d.file, depth + 1) : name;
  }

  private emit(name: string, kind: TargetKind, t: { file: string; line: number; symbol: string; evidence?: string }, rank?: number): void {
    let emitted = this.seen.get(name);
    if (!emitted) this.seen.set(name, (emitted = []));
    else if (emitted.some((e) => e.line === t.line && e.kind === kind && e.symbol === t.symbol && e.file === t.file)) return;
    const target: Target = { language: 'c', kind, file: t.file, line: t.line, symbol: t.symbol, style: 'c-api' };
    emitted.push(target);
    if (t.evidence) target.evidence = t.evidence;
    if (rank !== undefined) target.rank = rank;
    this.bindings.push({ name, target });
  }

  // -------------------------------------------------------------------------------------------
  // Modules

  /** Module names the file defines (PyModuleDef m_name, else PyInit_X), with their tables. */
  private modules(file: string, f: CFileFacts): string[] {
    const names: string[] = [];
    for (const def of f.inits) {
      if (def.type !== 'PyModuleDef') continue;
      const fields = fieldsOf(def.elems, MODULE_DEF_FIELDS);
      const nameExpr = fields.get('m_name');
      let mods = nameExpr ? this.strings(nameExpr.text, file) : [];
      // The import name (`PyInit__io`) may differ from m_name ("io"): a file with one module
      // definition is bound under both.
      if (!mods.length || f.inits.filter((i) => i.type === 'PyModuleDef').length === 1) {
        mods = [...new Set([...mods, ...initNames(f)])];
      }
      if (!mods.length) {
        this.warnings.push(`C: module name of \`${def.name}\` in ${file} not found`);
        continue;
      }
      const methods = fields.get('m_methods');
      for (const mod of mods) {
        names.push(mod);
        this.emit(mod, 'module', { file, line: def.line, symbol: def.name, evidence: `\`PyModuleDef\` \`${def.name}\`` });
      }
      if (methods) this.linkMethodTable(methods.text, file, mods, false, `\`m_methods\` of \`${mods[0]}\``);
    }
    if (!names.length) names.push(...initNames(f));
    return [...new Set(names)];
  }

  // -------------------------------------------------------------------------------------------
  // Tables

  private linkMethodTable(expr: string, from: string, owners: string[], isType: boolean, evidence: string): void {
    const name = stripCasts(expr);
    if (!IDENT.test(name) || name === 'NULL') return;
    const table = this.initOf(name, from, 'PyMethodDef');
    if (!table) {
      this.warnings.push(`C: PyMethodDef table \`${name}\` (from ${from}) not found`);
      return;
    }
    for (const e of table.item.elems) {
      const entry = this.methodEntry(e, table.file);
      if (!entry) continue;
      // A C-API function (`Py_GenericAlias` as `__class_getitem__`) where CPython's sources are
      // not indexed: the entry's own line, which says which one.
      const fn = this.resolveFn(entry.cname, table.file)
        ?? cApiTarget(entry.cname, table.file, entry.line);
      if (!fn) continue;
      const kind: TargetKind = !isType ? 'function'
        : entry.pyName === '__new__' || entry.pyName === '__init__' ? 'constructor'
          : /\bMETH_CLASS\b/.test(entry.flags) ? 'classmethod'
            : /\bMETH_STATIC\b/.test(entry.flags) ? 'staticmethod' : 'method';
      const ev = fn.evidence ?? entry.evidence ?? evidence;
      for (const o of owners) this.emit(`${o}.${entry.pyName}`, kind, { ...fn, evidence: ev }, 0);
    }
  }

  /** One PyMethodDef entry: a braced entry, or an `X_METHODDEF` macro from Argument Clinic. */
  private methodEntry(e: CElem, file: string): { pyName: string; cname: string; flags: string; line: number; evidence?: string } | undefined {
    let items = e.items ?? this.callEntry(e, file);
    let evidence: string | undefined;
    if (!items && IDENT.test(e.text)) {
      const macro = this.macroEntry(e.text, file, '_METHODDEF');
      if (!macro) return undefined;
      if ('clinic' in macro) {
        const c = macro.clinic;
        const flags = (c.decorators ?? []).map((d) => (d === 'classmethod' ? 'METH_CLASS' : d === 'staticmethod' ? 'METH_STATIC' : '')).join(' ');
        return { pyName: c.name.split('.').pop()!, cname: c.cbase, flags, line: e.line, evidence: `Argument Clinic \`${c.name}\`` };
      }
      items = macro.items;
      evidence = `\`${e.text}\``;
    }
    if (!items) return undefined;
    const f = fieldsOf(items, METHOD_DEF_FIELDS);
    const pyName = literal(f.get('ml_name')?.text);
    const cname = stripCasts(f.get('ml_meth')?.text ?? '');
    if (!pyName || !IDENT.test(cname) || cname === 'NULL') return undefined;
    return { pyName, cname, flags: f.get('ml_flags')?.text ?? '', line: f.get('ml_meth')?.line ?? e.line, evidence };
  }

  /** A table entry written as a function-like macro call (`XMLPARSE_GETTER_DEF(ErrorCode)`,
   *  whose #define is `{#name, (getter)xmlparse_##name##_getter, NULL, NULL},`): its fields. */
  private callEntry(e: CElem, file: string): CElem[] | undefined {
    const m = /^([A-Za-z_]\w*)\s*\(([\s\S]*)\)$/.exec(e.text);
    if (!m) return undefined;
    const d = this.pick(this.defines.get(m[1])?.filter((x) => x.item.params), file);
    if (!d) return undefined;
    const args = splitArgs(`(${m[2]})`, 0)?.args ?? [];
    const text = substitute(d.item.body, d.item.params ?? [], args).trim().replace(/,\s*$/, '');
    if (!text.startsWith('{')) return undefined;
    return scanInitialiser(`{${text}}`, e.line)[0]?.items;
  }

  /** `X_METHODDEF` / `X_GETSETDEF` -> the entry its #define expands to (an empty fallback
   *  define is ignored), else the clinic block whose C base name gives that macro name. */
  private macroEntry(macro: string, file: string, suffix: string): { items: CElem[] } | { clinic: CClinic } | undefined {
    const defs = this.defines.get(macro)?.filter((d) => d.item.body.trim() !== '' && !d.item.params);
    const d = this.pick(defs, file);
    if (d) {
      const items = entryItems(d.item);
      if (items) return { items };
    }
    if (macro.endsWith(suffix)) {
      const base = macro.slice(0, -suffix.length);
      const cands: Located<CClinic>[] = [];
      for (const fileC of this.closure(file).keys()) {
        for (const c of this.files.get(fileC)?.clinic ?? []) {
          if (!c.decl && c.cbase.toUpperCase() === base) cands.push({ file: fileC, item: c });
        }
      }
      if (cands.length) return { clinic: cands[0].item };
    }
    this.unresolved.add(macro);
    return undefined;
  }

  private linkGetsets(expr: string, from: string, owners: string[], evidence: string): void {
    const name = stripCasts(expr);
    if (!IDENT.test(name) || name === 'NULL') return;
    const table = this.initOf(name, from, 'PyGetSetDef');
    if (!table) {
      this.warnings.push(`C: PyGetSetDef table \`${name}\` (from ${from}) not found`);
      return;
    }
    for (const e of table.item.elems) {
      let items = e.items ?? this.callEntry(e, table.file);
      if (!items && IDENT.test(e.text)) {
        const m = this.macroEntry(e.text, table.file, '_GETSETDEF');
        items = m && 'items' in m ? m.items : undefined;
      }
      if (!items) continue;
      const f = fieldsOf(items, GETSET_DEF_FIELDS);
      const pyName = literal(f.get('name')?.text);
      if (!pyName) continue;
      const get = stripCasts(f.get('get')?.text ?? '');
      const set = stripCasts(f.get('set')?.text ?? '');
      const useGet = IDENT.test(get) && get !== 'NULL';
      const cname = useGet ? get : set;
      if (!IDENT.test(cname) || cname === 'NULL') continue;
      const fn = this.resolveFn(cname, table.file);
      if (fn) for (const o of owners) this.emit(`${o}.${pyName}`, useGet ? 'getter' : 'setter', { ...fn, evidence }, 0);
    }
  }

  private linkMembers(expr: string, from: string, owners: string[], evidence: string): void {
    const name = stripCasts(expr);
    if (!IDENT.test(name) || name === 'NULL') return;
    const table = this.initOf(name, from, 'PyMemberDef');
    if (!table) {
      this.warnings.push(`C: PyMemberDef table \`${name}\` (from ${from}) not found`);
      return;
    }
    for (const e of table.item.elems) {
      const items = e.items ?? this.callEntry(e, table.file);
      if (!items) continue;
      const f = fieldsOf(items, MEMBER_DEF_FIELDS);
      const pyName = literal(f.get('name')?.text);
      if (!pyName) continue;
      const off = /offsetof\s*\(\s*(\w+)\s*,\s*([\w.]+)\s*\)/.exec(f.get('offset')?.text ?? '');
      // The symbol is the C field the entry exposes; its struct goes into the evidence.
      const symbol = off ? off[2] : name;
      const ev = off ? `${evidence}, field of \`${off[1]}\`` : evidence;
      for (const o of owners) this.emit(`${o}.${pyName}`, 'member', { file: table.file, line: e.line, symbol, evidence: ev }, 0);
    }
  }

  /** A struct sequence's named fields: `{"tm_year", "doc"}` entries (PyStructSequence_Field). */
  private linkStructSeqFields(expr: string, from: string, owners: string[], evidence: string): void {
    const name = stripCasts(expr);
    if (!owners.length || !IDENT.test(name) || name === 'NULL') return;
    const table = this.initOf(name, from, 'PyStructSequence_Field');
    if (!table) return;
    for (const e of table.item.elems) {
      const pyName = literal(e.items?.[0]?.text);
      if (pyName) for (const o of owners) this.emit(`${o}.${pyName}`, 'member', { file: table.file, line: e.line, symbol: pyName, evidence }, 0);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Types

  private collectTypes(): void {
    const all: { file: string; init: CInit; macro?: string }[] = [];
    for (const [file, f] of this.files) for (const init of f.inits) all.push({ file, init });
    all.push(...this.macroTypes);
    {
      for (const { file, init, macro } of all) {
        let fields: Map<string, CElem>;
        let nameExpr: CElem | undefined;
        if (init.type === 'PyTypeObject') {
          let elems = init.elems;
          // Old style `PyObject_HEAD_INIT(NULL) 0, "name"`: the ob_size element is separate.
          if (/^PyObject_HEAD_INIT\b/.test(elems[0]?.text ?? '') && /^\d+$/.test(elems[1]?.text ?? '')) {
            elems = [elems[0], ...elems.slice(2)];
          }
          fields = fieldsOf(elems, TYPE_OBJECT_FIELDS);
          // Fields the file sets at run time (`Pattern_Type.tp_methods = pattern_methods;`) where
          // the initialiser leaves them empty.
          // (From another file too when no other type object has the name: coverage's
          // `CTracerType.tp_new = PyType_GenericNew;` in module.c for tracer.c's type.)
          const sets: (CTypeSet & { file?: string })[] = (this.files.get(file)?.typeSets ?? []).filter((x) => x.type === init.name);
          if (!sets.length && (this.inits.get(init.name) ?? []).filter((x) => x.item.type === 'PyTypeObject').length === 1) {
            for (const [other, f] of this.files) if (other !== file) for (const x of f.typeSets ?? []) if (x.type === init.name) sets.push({ ...x, file: other });
          }
          for (const set of sets) {
            const have = fields.get(set.field)?.text;
            if (have === undefined || have === '0' || have === 'NULL') fields.set(set.field, { text: set.value, line: set.line, ...(set.file ? { file: set.file } : {}) });
          }
          nameExpr = fields.get('tp_name');
        } else if (init.type === 'PyType_Spec') {
          const spec = fieldsOf(init.elems, TYPE_SPEC_FIELDS);
          nameExpr = spec.get('name');
          fields = this.specFields(spec.get('slots'), file);
        } else if (init.type === 'PyStructSequence_Desc') {
          // A struct sequence (`time.struct_time`, `os.stat_result`): a class whose fields are
          // the named entries of its PyStructSequence_Field array.
          const desc = fieldsOf(init.elems, STRUCT_SEQ_DESC_FIELDS);
          nameExpr = desc.get('name');
          fields = new Map();
          const f = desc.get('fields');
          if (f) fields.set('fields', f);
          const bare = nameExpr && this.strings(nameExpr.text, file).find((n) => !n.includes('.'));
          if (bare) {
            const t: TypeInfo = { file, init, names: [], fields, bareName: bare };
            this.types.push(t);
            push(this.typeByVar, init.name, t);
            continue;
          }
        } else {
          continue;
        }
        if (!nameExpr) continue;
        const names = this.strings(nameExpr.text, file).map((n) => (n.includes('.') ? n : `builtins.${n}`));
        if (!names.length) {
          this.warnings.push(`C: type name of \`${init.name}\` in ${file} not understood: ${nameExpr.text}`);
          continue;
        }
        const t: TypeInfo = { file, init, names, fields, macro };
        this.types.push(t);
        push(this.typeByVar, init.name, t);
      }
    }
  }

  /** PyType_Slot array -> slot name -> value element. */
  private specFields(slotsExpr: CElem | undefined, from: string): Map<string, CElem> {
    const out = new Map<string, CElem>();
    const name = slotsExpr ? stripCasts(slotsExpr.text) : '';
    if (!IDENT.test(name)) return out;
    const slots = this.initOf(name, from, 'PyType_Slot');
    if (!slots) {
      this.warnings.push(`C: PyType_Slot array \`${name}\` (from ${from}) not found`);
      return out;
    }
    for (const e of slots.item.elems) {
      const [id, value] = e.items ?? [];
      const slot = id && specSlotName(id.text);
      if (slot && value && !out.has(slot)) out.set(slot, { ...value, line: e.line });
    }
    return out;
  }

  /** `typeVars`: variable -> the specs assigned to it, by line; the one assigned last before
   *  `line` is taken (`temp` holds Reader's type, then Writer's, in _csv). */
  private typeOf(expr: string, from: string, typeVars: Map<string, { line: number; spec: string }[]>, line = Infinity): TypeInfo | undefined {
    const x = stripCasts(expr);
    const assigned = typeVars.get(x);
    const before = assigned?.filter((a) => a.line <= line);
    const spec = (before?.length ? before.reduce((a, b) => (b.line >= a.line ? b : a)) : assigned?.[0])?.spec;
    const name = spec ?? x;
    if (!IDENT.test(name)) return undefined;
    // CPython's exceptions: `PyObject *PyExc_OSError = (PyObject *)&_PyExc_OSError`.
    const types = this.typeByVar.get(name) ?? (name.startsWith('PyExc_') ? this.typeByVar.get(`_${name}`) : undefined);
    const hit = this.pick(types?.map((t) => ({ file: t.file, item: t })), from);
    return hit?.item;
  }

  private linkType(t: TypeInfo): void {
    const { file, init } = t;
    const short = (n: string): string => n.split('.').pop()!;
    if (!t.names.length) return; // a struct sequence named without a module, in a file of none
    const label = short(t.names[0]);
    for (const n of t.names) {
      const evidence = t.macro ? `generated by \`${t.macro}\`` : `\`${init.type}\` \`${init.name}\``;
      this.emit(n, 'class', { file, line: init.line, symbol: init.name, evidence }, 0);
    }
    const methods = t.fields.get('tp_methods');
    if (methods) this.linkMethodTable(methods.text, file, t.names, true, `\`tp_methods\` of \`${label}\``);
    const getset = t.fields.get('tp_getset');
    if (getset) this.linkGetsets(getset.text, file, t.names, `\`tp_getset\` of \`${label}\``);
    const members = t.fields.get('tp_members');
    if (members) this.linkMembers(members.text, file, t.names, `\`tp_members\` of \`${label}\``);
    if (init.type === 'PyStructSequence_Desc') {
      this.linkStructSeqFields(t.fields.get('fields')?.text ?? '', file, t.names, `fields of struct sequence \`${init.name}\``);
      // What every struct sequence shares, when CPython's Objects/structseq.c is indexed.
      for (const [dunder, fn, kind] of STRUCT_SEQ_SHARED) {
        const def = this.pick(this.funcs.get(`${fn}_impl`) ?? this.funcs.get(fn), file);
        if (!def) continue;
        const symbol = this.funcs.has(`${fn}_impl`) ? `${fn}_impl` : fn;
        for (const n of t.names) this.emit(`${n}.${dunder}`, kind, { file: def.file, line: def.item.line, symbol, evidence: 'shared by every struct sequence' }, 2);
      }
    }

    // Slots: top-level ones, and those of the tp_as_* sub-structs of a static type.
    const slots = new Map<string, { value: string; from: string; line: number }>();
    for (const [k, v] of t.fields) if (SLOT_DUNDERS[k]) slots.set(k, { value: v.text, from: v.file ?? file, line: v.line });
    for (const ptr of SUB_STRUCT_POINTERS) {
      const v = t.fields.get(ptr);
      const subName = v ? stripCasts(v.text) : '';
      if (!IDENT.test(subName) || subName === 'NULL' || subName === '0') continue;
      const sub = this.initOf(subName, file);
      const order = sub && SUB_STRUCT_FIELDS[sub.item.type];
      if (!sub || !order) continue;
      for (const [k, e] of fieldsOf(sub.item.elems, order)) if (SLOT_DUNDERS[k]) slots.set(k, { value: e.text, from: sub.file, line: e.line });
    }
    for (const slot of SLOT_ORDER) {
      const s = slots.get(slot);
      if (!s) continue;
      const cname = stripCasts(s.value);
      if (!IDENT.test(cname) || GENERIC_SLOT_FUNCTIONS.has(cname)) continue;
      // A C-API function (`PyType_GenericNew`) where CPython's sources are not indexed: the
      // slot's own line, which says which one.
      const fn = this.resolveFn(cname, s.from)
        ?? cApiTarget(cname, s.from, s.line);
      if (!fn) continue;
      const kind: TargetKind = CONSTRUCTOR_SLOTS.has(slot) ? 'constructor' : 'slot';
      for (const n of t.names) {
        for (const d of SLOT_DUNDERS[slot]) {
          const key = `${n}.${d}`;
          const count = this.slotCount.get(key) ?? 0;
          this.slotCount.set(key, count + 1);
          this.emit(key, kind, { ...fn, evidence: `slot \`${slot}\` of \`${init.name}\`` }, 1 + count);
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Calls: heap types added to modules, exceptions, constants, SETBUILTIN

  private linkCalls(file: string, f: CFileFacts, modules: string[]): void {
    if (!f.calls.length) return;
    const typeVars = new Map<string, { line: number; spec: string }[]>(); // `state->X` -> spec variables
    const excVars = new Map<string, { names: string[]; line: number }>();
    /** Variables holding a module's dict (`d = PyModule_GetDict(m)`): what is set in them is
     *  added to the module, as with `PyModule_AddObjectRef`. */
    const moduleDicts = new Set<string>();
    /** Module dicts of the builtins module in a file of no module of its own (exceptions.c's
     *  `mod_dict = PyModule_GetDict(bltinmod)`, where INIT_ALIAS adds IOError). */
    const builtinsDicts = new Set<string>();
    /** `bimod = PyImport_ImportModule("builtins")`: variable -> module. */
    const imported = new Map<string, string>();
    /** `wrapper = _PyImport_GetModuleAttrString("io", "open")`: variable -> `io.open`. */
    const attrValues = new Map<string, string>();
    for (const c of f.calls) {
      if (/^PyType_From/.test(c.fn) && c.lhs) {
        const spec = c.args.map((a) => stripCasts(a)).find((a) => this.typeByVar.has(a));
        if (spec) push(typeVars, stripCasts(c.lhs), { line: c.line, spec });
      }
      // Modules imported by name, and attributes read from them.
      if (c.fn === 'PyImport_ImportModule' && c.lhs) {
        const m = literal(c.args[0]);
        if (m) imported.set(stripCasts(c.lhs), m);
      }
      if (/^_?PyImport_(?:GetModule|ImportModule)AttrString$/.test(c.fn) && c.lhs) {
        const m = literal(c.args[0]), a = literal(c.args[1]);
        if (m && a) attrValues.set(stripCasts(c.lhs), `${m}.${a}`);
      }
      if (c.fn === 'PyObject_GetAttrString' && c.lhs) {
        const m = imported.get(stripCasts(c.args[0] ?? '')), a = literal(c.args[1]);
        if (m && a) attrValues.set(stripCasts(c.lhs), `${m}.${a}`);
      }
      if (c.fn === 'PyModule_GetDict' && c.lhs) {
        moduleDicts.add(stripCasts(c.lhs));
        if (!modules.length && /^(?:bltinmod|builtins?(?:_?mod(?:ule)?)?)$/i.test(stripCasts(c.args[0] ?? ''))) builtinsDicts.add(stripCasts(c.lhs));
      }
    }
    for (const c of f.calls) {
      const where = { file, line: c.line };
      const via = c.via ? ` (via \`${c.via}\`)` : '';
      switch (c.fn) {
        case 'PyErr_NewException':
        case 'PyErr_NewExceptionWithDoc': {
          const names = this.strings(stripCasts(c.args[0] ?? ''), file).filter((n) => n.includes('.'));
          const symbol = c.lhs ? lastIdent(stripCasts(c.lhs)) : c.fn;
          for (const n of names) this.emit(n, 'exception', { ...where, symbol, evidence: `\`${c.fn}("${n}")\`` });
          if (c.lhs && names.length) excVars.set(stripCasts(c.lhs), { names, line: c.line });
          break;
        }
        case 'PyModule_AddType': {
          // `PyModule_AddType(m, typelist[i])` in a loop adds every type of the array.
          const arr = /^([A-Za-z_]\w*)\s*\[[^\]]*\]$/.exec(stripCasts(c.args[1] ?? ''));
          const list = arr ? this.initOf(arr[1], file, 'PyTypeObject*')?.item.elems.map((e) => e.text) : [c.args[1] ?? ''];
          for (const x of list ?? []) {
            const t = this.typeOf(x, file, typeVars, c.line);
            const short = t?.bareName ?? t?.names[0]?.split('.').pop();
            if (t && short) this.addTypeNames(t, modules.map((m) => `${m}.${short}`));
          }
          break;
        }
        case 'PyObject_SetAttrString': {
          // An attribute set on a module imported by name: `PyObject_SetAttrString(bimod, "open",
          // wrapper)` with `bimod = PyImport_ImportModule("builtins")` and `wrapper` read from io.
          const mod = imported.get(stripCasts(c.args[0] ?? ''));
          const pyName = literal(c.args[1]);
          if (!mod || !pyName || !IDENT.test(pyName)) break;
          const from = attrValues.get(stripCasts(c.args[2] ?? ''));
          if (from) this.aliases.push({ from: `${mod}.${pyName}`, to: from, star: false, file, line: c.line });
          else this.emit(`${mod}.${pyName}`, 'constant', { ...where, symbol: lastIdent(stripCasts(c.args[2] ?? '')) || pyName, evidence: `\`${c.fn}\`${via}` }, 5);
          break;
        }
        case 'PyModule_AddFunctions':
          if (modules.length) this.linkMethodTable(c.args[1] ?? '', file, modules, false, `\`PyModule_AddFunctions\`${via}`);
          break;
        case 'PyDict_SetItemString': // on the module's dict: as PyModule_AddObjectRef
        case 'PyDict_SetItem':
        case 'PyModule_AddObject':
        case 'PyModule_AddObjectRef':
        case 'PyModule_Add':
        case 'SETBUILTIN': {
          if (c.fn.startsWith('PyDict_') && !moduleDicts.has(stripCasts(c.args[0] ?? ''))) break;
          const isBuiltin = c.fn === 'SETBUILTIN';
          // A loop adding each entry of a method table: `PyModule_AddObject(mod, t[i].ml_name, f)`.
          const loop = /^([A-Za-z_]\w*)\s*\[[^\]]*\]\s*\.\s*ml_name$/.exec((c.args[1] ?? '').trim());
          if (loop && !isBuiltin) {
            if (modules.length) this.linkMethodTable(loop[1], file, modules, false, `\`${loop[1]}\` added entry by entry`);
            break;
          }
          const pyName = c.fn === 'PyDict_SetItem' ? literal(strFrom(c.args[1])) : this.nameArg(c.args[isBuiltin ? 0 : 1], file);
          // `Py_NewRef(x)` adds x (a new reference to it).
          const value = stripCasts(c.args[isBuiltin ? 1 : 2] ?? '').replace(/^\s*Py_X?NewRef\s*\(([\s\S]*)\)\s*$/, '$1');
          if (!pyName) break;
          const mods = isBuiltin || builtinsDicts.has(stripCasts(c.args[0] ?? '')) ? ['builtins'] : modules;
          const t = this.typeOf(value, file, typeVars, c.line);
          const exc = excVars.get(stripCasts(value));
          if (t) {
            this.addTypeNames(t, mods.map((m) => `${m}.${pyName}`));
          } else {
            // An object of a kind not known here: after any definition found for the same name
            // (a type this linker could not follow into the variable, say).
            const kind: TargetKind = exc ? 'exception' : 'constant';
            const line = exc ? exc.line : c.line;
            for (const m of mods) this.emit(`${m}.${pyName}`, kind, { file, line, symbol: lastIdent(stripCasts(value)) || c.fn, evidence: `\`${c.fn}\`${via}` }, exc ? undefined : 5);
          }
          break;
        }
        case 'PyModule_AddIntConstant':
        case 'PyModule_AddStringConstant': {
          const pyName = this.nameArg(c.args[1], file);
          if (pyName) for (const m of modules) this.emit(`${m}.${pyName}`, 'constant', { ...where, symbol: stripCasts(c.args[2] ?? '') || pyName, evidence: `\`${c.fn}\`${via}` });
          break;
        }
        case 'PyModule_AddIntMacro':
        case 'PyModule_AddStringMacro': {
          const pyName = (c.args[1] ?? '').trim();
          if (IDENT.test(pyName)) for (const m of modules) this.emit(`${m}.${pyName}`, 'constant', { ...where, symbol: pyName, evidence: `\`${c.fn}\`${via}` });
          break;
        }
        default:
          break;
      }
    }
  }

  private addTypeNames(t: TypeInfo, names: string[]): void {
    for (const n of names) if (!t.names.includes(n)) t.names.push(n);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** A define's body read as one initialiser entry (`X_METHODDEF`): read once per define, also
 *  across the linker runs of one build (facts are not changed once extracted). */
const ENTRY_ITEMS = new WeakMap<CDefine, CElem[] | null>();
function entryItems(d: CDefine): CElem[] | undefined {
  let items = ENTRY_ITEMS.get(d);
  if (items === undefined) {
    items = scanInitialiser(`{${d.body}}`, d.line)[0]?.items ?? null;
    ENTRY_ITEMS.set(d, items);
  }
  return items ?? undefined;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v); else m.set(k, [v]);
}

/** Positional and designated initialiser elements -> field name -> element. */
function fieldsOf(elems: CElem[], order: readonly string[]): Map<string, CElem> {
  const out = new Map<string, CElem>();
  let pos = 0;
  for (const e of elems) {
    if (e.field) {
      const i = order.indexOf(e.field);
      out.set(e.field, e);
      pos = i >= 0 ? i + 1 : pos;
      continue;
    }
    if (pos < order.length) out.set(order[pos], e);
    pos++;
  }
  return out;
}

/** The C string a str object is made from: `PyUnicode_FromString("x")` -> `"x"`. */
function strFrom(text: string | undefined): string | undefined {
  return /^PyUnicode_(?:Intern)?FromString\s*\(([\s\S]*)\)$/.exec(stripCasts(text ?? ''))?.[1];
}

/** The value of a string literal element (`"pack"`), undefined for anything else. */
function literal(text: string | undefined): string | undefined {
  // (A macro's parameter in parentheses: `PyModule_AddObjectRef(m, (ATTR), (VALUE))`.)
  const m = /^(?:\(\s*)*"((?:[^"\\]|\\.)*)"(?:\s*\))*$/.exec((text ?? '').trim());
  return m ? m[1] : undefined;
}

function initNames(f: CFileFacts): string[] {
  return f.functions.filter((fn) => fn.name.startsWith('PyInit_')).map((fn) => fn.name.slice(7));
}

/** Token-pasting macro body -> the generated function's name as parts (literal text or
 *  parameter index): `static PyObject * math_##funcname(...) {` -> ['math_', 0]. */
function functionTemplate(body: string, params: string[]): (string | number)[] | undefined {
  const re = /((?:[A-Za-z_]\w*\s*##\s*)*[A-Za-z_]\w*)\s*\(/g;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    const before = body.slice(0, m.index).trimEnd();
    if (!/[*\w]$/.test(before) || /\b(?:return|if|while|for|switch|sizeof|case)$/.test(before)) continue;
    const parts = m[1].split('##').map((p): string | number => {
      const s = p.trim();
      const i = params.indexOf(s);
      return i >= 0 ? i : s;
    });
    if (!parts.some((p) => typeof p === 'number')) return undefined; // a fixed name: not a generator
    return parts;
  }
  return undefined;
}

function normPath(p: string): string {
  return p.replace(/\\/g, '/');
}

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function parentDir(d: string): string | undefined {
  if (d === '/' || !d.includes('/')) return undefined;
  const p = dirOf(d);
  return p === d ? undefined : p;
}

function joinPath(dir: string, rel: string): string {
  const parts = (dir === '/' ? '' : dir).split('/');
  for (const seg of rel.split('/')) {
    if (seg === '..') parts.pop();
    else if (seg !== '.' && seg !== '') parts.push(seg);
  }
  return parts.join('/') || '/';
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** `state->StructError` -> `StructError`: the variable a C expression finally names. */
function lastIdent(expr: string): string {
  const m = /([A-Za-z_]\w*)\s*$/.exec(expr);
  return m ? m[1] : expr;
}
