/**
 * The GDB backend against a real GDB (13 here) on a small C program this test compiles itself
 * (`gcc -g -O0`) into a temporary directory whose path holds a space. Expected lines come from
 * `#TAG` comments in the source, never from numbers. Every process is bounded and killed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gdb } from '../../src/debug/gdb/gdb';
import { GdbCommandError, GdbConnection, GdbExitedError, GdbNotFoundError, GdbTimeoutError, type GdbEvents } from '../../src/debug/gdb/connection';
import { GdbMemory, GdbSymbols } from '../../src/debug/gdb/memory';
import { MemoryError } from '../../src/debug/types';
import * as mi from '../../src/debug/mi/commands';

const SOURCE = `#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long counter = 5;
struct pair { long a; long b; };
struct pair the_pair = { 11, 22 };

static void *idle(void *arg) { (void)arg; for (;;) pause(); return NULL; }

int work(int n) {
  int doubled = n * 2; /* #BP_WORK */
  counter += doubled;
  return doubled;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc > 1 && strcmp(argv[1], "segv") == 0) { volatile int *p = NULL; *p = 1; /* #SEGV */ }
  if (argc > 1 && strcmp(argv[1], "wait") == 0) { printf("ready\\n"); for (;;) pause(); }
  pthread_t t; pthread_create(&t, NULL, idle, NULL);
  for (int i = 1; i < argc; i++) printf("%d:%s\\n", (int)strlen(argv[i]), argv[i]);
  char cwd[4096];
  printf("cwd=%s\\n", getcwd(cwd, sizeof cwd));
  printf("env=%s\\n", getenv("SEAM_TEST_ENV") ? getenv("SEAM_TEST_ENV") : "(unset)");
  fprintf(stderr, "h\\u00e9llo stderr\\n");
  work(21); /* #CALL_WORK */
  return 10;
}
`;

function lineOf(tag: string): number {
  const i = SOURCE.split('\n').findIndex((l) => l.includes(`/* ${tag} */`));
  assert.ok(i >= 0, `tag ${tag}`);
  return i + 1;
}

let dir = '';
let program = '';
const children: ChildProcess[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'seam gdb-'));
  writeFileSync(join(dir, 'prog.c'), SOURCE);
  program = join(dir, 'prog');
  execFileSync('gcc', ['-g', '-O0', '-pthread', join(dir, 'prog.c'), '-o', program], { timeout: 60_000 });
});

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `fn` with a fresh GDB, always ended afterwards; the MI traffic is kept for failures. */
async function withGdb<T>(fn: (gdb: Gdb, traffic: string[]) => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const traffic: string[] = [];
  const gdb = await Gdb.start({ timeoutMs, log: (d, l) => traffic.push(`${d === 'in' ? '>' : '<'} ${l}`) });
  try {
    return await fn(gdb, traffic);
  } catch (e) {
    (e as Error).message += `\n--- MI traffic (last 40 lines) ---\n${traffic.slice(-40).join('\n')}`;
    throw e;
  } finally {
    await gdb.exit(3000);
  }
}

function collectOutput(gdb: Gdb): Record<GdbEvents['output']['category'], string> {
  const out = { console: '', target: '', log: '', stdout: '', stderr: '' };
  gdb.on('output', (e) => { out[e.category] += e.text; });
  return out;
}

const TRICKY_ARGS = ['with space', 'double"quote', "single'quote", '$(echo injected)', '`echo no`', 'line1\nline2', '', 'back\\slash', 'ünï ✓', '*'];

test('launch: verbatim arguments, cwd and env, output events, breakpoint, threads, frames, locals, evaluate, memory, exit code', { timeout: 60_000 }, async () => {
  await withGdb(async (gdb) => {
    const out = collectOutput(gdb);
    await gdb.connection.run(mi.fileExecAndSymbols(program));
    const bp = await gdb.insertBreakpoint({ location: { function: 'work' } });
    assert.equal(bp.verified, true);
    assert.equal(bp.line, lineOf('#BP_WORK'));
    assert.ok(bp.fullname?.endsWith('prog.c'));
    const rust = await gdb.insertBreakpoint({ location: { function: 'mycrate::engine::leaf' } });
    assert.deepEqual([rust.pending, rust.verified], [true, false]);
    const byLine = await gdb.insertBreakpoint({ location: { file: join(dir, 'prog.c'), line: lineOf('#CALL_WORK') }, condition: 'argc > 1' });
    assert.equal(byLine.line, lineOf('#CALL_WORK'));

    const firstStop = gdb.waitForStop();
    await gdb.launch({ program, args: TRICKY_ARGS, cwd: dir, env: { SEAM_TEST_ENV: 'v a"l $HOME' } });
    const s1 = await firstStop;
    assert.equal(s1.reason, 'breakpoint-hit');
    assert.equal(s1.breakpointId, byLine.id);
    await gdb.deleteBreakpoint(byLine.id);
    const secondStop = gdb.waitForStop();
    await gdb.continue();
    const stop = await secondStop;
    assert.equal(stop.reason, 'breakpoint-hit');
    assert.equal(stop.breakpointId, bp.id);
    assert.equal(stop.frame?.func, 'work');
    assert.equal(stop.frame?.line, lineOf('#BP_WORK'));

    // The program's own streams, apart from MI and from each other.
    const expected = TRICKY_ARGS.map((a) => `${Buffer.byteLength(a)}:${a}\n`).join('') + `cwd=${dir}\nenv=v a"l $HOME\n`;
    assert.equal(out.stdout, expected);
    assert.equal(out.stderr, 'h\u00e9llo stderr\n');
    assert.ok(!out.console.includes('with space'), 'program output is not in the MI console stream');

    const threads = await gdb.threads();
    assert.equal(threads.length, 2);
    const groups = await gdb.connection.run(mi.listThreadGroups());
    const pid = groups[0].pid!;
    assert.ok(threads.some((t) => t.lwp === pid), 'the main thread has LWP = pid');
    assert.ok(threads.every((t) => t.frames.length === 0 && typeof t.lwp === 'number'));
    const tid = stop.threadId!;

    const frames = await gdb.frames(tid);
    assert.deepEqual(frames.slice(0, 2).map((f) => [f.level, f.func, f.line]), [[0, 'work', lineOf('#BP_WORK')], [1, 'main', lineOf('#CALL_WORK')]]);
    assert.equal(frames[0].fullname, join(dir, 'prog.c'));
    assert.equal(typeof frames[0].pc, 'bigint');

    const spc = await gdb.frameSpCfa(tid, [0, 1]);
    assert.ok(spc[0].sp !== undefined && spc[0].cfa !== undefined && spc[0].sp < spc[0].cfa, JSON.stringify(spc, (_, v) => typeof v === 'bigint' ? v.toString(16) : v));
    assert.equal(spc[0].cfa, spc[1].sp);
    const outermost = frames[frames.length - 1].level;
    assert.equal((await gdb.frameSpCfa(tid, [outermost]))[0].cfa, undefined, 'the outermost frame has no caller');

    const locals = await gdb.locals(tid, 0);
    assert.deepEqual(locals.find((v) => v.name === 'n'), { name: 'n', isArg: true, type: 'int', value: '21' });
    assert.ok(locals.some((v) => v.name === 'doubled' && !v.isArg));
    assert.equal(await gdb.evaluate('n * 2', tid, 0), '42');
    assert.equal(await gdb.evaluate('argc', tid, 1), String(TRICKY_ARGS.length + 1));
    await assert.rejects(gdb.evaluate('no_such_thing', tid, 0), GdbCommandError);

    // Symbols and memory.
    const symbols = new GdbSymbols(gdb.connection);
    const counterAddr = await symbols.address('counter');
    assert.ok(counterAddr !== undefined && counterAddr > 0n);
    assert.equal(await symbols.address('no_such_global'), undefined);
    assert.equal(await symbols.offsetOf('struct pair', 'b'), 8);
    assert.equal(await symbols.sizeOf('struct pair'), 16);
    assert.match(await gdb.connection.run(mi.gdbShow('language')), /^auto/, 'the language is set back after symbol queries');
    const pairAddr = (await symbols.address('the_pair'))!;

    const memory = new GdbMemory(gdb.connection);
    const readLong = async (a: bigint) => Buffer.from(await memory.read(a, 8)).readBigInt64LE();
    assert.equal(await readLong(counterAddr), 5n);
    assert.equal(await readLong(pairAddr + 8n), 22n);
    const readsBefore = memory.reads;
    assert.equal(await readLong(pairAddr), 11n);
    assert.equal(memory.reads, readsBefore, 'served from the page cache');
    const pageStart = counterAddr & ~0xfffn;
    // Crosses into the next page: read whole when that page is mapped, else a clean MemoryError
    // (with address-space randomization the data segment's last page may have nothing after it).
    const nextPage = pageStart + 4096n;
    const nextMapped = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').some((l) => {
      const m = /^([0-9a-f]+)-([0-9a-f]+) r/.exec(l);
      return m !== null && BigInt(`0x${m[1]}`) <= nextPage && nextPage < BigInt(`0x${m[2]}`);
    });
    if (nextMapped) assert.equal((await memory.read(pageStart + 4090n, 12)).length, 12);
    else await assert.rejects(memory.read(pageStart + 4090n, 12), MemoryError);
    await assert.rejects(memory.read(0n, 8), MemoryError);
    // Three pages of libc's text in one -data-read-memory-bytes, equal to an exact read.
    const text = ((await symbols.address('printf'))! & ~0xfffn) + 0x10n;
    const before3 = memory.reads;
    const three = await memory.read(text, 3 * 4096 - 0x20);
    assert.equal(memory.reads, before3 + 1);
    const [exact] = await gdb.connection.run(mi.dataReadMemoryBytes(text, three.length));
    assert.deepEqual(three, exact.contents);

    // Step out of work: counter changed, and the cache was dropped on resume.
    const finished = gdb.waitForStop();
    await gdb.finish(tid);
    assert.equal((await finished).reason, 'function-finished');
    assert.equal(await readLong(counterAddr), 5n + 42n);

    const exited = gdb.waitForStop((e) => e.reason?.startsWith('exited') ?? false);
    await gdb.continue();
    const ex = await exited;
    assert.equal(ex.exitCode, 10);
    assert.equal(gdb.exitCode, 10);
    assert.equal(await gdb.programExit(), 10);
    assert.equal(out.stdout, expected, 'nothing else printed');
  });
});

test('SIGSEGV is reported with the signal and the faulting line; its core file loads', { timeout: 30_000 }, async () => {
  const core = join(dir, 'core of prog');
  await withGdb(async (gdb) => {
    const stopped = gdb.waitForStop();
    await gdb.launch({ program, args: ['segv'] });
    const s = await stopped;
    assert.equal(s.reason, 'signal-received');
    assert.equal(s.signalName, 'SIGSEGV');
    assert.equal(s.signalMeaning, 'Segmentation fault');
    assert.equal(s.frame?.func, 'main');
    assert.equal(s.frame?.line, lineOf('#SEGV'));
    await gdb.connection.run(mi.generateCoreFile(core));
    await gdb.kill();
  });
  await withGdb(async (gdb) => {
    await gdb.loadCore(core, program);
    const [thread] = await gdb.threads();
    const frames = await gdb.frames(thread.id);
    assert.deepEqual([frames[0].func, frames[0].line], ['main', lineOf('#SEGV')]);
    const symbols = new GdbSymbols(gdb.connection);
    const memory = new GdbMemory(gdb.connection);
    const pair = (await symbols.address('the_pair'))!;
    assert.equal(Buffer.from(await memory.read(pair, 16)).readBigInt64LE(8), 22n);
  });
});

test('interrupt a running program; stop at entry', { timeout: 30_000 }, async () => {
  await withGdb(async (gdb) => {
    const ready = new Promise<void>((resolve) => gdb.on('output', (e) => { if (e.category === 'stdout' && e.text.includes('ready')) resolve(); }));
    await gdb.launch({ program, args: ['wait'], stopAtEntry: true });
    const frames = await gdb.frames((await gdb.threads())[0].id);
    assert.equal(frames[0].func, 'main');
    await gdb.continue();
    await ready;
    const stopped = gdb.waitForStop();
    await gdb.interrupt();
    const s = await stopped;
    assert.equal(s.signalName, 'SIGINT');
    await gdb.kill();
  });
});

test('attach to a running process by pid, read its stack, detach leaving it running', { timeout: 30_000 }, async () => {
  const child = spawn(program, ['wait'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the program did not print ready')), 10_000);
      child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) { clearTimeout(t); resolve(); } });
      child.once('exit', () => reject(new Error('the program exited')));
    });
    await withGdb(async (gdb) => {
      await gdb.attach(child.pid!, program);
      const threads = await gdb.threads();
      assert.equal(threads[0].lwp, child.pid);
      const frames = await gdb.frames(threads[0].id);
      assert.ok(frames.some((f) => f.func === 'main'), frames.map((f) => f.func).join(' '));
      await gdb.detach();
    });
    // Still alive and not stopped (state R or S, not t/T).
    const state = readFileSync(`/proc/${child.pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];
    assert.ok('RS'.includes(state), `state ${state}`);
    assert.equal(child.exitCode, null);
  } finally {
    child.kill('SIGKILL');
  }
});

test('a hung command times out naming it; the connection stays usable', { timeout: 30_000 }, async () => {
  await withGdb(async (gdb) => {
    const slow = mi.interpreterExecConsole('python import time; time.sleep(1.5)');
    const err = await gdb.connection.run(slow, { timeoutMs: 100 }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof GdbTimeoutError, String(err));
    assert.equal(err.command, slow.text);
    assert.match(err.message, /time\.sleep/);
    assert.match(err.stack ?? '', /gdb\.test/, 'the stack points at the caller');
    // The late reply is dropped; the next command gets its own answer.
    assert.match(await gdb.connection.run(mi.gdbShow('confirm')), /off/);
  });
});

test('GDB killed mid-command: pending and later commands reject with GdbExitedError', { timeout: 30_000 }, async () => {
  const conn = await GdbConnection.start();
  try {
    const gone = conn.waitFor('gdb-exit');
    const pending = conn.run(mi.interpreterExecConsole('python import time; time.sleep(20)'));
    process.kill(conn.pid!, 'SIGKILL');
    await assert.rejects(pending, (e: unknown) => e instanceof GdbExitedError && /time\.sleep/.test(e.message) && /SIGKILL/.test(e.message));
    await gone;
    await assert.rejects(conn.run(mi.gdbShow('version')), GdbExitedError);
  } finally {
    conn.kill();
  }
});

test('a missing gdb gives GdbNotFoundError with the message the user reads', async () => {
  await assert.rejects(Gdb.start({ gdbPath: join(dir, 'no-such-gdb') }), (e: unknown) =>
    e instanceof GdbNotFoundError && e.message === 'gdb not found: install gdb or set `seam.gdbPath`');
});
