/**
 * Function bodies hold nothing the tree-based passes read (the API calls inside them are read
 * by text scanners), yet they are most of a C file. This cheap lexer finds the top-level
 * function bodies so that tree-sitter parses everything *but* their contents (its
 * `includedRanges`): the functions keep their names and lines, the parse gets several times
 * faster. Long comments (Argument Clinic blocks, which a text scanner reads) and the insides of
 * long string literals (docstrings) are left out too. Strings, character literals, comments and
 * preprocessor lines are skipped by the lexer; a body whose braces do not balance is left in
 * (parsed as usual).
 */

/** Comments and string literals at least this long are left out of the parse. */
const LONG = 256;

export interface TextRange {
  startIndex: number;
  endIndex: number;
  startPosition: { row: number; column: number };
  endPosition: { row: number; column: number };
}

/** Offsets where each line starts, for index -> row/column. */
function lineStarts(text: string): number[] {
  const out = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}

function position(starts: number[], index: number): { row: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= index) lo = mid;
    else hi = mid - 1;
  }
  return { row: lo, column: index - starts[lo] };
}

/** [open+1, close) of each top-level function body, in order. */
export function functionBodies(text: string): [number, number][] {
  return skippable(text, false);
}

/** Ranges the parse can leave out: function bodies' contents and, with `long`, long comments
 *  and long string literals' contents outside bodies. Sorted, disjoint. */
export function skippable(text: string, long: boolean): [number, number][] {
  const bodies: [number, number][] = [];
  const skipLong = (a: number, b: number): void => {
    if (long && bodyOpen < 0 && b - a >= LONG) bodies.push([a, b]);
  };
  const n = text.length;
  let depth = 0;
  let bodyOpen = -1;
  let lastSignificant = ''; // last non-space, non-comment character at depth 0
  let lineStart = true;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 /* \n */) {
      lineStart = true;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) continue;
    if (c === 35 /* # */ && lineStart) {
      // Preprocessor line, with backslash continuations.
      for (; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 10 && text.charCodeAt(i - 1) !== 92 && !(text.charCodeAt(i - 1) === 13 && text.charCodeAt(i - 2) === 92)) break;
        if (d === 47 && text.charCodeAt(i + 1) === 42) {
          const e = text.indexOf('*/', i + 2);
          i = e < 0 ? n : e + 1;
        }
      }
      lineStart = true;
      continue;
    }
    lineStart = false;
    if (c === 47 /* / */) {
      const d = text.charCodeAt(i + 1);
      if (d === 42) {
        const e = text.indexOf('*/', i + 2);
        const end = e < 0 ? n : e + 2;
        skipLong(i, end);
        i = end - 1;
        continue;
      }
      if (d === 47) {
        const e = text.indexOf('\n', i + 2);
        i = e < 0 ? n : e - 1;
        continue;
      }
    }
    if (c === 34 /* " */ || c === 39 /* ' */) {
      const open = i;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === c || d === 10) break;
      }
      if (c === 34 && text.charCodeAt(i) === 34) skipLong(open + 1, i);
      if (depth === 0) lastSignificant = '"';
      continue;
    }
    if (c === 123 /* { */) {
      if (depth === 0 && lastSignificant === ')') bodyOpen = i;
      depth++;
    } else if (c === 125 /* } */) {
      depth--;
      if (depth === 0 && bodyOpen >= 0) {
        if (i > bodyOpen + 1) bodies.push([bodyOpen + 1, i]);
        bodyOpen = -1;
      }
      if (depth < 0) depth = 0; // unbalanced: recover at top level
    }
    if (depth === 0) lastSignificant = text[i];
  }
  return bodies;
}

/** tree-sitter included ranges: the whole text minus function bodies' contents. Undefined when
 *  nothing would be left out (parse normally). */
export function rangesWithoutBodies(text: string): TextRange[] | undefined {
  const bodies = skippable(text, true);
  if (bodies.length === 0) return undefined;
  const starts = lineStarts(text);
  const out: TextRange[] = [];
  let from = 0;
  const push = (a: number, b: number): void => {
    if (b > a) out.push({ startIndex: a, endIndex: b, startPosition: position(starts, a), endPosition: position(starts, b) });
  };
  for (const [a, b] of bodies) {
    push(from, a);
    from = b;
  }
  push(from, text.length);
  return out;
}
