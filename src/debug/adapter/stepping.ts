/**
 * The debug session's steps across the boundary (issue 4): Python steps run by the bootstrap, a
 * Python step "in" that enters a C or Rust function, native steps (the debugger's own, or, from
 * a native line, through the interpreter into a Python callback: callbackStep.ts), step out of
 * native code back to Python. It keeps the step state; the session keeps the stop state and
 * shows the stops (StepHost).
 */
import { ContinuedEvent, OutputEvent, logger } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DebugBackend, StopEvent } from '../backend';
import type { StackService } from '../stackService';
import type { PythonBreakpoints } from './pythonBreakpoints';
import { isPyO3Glue, readNativeTarget, runToPyO3Body, type StepKind } from './pythonStepping';
import { armNativeStep, isUserCode, readInterpreterRanges, stepThroughInterpreter } from './callbackStep';

/** What the steps need from the session. */
export interface StepHost {
  /** Undefined once the session ended. */
  readonly backend: DebugBackend | undefined;
  readonly python: PythonBreakpoints | undefined;
  readonly stacks: StackService | undefined;
  readonly exited: boolean;
  send(ev: DebugProtocol.Event): void;
  /** Shows a stop the steps made (the session forgets its frames and variables). */
  stopped(reason: string, threadId: number, description: string, since?: { started: number }): void;
  /** The thread runs again for a step the steps drive themselves. */
  resumed(threadId: number): void;
  /** A stop a step ran into that is not its own (a breakpoint, a signal): as any stop. */
  onStopped(e: StopEvent): Promise<void>;
}

type Armed = { cfa: bigint | undefined; interpreter: Awaited<ReturnType<typeof readInterpreterRanges>> };

export class Stepping {
  /** A Python step runs in the bootstrap (asked for and not yet ended or cancelled). */
  pyStep: { threadId: number; started: number } | undefined;
  /** The breakpoint at the C function a Python step "in" is about to call. */
  private nativeEntry: { bp: number; threadId: number; name: string; started: number } | undefined;
  /** Stops kept from the user while the steps drive the debugger (the PyO3 body search). */
  private internalStop: ((e: StopEvent) => void) | undefined;
  /** The debugger runs the program for the adapter itself: its resumes are not the user's. */
  internalRun = false;
  /** The thread of a debugger step (next, step in, step out at a native line) under way. */
  private nativeStepping: number | undefined;

  constructor(private readonly host: StepHost) {}

  /** The debugger, while the session has one (every step request runs with it). */
  private get be(): DebugBackend {
    return this.host.backend!;
  }

  /** A stop the steps are waiting for themselves: taken (true), not shown. */
  takeInternal(e: StopEvent): boolean {
    if (!this.internalStop) return false;
    this.internalStop(e);
    return true;
  }

  /** At a Python trap: the debugger step it interrupted is over, and the Python step that made
   *  it (returned) ends. */
  async trapped(): Promise<{ threadId: number; started: number } | undefined> {
    await this.abandonNativeStep();
    const step = this.pyStep;
    this.pyStep = undefined;
    await this.dropNativeEntry();
    return step;
  }

  /** Any other stop: one not made by a step ends the Python and the debugger step under way. */
  async otherStop(byStep: boolean): Promise<void> {
    if (!byStep) {
      await this.cancelPythonStep(); // a native breakpoint wins over a Python step
      await this.abandonNativeStep();
    }
    this.nativeStepping = undefined;
  }

  async pythonStep(threadId: number, kind: StepKind): Promise<void> {
    await this.dropNativeEntry();
    this.host.python!.requestStep(kind);
    this.pyStep = { threadId, started: Date.now() };
    await this.be.continue();
  }

  /**
   * A Python step "in" is about to call a C function: a breakpoint at its entry, then on. Without
   * debug info there, the step goes on over it (the bootstrap runs it as "over").
   */
  async onNativeCall(threadId: number): Promise<void> {
    const backend = this.be;
    const target = await readNativeTarget(backend, threadId);
    const started = this.pyStep?.started ?? Date.now();
    if ('error' in target) {
      this.host.send(new OutputEvent(`[seam] step into: ${target.error}: stepping over it\n`, 'console'));
    } else {
      const st = await backend.insertBreakpoint({ location: `*0x${target.address.toString(16)}` }).catch(() => undefined);
      if (st && st.file && st.line) {
        this.nativeEntry = { bp: st.id, threadId, name: target.name, started };
      } else {
        if (st) await backend.deleteBreakpoint(st.id).catch(() => undefined);
        this.host.send(new OutputEvent(`[seam] step into ${target.name}: ${target.symbol ?? `0x${target.address.toString(16)}`} has no debug info: stepping over it\n`, 'console'));
      }
    }
    await backend.continue();
  }

  /** The stop at the C function a Python step "in" entered: shown as the step's end (true). */
  async atNativeEntry(e: StopEvent): Promise<boolean> {
    const entry = this.nativeEntry;
    if (!entry || !e.breakpointIds?.includes(entry.bp)) return false;
    // A Rust one is reached through PyO3's trampoline. The Python step stays armed: a step out
    // of here ends at the next line.
    await this.dropNativeEntry();
    const note = await this.toRustBody(e.threadId);
    if (note) this.host.send(new OutputEvent(`[seam] step into ${entry.name}: ${note}\n`, 'console'));
    this.host.stacks?.invalidate();
    this.host.stopped('step', e.threadId, `step into ${entry.name}`, entry);
    return true;
  }

  /** Stopped at a PyO3 trampoline: on to the user's Rust function. A note when it stays. */
  private async toRustBody(threadId: number): Promise<string | undefined> {
    const backend = this.be;
    const [top] = await backend.frames(threadId, 1).catch(() => []);
    if (!top || !isPyO3Glue(top.func, top.fullname ?? top.file)) return undefined;
    this.internalRun = true;
    try {
      const r = await runToPyO3Body(backend, threadId, {
        run: (start) => new Promise<StopEvent>((resolve, reject) => {
          this.internalStop = (ev) => {
            this.internalStop = undefined;
            resolve(ev);
          };
          start().catch((err) => {
            this.internalStop = undefined;
            reject(err);
          });
        }),
      });
      return r.reached ? undefined : `stopped in PyO3's trampoline: ${r.note}`;
    } catch (err) {
      return `stopped in PyO3's trampoline (${(err as Error).message})`;
    } finally {
      this.internalStop = undefined;
      this.internalRun = false;
    }
  }

  private async dropNativeEntry(): Promise<void> {
    const entry = this.nativeEntry;
    this.nativeEntry = undefined;
    if (entry) await this.host.backend?.deleteBreakpoint(entry.bp).catch(() => undefined);
  }

  /** Ends a Python step still running in the bootstrap (it ends silently at its next line). */
  async cancelPythonStep(): Promise<void> {
    await this.dropNativeEntry();
    if (!this.pyStep) return;
    this.pyStep = undefined;
    this.host.python?.requestStep('cancel');
  }

  /** A debugger step interrupted by a stop the user is shown is over (LLDB would finish it). */
  private async abandonNativeStep(): Promise<void> {
    const threadId = this.nativeStepping;
    this.nativeStepping = undefined;
    if (threadId !== undefined) await this.host.backend?.abandonStep?.(threadId).catch(() => undefined);
  }

  /** A debugger step at a native line; one a Python stop interrupts is abandoned at that stop. */
  nativeStep(threadId: number, step: () => Promise<void>): Promise<void> {
    this.nativeStepping = threadId;
    return step();
  }

  /**
   * Step in at a native line (callbackStep.ts): with the bootstrap, a Python callback the line
   * calls stops at its first line, and interpreter, PyO3 and Rust library code is stepped
   * through; else the debugger's own step in. Resolves once the step runs; its end is an event.
   */
  async nativeStepIn(threadId: number): Promise<void> {
    const backend = this.be;
    // Got here by a Python step "in" (its step "over" of the calling frame still armed)?
    const fromPython = this.pyStep?.threadId === threadId;
    const armed = await this.armNativeStep(threadId, 'native-in').catch((e: Error) => {
      logger.verbose(`native step in without Python callbacks: ${e.message}`);
      return undefined;
    });
    if (!armed) return this.nativeStep(threadId, () => backend.stepIn(threadId));
    const started = Date.now();
    this.pyStep = { threadId, started };
    this.host.resumed(threadId);
    this.host.send(new ContinuedEvent(threadId, true));
    void this.finishNativeStep(threadId, armed, started, fromPython).catch(async (e) => {
      // Never a thread left running unreported: stopped where the failure left it.
      logger.error(`internal error: ${(e as Error).stack ?? e}`);
      this.host.send(new OutputEvent(`[seam] step in: ${(e as Error).message}\n`, 'console'));
      if (this.host.exited) return;
      await this.cancelPythonStep();
      this.host.stopped('step', threadId, 'step (ended early)', { started });
    });
  }

  /** Step out at a native line: back to the calling Python line when Python called this code,
   *  else the debugger's step out. */
  async stepOut(threadId: number): Promise<void> {
    // In the C or Rust function a Python step "in" entered: the bootstrap's step (now "over")
    // stops at the calling frame's next line once the function returns.
    if (this.pyStep?.threadId === threadId) {
      this.pyStep.started = Date.now();
      return this.be.continue();
    }
    // Out of native code the interpreter (or PyO3) called: armed the same way, a step "over"
    // of the calling Python frame; out into the user's own native caller: the debugger's.
    if (await this.returnsToPython(threadId)) {
      this.pyStep = { threadId, started: Date.now() };
      return this.be.continue();
    }
    return this.nativeStep(threadId, () => this.be.stepOut(threadId));
  }

  /** The Python half of a native step, when it can be: the start frame's CFA and the
   *  interpreter's code ranges. Throws with the reason when not. */
  private async armNativeStep(threadId: number, kind: 'native-in' | 'native-over'): Promise<Armed> {
    const { python, stacks } = this.host;
    const backend = this.be;
    const hook = python?.nativeStepHook();
    if (!python || hook === undefined || !stacks) throw new Error('no bootstrap hook');
    const snap = await stacks.snapshot();
    const t = snap.threads.find((x) => x.id === threadId);
    if (!t?.holdsGil) throw new Error('the thread does not hold the GIL');
    if (!t.frames.some((f) => f.language === 'python')) throw new Error('no Python frame on the thread');
    const native = t.frames.filter((f) => f.native).map((f) => f.native!);
    const interpreter = await readInterpreterRanges(backend.pid);
    if (!isUserCode(native[0], interpreter)) throw new Error('not stopped in the user\'s code');
    // The call's C casts are evaluated in a C frame (GDB refuses them in a Rust one).
    const c = native.find((f) => /\.[ch]$/.test(f.fullname ?? f.file ?? ''));
    if (!c) throw new Error('no C frame to evaluate in');
    const cfa = (await backend.spCfa(threadId, [0]).catch(() => undefined))?.get(0)?.cfa;
    python.requestStep(kind);
    this.internalRun = true;
    try {
      await armNativeStep(backend, threadId, c.level, hook);
    } catch (e) {
      // The request superseded any Python step of the program: none runs now.
      this.pyStep = undefined;
      python.requestStep('cancel');
      throw e;
    } finally {
      this.internalRun = false;
    }
    return { cfa, interpreter };
  }

  private async finishNativeStep(threadId: number, armed: Armed, started: number, fromPython: boolean): Promise<void> {
    const backend = this.be;
    this.internalRun = true;
    let end;
    try {
      end = await stepThroughInterpreter(backend, threadId, { run: (start) => this.internally(start) }, armed.interpreter, armed.cfa);
    } catch (e) {
      if ((e as Error).name === 'ProgramEndedError') return; // 'exited' / 'terminated' said it
      throw e;
    } finally {
      this.internalStop = undefined;
      this.internalRun = false;
    }
    if (end.kind === 'other') {
      // A Python step's trap (the callback's first line), a breakpoint, a signal: as any stop.
      // The debugger's step it interrupted is over.
      await backend.abandonStep?.(threadId).catch(() => undefined);
      await this.host.onStopped(end.event);
      return;
    }
    if (end.kind === 'returned') {
      // The native frame returned into the interpreter: the Python step stops at the calling
      // frame's next line (or in a Python function called on the way).
      if (this.pyStep) this.pyStep.started = started;
      await backend.continue();
      return;
    }
    this.host.stacks?.invalidate();
    // Still in native code. Come from a Python step "in": its step "over" of the calling frame
    // again (a step out of here ends at that frame's next line); else no Python step.
    const over = fromPython && end.kind === 'user'
      ? await this.armNativeStep(threadId, 'native-over').then(() => true, () => false)
      : false;
    if (!over) await this.cancelPythonStep();
    if (end.kind === 'budget') this.host.send(new OutputEvent('[seam] step in: still in interpreter or library code after many steps: stopped there\n', 'console'));
    this.host.stacks?.invalidate();
    this.host.stopped('step', threadId, 'step', { started });
  }

  /** Runs `start` (a step or continue) and resolves with the stop it makes, kept from the user;
   *  rejects with a ProgramEndedError when the program ends first. */
  private internally(start: () => Promise<void>): Promise<StopEvent> {
    const backend = this.be;
    return new Promise<StopEvent>((resolve, reject) => {
      const ended = (): void => {
        this.internalStop = undefined;
        const err = new Error('the program ended during the step');
        err.name = 'ProgramEndedError';
        reject(err);
      };
      backend.once('exited', ended);
      backend.once('terminated', ended);
      const done = (): void => {
        this.internalStop = undefined;
        backend.off('exited', ended);
        backend.off('terminated', ended);
      };
      this.internalStop = (ev) => {
        done();
        resolve(ev);
      };
      start().catch((err) => {
        done();
        reject(err);
      });
    });
  }

  /** Stopped in the user's native code whose caller is the interpreter's or PyO3's: arms a
   *  step "over" of the innermost Python frame (false when it cannot). */
  private async returnsToPython(threadId: number): Promise<boolean> {
    const python = this.host.python;
    const backend = this.be;
    if (!python || python.nativeStepHook() === undefined) return false;
    const frames = await backend.frames(threadId, 2).catch(() => []);
    if (frames.length < 2 || isUserCode(frames[1], await readInterpreterRanges(backend.pid))) return false;
    return this.armNativeStep(threadId, 'native-over').then(() => true, (e: Error) => {
      logger.verbose(`native step out without Python: ${e.message}`);
      return false;
    });
  }
}
