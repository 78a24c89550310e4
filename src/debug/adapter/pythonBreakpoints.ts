/**
 * Python line breakpoints on launch: the program runs under `seam_bootstrap.py`, which reads the
 * breakpoints from a control file (`SEAM_CONTROL`) and, when one stops, calls
 * `sys.audit("seam.breakpoint", id)`. Here: the control file (written atomically), the GDB trap
 * on CPython's `sys_audit` (its condition reads the event name from memory, no call into the
 * program), the breakpoint id read at the trap, and the logpoint lines the bootstrap writes to
 * stderr. Conditions, hit counts and logpoints are evaluated in the program by the bootstrap.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { DebugBackend } from '../backend';
import type { MergedFrame } from '../types';
import { parseHitCondition } from './breakpoints';
import type { StepKind } from './pythonStepping';

/** The event name the bootstrap raises; the GDB condition compares it. */
export const TRAP_EVENT = 'seam.breakpoint';
/** Lines the bootstrap writes to fd 2 for logpoints. */
export const LOG_PREFIX = '\x1eseam-log ';

/**
 * `sys_audit(PyObject *self, PyObject *const *args, Py_ssize_t argc)` (Python/sysmodule.c,
 * 3.10–3.13; there is no clinic `sys_audit_impl`). At its breakpoint address `args` is still the
 * argument (checked on 3.10.13, 3.11.7, 3.12.1, 3.13.0 and Debian's 3.11). The event is a compact
 * ASCII str: its characters follow the `PyASCIIObject` header, NUL-terminated.
 */
export const TRAP_FUNCTION = 'sys_audit';
export const TRAP_CONDITION = cStringEquals('((const char *)(((PyASCIIObject *)args[0]) + 1))', TRAP_EVENT);

/**
 * `s` equals `literal`, as a C expression both GDB and LLDB evaluate without calling into the
 * program (no `$_streq`, no strcmp): character by character with the terminating NUL, so the
 * first differing character ends it. `literal` holds only [A-Za-z0-9._] (no quoting needed).
 */
export function cStringEquals(s: string, literal: string): string {
  if (!/^[\w.]+$/.test(literal)) throw new Error(`cStringEquals: unsupported literal ${literal}`);
  return [...literal].map((c, i) => `${s}[${i}] == '${c}'`).concat(`${s}[${literal.length}] == 0`).join(' && ');
}
/** The id argument, a small int: its first 30-bit digit is at offset 24 in 3.10–3.13
 *  (ob_refcnt, ob_type, ob_size / lv_tag, ob_digit[0]). */
const TRAP_ID = '*(unsigned int *)((char *)args[1] + 24)';

/**
 * A trap expression (written over `args`, sys_audit's parameter) for this backend: where the
 * debugger reads no parameters at the function's entry (LLDB in an -O3 libpython), `args` is the
 * second argument register (the trap is then set at the entry).
 */
export function trapExpression(expr: string, backend: Pick<DebugBackend, 'entryArgument'>): string {
  if (!backend.entryArgument) return expr;
  return expr.replace(/\bargs\[/g, `((void **)${backend.entryArgument(2)})[`);
}

/** Trap ids of exception stops (seam_bootstrap.py), above any breakpoint id and the step ids. */
export const EXC_RAISED = 1_000_000_003;
export const EXC_UNCAUGHT = 1_000_000_004;

/** DAP exception filters: the bootstrap hooks only the ones on. */
export const EXCEPTION_FILTERS: DebugProtocol.ExceptionBreakpointsFilter[] = [
  { filter: 'uncaught', label: 'Uncaught Python exceptions', default: true, description: 'Stop when a Python exception leaves the program (a thread\'s or the main script\'s outermost frame)' },
  { filter: 'raised', label: 'Raised Python exceptions', default: false, description: 'Stop where a Python exception is raised in the program\'s own code, caught or not' },
];

/** What the bootstrap wrote about the exception it stops for (CONTROL + ".exc"). */
export interface PythonException {
  kind: 'raised' | 'uncaught';
  /** The type's qualified name (`ValueError`), with its module unless builtin in fullTypeName. */
  typeName: string;
  fullTypeName: string;
  message: string;
  /** The formatted traceback so far (`traceback.format_exception`). */
  stackTrace: string;
}

/** `ValueError: bad value` (the type alone when the message is empty). */
export function describeException(e: PythonException): string {
  return e.message ? `${e.typeName}: ${e.message}` : e.typeName;
}

/** The bootstrap script, found from the adapter bundle (dist/adapter.js) or from the sources. */
export function bootstrapPath(): string {
  const rel = join('src', 'debug', 'python-bootstrap', 'seam_bootstrap.py');
  for (let d = resolve(__dirname); ; d = dirname(d)) {
    const p = join(d, rel);
    if (existsSync(p)) return p;
    if (dirname(d) === d) break;
  }
  throw new Error(`${rel} not found above ${__dirname}: the extension is incomplete`);
}

interface PyBp {
  id: number;
  file: string;
  line: number;
  condition?: string;
  ignoreCount?: number;
  modulo?: number;
  logMessage?: string;
}

export class PythonBreakpoints {
  readonly controlPath: string;
  private readonly dir: string;
  private version = 0;
  private bySource = new Map<string, PyBp[]>();
  private trapId: number | undefined;
  /** The latest step request (see pythonStepping.ts); a new seq cancels the one before. */
  private step = { seq: 0, kind: 'cancel' as StepKind };
  /** The exception filters on (setExceptionBreakpoints); none until the client sends them. */
  private exceptions: string[] = [];
  /** An incomplete stderr line that may be a logpoint line. */
  private pending = '';

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'seam-py-'));
    this.controlPath = join(this.dir, 'control.json');
    this.write();
  }

  /** The exit status the bootstrap recorded as the program's main code ended (CONTROL + ".exit"). */
  recordedExit(): number | undefined {
    try {
      const v = Number(readFileSync(`${this.controlPath}.exit`, 'utf8').trim());
      return Number.isInteger(v) ? v : undefined;
    } catch {
      return undefined;
    }
  }

  /** The program's `threading` names by OS thread id, as the bootstrap publishes them
   *  (CONTROL + ".threads"); empty before it has. */
  threadNames(): Map<number, string> {
    try {
      const data = JSON.parse(readFileSync(`${this.controlPath}.threads`, 'utf8')) as Record<string, unknown>;
      return new Map(Object.entries(data).filter((e): e is [string, string] => typeof e[1] === 'string' && /^\d+$/.test(e[0])).map(([k, v]) => [Number(k), v]));
    } catch {
      return new Map();
    }
  }

  /** The address of the bootstrap's native-step hook (CONTROL + ".hooks"), once it published it. */
  nativeStepHook(): bigint | undefined {
    return this.hook('nativeStep');
  }

  /** The address of one of the bootstrap's hooks (CONTROL + ".hooks"), once it published them. */
  hook(name: 'nativeStep' | 'evaluate'): bigint | undefined {
    try {
      const v = (JSON.parse(readFileSync(`${this.controlPath}.hooks`, 'utf8')) as Record<string, unknown>)[name];
      return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? BigInt(v) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Sets the trap (before the program runs; pending until libpython is loaded). */
  async installTrap(backend: DebugBackend): Promise<void> {
    const st = await backend.insertBreakpoint({ location: TRAP_FUNCTION, condition: trapExpression(TRAP_CONDITION, backend), atEntry: !!backend.entryArgument });
    this.trapId = st.id;
  }

  isTrap(backendIds: number[] | undefined): boolean {
    return this.trapId !== undefined && !!backendIds?.includes(this.trapId);
  }

  /** The DAP id of the breakpoint that stopped (read from sys_audit's arguments). */
  /** A stop at the trap the debugger reported without its breakpoint id (seen once with LLDB on
   *  a loaded CI machine: the Python breakpoint then showed as a stop in `sys_audit`): the
   *  thread's top frame is the trap function and the trap's condition holds there. */
  async trapUnreported(backend: DebugBackend, threadId: number): Promise<boolean> {
    if (this.trapId === undefined) return false;
    try {
      const [top] = await backend.frames(threadId, 1);
      if (!top?.func || !new RegExp(`^${TRAP_FUNCTION}(?:\\.|$)`).test(top.func)) return false;
      const v = await backend.evaluate(trapExpression(TRAP_CONDITION, backend), threadId, 0);
      return Number(v.value) !== 0;
    } catch {
      return false;
    }
  }

  async trapped(backend: DebugBackend, threadId: number): Promise<number | undefined> {
    try {
      const v = await backend.evaluate(trapExpression(TRAP_ID, backend), threadId, 0);
      const id = Number(v.value);
      return Number.isInteger(id) ? id : undefined;
    } catch {
      return undefined;
    }
  }

  set(path: string, bps: DebugProtocol.SourceBreakpoint[], nextId: () => number): DebugProtocol.Breakpoint[] {
    const out: DebugProtocol.Breakpoint[] = [];
    const list: PyBp[] = [];
    for (const bp of bps) {
      const id = nextId();
      const hit = parseHitCondition(bp.hitCondition);
      if (hit.error) {
        out.push({ id, verified: false, line: bp.line, message: hit.error });
        continue;
      }
      list.push({ id, file: path, line: bp.line, condition: bp.condition || undefined, ignoreCount: hit.ignoreCount, modulo: hit.modulo, logMessage: bp.logMessage });
      out.push({ id, verified: true, line: bp.line, source: { path } });
    }
    this.bySource.set(path, list);
    this.write();
    return out;
  }

  /** The exception filters on; unknown ones are reported unverified. */
  setExceptionFilters(filters: string[]): DebugProtocol.Breakpoint[] {
    const known = new Set(EXCEPTION_FILTERS.map((f) => f.filter));
    this.exceptions = [...new Set(filters.filter((f) => known.has(f)))];
    this.write();
    return filters.map((f) => (known.has(f) ? { verified: true } : { verified: false, message: `unknown exception filter '${f}'` }));
  }

  /** At an exception trap: what the bootstrap wrote just before it. */
  exceptionAtTrap(): PythonException | undefined {
    try {
      const e = JSON.parse(readFileSync(`${this.controlPath}.exc`, 'utf8')) as PythonException;
      return typeof e.typeName === 'string' ? e : undefined;
    } catch {
      return undefined;
    }
  }

  /** A step for the thread stopped at the trap (taken when it resumes), or 'cancel': any step
   *  still running ends without a stop. */
  requestStep(kind: StepKind): void {
    this.step = { seq: this.step.seq + 1, kind };
    this.write(false);
  }

  /** Atomic: the bootstrap never reads a half-written file. `breakpoints`: the breakpoints
   *  changed (a new version); a step request alone keeps the version. */
  private write(breakpoints = true): void {
    if (breakpoints) this.version++;
    const body = JSON.stringify({ version: this.version, breakpoints: [...this.bySource.values()].flat(), exceptions: this.exceptions, step: this.step });
    const tmp = `${this.controlPath}.${this.version}.${this.step.seq}.tmp`;
    writeFileSync(tmp, body);
    renameSync(tmp, this.controlPath);
  }

  /** Splits the program's stderr into what it printed and our logpoint lines. */
  filterStderr(text: string): { passthrough: string; logs: string[] } {
    const all = this.pending + text;
    this.pending = '';
    const logs: string[] = [];
    let passthrough = '';
    let start = 0;
    for (;;) {
      const nl = all.indexOf('\n', start);
      if (nl < 0) break;
      const line = all.slice(start, nl);
      if (line.startsWith(LOG_PREFIX)) logs.push(line.slice(LOG_PREFIX.length));
      else passthrough += `${line}\n`;
      start = nl + 1;
    }
    const rest = all.slice(start);
    if (rest && (rest.startsWith(LOG_PREFIX) || LOG_PREFIX.startsWith(rest))) this.pending = rest;
    else passthrough += rest;
    return { passthrough, logs };
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The stack at a trap stop without the trap: everything above the user's Python frame (sys_audit,
 * the eval loop running the bootstrap's hook, the trace / monitoring machinery that called it),
 * and the bootstrap's own frames at the bottom (its `_main`, runpy for `module` launches).
 */
export function hideTrap(frames: MergedFrame[], bootstrap: string): MergedFrame[] {
  const top = frames.findIndex((f) => f.language === 'python' && !isOwnFrame(f, bootstrap));
  return hideBootstrap(top < 0 ? frames : frames.slice(top), bootstrap);
}

/** The bootstrap's own frames (and runpy's, for `module` launches), hidden at any stop. */
export function hideBootstrap(frames: MergedFrame[], bootstrap: string): MergedFrame[] {
  return frames.filter((f) => !isOwnFrame(f, bootstrap));
}

/** A Python frame of the bootstrap or of runpy (never shown; the bootstrap does not count them). */
export function isOwnFrame(f: MergedFrame, bootstrap: string): boolean {
  return f.language === 'python' && (f.file === bootstrap || /(^|\/)runpy\.py$|^<frozen runpy>$/.test(f.file ?? ''));
}
