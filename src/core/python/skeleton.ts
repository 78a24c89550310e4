/**
 * The skeleton of a Python module for the index: the same text, line for line, with the bodies
 * of functions emptied (a body becomes `pass` on its first line and blank lines after). The
 * index reads imports, classes and def names, never what a function does; imports inside
 * functions bind no module attribute. Parsing the skeleton is several times faster and keeps
 * every line and column of what is kept. Strings, brackets and backslash continuations are
 * tracked so a docstring at column 0 does not end a body early.
 */

/** Characters the line scanner stops at: outside strings, and inside strings by quote. */
const CODE_STOP = /[#"'()[\]{}\\\n]/g;
const SINGLE_STOP = /['\\\n]/g;
const DOUBLE_STOP = /["\\\n]/g;

/** For each line: does it start inside a string, an open bracket or a continuation? */
function continuationLines(text: string): boolean[] {
  const cont: boolean[] = [false];
  const n = text.length;
  let depth = 0;
  let quote = ''; // '', "'", '"', "'''", '"""'
  for (let i = 0; i < n; i++) {
    // Jump to the next character that matters in the current state.
    const stop = quote === '' ? CODE_STOP : quote[0] === "'" ? SINGLE_STOP : DOUBLE_STOP;
    stop.lastIndex = i;
    const m = stop.exec(text);
    if (!m) break;
    i = m.index;
    const c = text.charCodeAt(i);
    if (quote) {
      if (c === 92 /* \ */) {
        if (text.charCodeAt(i + 1) === 10) cont.push(true);
        i++;
      } else if (c === 10) {
        if (quote.length === 1) quote = ''; // unterminated one-line string: stop at the line end
        cont.push(quote !== '' || depth > 0);
      } else if (quote.length === 1 || text.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = '';
      }
      continue;
    }
    switch (c) {
      case 35: { // #
        const e = text.indexOf('\n', i);
        i = (e < 0 ? n : e) - 1;
        break;
      }
      case 34: // "
      case 39: { // '
        const q = text[i];
        quote = text.startsWith(q + q + q, i) ? q + q + q : q;
        i += quote.length - 1;
        break;
      }
      case 40: case 91: case 123: // ( [ {
        depth++;
        break;
      case 41: case 93: case 125: // ) ] }
        if (depth > 0) depth--;
        break;
      case 92: // \
        if (text.charCodeAt(i + 1) === 10) {
          cont.push(true);
          i++;
        }
        break;
      case 10: // \n
        cont.push(depth > 0);
        break;
    }
  }
  return cont;
}

const DEF = /^([ \t]*)(?:async[ \t]+)?def[ \t]+[A-Za-z_]/;

function indentOf(line: string): number {
  let k = 0;
  while (k < line.length && (line[k] === ' ' || line[k] === '\t')) k++;
  return k;
}

function isBlankOrComment(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('#');
}

export function pythonSkeleton(text: string): string {
  if (!text.includes('def')) return text;
  return skeletonLines(text).lines.join('\n');
}

/** The skeleton's lines, and for each whether it starts inside a string, a bracket or a
 *  continuation (as in the text: an emptied body ends where a new logical line starts). */
function skeletonLines(text: string): { lines: string[]; cont: boolean[] } {
  const lines = text.split('\n');
  const cont = continuationLines(text);
  if (!text.includes('def')) return { lines, cont };
  // Lines are only rewritten behind the scan (a body after its header), so in place.
  const out = lines;
  for (let i = 0; i < lines.length; i++) {
    if (cont[i]) continue;
    const m = DEF.exec(lines[i]);
    if (!m) continue;
    const defIndent = m[1].length;
    // The header runs to the first line whose successor starts a new logical line.
    let h = i;
    while (h + 1 < lines.length && cont[h + 1]) h++;
    if (!/:[ \t]*(?:#.*)?\r?$/.test(lines[h])) {
      i = h;
      continue; // one-line body (`def f(): pass`) or not a header we understand
    }
    // The body: following lines that are blank, comments, continuations, or indented deeper.
    let end = h;
    for (let k = h + 1; k < lines.length; k++) {
      if (cont[k] || isBlankOrComment(lines[k]) || indentOf(lines[k]) > defIndent) end = k;
      else break;
    }
    // Trailing blank lines belong to what follows.
    while (end > h && isBlankOrComment(lines[end]) && !cont[end]) end--;
    if (end <= h) {
      i = h;
      continue;
    }
    const first = h + 1;
    let bodyIndent = indentOf(lines[first]);
    if (cont[first] || isBlankOrComment(lines[first]) || bodyIndent <= defIndent) bodyIndent = defIndent + 4;
    out[first] = `${' '.repeat(bodyIndent)}pass`;
    for (let k = first + 1; k <= end; k++) out[k] = '';
    i = end;
  }
  return { lines: out, cont };
}

/** A logical line the index may read: a definition, decorator, import, compound statement
 *  (whose body may hold those). */
const KEEP_STATEMENT = /^[ \t]*(?:@|(?:async|def|class|import|from|try|except|finally|else|elif|if|for|while|with|match|case)\b)/;
/** A statement that starts with a string literal (a docstring): never an import. */
const STRING_STATEMENT = /^[ \t]*(?:[rRbBuUfF]{1,2})?['"]/;
/** `name = dotted.name`, `name = (a or b)`, `name = a if a else b` (possibly among other statements on the line): an
 *  alias the index reads. */
const ALIAS_ASSIGN = /(?:^|;)[ \t]*[A-Za-z_]\w*[ \t]*=[\s(]*[A-Za-z_][\w.]*(?:\s+(?:or|if|else|if\s+[A-Za-z_][\w.]*\s+is\s+not\s+None\s+else)\s+[A-Za-z_][\w.]*)*[\s)]*(?:[#;]|$)/;
/** `name = value` at column 0 (not `==`, not `name: T = value`, not `a = b = value`). */
const VAR_ASSIGN = /^([A-Za-z_]\w*)[ \t]*=(?!=)(?![ \t]*[A-Za-z_]\w*[ \t]*=(?!=))/;

/** A module-level variable the outline found: `environ = _createenviron()` in os.py. */
export interface OutlineVar {
  name: string;
  /** 1-based line of the name. */
  line: number;
}

/** `x = 1; import y`: an import after a semicolon. */
const IMPORT_AFTER_SEMICOLON = /;[ \t]*(?:import|from)\b/;

/** `def name(`: a definition whose parameter list the outline empties. */
const DEF_HEAD = /^[ \t]*(?:async[ \t]+)?def[ \t]+[A-Za-z_]\w*[ \t]*\(/;

/** A def header with its parameter list emptied (`def f(a, b=")"):` -> `def f():`), the
 *  newlines inside it kept; the header as it is when the list does not close. */
function emptyParameters(header: string): string {
  const open = header.indexOf('(');
  const n = header.length;
  let depth = 0;
  for (let i = open; i < n; i++) {
    const c = header[i];
    if (c === '#') {
      const e = header.indexOf('\n', i);
      if (e < 0) return header;
      i = e;
    } else if (c === '"' || c === "'") {
      const q = header.startsWith(c + c + c, i) ? c + c + c : c;
      let j = i + q.length;
      while (j < n && !header.startsWith(q, j)) j += header[j] === '\\' ? 2 : 1;
      if (j >= n) return header;
      i = j + q.length - 1;
    } else if (c === '(' || c === '[' || c === '{') {
      depth++;
    } else if (c === ')' || c === ']' || c === '}') {
      if (--depth === 0) {
        const inner = header.slice(open + 1, i);
        return header.slice(0, open + 1) + '\n'.repeat(inner.split('\n').length - 1) + header.slice(i);
      }
    }
  }
  return header;
}

/** The skeleton, further reduced for the index: every other simple statement at module or
 *  class level (assignments, docstrings, calls) becomes `0` on its first line, its other lines
 *  blank; lines holding only a comment become blank; def parameter lists are emptied. Every
 *  kept line stays where it was, and so do the names of definitions (offsets change: the facts'
 *  `order` is the outline's). */
export function pythonOutline(text: string, vars?: OutlineVar[]): string {
  const { lines, cont } = skeletonLines(text);
  for (let i = 0; i < lines.length; i++) {
    if (cont[i]) continue;
    const line = lines[i];
    if (isBlankOrComment(line)) {
      if (line !== '') lines[i] = '';
      continue;
    }
    let h = i;
    while (h + 1 < lines.length && cont[h + 1]) h++;
    if (DEF_HEAD.test(line)) {
      const header = lines.slice(i, h + 1).join('\n');
      const emptied = header.includes('__all__') ? header : emptyParameters(header);
      if (emptied !== header) lines.splice(i, h + 1 - i, ...emptied.split('\n'));
    } else if (!KEEP_STATEMENT.test(line)) {
      let keep = false;
      const str = STRING_STATEMENT.test(line);
      for (let k = i; k <= h && !keep; k++) {
        keep = lines[k].includes('__all__') || (!str && IMPORT_AFTER_SEMICOLON.test(lines[k]));
      }
      const statement = str ? '' : lines.slice(i, h + 1).join('\n');
      if (!keep && !str) keep = ALIAS_ASSIGN.test(statement.replace(/\\\r?\n/g, ' '));
      if (!keep && vars && !str) {
        // A module-level variable: column 0 (so in no block), one plain name assigned a value
        // that is not a name (those are aliases, kept above) and does not read the name itself.
        const v = VAR_ASSIGN.exec(statement);
        if (v && !v[1].startsWith('__') && !new RegExp(`\\b${v[1]}\\b`).test(statement.slice(v[0].length))) vars.push({ name: v[1], line: i + 1 });
      }
      if (!keep) {
        lines[i] = `${line.slice(0, indentOf(line))}0`;
        for (let k = i + 1; k <= h; k++) lines[k] = '';
      }
    }
    i = h;
  }
  return lines.join('\n');
}
