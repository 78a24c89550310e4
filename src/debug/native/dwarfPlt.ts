/**
 * Names for x86-64 PLT stubs as GDB shows them (`read@plt`). The symbol table has no entries for
 * the stubs; GDB (through BFD's synthetic symbols) names each stub after the relocation of the
 * GOT slot its `jmp *slot(%rip)` goes through. Only the symbolizer's fallback naming uses this.
 */
import { ElfFile, cString } from './elf';

const PLT_ENTRY = 16;
const R_X86_64_GLOB_DAT = 6, R_X86_64_JUMP_SLOT = 7;

export class PltNames {
  private stubs: Map<number, string> | undefined;
  /** The PLT sections' address ranges and entry sizes. */
  private readonly ranges: { lo: number; hi: number; stride: number }[] = [];

  constructor(private readonly elf: ElfFile) {
    for (const [name, stride] of [['.plt', PLT_ENTRY], ['.plt.sec', PLT_ENTRY], ['.plt.got', 8]] as const) {
      const s = elf.section(name);
      if (s && s.size) this.ranges.push({ lo: Number(s.addr), hi: Number(s.addr) + s.size, stride });
    }
  }

  /** `name@plt` for an address inside a PLT stub, else undefined. */
  nameAt(addr: number): string | undefined {
    const r = this.ranges.find((x) => addr >= x.lo && addr < x.hi);
    if (!r) return undefined;
    this.stubs ??= this.readStubs();
    const name = this.stubs.get(addr - ((addr - r.lo) % r.stride));
    return name === undefined ? undefined : `${name}@plt`;
  }

  /** Stub address -> symbol, matching each stub's indirect jump target to a relocated GOT slot. */
  private readStubs(): Map<number, string> {
    const slots = this.gotSlots();
    const out = new Map<number, string>();
    // With IBT (.plt.sec) the lazy .plt entries only push and jump to PLT0: the stubs are in .plt.sec.
    const lazy = this.elf.section('.plt.sec') ? [] : [{ name: '.plt', stride: PLT_ENTRY }];
    for (const { name, stride } of [...lazy, { name: '.plt.sec', stride: PLT_ENTRY }, { name: '.plt.got', stride: 8 }]) {
      const s = this.elf.section(name), data = this.elf.sectionData(name);
      if (!s || !data) continue;
      for (let off = 0; off + stride <= data.length; off += stride) {
        const target = jumpSlot(data, off, Math.min(stride, data.length - off), Number(s.addr) + off);
        const sym = target === undefined ? undefined : slots.get(target);
        if (sym) out.set(Number(s.addr) + off, sym);
      }
    }
    return out;
  }

  /** GOT slot address -> symbol name, from the JUMP_SLOT and GLOB_DAT relocations. */
  private gotSlots(): Map<number, string> {
    const out = new Map<number, string>();
    for (const relName of ['.rela.plt', '.rela.dyn']) {
      const rel = this.elf.section(relName), data = this.elf.sectionData(relName);
      const symtab = rel && this.elf.sections[rel.link];
      const strtab = symtab && this.elf.sections[symtab.link];
      if (!rel || !data || !symtab || !strtab) continue;
      const syms = this.elf.sectionData(symtab.name), strs = this.elf.sectionData(strtab.name);
      if (!syms || !strs) continue;
      const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const sv = new DataView(syms.buffer, syms.byteOffset, syms.byteLength);
      for (let o = 0; o + 24 <= data.length; o += 24) {
        const type = v.getUint32(o + 8, true), index = v.getUint32(o + 12, true);
        if ((type !== R_X86_64_JUMP_SLOT && type !== R_X86_64_GLOB_DAT) || !index || (index + 1) * 24 > syms.length) continue;
        out.set(Number(v.getBigUint64(o, true)), cString(strs, sv.getUint32(index * 24, true)));
      }
    }
    return out;
  }
}

/** The GOT slot a stub's `jmp *disp(%rip)` (opcode ff 25, maybe after endbr64 / bnd) reads. */
function jumpSlot(code: Uint8Array, off: number, len: number, addr: number): number | undefined {
  for (let i = 0; i + 6 <= len; i++) {
    if (code[off + i] === 0xff && code[off + i + 1] === 0x25) {
      const p = off + i + 2;
      const disp = code[p] | (code[p + 1] << 8) | (code[p + 2] << 16) | (code[p + 3] << 24);
      return addr + i + 6 + disp;
    }
  }
  return undefined;
}
