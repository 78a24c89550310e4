/**
 * The LLDB backend's pure parts on a recorded lldb-16 session (test/fixtures/stacks/lldb/
 * session-3.12.txt: breakpoints set pending and resolved, `breakpoint list`, `thread list` and a
 * `thread backtrace` in Seam's frame format, stopped in _mixed.c under CPython 3.12.1), plus the
 * helpers that make GDB's and LLDB's answers mean the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  commandError, commandOutput, cutAtEvalLoop, lldbMajorVersion, lldbQuote, parseBacktrace, parseBreakpointList,
  parseBreakpointSet, parseThreadList, stoppedBreakpointId, stoppedSignal,
} from '../../src/debug/lldb/parse';
import { shellExitCode } from '../../src/debug/lldb/backend';
import { functionPointer } from '../../src/debug/adapter/pythonStepping';
import { cStringEquals, TRAP_CONDITION, trapExpression } from '../../src/debug/adapter/pythonBreakpoints';
import { lwpsByPthread } from '../../src/debug/python/pthreadMatch';
import { autoDebugger, parseDebuggerKind } from '../../src/debug/backendFactory';
import { addressAndSize, parseNativeLocation } from '../../src/debug/nativeStop';
import { MemoryError, type Memory } from '../../src/debug/types';

const SESSION = readFileSync(resolve(__dirname, '../../../test/fixtures/stacks/lldb/session-3.12.txt'), 'utf8');
function section(command: string): string {
  const start = SESSION.indexOf(`(lldb) ${command}`);
  assert.ok(start >= 0, command);
  const end = SESSION.indexOf('(lldb) ', start + 7);
  return SESSION.slice(SESSION.indexOf('\n', start) + 1, end < 0 ? undefined : end);
}

test('breakpoint set: id and whether it resolved', () => {
  assert.deepEqual(parseBreakpointSet(section('breakpoint set --name "mixed_rs::engine::leaf"')), { id: 1, resolved: false });
  assert.deepEqual(parseBreakpointSet(section('breakpoint set --name "no_such_function_anywhere"')), { id: 3, resolved: false });
  assert.deepEqual(parseBreakpointSet(section('breakpoint set --address 0x00007ffff7ecc3c1')), { id: 5, resolved: true });
  assert.equal(parseBreakpointSet('error: invalid combination of options for the given command'), undefined);
});

test('breakpoint list: locations and the first location\'s line, conditions in between', () => {
  const l = parseBreakpointList(section('breakpoint list'));
  assert.deepEqual([...l.keys()], [1, 2, 3, 4, 5]);
  assert.deepEqual(l.get(1), { id: 1, locations: 1, line: 9, file: 'engine.rs' });
  assert.deepEqual(l.get(2), { id: 2, locations: 1, line: 23, file: '_mixed.c' });
  assert.deepEqual(l.get(3), { id: 3, locations: 0 });
  assert.deepEqual(l.get(4), { id: 4, locations: 1, line: 488, file: 'sysmodule.c' });
  assert.deepEqual(l.get(5), { id: 5, locations: 1, line: 54, file: '_mixed.c' });
});

test('thread list: LLDB index by OS thread id', () => {
  assert.deepEqual([...parseThreadList(section('thread list'))], [[10612, 1]]);
});

test('backtrace in Seam\'s frame format: every frame, pc/sp/module/line, CFA from the next physical frame', () => {
  const frames = parseBacktrace(section('thread backtrace 1'));
  assert.equal(frames.length, 22);
  assert.deepEqual(frames.map((f) => f.level), [...Array(22).keys()]);
  const [top] = frames;
  assert.equal(top.func, 'call_python');
  assert.equal(top.file, '_mixed.c');
  assert.equal(top.line, 23);
  assert.equal(top.pc, 0x7ffff7ecc229n);
  assert.equal(top.sp, 0x7fffffffdf40n);
  assert.match(top.from!, /_mixed\.cpython-312-x86_64-linux-gnu\.so$/);
  // No line entry (`_start`): still a frame, its fields in place.
  const last = frames[21];
  assert.equal(last.func, '_start');
  assert.equal(last.line, undefined);
  assert.equal(last.cfa, undefined);
  for (const f of frames.slice(0, -1)) {
    assert.ok(f.cfa !== undefined && f.sp !== undefined && f.cfa > f.sp, `level ${f.level}: cfa above sp`);
  }
  // Inlined frames share the stack pointer of the frame they are inlined into, and its CFA.
  for (let i = 0; i + 1 < frames.length; i++) {
    if (frames[i].sp === frames[i + 1].sp) assert.equal(frames[i].cfa, frames[i + 1].cfa, `levels ${i}/${i + 1}`);
  }
  assert.equal(cutAtEvalLoop(frames), false);
  assert.equal(cutAtEvalLoop(frames.slice(0, frames.findIndex((f) => f.func === '_PyEval_EvalFrameDefault') + 1)), true);
});

test('an inlined frame is named by the inlined function', () => {
  const line = ['SEAMF', '3', '0x1', '0x2', '/lib/libpython3.12.so', 'PyEval_EvalCode [inlined] _PyEval_EvalFrame', 'PyEval_EvalCode', '/x/pycore_ceval.h', '89'].join('\x1f');
  assert.equal(parseBacktrace(line)[0].func, '_PyEval_EvalFrame');
});

test('stop descriptions, command output, quoting, versions', () => {
  assert.equal(stoppedBreakpointId('breakpoint 2.1'), 2);
  assert.equal(stoppedBreakpointId('signal SIGSEGV: invalid address (fault address: 0x0)'), undefined);
  assert.equal(stoppedSignal('signal SIGSEGV: invalid address (fault address: 0x0)'), 'SIGSEGV');
  assert.equal(stoppedSignal('breakpoint 1.1'), undefined);
  assert.equal(commandOutput('(lldb) thread list\nProcess 1 stopped\n'), 'Process 1 stopped\n');
  assert.equal(commandError('(lldb) memory read 0x0\nerror: memory read failed for 0x0\n'), 'memory read failed for 0x0');
  assert.equal(commandError('Breakpoint 1: where = x'), undefined);
  assert.equal(lldbQuote('a "b" `c` \\d'), '"a \\"b\\" \\`c\\` \\\\d"');
  assert.equal(lldbMajorVersion('lldb version 16.0.6'), 16);
  assert.equal(lldbMajorVersion('lldb-19 version 19.1.7'), 19);
});

test('exit codes in the shell\'s convention from LLDB\'s', () => {
  assert.equal(shellExitCode(0, undefined), 0);
  assert.equal(shellExitCode(3, undefined), 3);
  assert.equal(shellExitCode(-1, undefined), 137, 'killed while stopped: SIGKILL');
  assert.equal(shellExitCode(11, 'SIGSEGV'), 139, 'died of the signal it stopped for');
  assert.equal(shellExitCode(6, 'SIGSEGV'), 6);
});

test('function pointers as GDB and LLDB print them', () => {
  assert.deepEqual(functionPointer('(PyCFunction) 0x7ffff7a7ad80 <math_sqrt>'), { address: 0x7ffff7a7ad80n, symbol: 'math_sqrt' });
  assert.deepEqual(functionPointer('0x00007ffff7a7ad80 (libpython3.12.so.1.0`builtin_len at bltinmodule.c:1719:1)'), { address: 0x7ffff7a7ad80n, symbol: 'builtin_len' });
  assert.deepEqual(functionPointer('0x00007ffff72dc023 (mixed_rs.abi3.so`mixed_rs::__pyfunction_py_leaf::h8b34a978e7fc8190 + 12)'), { address: 0x7ffff72dc023n, symbol: 'mixed_rs::__pyfunction_py_leaf::h8b34a978e7fc8190' });
  assert.equal(functionPointer('0x0000000000000000'), undefined);
});

test('the trap condition: a C comparison both debuggers evaluate; entry registers where LLDB sees no parameters', () => {
  assert.equal(cStringEquals('s', 'a.b'), "s[0] == 'a' && s[1] == '.' && s[2] == 'b' && s[3] == 0");
  assert.throws(() => cStringEquals('s', "a'b"));
  assert.doesNotMatch(TRAP_CONDITION, /\$_streq|strcmp/);
  assert.equal(trapExpression('((PyObject *)args[2])->ob_type', {}), '((PyObject *)args[2])->ob_type');
  assert.equal(trapExpression('((PyObject *)args[2])->ob_type', { entryArgument: (n) => `$arg${n}` }), '((PyObject *)((void **)$arg2)[2])->ob_type');
});

test('3.10 threads: the LWP inside each pthread descriptor, found at one offset for all', async () => {
  const base = [0x1000n, 0x9000n];
  const tids = [4242, 4243];
  const mem: Memory = {
    async read(address, size) {
      const i = base.indexOf(address);
      if (i < 0) throw new MemoryError(address, size, 'unmapped');
      const b = new Uint8Array(size);
      const v = new DataView(b.buffer);
      v.setInt32(0x40, 4243, true); // a decoy in the first descriptor only
      v.setInt32(0x2d0, tids[i], true);
      return b;
    },
  };
  const m = await lwpsByPthread(mem, base, [4242, 4243, 99]);
  assert.deepEqual([...m], [[0x1000n, 4242], [0x9000n, 4243]]);
  assert.equal((await lwpsByPthread(mem, [0x5000n], [1])).size, 0, 'unreadable descriptor');
});

test('which debugger: names, $SEAM_DEBUGGER, auto', () => {
  assert.equal(parseDebuggerKind('lldb', undefined), 'lldb');
  assert.equal(parseDebuggerKind(undefined, 'lldb'), 'lldb');
  assert.equal(parseDebuggerKind('gdb', 'lldb'), 'gdb');
  assert.equal(parseDebuggerKind(undefined, undefined), 'auto');
  assert.throws(() => parseDebuggerKind('windbg', undefined), /gdb, lldb or auto/);
  assert.equal(autoDebugger(undefined, 'darwin'), 'lldb');
  assert.equal(autoDebugger('/nonexistent/gdb', 'linux'), 'gdb', 'a gdb named by path is the user\'s choice (its error says it is missing)');
  assert.equal(autoDebugger('no-such-gdb-here', 'linux'), 'lldb', 'a bare name not on PATH');
  assert.equal(autoDebugger('sh', 'linux'), 'gdb', 'a bare name on PATH');
});

test('native locations', () => {
  assert.deepEqual(parseNativeLocation('*0x7f00'), { address: 0x7f00n });
  assert.deepEqual(parseNativeLocation('/a b/c.rs:12'), { file: '/a b/c.rs', line: 12 });
  assert.deepEqual(parseNativeLocation('mycrate::engine::leaf'), { function: 'mycrate::engine::leaf' });
});

test('addressAndSize: a data breakpoint\'s target from two evaluations, refused where they are not plain numbers', async () => {
  const answers = (address: string | undefined, size: string | undefined) => async (e: string): Promise<string | undefined> => {
    if (e.startsWith('(unsigned long)&(')) return address;
    if (e.startsWith('sizeof(')) return size;
    throw new Error(`unexpected ${e}`);
  };
  assert.deepEqual(await addressAndSize(answers('140737488346720', ' 8 '), 'sum'), { address: 140737488346720n, size: 8 });
  assert.equal(await addressAndSize(answers(undefined, '8'), 'x'), undefined);
  assert.equal(await addressAndSize(answers('error: no address', '8'), 'x'), undefined);
  assert.equal(await addressAndSize(answers('4096', '0'), 'x'), undefined);
  assert.equal(await addressAndSize(async () => { throw new Error('value has been optimized out'); }, 'x'), undefined);
});
