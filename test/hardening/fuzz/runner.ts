/**
 * Runs a fuzz target (targets.ts) in a worker thread with a watchdog: a case that runs longer than
 * `hangMs` gets the worker terminated (which stops even a synchronous endless loop) and is
 * reported with its input. Seeded and with a fixed number of runs, so a run is reproducible:
 * SEAM_FUZZ_SEED changes the seed, SEAM_FUZZ_SCALE multiplies the runs.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { WorkerInput, WorkerMessage } from './worker';

export const FUZZ_SEED = Number(process.env.SEAM_FUZZ_SEED ?? 0x5ea3);
export const FUZZ_SCALE = Number(process.env.SEAM_FUZZ_SCALE ?? 1);

export interface FuzzOutcome {
  target: string;
  ok: boolean;
  runs: number;
  seed: number;
  maxMs: number;
  slowest: string;
  totalMs: number;
  /** Why it failed: the property's error and the (shrunk) input, or the hanging input. */
  failure?: string;
}

export function fuzz(target: string, runs: number, hangMs = 20_000): Promise<FuzzOutcome> {
  const n = Math.max(1, Math.round(runs * FUZZ_SCALE));
  const worker = new Worker(join(__dirname, 'fuzz', 'worker.js'), { workerData: { target, seed: FUZZ_SEED, runs: n } satisfies WorkerInput });
  return new Promise((resolve) => {
    let current: { i: number; input: string; since: number } | undefined;
    let settled = false;
    const finish = (o: FuzzOutcome) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      void worker.terminate();
      resolve(o);
    };
    const watchdog = setInterval(() => {
      if (current && Date.now() - current.since > hangMs) {
        finish({ target, ok: false, runs: current.i, seed: FUZZ_SEED, maxMs: hangMs, slowest: current.input, totalMs: 0,
          failure: `case ${current.i} did not finish within ${hangMs} ms (hang); input: ${current.input}` });
      }
    }, 250);
    worker.on('message', (m: WorkerMessage) => {
      if (m.t === 'case') current = { i: m.i, input: m.input, since: Date.now() };
      else finish({
        target, ok: m.ok, runs: m.runs, seed: m.seed, maxMs: m.maxMs, slowest: m.slowest, totalMs: m.totalMs,
        failure: m.ok ? undefined : `${m.error}\ncounterexample: ${m.counterexample}\nreplay: SEAM_FUZZ_SEED=${m.seed} (path ${m.path})`,
      });
    });
    worker.on('error', (e) => finish({ target, ok: false, runs: current?.i ?? 0, seed: FUZZ_SEED, maxMs: 0, slowest: '', totalMs: 0, failure: `worker crashed: ${e.stack ?? e}; last input: ${current?.input}` }));
    worker.on('exit', (code) => finish({ target, ok: false, runs: current?.i ?? 0, seed: FUZZ_SEED, maxMs: 0, slowest: '', totalMs: 0, failure: `worker exited (${code}) before reporting; last input: ${current?.input}` }));
  });
}
