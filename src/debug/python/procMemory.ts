/**
 * `Memory` over /proc/PID/mem: reads a live local process (stopped or not) without a debugger.
 * The fast path for the reader: one pread per request, no round trips. Needs ptrace permission on
 * the target (same user with Yama scope 0, or root).
 *
 * The pread is synchronous: it copies memory of a process, never waits on a device, and costs a
 * few microseconds, where an asynchronous one goes through libuv's thread pool and back to the
 * event loop (a thousand-frame stop reads thousands of times: that round trip was most of it).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { MemoryError, type Memory } from '../types';

export class ProcMemory implements Memory {
  private fd: number | undefined;

  constructor(readonly pid: number) {}

  async read(address: bigint, size: number): Promise<Uint8Array> {
    return this.readNow(address, size);
  }

  /** The same read, answered at once. */
  readNow(address: bigint, size: number): Uint8Array {
    if (size < 0 || size > 1 << 28) throw new MemoryError(address, size, 'bad size');
    if (address < 0n || address + BigInt(size) > 0x7fff_ffff_ffffn) throw new MemoryError(address, size, 'not a user-space address');
    if (this.fd === undefined) {
      try {
        this.fd = openSync(`/proc/${this.pid}/mem`, 'r');
      } catch (e) {
        throw new MemoryError(address, size, `cannot open /proc/${this.pid}/mem: ${(e as Error).message}`);
      }
    }
    const buf = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      let n: number;
      try {
        n = readSync(this.fd, buf, done, size - done, Number(address) + done);
      } catch (e) {
        throw new MemoryError(address, size, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
      }
      if (n <= 0) throw new MemoryError(address, size, `only ${done} bytes readable`);
      done += n;
    }
    return buf;
  }

  async close(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
  }
}
