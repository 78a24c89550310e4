/**
 * `seam stack` output: the human listing and the `--json` shape. Pure.
 *
 * JSON: `{"threads": [{"id": n, "name": "…", "frames": [{"language", "function", "file", "line",
 * "glue"}]}]}`, innermost first, glue included and marked. The listing hides glue unless asked,
 * folding each run of it into one "… N interpreter frames" line.
 */
import { relative, isAbsolute } from 'node:path';
import type { FrameLanguage, MergedFrame } from '../types';
import { isMarker } from './merge';

export interface StackThread {
  id: number;
  /** The number printed, when not `id` (the debugger's 1-based thread number). */
  number?: number;
  name?: string;
  /** Marked in the text listing; not part of the JSON contract. */
  holdsGil?: boolean;
  frames: MergedFrame[];
}

export interface StackJsonFrame {
  language: FrameLanguage;
  function: string;
  file: string | null;
  line: number | null;
  glue: boolean;
}

export interface StackJson {
  threads: { id: number; name: string; frames: StackJsonFrame[] }[];
}

/** Anything with `threads` (the stack service's Snapshot is one). */
export interface StackSnapshot {
  threads: StackThread[];
}

export function stackJson(snap: StackSnapshot): StackJson {
  return {
    threads: snap.threads.map((t) => ({
      id: t.number ?? t.id,
      name: t.name ?? '',
      frames: t.frames.map((f) => ({ language: f.language, function: f.function, file: f.file, line: f.line, glue: f.glue })),
    })),
  };
}

const TAG: Record<FrameLanguage, string> = { python: '[Py]', c: '[C]', rust: '[Rust]', native: '[native]' };

export interface FormatOptions {
  /** Show interpreter glue frames instead of folding them (`seam stack --all`). */
  all?: boolean;
  /** Files under this directory are shown relative to it. */
  cwd?: string;
  /** Function names longer than this do not widen the column (they push file:line right). */
  maxFunctionWidth?: number;
}

export function formatStackText(snap: StackSnapshot, opts: FormatOptions = {}): string {
  const out: string[] = [];
  for (const t of snap.threads) {
    if (out.length) out.push('');
    out.push(`Thread ${t.number ?? t.id}${t.name ? ` "${t.name}"` : ''}${t.holdsGil ? '  (holds the GIL)' : ''}`);
    out.push(...formatFrames(t.frames, opts));
  }
  return out.join('\n');
}

type Row = { index: string; tag: string; fn: string; where: string } | { folded: number };

export function formatFrames(frames: MergedFrame[], opts: FormatOptions = {}): string[] {
  const rows: Row[] = [];
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    if (f.glue && !opts.all) {
      const last = rows[rows.length - 1];
      if (last && 'folded' in last) last.folded++;
      else rows.push({ folded: 1 });
      continue;
    }
    rows.push({
      index: `#${i}`,
      tag: isMarker(f) ? '' : TAG[f.language],
      fn: f.function,
      where: f.file === null ? '' : `${shortPath(f.file, opts.cwd)}${f.line !== null ? `:${f.line}` : ''}`,
    });
  }
  const full = rows.filter((r): r is Exclude<Row, { folded: number }> => !('folded' in r));
  const wIndex = Math.max(0, ...full.map((r) => r.index.length));
  const wTag = Math.max(0, ...full.map((r) => r.tag.length));
  const wFn = Math.min(opts.maxFunctionWidth ?? 48, Math.max(0, ...full.map((r) => r.fn.length)));
  return rows.map((r) => {
    if ('folded' in r) {
      return `${' '.repeat(wIndex + 2)}… ${r.folded} interpreter frame${r.folded === 1 ? '' : 's'}`;
    }
    const line = `${r.index.padStart(wIndex)}  ${r.tag.padEnd(wTag)}  ${r.fn.padEnd(wFn)}  ${r.where}`;
    return line.trimEnd();
  });
}

function shortPath(file: string, cwd: string | undefined): string {
  if (!cwd || !isAbsolute(file)) return file;
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') ? rel : file;
}
