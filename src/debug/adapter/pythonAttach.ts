/**
 * Python breakpoints on attach: the bootstrap is brought into the running program through the
 * debugger (issue 4: "GDB-driven injection"), with the process stopped by the attach:
 *
 *   1. a page for the code, from the program's own mmap (called by the debugger: no malloc, whose
 *      lock a stopped thread may hold);
 *   2. the Python source written into it through /proc/PID/mem;
 *   3. Py_AddPendingCall(PyRun_SimpleString, page): CPython runs it on the main thread at its next
 *      safe point (between bytecodes, with the GIL held), never inside whatever the debugger
 *      interrupted.
 *
 * The code runs the bootstrap's `attach(control)` in a namespace of its own (nothing is added to
 * `__main__`). Until the main thread runs Python again (it may be blocked in C), breakpoints do not
 * stop: the session says so.
 */
import { open } from 'node:fs/promises';
import type { DebugBackend } from '../backend';

const PAGE = 65536;

/** The Python statement the program runs: exec the bootstrap, call attach(control). */
export function attachSource(bootstrap: string, control: string): string {
  const p = JSON.stringify(bootstrap);
  const c = JSON.stringify(control);
  return `(lambda d: (exec(compile(open(${p}, 'rb').read(), ${p}, 'exec'), d), d['attach'](${c})))({'__name__': '_seam_bootstrap', '__file__': ${p}})\n`;
}

/** A debugger's integer answer (`140737354006528`, `0x7ffff7ff0000`, `(unsigned long) 1407…`). */
export function integerValue(v: string): bigint | undefined {
  const m = /(-?0x[0-9a-f]+|-?\d+)\s*$/i.exec(v.trim());
  return m ? BigInt(m[1]) : undefined;
}

export async function injectBootstrap(backend: DebugBackend, pid: number, threadId: number, bootstrap: string, control: string): Promise<void> {
  const source = Buffer.from(`${attachSource(bootstrap, control)}\0`, 'utf8');
  if (source.length > PAGE) throw new Error('the bootstrap path is too long');
  // Called through their addresses: a bare `mmap` can be ambiguous to LLDB's clang (a Rust module
  // of the same name in the program).
  const fn = async (name: string): Promise<string> => {
    const a = await backend.symbols.address(name);
    if (a === undefined) throw new Error(`no ${name} in the program`);
    return `0x${a.toString(16)}`;
  };
  const [mmap, addPending, runString] = [await fn('mmap'), await fn('Py_AddPendingCall'), await fn('PyRun_SimpleString')];
  // evaluateCall: once (GDB's evaluate would call the function a second time to describe the value).
  const mapped = integerValue(await backend.evaluateCall(`(unsigned long)((void *(*)(void *, unsigned long, int, int, int, long))${mmap})(0, 65536, 3, 34, -1, 0)`, threadId, 0));
  // MAP_FAILED is (void *)-1.
  if (mapped === undefined || mapped === 0n || mapped >= 0xffff_ffff_ffff_f000n) throw new Error('mmap in the program failed');
  const mem = await open(`/proc/${pid}/mem`, 'r+');
  try {
    const { bytesWritten } = await mem.write(source, 0, source.length, Number(mapped));
    if (bytesWritten !== source.length) throw new Error(`wrote ${bytesWritten} of ${source.length} bytes`);
  } finally {
    await mem.close();
  }
  const rc = integerValue(await backend.evaluateCall(`(int)((int (*)(int (*)(void *), void *))${addPending})((int (*)(void *))${runString}, (void *)0x${mapped.toString(16)})`, threadId, 0));
  if (rc !== 0n) throw new Error(`Py_AddPendingCall returned ${rc}`);
}
