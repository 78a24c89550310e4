/**
 * Fixture sources carry their own expectations as line tags, never hard-coded line numbers:
 *
 *   static PyObject *
 *   spam_system(PyObject *self, PyObject *args)   // @py spam.system
 *   fn leaf(x: i64) -> i64 {                      // @py mycrate.leaf
 *   def helper(): ...                             # @py-alt sample.helper
 *
 * `@py NAME` says: resolving NAME gives, as its best (first) target, this file at this line.
 * `@py-alt NAME` says: this file and line is among NAME's targets (e.g. a pure-Python fallback).
 * Several tags may share a line.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface LineTag {
  name: string;
  best: boolean;
  file: string; // absolute
  line: number; // 1-based
}

const TAG = /@py(-alt)?\s+([A-Za-z_][\w.]*)/g;
const SOURCE = /\.(c|h|rs|py|pyi)$/;

export function tagsInText(text: string, file: string): LineTag[] {
  const out: LineTag[] = [];
  text.split('\n').forEach((l, i) => {
    for (const m of l.matchAll(TAG)) out.push({ name: m[2], best: !m[1], file, line: i + 1 });
  });
  return out;
}

export function tagsUnder(dir: string): LineTag[] {
  const out: LineTag[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      if (e === 'target' || e === 'node_modules' || e.startsWith('.')) continue;
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (SOURCE.test(e)) out.push(...tagsInText(readFileSync(p, 'utf8'), p));
    }
  };
  walk(dir);
  return out;
}
