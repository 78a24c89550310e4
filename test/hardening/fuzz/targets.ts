/**
 * The fuzz targets: one fast-check arbitrary and one property per pure module that reads untrusted
 * bytes or text. The property of every target: no exception escapes other than the module's
 * documented typed errors, and every case finishes within a time bound (the runner, runner.ts,
 * runs each target in a worker thread it can stop, so even an endless loop is caught and named).
 *
 *   mi-parser            parseMiLine on random text, mutated real GDB/MI lines and deep nesting
 *   mi-roundtrip         generated MI records: serialise, parse, compare (parser ≡ grammar)
 *   line-table           decodeLineTable / lineForOffset on random bytes, and encode → decode
 *   py-reader-recorded   the recorded 3.13.0 process image with bytes flipped, pointers redirected,
 *                        ranges dropped or cut short (truncated memory)
 *   py-reader-random     random sparse memory under 3.10/3.11/3.12 (DWARF-shaped) and 3.13
 *                        (debug offsets) layouts; mutated `_Py_DebugOffsets` blocks
 *   extract-c/-rust/-python   the extractors on random text, token soup and mutated fixture sources
 */
import { encodeLocations } from '../../helpers/locations';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { MiList, MiTuple, parseMiLine, type MiRecord, type MiValue } from '../../../src/debug/mi/parser';
import { decodeLineTable, lineForOffset, type LineTableFormat } from '../../../src/debug/python/lineTable';
import { BadMemory, readLocals, readPythonThreads, summarizeObject } from '../../../src/debug/python/reader';
import { debugOffsetsSize, detectLayout, LayoutError, layoutFromDebugOffsets, layoutFromDwarf, parseDebugOffsets, type PyLayout } from '../../../src/debug/python/layout';
import { MemoryError, type Memory, type Symbols } from '../../../src/debug/types';
import { cNeedsParse, extractC } from '../../../src/core/c/extract';
import { extractRust, rustNeedsParse } from '../../../src/core/rust/extract';
import { extractPython, pythonNeedsParse } from '../../../src/core/python/extract';
import { REPO } from '../figures';

export interface FuzzTarget<T = unknown> {
  name: string;
  /** Cases per run at scale 1 (SEAM_FUZZ_SCALE multiplies). */
  runs: number;
  /** A case slower than this fails the target ("no hang"). */
  caseMs: number;
  arb(): fc.Arbitrary<T>;
  /** Throws (an assertion) when the property does not hold. */
  run(input: T): void | Promise<void>;
}

// ---- helpers ------------------------------------------------------------------------------------

/** Text mutations applied to a seed text: each picks positions by fraction of the length. */
type Mutation =
  | { op: 'delete' | 'dup' | 'truncate' | 'swap'; a: number; b: number }
  | { op: 'insert'; a: number; text: string };

function mutationArb(vocabulary: readonly string[]): fc.Arbitrary<Mutation> {
  const frac = fc.double({ min: 0, max: 1, noNaN: true });
  return fc.oneof(
    fc.record({ op: fc.constantFrom('delete' as const, 'dup' as const, 'truncate' as const, 'swap' as const), a: frac, b: frac }),
    fc.record({ op: fc.constant('insert' as const), a: frac, text: fc.oneof(fc.constantFrom(...vocabulary), fc.string({ unit: 'binary', maxLength: 12 })) }),
  );
}

function mutate(text: string, muts: Mutation[]): string {
  let s = text;
  for (const m of muts) {
    const at = (f: number) => Math.min(s.length, Math.floor(f * (s.length + 1)));
    const a = at(m.a);
    if (m.op === 'insert') { s = s.slice(0, a) + m.text + s.slice(a); continue; }
    const b = at(m.b);
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    const span = Math.min(hi - lo, 400); // keep edits local so the text keeps most of its shape
    if (m.op === 'delete') s = s.slice(0, lo) + s.slice(lo + span);
    else if (m.op === 'dup') s = s.slice(0, lo + span) + s.slice(lo, lo + span) + s.slice(lo + span);
    else if (m.op === 'truncate') s = s.slice(0, Math.max(lo, hi));
    else if (lo + span <= hi) s = s.slice(0, lo) + s.slice(hi, hi + span) + s.slice(lo + span, hi) + s.slice(lo, lo + span) + s.slice(hi + span);
  }
  return s;
}

function filesUnder(dir: string, exts: RegExp, out: string[] = []): string[] {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) filesUnder(p, exts, out);
    else if (exts.test(e)) out.push(p);
  }
  return out;
}

/** The repository's own fixture sources of one language: the seeds of the extractor targets. */
function seedSources(exts: RegExp): string[] {
  const root = join(REPO, 'test', 'fixtures');
  return ['c', 'rust', 'python', 'sample', 'debug']
    .flatMap((d) => filesUnder(join(root, d), exts))
    .map((f) => readFileSync(f, 'utf8'))
    .filter((t) => t.length < 64_000);
}

// ---- GDB/MI ---------------------------------------------------------------------------------------

const KINDS = new Set(['result', 'exec', 'status', 'notify', 'stream', 'prompt', 'unknown']);

function checkValue(v: MiValue, depth = 0): void {
  if (typeof v === 'string') return;
  if (v instanceof MiTuple) {
    for (const [k, x] of v.entries) { assert.equal(typeof k, 'string'); checkValue(x, depth + 1); }
    return;
  }
  assert.ok(v instanceof MiList, `an MI value is a string, MiTuple or MiList, not ${typeof v}`);
  if (v.names) assert.equal(v.names.length, v.items.length);
  for (const x of v.items) checkValue(x, depth + 1);
}

function checkRecord(r: MiRecord): void {
  assert.ok(r && KINDS.has(r.kind), `kind ${JSON.stringify(r?.kind)}`);
  if ('results' in r) checkValue(r.results);
  if (r.kind === 'stream') assert.equal(typeof r.text, 'string');
  if ('token' in r && r.token !== undefined) assert.ok(Number.isFinite(r.token) || r.token === Infinity);
}

/** Real GDB 13 output lines: the seeds of the mutated MI cases. */
const MI_LINES = [
  '*stopped,reason="breakpoint-hit",disp="keep",bkptno="1",frame={addr="0x00005555555551c3",func="work",args=[{name="n",value="21"}],file="prog.c",fullname="/tmp/gdbx/prog.c",line="15",arch="i386:x86-64"},thread-id="1",stopped-threads="all",core="1"',
  '12^done,stack=[frame={level="0",addr="0x00007ffff7e3c2a0",func="_PyEval_EvalFrameDefault",file="Python/ceval.c",fullname="/src/Python/ceval.c",line="4760",arch="i386:x86-64"},frame={level="1",addr="0x1",func="??"}]',
  '=library-loaded,id="/lib/x86_64-linux-gnu/libc.so.6",target-name="/lib/x86_64-linux-gnu/libc.so.6",host-name="/lib/x86_64-linux-gnu/libc.so.6",symbols-loaded="0",thread-group="i1",ranges=[{from="0x00007ffff7dab700",to="0x00007ffff7f3d93d"}]',
  '~"Thread 0x7ffff7d8a740 (LWP 4242) \\"python3\\" received signal SIGSEGV, Segmentation fault.\\n"',
  '5^done,memory=[{begin="0x00007fffffffe000",offset="0x0000000000000000",end="0x00007fffffffe010",contents="00c3a9ff10203040506070809a0b0c0d"}]',
  '7^done,threads=[{id="2",target-id="Thread 0x7ffff7589640 (LWP 77)",name="worker-\\303\\251",frame={level="0",addr="0x0",func="futex_wait",args=[]},state="stopped",core="0"}],current-thread-id="1"',
  '3^error,msg="No symbol \\"nowhere\\" in current context.",code="undefined-command"',
  '=breakpoint-modified,bkpt={number="1",type="breakpoint",disp="keep",enabled="y",addr="<MULTIPLE>",times="1",original-location="leaf"},{number="1.1",enabled="y",addr="0x1",func="leaf",file="engine.rs",line="12",thread-groups=["i1"]}',
  '&"warning: Error disabling address space randomization: Operation not permitted\\n"',
  '*running,thread-id="all"',
  '(gdb) ',
];
const MI_VOCAB = ['{', '}', '[', ']', '"', '\\', '\\"', '\\n', '\\303', '\\x', ',', '=', '^', '*', '+', '~', '@', '&', '(gdb)', 'frame=', '0x', '\r'];

/** Generated MI values, serialised as GDB would print them. */
const miName = fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/);
const { value: miValueArb } = fc.letrec<{ value: MiValue; tuple: MiTuple; list: MiList }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.string({ unit: 'binary', maxLength: 16 }), tie('tuple'), tie('list')),
  tuple: fc.array(fc.tuple(miName, tie('value')), { maxLength: 4 }).map((es) => new MiTuple(es)),
  list: fc.oneof(
    fc.array(tie('value'), { maxLength: 4 }).map((vs) => new MiList(vs)),
    fc.array(fc.tuple(miName, tie('value')), { minLength: 1, maxLength: 4 }).map((es) => new MiList(es.map(([, v]) => v), es.map(([n]) => n))),
  ),
}));

/** GDB's C-string escaping of one value (as mi/commands.ts's cString does): UTF-8, octal escapes. */
function miCString(s: string): string {
  let out = '"';
  for (const b of new TextEncoder().encode(s)) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += '\\\\';
    else if (b === 0x0a) out += '\\n';
    else if (b < 0x20 || b >= 0x7f) out += '\\' + b.toString(8).padStart(3, '0');
    else out += String.fromCharCode(b);
  }
  return out + '"';
}

function miText(v: MiValue): string {
  if (typeof v === 'string') return miCString(v);
  if (v instanceof MiTuple) return `{${v.entries.map(([k, x]) => `${k}=${miText(x)}`).join(',')}}`;
  return `[${v.items.map((x, i) => (v.names ? `${v.names[i]}=` : '') + miText(x)).join(',')}]`;
}

interface GenRecord { token?: number; sigil: '^' | '*' | '+' | '='; cls: string; results: [string, MiValue][] }
const genRecordArb: fc.Arbitrary<GenRecord> = fc.record({
  token: fc.option(fc.nat({ max: 1_000_000 }), { nil: undefined }),
  sigil: fc.constantFrom('^' as const, '*' as const, '+' as const, '=' as const),
  cls: fc.stringMatching(/^[a-z][a-z-]{0,10}$/),
  results: fc.array(fc.tuple(miName, miValueArb), { maxLength: 4 }),
}).map((r) => (r.sigil === '^' ? { ...r, cls: ['done', 'running', 'connected', 'error', 'exit'][r.cls.length % 5] } : r));

function genLine(r: GenRecord): string {
  return `${r.token ?? ''}${r.sigil}${r.cls}${r.results.map(([k, v]) => `,${k}=${miText(v)}`).join('')}`;
}

/** A value as plain data, for deepEqual across the two ways of building it (empty lists have no names). */
function plain(v: MiValue): unknown {
  if (typeof v === 'string') return v;
  if (v instanceof MiTuple) return { t: v.entries.map(([k, x]) => [k, plain(x)]) };
  return { l: v.items.map(plain), n: v.items.length && v.names ? [...v.names] : undefined };
}

const deepLineArb = fc.record({
  depth: fc.integer({ min: 1, max: 60_000 }),
  open: fc.constantFrom('[', '{a=', '[{b=', '[c='),
  closed: fc.boolean(),
}).map(({ depth, open, closed }) => {
  const close = open === '[' ? ']' : open === '{a=' ? '}' : open === '[{b=' ? '}]' : ']';
  return `^done,x=${open.repeat(depth)}"v"${closed ? close.repeat(depth) : ''}`;
});

export const miParser: FuzzTarget<string> = {
  name: 'mi-parser',
  runs: 20_000,
  caseMs: 2_000,
  arb: () => fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom('', '^done', '^error,msg=', '*stopped,', '~"', '&"', '=thread-created,', '123^done,', '(gdb)'), fc.string({ unit: 'binary', maxLength: 300 })).map(([p, s]) => p + s) },
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...MI_LINES), fc.array(mutationArb(MI_VOCAB), { minLength: 1, maxLength: 6 })).map(([l, m]) => mutate(l, m)) },
    { weight: 3, arbitrary: fc.tuple(genRecordArb.map(genLine), fc.array(mutationArb(MI_VOCAB), { maxLength: 4 })).map(([l, m]) => mutate(l, m)) },
    { weight: 1, arbitrary: deepLineArb },
  ),
  run: (line) => checkRecord(parseMiLine(line)),
};

export const miRoundtrip: FuzzTarget<GenRecord> = {
  name: 'mi-roundtrip',
  runs: 10_000,
  caseMs: 2_000,
  arb: () => genRecordArb,
  run: (r) => {
    const line = genLine(r);
    const got = parseMiLine(line);
    assert.notEqual(got.kind, 'unknown', `a well-formed record parsed as unknown: ${line}`);
    assert.ok('results' in got);
    assert.equal(got.token, r.token, 'token');
    assert.deepEqual(got.results.entries.map(([k, v]) => [k, plain(v)]), r.results.map(([k, v]) => [k, plain(v)]), line);
    // A stream record of any text comes back as that text.
    const text = typeof r.results[0]?.[1] === 'string' ? r.results[0][1] : r.cls;
    assert.deepEqual(parseMiLine(`~${miCString(text)}`), { kind: 'stream', stream: 'console', text });
  },
};

// ---- line tables ----------------------------------------------------------------------------------

interface FuzzLocEntry { units: number; line: number | null; long: boolean }

type LineCase =
  | { kind: 'random'; table: Uint8Array; firstLine: number; format: LineTableFormat; offsets: number[] }
  | { kind: 'encoded'; firstLine: number; entries: FuzzLocEntry[]; cut: number | null; flips: [number, number][] };

export const lineTable: FuzzTarget<LineCase> = {
  name: 'line-table',
  runs: 20_000,
  caseMs: 2_000,
  arb: () => fc.oneof(
    fc.record({
      kind: fc.constant('random' as const),
      table: fc.uint8Array({ maxLength: 2048 }),
      firstLine: fc.oneof(fc.integer({ min: -5, max: 5000 }), fc.integer()),
      format: fc.constantFrom('pep626' as const, 'locations' as const),
      offsets: fc.array(fc.integer({ min: -8, max: 70_000 }), { maxLength: 6 }),
    }),
    fc.record({
      kind: fc.constant('encoded' as const),
      firstLine: fc.integer({ min: 0, max: 100_000 }),
      entries: fc.array(fc.record({ units: fc.integer({ min: 1, max: 40 }), line: fc.option(fc.integer({ min: 0, max: 200_000 }), { nil: null }), long: fc.boolean() }), { maxLength: 40 }),
      cut: fc.option(fc.nat(), { nil: null }),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
    }),
  ),
  run: (c) => {
    const check = (table: Uint8Array, first: number, format: LineTableFormat, offsets: number[]) => {
      const ranges = decodeLineTable(table, first, format);
      let prev = 0;
      for (const r of ranges) {
        assert.ok(r.start === prev && r.end > r.start, `ranges are contiguous and non-empty: ${JSON.stringify(ranges.slice(0, 8))}`);
        assert.ok(r.line === null || Number.isFinite(r.line), `line ${r.line}`);
        prev = r.end;
      }
      for (const off of offsets) {
        const want = off < 0 ? first : ranges.find((r) => off >= r.start && off < r.end)?.line ?? null;
        assert.equal(lineForOffset(table, first, off, format), want, `offset ${off}`);
      }
      return ranges;
    };
    if (c.kind === 'random') { check(c.table, c.firstLine, c.format, c.offsets); return; }
    const table = encodeLocations(c.firstLine, c.entries.map((e) => ({ units: e.units, line: e.line, form: e.long ? 'long' as const : undefined })));
    const units = c.entries.reduce((n, e) => n + e.units, 0);
    const ranges = check(table, c.firstLine, 'locations', [0, 2, units, units * 2 - 2]);
    // Intact: every code unit's line is the entry's (the decoder is the encoder's inverse).
    const perUnit = ranges.flatMap((r) => Array<number | null>((r.end - r.start) / 2).fill(r.line));
    assert.deepEqual(perUnit, c.entries.flatMap((e) => Array<number | null>(e.units).fill(e.line)));
    // Truncated or with flipped bytes: still no exception, still contiguous ranges.
    const bad = c.cut === null ? table.slice() : table.slice(0, c.cut % (table.length + 1));
    for (const [at, v] of c.flips) if (bad.length) bad[at % bad.length] = v;
    check(bad, c.firstLine, 'locations', [0, 4, 64]);
  },
};

// ---- the interpreter-memory reader ---------------------------------------------------------------

/** Sparse memory made of chunks; `short` mode returns what is there instead of throwing at a
 *  chunk's end (a truncated read, as a core file with a cut segment gives). */
class ChunkMemory implements Memory {
  constructor(readonly chunks: [bigint, Uint8Array][], readonly short = false) {}
  async read(addr: bigint, size: number): Promise<Uint8Array> {
    if (!Number.isInteger(size) || size < 0) throw new MemoryError(addr, size, 'bad size');
    for (const [at, bytes] of this.chunks) {
      if (addr >= at && addr < at + BigInt(bytes.length)) {
        const o = Number(addr - at);
        if (o + size <= bytes.length || this.short) return bytes.slice(o, o + size);
      }
    }
    throw new MemoryError(addr, size, 'unmapped');
  }
}

interface Recording { runtime: string; chunks: [string, string][] }
let recordingCache: { runtime: bigint; chunks: [bigint, Uint8Array][] } | undefined;
function recording(): { runtime: bigint; chunks: [bigint, Uint8Array][] } {
  if (!recordingCache) {
    const rec = JSON.parse(readFileSync(join(REPO, 'test', 'unit', 'golden', 'py-image-3.13.0.json'), 'utf8')) as Recording;
    recordingCache = {
      runtime: BigInt('0x' + rec.runtime),
      chunks: rec.chunks.map(([a, h]) => [BigInt('0x' + a), Uint8Array.from(Buffer.from(h, 'hex'))]),
    };
  }
  return recordingCache;
}

const symbolsAt = (runtime: bigint): Symbols => ({ address: async (n) => (n === '_PyRuntime' ? runtime : undefined) });

type MemMutation =
  | { op: 'byte'; chunk: number; off: number; value: number }
  | { op: 'word'; chunk: number; off: number; value: bigint }
  | { op: 'pointer'; chunk: number; off: number; toChunk: number; toOff: number }
  | { op: 'drop' | 'truncate'; chunk: number; off: number };

const memMutationArb: fc.Arbitrary<MemMutation> = fc.oneof(
  fc.record({ op: fc.constant('byte' as const), chunk: fc.nat(), off: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('word' as const), chunk: fc.nat(), off: fc.nat(), value: fc.oneof(fc.constantFrom(0n, 1n, 0xffff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0x7fff_ffffn), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })) }),
  fc.record({ op: fc.constant('pointer' as const), chunk: fc.nat(), off: fc.nat(), toChunk: fc.nat(), toOff: fc.nat() }),
  fc.record({ op: fc.constantFrom('drop' as const, 'truncate' as const), chunk: fc.nat(), off: fc.nat() }),
);

function applyMutations(base: [bigint, Uint8Array][], muts: MemMutation[]): [bigint, Uint8Array][] {
  let chunks = base.map(([a, b]): [bigint, Uint8Array] => [a, b.slice()]);
  for (const m of muts) {
    if (!chunks.length) break;
    const i = m.chunk % chunks.length;
    const [, bytes] = chunks[i];
    if (m.op === 'drop') { chunks = chunks.filter((_, j) => j !== i); continue; }
    if (m.op === 'truncate') { chunks[i] = [chunks[i][0], bytes.slice(0, m.off % (bytes.length + 1))]; continue; }
    if (!bytes.length) continue;
    if (m.op === 'byte') { bytes[m.off % bytes.length] = m.value; continue; }
    if (bytes.length < 8) continue;
    const off = (m.off % (bytes.length - 7)) & ~7;
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    if (m.op === 'word') view.setBigUint64(off, m.value, true);
    else if (m.op === 'pointer') {
      const [to, tb] = chunks[m.toChunk % chunks.length];
      view.setBigUint64(off, to + BigInt(tb.length ? (m.toOff % tb.length) & ~7 : 0), true);
    }
  }
  return chunks;
}

/** Errors the reader's functions may raise for bad memory (documented): everything else is a bug. */
function isTypedMemoryError(e: unknown): boolean {
  return e instanceof MemoryError || e instanceof BadMemory || e instanceof LayoutError;
}

/** The reader's whole surface on one memory: threads, then locals and summaries where it leads. */
async function exerciseReader(memory: Memory, layout: PyLayout, runtime: bigint, probes: bigint[]): Promise<void> {
  const threads = await readPythonThreads(memory, layout, runtime); // documented: never throws for bad memory
  assert.ok(Array.isArray(threads));
  let locals = 0;
  for (const t of threads) {
    for (const s of t.segments) {
      for (const f of s.frames) {
        assert.equal(typeof f.name, 'string');
        assert.ok(f.line === null || Number.isFinite(f.line), `line ${f.line}`);
        if (f.unreadable || locals >= 3) continue;
        locals++;
        try {
          for (const l of await readLocals(memory, layout, f.address)) assert.equal(typeof l.name, 'string');
        } catch (e) {
          if (!isTypedMemoryError(e)) throw e;
        }
      }
    }
  }
  for (const p of probes) {
    const s = await summarizeObject(memory, layout, p); // documented: never throws for bad memory
    assert.equal(typeof s.value, 'string');
  }
}

interface RecordedCase { muts: MemMutation[]; short: boolean; probes: [number, number][] }

export const pyReaderRecorded: FuzzTarget<RecordedCase> = {
  name: 'py-reader-recorded',
  runs: 3_000,
  caseMs: 5_000,
  arb: () => fc.record({
    muts: fc.array(memMutationArb, { minLength: 1, maxLength: 16 }),
    short: fc.boolean(),
    probes: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 4 }),
  }),
  run: async (c) => {
    const rec = recording();
    const chunks = applyMutations(rec.chunks, c.muts);
    const memory = new ChunkMemory(chunks, c.short);
    let layout: PyLayout;
    try {
      layout = await detectLayout(memory, symbolsAt(rec.runtime));
    } catch (e) {
      if (e instanceof LayoutError) return; // documented: a layout that cannot be built says why
      throw e;
    }
    const probes = c.probes.map(([ci, off]) => {
      if (!chunks.length) return 0n;
      const [a, b] = chunks[ci % chunks.length];
      return a + BigInt(b.length ? off % b.length : 0);
    });
    await exerciseReader(memory, layout, rec.runtime, probes);
  },
};

/** A small deterministic PRNG (mulberry32) so one integer seed fills a whole address space. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A DWARF-shaped layout for 3.`minor`: every field at a small seeded offset, every struct 256 bytes. */
async function fakeDwarfLayout(minor: number, seed: number): Promise<PyLayout> {
  const rnd = prng(seed);
  const offsets = new Map<string, number>();
  const symbols: Symbols = {
    address: async () => undefined,
    offsetOf: async (type, field) => {
      const k = `${type}.${field}`;
      if (!offsets.has(k)) offsets.set(k, Math.floor(rnd() * 31) * 8);
      return offsets.get(k);
    },
    sizeOf: async () => 256,
  };
  return layoutFromDwarf(minor, symbols);
}

interface RandomCase { minor: number; layoutSeed: number; memSeed: number; pages: number; density: number; short: boolean; offsetsMuts: [number, number][] }

export const pyReaderRandom: FuzzTarget<RandomCase> = {
  name: 'py-reader-random',
  runs: 2_000,
  caseMs: 5_000,
  arb: () => fc.record({
    minor: fc.constantFrom(10, 11, 12, 13),
    layoutSeed: fc.nat(),
    memSeed: fc.nat(),
    pages: fc.integer({ min: 1, max: 24 }),
    density: fc.double({ min: 0, max: 0.9, noNaN: true }),
    short: fc.boolean(),
    offsetsMuts: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
  }),
  run: async (c) => {
    const rnd = prng(c.memSeed);
    const PAGE = 4096;
    const base = 0x7f00_0000_0000n;
    const pageAt = Array.from({ length: c.pages }, (_, i) => base + BigInt((i * 7 + Math.floor(rnd() * 5)) * PAGE));
    const chunks: [bigint, Uint8Array][] = pageAt.map((a) => {
      const b = new Uint8Array(PAGE);
      const v = new DataView(b.buffer);
      for (let o = 0; o < PAGE; o += 8) {
        if (rnd() < c.density) v.setBigUint64(o, pageAt[Math.floor(rnd() * pageAt.length)] + BigInt(Math.floor(rnd() * (PAGE / 8)) * 8), true);
        else if (rnd() < 0.5) v.setBigUint64(o, 0n, true);
        else v.setBigUint64(o, BigInt(Math.floor(rnd() * 2 ** 32)) * BigInt(Math.floor(rnd() * 2 ** 32)), true);
      }
      return [a, b];
    });
    const runtime = pageAt[0];
    let layout: PyLayout;
    if (c.minor === 13) {
      // The real 3.13.0 `_Py_DebugOffsets`, with a few bytes changed: a patched or damaged build.
      const rec = recording();
      const head = await new ChunkMemory(rec.chunks).read(rec.runtime, debugOffsetsSize(13)!);
      const block = head.slice();
      for (const [at, v] of c.offsetsMuts) block[24 + (at % (block.length - 24))] = v;
      try {
        layout = layoutFromDebugOffsets(parseDebugOffsets(block));
      } catch (e) {
        if (e instanceof LayoutError) return;
        throw e;
      }
    } else {
      layout = await fakeDwarfLayout(c.minor, c.layoutSeed);
    }
    await exerciseReader(new ChunkMemory(chunks, c.short), layout, runtime, [pageAt[0] + 64n, pageAt[pageAt.length - 1]]);
  },
};

// ---- extractors -----------------------------------------------------------------------------------

const C_VOCAB = ['{', '}', '(', ')', '[', ']', ';', ',', '"', "'", '/*', '*/', '//', '\\\n', '#define X(a, b) a##_##b(PyObject *m) {', '#include "x.h"\n', '#if 0\n', '#endif\n',
  'static PyMethodDef t[] = {', '{"f", (PyCFunction)f, METH_O, NULL},', 'PyTypeObject T = {', 'PyVarObject_HEAD_INIT(NULL, 0)', '/*[clinic input]\n', '[clinic start generated code]*/',
  '/*[clinic input]\npreserve\n[clinic start generated code]*/', '#define F_METHODDEF {"f", (PyCFunction)f, METH_O, f__doc__},', 'PyModule_AddObject(m, "x", o)', 'PyErr_NewException("m.E", NULL, NULL)',
  'static PyObject *\n', 'FUNC1D(sqrt, sqrt, 0,\n', 'PyInit_', 'SETBUILTIN("x", &T)', '.tp_methods = ', '\n', ' '.repeat(200), 'a '.repeat(300)];
const RUST_VOCAB = ['{', '}', '(', ')', '<', '>', '#[pyfunction]\n', '#[pymodule]\n', '#[pyclass(name = "X")]\n', '#[pymethods]\n', '#[pyo3(get, set)]', '#[new]', 'fn f(x: i64) -> i64 {', 'mod m {',
  'impl X {', 'r#"', '"#', 'r##"', '"', "'", '/*', '*/', '//', 'm.add_function(wrap_pyfunction!(f, m)?)?;', 'static mut T: [PyMethodDef; 2] = [', 'PyMethodDef {', 'ml_name: c"x".as_ptr(),',
  'export_module!', 'ClassDef::new(c"m.Name")', 'use pyo3::prelude::*;', 'pub ', '#[pymodule_export]\n', '\n', 'b\'\\\'\''];
const PY_VOCAB = ['def ', 'class ', '(', ')', ':', '\n    ', '\n', 'from _x import *\n', 'from . import (a, b as c)\n', 'import a.b.c as d\n', 'try:\n    from _heapq import *\nexcept ImportError:\n    pass\n',
  '"""', "'''", '"', "'", '#', '\\\n', '@property\n', '__all__ = ["a"]\n', 'if TYPE_CHECKING:\n', 'lambda x: x', 'async def ', '\t', 'f"{x}"', '\x00', '\ufeff'];

function extractorTarget<F>(name: string, exts: RegExp, vocab: string[], extract: (t: string) => F, needs: (t: string) => boolean): FuzzTarget<string> {
  let seeds: string[] | undefined;
  return {
    name,
    runs: 1_500,
    caseMs: 3_000,
    arb: () => {
      seeds ??= seedSources(exts);
      assert.ok(seeds.length > 0, `no seed sources for ${name}`);
      return fc.oneof(
        { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...seeds), fc.array(mutationArb(vocab), { minLength: 1, maxLength: 12 })).map(([s, m]) => mutate(s, m)) },
        { weight: 2, arbitrary: fc.array(fc.oneof(fc.constantFrom(...vocab), fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/)), { maxLength: 120 }).map((ts) => ts.join(' ')) },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 2_000 }) },
      );
    },
    run: (text) => {
      needs(text);
      const facts = extract(text);
      assert.ok(facts && typeof facts === 'object');
      JSON.stringify(facts); // facts are cached as JSON: they must serialise
    },
  };
}

export const extractCTarget = extractorTarget('extract-c', /\.[ch]$/, C_VOCAB, extractC, cNeedsParse);
export const extractRustTarget = extractorTarget('extract-rust', /\.rs$/, RUST_VOCAB, extractRust, rustNeedsParse);
export const extractPythonTarget = extractorTarget('extract-python', /\.pyi?$/, PY_VOCAB, extractPython, pythonNeedsParse);

export const TARGETS: Record<string, FuzzTarget<never>> = Object.fromEntries(
  [miParser, miRoundtrip, lineTable, pyReaderRecorded, pyReaderRandom, extractCTarget, extractRustTarget, extractPythonTarget]
    .map((t) => [t.name, t as FuzzTarget<never>]),
);
