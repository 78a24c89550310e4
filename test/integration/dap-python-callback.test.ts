/**
 * Step in from native code into a Python callback (issue 4 §4): stopped at a native breakpoint on
 * a C line (`PyObject_CallFunctionObjArgs` in _mixed.c) or a Rust line (PyO3's `f.call1`) that
 * calls Python, a step in stops at the callback's first line, a Python frame on top; on native
 * lines that call no Python, a step in goes where the debugger's own step goes (the C or Rust
 * function called). The real adapter over the real debugger (`SEAM_DEBUGGER=lldb` for LLDB),
 * the program launched under Seam's bootstrap, once per pyenv interpreter (`SEAM_PYTHONS=3.12`
 * narrows it). Scenario: scenarios/pycallback.py; lines from `# #TAG` / `// #TAG` comments.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ADAPTER, Session, latencyLine, selectedPythons, spawnHeld, logFile as sessionLog } from '../debug/dapSession';
import { buildFixtures, scenarioEnv, tagLine, type FixturePaths } from '../debug/fixtures';

const TEST_MS = 120_000;
/** Generous against a loaded CI machine; the measured values are printed. */
const LATENCY_LIMIT_MS = 3000;

const versions = selectedPythons();
if (!existsSync(ADAPTER)) throw new Error(`${ADAPTER} missing: run node scripts/build.mjs`);
const latencies: number[] = [];

test('there are interpreters to test (a missing one fails, never skips)', () => {
  assert.ok(versions.length > 0, 'no pyenv CPython 3.10-3.13 found: see the README set-up');
});

describe('Step in from native code into Python callbacks (seam DAP adapter, bootstrap launch)', () => {
  after(() => {
    const line = latencyLine('native step in', latencies);
    if (line) console.log(line);
  });
  for (const python of versions) {
    describe(python, () => {
      let fx: FixturePaths;
      const sessions: Session[] = [];
      const script = (): string => join(fx.scenarios, 'pycallback.py');
      const cext = (): string => fx.sources.cext;
      const lib = (): string => join(fx.sources.pyo3, 'src', 'lib.rs');
      const engine = (): string => join(fx.sources.pyo3, 'src', 'engine.rs');

      before(async () => {
        fx = await buildFixtures(python);
      });

      after(async () => {
        await Promise.all(sessions.map((s) => s.close()));
      });

      /** A session on pycallback.py stopped at a native breakpoint (`file`, `tag`). */
      async function stoppedAt(name: string, file: string, tag: string, pyTags: string[] = []): Promise<{ s: Session; threadId: number; pyBps: DebugProtocol.Breakpoint[] }> {
        const s = new Session();
        sessions.push(s);
        await s.start();
        const init = s.next('initialized');
        await s.dc.launchRequest({
          type: 'seam', request: 'launch', program: script(), python: fx.python,
          env: { PYTHONPATH: fx.pythonPath, PYTHONDONTWRITEBYTECODE: '1' }, cwd: fx.scenarios, ...sessionLog('pycallback', name),
        } as DebugProtocol.LaunchRequestArguments);
        await init;
        await s.dc.setBreakpointsRequest({ source: { path: file }, breakpoints: [{ line: tagLine(file, tag) }] });
        const py = await s.dc.setBreakpointsRequest({ source: { path: script() }, breakpoints: pyTags.map((t) => ({ line: tagLine(script(), t) })) });
        await s.dc.configurationDoneRequest();
        const stop = await s.stopped();
        assert.equal(stop.body.reason, 'breakpoint', JSON.stringify(stop.body));
        const top = (await s.frames(stop.body.threadId!))[0];
        assert.equal(top.line, tagLine(file, tag), `first stop at ${tag}: ${top.name}:${top.line}`);
        // The breakpoint is done with: the rest of the run must not stop at it again.
        await s.dc.setBreakpointsRequest({ source: { path: file }, breakpoints: [] });
        return { s, threadId: stop.body.threadId!, pyBps: py.body.breakpoints };
      }

      /** A step in; its stop's reason and top frame (timed: request -> stopped). */
      async function stepIn(s: Session, threadId: number): Promise<{ reason: string; top: DebugProtocol.StackFrame; where: string }> {
        const t0 = Date.now();
        const stopped = s.stopped();
        await s.dc.stepInRequest({ threadId });
        const stop = await stopped;
        const ms = Date.now() - t0;
        latencies.push(ms);
        const top = (await s.frames(stop.body.threadId!))[0];
        const where = `${stop.body.reason} ${top.name} ${top.source?.path}:${top.line}\n${s.output('console')}`;
        assert.ok(ms < LATENCY_LIMIT_MS, `step in took ${ms} ms: ${where}`);
        return { reason: stop.body.reason, top, where };
      }

      async function toEnd(s: Session, threadId: number): Promise<void> {
        await s.dc.continueRequest({ threadId });
        assert.equal((await s.next('exited')).body.exitCode, 0, s.output());
        assert.match(s.output('stdout'), /result 16/);
      }

      /** The step ended as a step at `name`, line `tag` of `file`. */
      function assertStepAt(r: { reason: string; top: DebugProtocol.StackFrame; where: string }, name: string, file: string, tag: string): void {
        assert.equal(r.reason, 'step', r.where);
        assert.equal(r.top.name, name, r.where);
        assert.equal(r.top.source?.path, file, r.where);
        assert.equal(r.top.line, tagLine(file, tag), r.where);
      }

      test('from a C line calling a Python callable: the callback\'s first line', { timeout: TEST_MS }, async () => {
        const { s, threadId } = await stoppedAt('c', cext(), 'CALL');
        const r = await stepIn(s, threadId);
        assertStepAt(r, '[Py] twice', script(), 'TWICE_FIRST');
        await toEnd(s, threadId);
        assert.equal(s.all('stopped').length, 2, 'no stop after the step');
      });

      test('from a Rust line (PyO3 call1): the callback\'s first line', { timeout: TEST_MS }, async () => {
        const { s, threadId } = await stoppedAt('rust', lib(), 'CALL_BACK');
        const r = await stepIn(s, threadId);
        assertStepAt(r, '[Py] half', script(), 'HALF_FIRST');
        // Python steps go on from there: the callback's next line.
        const stopped = s.stopped();
        await s.dc.nextRequest({ threadId });
        assert.equal((await stopped).body.reason, 'step');
        const top = (await s.frames(threadId))[0];
        assert.equal(top.name, '[Py] half');
        assert.equal(top.line, tagLine(script(), 'HALF_FIRST') + 1);
        await toEnd(s, threadId);
      });

      test('step in at the end of C code called from Python: the calling Python line\'s next line', { timeout: TEST_MS }, async () => {
        const { s, threadId } = await stoppedAt('c-return', cext(), 'CALL_RETURN');
        let r = await stepIn(s, threadId);
        const seen: string[] = [];
        for (let i = 0; i < 6 && r.top.name.startsWith('[C] '); i++) {
          // Through the C frames' last lines (call_python, then mixed_call), never into libpython.
          assert.equal(r.top.source?.path, cext(), r.where);
          seen.push(`${r.top.name}:${r.top.line}`);
          r = await stepIn(s, threadId);
        }
        assert.equal(r.reason, 'step', `${r.where}\nafter ${seen.join(', ')}`);
        assert.equal(r.top.name, '[Py] main', `${r.where}\nafter ${seen.join(', ')}`);
        assert.equal(r.top.line, tagLine(script(), 'RUST_CALL'), r.where);
        await toEnd(s, threadId);
      });

      test('Python step in into C, a step in there, a step out: the calling Python line\'s next line', { timeout: TEST_MS }, async () => {
        // A Python breakpoint first: the session starts at the Python line that calls _mixed.call.
        const s = new Session();
        sessions.push(s);
        await s.start();
        const init = s.next('initialized');
        await s.dc.launchRequest({
          type: 'seam', request: 'launch', program: script(), python: fx.python,
          env: { PYTHONPATH: fx.pythonPath, PYTHONDONTWRITEBYTECODE: '1' }, cwd: fx.scenarios, ...sessionLog('pycallback', 'py-in-c'),
        } as DebugProtocol.LaunchRequestArguments);
        await init;
        await s.dc.setBreakpointsRequest({ source: { path: script() }, breakpoints: [{ line: tagLine(script(), 'C_CALL') }] });
        await s.dc.configurationDoneRequest();
        const threadId = (await s.stopped()).body.threadId!;
        await s.dc.setBreakpointsRequest({ source: { path: script() }, breakpoints: [] });
        let r = await stepIn(s, threadId);
        assert.equal(r.top.name, '[C] mixed_call', r.where);
        const first = r.top.line;
        r = await stepIn(s, threadId); // over PyArg_UnpackTuple (libpython): the next line of mixed_call
        assert.equal(r.reason, 'step', r.where);
        assert.equal(r.top.name, '[C] mixed_call', r.where);
        assert.ok(r.top.line > first, r.where);
        const stopped = s.stopped();
        await s.dc.stepOutRequest({ threadId });
        const stop = await stopped;
        const top = (await s.frames(threadId))[0];
        assert.equal(stop.body.reason, 'step');
        assert.equal(top.name, '[Py] main', `${top.name}:${top.line}`);
        assert.equal(top.line, tagLine(script(), 'RUST_CALL'));
        await toEnd(s, threadId);
      });

      test('step out of Rust code Python called: the calling Python line\'s next line; out of C called by C: its caller', { timeout: TEST_MS }, async () => {
        const { s, threadId } = await stoppedAt('out', lib(), 'PY_LEAF');
        let stopped = s.stopped();
        await s.dc.stepOutRequest({ threadId });
        let stop = await stopped;
        let top = (await s.frames(threadId))[0];
        assert.equal(stop.body.reason, 'step');
        assert.equal(top.name, '[Py] main', `${top.name} ${top.source?.path}:${top.line}`);
        assert.equal(top.line, tagLine(script(), 'PRINT'));
        await toEnd(s, threadId);

        const c = await stoppedAt('out-c', cext(), 'ADD');
        stopped = c.s.stopped();
        await c.s.dc.stepOutRequest({ threadId: c.threadId });
        stop = await stopped;
        top = (await c.s.frames(c.threadId))[0];
        assert.equal(stop.body.reason, 'step');
        assert.equal(top.name, '[C] mixed_add', `${top.name} ${top.source?.path}:${top.line}`);
        assert.equal(top.line, tagLine(cext(), 'ADD_CALL'));
        await toEnd(c.s, c.threadId);
      });

      test('step over a C line whose callback holds a Python breakpoint: it stops there; the step is over', { timeout: TEST_MS }, async () => {
        const { s, threadId, pyBps } = await stoppedAt('over-bp', cext(), 'CALL', ['TWICE_FIRST']);
        const stopped = s.stopped();
        await s.dc.nextRequest({ threadId });
        const stop = await stopped;
        assert.equal(stop.body.reason, 'breakpoint', JSON.stringify(stop.body));
        assert.deepEqual(stop.body.hitBreakpointIds, [pyBps[0].id]);
        const top = (await s.frames(threadId))[0];
        assert.equal(top.name, '[Py] twice');
        assert.equal(top.line, tagLine(script(), 'TWICE_FIRST'));
        await s.dc.setBreakpointsRequest({ source: { path: script() }, breakpoints: [] });
        // The native step the breakpoint interrupted does not stop later (LLDB would finish it).
        await toEnd(s, threadId);
        assert.equal(s.all('stopped').length, 2, JSON.stringify(s.all('stopped').map((e) => e.body)));
      });

      test('attach: from a C line calling a Python callable, the callback\'s first line', { timeout: TEST_MS }, async () => {
        const held = await spawnHeld(fx.python, script(), scenarioEnv(fx, { SEAM_HOLD: '1' }), fx.scenarios);
        const child = held.child;
        try {
          const s = new Session();
          sessions.push(s);
          await s.attach(child.pid!, fx.python, sessionLog('pycallback', 'attach'));
          await s.dc.setBreakpointsRequest({ source: { path: cext() }, breakpoints: [{ line: tagLine(cext(), 'CALL') }] });
          await s.dc.configurationDoneRequest();
          child.stdin!.write('go\n');
          const stop = await s.stopped();
          assert.equal(stop.body.reason, 'breakpoint', JSON.stringify(stop.body));
          const threadId = stop.body.threadId!;
          await s.dc.setBreakpointsRequest({ source: { path: cext() }, breakpoints: [] });
          const r = await stepIn(s, threadId);
          assertStepAt(r, '[Py] twice', script(), 'TWICE_FIRST');
          await s.dc.disconnectRequest({ terminateDebuggee: false });
          assert.equal(await held.exited(), 0, held.out());
          assert.match(held.out(), /result 16/);
        } finally {
          if (child.exitCode === null) child.kill('SIGKILL');
        }
      });

      test('from native lines that call no Python: into the C or Rust function called', { timeout: TEST_MS }, async () => {
        const { s, threadId } = await stoppedAt('plain-c', cext(), 'ADD_CALL');
        let r = await stepIn(s, threadId);
        assertStepAt(r, '[C] add_values', cext(), 'ADD_FIRST');
        // On to the Rust one, with a breakpoint there.
        const bp = await s.dc.setBreakpointsRequest({ source: { path: lib() }, breakpoints: [{ line: tagLine(lib(), 'PY_LEAF') }] });
        assert.equal(bp.body.breakpoints[0].verified, true);
        const stopped = s.stopped();
        await s.dc.continueRequest({ threadId });
        assert.equal((await stopped).body.reason, 'breakpoint');
        await s.dc.setBreakpointsRequest({ source: { path: lib() }, breakpoints: [] });
        r = await stepIn(s, threadId);
        assert.equal(r.reason, 'step', r.where);
        assert.match(r.top.name, /^\[Rust\] mixed_rs::engine::run/, r.where);
        assert.equal(r.top.source?.path, engine(), r.where);
        assert.equal(r.top.line, tagLine(engine(), 'RUN'), r.where);
        await toEnd(s, threadId);
      });
    });
  }
});
