/**
 * Seam's debugger in a real VS Code: the sample workspace's launch configuration ("Seam: sample
 * stack", test/fixtures/sample/.vscode/launch.json) runs sample/stack_demo.py, which goes
 * Python -> C (`sample._speedups.apply`) -> Python -> Rust (`sample._engine.leaf`). A function
 * breakpoint on the Rust `leaf` stops it; the session's stackTrace must be the merged stack, in
 * order, with each frame's file and line (from the script's `# #TAG` comments and, for the C and
 * Rust sources, found by text, never by number). Then the Call Stack view is shown for the runner's
 * screenshot (`debug-call-stack`) and the session is stopped.
 *
 * The runner (scripts/e2e.mjs) builds the native modules and sets SEAM_SAMPLE_PYTHON /
 * SEAM_SAMPLE_PYTHONPATH in the environment the launch configuration reads.
 * Waits are on DAP events seen by a DebugAdapterTracker, each bounded by a timeout that fails the
 * test with what the session printed; the only fixed wait is the screenshot's settle time.
 */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { tagLine } from '../../debug/fixtures';
import { lineOf, localPath, withTimeout } from './debugHelpers';

const EXTENSION_ID = 'seam-dev.seam';
const CONFIG_NAME = 'Seam: sample stack';
/** GDB's name of the PyO3 function `sample._engine.leaf` (crate library `_engine`). */
const LEAF = '_engine::leaf';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 90_000;
const END_TIMEOUT_MS = 30_000;
const SCREENSHOT_SETTLE_MS = 1_500;

interface DapMessage {
  type: string;
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
  presentationHint?: string;
  instructionPointerReference?: string;
}

/** What one seam session said, from its first message to its end. */
class Watch {
  readonly output: string[] = [];
  stopped?: { threadId: number; reason?: string; description?: string };
  ended?: string;
  private waiters: (() => void)[] = [];

  onMessage(m: DapMessage): void {
    if (m.type === 'event' && m.event === 'stopped' && !this.stopped) {
      this.stopped = { threadId: m.body?.threadId ?? 0, reason: m.body?.reason, description: m.body?.description };
    } else if (m.type === 'event' && m.event === 'output' && m.body?.output) {
      this.output.push(`[${m.body.category ?? 'console'}] ${m.body.output.trimEnd()}`);
    } else if (m.type === 'event' && (m.event === 'terminated' || m.event === 'exited')) {
      this.ended ??= m.event === 'exited' ? `exited with ${m.body?.exitCode}` : 'terminated';
    } else if (m.type === 'response' && m.success === false) {
      this.output.push(`[error] ${m.command}: ${m.message}`);
    }
    this.notify();
  }

  end(why: string): void {
    this.ended ??= why;
    this.notify();
  }

  /** Resolves when `pred` holds (checked on every message). */
  until<T>(pred: () => T | undefined): Promise<T> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const v = pred();
        if (v !== undefined) resolve(v);
        return v !== undefined;
      };
      if (!check()) this.waiters.push(() => void check());
    });
  }

  transcript(): string {
    const tail = this.output.slice(-30);
    return tail.length ? `\nthe session said:\n  ${tail.join('\n  ')}` : '\n(the session printed nothing)';
  }

  private notify(): void {
    for (const w of this.waiters) w();
  }
}

describe('the seam debugger in VS Code', () => {
  const disposables: vscode.Disposable[] = [];
  let breakpoints: vscode.Breakpoint[] = [];
  let session: vscode.DebugSession | undefined;

  after(async () => {
    vscode.debug.removeBreakpoints(breakpoints);
    if (session && vscode.debug.activeDebugSession?.id === session.id) await vscode.debug.stopDebugging(session);
    for (const d of disposables) d.dispose();
  });

  it('stops in the Rust leaf of the sample and shows the merged Rust/Python/C stack', async function () {
    this.timeout(START_TIMEOUT_MS + STOP_TIMEOUT_MS + END_TIMEOUT_MS + 30_000);
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
    await ext.activate();

    assert.ok(process.env.SEAM_SAMPLE_PYTHON, 'SEAM_SAMPLE_PYTHON is not set: scripts/e2e.mjs builds the sample and sets it');
    assert.ok(process.env.SEAM_SAMPLE_PYTHONPATH, 'SEAM_SAMPLE_PYTHONPATH is not set: scripts/e2e.mjs sets it');
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'no workspace folder open');
    const configs = vscode.workspace.getConfiguration('launch', folder).get<{ name: string }[]>('configurations') ?? [];
    assert.ok(configs.some((c) => c.name === CONFIG_NAME),
      `.vscode/launch.json has no "${CONFIG_NAME}" (has: ${configs.map((c) => c.name).join(', ') || 'none'})`);

    const root = folder.uri.fsPath;
    const script = join(root, 'sample', 'stack_demo.py');
    const libRs = join(root, 'engine', 'src', 'lib.rs');
    const speedupsC = join(root, 'csrc', '_speedups.c');
    // Innermost first; other frames (folded glue) may sit between these.
    const expected = [
      { lang: '[Rust]', fn: LEAF, file: libRs, line: lineOf(libRs, 'let doubled = x * 2;') },
      { lang: '[Py]', fn: 'into_rust', file: script, line: tagLine(script, 'CALL_LEAF') },
      { lang: '[C]', fn: 'speedups_apply', file: speedupsC, line: lineOf(speedupsC, 'return PyObject_CallOneArg(') },
      { lang: '[Py]', fn: 'main', file: script, line: tagLine(script, 'CALL_APPLY') },
      { lang: '[Py]', fn: '<module>', file: script, line: tagLine(script, 'CALL_MAIN') },
    ];

    const watch = new Watch();
    disposables.push(vscode.debug.registerDebugAdapterTrackerFactory('seam', {
      createDebugAdapterTracker: () => ({
        onDidSendMessage: (m: DapMessage) => watch.onMessage(m),
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

    breakpoints = [new vscode.FunctionBreakpoint(LEAF)];
    vscode.debug.addBreakpoints(breakpoints);

    const ok = await withTimeout(vscode.debug.startDebugging(folder, CONFIG_NAME), START_TIMEOUT_MS,
      `startDebugging("${CONFIG_NAME}")`, () => watch.transcript());
    assert.ok(ok, `startDebugging("${CONFIG_NAME}") returned false${watch.transcript()}`);
    session = started;
    assert.ok(session, 'startDebugging succeeded but no seam session started');

    const stop = await withTimeout(watch.until(() => watch.stopped ?? (watch.ended ? null : undefined)), STOP_TIMEOUT_MS,
      `the stop at ${LEAF}`, () => watch.transcript());
    assert.ok(stop, `the session ended (${watch.ended}) before stopping at ${LEAF}${watch.transcript()}`);
    console.log(`stopped: ${stop.reason} (${stop.description}) on thread ${stop.threadId}`);

    const trace = await withTimeout(session.customRequest('stackTrace', { threadId: stop.threadId, startFrame: 0, levels: 200 }) as Thenable<{ stackFrames: DapFrame[] }>,
      30_000, 'the stackTrace request', () => watch.transcript());
    const frames = trace.stackFrames;
    const shown = frames.map((f) => `${f.name} ${localPath(f.source?.path) ?? '-'}:${f.line}`);
    console.log(`merged stack (${frames.length} frames):\n  ${shown.join('\n  ')}`);
    assert.ok(frames.length > 0, 'stackTrace returned no frames');
    const top = frames[0];
    assert.equal(top.name, `${expected[0].lang} ${expected[0].fn}`, `the top frame is "${top.name}", not the Rust leaf${watch.transcript()}`);

    let at = 0;
    for (const want of expected) {
      const i = frames.findIndex((f, k) => k >= at && f.name === `${want.lang} ${want.fn}`);
      assert.ok(i >= 0, `no "${want.lang} ${want.fn}" frame after frame ${at} in:\n  ${shown.join('\n  ')}${watch.transcript()}`);
      const f = frames[i];
      assert.equal(localPath(f.source?.path), want.file, `frame ${i} "${f.name}" is in ${f.source?.path}, want ${want.file}`);
      assert.equal(f.line, want.line, `frame ${i} "${f.name}" is at line ${f.line} of ${want.file}, want ${want.line}`);
      at = i + 1;
    }

    await vscode.commands.executeCommand('workbench.debug.action.focusCallStackView');
    console.log('SEAM_SCREENSHOT debug-call-stack');
    await new Promise((r) => setTimeout(r, SCREENSHOT_SETTLE_MS));

    // The Rust leaf at the machine level: its pc, the instructions around it through VS Code's
    // session, and the Disassembly view opened on it.
    const pc = top.instructionPointerReference;
    assert.match(pc ?? '', /^0x[0-9a-f]+$/, `the Rust frame carries no pc: ${JSON.stringify(top)}`);
    const dis = await withTimeout(session.customRequest('disassemble', { memoryReference: pc, instructionOffset: -4, instructionCount: 12 }) as Thenable<{ instructions: { address: string; instruction: string; presentationHint?: string }[] }>,
      30_000, 'the disassemble request', () => watch.transcript());
    assert.equal(dis.instructions.length, 12);
    assert.equal(BigInt(dis.instructions[4].address), BigInt(pc!), JSON.stringify(dis.instructions.slice(3, 6)));
    assert.ok(dis.instructions.every((i) => i.presentationHint !== 'invalid' && i.instruction.length > 0), JSON.stringify(dis.instructions));
    await vscode.commands.executeCommand('debug.action.openDisassemblyView');
    console.log('SEAM_SCREENSHOT debug-disassembly');
    await new Promise((r) => setTimeout(r, SCREENSHOT_SETTLE_MS));

    await vscode.debug.stopDebugging(session);
    await withTimeout(terminated, END_TIMEOUT_MS, 'the session to end after stopDebugging', () => watch.transcript());
    assert.ok(!vscode.debug.activeDebugSession || vscode.debug.activeDebugSession.id !== session.id, 'the session is still active');
    session = undefined;
  });
});
