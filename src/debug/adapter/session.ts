/**
 * Seam's debug session: translates DAP to the backend interface and back. Breakpoints, the
 * merged stack and variables live in their own modules; the backend (GDB) does the debugging.
 */
import {
  LoggingDebugSession, InitializedEvent, StoppedEvent, ContinuedEvent, OutputEvent, ExitedEvent,
  TerminatedEvent, BreakpointEvent, Thread, Scope, Source, StackFrame, Handles, logger, Logger,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { BreakpointState, DebugBackend, StopEvent, VariableContainer } from '../backend';
import { createBackend } from '../backendFactory';
import { StackService } from '../stackService';
import { Breakpoints } from './breakpoints';
import {
  EXCEPTION_FILTERS, EXC_RAISED, EXC_UNCAUGHT, PythonBreakpoints, bootstrapPath, describeException, hideBootstrap, hideTrap,
  type PythonException,
} from './pythonBreakpoints';
import { resolvePython } from './python';
import { UserError } from '../errors';
import type { AttachArgs, LaunchArgs } from './launchConfig';
import type { MergedFrame } from '../types';
import { describeNative, pythonChildren, pythonLocals, type PythonVariable } from './values';
import { injectBootstrap } from './pythonAttach';
import { STEP_DONE, STEP_NATIVE } from './pythonStepping';
import { Stepping, type StepHost } from './stepping';
import { evaluatePython } from './pythonEvaluate';
import { hex, instructionWindow, MAX_COUNT, parseAddress, toDapInstructions } from './disassembly';

const LANG_TAG: Record<MergedFrame['language'], string> = { python: '[Py]', c: '[C]', rust: '[Rust]', native: '[native]' };
const ORIGIN: Record<MergedFrame['language'], string> = { python: 'Python', c: 'C', rust: 'Rust', native: 'native (no debug info)' };

type VarRef = { kind: 'locals'; threadId: number; frame: MergedFrame; level: number } | { kind: 'children'; ref: number }
  /** A Python object's insides, read from memory; with `native`, the C struct's fields (the
   *  debugger's children of the `PyObject *`) as one more entry. */
  | { kind: 'python'; address: bigint; native?: number };

/** How long the adapter waits for its debugger to end the session once the client is gone. */
const CLIENT_GONE_MS = 5000;

export class SeamDebugSession extends LoggingDebugSession {
  private backend: DebugBackend | undefined;
  private stacks: StackService | undefined;
  private readonly breakpoints = new Breakpoints(() => this.backend);
  private showGlue = false;
  private launched = false;
  private frames = new Handles<{ threadId: number; frame: MergedFrame; level: number }>();
  private vars = new Handles<VarRef>();
  private configured!: Promise<void>;
  private markConfigured!: () => void;
  private exited = false;
  /** Between a reported stop and the next resume. */
  private isStopped = false;
  /** Python line breakpoints (launch only) and the bootstrap the program runs under. */
  private python: PythonBreakpoints | undefined;
  private bootstrap: string | undefined;
  /** The thread stopped at a Python breakpoint (its stack hides the trap), until the resume. */
  private trapThread: number | undefined;
  /** Steps across the boundary: their state and the debugger runs they make. */
  private readonly steps = new Stepping(this.stepHost());
  /** The exception of the latest exception stop (Python or a native signal/panic), until the resume. */
  private exception: { threadId: number; python?: PythonException; text: string } | undefined;

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.configured = new Promise((r) => (this.markConfigured = r));
  }

  /** LoggingDebugSession.start() (re)initialises the shared logger, which then queues every line
   *  it is given, forever, until set up: set it up at once (launch/attach may add a log file). */
  start(inStream: NodeJS.ReadableStream, outStream: NodeJS.WritableStream): void {
    // The client gone (its end of the pipe closed): nothing can reach it any more. Left alone,
    // the library reports each failed write as an error that is logged as one more message,
    // written, failing again: a loop that kept the CPU busy forever and never let the adapter
    // exit (seen when a test client crashed).
    outStream.on('error', () => this.clientGone());
    inStream.on('end', () => this.clientGone());
    super.start(inStream, outStream);
    logger.setup(Logger.LogLevel.Warn, false);
  }

  private gone = false;

  /** Ends the session as a disconnect would (a launched program is ended, an attached one left
   *  running), then the process. */
  private clientGone(): void {
    if (this.gone) return;
    this.gone = true;
    const close = this.backend?.close({ detach: !this.launched }).catch(() => undefined);
    const bounded = new Promise((resolve) => setTimeout(resolve, CLIENT_GONE_MS).unref());
    void Promise.race([close, bounded]).then(() => process.exit(0));
  }

  sendEvent(event: DebugProtocol.Event): void {
    if (!this.gone) super.sendEvent(event);
  }

  sendResponse(response: DebugProtocol.Response): void {
    if (!this.gone) super.sendResponse(response);
  }

  protected initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsEvaluateForHovers: true,
      supportsTerminateRequest: true,
      supportsDelayedStackTraceLoading: true,
      supportTerminateDebuggee: true,
      exceptionBreakpointFilters: EXCEPTION_FILTERS,
      supportsExceptionInfoRequest: true,
      supportsDisassembleRequest: true,
      supportsSteppingGranularity: true,
      supportsReadMemoryRequest: true,
      supportsSetVariable: true,
      supportsDataBreakpoints: true,
    };
    this.sendResponse(response);
  }

  /** The one error wrapper: UserErrors reach the user as they are; anything else is an internal
   *  error, logged with its stack. */
  private async run(response: DebugProtocol.Response, f: () => Promise<void>): Promise<void> {
    try {
      await f();
      this.sendResponse(response);
    } catch (e) {
      const err = e as Error;
      if (err.name === 'GdbExitedError' || err.name === 'LldbExitedError') {
        // The debugger died with this request in flight: 'terminated' follows with the reason.
        this.sendErrorResponse(response, { id: 1, format: `the debugger ended unexpectedly: ${err.message}`, showUser: false });
        return;
      }
      if (!this.backend && err instanceof TypeError) {
        this.sendErrorResponse(response, { id: 1, format: 'no program is being debugged: launch or attach first', showUser: true });
        return;
      }
      const user = err instanceof UserError || err.name.endsWith('NotFoundError') || err.name === 'UserError';
      if (!user) logger.error(`internal error: ${err.stack ?? err}`);
      this.sendErrorResponse(response, { id: 1, format: user ? err.message : `internal error: ${err.message} (see the log)`, showUser: true });
    }
  }

  private async startBackend(args: LaunchArgs | AttachArgs): Promise<DebugBackend> {
    // Everything to the file; only warnings and errors to the Debug Console (verbose lines would
    // reach it as program stdout).
    if (args.logFile) logger.setup(Logger.LogLevel.Warn, args.logFile);
    this.showGlue = !!args.showGlue;
    const backend = await createBackend({ debugger: args.debugger, gdbPath: args.gdbPath, lldbDapPath: args.lldbDapPath, log: (l) => logger.verbose(l) });
    this.backend = backend;
    this.stacks = new StackService(backend, (l) => this.sendEvent(new OutputEvent(`[seam] ${l}\n`, 'console')));
    backend.on('stopped', (e: StopEvent) => void this.onStopped(e));
    backend.on('continued', () => {
      if (this.steps.internalRun) return;
      this.isStopped = false;
      this.trapThread = undefined;
      this.exception = undefined;
      this.stacks?.invalidate();
      this.sendEvent(new ContinuedEvent(0, true));
    });
    backend.on('output', (o: { category: string; text: string }) => {
      if (o.category === 'stderr' && this.python) {
        // Logpoint lines from the bootstrap become console output; the rest is the program's.
        const { passthrough, logs } = this.python.filterStderr(o.text);
        for (const l of logs) this.sendEvent(new OutputEvent(`${l}\n`, 'console'));
        if (passthrough) this.sendEvent(new OutputEvent(passthrough, 'stderr'));
        return;
      }
      this.sendEvent(new OutputEvent(o.text, o.category));
    });
    backend.on('breakpoint', (st: BreakpointState) => {
      const bp = this.breakpoints.changed(st);
      if (bp) this.sendEvent(new BreakpointEvent('changed', bp as DebugProtocol.Breakpoint));
    });
    backend.on('libraryLoaded', () => this.stacks?.reset());
    backend.on('warning', (w: { text: string }) => this.sendEvent(new OutputEvent(`[seam] ${w.text}\n`, 'console')));
    backend.on('exited', (e: { exitCode: number; uncertain?: boolean }) => {
      // A status the debugger lost: the one the bootstrap recorded, when it did.
      if (e.uncertain) e = { exitCode: this.python?.recordedExit() ?? e.exitCode };
      this.disposePython();
      if (this.exited) return;
      this.exited = true;
      this.sendEvent(new ExitedEvent(e.exitCode));
      this.sendEvent(new OutputEvent(`program exited with code ${e.exitCode}\n`, 'console'));
      this.sendEvent(new TerminatedEvent());
    });
    backend.on('terminated', (e: { reason?: string }) => {
      this.disposePython();
      if (e.reason) this.sendEvent(new OutputEvent(`${e.reason}\n`, 'stderr'));
      if (!this.exited) {
        this.exited = true;
        this.sendEvent(new TerminatedEvent());
      }
    });
    return backend;
  }

  protected launchRequest(response: DebugProtocol.LaunchResponse, args: LaunchArgs): void {
    void this.run(response, async () => {
      if (!args.program && !args.module) throw new UserError('set "program" (a Python script) or "module" in the launch configuration');
      const python = resolvePython(args.python);
      const backend = await this.startBackend(args);
      // The program runs under Seam's bootstrap, which runs it as `python SCRIPT` / `-m MODULE`
      // would and hooks Python line breakpoints (read from the control file) only while some exist.
      this.bootstrap = bootstrapPath();
      this.python = new PythonBreakpoints();
      this.breakpoints.python = this.python;
      const scriptArgs = args.module ? ['-m', args.module, ...(args.args ?? [])] : [args.program!, ...(args.args ?? [])];
      await backend.launch({ program: python, args: [this.bootstrap, ...scriptArgs], cwd: args.cwd, env: { ...args.env, SEAM_CONTROL: this.python.controlPath }, disableAslr: args.disableAslr });
      if (args.stopOnPanic !== false) await backend.insertBreakpoint({ location: 'rust_panic' }).catch(() => undefined);
      await this.python.installTrap(backend).catch((e) =>
        this.sendEvent(new OutputEvent(`[seam] Python breakpoints will not stop: no trap on sys_audit (${(e as Error).message})\n`, 'console')));
      this.launched = true;
      this.sendEvent(new InitializedEvent());
      // The program starts once the client has sent its breakpoints (configurationDone).
      void this.configured.then(() => backend.run()).catch((e) => this.fail(e));
    });
  }

  protected attachRequest(response: DebugProtocol.AttachResponse, args: AttachArgs): void {
    void this.run(response, async () => {
      const backend = await this.startBackend(args);
      if (args.coreFile) {
        const python = resolvePython(args.python);
        await backend.openCore(args.coreFile, python);
        this.sendEvent(new InitializedEvent());
        this.isStopped = true;
        this.exception = { threadId: 1, text: 'core file' };
        this.sendEvent(new StoppedEvent('exception', 1, 'core file'));
        return;
      }
      const pid = Number(args.processId);
      if (!Number.isInteger(pid) || pid <= 0) throw new UserError(`"processId" must be a process id, not '${args.processId}'`);
      await backend.attach(pid);
      await this.armPythonOnAttach(backend, pid);
      this.sendEvent(new InitializedEvent());
      void this.configured.then(() => backend.continue()).catch((e) => this.fail(e));
    });
  }

  /** Python breakpoints, exceptions and steps on an attached program: the trap, then the
   *  bootstrap brought in (pythonAttach.ts). Without it the session still debugs natively. */
  private async armPythonOnAttach(backend: DebugBackend, pid: number): Promise<void> {
    const python = new PythonBreakpoints();
    try {
      await python.installTrap(backend);
      const threads = await backend.threads();
      const main = threads.find((t) => t.lwp === pid) ?? threads[0];
      if (!main) throw new Error('no thread');
      this.steps.internalRun = true; // the calls the debugger makes in the program are not the user's stops
      try {
        await injectBootstrap(backend, pid, main.id, bootstrapPath(), python.controlPath);
        this.bootstrap = bootstrapPath(); // its frames are hidden, as on launch
      } finally {
        this.steps.internalRun = false;
      }
      this.python = python;
      this.breakpoints.python = python;
      this.sendEvent(new OutputEvent('[seam] Python breakpoints are armed when the main thread next runs Python code\n', 'console'));
    } catch (e) {
      python.dispose();
      this.sendEvent(new OutputEvent(`[seam] Python breakpoints unavailable on this attach (${(e as Error).message}): native breakpoints work\n`, 'console'));
    }
  }

  protected configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.sendResponse(response);
    this.markConfigured();
  }

  private fail(e: unknown): void {
    this.sendEvent(new OutputEvent(`${(e as Error).message}\n`, 'stderr'));
    if (!this.exited) {
      this.exited = true;
      this.sendEvent(new TerminatedEvent());
    }
  }

  private disposePython(): void {
    this.python?.dispose();
  }

  private async onStopped(e: StopEvent): Promise<void> {
    if (this.steps.takeInternal(e)) return;
    this.stacks?.invalidate();
    this.frames.reset();
    this.vars.reset();
    if (this.python && (this.python.isTrap(e.breakpointIds) || await this.python.trapUnreported(this.backend!, e.threadId))) {
      // A Python line breakpoint: the bootstrap called sys.audit("seam.breakpoint", id).
      const id = await this.python.trapped(this.backend!, e.threadId);
      if (id === STEP_NATIVE) return this.steps.onNativeCall(e.threadId);
      const step = await this.steps.trapped();
      this.isStopped = true;
      this.trapThread = e.threadId;
      if (id === STEP_DONE) {
        this.sendStopped('step', e.threadId, 'Python step', step);
        return;
      }
      if (id === EXC_RAISED || id === EXC_UNCAUGHT) {
        // The bootstrap wrote the exception down just before it trapped.
        const python = this.python.exceptionAtTrap();
        const text = python ? describeException(python) : id === EXC_UNCAUGHT ? 'uncaught Python exception' : 'Python exception';
        this.exception = { threadId: e.threadId, python, text };
        const ev = new StoppedEvent('exception', e.threadId) as DebugProtocol.StoppedEvent;
        ev.body.allThreadsStopped = true;
        ev.body.description = text;
        ev.body.text = text;
        this.sendEvent(ev);
        return;
      }
      // A breakpoint (during a step too: the bootstrap ended the step, the breakpoint wins).
      const ev = new StoppedEvent('breakpoint', e.threadId) as DebugProtocol.StoppedEvent;
      ev.body.allThreadsStopped = true;
      ev.body.description = 'Python breakpoint';
      if (id !== undefined) ev.body.hitBreakpointIds = [id];
      this.sendEvent(ev);
      return;
    }
    if (await this.steps.atNativeEntry(e)) return;
    if (e.breakpointIds?.length) {
      const hit = this.breakpoints.onHit(e.breakpointIds);
      for (const msg of hit.logs) this.sendEvent(new OutputEvent(`${await this.interpolate(msg, e.threadId)}\n`, 'console'));
      if (!hit.report) {
        await this.backend?.continue();
        return;
      }
    }
    await this.steps.otherStop(e.reason === 'step');
    this.isStopped = true;
    const ev = new StoppedEvent(e.reason, e.threadId, e.description) as DebugProtocol.StoppedEvent;
    ev.body.allThreadsStopped = true;
    ev.body.description = e.description;
    if (e.reason === 'panic' || e.reason === 'signal' || e.reason === 'exception') {
      ev.body.text = e.description;
      this.exception = { threadId: e.threadId, text: e.description ?? e.reason };
    }
    this.sendEvent(ev);
  }

  private sendStopped(reason: string, threadId: number, description: string, since?: { started: number }): void {
    const ev = new StoppedEvent(reason, threadId) as DebugProtocol.StoppedEvent;
    ev.body.allThreadsStopped = true;
    ev.body.description = description;
    if (since) logger.verbose(`step latency ${Date.now() - since.started} ms (${description})`);
    this.sendEvent(ev);
  }

  /** Logpoint text: `{expr}` parts evaluated in the stopped frame. */
  private async interpolate(msg: string, threadId: number): Promise<string> {
    const parts = msg.split(/(\{[^{}]+\})/);
    const out: string[] = [];
    for (const p of parts) {
      if (p.startsWith('{') && p.endsWith('}')) {
        try {
          out.push((await this.backend!.evaluate(p.slice(1, -1), threadId, 0)).value);
        } catch (err) {
          out.push(`<${(err as Error).message}>`);
        }
      } else out.push(p);
    }
    return out.join('');
  }

  protected threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    void this.run(response, async () => {
      if (!this.stacks || !this.backend) {
        response.body = { threads: [] };
        return;
      }
      if (!this.isStopped) {
        // VS Code asks right after configurationDone, while the program runs: no stacks then
        // (nothing to read yet, and a read that races the start would cache a wrong answer).
        const ts = await this.backend.threads();
        const names = this.python?.threadNames() ?? new Map<number, string>();
        response.body = { threads: ts.map((t) => new Thread(t.id, (t.lwp !== undefined && names.get(t.lwp)) || t.name || `Thread ${t.id}`)) };
        return;
      }
      const snap = await this.stacks.snapshot();
      // `threading` names where the bootstrap publishes them (launch, attach), else the OS's.
      const names = this.python?.threadNames() ?? new Map<number, string>();
      response.body = { threads: snap.threads.map((t) => new Thread(t.id, `${(t.lwp !== undefined && names.get(t.lwp)) || t.name}${t.holdsGil ? ' (GIL)' : ''}`)) };
    });
  }

  protected stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    void this.run(response, async () => {
      const snap = await this.stacks!.snapshot();
      const t = snap.threads.find((x) => x.id === args.threadId);
      const shown = this.visible(this.withoutBootstrap(args.threadId, t?.frames ?? []));
      const start = args.startFrame ?? 0;
      const end = args.levels ? start + args.levels : shown.length;
      response.body = { stackFrames: shown.slice(start, end).map((f) => this.toDapFrame(args.threadId, f)), totalFrames: shown.length };
    });
  }

  /** Without the bootstrap's frames; at a Python breakpoint, the user's line on top. */
  private withoutBootstrap(threadId: number, frames: MergedFrame[]): MergedFrame[] {
    if (!this.bootstrap || this.showGlue) return frames;
    return threadId === this.trapThread ? hideTrap(frames, this.bootstrap) : hideBootstrap(frames, this.bootstrap);
  }

  /** Glue folded into one label frame per run, unless showGlue. */
  private visible(frames: MergedFrame[]): (MergedFrame | { fold: number })[] {
    if (this.showGlue) return frames;
    const out: (MergedFrame | { fold: number })[] = [];
    for (const f of frames) {
      if (!f.glue) out.push(f);
      else {
        const last = out[out.length - 1];
        if (last && 'fold' in last) last.fold++;
        else out.push({ fold: 1 });
      }
    }
    return out;
  }

  private toDapFrame(threadId: number, f: MergedFrame | { fold: number }): DebugProtocol.StackFrame {
    if ('fold' in f) {
      const sf = new StackFrame(this.frames.create({ threadId, frame: { language: 'native', function: '', file: null, line: null, glue: true }, level: -1 }),
        `… ${f.fold} interpreter frame${f.fold > 1 ? 's' : ''}`) as DebugProtocol.StackFrame;
      sf.presentationHint = 'label';
      return sf;
    }
    const level = f.native?.level ?? -1;
    const id = this.frames.create({ threadId, frame: f, level });
    const src = f.file ? new Source(f.file.split('/').pop() ?? f.file, f.file, 0, ORIGIN[f.language]) : undefined;
    const sf = new StackFrame(id, `${LANG_TAG[f.language]} ${f.function}`, src, f.line ?? 0, 1) as DebugProtocol.StackFrame;
    if (f.glue) sf.presentationHint = 'subtle';
    if (!src) sf.presentationHint = 'subtle';
    // The pc of a native frame: the Disassembly view opens there (by itself for a frame
    // without source: libc, a stripped wheel).
    if (f.native && f.language !== 'python') sf.instructionPointerReference = hex(f.native.pc);
    return sf;
  }

  protected scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const fr = this.frames.get(args.frameId);
    response.body = { scopes: fr && fr.level >= -1 && !(fr.frame.glue && fr.level < 0) ? [new Scope('Locals', this.vars.create({ kind: 'locals', ...fr }), false)] : [] };
    this.sendResponse(response);
  }

  protected variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    void this.run(response, async () => {
      const v = this.vars.get(args.variablesReference);
      let list: PythonVariable[] = [];
      let python = false;
      if (v?.kind === 'locals') {
        python = v.frame.language === 'python' && !!v.frame.python;
        if (python) list = await this.pythonLocals(v.frame.python!.address);
        else if (v.level >= 0) list = await this.backend!.locals(v.threadId, v.level);
      } else if (v?.kind === 'children') {
        list = await this.backend!.children(v.ref);
      } else if (v?.kind === 'python') {
        python = true;
        list = await pythonChildren(this.backend!, this.stacks!, v.address);
      }
      const out: DebugProtocol.Variable[] = [];
      if (v?.kind === 'python' && v.native) {
        out.push({ name: '(C struct)', value: 'the object\'s fields as the debugger reads them', variablesReference: this.vars.create({ kind: 'children', ref: v.native }), presentationHint: { kind: 'virtual' } });
      }
      for (const x of list) {
        const d = python ? { value: x.value, python: x.python } : await describeNative(x, this.backend!, this.stacks);
        out.push({
          name: x.name,
          value: d.value,
          type: x.type,
          variablesReference: d.python !== undefined ? this.vars.create({ kind: 'python', address: d.python, ...(python ? {} : { native: x.ref }) })
            : x.ref ? this.vars.create({ kind: 'children', ref: x.ref }) : 0,
          // What a pointer points at, for the memory view ("View Binary Data").
          ...(x.address ? { memoryReference: hex(x.address) } : d.python ? { memoryReference: hex(d.python) } : {}),
        });
      }
      response.body = { variables: out };
    });
  }

  protected setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): void {
    void this.run(response, async () => {
      const be = this.backend;
      const v = this.vars.get(args.variablesReference);
      if (!be || !v) throw new UserError(`${args.name} cannot be set: the program is not stopped there any more`);
      if (!be.setVariable) throw new UserError('this debugger cannot set variables');
      const container = nativeContainer(v);
      if (container === 'python') {
        throw new UserError(`${args.name}: Python values are read from the program's memory, not set there; at a Python breakpoint, assign it in the Debug Console (${args.name} = ${args.value})`);
      }
      if (!container) throw new UserError(`${args.name} cannot be set here`);
      const x = await be.setVariable(container, args.name, args.value);
      const d = await describeNative(x, be, this.stacks);
      response.body = {
        value: d.value,
        type: x.type,
        variablesReference: d.python !== undefined ? this.vars.create({ kind: 'python', address: d.python, native: x.ref || undefined })
          : x.ref ? this.vars.create({ kind: 'children', ref: x.ref }) : 0,
      };
    });
  }

  /** Data breakpoints set (the protocol sends them all each time). */
  private dataBreakpoints: number[] = [];

  protected dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    void this.run(response, async () => {
      const none = (description: string): void => {
        response.body = { dataId: null, description };
      };
      const be = this.backend;
      const v = args.variablesReference !== undefined ? this.vars.get(args.variablesReference) : undefined;
      if (!be?.watchTarget || !v) return none('data breakpoints are set on a C or Rust variable in Variables');
      const container = nativeContainer(v);
      if (container === 'python') return none(`${args.name}: Python values are read from memory; a data breakpoint watches a C or Rust variable`);
      const at = container && await be.watchTarget(container, args.name);
      if (!at) return none(`${args.name} has no address to watch (a register, or optimised out)`);
      if (at.size > MAX_WATCH_BYTES) return none(`${args.name} is ${at.size} bytes: a data breakpoint watches up to ${MAX_WATCH_BYTES} (one CPU debug register); watch one of its fields`);
      response.body = {
        dataId: `${hex(at.address)}:${at.size}`,
        description: `${args.name} (${at.size} byte${at.size > 1 ? 's' : ''} at ${hex(at.address)})`,
        accessTypes: ['write', 'read', 'readWrite'],
        canPersist: false,
      };
    });
  }

  protected setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    void this.run(response, async () => {
      const be = this.backend;
      if (!be?.insertWatchpoint || !be.deleteWatchpoint) throw new UserError('this debugger cannot set data breakpoints here');
      for (const id of this.dataBreakpoints.splice(0)) await be.deleteWatchpoint(id).catch(() => undefined);
      const out: DebugProtocol.Breakpoint[] = [];
      for (const [i, b] of args.breakpoints.entries()) {
        const m = /^(0x[0-9a-f]+):(\d+)$/i.exec(b.dataId);
        if (!m) {
          out.push({ verified: false, message: `not a data breakpoint Seam made: ${b.dataId}` });
          continue;
        }
        if (i >= MAX_WATCHPOINTS) {
          out.push({ verified: false, message: `at most ${MAX_WATCHPOINTS} data breakpoints at once (the CPU's debug registers)` });
          continue;
        }
        try {
          const id = await be.insertWatchpoint(BigInt(m[1]), Number(m[2]), b.accessType ?? 'write');
          this.dataBreakpoints.push(id);
          const note = b.condition || b.hitCondition ? ' (its condition is not supported: it stops on every access)' : '';
          out.push({ verified: true, id, ...(note ? { message: `watching${note}` } : {}) });
        } catch (e) {
          out.push({ verified: false, message: (e as Error).message });
        }
      }
      response.body = { breakpoints: out };
    });
  }

  private async pythonLocals(frameAddress: bigint): Promise<PythonVariable[]> {
    return pythonLocals(this.backend!, this.stacks!, frameAddress);
  }

  protected evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    void this.run(response, async () => {
      const fr = args.frameId !== undefined ? this.frames.get(args.frameId) : undefined;
      if (fr?.frame.language === 'python') {
        // A local's name (hover, watch) is read from memory: no code runs in the program.
        const name = args.expression.trim();
        const local = fr.frame.python && /^[A-Za-z_]\w*$/.test(name)
          ? (await this.pythonLocals(fr.frame.python.address)).find((l) => l.name === name) : undefined;
        if (local) {
          response.body = { result: local.value, type: local.type, variablesReference: local.python !== undefined ? this.vars.create({ kind: 'python', address: local.python }) : 0 };
          return;
        }
        // Code runs in the program only where the interpreter stopped cleanly: at a Python
        // breakpoint or step (a native stop may be inside the interpreter's own work). Hovers never.
        if (args.context !== 'hover' && fr.threadId === this.trapThread && this.python) {
          response.body = await this.evaluateInPython(fr.threadId, fr.frame, args.expression);
          return;
        }
        throw new UserError(/^[A-Za-z_]\w*$/.test(name)
          ? `${name} is not a local of ${fr.frame.function} (Seam reads Python frames from memory here; other Python names and expressions run at a Python breakpoint or step, hovers never)`
          : 'in a hover, or in a Python frame of a thread not stopped at a Python breakpoint or step, Seam shows local names only (read from memory: no code runs in the program there); for debugger expressions select a C or Rust frame');
      }
      const v = await this.backend!.evaluate(args.expression, fr?.threadId, fr && fr.level >= 0 ? fr.level : undefined);
      const d = await describeNative(v, this.backend!, this.stacks);
      response.body = {
        result: d.value, type: v.type,
        variablesReference: d.python !== undefined ? this.vars.create({ kind: 'python', address: d.python, native: v.ref })
          : v.ref ? this.vars.create({ kind: 'children', ref: v.ref }) : 0,
      };
    });
  }

  /** Any other expression in a Python frame: the bootstrap evaluates it (pythonEvaluate.ts). */
  private async evaluateInPython(threadId: number, frame: MergedFrame, expression: string): Promise<DebugProtocol.EvaluateResponse['body']> {
    if (!this.python) throw new UserError('Python expressions need Seam\'s bootstrap in the program (launch, or an attach that brought it in); local names are read from memory');
    const snap = await this.stacks!.snapshot();
    const t = snap.threads.find((x) => x.id === threadId);
    if (!t) throw new UserError(`thread ${threadId} is gone`);
    this.steps.internalRun = true; // the debugger's call into the program is not the user's resume
    let r;
    try {
      r = await evaluatePython(this.backend!, this.python, this.bootstrap, t, frame, expression);
    } finally {
      this.steps.internalRun = false;
    }
    // The expression may have changed the program's state: read it again.
    this.stacks?.invalidate();
    if (!r.ok) throw new UserError(r.value);
    return { result: r.value, type: r.type, variablesReference: 0 };
  }

  protected setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    void this.run(response, async () => {
      response.body = { breakpoints: await this.breakpoints.setForSource(args.source.path ?? '', args.breakpoints ?? []) };
    });
  }

  protected setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    void this.run(response, async () => {
      response.body = { breakpoints: await this.breakpoints.setFunctions(args.breakpoints) };
    });
  }

  protected setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    void this.run(response, async () => {
      // Python exceptions are hooked by the bootstrap: launch only (attach has none yet).
      const filters = args.filters ?? [];
      response.body = { breakpoints: this.python ? this.python.setExceptionFilters(filters) : filters.map(() => ({ verified: false, message: 'Python exception breakpoints need Seam\'s bootstrap in the program (launch, or an attach that brought it in)' })) };
    });
  }

  protected exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse, args: DebugProtocol.ExceptionInfoArguments): void {
    void this.run(response, async () => {
      const ex = this.exception;
      if (!ex || ex.threadId !== args.threadId) throw new UserError(`thread ${args.threadId} is not stopped at an exception`);
      const py = ex.python;
      response.body = py
        ? {
            exceptionId: py.typeName,
            description: py.message,
            breakMode: py.kind === 'uncaught' ? 'unhandled' : 'always',
            details: { typeName: py.typeName, fullTypeName: py.fullTypeName, message: py.message, stackTrace: py.stackTrace },
          }
        : { exceptionId: ex.text.split(/[ :]/)[0] || 'signal', description: ex.text, breakMode: 'always' };
    });
  }

  protected continueRequest(response: DebugProtocol.ContinueResponse): void {
    void this.run(response, async () => {
      await this.steps.cancelPythonStep();
      await this.backend!.continue();
      response.body = { allThreadsContinued: true };
    });
  }

  protected pauseRequest(response: DebugProtocol.PauseResponse): void {
    void this.run(response, () => this.backend!.pause());
  }

  protected nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    void this.run(response, () => {
      if (this.atPythonLine(args.threadId)) return this.steps.pythonStep(args.threadId, 'over');
      if (args.granularity === 'instruction') return this.instructionStep(args.threadId, false);
      return this.steps.nativeStep(args.threadId, () => this.backend!.next(args.threadId));
    });
  }

  protected stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    void this.run(response, () => {
      if (this.atPythonLine(args.threadId)) return this.steps.pythonStep(args.threadId, 'in');
      if (args.granularity === 'instruction') return this.instructionStep(args.threadId, true);
      return this.steps.nativeStepIn(args.threadId);
    });
  }

  /** One machine instruction (the Disassembly view's steps); a line where the debugger cannot. */
  private instructionStep(threadId: number, into: boolean): Promise<void> {
    const be = this.backend!;
    if (!be.stepInstruction) {
      this.sendEvent(new OutputEvent('[seam] this debugger steps by line only here: stepped a line\n', 'console'));
      return into ? this.steps.nativeStepIn(threadId) : this.steps.nativeStep(threadId, () => be.next(threadId));
    }
    return this.steps.nativeStep(threadId, () => be.stepInstruction!(threadId, into));
  }

  protected disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): void {
    void this.run(response, async () => {
      const be = this.backend;
      if (!be) throw new UserError('no program is being debugged');
      if (!be.disassemble) throw new UserError('this debugger cannot disassemble here');
      if (!this.isStopped) throw new UserError('the program is running: pause it to disassemble');
      const base = parseAddress(args.memoryReference);
      if (base === undefined) throw new UserError(`not an address: ${args.memoryReference}`);
      if (args.instructionCount > MAX_COUNT) throw new UserError(`at most ${MAX_COUNT} instructions at once (asked for ${args.instructionCount})`);
      integers('disassemble', { offset: args.offset, instructionOffset: args.instructionOffset, instructionCount: args.instructionCount });
      const address = base + BigInt(args.offset ?? 0);
      if (address < 0n) throw new UserError(`disassemble: no address below 0 (${args.memoryReference} + ${args.offset})`);
      const window = await instructionWindow({ range: (a, b) => be.disassemble!(a, b) }, address, args.instructionOffset ?? 0, args.instructionCount);
      response.body = { instructions: toDapInstructions(window) };
    });
  }

  protected readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    void this.run(response, async () => {
      const be = this.backend;
      if (!be) throw new UserError('no program is being debugged');
      const base = parseAddress(args.memoryReference);
      if (base === undefined) throw new UserError(`not an address: ${args.memoryReference}`);
      integers('readMemory', { offset: args.offset, count: args.count });
      const address = base + BigInt(args.offset ?? 0);
      if (address < 0n) throw new UserError(`readMemory: no address below 0 (${args.memoryReference} + ${args.offset})`);
      const count = Math.max(0, Math.min(args.count, READ_MEMORY_MAX));
      const data = await readPrefix(be, address, count);
      response.body = { address: hex(address), data: Buffer.from(data).toString('base64') };
      if (data.length < count) response.body.unreadableBytes = count - data.length;
    });
  }

  protected stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): void {
    void this.run(response, () => (this.atPythonLine(args.threadId) ? this.steps.pythonStep(args.threadId, 'out') : this.steps.stepOut(args.threadId)));
  }

  /** Stopped at a Python line (a Python breakpoint or step): steps are the bootstrap's. */
  private atPythonLine(threadId: number): boolean {
    if (threadId !== this.trapThread) return false;
    if (!this.python) throw new UserError('Python stepping needs Seam\'s bootstrap in the program (launch, or an attach that brought it in)');
    return true;
  }

  /** What the steps (stepping.ts) see of the session. */
  private stepHost(): StepHost {
    const session = this; // eslint-disable-line @typescript-eslint/no-this-alias
    return {
      get backend() { return session.backend; },
      get python() { return session.python; },
      get stacks() { return session.stacks; },
      get exited() { return session.exited; },
      send: (ev) => this.sendEvent(ev),
      stopped: (reason, threadId, description, since) => {
        this.frames.reset();
        this.vars.reset();
        this.isStopped = true;
        this.sendStopped(reason, threadId, description, since);
      },
      resumed: () => {
        this.isStopped = false;
        this.trapThread = undefined;
        this.exception = undefined;
        this.stacks?.invalidate();
      },
      onStopped: (e) => this.onStopped(e),
    };
  }

  protected terminateRequest(response: DebugProtocol.TerminateResponse): void {
    void this.run(response, async () => {
      await this.backend?.close({ detach: false });
      // The backend is silent about a session it was asked to end: say it is over.
      if (!this.exited) {
        this.exited = true;
        this.sendEvent(new TerminatedEvent());
      }
    });
  }

  protected disconnectRequest(response: DebugProtocol.DisconnectResponse, args: DebugProtocol.DisconnectArguments): void {
    void this.run(response, async () => {
      // Clients may send no arguments at all (DebugClient.stop() does).
      const terminate = args?.terminateDebuggee;
      const detach = terminate === undefined ? !this.launched : !terminate;
      await this.backend?.close({ detach });
      this.backend = undefined;
      this.disposePython();
    });
  }
}

/** Refuses, in words, a request's number arguments that are not integers. */
function integers(request: string, args: Record<string, number | undefined>): void {
  for (const [name, v] of Object.entries(args)) {
    if (v !== undefined && !Number.isSafeInteger(v)) throw new UserError(`${request}: ${name} must be an integer (got ${JSON.stringify(v)})`);
  }
}

/** The native variable container a Variables reference stands for: a frame's locals or a value's
 *  members; 'python' for Python values (read from memory); undefined for anything else. */
function nativeContainer(v: VarRef): VariableContainer | 'python' | undefined {
  if (v.kind === 'python' || (v.kind === 'locals' && v.frame.language === 'python')) return 'python';
  if (v.kind === 'locals' && v.level >= 0) return { threadId: v.threadId, level: v.level };
  if (v.kind === 'children') return { ref: v.ref };
  return undefined;
}

/** Bytes one data breakpoint watches, at most (an x86-64 debug register), and how many at once. */
const MAX_WATCH_BYTES = 8;
const MAX_WATCHPOINTS = 4;

/** Bytes a `readMemory` request may ask for at once. */
const READ_MEMORY_MAX = 1 << 20;

/** The readable bytes from `address` on (up to `count`): all at once, else page by page up to
 *  the first page that cannot be read. */
async function readPrefix(be: DebugBackend, address: bigint, count: number): Promise<Uint8Array> {
  if (count === 0) return new Uint8Array(0);
  const read = (a: bigint, n: number): Promise<Uint8Array> => (be.readProgramMemory ? be.readProgramMemory(a, n) : be.memory.read(a, n));
  try {
    return await read(address, count);
  } catch {
    const parts: Uint8Array[] = [];
    let at = address;
    const end = address + BigInt(count);
    while (at < end) {
      const pageEnd = (at / 4096n + 1n) * 4096n;
      const n = Number((pageEnd < end ? pageEnd : end) - at);
      try {
        parts.push(await read(at, n));
      } catch {
        break;
      }
      at += BigInt(n);
    }
    return Buffer.concat(parts);
  }
}
