/**
 * Spreads extraction over worker threads (one per core), in batches so that messaging costs
 * little. Falls back to in-process extraction for small jobs or when no worker script is found.
 *
 * An `ExtractPool` keeps its workers for several jobs: the indexer starts it before walking the
 * roots (the workers load their grammars meanwhile), queues the C files, then the Python files
 * (the C linker runs on the main thread meanwhile), and sends it the files that on-demand
 * linking needs as well, so no parser is ever loaded on the main thread during a build. Each
 * worker holds two batches, so it never waits for the main thread between batches.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { findBundled } from '../bundled';
import { extractFile, type FileResult } from './extractFile';
import type { WorkerJob, WorkerReply } from './worker';
import type { FileLang } from './walk';

export interface ExtractRequest {
  path: string;
  lang: FileLang;
  force?: boolean;
  /** Bytes, when known: batches are cut by size so that big files spread over the workers. */
  size?: number;
}

const BATCH_FILES = 32;
const BATCH_BYTES = 128 * 1024;
/** Batches a worker holds at once: the next is queued while one is extracted. */
const IN_FLIGHT = 2;
/** Below this many files, starting workers costs more than it saves. */
export const IN_PROCESS_BELOW = 64;

export function findWorkerScript(): string | undefined {
  return findBundled('worker.js');
}

function workerCount(): number {
  return Math.max(1, Math.min(Number(process.env.SEAM_WORKERS) || availableParallelism(), 8));
}

function extractInProcess(reqs: ExtractRequest[], onProgress?: (done: number, total: number) => void): FileResult[] {
  const total = reqs.length;
  const out: FileResult[] = [];
  for (const r of reqs) {
    out.push(extractFile(r.path, r.lang, r.force));
    if (out.length % 200 === 0) onProgress?.(out.length, total);
  }
  onProgress?.(total, total);
  return out;
}

export interface ExtractOptions {
  onProgress?: (done: number, total: number) => void;
  /** Each batch's results as they come in (the job still resolves with all of them). */
  onResults?: (results: FileResult[]) => void;
  /** Served before the jobs already waiting. */
  first?: boolean;
  /** Workers (index, of `workers`) that serve this job before any other. */
  prefer?: (worker: number, workers: number) => boolean;
}

interface Job {
  id: number;
  /** Workers (indexes) that serve this job before any other; the others take it when they have
   *  nothing else. */
  prefer?: (worker: number) => boolean;
  reqs: ExtractRequest[];
  next: number;
  done: number;
  results: FileResult[];
  onProgress?: (done: number, total: number) => void;
  onResults?: (results: FileResult[]) => void;
  resolve: (r: FileResult[]) => void;
  reject: (e: Error) => void;
}

/** Worker threads that extract files, kept until `close()`. Jobs are served in order (a job
 *  marked `first` before the others); each resolves when its last file is extracted. */
export class ExtractPool {
  private readonly workers: Worker[] = [];
  /** Batches each worker holds. */
  private readonly held = new Map<Worker, number>();
  private jobs: Job[] = [];
  private nextId = 0;
  private failure: Error | undefined;
  private closed = false;

  constructor(private readonly workerScript = findWorkerScript(), private readonly size = workerCount()) {}

  /** Starts the workers if they are not running yet. */
  start(): this {
    if (this.workers.length || !this.workerScript || this.closed) return this;
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(this.workerScript);
      this.workers.push(w);
      this.held.set(w, 0);
      w.on('message', (reply: WorkerReply) => this.onReply(w, reply));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`index worker exited with code ${code}`));
      });
    }
    return this;
  }

  /** Extracts the files (order of results not guaranteed). Small jobs run in-process unless
   *  the workers are already running. */
  extract(reqs: ExtractRequest[], opts: ExtractOptions = {}): Promise<FileResult[]> {
    const { onProgress, onResults, first = false, prefer } = opts;
    if (reqs.length === 0) {
      onProgress?.(0, 0);
      return Promise.resolve([]);
    }
    if (!this.workerScript || this.closed || (!this.workers.length && reqs.length < IN_PROCESS_BELOW)) {
      const results = extractInProcess(reqs, onProgress);
      onResults?.(results);
      return Promise.resolve(results);
    }
    if (this.failure) return Promise.reject(this.failure);
    this.start();
    return new Promise<FileResult[]>((resolve, reject) => {
      const size = this.size;
      const job: Job = {
        id: this.nextId++, reqs, next: 0, done: 0, results: [], onProgress, onResults, resolve, reject,
        prefer: prefer && ((w: number) => prefer(w, size)),
      };
      if (first) this.jobs.unshift(job);
      else this.jobs.push(job);
      for (const w of this.workers) while ((this.held.get(w) ?? 0) < IN_FLIGHT && this.feed(w));
    });
  }

  /** Hands each worker up to `batches` batches now, in turns: for a stretch in which the main
   *  thread is busy (linking) and cannot feed them. `Infinity`: everything still queued. */
  hold(batches: number): void {
    for (let fed = true; fed;) {
      fed = false;
      for (const w of this.workers) if ((this.held.get(w) ?? 0) < batches && this.feed(w)) fed = true;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** Sends the worker its next batch; false when no file waits. */
  private feed(w: Worker): boolean {
    const index = this.workers.indexOf(w);
    const open = (j: Job): boolean => j.next < j.reqs.length;
    const job = this.jobs.find((j) => open(j) && (!j.prefer || j.prefer(index))) ?? this.jobs.find(open);
    if (!job) return false;
    const files: ExtractRequest[] = [];
    let bytes = 0;
    while (job.next < job.reqs.length && files.length < BATCH_FILES && bytes < BATCH_BYTES) {
      const r = job.reqs[job.next++];
      files.push(r);
      bytes += r.size ?? 4096;
    }
    this.held.set(w, (this.held.get(w) ?? 0) + 1);
    w.postMessage({ id: job.id, files } satisfies WorkerJob);
    return true;
  }

  private onReply(w: Worker, reply: WorkerReply): void {
    this.held.set(w, (this.held.get(w) ?? 1) - 1);
    const job = this.jobs.find((j) => j.id === reply.id);
    if (job) {
      for (const r of reply.results) {
        if (r.factsJson !== undefined) r.facts = JSON.parse(r.factsJson) as FileResult['facts'];
        job.results.push(r);
      }
      job.onResults?.(reply.results);
      job.done += reply.results.length;
      job.onProgress?.(job.done, job.reqs.length);
      if (job.done >= job.reqs.length) {
        this.jobs = this.jobs.filter((j) => j !== job);
        job.resolve(job.results);
      }
    }
    while ((this.held.get(w) ?? 0) < IN_FLIGHT && this.feed(w));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const jobs = this.jobs;
    this.jobs = [];
    for (const j of jobs) j.reject(e);
  }
}

/** One-off extraction: starts workers for the job when it is big enough, then stops them. */
export async function extractAll(
  reqs: ExtractRequest[],
  onProgress?: (done: number, total: number) => void,
  workerScript = findWorkerScript(),
): Promise<FileResult[]> {
  const pool = new ExtractPool(workerScript);
  try {
    return await pool.extract(reqs, { onProgress });
  } finally {
    await pool.close();
  }
}
