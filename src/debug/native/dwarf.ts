/**
 * The DWARF symbolizer: an address in a loaded object becomes the frames GDB 13 shows for it in
 * a backtrace — innermost inlined function first, each with GDB's function name, MI `file`,
 * `fullname` and line — without GDB's cost of expanding whole compilation units.
 *
 * Only what the address needs is read: the unit (aranges), that unit's function ranges (one walk
 * of its top-level DIEs), the one subprogram's subtree along the blocks containing the address,
 * and the unit's line table. Units, names and answers are cached.
 *
 * GDB's rules reproduced here (GDB 13, dwarf2/read.c, stack.c, source.c):
 * - a function's name is found through DW_AT_specification/abstract_origin: for C its
 *   DW_AT_linkage_name when there is one (GDB keeps C names in linkage form), else DW_AT_name;
 *   for Rust (and C++) the DW_AT_name qualified by the namespaces and types enclosing the
 *   declaration (GDB ignores rustc's linkage names);
 * - the innermost frame's line is the line table's (see dwarfLine.ts); an outer frame's file and
 *   line are the DW_AT_call_file/call_line of the inlined call it contains;
 * - `fullname` is the real path of compilation dir + file when that file exists, else the two
 *   joined as they are;
 * - an address with line information but no function DIE is named from the ELF symbol table
 *   (GDB's minimal symbols) and keeps its file and line.
 */
import { existsSync, realpathSync } from 'node:fs';
import { ElfFile } from './elf';
import { Die, STOP, dieRanges, forEachChild, rangesContain, readDie, strOf } from './dwarfInfo';
import { Tag } from './dwarfReader';
import { Subfile } from './dwarfLine';
import { CuState, Language, UnitIndex } from './dwarfUnits';
import { PltNames } from './dwarfPlt';
import { DwarfTypes } from './dwarfTypes';
import { demangleRust } from '../stack/rustNames';

export interface SymFrame {
  function: string | undefined;
  /** GDB's MI `file`: the line table's file name joined to its directory entry. */
  file?: string;
  /** GDB's MI `fullname`. */
  fullname?: string;
  line?: number;
  /** True for frames inlined into the next (outer) one. */
  inlined?: boolean;
  language?: Language;
}

/** How many DW_AT_specification/abstract_origin links a name may go through (cycles in bad DWARF). */
const MAX_LINKS = 8;
/** Answers kept per symbolizer; a native stack sampler asks for the same few thousand addresses. */
const MAX_CACHED = 200_000;

export class Symbolizer {
  private readonly dwarf: UnitIndex | undefined;
  private readonly cache = new Map<number, SymFrame[]>();
  private readonly names = new Map<number, string | undefined>();
  private readonly fullnames = new Map<Subfile, string>();
  private readonly plt: PltNames;
  private readonly types = new Map<CuState, DwarfTypes>();

  /** `debug`: the separate file holding the DWARF when `object` is stripped. */
  constructor(private readonly object: ElfFile, private readonly debug?: ElfFile) {
    this.plt = new PltNames(object);
    const source = debug?.hasDwarf() ? debug : object.hasDwarf() ? object : undefined;
    try {
      this.dwarf = source ? new UnitIndex(source) : undefined;
    } catch {
      this.dwarf = undefined; // unreadable DWARF: symbol-table names only
    }
  }

  /**
   * Frames for an unbiased lookup address (the caller passes pc-1 for return addresses),
   * innermost first; the last is the real function. Never throws on bad DWARF.
   * The returned frames are shared with the cache: do not modify them.
   */
  frames(addr: bigint): SymFrame[] {
    const a = Number(addr);
    let out = this.cache.get(a);
    if (out) return out;
    try {
      out = this.dwarfFrames(a);
    } catch {
      out = undefined;
    }
    out ??= [{ function: this.symbolName(a) }];
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(a, out);
    return out;
  }

  /** The C types of the compile unit holding `addr` (undefined without DWARF there). */
  typesAt(addr: bigint): DwarfTypes | undefined {
    try {
      const cu = this.dwarf?.unitForAddress(Number(addr));
      if (!cu) return undefined;
      let t = this.types.get(cu);
      if (!t) {
        const dwarf = this.dwarf!;
        t = new DwarfTypes(cu, (offset) => dwarf.unitContaining(offset), () => this.originUnits(cu, Number(addr)));
        this.types.set(cu, t);
      }
      return t;
    } catch {
      return undefined;
    }
  }

  /**
   * The units a unit's functions come from (their abstract origins and specifications, outside
   * it): first the one of the function holding `addr`, then by how many functions each gave.
   */
  private originUnits(cu: CuState, addr: number): CuState[] {
    const unit = cu.unit;
    const counts = new Map<CuState, number>();
    let first: CuState | undefined;
    forEachChild(unit, unit.rootDie(), (d) => {
      if (d.tag !== Tag.subprogram) return undefined;
      const ref = d.origin ?? d.specification;
      if (ref === undefined || (ref >= unit.offset && ref < unit.end)) return undefined;
      const owner = this.dwarf!.unitContaining(ref);
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
      if (!first && rangesContain(dieRanges(unit, d), addr)) first = owner;
      return undefined;
    });
    const byCount = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([u]) => u);
    return first ? [first, ...byCount.filter((u) => u !== first)] : byCount;
  }

  /**
   * How many of the innermost inlined calls at `addr` begin exactly there: a thread stopped at
   * such an address has not yet entered them, and GDB shows the stop at their call site instead
   * (infrun's skip_inline_frames: an inlined block is entered at the start of one of its ranges).
   */
  inlinedEntriesAt(addr: bigint): number {
    const a = Number(addr);
    try {
      const cu = this.dwarf?.unitForAddress(a);
      const fnOffset = cu?.functionAt(a);
      if (!cu || fnOffset === undefined) return 0;
      const chain = inlinedChain(cu, readDie(cu.unit, fnOffset), a);
      let n = 0;
      for (let i = chain.length - 1; i >= 0 && startsAt(dieRanges(cu.unit, chain[i]), a); i--) n++;
      return n;
    } catch {
      return 0;
    }
  }

  private dwarfFrames(addr: number): SymFrame[] | undefined {
    const cu = this.dwarf?.unitForAddress(addr);
    if (!cu) return undefined;
    const lines = cu.lineTable();
    const hit = lines?.lookup(addr);
    const language = cu.language;
    const fnOffset = cu.functionAt(addr);
    const fn = fnOffset === undefined ? undefined : readDie(cu.unit, fnOffset);
    if (!fn) return [{ function: this.symbolName(addr), ...this.location(cu, hit?.subfile, hit?.line), language }];
    const dies = [fn, ...inlinedChain(cu, fn, addr)];
    const frames: SymFrame[] = [];
    for (let i = dies.length - 1; i >= 0; i--) {
      const inner = dies[i + 1];
      const loc = inner ? this.callSite(cu, inner) : this.location(cu, hit?.subfile, hit?.line);
      const name = this.functionName(cu, dies[i]) ?? (i === 0 ? this.symbolName(addr) : undefined);
      frames.push({ function: name, ...loc, inlined: i > 0, language });
    }
    return frames;
  }

  /** GDB's location for a frame containing an inlined call: the call's file and line. */
  private callSite(cu: CuState, inlined: Die): Partial<SymFrame> {
    // GDB keeps a symbol's line in 16 bits, so a call site past line 65535 shows wrapped.
    const line = (inlined.callLine ?? 0) & 0xffff;
    if (!line) return {};
    const lines = cu.lineTable();
    const subfile = inlined.callFile === undefined ? lines?.subfiles[0] : lines?.fileName(inlined.callFile);
    return this.location(cu, subfile, line);
  }

  private location(cu: CuState, subfile: Subfile | undefined, line: number | undefined): Partial<SymFrame> {
    if (!subfile || !line) return {};
    return { file: subfile.name, fullname: this.fullname(cu, subfile), line };
  }

  /**
   * GDB's symtab_to_fullname: the file found on disk (as a real path) when compilation dir +
   * name exists, else the two joined unchanged. GDB also searches its current directory; a
   * debugger front end's working directory is no place to look for sources, so that is left out.
   */
  private fullname(cu: CuState, subfile: Subfile): string {
    let full = this.fullnames.get(subfile);
    if (full === undefined) {
      const name = subfile.name;
      full = name.startsWith('/') || !cu.compDir ? name : `${cu.compDir}/${name}`;
      if (full.startsWith('/') && existsSync(full)) full = realpathSync(full);
      this.fullnames.set(subfile, full);
    }
    return full;
  }

  /** GDB's name for a subprogram or inlined-subroutine DIE (dwarf2_physname), cached by DIE. */
  private functionName(cu: CuState, die: Die): string | undefined {
    if (this.names.has(die.offset)) return this.names.get(die.offset);
    const name = this.computeName(cu, die);
    this.names.set(die.offset, name);
    return name;
  }

  private computeName(cu: CuState, die: Die): string | undefined {
    if (!cu.qualifies) {
      // GDB keeps C symbols in linkage form: glibc's `__GI_read`, gcc's `foo.isra.0` when given.
      const linked = this.follow(cu, die, (d) => d.linkageName !== undefined);
      if (linked) return strOf(linked.die.linkageName);
    }
    const named = this.follow(cu, die, (d) => d.name !== undefined);
    const base = named && strOf(named.die.name);
    if (base === undefined || !cu.qualifies) return base;
    const scope = this.declaration(cu, die);
    const prefix = scope.cu.prefixOf(scope.die.offset);
    return prefix ? `${prefix}::${base}` : base;
  }

  /**
   * The DIE whose parent scopes qualify the name (GDB's die_specification): the DW_AT_specification
   * target found along the abstract-origin chain, else the DIE's own abstract origin, else itself.
   */
  private declaration(cu: CuState, die: Die): { cu: CuState; die: Die } {
    const withSpec = this.follow(cu, die, (d) => d.specification !== undefined);
    if (withSpec) return this.target(withSpec.cu, withSpec.die.specification!);
    return die.origin !== undefined ? this.target(cu, die.origin) : { cu, die };
  }

  /** The first DIE along the specification/abstract-origin chain (starting at `die`) that satisfies `pred`. */
  private follow(cu: CuState, die: Die, pred: (d: Die) => boolean): { cu: CuState; die: Die } | undefined {
    let at = { cu, die };
    for (let i = 0; i < MAX_LINKS; i++) {
      if (pred(at.die)) return at;
      const next = at.die.specification ?? at.die.origin;
      if (next === undefined) return undefined;
      at = this.target(at.cu, next);
    }
    return undefined;
  }

  /** The DIE at an absolute offset, in its own unit (DW_FORM_ref_addr may leave the unit). */
  private target(cu: CuState, offset: number): { cu: CuState; die: Die } {
    const unit = cu.unit;
    const owner = offset >= unit.offset && offset < unit.end ? cu : this.dwarf!.unitContaining(offset);
    return { cu: owner, die: readDie(owner.unit, offset) };
  }

  /** The ELF symbol naming `addr` (or its PLT stub), demangled as GDB prints minimal symbols. */
  private symbolName(addr: number): string | undefined {
    const stub = this.plt.nameAt(addr);
    if (stub) return stub;
    const a = BigInt(addr);
    const sym = this.object.functionAt(a) ?? this.debug?.functionAt(a);
    if (!sym) return undefined;
    return demangleRust(sym.name) ?? sym.name;
  }
}

/**
 * The inlined subroutines containing `addr` inside subprogram `fn`, outermost first. Lexical
 * blocks are looked through (GDB treats one without addresses as part of its parent); other
 * children are skipped, by DW_AT_sibling where the producer gives it.
 */
function inlinedChain(cu: CuState, fn: Die, addr: number): Die[] {
  const chain: Die[] = [];
  const search = (parent: Die): number => forEachChild(cu.unit, parent, (child) => {
    if (child.tag !== Tag.inlined_subroutine && child.tag !== Tag.lexical_block) return undefined;
    const ranges = dieRanges(cu.unit, child);
    if (ranges.length === 0) return child.tag === Tag.lexical_block ? search(child) : undefined;
    if (!rangesContain(ranges, addr)) return undefined;
    if (child.tag === Tag.inlined_subroutine) chain.push(child);
    search(child);
    return STOP;
  });
  search(fn);
  return chain;
}

/** Whether one of the ranges ([start, end, ...]) starts at `addr`. */
function startsAt(ranges: number[], addr: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (ranges[i] === addr) return true;
  return false;
}
