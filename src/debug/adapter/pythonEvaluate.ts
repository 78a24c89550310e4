/**
 * Python expressions in Python frames (Debug Console, watch) of a thread stopped at a Python
 * breakpoint or step: the bootstrap evaluates them in the program. The adapter writes the request to CONTROL + ".eval", has the debugger call the
 * bootstrap's `evaluate` hook on the frame's thread (it must hold the GIL: a thread stopped at a
 * Python breakpoint or step does), and reads the answer from CONTROL + ".eval.out"
 * (seam_bootstrap.py, `_Controller.evaluate`). Nothing reaches the program but that one call;
 * breakpoints and steps stay quiet while it runs.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { DebugBackend } from '../backend';
import { UserError } from '../errors';
import type { MergedFrame } from '../types';
import { callHook } from './callbackStep';
import { isOwnFrame, type PythonBreakpoints } from './pythonBreakpoints';

export interface PythonValue {
  ok: boolean;
  value: string;
  type: string;
}

let seq = 0;

/**
 * Evaluates `expression` in `frame`, one of `thread`'s merged frames (innermost first). Throws a
 * UserError saying why when it cannot run (no bootstrap, the thread does not hold the GIL, no C
 * frame to call from).
 */
export async function evaluatePython(
  backend: DebugBackend, python: PythonBreakpoints, bootstrap: string | undefined,
  thread: { id: number; holdsGil: boolean; frames: MergedFrame[] }, frame: MergedFrame, expression: string,
): Promise<PythonValue> {
  const hook = python.hook('evaluate');
  if (hook === undefined) throw new UserError('Python expressions need Seam\'s bootstrap in the program (launch, or an attach once the main thread ran Python)');
  if (!thread.holdsGil) throw new UserError('this thread does not hold the GIL: Python expressions run in the thread stopped at a Python breakpoint or step');
  const own = (f: MergedFrame): boolean => bootstrap !== undefined && isOwnFrame(f, bootstrap);
  const pyFrames = thread.frames.filter((f) => f.language === 'python' && !own(f));
  const depth = pyFrames.findIndex((f) => f === frame || (f.python && frame.python && f.python.address === frame.python.address));
  if (depth < 0) throw new UserError(`${frame.function} is not a Python frame of this thread any more`);
  // The call's casts are C: from a C frame (the trap's sys_audit at a Python breakpoint).
  const c = thread.frames.find((f) => f.native && /\.[ch]$/.test(f.native.fullname ?? f.native.file ?? ''));
  if (!c?.native) throw new UserError('no C frame with debug info on this thread to call the bootstrap from');
  const id = ++seq;
  const out = `${python.controlPath}.eval.out`;
  rmSync(out, { force: true });
  writeFileSync(`${python.controlPath}.eval`, JSON.stringify({ seq: id, expression, frame: depth }));
  await callHook(backend, thread.id, c.native.level, hook);
  let got: { seq?: unknown; ok?: unknown; value?: unknown; type?: unknown };
  try {
    got = JSON.parse(readFileSync(out, 'utf8')) as typeof got;
  } catch {
    throw new Error('the bootstrap wrote no answer');
  }
  if (got.seq !== id) throw new Error('the bootstrap answered another request');
  return { ok: got.ok === true, value: String(got.value ?? ''), type: String(got.type ?? '') };
}
