/**
 * Fuzzing (issue 6 §1): every parser of untrusted input, property-based with fast-check, seeded,
 * a fixed number of runs per target (printed), each case bounded in time in a worker thread the
 * runner can stop. Targets and properties: fuzz/targets.ts. Bugs found are kept as named
 * regression cases in fuzz-regressions.test.ts. The DAP message layer is fuzzed through a real
 * adapter process in dap-fuzz.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz } from './fuzz/runner';
import { record } from './figures';

const PLAN: [target: string, runs: number][] = [
  ['mi-parser', 100_000],
  ['mi-roundtrip', 30_000],
  ['line-table', 60_000],
  ['py-reader-recorded', 30_000],
  ['py-reader-random', 15_000],
  ['extract-c', 8_000],
  ['extract-rust', 8_000],
  ['extract-python', 8_000],
];

for (const [target, runs] of PLAN) {
  test(`fuzz ${target}: no exception escapes, no case hangs`, { timeout: 600_000 }, async (t) => {
    const o = await fuzz(target, runs);
    const line = `fuzz ${target}: ${o.runs} cases, seed ${o.seed}, slowest case ${o.maxMs.toFixed(1)} ms, ${(o.totalMs / 1000).toFixed(1)} s`;
    t.diagnostic(line);
    console.log(line);
    record({ kind: 'fuzz', name: target, cases: o.runs, seed: o.seed, ok: o.ok, slowestMs: Math.round(o.maxMs * 10) / 10, seconds: Math.round(o.totalMs / 100) / 10 });
    assert.ok(o.ok, `${target}: ${o.failure}`);
  });
}
