/**
 * The debugger tests' native fixtures (test/debug/fixtures.ts), for each pyenv CPython 3.10-3.13:
 * they build (a second call comes from the cache), carry DWARF (and v0 names for the raw-FFI
 * module), and every scenario behaves as it says WITHOUT a debugger: runs through its stop point,
 * crashes with the right signal, or raises the right exception. Every process is bounded by a
 * timeout and killed in `finally`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtures, fixtureRoot, pythons, scenarioEnv, tagLine, type FixturePaths } from '../debug/fixtures';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs scenarios/<name>.py. With `hold`, SEAM_HOLD=1 is set and, when READY appears on stdout,
 * `onReady(stdoutSoFar)` is called and a line is written to release the scenario.
 */
async function runScenario(f: FixturePaths, name: string, opts: { hold?: boolean; onReady?: (soFar: string) => void } = {}): Promise<Run> {
  const child = spawn(f.python, [join(f.scenarios, `${name}.py`)], {
    env: scenarioEnv(f, opts.hold ? { SEAM_HOLD: '1' } : {}),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let released = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (opts.hold && !released && /^READY$/m.test(stdout)) {
      released = true;
      opts.onReady?.(stdout);
      child.stdin.end('go\n');
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (!opts.hold) child.stdin.end();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<Run>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${name}.py did not exit within 60 s\nstdout:\n${stdout}\nstderr:\n${stderr}`)), 60_000);
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

const lines = (s: string): string[] => s.split('\n').map((l) => l.trim()).filter(Boolean);
const why = (r: Run): string => `exit ${r.code} signal ${r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr.slice(-3000)}`;

function assertRanThrough(r: Run, expectedLine: string): void {
  assert.equal(r.code, 0, why(r));
  const out = lines(r.stdout);
  assert.ok(out.includes('READY'), `no READY line\n${why(r)}`);
  assert.ok(out.includes(expectedLine), `no line "${expectedLine}"\n${why(r)}`);
  assert.ok(out.indexOf('READY') < out.indexOf(expectedLine), `READY must come before "${expectedLine}"`);
}

test('fixture tags: no tag is on two lines of one file, and the ones the scenarios name exist', () => {
  const root = fixtureRoot();
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(c|rs|py)$/.test(e)) files.push(p);
    }
  };
  walk(root);
  let total = 0;
  for (const file of files) {
    const tags = [...readFileSync(file, 'utf8').matchAll(/(?:^|\s)#([A-Z][A-Z0-9_]*)(?!\w)/gm)].map((m) => m[1]);
    total += tags.length;
    for (const t of new Set(tags)) assert.equal(tagLine(file, t) > 0, true);
  }
  assert.ok(total >= 30, `only ${total} tags found under ${root}`);
  // The stop points the scenarios' docstrings promise.
  for (const [file, tag] of [
    ['pyo3/src/engine.rs', 'LEAF'], ['pyo3/src/engine.rs', 'RUN'], ['pyo3/src/engine.rs', 'PANIC'],
    ['pyo3/src/lib.rs', 'CALL_BACK'], ['cext/_mixed.c', 'CRASH'], ['cext/_mixed.c', 'ADD'],
    ['cext/_mixed.c', 'CALL'], ['cext/_mixed.c', 'RECURSE'], ['rawffi/rawffi.rs', 'SPIN'],
    ['scenarios/nested.py', 'LEAF_CALL'], ['scenarios/threads.py', 'THREADS_STOP'],
  ]) {
    assert.match(readFileSync(join(root, file), 'utf8').split('\n')[tagLine(file, tag) - 1], new RegExp(`#${tag}\\b`));
  }
  assert.throws(() => tagLine('scenarios/nested.py', 'LEAF'), /on 0 lines/); // LEAF is not LEAF_CALL
});

test('a missing tool is named, with what to do', async () => {
  assert.ok(pythons().length > 0, 'no pyenv CPython 3.10-3.13 found: see the README set-up');
  const saved = { SEAM_CACHE: process.env.SEAM_CACHE, CARGO: process.env.CARGO };
  const cache = mkdtempSync(join(tmpdir(), 'seam-fixtures-'));
  process.env.SEAM_CACHE = cache;
  process.env.CARGO = join(cache, 'no-such-cargo');
  try {
    await assert.rejects(buildFixtures(pythons()[0], { memo: false }), (e: Error) => {
      assert.equal(e.name, 'FixtureBuildError');
      assert.match(e.message, /cargo build of the PyO3 fixture.*no-such-cargo not found: install Rust/);
      return true;
    });
    assert.deepEqual(readdirSync(join(cache, 'fixtures')), [], 'a failed build must leave nothing behind');
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(cache, { recursive: true, force: true });
  }
});

const found = pythons();
if (found.length === 0) {
  test('fixtures for pyenv CPython 3.10-3.13', () => {
    assert.fail('no pyenv CPython 3.10-3.13 under ~/.pyenv/versions: a missing interpreter fails, never skips');
  });
}

for (const python of found) {
  const label = python.replace(/^.*\/versions\/([^/]+)\/.*$/, '$1');
  test(`fixtures for Python ${label}: build, cache, and every scenario without a debugger`, { timeout: 20 * 60_000 }, async (t) => {
    const f = await buildFixtures(python);
    assert.match(f.version, /^3\.1[0-3]\.\d+$/);
    assert.ok(f.pythonPath.split(':').every((d) => !d.startsWith(join(fixtureRoot(), '..', '..', '..'))), 'the cache must be outside the repo');

    await t.test('a second build is a cache hit, in well under a second', async () => {
      const again = await buildFixtures(python, { memo: false });
      assert.equal(again.cached, true);
      assert.equal(again.pythonPath, f.pythonPath);
      assert.ok(again.buildMs < 1000, `cached build took ${again.buildMs} ms`);
    });

    await t.test('the modules carry DWARF; the raw-FFI one has v0-mangled Rust names', () => {
      for (const so of [f.cext, f.pyo3, f.rawffi]) {
        assert.ok(readFileSync(so).includes('.debug_info'), `${so} has no .debug_info`);
      }
      const raw = readFileSync(f.rawffi);
      assert.ok(raw.includes('PyInit__rawffi'));
      assert.ok(raw.includes('6rawffi4spin') && raw.includes('_RNvCs'), 'no v0 symbol for rawffi::spin');
      assert.ok(readFileSync(f.pyo3).includes('PyInit_mixed_rs'));
    });

    await t.test('nested: Python -> C -> Python -> Rust -> Python -> Rust leaf, prints the result', async () => {
      assertRanThrough(await runScenario(f, 'nested'), 'leaf result 43');
    });

    await t.test('nested with SEAM_HOLD: waits after READY until released', async () => {
      let before = '';
      const r = await runScenario(f, 'nested', { hold: true, onReady: (s) => (before = s) });
      assert.ok(!before.includes('leaf result'), `ran on before being released: ${before}`);
      assertRanThrough(r, 'leaf result 43');
    });

    await t.test('recursion: over 1,000 Python frames across the C boundary, then Rust', async () => {
      const r = await runScenario(f, 'recursion');
      assert.equal(r.code, 0, why(r));
      const depth = Number(/^python frames (\d+)$/m.exec(r.stdout)?.[1]);
      assert.ok(depth >= 1000, `depth ${depth}\n${why(r)}`);
      assertRanThrough(r, `leaf result ${2 * depth + 1}`);
    });

    await t.test('threads: four named workers start and block, main stops, all join', async () => {
      const r = await runScenario(f, 'threads');
      for (const name of ['worker-lock', 'worker-pipe', 'worker-queue', 'worker-select']) {
        assert.ok(lines(r.stdout).includes(`started ${name}`), `${name} did not start\n${why(r)}`);
      }
      assert.ok(lines(r.stdout).includes('os names worker-lock,worker-pipe,worker-queue,worker-select'), why(r));
      assert.ok(lines(r.stdout).includes('all 4 blocked'), why(r));
      assertRanThrough(r, 'joined 4');
    });

    await t.test('gen_coro: suspended and active generators and coroutines', async () => {
      assertRanThrough(await runScenario(f, 'gen_coro'), "gen first 1, paused coroutine 'suspended', active result [0, 1, 5, 3]");
    });

    await t.test('values: add() on str, int, list and dict', async () => {
      assertRanThrough(await runScenario(f, 'values'), "add results ['seam-debug', 42, [1, 2, 3], {'a': 1, 'b': [2]}]");
    });

    await t.test('rawffi: through the raw-FFI spin() into a Python callback', async () => {
      assertRanThrough(await runScenario(f, 'rawffi'), 'spin result 3');
    });

    await t.test('segfault: dies by SIGSEGV in _mixed.crash()', async () => {
      const r = await runScenario(f, 'segfault');
      assert.equal(r.signal, 'SIGSEGV', why(r));
      assert.ok(lines(r.stdout).includes('READY') && !r.stdout.includes('not reached'), why(r));
    });

    await t.test('abort: dies by SIGABRT in _mixed.abort_now()', async () => {
      const r = await runScenario(f, 'abort');
      assert.equal(r.signal, 'SIGABRT', why(r));
    });

    await t.test('panic: a Rust panic surfaces as pyo3_runtime.PanicException, exit 1', async () => {
      const r = await runScenario(f, 'panic');
      assert.equal(r.code, 1, why(r));
      assert.match(r.stderr, /^pyo3_runtime\.PanicException: mixed_rs panicked on purpose/m, why(r));
      assert.ok(!r.stdout.includes('not reached'));
    });
  });
}
