/**
 * Rust extractor + linker: every `@py` / `@py-alt` tag of the Rust fixture crates, focused
 * cases for PyO3's naming rules, and the real pydantic-core sdist (skipped when not cached).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Binding, LinkOutput } from '../../src/core/model';
import { extractRust, rustNeedsParse, RUST_EXTRACTOR_VERSION, type RustFileFacts } from '../../src/core/rust/extract';
import { linkRustCrate, tomlString, pyo3StubNew } from '../../src/core/rust/link';
import { parse, queryFor } from '../../src/parse/parsers';
import itemsScm from '../../queries/rust/items.scm';
import callsScm from '../../queries/rust/calls.scm';
import ffiScm from '../../queries/rust/ffi.scm';
import { tagsUnder } from '../helpers/tags';

const FIXTURES = resolve(__dirname, '../../../test/fixtures');

function loadCrate(root: string): LinkOutput {
  const files = new Map<string, RustFileFacts>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) {
        if (e !== 'target') walk(p);
      } else if (p.endsWith('.rs')) {
        const text = readFileSync(p, 'utf8');
        if (rustNeedsParse(text)) files.set(p, JSON.parse(JSON.stringify(extractRust(text))) as RustFileFacts);
      }
    }
  };
  walk(root); // (as the indexer: every .rs under the crate's directory)
  const py = join(root, 'pyproject.toml');
  return linkRustCrate({
    root,
    cargoToml: readFileSync(join(root, 'Cargo.toml'), 'utf8'),
    pyprojectToml: existsSync(py) ? readFileSync(py, 'utf8') : undefined,
    files,
  });
}

/** Targets of `name`, best first (stable for equal ranks). */
function targetsOf(out: LinkOutput, name: string): Binding[] {
  return out.bindings
    .filter((b) => b.name === name)
    .map((b, i) => ({ b, i }))
    .sort((x, y) => (x.b.target.rank ?? 0) - (y.b.target.rank ?? 0) || x.i - y.i)
    .map((x) => x.b);
}

function checkTags(dir: string, out: LinkOutput): number {
  // Tags naming a Python re-export (`sample.leaf`) are the whole pipeline's to check
  // (test/integration/fixtures-index.test.ts); here, only names inside the crate's own modules.
  const mods = out.bindings.filter((b) => b.target.kind === 'module').map((b) => b.name);
  const tags = tagsUnder(dir).filter((t) => mods.some((m) => t.name === m || t.name.startsWith(`${m}.`)));
  assert.ok(tags.length > 0, `no tags under ${dir}`);
  for (const tag of tags) {
    const ts = targetsOf(out, tag.name);
    const where = `${tag.name} @ ${tag.file}:${tag.line}`;
    assert.ok(ts.length > 0, `no binding for ${where}`);
    if (tag.best) {
      assert.equal(`${ts[0].target.file}:${ts[0].target.line}`, `${tag.file}:${tag.line}`, `best target of ${where}`);
    } else {
      assert.ok(ts.some((b) => b.target.file === tag.file && b.target.line === tag.line), `alt target of ${where}`);
    }
  }
  return tags.length;
}

const CRATES: [string, string][] = [
  ['pyo3-classic', 'rust/pyo3-classic'],
  ['pyo3-declarative', 'rust/pyo3-declarative'],
  ['pyo3-rootlib (crate root beside Cargo.toml)', 'rust/pyo3-rootlib'],
  ['raw-ffi', 'rust/raw-ffi'],
  ['cpython-api _base64', 'rust/cpython-api/Modules/_base64'],
  ['sample engine', 'sample/engine'],
  ['sample _b64', 'sample/Modules/_b64'],
];

for (const [label, rel] of CRATES) {
  test(`rust fixture tags: ${label}`, () => {
    const dir = join(FIXTURES, rel);
    const out = loadCrate(dir);
    assert.ok(checkTags(dir, out) >= 5);
    for (const b of out.bindings) {
      assert.equal(b.target.language, 'rust');
      assert.ok(b.target.evidence && b.target.evidence.length < 80, `evidence of ${b.name}`);
    }
  });
}

test('rust queries compile against tree-sitter-rust', () => {
  const src = 'fn f(m: &M) { m.add_class::<T>(); let x = g(m); }\nstatic S: [PyMethodDef; 1] = [PyMethodDef { ml_name: c"f" }];\n';
  const root = parse('rust', src).rootNode;
  for (const [k, scm] of [['items', itemsScm], ['calls', callsScm], ['ffi', ffiScm]] as const) {
    assert.ok(queryFor('rust', k, scm).matches(root).length > 0, k);
  }
});

test('styles, kinds and names that must not exist', () => {
  const classic = loadCrate(join(FIXTURES, 'rust/pyo3-classic'));
  const names = new Set(classic.bindings.map((b) => b.name));
  assert.ok(!names.has('classic.orphan'), 'an unregistered #[pyfunction] is not bound');
  assert.ok(!names.has('classic.Point.get_label'), 'PyO3 strips get_ from getters');
  assert.ok(!names.has('classic.multiply'), '#[pyo3(name)] renames');
  assert.ok(!names.has('classic.geometry_module'), 'a module is named by #[pyo3(name)]');
  const kinds = (n: string): string[] => targetsOf(classic, n).map((b) => b.target.kind);
  assert.deepEqual(kinds('classic.Point.label'), ['getter', 'setter']);
  assert.deepEqual(kinds('classic.Point.__new__'), ['constructor']);
  assert.deepEqual(kinds('classic.Point.origin'), ['staticmethod']);
  assert.deepEqual(kinds('classic.Point.from_tuple'), ['classmethod']);
  assert.deepEqual(kinds('classic.Point.UNIT'), ['classattr']);
  assert.deepEqual(kinds('classic.Point.x'), ['member']);
  assert.deepEqual(kinds('classic.Point.__repr__'), ['slot']);
  assert.deepEqual(kinds('classic.child'), ['module']);
  assert.ok(classic.bindings.every((b) => b.target.style === 'pyo3'));
  assert.equal(targetsOf(classic, 'classic.mul')[0].target.symbol, 'multiply');

  const api = loadCrate(join(FIXTURES, 'rust/cpython-api/Modules/_base64'));
  const apiNames = new Set(api.bindings.map((b) => b.name));
  assert.ok(!apiNames.has('_base64.hidden'), 'only export_module! methods are exported');
  assert.ok(!apiNames.has('_base64.Encoder.helper'), 'unattributed fns of #[pymethods] are not exported');
  assert.ok(!apiNames.has('_base64.Encoder.size'), 'cpython-api keeps get_ on getters');
  assert.ok(api.bindings.every((b) => b.target.style === 'cpython-api'));
  assert.equal(targetsOf(api, '_base64.Error')[0].target.kind, 'exception');
  assert.equal(targetsOf(api, '_base64')[0].target.evidence, 'export_module! `_base64`');

  const raw = loadCrate(join(FIXTURES, 'rust/raw-ffi'));
  assert.ok(raw.bindings.every((b) => b.target.style === 'rust-c-api'));
  assert.equal(targetsOf(raw, '_rawb64.standard_b64encode')[0].target.evidence, 'PyMethodDef `RAWB64_METHODS`');
});

test('focused: PyO3 naming rules on an inline crate', () => {
  const lib = `use pyo3::prelude::*;
mod inner {
    use pyo3::prelude::*;
    #[pyclass(name = "Renamed", module = "elsewhere.mod")]
    pub struct Raw { #[pyo3(get, set, name = "val")] v: i32 }
    #[pymethods]
    impl Raw {
        #[getter(r#type)] fn kind(&self) -> i32 { 0 }
        #[setter] fn set_v(&mut self, v: i32) { self.v = v }
        #[getter] fn get_(&self) -> i32 { 1 }
        fn __add__(&self, o: i32) -> i32 { o }
    }
    #[pyclass(get_all)]
    pub struct All { a: i32, b: i32 }
    #[pyclass]
    pub enum Colour { Red, #[pyo3(name = "GREEN")] Green }
}
pub use inner::*;
create_exception!(mymod, MyError, pyo3::exceptions::PyException);
#[pymodule(name = "mymod")]
fn module_fn(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Raw>()?;
    m.add_class::<inner::All>()?;
    m.add_class::<Colour>()?;
    Ok(())
}
`;
  const out = linkRustCrate({
    root: '/x',
    cargoToml: '[package]\nname = "my-mod"\n[lib]\nname = "mymod"\n',
    files: new Map([['/x/src/lib.rs', extractRust(lib)]]),
  });
  const names = out.bindings.map((b) => b.name);
  for (const n of ['mymod', 'mymod.Renamed', 'mymod.Renamed.val', 'mymod.Renamed.type', 'mymod.Renamed.v',
    'mymod.Renamed.get_', 'mymod.Renamed.__add__', 'elsewhere.mod.Renamed', 'mymod.All.a', 'mymod.All.b',
    'mymod.Colour.Red', 'mymod.Colour.GREEN', 'mymod.MyError']) {
    assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
  }
  assert.equal(targetsOf(out, 'mymod.Renamed.v')[0].target.kind, 'setter');
  assert.equal(targetsOf(out, 'elsewhere.mod.Renamed')[0].target.rank, 1);
  assert.ok(!names.includes('mymod.Raw') && !names.includes('module_fn'));
});

test('extractor: needs-parse scan, version, JSON-serialisable facts', () => {
  assert.equal(rustNeedsParse('fn main() { println!("hi"); }'), false);
  assert.equal(rustNeedsParse('#[pyfunction]\nfn f() {}'), true);
  assert.equal(rustNeedsParse('mod shapes;\n'), true);
  assert.equal(rustNeedsParse('static T: [PyMethodDef; 1] = [];'), true);
  assert.equal(typeof RUST_EXTRACTOR_VERSION, 'number');
  const facts = extractRust(readFileSync(join(FIXTURES, 'rust/raw-ffi/src/lib.rs'), 'utf8'));
  assert.deepEqual(JSON.parse(JSON.stringify(facts)), facts);
  assert.deepEqual(facts.methodDefs.map((m) => m.name), ['standard_b64encode', 'encoded_length', 'version']);
  assert.deepEqual(facts.moduleDefs.map((m) => m.name), ['_rawb64']);
});

test('tiny TOML reader', () => {
  const t = '[package]\nname = "a-b" # c\n\n[lib]\nname = \'ab\'\n[tool.maturin]\n"module-name" = "pkg.ab"\n';
  assert.equal(tomlString(t, 'package', 'name'), 'a-b');
  assert.equal(tomlString(t, 'lib', 'name'), 'ab');
  assert.equal(tomlString(t, 'tool.maturin', 'module-name'), 'pkg.ab');
  assert.equal(tomlString(t, 'lib', 'path'), undefined);
});

const PYDANTIC = join(homedir(), '.cache/seam/pydantic-core');

test('real source: pydantic-core 2.27.2', { skip: existsSync(join(PYDANTIC, 'src/lib.rs')) ? false : 'run scripts/fetch-sources.sh' }, () => {
  const out = loadCrate(PYDANTIC);
  const M = 'pydantic_core._pydantic_core';
  // [Python name, text its best target's line must contain]
  const expected: [string, string][] = [
    [M, 'fn _pydantic_core'],
    [`${M}.to_json`, 'fn to_json'],
    [`${M}.from_json`, 'fn from_json'],
    [`${M}.to_jsonable_python`, 'fn to_jsonable_python'],
    [`${M}.list_all_errors`, 'fn list_all_errors'],
    [`${M}.validate_core_schema`, 'fn validate_core_schema'],
    [`${M}.__version__`, '"__version__"'],
    [`${M}.PydanticUndefined`, '"PydanticUndefined"'],
    [`${M}.SchemaValidator`, 'struct SchemaValidator'],
    [`${M}.SchemaValidator.__new__`, 'fn py_new'],
    [`${M}.SchemaValidator.validate_python`, 'fn validate_python'],
    [`${M}.SchemaValidator.validate_json`, 'fn validate_json'],
    [`${M}.SchemaValidator.validate_strings`, 'fn validate_strings'],
    [`${M}.SchemaValidator.validate_assignment`, 'fn validate_assignment'],
    [`${M}.SchemaValidator.isinstance_python`, 'fn isinstance_python'],
    [`${M}.SchemaValidator.get_default_value`, 'fn get_default_value'],
    [`${M}.SchemaValidator.__reduce__`, 'fn __reduce__'],
    [`${M}.SchemaValidator.title`, 'title'],
    [`${M}.SchemaSerializer`, 'struct SchemaSerializer'],
    [`${M}.SchemaSerializer.to_python`, 'fn to_python'],
    [`${M}.SchemaSerializer.to_json`, 'fn to_json'],
    [`${M}.ValidationError`, 'struct ValidationError'],
    [`${M}.ValidationError.from_exception_data`, 'fn from_exception_data'],
    [`${M}.ValidationError.error_count`, 'fn error_count'],
    [`${M}.ValidationError.errors`, 'fn errors'],
    [`${M}.ValidationError.json`, 'fn json'],
    [`${M}.ValidationError.title`, 'fn title'],
    [`${M}.ValidationError.__str__`, 'fn __str__'],
    [`${M}.PydanticUndefinedType`, 'struct PydanticUndefinedType'],
    [`${M}.PydanticUndefinedType.new`, 'fn new'],
    [`${M}.PydanticUndefinedType.__copy__`, 'fn __copy__'],
    [`${M}.Url`, 'struct PyUrl'],
    [`${M}.Url.scheme`, 'fn scheme'],
    [`${M}.Url.build`, 'fn build'],
    [`${M}.MultiHostUrl.hosts`, 'fn hosts'],
    [`${M}.Some`, 'struct PySome'],
    [`${M}.ArgsKwargs.args`, 'args'],
    [`${M}.PydanticCustomError.type`, 'fn error_type'],
    [`${M}.PydanticKnownError.message_template`, 'fn message_template'],
    [`${M}.SchemaError.errors`, 'fn errors'],
    [`${M}.TzInfo.utcoffset`, 'fn utcoffset'],
    [`${M}.PydanticSerializationError`, 'struct PydanticSerializationError'],
  ];
  assert.ok(expected.length >= 30);
  const lines = new Map<string, string[]>();
  for (const [name, needle] of expected) {
    const ts = targetsOf(out, name);
    assert.ok(ts.length > 0, `no binding for ${name}`);
    const { file, line } = ts[0].target;
    if (!lines.has(file)) lines.set(file, readFileSync(file, 'utf8').split('\n'));
    const text = lines.get(file)![line - 1] ?? '';
    assert.ok(text.includes(needle), `${name} -> ${file}:${line} "${text.trim()}" lacks "${needle}"`);
  }
  assert.ok(out.bindings.every((b) => b.target.style === 'pyo3'));
});

test('modules that glob-import one another and ask for names no module has: linked at once, not once per path (rustworkx hung)', { timeout: 20_000 }, () => {
  // lib.rs globs every submodule (`use m0::*; ...`); each submodule imports names back from the
  // root that nothing defines and globs its siblings. Walked once per path, the lookups of the
  // missing names take exponential time; remembered, milliseconds.
  const n = 14;
  const files = new Map<string, ReturnType<typeof extractRust>>();
  const mods = Array.from({ length: n }, (_, i) => `m${i}`);
  files.set('/g/src/lib.rs', extractRust(`use pyo3::prelude::*;
${mods.map((m) => `mod ${m};\nuse ${m}::*;`).join('\n')}
#[pymodule]
fn globs(m: &Bound<'_, PyModule>) -> PyResult<()> {
${mods.map((m) => `    m.add_function(wrap_pyfunction!(f_${m}, m)?)?;`).join('\n')}
    m.add_function(wrap_pyfunction!(nowhere, m)?)?;
    Ok(())
}
`));
  for (const [i, m] of mods.entries()) {
    const siblings = mods.filter((x) => x !== m).map((x) => `use super::${x}::*;`).join('\n');
    files.set(`/g/src/${m}.rs`, extractRust(`use pyo3::prelude::*;
use super::{missing_${i}, also_missing, weight};
${siblings}
#[pyfunction]
pub fn f_${m}() -> usize { ${i} }
`));
  }
  const out = linkRustCrate({ root: '/g', cargoToml: '[package]\nname = "globs"\n', files });
  const names = new Set(out.bindings.map((b) => b.name));
  for (const m of mods) assert.ok(names.has(`globs.f_${m}`), `globs.f_${m}`);
  assert.ok(!names.has('globs.nowhere'));
});

test('maturin without a module-name: the module is also reachable as pkg.pkg (its place inside a package of that name); other builds of the crate name it too', () => {
  const out = linkRustCrate({
    root: '/m',
    cargoToml: '[package]\nname = "foo"\n[lib]\nname = "foo"\n',
    pyprojectToml: '[build-system]\nbuild-backend = "maturin"\n[tool.maturin]\npython-source = "python"\n',
    alsoNames: ['foo_pure.foo', 'unrelated.bar'],
    files: new Map([['/m/src/lib.rs', extractRust('use pyo3::prelude::*;\n#[pyfunction]\nfn f() {}\n#[pymodule]\nfn foo(m: &Bound<\'_, PyModule>) -> PyResult<()> {\n    m.add_function(wrap_pyfunction!(f, m)?)\n}\n')]]),
  });
  assert.ok(out.bindings.some((b) => b.name === 'foo.f'));
  const aliases = out.aliases.map((a) => `${a.from}->${a.to}`);
  assert.deepEqual(aliases.sort(), ['foo.foo->foo', 'foo_pure.foo->foo']);
});

test('dunders PyO3 derives without a fn of that name: __ne__ from __eq__, the buffer protocol, a simple enum\'s __repr__ and eq_int\'s __int__', () => {
  const lib = `use pyo3::prelude::*;
#[pyclass]
struct Buf { v: Vec<u8> }
#[pymethods]
impl Buf {
    fn __eq__(&self, other: &Self) -> bool { self.v == other.v }
    unsafe fn __getbuffer__(slf: PyRefMut<'_, Self>, view: *mut ffi::Py_buffer, flags: c_int) -> PyResult<()> { Ok(()) }
    unsafe fn __releasebuffer__(&self, view: *mut ffi::Py_buffer) {}
    fn __add__(&self, other: &Self) -> Self { Buf { v: vec![] } }
    fn __setitem__(&mut self, i: usize, v: u8) {}
}
#[pyclass(eq, eq_int)]
#[derive(PartialEq)]
enum Level { Low, High }
#[pymodule]
fn derived(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Buf>()?;
    m.add_class::<Level>()?;
    m.add_class::<Plain>()?;
    m.add_class::<Rich>()?;
    m.add_class::<Shape>()
}
#[pyclass]
enum Plain { A, B }
#[pyclass]
enum Rich { A(u8), B }
#[pyclass]
enum Shape {
    Circle { radius: f64 },
    Pair(u8, u8),
}
`;
  const out = linkRustCrate({ root: '/d', cargoToml: '[package]\nname = "derived"\n', files: new Map([['/d/src/lib.rs', extractRust(lib)]]) });
  const at = (name: string): string => { const t = targetsOf(out, name)[0]?.target; return t ? `${t.symbol}:${t.line}` : 'nothing'; };
  assert.equal(at('derived.Buf.__ne__'), '__eq__:6');
  assert.equal(at('derived.Buf.__buffer__'), '__getbuffer__:7');
  assert.equal(at('derived.Buf.__release_buffer__'), '__releasebuffer__:8');
  assert.equal(at('derived.Level.__repr__'), 'Level:14');
  assert.equal(at('derived.Level.__int__'), 'Level:14');
  assert.equal(at('derived.Level.__lt__'), 'Level:14', 'no ordering without `ord`: PyO3 fills `<` with NotImplemented');
  assert.equal(at('derived.Buf.__ge__'), '__eq__:6', 'one comparison written: the others are NotImplemented');
  assert.equal(at('derived.Plain.__lt__'), 'nothing', 'no comparison at all: no richcompare slot');
  assert.equal(at('derived.Plain.__int__'), 'Plain:24', 'a simple enum has __int__ without eq_int');
  assert.equal(at('derived.Rich.__int__'), 'nothing', 'an enum whose variants carry data has none');
  assert.equal(at('derived.Rich.__repr__'), 'nothing');
  assert.equal(at('derived.Buf.__radd__'), '__add__:9', 'one half of nb_add written: Python lists both');
  assert.equal(at('derived.Buf.__delitem__'), '__setitem__:10', '__delitem__ shares mp_ass_subscript');
  assert.equal(at('derived.Buf.__hash__'), '__eq__:6', '__eq__ without __hash__: unhashable');
  assert.equal(at('derived.Level.__hash__'), 'Level:14', 'the eq option without hash: unhashable');
  assert.equal(at('derived.Plain.__hash__'), 'nothing', 'no comparison: hashable by identity');
  assert.equal(at('derived.Shape.Circle.radius'), 'radius:29', 'a struct variant\'s field: its getter');
  assert.equal(at('derived.Shape.Circle.__new__'), 'Circle:29');
  assert.equal(at('derived.Shape.Circle.__match_args__'), 'Circle:29');
  assert.equal(at('derived.Shape.Pair._1'), '_1:30', 'a tuple variant\'s fields are _0, _1');
});

test('an exception made by create_exception! and added with m.add: its definition first, the add second', () => {
  const lib = `use pyo3::prelude::*;
create_exception!(errs, Boom, pyo3::exceptions::PyValueError);
#[pymodule]
fn errs(py: Python<'_>, m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("Boom", py.get_type::<Boom>())?;
    Ok(())
}
`;
  const out = linkRustCrate({ root: '/e', cargoToml: '[package]\nname = "errs"\n', files: new Map([['/e/src/lib.rs', extractRust(lib)]]) });
  assert.deepEqual(targetsOf(out, 'errs.Boom').map((b) => `${b.target.kind}:${b.target.line}`), ['exception:2', 'constant:5']);
});

test('a submodule made by a helper that takes its name and its init fn as arguments (pyxirr\'s add_submodule), with `let ref`', () => {
  const lib = `use pyo3::prelude::*;
mod pe {
    use pyo3::prelude::*;
    pub fn module(_py: Python, m: &Bound<PyModule>) -> PyResult<()> {
        m.add_function(wrap_pyfunction!(dpi, m)?)?;
        Ok(())
    }
    #[pyfunction]
    fn dpi() -> f64 { 0.0 }
}
fn add_submodule<F>(py: Python, parent: &Bound<PyModule>, name: &str, mod_init: F) -> PyResult<()>
where
    F: Fn(Python, &Bound<PyModule>) -> PyResult<()>,
{
    let ref child = PyModule::new(py, name)?;
    mod_init(py, child)?;
    parent.add(name.split('.').last().unwrap(), child)?;
    py.import("sys")?.getattr("modules")?.set_item(name, child)?;
    Ok(())
}
fn unused_helper(py: Python, parent: &Bound<PyModule>, name: &str) -> PyResult<()> {
    let child = PyModule::new(py, name)?;
    Ok(())
}
#[pymodule]
#[pyo3(name = "_m")]
fn m(py: Python, m: &Bound<PyModule>) -> PyResult<()> {
    add_submodule(py, m, "pkg.pe", pe::module)?;
    unused_helper(py, m, "pkg.never")
}
`;
  const out = linkRustCrate({ root: '/h', cargoToml: '[package]\nname = "h"\n', pyprojectToml: '[build-system]\nbuild-backend = "maturin"\n[tool.maturin]\nmodule-name = "pkg._m"\n', files: new Map([['/h/src/lib.rs', extractRust(lib)]]) });
  const at = (name: string): string => { const t = targetsOf(out, name)[0]?.target; return t ? `${t.symbol}:${t.line}` : 'nothing'; };
  assert.equal(at('pkg._m.pe'), 'add_submodule:15', 'the module: its PyModule::new in the helper');
  assert.equal(at('pkg._m.pe.dpi'), 'dpi:9');
  assert.equal(at('pkg._m.never'), 'nothing', 'a module made but never added is not bound');
  assert.ok(out.aliases.some((a) => a.from === 'pkg.pe' && a.to === 'pkg._m.pe'), 'its __name__ (put in sys.modules) leads to it');
});

test('a #[pyclass] without #[new] has PyO3\'s raising __new__ before 0.26, or on builds for Python < 3.10', () => {
  assert.equal(pyo3StubNew('[dependencies]\npyo3 = "0.25"\n'), true);
  assert.equal(pyo3StubNew('[dependencies.pyo3]\nversion = "0.19.2"\nfeatures = ["extension-module"]\n'), true);
  assert.equal(pyo3StubNew('[dependencies]\npyo3 = { version = "0.26", features = ["extension-module"] }\n'), false);
  assert.equal(pyo3StubNew('[dependencies]\npyo3 = { version = "0.30", features = ["abi3-py39"] }\n'), true);
  assert.equal(pyo3StubNew('[dependencies]\npyo3 = { workspace = true }\n'), undefined);
  const lib = `use pyo3::prelude::*;
#[pyclass]
struct Txn { n: u8 }
#[pyclass]
struct Made { n: u8 }
#[pymethods]
impl Made {
    #[new]
    fn new() -> Self { Made { n: 0 } }
}
#[pymodule]
fn m(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Txn>()?;
    m.add_class::<Made>()
}
`;
  const at = (toml: string, name: string): string => {
    const out = linkRustCrate({ root: '/n', cargoToml: `[package]\nname = "m"\n[dependencies]\n${toml}\n`, files: new Map([['/n/src/lib.rs', extractRust(lib)]]) });
    const t = targetsOf(out, name)[0]?.target;
    return t ? `${t.symbol}:${t.line}` : 'nothing';
  };
  assert.equal(at('pyo3 = "0.25"', 'm.Txn.__new__'), 'Txn:3');
  assert.equal(at('pyo3 = "0.27"', 'm.Txn.__new__'), 'nothing', 'Py_TPFLAGS_DISALLOW_INSTANTIATION: no __new__');
  assert.equal(at('pyo3 = "0.25"', 'm.Made.__new__'), 'new:9', 'its own #[new]');
});
