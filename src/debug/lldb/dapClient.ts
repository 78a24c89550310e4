/**
 * A DAP client over a child process's stdio (Content-Length framing): how Seam talks to LLDB's own
 * DAP server (`lldb-vscode-16`, `lldb-dap` in LLVM 18+). Requests resolve with the response body
 * or reject with the server's message; events are emitted by name. Spawned without a shell.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';

export class LldbNotFoundError extends Error {
  constructor(readonly path: string) {
    super(`${path} not found: install LLDB's DAP server (Debian: apt-get install lldb-16, which ships lldb-vscode-16; LLVM 18+: lldb-dap) or set \`seam.lldbDapPath\``);
    this.name = 'LldbNotFoundError';
  }
}

/** The server ended with the request in flight (or before it was sent). */
export class LldbExitedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LldbExitedError';
  }
}

/** The server answered a request with `success: false`. */
export class DapRequestError extends Error {
  constructor(readonly command: string, readonly serverMessage: string) {
    super(`${command}: ${serverMessage}`);
    this.name = 'DapRequestError';
  }
}

interface DapMessage {
  seq: number;
  type: 'request' | 'response' | 'event';
  command?: string;
  event?: string;
  request_seq?: number;
  success?: boolean;
  message?: string;
  body?: unknown;
}

/** Servers tried, in order, when no path is configured. */
export const LLDB_DAP_NAMES = ['lldb-dap', 'lldb-vscode', 'lldb-dap-19', 'lldb-dap-18', 'lldb-vscode-17', 'lldb-vscode-16', 'lldb-vscode-15', 'lldb-vscode-14'];

/**
 * Events: every DAP event by its name (body as argument); 'exit' ({code, signal}) when the
 * server ends; 'log' (direction, text) for the traffic log.
 */
export class DapClient extends EventEmitter {
  private seq = 1;
  private buf = Buffer.alloc(0);
  private readonly pending = new Map<number, { command: string; resolve: (b: unknown) => void; reject: (e: Error) => void }>();
  private ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(private readonly child: ChildProcess, readonly path: string) {
    super();
    child.stdout!.on('data', (d: Buffer) => this.onData(d));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (t: string) => this.emit('log', 'stderr', t));
    child.on('exit', (code, signal) => {
      this.ended = { code, signal };
      const err = new LldbExitedError(`${this.path} ended (${signal ?? `exit code ${code}`})`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.emit('exit', { code, signal });
    });
    child.stdin!.on('error', () => undefined); // a dead server: reported by 'exit'
  }

  /** Starts the server; rejects with LldbNotFoundError when it cannot be run. */
  static start(path: string, args: string[] = []): Promise<DapClient> {
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(path, args, { stdio: ['pipe', 'pipe', 'pipe'], shell: false });
      } catch (e) {
        reject(notFound(e, path));
        return;
      }
      child.once('error', (e) => reject(notFound(e, path)));
      child.once('spawn', () => resolve(new DapClient(child, path)));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.ended;
  }

  request<T = unknown>(command: string, args?: unknown): Promise<T> {
    if (this.ended) return Promise.reject(new LldbExitedError(`${this.path} is not running`));
    const seq = this.seq++;
    const msg = JSON.stringify({ seq, type: 'request', command, arguments: args });
    this.emit('log', 'out', msg);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { command, resolve: resolve as (b: unknown) => void, reject });
      this.child.stdin!.write(`Content-Length: ${Buffer.byteLength(msg, 'utf8')}\r\n\r\n${msg}`);
    });
  }

  kill(): void {
    if (!this.ended) this.child.kill('SIGKILL');
  }

  /** Resolves when the server has ended (at once if it has). */
  whenEnded(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((r) => this.child.once('exit', () => r()));
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const headEnd = this.buf.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const m = /Content-Length:\s*(\d+)/i.exec(this.buf.subarray(0, headEnd).toString('latin1'));
      if (!m) {
        // Not a DAP header: drop up to it (a server writing stray text to stdout).
        this.buf = this.buf.subarray(headEnd + 4);
        continue;
      }
      const len = Number(m[1]);
      if (this.buf.length < headEnd + 4 + len) return;
      const text = this.buf.subarray(headEnd + 4, headEnd + 4 + len).toString('utf8');
      this.buf = this.buf.subarray(headEnd + 4 + len);
      let msg: DapMessage;
      try {
        msg = JSON.parse(text) as DapMessage;
      } catch {
        this.emit('log', 'in', `(unparsable) ${text.slice(0, 200)}`);
        continue;
      }
      this.emit('log', 'in', text.length > 2000 ? `${text.slice(0, 2000)}…` : text);
      this.dispatch(msg);
    }
  }

  private dispatch(msg: DapMessage): void {
    if (msg.type === 'response' && msg.request_seq !== undefined) {
      const p = this.pending.get(msg.request_seq);
      if (!p) return;
      this.pending.delete(msg.request_seq);
      if (msg.success) p.resolve(msg.body ?? {});
      else p.reject(new DapRequestError(p.command, msg.message ?? 'failed'));
    } else if (msg.type === 'event' && msg.event) {
      this.emit(msg.event, msg.body ?? {});
    } else if (msg.type === 'request') {
      // Reverse requests (runInTerminal): not used; answer so the server does not wait.
      const reply = JSON.stringify({ seq: this.seq++, type: 'response', request_seq: msg.seq, command: msg.command, success: false, message: 'not supported by Seam' });
      this.child.stdin!.write(`Content-Length: ${Buffer.byteLength(reply, 'utf8')}\r\n\r\n${reply}`);
    }
  }
}

function notFound(e: unknown, path: string): Error {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR') return new LldbNotFoundError(path);
  return e instanceof Error ? e : new Error(String(e));
}
