/**
 * From unwound activations to the debugger-shaped frames (src/debug/native/nativeStack.ts
 * `framesOf`): one frame per inlined call at a pc, innermost first, sharing its sp and CFA; at the
 * stop itself, inlined calls that begin exactly at the pc are left out unless a breakpoint stopped
 * there (GDB's skip_inline_frames); the library is named only without a source file, never for
 * the executable; Rust names without hashes are marked Rust.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { framesOf } from '../../src/debug/native/nativeStack';
import type { SymFrame } from '../../src/debug/native/dwarf';
import type { Module, UnwoundFrame } from '../../src/debug/native/unwind';
import type { ElfFile } from '../../src/debug/native/elf';

const lib: Module = { elf: {} as ElfFile, bias: 0x1000n, path: '/usr/lib/libdemo.so' };
const exe: Module = { elf: {} as ElfFile, bias: 0n, path: '/usr/bin/demo', executable: true };

const answers = new Map<bigint, { frames: SymFrame[]; entries: number }>([
  // 0x100: an inlined call (begins exactly here) inside outer()
  [0x100n, { frames: [{ function: 'inner', file: 'a.c', line: 3, inlined: true }, { function: 'outer', file: 'a.c', line: 9 }], entries: 1 }],
  [0x1ffn, { frames: [{ function: 'caller', file: 'b.c', line: 20 }], entries: 0 }],
  [0x2ffn, { frames: [{ function: '_ZN4demo4main17h0123456789abcdefE' }], entries: 0 }],
]);
const symbolizer = () => ({
  frames: (a: bigint) => answers.get(a)?.frames ?? [],
  inlinedEntriesAt: (a: bigint) => answers.get(a)?.entries ?? 0,
});

const physical: UnwoundFrame[] = [
  { pc: 0x1100n, lookupPc: 0x1100n, sp: 0x7000n, cfa: 0x7040n, module: lib, how: 'first' },
  { pc: 0x1200n, lookupPc: 0x11ffn, sp: 0x7040n, cfa: 0x7080n, module: lib, how: 'cfi' },
  { pc: 0x300n, lookupPc: 0x2ffn, sp: 0x7080n, module: exe, how: 'cfi' },
  { pc: 0xdead0n, lookupPc: 0xdeacfn, sp: 0x70c0n, how: 'cfi' },
];

test('a stop at the start of an inlined call shows its call site; at a breakpoint the call entered', () => {
  const stopped = framesOf(physical, symbolizer);
  assert.deepEqual(stopped.map((f) => [f.level, f.func, f.line]), [[0, 'outer', 9], [1, 'caller', 20], [2, 'demo::main', undefined], [3, undefined, undefined]]);
  const atBreakpoint = framesOf(physical, symbolizer, { atBreakpoint: true });
  assert.deepEqual(atBreakpoint.map((f) => f.func).slice(0, 3), ['inner', 'outer', 'caller']);
  assert.equal(atBreakpoint[0].pc, atBreakpoint[1].pc, 'an inlined call shares its activation\'s pc');
  assert.deepEqual([atBreakpoint[0].sp, atBreakpoint[0].cfa], [0x7000n, 0x7040n]);
  assert.deepEqual([atBreakpoint[1].sp, atBreakpoint[1].cfa], [0x7000n, 0x7040n]);
});

test('the library only without a source file, never the executable; Rust names cleaned and marked', () => {
  const f = framesOf(physical, symbolizer);
  assert.equal(f[1].from, undefined, 'a frame with a source file names no library');
  assert.equal(f[2].from, undefined, 'the executable is no library');
  assert.equal(f[2].rust, true);
  assert.equal(f[3].from, undefined, 'a pc in no known file');
  const noSource = framesOf([{ pc: 0x1300n, lookupPc: 0x1300n, sp: 0x7000n, module: lib, how: 'first' }], () => ({ frames: () => [{ function: 'hidden' }], inlinedEntriesAt: () => 0 }));
  assert.equal(noSource[0].from, '/usr/lib/libdemo.so');
});
