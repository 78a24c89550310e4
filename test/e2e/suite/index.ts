/**
 * Entry point of the real-VS-Code tests: VS Code loads this file in the extension host (the
 * `extensionTestsPath` of the test payload) and awaits `run()`, then exits with 0 or 1.
 * Runs every `*.test.js` next to it with mocha (BDD: `describe`/`it`, imported from 'mocha').
 *
 * The extension host's console is all the runner (scripts/e2e.mjs) sees, so the report is one
 * parseable line per test and a closing line:
 *   SEAM_TEST PASS <full title> (<ms> ms)
 *   SEAM_TEST FAIL <full title>: <message>     (then the stack, indented)
 *   SEAM_TESTS <N> passed, <N> failed
 * It runs unchanged under @vscode/test-electron elsewhere.
 */
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export const REPORT_PREFIX = 'SEAM_TEST';
export const SUMMARY_PREFIX = 'SEAM_TESTS';

class LineReporter extends Mocha.reporters.Base {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const C = Mocha.Runner.constants;
    runner.on(C.EVENT_TEST_BEGIN, (t: Mocha.Test) => console.log(`${REPORT_PREFIX} BEGIN ${t.fullTitle()}`));
    runner.on(C.EVENT_TEST_PASS, (t: Mocha.Test) =>
      console.log(`${REPORT_PREFIX} PASS ${t.fullTitle()} (${t.duration ?? 0} ms)`));
    runner.on(C.EVENT_TEST_FAIL, (t: Mocha.Runnable, err: Error) => {
      const stack = (err?.stack ?? String(err)).split('\n').slice(1, 8).map((l) => `    ${l.trim()}`);
      console.log([`${REPORT_PREFIX} FAIL ${t.fullTitle()}: ${err?.message ?? err}`, ...stack].join('\n'));
    });
  }
}

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 120_000, reporter: LineReporter });
  const files = readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort();
  for (const f of files) mocha.addFile(join(__dirname, f));
  console.log(`${REPORT_PREFIX} FILES ${files.join(' ')}`);
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const passed = runner.stats?.passes ?? 0;
        // A run with no test at all is a failure too: a suite that loads nothing proves nothing.
        const failed = files.length === 0 || passed + failures === 0 ? Math.max(failures, 1) : failures;
        console.log(`${SUMMARY_PREFIX} ${passed} passed, ${failed} failed`);
        if (failed > 0) reject(new Error(`${failed} test(s) failed`));
        else resolve();
      });
    } catch (err) {
      // A test file that throws while loading.
      console.log(`${REPORT_PREFIX} FAIL loading test files: ${err instanceof Error ? err.stack : err}`);
      console.log(`${SUMMARY_PREFIX} 0 passed, 1 failed`);
      reject(err);
    }
  });
}
