/**
 * The language server: standard LSP features over the index (definition, implementation, hover,
 * references, CodeLens, workspace symbols) plus Seam's own messages (src/protocol.ts). Translates
 * only; the index does the work.
 */
import {
  type Connection, type InitializeParams, type InitializeResult, TextDocuments, TextDocumentSyncKind,
  type Location, type Hover, type CodeLens, type SymbolInformation, SymbolKind, MarkupKind,
  type TextDocumentPositionParams, type WorkspaceSymbolParams, type ReferenceParams,
  type DidChangeWatchedFilesParams, FileChangeType,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { URI } from './uri';
import { relative } from 'node:path';
import { Indexer } from '../index/indexer';
import { namesAtCursor } from '../core/python/cursor';
import { describeTarget } from '../core/describe';
import type { Target } from '../core/model';
import { Methods, type IndexStatus, type ResolveParams, type ResolveResult } from '../protocol';
import { chooseRoots, type ServerSettings } from './roots';
import { references } from './references';

const KIND: Partial<Record<Target['kind'], SymbolKind>> = {
  function: SymbolKind.Function, method: SymbolKind.Method, classmethod: SymbolKind.Method,
  staticmethod: SymbolKind.Method, constructor: SymbolKind.Constructor, slot: SymbolKind.Method,
  getter: SymbolKind.Property, setter: SymbolKind.Property, member: SymbolKind.Field,
  classattr: SymbolKind.Constant, class: SymbolKind.Class, module: SymbolKind.Module,
  constant: SymbolKind.Constant, exception: SymbolKind.Class, variable: SymbolKind.Variable,
};

export class SeamServer {
  private readonly documents = new TextDocuments(TextDocument);
  private indexer: Indexer | undefined;
  private roots: string[] = [];
  private status: IndexStatus = { state: 'indexing', done: 0, total: 0, names: 0, ms: 0, warm: false };
  private ready: Promise<void> = Promise.resolve();
  private pending = new Set<string>();
  private updateTimer: NodeJS.Timeout | undefined;
  private settings: ServerSettings = {};
  private workspaceFolders: string[] = [];
  private progressCapable = false;

  constructor(private readonly connection: Connection) {}

  listen(): void {
    const c = this.connection;
    c.onInitialize((p) => this.initialize(p));
    c.onInitialized(() => {
      this.ready = this.reindex();
    });
    c.onDefinition((p) => this.guard(() => this.locations(p)));
    c.onImplementation((p) => this.guard(() => this.locations(p)));
    c.onHover((p) => this.guard(() => this.hover(p)));
    c.onReferences((p) => this.guard(() => this.references(p)));
    c.onCodeLens((p) => this.guard(() => this.codeLenses(p.textDocument.uri)));
    c.onWorkspaceSymbol((p) => this.guard(() => this.workspaceSymbols(p)));
    c.onDidChangeWatchedFiles((p) => this.filesChanged(p));
    c.onRequest(Methods.resolve, (p: ResolveParams) => this.guard(() => this.resolveNames(p)));
    c.onRequest(Methods.status, () => this.status);
    c.onRequest(Methods.reindex, async () => {
      this.ready = this.reindex();
      await this.ready;
      return this.status;
    });
    this.documents.onDidSave((e) => this.queueUpdate([URI.toPath(e.document.uri)]));
    this.documents.listen(c);
    c.listen();
  }

  private initialize(p: InitializeParams): InitializeResult {
    this.settings = (p.initializationOptions ?? {}) as ServerSettings;
    this.workspaceFolders = (p.workspaceFolders ?? []).map((f) => URI.toPath(f.uri));
    if (this.workspaceFolders.length === 0 && p.rootUri) this.workspaceFolders = [URI.toPath(p.rootUri)];
    this.progressCapable = !!p.capabilities.window?.workDoneProgress;
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        definitionProvider: true,
        implementationProvider: true,
        hoverProvider: true,
        referencesProvider: true,
        codeLensProvider: { resolveProvider: false },
        workspaceSymbolProvider: true,
      },
      serverInfo: { name: 'seam' },
    };
  }

  /** Errors in a handler reach the log once and the user as an empty answer, never a crash. */
  private async guard<T>(f: () => T | Promise<T>): Promise<T | null> {
    try {
      await this.ready;
      return await f();
    } catch (e) {
      this.connection.console.error(`internal error: ${(e as Error).stack ?? e}`);
      return null;
    }
  }

  private sendStatus(s: Partial<IndexStatus>): void {
    this.status = { ...this.status, ...s };
    void this.connection.sendNotification(Methods.indexStatus, this.status);
  }

  private async reindex(): Promise<void> {
    const { roots, problems } = chooseRoots(this.workspaceFolders, this.settings);
    for (const pr of problems) void this.connection.window.showWarningMessage(`Seam: ${pr}`);
    this.roots = roots;
    const progress = this.progressCapable ? await this.connection.window.createWorkDoneProgress() : undefined;
    progress?.begin('Seam: indexing', 0, 'finding files', false);
    this.sendStatus({ state: 'indexing', done: 0, total: 0, message: undefined });
    let lastReport = 0;
    this.indexer = new Indexer({
      roots,
      cacheDir: this.settings.cacheDir,
      followSymlinks: this.settings.followSymlinks,
      log: (l) => this.connection.console.log(l),
      progress: (done, total) => {
        const now = Date.now();
        if (now - lastReport < 250 && done !== total) return;
        lastReport = now;
        progress?.report(total ? Math.round((100 * done) / total) : 0, `${done}/${total} files`);
        this.sendStatus({ done, total });
      },
    });
    let outcome: Partial<IndexStatus>;
    try {
      const s = await this.indexer.build();
      this.connection.console.log(
        `indexed ${s.files} files under ${roots.length} root(s) in ${Math.round(s.ms.total)} ms ` +
          `(${s.parsed} parsed, ${s.fromCache} from cache, ${s.skipped} skipped): ${s.names} Python names`,
      );
      outcome = { state: 'ready', done: s.files, total: s.files, names: s.names, ms: s.ms.total, warm: s.warm };
    } catch (e) {
      this.connection.console.error(`indexing failed: ${(e as Error).stack ?? e}`);
      outcome = { state: 'error', message: `indexing failed: ${(e as Error).message}` };
    }
    // Progress ends before the status says so: a client waiting for "ready" sees no progress after.
    progress?.done();
    this.sendStatus(outcome);
  }

  private filesChanged(p: DidChangeWatchedFilesParams): void {
    this.queueUpdate(p.changes.map((c) => URI.toPath(c.uri)), p.changes.some((c) => c.type === FileChangeType.Deleted));
  }

  private queueUpdate(paths: string[], _deleted = false): void {
    for (const p of paths) this.pending.add(p);
    clearTimeout(this.updateTimer);
    this.updateTimer = setTimeout(() => {
      const batch = [...this.pending];
      this.pending.clear();
      this.ready = this.ready.then(async () => {
        if (!this.indexer) return;
        const t0 = performance.now();
        await this.indexer.update(batch);
        this.sendStatus({ state: 'ready', names: this.indexer.index.size, ms: performance.now() - t0, warm: false });
      }).catch((e) => this.connection.console.error(`update failed: ${(e as Error).stack ?? e}`));
    }, 200);
  }

  private shortPath = (file: string): string => {
    for (const r of this.roots) {
      const rel = relative(r, file);
      if (!rel.startsWith('..')) return rel;
    }
    return file;
  };

  /** The targets for the Python name under the cursor, best candidate first. */
  private targetsAt(p: TextDocumentPositionParams): { name: string; targets: Target[] } | undefined {
    const doc = this.documents.get(p.textDocument.uri);
    const path = URI.toPath(p.textDocument.uri);
    if (!doc || !/\.pyi?$/.test(path) || !this.indexer) return undefined;
    const module = this.indexer.moduleOf(path) ?? path.replace(/^.*\//, '').replace(/\.pyi?$/, '');
    const isPackage = /__init__\.pyi?$/.test(path);
    for (const name of namesAtCursor(doc.getText(), p.position.line, p.position.character, module, { isPackage })) {
      const targets = this.indexer.index.resolve(name);
      if (targets.length) return { name, targets };
    }
    return undefined;
  }

  private locations(p: TextDocumentPositionParams): Location[] | null {
    const hit = this.targetsAt(p);
    if (!hit) return null;
    return hit.targets.map(toLocation);
  }

  private hover(p: TextDocumentPositionParams): Hover | null {
    const hit = this.targetsAt(p);
    if (hit) {
      const lines = hit.targets.slice(0, 6).map((t) => `- ${describeTarget(t, this.shortPath)}`);
      return { contents: { kind: MarkupKind.Markdown, value: `**${hit.name}**\n\n${lines.join('\n')}` } };
    }
    const served = this.servedAt(p);
    if (!served) return null;
    const list = served.names.slice(0, 12).map((n) => `\`${n}\``).join(', ');
    return { contents: { kind: MarkupKind.Markdown, value: `**${served.symbol}** serves Python: ${list}` } };
  }

  /** A C/Rust function under the cursor that serves Python names. */
  private servedAt(p: TextDocumentPositionParams): { symbol: string; names: string[] } | undefined {
    const doc = this.documents.get(p.textDocument.uri);
    if (!doc || !this.indexer) return undefined;
    const line = doc.getText({ start: { line: p.position.line, character: 0 }, end: { line: p.position.line + 1, character: 0 } });
    const word = wordAt(line, p.position.character);
    if (!word) return undefined;
    const path = URI.toPath(p.textDocument.uri);
    const names = this.indexer.index.namesFor(path, word);
    return names.length ? { symbol: word, names } : undefined;
  }

  private references(p: ReferenceParams): Location[] | null {
    const served = this.servedAt(p);
    if (!served || !this.indexer) return null;
    const path = URI.toPath(p.textDocument.uri);
    return references(this.indexer, path, served.symbol, served.names, p.context.includeDeclaration);
  }

  private codeLenses(uri: string): CodeLens[] {
    if (!this.indexer || /\.pyi?$/.test(uri)) return [];
    const path = URI.toPath(uri);
    return this.indexer.index.symbolsIn(path).filter((s) => s.names.length).map((s) => {
      const shown = s.names.slice(0, 3).join(', ') + (s.names.length > 3 ? ` +${s.names.length - 3}` : '');
      const range = { start: { line: s.line - 1, character: 0 }, end: { line: s.line - 1, character: 0 } };
      return {
        range,
        command: {
          title: `Python: ${shown}`,
          command: 'seam.showPythonNames',
          arguments: [uri, s.line - 1, s.symbol, s.names],
        },
      };
    });
  }

  private workspaceSymbols(p: WorkspaceSymbolParams): SymbolInformation[] {
    if (!this.indexer) return [];
    return this.indexer.index.search(p.query, 500).map(({ name, target }) => ({
      name,
      kind: KIND[target.kind] ?? SymbolKind.Function,
      location: toLocation(target),
      containerName: `${describeTarget(target, this.shortPath).split(' — ')[0]} ${target.symbol}`,
    }));
  }

  private resolveNames(p: ResolveParams): ResolveResult[] {
    return (p.names ?? []).map((name) => ({ name, targets: this.indexer?.index.resolve(name) ?? [] }));
  }
}

function toLocation(t: Target): Location {
  const pos = { line: Math.max(0, t.line - 1), character: 0 };
  return { uri: URI.fromPath(t.file), range: { start: pos, end: pos } };
}

export function wordAt(line: string, character: number): string | undefined {
  const re = /[A-Za-z_][A-Za-z0-9_]*/g;
  for (const m of line.matchAll(re)) {
    const s = m.index ?? 0;
    if (character >= s && character <= s + m[0].length) return m[0];
  }
  return undefined;
}
