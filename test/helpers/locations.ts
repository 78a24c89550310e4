/**
 * Location tables (CPython's Objects/locations.md), the inverse of src/debug/python/lineTable.ts:
 * what the unit tests build interpreter images with and what the hardening fuzzer damages.
 */

export interface LocEntry { units: number; line: number | null; form?: 'long' }

function varint(out: number[], v: number): void {
  while (v >= 64) { out.push(64 | (v & 63)); v = Math.floor(v / 64); }
  out.push(v);
}
const svarint = (out: number[], v: number) => varint(out, v < 0 ? (-v * 2) | 1 : v * 2);

/** Encodes (code units, line) entries; entries longer than 8 units are split, as CPython does. */
export function encodeLocations(firstLine: number, entries: LocEntry[]): Uint8Array {
  const out: number[] = [];
  let line = firstLine;
  for (const e of entries) {
    for (let left = e.units; left > 0;) {
      const n = Math.min(left, 8);
      left -= n;
      const head = (code: number) => out.push(0x80 | (code << 3) | (n - 1));
      if (e.line === null) { head(15); continue; }
      const delta = e.line - line;
      line = e.line;
      if (e.form === 'long') { head(14); svarint(out, delta); varint(out, 0); varint(out, 1); varint(out, 5); }
      else if (delta === 0) { head(0); out.push(4); } // short form: same line, one column byte
      else if (delta === 1 || delta === 2) { head(10 + delta); out.push(0, 9); } // one-line form
      else { head(13); svarint(out, delta); } // no columns
    }
  }
  return Uint8Array.from(out);
}
