/**
 * parseMiLine on lines recorded from GDB 13.1 sessions on this machine (a small threaded C
 * program: breakpoint, SIGSEGV, SIGINT on interrupt, exit, thread-info, frames, memory), plus
 * malformed lines that must come back as `unknown`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MiList, MiTuple, parseMiLine, type MiRecord } from '../../src/debug/mi/parser';

function results(rec: MiRecord): MiTuple {
  assert.ok('results' in rec, `expected a record with results, got ${JSON.stringify(rec)}`);
  return rec.results;
}

test('prompt, with and without trailing space', () => {
  assert.deepEqual(parseMiLine('(gdb) '), { kind: 'prompt' });
  assert.deepEqual(parseMiLine('(gdb)'), { kind: 'prompt' });
});

test('result records: class, token, results', () => {
  assert.deepEqual(parseMiLine('12^done'), { kind: 'result', token: 12, resultClass: 'done', results: new MiTuple([]) });
  assert.deepEqual(parseMiLine('^running'), { kind: 'result', resultClass: 'running', results: new MiTuple([]) });
  assert.deepEqual(parseMiLine('^exit'), { kind: 'result', resultClass: 'exit', results: new MiTuple([]) });
  const err = parseMiLine('7^error,msg="Unable to read memory."');
  assert.equal(err.kind, 'result');
  assert.equal(err.kind === 'result' && err.resultClass, 'error');
  assert.equal(err.kind === 'result' && err.token, 7);
  assert.equal(results(err).str('msg'), 'Unable to read memory.');
  const cmdErr = parseMiLine('3^error,msg="Undefined MI command: foo",code="undefined-command"');
  assert.equal(results(cmdErr).str('code'), 'undefined-command');
  assert.equal(parseMiLine('^weird').kind, 'unknown');
});

test('*stopped at a breakpoint: frame with args, file and fullname', () => {
  const rec = parseMiLine('*stopped,reason="breakpoint-hit",disp="keep",bkptno="1",frame={addr="0x00005555555551c3",func="work",args=[{name="n",value="21"}],file="prog.c",fullname="/tmp/gdbx/prog.c",line="15",arch="i386:x86-64"},thread-id="1",stopped-threads="all",core="1"');
  assert.equal(rec.kind, 'exec');
  assert.equal(rec.kind === 'exec' && rec.asyncClass, 'stopped');
  const r = results(rec);
  assert.equal(r.str('reason'), 'breakpoint-hit');
  assert.equal(r.int('bkptno'), 1);
  assert.equal(r.int('thread-id'), 1);
  assert.equal(r.str('stopped-threads'), 'all');
  const f = r.tuple('frame')!;
  assert.equal(f.big('addr'), 0x5555555551c3n);
  assert.equal(f.str('func'), 'work');
  assert.equal(f.str('fullname'), '/tmp/gdbx/prog.c');
  assert.equal(f.int('line'), 15);
  const args = f.list('args')!;
  assert.equal(args.names, undefined, 'a list of values');
  assert.deepEqual(args.tuples().map((a) => [a.str('name'), a.str('value')]), [['n', '21']]);
});

test('*stopped on signals (SIGSEGV, SIGINT after -exec-interrupt) and on exit', () => {
  const segv = results(parseMiLine('*stopped,reason="signal-received",signal-name="SIGSEGV",signal-meaning="Segmentation fault",frame={addr="0x0000555555555248",func="main",args=[{name="argc",value="2"},{name="argv",value="0x7fffffffe6d8"}],file="prog.c",fullname="/tmp/gdbx/prog.c",line="22",arch="i386:x86-64"},thread-id="1",stopped-threads="all",core="1"'));
  assert.equal(segv.str('signal-name'), 'SIGSEGV');
  assert.equal(segv.str('signal-meaning'), 'Segmentation fault');
  assert.equal(segv.tuple('frame')!.list('args')!.tuples().length, 2);
  const int = results(parseMiLine('*stopped,reason="signal-received",signal-name="SIGINT",signal-meaning="Interrupt",frame={addr="0x00007ffff7ea7dd0",func="__libc_pause",args=[],file="../sysdeps/unix/sysv/linux/pause.c",fullname="./posix/../sysdeps/unix/sysv/linux/pause.c",line="29",arch="i386:x86-64"},thread-id="1",stopped-threads="all",core="1"'));
  assert.deepEqual(int.tuple('frame')!.list('args'), new MiList([]));
  const exit = results(parseMiLine('*stopped,reason="exited",exit-code="012"'));
  assert.equal(exit.str('exit-code'), '012');
});

test('notify records: thread-created, library-loaded with ranges, breakpoint-modified, thread-group-exited', () => {
  const tc = parseMiLine('=thread-created,id="2",group-id="i1"');
  assert.equal(tc.kind, 'notify');
  assert.equal(tc.kind === 'notify' && tc.asyncClass, 'thread-created');
  assert.equal(results(tc).int('id'), 2);
  const lib = results(parseMiLine('=library-loaded,id="/lib/x86_64-linux-gnu/libc.so.6",target-name="/lib/x86_64-linux-gnu/libc.so.6",host-name="/lib/x86_64-linux-gnu/libc.so.6",symbols-loaded="0",thread-group="i1",ranges=[{from="0x00007ffff7dfa380",to="0x00007ffff7f4e22d"}]'));
  assert.equal(lib.str('id'), '/lib/x86_64-linux-gnu/libc.so.6');
  assert.equal(lib.list('ranges')!.tuples()[0].big('to'), 0x7ffff7f4e22dn);
  const bp = results(parseMiLine('=breakpoint-modified,bkpt={number="1",type="breakpoint",disp="keep",enabled="y",addr="0x00005555555551c3",func="work",file="prog.c",fullname="/tmp/gdbx/prog.c",line="15",thread-groups=["i1"],times="1",original-location="work"}'));
  const b = bp.tuple('bkpt')!;
  assert.equal(b.int('times'), 1);
  assert.deepEqual(b.list('thread-groups')!.strings(), ['i1']);
  assert.equal(b.str('original-location'), 'work');
  assert.equal(results(parseMiLine('=thread-group-exited,id="i1",exit-code="012"')).str('exit-code'), '012');
  const run = parseMiLine('*running,thread-id="all"');
  assert.equal(run.kind === 'exec' && run.asyncClass, 'running');
});

test('pending breakpoint reply', () => {
  const b = results(parseMiLine('4^done,bkpt={number="2",type="breakpoint",disp="keep",enabled="y",addr="<PENDING>",pending="nosuch::thing",times="0",original-location="nosuch::thing"}')).tuple('bkpt')!;
  assert.equal(b.str('addr'), '<PENDING>');
  assert.equal(b.str('pending'), 'nosuch::thing');
});

test('-thread-info: list of tuples, each with a frame', () => {
  const r = results(parseMiLine('5^done,threads=[{id="1",target-id="Thread 0x7ffff7dd1740 (LWP 18542)",name="prog",frame={level="0",addr="0x00005555555551c3",func="work",args=[{name="n",value="21"}],file="prog.c",fullname="/tmp/gdbx/prog.c",line="15",arch="i386:x86-64"},state="stopped",core="1"},{id="2",target-id="Thread 0x7ffff7dd06c0 (LWP 18545)",name="prog",frame={level="0",addr="0x00007ffff7ea7df2",func="__libc_pause",args=[],file="../sysdeps/unix/sysv/linux/pause.c",fullname="./posix/../sysdeps/unix/sysv/linux/pause.c",line="29",arch="i386:x86-64"},state="stopped",core="0"}],current-thread-id="1"'));
  const threads = r.list('threads')!.tuples();
  assert.deepEqual(threads.map((t) => t.str('target-id')), ['Thread 0x7ffff7dd1740 (LWP 18542)', 'Thread 0x7ffff7dd06c0 (LWP 18545)']);
  assert.equal(threads[1].tuple('frame')!.str('func'), '__libc_pause');
  assert.equal(r.int('current-thread-id'), 1);
});

test('-stack-list-frames: a list of results (frame=...)', () => {
  const r = results(parseMiLine('6^done,stack=[frame={level="0",addr="0x00005555555551c3",func="work",file="prog.c",fullname="/tmp/gdbx/prog.c",line="15",arch="i386:x86-64"},frame={level="1",addr="0x0000555555555339",func="main",file="prog.c",fullname="/tmp/gdbx/prog.c",line="27",arch="i386:x86-64"}]'));
  const stack = r.list('stack')!;
  assert.deepEqual(stack.names, ['frame', 'frame']);
  assert.deepEqual(stack.tuples().map((f) => [f.int('level'), f.str('func'), f.int('line')]), [[0, 'work', 15], [1, 'main', 27]]);
});

test('variables, memory, evaluate with escaped quotes', () => {
  const vars = results(parseMiLine('^done,variables=[{name="n",arg="1",value="21"},{name="doubled",value="21845"}]'));
  assert.deepEqual(vars.list('variables')!.tuples().map((v) => [v.str('name'), v.str('arg'), v.str('value')]), [['n', '1', '21'], ['doubled', undefined, '21845']]);
  const mem = results(parseMiLine('^done,memory=[{begin="0x0000555555558050",offset="0x0000000000000000",end="0x0000555555558058",contents="0500000000000000"}]'));
  assert.equal(mem.list('memory')!.tuples()[0].str('contents'), '0500000000000000');
  assert.equal(results(parseMiLine('^done,value="0x7fffffffe9e1 \\"/tmp/gdbx/prog\\""')).str('value'), '0x7fffffffe9e1 "/tmp/gdbx/prog"');
});

test('stream records: console, target, log; escapes and octal-escaped UTF-8', () => {
  assert.deepEqual(parseMiLine('~"Thread 1 \\"prog\\" hit Breakpoint 1, work (n=21) at prog.c:15\\n"'),
    { kind: 'stream', stream: 'console', text: 'Thread 1 "prog" hit Breakpoint 1, work (n=21) at prog.c:15\n' });
  assert.deepEqual(parseMiLine('~"15\\t  int doubled = n * 2;\\n"'), { kind: 'stream', stream: 'console', text: '15\t  int doubled = n * 2;\n' });
  assert.deepEqual(parseMiLine('&"29\\t../sysdeps/unix/sysv/linux/pause.c: No such file or directory.\\n"'),
    { kind: 'stream', stream: 'log', text: '29\t../sysdeps/unix/sysv/linux/pause.c: No such file or directory.\n' });
  assert.deepEqual(parseMiLine('@"out\\n"'), { kind: 'stream', stream: 'target', text: 'out\n' });
  // GDB 13 escapes non-ASCII bytes in octal (`echo hé` gives this line).
  assert.deepEqual(parseMiLine('~"h\\303\\251\\n"'), { kind: 'stream', stream: 'console', text: 'hé\n' });
  assert.deepEqual(parseMiLine('~"raw é \\\\ \\e[0m"'), { kind: 'stream', stream: 'console', text: 'raw é \\ \x1b[0m' });
  assert.deepEqual(parseMiLine('~"\\nProgram"'), { kind: 'stream', stream: 'console', text: '\nProgram' });
});

test('program output and junk between MI lines are unknown, never a throw', () => {
  for (const line of ['14:/tmp/gdbx/prog', 'ready', '', 'hello "world"', '~"unterminated', '~"x" trailing',
    '^done,', '^done,a=', '^done,a="x",b={c="d"', '^done,a=[1,2]', '*stopped,reason', '=foo,a="\\', '{}', '[]']) {
    const rec = parseMiLine(line);
    assert.deepEqual(rec, { kind: 'unknown', line }, line);
  }
});

test('a token on async records; CRLF tolerated', () => {
  const rec = parseMiLine('42*running,thread-id="all"\r');
  assert.equal(rec.kind === 'exec' && rec.token, 42);
  assert.deepEqual(parseMiLine('(gdb) \r'), { kind: 'prompt' });
});
