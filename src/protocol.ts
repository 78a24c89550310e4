/**
 * Seam's custom LSP messages, in one typed module shared by the language server, the extension
 * client and the tests. Everything else goes through standard LSP requests.
 */
import type { Target } from './core/model';

/** One element of `seam resolve --json` and of the `seam/resolve` reply. */
export interface ResolveResult {
  name: string;
  targets: Target[];
}

export interface IndexStatus {
  state: 'indexing' | 'ready' | 'error';
  /** Files indexed so far / in all (while indexing). */
  done: number;
  total: number;
  /** Python names bound once ready. */
  names: number;
  /** Milliseconds the last (re)index took. */
  ms: number;
  /** Whether the last start was served from the persisted cache. */
  warm: boolean;
  message?: string;
}

export const Methods = {
  /** server -> client notification, sent on every change of state and when indexing ends. */
  indexStatus: 'seam/indexStatus',
  /** client -> server request: `{ names: string[] }` -> `ResolveResult[]`. */
  resolve: 'seam/resolve',
  /** client -> server request: `{}` -> `IndexStatus` (the current status). */
  status: 'seam/status',
  /** client -> server request: `{}` -> `IndexStatus` once reindexed from scratch. */
  reindex: 'seam/reindex',
} as const;

export interface ResolveParams {
  names: string[];
}
