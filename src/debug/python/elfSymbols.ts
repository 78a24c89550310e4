/**
 * `Symbols` (addresses only) from the ELF symbol tables of a live process's mapped files: finds the
 * object that defines `_PyRuntime` (libpython*.so, or the python executable when libpython is
 * static), reads its `.symtab` and `.dynsym` and adds the load bias taken from /proc/PID/maps. With
 * ProcMemory this reads 3.13+ (debug offsets) with no debugger and no DWARF.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import type { Symbols } from '../types';

export interface Mapping {
  start: bigint;
  end: bigint;
  offset: bigint;
  path: string;
}

/** Parses /proc/PID/maps text; only file-backed mappings are kept. */
export function parseMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+\S+\s+([0-9a-f]+)\s+\S+\s+\d+\s+(\/.*)$/.exec(line);
    if (m) out.push({ start: BigInt('0x' + m[1]), end: BigInt('0x' + m[2]), offset: BigInt('0x' + m[3]), path: m[4].replace(/ \(deleted\)$/, '') });
  }
  return out;
}

interface ElfFile {
  path: string;
  /** Symbol name -> st_value (unbiased), defined symbols only. */
  symbols: Map<string, bigint>;
  /** p_vaddr - p_offset of the first PT_LOAD, to place file offsets in memory. */
  loads: { vaddr: bigint; offset: bigint }[];
  pie: boolean;
}

const SHT_SYMTAB = 2, SHT_DYNSYM = 11, PT_LOAD = 1, ET_DYN = 3;

/** Reads the defined symbols and load segments of a 64-bit little-endian ELF file. */
export async function readElfSymbols(path: string): Promise<ElfFile> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    const at = async (offset: bigint, size: number): Promise<DataView> => {
      const b = Buffer.alloc(size);
      const { bytesRead } = await fh!.read(b, 0, size, Number(offset));
      if (bytesRead < size) throw new Error(`${path}: truncated ELF`);
      return new DataView(b.buffer, b.byteOffset, size);
    };
    const h = await at(0n, 64);
    if (h.getUint32(0, false) !== 0x7f454c46 || h.getUint8(4) !== 2 || h.getUint8(5) !== 1) {
      throw new Error(`${path}: not a 64-bit little-endian ELF`);
    }
    const type = h.getUint16(16, true);
    const phoff = h.getBigUint64(32, true), shoff = h.getBigUint64(40, true);
    const phentsize = h.getUint16(54, true), phnum = h.getUint16(56, true);
    const shentsize = h.getUint16(58, true), shnum = h.getUint16(60, true);
    const loads: ElfFile['loads'] = [];
    const ph = await at(phoff, phentsize * phnum);
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      if (ph.getUint32(o, true) === PT_LOAD) loads.push({ offset: ph.getBigUint64(o + 8, true), vaddr: ph.getBigUint64(o + 16, true) });
    }
    const symbols = new Map<string, bigint>();
    if (shnum && shoff) {
      const sh = await at(shoff, shentsize * shnum);
      const sec = (i: number) => {
        const o = i * shentsize;
        return { type: sh.getUint32(o + 4, true), offset: sh.getBigUint64(o + 24, true), size: Number(sh.getBigUint64(o + 32, true)), link: sh.getUint32(o + 40, true) };
      };
      for (let i = 0; i < shnum; i++) {
        const s = sec(i);
        if (s.type !== SHT_SYMTAB && s.type !== SHT_DYNSYM) continue;
        const strs = sec(s.link);
        const [tab, str] = await Promise.all([at(s.offset, s.size), at(strs.offset, strs.size)]);
        const strBytes = new Uint8Array(str.buffer, str.byteOffset, str.byteLength);
        for (let o = 24; o + 24 <= s.size; o += 24) {
          const shndx = tab.getUint16(o + 6, true);
          const value = tab.getBigUint64(o + 8, true);
          if (shndx === 0 || value === 0n) continue; // undefined
          const nameOff = tab.getUint32(o, true);
          const endOff = strBytes.indexOf(0, nameOff);
          const name = Buffer.from(strBytes.buffer, strBytes.byteOffset + nameOff, (endOff < 0 ? strBytes.length : endOff) - nameOff).toString('latin1');
          if (name && !symbols.has(name)) symbols.set(name, value);
        }
      }
    }
    return { path, symbols, loads, pie: type === ET_DYN };
  } finally {
    await fh?.close();
  }
}

export class ElfSymbols implements Symbols {
  private objects: Promise<{ elf: ElfFile; bias: bigint }[]> | undefined;

  constructor(readonly pid: number) {}

  /** The mapped ELF objects worth searching, libpython first, then the executable. */
  private load(): Promise<{ elf: ElfFile; bias: bigint }[]> {
    this.objects ??= (async () => {
      const maps = parseMaps(await readFile(`/proc/${this.pid}/maps`, 'utf8'));
      const paths = [...new Set(maps.map((m) => m.path))];
      const exe = maps[0]?.path;
      const wanted = [...paths.filter((p) => /\/libpython3[^/]*\.so/.test(p)), ...(exe ? [exe] : [])];
      const out: { elf: ElfFile; bias: bigint }[] = [];
      for (const path of wanted) {
        let elf: ElfFile;
        try { elf = await readElfSymbols(`/proc/${this.pid}/root${path}`); } catch { continue; }
        out.push({ elf: { ...elf, path }, bias: loadBias(elf, maps.filter((m) => m.path === path)) });
      }
      return out;
    })();
    return this.objects;
  }

  async address(name: string): Promise<bigint | undefined> {
    for (const { elf, bias } of await this.load()) {
      const v = elf.symbols.get(name);
      if (v !== undefined) return v + bias;
    }
    return undefined;
  }

  /** Path of the object defining `name` (for messages: "libpython3.13.so.1.0"). */
  async objectDefining(name: string): Promise<string | undefined> {
    for (const { elf } of await this.load()) if (elf.symbols.has(name)) return elf.path;
    return undefined;
  }
}

/** Load bias = where the first PT_LOAD's page is mapped minus its (page-aligned) p_vaddr. */
function loadBias(elf: ElfFile, maps: Mapping[]): bigint {
  if (!elf.pie || !elf.loads.length) return 0n;
  const first = elf.loads[0];
  const page = 0xfffn;
  const fileOff = first.offset & ~page;
  const m = maps.find((x) => x.offset === fileOff) ?? maps.reduce((a, b) => (a.start < b.start ? a : b));
  return m.start - (first.vaddr & ~page) - (m.offset - fileOff);
}
