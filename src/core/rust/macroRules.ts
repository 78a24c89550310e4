/**
 * `macro_rules!` by example, enough to expand the crate's own macros that write PyO3 items:
 * token trees, a matcher with `$name:fragment` and repetitions `$( … ) sep? *|+|?`, and the
 * transcriber. Each line of the output knows where it came from (the macro's body, or the
 * invocation, whose tokens `$($extra:tt)*` hands on), so that items keep their real lines.
 * Pure; no parse (the expansion is given to the Rust extractor).
 */

export interface Tok {
  /** ident (keywords too), literal, lifetime, punctuation, or a delimited group. */
  k: 'id' | 'lit' | 'life' | 'p' | 'g';
  /** The token's text; for a group its opening delimiter. */
  s: string;
  line: number;
  /** Whitespace before it in the source. */
  sp: boolean;
  /** First on its line in the source. */
  nl?: boolean;
  /** Where it was written: the macro (0) or the invocation (1). */
  from: 0 | 1;
  kids?: Tok[];
  /** A group's closing delimiter, its line, and whether whitespace came before it. */
  close?: string;
  closeLine?: number;
  closeSp?: boolean;
}

const CLOSE: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** Token trees of `text`, whose first character is on line `line0`. Undefined when the
 *  delimiters do not balance. */
export function lexTrees(text: string, line0: number, from: 0 | 1, startsLine = true): Tok[] | undefined {
  let line = line0;
  const root: Tok[] = [];
  const stack: { list: Tok[]; tok?: Tok }[] = [{ list: root }];
  let sp = true;
  let nl = startsLine;
  for (let i = 0; i < text.length;) {
    const c = text[i];
    if (c === '\n') { line++; sp = true; nl = true; i++; continue; }
    if (c === ' ' || c === '\t' || c === '\r') { sp = true; i++; continue; }
    if (c === '/' && text[i + 1] === '/') {
      const e = text.indexOf('\n', i);
      i = e < 0 ? text.length : e;
      sp = true;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const e = text.indexOf('*/', i + 2);
      const end = e < 0 ? text.length : e + 2;
      for (let j = i; j < end; j++) if (text[j] === '\n') line++;
      i = end;
      sp = true;
      continue;
    }
    const top = stack[stack.length - 1].list;
    const push = (k: Tok['k'], s: string): void => {
      top.push(nl ? { k, s, line, sp, from, nl } : { k, s, line, sp, from });
      sp = false;
      nl = false;
    };
    if (c in CLOSE) {
      const g: Tok = { k: 'g', s: c, line, sp, from, kids: [] };
      if (nl) g.nl = true;
      top.push(g);
      stack.push({ list: g.kids!, tok: g });
      sp = false;
      nl = false;
      i++;
      continue;
    }
    if (c === ')' || c === ']' || c === '}') {
      const open = stack.pop();
      if (!open?.tok || CLOSE[open.tok.s] !== c) return undefined;
      open.tok.close = c;
      open.tok.closeLine = line;
      open.tok.closeSp = sp;
      sp = false;
      nl = false;
      i++;
      continue;
    }
    const rest = text.slice(i, i + 256);
    let m: RegExpExecArray | null;
    if ((m = /^(?:r#)?[A-Za-z_][A-Za-z0-9_]*/.exec(rest)) && !/^[br]"|^br"|^r#"|^b'/.test(rest)) {
      push('id', m[0]);
      i += m[0].length;
      continue;
    }
    if ((m = /^(?:b?r(#*)"[\s\S]*?"\1)/.exec(text.slice(i)))) {
      push('lit', m[0]);
      for (const ch of m[0]) if (ch === '\n') line++;
      i += m[0].length;
      continue;
    }
    if (c === '"' || (c === 'b' && text[i + 1] === '"') || (c === 'c' && text[i + 1] === '"')) {
      let j = text.indexOf('"', i) + 1;
      for (; j < text.length && text[j] !== '"'; j++) if (text[j] === '\\') j++;
      const s = text.slice(i, j + 1);
      push('lit', s);
      for (const ch of s) if (ch === '\n') line++;
      i = j + 1;
      continue;
    }
    if (c === '\'' || (c === 'b' && text[i + 1] === '\'')) {
      // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
      const q = c === 'b' ? i + 1 : i;
      const ch = /^'(?:\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'])'/.exec(text.slice(q, q + 16));
      if (ch) {
        push('lit', text.slice(i, q + ch[0].length));
        i = q + ch[0].length;
        continue;
      }
      const life = /^'[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 64));
      if (life) {
        push('life', life[0]);
        i += life[0].length;
        continue;
      }
    }
    if ((m = /^[0-9][0-9A-Za-z_]*(?:\.[0-9][0-9A-Za-z_]*)?/.exec(rest))) {
      push('lit', m[0]);
      i += m[0].length;
      continue;
    }
    push('p', c);
    i++;
  }
  return stack.length === 1 ? root : undefined;
}

// --- matcher --------------------------------------------------------------------------------

type Pat =
  | { t: 'tok'; tok: Tok }
  | { t: 'frag'; name: string; frag: string }
  | { t: 'rep'; kids: Pat[]; sep?: Tok; op: '*' | '+' | '?' }
  | { t: 'group'; open: string; kids: Pat[] };

/** The matcher's token trees as a pattern; undefined when it is not one. */
export function parseMatcher(toks: Tok[]): Pat[] | undefined {
  const out: Pat[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.k === 'p' && t.s === '$') {
      const n = toks[i + 1];
      if (n?.k === 'id' && toks[i + 2]?.s === ':' && toks[i + 3]?.k === 'id') {
        out.push({ t: 'frag', name: n.s, frag: toks[i + 3].s });
        i += 3;
        continue;
      }
      if (n?.k === 'g' && n.s === '(') {
        const kids = parseMatcher(n.kids!);
        if (!kids) return undefined;
        const tail = repetitionTail(toks, i + 2);
        if (!tail) return undefined;
        out.push({ t: 'rep', kids, sep: tail.sep, op: tail.op });
        i = tail.at;
        continue;
      }
      return undefined;
    }
    if (t.k === 'g') {
      const kids = parseMatcher(t.kids!);
      if (!kids) return undefined;
      out.push({ t: 'group', open: t.s, kids });
      continue;
    }
    out.push({ t: 'tok', tok: t });
  }
  return out;
}

/** After a repetition's `$( … )` at `toks[j]`: an optional separator (one token, not a group)
 *  and the operator, whose index is `at`; undefined when that is not what follows. */
function repetitionTail(toks: Tok[], j: number): { sep?: Tok; op: '*' | '+' | '?'; at: number } | undefined {
  const isOp = (x: Tok | undefined): boolean => x?.k === 'p' && (x.s === '*' || x.s === '+' || x.s === '?');
  let sep: Tok | undefined;
  if (!isOp(toks[j])) {
    if (!toks[j] || toks[j].k === 'g') return undefined;
    sep = toks[j];
    j++;
  }
  return isOp(toks[j]) ? { sep, op: toks[j].s as '*' | '+' | '?', at: j } : undefined;
}

/** What a metavariable matched: tokens, or one entry per repetition. */
export type Binding = { toks: Tok[] } | { reps: Binding[] };

const sameTok = (a: Tok, b: Tok): boolean => a.k === b.k && a.s === b.s;

/** Fragments that are one token tree, or a run of them ending where what follows begins. */
function matchFrag(frag: string, input: Tok[], i: number, follow: Pat | undefined): number {
  const t = input[i];
  switch (frag) {
    case 'tt':
      return t ? i + 1 : -1;
    case 'ident':
      return t?.k === 'id' ? i + 1 : -1;
    case 'lifetime':
      return t?.k === 'life' ? i + 1 : -1;
    case 'literal':
      if (t?.k === 'p' && t.s === '-' && input[i + 1]?.k === 'lit') return i + 2;
      return t?.k === 'lit' || (t?.k === 'id' && (t.s === 'true' || t.s === 'false')) ? i + 1 : -1;
    case 'block':
      return t?.k === 'g' && t.s === '{' ? i + 1 : -1;
    case 'vis':
      if (t?.k === 'id' && t.s === 'pub') return input[i + 1]?.k === 'g' && input[i + 1].s === '(' ? i + 2 : i + 1;
      return i;
    default: {
      // ty, path, expr, pat, pat_param, stmt, item, meta: up to the follow token at this level
      // (commas inside `<…>` belong to a type).
      const stop = follow?.t === 'tok' ? follow.tok : undefined;
      let angle = 0;
      let j = i;
      for (; j < input.length; j++) {
        const x = input[j];
        if (angle === 0 && stop && sameTok(x, stop)) break;
        if (angle === 0 && !stop && x.k === 'p' && (x.s === ',' || x.s === ';' || (x.s === '=' && input[j + 1]?.s === '>'))) break;
        if ((frag === 'ty' || frag === 'path') && x.k === 'p') {
          if (x.s === '<') angle++;
          else if (x.s === '>' && angle > 0 && input[j - 1]?.s !== '-') angle--;
        }
      }
      return j > i ? j : -1;
    }
  }
}

/** Matches `pats` against all of `input`; the bindings, or undefined. */
export function matchAll(pats: Pat[], input: Tok[]): Map<string, Binding> | undefined {
  const b = new Map<string, Binding>();
  const end = matchSeq(pats, input, 0, b);
  return end === input.length ? b : undefined;
}

function matchSeq(pats: Pat[], input: Tok[], i: number, b: Map<string, Binding>): number {
  for (let p = 0; p < pats.length; p++) {
    const pat = pats[p];
    if (pat.t === 'tok') {
      if (!input[i] || !sameTok(input[i], pat.tok)) return -1;
      i++;
    } else if (pat.t === 'group') {
      const g = input[i];
      if (g?.k !== 'g' || g.s !== pat.open) return -1;
      if (matchSeq(pat.kids, g.kids!, 0, b) !== g.kids!.length) return -1;
      i++;
    } else if (pat.t === 'frag') {
      const j = matchFrag(pat.frag, input, i, pats[p + 1]);
      if (j < 0) return -1;
      b.set(pat.name, { toks: input.slice(i, j) });
      i = j;
    } else {
      const names = fragNames(pat.kids);
      const reps: Map<string, Binding>[] = [];
      for (;;) {
        if (pat.op === '?' && reps.length === 1) break;
        let k = i;
        if (reps.length && pat.sep) {
          if (!input[k] || !sameTok(input[k], pat.sep)) break;
          k++;
        }
        const one = new Map<string, Binding>();
        const j = matchSeq(pat.kids, input, k, one);
        if (j < 0 || (j === k && !pat.kids.length)) break;
        if (j === i) break; // no progress
        reps.push(one);
        i = j;
      }
      if (pat.op === '+' && !reps.length) return -1;
      for (const n of names) b.set(n, { reps: reps.map((r) => r.get(n) ?? { toks: [] }) });
    }
  }
  return i;
}

function fragNames(pats: Pat[]): string[] {
  const out: string[] = [];
  for (const p of pats) {
    if (p.t === 'frag') out.push(p.name);
    else if (p.t === 'rep' || p.t === 'group') out.push(...fragNames(p.kids));
  }
  return out;
}

// --- transcriber ----------------------------------------------------------------------------

/** A token of the output: where it was written, the body line it was put on (`at`), and whether
 *  it is the first of a substitution. */
interface Out { tok: Tok; at: number; text: string; sp: boolean; first?: boolean }

/** The expansion's text and, per output line (0-based), where it was written. */
export interface Expanded {
  text: string;
  lines: { from: 0 | 1; line: number; at: number }[];
}

/** Transcribes `body` (the macro's transcriber, as token trees) with the bindings. */
export function transcribe(body: Tok[], b: Map<string, Binding>): Expanded | undefined {
  const flat: Out[] = [];
  const ok = emit(body, b, [], flat, 0);
  if (!ok) return undefined;
  // A new output line where the macro's body starts one, and where a line of the invocation
  // begins (`$($extra)*` handing on whole items); an identifier put into a body line
  // (`struct $name`) stays on it.
  let text = '';
  const lines: Expanded['lines'] = [];
  let cur: { from: 0 | 1; line: number } | undefined;
  for (let k = 0; k < flat.length; k++) {
    const f = flat[k];
    // (An invocation's token that begins a substitution put mid-line in the body, `struct $name`,
    // stays on the body's line even when it began a line of the invocation.)
    const prev = flat[k - 1];
    const midLine = f.first && prev !== undefined && prev.tok.from === 0 && prev.tok.line === f.at;
    const breaks = !cur || (f.tok.from === 0 ? cur.from !== 0 || cur.line !== f.tok.line : cur.from === 1 ? cur.line !== f.tok.line : !!f.tok.nl && !midLine);
    if (breaks) {
      if (cur) text += '\n';
      cur = { from: f.tok.from, line: f.tok.line };
      lines.push({ from: f.tok.from, line: f.tok.line, at: f.at });
    } else if (f.sp || (/[A-Za-z0-9_]$/.test(text) && /^[A-Za-z0-9_]/.test(f.text))) text += ' ';
    text += f.text;
    // (A literal over several lines: its lines are the current one's.)
    for (let k = f.text.indexOf('\n'); k >= 0; k = f.text.indexOf('\n', k + 1)) lines.push(lines[lines.length - 1]);
  }
  return { text, lines };
}

function lookup(b: Map<string, Binding>, name: string, idx: number[]): Binding | undefined {
  let v = b.get(name);
  for (const k of idx) {
    if (!v || !('reps' in v)) break;
    v = v.reps[k];
  }
  return v;
}

function emit(toks: Tok[], b: Map<string, Binding>, idx: number[], out: Out[], at: number): boolean {
  const put = (tok: Tok, text: string, sp: boolean, line = tok.line): void => {
    out.push({ tok: line === tok.line ? tok : { ...tok, line }, at: tok.from === 0 ? tok.line : at, text, sp });
  };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.k === 'p' && t.s === '$') {
      const n = toks[i + 1];
      if (n?.k === 'id') {
        if (n.s === 'crate') {
          put(n, 'crate', t.sp);
          i++;
          continue;
        }
        const v = lookup(b, n.s, idx);
        if (v && 'toks' in v) {
          const start = out.length;
          for (const x of v.toks) emitTok(x, out.length === start ? t.sp : x.sp, out, t.line);
          if (out.length > start) out[start].first = true;
          i++;
          continue;
        }
        if (v) return false; // a repeated variable outside its repetition
      }
      if (n?.k === 'g' && n.s === '(') {
        const tail = repetitionTail(toks, i + 2);
        if (!tail) return false;
        const sep = tail.sep;
        // As many times as the repeated variables inside were matched at this depth.
        const used = usedVars(n.kids!);
        let count: number | undefined;
        for (const u of used) {
          const v = lookup(b, u, idx);
          if (v && 'reps' in v) count = count === undefined ? v.reps.length : Math.min(count, v.reps.length);
        }
        if (count === undefined) return false;
        for (let r = 0; r < count; r++) {
          if (r > 0 && sep) put(sep, sep.s, sep.sp);
          if (!emit(n.kids!, b, [...idx, r], out, at)) return false;
        }
        i = tail.at;
        continue;
      }
    }
    if (t.k === 'g') {
      put(t, t.s, t.sp);
      if (!emit(t.kids!, b, idx, out, at)) return false;
      put(t, t.close ?? CLOSE[t.s], !!t.closeSp, t.closeLine ?? t.line);
      continue;
    }
    put(t, t.s, t.sp);
  }
  return true;
}

/** Emits an invocation's token (tree) as written; `at` is the body line it is substituted on. */
function emitTok(x: Tok, sp: boolean, out: Out[], at: number): void {
  out.push({ tok: x, at: x.from === 0 ? x.line : at, text: x.s, sp });
  if (x.k === 'g') {
    for (const k of x.kids!) emitTok(k, k.sp, out, at);
    out.push({ tok: { ...x, line: x.closeLine ?? x.line }, at, text: x.close ?? CLOSE[x.s], sp: !!x.closeSp });
  }
}

function usedVars(toks: Tok[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.k === 'p' && t.s === '$' && toks[i + 1]?.k === 'id') out.push(toks[i + 1].s);
    if (t.k === 'g') out.push(...usedVars(t.kids!));
  }
  return out;
}

/** A `macro_rules!` arm, as the extractor keeps it. */
export interface MacroArm {
  /** The matcher's text without its delimiters, and its first line. */
  matcher: string;
  matcherLine: number;
  /** The transcriber's text without its delimiters, and its first line. */
  body: string;
  line: number;
}

/** Expands an invocation (`args`, starting on `argsLine`) with the first arm that matches. */
export function expandMacro(arms: MacroArm[], args: string, argsLine: number): Expanded | undefined {
  // (The arguments begin after the invocation's delimiter, not at a line's start.)
  const input = lexTrees(args, argsLine, 1, false);
  if (!input) return undefined;
  for (const arm of arms) {
    const mt = lexTrees(arm.matcher, arm.matcherLine, 0);
    const pats = mt && parseMatcher(mt);
    if (!pats) continue;
    const b = matchAll(pats, input);
    if (!b) continue;
    const body = lexTrees(arm.body, arm.line, 0);
    return body ? transcribe(body, b) : undefined;
  }
  return undefined;
}
