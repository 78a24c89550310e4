/**
 * What a first stop reads of a Python process's files, read before it: while the program runs
 * and the debugger waits for it, Seam's own thread is idle, and every Python stack passes
 * through the same few functions of the interpreter (the eval loop, the call protocol, start-up)
 * and of the C library (its start-up, the calls a thread waits in). Their compile units' line
 * tables and function indexes, the interpreter's struct types, the symbol tables and the CFI
 * index are decoded then, so the first stop decodes only what is particular to the program.
 *
 * `preparedFunctions` (which functions) is pure; the session unwinder (sessionUnwinder.ts) reads
 * them a step per turn of the event loop, while `IdleWatch` says the debugger is idle.
 */
import { readFileSync } from 'node:fs';
import type { FunctionSymbol } from './elf';
import { EVAL_LOOP, isGlueName } from '../stack/glue';

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
    if (seen.has(f.name) || !wanted(f.name)) continue;
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

