/**
 * TypesInOrder (src/debug/native/dwarfTypes.ts): several units' C types asked in order, a later
 * unit read only when an earlier one lacks the answer (3.10's dict keys, defined in a header only
 * Objects/dictobject.c includes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type CTypes, TypesInOrder } from '../../src/debug/native/dwarfTypes';

const unit = (offsets: Record<string, number>, sizes: Record<string, number> = {}): CTypes => ({
  offsetOf: (t, f) => offsets[`${t}.${f}`],
  sizeOf: (t) => sizes[t],
});

test('the first unit that knows answers; a later unit is read only when needed, once', () => {
  let reads = 0;
  const ceval = unit({ 'PyThreadState.next': 8, 'PyDictObject.ma_keys': 32 }, { PyObject: 16 });
  const dict = (): CTypes => { reads++; return unit({ 'PyDictKeysObject.dk_size': 8, 'PyThreadState.next': 999 }, { PyDictKeysObject: 40 }); };
  const types = new TypesInOrder([() => ceval, dict]);
  assert.equal(types.offsetOf('PyThreadState', 'next'), 8, 'the eval loop\'s unit first');
  assert.equal(types.sizeOf('PyObject'), 16);
  assert.equal(reads, 0, 'the dict unit not read while the first answers');
  assert.equal(types.offsetOf('PyDictKeysObject', 'dk_size'), 8);
  assert.equal(types.sizeOf('PyDictKeysObject'), 40);
  assert.equal(types.offsetOf('PyDictKeysObject', 'nothing'), undefined);
  assert.equal(reads, 1, 'read once');
});

test('a unit that cannot be read (no DWARF there) is skipped', () => {
  const types = new TypesInOrder([() => undefined, () => unit({ 'A.b': 4 })]);
  assert.equal(types.offsetOf('A', 'b'), 4);
  assert.equal(new TypesInOrder([]).sizeOf('A'), undefined);
});
