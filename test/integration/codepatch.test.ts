/**
 * The breakpoint hooks written into code objects on CPython 3.10 / 3.11
 * (src/debug/python-bootstrap/seam_codepatch.py), checked by the real interpreters with
 * test/fixtures/codepatch/check.py: every code object of the standard library patched at every
 * line reads back with each instruction's line and position, jump targets and exception table
 * intact; and a workload (tricky.py's control flow, pure-Python standard modules) gives the same
 * results with hooks as without, calling the hooks exactly where a line begins as 3.12+'s LINE
 * events have it (sys.settrace's 'line' events less those of a backward jump within a line,
 * told by its 'opcode' events), as many times; and begins() agrees with every 'line' event. Once per selected 3.10 / 3.11 interpreter (3.12+ use sys.monitoring).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { selectedPythons } from '../debug/dapSession';

const repo = join(__dirname, '..', '..', '..');
const check = join(repo, 'test', 'fixtures', 'codepatch', 'check.py');
const bootstrapDir = join(repo, 'src', 'debug', 'python-bootstrap');

interface Report {
  version: number[];
  structure: { files: number; codes: number; patched: number; errors: string[] };
  behaviour: { functions_patched: number; events_traced: number; results_equal: boolean; count_mismatches: unknown[]; count_mismatch_total: number; begins_mismatches: unknown[]; results?: string[] };
}

const legacy = selectedPythons().filter((p) => {
  const v = execFileSync(p, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' }).trim();
  return v === '3.10' || v === '3.11';
});

describe('breakpoint hooks in code objects (3.10 / 3.11)', () => {
  for (const python of legacy) {
    test(python, { timeout: 300_000 }, () => {
      const out = execFileSync(python, [check, bootstrapDir], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 280_000 });
      const r = JSON.parse(out) as Report;
      assert.ok(r.structure.files > 300 && r.structure.patched > 10_000, `too little checked: ${JSON.stringify(r.structure)}`);
      assert.deepEqual(r.structure.errors, [], 'patched standard library code reads back differently');
      assert.ok(r.behaviour.functions_patched > 300 && r.behaviour.events_traced > 10_000, JSON.stringify(r.behaviour));
      assert.equal(r.behaviour.results_equal, true, `results differ with hooks:\n${(r.behaviour.results ?? []).join('\n----\n')}`);
      assert.deepEqual(r.behaviour.count_mismatches, [], `hooks called where no line begins, or not where one does (${r.behaviour.count_mismatch_total} lines: file, function, line, times it begins, hooks)`);
      assert.deepEqual(r.behaviour.begins_mismatches, [], 'begins() disagrees with where lines begin (file, function, line, f_lasti, begins)');
    });
  }
});
