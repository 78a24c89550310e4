/**
 * What the hardening tests that debug share: one interpreter (not the whole matrix: the
 * integration layer covers that), its fixtures, the hardening scenario, and process lookups
 * around a DAP session.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixtures, type FixturePaths } from '../debug/fixtures';
import { selectedPythons, Session } from '../debug/dapSession';
import { descendantsOf, processes, REPO, type ProcInfo } from './figures';

export const SCENARIO = join(REPO, 'test', 'hardening', 'fixtures', 'hardening.py');

/** `SEAM_HARDENING_PYTHON` (a version like 3.12 or a path), else 3.12, else the first interpreter found. */
export function hardeningPython(): string {
  const all = selectedPythons();
  const want = process.env.SEAM_HARDENING_PYTHON;
  const pick = want ? all.find((p) => p === want || p.endsWith(`python${want}`)) : all.find((p) => /python3\.12$/.test(p)) ?? all[0];
  assert.ok(pick, `no CPython 3.10-3.13 found${want ? ` matching SEAM_HARDENING_PYTHON=${want}` : ''}: see the README set-up`);
  return pick;
}

let fixtures: Promise<FixturePaths> | undefined;
export function hardeningFixtures(): Promise<FixturePaths> {
  fixtures ??= buildFixtures(hardeningPython());
  return fixtures;
}

export function launchArgs(fx: FixturePaths, args: string[], extra: Record<string, unknown> = {}): DebugProtocol.LaunchRequestArguments {
  return {
    type: 'seam', request: 'launch', program: SCENARIO, args, python: fx.python,
    env: { PYTHONPATH: fx.pythonPath, PYTHONDONTWRITEBYTECODE: '1' }, cwd: join(REPO, 'test', 'hardening', 'fixtures'), ...extra,
  } as DebugProtocol.LaunchRequestArguments;
}

/** A started session launched with `args`; `setup` sets breakpoints before configurationDone. */
export async function launched(fx: FixturePaths, args: string[], setup: (s: Session) => Promise<void>, extra: Record<string, unknown> = {}, adapterEnv: NodeJS.ProcessEnv = {}): Promise<Session> {
  const s = new Session();
  // The adapter is spawned by start() with this process's environment: lend it `adapterEnv`.
  const saved = Object.fromEntries(Object.keys(adapterEnv).map((k) => [k, process.env[k]]));
  Object.assign(process.env, adapterEnv);
  try {
    await s.start();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
  const init = s.next('initialized');
  await s.dc.launchRequest(launchArgs(fx, args, extra));
  await init;
  await setup(s);
  await s.dc.configurationDoneRequest();
  return s;
}

export function adapterProcess(s: Session): ChildProcess {
  const p = (s.dc as unknown as { _adapterProcess?: ChildProcess | null })._adapterProcess;
  assert.ok(p?.pid, 'the adapter process');
  return p;
}

/** The debugger process (GDB, or LLDB's DAP server) the adapter runs: its one direct child. */
export function debuggerOf(adapterPid: number): ProcInfo {
  const kids = processes().filter((p) => p.ppid === adapterPid && p.state !== 'Z');
  assert.equal(kids.length, 1, `adapter ${adapterPid} children: ${JSON.stringify(kids)}`);
  return kids[0];
}

/** The Python program under the debugger (a descendant of `pid` running the interpreter). */
export function debuggeeUnder(pid: number, python: string): ProcInfo | undefined {
  const base = python.split('/').pop()!.slice(0, 15);
  return descendantsOf(pid).find((p) => p.comm === base && p.state !== 'Z');
}

/** Zombie debuggers anywhere below this test process. */
export function ourZombies(): ProcInfo[] {
  return descendantsOf(process.pid).filter((p) => p.state === 'Z');
}

export function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  return p.then((value) => ({ ok: true as const, value }), (e: Error) => ({ ok: false as const, error: e.message }));
}
