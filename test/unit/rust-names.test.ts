/**
 * Rust name cleaning and the two demanglers, on real symbols that rustc 1.95 produced (legacy
 * and `-C symbol-mangling-version=v0`) compared with GNU c++filt's output for them
 * (test/fixtures/stacks/rust-symbols.json), plus the shapes debuggers leave behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { cleanRustName, decodeLegacyEscapes, demangleRust, isRustName } from '../../src/debug/stack/rustNames';

interface Pair {
  symbol: string;
  cxxfilt: string;
}
const FIX = JSON.parse(readFileSync(resolve(__dirname, '../../../test/fixtures/stacks/rust-symbols.json'), 'utf8')) as { v0: Pair[]; legacy: Pair[] };

test('v0 symbols demangle exactly as c++filt does', () => {
  assert.ok(FIX.v0.length >= 40);
  for (const { symbol, cxxfilt } of FIX.v0) assert.equal(demangleRust(symbol), cxxfilt, symbol);
});

test('legacy symbols demangle as c++filt does (non-ASCII escapes decoded, which c++filt leaves)', () => {
  assert.ok(FIX.legacy.length >= 10);
  for (const { symbol, cxxfilt } of FIX.legacy) {
    const want = cxxfilt.replace(/\$u([0-9a-f]+)\$/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16)));
    assert.equal(demangleRust(symbol), want, symbol);
  }
});

test('punycode identifiers (v0) and $u escapes (legacy) give the same Unicode name', () => {
  const v0 = FIX.v0.find((p) => p.symbol.includes('u'))?.symbol ?? '';
  const fromV0 = FIX.v0.map((p) => cleanRustName(p.symbol)).find((n) => n.includes('ünïcode'));
  const fromLegacy = FIX.legacy.map((p) => cleanRustName(p.symbol)).find((n) => n.includes('ünïcode'));
  assert.equal(fromV0, 'lib::grüße_ünïcode', v0);
  assert.equal(fromLegacy, 'lib::grüße_ünïcode');
});

test('clean names: hashes, disambiguators and escapes go; DWARF names stay', () => {
  const cases: [string, string][] = [
    ['_ZN3lib15Engine$LT$T$GT$3new17h94b7fec8605483f5E', 'lib::Engine<T>::new'],
    ['_ZN3lib15Engine$LT$T$GT$3new17h94b7fec8605483f5E.llvm.1234567', 'lib::Engine<T>::new'],
    ['lib::Engine<T>::new::h94b7fec8605483f5', 'lib::Engine<T>::new'],
    ['lib::Engine$LT$T$GT$::new::h94b7fec8605483f5', 'lib::Engine<T>::new'],
    ['_$LT$alloc..vec..Vec$LT$T$C$A$GT$$u20$as$u20$core..ops..drop..Drop$GT$::drop::h0011223344556677', '<alloc::vec::Vec<T,A> as core::ops::drop::Drop>::drop'],
    ['<lib[c6f551dc431569fb]::Engine<alloc[fdfd2bd8633a6659]::string::String>>::each::<lib[c6f551dc431569fb]::touch::{closure#0}>', '<lib::Engine<alloc::string::String>>::each::<lib::touch::{closure#0}>'],
    ['_RNvXCsh537bOAIRKx_3libINtB2_6EngineThbEENtB2_3Run3runB2_', '<lib::Engine<(u8, bool)> as lib::Run>::run'],
    ['crate::engine::{impl#0}::run<i32>', 'crate::engine::{impl#0}::run<i32>'],
    ['pyo3::impl_::trampoline::trampoline', 'pyo3::impl_::trampoline::trampoline'],
  ];
  for (const [raw, want] of cases) assert.equal(cleanRustName(raw), want, raw);
});

test('not Rust: C and C++ symbols are left alone', () => {
  assert.equal(demangleRust('_ZN3foo3barEv'), undefined); // C++ (no Rust hash element)
  assert.equal(demangleRust('_PyEval_EvalFrameDefault'), undefined);
  assert.equal(demangleRust('PyObject_Call'), undefined);
  assert.equal(isRustName('_PyEval_EvalFrameDefault'), false);
  assert.equal(isRustName('std::vector<int>::push_back'), false);
  assert.equal(isRustName('cb_stop'), false);
  assert.equal(isRustName('core::ops::function::FnOnce::call_once'), true);
  assert.equal(isRustName('lib::touch::h025cb2beb6e0cdda'), true);
  assert.equal(cleanRustName('main'), 'main');
});

test('malformed or hostile v0 input returns undefined, quickly', () => {
  for (const bad of ['_RNvC', '_RNvCs_3lib', '_RIC3libB_E', '_RNvB0_3foo', '_RC3lib3xyz', '_R0C3lib']) {
    assert.equal(demangleRust(bad), undefined, bad);
  }
  // Backreferences that expand exponentially: type k is a pair of type k-1 and a backref to it,
  // so 8 levels print 2^8 `u8`s and 60 levels would print 2^60; the output cap stops those.
  const b62 = (n: number): string => {
    const d = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
    if (n === 0) return '_';
    let out = '';
    for (let v = n - 1; ; v = Math.floor(v / 62)) {
      out = d[v % 62] + out;
      if (v < 62) break;
    }
    return out + '_';
  };
  const nested = (levels: number): string => {
    const head = 'INvC3lib1f';
    const type = (k: number, at: number): string => (k === 0 ? 'h' : `T${type(k - 1, at + 1)}B${b62(at + 1)}E`);
    return `_R${head}${type(levels, head.length)}E`;
  };
  const small = demangleRust(nested(8));
  assert.equal(small?.match(/u8/g)?.length, 256);
  const t0 = performance.now();
  assert.equal(demangleRust(nested(60)), undefined);
  assert.ok(performance.now() - t0 < 500);
});

test('legacy escapes decode on their own (what LLDB 16 leaves)', () => {
  assert.equal(decodeLegacyEscapes('$LT$$RF$str$u20$as$u20$core..fmt..Display$GT$'), '<&str as core::fmt::Display>');
  assert.equal(decodeLegacyEscapes('$u7b$$u7b$closure$u7d$$u7d$'), '{{closure}}');
  assert.equal(decodeLegacyEscapes('a$BP$b$SP$c$LP$d$RP$'), 'a*b@c(d)');
  assert.equal(decodeLegacyEscapes('keep$XX$this'), 'keep$XX$this');
});

test('a v0 crate hash anywhere in a name marks it Rust, and cleaning takes every hash out (stripped wheels: rustworkx)', () => {
  const raw = '<rustworkx[d81bd66e555ac38b]::CostFn>::call';
  assert.ok(isRustName(raw));
  assert.equal(cleanRustName(raw), '<rustworkx::CostFn>::call');
  const nested = '<(&pyo3[8b00aa81bcdbadb5]::instance::Py<pyo3[8b00aa81bcdbadb5]::types::any::PyAny>,) as pyo3[8b00aa81bcdbadb5]::call::PyCallArgs>::call_positional';
  assert.ok(isRustName(nested));
  assert.ok(!/\[[0-9a-f]+\]/.test(cleanRustName(nested)), cleanRustName(nested));
  assert.ok(!isRustName('std::vector<int>::push_back'), 'C++ stays C++');
});
