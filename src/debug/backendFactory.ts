/**
 * Which debugger a session or `seam stack` drives (`seam.debugger`: gdb | lldb | auto) and its
 * creation. auto: GDB where it is found on Linux, LLDB otherwise.
 */
import type { DebugBackend } from './backend';
import { createGdbBackend } from './gdb/backend';
import { createLldbBackend } from './lldb/backend';
import { UserError } from './errors';
import { which } from './which';

export type DebuggerKind = 'gdb' | 'lldb' | 'auto';

export interface BackendOptions {
  debugger?: string;
  gdbPath?: string;
  lldbDapPath?: string;
  log?: (line: string) => void;
  /** More GDB arguments (tests, diagnostics). */
  gdbExtraArgs?: string[];
}

/** The debugger named by a launch config or `--debugger`; when none is, `$SEAM_DEBUGGER`, else auto. */
export function parseDebuggerKind(v: string | undefined, env = process.env.SEAM_DEBUGGER): DebuggerKind {
  if (v === undefined || v === '') v = env;
  if (v === undefined || v === '') return 'auto';
  if (v === 'gdb' || v === 'lldb' || v === 'auto') return v;
  throw new UserError(`unknown debugger '${v}': use gdb, lldb or auto`);
}

/** The debugger `auto` picks: GDB on Linux when there is one (configured or on PATH), else LLDB. */
export function autoDebugger(gdbPath?: string, platform = process.platform): 'gdb' | 'lldb' {
  if (platform !== 'linux') return 'lldb';
  const gdb = gdbPath || 'gdb';
  // A gdb named by its path is the user's choice: GDB, even if that path is wrong (its error then
  // says so). A bare name is looked up on PATH.
  if (gdb.includes('/')) return 'gdb';
  return which(gdb) !== undefined ? 'gdb' : 'lldb';
}


export async function createBackend(opts: BackendOptions): Promise<DebugBackend> {
  let kind = parseDebuggerKind(opts.debugger);
  if (kind === 'auto') kind = autoDebugger(opts.gdbPath);
  if (kind === 'lldb') return createLldbBackend({ lldbDapPath: opts.lldbDapPath, log: opts.log });
  return createGdbBackend({ gdbPath: opts.gdbPath, log: opts.log, extraArgs: opts.gdbExtraArgs });
}
