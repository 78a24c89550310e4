/**
 * Index faults (issue 6 §2), through the real CLI (`bin/seam index|resolve`) and the real language
 * server, on generated trees:
 *
 * - a full disk while the cache is written: the cache directory is a 16 KB tmpfs (mounted here when
 *   we may: root with CAP_SYS_ADMIN), so the write fails with ENOSPC; without mount rights the cache
 *   directory is made impossible to create (ENOTDIR), the same error path without ENOSPC. The index
 *   must work, say why the cache was not saved, leave no partial file, and work again next time;
 * - a corrupt cache file (cut short, binary garbage, valid JSON of the wrong shape, another
 *   version): discarded with a message and rebuilt, the answers equal to a run without cache;
 * - a source tree that changes while it is being indexed: no crash, and the next (warm) start
 *   agrees with a fresh index of the final tree (nothing stale is trusted).
 */
import { createHash } from 'node:crypto';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LspClient } from '../integration/lsp-client';
import { record } from './figures';
import { generateTree, modulePath, moduleSource, resolvedShape, seamAsync, seamSync, type IndexJson } from './tree';

const work = mkdtempSync(join(tmpdir(), 'seam-hardening-index-'));
const mounts: string[] = [];
after(() => {
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  rmSync(work, { recursive: true, force: true });
});

const NAMES = (n: number, step = 37) => Array.from({ length: Math.ceil(n / step) }, (_, k) => [`mod_${k * step}`, `mod_${k * step}.f`, `mod_${k * step}.g`]).flat();

function indexJson(args: string[]): { json: IndexJson; stderr: string } {
  const r = seamSync(['index', ...args, '--json'], { SEAM_LOG: '1' });
  assert.equal(r.status, 0, `seam index ${args.join(' ')}: exit ${r.status}\n${r.stderr.slice(-3000)}`);
  assert.doesNotMatch(r.stderr, /internal error|TypeError|RangeError|\n\s+at .*\.js:\d+/, `no stack trace:\n${r.stderr.slice(-3000)}`);
  return { json: JSON.parse(r.stdout) as IndexJson, stderr: r.stderr };
}

function resolveShape(root: string, names: string[], cache: string[]): string[] {
  const r = seamSync(['resolve', ...names, '--root', root, '--json', ...cache]);
  assert.ok(r.status === 0 || r.status === 1, `seam resolve: exit ${r.status}\n${r.stderr.slice(-3000)}`);
  return resolvedShape(r.stdout);
}

/** A directory on a tmpfs of `kb` KB, or undefined when this machine does not let us mount one. */
function smallTmpfs(kb: number): string | undefined {
  const dir = join(work, `tmpfs-${kb}k`);
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k,mode=0755`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  mounts.push(dir);
  return dir;
}

test('a full disk while the index cache is written: the index works, says why, leaves no partial file, and recovers', { timeout: 180_000 }, async (t) => {
  const root = join(work, 'disk-full-tree');
  generateTree(root, 300);
  const fresh = indexJson(['--root', root, '--no-cache']).json;
  assert.equal(fresh.names, 600, 'two names per generated module');

  let cacheDir = smallTmpfs(16);
  let method = 'tmpfs of 16 KB (ENOSPC)';
  let expect = /index cache not saved \(ENOSPC\)/;
  if (!cacheDir) {
    // No mount rights: a cache directory that cannot be created (a file where its parent should be).
    writeFileSync(join(work, 'not-a-dir'), '');
    cacheDir = join(work, 'not-a-dir', 'cache');
    method = 'cache dir under a regular file (ENOTDIR; no mount rights for a small tmpfs)';
    expect = /index cache not saved \(ENOTDIR\)/;
  }
  t.diagnostic(`disk-full method: ${method}`);
  const first = indexJson(['--root', root, '--cache-dir', cacheDir]);
  assert.equal(first.json.names, fresh.names, 'the index is whole without its cache');
  assert.match(first.stderr, expect, first.stderr.slice(-2000));
  const left = existsSync(cacheDir) && statSync(cacheDir).isDirectory() ? readdirSync(cacheDir) : [];
  assert.deepEqual(left.filter((f) => f.endsWith('.tmp') || f.startsWith('index-')), [], `no partial cache file left: ${left}`);
  // Next start: still whole, still says why; the same answers as without any cache.
  const second = indexJson(['--root', root, '--cache-dir', cacheDir]);
  assert.equal(second.json.names, fresh.names);
  assert.equal(second.json.warm, false);
  assert.deepEqual(resolveShape(root, NAMES(300), ['--cache-dir', cacheDir]), resolveShape(root, NAMES(300), ['--no-cache']));

  // The language server on the same full disk: ready with every name, and the reason in its log.
  const lsp = LspClient.start({ requestTimeoutMs: 60_000 });
  try {
    await lsp.initialize({ workspaceFolders: [root], initializationOptions: { cacheDir } });
    const status = await lsp.waitForNotification<{ state: string; names: number }>('seam/indexStatus', (s) => s.state !== 'indexing', 60_000);
    assert.equal(status.state, 'ready', JSON.stringify(status));
    assert.equal(status.names, fresh.names);
    const logs = lsp.notifications.filter((n) => n.method === 'window/logMessage').map((n) => (n.params as { message: string }).message).join('\n');
    assert.match(logs, expect, logs.slice(-2000));
    const r = await lsp.request<{ name: string; targets: unknown[] }[]>('seam/resolve', { names: ['mod_5.f'] });
    assert.equal(r[0].targets.length, 1, 'the server answers from its in-memory index');
  } finally {
    await lsp.shutdown();
  }
  // Space again (a real directory): the cache is written and the next start is warm.
  const roomy = join(work, 'roomy-cache');
  indexJson(['--root', root, '--cache-dir', roomy]);
  const warm = indexJson(['--root', root, '--cache-dir', roomy]).json;
  assert.equal(warm.warm, true);
  assert.equal(warm.names, fresh.names);
  record({ kind: 'fault', name: 'disk full during cache write', survived: true, method, files: 300 });
});

type Corruption = [name: string, damage: (text: string) => string | Buffer, message: RegExp];
/** The cache file is a header line (format, sha256 of the body) and a body in lines: the
 *  identity (format, extractors, roots), each file's facts, the stamps and link last. Shape damage
 *  is made to a line and re-signed, so it reaches the checks past the digest. */
const body = (s: string): string => s.slice(s.indexOf('\n') + 1);
const format = (s: string): string => /^seam-index-cache (\d+) /.exec(s)![1];
const signed = (like: string, lines: string[]): string => {
  const b = lines.join('\n');
  return `seam-index-cache ${format(like)} sha256=${createHash('sha256').update(b).digest('hex')}\n${b}`;
};
/** Re-signed with the identity line (first) or the stamps line (last) changed. */
const withIdentity = (s: string, change: (id: Record<string, unknown>) => unknown): string => {
  const lines = body(s).split('\n');
  return signed(s, [JSON.stringify(change(JSON.parse(lines[0]) as Record<string, unknown>)), ...lines.slice(1)]);
};
const withStamps = (s: string, change: (st: Record<string, unknown>) => unknown): string => {
  const lines = body(s).split('\n');
  return signed(s, [...lines.slice(0, -1), JSON.stringify(change(JSON.parse(lines[lines.length - 1]) as Record<string, unknown>))]);
};
/** The body parses, line by line (a rebuilt cache). */
const parses = (s: string): void => { for (const l of body(s).split('\n')) JSON.parse(l); };
const CORRUPTIONS: Corruption[] = [
  ['cut in half', (s) => s.slice(0, Math.floor(s.length / 2)), /corrupt .*discarded and rebuilding/],
  ['empty file', () => '', /corrupt .*discarded and rebuilding/],
  ['binary garbage', () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) & 0xff)), /corrupt .*discarded and rebuilding/],
  ['JSON null', () => 'null', /corrupt .*discarded and rebuilding/],
  ['one line', (s) => signed(s, [body(s).split('\n').join(' ')]), /corrupt .*discarded and rebuilding/],
  ['files: null', (s) => withStamps(s, (st) => ({ ...st, files: null })), /corrupt .*discarded and rebuilding/],
  ['facts out of the file', (s) => withStamps(s, (st) => ({ ...st, files: Object.fromEntries(Object.entries(st.files as Record<string, object>).map(([p, f]) => [p, { ...f, facts: [0, 1e9] }])) })), /corrupt .*out of bounds.*discarded and rebuilding/],
  ['roots: a number', (s) => withIdentity(s, (id) => ({ ...id, roots: 5 })), /corrupt .*discarded and rebuilding|rebuilding/],
  ['another Seam version', (s) => withIdentity(s, (id) => ({ ...id, extractors: 'c0.r0.p0' })), /made by another version of Seam; rebuilding/],
  ['another format', (s) => withIdentity(s, (id) => ({ ...id, format: 999 })), /made by another version of Seam; rebuilding/],
  ['NUL bytes in the middle', (s) => s.slice(0, 100) + '\0'.repeat(64) + s.slice(164), /corrupt .*discarded and rebuilding/],
];

test('a corrupt cache file is discarded with a message and rebuilt, never trusted', { timeout: 180_000 }, async (t) => {
  const root = join(work, 'corrupt-tree');
  generateTree(root, 120);
  const names = NAMES(120, 7);
  const truth = resolveShape(root, names, ['--no-cache']);
  const cacheDir = join(work, 'corrupt-cache');
  indexJson(['--root', root, '--cache-dir', cacheDir]);
  const file = readdirSync(cacheDir).find((f) => /^index-.*\.json$/.test(f));
  assert.ok(file, 'a cache file was written');
  const path = join(cacheDir, file);
  const good = readFileSync(path, 'utf8');
  let survived = 0;
  for (const [name, damage, message] of CORRUPTIONS) {
    writeFileSync(path, damage(good));
    const r = indexJson(['--root', root, '--cache-dir', cacheDir]);
    assert.equal(r.json.warm, false, `${name}: not served from the damaged cache`);
    assert.equal(r.json.fromCache, 0, `${name}: nothing taken from it`);
    assert.equal(r.json.names, 240, `${name}: every name`);
    assert.match(r.stderr, message, `${name}: the log says why\n${r.stderr.slice(-1500)}`);
    // Rebuilt: the file parses again and the next start is warm and right.
    parses(readFileSync(path, 'utf8'));
    assert.equal(indexJson(['--root', root, '--cache-dir', cacheDir]).json.warm, true, `${name}: rebuilt cache used`);
    assert.deepEqual(resolveShape(root, names, ['--cache-dir', cacheDir]), truth, `${name}: answers`);
    survived++;
  }
  t.diagnostic(`${survived} corruptions survived: ${CORRUPTIONS.map(([n]) => n).join(', ')}`);
  record({ kind: 'fault', name: 'corrupt cache file', survived, variants: CORRUPTIONS.length });
});

test('a file\'s facts that do not parse in a re-signed cache are read again from the file when needed', { timeout: 120_000 }, async () => {
  const root = join(work, 'facts-tree');
  generateTree(root, 20);
  const truth = resolveShape(root, ['mod_3.f', 'mod_4.f'], ['--no-cache']);
  const cacheDir = join(work, 'facts-cache');
  indexJson(['--root', root, '--cache-dir', cacheDir]);
  const path = join(cacheDir, readdirSync(cacheDir).find((f) => f.endsWith('.json'))!);
  const good = readFileSync(path, 'utf8');
  const lines = body(good).split('\n');
  // Every file's facts line garbled, at the same length (the stamps' offsets still hold).
  const garbled = lines.map((l, i) => (i === 0 || i === lines.length - 1 ? l : `{${'x'.repeat(l.length - 2)}}`));
  writeFileSync(path, signed(good, garbled));
  // Nothing changed: the warm start uses the link and reads no facts.
  assert.deepEqual(resolveShape(root, ['mod_3.f', 'mod_4.f'], ['--cache-dir', cacheDir]), truth);
  // A changed file relinks everything: the garbled facts are read again from their files.
  writeFileSync(modulePath(root, 4), moduleSource(4, 0) + '\n');
  const r = seamSync(['resolve', 'mod_3.f', 'mod_4.f', '--root', root, '--cache-dir', cacheDir, '--json'], { SEAM_LOG: '1' });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  assert.match(r.stderr, /facts of .* unreadable .*read again from the file/);
  assert.deepEqual(resolveShape(root, ['mod_3.f', 'mod_4.f'], ['--cache-dir', cacheDir]), truth);
});

test('a cache damaged inside valid JSON (a symbol renamed, a line moved) is not trusted', {
  timeout: 120_000,
}, async () => {
  const root = join(work, 'semantic-tree');
  generateTree(root, 20);
  const truth = resolveShape(root, ['mod_3.f'], ['--no-cache']);
  const cacheDir = join(work, 'semantic-cache');
  indexJson(['--root', root, '--cache-dir', cacheDir]);
  const path = join(cacheDir, readdirSync(cacheDir).find((f) => f.endsWith('.json'))!);
  writeFileSync(path, readFileSync(path, 'utf8').replaceAll('mod_3_f', 'mod_3_EVIL'));
  assert.deepEqual(resolveShape(root, ['mod_3.f'], ['--cache-dir', cacheDir]), truth);
});

test('a source tree that changes during indexing: no crash, and the next start agrees with a fresh index', { timeout: 240_000 }, async (t) => {
  const root = join(work, 'moving-tree');
  const N = 2000;
  generateTree(root, N);
  mkdirSync(join(root, 'added'));
  const cacheDir = join(work, 'moving-cache');
  let edits = 0, deleted = 0, added = 0, renamed = 0, variant = 0;
  const run = seamAsync(['index', '--root', root, '--cache-dir', cacheDir, '--json'], { SEAM_LOG: '1' });
  let finished = false;
  const result = run.done.then((r) => { finished = true; return r; });
  // Change the tree as fast as we can until the indexer is done: rewrite (the function renamed
  // f -> g), delete, add, rename whole files.
  for (let k = 0; !finished; k++) {
    const i = (k * 7919) % N;
    const p = modulePath(root, i);
    try {
      switch (k % 4) {
        case 0: writeFileSync(p, moduleSource(i, (variant = 1 - variant))); edits++; break;
        case 1: unlinkSync(p); deleted++; break;
        case 2: writeFileSync(join(root, 'added', `mod_${N + k}.c`), moduleSource(N + k)); added++; break;
        case 3: renameSync(p, `${p.slice(0, -2)}_moved.c`); renamed++; break;
      }
    } catch {
      // already deleted or moved
    }
    if (k % 20 === 0) await new Promise((r) => setImmediate(r));
  }
  const r = await result;
  assert.equal(r.status, 0, `seam index while the tree changed: exit ${r.status}\n${r.stderr.slice(-3000)}`);
  assert.doesNotMatch(r.stderr, /internal error|TypeError|RangeError|\n\s+at .*\.js:\d+/, r.stderr.slice(-3000));
  const during = JSON.parse(r.stdout) as IndexJson;
  t.diagnostic(`indexed ${during.files} files in ${r.ms} ms while ${edits} files were rewritten, ${deleted} deleted, ${added} added, ${renamed} renamed`);
  // The tree is still now. A warm start must give exactly what a fresh index gives.
  const names = [...NAMES(N, 13), ...Array.from({ length: 40 }, (_, k) => `mod_${N + k * 4 + 2}.f`)];
  const fresh = indexJson(['--root', root, '--no-cache']).json;
  const warm = indexJson(['--root', root, '--cache-dir', cacheDir]).json;
  assert.equal(warm.names, fresh.names, `warm start after a moving tree: ${warm.names} names, fresh index ${fresh.names}`);
  assert.deepEqual(resolveShape(root, names, ['--cache-dir', cacheDir]), resolveShape(root, names, ['--no-cache']));
  record({ kind: 'fault', name: 'tree changing during indexing', survived: true, files: N, indexMs: r.ms, edits, deleted, added, renamed });
});
