/**
 * The stack merger on recorded stacks (test/fixtures/stacks/py3*-callback.json: GDB 13 on pyenv
 * CPython 3.10–3.13 stopped in a C extension that Python called through another C call; see
 * recorder/ there) compared with golden `.merged.json` files (an `.actual.json` is written beside a
 * golden that does not match; SEAM_UPDATE_GOLDEN=1 rewrites them), plus hand-made cases for each
 * mismatch rule and the human listing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMarker, mergeStack } from '../../src/debug/stack/merge';
import { formatStackText, stackJson } from '../../src/debug/stack/format';
import type { MergedFrame, NativeFrame, PyFrame, PySegment, PyThread } from '../../src/debug/types';

const DIR = resolve(__dirname, '../../../test/fixtures/stacks');

interface Recorded {
  python: string;
  native: NativeFrame[];
  py: PyThread;
  name: string;
}

const big = (v: unknown): bigint | undefined => (typeof v === 'string' ? BigInt(v) : undefined);

function load(name: string): Recorded {
  const raw = JSON.parse(readFileSync(resolve(DIR, `${name}.json`), 'utf8'));
  const t = raw.threads[0];
  const native: NativeFrame[] = t.native.frames.map((f: Record<string, unknown>) => ({
    ...f,
    pc: BigInt(f.pc as string),
    func: (f.func as string | null) ?? undefined,
    sp: big(f.sp),
    cfa: big(f.cfa),
  }));
  const py: PyThread = {
    ...t.py,
    tstate: BigInt(t.py.tstate),
    segments: t.py.segments.map((s: { anchor?: string; frames: Record<string, unknown>[] }) => ({
      anchor: big(s.anchor),
      frames: s.frames.map((f) => ({ ...f, address: BigInt(f.address as string) })),
    })),
  };
  return { python: raw.python, native, py, name: t.native.name };
}

function golden(name: string, frames: MergedFrame[], threadName: string): void {
  // `seam stack --json`, one frame a line so a diff shows which frames moved.
  const t = stackJson({ threads: [{ id: 1, name: threadName, frames }] }).threads[0];
  const actual = `{"threads": [{"id": ${t.id}, "name": ${JSON.stringify(t.name)}, "frames": [\n${t.frames.map((f) => ` ${JSON.stringify(f)}`).join(',\n')}\n]}]}\n`;
  const expectedPath = resolve(DIR, `${name}.merged.json`);
  const actualPath = resolve(DIR, `${name}.actual.json`);
  if (process.env.SEAM_UPDATE_GOLDEN) writeFileSync(expectedPath, actual);
  const expected = existsSync(expectedPath) ? readFileSync(expectedPath, 'utf8') : '';
  if (actual !== expected) {
    writeFileSync(actualPath, actual);
    assert.fail(`${name}: merged stack differs from ${expectedPath}; see ${actualPath}`);
  } else if (existsSync(actualPath)) unlinkSync(actualPath);
}

const visible = (fs: MergedFrame[]): string[] => fs.filter((f) => !f.glue).map((f) => f.function);
const pyNames = (fs: MergedFrame[]): string[] => fs.filter((f) => f.language === 'python').map((f) => f.function);
const allPyFrames = (py: PyThread): string[] => py.segments.flatMap((s) => s.frames.map((f) => f.name));

for (const name of ['py310-callback', 'py311-callback', 'py312-callback', 'py313-callback']) {
  test(`recorded ${name}: golden merge`, () => {
    const r = load(name);
    const merged = mergeStack(r.native, r.py, { version: r.python });
    golden(name, merged, r.name);
    // Independent of the golden: every Python frame once, in order; every eval frame folded.
    assert.deepEqual(pyNames(merged), allPyFrames(r.py));
    assert.equal(merged.filter(isMarker).length, 0);
    for (const f of merged) if (f.function === '_PyEval_EvalFrameDefault') assert.equal(f.glue, true);
    const v = visible(merged);
    // C frames sit between the Python frames that called them and those they called back.
    const at = (n: string): number => v.indexOf(n);
    assert.equal(v[0], 'cb_stop');
    assert.ok(at('cb_stop') < at('inner') && at('inner') < at('cb_call') && at('cb_call') < at('gen'));
    assert.ok(at('gen') < at('list_extend') || at('gen') < at('_list_extend'), v.join(' '));
    assert.equal(v[v.length - 1], '<module>');
    assert.equal(merged.find((f) => f.function === 'cb_stop')?.language, 'c');
  });
}

test('missing anchors: order matching gives the same stack as address matching', () => {
  for (const name of ['py311-callback', 'py312-callback', 'py313-callback']) {
    const r = load(name);
    const byAddress = mergeStack(r.native, r.py);
    const noAnchor = { ...r.py, segments: r.py.segments.map((s) => ({ frames: s.frames })) };
    assert.deepEqual(stackJson({ threads: [{ id: 1, frames: mergeStack(r.native, noAnchor) }] }),
      stackJson({ threads: [{ id: 1, frames: byAddress }] }), name);
    const noCfa = r.native.map((f) => ({ ...f, cfa: undefined }));
    assert.deepEqual(pyNames(mergeStack(noCfa, r.py)), allPyFrames(r.py));
  }
});

test('address matching puts each segment in its own activation where order matching cannot', () => {
  // The reader lost the middle segment (gen): by address the outer frames still land right and
  // gen's activation stays visible; by order everything after the loss would shift.
  const r = load('py312-callback');
  const lost = { ...r.py, segments: [r.py.segments[0], r.py.segments[2]] };
  const merged = mergeStack(r.native, lost);
  const v = visible(merged);
  assert.ok(v.indexOf('cb_call') < v.indexOf('_PyEval_EvalFrameDefault'), 'unfolded eval frame after cb_call');
  assert.ok(v.indexOf('_PyEval_EvalFrameDefault') < v.indexOf('outer'));
  assert.equal(merged.filter((f) => f.function === '_PyEval_EvalFrameDefault' && !f.glue).length, 1);
});

test('unreadable (cycle-broken) frame is shown where the reader stopped', () => {
  const r = load('py313-callback');
  const broken: PyFrame = { name: '<frame chain loops back to 0x7ffff7fb9020: stopped>', file: '', line: null, address: 0x7ffff7fb9020n, unreadable: true };
  const segs = r.py.segments.map((s, i) => (i === 1 ? { ...s, frames: [...s.frames, broken] } : s));
  const merged = mergeStack(r.native, { ...r.py, segments: segs });
  const k = merged.findIndex((f) => f.python === broken);
  assert.ok(k > 0);
  assert.equal(merged[k - 1].function, 'gen');
  assert.deepEqual({ ...merged[k], python: undefined }, { language: 'python', function: broken.name, file: null, line: null, glue: false, python: undefined });
  assert.equal(merged.filter(isMarker).length, 0);
});

test('native-only thread: no Python state, eval frames stay visible, languages by file', () => {
  const r = load('py311-callback');
  const merged = mergeStack(r.native, undefined);
  assert.equal(merged.length, r.native.length);
  assert.ok(merged.filter((f) => f.function === '_PyEval_EvalFrameDefault').every((f) => !f.glue && f.language === 'c'));
  const worker: NativeFrame[] = [
    { level: 0, pc: 0x7ffff7a9ed26n, func: '__futex_abstimed_wait_common64', file: './nptl/futex-internal.c', line: 57, from: 'libc.so.6' },
    { level: 1, pc: 0x7ffff7aa0e53n, func: 'pthread_cond_wait', from: 'libc.so.6' },
    { level: 2, pc: 0x7ffff7aa1d22n, func: 'start_thread', from: 'libc.so.6' },
    { level: 3, pc: 0x7ffff7b21b8cn, func: 'clone3', from: 'libc.so.6' },
  ];
  const w = mergeStack(worker, undefined);
  assert.deepEqual(w.map((f) => [f.language, f.glue]), [['c', false], ['native', false], ['native', true], ['native', true]]);
});

test('Rust frames: hashes, escapes and v0 disambiguators cleaned; PyO3 glue folded', () => {
  const frames: NativeFrame[] = [
    { level: 0, pc: 1n, func: '_ZN3lib15Engine$LT$T$GT$4each17h0667e28e9461783aE', from: 'lib.so' },
    { level: 1, pc: 2n, func: 'mylib::Counter::__pymethod_bump__::h1111111111111111' },
    { level: 2, pc: 3n, func: 'pyo3::impl_::trampoline::noargs::{{closure}}::h2222222222222222' },
    { level: 3, pc: 4n, func: 'core::ops::function::FnOnce::call_once::h3333333333333333' },
    { level: 4, pc: 5n, func: 'std::panicking::try::do_call::h4444444444444444' },
    { level: 5, pc: 6n, func: '__rust_try' },
    { level: 6, pc: 7n, func: 'std::panicking::try::h5555555555555555' },
    { level: 7, pc: 8n, func: 'pyo3::impl_::trampoline::trampoline::h6666666666666666' },
    { level: 8, pc: 9n, func: 'mylib::Counter::__pymethod_bump__', file: 'src/lib.rs', line: 12 },
    { level: 9, pc: 10n, func: '_RNvXCsh537bOAIRKx_3libINtB2_6EngineThbEENtB2_3Run3runB2_' },
    { level: 10, pc: 11n, func: 'lib[c6f551dc431569fb]::touch::{closure#0}' },
    { level: 11, pc: 12n, func: '_$LT$alloc..vec..Vec$LT$T$C$A$GT$$u20$as$u20$core..ops..drop..Drop$GT$::drop::h9999999999999999' },
    { level: 12, pc: 13n, func: 'core::ops::function::FnOnce::call_once::h3333333333333333' },
    { level: 13, pc: 14n, func: 'cfunction_vectorcall_NOARGS', file: 'Objects/methodobject.c', line: 481 },
  ];
  const merged = mergeStack(frames, undefined);
  assert.deepEqual(merged.map((f) => [f.function, f.language, f.glue]), [
    ['lib::Engine<T>::each', 'rust', false],
    ['mylib::Counter::__pymethod_bump__', 'rust', false], // bump inlined into it: the wrapper stands for it
    ['pyo3::impl_::trampoline::noargs::{{closure}}', 'rust', true],
    ['core::ops::function::FnOnce::call_once', 'rust', true], // inside the trampoline
    ['std::panicking::try::do_call', 'rust', true],
    ['__rust_try', 'native', true],
    ['std::panicking::try', 'rust', true],
    ['pyo3::impl_::trampoline::trampoline', 'rust', true],
    ['mylib::Counter::__pymethod_bump__', 'rust', true],
    ['<lib::Engine<(u8, bool)> as lib::Run>::run', 'rust', false],
    ['lib::touch::{closure#0}', 'rust', false],
    ['<alloc::vec::Vec<T,A> as core::ops::drop::Drop>::drop', 'rust', false],
    ['core::ops::function::FnOnce::call_once', 'rust', false], // not under a trampoline
    ['cfunction_vectorcall_NOARGS', 'c', true],
  ]);
});

test('PyO3 wrappers: glue when the user\'s function is the next frame, visible when it was inlined into them', () => {
  // A wheel's symbols (rpds-py, PyO3 0.27, release): insert() inlined into its wrapper, which calls
  // Bound::hash; the extern "C" entry lives in the user's crate.
  const wheel: NativeFrame[] = [
    { level: 0, pc: 1n, func: 'slot_tp_hash', file: 'Objects/typeobject.c', line: 7450 },
    { level: 1, pc: 2n, func: '<pyo3::instance::Bound<pyo3::types::any::PyAny> as pyo3::types::any::PyAnyMethods>::hash', from: 'rpds.so' },
    { level: 2, pc: 3n, func: '_ZN4rpds13HashTrieMapPy19__pymethod_insert__17h0123456789abcdefE', from: 'rpds.so' },
    { level: 3, pc: 4n, func: 'pyo3::impl_::trampoline::trampoline', from: 'rpds.so' },
    { level: 4, pc: 5n, func: 'rpds::<impl pyo3::impl_::pyclass::PyMethods<rpds::HashTrieMapPy> for pyo3::impl_::pyclass::PyClassImplCollector<rpds::HashTrieMapPy>>::py_methods::ITEMS::trampoline', from: 'rpds.so' },
    { level: 5, pc: 6n, func: 'method_vectorcall_FASTCALL_KEYWORDS', file: 'Objects/descrobject.c', line: 405 },
  ];
  assert.deepEqual(mergeStack(wheel, undefined).map((f) => [f.function, f.glue]), [
    ['slot_tp_hash', true],
    ['<pyo3::instance::Bound<pyo3::types::any::PyAny> as pyo3::types::any::PyAnyMethods>::hash', false],
    ['rpds::HashTrieMapPy::__pymethod_insert__', false],
    ['pyo3::impl_::trampoline::trampoline', true],
    ['rpds::<impl pyo3::impl_::pyclass::PyMethods<rpds::HashTrieMapPy> for pyo3::impl_::pyclass::PyClassImplCollector<rpds::HashTrieMapPy>>::py_methods::ITEMS::trampoline', true],
    ['method_vectorcall_FASTCALL_KEYWORDS', true],
  ]);
  // A debug build (or an inlined frame from DWARF): the wrapper calls the user's function, renamed
  // or not; a #[pyfunction]'s entry from PyO3 0.2x is `f::MakeDef::_PYO3_DEF::trampoline`.
  const debug: NativeFrame[] = [
    { level: 0, pc: 1n, func: 'mixed_rs::engine::Engine::new', file: 'src/engine.rs', line: 20 },
    { level: 1, pc: 2n, func: 'mixed_rs::engine::Engine::__pymethod___new____', file: 'src/engine.rs', line: 12 },
    { level: 2, pc: 3n, func: 'mixed_rs::renamed_in_python', file: 'src/lib.rs', line: 9 },
    { level: 3, pc: 4n, func: 'mixed_rs::__pyfunction_renamed_in_python', file: 'src/lib.rs', line: 8 },
    { level: 4, pc: 5n, func: 'mixed_rs::renamed_in_python::MakeDef::_PYO3_DEF::trampoline', file: 'src/lib.rs', line: 8 },
  ];
  assert.deepEqual(mergeStack(debug, undefined).map((f) => f.glue), [false, true, false, true, true]);
  // Innermost: the wrapper is where the program is.
  assert.equal(mergeStack(debug.slice(1), undefined)[0].glue, false);
});

test('GCC clones of glue named from a symbol table (an LTO build without DWARF) are glue too', () => {
  const frames: NativeFrame[] = [
    { level: 0, pc: 1n, func: 'my_func', file: 'mod.c', line: 3 },
    { level: 1, pc: 2n, func: 'cfunction_call.lto_priv.0', from: 'python3.11' },
    { level: 2, pc: 3n, func: '_PyObject_MakeTpCall.cold', from: 'python3.11' },
    { level: 3, pc: 4n, func: 'my_helper.lto_priv.0', from: 'python3.11' },
  ];
  assert.deepEqual(mergeStack(frames, undefined).map((f) => f.glue), [false, true, true, false]);
});

test('stack cut short at the eval loop (LLDB 19): the rest of the Python frames after a marker', () => {
  const r = load('py313-callback');
  const cut = r.native.slice(0, r.native.findIndex((f) => f.func === '_PyEval_EvalFrameDefault') + 1);
  for (const py of [r.py, { ...r.py, segments: r.py.segments.map((s) => ({ frames: s.frames })) }]) {
    const merged = mergeStack(cut, py);
    assert.deepEqual(pyNames(merged), allPyFrames(r.py));
    const m = merged.findIndex(isMarker);
    assert.ok(m > 0);
    assert.match(merged[m].function, /native stack ends here \(unwinding stopped at _PyEval_EvalFrameDefault\); 4 more Python frames/);
    assert.equal(merged[m - 1].function, '_PyEval_EvalFrameDefault');
    assert.equal(merged[m - 1].glue, true);
    assert.deepEqual(pyNames(merged.slice(m + 1)), ['gen', 'outer', 'main', '<module>']);
  }
});

test('Python thread with no eval frame on its native stack, and an empty native stack', () => {
  const r = load('py312-callback');
  const onlyC = r.native.slice(0, 2); // cb_stop, cfunction_vectorcall_NOARGS: the unwinder gave up
  const merged = mergeStack(onlyC, r.py);
  assert.equal(merged[2].function, '<native stack ends here (unwinding stopped at cfunction_vectorcall_NOARGS); 8 more Python frames from the interpreter>');
  assert.deepEqual(pyNames(merged), allPyFrames(r.py));
  const none = mergeStack([], r.py);
  assert.match(none[0].function, /^<no native frames; 8 Python frames/);
});

test('segment anchored in a C frame that is not the eval loop gets a marker (R1)', () => {
  const r = load('py312-callback');
  // Rename the middle activation's eval frame, as if a PEP 523 evaluator had run gen.
  const native = r.native.map((f) => (f.level === 11 ? { ...f, func: 'custom_eval_frame', file: 'evaluator.c' } : f));
  const merged = mergeStack(native, r.py);
  const k = merged.findIndex((f) => f.function === 'gen');
  assert.equal(merged[k - 1].function, '<Python frames below run from a C frame that is not the eval loop>');
  assert.equal(merged[k + 1].function, 'custom_eval_frame');
  assert.deepEqual(pyNames(merged), allPyFrames(r.py));
  // The stack service asks sp/cfa for eval frames only: the same segment then lies below the
  // next eval frame's sp, in no known frame, and is shown before it after the R1 marker.
  const evalOnly = native.map((f) => (f.func === '_PyEval_EvalFrameDefault' ? f : { ...f, sp: undefined, cfa: undefined }));
  const m2 = mergeStack(evalOnly, r.py);
  const o = m2.findIndex((f) => f.function === 'gen');
  assert.equal(m2[o - 1].function, '<Python frames below run by an eval-loop frame missing from the native stack>');
  assert.ok(visible(m2).indexOf('custom_eval_frame') < visible(m2).indexOf('gen'));
  assert.ok(visible(m2).indexOf('gen') < visible(m2).indexOf('outer'));
  assert.deepEqual(pyNames(m2), allPyFrames(r.py));
});

test('more eval frames than segments without anchors: outer ones stay visible', () => {
  const r = load('py310-callback');
  const fewer = { ...r.py, segments: r.py.segments.slice(0, 5) };
  const merged = mergeStack(r.native, fewer, { version: '3.10' });
  assert.equal(merged.filter((f) => f.function === '_PyEval_EvalFrameDefault' && !f.glue).length, 3);
  assert.deepEqual(pyNames(merged), allPyFrames(fewer));
});

test('PyEval_EvalFrameEx is the loop only before 3.6', () => {
  const native: NativeFrame[] = [
    { level: 0, pc: 1n, func: 'PyEval_EvalFrameEx', file: 'Python/ceval.c', line: 100 },
    { level: 1, pc: 2n, func: 'main', file: 'Programs/python.c', line: 1 },
  ];
  const py: PyThread = { nativeThreadId: 1, tstate: 1n, holdsGil: true, segments: [{ frames: [{ name: 'f', file: 'f.py', line: 3, address: 9n }] }] };
  assert.deepEqual(pyNames(mergeStack(native, py, { version: '3.5' })), ['f']);
  assert.equal(mergeStack(native, py, { version: '3.5' })[0].function, 'f');
  assert.ok(isMarker(mergeStack(native, py, { version: '3.12' })[2]));
});

test('deep recursion: 3,000 activations and 20,000 Python frames, linear', () => {
  const build = (n: number): { native: NativeFrame[]; py: PyThread } => {
    const native: NativeFrame[] = [];
    const segments: PySegment[] = [];
    let sp = 0x7ff000000000n;
    for (let i = 0; i < n; i++) {
      for (const func of ['cb_call', 'cfunction_vectorcall_O', '_PyEval_EvalFrameDefault']) {
        native.push({ level: native.length, pc: BigInt(native.length), func, sp, cfa: sp + 0x100n });
        if (func === '_PyEval_EvalFrameDefault') segments.push({ anchor: sp + 0x80n, frames: [1, 2, 3, 4, 5, 6, 7].map((k) => ({ name: `f${i}_${k}`, file: 'deep.py', line: k, address: BigInt(i * 8 + k) })) });
        sp += 0x100n;
      }
    }
    return { native, py: { nativeThreadId: 1, tstate: 1n, holdsGil: true, segments } };
  };
  const time = (n: number): number => {
    const { native, py } = build(n);
    let best = Infinity;
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      const merged = mergeStack(native, py);
      best = Math.min(best, performance.now() - t0);
      assert.equal(merged.length, n * 3 + n * 7);
    }
    return best;
  };
  const small = time(375);
  const large = time(3000); // 8× the frames: linear ≈ 8×, quadratic ≈ 64×
  assert.ok(large < 1000, `3,000 activations took ${large} ms`);
  assert.ok(large / Math.max(small, 0.5) < 30, `small ${small} ms, large ${large} ms`);
});

test('seam stack listing: aligned columns, glue folded into a count, --all shows it', () => {
  const r = load('py311-callback');
  const frames = mergeStack(r.native, r.py, { version: '3.11' });
  const text = formatStackText({ threads: [{ id: 1, name: 'MainThread', frames }] }, { cwd: '/tmp/stk/py3.11' });
  const lines = text.split('\n');
  assert.equal(lines[0], 'Thread 1 "MainThread"');
  assert.match(lines[1], /^ *#0 {2}\[C\] +cb_stop +cb\.c:11$/);
  const inner = lines.find((l) => /\[Py\] +inner /.test(l))!;
  assert.match(inner, /script\.py:7$/);
  assert.equal(inner.indexOf('script.py'), lines[1].indexOf('cb.c'), 'file column aligned');
  assert.ok(lines.some((l) => /^ +… 3 interpreter frames$/.test(l)), text);
  const hidden = frames.filter((f) => f.glue).length;
  const counted = lines.map((l) => /… (\d+) interpreter frame/.exec(l)).reduce((n, m) => n + (m ? Number(m[1]) : 0), 0);
  assert.equal(counted, hidden);
  const all = formatStackText({ threads: [{ id: 1, frames }] }, { all: true }).split('\n');
  assert.equal(all.length, frames.length + 1);
  assert.ok(all.some((l) => /\[C\] +_PyEval_EvalFrameDefault/.test(l)));
});

test('seam stack --json shape', () => {
  const r = load('py313-callback');
  const json = stackJson({ threads: [{ id: 3, name: 'MainThread', frames: mergeStack(r.native, r.py) }] });
  assert.deepEqual(Object.keys(json.threads[0]), ['id', 'name', 'frames']);
  for (const f of json.threads[0].frames) {
    assert.deepEqual(Object.keys(f), ['language', 'function', 'file', 'line', 'glue']);
    assert.ok(['python', 'c', 'rust', 'native'].includes(f.language));
  }
  assert.doesNotThrow(() => JSON.stringify(json)); // no bigint left
});

test('frames of a shared object that holds Rust frames are Rust when their names are paths (a stripped wheel, names cleaned by the backend)', () => {
  const so = '/venv/rustworkx/rustworkx.abi3.so';
  const frames: NativeFrame[] = [
    { level: 0, pc: 0x10n, func: 'rustworkx::shortest_path::run', from: so },
    { level: 1, pc: 0x20n, func: '<rustworkx::CostFn>::call', from: so, rust: true },
    { level: 2, pc: 0x30n, func: 'helper_in_c', from: so },
    { level: 3, pc: 0x40n, func: 'ns::cpp_thing', from: '/usr/lib/libother.so' },
  ];
  const merged = mergeStack(frames, undefined);
  assert.deepEqual(merged.map((f) => `${f.function}:${f.language}`), [
    'rustworkx::shortest_path::run:rust', '<rustworkx::CostFn>::call:rust', 'helper_in_c:native', 'ns::cpp_thing:native',
  ]);
});

test('a frame with no symbol shows its pc and its shared object, not "??"', () => {
  const merged = mergeStack([{ level: 0, pc: 0x7f00dead0n, func: '??', from: '/venv/orjson/orjson.abi3.so' }, { level: 1, pc: 0x10n, func: undefined }], undefined);
  assert.deepEqual(merged.map((f) => f.function), ['0x7f00dead0 in orjson.abi3.so', '0x10']);
});
