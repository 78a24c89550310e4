/**
 * `npm run bench` — what Python breakpoints cost a program that does not reach them, and how fast
 * a step stops (issue 4 §6). On each pyenv CPython 3.10-3.13, in the same run:
 *   plain    `python cpu_loop.py N`
 *   Seam     the same launched through the real adapter (`dist/adapter.js`, DebugClient):
 *            breakpoints in never_called() and on_error() of cpu_loop.py and one in another file
 *            (nested.py, never imported), configurationDone, until the `exited` event
 *   debugpy  debugpy from PyPI (scripts/setup-bench.sh puts one per interpreter under
 *            .vscode-test/bench-venv/debugpy/3.X): `debugpy.listen(("127.0.0.1", 0))` +
 *            `wait_for_client()` in the process, then the script; driven over loopback TCP by a
 *            minimal DAP client: initialize, attach, setBreakpoints (the same three),
 *            configurationDone, until the process exits
 * The scenario (test/fixtures/debug/scenarios/cpu_loop.py) times its own loop (perf_counter
 * around the loop only: no interpreter, GDB or debugpy start-up in it); that figure gives the
 * ratios to plain. Wall time (configurationDone -> exited, or process start -> exit for plain)
 * is printed beside it. Targets: <= 1.3x plain on 3.12+, <= 3x on 3.10/3.11, below debugpy.
 *
 * Step latency (request -> stopped event) through the same adapter on `cpu_loop.py steps N`:
 * per round, from the breakpoint at STEP_CALL: stepIn (Python) -> body, next (Python), stepIn
 * into math.sqrt (C), stepOut, stepIn into mixed_rs.leaf (PyO3, Rust), stepOut, continue.
 * Median and max per kind. Target < 150 ms.
 *
 * SEAM_BENCH_PYTHONS=3.12,3.13 narrows the interpreters (default: every pyenv 3.10-3.13);
 * SEAM_BENCH_PYRUNS the runs per peer (default 5, interleaved across the peers, each round with its
 * own environment padding (see pads()); the median is shown;
 * SEAM_BENCH_VERBOSE=1 prints each run's loop seconds on stderr); SEAM_BENCH_STEP_ROUNDS
 * the step rounds (default 10: 20 Python steps, 20 steps into native code, 20 step-outs);
 * SEAM_BENCH_VENV the bench venv's bin directory (debugpy is found beside it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { ADAPTER, EVENT_MS, Session, withTimeout } from '../debug/dapSession';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixtures, pythons, scenarioEnv, tagLine, type FixturePaths } from '../debug/fixtures';

const repo = join(__dirname, '..', '..', '..');
const venvBin = process.env.SEAM_BENCH_VENV ?? join(repo, '.vscode-test', 'bench-venv', 'bin');
const RUNS = Number(process.env.SEAM_BENCH_PYRUNS ?? 5);
const STEP_ROUNDS = Number(process.env.SEAM_BENCH_STEP_ROUNDS ?? 10);
const RUN_TIMEOUT_MS = 120_000;
const STEP_TARGET_MS = 150;

type Result<T> = T | { error: string };
interface LoopRun { loopS: number; wallS: number }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function loopSeconds(out: string, who: string): number {
  const m = /^loop ([\d.]+) s$/m.exec(out);
  if (!m) throw new Error(`${who} printed no "loop N s" line: ${JSON.stringify(out.slice(-300))}`);
  return Number(m[1]);
}

/** The breakpoints every debugger gets: none of them is ever reached. */
function breakpointsElsewhere(fx: FixturePaths): { path: string; lines: number[] }[] {
  const loop = join(fx.scenarios, 'cpu_loop.py');
  const other = join(fx.scenarios, 'nested.py');
  return [
    { path: loop, lines: [tagLine(loop, 'NEVER'), tagLine(loop, 'ON_ERROR')] },
    { path: other, lines: [tagLine(other, 'LEAF_CALL')] },
  ];
}

function killTree(p: ChildProcess | undefined): void {
  if (p && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

// ---- plain ------------------------------------------------------------------------------------

async function plain(fx: FixturePaths, pad: Pad): Promise<LoopRun> {
  const t0 = performance.now();
  const proc = spawn(fx.python, [join(fx.scenarios, 'cpu_loop.py')], { env: scenarioEnv(fx, pad), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  try {
    const code = await withTimeout(new Promise<number | null>((res) => proc.on('exit', (c) => res(c))), RUN_TIMEOUT_MS, 'plain run');
    if (code !== 0) throw new Error(`plain run exited ${code}: ${out.slice(-300)}`);
    return { loopS: loopSeconds(out, 'plain'), wallS: (performance.now() - t0) / 1000 };
  } finally {
    killTree(proc);
  }
}

// ---- Seam, through the real adapter -----------------------------------------------------------

/** A DebugClient on dist/adapter.js that keeps every event, so none is lost between awaits. */
/** The integration tests' DAP session, plus the bench's launch and breakpoint steps. */
class SeamSession extends Session {
  async launch(fx: FixturePaths, args: string[], pad: Pad = {}): Promise<void> {
    await this.start();
    const init = this.next('initialized');
    await this.dc.launchRequest({
      type: 'seam', request: 'launch', program: join(fx.scenarios, 'cpu_loop.py'), args, python: fx.python,
      env: { PYTHONPATH: fx.pythonPath, PYTHONDONTWRITEBYTECODE: '1', ...pad }, cwd: fx.scenarios,
    } as DebugProtocol.LaunchRequestArguments);
    await init;
  }

  async setBreakpoints(sets: { path: string; lines: number[] }[]): Promise<void> {
    for (const s of sets) {
      const r = await this.dc.setBreakpointsRequest({ source: { path: s.path }, breakpoints: s.lines.map((line) => ({ line })) });
      const bad = r.body.breakpoints.filter((b) => !b.verified);
      if (bad.length) throw new Error(`Seam did not verify breakpoints in ${s.path}: ${JSON.stringify(bad)}`);
    }
  }

  count(name: string): number {
    return this.all(name).length;
  }

  stdout(): string {
    return this.output('stdout');
  }
}

async function seam(fx: FixturePaths, pad: Pad): Promise<LoopRun> {
  const s = new SeamSession();
  try {
    await s.launch(fx, [], pad);
    await s.setBreakpoints(breakpointsElsewhere(fx));
    const exited = s.next('exited', RUN_TIMEOUT_MS);
    const t0 = performance.now();
    await s.dc.configurationDoneRequest();
    const ev = await exited;
    const wallS = (performance.now() - t0) / 1000;
    if (ev.body.exitCode !== 0) throw new Error(`under Seam the loop exited ${ev.body.exitCode}: ${s.stdout().slice(-300)}`);
    if (s.count('stopped')) throw new Error('Seam stopped although no breakpoint is reachable');
    return { loopS: loopSeconds(s.stdout(), 'Seam'), wallS };
  } finally {
    await s.close();
  }
}

// ---- debugpy, over loopback TCP ---------------------------------------------------------------

/** Just enough DAP over a socket: Content-Length framing, requests by seq, events kept in order. */
class TcpDap {
  private buf = Buffer.alloc(0);
  private seq = 1;
  private readonly pending = new Map<number, { resolve: (r: DebugProtocol.Response) => void; reject: (e: Error) => void }>();
  private readonly events: DebugProtocol.Event[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', () => undefined);
  }

  static open(port: number): Promise<TcpDap> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port }, () => resolve(new TcpDap(sock)));
      sock.once('error', reject);
    });
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /Content-Length: (\d+)/i.exec(this.buf.subarray(0, end).toString('ascii'));
      if (!m) throw new Error(`bad DAP header: ${this.buf.subarray(0, end).toString()}`);
      const len = Number(m[1]);
      if (this.buf.length < end + 4 + len) return;
      const msg = JSON.parse(this.buf.subarray(end + 4, end + 4 + len).toString('utf8')) as DebugProtocol.ProtocolMessage;
      this.buf = this.buf.subarray(end + 4 + len);
      if (msg.type === 'response') {
        const r = msg as DebugProtocol.Response;
        const p = this.pending.get(r.request_seq);
        this.pending.delete(r.request_seq);
        if (r.success) p?.resolve(r);
        else p?.reject(new Error(`${r.command}: ${r.message}`));
      } else if (msg.type === 'event') {
        this.events.push(msg as DebugProtocol.Event);
        for (const w of [...this.waiters]) w();
      } else if (msg.type === 'request') {
        // A reverse request (e.g. runInTerminal): refuse it.
        const q = msg as DebugProtocol.Request;
        this.write({ type: 'response', request_seq: q.seq, success: false, command: q.command, message: 'not supported' });
      }
    }
  }

  private write(m: object): void {
    const body = Buffer.from(JSON.stringify({ seq: this.seq++, ...m }), 'utf8');
    this.sock.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.sock.write(body);
  }

  request(command: string, args: object = {}): Promise<DebugProtocol.Response> {
    const seq = this.seq;
    const p = new Promise<DebugProtocol.Response>((resolve, reject) => this.pending.set(seq, { resolve, reject }));
    this.write({ type: 'request', command, arguments: args });
    return withTimeout(p, EVENT_MS, `debugpy ${command}`);
  }

  event(name: string, ms = EVENT_MS): Promise<DebugProtocol.Event> {
    return withTimeout(new Promise((resolve) => {
      const check = (): void => {
        const e = this.events.find((x) => x.event === name);
        if (e) { this.waiters.delete(check); resolve(e); }
      };
      this.waiters.add(check);
      check();
    }), ms, `debugpy '${name}' event`);
  }

  has(name: string): boolean {
    return this.events.some((e) => e.event === name);
  }

  close(): void {
    this.sock.destroy();
  }
}

/** debugpy for `fx.version`'s minor, or why there is none. */
function debugpyDir(fx: FixturePaths): Result<string> {
  const minor = /^3\.\d+/.exec(fx.version)?.[0];
  const dir = join(dirname(venvBin), 'debugpy', minor ?? '?');
  if (!existsSync(join(dir, 'debugpy', '__init__.py'))) return { error: `no debugpy in ${dir}: run bash scripts/setup-bench.sh` };
  return dir;
}

const DEBUGPY_WRAPPER = [
  'import runpy, sys, debugpy',
  'host, port = debugpy.listen(("127.0.0.1", 0))',
  'print("SEAM_DEBUGPY_PORT", port, flush=True)',
  'debugpy.wait_for_client()',
  'sys.argv = sys.argv[1:]',
  'runpy.run_path(sys.argv[0], run_name="__main__")',
].join('\n');

async function debugpy(fx: FixturePaths, dir: string, pad: Pad): Promise<LoopRun> {
  const env = scenarioEnv(fx, { PYTHONPATH: `${dir}:${fx.pythonPath}`, ...pad });
  const proc = spawn(fx.python, ['-c', DEBUGPY_WRAPPER, join(fx.scenarios, 'cpu_loop.py')], { env, cwd: fx.scenarios, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let dap: TcpDap | undefined;
  const exit = new Promise<number | null>((res) => proc.on('exit', (c) => res(c)));
  try {
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const port = await withTimeout(new Promise<number>((resolve, reject) => {
      proc.stdout.on('data', (d: string) => {
        out += d;
        const m = /SEAM_DEBUGPY_PORT (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      void exit.then((c) => reject(new Error(`debugpy process exited ${c} before listening: ${err.slice(-400)}`)));
    }), EVENT_MS, 'debugpy listen');
    dap = await TcpDap.open(port);
    await dap.request('initialize', { clientID: 'seam-bench', adapterID: 'python', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
    // debugpy answers attach only after configurationDone: send it, configure on `initialized`.
    const attached = dap.request('attach', { justMyCode: true, redirectOutput: false });
    attached.catch(() => undefined);
    await dap.event('initialized');
    for (const s of breakpointsElsewhere(fx)) {
      const r = await dap.request('setBreakpoints', { source: { path: s.path }, breakpoints: s.lines.map((line) => ({ line })) }) as DebugProtocol.SetBreakpointsResponse;
      const bad = r.body.breakpoints.filter((b) => !b.verified);
      if (bad.length) process.stderr.write(`bench: debugpy left breakpoints in ${s.path} unverified: ${JSON.stringify(bad)}\n`);
    }
    const t0 = performance.now();
    await dap.request('configurationDone');
    await attached;
    const code = await withTimeout(exit, RUN_TIMEOUT_MS, 'debugpy run');
    const wallS = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`under debugpy the loop exited ${code}: ${err.slice(-300)}`);
    if (dap.has('stopped')) {
      throw new Error('debugpy stopped although no breakpoint is reachable');
    }
    return { loopS: loopSeconds(out, 'debugpy'), wallS };
  } finally {
    dap?.close();
    killTree(proc);
  }
}

// ---- step latency -----------------------------------------------------------------------------

interface StepFigures { pyNext: number[]; pyStepIn: number[]; nativeStepIn: number[]; stepOut: number[]; misses: string[] }

async function stepLatency(fx: FixturePaths): Promise<StepFigures> {
  const script = join(fx.scenarios, 'cpu_loop.py');
  const line = (tag: string): number => tagLine(script, tag);
  const f: StepFigures = { pyNext: [], pyStepIn: [], nativeStepIn: [], stepOut: [], misses: [] };
  const s = new SeamSession();
  try {
    await s.launch(fx, ['steps', String(STEP_ROUNDS)]);
    await s.setBreakpoints([{ path: script, lines: [line('STEP_CALL')] }]);
    await s.dc.configurationDoneRequest();
    let stop = (await s.next('stopped')) as DebugProtocol.StoppedEvent;
    const threadId = stop.body.threadId!;
    const step = async (kind: 'next' | 'stepIn' | 'stepOut', into: number[], want: (top: DebugProtocol.StackFrame) => boolean, what: string): Promise<void> => {
      const stopped = s.next('stopped');
      const t0 = performance.now();
      if (kind === 'next') await s.dc.nextRequest({ threadId });
      else if (kind === 'stepIn') await s.dc.stepInRequest({ threadId });
      else await s.dc.stepOutRequest({ threadId });
      stop = (await stopped) as DebugProtocol.StoppedEvent;
      into.push(performance.now() - t0);
      const top = (await s.dc.stackTraceRequest({ threadId, levels: 1 })).body.stackFrames[0];
      if (!want(top)) f.misses.push(`${kind} to ${what} stopped in ${top?.name} ${top?.source?.path}:${top?.line}`);
    };
    const pyAt = (tag: string) => (t: DebugProtocol.StackFrame): boolean => t?.line === line(tag) && t.source?.path === script;
    for (let i = 0; i < STEP_ROUNDS; i++) {
      await step('stepIn', f.pyStepIn, pyAt('STEP_BODY'), 'body');
      await step('next', f.pyNext, pyAt('STEP_SQRT'), 'STEP_SQRT');
      await step('stepIn', f.nativeStepIn, (t) => t?.name === '[C] math_sqrt', 'math_sqrt');
      await step('stepOut', f.stepOut, pyAt('STEP_LEAF'), 'STEP_LEAF');
      await step('stepIn', f.nativeStepIn, (t) => /^\[Rust\] mixed_rs::/.test(t?.name ?? ''), 'mixed_rs::py_leaf');
      await step('stepOut', f.stepOut, pyAt('STEP_RET'), 'STEP_RET');
      const next = i + 1 < STEP_ROUNDS ? s.next('stopped') : s.next('exited');
      await s.dc.continueRequest({ threadId });
      await next;
    }
    return f;
  } finally {
    await s.close();
  }
}

// ---- the table --------------------------------------------------------------------------------

interface Row {
  python: string;
  plain: Result<LoopRun>;
  seam: Result<LoopRun>;
  debugpy: Result<LoopRun>;
  steps: Result<StepFigures>;
}

/**
 * The size of a process's environment moves its stack, and with it how fast CPython's eval loop
 * runs: on 3.13 here, 32 bytes more in the environment made the same loop under the same
 * debugger 1.01x or 1.09x of plain. Each round gives every peer the same padding variable, of a
 * length drawn for that round, so such layout luck is spread over the peers instead of falling
 * on one (Mytkowicz et al., "Producing wrong data without doing anything obviously wrong", 2009).
 */
type Pad = { SEAM_BENCH_PAD?: string };

function pads(n: number): Pad[] {
  let x = 0x9e3779b9; // a fixed sequence: runs of the bench are comparable
  return Array.from({ length: n }, () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return { SEAM_BENCH_PAD: 'x'.repeat((x >>> 8) % 512) };
  });
}

/** The peers' runs interleaved (plain, Seam, debugpy, plain, …), each round with its padding:
 *  a drift of the machine, and the environment's layout luck, weigh on all alike. Medians. */
async function interleaved(n: number, peers: { what: string; one: (pad: Pad) => Promise<LoopRun> }[]): Promise<Result<LoopRun>[]> {
  const all: (LoopRun[] | { error: string })[] = peers.map(() => []);
  for (const pad of pads(n)) {
    for (const [k, p] of peers.entries()) {
      const got = all[k];
      if ('error' in got) continue;
      try {
        got.push(await p.one(pad));
        if (process.env.SEAM_BENCH_VERBOSE) process.stderr.write(`${p.what} ${got[got.length - 1].loopS} (pad ${pad.SEAM_BENCH_PAD?.length ?? 0})\n`);
      } catch (e) {
        all[k] = { error: `${p.what}: ${(e as Error).message}` };
      }
    }
  }
  return all.map((r) => ('error' in r ? r : { loopS: median(r.map((x) => x.loopS)), wallS: median(r.map((x) => x.wallS)) }));
}

function fmtS(r: Result<LoopRun>): [string, string] {
  return 'error' in r ? ['n/a', 'n/a'] : [r.loopS.toFixed(3), r.wallS.toFixed(2)];
}

function ratio(r: Result<LoopRun>, base: Result<LoopRun>): number | undefined {
  return 'error' in r || 'error' in base ? undefined : r.loopS / base.loopS;
}

function ms(xs: number[]): string {
  return xs.length ? `${median(xs).toFixed(0)}/${Math.max(...xs).toFixed(0)}` : 'n/a';
}

async function main(): Promise<void> {
  const all = pythons().filter((p) => !p.startsWith('/usr/'));
  const want = process.env.SEAM_BENCH_PYTHONS || 'all';
  const minors = want.split(',').map((v) => v.trim());
  const chosen = want === 'all' ? all : all.filter((p) => minors.some((m) => p.endsWith(`python${m}`)));
  if (!chosen.length) {
    console.log(`pytrace bench: no pyenv CPython ${want} found (3.10-3.13): skipped`);
    return;
  }
  if (!existsSync(ADAPTER)) throw new Error(`${ADAPTER} missing: run node scripts/build.mjs`);
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const python of chosen) {
    const fx = await buildFixtures(python);
    process.stderr.write(`bench: pytrace ${fx.version} ...\n`);
    const dir = debugpyDir(fx);
    const [plainRun, seamRun, debugpyRun] = await interleaved(RUNS, [
      { what: 'plain', one: (pad: Pad) => plain(fx, pad) },
      { what: 'Seam', one: (pad: Pad) => seam(fx, pad) },
      ...(typeof dir === 'string' ? [{ what: 'debugpy', one: (pad: Pad) => debugpy(fx, dir, pad) }] : []),
    ]);
    const row: Row = {
      python: fx.version,
      plain: plainRun,
      seam: seamRun,
      debugpy: typeof dir === 'string' ? debugpyRun : dir,
      steps: await stepLatency(fx).catch((e: Error) => ({ error: `steps: ${e.message}` })),
    };
    rows.push(row);
    for (const r of [row.plain, row.seam, row.debugpy, row.steps]) if ('error' in r) notes.push(`${fx.version} ${r.error}`);
    if (!('error' in row.steps)) for (const m of row.steps.misses) notes.push(`${fx.version} step: ${m}`);
  }

  console.log(`pytrace: a CPU-bound loop (cpu_loop.py) with 3 breakpoints it never reaches; loop seconds (timed inside the script, median of ${RUNS}), wall seconds, ratios to plain.`);
  const head = ['python', 'plain loop', 'Seam loop', 'debugpy loop', 'Seam x', 'debugpy x', 'target', 'Seam ok', '< debugpy', 'plain wall', 'Seam wall', 'debugpy wall'];
  const lines = [head];
  for (const r of rows) {
    const target = /^3\.1[01]\./.test(r.python) ? 3 : 1.3;
    const sx = ratio(r.seam, r.plain);
    const dx = ratio(r.debugpy, r.plain);
    lines.push([
      r.python, fmtS(r.plain)[0], fmtS(r.seam)[0], fmtS(r.debugpy)[0],
      sx === undefined ? 'n/a' : `${sx.toFixed(2)}x`, dx === undefined ? 'n/a' : `${dx.toFixed(2)}x`, `<=${target}x`,
      sx === undefined ? 'n/a' : sx <= target ? 'yes' : 'NO',
      sx === undefined || dx === undefined ? 'n/a' : sx < dx ? 'yes' : 'NO',
      fmtS(r.plain)[1], fmtS(r.seam)[1], fmtS(r.debugpy)[1],
    ]);
  }
  printTable(lines);
  console.log('wall: plain = process start -> exit; Seam = configurationDone -> exited event (GDB, bootstrap, interpreter start); ' +
    'debugpy = configurationDone -> process exit (debugpy.listen + wait_for_client in the process, DAP over loopback).');

  console.log(`\nstep latency through dist/adapter.js (request -> stopped event), ms median/max over ${STEP_ROUNDS} rounds of cpu_loop.py steps; target < ${STEP_TARGET_MS} ms`);
  const sHead = ['python', 'py stepIn', 'py next', 'python (all)', 'stepIn native', 'stepOut native', `all < ${STEP_TARGET_MS}`];
  const sLines = [sHead];
  for (const r of rows) {
    if ('error' in r.steps) { sLines.push([r.python, 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a']); continue; }
    const st = r.steps;
    const every = [...st.pyStepIn, ...st.pyNext, ...st.nativeStepIn, ...st.stepOut];
    sLines.push([r.python, ms(st.pyStepIn), ms(st.pyNext), ms([...st.pyStepIn, ...st.pyNext]), ms(st.nativeStepIn), ms(st.stepOut),
      every.every((x) => x < STEP_TARGET_MS) ? 'yes' : `NO (${every.filter((x) => x >= STEP_TARGET_MS).length}/${every.length})`]);
  }
  printTable(sLines);
  console.log('stepIn native: into math.sqrt (C) and mixed_rs.leaf (PyO3 -> its Rust body); stepOut native: from there back to the Python line.');
  for (const n of notes) console.log(`  note: ${n}`);
}

function printTable(lines: string[][]): void {
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const l of lines) console.log(l.map((c, i) => c.padStart(widths[i])).join('  '));
}

main().catch((e) => {
  process.stderr.write(`pytrace bench failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
