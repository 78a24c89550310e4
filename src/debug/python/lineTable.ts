/**
 * Decoders for CPython's instruction-offset → line tables, pure functions over the raw bytes of a
 * code object's `co_linetable`.
 *
 * - 3.10 (`pep626`): PEP 626's table, pairs of (bytecode delta: unsigned byte, line delta: signed
 *   byte); a line delta of -128 means "no line" and leaves the running line unchanged; offsets are
 *   in bytes. See CPython 3.10 `Objects/lnotab_notes.txt`.
 * - 3.11+ (`locations`): the location table of `Objects/locations.md`; entry lengths are in code
 *   units (2 bytes); only the start line is needed here.
 */

export type LineTableFormat = 'pep626' | 'locations';

/** One address range [start, end) in bytes and its line (null: no line). */
export interface LineRange {
  start: number;
  end: number;
  line: number | null;
}

/** The table format a CPython version uses (`minor` as in 3.`minor`). */
export function lineTableFormat(minor: number): LineTableFormat {
  return minor >= 11 ? 'locations' : 'pep626';
}

/** Every address range of the table, in order. Stops quietly at a truncated entry. */
export function decodeLineTable(table: Uint8Array, firstLine: number, format: LineTableFormat = 'locations'): LineRange[] {
  return format === 'pep626' ? decodePep626(table, firstLine) : decodeLocations(table, firstLine);
}

/**
 * The line of the instruction at `byteOffset`, as `PyCode_Addr2Line` computes it: a negative offset
 * (frame not started) gives `firstLine`; an offset outside the table or in a "no line" range gives
 * null.
 */
export function lineForOffset(
  table: Uint8Array, firstLine: number, byteOffset: number, format: LineTableFormat = 'locations',
): number | null {
  if (byteOffset < 0) return firstLine;
  for (const r of decodeLineTable(table, firstLine, format)) {
    if (byteOffset >= r.start && byteOffset < r.end) return r.line;
  }
  return null;
}

function decodePep626(table: Uint8Array, firstLine: number): LineRange[] {
  const out: LineRange[] = [];
  let line = firstLine;
  let end = 0;
  for (let i = 0; i + 1 < table.length; i += 2) {
    const start = end;
    end = start + table[i];
    const delta = table[i + 1] >= 128 ? table[i + 1] - 256 : table[i + 1];
    let rangeLine: number | null;
    if (delta === -128) rangeLine = null;
    else { line += delta; rangeLine = line; }
    if (end > start) out.push({ start, end, line: rangeLine });
  }
  return out;
}

function decodeLocations(table: Uint8Array, firstLine: number): LineRange[] {
  const out: LineRange[] = [];
  let line = firstLine;
  let offset = 0;
  let i = 0;
  const varint = (): number | undefined => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (i >= table.length || shift > 42) return undefined;
      const b = table[i++];
      value += (b & 63) * 2 ** shift;
      shift += 6;
      if (!(b & 64)) return value;
    }
  };
  const svarint = (): number | undefined => {
    const u = varint();
    if (u === undefined) return undefined;
    const mag = Math.floor(u / 2);
    return u % 2 ? -mag : mag;
  };
  while (i < table.length) {
    const first = table[i++];
    if (!(first & 128)) return out; // not at an entry start: corrupt table
    const code = (first >> 3) & 15;
    const length = ((first & 7) + 1) * 2;
    let rangeLine: number | null = line;
    if (code === 15) {
      rangeLine = null;
    } else if (code === 14) {
      const d = svarint();
      if (d === undefined || varint() === undefined || varint() === undefined || varint() === undefined) return out;
      line += d;
      rangeLine = line;
    } else if (code === 13) {
      const d = svarint();
      if (d === undefined) return out;
      line += d;
      rangeLine = line;
    } else if (code >= 10) {
      if (i + 2 > table.length) return out;
      i += 2;
      line += code - 10;
      rangeLine = line;
    } else {
      if (i + 1 > table.length) return out;
      i += 1;
    }
    out.push({ start: offset, end: offset + length, line: rangeLine });
    offset += length;
  }
  return out;
}
