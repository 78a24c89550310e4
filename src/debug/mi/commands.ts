/**
 * Every GDB/MI command Seam sends: one small function per command building the text from typed
 * parameters, with the parser of its typed response. Pure. Nothing else in Seam builds MI text.
 *
 * Quoting, checked on GDB 13:
 * - MI commands proper parse their arguments as C strings (`miQuote`): `\n`, `\"`, `\\` work.
 * - Commands GDB maps to a CLI command (`-file-exec-and-symbols`, `-target-select`, `-exec-arguments`,
 *   `-target-attach`) get the raw rest of the line. `file` splits it like a shell (libiberty
 *   buildargv): `cliQuote` double-quotes and backslash-escapes. `target core` and `gcore` take it
 *   verbatim as one path (quotes would be part of the name). No newline either way.
 * - Program arguments: with `startup-with-shell off`, GDB 13 splits the argument string on
 *   whitespace and honours no quoting (fork-inferior.c `init_for_no_shell`), so arguments with
 *   spaces cannot reach the program verbatim. Seam therefore keeps the startup shell, forces it
 *   to /bin/sh (the connection sets SHELL) and quotes every argument with POSIX single quotes
 *   (`shellQuote`): `$()`, quotes, globs and newlines arrive verbatim. `set args` goes through
 *   `-interpreter-exec console` so that a newline (a C-string escape there) survives.
 */
import type { Instruction, NativeFrame } from '../types';
import { MiList, MiTuple } from './parser';

export interface MiCommand<T> {
  /** The command text without token or newline. */
  readonly text: string;
  /** Reads the `^done` / `^running` results. */
  readonly parse: (results: MiTuple) => T;
}

const none = (): void => undefined;

function cmd<T = void>(text: string, parse: (r: MiTuple) => T = none as () => T): MiCommand<T> {
  return { text, parse };
}

// ---------------------------------------------------------------------------------------------
// Quoting

/** An MI argument: bare when it is a plain word, else a C string with escapes. */
export function miQuote(s: string): string {
  if (/^[A-Za-z0-9_./:+@$*-]+$/.test(s) && !s.startsWith('-')) return s;
  return cString(s);
}

/** A C string literal as MI parses it (and as `-interpreter-exec console` receives it). */
export function cString(s: string): string {
  let out = '"';
  for (const b of new TextEncoder().encode(s)) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += '\\\\';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x09) out += '\\t';
    else if (b === 0x0d) out += '\\r';
    else if (b < 0x20 || b === 0x7f || b >= 0x80) out += '\\' + b.toString(8).padStart(3, '0');
    else out += String.fromCharCode(b);
  }
  return out + '"';
}

/** An argument for a CLI-mapped command that splits its line like a shell (buildargv). */
export function cliQuote(s: string): string {
  if (/[\n\r]/.test(s)) throw new Error(`GDB cannot take a newline in this argument: ${JSON.stringify(s)}`);
  return '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

/** POSIX sh single quoting: everything verbatim, `'` as `'\''`. */
export function shellQuote(s: string): string {
  return "'" + s.replace(/'/g, "'\\''") + "'";
}

/** `--thread N --frame F` options that select the context of a command. */
export interface Context {
  threadId?: number;
  frame?: number;
}

function contextOpts(c: Context | undefined): string {
  let s = '';
  if (c?.threadId !== undefined) s += ` --thread ${int(c.threadId)}`;
  if (c?.frame !== undefined) s += ` --frame ${int(c.frame)}`;
  return s;
}

function int(n: number): number {
  if (!Number.isInteger(n)) throw new Error(`not an integer: ${n}`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Settings, program, environment

export function gdbSet(name: string, value: string): MiCommand<void> {
  if (/[\n\r]/.test(name + value)) throw new Error('a GDB setting cannot contain a newline');
  return cmd(`-gdb-set ${name} ${value}`);
}

/** `-gdb-show NAME`: the setting's value (`language` gives `auto; currently c`). */
export function gdbShow(name: string): MiCommand<string> {
  if (/[\n\r]/.test(name)) throw new Error('a GDB setting cannot contain a newline');
  return cmd(`-gdb-show ${name}`, (r) => r.str('value') ?? '');
}

export function gdbExit(): MiCommand<void> {
  return cmd('-gdb-exit');
}

/** A CLI command through MI (output arrives as console stream records). */
export function interpreterExecConsole(command: string): MiCommand<void> {
  return cmd(`-interpreter-exec console ${cString(command)}`);
}

export function fileExecAndSymbols(program: string): MiCommand<void> {
  return cmd(`-file-exec-and-symbols ${cliQuote(program)}`);
}

/** Where the startup shell sends the program's standard streams: sh redirections. */
export interface Redirections {
  stdin?: string;
  /** File descriptor numbers inherited from GDB (`>&3`), closed in the program afterwards. */
  stdoutFd?: number;
  stderrFd?: number;
}

/**
 * The program's arguments, each arriving verbatim (see the header: the startup shell is /bin/sh
 * and every argument is single-quoted), followed by the stream redirections.
 */
export function execArguments(args: readonly string[], redirect?: Redirections): MiCommand<void> {
  let line = args.map(shellQuote).join(' ');
  if (redirect?.stdin !== undefined) line += ` <${shellQuote(redirect.stdin)}`;
  const close: number[] = [];
  if (redirect?.stdoutFd !== undefined) { line += ` >&${int(redirect.stdoutFd)}`; close.push(redirect.stdoutFd); }
  if (redirect?.stderrFd !== undefined) { line += ` 2>&${int(redirect.stderrFd)}`; close.push(redirect.stderrFd); }
  for (const fd of close) if (fd > 2) line += ` ${fd}>&-`;
  return interpreterExecConsole(`set args ${line}`.trimEnd());
}

export function environmentCd(dir: string): MiCommand<void> {
  return cmd(`-environment-cd ${miQuote(dir)}`);
}

/** `set environment NAME=VALUE` (or `unset environment NAME` for null). */
export function setEnvironment(name: string, value: string | null): MiCommand<void> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not an environment variable name: ${name}`);
  return interpreterExecConsole(value === null ? `unset environment ${name}` : `set environment ${name}=${value}`);
}

// ---------------------------------------------------------------------------------------------
// Execution

export function execRun(opts: { start?: boolean } = {}): MiCommand<void> {
  return cmd(opts.start ? '-exec-run --start' : '-exec-run');
}

export function execContinue(threadId?: number): MiCommand<void> {
  return cmd(threadId === undefined ? '-exec-continue' : `-exec-continue --thread ${int(threadId)}`);
}

export function execInterrupt(threadId?: number): MiCommand<void> {
  return cmd(threadId === undefined ? '-exec-interrupt' : `-exec-interrupt --thread ${int(threadId)}`);
}

export function execNext(threadId?: number): MiCommand<void> {
  return cmd(`-exec-next${contextOpts({ threadId })}`);
}

export function execStep(threadId?: number): MiCommand<void> {
  return cmd(`-exec-step${contextOpts({ threadId })}`);
}

/** One machine instruction, over calls. */
export function execNextInstruction(threadId?: number): MiCommand<void> {
  return cmd(`-exec-next-instruction${contextOpts({ threadId })}`);
}

/** One machine instruction, into calls. */
export function execStepInstruction(threadId?: number): MiCommand<void> {
  return cmd(`-exec-step-instruction${contextOpts({ threadId })}`);
}

export function execFinish(threadId?: number, frame?: number): MiCommand<void> {
  return cmd(`-exec-finish${contextOpts({ threadId, frame })}`);
}

export function targetAttach(pid: number): MiCommand<void> {
  return cmd(`-target-attach ${int(pid)}`);
}

export function targetDetach(): MiCommand<void> {
  return cmd('-target-detach');
}

/** Writes a core file of the stopped program (`gcore` takes the rest of the line as the path). */
export function generateCoreFile(path: string): MiCommand<void> {
  if (/[\n\r]/.test(path)) throw new Error(`GDB cannot take a newline in this argument: ${JSON.stringify(path)}`);
  return interpreterExecConsole(`gcore ${path}`);
}

/** `target core` takes the rest of the line as the path, unquoted (spaces are fine). */
export function targetSelectCore(coreFile: string): MiCommand<void> {
  if (/[\n\r]/.test(coreFile) || coreFile.trim() !== coreFile) throw new Error(`GDB cannot open this core file path: ${JSON.stringify(coreFile)}`);
  return cmd(`-target-select core ${coreFile}`);
}

// ---------------------------------------------------------------------------------------------
// Breakpoints

export type BreakLocation =
  | { function: string }
  | { file: string; line: number }
  | { address: bigint };

export interface BreakInsertParams {
  location: BreakLocation;
  condition?: string;
  ignoreCount?: number;
  temporary?: boolean;
  /** `-f`: create a pending breakpoint when the location is not (yet) known. */
  pending?: boolean;
  threadId?: number;
}

export interface MiBreakpoint {
  id: number;
  /** Resolved to at least one address. */
  verified: boolean;
  pending: boolean;
  func?: string;
  file?: string;
  fullname?: string;
  line?: number;
  address?: bigint;
  hitCount: number;
  condition?: string;
}

export function breakInsert(p: BreakInsertParams): MiCommand<MiBreakpoint> {
  let s = '-break-insert';
  if (p.temporary) s += ' -t';
  if (p.pending) s += ' -f';
  if (p.condition !== undefined) s += ` -c ${cString(p.condition)}`;
  if (p.ignoreCount !== undefined) s += ` -i ${int(p.ignoreCount)}`;
  if (p.threadId !== undefined) s += ` -p ${int(p.threadId)}`;
  const loc = p.location;
  if ('function' in loc) s += ` --function ${cString(loc.function)}`;
  else if ('file' in loc) s += ` --source ${cString(loc.file)} --line ${int(loc.line)}`;
  else s += ` *0x${loc.address.toString(16)}`;
  return cmd(s, (r) => {
    const b = r.tuple('bkpt');
    if (!b) throw new Error('-break-insert: no bkpt in the reply');
    return readBreakpoint(b);
  });
}

/** `-break-watch`: a hardware watchpoint on `size` bytes at `address` (written, read or either);
 *  answers its number. */
export function breakWatch(address: bigint, size: number, access: 'write' | 'read' | 'readWrite'): MiCommand<number> {
  const flag = access === 'read' ? ' -r' : access === 'readWrite' ? ' -a' : '';
  const expr = size === 1 || size === 2 || size === 4 || size === 8
    ? `*(${{ 1: 'unsigned char', 2: 'unsigned short', 4: 'unsigned int', 8: 'unsigned long' }[size]} *)0x${address.toString(16)}`
    : `*(unsigned char (*)[${int(size)}])0x${address.toString(16)}`;
  return cmd(`-break-watch${flag} ${cString(expr)}`, (r) => {
    const w = r.tuple('wpt') ?? r.tuple('hw-rwpt') ?? r.tuple('hw-awpt');
    const n = w?.int('number');
    if (n === undefined) throw new Error('-break-watch: no watchpoint in the reply');
    return n;
  });
}

/** Reads a `bkpt={...}` tuple (from `-break-insert` or `=breakpoint-modified`). */
export function readBreakpoint(b: MiTuple): MiBreakpoint {
  // A breakpoint with several locations: the first one carries the file and line (mi3: `locations`).
  const loc = b.list('locations')?.tuples()[0] ?? b;
  const addr = b.str('addr');
  const pending = b.str('pending') !== undefined || addr === '<PENDING>';
  return {
    id: b.int('number') ?? -1,
    verified: !pending,
    pending,
    func: loc.str('func'),
    file: loc.str('file'),
    fullname: loc.str('fullname'),
    line: loc.int('line'),
    address: loc.big('addr'),
    hitCount: b.int('times') ?? 0,
    condition: b.str('cond'),
  };
}

export function breakDelete(ids: readonly number[]): MiCommand<void> {
  return cmd(`-break-delete ${ids.map(int).join(' ')}`);
}

/** Sets (or with an empty condition clears) the condition of breakpoint `id`. */
export function breakCondition(id: number, condition: string): MiCommand<void> {
  return cmd(condition ? `-break-condition ${int(id)} ${cString(condition)}` : `-break-condition ${int(id)}`);
}

// ---------------------------------------------------------------------------------------------
// Threads and stacks

export interface MiThread {
  id: number;
  lwp: number | undefined;
  targetId: string;
  name?: string;
  state?: string;
}

export interface MiThreadInfo {
  threads: MiThread[];
  currentThreadId?: number;
}

export function threadInfo(threadId?: number): MiCommand<MiThreadInfo> {
  return cmd(threadId === undefined ? '-thread-info' : `-thread-info ${int(threadId)}`, (r) => ({
    threads: (r.list('threads')?.tuples() ?? []).map((t) => {
      const targetId = t.str('target-id') ?? '';
      const m = /\bLWP (\d+)/.exec(targetId) ?? /^process (\d+)/.exec(targetId);
      return {
        id: t.int('id') ?? -1, lwp: m ? Number(m[1]) : undefined, targetId,
        name: t.str('name'), state: t.str('state'),
      };
    }),
    currentThreadId: r.int('current-thread-id'),
  }));
}

/** Reads a `frame={...}` tuple. */
export function readFrame(f: MiTuple, level = 0): NativeFrame {
  const frame: NativeFrame = {
    level: f.int('level') ?? level,
    pc: f.big('addr') ?? 0n,
    func: f.str('func'),
  };
  const file = f.str('file');
  const fullname = f.str('fullname');
  const line = f.int('line');
  const from = f.str('from');
  if (file !== undefined) frame.file = file;
  if (fullname !== undefined) frame.fullname = fullname;
  if (line !== undefined) frame.line = line;
  if (from !== undefined) frame.from = from;
  return frame;
}

export function stackListFrames(p: { threadId?: number; low?: number; high?: number } = {}): MiCommand<NativeFrame[]> {
  let s = `-stack-list-frames${contextOpts({ threadId: p.threadId })}`;
  if (p.low !== undefined || p.high !== undefined) s += ` ${int(p.low ?? 0)} ${int(p.high ?? 1_000_000)}`;
  return cmd(s, (r) => (r.list('stack')?.tuples() ?? []).map((f, i) => readFrame(f, i)));
}

export interface MiVariable {
  name: string;
  isArg: boolean;
  /** Absent with --simple-values for aggregates. */
  value?: string;
  type?: string;
}

export function stackListVariables(ctx: Context, values: 'simple' | 'all'): MiCommand<MiVariable[]> {
  return cmd(`-stack-list-variables${contextOpts(ctx)} ${values === 'all' ? '--all-values' : '--simple-values'}`, (r) =>
    (r.list('variables')?.tuples() ?? []).map((v) => {
      const out: MiVariable = { name: v.str('name') ?? '', isArg: v.str('arg') === '1' };
      const value = v.str('value');
      const type = v.str('type');
      if (value !== undefined) out.value = value;
      if (type !== undefined) out.type = type;
      return out;
    }));
}

// ---------------------------------------------------------------------------------------------
// Variable objects

export interface MiVarObject {
  name: string;
  numChild: number;
  value?: string;
  type?: string;
  exp?: string;
  hasMore: boolean;
}

function readVar(t: MiTuple): MiVarObject {
  return {
    name: t.str('name') ?? '', numChild: t.int('numchild') ?? 0, value: t.str('value'),
    type: t.str('type'), exp: t.str('exp'), hasMore: t.str('has_more') === '1',
  };
}

export function varCreate(expression: string, ctx: Context = {}): MiCommand<MiVarObject> {
  return cmd(`-var-create${contextOpts(ctx)} - * ${cString(expression)}`, readVar);
}

export function varListChildren(name: string, opts: { from?: number; to?: number } = {}): MiCommand<MiVarObject[]> {
  let s = `-var-list-children --simple-values ${miQuote(name)}`;
  if (opts.from !== undefined && opts.to !== undefined) s += ` ${int(opts.from)} ${int(opts.to)}`;
  return cmd(s, (r) => (r.list('children')?.tuples() ?? []).map(readVar));
}

/** A variable object's C expression from its frame (`-var-info-path-expression`). */
export function varInfoPathExpression(name: string): MiCommand<string> {
  return cmd(`-var-info-path-expression ${miQuote(name)}`, (r) => r.str('path_expr') ?? '');
}

/** Assigns a variable object (`-var-assign`); answers its new value. */
export function varAssign(name: string, expression: string): MiCommand<string> {
  return cmd(`-var-assign ${miQuote(name)} ${cString(expression)}`, (r) => r.str('value') ?? '');
}

export function varDelete(name: string): MiCommand<void> {
  return cmd(`-var-delete ${miQuote(name)}`);
}

// ---------------------------------------------------------------------------------------------
// Data

export function dataEvaluateExpression(expression: string, ctx: Context = {}): MiCommand<string> {
  return cmd(`-data-evaluate-expression${contextOpts(ctx)} ${cString(expression)}`, (r) => r.str('value') ?? '');
}

/** The names of GDB's registers, indexed by GDB's register number ("" for unused numbers). */
export function dataListRegisterNames(): MiCommand<string[]> {
  return cmd('-data-list-register-names', (r) => r.list('register-names')?.strings() ?? []);
}

/** Register values in hex, by GDB register number, in a frame of a thread. */
export function dataListRegisterValues(ctx: Context, registers: readonly number[]): MiCommand<Map<number, bigint>> {
  return cmd(`-data-list-register-values${contextOpts(ctx)} x ${registers.map(int).join(' ')}`, (r) => {
    const out = new Map<number, bigint>();
    for (const t of r.list('register-values')?.tuples() ?? []) {
      const n = t.int('number'), v = t.str('value');
      if (n !== undefined && v !== undefined && /^0x[0-9a-f]+$/i.test(v)) out.set(n, BigInt(v));
    }
    return out;
  });
}

export interface MiMemoryBlock {
  begin: bigint;
  end: bigint;
  contents: Uint8Array;
}

/** Reads memory; the reply holds the readable blocks of the range (possibly fewer bytes). */
export function dataReadMemoryBytes(address: bigint, count: number): MiCommand<MiMemoryBlock[]> {
  return cmd(`-data-read-memory-bytes 0x${address.toString(16)} ${int(count)}`, (r) =>
    (r.list('memory')?.tuples() ?? []).map((b) => {
      const hex = b.str('contents') ?? '';
      const contents = new Uint8Array(hex.length >> 1);
      for (let i = 0; i < contents.length; i++) contents[i] = parseInt(hex.substr(i * 2, 2), 16);
      const begin = (b.big('begin') ?? 0n) + (b.big('offset') ?? 0n);
      return { begin, end: begin + BigInt(contents.length), contents };
    }));
}

export interface MiThreadGroup {
  id: string;
  pid?: number;
  /** The exit code of the group's last process (GDB prints it in octal). */
  exitCode?: number;
  executable?: string;
}

export function listThreadGroups(): MiCommand<MiThreadGroup[]> {
  return cmd('-list-thread-groups', (r) =>
    (r.list('groups')?.tuples() ?? []).map((g) => ({
      id: g.str('id') ?? '', pid: g.int('pid'), exitCode: octal(g.str('exit-code')), executable: g.str('executable'),
    })));
}

/** GDB prints exit codes as octal (`exit-code="012"` is 10). */
export function octal(s: string | undefined): number | undefined {
  return s !== undefined && /^[0-7]+$/.test(s) ? parseInt(s, 8) : undefined;
}

export { MiList, MiTuple };

// ---------------------------------------------------------------------------------------------
// Disassembly

/** `-data-disassemble` in mode 5 (source lines and raw bytes): the instructions from `start`
 *  up to `end`, in address order (GDB groups them by source line). */
export function dataDisassemble(start: bigint, end: bigint): MiCommand<Instruction[]> {
  return cmd(`-data-disassemble -s 0x${start.toString(16)} -e 0x${end.toString(16)} -- 5`, (r) => readInstructions(r.list('asm_insns')));
}

/** The instructions of `asm_insns`: `src_and_asm_line={line,file,fullname,line_asm_insn=[...]}`
 *  groups, or bare instruction tuples where there is no line information. */
export function readInstructions(list: MiList | undefined): Instruction[] {
  const out: Instruction[] = [];
  const add = (t: MiTuple, src?: MiTuple): void => {
    const address = t.big('address');
    if (address === undefined) return;
    const ins: Instruction = { address, text: t.str('inst') ?? '' };
    const bytes = t.str('opcodes');
    if (bytes) ins.bytes = bytes;
    const func = t.str('func-name');
    if (func) ins.func = func;
    const offset = t.int('offset');
    if (offset !== undefined) ins.offset = offset;
    const line = src?.int('line');
    if (src && line) {
      ins.line = line;
      const file = src.str('file');
      const fullname = src.str('fullname');
      if (file) ins.file = file;
      if (fullname) ins.fullname = fullname;
    }
    out.push(ins);
  };
  for (const t of list?.tuples() ?? []) {
    const group = t.list('line_asm_insn');
    if (group) for (const i of group.tuples()) add(i, t);
    else add(t);
  }
  return out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}
