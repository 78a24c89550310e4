/**
 * Seam's own unwinder in a debug session over a live local process: when it unwinds instead of
 * the debugger, what it learns from the debugger's stacks, and how its frame levels map to the
 * debugger's. The backend (GdbBackend) asks it first and falls back to the debugger's unwinder.
 *
 * Policy. Cold, JavaScript decodes DWARF slower than GDB's C++ (a 3.12 stack: ~130 ms against
 * GDB's 40–70), so the debugger unwinds until Seam's answers are warm: an earlier session's
 * answers for the interpreter's file found on disk (symbolCache.ts), the interpreter's and C
 * library's common functions read while the program ran and the debugger was idle (prepare.ts:
 * a first session's first stop after attach, or a launch's once its libraries are loaded), or
 * this session's first stop learnt in a worker thread (learner.ts) once that stop is shown.
 * Except where the interpreter's DWARF is a separate debug file (Debian's -dbg packages), where
 * GDB is slower. SEAM_NATIVE_UNWIND=0 keeps the debugger's unwinder, =1 uses Seam's from the
 * first stop; SEAM_PREPARE=0 prepares nothing.
 */
import type { Memory, NativeFrame, Symbols } from '../types';
import { DwarfFirstSymbols } from './dwarfSymbols';
import { EVAL_LOOP } from '../stack/glue';
import { type CTypes, TypesInOrder } from './dwarfTypes';
import { Learner } from './learner';
import { ownNativeFrames, Symbolizers } from './nativeStack';
import { ProcessModules } from './processModules';
import { Ended, IdleSteps, IdleWatch, readAhead } from './prepare';
import type { Module } from './unwind';

/** CPython's shared library, where a Python program's interpreter code is (else in the executable). */
const LIBPYTHON = /\/libpython3[^/]*\.so/;

/** What the unwinder needs of the debugger. */
export interface UnwinderHost {
  /** The pid of a live local process whose memory `memory` reads directly, else undefined. */
  livePid(): number | undefined;
  readonly memory: Memory;
  /** Frame 0's registers by DWARF number, or undefined when they are not x86-64's. */
  registers(threadId: number): Promise<Map<number, bigint> | undefined>;
  /** The debugger's own frames of a thread at this stop. */
  debuggerFrames(threadId: number): Promise<NativeFrame[]>;
  /** The debugger's process (its CPU time tells when it is idle), when known. */
  debuggerPid?(): number | undefined;
  log(text: string): void;
}

interface ProcessState {
  pid: number;
  modules: ProcessModules;
  symbolizers: Symbolizers;
  learner: Learner;
  warm: boolean;
  /** Stacks the debugger unwound while not warm, to learn once the stop is shown. */
  toLearn: NativeFrame[][];
  learning?: Promise<void>;
  saveTimer?: NodeJS.Timeout;
  /** The interpreter's C types (null: none readable). */
  types?: CTypes | null;
  /** `prepare` read what a first stop reads of the interpreter's and C library's files. */
  prepared?: boolean;
  preparing?: Promise<void>;
  /** The reading ahead's steps, held while the debugger unwinds a stop. */
  steps: IdleSteps;
  closed?: boolean;
}

export class SessionUnwinder {
  private state: ProcessState | undefined;
  /** This stop's frames of Seam's, per thread, and the debugger's (asked only to map levels). */
  private mine = new Map<number, NativeFrame[]>();
  private theirs = new Map<number, Promise<NativeFrame[]>>();

  constructor(private readonly host: UnwinderHost, private readonly mode: 'off' | 'warm' | 'always' = modeFromEnv()) {}

  get enabled(): boolean {
    return this.mode !== 'off';
  }

  /**
   * A thread's frames by Seam's unwinder when it is warm; undefined when the debugger should
   * unwind (then hand its frames to `debuggerUnwound`). `atBreakpoint`: a breakpoint stopped the
   * thread at its pc (inlined calls beginning there are shown entered, as GDB does).
   */
  async frames(threadId: number, atBreakpoint: boolean): Promise<NativeFrame[] | undefined> {
    const s = this.process();
    if (!s) return undefined;
    if (!this.isWarm(s)) {
      s.steps.hold();
      return undefined;
    }
    try {
      const regs = await this.host.registers(threadId);
      if (!regs) return undefined;
      const frames = await ownNativeFrames(regs, this.host.memory, s.modules, s.symbolizers, { atBreakpoint });
      if (!frames.length) return undefined;
      this.mine.set(threadId, frames);
      this.saveSoon(s);
      return frames;
    } catch (e) {
      this.host.log(`Seam's unwinder failed on thread ${threadId} (${(e as Error).message}); the debugger unwinds instead`);
      return undefined;
    }
  }

  /** The debugger unwound a thread: its addresses are learnt after the stop is shown. */
  debuggerUnwound(frames: NativeFrame[]): void {
    const s = this.process();
    if (s && !s.warm) s.toLearn.push(frames);
  }

  /** The stop's stacks are out: learn what the debugger unwound, while the user reads them. */
  stackShown(): void {
    const s = this.state;
    s?.steps.release();
    if (!s || s.learning || !s.toLearn.length) return;
    s.learning = (async () => {
      while (s.toLearn.length) await s.learner.learn(s.toLearn.shift()!, s.modules, s.symbolizers);
      s.warm = true;
      s.learning = undefined;
      s.symbolizers.saveAll();
    })().catch(() => { s.learning = undefined; });
  }

  /** Resolves once what is being learnt is learnt (tests; a session's end waits for it too). */
  async whenLearnt(): Promise<void> {
    await this.state?.learning;
  }

  /** The program resumed: this stop's frames go, the process's mappings may change. */
  resumed(): void {
    this.mine = new Map();
    this.theirs = new Map();
    this.state?.modules.resumed();
    this.state?.steps.release();
    // The program runs, the debugger waits for it: the time to prepare the first stop.
    this.prepareUnlessWarm();
  }

  /** A library loaded: it may be the interpreter (launch), whose types were not found before,
   *  and which `prepare` waited for (it starts once the debugger is done loading symbols). */
  libraryLoaded(): void {
    if (this.state?.types === null) this.state.types = undefined;
    this.prepareUnlessWarm();
  }

  /** `prepare` for the live process, unless its stops are Seam's already. */
  private prepareUnlessWarm(): void {
    const pid = this.state?.warm ? undefined : this.host.livePid();
    if (pid !== undefined) this.prepare(pid);
  }

  /**
   * Reads, a step per turn of the event loop, what a first stop will read of process `pid`'s
   * files (prepare.ts), while the program runs and the debugger waits for it (never while the
   * debugger attaches or loads symbols: both would slow down, sharing the cores). Once done,
   * Seam's unwinder takes the stops: what is left is particular to the program, and less than
   * the debugger's first unwind. Nothing of the process's memory is read. A stop that comes
   * first is the debugger's to unwind, as before, and the steps wait until it is shown.
   */
  prepare(pid: number): void {
    if (process.env.SEAM_PREPARE === '0') return;
    const s = this.process(pid);
    if (!s || s.prepared || s.preparing) return;
    const t0 = performance.now();
    s.preparing = this.prepareSteps(s).then((done) => {
      if (!done || s.closed) return;
      s.prepared = true;
      this.host.log(`Seam's unwinder prepared in ${Math.round(performance.now() - t0)} ms`);
    }, (e: unknown) => {
      if (!(e instanceof Ended)) this.host.log(`Seam's unwinder could not prepare (${(e as Error).message}); the debugger unwinds the first stop`);
    }).finally(() => { s.preparing = undefined; });
  }

  /** Resolves once `prepare` has run its steps (tests, the bench). */
  async whenPrepared(): Promise<boolean> {
    await this.state?.preparing;
    return !!this.state?.prepared;
  }

  /** `prepare`'s steps (prepare.ts's `readAhead`), each while the debugger is idle. */
  private prepareSteps(s: ProcessState): Promise<boolean> {
    // Only while the debugger is idle: a stop right after a resume (a step, a near breakpoint)
    // is the debugger's undisturbed, and a launch's symbol loading too.
    const idle = new IdleWatch(this.host.debuggerPid?.());
    return readAhead({
      modules: s.modules,
      symbolizers: s.symbolizers,
      interpreter: () => interpreterModule(s),
      types: () => this.typesOf(s),
      symbol: (name) => this.symbolOf(s, name),
    }, (f) => s.steps.step(idle, f));
  }

  /**
   * The debugger's level for a frame of ours: the same level when the debugger's frame there
   * has the same pc and function (always, where both unwinders agree); else its nearest frame
   * that has both; else its frame of the same function, counted from the innermost. Locals and evaluations go to the debugger by level, so a disagreement (GDB's
   * tail-call frames) must not show another frame's values.
   */
  async debuggerLevel(threadId: number | undefined, level: number | undefined): Promise<number | undefined> {
    if (threadId === undefined || level === undefined) return level;
    const ours = this.mine.get(threadId);
    const mine = ours?.[level];
    if (!ours || !mine) return level;
    let theirs = this.theirs.get(threadId);
    if (!theirs) {
      theirs = this.host.debuggerFrames(threadId);
      this.theirs.set(threadId, theirs);
    }
    const frames = await theirs.catch(() => [] as NativeFrame[]);
    const same = (f: NativeFrame | undefined): boolean => !!f && f.pc === mine.pc && (f.func === mine.func || !f.func || !mine.func);
    if (same(frames[level])) return level;
    let best: number | undefined;
    for (const f of frames) if (same(f) && (best === undefined || Math.abs(f.level - level) < Math.abs(best - level))) best = f.level;
    if (best !== undefined) return best;
    // LLDB gives an inlined frame the pc of its call site: the same function, counted from the
    // innermost frame (the n-th `foo` of ours is the debugger's n-th `foo`).
    if (mine.func) {
      // (This stop's frames as they were before the await: a resume or the debugger's end may
      // have dropped them meanwhile.)
      const nth = ours.slice(0, level).filter((f) => f.func === mine.func).length;
      const match = frames.filter((f) => f.func === mine.func)[nth];
      if (match) return match.level;
    }
    return level;
  }

  /**
   * The C types of the interpreter's eval-loop compile unit (Python/ceval.c includes every
   * internal header the memory reader's layout needs); undefined where unreadable.
   */
  interpreterTypes(): CTypes | undefined {
    const s = this.process();
    return s && this.typesOf(s);
  }

  private typesOf(s: ProcessState): CTypes | undefined {
    if (s.types === undefined) {
      const m = interpreterModule(s);
      s.types = (m && interpreterTypesOf(m, s.symbolizers.of(m))) ?? null;
    }
    return s.types ?? undefined;
  }

  /** The source line of an instruction of the live process, from Seam's DWARF reader. */
  lineAt(pc: bigint): { file?: string; fullname?: string; line: number } | undefined {
    const s = this.process();
    if (!s) return undefined;
    try {
      const m = s.modules.moduleAt(pc);
      const f = m && s.symbolizers.of(m).lineAt(pc - m.bias);
      return f?.line ? { file: f.file, fullname: f.fullname, line: f.line } : undefined;
    } catch {
      return undefined;
    }
  }

  /** A symbol of the interpreter's file (`_PyRuntime`, `Py_Version`) where the process has it. */
  interpreterSymbol(name: string): bigint | undefined {
    const s = this.process();
    return s && this.symbolOf(s, name);
  }

  private symbolOf(s: ProcessState, name: string): bigint | undefined {
    const m = interpreterModule(s);
    const v = m && (m.elf.symbolValue(name) ?? m.debug?.symbolValue(name));
    return m && v !== undefined ? v + m.bias : undefined;
  }

  /**
   * Ends the session's unwinder, after the debugger let the program go: addresses still being
   * learnt (from the files, not the program) are worth a bounded wait, so that the next session
   * (the next `seam stack`) starts warm with them.
   */
  async close(): Promise<void> {
    const s = this.state;
    this.state = undefined;
    if (!s) return;
    s.closed = true;
    s.steps.release();
    clearTimeout(s.saveTimer);
    await Promise.race([s.learning, new Promise((r) => setTimeout(r, 3000).unref())]);
    s.learner.close();
    s.symbolizers.saveAll();
    s.modules.close();
  }

  /**
   * The symbols a backend reads the interpreter with: struct layouts and `_PyRuntime` from Seam's
   * readers where they read the process's files (computed while the debugger unwinds, instead of
   * a debugger round trip per field), the debugger's where they cannot answer.
   */
  symbolsOver(debuggerSymbols: Symbols): DwarfFirstSymbols {
    // (Off, `process()` has no state: every question goes to the debugger.)
    return new DwarfFirstSymbols(debuggerSymbols, () => this.interpreterTypes(), (name) => this.interpreterSymbol(name));
  }

  /** The state for the live local process, created for a new one; undefined when there is none. */
  private process(pid = this.host.livePid()): ProcessState | undefined {
    if (this.mode === 'off' || pid === undefined) return undefined;
    if (this.state?.pid !== pid) {
      if (this.state) this.state.closed = true;
      this.state?.modules.close();
      this.state?.learner.close();
      // Ended, or warm already from a stop the debugger unwound (learner.ts): nothing to read ahead.
      const steps: IdleSteps = new IdleSteps(() => state.closed === true || state.warm);
      const state: ProcessState = { pid, modules: new ProcessModules(pid), symbolizers: new Symbolizers(), learner: new Learner(), warm: false, toLearn: [], steps };
      this.state = state;
    }
    return this.state;
  }

  /**
   * Learnt this session, or an earlier session's answers for the interpreter found on disk; or an
   * interpreter whose DWARF is in a separate debug file (Debian's and Ubuntu's python3.X-dbg):
   * there GDB's first unwind expands its LTO units (~450–700 ms) and Seam's cold one is 3–4×
   * faster (`npm run bench`).
   */
  private isWarm(s: ProcessState): boolean {
    if (s.warm || s.prepared || this.mode === 'always') return true;
    const main = interpreterModule(s);
    s.warm = !!main && (s.symbolizers.of(main).persisted > 0 || (!!main.debug && !main.elf.hasDwarf()));
    return s.warm;
  }

  /** Answers go to disk a little after a stop (several stops in a row write once). */
  private saveSoon(s: ProcessState): void {
    if (s.saveTimer) return;
    s.saveTimer = setTimeout(() => {
      s.saveTimer = undefined;
      s.symbolizers.saveAll();
    }, 2000);
    s.saveTimer.unref();
  }
}

/**
 * The C types the memory reader's layout needs, from the interpreter's DWARF: the eval loop's
 * unit (Python/ceval.c includes every internal header), then the dict implementation's, for what
 * 3.10's Objects/dict-common.h defines (no other file includes it). Undefined without DWARF.
 */
export function interpreterTypesOf(m: Module, sym: { typesAt(addr: bigint): CTypes | undefined }): CTypes | undefined {
  const fns = m.elf.functions();
  const loop = fns.find((f) => EVAL_LOOP.test(f.name));
  const primary = loop && sym.typesAt(loop.addr);
  if (!primary) return undefined;
  const dict = fns.find((f) => f.name === 'PyDict_New');
  return new TypesInOrder([() => primary, () => (dict ? sym.typesAt(dict.addr) : undefined)]);
}

/** The file a Python program's interpreter code is in: libpython, else the executable. */
function interpreterModule(s: ProcessState): Module | undefined {
  return s.modules.find((path) => LIBPYTHON.test(path)) ?? s.modules.find((_, executable) => executable);
}

function modeFromEnv(): 'off' | 'warm' | 'always' {
  const v = process.env.SEAM_NATIVE_UNWIND;
  return v === '0' ? 'off' : v === '1' ? 'always' : 'warm';
}
