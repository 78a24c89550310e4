/**
 * The VS Code side of Seam: starts the language server, shows index health in the status bar,
 * keeps one output channel with the log, and contributes the commands. The only module (with the
 * e2e tests) that imports `vscode`.
 */
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { Methods, type IndexStatus, type ResolveResult } from './protocol';
import { registerDebugger } from './vscode/debug';

export interface SeamApi {
  /** Resolves once the index is ready (or rejects when indexing failed). */
  whenIndexReady(): Promise<IndexStatus>;
  resolve(names: string[]): Promise<ResolveResult[]>;
}

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<SeamApi> {
  const log = vscode.window.createOutputChannel('Seam', { log: true });
  context.subscriptions.push(log);
  const status = vscode.window.createStatusBarItem('seam.index', vscode.StatusBarAlignment.Left, 10);
  status.name = 'Seam index';
  status.command = 'seam.showLog';
  status.text = '$(sync~spin) Seam: starting';
  status.show();
  context.subscriptions.push(status);

  let readyResolve!: (s: IndexStatus) => void;
  let readyReject!: (e: Error) => void;
  let ready = new Promise<IndexStatus>((res, rej) => ((readyResolve = res), (readyReject = rej)));
  let settled = false;

  try {
    const serverModule = context.asAbsolutePath('dist/server.js');
    const serverOptions: ServerOptions = {
      run: { module: serverModule, transport: TransportKind.ipc },
      debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const cfg = vscode.workspace.getConfiguration('seam');
    const trusted = vscode.workspace.isTrusted;
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'python' },
        { scheme: 'file', language: 'c' },
        { scheme: 'file', language: 'cpp' },
        { scheme: 'file', language: 'rust' },
      ],
      outputChannel: log,
      synchronize: {
        fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{c,h,cpp,cc,cxx,hpp,hh,hxx,rs,py,pyi,toml}'),
      },
      initializationOptions: {
        // In an untrusted workspace, workspace settings may not point the index elsewhere.
        cpythonSource: trusted ? cfg.get<string>('cpythonSource') || undefined : cfg.inspect<string>('cpythonSource')?.globalValue,
        extraRoots: trusted ? cfg.get<string[]>('extraRoots') : cfg.inspect<string[]>('extraRoots')?.globalValue,
        followSymlinks: trusted ? cfg.get<boolean>('index.followSymlinks') : cfg.inspect<boolean>('index.followSymlinks')?.globalValue,
        cacheDir: cfg.get<boolean>('index.cache', true) ? vscode.Uri.joinPath(context.globalStorageUri, 'index').fsPath : undefined,
      },
    };
    client = new LanguageClient('seam', 'Seam', serverOptions, clientOptions);
    context.subscriptions.push(client.onNotification(Methods.indexStatus, (s: IndexStatus) => {
      showStatus(status, s);
      if (s.state === 'ready' && !settled) {
        settled = true;
        readyResolve(s);
      } else if (s.state === 'error') {
        void vscode.window.showErrorMessage(`Seam: ${s.message ?? 'indexing failed'} (see the Seam log)`, 'Show Log').then((a) => a && log.show());
        if (!settled) {
          settled = true;
          readyReject(new Error(s.message ?? 'indexing failed'));
        }
      } else if (s.state === 'indexing' && settled) {
        settled = false;
        ready = new Promise<IndexStatus>((res, rej) => ((readyResolve = res), (readyReject = rej)));
      }
    }));
    await client.start();
  } catch (e) {
    status.text = '$(error) Seam';
    status.tooltip = `Seam could not start: ${(e as Error).message}`;
    void vscode.window.showErrorMessage(`Seam could not start its language server: ${(e as Error).message}. See the Seam log.`);
    log.error(`activation failed: ${(e as Error).stack ?? e}`);
    readyReject(e as Error);
  }

  registerDebugger(context, log);
  context.subscriptions.push(
    vscode.commands.registerCommand('seam.showLog', () => log.show()),
    vscode.commands.registerCommand('seam.reindex', async () => {
      await client?.sendRequest(Methods.reindex, {});
    }),
    vscode.commands.registerCommand('seam.showPythonNames', async (uri?: string, line?: number, symbol?: string, names?: string[]) => {
      if (!uri || names === undefined || line === undefined) return;
      const pick = await vscode.window.showQuickPick(names, { title: `Python names served by ${symbol}` });
      if (!pick) return;
      await vscode.commands.executeCommand('editor.action.findReferences', vscode.Uri.parse(uri), new vscode.Position(line, 0));
    }),
  );

  return {
    whenIndexReady: () => ready,
    resolve: async (names) => (client ? client.sendRequest<ResolveResult[]>(Methods.resolve, { names }) : []),
  };
}

function showStatus(item: vscode.StatusBarItem, s: IndexStatus): void {
  if (s.state === 'indexing') {
    item.text = s.total ? `$(sync~spin) Seam: indexing ${s.done}/${s.total}` : '$(sync~spin) Seam: indexing';
    item.tooltip = 'Seam is indexing Python, C and Rust sources';
  } else if (s.state === 'ready') {
    item.text = `$(check) Seam: ${s.names.toLocaleString('en-US')} names`;
    item.tooltip = `Seam index ready: ${s.names} Python names from ${s.total} files, ${Math.round(s.ms)} ms${s.warm ? ' (from cache)' : ''}. Click for the log.`;
  } else {
    item.text = '$(error) Seam: index failed';
    item.tooltip = s.message ?? 'indexing failed: see the Seam log';
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
