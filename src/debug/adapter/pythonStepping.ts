/**
 * Python stepping (issue 4): line steps in Python frames and the step from a Python line into the
 * C or Rust function it calls, on the same trap as Python breakpoints.
 *
 * The adapter writes the step into the control file (`PythonBreakpoints.requestStep`) and
 * continues; the thread that trapped takes it for its frame (see seam_bootstrap.py) and traps
 * again with `STEP_DONE` at the next line, or with `STEP_NATIVE` just before a step "in" calls a C
 * function: `sys.audit("seam.breakpoint", STEP_NATIVE, func)`, so `args[2]` in `sys_audit` is the
 * function object. Its C entry point is read here from the interpreter's own types (DWARF):
 * `PyCFunctionObject.m_ml->ml_meth` for builtins and extension functions, `PyMethodDescrObject.
 * d_method->ml_meth` for unbound methods, `PyWrapperDescrObject.d_wrapped` for slot wrappers. A
 * breakpoint at that address stops in the function. For PyO3, that is PyO3's trampoline: the
 * wrapper `crate::__pyfunction_NAME` it calls is named in the first frames' arguments, and the
 * user's function is `crate::NAME`.
 */
import type { DebugBackend, StopEvent } from '../backend';
import { trapExpression } from './pythonBreakpoints';

/** Trap ids above any breakpoint id (the trap reads one 30-bit digit). */
export const STEP_DONE = 1_000_000_001;
export const STEP_NATIVE = 1_000_000_002;

/** `native-in` / `native-over`: a step "in" / "over" of the innermost Python frame of a thread
 *  stopped in native code, armed by the debugger's call of the bootstrap's hook
 *  (callbackStep.ts); the other kinds are taken by the thread at its trap. */
export type StepKind = 'over' | 'in' | 'out' | 'native-in' | 'native-over' | 'cancel';

/** Types whose C entry point we know how to read, and the expression that reads it. */
const ENTRY: Record<string, { entry: string; name: string }> = {
  builtin_function_or_method: { entry: '((PyCFunctionObject *)args[2])->m_ml->ml_meth', name: '((PyCFunctionObject *)args[2])->m_ml->ml_name' },
  method_descriptor: { entry: '((PyMethodDescrObject *)args[2])->d_method->ml_meth', name: '((PyMethodDescrObject *)args[2])->d_method->ml_name' },
  classmethod_descriptor: { entry: '((PyMethodDescrObject *)args[2])->d_method->ml_meth', name: '((PyMethodDescrObject *)args[2])->d_method->ml_name' },
  wrapper_descriptor: { entry: '((PyWrapperDescrObject *)args[2])->d_wrapped', name: '((PyWrapperDescrObject *)args[2])->d_base->name' },
};

export interface NativeTarget {
  address: bigint;
  /** The Python-visible name (`sqrt`, `call`). */
  name: string;
  /** What GDB calls the function at the address (`math_sqrt`, `pyo3::impl_::trampoline::…`). */
  symbol?: string;
}

/** A C string as GDB prints it: `0x7f… "sqrt"` -> `sqrt`. */
export function cStringValue(v: string): string | undefined {
  const m = /"((?:[^"\\]|\\.)*)"/.exec(v);
  return m ? m[1] : undefined;
}

/**
 * A function pointer as the debugger prints it -> address and name. GDB: `(PyCFunction) 0x7f…
 * <math_sqrt>`; LLDB: `0x00007f… (math.cpython-312-x86_64-linux-gnu.so`math_sqrt at mathmodule.c:1234)`.
 */
export function functionPointer(v: string): { address: bigint; symbol?: string } | undefined {
  const m = /(0x[0-9a-f]+)(?:\s+<([^>+]+)(?:\+\d+)?>)?/i.exec(v);
  if (!m) return undefined;
  const address = BigInt(m[1]);
  if (address === 0n) return undefined;
  const lldb = m[2] === undefined ? /\([^`()]*`(.*?)(?: at [^()]*)?\)\s*$/.exec(v.slice(m.index + m[0].length)) : null;
  return { address, symbol: m[2] ?? lldb?.[1]?.replace(/ \+ \d+$/, '') };
}

/** At a STEP_NATIVE trap (thread stopped in sys_audit): the C function about to be called. */
export async function readNativeTarget(backend: DebugBackend, threadId: number): Promise<NativeTarget | { error: string }> {
  let typeName: string | undefined;
  try {
    typeName = cStringValue((await backend.evaluate(trapExpression('((PyObject *)args[2])->ob_type->tp_name', backend), threadId, 0)).value);
  } catch (e) {
    return { error: `cannot read the called object (${(e as Error).message})` };
  }
  const how = typeName ? ENTRY[typeName] : undefined;
  if (!how) return { error: `a call of a ${typeName ?? 'unknown'} object` };
  try {
    const fn = functionPointer((await backend.evaluate(trapExpression(how.entry, backend), threadId, 0)).value);
    if (!fn) return { error: `no C function in the ${typeName}` };
    const name = cStringValue((await backend.evaluate(trapExpression(how.name, backend), threadId, 0).catch(() => ({ value: '' }))).value) ?? fn.symbol ?? 'the function';
    return { address: fn.address, name, symbol: fn.symbol };
  } catch (e) {
    return { error: `cannot read the ${typeName}'s C function (${(e as Error).message})` };
  }
}

/** A frame in PyO3's own sources (its trampolines and glue), or in Rust's standard library. */
export function isPyO3Glue(func: string | undefined, fullname: string | undefined): boolean {
  if (fullname && (/\/\.cargo\/registry\//.test(fullname) || /\/rustc\/[0-9a-f]+\//.test(fullname) || /\/lib\/rustlib\//.test(fullname))) return true;
  return !!func && /^(?:pyo3|pyo3_ffi|core|std|alloc)::/.test(func);
}

/**
 * The user's Rust function behind a PyO3 wrapper named in a value or a frame name:
 * `0x… <mixed_rs::__pyfunction_py_leaf>` -> `mixed_rs::py_leaf`.
 */
export function pyo3UserFunction(text: string): string | undefined {
  const m = /((?:[A-Za-z_][\w]*::)*)__pyfunction_([A-Za-z_]\w*)/.exec(text);
  return m ? `${m[1]}${m[2]}` : undefined;
}

/** How a session drives GDB while it looks for the Rust body: steps whose stops it keeps. */
export interface InternalStops {
  /** Runs `start` (a step or continue) and resolves with the stop it makes, not reported. */
  run(start: () => Promise<void>): Promise<StopEvent>;
}

/**
 * Stopped at a PyO3 trampoline (the function pointer of a PyO3 function): the user's Rust
 * function, found by stepping (at most `budget` GDB steps, each reading the top frame's
 * arguments for the `__pyfunction_` wrapper) and run to with a breakpoint. Returns false when it
 * is not found (the thread then stays where the last step left it).
 */
export async function runToPyO3Body(backend: DebugBackend, threadId: number, stops: InternalStops, budget = 8): Promise<{ reached: boolean; note?: string }> {
  let target: string | undefined;
  for (let i = 0; i <= budget && !target; i++) {
    const [top] = await backend.frames(threadId, 1);
    if (!top) break;
    if (!isPyO3Glue(top.func, top.fullname ?? top.file)) return { reached: true };
    target = pyo3UserFunction(top.func ?? '');
    if (target) break;
    for (const v of await backend.locals(threadId, 0).catch(() => [])) {
      target = pyo3UserFunction(v.value);
      if (target) break;
    }
    if (target || i === budget) break;
    const ev = await stops.run(() => backend.stepIn(threadId));
    if (ev.reason !== 'step') return { reached: false, note: `stopped by ${ev.description} while looking for the Rust body` };
  }
  if (!target) return { reached: false, note: 'no PyO3 wrapper (__pyfunction_*) found near the trampoline' };
  let bp: number | undefined;
  try {
    const st = await backend.insertBreakpoint({ location: target });
    bp = st.id;
    if (!st.verified) return { reached: false, note: `${target} not found` };
    const ev = await stops.run(() => backend.continue());
    const hit = ev.breakpointIds?.includes(bp) ?? false;
    return hit ? { reached: true } : { reached: false, note: `stopped by ${ev.description} before ${target}` };
  } finally {
    if (bp !== undefined) await backend.deleteBreakpoint(bp).catch(() => undefined);
  }
}
