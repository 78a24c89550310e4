import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../src/cli/args';

test('resolve takes names, repeated roots and --json in any order', () => {
  assert.deepEqual(parseArgs(['resolve', 'math.sqrt', '--root', '/a', 'len', '--json', '--root=/b'], '/cache'), {
    command: 'resolve', names: ['math.sqrt', 'len'], roots: ['/a', '/b'], json: true, cacheDir: '/cache',
  });
});

test('index takes roots; --no-cache turns the cache off', () => {
  assert.deepEqual(parseArgs(['index', '--root', '/a', '--no-cache'], '/cache'), { command: 'index', roots: ['/a'], json: false, cacheDir: null });
});

test('usage errors say what is missing', () => {
  assert.throws(() => parseArgs(['resolve', 'math.sqrt'], '/c'), (e: Error) => e instanceof UsageError && /--root/.test(e.message));
  assert.throws(() => parseArgs(['resolve', '--root', '/a'], '/c'), /NAME/);
  assert.throws(() => parseArgs(['resolve', 'x', '--root'], '/c'), /needs a value/);
  assert.throws(() => parseArgs(['frobnicate'], '/c'), /unknown command/);
  assert.throws(() => parseArgs(['index', '--root', '/a', '--bogus'], '/c'), /unknown option/);
});

test('help and version', () => {
  assert.deepEqual(parseArgs([], '/c'), { command: 'help' });
  assert.deepEqual(parseArgs(['--version'], '/c'), { command: 'version' });
});

test('stack: launch with breaks; the program and its arguments after -- verbatim', () => {
  assert.deepEqual(parseArgs(['stack', '--json', '--break', 'mixed_rs::engine::leaf', '--break', 'x.c:12', '--', 'py', 's.py', '--json', 'a b'], '/c'), {
    command: 'stack', json: true, all: false, breaks: ['mixed_rs::engine::leaf', 'x.c:12'],
    target: { kind: 'launch', python: 'py', script: 's.py', args: ['--json', 'a b'] }, gdbPath: undefined, debugger: undefined, lldbDapPath: undefined, timeoutMs: 120000,
  });
});

test('stack: --debugger and --lldb-dap', () => {
  const a = parseArgs(['stack', '--debugger', 'lldb', '--lldb-dap', '/opt/lldb-dap', '--pid', '7'], '/c') as { debugger?: string; lldbDapPath?: string };
  assert.equal(a.debugger, 'lldb');
  assert.equal(a.lldbDapPath, '/opt/lldb-dap');
  assert.equal((parseArgs(['stack', '--debugger', 'auto', '--pid', '7'], '/c') as { debugger?: string }).debugger, 'auto');
  assert.throws(() => parseArgs(['stack', '--debugger', 'windbg', '--pid', '7'], '/c'), /gdb, lldb or auto/);
});

test('stack: attach and core', () => {
  assert.deepEqual((parseArgs(['stack', '--pid', '42'], '/c') as { target: unknown }).target, { kind: 'attach', pid: 42 });
  assert.deepEqual((parseArgs(['stack', '--core', 'core.1', '--python', '/usr/bin/python3'], '/c') as { target: unknown }).target, { kind: 'core', core: 'core.1', python: '/usr/bin/python3' });
});

test('stack: usage errors', () => {
  assert.throws(() => parseArgs(['stack'], '/c'), /exactly one of/);
  assert.throws(() => parseArgs(['stack', '--pid', 'abc'], '/c'), /process id/);
  assert.throws(() => parseArgs(['stack', '--core', 'c'], '/c'), /--python/);
  assert.throws(() => parseArgs(['stack', '--', 'python3'], '/c'), /the script/);
  assert.throws(() => parseArgs(['stack', '--pid', '1', '--', 'py', 's.py'], '/c'), /exactly one/);
  assert.throws(() => parseArgs(['stack', '--pid', '1', '--break', 'f'], '/c'), /launched program/);
});
