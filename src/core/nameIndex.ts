/**
 * The merged, queryable index: every Python name bound to its implementations, re-exports
 * followed, and the reverse map (a C/Rust function -> the Python names it serves). Pure: built from
 * linker outputs, no I/O.
 */
import type { Alias, Binding, LinkOutput, Target } from './model';

export interface NamedTarget {
  name: string;
  target: Target;
}

/** How far re-export chains are followed (os -> posix, collections.deque -> _collections.deque). */
const MAX_ALIAS_DEPTH = 8;
/** How many names one query may expand through re-exports. */
const MAX_EXPANSIONS = 512;

function targetKey(t: Target): string {
  return `${t.file}\0${t.line}\0${t.symbol}`;
}

function rankOf(t: Target): number {
  return t.rank ?? (t.language === 'python' ? 20 : 0);
}

export class NameIndex {
  private readonly byName = new Map<string, Target[]>();
  /** Named re-exports, keyed by the name they create. */
  private readonly named = new Map<string, Alias[]>();
  /** Star re-exports, keyed by the importing module. */
  private readonly stars = new Map<string, Alias[]>();
  /** Reverse star map: the native module -> modules that star-import it. */
  private readonly starredBy = new Map<string, Alias[]>();
  private readonly namedByTarget = new Map<string, Alias[]>();
  /** file -> symbol -> names bound directly to it. */
  private readonly byFile = new Map<string, Map<string, { line: number; names: Set<string> }>>();
  private sortedNames: string[] | undefined;
  /** Every bound name and each of its dotted prefixes: a re-export hop to a name outside this
   *  set (and under no alias) cannot lead anywhere and is not taken. */
  private readonly prefixes = new Set<string>();

  constructor(outputs: Iterable<LinkOutput>) {
    for (const out of outputs) this.add(out);
  }

  /** Adds a linker's output: the same index as building with it last (a build adds C's while
   *  the Python files are still parsed). */
  add(out: LinkOutput): void {
    for (const b of out.bindings) this.addBinding(b);
    for (const a of out.aliases) this.addAlias(a);
    this.sortedNames = undefined;
  }

  /** Whether expanding `name` can give anything: it is bound (or a prefix of a bound name), or
   *  a prefix of it is re-exported from elsewhere. */
  private leadsAnywhere(name: string): boolean {
    if (this.prefixes.has(name)) return true;
    for (let i = name.length; i > 0; i = name.lastIndexOf('.', i - 1)) {
      const p = name.slice(0, i);
      if (this.named.has(p) || this.stars.has(p)) return true;
      if (i === 0) break;
    }
    return false;
  }

  get size(): number {
    return this.byName.size;
  }

  private addBinding(b: Binding): void {
    let list = this.byName.get(b.name);
    if (!list) {
      this.byName.set(b.name, (list = []));
      const name = b.name;
      for (let i = name.indexOf('.'); i >= 0; i = name.indexOf('.', i + 1)) this.prefixes.add(name.slice(0, i));
      this.prefixes.add(name);
    }
    const n = b.target;
    if (!list.some((t) => t.line === n.line && t.symbol === n.symbol && t.file === n.file)) { // = targetKey
      // Best rank first, in the order added among equals (a stable sort's order).
      const r = rankOf(n);
      let at = list.length;
      while (at > 0 && rankOf(list[at - 1]) > r) at--;
      list.splice(at, 0, n);
    }
    if (b.target.language !== 'python') {
      let syms = this.byFile.get(b.target.file);
      if (!syms) this.byFile.set(b.target.file, (syms = new Map()));
      let entry = syms.get(b.target.symbol);
      if (!entry) syms.set(b.target.symbol, (entry = { line: b.target.line, names: new Set() }));
      entry.names.add(b.name);
    }
  }

  private addAlias(a: Alias): void {
    if (a.from === a.to) return;
    const push = (m: Map<string, Alias[]>, k: string): void => {
      const l = m.get(k);
      if (l) l.push(a);
      else m.set(k, [a]);
    };
    if (a.star) {
      push(this.stars, a.from);
      push(this.starredBy, a.to);
    } else {
      push(this.named, a.from);
      push(this.namedByTarget, a.to);
    }
  }

  /** Targets for a Python name, best first; [] when unknown. Bare names are tried as builtins too
   *  (`len`, `list.append`). */
  resolve(name: string): Target[] {
    const seen = new Set<string>();
    const out: Target[] = [];
    const add = (ts: Target[]): void => {
      for (const t of ts) {
        const k = targetKey(t);
        if (!seen.has(k)) {
          seen.add(k);
          out.push(t);
        }
      }
    };
    add(this.expand(name, 0, new Set()));
    if (!name.startsWith('builtins.')) add(this.expand(`builtins.${name}`, 0, new Set()));
    // Stable sort: rank first, then discovery order (direct bindings before alias hops).
    return out
      .map((t, i) => ({ t, i }))
      .sort((a, b) => rankOf(a.t) - rankOf(b.t) || a.i - b.i)
      .map((x) => x.t);
  }

  /** Whether a dotted name is a known module or name prefix (used to stop alias search early). */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * Targets of `name` and of every name a re-export chain makes it. Each name is expanded once
   * per query (`done`), and a query stops after MAX_EXPANSIONS names: star imports of star
   * imports (tkinter, _pyrepl) would otherwise branch exponentially.
   */
  private expand(name: string, depth: number, done: Set<string>): Target[] {
    if (depth > MAX_ALIAS_DEPTH || done.has(name) || done.size >= MAX_EXPANSIONS) return [];
    done.add(name);
    if (!this.leadsAnywhere(name)) return [];
    const direct = this.byName.get(name) ?? [];
    // A name bound here to native code, or to a Python def that no re-export overrides (the
    // Python linker ranks overridden defs as fallbacks), is settled: no re-export to follow.
    if (direct.some((t) => t.language !== 'python' || rankOf(t) >= 20)) return direct;
    const out: Target[] = [...direct];
    const parts = name.split('.');
    // Longest prefix first: `json.decoder.c_scanstring` before `json.decoder`.
    for (let n = parts.length; n >= 1; n--) {
      const prefix = parts.slice(0, n).join('.');
      const rest = parts.slice(n);
      for (const a of this.named.get(prefix) ?? []) {
        out.push(...this.expand([a.to, ...rest].join('.'), depth + 1, done));
      }
      if (rest.length > 0) {
        for (const a of this.stars.get(prefix) ?? []) {
          out.push(...this.expand([a.to, ...rest].join('.'), depth + 1, done));
        }
      }
    }
    return out;
  }

  /** Python names served by a native function (the reverse direction), including the public
   *  names that re-exports give it (`posix.getcwd` is also `os.getcwd`). */
  namesFor(file: string, symbol: string): string[] {
    const entry = this.byFile.get(file)?.get(symbol);
    if (!entry) return [];
    const out = new Set<string>();
    for (const n of entry.names) {
      out.add(n);
      for (const r of this.reexportsOf(n)) out.add(r);
    }
    return [...out];
  }

  /** Native functions of one file that serve Python names: for CodeLens. */
  symbolsIn(file: string): { symbol: string; line: number; names: string[] }[] {
    const syms = this.byFile.get(file);
    if (!syms) return [];
    return [...syms.entries()]
      .map(([symbol, e]) => ({ symbol, line: e.line, names: this.namesFor(file, symbol) }))
      .sort((a, b) => a.line - b.line);
  }

  /** Public names that re-exports give `name`. Private re-exports (`import math as _math`,
   *  `from math import sqrt as _sqrt`) are reachable but name nothing a user would look for. */
  private reexportsOf(name: string): string[] {
    const out: string[] = [];
    const isPrivate = (n: string): boolean => n.split('.').some((c) => c.startsWith('_') && !c.startsWith('__'));
    const nameIsPrivate = isPrivate(name);
    const keep = (n: string): boolean => nameIsPrivate || !isPrivate(n);
    const parts = name.split('.');
    for (let n = parts.length - 1; n >= 1; n--) {
      const mod = parts.slice(0, n).join('.');
      const rest = parts.slice(n).join('.');
      for (const a of this.starredBy.get(mod) ?? []) {
        // (Not where the importing module binds the name itself: os.py's own `environ`.)
        const n = `${a.from}.${rest}`;
        if (keep(n) && !(this.byName.get(n) ?? []).some((t) => t.language !== 'python' || rankOf(t) >= 20)) out.push(n);
      }
    }
    for (let n = parts.length; n >= 1; n--) {
      const prefix = parts.slice(0, n).join('.');
      const rest = parts.slice(n);
      for (const a of this.namedByTarget.get(prefix) ?? []) {
        const n = [a.from, ...rest].join('.');
        if (keep(n)) out.push(n);
      }
    }
    return out;
  }

  /** Workspace symbols: names containing the query (case-insensitive), shortest first. */
  search(query: string, limit = 200): NamedTarget[] {
    const q = query.toLowerCase();
    this.sortedNames ??= [...this.byName.keys()].sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
    const out: NamedTarget[] = [];
    for (const name of this.sortedNames) {
      if (q && !name.toLowerCase().includes(q)) continue;
      const t = this.byName.get(name)![0];
      out.push({ name, target: t });
      if (out.length >= limit) break;
    }
    return out;
  }

  allNames(): IterableIterator<string> {
    return this.byName.keys();
  }
}
