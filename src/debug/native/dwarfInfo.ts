/**
 * The `.debug_info` side of DWARF 2–5: unit headers, abbreviation tables, reading one DIE's
 * attributes (only those the symbolizer needs; the rest are skipped by form), skipping subtrees,
 * and the address ranges of a DIE (low/high pc, `.debug_ranges` v4, `.debug_rnglists` v5).
 * Nothing is decoded before it is asked for: a DIE is read where it is, by offset.
 */
import { ElfFile } from './elf';
import { At, cStringAt, DwarfError, Form, Reader, Tag } from './dwarfReader';

/** The DWARF sections of one file (absent ones empty), each read on first use. */
export class DwarfSections {
  private readonly cache = new Map<string, Uint8Array>();
  /** `.debug_info` and `.debug_line` (the large ones: 14 and 3 MB in a libpython) are read
   *  in the parts asked for; the others whole. */
  private readonly sparse = new Map<string, SparseSection>();

  constructor(private readonly elf: ElfFile) {}

  private get(name: string): Uint8Array {
    let d = this.cache.get(name);
    if (!d) {
      d = this.elf.sectionData(name) ?? new Uint8Array();
      this.cache.set(name, d);
    }
    return d;
  }

  private part(name: string): SparseSection {
    let s = this.sparse.get(name);
    if (!s) {
      s = new SparseSection(this.elf, name, () => this.get(name));
      this.sparse.set(name, s);
    }
    return s;
  }

  /** The whole `.debug_info`, of which only the parts `needInfo` was called for are read. */
  get info(): Uint8Array { return this.part('.debug_info').bytes; }
  /** Reads `.debug_info` bytes [offset, offset + size) if not read yet. */
  needInfo(offset: number, size: number): void { this.part('.debug_info').need(offset, size); }
  get line(): Uint8Array { return this.part('.debug_line').bytes; }
  needLine(offset: number, size: number): void { this.part('.debug_line').need(offset, size); }
  get abbrev(): Uint8Array { return this.get('.debug_abbrev'); }
  get str(): Uint8Array { return this.get('.debug_str'); }
  get lineStr(): Uint8Array { return this.get('.debug_line_str'); }
  get addr(): Uint8Array { return this.get('.debug_addr'); }
  get strOffsets(): Uint8Array { return this.get('.debug_str_offsets'); }
  get ranges(): Uint8Array { return this.get('.debug_ranges'); }
  get rnglists(): Uint8Array { return this.get('.debug_rnglists'); }
  get aranges(): Uint8Array { return this.get('.debug_aranges'); }
}

const CHUNK = 1 << 16;

/**
 * A section read by 64 KiB chunks as its parts are needed, into a buffer of its full size (zeros
 * where not read). A compressed section cannot be read in parts: it is inflated whole.
 */
class SparseSection {
  readonly bytes: Uint8Array;
  private readonly loaded: Uint8Array;
  private readonly fileOffset: number;

  constructor(private readonly elf: ElfFile, name: string, whole: () => Uint8Array) {
    const sec = elf.section(name);
    if (!sec || sec.type === 8 /* NOBITS */ || (sec.flags & 0x800n) !== 0n /* compressed */) {
      this.bytes = whole();
      this.loaded = new Uint8Array(Math.ceil(this.bytes.length / CHUNK)).fill(1);
      this.fileOffset = -1;
    } else {
      this.bytes = new Uint8Array(sec.size);
      this.loaded = new Uint8Array(Math.ceil(sec.size / CHUNK));
      this.fileOffset = sec.offset;
    }
  }

  need(offset: number, size: number): void {
    const last = Math.min(this.loaded.length - 1, Math.floor((offset + Math.max(size, 1) - 1) / CHUNK));
    for (let c = Math.max(0, Math.floor(offset / CHUNK)); c <= last; c++) {
      if (this.loaded[c]) continue;
      let end = c;
      while (end + 1 <= last && !this.loaded[end + 1]) end++;
      const from = c * CHUNK, to = Math.min(this.bytes.length, (end + 1) * CHUNK);
      this.bytes.set(this.elf.bytes(this.fileOffset + from, to - from), from);
      this.loaded.fill(1, c, end + 1);
      c = end;
    }
  }
}

export interface Abbrev {
  tag: number;
  hasChildren: boolean;
  attrs: number[];
  forms: number[];
  /** DW_FORM_implicit_const values, by attribute position. */
  consts: number[];
  /** Total size of the attributes when every form has a fixed size for the unit, else -1. */
  fixedSize: number;
}

/** A string stored in a section, decoded only when a name is actually printed. */
export interface StrRef {
  sec: Uint8Array;
  at: number;
}

/** The attributes of one DIE that the symbolizer uses. References are absolute `.debug_info` offsets. */
export interface Die {
  offset: number;
  tag: number;
  hasChildren: boolean;
  /** Offset of the first child, or of the next sibling when there are no children. */
  next: number;
  name?: StrRef;
  linkageName?: StrRef;
  sibling?: number;
  origin?: number;
  specification?: number;
  lowPc?: number;
  highPc?: number;
  highPcIsOffset?: boolean;
  /** DW_AT_ranges: a section offset, or with `rangesIsIndex` an index into the unit's rnglists offsets. */
  ranges?: number;
  rangesIsIndex?: boolean;
  callFile?: number;
  callLine?: number;
  language?: number;
  compDir?: StrRef;
  stmtList?: number;
  /** For types and members (dwarfTypes.ts): DW_AT_type (absolute offset), DW_AT_byte_size,
   *  DW_AT_data_member_location (a constant, or DW_OP_plus_uconst's operand), DW_AT_declaration. */
  type?: number;
  byteSize?: number;
  memberOffset?: number;
  declaration?: boolean;
}

/** Where a unit's entries start in `.debug_str_offsets`, `.debug_addr` and `.debug_rnglists`. */
export interface UnitBases {
  strOffsets: number;
  addr: number;
  rnglists: number;
}

const DW_UT_compile = 1, DW_UT_type = 2, DW_UT_partial = 3, DW_UT_skeleton = 4, DW_UT_split_compile = 5, DW_UT_split_type = 6;

/** One unit of `.debug_info`, with the bases its root DIE sets (read when the unit is opened). */
export class Unit {
  readonly version: number;
  readonly offsetSize: number;
  readonly addrSize: number;
  readonly unitType: number;
  /** End of the unit (offset of the next one). */
  readonly end: number;
  /** Offset of the root DIE. */
  readonly dieStart: number;
  readonly abbrevOffset: number;
  private abbrevs: Map<number, Abbrev> | undefined;
  private root: Die | undefined;
  private basesRead: UnitBases | undefined;

  constructor(readonly dw: DwarfSections, readonly offset: number, private readonly abbrevCache: AbbrevCache) {
    dw.needInfo(offset, 24); // the longest header
    const r = new Reader(dw.info, offset);
    let length = r.u32();
    this.offsetSize = 4;
    if (length === 0xffffffff) { length = r.u64(); this.offsetSize = 8; }
    this.end = r.pos + length;
    this.version = r.u16();
    if (this.version < 2 || this.version > 5) throw new DwarfError(`unit at ${offset}: DWARF version ${this.version}`);
    if (this.version >= 5) {
      this.unitType = r.u8();
      this.addrSize = r.u8();
      this.abbrevOffset = r.uint(this.offsetSize);
      if (this.unitType === DW_UT_skeleton || this.unitType === DW_UT_split_compile) r.pos += 8;
      else if (this.unitType === DW_UT_type || this.unitType === DW_UT_split_type) r.pos += 8 + this.offsetSize;
    } else {
      this.unitType = DW_UT_compile;
      this.abbrevOffset = r.uint(this.offsetSize);
      this.addrSize = r.u8();
    }
    this.dieStart = r.pos;
    dw.needInfo(offset, this.end - offset);
  }

  /** Whether the unit can describe code (not a type unit). */
  get holdsCode(): boolean {
    return this.unitType === DW_UT_compile || this.unitType === DW_UT_partial || this.unitType === DW_UT_skeleton;
  }

  abbrevTable(): Map<number, Abbrev> {
    this.abbrevs ??= this.abbrevCache.table(this);
    return this.abbrevs;
  }

  /** The root DIE (compile unit), whose bases the other DIEs' forms need. */
  rootDie(): Die {
    if (!this.root) {
      this.root = readDie(this, this.dieStart);
      if (this.root.tag !== Tag.compile_unit && this.root.tag !== Tag.partial_unit && this.root.tag !== Tag.skeleton_unit) {
        throw new DwarfError(`unit at ${this.offset}: root DIE is tag ${this.root.tag}`);
      }
    }
    return this.root;
  }

  /**
   * The root DIE's DW_AT_*_base attributes, read in a pass of their own: other attributes of the
   * root (a strx name, an addrx low_pc) may come before them and need them. Absent bases default
   * to just past the first table header, where single-unit producers put the entries.
   */
  bases(): UnitBases {
    if (this.basesRead) return this.basesRead;
    const header = this.offsetSize === 8 ? 16 : 8;
    const b: UnitBases = { strOffsets: header, addr: 8, rnglists: header + 4 };
    this.basesRead = b;
    const r = new Reader(this.dw.info, this.dieStart);
    const ab = this.abbrevTable().get(r.uleb());
    for (let i = 0; ab && i < ab.attrs.length; i++) {
      const form = ab.forms[i] === Form.indirect ? r.uleb() : ab.forms[i];
      const attr = ab.attrs[i];
      if (attr !== At.str_offsets_base && attr !== At.addr_base && attr !== At.rnglists_base) { skipForm(r, form, this); continue; }
      const v = r.uint(this.offsetSize);
      if (attr === At.str_offsets_base) b.strOffsets = v;
      else if (attr === At.addr_base) b.addr = v;
      else b.rnglists = v;
    }
    return b;
  }

  /** Size in bytes of a DW_FORM_ref_addr. */
  get refAddrSize(): number {
    return this.version <= 2 ? this.addrSize : this.offsetSize;
  }
}

/** Abbreviation tables by offset and unit shape (fixed sizes depend on address and offset size). */
export class AbbrevCache {
  private readonly tables = new Map<string, Map<number, Abbrev>>();

  constructor(private readonly dw: DwarfSections) {}

  table(unit: Unit): Map<number, Abbrev> {
    const key = `${unit.abbrevOffset}:${unit.addrSize}:${unit.offsetSize}:${unit.version}`;
    let t = this.tables.get(key);
    if (!t) {
      t = parseAbbrevs(this.dw.abbrev, unit);
      this.tables.set(key, t);
    }
    return t;
  }
}

function parseAbbrevs(sec: Uint8Array, unit: Unit): Map<number, Abbrev> {
  const r = new Reader(sec, unit.abbrevOffset);
  const out = new Map<number, Abbrev>();
  for (;;) {
    const code = r.uleb();
    if (code === 0) break;
    const tag = r.uleb();
    const hasChildren = r.u8() !== 0;
    const attrs: number[] = [], forms: number[] = [], consts: number[] = [];
    let fixedSize = 0;
    for (;;) {
      const name = r.uleb(), form = r.uleb();
      if (name === 0 && form === 0) break;
      attrs.push(name);
      forms.push(form);
      consts.push(form === Form.implicit_const ? r.sleb() : 0);
      const size = fixedFormSize(form, unit);
      fixedSize = size < 0 || fixedSize < 0 ? -1 : fixedSize + size;
    }
    out.set(code, { tag, hasChildren, attrs, forms, consts, fixedSize });
  }
  return out;
}

/** The size of a form's value when it does not depend on the data, else -1. */
function fixedFormSize(form: number, unit: Unit): number {
  switch (form) {
    case Form.flag_present: case Form.implicit_const: return 0;
    case Form.data1: case Form.ref1: case Form.flag: case Form.strx1: case Form.addrx1: return 1;
    case Form.data2: case Form.ref2: case Form.strx2: case Form.addrx2: return 2;
    case Form.strx3: case Form.addrx3: return 3;
    case Form.data4: case Form.ref4: case Form.strx4: case Form.addrx4: case Form.ref_sup4: return 4;
    case Form.data8: case Form.ref8: case Form.ref_sig8: case Form.ref_sup8: return 8;
    case Form.data16: return 16;
    case Form.addr: return unit.addrSize;
    case Form.ref_addr: return unit.refAddrSize;
    case Form.strp: case Form.line_strp: case Form.sec_offset: case Form.strp_sup:
    case Form.GNU_ref_alt: case Form.GNU_strp_alt: return unit.offsetSize;
    default: return -1;
  }
}

/** Moves the reader past one attribute value of `form`. */
function skipForm(r: Reader, form: number, unit: Unit): void {
  const size = fixedFormSize(form, unit);
  if (size >= 0) { r.pos += size; return; }
  switch (form) {
    case Form.string: r.skipCString(); return;
    // Not `r.pos += r.u8()`: that adds to the position from before the length was read.
    case Form.block1: { const n = r.u8(); r.pos += n; } return;
    case Form.block2: { const n = r.u16(); r.pos += n; } return;
    case Form.block4: { const n = r.u32(); r.pos += n; } return;
    case Form.block: case Form.exprloc: { const n = r.uleb(); r.pos += n; } return;
    case Form.sdata: r.sleb(); return;
    case Form.udata: case Form.ref_udata: case Form.strx: case Form.addrx: case Form.loclistx:
    case Form.rnglistx: case Form.GNU_addr_index: case Form.GNU_str_index: r.uleb(); return;
    case Form.indirect: skipForm(r, r.uleb(), unit); return;
    default: throw new DwarfError(`unknown DWARF form 0x${form.toString(16)}`);
  }
}

/** Reads an integer-valued form (constants, offsets, references relative to the unit made absolute). */
function readNumber(r: Reader, form: number, unit: Unit, implicit: number): number | undefined {
  switch (form) {
    case Form.data1: case Form.flag: return r.u8();
    case Form.data2: return r.u16();
    case Form.data4: return r.u32();
    case Form.data8: return r.u64();
    case Form.udata: return r.uleb();
    case Form.sdata: return r.sleb();
    case Form.implicit_const: return implicit;
    case Form.flag_present: return 1;
    case Form.sec_offset: return r.uint(unit.offsetSize);
    case Form.ref1: return unit.offset + r.u8();
    case Form.ref2: return unit.offset + r.u16();
    case Form.ref4: return unit.offset + r.u32();
    case Form.ref8: return unit.offset + r.u64();
    case Form.ref_udata: return unit.offset + r.uleb();
    case Form.ref_addr: return r.uint(unit.refAddrSize);
    case Form.addr: return r.uint(unit.addrSize);
    case Form.addrx: case Form.GNU_addr_index: return indexedAddress(unit, r.uleb());
    case Form.addrx1: return indexedAddress(unit, r.u8());
    case Form.addrx2: return indexedAddress(unit, r.u16());
    case Form.addrx3: return indexedAddress(unit, r.u24());
    case Form.addrx4: return indexedAddress(unit, r.u32());
    default: skipForm(r, form, unit); return undefined; // references into other files (dwz, type units)
  }
}

/** Reads a string-valued form as a reference into its section. */
function readStr(r: Reader, form: number, unit: Unit): StrRef | undefined {
  const dw = unit.dw;
  switch (form) {
    case Form.string: return { sec: dw.info, at: r.skipCString() };
    case Form.strp: return { sec: dw.str, at: r.uint(unit.offsetSize) };
    case Form.line_strp: return { sec: dw.lineStr, at: r.uint(unit.offsetSize) };
    case Form.strx: case Form.GNU_str_index: return indexedString(unit, r.uleb());
    case Form.strx1: return indexedString(unit, r.u8());
    case Form.strx2: return indexedString(unit, r.u16());
    case Form.strx3: return indexedString(unit, r.u24());
    case Form.strx4: return indexedString(unit, r.u32());
    default: skipForm(r, form, unit); return undefined; // strings in a dwz/supplementary file
  }
}

function indexedString(unit: Unit, index: number): StrRef {
  const r = new Reader(unit.dw.strOffsets, unit.bases().strOffsets + index * unit.offsetSize);
  return { sec: unit.dw.str, at: r.uint(unit.offsetSize) };
}

function indexedAddress(unit: Unit, index: number): number {
  return new Reader(unit.dw.addr, unit.bases().addr + index * unit.addrSize).uint(unit.addrSize);
}

/** Reads the DIE at `offset` (abbreviation code 0, a null entry, gives tag 0). */
export function readDie(unit: Unit, offset: number): Die {
  const r = new Reader(unit.dw.info, offset);
  const code = r.uleb();
  if (code === 0) return { offset, tag: 0, hasChildren: false, next: r.pos };
  const ab = unit.abbrevTable().get(code);
  if (!ab) throw new DwarfError(`DIE at ${offset}: unknown abbreviation ${code}`);
  const die: Die = { offset, tag: ab.tag, hasChildren: ab.hasChildren, next: 0 };
  for (let i = 0; i < ab.attrs.length; i++) readAttr(r, die, ab.attrs[i], ab.forms[i], ab.consts[i], unit);
  die.next = r.pos;
  return die;
}

function readAttr(r: Reader, die: Die, attr: number, form: number, implicit: number, unit: Unit): void {
  if (form === Form.indirect) form = r.uleb();
  switch (attr) {
    case At.name: die.name = readStr(r, form, unit); return;
    case At.linkage_name: case At.MIPS_linkage_name: die.linkageName = readStr(r, form, unit); return;
    case At.comp_dir: die.compDir = readStr(r, form, unit); return;
    case At.sibling: die.sibling = readNumber(r, form, unit, implicit); return;
    case At.abstract_origin: die.origin = readNumber(r, form, unit, implicit); return;
    case At.specification: die.specification = readNumber(r, form, unit, implicit); return;
    case At.low_pc: die.lowPc = readNumber(r, form, unit, implicit); return;
    case At.high_pc:
      die.highPcIsOffset = form !== Form.addr && !isAddrx(form);
      die.highPc = readNumber(r, form, unit, implicit);
      return;
    case At.ranges:
      die.rangesIsIndex = form === Form.rnglistx;
      die.ranges = form === Form.rnglistx ? r.uleb() : readNumber(r, form, unit, implicit);
      return;
    case At.call_file: die.callFile = readNumber(r, form, unit, implicit); return;
    case At.call_line: die.callLine = readNumber(r, form, unit, implicit); return;
    case At.language: die.language = readNumber(r, form, unit, implicit); return;
    case At.stmt_list: die.stmtList = readNumber(r, form, unit, implicit); return;
    case At.type: die.type = readNumber(r, form, unit, implicit); return;
    case At.byte_size: die.byteSize = readNumber(r, form, unit, implicit); return;
    case At.declaration: die.declaration = readNumber(r, form, unit, implicit) !== 0; return;
    case At.data_member_location: die.memberOffset = readMemberLocation(r, form, unit, implicit); return;
    default: skipForm(r, form, unit);
  }
}

/** A member's offset: a constant, or (DWARF 2/3) an expression that is one DW_OP_plus_uconst. */
function readMemberLocation(r: Reader, form: number, unit: Unit, implicit: number): number | undefined {
  if (form !== Form.exprloc && form !== Form.block1 && form !== Form.block && form !== Form.block2 && form !== Form.block4) {
    return readNumber(r, form, unit, implicit);
  }
  const len = form === Form.block1 ? r.u8() : form === Form.block2 ? r.u16() : form === Form.block4 ? r.u32() : r.uleb();
  const end = r.pos + len;
  const DW_OP_plus_uconst = 0x23;
  const v = len > 1 && r.u8() === DW_OP_plus_uconst ? r.uleb() : undefined;
  r.pos = end;
  return v;
}

function isAddrx(form: number): boolean {
  return form === Form.addrx || form === Form.GNU_addr_index || (form >= Form.addrx1 && form <= Form.addrx4);
}

/** Offset just past the DIE at `offset` and all its descendants. */
export function skipSubtree(unit: Unit, die: Die): number {
  if (!die.hasChildren) return die.next;
  if (die.sibling !== undefined && die.sibling > die.offset && die.sibling <= unit.end) return die.sibling;
  const abbrevs = unit.abbrevTable();
  const r = new Reader(unit.dw.info, die.next);
  let depth = 1;
  while (depth > 0) {
    if (r.pos >= unit.end) throw new DwarfError(`unit at ${unit.offset}: children run past its end`);
    const code = r.uleb();
    if (code === 0) { depth--; continue; }
    const ab = abbrevs.get(code);
    if (!ab) throw new DwarfError(`DIE at ${r.pos}: unknown abbreviation ${code}`);
    if (ab.fixedSize >= 0) r.pos += ab.fixedSize;
    else for (let i = 0; i < ab.forms.length; i++) skipForm(r, ab.forms[i], unit);
    if (ab.hasChildren) depth++;
  }
  return r.pos;
}

/** Returned by a `forEachChild` visitor to end the walk early. */
export const STOP = -1;

/**
 * Calls `visit` for each child of `parent` (which must have been read). The visitor returns
 * undefined to have the child's subtree skipped, the offset just past the subtree when it walked
 * it itself, or STOP. Returns the offset just past the children, or STOP.
 */
export function forEachChild(unit: Unit, parent: Die, visit: (child: Die) => number | void): number {
  if (!parent.hasChildren) return parent.next;
  let off = parent.next;
  for (;;) {
    if (off >= unit.end) throw new DwarfError(`unit at ${unit.offset}: children run past its end`);
    const child = readDie(unit, off);
    if (child.tag === 0) return child.next;
    const after = visit(child);
    if (after === STOP) return STOP;
    off = after ?? skipSubtree(unit, child);
  }
}

/** Display string of a name reference. */
export function strOf(ref: StrRef | undefined): string | undefined {
  return ref ? cStringAt(ref.sec, ref.at) : undefined;
}

/**
 * The [low, high) address ranges of a DIE, as pairs in one flat array; empty when the DIE has no
 * code. Like GDB, a range starting at 0 is taken as a discarded function's tombstone.
 */
export function dieRanges(unit: Unit, die: Die): number[] {
  if (die.ranges !== undefined) {
    // Range lists are relative to the unit's base address: the root DIE's low_pc.
    const base = (die.offset === unit.dieStart ? die.lowPc : unit.rootDie().lowPc) ?? 0;
    return unitRanges(unit, die.ranges, die.rangesIsIndex === true, base);
  }
  if (die.lowPc === undefined || die.highPc === undefined) return [];
  const high = die.highPcIsOffset ? die.lowPc + die.highPc : die.highPc;
  return die.lowPc !== 0 && high > die.lowPc ? [die.lowPc, high] : [];
}

function unitRanges(unit: Unit, value: number, isIndex: boolean, base: number): number[] {
  const out: number[] = [];
  const push = (lo: number, hi: number) => { if (lo !== 0 && hi > lo) out.push(lo, hi); };
  if (unit.version < 5) {
    readRangesV4(unit, value, base, push);
  } else {
    let offset = value;
    if (isIndex) {
      const listBase = unit.bases().rnglists;
      offset = listBase + new Reader(unit.dw.rnglists, listBase + value * unit.offsetSize).uint(unit.offsetSize);
    }
    readRngList(unit, offset, base, push);
  }
  return out;
}

function readRangesV4(unit: Unit, offset: number, base: number, push: (lo: number, hi: number) => void): void {
  const r = new Reader(unit.dw.ranges, offset);
  const max = unit.addrSize === 8 ? 0xffffffffffffffff : 0xffffffff;
  for (;;) {
    const a = r.uint(unit.addrSize), b = r.uint(unit.addrSize);
    if (a === 0 && b === 0) return;
    if (a === max) base = b;
    else push(base + a, base + b);
  }
}

const enum Rle {
  end_of_list = 0, base_addressx = 1, startx_endx = 2, startx_length = 3, offset_pair = 4,
  base_address = 5, start_end = 6, start_length = 7,
}

function readRngList(unit: Unit, offset: number, base: number, push: (lo: number, hi: number) => void): void {
  const r = new Reader(unit.dw.rnglists, offset);
  const addr = () => r.uint(unit.addrSize);
  for (;;) {
    switch (r.u8()) {
      case Rle.end_of_list: return;
      case Rle.base_addressx: base = indexedAddress(unit, r.uleb()); break;
      case Rle.startx_endx: { const a = indexedAddress(unit, r.uleb()); push(a, indexedAddress(unit, r.uleb())); break; }
      case Rle.startx_length: { const a = indexedAddress(unit, r.uleb()); push(a, a + r.uleb()); break; }
      case Rle.offset_pair: { const a = r.uleb(); push(base + a, base + r.uleb()); break; }
      case Rle.base_address: base = addr(); break;
      case Rle.start_end: { const a = addr(); push(a, addr()); break; }
      case Rle.start_length: { const a = addr(); push(a, a + r.uleb()); break; }
      default: throw new DwarfError(`bad range list entry at ${r.pos - 1}`);
    }
  }
}

/** Whether [lo, hi) pairs contain `addr`. */
export function rangesContain(ranges: number[], addr: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (addr >= ranges[i] && addr < ranges[i + 1]) return true;
  return false;
}
