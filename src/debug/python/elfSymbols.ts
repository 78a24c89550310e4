/**
 * `Symbols` (addresses only) from the ELF symbol tables of a live process's mapped files: finds the
 * object that defines a symbol (libpython*.so, or the python executable when libpython is
 * static), looks it up in its `.symtab`/`.dynsym` (native/elf.ts) and adds the load bias taken
 * from /proc/PID/maps. With ProcMemory this reads 3.13+ (debug offsets) with no debugger and no
 * DWARF.
 */
import { readFile } from 'node:fs/promises';
import type { Symbols } from '../types';
import { ElfFile, PT_LOAD } from '../native/elf';
import { parseProcMaps } from '../native/processModules';

export interface Mapping {
  start: bigint;
  end: bigint;
  offset: bigint;
  path: string;
}

/** Parses /proc/PID/maps text; only file-backed mappings are kept. */
export function parseMaps(text: string): Mapping[] {
  return parseProcMaps(text).filter((m) => m.name.startsWith('/')).map((m) => ({ start: m.start, end: m.end, offset: m.offset, path: m.name }));
}

export class ElfSymbols implements Symbols {
  private objects: Promise<{ elf: ElfFile; path: string; bias: bigint }[]> | undefined;

  constructor(readonly pid: number) {}

  /** The mapped ELF objects worth searching, libpython first, then the executable. */
  private load(): Promise<{ elf: ElfFile; path: string; bias: bigint }[]> {
    this.objects ??= (async () => {
      const maps = parseMaps(await readFile(`/proc/${this.pid}/maps`, 'utf8'));
      const paths = [...new Set(maps.map((m) => m.path))];
      const exe = maps[0]?.path;
      const wanted = [...paths.filter((p) => /\/libpython3[^/]*\.so/.test(p)), ...(exe ? [exe] : [])];
      const out: { elf: ElfFile; path: string; bias: bigint }[] = [];
      for (const path of wanted) {
        let elf: ElfFile;
        try { elf = new ElfFile(`/proc/${this.pid}/root${path}`); } catch { continue; }
        out.push({ elf, path, bias: loadBias(elf, maps.filter((m) => m.path === path)) });
      }
      return out;
    })();
    return this.objects;
  }

  async address(name: string): Promise<bigint | undefined> {
    for (const { elf, bias } of await this.load()) {
      const v = elf.symbolValue(name);
      if (v !== undefined) return v + bias;
    }
    return undefined;
  }

  /** Path of the object defining `name` (for messages: "libpython3.13.so.1.0"). */
  async objectDefining(name: string): Promise<string | undefined> {
    for (const { elf, path } of await this.load()) if (elf.symbolValue(name) !== undefined) return path;
    return undefined;
  }

  /** Closes the files read. */
  close(): void {
    void this.objects?.then((os) => { for (const o of os) o.elf.close(); }, () => undefined);
  }
}

/** Load bias = where the first PT_LOAD's page is mapped minus its (page-aligned) p_vaddr. */
function loadBias(elf: ElfFile, maps: Mapping[]): bigint {
  const first = elf.segments.find((s) => s.type === PT_LOAD);
  if (!elf.pie || !first) return 0n;
  const page = 0xfffn;
  const fileOff = first.offset & ~page;
  const m = maps.find((x) => x.offset === fileOff) ?? maps.reduce((a, b) => (a.start < b.start ? a : b));
  return m.start - (first.vaddr & ~page) - (m.offset - fileOff);
}
