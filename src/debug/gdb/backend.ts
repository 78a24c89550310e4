/**
 * The GDB implementation of DebugBackend: maps the backend interface onto `Gdb` (typed MI
 * operations) and GDB's async records onto backend events. No MI text here.
 */
import { existsSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import type { BreakpointRequest, BreakpointState, DebugBackend, LaunchRequest, StopEvent, Variable, VariableContainer } from '../backend';
import type { Instruction, Memory, NativeFrame, NativeThread, Symbols } from '../types';
import { Gdb } from './gdb';
import { checkCoreFile } from '../native/coreFile';
import { GdbMemory, GdbSymbols } from './memory';
import * as mi from '../mi/commands';
import type { StoppedEvent } from './connection';
import { cleanRustName, isRustName } from '../stack/rustNames';
import { UserError } from '../errors';
import { SessionUnwinder } from '../native/sessionUnwinder';
import { addressAndSize, frameWords, killIfAlive, PanicMessages, panicSite, parseNativeLocation, processState, releaseOrphan } from '../nativeStop';

export interface GdbBackendOptions {
  gdbPath?: string;
  /** Traffic log, one line each. */
  log?: (line: string) => void;
  /** More GDB arguments (tests: `--readnever` to prove the no-DWARF path). */
  extraArgs?: string[];
}

/** `file:line` (the file may hold colons on Windows-style paths: the last colon splits), or an
 *  address `*0x…` (the entry of a C function found in memory: Python step-into). */
export function parseLocation(location: string): mi.BreakLocation {
  return parseNativeLocation(location);
}

const PANIC_FUNCTION = 'rust_panic';
/** A plain Rust path: `crate::module::function`. */
const RUST_PATH = /^[A-Za-z_]\w*(?:::[A-Za-z_]\w*)+$/;

export async function createGdbBackend(opts: GdbBackendOptions): Promise<DebugBackend> {
  const gdb = await Gdb.start({
    gdbPath: opts.gdbPath || undefined,
    extraArgs: opts.extraArgs,
    log: opts.log ? (dir, line) => opts.log!(`${dir === 'in' ? '>' : '<'} ${line}`) : undefined,
  });
  return new GdbBackend(gdb);
}

interface VarRefEntry {
  varobj?: string;
  expression: string;
  threadId?: number;
  level?: number;
}

class GdbBackend extends EventEmitter implements DebugBackend {
  readonly memory: Memory;
  readonly symbols: Symbols;
  pid: number | undefined;
  private panicBreakpoint: number | undefined;
  /** Breakpoints on a Rust path without its crate, inserted beside the path's own: alt id -> main id. */
  private readonly altBreakpoints = new Map<number, number>();
  private closing = false;
  private interrupted = false;
  private attaching = false;
  /** The process attached to (it outlives the session: detached, or released if GDB dies). */
  private attachedPid: number | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private nextRef = 1;
  private refs = new Map<number, VarRefEntry>();
  private varobjs: string[] = [];
  /** Rust's panic hook prints the message on stderr just before `rust_panic` is called. */
  private readonly panics = new PanicMessages();
  /** Seam's own unwinder (src/debug/native/): asked first, GDB's when it does not answer. */
  private readonly native: SessionUnwinder;
  /** The thread a breakpoint stopped (GDB shows inlined calls entered at a breakpoint's pc). */
  private breakpointThread: number | undefined;

  constructor(private readonly gdb: Gdb) {
    super();
    const conn = gdb.connection;
    this.memory = new GdbMemory(conn);
    const memory = this.memory as GdbMemory;
    this.native = new SessionUnwinder({
      livePid: () => memory.liveProcessId(),
      memory: this.memory,
      registers: (threadId) => gdb.dwarfRegisters(threadId),
      debuggerFrames: (threadId) => gdb.frames(threadId),
      debuggerPid: () => conn.pid,
      log: (text) => this.emit('output', { category: 'console', text: `${text}\n` }),
    });
    this.symbols = this.native.symbolsOver(new GdbSymbols(conn));
    conn.on('stopped', (e) => {
      this.breakpointThread = e.reason === 'breakpoint-hit' ? e.threadId ?? 1 : undefined;
      void this.onStopped(e);
    });
    conn.on('running', () => {
      this.refs.clear();
      this.native.resumed();
      // The variable objects of the last stop (expanded values, evaluations) go with it: GDB
      // keeps each one until deleted (children go with their parent).
      const stale = this.varobjs;
      this.varobjs = [];
      for (const v of stale) void conn.run(mi.varDelete(v)).catch(() => undefined);
      this.emit('continued');
    });
    conn.on('output', (o) => {
      if (o.category === 'stdout' || o.category === 'stderr') this.emit('output', { category: o.category, text: o.text });
      if (o.category === 'stderr') this.panics.stderr(o.text);
    });
    conn.on('breakpoint-modified', (b) => this.emit('breakpoint', toState(b)));
    conn.on('library-loaded', (l) => {
      this.emit('libraryLoaded', { path: l.hostName ?? l.targetName ?? l.id });
      this.native.libraryLoaded();
    });
    conn.on('exited', (e) => {
      this.unwatch();
      if (e.exitCode !== undefined) this.emit('exited', { exitCode: e.exitCode });
    });
    conn.on('async', (e) => {
      if (e.kind === 'notify' && e.asyncClass === 'thread-group-started') {
        const pid = Number(e.results.str('pid'));
        if (pid > 0) this.watch(pid);
      }
    });
    conn.on('gdb-exit', (e) => {
      this.unwatch();
      releaseOrphan(this.attachedPid);
      if (!this.closing) this.emit('terminated', { reason: `gdb ended unexpectedly (${e.signal ?? `exit code ${e.code}`}): the debug session is over` });
    });
  }

  /**
   * Watches the debuggee's liveness apart from GDB. GDB 13 can miss the death of a program
   * killed from outside while it resumes it (SIGKILL during the step over a breakpoint): no
   * `*stopped`, no `=thread-group-exited`, and the session would hang. A program that has been
   * a zombie (or gone) for two checks in a row is reported as exited, with the status the kernel
   * keeps for its parent (GDB). Duplicate `exited` events are the session's to drop.
   */
  private watch(pid: number): void {
    this.unwatch();
    this.pid = pid;
    let dead = 0;
    this.watchdog = setInterval(() => {
      const st = processState(pid);
      dead = st.alive ? 0 : dead + 1;
      if (dead < 2) return;
      this.unwatch();
      if (!this.closing) this.emit('exited', { exitCode: st.exitCode ?? 137 });
    }, 250);
    this.watchdog.unref();
  }

  private unwatch(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  private async onStopped(e: StoppedEvent): Promise<void> {
    // The stop that attaching makes is the backend's own, not the user's: attach() continues.
    if (this.attaching) return;
    if (e.exitCode !== undefined || e.reason?.startsWith('exited')) {
      this.unwatch();
      // Killed by a signal: the shell's convention, 128 + its number.
      const signo = e.signalName ? (constants.signals as Record<string, number | undefined>)[e.signalName] : undefined;
      const code = e.exitCode ?? (signo !== undefined ? 128 + signo : undefined);
      this.emit('exited', { exitCode: code ?? (await this.gdb.programExit().catch(() => undefined)) ?? 0 });
      return;
    }
    const threadId = e.threadId ?? 1;
    const where = e.frame ? frameWords(e.frame) : '';
    let ev: StopEvent;
    if (e.reason === 'breakpoint-hit' && e.breakpointId !== undefined && e.breakpointId === this.panicBreakpoint) {
      const site = await this.panicSite(threadId); // (also gives the hook's stderr time to arrive)
      const msg = this.panics.take();
      ev = { reason: 'panic', threadId, description: `Rust panic${msg ? `: ${msg}` : ''}${site}`, breakpointIds: [] };
    } else if (e.reason === 'breakpoint-hit') {
      const id = e.breakpointId !== undefined ? this.altBreakpoints.get(e.breakpointId) ?? e.breakpointId : undefined;
      ev = { reason: 'breakpoint', threadId, description: `breakpoint ${id}${where}`, breakpointIds: id !== undefined ? [id] : [] };
    } else if (e.reason === 'signal-received') {
      if (this.interrupted && (e.signalName === 'SIGINT' || e.signalName === '0')) {
        ev = { reason: 'pause', threadId, description: 'paused' };
      } else {
        ev = { reason: 'signal', threadId, description: `${e.signalName ?? 'signal'}${where}`, signal: e.signalName };
      }
    } else if (e.watchpoint) {
      const w = e.watchpoint;
      const change = w.old !== undefined && w.new !== undefined ? `${w.old} → ${w.new}` : w.new !== undefined ? `now ${w.new}` : w.value !== undefined ? `read ${w.value}` : 'accessed';
      ev = { reason: 'data breakpoint', threadId, description: `data breakpoint ${w.id}: ${change}${where}`, breakpointIds: [] };
    } else if (e.reason === 'end-stepping-range' || e.reason === 'function-finished' || e.reason === 'location-reached') {
      ev = { reason: 'step', threadId, description: `step${where}` };
    } else {
      ev = { reason: this.interrupted ? 'pause' : 'signal', threadId, description: `${e.reason ?? 'stopped'}${where}` };
    }
    this.interrupted = false;
    this.emit('stopped', ev);
  }

  /** " in mycrate::engine::boom at lib.rs:12": the innermost Rust frame outside std/core. */
  private async panicSite(threadId: number): Promise<string> {
    try {
      return panicSite(await this.gdb.frames(threadId, { low: 0, high: 40 }));
    } catch {
      return '';
    }
  }

  async launch(req: LaunchRequest): Promise<void> {
    // Loaded only: the program starts in run(), once the breakpoints are in.
    await this.gdb.load({ program: req.program, args: req.args, cwd: req.cwd, env: { PYTHONUNBUFFERED: '1', ...req.env }, disableAslr: req.disableAslr }).catch(rethrowUser);
  }

  async run(): Promise<void> {
    await this.gdb.connection.run(mi.execRun({}));
  }

  async attach(pid: number): Promise<void> {
    this.pid = pid;
    this.attachedPid = pid;
    this.attaching = true;
    try {
      await this.gdb.attach(pid);
      this.watch(pid);
    } catch (e) {
      const msg = (e as Error).message;
      if (!existsSync(`/proc/${pid}`)) throw new UserError(`no process ${pid}: nothing to attach to (see \`ps\`)`);
      if (/ptrace|Operation not permitted/i.test(msg)) {
        throw new UserError(`attach to ${pid} refused by ptrace: run as the process's user with kernel.yama.ptrace_scope=0 (sudo sysctl kernel.yama.ptrace_scope=0), or as root (${msg})`);
      }
      throw new UserError(`cannot attach to process ${pid}: ${msg}`);
    } finally {
      this.attaching = false;
    }
  }

  async openCore(core: string, executable: string): Promise<void> {
    checkCoreFile(core, executable, (m) => new UserError(m));
    await this.gdb.loadCore(core, executable).catch(rethrowUser);
  }

  async insertBreakpoint(req: BreakpointRequest): Promise<BreakpointState> {
    const b = await this.gdb.insertBreakpoint({ location: parseLocation(req.location), condition: req.condition, ignoreCount: req.ignoreCount });
    if (req.location === PANIC_FUNCTION) this.panicBreakpoint = b.id;
    // A Rust path (`rustworkx::shortest_path::run`) in a wheel without DWARF: GDB names its
    // symbols with the crate's hash (`rustworkx[d81b…]::shortest_path::run`), which the path
    // never matches; the path without its crate does (GDB matches a name's trailing parts).
    const segs = RUST_PATH.test(req.location) ? req.location.split('::') : [];
    if (segs.length >= 3) {
      const alt = await this.gdb.insertBreakpoint({ location: parseLocation(segs.slice(1).join('::')), condition: req.condition, ignoreCount: req.ignoreCount }).catch(() => undefined);
      if (alt) this.altBreakpoints.set(alt.id, b.id);
    }
    return { id: b.id, verified: b.verified, file: b.fullname ?? b.file, line: b.line, message: b.pending ? 'pending: resolved when the library that holds it is loaded' : undefined };
  }

  async deleteBreakpoint(id: number): Promise<void> {
    for (const [alt, main] of this.altBreakpoints) {
      if (main !== id) continue;
      this.altBreakpoints.delete(alt);
      await this.gdb.deleteBreakpoint(alt).catch(() => undefined);
    }
    return this.gdb.deleteBreakpoint(id);
  }

  async threads(): Promise<NativeThread[]> {
    const info = await this.gdb.threads();
    // pthread_t from GDB's target id ("Thread 0x7ffff7d8a740 (LWP 1234)"), for 3.10's matching.
    const raw = await this.gdb.connection.run(mi.threadInfo()).catch(() => undefined);
    for (const t of info) {
      const r = raw?.threads.find((x) => x.id === t.id) as { targetId?: string } | undefined;
      const m = r?.targetId ? /Thread (0x[0-9a-f]+)/.exec(r.targetId) : null;
      if (m) t.pthread = BigInt(m[1]);
    }
    return info;
  }

  async frames(threadId: number, limit?: number): Promise<NativeFrame[]> {
    if (!limit) {
      const mine = await this.native.frames(threadId, threadId === this.breakpointThread);
      if (mine) return mine;
    }
    const frames = await this.gdb.frames(threadId, limit ? { low: 0, high: limit - 1 } : undefined);
    if (!limit) this.native.debuggerUnwound(frames);
    for (const f of frames) {
      if (f.func && isRustName(f.func)) {
        f.func = cleanRustName(f.func);
        f.rust = true;
      }
    }
    return frames;
  }

  stackShown(): void {
    this.native.stackShown();
  }

  async spCfa(threadId: number, levels: number[]): Promise<Map<number, { sp?: bigint; cfa?: bigint }>> {
    const r = await this.gdb.frameSpCfa(threadId, levels);
    return new Map(r.map((x) => [x.level, { sp: x.sp, cfa: x.cfa }]));
  }

  async locals(threadId: number, ownLevel: number): Promise<Variable[]> {
    const level = (await this.native.debuggerLevel(threadId, ownLevel))!;
    const vars = await this.gdb.locals(threadId, level, 'simple');
    return vars.map((v) => this.toVariable(v.name, v.value ?? '{…}', v.type, { expression: v.name, threadId, level }, v.value === undefined || /\*\s*$/.test(v.type ?? '')));
  }

  private toVariable(name: string, value: string, type: string | undefined, ref: VarRefEntry, expandable: boolean): Variable {
    const v: Variable = { name, value, type, ref: 0 };
    const addr = /^0x[0-9a-f]+/i.exec(value.trim());
    if (addr) v.address = BigInt(addr[0]);
    if (expandable && !/^(?:char|const char|void)\s*\*/.test(type ?? '')) {
      v.ref = this.nextRef++;
      this.refs.set(v.ref, ref);
    }
    return v;
  }

  async children(ref: number): Promise<Variable[]> {
    const r = this.refs.get(ref);
    if (!r) return [];
    if (!r.varobj) {
      const vo = await this.gdb.connection.run(mi.varCreate(r.expression, { threadId: r.threadId, frame: r.level }));
      r.varobj = vo.name;
      this.varobjs.push(vo.name);
    }
    const kids = await this.gdb.connection.run(mi.varListChildren(r.varobj));
    const out: Variable[] = [];
    for (const k of kids) {
      // Anonymous access levels (public/private/protected) hold the real children.
      if (k.exp && /^(?:public|private|protected)$/.test(k.exp)) {
        out.push(...(await this.children(this.register({ varobj: k.name, expression: k.name }))));
        continue;
      }
      out.push(this.toVariable(k.exp ?? k.name, k.value ?? '{…}', k.type, { varobj: k.name, expression: k.name }, k.numChild > 0));
    }
    return out;
  }

  async watchTarget(container: VariableContainer, name: string): Promise<{ address: bigint; size: number } | undefined> {
    let expression: string;
    let threadId: number | undefined;
    let level: number | undefined;
    if ('ref' in container) {
      const kid = await this.childVarobj(container.ref, name);
      if (!kid) return undefined;
      expression = await this.gdb.connection.run(mi.varInfoPathExpression(kid.name));
    } else {
      threadId = container.threadId;
      level = (await this.native.debuggerLevel(container.threadId, container.level))!;
      expression = name;
    }
    return addressAndSize((e) => this.gdb.evaluate(e, threadId, level), expression);
  }

  async insertWatchpoint(address: bigint, size: number, access: 'write' | 'read' | 'readWrite'): Promise<number> {
    return this.gdb.connection.run(mi.breakWatch(address, size, access)).catch(rethrowUser);
  }

  async deleteWatchpoint(id: number): Promise<void> {
    await this.gdb.deleteBreakpoint(id);
  }

  async setVariable(container: VariableContainer, name: string, value: string): Promise<Variable> {
    if ('ref' in container) {
      const kid = await this.childVarobj(container.ref, name);
      if (!kid) throw new UserError(`${name} cannot be set here (open its value again)`);
      const now = await this.gdb.connection.run(mi.varAssign(kid.name, value)).catch(rethrowUser);
      return this.toVariable(name, now, kid.type, { varobj: kid.name, expression: kid.name }, kid.numChild > 0);
    }
    const level = (await this.native.debuggerLevel(container.threadId, container.level))!;
    // (A local by its name, in its own frame: `name = (value)`, as C reads an assignment.)
    const now = await this.gdb.evaluate(`${name} = (${value})`, container.threadId, level).catch(rethrowUser);
    const local = (await this.gdb.locals(container.threadId, level, 'simple')).find((v) => v.name === name);
    return this.toVariable(name, now, local?.type, { expression: name, threadId: container.threadId, level }, local?.value === undefined || /\*\s*$/.test(local?.type ?? ''));
  }

  /** The variable object of the member `name` of a value `children(ref)` listed. */
  private async childVarobj(ref: number, name: string): Promise<mi.MiVarObject | undefined> {
    const r = this.refs.get(ref);
    if (!r?.varobj) return undefined;
    return (await this.gdb.connection.run(mi.varListChildren(r.varobj))).find((k) => k.exp === name);
  }

  private register(e: VarRefEntry): number {
    const id = this.nextRef++;
    this.refs.set(id, e);
    return id;
  }

  async evaluate(expression: string, threadId?: number, ownLevel?: number): Promise<Variable> {
    const level = await this.native.debuggerLevel(threadId, ownLevel);
    const value = await this.gdb.evaluate(expression, threadId, level).catch(rethrowUser);
    let type: string | undefined;
    try {
      const vo = await this.gdb.connection.run(mi.varCreate(expression, { threadId, frame: level }));
      this.varobjs.push(vo.name);
      type = vo.type;
      return this.toVariable(expression, value, type, { varobj: vo.name, expression }, vo.numChild > 0);
    } catch {
      return { name: expression, value, type, ref: 0 };
    }
  }

  async evaluateCall(expression: string, threadId: number, ownLevel: number): Promise<string> {
    const level = await this.native.debuggerLevel(threadId, ownLevel);
    return this.gdb.evaluate(expression, threadId, level).catch(rethrowUser);
  }

  continue(): Promise<void> {
    return this.gdb.continue();
  }

  async pause(): Promise<void> {
    this.interrupted = true;
    await this.gdb.interrupt();
  }

  next(threadId: number): Promise<void> {
    return this.gdb.next(threadId);
  }

  stepIn(threadId: number): Promise<void> {
    return this.gdb.step(threadId);
  }

  stepOut(threadId: number): Promise<void> {
    return this.gdb.finish(threadId);
  }

  stepInstruction(threadId: number, into: boolean): Promise<void> {
    return into ? this.gdb.stepInstruction(threadId) : this.gdb.nextInstruction(threadId);
  }

  async disassemble(start: bigint, end: bigint): Promise<Instruction[]> {
    try {
      return await this.gdb.disassemble(start, end);
    } catch (e) {
      if (/Cannot access memory/i.test((e as Error).message)) return []; // nothing to show there
      throw e;
    }
  }

  async close(opts: { detach: boolean }): Promise<void> {
    this.closing = true;
    this.unwatch();
    try {
      if (opts.detach) await this.gdb.detach();
      else await this.gdb.kill();
    } catch {
      // GDB may already be gone, or the program already ended.
    }
    // GDB's end is bounded: its 'close' waits for the program's output pipes, which a program
    // that outlived a hung GDB keeps open.
    await Promise.race([this.gdb.exit().catch(() => undefined), new Promise((r) => setTimeout(r, 5000).unref())]);
    this.gdb.connection.kill();
    // A launched program must not outlive the session, whatever state GDB left it in.
    if (!opts.detach) killIfAlive(this.pid);
    await this.native.close();
  }
}

function toState(b: mi.MiBreakpoint): BreakpointState {
  return { id: b.id, verified: b.verified && !b.pending, file: b.fullname ?? b.file, line: b.line };
}

/** GDB's own words for a failed launch/attach are what the user needs; keep them, typed. */
function rethrowUser(e: unknown): never {
  const err = e as Error;
  if (err.name === 'GdbCommandError') throw new UserError(err.message);
  throw err;
}
