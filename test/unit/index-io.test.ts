import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, chmodSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { walkRoots } from '../../src/index/walk';
import { readSource } from '../../src/index/fileReader';
import { cachePathFor, loadCache, saveCache } from '../../src/index/cache';

function tree(): string {
  const d = mkdtempSync(join(tmpdir(), 'seam-io-'));
  mkdirSync(join(d, 'pkg', 'sub'), { recursive: true });
  writeFileSync(join(d, 'pkg', '__init__.py'), '');
  writeFileSync(join(d, 'pkg', 'sub', 'a.c'), 'int f(void) { return 0; }\n');
  writeFileSync(join(d, 'pkg', 'lib.rs'), 'fn x() {}\n');
  writeFileSync(join(d, 'Cargo.toml'), '[package]\nname = "x"\n');
  mkdirSync(join(d, 'node_modules', 'junk'), { recursive: true });
  writeFileSync(join(d, 'node_modules', 'junk', 'b.c'), '');
  return d;
}

test('walk finds sources, manifests and packages; skips tool folders', () => {
  const d = tree();
  const w = walkRoots([d], { followSymlinks: false });
  assert.deepEqual(w.files.map((f) => [f.path.slice(d.length), f.lang]).sort(), [
    ['/pkg/__init__.py', 'python'], ['/pkg/lib.rs', 'rust'], ['/pkg/sub/a.c', 'c'],
  ]);
  assert.deepEqual(w.manifests, [join(d, 'Cargo.toml')]);
  assert.ok(w.packageDirs.has(join(d, 'pkg')));
});

test('walk survives a symlink loop and does not leave the root through a link', () => {
  const d = tree();
  const outside = mkdtempSync(join(tmpdir(), 'seam-out-'));
  writeFileSync(join(outside, 'secret.c'), 'int s;');
  symlinkSync(d, join(d, 'pkg', 'loop'));
  symlinkSync(outside, join(d, 'escape'));
  const w = walkRoots([d], { followSymlinks: false });
  assert.equal(w.files.filter((f) => f.path.endsWith('a.c')).length, 1);
  assert.ok(!w.files.some((f) => f.path.endsWith('secret.c')));
  assert.ok(w.skipped.some((s) => s.includes('escape') && s.includes('followSymlinks')));
  const followed = walkRoots([d], { followSymlinks: true });
  assert.ok(followed.files.some((f) => f.path.endsWith('secret.c')));
});

test('walk reports a missing root and an unreadable directory, and goes on', () => {
  const d = tree();
  const w = walkRoots([join(d, 'nope'), d], { followSymlinks: false });
  assert.ok(w.skipped.some((s) => s.includes('nope')));
  assert.ok(w.files.length >= 3);
  if (process.getuid?.() !== 0) {
    chmodSync(join(d, 'pkg', 'sub'), 0);
    const w2 = walkRoots([d], { followSymlinks: false });
    assert.ok(w2.skipped.some((s) => s.includes('not readable')));
  }
});

test('readSource refuses binary, non-UTF-8 and oversized files with a reason', () => {
  const d = mkdtempSync(join(tmpdir(), 'seam-read-'));
  writeFileSync(join(d, 'bin.c'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1]));
  writeFileSync(join(d, 'latin.c'), Buffer.from('/* caf\xe9 */', 'latin1'));
  writeFileSync(join(d, 'big.c'), 'x'.repeat(2048));
  writeFileSync(join(d, 'ok.c'), 'int ok; /* é */');
  assert.deepEqual(readSource(join(d, 'bin.c')), { skip: 'binary (NUL byte)' });
  assert.deepEqual(readSource(join(d, 'latin.c')), { skip: 'not UTF-8' });
  assert.match((readSource(join(d, 'big.c'), 1024) as { skip: string }).skip, /over the .* limit/);
  assert.match((readSource(join(d, 'gone.c')) as { skip: string }).skip, /ENOENT/);
  assert.deepEqual(readSource(join(d, 'ok.c')), { text: 'int ok; /* é */' });
});

test('cache round-trips, and a corrupt or foreign cache is discarded, never trusted', () => {
  const d = mkdtempSync(join(tmpdir(), 'seam-cache-'));
  const p = cachePathFor(d, ['/r']);
  const files = new Map([['/r/a.c', { mtimeMs: 1, size: 2, facts: null }]]);
  assert.equal(saveCache(p, d, 'v1', ['/r'], files), undefined);
  const ok = loadCache(p, 'v1', ['/r']);
  assert.ok(ok.ok && ok.files.get('/r/a.c')?.size === 2);
  const other = loadCache(p, 'v2', ['/r']);
  assert.ok(!other.ok && /another version/.test(other.reason ?? ''));
  writeFileSync(p, readFileSync(p, 'utf8').slice(0, 20));
  const bad = loadCache(p, 'v1', ['/r']);
  assert.ok(!bad.ok && /corrupt/.test(bad.reason ?? ''));
  assert.ok(!existsSync(p), 'a corrupt cache file is removed');
  assert.deepEqual(loadCache(p, 'v1', ['/r']), { ok: false, reason: undefined });
});

test('the linkers\' output round-trips through the cache exactly (written with each file path once)', () => {
  const d = mkdtempSync(join(tmpdir(), 'seam-cache-'));
  const p = cachePathFor(d, ['/r']);
  const files = new Map([['/r/a.c', { mtimeMs: 1, size: 2, facts: null }]]);
  const link = {
    key: 'k1',
    outputs: [
      {
        bindings: [
          { name: 'm', target: { language: 'c' as const, kind: 'module' as const, file: '/r/a.c', line: 9, symbol: 'mdef', style: 'c-api' as const, evidence: '`PyModuleDef` `mdef`' } },
          { name: 'm.f', target: { language: 'c' as const, kind: 'function' as const, file: '/r/a.c', line: 3, symbol: 'f_impl', style: 'c-api' as const, rank: 0 } },
          { name: 'm.g', target: { language: 'c' as const, kind: 'function' as const, file: '/r/b.h', line: 1, symbol: 'g', style: 'c-api' as const, evidence: 'generated by `FUNC1`', rank: 2 } },
        ],
        aliases: [],
        warnings: [],
      },
      {
        bindings: [{ name: 'p.h', target: { language: 'python' as const, kind: 'function' as const, file: '/r/p.py', line: 4, symbol: 'h', style: 'python' as const, rank: 20 } }],
        aliases: [{ from: 'p', to: 'm', star: true, file: '/r/p.py', line: 1, guarded: true }],
        warnings: [],
      },
    ],
  };
  assert.equal(saveCache(p, d, 'v1', ['/r'], files, link), undefined);
  const text = readFileSync(p, 'utf8');
  assert.equal(text.split('/r/a.c').length - 1, 2, 'each file path written once in the link (and once as a file entry)');
  const back = loadCache(p, 'v1', ['/r']);
  assert.ok(back.ok);
  assert.deepEqual(back.link, link);
});

test('a cache that cannot be written is reported, not thrown', () => {
  const d = mkdtempSync(join(tmpdir(), 'seam-ro-'));
  writeFileSync(join(d, 'file'), '');
  const dir = join(d, 'file', 'sub'); // a path through a regular file: ENOTDIR, even as root
  const err = saveCache(join(dir, 'index.json'), dir, 'v1', ['/r'], new Map());
  assert.match(err ?? '', /not saved/);
});
