/**
 * The one interface the debug session and `seam stack` drive; a GDB implementation (and later
 * an LLDB one) sits behind it. No DAP types, no vscode: plain data and events.
 */
import type { EventEmitter } from 'node:events';
import type { Instruction, Memory, NativeFrame, NativeThread, Symbols } from './types';

export type StopReason = 'breakpoint' | 'function breakpoint' | 'data breakpoint' | 'step' | 'signal' | 'panic' | 'pause' | 'entry' | 'exception';

export interface StopEvent {
  reason: StopReason;
  /** Debugger thread id that stopped (all threads stop: all-stop mode). */
  threadId: number;
  /** Words for the user: "SIGSEGV in crash at _mixed.c:40", "Rust panic". */
  description: string;
  /** Backend breakpoint ids that were hit. */
  breakpointIds?: number[];
  signal?: string;
}

export interface BreakpointRequest {
  /** A native location: `file:line`, a C function, a Rust path (`crate::mod::fn`). */
  location: string;
  condition?: string;
  /** Stop only from the N-th hit on (GDB ignore count N-1). */
  ignoreCount?: number;
  /** A function breakpoint at the function's first instruction (before its prologue), where the
   *  arguments are in their ABI registers (`entryArgument`). */
  atEntry?: boolean;
}

export interface BreakpointState {
  id: number;
  /** Resolved (false while pending, e.g. until the extension module is loaded). */
  verified: boolean;
  file?: string;
  line?: number;
  message?: string;
}

export interface Variable {
  name: string;
  value: string;
  type?: string;
  /** Non-zero when the value has children (`children(ref)`). */
  ref: number;
  /** Address for pointer-like values (for PyObject * summaries). */
  address?: bigint;
}

/** A native variable's container: a frame's locals, or a value's members (`children(ref)`). */
export type VariableContainer = { threadId: number; level: number } | { ref: number };

export interface LaunchRequest {
  program: string; // the interpreter
  args: string[]; // script and its arguments, verbatim
  cwd?: string;
  env?: Record<string, string>;
  /** Address-space randomization off, as GDB and LLDB do by default (default here: on, as the
   *  program runs outside the debugger; a fixed layout alone moved a CPU-bound 3.12 loop by 5%). */
  disableAslr?: boolean;
}

/**
 * Events: 'stopped' (StopEvent), 'continued' (), 'output' ({category: 'stdout'|'stderr'|'console',
 * text}), 'exited' ({exitCode, uncertain?: the debugger lost the status; exitCode is a guess}), 'terminated' ({reason?: string}), 'breakpoint' (BreakpointState:
 * a pending breakpoint resolved), 'libraryLoaded' ({path}), 'warning' ({text}: something the user
 * should know about the debugger itself, e.g. an LLDB that cannot unwind through the eval loop).
 */
export interface DebugBackend extends EventEmitter {
  readonly memory: Memory;
  readonly symbols: Symbols;
  /** OS process id of the debuggee once known. */
  readonly pid: number | undefined;
  launch(req: LaunchRequest): Promise<void>;
  attach(pid: number): Promise<void>;
  openCore(core: string, executable: string): Promise<void>;
  /** Starts a launched program (after breakpoints are set). */
  run(): Promise<void>;
  insertBreakpoint(req: BreakpointRequest): Promise<BreakpointState>;
  deleteBreakpoint(id: number): Promise<void>;
  threads(): Promise<NativeThread[]>;
  frames(threadId: number, limit?: number): Promise<NativeFrame[]>;
  /** Called once a stop's merged stacks are complete: work that can wait for it may start. */
  stackShown?(): void;
  /** Stack pointer and CFA of the given frame levels of a thread. */
  spCfa(threadId: number, levels: number[]): Promise<Map<number, { sp?: bigint; cfa?: bigint }>>;
  locals(threadId: number, level: number): Promise<Variable[]>;
  children(ref: number): Promise<Variable[]>;
  evaluate(expression: string, threadId?: number, level?: number): Promise<Variable>;
  /** Evaluates an expression that calls into the program exactly once (`evaluate` may evaluate
   *  twice to describe the value); returns the value as the debugger prints it. */
  evaluateCall(expression: string, threadId: number, level: number): Promise<string>;
  continue(): Promise<void>;
  pause(): Promise<void>;
  next(threadId: number): Promise<void>;
  stepIn(threadId: number): Promise<void>;
  stepOut(threadId: number): Promise<void>;
  /** Sets a native variable: a local of a frame, or a member of a value that `children(ref)`
   *  listed. `value` is an expression in the program's language; answers the variable anew. */
  setVariable?(container: VariableContainer, name: string, value: string): Promise<Variable>;
  /** Where a native variable lives (a local of a frame, or a member `children(ref)` listed):
   *  its address and size, for a data breakpoint; undefined when it has no address (a register). */
  watchTarget?(container: VariableContainer, name: string): Promise<{ address: bigint; size: number } | undefined>;
  /** A hardware watchpoint on `size` bytes at `address`; answers its id (the debugger's). A stop
   *  on it is reported with reason 'data breakpoint'. */
  insertWatchpoint?(address: bigint, size: number, access: 'write' | 'read' | 'readWrite'): Promise<number>;
  deleteWatchpoint?(id: number): Promise<void>;
  /** Memory as the program has it, for the user's eyes (the memory view): without the
   *  debugger's breakpoint traps. Absent: `memory` already reads it so (GDB lifts them while
   *  stopped). */
  readProgramMemory?(address: bigint, size: number): Promise<Uint8Array>;
  /** One machine instruction, over calls (`into` false) or into them. Absent: the debugger
   *  cannot (the adapter steps a line and says so). */
  stepInstruction?(threadId: number, into: boolean): Promise<void>;
  /** The instructions from `start` up to `end` ([] where the memory cannot be read). */
  disassemble?(start: bigint, end: bigint): Promise<Instruction[]>;
  /** Forgets a step that a breakpoint interrupted, so the next resume does not end it with a
   *  stop of its own (LLDB; GDB forgets it at the stop). */
  abandonStep?(threadId: number): Promise<void>;
  /**
   * An expression for the n-th (1-based) integer argument of a function stopped at its entry
   * (`atEntry`), for debuggers that do not see an optimised function's parameters there (LLDB:
   * `$arg2`). Absent: parameters are read by name after the prologue (GDB).
   */
  entryArgument?(n: number): string;
  /** Ends the session: kill a launched program (or detach from an attached one when `detach`). */
  close(opts: { detach: boolean }): Promise<void>;
}
