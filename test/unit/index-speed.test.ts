/**
 * What makes a cold index fast must not change what it finds: the reduced texts tree-sitter
 * parses (C: function bodies, parameter lists and initialisers left out; Python: the outline),
 * the cursor walk that reads Python facts (checked against the query-based reading on real
 * CPython sources), the cheap C scan, the worker pool kept for a whole build, and the cache
 * written from the workers' JSON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { skippable } from '../../src/core/c/bodies';
import { cColumn0Names, cNeedsParse, extractC } from '../../src/core/c/extract';
import { extractPython, pythonFactsOfTree, pythonFactsOfWalk } from '../../src/core/python/extract';
import { pythonOutline } from '../../src/core/python/skeleton';
import { parse } from '../../src/parse/parsers';
import { CACHE_FORMAT, cachePathFor, factsOfCached, hasFacts, loadCache, saveCache } from '../../src/index/cache';
import { ExtractPool, extractAll, type ExtractRequest } from '../../src/index/pool';
import { EXTRACTORS_VERSION, extractFile, type FileResult } from '../../src/index/extractFile';
import { Indexer } from '../../src/index/indexer';

const FIXTURES = resolve(__dirname, '../../../test/fixtures');
const CPYTHON = join(process.env.SEAM_CACHE ?? join(homedir(), '.cache', 'seam'), 'cpython-3.13');

/** The text tree-sitter sees: left-out ranges replaced by nothing. */
function kept(text: string): string {
  let out = '';
  let from = 0;
  for (const [a, b] of skippable(text, true)) {
    out += text.slice(from, a);
    from = b;
  }
  return out + text.slice(from);
}

test('C: function bodies, parameter lists and initialiser contents are left out of the parse', () => {
  const src = [
    'static PyObject *',
    'spam_system(PyObject *self, PyObject *args)',
    '{',
    '    return PyLong_FromLong(system(command));',
    '}',
    'static PyMethodDef SpamMethods[] = {',
    '    {"system", spam_system, METH_VARARGS, "Execute a shell command."},',
    '    {NULL, NULL, 0, NULL}',
    '};',
    'int proto(int a, int b);',
  ].join('\n');
  const k = kept(src);
  assert.doesNotMatch(k, /spam_system/, 'a definition with a plain head is left out whole (the lexer names it)');
  assert.match(k, /SpamMethods\[\] = \{\};/);
  assert.match(k, /proto\(int a, int b\);/, 'a prototype is parsed as it is');
  const facts = extractC(src);
  assert.deepEqual(facts.functions, [{ name: 'spam_system', line: 2 }]);
  const table = facts.inits.find((i) => i.name === 'SpamMethods');
  assert.equal(table?.line, 6);
  assert.equal(table?.elems.length, 2, 'the initialiser is read from the text');
});

test('C: initialisers that include or define stay in the parse; attributes are not parameter lists', () => {
  const src = [
    'static const char *names[] = {',
    '#include "names.h"',
    '};',
    'static int values[] = { 1, 2, 3 };',
    'void fatal(const char *msg) __attribute__((noreturn)) {',
    '}',
  ].join('\n');
  const k = kept(src);
  assert.match(k, /#include "names.h"/);
  assert.match(k, /values\[\] = \{\};/);
  assert.doesNotMatch(k, /fatal/, 'named through its attribute, left out whole');
  assert.deepEqual(extractC(src).functions.map((f) => f.name), ['fatal']);
});

test('C: the lexer names definitions; heads it cannot vouch for stay in the parse', () => {
  const src = [
    'typedef struct {',
    '    PyObject_HEAD',
    '    int x;',
    '} Obj;',
    'Py_LOCAL_INLINE(int)',
    'inline_one(int a)',
    '{ return a; }',
    'static PyObject *',
    '#ifdef MS_WINDOWS',
    'win_only(PyObject *self)',
    '#else',
    'posix_only(PyObject *self)',
    '#endif',
    '{ Py_RETURN_NONE; }',
    'extern "C" {',
    'int inside_extern(void) { return 0; }',
    '}',
    'static PyObject *',
    'after_extern(PyObject *m)',
    '{ return m; }',
    'static PyMethodDef methods[] = {',
    '    {"after", after_extern, METH_O},',
    '    {NULL}',
    '};',
  ].join('\n');
  const k = kept(src);
  assert.doesNotMatch(k, /int x;/, 'struct bodies are left out');
  assert.match(k, /Py_LOCAL_INLINE\(int\)\ninline_one\(\)/, 'a head with a macro call is parsed (body left out)');
  assert.match(k, /#ifdef MS_WINDOWS\nwin_only\(PyObject \*self\)/, 'a signature split by #ifdef is parsed whole');
  assert.match(k, /extern "C" \{/);
  assert.doesNotMatch(k, /after_extern\(/, 'a definition after an extern block is left out alone');
  assert.match(k, /methods\[\] = \{\};/);
  const facts = extractC(src);
  assert.deepEqual(facts.functions.map((f) => [f.name, f.line]).sort(), [
    ['after_extern', 19], ['inline_one', 6], ['inside_extern', 16], ['posix_only', 12],
  ]);
  assert.equal(facts.inits.find((i) => i.name === 'methods')?.elems.length, 2);
});

test('C: #if branches inside a body count their braces once; a body keeps its #defines and #includes for the tree', () => {
  const src = [
    'static int',
    'module_exec(PyObject *m)',
    '{',
    '#ifdef MS_WINDOWS',
    '    if (win()) {',
    '#else',
    '    if (posix()) {',
    '#endif',
    '        return -1;',
    '    }',
    '#define ADD_EXC(NAME, BASE) \\',
    '    PyModule_AddObjectRef(m, NAME, PyErr_NewException("mod." NAME, BASE, NULL))',
    '#include "inner.h"',
    '    ADD_EXC("error", NULL);',
    '    return 0;',
    '}',
    'static PyMethodDef after[] = {',
    '    {"f", f, METH_O},',
    '};',
  ].join('\n');
  const k = kept(src);
  assert.doesNotMatch(k, /posix\(\)/, 'the body is left out although its #if branches open two braces');
  assert.match(k, /^#define ADD_EXC\(NAME, BASE\) \\\n {4}PyModule_AddObjectRef.*\n#include "inner.h"\n/m, 'directives are kept, each with its newline');
  const facts = extractC(src);
  assert.deepEqual(facts.defines.map((d) => [d.name, d.line, d.body.endsWith('NULL))')]), [['ADD_EXC', 11, true]]);
  assert.deepEqual(facts.includes, ['inner.h']);
  assert.deepEqual(facts.functions.map((f) => f.name), ['module_exec']);
  assert.equal(facts.inits.find((i) => i.name === 'after')?.elems.length, 1);
  assert.ok(facts.calls.some((c) => c.fn === 'PyErr_NewException' && c.via === 'ADD_EXC'), 'the macro\'s API call is read at its use');
});

test('C: the cheap scan skips files that name table types only through pointers', () => {
  assert.equal(cNeedsParse('int f(void) { PyMethodDef *meth = m->d_method; return 0; }'), false);
  assert.equal(cNeedsParse('static PyMethodDef methods[] = {{NULL}};'), true);
  assert.equal(cNeedsParse('PyType_Spec spec = {"m.T", 0, 0, 0, slots};'), true);
  assert.equal(cNeedsParse('PyObject *t = PyType_FromSpec(&spec); PyType_Spec *s;'), false);
  assert.equal(cNeedsParse('if (PyModule_AddIntConstant(m, "X", 1) < 0) return -1;'), true);
  assert.deepEqual(cColumn0Names('static int\nhelper(int a)\n{\n    return inner(a);\n}\nint other(void);\n'), ['helper', 'other']);
});

test('Python: the outline keeps every line, definitions and imports; it parses cleanly', () => {
  const src = [
    '"""Module doc',
    'import not_an_import',
    '"""',
    'import os',
    'X = compute(1,',
    '            2)',
    '# a comment',
    '__all__ = ["f", "C"]',
    'def f(a, b=")",',
    '      *args) -> int:',
    '    return a',
    'class C(Base):',
    '    attr = 1',
    '    @property',
    '    def p(self): return 1',
    'try:',
    '    from _speedups import f',
    'except ImportError:',
    '    pass',
  ].join('\n');
  const outline = pythonOutline(src);
  const lines = outline.split('\n');
  assert.equal(lines.length, src.split('\n').length);
  assert.equal(lines[0], '0', 'a docstring becomes one statement');
  assert.deepEqual(lines.slice(1, 3), ['', '']);
  assert.equal(lines[3], 'import os');
  assert.deepEqual(lines.slice(4, 7), ['0', '', '']);
  assert.equal(lines[7], '__all__ = ["f", "C"]');
  assert.deepEqual(lines.slice(8, 10), ['def f(', ') -> int:'], 'parameters are emptied, their lines kept');
  assert.equal(lines[12], '    0');
  assert.equal(lines[14], '    def p(): return 1');
  assert.ok(!parse('python', outline).rootNode.hasError);
  const facts = extractPython(src);
  assert.deepEqual(facts.defs.map((d) => [d.name, d.kind, d.line]), [['f', 'function', 9], ['C', 'class', 12], ['C.p', 'getter', 15]]);
  assert.deepEqual(facts.all, ['f', 'C']);
  assert.deepEqual(facts.imports.map((i) => [i.module, i.line, i.guarded]), [['os', 4, false], ['_speedups', 17, true]]);
});

function pythonFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    const st = statSync(p);
    if (st.isDirectory()) pythonFiles(p, out);
    else if (/\.pyi?$/.test(e)) out.push(p);
  }
  return out;
}

test('Python: the cursor walk reads the same facts as the queries (fixtures, CPython 3.13 Lib/)', () => {
  assert.ok(existsSync(CPYTHON), `${CPYTHON} missing: run bash scripts/fetch-sources.sh`);
  const files = [...pythonFiles(FIXTURES), ...pythonFiles(join(CPYTHON, 'Lib'))];
  let compared = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    // Both on the outline the index parses and on the whole text (function bodies, errors).
    for (const src of [pythonOutline(text), text]) {
      const tree = parse('python', src);
      const expected = pythonFactsOfTree(tree.rootNode);
      assert.deepEqual(pythonFactsOfWalk(tree, src), expected, f);
      // The index's reading of an outline does not enter functions: nothing is lost.
      if (src !== text) assert.deepEqual(pythonFactsOfWalk(tree, src, true), expected, `${f} (outline)`);
      compared++;
    }
  }
  assert.ok(compared > 2000, `only ${compared} texts compared`);
});

test('the worker pool serves several jobs with the same results as in-process extraction', async () => {
  const files: ExtractRequest[] = pythonFiles(join(FIXTURES, 'python')).map((path) => ({ path, lang: 'python' }));
  for (const e of readdirSync(join(FIXTURES, 'c'), { recursive: true, encoding: 'utf8' })) {
    if (/\.[ch]$/.test(e)) files.push({ path: join(FIXTURES, 'c', e), lang: 'c' });
  }
  const expected = new Map(files.map((f) => [f.path, extractFile(f.path, f.lang)]));
  const strip = (r: FileResult): unknown => JSON.parse(JSON.stringify({ ...r, factsJson: undefined }));
  const pool = new ExtractPool().start();
  try {
    for (const job of [files, files.slice(0, 3)]) {
      const got = await pool.extract(job);
      assert.equal(got.length, job.length);
      for (const r of got) assert.deepEqual(strip(r), strip(expected.get(r.path)!), r.path);
    }
    // Jobs queue; one marked `first` is served before those waiting. The first two jobs are big
    // enough that every worker's slots are taken and the second still waits when the third comes.
    const big = Array.from({ length: 12 }, () => files).flat();
    const order: string[] = [];
    const [a, b, c] = await Promise.all([
      pool.extract(big).then((r) => (order.push('a'), r)),
      pool.extract(big).then((r) => (order.push('b'), r)),
      pool.extract(files.slice(0, 2), { first: true }).then((r) => (order.push('c'), r)),
    ]);
    assert.equal(a.length + b.length + c.length, 2 * big.length + 2);
    assert.ok(order.indexOf('c') < order.indexOf('b'), `served in the order ${order.join(', ')}`);
  } finally {
    await pool.close();
  }
  assert.equal((await extractAll(files.slice(0, 2))).length, 2, 'one-off extraction');
});

test('the cache written from JSON text reads back as the facts', () => {
  const d = mkdtempSync(join(tmpdir(), 'seam-cache-json-'));
  const p = cachePathFor(d, ['/r']);
  const facts = { language: 'python' as const, defs: [{ name: 'f', kind: 'function' as const, line: 1, order: 0 }], imports: [] };
  const files = new Map([
    ['/r/a.py', { mtimeMs: 1.5, size: 2, facts, factsJson: JSON.stringify(facts) }],
    ['/r/b.py', { mtimeMs: 3, size: 4, facts }],
    ['/r/c.c', { mtimeMs: 5, size: 6, facts: null, skip: 'binary (NUL byte)' }],
  ]);
  const link = { key: 'k', outputs: [{ bindings: [], aliases: [], warnings: [] }] };
  assert.equal(saveCache(p, d, 'v1', ['/r'], files, link), undefined);
  const text = readFileSync(p, 'utf8');
  assert.match(text, new RegExp(`^seam-index-cache ${CACHE_FORMAT} sha256=[0-9a-f]{64}\n`));
  // The body's lines: the identity, each file's facts (the JSON text as given), the stamps last.
  const lines = text.slice(text.indexOf('\n') + 1).split('\n');
  assert.deepEqual(JSON.parse(lines[0]), { format: CACHE_FORMAT, extractors: 'v1', roots: ['/r'] });
  assert.deepEqual(lines.slice(1, -1), [JSON.stringify(facts), JSON.stringify(facts)]);
  const stamps = JSON.parse(lines[lines.length - 1]) as { files: Record<string, { facts?: [number, number] }>; link: unknown };
  assert.deepEqual(stamps.link, { key: 'k', files: [], outputs: [{ aliases: [], bindings: [] }] });
  assert.deepEqual(Object.keys(stamps.files), ['/r/a.py', '/r/b.py', '/r/c.c']);
  assert.equal(stamps.files['/r/c.c'].facts, undefined, 'no facts: no bytes');
  const back = loadCache(p, 'v1', ['/r']);
  assert.ok(back.ok);
  const a = back.files.get('/r/a.py')!;
  assert.equal(a.facts, null, 'facts are read when asked for, not at load');
  assert.ok(hasFacts(a));
  assert.deepEqual(factsOfCached(a), facts);
  assert.deepEqual(a.facts, facts, 'and kept once read');
  assert.deepEqual(factsOfCached(back.files.get('/r/b.py')!), facts);
  assert.equal(factsOfCached(back.files.get('/r/c.c')!), null);
  assert.equal(back.files.get('/r/c.c')?.skip, 'binary (NUL byte)');
  // A cache written again from stored (unread) facts holds them unchanged.
  const again = loadCache(p, 'v1', ['/r']);
  assert.ok(again.ok);
  assert.equal(saveCache(p, d, 'v1', ['/r'], again.files, link), undefined);
  assert.equal(readFileSync(p, 'utf8'), text, 'the same file');
  writeFileSync(p, '');
});

test('a build writes the cache as it goes: every file in it with the facts the build has, and a warm start gives the same index', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'seam-cache-stream-'));
  const roots = [join(FIXTURES, 'c'), join(FIXTURES, 'sample')];
  const cold = new Indexer({ roots, cacheDir: dir });
  const s1 = await cold.build();
  assert.equal(s1.warm, false);
  const c = loadCache(cachePathFor(dir, roots), EXTRACTORS_VERSION, roots);
  assert.ok(c.ok, 'the cache reads back (digest, format, roots)');
  assert.equal(c.files.size, s1.files);
  let onDemand = 0;
  for (const [p, f] of c.files) {
    assert.deepEqual(factsOfCached(f), cold.factsOf(p) ?? null, p);
    if (f.facts && /\.[ch]$/.test(p) && !cNeedsParse(readFileSync(p, 'utf8'))) onDemand++;
  }
  assert.ok(onDemand > 0, 'a file parsed on demand (after the cheap scan passed over it) is written with its facts');
  const warm = new Indexer({ roots, cacheDir: dir });
  const s2 = await warm.build();
  assert.equal(s2.warm, true);
  assert.equal(s2.fromCache, s1.files);
  assert.equal(s2.names, s1.names);
  for (const name of cold.index.allNames()) assert.deepEqual(warm.index.resolve(name), cold.index.resolve(name), name);
});
