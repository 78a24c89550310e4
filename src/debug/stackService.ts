/**
 * One stop's merged stacks: native frames from the backend, Python frames read from the
 * interpreter's memory, merged per thread. Shared by the debug session and `seam stack`.
 * Caches per stop; `invalidate()` on every resume.
 */
import type { DebugBackend } from './backend';
import type { MergedFrame, NativeFrame, NativeThread, PyThread } from './types';
import { detectLayout, type DetectOptions, type PythonLayout } from './python/layout';
import { LayoutCache, layoutKey } from './python/layoutCache';
import { newReaderMemo, readPythonThreads, type PyThreadRead } from './python/reader';
import { lwpsByPthread } from './python/pthreadMatch';
import { mergeStack } from './stack/merge';

export interface ThreadStack {
  /** The backend's thread id (DAP requests use it). */
  id: number;
  /** The debugger's 1-based thread number (`seam stack` prints it): GDB's id, LLDB's index. */
  number: number;
  name: string;
  lwp?: number;
  holdsGil: boolean;
  frames: MergedFrame[];
}

export interface Snapshot {
  threads: ThreadStack[];
  /** e.g. "3.12" when the debuggee is CPython, undefined otherwise. */
  pythonVersion?: string;
  /** Problems worth telling the user (no DWARF for libpython, unreadable frames). */
  warnings: string[];
}

const EVAL_FRAME = /^_PyEval_EvalFrame(?:Default)?$/;

type LayoutCacheLike = NonNullable<DetectOptions['cache']>;

/** The user's layout cache (one per process), keyed by library file; SEAM_LAYOUT_CACHE=0 turns it
 *  off, =1 keeps the default file, any other value is the file to use. */
let disk: LayoutCacheLike | undefined;
function diskLayoutCache(): LayoutCacheLike | undefined {
  if (process.env.SEAM_LAYOUT_CACHE === '0') return undefined;
  if (!disk) {
    const v = process.env.SEAM_LAYOUT_CACHE;
    const c = new LayoutCache(v && v !== '1' ? v : undefined);
    disk = { key: layoutKey, get: (k) => c.get(k), set: (k, l) => c.set(k, l) };
  }
  return disk;
}

export class StackService {
  private layout: PythonLayout | null | undefined; // null: not a Python process (or unreadable)
  private layoutProblem: string | undefined;
  /** The last detection failed: try again at the next stop. */
  private retryLayout = false;
  private current: Promise<Snapshot> | undefined;
  /** What the reader keeps across stops (where `threading._active` is). */
  private memo = newReaderMemo();
  /** Warnings already logged (each once a session). */
  private readonly said = new Set<string>();

  private readonly layoutCache: LayoutCacheLike | undefined;

  constructor(private readonly backend: DebugBackend, private readonly log: (line: string) => void = () => undefined, layoutCache?: LayoutCacheLike | null) {
    // null: no cache (tests that count the debugger's answers); undefined: the user's.
    this.layoutCache = layoutCache === null ? undefined : layoutCache ?? diskLayoutCache();
  }

  invalidate(): void {
    this.current = undefined;
    if (this.retryLayout && this.layout === null) this.layout = undefined;
  }

  /** Forget the interpreter layout too (a new program, an extension module just loaded). */
  reset(): void {
    this.current = undefined;
    this.memo = newReaderMemo();
    if (this.layout === null) this.layout = undefined;
  }

  /** The interpreter layout (for Python values), or null when this is not a Python process. */
  pythonLayout(): Promise<PythonLayout | null> {
    return this.detect();
  }

  snapshot(): Promise<Snapshot> {
    if (!this.current) {
      this.current = this.take();
      // The stop's stack is out: the backend may use the idle time (GdbBackend learns addresses).
      void this.current.then(() => this.backend.stackShown?.(), () => undefined);
    }
    return this.current;
  }

  private async detect(): Promise<PythonLayout | null> {
    if (this.layout !== undefined) return this.layout;
    // Tried twice: a debugger under load can fail one of the many lookups detection makes (seen
    // once with LLDB on a busy machine). A failure is not kept past this stop either: the next
    // stop tries again (a library loaded since, the load gone).
    for (let attempt = 1; ; attempt++) {
      try {
        this.layout = await detectLayout(this.backend.memory, this.backend.symbols, { cache: this.layoutCache });
        return this.layout;
      } catch (e) {
        this.layoutProblem = (e as Error).message;
        if (attempt >= 2) break;
        (this.backend.symbols as { clear?: () => void }).clear?.();
      }
    }
    const w = `Python frames unavailable: ${this.layoutProblem}`;
    this.said.add(w);
    this.log(w);
    this.layout = null;
    this.retryLayout = true;
    return this.layout;
  }

  private async take(): Promise<Snapshot> {
    const warnings: string[] = [];
    // GDB unwinds the native stacks while the interpreter's memory is read: the two overlap.
    const threadsRead = this.backend.threads();
    const nativeRead = threadsRead.then((ts) => Promise.all(ts.map((t) => this.backend.frames(t.id))));
    // The interpreter is read here, in this thread (Seam's DWARF reader may take a while on a
    // first stop): only once the frame requests have gone out, so that GDB unwinds meanwhile.
    const framesAsked = threadsRead.then(() => new Promise<void>((resolve) => setImmediate(resolve)), () => undefined);
    const pythonRead = (async (): Promise<{ layout: PythonLayout | null; pyThreads: PyThreadRead[] }> => {
      await framesAsked;
      const layout = await this.detect();
      if (!layout && this.layoutProblem) warnings.push(`Python frames unavailable: ${this.layoutProblem}`);
      let pyThreads: PyThreadRead[] = [];
      if (layout) {
        try {
          pyThreads = await readPythonThreads(this.backend.memory, layout, undefined, this.memo);
        } catch {
          try {
            pyThreads = await readPythonThreads(this.backend.memory, layout, undefined, this.memo); // once more (a read the debugger failed)
          } catch (e) {
            warnings.push(`Python frames unreadable: ${(e as Error).message}`);
          }
        }
      }
      return { layout, pyThreads };
    })();
    const [threads, natives, read] = await Promise.all([threadsRead, nativeRead, pythonRead]);
    const { layout } = read;
    let { pyThreads } = read;
    // A thread running the eval loop with no Python thread state for it: the interpreter's memory
    // was read in a bad moment (seen once with LLDB on a loaded machine). Read it once more.
    const inEval = (i: number): boolean => natives[i].some((f) => f.func !== undefined && EVAL_FRAME.test(f.func));
    // (A Python thread with no native id yet may still be matched by LWP below: not lacking.)
    const lacking = (): number[] => threads.flatMap((t, i) => (inEval(i) && !pyThreads.some((p) =>
      belongsTo(p, t) || p.nativeThreadId === undefined) ? [t.id] : []));
    if (layout && lacking().length) {
      try {
        pyThreads = await readPythonThreads(this.backend.memory, layout, undefined, this.memo);
      } catch (e) {
        warnings.push(`Python frames unreadable: ${(e as Error).message}`);
      }
      const still = lacking();
      if (still.length) warnings.push(`no Python thread state found for thread${still.length > 1 ? 's' : ''} ${still.join(', ')} (its Python frames are not shown)`);
    }
    for (const w of warnings) if (!this.said.has(w)) {
      this.said.add(w);
      this.log(w);
    }
    // 3.10 records only pthread_t: a debugger that names no pthread_t per thread (LLDB) still
    // gives LWPs, which the C library's thread descriptors hold.
    const unmatched = pyThreads.filter((p) => p.nativeThreadId === undefined);
    if (unmatched.length && threads.every((t) => t.pthread === undefined)) {
      const byPthread = await lwpsByPthread(this.backend.memory, unmatched.map((p) => p.threadId), threads.map((t) => t.lwp ?? 0));
      for (const p of unmatched) p.nativeThreadId = byPthread.get(p.threadId);
    }
    const out = await Promise.all(threads.map(async (t, i): Promise<ThreadStack> => {
      const py = threadStateFor(pyThreads, t);
      const native = placedByAddress(py) ? await this.withStackBounds(t, natives[i]) : natives[i];
      return {
        id: t.id,
        number: t.number ?? t.id,
        name: py?.name ?? t.name ?? `Thread ${t.number ?? t.id}`,
        lwp: t.lwp,
        holdsGil: py?.holdsGil ?? false,
        frames: mergeStack(native, py, { version: layout?.version }),
      };
    }));
    return { threads: out, pythonVersion: layout?.version, warnings };
  }

  /**
   * sp/cfa for the eval-loop activations, when the Python segments are placed by address. Two MI
   * evaluations per eval frame: for 3.10 (no anchors, segments placed by order) that would be
   * ~2,000 of them for 1,000 Python frames, for nothing.
   */
  private async withStackBounds(t: NativeThread, frames: NativeFrame[]): Promise<NativeFrame[]> {
    // Seam's own unwinder gives every frame's sp and CFA already.
    const evalLevels = frames.filter((f) => f.func && EVAL_FRAME.test(f.func) && (f.sp === undefined || f.cfa === undefined)).map((f) => f.level);
    if (evalLevels.length) {
      try {
        const regs = await this.backend.spCfa(t.id, evalLevels);
        for (const f of frames) {
          const r = regs.get(f.level);
          if (r) Object.assign(f, r);
        }
      } catch (e) {
        this.log(`thread ${t.id}: stack bounds unavailable (${(e as Error).message}); Python frames placed by order`);
      }
    }
    return frames;
  }
}

/** The Python thread state of a native thread: by native thread id, else (3.10) by pthread_t. */
/**
 * The Python thread state of a native thread. CPython (3.11 at least) fills a new thread state's
 * native id in the creating thread and corrects it only once the new thread starts: until then
 * two states claim the creator's id (seen: a thread stopped right after it started another lost
 * its Python frames to the new, empty state). Of several claimants, the one holding the GIL, else
 * the one with the most Python frames, is the thread's.
 */
export function threadStateFor<P extends Pick<PyThread, 'nativeThreadId' | 'holdsGil' | 'segments'> & { threadId: bigint }>(pyThreads: P[], t: Pick<NativeThread, 'lwp' | 'pthread'>): P | undefined {
  let best: P | undefined;
  let bestScore = -1;
  for (const p of pyThreads) {
    if (!belongsTo(p, t)) continue;
    const score = (p.holdsGil ? 1e9 : 0) + p.segments.reduce((n, seg) => n + seg.frames.length, 0);
    if (score > bestScore) {
      best = p;
      bestScore = score;
    }
  }
  return best;
}

function belongsTo(p: Pick<PyThreadRead, 'nativeThreadId' | 'threadId'>, t: Pick<NativeThread, 'lwp' | 'pthread'>): boolean {
  return p.nativeThreadId !== undefined
    ? p.nativeThreadId === t.lwp
    : t.pthread !== undefined && p.threadId === t.pthread;
}

/** Whether mergeStack will place this thread's segments by address (it needs sp/cfa then). */
function placedByAddress(py: PyThreadRead | undefined): boolean {
  const segments = (py?.segments ?? []).filter((s) => s.frames.length > 0);
  return segments.length > 0 && segments.every((s) => s.anchor !== undefined);
}
