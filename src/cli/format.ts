/** Human-readable output of the CLI. Pure. */
import { relative } from 'node:path';
import type { ResolveResult } from '../protocol';
import type { IndexStats } from '../index/indexer';

const LANG: Record<string, string> = { c: 'C', rust: 'Rust', python: 'Python' };

export function formatResolve(results: ResolveResult[], cwd: string): string {
  const lines: string[] = [];
  const width = Math.max(...results.map((r) => r.name.length));
  for (const r of results) {
    if (r.targets.length === 0) {
      lines.push(`${r.name.padEnd(width)}  (not found)`);
      continue;
    }
    r.targets.forEach((t, i) => {
      const where = `${relative(cwd, t.file) || t.file}:${t.line}`;
      const head = i === 0 ? r.name.padEnd(width) : ' '.repeat(width);
      const ev = t.evidence ? `  (${t.evidence})` : '';
      lines.push(`${head}  ${(LANG[t.language] ?? t.language).padEnd(6)} ${where}  ${t.symbol}${ev}`);
    });
  }
  return lines.join('\n');
}

export function formatStats(s: IndexStats): string {
  const ms = (n: number): string => `${Math.round(n)} ms`;
  return [
    `files     ${s.files} (${s.parsed} parsed, ${s.fromCache} from cache, ${s.skipped} skipped)`,
    `names     ${s.names}`,
    `start     ${s.warm ? `warm (cache${s.fromCache < s.files ? `; ${s.files - s.fromCache} files re-read` : ''})` : 'cold'}`,
    `time      ${ms(s.ms.total)} (walk ${ms(s.ms.walk)}, extract ${ms(s.ms.extract)}, link ${ms(s.ms.link)})`,
  ].join('\n');
}
