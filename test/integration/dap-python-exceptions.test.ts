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
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixtures, pythons, scenarioEnv, tagLine, type FixturePaths } from '../debug/fixtures';

const ADAPTER = join(__dirname, '..', '..', 'adapter.js');
const EVENT_MS = 30_000;
const TEST_MS = 120_000;

function selectedPythons(): string[] {
  const want = (process.env.SEAM_PYTHONS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const all = pythons();
  return want.length ? all.filter((p) => want.some((w) => p.endsWith(`python${w}`) || p.includes(`/${w}`))) : all;
}

/** Every DAP event the adapter sent, in order, so none is lost between two awaits. */
class Session {
  readonly dc: DebugClient;
  private readonly seen = new Map<string, DebugProtocol.Event[]>();
  private readonly cursor = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor() {
    this.dc = new DebugClient('node', ADAPTER, 'seam', { stdio: ['pipe', 'pipe', 'pipe'] });
    this.dc.defaultTimeout = EVENT_MS;
    for (const name of ['initialized', 'stopped', 'continued', 'output', 'exited', 'terminated', 'breakpoint']) {
      this.dc.on(name, (e: DebugProtocol.Event) => {
        let list = this.seen.get(name);
        if (!list) this.seen.set(name, (list = []));
        list.push(e);
        for (const w of [...this.waiters]) w();
      });
    }
  }

  async start(): Promise<DebugProtocol.Capabilities> {
    await this.dc.start();
    this.adapter?.stdin?.on('error', () => undefined);
    return (await this.dc.initializeRequest({ adapterID: 'seam', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' })).body ?? {};
  }

  all(name: string): DebugProtocol.Event[] {
    return this.seen.get(name) ?? [];
  }

  output(category?: string): string {
    return this.all('output').filter((e) => !category || e.body.category === category).map((e) => e.body.output as string).join('');
  }

  next(name: string, ms = EVENT_MS): Promise<DebugProtocol.Event> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const list = this.all(name);
        const i = this.cursor.get(name) ?? 0;
        if (i < list.length) {
          this.cursor.set(name, i + 1);
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(list[i]);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no '${name}' event within ${ms} ms; stopped: ${JSON.stringify(this.all('stopped').map((e) => e.body))}; output: ${this.output().slice(-1500)}`));
      }, ms);
      this.waiters.add(check);
      check();
    });
  }

  async stopped(): Promise<DebugProtocol.StoppedEvent> {
    return (await this.next('stopped')) as DebugProtocol.StoppedEvent;
  }

  async frames(threadId: number): Promise<DebugProtocol.StackFrame[]> {
    return (await this.dc.stackTraceRequest({ threadId })).body.stackFrames;
  }

  /** A local of a stack frame, as the Variables view shows it. */
  async local(frameId: number, name: string): Promise<string> {
    const scopes = (await this.dc.scopesRequest({ frameId })).body.scopes;
    assert.ok(scopes.length >= 1, 'a Locals scope');
    const vars = (await this.dc.variablesRequest({ variablesReference: scopes[0].variablesReference })).body.variables;
    const v = vars.find((x) => x.name === name);
    assert.ok(v, `${name} in ${JSON.stringify(vars)}`);
    return v.value;
  }

  private get adapter(): ChildProcess | undefined {
    return (this.dc as unknown as { _adapterProcess?: ChildProcess | null })._adapterProcess ?? undefined;
  }

  /** Ends the adapter and everything under it, whatever state it is in. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const a = this.adapter;
    const below = descendants(a?.pid);
    if (a && a.exitCode === null && a.signalCode === null) {
      await withTimeout(this.dc.disconnectRequest({ terminateDebuggee: true }), 5000, 'disconnect').catch(() => undefined);
      if (a.exitCode === null && a.signalCode === null) a.kill('SIGKILL');
    }
    for (const pid of below) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** All processes below `pid` (GDB and the program it runs), from /proc. */
function descendants(pid: number | undefined): number[] {
  if (!pid) return [];
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // raced with its exit
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [c, pp] of parent) if (pp === p) { out.push(c); walk(c); }
  };
  walk(pid);
  return out;
}

let logs = 0;
function logFile(name: string): { logFile?: string } {
  const dir = process.env.SEAM_DAP_LOG_DIR;
  return dir ? { logFile: join(dir, `${process.pid}-pyexc-${++logs}-${name}.log`) } : {};
}

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

describe('Python exception breakpoints (seam DAP adapter, bootstrap launch)', { skip: versions.length ? false : 'no pyenv CPython 3.10-3.13 found' }, () => {
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
