/**
 * The code Seam has an attached program run (pythonAttach.ts): one Python statement that execs the
 * bootstrap in a namespace of its own and calls attach(control), for any path; and the integer
 * answers of both debuggers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachSource, integerValue } from '../../src/debug/adapter/pythonAttach';

test('the attach statement runs the bootstrap\'s attach(control) without touching __main__, whatever the paths hold', () => {
  const dir = mkdtempSync(join(tmpdir(), "seam attach 'q' \"dq\" $(x) é-"));
  const boot = join(dir, 'boot strap.py');
  const control = join(dir, 'con\ntrol "x".json');
  const out = join(dir, 'out.txt');
  writeFileSync(boot, `def attach(c):\n    open(${JSON.stringify(out)}, "w", encoding="utf-8").write(__name__ + "|" + c)\n`);
  const code = attachSource(boot, control);
  assert.equal(code.split('\n').filter(Boolean).length, 1, 'one line: PyRun_SimpleString runs it as a statement');
  const r = spawnSync('python3', ['-c', `${code}\nimport __main__, json\nprint(json.dumps(sorted(k for k in vars(__main__) if not k.startswith('__'))))`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '["json"]\n', 'nothing of ours in __main__ (json is the check\'s own import)');
  assert.equal(readFileSync(out, 'utf8'), `_seam_bootstrap|${control}`);
});

test('integer answers as GDB and LLDB print them', () => {
  assert.equal(integerValue('140737354006528'), 140737354006528n);
  assert.equal(integerValue('0x00007ffff7ff0000'), 0x7ffff7ff0000n);
  assert.equal(integerValue('(unsigned long) $1 = 140737354006528'), 140737354006528n);
  assert.equal(integerValue('-1'), -1n);
  assert.equal(integerValue('<error>'), undefined);
});
