/**
 * Python stepping in Seam's debug session (issue 4, second part): next / step in / step out at
 * Python lines, step in from a Python line into the C or Rust function it calls (`math.sqrt`,
 * `_mixed.call`, the PyO3 `mixed_rs.leaf`), step out of that function back to Python, and a
 * breakpoint reached during a step. The real adapter over the real GDB, the program launched
 * under Seam's bootstrap, once per pyenv interpreter (`SEAM_PYTHONS=3.12` narrows it). The
 * scenario is scenarios/pystep.py, lines from its `# #TAG` comments. Step latencies (request ->
 * stopped event) are printed as diagnostics. `SEAM_DAP_LOG_DIR=<dir>` writes each session's log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ADAPTER, Session, latencyLine, selectedPythons, logFile as sessionLog } from '../debug/dapSession';
import { buildFixtures, tagLine, type FixturePaths } from '../debug/fixtures';

const TEST_MS = 120_000;
/** Generous against a loaded CI machine; the measured values are printed. */
const LATENCY_LIMIT_MS = 1500;

const logFile = (name: string): { logFile?: string } => sessionLog('pystep', name);

const versions = selectedPythons();
if (!existsSync(ADAPTER)) throw new Error(`${ADAPTER} missing: run node scripts/build.mjs`);
const latencies: number[] = [];

test('there are interpreters to test (a missing one fails, never skips)', () => {
  assert.ok(versions.length > 0, 'no pyenv CPython 3.10-3.13 found: see the README set-up');
});

describe('Python stepping (seam DAP adapter, bootstrap launch)', () => {
  after(() => {
    const line = latencyLine('Python step', latencies);
    if (line) console.log(line);
  });
  for (const python of versions) {
    describe(python, () => {
      let fx: FixturePaths;
      const sessions: Session[] = [];
      const script = (): string => join(fx.scenarios, 'pystep.py');
      const line = (tag: string): number => tagLine(script(), tag);

      before(async () => {
        fx = await buildFixtures(python);
      });

      after(async () => {
        await Promise.all(sessions.map((s) => s.close()));
      });

      /** A session on pystep.py stopped at its first Python breakpoint (`tags`). */
      async function stoppedAt(name: string, tags: string[]): Promise<{ s: Session; threadId: number; bps: DebugProtocol.Breakpoint[] }> {
        const s = new Session();
        sessions.push(s);
        await s.start();
        const init = s.next('initialized');
        await s.dc.launchRequest({
          type: 'seam', request: 'launch', program: script(), python: fx.python,
          env: { PYTHONPATH: fx.pythonPath, PYTHONDONTWRITEBYTECODE: '1' }, cwd: fx.scenarios, ...logFile(name),
        } as DebugProtocol.LaunchRequestArguments);
        await init;
        const r = await s.dc.setBreakpointsRequest({ source: { path: script() }, breakpoints: tags.map((t) => ({ line: line(t) })) });
        for (const b of r.body.breakpoints) assert.equal(b.verified, true, JSON.stringify(b));
        await s.dc.configurationDoneRequest();
        const stop = await s.stopped();
        assert.equal(stop.body.reason, 'breakpoint');
        const top = (await s.frames(stop.body.threadId!))[0];
        assert.equal(top.line, line(tags[0]), `first stop at ${tags[0]}: ${top.name}:${top.line}`);
        return { s, threadId: stop.body.threadId!, bps: r.body.breakpoints };
      }

      /** One step; its stop's reason and top frame (timed: request -> stopped). */
      async function step(s: Session, threadId: number, kind: 'next' | 'stepIn' | 'stepOut'): Promise<{ reason: string; top: DebugProtocol.StackFrame; stop: DebugProtocol.StoppedEvent }> {
        const t0 = Date.now();
        const stopped = s.stopped();
        if (kind === 'next') await s.dc.nextRequest({ threadId });
        else if (kind === 'stepIn') await s.dc.stepInRequest({ threadId });
        else await s.dc.stepOutRequest({ threadId });
        const stop = await stopped;
        const ms = Date.now() - t0;
        latencies.push(ms);
        assert.ok(ms < LATENCY_LIMIT_MS, `${kind} took ${ms} ms`);
        const top = (await s.frames(stop.body.threadId!))[0];
        return { reason: stop.body.reason, top, stop };
      }

      function at(r: { reason: string; top: DebugProtocol.StackFrame }, name: string, tag: string, reason = 'step'): void {
        const where = `${r.reason} ${r.top.name} ${r.top.source?.path}:${r.top.line}`;
        assert.equal(r.reason, reason, where);
        assert.equal(r.top.name, name, where);
        assert.equal(r.top.line, line(tag), where);
        assert.equal(r.top.source?.path, script(), where);
      }

      async function toEnd(s: Session, threadId: number): Promise<void> {
        await s.dc.continueRequest({ threadId });
        assert.equal((await s.next('exited')).body.exitCode, 0, s.output());
        assert.match(s.output('stdout'), /total 27\.0/);
      }

      test('next, step in and step out between Python lines', { timeout: TEST_MS }, async () => {
        const { s, threadId } = await stoppedAt('python', ['OUT_CALL']);
        at(await step(s, threadId, 'stepIn'), '[Py] inner', 'IN_FIRST');
        at(await step(s, threadId, 'next'), '[Py] inner', 'IN_RET');
        at(await step(s, threadId, 'next'), '[Py] outer', 'OUT_NEXT'); // returns: the caller's next line
        at(await step(s, threadId, 'next'), '[Py] outer', 'OUT_RET');
        at(await step(s, threadId, 'stepOut'), '[Py] main', 'MAIN_NATIVES');
        at(await step(s, threadId, 'next'), '[Py] main', 'MAIN_PRINT'); // over natives() and its C and Rust calls
        await toEnd(s, threadId);
      });

      test('step out of a Python function and step over a call stay in their frames', { timeout: TEST_MS }, async () => {
        const { s, threadId } = await stoppedAt('out', ['IN_FIRST']);
        at(await step(s, threadId, 'stepOut'), '[Py] outer', 'OUT_NEXT');
        at(await step(s, threadId, 'stepOut'), '[Py] main', 'MAIN_NATIVES');
        at(await step(s, threadId, 'stepIn'), '[Py] natives', 'SQRT');
        at(await step(s, threadId, 'next'), '[Py] natives', 'CALL');
        at(await step(s, threadId, 'next'), '[Py] natives', 'LEAF_CALL'); // over C calling back into Python
        await toEnd(s, threadId);
      });

      test('a breakpoint reached during a step wins', { timeout: TEST_MS }, async () => {
        const { s, threadId, bps } = await stoppedAt('bpwins', ['OUT_CALL', 'IN_RET']);
        const r = await step(s, threadId, 'next');
        at(r, '[Py] inner', 'IN_RET', 'breakpoint');
        assert.deepEqual(r.stop.body.hitBreakpointIds, [bps[1].id]);
        // The step is over: a continue runs to the end.
        await toEnd(s, threadId);
        assert.equal(s.all('stopped').length, 2);
      });

      test('step into math.sqrt, _mixed.call and mixed_rs.leaf; step out back to Python', { timeout: TEST_MS }, async () => {
        const { s, threadId } = await stoppedAt('native', ['SQRT']);
        let r = await step(s, threadId, 'stepIn');
        assert.equal(r.reason, 'step');
        assert.equal(r.top.name, '[C] math_sqrt', `${r.top.name} ${r.top.source?.path}:${r.top.line}\n${s.output('console')}`);
        at(await step(s, threadId, 'stepOut'), '[Py] natives', 'CALL');
        r = await step(s, threadId, 'stepIn');
        assert.equal(r.top.name, '[C] mixed_call', `${r.top.name}\n${s.output('console')}`);
        assert.match(r.top.source?.path ?? '', /_mixed\.c$/);
        at(await step(s, threadId, 'stepOut'), '[Py] natives', 'LEAF_CALL'); // over the callback into twice()
        r = await step(s, threadId, 'stepIn');
        const where = `${r.top.name} ${r.top.source?.path}:${r.top.line}\n${s.output('console')}`;
        assert.equal(r.reason, 'step', where);
        assert.match(r.top.source?.path ?? '', /test\/fixtures\/debug\/pyo3\/src\/(lib|engine)\.rs$/, where);
        assert.match(r.top.name, /^\[Rust\] mixed_rs::/, where);
        assert.doesNotMatch(r.top.name, /pyo3|__pyfunction/, where);
        assert.equal(r.top.line, tagLine(join(fx.scenarios, '..', 'pyo3', 'src', 'lib.rs'), 'PY_LEAF'), where);
        at(await step(s, threadId, 'stepOut'), '[Py] natives', 'NATIVE_END');
        await toEnd(s, threadId);
      });
    });
  }
});
