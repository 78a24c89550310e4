/**
 * The merged call stack: native frames from the debugger plus the Python frames read from the
 * interpreter's memory, as one list, innermost first. Pure and linear in the number of frames.
 *
 * Each activation of the eval loop (`_PyEval_EvalFrameDefault`) is replaced by the Python frames
 * it runs (one PySegment); the activation itself stays in the list, after its Python frames,
 * marked as glue. Which segment belongs to which activation:
 *
 * - by address, when every segment has an `anchor` and every eval frame has `sp` and `cfa`: the
 *   anchor (3.11: the `_PyCFrame`, 3.12+: the entry frame) is a local of its activation, so it lies
 *   in [sp, cfa) of that native frame. Inlined frames share their real frame's sp/cfa, so frames
 *   are grouped by (sp, cfa) and an anchor in a group belongs to the group's eval frame.
 * - by order otherwise (3.10 has no anchor; some debuggers give no CFA): segment i goes to eval
 *   frame i, both counted from the innermost.
 *
 * Mismatches are never hidden (rules R1–R4 below): an eval frame with no segment stays visible
 * as a C frame; Python frames with no eval frame are shown after a marker frame that says why.
 */
import type { FrameLanguage, MergedFrame, NativeFrame, PyFrame, PySegment, PyThread } from '../types';
import { cleanRustName, isRustName } from './rustNames';
import { EVAL_LOOP, isContextGlue, isEvalLoop, isGlueName, isPyo3Wrapper, opensPyo3Region, wrapperIsGlue } from './glue';

export interface MergeOptions {
  /** CPython version (`3.11`, `3.12.1`): decides what counts as the eval loop. */
  version?: string;
}

/** Marker frames carry neither `native` nor `python`; their `function` is the message. */
export function isMarker(f: MergedFrame): boolean {
  return f.native === undefined && f.python === undefined;
}

function marker(text: string): MergedFrame {
  return { language: 'native', function: `<${text}>`, file: null, line: null, glue: false };
}

export function mergeStack(nativeIn: NativeFrame[], py: PyThread | undefined, opts: MergeOptions = {}): MergedFrame[] {
  const native = withRustModules(nativeIn);
  const version = parseVersion(opts.version);
  const names = native.map(displayName);
  const hasDefault = names.some((n) => EVAL_LOOP.test(n));
  const isEval = names.map((n) => isEvalLoop(n, version, hasDefault));
  const segments = (py?.segments ?? []).filter((s) => s.frames.length > 0);

  const out: MergedFrame[] = [];
  const folded = new Set<number>(); // indices of eval frames replaced by their Python frames
  const pushNative = (i: number): void => {
    out.push(nativeFrame(native[i], names[i]));
  };
  const pushSegment = (s: PySegment): void => {
    for (const f of s.frames) out.push(pythonFrame(f));
  };

  const evalFrames = native.filter((_, i) => isEval[i]);
  const byAddress =
    segments.length > 0 &&
    segments.every((s) => s.anchor !== undefined) &&
    evalFrames.every((f) => f.sp !== undefined && f.cfa !== undefined);

  let next = 0; // next unplaced segment
  if (byAddress) {
    // Walk physical frames (runs of frames sharing sp/cfa: a real frame and the frames inlined
    // into it) from the innermost; segments are ordered the same way (anchors increase).
    let i = 0;
    while (i < native.length) {
      let j = i + 1;
      const { sp, cfa } = native[i];
      if (sp !== undefined && cfa !== undefined) {
        while (j < native.length && native[j].sp === sp && native[j].cfa === cfa) j++;
        // R1: a segment whose anchor lies inside (below) this frame but in no eval frame seen so
        // far: Python code run by a C frame we cannot see as the eval loop (a PEP 523 evaluator,
        // a frame the unwinder skipped). Shown where its address puts it, after a marker.
        while (next < segments.length && segments[next].anchor! < sp) {
          out.push(marker('Python frames below run by an eval-loop frame missing from the native stack'));
          pushSegment(segments[next++]);
        }
        const ev = firstEval(isEval, i, j);
        const inside: PySegment[] = [];
        while (next < segments.length && segments[next].anchor! < cfa) inside.push(segments[next++]);
        if (inside.length > 0 && ev < 0) {
          out.push(marker('Python frames below run from a C frame that is not the eval loop'));
          inside.forEach(pushSegment);
          inside.length = 0;
        }
        for (let k = i; k < j; k++) {
          if (k === ev && inside.length > 0) {
            // More than one segment in one activation cannot happen on a sane stack; they are
            // still shown, innermost first, rather than dropped.
            inside.forEach(pushSegment);
            folded.add(k);
          }
          // R2: an eval frame with no segment (entered but its frame not pushed yet, or already
          // popped; or the reader lost a segment) stays visible as a C frame.
          pushNative(k);
        }
      } else {
        pushNative(i);
      }
      i = j;
    }
  } else {
    // Order: segment n belongs to eval frame n, innermost first. Extra eval frames (the outer
    // ones) stay visible (R2); extra segments go to R3.
    for (let i = 0; i < native.length; i++) {
      if (isEval[i] && next < segments.length) {
        pushSegment(segments[next++]);
        folded.add(i);
      }
      pushNative(i);
    }
  }

  // R3: Python frames left once the native stack is used up. Either the native stack was cut
  // short (LLDB 19 stops unwinding at the eval loop; unwinders stop in frames without CFI), or
  // the thread shows no eval frame at all (stopped in a prologue, or its stack unreadable). The
  // interpreter's view is still right, so its frames follow, after a marker that says so.
  if (next < segments.length) {
    const left = segments.slice(next).reduce((n, s) => n + s.frames.length, 0);
    const last = native.length > 0 ? names[native.length - 1] : undefined;
    const complete = last !== undefined && /^(_start|__libc_start(_call)?_main\w*|start_thread|(__)?clone3?|thread_start)$/.test(last);
    const why =
      native.length === 0
        ? `no native frames; ${left} Python frame${left === 1 ? '' : 's'} from the interpreter`
        : complete
          ? `${left} Python frame${left === 1 ? '' : 's'} not matched to any eval-loop frame of this thread`
          : `native stack ends here (unwinding stopped at ${last}); ${left} more Python frame${left === 1 ? '' : 's'} from the interpreter`;
    out.push(marker(why));
    for (const s of segments.slice(next)) pushSegment(s);
  }

  markGlue(out, new Set(evalFrames), new Set([...folded].map((i) => native[i])));
  return out;
}

function firstEval(isEval: boolean[], from: number, to: number): number {
  for (let k = from; k < to; k++) if (isEval[k]) return k;
  return -1;
}

/** R4: glue. Folded eval frames are glue; unfolded ones are not (they are the visible sign of a
 *  mismatch). Other native frames by the table in glue.ts; closure calls (`FnOnce::call_once`)
 *  only inside a PyO3 trampoline region, found in one pass from the outermost frame. */
function markGlue(out: MergedFrame[], evalFrames: Set<NativeFrame>, folded: Set<NativeFrame>): void {
  let inPyo3 = false;
  for (let k = out.length - 1; k >= 0; k--) {
    const f = out[k];
    if (!f.native) {
      inPyo3 = false;
      continue;
    }
    const name = f.function;
    if (evalFrames.has(f.native)) {
      f.glue = folded.has(f.native);
      inPyo3 = false;
    } else if (isPyo3Wrapper(name)) {
      const callee = out[k - 1];
      f.glue = wrapperIsGlue(name, callee?.native ? callee.function : undefined);
    } else if (isGlueName(name)) {
      f.glue = true;
      if (opensPyo3Region(name)) inPyo3 = true;
    } else if (isContextGlue(name)) {
      f.glue = inPyo3;
    } else {
      f.glue = false;
      inPyo3 = false;
    }
  }
}

function nativeFrame(f: NativeFrame, name: string): MergedFrame {
  return {
    language: languageOf(f),
    function: name,
    file: f.fullname ?? f.file ?? null,
    line: f.line ?? null,
    glue: false,
    native: f,
  };
}

function pythonFrame(f: PyFrame): MergedFrame {
  return { language: 'python', function: f.name, file: f.file || null, line: f.line, glue: false, python: f };
}

/**
 * Frames without a source file whose shared object holds frames known to be Rust, and whose
 * name is a path (`rustworkx::shortest_path::run`, `<rustworkx::CostFn>::call`): Rust too. A
 * stripped wheel's names, once demangled, look like C++ ones; the object they are in tells.
 */
function withRustModules(frames: NativeFrame[]): NativeFrame[] {
  const rustObjects = new Set<string>();
  for (const f of frames) if (f.from && languageOf(f) === 'rust') rustObjects.add(f.from);
  if (!rustObjects.size) return frames;
  return frames.map((f) => (!f.rust && f.from && rustObjects.has(f.from) && !f.file && !f.fullname && f.func?.includes('::') ? { ...f, rust: true } : f));
}

/** `.rs` → rust, `.c`/`.h` → c; without a source file, a Rust-looking name → rust, else native. */
export function languageOf(f: NativeFrame): FrameLanguage {
  const file = f.file ?? f.fullname;
  if (file) {
    if (/\.rs$/.test(file)) return 'rust';
    if (/\.[ch]$/.test(file)) return 'c';
  }
  if (f.rust || (f.func && isRustName(f.func))) return 'rust';
  return 'native';
}

/** The name shown: Rust names cleaned; no symbol → the pc. */
export function displayName(f: NativeFrame): string {
  if (!f.func || f.func === '??') return `0x${f.pc.toString(16)}${f.from ? ` in ${f.from.slice(f.from.lastIndexOf('/') + 1)}` : ''}`;
  return languageOf(f) === 'rust' || isRustName(f.func) ? cleanRustName(f.func) : f.func;
}

function parseVersion(v: string | undefined): [number, number] | undefined {
  const m = v ? /^(\d+)\.(\d+)/.exec(v) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
