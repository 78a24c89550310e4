/**
 * A core file's notes (src/debug/native/coreFile.ts): the files the dumped process had mapped
 * (NT_FILE), its command (NT_PRPSINFO), and whether a given program can be the one that dumped it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coreMismatch, parseNtFile, parsePrpsinfo } from '../../src/debug/native/coreFile';

function ntFile(entries: [bigint, bigint, string][]): Uint8Array {
  const head = Buffer.alloc(16 + entries.length * 24);
  head.writeBigUInt64LE(BigInt(entries.length), 0);
  head.writeBigUInt64LE(4096n, 8);
  entries.forEach(([start, end], i) => {
    head.writeBigUInt64LE(start, 16 + i * 24);
    head.writeBigUInt64LE(end, 24 + i * 24);
    head.writeBigUInt64LE(0n, 32 + i * 24);
  });
  return new Uint8Array(Buffer.concat([head, ...entries.map(([, , p]) => Buffer.from(`${p}\0`))]));
}

test('NT_FILE: each mapping with its path, in order; a count the bytes cannot hold reads as none', () => {
  const d = ntFile([[0x5000n, 0x6000n, '/usr/bin/python3.12'], [0x7f00n, 0x7f10n, '/usr/lib/libpython3.12.so.1.0'], [0x7f20n, 0x7f30n, '/tmp/é.so']]);
  assert.deepEqual(parseNtFile(d), [
    { start: 0x5000n, end: 0x6000n, path: '/usr/bin/python3.12' },
    { start: 0x7f00n, end: 0x7f10n, path: '/usr/lib/libpython3.12.so.1.0' },
    { start: 0x7f20n, end: 0x7f30n, path: '/tmp/é.so' },
  ]);
  const lying = Buffer.from(d);
  lying.writeBigUInt64LE(1000000n, 0);
  assert.deepEqual(parseNtFile(new Uint8Array(lying)), []);
  assert.deepEqual(parseNtFile(new Uint8Array(8)), []);
});

test('NT_PRPSINFO (x86-64): the command name and its arguments', () => {
  const d = Buffer.alloc(136);
  d.write('python3.12', 40);
  d.write('python3.12\0app.py\0--fast', 56);
  assert.deepEqual(parsePrpsinfo(new Uint8Array(d)), { command: 'python3.12', args: 'python3.12 app.py --fast' });
  assert.equal(parsePrpsinfo(new Uint8Array(100)), undefined);
});

test('a program that is not among the core\'s mapped files did not dump it; the message names the one that did', () => {
  const info = {
    mappings: [
      { start: 1n, end: 2n, path: '/root/.pyenv/versions/3.12.1/bin/python3.12' },
      { start: 3n, end: 4n, path: '/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0' },
    ],
    command: 'python3.12',
    args: './venv/bin/python app.py',
  };
  const real = (p: string): string => (p === '/work/venv/bin/python' ? '/root/.pyenv/versions/3.12.1/bin/python3.12' : p);
  assert.equal(coreMismatch(info, '/root/.pyenv/versions/3.12.1/bin/python3.12', real), undefined);
  assert.equal(coreMismatch(info, '/work/venv/bin/python', real), undefined, 'a venv\'s link to it');
  assert.equal(coreMismatch(info, '/usr/bin/python3.11', real),
    'the core file was not dumped by /usr/bin/python3.11: its program was /root/.pyenv/versions/3.12.1/bin/python3.12 (`./venv/bin/python app.py`); open it with that one');
  assert.equal(coreMismatch({ mappings: [] }, '/usr/bin/python3.11', real), undefined, 'no NT_FILE: nothing to say');
});
