/**
 * A 64-bit little-endian ELF file read on demand (synchronously: a section is one pread): its
 * sections by name (SHF_COMPRESSED zlib sections inflated), load segments, build id, debug link,
 * and the function symbols sorted by address. The native unwinder and symbolizer read the files
 * a live process maps; nothing here knows about processes.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inflateSync } from 'node:zlib';

export interface ElfSection {
  name: string;
  type: number;
  flags: bigint;
  /** Address when loaded (unbiased); 0 for sections not loaded. */
  addr: bigint;
  offset: number;
  size: number;
  link: number;
}

export interface ElfSegment {
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
}

export interface FunctionSymbol {
  /** Unbiased address. */
  addr: bigint;
  size: bigint;
  name: string;
}

export const PT_LOAD = 1;
export const PT_GNU_EH_FRAME = 0x6474e550;
const SHT_SYMTAB = 2, SHT_NOTE = 7, SHT_NOBITS = 8, SHT_DYNSYM = 11;
const SHF_COMPRESSED = 0x800n;
const STT_FUNC = 2, STT_GNU_IFUNC = 10;
const ET_DYN = 3;

export class ElfError extends Error {}

export class ElfFile {
  readonly sections: ElfSection[] = [];
  readonly segments: ElfSegment[] = [];
  /** ET_DYN: shared object or PIE, placed at a load bias. */
  readonly pie: boolean;
  readonly machine: number;
  private readonly fd: number;
  readonly size: number;
  private readonly byName = new Map<string, ElfSection>();
  private readonly data = new Map<string, Uint8Array | null>();
  private funcs: FunctionSymbol[] | undefined;
  private readonly values = new Map<string, bigint | undefined>();
  private readonly tables = new Map<number, Uint8Array>();
  private closed = false;

  /** Throws ElfError when the file is not a 64-bit little-endian ELF. */
  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    try {
      this.size = fstatSync(this.fd).size;
      const h = this.view(0, 64);
      if (h.getUint32(0, false) !== 0x7f454c46 || h.getUint8(4) !== 2 || h.getUint8(5) !== 1) {
        throw new ElfError(`${path}: not a 64-bit little-endian ELF file`);
      }
      this.pie = h.getUint16(16, true) === ET_DYN;
      this.machine = h.getUint16(18, true);
      const phoff = Number(h.getBigUint64(32, true)), shoff = Number(h.getBigUint64(40, true));
      const phentsize = h.getUint16(54, true), phnum = h.getUint16(56, true);
      const shentsize = h.getUint16(58, true), shnum = h.getUint16(60, true), shstrndx = h.getUint16(62, true);
      if (phnum) {
        const ph = this.view(phoff, phentsize * phnum);
        for (let i = 0; i < phnum; i++) {
          const o = i * phentsize;
          this.segments.push({
            type: ph.getUint32(o, true), flags: ph.getUint32(o + 4, true), offset: ph.getBigUint64(o + 8, true),
            vaddr: ph.getBigUint64(o + 16, true), filesz: ph.getBigUint64(o + 32, true), memsz: ph.getBigUint64(o + 40, true),
          });
        }
      }
      if (shnum && shoff) {
        const sh = this.view(shoff, shentsize * shnum);
        const raw = [];
        for (let i = 0; i < shnum; i++) {
          const o = i * shentsize;
          raw.push({
            nameOff: sh.getUint32(o, true), type: sh.getUint32(o + 4, true), flags: sh.getBigUint64(o + 8, true),
            addr: sh.getBigUint64(o + 16, true), offset: Number(sh.getBigUint64(o + 24, true)), size: Number(sh.getBigUint64(o + 32, true)),
            link: sh.getUint32(o + 40, true),
          });
        }
        const strs = raw[shstrndx];
        const names = strs ? this.bytes(strs.offset, strs.size) : new Uint8Array();
        for (const r of raw) {
          const s: ElfSection = { name: cString(names, r.nameOff), type: r.type, flags: r.flags, addr: r.addr, offset: r.offset, size: r.size, link: r.link };
          this.sections.push(s);
          if (s.name && !this.byName.has(s.name)) this.byName.set(s.name, s);
        }
      }
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /** Bytes of the file at an offset (throws ElfError when the file is shorter). */
  bytes(offset: number, size: number): Uint8Array {
    const b = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const n = readSync(this.fd, b, done, size - done, offset + done);
      if (n <= 0) throw new ElfError(`${this.path}: truncated (wanted ${size} bytes at ${offset})`);
      done += n;
    }
    return new Uint8Array(b.buffer, b.byteOffset, size);
  }

  private view(offset: number, size: number): DataView {
    const b = this.bytes(offset, size);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  section(name: string): ElfSection | undefined {
    return this.byName.get(name);
  }

  /** A section's contents (decompressed), or undefined when absent or NOBITS (stripped). */
  sectionData(name: string): Uint8Array | undefined {
    if (this.data.has(name)) return this.data.get(name) ?? undefined;
    const s = this.byName.get(name);
    let out: Uint8Array | null = null;
    if (s && s.type !== SHT_NOBITS && s.size > 0) {
      const raw = this.bytes(s.offset, s.size);
      if (s.flags & SHF_COMPRESSED) {
        const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        const type = v.getUint32(0, true);
        if (type !== 1) throw new ElfError(`${this.path}: section ${name} compressed with type ${type} (only zlib is read)`);
        // (Into one buffer of the size the header gives: zlib's default 16 KiB chunks, joined in
        // JavaScript, cost libc's 5.8 MB .debug_info a third more.)
        const size = Number(v.getBigUint64(8, true));
        const z = inflateSync(raw.subarray(24), size > 0 && size < 1 << 30 ? { chunkSize: Math.max(64 * 1024, size) } : {});
        out = new Uint8Array(z.buffer, z.byteOffset, z.byteLength);
      } else {
        out = raw;
      }
    }
    this.data.set(name, out);
    return out ?? undefined;
  }

  /** The GNU build id, lower-case hex. */
  buildId(): string | undefined {
    for (const s of this.sections) {
      if (s.type !== SHT_NOTE) continue;
      for (const n of notes(this.bytes(s.offset, s.size))) {
        if (n.type === 3 && n.name === 'GNU') return Buffer.from(n.desc).toString('hex');
      }
    }
    return undefined;
  }

  /** `.gnu_debuglink`'s file name. */
  debugLink(): string | undefined {
    const d = this.sectionData('.gnu_debuglink');
    return d ? cString(d, 0) || undefined : undefined;
  }

  /** Whether the file carries DWARF of its own (a `.debug_info` with contents). */
  hasDwarf(): boolean {
    const s = this.byName.get('.debug_info');
    return !!s && s.type !== SHT_NOBITS && s.size > 0;
  }

  /** Function symbols (.symtab, else .dynsym), sorted by address, sizes filled where 0. */
  functions(): FunctionSymbol[] {
    if (this.funcs) return this.funcs;
    const out: FunctionSymbol[] = [];
    const tables = this.sections.filter((s) => s.type === SHT_SYMTAB);
    for (const sym of this.definedSymbols(tables.length ? tables : this.sections.filter((x) => x.type === SHT_DYNSYM))) {
      if (sym.type === STT_FUNC || sym.type === STT_GNU_IFUNC) out.push({ addr: sym.value, size: sym.size, name: sym.name });
    }
    // Of several names at one address, keep the global-looking one first (no leading "__" when an
    // alternative exists) and stable otherwise.
    out.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : underscoreRank(a.name) - underscoreRank(b.name)));
    const uniq: FunctionSymbol[] = [];
    for (const f of out) if (!uniq.length || uniq[uniq.length - 1].addr !== f.addr) uniq.push(f);
    for (let i = 0; i < uniq.length; i++) {
      if (uniq[i].size === 0n && i + 1 < uniq.length) uniq[i] = { ...uniq[i], size: uniq[i + 1].addr - uniq[i].addr };
    }
    this.funcs = uniq;
    return uniq;
  }

  /**
   * The (unbiased) value of a defined symbol of any type, from .symtab, else .dynsym. Found by
   * its name's bytes in the string table, then the entry naming that offset: no other name is
   * decoded (libpython has ~15,000).
   */
  symbolValue(name: string): bigint | undefined {
    if (this.values.has(name)) return this.values.get(name);
    const needle = Buffer.from(`\0${name}\0`, 'utf8');
    let found: bigint | undefined;
    for (const s of [...this.sections.filter((x) => x.type === SHT_SYMTAB), ...this.sections.filter((x) => x.type === SHT_DYNSYM)]) {
      if (s.type === SHT_NOBITS || !s.size || !this.sections[s.link]) continue;
      const str = Buffer.from(this.tableBytes(s.link));
      const offsets = new Set<number>();
      for (let at = str.indexOf(needle); at >= 0; at = str.indexOf(needle, at + 1)) offsets.add(at + 1);
      if (!offsets.size) continue;
      const tab = this.tableBytes(this.sections.indexOf(s));
      const v = new DataView(tab.buffer, tab.byteOffset, tab.byteLength);
      for (let o = 0; o + 24 <= tab.length && found === undefined; o += 24) {
        if (!offsets.has(v.getUint32(o, true)) || v.getUint16(o + 6, true) === 0) continue;
        const value = v.getBigUint64(o + 8, true);
        if (value !== 0n) found = value;
      }
      if (found !== undefined) break;
    }
    this.values.set(name, found);
    return found;
  }

  /** A symbol or string table's bytes, read once. */
  private tableBytes(index: number): Uint8Array {
    let b = this.tables.get(index);
    if (!b) {
      const s = this.sections[index];
      b = this.bytes(s.offset, s.size);
      this.tables.set(index, b);
    }
    return b;
  }

  /** The defined symbols (not undefined, value not 0) of some symbol-table sections. */
  private *definedSymbols(tables: readonly ElfSection[]): Generator<{ type: number; value: bigint; size: bigint; name: string }> {
    for (const s of tables) {
      if (s.type === SHT_NOBITS || !s.size) continue;
      const strs = this.sections[s.link];
      const tab = this.bytes(s.offset, s.size);
      const str = strs ? this.bytes(strs.offset, strs.size) : new Uint8Array();
      const v = new DataView(tab.buffer, tab.byteOffset, tab.byteLength);
      for (let o = 0; o + 24 <= tab.length; o += 24) {
        if (v.getUint16(o + 6, true) === 0) continue; // undefined
        const value = v.getBigUint64(o + 8, true);
        if (value === 0n) continue;
        yield { type: v.getUint8(o + 4) & 0xf, value, size: v.getBigUint64(o + 16, true), name: cString(str, v.getUint32(o, true)) };
      }
    }
  }

  /** The function symbol containing an unbiased address. */
  functionAt(addr: bigint): FunctionSymbol | undefined {
    const fs = this.functions();
    let lo = 0, hi = fs.length - 1, best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (fs[mid].addr <= addr) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (best < 0) return undefined;
    const f = fs[best];
    return addr < f.addr + (f.size || 1n) ? f : undefined;
  }
}

function underscoreRank(name: string): number {
  return name.startsWith('__') ? 2 : name.startsWith('_') ? 1 : 0;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** The notes of a note section or segment (name, type, descriptor), in order; a note that runs
 *  past the end ends the list. */
export function* notes(d: Uint8Array): Generator<{ name: string; type: number; desc: Uint8Array }> {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  for (let o = 0; o + 12 <= d.length;) {
    const namesz = v.getUint32(o, true), descsz = v.getUint32(o + 4, true), type = v.getUint32(o + 8, true);
    const descAt = o + 12 + align4(namesz);
    if (descAt + descsz > d.length) return;
    yield { name: cString(d.subarray(o + 12, o + 12 + namesz), 0), type, desc: d.subarray(descAt, descAt + descsz) };
    o = descAt + align4(descsz);
  }
}

export function cString(b: Uint8Array, at: number): string {
  let end = at;
  while (end < b.length && b[end] !== 0) end++;
  return Buffer.from(b.buffer, b.byteOffset + at, end - at).toString('utf8');
}

/**
 * The file holding a stripped object's DWARF, as GDB looks for it: by build id under the debug
 * directories (`/usr/lib/debug/.build-id/ab/cdef….debug`), then by `.gnu_debuglink` beside the
 * object, in its `.debug/`, and under the debug directories. `root` prefixes every path (a
 * process's `/proc/PID/root`).
 */
export function separateDebugFile(elf: ElfFile, objectPath: string, root = '', debugDirs = ['/usr/lib/debug']): string | undefined {
  const id = elf.buildId();
  if (id && id.length > 2) {
    for (const d of debugDirs) {
      const p = `${root}${d}/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`;
      if (existsSync(p)) return p;
    }
  }
  const link = elf.debugLink();
  if (link) {
    const dir = dirname(objectPath);
    for (const p of [join(dir, link), join(dir, '.debug', link), ...debugDirs.map((d) => join(d, dir, link))]) {
      const full = `${root}${p}`;
      if (p !== objectPath && existsSync(full)) return full;
    }
  }
  return undefined;
}
