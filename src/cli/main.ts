/**
 * `seam` — the command line over Seam's engines.
 *   seam resolve NAME... --root DIR [--root DIR]... [--json]
 *   seam index --root DIR... [--json]
 * Exit codes: 0 success; 1 some name did not resolve; 2 error (message on stderr).
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, UsageError, USAGE, type CliArgs } from './args';
import { formatResolve, formatStats } from './format';
import { Indexer } from '../index/indexer';
import type { ResolveResult } from '../protocol';
import { runStack } from './stack';
import { UserError } from '../debug/errors';

/** Errors whose message is already what the user should read. */
function isUserFacing(e: unknown): boolean {
  return e instanceof UserError || (e instanceof Error && /NotFoundError|ExitedError|TimeoutError|AttachError/.test(e.name));
}

declare const SEAM_VERSION: string | undefined;

function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'seam', 'index');
}

function fail(message: string): never {
  process.stderr.write(`seam: ${message}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv, defaultCacheDir());
  } catch (e) {
    if (e instanceof UsageError) fail(`${e.message}\n${USAGE}`);
    throw e;
  }
  if (args.command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.command === 'version') {
    process.stdout.write(`${typeof SEAM_VERSION === 'string' ? SEAM_VERSION : 'dev'}\n`);
    return 0;
  }
  if (args.command === 'stack') {
    try {
      return await runStack(args, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    } catch (e) {
      if (isUserFacing(e)) fail((e as Error).message);
      throw e;
    }
  }
  const roots = args.roots.map((r) => resolve(r));
  for (const r of roots) {
    if (!existsSync(r)) fail(`root not found: ${r}`);
    if (!statSync(r).isDirectory()) fail(`root is not a directory: ${r}`);
  }
  const showProgress = process.stderr.isTTY && !args.json;
  let lastShown = 0;
  const indexer = new Indexer({
    roots,
    cacheDir: args.cacheDir ?? undefined,
    log: process.env.SEAM_LOG ? (l) => process.stderr.write(`${l}\n`) : undefined,
    progress: showProgress
      ? (done, total) => {
          const now = Date.now();
          if (now - lastShown > 200 || done === total) {
            lastShown = now;
            process.stderr.write(`\rindexing ${done}/${total} files`);
            if (done === total) process.stderr.write('\r\x1b[K');
          }
        }
      : undefined,
  });
  const stats = await indexer.build();
  if (args.command === 'index') {
    process.stdout.write(args.json ? `${JSON.stringify(stats)}\n` : `${formatStats(stats)}\n`);
    return 0;
  }
  const results: ResolveResult[] = args.names.map((name) => ({ name, targets: indexer.index.resolve(name) }));
  process.stdout.write(args.json ? `${JSON.stringify(results)}\n` : `${formatResolve(results, process.cwd())}\n`);
  return results.every((r) => r.targets.length > 0) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const detail = process.env.SEAM_DEBUG ? (e as Error)?.stack : `${(e as Error)?.message ?? e} (SEAM_DEBUG=1 shows where)`;
    process.stderr.write(`seam: internal error: ${detail}\n`);
    process.exitCode = 2;
  },
);
