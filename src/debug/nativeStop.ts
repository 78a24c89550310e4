/**
 * What every debugger backend says about a stop and a process, in the same words: where a frame
 * is (" in crash_here at _mixed.c:55"), where a Rust panic happened, the panic's message (from
 * the program's stderr), and whether the debuggee still lives (/proc). Pure but for /proc.
 */
import { readFileSync } from 'node:fs';
import type { NativeFrame } from './types';
import { cleanRustName, isRustName } from './stack/rustNames';

/** " in func at file.c:12" (either part left out when unknown). */
export function frameWords(f: NativeFrame): string {
  const fn = f.func ? ` in ${isRustName(f.func) ? cleanRustName(f.func) : f.func}` : '';
  const at = f.file && f.line ? ` at ${f.file.split('/').pop()}:${f.line}` : '';
  return `${fn}${at}`;
}

/** " in mycrate::engine::boom at lib.rs:12": the innermost Rust frame outside std/core/PyO3. */
export function panicSite(frames: NativeFrame[]): string {
  const f = frames.find((x) => x.func && x.file?.endsWith('.rs') && !x.file.startsWith('/rustc/') && !x.file.startsWith('library/')
    && !/^(?:std|core|alloc|rust_panic|__rust|pyo3)\b/.test(cleanRustName(x.func))
    && !/\/\.cargo\/registry\//.test(x.fullname ?? '') && !/\/rustc\/[0-9a-f]+\//.test(x.fullname ?? ''));
  return f ? frameWords(f) : '';
}

/**
 * The message of the latest Rust panic, from the program's stderr: the panic hook prints
 * `thread '…' panicked at src/x.rs:1:2:` and the message on the next line just before
 * `rust_panic` is called. Keeps a bounded tail of stderr.
 */
export class PanicMessages {
  private recent = '';
  private message: string | undefined;

  stderr(text: string): void {
    const buf = this.recent + text;
    const m = /panicked at [^\n]*:\n([^\n]+)\n(?![^]*panicked at )/.exec(buf);
    if (m) this.message = m[1];
    this.recent = buf.slice(-1024);
  }

  /** The message seen since the last take, once. */
  take(): string | undefined {
    const m = this.message;
    this.message = undefined;
    return m;
  }
}

/**
 * Whether `pid` lives (a zombie does not), and for a zombie the exit status its parent will
 * see, shell style (128 + signal when killed), from /proc/<pid>/stat field 52 (Linux 3.5+).
 */
export function processState(pid: number): { alive: boolean; exitCode?: number } {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return { alive: false };
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  if (fields[0] !== 'Z' && fields[0] !== 'X') return { alive: true };
  const status = Number(fields[49]);
  if (!Number.isInteger(status)) return { alive: false };
  return { alive: false, exitCode: status & 0x7f ? 128 + (status & 0x7f) : (status >> 8) & 0xff };
}

/** Kills a launched program that must not outlive its session (whatever its debugger left). */
export function killIfAlive(pid: number | undefined): void {
  signalIfAlive(pid, 'SIGKILL');
}

function signalIfAlive(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined || !processState(pid).alive) return;
  try {
    process.kill(pid, signal);
  } catch {
    // gone meanwhile, or not ours to signal
  }
}

/**
 * Lets an attached program go on after its debugger died. The kernel detaches a dead tracer's
 * tracees, but a program caught in the group stop of the attach (or with the attach's SIGSTOP
 * still pending) stops again on detach and would stay stopped for good. SIGCONT ends that stop
 * and drops a pending SIGSTOP; a running program ignores it. Called after the debugger is reaped,
 * so the program is no longer traced.
 */
export function releaseOrphan(pid: number | undefined): void {
  signalIfAlive(pid, 'SIGCONT');
}

/** `file:line` (the last colon splits), `*0x…` (an address), or a function name. */
export type NativeLocation = { file: string; line: number } | { address: bigint } | { function: string };

export function parseNativeLocation(location: string): NativeLocation {
  const a = /^\*\s*(0x[0-9a-f]+)$/i.exec(location);
  if (a) return { address: BigInt(a[1]) };
  const m = /^(.*\S):(\d+)$/.exec(location);
  if (m && !m[1].endsWith(':')) return { file: m[1], line: Number(m[2]) };
  return { function: location };
}

/** Where an lvalue lives, from a debugger that evaluates C expressions in its frame: its address
 *  and size (`&(e)`, `sizeof(e)`), for a data breakpoint; undefined where it has none (a
 *  register, optimised out) or the answers are not plain numbers. */
export async function addressAndSize(evaluate: (expression: string) => Promise<string | undefined>, expression: string): Promise<{ address: bigint; size: number } | undefined> {
  const address = (await evaluate(`(unsigned long)&(${expression})`).catch(() => undefined))?.trim();
  const size = Number((await evaluate(`sizeof(${expression})`).catch(() => undefined))?.trim());
  if (!address || !/^\d+$/.test(address) || !Number.isSafeInteger(size) || size <= 0) return undefined;
  return { address: BigInt(address), size };
}
