/**
 * C extension modules named bare in their PyModuleDef (`"_speedups"`) get the import path their
 * setup.py or their package directory gives (`simplejson._speedups`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Binding } from '../../src/core/model';
import { cModuleAliases, demoteAlternateCBuilds, setupExtensionNames } from '../../src/index/cPackages';

const mod = (name: string, file: string): Binding => ({ name, target: { language: 'c', kind: 'module', file, line: 1, symbol: name, style: 'c-api' } });

test('setup.py Extension names', () => {
  const setup = `from setuptools import Extension, setup
ext = [
    Extension("simplejson._speedups", ["simplejson/_speedups.c"]),
    Extension(name='PIL._imaging', sources=files),
    Extension("flat", ["flat.c"]),
]
`;
  assert.deepEqual(setupExtensionNames(setup), [{ name: 'simplejson._speedups', line: 3 }, { name: 'PIL._imaging', line: 4 }, { name: 'flat', line: 5 }]);
  // every extension under setup(ext_package=...) (xxhash's `Extension("_xxhash", ...)`)
  const underPackage = `setup(\n    name="xxhash",\n    ext_package="xxhash",\n    ext_modules=[Extension("_xxhash", sources)],\n)\n`;
  assert.deepEqual(setupExtensionNames(underPackage), [{ name: 'xxhash._xxhash', line: 4 }]);
});

test('import paths from setup.py first, then from the package directory', () => {
  const setups = new Map([['/p/setup.py', 'Extension("PIL._imaging", files)\nExtension("regex._regex", ["regex_3/_regex.c"])\n']]);
  const packages = new Map([['/p/bitarray', 'bitarray'], ['/q/pkg/sub', 'pkg.sub']]);
  const aliases = cModuleAliases([
    mod('_imaging', '/p/src/_imaging.c'),
    mod('_regex', '/p/regex_3/_regex.c'),
    mod('_bitarray', '/p/bitarray/_bitarray.c'),
    mod('_native', '/q/pkg/sub/native.c'),
    mod('_alone', '/q/tools/alone.c'),
    mod('already.dotted', '/q/pkg/sub/d.c'),
  ], setups, (d) => packages.get(d) ?? '');
  assert.deepEqual(aliases.map((a) => `${a.from} -> ${a.to} (${a.file}:${a.line})`), [
    'PIL._imaging -> _imaging (/p/setup.py:1)',
    'regex._regex -> _regex (/p/setup.py:2)',
    'bitarray._bitarray -> _bitarray (/p/bitarray/_bitarray.c:1)',
    'pkg.sub._native -> _native (/q/pkg/sub/native.c:1)',
  ]);
});

test('a C module with a setup.py of its own inside a project maturin builds (blake3\'s c_impl/) ranks after the Rust one', () => {
  const manifests = new Map([
    ['/b/pyproject.toml', '[build-system]\nrequires = ["maturin"]\nbuild-backend = "maturin"\n'],
    ['/b/c_impl/setup.py', 'Extension("blake3", ["blake3module.c"])\n'],
  ]);
  const alt = mod('blake3', '/b/c_impl/blake3module.c');
  const own = mod('other', '/b/src/other.c');
  assert.equal(demoteAlternateCBuilds([alt, own], manifests), 1);
  assert.equal(alt.target.rank, 3);
  assert.equal(own.target.rank, undefined);
  // A setuptools project (no maturin) keeps its C modules first.
  const plain = mod('x', '/q/sub/x.c');
  assert.equal(demoteAlternateCBuilds([plain], new Map([['/q/pyproject.toml', '[build-system]\nbuild-backend = "setuptools.build_meta"\n'], ['/q/sub/setup.py', '']])), 0);
});
