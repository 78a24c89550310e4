/**
 * The LLDB implementation of DebugBackend, over LLDB's own DAP server (lldb-vscode-16 here,
 * lldb-dap in LLVM 18+). DAP gives threads, frame ids, variables, expressions, stepping and the
 * program's lifecycle; what lldb-vscode's DAP lacks is asked of LLDB's command line through the
 * `repl` evaluate (a leading backtick): breakpoints (lldb-vscode-16 answers setFunctionBreakpoints
 * in hash order, so ids cannot be told apart), the backtrace with pc, stack pointer and module
 * (one command in Seam's frame format), and memory for core files. The program's stdout and stderr
 * reach Seam through two FIFOs (`target.output-path`/`error-path`), apart and without a terminal.
 */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants as fsConstants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from '../which';
import { checkCoreFile } from '../native/coreFile';
import type { BreakpointRequest, BreakpointState, DebugBackend, LaunchRequest, StopEvent, StopReason, Variable, VariableContainer } from '../backend';
import type { Instruction, NativeFrame, NativeThread, Symbols } from '../types';
import { SessionUnwinder } from '../native/sessionUnwinder';
import { X86_64_DWARF_REGISTERS } from '../native/unwind';
import { UserError } from '../errors';
import { cleanRustName, isRustName } from '../stack/rustNames';
import { addressAndSize, frameWords, killIfAlive, PanicMessages, panicSite, parseNativeLocation, releaseOrphan } from '../nativeStop';
import { DapClient, DapRequestError, LLDB_DAP_NAMES, LldbNotFoundError } from './dapClient';
import { LldbMemory, LldbSymbols, type LldbCommands } from './memory';
import { commandError, commandOutput, cutAtEvalLoop, frameFormatCommand, lldbMajorVersion, lldbQuote, parseBacktrace, parseBreakpointList, parseBreakpointSet, parseDisassembly, parseThreadList, stoppedBreakpointId, stoppedSignal } from './parse';

export interface LldbBackendOptions {
  /** The DAP server (`seam.lldbDapPath`); default: the first of LLDB_DAP_NAMES on PATH. */
  lldbDapPath?: string;
  log?: (line: string) => void;
}

const PANIC_FUNCTION = 'rust_panic';
/** What LLDB runs first: nothing from the workspace (no `.lldbinit` in the cwd). */
const INIT_COMMANDS = ['settings set target.load-cwd-lldbinit false', 'settings set auto-confirm true'];
/** Signals passed to the program without a stop, as over GDB (gdb.ts's PASSED_SIGNALS); set
 *  once a process exists (LLDB's signal table is the process's). */
export const LLDB_SIGNAL_COMMAND = 'process handle -s false -n false -p true SIGUSR1 SIGUSR2 SIGALRM SIGVTALRM SIGPROF SIGPIPE SIGIO SIGURG SIGCHLD SIGWINCH';

/** The DAP server to run: the configured one, else the first known name found on PATH. */
export function findLldbDap(configured?: string): string {
  if (configured) return configured;
  for (const name of LLDB_DAP_NAMES) {
    const p = which(name);
    if (p) return p;
  }
  throw new LldbNotFoundError('lldb-dap (or lldb-vscode)');
}

export async function createLldbBackend(opts: LldbBackendOptions = {}): Promise<DebugBackend> {
  const path = findLldbDap(opts.lldbDapPath);
  const dap = await DapClient.start(path);
  if (opts.log) dap.on('log', (dir: string, text: string) => opts.log!(`${dir === 'out' ? '>' : dir === 'in' ? '<' : '!'} ${text}`));
  const backend = new LldbBackend(dap, opts.log);
  try {
    await dap.request('initialize', { clientID: 'seam', adapterID: 'seam', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true, supportsVariableType: true });
  } catch (e) {
    dap.kill();
    throw new UserError(`${path} did not start a debug session: ${(e as Error).message}`);
  }
  return backend;
}

interface DapThread { id: number; name: string }
interface DapFrame { id: number; name: string; line?: number; source?: { path?: string; name?: string } }
interface DapVariable { name: string; value: string; type?: string; variablesReference: number; evaluateName?: string }

interface Bp { id: number; verified: boolean; file?: string; line?: number; location: string; internal?: boolean }

class LldbBackend extends EventEmitter implements DebugBackend {
  readonly memory: LldbMemory;
  readonly symbols: Symbols & { clear(): void };
  /** Seam's own unwinder (src/debug/native/): asked first, LLDB's when it does not answer. */
  private readonly native: SessionUnwinder;
  /** Per stop: the frames Seam's unwinder gave, by thread. */
  private ownFrames = new Map<number, NativeFrame[]>();
  /** The thread a breakpoint stopped (inlined calls beginning at its pc are shown entered). */
  private breakpointThread: number | undefined;
  /** `thread select` + `register read` pairs must not interleave. */
  private registerLock: Promise<unknown> = Promise.resolve();
  pid: number | undefined;
  private isCore = false;
  private attached = false;
  private configured = false;
  private closing = false;
  private interrupted = false;
  private stopped = false;
  /** Pauses asked so far: a pause's check (settlePause) is for that pause only. */
  private pauses = 0;
  /** The current stop was reported by settlePause (LLDB's own event for it may still come). */
  private settled = false;
  private lastThread = 0;
  private exited = false;
  /** The signal of the latest signal stop (LLDB reports a death by signal as that signal's number). */
  private lastSignal: string | undefined;
  private panicBreakpoint: number | undefined;
  private readonly panics = new PanicMessages();
  private readonly bps = new Map<number, Bp>();
  private poll: NodeJS.Timeout | undefined;
  /** Per stop: DAP frame ids by `${threadId}:${level}`, native frames by thread, LLDB thread indexes. */
  private frameIds = new Map<string, number>();
  private frameCache = new Map<number, NativeFrame[]>();
  private threadIndexes: Promise<Map<number, number>> | undefined;
  /** lldb-vscode's variable references -> the frame their expressions are read in (this stop). */
  private refFrames = new Map<number, number>();
  private dir: string | undefined;
  private pipes: Socket[] = [];

  constructor(private readonly dap: DapClient, private readonly log?: (line: string) => void) {
    super();
    const self = this; // eslint-disable-line @typescript-eslint/no-this-alias
    const cmds: LldbCommands = {
      command: (t) => this.command(t),
      expression: (t) => this.expression(t),
      get pid() { return self.isCore ? undefined : self.pid; },
      get isCore() { return self.isCore; },
    };
    this.memory = new LldbMemory(cmds);
    this.native = new SessionUnwinder({
      livePid: () => (self.isCore ? undefined : self.pid),
      memory: this.memory,
      registers: (threadId) => this.dwarfRegisters(threadId),
      debuggerFrames: (threadId) => this.lldbFrames(threadId),
      debuggerPid: () => dap.pid,
      log: (text) => this.emit('output', { category: 'console', text: `${text}\n` }),
    });
    this.symbols = this.native.symbolsOver(new LldbSymbols(cmds));
    dap.on('process', (b: { systemProcessId?: number }) => {
      if (b.systemProcessId && !this.isCore) this.pid = b.systemProcessId;
    });
    dap.on('stopped', (b: { reason?: string; description?: string; threadId?: number }) => this.stoppedSafely(b));
    dap.on('continued', () => this.resumed());
    dap.on('exited', (b: { exitCode?: number }) => void this.onExited(b.exitCode ?? 0));
    dap.on('output', (b: { category?: string; output?: string }) => {
      // The program's own output comes through the FIFOs; this is LLDB talking.
      if (!b.output || /^Running initCommands:|^\(lldb\) /.test(b.output)) return;
      this.emit('output', { category: 'console', text: b.output });
    });
    dap.on('exit', (e: { code: number | null; signal: string | null }) => {
      this.stopPolling();
      if (this.attached) releaseOrphan(this.pid);
      if (!this.closing) this.emit('terminated', { reason: `${dap.path} ended unexpectedly (${e.signal ?? `exit code ${e.code}`}): the debug session is over` });
    });
  }

  /**
   * The program ended. lldb-vscode has reported -1 for a normal exit under load (three times in CI
   * runs): LLDB's own `process status` is asked; a -1 that stays is SIGKILL when the program was
   * stopped (a kill while stopped), and `uncertain` when it was running (the session may know the
   * status from the bootstrap).
   */
  private async onExited(code: number): Promise<void> {
    this.stopPolling();
    this.exited = true;
    const running = !this.stopped;
    let uncertain = false;
    if (code === -1) {
      const status = /exited with status = (-?\d+)/.exec(await this.command('process status').catch(() => ''));
      this.log?.(`LLDB reported exit status -1 for process ${this.pid}; process status: ${status?.[1] ?? 'none'} (last stop signal: ${this.lastSignal ?? 'none'})`);
      if (status && Number(status[1]) !== -1) code = Number(status[1]);
      // Killed while stopped is SIGKILL; while running, the status may simply be lost.
      else uncertain = running;
    }
    if (!this.closing) this.emit('exited', { exitCode: shellExitCode(code, this.lastSignal), uncertain });
  }

  // ---- LLDB's command line and expressions ----------------------------------------------------

  private async command(text: string): Promise<string> {
    const r = await this.dap.request<{ result?: string }>('evaluate', { expression: `\`${text}`, context: 'repl' });
    return commandOutput(r.result ?? '');
  }

  /** A C expression's value (LLDB's text), in the frame of the last stop when there is one. */
  private async expression(text: string): Promise<string | undefined> {
    const frameId = this.stopped ? await this.anyFrameId().catch(() => undefined) : undefined;
    try {
      const r = await this.dap.request<{ result?: string }>('evaluate', { expression: text, context: 'watch', frameId });
      const v = r.result?.trim();
      return v && !/^error:/.test(v) ? v : undefined;
    } catch (e) {
      if (e instanceof DapRequestError) return undefined;
      throw e;
    }
  }

  private warnedCut = false;

  /** Said once per session: this LLDB does not unwind through the eval loop. */
  private async warnCutStack(): Promise<void> {
    if (this.warnedCut) return;
    this.warnedCut = true;
    const major = lldbMajorVersion(await this.command('version').catch(() => ''));
    this.emit('warning', {
      text: `LLDB${major ? ` ${major}` : ''} (${this.dap.path}) stopped unwinding at _PyEval_EvalFrameDefault: the native frames below it are missing. ` +
        'lldb-16 (lldb-vscode-16) unwinds through the eval loop on Debian 12, lldb-19/lldb-dap-19 do not: set seam.lldbDapPath to lldb-vscode-16, or use GDB (seam.debugger: gdb).',
    });
  }

  private async anyFrameId(): Promise<number | undefined> {
    const key = `${this.lastThread}:0`;
    if (!this.frameIds.has(key) && this.lastThread) await this.frames(this.lastThread, 1);
    return this.frameIds.get(key);
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /** Two FIFOs for the program's stdout and stderr, read here (opened read-write: no EOF while
   *  the program has not opened them yet, or between its writes). */
  private outputPipes(): string[] {
    this.dir = mkdtempSync(join(tmpdir(), 'seam-lldb-'));
    const paths = ['stdout', 'stderr'].map((n) => join(this.dir!, n));
    for (const [i, p] of paths.entries()) {
      execFileSync('mkfifo', ['-m', '600', p]);
      const fd = openSync(p, fsConstants.O_RDWR | fsConstants.O_NONBLOCK);
      const sock = new Socket({ fd, readable: true, writable: false });
      sock.setEncoding('utf8');
      const category = i === 0 ? 'stdout' : 'stderr';
      sock.on('data', (text: string) => {
        if (category === 'stderr') this.panics.stderr(text);
        this.emit('output', { category, text });
      });
      sock.on('error', () => undefined);
      this.pipes.push(sock);
    }
    return paths;
  }

  async launch(req: LaunchRequest): Promise<void> {
    const [out, err] = this.outputPipes();
    const env = Object.entries({ PYTHONUNBUFFERED: '1', ...req.env }).map(([k, v]) => `${k}=${v}`);
    try {
      await this.dap.request('launch', {
        program: req.program, args: req.args, cwd: req.cwd ?? process.cwd(), env, stopOnEntry: false, disableASLR: req.disableAslr ?? false,
        initCommands: [...INIT_COMMANDS, frameFormatCommand(),
          `settings set target.output-path ${lldbQuote(out)}`, `settings set target.error-path ${lldbQuote(err)}`,
          'settings set target.input-path /dev/null',
          // The launch argument alone does not clear the flag the target's setting gives.
          `settings set target.disable-aslr ${req.disableAslr ? 'true' : 'false'}`],
      });
    } catch (e) {
      throw new UserError(`cannot launch ${req.program} under LLDB: ${(e as Error).message}`);
    }
  }

  async run(): Promise<void> {
    await this.configurationDone();
  }

  private async configurationDone(): Promise<void> {
    if (this.configured) return;
    this.configured = true;
    await this.command(LLDB_SIGNAL_COMMAND).catch(() => undefined);
    this.resumed();
    await this.dap.request('configurationDone', {});
  }

  async attach(pid: number): Promise<void> {
    this.pid = pid;
    this.attached = true;
    try {
      await this.dap.request('attach', { pid, initCommands: [...INIT_COMMANDS, frameFormatCommand()] });
    } catch (e) {
      const msg = (e as Error).message;
      if (!existsSync(`/proc/${pid}`)) throw new UserError(`no process ${pid}: nothing to attach to (see \`ps\`)`);
      if (/ptrace|Operation not permitted|permission/i.test(msg)) {
        throw new UserError(`attach to ${pid} refused by ptrace: run as the process's user with kernel.yama.ptrace_scope=0 (sudo sysctl kernel.yama.ptrace_scope=0), or as root (${msg})`);
      }
      throw new UserError(`cannot attach to process ${pid}: ${msg}`);
    }
    this.stopped = true;
    await this.command(LLDB_SIGNAL_COMMAND).catch(() => undefined);
    this.lastThread = (await this.threads())[0]?.id ?? 0;
  }

  async openCore(core: string, executable: string): Promise<void> {
    checkCoreFile(core, executable, (m) => new UserError(m));
    this.isCore = true;
    try {
      await this.dap.request('attach', { coreFile: core, program: executable, initCommands: [...INIT_COMMANDS, frameFormatCommand()] });
    } catch (e) {
      throw new UserError(`cannot open core file ${core} with ${executable}: ${(e as Error).message}`);
    }
    this.configured = true;
    this.stopped = true;
    this.lastThread = (await this.threads())[0]?.id ?? 0;
  }

  async close(opts: { detach: boolean }): Promise<void> {
    this.closing = true;
    this.stopPolling();
    const terminate = !opts.detach && !this.isCore;
    // (lldb-vscode-16 aborts on a disconnect after the program has exited: nothing to say then.)
    if (!this.exited) {
      await Promise.race([
        this.dap.request('disconnect', { terminateDebuggee: terminate }).catch(() => undefined),
        new Promise((r) => setTimeout(r, 5000).unref()),
      ]);
    }
    await Promise.race([this.dap.whenEnded(), new Promise((r) => setTimeout(r, 1000).unref())]);
    this.dap.kill();
    if (terminate && !this.attached) killIfAlive(this.pid);
    await this.native.close();
    for (const s of this.pipes) s.destroy();
    this.pipes = [];
    this.memory.dispose();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  // ---- stops -----------------------------------------------------------------------------------

  private resumed(): void {
    this.settled = false;
    if (!this.stopped && this.frameIds.size === 0) return;
    this.stopped = false;
    this.frameIds = new Map();
    this.refFrames = new Map();
    this.frameCache = new Map();
    this.ownFrames = new Map();
    this.native.resumed();
    this.threadIndexes = undefined;
    this.memory.invalidate();
    this.emit('continued');
    this.startPolling();
  }

  /** A stop is reported even when reading around it fails (LLDB gone meanwhile: 'terminated' follows). */
  private stoppedSafely(b: { reason?: string; description?: string; threadId?: number }): void {
    this.onStopped(b).catch((e: unknown) => {
      if (this.closing || !this.dap.alive) return;
      this.emit('stopped', { reason: 'signal', threadId: b.threadId ?? this.lastThread, description: `${b.description ?? b.reason ?? 'stopped'} (${(e as Error).message})` } satisfies StopEvent);
    });
  }

  private async onStopped(b: { reason?: string; description?: string; threadId?: number }): Promise<void> {
    // Attaching stops the process: that stop is the backend's own (the session continues it).
    if (this.attached && !this.configured) return;
    // LLDB's own event for the stop settlePause reported already (no resume since).
    if (this.stopped && this.settled) return;
    this.stopped = true;
    this.stopPolling();
    this.frameIds = new Map();
    this.refFrames = new Map();
    this.frameCache = new Map();
    this.ownFrames = new Map();
    this.breakpointThread = b.reason === 'breakpoint' || b.reason === 'function breakpoint' ? b.threadId : undefined;
    this.threadIndexes = undefined;
    this.memory.invalidate();
    const threadId = b.threadId ?? (await this.threads().catch(() => []))[0]?.id ?? 0;
    this.lastThread = threadId;
    await this.refreshBreakpoints().catch(() => undefined);
    const top = (await this.frames(threadId, 1).catch(() => []))[0];
    const where = top ? frameWords(top) : '';
    const description = b.description ?? '';
    let ev: StopEvent;
    const bpId = b.reason === 'breakpoint' || b.reason === 'function breakpoint' ? stoppedBreakpointId(description) : undefined;
    const signal = stoppedSignal(description);
    const watchpoint = /^watchpoint (\d+)/.exec(description);
    this.lastSignal = signal;
    if (bpId !== undefined && bpId === this.panicBreakpoint) {
      const site = panicSite(await this.frames(threadId, 40).catch(() => []));
      const msg = this.panics.take();
      ev = { reason: 'panic', threadId, description: `Rust panic${msg ? `: ${msg}` : ''}${site}`, breakpointIds: [] };
    } else if (bpId !== undefined) {
      ev = { reason: 'breakpoint', threadId, description: `breakpoint ${bpId}${where}`, breakpointIds: [bpId] };
    } else if (b.reason === 'pause' || (this.interrupted && (!signal || signal === 'SIGSTOP' || signal === 'SIGINT'))) {
      ev = { reason: 'pause', threadId, description: 'paused' };
    } else if (signal) {
      ev = { reason: 'signal', threadId, description: `${signal}${where}`, signal };
    } else if (b.reason === 'watchpoint' || b.reason === 'data breakpoint' || watchpoint) {
      ev = { reason: 'data breakpoint', threadId, description: `data breakpoint${watchpoint ? ` ${watchpoint[1]}` : ''}${where}`, breakpointIds: [] };
    } else if (b.reason === 'step') {
      ev = { reason: 'step', threadId, description: `step${where}` };
    } else if (b.reason === 'entry') {
      ev = { reason: 'entry', threadId, description: `entry${where}` };
    } else {
      ev = { reason: (b.reason as StopReason) === 'exception' ? 'exception' : 'signal', threadId, description: `${description || b.reason || 'stopped'}${where}` };
    }
    this.interrupted = false;
    this.emit('stopped', ev);
  }

  // ---- breakpoints -----------------------------------------------------------------------------

  async insertBreakpoint(req: BreakpointRequest): Promise<BreakpointState> {
    const loc = parseNativeLocation(req.location);
    const parts = ['breakpoint set'];
    if ('address' in loc) parts.push(`--address 0x${loc.address.toString(16)}`);
    else if ('file' in loc) parts.push(`--file ${lldbQuote(loc.file)} --line ${loc.line}`);
    // A bare name matches what `--name` would (the function in any namespace or Rust module, a
    // legacy Rust hash after it: `std::panicking::rust_panic::h…`) and also the copies GCC makes of
    // a C function (`sys_audit.lto_priv.0` in an LTO build such as Debian's python3.11, `f.part.0`,
    // `f.cold`), which GDB finds through DWARF and LLDB does not.
    else if (/^[A-Za-z_]\w*$/.test(loc.function)) parts.push(`--func-regex ${lldbQuote(`^(.*::)?${loc.function}(::h[0-9a-f]{16})?(\\.(lto_priv|part|isra|constprop)(\\.[0-9]+)?)*$`)}`);
    else parts.push(`--name ${lldbQuote(loc.function)}`);
    if (req.atEntry && 'function' in loc) parts.push('--skip-prologue false');
    if (req.condition) parts.push(`--condition ${lldbQuote(req.condition)}`);
    if (req.ignoreCount) parts.push(`--ignore-count ${req.ignoreCount}`);
    const out = await this.command(parts.join(' '));
    const set = parseBreakpointSet(out);
    if (!set) throw new UserError(`cannot set a breakpoint at ${req.location}: ${commandError(out) ?? out.trim()}`);
    const bp: Bp = { id: set.id, verified: false, location: req.location };
    if ('file' in loc) {
      bp.file = loc.file;
      bp.line = loc.line;
    }
    this.bps.set(bp.id, bp);
    if (req.location === PANIC_FUNCTION) {
      this.panicBreakpoint = bp.id;
      bp.internal = true; // never shown: not worth polling LLDB for while the program runs
    }
    await this.refreshBreakpoints([bp.id]).catch(() => undefined);
    if (bp.verified && bp.line === undefined && 'address' in loc) {
      // An address LLDB places without its line (Debian's LTO python3.11): the line table has it.
      const where = lineEntry(await this.command(`image lookup --verbose --address 0x${loc.address.toString(16)}`).catch(() => ''));
      if (where) Object.assign(bp, where);
    }
    if (!bp.verified) this.startPolling();
    return { id: bp.id, verified: bp.verified, file: bp.file, line: bp.line, message: bp.verified ? undefined : 'pending: resolved when the library that holds it is loaded' };
  }

  entryArgument(n: number): string {
    return `$arg${n}`;
  }

  async deleteBreakpoint(id: number): Promise<void> {
    this.bps.delete(id);
    await this.command(`breakpoint delete --force ${id}`);
  }

  /** Reads which breakpoints have locations now; reports those newly resolved ('breakpoint'). */
  private async refreshBreakpoints(only?: number[]): Promise<void> {
    const ids = only ?? [...this.bps.values()].filter((b) => !b.verified).map((b) => b.id);
    if (!ids.length) return;
    const info = parseBreakpointList(await this.command(`breakpoint list ${ids.join(' ')}`));
    let loaded = false;
    for (const id of ids) {
      const bp = this.bps.get(id);
      const i = info.get(id);
      if (!bp || !i || i.locations === 0) continue;
      bp.verified = true;
      if (i.line !== undefined && !bp.file) {
        bp.file = i.file;
        bp.line = i.line;
      } else if (i.line !== undefined && bp.file?.split('/').pop() === i.file) {
        bp.line = i.line;
      }
      if (!only) {
        loaded = true;
        this.emit('breakpoint', { id, verified: true, file: bp.file, line: bp.line } satisfies BreakpointState);
      }
    }
    if (loaded) {
      this.symbols.clear();
      this.native.libraryLoaded();
      this.emit('libraryLoaded', { path: '' });
    }
  }

  /** While the program runs with pending breakpoints: look for their resolution (lldb-vscode
   *  reports no module loads for breakpoints it did not make). */
  private startPolling(): void {
    const pending = (): boolean => [...this.bps.values()].some((b) => !b.verified && !b.internal);
    if (this.poll || this.stopped || this.closing || this.exited || !pending()) return;
    this.poll = setInterval(() => {
      if (this.stopped || this.exited || !pending()) return this.stopPolling();
      void this.refreshBreakpoints().catch(() => undefined);
    }, 250);
    this.poll.unref();
  }

  private stopPolling(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
  }

  // ---- threads, frames, variables --------------------------------------------------------------

  async threads(): Promise<NativeThread[]> {
    const r = await this.dap.request<{ threads: DapThread[] }>('threads', {});
    return r.threads.map((t) => {
      // lldb-vscode names a thread "Thread #<its index in `thread list`> <name>".
      const index = /^Thread #(\d+)/.exec(t.name)?.[1];
      return { id: t.id, lwp: t.id, number: index ? Number(index) : undefined, name: t.name.replace(/^Thread #\d+\s*/, '') || undefined, frames: [] };
    });
  }

  /** LLDB's index of a thread (its `thread list`, kept for the stop). A list read before the
   *  thread appeared is read again once. */
  private async threadIndex(threadId: number): Promise<number | undefined> {
    this.threadIndexes ??= this.command('thread list').then(parseThreadList);
    const index = (await this.threadIndexes).get(threadId);
    if (index !== undefined) return index;
    // Listed again (a thread started since), and once more a little later: a list taken while
    // LLDB was still taking the stop in has been seen to lack the thread that stopped.
    for (const wait of [0, 25]) {
      if (wait) await new Promise((r) => setTimeout(r, wait));
      const text = await this.command('thread list');
      this.threadIndexes = Promise.resolve(parseThreadList(text));
      const found = (await this.threadIndexes).get(threadId);
      if (found !== undefined) return found;
      if (wait) this.log?.(`lldb: thread ${threadId} not in \`thread list\`: ${text.split('\n').slice(0, 3).join(' / ')}`);
    }
    return undefined;
  }

  async frames(threadId: number, limit?: number): Promise<NativeFrame[]> {
    if (!limit && !this.isCore) {
      const own = this.ownFrames.get(threadId) ?? await this.native.frames(threadId, threadId === this.breakpointThread);
      if (own) {
        this.ownFrames.set(threadId, own);
        return own;
      }
    }
    const frames = await this.lldbFrames(threadId, limit);
    if (!limit) this.native.debuggerUnwound(frames);
    return frames;
  }

  stackShown(): void {
    this.native.stackShown();
  }

  /** Frame 0's registers by x86-64 DWARF number (`thread select` + `register read`, serialised). */
  private dwarfRegisters(threadId: number): Promise<Map<number, bigint> | undefined> {
    const run = async (): Promise<Map<number, bigint> | undefined> => {
      const index = await this.threadIndex(threadId);
      if (index === undefined) return undefined;
      await this.command(`thread select ${index}`);
      const out = await this.command(`register read ${X86_64_DWARF_REGISTERS.join(' ')}`);
      const regs = new Map<number, bigint>();
      for (const m of out.matchAll(/^\s*(\w+) = (0x[0-9a-fA-F]+)/gm)) {
        const n = X86_64_DWARF_REGISTERS.indexOf(m[1]);
        if (n >= 0) regs.set(n, BigInt(m[2]));
      }
      return regs.has(16) && regs.has(7) ? regs : undefined;
    };
    const p = this.registerLock.then(run, run);
    this.registerLock = p.catch(() => undefined);
    return p;
  }

  /** LLDB's own frames of a thread (its backtrace, named as lldb-vscode's stackTrace names them). */
  private async lldbFrames(threadId: number, limit?: number): Promise<NativeFrame[]> {
    const cached = this.frameCache.get(threadId);
    if (cached && (limit === undefined ? cached.length > 0 && (cached as FramesWithAll).all : cached.length >= limit)) return cached.slice(0, limit);
    const trace = this.dap.request<{ stackFrames: DapFrame[] }>('stackTrace', { threadId, startFrame: 0, levels: limit ?? 0 });
    trace.catch(() => undefined); // awaited below, unless the thread is not found first
    const index = await this.threadIndex(threadId);
    if (index === undefined) throw new Error(`no thread ${threadId}`);
    const [dapFrames, bt] = await Promise.all([trace, this.command(`thread backtrace${limit ? ` --count ${limit}` : ''} ${index}`)]);
    const frames = parseBacktrace(bt);
    for (const f of dapFrames.stackFrames.entries()) this.frameIds.set(`${threadId}:${f[0]}`, f[1].id);
    for (const f of frames) {
      // lldb-vscode names an inlined frame by the inlined function (`_Py_INCREF`); the backtrace's
      // `function.name` by the function it is inlined into: DAP's name first.
      const name = dapFrames.stackFrames[f.level]?.name;
      if (name && !/^0x[0-9a-f]+$/i.test(name)) f.func = name.replace(/^.* \[inlined\] /, '');
      if (f.func && isRustName(f.func)) {
        f.func = cleanRustName(f.func);
        f.rust = true;
      }
      // A GCC copy named from its symbol (`math_sqrt.lto_priv.0`, `f.part.0`, `f.cold`): the
      // function's own name, as GDB gives it from DWARF.
      if (f.func) f.func = f.func.replace(GCC_CLONE, '');
      // LLDB's backtrace names a file by its line table; the DAP frame by the same: prefer DAP's path.
      const d = dapFrames.stackFrames[f.level];
      if (d?.source?.path && f.fullname === undefined && d.line) {
        f.fullname = d.source.path;
        f.file = d.source.path.split('/').pop();
        f.line = d.line;
      }
    }
    if (limit === undefined) {
      (frames as FramesWithAll).all = true;
      if (cutAtEvalLoop(frames)) void this.warnCutStack();
    }
    this.frameCache.set(threadId, frames);
    return frames;
  }

  async spCfa(threadId: number, levels: number[]): Promise<Map<number, { sp?: bigint; cfa?: bigint }>> {
    const frames = await this.frames(threadId);
    const out = new Map<number, { sp?: bigint; cfa?: bigint }>();
    for (const f of frames) if (levels.includes(f.level)) out.set(f.level, { sp: f.sp, cfa: f.cfa });
    return out;
  }

  private async frameId(threadId: number, ownLevel: number): Promise<number> {
    // A level of Seam's unwinder is LLDB's where both show the same frame (see debuggerLevel).
    const level = (await this.native.debuggerLevel(threadId, ownLevel)) ?? ownLevel;
    const key = `${threadId}:${level}`;
    if (!this.frameIds.has(key)) await this.lldbFrames(threadId);
    const id = this.frameIds.get(key);
    if (id === undefined) throw new UserError(`no frame ${level} in thread ${threadId}`);
    return id;
  }

  async locals(threadId: number, level: number): Promise<Variable[]> {
    const ref = await this.localsRef(threadId, level);
    return ref !== undefined ? this.children(ref) : [];
  }

  /** lldb-vscode's reference of a frame's locals scope, when it lists one. */
  private async localsRef(threadId: number, level: number): Promise<number | undefined> {
    const frameId = await this.frameId(threadId, level);
    const { scopes } = await this.dap.request<{ scopes: Array<{ name: string; variablesReference: number; presentationHint?: string }> }>('scopes', { frameId });
    const ref = scopes.find((s) => s.presentationHint === 'locals' || /^locals$/i.test(s.name))?.variablesReference;
    if (ref !== undefined) this.refFrames.set(ref, frameId);
    return ref;
  }

  async watchTarget(container: VariableContainer, name: string): Promise<{ address: bigint; size: number } | undefined> {
    let frameId: number | undefined;
    let expression: string | undefined;
    if ('ref' in container) {
      // A member: lldb-vscode names its expression (`a->ob_refcnt`), in the frame it was read in.
      frameId = this.refFrames.get(container.ref);
      const { variables } = await this.dap.request<{ variables: DapVariable[] }>('variables', { variablesReference: container.ref });
      expression = variables.find((v) => v.name === name)?.evaluateName;
    } else {
      frameId = await this.frameId(container.threadId, container.level);
      expression = name;
    }
    if (frameId === undefined || !expression) return undefined;
    return addressAndSize(async (e) => (await this.evaluateC(e, frameId)).result, expression);
  }

  async insertWatchpoint(address: bigint, size: number, access: 'write' | 'read' | 'readWrite'): Promise<number> {
    const kind = access === 'read' ? 'r' : access === 'readWrite' ? 'rw' : 'w';
    const out = await this.command(`watchpoint set expression -w ${kind} -s ${size} -- 0x${address.toString(16)}`);
    const err = commandError(out);
    if (err) throw new UserError(`LLDB could not watch ${size} bytes at 0x${address.toString(16)}: ${err}`);
    const id = /Watchpoint (\d+):/.exec(out)?.[1];
    if (id === undefined) throw new UserError(`LLDB did not say which watchpoint it made: ${out.trim().split('\n').pop()}`);
    return Number(id);
  }

  async deleteWatchpoint(id: number): Promise<void> {
    await this.command(`watchpoint delete ${id}`);
  }

  async setVariable(container: VariableContainer, name: string, value: string): Promise<Variable> {
    const ref = 'ref' in container ? container.ref : await this.localsRef(container.threadId, container.level);
    if (ref === undefined) throw new UserError(`${name} cannot be set: LLDB lists no locals in that frame`);
    try {
      const r = await this.dap.request<{ value: string; type?: string; variablesReference?: number }>('setVariable', { variablesReference: ref, name, value });
      return toVariable({ name, value: r.value, type: r.type, variablesReference: r.variablesReference ?? 0 });
    } catch (e) {
      if (e instanceof DapRequestError) throw new UserError(`${name} = ${value}: ${e.serverMessage}`);
      throw e;
    }
  }

  async children(ref: number): Promise<Variable[]> {
    const { variables } = await this.dap.request<{ variables: DapVariable[] }>('variables', { variablesReference: ref });
    const frameId = this.refFrames.get(ref);
    if (frameId !== undefined) for (const v of variables) if (v.variablesReference > 0) this.refFrames.set(v.variablesReference, frameId);
    return variables.map(toVariable);
  }

  async evaluate(expression: string, threadId?: number, level?: number): Promise<Variable> {
    const frameId = threadId !== undefined ? await this.frameId(threadId, level ?? 0) : await this.anyFrameId().catch(() => undefined);
    const command = expression.startsWith('`');
    try {
      const r = command
        ? await this.dap.request<{ result: string; type?: string; variablesReference?: number }>('evaluate', { expression, frameId, context: 'repl' })
        : await this.evaluateC(expression, frameId);
      if (!command && /^error:/.test(r.result ?? '')) throw new UserError(r.result.replace(/^error:\s*/, ''));
      if (r.variablesReference && frameId !== undefined) this.refFrames.set(r.variablesReference, frameId);
      return toVariable({ name: expression, value: command ? commandOutput(r.result) : r.result, type: r.type, variablesReference: r.variablesReference ?? 0 });
    } catch (e) {
      if (e instanceof DapRequestError) throw new UserError(`${expression}: ${e.serverMessage === 'failed' ? 'cannot be evaluated here' : e.serverMessage}`);
      throw e;
    }
  }

  /** One 'evaluate' request: the expression runs once. */
  async evaluateCall(expression: string, threadId: number, level: number): Promise<string> {
    return (await this.evaluate(expression, threadId, level)).value;
  }

  /**
   * A C expression in a frame. In a process that also holds Rust code, LLDB's clang sees Rust
   * modules as C++ namespaces, and a local named like one (`args`: std::env::args) fails to parse
   * ("unexpected namespace name 'args'"). Such a local is read on its own (lldb-vscode reads a
   * bare name as a variable path) and put in the expression as a typed constant, then retried.
   */
  private async evaluateC(expression: string, frameId: number | undefined, depth = 0): Promise<{ result: string; type?: string; variablesReference?: number }> {
    try {
      return await this.dap.request('evaluate', { expression, frameId, context: 'watch' });
    } catch (e) {
      const m = e instanceof DapRequestError ? /unexpected namespace name '(\w+)'/.exec(e.serverMessage) : null;
      if (!m || depth > 3) throw e;
      const v = await this.dap.request<{ result: string; type?: string }>('evaluate', { expression: m[1], frameId, context: 'watch' }).catch(() => undefined);
      const value = /^0x[0-9a-f]+|^-?\d+/i.exec(v?.result ?? '')?.[0];
      if (!v?.type || value === undefined) throw e;
      const replaced = expression.replace(new RegExp(`(?<![\\w.>:])${m[1]}(?!\\w)`, 'g'), `((${v.type})${value})`);
      if (replaced === expression) throw e;
      return this.evaluateC(replaced, frameId, depth + 1);
    }
  }

  // ---- execution -------------------------------------------------------------------------------

  async continue(): Promise<void> {
    if (!this.configured) return this.configurationDone();
    this.resumed();
    await this.dap.request('continue', { threadId: this.lastThread });
  }

  async pause(): Promise<void> {
    this.interrupted = true;
    const pause = ++this.pauses;
    await this.dap.request('pause', { threadId: this.lastThread });
    // A pause that reaches LLDB while the resume before it is still under way finds nothing
    // running (no stop event), and the resume then goes on. Until the stop comes: ask LLDB, pause
    // again while it runs, report the stop it is in when it is stopped.
    void this.settlePause(pause, 0);
  }

  /** Whether pause number `pause` still waits for its stop (no stop or later pause since). */
  private unsettled(pause: number): boolean {
    return pause === this.pauses && this.interrupted && !this.stopped && !this.closing && !this.exited;
  }

  private settlePause(pause: number, attempt: number): void {
    setTimeout(() => {
      // (A check left from an earlier pause must not report this one's stop a second time.)
      if (!this.unsettled(pause) || attempt >= 10) return;
      this.command('process status').then(async (out) => {
        if (!this.unsettled(pause)) return;
        if (/^Process \d+ stopped/m.test(out)) {
          this.settled = true;
          return this.stoppedSafely({ reason: 'pause' });
        }
        if (/^Process \d+ (?:is )?running/m.test(out)) await this.dap.request('pause', { threadId: this.lastThread }).catch(() => undefined);
        this.settlePause(pause, attempt + 1);
      }).catch(() => undefined);
    }, 300).unref();
  }

  async next(threadId: number): Promise<void> {
    this.resumed();
    await this.dap.request('next', { threadId });
  }

  async stepIn(threadId: number): Promise<void> {
    this.resumed();
    await this.dap.request('stepIn', { threadId });
  }

  /** `thread step-inst[-over]` (lldb-vscode 16 has no instruction granularity): LLDB reports
   *  the stop as any other. */
  async stepInstruction(threadId: number, into: boolean): Promise<void> {
    const index = await this.threadIndex(threadId);
    if (index === undefined) throw new UserError(`no thread ${threadId} to step`);
    this.resumed();
    const out = await this.command(`thread ${into ? 'step-inst' : 'step-inst-over'} ${index}`);
    const err = commandError(out);
    if (err) throw new UserError(`LLDB could not step an instruction: ${err}`);
  }

  readProgramMemory(address: bigint, size: number): Promise<Uint8Array> {
    return this.memory.readThroughDebugger(address, size);
  }

  async disassemble(start: bigint, end: bigint): Promise<Instruction[]> {
    const out = await this.command(`disassemble --bytes --start-address 0x${start.toString(16)} --end-address 0x${end.toString(16)}`);
    if (commandError(out)) return []; // memory that cannot be read: nothing there
    // LLDB's listing has no source lines: Seam's DWARF reader gives them (as GDB's mode 5 does).
    const insns = parseDisassembly(out);
    for (const i of insns) {
      const at = this.isCore ? undefined : this.native.lineAt(i.address);
      if (!at) continue;
      i.line = at.line;
      if (at.file) i.file = at.file;
      if (at.fullname) i.fullname = at.fullname;
    }
    return insns;
  }

  async stepOut(threadId: number): Promise<void> {
    this.resumed();
    await this.dap.request('stepOut', { threadId });
  }

  /** LLDB keeps a step a breakpoint interrupted (its thread plan) and finishes it on the next
   *  resume, with a 'step' stop of its own: discarded here. */
  async abandonStep(threadId: number): Promise<void> {
    const index = await this.threadIndex(threadId);
    if (index === undefined) return;
    const plans = await this.command(`thread plan list ${index}`).catch(() => '');
    if (!/Element 1:/.test(plans.split(/Discarded plan stack:|Completed plan stack:/)[0])) return;
    await this.command(`thread select ${index}`);
    await this.command('thread plan discard 1');
  }
}

type FramesWithAll = NativeFrame[] & { all?: boolean };

const GCC_CLONE = /(?:\.(?:lto_priv|isra|constprop|part|cold)(?:\.\d+)?)+$/;

/** `LineEntry: [0x…-0x…): /path/mathmodule.c:1330:1` of `image lookup --verbose --address`. */
export function lineEntry(text: string): { file: string; line: number } | undefined {
  const m = /LineEntry: \[[^)]*\): (.+?):(\d+)(?::\d+)?\s*$/m.exec(text);
  return m ? { file: m[1], line: Number(m[2]) } : undefined;
}

/**
 * The exit code in the shell's convention (128 + signal when killed), from LLDB's: it reports a
 * death by signal as the signal's number, and -1 for a process killed while stopped. Under a
 * debugger every signal but SIGKILL stops the program first, so a number equal to the last signal
 * stop's is that signal, and -1 is SIGKILL.
 */
export function shellExitCode(code: number, lastSignal: string | undefined): number {
  if (code === -1) return 128 + 9;
  const signo = lastSignal ? (osConstants.signals as Record<string, number | undefined>)[lastSignal] : undefined;
  return signo !== undefined && code === signo ? 128 + signo : code;
}

function toVariable(v: DapVariable): Variable {
  // lldb-vscode 16 names an anonymous member `<null>`: named by its kind, as GDB does.
  const anonymous = v.name === '<null>' && /^\(anonymous (union|struct)\)$/.exec(v.type ?? '');
  const out: Variable = { name: anonymous ? `<anonymous ${anonymous[1]}>` : v.name, value: v.value, type: v.type, ref: v.variablesReference ?? 0 };
  const addr = /^0x[0-9a-f]+/i.exec(v.value.trim());
  if (addr) out.address = BigInt(addr[0]);
  return out;
}

