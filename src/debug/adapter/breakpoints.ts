/**
 * DAP breakpoints <-> backend breakpoints: line breakpoints in native sources (pending until the
 * extension module is loaded), function breakpoints, conditions, hit counts and logpoints.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { BreakpointState, DebugBackend } from '../backend';
import type { PythonBreakpoints } from './pythonBreakpoints';

interface Entry {
  dapId: number;
  backendId?: number;
  logMessage?: string;
  /** "% N": stop every N-th hit (counted here; ">= N" and "N" become GDB ignore counts). */
  modulo?: number;
  hits: number;
}

const PYTHON_SOURCE = /\.pyi?$/;

/** "5", ">= 5", "> 4", "== 5", "% 3" -> ignore count or modulo. */
export function parseHitCondition(s: string | undefined): { ignoreCount?: number; modulo?: number; error?: string } {
  if (!s || !s.trim()) return {};
  const m = /^\s*(>=|>|==|=|%)?\s*(\d+)\s*$/.exec(s);
  if (!m) return { error: `hit count '${s}' not understood: use N, >= N, > N or % N` };
  const n = Number(m[2]);
  switch (m[1]) {
    case '%':
      return n > 0 ? { modulo: n } : { error: '% needs a positive number' };
    case '>':
      return { ignoreCount: n };
    default:
      return { ignoreCount: Math.max(0, n - 1) };
  }
}

export class Breakpoints {
  private nextId = 1;
  private bySource = new Map<string, Entry[]>();
  private functions: Entry[] = [];
  private byBackend = new Map<number, Entry>();
  /** Python line breakpoints, on launch (the program runs under Seam's bootstrap). */
  python: PythonBreakpoints | undefined;

  constructor(private readonly backend: () => DebugBackend | undefined) {}

  async setForSource(path: string, bps: DebugProtocol.SourceBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    await this.clear(this.bySource.get(path) ?? []);
    if (PYTHON_SOURCE.test(path) && this.python) {
      this.bySource.set(path, []);
      return this.python.set(path, bps, () => this.nextId++);
    }
    if (PYTHON_SOURCE.test(path)) {
      // Core files, and attaches where the bootstrap could not be brought in: nothing runs the hooks.
      const entries = bps.map(() => ({ dapId: this.nextId++, hits: 0 }));
      this.bySource.set(path, entries);
      return entries.map((e, i) => ({
        id: e.dapId, verified: false, line: bps[i].line,
        message: 'Python line breakpoints need Seam\'s bootstrap in the program, which this session does not have (a core file, or an attach where it could not be brought in: see the Debug Console): set the breakpoint in the C or Rust code the line calls',
      }));
    }
    const out: DebugProtocol.Breakpoint[] = [];
    const entries: Entry[] = [];
    for (const bp of bps) {
      const r = await this.insert(`${path}:${bp.line}`, bp.condition, bp.hitCondition, bp.logMessage);
      entries.push(r.entry);
      out.push({ ...r.dap, line: r.dap.line ?? bp.line, source: { path } });
    }
    this.bySource.set(path, entries);
    return out;
  }

  async setFunctions(bps: DebugProtocol.FunctionBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    await this.clear(this.functions);
    const out: DebugProtocol.Breakpoint[] = [];
    this.functions = [];
    for (const bp of bps) {
      const r = await this.insert(bp.name, bp.condition, bp.hitCondition);
      this.functions.push(r.entry);
      out.push(r.dap);
    }
    return out;
  }

  private async insert(location: string, condition?: string, hitCondition?: string, logMessage?: string): Promise<{ entry: Entry; dap: DebugProtocol.Breakpoint }> {
    const entry: Entry = { dapId: this.nextId++, logMessage, hits: 0 };
    const hit = parseHitCondition(hitCondition);
    if (hit.error) return { entry, dap: { id: entry.dapId, verified: false, message: hit.error } };
    entry.modulo = hit.modulo;
    const backend = this.backend();
    if (!backend) return { entry, dap: { id: entry.dapId, verified: false, message: 'no debug session' } };
    try {
      const st = await backend.insertBreakpoint({ location, condition: condition || undefined, ignoreCount: hit.ignoreCount });
      entry.backendId = st.id;
      this.byBackend.set(st.id, entry);
      return { entry, dap: this.toDap(entry, st) };
    } catch (e) {
      return { entry, dap: { id: entry.dapId, verified: false, message: (e as Error).message } };
    }
  }

  private toDap(entry: Entry, st: BreakpointState): DebugProtocol.Breakpoint {
    return {
      id: entry.dapId, verified: st.verified, line: st.line,
      source: st.file ? { path: st.file } : undefined,
      message: st.verified ? undefined : (st.message ?? 'pending: resolved when the library that holds it is loaded'),
    };
  }

  /** A pending breakpoint resolved (library loaded): the DAP update to send, if it is ours. */
  changed(st: BreakpointState): DebugProtocol.Breakpoint | undefined {
    const e = this.byBackend.get(st.id);
    return e ? this.toDap(e, st) : undefined;
  }

  /**
   * A stop at backend breakpoints: whether to report it (false: a logpoint, or a modulo hit
   * count not reached, so continue) and the log messages to print.
   */
  onHit(backendIds: number[]): { report: boolean; logs: string[]; dapIds: number[] } {
    let report = false;
    const logs: string[] = [];
    const dapIds: number[] = [];
    for (const id of backendIds) {
      const e = this.byBackend.get(id);
      if (!e) {
        report = true; // not ours (e.g. rust_panic): the caller decides
        continue;
      }
      e.hits++;
      if (e.modulo && e.hits % e.modulo !== 0) continue;
      if (e.logMessage !== undefined) {
        logs.push(e.logMessage);
        continue;
      }
      report = true;
      dapIds.push(e.dapId);
    }
    return { report, logs, dapIds };
  }

  private async clear(entries: Entry[]): Promise<void> {
    const backend = this.backend();
    for (const e of entries) {
      if (e.backendId === undefined) continue;
      this.byBackend.delete(e.backendId);
      await backend?.deleteBreakpoint(e.backendId).catch(() => undefined);
    }
  }
}
