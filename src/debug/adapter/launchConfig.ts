/**
 * Launch and attach arguments, typed once; kept in step with package.json's
 * `contributes.debuggers[0].configurationAttributes` (a unit test compares them).
 */
import type { DebugProtocol } from '@vscode/debugprotocol';

export interface CommonArgs {
  python?: string;
  gdbPath?: string;
  debugger?: string;
  lldbDapPath?: string;
  showGlue?: boolean;
  stopOnPanic?: boolean;
  logFile?: string;
}

export interface LaunchArgs extends DebugProtocol.LaunchRequestArguments, CommonArgs {
  program?: string;
  module?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  stopOnEntry?: boolean;
  /** Run the program with address-space randomization off (GDB's and LLDB's own default). Off
   *  by default: the program runs as it does outside the debugger. */
  disableAslr?: boolean;
}

export interface AttachArgs extends DebugProtocol.AttachRequestArguments, CommonArgs {
  processId?: number | string;
  coreFile?: string;
}

export const LAUNCH_KEYS = ['python', 'gdbPath', 'debugger', 'lldbDapPath', 'showGlue', 'stopOnPanic', 'logFile', 'program', 'module', 'args', 'env', 'cwd', 'stopOnEntry', 'disableAslr'] as const;
export const ATTACH_KEYS = ['python', 'gdbPath', 'debugger', 'lldbDapPath', 'showGlue', 'stopOnPanic', 'logFile', 'processId', 'coreFile'] as const;
