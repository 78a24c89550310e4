/**
 * GDB as Seam's debugger backend: typed, high-level operations over one GdbConnection. The DAP
 * session and `seam stack` call these; MI text is built only by src/debug/mi/commands.ts.
 */
import { X86_64_DWARF_REGISTERS } from '../native/unwind';
import type { Instruction, NativeFrame, NativeThread } from '../types';
import * as mi from '../mi/commands';
import {
  GdbCommandError, GdbConnection, PROGRAM_STDERR_FD, PROGRAM_STDOUT_FD,
  type GdbConnectionOptions, type GdbEvents, type StoppedEvent,
} from './connection';

export interface LaunchOptions {
  program: string;
  args?: readonly string[];
  cwd?: string;
  /** Added to (or, with null, removed from) the environment GDB passes on. */
  env?: Record<string, string | null>;
  /** Stop at the program's `main` (`-exec-run --start`). */
  stopAtEntry?: boolean;
  /** Address-space randomization off (GDB's default; here off only when asked). */
  disableAslr?: boolean;
}

export interface BreakpointSpec {
  location: mi.BreakLocation;
  condition?: string;
  ignoreCount?: number;
  temporary?: boolean;
}

export interface InsertedBreakpoint {
  id: number;
  verified: boolean;
  file?: string;
  fullname?: string;
  line?: number;
  func?: string;
  pending: boolean;
}

export interface FrameSpCfa {
  level: number;
  sp?: bigint;
  cfa?: bigint;
}

/** Signals passed to the program without a stop (see `Gdb.start`). */
export const PASSED_SIGNALS = ['SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGVTALRM', 'SIGPROF', 'SIGPIPE', 'SIGIO', 'SIGURG', 'SIGCHLD', 'SIGWINCH'];

/** x86-64's general registers and rip by their DWARF numbers. */
const X86_64_DWARF = new Map<string, number>(X86_64_DWARF_REGISTERS.map((name, n) => [name, n]));

export class Gdb {
  private programExitCode: number | undefined;
  private registerNames: Promise<string[]> | undefined;
  private readonly shellEnv: string | undefined;

  private constructor(readonly connection: GdbConnection, env: NodeJS.ProcessEnv) {
    this.shellEnv = env.SHELL;
    connection.on('stopped', (e) => { if (e.exitCode !== undefined) this.programExitCode = e.exitCode; });
    connection.on('exited', (e) => { if (e.exitCode !== undefined) this.programExitCode ??= e.exitCode; });
    connection.on('running', () => { this.programExitCode = undefined; });
  }

  /** Starts GDB and sets it up for Seam (async MI, no pagination or confirmations). */
  static async start(opts: GdbConnectionOptions = {}): Promise<Gdb> {
    const conn = await GdbConnection.start(opts);
    const gdb = new Gdb(conn, opts.env ?? process.env);
    try {
      await Promise.all([
        conn.run(mi.gdbSet('mi-async', 'on')),
        conn.run(mi.gdbSet('pagination', 'off')),
        conn.run(mi.gdbSet('confirm', 'off')),
        conn.run(mi.gdbSet('width', '0')),
        conn.run(mi.gdbSet('height', '0')),
        conn.run(mi.gdbSet('breakpoint', 'pending on')),
        // GDB 13 splits arguments on whitespace without a shell: see mi/commands.ts.
        conn.run(mi.gdbSet('startup-with-shell', 'on')),
        // Signals programs use for their own ends (timers, IPC, SIGPIPE that Python ignores)
        // go to the program without a stop; crashes (SIGSEGV, SIGABRT...) still stop.
        conn.run(mi.interpreterExecConsole(`handle ${PASSED_SIGNALS.join(' ')} nostop noprint pass`)),
      ]);
    } catch (e) {
      conn.kill();
      throw e;
    }
    return gdb;
  }

  on<K extends keyof GdbEvents>(event: K, fn: (e: GdbEvents[K]) => void): () => void {
    return this.connection.on(event, fn);
  }

  /** The program's exit code, once it has exited. */
  get exitCode(): number | undefined {
    return this.programExitCode;
  }

  // -------------------------------------------------------------------------------------------
  // Sessions

  /** Loads `program` and sets its arguments, directory and environment, without running it. */
  async load(o: LaunchOptions): Promise<void> {
    const c = this.connection;
    await c.run(mi.fileExecAndSymbols(o.program));
    await c.run(mi.gdbSet('disable-randomization', o.disableAslr ? 'on' : 'off'));
    await c.run(mi.execArguments(o.args ?? [], { stdin: '/dev/null', stdoutFd: PROGRAM_STDOUT_FD, stderrFd: PROGRAM_STDERR_FD }));
    if (o.cwd !== undefined) await c.run(mi.environmentCd(o.cwd));
    // GDB runs the startup shell from SHELL, forced to /bin/sh: the program gets the user's back.
    const env: Record<string, string | null> = { SHELL: this.shellEnv ?? null, ...(o.env ?? {}) };
    await Promise.all(Object.entries(env).map(([k, v]) => c.run(mi.setEnvironment(k, v))));
  }

  /** Loads and runs `program`; resolves once it is running (or, with stopAtEntry, stopped in main). */
  async launch(o: LaunchOptions): Promise<void> {
    await this.load(o);
    const stopped = o.stopAtEntry ? this.connection.waitFor('stopped') : undefined;
    await this.connection.run(mi.execRun({ start: o.stopAtEntry }));
    if (stopped) await stopped;
  }

  /** Attaches to a running process; resolves when it is stopped. */
  async attach(pid: number, program?: string): Promise<StoppedEvent | undefined> {
    if (program !== undefined) await this.connection.run(mi.fileExecAndSymbols(program));
    // In all-stop mode GDB reports the attach stop as `*stopped` (reason absent or signal-received).
    const stopped = this.connection.waitFor('stopped').catch(() => undefined);
    await this.connection.run(mi.targetAttach(pid));
    return stopped;
  }

  /** Opens a core file of `executable`. */
  async loadCore(core: string, executable: string): Promise<void> {
    await this.connection.run(mi.fileExecAndSymbols(executable));
    await this.connection.run(mi.targetSelectCore(core));
  }

  async detach(): Promise<void> {
    await this.connection.run(mi.targetDetach());
  }

  /** Kills the program (GDB stays). */
  async kill(): Promise<void> {
    await this.connection.run(mi.interpreterExecConsole('kill'));
  }

  /** Ends GDB: `-gdb-exit`, then SIGKILL if it does not go within the timeout. */
  async exit(timeoutMs = 3000): Promise<void> {
    const c = this.connection;
    if (!c.alive) return;
    c.run(mi.gdbExit(), { timeoutMs }).catch(() => undefined);
    const timer = setTimeout(() => c.kill(), timeoutMs);
    try {
      await c.exited();
    } finally {
      clearTimeout(timer);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Execution (resolve when GDB has accepted the command; the stop arrives as a `stopped` event)

  continue(threadId?: number): Promise<void> {
    return this.connection.run(mi.execContinue(threadId));
  }

  interrupt(threadId?: number): Promise<void> {
    return this.connection.run(mi.execInterrupt(threadId));
  }

  next(threadId?: number): Promise<void> {
    return this.connection.run(mi.execNext(threadId));
  }

  step(threadId?: number): Promise<void> {
    return this.connection.run(mi.execStep(threadId));
  }

  nextInstruction(threadId?: number): Promise<void> {
    return this.connection.run(mi.execNextInstruction(threadId));
  }

  stepInstruction(threadId?: number): Promise<void> {
    return this.connection.run(mi.execStepInstruction(threadId));
  }

  disassemble(start: bigint, end: bigint): Promise<Instruction[]> {
    return this.connection.run(mi.dataDisassemble(start, end));
  }

  finish(threadId?: number, frame?: number): Promise<void> {
    return this.connection.run(mi.execFinish(threadId, frame));
  }

  /** Waits for the next stop (any reason, or one `pred` accepts). */
  waitForStop(pred?: (e: StoppedEvent) => boolean, timeoutMs?: number): Promise<StoppedEvent> {
    return this.connection.waitFor('stopped', pred, timeoutMs);
  }

  // -------------------------------------------------------------------------------------------
  // Breakpoints

  /** Inserts a breakpoint; a location GDB does not know yet gives a pending one. */
  async insertBreakpoint(spec: BreakpointSpec): Promise<InsertedBreakpoint> {
    const b = await this.connection.run(mi.breakInsert({ ...spec, pending: true }));
    const out: InsertedBreakpoint = { id: b.id, verified: b.verified, pending: b.pending };
    if (b.file !== undefined) out.file = b.file;
    if (b.fullname !== undefined) out.fullname = b.fullname;
    if (b.line !== undefined) out.line = b.line;
    if (b.func !== undefined) out.func = b.func;
    return out;
  }

  async deleteBreakpoint(id: number): Promise<void> {
    await this.connection.run(mi.breakDelete([id]));
  }

  async setBreakpointCondition(id: number, condition: string): Promise<void> {
    await this.connection.run(mi.breakCondition(id, condition));
  }

  // -------------------------------------------------------------------------------------------
  // Threads, frames, values

  /** The threads, without frames (`frames` is empty: ask `frames(id)`). */
  async threads(): Promise<NativeThread[]> {
    const info = await this.connection.run(mi.threadInfo());
    return info.threads.map((t) => {
      const th: NativeThread = { id: t.id, lwp: t.lwp, frames: [] };
      if (t.name !== undefined) th.name = t.name;
      return th;
    });
  }

  frames(threadId: number, range?: { low: number; high: number }): Promise<NativeFrame[]> {
    return this.connection.run(mi.stackListFrames({ threadId, ...range }));
  }

  /**
   * SP and CFA of each frame in `levels`: `$sp` in the frame, and `$sp` in its caller (the
   * caller's SP as GDB unwinds it is the frame's CFA). All evaluations are sent at once.
   */
  async frameSpCfa(threadId: number, levels: readonly number[]): Promise<FrameSpCfa[]> {
    const wanted = new Set<number>();
    for (const l of levels) { wanted.add(l); wanted.add(l + 1); }
    const sps = new Map<number, bigint | undefined>();
    await Promise.all([...wanted].map(async (frame) => {
      try {
        const v = await this.connection.run(mi.dataEvaluateExpression('$sp', { threadId, frame }));
        sps.set(frame, parseAddress(v));
      } catch (e) {
        if (!(e instanceof GdbCommandError)) throw e;
        sps.set(frame, undefined); // no such frame (the outermost has no caller)
      }
    }));
    return levels.map((level) => ({ level, sp: sps.get(level), cfa: sps.get(level + 1) }));
  }

  /**
   * The innermost frame's general registers of a thread, by DWARF register number (x86-64: the
   * numbering CFI uses), for Seam's own unwinder. GDB's register numbers are asked once by name.
   * Undefined when the target's registers are not x86-64's.
   */
  async dwarfRegisters(threadId: number): Promise<Map<number, bigint> | undefined> {
    this.registerNames ??= this.connection.run(mi.dataListRegisterNames());
    const names = await this.registerNames;
    const wanted = new Map<number, number>(); // GDB number -> DWARF number
    names.forEach((n, i) => {
      const d = X86_64_DWARF.get(n);
      if (d !== undefined) wanted.set(i, d);
    });
    if (wanted.size < X86_64_DWARF.size) return undefined;
    const values = await this.connection.run(mi.dataListRegisterValues({ threadId, frame: 0 }, [...wanted.keys()]));
    const out = new Map<number, bigint>();
    for (const [gdbNo, v] of values) out.set(wanted.get(gdbNo)!, v);
    return out.size === X86_64_DWARF.size ? out : undefined;
  }

  locals(threadId: number, frame: number, values: 'simple' | 'all' = 'simple'): Promise<mi.MiVariable[]> {
    return this.connection.run(mi.stackListVariables({ threadId, frame }, values));
  }

  evaluate(expression: string, threadId?: number, frame?: number): Promise<string> {
    return this.connection.run(mi.dataEvaluateExpression(expression, { threadId, frame }));
  }

  /** The exit code of the program, from GDB's thread groups (undefined while it lives). */
  async programExit(): Promise<number | undefined> {
    const groups = await this.connection.run(mi.listThreadGroups());
    return groups[0]?.exitCode ?? this.programExitCode;
  }
}

/** The first hex address in a value GDB printed (`(void *) 0x7ffe...`, `0x7ffe... <sym>`). */
export function parseAddress(value: string): bigint | undefined {
  const m = /0x[0-9a-fA-F]+/.exec(value);
  if (m) return BigInt(m[0]);
  return /^\d+$/.test(value.trim()) ? BigInt(value.trim()) : undefined;
}
