/**
 * Which native frames are interpreter glue: the machinery between a caller and the code the user
 * wrote, folded away in the merged call stack. Data, one entry per family, each with the reason.
 * Names are matched after Rust names are cleaned (no hashes, no disambiguators). Pure.
 */

import { byName } from './memo';

export interface GlueRule {
  /** Exact name, or a RegExp over the whole cleaned name. */
  match: string | RegExp;
  why: string;
}

/** The eval loop: one activation runs one segment of Python frames and is replaced by them.
 *  `.cold`/`.part` are the split-off parts GCC makes of the same function. `PyEval_EvalFrameEx`
 *  was the loop itself before 3.6 and is a thin wrapper after (see `isEvalLoop`). */
export const EVAL_LOOP = /^_?PyEval_EvalFrameDefault(\.(cold|part)[.0-9]*)?$/;
export const EVAL_LOOP_LEGACY = /^PyEval_EvalFrameEx(\.(cold|part)[.0-9]*)?$/;

export const CPYTHON_GLUE: GlueRule[] = [
  { match: /^_PyEval_EvalFrame$|^PyEval_EvalFrameEx$/, why: 'inline wrapper that calls the frame evaluator (PEP 523 hook)' },
  { match: /^_PyEval_Vector$|^_PyEval_EvalCode(WithName)?$|^PyEval_EvalCode(Ex)?$/, why: 'sets up a Python frame and enters the eval loop' },
  { match: /^_?PyFunction_Vectorcall$|^method_vectorcall$/, why: 'vectorcall entry of Python functions and bound methods' },
  {
    match: /^_?PyObject_(Vectorcall(Tstate|Dict|Method)?|VectorcallMethod|Call(NoArgs?|NoArgTstate|OneArg|Object|Function\w*|Method\w*|_Prepend)?|MakeTpCall|FastCall\w*)$/,
    why: 'generic call protocol: picks the callee\'s vectorcall or tp_call',
  },
  { match: /^vectorcall_(method|unbound)$|^(trace_)?call_function$|^do_call_core$/, why: 'call dispatch inside the eval loop (3.10 and older; trace_call_function while a trace function is set)' },
  { match: /^builtin_exec(_impl)?$/, why: 'exec() running a code object (how Seam\'s bootstrap runs the script, like run_mod for `python SCRIPT`)' },
  { match: /^object_vacall$|^_?PyObject_VectorcallPrepend$|^callmethod$|^_PyObject_Call_Prepend$/, why: 'varargs call helpers behind PyObject_CallFunctionObjArgs and friends (Objects/call.c)' },
  { match: /^cfunction_(call|vectorcall_\w+)$/, why: 'adapts the call protocol to a C function\'s METH_* convention' },
  { match: /^method_vectorcall_\w+$|^methoddescr_call$|^wrapperdescr_call$|^wrapper_call$/, why: 'method descriptor adapters for C methods' },
  { match: /^slot_(tp|nb|sq|mp|am|bf)_\w+$|^type_call$|^vectorcall_method$/, why: 'type slots that forward an operation to a Python dunder (the dunder\'s frame follows)' },
  { match: /^call_unbound(_noarg)?$|^maybe_call_special_\w+$|^lookup_maybe_method$/, why: 'typeobject.c helpers that look up and call a dunder for a slot (not its `call_method`: a name extensions use too)' },
  { match: /^gen_send_ex2?$|^gen_iternext$|^gen_send$|^_PyGen_Send$/, why: 'resumes a generator frame in a new eval activation' },
  { match: /^run_(eval_code_obj|mod)$|^(pyrun|_?PyRun)_\w+$/, why: 'runs a module\'s code object (python script.py, -c, -m)' },
  { match: /^pymain_\w+$|^Py_(RunMain|BytesMain|Main)$/, why: 'interpreter start-up' },
  { match: /^partial_vectorcall(_fallback)?$/, why: 'functools.partial forwarding its call (3.9+; not `partial_call`, a name extensions use too)' },
  { match: /^thread_run$|^pythread_wrapper$/, why: 'CPython thread bootstrap (_thread.start_new_thread)' },
];

export const PROCESS_GLUE: GlueRule[] = [
  { match: /^__libc_start(_call)?_main(_impl)?$|^_start$/, why: 'C runtime start-up before main' },
  { match: /^start_thread$|^(__)?clone3?$/, why: 'pthread bootstrap' },
];

/** `crate::__pyfunction_f`, `crate::T::__pymethod_m__`: PyO3's generated argument extractor. */
const PYO3_WRAPPER = /(^|::)__pyfunction_\w+$|(^|::)__pymethod_\w+__$/;

/** PyO3 before 0.30 defined the `extern "C"` entry inside the user's crate: `rpds::<impl
 *  PyMethods<…> for PyClassImplCollector<…>>::py_methods::ITEMS::trampoline` for #[pymethods],
 *  `crate::f::MakeDef::_PYO3_DEF::trampoline` for a #[pyfunction] (with DWARF: `{impl#N}` paths). */
const PYO3_IN_CRATE_ENTRY = /(^|::)(ITEMS|_PYO3_DEF)::trampoline$/;

/** PyO3's wrappers between CPython's call and the user's #[pyfunction]/#[pymethods] body. */
export const PYO3_GLUE: GlueRule[] = [
  { match: /^pyo3::impl_::trampoline::/, why: 'PyO3 trampoline: GIL pool, panic and error translation' },
  { match: /^pyo3::impl_::pymethods::/, why: 'PyO3 method-slot adapters' },
  { match: /^pyo3::callback::(handle_panic|panic_result_into_callback_output|convert)/, why: 'PyO3 before 0.18: panic/result translation' },
  { match: /^std::panicking::(try|catch_unwind)\b|^std::panic::catch_unwind\b|^__rust_try$/, why: 'catch_unwind around the body, so a panic becomes a Python exception' },
  { match: PYO3_WRAPPER, why: 'PyO3-generated wrapper that extracts arguments, then calls the user\'s function (in the stack: only when that call is seen, see wrapperIsGlue)' },
  { match: PYO3_IN_CRATE_ENTRY, why: 'PyO3-generated extern "C" entry that calls the trampoline (PyO3 before 0.30)' },
  { match: /^pyo3::call::|^pyo3::types::(any|tuple)::\{impl#\d+\}::call(1|0|_positional|_method\w*)?(<.*>)?$|^pyo3::instance::\{impl#\d+\}::call(1|0|_method\w*)?(<.*>)?$/, why: 'PyO3 calling a Python object from Rust (Bound::call1 and its argument plumbing)' },
  // The same methods named from symbols (LLDB, or GDB without DWARF): `<pyo3::instance::Bound<…> as
  // pyo3::types::any::PyAnyMethods>::call1`, `pyo3::types::tuple::<impl pyo3::call::PyCallArgs for (T0,)>::call_positional`.
  { match: /^(<pyo3::.* as pyo3::[\w:]+>|pyo3::(types::(any|tuple)|instance)::<impl .*>)::call(1|0|_positional|_method\w*)?(<.*>)?$/, why: 'PyO3 calling a Python object from Rust, named from its symbol' },
  { match: /^std::panicking::(rust_panic|panic_with_hook|panic_handler|begin_panic\w*|rust_panic_with_hook)\b|^core::panicking::|^std::sys::backtrace::__rust_end_short_backtrace|^__rustc::rust_(begin_unwind|panic)$/, why: 'Rust panic machinery between the panicking line and the unwinder (the stop reason names the panic)' },
  { match: /^std::rt::lang_start|^std::sys::backtrace::__rust_begin_short_backtrace|^std::sys::(pal::)?unix::thread::Thread::new::thread_start/, why: 'Rust runtime and thread start-up' },
];

/** Glue only between a PyO3 trampoline and the user's code: elsewhere a closure call is the
 *  user's own. */
export const PYO3_CONTEXT_GLUE = /^(<.* as )?core::ops::function::(FnOnce|FnMut|Fn)>?::call(_once|_mut)?(\{\{vtable\.shim\}\}|::\{shim[^}]*\})?(<.*>)?$/;

/** Frames that open a PyO3 trampoline region (for PYO3_CONTEXT_GLUE). */
const PYO3_REGION = new RegExp(`^pyo3::impl_::(trampoline|pymethods)::|${PYO3_IN_CRATE_ENTRY.source}|^std::panicking::(try|catch_unwind)\\b|^std::panic::catch_unwind\\b|^__rust_try$`);

const ALL_RULES = [...CPYTHON_GLUE, ...PROCESS_GLUE, ...PYO3_GLUE];
const EXACT = new Set(ALL_RULES.flatMap((r) => (typeof r.match === 'string' ? [r.match] : [])));
const PATTERNS = ALL_RULES.flatMap((r) => (typeof r.match === 'string' ? [] : [r.match]));

/** A GCC clone or split part of a C function, named from a symbol table (an LTO build without
 *  DWARF): `cfunction_call.lto_priv.0`, `pyrun_file.constprop.0.cold`. */
const GCC_CLONE = /^([A-Za-z_]\w*)\.(?:lto_priv|constprop|isra|part|cold)\b/;

/** The C function a GCC clone or split part belongs to (`cfunction_call.lto_priv.0` ->
 *  `cfunction_call`); any other name as it is. */
export function cloneOf(name: string): string {
  return GCC_CLONE.exec(name)?.[1] ?? name;
}

const gluePattern = (name: string): boolean => EXACT.has(name) || PATTERNS.some((p) => p.test(name));

/** Unconditional glue (everything but the context-dependent closure calls). */
export const isGlueName = byName((name: string): boolean => gluePattern(name) || gluePattern(cloneOf(name)));

/** Is `name` PyO3's generated wrapper around a user's #[pyfunction] or #[pymethods] item? */
export function isPyo3Wrapper(name: string): boolean {
  return PYO3_WRAPPER.test(name);
}

/**
 * A PyO3 wrapper is glue when the call it makes to the user's function is a frame of its own:
 * the frame it calls lives beside it (`m::T::__pymethod_step__` → `m::T::step`, renamed or not,
 * an inlined frame included), or it is the entry that calls PyO3's trampoline. In an optimised
 * build without inline records (a wheel's symbols) the user's body is inlined into the wrapper,
 * which then stands for it and stays visible.
 */
export function wrapperIsGlue(wrapper: string, callee: string | undefined): boolean {
  if (callee === undefined) return false;
  if (opensPyo3Region(callee)) return true; // the extern "C" entry of PyO3 0.18–0.20, named like the wrapper
  const parent = (name: string): string => name.slice(0, Math.max(0, name.lastIndexOf('::')));
  return parent(wrapper) === parent(callee.replace(/<[^<>]*(<[^<>]*>[^<>]*)*>$/, '')) && !isGlueName(callee);
}

export function opensPyo3Region(name: string): boolean {
  return PYO3_REGION.test(name);
}

export const isContextGlue = byName((name: string): boolean => PYO3_CONTEXT_GLUE.test(name));

/** Is `name` one activation of the eval loop for this CPython version? `PyEval_EvalFrameEx` is
 *  the loop before 3.6 only; with no version it counts when no `_PyEval_EvalFrameDefault` is
 *  on the stack at all (`hasDefault`). */
export function isEvalLoop(name: string, version: [number, number] | undefined, hasDefault: boolean): boolean {
  if (EVAL_LOOP.test(name)) return true;
  if (!EVAL_LOOP_LEGACY.test(name)) return false;
  if (version) return version[0] < 3 || (version[0] === 3 && version[1] < 6);
  return !hasDefault;
}
