/**
 * LLDB's text, read: the backtrace Seam asks for in its own frame format, the answers of
 * `breakpoint set` / `breakpoint list`, `thread list`, and the words of lldb-vscode's stop events.
 * Pure: no I/O, unit-tested on recorded output (test/unit/lldb-parse.test.ts).
 */
import type { Instruction, NativeFrame } from '../types';

/** Field separator of FRAME_FORMAT: a control character no path or symbol holds. */
const SEP = '\x1f';
const MARK = 'SEAMF';

/**
 * The `frame-format` setting Seam uses for `thread backtrace`: one line per frame with the pc,
 * the stack pointer, the module, the demangled and mangled names and the line entry. (lldb-vscode's
 * own stackTrace carries no pc, stack pointer or module.)
 */
export const FRAME_FORMAT = [
  MARK, '${frame.index}', '${frame.pc}', '${frame.sp}', '${module.file.fullpath}', '${function.name}',
  '${function.mangled-name}', '${line.file.fullpath}', '${line.number}',
  // A variable LLDB cannot resolve drops the scope it is in: each its own optional scope `{…}`,
  // so a frame without a line entry (`__rust_try`) keeps its line and its field positions.
].map((v) => (v.startsWith('$') ? `{${v}}` : v)).join(SEP) + '\\n';

/** The `settings set` command that installs FRAME_FORMAT (quoted for LLDB's command line). */
export function frameFormatCommand(): string {
  // Not lldbQuote: the format's `\n` is LLDB's own escape and must reach it as written.
  return `settings set frame-format "${FRAME_FORMAT}"`;
}

/**
 * Frames from `thread backtrace` printed with FRAME_FORMAT, innermost first. Inlined frames share
 * their caller's stack pointer; each frame's CFA is the stack pointer of the first outer frame
 * whose stack pointer is higher (a physical caller), undefined for the outermost.
 */
export function parseBacktrace(text: string): NativeFrame[] {
  const frames: NativeFrame[] = [];
  for (const raw of text.split('\n')) {
    const at = raw.indexOf(MARK + SEP);
    if (at < 0) continue;
    const f = raw.slice(at + MARK.length + 1).split(SEP);
    if (f.length < 8) continue;
    const [index, pc, sp, module, name, mangled, file, line] = f;
    const level = Number(index);
    if (!Number.isInteger(level)) continue;
    // An inlined frame is named `caller [inlined] callee`: it is the callee's frame.
    const func = (name || mangled).replace(/^.* \[inlined\] /, '') || undefined;
    const frame: NativeFrame = { level, pc: hex(pc) ?? 0n, func };
    const s = hex(sp);
    if (s !== undefined) frame.sp = s;
    if (module) frame.from = module;
    if (file) {
      frame.fullname = file;
      frame.file = file.split('/').pop();
      const n = Number(line);
      if (Number.isInteger(n) && n > 0) frame.line = n;
    }
    frames.push(frame);
  }
  frames.sort((a, b) => a.level - b.level);
  for (let i = 0; i < frames.length; i++) {
    const sp = frames[i].sp;
    if (sp === undefined) continue;
    for (let j = i + 1; j < frames.length; j++) {
      const outer = frames[j].sp;
      if (outer !== undefined && outer > sp) {
        frames[i].cfa = outer;
        break;
      }
    }
  }
  return frames;
}

/** `thread list`: LLDB's thread index (`#1`) for each OS thread id. */
export function parseThreadList(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of text.matchAll(/thread #(\d+): tid = (\d+)/g)) out.set(Number(m[2]), Number(m[1]));
  return out;
}

/** The id `breakpoint set` gave (`Breakpoint 3: where = …`, `Breakpoint 4: no locations (pending).`). */
export function parseBreakpointSet(text: string): { id: number; resolved: boolean } | undefined {
  const m = /^Breakpoint (\d+): (.*)$/m.exec(text);
  if (!m) return undefined;
  return { id: Number(m[1]), resolved: !/no locations/.test(m[2]) };
}

export interface LldbBreakpointInfo {
  id: number;
  locations: number;
  /** Line of the first resolved location (`at engine.rs:9:19`), when it has one. */
  line?: number;
  /** Its file's base name. */
  file?: string;
}

/**
 * `breakpoint list` (full form): per breakpoint, its number of resolved locations and where the
 * first one is. A breakpoint line (`3: file = …, locations = 1, resolved = 1, …`) is followed by its
 * location lines (`  3.1: where = mod.so`fn + 8 at engine.rs:9:19, address = …, resolved, …`).
 */
export function parseBreakpointList(text: string): Map<number, LldbBreakpointInfo> {
  const out = new Map<number, LldbBreakpointInfo>();
  for (const line of text.split('\n')) {
    const head = /^(\d+): .*?(?:locations = (\d+)(?:, resolved = (\d+))?|address = )/.exec(line);
    if (head) {
      const id = Number(head[1]);
      const resolved = head[3] !== undefined ? Number(head[3]) : head[2] !== undefined ? Number(head[2]) : 1;
      out.set(id, { id, locations: /\(pending\)/.test(line) ? 0 : resolved });
      continue;
    }
    const loc = /^\s+(\d+)\.\d+: .*? at ([^:\s][^:]*):(\d+)(?::\d+)?,.*\bresolved\b/.exec(line);
    if (loc) {
      const b = out.get(Number(loc[1]));
      if (b && b.line === undefined) {
        b.line = Number(loc[3]);
        b.file = loc[2].split('/').pop();
      }
    }
  }
  return out;
}

/** The breakpoint id in lldb-vscode's stop description `breakpoint 3.1`. */
export function stoppedBreakpointId(description: string | undefined): number | undefined {
  const m = /^breakpoint (\d+)(?:\.\d+)?/.exec(description ?? '');
  return m ? Number(m[1]) : undefined;
}

/** `signal SIGSEGV: invalid address (fault address: 0x0)` -> SIGSEGV. */
export function stoppedSignal(description: string | undefined): string | undefined {
  const m = /^signal (SIG[A-Z0-9]+)/.exec(description ?? '');
  return m ? m[1] : undefined;
}

/** One argument for LLDB's command line, in double quotes (backslash escapes `"`, `\` and the
 *  backtick, which would start an expression substitution). */
export function lldbQuote(s: string): string {
  return `"${s.replace(/[\\"`]/g, (c) => `\\${c}`)}"`;
}

/** The answer of a command run through lldb-vscode's `repl` evaluate: the echo `(lldb) …` removed. */
export function commandOutput(result: string): string {
  return result.replace(/^\(lldb\) [^\n]*\n?/, '');
}

/** `error: …` lines of a command's answer, or undefined when there are none. */
export function commandError(result: string): string | undefined {
  const m = /^error: (.*)$/m.exec(result);
  return m ? m[1].trim() : undefined;
}

function hex(s: string | undefined): bigint | undefined {
  if (!s || !/^0x[0-9a-f]+$/i.test(s)) return undefined;
  return BigInt(s);
}

/**
 * Whether an unwind ended at the eval loop: the outermost frame is `_PyEval_EvalFrameDefault`
 * (lldb-19/lldb-dap-19 on Debian 12 stop there, 6-8 frames deep). A whole stack ends in `_start`,
 * `clone`/`start_thread` or the like, never in the eval loop.
 */
export function cutAtEvalLoop(frames: NativeFrame[]): boolean {
  const last = frames[frames.length - 1];
  return !!last?.func && /^_PyEval_EvalFrameDefault\b/.test(last.func);
}

/** `lldb version 16.0.6` (the `version` command) -> 16. */
export function lldbMajorVersion(text: string): number | undefined {
  const m = /lldb(?:-\d+)? version (\d+)\./i.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * `disassemble --bytes` output: a `module\`function:` header, then one line per instruction
 * (`->  0x7f…ad <+13>:  48 3d 00 f0 ff ff   cmpq   $-0x1000, %rax   ; imm = 0xF000`; `->` marks
 * the pc). LLDB's own comments after `;` are dropped.
 */
export function parseDisassembly(text: string): Instruction[] {
  const out: Instruction[] = [];
  let func: string | undefined;
  for (const line of text.split('\n')) {
    const h = /^(\S+)`(.*):\s*$/.exec(line);
    if (h) {
      func = h[2] || undefined;
      continue;
    }
    const m = /^(?:->)?\s+0x([0-9a-fA-F]+)(?: <\+(\d+)>)?:\s+((?:[0-9a-fA-F]{2} )+)\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const ins: Instruction = { address: BigInt(`0x${m[1]}`), bytes: m[3].trim(), text: m[4].replace(/\s+;.*$/, '').replace(/\s+$/, '') };
    if (func) ins.func = func;
    if (m[2] !== undefined) ins.offset = Number(m[2]);
    out.push(ins);
  }
  return out;
}
