// Builds the sample workspace's native modules (sample._speedups from csrc/, sample._engine from
// the PyO3 crate in engine/) with debug info into $SEAM_CACHE/sample-build (default
// ~/.cache/seam/sample-build), for the interpreter in $SEAM_SAMPLE_PYTHON or else pyenv's newest
// CPython 3.10-3.13. A second run finds everything cached.
//
//   node scripts/build-sample.mjs           one line: what was built, and where
//   node scripts/build-sample.mjs --shell   `export SEAM_SAMPLE_PYTHON=...` and
//                                           `export SEAM_SAMPLE_PYTHONPATH=...` for eval in sh
//   import { buildSampleEnv } from './build-sample.mjs'   the same, for scripts/e2e.mjs
//
// The logic lives in test/debug/sample.ts; it is bundled here to dist/test/debug/sample.js
// exactly as scripts/build.mjs does.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;

/** Builds (or finds) the sample; returns its paths and the variables launch.json reads. */
export async function buildSampleEnv() {
  const out = join(root, 'dist', 'test', 'debug', 'sample.js');
  await build({
    entryPoints: [join(root, 'test', 'debug', 'sample.ts')], outfile: out, bundle: true, platform: 'node',
    target: 'node20', format: 'cjs', sourcemap: 'linked', logLevel: 'warning', absWorkingDir: root,
  });
  const { buildSample, defaultSamplePython } = createRequire(import.meta.url)(out);
  const paths = await buildSample(process.env.SEAM_SAMPLE_PYTHON || defaultSamplePython());
  return { paths, env: { SEAM_SAMPLE_PYTHON: paths.python, SEAM_SAMPLE_PYTHONPATH: paths.pythonPath } };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const { paths, env } = await buildSampleEnv();
    const how = `${paths.cached ? 'cached' : 'built'} in ${(paths.buildMs / 1000).toFixed(2)} s`;
    if (process.argv.includes('--shell')) {
      const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
      for (const [k, v] of Object.entries(env)) console.log(`export ${k}=${q(v)}`);
      console.error(`[sample] Python ${paths.version}: ${how}`);
    } else {
      console.log(`[sample] Python ${paths.version}: ${how}  python=${paths.python}  PYTHONPATH=${paths.pythonPath}`);
    }
  } catch (e) {
    console.error(`[sample] build FAILED: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
