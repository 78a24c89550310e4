/**
 * The hardening suite's figures: every test that measures something (cases fuzzed, faults
 * survived, soak memory) appends one JSON line to test-output/hardening/figures.jsonl, and
 * scripts/test-hardening.sh prints them as a table at the end of the run.
 */
import { appendFileSync, mkdirSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { processState } from '../../src/debug/nativeStop';

/** The repository root, from the bundled test at dist/test/hardening/**. */
export const REPO = (() => {
  let d = __dirname;
  while (!d.endsWith('/dist') && d !== '/') d = resolve(d, '..');
  return resolve(d, '..');
})();
export const FIGURES = join(REPO, 'test-output', 'hardening', 'figures.jsonl');

export interface Figure {
  /** fuzz | fault | soak | trust */
  kind: string;
  name: string;
  [key: string]: unknown;
}

export function record(f: Figure): void {
  mkdirSync(join(REPO, 'test-output', 'hardening'), { recursive: true });
  appendFileSync(FIGURES, `${JSON.stringify({ ...f, at: new Date().toISOString() })}\n`);
}

// ---- /proc readings ------------------------------------------------------------------------

/** Resident set size of `pid` in MB, or undefined once it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Open file descriptors of `pid` (entries of /proc/PID/fd). */
export function fdCount(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** What each fd of `pid` points at (`pipe:[…]`, `/dev/null`, …), for failure messages. */
export function fdTargets(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return `${fd}->${readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
      } catch {
        return `${fd}->?`;
      }
    });
  } catch {
    return [];
  }
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
}

/** Every process on the machine, from /proc/PID/stat. */
export function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const open = stat.indexOf('('), close = stat.lastIndexOf(')');
      const rest = stat.slice(close + 2).split(' ');
      out.push({ pid: Number(d), comm: stat.slice(open + 1, close), state: rest[0], ppid: Number(rest[1]) });
    } catch {
      // raced with its exit
    }
  }
  return out;
}

/** All processes below `pid`, any depth. */
export function descendantsOf(pid: number, all = processes()): ProcInfo[] {
  const out: ProcInfo[] = [];
  const walk = (p: number): void => {
    for (const c of all) if (c.ppid === p) { out.push(c); walk(c.pid); }
  };
  walk(pid);
  return out;
}

/** Zombie (state Z) processes whose command is `comm` (e.g. gdb) anywhere on the machine. */
export function zombies(comm: RegExp, all = processes()): ProcInfo[] {
  return all.filter((p) => p.state === 'Z' && comm.test(p.comm));
}

/** A live process (a zombie is dead for our purposes): the product's own /proc check. */
export function alive(pid: number): boolean {
  return processState(pid).alive;
}

export function killQuietly(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Resolves when `cond()` holds; rejects naming `what` after `ms`. Polls /proc-style state. */
export async function until(cond: () => boolean, ms: number, what: string, everyMs = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** An integer knob from the environment (`SEAM_SOAK_CYCLES=200`). */
export function knob(name: string, dflt: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : dflt;
}
