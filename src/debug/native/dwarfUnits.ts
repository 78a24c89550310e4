/**
 * Finding things in a file's DWARF without reading all of it: the unit holding an address (from
 * `.debug_aranges`, else from the units' own ranges, indexed once), the unit holding a DIE offset,
 * and per unit, built on first use, the index of its functions' address ranges (a walk of the
 * top-level DIEs and, for languages with namespaces, of namespace and type scopes) and its line
 * table.
 */
import { ElfFile } from './elf';
import { AbbrevCache, Die, DwarfSections, Unit, dieRanges, forEachChild, strOf } from './dwarfInfo';
import { DwarfError, Reader, Tag } from './dwarfReader';
import { LineTable, decodeLineTable } from './dwarfLine';

export type Language = 'c' | 'rust' | 'c++' | 'other';

const DW_LANG_C89 = 0x1, DW_LANG_C = 0x2, DW_LANG_C_plus_plus = 0x4, DW_LANG_C99 = 0xc,
  DW_LANG_C_plus_plus_03 = 0x19, DW_LANG_C_plus_plus_11 = 0x1a, DW_LANG_Rust = 0x1c, DW_LANG_C11 = 0x1d,
  DW_LANG_C_plus_plus_14 = 0x21, DW_LANG_C17 = 0x2c;

function languageOf(code: number | undefined): Language {
  switch (code) {
    case DW_LANG_C89: case DW_LANG_C: case DW_LANG_C99: case DW_LANG_C11: case DW_LANG_C17: return 'c';
    case DW_LANG_C_plus_plus: case DW_LANG_C_plus_plus_03: case DW_LANG_C_plus_plus_11: case DW_LANG_C_plus_plus_14: return 'c++';
    case DW_LANG_Rust: return 'rust';
    default: return 'other';
  }
}

/** Sorted, possibly overlapping [lo, hi) ranges each naming a value; finds the innermost-starting one containing an address. */
class RangeIndex {
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly val: Float64Array;
  /** Greatest `hi` among entries 0..i, so a backwards scan can stop early. */
  private readonly maxHi: Float64Array;

  constructor(entries: [number, number, number][]) {
    entries.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const n = entries.length;
    this.lo = new Float64Array(n); this.hi = new Float64Array(n); this.val = new Float64Array(n); this.maxHi = new Float64Array(n);
    let max = 0;
    entries.forEach(([lo, hi, v], i) => {
      this.lo[i] = lo; this.hi[i] = hi; this.val[i] = v;
      max = Math.max(max, hi);
      this.maxHi[i] = max;
    });
  }

  find(addr: number): number | undefined {
    let l = 0, h = this.lo.length;
    while (l < h) {
      const m = (l + h) >> 1;
      if (this.lo[m] <= addr) l = m + 1; else h = m;
    }
    for (let i = l - 1; i >= 0 && this.maxHi[i] > addr; i--) if (addr < this.hi[i]) return this.val[i];
    return undefined;
  }
}

/** What the symbolizer needs of one compilation unit, built when an address first falls in it. */
export class CuState {
  readonly language: Language;
  readonly compDir: string | undefined;
  private functions: RangeIndex | undefined;
  /** For languages GDB qualifies: each subprogram DIE seen in a scope -> the scope's `a::b` prefix. */
  private readonly prefixes = new Map<number, string>();
  private lines: LineTable | undefined | null;

  constructor(readonly unit: Unit) {
    const root = unit.rootDie();
    this.language = languageOf(root.language);
    this.compDir = strOf(root.compDir);
  }

  get qualifies(): boolean {
    return this.language === 'rust' || this.language === 'c++';
  }

  /** The offset of the (out-of-line) subprogram DIE whose ranges contain `addr`. */
  functionAt(addr: number): number | undefined {
    this.functions ??= this.indexFunctions();
    return this.functions.find(addr);
  }

  /** The enclosing-scope prefix of a subprogram DIE of this unit ('' when at the top level). */
  prefixOf(dieOffset: number): string {
    this.functions ??= this.indexFunctions();
    return this.prefixes.get(dieOffset) ?? '';
  }

  lineTable(): LineTable | undefined {
    if (this.lines === undefined) {
      const root = this.unit.rootDie();
      this.lines = root.stmtList === undefined ? null : decodeLineTable(this.unit.dw, root.stmtList, {
        addrSize: this.unit.addrSize, compDir: this.compDir, name: strOf(root.name), lowPc: root.lowPc ?? 0,
      });
    }
    return this.lines ?? undefined;
  }

  private indexFunctions(): RangeIndex {
    const entries: [number, number, number][] = [];
    this.indexScope(this.unit.rootDie(), '', entries);
    return new RangeIndex(entries);
  }

  /** Walks one scope's children: subprograms are indexed, nested scopes walked (for qualified languages). */
  private indexScope(scope: Die, prefix: string, out: [number, number, number][]): number {
    return forEachChild(this.unit, scope, (child) => {
      if (child.tag === Tag.subprogram) {
        const r = dieRanges(this.unit, child);
        for (let i = 0; i < r.length; i += 2) out.push([r[i], r[i + 1], child.offset]);
        if (prefix) this.prefixes.set(child.offset, prefix);
        return undefined;
      }
      if (this.qualifies && child.hasChildren && isScope(child.tag)) {
        const name = strOf(child.name) ?? (child.tag === Tag.namespace ? '(anonymous namespace)' : '');
        return this.indexScope(child, name ? (prefix ? `${prefix}::${name}` : name) : prefix, out);
      }
      return undefined;
    });
  }
}

function isScope(tag: number): boolean {
  return tag === Tag.namespace || tag === Tag.structure_type || tag === Tag.class_type || tag === Tag.union_type
    || tag === Tag.enumeration_type || tag === Tag.interface_type || tag === Tag.module;
}

/** The units of one file's `.debug_info`, located by address or by DIE offset. */
export class UnitIndex {
  readonly dw: DwarfSections;
  private readonly abbrevs: AbbrevCache;
  private offsets: number[] | undefined;
  private readonly units = new Map<number, CuState>();
  private aranges: RangeIndex | undefined;
  private unitRanges: RangeIndex | undefined;

  constructor(elf: ElfFile) {
    this.dw = new DwarfSections(elf);
    this.abbrevs = new AbbrevCache(this.dw);
  }

  /** The unit at a `.debug_info` offset (its header's offset). */
  unitAt(offset: number): CuState {
    let s = this.units.get(offset);
    if (!s) {
      s = new CuState(new Unit(this.dw, offset, this.abbrevs));
      this.units.set(offset, s);
    }
    return s;
  }

  /** The unit whose address ranges contain `addr`. */
  unitForAddress(addr: number): CuState | undefined {
    this.aranges ??= this.readAranges();
    const hit = this.aranges.find(addr) ?? (this.unitRanges ??= this.readUnitRanges()).find(addr);
    return hit === undefined ? undefined : this.unitAt(hit);
  }

  /** The unit containing the DIE at `dieOffset`. */
  unitContaining(dieOffset: number): CuState {
    const offs = this.unitOffsets();
    let l = 0, h = offs.length;
    while (l < h) {
      const m = (l + h) >> 1;
      if (offs[m] <= dieOffset) l = m + 1; else h = m;
    }
    if (l === 0) throw new DwarfError(`no unit holds DIE ${dieOffset}`);
    return this.unitAt(offs[l - 1]);
  }

  private unitOffsets(): number[] {
    if (this.offsets) return this.offsets;
    const out: number[] = [];
    const info = this.dw.info;
    for (let off = 0; off + 11 <= info.length;) {
      this.dw.needInfo(off, 12);
      out.push(off);
      const r = new Reader(info, off);
      const len = r.u32();
      off = len === 0xffffffff ? r.u64() + off + 12 : len + off + 4;
    }
    this.offsets = out;
    return out;
  }

  private readAranges(): RangeIndex {
    const entries: [number, number, number][] = [];
    const sec = this.dw.aranges;
    for (let off = 0; off + 16 <= sec.length;) {
      const r = new Reader(sec, off);
      let len = r.u32(), offsetSize = 4;
      if (len === 0xffffffff) { len = r.u64(); offsetSize = 8; }
      const end = r.pos + len;
      r.u16(); // version
      const unit = r.uint(offsetSize);
      const addrSize = r.u8();
      r.u8(); // segment selector size
      const tuple = addrSize * 2;
      r.pos += (tuple - (r.pos - off) % tuple) % tuple; // tuples are aligned to their size
      while (r.pos + tuple <= end) {
        const lo = r.uint(addrSize), size = r.uint(addrSize);
        if (lo === 0 && size === 0) break;
        if (lo !== 0) entries.push([lo, lo + size, unit]);
      }
      off = end;
    }
    return new RangeIndex(entries);
  }

  /** The fallback when aranges are absent or incomplete: every code unit's root ranges, read once. */
  private readUnitRanges(): RangeIndex {
    const entries: [number, number, number][] = [];
    for (const off of this.unitOffsets()) {
      try {
        const s = this.unitAt(off);
        if (!s.unit.holdsCode) continue;
        const r = dieRanges(s.unit, s.unit.rootDie());
        for (let i = 0; i < r.length; i += 2) entries.push([r[i], r[i + 1], off]);
      } catch (e) {
        if (!(e instanceof DwarfError)) throw e; // a corrupt unit only loses its own addresses
      }
    }
    return new RangeIndex(entries);
  }
}
