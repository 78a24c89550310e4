/**
 * A cursor over DWARF section bytes (little-endian) and the DWARF constants the symbolizer reads.
 * Values are plain numbers: user-space addresses and section offsets fit in 2^53, and numbers
 * keep the hot DIE walks free of bigint arithmetic. Reading past the end throws a DwarfError so a
 * corrupt section ends a lookup instead of looping.
 */

export class DwarfError extends Error {}

export class Reader {
  pos: number;
  private readonly v: DataView;

  constructor(readonly b: Uint8Array, pos = 0) {
    this.v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.pos = pos;
  }

  /** Throws unless `n` more bytes are available. */
  need(n: number): void {
    if (this.pos + n > this.b.length || this.pos < 0) throw new DwarfError(`DWARF read past end (${this.pos}+${n} > ${this.b.length})`);
  }

  u8(): number {
    this.need(1);
    return this.b[this.pos++];
  }

  s8(): number {
    const x = this.u8();
    return x >= 0x80 ? x - 0x100 : x;
  }

  u16(): number {
    this.need(2);
    const x = this.v.getUint16(this.pos, true);
    this.pos += 2;
    return x;
  }

  u24(): number {
    this.need(3);
    const b = this.b, p = this.pos;
    this.pos += 3;
    return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16);
  }

  u32(): number {
    this.need(4);
    const x = this.v.getUint32(this.pos, true);
    this.pos += 4;
    return x;
  }

  /** A 64-bit value as a number (exact below 2^53; larger values only serve as tombstones). */
  u64(): number {
    this.need(8);
    const lo = this.v.getUint32(this.pos, true), hi = this.v.getUint32(this.pos + 4, true);
    this.pos += 8;
    return hi * 0x100000000 + lo;
  }

  /** An unsigned value of `size` bytes (1, 2, 3, 4 or 8). */
  uint(size: number): number {
    switch (size) {
      case 1: return this.u8();
      case 2: return this.u16();
      case 3: return this.u24();
      case 4: return this.u32();
      case 8: return this.u64();
      default: throw new DwarfError(`unsupported integer size ${size}`);
    }
  }

  uleb(): number {
    let result = 0, mul = 1, byte: number;
    do {
      byte = this.u8();
      result += (byte & 0x7f) * mul;
      mul *= 128;
    } while (byte & 0x80);
    return result;
  }

  sleb(): number {
    let result = 0, mul = 1, byte: number;
    do {
      byte = this.u8();
      result += (byte & 0x7f) * mul;
      mul *= 128;
    } while (byte & 0x80);
    return byte & 0x40 ? result - mul : result;
  }

  /** Moves past a NUL-terminated string, returning where it started. */
  skipCString(): number {
    const start = this.pos, b = this.b;
    let p = start;
    while (p < b.length && b[p] !== 0) p++;
    if (p >= b.length) throw new DwarfError('unterminated DWARF string');
    this.pos = p + 1;
    return start;
  }

  cString(): string {
    const start = this.skipCString();
    return cStringAt(this.b, start);
  }
}

/** The NUL-terminated UTF-8 string at `at` (empty when out of range). */
export function cStringAt(b: Uint8Array, at: number): string {
  if (at < 0 || at >= b.length) return '';
  let end = at;
  while (end < b.length && b[end] !== 0) end++;
  return Buffer.from(b.buffer, b.byteOffset + at, end - at).toString('utf8');
}

/** DW_FORM_* values. */
export const enum Form {
  addr = 0x01, block2 = 0x03, block4 = 0x04, data2 = 0x05, data4 = 0x06, data8 = 0x07, string = 0x08,
  block = 0x09, block1 = 0x0a, data1 = 0x0b, flag = 0x0c, sdata = 0x0d, strp = 0x0e, udata = 0x0f,
  ref_addr = 0x10, ref1 = 0x11, ref2 = 0x12, ref4 = 0x13, ref8 = 0x14, ref_udata = 0x15, indirect = 0x16,
  sec_offset = 0x17, exprloc = 0x18, flag_present = 0x19, strx = 0x1a, addrx = 0x1b, ref_sup4 = 0x1c,
  strp_sup = 0x1d, data16 = 0x1e, line_strp = 0x1f, ref_sig8 = 0x20, implicit_const = 0x21, loclistx = 0x22,
  rnglistx = 0x23, ref_sup8 = 0x24, strx1 = 0x25, strx2 = 0x26, strx3 = 0x27, strx4 = 0x28,
  addrx1 = 0x29, addrx2 = 0x2a, addrx3 = 0x2b, addrx4 = 0x2c,
  GNU_addr_index = 0x1f01, GNU_str_index = 0x1f02, GNU_ref_alt = 0x1f20, GNU_strp_alt = 0x1f21,
}

/** DW_AT_* values the symbolizer reads. */
export const enum At {
  sibling = 0x01, name = 0x03, stmt_list = 0x10, low_pc = 0x11, high_pc = 0x12, language = 0x13,
  comp_dir = 0x1b, abstract_origin = 0x31, specification = 0x47, ranges = 0x55, call_file = 0x58,
  call_line = 0x59, linkage_name = 0x6e, byte_size = 0x0b, data_member_location = 0x38, declaration = 0x3c, type = 0x49, str_offsets_base = 0x72, addr_base = 0x73, rnglists_base = 0x74, MIPS_linkage_name = 0x2007,
}

/** DW_TAG_* values the symbolizer reads. */
export const enum Tag {
  class_type = 0x02, enumeration_type = 0x04, lexical_block = 0x0b, member = 0x0d, compile_unit = 0x11,
  typedef = 0x16, const_type = 0x26, volatile_type = 0x35, atomic_type = 0x47,
  structure_type = 0x13, union_type = 0x17, inlined_subroutine = 0x1d, module = 0x1e,
  subprogram = 0x2e, interface_type = 0x38, namespace = 0x39, partial_unit = 0x3c, skeleton_unit = 0x4a,
}
