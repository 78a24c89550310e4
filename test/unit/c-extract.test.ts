/**
 * The C extractor and linker on small fixtures (test/fixtures/c) whose expectations are line
 * tags in the sources (`@py NAME`: NAME's best target is that line; `@py-alt NAME`: among its
 * targets). The indexer's two passes are emulated: files that `cNeedsParse` accepts, then the
 * skipped files that mention a name `linkC` reports as unresolved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cColumn0Names, cNeedsParse, extractC, type CFileFacts } from '../../src/core/c/extract';
import { cUndefinedRefs } from '../../src/core/c/refs';
import { linkC } from '../../src/core/c/link';
import { queryFor } from '../../src/parse/parsers';
import type { Binding } from '../../src/core/model';
import { tagsUnder } from '../helpers/tags';
import { describeTarget } from '../../src/core/describe';
import { langOf } from '../../src/index/walk';
import defsScm from '../../queries/c/defs.scm';
import tablesScm from '../../queries/c/tables.scm';
import macrosScm from '../../queries/c/macros.scm';

const FIXTURES = resolve(__dirname, '../../../test/fixtures/c');

function sourcesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...sourcesUnder(p));
    else if (/\.(?:[ch]|cpp)$/.test(e)) out.push(p);
  }
  return out;
}

/** Links the fixtures as the indexer does; `reverse` changes the map's order, which must not
 *  change any result (no "first match" anywhere). */
function linkFixtures(reverse: boolean): { bindings: Binding[]; firstUnresolved: string[]; facts: Map<string, CFileFacts> } {
  const paths = sourcesUnder(FIXTURES);
  if (reverse) paths.reverse();
  const texts = new Map(paths.map((p) => [p, readFileSync(p, 'utf8')]));
  const facts = new Map<string, CFileFacts>();
  for (const [p, t] of texts) if (cNeedsParse(t)) facts.set(p, extractC(t));
  let out = linkC(facts);
  const firstUnresolved = out.unresolved;
  if (out.unresolved.length) {
    const re = new RegExp(`\\b(?:${out.unresolved.join('|')})\\b`);
    for (const [p, t] of texts) if (!facts.has(p) && re.test(t)) facts.set(p, extractC(t));
    out = linkC(facts);
  }
  return { bindings: out.bindings, firstUnresolved, facts };
}

function targetsOf(bindings: Binding[], name: string): Binding[] {
  return bindings
    .map((b, i) => ({ b, i }))
    .filter(({ b }) => b.name === name)
    .sort((x, y) => (x.b.target.rank ?? 0) - (y.b.target.rank ?? 0) || x.i - y.i)
    .map(({ b }) => b);
}

function where(b: Binding | undefined): string {
  return b ? `${b.target.file.slice(FIXTURES.length + 1)}:${b.target.line} (${b.target.symbol}, ${b.target.kind})` : 'nothing';
}

test('every C query compiles against the pinned grammar', () => {
  for (const [key, scm] of Object.entries({ defs: defsScm, tables: tablesScm, macros: macrosScm })) {
    assert.ok(queryFor('c', `test-${key}`, scm), key);
  }
  assert.ok(queryFor('c', 'test-all', `${defsScm}\n${tablesScm}\n${macrosScm}`));
});

test('fixtures carry tags for every convention', () => {
  const tags = tagsUnder(FIXTURES);
  assert.ok(tags.length >= 50, `only ${tags.length} tags`);
});

for (const reverse of [false, true]) {
  test(`every @py / @py-alt tag resolves (${reverse ? 'reversed' : 'sorted'} file order)`, () => {
    const { bindings } = linkFixtures(reverse);
    const problems: string[] = [];
    for (const tag of tagsUnder(FIXTURES)) {
      const ts = targetsOf(bindings, tag.name);
      const at = (b: Binding): boolean => b.target.file === tag.file && b.target.line === tag.line;
      if (tag.best ? !(ts[0] && at(ts[0])) : !ts.some(at)) {
        problems.push(`${tag.name}: want ${tag.file.slice(FIXTURES.length + 1)}:${tag.line}${tag.best ? '' : ' among'}, got ${ts.map(where).join(' | ') || 'nothing'}`);
      }
    }
    assert.deepEqual(problems, []);
  });
}

test('the files the indexer parses before linking (what tables name and no parsed file defines) hold every one the link then asks for', () => {
  const texts = new Map(sourcesUnder(FIXTURES).map((p) => [p, readFileSync(p, 'utf8')]));
  const facts = new Map<string, CFileFacts>();
  for (const [p, t] of texts) if (cNeedsParse(t)) facts.set(p, extractC(t));
  const skipped = [...texts.keys()].filter((p) => !facts.has(p));
  const defining = (names: Set<string>): string[] => skipped.filter((p) => cColumn0Names(texts.get(p)!).some((n) => names.has(n)));
  const refs = cUndefinedRefs(facts.values());
  for (const [, f] of facts) for (const fn of f.functions) assert.ok(!refs.has(fn.name), `${fn.name} is defined in a parsed file`);
  const early = defining(refs);
  assert.ok(early.length > 0, 'the fixtures have a table naming a function in a skipped file');
  const asked = defining(new Set(linkC(facts).unresolved));
  assert.deepEqual(asked.filter((p) => !early.includes(p)), [], 'a file the link asks for was not parsed before it');
  // With those parsed, one link leaves nothing more to parse.
  for (const p of early) facts.set(p, extractC(texts.get(p)!));
  const rest = new Set(linkC(facts).unresolved);
  assert.deepEqual(skipped.filter((p) => !facts.has(p) && cColumn0Names(texts.get(p)!).some((n) => rest.has(n))), []);
});

test('PyDict_SetItemString adds to the module only on its dict (`d = PyModule_GetDict(m)`)', () => {
  const { bindings } = linkFixtures(false);
  assert.equal(targetsOf(bindings, 'spam.VectorType')[0]?.target.symbol, 'Vec_Type');
  assert.deepEqual(targetsOf(bindings, 'spam.not_a_module_name'), [], 'a dict of its own is not the module');
  assert.deepEqual(targetsOf(bindings, 'spam.not_a_module_code'), [], 'nor through a helper');
});

test('attributes set on a module imported by name: from another module\'s attribute an alias (builtins.open is io.open)', () => {
  const { facts } = linkFixtures(false);
  const out = linkC(facts);
  const aliases = out.aliases.map((a) => `${a.from} -> ${a.to}`);
  assert.ok(aliases.includes('builtins.open -> io.open'), aliases.join(', '));
  assert.ok(aliases.includes('builtins.open_code -> io.open_code'), aliases.join(', '));
});

test('names added through helpers and macros over macros (errno, SET_SYS_FROM_STRING, _curses)', () => {
  const { bindings } = linkFixtures(false);
  const evidence = (n: string): string => targetsOf(bindings, n)[0]?.target.evidence ?? '(none)';
  // A function adding the name it is given, called directly and through a macro.
  assert.match(evidence('spam.E_EGGS'), /`PyDict_SetItem` \(via `spam_add_code`\)/);
  assert.match(evidence('spam.E_SPAM'), /`PyDict_SetItem` \(via `ADD_CODE`\)/);
  assert.match(evidence('spam.flavour'), /`PyDict_SetItemString` \(via `SET_SPAM_STR`\)/);
  // The module's dict kept in a static and set later.
  assert.match(evidence('spam.LATE'), /`PyDict_SetItemString`/);
});

test('kinds, symbols and evidence', () => {
  const { bindings } = linkFixtures(false);
  const best = (n: string): Binding => {
    const b = targetsOf(bindings, n)[0];
    assert.ok(b, `no binding for ${n}`);
    return b;
  };
  const expect: [string, string, string, RegExp?][] = [
    ['spam', 'module', 'spam_module'],
    ['spam.system', 'function', 'spam_system', /m_methods/],
    ['spam.getcwd', 'function', 'spam_getcwd_impl', /Argument Clinic `spam\.getcwd`/],
    ['spam.limit', 'constant', 'PyLong_FromLong(99)', /`PyDict_SetItemString` \(via `SET_SPAM`\)/],
    ['spam.VectorType', 'class', 'Vec_Type'],
    ['spam.Vec', 'class', 'Vec_Type'],
    ['spam.Vec.norm', 'method', 'spam_Vec_norm_impl', /Argument Clinic `spam\.Vec\.norm`/],
    ['spam.Vec.from_pair', 'classmethod', 'vec_from_pair', /tp_methods` of `Vec/],
    ['spam.Vec.zero', 'staticmethod', 'vec_zero'],
    ['spam.Vec.__add__', 'slot', 'vec_add', /slot `nb_add` of `Vec_Type`/],
    ['spam.Vec.__len__', 'slot', 'vec_len', /sq_length/],
    ['spam.Vec.__new__', 'constructor', 'vec_new'],
    ['spam.Vec.__init__', 'constructor', 'vec_init'],
    ['spam.Vec.name', 'getter', 'vec_get_name', /`tp_getset` of `Vec`/],
    ['spam.Vec.x', 'member', 'x', /tp_members/],
    ['spam.Point.__len__', 'slot', 'point_len', /mp_length/],
    ['spam.error', 'exception', 'error'],
    ['spam.SpamError', 'exception', 'error'],
    ['spam.ANSWER', 'constant', '42'],
    ['posixgen.sin', 'function', 'gen_sin', /generated by `FUNC1`/],
    ['posixgen.nothing', 'function', 'gen_nothing', /generated by `WRAP`/],
    ['builtins.len', 'function', 'builtin_len', /Argument Clinic `len`/],
    ['builtins.thing', 'class', 'PyThing_Type'],
    ['builtins.FixtureError', 'class', '_PyExc_FixtureError', /generated by `SIMPLE_EXCEPTION`/],
  ];
  for (const [name, kind, symbol, evidence] of expect) {
    const b = best(name);
    assert.equal(b.target.kind, kind, name);
    assert.equal(b.target.symbol, symbol, name);
    assert.equal(b.target.language, 'c');
    assert.equal(b.target.style, 'c-api');
    if (evidence) assert.match(b.target.evidence ?? '', evidence, name);
  }
});

test('what must not be bound', () => {
  const { bindings } = linkFixtures(false);
  const names = new Set(bindings.map((b) => b.name));
  assert.ok(!names.has('spam.missing') && ![...names].some((n) => /MISSING/.test(n)), 'empty fallback METHODDEF bound');
  assert.ok(![...names].some((n) => n.startsWith('osgen')), 'clinic prefix used as module name');
  assert.ok(![...names].some((n) => n.includes('never_ends')), 'unterminated clinic block bound');
  assert.ok(!bindings.some((b) => /[\\/]clinic[\\/]/.test(b.target.file)), 'a generated clinic wrapper is a target');
  const spamPack = targetsOf(bindings, 'spam.pack')[0];
  const vecPack = targetsOf(bindings, 'spam.Vec.pack')[0];
  assert.notEqual(spamPack.target.symbol, vecPack.target.symbol, 'module pack and Vec.pack confused');
});

test('a skipped included file is reported, then linked', () => {
  const { firstUnresolved, facts } = linkFixtures(false);
  const implH = join(FIXTURES, 'gen_impl.h');
  assert.equal(cNeedsParse(readFileSync(implH, 'utf8')), false);
  assert.ok(firstUnresolved.includes('gen_format'), `unresolved: ${firstUnresolved.join(' ')}`);
  assert.ok(firstUnresolved.includes('helper'), 'helper resolved outside gen.c\'s include closure without saying so');
  assert.ok(facts.has(implH));
});

test('cNeedsParse says yes to files with C-API tables and no to plain C', () => {
  for (const f of ['spam.c', 'gen.c', 'other.c', 'bltin.c', 'broken.c', 'exc.c', 'clinic/spam.c.h']) {
    assert.equal(cNeedsParse(readFileSync(join(FIXTURES, f), 'utf8')), true, f);
  }
  assert.equal(cNeedsParse('static int add(int a, int b) { return a + b; }\n#define CAT(a, b) a ## b\n'), false);
});

test('facts are plain JSON', () => {
  const f = extractC(readFileSync(join(FIXTURES, 'spam.c'), 'utf8'));
  assert.deepEqual(JSON.parse(JSON.stringify(f)), f);
  assert.ok(f.functions.some((fn) => fn.name === 'spam_system'));
  assert.ok(f.inits.some((i) => i.type === 'PyTypeObject' && i.name === 'Vec_Type'));
});

test('garbage and a 10 MB generated file do not crash extraction', () => {
  for (const junk of ['', '{{{{', '/*[clinic input]\n', '#define X(a) a ## ', 'static PyMethodDef t[] = {', '"\\']) {
    assert.doesNotThrow(() => extractC(junk), JSON.stringify(junk));
  }
  const entry = '    {"f%", (PyCFunction)f%, METH_NOARGS, NULL},\n';
  const rows: string[] = ['static PyMethodDef big_methods[] = {'];
  for (let i = 0; rows.length * entry.length < 10_000_000; i++) rows.push(entry.replace(/%/g, String(i)));
  rows.push('    {NULL}\n};\n');
  const t0 = Date.now();
  const f = extractC(rows.join('\n'));
  const ms = Date.now() - t0;
  const table = f.inits.find((i) => i.name === 'big_methods');
  assert.ok(table && table.elems.length === rows.length - 1, 'the big table was not read whole');
  assert.ok(ms < 60_000, `10 MB took ${ms} ms`);
});

test('C++ sources are indexed as C and named C++ in hover (greenlet\'s style: reinterpret_cast, namespaces, classes)', () => {
  for (const f of ['m.cpp', 'm.cc', 'm.cxx', 'm.hpp', 'm.hh']) assert.equal(langOf(f), 'c', f);
  const { bindings } = linkFixtures(false);
  const twice = targetsOf(bindings, '_cppext.twice')[0];
  assert.equal(where(twice), 'cppext.cpp:19 (cppext_twice, function)');
  assert.match(describeTarget(twice.target, (f) => f.slice(FIXTURES.length + 1)), /^C\+\+ — cppext\.cpp:19, `cppext_twice`/);
  assert.match(describeTarget(targetsOf(bindings, '_adders.error')[0].target, (f) => f), /^C — /);
});

test('a macro\'s parameter is no constant: ADD_INT(NAME, VALUE) in one file, #define NAME "cpython" in another', () => {
  const { bindings } = linkFixtures(false);
  assert.deepEqual(bindings.filter((b) => b.name.endsWith('.cpython')).map((b) => b.name), []);
  assert.equal(where(targetsOf(bindings, '_adders.WIDTH')[0]), 'adders.c:46 (80, constant)');
});
