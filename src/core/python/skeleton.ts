/**
 * The skeleton of a Python module for the index: the same text, line for line, with the bodies
 * of functions emptied (a body becomes `pass` on its first line and blank lines after). The
 * index reads imports, classes and def names, never what a function does; imports inside
 * functions bind no module attribute. Parsing the skeleton is several times faster and keeps
 * every line and column of what is kept. Strings, brackets and backslash continuations are
 * tracked so a docstring at column 0 does not end a body early.
 */

/** For each line: does it start inside a string, an open bracket or a continuation? */
function continuationLines(text: string): boolean[] {
  const cont: boolean[] = [false];
  const n = text.length;
  let depth = 0;
  let quote = ''; // '', "'", '"', "'''", '"""'
  for (let i = 0; i < n; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') {
        if (text[i + 1] === '\n') cont.push(true);
        i++;
      } else if (c === '\n') {
        if (quote.length === 1) quote = ''; // unterminated one-line string: stop at the line end
        cont.push(quote !== '' || depth > 0);
      } else if (text.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = '';
      }
      continue;
    }
    switch (c) {
      case '#': {
        const e = text.indexOf('\n', i);
        i = (e < 0 ? n : e) - 1;
        break;
      }
      case '"':
      case "'":
        quote = text.startsWith(c + c + c, i) ? c + c + c : c;
        i += quote.length - 1;
        break;
      case '(': case '[': case '{':
        depth++;
        break;
      case ')': case ']': case '}':
        if (depth > 0) depth--;
        break;
      case '\\':
        if (text[i + 1] === '\n') {
          cont.push(true);
          i++;
        }
        break;
      case '\n':
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
  const lines = text.split('\n');
  const cont = continuationLines(text);
  const out = lines.slice();
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
  return out.join('\n');
}
