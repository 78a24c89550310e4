/**
 * Bad input (issue 2 §7): binary files, non-UTF-8, a 10 MB generated C file, syntax errors, an
 * unterminated clinic block, symlink loops, a FIFO, dangling links: each skipped with one logged
 * line (or read for what it holds), the rest indexed, no crash, no hang. Through the real CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SEAM = join(__dirname, '..', '..', '..', 'bin', 'seam');

const GOOD = `#include <Python.h>
static PyObject *
good_ok(PyObject *m, PyObject *a)
{
    Py_RETURN_NONE;
}
static PyMethodDef good_methods[] = {
    {"ok", good_ok, METH_NOARGS, NULL},
    {NULL}
};
static struct PyModuleDef good_module = { PyModuleDef_HEAD_INIT, "good", NULL, -1, good_methods };
`;

function badTree(): string {
  const d = mkdtempSync(join(tmpdir(), 'seam-bad-'));
  writeFileSync(join(d, 'good.c'), GOOD);
  writeFileSync(join(d, 'binary.c'), Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(64)]));
  writeFileSync(join(d, 'latin1.c'), Buffer.from('/* r\xe9sum\xe9 */ static PyMethodDef t[] = {{NULL}};', 'latin1'));
  const row = '    {"f", (PyCFunction)f, METH_NOARGS, NULL},\n';
  writeFileSync(join(d, 'generated.c'), `static PyMethodDef huge[] = {\n${row.repeat(Math.ceil((10 * 1024 * 1024) / row.length))}};\n`);
  writeFileSync(join(d, 'syntax.c'), `static PyObject *\nbroken_f(PyObject *m, PyObject *a\n{\n  return (;\n}\nstatic PyMethodDef broken_methods[] = {\n    {"f", broken_f, METH_O, NULL},\n    {NULL}\n};\nstatic struct PyModuleDef broken_module = { PyModuleDef_HEAD_INIT, "broken", NULL, -1, broken_methods };\n`);
  writeFileSync(join(d, 'clinic_open.c'), '/*[clinic input]\nmodule x\nx.f\n    a: int\n/\n');
  writeFileSync(join(d, 'bad.py'), 'def f(:\n  from _x import *\n\x00');
  writeFileSync(join(d, 'bad.rs'), '#[pyfunction]\nfn broken( {\n');
  mkdirSync(join(d, 'loop'));
  symlinkSync(d, join(d, 'loop', 'again'));
  symlinkSync(join(d, 'nowhere'), join(d, 'dangling.c'));
  execFileSync('mkfifo', [join(d, 'fifo.c')]);
  return d;
}

test('bad files are skipped with one logged line each; the rest is indexed; nothing hangs', () => {
  const d = badTree();
  const r = spawnSync(process.execPath, [SEAM, 'resolve', 'good.ok', 'broken.f', '--root', d, '--json', '--no-cache'], {
    encoding: 'utf8', env: { ...process.env, SEAM_LOG: '1' }, timeout: 60_000,
  });
  assert.equal(r.error, undefined, `seam did not finish: ${r.error}`);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { name: string; targets: { file: string; symbol: string }[] }[];
  assert.equal(out[0].targets[0]?.symbol, 'good_ok');
  assert.equal(out[1].targets[0]?.symbol, 'broken_f', 'a file with syntax errors still gives what it holds');
  const log = r.stderr.split('\n');
  const once = (re: RegExp, what: string): void => {
    assert.equal(log.filter((l) => re.test(l)).length, 1, `${what}: want one log line in\n${r.stderr}`);
  };
  once(/binary\.c: binary/, 'binary file');
  once(/latin1\.c: not UTF-8/, 'non-UTF-8 file');
  once(/generated\.c: 10\.\d MB, over the/, '10 MB generated file');
  once(/bad\.py: binary/, 'Python file with a NUL byte');
  once(/dangling\.c: broken symbolic link/, 'dangling link');
  assert.ok(!log.some((l) => /internal error|TypeError|at .*\.js:\d+/.test(l)), `no stack trace:\n${r.stderr}`);
});

test('a missing root: exit 2 and a message that names it', () => {
  const r = spawnSync(process.execPath, [SEAM, 'resolve', 'math.sqrt', '--root', '/no/such/dir', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /root not found: \/no\/such\/dir/);
});

test('a usage error: exit 2 with the usage', () => {
  const r = spawnSync(process.execPath, [SEAM, 'resolve', 'math.sqrt'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /give at least one --root DIR/);
  assert.match(r.stderr, /usage:/);
});
