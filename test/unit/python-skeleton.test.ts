import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pythonSkeleton } from '../../src/core/python/skeleton';
import { parse } from '../../src/parse/parsers';

const src = [
  'import os',                      // 1
  'def f(a,',                       // 2
  '      b):',                      // 3
  '    """Doc',                     // 4
  'at column 0 inside the docstring', // 5
  '    """',                        // 6
  '    x = (1,',                    // 7
  '2)',                             // 8
  '    return x',                   // 9
  '',                               // 10
  'class C:',                       // 11
  '    def m(self): return 1',      // 12
  '    async def n(self):',         // 13
  "        s = '''",                // 14
  "def not_a_def():'''",            // 15
  '        return s',               // 16
  '    def after(self):  # c',      // 17
  '        pass',                   // 18
  'from _x import *',               // 19
].join('\n');

test('bodies are emptied line for line; what the index reads is kept', () => {
  const s = pythonSkeleton(src);
  const lines = s.split('\n');
  assert.equal(lines.length, src.split('\n').length);
  assert.equal(lines[1], 'def f(a,');
  assert.equal(lines[2], '      b):');
  assert.equal(lines[3], '    pass');
  assert.deepEqual(lines.slice(4, 9), ['', '', '', '', '']);
  assert.equal(lines[10], 'class C:');
  assert.equal(lines[11], '    def m(self): return 1');
  assert.equal(lines[13], '        pass');
  assert.equal(lines[14], '', 'a def inside a string is not a def');
  assert.equal(lines[16], '    def after(self):  # c');
  assert.equal(lines[18], 'from _x import *');
  assert.ok(!parse('python', s).rootNode.hasError, 'the skeleton parses cleanly');
});

test('text without defs is returned as it is', () => {
  assert.equal(pythonSkeleton('import os\nx = 1\n'), 'import os\nx = 1\n');
});

test('on real CPython Lib/ files the skeleton keeps every top-level def and class, and parses', () => {
  const lib = join(process.env.SEAM_CACHE ?? join(homedir(), '.cache', 'seam'), 'cpython-3.13', 'Lib');
  assert.ok(existsSync(lib), `${lib} missing: run bash scripts/fetch-sources.sh`);
  let checked = 0;
  for (const f of readdirSync(lib).filter((e) => e.endsWith('.py'))) {
    const text = readFileSync(join(lib, f), 'utf8');
    const full = parse('python', text).rootNode;
    if (full.hasError) continue; // nothing to compare against
    const skel = parse('python', pythonSkeleton(text)).rootNode;
    const heads = (root: typeof full): string[] => root.namedChildren
      .map((n) => (n.type === 'decorated_definition' ? n.childForFieldName('definition') ?? n : n))
      .filter((n) => n.type === 'function_definition' || n.type === 'class_definition')
      .map((n) => `${n.childForFieldName('name')?.text}@${n.startPosition.row}`);
    assert.deepEqual(heads(skel), heads(full), f);
    assert.ok(!skel.hasError, `${f}: skeleton has a syntax error`);
    checked++;
  }
  assert.ok(checked > 100, `only ${checked} files compared`);
});
