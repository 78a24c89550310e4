/**
 * A DAP session with Seam's real adapter (`node dist/adapter.js`) for the integration tests: every
 * event kept in order so none is lost between two awaits, bounded waits that say what came, and a
 * close that ends the adapter, GDB and the program whatever state they are in.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { pythons } from './fixtures';

/** dist/adapter.js, from a bundle in dist/test/<layer>/. */
export const ADAPTER = join(__dirname, '..', '..', 'adapter.js');
export const EVENT_MS = 30_000;

export function selectedPythons(): string[] {
  const want = (process.env.SEAM_PYTHONS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const all = pythons();
  return want.length ? all.filter((p) => want.some((w) => p.endsWith(`python${w}`) || p.includes(`/${w}`))) : all;
}

/** Every DAP event the adapter sent, in order, so none is lost between two awaits. */
export class Session {
  readonly dc: DebugClient;
  private readonly seen = new Map<string, DebugProtocol.Event[]>();
  private readonly cursor = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor() {
    this.dc = new DebugClient('node', ADAPTER, 'seam', { stdio: ['pipe', 'pipe', 'pipe'] });
    this.dc.defaultTimeout = EVENT_MS;
    for (const name of ['initialized', 'stopped', 'continued', 'output', 'exited', 'terminated', 'breakpoint']) {
      this.dc.on(name, (e: DebugProtocol.Event) => {
        let list = this.seen.get(name);
        if (!list) this.seen.set(name, (list = []));
        list.push(e);
        for (const w of [...this.waiters]) w();
      });
    }
  }

  async start(): Promise<DebugProtocol.Capabilities> {
    await this.dc.start();
    this.adapter?.stdin?.on('error', () => undefined);
    return (await this.dc.initializeRequest({ adapterID: 'seam', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' })).body ?? {};
  }

  /** Starts the adapter and attaches to `pid` (configurationDone is the caller's, after its
   *  breakpoints). */
  async attach(pid: number, python: string, extra: { logFile?: string } = {}): Promise<void> {
    await this.start();
    const init = this.next('initialized');
    await this.dc.attachRequest({ type: 'seam', request: 'attach', processId: pid, python, ...extra } as DebugProtocol.AttachRequestArguments);
    await init;
  }

  all(name: string): DebugProtocol.Event[] {
    return this.seen.get(name) ?? [];
  }

  output(category?: string): string {
    return this.all('output').filter((e) => !category || e.body.category === category).map((e) => e.body.output as string).join('');
  }

  next(name: string, ms = EVENT_MS): Promise<DebugProtocol.Event> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const list = this.all(name);
        const i = this.cursor.get(name) ?? 0;
        if (i < list.length) {
          this.cursor.set(name, i + 1);
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(list[i]);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no '${name}' event within ${ms} ms; stopped: ${JSON.stringify(this.all('stopped').map((e) => e.body))}; output: ${this.output().slice(-1500)}`));
      }, ms);
      this.waiters.add(check);
      check();
    });
  }

  async stopped(): Promise<DebugProtocol.StoppedEvent> {
    return (await this.next('stopped')) as DebugProtocol.StoppedEvent;
  }

  async frames(threadId: number): Promise<DebugProtocol.StackFrame[]> {
    return (await this.dc.stackTraceRequest({ threadId })).body.stackFrames;
  }

  /** A local of a stack frame, as the Variables view shows it. */
  async local(frameId: number, name: string): Promise<string> {
    const scopes = (await this.dc.scopesRequest({ frameId })).body.scopes;
    assert.ok(scopes.length >= 1, 'a Locals scope');
    const vars = (await this.dc.variablesRequest({ variablesReference: scopes[0].variablesReference })).body.variables;
    const v = vars.find((x) => x.name === name);
    assert.ok(v, `${name} in ${JSON.stringify(vars)}`);
    return v.value;
  }

  private get adapter(): ChildProcess | undefined {
    return (this.dc as unknown as { _adapterProcess?: ChildProcess | null })._adapterProcess ?? undefined;
  }

  /** Ends the adapter and everything under it, whatever state it is in. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const a = this.adapter;
    const below = descendants(a?.pid);
    if (a && a.exitCode === null && a.signalCode === null) {
      await withTimeout(this.dc.disconnectRequest({ terminateDebuggee: true }), 5000, 'disconnect').catch(() => undefined);
      if (a.exitCode === null && a.signalCode === null) a.kill('SIGKILL');
    }
    for (const pid of below) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** All processes below `pid` (GDB and the program it runs), from /proc. */
export function descendants(pid: number | undefined): number[] {
  if (!pid) return [];
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // raced with its exit
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [c, pp] of parent) if (pp === p) { out.push(c); walk(c); }
  };
  walk(pid);
  return out;
}

let logs = 0;
/** `SEAM_DAP_LOG_DIR=<dir>`: the launch option that writes a session's DAP + MI traffic there. */
export function logFile(kind: string, name: string): { logFile?: string } {
  const dir = process.env.SEAM_DAP_LOG_DIR;
  return dir ? { logFile: join(dir, `${process.pid}-${kind}-${++logs}-${name}.log`) } : {};
}


/** The median and maximum of the latencies a test file measured, as a TAP comment line. */
export function latencyLine(what: string, latencies: number[]): string | undefined {
  if (!latencies.length) return undefined;
  const sorted = [...latencies].sort((a, b) => a - b);
  return `# ${what} latency (request -> stopped), ${sorted.length} steps: median ${sorted[sorted.length >> 1]} ms, max ${sorted[sorted.length - 1]} ms`;
}

/** A scenario started for an attach: it printed READY and (SEAM_HOLD=1 in `env`) waits for a
 *  line on stdin. `out()` is its stdout so far; `exited()` resolves with its exit code. */
export interface HeldProgram {
  child: ChildProcess;
  out(): string;
  exited(): Promise<number | null>;
}

export async function spawnHeld(python: string, script: string, env: NodeJS.ProcessEnv, cwd?: string): Promise<HeldProgram> {
  const child = spawn(python, [script], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} never printed READY: ${out}`)), EVENT_MS);
      child.stdout!.on('data', () => { if (/^READY$/m.test(out)) { clearTimeout(timer); resolve(); } });
    });
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    child,
    out: () => out,
    exited: () => new Promise((res) => (child.exitCode !== null ? res(child.exitCode) : child.once('exit', (c) => res(c)))),
  };
}
