/**
 * Types shared by the debugging core (pure: MI parsing, interpreter-memory reading, stack
 * merging) and its adapters (GDB backend, DAP session, `seam stack`). No I/O here.
 */

/** One native frame as the debugger reports it (GDB/MI `-stack-list-frames`). */
export interface NativeFrame {
  /** 0 = innermost. */
  level: number;
  /** Program counter. */
  pc: bigint;
  /** Function name as the debugger gives it (maybe mangled, maybe with a Rust hash). */
  func: string | undefined;
  /** Set by a backend that cleaned a Rust name (the hashes that told it was Rust are gone). */
  rust?: true;
  /** Source file as compiled (`file`) and resolved (`fullname`), when there is debug info. */
  file?: string;
  fullname?: string;
  line?: number;
  /** Shared object the pc is in (`from`), when the debugger says so. */
  from?: string;
  /** Stack pointer of this frame and of its caller (the CFA), when known: used to place the
   *  interpreter's entry frames (which live on the C stack) in the right eval activation. */
  sp?: bigint;
  cfa?: bigint;
}

/** One native thread of the debuggee. */
export interface NativeThread {
  /** The debugger's thread id (GDB's global id). */
  id: number;
  /** The debugger's 1-based thread number, where `id` is something else (LLDB's DAP server
   *  identifies threads by OS id; its `thread list` numbers them as GDB does). */
  number?: number;
  /** OS thread id (LWP), which CPython records as `native_thread_id`. */
  lwp: number | undefined;
  /** pthread_t (GDB's `Thread 0x7ffff7d8a740 (LWP n)`): how 3.10 thread states are matched,
   *  since 3.10 records no native thread id. */
  pthread?: bigint;
  name?: string;
  frames: NativeFrame[];
}

/** One Python frame read from the interpreter's memory. */
export interface PyFrame {
  /** Qualified name (`Class.method`; 3.10 has only `co_name`). */
  name: string;
  file: string;
  /** null when the line cannot be computed (corrupt table, frame not started). */
  line: number | null;
  /** Address of the interpreter frame (`_PyInterpreterFrame *` / `PyFrameObject *`). */
  address: bigint;
  /** Marks a frame the reader could not read; `name` then says why. */
  unreadable?: boolean;
}

/**
 * A run of Python frames executed by one C-level activation of the eval loop, innermost first.
 * `anchor` is an address on the C stack inside that activation's native frame (3.11–3.12: the
 * `_PyCFrame`; 3.12+: the entry frame), or undefined where the layout has none (3.10: one frame
 * object per activation, matched by order).
 */
export interface PySegment {
  frames: PyFrame[];
  anchor?: bigint;
}

/** One Python thread state. */
export interface PyThread {
  /** `native_thread_id` (Linux TID), matched to NativeThread.lwp. */
  nativeThreadId: number | undefined;
  /** Address of the `PyThreadState`. */
  tstate: bigint;
  /** Segments innermost first. */
  segments: PySegment[];
  holdsGil: boolean;
  /** `threading` name when readable. */
  name?: string;
}

export type FrameLanguage = 'python' | 'c' | 'rust' | 'native';

/** One frame of the merged stack: what the Call Stack view and `seam stack --json` show. */
export interface MergedFrame {
  language: FrameLanguage;
  function: string;
  file: string | null;
  line: number | null;
  /** Interpreter glue (eval loop, vectorcall, PyO3 trampolines ...): folded by default. */
  glue: boolean;
  native?: NativeFrame;
  python?: PyFrame;
}

/** Reads the debuggee's memory. Implementations: GDB/MI (`-data-read-memory-bytes`, any target
 *  including core files) and /proc/PID/mem (a live local process). */
export interface Memory {
  /** Reads `size` bytes at `address`; throws MemoryError when unreadable. */
  read(address: bigint, size: number): Promise<Uint8Array>;
}

export class MemoryError extends Error {
  constructor(readonly address: bigint, readonly size: number, why: string) {
    super(`cannot read ${size} bytes at 0x${address.toString(16)}: ${why}`);
  }
}

/** Symbol and type knowledge, from the debugger (DWARF) or from the ELF symbol table. */
export interface Symbols {
  /** Address of a global symbol (`_PyRuntime`), undefined when absent. */
  address(name: string): Promise<bigint | undefined>;
  /** Byte offset of `field` (dotted for nested: `cframe`, `threads.head`) in C type `type`
   *  (`PyThreadState`, `struct _frame`) from DWARF; undefined without DWARF or when absent. */
  offsetOf?(type: string, field: string): Promise<number | undefined>;
  /** sizeof(type) from DWARF. */
  sizeOf?(type: string): Promise<number | undefined>;
  /** The interpreter's minor version from the names of the loaded modules (`libpython3.12.so`,
   *  `python3.12`), for targets whose read-only data cannot be read (LLDB on a core file). */
  pythonMinor?(): Promise<number | undefined>;
  /** The file the interpreter's code is in (libpython, else the executable), for caching what
   *  DWARF says about it. */
  pythonModulePath?(): Promise<string | undefined>;
}

/** A machine instruction as a debugger disassembles it. */
export interface Instruction {
  address: bigint;
  /** Hex bytes, space separated (`48 89 e5`), when the debugger gives them. */
  bytes?: string;
  /** The instruction in the debugger's syntax (`mov    %rsp,%rbp`). */
  text: string;
  /** The function it is in and its offset there, when known. */
  func?: string;
  offset?: number;
  /** Its source line, when the debug info says. */
  file?: string;
  fullname?: string;
  line?: number;
}
