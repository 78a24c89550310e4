/**
 * What a core file says of the process it was dumped from, from its notes: the files it had
 * mapped (NT_FILE) and its command (NT_PRPSINFO). The debugger opens a core with whatever
 * program it is given; with another program than the one that crashed it unwinds garbage without
 * a word. `coreMismatch` says so first, naming the program the core maps.
 *
 * `parseNtFile` and `parsePrpsinfo` are pure (the notes' bytes); `readCoreInfo` reads a file.
 */
import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { ElfFile, cString, notes } from './elf';

/** A mapped file of the dumped process: its address range and the file's path then. */
export interface CoreMapping {
  start: bigint;
  end: bigint;
  path: string;
}

export interface CoreInfo {
  /** NT_FILE, in the core's order (the program's own mappings first, as /proc/PID/maps lists them). */
  mappings: CoreMapping[];
  /** NT_PRPSINFO's command name (at most 15 characters) and arguments (at most 80). */
  command?: string;
  args?: string;
}

const ET_CORE = 4;
const PT_NOTE = 4;
const NT_PRPSINFO = 3;
const NT_FILE = 0x46494c45;

/** NT_FILE's descriptor (64-bit): count, page size, count (start, end, page offset), then the
 *  count paths, NUL-terminated. */
export function parseNtFile(desc: Uint8Array): CoreMapping[] {
  if (desc.length < 16) return [];
  const v = new DataView(desc.buffer, desc.byteOffset, desc.byteLength);
  const count = Number(v.getBigUint64(0, true));
  if (count > (desc.length - 16) / 24) return []; // more entries than bytes: not an NT_FILE we read
  const out: CoreMapping[] = [];
  let name = 16 + count * 24;
  for (let i = 0; i < count && name < desc.length; i++) {
    let end = desc.indexOf(0, name);
    if (end < 0) end = desc.length;
    out.push({ start: v.getBigUint64(16 + i * 24, true), end: v.getBigUint64(24 + i * 24, true), path: cString(desc, name) });
    name = end + 1;
  }
  return out;
}

/** x86-64's `struct elf_prpsinfo`: `pr_fname[16]` at 40, `pr_psargs[80]` at 56. */
export function parsePrpsinfo(desc: Uint8Array): { command: string; args: string } | undefined {
  if (desc.length < 136) return undefined;
  // (The arguments are separated by spaces, or by NULs as some dumpers copy them.)
  const args = Buffer.from(desc.subarray(56, 136)).toString('utf8').replace(/\0+$/, '').replace(/\0/g, ' ').trim();
  return { command: cString(desc.subarray(40, 56), 0), args };
}

/** The notes of a core file; throws when `path` is not a 64-bit ELF core file. */
export function readCoreInfo(path: string): CoreInfo {
  const elf = new ElfFile(path);
  try {
    const t = elf.bytes(16, 2);
    const type = t[0] | (t[1] << 8);
    if (type !== ET_CORE) throw new Error(`${path} is not a core file (ELF type ${type})`);
    const info: CoreInfo = { mappings: [] };
    for (const seg of elf.segments) {
      if (seg.type !== PT_NOTE) continue;
      for (const n of notes(elf.bytes(Number(seg.offset), Number(seg.filesz)))) {
        if (n.type === NT_FILE && !info.mappings.length) info.mappings = parseNtFile(n.desc);
        else if (n.type === NT_PRPSINFO && info.command === undefined) Object.assign(info, parsePrpsinfo(n.desc));
      }
    }
    return info;
  } finally {
    elf.close();
  }
}

/**
 * Why `executable` cannot be the program that dumped the core, or undefined when it may be (or
 * when the core does not list its files). The program is among the core's mapped files, by real
 * path (a venv's `python` is a link to it).
 */
export function coreMismatch(info: CoreInfo, executable: string, real: (p: string) => string = realOrSame): string | undefined {
  if (!info.mappings.length) return undefined;
  const want = real(executable);
  const paths = [...new Set(info.mappings.map((m) => m.path))];
  if (paths.some((p) => p === want || real(p) === want)) return undefined;
  // The dumped program: the file its command names, else the first one mapped.
  const named = info.command ? paths.find((p) => basename(p).startsWith(info.command!)) : undefined;
  const program = named ?? paths[0];
  return `the core file was not dumped by ${executable}: its program was ${program}${info.args ? ` (\`${info.args}\`)` : ''}; open it with that one`;
}

/**
 * Throws a message for the user when `core` cannot be a core file of `executable`: unreadable,
 * not a core file, or dumped by another program. (The debugger would open it anyway.)
 */
export function checkCoreFile(core: string, executable: string, fail: (message: string) => Error): void {
  let info: CoreInfo;
  try {
    info = readCoreInfo(core);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw fail(`no core file ${core}`);
    if (err.code) throw fail(`cannot read core file ${core} (${err.code})`);
    throw fail(`${core} is not a core file of a 64-bit process`);
  }
  const why = coreMismatch(info, executable);
  if (why) throw fail(why);
}

function realOrSame(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
