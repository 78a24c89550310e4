/**
 * The pure parts of a step in from native code (src/debug/adapter/callbackStep.ts): which mapped
 * files hold the interpreter, and where a native step may end (the user's code only).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { armExpression, interpreterRanges, isInterpreterPath, isUserCode } from '../../src/debug/adapter/callbackStep';
import type { NativeFrame } from '../../src/debug/types';

const MAPS = [
  '555555554000-555555555000 r--p 00000000 fe:01 1 /root/.pyenv/versions/3.12.1/bin/python3.12',
  '7ffff7800000-7ffff7b00000 r-xp 00100000 fe:01 2 /root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0',
  '7ffff7ec0000-7ffff7ec4000 r-xp 00001000 fe:01 3 /tmp/fx/_mixed.cpython-312-x86_64-linux-gnu.so',
  '7ffff7f00000-7ffff7f10000 r-xp 00001000 fe:01 4 /usr/lib/x86_64-linux-gnu/libc.so.6',
  '7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]',
].join('\n');

const frame = (f: Partial<NativeFrame>): NativeFrame => ({ level: 0, pc: 0n, func: 'f', ...f });

test('interpreter files: libpython and python executables, not extensions or libc', () => {
  assert.ok(isInterpreterPath('/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0'));
  assert.ok(isInterpreterPath('/usr/bin/python3.11'));
  assert.ok(isInterpreterPath('/usr/lib/libpython3.13d.so'));
  assert.ok(!isInterpreterPath('/tmp/fx/_mixed.cpython-312-x86_64-linux-gnu.so'));
  assert.ok(!isInterpreterPath('/tmp/fx/mixed_rs.abi3.so'));
  assert.ok(!isInterpreterPath('/usr/lib/x86_64-linux-gnu/libc.so.6'));
  assert.ok(!isInterpreterPath('/opt/app/pythonista-server'));
  assert.deepEqual(interpreterRanges(MAPS), [
    { start: 0x555555554000n, end: 0x555555555000n },
    { start: 0x7ffff7800000n, end: 0x7ffff7b00000n },
  ]);
});

test('a native step ends in the user\'s C or Rust code only', () => {
  const ranges = interpreterRanges(MAPS);
  const user = frame({ pc: 0x7ffff7ec1000n, func: 'add_values', file: '/src/_mixed.c', fullname: '/src/_mixed.c', line: 37 });
  assert.ok(isUserCode(user, ranges));
  // libpython by address, or by its sources when the mapping is unknown
  assert.ok(!isUserCode(frame({ pc: 0x7ffff7900000n, func: 'PyObject_CallFunctionObjArgs', file: 'Objects/call.c', fullname: '/tmp/b/Python-3.12.1/Objects/call.c', line: 951 }), ranges));
  assert.ok(!isUserCode(frame({ pc: 0x1000n, func: 'PyObject_CallFunctionObjArgs', file: 'Objects/call.c', line: 951 }), []));
  assert.ok(!isUserCode(frame({ pc: 0x1000n, func: '_PyObject_VectorcallTstate', fullname: '/build/python3.11-x/Include/internal/pycore_call.h', file: './Include/internal/pycore_call.h', line: 92 }), []));
  // the installed headers' inline functions compiled into the extension
  assert.ok(!isUserCode(frame({ pc: 0x7ffff7ec1000n, func: 'Py_TYPE', fullname: '/root/.pyenv/versions/3.12.1/include/python3.12/object.h', line: 204 }), ranges));
  // PyO3, the standard library, the cargo registry
  assert.ok(!isUserCode(frame({ pc: 0x1000n, func: 'pyo3::instance::{impl#4}::call1<(i64)>', fullname: '/root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/pyo3-0.22.6/src/instance.rs', line: 10 }), []));
  assert.ok(!isUserCode(frame({ pc: 0x1000n, func: 'core::ptr::drop_in_place<i64>', fullname: '/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/core/src/ptr/mod.rs', line: 10 }), []));
  assert.ok(isUserCode(frame({ pc: 0x1000n, func: 'mixed_rs::call_back', fullname: '/src/pyo3/src/lib.rs', line: 23 }), []));
  // PyO3's generated wrapper carries the user's file and line
  assert.ok(!isUserCode(frame({ pc: 0x1000n, func: 'mixed_rs::__pyfunction_py_leaf', fullname: '/src/pyo3/src/lib.rs', line: 14 }), []));
  assert.ok(!isUserCode(frame({ pc: 0x1000n, func: 'mixed_rs::__pyfunction_py_leaf::h0123456789abcdef', fullname: '/src/pyo3/src/lib.rs', line: 14 }), []));
  // no line information: never a step's end
  assert.ok(!isUserCode(frame({ pc: 0x7ffff7f00100n, func: 'memcpy' }), ranges));
  assert.ok(!isUserCode(undefined, ranges));
});

test('the hook is called through addresses (no names for the debugger to resolve)', () => {
  assert.equal(armExpression(0x7ffff7970310n, 0x7ffff738c180n), '(unsigned long)((void *(*)(void *))0x7ffff7970310)((void *)0x7ffff738c180)');
});
