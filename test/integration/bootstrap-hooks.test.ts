/**
 * The bootstrap without a debugger (its traps are sys.audit events, which the scenario records
 * with an audit hook of its own): a Python breakpoint traps once per call, on every interpreter;
 * on 3.10/3.11 through the hooks written into the code, and, when the hooks cannot be written
 * (a seam_codepatch.py that fails, beside a copy of the bootstrap), through sys.settrace as
 * before, with a line saying so.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectedPythons } from '../debug/dapSession';
import { tagLine } from '../debug/fixtures';

const repo = join(__dirname, '..', '..', '..');
const bootstrapDir = join(repo, 'src', 'debug', 'python-bootstrap');
const script = join(repo, 'test', 'fixtures', 'bootstrap', 'audit_bp.py');

/** audit_bp.py under the bootstrap in `dir`, one breakpoint (id 1) at its BP line. */
function run(python: string, dir: string): { stdout: string; stderr: string } {
  const control = join(mkdtempSync(join(tmpdir(), 'seam-boot-')), 'control.json');
  writeFileSync(control, JSON.stringify({ version: 1, breakpoints: [{ id: 1, file: script, line: tagLine(script, 'BP') }] }));
  const r = spawnSync(python, [join(dir, 'seam_bootstrap.py'), script], { encoding: 'utf8', env: { ...process.env, SEAM_CONTROL: control }, timeout: 60_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

const legacy = selectedPythons().filter((p) => /^3\.1[01]$/.test(execFileSync(p, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' }).trim()));

describe('the bootstrap\'s breakpoints without a debugger (traps recorded by the program)', () => {
  for (const python of selectedPythons()) {
    test(`${python}: a breakpoint traps once per call`, () => {
      assert.match(run(python, bootstrapDir).stdout, /^traps \[1, 1, 1\]$/m);
    });
  }
  for (const python of legacy) {
    test(`${python}: hooks that cannot be written: traced instead, and said`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'seam-boot-broken-'));
      copyFileSync(join(bootstrapDir, 'seam_bootstrap.py'), join(dir, 'seam_bootstrap.py'));
      writeFileSync(join(dir, 'seam_codepatch.py'), [
        'def supported():', '    return True', '',
        'def patch(code, lines, hook, memo):', '    raise ValueError("an unknown bytecode shape")', '',
        'def starts(code):', '    return ()', '',
        'def hooked_lines(code):', '    return ()', '',
      ].join('\n'));
      const r = run(python, dir);
      assert.match(r.stdout, /^traps \[1, 1, 1\]$/m);
      assert.match(r.stderr, /\x1eseam-log Seam could not hook breakpoints into .*an unknown bytecode shape.*traced instead/);
    });
  }
});
