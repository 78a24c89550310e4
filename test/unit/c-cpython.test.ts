/**
 * The C extractor and linker over real CPython sources (3.11.2 and 3.13.5, cached under
 * ~/.cache/seam by scripts/fetch-sources.sh). Each expectation names the file and C symbol
 * found by reading that version's source; the line is checked by its text (it must contain the
 * symbol; for a macro-generated function, the generating macro's invocation; for a member, the
 * attribute's entry), never by number. A missing cache fails loudly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { cNeedsParse, extractC, type CFileFacts } from '../../src/core/c/extract';
import { linkC } from '../../src/core/c/link';
import type { Binding } from '../../src/core/model';

type Expect = [name: string, file: string, symbol: string, kind: string];

/** Valid for both versions. */
const COMMON: Expect[] = [
  ['math.sqrt', 'Modules/mathmodule.c', 'math_sqrt', 'function'],
  ['math.erf', 'Modules/mathmodule.c', 'math_erf', 'function'],
  ['math.floor', 'Modules/mathmodule.c', 'math_floor', 'function'],
  ['math.gcd', 'Modules/mathmodule.c', 'math_gcd', 'function'],
  ['math.pow', 'Modules/mathmodule.c', 'math_pow_impl', 'function'],
  ['posix.getcwd', 'Modules/posixmodule.c', 'os_getcwd_impl', 'function'],
  ['nt.getcwd', 'Modules/posixmodule.c', 'os_getcwd_impl', 'function'],
  ['posix.stat', 'Modules/posixmodule.c', 'os_stat_impl', 'function'],
  ['posix.listdir', 'Modules/posixmodule.c', 'os_listdir_impl', 'function'],
  ['posix.DirEntry', 'Modules/posixmodule.c', 'DirEntryType_spec', 'class'],
  ['posix.DirEntry.is_dir', 'Modules/posixmodule.c', 'os_DirEntry_is_dir_impl', 'method'],
  ['posix.O_RDONLY', 'Modules/posixmodule.c', 'O_RDONLY', 'constant'],
  ['builtins.len', 'Python/bltinmodule.c', 'builtin_len', 'function'],
  ['builtins.sorted', 'Python/bltinmodule.c', 'builtin_sorted', 'function'],
  ['builtins.print', 'Python/bltinmodule.c', 'builtin_print_impl', 'function'],
  ['builtins.isinstance', 'Python/bltinmodule.c', 'builtin_isinstance_impl', 'function'],
  ['builtins.iter', 'Python/bltinmodule.c', 'builtin_iter', 'function'],
  ['builtins.None', 'Python/bltinmodule.c', 'Py_None', 'constant'],
  ['builtins.list', 'Objects/listobject.c', 'PyList_Type', 'class'],
  ['builtins.list.sort', 'Objects/listobject.c', 'list_sort_impl', 'method'],
  ['builtins.list.__len__', 'Objects/listobject.c', 'list_length', 'slot'],
  ['builtins.dict.get', 'Objects/dictobject.c', 'dict_get_impl', 'method'],
  ['builtins.dict.fromkeys', 'Objects/dictobject.c', 'dict_fromkeys_impl', 'classmethod'],
  ['builtins.dict.__getitem__', 'Objects/dictobject.c', 'dict_subscript', 'method'],
  ['builtins.int.__add__', 'Objects/longobject.c', 'long_add', 'slot'],
  ['builtins.int.__radd__', 'Objects/longobject.c', 'long_add', 'slot'],
  ['builtins.int.from_bytes', 'Objects/longobject.c', 'int_from_bytes_impl', 'classmethod'],
  ['builtins.int.bit_length', 'Objects/longobject.c', 'int_bit_length_impl', 'method'],
  ['builtins.str.format', 'Objects/stringlib/unicode_format.h', 'do_string_format', 'method'],
  ['builtins.str.join', 'Objects/unicodeobject.c', 'unicode_join', 'method'],
  ['builtins.str.__add__', 'Objects/unicodeobject.c', 'PyUnicode_Concat', 'slot'],
  ['builtins.bytes.maketrans', 'Objects/bytesobject.c', 'bytes_maketrans_impl', 'staticmethod'],
  ['builtins.float.__new__', 'Objects/floatobject.c', 'float_new_impl', 'constructor'],
  ['builtins.tuple.__hash__', 'Objects/tupleobject.c', 'tuplehash', 'slot'],
  ['builtins.type.__call__', 'Objects/typeobject.c', 'type_call', 'slot'],
  ['builtins.object.__init__', 'Objects/typeobject.c', 'object_init', 'constructor'],
  ['builtins.slice.start', 'Objects/sliceobject.c', 'start', 'member'],
  ['builtins.range.__iter__', 'Objects/rangeobject.c', 'range_iter', 'slot'],
  ['builtins.enumerate', 'Objects/enumobject.c', 'PyEnum_Type', 'class'],
  ['builtins.memoryview.tobytes', 'Objects/memoryobject.c', 'memoryview_tobytes_impl', 'method'],
  ['_struct.pack', 'Modules/_struct.c', 'pack', 'function'],
  ['_struct.Struct.pack', 'Modules/_struct.c', 's_pack', 'method'],
  ['_struct.Struct.unpack', 'Modules/_struct.c', 'Struct_unpack_impl', 'method'],
  ['_struct.calcsize', 'Modules/_struct.c', 'calcsize_impl', 'function'],
  ['struct.error', 'Modules/_struct.c', 'StructError', 'exception'],
  ['_struct.error', 'Modules/_struct.c', 'StructError', 'exception'],
  ['collections.deque.__len__', 'Modules/_collectionsmodule.c', 'deque_len', 'slot'],
  ['itertools.chain.from_iterable', 'Modules/itertoolsmodule.c', 'itertools_chain_from_iterable', 'classmethod'],
  ['_io.FileIO.read', 'Modules/_io/fileio.c', '_io_FileIO_read_impl', 'method'],
  ['_io.FileIO.closed', 'Modules/_io/fileio.c', 'get_closed', 'getter'],
  ['_socket.socket.connect', 'Modules/socketmodule.c', 'sock_connect', 'method'],
  ['time.time', 'Modules/timemodule.c', 'time_time', 'function'],
  ['_json.scanstring', 'Modules/_json.c', 'py_scanstring', 'function'],
  ['array.array.append', 'Modules/arraymodule.c', 'array_array_append', 'method'],
  ['select.select', 'Modules/selectmodule.c', 'select_select_impl', 'function'],
  ['zlib.compress', 'Modules/zlibmodule.c', 'zlib_compress_impl', 'function'],
  ['zlib.error', 'Modules/zlibmodule.c', 'ZlibError', 'exception'],
  ['_weakref.ref', 'Objects/weakrefobject.c', '_PyWeakref_RefType', 'class'],
  ['_functools.reduce', 'Modules/_functoolsmodule.c', 'functools_reduce', 'function'],
  ['_heapq.heappush', 'Modules/_heapqmodule.c', '_heapq_heappush_impl', 'function'],
  ['_bisect.bisect_right', 'Modules/_bisectmodule.c', '_bisect_bisect_right_impl', 'function'],
  ['_random.Random.random', 'Modules/_randommodule.c', '_random_Random_random_impl', 'method'],
  ['_sre.compile', 'Modules/_sre/sre.c', '_sre_compile_impl', 'function'],
  // `_io`'s m_name is "io": bound under its import name (PyInit__io) too.
  ['_io.open', 'Modules/_io/_iomodule.c', '_io_open_impl', 'function'],
  // Exception types made by macros in Objects/exceptions.c.
  ['builtins.TypeError', 'Objects/exceptions.c', '_PyExc_TypeError', 'class'],
  ['builtins.StopIteration', 'Objects/exceptions.c', '_PyExc_StopIteration', 'class'],
  ['builtins.StopIteration.value', 'Objects/exceptions.c', 'value', 'member'],
  ['builtins.KeyError.__str__', 'Objects/exceptions.c', 'KeyError_str', 'slot'],
  ['builtins.BaseException.with_traceback', 'Objects/exceptions.c', 'BaseException_with_traceback', 'method'],
];

const VERSIONS: Record<string, Expect[]> = {
  '3.11': [
    ...COMMON,
    // 3.11: hand-written METH_O clinic functions (no _impl); deque is a static type.
    ['builtins.list.append', 'Objects/listobject.c', 'list_append', 'method'],
    ['builtins.set.add', 'Objects/setobject.c', 'set_add', 'method'],
    ['collections.deque', 'Modules/_collectionsmodule.c', 'deque_type', 'class'],
    ['collections.deque.append', 'Modules/_collectionsmodule.c', 'deque_append', 'method'],
    // added in a loop: `PyModule_AddType(module, typelist[i])`
    ['_collections.deque.append', 'Modules/_collectionsmodule.c', 'deque_append', 'method'],
  ],
  '3.13': [
    ...COMMON,
    // 3.13: @critical_section clinic functions get an _impl; deque is a heap type added by
    // the ADD_TYPE macro to _collections.
    ['builtins.list.append', 'Objects/listobject.c', 'list_append_impl', 'method'],
    ['builtins.set.add', 'Objects/setobject.c', 'set_add_impl', 'method'],
    ['collections.deque', 'Modules/_collectionsmodule.c', 'deque_spec', 'class'],
    ['collections.deque.append', 'Modules/_collectionsmodule.c', 'deque_append_impl', 'method'],
    ['_collections.deque.append', 'Modules/_collectionsmodule.c', 'deque_append_impl', 'method'],
    // Added by macros #defined inside the module's exec function.
    ['mmap.PROT_READ', 'Modules/mmapmodule.c', 'PROT_READ', 'constant'],
    ['syslog.LOG_ERR', 'Modules/syslogmodule.c', 'LOG_ERR', 'constant'],
    // A heap type added as `Py_NewRef(st->PyComError_Type)`: the class, not a constant.
    ['_ctypes.COMError', 'Modules/_ctypes/_ctypes.c', 'comerror_spec', 'class'],
  ],
};

function sources(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.[ch]$/.test(e)) out.push(p);
    }
  };
  for (const sub of ['Modules', 'Objects', 'Python']) walk(join(root, sub));
  return out;
}

/** The indexer's two passes: parse what cNeedsParse accepts, then the skipped files that
 *  mention an unresolved name. */
function linkTree(root: string): Binding[] {
  const texts = new Map(sources(root).map((p) => [p, readFileSync(p, 'utf8')]));
  const facts = new Map<string, CFileFacts>();
  for (const [p, t] of texts) if (cNeedsParse(t)) facts.set(p, extractC(t));
  let out = linkC(facts);
  if (out.unresolved.length) {
    const names = new Set(out.unresolved);
    const re = new RegExp(`\\b(?:${[...names].join('|')})\\b`);
    for (const [p, t] of texts) if (!facts.has(p) && re.test(t)) facts.set(p, extractC(t));
    out = linkC(facts);
  }
  return out.bindings;
}

function best(bindings: Binding[], name: string): Binding | undefined {
  return bindings
    .map((b, i) => ({ b, i }))
    .filter(({ b }) => b.name === name)
    .sort((x, y) => (x.b.target.rank ?? 0) - (y.b.target.rank ?? 0) || x.i - y.i)[0]?.b;
}

for (const [version, expects] of Object.entries(VERSIONS)) {
  test(`CPython ${version}: ${expects.length} names link to the implementation read in the source`, () => {
    const root = join(homedir(), '.cache', 'seam', `cpython-${version}`);
    if (!existsSync(join(root, 'Modules'))) {
      assert.fail(`CPython ${version} sources missing at ${root}: run \`bash scripts/fetch-sources.sh\``);
    }
    assert.ok(expects.length >= 40);
    const bindings = linkTree(root);
    const lines = new Map<string, string[]>();
    const problems: string[] = [];
    for (const [name, file, symbol, kind] of expects) {
      const b = best(bindings, name);
      if (!b) {
        problems.push(`${name}: no binding`);
        continue;
      }
      const t = b.target;
      const got = `${t.file.slice(root.length + 1)}:${t.line} ${t.symbol} (${t.kind})`;
      if (t.file !== join(root, file) || t.symbol !== symbol || t.kind !== kind) {
        problems.push(`${name}: want ${file} ${symbol} (${kind}), got ${got}`);
        continue;
      }
      if (!lines.has(t.file)) lines.set(t.file, readFileSync(t.file, 'utf8').split('\n'));
      const text = lines.get(t.file)![t.line - 1] ?? '';
      const macro = /^generated by `(\w+)`$/.exec(t.evidence ?? '')?.[1];
      const attr = name.split('.').pop()!;
      // A macro invocation may spread its arguments over the next lines.
      const invocation = lines.get(t.file)!.slice(t.line - 1, t.line + 2).join(' ');
      const lineOk = macro ? text.includes(`${macro}(`) && new RegExp(`\\b${attr}\\b`).test(invocation)
        : kind === 'member' ? text.includes(`"${attr}"`)
          : kind === 'class' ? text.includes(symbol)
            : text.includes(symbol.replace(/^state->/, '')) ;
      if (!lineOk) problems.push(`${name}: line ${t.line} of ${file} does not show ${symbol}: ${text.trim()}`);
    }
    assert.deepEqual(problems, []);
  });
}
