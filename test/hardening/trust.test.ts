/**
 * Workspace trust and injection (issue 6 §4):
 *
 * - program arguments, the script's path, the working directory and environment values with
 *   spaces, quotes, `$()`, backticks, globs and newlines reach the program verbatim through the
 *   adapter (launch) and through `bin/seam stack`; a `$(touch …)` marker proves no shell ran them;
 * - GDB never runs what a workspace or a home directory holds: `.gdbinit` in the working
 *   directory, in $HOME, and auto-load scripts (`<objfile>-gdb.py`, `<objfile>-gdb.gdb`) next to an
 *   extension module the program loads, each of which would write a marker. A control run of plain
 *   GDB shows the traps are live; the Seam session must leave no marker;
 * - the index does not follow symbolic links out of its roots unless `followSymlinks` is set;
 * - untrusted workspaces: the manifest restricts every setting that names a program to run or a
 *   tree to read (the decision itself lives in src/extension.ts and src/vscode/debug.ts, checked
 *   by the e2e layer).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import type { FixturePaths } from '../debug/fixtures';
import { Session } from '../debug/dapSession';
import { LspClient } from '../integration/lsp-client';
import { record, REPO } from './figures';
import { hardeningFixtures, SCENARIO } from './debug';
import { generateTree, moduleSource, seamSync } from './tree';

const work = mkdtempSync(join(tmpdir(), 'seam-hardening-trust-'));
const MARKERS = join(work, 'markers');
mkdirSync(MARKERS);
const marker = (name: string) => join(MARKERS, name);
/** Markers written by the traps, and any `pwned-*` file a shell made wherever it ran (a directory
 *  name cannot hold a '/', so the one in WEIRD_DIR touches a relative path). */
const markersLeft = (): string[] => {
  const found = spawnSync('ls', [MARKERS], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const d of [work, join(work, WEIRD_DIR), REPO, process.cwd(), join(REPO, 'test', 'hardening', 'fixtures')]) {
    for (const f of spawnSync('ls', ['-A', d], { encoding: 'utf8' }).stdout.split('\n')) if (f.startsWith('pwned')) found.push(join(d, f));
  }
  return found;
};

/** A directory name with everything a shell would act on. */
const WEIRD_DIR = "dir with spaces 'single' \"double\" $(touch pwned-dir) `touch pwned-dir-bt` ;|&*?~ \\";
const ARGS = [
  'plain', 'with space', '', "it's", 'say "hi"', `$(touch ${marker('pwned-arg')})`, `\`touch ${marker('pwned-arg-bt')}\``,
  'line1\nline2', '\ttab', '*', '~', '$HOME', '${HOME}', '\\back\\slash', '-v', '--', '; rm -rf /nonexistent', '| cat', '> out', 'café ☃ 🐍',
];
const ENV_VALUE = `v $(touch ${marker('pwned-env')}) 'q' "dq" *`;

let fx: FixturePaths;
let weird: string;
let script: string;
before(async () => {
  fx = await hardeningFixtures();
  weird = join(work, WEIRD_DIR);
  mkdirSync(weird);
  script = join(weird, 'hardening script.py');
  copyFileSync(SCENARIO, script);
});
after(() => rmSync(work, { recursive: true, force: true }));

function parseOutput(out: string): { argv: unknown; cwd: unknown; env: unknown } {
  const pick = (k: string) => {
    const l = out.split('\n').find((x) => x.startsWith(`${k} `));
    assert.ok(l, `no ${k} line in the program's output:\n${out}`);
    return JSON.parse(l.slice(k.length + 1));
  };
  return { argv: pick('ARGV'), cwd: pick('CWD'), env: pick('ENV') };
}

describe('injection: arguments, paths and environment reach the program verbatim', () => {
  test('through the adapter (launch): args, script path, cwd and env verbatim; no shell ran anything', { timeout: 120_000 }, async () => {
    const s = new Session();
    try {
      await s.start();
      const init = s.next('initialized');
      await s.dc.launchRequest({
        type: 'seam', request: 'launch', program: script, args: ['argv', ...ARGS], python: fx.python, cwd: weird,
        env: { PYTHONPATH: fx.pythonPath, PYTHONDONTWRITEBYTECODE: '1', SEAM_HARDENING_ENV: ENV_VALUE },
      } as never);
      await init;
      await s.dc.configurationDoneRequest();
      assert.equal((await s.next('exited')).body.exitCode, 0, s.output());
      await s.next('terminated');
      const got = parseOutput(s.output('stdout'));
      assert.deepEqual(got.argv, ARGS);
      assert.equal(got.cwd, weird);
      assert.equal(got.env, ENV_VALUE);
      assert.deepEqual(markersLeft(), [], 'a shell ran part of an argument, path or value');
    } finally {
      await s.close();
    }
    record({ kind: 'trust', name: 'launch args/paths/env verbatim (adapter)', args: ARGS.length, ok: true });
  });

  test('an environment value with a newline reaches the program verbatim (adapter)', { timeout: 120_000 }, async () => {
    const s = new Session();
    try {
      await s.start();
      const init = s.next('initialized');
      await s.dc.launchRequest({
        type: 'seam', request: 'launch', program: script, args: ['argv'], python: fx.python, cwd: weird,
        env: { PYTHONPATH: fx.pythonPath, SEAM_HARDENING_ENV: 'first line\nsecond line' },
      } as never);
      await init;
      await s.dc.configurationDoneRequest();
      await s.next('exited');
      assert.equal(parseOutput(s.output('stdout')).env, 'first line\nsecond line');
    } finally {
      await s.close();
    }
  });

  test('through seam stack: args and script path verbatim, the program\'s output apart from the listing', { timeout: 120_000 }, () => {
    const r = seamSync(['stack', '--json', '--', fx.python, script, 'argv', ...ARGS], {
      PYTHONPATH: fx.pythonPath, PYTHONDONTWRITEBYTECODE: '1', SEAM_HARDENING_ABORT: '1', SEAM_HARDENING_ENV: ENV_VALUE,
    });
    assert.equal(r.status, 0, r.stderr);
    const got = parseOutput(r.stderr);
    assert.deepEqual(got.argv, ARGS);
    assert.equal(got.env, ENV_VALUE);
    const stack = JSON.parse(r.stdout) as { threads: { frames: { function: string }[] }[] };
    assert.ok(stack.threads[0].frames.some((f) => f.function === 'argv'), 'the stop is in the script');
    assert.deepEqual(markersLeft(), []);
    record({ kind: 'trust', name: 'seam stack args/paths verbatim', args: ARGS.length, ok: true });
  });
});

describe('GDB runs nothing from the workspace or the home directory', () => {
  let home: string, ws: string, ext: string, soName: string;
  before(() => {
    home = join(work, 'home');
    ws = join(work, 'workspace');
    ext = join(ws, 'ext');
    mkdirSync(home);
    mkdirSync(ext, { recursive: true });
    // Traps: each writes a marker when GDB runs it.
    writeFileSync(join(home, '.gdbinit'), `shell touch ${marker('home-gdbinit')}\n`);
    writeFileSync(join(ws, '.gdbinit'), `shell touch ${marker('cwd-gdbinit')}\n`);
    // The C extension the program imports, from inside the workspace, with auto-load scripts beside it.
    soName = basename(fx.cext);
    copyFileSync(fx.cext, join(ext, soName));
    writeFileSync(join(ext, `${soName}-gdb.py`), `open(${JSON.stringify(marker('objfile-gdb-py'))}, "w").close()\n`);
    writeFileSync(join(ext, `${soName}-gdb.gdb`), `shell touch ${marker('objfile-gdb-gdb')}\n`);
    copyFileSync(SCENARIO, join(ws, 'hardening.py'));
  });

  test('control: plain GDB (no -nx, auto-load allowed) does run the traps', () => {
    const r = spawnSync('gdb', ['-batch', '-iex', 'set auto-load safe-path /', '-ex', `file ${join(ext, soName)}`], { cwd: ws, env: { ...process.env, HOME: home }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(markersLeft().sort(), ['cwd-gdbinit', 'home-gdbinit', 'objfile-gdb-gdb', 'objfile-gdb-py'], `the traps work: ${r.stdout}${r.stderr}`);
    rmSync(MARKERS, { recursive: true });
    mkdirSync(MARKERS);
  });

  test('a Seam session (launch in the workspace, module loaded from it, HOME with a .gdbinit) leaves no marker', { timeout: 120_000 }, async () => {
    const savedHome = process.env.HOME;
    process.env.HOME = home; // the adapter (and its GDB) inherit it
    const s = new Session();
    try {
      await s.start();
      process.env.HOME = savedHome;
      const init = s.next('initialized');
      await s.dc.launchRequest({
        type: 'seam', request: 'launch', program: join(ws, 'hardening.py'), args: ['busy', '0.1'], python: fx.python, cwd: ws,
        env: { PYTHONPATH: [ext, ...fx.pythonPath.split(delimiter)].join(delimiter), PYTHONDONTWRITEBYTECODE: '1' },
      } as never);
      await init;
      // Stopping in the extension proves its objfile (and so its auto-load scripts) was loaded.
      await s.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'mixed_call' }] });
      await s.dc.configurationDoneRequest();
      const stop = await s.stopped();
      const top = (await s.frames(stop.body.threadId!))[0];
      assert.equal(top.name, '[C] mixed_call');
      await s.dc.continueRequest({ threadId: stop.body.threadId! });
      assert.equal((await s.next('exited')).body.exitCode, 0);
    } finally {
      process.env.HOME = savedHome;
      await s.close();
    }
    assert.deepEqual(markersLeft(), [], 'GDB ran a script from the workspace or HOME');
    record({ kind: 'trust', name: 'no .gdbinit / auto-load from workspace or HOME', traps: 4, ok: true });
  });

  test('seam stack in the workspace leaves no marker either', { timeout: 120_000 }, () => {
    const r = spawnSync(process.execPath, [join(REPO, 'bin', 'seam'), 'stack', '--json', '--break', 'mixed_call', '--', fx.python, join(ws, 'hardening.py'), 'busy', '0.1'], {
      cwd: ws, encoding: 'utf8', timeout: 120_000,
      env: { ...process.env, HOME: home, PYTHONPATH: [ext, ...fx.pythonPath.split(delimiter)].join(delimiter), PYTHONDONTWRITEBYTECODE: '1' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /mixed_call/);
    assert.deepEqual(markersLeft(), []);
  });
});

describe('the index stays inside its roots', () => {
  test('symbolic links out of a root are not followed unless followSymlinks is set', { timeout: 120_000 }, async () => {
    const root = join(work, 'root');
    const outside = join(work, 'outside');
    generateTree(root, 3);
    generateTree(outside, 0);
    mkdirSync(join(outside, 'secret'), { recursive: true });
    writeFileSync(join(outside, 'secret', 'mod_900.c'), moduleSource(900));
    writeFileSync(join(outside, 'mod_901.c'), moduleSource(901));
    symlinkSync(join(outside, 'secret'), join(root, 'linked-dir')); // a directory out of the root
    symlinkSync(join(outside, 'mod_901.c'), join(root, 'linked.c')); // a file out of the root
    mkdirSync(join(root, 'inner'));
    symlinkSync(join(root, 'pkg0'), join(root, 'inner', 'back')); // inside the root: fine
    const r = seamSync(['resolve', 'mod_900.f', 'mod_901.f', 'mod_1.f', '--root', root, '--json', '--no-cache'], { SEAM_LOG: '1' });
    const got = JSON.parse(r.stdout) as { name: string; targets: unknown[] }[];
    assert.deepEqual(got.map((x) => x.targets.length), [0, 0, 1], 'nothing from outside the root');
    assert.equal(r.stderr.split('\n').filter((l) => /symbolic link out of the root, not followed/.test(l)).length, 2, r.stderr);

    // The language server with followSymlinks: true (the seam.index.followSymlinks setting) follows them.
    for (const follow of [false, true]) {
      const lsp = LspClient.start();
      try {
        await lsp.initialize({ workspaceFolders: [root], initializationOptions: { followSymlinks: follow } });
        await lsp.waitForNotification<{ state: string }>('seam/indexStatus', (p) => p.state === 'ready', 60_000);
        const res = await lsp.request<{ targets: unknown[] }[]>('seam/resolve', { names: ['mod_900.f', 'mod_901.f', 'mod_1.f'] });
        assert.deepEqual(res.map((x) => x.targets.length), follow ? [1, 1, 1] : [0, 0, 1], `followSymlinks ${follow}`);
      } finally {
        await lsp.shutdown();
      }
    }
    record({ kind: 'trust', name: 'index does not follow symlinks out of roots', ok: true });
  });
});

describe('untrusted workspaces (the manifest)', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
    capabilities: { untrustedWorkspaces: { supported: string | boolean; restrictedConfigurations?: string[] } };
  };
  const restricted = new Set(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations ?? []);

  test('settings that name a program to run or a tree to read are restricted', () => {
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
    for (const s of ['seam.gdbPath', 'seam.lldbDapPath', 'seam.cpythonSource', 'seam.extraRoots']) assert.ok(restricted.has(s), `${s} is not restricted`);
  });

  test('seam.index.followSymlinks is restricted too (a workspace must not make the index read outside it)', {
  }, () => {
    assert.ok(restricted.has('seam.index.followSymlinks'));
    assert.match(readFileSync(join(REPO, 'src', 'extension.ts'), 'utf8'), /followSymlinks:\s*trusted\s*\?/);
  });

  test('the debugger refuses untrusted workspaces before resolving anything', () => {
    const src = readFileSync(join(REPO, 'src', 'vscode', 'debug.ts'), 'utf8');
    const trust = src.indexOf('vscode.workspace.isTrusted');
    assert.ok(trust > 0, 'resolveDebugConfiguration checks workspace trust');
    assert.ok(trust < src.indexOf("getConfiguration('seam'"), 'before reading any setting');
    assert.ok(existsSync(join(REPO, 'src', 'extension.ts')));
  });
});
