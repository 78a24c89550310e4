/** Which trees the server indexes: workspace folders, a CPython source tree, extra roots. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface ServerSettings {
  cpythonSource?: string;
  extraRoots?: string[];
  followSymlinks?: boolean;
  cacheDir?: string;
  /** Extra roots given by tests and tools (absolute). */
  roots?: string[];
}

export function isCPythonTree(dir: string): boolean {
  return existsSync(join(dir, 'Include', 'Python.h')) && existsSync(join(dir, 'Objects', 'object.c'));
}

export interface RootChoice {
  roots: string[];
  problems: string[];
}

export function chooseRoots(workspaceFolders: string[], s: ServerSettings): RootChoice {
  const roots: string[] = [];
  const problems: string[] = [];
  const add = (dir: string, what: string): void => {
    const abs = resolve(dir);
    if (!existsSync(abs)) {
      problems.push(`${what} ${abs} does not exist: fix the setting or remove it`);
      return;
    }
    if (!roots.includes(abs)) roots.push(abs);
  };
  for (const f of workspaceFolders) add(f, 'workspace folder');
  if (s.cpythonSource) {
    if (!isCPythonTree(resolve(s.cpythonSource))) {
      problems.push(`seam.cpythonSource ${s.cpythonSource} is not a CPython source tree (no Include/Python.h)`);
    } else add(s.cpythonSource, 'seam.cpythonSource');
  }
  for (const r of s.extraRoots ?? []) add(r, 'seam.extraRoots entry');
  for (const r of s.roots ?? []) add(r, 'root');
  return { roots, problems };
}
