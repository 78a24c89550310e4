/**
 * `seam stack`: every thread's merged Python/C/Rust stack of a program run to its first stop,
 * of a running process (attach, print, detach) or of a core file.
 */
import { once } from 'node:events';
import { createBackend } from '../debug/backendFactory';
import type { DebugBackend, StopEvent } from '../debug/backend';
import { StackService } from '../debug/stackService';
import { formatStackText, stackJson } from '../debug/stack/format';
import type { StackArgs } from './args';
import { resolvePython } from '../debug/adapter/python';

export async function runStack(args: StackArgs, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const backend: DebugBackend = await createBackend({
    debugger: args.debugger,
    gdbPath: args.gdbPath,
    lldbDapPath: args.lldbDapPath,
    log: process.env.SEAM_LOG ? (l) => err(`${l}\n`) : undefined,
    // Diagnostics and tests: e.g. SEAM_GDB_ARGS=--readnever reads no DWARF at all.
    gdbExtraArgs: process.env.SEAM_GDB_ARGS ? process.env.SEAM_GDB_ARGS.split(' ').filter(Boolean) : undefined,
  });
  let ended: { exitCode: number } | undefined;
  backend.on('exited', (e: { exitCode: number }) => (ended = e));
  backend.on('warning', (w: { text: string }) => err(`seam: ${w.text}\n`));
  backend.on('output', (o: { category: string; text: string }) => {
    if (o.category === 'stdout' || o.category === 'stderr') err(o.text); // the program's output never mixes into ours
  });
  const t = args.target;
  try {
    if (t.kind === 'launch') {
      // Python lines are the debug adapter's breakpoints (they need the bootstrap in the program).
      const pyLine = args.breaks.find((b) => /\.pyi?:\d+$/.test(b));
      if (pyLine) {
        err(`seam: --break ${pyLine}: seam stack stops at native locations (a C or Rust function, file.c:LINE, file.rs:LINE); for Python lines use the debug adapter (a launch configuration of type "seam")\n`);
        return 2;
      }
      const python = resolvePython(t.python);
      await backend.launch({ program: python, args: [t.script, ...t.args] });
      for (const loc of args.breaks) await backend.insertBreakpoint({ location: loc });
      await backend.insertBreakpoint({ location: 'rust_panic' }).catch(() => undefined);
      const stopped = once(backend, 'stopped') as Promise<[StopEvent]>;
      const exited = once(backend, 'exited') as Promise<[{ exitCode: number }]>;
      await backend.run();
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), args.timeoutMs).unref());
      // The debugger dying ends the wait too ('terminated' carries the reason).
      const died = once(backend, 'terminated').then(([e]) => ({ died: (e as { reason?: string }).reason ?? 'the debugger ended unexpectedly' }));
      const first = await Promise.race([stopped.then(([e]) => e), exited.then(() => 'exited' as const), timeout, died]);
      if (typeof first === 'object' && 'died' in first) {
        err(`seam: ${first.died}\n`);
        return 2;
      }
      if (first === 'timeout') {
        err(`seam: the program did not stop within ${args.timeoutMs / 1000} s (no --break reached, no signal); it was killed\n`);
        return 2;
      }
      if (first === 'exited') {
        err(`seam: the program exited with code ${ended?.exitCode} before any stop: give a --break location it reaches\n`);
        return 2;
      }
      err(`stopped: ${first.description}\n`);
    } else if (t.kind === 'attach') {
      await backend.attach(t.pid);
    } else {
      await backend.openCore(t.core, resolvePython(t.python));
    }
    const snap = await new StackService(backend).snapshot();
    for (const w of snap.warnings) err(`seam: ${w}\n`);
    out(args.json ? `${JSON.stringify(stackJson(snap))}\n` : `${formatStackText(snap, { all: args.all })}\n`);
    return 0;
  } finally {
    await backend.close({ detach: t.kind === 'attach' }).catch(() => undefined);
  }
}
