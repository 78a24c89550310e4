/**
 * The native stack of one thread from its registers and memory, without a debugger: each frame's
 * caller is found from the CFI of the module its pc is in (`.eh_frame`, else `.debug_frame` of
 * the object or its separate debug file), falling back to the frame-pointer chain where a module
 * has no CFI for the pc. x86-64 only (DWARF register numbers, 8-byte return addresses).
 *
 * Register values are held in Numbers (NaN = unknown): every address a frame is found by fits in
 * 47 bits. A callee-saved register holding a non-address above 2^53 loses its low bits, which only
 * matters if a CFA were computed from it, and none is.
 */
import { MemoryError, type Memory } from '../types';
import { cfiOf, CfiError, evaluate, type ExprContext, type RegRule, type Row } from './cfi';
import type { ElfFile } from './elf';

export interface Module {
  elf: ElfFile;
  /** Add to unbiased ELF addresses to get runtime addresses. */
  bias: bigint;
  path: string;
  /** The separate debug file, whose `.debug_frame` serves pcs the object's `.eh_frame` lacks. */
  debug?: ElfFile;
  /** The process's executable (not a shared library: debuggers name no library for its frames). */
  executable?: boolean;
}

export interface ModuleMap {
  moduleAt(pc: bigint): Module | undefined;
}

/** x86-64's general registers and rip, indexed by their DWARF numbers (System V psABI, figure 3.36). */
export const X86_64_DWARF_REGISTERS: readonly string[] = ['rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'];

/** DWARF x86-64 numbering: 0 rax, 1 rdx, 2 rcx, 3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8..15 r8..r15, 16 rip. */
export type Registers = Map<number, bigint>;

export interface UnwoundFrame {
  pc: bigint;
  sp: bigint;
  /** This frame's CFA (its caller's sp before the call), when the unwinder got that far. */
  cfa?: bigint;
  module?: Module;
  /** A signal trampoline: its caller was interrupted (not calling), so its pc is exact. */
  signalFrame?: boolean;
  /** pc - 1 for caller frames (the address to symbolize), pc for frame 0 and for frames interrupted by a signal */
  lookupPc: bigint;
  /** How this frame's registers were found: given (frame 0), from its callee's CFI, or from rbp. */
  how: 'cfi' | 'fp' | 'first';
}

const RBP = 6, RSP = 7, RIP = 16, NREGS = 17;
/** Registers the System V ABI has a callee preserve: unmentioned in CFI, they keep their value. */
const CALLEE_SAVED = [3, RBP, 12, 13, 14, 15];
/** How far above sp a frame pointer may be and still be trusted as one. */
const MAX_FP_FRAME = 64 * 1024 * 1024;

/** Unwinds from frame 0's registers (rip and rsp required) to the outermost frame it can reach. */
export async function unwind(regs: Registers, memory: Memory, modules: ModuleMap, opts: { maxFrames?: number } = {}): Promise<UnwoundFrame[]> {
  const maxFrames = opts.maxFrames ?? 20000;
  if (!Number.isInteger(maxFrames) || maxFrames < 1) throw new RangeError(`maxFrames must be a positive integer, not ${maxFrames}`);
  if (regs.get(RIP) === undefined || regs.get(RSP) === undefined) throw new TypeError('unwind needs rip (16) and rsp (7)');
  const stack = new StackReader(memory);
  const frames: UnwoundFrame[] = [];
  let r = toArray(regs);
  let how: UnwoundFrame['how'] = 'first';
  let lookupPc = r[RIP];
  try {
    while (frames.length < maxFrames) {
      const pc = r[RIP], sp = r[RSP];
      const module = modules.moduleAt(BigInt(pc));
      const row = module && rowFor(module, lookupPc - Number(module.bias));
      const frame: UnwoundFrame = { pc: BigInt(pc), sp: BigInt(sp), module, lookupPc: BigInt(lookupPc), how };
      if (row?.signal) frame.signalFrame = true;
      frames.push(frame);
      if (!module) break;
      const caller = await stack.retrying(() => (row ? callerByCfi(r, row, stack) : callerByFramePointer(r, stack, modules)));
      if (!caller) break;
      frame.cfa = BigInt(caller.cfa);
      const next = caller.regs;
      if (!plausibleCaller(r, next, row?.signal ?? false)) break;
      how = row ? 'cfi' : 'fp';
      lookupPc = row?.signal ? next[RIP] : next[RIP] - 1;
      r = next;
    }
  } catch (e) {
    if (!(e instanceof MemoryError) && !(e instanceof CfiError)) throw e;
  }
  return frames;
}

/** The caller has a pc and, unless the callee is a signal frame (maybe on an alternate stack), a higher sp. */
function plausibleCaller(callee: Float64Array, caller: Float64Array, signal: boolean): boolean {
  const pc = caller[RIP], sp = caller[RSP];
  if (!(pc > 0) || Number.isNaN(sp)) return false;
  if (signal) return sp !== callee[RSP] || pc !== callee[RIP];
  return sp > callee[RSP];
}

function toArray(regs: Registers): Float64Array {
  const a = new Float64Array(NREGS).fill(NaN);
  for (const [n, v] of regs) if (n >= 0 && n < NREGS) a[n] = Number(v);
  return a;
}

/** The row for an unbiased address: `.eh_frame` first (what the compiler meant for unwinding). */
function rowFor(m: Module, pc: number): Row | undefined {
  const own = cfiOf(m.elf);
  return own.rowFor('eh', pc) ?? (m.debug && cfiOf(m.debug).rowFor('debug', pc)) ?? own.rowFor('debug', pc);
}

interface Caller {
  /** The callee's CFA. */
  cfa: number;
  regs: Float64Array;
}

/** The caller's registers per the callee's CFI row; undefined when the return address is undefined (outermost frame). */
function callerByCfi(r: Float64Array, row: Row, stack: StackReader): Caller | undefined {
  const cfa = 'reg' in row.cfa
    ? (row.cfa.reg < NREGS ? r[row.cfa.reg] : NaN) + row.cfa.offset
    : Number(evaluate(row.cfa.expr, exprContext(r, stack)));
  if (Number.isNaN(cfa)) return undefined;
  const next = new Float64Array(NREGS).fill(NaN);
  for (const n of CALLEE_SAVED) next[n] = r[n];
  next[RSP] = cfa;
  for (const [n, rule] of row.regs) {
    if (n < NREGS) next[n] = applyRule(rule, n, cfa, r, stack);
  }
  // The return address column becomes the caller's pc (it is rip's own column on x86-64).
  next[RIP] = row.raReg < NREGS ? next[row.raReg] : NaN;
  if (row.raReg !== RIP && row.raReg < NREGS) next[row.raReg] = NaN;
  return Number.isNaN(next[RIP]) ? undefined : { cfa, regs: next };
}

function applyRule(rule: RegRule, n: number, cfa: number, r: Float64Array, stack: StackReader): number {
  switch (rule.kind) {
    case 'undefined': return NaN;
    case 'same': return r[n];
    case 'offset': return stack.u64(cfa + rule.offset);
    case 'valOffset': return cfa + rule.offset;
    case 'register': return rule.reg < NREGS ? r[rule.reg] : NaN;
    case 'expression': return stack.u64(Number(evaluate(rule.expr, exprContext(r, stack), [BigInt(cfa)])));
    case 'valExpression': return Number(evaluate(rule.expr, exprContext(r, stack), [BigInt(cfa)]));
  }
}

function exprContext(r: Float64Array, stack: StackReader): ExprContext {
  return {
    reg: (n) => (n < NREGS && !Number.isNaN(r[n]) ? BigInt(r[n]) : undefined),
    read: (address, size) => stack.value(Number(address), size),
  };
}

/**
 * The caller by the frame-pointer convention (push rbp; mov rsp, rbp): for code without CFI.
 * Only when rbp looks like a frame on this stack and the return address lies in a module.
 */
function callerByFramePointer(r: Float64Array, stack: StackReader, modules: ModuleMap): Caller | undefined {
  const fp = r[RBP], sp = r[RSP];
  if (!(fp >= sp && fp - sp < MAX_FP_FRAME && fp % 8 === 0)) return undefined;
  const pc = stack.u64(fp + 8);
  if (!modules.moduleAt(BigInt(pc))) return undefined;
  // Other callee-saved registers are kept as they are: a guess, but the best one without CFI.
  const next = Float64Array.from(r);
  for (let n = 0; n < NREGS; n++) if (!CALLEE_SAVED.includes(n)) next[n] = NaN;
  next[RBP] = stack.u64(fp);
  next[RSP] = fp + 16;
  next[RIP] = pc;
  return { cfa: fp + 16, regs: next };
}

/** Thrown by StackReader's loads for memory it has not read yet. */
class Miss {
  constructor(readonly address: number, readonly size: number) {}
}

interface Window { start: number; end: number; view: DataView }

/**
 * Loads from memory read ahead in large windows: each `Memory.read` may be a syscall or a
 * debugger round trip, and an unwind touches a few words of every frame all the way up. Loads
 * are synchronous and throw Miss when outside every window; `retrying` runs a step, fetches on a
 * miss and runs it again, so a whole unwind costs a few reads and no promise per frame.
 */
class StackReader {
  /** Most recently fetched first: the unwind walks up, so the newest window is the likely one. */
  private windows: Window[] = [];

  constructor(private readonly memory: Memory) {}

  /** Runs a synchronous step until it stops missing (each miss adds the window it lacked). */
  async retrying<T>(step: () => T): Promise<T> {
    for (;;) {
      try {
        return step();
      } catch (e) {
        if (!(e instanceof Miss)) throw e;
        await this.fetch(e);
      }
    }
  }

  /** The 8 bytes at `address` as a Number. */
  u64(address: number): number {
    const w = this.windowFor(address, 8);
    const at = address - w.start;
    return w.view.getUint32(at, true) + w.view.getUint32(at + 4, true) * 4294967296;
  }

  /** `size` bytes at `address`, zero-extended: for expressions. */
  value(address: number, size: number): bigint {
    const w = this.windowFor(address, size);
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(w.view.getUint8(address - w.start + i));
    return v;
  }

  private windowFor(address: number, size: number): Window {
    for (const w of this.windows) if (address >= w.start && address + size <= w.end) return w;
    throw new Miss(address, size);
  }

  /**
   * Reads a window from the page of the missed address upward: 64 KiB, or less where the
   * mapping ends sooner (the top of a stack), or at last the missed bytes alone, whose
   * MemoryError then ends the unwind.
   */
  private async fetch(miss: Miss): Promise<void> {
    const start = miss.address - (miss.address % 4096);
    for (const size of [65536, 16384, 4096]) {
      if (miss.address + miss.size > start + size) break;
      try {
        this.add(start, await this.memory.read(BigInt(start), size));
        return;
      } catch (e) {
        if (!(e instanceof MemoryError)) throw e;
      }
    }
    this.add(miss.address, await this.memory.read(BigInt(miss.address), miss.size));
  }

  private add(start: number, bytes: Uint8Array): void {
    this.windows.unshift({ start, end: start + bytes.length, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
  }
}
