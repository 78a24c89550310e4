/**
 * Pausing over LLDB (src/debug/lldb/backend.ts): one `stopped` per pause, however quickly pauses
 * follow each other. A pause LLDB may miss (sent while the resume before it is still under way)
 * is checked 300 ms later; that check belongs to its own pause only. It once reported a later
 * pause's stop a second time, and the second stack's commands reached LLDB after the next resume
 * ("no thread", a ~100 ms pause).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLldbBackend } from '../../src/debug/lldb/backend';
import type { StopEvent } from '../../src/debug/backend';
import { StackService } from '../../src/debug/stackService';
import { buildFixtures, pythons, startHeld } from '../debug/fixtures';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('LLDB: pauses in quick succession each give one stop and one complete stack', async () => {
  const python = pythons().find((p) => /python3\.12$/.test(p)) ?? pythons()[0];
  assert.ok(python, 'a CPython to run');
  const paths = await buildFixtures(python);
  const held = await startHeld(paths, 'depth.py', ['30']);
  const backend = await createLldbBackend({});
  const stops: StopEvent[] = [];
  backend.on('stopped', (e: StopEvent) => stops.push(e));
  try {
    await backend.attach(held.pid!);
    const svc = new StackService(backend, () => undefined, null);
    const pauses = 12;
    for (let i = 0; i < pauses; i++) {
      const stopped = new Promise<void>((resolve) => backend.once('stopped', () => resolve()));
      await backend.continue();
      await backend.pause();
      await stopped;
      svc.invalidate();
      const snap = await svc.snapshot();
      assert.equal(snap.threads[0]?.frames.filter((f) => f.language === 'python').length, 30, `pause ${i + 1}: every Python frame`);
      // The next pause at varied moments: some land where an earlier pause's check fires.
      await sleep((i % 4) * 60);
    }
    await sleep(700); // every check of every pause has fired
    assert.equal(stops.length, pauses, `one stop per pause: ${stops.map((s) => s.description).join(' | ')}`);
  } finally {
    await backend.close({ detach: true });
    held.kill('SIGKILL');
  }
});
