/**
 * Reads one source file for the index, refusing what cannot be source: too large, binary, not
 * UTF-8. A refusal is a reason string, logged once by the caller; never an exception.
 */
import { readFileSync } from 'node:fs';

export const MAX_FILE_BYTES = 4 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export type ReadResult = { text: string } | { skip: string };

export function readSource(path: string, maxBytes = MAX_FILE_BYTES): ReadResult {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    return { skip: `not readable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  if (buf.length > maxBytes) {
    return { skip: `${(buf.length / 1048576).toFixed(1)} MB, over the ${maxBytes / 1048576} MB limit for source files` };
  }
  const probe = buf.subarray(0, 8192);
  if (probe.includes(0)) return { skip: 'binary (NUL byte)' };
  try {
    return { text: utf8.decode(buf) };
  } catch {
    return { skip: 'not UTF-8' };
  }
}
