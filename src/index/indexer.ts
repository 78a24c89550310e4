/**
 * The indexer: finds the files under the roots, extracts (or takes from the cache) each file's
 * facts, links them into a NameIndex, and keeps it current as files change. The only part of the
 * index that does I/O; everything it calls into under src/core is pure.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, join, relative, sep } from 'node:path';
import { linkC } from '../core/c/link';
import { CRefs } from '../core/c/refs';
import { cColumn0Names, type CFileFacts } from '../core/c/extract';
import { packagingOf } from './packaging';
import { cModuleAliases, demoteAlternateCBuilds } from './cPackages';
import { linkRustCrate } from '../core/rust/link';
import type { RustFileFacts } from '../core/rust/extract';
import { linkPython, RANK_PY_DEF } from '../core/python/link';
import { moduleNameFor } from '../core/python/module';
import type { PythonFileFacts } from '../core/python/extract';
import type { LinkOutput } from '../core/model';
import { NameIndex } from '../core/nameIndex';
import { walkRoots, langOf, SETUP_PY, type FileLang } from './walk';
import { ExtractPool, IN_PROCESS_BELOW, extractAll, type ExtractRequest } from './pool';
import { EXTRACTORS_VERSION, extractFile, type Facts, type FileResult } from './extractFile';
import { CacheWriter, cachePathFor, factsOfCached, hasFacts, loadCache, saveCache, type CachedFile, type CachedLink } from './cache';
import { readSource } from './fileReader';

export interface IndexerOptions {
  roots: string[];
  /** Where the persisted cache lives; none when undefined. */
  cacheDir?: string;
  followSymlinks?: boolean;
  log?: (line: string) => void;
  progress?: (done: number, total: number) => void;
}

export interface IndexStats {
  files: number;
  parsed: number;
  fromCache: number;
  skipped: number;
  names: number;
  warm: boolean;
  ms: { walk: number; extract: number; link: number; total: number };
}

interface Entry extends CachedFile {
  lang: FileLang;
  root: string;
  /** A C file the cheap scan skipped, read in this build: what its column-0 lines define. */
  column0?: string[];
  /** `facts` as JSON text, when a worker sent them (the cache writes it as it is). */
  factsJson?: string;
}


/** Bumped by any change to what the linkers make of unchanged facts: a cache's linked output
 *  from another version is linked again (its facts are kept). */
const LINKERS_VERSION = 1;

export class Indexer {
  index = new NameIndex([]);
  private entries = new Map<string, Entry>();
  private manifests = new Map<string, string>(); // Cargo.toml / pyproject.toml / setup.py path -> text
  private packageDirs = new Set<string>();
  private readonly log: (line: string) => void;
  private readonly roots: string[];
  private lastStats: IndexStats | undefined;
  private link: CachedLink | undefined;
  /** Workers of the build under way (on-demand parsing uses them too). */
  private pool: ExtractPool | undefined;
  /** The cache file the build under way writes as it goes. */
  private writer: CacheWriter | undefined;

  constructor(private readonly opts: IndexerOptions) {
    this.log = opts.log ?? (() => undefined);
    this.roots = opts.roots;
  }

  get stats(): IndexStats | undefined {
    return this.lastStats;
  }

  /** Builds the index, from the cache where files are unchanged. */
  async build(): Promise<IndexStats> {
    const pool = new ExtractPool();
    this.pool = pool;
    try {
      return await this.buildWith(pool);
    } catch (e) {
      this.writer?.abort(); // no half-written cache left behind
      throw e;
    } finally {
      this.writer = undefined;
      this.pool = undefined;
      await pool.close();
    }
  }

  private async buildWith(pool: ExtractPool): Promise<IndexStats> {
    const t0 = performance.now();
    const cachePath = this.opts.cacheDir ? cachePathFor(this.opts.cacheDir, this.roots) : undefined;
    // No cache: every file will be extracted, so the workers start now and load their parsers
    // while the roots are walked.
    if (!cachePath || !existsSync(cachePath)) pool.start();
    const walked = walkRoots(this.roots, { followSymlinks: this.opts.followSymlinks ?? false });
    for (const s of walked.skipped) this.log(`skipped ${s}`);
    this.packageDirs = walked.packageDirs;
    this.manifests.clear();
    for (const m of walked.manifests) {
      const r = readSource(m, 1 << 20);
      if ('text' in r) this.manifests.set(m, r.text);
    }
    let cached = new Map<string, CachedFile>();
    let cachedLink: CachedLink | undefined;
    if (cachePath) {
      const c = loadCache(cachePath, EXTRACTORS_VERSION, this.roots);
      if (c.ok) {
        cached = c.files;
        cachedLink = c.link;
      } else if (c.reason) this.log(`index cache ${cachePath}: ${c.reason}`);
    }
    const tWalk = performance.now();

    this.entries = new Map();
    const todo: ExtractRequest[] = [];
    let fromCache = 0;
    for (const f of walked.files) {
      let st;
      try {
        st = statSync(f.path);
      } catch {
        continue;
      }
      const c = cached.get(f.path);
      if (c && c.mtimeMs === st.mtimeMs && c.size === st.size) {
        this.entries.set(f.path, { ...c, lang: f.lang, root: f.root });
        fromCache++;
      } else {
        this.entries.set(f.path, { mtimeMs: st.mtimeMs, size: st.size, facts: null, lang: f.lang, root: f.root });
        todo.push({ path: f.path, lang: f.lang, size: st.size });
      }
    }
    // A build that extracts writes the cache as it goes: each file's entry once its facts are
    // final (parsed, or skipped for a reason; a file the cheap scan passed over may still be
    // parsed on demand, so it waits for the end), the linkers' output last.
    const writer = cachePath && todo.length > 0 ? new CacheWriter(cachePath, this.opts.cacheDir!, EXTRACTORS_VERSION, this.roots) : undefined;
    this.writer = writer;
    const written = new Set<string>();
    const write = (path: string, e: CachedFile & { factsJson?: string }): void => {
      if (!writer || written.has(path) || (!hasFacts(e) && !e.skip)) return;
      writer.file(path, e);
      written.add(path);
    };
    for (const [p, e] of this.entries) write(p, e); // from the cache (final ones only, as below)
    // What C tables name and no C file defines, gathered as the C facts come in (see below).
    // (Only when something is extracted: a warm start links nothing.)
    const refs = todo.length > 0 ? new CRefs() : undefined;
    if (refs) for (const [p, e] of this.entries) if (e.lang === 'c' && hasFacts(e)) refs.add(this.factsOfEntry(p, e) as CFileFacts);
    const onResults = (results: FileResult[]): void => {
      for (const r of results) {
        const e = this.entries.get(r.path)!;
        if (refs && r.facts && e.lang === 'c') refs.add(r.facts as CFileFacts);
        if (!writer) continue;
        write(r.path, { mtimeMs: e.mtimeMs, size: e.size, facts: r.facts, skip: r.skip, factsJson: r.factsJson });
        if (written.has(r.path)) r.factsJson = undefined; // written: not kept in memory
      }
    };
    // C and Rust files go to half the workers, Python files to the other half (a worker warms
    // up one extractor, not two: on a small machine the JIT's warm-up is a good part of the
    // work), each largest first; a worker whose files are done takes the others'. The C linker
    // runs on the main thread as soon as the C files are in.
    if (todo.length >= IN_PROCESS_BELOW) pool.start();
    const bySize = (a: ExtractRequest, b: ExtractRequest): number => (b.size ?? 0) - (a.size ?? 0);
    const native = todo.filter((r) => r.lang !== 'python').sort(bySize);
    const python = todo.filter((r) => r.lang === 'python').sort(bySize);
    const progress = this.opts.progress;
    const done = [0, 0];
    const report = (k: number) => progress && ((n: number): void => {
      done[k] = n;
      progress(done[0] + done[1], todo.length);
    });
    const nativeDone = pool.extract(native, { onProgress: report(0), onResults, prefer: (w, n) => n < 2 || w < Math.ceil(n / 2) });
    const pythonDone = pool.extract(python, { onProgress: report(1), onResults, prefer: (w, n) => n >= 2 && w >= Math.ceil(n / 2) });
    pythonDone.catch(() => undefined); // awaited below, unless the C files failed first
    this.apply(await nativeDone);
    // The skipped C files that define what C tables name and no parsed file defines are parsed
    // now, first in the workers' queues, so that the link below is the only one.
    if (refs) await this.parseDefinitions(this.findDefinitions(refs.undefinedNames()));
    // The main thread links C now and cannot feed the workers meanwhile: they get the rest.
    pool.hold(Infinity);
    // C's bindings go into the name index while the Python files are still parsed.
    const cLinked = todo.length > 0 ? this.linkCOnDemand().then((c) => ({ ...c, index: new NameIndex([c.out]) })) : undefined;
    cLinked?.catch(() => undefined); // awaited below, unless the Python files failed first
    this.apply(await pythonDone);
    let skipped = 0;
    for (const [p, e] of this.entries) {
      if (e.skip) {
        skipped++;
        this.log(`skipped ${p}: ${e.skip}`);
      }
    }
    const tExtract = performance.now();
    let changed = false;
    if (cachedLink && todo.length === 0 && cachedLink.key === this.linkKey()) {
      this.link = cachedLink; // nothing changed since the cache was written: skip linking
      this.index = new NameIndex(cachedLink.outputs);
    } else {
      const c = await cLinked;
      // No more parsing in this build: the workers' memory is given back while linking.
      const closed = pool.close();
      changed = await this.relink(c);
      await closed;
    }
    const tLink = performance.now();
    if (writer) {
      for (const [p, e] of this.entries) {
        if (!written.has(p)) writer.file(p, e);
        e.factsJson = undefined;
      }
      const err = writer.finish(this.link);
      if (err) this.log(err);
    } else if (cachePath && (changed || cached.size !== this.entries.size || cachedLink?.key !== this.link?.key)) {
      this.save(cachePath);
    }
    const warm = fromCache > 0;
    this.lastStats = {
      files: this.entries.size,
      parsed: [...this.entries.values()].filter(hasFacts).length,
      fromCache,
      skipped,
      names: this.index.size,
      warm,
      ms: { walk: tWalk - t0, extract: tExtract - tWalk, link: tLink - tExtract, total: tLink - t0 },
    };
    return this.lastStats;
  }

  private apply(results: FileResult[]): void {
    for (const r of results) {
      const e = this.entries.get(r.path)!;
      e.facts = r.facts;
      e.stored = undefined;
      e.factsJson = r.factsJson;
      e.skip = r.skip;
      if (r.column0) e.column0 = r.column0;
    }
  }

  /** Re-reads the given files (changed, created or deleted) and relinks. */
  async update(paths: string[]): Promise<void> {
    const todo: ExtractRequest[] = [];
    for (const p of paths) {
      const name = p.split(sep).pop() ?? '';
      if (name === 'Cargo.toml' || name === 'pyproject.toml' || SETUP_PY.test(name)) {
        const r = readSource(p, 1 << 20);
        if ('text' in r) this.manifests.set(p, r.text);
        else this.manifests.delete(p);
        if (!SETUP_PY.test(name)) continue; // setup.py is Python source too
      }
      const lang = langOf(name);
      if (!lang) continue;
      let st;
      try {
        st = statSync(p);
      } catch {
        this.entries.delete(p); // deleted
        continue;
      }
      const root = this.roots.find((r) => !relative(r, p).startsWith('..'));
      if (!root) continue;
      if (name === '__init__.py' || name === '__init__.pyi') this.packageDirs.add(dirname(p));
      this.entries.set(p, { mtimeMs: st.mtimeMs, size: st.size, facts: null, lang, root });
      todo.push({ path: p, lang });
    }
    for (const r of await extractAll(todo)) {
      const e = this.entries.get(r.path);
      if (!e) continue;
      e.facts = r.facts;
      e.factsJson = r.factsJson;
      e.skip = r.skip;
      if (r.skip) this.log(`skipped ${r.path}: ${r.skip}`);
    }
    await this.relink();
    if (this.opts.cacheDir) this.save(cachePathFor(this.opts.cacheDir, this.roots));
  }

  /** Digest of everything linking depends on besides the facts' contents (which follow from
   *  the files' sizes and mtimes). */
  private linkKey(): string {
    // One update of one string: thousands of small updates cost more than the hashing.
    const parts: string[] = [`linkers ${LINKERS_VERSION}\n`];
    for (const [p, e] of [...this.entries].sort((a, b) => (a[0] < b[0] ? -1 : 1))) parts.push(`${p}\0${e.size}\0${e.mtimeMs}\0${hasFacts(e) ? 1 : 0}\n`);
    for (const [p, t] of [...this.manifests].sort((a, b) => (a[0] < b[0] ? -1 : 1))) parts.push(`${p}\0${t}\n`);
    for (const d of [...this.packageDirs].sort()) parts.push(`${d}\n`);
    return createHash('sha256').update(parts.join('')).digest('hex');
  }

  private save(cachePath: string): void {
    const files = new Map<string, CachedFile & { factsJson?: string }>();
    for (const [p, e] of this.entries) files.set(p, { mtimeMs: e.mtimeMs, size: e.size, facts: e.facts, skip: e.skip, factsJson: e.factsJson, stored: e.stored });
    const err = saveCache(cachePath, this.opts.cacheDir!, EXTRACTORS_VERSION, this.roots, files, this.link);
    if (err) this.log(err);
    for (const e of this.entries.values()) e.factsJson = undefined; // written: not kept twice in memory
  }

  /** Links the C facts; parses on demand the C files that define functions tables elsewhere
   *  name, and links again when they added facts. */
  private async linkCOnDemand(): Promise<{ out: ReturnType<typeof linkC>; added: boolean }> {
    const out = this.linkC();
    if (out.unresolved.length === 0) return { out, added: false };
    const paths = this.findDefinitions(new Set(out.unresolved));
    if (paths.length === 0) return { out, added: false };
    const added = await this.parseDefinitions(paths);
    return { out: added ? this.linkC() : out, added };
  }

  /** Parses C files the cheap scan skipped (they define functions linking needs); returns
   *  whether any gave facts. */
  private async parseDefinitions(paths: string[]): Promise<boolean> {
    if (paths.length === 0) return false;
    const reqs = paths.map((path) => ({ path, lang: 'c' as const, force: true }));
    let added = false;
    for (const r of await (this.pool ? this.pool.extract(reqs, { first: true }) : extractAll(reqs))) {
      const e = this.entries.get(r.path);
      if (e && r.facts) {
        e.facts = r.facts;
        e.stored = undefined;
        e.factsJson = r.factsJson;
        added = true;
      }
    }
    return added;
  }

  /** Links all facts (the C part given when already linked); returns whether on-demand parsing
   *  added facts. */
  private async relink(cLinked?: { out: ReturnType<typeof linkC>; added: boolean; index: NameIndex }): Promise<boolean> {
    // Rust and Python link while the files C linking needs are parsed.
    const c = cLinked ? Promise.resolve(cLinked) : this.linkCOnDemand();
    const rust = this.linkRust();
    const py = this.linkPy();
    const got: { out: ReturnType<typeof linkC>; added: boolean; index?: NameIndex } = await c;
    const { out: cOut, added } = got;
    const index = got.index ?? new NameIndex([cOut]);
    // C modules named bare in their PyModuleDef, under the import path setup.py or their package gives.
    const setups = new Map([...this.manifests].filter(([p]) => SETUP_PY.test(basename(p))));
    const cPaths: LinkOutput = { bindings: [], aliases: cModuleAliases(cOut.bindings, setups, (d) => this.packageOf(d)), warnings: [] };
    demoteAlternateCBuilds(cOut.bindings, this.manifests);
    const outputs: LinkOutput[] = [cOut, ...rust, py, cPaths];
    for (const o of outputs) for (const w of o.warnings) this.log(w);
    for (const o of outputs.slice(1)) index.add(o);
    this.index = index;
    // Keyed after on-demand parsing, which changes which files have facts.
    this.link = { key: this.linkKey(), outputs: outputs.map((o) => ({ bindings: o.bindings, aliases: o.aliases, warnings: [] })) };
    return added;
  }

  /** The dotted package a directory is (`''` when it has no `__init__.py`). */
  private packageOf(dir: string): string {
    const names: string[] = [];
    for (let d = dir; this.packageDirs.has(d); d = dirname(d)) {
      names.unshift(basename(d));
      if (dirname(d) === d) break;
    }
    return names.join('.');
  }

  private linkC(): ReturnType<typeof linkC> {
    const files = new Map<string, CFileFacts>();
    for (const [p, e] of this.entries) if (e.lang === 'c' && hasFacts(e)) files.set(p, this.factsOfEntry(p, e) as CFileFacts);
    return linkC(files);
  }

  /** C files skipped by the cheap scan that define one of `names` at column 0. */
  private findDefinitions(names: Set<string>): string[] {
    const out: string[] = [];
    for (const [p, e] of this.entries) {
      if (e.lang !== 'c' || hasFacts(e) || e.skip) continue;
      let defined = e.column0;
      if (!defined) {
        const r = readSource(p);
        if (!('text' in r)) continue;
        defined = cColumn0Names(r.text);
      }
      if (defined.some((n) => names.has(n))) out.push(p);
    }
    return out;
  }

  private linkRust(): LinkOutput[] {
    // Each .rs file belongs to the crate of the nearest Cargo.toml above it.
    const crates = new Map<string, Map<string, RustFileFacts>>();
    for (const [p, e] of this.entries) {
      if (e.lang !== 'rust' || !hasFacts(e)) continue;
      let dir = dirname(p);
      let crateRoot = e.root;
      for (;;) {
        if (this.manifests.has(join(dir, 'Cargo.toml'))) {
          crateRoot = dir;
          break;
        }
        const up = dirname(dir);
        if (up === dir || relative(e.root, dir) === '') break;
        dir = up;
      }
      let files = crates.get(crateRoot);
      if (!files) crates.set(crateRoot, (files = new Map()));
      files.set(p, this.factsOfEntry(p, e) as RustFileFacts);
    }
    const outs: LinkOutput[] = [];
    for (const [root, files] of crates) {
      try {
        outs.push(linkRustCrate({
          root,
          cargoToml: this.manifests.get(join(root, 'Cargo.toml')) ?? '',
          ...packagingOf(root, this.manifests),
          files,
        }));
      } catch (e) {
        this.log(`crate ${root}: not linked (${(e as Error).message})`);
      }
    }
    return outs;
  }

  private linkPy(): LinkOutput {
    const files = new Map<string, { module: string; facts: PythonFileFacts; stub: boolean }>();
    const empty: PythonFileFacts = { language: 'python', defs: [], imports: [] };
    const projects = this.projectDirs();
    for (const [p, e] of this.entries) {
      // Files the cheap scan skipped still tell the linker which modules are Python, not native.
      if (e.lang !== 'python' || e.skip) continue;
      const module = this.moduleNameIn(e.root, p, projects);
      files.set(p, { module, facts: (this.factsOfEntry(p, e) as PythonFileFacts | null) ?? empty, stub: p.endsWith('.pyi') });
    }
    const out = linkPython(files);
    // Each module itself (`import heapq`, the cursor on `heapq`): its file's first line, after a
    // native module of that name (`datetime`: the C `_datetime` is another name).
    for (const [p, f] of files) {
      if (f.stub || !f.module) continue;
      out.bindings.push({ name: f.module, target: { language: 'python', kind: 'module', file: p, line: 1, symbol: f.module.slice(f.module.lastIndexOf('.') + 1), style: 'python', rank: RANK_PY_DEF } });
    }
    return out;
  }

  /** Facts of one file (for the cursor resolver: a Python file's imports). */
  factsOf(path: string): Facts | null | undefined {
    const e = this.entries.get(path);
    return e && this.factsOfEntry(path, e);
  }

  /** An entry's facts, read from the cache's bytes when still there; facts the cache holds but
   *  that do not parse (a cache re-signed after damage) are extracted from the file again. */
  private factsOfEntry(path: string, e: Entry): Facts | null {
    try {
      return factsOfCached(e);
    } catch (err) {
      this.log(`index cache: facts of ${path} unreadable (${(err as Error).message.slice(0, 80)}); read again from the file`);
      e.stored = undefined;
      const r = extractFile(path, e.lang);
      e.facts = r.facts;
      e.skip = r.skip;
      return e.facts;
    }
  }

  /** The Python module a file in the roots is, or undefined. */
  moduleOf(path: string): string | undefined {
    const root = this.roots.find((r) => !relative(r, path).startsWith('..'));
    if (!root) return undefined;
    return this.moduleNameIn(root, path);
  }

  /** The dotted module a Python file under `root` is (its packages, a `src/` layout's namespaces). */
  private moduleNameIn(root: string, path: string, projects = this.projectDirs()): string {
    const rel = relative(root, path).split(sep).join('/');
    return moduleNameFor(rel, (relDir) => this.packageDirs.has(join(root, relDir)), (relDir) => projects.has(join(root, relDir)));
  }

  /** Directories holding a Python project's setup.py or pyproject.toml. */
  private projectDirs(): Set<string> {
    return new Set([...this.manifests.keys()].filter((m) => /(?:^|[\\/])(?:pyproject\.toml|setup\.py)$/.test(m)).map((m) => dirname(m)));
  }

  /** Python sources under the roots, for reference search. */
  *pythonFiles(): IterableIterator<string> {
    for (const [p, e] of this.entries) if (e.lang === 'python' && !e.skip) yield p;
  }

  readText(path: string): string | undefined {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  }
}
