/**
 * `npm run bench` — navigation figures on CPython's Modules/ Objects/ Python/ Lib/, each against a
 * peer measured in the same run:
 *   cold index (a fresh `seam index` process, no cache)  vs  `ctags -R --langmap=C:+.h` (ratio)
 *   warm start (a fresh process, cache present)
 *   each under Node 24 (code-server's: the language server's runtime in the real VS Code) and
 *   under the shell's node (the CLI's)
 *   resolve latency p50 / p99 over 1,000 names
 *   peak RSS of the indexing process
 * Prints the figures; no pass/fail (targets are printed beside them).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Indexer } from '../../src/index/indexer';

const cache = process.env.SEAM_CACHE ?? join(homedir(), '.cache', 'seam');
const cpython = join(cache, 'cpython-3.13');
const repo = join(__dirname, '..', '..', '..');
const seam = join(repo, 'bin', 'seam');

function wall(cmd: string, args: string[], cwd?: string): { ms: number; stdout: string; status: number | null } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  if (process.env.SEAM_BENCH_DEBUG) process.stderr.write(`${cmd} ${args.slice(0, 3).join(' ')}: ${Math.round(ms)} ms\n`);
  if (r.status !== 0) process.stderr.write(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}\n`);
  return { ms, stdout: r.stdout, status: r.status };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function main(): Promise<void> {
  if (!existsSync(cpython)) {
    process.stderr.write(`bench: ${cpython} missing: run bash scripts/fetch-sources.sh\n`);
    process.exit(2);
  }
  const dirs = ['Modules', 'Objects', 'Python', 'Lib'];
  const roots = dirs.map((d) => join(cpython, d));
  const du = spawnSync('bash', ['-c', `find ${dirs.join(' ')} -type f \\( -name '*.c' -o -name '*.h' -o -name '*.py' \\) | wc -l; du -sm ${dirs.join(' ')} | awk '{s+=$1} END {print s}'`], { cwd: cpython, encoding: 'utf8' });
  const [nfiles, mb] = du.stdout.trim().split('\n');
  console.log(`tree: CPython 3.13 ${dirs.join('/ ')}/ — ${nfiles} source files, ${mb} MB`);

  // The index runs in the language server, which VS Code starts on its extension host's Node:
  // in the real VS Code the tests drive (code-server) that is Node 24 (.vscode-test/node24, set
  // up by scripts/setup.sh). The CLI runs on whatever `node` the shell has: measured too.
  const runtimes: { label: string; node: string; cold: number[]; warm: number[] }[] = [];
  const node24 = join(repo, '.vscode-test', 'node24', 'bin', 'node');
  if (existsSync(node24) && node24 !== process.execPath) {
    const v = spawnSync(node24, ['--version'], { encoding: 'utf8' }).stdout.trim();
    runtimes.push({ label: `Node ${v}: code-server's, the language server's in the real VS Code`, node: node24, cold: [], warm: [] });
  }
  runtimes.push({ label: `Node ${process.version}: this shell's node (the CLI's)`, node: process.execPath, cold: [], warm: [] });
  const runs = 3;
  const ctags: number[] = [];
  let rssKb = 0;
  let names = 0;
  const tagsOut = join(tmpdir(), `seam-bench-tags-${process.pid}`);
  for (let i = 0; i < runs; i++) {
    ctags.push(wall('ctags', ['-R', '--langmap=C:+.h', '-f', tagsOut, ...dirs], cpython).ms);
    for (const rt of runtimes) {
      const dir = mkdtempSync(join(tmpdir(), 'seam-bench-cache-'));
      const c = wall(rt.node, [seam, 'index', ...roots.flatMap((r) => ['--root', r]), '--json', '--cache-dir', dir]);
      rt.cold.push(c.ms);
      const stats = JSON.parse(c.stdout) as { names: number };
      names = stats.names;
      const w = wall(rt.node, [seam, 'index', ...roots.flatMap((r) => ['--root', r]), '--json', '--cache-dir', dir]);
      rt.warm.push(w.ms);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  rmSync(tagsOut, { force: true });
  // Peak RSS of a cold index, measured in-process too (worker threads share the process).
  const dir = mkdtempSync(join(tmpdir(), 'seam-bench-cache-'));
  const indexer = new Indexer({ roots, cacheDir: dir });
  await indexer.build();
  rssKb = process.resourceUsage().maxRSS;
  const all = [...indexer.index.allNames()];
  const sample: string[] = ['os.getcwd', 'len', 'list.append', 'collections.deque.append', 'heapq.heappush', 'str.format', 'math.sqrt'];
  for (let i = 0; sample.length < 1000 && all.length; i++) sample.push(all[(i * 7919) % all.length]);
  const lat: number[] = [];
  let unresolved = 0;
  for (const n of sample) {
    const t0 = performance.now();
    if (indexer.index.resolve(n).length === 0) unresolved++;
    lat.push(performance.now() - t0);
  }
  rmSync(dir, { recursive: true, force: true });

  const f = (n: number): string => `${Math.round(n)} ms`;
  console.log(`names bound: ${names}`);
  for (const [k, rt] of runtimes.entries()) {
    const ratio = median(rt.cold) / median(ctags);
    console.log(`${k === 0 ? 'cold index ' : '           '}    seam ${f(median(rt.cold))}  ctags ${f(median(ctags))}  ratio ${ratio.toFixed(2)}x  (${rt.label}; target ≤ 1.00x; median of ${runs}, whole processes)`);
  }
  for (const [k, rt] of runtimes.entries()) {
    console.log(`${k === 0 ? 'warm start ' : '           '}    seam ${f(median(rt.warm))}  (${rt.label}; target < 300 ms; whole process incl. Node start-up)`);
  }
  console.log(`resolve        p50 ${pct(lat, 50).toFixed(3)} ms  p99 ${pct(lat, 99).toFixed(3)} ms over ${sample.length} names, ${unresolved} unresolved  (target p99 < 5 ms)`);
  console.log(`peak RSS       ${Math.round(rssKb / 1024)} MB  (target < 300 MB; cold index in one process)`);
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
