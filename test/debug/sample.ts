/**
 * Builds the sample workspace's native modules (test/fixtures/sample) for one interpreter, with
 * debug info, so the debugger has something to stop in: the e2e suite's debug test, `npm run demo`
 * and `seam stack` on the sample all run `sample/stack_demo.py` against this build.
 *
 *   sample._speedups   csrc/_speedups.c    gcc -g -O0 against the interpreter's headers
 *   sample._engine     engine/ (PyO3)      cargo build --locked (dev profile, full DWARF), abi3-py310
 *
 * Outputs live outside the repo, under `$SEAM_CACHE/sample-build` (default ~/.cache/seam/...):
 *
 *   sample-build/<python version>-<checkout>-<hash>/sample/   __init__.py (overlay),
 *                           _engine.abi3.so, _speedups<EXT_SUFFIX>; manifest.json beside it
 *   sample-build/cargo-target-<checkout>/      CARGO_TARGET_DIR (PyO3 built once per checkout)
 *
 * The overlay: the build directory comes first on PYTHONPATH, so `import sample` finds its
 * generated `sample/__init__.py`, which appends the repo's `sample/` to the package's `__path__`
 * and runs the repo's `__init__.py` under its own file name. `sample._engine` and
 * `sample._speedups` then resolve here, `sample.app` and friends in the repo, and every frame
 * (Python code objects, C and Rust DWARF) names the repo's files.
 *
 * The directory name carries a hash of the sources, the recipe and the interpreter; it appears by
 * rename once complete, so a half-built one is never used and a second call is a lookup.
 */
import { checkoutFixtures, seamCache, publish, pythonInfo, crateFiles, hashOf, tool, run } from './fixtures';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

export interface SamplePaths {
  /** The interpreter the modules were built for (real binary, symlinks resolved). */
  python: string;
  version: string;
  /** PYTHONPATH: the build's overlay first, then the sample workspace (test/fixtures/sample). */
  pythonPath: string;
  /** test/fixtures/sample (the workspace folder). */
  workspace: string;
  /** The debugger subject: test/fixtures/sample/sample/stack_demo.py. */
  script: string;
  /** The built modules. */
  engine: string;
  speedups: string;
  /** What GDB breaks on for the Rust `leaf` (`sample._engine.leaf`). */
  leafFunction: string;
  cached: boolean;
  buildMs: number;
}

export class SampleBuildError extends Error {
  constructor(message: string, readonly output = '') {
    super(output ? `${message}\n${output.trimEnd().split('\n').slice(-40).join('\n')}` : message);
    this.name = 'SampleBuildError';
  }
}

/** Bump when the way the sample is built changes: every cache key changes. */
const RECIPE = 'seam-sample-build/1 gcc:-g -O0 -fPIC -shared; cargo:dev --locked abi3; overlay __init__';
const GCC_FLAGS = ['-g', '-O0', '-fPIC', '-shared', '-Wall', '-Wno-unused-parameter'];
/** The Rust crate's library is `_engine`, so GDB knows `leaf` as `_engine::leaf`. */
export const LEAF_FUNCTION = '_engine::leaf';

/** test/fixtures/sample in this checkout. */
export function sampleRoot(): string {
  return checkoutFixtures('sample', join('csrc', '_speedups.c'));
}

export function sampleCache(): string {
  return seamCache('sample-build');
}

/** The interpreter to build for: pyenv's newest CPython 3.10-3.13 (the real binary). */
export function defaultSamplePython(): string {
  const versions = join(process.env.PYENV_ROOT || join(homedir(), '.pyenv'), 'versions');
  const found: { minor: number; patch: number; bin: string }[] = [];
  if (existsSync(versions)) {
    for (const v of readdirSync(versions)) {
      const m = /^3\.(1[0-3])\.(\d+)$/.exec(v);
      const bin = m && join(versions, v, 'bin', `python3.${m[1]}`);
      if (m && bin && existsSync(bin)) found.push({ minor: Number(m[1]), patch: Number(m[2]), bin: realpathSync(bin) });
    }
  }
  found.sort((a, b) => b.minor - a.minor || b.patch - a.patch);
  if (!found.length) throw new SampleBuildError('no pyenv CPython 3.10-3.13 under ${PYENV_ROOT:-~/.pyenv}/versions: install one with pyenv');
  return found[0].bin;
}

const memo = new Map<string, Promise<SamplePaths>>();

/** Builds (or finds in the cache) the sample's modules for `python`. */
export function buildSample(python: string = defaultSamplePython()): Promise<SamplePaths> {
  let p = memo.get(python);
  if (!p) {
    p = build(python);
    memo.set(python, p);
    p.catch(() => memo.delete(python));
  }
  return p;
}


async function build(python: string): Promise<SamplePaths> {
  const started = Date.now();
  const root = sampleRoot();
  const cache = sampleCache();
  mkdirSync(cache, { recursive: true });
  const info = await pythonInfo(python, 'the sample build');
  const csrc = join(root, 'csrc', '_speedups.c');
  const crate = join(root, 'engine');
  const pkg = join(root, 'sample');
  const key = hashOf([RECIPE, JSON.stringify(info), pkg, readFileSync(csrc, 'latin1'),
    ...crateFiles(crate).map((f) => `${f.slice(crate.length)}\0${readFileSync(f, 'latin1')}`)]);
  // One checkout's builds never replace another's (the prefix names the checkout).
  const prefix = `${info.version}-${hashOf([root]).slice(0, 8)}-`;
  const dir = join(cache, `${prefix}${key}`);
  const speedups = join(dir, 'sample', `_speedups${info.extSuffix}`);
  const engine = join(dir, 'sample', '_engine.abi3.so');
  let cached = true;
  if (!existsSync(dir)) {
    cached = false;
    if (!existsSync(join(info.include, 'Python.h'))) {
      throw new SampleBuildError(`no Python.h in ${info.include}: ${info.executable} was installed without its headers`);
    }
    await publish(cache, dir, prefix, async (tmp) => {
      const out = join(tmp, 'sample');
      mkdirSync(out);
      await run(tool('gcc'), [...GCC_FLAGS, `-I${info.include}`, csrc, '-o', join(out, `_speedups${info.extSuffix}`)], {
        what: `gcc of sample._speedups (${csrc}) for Python ${info.version}`, cwd: dirname(csrc),
      });
      // Per checkout: cargo would reuse another checkout's build, whose DWARF names its files.
      const target = join(cache, `cargo-target-${hashOf([crate]).slice(0, 8)}`);
      await run(tool('cargo'), ['build', '--locked', '--lib', '--manifest-path', join(crate, 'Cargo.toml')], {
        what: 'cargo build of sample._engine (test/fixtures/sample/engine)',
        cwd: crate,
        env: { CARGO_TARGET_DIR: target, PYO3_PYTHON: info.executable, PYO3_BUILD_EXTENSION_MODULE: '1' },
        timeoutMs: 15 * 60_000,
      });
      copyFileSync(join(target, 'debug', 'lib_engine.so'), join(out, '_engine.abi3.so'));
      writeFileSync(join(out, '__init__.py'), overlayInit(join(pkg, '__init__.py')));
    }, RECIPE);
  }
  return {
    python: info.executable,
    version: info.version,
    pythonPath: [dir, root].join(delimiter),
    workspace: root,
    script: join(pkg, 'stack_demo.py'),
    engine,
    speedups,
    leafFunction: LEAF_FUNCTION,
    cached,
    buildMs: Date.now() - started,
  };
}

/** The overlay package's `__init__.py`: the repo's package directory joins `__path__` and the
 *  repo's `__init__.py` runs under its own name. */
function overlayInit(repoInit: string): string {
  const lit = JSON.stringify(repoInit); // a valid Python string literal for any path
  return [
    '# Generated by Seam test/debug/sample.ts: the built extension modules (this directory) overlaid',
    '# on the sample package in the repo. Rebuilt when the sources change; do not edit.',
    'import os as _os',
    `__file__ = ${lit}`,
    '__path__.append(_os.path.dirname(__file__))',
    'with open(__file__, "rb") as _f:',
    '    exec(compile(_f.read(), __file__, "exec"))',
    'del _os, _f',
    '',
  ].join('\n');
}

