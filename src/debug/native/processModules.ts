/**
 * The files a live local process maps, as the unwinder needs them: for a pc, the ELF file mapped
 * there, its load bias and its separate debug file. Read from /proc/PID/maps (again whenever a pc
 * falls outside what was read: a library loaded since); files are opened through /proc/PID/root
 * (a process in a container sees its own files) and kept for the session. The kernel's vDSO has
 * no file: its image is copied from memory once into a file of its own.
 */
import { closeSync, openSync, readFileSync, readlinkSync, readSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElfFile, PT_LOAD, separateDebugFile, type ElfSegment } from './elf';

const PF_X = 1;
import type { Module, ModuleMap } from './unwind';

interface Mapping {
  start: bigint;
  end: bigint;
  offset: bigint;
  exec: boolean;
  /** A file path, or a pseudo-name such as `[vdso]`. */
  name: string;
}

/** Parses /proc/PID/maps text; anonymous mappings are left out. */
export function parseProcMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+([0-9a-f]+)\s+\S+\s+\d+\s+(\S.*)$/.exec(line);
    if (!m) continue;
    out.push({ start: BigInt('0x' + m[1]), end: BigInt('0x' + m[2]), exec: m[3].includes('x'), offset: BigInt('0x' + m[4]), name: m[5].replace(/ \(deleted\)$/, '') });
  }
  return out.sort((a, b) => (a.start < b.start ? -1 : 1));
}

export class ProcessModules implements ModuleMap {
  private mappings: Mapping[] = [];
  /** Per mapping (start and file: a program that execs maps others there): its module, or null
   *  when the file cannot be read as ELF. */
  private readonly modules = new Map<string, Module | null>();
  private readonly files = new Map<string, { elf: ElfFile; debug?: ElfFile } | null>();
  /** The maps file was read since the last miss: a second miss does not read it again. */
  private fresh = false;

  constructor(readonly pid: number) {
    this.reload();
  }

  /** Reads /proc/PID/maps again (call once per stop, cheap). */
  reload(): void {
    try {
      this.mappings = parseProcMaps(readFileSync(`/proc/${this.pid}/maps`, 'utf8')).filter((m) => m.exec);
    } catch {
      this.mappings = [];
    }
    this.fresh = true;
    this.exe = undefined; // the process may have exec'd (GDB starts programs through a shell)
  }

  moduleAt(pc: bigint): Module | undefined {
    let m = this.mappingAt(pc);
    if (!m && !this.fresh) {
      this.reload();
      m = this.mappingAt(pc);
    }
    if (!m) return undefined;
    const key = `${m.start}:${m.name}`;
    let mod = this.modules.get(key);
    if (mod === undefined) {
      mod = this.moduleOf(m);
      this.modules.set(key, mod);
    }
    return mod ?? undefined;
  }

  /** The module of the first mapped file whose path satisfies `pred` (only that file is opened). */
  find(pred: (path: string, executable: boolean) => boolean): Module | undefined {
    const exe = this.executable();
    for (const m of this.mappings) {
      if (!pred(m.name, m.name === exe)) continue;
      const mod = this.moduleAt(m.start);
      if (mod) return mod;
    }
    return undefined;
  }

  /** The paths (and pseudo-names) of the mapped executable code, in address order. */
  paths(): string[] {
    return [...new Set(this.mappings.map((m) => m.name))];
  }

  /** Marks the mappings as possibly stale (the process ran): the next miss reads them again. */
  resumed(): void {
    this.fresh = false;
  }

  private mappingAt(pc: bigint): Mapping | undefined {
    const ms = this.mappings;
    let lo = 0, hi = ms.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (pc < ms[mid].start) hi = mid - 1;
      else if (pc >= ms[mid].end) lo = mid + 1;
      else return ms[mid];
    }
    return undefined;
  }

  private moduleOf(m: Mapping): Module | null {
    const file = this.file(m);
    if (!file) return null;
    const bias = biasOf(file.elf, m);
    if (bias === undefined) return null;
    const mod: Module = { elf: file.elf, debug: file.debug, bias, path: m.name };
    if (m.name === this.executable()) mod.executable = true;
    return mod;
  }

  private file(m: Mapping): { elf: ElfFile; debug?: ElfFile } | null {
    const known = this.files.get(m.name);
    if (known !== undefined) return known;
    let out: { elf: ElfFile; debug?: ElfFile } | null = null;
    try {
      const root = `/proc/${this.pid}/root`;
      const path = m.name === '[vdso]' ? this.vdsoFile(m) : m.name.startsWith('/') ? root + m.name : undefined;
      if (path) {
        const elf = new ElfFile(path);
        let debug: ElfFile | undefined;
        if (!elf.hasDwarf()) {
          const d = m.name.startsWith('/') ? separateDebugFile(elf, m.name, root) : undefined;
          try { debug = d ? new ElfFile(d) : undefined; } catch { debug = undefined; }
        }
        out = { elf, debug };
      }
    } catch {
      out = null;
    }
    this.files.set(m.name, out);
    return out;
  }

  private exe: string | undefined;
  private executable(): string | undefined {
    try {
      this.exe ??= readlinkSync(`/proc/${this.pid}/exe`).replace(/ \(deleted\)$/, '');
    } catch {
      this.exe = '';
    }
    return this.exe;
  }

  /** The vDSO's image, copied from memory into a file named by its hash (same kernel, same file). */
  private vdsoFile(m: Mapping): string | undefined {
    const bytes = readProcMemory(this.pid, m.start, Number(m.end - m.start));
    if (!bytes) return undefined;
    const path = join(tmpdir(), `seam-vdso-${createHash('sha1').update(bytes).digest('hex').slice(0, 16)}.so`);
    writeFileSync(path, bytes);
    return path;
  }

  close(): void {
    for (const f of this.files.values()) {
      f?.elf.close();
      f?.debug?.close();
    }
    this.files.clear();
    this.modules.clear();
  }
}

/**
 * Runtime address minus file (unbiased) address for the code in a mapping: the PT_LOAD segment
 * holding the mapping's file offset places it. The vDSO is an image, not a file mapping: its
 * first segment sits at the mapping's start.
 */
function biasOf(elf: ElfFile, m: Mapping): bigint | undefined {
  const loads = elf.segments.filter((s) => s.type === PT_LOAD);
  if (m.name === '[vdso]') return loads.length ? m.start - (loads[0].vaddr - loads[0].offset) : undefined;
  // Only executable mappings are kept: their segment is the executable one. (lld starts it in the
  // page where the read-only segment ends, so that page's offset lies in both.)
  const holds = (s: ElfSegment): boolean => (s.offset & ~0xfffn) <= m.offset && m.offset < s.offset + s.filesz;
  const seg = loads.find((s) => (s.flags & PF_X) !== 0 && holds(s)) ?? loads.find(holds);
  if (!seg) return undefined;
  return m.start - (seg.vaddr + (m.offset - seg.offset));
}

/** Bytes of a live process's memory, read at once (undefined when not all readable). */
function readProcMemory(pid: number, start: bigint, size: number): Uint8Array | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(`/proc/${pid}/mem`, 'r');
    const b = Buffer.alloc(size);
    return readSync(fd, b, 0, size, start) === size ? b : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
