/** Parses `seam` command lines. Pure; errors are UsageErrors with words the user can act on. */

export class UsageError extends Error {}

export interface ResolveArgs {
  command: 'resolve';
  names: string[];
  roots: string[];
  json: boolean;
  cacheDir: string | null;
}
export interface IndexArgs {
  command: 'index';
  roots: string[];
  json: boolean;
  cacheDir: string | null;
}
export interface HelpArgs {
  command: 'help';
}
export interface VersionArgs {
  command: 'version';
}
export type CliArgs = ResolveArgs | IndexArgs | HelpArgs | VersionArgs;

export const USAGE = `usage:
  seam resolve NAME... --root DIR [--root DIR]... [--json]
  seam index --root DIR [--root DIR]... [--json]
options:
  --root DIR       a source tree to index (a CPython checkout, a PyO3 crate, a project); repeatable
  --json           machine-readable output (see README: "CLI contract")
  --cache-dir DIR  where the index cache lives (default: $XDG_CACHE_HOME/seam or ~/.cache/seam)
  --no-cache       neither read nor write the index cache
exit codes: 0 success; 1 (resolve) some name did not resolve; 2 error`;

export function parseArgs(argv: string[], defaultCacheDir: string): CliArgs {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') return { command: 'help' };
  if (command === '--version' || command === '-V') return { command: 'version' };
  if (command !== 'resolve' && command !== 'index') {
    throw new UsageError(`unknown command '${command}'`);
  }
  const roots: string[] = [];
  const names: string[] = [];
  let json = false;
  let cacheDir: string | null = defaultCacheDir;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const value = (): string => {
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--root') roots.push(value());
    else if (a.startsWith('--root=')) roots.push(a.slice(7));
    else if (a === '--json') json = true;
    else if (a === '--cache-dir') cacheDir = value();
    else if (a === '--no-cache') cacheDir = null;
    else if (a === '--') names.push(...rest.slice(i + 1)), (i = rest.length);
    else if (a.startsWith('-')) throw new UsageError(`unknown option '${a}'`);
    else if (command === 'resolve') names.push(a);
    else throw new UsageError(`'seam index' takes no names (got '${a}')`);
  }
  if (roots.length === 0) throw new UsageError('give at least one --root DIR');
  if (command === 'resolve') {
    if (names.length === 0) throw new UsageError('give at least one NAME to resolve, e.g. math.sqrt');
    return { command, names, roots, json, cacheDir };
  }
  return { command, roots, json, cacheDir };
}
