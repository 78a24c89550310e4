/**
 * The symbolizer's answers kept on disk (src/debug/native/symbolCache.ts): a later session
 * answers from the file what an earlier one computed, identically; a rebuilt object (another
 * mtime), a damaged cache file or another format is computed again; SEAM_LAYOUT_CACHE=0 keeps
 * nothing. On a small C program the test compiles with -g.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElfFile } from '../../src/debug/native/elf';
import { CachedSymbolizer, symbolCacheDir } from '../../src/debug/native/symbolCache';

const SOURCE = `
static inline int twice(int x) { return x * 2; }
__attribute__((noinline)) int work(int x) { return twice(x) + 1; }
int main(int argc, char **argv) { (void)argv; return work(argc); }
`;

function build(dir: string): string {
  writeFileSync(join(dir, 'prog.c'), SOURCE);
  const out = join(dir, 'prog');
  const r = spawnSync('gcc', ['-g', '-O2', '-o', out, join(dir, 'prog.c')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `gcc: ${r.stderr}`);
  return out;
}

test('answers kept for the next session, equal; a rebuilt file or a damaged cache is computed again', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seam-symcache-unit-'));
  try {
    const prog = build(dir);
    const cache = join(dir, 'symbols');
    const elf = new ElfFile(prog);
    const work = elf.functions().find((f) => f.name === 'work');
    assert.ok(work, 'work() in the symbol table');
    const addrs = [work.addr, work.addr + 1n, work.addr + 2n];

    const first = new CachedSymbolizer(elf, undefined, prog, cache);
    assert.equal(first.persisted, 0, 'nothing on disk yet');
    const answers = addrs.map((a) => first.frames(a));
    const entries = addrs.map((a) => first.inlinedEntriesAt(a));
    assert.ok(answers[0].some((f) => f.function === 'work' && f.line !== undefined), 'work() with its line');
    first.save();
    assert.equal(readdirSync(cache).length, 1, 'one file per object build');

    const later = new CachedSymbolizer(new ElfFile(prog), undefined, prog, cache);
    assert.equal(later.persisted, addrs.length, 'every address answered from the file');
    assert.ok(addrs.every((a) => later.knowsFrames(Number(a))));
    assert.deepEqual(addrs.map((a) => later.frames(a)), answers);
    assert.deepEqual(addrs.map((a) => later.inlinedEntriesAt(a)), entries);

    // The object rebuilt (another mtime): another key, nothing found.
    utimesSync(prog, new Date(), new Date(Date.now() + 5000));
    assert.equal(new CachedSymbolizer(new ElfFile(prog), undefined, prog, cache).persisted, 0, 'a rebuilt file is computed again');

    // A damaged cache file is ignored, and the answers are computed as without it.
    const fresh = new CachedSymbolizer(new ElfFile(prog), undefined, prog, cache);
    fresh.frames(work.addr);
    fresh.save();
    for (const f of readdirSync(cache)) writeFileSync(join(cache, f), '{"key": 1, "frames": [[');
    const damaged = new CachedSymbolizer(new ElfFile(prog), undefined, prog, cache);
    assert.equal(damaged.persisted, 0);
    assert.deepEqual(damaged.frames(work.addr), answers[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SEAM_LAYOUT_CACHE: 0 keeps no symbols, a file path puts them beside it', () => {
  const saved = process.env.SEAM_LAYOUT_CACHE;
  try {
    process.env.SEAM_LAYOUT_CACHE = '0';
    assert.equal(symbolCacheDir(), undefined);
    process.env.SEAM_LAYOUT_CACHE = '/some/where/layouts.json';
    assert.equal(symbolCacheDir(), '/some/where/symbols');
    delete process.env.SEAM_LAYOUT_CACHE;
    assert.match(symbolCacheDir() ?? '', /\/seam\/symbols$/);
  } finally {
    if (saved === undefined) delete process.env.SEAM_LAYOUT_CACHE; else process.env.SEAM_LAYOUT_CACHE = saved;
  }
});
