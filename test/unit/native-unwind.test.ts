/**
 * The CFI unwinder: rows of hand-assembled `.eh_frame` / `.debug_frame` entries, the expression
 * evaluator, and whole stacks of live processes compared with GDB's: a C program (-O0, -O2,
 * -O2 with only `.debug_frame`, the same with that in a separate debug file, -O0 with no CFI at
 * all) recursing through static functions, a function pointer, libc's qsort and a signal
 * handler, on two threads; and CPython (pyenv 3.12, Debian's stripped 3.11) recursing through C. A missing gcc, gdb or
 * interpreter is a failure, never a pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate, frameTable, type ExprContext, type Row } from '../../src/debug/native/cfi';
import { unwind, type ModuleMap, type Registers, type UnwoundFrame } from '../../src/debug/native/unwind';
import { ProcessModules } from '../../src/debug/native/processModules';
import { ElfFile } from '../../src/debug/native/elf';
import { MemoryError } from '../../src/debug/types';
import { ProcMemory } from '../../src/debug/python/procMemory';

// ---------------------------------------------------------------------------------------------
// Assembling CFI bytes

function uleb(v: number): number[] {
  const out: number[] = [];
  do { let b = v & 0x7f; v = Math.floor(v / 128); if (v) b |= 0x80; out.push(b); } while (v);
  return out;
}
function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v = Math.floor(v / 128);
    if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}
const u16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const u64 = (v: number): number[] => [...u32(v % 2 ** 32), ...u32(Math.floor(v / 2 ** 32))];
const cstr = (s: string): number[] => [...Buffer.from(s, 'latin1'), 0];
const block = (b: number[]): number[] => [...uleb(b.length), ...b];

/** An entry: 32-bit length, then the body padded with DW_CFA_nop to a multiple of 4. */
function entry(body: number[]): number[] {
  const padded = [...body];
  while ((padded.length + 4) % 4) padded.push(0);
  return [...u32(padded.length), ...padded];
}

const EH_ADDR = 0x2000; // the .eh_frame section's address in the hand-made files

/** `.eh_frame`: a "zR" CIE (pcrel|sdata4), then FDEs at the given ranges with their instructions. */
function ehFrame(fdes: { begin: number; size: number; ops: number[] }[], opts: { aug?: string } = {}): Uint8Array {
  const aug = opts.aug ?? 'zR';
  // Augmentation data: P = absptr personality (8 bytes), L = LSDA encoding, R = FDE encoding.
  const augBytes = aug.replace('z', '').split('').flatMap((c) => (c === 'P' ? [0x00, ...u64(0)] : c === 'L' || c === 'R' ? [0x1b] : []));
  const cie = entry([...u32(0), 1, ...cstr(aug), ...uleb(1), ...sleb(-8), 16, ...block(augBytes),
    0x0c, 7, 8, 0x90, 1]); // CFA rsp+8, rip at CFA-8
  const out = [...cie];
  for (const f of fdes) {
    const at = out.length;
    const body = [...u32(at + 4), 0, 0, 0, 0, ...u32(f.size), ...block(aug.includes('L') ? [0, 0, 0, 0] : []), ...f.ops];
    const e = entry(body);
    const fieldAddr = EH_ADDR + at + 8; // pc_begin follows length and CIE pointer
    e.splice(8, 4, ...u32(f.begin - fieldAddr));
    out.push(...e);
  }
  out.push(0, 0, 0, 0);
  return Uint8Array.from(out);
}

function rule(row: Row | undefined, reg: number): unknown {
  return row?.regs.get(reg);
}

// ---------------------------------------------------------------------------------------------
// Pure CFI

test('eh_frame: CIE initial instructions and FDE instructions up to the pc give the row', () => {
  const ops = [
    0x41, 0x0e, 16, 0x86, 2, // +1: push rbp → CFA rsp+16, rbp at CFA-16
    0x43, 0x0d, 6, // +3: mov rsp,rbp → CFA rbp+16
    0x02, 20, 0x83, 3, // +20: rbx at CFA-24
    0x0a, 0x0c, 7, 8, 0xc6, // remember; CFA rsp+8; restore rbp
    0x41, 0x0b, // +1: restore_state
  ];
  const t = frameTable('eh', ehFrame([{ begin: 0x1000, size: 0x40, ops }]), { section: EH_ADDR });
  assert.equal(t.rowFor(0xfff), undefined);
  assert.equal(t.rowFor(0x1040), undefined);
  const at0 = t.rowFor(0x1000);
  assert.deepEqual(at0?.cfa, { reg: 7, offset: 8 });
  assert.deepEqual(rule(at0, 16), { kind: 'offset', offset: -8 });
  assert.equal(at0?.regs.has(6), false);
  assert.equal(at0?.signal, false);
  assert.deepEqual(t.rowFor(0x1001)?.cfa, { reg: 7, offset: 16 });
  assert.deepEqual(rule(t.rowFor(0x1003), 6), { kind: 'offset', offset: -16 });
  const body = t.rowFor(0x1004);
  assert.deepEqual(body?.cfa, { reg: 6, offset: 16 });
  assert.equal(body?.regs.has(3), false);
  const late = t.rowFor(0x1018);
  assert.deepEqual(late?.cfa, { reg: 7, offset: 8 });
  assert.equal(late?.regs.has(6), false, 'restore puts back the CIE rule (none for rbp)');
  assert.deepEqual(rule(late, 3), { kind: 'offset', offset: -24 });
  const restored = t.rowFor(0x1019);
  assert.deepEqual(restored?.cfa, { reg: 6, offset: 16 }, 'restore_state brings the CFA rule back too');
  assert.deepEqual(rule(restored, 6), { kind: 'offset', offset: -16 });
});

test('eh_frame: several FDEs found through the sorted index, augmentations S, zPLR', () => {
  const data = ehFrame([
    { begin: 0x3000, size: 0x10, ops: [0x07, 5] },
    { begin: 0x1000, size: 0x10, ops: [0x08, 3] },
  ], { aug: 'zRS' });
  const t = frameTable('eh', data, { section: EH_ADDR });
  assert.equal(t.rowFor(0x3008)?.signal, true);
  assert.deepEqual(rule(t.rowFor(0x3008), 5), { kind: 'undefined' });
  assert.deepEqual(rule(t.rowFor(0x1008), 3), { kind: 'same' });
  assert.equal(t.rowFor(0x2000), undefined);
  for (const aug of ['zPLR', 'zPR']) {
    const t2 = frameTable('eh', ehFrame([{ begin: 0x1000, size: 8, ops: [0x0e, 32] }], { aug }), { section: EH_ADDR });
    assert.deepEqual(t2.rowFor(0x1004)?.cfa, { reg: 7, offset: 32 }, aug);
  }
});

test('debug_frame: CIE version 4, absolute addresses, the less common instructions', () => {
  const cie = entry([...u32(0xffffffff), 4, ...cstr(''), 8, 0, ...uleb(1), ...sleb(-8), ...uleb(16), 0x0c, 7, 8, 0x90, 1]);
  const expr = [0x77, 8, 0x06]; // breg7 +8; deref
  const ops = [
    0x14, 3, 2, // val_offset rbx = CFA-16
    0x15, 12, ...sleb(1), // val_offset_sf r12 = CFA-8
    0x10, 13, ...block(expr), // expression r13
    0x16, 14, ...block(expr), // val_expression r14
    0x09, 15, 1, // r15 in rdx
    0x2f, 6, 2, // GNU_negative_offset_extended rbp = CFA+16
    0x11, 2, ...sleb(-3), // offset_extended_sf rcx at CFA+24
    0x05, 1, 4, // offset_extended rdx at CFA-32
    0x2e, 16, // GNU_args_size
    0x03, ...u16(0x100), // advance_loc2
    0x12, 6, ...sleb(-2), // def_cfa_sf rbp+16
    0x13, ...sleb(-4), // def_cfa_offset_sf 32
    0x06, 16, // restore_extended rip
    0x04, ...u32(0x100), // advance_loc4
    0x0f, ...block(expr), // def_cfa_expression
    0x00, 0x00, // nops
  ];
  const fde = entry([...u32(0), ...u64(0x400000), ...u64(0x1000), ...ops]);
  const t = frameTable('debug', Uint8Array.from([...cie, ...fde]), { section: 0 });
  const a = t.rowFor(0x400010);
  assert.deepEqual(a?.cfa, { reg: 7, offset: 8 });
  assert.deepEqual(rule(a, 3), { kind: 'valOffset', offset: -16 });
  assert.deepEqual(rule(a, 12), { kind: 'valOffset', offset: -8 });
  assert.deepEqual(rule(a, 13), { kind: 'expression', expr: Uint8Array.from(expr) });
  assert.deepEqual(rule(a, 14), { kind: 'valExpression', expr: Uint8Array.from(expr) });
  assert.deepEqual(rule(a, 15), { kind: 'register', reg: 1 });
  assert.deepEqual(rule(a, 6), { kind: 'offset', offset: 16 });
  assert.deepEqual(rule(a, 2), { kind: 'offset', offset: 24 });
  assert.deepEqual(rule(a, 1), { kind: 'offset', offset: -32 });
  const b = t.rowFor(0x400100);
  assert.deepEqual(b?.cfa, { reg: 6, offset: 32 });
  assert.deepEqual(rule(b, 16), { kind: 'offset', offset: -8 });
  assert.deepEqual(t.rowFor(0x400200)?.cfa, { expr: Uint8Array.from(expr) });
  assert.equal(t.rowFor(0x401000), undefined);
});

test('an unknown CFA instruction fails the row rather than guessing', () => {
  const t = frameTable('eh', ehFrame([{ begin: 0x1000, size: 8, ops: [0x2d] }]), { section: EH_ADDR });
  assert.throws(() => t.rowFor(0x1000), /unknown CFA instruction 0x2d/);
});

// ---------------------------------------------------------------------------------------------
// Expressions

function ctx(regs: Record<number, bigint>, mem: Record<string, bigint> = {}): ExprContext {
  return {
    reg: (n) => regs[n],
    read: (a, size) => {
      const v = mem[a.toString(16)];
      if (v === undefined) throw new Error(`no memory at ${a.toString(16)}`);
      return size === 8 ? v : v & ((1n << BigInt(size * 8)) - 1n);
    },
  };
}

test('expression: glibc PLT CFA on both sides of the threshold', () => {
  const plt = (lit: number) => Uint8Array.from([0x77, 8, 0x80, 0, 0x3f, 0x1a, 0x30 + lit, 0x2a, 0x33, 0x24, 0x22]);
  const rsp = 0x7ffd0000n;
  for (const lit of [10, 11]) {
    for (let low = 0n; low < 16n; low++) {
      const rip = 0x401020n + low;
      const want = rsp + 8n + (low >= BigInt(lit) ? 8n : 0n);
      assert.equal(evaluate(plt(lit), ctx({ 7: rsp, 16: rip })), want, `lit${lit} rip&15=${low}`);
    }
  }
});

test('expression: stack operations, arithmetic, comparisons, branches, memory', () => {
  const run = (ops: number[], regs: Record<number, bigint> = {}, mem?: Record<string, bigint>, initial?: bigint[]) =>
    evaluate(Uint8Array.from(ops), ctx(regs, mem), initial);
  assert.equal(run([0x08, 200, 0x09, 0xff, 0x22]), 199n); // const1u 200 + const1s -1
  assert.equal(run([0x0b, ...u16(0xfffe)]), 0xfffffffffffffffen); // const2s -2, 64-bit
  assert.equal(run([0x10, ...uleb(1000), 0x11, ...sleb(-10), 0x1b]), 0xffffffffffffff9cn); // 1000 / -10 signed
  assert.equal(run([0x11, ...sleb(-7), 0x31, 0x26]), 0xfffffffffffffffcn); // -7 >>a 1
  assert.equal(run([0x11, ...sleb(-8), 0x31, 0x25]), 0x7ffffffffffffffcn); // -8 >> 1 logical
  assert.equal(run([0x3a, 0x33, 0x1d]), 1n); // 10 mod 3
  assert.equal(run([0x35, 0x36, 0x1e, 0x33, 0x1c]), 27n); // 5*6-3
  assert.equal(run([0x31, 0x32, 0x33, 0x17, 0x1c, 0x1c]), 4n); // rot: 1 2 3 → 3 1 2, then 3-(1-2)
  assert.equal(run([0x31, 0x32, 0x14, 0x1c, 0x1c]), 0n); // over: 1 2 1 → 1-(2-1)
  assert.equal(run([0x31, 0x32, 0x16, 0x1c]), 1n); // swap: 2-1
  assert.equal(run([0x31, 0x32, 0x33, 0x15, 2, 0x1c, 0x22, 0x22]), 1n + 2n + (3n - 1n)); // pick 2
  assert.equal(run([0x35, 0x12, 0x1e, 0x13, 0x37]), 7n); // dup, mul, drop
  assert.equal(run([0x35, 0x1f, 0x20]), 4n); // not(neg 5)
  assert.equal(run([0x3c, 0x3a, 0x27, 0x3c, 0x3a, 0x21, 0x1a]), 6n); // (12^10) & (12|10)
  assert.equal(run([0x11, ...sleb(-1), 0x30, 0x2d]), 1n); // -1 < 0 signed
  assert.equal(run([0x33, 0x33, 0x29, 0x33, 0x34, 0x2e, 0x22, 0x33, 0x34, 0x2c, 0x22, 0x34, 0x33, 0x2b, 0x22]), 4n); // eq ne le gt
  assert.equal(run([0x30, 0x28, ...u16(2), 0x2f, ...u16(1), 0x96, 0x45]), 21n); // bra not taken, skip over a nop... lands on lit21
  assert.equal(run([0x31, 0x28, ...u16(1), 0x3f, 0x38]), 8n); // bra taken over lit15
  assert.equal(run([0x23, ...uleb(0x100)], {}, {}, [0x1000n]), 0x1100n); // plus_uconst on the pushed CFA
  assert.equal(run([0x76, ...sleb(-8), 0x06], { 6: 0x7000n }, { '6ff8': 0x1122334455667788n }), 0x1122334455667788n);
  assert.equal(run([0x76, 0x00, 0x94, 2], { 6: 0x6ff8n }, { '6ff8': 0x1122334455667788n }), 0x7788n);
  assert.equal(run([0x92, ...uleb(7), ...sleb(16)], { 7: 0x100n }), 0x110n); // bregx
  assert.throws(() => run([0x77, 0]), /unknown register 7/);
  assert.throws(() => run([0x22]), /underflow/);
  assert.throws(() => run([0x30, 0x30, 0x1b]), /division by zero/);
  assert.throws(() => run([0xe0]), /unsupported/);
});

// ---------------------------------------------------------------------------------------------
// Bad input

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

test('an unreadable stack gives the frames so far; bad arguments throw', async () => {
  const elf = new ElfFile(LIBC);
  try {
    const read = elf.functions().find((f) => f.name === 'read');
    assert.ok(read, 'libc has read()');
    const module = { elf, bias: 0n, path: LIBC };
    const modules: ModuleMap = { moduleAt: (pc) => (pc >= 0n && pc < 0x1000000n ? module : undefined) };
    const noMemory = { read: async (a: bigint, n: number): Promise<Uint8Array> => { throw new MemoryError(a, n, 'unmapped'); } };
    const regs: Registers = new Map([[16, read.addr + 1n], [7, 0x7ffd0000n]]);
    const frames = await unwind(regs, noMemory, modules);
    assert.deepEqual(frames.map((f) => [f.pc, f.how, f.cfa]), [[read.addr + 1n, 'first', undefined]]);
    const outside = await unwind(new Map([[16, 0x7f0000000000n], [7, 0x7ffd0000n]]), noMemory, modules);
    assert.equal(outside.length, 1, 'a pc outside every module is the last frame');
    await assert.rejects(unwind(new Map([[7, 1n]]), noMemory, modules), /rip/);
    await assert.rejects(unwind(regs, noMemory, modules, { maxFrames: 0 }), /maxFrames/);
  } finally {
    elf.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Live processes against GDB

const C_PROGRAM = String.raw`
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#define KEEP() __asm__ volatile("" ::: "memory")
volatile int sink;

/* Blocks in read(0): the test keeps stdin open and never writes. */
__attribute__((noinline)) static void park(void) { char c; if (read(0, &c, 1) < 0) sink = 1; KEEP(); }

__attribute__((noinline)) static int in_handler(int n) {
  volatile int local = n;
  if (n == 0) park(); else in_handler(n - 1);
  KEEP();
  return local;
}
static void on_usr1(int sig) { in_handler(4 + (sig & 0)); KEEP(); }

int level_a(int n);
__attribute__((noinline)) static int level_c(int n) { volatile int x = n; int r = level_a(n - 1); KEEP(); return r + x; }
static int (*volatile via_pointer)(int) = level_c;

static int qsort_depth = -1;
static int compare(const void *a, const void *b) {
  if (qsort_depth >= 0) { int d = qsort_depth; qsort_depth = -1; level_a(d); }
  KEEP();
  return *(const int *)a - *(const int *)b;
}

__attribute__((noinline)) static int level_b(int n) {
  volatile int x = n;
  int r;
  if (n == 100) { int v[2] = {2, 1}; qsort_depth = n - 1; qsort(v, 2, sizeof v[0], compare); r = v[0]; }
  else r = via_pointer(n - 1);
  KEEP();
  return r + x;
}

__attribute__((noinline)) int level_a(int n) {
  volatile int x = n;
  if (n <= 0) { raise(SIGUSR1); return 0; }
  int r = level_b(n - 1);
  KEEP();
  return r + x;
}

__attribute__((noinline)) static void *thread_main(void *arg) { in_handler(20); KEEP(); return arg; }

int main(void) {
  signal(SIGUSR1, on_usr1);
  pthread_t t;
  pthread_create(&t, 0, thread_main, 0);
  return level_a(200);
}
`;

interface GdbFrame { pc: string; sp: string | null; name: string | null; type: number }
interface GdbThread { lwp: number; regs: Record<string, string>; frames: GdbFrame[] }

// Prints each thread's frame-0 registers and frame chain as one JSON line. Left out: inline
// frames (they share the pc of the real frame that holds them) and the tail-call frames GDB
// infers from DWARF call-site entries (nothing of them is on the stack): both are the
// symbolizer's business, not the unwinder's.
const GDB_SCRIPT = String.raw`
import gdb, json
u64 = gdb.lookup_type('unsigned long')
def value(frame, name):
    try:
        return hex(int(frame.read_register(name).cast(u64)))
    except gdb.error:
        return None
names = ['rax','rdx','rcx','rbx','rsi','rdi','rbp','rsp','r8','r9','r10','r11','r12','r13','r14','r15','rip']
out = []
for t in gdb.selected_inferior().threads():
    t.switch()
    f = gdb.newest_frame()
    regs = {str(i): value(f, n) for i, n in enumerate(names)}
    frames = []
    while f is not None:
        if f.type() not in (gdb.INLINE_FRAME, gdb.TAILCALL_FRAME):
            frames.append({'pc': hex(f.pc()), 'sp': value(f, 'rsp'), 'name': f.name(), 'type': f.type()})
        try:
            f = f.older()
        except gdb.error:
            break
    out.append({'lwp': t.ptid[1], 'regs': regs, 'frames': frames})
print('SEAM-JSON ' + json.dumps(out))
`;

function gdbStacks(pid: number, dir: string): GdbThread[] {
  const script = join(dir, 'frames.py');
  writeFileSync(script, GDB_SCRIPT);
  const r = spawnSync('gdb', ['-nx', '-batch', '-iex', 'set debuginfod enabled off', '-ex', 'set backtrace past-main on',
    '-ex', 'set backtrace past-entry on', '-p', String(pid), '-x', script], { encoding: 'utf8', timeout: 120_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('SEAM-JSON '));
  assert.ok(line, `gdb printed no frames: ${r.stderr}`);
  return JSON.parse(line.slice('SEAM-JSON '.length)) as GdbThread[];
}

/** Waits until `count` threads of the process are blocked in read(0). */
async function parked(child: ChildProcess, count: number, timeoutMs = 20_000): Promise<void> {
  const pid = child.pid!;
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) assert.fail(`process exited (${child.exitCode}) before parking`);
    let n = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try { if (readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').startsWith('0 0x0 ')) n++; } catch { /* thread gone */ }
    }
    if (n >= count) return;
    if (Date.now() > until) assert.fail(`only ${n} of ${count} threads parked after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

function registersOf(t: GdbThread): Registers {
  const regs: Registers = new Map();
  for (const [n, v] of Object.entries(t.regs)) if (v !== null) regs.set(Number(n), BigInt(v));
  return regs;
}

/**
 * GDB's chain as (pc, sp) pairs. Inline frames are already left out by the script; a frame with
 * the pc and sp of the one before would be one still, so those are collapsed too (consecutive
 * equal pcs alone are not enough: a recursion returns to the same pc with a different sp).
 */
function gdbChain(t: GdbThread): { pc: bigint; sp: bigint | undefined; name: string | null }[] {
  const out: { pc: bigint; sp: bigint | undefined; name: string | null }[] = [];
  for (const f of t.frames) {
    const pc = BigInt(f.pc);
    const sp = f.sp === null ? undefined : BigInt(f.sp);
    const last = out[out.length - 1];
    if (last && last.pc === pc && last.sp === sp) continue;
    out.push({ pc, sp, name: f.name });
  }
  return out;
}

const hex = (v: bigint | undefined): string => (v === undefined ? '-' : `0x${v.toString(16)}`);

/** Asserts our frames equal GDB's, pc by pc and sp by sp, with a readable listing on failure. */
function assertSameStack(ours: UnwoundFrame[], t: GdbThread, label: string): void {
  const theirs = gdbChain(t);
  const rows: string[] = [];
  for (let i = 0; i < Math.max(ours.length, theirs.length); i++) {
    const a = ours[i], b = theirs[i];
    const same = a && b && a.pc === b.pc && (b.sp === undefined || a.sp === b.sp);
    rows.push(`${same ? ' ' : '!'} #${i} ours ${hex(a?.pc)} sp ${hex(a?.sp)} ${a?.how ?? ''}${a?.signalFrame ? ' signal' : ''}  gdb ${hex(b?.pc)} sp ${hex(b?.sp)} ${b?.name ?? ''}`);
  }
  const bad = rows.filter((r) => r.startsWith('!'));
  assert.equal(bad.length, 0, `${label} (lwp ${t.lwp}): ${bad.length} of ${rows.length} frames differ\n${rows.slice(0, 400).join('\n')}`);
}

/** A ModuleMap without separate debug files: unwinding must not need them. */
function withoutDebugFiles(m: ModuleMap): ModuleMap {
  return { moduleAt: (pc) => { const x = m.moduleAt(pc); return x && { ...x, debug: undefined }; } };
}

/**
 * Starts a command that parks `threads` threads in read(0), gets GDB's stacks, unwinds every
 * thread from GDB's frame-0 registers and compares. Returns the unwinds of each thread for timing.
 */
async function compareWithGdb(label: string, argv: string[], threads: number, dir: string,
  check: (stacks: GdbThread[], frames: UnwoundFrame[][]) => void = () => undefined,
  opts: { noDebugFiles?: boolean; time?: boolean } = {}): Promise<void> {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'ignore', 'inherit'] });
  const modules = child.pid ? modulesOfProcessLater(child.pid) : undefined;
  const memory = new ProcMemory(child.pid!);
  try {
    await parked(child, threads);
    const stacks = gdbStacks(child.pid!, dir);
    assert.equal(stacks.length, threads, `${label}: gdb saw ${stacks.length} threads`);
    const map = modules!.get();
    const use = opts.noDebugFiles ? withoutDebugFiles(map) : map;
    const all: UnwoundFrame[][] = [];
    for (const t of stacks) {
      const t0 = performance.now();
      const frames = await unwind(registersOf(t), memory, use);
      const cold = performance.now() - t0;
      assertSameStack(frames, t, label);
      all.push(frames);
      if (opts.time) console.log(`# ${label}: ${frames.length} native frames: ${cold.toFixed(1)} ms cold, ${(await warmMs(t, memory, use)).toFixed(2)} ms warm`);
    }
    check(stacks, all);
    const capped = await unwind(registersOf(stacks[0]), memory, use, { maxFrames: 5 });
    assert.deepEqual(capped.map((f) => f.pc), all[0].slice(0, 5).map((f) => f.pc), 'maxFrames keeps the innermost frames');
  } finally {
    child.kill('SIGKILL');
    await memory.close();
    modules?.close();
  }
}

/** Mean time of an unwind once the JIT and the row caches are warm (no assertion: machines vary). */
async function warmMs(t: GdbThread, memory: ProcMemory, modules: ModuleMap): Promise<number> {
  for (let i = 0; i < 10; i++) await unwind(registersOf(t), memory, modules);
  const runs = 20, t0 = performance.now();
  for (let i = 0; i < runs; i++) await unwind(registersOf(t), memory, modules);
  return (performance.now() - t0) / runs;
}

/** The process's modules, read once it has loaded everything (after parking). */
function modulesOfProcessLater(pid: number): { get(): ProcessModules; close(): void } {
  let m: ProcessModules | undefined;
  return { get: () => (m ??= new ProcessModules(pid)), close: () => m?.close() };
}

function tool(name: string): void {
  assert.equal(spawnSync('which', [name]).status, 0, `${name} is needed for this test`);
}

function compileC(dir: string, name: string, flags: string[]): string {
  const src = join(dir, 'prog.c');
  writeFileSync(src, C_PROGRAM);
  const out = join(dir, name);
  const r = spawnSync('gcc', [...flags, '-pthread', '-o', out, src], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return out;
}

/** The C program's main thread reaches the handler's park through 200 levels and qsort. */
function checkCProgram(stacks: GdbThread[], frames: UnwoundFrame[][], how: 'cfi' | 'fp' = 'cfi'): void {
  const main = stacks.findIndex((t) => t.frames.length > 100);
  assert.ok(main >= 0, 'a thread with the deep recursion');
  assert.ok(frames[main].length > 200, `main thread: ${frames[main].length} frames`);
  assert.equal(frames[main].filter((f) => f.signalFrame).length, 1, 'one signal trampoline');
  const trampoline = frames[main].findIndex((f) => f.signalFrame);
  const interrupted = frames[main][trampoline + 1];
  assert.equal(interrupted.lookupPc, interrupted.pc, 'the interrupted frame is looked up at its pc');
  assert.equal(frames[main][1].lookupPc, frames[main][1].pc - 1n);
  if (how === 'cfi') assert.ok(frames[main].every((f, i) => i === 0 || f.how === 'cfi'), 'every frame found by CFI');
  else assert.ok(frames[main].filter((f) => f.how === 'fp').length > 200, "the program's own frames found by frame pointer");
}

test('live C program, -O0 / -O2 / .debug_frame only / split debug file / no CFI (frame pointers): same stacks as GDB', { timeout: 300_000 }, async () => {
  tool('gcc');
  tool('gdb');
  const dir = mkdtempSync(join(tmpdir(), 'seam-unwind-'));
  try {
    for (const [name, flags] of [['O0', ['-O0', '-g']], ['O2', ['-O2', '-g']], ['debug-frame', ['-O2', '-g', '-fno-asynchronous-unwind-tables']]] as const) {
      const exe = compileC(dir, name, [...flags]);
      await compareWithGdb(`C ${name}`, [exe], 2, dir, checkCProgram);
    }
    // .debug_frame only in a separate file found by .gnu_debuglink: unwinding goes through Module.debug.
    const exe = compileC(dir, 'split', ['-O2', '-g', '-fno-asynchronous-unwind-tables']);
    for (const args of [['--only-keep-debug', exe, `${exe}.debug`], ['--strip-debug', `--add-gnu-debuglink=${exe}.debug`, exe]]) {
      const r = spawnSync('objcopy', args, { encoding: 'utf8', cwd: dir });
      assert.equal(r.status, 0, r.stderr);
    }
    const sections = spawnSync('readelf', ['-S', exe], { encoding: 'utf8' }).stdout;
    assert.ok(!sections.includes('.debug_frame'), 'the stripped program has no .debug_frame of its own');
    await compareWithGdb('C split debug', [exe], 2, dir, checkCProgram);
    // No CFI at all for the program's own functions (crt's _start keeps its): the frame-pointer chain.
    const noCfi = compileC(dir, 'no-cfi', ['-O0', '-fno-omit-frame-pointer', '-fno-asynchronous-unwind-tables', '-fno-unwind-tables']);
    await compareWithGdb('C without CFI', [noCfi], 2, dir, (s, f) => checkCProgram(s, f, 'fp'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Python recursing through C: every other level is a call from map() (C) back into the eval loop
// (3.12 inlines Python-to-Python calls and limits C recursion, so not every level can be).
const PY_PROGRAM = [
  'import sys',
  'sys.setrecursionlimit(10000)',
  'def down(n):',
  '    if n == 0:',
  '        return sys.stdin.read()',
  '    return list(map(down, [n - 1])) if n % 2 else down(n - 1)',
  'down(int(sys.argv[1]))',
].join('\n');

function pyenv(version: string): string {
  const exe = join(homedir(), '.pyenv', 'versions', version, 'bin', `python${version.split('.').slice(0, 2).join('.')}`);
  assert.ok(existsSync(exe), `${exe} is needed for this test`);
  return exe;
}

test('live CPython 3.12 (pyenv) recursing through C: same stack as GDB, timed', { timeout: 300_000 }, async () => {
  tool('gdb');
  const dir = mkdtempSync(join(tmpdir(), 'seam-unwind-'));
  try {
    const py = pyenv('3.12.1');
    await compareWithGdb('python3.12 depth 300', [py, '-c', PY_PROGRAM, '300'], 1, dir, undefined, { time: true });
    await compareWithGdb('python3.12 depth 1000', [py, '-c', PY_PROGRAM, '1000'], 1, dir, undefined, { time: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('live Debian python3.11 (stripped; debug file present or ignored): same stack as GDB', { timeout: 300_000 }, async () => {
  tool('gdb');
  assert.ok(existsSync('/usr/bin/python3.11'), '/usr/bin/python3.11 is needed for this test');
  const dir = mkdtempSync(join(tmpdir(), 'seam-unwind-'));
  try {
    await compareWithGdb('python3.11', ['/usr/bin/python3.11', '-c', PY_PROGRAM, '300'], 1, dir, undefined, { time: true });
    await compareWithGdb('python3.11 without debug files', ['/usr/bin/python3.11', '-c', PY_PROGRAM, '300'], 1, dir, undefined, { noDebugFiles: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
