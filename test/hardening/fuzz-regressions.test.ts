/**
 * The inputs fuzzing found bugs with (fuzz.test.ts, seed 0x5ea3 unless said), fixed in the module
 * and kept here by name so they never come back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MI_NESTING, parseMiLine } from '../../src/debug/mi/parser';
import { detectLayout, LayoutError } from '../../src/debug/python/layout';
import { MemoryError, type Memory, type Symbols } from '../../src/debug/types';

test('MI: 5,000 nested lists are `unknown`, not a RangeError (mi-parser, deep nesting)', () => {
  for (const open of ['[', '{a=', '[c=']) {
    const line = `^done,x=${open.repeat(5_000)}"v"`;
    assert.deepEqual(parseMiLine(line), { kind: 'unknown', line });
  }
  const closed = `^done,x=${'['.repeat(60_000)}${']'.repeat(60_000)}`;
  assert.equal(parseMiLine(closed).kind, 'unknown');
});

test('MI: nesting up to the limit still parses', () => {
  const line = `5^done,x=${'['.repeat(MAX_MI_NESTING)}"v"${']'.repeat(MAX_MI_NESTING)}`;
  const r = parseMiLine(line);
  assert.equal(r.kind, 'result');
  assert.equal(r.kind === 'result' && r.token, 5);
  assert.equal(parseMiLine(`^done,x=${'['.repeat(MAX_MI_NESTING + 1)}"v"${']'.repeat(MAX_MI_NESTING + 1)}`).kind, 'unknown');
});

const COOKIE = new TextEncoder().encode('xdebugpy');
/** `_PyRuntime` whose first 16 bytes are a 3.13 debug-offsets header and nothing after them. */
function headOnly(): Memory {
  const head = new Uint8Array(16);
  head.set(COOKIE);
  new DataView(head.buffer).setBigUint64(8, 0x030d00f0n, true);
  return {
    read: async (addr, size) => {
      if (addr === 0x1000n && size <= 16) return head.slice(0, size);
      throw new MemoryError(addr, size, 'unmapped');
    },
  };
}
const symbols: Symbols = { address: async (n) => (n === '_PyRuntime' ? 0x1000n : undefined) };

test('layout: debug offsets whose header reads but whose body does not give a LayoutError, not a MemoryError (py-reader-recorded, a dropped chunk)', async () => {
  await assert.rejects(detectLayout(headOnly(), symbols), (e: Error) => e instanceof LayoutError && /_Py_DebugOffsets at 0x1000 unreadable/.test(e.message));
});

test('layout: a short read of _PyRuntime\'s head is not a DataView RangeError (py-reader-recorded, truncated chunk + short reads)', async () => {
  const mem: Memory = { read: async (addr, size) => (addr === 0x1000n ? COOKIE.slice(0, Math.min(size, 8)) : Promise.reject(new MemoryError(addr, size, 'unmapped'))) };
  await assert.rejects(detectLayout(mem, symbols), (e: Error) => !(e instanceof RangeError));
});

test('MI: a string starting with U+FEFF keeps it (mi-roundtrip: the UTF-8 decoder ate it as a BOM)', () => {
  const r = parseMiLine('^running,a={a=[a="\\357\\273\\277",a=""]}');
  assert.equal(r.kind, 'result');
  const list = r.kind === 'result' ? r.results.tuple('a')?.list('a') : undefined;
  assert.deepEqual(list?.items, ['\ufeff', '']);
  assert.deepEqual(parseMiLine('~"\\357\\273\\277x"'), { kind: 'stream', stream: 'console', text: '\ufeffx' });
});
