/**
 * One file -> its facts: read, refuse what is not source, skip (cheaply) what holds nothing the
 * linkers use, parse the rest. Runs in the index workers and, for small jobs, in-process.
 */
import { cColumn0Names, cNeedsParse, extractC, C_EXTRACTOR_VERSION, type CFileFacts } from '../core/c/extract';
import { rustNeedsParse, extractRust, RUST_EXTRACTOR_VERSION, type RustFileFacts } from '../core/rust/extract';
import { pythonNeedsParse, pythonLightFacts, extractPython, PY_EXTRACTOR_VERSION, type PythonFileFacts } from '../core/python/extract';
import { readSource } from './fileReader';
import type { FileLang } from './walk';

export type Facts = CFileFacts | RustFileFacts | PythonFileFacts;

/** Bumped by any extractor change: cached facts from another version are not trusted. */
export const EXTRACTORS_VERSION = `c${C_EXTRACTOR_VERSION}.r${RUST_EXTRACTOR_VERSION}.p${PY_EXTRACTOR_VERSION}`;

export interface FileResult {
  path: string;
  /** Facts; null when the cheap scan found nothing of interest (the file may still be parsed
   *  later on demand: a C function a table elsewhere names). */
  facts: Facts | null;
  /** Why the file was refused (binary, too large, not UTF-8, unreadable, extractor failure). */
  skip?: string;
  /** The facts as JSON text, when they came from a worker (see worker.ts). */
  factsJson?: string;
  /** A C file the cheap scan skipped: the names its column-0 lines define (see
   *  `cColumn0Names`), so that on-demand linking need not read it again. */
  column0?: string[];
}

export function extractText(lang: FileLang, text: string, force: boolean): Facts | null {
  switch (lang) {
    case 'c':
      return force || cNeedsParse(text) ? extractC(text) : null;
    case 'rust':
      return force || rustNeedsParse(text) ? extractRust(text) : null;
    case 'python':
      return force || pythonNeedsParse(text) ? extractPython(text) : pythonLightFacts(text);
  }
}

export function extractFile(path: string, lang: FileLang, force = false): FileResult {
  const r = readSource(path);
  if ('skip' in r) return { path, facts: null, skip: r.skip };
  try {
    const facts = extractText(lang, r.text, force);
    return facts === null && lang === 'c' ? { path, facts, column0: cColumn0Names(r.text) } : { path, facts };
  } catch (e) {
    return { path, facts: null, skip: `extractor failed: ${(e as Error).message}` };
  }
}
