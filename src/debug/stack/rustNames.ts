/**
 * Rust symbol names as debuggers hand them over, made readable. Pure.
 *
 * Three shapes reach us:
 * - demangled with DWARF (GDB): `lib::Engine<T>::new`, nothing to do;
 * - demangled without DWARF (GDB, c++filt, LLDB): legacy names keep `::h<16 hex>` and LLDB keeps
 *   the legacy escapes (`$LT$`, `$u20$`, `..`); v0 names keep crate disambiguators `[<hex>]`;
 * - still mangled (a bare ELF symbol): legacy `_ZN…17h<16 hex>E` or v0 `_R…`.
 *
 * `demangleRust` decodes both manglings into the same text c++filt and rustc-demangle print
 * (hashes and disambiguators kept); `cleanRustName` turns any of the shapes into the short form.
 * Grammar: the Rust RFC 2603 (v0) and rustc's legacy scheme (an Itanium nested name with `$`
 * escapes and a trailing hash element).
 */

import { byName } from './memo';

const LEGACY_HASH = /::h[0-9a-f]{16}(?=$|[^0-9a-zA-Z_])/g;
const V0_DISAMBIGUATOR = /\[[0-9a-f]{1,16}\]/g;

/** True when `name` (mangled or not) is recognisably Rust. */
export const isRustName = byName(rustName);

function rustName(name: string): boolean {
  if (isLegacyMangled(name) || isV0Mangled(name)) return true;
  if (/::h[0-9a-f]{16}\b/.test(name)) return true; // legacy hash left by GDB/LLDB without DWARF
  if (/\$(LT|GT|RF|BP|SP|C|LP|RP|u[0-9a-f]{1,6})\$/.test(name)) return true; // legacy escapes
  if (/(?:^|[^A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]*\[[0-9a-f]{1,16}\]::/.test(name)) return true; // v0 crate root, anywhere (`<crate[hash]::T>::f`)
  if (/\{(closure|shim|impl|constant)[#:}]|\{\{closure\}\}/.test(name)) return true; // DWARF/legacy closure names
  // Paths under crates that only Rust has (C++ shares `std::`, so only Rust-only modules count).
  return /^<?(core|alloc|pyo3|pyo3_ffi|std::(panicking|panic|rt|sys|thread::local))::/.test(name);
}

/** The short, readable form of a Rust function name in any of the shapes above. */
export const cleanRustName = byName(cleanName);

function cleanName(name: string): string {
  let s = name;
  const demangled = demangleRust(s);
  if (demangled !== undefined) s = demangled;
  else if (/\$[A-Za-z0-9]{1,6}\$|[A-Za-z0-9_$]\.\.[A-Za-z_$<]/.test(s)) {
    // Demangled element by element but not unescaped (LLDB): `_$LT$` starts an element.
    s = decodeLegacyEscapes(s.replace(/(^|::)_(?=\$)/g, '$1'));
  }
  return s.replace(LEGACY_HASH, '').replace(V0_DISAMBIGUATOR, '');
}

/** Demangles a legacy (`_ZN…E`) or v0 (`_R…`) Rust symbol; undefined when `sym` is neither
 *  (a C or C++ symbol, or a malformed one). Output is the long form, as c++filt prints it. */
export function demangleRust(sym: string): string | undefined {
  // Suffixes after the mangled name (LLVM's `.llvm.<digits>`, `.0` on statics, `.cold`) are
  // dropped, as c++filt does. v0 names never contain `.`; legacy ones do (`..`), so cut there
  // only after the closing `17h<hash>E`.
  try {
    if (isV0Mangled(sym)) return demangleV0(sym.split('.')[0]);
    const legacy = /^(.*17h[0-9a-f]{16}E)(\..*)?$/.exec(sym);
    if (legacy && isLegacyMangled(legacy[1])) return demangleLegacy(legacy[1]);
  } catch (e) {
    if (e instanceof DemangleError) return undefined;
    throw e;
  }
  return undefined;
}

function isV0Mangled(s: string): boolean {
  return /^(_R|R|__R)[A-Z0-9_]/.test(s) && /^_?_?R[0-9]*[CNMXYIB]/.test(s);
}

/** Legacy Rust is an Itanium nested name whose last element is the hash `h<16 hex>`; without
 *  it, `_ZN…E` is C++ and is left alone. */
function isLegacyMangled(s: string): boolean {
  return /^_?_?ZN.*17h[0-9a-f]{16}E$/.test(s);
}

class DemangleError extends Error {}
function fail(why: string): never {
  throw new DemangleError(why);
}

// ---------------------------------------------------------------------------------------------
// Legacy

function demangleLegacy(sym: string): string {
  let i = sym.indexOf('ZN') + 2;
  const parts: string[] = [];
  while (i < sym.length && sym[i] !== 'E') {
    let j = i;
    while (j < sym.length && sym[j] >= '0' && sym[j] <= '9') j++;
    if (j === i) fail('legacy: length expected');
    const len = Number(sym.slice(i, j));
    const elem = sym.slice(j, j + len);
    if (elem.length !== len) fail('legacy: short element');
    parts.push(decodeLegacyElement(elem));
    i = j + len;
  }
  if (sym[i] !== 'E' || i !== sym.length - 1 || parts.length === 0) fail('legacy: bad end');
  return parts.join('::');
}

function decodeLegacyElement(elem: string): string {
  // A leading `_` only protects a `$` (or a digit) at the start of an element.
  const e = elem.startsWith('_$') ? elem.slice(1) : elem;
  return decodeLegacyEscapes(e);
}

const LEGACY_ESCAPES: Record<string, string> = {
  SP: '@', BP: '*', RF: '&', LT: '<', GT: '>', LP: '(', RP: ')', C: ',',
};

/** `$LT$` → `<`, `$u20$` → ` `, `..` → `::` (rustc's legacy escapes); unknown `$…$` kept. */
export function decodeLegacyEscapes(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '.' && s[i + 1] === '.') {
      out += '::';
      i += 2;
    } else if (c === '$') {
      const end = s.indexOf('$', i + 1);
      const code = end > i ? s.slice(i + 1, end) : '';
      let rep: string | undefined = LEGACY_ESCAPES[code];
      if (rep === undefined && /^u[0-9a-f]{1,6}$/.test(code)) {
        const cp = parseInt(code.slice(1), 16);
        if (cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) rep = String.fromCodePoint(cp);
      }
      if (rep === undefined) {
        out += c;
        i += 1;
      } else {
        out += rep;
        i = end + 1;
      }
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// v0 (RFC 2603)

const BASIC_TYPES: Record<string, string> = {
  a: 'i8', b: 'bool', c: 'char', d: 'f64', e: 'str', f: 'f32', h: 'u8', i: 'isize', j: 'usize',
  l: 'i32', m: 'u32', n: 'i128', o: 'u128', s: 'i16', t: 'u16', u: '()', v: '...', x: 'i64',
  y: 'u64', z: '!', p: '_',
};

/** Cap on output length: backreferences can make a short symbol expand exponentially. */
const MAX_OUTPUT = 1 << 16;
const MAX_DEPTH = 300;

interface Ident {
  ascii: string;
  punycode: string;
}

class V0Parser {
  private pos: number;
  private depth = 0;
  private boundLifetimes = 0;
  private produced = 0;

  constructor(private readonly s: string, start: number) {
    this.pos = start;
  }

  /** `_R` [version] path [instantiating-crate] — the last part is not printed. */
  static demangle(sym: string): string {
    const r = sym.indexOf('R');
    const body = sym.slice(r + 1);
    if (/^[0-9]/.test(body)) fail('v0: unsupported encoding version');
    const p = new V0Parser(body, 0);
    const out = p.path(true);
    if (p.pos < body.length && /[A-Z]/.test(body[p.pos])) p.path(false); // instantiating crate
    if (p.pos !== body.length) fail('v0: trailing characters');
    return out;
  }

  private peek(): string | undefined {
    return this.s[this.pos];
  }
  private next(): string {
    const c = this.s[this.pos];
    if (c === undefined) fail('v0: unexpected end');
    this.pos++;
    return c;
  }
  private eat(c: string): boolean {
    if (this.s[this.pos] === c) {
      this.pos++;
      return true;
    }
    return false;
  }
  private emit(text: string): string {
    this.produced += text.length;
    if (this.produced > MAX_OUTPUT) fail('v0: output too long');
    return text;
  }
  private enter(): void {
    if (++this.depth > MAX_DEPTH) fail('v0: too deep');
  }
  private leave(): void {
    this.depth--;
  }

  /** base-62 number terminated by `_`; `_` alone is 0, otherwise value + 1. */
  private integer62(): bigint {
    if (this.eat('_')) return 0n;
    let x = 0n;
    for (;;) {
      const c = this.next();
      if (c === '_') break;
      let d: number;
      if (c >= '0' && c <= '9') d = c.charCodeAt(0) - 48;
      else if (c >= 'a' && c <= 'z') d = c.charCodeAt(0) - 97 + 10;
      else if (c >= 'A' && c <= 'Z') d = c.charCodeAt(0) - 65 + 36;
      else fail('v0: bad base-62 digit');
      x = x * 62n + BigInt(d);
    }
    return x + 1n;
  }
  private optInteger62(tag: string): bigint {
    return this.eat(tag) ? this.integer62() + 1n : 0n;
  }
  private disambiguator(): bigint {
    return this.optInteger62('s');
  }
  private decimal(): number {
    const start = this.pos;
    if (this.peek() === '0') {
      this.pos++;
      return 0;
    }
    while (/[0-9]/.test(this.peek() ?? '')) this.pos++;
    if (start === this.pos) fail('v0: decimal expected');
    return Number(this.s.slice(start, this.pos));
  }

  private ident(): Ident {
    const isPunycode = this.eat('u');
    const len = this.decimal();
    this.eat('_');
    const raw = this.s.slice(this.pos, this.pos + len);
    if (raw.length !== len) fail('v0: short identifier');
    this.pos += len;
    if (!isPunycode) return { ascii: raw, punycode: '' };
    const cut = raw.lastIndexOf('_');
    return cut < 0 ? { ascii: '', punycode: raw } : { ascii: raw.slice(0, cut), punycode: raw.slice(cut + 1) };
  }
  private identText(id: Ident): string {
    return id.punycode ? decodePunycode(id.ascii, id.punycode) : id.ascii;
  }

  /** Runs `f` at the position a backreference points to, then resumes after it. */
  private backref<T>(f: () => T): T {
    const here = this.pos - 1; // position of `B`
    const target = this.integer62();
    if (target >= BigInt(here)) fail('v0: forward backref');
    const resume = this.pos;
    this.pos = Number(target);
    this.enter();
    try {
      return f();
    } finally {
      this.leave();
      this.pos = resume;
    }
  }

  path(inValue: boolean): string {
    this.enter();
    try {
      const tag = this.next();
      switch (tag) {
        case 'C': {
          const dis = this.disambiguator();
          const name = this.identText(this.ident());
          return this.emit(dis !== 0n ? `${name}[${dis.toString(16)}]` : name);
        }
        case 'N': {
          const ns = this.next();
          const prefix = this.path(inValue);
          const dis = this.disambiguator();
          const name = this.identText(this.ident());
          if (ns >= 'A' && ns <= 'Z') {
            const kind = ns === 'C' ? 'closure' : ns === 'S' ? 'shim' : ns;
            return prefix + this.emit(`::{${kind}${name ? ':' + name : ''}#${dis}}`);
          }
          if (ns >= 'a' && ns <= 'z') return name ? prefix + this.emit('::' + name) : prefix;
          return fail('v0: bad namespace');
        }
        case 'M':
        case 'X':
        case 'Y': {
          if (tag !== 'Y') {
            this.disambiguator();
            this.path(false); // the impl's own path is not printed
          }
          const self = this.type();
          const trait = tag !== 'M' ? ' as ' + this.path(false) : '';
          return this.emit('<') + self + trait + this.emit('>');
        }
        case 'I': {
          const prefix = this.path(inValue);
          const args = this.list(() => this.genericArg());
          return prefix + this.emit((inValue ? '::' : '') + '<') + args.join(', ') + this.emit('>');
        }
        case 'B':
          return this.backref(() => this.path(inValue));
        default:
          return fail('v0: bad path tag');
      }
    } finally {
      this.leave();
    }
  }

  private list(f: () => string): string[] {
    const out: string[] = [];
    while (!this.eat('E')) out.push(f());
    return out;
  }

  private genericArg(): string {
    if (this.eat('L')) return this.lifetime(this.integer62());
    if (this.eat('K')) return this.constant(false);
    return this.type();
  }

  private lifetime(index: bigint): string {
    if (index === 0n) return this.emit("'_");
    const depth = BigInt(this.boundLifetimes) - index;
    if (depth < 0n) fail('v0: bad lifetime index');
    return this.emit(depth < 26n ? "'" + String.fromCharCode(97 + Number(depth)) : `'_${depth}`);
  }

  private binder<T>(f: () => T): { prefix: string; value: T } {
    const n = Number(this.optInteger62('G'));
    let prefix = '';
    if (n > 0) {
      const names: string[] = [];
      for (let i = 0; i < n; i++) {
        this.boundLifetimes++;
        names.push(this.lifetime(1n));
      }
      prefix = `for<${names.join(', ')}> `;
    }
    try {
      return { prefix, value: f() };
    } finally {
      this.boundLifetimes -= n;
    }
  }

  private type(): string {
    this.enter();
    try {
      const tag = this.next();
      const basic = BASIC_TYPES[tag];
      if (basic !== undefined) return this.emit(basic);
      switch (tag) {
        case 'R':
        case 'Q': {
          let lt = '';
          if (this.eat('L')) {
            const i = this.integer62();
            if (i !== 0n) lt = this.lifetime(i) + ' ';
          }
          return this.emit('&') + lt + (tag === 'Q' ? 'mut ' : '') + this.type();
        }
        case 'P':
        case 'O':
          return this.emit(tag === 'P' ? '*const ' : '*mut ') + this.type();
        case 'A':
        case 'S': {
          const elem = this.type();
          return tag === 'A' ? `[${elem}; ${this.constant(true)}]` : `[${elem}]`;
        }
        case 'T': {
          const items = this.list(() => this.type());
          return `(${items.join(', ')}${items.length === 1 ? ',' : ''})`;
        }
        case 'F': {
          const { prefix, value } = this.binder(() => {
            const isUnsafe = this.eat('U');
            let abi: string | undefined;
            if (this.eat('K')) {
              if (this.eat('C')) abi = 'C';
              else {
                const id = this.ident();
                if (!id.ascii || id.punycode) fail('v0: bad ABI');
                abi = id.ascii.replace(/_/g, '-');
              }
            }
            const params = this.list(() => this.type());
            const ret = this.eat('u') ? '' : ' -> ' + this.type();
            return `${isUnsafe ? 'unsafe ' : ''}${abi ? `extern "${abi}" ` : ''}fn(${params.join(', ')})${ret}`;
          });
          return prefix + value;
        }
        case 'D': {
          const { prefix, value } = this.binder(() => this.list(() => this.dynTrait()).join(' + '));
          if (!this.eat('L')) fail('v0: dyn without lifetime');
          const i = this.integer62();
          return 'dyn ' + prefix + value + (i !== 0n ? ' + ' + this.lifetime(i) : '');
        }
        case 'B':
          return this.backref(() => this.type());
        default:
          this.pos--; // a path names the type
          return this.path(false);
      }
    } finally {
      this.leave();
    }
  }

  private dynTrait(): string {
    let { text, open } = this.pathMaybeOpenGenerics();
    while (this.eat('p')) {
      text += open ? ', ' : '<';
      open = true;
      const name = this.identText(this.ident());
      text += `${name} = ${this.type()}`;
    }
    return open ? text + '>' : text;
  }

  private pathMaybeOpenGenerics(): { text: string; open: boolean } {
    if (this.eat('B')) return this.backref(() => this.pathMaybeOpenGenerics());
    if (this.eat('I')) {
      const p = this.path(false);
      const args = this.list(() => this.genericArg());
      return { text: `${p}<${args.join(', ')}`, open: true };
    }
    return { text: this.path(false), open: false };
  }

  private hexNibbles(): string {
    const start = this.pos;
    while (/[0-9a-f]/.test(this.peek() ?? '')) this.pos++;
    const hex = this.s.slice(start, this.pos);
    if (!this.eat('_')) fail('v0: bad hex constant');
    return hex;
  }

  private constant(inValue: boolean): string {
    this.enter();
    try {
      const tag = this.next();
      switch (tag) {
        case 'p':
          return this.emit('_');
        case 'h': case 't': case 'm': case 'y': case 'o': case 'j':
          return this.emit(this.uintText(this.hexNibbles()) + ': ' + BASIC_TYPES[tag]);
        case 'a': case 's': case 'l': case 'x': case 'n': case 'i': {
          const neg = this.eat('n') ? '-' : '';
          return this.emit(neg + this.uintText(this.hexNibbles()) + ': ' + BASIC_TYPES[tag]);
        }
        case 'b': {
          const v = this.hexNibbles();
          if (v !== '0' && v !== '1' && v !== '') fail('v0: bad bool');
          return this.emit(v === '1' ? 'true: bool' : 'false: bool');
        }
        case 'c': {
          const cp = parseInt(this.hexNibbles() || '0', 16);
          if (cp > 0x10ffff) fail('v0: bad char');
          return this.emit(JSON.stringify(String.fromCodePoint(cp)).replace(/^"|"$/g, "'") + ': char');
        }
        case 'e':
          return this.emit('*' + this.strLiteral());
        case 'R':
        case 'Q':
          if (tag === 'R' && this.eat('e')) return this.emit(this.strLiteral());
          return this.emit(tag === 'Q' ? '&mut ' : '&') + this.constant(true);
        case 'A':
          return `[${this.list(() => this.constant(true)).join(', ')}]`;
        case 'T': {
          const items = this.list(() => this.constant(true));
          return `(${items.join(', ')}${items.length === 1 ? ',' : ''})`;
        }
        case 'V': {
          const p = this.path(true);
          const kind = this.next();
          if (kind === 'U') return p;
          if (kind === 'T') return `${p}(${this.list(() => this.constant(true)).join(', ')})`;
          if (kind === 'S') {
            const fields = this.list(() => {
              this.disambiguator();
              const name = this.identText(this.ident());
              return `${name}: ${this.constant(true)}`;
            });
            return `${p} { ${fields.join(', ')} }`;
          }
          return fail('v0: bad variant constant');
        }
        case 'B':
          return this.backref(() => this.constant(inValue));
        default:
          return fail('v0: bad constant');
      }
    } finally {
      this.leave();
    }
  }

  private uintText(hex: string): string {
    if (hex === '') return '0';
    return hex.length <= 16 ? BigInt('0x' + hex).toString() : '0x' + hex;
  }

  private strLiteral(): string {
    const hex = this.hexNibbles();
    if (hex.length % 2) fail('v0: odd string constant');
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return JSON.stringify(new TextDecoder('utf-8', { fatal: false }).decode(bytes));
  }
}

function demangleV0(sym: string): string {
  return V0Parser.demangle(sym);
}

/** RFC 3492 punycode with Rust's `_` delimiter already split off: `ascii` is the basic part. */
function decodePunycode(ascii: string, encoded: string): string {
  const base = 36, tmin = 1, tmax = 26, skew = 38, damp = 700;
  const out = Array.from(ascii).map((c) => c.codePointAt(0)!);
  let n = 128, i = 0, bias = 72, p = 0;
  const digit = (c: string): number => {
    if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 97;
    if (c >= '0' && c <= '9') return c.charCodeAt(0) - 48 + 26;
    return fail('v0: bad punycode digit');
  };
  const adapt = (delta: number, numPoints: number, first: boolean): number => {
    delta = first ? Math.floor(delta / damp) : delta >> 1;
    delta += Math.floor(delta / numPoints);
    let k = 0;
    while (delta > ((base - tmin) * tmax) >> 1) {
      delta = Math.floor(delta / (base - tmin));
      k += base;
    }
    return k + Math.floor(((base - tmin + 1) * delta) / (delta + skew));
  };
  while (p < encoded.length) {
    const oldi = i;
    let w = 1;
    for (let k = base; ; k += base) {
      if (p >= encoded.length) fail('v0: truncated punycode');
      const d = digit(encoded[p++]);
      i += d * w;
      const t = k <= bias ? tmin : k >= bias + tmax ? tmax : k - bias;
      if (d < t) break;
      w *= base - t;
      if (i > 0x10ffff * 64) fail('v0: punycode overflow');
    }
    bias = adapt(i - oldi, out.length + 1, oldi === 0);
    n += Math.floor(i / (out.length + 1));
    i %= out.length + 1;
    if (n > 0x10ffff) fail('v0: bad punycode');
    out.splice(i, 0, n);
    i++;
  }
  return String.fromCodePoint(...out);
}
