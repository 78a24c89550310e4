/**
 * The interpreter-memory reader against live pyenv CPythons 3.10–3.13: a script builds a known
 * stack (nested functions, a method, a generator, a coroutine driven by hand, a multi-line call, a
 * second thread), prints what `sys._current_frames()` sees as JSON and blocks on stdin. The test
 * reads the process through /proc/PID/mem and compares every thread's frames exactly.
 * Offsets: 3.10–3.12 from DWARF through one `gdb -batch -p PID` run; 3.13 from the debug offsets
 * with ELF symbols only (no DWARF, no GDB). A missing interpreter or gdb is a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Memory, PyFrame, Symbols } from '../../src/debug/types';
import { detectLayout, layoutFromDwarf, type PyLayout } from '../../src/debug/python/layout';
import { readChildren, readLocals, readPythonThreads, type PyThreadRead } from '../../src/debug/python/reader';
import { ProcMemory } from '../../src/debug/python/procMemory';
import { ElfSymbols } from '../../src/debug/python/elfSymbols';

const PYENV = join(homedir(), '.pyenv', 'versions');
const GDB = '/usr/bin/gdb';
const READY_TIMEOUT_MS = 20_000;

function pyenvPython(minor: number): string | undefined {
  if (!existsSync(PYENV)) return undefined;
  const dir = readdirSync(PYENV).find((d) => d.startsWith(`3.${minor}.`));
  const exe = dir && join(PYENV, dir, 'bin', `python3.${minor}`);
  return exe && existsSync(exe) ? exe : undefined;
}

// The fixture. `emit(...); sys.stdin.readline()` share one line so the reported line of the
// innermost frame is where the process then blocks.
const SCRIPT = `
import json, sys, threading

def walk(f):
    out = []
    while f is not None:
        co = f.f_code
        out.append({'name': getattr(co, 'co_qualname', co.co_name), 'file': co.co_filename, 'line': f.f_lineno})
        f = f.f_back
    return out

def expected_locals(f):
    return {k: {'type': type(v).__name__, 'repr': repr(v), 'len': len(v) if hasattr(v, '__len__') else None}
            for k, v in f.f_locals.items()}

worker_lock = threading.Lock()
worker_lock.acquire()

def worker_inner():
    worker_lock.acquire()

def worker_outer():
    worker_inner()

def wait_for_worker(t):
    while True:
        f = sys._current_frames().get(t.ident)
        if f is not None and f.f_code.co_name == 'worker_inner':
            return walk(f)

def report_and_wait(worker, caller):
    report = {'main': {'ident': threading.get_ident(), 'native': threading.get_native_id(), 'locals': expected_locals(caller), 'name': threading.current_thread().name},
              'worker': {'ident': worker.ident, 'native': worker.native_id, 'frames': wait_for_worker(worker), 'name': worker.name}}
    report['main']['frames'] = walk(sys._getframe()); print('REPORT ' + json.dumps(report), flush=True); sys.stdin.readline()

def multi(worker, a, b):
    s = 'h\\u00e9llo'
    n = -12345678901234567890123
    small = 7
    fl = 1.5
    by = b'ab\\x00'
    li = [1, 'x', None]
    tu = (True,)
    di = {'k': 1, 'j': [2]}
    class Obj: pass
    o = Obj(); o.a = 1; o.b = 'x'
    sd = o.__dict__
    p = Obj(); p.a = 1; p.b = 'x'
    gd = {(1, 2): 3.0}
    report_and_wait(
        worker,
        sys._getframe())

async def coro(worker):
    multi(worker,
          1,
          2)

def drive(worker):
    c = coro(worker)
    try:
        c.send(None)
    except StopIteration:
        pass

def gen(worker):
    drive(worker)
    yield 1

class Klass:
    def method(self, worker):
        for _ in gen(worker):
            pass

def main():
    t = threading.Thread(target=worker_outer, daemon=True, name='first name')
    t.start()
    t.name = 'reader-worker, renamed once started'
    vars(t)  # its attributes now in a dict object (3.11+); main's Thread keeps them as values only
    Klass().method(t)

main()
`;

interface Expected {
  name: string;
  file: string;
  line: number;
}
interface Report {
  main: { ident: number; native: number; name: string; frames: Expected[]; locals: Record<string, { type: string; repr: string; len: number | null }> };
  worker: { ident: number; native: number; name: string; frames: Expected[] };
}

async function startFixture(exe: string, dir: string): Promise<{ child: ChildProcessWithoutNullStreams; report: Report }> {
  const file = join(dir, 'stack_fixture.py');
  writeFileSync(file, SCRIPT);
  const child = spawn(exe, [file], { stdio: 'pipe' });
  const report = await new Promise<Report>((resolve, reject) => {
    let out = '', err = '';
    const timer = setTimeout(() => reject(new Error(`fixture not ready in ${READY_TIMEOUT_MS} ms: ${err}`)), READY_TIMEOUT_MS);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^REPORT (.*)$/m.exec(out);
      if (m) { clearTimeout(timer); resolve(JSON.parse(m[1]) as Report); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`fixture exited ${code}: ${err}`)); });
  });
  return { child, report };
}

/** Test-only DWARF offsets: one `gdb -batch -p PID` run answers every field the layout asks for. */
async function gdbSymbols(pid: number, minor: number, elf: Symbols): Promise<Symbols> {
  const offsets: [string, string][] = [];
  const sizes: string[] = [];
  const recorder: Symbols = {
    address: elf.address.bind(elf),
    offsetOf: async (type, field) => { offsets.push([type, field]); return 0; },
    sizeOf: async (type) => { sizes.push(type); return 0; },
  };
  await layoutFromDwarf(minor, recorder);
  const cast = (t: string) => `${t} *`;
  const args = ['-batch', '-nx', '-p', String(pid)];
  offsets.forEach(([t, f], i) => args.push('-ex', `printf "O${i} %ld\\n", (long)&((${cast(t)})0)->${f}`));
  sizes.forEach((t, i) => args.push('-ex', `printf "S${i} %ld\\n", (long)sizeof(${t})`));
  const run = spawnSync(GDB, args, { encoding: 'utf8', timeout: 60_000 });
  const got = new Map<string, number>();
  for (const m of (run.stdout ?? '').matchAll(/^([OS]\d+) (-?\d+)$/gm)) got.set(m[1], Number(m[2]));
  assert.ok(got.size > 0, `gdb gave no offsets: ${run.stderr}`);
  return {
    address: elf.address.bind(elf),
    offsetOf: async (type, field) => got.get(`O${offsets.findIndex(([t, f]) => t === type && f === field)}`),
    sizeOf: async (type) => got.get(`S${sizes.indexOf(type)}`),
  };
}

const flat = (t: PyThreadRead): PyFrame[] => t.segments.flatMap((s) => s.frames);
const shape = (frames: PyFrame[]) => frames.map((f) => ({ name: f.name, file: f.file, line: f.line }));

function threadFor(threads: PyThreadRead[], minor: number, who: { ident: number; native: number }): PyThreadRead {
  const t = minor >= 11 ? threads.find((x) => x.nativeThreadId === who.native) : threads.find((x) => x.threadId === BigInt(who.ident));
  assert.ok(t, `thread ${who.native} not found among ${threads.map((x) => x.nativeThreadId ?? x.threadId).join(', ')}`);
  return t;
}

/** A Memory that returns garbage for reads overlapping [from, from+len). */
class CorruptMemory implements Memory {
  constructor(private readonly inner: Memory, private readonly from: bigint, private readonly len: bigint) {}
  async read(address: bigint, size: number): Promise<Uint8Array> {
    const b = await this.inner.read(address, size);
    if (address < this.from + this.len && address + BigInt(size) > this.from) {
      const out = new Uint8Array(b.length);
      for (let i = 0; i < out.length; i++) out[i] = (i * 97 + 0x5b) & 0xff;
      return out;
    }
    return b;
  }
}

for (const minor of [10, 11, 12, 13]) {
  test(`reads the Python threads of a live CPython 3.${minor}`, async () => {
    const exe = pyenvPython(minor);
    assert.ok(exe, `pyenv python3.${minor} not found under ${PYENV}`);
    if (minor < 13) assert.ok(existsSync(GDB), `${GDB} is needed for the DWARF offsets`);
    const dir = mkdtempSync(join(tmpdir(), 'seam-pyreader-'));
    let child: ChildProcessWithoutNullStreams | undefined;
    let mem: ProcMemory | undefined;
    let elf: ElfSymbols | undefined;
    try {
      const started = await startFixture(exe, dir);
      child = started.child;
      const { report } = started;
      const pid = child.pid!;
      mem = new ProcMemory(pid);
      elf = new ElfSymbols(pid);
      const symbols = minor >= 13 ? elf : await gdbSymbols(pid, minor, elf);
      const layout: PyLayout = await detectLayout(mem, symbols);
      assert.equal(layout.minor, minor);
      assert.match(layout.version, new RegExp(`^3\\.${minor}\\b`));
      assert.equal(layout.source, minor >= 13 ? 'debug-offsets' : 'dwarf');

      const t0 = Date.now();
      const threads = await readPythonThreads(mem, layout, layout.runtimeAddress!);
      const elapsed = Date.now() - t0;
      assert.ok(elapsed < 2_000, `reading took ${elapsed} ms`);
      assert.equal(threads.length, 2, 'two thread states');
      const main = threadFor(threads, minor, report.main);
      const worker = threadFor(threads, minor, report.worker);
      assert.deepEqual(shape(flat(main)), report.main.frames, 'main thread frames');
      assert.deepEqual(shape(flat(worker)), report.worker.frames, 'worker thread frames');
      // The `threading` names, from threading._active and each Thread's _name in memory.
      assert.equal(main.name, report.main.name, 'main thread name');
      assert.equal(worker.name, report.worker.name, 'worker thread name');
      // The PyTypeObject / PyHeapTypeObject offsets the layout derives from tp_name, against DWARF.
      const mapped = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').map((l) => l.split(/\s+/)[5] ?? '');
      const lib = mapped.find((f) => new RegExp(`/libpython3\\.${minor}\\.so`).test(f)) ?? mapped.find((f) => new RegExp(`/python3\\.${minor}$`).test(f));
      assert.ok(lib, 'libpython mapped');
      const field = (e: string) => `printf "%ld\\n", (long)&(${e})`;
      const dwarf = spawnSync(GDB, ['-batch', '-nx', lib, '-ex', field('((PyTypeObject*)0)->tp_flags'),
        '-ex', field('((PyTypeObject*)0)->tp_basicsize'), '-ex', field('((PyTypeObject*)0)->tp_dictoffset'),
        '-ex', field('((PyHeapTypeObject*)0)->ht_cached_keys'),
        '-ex', field(`((PyInterpreterState*)0)->${minor >= 12 ? 'imports.modules' : 'modules'}`)], { encoding: 'utf8', timeout: 60_000 });
      const a = layout.attrs;
      assert.ok(a, 'attrs in the layout');
      assert.deepEqual(dwarf.stdout.trim().split('\n').map(Number), [a.tpFlags, a.tpBasicsize, a.tpDictoffset, a.cachedKeys, a.modules], dwarf.stderr);
      assert.ok(main.holdsGil !== worker.holdsGil || (!main.holdsGil && !worker.holdsGil), 'at most one GIL holder');
      // A coroutine sent by hand runs in its own C-level activation: more than one segment.
      assert.ok(main.segments.length >= 2, `main has ${main.segments.length} segments`);
      if (minor >= 11) {
        for (const s of main.segments) assert.ok(s.anchor !== undefined && s.anchor !== 0n, 'every segment has an anchor');
      } else {
        assert.equal(main.segments.length, main.segments.reduce((n, s) => n + s.frames.length, 0), '3.10: one frame per segment');
      }

      // Locals of `multi`, summarised from memory, against repr() in the process.
      const multi = flat(main).find((f) => f.name === 'multi')!;
      const locals = await readLocals(mem, layout, multi.address);
      const byName = new Map(locals.map((l) => [l.name, l.summary]));
      for (const [name, want] of Object.entries(report.main.locals)) {
        const got = byName.get(name);
        assert.ok(got, `local ${name} missing (have ${[...byName.keys()].join(', ')})`);
        assert.equal(got.type, want.type, `type of ${name}`);
        if (want.type !== 'Thread' && want.type !== 'type' && want.type !== 'Obj') assert.equal(got.value, want.repr, `value of ${name}`);
        if (want.len !== null) assert.equal(got.length, want.len, `len of ${name}`);
      }

      // What the Variables view shows inside them: items, entries, instance attributes.
      const kids = async (n: string): Promise<string[]> => {
        const local = locals.find((l) => l.name === n);
        assert.ok(local?.address, `${n} has an address`);
        return (await readChildren(mem!, layout, local.address)).map((c) => `${c.name}=${c.summary.value}`);
      };
      assert.deepEqual(await kids('li'), ['[0]=1', "[1]='x'", '[2]=None']);
      assert.deepEqual(await kids('tu'), ['[0]=True']);
      assert.deepEqual(await kids('di'), ["'k'=1", "'j'=[2]"]);
      assert.deepEqual(await kids('o'), ['a=1', "b='x'"], 'attributes of an object whose __dict__ was asked for');
      assert.deepEqual(await kids('p'), ['a=1', "b='x'"], 'attributes kept as values only (3.11+), or in its __dict__');
      assert.deepEqual(await kids('worker'), (await kids('worker')).filter((k) => k.startsWith('_')), 'a Thread: its attributes');
      assert.ok((await kids('worker')).includes(`_name='${report.worker.name}'`), (await kids('worker')).join(', '));

      // Garbage for one frame's code object: that frame only is unreadable.
      const frames = flat(main);
      const idx = frames.findIndex((f) => f.name === 'Klass.method' || f.name === 'method');
      const codePtr = (await mem.read(frames[idx].address + BigInt(layout.frame.code), 8));
      const codeAddr = new DataView(codePtr.buffer).getBigUint64(0, true);
      const bad1 = await readPythonThreads(new CorruptMemory(mem, codeAddr, 8n), layout, layout.runtimeAddress!);
      const got1 = flat(threadFor(bad1, minor, report.main));
      assert.equal(got1.length, frames.length);
      got1.forEach((f, i) => {
        if (i === idx) assert.ok(f.unreadable, 'corrupt frame marked unreadable');
        else assert.deepEqual(shape([f]), shape([frames[i]]), `frame ${i} intact`);
      });
      // Garbage for the frame struct itself: inner frames and the other thread survive.
      const bad2 = await readPythonThreads(new CorruptMemory(mem, frames[idx].address, 8n), layout, layout.runtimeAddress!);
      const got2 = flat(threadFor(bad2, minor, report.main));
      assert.deepEqual(shape(got2.slice(0, idx)), shape(frames.slice(0, idx)), 'inner frames intact');
      assert.ok(got2[idx].unreadable, 'corrupt frame struct marked unreadable');
      assert.deepEqual(shape(flat(threadFor(bad2, minor, report.worker))), report.worker.frames, 'other thread intact');
    } finally {
      child?.kill('SIGKILL');
      await mem?.close();
      elf?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
