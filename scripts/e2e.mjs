#!/usr/bin/env node
// Runs the real-VS-Code tests (dist/test/e2e/suite/index.js) inside VS Code 1.139.1, served by
// code-server on loopback and driven by Debian's chromium through playwright-core. Builds
// nothing: `npm test` (scripts/test-all.sh) runs setup and the build first.
//
//   node scripts/e2e.mjs            exit 0 when every test passed, 1 otherwise; the last line
//                                   printed is always `N passed, N failed`
//   SEAM_E2E_TIMEOUT_MS=300000      overall limit (default 5 min); passing it fails the run
//   SEAM_DEBUGGER=lldb              the debugging tests over LLDB (user setting seam.debugger)
//
// The workbench's smoke-test driver (`--vscode-option enable-smoke-test-driver`) makes it honour
// the test payload in the URL and report through two functions we expose on the page:
// codeAutomationLog (its log, including the extension host's console, where the suite's report
// lines arrive) and codeAutomationExit (the extension host's exit code).
//
// Screenshots: a test logs `SEAM_SCREENSHOT <name>` and the runner saves what the user sees to
// test-output/e2e/<name>.png. There is no channel back into the extension host, so the test
// waits a fixed ~1.5 s after logging (SCREENSHOT_SETTLE_MS below + the capture fit in that).
//
// The debugger test needs the sample's native modules: before code-server starts, the runner
// builds them (scripts/build-sample.mjs, cached in ~/.cache/seam/sample-build) and passes
// SEAM_SAMPLE_PYTHON / SEAM_SAMPLE_PYTHONPATH in code-server's environment, which the extension
// host inherits and the sample's .vscode/launch.json reads.
//
// code-server and chromium are stopped on every way out: success, failure, timeout, Ctrl-C.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSampleEnv } from './build-sample.mjs';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const NODE24 = join(ROOT, '.vscode-test/node24/bin/node');
const CODE_SERVER = join(ROOT, '.vscode-test/code-server/node_modules/code-server/out/node/entry.js');
const CHROMIUM = '/usr/bin/chromium';
const WORKSPACE = join(ROOT, 'test/fixtures/sample');
const TESTS = join(ROOT, 'dist/test/e2e/suite/index.js');
const OUT = join(ROOT, process.env.SEAM_DEBUGGER === 'lldb' ? 'test-output/e2e-lldb' : 'test-output/e2e');
const CPYTHON = join(process.env.SEAM_CACHE ?? join(homedir(), '.cache/seam'), 'cpython-3.13');
const TIMEOUT_MS = Number(process.env.SEAM_E2E_TIMEOUT_MS ?? 5 * 60_000);
const SCREENSHOT_SETTLE_MS = 400;
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

const log = (msg) => console.log(`[e2e] ${msg}`);

/** User settings for a quiet, deterministic workbench. */
function userSettings() {
  return {
    'debug.saveBeforeStart': 'none', // else startDebugging can hang on a Save As prompt
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'chat.disableAIFeatures': true,
    'chat.commandCenter.enabled': false,
    'workbench.startupEditor': 'none',
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'workbench.tips.enabled': false,
    'security.workspace.trust.enabled': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden', // the chat panel
    'workbench.secondarySideBar.showLabels': false,
    'git.enabled': false,
    // Go to Definition/Implementation navigates to the first target instead of opening a peek.
    'editor.gotoLocation.multipleDefinitions': 'goto',
    'editor.gotoLocation.multipleImplementations': 'goto',
    'seam.cpythonSource': CPYTHON,
    // SEAM_DEBUGGER=lldb runs the debugging tests over LLDB, as it does for the integration layer.
    ...(process.env.SEAM_DEBUGGER ? { 'seam.debugger': process.env.SEAM_DEBUGGER } : {}),
  };
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

// ---- the run's state, torn down by finish() ---------------------------------------------------
let codeServer = null;
let browser = null;
let tmp = null;
let finishing = false;
const report = { summary: null, passes: [], failures: [], exitCode: null };
const pendingShots = new Set();

async function cleanup() {
  if (browser) await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
  browser = null;
  if (codeServer && codeServer.exitCode === null && codeServer.signalCode === null) {
    // Detached: it leads its own process group (its server and extension host processes).
    try { process.kill(-codeServer.pid, 'SIGTERM'); } catch {}
    const gone = await new Promise((r) => {
      const t = setTimeout(() => r(false), 3000);
      codeServer.once('exit', () => { clearTimeout(t); r(true); });
    });
    if (!gone) try { process.kill(-codeServer.pid, 'SIGKILL'); } catch {}
  }
  codeServer = null;
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  tmp = null;
}

/** The single way out: stop everything, print the closing line, exit 0/1. */
async function finish(reason) {
  if (finishing) return;
  finishing = true;
  clearTimeout(timer);
  await Promise.allSettled([...pendingShots]);
  await cleanup();
  let passed = 0;
  let failed = 0;
  if (report.summary) ({ passed, failed } = report.summary);
  else {
    passed = report.passes.length;
    failed = Math.max(1, report.failures.length); // no closing line: the suite did not finish
  }
  if (reason) {
    log(`FAILED: ${reason}`);
    if (failed === 0) failed = 1;
  } else if (report.exitCode !== 0 && failed === 0) {
    log(`extension host exited with ${report.exitCode} although the suite reported no failure`);
    failed = 1;
  }
  for (const f of report.failures) log(`failed: ${f}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

const timer = setTimeout(() => finish(`timed out after ${TIMEOUT_MS / 1000} s (SEAM_E2E_TIMEOUT_MS); logs in ${OUT}`), TIMEOUT_MS);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => finish(`interrupted (${sig})`));
process.on('uncaughtException', (e) => finish(`runner error: ${e?.stack ?? e}`));
process.on('unhandledRejection', (e) => finish(`runner error: ${e?.stack ?? e}`));

// ---- what the extension host says -------------------------------------------------------------
function onHostLine(line, page) {
  let m;
  if ((m = /SEAM_TESTS (\d+) passed, (\d+) failed/.exec(line))) {
    report.summary = { passed: Number(m[1]), failed: Number(m[2]) };
  } else if ((m = /SEAM_TEST PASS (.*)/.exec(line))) {
    report.passes.push(m[1]);
  } else if ((m = /SEAM_TEST FAIL (.*)/.exec(line))) {
    report.failures.push(m[1]);
  } else if ((m = /SEAM_SCREENSHOT ([\w.-]+)/.exec(line))) {
    const file = join(OUT, `${m[1]}.png`);
    const shot = new Promise((r) => setTimeout(r, SCREENSHOT_SETTLE_MS))
      .then(() => page.screenshot({ path: file }))
      .then(() => log(`screenshot ${file}`), (e) => log(`screenshot ${m[1]} failed: ${e.message}`))
      .finally(() => pendingShots.delete(shot));
    pendingShots.add(shot);
  }
}

function textOf(args) {
  if (typeof args === 'string') return args;
  if (Array.isArray(args)) return args.map(textOf).join(' ');
  try { return JSON.stringify(args); } catch { return String(args); }
}

// ---- the run ----------------------------------------------------------------------------------
async function main() {
  for (const [what, file, fix] of [
    ['Node 24', NODE24, 'bash scripts/setup.sh'],
    ['code-server', CODE_SERVER, 'bash scripts/setup.sh'],
    ['chromium', CHROMIUM, 'bash scripts/setup.sh (apt-get install chromium)'],
    ['the e2e suite', TESTS, 'node scripts/build.mjs'],
    ['the extension bundle', join(ROOT, 'dist/extension.js'), 'node scripts/build.mjs'],
  ]) if (!existsSync(file)) return finish(`${what} missing (${file}); run: ${fix}`);

  mkdirSync(OUT, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'seam-e2e-'));
  const userDir = join(tmp, 'data');
  mkdirSync(join(userDir, 'User'), { recursive: true });
  writeFileSync(join(userDir, 'User/settings.json'), JSON.stringify(userSettings(), null, 2));
  const port = await freePort();
  writeFileSync(join(tmp, 'config.yaml'), `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);

  let sample;
  try {
    sample = await buildSampleEnv();
  } catch (e) {
    return finish(`building the sample's native modules failed (node scripts/build-sample.mjs): ${e?.message ?? e}`);
  }
  const { paths } = sample;
  log(`sample built for Python ${paths.version} (${paths.cached ? 'cached' : `${(paths.buildMs / 1000).toFixed(1)} s`}): PYTHONPATH=${paths.pythonPath}`);

  const serverLog = createWriteStream(join(OUT, 'code-server.log'));
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))), ...sample.env };
  codeServer = spawn(NODE24, [CODE_SERVER, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--config', join(tmp, 'config.yaml'), '--user-data-dir', userDir, '--extensions-dir', join(tmp, 'extensions'),
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--vscode-option', 'enable-smoke-test-driver'],
  { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  codeServer.stdout.pipe(serverLog);
  codeServer.stderr.pipe(serverLog);
  codeServer.on('exit', (code, sig) => {
    if (!finishing) finish(`code-server exited early (${code ?? sig}); see ${join(OUT, 'code-server.log')}`);
  });

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch {}
    if (Date.now() > deadline) return finish(`code-server did not answer on ${base} within 60 s; see ${join(OUT, 'code-server.log')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  log(`code-server (VS Code 1.139.1) on ${base}`);

  const { chromium } = await import('playwright-core');
  // Our own signal handlers stop everything (playwright's would exit before code-server is stopped).
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
    handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const browserLog = createWriteStream(join(OUT, 'browser.log'));
  page.on('console', (m) => browserLog.write(`[${m.type()}] ${m.text()}\n`));
  page.on('pageerror', (e) => browserLog.write(`[pageerror] ${e.stack ?? e}\n`));

  // The workbench's whole log arrives here; the extension host's console is part of it. All of it
  // goes to workbench.log; the terminal shows it from the suite's first line on (before that it
  // is start-up chatter such as failed gallery look-ups on an offline machine).
  const workbenchLog = createWriteStream(join(OUT, 'workbench.log'));
  let suiteStarted = false;
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    for (const line of textOf(args).split('\n')) {
      if (!line.trim()) continue;
      workbenchLog.write(`[${type}] ${line}\n`);
      suiteStarted ||= line.includes('SEAM_TEST');
      if (suiteStarted) console.log(`[exthost] ${line}`);
      onHostLine(line, page);
    }
  });
  await page.exposeFunction('codeAutomationExit', (code) => {
    report.exitCode = Number(code);
    log(`extension host exited with ${code}`);
    setImmediate(() => finish(report.summary ? null : 'the suite ended without its closing report line'));
  });

  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload = [
    ['extensionDevelopmentPath', remote(ROOT)],
    ['extensionTestsPath', remote(TESTS)],
    ['skipWelcome', 'true'],
  ];
  const url = `${base}/?folder=${encodeURIComponent(WORKSPACE)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  log(`opening ${WORKSPACE} with the tests ${TESTS}`);
  await page.goto(url);
}

main().catch((e) => finish(`runner error: ${e?.stack ?? e}`));
