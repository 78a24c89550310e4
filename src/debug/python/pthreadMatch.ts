/**
 * Python 3.10 records no native thread id, only `thread_id` = pthread_self(), a pointer to the C
 * library's thread descriptor. A debugger that gives no pthread_t per thread (LLDB) still gives
 * each thread's OS id (LWP), which the descriptor holds (glibc: `struct pthread.tid`; musl:
 * `struct pthread.tid` too) at one offset for every thread of the process. That offset is found
 * here, without knowing the C library: the first aligned offset, in the first KiB of each
 * descriptor, where every descriptor holds the id of a distinct thread of the process.
 */
import type { Memory } from '../types';

const SPAN = 1024;

/** pthread_t (descriptor address) -> LWP, for the descriptors whose thread is found; empty when
 *  no offset fits them all. */
export async function lwpsByPthread(memory: Memory, pthreads: bigint[], lwps: number[]): Promise<Map<bigint, number>> {
  const out = new Map<bigint, number>();
  const wanted = new Set(lwps.filter((l) => l > 0));
  if (!pthreads.length || !wanted.size) return out;
  const blocks: Array<DataView | undefined> = await Promise.all(pthreads.map(async (p) => {
    try {
      const b = await memory.read(p, SPAN);
      return new DataView(b.buffer, b.byteOffset, b.byteLength);
    } catch {
      return undefined;
    }
  }));
  const readable = blocks.filter((b): b is DataView => b !== undefined);
  if (!readable.length) return out;
  for (let off = 0; off + 4 <= SPAN; off += 4) {
    const ids = readable.map((b) => b.getInt32(off, true));
    if (!ids.every((id) => wanted.has(id)) || new Set(ids).size !== ids.length) continue;
    blocks.forEach((b, i) => { if (b) out.set(pthreads[i], b.getInt32(off, true)); });
    return out;
  }
  return out;
}
