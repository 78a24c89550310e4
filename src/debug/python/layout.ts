/**
 * Per-CPython-version knowledge the interpreter-memory reader needs: which struct fields to follow
 * and where they are. One table per version (`VERSIONS`) says which C types and fields to ask for;
 * the offsets themselves are obtained, never guessed:
 * - 3.13, 3.13t, 3.14, 3.14t: from `_PyRuntime.debug_offsets` (`_Py_DebugOffsets`, cookie "xdebugpy"),
 *   no DWARF needed; the struct itself grew in 3.14, so its field list is one table per version;
 * - 3.10–3.12: from DWARF through `Symbols.offsetOf` / `Symbols.sizeOf`.
 * Facts not in the debug offsets (a few object-header fields, bit positions, enum values) come from
 * that version's headers and are written in the table with the header they come from.
 */
import type { Memory, Symbols } from '../types';

/** How the reader reaches the GIL holder. */
export type GilPath =
  /** 3.10–3.11: `_PyRuntime.ceval.gil` embedded in the runtime. */
  | { where: 'runtime'; holder: number; locked: number }
  /** 3.12+: `interp->ceval.gil` points at a `struct _gil_runtime_state`. */
  | {
    where: 'interp-pointer'; pointer: number; holder: number; locked: number;
    /** Free-threaded builds: offset of `int enabled` in the GIL struct; 0 there means no GIL at all. */
    enabled?: number;
  };

export interface PyLayout {
  /** 3.`minor`. */
  minor: number;
  /** "3.11.7" when PY_VERSION_HEX is known, else "3.10". */
  version: string;
  /** PY_VERSION_HEX when known (3.11+: `Py_Version`; 3.13: debug offsets). */
  versionHex?: number;
  source: 'debug-offsets' | 'dwarf';
  /** A free-threaded (Py_GIL_DISABLED, "3.13t") build. */
  freeThreaded?: boolean;
  /** Address of `_PyRuntime`, set by detectLayout. */
  runtimeAddress?: bigint;
  runtime: { interpretersHead: number };
  interp: { next: number; threadsHead: number; gil?: GilPath };
  tstate: {
    size: number;
    next: number;
    threadId: number;
    /** Absent in 3.10 (no `native_thread_id`). */
    nativeThreadId?: number;
    /** 3.10 `frame` (PyFrameObject*), 3.11–3.12 `cframe` (_PyCFrame*), 3.13 `current_frame`. */
    frame: number;
  };
  /** How `tstate.frame` leads to frames. */
  frameModel: 'frame-object' | 'cframe' | 'current-frame';
  cframe?: { size: number; currentFrame: number; previous: number };
  frame: {
    size: number;
    /** `f_back` (3.10) / `previous`. */
    previous: number;
    /** `f_code` / `f_executable`. */
    code: number;
    /** Low tag bits to clear from `f_executable` (3.14: a `_PyStackRef`, Py_TAG_BITS = 3). */
    codeTagBits?: number;
    /** Low tag bits to clear from `localsplus[]` entries (`_PyStackRef` in 3.13t and 3.14). */
    localsTagBits?: number;
    /** 3.14t: `int32_t tlbc_index`, which copy of the bytecode `instr` points into. */
    tlbcIndex?: number;
    /** `f_lasti` (3.10: int, code units) / `prev_instr` (3.11–3.12) / `instr_ptr` (3.13): pointers. */
    instr: number;
    instrKind: 'lasti' | 'pointer';
    owner?: number;
    /** 3.11 only. */
    isEntry?: number;
    localsplus: number;
  };
  code: {
    size: number;
    filename: number;
    name: number;
    /** 3.11+. */
    qualname?: number;
    firstlineno: number;
    linetable: number;
    /** 3.11+: start of the instructions inside the code object. */
    codeAdaptive?: number;
    /** 3.14t: `co_tlbc`, a `_PyCodeArray*` ({ Py_ssize_t size; char *entries[]; }) of per-thread bytecode. */
    tlbc?: number;
    /** `co_localsplusnames` (3.11+) / `co_varnames` (3.10). */
    localNames: number;
    /** `co_nlocalsplus` (3.11+) / `co_nlocals` (3.10); an int. */
    localCount?: number;
  };
  /**
   * `_PyFrameOwner` values (pycore_frame.h; 3.10 has none). A frame owned by `cstack` or
   * `interpreter` is the entry frame of one eval-loop activation, not a Python frame.
   */
  owner?: { thread: number; generator: number; frameObject: number; cstack?: number; interpreter?: number };
  object: { type: number; varSize: number };
  type: { name: number };
  unicode: {
    length: number;
    state: number;
    asciiSize: number;
    compactSize: number;
    /** Bit positions in `state` (PyASCIIObject, cpython/unicodeobject.h): interned:2, kind:3, compact:1, ascii:1. */
    kindShift: number;
    compactBit: number;
    asciiBit: number;
  };
  bytes: { size: number; data: number };
  /** 3.10–3.11: sign and digit count in `ob_size`; 3.12+: `lv_tag` (count << 3 | sign bits). */
  long: { model: 'ob-size' | 'lv-tag'; tag: number; digits: number; digitBits: number };
  float: { value: number };
  list: { size: number; items: number };
  tuple: { size: number; items: number };
  dict: { used: number; keys: number; values: number };
  /** PyDictKeysObject: 3.10 `dk_size`; 3.11+ `dk_log2_size`, `dk_log2_index_bytes`, `dk_kind` (0 = general entries). */
  dictKeys: {
    model: 'size' | 'log2';
    size: number;
    log2IndexBytes?: number;
    kind?: number;
    nentries: number;
    indices: number;
    /** Offset of `values[]` in PyDictValues (split tables). */
    values: number;
  };
  /**
   * Module globals and instance attributes, for the `threading` names (`threading._active`, each
   * Thread's `_name`). Absent when unknown: threads then keep the debugger's names.
   */
  attrs?: {
    /** PyInterpreterState: `modules` (3.10–3.11) / `imports.modules` (3.12+), sys.modules. */
    modules: number;
    /** PyModuleObject.md_dict: the first field after the object header. */
    moduleDict: number;
    /** PyTypeObject fields. */
    tpFlags: number;
    tpBasicsize: number;
    tpDictoffset: number;
    /** PyHeapTypeObject.ht_cached_keys: the shared keys of split (values-only) instance dicts. */
    cachedKeys: number;
    /**
     * Where an instance dict lives when its type has Py_TPFLAGS_MANAGED_DICT (pycore_object.h);
     * undefined in 3.10 (only `tp_dictoffset`):
     * - 'values-pointer' (3.11): the dict at `managedDict`, a `PyDictValues*` one word before it;
     * - 'dict-or-values' (3.12): one word at `managedDict`, a values pointer when its low bit is set
     *   (stored as values - 1);
     * - 'inline-values' (3.13+): the dict at `managedDict`; without one, the values inline after
     *   the object (at tp_basicsize) when the type has Py_TPFLAGS_INLINE_VALUES and they are valid.
     */
    managed?: 'values-pointer' | 'dict-or-values' | 'inline-values';
    /** Offset of the managed dict pointer from the object: -3 words (free-threaded 3.13+: -1). */
    managedDict: number;
  };
}

export type PythonLayout = PyLayout;

/** A layout cannot be built: the message says what to install or do. */
export class LayoutError extends Error {}

// ---------------------------------------------------------------------------------------------
// _Py_DebugOffsets: `char cookie[8]`, `uint64_t version`, `uint64_t free_threaded`, then sections of
// uint64 fields, in declaration order. One table per version.

type DebugOffsetsTable = [section: string, fields: string[]][];

/** 3.13 (and 3.13t): Include/internal/pycore_runtime.h of 3.13. */
const DEBUG_OFFSETS_313: DebugOffsetsTable = [
  ['runtime_state', ['size', 'finalizing', 'interpreters_head']],
  ['interpreter_state', ['size', 'id', 'next', 'threads_head', 'gc', 'imports_modules', 'sysdict', 'builtins',
    'ceval_gil', 'gil_runtime_state', 'gil_runtime_state_enabled', 'gil_runtime_state_locked', 'gil_runtime_state_holder']],
  ['thread_state', ['size', 'prev', 'next', 'interp', 'current_frame', 'thread_id', 'native_thread_id', 'datastack_chunk', 'status']],
  ['interpreter_frame', ['size', 'previous', 'executable', 'instr_ptr', 'localsplus', 'owner']],
  ['code_object', ['size', 'filename', 'name', 'qualname', 'linetable', 'firstlineno', 'argcount', 'localsplusnames',
    'localspluskinds', 'co_code_adaptive']],
  ['pyobject', ['size', 'ob_type']],
  ['type_object', ['size', 'tp_name', 'tp_repr', 'tp_flags']],
  ['tuple_object', ['size', 'ob_item', 'ob_size']],
  ['list_object', ['size', 'ob_item', 'ob_size']],
  ['dict_object', ['size', 'ma_keys', 'ma_values']],
  ['float_object', ['size', 'ob_fval']],
  ['long_object', ['size', 'lv_tag', 'ob_digit']],
  ['bytes_object', ['size', 'ob_size', 'ob_sval']],
  ['unicode_object', ['size', 'state', 'length', 'asciiobject_size']],
  ['gc', ['size', 'collecting']],
];

/**
 * 3.14 (and 3.14t): Include/internal/pycore_debug_offsets.h of 3.14. New against 3.13:
 * interpreter_state.threads_main, .code_object_generation, .tlbc_generation;
 * interpreter_frame.stackpointer, .tlbc_index; code_object.co_tlbc; the set_object, gen_object,
 * llist_node and debugger_support sections. Fields that exist only in free-threaded builds
 * (tlbc_*, co_tlbc) are 0 in GIL builds.
 */
const DEBUG_OFFSETS_314: DebugOffsetsTable = [
  ['runtime_state', ['size', 'finalizing', 'interpreters_head']],
  ['interpreter_state', ['size', 'id', 'next', 'threads_head', 'threads_main', 'gc', 'imports_modules', 'sysdict', 'builtins',
    'ceval_gil', 'gil_runtime_state', 'gil_runtime_state_enabled', 'gil_runtime_state_locked', 'gil_runtime_state_holder',
    'code_object_generation', 'tlbc_generation']],
  ['thread_state', ['size', 'prev', 'next', 'interp', 'current_frame', 'thread_id', 'native_thread_id', 'datastack_chunk', 'status']],
  ['interpreter_frame', ['size', 'previous', 'executable', 'instr_ptr', 'localsplus', 'owner', 'stackpointer', 'tlbc_index']],
  ['code_object', ['size', 'filename', 'name', 'qualname', 'linetable', 'firstlineno', 'argcount', 'localsplusnames',
    'localspluskinds', 'co_code_adaptive', 'co_tlbc']],
  ['pyobject', ['size', 'ob_type']],
  ['type_object', ['size', 'tp_name', 'tp_repr', 'tp_flags']],
  ['tuple_object', ['size', 'ob_item', 'ob_size']],
  ['list_object', ['size', 'ob_item', 'ob_size']],
  ['set_object', ['size', 'used', 'table', 'mask']],
  ['dict_object', ['size', 'ma_keys', 'ma_values']],
  ['float_object', ['size', 'ob_fval']],
  ['long_object', ['size', 'lv_tag', 'ob_digit']],
  ['bytes_object', ['size', 'ob_size', 'ob_sval']],
  ['unicode_object', ['size', 'state', 'length', 'asciiobject_size']],
  ['gc', ['size', 'collecting']],
  ['gen_object', ['size', 'gi_name', 'gi_iframe', 'gi_frame_state']],
  ['llist_node', ['next', 'prev']],
  ['debugger_support', ['eval_breaker', 'remote_debugger_support', 'remote_debugging_enabled', 'debugger_pending_call',
    'debugger_script_path', 'debugger_script_path_size']],
];

/** `_Py_DebugOffsets` field lists by minor version. */
export const DEBUG_OFFSETS_TABLES: Readonly<Record<number, DebugOffsetsTable>> = { 13: DEBUG_OFFSETS_313, 14: DEBUG_OFFSETS_314 };

export const DEBUG_OFFSETS_COOKIE = 'xdebugpy';
const tableSize = (t: DebugOffsetsTable): number => 24 + t.reduce((n, [, f]) => n + f.length, 0) * 8;
/** Bytes of `_Py_DebugOffsets` in 3.13. */
export const DEBUG_OFFSETS_313_SIZE = tableSize(DEBUG_OFFSETS_313);
/** Bytes of `_Py_DebugOffsets` for 3.`minor`, undefined when the version has none Seam knows. */
export function debugOffsetsSize(minor: number): number | undefined {
  const t = DEBUG_OFFSETS_TABLES[minor];
  return t && tableSize(t);
}
/** Bytes to read from `_PyRuntime` so any known version's `_Py_DebugOffsets` is whole. */
export const DEBUG_OFFSETS_MAX_SIZE = Math.max(...Object.values(DEBUG_OFFSETS_TABLES).map(tableSize));

export interface DebugOffsets {
  version: number;
  freeThreaded: boolean;
  /** section -> field -> value, names as in the C struct. */
  sections: Record<string, Record<string, number>>;
}

/** Parses `_Py_DebugOffsets` (3.13, 3.14) from the first bytes of `_PyRuntime`; throws LayoutError. */
export function parseDebugOffsets(bytes: Uint8Array): DebugOffsets {
  const cookie = new TextDecoder('latin1').decode(bytes.subarray(0, 8));
  if (cookie !== DEBUG_OFFSETS_COOKIE) throw new LayoutError(`no _Py_DebugOffsets cookie in _PyRuntime (found ${JSON.stringify(cookie)})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (at: number): number => {
    if (at + 8 > bytes.length) throw new LayoutError(`_Py_DebugOffsets truncated at byte ${at}`);
    return Number(view.getBigUint64(at, true));
  };
  const version = u64(8);
  const minor = (version >> 16) & 0xff;
  const table = (version >>> 24) === 3 ? DEBUG_OFFSETS_TABLES[minor] : undefined;
  if (!table) {
    throw new LayoutError(`_Py_DebugOffsets of Python ${versionString(version)} is not supported (3.13 and 3.14 are)`);
  }
  const ft = u64(16);
  if (ft > 1) throw new LayoutError(`_Py_DebugOffsets.free_threaded is ${ft}: not a _Py_DebugOffsets block`);
  let at = 24;
  const sections: Record<string, Record<string, number>> = {};
  for (const [section, fields] of table) {
    const s: Record<string, number> = {};
    for (const f of fields) { s[f] = u64(at); at += 8; }
    sections[section] = s;
  }
  const d: DebugOffsets = { version, freeThreaded: ft === 1, sections };
  checkPlausible(d);
  return d;
}

/**
 * Rejects offsets no CPython build has, so a table that does not match the process (a patched
 * or newer CPython) fails with a message instead of reading garbage: the object header is 16 bytes
 * (32 free-threaded) with `ob_type` last, every used offset lies inside its struct.
 */
function checkPlausible(d: DebugOffsets): void {
  const s = d.sections;
  const bad = (what: string) => new LayoutError(
    `_Py_DebugOffsets of Python ${versionString(d.version)}${d.freeThreaded ? ' (free-threaded)' : ''} look wrong (${what}): unsupported CPython build`);
  const header = d.freeThreaded ? 32 : 16;
  if (s.pyobject.size !== header || s.pyobject.ob_type !== header - 8) throw bad(`PyObject size ${s.pyobject.size}, ob_type at ${s.pyobject.ob_type}`);
  const inside: [string, string[]][] = [
    ['runtime_state', ['interpreters_head']],
    ['interpreter_state', ['next', 'threads_head', 'ceval_gil', 'gil_runtime_state_locked', 'gil_runtime_state_holder']],
    ['thread_state', ['next', 'current_frame', 'thread_id', 'native_thread_id']],
    ['interpreter_frame', ['previous', 'executable', 'instr_ptr', 'owner']],
    ['code_object', ['filename', 'name', 'qualname', 'linetable', 'firstlineno', 'localsplusnames', 'co_code_adaptive']],
  ];
  for (const [section, fields] of inside) {
    const size = s[section].size;
    if (size <= 0 || size > 1 << 24) throw bad(`${section}.size ${size}`);
    for (const f of fields) if (s[section][f] >= size) throw bad(`${section}.${f} ${s[section][f]} >= size ${size}`);
  }
  if (s.interpreter_frame.localsplus > s.interpreter_frame.size) throw bad('interpreter_frame.localsplus');
}

export function versionString(hex: number): string {
  return `${hex >>> 24}.${(hex >> 16) & 0xff}.${(hex >> 8) & 0xff}`;
}

/**
 * What the debug offsets do not say, per version and build, from that version's headers.
 * - owner: `enum _frameowner` (3.13 pycore_frame.h; 3.14 pycore_interpframe_structs.h, which
 *   inserts FRAME_OWNED_BY_INTERPRETER = 3 before FRAME_OWNED_BY_CSTACK = 4; 3.14's eval loop marks
 *   its entry frame INTERPRETER).
 * - codeTagBits / localsTagBits: `_PyStackRef` tags to clear (pycore_stackref.h). 3.13 keeps
 *   `f_executable` a PyObject*, its `localsplus` are stack refs tagged only in free-threaded builds
 *   (Py_TAG_DEFERRED = 1); 3.14 makes `f_executable` a stack ref too, Py_TAG_BITS = 3.
 * - unicode: bit positions in PyASCIIObject.state (cpython/unicodeobject.h). 3.14t makes
 *   `interned` a whole byte (`unsigned char`), so kind/compact/ascii move up to bits 8/11/12.
 */
interface DebugOffsetsFacts {
  owner: NonNullable<PyLayout['owner']>;
  codeTagBits: number;
  localsTagBits: number;
  unicode: { kindShift: number; compactBit: number; asciiBit: number };
}
const OWNERS_314 = { thread: 0, generator: 1, frameObject: 2, interpreter: 3, cstack: 4 };
const UNICODE_STATE_BITS_314T = { kindShift: 8, compactBit: 11, asciiBit: 12 };
const DEBUG_OFFSETS_FACTS: Record<string, DebugOffsetsFacts> = {
  '3.13': { owner: { thread: 0, generator: 1, frameObject: 2, cstack: 3 }, codeTagBits: 0, localsTagBits: 0, unicode: { kindShift: 2, compactBit: 5, asciiBit: 6 } },
  '3.13t': { owner: { thread: 0, generator: 1, frameObject: 2, cstack: 3 }, codeTagBits: 0, localsTagBits: 1, unicode: { kindShift: 2, compactBit: 5, asciiBit: 6 } },
  '3.14': { owner: OWNERS_314, codeTagBits: 3, localsTagBits: 3, unicode: { kindShift: 2, compactBit: 5, asciiBit: 6 } },
  '3.14t': { owner: OWNERS_314, codeTagBits: 3, localsTagBits: 3, unicode: UNICODE_STATE_BITS_314T },
};

/** The 3.13 / 3.14 layout (GIL or free-threaded) from parsed debug offsets. */
export function layoutFromDebugOffsets(d: DebugOffsets): PyLayout {
  const minor = (d.version >> 16) & 0xff;
  const key = `3.${minor}${d.freeThreaded ? 't' : ''}`;
  const facts = DEBUG_OFFSETS_FACTS[key];
  if (!facts) throw new LayoutError(`Python ${key} is not supported by the memory reader`);
  const s = d.sections;
  const r = s.runtime_state, i = s.interpreter_state, t = s.thread_state, f = s.interpreter_frame, c = s.code_object;
  const gil: GilPath = {
    where: 'interp-pointer',
    pointer: i.ceval_gil,
    holder: i.gil_runtime_state_holder - i.gil_runtime_state,
    locked: i.gil_runtime_state_locked - i.gil_runtime_state,
  };
  // gil_runtime_state_enabled is offsetof(struct _gil_runtime_state, enabled), set only when free-threaded.
  if (d.freeThreaded) gil.enabled = i.gil_runtime_state_enabled;
  const layout: PyLayout = {
    minor,
    version: versionString(d.version),
    versionHex: d.version,
    source: 'debug-offsets',
    runtime: { interpretersHead: r.interpreters_head },
    interp: { next: i.next, threadsHead: i.threads_head, gil },
    tstate: { size: t.size, next: t.next, threadId: t.thread_id, nativeThreadId: t.native_thread_id, frame: t.current_frame },
    frameModel: 'current-frame',
    frame: {
      size: f.size, previous: f.previous, code: f.executable, instr: f.instr_ptr, instrKind: 'pointer',
      owner: f.owner, localsplus: f.localsplus,
    },
    code: {
      size: c.size, filename: c.filename, name: c.name, qualname: c.qualname, firstlineno: c.firstlineno,
      linetable: c.linetable, codeAdaptive: c.co_code_adaptive, localNames: c.localsplusnames,
      // co_nlocalsplus is not in the debug offsets: the reader uses len(co_localsplusnames).
    },
    owner: facts.owner,
    object: { type: s.pyobject.ob_type, varSize: s.tuple_object.ob_size },
    type: { name: s.type_object.tp_name },
    unicode: {
      length: s.unicode_object.length, state: s.unicode_object.state, asciiSize: s.unicode_object.asciiobject_size,
      // PyCompactUnicodeObject = PyASCIIObject + Py_ssize_t utf8_length + char *utf8 (3.12+ headers).
      compactSize: s.unicode_object.asciiobject_size + 16,
      ...facts.unicode,
    },
    bytes: { size: s.bytes_object.ob_size, data: s.bytes_object.ob_sval },
    long: { model: 'lv-tag', tag: s.long_object.lv_tag, digits: s.long_object.ob_digit, digitBits: 30 },
    float: { value: s.float_object.ob_fval },
    list: { size: s.list_object.ob_size, items: s.list_object.ob_item },
    tuple: { size: s.tuple_object.ob_size, items: s.tuple_object.ob_item },
    // PyDictObject: PyObject_HEAD then Py_ssize_t ma_used (cpython/dictobject.h).
    dict: { used: s.pyobject.size, keys: s.dict_object.ma_keys, values: s.dict_object.ma_values },
    // Not in the debug offsets: struct _dictkeysobject and struct _dictvalues of 3.13's and 3.14's
    // internal/pycore_dict.h: refcnt 8, log2_size 1, log2_index_bytes 1, kind 1, (free-threaded:
    // PyMutex 1,) version 4 (aligned), usable 8, nentries 8, indices; values[] after 4 uint8_t fields.
    dictKeys: { model: 'log2', size: 8, log2IndexBytes: 9, kind: 10, nentries: 24, indices: 32, values: 8 },
  };
  // The debug offsets give tp_flags: where it is not where typeObjectAttrs puts it, PyTypeObject
  // is not the struct known, and threads keep the debugger's names.
  const typeAttrs = typeObjectAttrs(s.type_object.tp_name, 49);
  if (s.type_object.tp_flags === typeAttrs.tpFlags) {
    layout.attrs = {
      modules: i.imports_modules, moduleDict: s.pyobject.size, ...typeAttrs,
      managed: 'inline-values', managedDict: d.freeThreaded ? -8 : -24,
    };
  }
  if (d.freeThreaded) layout.freeThreaded = true;
  if (facts.codeTagBits) layout.frame.codeTagBits = facts.codeTagBits;
  if (facts.localsTagBits) layout.frame.localsTagBits = facts.localsTagBits;
  // 3.14t: thread-local bytecode. Both offsets are 0 in GIL builds.
  if (d.freeThreaded && f.tlbc_index && c.co_tlbc) {
    layout.frame.tlbcIndex = f.tlbc_index;
    layout.code.tlbc = c.co_tlbc;
  }
  return layout;
}

/**
 * PyHeapTypeObject (cpython/object.h, 3.10–3.14): PyTypeObject, then PyAsyncMethods (4 pointers),
 * PyNumberMethods (36), PyMappingMethods (3), PySequenceMethods (10), PyBufferProcs (2) and
 * ht_name, ht_slots, ht_qualname: ht_cached_keys is this many bytes after the PyTypeObject.
 */
const HEAP_TYPE_TO_CACHED_KEYS = (4 + 36 + 3 + 10 + 2 + 3) * 8;

/**
 * PyTypeObject's public layout (cpython/object.h, 3.10–3.14) from tp_name on, in words:
 * tp_basicsize 1, tp_flags 18, tp_dictoffset 33; the struct ends `words` after tp_name (48 in
 * 3.10–3.11; 3.12 added tp_watched, 49).
 */
function typeObjectAttrs(tpName: number, words: 48 | 49): Pick<NonNullable<PyLayout['attrs']>, 'tpFlags' | 'tpBasicsize' | 'tpDictoffset' | 'cachedKeys'> {
  return {
    tpBasicsize: tpName + 8, tpFlags: tpName + 18 * 8, tpDictoffset: tpName + 33 * 8,
    cachedKeys: tpName + words * 8 + HEAP_TYPE_TO_CACHED_KEYS,
  };
}

// ---------------------------------------------------------------------------------------------
// 3.10–3.12: the C type and field for each layout slot, asked of DWARF.

/** pycore_frame.h `_PyFrameOwner` (3.11 has no CSTACK). */
const OWNERS_311 = { thread: 0, generator: 1, frameObject: 2 };
const OWNERS_312 = { thread: 0, generator: 1, frameObject: 2, cstack: 3 };
const UNICODE_STATE_BITS = { kindShift: 2, compactBit: 5, asciiBit: 6 };

type FieldRef = [type: string, field: string];
interface DwarfTable {
  minor: number;
  frameModel: PyLayout['frameModel'];
  owner?: PyLayout['owner'];
  /** `PyInterpreterState` field heading its thread list. */
  threadsHead: string;
  tstateFrame: FieldRef;
  nativeThreadId?: FieldRef;
  cframe?: { type: string; currentFrame: string; previous: string };
  frameType: string;
  frame: { previous: string; code: string; instr: string; owner?: string; isEntry?: string; localsplus: string };
  instrKind: 'lasti' | 'pointer';
  code: { qualname?: string; codeAdaptive?: string; localNames: string; localCount: string };
  gil: { where: 'runtime'; holder: FieldRef; locked: FieldRef } | { where: 'interp-pointer'; pointer: FieldRef; holder: FieldRef; locked: FieldRef };
  long: { model: 'ob-size' | 'lv-tag'; tag: FieldRef; digits: FieldRef };
  dictKeys: { model: 'size' | 'log2'; size: string; log2IndexBytes?: string; kind?: string };
  /** PyInterpreterState field holding sys.modules. */
  modules: string;
  managed?: NonNullable<PyLayout['attrs']>['managed'];
}

const VERSIONS: Record<number, DwarfTable> = {
  10: {
    minor: 10,
    frameModel: 'frame-object',
    threadsHead: 'tstate_head',
    tstateFrame: ['PyThreadState', 'frame'],
    frameType: 'PyFrameObject',
    frame: { previous: 'f_back', code: 'f_code', instr: 'f_lasti', localsplus: 'f_localsplus' },
    instrKind: 'lasti',
    code: { localNames: 'co_varnames', localCount: 'co_nlocals' },
    gil: { where: 'runtime', holder: ['_PyRuntimeState', 'ceval.gil.last_holder'], locked: ['_PyRuntimeState', 'ceval.gil.locked'] },
    long: { model: 'ob-size', tag: ['PyVarObject', 'ob_size'], digits: ['PyLongObject', 'ob_digit'] },
    dictKeys: { model: 'size', size: 'dk_size' },
    modules: 'modules',
  },
  11: {
    minor: 11,
    frameModel: 'cframe',
    threadsHead: 'threads.head',
    owner: OWNERS_311,
    tstateFrame: ['PyThreadState', 'cframe'],
    nativeThreadId: ['PyThreadState', 'native_thread_id'],
    cframe: { type: '_PyCFrame', currentFrame: 'current_frame', previous: 'previous' },
    frameType: '_PyInterpreterFrame',
    frame: { previous: 'previous', code: 'f_code', instr: 'prev_instr', owner: 'owner', isEntry: 'is_entry', localsplus: 'localsplus' },
    instrKind: 'pointer',
    code: { qualname: 'co_qualname', codeAdaptive: 'co_code_adaptive', localNames: 'co_localsplusnames', localCount: 'co_nlocalsplus' },
    gil: { where: 'runtime', holder: ['_PyRuntimeState', 'ceval.gil.last_holder'], locked: ['_PyRuntimeState', 'ceval.gil.locked'] },
    long: { model: 'ob-size', tag: ['PyVarObject', 'ob_size'], digits: ['PyLongObject', 'ob_digit'] },
    dictKeys: { model: 'log2', size: 'dk_log2_size', log2IndexBytes: 'dk_log2_index_bytes', kind: 'dk_kind' },
    modules: 'modules',
    managed: 'values-pointer',
  },
  12: {
    minor: 12,
    frameModel: 'cframe',
    threadsHead: 'threads.head',
    owner: OWNERS_312,
    tstateFrame: ['PyThreadState', 'cframe'],
    nativeThreadId: ['PyThreadState', 'native_thread_id'],
    cframe: { type: '_PyCFrame', currentFrame: 'current_frame', previous: 'previous' },
    frameType: '_PyInterpreterFrame',
    frame: { previous: 'previous', code: 'f_code', instr: 'prev_instr', owner: 'owner', localsplus: 'localsplus' },
    instrKind: 'pointer',
    code: { qualname: 'co_qualname', codeAdaptive: 'co_code_adaptive', localNames: 'co_localsplusnames', localCount: 'co_nlocalsplus' },
    gil: {
      where: 'interp-pointer', pointer: ['PyInterpreterState', 'ceval.gil'],
      holder: ['struct _gil_runtime_state', 'last_holder'], locked: ['struct _gil_runtime_state', 'locked'],
    },
    long: { model: 'lv-tag', tag: ['PyLongObject', 'long_value.lv_tag'], digits: ['PyLongObject', 'long_value.ob_digit'] },
    dictKeys: { model: 'log2', size: 'dk_log2_size', log2IndexBytes: 'dk_log2_index_bytes', kind: 'dk_kind' },
    modules: 'imports.modules',
    managed: 'dict-or-values',
  },
};

/** The 3.10–3.12 layout from DWARF; throws LayoutError naming the missing field. */
export async function layoutFromDwarf(minor: number, symbols: Symbols, libName = `libpython3.${minor}`): Promise<PyLayout> {
  const table = VERSIONS[minor];
  if (!table) throw new LayoutError(`Python 3.${minor} is not supported by the memory reader (3.10–3.14 are)`);
  const noDwarf = (what: string) => new LayoutError(
    `no DWARF for ${libName} (needed for ${what}): install python3.${minor}-dbg or use a Python built with -g`);
  if (!symbols.offsetOf || !symbols.sizeOf) throw noDwarf('struct offsets');
  const offsetOf = symbols.offsetOf.bind(symbols), sizeOf = symbols.sizeOf.bind(symbols);
  // Ask every field at once: a GDB-backed Symbols can batch them.
  const want: FieldRef[] = [];
  const sizes: string[] = [];
  const at = (type: string, field: string): number => { want.push([type, field]); return want.length - 1; };
  const sz = (type: string): number => { sizes.push(type); return sizes.length - 1; };
  const T = table;
  const f = T.frame;
  const slots = {
    interpretersHead: at('_PyRuntimeState', 'interpreters.head'),
    interpNext: at('PyInterpreterState', 'next'),
    threadsHead: at('PyInterpreterState', T.threadsHead),
    tsNext: at('PyThreadState', 'next'),
    tsThreadId: at('PyThreadState', 'thread_id'),
    tsNative: T.nativeThreadId ? at(...T.nativeThreadId) : -1,
    tsFrame: at(...T.tstateFrame),
    cfCurrent: T.cframe ? at(T.cframe.type, T.cframe.currentFrame) : -1,
    cfPrevious: T.cframe ? at(T.cframe.type, T.cframe.previous) : -1,
    fPrevious: at(T.frameType, f.previous),
    fCode: at(T.frameType, f.code),
    fInstr: at(T.frameType, f.instr),
    fOwner: f.owner ? at(T.frameType, f.owner) : -1,
    fIsEntry: f.isEntry ? at(T.frameType, f.isEntry) : -1,
    fLocals: at(T.frameType, f.localsplus),
    coFilename: at('PyCodeObject', 'co_filename'),
    coName: at('PyCodeObject', 'co_name'),
    coQualname: T.code.qualname ? at('PyCodeObject', T.code.qualname) : -1,
    coFirst: at('PyCodeObject', 'co_firstlineno'),
    coLinetable: at('PyCodeObject', 'co_linetable'),
    coAdaptive: T.code.codeAdaptive ? at('PyCodeObject', T.code.codeAdaptive) : -1,
    coNames: at('PyCodeObject', T.code.localNames),
    coCount: at('PyCodeObject', T.code.localCount),
    gilA: at(...(T.gil.where === 'runtime' ? T.gil.holder : T.gil.pointer)),
    gilB: at(...(T.gil.where === 'runtime' ? T.gil.locked : T.gil.holder)),
    gilC: T.gil.where === 'interp-pointer' ? at(...T.gil.locked) : -1,
    obType: at('PyObject', 'ob_type'),
    varSize: at('PyVarObject', 'ob_size'),
    tpName: at('PyTypeObject', 'tp_name'),
    uLength: at('PyASCIIObject', 'length'),
    uState: at('PyASCIIObject', 'state'),
    bSval: at('PyBytesObject', 'ob_sval'),
    lTag: at(...T.long.tag),
    lDigits: at(...T.long.digits),
    fval: at('PyFloatObject', 'ob_fval'),
    listItems: at('PyListObject', 'ob_item'),
    tupleItems: at('PyTupleObject', 'ob_item'),
    dUsed: at('PyDictObject', 'ma_used'),
    dKeys: at('PyDictObject', 'ma_keys'),
    dValues: at('PyDictObject', 'ma_values'),
    dkSize: at('PyDictKeysObject', T.dictKeys.size),
    dkLog2Index: T.dictKeys.log2IndexBytes ? at('PyDictKeysObject', T.dictKeys.log2IndexBytes) : -1,
    dkKind: T.dictKeys.kind ? at('PyDictKeysObject', T.dictKeys.kind) : -1,
    dkNentries: at('PyDictKeysObject', 'dk_nentries'),
    dkIndices: at('PyDictKeysObject', 'dk_indices'),
    // 3.10's split-table values are a bare PyObject* array (ma_values); 3.11–3.12 `PyDictValues.values`.
    dvValues: minor >= 11 ? at('PyDictValues', 'values') : -1,
    // For attrs (optional: threads keep the debugger's names without them). PyTypeObject's other
    // fields follow from tp_name (typeObjectAttrs), not asked: each question is an MI round trip.
    modules: at('PyInterpreterState', T.modules),
  };
  const sizeSlots = {
    tstate: sz('PyThreadState'),
    cframe: T.cframe ? sz(T.cframe.type) : -1,
    frame: sz(T.frameType),
    code: sz('PyCodeObject'),
    ascii: sz('PyASCIIObject'),
    compact: sz('PyCompactUnicodeObject'),
  };
  const got = await Promise.all(want.map(([type, field]) => offsetOf(type, field)));
  const gotSizes = await Promise.all(sizes.map((type) => sizeOf(type)));
  const o = (slot: number): number => {
    const v = got[slot];
    if (v === undefined) throw noDwarf(`${want[slot][0]}.${want[slot][1]}`);
    return v;
  };
  const opt = (slot: number): number | undefined => (slot < 0 ? undefined : o(slot));
  const s = (slot: number): number => {
    const v = gotSizes[slot];
    if (v === undefined) throw noDwarf(`sizeof(${sizes[slot]})`);
    return v;
  };
  const modules = got[slots.modules];
  const attrs: PyLayout['attrs'] = modules === undefined ? undefined : {
    modules,
    // PyModuleObject.md_dict and PyDictObject.ma_used both come right after PyObject_HEAD.
    moduleDict: o(slots.dUsed),
    ...typeObjectAttrs(o(slots.tpName), minor >= 12 ? 49 : 48),
    managed: T.managed,
    managedDict: -24,
  };
  const gil: GilPath = T.gil.where === 'runtime'
    ? { where: 'runtime', holder: o(slots.gilA), locked: o(slots.gilB) }
    : { where: 'interp-pointer', pointer: o(slots.gilA), holder: o(slots.gilB), locked: o(slots.gilC) };
  return {
    minor,
    version: `3.${minor}`,
    source: 'dwarf',
    runtime: { interpretersHead: o(slots.interpretersHead) },
    interp: { next: o(slots.interpNext), threadsHead: o(slots.threadsHead), gil },
    tstate: {
      size: s(sizeSlots.tstate), next: o(slots.tsNext), threadId: o(slots.tsThreadId),
      nativeThreadId: opt(slots.tsNative), frame: o(slots.tsFrame),
    },
    frameModel: T.frameModel,
    cframe: T.cframe ? { size: s(sizeSlots.cframe), currentFrame: o(slots.cfCurrent), previous: o(slots.cfPrevious) } : undefined,
    frame: {
      size: s(sizeSlots.frame), previous: o(slots.fPrevious), code: o(slots.fCode), instr: o(slots.fInstr),
      instrKind: T.instrKind, owner: opt(slots.fOwner), isEntry: opt(slots.fIsEntry), localsplus: o(slots.fLocals),
    },
    code: {
      size: s(sizeSlots.code), filename: o(slots.coFilename), name: o(slots.coName), qualname: opt(slots.coQualname),
      firstlineno: o(slots.coFirst), linetable: o(slots.coLinetable), codeAdaptive: opt(slots.coAdaptive),
      localNames: o(slots.coNames), localCount: o(slots.coCount),
    },
    owner: T.owner,
    object: { type: o(slots.obType), varSize: o(slots.varSize) },
    type: { name: o(slots.tpName) },
    unicode: {
      length: o(slots.uLength), state: o(slots.uState), asciiSize: s(sizeSlots.ascii), compactSize: s(sizeSlots.compact),
      ...UNICODE_STATE_BITS,
    },
    bytes: { size: o(slots.varSize), data: o(slots.bSval) },
    long: { model: T.long.model, tag: o(slots.lTag), digits: o(slots.lDigits), digitBits: 30 },
    float: { value: o(slots.fval) },
    list: { size: o(slots.varSize), items: o(slots.listItems) },
    tuple: { size: o(slots.varSize), items: o(slots.tupleItems) },
    dict: { used: o(slots.dUsed), keys: o(slots.dKeys), values: o(slots.dValues) },
    dictKeys: {
      model: T.dictKeys.model, size: o(slots.dkSize), log2IndexBytes: opt(slots.dkLog2Index), kind: opt(slots.dkKind),
      nentries: o(slots.dkNentries), indices: o(slots.dkIndices), values: opt(slots.dvValues) ?? 0,
    },
    ...(attrs ? { attrs } : {}),
  };
}

export interface DetectOptions {
  /** Address of `_PyRuntime` when already known. */
  runtime?: bigint;
  /** 3.`minor` when the caller knows it (from the library name); otherwise detected. */
  minor?: number;
  /** Name used in error messages ("libpython3.11"). */
  libName?: string;
  /** Where DWARF layouts are kept across sessions (layoutCache.ts). */
  cache?: { key(path: string): string | undefined; get(key: string): PyLayout | undefined; set(key: string, layout: PyLayout): void };
}

/**
 * The layout of the debuggee's interpreter: debug offsets when `_PyRuntime` starts with them
 * (3.13+, GIL or free-threaded), otherwise DWARF for the version read from `Py_Version` (3.11+) or, lacking it, 3.10.
 */
/** The minor version in the loaded modules' names (`libpython3.12.so.1.0`, `python3.12`). */
export function pythonMinorOfModules(names: readonly string[]): number | undefined {
  const bases = names.map((n) => n.slice(n.lastIndexOf('/') + 1));
  for (const re of [/^libpython3\.(\d+)/, /^python3\.(\d+)(?!\d)/]) {
    for (const b of bases) {
      const m = re.exec(b);
      if (m) return Number(m[1]);
    }
  }
  return undefined;
}

export async function detectLayout(memory: Memory, symbols: Symbols, opts: DetectOptions = {}): Promise<PyLayout> {
  const runtime = opts.runtime ?? await symbols.address('_PyRuntime');
  if (runtime === undefined) throw new LayoutError('no _PyRuntime symbol: the process does not look like CPython');
  let head: Uint8Array | undefined;
  try { head = await memory.read(runtime, 16); } catch { head = undefined; }
  if (head && head.length >= 16 && new TextDecoder('latin1').decode(head.subarray(0, 8)) === DEBUG_OFFSETS_COOKIE) {
    const version = Number(new DataView(head.buffer, head.byteOffset, 16).getBigUint64(8, true));
    // An unknown version reads only its header: parseDebugOffsets then names the version.
    let bytes: Uint8Array;
    try {
      bytes = await memory.read(runtime, debugOffsetsSize((version >> 16) & 0xff) ?? 16);
    } catch (e) {
      // Its first bytes read but not the rest (a core file cut short): say so as a LayoutError.
      throw new LayoutError(`_Py_DebugOffsets at 0x${runtime.toString(16)} unreadable: ${(e as Error).message}`);
    }
    return { ...layoutFromDebugOffsets(parseDebugOffsets(bytes)), runtimeAddress: runtime };
  }
  let minor = opts.minor;
  let versionHex: number | undefined;
  if (minor === undefined) {
    // The modules' names first: 3.10 has no Py_Version, and a symbol the debugger does not find
    // costs it a search of every symbol table (GDB, 3.10: ~30 ms of a ~95 ms first stop).
    const named = await symbols.pythonMinor?.().catch(() => undefined);
    const pv = named === 10 ? undefined : await symbols.address('Py_Version');
    if (pv !== undefined) {
      try {
        const b = await memory.read(pv, 8);
        versionHex = Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true));
        minor = (versionHex >> 16) & 0xff;
      } catch { /* fall through */ }
    }
    // Py_Version's value unreadable (read-only data missing from a core file): the module names.
    if (minor === undefined && pv !== undefined) minor = named;
    if (minor === undefined) minor = 10; // Py_Version appeared in 3.11
  }
  if (minor >= 13) throw new LayoutError(`_PyRuntime of Python 3.${minor} has no debug offsets cookie: memory unreadable or not CPython`);
  // The DWARF answers depend only on the library: kept across sessions when a cache is given.
  const lib = opts.cache ? await symbols.pythonModulePath?.().catch(() => undefined) : undefined;
  const key = lib !== undefined ? opts.cache!.key(lib) : undefined;
  const cached = key !== undefined ? opts.cache!.get(key) : undefined;
  const layout = cached?.minor === minor ? cached : await layoutFromDwarf(minor, symbols, opts.libName);
  if (key !== undefined && layout !== cached) opts.cache!.set(key, layout);
  if (versionHex !== undefined) {
    layout.versionHex = versionHex;
    layout.version = versionString(versionHex);
  }
  layout.runtimeAddress = runtime;
  return layout;
}
