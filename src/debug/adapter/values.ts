/**
 * Values as the Variables view shows them: `PyObject *` in C frames and PyO3 handles in Rust
 * frames get the Python type and a short value read from memory; Python frames' locals likewise.
 */
import type { DebugBackend, Variable } from '../backend';
import type { StackService } from '../stackService';
import { expandable, readChildren, readLocals, summarizeObject, type ObjectSummary } from '../python/reader';

/** C and Rust types whose value is a pointer to a Python object. */
const PYOBJECT_TYPE = /^(?:const\s+)?(?:PyObject|struct _object|Py\w*Object)\s*\*\s*$|^(?:pyo3::)?(?:instance::)?(?:Bound|Py|Borrowed)<|^&(?:pyo3::types::any::)?PyAny\b|^\*mut (?:pyo3_ffi::object::)?PyObject$/;

function pointerIn(value: string): bigint | undefined {
  const m = /0x[0-9a-f]+/i.exec(value);
  return m ? BigInt(m[0]) : undefined;
}

/** A native value as shown: a Python object's summary for `PyObject *` and PyO3 handles, with
 *  its address in `python` when the object can be opened (items, entries, attributes). */
export async function describeNative(v: Variable, backend: DebugBackend, stacks?: StackService): Promise<{ value: string; python?: bigint }> {
  if (!stacks || !v.type || !PYOBJECT_TYPE.test(v.type.trim())) return { value: v.value };
  const addr = v.address ?? pointerIn(v.value);
  if (!addr) return { value: v.value };
  const layout = await stacks.pythonLayout();
  if (!layout) return { value: v.value };
  const s = await summarizeObject(backend.memory, layout, addr);
  const len = s.length !== undefined ? ` (len ${s.length})` : '';
  return { value: `<${s.type}${len}> ${s.value}`, ...(expandable(s) ? { python: addr } : {}) };
}

/** A Python value as the Variables view shows it; `python` set when it can be opened. */
export interface PythonVariable extends Variable {
  python?: bigint;
}

function shown(name: string, summary: ObjectSummary | null, address: bigint | undefined): PythonVariable {
  const v: PythonVariable = {
    name,
    value: summary ? `<${summary.type}${summary.length !== undefined ? ` (len ${summary.length})` : ''}> ${summary.value}` : '<unbound>',
    type: summary?.type,
    ref: 0,
  };
  if (summary && address !== undefined && expandable(summary)) v.python = address;
  return v;
}

export async function pythonLocals(backend: DebugBackend, stacks: StackService, frameAddress: bigint): Promise<PythonVariable[]> {
  const layout = await stacks.pythonLayout();
  if (!layout) return [];
  const locals = await readLocals(backend.memory, layout, frameAddress);
  return locals.map((l) => shown(l.name, l.summary, l.address));
}

/** What is inside a Python object (items, entries, attributes), read from memory. */
export async function pythonChildren(backend: DebugBackend, stacks: StackService, address: bigint): Promise<PythonVariable[]> {
  const layout = await stacks.pythonLayout();
  if (!layout) return [];
  return (await readChildren(backend.memory, layout, address)).map((c) => shown(c.name, c.summary, c.addr));
}
