/**
 * Fuzzing the DAP message layer through real adapter processes (`node dist/adapter.js`, whose
 * framing is @vscode/debugadapter's ProtocolServer: `Content-Length: N\r\n\r\n` + JSON):
 *
 * - random requests, well framed: every command Seam implements (and made-up ones) with random,
 *   missing and wrongly typed arguments, random `seq`s, stray responses and events. Each request
 *   gets a response, the adapter never dies, and afterwards still initialises and ends cleanly.
 *   Launch and attach are fuzzed too, with the debugger and interpreter paths forced to missing
 *   ones so nothing real is started.
 * - garbage framing, one fresh adapter per case: random bytes, cut frames, bad Content-Length
 *   headers, bodies that are not JSON or not objects. The adapter must neither crash nor spin;
 *   after a complete (if meaningless) frame it must still answer a valid request; when its stdin
 *   closes it must exit within a few seconds.
 *
 * Seeded (SEAM_FUZZ_SEED), fixed case counts (SEAM_FUZZ_SCALE multiplies), printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { FUZZ_SCALE, FUZZ_SEED } from './fuzz/runner';
import { alive, killQuietly, record, REPO } from './figures';

const ADAPTER = join(REPO, 'dist', 'adapter.js');
const RESPONSE_MS = 10_000;
const EXIT_MS = 5_000;

interface DapMessage { seq?: unknown; type?: unknown; request_seq?: unknown; command?: unknown; success?: unknown; message?: unknown; event?: unknown; body?: unknown }

/** An adapter process spoken to byte by byte: our own framing, so we can send anything. */
class RawAdapter {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly messages: DapMessage[] = [];
  stderr = '';
  private buf = Buffer.alloc(0);
  private waiters = new Set<() => void>();
  exit: { code: number | null; signal: string | null } | undefined;
  private exited: Promise<void>;

  constructor() {
    this.proc = spawn(process.execPath, [ADAPTER], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdin.on('error', () => undefined);
    this.proc.stdout.on('data', (d: Buffer) => this.onData(d));
    this.proc.stderr.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.exited = new Promise((r) => this.proc.on('exit', (code, signal) => { this.exit = { code, signal }; this.wake(); r(); }));
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /Content-Length: (\d+)/.exec(this.buf.subarray(0, end).toString('ascii'));
      assert.ok(m, `the adapter wrote a frame without Content-Length: ${this.buf.subarray(0, 200).toString()}`);
      const len = Number(m[1]);
      if (this.buf.length < end + 4 + len) return;
      this.messages.push(JSON.parse(this.buf.subarray(end + 4, end + 4 + len).toString('utf8')) as DapMessage);
      this.buf = this.buf.subarray(end + 4 + len);
      this.wake();
    }
  }

  write(bytes: Buffer | string): void {
    this.proc.stdin.write(bytes);
  }

  send(msg: unknown): void {
    const body = Buffer.from(JSON.stringify(msg), 'utf8');
    this.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]));
  }

  /** The first message after index `from` that satisfies `pred`. */
  next(from: number, pred: (m: DapMessage) => boolean, ms: number, what: string): Promise<DapMessage> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = this.messages.slice(from).find(pred);
        if (hit) { done(); resolve(hit); } else if (this.exit) { done(); reject(new Error(`${what}: the adapter exited (${JSON.stringify(this.exit)}); stderr: ${this.stderr.slice(-2000)}`)); }
      };
      const timer = setTimeout(() => { done(); reject(new Error(`${what}: no answer within ${ms} ms; stderr: ${this.stderr.slice(-2000)}`)); }, ms);
      const done = (): void => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /** A valid request; resolves with its response. */
  async request(seq: number, command: string, args: unknown): Promise<DapMessage> {
    const from = this.messages.length;
    this.send({ seq, type: 'request', command, arguments: args });
    return this.next(from, (m) => m.type === 'response' && m.request_seq === seq, RESPONSE_MS, `${command} (seq ${seq})`);
  }

  /** Closes stdin; resolves with how long the adapter took to exit (rejects when it does not). */
  async closeAndWait(): Promise<number> {
    const t0 = Date.now();
    this.proc.stdin.end();
    const gone = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), EXIT_MS).unref())]);
    if (!gone) {
      killQuietly(this.proc.pid);
      throw new Error(`the adapter did not exit within ${EXIT_MS} ms of its stdin closing`);
    }
    return Date.now() - t0;
  }
}

/** No uncaught exception printed by Node (a crash) in the adapter's stderr. */
function assertNoCrash(a: RawAdapter, what: string): void {
  assert.doesNotMatch(a.stderr, /Uncaught|TypeError|RangeError|ReferenceError|SyntaxError|FATAL|\n\s+at .*\.js:\d+/, `${what}: stderr shows a crash:\n${a.stderr.slice(-3000)}`);
}

const COMMANDS = [
  'initialize', 'launch', 'attach', 'configurationDone', 'setBreakpoints', 'setFunctionBreakpoints', 'setExceptionBreakpoints',
  'exceptionInfo', 'threads', 'stackTrace', 'scopes', 'variables', 'evaluate', 'continue', 'next', 'stepIn', 'stepOut', 'pause',
  'terminate', 'source', 'setVariable', 'restart', 'loadedSources', 'completions', 'goto', 'dataBreakpointInfo', 'readMemory', 'disassemble',
];

const anyJson = fc.jsonValue({ maxDepth: 3 });
const weirdNumber = fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, 1.5, Number.MAX_SAFE_INTEGER), fc.double());
const weirdString = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', '\n', '${workspaceFolder}', '$(touch /tmp/seam-dap-fuzz-pwned)', '../../../etc/passwd', 'a'.repeat(5000)));
const field = fc.oneof(weirdNumber, weirdString, fc.boolean(), fc.constant(null), anyJson);

/** Arguments shaped like the real ones with random values, or not shaped at all. */
const argsArb = fc.oneof(
  { weight: 3, arbitrary: fc.record({
    threadId: field, frameId: field, variablesReference: field, levels: field, startFrame: field, expression: field, context: field,
    source: fc.oneof(field, fc.record({ path: field, name: field, sourceReference: field })),
    breakpoints: fc.oneof(field, fc.array(fc.record({ line: field, condition: field, hitCondition: field, logMessage: field, name: field }), { maxLength: 4 })),
    filters: fc.oneof(field, fc.array(weirdString, { maxLength: 3 })),
    program: field, module: field, args: fc.oneof(field, fc.array(weirdString, { maxLength: 3 })), cwd: field, env: field,
    processId: field, coreFile: field, debugger: fc.oneof(fc.constantFrom('gdb', 'lldb', 'auto'), weirdString), showGlue: field, stopOnEntry: field,
    linesStartAt1: field, pathFormat: fc.oneof(fc.constant('path'), weirdString), adapterID: field, terminateDebuggee: field,
  }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: anyJson },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

interface RandomMessage { kind: 'request' | 'response' | 'event'; command: string; args: unknown; seq: unknown }
const messageArb: fc.Arbitrary<RandomMessage> = fc.record({
  kind: fc.constantFrom('request' as const, 'request' as const, 'request' as const, 'request' as const, 'response' as const, 'event' as const),
  command: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...COMMANDS) }, { weight: 1, arbitrary: weirdString }),
  args: argsArb,
  seq: fc.oneof({ weight: 5, arbitrary: fc.constant('auto') }, { weight: 1, arbitrary: field }),
});

/** Nothing real may start: launch/attach always name missing debuggers and interpreters, no log file. */
function defang(m: RandomMessage): RandomMessage {
  if (m.command !== 'launch' && m.command !== 'attach') return m;
  const a = (m.args && typeof m.args === 'object' && !Array.isArray(m.args) ? { ...(m.args as Record<string, unknown>) } : {});
  Object.assign(a, { gdbPath: '/nonexistent/gdb', lldbDapPath: '/nonexistent/lldb-dap', python: '/nonexistent/python3', processId: 999_999_999, coreFile: '/nonexistent/core' });
  delete a.logFile;
  return { ...m, args: a };
}

test('DAP: random requests through a real adapter are each answered; the adapter survives and still works', { timeout: 300_000 }, async (t) => {
  assert.ok(existsSync(ADAPTER), `${ADAPTER} missing: run node scripts/build.mjs`);
  const n = Math.max(1, Math.round(2_000 * FUZZ_SCALE));
  const cases = fc.sample(messageArb, { seed: FUZZ_SEED, numRuns: n }).map(defang);
  const a = new RawAdapter();
  let answered = 0, failed = 0, internal = 0, silent = 0, seq = 1;
  const internals = new Set<string>();
  const t0 = Date.now();
  try {
    for (const [i, c] of cases.entries()) {
      const mySeq = seq++;
      const sentSeq = c.seq === 'auto' ? mySeq : c.seq;
      const msg: Record<string, unknown> = { seq: sentSeq, type: c.kind, command: c.command };
      if (c.args !== undefined) msg.arguments = c.args;
      if (c.kind === 'event') { msg.event = c.command; delete msg.command; }
      const from = a.messages.length;
      a.send(msg);
      if (c.kind !== 'request') { silent++; continue; }
      const r = await a.next(from, (m) => m.type === 'response' && JSON.stringify(m.request_seq) === JSON.stringify(sentSeq) && m.command === c.command, RESPONSE_MS,
        `case ${i}: ${JSON.stringify(msg).slice(0, 400)}`);
      answered++;
      if (r.success !== true) {
        failed++;
        if (/internal error/.test(String(r.message))) { internal++; internals.add(`${c.command}: ${String(r.message).slice(0, 120)}`); }
      }
      assert.ok(alive(a.proc.pid!), `case ${i}: the adapter died`);
    }
    // Still a working adapter: a clean initialize, then it ends when its client goes.
    const init = await a.request(seq++, 'initialize', { adapterID: 'seam', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
    assert.equal(init.success, true, JSON.stringify(init));
    assertNoCrash(a, 'random requests');
    const exitMs = await a.closeAndWait();
    const line = `fuzz dap-requests: ${n} messages (${answered} requests answered: ${answered - failed} ok, ${failed} errors of which ${internal} "internal error"; ${silent} stray responses/events), seed ${FUZZ_SEED}, adapter exit ${exitMs} ms after stdin closed, ${((Date.now() - t0) / 1000).toFixed(1)} s`;
    t.diagnostic(line);
    if (internals.size) t.diagnostic(`internal errors (garbage arguments reported as internal errors, not crashes): ${[...internals].slice(0, 12).join(' | ')}`);
    console.log(line);
    record({ kind: 'fuzz', name: 'dap-requests', cases: n, answered, errors: failed, internalErrors: internal, internalCommands: [...new Set([...internals].map((s) => s.split(':')[0]))], seed: FUZZ_SEED, ok: true });
  } finally {
    killQuietly(a.proc.pid);
  }
});

type FrameCase =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'cut'; at: number }
  | { kind: 'header'; header: string; body: string }
  | { kind: 'body'; body: string };

const VALID = JSON.stringify({ seq: 1, type: 'request', command: 'threads' });
const frameArb: fc.Arbitrary<FrameCase> = fc.oneof(
  fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 4096 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('header' as const),
    header: fc.oneof(
      fc.constantFrom('Content-Length: -1', 'Content-Length: abc', 'Content-Length: 1e3', 'content-length: 5', 'Content-Length:5', 'Content-Length: 99999999999',
        'Content-Length: 0', 'Content-Length: 3.5', 'Content-Type: application/json', '', 'Content-Length: 2\r\nContent-Length: 2000'),
      fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => s.replace(/\r\n\r\n/g, '')),
    ),
    body: fc.oneof(fc.constant(VALID), fc.string({ unit: 'binary', maxLength: 200 })),
  }),
  fc.record({
    kind: fc.constant('body' as const),
    body: fc.oneof(
      fc.constantFrom('null', '1', '"s"', '[]', '{}', '{"type":"request"}', '{"type":"request","command":5}', '{"type":"request","command":"threads","seq":"x"}',
        '{"type":"response","request_seq":1}', '{"type":"request","command":"__proto__"}', '{"type":"request","command":"constructor"}', '{', '\u0000', 'x'.repeat(100_000)),
      fc.string({ unit: 'binary', maxLength: 300 }),
      anyJson.map((j) => JSON.stringify(j) ?? 'null'),
    ),
  }),
);

function frameBytes(c: FrameCase): { bytes: Buffer; complete: boolean } {
  const frame = (h: string, b: string) => Buffer.concat([Buffer.from(`${h}\r\n\r\n`), Buffer.from(b, 'utf8')]);
  switch (c.kind) {
    case 'bytes': return { bytes: Buffer.from(c.bytes), complete: false };
    case 'cut': { const f = frame(`Content-Length: ${Buffer.byteLength(VALID)}`, VALID); return { bytes: f.subarray(0, c.at % f.length), complete: false }; }
    case 'header': return { bytes: frame(c.header, c.body), complete: false };
    case 'body': return { bytes: frame(`Content-Length: ${Buffer.byteLength(c.body)}`, c.body), complete: true };
  }
}

test('DAP: garbage framing never crashes or wedges a fresh adapter', { timeout: 300_000 }, async (t) => {
  const n = Math.max(1, Math.round(60 * FUZZ_SCALE));
  const cases = fc.sample(frameArb, { seed: FUZZ_SEED + 1, numRuns: n });
  let resynced = 0, maxExitMs = 0;
  const t0 = Date.now();
  for (const [i, c] of cases.entries()) {
    const { bytes, complete } = frameBytes(c);
    const a = new RawAdapter();
    const what = `case ${i} (${c.kind}): ${JSON.stringify(bytes.subarray(0, 300).toString('latin1'))}`;
    try {
      a.write(bytes);
      if (complete) {
        // A whole frame, however meaningless, leaves the stream in step: the next request is answered.
        const r = await a.request(1000 + i, 'initialize', { adapterID: 'seam', pathFormat: 'path' });
        assert.equal(r.success, true, `${what}: ${JSON.stringify(r)}`);
        resynced++;
      } else {
        await new Promise((r) => setTimeout(r, 30));
      }
      assert.ok(!a.exit, `${what}: the adapter exited (${JSON.stringify(a.exit)}): ${a.stderr.slice(-2000)}`);
      assertNoCrash(a, what);
      maxExitMs = Math.max(maxExitMs, await a.closeAndWait());
      assert.equal((a.exit as RawAdapter['exit'])?.code, 0, `${what}: exit ${JSON.stringify(a.exit)}: ${a.stderr.slice(-2000)}`);
    } finally {
      killQuietly(a.proc.pid);
    }
  }
  const line = `fuzz dap-framing: ${n} garbage streams, each to a fresh adapter (${resynced} complete frames followed by a request that was answered), seed ${FUZZ_SEED + 1}, slowest exit after stdin closed ${maxExitMs} ms, ${((Date.now() - t0) / 1000).toFixed(1)} s`;
  t.diagnostic(line);
  console.log(line);
  record({ kind: 'fuzz', name: 'dap-framing', cases: n, resynced, maxExitMs, seed: FUZZ_SEED + 1, ok: true });
});
