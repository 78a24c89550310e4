/**
 * Golden test of the DWARF symbolizer against GDB 13, the debugger whose backtraces users see:
 * for a few hundred addresses in each of several real objects (pyenv's libpython 3.12 and 3.10,
 * DWARF 5 from gcc -O3; Debian's python3.11 and libc, whose DWARF is in separate, compressed
 * debug files; a Rust binary built here, DWARF 4; a C file with static inline functions built
 * here with -O2), GDB is asked in one batch run per object for the frames it would show, and the
 * symbolizer must give the same function names, files, full names and lines, frame by frame.
 *
 * One class of difference is accepted and reported, see isGccCloneSymbolName.
 *
 * GDB's view is read through its Python API the way `bt` builds it: the block chain of the
 * address (one frame per function block, inlined ones first), `find_pc_line` for the innermost
 * frame's line, and for each outer frame the symtab and line of the inlined function it calls
 * (GDB's call site). Addresses without a function block are named by `info symbol`.
 * A missing tool or object is a failure, never a pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElfFile, separateDebugFile } from '../../src/debug/native/elf';
import { SymFrame, Symbolizer } from '../../src/debug/native/dwarf';

const WORK = mkdtempSync(join(tmpdir(), 'seam-sym-'));

const GDB_SCRIPT = `
import gdb, json, os
def sal_fields(st, line):
    if st is None or not line:
        return {}
    return {'file': st.filename, 'fullname': st.fullname(), 'line': line}
def frames_for(addr):
    try:
        b = gdb.block_for_pc(addr)
    except RuntimeError:
        b = None
    chain = []
    while b is not None:
        if b.function is not None:
            chain.append(b)
        b = b.superblock
    sal = gdb.find_pc_line(addr)
    if not chain:
        s = gdb.execute('info symbol 0x%x' % addr, to_string=True).strip()
        name = None if s.startswith('No symbol') else s.split(' in section ')[0].rsplit(' + ', 1)[0]
        fr = {'function': name}
        fr.update(sal_fields(sal.symtab, sal.line))
        return [fr]
    out = []
    for i, blk in enumerate(chain):
        fr = {'function': blk.function.print_name, 'inlined': i < len(chain) - 1}
        if i == 0:
            fr.update(sal_fields(sal.symtab, sal.line))
        else:
            sym = chain[i - 1].function
            fr.update(sal_fields(sym.symtab, sym.line))
        out.append(fr)
    return out
with open(os.environ['SYM_ADDRS']) as f, open(os.environ['SYM_OUT'], 'w') as o:
    for l in f:
        if l.strip():
            o.write(json.dumps(frames_for(int(l, 16))) + '\\n')
`;

interface GdbFrame {
  function: string | null;
  inlined?: boolean;
  file?: string;
  fullname?: string;
  line?: number;
}

/** GDB's frames for each address, from one batch run (in an empty directory: GDB also looks for sources in its cwd). */
function gdbFrames(file: string, addrs: bigint[]): GdbFrame[][] {
  const dir = mkdtempSync(join(WORK, 'gdb-'));
  const addrFile = join(dir, 'addrs'), outFile = join(dir, 'out'), script = join(dir, 'frames.py');
  writeFileSync(addrFile, addrs.map((a) => `0x${a.toString(16)}`).join('\n'));
  writeFileSync(script, GDB_SCRIPT);
  const r = spawnSync('gdb', ['-nx', '-batch', file, '-x', script], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, SYM_ADDRS: addrFile, SYM_OUT: outFile }, maxBuffer: 1 << 26,
  });
  assert.equal(r.status, 0, `gdb failed on ${file}: ${r.stderr}`);
  const out = readFileSync(outFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as GdbFrame[]);
  assert.equal(out.length, addrs.length, 'gdb answered every address');
  return out;
}

/** Function starts plus a few offsets into each, over `count` functions spread across the file. */
function sampleAddresses(elf: ElfFile, count: number, offsets = [0n, 7n, 0x31n]): bigint[] {
  const fns = elf.functions().filter((f) => f.size > 8n);
  const step = Math.max(1, Math.floor(fns.length / count));
  const out: bigint[] = [];
  for (let i = 0; i < fns.length && out.length < count * offsets.length; i += step) {
    for (const o of offsets) if (o < fns[i].size) out.push(fns[i].addr + o);
  }
  return out;
}

/** Addresses every `stride` bytes through a named function (inline-heavy interpreter loops). */
function through(elf: ElfFile, name: string, stride: bigint, max: number): bigint[] {
  const f = elf.functions().find((x) => x.name === name);
  assert.ok(f, `${name} in ${elf.path}`);
  const out: bigint[] = [];
  for (let a = f.addr; a < f.addr + f.size && out.length < max; a += stride) out.push(a);
  return out;
}

interface Comparison {
  addresses: number;
  frames: number;
  mismatches: string[];
  /** Addresses differing only in the one documented class below. */
  gccCloneSymbols: string[];
}

/**
 * The one known difference. Where GDB has no DWARF function for an address it names the frame
 * from its minimal symbols, and for GCC clone symbols (`np_halffloat.lto_priv.0`, `f.constprop.0`,
 * `f.isra.0`) GDB 13's minimal-symbol reader often (not always: which alias it keeps at an address
 * varies) prints the name without the trailing clone number. The symbolizer gives the ELF symbol
 * as it is. Accepted only for a single symbol-table frame whose name differs by exactly a
 * trailing `.N` after a clone suffix, with file, fullname and line equal.
 */
function isGccCloneSymbolName(ours: SymFrame[], gdb: GdbFrame[]): boolean {
  if (ours.length !== 1 || gdb.length !== 1 || ours[0].inlined !== undefined) return false;
  const a = ours[0], g = gdb[0];
  return !!a.function && /\.(lto_priv|constprop|isra|part)\.\d+$/.test(a.function) && a.function.replace(/\.\d+$/, '') === g.function
    && a.file === g.file && a.fullname === g.fullname && a.line === g.line;
}

function describe(f: SymFrame | GdbFrame | undefined): string {
  return f ? `${f.function ?? '??'}${f.inlined ? ' [inlined]' : ''} ${f.file ?? '-'}:${f.line ?? '-'} (${f.fullname ?? '-'})` : '(none)';
}

/** Compares every address's frames field by field; a mismatch is described with both views. */
function compare(sym: Symbolizer, addrs: bigint[], golden: GdbFrame[][]): Comparison {
  const mismatches: string[] = [], gccCloneSymbols: string[] = [];
  let frames = 0;
  addrs.forEach((addr, i) => {
    const ours = sym.frames(addr), theirs = golden[i];
    frames += theirs.length;
    if (isGccCloneSymbolName(ours, theirs)) {
      gccCloneSymbols.push(`0x${addr.toString(16)}: ${ours[0].function} | gdb ${theirs[0].function}`);
      return;
    }
    const n = Math.max(ours.length, theirs.length);
    for (let k = 0; k < n; k++) {
      const a = ours[k], g = theirs[k];
      const same = a && g && a.function === (g.function ?? undefined) && a.file === g.file && a.fullname === g.fullname
        && a.line === g.line && (a.inlined ?? false) === (g.inlined ?? false);
      if (!same) {
        mismatches.push(`0x${addr.toString(16)} frame ${k}: ours ${describe(a)} | gdb ${describe(g)}`);
        break;
      }
    }
  });
  return { addresses: addrs.length, frames, mismatches, gccCloneSymbols };
}

/** Symbolizes with a fresh symbolizer (cold) and again (warm), printing the timings. */
function timed(label: string, make: () => Symbolizer, addrs: bigint[]): Symbolizer {
  const t0 = process.hrtime.bigint();
  const sym = make();
  for (const a of addrs) sym.frames(a);
  const t1 = process.hrtime.bigint();
  for (const a of addrs) sym.frames(a);
  const t2 = process.hrtime.bigint();
  const ms = (d: bigint) => (Number(d) / 1e6).toFixed(2);
  console.log(`${label}: ${addrs.length} addresses cold ${ms(t1 - t0)} ms, warm ${ms(t2 - t1)} ms`);
  return sym;
}

function check(label: string, file: string, addrs: bigint[], make: () => Symbolizer): void {
  const sym = timed(label, make, addrs);
  const golden = gdbFrames(file, addrs);
  const c = compare(sym, addrs, golden);
  const inlined = golden.filter((g) => g.length > 1).length;
  const agree = c.addresses - c.mismatches.length - c.gccCloneSymbols.length;
  console.log(`${label}: ${agree}/${c.addresses} addresses agree with GDB (${c.frames} frames, ${inlined} addresses with inlined frames)`
    + (c.gccCloneSymbols.length ? `; ${c.gccCloneSymbols.length} differ only in a GCC clone symbol's number: ${c.gccCloneSymbols.join(', ')}` : ''));
  for (const m of c.mismatches.slice(0, 20)) console.log(`  ${m}`);
  assert.deepEqual(c.mismatches, [], `${label}: frames differing from GDB`);
}

const PYENV = join(homedir(), '.pyenv', 'versions');

function libpython(minor: number): string {
  const dir = existsSync(PYENV) ? readdirSync(PYENV).find((d) => d.startsWith(`3.${minor}.`)) : undefined;
  const lib = dir && join(PYENV, dir, 'lib', `libpython3.${minor}.so.1.0`);
  assert.ok(lib && existsSync(lib), `pyenv's libpython3.${minor} is needed`);
  return lib;
}

for (const minor of [12, 10]) {
  test(`libpython3.${minor} (DWARF 5, gcc -O3) matches GDB`, () => {
    const path = libpython(minor);
    const elf = new ElfFile(path);
    const addrs = [...sampleAddresses(elf, 120), ...through(elf, '_PyEval_EvalFrameDefault', 97n, 150)];
    check(`libpython3.${minor}`, path, addrs, () => new Symbolizer(elf));
  });
}

test('first address in a big unit is cold-fast (ceval.c of libpython3.12)', () => {
  const elf = new ElfFile(libpython(12));
  const addr = through(elf, '_PyEval_EvalFrameDefault', 1000n, 3)[2];
  const t0 = process.hrtime.bigint();
  const frames = new Symbolizer(elf).frames(addr);
  const t1 = process.hrtime.bigint();
  console.log(`ceval.c first address: ${(Number(t1 - t0) / 1e6).toFixed(2)} ms -> ${frames.map((f) => f.function).join(' <- ')}`);
  assert.equal(frames[frames.length - 1].function, '_PyEval_EvalFrameDefault');
  assert.equal(frames[frames.length - 1].language, 'c');
});

/** An object whose DWARF lives in a separate debug file found by build id. */
function separate(path: string): { elf: ElfFile; debug: ElfFile } {
  assert.ok(existsSync(path), `${path} is needed`);
  const elf = new ElfFile(path);
  const debugPath = separateDebugFile(elf, path);
  assert.ok(debugPath, `the debug file of ${path} is needed (Debian's -dbg package)`);
  return { elf, debug: new ElfFile(debugPath) };
}

test("Debian's python3.11 with its separate debug file matches GDB", () => {
  const { elf, debug } = separate('/usr/bin/python3.11');
  const addrs = [...sampleAddresses(debug, 120), ...through(debug, '_PyEval_EvalFrameDefault', 89n, 150)];
  check('python3.11 (Debian)', '/usr/bin/python3.11', addrs, () => new Symbolizer(elf, debug));
});

test("Debian's libc with its separate debug file matches GDB", () => {
  const path = '/lib/x86_64-linux-gnu/libc.so.6';
  const { elf, debug } = separate(path);
  check('libc', path, sampleAddresses(debug, 150), () => new Symbolizer(elf, debug));
});

const RUST_MAIN = `
mod engine {
    pub struct Machine<T> { pub acc: T, pub steps: u32 }

    impl<T: Copy + std::ops::Add<Output = T>> Machine<T> {
        #[inline(never)]
        pub fn step(&mut self, v: T) -> T {
            self.steps += 1;
            self.acc = self.acc + v;
            self.acc
        }
    }

    pub trait Runner { fn go(&self, n: u32) -> u64; }

    impl Runner for Machine<u64> {
        #[inline(never)]
        fn go(&self, n: u32) -> u64 { helper(n) + self.acc }
    }

    #[inline(always)]
    fn helper(n: u32) -> u64 { (0..n).map(|i| i as u64 * 3).sum() }

    #[inline(never)]
    pub fn run<T: Copy + std::ops::Add<Output = T>>(start: T, v: T, n: u32) -> T {
        let mut m = Machine { acc: start, steps: 0 };
        for _ in 0..n { m.step(v); }
        m.acc
    }
}

use engine::Runner;

fn main() {
    let words: Vec<String> = std::env::args().map(|a| a.to_uppercase()).collect();
    let f = |x: i64| x * 2 + words.len() as i64;
    let a = engine::run::<i64>(1, f(3), 10);
    let b = engine::run::<f64>(1.0, 2.5, 4);
    let m = engine::Machine { acc: 7u64, steps: 0 };
    println!("{} {} {} {:?}", a, b, m.go(5), words);
}
`;

test('a Rust binary (DWARF 4, dev profile) matches GDB', () => {
  const dir = join(WORK, 'mixed_rs');
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'Cargo.toml'), '[package]\nname = "mixed_rs"\nversion = "0.1.0"\nedition = "2021"\n');
  writeFileSync(join(dir, 'src', 'main.rs'), RUST_MAIN);
  const r = spawnSync('cargo', ['build', '--offline', '--quiet'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, `cargo build: ${r.stderr}`);
  const path = join(dir, 'target', 'debug', 'mixed_rs');
  const elf = new ElfFile(path);
  const own = elf.functions().filter((f) => f.name.includes('mixed_rs'));
  assert.ok(own.length >= 6, 'the crate\'s own functions are in the symbol table');
  const ownAddrs = own.flatMap((f) => Array.from({ length: Number(f.size / 5n) }, (_, i) => f.addr + BigInt(i) * 5n));
  const addrs = [...ownAddrs, ...sampleAddresses(elf, 150)];
  check('Rust binary', path, addrs, () => new Symbolizer(elf));
  const sym = new Symbolizer(elf);
  const names = new Set(ownAddrs.flatMap((a) => sym.frames(a).map((f) => f.function)));
  for (const n of ['mixed_rs::engine::run<i64>', 'mixed_rs::engine::{impl#1}::go', 'mixed_rs::engine::helper', 'mixed_rs::main::{closure#0}']) {
    assert.ok(names.has(n), `${n} among the crate's frames`);
  }
});

const C_SOURCE = `
#include <stdio.h>
#include <stdlib.h>

struct acc { long total; int n; };

static inline __attribute__((always_inline)) void add(struct acc *a, long v) {
    a->total += v * 3;
    a->n++;
}

static inline long scaled(struct acc *a, long v) {
    add(a, v);
    if (a->total > 1000) a->total /= 7;
    return a->total;
}

__attribute__((noinline)) long work(int n) {
    struct acc a = {0, 0};
    long r = 0;
    for (int i = 0; i < n; i++) {
        r ^= scaled(&a, i);
        if (r % 5 == 0) printf("%ld\\n", r);
    }
    return r + a.n;
}

int main(int argc, char **argv) {
    return (int)work(argc > 1 ? atoi(argv[1]) : 10);
}
`;

test('a C file with static inline functions (gcc -O2 -g) matches GDB', () => {
  const src = join(WORK, 'inl.c'), path = join(WORK, 'inl');
  writeFileSync(src, C_SOURCE);
  const r = spawnSync('gcc', ['-O2', '-g', '-o', path, src], { encoding: 'utf8' });
  assert.equal(r.status, 0, `gcc: ${r.stderr}`);
  const elf = new ElfFile(path);
  const work = elf.functions().find((f) => f.name === 'work');
  assert.ok(work);
  const addrs = [...through(elf, 'work', 1n, 1000), ...through(elf, 'main', 1n, 200)];
  check('C -O2 inlines', path, addrs, () => new Symbolizer(elf));
  const sym = new Symbolizer(elf);
  const stacks = addrs.map((a) => sym.frames(a).map((f) => f.function).join('<'));
  assert.ok(stacks.includes('add<scaled<work'), 'two levels of inlining are seen');
});

test('addresses without DWARF fall back to the ELF symbol name', () => {
  const path = '/lib/x86_64-linux-gnu/libc.so.6';
  const elf = new ElfFile(path);
  const read = elf.functions().find((f) => f.name === 'read' || f.name === '__libc_read');
  assert.ok(read);
  assert.deepEqual(new Symbolizer(elf).frames(read.addr + 4n), [{ function: read.name }]);
  assert.deepEqual(new Symbolizer(elf).frames(1n), [{ function: undefined }]);
});
