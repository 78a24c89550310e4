/**
 * The whole pipeline (walk, read, extract in workers, link, name index) over every fixture tree:
 * each `@py` tag must be its name's best target, each `@py-alt` tag among its targets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Indexer } from '../../src/index/indexer';
import { tagsUnder } from '../helpers/tags';

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures');

const trees = ['sample', 'c', 'python', 'rust/pyo3-classic', 'rust/pyo3-declarative', 'rust/raw-ffi', 'rust/cpython-api'];

for (const tree of trees) {
  test(`every line tag under test/fixtures/${tree} resolves through the indexer`, async () => {
    const root = join(FIXTURES, tree);
    const indexer = new Indexer({ roots: [root] });
    await indexer.build();
    const tags = tagsUnder(root);
    assert.ok(tags.length > 0, 'no tags found');
    const problems: string[] = [];
    for (const tag of tags) {
      const targets = indexer.index.resolve(tag.name);
      const where = `${tag.file.slice(root.length + 1)}:${tag.line}`;
      if (tag.best) {
        const t = targets[0];
        if (!t || t.file !== tag.file || t.line !== tag.line) {
          problems.push(`${tag.name}: want ${where} first, got ${t ? `${t.file.slice(root.length + 1)}:${t.line}` : 'nothing'}`);
        }
      } else if (!targets.some((t) => t.file === tag.file && t.line === tag.line)) {
        problems.push(`${tag.name}: want ${where} among ${targets.length} targets`);
      }
    }
    assert.deepEqual(problems, []);
  });
}

test('the sample workspace: a re-exported native name lists its pure-Python fallback second', async () => {
  const root = join(FIXTURES, 'sample');
  const indexer = new Indexer({ roots: [root] });
  await indexer.build();
  const ts = indexer.index.resolve('sample.fast_sum');
  assert.deepEqual(ts.map((t) => t.language), ['c', 'python']);
  assert.equal(ts[1].evidence, 'pure-Python fallback');
});
