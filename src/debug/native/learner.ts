/**
 * Learning a stop's addresses after GDB unwound it (see GdbBackend's `own`): their frames are
 * computed in a worker thread (symbolWorker.ts) and handed to the session's cached symbolizers,
 * so the next stop (and, through the symbol cache, the next session) can unwind on its own.
 * Without the worker script (a bundle that lacks it), the same work runs in this thread, one
 * address per turn of the event loop.
 */
import { Worker } from 'node:worker_threads';
import { findBundled } from '../../bundled';
import type { NativeFrame } from '../types';
import type { Module, ModuleMap } from './unwind';
import type { Symbolizers } from './nativeStack';
import type { LearnReply, LearnRequest } from './symbolWorker';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Learner {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, (r: LearnReply) => void>();
  private nextId = 1;

  constructor(private readonly script: string | undefined = findBundled('symbolWorker.js')) {}

  /**
   * Learns the addresses of a stack the debugger unwound. Frames that share a pc are one
   * activation (the debugger's inlined frames): one lookup. Frame 0 and a frame interrupted by a
   * signal are looked up at their pc, the others at the call (pc - 1).
   */
  async learn(frames: readonly NativeFrame[], modules: ModuleMap, symbolizers: Symbolizers): Promise<void> {
    const wanted = new Map<Module, { addresses: Set<number>; entries: Set<number> }>();
    let pc = -1n, afterSignal = false;
    for (const f of frames) {
      const m = f.pc !== pc ? modules.moduleAt(f.pc) : undefined;
      if (m) {
        pc = f.pc;
        const lookup = f.level === 0 || afterSignal ? f.pc : f.pc - 1n;
        let w = wanted.get(m);
        if (!w) wanted.set(m, (w = { addresses: new Set(), entries: new Set() }));
        w.addresses.add(Number(lookup - m.bias));
        if (f.level === 0) w.entries.add(Number(f.pc - m.bias));
      }
      afterSignal = f.func === '<signal handler called>';
    }
    for (const [m, w] of wanted) {
      const sym = symbolizers.of(m);
      const addresses = [...w.addresses].filter((a) => !sym.knowsFrames(a));
      const entries = [...w.entries].filter((a) => !sym.knowsEntries(a));
      if (!addresses.length && !entries.length) continue;
      const reply = await this.ask({ id: 0, objectPath: m.elf.path, debugPath: m.debug?.path, addresses, entries });
      if (reply) sym.accept(reply.frames, reply.entries);
      else for (const a of addresses) { await nextTurn(); sym.frames(BigInt(a)); }
    }
  }

  close(): void {
    void this.worker?.terminate();
    this.worker = undefined;
    for (const done of this.waiting.values()) done({ id: 0, frames: [], entries: [], error: 'closed' });
    this.waiting.clear();
  }

  /** The worker's answer, or undefined when there is no worker (or it failed): learn here then. */
  private async ask(req: LearnRequest): Promise<LearnReply | undefined> {
    const w = this.start();
    if (!w) return undefined;
    req.id = this.nextId++;
    const replied = new Promise<LearnReply>((resolve) => this.waiting.set(req.id, resolve));
    w.postMessage(req);
    const reply = await replied;
    return reply.error ? undefined : reply;
  }

  private start(): Worker | undefined {
    if (this.worker || !this.script) return this.worker;
    const w = new Worker(this.script);
    w.unref(); // a session may end while it learns
    w.on('message', (r: LearnReply) => {
      this.waiting.get(r.id)?.(r);
      this.waiting.delete(r.id);
    });
    const fail = (): void => {
      if (this.worker === w) this.worker = undefined;
      for (const done of this.waiting.values()) done({ id: 0, frames: [], entries: [], error: 'worker ended' });
      this.waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', fail);
    this.worker = w;
    return w;
  }
}
