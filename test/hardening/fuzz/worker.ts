/**
 * Runs one fuzz target in a worker thread (started by runner.ts): fast-check with the given seed
 * and number of runs; before each case it posts the case's index and input so the parent can
 * name the input if the case never ends, and it posts the outcome at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { TARGETS } from './targets';

export interface WorkerInput { target: string; seed: number; runs: number }
export type WorkerMessage =
  | { t: 'case'; i: number; input: string }
  | { t: 'done'; ok: boolean; runs: number; skipped: number; maxMs: number; slowest: string; totalMs: number; error?: string; counterexample?: string; seed: number; path?: string };

const { target, seed, runs } = workerData as WorkerInput;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const show = (v: unknown) => {
  const s = fc.stringify(v);
  return s.length > 4000 ? `${s.slice(0, 4000)}… (${s.length} chars)` : s;
};

async function main(): Promise<void> {
  const t = TARGETS[target];
  if (!t) throw new Error(`no fuzz target ${target}`);
  let i = 0, maxMs = 0, slowest = '';
  const started = performance.now();
  const prop = fc.asyncProperty(t.arb(), async (input) => {
    const repr = show(input);
    post({ t: 'case', i: i++, input: repr });
    const t0 = performance.now();
    await t.run(input);
    const ms = performance.now() - t0;
    if (ms > maxMs) { maxMs = ms; slowest = repr.slice(0, 300); }
    if (ms > t.caseMs) throw new Error(`case took ${Math.round(ms)} ms (bound ${t.caseMs} ms): a hang in the making`);
  });
  const r = await fc.check(prop, { seed, numRuns: runs, endOnFailure: false, markInterruptAsFailure: true });
  post({
    t: 'done', ok: !r.failed, runs: r.numRuns, skipped: r.numSkips, maxMs, slowest, totalMs: performance.now() - started, seed,
    error: r.failed ? String((r.errorInstance as Error | undefined)?.stack ?? r.errorInstance) : undefined,
    counterexample: r.counterexample ? show(r.counterexample[0]) : undefined,
    path: r.counterexamplePath ?? undefined,
  });
}

main().catch((e) => post({ t: 'done', ok: false, runs: 0, skipped: 0, maxMs: 0, slowest: '', totalMs: 0, seed, error: String((e as Error).stack ?? e) }));
