/**
 * The symbolizer in a worker thread (dist/symbolWorker.js): learns the addresses of a stack GDB
 * unwound without taking the debug session's thread (a compile unit's first decoding takes up to
 * ~50 ms, in which the session would not answer). Keeps its files and symbolizers for its life.
 * One request, one reply: the frames of each address, and for frame 0 how many inlined calls
 * begin at it.
 */
import { parentPort } from 'node:worker_threads';
import { ElfFile } from './elf';
import { Symbolizer, type SymFrame } from './dwarf';

export interface LearnRequest {
  id: number;
  /** The object as the process maps it, opened through `objectPath`; its debug file if any. */
  objectPath: string;
  debugPath?: string;
  addresses: number[];
  /** Addresses also asked `inlinedEntriesAt` (frame 0's). */
  entries: number[];
}

export interface LearnReply {
  id: number;
  frames: [number, SymFrame[]][];
  entries: [number, number][];
  error?: string;
}

const symbolizers = new Map<string, Symbolizer>();

function symbolizerOf(objectPath: string, debugPath: string | undefined): Symbolizer {
  const key = `${objectPath}\0${debugPath ?? ''}`;
  let s = symbolizers.get(key);
  if (!s) {
    s = new Symbolizer(new ElfFile(objectPath), debugPath ? new ElfFile(debugPath) : undefined);
    symbolizers.set(key, s);
  }
  return s;
}

parentPort?.on('message', (req: LearnRequest) => {
  const reply: LearnReply = { id: req.id, frames: [], entries: [] };
  try {
    const s = symbolizerOf(req.objectPath, req.debugPath);
    for (const a of req.addresses) reply.frames.push([a, s.frames(BigInt(a))]);
    for (const a of req.entries) reply.entries.push([a, s.inlinedEntriesAt(BigInt(a))]);
  } catch (e) {
    reply.error = (e as Error).message;
  }
  parentPort!.postMessage(reply);
});
