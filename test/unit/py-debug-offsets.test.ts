/**
 * The 3.13 `_Py_DebugOffsets` parser on bytes recorded from a live pyenv CPython 3.13.0
 * (test/unit/golden/debug-offsets-3.13.0.json), checked against the same offsets read from that
 * build's DWARF with gdb at recording time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEBUG_OFFSETS_313_SIZE, LayoutError, layoutFromDebugOffsets, parseDebugOffsets } from '../../src/debug/python/layout';

const GOLDEN = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'test', 'unit', 'golden', 'debug-offsets-3.13.0.json'), 'utf8')) as {
  hex: string;
  dwarf: Record<string, number>;
};
const bytes = Uint8Array.from(Buffer.from(GOLDEN.hex, 'hex'));

test('parses the recorded 3.13.0 debug offsets like DWARF says', () => {
  assert.equal(bytes.length, DEBUG_OFFSETS_313_SIZE);
  const d = parseDebugOffsets(bytes);
  assert.equal(d.version >>> 16, 0x030d);
  assert.equal(d.freeThreaded, false);
  for (const [key, want] of Object.entries(GOLDEN.dwarf)) {
    const [section, field] = key.split('.');
    assert.equal(d.sections[section]?.[field], want, key);
  }
  const layout = layoutFromDebugOffsets(d);
  assert.equal(layout.minor, 13);
  assert.equal(layout.tstate.frame, GOLDEN.dwarf['thread_state.current_frame']);
  assert.equal(layout.frame.code, GOLDEN.dwarf['interpreter_frame.executable']);
  assert.equal(layout.code.codeAdaptive, GOLDEN.dwarf['code_object.co_code_adaptive']);
  assert.equal(layout.owner?.cstack, 3);
});

test('rejects a missing cookie, another version and truncated bytes', () => {
  const noCookie = bytes.slice();
  noCookie[0] = 0x41;
  assert.throws(() => parseDebugOffsets(noCookie), LayoutError);
  const v315 = bytes.slice();
  v315[10] = 15; // PY_VERSION_HEX minor byte
  assert.throws(() => parseDebugOffsets(v315), /3\.15\.\d+ is not supported/);
  assert.throws(() => parseDebugOffsets(bytes.subarray(0, 100)), /truncated/);
});
