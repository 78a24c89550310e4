/**
 * The persisted index cache: per-file facts keyed by path, with the size and mtime they were
 * extracted from, and the linkers' output. Written atomically (temp file + rename).
 *
 * The file is a header line (`seam-index-cache <format> sha256=<hex>`) and the body it digests,
 * in lines: the cache's identity (`{"format","extractors","roots"}`), then each file's facts as
 * JSON, one per line, then (last) the files' stamps (size, mtime, where their facts are) and the
 * linkers' output. A warm start parses the identity and the last line only: each file's facts
 * are read from their bytes when something asks for them (a changed file relinks everything; a
 * warm start with nothing changed never does). A cache whose digest does not match (damaged even
 * inside valid JSON), that does not parse, or that comes from other extractors or roots, is
 * discarded and rebuilt, never trusted.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Facts } from './extractFile';
import type { LinkOutput, Target } from '../core/model';

export const CACHE_FORMAT = 4;
const MAGIC = 'seam-index-cache';

export interface CachedFile {
  mtimeMs: number;
  size: number;
  /** The facts, once read (see `stored`). */
  facts: Facts | null;
  skip?: string;
  /** Facts still in the cache file's bytes, not yet parsed (`factsOfCached`). */
  stored?: StoredFacts;
}

/** One file's facts as the cache file holds them: JSON text, parsed when asked for. */
export class StoredFacts {
  constructor(private readonly bytes: Buffer, private readonly start: number, private readonly end: number) {}

  json(): string {
    return this.bytes.toString('utf8', this.start, this.end);
  }
}

/** A cached file's facts, parsed from the cache's bytes the first time they are asked for. */
export function factsOfCached(f: CachedFile): Facts | null {
  if (f.stored) {
    f.facts = JSON.parse(f.stored.json()) as Facts;
    f.stored = undefined;
  }
  return f.facts;
}

/** Whether a cached file has facts (read or still stored). */
export function hasFacts(f: CachedFile): boolean {
  return f.facts !== null || f.stored !== undefined;
}

/** The linkers' output for one exact set of files: a warm start with nothing changed skips
 *  linking. `key` digests every file's path, size and mtime, the manifests and the packages. */
export interface CachedLink {
  key: string;
  outputs: LinkOutput[];
}

/** The body's first line. */
interface CacheIdentity {
  format: number;
  extractors: string;
  roots: string[];
}

/** The body's last line: each file's stamp, with where its facts are (body byte offsets). */
interface CacheStamps {
  files: Record<string, { mtimeMs: number; size: number; facts?: [number, number]; skip?: string }>;
  link?: PackedLink;
}

/**
 * The linkers' output as written: each target's file an index into `files`. Some 20,000
 * bindings of CPython name a few thousand files; written out in full the paths were a quarter
 * of the cache. (Rows instead of objects would halve it again, but building 20,000 objects
 * from rows on a warm start costs more than JSON.parse building them.)
 */
interface PackedLink {
  key: string;
  files: string[];
  outputs: { bindings: { name: string; target: Omit<Target, 'file'> & { file: number } }[]; aliases: LinkOutput['aliases'] }[];
}

function packLink(link: CachedLink): PackedLink {
  const files: string[] = [];
  const fileIndex = new Map<string, number>();
  const outputs = link.outputs.map((o) => ({
    aliases: o.aliases,
    bindings: o.bindings.map(({ name, target }) => {
      let f = fileIndex.get(target.file);
      if (f === undefined) {
        f = files.length;
        files.push(target.file);
        fileIndex.set(target.file, f);
      }
      return { name, target: { ...target, file: f } };
    }),
  }));
  return { key: link.key, files, outputs };
}

/** In place: the parsed packed link becomes the link. */
function unpackLink(p: PackedLink): CachedLink {
  for (const o of p.outputs) {
    for (const b of o.bindings) (b.target as unknown as Target).file = p.files[b.target.file];
    (o as unknown as LinkOutput).warnings = [];
  }
  return { key: p.key, outputs: p.outputs as unknown as LinkOutput[] };
}

export function cachePathFor(cacheDir: string, roots: string[]): string {
  const h = createHash('sha256').update(JSON.stringify([...roots].sort())).digest('hex').slice(0, 16);
  return join(cacheDir, `index-${h}.json`);
}

export type CacheLoad =
  | { ok: true; files: Map<string, CachedFile>; link?: CachedLink }
  | { ok: false; reason: string | undefined /* undefined: simply absent */ };

export function loadCache(path: string, extractors: string, roots: string[]): CacheLoad {
  // Read as bytes: the digest is of the body's bytes, and only two of its lines are decoded.
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return { ok: false, reason: undefined };
  }
  try {
    const nl = bytes.indexOf(0x0a);
    const head = /^seam-index-cache (\d+) sha256=([0-9a-f]{64})$/.exec(nl > 0 ? bytes.toString('latin1', 0, Math.min(nl, 200)) : '');
    if (!head) throw new Error('no Seam cache header');
    if (Number(head[1]) !== CACHE_FORMAT) return { ok: false, reason: 'made by another version of Seam; rebuilding' };
    const body = nl + 1;
    if (createHash('sha256').update(bytes.subarray(body)).digest('hex') !== head[2]) throw new Error('its digest does not match its content');
    const idEnd = bytes.indexOf(0x0a, body);
    const last = bytes.lastIndexOf(0x0a);
    if (idEnd < 0 || last < idEnd) throw new Error('lines missing');
    const id = JSON.parse(bytes.toString('utf8', body, idEnd)) as CacheIdentity;
    if (id.format !== CACHE_FORMAT || id.extractors !== extractors) {
      return { ok: false, reason: 'made by another version of Seam; rebuilding' };
    }
    if (JSON.stringify([...id.roots].sort()) !== JSON.stringify([...roots].sort())) {
      return { ok: false, reason: 'made for other roots; rebuilding' };
    }
    const stamps = JSON.parse(bytes.toString('utf8', last + 1)) as CacheStamps;
    if (typeof stamps.files !== 'object') throw new Error('no files');
    const files = new Map<string, CachedFile>();
    for (const [p, f] of Object.entries(stamps.files)) {
      const c: CachedFile = { mtimeMs: f.mtimeMs, size: f.size, facts: null };
      if (f.skip !== undefined) c.skip = f.skip;
      if (f.facts) {
        const [start, end] = f.facts;
        if (!(body + start <= body + end && body + end <= last)) throw new Error(`facts out of bounds for ${p}`);
        c.stored = new StoredFacts(bytes, body + start, body + end);
      }
      files.set(p, c);
    }
    return { ok: true, files, link: stamps.link && unpackLink(stamps.link) };
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
 *  the index works on without it. A file's `factsJson`, when given, is its facts as JSON text
 *  (written as it is, not serialised again). */
export function saveCache(
  path: string, dir: string, extractors: string, roots: string[],
  files: Map<string, CachedFile & { factsJson?: string }>, link?: CachedLink,
): string | undefined {
  const w = new CacheWriter(path, dir, extractors, roots);
  for (const [p, f] of files) w.file(p, f);
  return w.finish(link);
}

/** Body text gathered before a write: few system calls, no one huge string. */
const FLUSH_CHARS = 1 << 20;

/**
 * Writes a cache file as a build goes: each file's facts once final (a cold build writes and
 * digests most of the cache while the workers still parse, instead of after linking), the
 * files' stamps and the linkers' output last (see the header comment for the lines). A file's
 * facts are taken from its `factsJson` or its stored bytes when it has them (not serialised
 * again). The header, of fixed length, is written over its placeholder once the digest is known;
 * the file is renamed into place when complete. A failure (disk full, no permission) is kept and
 * reported by `finish`, and the partial file removed.
 */
export class CacheWriter {
  private readonly tmp: string;
  private fd: number | undefined;
  private readonly hash = createHash('sha256');
  private pending: string[] = [];
  private pendingChars = 0;
  /** Bytes of body before the stamps (where the next file's facts start). */
  private bytes = 0;
  /** Each file's stamp, as JSON text (`"path":{…}`). */
  private readonly stamps: string[] = [];
  private error: unknown;

  constructor(private readonly path: string, dir: string, extractors: string, roots: string[]) {
    this.tmp = `${path}.${process.pid}.tmp`;
    try {
      mkdirSync(dir, { recursive: true });
      this.fd = openSync(this.tmp, 'w');
      writeSync(this.fd, header('0'.repeat(64)));
    } catch (e) {
      this.fail(e);
    }
    const id: CacheIdentity = { format: CACHE_FORMAT, extractors, roots };
    this.counted(`${JSON.stringify(id)}\n`);
  }

  /** A file's entry (each path once). */
  file(p: string, f: CachedFile & { factsJson?: string }): void {
    const facts = f.factsJson ?? f.stored?.json() ?? (f.facts === null ? undefined : JSON.stringify(f.facts));
    let where = '';
    if (facts !== undefined) {
      const start = this.bytes;
      this.counted(`${facts}\n`);
      where = `,"facts":[${start},${this.bytes - 1}]`;
    }
    const skip = f.skip === undefined ? '' : `,"skip":${JSON.stringify(f.skip)}`;
    this.stamps.push(`${JSON.stringify(p)}:{"mtimeMs":${JSON.stringify(f.mtimeMs)},"size":${JSON.stringify(f.size)}${where}${skip}}`);
  }

  /** Ends the file with the stamps and the linkers' output and puts it in place; the error
   *  message, if any. */
  finish(link?: CachedLink): string | undefined {
    this.body(`{"files":{${this.stamps.join(',')}}${link === undefined ? '' : `,"link":${JSON.stringify(packLink(link))}`}}`);
    this.stamps.length = 0;
    this.flush();
    try {
      if (this.error !== undefined) throw this.error;
      writeSync(this.fd!, header(this.hash.digest('hex')), 0);
      closeSync(this.fd!);
      this.fd = undefined;
      renameSync(this.tmp, this.path);
      return undefined;
    } catch (e) {
      this.abort();
      return `index cache not saved (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): the next start will index from scratch`;
    }
  }

  /** Drops the partial file (a build that failed). */
  abort(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        /* closed */
      }
      this.fd = undefined;
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      /* nothing written */
    }
  }

  /** Body text whose bytes the stamps' offsets count (not the stamps and link line itself). */
  private counted(text: string): void {
    this.bytes += Buffer.byteLength(text);
    this.body(text);
  }

  private body(text: string): void {
    if (this.error !== undefined) return;
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars >= FLUSH_CHARS) this.flush();
  }

  private flush(): void {
    if (this.error !== undefined || this.pending.length === 0) return;
    const bytes = Buffer.from(this.pending.join(''));
    this.pending = [];
    this.pendingChars = 0;
    this.hash.update(bytes);
    try {
      for (let off = 0; off < bytes.length;) off += writeSync(this.fd!, bytes, off, bytes.length - off);
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    this.error ??= e;
    this.pending = [];
  }
}

function header(digest: string): string {
  return `${MAGIC} ${CACHE_FORMAT} sha256=${digest}\n`;
}
