/**
 * Function bodies hold nothing the tree-based passes read (the API calls inside them are read
 * by text scanners), yet they are most of a C file. This cheap lexer finds the top-level
 * function definitions and names them, so that tree-sitter parses everything *but* them (its
 * `includedRanges`): the parse gets several times faster. Left out too: the contents of
 * top-level initialisers (the extractor re-reads tables from the text; an initialiser holding an
 * `#include` or `#define` is kept) and of struct, union and enum bodies, comments (Argument
 * Clinic blocks are read by a text scanner), `#define`s the extractor would drop
 * (`defineMatters`), and the insides of long string literals (docstrings). Strings, character
 * literals, comments and preprocessor lines are skipped by the lexer; a body whose braces do not
 * balance is left in (parsed as usual).
 */

/** String literals at least this long are left out of the parse (comments always are, unless
 *  leaving one out would join two words). */
const LONG = 256;

/** Function-like macro bodies that may generate functions or call the C-API's adders. */
export const API_WORDS = /\b(?:PyType_From\w+|PyModule_Add\w*|PyErr_NewException\w*|PyDict_SetItem(?:String)?)\s*\(/;
export const FUNCTION_SHAPED = /^(?:(?:static|inline)\s+)*[A-Za-z_]\w*(?:\s+[A-Za-z_]\w*)*[\s*]+[A-Za-z_]\w*(?:\s*##\s*\w+)*\s*\((?:[^()]|\([^()]*\))*\)\s*\{/;

/** A macro body defining a type, a spec, a slot array or a table (`SHA3_TYPE_SLOTS(...)`). */
const INIT_SHAPED = /\b(?:PyTypeObject|PyType_Spec|PyType_Slot|PyMethodDef|PyGetSetDef|PyMemberDef)\s+[\w\s#]+(?:\[\s*\])?\s*=\s*\{/;

/** Whether the C extractor keeps a `#define` (body: continuations joined, comments removed,
 *  trimmed): token-pasting or API-calling or function-shaped function-like macros; string-valued
 *  object-like ones (MODNAME), clinic table-entry macros, aliases of functions. */
export function defineMatters(name: string, params: boolean, body: string): boolean {
  if (/_(?:METHODDEF|GETSETDEF)$/.test(name)) return true;
  if (params) return /##/.test(body) || API_WORDS.test(body) || FUNCTION_SHAPED.test(body) || INIT_SHAPED.test(body);
  return /^"/.test(body) || (/^[A-Za-z_]\w*$/.test(body) && /[a-z]/.test(body)) || /^_?Py_X?STRINGIFY\s*\(\s*\w+\s*\)$/.test(body);
}

/** What the lexer stops at inside braces: a brace, a quote, a slash, a directive's `#`. */
const INNER_STOP = /[{}"'/]|^[ \t]*#/gm;

const DEFINE_HEAD = /^#[ \t]*define[ \t]+([A-Za-z_]\w*)(\()?/;

/** The directives the lexer acts on, from the `#` at `at`: `if` stands for #if, #ifdef and
 *  #ifndef, `else` for #else and the #elif forms. */
function directiveKind(text: string, at: number): 'define' | 'include' | 'if' | 'else' | 'endif' | undefined {
  let j = at + 1;
  for (let c = text.charCodeAt(j); c === 32 || c === 9; c = text.charCodeAt(++j));
  const c = text.charCodeAt(j);
  let kind: 'define' | 'include' | 'if' | 'else' | 'endif' | undefined;
  let end = j;
  if (c === 100 /* d */ && text.startsWith('define', j)) [kind, end] = ['define', j + 6];
  else if (c === 105 /* i */ && text.startsWith('include', j)) [kind, end] = ['include', j + 7];
  else if (c === 105 /* i */ && text.startsWith('if', j)) {
    kind = 'if';
    end = text.startsWith('ifdef', j) ? j + 5 : text.startsWith('ifndef', j) ? j + 6 : j + 2;
  } else if (c === 101 /* e */) {
    if (text.startsWith('endif', j)) [kind, end] = ['endif', j + 5];
    else if (text.startsWith('else', j)) [kind, end] = ['else', j + 4];
    else if (text.startsWith('elif', j)) {
      kind = 'else';
      end = text.startsWith('elifdef', j) ? j + 7 : text.startsWith('elifndef', j) ? j + 8 : j + 4;
    }
  }
  return kind && !isWordChar(text.charCodeAt(end)) ? kind : undefined;
}

/** A `#define` directive's text -> whether the extractor would keep it (unknown shapes: yes). */
function directiveMatters(directive: string): boolean {
  const m = DEFINE_HEAD.exec(directive);
  if (!m) return true;
  let rest = directive.slice(m[0].length);
  if (m[2]) {
    const close = rest.indexOf(')');
    if (close < 0) return true;
    rest = rest.slice(close + 1);
  }
  const body = rest.replace(/\\\r?\n/g, ' ').replace(/\/\*[\s\S]*?(?:\*\/|$)|\/\/[^\n]*/g, ' ').trim();
  return defineMatters(m[1], !!m[2], body);
}

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

/** A function definition the lexer saw at top level: its name and the name's offset. */
export interface LexedFunction {
  name: string;
  at: number;
  /** The parameter list's parentheses and the body's braces (offsets of `(`, `)`, `{`, `}`);
   *  the body's end is absent when the file ends inside it. */
  params?: [number, number];
  body?: [number, number];
}

export interface TopLevelScan {
  /** Ranges the parse can leave out: sorted, disjoint. */
  skip: [number, number][];
  /** Top-level function definitions (`... name(...) {`), in order. */
  functions: LexedFunction[];
}

/** Ranges the parse can leave out (see `scanTopLevel`). */
export function skippable(text: string, more: boolean): [number, number][] {
  return scanTopLevel(text, more).skip;
}

function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;
}

/** The word ending right before `end` (spaces skipped), not before `floor`: [start, end). */
function wordBefore(text: string, end: number, floor: number): [number, number] | undefined {
  let e = end;
  while (e > floor && isSpace(text.charCodeAt(e - 1))) e--;
  let b = e;
  while (b > floor && isWordChar(text.charCodeAt(b - 1))) b--;
  if (b === e) return undefined;
  const first = text.charCodeAt(b);
  return first >= 48 && first <= 57 ? undefined : [b, e];
}

/** Does `struct`, `union` or `enum` (and maybe a tag) come right before `end`? */
function aggregateHead(text: string, end: number, floor: number): boolean {
  let w = wordBefore(text, end, floor);
  if (!w) return false;
  const is = (r: [number, number]): boolean => /^(?:struct|union|enum)$/.test(text.slice(r[0], r[1]));
  if (is(w)) return true;
  w = wordBefore(text, w[0], floor);
  return !!w && is(w);
}

/**
 * One pass of the lexer over the text. Finds the top-level function definitions (a `{` after a
 * top-level `)`), names them (the identifier before their parameter list), and lists what the
 * parse can leave out: each function's body and, with `more`, the whole definition (the name is
 * known: the tree has nothing to add; kept when a preprocessor line splits its signature, whose
 * conditional the tree must see whole), the contents of top-level initialisers (`= {...}`, which
 * the extractor re-reads from the text; kept when they hold an `#include` or `#define`) and of
 * struct, union and enum bodies (fields are no facts), long comments and long string literals'
 * contents.
 */
export function scanTopLevel(text: string, more: boolean): TopLevelScan {
  const out: [number, number][] = [];
  const functions: LexedFunction[] = [];
  const skipLong = (a: number, b: number): void => {
    if (more && bodyOpen < 0 && b - a >= LONG) out.push([a, b]);
  };
  /** A comment or an unneeded directive: left out unless that joins two words. */
  const skipQuiet = (a: number, b: number): void => {
    if (more && bodyOpen < 0 && b > a && !(a > 0 && isWordChar(text.charCodeAt(a - 1)) && isWordChar(text.charCodeAt(b)))) out.push([a, b]);
  };
  /** Adds [a, b), dropping the ranges already found inside it. */
  const cover = (a: number, b: number): void => {
    while (out.length && out[out.length - 1][0] >= a) out.pop();
    if (b > a) out.push([a, b]);
  };
  const n = text.length;
  let depth = 0;
  let bodyOpen = -1;
  let openFunction: LexedFunction | undefined;
  let wholeFrom = -1; // a definition left out whole: from its first token
  let initOpen = -1; // '{' of a top-level initialiser or aggregate body
  let initKeep = false; // it holds an #include or #define: parsed as it is
  /** `#if`s open inside the current body: the depth where each began, and where its first
   *  branch ended (-1: still in it). */
  const conds: { depth: number; after: number }[] = [];
  /** #defines the extractor keeps and #includes, inside the current body: [start, end) of each. */
  const bodyDefines: [number, number][] = [];
  let externBlocks = 0; // open `extern "C" {` blocks (transparent)
  let blockOpen = -1; // '{' of another top-level block (`extern "C" {`): its statements are top level too
  let parens = 0; // open '(' at depth 0
  let groupOpen = -1; // the last top-level parenthesised group
  let groupClose = -1;
  let prevGroupOpen = -1; // the group before it (the parameter list, when the last is an attribute)
  let prevGroupClose = -1;
  let lastSignificant = ''; // last non-space, non-comment character at depth 0
  let lastAt = -1; // and its offset
  let lineStart = true;
  let stmtStart = -1; // first token of the top-level statement under way
  let stmtPreproc = false; // a preprocessor line inside it
  for (let i = 0; i < n; i++) {
    if (depth > 0) {
      // Inside braces only braces, strings, comments and directives matter: jump to the next.
      INNER_STOP.lastIndex = i;
      const m = INNER_STOP.exec(text);
      if (!m) break;
      i = m.index + m[0].length - 1;
      lineStart = m[0].length > 1 || (text.charCodeAt(i) === 35 && (i === 0 || text.charCodeAt(i - 1) === 10));
    }
    const c = text.charCodeAt(i);
    if (c === 10 /* \n */) {
      lineStart = true;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) continue;
    if (c === 35 /* # */ && lineStart) {
      // Preprocessor line, with backslash continuations.
      if (depth === 0 && stmtStart >= 0) stmtPreproc = true;
      const directive = i;
      for (; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 10 && text.charCodeAt(i - 1) !== 92 && !(text.charCodeAt(i - 1) === 13 && text.charCodeAt(i - 2) === 92)) break;
        if (d === 47 && text.charCodeAt(i + 1) === 42) {
          const e = text.indexOf('*/', i + 2);
          i = e < 0 ? n : e + 1;
        }
      }
      const kind = directiveKind(text, directive);
      if (initOpen >= 0 && (kind === 'include' || kind === 'define')) initKeep = true;
      if (kind === 'define') {
        if (more && !directiveMatters(text.slice(directive, i))) skipQuiet(directive, i);
        else if (more && bodyOpen >= 0) bodyDefines.push([directive, Math.min(n, i + 1)]); // with its newline
      } else if (kind === 'include') {
        if (more && bodyOpen >= 0) bodyDefines.push([directive, Math.min(n, i + 1)]);
      } else if (kind !== undefined && bodyOpen >= 0) {
        // Inside a body, the braces of `#if`/`#else` branches are counted along the first
        // branch only (`if (x) {` written twice, closed once, must not unbalance the body).
        if (kind === 'if') conds.push({ depth, after: -1 });
        else if (conds.length) {
          const top = conds[conds.length - 1];
          if (kind === 'endif') {
            conds.pop();
            if (top.after >= 0) depth = top.after;
          } else {
            if (top.after < 0) top.after = depth;
            depth = top.depth;
          }
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
        skipQuiet(i, end);
        i = end - 1;
        continue;
      }
      if (d === 47) {
        const e = text.indexOf('\n', i + 2);
        skipQuiet(i, e < 0 ? n : e);
        i = e < 0 ? n : e - 1;
        continue;
      }
    }
    if (depth === 0 && stmtStart < 0) {
      stmtStart = i;
      stmtPreproc = false;
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
    if (c === 123 /* { */ && depth === 0 && lastSignificant === '"' && /extern\s*"C"\s*$/.test(text.slice(Math.max(0, i - 24), i))) {
      // `extern "C" {`: what it holds is top level (headers wrap everything in one).
      externBlocks++;
      stmtStart = -1;
      lastSignificant = '{';
      lastAt = i;
      continue;
    }
    if (c === 125 /* } */ && depth === 0 && externBlocks > 0) {
      externBlocks--;
      stmtStart = -1;
      lastSignificant = '}';
      lastAt = i;
      continue;
    }
    if (c === 123 /* { */) {
      if (depth === 0 && lastSignificant === ')') {
        bodyOpen = i;
        // The parameter list: the group right before the body, or the one before an attribute.
        let paramsOpen = -1;
        let paramsClose = -1;
        if (parens === 0 && groupOpen >= 0 && groupClose === lastAt) {
          const before = text.slice(Math.max(0, groupOpen - 16), groupOpen).trimEnd();
          if (!ATTRIBUTE_WORD.test(before)) [paramsOpen, paramsClose] = [groupOpen, groupClose];
          else if (prevGroupOpen >= 0 && prevGroupOpen >= stmtStart) [paramsOpen, paramsClose] = [prevGroupOpen, prevGroupClose];
        }
        const word = paramsOpen > 0 ? wordBefore(text, paramsOpen, Math.max(0, stmtStart)) : undefined;
        const name = word && text.slice(word[0], word[1]);
        if (word && name) {
          openFunction = { name, at: word[0], body: [i, -1] };
          if (paramsOpen >= 0) openFunction.params = [paramsOpen, paramsClose];
          functions.push(openFunction);
        }
        // Left out whole only when the head is plain (`static PyObject *\nname(`): no macro
        // call before the name (`Py_LOCAL_INLINE(int)`, a run of macro-bodied definitions).
        if (more && name && !stmtPreproc && stmtStart >= 0 && text.lastIndexOf('(', paramsOpen - 1) < stmtStart) wholeFrom = stmtStart;
        else if (more && paramsOpen === groupOpen && paramsOpen >= 0) cover(paramsOpen + 1, paramsClose);
      } else if (depth === 0 && more && (lastSignificant === '=' || (stmtStart >= 0 && aggregateHead(text, i, stmtStart)))) {
        initOpen = i;
        initKeep = false;
      } else if (depth === 0) {
        blockOpen = i;
      }
      depth++;
    } else if (c === 125 /* } */) {
      depth--;
      if (depth === 0 && bodyOpen >= 0) {
        conds.length = 0;
        // Left out, but for the #defines the extractor keeps (a body may define the macro its
        // module's init calls) and #includes: the tree sees them as if at top level.
        let [from, to] = wholeFrom >= 0 ? [wholeFrom, i + 1] : [bodyOpen + 1, i];
        for (const [a, b] of bodyDefines) {
          if (a > from) cover(from, a);
          from = b;
        }
        bodyDefines.length = 0;
        if (to > from) cover(from, to);
        if (openFunction?.body) openFunction.body[1] = i;
        openFunction = undefined;
        bodyOpen = -1;
        wholeFrom = -1;
        stmtStart = -1; // a definition ends with its body
      } else if (depth === 0 && initOpen >= 0) {
        if (!initKeep) cover(initOpen + 1, i);
        initOpen = -1;
      } else if (depth === 0 && blockOpen >= 0) {
        blockOpen = -1;
        stmtStart = -1;
      }
      if (depth < 0) depth = 0; // unbalanced: recover at top level
    } else if (depth === 0 && c === 40 /* ( */) {
      if (parens++ === 0) {
        prevGroupOpen = groupOpen;
        prevGroupClose = groupClose;
        groupOpen = i;
      }
    } else if (depth === 0 && c === 41 /* ) */) {
      if (parens > 0 && --parens === 0) groupClose = i;
    } else if (depth === 0 && c === 59 /* ; */) {
      parens = 0; // a statement ends: no group is open
      groupOpen = -1;
      prevGroupOpen = -1;
      stmtStart = -1;
    }
    if (depth === 0) {
      lastSignificant = text[i];
      lastAt = i;
    }
  }
  if (openFunction) delete openFunction.body; // the file ends inside it
  return { skip: out, functions };
}

/** tree-sitter included ranges: the whole text minus what `skippable` leaves out. Undefined
 *  when nothing would be left out (parse normally). */
export function rangesWithoutBodies(text: string, bodies = skippable(text, true)): TextRange[] | undefined {
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
