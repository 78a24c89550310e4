/**
 * MI command text: quoting of paths, conditions, expressions and program arguments, and the
 * typed parsing of replies. The quoted forms are those GDB 13 was checked to accept (see the
 * header of src/debug/mi/commands.ts); the integration test runs them against a real GDB.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as mi from '../../src/debug/mi/commands';
import { parseMiLine, type MiTuple } from '../../src/debug/mi/parser';

function reply(line: string): MiTuple {
  const r = parseMiLine(line);
  assert.ok(r.kind === 'result');
  return r.results;
}

test('miQuote / cString: plain words bare, the rest as C strings', () => {
  assert.equal(mi.miQuote('main'), 'main');
  assert.equal(mi.miQuote('/tmp/a.c'), '/tmp/a.c');
  assert.equal(mi.miQuote('a b'), '"a b"');
  assert.equal(mi.miQuote('-x'), '"-x"', 'never mistaken for an option');
  assert.equal(mi.cString('say "hi"\n\\'), '"say \\"hi\\"\\n\\\\"');
  assert.equal(mi.cString('hé'), '"h\\303\\251"');
  assert.equal(mi.cString('\t\x01'), '"\\t\\001"');
});

test('cString round-trips through the MI parser', () => {
  for (const s of ['plain', 'a "b" c', 'new\nline', 'back\\slash', 'ünïcødé ✓', '\x00\x7f\x1b', '$(id) `x` \'q\'']) {
    const r = parseMiLine(`~${mi.cString(s)}`);
    assert.deepEqual(r, { kind: 'stream', stream: 'console', text: s });
  }
});

test('shellQuote: what sh gets back is the argument, verbatim', () => {
  const args = ['a b', 'q"uote', "it's", '$(echo no)', '`echo no`', 'line1\nline2', '', '*', '\\n', '; rm -rf /'];
  const out = spawnSync('/bin/sh', ['-c', `printf '%s\\0' ${args.map(mi.shellQuote).join(' ')}`], { encoding: 'utf8' });
  assert.equal(out.status, 0);
  assert.deepEqual(out.stdout.split('\0').slice(0, -1), args);
});

test('execArguments: set args through the console, with redirections after the arguments', () => {
  const c = mi.execArguments(['a b', 'x\ny'], { stdin: '/dev/null', stdoutFd: 3, stderrFd: 4 });
  assert.equal(c.text, `-interpreter-exec console "set args 'a b' 'x\\ny' <'/dev/null' >&3 2>&4 3>&- 4>&-"`);
  assert.equal(mi.execArguments([]).text, '-interpreter-exec console "set args"');
  assert.equal(mi.execArguments(['it\'s']).text, `-interpreter-exec console "set args 'it'\\\\''s'"`);
});

test('paths for CLI-mapped commands: double quotes, backslash escapes, no newline', () => {
  assert.equal(mi.fileExecAndSymbols('/tmp/my dir/a"b\\c').text, '-file-exec-and-symbols "/tmp/my dir/a\\"b\\\\c"');
  assert.equal(mi.targetSelectCore('/tmp/core 1').text, '-target-select core /tmp/core 1', 'taken verbatim by GDB');
  assert.throws(() => mi.targetSelectCore('/tmp/core\n1'), /core file path/);
  assert.throws(() => mi.fileExecAndSymbols('/tmp/a\nb'), /newline/);
  assert.equal(mi.environmentCd('/tmp/with space').text, '-environment-cd "/tmp/with space"');
});

test('break-insert: flags, explicit locations, Rust paths, conditions with quotes', () => {
  assert.equal(mi.breakInsert({ location: { function: 'mycrate::engine::leaf' }, pending: true }).text,
    '-break-insert -f --function "mycrate::engine::leaf"');
  assert.equal(mi.breakInsert({ location: { file: '/src/my dir/m.c', line: 12 }, condition: 'strcmp(s, "x") == 0', ignoreCount: 2, temporary: true }).text,
    '-break-insert -t -c "strcmp(s, \\"x\\") == 0" -i 2 --source "/src/my dir/m.c" --line 12');
  assert.equal(mi.breakInsert({ location: { address: 0x401000n } }).text, '-break-insert *0x401000');
  assert.throws(() => mi.breakInsert({ location: { file: 'a.c', line: 1.5 } }), /integer/);
  assert.equal(mi.breakDelete([1, 2]).text, '-break-delete 1 2');
  assert.equal(mi.breakCondition(3, 'n > 1').text, '-break-condition 3 "n > 1"');
  assert.equal(mi.breakCondition(3, '').text, '-break-condition 3');
});

test('break-insert replies: resolved and pending', () => {
  const ok = mi.breakInsert({ location: { function: 'work' } }).parse(reply('^done,bkpt={number="1",type="breakpoint",disp="keep",enabled="y",addr="0x00000000000011c3",func="work",file="prog.c",fullname="/tmp/gdbx/prog.c",line="15",thread-groups=["i1"],times="0",original-location="work"}'));
  assert.deepEqual(ok, { id: 1, verified: true, pending: false, func: 'work', file: 'prog.c', fullname: '/tmp/gdbx/prog.c', line: 15, address: 0x11c3n, hitCount: 0, condition: undefined });
  const pend = mi.breakInsert({ location: { function: 'nosuch::thing' }, pending: true }).parse(reply('^done,bkpt={number="2",type="breakpoint",disp="keep",enabled="y",addr="<PENDING>",pending="nosuch::thing",times="0",original-location="nosuch::thing"}'));
  assert.equal(pend.pending, true);
  assert.equal(pend.verified, false);
  assert.equal(pend.address, undefined);
});

test('context options and data commands', () => {
  assert.equal(mi.dataEvaluateExpression('argv[0]', { threadId: 1, frame: 2 }).text, '-data-evaluate-expression --thread 1 --frame 2 "argv[0]"');
  assert.equal(mi.stackListFrames({ threadId: 3, low: 0, high: 9 }).text, '-stack-list-frames --thread 3 0 9');
  assert.equal(mi.stackListVariables({ threadId: 1, frame: 0 }, 'simple').text, '-stack-list-variables --thread 1 --frame 0 --simple-values');
  assert.equal(mi.execFinish(2).text, '-exec-finish --thread 2');
  assert.equal(mi.varCreate('a->b', { threadId: 1, frame: 0 }).text, '-var-create --thread 1 --frame 0 - * "a->b"');
  assert.equal(mi.dataReadMemoryBytes(0x1000n, 16).text, '-data-read-memory-bytes 0x1000 16');
  assert.equal(mi.setEnvironment('FOO', 'a b').text, '-interpreter-exec console "set environment FOO=a b"');
  assert.equal(mi.setEnvironment('FOO', null).text, '-interpreter-exec console "unset environment FOO"');
  assert.throws(() => mi.setEnvironment('A=B', 'x'));
  assert.equal(mi.targetAttach(1234).text, '-target-attach 1234');
});

test('reply parsers: threads with LWP, frames, memory, exit code in octal', () => {
  const info = mi.threadInfo().parse(reply('^done,threads=[{id="1",target-id="Thread 0x7ffff7dd1740 (LWP 18542)",name="prog",state="stopped",core="1"},{id="2",target-id="process 77",state="stopped"}],current-thread-id="1"'));
  assert.deepEqual(info.threads.map((t) => [t.id, t.lwp, t.name]), [[1, 18542, 'prog'], [2, 77, undefined]]);
  const frames = mi.stackListFrames().parse(reply('^done,stack=[frame={level="0",addr="0x00005555555551c3",func="work",file="prog.c",fullname="/tmp/gdbx/prog.c",line="15",arch="i386:x86-64"},frame={level="1",addr="0x00007ffff7e1f24a",func="__libc_start_call_main",from="/lib/x86_64-linux-gnu/libc.so.6"}]'));
  assert.deepEqual(frames, [
    { level: 0, pc: 0x5555555551c3n, func: 'work', file: 'prog.c', fullname: '/tmp/gdbx/prog.c', line: 15 },
    { level: 1, pc: 0x7ffff7e1f24an, func: '__libc_start_call_main', from: '/lib/x86_64-linux-gnu/libc.so.6' },
  ]);
  const mem = mi.dataReadMemoryBytes(0x555555558050n, 8).parse(reply('^done,memory=[{begin="0x0000555555558050",offset="0x0000000000000000",end="0x0000555555558058",contents="0500000000000000"}]'));
  assert.deepEqual(mem, [{ begin: 0x555555558050n, end: 0x555555558058n, contents: Uint8Array.from([5, 0, 0, 0, 0, 0, 0, 0]) }]);
  const groups = mi.listThreadGroups().parse(reply('^done,groups=[{id="i1",type="process",exit-code="012",executable="/tmp/gdbx/prog"}]'));
  assert.equal(groups[0].exitCode, 10);
});

test('watchpoints: -break-watch on an address, its number read from any of the three reply shapes', () => {
  assert.equal(mi.breakWatch(0x7ffc1000n, 8, 'write').text, '-break-watch "*(unsigned long *)0x7ffc1000"');
  assert.equal(mi.breakWatch(0x7ffc1000n, 4, 'read').text, '-break-watch -r "*(unsigned int *)0x7ffc1000"');
  assert.equal(mi.breakWatch(0x7ffc1000n, 3, 'readWrite').text, '-break-watch -a "*(unsigned char (*)[3])0x7ffc1000"');
  assert.equal(mi.breakWatch(1n, 8, 'write').parse(reply('^done,wpt={number="5",exp="*(unsigned long *)0x7ffc1000"}')), 5);
  assert.equal(mi.breakWatch(1n, 8, 'read').parse(reply('^done,hw-rwpt={number="6",exp="*(unsigned long *)0x1"}')), 6);
  assert.equal(mi.breakWatch(1n, 8, 'readWrite').parse(reply('^done,hw-awpt={number="7",exp="*(unsigned long *)0x1"}')), 7);
  assert.throws(() => mi.breakWatch(1n, 8, 'write').parse(reply('^done')), /no watchpoint/);
  assert.equal(mi.varInfoPathExpression('var1.ob_base').parse(reply('^done,path_expr="(a)->ob_base"')), '(a)->ob_base');
  assert.equal(mi.varAssign('var1', '3').text, '-var-assign var1 "3"');
});
