/**
 * The interpreter-memory reader on memory images, for the versions no interpreter runs here:
 * CPython 3.14, 3.14t and the free-threaded 3.13t, plus 3.13 as the control.
 *
 * Each image is BUILT by `buildImage` from the versions' headers, independently of layout.ts: its
 * own `_Py_DebugOffsets` field lists and values (pycore_runtime.h of 3.13, pycore_debug_offsets.h of
 * 3.14), the object header (16 bytes, or 32 with Py_GIL_DISABLED: ob_tid, ob_flags, ob_mutex,
 * ob_gc_bits, ob_ref_local, ob_ref_shared, then ob_type), PyASCIIObject.state bits (3.14t: a whole
 * `interned` byte first), `_PyInterpreterFrame` (3.14: `f_executable` a tagged `_PyStackRef`,
 * `stackpointer`, 3.14t `tlbc_index`), entry-frame owner codes (3.13 CSTACK = 3, 3.14 INTERPRETER =
 * 3) and location tables encoded here, the inverse of lineTable.ts's decoder.
 *
 * The builder is checked against reality with test/unit/golden/py-image-3.13.0.json, recorded from
 * a live pyenv 3.13.0 process: its 3.13 debug-offsets block must be byte-identical to the real one,
 * its entry-frame owner, untagged `f_executable` and str state bits must match the real memory, and
 * its location-table encoder must agree with a real code object's table and `co_lines()`. The
 * recorded image itself is replayed through the reader too.
 */
import { encodeLocations, type LocEntry } from '../helpers/locations';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LayoutCache, layoutKey } from '../../src/debug/python/layoutCache';
import { MemoryError, type Memory, type Symbols } from '../../src/debug/types';
import { detectLayout, LayoutError, layoutFromDebugOffsets, parseDebugOffsets, pythonMinorOfModules } from '../../src/debug/python/layout';
import { readLocals, readPythonThreads, type PyThreadRead } from '../../src/debug/python/reader';
import { decodeLineTable, lineForOffset } from '../../src/debug/python/lineTable';

const GOLDEN_DIR = join(__dirname, '..', '..', '..', 'test', 'unit', 'golden');
const golden = <T>(name: string): T => JSON.parse(readFileSync(join(GOLDEN_DIR, name), 'utf8')) as T;

// ---- memory images ----------------------------------------------------------------------------

const PAGE = 4096n;

/** A sparse address space: only written pages exist; reading any other byte fails like a real hole. */
class ImageMemory implements Memory {
  readonly pages = new Map<bigint, Uint8Array>();
  write(addr: bigint, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length;) {
      const a = addr + BigInt(i);
      const page = a / PAGE, off = Number(a % PAGE);
      let p = this.pages.get(page);
      if (!p) { p = new Uint8Array(Number(PAGE)); this.pages.set(page, p); }
      const n = Math.min(bytes.length - i, Number(PAGE) - off);
      p.set(bytes.subarray(i, i + n), off);
      i += n;
    }
  }
  async read(addr: bigint, size: number): Promise<Uint8Array> {
    const out = new Uint8Array(size);
    for (let i = 0; i < size;) {
      const a = addr + BigInt(i);
      const p = this.pages.get(a / PAGE);
      if (!p) throw new MemoryError(addr, size, 'unmapped');
      const off = Number(a % PAGE), n = Math.min(size - i, Number(PAGE) - off);
      out.set(p.subarray(off, off + n), i);
      i += n;
    }
    return out;
  }
}

/** Replays recorded reads: a read must lie inside one recorded range. */
class RecordedMemory implements Memory {
  constructor(readonly chunks: [bigint, Uint8Array][]) {}
  async read(addr: bigint, size: number): Promise<Uint8Array> {
    for (const [at, bytes] of this.chunks) {
      if (addr >= at && addr + BigInt(size) <= at + BigInt(bytes.length)) {
        const o = Number(addr - at);
        return bytes.slice(o, o + size);
      }
    }
    throw new MemoryError(addr, size, 'not in the recording');
  }
}

const symbolsAt = (runtime: bigint): Symbols => ({ address: async (n) => (n === '_PyRuntime' ? runtime : undefined) });

// ---- per-version facts, from the headers ---------------------------------------------------------

type Fields = [section: string, fields: [name: string, value: number][]][];

interface VersionSpec {
  name: string;
  hex: number;
  ft: boolean;
  offsets: Fields;
  /** `owner` of the eval loop's entry frame. */
  entryOwner: number;
  /** Tag ORed into f_executable / localsplus stack refs. */
  execTag: bigint;
  localsTag: bigint;
  /** 3.14t: thread-local bytecode (`co_tlbc`, `tlbc_index`). */
  tlbc: boolean;
  state(kind: number, compact: boolean, ascii: boolean): number;
}

/** The 3.13 field order (pycore_runtime.h), values as recorded from 3.13.0. */
const NAMES_313: [string, string[]][] = [
  ['runtime_state', ['size', 'finalizing', 'interpreters_head']],
  ['interpreter_state', ['size', 'id', 'next', 'threads_head', 'gc', 'imports_modules', 'sysdict', 'builtins', 'ceval_gil',
    'gil_runtime_state', 'gil_runtime_state_enabled', 'gil_runtime_state_locked', 'gil_runtime_state_holder']],
  ['thread_state', ['size', 'prev', 'next', 'interp', 'current_frame', 'thread_id', 'native_thread_id', 'datastack_chunk', 'status']],
  ['interpreter_frame', ['size', 'previous', 'executable', 'instr_ptr', 'localsplus', 'owner']],
  ['code_object', ['size', 'filename', 'name', 'qualname', 'linetable', 'firstlineno', 'argcount', 'localsplusnames', 'localspluskinds', 'co_code_adaptive']],
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

const DEBUG_313 = golden<{ hex: string }>('debug-offsets-3.13.0.json');
const GOLDEN_313_BYTES = Uint8Array.from(Buffer.from(DEBUG_313.hex, 'hex'));

function values313(): Record<string, Record<string, number>> {
  const v = new DataView(GOLDEN_313_BYTES.buffer, GOLDEN_313_BYTES.byteOffset);
  const out: Record<string, Record<string, number>> = {};
  let at = 24;
  for (const [s, fs] of NAMES_313) {
    out[s] = {};
    for (const f of fs) { out[s][f] = Number(v.getBigUint64(at, true)); at += 8; }
  }
  return out;
}

/**
 * Object-layout offsets of one build: the object header is 16 bytes with the GIL, 32 without
 * (ob_type at 8 / 24); every object struct below keeps its C field order after that header.
 */
function objectSections(ft: boolean): Fields {
  const h = ft ? 32 : 16; // sizeof(PyObject)
  const vh = h + 8; // sizeof(PyVarObject)
  return [
    ['pyobject', [['size', h], ['ob_type', h - 8]]],
    // PyTypeObject: PyObject_VAR_HEAD, tp_name, tp_basicsize, tp_itemsize, tp_dealloc, ... tp_repr ... tp_flags
    ['type_object', [['size', 920 + 2 * (h - 16)], ['tp_name', vh], ['tp_repr', vh + 64], ['tp_flags', vh + 144]]],
    ['tuple_object', [['size', vh + 8], ['ob_item', vh], ['ob_size', h]]],
    ['list_object', [['size', vh + 16], ['ob_item', vh], ['ob_size', h]]],
    ['dict_object', [['size', h + 32], ['ma_keys', h + 16], ['ma_values', h + 24]]],
    ['float_object', [['size', h + 8], ['ob_fval', h]]],
    ['long_object', [['size', vh + 8], ['lv_tag', h], ['ob_digit', vh]]],
    ['bytes_object', [['size', vh + 16], ['ob_size', h], ['ob_sval', vh + 8]]],
    // PyASCIIObject: header, length, hash, state (uint32; 4-aligned), padded to 8.
    ['unicode_object', [['size', h + 48], ['state', h + 16], ['length', h], ['asciiobject_size', h + 24]]],
  ];
}

const section = (f: Fields, s: string): [string, number][] => f.find(([n]) => n === s)![1];

function spec313(ft: boolean): VersionSpec {
  const v = values313();
  const pick = (s: string): [string, number][] => Object.entries(v[s]);
  const objs = objectSections(ft);
  const shift = ft ? 16 : 0; // PyCodeObject fields after the bigger header
  const offsets: Fields = [
    ['runtime_state', pick('runtime_state')],
    ['interpreter_state', pick('interpreter_state').map(([k, x]): [string, number] =>
      // struct _gil_runtime_state gains `int enabled` first when Py_GIL_DISABLED: last_holder/locked move by 8.
      k === 'gil_runtime_state_enabled' ? [k, 0] : ft && (k === 'gil_runtime_state_locked' || k === 'gil_runtime_state_holder') ? [k, x + 8] : [k, x])],
    ['thread_state', pick('thread_state')],
    ['interpreter_frame', pick('interpreter_frame')],
    ['code_object', pick('code_object').map(([k, x]): [string, number] => [k, x + shift])],
    ...objs,
    ['gc', pick('gc')],
  ];
  // The object sections keep 3.13's order: pyobject, type, tuple, list, dict, float, long, bytes, unicode.
  if (!ft) {
    // GIL build: the recorded values themselves (they must equal objectSections(false), checked below).
    for (const s of ['pyobject', 'type_object', 'tuple_object', 'list_object', 'dict_object', 'float_object', 'long_object', 'bytes_object', 'unicode_object']) {
      const at = offsets.findIndex(([n]) => n === s);
      offsets[at] = [s, pick(s)];
    }
  }
  return {
    name: ft ? '3.13t' : '3.13', hex: 0x030d00f0, ft, offsets, entryOwner: 3, execTag: 0n, localsTag: ft ? 1n : 0n, tlbc: false,
    // interned:2, kind:3, compact:1, ascii:1, statically_allocated:1 (3.13 keeps bit fields when free-threaded).
    state: (kind, compact, ascii) => (kind << 2) | (Number(compact) << 5) | (Number(ascii) << 6),
  };
}

function spec314(ft: boolean): VersionSpec {
  const v = values313();
  const objs = objectSections(ft);
  const h = ft ? 16 : 0;
  const offsets: Fields = [
    // _PyRuntimeState starts with the 760-byte debug offsets (3.13: 584), so everything after moves.
    ['runtime_state', [['size', 0x46000], ['finalizing', 0x300], ['interpreters_head', 0x318]]],
    ['interpreter_state', [['size', 0x31000], ['id', 0x1c68], ['next', 0x1c60], ['threads_head', 0x1cb0], ['threads_main', 0x1cb8],
      ['gc', 0x1cf0], ['imports_modules', 0x1df0], ['sysdict', 0x1de0], ['builtins', 0x1de8], ['ceval_gil', 0x10],
      ['gil_runtime_state', 0x1e50], ['gil_runtime_state_enabled', 0],
      ['gil_runtime_state_locked', 0x1e50 + (ft ? 24 : 16)], ['gil_runtime_state_holder', 0x1e50 + (ft ? 16 : 8)],
      ['code_object_generation', 0x1e40], ['tlbc_generation', ft ? 0x1e48 : 0]]],
    ['thread_state', Object.entries(v.thread_state)],
    // _PyInterpreterFrame 3.14: f_executable, previous, f_funcobj, f_globals, f_builtins, f_locals,
    // frame_obj, instr_ptr, stackpointer, [int32 tlbc_index], uint16 return_offset, char owner, visited, localsplus.
    ['interpreter_frame', [['size', 88], ['previous', 8], ['executable', 0], ['instr_ptr', 56], ['localsplus', 80],
      ['owner', ft ? 78 : 74], ['stackpointer', 64], ['tlbc_index', ft ? 72 : 0]]],
    ['code_object', [['size', 224 + 2 * h], ['filename', 112 + h], ['name', 120 + h], ['qualname', 128 + h], ['linetable', 136 + h],
      ['firstlineno', 68 + h], ['argcount', 52 + h], ['localsplusnames', 96 + h], ['localspluskinds', 104 + h],
      ['co_code_adaptive', ft ? 232 : 208], ['co_tlbc', ft ? 224 : 0]]],
    ...objs.slice(0, 4),
    ['set_object', [['size', 200 + h], ['used', 24 + h], ['table', 32 + h], ['mask', 40 + h]]],
    ...objs.slice(4),
    ['gc', [['size', 0x160], ['collecting', 0x28]]],
    ['gen_object', [['size', 200 + h], ['gi_name', 24 + h], ['gi_iframe', 88 + h], ['gi_frame_state', 83 + h]]],
    ['llist_node', [['next', 0], ['prev', 8]]],
    ['debugger_support', [['eval_breaker', 24], ['remote_debugger_support', 0x170], ['remote_debugging_enabled', 0x2d4],
      ['debugger_pending_call', 0], ['debugger_script_path', 4], ['debugger_script_path_size', 512]]],
  ];
  return {
    name: ft ? '3.14t' : '3.14', hex: 0x030e00f0, ft, offsets, entryOwner: 3, execTag: 1n, localsTag: 1n, tlbc: ft,
    // 3.14t: `unsigned char interned` takes byte 0, the bit fields start at bit 8.
    state: ft
      ? (kind, compact, ascii) => (kind << 8) | (Number(compact) << 11) | (Number(ascii) << 12)
      : (kind, compact, ascii) => (kind << 2) | (Number(compact) << 5) | (Number(ascii) << 6),
  };
}

function serializeDebugOffsets(spec: VersionSpec): Uint8Array {
  const n = spec.offsets.reduce((a, [, f]) => a + f.length, 0);
  const b = new Uint8Array(24 + n * 8);
  const v = new DataView(b.buffer);
  b.set(new TextEncoder().encode('xdebugpy'));
  v.setBigUint64(8, BigInt(spec.hex), true);
  v.setBigUint64(16, spec.ft ? 1n : 0n, true);
  let at = 24;
  for (const [, fields] of spec.offsets) for (const [, x] of fields) { v.setBigUint64(at, BigInt(x), true); at += 8; }
  return b;
}

// ---- the image builder --------------------------------------------------------------------------

interface FrameSpec {
  kind: 'python' | 'entry';
  code?: string;
  /** Byte offset of the executing instruction. */
  at?: number;
  /** 3.14t: run from thread-local bytecode copy 1. */
  tlbc?: boolean;
}
interface CodeSpec { qualname: string; name: string; file: string; firstLine: number; table: LocEntry[]; locals: string[] }

interface Built {
  memory: ImageMemory;
  runtime: bigint;
  frames: bigint[][];
  tstates: bigint[];
  debugOffsets: Uint8Array;
  patch(addr: bigint, off: number, value: bigint): void;
  sym: Record<string, bigint>;
}

function buildImage(spec: VersionSpec, codes: Record<string, CodeSpec>, threads: FrameSpec[][]): Built {
  const mem = new ImageMemory();
  const o = (s: string, f: string): number => {
    const x = section(spec.offsets, s).find(([n]) => n === f);
    if (!x) throw new Error(`builder: no ${s}.${f}`);
    return x[1];
  };
  let next = 0x7f00_0000_0000n;
  const alloc = (size: number, align = 16n): bigint => {
    next = (next + align - 1n) / align * align;
    const at = next;
    next += BigInt(size) + 64n; // a gap between objects
    mem.write(at, new Uint8Array(size));
    return at;
  };
  const u64 = (addr: bigint, off: number, v: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, v, true); mem.write(addr + BigInt(off), b); };
  const u32 = (addr: bigint, off: number, v: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); mem.write(addr + BigInt(off), b); };
  const u8 = (addr: bigint, off: number, v: number) => mem.write(addr + BigInt(off), Uint8Array.of(v));
  const cstr = (s: string) => { const b = new TextEncoder().encode(s + '\0'); const a = alloc(b.length); mem.write(a, b); return a; };
  const hdr = o('pyobject', 'size');
  const types: Record<string, bigint> = {};
  for (const t of ['type', 'str', 'bytes', 'code', 'tuple', 'NoneType', 'int']) {
    types[t] = alloc(o('type_object', 'size'));
    u64(types[t], o('type_object', 'tp_name'), cstr(t));
  }
  for (const t of Object.values(types)) u64(t, o('pyobject', 'ob_type'), types.type);
  const obj = (type: string, size: number) => { const a = alloc(size); u64(a, o('pyobject', 'ob_type'), types[type]); if (!spec.ft) u64(a, 0, 1n); return a; };
  const str = (s: string): bigint => {
    const cps = [...s].map((c) => c.codePointAt(0)!);
    const max = Math.max(0, ...cps);
    const kind = max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
    const ascii = max < 0x80;
    const dataAt = ascii ? o('unicode_object', 'asciiobject_size') : o('unicode_object', 'asciiobject_size') + 16;
    const a = obj('str', dataAt + (cps.length + 1) * kind);
    u64(a, o('unicode_object', 'length'), BigInt(cps.length));
    u64(a, o('unicode_object', 'length') + 8, 0xffff_ffff_ffff_ffffn); // hash -1
    u32(a, o('unicode_object', 'state'), spec.state(kind, true, ascii));
    const data = new Uint8Array(cps.length * kind);
    const dv = new DataView(data.buffer);
    cps.forEach((c, i) => (kind === 1 ? dv.setUint8(i, c) : kind === 2 ? dv.setUint16(i * 2, c, true) : dv.setUint32(i * 4, c, true)));
    mem.write(a + BigInt(dataAt), data);
    return a;
  };
  const bytes = (b: Uint8Array): bigint => {
    const a = obj('bytes', o('bytes_object', 'ob_sval') + b.length + 1);
    u64(a, o('bytes_object', 'ob_size'), BigInt(b.length));
    mem.write(a + BigInt(o('bytes_object', 'ob_sval')), b);
    return a;
  };
  const tuple = (items: bigint[]): bigint => {
    const a = obj('tuple', o('tuple_object', 'ob_item') + 8 * items.length);
    u64(a, o('tuple_object', 'ob_size'), BigInt(items.length));
    items.forEach((x, i) => u64(a, o('tuple_object', 'ob_item') + 8 * i, x));
    return a;
  };
  const none = obj('NoneType', hdr);
  const sym: Record<string, bigint> = { none };
  const codeAddr: Record<string, bigint> = {};
  const tlbcCopy: Record<string, bigint> = {};
  for (const [key, c] of Object.entries(codes)) {
    const units = c.table.reduce((n, e) => n + e.units, 0);
    const adaptive = o('code_object', 'co_code_adaptive');
    const a = obj('code', adaptive + units * 2);
    u64(a, o('code_object', 'filename'), str(c.file));
    u64(a, o('code_object', 'name'), str(c.name));
    u64(a, o('code_object', 'qualname'), str(c.qualname));
    u64(a, o('code_object', 'linetable'), bytes(encodeLocations(c.firstLine, c.table)));
    u32(a, o('code_object', 'firstlineno'), c.firstLine);
    u64(a, o('code_object', 'localsplusnames'), tuple(c.locals.map(str)));
    if (spec.tlbc) {
      // _PyCodeArray { Py_ssize_t size; char *entries[]; }: entry 0 is co_code_adaptive, entry 1 a thread's copy.
      tlbcCopy[key] = alloc(units * 2);
      const arr = alloc(24);
      u64(arr, 0, 2n); u64(arr, 8, a + BigInt(adaptive)); u64(arr, 16, tlbcCopy[key]);
      u64(a, o('code_object', 'co_tlbc'), arr);
    }
    codeAddr[key] = a;
    sym[`code:${key}`] = a;
  }
  // _PyRuntime, its debug offsets first; one interpreter with its own GIL.
  const debugOffsets = serializeDebugOffsets(spec);
  const runtime = alloc(o('runtime_state', 'size'), PAGE);
  mem.write(runtime, debugOffsets);
  if (o('runtime_state', 'interpreters_head') < debugOffsets.length) throw new Error('builder: interpreters_head inside the debug offsets');
  const interp = alloc(o('interpreter_state', 'size'));
  u64(runtime, o('runtime_state', 'interpreters_head'), interp);
  const gil = interp + BigInt(o('interpreter_state', 'gil_runtime_state'));
  u64(interp, o('interpreter_state', 'ceval_gil'), gil);
  u32(gil, o('interpreter_state', 'gil_runtime_state_locked') - o('interpreter_state', 'gil_runtime_state'), 1);
  if (spec.ft) u32(gil, 0, 0); // int enabled = 0: the GIL is off, as free-threaded builds run by default
  const tstates: bigint[] = [];
  const frames: bigint[][] = [];
  threads.forEach((specFrames, ti) => {
    const t = alloc(o('thread_state', 'size'));
    tstates.push(t);
    u64(t, o('thread_state', 'thread_id'), 0x7f00_1000n + BigInt(ti));
    u64(t, o('thread_state', 'native_thread_id'), 101n + BigInt(ti));
    u64(t, o('thread_state', 'interp'), interp);
    const addrs = specFrames.map(() => alloc(o('interpreter_frame', 'size') + 16, 8n));
    frames.push(addrs);
    specFrames.forEach((f, i) => {
      const a = addrs[i];
      const F = (field: string) => o('interpreter_frame', field);
      u64(a, F('previous'), i + 1 < addrs.length ? addrs[i + 1] : 0n);
      if (f.kind === 'entry') {
        u64(a, F('executable'), none | spec.execTag);
        u8(a, F('owner'), spec.entryOwner);
        return;
      }
      const code = codeAddr[f.code!];
      u64(a, F('executable'), code | spec.execTag);
      u8(a, F('owner'), 0); // FRAME_OWNED_BY_THREAD
      const base = f.tlbc ? tlbcCopy[f.code!] : code + BigInt(o('code_object', 'co_code_adaptive'));
      if (f.tlbc) u32(a, F('tlbc_index'), 1);
      u64(a, F('instr_ptr'), base + BigInt(f.at!));
      codes[f.code!].locals.forEach((name, li) => u64(a, F('localsplus') + 8 * li, str(`value of ${name}`) | spec.localsTag));
    });
    u64(t, o('thread_state', 'current_frame'), addrs[0] ?? 0n);
    if (ti > 0) { u64(tstates[ti - 1], o('thread_state', 'next'), t); u64(t, o('thread_state', 'prev'), tstates[ti - 1]); }
  });
  u64(interp, o('interpreter_state', 'threads_head'), tstates[0]);
  u64(gil, o('interpreter_state', 'gil_runtime_state_holder') - o('interpreter_state', 'gil_runtime_state'), tstates[0]);
  return { memory: mem, runtime, frames, tstates, debugOffsets, patch: (a, off, v) => u64(a, off, v), sym };
}

// ---- the scenario every version is built with ---------------------------------------------------

const CODES: Record<string, CodeSpec> = {
  inner: {
    qualname: 'Klass.inner', name: 'inner', file: '/src/pkg/mod.py', firstLine: 10, locals: ['self', 'n'],
    // 10: 2 units, 11: 3, no line: 1, 14: 4, 9: 10 (split 8 + 2), 9: 1 long form
    table: [{ units: 2, line: 10 }, { units: 3, line: 11 }, { units: 1, line: null }, { units: 4, line: 14 },
      { units: 10, line: 9 }, { units: 1, line: 12, form: 'long' }],
  },
  middle: { qualname: 'middle', name: 'middle', file: '/src/café.py', firstLine: 30, locals: [], table: [{ units: 3, line: 31 }, { units: 5, line: 33 }] },
  outer: { qualname: '<module>', name: '<module>', file: '/src/Ωmain.py', firstLine: 1, locals: [], table: [{ units: 1, line: 0 }, { units: 40, line: 120 }] },
  worker: { qualname: 'worker', name: 'worker', file: '/src/pkg/mod.py', firstLine: 50, locals: ['item'], table: [{ units: 6, line: 51 }, { units: 2, line: 52 }] },
};
const THREADS: FrameSpec[][] = [
  [
    { kind: 'python', code: 'inner', at: 2 * 7 }, // unit 7 -> 14
    { kind: 'python', code: 'middle', at: 2 * 4 }, // -> 33
    { kind: 'entry' },
    { kind: 'python', code: 'outer', at: 2 * 20 }, // -> 120
    { kind: 'entry' },
  ],
  [{ kind: 'python', code: 'worker', at: 2 * 6 }, { kind: 'entry' }], // -> 52
];
const EXPECTED = [
  [[['Klass.inner', '/src/pkg/mod.py', 14], ['middle', '/src/café.py', 33]], [['<module>', '/src/Ωmain.py', 120]]],
  [[['worker', '/src/pkg/mod.py', 52]]],
];

const shape = (threads: PyThreadRead[]) => threads.map((t) => t.segments.map((s) => s.frames.map((f) => [f.name, f.file, f.line])));

const SPECS = [spec313(false), spec313(true), spec314(false), spec314(true)];

for (const spec of SPECS) {
  test(`${spec.name} image: threads, frames, names, files, lines and locals`, async () => {
    const threads = spec.tlbc
      ? [THREADS[0], [{ ...THREADS[1][0], tlbc: true }, THREADS[1][1]]] // the worker runs its own bytecode copy
      : THREADS;
    const img = buildImage(spec, CODES, threads);
    const layout = await detectLayout(img.memory, symbolsAt(img.runtime));
    assert.equal(layout.source, 'debug-offsets');
    assert.equal(layout.minor, spec.hex >= 0x030e0000 ? 14 : 13);
    assert.equal(layout.freeThreaded ?? false, spec.ft);
    const o = (s: string, f: string) => section(spec.offsets, s).find(([n]) => n === f)![1];
    assert.deepEqual(
      [layout.frame.owner, layout.frame.code, layout.code.filename, layout.code.codeAdaptive, layout.unicode.length, layout.unicode.state, layout.object.type],
      [o('interpreter_frame', 'owner'), o('interpreter_frame', 'executable'), o('code_object', 'filename'), o('code_object', 'co_code_adaptive'),
        o('unicode_object', 'length'), o('unicode_object', 'state'), o('pyobject', 'ob_type')]);
    const read = await readPythonThreads(img.memory, layout);
    assert.deepEqual(shape(read), EXPECTED);
    assert.deepEqual(read.map((t) => t.nativeThreadId), [101, 102]);
    assert.deepEqual(read.map((t) => t.tstate), img.tstates);
    // Segments end at the entry frames: their anchors are those frames' addresses.
    assert.deepEqual(read[0].segments.map((s) => s.anchor), [img.frames[0][2], img.frames[0][4]]);
    assert.deepEqual(read[0].segments[0].frames.map((f) => f.address), [img.frames[0][0], img.frames[0][1]]);
    // The GIL: held by thread 0 with a GIL; nobody holds a disabled one (free-threaded).
    assert.deepEqual(read.map((t) => t.holdsGil), spec.ft ? [false, false] : [true, false]);
    // Locals come from tagged stack refs in 3.13t and 3.14.
    const locals = await readLocals(img.memory, layout, img.frames[0][0]);
    assert.deepEqual(locals.map((l) => [l.name, l.summary?.value]), [['self', "'value of self'"], ['n', "'value of n'"]]);
  });

  test(`${spec.name} image: bad cookie, wrong version, frame cycle`, async () => {
    const img = buildImage(spec, CODES, THREADS);
    const good = await detectLayout(img.memory, symbolsAt(img.runtime));

    const badCookie = buildImage(spec, CODES, THREADS);
    badCookie.memory.write(badCookie.runtime, new TextEncoder().encode('xdebugpz'));
    assert.throws(() => parseDebugOffsets(badCookie.debugOffsets.map((b, i) => (i === 7 ? 0x7a : b))), /no _Py_DebugOffsets cookie/);
    await assert.rejects(detectLayout(badCookie.memory, symbolsAt(badCookie.runtime)), LayoutError);

    const v315 = buildImage({ ...spec, hex: 0x030f00a1 }, CODES, THREADS);
    await assert.rejects(detectLayout(v315.memory, symbolsAt(v315.runtime)), /3\.15\.0 is not supported/);
    // A block whose version byte lies (3.14 fields labelled 3.13 or the reverse) is rejected, not misread.
    const lying = { ...spec, hex: spec.hex >= 0x030e0000 ? 0x030d00f0 : 0x030e00f0 };
    assert.throws(() => layoutFromDebugOffsets(parseDebugOffsets(serializeDebugOffsets(lying))), LayoutError);

    // outer's `previous` points back at inner: the walk reports the cycle and stops.
    const cyc = buildImage(spec, CODES, THREADS);
    cyc.patch(cyc.frames[0][3], good.frame.previous, cyc.frames[0][0]);
    const read = await readPythonThreads(cyc.memory, good, cyc.runtime);
    const frames = read[0].segments.flatMap((s) => s.frames);
    assert.deepEqual(frames.slice(0, 3).map((f) => f.name), ['Klass.inner', 'middle', '<module>']);
    assert.equal(frames.at(-1)?.unreadable, true);
    assert.match(frames.at(-1)!.name, /frame cycle/);
    assert.deepEqual(shape([read[1]]), [EXPECTED[1]]);

    // f_executable pointing at garbage: that frame is unreadable, the others still read.
    const junk = buildImage(spec, CODES, THREADS);
    junk.patch(junk.frames[0][1], good.frame.code, 0x10n);
    const r2 = await readPythonThreads(junk.memory, good, junk.runtime);
    assert.equal(r2[0].segments[0].frames[1].unreadable, true);
    assert.equal(r2[0].segments.flatMap((s) => s.frames).find((f) => f.name === '<module>')?.line, 120);
  });
}

test('3.14 stack refs: an untagged reader would fail, so the tag really is cleared', async () => {
  const img = buildImage(spec314(false), CODES, THREADS);
  const layout = await detectLayout(img.memory, symbolsAt(img.runtime));
  assert.equal(layout.frame.codeTagBits, 3);
  assert.equal(layout.owner?.interpreter, 3);
  const untagged = { ...layout, frame: { ...layout.frame, codeTagBits: undefined } };
  const read = await readPythonThreads(img.memory, untagged);
  assert.ok(read[0].segments[0].frames.every((f) => f.unreadable));
});

// ---- the builder against reality: a recorded 3.13.0 process --------------------------------------

interface Recording {
  runtime: string;
  threads: Record<string, { name: string; file: string; line: number }[]>;
  table: { linetable: string; firstlineno: number; lines: [number, number, number | null][] };
  chunks: [string, string][];
}
const REC = golden<Recording>('py-image-3.13.0.json');
const recorded = () => new RecordedMemory(REC.chunks.map(([a, h]) => [BigInt('0x' + a), Uint8Array.from(Buffer.from(h, 'hex'))]));

test('recorded 3.13.0 image: the reader gives what sys._current_frames() saw', async () => {
  const mem = recorded();
  const runtime = BigInt('0x' + REC.runtime);
  const layout = await detectLayout(mem, symbolsAt(runtime));
  const read = await readPythonThreads(mem, layout);
  const got = Object.fromEntries(read.map((t) => [String(t.nativeThreadId), t.segments.flatMap((s) => s.frames).map((f) => ({ name: f.name, file: f.file, line: f.line }))]));
  assert.deepEqual(got, REC.threads);
});

test('the 3.13 builder matches the recorded 3.13.0 process', async () => {
  const spec = spec313(false);
  // Its debug-offsets block is byte-identical to the real one (order, width, values).
  const mine = serializeDebugOffsets(spec);
  assert.deepEqual(mine, GOLDEN_313_BYTES);
  const mem = recorded();
  const runtime = BigInt('0x' + REC.runtime);
  assert.deepEqual(await mem.read(runtime, mine.length), mine);
  // ... and its object offsets are what the header reasoning gives for a GIL build.
  for (const [s, fields] of objectSections(false)) {
    for (const [f, x] of fields) if (f !== 'size' && f !== 'tp_repr' && f !== 'tp_flags') assert.equal(section(spec.offsets, s).find(([n]) => n === f)?.[1], x, `${s}.${f}`);
  }
  // Walk the real memory by hand with the builder's offsets: entry-frame owner, f_executable tags,
  // str state bits must be what the builder writes.
  const o = (s: string, f: string) => section(spec.offsets, s).find(([n]) => n === f)![1];
  const ptr = async (a: bigint) => new DataView((await mem.read(a, 8)).buffer).getBigUint64(0, true);
  const interp = await ptr(runtime + BigInt(o('runtime_state', 'interpreters_head')));
  const owners: number[] = [];
  for (let t = await ptr(interp + BigInt(o('interpreter_state', 'threads_head'))); t !== 0n; t = await ptr(t + BigInt(o('thread_state', 'next')))) {
    for (let f = await ptr(t + BigInt(o('thread_state', 'current_frame'))); f !== 0n; f = await ptr(f + BigInt(o('interpreter_frame', 'previous')))) {
      const owner = (await mem.read(f + BigInt(o('interpreter_frame', 'owner')), 1))[0];
      owners.push(owner);
      if (owner === spec.entryOwner) continue;
      const exec = await ptr(f + BigInt(o('interpreter_frame', 'executable')));
      assert.equal(exec & 7n, spec.execTag, 'real 3.13 f_executable is an untagged pointer');
      const file = await ptr(exec + BigInt(o('code_object', 'filename')));
      const state = new DataView((await mem.read(file + BigInt(o('unicode_object', 'state')), 4)).buffer).getUint32(0, true);
      // Compare kind/compact/ascii; interned (bits 0-1) and statically_allocated (bit 7) vary.
      assert.equal(state & 0x7c, spec.state(1, true, true), 'ASCII compact str state bits');
    }
  }
  assert.deepEqual(owners.filter((x) => x === spec.entryOwner).length, 2, `one entry frame per thread (owners ${owners})`);
  assert.ok(owners.every((x) => x === 0 || x === spec.entryOwner));
});

test('location tables: the encoder is the decoder\'s inverse and agrees with a real 3.13 code object', () => {
  const t = REC.table;
  const real = Uint8Array.from(Buffer.from(t.linetable, 'hex'));
  const truth = (offset: number) => t.lines.find(([s, e]) => offset >= s && offset < e)?.[2] ?? null;
  const end = Math.max(...t.lines.map(([, e]) => e));
  for (let off = 0; off < end; off += 2) assert.equal(lineForOffset(real, t.firstlineno, off), truth(off), `real table @${off}`);
  // Re-encode the real ranges with the builder's encoder: same line at every instruction.
  const ranges = decodeLineTable(real, t.firstlineno);
  const mine = encodeLocations(t.firstlineno, ranges.map((r) => ({ units: (r.end - r.start) / 2, line: r.line })));
  for (let off = 0; off < end; off += 2) assert.equal(lineForOffset(mine, t.firstlineno, off), truth(off), `re-encoded @${off}`);
  // Every form the builder writes decodes back to the entries it was given.
  const entries: LocEntry[] = CODES.inner.table;
  const decoded = decodeLineTable(encodeLocations(10, entries), 10);
  const perUnit = entries.flatMap((e) => Array<number | null>(e.units).fill(e.line));
  assert.deepEqual(decoded.flatMap((r) => Array<number | null>((r.end - r.start) / 2).fill(r.line)), perUnit);
  assert.ok(decoded.length > entries.length, 'the 10-unit entry was split');
});

test('the version from the modules\' names: 3.10 (libpython3.10 or python3.10) is not asked for Py_Version, a lookup that costs a full symbol search', async () => {
  assert.equal(pythonMinorOfModules(['/lib/x86_64-linux-gnu/libc.so.6', '/root/.pyenv/versions/3.10.13/lib/libpython3.10.so.1.0']), 10);
  assert.equal(pythonMinorOfModules(['/usr/bin/python3.11', '/usr/lib/libfoo.so']), 11);
  assert.equal(pythonMinorOfModules(['/usr/bin/python3.13t']), 13);
  assert.equal(pythonMinorOfModules(['/usr/bin/python3', '/opt/mypython3.12-tools/lib.so']), undefined);
  const runtime = 0x1000n;
  const zeros = new RecordedMemory([[runtime, new Uint8Array(64)]]); // no debug offsets cookie: DWARF
  for (const [named, asksPyVersion] of [[10, false], [12, true], [undefined, true]] as const) {
    const asked: string[] = [];
    const symbols: Symbols = {
      address: async (n) => { asked.push(n); return n === '_PyRuntime' ? runtime : undefined; },
      offsetOf: async () => 8,
      sizeOf: async () => 64,
      pythonMinor: async () => named,
    };
    const layout = await detectLayout(zeros, symbols);
    assert.equal(asked.includes('Py_Version'), asksPyVersion, `named ${named}: asked ${asked.join(', ')}`);
    assert.equal(layout.minor, 10, 'no Py_Version: 3.10');
  }
});

test('a DWARF layout is kept per library file across sessions: the second detection asks the debugger nothing, a rebuilt library is asked again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'seam-layout-'));
  try {
    const lib = join(dir, 'libpython3.10.so.1.0');
    writeFileSync(lib, 'v1');
    const cacheFile = join(dir, 'cache', 'layouts.json');
    const runtime = 0x1000n;
    const zeros = new RecordedMemory([[runtime, new Uint8Array(64)]]);
    const session = (): { symbols: Symbols; asked: () => number } => {
      let n = 0;
      const symbols: Symbols = {
        address: async (name) => (name === '_PyRuntime' ? runtime : undefined),
        offsetOf: async () => { n++; return 8; },
        sizeOf: async () => { n++; return 64; },
        pythonMinor: async () => 10,
        pythonModulePath: async () => lib,
      };
      return { symbols, asked: () => n };
    };
    const cacheOf = (): NonNullable<Parameters<typeof detectLayout>[2]>['cache'] => {
      const c = new LayoutCache(cacheFile);
      return { key: layoutKey, get: (k) => c.get(k), set: (k, l) => c.set(k, l) };
    };
    const first = session();
    const a = await detectLayout(zeros, first.symbols, { cache: cacheOf() });
    assert.ok(first.asked() > 20, `first session asked ${first.asked()}`);
    const second = session();
    const b = await detectLayout(zeros, second.symbols, { cache: cacheOf() });
    assert.equal(second.asked(), 0, 'a new session (a new cache object reading the file) asks nothing');
    const plain = (l: unknown): unknown => JSON.parse(JSON.stringify(l, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
    assert.deepEqual(plain(b), plain(a), 'the same layout, the process-specific runtime address set again');
    assert.equal(b.runtimeAddress, runtime);
    writeFileSync(lib, 'v2, rebuilt'); // another size: another key
    const third = session();
    await detectLayout(zeros, third.symbols, { cache: cacheOf() });
    assert.ok(third.asked() > 20, 'a rebuilt library is asked again');
    writeFileSync(cacheFile, '{not json'); // a damaged cache: asked again, no error
    const fourth = session();
    await detectLayout(zeros, fourth.symbols, { cache: cacheOf() });
    assert.ok(fourth.asked() > 20);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
