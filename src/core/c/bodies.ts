/**
 * Function bodies hold nothing the tree-based passes read (the API calls inside them are read
 * by text scanners), yet they are most of a C file. This cheap lexer finds the top-level
 * function bodies so that tree-sitter parses everything *but* their contents (its
 * `includedRanges`): the functions keep their names and lines, the parse gets several times
 * faster. Left out too: the parameter lists of those definitions (the name is before them), the
 * contents of top-level initialisers (the extractor re-reads tables from the text; an
 * initialiser holding an `#include` or `#define` is kept), long comments (Argument Clinic
 * blocks, which a text scanner reads) and the insides of long string literals (docstrings).
 * Strings, character literals, comments and preprocessor lines are skipped by the lexer; a body
 * whose braces do not balance is left in (parsed as usual).
 */

/** Comments and string literals at least this long are left out of the parse. */
const LONG = 256;

export interface TextRange {
  startIndex: number;
  endIndex: number;
  startPosition: { row: number; column: number };
  endPosition: { row: number; column: number };
}

/** [open+1, close) of each top-level function body, in order. */
export function functionBodies(text: string): [number, number][] {
  return skippable(text, false);
}

/** Words before a parenthesised group that make it an attribute, not a parameter list. */
const ATTRIBUTE_WORD = /(?:__attribute__|__declspec|__asm__|__asm|asm|ATTRIBUTE|ATTR)$/;

/** Ranges the parse can leave out: function bodies' contents and, with `more`, the
 *  parameter lists of function definitions, the contents of top-level initialisers (`= {...}`,
 *  which the extractor re-reads from the text; kept when they hold an `#include` or
 *  `#define`), long comments and long string literals' contents. Sorted, disjoint. */
export function skippable(text: string, more: boolean): [number, number][] {
  const out: [number, number][] = [];
  const skipLong = (a: number, b: number): void => {
    if (more && bodyOpen < 0 && b - a >= LONG) out.push([a, b]);
  };
  /** Adds [a, b), dropping the ranges already found inside it. */
  const cover = (a: number, b: number): void => {
    while (out.length && out[out.length - 1][0] >= a) out.pop();
    if (b > a) out.push([a, b]);
  };
  const n = text.length;
  let depth = 0;
  let bodyOpen = -1;
  let initOpen = -1; // '{' of a top-level initialiser
  let initKeep = false; // it holds an #include or #define: parsed as it is
  let parens = 0; // open '(' at depth 0
  let groupOpen = -1; // the last top-level parenthesised group
  let groupClose = -1;
  let lastSignificant = ''; // last non-space, non-comment character at depth 0
  let lastAt = -1; // and its offset
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
      if (initOpen >= 0 && /^#\s*(?:include|define)\b/.test(text.slice(i, i + 40))) initKeep = true;
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
      if (depth === 0) {
        lastSignificant = '"';
        lastAt = i;
      }
      continue;
    }
    if (c === 123 /* { */) {
      if (depth === 0 && lastSignificant === ')') {
        bodyOpen = i;
        // The definition's parameter list: `name(...)` right before the body.
        if (more && parens === 0 && groupOpen >= 0 && groupClose === lastAt && !ATTRIBUTE_WORD.test(text.slice(Math.max(0, groupOpen - 16), groupOpen).trimEnd())) {
          cover(groupOpen + 1, groupClose);
        }
      } else if (depth === 0 && lastSignificant === '=' && more) {
        initOpen = i;
        initKeep = false;
      }
      depth++;
    } else if (c === 125 /* } */) {
      depth--;
      if (depth === 0 && bodyOpen >= 0) {
        if (i > bodyOpen + 1) out.push([bodyOpen + 1, i]);
        bodyOpen = -1;
      } else if (depth === 0 && initOpen >= 0) {
        if (!initKeep) cover(initOpen + 1, i);
        initOpen = -1;
      }
      if (depth < 0) depth = 0; // unbalanced: recover at top level
    } else if (depth === 0 && c === 40 /* ( */) {
      if (parens++ === 0) groupOpen = i;
    } else if (depth === 0 && c === 41 /* ) */) {
      if (parens > 0 && --parens === 0) groupClose = i;
    } else if (depth === 0 && c === 59 /* ; */) {
      parens = 0; // a statement ends: no group is open
      groupOpen = -1;
    }
    if (depth === 0) {
      lastSignificant = text[i];
      lastAt = i;
    }
  }
  return out;
}

/** tree-sitter included ranges: the whole text minus what `skippable` leaves out. Undefined
 *  when nothing would be left out (parse normally). */
export function rangesWithoutBodies(text: string): TextRange[] | undefined {
  const bodies = skippable(text, true);
  if (bodies.length === 0) return undefined;
  // Row and column of each boundary, counting newlines forward (boundaries are in order).
  let row = 0;
  let lineStart = 0;
  let scanned = 0;
  const position = (index: number): { row: number; column: number } => {
    for (let i = text.indexOf('\n', scanned); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) {
      row++;
      lineStart = i + 1;
    }
    scanned = index;
    return { row, column: index - lineStart };
  };
  const out: TextRange[] = [];
  let from = 0;
  const push = (a: number, b: number): void => {
    if (b > a) out.push({ startIndex: a, endIndex: b, startPosition: position(a), endPosition: position(b) });
  };
  for (const [a, b] of bodies) {
    push(from, a);
    from = b;
  }
  push(from, text.length);
  return out;
}
