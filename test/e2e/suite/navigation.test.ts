/**
 * Navigation in a real VS Code, on the sample workspace (test/fixtures/sample) with CPython 3.13's
 * sources as `seam.cpythonSource` (set by scripts/e2e.mjs): Go to Implementation/Definition,
 * hover, workspace symbols and the Rust CodeLens, each through VS Code's own command layer.
 *
 * Positions are found by text (`math.sqrt(` in sample/app.py, `fn leaf` in engine/src/lib.rs) and
 * expected Python names come from the fixtures' `@py` line tags, never from line numbers.
 * Waits are on events (index ready, active editor changed); the only fixed wait is the settle
 * after asking the runner for a screenshot (it cannot answer back).
 */
import * as assert from 'node:assert/strict';
import { before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { tagsInText } from '../../helpers/tags';

const EXTENSION_ID = 'seam-dev.seam';
const INDEX_TIMEOUT_MS = 180_000;
/** How long a test waits after `SEAM_SCREENSHOT <name>` for the runner to capture the page. */
const SCREENSHOT_SETTLE_MS = 1_500;

interface SeamApi {
  whenIndexReady(): Promise<{ names: number }>;
}

type AnyLocation = vscode.Location | vscode.LocationLink;

function target(loc: AnyLocation): { uri: vscode.Uri; range: vscode.Range } {
  return 'targetUri' in loc
    ? { uri: loc.targetUri, range: loc.targetSelectionRange ?? loc.targetRange }
    : { uri: loc.uri, range: loc.range };
}

function withTimeout<T>(p: Thenable<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    Promise.resolve(p).finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

async function findOne(glob: string, suffix: string): Promise<vscode.Uri> {
  const uris = await vscode.workspace.findFiles(glob);
  const hit = uris.find((u) => u.path.endsWith(suffix));
  assert.ok(hit, `no ${suffix} in the workspace (found: ${uris.map((u) => u.path).join(', ') || 'none'})`);
  return hit;
}

/** The position of `needle` in the document, `offset` characters into it. */
function positionOf(doc: vscode.TextDocument, needle: string, offset = 0): vscode.Position {
  const at = doc.getText().indexOf(needle);
  assert.ok(at >= 0, `${vscode.workspace.asRelativePath(doc.uri)} has no "${needle}"`);
  return doc.positionAt(at + offset);
}

function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n');
}

/** Resolves when the active editor shows a file whose path ends with `suffix`. */
function activeEditorEndsWith(suffix: string, ms: number): Promise<vscode.TextEditor> {
  const now = vscode.window.activeTextEditor;
  if (now?.document.uri.path.endsWith(suffix)) return Promise.resolve(now);
  let sub: vscode.Disposable | undefined;
  const changed = new Promise<vscode.TextEditor>((resolve) => {
    sub = vscode.window.onDidChangeActiveTextEditor((e) => {
      if (e?.document.uri.path.endsWith(suffix)) resolve(e);
    });
  });
  const active = () => vscode.window.activeTextEditor?.document.uri.path ?? 'none';
  return withTimeout(changed, ms, `active editor to become ${suffix} (it is ${active()})`).finally(() => sub?.dispose());
}

async function screenshot(name: string): Promise<void> {
  console.log(`SEAM_SCREENSHOT ${name}`);
  await new Promise((r) => setTimeout(r, SCREENSHOT_SETTLE_MS));
}

describe('navigation in VS Code', () => {
  let appUri: vscode.Uri;
  let sqrtAt: vscode.Position;

  before(async function () {
    this.timeout(INDEX_TIMEOUT_MS + 30_000);
    const ext = vscode.extensions.getExtension<SeamApi>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
    const api = await ext.activate();
    const status = await withTimeout(api.whenIndexReady(), INDEX_TIMEOUT_MS, 'the Seam index');
    assert.ok(status.names > 0, `the index is ready but binds no names: ${JSON.stringify(status)}`);
    console.log(`index ready: ${status.names} names`);

    appUri = await findOne('**/app.py', 'sample/app.py');
    const doc = await vscode.workspace.openTextDocument(appUri);
    sqrtAt = positionOf(doc, 'math.sqrt(', 'math.s'.length); // inside `sqrt`
  });

  async function expectMathmoduleSqrt(command: string): Promise<void> {
    const locs = await vscode.commands.executeCommand<AnyLocation[]>(command, appUri, sqrtAt);
    assert.ok(locs?.length, `${command} on math.sqrt gave no location`);
    const first = target(locs[0]);
    assert.ok(first.uri.path.endsWith('Modules/mathmodule.c'), `${command}: first target is ${first.uri.path}`);
    const c = await vscode.workspace.openTextDocument(first.uri);
    const text = c.lineAt(first.range.start.line).text;
    assert.match(text, /sqrt/, `${command}: mathmodule.c:${first.range.start.line + 1} is "${text}"`);
  }

  it('Go to Implementation of math.sqrt lands in Modules/mathmodule.c', () =>
    expectMathmoduleSqrt('vscode.executeImplementationProvider'));

  it('Go to Definition of math.sqrt lands in Modules/mathmodule.c', () =>
    expectMathmoduleSqrt('vscode.executeDefinitionProvider'));

  it('hover on math.sqrt names its C implementation', async () => {
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', appUri, sqrtAt);
    const text = hoverText(hovers ?? []);
    assert.ok(text.includes('C —'), `hover does not say "C —": ${JSON.stringify(text)}`);
    assert.ok(text.includes('mathmodule.c'), `hover does not name mathmodule.c: ${JSON.stringify(text)}`);
  });

  it('shows the hover and goes to the implementation in the editor', async () => {
    const editor = await vscode.window.showTextDocument(appUri, { preview: false });
    const word = editor.document.getWordRangeAtPosition(sqrtAt);
    assert.ok(word, 'no word at math.sqrt');
    editor.selection = new vscode.Selection(word.start, word.end);
    editor.revealRange(word, vscode.TextEditorRevealType.InCenter);
    await vscode.commands.executeCommand('editor.action.showHover');
    await screenshot('hover-math-sqrt');

    editor.selection = new vscode.Selection(word.start, word.start);
    const arrived = activeEditorEndsWith('Modules/mathmodule.c', 30_000);
    await vscode.commands.executeCommand('editor.action.goToImplementation');
    const c = await arrived;
    assert.match(c.document.lineAt(c.selection.active.line).text, /sqrt/);
    await screenshot('goto-implementation');
  });

  it('workspace symbols for "sqrt" include math.sqrt', async () => {
    const symbols = await vscode.commands.executeCommand<vscode.SymbolInformation[]>(
      'vscode.executeWorkspaceSymbolProvider', 'sqrt');
    const names = (symbols ?? []).map((s) => s.name);
    assert.ok(names.includes('math.sqrt'), `no math.sqrt among ${names.length} symbols: ${names.slice(0, 20).join(', ')}`);
  });

  it('a CodeLens over the Rust fn leaf names its Python name', async () => {
    const lib = await findOne('**/engine/src/lib.rs', 'engine/src/lib.rs');
    const doc = await vscode.workspace.openTextDocument(lib);
    const fnLine = positionOf(doc, 'fn leaf').line;
    const tag = tagsInText(doc.getText(), lib.fsPath).find((t) => t.best && t.line === fnLine + 1);
    assert.ok(tag, 'engine/src/lib.rs: the `fn leaf` line has no `@py` tag');
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider', lib, 100);
    // "Over the fn": on the fn line or on its attribute lines just above it.
    const near = (lenses ?? []).filter((l) => l.range.start.line <= fnLine && l.range.start.line >= fnLine - 3);
    const titles = near.map((l) => l.command?.title ?? '');
    assert.ok(titles.some((t) => t.includes(tag.name)),
      `no CodeLens naming ${tag.name} over fn leaf (line ${fnLine + 1}); lenses there: ${JSON.stringify(titles)}`);
  });
});
