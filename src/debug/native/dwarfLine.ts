/**
 * A compilation unit's DWARF line program (versions 2–5), turned into the per-file line tables
 * GDB 13 builds, so that `lookup` gives the line GDB shows for an address.
 *
 * GDB does not keep the raw rows: it records them per source file ("subfile"), skips rows with
 * line 0, drops consecutive rows of the same line once a discriminator was seen, ends a file's
 * run with a line-0 marker at the address where another file takes over (the marker deletes
 * rows of that file at the same address), sorts each file's entries by address with markers
 * first, and looks an address up in every file whose last entry at or before it is not such a
 * marker, keeping the entry with the greatest address (the first file wins a tie) and preferring
 * an is_stmt entry at that same address. These rules
 * are reproduced here because each decides some -O3 address's line (the citations are GDB 13's
 * `lnp_state_machine::record_line`, `buildsym_compunit::record_line` and `find_pc_sect_line`).
 */
import { DwarfSections } from './dwarfInfo';
import { DwarfError, Form, Reader, cStringAt } from './dwarfReader';

/** What the unit's root DIE says about the files. */
export interface LineUnitInfo {
  addrSize: number;
  compDir: string | undefined;
  /** The CU's DW_AT_name: GDB's primary file, named this way when the line table refers to it. */
  name: string | undefined;
  /** GDB ignores sequences placed at address 0 (discarded code) unless the unit starts there. */
  lowPc: number;
}

/** One source file's entries, sorted by address. */
export interface Subfile {
  /** GDB's symtab filename (MI `file`). */
  name: string;
  pcs: Float64Array;
  lines: Int32Array;
  stmts: Uint8Array;
}

export interface LineHit {
  subfile: Subfile;
  line: number;
}

interface FileEntry {
  name: string;
  dir: number;
}

interface Header {
  version: number;
  minInstLength: number;
  defaultIsStmt: boolean;
  lineBase: number;
  lineRange: number;
  opcodeBase: number;
  stdLengths: number[];
  dirs: string[];
  files: FileEntry[];
  programStart: number;
  end: number;
}

export class LineTable {
  /** Subfiles in GDB's symtab order: the primary file first, then as the file table names them. */
  readonly subfiles: Subfile[];
  /** The subfile of each file-table index (DW_AT_call_file resolves through this). */
  private readonly fileSubfile: (Subfile | undefined)[];

  constructor(subfiles: Subfile[], fileSubfile: (Subfile | undefined)[]) {
    this.subfiles = subfiles;
    this.fileSubfile = fileSubfile;
  }

  fileName(index: number): Subfile | undefined {
    return this.fileSubfile[index];
  }

  /** The line GDB's find_pc_line gives for `addr`, or undefined for none (GDB then shows no file). */
  lookup(addr: number): LineHit | undefined {
    let best: Subfile | undefined, bestIdx = -1, bestPc = -1;
    for (const sf of this.subfiles) {
      const i = lastAtOrBefore(sf.pcs, addr);
      if (i < 0 || sf.lines[i] === 0 || sf.pcs[i] <= bestPc) continue; // a file's end marker never wins
      best = sf;
      bestIdx = stmtAtSameAddress(sf, i);
      bestPc = sf.pcs[i];
    }
    if (!best || best.lines[bestIdx] === 0) return undefined;
    return { subfile: best, line: best.lines[bestIdx] };
  }
}

function lastAtOrBefore(pcs: Float64Array, addr: number): number {
  let lo = 0, hi = pcs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pcs[mid] <= addr) lo = mid + 1; else hi = mid;
  }
  return lo - 1;
}

/** GDB steps back over non-statement entries at the same address to an is_stmt one, if any. */
function stmtAtSameAddress(sf: Subfile, i: number): number {
  if (sf.stmts[i]) return i;
  let j = i;
  while (j > 0 && sf.pcs[j - 1] === sf.pcs[j] && sf.lines[j - 1] !== 0 && !sf.stmts[j]) j--;
  return sf.stmts[j] ? j : i;
}

function isAbsolute(p: string): boolean {
  return p.startsWith('/');
}

/** GDB's path_join of two components. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** Decodes the line program at `offset` of `.debug_line`. */
export function decodeLineTable(dw: DwarfSections, offset: number, unit: LineUnitInfo): LineTable {
  const h = readHeader(dw, offset, unit.addrSize);
  const builder = new SubfileBuilder(h, unit);
  runProgram(dw.line, h, unit, builder);
  return builder.finish();
}

function readHeader(dw: DwarfSections, offset: number, addrSize: number): Header {
  dw.needLine(offset, 12);
  const r = new Reader(dw.line, offset);
  let length = r.u32(), offsetSize = 4;
  if (length === 0xffffffff) { length = r.u64(); offsetSize = 8; }
  const end = r.pos + length;
  dw.needLine(offset, end - offset);
  const version = r.u16();
  if (version < 2 || version > 5) throw new DwarfError(`line table at ${offset}: version ${version}`);
  if (version >= 5) r.pos += 2; // address_size, segment_selector_size
  const headerLength = r.uint(offsetSize);
  const programStart = r.pos + headerLength;
  const minInstLength = r.u8();
  if (version >= 4) r.u8(); // maximum_operations_per_instruction: VLIW only
  const defaultIsStmt = r.u8() !== 0;
  const lineBase = r.s8(), lineRange = r.u8(), opcodeBase = r.u8();
  const stdLengths: number[] = [];
  for (let i = 1; i < opcodeBase; i++) stdLengths.push(r.u8());
  let dirs: string[], files: FileEntry[];
  if (version >= 5) {
    dirs = readEntryTable(r, dw, offsetSize, addrSize).map((e) => e.name);
    files = readEntryTable(r, dw, offsetSize, addrSize);
  } else {
    dirs = [];
    for (let s = r.cString(); s !== ''; s = r.cString()) dirs.push(s);
    files = [{ name: '', dir: 0 }]; // v2–4 file numbers start at 1
    for (let s = r.cString(); s !== ''; s = r.cString()) {
      files.push({ name: s, dir: r.uleb() });
      r.uleb(); r.uleb(); // mtime, length
    }
  }
  return { version, minInstLength, defaultIsStmt, lineBase, lineRange, opcodeBase, stdLengths, dirs, files, programStart, end };
}

const DW_LNCT_path = 1, DW_LNCT_directory_index = 2;

/** A DWARF 5 directory or file-name table: its entry format, then the entries. */
function readEntryTable(r: Reader, dw: DwarfSections, offsetSize: number, addrSize: number): FileEntry[] {
  const formatCount = r.u8();
  const format: number[] = [];
  for (let i = 0; i < formatCount; i++) format.push(r.uleb(), r.uleb());
  const count = r.uleb();
  const out: FileEntry[] = [];
  for (let i = 0; i < count; i++) {
    const e: FileEntry = { name: '', dir: 0 };
    for (let f = 0; f < format.length; f += 2) {
      const type = format[f], form = format[f + 1];
      if (type === DW_LNCT_path) e.name = readLineString(r, dw, form, offsetSize);
      else if (type === DW_LNCT_directory_index) e.dir = readLineNumber(r, form);
      else skipLineForm(r, form, offsetSize, addrSize);
    }
    out.push(e);
  }
  return out;
}

function readLineString(r: Reader, dw: DwarfSections, form: number, offsetSize: number): string {
  switch (form) {
    case Form.string: return r.cString();
    case Form.line_strp: return cStringAt(dw.lineStr, r.uint(offsetSize));
    case Form.strp: return cStringAt(dw.str, r.uint(offsetSize));
    default: throw new DwarfError(`line table path in form 0x${form.toString(16)}`);
  }
}

function readLineNumber(r: Reader, form: number): number {
  switch (form) {
    case Form.data1: return r.u8();
    case Form.data2: return r.u16();
    case Form.data4: return r.u32();
    case Form.data8: return r.u64();
    case Form.udata: return r.uleb();
    default: throw new DwarfError(`line table index in form 0x${form.toString(16)}`);
  }
}

function skipLineForm(r: Reader, form: number, offsetSize: number, addrSize: number): void {
  switch (form) {
    case Form.string: r.skipCString(); return;
    case Form.line_strp: case Form.strp: case Form.sec_offset: r.pos += offsetSize; return;
    case Form.udata: r.uleb(); return;
    case Form.data1: r.pos += 1; return;
    case Form.data2: r.pos += 2; return;
    case Form.data4: r.pos += 4; return;
    case Form.data8: r.pos += 8; return;
    case Form.data16: r.pos += 16; return;
    case Form.block: { const n = r.uleb(); r.pos += n; } return;
    case Form.addr: r.pos += addrSize; return;
    default: throw new DwarfError(`line table entry in form 0x${form.toString(16)}`);
  }
}

const DW_LNS_copy = 1, DW_LNS_advance_pc = 2, DW_LNS_advance_line = 3, DW_LNS_set_file = 4,
  DW_LNS_const_add_pc = 8, DW_LNS_fixed_advance_pc = 9, DW_LNS_negate_stmt = 6;
const DW_LNE_end_sequence = 1, DW_LNE_set_address = 2, DW_LNE_set_discriminator = 4;

/** The line-number state machine's registers, reset for each sequence (as GDB does). */
class Registers {
  address = 0;
  file = 1;
  line = 1;
  isStmt: boolean;
  discriminator = 0;
  lineHasNonZeroDiscriminator = false;
  constructor(defaultIsStmt: boolean) {
    this.isStmt = defaultIsStmt;
  }
}

function runProgram(sec: Uint8Array, h: Header, unit: LineUnitInfo, out: SubfileBuilder): void {
  const r = new Reader(sec, h.programStart);
  let reg = new Registers(h.defaultIsStmt);
  out.startSequence(reg);
  const advanceLine = (delta: number) => {
    reg.line += delta;
    if (delta !== 0) reg.lineHasNonZeroDiscriminator = reg.discriminator !== 0;
  };
  while (r.pos < h.end) {
    const op = r.u8();
    if (op >= h.opcodeBase) {
      const adj = op - h.opcodeBase;
      reg.address += Math.floor(adj / h.lineRange) * h.minInstLength;
      advanceLine(h.lineBase + (adj % h.lineRange));
      out.row(reg, false);
      reg.discriminator = 0;
    } else if (op === 0) {
      const len = r.uleb(), next = r.pos + len;
      const sub = len ? r.u8() : 0;
      if (sub === DW_LNE_end_sequence) {
        out.row(reg, true);
        reg = new Registers(h.defaultIsStmt);
        out.startSequence(reg);
      } else if (sub === DW_LNE_set_address) {
        reg.address = r.uint(len - 1);
        if (reg.address === 0 && unit.lowPc > 0) out.stopRecording();
      } else if (sub === DW_LNE_set_discriminator) {
        reg.discriminator = r.uleb();
        reg.lineHasNonZeroDiscriminator ||= reg.discriminator !== 0;
      }
      r.pos = next;
    } else if (op === DW_LNS_copy) {
      out.row(reg, false);
      reg.discriminator = 0;
    } else if (op === DW_LNS_advance_pc) {
      reg.address += r.uleb() * h.minInstLength;
    } else if (op === DW_LNS_advance_line) {
      advanceLine(r.sleb());
    } else if (op === DW_LNS_set_file) {
      reg.file = r.uleb();
      reg.lineHasNonZeroDiscriminator = reg.discriminator !== 0;
      out.setFile(reg.file);
    } else if (op === DW_LNS_negate_stmt) {
      reg.isStmt = !reg.isStmt;
    } else if (op === DW_LNS_const_add_pc) {
      reg.address += Math.floor((255 - h.opcodeBase) / h.lineRange) * h.minInstLength;
    } else if (op === DW_LNS_fixed_advance_pc) {
      reg.address += r.u16();
    } else {
      for (let i = 0; i < h.stdLengths[op - 1]; i++) r.uleb(); // column, prologue flags, isa, unknown
    }
  }
}

interface Building {
  name: string;
  pcs: number[];
  lines: number[];
  stmts: boolean[];
}

/** GDB's subfile recording (see the module comment). */
class SubfileBuilder {
  private readonly byId = new Map<string, Building>();
  private readonly primary: Building;
  /** Subfiles in the order GDB allocates their symtabs: by file-table index. */
  private readonly fileSubfile: (Building | undefined)[] = [];
  private current: Building | undefined;
  private lastSubfile: Building | undefined;
  private lastLine = 0;
  private lastAddress = 0;
  private stmtAtAddress = false;
  private recording = true;

  constructor(private readonly h: Header, private readonly unit: LineUnitInfo) {
    const name = unit.name ?? '';
    this.primary = { name, pcs: [], lines: [], stmts: [] };
    this.byId.set(this.idOf(name), this.primary);
    for (let i = 0; i < h.files.length; i++) this.fileSubfile.push(h.version < 5 && i === 0 ? undefined : this.subfileOf(i));
  }

  private idOf(name: string): string {
    return isAbsolute(name) || !this.unit.compDir ? name : joinPath(this.unit.compDir, name);
  }

  /** GDB's dwarf2_start_subfile: the file name joined to its directory entry, when that is known. */
  private subfileOf(index: number): Building | undefined {
    const fe = this.h.files[index];
    if (!fe) return undefined;
    const dir = this.h.version >= 5 ? this.h.dirs[fe.dir] : this.h.dirs[fe.dir - 1];
    const name = !isAbsolute(fe.name) && dir !== undefined ? joinPath(dir, fe.name) : fe.name;
    const id = this.idOf(name);
    let sf = this.byId.get(id);
    if (!sf) {
      sf = { name, pcs: [], lines: [], stmts: [] };
      this.byId.set(id, sf);
    }
    return sf;
  }

  startSequence(reg: Registers): void {
    this.lastSubfile = undefined;
    this.lastLine = 0;
    this.lastAddress = reg.address;
    this.stmtAtAddress = false;
    this.recording = true;
    this.current = this.fileSubfile[reg.file];
  }

  setFile(file: number): void {
    this.current = this.fileSubfile[file];
  }

  stopRecording(): void {
    this.recording = false;
  }

  row(reg: Registers, endSequence: boolean): void {
    const fileChanged = this.lastSubfile !== this.current;
    const ignore = (fileChanged && !endSequence && this.lastAddress === reg.address && !reg.isStmt && this.stmtAtAddress)
      || (!endSequence && reg.line === 0);
    if ((fileChanged && !ignore) || endSequence) this.finishLine(this.lastSubfile, reg.address);
    if (!endSequence && !ignore) {
      const same = !fileChanged && reg.line === this.lastLine && reg.lineHasNonZeroDiscriminator;
      if (!same && this.current && this.recording) this.record(this.current, reg.line, reg.address, reg.isStmt);
      this.lastSubfile = this.current;
      this.lastLine = reg.line;
    }
    if (this.lastAddress !== reg.address) {
      this.stmtAtAddress = false;
      this.lastAddress = reg.address;
    }
    this.stmtAtAddress ||= reg.isStmt;
  }

  /** The line-0 marker closing a file's run; it replaces the file's entries at the same address. */
  private finishLine(sf: Building | undefined, address: number): void {
    if (!sf || !this.recording) return;
    let lastLine: number | undefined;
    while (sf.pcs.length) {
      const i = sf.pcs.length - 1;
      lastLine = sf.lines[i];
      if (sf.pcs[i] !== address) break;
      sf.pcs.pop(); sf.lines.pop(); sf.stmts.pop();
    }
    if (lastLine === undefined || lastLine === 0) return; // a marker ending an empty run
    this.record(sf, 0, address, true);
  }

  private record(sf: Building, line: number, address: number, isStmt: boolean): void {
    sf.pcs.push(address);
    sf.lines.push(line);
    sf.stmts.push(isStmt);
  }

  finish(): LineTable {
    const done = new Map<Building, Subfile>();
    const order: Building[] = [this.primary];
    for (const b of this.fileSubfile) if (b && !order.includes(b)) order.push(b);
    const subfiles = order.map((b) => {
      const sf = sortedSubfile(b);
      done.set(b, sf);
      return sf;
    });
    return new LineTable(subfiles, this.fileSubfile.map((b) => (b ? done.get(b) : undefined)));
  }
}

/** GDB's stable sort of a file's entries: by address, line-0 markers first among equal addresses. */
function sortedSubfile(b: Building): Subfile {
  const n = b.pcs.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = before(b, i - 1, i) || !before(b, i, i - 1);
  if (!sorted) idx.sort((x, y) => (before(b, x, y) ? -1 : before(b, y, x) ? 1 : x - y));
  const out: Subfile = { name: b.name, pcs: new Float64Array(n), lines: new Int32Array(n), stmts: new Uint8Array(n) };
  idx.forEach((from, to) => {
    out.pcs[to] = b.pcs[from];
    out.lines[to] = b.lines[from];
    out.stmts[to] = b.stmts[from] ? 1 : 0;
  });
  return out;
}

function before(b: Building, x: number, y: number): boolean {
  if (b.pcs[x] === b.pcs[y] && (b.lines[x] === 0) !== (b.lines[y] === 0)) return b.lines[x] === 0;
  return b.pcs[x] < b.pcs[y];
}
