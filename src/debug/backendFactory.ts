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

export function parseDebuggerKind(v: string | undefined): DebuggerKind {
  if (v === undefined || v === '') return 'auto';
  if (v === 'gdb' || v === 'lldb' || v === 'auto') return v;
  throw new UserError(`unknown debugger '${v}': use gdb, lldb or auto`);
}

/** The debugger `auto` picks: GDB on Linux when there is one (configured or on PATH), else LLDB. */
export function autoDebugger(gdbPath?: string, platform = process.platform): 'gdb' | 'lldb' {
  if (platform !== 'linux') return 'lldb';
  if (gdbPath) return 'gdb';
  return which('gdb') !== undefined ? 'gdb' : 'lldb';
}

export async function createBackend(opts: BackendOptions): Promise<DebugBackend> {
  let kind = parseDebuggerKind(opts.debugger);
  if (kind === 'auto') kind = autoDebugger(opts.gdbPath);
  if (kind === 'lldb') return createLldbBackend({ lldbDapPath: opts.lldbDapPath, log: opts.log });
  return createGdbBackend({ gdbPath: opts.gdbPath, log: opts.log, extraArgs: opts.gdbExtraArgs });
}
