/**
 * `npm run bench` — mixed stacks: the time from a stop to a complete merged stack, against three
 * peers on the same parked process in the same run:
 *   Seam      `StackService.snapshot()` over the GDB backend, timed from the `stopped` event;
 *             cold (first stop after attach: layout detection, GDB's first unwind) and warm
 *             (median of later stops: continue + pause, the memory cache dropped each time);
 *             1st pause: a first session ever in a new process, paused once Seam's unwinder has
 *             prepared while the program ran (native/prepare.ts)
 *   DAP       the same through the real adapter: `stopped` event -> `stackTrace` response
 *   py-bt     CPython's gdb helper (`python3.X-gdb.py`), `source`d into the same GDB, timed over MI
 *   py-spy    `py-spy dump --native --pid` (wall time of the command), GDB detached
 *   pystack   `pystack remote --native PID` (wall time of the command), GDB detached
 * The scenario (test/fixtures/debug/scenarios/depth.py N) parks with exactly N Python frames,
 * crossing C every 100 levels, blocked in C reading stdin. Figures only; no pass/fail: the
 * target (ahead of all three, under 100 ms for 50 frames) is printed beside them.
 *
 * SEAM_BENCH_PYTHONS=all runs every interpreter pythons() finds, =3.10,3.13 those (default: 3.12); SEAM_BENCH_STOPS the
 * number of warm stops (default 7); SEAM_BENCH_VENV the bin directory holding py-spy/pystack
 * (default .vscode-test/bench-venv/bin, made by scripts/setup-bench.sh).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createGdbBackend } from '../../src/debug/gdb/backend';
import { createLldbBackend } from '../../src/debug/lldb/backend';
import type { Gdb } from '../../src/debug/gdb/gdb';
import type { DebugBackend } from '../../src/debug/backend';
import type { SessionUnwinder } from '../../src/debug/native/sessionUnwinder';
import { StackService, type Snapshot } from '../../src/debug/stackService';
import * as mi from '../../src/debug/mi/commands';
import { buildFixtures, pythons, scenarioEnv, type FixturePaths } from '../debug/fixtures';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

const repo = join(__dirname, '..', '..', '..');
const ADAPTER = join(__dirname, '..', '..', 'adapter.js');
const venvBin = process.env.SEAM_BENCH_VENV ?? join(repo, '.vscode-test', 'bench-venv', 'bin');
const WARM_STOPS = Number(process.env.SEAM_BENCH_STOPS ?? 7);
// "Cold" is a first session ever: the DWARF layout is asked of the debugger, not taken from the
// cache later sessions use (SEAM_LAYOUT_CACHE: layoutCache.ts).
process.env.SEAM_LAYOUT_CACHE ??= '0';
const PEER_RUNS = 3;
const DEPTHS = [50, 1000];
const TARGET_MS = 100;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Starts depth.py N held (SEAM_HOLD=1) and resolves once it printed READY. */
async function park(paths: FixturePaths, n: number): Promise<{ proc: ChildProcessWithoutNullStreams; pyFrames: number }> {
  const proc = spawn(paths.python, [join(paths.scenarios, 'depth.py'), String(n)], {
    env: scenarioEnv(paths, { SEAM_HOLD: '1' }), stdio: 'pipe',
  });
  let out = '';
  const ready = new Promise<number>((resolve, reject) => {
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d: string) => {
      out += d;
      const m = /python frames (\d+)\nREADY\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.on('exit', (code) => reject(new Error(`depth.py ${n} exited ${code} before READY: ${out}`)));
  });
  try {
    return { proc, pyFrames: await withTimeout(ready, 20_000, `depth.py ${n} READY`) };
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
}

interface SeamFigures {
  attachMs: number;
  coldMs: number;
  warmMs: number[];
  miCold: number;
  miWarm: number;
  pyFramesSeen: number;
  totalFrames: number;
  pyBt: { ms: number[]; frames: number } | { error: string };
}

function mainThreadPyFrames(s: Snapshot, lwp: number): { py: number; all: number } {
  const t = s.threads.find((x) => x.lwp === lwp) ?? s.threads[0];
  return { py: t?.frames.filter((f) => f.language === 'python').length ?? 0, all: t?.frames.length ?? 0 };
}

/** Sessions run so far (names the trace files of several sessions on one process). */
let sessions = 0;

async function seam(paths: FixturePaths, pid: number, debuggerKind: 'gdb' | 'lldb' = 'gdb', opts: { warmStops?: number; pyBt?: boolean } = {}): Promise<SeamFigures> {
  let sent = 0;
  const t0 = performance.now();
  const trace = process.env.SEAM_BENCH_TRACE; // a file: every MI line with its time, for profiling
  const traced: string[] = [];
  const log = (l: string): void => {
    if (l.startsWith('>')) sent++;
    if (trace) traced.push(`${(performance.now() - t0).toFixed(2)} ${l.slice(0, 300)}`);
  };
  const backend: DebugBackend = debuggerKind === 'lldb' ? await createLldbBackend({ log }) : await createGdbBackend({ log });
  try {
    // Each stop: the time from the `stopped` event to a complete merged stack.
    const svc = new StackService(backend);
    let onStop: ((ms: number, s: Snapshot) => void) | undefined;
    let onError: ((e: unknown) => void) | undefined;
    backend.on('stopped', () => {
      const start = performance.now();
      const before = sent;
      svc.invalidate();
      svc.snapshot().then((s) => { miCount = sent - before; onStop?.(performance.now() - start, s); }, (err) => onError?.(err));
    });
    let miCount = 0;
    const nextStop = () => withTimeout(new Promise<{ ms: number; s: Snapshot }>((resolve, reject) => {
      onStop = (ms, s) => resolve({ ms, s });
      onError = reject;
    }), 30_000, 'stop + snapshot');

    // Attaching stops the process without a `stopped` event (the backend's own stop): the cold
    // figure starts when attach() resolves, the process stopped.
    await backend.attach(pid);
    const attachMs = performance.now() - t0;
    const sentBefore = sent;
    const c0 = performance.now();
    const coldSnap = await withTimeout(svc.snapshot(), 30_000, 'first snapshot');
    const cold = { ms: performance.now() - c0, s: coldSnap };
    const miCold = sent - sentBefore;
    let stop: Promise<{ ms: number; s: Snapshot }>;
    const seen = mainThreadPyFrames(cold.s, pid);
    const warmMs: number[] = [];
    let miWarm = 0;
    for (let i = 0; i < (opts.warmStops ?? WARM_STOPS); i++) {
      stop = nextStop();
      await backend.continue();
      await backend.pause();
      const w = await stop;
      warmMs.push(w.ms);
      miWarm = miCount;
      const again = mainThreadPyFrames(w.s, pid);
      if (again.py !== seen.py) process.stderr.write(`bench: stop ${i + 2} saw ${again.py} Python frames, the first ${seen.py}\n`);
    }
    const pyBt = debuggerKind === 'gdb' && opts.pyBt !== false ? await timePyBt(backend, paths) : { error: 'GDB only' };
    return { attachMs, coldMs: cold.ms, warmMs, miCold, miWarm, pyFramesSeen: seen.py, totalFrames: seen.all, pyBt };
  } finally {
    await backend.close({ detach: true });
    if (trace) writeFileSync(`${trace}.${debuggerKind}.${paths.version}.${pid}.${++sessions}`, traced.join('\n') + '\n');
  }
}

/** `py-bt` from CPython's gdb helper, `source`d into the backend's own GDB; first run and later runs. */
async function timePyBt(backend: DebugBackend, paths: FixturePaths): Promise<{ ms: number[]; frames: number } | { error: string }> {
  const minor = /^3\.(\d+)/.exec(paths.version)?.[1];
  // pyenv puts it beside the binary; Debian's python3.X-dbg under GDB's auto-load directory.
  const name = `python3.${minor}-gdb.py`;
  const helper = [join(dirname(paths.python), name), join('/usr/share/gdb/auto-load', dirname(paths.python), name)].find((f) => existsSync(f));
  if (!helper) return { error: `no ${name} beside ${paths.python} nor in /usr/share/gdb/auto-load (python3.${minor}-dbg)` };
  // The backend keeps its Gdb private; the bench reaches in to run py-bt in the very same GDB.
  const conn = (backend as unknown as { gdb: Gdb }).gdb.connection;
  let text = '';
  const off = conn.on('output', (o) => { if (o.category === 'console') text += o.text; });
  try {
    await conn.run(mi.interpreterExecConsole(`source ${helper}`));
    const ms: number[] = [];
    let frames = 0;
    for (let i = 0; i < 1 + PEER_RUNS; i++) {
      text = '';
      const t = performance.now();
      await conn.run(mi.interpreterExecConsole('py-bt'), { timeoutMs: 120_000 });
      ms.push(performance.now() - t);
      frames = (text.match(/^\s*File "/gm) ?? []).length;
    }
    if (!frames) return { error: `py-bt printed no Python frame: ${JSON.stringify(text.slice(0, 200))}` };
    return { ms, frames };
  } catch (e) {
    return { error: `py-bt failed: ${(e as Error).message}` };
  } finally {
    off();
  }
}

/** A peer command run PEER_RUNS times on the parked (running, not traced) process. */
function timePeer(tool: string, args: string[], countFrames: (out: string) => number): { ms: number; frames: number } | { error: string } {
  const bin = join(venvBin, tool);
  if (!existsSync(bin)) return { error: `${bin} missing: run bash scripts/setup-bench.sh` };
  const ms: number[] = [];
  let frames = 0;
  for (let i = 0; i < PEER_RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28 });
    ms.push(performance.now() - t);
    if (r.status !== 0) return { error: `${tool} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' / ')}` };
    frames = countFrames(r.stdout);
  }
  return { ms: median(ms), frames };
}

/**
 * Through the real debug adapter (`dist/adapter.js`): attach, then per stop (pause while blocked in
 * read) the time from the `stopped` event to the `stackTrace` response. First stop and the median
 * of later ones; ms and the number of stack frames the response had.
 */
async function dap(pid: number): Promise<{ coldMs: number; warmMs: number; frames: number } | { error: string }> {
  const dc = new DebugClient('node', ADAPTER, 'seam', { stdio: ['pipe', 'pipe', 'pipe'] });
  dc.defaultTimeout = 30_000;
  try {
    await dc.start();
    await dc.initializeRequest({ adapterID: 'seam', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const continued = dc.waitForEvent('continued', 30_000);
    await dc.attachRequest({ processId: pid } as DebugProtocol.AttachRequestArguments);
    await dc.configurationDoneRequest();
    await continued;
    const ms: number[] = [];
    let frames = 0;
    for (let i = 0; i < 1 + WARM_STOPS; i++) {
      const stopped = dc.waitForEvent('stopped', 30_000);
      await dc.pauseRequest({ threadId: 1 });
      const ev = await stopped;
      const t = performance.now();
      const r = await dc.stackTraceRequest({ threadId: (ev.body as { threadId?: number }).threadId ?? 1 });
      ms.push(performance.now() - t);
      frames = r.body.totalFrames ?? r.body.stackFrames.length;
      const again = dc.waitForEvent('continued', 30_000);
      await dc.continueRequest({ threadId: 1 });
      await again;
    }
    return { coldMs: ms[0], warmMs: median(ms.slice(1)), frames };
  } catch (e) {
    return { error: `DAP: ${(e as Error).message}` };
  } finally {
    await withTimeout(dc.disconnectRequest({ terminateDebuggee: false }), 5_000, 'disconnect').catch(() => undefined);
    await dc.stop().catch(() => undefined);
  }
}

/**
 * The first stop of a later session: a first session (one stop, then detach) fills the caches a
 * user's sessions keep (the layout, the symbolizer's answers) in a directory of the bench's own;
 * the figure is a second session's first stop, in a new Node process (as a new debug session or
 * `seam stack` run is: its JIT cold) with a new GDB. Median of PEER_RUNS such processes.
 */
async function laterSession(paths: FixturePaths, pid: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'seam-bench-cache-'));
  const saved = process.env.SEAM_LAYOUT_CACHE;
  process.env.SEAM_LAYOUT_CACHE = join(dir, 'layouts.json');
  try {
    await seam(paths, pid, 'gdb', { warmStops: 1, pyBt: false });
    const runs = inNewProcesses(FIRST_STOP_ONLY, pid, process.env, /^first stop ([\d.]+)$/m);
    if ('error' in runs) throw new Error(`a later session's process printed no figure: ${runs.error}`);
    return median(runs.map((m) => Number(m[1])));
  } finally {
    process.env.SEAM_LAYOUT_CACHE = saved;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `stack.bench.js --first-stop-only PID`: one session's first stop, printed (laterSession). */
const FIRST_STOP_ONLY = '--first-stop-only';

async function firstStopOnly(pid: number): Promise<void> {
  const backend = await createGdbBackend({});
  try {
    await backend.attach(pid);
    const t = performance.now();
    await withTimeout(new StackService(backend).snapshot(), 30_000, 'first snapshot');
    console.log(`first stop ${(performance.now() - t).toFixed(2)}`);
  } finally {
    await backend.close({ detach: true });
  }
}

/** `stack.bench.js --first-pause PID`: a first session ever, in a new process: attach, let the
 *  program run until Seam's unwinder has prepared (the debugger idle meanwhile), pause, and time
 *  the stop's stack (printed with how long preparing took). */
const FIRST_PAUSE = '--first-pause';

async function firstPause(pid: number): Promise<void> {
  const backend = await createGdbBackend({});
  try {
    await backend.attach(pid);
    const svc = new StackService(backend);
    const stopped = new Promise<void>((resolve) => backend.once('stopped', () => resolve()));
    const t0 = performance.now();
    await backend.continue();
    const native = (backend as unknown as { native: SessionUnwinder }).native;
    const prepared = await withTimeout(native.whenPrepared(), 10_000, 'preparing');
    const preparedMs = performance.now() - t0;
    await backend.pause();
    await withTimeout(stopped, 10_000, 'pause');
    const t = performance.now();
    await withTimeout(svc.snapshot(), 30_000, 'first snapshot');
    console.log(`first pause ${(performance.now() - t).toFixed(2)} prepared ${prepared ? preparedMs.toFixed(0) : 'no'}`);
  } finally {
    await backend.close({ detach: true });
  }
}

/**
 * Runs this file PEER_RUNS times in new Node processes (`mode PID`: a session's JIT cold, as a new
 * debug session or `seam stack` run has it), each printing its figure in a line `figure` matches;
 * the matches, or what the first failing process said last.
 */
function inNewProcesses(mode: string, pid: number, env: NodeJS.ProcessEnv, figure: RegExp): RegExpExecArray[] | { error: string } {
  const out: RegExpExecArray[] = [];
  for (let i = 0; i < PEER_RUNS; i++) {
    const r = spawnSync(process.execPath, [__filename, mode, String(pid)], { encoding: 'utf8', env, timeout: 60_000 });
    const m = figure.exec(r.stdout);
    if (!m) return { error: (r.stderr || r.stdout).trim().split('\n').slice(-2).join(' / ') };
    out.push(m);
  }
  return out;
}

/** Median of PEER_RUNS `--first-pause` processes on a parked program. */
function firstPauses(pid: number): { ms: number; preparedMs: number } | { error: string } {
  const runs = inNewProcesses(FIRST_PAUSE, pid, { ...process.env, SEAM_LAYOUT_CACHE: '0' }, /^first pause ([\d.]+) prepared (\d+|no)$/m);
  if ('error' in runs) return { error: `first pause: ${runs.error}` };
  if (runs.some((m) => m[2] === 'no')) return { error: 'first pause: Seam\'s unwinder did not prepare' };
  return { ms: median(runs.map((m) => Number(m[1]))), preparedMs: median(runs.map((m) => Number(m[2]))) };
}

interface Row {
  python: string;
  n: number;
  seam: SeamFigures;
  /** A first session's first pause once prepared (firstPause). */
  firstPause: { ms: number; preparedMs: number } | { error: string };
  /** First stop of a later session (caches filled by an earlier one). */
  laterMs: number | { error: string };
  /** The same over LLDB (lldb-vscode), or why not. */
  lldb: SeamFigures | { error: string };
  dap: { coldMs: number; warmMs: number; frames: number } | { error: string };
  pySpy: { ms: number; frames: number } | { error: string };
  pystack: { ms: number; frames: number } | { error: string };
}

async function measure(paths: FixturePaths, n: number): Promise<Row> {
  const { proc, pyFrames } = await park(paths, n);
  try {
    const s = await seam(paths, proc.pid!);
    const laterMs = await laterSession(paths, proc.pid!).catch((e: Error) => ({ error: `later session: ${e.message}` }));
    const paused = firstPauses(proc.pid!);
    if (s.pyFramesSeen !== pyFrames) process.stderr.write(`bench: Seam saw ${s.pyFramesSeen} Python frames, depth.py has ${pyFrames}\n`);
    // GDB is detached now: the process runs (blocked in read) and each peer attaches on its own.
    const lldb = await seam(paths, proc.pid!, 'lldb').catch((e: Error) => ({ error: `LLDB: ${e.message}` }));
    const viaDap = await dap(proc.pid!);
    const level = /\blevel\b/g;
    const pySpy = timePeer('py-spy', ['dump', '--native', '--pid', String(proc.pid)], (o) => (o.match(/\((?:depth\.py)\b/g) ?? []).length || (o.match(level) ?? []).length);
    const pystack = timePeer('pystack', ['remote', '--native', String(proc.pid)], (o) => (o.match(/^\s*\(Python\) File "/gm) ?? []).length);
    return { python: paths.version, n, seam: s, firstPause: paused, laterMs, lldb, dap: viaDap, pySpy, pystack };
  } finally {
    proc.kill('SIGKILL');
  }
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

function peerCell(p: { ms: number; frames: number } | { error: string }, warm: number): string {
  if ('error' in p) return 'n/a';
  return `${fmt(p.ms)} (${(p.ms / warm).toFixed(1)}x)`;
}

async function main(): Promise<void> {
  const all = pythons();
  const want = process.env.SEAM_BENCH_PYTHONS || '3.12';
  const minors = want.split(',').map((v) => v.trim());
  const chosen = want === 'all' ? all : all.filter((p) => minors.some((m) => p.endsWith(`python${m}`)));
  if (!chosen.length) {
    console.log(`stack bench: no CPython ${want} found (pyenv 3.10-3.13): skipped`);
    return;
  }
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const python of chosen) {
    const paths = await buildFixtures(python);
    for (const n of DEPTHS) {
      try {
        rows.push(await measure(paths, n));
      } catch (e) {
        notes.push(`${paths.version} N=${n}: ${(e as Error).message}`);
      }
    }
  }
  console.log(`stack: stop -> complete merged stack, ms (median); peers' ratio = peer / Seam warm. Target: ahead of all three, < ${TARGET_MS} ms at 50 frames`);
  const head = ['python', 'py frames', 'all frames', 'Seam cold', '1st pause', 'Seam later', 'Seam warm', 'MI cmds c/w', 'LLDB cold', 'LLDB warm', 'DAP cold', 'DAP warm', 'attach', 'py-bt 1st', 'py-bt', 'py-spy', 'pystack', `<${TARGET_MS}ms@50`];
  const lines = [head];
  for (const r of rows) {
    const s = r.seam;
    const warm = median(s.warmMs);
    const bt = 'error' in s.pyBt ? 'n/a' : `${fmt(s.pyBt.ms[0])}`;
    const btWarm = 'error' in s.pyBt ? 'n/a' : `${fmt(median(s.pyBt.ms.slice(1)))} (${(median(s.pyBt.ms.slice(1)) / warm).toFixed(1)}x)`;
    lines.push([
      r.python, `${r.n}${s.pyFramesSeen === r.n ? '' : ` (saw ${s.pyFramesSeen})`}`, String(s.totalFrames),
      fmt(s.coldMs), 'error' in r.firstPause ? 'n/a' : fmt(r.firstPause.ms), typeof r.laterMs === 'number' ? fmt(r.laterMs) : 'n/a', fmt(warm), `${s.miCold}/${s.miWarm}`,
      'error' in r.lldb ? 'n/a' : fmt(r.lldb.coldMs),
      'error' in r.lldb ? 'n/a' : `${fmt(median(r.lldb.warmMs))} (${(median(r.lldb.warmMs) / warm).toFixed(1)}x)`,
      'error' in r.dap ? 'n/a' : fmt(r.dap.coldMs), 'error' in r.dap ? 'n/a' : fmt(r.dap.warmMs), fmt(s.attachMs), bt, btWarm,
      peerCell(r.pySpy, warm), peerCell(r.pystack, warm),
      r.n === 50 ? (Math.max(s.coldMs, warm) < TARGET_MS ? 'yes' : 'NO') : '',
    ]);
    if (typeof r.laterMs !== 'number') notes.push(`${r.python} N=${r.n} ${r.laterMs.error}`);
    if ('error' in r.firstPause) notes.push(`${r.python} N=${r.n} ${r.firstPause.error}`);
    else notes.push(`${r.python} N=${r.n} 1st pause: prepared ${fmt(r.firstPause.preparedMs)} ms after the continue`);
    if ('error' in r.dap) notes.push(`${r.python} N=${r.n} ${r.dap.error}`);
    if ('error' in r.lldb) notes.push(`${r.python} N=${r.n} ${r.lldb.error}`);
    else if (r.lldb.pyFramesSeen !== s.pyFramesSeen) notes.push(`${r.python} N=${r.n} LLDB saw ${r.lldb.pyFramesSeen} Python frames, GDB ${s.pyFramesSeen}`);
    for (const [name, p] of [['py-bt', s.pyBt], ['py-spy', r.pySpy], ['pystack', r.pystack]] as const) {
      if ('error' in p) notes.push(`${r.python} N=${r.n} ${name}: ${p.error}`);
      else if (p.frames < r.n * 0.9) notes.push(`${r.python} N=${r.n} ${name}: printed ${p.frames} Python frames (of ${r.n})`);
    }
  }
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const l of lines) console.log(l.map((c, i) => c.padStart(widths[i])).join('  '));
  console.log('Seam: from the stopped event; cold = first stop after attach in a first session ever (no caches: layout detection, first unwind); ' +
    '1st pause = a first session ever too, in a new Node process and GDB: attach, continue, and once Seam\'s unwinder has prepared while the program ran (GDB idle), pause: the stop\'s stack (median of ' + `${PEER_RUNS}); ` +
    'later = the same in a later session (a new Node process and GDB; the layout and the symbolizer\'s answers cached by an earlier one; median of ' + `${PEER_RUNS}); warm = median of ` +
    `${WARM_STOPS} later stops (continue + pause). cold starts when attach() resolves (attaching stops the process without a stopped event); attach = GDB start + attach, not in the cold figure. ` +
    `LLDB: the same StackService over the LLDB backend (lldb-vscode), same parked process, after GDB detached; ratio = LLDB warm / Seam (GDB) warm. ` +
    `DAP: dist/adapter.js attached, stopped event -> stackTrace response (its own GDB, cold = first pause). ` +
    `py-bt: same GDB, over MI (1st includes loading the helper's types). py-spy / pystack: wall time of the whole command ` +
    `(process start, ptrace attach, read, detach), median of ${PEER_RUNS}, GDB detached.`);
  for (const n of notes) console.log(`  note: ${n}`);
}

const only = process.argv.indexOf(FIRST_STOP_ONLY);
const pausing = process.argv.indexOf(FIRST_PAUSE);
(only >= 0 ? firstStopOnly(Number(process.argv[only + 1])) : pausing >= 0 ? firstPause(Number(process.argv[pausing + 1])) : main()).catch((e) => {
  process.stderr.write(`stack bench failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
