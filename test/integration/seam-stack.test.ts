/**
 * `seam stack` over real GDB and real CPython builds (pyenv 3.10–3.13), on fixtures the tests
 * build themselves: the merged stack of each scenario, by line tags, through the CLI contract
 * (JSON shape, exit codes). The matrix is the interpreter list (SEAM_PYTHONS=3.12 narrows it).
 */
import { DEBUGGER_LABEL } from '../debug/debugger';
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, realpathSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { buildFixtures, pythons, tagLine, scenarioEnv, startHeld, type FixturePaths } from '../debug/fixtures';

const REPO = join(__dirname, '..', '..', '..');
const SEAM = join(REPO, 'bin', 'seam');
const DBG = join(REPO, 'test', 'fixtures', 'debug');
const ENGINE = join(DBG, 'pyo3', 'src', 'engine.rs');
const LIB = join(DBG, 'pyo3', 'src', 'lib.rs');
const MIXED = join(DBG, 'cext', '_mixed.c');

interface JFrame { language: string; function: string; file: string | null; line: number | null; glue: boolean }
interface JStack { threads: { id: number; name: string; frames: JFrame[] }[] }

function seam(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SEAM, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 1 << 28 });
  assert.equal(r.error, undefined, `seam ${args.join(' ')} did not finish: ${r.error}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function stackOf(args: string[], env: NodeJS.ProcessEnv): JStack {
  const r = seam(['stack', '--json', ...args], env);
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  const j = JSON.parse(r.stdout) as JStack;
  // The contract's shape, exactly.
  assert.deepEqual(Object.keys(j), ['threads']);
  for (const t of j.threads) {
    assert.deepEqual(Object.keys(t).sort(), ['frames', 'id', 'name']);
    for (const f of t.frames) assert.deepEqual(Object.keys(f).sort(), ['file', 'function', 'glue', 'language', 'line']);
  }
  return j;
}

/** The non-glue frames as `language function file:line` lines, innermost first. */
function shown(frames: JFrame[]): string[] {
  return frames.filter((f) => !f.glue).map((f) => `${f.language} ${f.function} ${f.file ? basename(f.file) : '-'}:${f.line ?? '-'}`);
}

function expectSubsequence(actual: string[], want: (string | RegExp)[], what: string): void {
  let i = 0;
  for (const a of actual) if (i < want.length && (typeof want[i] === 'string' ? a === want[i] : (want[i] as RegExp).test(a))) i++;
  assert.equal(i, want.length, `${what}: missing ${want[i]} in\n  ${actual.join('\n  ')}`);
}


const wanted = (process.env.SEAM_PYTHONS ?? '').split(',').filter(Boolean);
const interpreters = pythons().filter((py) => !wanted.length || wanted.some((w) => py.includes(w)));

test('there are interpreters to test', () => {
  assert.ok(interpreters.length > 0, 'no pyenv CPython 3.10–3.13 found (see README: set-up)');
});

for (const py of interpreters) {
  const version = /python(3\.\d+)/.exec(py)?.[1] ?? py;
  describe(`seam stack over ${DEBUGGER_LABEL} on CPython ${version} (${py})`, () => {
    let p: FixturePaths;
    let env: NodeJS.ProcessEnv;
    test('fixtures build', async () => {
      p = await buildFixtures(py);
      env = scenarioEnv(p);
    });

    test('nested: Python -> C -> Python -> Rust -> Python -> Rust, every frame in order at its line', () => {
      const j = stackOf(['--break', 'mixed_rs::engine::leaf', '--', p.python, join(p.scenarios, 'nested.py')], env);
      const nested = join(p.scenarios, 'nested.py');
      expectSubsequence(shown(j.threads[0].frames), [
        `rust mixed_rs::engine::leaf engine.rs:${tagLine(ENGINE, 'LEAF')}`,
        // LLDB names frames from symbols: no generic arguments (README: LLDB differences).
        /^rust mixed_rs::engine::run(<i64>)? engine\.rs:\d+$/,
        `rust mixed_rs::py_leaf lib.rs:${tagLine(LIB, 'PY_LEAF')}`,
        `python innermost nested.py:${tagLine(nested, 'LEAF_CALL')}`,
        `rust mixed_rs::call_back lib.rs:${tagLine(LIB, 'CALL_BACK')}`,
        `python middle nested.py:${tagLine(nested, 'CALL_BACK_CALL')}`,
        `c call_python _mixed.c:${tagLine(MIXED, 'CALL')}`,
        /^c mixed_call _mixed\.c:\d+$/,
        `python outer nested.py:${tagLine(nested, 'MIXED_CALL')}`,
        `python main nested.py:${tagLine(nested, 'MAIN_CALL')}`,
        /^python <module> nested\.py:\d+$/,
      ], 'merged stack');
      // Glue is present in JSON and marked; nothing is both glue and Python.
      const glue = j.threads[0].frames.filter((f) => f.glue);
      assert.ok(glue.some((f) => /_PyEval_EvalFrameDefault/.test(f.function)), 'eval loop frames are kept, marked glue');
      assert.ok(!glue.some((f) => f.language === 'python'));
    });

    test('recursion: more than 1,000 Python frames across the boundary, in order', () => {
      const j = stackOf(['--break', 'mixed_rs::engine::leaf', '--', p.python, join(p.scenarios, 'recursion.py')], env);
      const frames = j.threads[0].frames;
      const pyFrames = frames.filter((f) => f.language === 'python');
      assert.ok(pyFrames.length >= 1000, `${pyFrames.length} Python frames`);
      assert.equal(frames.find((f) => !f.glue)?.function, 'mixed_rs::engine::leaf');
      const cFrames = frames.filter((f) => f.language === 'c' && !f.glue && f.function.includes('recurse'));
      assert.ok(cFrames.length >= 500, `${cFrames.length} C recursion frames`);
      assert.equal(pyFrames[pyFrames.length - 1].function, '<module>');
    });

    test('threads: every thread, named, each in its own Python function', () => {
      const j = stackOf(['--break', 'mixed_rs::engine::leaf', '--', p.python, join(p.scenarios, 'threads.py')], env);
      assert.ok(j.threads.length >= 5, `${j.threads.length} threads`);
      const threadsPy = join(p.scenarios, 'threads.py');
      for (const tag of ['T_LOCK', 'T_PIPE', 'T_QUEUE', 'T_SELECT']) {
        const line = tagLine(threadsPy, tag);
        assert.ok(j.threads.some((t) => t.frames.some((f) => f.language === 'python' && f.line === line && f.file?.endsWith('threads.py'))), `a thread at ${tag} (threads.py:${line})`);
      }
      assert.ok(j.threads.some((t) => /worker/.test(t.name)), `thread names: ${j.threads.map((t) => t.name).join(', ')}`);
      // The main thread's OS name is the interpreter's: "MainThread" is read from threading._active.
      assert.ok(j.threads.some((t) => t.name === 'MainThread'), `thread names: ${j.threads.map((t) => t.name).join(', ')}`);
      // Threads are numbered as the debugger numbers them, 1..n, over GDB and LLDB alike (LLDB's
      // DAP server identifies them by OS thread id), the main thread 1.
      assert.deepEqual(j.threads.map((t) => t.id).sort((a, b) => a - b), j.threads.map((_, i) => i + 1), 'thread ids 1..n');
      assert.equal(j.threads.find((t) => t.name === 'MainThread')?.id, 1, 'the main thread is thread 1');
    });

    test('segfault: the first stop is the signal, innermost frame the crashing C line', () => {
      const r = seam(['stack', '--json', '--', p.python, join(p.scenarios, 'segfault.py')], env);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /stopped: SIGSEGV in crash\w* at _mixed\.c:\d+/);
      const j = JSON.parse(r.stdout) as JStack;
      const first = j.threads[0].frames.find((f) => !f.glue)!;
      assert.match(`${first.language} ${first.function} ${first.line}`, new RegExp(`^c crash\\w* ${tagLine(MIXED, 'CRASH')}$`));
      const seg = join(p.scenarios, 'segfault.py');
      expectSubsequence(shown(j.threads[0].frames), [`python boom segfault.py:${tagLine(seg, 'CRASH_CALL')}`], 'Python caller');
    });

    test('signals the program handles or ignores (SIGUSR1, SIGALRM, SIGPIPE) are not stops: the --break is', () => {
      const script = join(p.scenarios, 'pysignal.py');
      const r = seam(['stack', '--json', '--break', 'math_gcd', '--', p.python, script], env);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /stopped: breakpoint \d+ in math_gcd/);
      const j = JSON.parse(r.stdout) as JStack;
      expectSubsequence(shown(j.threads[0].frames), [`python <module> pysignal.py:${tagLine(script, 'GCD_CALL')}`], 'Python caller');
    });

    test('panic: stops at the Rust panic and says so', () => {
      const r = seam(['stack', '--json', '--', p.python, join(p.scenarios, 'panic.py')], env);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /stopped: Rust panic: mixed_rs panicked on purpose: panic_now\(\) was called in mixed_rs::engine::\w+ at engine\.rs:\d+/);
      const j = JSON.parse(r.stdout) as JStack;
      const panicPy = join(p.scenarios, 'panic.py');
      const first = shown(j.threads[0].frames)[0];
      assert.match(first, new RegExp(`^rust mixed_rs::engine::\\w+ engine\\.rs:${tagLine(ENGINE, 'PANIC')}$`), 'the panicking line first: panic machinery is folded');
      expectSubsequence(shown(j.threads[0].frames), [`python trigger panic.py:${tagLine(panicPy, 'PANIC_CALL')}`], 'panic stack');
    });

    test('attach by pid: prints, detaches, the program goes on', async () => {
      const child = await startHeld(p, 'nested.py');
      try {
        const j = stackOf(['--pid', String(child.pid)], {});
        const all = j.threads.flatMap((t) => shown(t.frames));
        assert.ok(all.some((s) => /^python innermost nested\.py:\d+$/.test(s)), all.join('\n'));
        const exit = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
        child.stdin!.end('go\n');
        assert.equal(await exit, 0, 'the program ran on to its end after the detach');
      } finally {
        child.kill('SIGKILL');
      }
    });

    test('1,100 threads: each keeps its Python frames and its threading name, main (the oldest) included', async () => {
      const child = await startHeld(p, 'many_threads.py');
      try {
        const j = stackOf(['--pid', String(child.pid)], {});
        assert.equal(j.threads.length, 1101);
        const script = join(p.scenarios, 'many_threads.py');
        const main = j.threads.find((t) => t.name === 'MainThread');
        assert.ok(main, 'the main thread, named');
        expectSubsequence(shown(main.frames), [`python hold many_threads.py:${tagLine(script, 'MANY_MAIN')}`], 'the main thread');
        const workers = j.threads.filter((t) => t !== main);
        assert.ok(workers.every((t) => shown(t.frames).some((s) => s === `python idle many_threads.py:${tagLine(script, 'MANY_IDLE')}`)), 'every worker in idle()');
        assert.equal(new Set(workers.map((t) => t.name)).size, 1100, 'every worker named');
        const long = workers.find((t) => t.name?.startsWith('long-'));
        assert.ok(long && long.name!.endsWith('…') && long.name!.length === 257, `a long name, cut with a mark: ${long?.name?.length}`);
      } finally {
        child.kill('SIGKILL');
      }
    });

    test('core file: the same merged stack from a core dump', async () => {
      const child = await startHeld(p, 'nested.py');
      const dir = mkdtempSync(join(tmpdir(), 'seam-core-'));
      const core = join(dir, 'nested.core');
      try {
        const g = spawnSync('gdb', ['-batch', '-nx', '-p', String(child.pid), '-ex', `gcore ${core}`], { encoding: 'utf8', timeout: 60_000 });
        assert.ok(existsSync(core), `gcore failed: ${g.stderr}`);
        const j = stackOf(['--core', core, '--python', p.python], {});
        const all = j.threads.flatMap((t) => shown(t.frames));
        expectSubsequence(all, [/^python innermost nested\.py:\d+$/, /^python middle nested\.py:\d+$/, /^c mixed_call _mixed\.c:\d+$/, /^python main nested\.py:\d+$/], 'core stack');
        // Opened with another program (the debugger would unwind garbage without a word): exit 2,
        // and the message names the program that dumped it.
        const other = ['/usr/bin/python3.11', '/usr/bin/python3', join(homedir(), '.pyenv/versions/3.10.13/bin/python3.10')]
          .find((x) => existsSync(x) && realpathSync(x) !== realpathSync(p.python));
        assert.ok(other, 'another Python to open the core with');
        const wrong = seam(['stack', '--core', core, '--python', other], {});
        assert.equal(wrong.status, 2, wrong.stdout + wrong.stderr);
        assert.equal(wrong.stdout, '');
        assert.match(wrong.stderr, new RegExp(`^seam: the core file was not dumped by ${other.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: its program was ${realpathSync(p.python).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
        const notCore = seam(['stack', '--core', p.python, '--python', p.python], {});
        assert.equal(notCore.status, 2);
        assert.match(notCore.stderr, /is not a core file of a 64-bit process/);
        const none = seam(['stack', '--core', join(dir, 'absent.core'), '--python', p.python], {});
        assert.equal(none.status, 2);
        assert.match(none.stderr, /^seam: no core file .*absent\.core\n$/);
      } finally {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    });

    if (version === '3.13') {
      test('3.13 with DWARF ignored (gdb --readnever): Python frames from _Py_DebugOffsets alone', () => {
        // No DWARF anywhere: the breakpoint is a plain ELF symbol of the C extension. GDB unwinds
        // (Seam's own unwinder would read the DWARF GDB is told to ignore).
        const j = stackOf(['--debugger', 'gdb', '--break', 'call_python', '--', p.python, join(p.scenarios, 'nested.py')], { ...env, SEAM_GDB_ARGS: '--readnever', SEAM_NATIVE_UNWIND: '0' });
        const nested = join(p.scenarios, 'nested.py');
        expectSubsequence(shown(j.threads[0].frames).map((s) => s.replace(/^native /, 'c ')), [
          /^c call_python -:-$/,
          `python outer nested.py:${tagLine(nested, 'MIXED_CALL')}`,
          `python main nested.py:${tagLine(nested, 'MAIN_CALL')}`,
          /^python <module> nested\.py:\d+$/,
        ], 'no-DWARF stack');
      });
    }
  });
}

describe('seam stack: errors say what to do, exit 2', () => {
  test('gdb missing', () => {
    const r = seam(['stack', '--debugger', 'gdb', '--gdb', '/nonexistent/gdb', '--pid', '1'], {});
    assert.equal(r.status, 2);
    assert.match(r.stderr, /gdb not found: install gdb or set `seam.gdbPath`/);
    assert.equal(r.stdout, '');
  });
  test('lldb-dap missing', () => {
    const r = seam(['stack', '--debugger', 'lldb', '--lldb-dap', '/nonexistent/lldb-dap', '--pid', '1'], {});
    assert.equal(r.status, 2);
    assert.match(r.stderr, /lldb-dap not found: install LLDB's DAP server .*or set `seam\.lldbDapPath`/);
    assert.equal(r.stdout, '');
  });
  test('an unknown debugger is a usage error', () => {
    const r = seam(['stack', '--debugger', 'windbg', '--pid', '1'], {});
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--debugger takes gdb, lldb or auto/);
  });
  test('python missing', () => {
    const r = seam(['stack', '--', '/nonexistent/python3', 'x.py'], {});
    assert.equal(r.status, 2);
    assert.match(r.stderr, /python not found/);
  });
  test('the program ends before any stop', () => {
    const r = seam(['stack', '--', interpreters[0] ?? 'python3', '-c', 'print("bye")'], {});
    assert.equal(r.status, 2);
    assert.match(r.stderr, /exited with code 0 before any stop/);
  });
  test('attach refused by ptrace: the message names kernel.yama.ptrace_scope', () => {
    assert.equal(process.getuid?.(), 0, 'this test runs as root (CI and set-up run as root) to try an attach as user nobody');
    const victim = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, SEAM, 'stack', '--pid', String(victim.pid)], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /refused by ptrace.*kernel\.yama\.ptrace_scope/);
    } finally {
      victim.kill('SIGKILL');
    }
  });
  test('no such process', () => {
    const r = seam(['stack', '--pid', '999999'], {});
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no process 999999/, 'says there is no such process (not a ptrace refusal)');
  });

  test('a Python line as --break: says it takes native locations', () => {
    const r = seam(['stack', '--break', 'app.py:3', '--', 'python3', 'app.py'], {});
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--break app\.py:3: seam stack stops at native locations/);
  });
});
