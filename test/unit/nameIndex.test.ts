import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NameIndex } from '../../src/core/nameIndex';
import type { Target, LinkOutput } from '../../src/core/model';

const c = (symbol: string, line = 1, file = '/cpy/Modules/m.c'): Target => ({ language: 'c', kind: 'function', file, line, symbol, style: 'c-api' });
const py = (symbol: string, line: number, rank?: number): Target => ({ language: 'python', kind: 'function', file: '/cpy/Lib/heapq.py', line, symbol, style: 'python', rank, evidence: 'pure-Python fallback' });

const out: LinkOutput = {
  bindings: [
    { name: 'posix.getcwd', target: c('os_getcwd_impl', 10, '/cpy/Modules/posixmodule.c') },
    { name: '_heapq.heappush', target: c('heappush', 20, '/cpy/Modules/_heapqmodule.c') },
    { name: 'heapq.heappush', target: py('heappush', 130, 10) },
    { name: 'builtins.len', target: c('builtin_len', 30, '/cpy/Python/bltinmodule.c') },
    { name: 'builtins.list.append', target: c('list_append', 40, '/cpy/Objects/listobject.c') },
    { name: '_collections.deque.append', target: c('deque_append', 50, '/cpy/Modules/_collectionsmodule.c') },
    { name: '_json.scanstring', target: c('py_scanstring', 60, '/cpy/Modules/_json.c') },
  ],
  aliases: [
    { from: 'os', to: 'posix', star: true, file: '/cpy/Lib/os.py', line: 1 },
    { from: 'heapq', to: '_heapq', star: true, file: '/cpy/Lib/heapq.py', line: 580, guarded: true },
    { from: 'collections.deque', to: '_collections.deque', star: false, file: '/cpy/Lib/collections/__init__.py', line: 5 },
    { from: 'json.decoder.c_scanstring', to: '_json.scanstring', star: false, file: '/cpy/Lib/json/decoder.py', line: 7, guarded: true },
    // A cycle must not hang the resolver.
    { from: 'a', to: 'b', star: true, file: '/x.py', line: 1 },
    { from: 'b', to: 'a', star: true, file: '/x.py', line: 1 },
  ],
  warnings: [],
};
const index = new NameIndex([out]);

test('star re-export: os.getcwd resolves through posix', () => {
  assert.deepEqual(index.resolve('os.getcwd').map((t) => t.symbol), ['os_getcwd_impl']);
});

test('native target first, pure-Python fallback second', () => {
  const ts = index.resolve('heapq.heappush');
  assert.deepEqual(ts.map((t) => [t.language, t.symbol]), [['c', 'heappush'], ['python', 'heappush']]);
});

test('bare names and builtin type methods resolve as builtins', () => {
  assert.equal(index.resolve('len')[0]?.symbol, 'builtin_len');
  assert.equal(index.resolve('list.append')[0]?.symbol, 'list_append');
});

test('named re-export of a class carries its attributes', () => {
  assert.equal(index.resolve('collections.deque.append')[0]?.symbol, 'deque_append');
  assert.equal(index.resolve('json.decoder.c_scanstring')[0]?.symbol, 'py_scanstring');
});

test('unknown names and alias cycles give nothing, quickly', () => {
  assert.deepEqual(index.resolve('a.nothing'), []);
  assert.deepEqual(index.resolve('math.nonexistent'), []);
});

test('reverse: a C function names the Python names it serves, re-exports included', () => {
  assert.deepEqual(index.namesFor('/cpy/Modules/posixmodule.c', 'os_getcwd_impl').sort(), ['os.getcwd', 'posix.getcwd']);
  assert.deepEqual(index.namesFor('/cpy/Modules/_json.c', 'py_scanstring').sort(), ['_json.scanstring', 'json.decoder.c_scanstring']);
  assert.deepEqual(index.symbolsIn('/cpy/Objects/listobject.c').map((s) => s.symbol), ['list_append']);
});

test('workspace symbol search is case-insensitive, shortest first', () => {
  const hits = index.search('GETCWD');
  assert.equal(hits[0]?.name, 'posix.getcwd');
});

test('reverse names leave out private re-exports of public names', () => {
  const idx = new NameIndex([{
    bindings: [{ name: 'math.sqrt', target: c('math_sqrt', 5, '/cpy/Modules/mathmodule.c') }],
    aliases: [
      { from: 'random._sqrt', to: 'math.sqrt', star: false, file: '/cpy/Lib/random.py', line: 1 },
      { from: '_pydatetime._math', to: 'math', star: false, file: '/cpy/Lib/_pydatetime.py', line: 1 },
      { from: 'statistics.sqrt', to: 'math.sqrt', star: false, file: '/cpy/Lib/statistics.py', line: 1 },
    ],
    warnings: [],
  }]);
  assert.deepEqual(idx.namesFor('/cpy/Modules/mathmodule.c', 'math_sqrt').sort(), ['math.sqrt', 'statistics.sqrt']);
  assert.equal(idx.resolve('random._sqrt')[0]?.symbol, 'math_sqrt', 'still resolvable forwards');
});

test('star imports of star imports do not blow up: a query stays fast', () => {
  // 30 modules, each star-importing every later one: exponential without memoisation.
  const aliases = [];
  for (let i = 0; i < 30; i++) for (let j = i + 1; j < 30; j++) aliases.push({ from: `m${i}`, to: `m${j}`, star: true, file: '/x.py', line: 1 });
  const idx = new NameIndex([{ bindings: [{ name: 'm29.f', target: c('f') }], aliases, warnings: [] }]);
  const t0 = performance.now();
  assert.equal(idx.resolve('m0.f')[0]?.symbol, 'f');
  assert.deepEqual(idx.resolve('m0.nothing.deeper.still'), []);
  assert.ok(performance.now() - t0 < 200, `took ${performance.now() - t0} ms`);
});

test('an index grown output by output answers as one built from all of them', () => {
  const native: LinkOutput = {
    bindings: [
      { name: 'm.f', target: c('f_py', 3) },
      { name: 'm.f', target: c('f_impl', 5) },
      { name: 'm.g', target: { ...c('g', 7), rank: 2 } },
    ],
    aliases: [],
    warnings: [],
  };
  const python: LinkOutput = {
    bindings: [
      { name: 'm.f', target: py('f', 11) }, // unranked Python: after the C targets
      { name: 'm.g', target: py('g', 12, 1) }, // ranked ahead of the C target of rank 2
      { name: 'm.g', target: py('g2', 13, 2) }, // a tie: after the C target added first
      { name: 'p.h', target: py('h', 14) },
    ],
    aliases: [{ from: 'p', to: 'm', star: true, file: '/cpy/Lib/p.py', line: 1 }],
    warnings: [],
  };
  const whole = new NameIndex([native, python]);
  const grown = new NameIndex([native]);
  assert.deepEqual(grown.resolve('p.f'), [], 'nothing of p before its output is in');
  grown.add(python);
  for (const name of ['m.f', 'm.g', 'p.f', 'p.g', 'p.h', 'm']) assert.deepEqual(grown.resolve(name), whole.resolve(name), name);
  assert.deepEqual(whole.resolve('m.g').map((t) => t.symbol), ['g', 'g', 'g2']);
  assert.deepEqual([...grown.allNames()].sort(), [...whole.allNames()].sort());
  assert.deepEqual(grown.search('g').map((n) => n.name), whole.search('g').map((n) => n.name));
  assert.deepEqual(grown.namesFor('/cpy/Modules/m.c', 'g'), whole.namesFor('/cpy/Modules/m.c', 'g'));
});
