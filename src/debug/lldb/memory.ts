/**
 * The debuggee's memory and symbols through LLDB. lldb-vscode-16 has no `readMemory` request, so
 * memory comes from /proc/PID/mem for a live local process (LLDB keeps it stopped meanwhile), and
 * otherwise (core files, a process /proc refuses) from `memory read --binary --outfile`, one page
 * run per command, cached by 4 KiB page until the program resumes. Symbols are C expressions
 * evaluated by LLDB (clang over the DWARF), cached for the session.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryError, type Memory, type Symbols } from '../types';
import { ProcMemory } from '../python/procMemory';
import { pythonMinorOfModules } from '../python/layout';
import { commandError, commandOutput } from './parse';

/** What the memory and symbol readers need of the backend. */
export interface LldbCommands {
  /** Runs an LLDB command; resolves with its output (errors included, as LLDB printed them). */
  command(text: string): Promise<string>;
  /** Evaluates a C expression; resolves with LLDB's value text, undefined when it fails. */
  expression(text: string): Promise<string | undefined>;
  /** The live local process, when there is one. */
  readonly pid: number | undefined;
  readonly isCore: boolean;
}

const PAGE = 4096n;
const PAGE_MASK = ~(PAGE - 1n);

export class LldbMemory implements Memory {
  private pages = new Map<bigint, Uint8Array | null>();
  private proc: ProcMemory | null | undefined;
  private procPid: number | undefined;
  private dir: string | undefined;
  private n = 0;
  /** `memory read` commands sent (for tests and the log). */
  reads = 0;

  constructor(private readonly lldb: LldbCommands) {}

  invalidate(): void {
    this.pages = new Map();
  }

  dispose(): void {
    void this.proc?.close();
    this.proc = undefined;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  async read(address: bigint, size: number): Promise<Uint8Array> {
    if (size < 0 || size > 1 << 28) throw new MemoryError(address, size, 'bad size');
    if (size === 0) return new Uint8Array(0);
    const proc = this.procReader();
    if (proc) {
      try {
        return await proc.read(address, size);
      } catch (e) {
        // /proc refused (another user's process, Yama): LLDB reads instead from now on. An address
        // /proc cannot read is unmapped: LLDB will not do better for a live process.
        if (!(e instanceof MemoryError) || !/cannot open/.test(e.message)) throw e;
        this.proc = null;
      }
    }
    const first = address & PAGE_MASK;
    const last = (address + BigInt(size) - 1n) & PAGE_MASK;
    const missing: bigint[] = [];
    for (let p = first; p <= last; p += PAGE) if (!this.pages.has(p)) missing.push(p);
    if (missing.length) await this.fetchPages(missing);
    const out = new Uint8Array(size);
    for (let p = first; p <= last; p += PAGE) {
      const page = this.pages.get(p);
      if (!page) return this.readRaw(address, size); // partly readable pages: read exactly as asked
      const from = p < address ? Number(address - p) : 0;
      const to = Math.min(4096, Number(address + BigInt(size) - p));
      out.set(page.subarray(from, to), Number(p + BigInt(from) - address));
    }
    return out;
  }

  private procReader(): ProcMemory | undefined {
    if (this.lldb.isCore) return undefined;
    const pid = this.lldb.pid;
    if (pid === undefined) return undefined;
    if (this.procPid !== pid) {
      void this.proc?.close();
      this.procPid = pid;
      this.proc = new ProcMemory(pid);
    }
    return this.proc ?? undefined; // null: refused before
  }

  /** Contiguous runs of missing pages, one `memory read` each; an unreadable run is marked page by page. */
  private async fetchPages(missing: bigint[]): Promise<void> {
    const runs: Array<{ start: bigint; count: number }> = [];
    for (const p of missing) {
      const r = runs[runs.length - 1];
      if (r && r.start + BigInt(r.count) * PAGE === p && r.count < 16) r.count++;
      else runs.push({ start: p, count: 1 });
    }
    await Promise.all(runs.map(async (r) => {
      const bytes = await this.readRaw(r.start, r.count * 4096).catch(() => undefined);
      if (bytes) {
        for (let i = 0; i < r.count; i++) this.pages.set(r.start + BigInt(i) * PAGE, bytes.slice(i * 4096, (i + 1) * 4096));
        return;
      }
      // Some page of the run is unreadable: find which, one page at a time.
      for (let i = 0; i < r.count; i++) {
        const p = r.start + BigInt(i) * PAGE;
        this.pages.set(p, (await this.readRaw(p, 4096).catch(() => undefined)) ?? null);
      }
    }));
  }

  /** Through LLDB, always: memory as the program has it, LLDB's breakpoint traps (which it keeps
   *  in place while stopped, where /proc shows `int3`) taken out. */
  readThroughDebugger(address: bigint, size: number): Promise<Uint8Array> {
    return this.readRaw(address, size);
  }

  private async readRaw(address: bigint, size: number): Promise<Uint8Array> {
    this.dir ??= mkdtempSync(join(tmpdir(), 'seam-lldb-mem-'));
    const file = join(this.dir, `m${this.n++}.bin`);
    this.reads++;
    const out = await this.lldb.command(`memory read --force --binary --outfile "${file}" --count ${size} 0x${address.toString(16)}`);
    const err = commandError(out);
    if (err) throw new MemoryError(address, size, err);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      throw new MemoryError(address, size, commandOutput(out).trim() || 'LLDB wrote nothing');
    } finally {
      rmSync(file, { force: true });
    }
    if (bytes.length < size) throw new MemoryError(address, size, `only ${bytes.length} bytes readable`);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, size);
  }
}

/** `Symbols` from LLDB's view of the DWARF: `&name`, `&((T*)0)->field`, `sizeof(T)`. */
export class LldbSymbols implements Symbols {
  private readonly cache = new Map<string, Promise<string | undefined>>();

  constructor(private readonly lldb: LldbCommands) {}

  async address(name: string): Promise<bigint | undefined> {
    const v = await this.eval(`(unsigned long)&${name}`);
    if (v !== undefined && /^\d+$/.test(v)) return BigInt(v);
    // The expression reads the variable too, which fails where its memory is not in a core file
    // (read-only data): the symbol table still has its address.
    if (!/^\w+$/.test(name)) return undefined;
    const out = await this.lldb.command(`image lookup --verbose --symbol ${name}`).catch(() => '');
    const m = /Symbol: id = \{[^}]*\}, range = \[(0x[0-9a-f]+)-/i.exec(out);
    return m ? BigInt(m[1]) : undefined;
  }

  async pythonMinor(): Promise<number | undefined> {
    const names = await this.lldb.command('image list --basename').catch(() => '');
    return pythonMinorOfModules(names.split('\n').map((l) => l.trim().split(/\s+/).pop() ?? ''));
  }

  async offsetOf(type: string, field: string): Promise<number | undefined> {
    return toNumber(await this.eval(`(long)&((${type}*)0)->${field}`));
  }

  async sizeOf(type: string): Promise<number | undefined> {
    return toNumber(await this.eval(`(long)sizeof(${type})`));
  }

  /** Forgets answers (a library loaded: a symbol missing before may be there now). */
  clear(): void {
    this.cache.clear();
  }

  private eval(expr: string): Promise<string | undefined> {
    let p = this.cache.get(expr);
    if (!p) {
      p = this.lldb.expression(expr);
      this.cache.set(expr, p);
      p.catch(() => this.cache.delete(expr));
    }
    return p;
  }
}

function toNumber(v: string | undefined): number | undefined {
  return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
}
