/**
 * The debugger the debugger tests run against: `SEAM_DEBUGGER=lldb` runs the same suite over LLDB
 * (the adapter and `seam stack` take their default from the same variable). GDB otherwise.
 */
export const DEBUGGER: 'gdb' | 'lldb' = process.env.SEAM_DEBUGGER === 'lldb' ? 'lldb' : 'gdb';
export const DEBUGGER_LABEL = DEBUGGER === 'lldb' ? 'LLDB' : 'GDB';

/** What a session says when its debugger is missing, and the launch option that names it. */
export const MISSING_DEBUGGER = DEBUGGER === 'lldb'
  ? { option: { lldbDapPath: '/nonexistent/lldb-dap' }, message: /lldb-dap not found: install LLDB's DAP server .* or set `seam\.lldbDapPath`/ }
  : { option: { gdbPath: '/nonexistent/gdb' }, message: /gdb not found: install gdb or set `seam\.gdbPath`/ };

/** What a session says when its debugger process dies. */
export const DEBUGGER_DIED = DEBUGGER === 'lldb' ? /lldb-(?:vscode|dap)[-\d]* ended unexpectedly/ : /gdb ended unexpectedly/;
