/** Finding the interpreter to launch: the configured one, else `python3`, resolved to the real
 *  binary (pyenv's `python3` is a shell script that GDB cannot debug). */
import { spawnSync } from 'node:child_process';
import { UserError } from '../errors';

export function resolvePython(configured: string | undefined): string {
  const candidate = configured || 'python3';
  const r = spawnSync(candidate, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', timeout: 15_000 });
  if (r.error || r.status !== 0) {
    throw new UserError(`python not found: '${candidate}' did not run (${r.error?.message ?? r.stderr.trim()}); set "python" in the launch configuration`);
  }
  const exe = r.stdout.trim();
  if (!exe) throw new UserError(`'${candidate}' did not say where its binary is; set "python" to the interpreter's real path`);
  return exe;
}
