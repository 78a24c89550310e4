/**
 * Preprocessor conditions that only ask which Python a file is built for, decided for every
 * CPython Seam serves (3.9 to 3.14): `#if PY_VERSION_HEX < 0x030900A6` is false for all of them,
 * `#ifndef PYPY_VERSION` true; `#if PY_VERSION_HEX >= 0x030C0000` differs between them, and a
 * condition on anything else is not known (undefined). A table entry written with both branches
 * (immutables' `__class_getitem__`: the old function before 3.9, `Py_GenericAlias` after) is then
 * read in the branch that is compiled. Pure: no I/O.
 */

/** PY_VERSION_HEX of each final release served (3.9 .. 3.14). */
const SERVED = [0x030900f0, 0x030a00f0, 0x030b00f0, 0x030c00f0, 0x030d00f0, 0x030e00f0];

type Val = number | boolean | undefined;

/** The value of `#if` / `#elif` condition text for every served version: true, false, or
 *  undefined (it differs between them, or asks something else). */
export function versionCondition(cond: string): boolean | undefined {
  const toks = tokens(cond);
  if (!toks || !toks.some((t) => t === 'PY_VERSION_HEX' || t === 'PY_MAJOR_VERSION' || t === 'PY_MINOR_VERSION' || t === 'PYPY_VERSION')) return undefined;
  let seen: boolean | undefined;
  for (const hex of SERVED) {
    const v = evaluate(toks, hex);
    if (v === undefined) return undefined;
    const b = typeof v === 'boolean' ? v : v !== 0;
    if (seen === undefined) seen = b;
    else if (seen !== b) return undefined;
  }
  return seen;
}

/** `#ifdef NAME` / `#ifndef NAME` (`negate`): known only for PyPy's macro. */
export function versionDefined(name: string, negate: boolean): boolean | undefined {
  if (name !== 'PYPY_VERSION') return undefined;
  return negate;
}

const TOKEN = /\s*(0[xX][0-9a-fA-F]+|\d+[uUlL]*|[A-Za-z_]\w*|&&|\|\||[<>=!]=|[<>()!])/y;

function tokens(text: string): string[] | undefined {
  const src = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ' ').trim();
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(src);
    if (!m) {
      if (/^\s*$/.test(src.slice(at))) break;
      return undefined;
    }
    out.push(m[1]);
  }
  return out;
}

/** Recursive descent over `||`, `&&`, comparisons, `!`, parentheses, `defined(X)`, numbers and
 *  the version macros; undefined where something else is asked. */
function evaluate(toks: string[], hex: number): Val {
  let i = 0;
  const peek = (): string | undefined => toks[i];
  const truth = (v: Val): boolean | undefined => (v === undefined ? undefined : typeof v === 'boolean' ? v : v !== 0);
  const or = (): Val => {
    let l = and();
    while (peek() === '||') {
      i++;
      const r = and();
      const a = truth(l);
      const b = truth(r);
      l = a === true || b === true ? true : a === false && b === false ? false : undefined;
    }
    return l;
  };
  const and = (): Val => {
    let l = cmp();
    while (peek() === '&&') {
      i++;
      const r = cmp();
      const a = truth(l);
      const b = truth(r);
      l = a === false || b === false ? false : a === true && b === true ? true : undefined;
    }
    return l;
  };
  const cmp = (): Val => {
    const l = unary();
    const op = peek();
    if (op === '<' || op === '>' || op === '<=' || op === '>=' || op === '==' || op === '!=') {
      i++;
      const r = unary();
      if (typeof l !== 'number' || typeof r !== 'number') return undefined;
      switch (op) {
        case '<': return l < r;
        case '>': return l > r;
        case '<=': return l <= r;
        case '>=': return l >= r;
        case '==': return l === r;
        default: return l !== r;
      }
    }
    return l;
  };
  const unary = (): Val => {
    const t = toks[i++];
    if (t === undefined) return undefined;
    if (t === '!') {
      const v = truth(unary());
      return v === undefined ? undefined : !v;
    }
    if (t === '(') {
      const v = or();
      if (toks[i++] !== ')') return undefined;
      return v;
    }
    if (t === 'defined') {
      const paren = peek() === '(';
      if (paren) i++;
      const name = toks[i++];
      if (paren && toks[i++] !== ')') return undefined;
      return name === undefined ? undefined : versionDefined(name, false);
    }
    if (/^0[xX]/.test(t)) return parseInt(t, 16);
    if (/^\d/.test(t)) return parseInt(t, 10);
    if (t === 'PY_VERSION_HEX') return hex;
    if (t === 'PY_MAJOR_VERSION') return hex >>> 24;
    if (t === 'PY_MINOR_VERSION') return (hex >>> 16) & 0xff;
    return undefined;
  };
  const v = or();
  return i === toks.length ? v : undefined;
}
