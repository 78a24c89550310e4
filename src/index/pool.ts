/**
 * Spreads extraction over worker threads (one per core), in batches so that messaging costs
 * little. Falls back to in-process extraction for small jobs or when no worker script is found.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
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
/** Below this many files, starting workers costs more than it saves. */
const IN_PROCESS_BELOW = 64;

export function findWorkerScript(): string | undefined {
  for (const rel of ['worker.js', '../worker.js', '../../worker.js', '../../../worker.js']) {
    const p = join(__dirname, rel);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export async function extractAll(
  reqs: ExtractRequest[],
  onProgress?: (done: number, total: number) => void,
  workerScript = findWorkerScript(),
): Promise<FileResult[]> {
  const total = reqs.length;
  if (total < IN_PROCESS_BELOW || !workerScript) {
    const out: FileResult[] = [];
    for (const r of reqs) {
      out.push(extractFile(r.path, r.lang, r.force));
      if (out.length % 200 === 0) onProgress?.(out.length, total);
    }
    onProgress?.(total, total);
    return out;
  }
  // Big files first so that no worker is left with one large file at the end.
  const n = Math.max(1, Math.min(Number(process.env.SEAM_WORKERS) || availableParallelism(), 8));
  const results: FileResult[] = [];
  let next = 0;
  let jobId = 0;
  let done = 0;
  const workers: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: n }, () => new Promise<void>((resolve, reject) => {
        const w = new Worker(workerScript);
        workers.push(w);
        const feed = (): void => {
          if (next >= total) {
            resolve();
            return;
          }
          const files: ExtractRequest[] = [];
          let bytes = 0;
          while (next < total && files.length < BATCH_FILES && bytes < BATCH_BYTES) {
            const r = reqs[next++];
            files.push(r);
            bytes += r.size ?? 4096;
          }
          w.postMessage({ id: jobId++, files } satisfies WorkerJob);
        };
        w.on('message', (reply: WorkerReply) => {
          results.push(...reply.results);
          done += reply.results.length;
          onProgress?.(done, total);
          feed();
        });
        w.on('error', reject);
        w.on('exit', (code) => {
          if (next < total || code !== 0) reject(new Error(`index worker exited with code ${code}`));
        });
        feed();
      })),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
