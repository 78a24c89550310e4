// Bundles each process with esbuild: extension client, language server, index worker, CLI,
// debug adapter, the debugger's symbol worker,
// and every test file. Type-checking is separate (`npm run typecheck`, strict tsconfig).
import { build } from 'esbuild';
import { readdirSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const external = ['vscode', 'tree-sitter', 'tree-sitter-c', 'tree-sitter-rust', 'tree-sitter-python', 'playwright-core', 'mocha'];
const common = {
  bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: 'linked',
  external, loader: { '.scm': 'text' }, logLevel: 'warning', absWorkingDir: root,
};

function walk(dir, pred, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (e === 'fixtures' || e === 'node_modules') continue;
    if (statSync(p).isDirectory()) walk(p, pred, out); else if (pred(p)) out.push(p);
  }
  return out;
}

const entries = {
  extension: 'src/extension.ts',
  server: 'src/server/main.ts',
  worker: 'src/index/worker.ts',
  cli: 'src/cli/main.ts',
  adapter: 'src/debug/adapter/main.ts',
  symbolWorker: 'src/debug/native/symbolWorker.ts',
};
const main = Object.fromEntries(Object.entries(entries).filter(([, f]) => existsSync(join(root, f))));
await build({ ...common, entryPoints: main, outdir: 'dist' });

const tests = walk(join(root, 'test'), (p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))
  .map((p) => p.slice(root.length));
if (tests.length) {
  await build({ ...common, entryPoints: tests, outdir: 'dist/test', outbase: 'test' });
}
