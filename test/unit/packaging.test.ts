/**
 * Which module a crate builds, from the project's packaging: maturin's module-name wherever its
 * manifest-path points (cryptography keeps its crate in src/rust), setuptools-rust's
 * RustExtension in setup.py and its ext-modules tables in pyproject.toml.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packagingOf, rustExtensions, setuptoolsRustTables } from '../../src/index/packaging';

const CARGO = '[package]\nname = "x"\n';

test('maturin: a pyproject.toml whose manifest-path names the crate, however deep', () => {
  const pyproject = '[build-system]\nrequires = ["maturin"]\n\n[tool.maturin]\nmanifest-path = "src/rust/Cargo.toml"  # the crate\nmodule-name = "cryptography.hazmat.bindings._rust"\n';
  const m = new Map([['/p/pyproject.toml', pyproject], ['/p/src/rust/Cargo.toml', CARGO], ['/p/src/rust/cffi/Cargo.toml', CARGO]]);
  assert.deepEqual(packagingOf('/p/src/rust', m), { pyprojectToml: pyproject, moduleName: 'cryptography.hazmat.bindings._rust' });
  assert.deepEqual(packagingOf('/p/src/rust/cffi', m), {}, 'another crate of the workspace is not the one it builds');
});

test('maturin: a pyproject.toml beside the crate, or one level above naming maturin', () => {
  const beside = '[tool.maturin]\nmodule-name = "pkg._native"\n';
  assert.deepEqual(packagingOf('/p', new Map([['/p/pyproject.toml', beside]])), { pyprojectToml: beside });
  const above = '[build-system]\nbuild-backend = "maturin"\n';
  assert.deepEqual(packagingOf('/p/rust', new Map([['/p/pyproject.toml', above]])), { pyprojectToml: above });
  assert.deepEqual(packagingOf('/p/rust', new Map([['/p/pyproject.toml', '[project]\nname = "y"\n']])), {});
});

test('maturin: the crate\'s own pyproject.toml is its main build; another pointing at it builds it again, under another name (cramjam\'s pure-rust/)', () => {
  const main = '[build-system]\nbuild-backend = "maturin"\n\n[tool.maturin]\npython-source = "src"\n';
  const again = '[build-system]\nbuild-backend = "maturin"\n\n[tool.maturin]\nmanifest-path = "../Cargo.toml"\nmodule-name = "x_pure.x"\n';
  const m = new Map([['/p/pyproject.toml', main], ['/p/Cargo.toml', CARGO], ['/p/pure/pyproject.toml', again]]);
  assert.deepEqual(packagingOf('/p', m), { pyprojectToml: main, alsoNames: ['x_pure.x'] });
});

test('setuptools-rust: RustExtension targets and paths in setup.py', () => {
  const setup = `from setuptools import setup
from setuptools_rust import Binding, RustExtension

setup(
    rust_extensions=[
        RustExtension(
            "tiktoken._tiktoken",
            binding=Binding.PyO3,
        ),
        RustExtension(target="pkg.fast", path="native/fast/Cargo.toml", debug=False),
    ],
)
`;
  assert.deepEqual(rustExtensions(setup), [{ target: 'tiktoken._tiktoken' }, { target: 'pkg.fast', path: 'native/fast/Cargo.toml' }]);
  const m = new Map([['/t/setup.py', setup]]);
  assert.deepEqual(packagingOf('/t', m), { moduleName: 'tiktoken._tiktoken' });
  assert.deepEqual(packagingOf('/t/native/fast', m), { moduleName: 'pkg.fast' });
  assert.deepEqual(packagingOf('/t/native', m), {});
});

test('setuptools-rust: [[tool.setuptools-rust.ext-modules]] tables', () => {
  const pyproject = `[project]
name = "hello"

[[tool.setuptools-rust.ext-modules]]
target = "hello._lib"
path = "rust/Cargo.toml"

[[tool.setuptools-rust.ext-modules]]
target = 'hello.other'  # path defaults to ./Cargo.toml

[tool.other]
target = "not.this"
`;
  assert.deepEqual(setuptoolsRustTables(pyproject), [{ target: 'hello._lib', path: 'rust/Cargo.toml' }, { target: 'hello.other' }]);
  assert.equal(packagingOf('/h/rust', new Map([['/h/pyproject.toml', pyproject]])).moduleName, 'hello._lib');
});
