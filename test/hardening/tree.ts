/**
 * Generated source trees for the index fault and soak tests, and the CLI driven as a user would.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './figures';

export const SEAM = join(REPO, 'bin', 'seam');

/** A C extension module `mod_<i>` with one function `f` (or `g` in variant 1): two Python names. */
export function moduleSource(i: number, variant = 0): string {
  const fn = variant ? 'g' : 'f';
  return `#include <Python.h>
/* generated module ${i}, variant ${variant} */
static PyObject *
mod_${i}_${fn}(PyObject *self, PyObject *args)
{
    Py_RETURN_NONE;
}

static PyMethodDef mod_${i}_methods[] = {
    {"${fn}", (PyCFunction)mod_${i}_${fn}, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef mod_${i}_module = {
    PyModuleDef_HEAD_INIT, "mod_${i}", NULL, -1, mod_${i}_methods
};

PyMODINIT_FUNC
PyInit_mod_${i}(void)
{
    return PyModule_Create(&mod_${i}_module);
}
`;
}

/** `n` generated modules under `dir/pkg<k>/mod_<i>.c` (50 per directory). */
export function generateTree(dir: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const sub = join(dir, `pkg${Math.floor(i / 50)}`);
    if (i % 50 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `mod_${i}.c`), moduleSource(i));
  }
}

export function modulePath(dir: string, i: number): string {
  return join(dir, `pkg${Math.floor(i / 50)}`, `mod_${i}.c`);
}

export interface SeamRun { status: number | null; stdout: string; stderr: string; ms: number }

/** `bin/seam ARGS` to completion (bounded). */
export function seamSync(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): SeamRun {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [SEAM, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 1 << 28 });
  if (r.error) throw new Error(`seam ${args.join(' ')} did not finish: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

/** `bin/seam ARGS` in the background. */
export function seamAsync(args: string[], env: NodeJS.ProcessEnv = {}): { pid: number; done: Promise<SeamRun> } {
  const t0 = Date.now();
  const p = spawn(process.execPath, [SEAM, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  p.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  p.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const done = new Promise<SeamRun>((resolve) => p.on('close', (status) => resolve({ status, stdout, stderr, ms: Date.now() - t0 })));
  return { pid: p.pid!, done };
}

export interface IndexJson { files: number; parsed: number; fromCache: number; skipped: number; names: number; warm: boolean }
export interface Resolved { name: string; targets: { file: string; line: number; symbol: string }[] }

/** The resolve answer without volatile fields, for comparing two runs. */
export function resolvedShape(out: string): string[] {
  return (JSON.parse(out) as Resolved[]).map((r) => `${r.name} -> ${r.targets.map((t) => `${t.symbol}@${t.file}:${t.line}`).join(', ') || '(none)'}`);
}
