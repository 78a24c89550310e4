/**
 * Values as the Variables view shows them: `PyObject *` in C frames and PyO3 handles in Rust
 * frames get the Python type and a short value read from memory; Python frames' locals likewise.
 */
import type { DebugBackend, Variable } from '../backend';
import type { StackService } from '../stackService';
import { readLocals, summarizeObject } from '../python/reader';

/** C and Rust types whose value is a pointer to a Python object. */
const PYOBJECT_TYPE = /^(?:const\s+)?(?:PyObject|struct _object|Py\w*Object)\s*\*\s*$|^(?:pyo3::)?(?:instance::)?(?:Bound|Py|Borrowed)<|^&(?:pyo3::types::any::)?PyAny\b|^\*mut (?:pyo3_ffi::object::)?PyObject$/;

function pointerIn(value: string): bigint | undefined {
  const m = /0x[0-9a-f]+/i.exec(value);
  return m ? BigInt(m[0]) : undefined;
}

export async function describeValue(v: Variable, backend: DebugBackend, stacks?: StackService): Promise<string> {
  if (!stacks || !v.type || !PYOBJECT_TYPE.test(v.type.trim())) return v.value;
  const addr = v.address ?? pointerIn(v.value);
  if (!addr) return v.value;
  const layout = await stacks.pythonLayout();
  if (!layout) return v.value;
  const s = await summarizeObject(backend.memory, layout, addr);
  const len = s.length !== undefined ? ` (len ${s.length})` : '';
  return `<${s.type}${len}> ${s.value}`;
}

export async function pythonLocals(backend: DebugBackend, stacks: StackService, frameAddress: bigint): Promise<Variable[]> {
  const layout = await stacks.pythonLayout();
  if (!layout) return [];
  const locals = await readLocals(backend.memory, layout, frameAddress);
  return locals.map((l) => ({
    name: l.name,
    value: l.summary ? `<${l.summary.type}${l.summary.length !== undefined ? ` (len ${l.summary.length})` : ''}> ${l.summary.value}` : '<unbound>',
    type: l.summary?.type,
    ref: 0,
  }));
}
