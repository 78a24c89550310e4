/**
 * A small LSP client over stdio for integration tests: spawns the language server
 * (`node dist/server.js --stdio`), frames messages with Content-Length headers, matches responses
 * to requests by id, keeps every notification, and answers the server's own requests with null.
 * No `vscode` import. Waits fail loudly with what was received; shutdown kills the process when it
 * does not exit in time.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';

/** The repository root, from the bundled test at dist/test/integration/*.js. */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const SERVER_JS = resolve(REPO_ROOT, 'dist', 'server.js');

export interface LspClientOptions {
  /** Defaults to dist/server.js of this repository. */
  serverJs?: string;
  args?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Default timeout of requests (ms). */
  requestTimeoutMs?: number;
}

export interface Notification<P = unknown> {
  method: string;
  params: P;
}

interface Pending {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface Waiter {
  method: string;
  predicate: (p: unknown) => boolean;
  resolve: (p: unknown) => void;
}

export class LspError extends Error {
  constructor(
    message: string,
    readonly code?: number,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export class LspClient {
  readonly notifications: Notification[] = [];
  /** Requests the server sent to us (method names), answered with null. */
  readonly serverRequests: string[] = [];
  private stderrText = '';
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private waiters = new Set<Waiter>();
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private exited: Promise<void>;
  private readonly requestTimeoutMs: number;

  private constructor(
    readonly proc: ChildProcessWithoutNullStreams,
    opts: LspClientOptions,
  ) {
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 60_000;
    proc.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    proc.stderr.on('data', (chunk: Buffer) => {
      this.stderrText += chunk.toString('utf8');
      if (this.stderrText.length > 200_000) this.stderrText = this.stderrText.slice(-100_000);
    });
    this.exited = new Promise((res) => {
      proc.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        const why = new Error(`language server exited (code ${code}, signal ${signal})${this.stderrTail()}`);
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(why);
        }
        this.pending.clear();
        res();
      });
    });
    proc.on('error', (e) => {
      this.stderrText += `\n[spawn error] ${e.message}`;
    });
  }

  /** Spawns `node <serverJs> --stdio`. */
  static start(opts: LspClientOptions = {}): LspClient {
    const proc = spawn(process.execPath, [opts.serverJs ?? SERVER_JS, '--stdio', ...(opts.args ?? [])], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new LspClient(proc, opts);
  }

  get stderr(): string {
    return this.stderrText;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  request<R = unknown>(method: string, params: unknown, timeoutMs = this.requestTimeoutMs): Promise<R> {
    if (this.exitInfo) return Promise.reject(new Error(`request ${method}: language server has exited`));
    const id = this.nextId++;
    return new Promise<R>((res, rej) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        rej(new Error(`request ${method} (id ${id}) got no response within ${timeoutMs} ms${this.stderrTail()}`));
      }, timeoutMs);
      this.pending.set(id, { method, resolve: res as (v: unknown) => void, reject: rej, timer });
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  notify(method: string, params: unknown): void {
    this.send({ jsonrpc: '2.0', method, params });
  }

  /**
   * Resolves with the params of the first notification `method` (already received or to come) that
   * satisfies `predicate`; rejects after `timeoutMs`, or when the server exits, naming what came.
   */
  waitForNotification<P = unknown>(
    method: string,
    predicate: (params: P) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<P> {
    const seen = this.notifications.find((n) => n.method === method && predicate(n.params as P));
    if (seen) return Promise.resolve(seen.params as P);
    return new Promise<P>((res, rej) => {
      const waiter: Waiter = {
        method,
        predicate: predicate as (p: unknown) => boolean,
        resolve: (p) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          res(p as P);
        },
      };
      const fail = (why: string): void => {
        this.waiters.delete(waiter);
        const got = this.notifications
          .filter((n) => n.method === method)
          .slice(-5)
          .map((n) => JSON.stringify(n.params));
        rej(
          new Error(
            `waiting for notification ${method}: ${why}; last ${method} received: ` +
              `${got.length ? got.join(' | ') : '(none)'}${this.stderrTail()}`,
          ),
        );
      };
      const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      this.waiters.add(waiter);
      void this.exited.then(() => {
        if (this.waiters.has(waiter)) {
          clearTimeout(timer);
          fail(`the server exited (code ${this.exitInfo?.code}, signal ${this.exitInfo?.signal})`);
        }
      });
    });
  }

  /** `initialize` + `initialized`. */
  async initialize(opts: {
    workspaceFolders?: string[];
    initializationOptions?: unknown;
    capabilities?: Record<string, unknown>;
  }): Promise<unknown> {
    const folders = (opts.workspaceFolders ?? []).map((p) => ({ uri: fileUri(p), name: p.split('/').pop() ?? p }));
    const result = await this.request('initialize', {
      processId: process.pid,
      clientInfo: { name: 'seam-integration-tests' },
      rootUri: folders[0]?.uri ?? null,
      workspaceFolders: folders.length ? folders : null,
      initializationOptions: opts.initializationOptions ?? {},
      capabilities: opts.capabilities ?? {
        workspace: { workspaceFolders: true, symbol: {} },
        textDocument: {
          hover: { contentFormat: ['markdown', 'plaintext'] },
          definition: { linkSupport: false },
          implementation: { linkSupport: false },
          synchronization: {},
        },
      },
    });
    this.notify('initialized', {});
    return result;
  }

  /** `shutdown` then `exit`; kills the process when it has not exited within `timeoutMs`. */
  async shutdown(timeoutMs = 5_000): Promise<void> {
    if (this.exitInfo) return;
    try {
      await this.request('shutdown', null, timeoutMs);
      this.notify('exit', null);
    } catch {
      // fall through to the kill below
    }
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((res) => setTimeout(() => res(true), timeoutMs).unref()),
    ]);
    if (timedOut && !this.exitInfo) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }

  /** Kills the server at once (for `after` hooks when a test failed half-way). */
  kill(): void {
    if (!this.exitInfo) this.proc.kill('SIGKILL');
  }

  private send(msg: unknown): void {
    const body = Buffer.from(JSON.stringify(msg), 'utf8');
    this.proc.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.proc.stdin.write(body);
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const header = this.buffer.subarray(0, headerEnd).toString('ascii');
      const m = /Content-Length:\s*(\d+)/i.exec(header);
      if (!m) {
        // Not LSP framing: drop the garbage up to the separator so one bad write cannot wedge us.
        this.stderrText += `\n[bad header] ${header}`;
        this.buffer = this.buffer.subarray(headerEnd + 4);
        continue;
      }
      const len = Number(m[1]);
      const start = headerEnd + 4;
      if (this.buffer.length < start + len) return;
      const body = this.buffer.subarray(start, start + len).toString('utf8');
      this.buffer = this.buffer.subarray(start + len);
      let msg: { id?: number | string; method?: string; params?: unknown; result?: unknown; error?: { code: number; message: string; data?: unknown } };
      try {
        msg = JSON.parse(body);
      } catch {
        this.stderrText += `\n[bad JSON] ${body.slice(0, 200)}`;
        continue;
      }
      this.dispatch(msg);
    }
  }

  private dispatch(msg: {
    id?: number | string;
    method?: string;
    params?: unknown;
    result?: unknown;
    error?: { code: number; message: string; data?: unknown };
  }): void {
    if (msg.method !== undefined && msg.id !== undefined) {
      // A request from the server (workspace/configuration, client/registerCapability, ...).
      this.serverRequests.push(msg.method);
      const items = (msg.params as { items?: unknown[] } | undefined)?.items;
      const result = msg.method === 'workspace/configuration' ? (items ?? []).map(() => null) : null;
      this.send({ jsonrpc: '2.0', id: msg.id, result });
      return;
    }
    if (msg.method !== undefined) {
      const n: Notification = { method: msg.method, params: msg.params };
      this.notifications.push(n);
      for (const w of [...this.waiters]) {
        if (w.method === n.method && w.predicate(n.params)) w.resolve(n.params);
      }
      return;
    }
    const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
    if (!p) return;
    this.pending.delete(msg.id as number);
    clearTimeout(p.timer);
    if (msg.error) p.reject(new LspError(`${p.method}: ${msg.error.message} (code ${msg.error.code})`, msg.error.code, msg.error.data));
    else p.resolve(msg.result ?? null);
  }

  /** The server's last log messages and stderr, for failure messages. */
  diagnostics(): string {
    return this.stderrTail();
  }

  private stderrTail(): string {
    const logs = this.notifications
      .filter((n) => n.method === 'window/logMessage' || n.method === 'window/showMessage')
      .slice(-15)
      .map((n) => (n.params as { message?: string } | undefined)?.message ?? '');
    const t = this.stderrText.trim();
    return (
      (logs.length ? `\n--- server log (tail) ---\n${logs.join('\n').slice(-3000)}` : '') +
      (t ? `\n--- server stderr (tail) ---\n${t.slice(-2000)}` : '')
    );
  }
}

export function fileUri(path: string): string {
  return 'file://' + resolve(path).split('/').map(encodeURIComponent).join('/');
}

export function uriToPath(uri: string): string {
  if (!uri.startsWith('file://')) throw new Error(`not a file URI: ${uri}`);
  return decodeURIComponent(uri.slice('file://'.length));
}
