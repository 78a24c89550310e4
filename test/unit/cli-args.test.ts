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
