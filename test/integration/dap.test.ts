/**
 * Seam's debug adapter at the DAP level: `@vscode/debugadapter-testsupport`'s DebugClient drives
 * the real adapter (`node dist/adapter.js`) over the real GDB on the debugger fixtures, once per
 * pyenv interpreter (`pythons()`; `SEAM_PYTHONS=3.12` narrows it, comma-separated). Lines come
 * from `#TAG` comments; every adapter, GDB and debuggee is bounded by timeouts and killed.
 * One fixture build per interpreter; tests run one after another (about 7 s per interpreter).
 * `SEAM_DAP_LOG_DIR=<dir>` makes each session write its DAP + GDB/MI traffic there.
 */
import { processState } from '../../src/debug/nativeStop';
import { DEBUGGER, DEBUGGER_DIED, DEBUGGER_LABEL, MISSING_DEBUGGER } from '../debug/debugger';
import { after, describe, before, test } from 'node:test';
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

/** Every DAP event the adapter sent, kept in order so none is lost between two awaits. */
class Session {
  readonly dc: DebugClient;
  private readonly seen = new Map<string, DebugProtocol.Event[]>();
  private readonly cursor = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  readonly pids = new Set<number>();
  private closed = false;

  constructor() {
    this.dc = new DebugClient('node', ADAPTER, 'seam', { stdio: ['pipe', 'pipe', 'pipe'] });
    this.dc.defaultTimeout = EVENT_MS;
    for (const name of ['initialized', 'stopped', 'continued', 'output', 'exited', 'terminated', 'breakpoint', 'thread']) {
      this.dc.on(name, (e: DebugProtocol.Event) => {
        let list = this.seen.get(name);
        if (!list) this.seen.set(name, (list = []));
        list.push(e);
        for (const w of [...this.waiters]) w();
      });
    }
  }

  async start(): Promise<void> {
    await this.dc.start();
    this.adapter?.stdin?.on('error', () => undefined); // EPIPE once the adapter is gone
    await this.dc.initializeRequest({ adapterID: 'seam', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  }

  all(name: string): DebugProtocol.Event[] {
    return this.seen.get(name) ?? [];
  }

  /** Forget the `name` events received so far (`next` waits for a later one). */
  skip(name: string): void {
    this.cursor.set(name, this.all(name).length);
  }

  /** All program output (and console lines) so far. */
  output(category?: string): string {
    return this.all('output').filter((e) => !category || e.body.category === category).map((e) => e.body.output as string).join('');
  }

  /** The next not yet consumed `name` event matching `pred`; fails after `ms`. */
  next(name: string, pred: (e: DebugProtocol.Event) => boolean = () => true, ms = EVENT_MS): Promise<DebugProtocol.Event> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const list = this.all(name);
        for (let i = this.cursor.get(name) ?? 0; i < list.length; i++) {
          if (pred(list[i])) {
            this.cursor.set(name, i + 1);
            return finish(() => resolve(list[i]));
          }
        }
        return false;
      };
      const finish = (f: () => void): true => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        f();
        return true;
      };
      const waiter = (): void => void check();
      const timer = setTimeout(() => finish(() => reject(new Error(
        `no '${name}' event within ${ms} ms; stopped events: ${JSON.stringify(this.all('stopped').map((e) => e.body))}; ` +
        `output: ${this.output().slice(-1500)}`))), ms);
      this.waiters.add(waiter);
      check();
    });
  }

  /** Output (any category) containing `text`. */
  async outputContaining(text: string, ms = EVENT_MS): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.output().includes(text)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no output containing ${JSON.stringify(text)}; output so far: ${this.output().slice(-1500)}`);
      await this.next('output', () => true, left).catch(() => undefined);
    }
  }

  async stopped(): Promise<DebugProtocol.StoppedEvent> {
    return (await this.next('stopped')) as DebugProtocol.StoppedEvent;
  }

  async frames(threadId: number): Promise<DebugProtocol.StackFrame[]> {
    return (await this.dc.stackTraceRequest({ threadId })).body.stackFrames;
  }

  /** The debuggee's pid, asked in a C frame of the stopped program. */
  async pidOf(frameId: number): Promise<number> {
    const r = await this.dc.evaluateRequest({ expression: '(int)getpid()', frameId, context: 'repl' });
    const pid = Number(r.body.result);
    assert.ok(pid > 0, `getpid() gave ${r.body.result}`);
    this.pids.add(pid);
    return pid;
  }

  private get adapter(): ChildProcess | undefined {
    return (this.dc as unknown as { _adapterProcess?: ChildProcess | null })._adapterProcess ?? undefined;
  }

  adapterPid(): number | undefined {
    return this.adapter?.pid;
  }

  /** SIGKILL to the adapter process (DebugClient's own stopAdapter is private). */
  killAdapter(): void {
    const a = this.adapter;
    if (a && a.exitCode === null && a.signalCode === null) a.kill('SIGKILL');
  }

  /** Ends the adapter (and its GDB and debuggee) whatever state it is in. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const a = this.adapter;
    const gdbs = childrenOf(a?.pid);
    if (a && a.exitCode === null && a.signalCode === null) {
      await withTimeout(this.dc.disconnectRequest({ terminateDebuggee: true }), 5000, 'disconnect').catch(() => undefined);
    }
    this.killAdapter();
    for (const pid of [...gdbs, ...this.pids]) killQuietly(pid);
  }
}

/** `p`, or a rejection naming `what` after `ms` (the timer never outlives the race). */
async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

let logs = 0;
/** With SEAM_DAP_LOG_DIR set, each session writes its DAP + MI traffic there (`logFile`). */
function logFile(name: string): { logFile?: string } {
  const dir = process.env.SEAM_DAP_LOG_DIR;
  return dir ? { logFile: join(dir, `${process.pid}-${++logs}-${name}.log`) } : {};
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A live process (a zombie is dead for our purposes). */
function alive(pid: number): boolean {
  return processState(pid).alive;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Direct children of `pid` (from /proc). */
function childrenOf(pid: number | undefined): number[] {
  if (!pid) return [];
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // raced with its exit
    }
  }
  return out;
}

/** Until `pid` is gone (bounded). */
async function waitGone(pid: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still alive after ${ms} ms`);
    await delay(20);
  }
}

const versions = selectedPythons();
if (!existsSync(ADAPTER)) throw new Error(`${ADAPTER} missing: run node scripts/build.mjs`);

test('there are interpreters to test (a missing one fails, never skips)', () => {
  assert.ok(versions.length > 0, 'no pyenv CPython 3.10-3.13 found: see the README set-up');
});

describe(`DAP adapter (seam) over ${DEBUGGER_LABEL}`, () => {
  for (const python of versions) {
    describe(python, () => {
      let fx: FixturePaths;
      const sessions: Session[] = [];
      const spawned: ChildProcess[] = [];
      const cext = (): string => fx.sources.cext;
      const engine = (): string => join(fx.sources.pyo3, 'src', 'engine.rs');
      const scenario = (name: string): string => join(fx.scenarios, `${name}.py`);

      before(async () => {
        fx = await buildFixtures(python);
      });

      after(async () => {
        await Promise.all(sessions.map((s) => s.close()));
        for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      });

      function launchArgs(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
        return {
          type: 'seam', request: 'launch', program: scenario(name), python: fx.python,
          env: { PYTHONPATH: fx.pythonPath, PYTHONDONTWRITEBYTECODE: '1' }, cwd: fx.scenarios, ...logFile(name), ...extra,
        };
      }

      async function open(): Promise<Session> {
        const s = new Session();
        sessions.push(s);
        await s.start();
        return s;
      }

      /** A session launched on `name`, breakpoints set by `setup` before configurationDone. */
      async function launched(name: string, setup: (s: Session) => Promise<void> = async () => undefined, extra: Record<string, unknown> = {}): Promise<Session> {
        const s = await open();
        const init = s.next('initialized');
        await s.dc.launchRequest(launchArgs(name, extra) as DebugProtocol.LaunchRequestArguments);
        await init;
        await setup(s);
        await s.dc.configurationDoneRequest();
        return s;
      }

      test('address-space randomization as outside the debugger; off only with disableAslr', { timeout: TEST_MS }, async () => {
        const ADDR_NO_RANDOMIZE = 0x0040000;
        for (const disableAslr of [undefined, true]) {
          const s = await launched('personality', async () => undefined, disableAslr === undefined ? {} : { disableAslr });
          assert.equal((await s.next('exited')).body.exitCode, 0);
          await s.next('terminated');
          const m = /personality ([0-9a-f]+)/.exec(s.output());
          assert.ok(m, `the program's output: ${s.output().slice(-500)}`);
          assert.equal((parseInt(m[1], 16) & ADDR_NO_RANDOMIZE) !== 0, disableAslr === true, `disableAslr ${disableAslr}: personality ${m[1]}`);
        }
      });

      test('nested: function + pending line breakpoint, merged stack, Python locals, C evaluate, run to the end', { timeout: TEST_MS }, async () => {
        const leafLine = tagLine(engine(), 'LEAF');
        let lineBp: DebugProtocol.Breakpoint | undefined;
        const s = await launched('nested', async (s) => {
          const f = await s.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'mixed_rs::engine::leaf' }] });
          assert.equal(f.body.breakpoints.length, 1);
          const l = await s.dc.setBreakpointsRequest({ source: { path: engine() }, breakpoints: [{ line: leafLine }] });
          lineBp = l.body.breakpoints[0];
          assert.equal(lineBp.verified, false, 'the line breakpoint is pending until mixed_rs loads');
        });
        const changed = await s.next('breakpoint', (e) => e.body.breakpoint.id === lineBp!.id && e.body.breakpoint.verified === true);
        assert.equal(changed.body.reason, 'changed');
        assert.equal(changed.body.breakpoint.line, leafLine);
        const stop = await s.stopped();
        assert.match(stop.body.reason, /breakpoint/);
        const threads = (await s.dc.threadsRequest()).body.threads;
        assert.ok(threads.some((t) => t.id === stop.body.threadId), `stopped thread ${stop.body.threadId} in ${JSON.stringify(threads)}`);

        const frames = await s.frames(stop.body.threadId!);
        const named = frames.filter((f) => f.presentationHint !== 'label');
        const names = named.map((f) => f.name);
        const at = (n: string): number => names.indexOf(n);
        assert.equal(names[0], '[Rust] mixed_rs::engine::leaf', names.join('\n'));
        assert.ok(at('[Py] innermost') > 0 && at('[C] mixed_call') > at('[Py] innermost'), names.join('\n'));
        assert.equal(named[0].line, leafLine);
        assert.equal(named[0].source?.origin, 'Rust');
        const py = (fn: string) => named[at(`[Py] ${fn}`)];
        const nested = scenario('nested');
        for (const [fn, tag] of [['innermost', 'LEAF_CALL'], ['middle', 'CALL_BACK_CALL'], ['outer', 'MIXED_CALL'], ['main', 'MAIN_CALL']]) {
          assert.ok(py(fn), `[Py] ${fn} in ${names.join(', ')}`);
          assert.equal(py(fn).source?.path, nested, fn);
          assert.equal(py(fn).line, tagLine(nested, tag), fn);
          assert.equal(py(fn).source?.origin, 'Python');
        }
        const mixedCall = named[at('[C] mixed_call')];
        assert.equal(mixedCall.source?.origin, 'C');
        assert.equal(mixedCall.source?.path, cext());
        const labels = frames.filter((f) => f.presentationHint === 'label');
        assert.ok(labels.length >= 2 && labels.every((f) => /interpreter frame/.test(f.name)), JSON.stringify(labels));
        assert.ok(!names.some((n) => /_PyEval_EvalFrameDefault|PyObject_Vectorcall/.test(n)), `glue shown: ${names.join(', ')}`);

        // A Python frame's locals: innermost(x) with x = 21.
        const scopes = (await s.dc.scopesRequest({ frameId: py('innermost').id })).body.scopes;
        assert.ok(scopes.length >= 1);
        const locals = (await s.dc.variablesRequest({ variablesReference: scopes[0].variablesReference })).body.variables;
        const x = locals.find((v) => v.name === 'x');
        assert.ok(x, JSON.stringify(locals));
        assert.match(x.value, /\bint\b.*\b21\b/);
        // Hover / watch of a local name in a Python frame: read from memory; anything else refused in words.
        const hover = await s.dc.evaluateRequest({ expression: 'x', frameId: py('innermost').id, context: 'hover' });
        assert.equal(hover.body.result, x.value);
        await assert.rejects(s.dc.evaluateRequest({ expression: 'x + 1', frameId: py('innermost').id, context: 'watch' }), /local names only/);
        await assert.rejects(s.dc.evaluateRequest({ expression: 'nope', frameId: py('innermost').id, context: 'watch' }), /nope is not a local of innermost/);

        // A C expression in a native frame (mixed_call's unpacked arguments).
        const ev = await s.dc.evaluateRequest({ expression: 'x->ob_type->tp_name', frameId: mixedCall.id, context: 'watch' });
        assert.match(ev.body.result, /"int"/);
        const pid = await s.pidOf(mixedCall.id);

        // To the end: the program's own stdout arrives as output events, then exited + terminated.
        await s.dc.continueRequest({ threadId: stop.body.threadId! });
        const exited = await s.next('exited');
        assert.equal(exited.body.exitCode, 0);
        await s.next('terminated');
        assert.match(s.output('stdout'), /leaf result 43/);
        assert.equal(s.all('stopped').length, 1, 'one stop: the two breakpoints share one location');
        await waitGone(pid);
      });

      test('values: PyObject * arguments as Python values; stepIn / next / stepOut in C', { timeout: TEST_MS }, async () => {
        const addCall = tagLine(cext(), 'ADD_CALL');
        const addLine = tagLine(cext(), 'ADD');
        const s = await launched('values', async (s) => {
          const r = await s.dc.setBreakpointsRequest({ source: { path: cext() }, breakpoints: [{ line: addCall }] });
          assert.equal(r.body.breakpoints.length, 1);
        });
        const expected: [RegExp, RegExp][] = [
          [/<str.*'seam'/, /<str.*'-debug'/],
          [/<int.*\b40\b/, /<int.*\b2\b/],
          [/<list.*len 2/, /<list.*len 1/],
          [/<dict.*len 1/, /<dict.*len 1/],
        ];
        for (const [i, [left, right]] of expected.entries()) {
          const stop = await s.stopped();
          const tid = stop.body.threadId!;
          let top = (await s.frames(tid))[0];
          assert.equal(top.name, '[C] mixed_add');
          assert.equal(top.line, addCall);
          await s.dc.stepInRequest({ threadId: tid });
          assert.equal((await s.stopped()).body.reason, 'step');
          top = (await s.frames(tid))[0];
          assert.equal(top.name, '[C] add_values');
          assert.ok(top.line <= addLine && top.line >= addLine - 2, `stepIn landed at ${top.line}, want the start of add_values (#ADD at ${addLine})`);
          const scopes = (await s.dc.scopesRequest({ frameId: top.id })).body.scopes;
          const vars = (await s.dc.variablesRequest({ variablesReference: scopes[0].variablesReference })).body.variables;
          const v = (n: string) => vars.find((x) => x.name === n)?.value ?? `(no ${n} in ${JSON.stringify(vars)})`;
          assert.match(v('left'), left, `call ${i}: left`);
          assert.match(v('right'), right, `call ${i}: right`);
          if (i === 2) {
            // A `PyObject *` list opens on its items, and on the C struct as the debugger reads it.
            const ref = vars.find((x) => x.name === 'left')!.variablesReference;
            const inside = (await s.dc.variablesRequest({ variablesReference: ref })).body.variables;
            assert.deepEqual(inside.filter((x) => x.name.startsWith('[')).map((x) => `${x.name} ${x.value}`), ['[0] <int> 1', '[1] <int> 2']);
            const struct = inside.find((x) => x.name === '(C struct)');
            assert.ok(struct && struct.variablesReference > 0, JSON.stringify(inside));
            const fields = (await s.dc.variablesRequest({ variablesReference: struct.variablesReference })).body.variables.map((x) => x.name);
            assert.ok(fields.some((f) => /ob_refcnt|ob_base|ob_type/.test(f)), fields.join(', '));
          }
          if (i === 0) {
            // A Python frame's local opened from memory: dict -> entry -> object -> attribute -> list.
            const main = (await s.frames(tid)).find((f) => f.name === '[Py] main');
            assert.ok(main, 'the [Py] main frame');
            const open = async (ref: number): Promise<Map<string, DebugProtocol.Variable>> =>
              new Map((await s.dc.variablesRequest({ variablesReference: ref })).body.variables.map((x) => [x.name, x]));
            const mainScopes = (await s.dc.scopesRequest({ frameId: main.id })).body.scopes;
            const inputs = (await open(mainScopes[0].variablesReference)).get('inputs');
            assert.ok(inputs && inputs.variablesReference > 0, `inputs can be opened: ${JSON.stringify(inputs)}`);
            const pair = (await open(inputs.variablesReference)).get("'pair'");
            assert.ok(pair && pair.variablesReference > 0, `'pair' can be opened: ${JSON.stringify(pair)}`);
            assert.match(pair.value, /<Pair object/);
            const attrs = await open(pair.variablesReference);
            assert.match(attrs.get('left')?.value ?? '', /<str.*'seam'/);
            assert.equal(attrs.get('left')?.variablesReference, 0, 'a str is shown whole');
            const items = await open(attrs.get('right')!.variablesReference);
            assert.deepEqual([...items.values()].map((x) => `${x.name} ${x.value}`), ['[0] <int> 1', '[1] <int> 2']);
            const ev = await s.dc.evaluateRequest({ expression: 'left->ob_type->tp_name', frameId: top.id, context: 'repl' });
            assert.match(ev.body.result, /"str"/);
            const before = top.line;
            await s.dc.nextRequest({ threadId: tid });
            await s.stopped();
            top = (await s.frames(tid))[0];
            assert.equal(top.name, '[C] add_values');
            assert.ok(top.line > before, `next: ${before} -> ${top.line}`);
            await s.dc.stepOutRequest({ threadId: tid });
            await s.stopped();
            top = (await s.frames(tid))[0];
            assert.equal(top.name, '[C] mixed_add');
            assert.equal(top.line, addCall);
          }
          await s.dc.continueRequest({ threadId: tid });
        }
        assert.equal((await s.next('exited')).body.exitCode, 0);
        await s.next('terminated');
        assert.match(s.output('stdout'), /add results \['seam-debug', 42, \[1, 2, 3\], \{'a': 1, 'b': \[2\]\}\]/);
      });

      test('disassembly around a C frame\'s pc, one instruction stepped, memory read at the pc and behind a pointer', { timeout: TEST_MS }, async () => {
        const addCall = tagLine(cext(), 'ADD_CALL');
        const s = await launched('values', async (s) => {
          await s.dc.setBreakpointsRequest({ source: { path: cext() }, breakpoints: [{ line: addCall }] });
        });
        const stop = await s.stopped();
        const tid = stop.body.threadId!;
        const top = (await s.frames(tid))[0];
        assert.equal(top.name, '[C] mixed_add');
        const ipr = top.instructionPointerReference;
        assert.match(ipr ?? '', /^0x[0-9a-f]+$/, 'a native frame carries its pc');
        const pythonFrame = (await s.frames(tid)).find((f) => f.name.startsWith('[Py]'));
        assert.equal(pythonFrame?.instructionPointerReference, undefined, 'a Python frame has no instruction pointer');
        const pc = BigInt(ipr!);
        // 8 instructions before the pc, the pc's, 15 after: in step (each starts where the last
        // ended), the pc's in mixed_add.
        const dis = (await s.dc.customRequest('disassemble', { memoryReference: ipr, instructionOffset: -8, instructionCount: 24 })).body.instructions as DebugProtocol.DisassembledInstruction[];
        assert.equal(dis.length, 24);
        assert.equal(BigInt(dis[8].address), pc, JSON.stringify(dis.slice(6, 10)));
        assert.ok(dis.every((d) => d.presentationHint !== 'invalid'), 'all 24 could be read');
        for (let k = 1; k < dis.length; k++) {
          const len = BigInt(dis[k - 1].instructionBytes!.trim().split(/\s+/).length);
          assert.equal(BigInt(dis[k].address), BigInt(dis[k - 1].address) + len, `instruction ${k} follows ${k - 1}: ${JSON.stringify(dis.slice(k - 1, k + 1))}`);
        }
        assert.match(dis[8].symbol ?? '', /mixed_add/);
        // The pc's source line comes with it (GDB's mode 5; over LLDB, Seam's DWARF reader's).
        assert.equal(dis[8].location?.path, cext(), JSON.stringify(dis[8]));
        assert.equal(dis[8].line, addCall);
        // The bytes at the pc, read as memory, are the instruction's.
        const mem = (await s.dc.customRequest('readMemory', { memoryReference: ipr, count: 16 })).body as DebugProtocol.ReadMemoryResponse['body'];
        const bytes = [...Buffer.from(mem!.data!, 'base64')].map((b) => b.toString(16).padStart(2, '0'));
        assert.deepEqual(bytes.slice(0, dis[8].instructionBytes!.split(/\s+/).length), dis[8].instructionBytes!.trim().split(/\s+/));
        // Bad arguments are refused in words, never an internal error.
        await assert.rejects(s.dc.customRequest('disassemble', { memoryReference: ipr, instructionOffset: 1.5, instructionCount: 4 }), /instructionOffset must be an integer/);
        await assert.rejects(s.dc.customRequest('disassemble', { memoryReference: 'main', instructionCount: 4 }), /not an address/);
        await assert.rejects(s.dc.customRequest('readMemory', { memoryReference: ipr, offset: -(2 ** 52), count: 4 }), /below 0/);
        // Memory that cannot be read is said so, not an error.
        const none = (await s.dc.customRequest('readMemory', { memoryReference: '0x10', count: 8 })).body as DebugProtocol.ReadMemoryResponse['body'];
        assert.equal(none!.unreadableBytes, 8);
        // A `PyObject *` local leads to its object's memory: a reference count, then its type.
        const scopes = (await s.dc.scopesRequest({ frameId: top.id })).body.scopes;
        const vars = (await s.dc.variablesRequest({ variablesReference: scopes[0].variablesReference })).body.variables;
        const args = vars.find((v) => v.name === 'args');
        assert.match(args?.memoryReference ?? '', /^0x[0-9a-f]+$/, JSON.stringify(args));
        const obj = (await s.dc.customRequest('readMemory', { memoryReference: args!.memoryReference, count: 16 })).body as DebugProtocol.ReadMemoryResponse['body'];
        assert.equal(Buffer.from(obj!.data!, 'base64').length, 16);
        // Set Value: a C local (answered as the program now has it), a field of a C struct (set to
        // what it holds: a reference count), and a Python local (refused, in words).
        const set = async (ref: number, name: string, value: string): Promise<DebugProtocol.SetVariableResponse['body']> =>
          (await s.dc.customRequest('setVariable', { variablesReference: ref, name, value })).body as DebugProtocol.SetVariableResponse['body'];
        const nulled = await set(scopes[0].variablesReference, 'result', '0');
        assert.match(nulled.value, /^(?:0x0+\b|NULL|\(nil\))/i, JSON.stringify(nulled));
        const again = (await s.dc.variablesRequest({ variablesReference: scopes[0].variablesReference })).body.variables.find((v) => v.name === 'result');
        assert.equal(again?.value, nulled.value);
        // `a`'s C struct: ob_refcnt is a member, or inside ob_base or 3.12's anonymous union.
        const holderOf = async (ref: number, depth: number): Promise<{ holder: number; value: string } | undefined> => {
          const list = (await s.dc.variablesRequest({ variablesReference: ref })).body.variables;
          const hit = list.find((f) => f.name === 'ob_refcnt');
          if (hit) return { holder: ref, value: hit.value };
          if (depth === 0) return undefined;
          for (const f of list) {
            if (f.variablesReference > 0 && /^(?:\(C struct\)|ob_base|<anonymous union>)$/.test(f.name)) {
              const inner = await holderOf(f.variablesReference, depth - 1);
              if (inner) return inner;
            }
          }
          return undefined;
        };
        const found = await holderOf(vars.find((v) => v.name === 'a')!.variablesReference, 3);
        assert.ok(found, `ob_refcnt is listed in a PyObject *'s C struct: ${JSON.stringify((await s.dc.variablesRequest({ variablesReference: vars.find((v) => v.name === 'a')!.variablesReference })).body.variables)}`);
        const { holder } = found;
        const refcnt = { value: found.value };
        const kept = await set(holder, 'ob_refcnt', refcnt.value);
        assert.equal(kept.value, refcnt.value);
        const main = (await s.frames(tid)).find((f) => f.name === '[Py] main')!;
        const mainScopes = (await s.dc.scopesRequest({ frameId: main.id })).body.scopes;
        await assert.rejects(set(mainScopes[0].variablesReference, 'inputs', 'None'), /read from the program's memory/);
        // One instruction over: the pc moves to the next instruction (or where a jump goes).
        await s.dc.nextRequest({ threadId: tid, granularity: 'instruction' });
        assert.equal((await s.stopped()).body.reason, 'step');
        const after = BigInt((await s.frames(tid))[0].instructionPointerReference!);
        if (/^(?:j|call|ret|bnd)/.test(dis[8].instruction.trim())) assert.notEqual(after, pc);
        else assert.equal(after, BigInt(dis[9].address), `after ${dis[8].instruction}`);
        await s.dc.setBreakpointsRequest({ source: { path: cext() }, breakpoints: [] });
        await s.dc.continueRequest({ threadId: tid });
        assert.equal((await s.next('exited')).body.exitCode, 0);
      });

      test('a data breakpoint on a C local stops where it is written; none on a Python value', { timeout: TEST_MS }, async () => {
        const addLine = tagLine(cext(), 'ADD');
        const s = await launched('values', async (s) => {
          await s.dc.setBreakpointsRequest({ source: { path: cext() }, breakpoints: [{ line: addLine }] });
        });
        const tid = (await s.stopped()).body.threadId!;
        const top = (await s.frames(tid))[0];
        assert.equal(top.name, '[C] add_values');
        const locals = (await s.dc.scopesRequest({ frameId: top.id })).body.scopes[0].variablesReference;
        const info = (await s.dc.customRequest('dataBreakpointInfo', { variablesReference: locals, name: 'sum' })).body as DebugProtocol.DataBreakpointInfoResponse['body'];
        assert.match(info.dataId ?? '', /^0x[0-9a-f]+:8$/, JSON.stringify(info));
        assert.match(info.description, /^sum \(8 bytes at 0x/);
        const main = (await s.frames(tid)).find((f) => f.name === '[Py] main')!;
        const pyLocals = (await s.dc.scopesRequest({ frameId: main.id })).body.scopes[0].variablesReference;
        const py = (await s.dc.customRequest('dataBreakpointInfo', { variablesReference: pyLocals, name: 'inputs' })).body as DebugProtocol.DataBreakpointInfoResponse['body'];
        assert.equal(py.dataId, null);
        assert.match(py.description, /Python values are read from memory/);
        // A field of a C struct: `left`'s ob_type, 8 bytes into the object.
        const localVars = (await s.dc.variablesRequest({ variablesReference: locals })).body.variables;
        const left = localVars.find((v) => v.name === 'left')!;
        const fieldsOf = async (ref: number): Promise<DebugProtocol.Variable[]> => (await s.dc.variablesRequest({ variablesReference: ref })).body.variables;
        let holder = left.variablesReference;
        let fields = await fieldsOf(holder);
        const struct = fields.find((f) => f.name === '(C struct)');
        if (struct) fields = await fieldsOf((holder = struct.variablesReference));
        assert.ok(fields.some((f) => f.name === 'ob_type'), JSON.stringify(fields));
        const field = (await s.dc.customRequest('dataBreakpointInfo', { variablesReference: holder, name: 'ob_type' })).body as DebugProtocol.DataBreakpointInfoResponse['body'];
        assert.equal(field.dataId, `0x${(BigInt(left.memoryReference!) + 8n).toString(16).padStart(16, '0')}:8`, JSON.stringify(field));
        const set = (await s.dc.customRequest('setDataBreakpoints', { breakpoints: [{ dataId: info.dataId, accessType: 'write' }] })).body as DebugProtocol.SetDataBreakpointsResponse['body'];
        assert.equal(set.breakpoints.length, 1);
        assert.ok(set.breakpoints[0].verified, JSON.stringify(set));
        await s.dc.setBreakpointsRequest({ source: { path: cext() }, breakpoints: [] });
        await s.dc.continueRequest({ threadId: tid });
        // `sum = PyNumber_Add(left, right)` writes it: the stop is there, said so.
        const hit = await s.stopped();
        assert.equal(hit.body.reason, 'data breakpoint', JSON.stringify(hit.body));
        assert.match(hit.body.description ?? '', /data breakpoint/);
        const at = (await s.frames(hit.body.threadId!))[0];
        assert.equal(at.name, '[C] add_values');
        assert.ok(at.line > addLine, `stopped at ${at.line}, after the write (#ADD is ${addLine})`);
        const now = (await s.dc.variablesRequest({ variablesReference: (await s.dc.scopesRequest({ frameId: at.id })).body.scopes[0].variablesReference })).body.variables.find((v) => v.name === 'sum');
        assert.match(now?.value ?? '', /<str.*'seam-debug'/, 'the new value is the sum');
        const cleared = (await s.dc.customRequest('setDataBreakpoints', { breakpoints: [] })).body as DebugProtocol.SetDataBreakpointsResponse['body'];
        assert.deepEqual(cleared.breakpoints, []);
        await s.dc.continueRequest({ threadId: hit.body.threadId! });
        assert.equal((await s.next('exited')).body.exitCode, 0);
      });

      test('recursion: hit count 3, a condition that is never true, a logpoint that does not stop', { timeout: TEST_MS }, async () => {
        const recurse = tagLine(cext(), 'RECURSE');
        const ret = recurse + 1; // `return result;` of recurse_step, hit on the way back up
        assert.match(readFileSync(cext(), 'utf8').split('\n')[ret - 1], /return result;/);
        const s = await launched('recursion', async (s) => {
          const r = await s.dc.setBreakpointsRequest({ source: { path: cext() }, breakpoints: [{ line: recurse, hitCondition: '3' }] });
          assert.equal(r.body.breakpoints.length, 1);
        });
        const stop = await s.stopped();
        const top = (await s.frames(stop.body.threadId!))[0];
        assert.equal(top.name, '[C] recurse_step');
        assert.equal(top.line, recurse);
        const depth = await s.dc.evaluateRequest({ expression: 'depth', frameId: top.id, context: 'repl' });
        assert.equal(depth.body.result, '598', 'third hit: depths 600, 599, 598');
        const r = await s.dc.setBreakpointsRequest({
          source: { path: cext() },
          breakpoints: [{ line: recurse, condition: 'depth < 0' }, { line: ret, condition: 'depth < 3', logMessage: 'up from {depth}' }],
        });
        assert.equal(r.body.breakpoints.length, 2);
        await s.dc.continueRequest({ threadId: stop.body.threadId! });
        assert.equal((await s.next('exited')).body.exitCode, 0);
        await s.next('terminated');
        assert.equal(s.all('stopped').length, 1, `stops: ${JSON.stringify(s.all('stopped').map((e) => e.body))}`);
        const logs = s.output().split('\n').filter((l) => l.startsWith('up from '));
        assert.deepEqual(logs, ['up from 0', 'up from 1', 'up from 2']);
        assert.match(s.output('stdout'), /python frames 1201/);
      });

      test('signals and panics: SIGSEGV, Rust panic, SIGABRT', { timeout: TEST_MS }, async () => {
        const cases: [string, (e: DebugProtocol.StoppedEvent) => void][] = [
          ['segfault', (e) => {
            assert.equal(e.body.reason, 'signal');
            assert.match(e.body.description ?? '', /SIGSEGV/);
            assert.match(e.body.description ?? '', /crash/);
          }],
          ['panic', (e) => assert.match(e.body.description ?? '', /^Rust panic/)],
          ['abort', (e) => {
            assert.equal(e.body.reason, 'signal');
            assert.match(e.body.description ?? '', /SIGABRT/);
          }],
        ];
        await Promise.all(cases.map(async ([name, check]) => {
          const s = await launched(name);
          const stop = await s.stopped();
          check(stop);
          const frames = await s.frames(stop.body.threadId!);
          assert.ok(frames.some((f) => f.name.startsWith('[Py] ')), `${name}: ${frames.map((f) => f.name).join(', ')}\n${s.output('console')}`);
          await s.dc.terminateRequest();
          await s.next('terminated');
        }));
      });

      test('terminate kills a launched program', { timeout: TEST_MS }, async () => {
        const s = await launched('nested', async (s) => {
          await s.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'mixed_call' }] });
        });
        const stop = await s.stopped();
        const top = (await s.frames(stop.body.threadId!))[0];
        assert.equal(top.name, '[C] mixed_call');
        const pid = await s.pidOf(top.id);
        await s.dc.terminateRequest();
        await s.next('terminated');
        await waitGone(pid);
      });

      test('attach to a held program: pause, all threads, stack, detach leaves it running', { timeout: TEST_MS }, async () => {
        const child = spawn(fx.python, [scenario('threads')], { env: scenarioEnv(fx, { SEAM_HOLD: '1' }), stdio: ['pipe', 'pipe', 'pipe'] });
        spawned.push(child);
        let out = '';
        child.stdout!.setEncoding('utf8');
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no READY from threads.py: ${out}`)), EVENT_MS);
          child.stdout!.on('data', (d: string) => {
            out += d;
            if (/^READY$/m.test(out)) { clearTimeout(timer); resolve(); }
          });
          child.once('exit', (c) => reject(new Error(`threads.py exited (${c}) before READY: ${out}`)));
        });
        const s = await open();
        const init = s.next('initialized');
        await s.dc.attachRequest({ type: 'seam', request: 'attach', processId: child.pid, python: fx.python, ...logFile('attach') } as DebugProtocol.AttachRequestArguments);
        await init;
        s.skip('continued'); // attaching resumes threads too: wait for the resume after configurationDone
        await s.dc.configurationDoneRequest();
        await s.next('continued');
        await s.dc.pauseRequest({ threadId: 0 });
        const stop = await s.stopped();
        assert.equal(stop.body.reason, 'pause', JSON.stringify(stop.body));
        const threads = (await s.dc.threadsRequest()).body.threads;
        assert.equal(threads.length, 5, JSON.stringify(threads));
        for (const w of ['worker-lock', 'worker-pipe', 'worker-queue', 'worker-select']) {
          assert.ok(threads.some((t) => t.name.includes(w)), `${w} in ${JSON.stringify(threads)}`);
        }
        const main = threads.find((t) => t.id === 1) ?? threads[0];
        const names = (await s.frames(main.id)).map((f) => f.name);
        assert.ok(names.includes('[Py] ready') && names.includes('[Py] main'), names.join(', '));
        await s.dc.disconnectRequest({ terminateDebuggee: false });
        await s.close(); // the adapter and its GDB go; the attached program must not
        assert.ok(alive(child.pid!), 'still running after detach');
        const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
        child.stdin!.end('go\n');
        assert.equal(await withTimeout(exited, EVENT_MS, 'threads.py after release'), 0, out);
        assert.match(out, /joined 4/);
      });

      test(`faults: missing ${DEBUGGER}, missing python`, { timeout: TEST_MS }, async () => {
        const s = await open();
        await assert.rejects(s.dc.launchRequest(launchArgs('nested', MISSING_DEBUGGER.option) as DebugProtocol.LaunchRequestArguments),
          (e: Error) => MISSING_DEBUGGER.message.test(e.message));
        const s2 = await open();
        await assert.rejects(s2.dc.launchRequest(launchArgs('nested', { python: '/nonexistent/python3' }) as DebugProtocol.LaunchRequestArguments),
          (e: Error) => /python not found/.test(e.message));
      });

      test('faults: debuggee killed from outside', { timeout: TEST_MS }, async () => {
        const s = await launched('nested', async (s) => {
          await s.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'mixed_call' }] });
        });
        const stop = await s.stopped();
        const pid = await s.pidOf((await s.frames(stop.body.threadId!))[0].id);
        // Killed while stopped (nothing holds a launched scenario running: stdin is /dev/null).
        process.kill(pid, 'SIGKILL');
        assert.equal((await s.next('exited')).body.exitCode, 128 + 9, 'killed by SIGKILL');
        await s.next('terminated');
        assert.equal(s.all('exited').length, 1);
      });

      test(`faults: ${DEBUGGER_LABEL} killed mid-session`, { timeout: TEST_MS }, async () => {
        const s = await launched('nested', async (s) => {
          await s.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'mixed_call' }] });
        });
        const stop = await s.stopped();
        const pid = await s.pidOf((await s.frames(stop.body.threadId!))[0].id);
        const gdbs = childrenOf(s.adapterPid());
        assert.equal(gdbs.length, 1, `adapter children: ${gdbs}`);
        process.kill(gdbs[0], 'SIGKILL');
        await s.next('terminated');
        assert.match(s.output(), DEBUGGER_DIED);
        killQuietly(pid);
      });
    });
  }
});
