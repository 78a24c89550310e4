/**
 * The instructions a DAP `disassemble` request asks for: `count` instructions starting
 * `instructionOffset` instructions away from an address (negative: before it). Pure over a
 * debugger that disassembles a range.
 *
 * x86's instructions have variable lengths: read forwards from an instruction's address (a pc),
 * they decode in step; read backwards, there is no telling where the previous one starts. So the
 * bytes before the address are decoded from a little further back, and that decoding is taken
 * only when it falls in step at the address itself (its last instruction ends there), its first
 * few instructions dropped (those may be out of step); else a start a byte later is tried. What
 * cannot be had is padded with invalid placeholders: the answer always holds `count`
 * instructions, as the protocol requires. (Whole functions would stay in step too, but the eval
 * loop alone is tens of thousands of instructions.)
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { basename, isAbsolute } from 'node:path';
import type { Instruction } from '../types';

export interface Disassembler {
  /** The instructions from `start` up to `end`. */
  range(start: bigint, end: bigint): Promise<Instruction[]>;
}

/** The longest x86-64 instruction, in bytes. */
const MAX_INSTRUCTION = 15;
/** Starts tried, a byte apart, for the bytes before the address. */
const SKEWS = 8;
/** Instructions decoded before the ones kept, which may be out of step. */
const DROPPED = 4;
/** Instructions per request, at most. */
export const MAX_COUNT = 4096;

/** The window: `count` entries, without `insn` where no instruction could be had. */
export async function instructionWindow(d: Disassembler, address: bigint, instructionOffset: number, count: number): Promise<{ at: bigint; insn?: Instruction }[]> {
  count = Math.max(0, Math.min(count, MAX_COUNT));
  const before = Math.max(0, -instructionOffset);
  const after = Math.max(0, instructionOffset + count);
  const forwards = after > 0
    ? sortUnique(await d.range(address, address + BigInt(MAX_INSTRUCTION * after)).catch(() => [])).filter((i) => i.address >= address)
    : [];
  const backwards = before > 0 ? await instructionsBefore(d, address, before) : [];
  const insns = [...backwards, ...forwards];
  const center = backwards.length;
  const out: { at: bigint; insn?: Instruction }[] = [];
  const firstAt = insns[0]?.address ?? address;
  const last = insns[insns.length - 1];
  const endAt = last ? last.address + BigInt(lengthOf(last)) : address;
  for (let k = center + instructionOffset; k < center + instructionOffset + count; k++) {
    if (k < 0) out.push({ at: clampAddress(firstAt + BigInt(k)) });
    else if (k >= insns.length) out.push({ at: endAt + BigInt(k - insns.length) });
    else out.push({ at: insns[k].address, insn: insns[k] });
  }
  return out;
}

/** Up to `n` instructions ending where `address` begins, decoded in step (see above); fewer
 *  where the bytes before cannot all be read (the span is halved until they can). */
async function instructionsBefore(d: Disassembler, address: bigint, n: number): Promise<Instruction[]> {
  let span = BigInt(MAX_INSTRUCTION * (n + DROPPED) + 32);
  let skew = 0;
  while (skew < SKEWS && span > BigInt(skew)) {
    const start = address > span ? address - span + BigInt(skew) : BigInt(skew);
    if (start >= address) break;
    const got = sortUnique(await d.range(start, address).catch(() => [])).filter((i) => i.address < address);
    if (!got.length) {
      span /= 2n; // unreadable from there: start nearer
      if (span < BigInt(MAX_INSTRUCTION)) break;
      continue;
    }
    const last = got[got.length - 1];
    if (last.address + BigInt(lengthOf(last)) === address) {
      return got.slice(Math.min(DROPPED, Math.max(0, got.length - n))).slice(-n);
    }
    skew++; // out of step at the address: a byte later
  }
  return [];
}

/** As DAP shows them: the function's name where it is known (the view prints it when it
 *  changes), the source line where the debug info has one. */
export function toDapInstructions(window: { at: bigint; insn?: Instruction }[]): DebugProtocol.DisassembledInstruction[] {
  return window.map(({ at, insn }) => {
    if (!insn) return { address: hex(at), instruction: '??', presentationHint: 'invalid' };
    const d: DebugProtocol.DisassembledInstruction = { address: hex(insn.address), instruction: insn.text };
    if (insn.bytes) d.instructionBytes = insn.bytes;
    if (insn.func) d.symbol = insn.func;
    const path = insn.fullname ?? insn.file;
    if (path && isAbsolute(path) && insn.line) {
      d.location = { name: basename(path), path };
      d.line = insn.line;
    }
    return d;
  });
}

/** `0x7f…` (a DAP memory reference) or a decimal address; undefined when neither. */
export function parseAddress(ref: string | undefined): bigint | undefined {
  if (!ref) return undefined;
  const s = ref.trim();
  return /^0x[0-9a-f]+$/i.test(s) || /^\d+$/.test(s) ? BigInt(s) : undefined;
}

export function hex(a: bigint): string {
  return `0x${a.toString(16).padStart(16, '0')}`;
}

function lengthOf(i: Instruction): number {
  const n = i.bytes ? i.bytes.trim().split(/\s+/).length : 0;
  return n > 0 ? n : 1;
}

function clampAddress(a: bigint): bigint {
  return a < 0n ? 0n : a;
}

function sortUnique(xs: Instruction[]): Instruction[] {
  const by = new Map<bigint, Instruction>();
  for (const x of xs) if (!by.has(x.address)) by.set(x.address, x);
  return [...by.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}
