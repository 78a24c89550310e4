/**
 * One GDB process speaking MI3: numbered commands matched to their replies, async records turned
 * into typed events, every command bounded by a timeout, every pending command rejected when GDB
 * goes away.
 *
 * The program's own stdout/stderr: GDB is spawned with two extra pipes as fds 3 and 4, which it
 * and the startup shell inherit; `execArguments` redirects the program's stdout to fd 3 and its
 * stderr to fd 4 (and closes both in the program), stdin from /dev/null. The adapter reads them
 * as `output` events (`stdout` / `stderr`), apart from the MI stream. A pipe is not a terminal:
 * the program's stdio is block-buffered (C stdio, Python without -u / PYTHONUNBUFFERED).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { NativeFrame } from '../types';
import type { MiCommand } from '../mi/commands';
import { octal, readBreakpoint, readFrame, type MiBreakpoint } from '../mi/commands';
import { MiList, MiTuple, parseMiLine, type MiRecord } from '../mi/parser';

export const PROGRAM_STDOUT_FD = 3;
export const PROGRAM_STDERR_FD = 4;

export class GdbNotFoundError extends Error {
  constructor(readonly gdbPath: string) {
    super('gdb not found: install gdb or set `seam.gdbPath`');
    this.name = 'GdbNotFoundError';
  }
}

/** GDB answered `^error`. */
export class GdbCommandError extends Error {
  constructor(readonly command: string, readonly gdbMessage: string, readonly code?: string) {
    super(`${command}: ${gdbMessage}`);
    this.name = 'GdbCommandError';
  }
}

export class GdbTimeoutError extends Error {
  constructor(readonly command: string, readonly timeoutMs: number) {
    super(`GDB did not answer \`${command}\` within ${timeoutMs} ms`);
    this.name = 'GdbTimeoutError';
  }
}

export class GdbExitedError extends Error {
  constructor(readonly command: string | undefined, readonly exitCode: number | null, readonly signal: string | null, stderrTail: string) {
    super(`GDB exited (${signal ?? `code ${exitCode}`})${command ? ` before answering \`${command}\`` : ''}${stderrTail ? `: ${stderrTail}` : ''}`);
    this.name = 'GdbExitedError';
  }
}

export type StopReason =
  | 'breakpoint-hit' | 'watchpoint-trigger' | 'end-stepping-range' | 'function-finished'
  | 'signal-received' | 'exited' | 'exited-normally' | 'exited-signalled' | 'location-reached'
  | 'no-history' | 'solib-event' | 'fork' | 'vfork' | 'exec' | 'syscall-entry' | 'syscall-return'
  | (string & {});

export interface StoppedEvent {
  reason: StopReason | undefined;
  threadId?: number;
  /** `all`, or the ids of the stopped threads. */
  stoppedThreads?: 'all' | number[];
  signalName?: string;
  signalMeaning?: string;
  breakpointId?: number;
  /** A watchpoint's stop (`watchpoint-trigger`, `read-…`, `access-…`): its number and the value
   *  before and after (a read: the value read). */
  watchpoint?: { id: number; old?: string; new?: string; value?: string };
  frame?: NativeFrame;
  /** For `exited*`: the program's exit code (0 for exited-normally). */
  exitCode?: number;
}

export interface GdbEvents {
  stopped: StoppedEvent;
  running: { threadId: 'all' | number };
  'thread-created': { threadId: number; groupId?: string };
  'thread-exited': { threadId: number; groupId?: string };
  'library-loaded': { id: string; targetName?: string; hostName?: string; symbolsLoaded: boolean };
  'breakpoint-modified': MiBreakpoint;
  /** The program (thread group) exited. */
  exited: { groupId?: string; exitCode?: number };
  output: { category: 'console' | 'target' | 'log' | 'stdout' | 'stderr'; text: string };
  /** The GDB process ended. */
  'gdb-exit': { code: number | null; signal: string | null };
  /** Any other async record, for whoever wants it. */
  async: { kind: 'exec' | 'status' | 'notify'; asyncClass: string; results: MiTuple };
}

type Listener<K extends keyof GdbEvents> = (e: GdbEvents[K]) => void;

export interface GdbConnectionOptions {
  /** `seam.gdbPath`; `gdb` on PATH when empty. */
  gdbPath?: string;
  /** Default timeout of every command (ms). */
  timeoutMs?: number;
  /** Traffic log: every line written (`in` = to GDB) and read (`out` = from GDB). */
  log?: (dir: 'in' | 'out', line: string) => void;
  /** Extra GDB arguments after the fixed ones. */
  extraArgs?: string[];
  /** Environment of GDB (and so of the program); SHELL is forced to /bin/sh. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

interface Pending {
  text: string;
  resolve: (r: MiTuple) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  callerStack: string;
}

export interface SendOptions {
  timeoutMs?: number;
}

export class GdbConnection {
  private nextToken = 1;
  private readonly pending = new Map<number, Pending>();
  /** Tokens whose command timed out: their late reply is dropped. */
  private readonly abandoned = new Set<number>();
  private readonly listeners = new Map<keyof GdbEvents, Set<(e: never) => void>>();
  private stderrTail = '';
  private exitInfo: { code: number | null; signal: string | null } | undefined;
  private readonly exitedPromise: Promise<void>;
  readonly timeoutMs: number;

  private constructor(private readonly proc: ChildProcess, private readonly opts: GdbConnectionOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.exitedPromise = new Promise((resolve) => proc.once('close', () => resolve()));
  }

  /** Spawns GDB (no shell) and waits for its first prompt. */
  static async start(opts: GdbConnectionOptions = {}): Promise<GdbConnection> {
    const gdbPath = opts.gdbPath || 'gdb';
    const args = ['-nx', '-q', '--interpreter=mi3', '-iex', 'set auto-load no', ...(opts.extraArgs ?? [])];
    const env = { ...(opts.env ?? process.env), SHELL: '/bin/sh' };
    let proc: ChildProcess;
    try {
      proc = spawn(gdbPath, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'], env, cwd: opts.cwd, shell: false });
    } catch (e) {
      throw notFoundOr(e, gdbPath);
    }
    await new Promise<void>((resolve, reject) => {
      proc.once('spawn', resolve);
      proc.once('error', (e) => reject(notFoundOr(e, gdbPath)));
    });
    const conn = new GdbConnection(proc, opts);
    const ready = new Promise<void>((resolve, reject) => {
      const onLine = (rec: MiRecord) => { if (rec.kind === 'prompt') { conn.promptWaiter = undefined; resolve(); } };
      conn.promptWaiter = onLine;
      proc.once('close', (code, signal) => reject(new GdbExitedError(undefined, code, signal, conn.stderrTail.trim())));
    });
    conn.wire();
    const timer = setTimeout(() => conn.kill(), conn.timeoutMs);
    try {
      await ready;
    } finally {
      clearTimeout(timer);
    }
    return conn;
  }

  private promptWaiter: ((rec: MiRecord) => void) | undefined;

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** Resolves when the GDB process has ended. */
  exited(): Promise<void> {
    return this.exitedPromise;
  }

  on<K extends keyof GdbEvents>(event: K, fn: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as (e: never) => void);
    return () => set!.delete(fn as (e: never) => void);
  }

  /** Resolves with the next `event` satisfying `pred`; rejects after `timeoutMs` or when GDB exits. */
  waitFor<K extends keyof GdbEvents>(event: K, pred: (e: GdbEvents[K]) => boolean = () => true, timeoutMs = this.timeoutMs): Promise<GdbEvents[K]> {
    const callerStack = new Error().stack ?? '';
    return new Promise((resolve, reject) => {
      const done = (f: () => void) => { off(); offExit(); clearTimeout(timer); f(); };
      const off = this.on(event, (e) => { if (pred(e)) done(() => resolve(e)); });
      const offExit = event === 'gdb-exit' ? () => true : this.on('gdb-exit', (x) =>
        done(() => reject(withStack(new GdbExitedError(`(waiting for ${event})`, x.code, x.signal, this.stderrTail.trim()), callerStack))));
      const timer = setTimeout(() => done(() => reject(withStack(new GdbTimeoutError(`(waiting for ${event})`, timeoutMs), callerStack))), timeoutMs);
      if (!this.alive && event !== 'gdb-exit') {
        done(() => reject(withStack(new GdbExitedError(`(waiting for ${event})`, this.exitInfo!.code, this.exitInfo!.signal, ''), callerStack)));
      }
    });
  }

  private emit<K extends keyof GdbEvents>(event: K, e: GdbEvents[K]): void {
    for (const fn of [...(this.listeners.get(event) ?? [])]) {
      try {
        (fn as Listener<K>)(e);
      } catch (err) {
        this.opts.log?.('out', `listener of ${event} threw: ${(err as Error)?.stack ?? err}`);
      }
    }
  }

  /** Sends a typed command and parses its reply. */
  async run<T>(command: MiCommand<T>, opts: SendOptions = {}): Promise<T> {
    const results = await this.sendRaw(command.text, opts, new Error().stack ?? '');
    return command.parse(results);
  }

  /** Sends MI text (built by src/debug/mi/commands.ts) and resolves with the reply's results. */
  send(text: string, opts: SendOptions = {}): Promise<MiTuple> {
    return this.sendRaw(text, opts, new Error().stack ?? '');
  }

  private sendRaw(text: string, opts: SendOptions, callerStack: string): Promise<MiTuple> {
    if (/[\r\n]/.test(text)) return Promise.reject(withStack(new Error(`an MI command cannot contain a newline: ${text}`), callerStack));
    if (!this.alive) {
      return Promise.reject(withStack(new GdbExitedError(text, this.exitInfo!.code, this.exitInfo!.signal, this.stderrTail.trim()), callerStack));
    }
    const token = this.nextToken++;
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    return new Promise<MiTuple>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(token)) return;
        this.abandoned.add(token);
        reject(withStack(new GdbTimeoutError(text, timeoutMs), callerStack));
      }, timeoutMs);
      this.pending.set(token, { text, resolve, reject, timer, callerStack });
      const line = `${token}${text}`;
      this.opts.log?.('in', line);
      this.stdin.write(line + '\n');
    });
  }

  /** Kills GDB (SIGKILL); pending commands reject with GdbExitedError. */
  kill(): void {
    if (this.alive) this.proc.kill('SIGKILL');
  }

  private get stdin(): Writable {
    return this.proc.stdin!;
  }

  private wire(): void {
    const p = this.proc;
    p.stdin!.on('error', () => { /* EPIPE when GDB died: reported by 'close' */ });
    lines(p.stdout!, (line) => this.onLine(line));
    p.stderr!.setEncoding('utf8');
    p.stderr!.on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-2000);
      this.opts.log?.('out', `[stderr] ${d.trimEnd()}`);
    });
    const programStream = (fd: number, category: 'stdout' | 'stderr') => {
      const s = p.stdio[fd] as Readable | null;
      if (!s) return;
      s.setEncoding('utf8');
      s.on('data', (text: string) => this.emit('output', { category, text }));
      s.on('error', () => undefined);
    };
    programStream(PROGRAM_STDOUT_FD, 'stdout');
    programStream(PROGRAM_STDERR_FD, 'stderr');
    p.once('close', (code, signal) => {
      this.exitInfo = { code, signal };
      const tail = this.stderrTail.trim();
      for (const [token, pend] of this.pending) {
        clearTimeout(pend.timer);
        this.pending.delete(token);
        pend.reject(withStack(new GdbExitedError(pend.text, code, signal, tail), pend.callerStack));
      }
      this.emit('gdb-exit', { code, signal });
    });
  }

  private onLine(line: string): void {
    this.opts.log?.('out', line);
    const rec = parseMiLine(line);
    this.promptWaiter?.(rec);
    switch (rec.kind) {
      case 'result': {
        if (rec.token === undefined) return;
        if (this.abandoned.delete(rec.token)) return;
        const pend = this.pending.get(rec.token);
        if (!pend) return;
        this.pending.delete(rec.token);
        clearTimeout(pend.timer);
        if (rec.resultClass === 'error') {
          pend.reject(withStack(new GdbCommandError(pend.text, rec.results.str('msg') ?? 'error', rec.results.str('code')), pend.callerStack));
        } else {
          pend.resolve(rec.results);
        }
        return;
      }
      case 'stream':
        this.emit('output', { category: rec.stream, text: rec.text });
        return;
      case 'exec':
      case 'status':
      case 'notify':
        this.onAsync(rec.kind, rec.asyncClass, rec.results);
        return;
      default:
        return;
    }
  }

  private onAsync(kind: 'exec' | 'status' | 'notify', cls: string, r: MiTuple): void {
    if (kind === 'exec' && cls === 'stopped') {
      const reason = r.str('reason');
      const e: StoppedEvent = { reason };
      const tid = r.int('thread-id');
      if (tid !== undefined) e.threadId = tid;
      const st = r.get('stopped-threads');
      if (st === 'all') e.stoppedThreads = 'all';
      else if (st instanceof MiList) e.stoppedThreads = st.strings().map(Number);
      const sn = r.str('signal-name');
      if (sn !== undefined) { e.signalName = sn; e.signalMeaning = r.str('signal-meaning'); }
      const bp = r.int('bkptno');
      if (bp !== undefined) e.breakpointId = bp;
      const wpt = r.tuple('wpt') ?? r.tuple('hw-rwpt') ?? r.tuple('hw-awpt');
      const wid = wpt?.int('number');
      if (wid !== undefined) {
        const v = r.tuple('value');
        e.watchpoint = { id: wid, old: v?.str('old'), new: v?.str('new'), value: v?.str('value') };
      }
      const f = r.tuple('frame');
      if (f) e.frame = readFrame(f);
      if (reason === 'exited') e.exitCode = octal(r.str('exit-code'));
      else if (reason === 'exited-normally') e.exitCode = 0;
      // A program output written just before the stop may still sit in the fd-3/4 pipes' read
      // callbacks of this poll phase: emit the stop after them.
      setImmediate(() => this.emit('stopped', e));
      return;
    }
    if (kind === 'exec' && cls === 'running') {
      const t = r.str('thread-id');
      this.emit('running', { threadId: t === undefined || t === 'all' ? 'all' : Number(t) });
      return;
    }
    if (kind === 'notify') {
      switch (cls) {
        case 'thread-created':
        case 'thread-exited':
          this.emit(cls, { threadId: r.int('id') ?? -1, groupId: r.str('group-id') });
          return;
        case 'library-loaded':
          this.emit('library-loaded', {
            id: r.str('id') ?? '', targetName: r.str('target-name'), hostName: r.str('host-name'),
            symbolsLoaded: r.str('symbols-loaded') === '1',
          });
          return;
        case 'breakpoint-modified': {
          const b = r.tuple('bkpt');
          if (b) this.emit('breakpoint-modified', readBreakpoint(b));
          return;
        }
        case 'thread-group-exited':
          setImmediate(() => this.emit('exited', { groupId: r.str('id'), exitCode: octal(r.str('exit-code')) }));
          return;
        default:
          break;
      }
    }
    this.emit('async', { kind, asyncClass: cls, results: r });
  }
}

function notFoundOr(e: unknown, gdbPath: string): Error {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR') return new GdbNotFoundError(gdbPath);
  return e instanceof Error ? e : new Error(String(e));
}

/** The error keeps its own message, with the stack of the code that sent the command. */
function withStack<E extends Error>(err: E, callerStack: string): E {
  const frames = callerStack.split('\n').slice(1).join('\n');
  err.stack = `${err.name}: ${err.message}\n${frames}`;
  return err;
}

function lines(stream: Readable, onLine: (line: string) => void): void {
  stream.setEncoding('utf8');
  let buf = '';
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      onLine(line);
    }
  });
  stream.on('end', () => { if (buf) onLine(buf); buf = ''; });
}

export { MiTuple };
