/**
 * Preprocessor conditions on the Python version, decided for every CPython served (3.9-3.14):
 * src/core/c/versionCond.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { versionCondition, versionDefined } from '../../src/core/c/versionCond';

test('conditions every served Python agrees on are decided', () => {
  assert.equal(versionCondition('PY_VERSION_HEX < 0x030900A6'), false);
  assert.equal(versionCondition('PY_VERSION_HEX >= 0x03080000'), true);
  assert.equal(versionCondition('(PY_VERSION_HEX < 0x03080000) /* old */'), false);
  assert.equal(versionCondition('PY_MAJOR_VERSION >= 3'), true);
  assert.equal(versionCondition('PY_MAJOR_VERSION < 3 || PY_MINOR_VERSION < 8'), false);
  assert.equal(versionCondition('!defined(PYPY_VERSION) && PY_VERSION_HEX >= 0x03070000'), true);
  assert.equal(versionCondition('defined(PYPY_VERSION) && FOO'), false, 'false && anything is false');
  assert.equal(versionCondition('PY_VERSION_HEX >= 0x03070000 || FOO'), true, 'true || anything is true');
});

test('conditions that differ between served Pythons, or ask something else, are not', () => {
  assert.equal(versionCondition('PY_VERSION_HEX >= 0x030C0000'), undefined);
  assert.equal(versionCondition('PY_MINOR_VERSION >= 11'), undefined);
  assert.equal(versionCondition('defined(MS_WINDOWS)'), undefined);
  assert.equal(versionCondition('HAVE_FORK'), undefined);
  assert.equal(versionCondition('PY_VERSION_HEX >= 0x03070000 && HAVE_FORK'), undefined);
  assert.equal(versionCondition('PY_VERSION_HEX <'), undefined, 'malformed');
  assert.equal(versionDefined('PYPY_VERSION', false), false);
  assert.equal(versionDefined('PYPY_VERSION', true), true);
  assert.equal(versionDefined('HAVE_FORK', true), undefined);
});
