/**
 * The VS Code side of Seam's debugger: the adapter is a separate Node process (dist/adapter.js,
 * which imports no `vscode`); here we only resolve launch configurations (the interpreter the
 * Python extension selected, workspace trust) and offer a process picker.
 */
import * as vscode from 'vscode';
import { execFile } from 'node:child_process';

export function registerDebugger(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): void {
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory('seam', {
      createDebugAdapterDescriptor: () =>
        new vscode.DebugAdapterExecutable(process.execPath, [context.asAbsolutePath('dist/adapter.js')], {
          env: { ELECTRON_RUN_AS_NODE: '1' },
        }),
    }),
    vscode.debug.registerDebugConfigurationProvider('seam', {
      async resolveDebugConfiguration(folder, config) {
        if (!config.type && !config.request) {
          // F5 with no launch.json: run the active Python file.
          const editor = vscode.window.activeTextEditor;
          if (editor?.document.languageId !== 'python') return undefined;
          Object.assign(config, { type: 'seam', request: 'launch', name: 'Seam: launch', program: editor.document.fileName, cwd: folder?.uri.fsPath });
        }
        if (!vscode.workspace.isTrusted) {
          void vscode.window.showErrorMessage('Seam does not start debuggers in an untrusted workspace: trust the workspace first (Workspaces: Manage Workspace Trust).');
          return undefined;
        }
        const cfg = vscode.workspace.getConfiguration('seam', folder);
        config.gdbPath ??= cfg.get<string>('gdbPath') || undefined;
        config.debugger ??= cfg.get<string>('debugger') || undefined;
        config.lldbDapPath ??= cfg.get<string>('lldbDapPath') || undefined;
        config.showGlue ??= cfg.get<boolean>('debug.showGlue');
        config.python ??= await selectedInterpreter(folder, log);
        return config;
      },
    }),
    vscode.commands.registerCommand('seam.pickProcess', pickProcess),
  );
}

/** The interpreter selected in the Python extension, when it is installed. */
async function selectedInterpreter(folder: vscode.WorkspaceFolder | undefined, log: vscode.LogOutputChannel): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension('ms-python.python');
  if (!ext) return undefined;
  try {
    const api = (ext.isActive ? ext.exports : await ext.activate()) as {
      environments?: { getActiveEnvironmentPath(r?: vscode.Uri): { path: string } };
    };
    return api.environments?.getActiveEnvironmentPath(folder?.uri).path;
  } catch (e) {
    log.warn(`could not ask the Python extension for its interpreter: ${(e as Error).message}`);
    return undefined;
  }
}

async function pickProcess(): Promise<string | undefined> {
  const out = await new Promise<string>((resolve) => {
    execFile('ps', ['-eo', 'pid=,user=,args='], { maxBuffer: 1 << 22 }, (_e, stdout) => resolve(stdout ?? ''));
  });
  const items = out.split('\n').filter(Boolean).map((l) => {
    const m = /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(l);
    return m ? { label: m[3].slice(0, 120), description: `pid ${m[1]} · ${m[2]}`, pid: m[1], python: /python/i.test(m[3]) } : undefined;
  }).filter((x): x is NonNullable<typeof x> => !!x && Number(x.pid) !== process.pid);
  items.sort((a, b) => Number(b.python) - Number(a.python));
  const pick = await vscode.window.showQuickPick(items, { title: 'Seam: attach to a process', matchOnDescription: true, placeHolder: 'Python processes first' });
  return pick?.pid;
}
