/**
 * The symbolizer's answers, kept on disk per file build: an address's frames depend only on the
 * file (and its separate debug file), and a program's stacks come back to the same few hundred
 * return addresses session after session (the eval loop's, the call protocol's). Answering them
 * from disk spares the first stop of a later session the decoding of every compile unit it
 * touches, which costs more in JavaScript than GDB's own first unwind.
 *
 * One JSON file per build under the cache directory, keyed by path, size and mtime of both files
 * and the symbolizer's format. Any failure reading or writing just means computing again.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ElfFile } from './elf';
import { defaultLayoutCacheFile } from '../python/layoutCache';
import { Symbolizer, type SymFrame } from './dwarf';
import type { DwarfTypes } from './dwarfTypes';

/** Bump when the symbolizer's answers change for the same file. */
const FORMAT = 1;
/** Addresses kept per file (a sampler could ask for many more than a debugger ever shows). */
const MAX_ADDRESSES = 50_000;

/**
 * The directory of symbol caches: beside the layout cache (`SEAM_LAYOUT_CACHE`: 0 turns both
 * off, a file path puts them beside it), else `~/.cache/seam/symbols`.
 */
export function symbolCacheDir(): string | undefined {
  const v = process.env.SEAM_LAYOUT_CACHE;
  if (v === '0') return undefined;
  return join(dirname(v && v !== '1' ? v : defaultLayoutCacheFile()), 'symbols');
}

interface Stored {
  key: string;
  frames: [number, SymFrame[]][];
  entries: [number, number][];
}

/** A `Symbolizer` whose answers are remembered, across sessions when given a directory. */
export class CachedSymbolizer {
  private inner: Symbolizer | undefined;
  private readonly frameAnswers = new Map<number, SymFrame[]>();
  private readonly entryAnswers = new Map<number, number>();
  private readonly file: string | undefined;
  private readonly key: string | undefined;
  private dirty = false;
  /** How many answers came from an earlier session. */
  readonly persisted: number;

  /** `name`: the object's path as the process maps it (not the /proc/PID/root path it is read through). */
  constructor(private readonly object: ElfFile, private readonly debug: ElfFile | undefined, name: string, dir: string | undefined) {
    this.key = dir ? cacheKey(object, debug, name) : undefined;
    this.file = dir && this.key ? join(dir, `${createHash('sha1').update(this.key).digest('hex').slice(0, 24)}.json`) : undefined;
    this.persisted = this.load();
  }

  frames(addr: bigint): SymFrame[] {
    const a = Number(addr);
    let out = this.frameAnswers.get(a);
    if (!out) {
      out = this.symbolizer().frames(addr);
      this.remember(this.frameAnswers, a, out);
    }
    return out;
  }

  inlinedEntriesAt(addr: bigint): number {
    const a = Number(addr);
    let n = this.entryAnswers.get(a);
    if (n === undefined) {
      n = this.symbolizer().inlinedEntriesAt(addr);
      this.remember(this.entryAnswers, a, n);
    }
    return n;
  }

  /** The innermost source line at an address, not remembered on disk (the Disassembly view
   *  asks for hundreds at a time). */
  lineAt(addr: bigint): SymFrame | undefined {
    const f = this.frameAnswers.get(Number(addr))?.[0] ?? this.symbolizer().frames(addr)[0];
    return f?.line ? f : undefined;
  }

  /** The C types of the compile unit holding `addr` (never cached on disk: asked once a session). */
  typesAt(addr: bigint): DwarfTypes | undefined {
    return this.symbolizer().typesAt(addr);
  }

  knowsFrames(addr: number): boolean {
    return this.frameAnswers.has(addr);
  }

  knowsEntries(addr: number): boolean {
    return this.entryAnswers.has(addr);
  }

  /** Answers computed elsewhere (the learner's worker) for this file. */
  accept(frames: readonly [number, SymFrame[]][], entries: readonly [number, number][]): void {
    for (const [a, f] of frames) if (!this.frameAnswers.has(a)) this.remember(this.frameAnswers, a, f);
    for (const [a, n] of entries) if (!this.entryAnswers.has(a)) this.remember(this.entryAnswers, a, n);
  }

  /** Writes the answers found since the last save (atomically: a rename). */
  save(): void {
    if (!this.dirty || !this.file || !this.key) return;
    this.dirty = false;
    const stored: Stored = { key: this.key, frames: [...this.frameAnswers], entries: [...this.entryAnswers] };
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(stored));
      renameSync(tmp, this.file);
    } catch {
      /* not kept: computed again next session */
    }
  }

  private symbolizer(): Symbolizer {
    this.inner ??= new Symbolizer(this.object, this.debug);
    return this.inner;
  }

  private remember<T>(m: Map<number, T>, a: number, v: T): void {
    if (m.size >= MAX_ADDRESSES) return;
    m.set(a, v);
    this.dirty = true;
  }

  private load(): number {
    if (!this.file) return 0;
    try {
      const s = JSON.parse(readFileSync(this.file, 'utf8')) as Stored;
      if (s.key !== this.key || !Array.isArray(s.frames) || !Array.isArray(s.entries)) return 0;
      for (const [a, f] of s.frames) if (typeof a === 'number' && Array.isArray(f)) this.frameAnswers.set(a, f);
      for (const [a, n] of s.entries) if (typeof a === 'number' && typeof n === 'number') this.entryAnswers.set(a, n);
      return this.frameAnswers.size;
    } catch {
      return 0;
    }
  }
}

function cacheKey(object: ElfFile, debug: ElfFile | undefined, name: string): string | undefined {
  try {
    const o = statSync(object.path);
    const d = debug ? statSync(debug.path) : undefined;
    // The debug file is read through /proc/PID/root: that prefix changes with every process.
    const debugName = debug?.path.replace(/^\/proc\/\d+\/root/, '') ?? '';
    return [FORMAT, name, o.size, o.mtimeMs, debugName, d?.size ?? '', d?.mtimeMs ?? ''].join('\0');
  } catch {
    return undefined;
  }
}
