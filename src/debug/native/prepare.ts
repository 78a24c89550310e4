/**
 * What a first stop reads of a Python process's files, read before it: while the program runs
 * and the debugger waits for it, Seam's own thread is idle, and every Python stack passes
 * through the same few functions of the interpreter (the eval loop, the call protocol, start-up)
 * and of the C library (its start-up, the calls a thread waits in). Their compile units' line
 * tables and function indexes, the interpreter's struct types, the symbol tables and the CFI
 * index are decoded then, so the first stop decodes only what is particular to the program.
 *
 * `preparedFunctions` (which functions) is pure; `readAhead` reads them and the layout's types, a
 * step per turn of the event loop (`IdleSteps`), while `IdleWatch` says the debugger is idle and
 * no stop holds the steps. The session unwinder (sessionUnwinder.ts) says when.
 */
import { readFileSync } from 'node:fs';
import type { FunctionSymbol } from './elf';
import { cloneOf, EVAL_LOOP, isGlueName } from '../stack/glue';
import { cfiOf } from './cfi';
import { DwarfFirstSymbols } from './dwarfSymbols';
import type { CTypes } from './dwarfTypes';
import type { Symbolizers } from './nativeStack';
import type { ProcessModules } from './processModules';
import type { Module } from './unwind';
import { layoutFromDwarf, pythonMinorOfModules } from '../python/layout';

/**
 * C library functions a stopped thread is commonly found in or under: blocking system calls and
 * the waits of locks and condition variables (a thread waiting for the GIL), by their symbol
 * names (public, `__`-prefixed and glibc-internal `__GI_` ones).
 */
const WAITS = /^(?:__GI_)?_*(?:libc_)?(?:read|write|poll|ppoll|select|pselect6?|epoll_wait|epoll_pwait2?|nanosleep|clock_nanosleep(?:_time64)?|accept4?|recv(?:from|msg)?|send(?:to|msg)?|wait4|waitpid|sigtimedwait|sigwaitinfo|pause|futex_abstimed_wait\w*|pthread_cond_(?:timed|clock)?wait\w*|pthread_cond_wait_common|sem_(?:timed|clock)?wait\w*|pthread_(?:clock|timed)?join\w*|pthread_mutex_(?:timed|clock)?lock\w*|lll_lock_wait\w*|syscall)$/;

/**
 * The interpreter's own waits, where a paused program's threads are most often found: file and
 * console reads (fileutils.c, Modules/_io), `time.sleep`, lock acquisition (Modules/_threadmodule.c,
 * Python/thread_pthread.h, 3.13's parking lot) and a thread waiting for the GIL.
 */
const INTERPRETER_WAITS = /^(?:_Py_(?:read|write)|_io_FileIO_(?:readinto|read|readall|write)_impl|_bufferedreader_raw_read|_io__Buffered_(?:read|read1|readline|readinto)_impl|_buffered_readline|_textiowrapper_readline|_io_TextIOWrapper_(?:read|readline)_impl|builtin_input_impl|pysleep|time_sleep|acquire_timed|lock_PyThread_acquire_lock|rlock_acquire|PyThread_acquire_lock_timed(?:_with_retries)?|_?PyMutex_LockTimed|_PySemaphore_Wait|_PyParkingLot_Park|take_gil)$/;

/** What kind of file a module is to the prepared set. */
export type PreparedKind = 'interpreter' | 'libc' | 'executable';

/**
 * The functions of a file whose compile units a first stop is bound to read: the interpreter's
 * eval loop, glue (stack/glue.ts) and waits, the C library's start-up and waits, the executable's
 * `main`.
 * One per name (the first, by address); at most `max`.
 */
export function preparedFunctions(functions: readonly FunctionSymbol[], kind: PreparedKind, max = 400): FunctionSymbol[] {
  const wanted = (name: string): boolean => {
    switch (kind) {
      case 'interpreter': return EVAL_LOOP.test(name) || isGlueName(name) || INTERPRETER_WAITS.test(name);
      case 'libc': return WAITS.test(name) || isGlueName(name);
      case 'executable': return name === 'main' || isGlueName(name);
    }
  };
  const out: FunctionSymbol[] = [];
  const seen = new Set<string>();
  for (const f of functions) {
    if (out.length >= max) break;
    // GCC's clones and split parts by their function's name (`cfunction_call.lto_priv.0`,
    // `pyrun_file.constprop.0.cold` in an LTO build).
    if (seen.has(f.name) || !(wanted(f.name) || wanted(cloneOf(f.name)))) continue;
    seen.add(f.name);
    out.push(f);
  }
  return out;
}

/** How often a busy debugger's CPU time is looked at again. */
export const IDLE_CHECK_MS = 50;

/**
 * Whether a process (the debugger) is idle: its CPU time (user + system, in clock ticks of 10 ms,
 * from /proc/PID/stat) has not grown since the last look. Never idle in the first IDLE_CHECK_MS
 * (a resume's stop may be at hand); without a pid, idle after that.
 */
export class IdleWatch {
  private ticks: number | undefined;
  private readonly since = performance.now();

  constructor(private readonly pid: number | undefined) {
    this.ticks = this.read();
  }

  idle(): boolean {
    if (performance.now() - this.since < IDLE_CHECK_MS) return false;
    const now = this.read();
    const was = this.ticks;
    this.ticks = now;
    return now === undefined || now === was;
  }

  private read(): number | undefined {
    if (this.pid === undefined) return undefined;
    try {
      // Fields after the command name (which may hold spaces): state is 3rd, utime 14th, stime 15th.
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(f[11]) + Number(f[12]);
    } catch {
      return undefined;
    }
  }
}

/** The reading ahead stopped: the session ended, or its unwinder is warm without it. */
export class Ended extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Work done a step per turn of the event loop: each step only once the debugger is idle and
 * nothing holds the steps (a stop the debugger unwinds: the two would share the cores). A step
 * taken once `over()` says so throws `Ended`; a step that throws gives undefined (unreadable
 * here: read, or not, at the stop, as without reading ahead).
 */
export class IdleSteps {
  private held: { until: Promise<void>; release: () => void } | undefined;

  constructor(private readonly over: () => boolean) {}

  /** Makes the steps wait (until `release`). */
  hold(): void {
    if (this.held) return;
    let release = (): void => undefined;
    const until = new Promise<void>((resolve) => { release = resolve; });
    this.held = { until, release };
  }

  release(): void {
    const h = this.held;
    this.held = undefined;
    h?.release();
  }

  async step<T>(idle: IdleWatch, f: () => T): Promise<T | undefined> {
    await nextTurn();
    while (this.held || !idle.idle()) await (this.held?.until ?? sleep(IDLE_CHECK_MS));
    if (this.over()) throw new Ended();
    try {
      return f();
    } catch {
      return undefined;
    }
  }
}

/** What `readAhead` reads of a process, through the session unwinder's readers. */
export interface ReadAheadTarget {
  modules: ProcessModules;
  symbolizers: Symbolizers;
  /** The interpreter's file (libpython, else the executable). */
  interpreter(): Module | undefined;
  /** The interpreter's C types (read here, a step). */
  types(): CTypes | undefined;
  /** An interpreter symbol's address from its ELF symbol table. */
  symbol(name: string): bigint | undefined;
}

/** The C library's file. */
const LIBC = /\/libc(?:-[\d.]+)?\.so(?:\.\d+)?$/;

/**
 * Reads, a step at a time (`step`), what a first stop reads of the process's files: the
 * interpreter's types and the layout's answers from them (3.10–3.12; 3.13+ has debug offsets),
 * then the prepared functions of the interpreter, the C library and the executable (their units'
 * line tables and function indexes, their CFI). False when the interpreter is not mapped yet (a
 * launch before its libraries load: a later library load or resume tries again).
 */
export async function readAhead(t: ReadAheadTarget, step: <T>(f: () => T) => Promise<T | undefined>): Promise<boolean> {
  t.modules.reload();
  t.modules.resumed(); // read while the program runs: a library it loads next is read at a miss
  const interpreter = t.interpreter();
  if (!interpreter || !await step(() => interpreter.elf.functions().some((f) => EVAL_LOOP.test(f.name)))) return false;
  const types = await step(() => { t.symbol('_PyRuntime'); t.symbol('Py_Version'); return t.types(); });
  const minor = pythonMinorOfModules(t.modules.paths());
  if (minor !== undefined && minor >= 10 && minor <= 12 && types) {
    const own = new DwarfFirstSymbols({ address: async () => undefined }, () => types, (name) => t.symbol(name));
    // (Each answer is a step's promise of the reader's promise: awaited twice.)
    await layoutFromDwarf(minor, {
      address: async (name) => await (await step(() => own.address(name))),
      offsetOf: async (type, field) => await (await step(() => own.offsetOf(type, field))),
      sizeOf: async (type) => await (await step(() => own.sizeOf(type))),
    }).catch(() => undefined); // a field the DWARF lacks: the stop asks the debugger, as without reading ahead
  }
  const files: [Module | undefined, PreparedKind][] = [[interpreter, 'interpreter'], [t.modules.find((p) => LIBC.test(p)), 'libc']];
  const exe = t.modules.find((_, executable) => executable);
  if (exe && exe !== interpreter) files.push([exe, 'executable']);
  for (const [m, kind] of files) {
    if (!m) continue;
    const sym = t.symbolizers.of(m);
    const cfi = cfiOf(m.elf);
    const fns = (await step(() => preparedFunctions([...m.elf.functions(), ...(m.debug?.functions() ?? [])], kind))) ?? [];
    for (const f of fns) await step(() => { sym.frames(f.addr); cfi.rowFor('eh', Number(f.addr)); });
  }
  return true;
}
