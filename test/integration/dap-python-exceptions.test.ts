/**
 * Python exception breakpoints in Seam's debug session (issue 4 §1): the `uncaught` and `raised`
 * filters, over the real adapter (`node dist/adapter.js`) and the real GDB, the program launched
 * under Seam's bootstrap, once per pyenv interpreter (`SEAM_PYTHONS=3.12` narrows it). The scenario
 * is scenarios/pyexc.py (its first argument picks the case); lines come from its `# #TAG` comments.
 * Every adapter, GDB and debuggee is bounded by timeouts and killed. `SEAM_DAP_LOG_DIR=<dir>`
 * writes each session's DAP + MI traffic.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ADAPTER, EVENT_MS, Session, selectedPythons, logFile as sessionLog } from '../debug/dapSession';
import { buildFixtures, scenarioEnv, tagLine, type FixturePaths } from '../debug/fixtures';

const TEST_MS = 120_000;

const logFile = (name: string): { logFile?: string } => sessionLog('pyexc', name);

/** `python pyexc.py MODE` without any debugger: its exit code, stdout and stderr. */
function plainRun(fx: FixturePaths, script: string, mode: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(fx.python, [script, mode], { cwd: fx.scenarios, env: scenarioEnv(fx, { PYTHONDONTWRITEBYTECODE: '1' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('plain run timed out')); }, EVENT_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

const versions = selectedPythons();
if (!existsSync(ADAPTER)) throw new Error(`${ADAPTER} missing: run node scripts/build.mjs`);

test('there are interpreters to test (a missing one fails, never skips)', () => {
  assert.ok(versions.length > 0, 'no pyenv CPython 3.10-3.13 found: see the README set-up');
});

describe('Python exception breakpoints (seam DAP adapter, bootstrap launch)', () => {
  for (const python of versions) {
    describe(python, () => {
      let fx: FixturePaths;
      const sessions: Session[] = [];
      const script = (): string => join(fx.scenarios, 'pyexc.py');
      const line = (tag: string): number => tagLine(script(), tag);

      before(async () => {
        fx = await buildFixtures(python);
      });

      after(async () => {
        await Promise.all(sessions.map((s) => s.close()));
      });

      /** A session on `pyexc.py MODE` with these exception filters (sent before configurationDone). */
      async function launched(mode: string, filters: string[]): Promise<{ s: Session; caps: DebugProtocol.Capabilities }> {
        const s = new Session();
        sessions.push(s);
        const caps = await s.start();
        const init = s.next('initialized');
        await s.dc.launchRequest({
          type: 'seam', request: 'launch', program: script(), args: [mode], python: fx.python,
          env: { PYTHONPATH: fx.pythonPath, PYTHONDONTWRITEBYTECODE: '1' }, cwd: fx.scenarios, ...logFile(mode),
        } as DebugProtocol.LaunchRequestArguments);
        await init;
        const r = await s.dc.setExceptionBreakpointsRequest({ filters });
        assert.deepEqual((r.body?.breakpoints ?? []).map((b) => b.verified), filters.map(() => true), JSON.stringify(r.body));
        await s.dc.configurationDoneRequest();
        return { s, caps };
      }

      async function shown(s: Session, threadId: number): Promise<DebugProtocol.StackFrame[]> {
        const frames = (await s.frames(threadId)).filter((f) => f.presentationHint !== 'label');
        const names = frames.map((f) => `${f.name}:${f.line}`).join('\n');
        assert.ok(!frames.some((f) => /seam_bootstrap|runpy/.test(f.source?.path ?? '') || /sys_audit|_main\b|exc_stop|on_raise|on_unwind|local_trace/.test(f.name)), `trap or bootstrap frames shown:\n${names}`);
        return frames;
      }

      async function exitCode(s: Session): Promise<number> {
        const code = (await s.next('exited')).body.exitCode as number;
        await s.next('terminated');
        return code;
      }

      test('uncaught: stops with type and message, then exits 1 with the usual traceback', { timeout: TEST_MS }, async () => {
        const plain = await plainRun(fx, script(), 'uncaught');
        assert.equal(plain.code, 1, plain.stderr);
        const { s, caps } = await launched('uncaught', ['uncaught']);
        const filters = caps.exceptionBreakpointFilters ?? [];
        assert.deepEqual(filters.map((f) => [f.filter, !!f.default]), [['uncaught', true], ['raised', false]]);
        assert.equal(caps.supportsExceptionInfoRequest, true);
        const stop = await s.stopped();
        assert.equal(stop.body.reason, 'exception');
        assert.equal(stop.body.text, 'ValueError: bad value');
        assert.equal(stop.body.description, 'ValueError: bad value');
        const threadId = stop.body.threadId!;
        // The exception leaves the script's <module> frame: that frame, still alive, is on top.
        const frames = await shown(s, threadId);
        assert.equal(frames[0].name, '[Py] <module>');
        assert.equal(frames[0].line, line('MAIN'));
        assert.equal(frames[0].source?.path, script());
        const info = (await s.dc.exceptionInfoRequest({ threadId })).body;
        assert.equal(info.exceptionId, 'ValueError');
        assert.equal(info.description, 'bad value');
        assert.equal(info.breakMode, 'unhandled');
        assert.match(info.details?.stackTrace ?? '', new RegExp(`line ${line('RAISE')}, in fail[\\s\\S]*ValueError: bad value`));
        await s.dc.continueRequest({ threadId });
        assert.equal(await exitCode(s), 1, s.output());
        assert.equal(s.output('stderr'), plain.stderr);
        // (its `hooks` line names the hook the uncaught filter installed)
        const rest = (out: string): string => out.replace(/^hooks .*\n/m, '');
        assert.equal(rest(s.output('stdout')), rest(plain.stdout));
        assert.equal(s.all('stopped').length, 1);
      });

      test('raised: stops where a caught exception is raised, once; the program goes on', { timeout: TEST_MS }, async () => {
        const { s } = await launched('caught', ['raised', 'uncaught']);
        const stop = await s.stopped();
        assert.equal(stop.body.reason, 'exception');
        assert.equal(stop.body.text, 'ValueError: bad value');
        const threadId = stop.body.threadId!;
        const frames = await shown(s, threadId);
        const names = frames.map((f) => `${f.name}:${f.line}`).join('\n');
        assert.equal(frames[0].name, '[Py] fail', names);
        assert.equal(frames[0].line, line('RAISE'));
        assert.equal(frames[1].name, '[Py] caught', names);
        assert.equal(frames[1].line, line('CAUGHT_CALL'));
        assert.match(await s.local(frames[0].id, 'what'), /value/);
        const info = (await s.dc.exceptionInfoRequest({ threadId })).body;
        assert.equal(info.exceptionId, 'ValueError');
        assert.equal(info.breakMode, 'always');
        await s.dc.continueRequest({ threadId });
        assert.equal(await exitCode(s), 0, s.output());
        assert.match(s.output('stdout'), /^caught bad value\ndone caught\n$/m);
        assert.equal(s.all('stopped').length, 1, 'one stop: not again in the frames it passes through, not as uncaught');
      });

      test('raised in a C function (int("x")): the Python caller on top', { timeout: TEST_MS }, async () => {
        const { s } = await launched('cext', ['raised']);
        const stop = await s.stopped();
        assert.equal(stop.body.reason, 'exception');
        assert.equal(stop.body.text, "ValueError: invalid literal for int() with base 10: 'x'");
        const frames = await shown(s, stop.body.threadId!);
        const names = frames.map((f) => `${f.name}:${f.line}`).join('\n');
        assert.equal(frames[0].name, '[Py] parse', names);
        assert.equal(frames[0].line, line('CEXT'));
        assert.equal(frames[1].name, '[Py] main', names);
        assert.equal(frames[1].line, line('CEXT_CALL'));
        await s.dc.continueRequest({ threadId: stop.body.threadId! });
        assert.equal(await exitCode(s), 0, s.output());
        assert.match(s.output('stdout'), /^done cext$/m);
        assert.equal(s.all('stopped').length, 1);
      });

      test('uncaught in a thread: stops in the thread target, then threading prints it', { timeout: TEST_MS }, async () => {
        const { s } = await launched('thread', ['uncaught']);
        const stop = await s.stopped();
        assert.equal(stop.body.reason, 'exception');
        assert.equal(stop.body.text, 'ValueError: bad thread');
        const frames = await shown(s, stop.body.threadId!);
        assert.equal(frames[0].name, '[Py] fail', frames.map((f) => `${f.name}:${f.line}`).join('\n'));
        assert.equal(frames[0].line, line('RAISE'));
        await s.dc.continueRequest({ threadId: stop.body.threadId! });
        assert.equal(await exitCode(s), 0, s.output());
        assert.match(s.output('stderr'), /Exception in thread worker[\s\S]*ValueError: bad thread/);
        assert.match(s.output('stdout'), /^done thread$/m);
        assert.equal(s.all('stopped').length, 1);
      });

      test('no filter on: no hook installed; uncaught alone: a caught exception does not stop', { timeout: TEST_MS }, async () => {
        const plain = await plainRun(fx, script(), 'caught');
        assert.match(plain.stdout, /^hooks trace=None profile=None tool=None$/m);
        const { s } = await launched('caught', []);
        assert.equal(await exitCode(s), 0, s.output());
        assert.equal(s.output('stdout'), plain.stdout);
        assert.equal(s.all('stopped').length, 0);
        const { s: s2 } = await launched('caught', ['uncaught']);
        assert.equal(await exitCode(s2), 0, s2.output());
        assert.match(s2.output('stdout'), /^caught bad value\ndone caught$/m);
        assert.equal(s2.all('stopped').length, 0);
      });
    });
  }
});
