/**
 * The language server over LSP on a copy of the sample workspace: the reverse direction
 * (CodeLens, Find References, hover on a native function), progress while indexing, the
 * persisted cache (a second server starts warm) and incremental updates on file change.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LspClient, fileUri, uriToPath } from './lsp-client';
import { Methods, type IndexStatus, type ResolveResult } from '../../src/protocol';

const SAMPLE = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'sample');
const ws = mkdtempSync(join(tmpdir(), 'seam-lsp-ws-'));
cpSync(SAMPLE, ws, { recursive: true });
const cacheDir = mkdtempSync(join(tmpdir(), 'seam-lsp-cache-'));
const clients: LspClient[] = [];
after(async () => {
  for (const c of clients) await c.shutdown().catch(() => c.kill());
  rmSync(ws, { recursive: true, force: true });
  rmSync(cacheDir, { recursive: true, force: true });
});

interface Lens { range: { start: { line: number } }; command?: { title: string } }
interface Loc { uri: string; range: { start: { line: number; character: number } } }

async function start(): Promise<{ client: LspClient; ready: IndexStatus }> {
  const client = LspClient.start({ requestTimeoutMs: 30_000 });
  clients.push(client);
  await client.initialize({
    workspaceFolders: [ws],
    initializationOptions: { cacheDir },
    capabilities: {
      window: { workDoneProgress: true },
      workspace: { workspaceFolders: true, symbol: {}, didChangeWatchedFiles: { dynamicRegistration: false } },
      textDocument: { hover: { contentFormat: ['markdown'] }, codeLens: {}, references: {}, synchronization: {} },
    },
  });
  const ready = await client.waitForNotification<IndexStatus>(Methods.indexStatus, (s) => s.state !== 'indexing', 60_000);
  assert.equal(ready.state, 'ready', ready.message);
  return { client, ready };
}

function lineOf(file: string, needle: string): number {
  const i = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `${needle} not in ${file}`);
  return i;
}

function open(client: LspClient, file: string, languageId: string): string {
  const uri = fileUri(file);
  client.notify('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text: readFileSync(file, 'utf8') } });
  return uri;
}

test('reverse: CodeLens, hover and Find References from a Rust function; progress; warm restart', async () => {
  const { client, ready } = await start();
  assert.equal(ready.warm, false);
  // Progress was reported: create, begin, end.
  assert.ok(client.serverRequests.includes('window/workDoneProgress/create'), 'progress created');
  const kinds = client.notifications.filter((n) => n.method === '$/progress').map((n) => (n.params as { value: { kind: string } }).value.kind);
  assert.deepEqual([kinds[0], kinds[kinds.length - 1]], ['begin', 'end']);

  const lib = join(ws, 'engine', 'src', 'lib.rs');
  const uri = open(client, lib, 'rust');
  const leafLine = lineOf(lib, 'fn leaf(');
  const lenses = await client.request<Lens[]>('textDocument/codeLens', { textDocument: { uri } });
  const lens = lenses.find((l) => l.range.start.line === leafLine);
  assert.ok(lens, `a lens on fn leaf (line ${leafLine}): ${JSON.stringify(lenses.map((l) => [l.range.start.line, l.command?.title]))}`);
  assert.match(lens.command!.title, /sample\._engine\.leaf/);
  assert.match(lens.command!.title, /sample\.leaf/);

  const character = readFileSync(lib, 'utf8').split('\n')[leafLine].indexOf('leaf') + 1;
  const hover = await client.request<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri }, position: { line: leafLine, character } });
  assert.match(hover.contents.value, /serves Python: .*sample\._engine\.leaf/);

  const refs = await client.request<Loc[]>('textDocument/references', {
    textDocument: { uri }, position: { line: leafLine, character }, context: { includeDeclaration: true },
  });
  const app = join(ws, 'sample', 'app.py');
  const appLine = lineOf(app, 'sample.leaf(');
  assert.ok(refs.some((r) => uriToPath(r.uri) === app && r.range.start.line === appLine), `app.py:${appLine} among ${JSON.stringify(refs)}`);
  assert.ok(refs.some((r) => uriToPath(r.uri) === lib && r.range.start.line === leafLine), 'the declaration itself');
  await client.shutdown();

  // A second server on the same workspace starts from the persisted cache.
  const second = await start();
  assert.equal(second.ready.warm, true, 'warm start from the cache');
  assert.equal(second.ready.names, ready.names);
});

test('incremental update: a new C extension file is indexed on change, a deleted one forgotten', async () => {
  const { client } = await start();
  const file = join(ws, 'csrc', '_extra.c');
  writeFileSync(file, `#include <Python.h>
static PyObject *
extra_twice(PyObject *m, PyObject *a)
{
    return PyNumber_Add(a, a);
}
static PyMethodDef extra_methods[] = {
    {"twice", extra_twice, METH_O, NULL},
    {NULL}
};
static struct PyModuleDef extra_module = { PyModuleDef_HEAD_INIT, "sample._extra", NULL, -1, extra_methods };
`);
  const before = client.notifications.length;
  client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: fileUri(file), type: 1 }] });
  await client.waitForNotification<IndexStatus>(Methods.indexStatus, (s) => s.state === 'ready' && client.notifications.length > before, 30_000);
  let r = await client.request<ResolveResult[]>(Methods.resolve, { names: ['sample._extra.twice'] });
  assert.equal(r[0].targets[0]?.symbol, 'extra_twice');

  rmSync(file);
  const mark = client.notifications.length;
  client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: fileUri(file), type: 3 }] });
  await client.waitForNotification<IndexStatus>(Methods.indexStatus, () => client.notifications.length > mark, 30_000);
  r = await client.request<ResolveResult[]>(Methods.resolve, { names: ['sample._extra.twice'] });
  assert.deepEqual(r[0].targets, []);
});
