/**
 * Index worker thread: extracts facts for batches of files sent by the pool. Facts cross to the
 * main thread as JSON text (`factsJson`): JSON.parse there costs a fraction of a structured
 * clone of the same objects, and the cache writes the text as it is.
 */
import { parentPort } from 'node:worker_threads';
import { extractFile, type FileResult } from './extractFile';
import type { FileLang } from './walk';

export interface WorkerJob {
  id: number;
  files: { path: string; lang: FileLang; force?: boolean }[];
}
export interface WorkerReply {
  id: number;
  /** `facts` is null here; `factsJson` holds them when there are any. */
  results: FileResult[];
}

parentPort?.on('message', (job: WorkerJob) => {
  const results = job.files.map((f): FileResult => {
    const r = extractFile(f.path, f.lang, f.force);
    return r.facts ? { ...r, facts: null, factsJson: JSON.stringify(r.facts) } : r;
  });
  parentPort!.postMessage({ id: job.id, results } satisfies WorkerReply);
});
