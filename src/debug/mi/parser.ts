/**
 * GDB/MI output parser: one line in, one typed record out. Pure; never throws.
 *
 * Grammar (GDB manual, "GDB/MI Output Syntax"):
 *   result-record  = [token] "^" class ("," result)*
 *   async-record   = [token] ("*" | "+" | "=") class ("," result)*   (exec / status / notify)
 *   stream-record  = ("~" | "@" | "&") c-string                      (console / target / log)
 *   prompt         = "(gdb)"
 *   value          = c-string | tuple "{...}" | list "[...]" (of values or of results)
 */

export type MiValue = string | MiTuple | MiList;

/** `{name=value,...}` (also the top-level results of a record). Keys may repeat in MI. */
export class MiTuple {
  constructor(readonly entries: ReadonlyArray<readonly [string, MiValue]> = []) {}

  get(name: string): MiValue | undefined {
    for (const [k, v] of this.entries) if (k === name) return v;
    return undefined;
  }
  /** The string field `name`, undefined when absent or not a string. */
  str(name: string): string | undefined {
    const v = this.get(name);
    return typeof v === 'string' ? v : undefined;
  }
  /** The field `name` as an integer (decimal, or 0x-hex), undefined when absent or not a number. */
  int(name: string): number | undefined {
    const v = this.str(name);
    if (v === undefined || !/^(0x[0-9a-fA-F]+|-?\d+)$/.test(v)) return undefined;
    return Number(v);
  }
  /** The field `name` as a bigint (addresses: `0x...`). */
  big(name: string): bigint | undefined {
    const v = this.str(name);
    if (v === undefined || !/^(0x[0-9a-fA-F]+|\d+)$/.test(v)) return undefined;
    return BigInt(v);
  }
  tuple(name: string): MiTuple | undefined {
    const v = this.get(name);
    return v instanceof MiTuple ? v : undefined;
  }
  list(name: string): MiList | undefined {
    const v = this.get(name);
    return v instanceof MiList ? v : undefined;
  }
  /** Every value under `name` (keys repeat in lists of results and in some tuples). */
  all(name: string): MiValue[] {
    return this.entries.filter(([k]) => k === name).map(([, v]) => v);
  }
}

/** `[value,...]` or `[name=value,...]`. `items` holds the values in both cases; `names` holds the
 *  result names (same length as items) for a list of results, or is undefined for a list of values. */
export class MiList {
  constructor(readonly items: readonly MiValue[] = [], readonly names?: readonly string[]) {}

  /** The tuple items (`[{...},{...}]` or `[frame={...},frame={...}]`); other items are skipped. */
  tuples(): MiTuple[] {
    return this.items.filter((v): v is MiTuple => v instanceof MiTuple);
  }
  strings(): string[] {
    return this.items.filter((v): v is string => typeof v === 'string');
  }
}

export type MiResultClass = 'done' | 'running' | 'connected' | 'error' | 'exit';

export type MiRecord =
  | { kind: 'result'; token?: number; resultClass: MiResultClass; results: MiTuple }
  | { kind: 'exec' | 'status' | 'notify'; token?: number; asyncClass: string; results: MiTuple }
  | { kind: 'stream'; stream: 'console' | 'target' | 'log'; text: string }
  | { kind: 'prompt' }
  | { kind: 'unknown'; line: string };

const RESULT_CLASSES: ReadonlySet<string> = new Set(['done', 'running', 'connected', 'error', 'exit']);
const ASYNC_KINDS = { '*': 'exec', '+': 'status', '=': 'notify' } as const;
const STREAM_KINDS = { '~': 'console', '@': 'target', '&': 'log' } as const;

class Malformed extends Error {}

/** Parses one line of GDB/MI output (without its line terminator). */
export function parseMiLine(line: string): MiRecord {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (/^\(gdb\)\s*$/.test(text)) return { kind: 'prompt' };
  try {
    const first = text[0];
    if (first === '~' || first === '@' || first === '&') {
      const c = new Cursor(text, 1);
      const s = c.cstring();
      if (!c.atEnd()) throw new Malformed();
      return { kind: 'stream', stream: STREAM_KINDS[first], text: s };
    }
    const m = /^(\d*)([\^*+=])([a-zA-Z][\w-]*)/.exec(text);
    if (!m) return { kind: 'unknown', line };
    const token = m[1] ? Number(m[1]) : undefined;
    const c = new Cursor(text, m[0].length);
    const results = c.resultsToEnd();
    if (m[2] === '^') {
      if (!RESULT_CLASSES.has(m[3])) return { kind: 'unknown', line };
      return withToken({ kind: 'result', resultClass: m[3] as MiResultClass, results }, token);
    }
    const kind = ASYNC_KINDS[m[2] as '*' | '+' | '='];
    return withToken({ kind, asyncClass: m[3], results }, token);
  } catch (e) {
    if (e instanceof Malformed) return { kind: 'unknown', line };
    throw e;
  }
}

function withToken<T extends object>(rec: T, token: number | undefined): T & { token?: number } {
  return token === undefined ? rec : { ...rec, token };
}

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true }); // a leading U+FEFF is text, not a BOM (found by fuzzing)
const encoder = new TextEncoder();
const SIMPLE_ESCAPES: Record<string, number> = {
  n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, e: 27, '"': 34, '\\': 92, "'": 39, '?': 63,
};

/** Deepest `{`/`[` nesting accepted. GDB's deepest records (frames with args, breakpoint
 *  locations, -var-list-children) nest under ten levels; a line nested deeper than this is
 *  `unknown`, never a stack overflow (found by fuzzing: 5,000 levels threw a RangeError). */
export const MAX_MI_NESTING = 512;

/** `[A-Za-z0-9_.-]`: the characters of a result's name. */
function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
}

class Cursor {
  private depth = 0;

  constructor(private readonly s: string, private i: number) {}

  atEnd(): boolean {
    return this.i >= this.s.length;
  }

  /** `("," result)*` up to the end of the line. */
  resultsToEnd(): MiTuple {
    const entries: [string, MiValue][] = [];
    while (!this.atEnd()) {
      this.expect(',');
      entries.push(this.result());
    }
    return new MiTuple(entries);
  }

  private expect(ch: string): void {
    if (this.s[this.i] !== ch) throw new Malformed();
    this.i++;
  }

  private result(): [string, MiValue] {
    const start = this.i;
    while (this.i < this.s.length && isNameChar(this.s.charCodeAt(this.i))) this.i++;
    if (this.i === start) throw new Malformed();
    const name = this.s.slice(start, this.i);
    this.expect('=');
    return [name, this.value()];
  }

  private value(): MiValue {
    const ch = this.s[this.i];
    if (ch === '"') return this.cstring();
    if (ch !== '{' && ch !== '[') throw new Malformed();
    if (++this.depth > MAX_MI_NESTING) throw new Malformed();
    const v = this.container(ch);
    this.depth--;
    return v;
  }

  private container(ch: '{' | '['): MiTuple | MiList {
    if (ch === '{') {
      this.i++;
      const entries: [string, MiValue][] = [];
      if (this.s[this.i] === '}') { this.i++; return new MiTuple(entries); }
      for (;;) {
        // Older GDBs print tuples of bare values in a few places (`bkpt={...},{...}`): accept them.
        entries.push(this.s[this.i] === '{' || this.s[this.i] === '"' || this.s[this.i] === '['
          ? ['', this.value()] : this.result());
        if (this.s[this.i] === '}') { this.i++; return new MiTuple(entries); }
        this.expect(',');
      }
    }
    {
      this.i++;
      const items: MiValue[] = [];
      const names: string[] = [];
      if (this.s[this.i] === ']') { this.i++; return new MiList(items); }
      const ofResults = !(this.s[this.i] === '"' || this.s[this.i] === '{' || this.s[this.i] === '[');
      for (;;) {
        if (ofResults) {
          const [n, v] = this.result();
          names.push(n);
          items.push(v);
        } else {
          items.push(this.value());
        }
        if (this.s[this.i] === ']') { this.i++; return new MiList(items, ofResults ? names : undefined); }
        this.expect(',');
      }
    }
  }

  /** A C string: escapes (`\n`, `\"`, octal `\303\251`) decoded as bytes, the bytes as UTF-8. */
  cstring(): string {
    this.expect('"');
    // Most strings have no escape: the text between the quotes is the value.
    const close = this.s.indexOf('"', this.i);
    if (close >= 0) {
      let j = this.i;
      while (j < close && this.s.charCodeAt(j) !== 92 /* \ */) j++;
      if (j === close) {
        const v = this.s.slice(this.i, close);
        this.i = close + 1;
        return v;
      }
    }
    const bytes: number[] = [];
    let plainStart = this.i;
    const flushPlain = (end: number) => {
      if (end > plainStart) for (const b of encoder.encode(this.s.slice(plainStart, end))) bytes.push(b);
    };
    while (this.i < this.s.length) {
      const ch = this.s[this.i];
      if (ch === '"') {
        flushPlain(this.i);
        this.i++;
        return utf8.decode(Uint8Array.from(bytes));
      }
      if (ch !== '\\') { this.i++; continue; }
      flushPlain(this.i);
      const e = this.s[this.i + 1];
      if (e === undefined) throw new Malformed();
      if (e >= '0' && e <= '7') {
        let j = this.i + 1;
        let v = 0;
        while (j < this.s.length && j < this.i + 4 && this.s[j] >= '0' && this.s[j] <= '7') v = v * 8 + (this.s.charCodeAt(j++) - 48);
        bytes.push(v & 0xff);
        this.i = j;
      } else if (e === 'x') {
        let j = this.i + 2;
        while (j < this.s.length && /[0-9a-fA-F]/.test(this.s[j])) j++;
        if (j === this.i + 2) throw new Malformed();
        bytes.push(parseInt(this.s.slice(this.i + 2, j), 16) & 0xff);
        this.i = j;
      } else {
        const code = SIMPLE_ESCAPES[e];
        if (code !== undefined) bytes.push(code);
        else for (const b of encoder.encode(e)) bytes.push(b);
        this.i += 2;
      }
      plainStart = this.i;
    }
    throw new Malformed();
  }
}
