/**
 * The debuggee's memory and symbols through GDB/MI: works on any target GDB has (live process,
 * attached process, core file). For a live local process that this GDB traces, pages are read
 * from /proc/PID/mem instead (no MI round trip; GDB keeps the process stopped meanwhile).
 */
import { readFileSync } from 'node:fs';
import { MemoryError, type Memory, type Symbols } from '../types';
import * as mi from '../mi/commands';
import { ProcMemory } from '../python/procMemory';
import { processState } from '../nativeStop';
import { pythonMinorOfModules } from '../python/layout';
import { GdbCommandError, type GdbConnection } from './connection';

/** What these classes need of a connection (a GdbConnection, or a fake in tests); `pid` is GDB's. */
export type MiRunner = Pick<GdbConnection, 'run' | 'on'> & { readonly pid?: number };

const PAGE = 4096n;
const PAGE_MASK = ~(PAGE - 1n);

export interface GdbMemoryOptions {
  /** Most pages fetched by one `-data-read-memory-bytes` (default 16 = 64 KiB). */
  maxPagesPerRead?: number;
  /** Read a live local inferior through /proc/PID/mem (default true). */
  procMemory?: boolean;
}

/**
 * `Memory` over `-data-read-memory-bytes`, with a cache of whole aligned 4 KiB pages. Missing
 * pages are fetched in runs of contiguous pages, all runs of one read sent at once. The cache is
 * dropped whenever the program resumes (and on `invalidate()`).
 *
 * When GDB reports an inferior process (`=thread-group-started,pid=`) whose /proc status names
 * this GDB as its tracer, runs are read with one pread of /proc/PID/mem each; a run that pread
 * cannot read whole (a mapping ends inside it) goes through GDB as before. Core files, remote
 * targets and processes GDB does not trace (another user's, a stale pid) never take that path.
 */
export class GdbMemory implements Memory {
  /** Page base -> its bytes, or null when the page is not (entirely) readable. */
  private pages = new Map<bigint, Uint8Array | null>();
  /** /proc/PID/mem has read something for this process: a page it cannot read is not mapped. */
  private procWorks = false;
  /** Pages /proc/PID/mem could not read while others of the same run could: not mapped. */
  private unmapped = new Set<bigint>();
  private generation = 0;
  private readonly maxPages: bigint;
  private readonly unsubscribe: Array<() => void>;
  /** The inferior's pid as GDB reported it, and its /proc reader once checked (null: not usable). */
  private inferiorPid: number | undefined;
  private proc: ProcMemory | null | undefined;
  /** Number of `-data-read-memory-bytes` sent (for tests and the traffic log). */
  reads = 0;
  /** Number of runs read through /proc/PID/mem. */
  procReads = 0;

  constructor(private readonly conn: MiRunner, opts: GdbMemoryOptions = {}) {
    this.maxPages = BigInt(Math.max(1, opts.maxPagesPerRead ?? 16));
    // Pages read while the program ran (a request that raced the stop) are stale at the stop too.
    this.unsubscribe = [
      conn.on('running', () => this.invalidate()),
      conn.on('stopped', () => this.invalidate()),
      conn.on('gdb-exit', () => this.setInferior(undefined)),
    ];
    if (opts.procMemory !== false) {
      this.unsubscribe.push(conn.on('async', (a) => {
        if (a.kind !== 'notify') return;
        if (a.asyncClass === 'thread-group-started') this.setInferior(Number(a.results.str('pid')) || undefined);
        else if (a.asyncClass === 'thread-group-exited') this.setInferior(undefined);
      }));
    }
  }

  invalidate(): void {
    this.pages = new Map();
    this.unmapped = new Set();
    this.generation++;
  }

  dispose(): void {
    for (const u of this.unsubscribe) u();
    this.setInferior(undefined);
  }

  private setInferior(pid: number | undefined): void {
    this.procWorks = false;
    void this.proc?.close();
    this.proc = undefined;
    this.inferiorPid = pid;
  }

  /** /proc/PID/mem of the inferior when this GDB traces it (checked once per inferior), else null. */
  private procMemory(): ProcMemory | null {
    if (this.proc !== undefined) return this.proc;
    const pid = this.inferiorPid, gdbPid = this.conn.pid;
    this.proc = null;
    if (pid === undefined || gdbPid === undefined || process.platform !== 'linux') return null;
    try {
      const tracer = /^TracerPid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (Number(tracer) === gdbPid) this.proc = new ProcMemory(pid);
    } catch {
      // No such process here (a core file's pid, a remote target): GDB reads.
    }
    return this.proc;
  }

  /** The pid of a live local inferior whose memory is read directly (this GDB traces it), else undefined. */
  liveProcessId(): number | undefined {
    return this.procMemory() ? this.inferiorPid : undefined;
  }

  async read(address: bigint, size: number): Promise<Uint8Array> {
    if (size < 0 || !Number.isInteger(size)) throw new MemoryError(address, size, 'bad size');
    if (size === 0) return new Uint8Array(0);
    if (address < 0n) throw new MemoryError(address, size, 'negative address');
    const end = address + BigInt(size);
    const first = address & PAGE_MASK;
    const last = (end - 1n) & PAGE_MASK;

    // Runs of missing pages, each at most maxPages long.
    const runs: Array<{ start: bigint; count: bigint }> = [];
    for (let p = first; p <= last; p += PAGE) {
      if (this.pages.has(p)) continue;
      const run = runs[runs.length - 1];
      if (run && run.start + run.count * PAGE === p && run.count < this.maxPages) run.count++;
      else runs.push({ start: p, count: 1n });
    }
    await Promise.all(runs.map((r) => this.fetchRun(r.start, r.count)));

    const out = new Uint8Array(size);
    for (let p = first; p <= last; p += PAGE) {
      const page = this.pages.get(p);
      if (!page && this.unmapped.has(p)) throw new MemoryError(address, size, `page 0x${p.toString(16)} is not mapped`);
      if (!page) return this.readUncached(address, size); // partly readable page, or a resume raced us
      const from = p > address ? p : address;
      const to = p + PAGE < end ? p + PAGE : end;
      out.set(page.subarray(Number(from - p), Number(to - p)), Number(from - address));
    }
    return out;
  }

  private async fetchRun(start: bigint, count: bigint): Promise<void> {
    const gen = this.generation;
    const len = Number(count * PAGE);
    const proc = this.procMemory();
    if (proc) {
      try {
        this.procReads++;
        const bytes = await proc.read(start, len);
        this.procWorks = true;
        if (gen !== this.generation) return;
        for (let i = 0; i < Number(count); i++) this.pages.set(start + BigInt(i) * PAGE, bytes.slice(i * 4096, (i + 1) * 4096));
        return;
      } catch {
        // Not readable whole: a mapping ends inside the run (the top of a stack). Page by page,
        // still through /proc (GDB itself reads a live process there); GDB only when /proc
        // reads nothing at all (the process went away, a permission lost).
        const got = await Promise.all(Array.from({ length: Number(count) }, (_, i) =>
          proc.read(start + BigInt(i) * PAGE, 4096).catch(() => null)));
        if (gen !== this.generation) return;
        if (got.some((p) => p !== null) || (this.procWorks && processState(proc.pid).alive)) {
          got.forEach((p, i) => {
            const base = start + BigInt(i) * PAGE;
            this.pages.set(base, p);
            if (!p) this.unmapped.add(base);
          });
          return;
        }
      }
    }
    let blocks: mi.MiMemoryBlock[];
    try {
      this.reads++;
      blocks = await this.conn.run(mi.dataReadMemoryBytes(start, len));
    } catch (e) {
      if (!(e instanceof GdbCommandError)) throw e;
      blocks = [];
    }
    if (gen !== this.generation) return;
    const runBytes = new Uint8Array(len);
    const coveredBytes = new Array<number>(Number(count)).fill(0);
    for (const b of blocks) {
      const off = b.begin - start;
      if (off < 0n || off >= BigInt(len)) continue;
      const o = Number(off);
      const n = Math.min(b.contents.length, len - o);
      runBytes.set(b.contents.subarray(0, n), o);
      for (let i = o; i < o + n;) {
        const page = Math.floor(i / 4096);
        const pageEnd = Math.min((page + 1) * 4096, o + n);
        coveredBytes[page] += pageEnd - i;
        i = pageEnd;
      }
    }
    for (let i = 0; i < coveredBytes.length; i++) {
      const base = start + BigInt(i) * PAGE;
      this.pages.set(base, coveredBytes[i] === 4096 ? runBytes.slice(i * 4096, (i + 1) * 4096) : null);
    }
  }

  /** Exact read without the cache, for ranges in pages that are only partly readable. */
  private async readUncached(address: bigint, size: number): Promise<Uint8Array> {
    let blocks: mi.MiMemoryBlock[];
    try {
      this.reads++;
      blocks = await this.conn.run(mi.dataReadMemoryBytes(address, size));
    } catch (e) {
      if (e instanceof GdbCommandError) throw new MemoryError(address, size, e.gdbMessage);
      throw e;
    }
    const out = new Uint8Array(size);
    let got = 0;
    for (const b of blocks) {
      const off = Number(b.begin - address);
      if (off < 0 || off >= size) continue;
      const n = Math.min(b.contents.length, size - off);
      out.set(b.contents.subarray(0, n), off);
      got += n;
    }
    if (got < size) throw new MemoryError(address, size, `only ${got} bytes readable`);
    return out;
  }
}

/**
 * `Symbols` from GDB's DWARF knowledge: C expressions evaluated with the language forced to C
 * (stopped in a Rust frame GDB's language is rust, where C casts fail), then set back. Requests
 * made together share one language switch; answers are cached for the session.
 */
export class GdbSymbols implements Symbols {
  private readonly cache = new Map<string, Promise<string | undefined>>();
  private batch: Array<{ expr: string; resolve: (v: string | undefined) => void; reject: (e: unknown) => void }> = [];

  /** Names of the libraries loaded so far. */
  private readonly libraries: string[] = [];

  constructor(private readonly conn: MiRunner) {
    // A symbol missing before libpython (or an extension) loaded may be there now.
    conn.on('library-loaded', (l: { id: string; targetName?: string; hostName?: string }) => {
      this.libraries.push(l.targetName ?? l.hostName ?? l.id);
      this.clear();
    });
  }

  async pythonModulePath(): Promise<string | undefined> {
    const lib = this.libraries.find((l) => /\/libpython3\.\d+/.test(l));
    if (lib) return lib;
    const groups = await this.conn.run(mi.listThreadGroups()).catch(() => []);
    return groups.map((g) => g.executable).find((e): e is string => !!e);
  }

  async pythonMinor(): Promise<number | undefined> {
    const fromLibraries = pythonMinorOfModules(this.libraries);
    if (fromLibraries !== undefined) return fromLibraries;
    const groups = await this.conn.run(mi.listThreadGroups()).catch(() => []);
    return pythonMinorOfModules(groups.map((g) => g.executable ?? ''));
  }

  async address(name: string): Promise<bigint | undefined> {
    const v = await this.evalC(`(unsigned long)&${name}`);
    return v !== undefined && /^\d+$/.test(v) ? BigInt(v) : undefined;
  }

  async offsetOf(type: string, field: string): Promise<number | undefined> {
    return this.viaShortcut(type, (pointer) => `(long)&((${pointer})0)->${field}`);
  }

  async sizeOf(type: string): Promise<number | undefined> {
    return this.viaShortcut(type, (pointer) => `sizeof(*(${pointer})0)`);
  }

  /** The expression over a faster spelling of `type *` first (TYPE_SHORTCUTS), then over `type *`. */
  private async viaShortcut(type: string, expr: (pointerType: string) => string): Promise<number | undefined> {
    for (const p of TYPE_SHORTCUTS[type] ?? []) {
      const v = toNumber(await this.evalC(expr(p)));
      if (v !== undefined) return v;
    }
    return toNumber(await this.evalC(expr(`${type}*`)));
  }

  /** Forgets cached answers (after loading other symbols). */
  clear(): void {
    this.cache.clear();
  }

  private evalC(expr: string): Promise<string | undefined> {
    let p = this.cache.get(expr);
    if (!p) {
      p = new Promise<string | undefined>((resolve, reject) => {
        this.batch.push({ expr, resolve, reject });
        if (this.batch.length === 1) queueMicrotask(() => void this.flush());
      });
      this.cache.set(expr, p);
      // A failure caused by the session (GDB gone, program running) is not an answer: retry later.
      p.catch(() => this.cache.delete(expr));
    }
    return p;
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    const c = this.conn;
    // Written in one go, in this order, so that no other command runs between the switch to C
    // and the switch back: show, set c, the evaluations, set auto. Only a language the user set
    // explicitly (not auto) is restored afterwards, with a short window.
    const settle = <T>(p: Promise<T>) => p.then((value) => ({ value }), (error: unknown) => ({ error }));
    const shown = settle(c.run(mi.gdbShow('language')));
    const toC = settle(c.run(mi.gdbSet('language', 'c')));
    const answers = batch.map((item) => settle(c.run(mi.dataEvaluateExpression(item.expr))));
    const back = settle(c.run(mi.gdbSet('language', 'auto')));
    const sh = await shown;
    const previous = 'value' in sh ? /^\s*([\w+-]+)/.exec(sh.value)?.[1] ?? 'auto' : 'auto';
    await toC;
    await back;
    if (previous !== 'auto') await c.run(mi.gdbSet('language', previous)).catch(() => undefined);
    for (let i = 0; i < batch.length; i++) {
      const a = await answers[i];
      if ('value' in a) batch[i].resolve(a.value);
      else if (a.error instanceof GdbCommandError && !/running|not stopped/i.test(a.error.gdbMessage)) batch[i].resolve(undefined);
      else batch[i].reject(a.error);
    }
  }
}

/**
 * Looking a struct up by its name makes GDB search (and expand) the DWARF of every compile unit
 * that might define it: with pyenv's libpython 3.12, `struct _gil_runtime_state` costs ~700 ms and
 * `_PyInterpreterFrame` ~110 ms on the first stop. The same types reached through a field of a type
 * GDB already has (`__typeof__`) cost under 1 ms. Tried in order; the plain name when none answers
 * (another CPython version, no such field).
 */
const TYPE_SHORTCUTS: Record<string, string[]> = {
  // Pointer types (GDB's parser takes `(__typeof__(p))0`, not `(__typeof__(*p)*)0`).
  'struct _gil_runtime_state': ['__typeof__(((PyInterpreterState*)0)->ceval.gil)'],
  '_PyInterpreterFrame': ['__typeof__(((_PyCFrame*)0)->current_frame)', '__typeof__(((PyThreadState*)0)->current_frame)'],
};

function toNumber(v: string | undefined): number | undefined {
  return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
}
