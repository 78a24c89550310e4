/**
 * macro_rules! by example (src/core/rust/macroRules.ts): matching with fragments and repetitions,
 * transcription, and where each line of an expansion was written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandMacro, lexTrees, type MacroArm } from '../../src/core/rust/macroRules';
import { extractRust } from '../../src/core/rust/extract';
import { linkRustCrate } from '../../src/core/rust/link';

/** An arm written as in the source, the matcher with its delimiters. */
const arm = (matcher: string, body: string, line = 10): MacroArm => ({ matcher: matcher.slice(1, -1), matcherLine: line - 1, body, line });
/** Token text with the spacing that does not matter to Rust taken out. */
const squash = (s: string | undefined): string | undefined => s?.replace(/\s+/g, ' ').replace(/ ?([^\w ]) ?/g, '$1').trim();

test('token trees: lifetimes, chars, raw strings, comments, nested groups; unbalanced is refused', () => {
  const t = lexTrees("fn f<'a>(x: &'a str) -> char { let r = r#\"a\"b\"#; 'x' } // c\n/* d */ g", 1, 0)!;
  assert.deepEqual(t.map((x) => x.s), ['fn', 'f', '<', "'a", '>', '(', '-', '>', 'char', '{', 'g']);
  assert.equal(t[4].k, 'p');
  assert.equal(t[3].k, 'life');
  assert.deepEqual(t[9].kids!.map((x) => x.s), ['let', 'r', '=', 'r#"a"b"#', ';', "'x'"]);
  assert.equal(t[10].line, 2);
  assert.equal(lexTrees('a ( b ]', 1, 0), undefined);
});

test('plain fragments, then the first arm that matches', () => {
  const arms = [arm('($n:ident, $v:literal)', 'const $n: u8 = $v;'), arm('($n:ident)', 'const $n: u8 = 0;')];
  assert.equal(squash(expandMacro(arms, 'A, 3', 1)?.text), squash('const A: u8 = 3;'));
  assert.equal(squash(expandMacro(arms, 'B', 1)?.text), squash('const B: u8 = 0;'));
  assert.equal(expandMacro(arms, '1, 2, 3', 1), undefined, 'no arm matches');
});

test('types with generics, expressions up to the separator, repetitions with separators, $crate', () => {
  const arms = [arm('($t:ty => $($f:ident = $e:expr),* $(,)?)', 'impl X for $t { $(fn $f() -> u8 { $e })* } use $crate::y;')];
  const out = expandMacro(arms, 'Vec<(u8, u16)> => a = 1 + 2, b = f(3, 4),', 1);
  assert.equal(squash(out?.text), squash('impl X for Vec<(u8, u16)> { fn a() -> u8 { 1 + 2 } fn b() -> u8 { f(3, 4) } } use crate::y;'));
});

test('optional groups expand only when matched; nested repetitions', () => {
  const arms = [arm('($n:ident $(, extra: $x:ident)? [$($a:ident($($b:literal)*))*])', '$(const $x: u8 = 1;)? $(fn $a() { $(g($b);)* })*')];
  assert.equal(squash(expandMacro(arms, 'N, extra: E [p(1 2) q()]', 1)?.text), squash('const E: u8 = 1; fn p() { g(1); g(2); } fn q() { }'));
  assert.equal(squash(expandMacro(arms, 'N [p(1)]', 1)?.text), squash('fn p() { g(1); }'));
});

test('lines: the body\'s own lines, an identifier put into a body line stays there, items handed on by $($t:tt)* keep the invocation\'s lines', () => {
  const body = `
    #[pymethods]
    impl $typ {
        fn len(&self) -> u32 { 0 }
        $($extra)*
    }`;
  // The body starts on line 20 (the newline after the delimiter); the invocation's arguments on line 40.
  const out = expandMacro([arm('($typ:ident { $($extra:tt)* })', body, 20)], 'Elem {\n    fn tag(&self) -> u32 {\n        1\n    }\n}', 40)!;
  const lineOf = (word: string): number => {
    const l = out.text.split('\n').findIndex((x) => x.includes(word));
    return out.lines[l].line;
  };
  assert.equal(lineOf('impl Elem'), 22, 'impl $typ: the body line');
  assert.equal(lineOf('fn len'), 23);
  assert.equal(lineOf('fn tag'), 41, 'the invocation line');
  assert.equal(out.lines[out.text.split('\n').findIndex((x) => x.includes('fn tag'))].from, 1);
});

test('PyO3 methods written by a macro with repetitions, in the index (pycrdt\'s impl_xml_methods!)', () => {
  const lib = `use pyo3::prelude::*;

macro_rules! impl_common {
    ($typ:ident[$inner:ident $(, frag: $f:ident)?] { $($extra:tt)* }) => {
        #[pymethods]
        impl $typ {
            fn len(&self) -> u32 { self.$inner }
            $(
                fn children(&self) -> u32 { self.$f }
            )?
            $($extra)*
        }
    };
}

#[pyclass]
pub struct Elem { inner: u32 }
#[pyclass]
pub struct Text { inner: u32 }

impl_common!(Elem[inner, frag: inner] {
    fn tag(&self) -> u32 { 1 }
});
impl_common!(Text[inner] {});

#[pymodule]
fn m(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Elem>()?;
    m.add_class::<Text>()
}
`;
  const out = linkRustCrate({ root: '/r', cargoToml: '[package]\nname = "m"\n', files: new Map([['/r/src/lib.rs', extractRust(lib)]]) });
  const at = (name: string): string => {
    const b = out.bindings.filter((x) => x.name === name).sort((x, y) => (x.target.rank ?? 0) - (y.target.rank ?? 0))[0];
    return b ? `${b.target.symbol}:${b.target.line}` : 'nothing';
  };
  assert.equal(at('m.Elem.len'), 'len:7');
  assert.equal(at('m.Elem.children'), 'children:9', 'the optional group, matched');
  assert.equal(at('m.Elem.tag'), 'tag:22', 'handed on by $($extra)*: the invocation line');
  assert.equal(at('m.Text.len'), 'len:7');
  assert.equal(at('m.Text.children'), 'nothing', 'the optional group, not matched');
});
