/**
 * Python line breakpoints in Seam's debug session (issue 4, first part): the real adapter
 * (`node dist/adapter.js`) over the real GDB, the program launched under Seam's bootstrap, once
 * per pyenv interpreter (`SEAM_PYTHONS=3.12` narrows it, comma-separated). The scenario is
 * scenarios/pybreak.py; lines come from its `# #TAG` comments. Every adapter, GDB and debuggee is
 * bounded by timeouts and killed. `SEAM_DAP_LOG_DIR=<dir>` writes each session's DAP + MI traffic.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ADAPTER, EVENT_MS, Session, selectedPythons, spawnHeld, logFile as sessionLog } from '../debug/dapSession';
import { buildFixtures, scenarioEnv, tagLine, type FixturePaths } from '../debug/fixtures';

const TEST_MS = 120_000;

const logFile = (name: string): { logFile?: string } => sessionLog('pybp', name);

const versions = selectedPythons();
if (!existsSync(ADAPTER)) throw new Error(`${ADAPTER} missing: run node scripts/build.mjs`);

test('there are interpreters to test (a missing one fails, never skips)', () => {
  assert.ok(versions.length > 0, 'no pyenv CPython 3.10-3.13 found: see the README set-up');
});

describe('Python line breakpoints (seam DAP adapter, bootstrap launch)', () => {
  for (const python of versions) {
    describe(python, () => {
      let fx: FixturePaths;
      const sessions: Session[] = [];
      const script = (): string => join(fx.scenarios, 'pybreak.py');
      const line = (tag: string): number => tagLine(script(), tag);

      before(async () => {
        fx = await buildFixtures(python);
      });

      after(async () => {
        await Promise.all(sessions.map((s) => s.close()));
      });

      /** A session on `program` (pybreak.py by default), breakpoints set by `setup` before
       * configurationDone. */
      async function launched(name: string, setup: (s: Session) => Promise<void>, program = script(), args = ['one', 'two']): Promise<Session> {
        const s = new Session();
        sessions.push(s);
        await s.start();
        const init = s.next('initialized');
        await s.dc.launchRequest({
          type: 'seam', request: 'launch', program, args, python: fx.python,
          env: { PYTHONPATH: fx.pythonPath, PYTHONDONTWRITEBYTECODE: '1' }, cwd: fx.scenarios, ...logFile(name),
        } as DebugProtocol.LaunchRequestArguments);
        await init;
        await setup(s);
        await s.dc.configurationDoneRequest();
        return s;
      }

      async function setPy(s: Session, bps: DebugProtocol.SourceBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
        const r = await s.dc.setBreakpointsRequest({ source: { path: script() }, breakpoints: bps });
        assert.equal(r.body.breakpoints.length, bps.length);
        for (const b of r.body.breakpoints) assert.equal(b.verified, true, JSON.stringify(b));
        return r.body.breakpoints;
      }

      async function toEnd(s: Session): Promise<void> {
        assert.equal((await s.next('exited')).body.exitCode, 0, s.output());
        await s.next('terminated');
        assert.match(s.output('stdout'), /total 110/);
      }

      test('a condition: stops once at the Python line, user frame on top, merged stack below', { timeout: TEST_MS }, async () => {
        let bp: DebugProtocol.Breakpoint | undefined;
        const s = await launched('condition', async (s) => {
          [bp] = await setPy(s, [{ line: line('STEP'), condition: 'i == 3' }]);
        });
        const stop = await s.stopped();
        assert.equal(stop.body.reason, 'breakpoint');
        assert.deepEqual(stop.body.hitBreakpointIds, [bp!.id]);
        const all = await s.frames(stop.body.threadId!);
        const frames = all.filter((f) => f.presentationHint !== 'label');
        const names = frames.map((f) => `${f.name}:${f.line}`).join('\n');
        assert.equal(frames[0].name, '[Py] step', names);
        assert.equal(frames[0].line, line('STEP'));
        assert.equal(frames[0].source?.path, script());
        assert.equal(frames[1].name, '[Py] main', names);
        assert.equal(frames[1].line, line('LOOP_STEP'));
        assert.equal(frames[2].name, '[Py] <module>', names);
        assert.ok(!frames.some((f) => /seam_bootstrap|runpy/.test(f.source?.path ?? '') || /sys_audit|_main\b/.test(f.name)), `trap or bootstrap frames shown:\n${names}`);
        // The rest of the merged stack: the native frames between and below, folded as glue.
        assert.ok(all.some((f) => f.presentationHint === 'label' && /interpreter frame/.test(f.name)), `no folded native frames: ${JSON.stringify(all.map((f) => f.name))}`);
        assert.match(await s.local(frames[0].id, 'i'), /\b3\b/);
        await s.dc.continueRequest({ threadId: stop.body.threadId! });
        await toEnd(s);
        assert.equal(s.all('stopped').length, 1);
      });

      test('Debug Console in Python frames: expressions and statements run in the program, in the selected frame; errors reported; breakpoints stay quiet', { timeout: TEST_MS }, async () => {
        const s = await launched('evaluate', async (s) => {
          await setPy(s, [{ line: line('STEP'), condition: 'i == 3' }]);
        });
        const stop = await s.stopped();
        const frames = (await s.frames(stop.body.threadId!)).filter((f) => f.presentationHint !== 'label');
        assert.equal(frames[1].name, '[Py] main');
        const ev = async (expression: string, frameId: number, context = 'repl'): Promise<string> =>
          (await s.dc.evaluateRequest({ expression, frameId, context })).body.result;
        assert.equal(await ev('i * 10 + 1', frames[0].id), '31');
        assert.equal(await ev('total + 1000', frames[1].id), '1036'); // the caller's local (0+2, +12, +22 so far)
        assert.equal(await ev('sorted({"b": 1, "a": 2})', frames[0].id, 'watch'), "['a', 'b']");
        // A call that reaches a breakpoint: it runs to the end, nothing stops.
        await setPy(s, [{ line: line('STEP'), condition: 'i == 3' }, { line: line('RET') }]);
        assert.equal(await ev('step(7)', frames[0].id), '70');
        assert.equal(await ev('seen = [i]', frames[0].id), 'None');
        await assert.rejects(s.dc.evaluateRequest({ expression: '1 / 0', frameId: frames[0].id, context: 'repl' }), /ZeroDivisionError/);
        await assert.rejects(s.dc.evaluateRequest({ expression: 'i + 1', frameId: frames[0].id, context: 'hover' }), /hover/);
        assert.equal(s.all('stopped').length, 1, JSON.stringify(s.all('stopped').map((e) => e.body)));
        await setPy(s, []);
        await s.dc.continueRequest({ threadId: stop.body.threadId! });
        await toEnd(s);
      });

      test('a hit count (% 2) stops at the 2nd and 4th hit; a logpoint prints and does not stop', { timeout: TEST_MS }, async () => {
        const s = await launched('hitcount', async (s) => {
          await setPy(s, [{ line: line('STEP'), hitCondition: '% 2' }, { line: line('RET'), logMessage: 'ret {scaled} at {i}' }]);
        });
        for (const want of ['1', '3']) {
          const stop = await s.stopped();
          const top = (await s.frames(stop.body.threadId!))[0];
          assert.equal(top.line, line('STEP'));
          assert.match(await s.local(top.id, 'i'), new RegExp(`\\b${want}\\b`));
          await s.dc.continueRequest({ threadId: stop.body.threadId! });
        }
        await toEnd(s);
        assert.equal(s.all('stopped').length, 2);
        const logged = s.output('console').split('\n').filter((l) => l.startsWith('ret '));
        assert.deepEqual(logged, ['ret 0 at 0', 'ret 10 at 1', 'ret 20 at 2', 'ret 30 at 3', 'ret 40 at 4']);
        assert.ok(!s.output().includes('\x1eseam-log'), 'logpoint lines are not shown raw');
      });

      test('Python and native breakpoints hit in order; a breakpoint added while stopped applies', { timeout: TEST_MS }, async () => {
        let stepBp: DebugProtocol.Breakpoint | undefined;
        const s = await launched('mixed', async (s) => {
          [stepBp] = await setPy(s, [{ line: line('STEP') }]);
          await s.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'mixed_add' }] });
        });
        const seen: string[] = [];
        let stop = await s.stopped();
        for (let k = 0; k < 3; k++) {
          const top = (await s.frames(stop.body.threadId!))[0];
          seen.push(top.name);
          if (k < 2) {
            await s.dc.continueRequest({ threadId: stop.body.threadId! });
            stop = await s.stopped();
          }
        }
        assert.deepEqual(seen, ['[Py] step', '[C] mixed_add', '[Py] step']);
        // Stopped at STEP with i == 1: add a breakpoint at RET, keep STEP.
        const bps = await setPy(s, [{ line: line('STEP') }, { line: line('RET') }]);
        await s.dc.continueRequest({ threadId: stop.body.threadId! });
        stop = await s.stopped();
        assert.deepEqual(stop.body.hitBreakpointIds, [bps[1].id]);
        const top = (await s.frames(stop.body.threadId!))[0];
        assert.equal(top.name, '[Py] step');
        assert.equal(top.line, line('RET'));
        assert.match(await s.local(top.id, 'scaled'), /\b10\b/);
        assert.notEqual(bps[1].id, stepBp!.id);
        // Clear everything: the rest runs through.
        await setPy(s, []);
        await s.dc.setFunctionBreakpointsRequest({ breakpoints: [] });
        await s.dc.continueRequest({ threadId: stop.body.threadId! });
        await toEnd(s);
      });

      test('no Python breakpoints: no hook installed, stdout as with a plain `python SCRIPT`', { timeout: TEST_MS }, async () => {
        const plain = await new Promise<string>((resolve, reject) => {
          const child = spawn(fx.python, [script(), 'one', 'two'], { cwd: fx.scenarios, env: scenarioEnv(fx, { PYTHONDONTWRITEBYTECODE: '1' }), stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('plain run timed out')); }, EVENT_MS);
          child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
          child.on('close', (code) => { clearTimeout(timer); code === 0 ? resolve(out) : reject(new Error(`plain run exited ${code}`)); });
        });
        assert.match(plain, /^hooks trace=None tool=None$/m);
        const s = await launched('nohooks', async () => undefined);
        await toEnd(s);
        assert.equal(s.output('stdout'), plain);
        assert.equal(s.all('stopped').length, 0);
      });

      test('threads are named with their `threading` names (not the 15-byte OS names), renames included', { timeout: TEST_MS }, async () => {
        const named = join(fx.scenarios, 'named_threads.py');
        const s = await launched('named', async (s) => {
          await s.dc.setBreakpointsRequest({ source: { path: named }, breakpoints: [{ line: tagLine(named, 'NAMED_STOP') }] });
        }, named, []);
        const stop = await s.stopped();
        assert.equal(stop.body.reason, 'breakpoint', JSON.stringify(stop.body));
        const names = (await s.dc.threadsRequest()).body.threads.map((t) => t.name);
        assert.ok(names.some((n) => n.startsWith('worker-with-a-long-threading-name')), names.join(', '));
        assert.ok(names.some((n) => n.startsWith('MainThread')), names.join(', '));
        await s.dc.continueRequest({ threadId: stop.body.threadId! });
        assert.equal((await s.next('exited')).body.exitCode, 0, s.output());
        assert.match(s.output('stdout'), /named done/);
      });

      for (const [tag, fn, what] of [['TICK', 'tick', 'the next call'], ['LOOP_CALL', 'loop', 'a loop already running, in a frame that never returns,']] as const) {
        test(`set while the program runs: a breakpoint stops ${what} in any thread (worker, then main)`, { timeout: TEST_MS }, async () => {
          const running = join(fx.scenarios, 'pyrunning.py');
          const stopFile = join(mkdtempSync(join(tmpdir(), 'seam-running-')), 'stop');
          const s = await launched(`running-${fn}`, async () => undefined, running, [stopFile]);
          while (!/^READY$/m.test(s.output('stdout'))) await s.next('output');
          const at = tagLine(running, tag);
          const stopIn = async (who: string, thread: RegExp): Promise<void> => {
            const r = await s.dc.setBreakpointsRequest({ source: { path: running }, breakpoints: [{ line: at, condition: `who == "${who}"` }] });
            assert.equal(r.body.breakpoints[0].verified, true, JSON.stringify(r.body));
            const stop = await s.stopped();
            assert.equal(stop.body.reason, 'breakpoint', JSON.stringify(stop.body));
            const frames = await s.frames(stop.body.threadId!);
            assert.equal(`${frames[0].name}:${frames[0].line}`, `[Py] ${fn}:${at}`, frames.map((f) => `${f.name}:${f.line}`).join(', '));
            const name = (await s.dc.threadsRequest()).body.threads.find((t) => t.id === stop.body.threadId)?.name ?? '';
            assert.match(name, thread, JSON.stringify({ stop: stop.body, threads: (await s.dc.threadsRequest()).body.threads }));
          };
          await stopIn('worker', /^worker/);
          await s.dc.setBreakpointsRequest({ source: { path: running }, breakpoints: [] });
          await s.dc.continueRequest({ threadId: 0 });
          await stopIn('main', /^MainThread/);
          await s.dc.setBreakpointsRequest({ source: { path: running }, breakpoints: [] });
          writeFileSync(stopFile, '');
          await s.dc.continueRequest({ threadId: 0 });
          assert.equal((await s.next('exited')).body.exitCode, 0, s.output());
          assert.match(s.output('stdout'), /running done/);
          assert.match(s.output('stdout'), /^worker traced False$/m, 'a trace function left behind');
          assert.match(s.output('stdout'), /^main traced False$/m, 'a trace function left behind');
          assert.equal(s.all('stopped').length, 2, 'one stop per thread');
        });
      }

      test('a comprehension line and a one-line loop stop once each time the line runs, not at each item (as on 3.12+)', { timeout: TEST_MS }, async () => {
        const comp = join(fx.scenarios, 'pycomp.py');
        const lines = [tagLine(comp, 'COMP'), tagLine(comp, 'ONE_LINE_LOOP')];
        const s = await launched('comp', async (s) => {
          const r = await s.dc.setBreakpointsRequest({ source: { path: comp }, breakpoints: lines.map((line) => ({ line })) });
          assert.ok(r.body.breakpoints.every((b) => b.verified), JSON.stringify(r.body));
        }, comp, []);
        const seen: string[] = [];
        for (let i = 0; i < 4; i++) {
          const stop = await s.stopped();
          assert.equal(stop.body.reason, 'breakpoint', JSON.stringify(stop.body));
          const frames = await s.frames(stop.body.threadId!);
          seen.push(`${frames[0].name}:${frames[0].line}`);
          await s.dc.continueRequest({ threadId: stop.body.threadId! });
        }
        const once = lines.map((l) => `[Py] squares:${l}`);
        assert.deepEqual(seen, [...once, ...once]);
        assert.equal((await s.next('exited')).body.exitCode, 0, s.output());
        assert.match(s.output('stdout'), /comp 14 41/);
        assert.equal(s.all('stopped').length, 4, `more stops than line runs: ${seen.join(', ')}`);
      });

      test('a module exec()d by a loader of its own (as pytest loads tests): breakpoints at its top level and in its function', { timeout: TEST_MS }, async () => {
        const main = join(fx.scenarios, 'pycustomload.py');
        const loaded = join(fx.scenarios, 'custom_loaded.py');
        const lines = [tagLine(loaded, 'MODULE_LEVEL'), tagLine(loaded, 'IN_FUNCTION')];
        const s = await launched('customload', async (s) => {
          const r = await s.dc.setBreakpointsRequest({ source: { path: loaded }, breakpoints: lines.map((line) => ({ line })) });
          assert.ok(r.body.breakpoints.every((b) => b.verified), JSON.stringify(r.body));
        }, main, []);
        for (const [name, at] of [['<module>', lines[0]], ['answer', lines[1]]] as const) {
          const stop = await s.stopped();
          assert.equal(stop.body.reason, 'breakpoint', JSON.stringify(stop.body));
          const frames = await s.frames(stop.body.threadId!);
          assert.equal(`${frames[0].name}:${frames[0].line}`, `[Py] ${name}:${at}`, frames.map((f) => `${f.name}:${f.line}`).join(', '));
          await s.dc.continueRequest({ threadId: stop.body.threadId! });
        }
        assert.equal((await s.next('exited')).body.exitCode, 0, s.output());
        assert.match(s.output('stdout'), /consts pickled True\ncustom 42/);
        assert.equal(s.all('stopped').length, 2, 'each line stops once');
      });

      test('attach: a Python breakpoint in a running program stops once the main thread runs Python again', { timeout: TEST_MS }, async () => {
        const nested = join(fx.scenarios, 'nested.py');
        const held = await spawnHeld(fx.python, nested, scenarioEnv(fx, { SEAM_HOLD: '1' }));
        const child = held.child;
        try {
          const s = new Session();
          sessions.push(s);
          await s.attach(child.pid!, fx.python, logFile('attach'));
          const at = tagLine(nested, 'LEAF_CALL');
          const [bp] = (await s.dc.setBreakpointsRequest({ source: { path: nested }, breakpoints: [{ line: at }] })).body.breakpoints;
          assert.ok(bp.verified, JSON.stringify(bp));
          await s.dc.configurationDoneRequest();
          assert.equal(s.all('stopped').length, 0, 'no stop before the program runs Python');
          child.stdin!.write('go\n');
          const stop = await s.stopped();
          assert.equal(stop.body.reason, 'breakpoint', JSON.stringify(stop.body));
          const frames = await s.frames(stop.body.threadId!);
          assert.equal(`${frames[0].name}:${frames[0].line}`, `[Py] innermost:${at}`, frames.map((f) => `${f.name}:${f.line}`).join(', '));
          await s.dc.disconnectRequest({ terminateDebuggee: false });
          assert.equal(await held.exited(), 0, held.out());
          assert.match(held.out(), /leaf result 43/);
        } finally {
          if (child.exitCode === null) child.kill('SIGKILL');
        }
      });
    });
  }
});
