/**
 * Call frame information (DWARF CFI) of one ELF file: finds the FDE covering an address in
 * `.eh_frame` (through `.eh_frame_hdr`'s sorted table when present) or `.debug_frame`, runs the
 * CIE's and FDE's instructions up to that address and gives the row: how to compute the CFA and
 * where each register of the caller is. Also the DWARF expression evaluator the rows may need.
 *
 * Addresses here are unbiased (as in the file) and held in Numbers: user-space addresses fit in
 * 47 bits, well inside the 2^53 a Number holds exactly. Expressions compute in 64-bit BigInts.
 */
import type { ElfFile } from './elf';

/** How to find a caller's register, given the CFA. */
export type RegRule =
  | { kind: 'undefined' }
  | { kind: 'same' }
  /** Saved at CFA + offset. */
  | { kind: 'offset'; offset: number }
  /** The value is CFA + offset. */
  | { kind: 'valOffset'; offset: number }
  /** Held in another register of the callee. */
  | { kind: 'register'; reg: number }
  /** Saved at the address the expression computes (the CFA pushed first). */
  | { kind: 'expression'; expr: Uint8Array }
  /** The value is what the expression computes (the CFA pushed first). */
  | { kind: 'valExpression'; expr: Uint8Array };

export type CfaRule = { reg: number; offset: number } | { expr: Uint8Array };

/** One row of the CFI table: the rules in force at an address. */
export interface Row {
  cfa: CfaRule;
  /** Registers with a rule; the others are left to the unwinder's defaults. */
  regs: Map<number, RegRule>;
  /** The column holding the return address (16 on x86-64). */
  raReg: number;
  /** The CIE has augmentation "S": a signal trampoline, whose caller was interrupted, not calling. */
  signal: boolean;
}

export class CfiError extends Error {}

// ---------------------------------------------------------------------------------------------
// Byte reading

const TWO32 = 4294967296;

/** A cursor over little-endian bytes. */
export class Reader {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array, public pos = 0) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get end(): boolean { return this.pos >= this.bytes.length; }
  u8(): number { this.need(1); return this.bytes[this.pos++]; }
  i8(): number { this.need(1); return this.view.getInt8(this.pos++); }
  u16(): number { this.need(2); const v = this.view.getUint16(this.pos, true); this.pos += 2; return v; }
  i16(): number { this.need(2); const v = this.view.getInt16(this.pos, true); this.pos += 2; return v; }
  u32(): number { this.need(4); const v = this.view.getUint32(this.pos, true); this.pos += 4; return v; }
  i32(): number { this.need(4); const v = this.view.getInt32(this.pos, true); this.pos += 4; return v; }
  /** A 64-bit value as a Number (exact below 2^53, which every address and length here is). */
  u64(): number { const lo = this.u32(); return lo + this.u32() * TWO32; }
  i64(): number { const lo = this.u32(); return lo + this.i32() * TWO32; }
  u64n(): bigint { this.need(8); const v = this.view.getBigUint64(this.pos, true); this.pos += 8; return v; }
  i64n(): bigint { this.need(8); const v = this.view.getBigInt64(this.pos, true); this.pos += 8; return v; }
  uleb(): number {
    let result = 0, mul = 1, b: number;
    do { b = this.u8(); result += (b & 0x7f) * mul; mul *= 128; } while (b & 0x80);
    return result;
  }
  sleb(): number {
    let result = 0, mul = 1, b: number;
    do { b = this.u8(); result += (b & 0x7f) * mul; mul *= 128; } while (b & 0x80);
    return b & 0x40 ? result - mul : result;
  }
  ulebn(): bigint {
    let result = 0n, shift = 0n, b: number;
    do { b = this.u8(); result |= BigInt(b & 0x7f) << shift; shift += 7n; } while (b & 0x80);
    return result;
  }
  slebn(): bigint {
    let result = 0n, shift = 0n, b: number;
    do { b = this.u8(); result |= BigInt(b & 0x7f) << shift; shift += 7n; } while (b & 0x80);
    return b & 0x40 ? result - (1n << shift) : result;
  }
  block(n: number): Uint8Array { this.need(n); const b = this.bytes.subarray(this.pos, this.pos + n); this.pos += n; return b; }
  cstring(): string {
    const start = this.pos;
    while (this.u8() !== 0) { /* to the terminator */ }
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, this.pos - 1 - start).toString('latin1');
  }
  private need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new CfiError(`read past the end (${n} bytes at ${this.pos} of ${this.bytes.length})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Pointer encodings (DW_EH_PE_*)

export const DW_EH_PE = {
  absptr: 0x00, uleb128: 0x01, udata2: 0x02, udata4: 0x03, udata8: 0x04,
  sleb128: 0x09, sdata2: 0x0a, sdata4: 0x0b, sdata8: 0x0c,
  pcrel: 0x10, textrel: 0x20, datarel: 0x30, funcrel: 0x40, aligned: 0x50,
  indirect: 0x80, omit: 0xff,
} as const;

/** What relative encodings are relative to. `section` + the field's offset is its address. */
export interface PointerBases {
  /** Unbiased address of the section being read (pcrel adds the field's offset to it). */
  section: number;
  text?: number;
  data?: number;
  func?: number;
}

/** The value of an encoded field, without applying the relative base (pcRange uses this). */
function readEncodedValue(r: Reader, enc: number): number {
  switch (enc & 0x0f) {
    case DW_EH_PE.absptr: return r.u64();
    case DW_EH_PE.uleb128: return r.uleb();
    case DW_EH_PE.udata2: return r.u16();
    case DW_EH_PE.udata4: return r.u32();
    case DW_EH_PE.udata8: return r.u64();
    case DW_EH_PE.sleb128: return r.sleb();
    case DW_EH_PE.sdata2: return r.i16();
    case DW_EH_PE.sdata4: return r.i32();
    case DW_EH_PE.sdata8: return r.i64();
    default: throw new CfiError(`bad pointer encoding 0x${enc.toString(16)}`);
  }
}

/**
 * An encoded pointer. DW_EH_PE_indirect pointers are given as the address of the pointer: only
 * personality routines use them, which an unwinder that runs no handlers never needs.
 */
export function readEncodedPointer(r: Reader, enc: number, bases: PointerBases): number {
  if (enc === DW_EH_PE.omit) throw new CfiError('omitted pointer read');
  if ((enc & 0x70) === DW_EH_PE.aligned) r.pos = (r.pos + 7) & ~7;
  const fieldAddress = bases.section + r.pos;
  const v = readEncodedValue(r, enc);
  switch (enc & 0x70) {
    case DW_EH_PE.absptr: case DW_EH_PE.aligned: return v;
    case DW_EH_PE.pcrel: return fieldAddress + v;
    case DW_EH_PE.textrel: return base(bases.text, 'text') + v;
    case DW_EH_PE.datarel: return base(bases.data, 'data') + v;
    case DW_EH_PE.funcrel: return base(bases.func, 'function') + v;
    default: throw new CfiError(`bad pointer application 0x${enc.toString(16)}`);
  }
}

function base(b: number | undefined, what: string): number {
  if (b === undefined) throw new CfiError(`pointer relative to an unknown ${what} base`);
  return b;
}

// ---------------------------------------------------------------------------------------------
// CIEs and FDEs

export interface Cie {
  version: number;
  augmentation: string;
  codeAlign: number;
  dataAlign: number;
  raReg: number;
  /** Encoding of the FDE's addresses (augmentation "R"); .debug_frame: absolute, addressSize. */
  fdeEncoding: number;
  /** Augmentation "z": FDEs carry an augmentation-data length to skip. */
  hasAugData: boolean;
  signal: boolean;
  addressSize: number;
  initialInstructions: Uint8Array;
}

export interface Fde {
  cie: Cie;
  pcBegin: number;
  pcEnd: number;
  instructions: Uint8Array;
}

/** Which of the two CFI sections: they differ in CIE ids, CIE pointers and address encodings. */
export type FrameSection = 'eh' | 'debug';

interface EntryHeader {
  /** Offset of the entry's id / CIE-pointer field. */
  idAt: number;
  id: number;
  /** Offset just past the entry. */
  end: number;
  /** 64-bit DWARF format: ids and CIE pointers are 8 bytes. */
  wide: boolean;
}

/** The length and id of the entry at `at`; undefined at the zero terminator or the section end. */
function entryHeader(data: Uint8Array, at: number): EntryHeader | undefined {
  if (at + 4 > data.length) return undefined;
  const r = new Reader(data, at);
  let length = r.u32();
  if (length === 0) return undefined;
  const wide = length === 0xffffffff;
  if (wide) length = r.u64();
  const idAt = r.pos;
  const end = idAt + length;
  if (end > data.length) throw new CfiError(`entry at ${at} runs past the section`);
  return { idAt, id: wide ? r.u64() : r.u32(), end, wide };
}

function isCie(kind: FrameSection, h: EntryHeader): boolean {
  if (kind === 'eh') return h.id === 0;
  return h.wide ? h.id === 0xffffffff * TWO32 + 0xffffffff : h.id === 0xffffffff;
}

function parseCie(kind: FrameSection, data: Uint8Array, h: EntryHeader, bases: PointerBases): Cie {
  const r = new Reader(data.subarray(0, h.end), h.idAt + (h.wide ? 8 : 4));
  const version = r.u8();
  if (version !== 1 && version !== 3 && version !== 4) throw new CfiError(`CIE version ${version}`);
  const augmentation = r.cstring();
  let addressSize = 8;
  if (augmentation.includes('eh')) r.pos += 8; // the old GCC "eh" data: a pointer, unused
  if (version === 4) {
    addressSize = r.u8();
    if (r.u8() !== 0) throw new CfiError('segmented addresses');
  }
  const codeAlign = r.uleb();
  const dataAlign = r.sleb();
  const raReg = version === 1 ? r.u8() : r.uleb();
  const cie: Cie = {
    version, augmentation, codeAlign, dataAlign, raReg, addressSize,
    fdeEncoding: kind === 'eh' ? DW_EH_PE.absptr : addressSize === 4 ? DW_EH_PE.udata4 : DW_EH_PE.udata8,
    hasAugData: augmentation.startsWith('z'), signal: false, initialInstructions: new Uint8Array(),
  };
  if (cie.hasAugData) readAugmentationData(r, cie, bases);
  else cie.signal = augmentation.includes('S');
  cie.initialInstructions = data.subarray(r.pos, h.end);
  return cie;
}

/** Reads the "z" augmentation data the letters describe; the length lets unknown letters be skipped. */
function readAugmentationData(r: Reader, cie: Cie, bases: PointerBases): void {
  const length = r.uleb();
  const end = r.pos + length;
  for (const c of cie.augmentation.slice(1)) {
    if (c === 'R') cie.fdeEncoding = r.u8();
    else if (c === 'L') r.u8(); // LSDA encoding: the FDE's LSDA is skipped with its data
    else if (c === 'P') readEncodedPointer(r, r.u8(), bases); // personality: not needed to unwind
    else if (c === 'S') cie.signal = true;
    else break; // unknown letter: the rest of the data is skipped by its length
  }
  r.pos = end;
}

// ---------------------------------------------------------------------------------------------
// One section's CFI

/** The FDEs of one section, found by address. */
class FrameTable {
  private readonly cies = new Map<number, Cie>();
  private readonly fdes = new Map<number, Fde>();
  private index: { starts: Float64Array; offsets: Float64Array } | undefined;

  constructor(
    readonly kind: FrameSection,
    readonly data: Uint8Array,
    private readonly bases: PointerBases,
    /** The eh_frame_hdr search table, when there is a usable one. */
    private readonly hdr?: HdrTable,
  ) {}

  /** The FDE covering `pc`, if any. */
  fdeAt(pc: number): Fde | undefined {
    const offset = this.hdr ? this.hdr.fdeOffsetFor(pc) : this.indexedOffsetFor(pc);
    if (offset === undefined) return undefined;
    const fde = this.fdeAtOffset(offset);
    return fde && pc >= fde.pcBegin && pc < fde.pcEnd ? fde : undefined;
  }

  private indexedOffsetFor(pc: number): number | undefined {
    const { starts, offsets } = (this.index ??= this.buildIndex());
    let lo = 0, hi = starts.length - 1, best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= pc) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return best < 0 ? undefined : offsets[best];
  }

  /** Every FDE's start and offset, sorted by start: built once, when there is no hdr table. */
  private buildIndex(): { starts: Float64Array; offsets: Float64Array } {
    const found: { start: number; offset: number }[] = [];
    for (let at = 0; ;) {
      const h = entryHeader(this.data, at);
      if (!h) break;
      if (!isCie(this.kind, h)) {
        const fde = this.fdeAtOffset(at);
        if (fde && fde.pcEnd > fde.pcBegin) found.push({ start: fde.pcBegin, offset: at });
      }
      at = h.end;
    }
    found.sort((a, b) => a.start - b.start);
    return { starts: Float64Array.from(found, (f) => f.start), offsets: Float64Array.from(found, (f) => f.offset) };
  }

  /** The FDE at a section offset (undefined when that entry is a CIE or unreadable). */
  private fdeAtOffset(at: number): Fde | undefined {
    if (at < 0 || at >= this.data.length) return undefined;
    let fde = this.fdes.get(at);
    if (fde) return fde;
    try {
      fde = this.parseFde(at);
    } catch (e) {
      if (e instanceof CfiError) return undefined;
      throw e;
    }
    if (fde) this.fdes.set(at, fde);
    return fde;
  }

  private parseFde(at: number): Fde | undefined {
    const h = entryHeader(this.data, at);
    if (!h || isCie(this.kind, h)) return undefined;
    // eh_frame: the CIE pointer counts back from its own field; debug_frame: a section offset.
    const cie = this.cieAt(this.kind === 'eh' ? h.idAt - h.id : h.id);
    const r = new Reader(this.data.subarray(0, h.end), h.idAt + (h.wide ? 8 : 4));
    const pcBegin = readEncodedPointer(r, cie.fdeEncoding, this.bases);
    const pcRange = readEncodedValue(r, cie.fdeEncoding);
    if (cie.hasAugData) r.pos += r.uleb();
    return { cie, pcBegin, pcEnd: pcBegin + pcRange, instructions: this.data.subarray(r.pos, h.end) };
  }

  private cieAt(at: number): Cie {
    let cie = this.cies.get(at);
    if (!cie) {
      const h = entryHeader(this.data, at);
      if (!h || !isCie(this.kind, h)) throw new CfiError(`no CIE at ${at}`);
      cie = parseCie(this.kind, this.data, h, this.bases);
      this.cies.set(at, cie);
    }
    return cie;
  }
}

/** `.eh_frame_hdr`'s binary-search table of (initial location, FDE address) pairs. */
class HdrTable {
  private constructor(
    private readonly hdr: Uint8Array,
    private readonly tableAt: number,
    private readonly count: number,
    private readonly encoding: number,
    private readonly stride: number,
    private readonly hdrAddr: number,
    private readonly ehFrameAddr: number,
  ) {}

  /** The table, or undefined when absent, of another version, or not binary-searchable. */
  static read(hdr: Uint8Array, hdrAddr: number, ehFrameAddr: number): HdrTable | undefined {
    const r = new Reader(hdr);
    if (hdr.length < 4 || r.u8() !== 1) return undefined;
    const ehFramePtrEnc = r.u8(), countEnc = r.u8(), tableEnc = r.u8();
    const bases = { section: hdrAddr, data: hdrAddr };
    if (ehFramePtrEnc !== DW_EH_PE.omit) readEncodedPointer(r, ehFramePtrEnc, bases);
    if (countEnc === DW_EH_PE.omit || tableEnc === DW_EH_PE.omit) return undefined;
    const count = readEncodedPointer(r, countEnc, bases);
    const size = fixedSize(tableEnc);
    if (size === undefined) return undefined; // variable-length entries cannot be bisected
    return new HdrTable(hdr, r.pos, count, tableEnc, 2 * size, hdrAddr, ehFrameAddr);
  }

  /** The eh_frame offset of the last FDE starting at or before `pc`. */
  fdeOffsetFor(pc: number): number | undefined {
    let lo = 0, hi = this.count - 1, best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.entry(mid, 0) <= pc) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return best < 0 ? undefined : this.entry(best, this.stride / 2) - this.ehFrameAddr;
  }

  private entry(i: number, field: number): number {
    const r = new Reader(this.hdr, this.tableAt + i * this.stride + field);
    return readEncodedPointer(r, this.encoding, { section: this.hdrAddr, data: this.hdrAddr });
  }
}

function fixedSize(enc: number): number | undefined {
  switch (enc & 0x0f) {
    case DW_EH_PE.udata2: case DW_EH_PE.sdata2: return 2;
    case DW_EH_PE.udata4: case DW_EH_PE.sdata4: return 4;
    case DW_EH_PE.absptr: case DW_EH_PE.udata8: case DW_EH_PE.sdata8: return 8;
    default: return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Executing CFA instructions

interface State {
  cfa: CfaRule;
  regs: Map<number, RegRule>;
}

const copyState = (s: State): State => ({ cfa: s.cfa, regs: new Map(s.regs) });

/**
 * The row in force at `pc` within an FDE: the CIE's initial instructions, then the FDE's until
 * the location passes `pc`. Throws CfiError on an instruction it does not know.
 */
export function rowAt(fde: Fde, pc: number, bases: PointerBases): Row {
  const cie = fde.cie;
  const initial = execute(cie.initialInstructions, cie, { cfa: { reg: 7, offset: 0 }, regs: new Map() }, undefined, Infinity, 0, bases);
  const state = execute(fde.instructions, cie, copyState(initial), initial, pc, fde.pcBegin, { ...bases, func: fde.pcBegin });
  return { cfa: state.cfa, regs: state.regs, raReg: cie.raReg, signal: cie.signal };
}

function execute(code: Uint8Array, cie: Cie, state: State, initial: State | undefined, pc: number, loc: number, bases: PointerBases): State {
  const r = new Reader(code);
  const stack: State[] = [];
  const restore = (reg: number): void => {
    const rule = initial?.regs.get(reg);
    if (rule) state.regs.set(reg, rule); else state.regs.delete(reg);
  };
  const cfaRegOffset = (): { reg: number; offset: number } => {
    if (!('reg' in state.cfa)) throw new CfiError('CFA register or offset changed under an expression rule');
    return state.cfa;
  };
  while (!r.end) {
    const op = r.u8();
    const low = op & 0x3f;
    let advance = -1;
    switch (op >> 6) {
      case 1: advance = low; break;
      case 2: state.regs.set(low, { kind: 'offset', offset: r.uleb() * cie.dataAlign }); continue;
      case 3: restore(low); continue;
    }
    if (advance < 0) {
      switch (op) {
        case 0x00: continue; // nop
        case 0x01: { // set_loc
          const to = readEncodedPointer(r, cie.fdeEncoding, bases);
          if (to > pc) return state;
          loc = to;
          continue;
        }
        case 0x02: advance = r.u8(); break;
        case 0x03: advance = r.u16(); break;
        case 0x04: advance = r.u32(); break;
        case 0x05: state.regs.set(r.uleb(), { kind: 'offset', offset: r.uleb() * cie.dataAlign }); continue;
        case 0x06: restore(r.uleb()); continue;
        case 0x07: state.regs.set(r.uleb(), { kind: 'undefined' }); continue;
        case 0x08: state.regs.set(r.uleb(), { kind: 'same' }); continue;
        case 0x09: { const reg = r.uleb(); state.regs.set(reg, { kind: 'register', reg: r.uleb() }); continue; }
        case 0x0a: stack.push(copyState(state)); continue; // remember_state
        case 0x0b: { // restore_state: the CFA rule is part of the remembered state too
          const s = stack.pop();
          if (!s) throw new CfiError('restore_state with nothing remembered');
          state = s;
          continue;
        }
        case 0x0c: { const reg = r.uleb(); state.cfa = { reg, offset: r.uleb() }; continue; }
        case 0x0d: state.cfa = { reg: r.uleb(), offset: cfaRegOffset().offset }; continue;
        case 0x0e: state.cfa = { reg: cfaRegOffset().reg, offset: r.uleb() }; continue;
        case 0x0f: state.cfa = { expr: r.block(r.uleb()) }; continue;
        case 0x10: { const reg = r.uleb(); state.regs.set(reg, { kind: 'expression', expr: r.block(r.uleb()) }); continue; }
        case 0x11: { const reg = r.uleb(); state.regs.set(reg, { kind: 'offset', offset: r.sleb() * cie.dataAlign }); continue; }
        case 0x12: { const reg = r.uleb(); state.cfa = { reg, offset: r.sleb() * cie.dataAlign }; continue; }
        case 0x13: state.cfa = { reg: cfaRegOffset().reg, offset: r.sleb() * cie.dataAlign }; continue;
        case 0x14: { const reg = r.uleb(); state.regs.set(reg, { kind: 'valOffset', offset: r.uleb() * cie.dataAlign }); continue; }
        case 0x15: { const reg = r.uleb(); state.regs.set(reg, { kind: 'valOffset', offset: r.sleb() * cie.dataAlign }); continue; }
        case 0x16: { const reg = r.uleb(); state.regs.set(reg, { kind: 'valExpression', expr: r.block(r.uleb()) }); continue; }
        case 0x2e: r.uleb(); continue; // GNU_args_size: only matters when unwinding into a landing pad
        case 0x2f: { const reg = r.uleb(); state.regs.set(reg, { kind: 'offset', offset: -r.uleb() * cie.dataAlign }); continue; }
        default: throw new CfiError(`unknown CFA instruction 0x${op.toString(16)}`);
      }
    }
    loc += advance * cie.codeAlign;
    if (loc > pc) break;
  }
  return state;
}

// ---------------------------------------------------------------------------------------------
// Per-file cache

/** The CFI of one ELF file: its `.eh_frame` and `.debug_frame` tables and the rows looked up. */
export class FileCfi {
  private readonly tables = new Map<FrameSection, FrameTable | null>();
  private readonly rows = { eh: new Map<number, Row | null>(), debug: new Map<number, Row | null>() };

  constructor(readonly elf: ElfFile) {}

  /**
   * The row for unbiased address `pc` from one section, or undefined when the section is absent,
   * has no FDE for it, or its instructions cannot be read. Cached per address.
   */
  rowFor(kind: FrameSection, pc: number): Row | undefined {
    const cache = this.rows[kind];
    let row = cache.get(pc);
    if (row === undefined) {
      row = this.computeRow(kind, pc);
      cache.set(pc, row);
    }
    return row ?? undefined;
  }

  private computeRow(kind: FrameSection, pc: number): Row | null {
    const table = this.table(kind);
    const fde = table?.fdeAt(pc);
    if (!table || !fde) return null;
    try {
      return rowAt(fde, pc, this.bases(kind));
    } catch (e) {
      if (e instanceof CfiError) return null;
      throw e;
    }
  }

  private table(kind: FrameSection): FrameTable | undefined {
    let t = this.tables.get(kind);
    if (t === undefined) {
      t = kind === 'eh' ? this.ehTable() : this.debugTable();
      this.tables.set(kind, t);
    }
    return t ?? undefined;
  }

  private bases(kind: FrameSection): PointerBases {
    const s = this.elf.section(kind === 'eh' ? '.eh_frame' : '.debug_frame');
    const text = this.elf.section('.text');
    // datarel in .eh_frame is relative to the GOT (as the i386 ABI has it; x86-64 code uses none).
    const got = this.elf.section('.got');
    return { section: s ? Number(s.addr) : 0, text: text && Number(text.addr), data: got && Number(got.addr) };
  }

  private ehTable(): FrameTable | null {
    const data = this.elf.sectionData('.eh_frame');
    const s = this.elf.section('.eh_frame');
    if (!data || !s) return null;
    const hdrSection = this.elf.section('.eh_frame_hdr');
    const hdrData = this.elf.sectionData('.eh_frame_hdr');
    const hdr = hdrSection && hdrData ? HdrTable.read(hdrData, Number(hdrSection.addr), Number(s.addr)) : undefined;
    return new FrameTable('eh', data, this.bases('eh'), hdr);
  }

  private debugTable(): FrameTable | null {
    const data = this.elf.sectionData('.debug_frame');
    // .debug_frame is not loaded: its addresses are absolute, never section-relative.
    return data ? new FrameTable('debug', data, { section: 0 }) : null;
  }
}

const files = new WeakMap<ElfFile, FileCfi>();

/** The CFI of an ELF file, parsed lazily and kept as long as the ElfFile is. */
export function cfiOf(elf: ElfFile): FileCfi {
  let c = files.get(elf);
  if (!c) files.set(elf, (c = new FileCfi(elf)));
  return c;
}

/** The CFI rows of raw sections, for tests and callers without an ElfFile. */
export function frameTable(kind: FrameSection, data: Uint8Array, bases: PointerBases): { rowFor(pc: number): Row | undefined } {
  const table = new FrameTable(kind, data, bases);
  return {
    rowFor: (pc) => {
      const fde = table.fdeAt(pc);
      return fde ? rowAt(fde, pc, bases) : undefined;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// DWARF expressions

export interface ExprContext {
  /** A register's value, undefined when unknown (the expression then fails). */
  reg(n: number): bigint | undefined;
  /** Reads `size` (1..8) bytes little-endian, zero-extended; throws when it cannot. Synchronous:
   *  an unwinder serves it from memory it has read ahead (and retries after fetching on a miss). */
  read(address: bigint, size: number): bigint;
}

const M64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const S64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/**
 * Evaluates a DWARF expression as CFI uses it (a location or value computed on a stack machine;
 * no pieces, no frame base) and gives the top of the stack. Throws CfiError on a malformed or
 * unsupported expression or an unknown register, and whatever `read` throws.
 */
export function evaluate(expr: Uint8Array, ctx: ExprContext, initial: bigint[] = []): bigint {
  const r = new Reader(expr);
  const stack = initial.map(M64);
  const pop = (): bigint => {
    const v = stack.pop();
    if (v === undefined) throw new CfiError('expression stack underflow');
    return v;
  };
  const reg = (n: number): bigint => {
    const v = ctx.reg(n);
    if (v === undefined) throw new CfiError(`expression uses unknown register ${n}`);
    return v;
  };
  while (!r.end) {
    const op = r.u8();
    if (op >= 0x30 && op <= 0x4f) { stack.push(BigInt(op - 0x30)); continue; } // lit0..31
    if (op >= 0x50 && op <= 0x6f) { stack.push(reg(op - 0x50)); continue; } // reg0..31 (its value)
    if (op >= 0x70 && op <= 0x8f) { stack.push(M64(reg(op - 0x70) + r.slebn())); continue; } // breg0..31
    switch (op) {
      case 0x03: stack.push(r.u64n()); break; // addr
      case 0x06: stack.push(ctx.read(pop(), 8)); break; // deref
      case 0x08: stack.push(BigInt(r.u8())); break;
      case 0x09: stack.push(M64(BigInt(r.i8()))); break;
      case 0x0a: stack.push(BigInt(r.u16())); break;
      case 0x0b: stack.push(M64(BigInt(r.i16()))); break;
      case 0x0c: stack.push(BigInt(r.u32())); break;
      case 0x0d: stack.push(M64(BigInt(r.i32()))); break;
      case 0x0e: stack.push(r.u64n()); break;
      case 0x0f: stack.push(M64(r.i64n())); break;
      case 0x10: stack.push(M64(r.ulebn())); break; // constu
      case 0x11: stack.push(M64(r.slebn())); break; // consts
      case 0x12: { const v = pop(); stack.push(v, v); break; } // dup
      case 0x13: pop(); break; // drop
      case 0x14: { const a = pop(), b = pop(); stack.push(b, a, b); break; } // over
      case 0x15: { // pick
        const i = r.u8();
        if (i >= stack.length) throw new CfiError('pick past the stack');
        stack.push(stack[stack.length - 1 - i]);
        break;
      }
      case 0x16: { const a = pop(), b = pop(); stack.push(a, b); break; } // swap
      case 0x17: { const a = pop(), b = pop(), c = pop(); stack.push(a, c, b); break; } // rot
      case 0x19: { const v = S64(pop()); stack.push(M64(v < 0n ? -v : v)); break; } // abs
      case 0x1a: binary(stack, pop, (a, b) => a & b); break;
      case 0x1b: binary(stack, pop, (a, b) => { // div: signed, as libgcc does
        if (b === 0n) throw new CfiError('division by zero');
        return S64(a) / S64(b);
      }); break;
      case 0x1c: binary(stack, pop, (a, b) => a - b); break; // minus
      case 0x1d: binary(stack, pop, (a, b) => { // mod: unsigned
        if (b === 0n) throw new CfiError('division by zero');
        return a % b;
      }); break;
      case 0x1e: binary(stack, pop, (a, b) => a * b); break; // mul
      case 0x1f: stack.push(M64(-pop())); break; // neg
      case 0x20: stack.push(M64(~pop())); break; // not
      case 0x21: binary(stack, pop, (a, b) => a | b); break;
      case 0x22: binary(stack, pop, (a, b) => a + b); break; // plus
      case 0x23: stack.push(M64(pop() + r.ulebn())); break; // plus_uconst
      case 0x24: binary(stack, pop, (a, b) => (b >= 64n ? 0n : a << b)); break; // shl
      case 0x25: binary(stack, pop, (a, b) => (b >= 64n ? 0n : a >> b)); break; // shr
      case 0x26: binary(stack, pop, (a, b) => S64(a) >> (b >= 64n ? 63n : b)); break; // shra
      case 0x27: binary(stack, pop, (a, b) => a ^ b); break;
      case 0x28: { const off = r.i16(); if (pop() !== 0n) jump(r, off); break; } // bra
      case 0x29: binary(stack, pop, (a, b) => (a === b ? 1n : 0n)); break; // eq
      case 0x2a: binary(stack, pop, (a, b) => (S64(a) >= S64(b) ? 1n : 0n)); break; // ge
      case 0x2b: binary(stack, pop, (a, b) => (S64(a) > S64(b) ? 1n : 0n)); break; // gt
      case 0x2c: binary(stack, pop, (a, b) => (S64(a) <= S64(b) ? 1n : 0n)); break; // le
      case 0x2d: binary(stack, pop, (a, b) => (S64(a) < S64(b) ? 1n : 0n)); break; // lt
      case 0x2e: binary(stack, pop, (a, b) => (a !== b ? 1n : 0n)); break; // ne
      case 0x2f: jump(r, r.i16()); break; // skip
      case 0x90: stack.push(reg(r.uleb())); break; // regx
      case 0x92: { const n = r.uleb(); stack.push(M64(reg(n) + r.slebn())); break; } // bregx
      case 0x94: { // deref_size
        const size = r.u8();
        if (size < 1 || size > 8) throw new CfiError(`deref_size ${size}`);
        stack.push(ctx.read(pop(), size));
        break;
      }
      case 0x96: break; // nop
      default: throw new CfiError(`unsupported DWARF expression op 0x${op.toString(16)}`);
    }
  }
  return pop();
}

/** Pops b then a, pushes f(a, b) wrapped to 64 bits. */
function binary(stack: bigint[], pop: () => bigint, f: (a: bigint, b: bigint) => bigint): void {
  const b = pop(), a = pop();
  stack.push(M64(f(a, b)));
}

function jump(r: Reader, offset: number): void {
  const to = r.pos + offset;
  if (to < 0 || to > r.bytes.length) throw new CfiError('branch out of the expression');
  r.pos = to;
}
