/** Small helpers shared by the debugger's e2e tests (they run in the real VS Code extension host). */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';

export function withTimeout<T>(p: Thenable<T>, ms: number, what: string, detail: () => string = () => ''): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    Promise.resolve(p).finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}${detail()}`)), ms);
    }),
  ]);
}

/** The 1-based line of `file` containing `needle`; exactly one must. */
export function lineOf(file: string, needle: string): number {
  const hits = readFileSync(file, 'utf8').split('\n').flatMap((l, i) => (l.includes(needle) ? [i + 1] : []));
  assert.equal(hits.length, 1, `"${needle}" is on ${hits.length} lines of ${file} (${hits.join(', ')}), want one`);
  return hits[0];
}

/** A DAP source path as a local path: in a remote window (code-server) VS Code hands the
 *  extension host `vscode-remote://host/abs/path` URIs instead of plain paths. */
export function localPath(p: string | undefined): string | undefined {
  return p && /^[a-z][\w+.-]*:\/\//i.test(p) ? vscode.Uri.parse(p).path : p;
}
