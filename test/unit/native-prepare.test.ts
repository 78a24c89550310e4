/**
 * What Seam's unwinder reads before a first stop (src/debug/native/prepare.ts): which functions'
 * compile units (the interpreter's eval loop, glue and waits, the C library's start-up and waits, the
 * executable's main), and when (the debugger idle, from its CPU time).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Ended, IDLE_CHECK_MS, IdleSteps, IdleWatch, preparedFunctions } from '../../src/debug/native/prepare';
import type { FunctionSymbol } from '../../src/debug/native/elf';

const fns = (...names: string[]): FunctionSymbol[] => names.map((name, i) => ({ name, addr: BigInt(0x1000 + i * 16), size: 16n }));
const names = (f: FunctionSymbol[]): string[] => f.map((x) => x.name);

test('the interpreter: the eval loop and its split-off parts, the call protocol, start-up; not the rest', () => {
  const libpython = fns('_PyEval_EvalFrameDefault', '_PyEval_EvalFrameDefault.cold', 'PyObject_Vectorcall', '_PyFunction_Vectorcall',
    'cfunction_vectorcall_O', 'Py_RunMain', 'pymain_run_python', 'thread_run', 'list_append', 'PyLong_FromLong', 'math_sqrt', 'main');
  assert.deepEqual(names(preparedFunctions(libpython, 'interpreter')), ['_PyEval_EvalFrameDefault', '_PyEval_EvalFrameDefault.cold',
    'PyObject_Vectorcall', '_PyFunction_Vectorcall', 'cfunction_vectorcall_O', 'Py_RunMain', 'pymain_run_python', 'thread_run']);
});

test('an LTO build\'s clones and split parts count by their function\'s name', () => {
  const lto = fns('cfunction_call.lto_priv.0', 'cfunction_call.lto_priv.0.cold', 'pyrun_file.constprop.0', '_PyEval_EvalFrameDefault.cold',
    'method_vectorcall_O.isra.0', 'list_append.lto_priv.0', 'time_sleep.part.0');
  assert.deepEqual(names(preparedFunctions(lto, 'interpreter')), ['cfunction_call.lto_priv.0', 'cfunction_call.lto_priv.0.cold',
    'pyrun_file.constprop.0', '_PyEval_EvalFrameDefault.cold', 'method_vectorcall_O.isra.0', 'time_sleep.part.0']);
});

test('the interpreter\'s waits: reads, sleeps, locks, the GIL (where a paused program is found)', () => {
  const libpython = fns('_Py_read', '_io_FileIO_readinto_impl', '_textiowrapper_readline', 'time_sleep', 'pysleep', 'acquire_timed',
    'PyThread_acquire_lock_timed', '_PyMutex_LockTimed', '_PyParkingLot_Park', 'take_gil', 'drop_gil', 'os_read_impl', '_Py_open');
  assert.deepEqual(names(preparedFunctions(libpython, 'interpreter')), ['_Py_read', '_io_FileIO_readinto_impl', '_textiowrapper_readline',
    'time_sleep', 'pysleep', 'acquire_timed', 'PyThread_acquire_lock_timed', '_PyMutex_LockTimed', '_PyParkingLot_Park', 'take_gil']);
});

test('the C library: start-up and the calls a thread waits in (each once, whatever its alias); not the rest', () => {
  const libc = fns('__libc_start_call_main', '__libc_start_main_impl', 'start_thread', 'clone3', '__GI___libc_read', 'read', 'read',
    '__futex_abstimed_wait_common', 'pthread_cond_timedwait', 'epoll_wait', 'clock_nanosleep', 'malloc', 'memcpy', 'printf', 'readdir');
  assert.deepEqual(names(preparedFunctions(libc, 'libc')), ['__libc_start_call_main', '__libc_start_main_impl', 'start_thread', 'clone3',
    '__GI___libc_read', 'read', '__futex_abstimed_wait_common', 'pthread_cond_timedwait', 'epoll_wait', 'clock_nanosleep']);
});

test('the executable: main and start-up only; a cap on how many', () => {
  assert.deepEqual(names(preparedFunctions(fns('_start', 'main', 'helper', 'Py_BytesMain'), 'executable')), ['_start', 'main', 'Py_BytesMain']);
  assert.equal(preparedFunctions(fns(...Array.from({ length: 50 }, (_, i) => `cfunction_vectorcall_X${i}`)), 'interpreter', 10).length, 10);
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a debugger is idle when its CPU time stops growing; never in the first moments', async () => {
  const idle = spawn('sleep', ['30']);
  const busy = spawn(process.execPath, ['-e', 'for (;;) {}']);
  try {
    const quiet = new IdleWatch(idle.pid);
    const working = new IdleWatch(busy.pid);
    assert.equal(quiet.idle(), false, 'not within the first IDLE_CHECK_MS');
    await sleep(IDLE_CHECK_MS + 100);
    assert.equal(quiet.idle(), true, 'a sleeping process uses no CPU');
    assert.equal(working.idle(), false, 'a spinning process does');
    await sleep(100);
    assert.equal(working.idle(), false, 'and goes on using it');
    busy.kill('SIGSTOP');
    await sleep(30);
    working.idle();
    await sleep(100);
    assert.equal(working.idle(), true, 'stopped, it is idle');
  } finally {
    idle.kill('SIGKILL');
    busy.kill('SIGKILL');
  }
  const none = new IdleWatch(undefined);
  await sleep(IDLE_CHECK_MS + 5);
  assert.equal(none.idle(), true, 'without a pid: idle after the first moments');
});

test('reading ahead a step at a time: steps wait while held, a failing step gives undefined, an ended one throws', async () => {
  let over = false;
  const steps = new IdleSteps(() => over);
  const idle = { idle: () => true } as unknown as IdleWatch;
  assert.equal(await steps.step(idle, () => 42), 42);
  assert.equal(await steps.step(idle, () => { throw new Error('unreadable'); }), undefined, 'a step that throws: undefined');
  steps.hold();
  let done = false;
  const held = steps.step(idle, () => { done = true; return 'after'; });
  await sleep(30);
  assert.equal(done, false, 'held: no step runs');
  steps.release();
  assert.equal(await held, 'after', 'released: it runs');
  // A debugger busy for a while: the step waits for it.
  let busy = 2;
  const busyIdle = { idle: () => busy-- <= 0 } as unknown as IdleWatch;
  const t0 = performance.now();
  assert.equal(await steps.step(busyIdle, () => 'idle now'), 'idle now');
  assert.ok(performance.now() - t0 >= IDLE_CHECK_MS, 'looked again after IDLE_CHECK_MS');
  over = true;
  await assert.rejects(steps.step(idle, () => 1), Ended, 'the session ended: Ended');
});
