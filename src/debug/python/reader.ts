/**
 * Reads Python threads, frames and values out of the interpreter's memory, without running code in
 * the debuggee (works on core files and on processes stopped anywhere). Everything goes through
 * `Memory`; struct knowledge comes from a `PyLayout` (layout.ts).
 *
 * Robustness: walks are bounded (MAX_FRAMES, MAX_THREADS) and cycle-checked; a frame whose memory
 * is garbage becomes `unreadable: true` with the reason as its name, and the walk goes on where it
 * can (the next C-level activation through the `_PyCFrame` chain in 3.11–3.12). Nothing here throws
 * for bad memory. Speed: one read per struct, code objects and strings cached by address.
 */
import type { Memory, PyFrame, PySegment, PyThread } from '../types';
import type { PyLayout } from './layout';
import { lineForOffset } from './lineTable';

export const MAX_FRAMES = 100_000;
/** Thread states walked per interpreter (a program of 1,100 threads is real; a cycle is cut by
 *  the walk's own check). The interpreter lists them newest first: past the bound, the oldest
 *  (the main thread) is still read. */
export const MAX_THREADS = 16_384;
const MAX_INTERPRETERS = 64;
const MAX_STRING = 4_096;
/** A thread's name, as shown (a longer one ends in `…`). */
const THREAD_NAME_MAX = 256;
const MAX_TABLE = 1 << 20;
/** Containers nested deeper than this show as `[...]`. */
const MAX_DEPTH = 2;

/** A thread as read, with the `thread_id` (pthread_t) for matching where there is no native id (3.10). */
export interface PyThreadRead extends PyThread {
  threadId: bigint;
}

export interface ObjectSummary {
  /** Python type name (`tp_name`), or `NULL`. */
  type: string;
  /** Short display text: a repr, truncated. */
  value: string;
  /** len() for str, bytes, list, tuple, dict. */
  length?: number;
}

export interface LocalVariable {
  name: string;
  /** null when the local is unbound. */
  summary: ObjectSummary | null;
  /** The object's address, when bound. */
  address?: bigint;
}

/** Memory that cannot hold what the layout says is there (a bad pointer, a short read, a length
 *  out of range): the typed error the reader's functions raise, besides the Memory's MemoryError. */
export class BadMemory extends Error {
  override name = 'BadMemory';
}

interface CodeInfo {
  name: string;
  file: string;
  firstLine: number;
  table: Uint8Array;
  localNames: bigint;
  localCount?: number;
}

/**
 * What one stop's reading learnt that holds across stops of the same process: where the
 * `threading._active` dict is, and which sys.modules keys are not "threading" (so a program that
 * never imports threading costs two reads a stop, not one per module). Kept by the caller; every
 * use is checked against memory again.
 */
export interface ReaderMemo {
  /** interpreter -> the `threading._active` dict. */
  active: Map<bigint, bigint>;
  /** str objects (sys.modules keys) known not to be "threading". */
  notThreading: Set<bigint>;
}

export function newReaderMemo(): ReaderMemo {
  return { active: new Map(), notThreading: new Set() };
}

/** One reading session: caches are valid while the debuggee stays stopped. */
export class PyMemoryReader {
  private readonly codes = new Map<bigint, Promise<CodeInfo>>();
  private readonly strings = new Map<bigint, Promise<string>>();
  private readonly typeNames = new Map<bigint, Promise<string>>();

  constructor(readonly memory: Memory, readonly layout: PyLayout, readonly memo: ReaderMemo = newReaderMemo()) {}

  // ---- raw reads ------------------------------------------------------------------------------

  async read(addr: bigint, size: number): Promise<DataView> {
    if (addr <= 0n || addr >= 1n << 64n) throw new BadMemory(`bad pointer 0x${addr.toString(16)}`);
    const b = await this.memory.read(addr, size);
    if (b.length < size) throw new BadMemory(`short read at 0x${addr.toString(16)}`);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  async ptrAt(addr: bigint): Promise<bigint> {
    return (await this.read(addr, 8)).getBigUint64(0, true);
  }

  async cString(addr: bigint, max = 256): Promise<string> {
    // Read up to the end of the page first so a short string near a mapping's end stays readable.
    const toPageEnd = Number(4096n - (addr % 4096n));
    const first = Math.min(max, toPageEnd);
    let bytes = new Uint8Array((await this.read(addr, first)).buffer.slice(0));
    let nul = bytes.indexOf(0);
    if (nul < 0 && first < max) {
      const rest = await this.read(addr + BigInt(first), max - first);
      const all = new Uint8Array(max);
      all.set(bytes.subarray(0, first));
      all.set(new Uint8Array(rest.buffer, rest.byteOffset, rest.byteLength), first);
      bytes = all;
      nul = bytes.indexOf(0);
    }
    return new TextDecoder().decode(bytes.subarray(0, nul < 0 ? bytes.length : nul));
  }

  typeName(obj: bigint): Promise<string> {
    return (async () => {
      const type = await this.ptrAt(obj + BigInt(this.layout.object.type));
      let p = this.typeNames.get(type);
      if (!p) {
        p = (async () => this.cString(await this.ptrAt(type + BigInt(this.layout.type.name))))();
        this.typeNames.set(type, p);
      }
      return p;
    })();
  }

  /** A `str` object's text (truncated to `max` characters). */
  str(addr: bigint, max = MAX_STRING): Promise<string> {
    let p = max === MAX_STRING ? this.strings.get(addr) : undefined;
    if (!p) {
      p = this.readStr(addr, max);
      if (max === MAX_STRING) this.strings.set(addr, p);
    }
    return p;
  }

  private async readStr(addr: bigint, max: number): Promise<string> {
    return (await this.strWithLength(addr, max)).text;
  }

  async strWithLength(addr: bigint, max: number): Promise<{ text: string; length: number }> {
    const u = this.layout.unicode;
    const h = await this.read(addr, u.compactSize);
    const length = Number(h.getBigInt64(u.length, true));
    const state = h.getUint32(u.state, true);
    const kind = (state >> u.kindShift) & 7;
    const compact = (state >> u.compactBit) & 1;
    const ascii = (state >> u.asciiBit) & 1;
    if (length < 0 || length > 1 << 30 || ![1, 2, 4].includes(kind)) throw new BadMemory(`not a str at 0x${addr.toString(16)}`);
    let data: bigint;
    if (compact) data = addr + BigInt(ascii ? u.asciiSize : u.compactSize);
    else data = await this.ptrAt(addr + BigInt(u.compactSize)); // PyUnicodeObject.data.any
    const n = Math.min(length, max);
    if (n === 0) return { text: '', length };
    const raw = await this.read(data, n * kind);
    const bytes = new Uint8Array(raw.buffer, raw.byteOffset, n * kind);
    let text: string;
    if (kind === 1) text = new TextDecoder('latin1').decode(bytes);
    else if (kind === 2) text = new TextDecoder('utf-16le').decode(bytes);
    else text = String.fromCodePoint(...Array.from({ length: n }, (_, i) => raw.getUint32(i * 4, true)).filter((c) => c <= 0x10ffff));
    return { text, length };
  }

  async bytesObject(addr: bigint, max: number): Promise<{ data: Uint8Array; length: number }> {
    const size = Number((await this.read(addr + BigInt(this.layout.bytes.size), 8)).getBigInt64(0, true));
    if (size < 0 || size > 1 << 30) throw new BadMemory(`not a bytes object at 0x${addr.toString(16)}`);
    const n = Math.min(size, max);
    if (n === 0) return { data: new Uint8Array(), length: size };
    const v = await this.read(addr + BigInt(this.layout.bytes.data), n);
    return { data: new Uint8Array(v.buffer, v.byteOffset, n), length: size };
  }

  // ---- code objects ---------------------------------------------------------------------------

  code(addr: bigint): Promise<CodeInfo> {
    let p = this.codes.get(addr);
    if (!p) {
      p = this.readCode(addr);
      this.codes.set(addr, p);
    }
    return p;
  }

  private async readCode(addr: bigint): Promise<CodeInfo> {
    const c = this.layout.code;
    const type = await this.typeName(addr);
    if (type !== 'code') throw new BadMemory(`executable at 0x${addr.toString(16)} is a ${JSON.stringify(type.slice(0, 40))}, not code`);
    const fields = [c.filename, c.name, c.qualname ?? 0, c.firstlineno, c.linetable, c.localNames, c.localCount ?? 0];
    const v = await this.read(addr, Math.max(...fields) + 8);
    const ptr = (off: number) => v.getBigUint64(off, true);
    const [file, name, table] = await Promise.all([
      this.str(ptr(c.filename)),
      this.str(ptr(c.qualname ?? c.name)),
      this.bytesObject(ptr(c.linetable), MAX_TABLE),
    ]);
    return {
      name, file, firstLine: v.getInt32(c.firstlineno, true), table: table.data,
      localNames: ptr(c.localNames), localCount: c.localCount === undefined ? undefined : v.getInt32(c.localCount, true),
    };
  }

  // ---- frames ---------------------------------------------------------------------------------

  /** Reads one interpreter frame. `kind` tells what the walk should do with it. */
  async frame(addr: bigint): Promise<{ frame: PyFrame; previous: bigint; kind: 'python' | 'entry' | 'shim'; isEntry: boolean }> {
    const L = this.layout, f = L.frame;
    const v = await this.read(addr, f.size);
    const previous = v.getBigUint64(f.previous, true);
    const owner = f.owner === undefined ? undefined : v.getUint8(f.owner);
    const isEntry = f.isEntry !== undefined && v.getUint8(f.isEntry) !== 0;
    if (owner !== undefined && (owner === L.owner?.cstack || owner === L.owner?.interpreter)) {
      return { frame: { name: '<entry>', file: '', line: null, address: addr }, previous, kind: 'entry', isEntry };
    }
    const codeAddr = untag(v.getBigUint64(f.code, true), f.codeTagBits);
    let code: CodeInfo;
    try {
      code = await this.code(codeAddr);
    } catch (e) {
      return { frame: unreadable(addr, `code object: ${reason(e)}`), previous, kind: 'python', isEntry };
    }
    let byteOffset: number;
    if (f.instrKind === 'lasti') {
      byteOffset = v.getInt32(f.instr, true) * 2;
    } else {
      let base = codeAddr + BigInt(L.code.codeAdaptive ?? 0);
      const tlbc = f.tlbcIndex === undefined ? 0 : v.getInt32(f.tlbcIndex, true);
      if (tlbc !== 0 && L.code.tlbc !== undefined) {
        // 3.14t: this thread runs its own copy, co_tlbc->entries[tlbc_index] (_PyCodeArray).
        try {
          const array = await this.ptrAt(codeAddr + BigInt(L.code.tlbc));
          const size = Number((await this.read(array, 8)).getBigInt64(0, true));
          if (tlbc < 0 || tlbc >= size) throw new BadMemory(`tlbc_index ${tlbc} outside co_tlbc (${size})`);
          base = await this.ptrAt(array + 8n + BigInt(tlbc) * 8n);
        } catch {
          return { frame: { name: code.name, file: code.file, line: null, address: addr }, previous, kind: 'python', isEntry };
        }
      }
      byteOffset = Number(v.getBigUint64(f.instr, true) - base);
    }
    const format = L.minor >= 11 ? 'locations' : 'pep626';
    const line = byteOffset < 0 ? code.firstLine
      : byteOffset > 1 << 28 ? null : lineForOffset(code.table, code.firstLine, byteOffset, format);
    return { frame: { name: code.name, file: code.file, line, address: addr }, previous, kind: 'python', isEntry };
  }

  /** Every segment of one thread, innermost first. */
  async segments(tstate: DataView, budget: { frames: number }): Promise<PySegment[]> {
    const L = this.layout;
    const start = tstate.getBigUint64(L.tstate.frame, true);
    const segments: PySegment[] = [];
    const seen = new Set<bigint>();
    if (L.frameModel === 'frame-object') {
      // 3.10: a chain of frame objects, one per eval activation.
      for (let f = start; f !== 0n && budget.frames > 0; budget.frames--) {
        if (seen.has(f)) { segments.push({ frames: [unreadable(f, 'frame cycle')] }); break; }
        seen.add(f);
        try {
          const r = await this.frame(f);
          segments.push({ frames: [r.frame] });
          f = r.previous;
        } catch (e) {
          segments.push({ frames: [unreadable(f, reason(e))] });
          break;
        }
      }
      return segments;
    }
    // 3.11–3.14: interpreter frames linked by `previous`; 3.11–3.12 also a _PyCFrame per activation.
    const cf = L.cframe;
    let cframe = cf ? start : 0n;
    const seenCframes = new Set<bigint>();
    const cframeCurrent = async (c: bigint): Promise<{ current: bigint; previous: bigint }> => {
      const v = await this.read(c, cf!.size);
      return { current: v.getBigUint64(cf!.currentFrame, true), previous: v.getBigUint64(cf!.previous, true) };
    };
    let frameAddr: bigint;
    let nextCframe = 0n;
    if (cf) {
      try {
        const c = await cframeCurrent(cframe);
        frameAddr = c.current;
        nextCframe = c.previous;
      } catch (e) {
        return [{ frames: [unreadable(cframe, `cframe: ${reason(e)}`)] }];
      }
    } else {
      frameAddr = start;
    }
    const useCstack = L.owner?.cstack !== undefined;
    let current: PySegment = { frames: [], anchor: cf && !useCstack ? cframe : undefined };
    const close = (anchor: bigint | undefined) => {
      if (useCstack) current.anchor = anchor;
      if (current.frames.length || anchor !== undefined) segments.push(current);
      current = { frames: [] };
    };
    // After a broken frame in 3.11–3.12, resume at the next activation through the cframe chain.
    const resume = async (): Promise<bigint> => {
      while (cf && nextCframe !== 0n && !seenCframes.has(nextCframe)) {
        seenCframes.add(nextCframe);
        cframe = nextCframe;
        try {
          const c = await cframeCurrent(cframe);
          nextCframe = c.previous;
          if (!useCstack) current.anchor = cframe;
          if (c.current !== 0n && !seen.has(c.current)) return c.current;
        } catch {
          return 0n;
        }
      }
      return 0n;
    };
    while (frameAddr !== 0n && budget.frames > 0) {
      budget.frames--;
      if (seen.has(frameAddr)) {
        current.frames.push(unreadable(frameAddr, 'frame cycle'));
        close(undefined);
        break;
      }
      seen.add(frameAddr);
      let r: Awaited<ReturnType<PyMemoryReader['frame']>>;
      try {
        if (frameAddr % 8n !== 0n) throw new BadMemory(`misaligned frame pointer 0x${frameAddr.toString(16)}`);
        r = await this.frame(frameAddr);
      } catch (e) {
        current.frames.push(unreadable(frameAddr, reason(e)));
        close(undefined);
        frameAddr = await resume();
        continue;
      }
      if (r.kind === 'entry') {
        close(frameAddr); // 3.12+: the entry frame (3.14: owned by INTERPRETER) ends its activation's segment
      } else {
        current.frames.push(r.frame);
        if (r.isEntry) close(undefined); // 3.11: this frame was the first of its activation
      }
      if ((r.kind === 'entry' || r.isEntry) && cf) {
        // The next activation's _PyCFrame is the previous one in the chain.
        cframe = nextCframe;
        if (!useCstack) current.anchor = cframe !== 0n ? cframe : undefined;
        if (cframe !== 0n && !seenCframes.has(cframe)) {
          seenCframes.add(cframe);
          try { nextCframe = (await cframeCurrent(cframe)).previous; } catch { nextCframe = 0n; }
        } else {
          nextCframe = 0n;
        }
      }
      frameAddr = r.previous;
    }
    if (current.frames.length) close(undefined);
    return segments;
  }

  // ---- threads --------------------------------------------------------------------------------

  async threads(runtime: bigint): Promise<PyThreadRead[]> {
    const L = this.layout;
    const out: PyThreadRead[] = [];
    const budget = { frames: MAX_FRAMES };
    const seenInterps = new Set<bigint>();
    let interp: bigint;
    try { interp = await this.ptrAt(runtime + BigInt(L.runtime.interpretersHead)); } catch { return out; }
    for (let n = 0; interp !== 0n && n < MAX_INTERPRETERS && !seenInterps.has(interp); n++) {
      seenInterps.add(interp);
      let threadsHead = 0n, nextInterp = 0n;
      try {
        const iv = await this.read(interp, Math.max(L.interp.threadsHead, L.interp.next) + 8);
        threadsHead = iv.getBigUint64(L.interp.threadsHead, true);
        nextInterp = iv.getBigUint64(L.interp.next, true);
      } catch { break; }
      // Read while the frames are: a Memory with round trips overlaps the two.
      const namesRead = this.threadingNames(interp).catch(() => new Map<bigint, string>());
      const first = out.length;
      const holder = await this.gilHolder(runtime, interp);
      const seen = new Set<bigint>();
      for (let t = threadsHead; t !== 0n && !seen.has(t);) {
        seen.add(t);
        let tv: DataView;
        try { tv = await this.read(t, L.tstate.size); } catch { break; }
        if (out.length - first >= MAX_THREADS) {
          // Past the bound: only the list's last (oldest: the main thread) is read.
          const next = tv.getBigUint64(L.tstate.next, true);
          if (seen.size >= MAX_THREADS * 4) break;
          if (next !== 0n) {
            t = next;
            continue;
          }
        }
        const segments = await this.segments(tv, budget).catch((e) => [{ frames: [unreadable(t, reason(e))] }]);
        const native = L.tstate.nativeThreadId === undefined ? undefined : Number(tv.getBigUint64(L.tstate.nativeThreadId, true));
        out.push({
          nativeThreadId: native, tstate: t, segments, holdsGil: holder === t,
          threadId: tv.getBigUint64(L.tstate.threadId, true),
        });
        t = tv.getBigUint64(L.tstate.next, true);
      }
      const names = await namesRead;
      for (const p of out.slice(first)) {
        const name = names.get(p.threadId);
        if (name !== undefined) p.name = name;
      }
      interp = nextInterp;
    }
    return out;
  }

  /** The thread state holding the GIL, or 0 when unlocked or unreadable. */
  async gilHolder(runtime: bigint, interp: bigint): Promise<bigint> {
    const g = this.layout.interp.gil;
    if (!g) return 0n;
    try {
      const base = g.where === 'runtime' ? runtime : await this.ptrAt(interp + BigInt(g.pointer));
      // Free-threaded builds usually run with the GIL disabled: then nobody holds it.
      if (g.where === 'interp-pointer' && g.enabled !== undefined
        && (await this.read(base + BigInt(g.enabled), 4)).getInt32(0, true) === 0) return 0n;
      const [holder, locked] = await Promise.all([this.ptrAt(base + BigInt(g.holder)), this.read(base + BigInt(g.locked), 4)]);
      return locked.getInt32(0, true) !== 0 ? holder : 0n;
    } catch {
      return 0n;
    }
  }

  // ---- values ---------------------------------------------------------------------------------

  async summarize(addr: bigint, depth = 0): Promise<ObjectSummary> {
    if (addr === 0n) return { type: 'NULL', value: 'NULL' };
    let type: string;
    try { type = await this.typeName(addr); } catch (e) { return { type: '?', value: `<unreadable: ${reason(e)}>` }; }
    const L = this.layout;
    try {
      switch (type) {
        case 'NoneType': return { type, value: 'None' };
        case 'str': {
          const s = await this.strWithLength(addr, 100);
          return { type, value: pyRepr(s.text) + (s.length > 100 ? '...' : ''), length: s.length };
        }
        case 'bytes': {
          const b = await this.bytesObject(addr, 100);
          return { type, value: bytesRepr(b.data) + (b.length > 100 ? '...' : ''), length: b.length };
        }
        case 'bool': {
          const v = await this.longValue(addr);
          return { type, value: v ? 'True' : 'False' };
        }
        case 'int': return { type, value: (await this.longValue(addr)).toString() };
        case 'float': {
          const v = (await this.read(addr + BigInt(L.float.value), 8)).getFloat64(0, true);
          return { type, value: floatRepr(v) };
        }
        case 'list':
        case 'tuple': {
          const lay = type === 'list' ? L.list : L.tuple;
          const length = Number((await this.read(addr + BigInt(lay.size), 8)).getBigInt64(0, true));
          if (length < 0 || length > 1 << 40) throw new BadMemory('bad length');
          const shown = depth >= MAX_DEPTH ? 0 : Math.min(length, 5);
          const items = type === 'list' ? await this.ptrAt(addr + BigInt(lay.items)) : addr + BigInt(lay.items);
          const parts: string[] = [];
          if (shown) {
            const v = await this.read(items, shown * 8);
            for (let i = 0; i < shown; i++) parts.push((await this.summarize(v.getBigUint64(i * 8, true), depth + 1)).value);
          }
          if (length > shown) parts.push('...');
          const [open, end] = type === 'list' ? ['[', ']'] : ['(', length === 1 && shown ? ',)' : ')'];
          return { type, value: open + parts.join(', ') + end, length };
        }
        case 'dict': {
          const length = Number((await this.read(addr + BigInt(L.dict.used), 8)).getBigInt64(0, true));
          if (length < 0 || length > 1 << 40) throw new BadMemory('bad length');
          if (!length) return { type, value: '{}', length };
          if (depth >= MAX_DEPTH) return { type, value: '{...}', length };
          const items = await this.dictItems(addr, 5);
          const parts: string[] = [];
          for (const [k, v] of items) parts.push(`${(await this.summarize(k, depth + 1)).value}: ${(await this.summarize(v, depth + 1)).value}`);
          if (length > items.length) parts.push('...');
          return { type, value: `{${parts.join(', ')}}`, length };
        }
        default: return { type, value: `<${type} object at 0x${addr.toString(16)}>` };
      }
    } catch (e) {
      return { type, value: `<unreadable ${type}: ${reason(e)}>` };
    }
  }

  /** The first `max` (key, value) pointers of a dict, in entry order, among its first `scan` entries. */
  private async dictItems(addr: bigint, max: number, scan = 64): Promise<[bigint, bigint][]> {
    const L = this.layout;
    const d = await this.read(addr, Math.max(L.dict.keys, L.dict.values) + 8);
    const values = d.getBigUint64(L.dict.values, true);
    return this.keysItems(d.getBigUint64(L.dict.keys, true), values === 0n ? undefined : values, max, scan);
  }

  /**
   * (key, value) pointers of a PyDictKeysObject's entries, in entry order; with `values` (a
   * PyDictValues: a split table, or an object's own values) the values come from there.
   */
  private async keysItems(keys: bigint, values: bigint | undefined, max: number, scan: number): Promise<[bigint, bigint][]> {
    const k = this.layout.dictKeys;
    const h = await this.read(keys, k.indices);
    const nentries = Number(h.getBigInt64(k.nentries, true));
    let indexBytes: number;
    let general = true;
    if (k.model === 'size') {
      const size = Number(h.getBigInt64(k.size, true));
      indexBytes = size * (size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffff ? 4 : 8);
    } else {
      indexBytes = 2 ** h.getUint8(k.log2IndexBytes!);
      general = h.getUint8(k.kind!) === 0;
    }
    if (nentries < 0 || nentries > 1 << 30 || indexBytes > 1 << 30) throw new BadMemory('bad dict keys');
    const entrySize = general ? 24 : 16;
    const keyAt = general ? 8 : 0;
    const n = Math.min(nentries, scan);
    if (!n) return [];
    const e = await this.read(keys + BigInt(k.indices + indexBytes), n * entrySize);
    const split = values !== undefined ? await this.read(values + BigInt(k.values), n * 8) : undefined;
    const out: [bigint, bigint][] = [];
    for (let i = 0; i < n && out.length < max; i++) {
      const key = e.getBigUint64(i * entrySize + keyAt, true);
      const value = split ? split.getBigUint64(i * 8, true) : e.getBigUint64(i * entrySize + keyAt + 8, true);
      if (key !== 0n && value !== 0n) out.push([key, value]);
    }
    return out;
  }

  /** Whether the object at `addr` is a str equal to `s` (ASCII): one read for most keys that differ. */
  private async strIs(addr: bigint, s: string): Promise<boolean> {
    const u = this.layout.unicode;
    const h = await this.read(addr, u.asciiSize);
    if (Number(h.getBigInt64(u.length, true)) !== s.length) return false;
    try { return (await this.str(addr, s.length + 1)) === s; } catch { return false; }
  }

  /** The value under the str key `name` in the dict at `addr` (0n when absent), by scanning its entries. */
  async dictGet(addr: bigint, name: string, scan = 1 << 14, notIt?: Set<bigint>): Promise<bigint> {
    const items = (await this.dictItems(addr, scan, scan)).filter(([key]) => !notIt?.has(key));
    // In chunks read at once: a debugger-backed Memory answers a chunk in one round of requests.
    for (let i = 0; i < items.length; i += 64) {
      const chunk = items.slice(i, i + 64);
      const hits = await Promise.all(chunk.map(([key]) => this.strIs(key, name).catch(() => undefined)));
      const at = hits.indexOf(true);
      if (at >= 0) return chunk[at][1];
      chunk.forEach(([key], j) => { if (hits[j] === false) notIt?.add(key); });
    }
    return 0n;
  }

  /** The object's instance attribute `name` from its `__dict__` or its managed values; 0n when absent. */
  async instanceAttr(obj: bigint, name: string): Promise<bigint> {
    for (const [key, value] of await this.instanceItems(obj, 256)) if (await this.strIs(key, name)) return value;
    return 0n;
  }

  /**
   * The (key, value) pointers of an object's instance attributes: its `__dict__`, or the values
   * its type's shared keys index (3.11+ managed dicts, 3.13+ inline values). Empty when it has
   * none or the layout does not say where they are.
   */
  async instanceItems(obj: bigint, max: number): Promise<[bigint, bigint][]> {
    const A = this.layout.attrs;
    if (!A) return [];
    const type = await this.ptrAt(obj + BigInt(this.layout.object.type));
    const t = await this.read(type, A.cachedKeys + 8);
    const flags = t.getBigUint64(A.tpFlags, true);
    const fromValues = async (values: bigint): Promise<[bigint, bigint][]> => {
      const keys = t.getBigUint64(A.cachedKeys, true);
      return keys === 0n ? [] : this.keysItems(keys, values, max, Math.max(max, 256));
    };
    const fromDict = async (dict: bigint): Promise<[bigint, bigint][]> => (dict === 0n ? [] : this.dictItems(dict, max, Math.max(max, 256)));
    if (A.managed && flags & MANAGED_DICT) {
      const at = obj + BigInt(A.managedDict);
      const word = await this.ptrAt(at);
      switch (A.managed) {
        case 'values-pointer': {
          const values = await this.ptrAt(at - 8n);
          return values !== 0n ? fromValues(values) : fromDict(word);
        }
        case 'dict-or-values':
          return word & 1n ? fromValues(word + 1n) : fromDict(word);
        case 'inline-values': {
          if (word !== 0n) return fromDict(word);
          if (!(flags & INLINE_VALUES)) return [];
          const values = obj + BigInt(t.getBigInt64(A.tpBasicsize, true));
          // struct _dictvalues: capacity, size, embedded, valid (uint8_t each), then values[].
          const valid = (await this.read(values, 4)).getUint8(3);
          return valid ? fromValues(values) : [];
        }
      }
    }
    const offset = t.getBigInt64(A.tpDictoffset, true);
    return offset > 0n ? fromDict(await this.ptrAt(obj + offset)) : [];
  }

  /**
   * What the Variables view shows inside a Python object: a list's or tuple's items (`[0]`...),
   * a dict's entries (by key repr), another object's instance attributes; at most `max`.
   */
  async children(addr: bigint, max = 300): Promise<{ name: string; addr: bigint }[]> {
    const type = await this.typeName(addr);
    const L = this.layout;
    if (type === 'list' || type === 'tuple') {
      const lay = type === 'list' ? L.list : L.tuple;
      const length = Number((await this.read(addr + BigInt(lay.size), 8)).getBigInt64(0, true));
      if (length < 0 || length > 1 << 40) throw new BadMemory('bad length');
      const n = Math.min(length, max);
      if (!n) return [];
      const items = type === 'list' ? await this.ptrAt(addr + BigInt(lay.items)) : addr + BigInt(lay.items);
      const v = await this.read(items, n * 8);
      return Array.from({ length: n }, (_, i) => ({ name: `[${i}]`, addr: v.getBigUint64(i * 8, true) }));
    }
    if (type === 'dict') {
      const out: { name: string; addr: bigint }[] = [];
      for (const [k, v] of await this.dictItems(addr, max, Math.max(max * 2, 64))) out.push({ name: (await this.summarize(k, 1)).value, addr: v });
      return out;
    }
    if (PRIMITIVE.has(type)) return [];
    const out: { name: string; addr: bigint }[] = [];
    for (const [k, v] of await this.instanceItems(addr, max)) {
      let name: string;
      try { name = await this.str(k, 200); } catch { name = '<key>'; }
      out.push({ name, addr: v });
    }
    return out;
  }

  /**
   * `threading` names by thread ident (`threading._active`: ident -> Thread, each Thread's `_name`)
   * of the interpreter at `interp`; empty when the module is not imported or memory is unreadable.
   */
  async threadingNames(interp: bigint): Promise<Map<bigint, string>> {
    const out = new Map<bigint, string>();
    const A = this.layout.attrs;
    if (!A) return out;
    let active = this.memo.active.get(interp) ?? 0n;
    if (active !== 0n && await this.typeName(active).catch(() => '') !== 'dict') {
      this.memo.active.delete(interp);
      active = 0n;
    }
    if (active === 0n) {
      const modules = await this.ptrAt(interp + BigInt(A.modules));
      if (modules === 0n || await this.typeName(modules) !== 'dict') return out;
      const threading = await this.dictGet(modules, 'threading', 1 << 14, this.memo.notThreading);
      if (threading === 0n) return out;
      const globals = await this.ptrAt(threading + BigInt(A.moduleDict));
      if (globals === 0n || await this.typeName(globals) !== 'dict') return out;
      active = await this.dictGet(globals, '_active', 4096);
      if (active === 0n || await this.typeName(active) !== 'dict') return out;
      this.memo.active.set(interp, active);
    }
    for (const [key, thread] of await this.dictItems(active, MAX_THREADS, MAX_THREADS * 4)) {
      try {
        const nameObj = await this.instanceAttr(thread, '_name');
        if (nameObj === 0n || await this.typeName(nameObj) !== 'str') continue;
        const { text, length } = await this.strWithLength(nameObj, THREAD_NAME_MAX);
        out.set(BigInt.asUintN(64, await this.longValue(key)), length > text.length ? `${text}…` : text);
      } catch { /* this thread unnamed */ }
    }
    return out;
  }

  private async longValue(addr: bigint): Promise<bigint> {
    const l = this.layout.long;
    const tag = (await this.read(addr + BigInt(l.tag), 8)).getBigInt64(0, true);
    let n: number, negative: boolean;
    if (l.model === 'ob-size') { n = Number(tag < 0n ? -tag : tag); negative = tag < 0n; }
    else { n = Number(BigInt.asUintN(64, tag) >> 3n); negative = (tag & 3n) === 2n; }
    if (n > 10_000) throw new BadMemory('int too large');
    if (n === 0) return 0n;
    const d = await this.read(addr + BigInt(l.digits), n * 4);
    let value = 0n;
    for (let i = n - 1; i >= 0; i--) value = (value << BigInt(l.digitBits)) | BigInt(d.getUint32(i * 4, true));
    return negative ? -value : value;
  }

  async locals(frameAddr: bigint): Promise<LocalVariable[]> {
    const L = this.layout;
    const v = await this.read(frameAddr, L.frame.size);
    const code = await this.code(untag(v.getBigUint64(L.frame.code, true), L.frame.codeTagBits));
    const namesLen = Number((await this.read(code.localNames + BigInt(L.tuple.size), 8)).getBigInt64(0, true));
    const count = Math.min(code.localCount ?? namesLen, namesLen, 10_000);
    if (count <= 0) return [];
    const names = await this.read(code.localNames + BigInt(L.tuple.items), count * 8);
    const values = await this.read(frameAddr + BigInt(L.frame.localsplus), count * 8);
    const out: LocalVariable[] = [];
    for (let i = 0; i < count; i++) {
      let name: string;
      try { name = await this.str(names.getBigUint64(i * 8, true), 200); } catch { name = `<local ${i}>`; }
      const value = untag(values.getBigUint64(i * 8, true), L.frame.localsTagBits);
      out.push({ name, summary: value === 0n ? null : await this.summarize(value), ...(value === 0n ? {} : { address: value }) });
    }
    return out;
  }
}

/** Every thread state of every interpreter, with its Python frames as segments. Never throws for bad memory. */
export async function readPythonThreads(
  memory: Memory, layout: PyLayout, runtimeAddr: bigint | undefined = layout.runtimeAddress, memo?: ReaderMemo,
): Promise<PyThreadRead[]> {
  if (runtimeAddr === undefined) return [];
  return new PyMemoryReader(memory, layout, memo).threads(runtimeAddr);
}

/** The locals (and cells) of a Python frame, by name, with value summaries. */
export async function readLocals(memory: Memory, layout: PyLayout, frameAddr: bigint): Promise<LocalVariable[]> {
  return new PyMemoryReader(memory, layout).locals(frameAddr);
}

/** The items, entries or attributes inside the object at `addr`, each with its summary. */
export async function readChildren(memory: Memory, layout: PyLayout, addr: bigint): Promise<{ name: string; addr: bigint; summary: ObjectSummary }[]> {
  const r = new PyMemoryReader(memory, layout);
  const kids = await r.children(addr);
  return Promise.all(kids.map(async (k) => ({ ...k, summary: await r.summarize(k.addr) })));
}

/** A short description of the object at `addr` (a PyObject*). Never throws for bad memory. */
export async function summarizeObject(memory: Memory, layout: PyLayout, addr: bigint): Promise<ObjectSummary> {
  return new PyMemoryReader(memory, layout).summarize(addr);
}

/** Types whose value the summary says in full: nothing to expand. */
const PRIMITIVE = new Set(['NoneType', 'str', 'bytes', 'bool', 'int', 'float', 'NULL']);

/** Whether the Variables view can open this value: a container with items, or an object. */
export function expandable(s: ObjectSummary): boolean {
  if (PRIMITIVE.has(s.type) || s.type === '?' || s.value.startsWith('<unreadable')) return false;
  return s.length === undefined || s.length > 0;
}

/** tp_flags bits (object.h): Py_TPFLAGS_MANAGED_DICT (3.11+), Py_TPFLAGS_INLINE_VALUES (3.13+). */
const MANAGED_DICT = 1n << 4n;
const INLINE_VALUES = 1n << 2n;

/** A `_PyStackRef`'s object pointer: the value without its low tag bits (pycore_stackref.h). */
function untag(ref: bigint, tagBits: number | undefined): bigint {
  return tagBits ? ref & ~BigInt(tagBits) : ref;
}

function unreadable(address: bigint, why: string): PyFrame {
  return { name: `<unreadable frame: ${why}>`, file: '', line: null, address, unreadable: true };
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function pyRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === q || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + q;
}

function bytesRepr(b: Uint8Array): string {
  let out = "b'";
  for (const c of b) {
    if (c === 0x27 || c === 0x5c) out += '\\' + String.fromCharCode(c);
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c < 0x20 || c >= 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += String.fromCharCode(c);
  }
  return out + "'";
}

function floatRepr(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  const s = String(v);
  return /[.e]/.test(s) ? s : s + '.0';
}
