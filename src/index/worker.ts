/** Index worker thread: extracts facts for batches of files sent by the pool. */
import { parentPort } from 'node:worker_threads';
import { extractFile, type FileResult } from './extractFile';
import type { FileLang } from './walk';

export interface WorkerJob {
  id: number;
  files: { path: string; lang: FileLang; force?: boolean }[];
}
export interface WorkerReply {
  id: number;
  results: FileResult[];
}

parentPort?.on('message', (job: WorkerJob) => {
  const results = job.files.map((f) => extractFile(f.path, f.lang, f.force));
  parentPort!.postMessage({ id: job.id, results } satisfies WorkerReply);
});
