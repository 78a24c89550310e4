/**
 * Step "in" from a native (C or Rust) line into the Python callback it calls (issue 4 §4): what
 * a user of a mixed-mode debugger expects of `PyObject_CallOneArg(cb, x)` or PyO3's
 * `cb.call1(...)` is the callback's first line, not CPython's or PyO3's call machinery.
 *
 *   1. Armed in the program: the thread is stopped in the user's native code holding the GIL, so
 *      the debugger may call into Python on it, as that code itself does. It calls the
 *      bootstrap's hook (`_Controller.native_step`, address in CONTROL + ".hooks") through
 *      `PyObject_CallNoArgs`; the hook begins a Python step "in" on that thread from its
 *      innermost Python frame, after the adapter wrote a step of kind "native" in the control
 *      file. No hook exists before; the step's hooks go when it ends or is cancelled.
 *   2. The native step, driven here (`stepThroughInterpreter`): a debugger step in; where it
 *      lands in the interpreter (libpython) or in PyO3's or Rust's library code, a step out of
 *      that function, then a step in again, until the thread stops at a line of the user's own
 *      code (reported as the native step's end; the Python step is cancelled), or a Python
 *      function starts (the bootstrap's step traps at its first line: the session reports that
 *      stop), or the native frame the step began in returns into the interpreter (the thread
 *      then runs on: the Python step stops at the calling Python frame's next line).
 *
 * Without the bootstrap, with the thread not holding the GIL or not in the user's code, the
 * step is the debugger's own step in.
 */
import { readFile } from 'node:fs/promises';
import type { DebugBackend, StopEvent } from '../backend';
import type { NativeFrame } from '../types';
import { parseMaps } from '../python/elfSymbols';
import { integerValue } from './pythonAttach';
import { isPyO3Glue, type InternalStops } from './pythonStepping';
import { isGlueName } from '../stack/glue';
import { cleanRustName } from '../stack/rustNames';

/** Address ranges of the interpreter's code: libpython, or a python executable linked statically. */
export interface CodeRange {
  start: bigint;
  end: bigint;
}

/** A mapped file that holds the interpreter: `libpython3.12.so.1.0`, `python3.11`, `python3.12d`. */
export function isInterpreterPath(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return /^libpython\d(\.\d+)?/.test(base) || /^python\d(\.\d+)?[a-z]*$/.test(base);
}

/** The interpreter's mapped ranges from /proc/PID/maps text. */
export function interpreterRanges(mapsText: string): CodeRange[] {
  return parseMaps(mapsText).filter((m) => isInterpreterPath(m.path)).map((m) => ({ start: m.start, end: m.end }));
}

/** Interpreter ranges of a live local process; none when they cannot be read. */
export async function readInterpreterRanges(pid: number | undefined): Promise<CodeRange[]> {
  if (!pid) return [];
  return interpreterRanges(await readFile(`/proc/${pid}/maps`, 'utf8').catch(() => ''));
}

/** CPython's own sources, for when the mapping is unknown: `Objects/call.c` as compiled, or a
 *  path through an unpacked `Python-3.X.Y` tree, or the installed headers' inline functions
 *  (`Py_TYPE` in include/python3.12/object.h) compiled into the extension. */
const CPYTHON_SOURCE = /(^|\/)Python-\d+\.\d+[^/]*\/|^(\.\/)?(Objects|Python|Modules|Parser|Include)\/|\/include\/python\d+\.\d+[a-z]*\//;

/**
 * Where a native step may end: the user's own C or Rust code. Not the interpreter (by address,
 * else by source path), not PyO3's, Rust's standard library or the cargo registry's code, not
 * the call stack's glue (stack/glue.ts: PyO3's `__pyfunction_*` wrappers, generated into the
 * user's file), and not code without line information.
 */
export function isUserCode(frame: NativeFrame | undefined, interpreter: CodeRange[]): boolean {
  if (!frame || !frame.line || !(frame.fullname ?? frame.file)) return false;
  if (interpreter.some((r) => frame.pc >= r.start && frame.pc < r.end)) return false;
  if (CPYTHON_SOURCE.test(frame.file ?? '') || CPYTHON_SOURCE.test(frame.fullname ?? '')) return false;
  if (frame.func && isGlueName(cleanRustName(frame.func))) return false; // PyO3's generated wrappers, in the user's file
  return !isPyO3Glue(frame.func, frame.fullname ?? frame.file);
}

/**
 * The expression that calls the bootstrap's hook on the stopped thread and says whether it armed
 * the step: `PyObject_CallNoArgs(hook)` compared with `Py_True` (the result's reference is
 * dropped by a second call, `Py_DecRef`). Function addresses, not names: a bare name can be
 * ambiguous to LLDB's clang in a process with Rust modules.
 */
export function armExpression(callNoArgs: bigint, hook: bigint): string {
  return `(unsigned long)((void *(*)(void *))0x${callNoArgs.toString(16)})((void *)0x${hook.toString(16)})`;
}

/**
 * Arms the Python side (see the module doc). `level`: a frame of the thread whose language is C
 * (the debugger evaluates the call's C casts there; the call itself runs on the thread's top).
 * Throws with the reason when it could not.
 */
export async function armNativeStep(backend: DebugBackend, threadId: number, level: number, hook: bigint): Promise<void> {
  if (!await callHook(backend, threadId, level, hook)) throw new Error('the bootstrap did not take the step');
}

/**
 * Calls one of the bootstrap's hooks (a Python callable, by address) on a thread that holds the
 * GIL, in its frame `level` (a C frame: the casts are C); releases what it returns. True when it
 * returned True. Throws when the call fails or the hook raised (NULL).
 */
export async function callHook(backend: DebugBackend, threadId: number, level: number, hook: bigint): Promise<boolean> {
  const fn = async (name: string): Promise<bigint> => {
    const a = await backend.symbols.address(name);
    if (a === undefined) throw new Error(`no ${name} in the program`);
    return a;
  };
  const [callNoArgs, decRef, pyTrue] = [await fn('PyObject_CallNoArgs'), await fn('Py_DecRef'), await fn('_Py_TrueStruct')];
  const result = integerValue(await backend.evaluateCall(armExpression(callNoArgs, hook), threadId, level));
  if (result === undefined || result === 0n) throw new Error('the bootstrap\'s hook failed');
  await backend.evaluateCall(`((void (*)(void *))0x${decRef.toString(16)})((void *)0x${result.toString(16)})`, threadId, level).catch(() => undefined);
  return result === pyTrue;
}

export type NativeStepEnd =
  /** Stopped at a line of the user's code: report it as the step's end. */
  | { kind: 'user' }
  /** Back in the interpreter, the native frame returned: let the Python step run on. */
  | { kind: 'returned' }
  /** Something else stopped the thread (a trap, a breakpoint, a signal): handle it as usual. */
  | { kind: 'other'; event: StopEvent }
  /** Gave up after `budget` debugger steps (still in library code): report where it is. */
  | { kind: 'budget' };

/**
 * The native half (see the module doc). `startCfa`: the CFA of the frame the step began in (the
 * thread's stack pointer at or above it means that frame returned).
 */
export async function stepThroughInterpreter(
  backend: DebugBackend, threadId: number, stops: InternalStops, interpreter: CodeRange[], startCfa: bigint | undefined, budget = 24,
): Promise<NativeStepEnd> {
  let stepOut = false;
  for (let i = 0; i < budget; i++) {
    const out = stepOut;
    const ev = await stops.run(() => (out ? backend.stepOut(threadId) : backend.stepIn(threadId)));
    if (ev.reason !== 'step' || ev.threadId !== threadId) return { kind: 'other', event: ev };
    const [top] = await backend.frames(threadId, 1);
    const sp = (await backend.spCfa(threadId, [0]).catch(() => undefined))?.get(0)?.sp;
    const left = startCfa !== undefined && sp !== undefined && sp >= startCfa;
    if (isUserCode(top, interpreter)) {
      // A step out ends inside a line (just after the call): on to the next line start.
      if (!out) return { kind: 'user' };
      stepOut = false;
      continue;
    }
    if (left) return { kind: 'returned' };
    stepOut = true;
  }
  return { kind: 'budget' };
}
