/**
 * Python breakpoints and stepping across the Python/Rust boundary in a real VS Code (issue 4 §7):
 * the sample workspace's "Seam: sample stack" configuration runs sample/stack_demo.py with a
 * breakpoint on the Python line that calls the PyO3 function `sample._engine.leaf` (tag
 * CALL_LEAF). The session must stop there, a step in must land on the first line of leaf's Rust
 * body in engine/src/lib.rs (not in PyO3's trampolines), and a step out must come back to a Python
 * line of stack_demo.py. Each stop is checked through the API (customRequest stackTrace); the
 * runner saves screenshots `python-breakpoint` and `stepped-into-rust` (test-output/e2e/).
 *
 * The runner (scripts/e2e.mjs) builds the sample's native modules and sets SEAM_SAMPLE_PYTHON /
 * SEAM_SAMPLE_PYTHONPATH, which the launch configuration reads. Waits are on DAP events seen by a
 * DebugAdapterTracker, each bounded by a timeout that fails with what the session printed and the
 * last DAP messages; before a screenshot, on VS Code's own requests for the rest of the stack and
 * the Variables view (it sends them ~0.4 s after the top frame). The only fixed waits are the
 * screenshots' settle time.
 */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { tagLine } from '../../debug/fixtures';
import { lineOf, localPath, withTimeout } from './debugHelpers';

const EXTENSION_ID = 'seam-dev.seam';
const CONFIG_NAME = 'Seam: sample stack';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 30_000;
const END_TIMEOUT_MS = 30_000;
const SCREENSHOT_SETTLE_MS = 1_500;

interface DapMessage {
  type: string;
  seq?: number;
  request_seq?: number;
  event?: string;
  command?: string;
  success?: boolean;
  message?: string;
  body?: { threadId?: number; reason?: string; description?: string; category?: string; output?: string; exitCode?: number };
}

interface DapFrame {
  id: number;
  name: string;
  line: number;
  source?: { name?: string; path?: string };
}

interface Stop { threadId: number; reason?: string; description?: string }

/** Every stop of one seam session, in order, and what it printed. */
class Watch {
  readonly output: string[] = [];
  readonly stops: Stop[] = [];
  /** The DAP traffic, both ways, one short line per message (the transcript's tail). */
  readonly traffic: string[] = [];
  ended?: string;
  private taken = 0;
  private readonly t0 = Date.now();
  private t(): string {
    return `+${Date.now() - this.t0}ms`;
  }
  private waiters: (() => void)[] = [];

  /** VS Code's own refresh after the latest stop: the rest of the stack and the Variables view. */
  private refreshed = { rest: false, variables: false };
  private readonly asked = new Map<number, string>();

  onRequest(m: DapMessage & { arguments?: { startFrame?: number } }): void {
    if (m.type !== 'request') return;
    if (m.seq !== undefined) {
      const kind = m.command === 'stackTrace' && (m.arguments?.startFrame ?? 0) > 0 ? 'rest' : m.command === 'variables' ? 'variables' : '';
      if (kind) this.asked.set(m.seq, kind);
    }
    this.traffic.push(`${this.t()} -> ${m.command} ${JSON.stringify(m.arguments ?? {}).slice(0, 160)}`);
  }

  onMessage(m: DapMessage): void {
    if (m.type !== 'event' || m.event !== 'output') {
      this.traffic.push(`${this.t()} <- ${m.type} ${m.event ?? m.command ?? ''} ${m.type === 'response' ? (m.success ? 'ok' : `FAILED ${m.message}`) : JSON.stringify(m.body ?? {}).slice(0, 160)}`);
    }
    if (m.type === 'response' && m.request_seq !== undefined && m.success) {
      const kind = this.asked.get(m.request_seq);
      this.asked.delete(m.request_seq);
      if (kind === 'rest') this.refreshed.rest = true;
      if (kind === 'variables') this.refreshed.variables = true;
    }
    if (m.type === 'event' && m.event === 'stopped') {
      this.refreshed = { rest: false, variables: false };
      this.asked.clear();
      this.stops.push({ threadId: m.body?.threadId ?? 0, reason: m.body?.reason, description: m.body?.description });
    } else if (m.type === 'event' && m.event === 'output' && m.body?.output) {
      this.output.push(`[${m.body.category ?? 'console'}] ${m.body.output.trimEnd()}`);
    } else if (m.type === 'event' && (m.event === 'terminated' || m.event === 'exited')) {
      this.ended ??= m.event === 'exited' ? `exited with ${m.body?.exitCode}` : 'terminated';
    } else if (m.type === 'response' && m.success === false) {
      this.output.push(`[error] ${m.command}: ${m.message}`);
    }
    for (const w of [...this.waiters]) w();
  }

  end(why: string): void {
    this.ended ??= why;
    for (const w of [...this.waiters]) w();
  }

  /** The next stop not yet taken; null when the session ended first. */
  nextStop(): Promise<Stop | null> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        if (this.taken < this.stops.length) {
          resolve(this.stops[this.taken++]);
          return true;
        }
        if (this.ended) {
          resolve(null);
          return true;
        }
        return false;
      };
      if (check()) return;
      const waiter = (): void => {
        if (check()) this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves once VS Code has fetched the rest of the stack and the Variables view's variables
   *  for the latest stop (it asks ~0.4 s after the top frame), so a screenshot shows this stop. */
  viewsRefreshed(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const done = (this.refreshed.rest && this.refreshed.variables) || this.ended !== undefined;
        if (done) resolve();
        return done;
      };
      if (check()) return;
      const waiter = (): void => {
        if (check()) this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      this.waiters.push(waiter);
    });
  }

  transcript(): string {
    const tail = this.output.slice(-30);
    const said = tail.length ? `\nthe session said:\n  ${tail.join('\n  ')}` : '\n(the session printed nothing)';
    return `${said}\nthe last DAP messages:\n  ${this.traffic.slice(-40).join('\n  ')}`;
  }
}

describe('Python breakpoints and stepping into Rust in VS Code', () => {
  const disposables: vscode.Disposable[] = [];
  let breakpoints: vscode.Breakpoint[] = [];
  let session: vscode.DebugSession | undefined;

  after(async () => {
    vscode.debug.removeBreakpoints(breakpoints);
    if (session && vscode.debug.activeDebugSession?.id === session.id) await vscode.debug.stopDebugging(session);
    for (const d of disposables) d.dispose();
  });

  it('stops at a .py breakpoint, steps into the PyO3 leaf in lib.rs and out back to Python', async function () {
    this.timeout(START_TIMEOUT_MS + STOP_TIMEOUT_MS + 3 * STEP_TIMEOUT_MS + END_TIMEOUT_MS + 30_000);
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
    await ext.activate();
    assert.ok(process.env.SEAM_SAMPLE_PYTHON, 'SEAM_SAMPLE_PYTHON is not set: scripts/e2e.mjs builds the sample and sets it');
    assert.ok(process.env.SEAM_SAMPLE_PYTHONPATH, 'SEAM_SAMPLE_PYTHONPATH is not set: scripts/e2e.mjs sets it');
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'no workspace folder open');

    const root = folder.uri.fsPath;
    const script = join(root, 'sample', 'stack_demo.py');
    const libRs = join(root, 'engine', 'src', 'lib.rs');
    const callLeaf = tagLine(script, 'CALL_LEAF');
    const leafBody = lineOf(libRs, 'let doubled = x * 2;');

    const watch = new Watch();
    disposables.push(vscode.debug.registerDebugAdapterTrackerFactory('seam', {
      createDebugAdapterTracker: () => ({
        onDidSendMessage: (m: DapMessage) => watch.onMessage(m),
        onWillReceiveMessage: (m: DapMessage) => watch.onRequest(m),
        onError: (e: Error) => watch.output.push(`[tracker error] ${e.message}`),
        onExit: (code?: number, signal?: string) => watch.end(`the adapter exited (${code ?? signal})`),
      }),
    }));
    let started: vscode.DebugSession | undefined;
    disposables.push(vscode.debug.onDidStartDebugSession((s) => {
      if (s.type === 'seam') started ??= s;
    }));
    const terminated = new Promise<void>((resolve) => {
      disposables.push(vscode.debug.onDidTerminateDebugSession((s) => {
        if (s.id === started?.id) resolve();
      }));
    });

    breakpoints = [new vscode.SourceBreakpoint(new vscode.Location(vscode.Uri.file(script), new vscode.Position(callLeaf - 1, 0)))];
    vscode.debug.addBreakpoints(breakpoints);

    const ok = await withTimeout(vscode.debug.startDebugging(folder, CONFIG_NAME), START_TIMEOUT_MS,
      `startDebugging("${CONFIG_NAME}")`, () => watch.transcript());
    assert.ok(ok, `startDebugging("${CONFIG_NAME}") returned false${watch.transcript()}`);
    const s = started;
    assert.ok(s, 'startDebugging succeeded but no seam session started');
    session = s;

    /** The merged stack of `stop`'s thread, logged. */
    const stack = async (stop: Stop, what: string): Promise<{ frames: DapFrame[]; shown: string }> => {
      const r = await withTimeout(s.customRequest('stackTrace', { threadId: stop.threadId, startFrame: 0, levels: 200 }) as Thenable<{ stackFrames: DapFrame[] }>,
        30_000, `the stackTrace request ${what}`, () => watch.transcript());
      const shown = r.stackFrames.map((f) => `${f.name} ${localPath(f.source?.path) ?? '-'}:${f.line}`).join('\n  ');
      console.log(`${what}: ${stop.reason} (${stop.description ?? ''}), ${r.stackFrames.length} frames:\n  ${shown}`);
      assert.ok(r.stackFrames.length > 0, `stackTrace ${what} returned no frames`);
      return { frames: r.stackFrames, shown };
    };
    const stopped = async (what: string, ms: number): Promise<Stop> => {
      const stop = await withTimeout(watch.nextStop(), ms, what, () => watch.transcript());
      assert.ok(stop, `the session ended (${watch.ended}) before ${what}${watch.transcript()}`);
      return stop;
    };
    const step = async (kind: 'stepIn' | 'stepOut', threadId: number, what: string): Promise<Stop> => {
      const next = stopped(what, STEP_TIMEOUT_MS);
      await withTimeout(s.customRequest(kind, { threadId }), STEP_TIMEOUT_MS, `the ${kind} request`, () => watch.transcript());
      return next;
    };
    const shot = async (name: string): Promise<void> => {
      await vscode.commands.executeCommand('workbench.debug.action.focusCallStackView');
      await withTimeout(watch.viewsRefreshed(), STEP_TIMEOUT_MS, `VS Code's Call Stack and Variables views to load for ${name}`, () => watch.transcript());
      console.log(`SEAM_SCREENSHOT ${name}`);
      await new Promise((r) => setTimeout(r, SCREENSHOT_SETTLE_MS));
    };

    // 1. The Python breakpoint.
    const bp = await stopped(`the stop at stack_demo.py:${callLeaf}`, STOP_TIMEOUT_MS);
    assert.equal(bp.reason, 'breakpoint', `stopped for "${bp.reason}", not the breakpoint${watch.transcript()}`);
    let st = await stack(bp, 'at the Python breakpoint');
    assert.equal(st.frames[0].name, '[Py] into_rust', `top frame:\n  ${st.shown}`);
    assert.equal(localPath(st.frames[0].source?.path), script, `top frame's file:\n  ${st.shown}`);
    assert.equal(st.frames[0].line, callLeaf, `top frame's line:\n  ${st.shown}`);
    await shot('python-breakpoint');

    // 2. Step into the PyO3 call: the first line of leaf's Rust body, no PyO3 trampoline on top.
    const into = await step('stepIn', bp.threadId, 'the step into _engine.leaf');
    assert.equal(into.reason, 'step', `stopped for "${into.reason}" after stepIn${watch.transcript()}`);
    st = await stack(into, 'after stepping in');
    const top = st.frames[0];
    assert.match(top.name, /^\[Rust\] .*_engine::leaf$/, `top frame after stepIn:\n  ${st.shown}${watch.transcript()}`);
    assert.doesNotMatch(top.name, /pyo3|__pyfunction/, `stopped in a PyO3 trampoline:\n  ${st.shown}`);
    assert.equal(localPath(top.source?.path), libRs, `top frame's file after stepIn:\n  ${st.shown}`);
    assert.equal(top.line, leafBody, `top frame's line after stepIn (want the first line of leaf's body):\n  ${st.shown}`);
    const caller = st.frames.findIndex((f) => f.name === '[Py] into_rust');
    assert.ok(caller > 0, `no "[Py] into_rust" frame below the Rust leaf:\n  ${st.shown}`);
    assert.equal(st.frames[caller].line, callLeaf, `into_rust's line below the leaf:\n  ${st.shown}`);
    await shot('stepped-into-rust');

    // 3. Step out of Rust: back on a Python line of stack_demo.py, nothing native above it.
    const out = await step('stepOut', into.threadId, 'the step out of _engine.leaf');
    assert.equal(out.reason, 'step', `stopped for "${out.reason}" after stepOut${watch.transcript()}`);
    st = await stack(out, 'after stepping out');
    assert.match(st.frames[0].name, /^\[Py\] /, `top frame after stepOut is not Python:\n  ${st.shown}${watch.transcript()}`);
    assert.equal(localPath(st.frames[0].source?.path), script, `top frame's file after stepOut:\n  ${st.shown}`);
    const backAt = [
      { fn: '[Py] into_rust', line: callLeaf }, // the rest of the calling line (its return)
      { fn: '[Py] main', line: tagLine(script, 'CALL_APPLY') }, // or where the Python caller resumes
      { fn: '[Py] main', line: tagLine(script, 'CALL_APPLY') + 1 },
    ];
    assert.ok(backAt.some((b) => b.fn === st.frames[0].name && b.line === st.frames[0].line),
      `stepOut landed at ${st.frames[0].name}:${st.frames[0].line}, want one of ${JSON.stringify(backAt)}:\n  ${st.shown}`);
    await shot('stepped-out-python');

    await vscode.debug.stopDebugging(s);
    await withTimeout(terminated, END_TIMEOUT_MS, 'the session to end after stopDebugging', () => watch.transcript());
    assert.ok(!vscode.debug.activeDebugSession || vscode.debug.activeDebugSession.id !== s.id, 'the session is still active');
    session = undefined;
  });
});
