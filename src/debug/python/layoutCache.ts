/**
 * The DWARF-derived interpreter layout (3.10–3.12), kept on disk per libpython build: asking the
 * debugger for ~70 struct offsets is most of a first stop's extra work, and the answers depend
 * only on the library file. Keyed by the file's path, size and mtime; the process-specific parts
 * (`_PyRuntime`'s address, the exact version) are not kept. Any failure reading or writing the
 * cache just means asking the debugger, as without it.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PyLayout } from './layout';

const FORMAT = 1;
const MAX_ENTRIES = 32;

export function defaultLayoutCacheFile(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'seam', 'layouts.json');
}

/** The cache key of a library file, or undefined when it cannot be stat'ed (a core's host path gone). */
export function layoutKey(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${FORMAT}\0${path}\0${st.size}\0${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

type Stored = Omit<PyLayout, 'runtimeAddress' | 'versionHex'>;

export class LayoutCache {
  private entries: Map<string, Stored> | undefined;

  constructor(private readonly file: string = defaultLayoutCacheFile()) {}

  get(key: string): PyLayout | undefined {
    const hit = this.load().get(key);
    return hit && (JSON.parse(JSON.stringify(hit)) as PyLayout);
  }

  set(key: string, layout: PyLayout): void {
    const { runtimeAddress: _r, versionHex: _v, ...stored } = layout;
    void _r;
    void _v;
    const entries = this.load();
    entries.delete(key);
    entries.set(key, { ...stored, version: `3.${layout.minor}` });
    while (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!);
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify([...entries]));
      renameSync(tmp, this.file);
    } catch {
      /* not kept: the next session asks the debugger again */
    }
  }

  private load(): Map<string, Stored> {
    if (!this.entries) {
      try {
        const data = JSON.parse(readFileSync(this.file, 'utf8')) as [string, Stored][];
        this.entries = new Map(Array.isArray(data) ? data.filter((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'object') : []);
      } catch {
        this.entries = new Map();
      }
    }
    return this.entries;
  }
}
