/**
 * The persisted index cache: per-file facts keyed by path, with the size and mtime they were
 * extracted from. Written atomically (temp file + rename); a cache that does not parse, or comes
 * from other extractors or roots, is discarded and rebuilt, never trusted.
 */
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Facts } from './extractFile';
import type { LinkOutput } from '../core/model';

export const CACHE_FORMAT = 1;

export interface CachedFile {
  mtimeMs: number;
  size: number;
  facts: Facts | null;
  skip?: string;
}

/** The linkers' output for one exact set of files: a warm start with nothing changed skips
 *  linking. `key` digests every file's path, size and mtime, the manifests and the packages. */
export interface CachedLink {
  key: string;
  outputs: LinkOutput[];
}

interface CacheFile {
  format: number;
  extractors: string;
  roots: string[];
  files: Record<string, CachedFile>;
  link?: CachedLink;
}

export function cachePathFor(cacheDir: string, roots: string[]): string {
  const h = createHash('sha256').update(JSON.stringify([...roots].sort())).digest('hex').slice(0, 16);
  return join(cacheDir, `index-${h}.json`);
}

export type CacheLoad =
  | { ok: true; files: Map<string, CachedFile>; link?: CachedLink }
  | { ok: false; reason: string | undefined /* undefined: simply absent */ };

export function loadCache(path: string, extractors: string, roots: string[]): CacheLoad {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { ok: false, reason: undefined };
  }
  try {
    const c = JSON.parse(text) as CacheFile;
    if (c.format !== CACHE_FORMAT || c.extractors !== extractors) {
      return { ok: false, reason: 'made by another version of Seam; rebuilding' };
    }
    if (JSON.stringify([...c.roots].sort()) !== JSON.stringify([...roots].sort()) || typeof c.files !== 'object') {
      return { ok: false, reason: 'made for other roots; rebuilding' };
    }
    return { ok: true, files: new Map(Object.entries(c.files)), link: c.link };
  } catch (e) {
    try {
      unlinkSync(path);
    } catch {
      /* already gone */
    }
    return { ok: false, reason: `corrupt (${(e as Error).message.slice(0, 80)}); discarded and rebuilding` };
  }
}

/** Returns an error message when the cache could not be written (disk full, no permission):
 *  the index works on without it. */
export function saveCache(path: string, dir: string, extractors: string, roots: string[], files: Map<string, CachedFile>, link?: CachedLink): string | undefined {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    const body: CacheFile = { format: CACHE_FORMAT, extractors, roots, files: Object.fromEntries(files), link };
    writeFileSync(tmp, JSON.stringify(body));
    renameSync(tmp, path);
    return undefined;
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing written */
    }
    return `index cache not saved (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): the next start will index from scratch`;
  }
}
