/**
 * Seam's own native unwinder and symbolizer (src/debug/native/) against GDB's, on the same stopped
 * process: for each scenario and each pyenv CPython, every thread's frames from
 * `GdbBackend.frames()` (Seam's unwinder) must equal GDB's `-stack-list-frames` frame for frame:
 * pc, function, file, line, in the same order (inlined calls included), so that a level of ours is
 * GDB's level (locals, evaluation). Stops: a breakpoint in Rust under Python -> C -> Python -> Rust
 * (nested.py), a SIGSEGV in C (segfault.py: the signal frame), a Rust panic (panic.py), several
 * threads blocked in C (threads.py), a generator and a coroutine (gen_coro.py), deep recursion
 * across C (depth.py 300). Over LLDB, the same frames, and locals from LLDB's frame of each
 * level. A missing interpreter is a failure.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { StackService } from '../../src/debug/stackService';
import { interpreterTypesOf, type SessionUnwinder } from '../../src/debug/native/sessionUnwinder';
import { GdbSymbols } from '../../src/debug/gdb/memory';
import { layoutFromDwarf } from '../../src/debug/python/layout';
import { DwarfFirstSymbols } from '../../src/debug/native/dwarfSymbols';
import { ProcessModules } from '../../src/debug/native/processModules';
import { Symbolizers } from '../../src/debug/native/nativeStack';
import { EVAL_LOOP } from '../../src/debug/stack/glue';
import type { Symbols } from '../../src/debug/types';
import type { ChildProcess } from 'node:child_process';
import { createGdbBackend } from '../../src/debug/gdb/backend';
import { createLldbBackend } from '../../src/debug/lldb/backend';
import type { Gdb } from '../../src/debug/gdb/gdb';
import * as mi from '../../src/debug/mi/commands';
import type { DebugBackend, StopEvent } from '../../src/debug/backend';
import type { NativeFrame } from '../../src/debug/types';
import { cleanRustName, isRustName } from '../../src/debug/stack/rustNames';
import { buildFixtures, pythons, scenarioEnv, startHeld, type FixturePaths } from '../debug/fixtures';


// Seam's unwinder from the first stop (by default it waits until its answers are warm).
process.env.SEAM_NATIVE_UNWIND = '1';

const wanted = (process.env.SEAM_PYTHONS ?? '').split(',').filter(Boolean);
const interpreters = pythons().filter((py) => !wanted.length || wanted.some((w) => py.includes(w)));

interface Scenario {
  script: string;
  args?: string[];
  /** Native breakpoints; none: the scenario stops itself (a signal, a panic). */
  breaks?: string[];
  /** Attach once it printed READY (it then blocks in C reading stdin). */
  attach?: boolean;
}


const SCENARIOS: Scenario[] = [
  { script: 'nested.py', breaks: ['mixed_rs::engine::leaf'] },
  { script: 'segfault.py' },
  { script: 'panic.py', breaks: ['rust_panic'] },
  { script: 'threads.py', attach: true },
  { script: 'gen_coro.py', attach: true },
  { script: 'depth.py', args: ['300'], attach: true },
  { script: 'rawffi.py', attach: true },
];

function line(f: NativeFrame): string {
  const where = f.file !== undefined ? `${f.file}:${f.line}` : `from ${f.from ?? '?'}`;
  return `#${f.level} 0x${f.pc.toString(16)} ${f.func ?? '??'} ${where}`;
}

function waitStop(backend: DebugBackend, ms = 60_000): Promise<StopEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no stop within ${ms} ms`)), ms);
    backend.once('stopped', (e: StopEvent) => { clearTimeout(timer); resolve(e); });
    backend.once('exited', (e: { exitCode: number }) => { clearTimeout(timer); reject(new Error(`exited ${e.exitCode} before stopping`)); });
  });
}

/**
 * The levels of GDB's tail-call frames on a thread: frames GDB infers from DWARF call-site
 * records (a function that jumped to the next instead of calling it), with no activation on the
 * stack. Seam's unwinder shows the stack's activations only; these are the one difference.
 */
async function tailCallLevels(gdb: Gdb, threadId: number): Promise<Set<number>> {
  const conn = gdb.connection;
  let text = '';
  const off = conn.on('output', (o) => { if (o.category === 'console') text += o.text; });
  try {
    await conn.run(mi.interpreterExecConsole(`thread ${threadId}`));
    await conn.run(mi.interpreterExecConsole("python print('TAILCALLS', *[i for i, f in enumerate(__import__('itertools').accumulate(range(100000), lambda f, _: f and f.older(), initial=gdb.newest_frame())) if f and f.type() == gdb.TAILCALL_FRAME])"));
  } finally {
    off();
  }
  const m = /TAILCALLS([\d ]*)/.exec(text);
  assert.ok(m, `GDB did not list its tail-call frames: ${text.slice(0, 300)}`);
  return new Set(m[1].trim().split(/\s+/).filter(Boolean).map(Number));
}


/** Stops the scenario (launched to its breakpoint or signal, or attached once held), returns ours and GDB's frames of every thread. */
async function compare(p: FixturePaths, s: Scenario): Promise<{ ours: NativeFrame[]; gdbs: NativeFrame[]; thread: number }[]> {
  const backend = await createGdbBackend({});
  let held: ChildProcess | undefined;
  try {
    if (s.attach) {
      held = await startHeld(p, s.script, s.args);
      await backend.attach(held.pid!);
    } else {
      await backend.launch({ program: p.python, args: [join(p.scenarios, s.script), ...(s.args ?? [])], env: scenarioEnv(p) as Record<string, string> });
      for (const b of s.breaks ?? []) await backend.insertBreakpoint({ location: b });
      const stopped = waitStop(backend);
      await backend.run();
      await stopped;
    }
    const gdb = (backend as unknown as { gdb: Gdb }).gdb;
    const out = [];
    for (const t of await backend.threads()) {
      const ours = await backend.frames(t.id);
      const tail = await tailCallLevels(gdb, t.id);
      // As the backend's GDB path shows them: Rust names without hashes.
      const gdbs = (await gdb.frames(t.id))
        .filter((f) => !tail.has(f.level))
        .map((f, i) => ({ ...f, level: i, func: f.func && isRustName(f.func) ? cleanRustName(f.func) : f.func }));
      out.push({ ours, gdbs, thread: t.id });
    }
    return out;
  } finally {
    await backend.close({ detach: !!held });
    held?.kill('SIGKILL');
  }
}

test('there are interpreters to test', () => {
  assert.ok(interpreters.length > 0, 'no pyenv CPython 3.10–3.13 found (see README: set-up)');
});

for (const py of interpreters) {
  const version = /python(3\.\d+)/.exec(py)?.[1] ?? py;
  describe(`Seam's unwinder = GDB's, CPython ${version}`, () => {
    let p: FixturePaths;
    test('fixtures build', async () => {
      p = await buildFixtures(py);
    });
    // 3.13+ take the layout from the interpreter's debug offsets: no DWARF questions to compare.
    if (Number(/python3\.(\d+)/.exec(py)?.[1]) <= 12) test('the struct layout and symbols from Seam\'s readers equal GDB\'s', async () => {
      assert.ok(p, 'fixtures did not build');
      const minor = Number(/python3\.(\d+)/.exec(py)?.[1]);
      const held = await startHeld(p, 'depth.py', ['20']);
      const backend = await createGdbBackend({});
      const modules = new ProcessModules(held.pid!);
      try {
        await backend.attach(held.pid!);
        const gdb = (backend as unknown as { gdb: Gdb }).gdb;
        const interp = modules.find((path) => /\/libpython3/.test(path)) ?? modules.find((_, executable) => executable);
        assert.ok(interp, 'no interpreter file mapped');
        assert.ok(interp.elf.functions().some((f) => EVAL_LOOP.test(f.name)), `no eval loop symbol in ${interp.path}`);
        const types = interpreterTypesOf(interp, new Symbolizers(undefined).of(interp));
        assert.ok(types, `no DWARF types in ${interp.path}`);
        // The debugger is asked only what Seam's reader does not find; which types those are is known.
        const gdbSymbols = new GdbSymbols(gdb.connection);
        const asked = new Set<string>();
        const fallback: Symbols = {
          address: () => Promise.resolve(undefined),
          offsetOf: (t, f) => { asked.add(t); return gdbSymbols.offsetOf(t, f); },
          sizeOf: (t) => { asked.add(t); return gdbSymbols.sizeOf(t); },
        };
        const own = new DwarfFirstSymbols(fallback, () => types, (name) => {
          const v = interp.elf.symbolValue(name) ?? interp.debug?.symbolValue(name);
          return v === undefined ? undefined : v + interp.bias;
        });
        for (const name of ['_PyRuntime', 'Py_Version']) {
          if (minor === 10 && name === 'Py_Version') continue; // 3.11+
          assert.equal(await own.address(name), await gdbSymbols.address(name), `&${name}`);
        }
        const t0 = performance.now();
        const ours = await layoutFromDwarf(minor, own);
        const ms = performance.now() - t0;
        const theirs = await layoutFromDwarf(minor, gdbSymbols);
        assert.deepEqual(ours, theirs);
        // An LTO build (Debian's static python3.11) keeps its types in other units than the eval
        // loop's (the ones its functions were compiled in): found there too; 3.10's dict keys in
        // the dict implementation's unit. None left to GDB (each would cost the first stop ~3 ms).
        assert.deepEqual([...asked].sort(), [], 'types the reader left to the debugger');
        process.stdout.write(`# 3.${minor}: layout from Seam's DWARF reader in ${ms.toFixed(1)} ms; left to GDB: ${[...asked].join(', ') || 'none'}\n`);
      } finally {
        modules.close();
        await backend.close({ detach: true });
        held.kill('SIGKILL');
      }
    });
    test('by default GDB unwinds until Seam\'s answers are warm (learnt after the first stop, kept for the next session), except over a separate debug file', async () => {
      assert.ok(p, 'fixtures did not build');
      const saved = { unwind: process.env.SEAM_NATIVE_UNWIND, cache: process.env.SEAM_LAYOUT_CACHE };
      const dir = mkdtempSync(join(tmpdir(), 'seam-symcache-'));
      delete process.env.SEAM_NATIVE_UNWIND;
      process.env.SEAM_LAYOUT_CACHE = join(dir, 'layouts.json');
      const held = await startHeld(p, 'depth.py', ['40']);
      try {
        const ownFramesOf = async (backend: DebugBackend): Promise<boolean> => {
          const snap = await new StackService(backend, () => undefined, null).snapshot();
          const native = snap.threads[0].frames.filter((f) => f.native).map((f) => f.native!);
          assert.ok(native.length > 10, 'a native stack');
          return native.every((f) => f.sp !== undefined); // only Seam's frames carry sp
        };
        // An interpreter whose DWARF is a separate debug file (Debian's -dbg): Seam's from the
        // first stop, GDB being slower there.
        const modules = new ProcessModules(held.pid!);
        const interp = modules.find((path) => /\/libpython3/.test(path)) ?? modules.find((_, executable) => executable);
        const separate = !!interp?.debug && !interp.elf.hasDwarf();
        modules.close();
        const first = await createGdbBackend({});
        try {
          await first.attach(held.pid!);
          assert.equal(await ownFramesOf(first), separate, separate ? 'DWARF in a separate debug file: Seam\'s from the first stop' : 'a first session\'s first stop is GDB\'s');
          await (first as unknown as { native: SessionUnwinder }).native.whenLearnt();
          const stopped = waitStop(first);
          await first.continue();
          await first.pause();
          await stopped;
          assert.equal(await ownFramesOf(first), true, 'the next stop is Seam\'s');
        } finally {
          await first.close({ detach: true });
        }
        assert.ok(readdirSync(join(dir, 'symbols')).length > 0, 'answers saved at the end of the session');
        if (separate) process.stdout.write('# the interpreter\'s DWARF is a separate debug file: Seam unwound from the first stop\n');
        const later = await createGdbBackend({});
        try {
          await later.attach(held.pid!);
          assert.equal(await ownFramesOf(later), true, 'a later session starts warm');
          const gdb = (later as unknown as { gdb: Gdb }).gdb;
          const ours = await later.frames(1);
          const tail = await tailCallLevels(gdb, 1);
          const theirs = (await gdb.frames(1)).filter((f) => !tail.has(f.level))
            .map((f, i) => ({ ...f, level: i, func: f.func && isRustName(f.func) ? cleanRustName(f.func) : f.func }));
          assert.deepEqual(ours.map(line), theirs.map(line), 'answers from the cache are GDB\'s');
        } finally {
          await later.close({ detach: true });
        }
      } finally {
        held.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        if (saved.unwind === undefined) delete process.env.SEAM_NATIVE_UNWIND; else process.env.SEAM_NATIVE_UNWIND = saved.unwind;
        if (saved.cache === undefined) delete process.env.SEAM_LAYOUT_CACHE; else process.env.SEAM_LAYOUT_CACHE = saved.cache;
      }
    });
    test('a first session ever prepares while the program runs: its first pause is Seam\'s, frame for frame GDB\'s', async () => {
      assert.ok(p, 'fixtures did not build');
      const saved = { unwind: process.env.SEAM_NATIVE_UNWIND, cache: process.env.SEAM_LAYOUT_CACHE };
      delete process.env.SEAM_NATIVE_UNWIND;
      process.env.SEAM_LAYOUT_CACHE = '0'; // nothing from an earlier session
      const held = await startHeld(p, 'depth.py', ['40']);
      const backend = await createGdbBackend({});
      try {
        await backend.attach(held.pid!);
        const native = (backend as unknown as { native: SessionUnwinder }).native;
        await backend.continue();
        const prepared = await Promise.race([native.whenPrepared(), new Promise<'late'>((r) => setTimeout(() => r('late'), 20_000))]);
        assert.equal(prepared, true, 'prepared while the program ran');
        const stopped = waitStop(backend);
        await backend.pause();
        await stopped;
        const snap = await new StackService(backend, () => undefined, null).snapshot();
        const frames = snap.threads[0].frames.filter((f) => f.native).map((f) => f.native!);
        assert.ok(frames.length > 10 && frames.every((f) => f.sp !== undefined), 'the first stop unwound by Seam (only its frames carry sp)');
        assert.equal(snap.threads[0].frames.filter((f) => f.language === 'python').length, 40, 'every Python frame read');
        const gdb = (backend as unknown as { gdb: Gdb }).gdb;
        const tail = await tailCallLevels(gdb, 1);
        const theirs = (await gdb.frames(1)).filter((f) => !tail.has(f.level))
          .map((f, i) => ({ ...f, level: i, func: f.func && isRustName(f.func) ? cleanRustName(f.func) : f.func }));
        assert.deepEqual((await backend.frames(1)).map(line), theirs.map(line));
      } finally {
        await backend.close({ detach: true });
        held.kill('SIGKILL');
        if (saved.unwind === undefined) delete process.env.SEAM_NATIVE_UNWIND; else process.env.SEAM_NATIVE_UNWIND = saved.unwind;
        if (saved.cache === undefined) delete process.env.SEAM_LAYOUT_CACHE; else process.env.SEAM_LAYOUT_CACHE = saved.cache;
      }
    });
    test('over LLDB too: the same frames as over GDB, and a C frame\'s locals from LLDB\'s frame at that level', async () => {
      assert.ok(p, 'fixtures did not build');
      const held = await startHeld(p, 'depth.py', ['40']);
      try {
        const viaGdb = await createGdbBackend({});
        let gdbFrames: NativeFrame[];
        try {
          await viaGdb.attach(held.pid!);
          gdbFrames = await viaGdb.frames((await viaGdb.threads())[0].id);
        } finally {
          await viaGdb.close({ detach: true });
        }
        const viaLldb = await createLldbBackend({});
        try {
          await viaLldb.attach(held.pid!);
          const thread = (await viaLldb.threads()).find((t) => t.lwp === held.pid)!;
          // (LLDB's own frames differ: an inlined frame has the pc of its call site.)
          const ours = await viaLldb.frames(thread.id);
          assert.deepEqual(ours.map(line), gdbFrames.map(line));
          // A C frame's locals: those LLDB gives for its own frame of that function.
          const theirs = await (viaLldb as unknown as { lldbFrames(t: number): Promise<NativeFrame[]> }).lldbFrames(thread.id);
          let checked = 0;
          for (const f of ours.slice(0, 16)) {
            const names = (await viaLldb.locals(thread.id, f.level)).map((v) => v.name).sort();
            if (!names.length) continue;
            // The n-th frame of a function of ours is LLDB's n-th (its levels may differ: an LTO build's inlined frames).
            const nth = ours.slice(0, f.level).filter((x) => x.func === f.func).length;
            const same = theirs.filter((x) => x.func === f.func)[nth];
            assert.ok(same, `LLDB has ${f.func} (#${nth}) too`);
            const direct = (await (viaLldb as unknown as { dap: { request<T>(c: string, a: object): Promise<T> } }).dap.request<{ scopes: { name: string; variablesReference: number; presentationHint?: string }[] }>('scopes', { frameId: (viaLldb as unknown as { frameIds: Map<string, number> }).frameIds.get(`${thread.id}:${same.level}`) }));
            const scope = direct.scopes.find((x) => x.presentationHint === 'locals' || /^locals$/i.test(x.name))!;
            const theirNames = (await viaLldb.children(scope.variablesReference)).map((v) => v.name).sort();
            assert.deepEqual(names, theirNames, `the locals of ${f.func} at our level ${f.level} are LLDB's level ${same.level}'s`);
            checked++;
          }
          assert.ok(checked > 0, 'some C frame has locals');
        } finally {
          await viaLldb.close({ detach: true });
        }
      } finally {
        held.kill('SIGKILL');
      }
    });
    for (const s of SCENARIOS) {
      test(`${s.script}${s.args ? ' ' + s.args.join(' ') : ''}: every thread, frame for frame`, async () => {
        assert.ok(p, 'fixtures did not build');
        const stacks = await compare(p, s);
        assert.ok(stacks.length > 0, 'no threads');
        for (const { ours, gdbs, thread } of stacks) {
          // GDB's frames carry no sp/cfa; ours must, for every frame but the outermost.
          assert.ok(ours.slice(0, -1).every((f) => f.sp !== undefined), `thread ${thread}: a frame without sp`);
          const a = ours.map(line), b = gdbs.map(line);
          assert.deepEqual(a, b, `thread ${thread}: Seam's frames differ from GDB's`);
        }
      });
    }
  });
}
