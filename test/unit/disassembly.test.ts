/**
 * Disassembly: GDB's `-data-disassemble` mode 5 and LLDB's `disassemble --bytes` read from
 * recorded output (this machine's, a 3.12 process stopped in libc's read), and the window a DAP
 * `disassemble` request asks for, over a made-up instruction stream whose bytes decode out of
 * step when read from the wrong byte (as x86's do).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMiLine } from '../../src/debug/mi/parser';
import { readInstructions } from '../../src/debug/mi/commands';
import { parseDisassembly } from '../../src/debug/lldb/parse';
import { instructionWindow, parseAddress, toDapInstructions, type Disassembler } from '../../src/debug/adapter/disassembly';
import type { Instruction } from '../../src/debug/types';

test('GDB: mode 5 groups by source line; read back in address order with bytes, function and line', () => {
  const line = '^done,asm_insns=[src_and_asm_line={line="27",file="../sysdeps/unix/sysv/linux/read.c",fullname="/src/read.c",line_asm_insn=[{address="0x00007fcf771162b5",func-name="__GI___libc_read",offset="21",opcodes="c3",inst="ret"}]},'
    + 'src_and_asm_line={line="26",file="../sysdeps/unix/sysv/linux/read.c",fullname="/src/read.c",line_asm_insn=[{address="0x00007fcf771162ab",func-name="__GI___libc_read",offset="11",opcodes="0f 05",inst="syscall"},'
    + '{address="0x00007fcf771162ad",func-name="__GI___libc_read",offset="13",opcodes="48 3d 00 f0 ff ff",inst="cmp    $0xfffffffffffff000,%rax"}]},'
    + 'src_and_asm_line={line="25",file="../sysdeps/unix/sysv/linux/read.c",fullname="/src/read.c",line_asm_insn=[]}]';
  const r = parseMiLine(line);
  assert.equal(r.kind, 'result');
  const insns = readInstructions(r.kind === 'result' ? r.results.list('asm_insns') : undefined);
  assert.deepEqual(insns.map((i) => [i.address.toString(16), i.bytes, i.text.replace(/\s+/g, ' '), i.func, i.offset, i.line, i.fullname]), [
    ['7fcf771162ab', '0f 05', 'syscall', '__GI___libc_read', 11, 26, '/src/read.c'],
    ['7fcf771162ad', '48 3d 00 f0 ff ff', 'cmp $0xfffffffffffff000,%rax', '__GI___libc_read', 13, 26, '/src/read.c'],
    ['7fcf771162b5', 'c3', 'ret', '__GI___libc_read', 21, 27, '/src/read.c'],
  ]);
  // Without line information GDB lists the instructions themselves.
  const bare = parseMiLine('^done,asm_insns=[{address="0x0000000000401000",func-name="_start",offset="0",opcodes="31 ed",inst="xor    %ebp,%ebp"}]');
  const b = readInstructions(bare.kind === 'result' ? bare.results.list('asm_insns') : undefined);
  assert.deepEqual(b.map((i) => [i.address, i.bytes, i.line]), [[0x401000n, '31 ed', undefined]]);
});

test('LLDB: `disassemble --bytes`: the pc marker, offsets and LLDB\'s comments', () => {
  const text = [
    'libc.so.6`__GI___libc_read:',
    '    0x7f12291162ab <+11>:  0f 05                          syscall ',
    '->  0x7f12291162ad <+13>:  48 3d 00 f0 ff ff              cmpq   $-0x1000, %rax            ; imm = 0xF000 ',
    '    0x7f12291162b3 <+19>:  77 5b                          ja     0x7f1229116310            ; <+112> at read.c:26:10',
    'libc.so.6`:',
    '    0x7f12291162b6 <+22>:  66 2e 0f 1f 84 00 00 00 00 00  nopw   %cs:(%rax,%rax)',
  ].join('\n');
  assert.deepEqual(parseDisassembly(text).map((i) => [i.address.toString(16), i.offset, i.bytes, i.text, i.func]), [
    ['7f12291162ab', 11, '0f 05', 'syscall', '__GI___libc_read'],
    ['7f12291162ad', 13, '48 3d 00 f0 ff ff', 'cmpq   $-0x1000, %rax', '__GI___libc_read'],
    ['7f12291162b3', 19, '77 5b', 'ja     0x7f1229116310', '__GI___libc_read'],
    ['7f12291162b6', 22, '66 2e 0f 1f 84 00 00 00 00 00', 'nopw   %cs:(%rax,%rax)', undefined],
  ]);
});

/**
 * Code from 0x1000 to 0x2000: instructions of 1 to 7 bytes in a fixed pattern. Decoding from an
 * address where none starts yields 3-byte garbage instructions until it lands on a real start
 * (or runs past the end); below 0x1000 nothing is readable.
 */
function fakeCode(): { d: Disassembler; starts: Set<bigint>; calls: () => number } {
  const starts: bigint[] = [];
  const len = new Map<bigint, number>();
  for (let a = 0x1000n, k = 0; a < 0x2000n; k++) {
    const n = 1 + ((k * 5) % 7);
    starts.push(a);
    len.set(a, n);
    a += BigInt(n);
  }
  let calls = 0;
  const d: Disassembler = {
    async range(start, end) {
      calls++;
      if (start < 0x1000n) throw new Error('Cannot access memory');
      const out: Instruction[] = [];
      for (let a = start; a < end && a < 0x2000n;) {
        const n = len.get(a);
        if (n) {
          out.push({ address: a, bytes: Array(n).fill('90').join(' '), text: `insn${n}`, func: 'f' });
          a += BigInt(n);
        } else {
          out.push({ address: a, bytes: '0f 0b 00', text: '(bad)' });
          a += 3n;
        }
      }
      return out;
    },
  };
  return { d, starts: new Set(starts), calls: () => calls };
}

test('window: before and after an instruction, every one a real start, each following the last', async () => {
  const { d, starts } = fakeCode();
  const all = [...starts];
  const pc = all[400];
  for (const [offset, count] of [[-50, 100], [-1, 1], [0, 10], [5, 10], [-200, 20]] as const) {
    const w = await instructionWindow(d, pc, offset, count);
    assert.equal(w.length, count, `${offset}/${count}`);
    assert.deepEqual(w.map((x) => x.at), all.slice(400 + offset, 400 + offset + count), `${offset}/${count}`);
    assert.ok(w.every((x) => x.insn && starts.has(x.insn.address)));
  }
});

test('window: what cannot be read is padded with invalid placeholders, the count kept', async () => {
  const { d, starts } = fakeCode();
  const all = [...starts];
  // Three instructions exist before all[3]; ten are asked for.
  const w = await instructionWindow(d, all[3], -10, 14);
  assert.equal(w.length, 14);
  const dap = toDapInstructions(w);
  const valid = dap.filter((x) => x.presentationHint !== 'invalid');
  assert.ok(valid.length >= 4, JSON.stringify(dap));
  assert.equal(BigInt(dap[10].address), all[3]);
  assert.ok(dap.slice(0, 7).every((x) => x.presentationHint === 'invalid' && x.instruction === '??'));
  // Addresses keep increasing through the placeholders.
  for (let k = 1; k < dap.length; k++) assert.ok(BigInt(dap[k].address) > BigInt(dap[k - 1].address), JSON.stringify(dap.slice(k - 1, k + 1)));
  // Past the end of the code: placeholders after the last instruction.
  const tail = await instructionWindow(d, all[all.length - 2], 0, 5);
  assert.deepEqual(tail.map((x) => !!x.insn), [true, true, false, false, false]);
});

test('addresses: DAP memory references', () => {
  assert.equal(parseAddress('0x7fcf771162ad'), 0x7fcf771162adn);
  assert.equal(parseAddress('4096'), 4096n);
  assert.equal(parseAddress('main'), undefined);
  assert.equal(parseAddress(undefined), undefined);
});
