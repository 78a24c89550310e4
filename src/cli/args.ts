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
/** `seam stack`: run to the first stop, attach, or read a core file; print every thread's
 *  merged stack. */
export interface StackArgs {
  command: 'stack';
  json: boolean;
  /** Show interpreter glue frames in the text listing (JSON always has them, marked). */
  all: boolean;
  breaks: string[];
  target:
    | { kind: 'launch'; python: string; script: string; args: string[] }
    | { kind: 'attach'; pid: number }
    | { kind: 'core'; core: string; python: string };
  gdbPath?: string;
  /** gdb | lldb | auto (GDB where found on Linux, else LLDB). */
  debugger?: 'gdb' | 'lldb' | 'auto';
  lldbDapPath?: string;
  timeoutMs: number;
}
export type CliArgs = ResolveArgs | IndexArgs | StackArgs | HelpArgs | VersionArgs;

export const USAGE = `usage:
  seam resolve NAME... --root DIR [--root DIR]... [--json]
  seam index --root DIR [--root DIR]... [--json]
  seam stack [--json] [--all] [--break LOCATION]... -- PYTHON SCRIPT [ARGS...]
  seam stack [--json] [--all] --pid PID
  seam stack [--json] [--all] --core CORE --python PYTHON
options:
  --root DIR       a source tree to index (a CPython checkout, a PyO3 crate, a project); repeatable
  --json           machine-readable output (see README: "CLI contract")
  --cache-dir DIR  where the index cache lives (default: $XDG_CACHE_HOME/seam or ~/.cache/seam)
  --no-cache       neither read nor write the index cache
  --break LOC      (stack) stop here: a C function, a Rust path (crate::mod::fn), FILE:LINE; repeatable
  --pid PID        (stack) attach to a running process, print, detach (it goes on)
  --core CORE      (stack) read a core file of PYTHON
  --all            (stack) list interpreter glue frames too
  --debugger D     (stack) gdb, lldb or auto (default: $SEAM_DEBUGGER, else auto = GDB where found on Linux, else LLDB)
  --gdb PATH       (stack) the gdb to use (default: gdb on PATH)
  --lldb-dap PATH  (stack) LLDB's DAP server (default: lldb-dap or lldb-vscode[-N] on PATH)
  --timeout SEC    (stack) give up waiting for the first stop after SEC seconds (default 120)
exit codes: 0 success; 1 (resolve) some name did not resolve; 2 error`;

export function parseArgs(argv: string[], defaultCacheDir: string): CliArgs {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') return { command: 'help' };
  if (command === '--version' || command === '-V') return { command: 'version' };
  if (command === 'stack') return parseStackArgs(rest);
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

function parseStackArgs(argv: string[]): StackArgs {
  let json = false;
  let all = false;
  const breaks: string[] = [];
  let pid: number | undefined;
  let core: string | undefined;
  let python: string | undefined;
  let gdbPath: string | undefined;
  let lldbDapPath: string | undefined;
  let debuggerKind: StackArgs['debugger'] | undefined;
  let timeoutMs = 120_000;
  let program: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--') {
      program = argv.slice(i + 1);
      break;
    } else if (a === '--json') json = true;
    else if (a === '--all') all = true;
    else if (a === '--break') breaks.push(value());
    else if (a === '--pid') {
      const v = value();
      if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`--pid takes a process id, not '${v}'`);
      pid = Number(v);
    } else if (a === '--core') core = value();
    else if (a === '--python') python = value();
    else if (a === '--gdb') gdbPath = value();
    else if (a === '--lldb-dap') lldbDapPath = value();
    else if (a === '--debugger') {
      const v = value();
      if (v !== 'gdb' && v !== 'lldb' && v !== 'auto') throw new UsageError(`--debugger takes gdb, lldb or auto, not '${v}'`);
      debuggerKind = v;
    } else if (a === '--timeout') {
      const v = Number(value());
      if (!(v > 0)) throw new UsageError('--timeout takes a number of seconds');
      timeoutMs = v * 1000;
    } else throw new UsageError(`unknown option '${a}' (the program and its arguments go after --)`);
  }
  const modes = [program !== undefined, pid !== undefined, core !== undefined].filter(Boolean).length;
  if (modes !== 1) throw new UsageError('give exactly one of: -- PYTHON SCRIPT [ARGS...], --pid PID, --core CORE --python PYTHON');
  let target: StackArgs['target'];
  if (program !== undefined) {
    if (program.length < 2) throw new UsageError('after -- give the interpreter and the script: -- python3 script.py [ARGS...]');
    target = { kind: 'launch', python: program[0], script: program[1], args: program.slice(2) };
  } else if (pid !== undefined) {
    target = { kind: 'attach', pid };
  } else {
    if (!python) throw new UsageError('--core needs --python PYTHON (the interpreter that dumped it)');
    target = { kind: 'core', core: core!, python };
  }
  if (target.kind !== 'launch' && breaks.length) throw new UsageError('--break goes with a launched program (-- PYTHON SCRIPT)');
  return { command: 'stack', json, all, breaks, target, gdbPath, debugger: debuggerKind, lldbDapPath, timeoutMs };
}
