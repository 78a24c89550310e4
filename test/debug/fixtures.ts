/**
 * The debugger tests' native fixtures, built by the tests themselves for each interpreter:
 *
 *   cext     test/fixtures/debug/cext/_mixed.c     gcc -g -O0 against the interpreter's headers
 *   pyo3     test/fixtures/debug/pyo3/ (mixed_rs)  cargo build (dev profile, full DWARF), abi3-py310:
 *                                                  ONE build shared by every CPython 3.10-3.13
 *   rawffi   test/fixtures/debug/rawffi/rawffi.rs  rustc --crate-type cdylib -g, v0 mangling, no crates
 *
 * Outputs live outside the repo, under `$SEAM_CACHE/fixtures` (default ~/.cache/seam/fixtures):
 *
 *   fixtures/<python version>-<checkout>-<hash>/   _mixed<EXT_SUFFIX>, _rawffi<EXT_SUFFIX>, manifest.json
 *   fixtures/pyo3-<checkout>-<hash>/    mixed_rs.abi3.so, manifest.json
 *   fixtures/cargo-target/              CARGO_TARGET_DIR (PyO3 and its dependencies, built once)
 *
 * Each directory's name carries a hash of the sources it was built from, the build recipe and (for
 * the per-version one) the interpreter, so an edited source gives a new directory and a second call
 * is a lookup. A directory appears by rename once complete, so a half-built one is never used and
 * parallel test processes (node --test) cannot see each other's partial output. Compilers are not
 * part of the key: after upgrading gcc or rustc, delete the cache directory.
 *
 * Sources are compiled where they are (the crate with `--locked`), so DWARF names the repo's files:
 * `tagLine()` finds the lines tests break at (`// #LEAF`, `# #LEAF_CALL`).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';

export interface FixturePaths {
  /** The interpreter the modules were built for (real binary, symlinks resolved). */
  python: string;
  /** Its version, e.g. `3.11.7`. */
  version: string;
  /** A PYTHONPATH value that makes `_mixed`, `mixed_rs` and `_rawffi` importable. */
  pythonPath: string;
  /** The built modules. */
  cext: string;
  pyo3: string;
  rawffi: string;
  /** test/fixtures/debug/scenarios: run as `python <scenarios>/<name>.py`. */
  scenarios: string;
  /** The sources the modules were built from (what DWARF points at). */
  sources: { cext: string; pyo3: string; rawffi: string };
  /** True when nothing had to be built; buildMs is the wall time of this call. */
  cached: boolean;
  buildMs: number;
}

/** A fixture could not be built: what failed, and what to do. `output` is the tool's output. */
export class FixtureBuildError extends Error {
  constructor(message: string, readonly output = '') {
    super(output ? `${message}\n${tail(output, 40)}` : message);
    this.name = 'FixtureBuildError';
  }
}

/** Bump when the way the fixtures are built changes (flags, layout): every cache key changes. */
const RECIPE = 'seam-debug-fixtures/2 gcc:-g -O0 -fPIC -shared; cargo:dev --locked; rustc:-g v0 cdylib';

const GCC_FLAGS = ['-g', '-O0', '-fPIC', '-shared', '-Wall', '-Wextra', '-Wno-unused-parameter'];
const RUSTC_FLAGS = ['--edition', '2021', '--crate-type', 'cdylib', '--crate-name', 'rawffi', '-g', '-C', 'symbol-mangling-version=v0'];

/** test/fixtures/<name> in this checkout, found by a file it holds (`marker`, relative to it),
 *  above this file (bundled or not) or the cwd. */
export function checkoutFixtures(name: string, marker: string): string {
  const rel = join('test', 'fixtures', name);
  for (const start of [__dirname, process.cwd()]) {
    for (let d = resolve(start); ; d = dirname(d)) {
      if (existsSync(join(d, rel, marker))) return join(d, rel);
      if (dirname(d) === d) break;
    }
  }
  throw new FixtureBuildError(`cannot find ${join(rel, marker)} above ${__dirname} or ${process.cwd()}: run from the Seam checkout`);
}

/** `$SEAM_CACHE/<name>`, default ~/.cache/seam/<name>: builds live outside the repo. */
export function seamCache(name: string): string {
  return join(process.env.SEAM_CACHE || join(homedir(), '.cache', 'seam'), name);
}

/** test/fixtures/debug in this checkout. */
export function fixtureRoot(): string {
  return checkoutFixtures('debug', join('cext', '_mixed.c'));
}

/** Where built fixtures go: `$SEAM_CACHE/fixtures`, default ~/.cache/seam/fixtures. */
export function fixtureCache(): string {
  return seamCache('fixtures');
}

/**
 * pyenv's CPython 3.10-3.13 interpreters (the real binaries under `$PYENV_ROOT/versions`, never
 * the shims), oldest first. Empty when pyenv or those versions are missing.
 */
export function pythons(): string[] {
  const versions = join(process.env.PYENV_ROOT || join(homedir(), '.pyenv'), 'versions');
  if (!existsSync(versions)) return [];
  const found: { key: number[]; bin: string }[] = [];
  for (const v of readdirSync(versions)) {
    const m = /^3\.(1[0-3])\.(\d+)$/.exec(v);
    if (!m) continue;
    const bin = join(versions, v, 'bin', `python3.${m[1]}`);
    if (existsSync(bin)) found.push({ key: [Number(m[1]), Number(m[2])], bin: realpathSync(bin) });
  }
  found.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1]);
  const out = found.map((f) => f.bin);
  // Debian's own CPython (static libpython, LTO, stripped) with its DWARF from python3.11-dbg.
  if (existsSync('/usr/bin/python3.11') && existsSync('/usr/include/python3.11/Python.h') && existsSync('/usr/share/doc/python3.11-dbg')) {
    out.push('/usr/bin/python3.11');
  }
  return out;
}

/**
 * The 1-based line of `file` carrying `#TAG` (`// #LEAF`, `# #LEAF_CALL`): after a space or at the
 * start of the line, and not followed by a word character (so LEAF does not match LEAF_CALL).
 * `file` may be relative to test/fixtures/debug. Throws unless exactly one line carries it.
 */
export function tagLine(file: string, tag: string): number {
  const path = isAbsolute(file) ? file : join(fixtureRoot(), file);
  const re = new RegExp(`(?:^|\\s)#${tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?!\\w)`);
  const hits: number[] = [];
  readFileSync(path, 'utf8').split('\n').forEach((l, i) => {
    if (re.test(l)) hits.push(i + 1);
  });
  if (hits.length !== 1) {
    throw new Error(`tag #${tag} is on ${hits.length} lines of ${path} (${hits.join(', ') || 'none'}), want exactly one`);
  }
  return hits[0];
}

/** The environment to run a scenario in: PYTHONPATH set, no __pycache__ written into the repo. */
/**
 * Starts a scenario held at READY (SEAM_HOLD=1: it then blocks in C reading stdin, which stays a
 * pipe), outside any debugger, for a test that attaches. Rejects when it exits first or stays
 * silent for 30 s.
 */
export function startHeld(paths: FixturePaths, script: string, args: string[] = []): Promise<ChildProcess> {
  const child = spawn(paths.python, [join(paths.scenarios, script), ...args], { env: scenarioEnv(paths, { SEAM_HOLD: '1' }), stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} never printed READY`)), 30_000);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('READY')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => reject(new Error(`${script} exited (${code}) before READY: ${out}`)));
  });
}

export function scenarioEnv(paths: FixturePaths, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONPATH: paths.pythonPath, PYTHONDONTWRITEBYTECODE: '1', ...extra };
}

export interface PythonInfo {
  executable: string;
  version: string;
  extSuffix: string;
  include: string;
}

const memo = new Map<string, Promise<FixturePaths>>();

/**
 * Builds (or finds in the cache) the three modules for `python`. Calls for the same interpreter in
 * one process share one result unless `memo: false` (which looks at the disk cache again).
 */
export function buildFixtures(python: string, opts: { memo?: boolean } = {}): Promise<FixturePaths> {
  if (opts.memo === false) return build(python);
  let p = memo.get(python);
  if (!p) {
    p = build(python);
    memo.set(python, p);
    p.catch(() => memo.delete(python));
  }
  return p;
}

async function build(python: string): Promise<FixturePaths> {
  const started = Date.now();
  const root = fixtureRoot();
  const cache = fixtureCache();
  mkdirSync(cache, { recursive: true });
  const info = await pythonInfo(python);
  const sources = {
    cext: join(root, 'cext', '_mixed.c'),
    pyo3: join(root, 'pyo3'),
    rawffi: join(root, 'rawffi', 'rawffi.rs'),
  };

  // The PyO3 module: one abi3 build for every interpreter.
  let cached = true;
  // The checkout's path is part of the key: the debug info names the sources where they were
  // compiled, and a breakpoint at file:line of another checkout would not match them.
  const pyo3Key = hashOf([RECIPE, fixtureRoot(), ...crateFiles(sources.pyo3).map((f) => `${f.slice(sources.pyo3.length)}\0${readFileSync(f, 'latin1')}`)]);
  // Builds are named per checkout: publishing prunes older builds with the same prefix, and must
  // never remove another checkout's build from under its running tests.
  const checkout = hashOf([fixtureRoot()]).slice(0, 8);
  const pyo3Dir = join(cache, `pyo3-${checkout}-${pyo3Key}`);
  if (!existsSync(pyo3Dir)) {
    cached = false;
    await publish(cache, pyo3Dir, `pyo3-${checkout}-`, async (tmp) => {
      const target = join(cache, `cargo-target-${hashOf([root]).slice(0, 8)}`); // per checkout: see the key above
      await runTool('cargo', ['build', '--locked', '--lib', '--manifest-path', join(sources.pyo3, 'Cargo.toml')], {
        what: 'cargo build of the PyO3 fixture (test/fixtures/debug/pyo3)',
        cwd: sources.pyo3,
        env: { CARGO_TARGET_DIR: target, PYO3_PYTHON: info.executable, PYO3_BUILD_EXTENSION_MODULE: '1' },
        timeoutMs: 15 * 60_000,
      });
      copyFileSync(join(target, 'debug', 'libmixed_rs.so'), join(tmp, 'mixed_rs.abi3.so'));
    });
  }

  // The per-interpreter modules: the C extension and the raw-FFI Rust one.
  const versionKey = hashOf([RECIPE, fixtureRoot(), JSON.stringify(info), readFileSync(sources.cext, 'latin1'), readFileSync(sources.rawffi, 'latin1')]);
  const versionDir = join(cache, `${info.version}-${checkout}-${versionKey}`);
  const cext = join(versionDir, `_mixed${info.extSuffix}`);
  const rawffi = join(versionDir, `_rawffi${info.extSuffix}`);
  if (!existsSync(versionDir)) {
    cached = false;
    if (!existsSync(join(info.include, 'Python.h'))) {
      throw new FixtureBuildError(
        `no Python.h in ${info.include} (the include directory of ${info.executable}): ` +
          'this interpreter was installed without its headers; install a build that has them (pyenv builds do)',
      );
    }
    await publish(cache, versionDir, `${info.version}-${checkout}-`, async (tmp) => {
      await runTool('gcc', [...GCC_FLAGS, `-I${info.include}`, sources.cext, '-o', join(tmp, `_mixed${info.extSuffix}`)], {
        what: `gcc of the C fixture for Python ${info.version}`,
        cwd: dirname(sources.cext),
      });
      await runTool('rustc', [...RUSTC_FLAGS, sources.rawffi, '-o', join(tmp, `_rawffi${info.extSuffix}`)], {
        what: `rustc of the raw-FFI fixture for Python ${info.version}`,
        cwd: dirname(sources.rawffi),
      });
    });
  }
  return {
    python: info.executable,
    version: info.version,
    pythonPath: [versionDir, pyo3Dir].join(delimiter),
    cext,
    pyo3: join(pyo3Dir, 'mixed_rs.abi3.so'),
    rawffi,
    scenarios: join(root, 'scenarios'),
    sources,
    cached,
    buildMs: Date.now() - started,
  };
}

/**
 * Builds into a fresh temporary directory next to `final`, then renames it into place. When
 * another process got there first, its result is kept. Older builds with the same prefix are
 * removed (their sources changed).
 */
export async function publish(cache: string, final: string, prefix: string, fill: (tmp: string) => Promise<void>, recipe = RECIPE): Promise<void> {
  const tmp = `${final}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  try {
    const started = Date.now();
    await fill(tmp);
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify({ recipe, builtAt: new Date().toISOString(), buildMs: Date.now() - started }, null, 2));
    try {
      renameSync(tmp, final);
    } catch (e) {
      if (!existsSync(final)) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const name = final.slice(cache.length + 1);
  for (const e of readdirSync(cache)) {
    if (e.startsWith(prefix) && e !== name && !e.includes('.tmp-') && /^[0-9a-f]{16}$/.test(e.slice(prefix.length))) {
      rmSync(join(cache, e), { recursive: true, force: true });
    }
  }
}

export async function pythonInfo(python: string, purpose = 'the fixtures'): Promise<PythonInfo> {
  if (!existsSync(python)) throw new FixtureBuildError(`no interpreter at ${python}`);
  const script =
    'import json, os, sys, sysconfig; print(json.dumps({"executable": os.path.realpath(sys.executable), ' +
    '"version": "%d.%d.%d" % sys.version_info[:3], "extSuffix": sysconfig.get_config_var("EXT_SUFFIX"), ' +
    '"include": sysconfig.get_paths()["include"]}))';
  const out = await run(python, ['-S', '-c', script], { what: `asking ${python} for its version and paths` });
  const info = JSON.parse(out.trim().split('\n').pop() ?? '{}') as PythonInfo;
  if (!/^3\.(1[0-3])\./.test(info.version ?? '')) {
    throw new FixtureBuildError(`${python} is Python ${info.version}: ${purpose} need CPython 3.10-3.13`);
  }
  return info;
}

/** The crate's inputs: Cargo.toml, Cargo.lock and everything under src/, in a stable order. */
export function crateFiles(crate: string): string[] {
  const out = [join(crate, 'Cargo.toml'), join(crate, 'Cargo.lock')].filter((f) => existsSync(f));
  const walk = (d: string): void => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(join(crate, 'src'));
  return out;
}

export function hashOf(parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0\0');
  return h.digest('hex').slice(0, 16);
}

const HINTS: Record<string, string> = {
  gcc: 'install a C compiler: apt-get install -y build-essential (or set CC)',
  cargo: 'install Rust: https://rustup.rs (or put ~/.cargo/bin on PATH, or set CARGO)',
  rustc: 'install Rust: https://rustup.rs (or put ~/.cargo/bin on PATH, or set RUSTC)',
};
const OVERRIDES: Record<string, string> = { gcc: 'CC', cargo: 'CARGO', rustc: 'RUSTC' };

/** A tool's path: its override variable, else PATH, else ~/.cargo/bin for the Rust tools. */
export function tool(name: string): string {
  const override = process.env[OVERRIDES[name]];
  if (override) return override;
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  if (name !== 'gcc') dirs.push(join(homedir(), '.cargo', 'bin'));
  for (const d of dirs) if (existsSync(join(d, name))) return join(d, name);
  throw new FixtureBuildError(`${name} not found (searched PATH${name !== 'gcc' ? ' and ~/.cargo/bin' : ''}): ${HINTS[name]}`);
}

export interface RunOptions {
  what: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  hint?: string;
}

function runTool(name: string, args: string[], opts: RunOptions): Promise<string> {
  return run(tool(name), args, { ...opts, hint: HINTS[name] });
}

export function run(cmd: string, args: string[], opts: RunOptions): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolvePromise(stdout);
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        const output = `${stdout}${stderr}`;
        if (e.code === 'ENOENT') reject(new FixtureBuildError(`${opts.what}: ${cmd} not found${opts.hint ? `: ${opts.hint}` : ''}`));
        else if (e.killed) reject(new FixtureBuildError(`${opts.what}: timed out after ${(opts.timeoutMs ?? 120_000) / 1000} s`, output));
        else reject(new FixtureBuildError(`${opts.what} failed: ${cmd} ${args.join(' ')}`, output));
      },
    );
  });
}

function tail(text: string, lines: number): string {
  const all = text.trimEnd().split('\n');
  return (all.length > lines ? ['...', ...all.slice(-lines)] : all).join('\n');
}
