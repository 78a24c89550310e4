// Builds the debugger tests' native fixtures (test/fixtures/debug: C extension, PyO3 crate, raw-FFI
// Rust module) for every pyenv CPython 3.10-3.13 found, one after the other, into
// $SEAM_CACHE/fixtures (default ~/.cache/seam/fixtures). One line per interpreter; a second run
// finds everything cached. Exit 1 when an interpreter's build fails or none is found.
//
//   node scripts/build-fixtures.mjs [python ...]     (default: every pyenv 3.10-3.13)
//
// The logic lives in test/debug/fixtures.ts (shared with the tests); it is bundled here to
// dist/test/debug/fixtures.js exactly as scripts/build.mjs does.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'dist', 'test', 'debug', 'fixtures.js');
await build({
  entryPoints: [join(root, 'test', 'debug', 'fixtures.ts')], outfile: out, bundle: true, platform: 'node',
  target: 'node20', format: 'cjs', sourcemap: 'linked', logLevel: 'warning', absWorkingDir: root,
});
const { buildFixtures, pythons, fixtureCache } = createRequire(import.meta.url)(out);

const list = process.argv.length > 2 ? process.argv.slice(2) : pythons();
if (list.length === 0) {
  console.log('[fixtures] no pyenv CPython 3.10-3.13 found under ${PYENV_ROOT:-~/.pyenv}/versions: install one with pyenv');
  process.exit(1);
}
let failed = 0;
for (const python of list) {
  try {
    const f = await buildFixtures(python);
    const how = f.cached ? 'cached' : 'built';
    console.log(`[fixtures] ${f.version.padEnd(8)} ${how} in ${(f.buildMs / 1000).toFixed(2)} s  PYTHONPATH=${f.pythonPath}`);
  } catch (e) {
    failed++;
    console.log(`[fixtures] FAILED for ${python}: ${e instanceof Error ? e.message : e}`);
  }
}
if (failed) {
  console.log(`[fixtures] ${failed} of ${list.length} failed (cache: ${fixtureCache()})`);
  process.exit(1);
}
