/**
 * Find References from a native function: the places in Python files that use one of the Python
 * names it serves. Candidate lines are found by the name's last component, then each hit is
 * confirmed by resolving the name under it, so `x.append` on a non-list is not counted.
 */
import type { Location } from 'vscode-languageserver/node';
import type { Indexer } from '../index/indexer';
import { namesAtCursor } from '../core/python/cursor';
import { URI } from './uri';

const MAX_FILES_READ = 5000;
const MAX_RESULTS = 1000;

export function references(indexer: Indexer, file: string, symbol: string, names: string[], includeDeclaration: boolean): Location[] {
  const out: Location[] = [];
  const wanted = new Set(names);
  const words = new Set(names.map((n) => n.split('.').pop()!));
  const targetMatches = (candidate: string): boolean => {
    if (wanted.has(candidate)) return true;
    return indexer.index.resolve(candidate).some((t) => t.file === file && t.symbol === symbol);
  };
  let read = 0;
  for (const path of indexer.pythonFiles()) {
    if (read++ > MAX_FILES_READ || out.length >= MAX_RESULTS) break;
    const text = indexer.readText(path);
    if (!text || ![...words].some((w) => text.includes(w))) continue;
    const module = indexer.moduleOf(path) ?? '';
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      for (const w of words) {
        let at = line.indexOf(w);
        while (at >= 0) {
          const before = at === 0 ? '' : line[at - 1];
          const after = line[at + w.length] ?? '';
          if (!/\w/.test(before) && !/\w/.test(after)) {
            const cands = namesAtCursor(text, i, at, module);
            if (cands.some(targetMatches)) {
              out.push({ uri: URI.fromPath(path), range: { start: { line: i, character: at }, end: { line: i, character: at + w.length } } });
            }
          }
          at = line.indexOf(w, at + w.length);
        }
      }
    });
  }
  if (includeDeclaration) {
    const decl = indexer.index.symbolsIn(file).find((s) => s.symbol === symbol);
    if (decl) out.unshift({ uri: URI.fromPath(file), range: { start: { line: decl.line - 1, character: 0 }, end: { line: decl.line - 1, character: 0 } } });
  }
  return out;
}
