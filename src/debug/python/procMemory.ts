/**
 * `Memory` over /proc/PID/mem: reads a live local process (stopped or not) without a debugger.
 * The fast path for the reader: one pread per request, no round trips. Needs ptrace permission on
 * the target (same user with Yama scope 0, or root).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { MemoryError, type Memory } from '../types';

export class ProcMemory implements Memory {
  private file: Promise<FileHandle> | undefined;

  constructor(readonly pid: number) {}

  private handle(): Promise<FileHandle> {
    this.file ??= open(`/proc/${this.pid}/mem`, 'r');
    return this.file;
  }

  async read(address: bigint, size: number): Promise<Uint8Array> {
    if (size < 0 || size > 1 << 28) throw new MemoryError(address, size, 'bad size');
    if (address < 0n || address + BigInt(size) > 0x7fff_ffff_ffffn) throw new MemoryError(address, size, 'not a user-space address');
    let fh: FileHandle;
    try {
      fh = await this.handle();
    } catch (e) {
      this.file = undefined;
      throw new MemoryError(address, size, `cannot open /proc/${this.pid}/mem: ${(e as Error).message}`);
    }
    const buf = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      let n: number;
      try {
        n = (await fh.read(buf, done, size - done, Number(address) + done)).bytesRead;
      } catch (e) {
        throw new MemoryError(address, size, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
      }
      if (n <= 0) throw new MemoryError(address, size, `only ${done} bytes readable`);
      done += n;
    }
    return buf;
  }

  async close(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    if (f) await (await f).close().catch(() => undefined);
  }
}
