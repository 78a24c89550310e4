/**
 * The Python side of the index: extractor, module names, re-export linker and names at a cursor.
 * Fixture expectations are `@py` / `@py-alt` line tags in test/fixtures/python/** and the sample
 * workspace; the CPython checks read the cached 3.13 tree (~/.cache/seam/cpython-3.13).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { extractPython, pythonLightFacts, pythonNeedsParse, swapDecorators, PY_EXTRACTOR_VERSION } from '../../src/core/python/extract';
import { moduleNameFor, resolveRelative } from '../../src/core/python/module';
import { linkPython, looksNative, type PythonFileInput } from '../../src/core/python/link';
import { namesAtCursor } from '../../src/core/python/cursor';
import { parse, queryFor } from '../../src/parse/parsers';
import type { Alias, Binding, LinkOutput } from '../../src/core/model';
import { NameIndex } from '../../src/core/nameIndex';
import { tagsUnder } from '../helpers/tags';
import defsScm from '../../queries/python/defs.scm';
import importsScm from '../../queries/python/imports.scm';
import allScm from '../../queries/python/all.scm';
import assignsScm from '../../queries/python/assigns.scm';

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures');
const PY_FIXTURES = join(FIXTURES, 'python');
const SAMPLE = join(FIXTURES, 'sample');
const CPYTHON_LIB = join(homedir(), '.cache', 'seam', 'cpython-3.13', 'Lib');

/** Every .py / .pyi under `root` (skipping `skip` dirs), with module names from `__init__` files. */
function indexTree(root: string, skip: (relDir: string) => boolean = () => false): Map<string, PythonFileInput> {
  const files = new Map<string, PythonFileInput>();
  const hasInit = (relDir: string): boolean =>
    existsSync(join(root, relDir, '__init__.py')) || existsSync(join(root, relDir, '__init__.pyi'));
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      const rel = relative(root, p).split(sep).join('/');
      if (statSync(p).isDirectory()) {
        if (!skip(rel)) walk(p);
      } else if (/\.pyi?$/.test(e)) {
        const text = readFileSync(p, 'utf8');
        // As the indexer does: files the cheap scan skips still name their (Python) module.
        const facts = pythonNeedsParse(text) ? extractPython(text) : { language: 'python' as const, defs: [], imports: [] };
        files.set(p, { module: moduleNameFor(rel, hasInit), facts, stub: e.endsWith('.pyi') });
      }
    }
  };
  walk(root);
  return files;
}

function bindingsNamed(out: LinkOutput, name: string): Binding[] {
  return out.bindings.filter((b) => b.name === name);
}

function alias(out: LinkOutput, from: string, to: string): Alias | undefined {
  return out.aliases.find((a) => a.from === from && a.to === to);
}

/** `text` with one `‸` marking the cursor -> namesAtCursor's answer. */
function at(marked: string, module = 'm', isPackage?: boolean): string[] {
  const i = marked.indexOf('‸');
  assert.ok(i >= 0, 'no cursor marker');
  const text = marked.replace('‸', '');
  const before = text.slice(0, i).split('\n');
  return namesAtCursor(text, before.length - 1, before[before.length - 1].length, module, isPackage === undefined ? {} : { isPackage });
}

/** The cursor on the `nth` occurrence of `word` in `text` (middle of the word). */
function atWord(text: string, word: string, module: string, nth = 0): string[] {
  let i = -1;
  for (let k = 0; k <= nth; k++) i = text.indexOf(word, i + 1);
  assert.ok(i >= 0, `${word} not in text`);
  const mid = i + Math.floor(word.length / 2);
  const before = text.slice(0, mid).split('\n');
  return namesAtCursor(text, before.length - 1, before[before.length - 1].length, module);
}

describe('python queries', () => {
  test('every query compiles against the pinned grammar', () => {
    assert.equal(typeof PY_EXTRACTOR_VERSION, 'number');
    const root = parse('python', 'import a\nfrom b import c\n__all__ = ["f"]\nclass C:\n    def f(self): pass\ng = c\n').rootNode;
    for (const [k, s] of Object.entries({ defs: defsScm, imports: importsScm, all: allScm, assigns: assignsScm })) {
      assert.ok(queryFor('python', k, s).captures(root).length > 0, k);
    }
  });
});

describe('python extractor', () => {
  test('defs, methods and their kinds; functions inside functions are not module-level', () => {
    const f = extractPython(readFileSync(join(PY_FIXTURES, 'reexport/pkg/__init__.py'), 'utf8'));
    const kinds = Object.fromEntries(f.defs.map((d) => [d.name, d.kind]));
    assert.equal(kinds['plain'], 'function');
    assert.equal(kinds['Widget'], 'class');
    assert.equal(kinds['Widget.__init__'], 'constructor');
    assert.equal(kinds['Widget.grow'], 'method');
    assert.equal(kinds['Widget.make'], 'staticmethod');
    assert.equal(kinds['Widget.size'], 'getter');
    assert.equal(kinds['Widget.Part.fit'], 'method');
    assert.ok(!f.defs.some((d) => d.name.endsWith('inner')), 'a nested function is local');
    // The def inside `except ImportError:` knows its try.
    const acc = f.defs.find((d) => d.name === 'accelerate')!;
    const imp = f.imports.find((i) => i.name === 'accelerate')!;
    assert.ok(imp.guarded && imp.tryLine !== undefined);
    assert.deepEqual(acc.inHandlerOf, [imp.tryLine]);
    // `slow` is defined, then re-imported: the import comes later.
    const slowDef = f.defs.find((d) => d.name === 'slow')!;
    const slowImp = f.imports.find((i) => i.name === 'slow')!;
    assert.ok(slowImp.order > slowDef.order && !slowImp.guarded);
  });

  test('module-level `name = dotted.name`: kept by the outline, read as assigns; other assignments and local ones are not', () => {
    const src = [
      'import _json as j',                 // 1
      'from _bisect import *',             // 2
      'insort = insort_right',             // 3
      'loads = j.loads  # the C one',      // 4
      'a = 1; b = c.d',                    // 5
      'if True:',                          // 6
      '    e = f',                         // 7
      'g = h()',                           // 8
      'k: int = m',                        // 9
      'n = o = p',                         // 10
      'q = \\',                            // 11
      '    r',                             // 12
      'class C:',                          // 13
      '    __iter__ = keys',               // 14
      'def fn():',                         // 15
      '    s = t',                         // 16
      '"u = v"',                           // 17
      'w = c_w or py_w',                   // 18
      'x = (c_x or',                       // 19
      '     py_x)',                        // 20
      'y = c_y or f()',                    // 21
      '',
    ].join('\n');
    const f = extractPython(src);
    assert.deepEqual(f.assigns, [
      { name: 'insort', value: 'insort_right', line: 3 },
      { name: 'loads', value: 'j.loads', line: 4 },
      { name: 'b', value: 'c.d', line: 5 },
      { name: 'e', value: 'f', line: 7 },
      { name: 'q', value: 'r', line: 11 },
      { name: 'w', value: 'c_w', line: 18 },
      { name: 'w', value: 'py_w', line: 18 },
      { name: 'x', value: 'c_x', line: 19 },
      { name: 'x', value: 'py_x', line: 19 },
    ]);
    const linked = linkPython(new Map([['/r/m.py', { module: 'm', facts: f, stub: false }]]));
    const to = (from: string): string[] => linked.aliases.filter((a) => a.from === from).map((a) => a.to);
    assert.deepEqual(to('m.insort'), ['m.insort_right'], 'a name of the module itself');
    assert.deepEqual(to('m.loads'), ['_json.loads'], 'through `import _json as j`');
    assert.deepEqual(to('m.b'), ['m.c.d']);
    assert.equal(extractPython('x = 1\n').assigns, undefined, 'absent when there are none');
  });

  test('class bases that are dotted names; the linker reads a class\'s missing names from them', () => {
    const f = extractPython([
      'import _random',
      'from _collections import deque as _deque',
      'class Random(_random.Random, metaclass=Meta):',
      '    def seed(self): pass',
      'class Q(_deque, Generic[T], mixin()):',
      '    class Inner(Base): pass',
      'class Plain: pass',
      '',
    ].join('\n'));
    const bases = Object.fromEntries(f.defs.filter((d) => d.kind === 'class').map((d) => [d.name, d.bases]));
    assert.deepEqual(bases, { Random: ['_random.Random'], Q: ['_deque'], 'Q.Inner': ['Base'], Plain: undefined });
    const linked = linkPython(new Map([['/r/m.py', { module: 'm', facts: f, stub: false }]]));
    const stars = linked.aliases.filter((a) => a.star).map((a) => [a.from, a.to]);
    assert.deepEqual(stars, [['m.Random', '_random.Random'], ['m.Q', 'm._deque'], ['m.Q.Inner', 'm.Base']]);
  });

  test('import forms: plain, dotted, as, star, relative, parenthesised, local', () => {
    const f = extractPython(
      [
        'import a.b',
        'import a.b as c, d',
        'from x.y import z as w, v',
        'from . import sib',
        'from ..up._native import (X,',
        '    Y as Z)',
        'from posix import *',
        'from __future__ import annotations',
        'def f():',
        '    import inner',
        'try:',
        '    import _fast',
        'except (AttributeError, ModuleNotFoundError) as e:',
        '    pass',
        'try:',
        '    import _other',
        'except ValueError:',
        '    pass',
        'try:',
        '    import _bare',
        'except:',
        '    pass',
      ].join('\n'),
    );
    const by = (bound: string) => f.imports.find((i) => i.bound === bound)!;
    assert.deepEqual([by('a').module, by('a').aliased, by('a').name], ['a.b', false, undefined]);
    assert.deepEqual([by('c').module, by('c').aliased], ['a.b', true]);
    assert.equal(by('d').module, 'd');
    assert.deepEqual([by('w').module, by('w').name, by('v').name], ['x.y', 'z', 'v']);
    assert.deepEqual([by('sib').module, by('sib').level], ['', 1]);
    assert.deepEqual([by('X').module, by('X').level, by('Z').name, by('Z').line], ['up._native', 2, 'Y', 6]);
    assert.deepEqual([by('*').module, by('*').name], ['posix', '*']);
    assert.ok(!f.imports.some((i) => i.module === '__future__'));
    assert.equal(f.imports.find((i) => i.bound === 'inner'), undefined, 'imports inside functions bind no module attribute: not read');
    assert.equal(by('X').local, false);
    assert.equal(by('_fast').guarded, true);
    assert.equal(by('_other').guarded, false);
    assert.equal(by('_bare').guarded, true);
  });

  test('__all__ when literal, absent when not', () => {
    const f = extractPython(readFileSync(join(PY_FIXTURES, 'reexport/pkg/helpers.py'), 'utf8'));
    assert.deepEqual(f.all, ['helper', 'other', 'late']);
    assert.deepEqual(extractPython('__all__ = ["a"] + ["b"]\n__all__.append("c")\n').all, ['a', 'b', 'c']);
    assert.equal(extractPython('__all__ = ["a"]\n__all__.extend(names())\n').all, undefined);
    assert.equal(extractPython('import x\n').all, undefined);
  });

  test('the cheap scan skips files that cannot re-export', () => {
    assert.equal(pythonNeedsParse(readFileSync(join(PY_FIXTURES, 'noimports.py'), 'utf8')), false);
    assert.equal(pythonNeedsParse('x = 1\n    from ._native import X\n'), true);
    assert.equal(pythonNeedsParse('from posix import *\n'), true);
    assert.equal(pythonNeedsParse('from _json import scanstring as c_scanstring\n'), true);
    assert.equal(pythonNeedsParse('import posixpath as path\n'), true);
    assert.equal(pythonNeedsParse('import os\nfrom os import path\nfrom __future__ import annotations\n'), false);
    assert.equal(pythonNeedsParse('# import nothing\nx = "from a import b"\n'), false);
  });

  test('facts are plain JSON', () => {
    const f = extractPython(readFileSync(join(PY_FIXTURES, 'mini_collections.py'), 'utf8'));
    assert.deepEqual(JSON.parse(JSON.stringify(f)), f);
  });
});

describe('python module names', () => {
  const dirs = (...pkgs: string[]) => (d: string) => pkgs.includes(d);
  test('files and packages', () => {
    assert.equal(moduleNameFor('Lib/os.py', dirs('Lib/json')), 'os');
    assert.equal(moduleNameFor('Lib/json/decoder.py', dirs('Lib/json')), 'json.decoder');
    assert.equal(moduleNameFor('Lib/json/__init__.py', dirs('Lib/json')), 'json');
    assert.equal(moduleNameFor('src/pkg/__init__.py', dirs('src/pkg')), 'pkg');
    assert.equal(moduleNameFor('src/pkg/sub/m.pyi', dirs('src/pkg', 'src/pkg/sub')), 'pkg.sub.m');
    assert.equal(moduleNameFor('foo.pyi', dirs()), 'foo');
    assert.equal(moduleNameFor('a\\b\\c.py', dirs('a/b')), 'b.c');
    // A directory without __init__ ends the dotted name even if its parent is a package.
    assert.equal(moduleNameFor('p/nopkg/m.py', dirs('p')), 'm');
  });
  test('namespace packages (PEP 420) in a src/ layout: zope\'s src/zope/interface/', () => {
    const projects = (...ds: string[]) => (d: string) => ds.includes(d);
    const pkgs = dirs('src/zope/interface', 'src/zope/interface/common', 'proj/src/google/cloud/storage', 'Lib/json', 'Tools/pg/pegen');
    assert.equal(moduleNameFor('src/zope/interface/declarations.py', pkgs, projects('')), 'zope.interface.declarations');
    assert.equal(moduleNameFor('src/zope/interface/common/__init__.py', pkgs, projects('')), 'zope.interface.common');
    assert.equal(moduleNameFor('proj/src/google/cloud/storage/blob.py', pkgs, projects('proj')), 'google.cloud.storage.blob');
    assert.equal(moduleNameFor('src/zope/interface/declarations.py', pkgs, projects()), 'interface.declarations', 'no project: no src/ layout');
    // Not a src/ layout: a directory of the project without __init__.py is not a namespace.
    assert.equal(moduleNameFor('Lib/json/decoder.py', pkgs, projects('')), 'json.decoder');
    assert.equal(moduleNameFor('Tools/pg/pegen/parser.py', pkgs, projects('')), 'pegen.parser');
  });
  test('relative imports', () => {
    assert.equal(resolveRelative('json.decoder', false, 1, 'scanner'), 'json.scanner');
    assert.equal(resolveRelative('json', true, 1, 'decoder'), 'json.decoder');
    assert.equal(resolveRelative('pkg.sub.mod', false, 2, ''), 'pkg');
    assert.equal(resolveRelative('pkg.sub.mod', false, 3, ''), undefined);
    assert.equal(resolveRelative('x', false, 0, 'os.path'), 'os.path');
  });
  test('native-looking module names', () => {
    for (const m of ['_heapq', 'posix', 'pkg._native', '_json']) assert.ok(looksNative(m), m);
    for (const m of ['os', '_pydecimal', '__future__', 'json.decoder']) assert.ok(!looksNative(m), m);
  });
});

describe('python linker on fixtures', () => {
  const out = linkPython(indexTree(PY_FIXTURES));

  test('every @py / @py-alt tag is a binding at that line; @py ranks 20, @py-alt is a fallback', () => {
    const tags = tagsUnder(PY_FIXTURES);
    assert.ok(tags.length >= 15, `only ${tags.length} tags`);
    for (const tag of tags) {
      const bs = bindingsNamed(out, tag.name);
      const here = bs.find((b) => b.target.file === tag.file && b.target.line === tag.line);
      assert.ok(here, `${tag.name}: no binding at ${tag.file}:${tag.line} (have ${bs.map((b) => b.target.line)})`);
      assert.equal(here.target.language, 'python');
      assert.equal(here.target.style, 'python');
      if (tag.best) {
        assert.equal(here.target.rank, 20, tag.name);
        assert.equal(here.target.evidence, undefined, tag.name);
      } else {
        assert.equal(here.target.rank, 10, tag.name);
        assert.equal(here.target.evidence, 'pure-Python fallback', tag.name);
      }
    }
    // Every module-level def in the fixtures is tagged: no untagged binding slipped in.
    const tagged = new Set(tags.map((t) => `${t.name}@${t.line}`));
    const stray = out.bindings.filter((b) => !tagged.has(`${b.name}@${b.target.line}`)).map((b) => b.name);
    assert.deepEqual(stray, []);
  });

  test('stubs give no bindings; files without imports are skipped', () => {
    assert.equal(out.bindings.filter((b) => b.name.startsWith('pkg._native')).length, 0);
    assert.equal(out.bindings.filter((b) => b.name.startsWith('noimports')).length, 0);
  });

  test('re-exports become aliases', () => {
    const expect: [string, string, boolean, boolean][] = [
      // from, to, star, guarded
      ['pkg.Fast', 'pkg._native.Fast', false, false],
      ['pkg.native_compute', 'pkg._native.compute', false, false],
      ['pkg', 'pkg.helpers', true, false],
      ['pkg.accelerate', 'pkg._accel.accelerate', false, true],
      ['pkg.slow', 'pkg._native.slow', false, false],
      ['pkg.shout', 'pkg._native.shout', false, false],
      ['pkg.sub.mod.helpers', 'pkg.helpers', false, false],
      ['pkg.sub.mod.hh', 'pkg.helpers.helper', false, false],
      ['mini_heapq', '_mini_heapq', true, true],
      ['mini_json.c_scanstring', '_mini_json.scanstring', false, true],
      ['mini_collections.OrderedDict', '_mini_collections.OrderedDict', false, true],
      ['mini_collections.deque', '_mini_collections.deque', false, true],
      ['mini_os', 'posix', true, false],
      ['mini_os', 'nt', true, false],
      ['mini_os._exit', 'posix._exit', false, true],
      ['mini_os.path', 'posixpath', false, false],
      ['mini_os.path', 'ntpath', false, false],
    ];
    for (const [from, to, star, guarded] of expect) {
      const a = alias(out, from, to);
      assert.ok(a, `no alias ${from} -> ${to}`);
      assert.equal(a.star, star, `${from} star`);
      assert.equal(!!a.guarded, guarded, `${from} guarded`);
      assert.ok(readFileSync(a.file, 'utf8').split('\n')[a.line - 1].includes(to.split('.').pop()!), `${from} line`);
    }
    // `from . import sub` in pkg/__init__ names itself; a local import is no re-export; a plain
    // `import os` is not treated as one either.
    assert.ok(!out.aliases.some((a) => a.from === a.to));
    assert.ok(!out.aliases.some((a) => a.from === 'mini_os.makedirs.mkdir' || a.to === 'posix.mkdir'));
    assert.ok(!out.aliases.some((a) => a.from === 'pkg.helpers.os'));
    assert.ok(out.warnings.some((w) => w.includes('mod.py') && w.includes('beyond')), out.warnings.join('\n'));
  });

  test('a private module imported plainly and a column-0 attribute of it bound to a name: parsed (brotli.py)', () => {
    assert.ok(pythonNeedsParse('import _brotli\n\ndecompress = _brotli.decompress\n'));
    assert.ok(pythonNeedsParse('import pkg._c\nf = _c.f  # native\n'));
    assert.ok(!pythonNeedsParse('import _thread\n\ndef f():\n    return _thread.get_ident()\n'));
    const files = new Map<string, PythonFileInput>([
      ['/w/brotli.py', { module: 'brotli', stub: false, facts: extractPython('import _brotli\n\ndef decompress(b):\n    return b\n\ndecompress = _brotli.decompress\n') }],
    ]);
    const out = linkPython(files);
    assert.deepEqual(out.bindings.map((b) => `${b.name}:${b.target.rank}`), ['brotli.decompress:10']);
    assert.ok(out.aliases.some((a) => a.from === 'brotli.decompress' && a.to === '_brotli.decompress'), JSON.stringify(out.aliases));
  });

  test('a def only counts as overridden by a native-looking module with no Python source', () => {
    const files = new Map<string, PythonFileInput>([
      ['/w/p/__init__.py', { module: 'p', stub: false, facts: extractPython('def f(): pass\nfrom ._impl import f\n') }],
      ['/w/p/_impl.py', { module: 'p._impl', stub: false, facts: extractPython('import os\ndef f(): pass\n') }],
    ]);
    const ranks = linkPython(files).bindings.map((b) => `${b.name}:${b.target.rank}`);
    assert.deepEqual(ranks.sort(), ['p._impl.f:20', 'p.f:20']);
    files.delete('/w/p/_impl.py');
    assert.deepEqual(linkPython(files).bindings.map((b) => `${b.name}:${b.target.rank}`), ['p.f:10']);
  });
});

describe('python linker on the sample workspace', () => {
  const out = linkPython(indexTree(SAMPLE, (d) => d === 'engine' || d === 'csrc' || d === 'Modules'));
  test('re-exports to the PyO3 and C modules, the pure-Python fallback named', () => {
    assert.ok(alias(out, 'sample.Engine', 'sample._engine.Engine'));
    assert.ok(alias(out, 'sample.leaf', 'sample._engine.leaf'));
    const fs = alias(out, 'sample.fast_sum', 'sample._speedups.fast_sum');
    assert.ok(fs?.guarded);
    for (const tag of tagsUnder(join(SAMPLE, 'sample'))) {
      const b = bindingsNamed(out, tag.name).find((x) => x.target.file === tag.file && x.target.line === tag.line);
      assert.ok(b, tag.name);
      assert.equal(b.target.evidence, tag.best ? undefined : 'pure-Python fallback');
    }
    assert.ok(tagsUnder(join(SAMPLE, 'sample')).some((t) => t.name === 'sample.fast_sum' && !t.best));
    assert.equal(bindingsNamed(out, 'sample._engine.leaf').length, 0, 'the stub gives no binding');
  });

  test('names at cursors in app.py', () => {
    const app = readFileSync(join(SAMPLE, 'sample/app.py'), 'utf8');
    const m = 'sample.app';
    assert.deepEqual(atWord(app, 'sqrt', m), ['math.sqrt']);
    assert.deepEqual(atWord(app, 'getcwd', m), ['os.getcwd']);
    assert.deepEqual(atWord(app, 'len(', m), ['builtins.len']);
    assert.deepEqual(atWord(app, 'append', m), ['builtins.list.append']);
    assert.deepEqual(atWord(app, 'fast_sum', m), ['sample.fast_sum']);
    assert.deepEqual(atWord(app, 'leaf', m), ['sample.leaf']);
    assert.deepEqual(atWord(app, 'Engine(', m), ['sample.Engine']);
    assert.deepEqual(atWord(app, 'standard_b64encode', m), ['_b64.standard_b64encode']);
    assert.deepEqual(atWord(app, 'measure', m), ['sample.app.measure']);
  });
});

describe('names at the cursor', () => {
  const cases: [string, string[], string?][] = [
    ['import math\nmath.sq‸rt(2)', ['math.sqrt']],
    ['import math\nma‸th.sqrt(2)', ['math']],
    ['import math\nmath‸.sqrt(2)', ['math']],
    ['from os import getcwd\nget‸cwd()', ['os.getcwd']],
    ['from os import get‸cwd\n', ['os.getcwd']],
    ['from o‸s import getcwd\n', ['os']],
    ['from os.pa‸th import join\n', ['os.path']],
    ['import numpy as np\nnp.a‸dd(1, 2)', ['numpy.add']],
    ['import numpy as n‸p\n', ['numpy']],
    ['import num‸py as np\n', ['numpy']],
    ['import os.path\nos.path.jo‸in("a")', ['os.path.join']],
    ['import os.pa‸th\n', ['os.path']],
    ['from json import loads as l‸d\n', ['json.loads']],
    ['import collections\ncollections.deque.app‸end', ['collections.deque.append']],
    ['import collections\ncollections.de‸que.append', ['collections.deque']],
    ['import collections\ncollections.deque().app‸end(1)', ['collections.deque.append']],
    ['le‸n(x)', ['builtins.len']],
    ['sor‸ted(x)', ['builtins.sorted']],
    ['x = in‸t("3")', ['builtins.int']],
    ['[].app‸end(1)', ['builtins.list.append']],
    ['"".jo‸in(xs)', ['builtins.str.join']],
    ['f"{x}".up‸per()', ['builtins.str.upper']],
    ['b"".he‸x()', ['builtins.bytes.hex']],
    ['{}.ge‸t(1)', ['builtins.dict.get']],
    ['{1}.ad‸d(2)', ['builtins.set.add']],
    ['dict.fromk‸eys([1])', ['builtins.dict.fromkeys']],
    ['(1).bit_len‸gth()', ['builtins.int.bit_length']],
    ['list(x).ap‸pend(1)', ['builtins.list.append']],
    ['sorted(x).ind‸ex(1)', ['builtins.list.index']],
    ['xs = []\nxs.app‸end(1)', ['builtins.list.append']],
    ['def f():\n    xs = {}\n    xs.ge‸t(1)', ['builtins.dict.get']],
    ['def len(x):\n    return 0\nle‸n(x)', ['m.len']],
    ['from mylib import sorted\nsor‸ted(x)', ['mylib.sorted']],
    ['def g(list):\n    list‸.append(1)', []],
    ['def g():\n    len = 3\n    return le‸n', []],
    ['def f‸(): pass', ['m.f']],
    ['class C‸: pass', ['m.C']],
    ['class C:\n    def m‸(self): pass', ['m.C.m']],
    ['class C:\n    class D:\n        def m‸(self): pass', ['m.C.D.m']],
    ['def outer():\n    def inn‸er(): pass', []],
    ['class C:\n    def m(self): pass\n    def n(self):\n        self.m‸()', ['m.C.m']],
    ['class C:\n    @classmethod\n    def make(cls):\n        return cls.ot‸her()', ['m.C.other']],
    ['def f(): pass\nf‸()', ['m.f']],
    ['class C:\n    len = 1\n    def m(self):\n        return le‸n(x)', ['builtins.len']],
    ['class C:\n    def helper(): pass\n    x = hel‸per()', ['m.C.helper']],
    ['import math\ndef f():\n    global math\n    return math.sq‸rt(2)', ['math.sqrt']],
    ['def f(math):\n    return math.sq‸rt(2)', []],
    ['from posix import *\nsta‸t("/")', ['posix.stat']],
    ['pri‸nt(1)', ['builtins.print']],
    ['raise Value‸Error()', ['builtins.ValueError']],
    ['x = unkno‸wn', []],
    ['# a com‸ment', []],
    ['"a stri‸ng"', []],
    ['f(ke‸y=1)', []],
    ['try:\n    from _json import scanstring as c_scanstring\nexcept ImportError:\n    c_scanstring = None\nc_scan‸string("", 0)', ['_json.scanstring', 'json.decoder.c_scanstring'], 'json.decoder'],
    // super() in a method: the class's first base (enum.py's EnumDict(dict), random.Random).
    ['class D(dict):\n    def __init__(self):\n        super().__in‸it__()', ['builtins.dict.__init__']],
    ['import _random\nclass Random(_random.Random):\n    def seed(self, a):\n        super().se‸ed(a)', ['_random.Random.seed']],
    ['class T(type):\n    def __new__(mcls, *a):\n        return super().__ne‸w__(mcls, *a)', ['builtins.type.__new__']],
    ['class P:\n    def f(self):\n        return super().__ha‸sh__()', ['builtins.object.__hash__']],
    // Default values and annotations are evaluated outside the function (json.encoder's
    // `isinstance=isinstance`): the builtin, not the parameter.
    ['def f(x, isinstance=isinst‸ance):\n    pass', ['builtins.isinstance']],
    ['def f(x: in‸t = 0):\n    pass', ['builtins.int']],
    ['def f(isinstance=isinstance):\n    return isinst‸ance(1, int)', []],
  ];
  for (const [src, want, module] of cases) {
    test(JSON.stringify(src), () => assert.deepEqual(at(src, module ?? 'm'), want));
  }

  test('relative imports: package __init__ and plain module', () => {
    assert.deepEqual(at('from . import x‸\n', 'pkg'), ['pkg.x']);
    assert.deepEqual(at('from . import x\nx‸.f()', 'pkg', true), ['pkg.x']);
    assert.deepEqual(at('from . import x\nx.f‸()', 'pkg.mod', false), ['pkg.x.f']);
    assert.deepEqual(at('from ._native import Fa‸st\n', 'pkg.mod'), ['pkg._native.Fast', 'pkg.mod._native.Fast']);
    assert.deepEqual(at('from .._native import Fa‸st\n', 'pkg.sub', true), ['pkg._native.Fast']);
  });

  test('a def in a .pyi stub', () => {
    const stub = readFileSync(join(SAMPLE, 'sample/_engine.pyi'), 'utf8');
    assert.deepEqual(atWord(stub, 'leaf', 'sample._engine'), ['sample._engine.leaf']);
    assert.deepEqual(atWord(stub, '__new__', 'sample._engine'), ['sample._engine.Engine.__new__']);
  });

  test('non-ASCII text before the cursor (UTF-16 columns, as LSP sends)', () => {
    assert.deepEqual(at('import math\ns = "é😀"; math.sq‸rt(2)'), ['math.sqrt']);
  });
});

describe('python on CPython 3.13 Lib/', { skip: !existsSync(CPYTHON_LIB) && 'run scripts/fetch-sources.sh' }, () => {
  const skip = (d: string): boolean => d === 'test' || d.startsWith('test/') || d === 'idlelib' || d === 'lib2to3';
  const files = existsSync(CPYTHON_LIB) ? indexTree(CPYTHON_LIB, skip) : new Map<string, PythonFileInput>();
  const out = linkPython(files);
  const lineText = (a: { file: string; line: number }): string => readFileSync(a.file, 'utf8').split('\n')[a.line - 1];

  test('aliases to native modules', () => {
    const expect: [string, string, boolean, boolean | undefined][] = [
      // from, to, star, guarded (undefined: not checked)
      ['os', 'posix', true, false],
      ['os', 'nt', true, false],
      ['os.path', 'posixpath', false, false],
      ['heapq', '_heapq', true, true],
      ['json.decoder.c_scanstring', '_json.scanstring', false, true],
      ['json.scanner.c_make_scanner', '_json.make_scanner', false, true],
      ['json.encoder.c_make_encoder', '_json.make_encoder', false, true],
      ['json.JSONDecoder', 'json.decoder.JSONDecoder', false, false],
      ['collections.deque', '_collections.deque', false, true],
      ['collections.defaultdict', '_collections.defaultdict', false, true],
      ['collections.OrderedDict', '_collections.OrderedDict', false, true],
      ['bisect', '_bisect', true, true],
      ['operator', '_operator', true, true],
      ['functools.reduce', '_functools.reduce', false, true],
      ['functools.partial', '_functools.partial', false, true],
      ['datetime', '_datetime', true, true],
      ['datetime', '_pydatetime', true, false],
      ['decimal', '_decimal', true, true],
      ['io.open', '_io.open', false, false],
      ['struct', '_struct', true, false],
      ['zoneinfo.ZoneInfo', '_zoneinfo.ZoneInfo', false, true],
      ['zoneinfo.ZoneInfo', 'zoneinfo._zoneinfo.ZoneInfo', false, false],
      ['warnings.warn', '_warnings.warn', false, true],
    ];
    for (const [from, to, star, guarded] of expect) {
      const a = alias(out, from, to);
      assert.ok(a, `no alias ${from} -> ${to}`);
      assert.equal(a.star, star, from);
      if (guarded !== undefined) assert.equal(!!a.guarded, guarded, `${from} -> ${to} guarded`);
      assert.match(lineText(a), /\bimport\b|^\s+\w/, `${from}: line ${a.line} is not an import`);
      assert.ok(lineText(a).includes(to.split('.').pop()!) || star, `${from}: line ${a.line}`);
    }
  });

  test('module-level aliases of names the native module replaces; classes read what they lack from their bases', () => {
    const random = alias(out, 'random.Random', '_random.Random');
    assert.ok(random?.star, 'random.Random has what _random.Random has');
    assert.match(lineText(random), /^class Random\(_random\.Random\)/);
    for (const [from, to] of [['bisect.insort', 'bisect.insort_right'], ['bisect.bisect', 'bisect.bisect_right']]) {
      const a = alias(out, from, to);
      assert.ok(a, `no alias ${from} -> ${to}`);
      assert.match(lineText(a), new RegExp(`^${from.split('.').pop()} = ${to.split('.').pop()}\\b`));
    }
    // `scanstring = c_scanstring or py_scanstring`: both, the C one first.
    const or = out.aliases.filter((a) => a.from === 'json.decoder.scanstring').map((a) => a.to);
    assert.deepEqual(or, ['json.decoder.c_scanstring', 'json.decoder.py_scanstring']);
  });

  test('pure-Python defs overridden by native re-exports are fallbacks', () => {
    const fallbacks = [
      'heapq.heappush', 'heapq.heappop', 'heapq.heapify', 'bisect.insort_right', 'operator.add',
      'functools.reduce', 'collections.OrderedDict', 'collections.OrderedDict.popitem',
      'warnings.warn', 'json.decoder.py_scanstring',
    ];
    for (const name of fallbacks.filter((n) => n !== 'json.decoder.py_scanstring')) {
      const bs = bindingsNamed(out, name);
      assert.equal(bs.length, 1, name);
      const t = bs[0].target;
      assert.equal(t.rank, 10, name);
      assert.equal(t.evidence, 'pure-Python fallback', name);
      assert.match(lineText(t), new RegExp(`(def|class)\\s+${t.symbol}\\b`), name);
    }
    // Defs no re-export overrides stay ordinary.
    for (const name of ['json.decoder.py_scanstring', 'os.makedirs', 'json.dumps', 'collections.namedtuple']) {
      const bs = bindingsNamed(out, name);
      assert.equal(bs.length, 1, name);
      assert.equal(bs[0].target.rank, 20, name);
      assert.match(lineText(bs[0].target), new RegExp(`def\\s+${bs[0].target.symbol}\\b`), name);
    }
  });

  test('names at cursors in real modules', () => {
    const decoder = readFileSync(join(CPYTHON_LIB, 'json/decoder.py'), 'utf8');
    assert.deepEqual(atWord(decoder, 'c_scanstring', 'json.decoder', 1), ['_json.scanstring', 'json.decoder.c_scanstring']);
    const os = readFileSync(join(CPYTHON_LIB, 'os.py'), 'utf8');
    assert.deepEqual(atWord(os, 'makedirs(name', 'os'), ['os.makedirs']);
    const heapq = readFileSync(join(CPYTHON_LIB, 'heapq.py'), 'utf8');
    assert.deepEqual(atWord(heapq, 'from _heapq', 'heapq'), ['_heapq']);
    assert.deepEqual(atWord(heapq, 'def heappush', 'heapq'), ['heapq.heappush']);
  });

  test('the index covers the tree quickly enough to matter', () => {
    assert.ok(files.size > 500, `${files.size} files`);
    assert.ok(out.bindings.length > 5000, `${out.bindings.length} bindings`);
  });
});

test('files the cheap scan skips still hand on their own package\'s names (absolute imports in __init__)', () => {
  // cryptography/x509/__init__.py: `from cryptography.x509.base import Certificate`, where
  // base.py has `Certificate = rust_x509.Certificate` from the native module.
  const init = 'from pkg.sub.base import Cert, load\nfrom os.path import join\nfrom pkg.sub.base import (\n    Other,  # comment\n)\n';
  assert.equal(pythonNeedsParse(init), false, 'the cheap scan skips it');
  const light = pythonLightFacts(init)!;
  assert.ok(light.light);
  assert.deepEqual(light.imports.map((i) => `${i.module}:${i.name}:${i.bound}`), ['pkg.sub.base:Cert:Cert', 'pkg.sub.base:load:load', 'os.path:join:join', 'pkg.sub.base:Other:Other']);
  assert.equal(pythonLightFacts('import os\nx = 1\n'), null);
  // `from pkg import _native` names a private module: parsed.
  const base = 'from pkg import _native\nCert = _native.Cert\n';
  assert.equal(pythonNeedsParse(base), true);
  const out = linkPython(new Map<string, PythonFileInput>([
    ['/r/pkg/sub/__init__.py', { module: 'pkg.sub', facts: light, stub: false }],
    ['/r/pkg/sub/base.py', { module: 'pkg.sub.base', facts: extractPython(base), stub: false }],
  ]));
  assert.ok(!out.aliases.some((a) => a.from === 'pkg.sub.join'), 'another package\'s name is not handed on');
  const native: LinkOutput = { bindings: [{ name: 'pkg._native.Cert', target: { language: 'rust', kind: 'class', file: '/r/src/lib.rs', line: 4, symbol: 'Cert', style: 'pyo3' } }], aliases: [], warnings: [] };
  const index = new NameIndex([native, out]);
  assert.equal(index.resolve('pkg.sub.Cert')[0]?.file, '/r/src/lib.rs');
  assert.equal(index.resolve('pkg.sub.base.Cert')[0]?.file, '/r/src/lib.rs');
});

describe('a decorator that swaps a definition for the native one (zope\'s _use_c_impl)', () => {
  const compat = `import os

def _c_optimizations_available():
    try:
        from zope.interface import _zope_interface_coptimizations as c_opt
        return c_opt
    except ImportError:
        return False

def _use_c_impl(py_impl, name=None, globs=None):
    name = name or py_impl.__name__
    def find_impl():
        c_opt = _c_optimizations_available()
        if not c_opt:
            return py_impl
        return getattr(c_opt, name)
    return find_impl()

def unrelated(x):
    return getattr(x, 'y')
`;
  const declarations = `from zope.interface._compat import _use_c_impl

@_use_c_impl
def providedBy(ob):
    return None

@_use_c_impl
class ObjectSpecificationDescriptor:
    pass

@staticmethod
def plain():
    pass
`;
  test('the decorator and its native module are read from the text', () => {
    assert.deepEqual(swapDecorators(compat), [{ name: '_use_c_impl', module: 'zope.interface._zope_interface_coptimizations', level: 0 }]);
    assert.deepEqual(swapDecorators('def f(impl):\n    return getattr(impl, impl.__name__)\n'), [], 'no private module imported');
  });
  test('each decorated definition leads to the native name first, the def as its fallback', () => {
    const files = new Map<string, PythonFileInput>([
      ['/z/src/zope/interface/_compat.py', { module: 'zope.interface._compat', facts: extractPython(compat), stub: false }],
      ['/z/src/zope/interface/declarations.py', { module: 'zope.interface.declarations', facts: extractPython(declarations), stub: false }],
    ]);
    const out = linkPython(files);
    assert.ok(alias(out, 'zope.interface.declarations.providedBy', 'zope.interface._zope_interface_coptimizations.providedBy'));
    assert.ok(alias(out, 'zope.interface.declarations.ObjectSpecificationDescriptor', 'zope.interface._zope_interface_coptimizations.ObjectSpecificationDescriptor'));
    assert.equal(bindingsNamed(out, 'zope.interface.declarations.providedBy')[0].target.evidence, 'pure-Python fallback');
    assert.equal(out.aliases.filter((a) => a.from.endsWith('.plain')).length, 0);
  });
});

test('a class deriving from a builtin it does not rebind inherits from builtins (class Counter(dict): Counter.items is dict.items)', () => {
  const src = 'class Counter(dict):\n    pass\nclass Own(list):\n    pass\nclass list:\n    pass\n';
  const out = linkPython(new Map([['/c/counter.py', { module: 'collections.counter', facts: extractPython(src), stub: false }]]));
  assert.ok(out.aliases.some((a) => a.from === 'collections.counter.Counter' && a.to === 'builtins.dict' && a.star), JSON.stringify(out.aliases));
  assert.ok(out.aliases.some((a) => a.from === 'collections.counter.Own' && a.to === 'collections.counter.list'), 'a module that defines `list` derives from its own');
});

test('a file read without a parse still names its column-0 defs and classes: posixpath\'s `from genericpath import *` hands islink on', () => {
  const generic = 'import os\nimport stat\n\ndef islink(path):\n    return False\n\nasync def aio():\n    pass\n\nclass Base:\n    def method(self):\n        pass\n';
  assert.equal(pythonNeedsParse(generic), false);
  const light = pythonLightFacts(generic)!;
  assert.deepEqual(light.defs.map((d) => `${d.kind} ${d.name}:${d.line}`), ['function islink:4', 'function aio:7', 'class Base:10']);
  const out = linkPython(new Map<string, PythonFileInput>([
    ['/l/genericpath.py', { module: 'genericpath', facts: light, stub: false }],
    ['/l/posixpath.py', { module: 'posixpath', facts: extractPython('from genericpath import *\n'), stub: false }],
  ]));
  assert.equal(bindingsNamed(out, 'genericpath.islink')[0]?.target.line, 4);
  assert.ok(alias(out, 'posixpath', 'genericpath'));
});

test('a module-level variable set after a star import is the module\'s own name: os.py\'s `environ = _createenviron()` after `from posix import *`', () => {
  const os = [
    'import sys',                                   // 1
    "if 'posix' in sys.builtin_module_names:",      // 2
    '    from posix import *',                      // 3
    '    linesep = "\\n"',                          // 4  (in a block: not a module-level variable)
    'SEEK_SET = 0',                                 // 5
    'def _createenviron():',                        // 6
    '    environ = {}',                             // 7  (local)
    '    return environ',                           // 8
    'environ = _createenviron()',                   // 9
    'getcwd = wrap(getcwd)',                        // 10 (reads itself: still the native one)
    'a = b = f()',                                  // 11 (two targets: not read)
    'flag = x == (',                                // 12
    '    y)',                                       // 13
    'msg = """',                                    // 14
    'inside = 1',                                   // 15 (inside a string)
    '"""',                                          // 16
    '__version__ = "1"',                            // 17 (dunder: not read)
    'path = sys.path',                              // 18 (a name: an alias, read as before)
    'later = 1',                                    // 19
    'from posix import later',                      // 20 (imported again after it)
  ].join('\n') + '\n';
  const facts = extractPython(os);
  assert.deepEqual(facts.vars, [
    { name: 'SEEK_SET', line: 5 }, { name: 'environ', line: 9 }, { name: 'flag', line: 12 }, { name: 'msg', line: 14 }, { name: 'later', line: 19 },
  ]);
  const out = linkPython(new Map([['/l/os.py', { module: 'os', facts, stub: false }]]));
  const vars = out.bindings.filter((b) => b.target.kind === 'variable');
  assert.deepEqual(vars.map((b) => `${b.name}:${b.target.line}:${b.target.rank}`), ['os.SEEK_SET:5:20', 'os.environ:9:20', 'os.flag:12:20', 'os.msg:14:20']);
  // In the index: os.environ is the variable (it was posix's C `environ`), os.getcwd still the C
  // function, and posix.environ's reverse names no longer include os.environ.
  const native: LinkOutput = {
    bindings: [
      { name: 'posix.environ', target: { language: 'c', kind: 'constant', file: '/m/posixmodule.c', line: 17908, symbol: 'convertenviron', style: 'c-api' } },
      { name: 'posix.getcwd', target: { language: 'c', kind: 'function', file: '/m/posixmodule.c', line: 4216, symbol: 'os_getcwd_impl', style: 'c-api' } },
    ],
    aliases: [], warnings: [],
  };
  const index = new NameIndex([native, out]);
  assert.deepEqual(index.resolve('os.environ').map((t) => `${t.file}:${t.line}`), ['/l/os.py:9']);
  assert.equal(index.resolve('os.getcwd')[0]?.symbol, 'os_getcwd_impl');
  assert.deepEqual(index.namesFor('/m/posixmodule.c', 'convertenviron'), ['posix.environ']);
  assert.deepEqual(index.namesFor('/m/posixmodule.c', 'os_getcwd_impl').sort(), ['os.getcwd', 'posix.getcwd']);
  // A file read without a parse has no variables (no import of its can be shadowed).
  assert.equal(pythonLightFacts('import os\nx = f()\n'), null);
});

describe('a function that imports a native name and returns it, called at module level (simplejson)', () => {
  const decoder = `from __future__ import absolute_import
import re

def _import_c_scanstring():
    try:
        from ._speedups import scanstring
        return scanstring
    except ImportError:
        return None
c_scanstring = _import_c_scanstring()

def py_scanstring(s, end):
    return s[end:]

scanstring = c_scanstring or py_scanstring
`;
  const encoder = `def _import_speedups():
    try:
        from . import _speedups
        return (_speedups.encode_basestring_ascii,
                _speedups.make_encoder)  # the C ones
    except ImportError:
        return None, None

c_encode_basestring_ascii, c_make_encoder = (
    _import_speedups())

def py_encode_basestring_ascii(s):
    return s

encode_basestring_ascii = (
    c_encode_basestring_ascii or py_encode_basestring_ascii)
`;
  const scanner = `def _import_c_make_scanner():
    try:
        from simplejson._speedups import make_scanner as c
        return c
    except ImportError:
        return None

def py_make_scanner(context):
    pass

c_scanner = _import_c_make_scanner()
make_scanner = c_scanner if c_scanner else py_make_scanner
other = c_scanner if c_scanner is not None else py_make_scanner
never = py_make_scanner if c_scanner else c_scanner
`;
  test('read as the guarded, renamed imports they stand for, at the call\'s line', () => {
    const d = extractPython(decoder).imports.filter((i) => i.bound === 'c_scanstring');
    assert.deepEqual(d.map(({ module, level, name, bound, aliased, line, guarded, local }) => ({ module, level, name, bound, aliased, line, guarded, local })),
      [{ module: '_speedups', level: 1, name: 'scanstring', bound: 'c_scanstring', aliased: true, line: 10, guarded: true, local: false }]);
    const e = extractPython(encoder).imports.filter((i) => !i.local);
    assert.deepEqual(e.map((i) => [i.module, i.level, i.name, i.bound, i.line]), [
      ['_speedups', 1, 'encode_basestring_ascii', 'c_encode_basestring_ascii', 9],
      ['_speedups', 1, 'make_encoder', 'c_make_encoder', 9],
    ]);
    assert.deepEqual(extractPython('def f():\n    from _x import y\n    return 1\nz = f()\n').imports.filter((i) => !i.local), [], 'returns something else');
    assert.deepEqual(extractPython('def f(a):\n    from _x import y\n    return y\nz = f()\n').imports.filter((i) => !i.local), [], 'takes parameters');
  });
  test('the native name first, the pure-Python twin its fallback; `a if a else b` as `a or b`', () => {
    const files = new Map<string, PythonFileInput>([
      ['/s/simplejson/decoder.py', { module: 'simplejson.decoder', facts: extractPython(decoder), stub: false }],
      ['/s/simplejson/encoder.py', { module: 'simplejson.encoder', facts: extractPython(encoder), stub: false }],
      ['/s/simplejson/scanner.py', { module: 'simplejson.scanner', facts: extractPython(scanner), stub: false }],
    ]);
    const out = linkPython(files);
    assert.ok(alias(out, 'simplejson.decoder.c_scanstring', 'simplejson._speedups.scanstring'));
    assert.deepEqual(out.aliases.filter((a) => a.from === 'simplejson.decoder.scanstring').map((a) => a.to),
      ['simplejson.decoder.c_scanstring', 'simplejson.decoder.py_scanstring']);
    assert.ok(alias(out, 'simplejson.encoder.c_make_encoder', 'simplejson._speedups.make_encoder'));
    assert.ok(alias(out, 'simplejson.encoder.c_encode_basestring_ascii', 'simplejson._speedups.encode_basestring_ascii'));
    assert.ok(alias(out, 'simplejson.scanner.c_scanner', 'simplejson._speedups.make_scanner'));
    for (const n of ['make_scanner', 'other']) {
      assert.deepEqual(out.aliases.filter((a) => a.from === `simplejson.scanner.${n}`).map((a) => a.to),
        ['simplejson.scanner.c_scanner', 'simplejson.scanner.py_make_scanner'], n);
    }
    assert.equal(out.aliases.filter((a) => a.from === 'simplejson.scanner.never').length, 0, 'the condition is not the value: no alias');
  });
});
