/**
 * Where a script built beside the running bundle is (esbuild writes each process to dist/): the
 * worker scripts a bundle starts. Test bundles live deeper (dist/test/<layer>/), hence the
 * parents. Undefined when absent (a bundle built without it).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function findBundled(name: string): string | undefined {
  for (const up of ['', '../', '../../', '../../../']) {
    const p = join(__dirname, up + name);
    if (existsSync(p)) return p;
  }
  return undefined;
}
