"""Breakpoint hooks written into code objects, for CPython 3.10 and 3.11 (no sys.monitoring).

    patch(code, lines, hook, memo) -> code'

returns a copy of `code` in which every entry into one of `lines` (the lines the code's own
instructions are on, and those of the code objects nested in its constants) first calls
`hook(line)`; the same object when none of them is there. With it, a program runs code without
breakpoints at full speed: no trace function is needed to find the breakpoint lines (a global
sys.settrace costs every Python call, 3-6x on a loop of small calls).

Where a hook goes, per code object and line L: where L begins as 3.12+'s sys.monitoring LINE
event has it (the line differs from the previous instruction's run in the frame), so that a
breakpoint stops once each time its line runs on every version, not at each item of a one-line
loop or comprehension as sys.settrace's 'line' events do: before each instruction of L entered
from another line (falling through, a jump, an exception handler, the code's start; a list, set
or dict comprehension's start is not, as 3.12+ runs those inline), not after a backward jump from
L itself, nor at `async for`'s END_ASYNC_FOR. Jumps from L itself land after the hook; when L
also falls into it, a JUMP_FORWARD skips the hook on that path. So the hook runs exactly as
often as L begins (checked against sys.settrace's 'line' and 'opcode' events on a workload:
test/fixtures/codepatch/check.py). Never before a 3.11 function's RESUME or a 3.10 generator's
GEN_START.

The hook is `LOAD_CONST hook; LOAD_CONST L; CALL_FUNCTION 1; POP_TOP` (3.11: `PUSH_NULL; LOAD_CONST
hook; LOAD_CONST L; PRECALL 1; CALL 1; POP_TOP` with their inline caches): it leaves the stack as
it was, so it fits anywhere. Every jump, exception-table entry (3.11) and the line/position table
are rewritten (a jump lands on a hook where tracing would report the line); each hook instruction
has the position of the instruction it precedes (tracebacks keep their lines and, on 3.11,
columns). `starts(code')` gives the offsets where hooks begin (a trace function at one of them
leaves the line to the hook).
"""
import dis
import sys

_V = sys.version_info[:2]
_EXT = dis.opmap["EXTENDED_ARG"]
_CACHES = None
if _V >= (3, 11):
    import opcode as _opcode

    _CACHES = _opcode._inline_cache_entries
_JREL = frozenset(dis.hasjrel)
_JABS = frozenset(dis.hasjabs)
_BACKWARD = frozenset(op for op in _JREL if "JUMP_BACKWARD" in dis.opname[op])
_START = dis.opmap.get("RESUME" if _V >= (3, 11) else "GEN_START")
_JUMP_FORWARD = dis.opmap["JUMP_FORWARD"]
_END_ASYNC_FOR = dis.opmap["END_ASYNC_FOR"]
_SETUPS = frozenset(dis.opmap[n] for n in ("SETUP_FINALLY", "SETUP_WITH", "SETUP_ASYNC_WITH") if n in dis.opmap)
# after these the next instruction is not reached by falling through
_NO_FALL = frozenset(dis.opmap[n] for n in ("RETURN_VALUE", "RAISE_VARARGS", "RERAISE", "JUMP_FORWARD", "JUMP_ABSOLUTE", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT") if n in dis.opmap)
_CODE = type((lambda: 0).__code__)
# code objects that 3.12+ inlines into their caller (PEP 709): their start is not a line's
_COMPREHENSIONS = frozenset(("<listcomp>", "<setcomp>", "<dictcomp>"))

_hooks = {}  # id(patched code) -> (patched code, frozenset of hook offsets, frozenset of lines)


def supported():
    return _V in ((3, 10), (3, 11))


def starts(code):
    """The offsets where hooks begin in a patched code object."""
    entry = _hooks.get(id(code))
    return entry[1] if entry is not None and entry[0] is code else ()


def hooked_lines(code):
    """The lines a patched code object calls the hook for."""
    entry = _hooks.get(id(code))
    return entry[2] if entry is not None and entry[0] is code else ()


class _Ins:
    """One instruction: its original start (first EXTENDED_ARG) or None for a hook's, the code
    unit of its opcode (after the EXTENDED_ARGs), opcode, argument, jump target (original byte
    offset) and position (one per code unit)."""

    __slots__ = ("orig", "unit", "op", "arg", "target", "pos", "size", "at")

    def __init__(self, orig, op, arg, target, pos, unit=None):
        self.orig = orig
        self.unit = unit
        self.op = op
        self.arg = arg
        self.target = target
        self.pos = pos
        self.size = 0
        self.at = 0


def _caches(op):
    return _CACHES[op] if _CACHES is not None else 0


def _prefixes(arg):
    return 0 if arg <= 0xFF else 1 if arg <= 0xFFFF else 2 if arg <= 0xFFFFFF else 3


def _read(code):
    """The instructions of `code` with jump targets as original byte offsets."""
    raw = code.co_code
    out = []
    i = 0
    ext = 0
    begin = None
    while i < len(raw):
        op, arg = raw[i], raw[i + 1] | ext
        if begin is None:
            begin = i
        if op == _EXT:
            ext = arg << 8
            i += 2
            continue
        end = i + 2 + 2 * _caches(op)
        target = None
        if op in _JABS:
            target = arg * 2
        elif op in _JREL:
            target = i + 2 - arg * 2 if op in _BACKWARD else i + 2 + arg * 2
        out.append(_Ins(begin, op, arg, target, None, i // 2))
        i = end
        ext = 0
        begin = None
    return out


def _unit_positions(code):
    """One position per code unit: (line, end line, column, end column) on 3.11, (line,) before."""
    n = len(code.co_code) // 2
    if _V >= (3, 11):
        pos = list(code.co_positions())
        if len(pos) != n:
            raise ValueError("positions do not cover the code")
        return pos
    pos = [(None,)] * n
    for start, end, line in code.co_lines():
        for u in range(start // 2, end // 2):
            pos[u] = (line,)
    return pos


def patch(code, lines, hook, memo):
    """See the module's doc. `lines(code)` gives the set of lines to hook in a code object (or
    None); `memo`: id(code) -> (code, result), shared across calls while the lines stay."""
    got = memo.get(id(code))
    if got is not None and got[0] is code:
        return got[1]
    consts = code.co_consts
    new_consts = None
    for i, c in enumerate(consts):
        if isinstance(c, _CODE):
            p = patch(c, lines, hook, memo)
            if p is not c:
                if new_consts is None:
                    new_consts = list(consts)
                new_consts[i] = p
    want = lines(code)
    result = code
    if want:
        result = _inject(code, want, hook, new_consts)
    if result is code and new_consts is not None:
        result = code.replace(co_consts=tuple(new_consts))
    memo[id(code)] = (code, result)
    return result


def _analyse(code, want):
    ins = _read(code)
    unit_pos = _unit_positions(code)
    line_of = [unit_pos[x.unit][0] for x in ins]
    index_of = {x.orig: k for k, x in enumerate(ins)}
    for k, x in enumerate(ins):
        index_of.setdefault(x.unit * 2, k)
    handlers = set()
    if _V >= (3, 11):
        for _s, _e, target, _dl in _read_exception_table(code.co_exceptiontable):
            handlers.add(index_of[target * 2])
    want = set(line for line in line_of if line is not None) if want is None else want
    return ins, unit_pos, line_of, index_of, _points(ins, line_of, index_of, handlers, want, code.co_name in _COMPREHENSIONS)


def begins(code):
    """The byte offsets in `code` (unpatched) where a line begins (see the module's doc): a
    trace function's 'line' event elsewhere is a backward jump within its line (3.10/3.11
    report those), which a breakpoint or a step does not stop at."""
    ins, _, _, _, points = _analyse(code, None)
    out = set()
    for k in points:
        out.add(ins[k].orig)
        out.add(ins[k].unit * 2)
    return frozenset(out)


def _inject(code, want, hook, new_consts):
    ins, unit_pos, line_of, index_of, points = _analyse(code, want)
    raw = code.co_code
    if not points:
        return code
    consts = list(new_consts if new_consts is not None else code.co_consts)
    hook_i = len(consts)
    consts.append(hook)
    line_i = {}
    for line in sorted(set(line_of[k] for k in points)):
        line_i[line] = len(consts)
        consts.append(line)

    seq = []  # the new instruction sequence
    block = {}  # original index -> seq index of the block before it (skip jump or hook)
    hook_at = {}  # original index -> seq index of its hook's first instruction
    in_seq = {}  # original index -> its seq index
    skips = []  # (seq index of a skip jump, original index it jumps to)
    for k, x in enumerate(ins):
        u = x.unit
        x.pos = unit_pos[u : u + 1 + _caches(x.op)]
        if k in points:
            block[k] = len(seq)
            if points[k]:  # reached by falling through from its own line: the hook is jumped over
                skips.append((len(seq), k))
                seq.append(_Ins(None, _JUMP_FORWARD, 0, None, [unit_pos[u]]))
            hook_at[k] = len(seq)
            for op, arg in _hook_ops(hook_i, line_i[line_of[k]]):
                seq.append(_Ins(None, op, arg, None, [unit_pos[u]] * (1 + _caches(op))))
        in_seq[k] = len(seq)
        seq.append(x)

    def boundary(orig_off):
        """The seq index a table boundary at an original offset becomes (a hook block is inside
        the ranges its instruction is in)."""
        if orig_off >= len(raw):
            return len(seq)
        k = index_of[orig_off]
        return block.get(k, in_seq[k])

    def handler(orig_off):
        k = index_of[orig_off]
        return hook_at.get(k, in_seq[k])

    targets = [None] * len(seq)
    for k, x in enumerate(ins):
        if x.target is None:
            continue
        t = index_of[x.target]
        hooked = t in hook_at and _reports(x, ins[t], line_of[k], line_of[t])
        targets[in_seq[k]] = hook_at[t] if hooked else in_seq[t]
    for s_i, k in skips:
        targets[s_i] = in_seq[k]

    # sizes only grow (a shorter argument keeps its EXTENDED_ARG 0s) until every jump fits
    for x in seq:
        x.size = 2 * (1 + _prefixes(x.arg) + _caches(x.op))
    while True:
        at = 0
        for x in seq:
            x.at = at
            at += x.size
        total = at
        changed = False
        for s, x in enumerate(seq):
            if targets[s] is not None:
                x.arg = _jump_arg(x, seq[targets[s]].at if targets[s] < len(seq) else total)
                size = 2 * (1 + _prefixes(x.arg) + _caches(x.op))
                if size > x.size:
                    x.size = size
                    changed = True
        if not changed:
            break

    out = bytearray()
    positions = []
    for x in seq:
        pre = x.size // 2 - 1 - _caches(x.op)
        arg = x.arg
        for p in range(pre, 0, -1):
            out += bytes((_EXT, (arg >> (8 * p)) & 0xFF))
        out += bytes((x.op, arg & 0xFF))
        out += bytes(2 * _caches(x.op))
        positions.extend([x.pos[0]] * pre)
        positions.extend(x.pos)

    def at(s_i):
        return seq[s_i].at if s_i < len(seq) else total

    kw = {
        "co_code": bytes(out),
        "co_consts": tuple(consts),
        "co_stacksize": code.co_stacksize + (3 if _V >= (3, 11) else 2),
        "co_linetable": _linetable(code.co_firstlineno, positions),
    }
    if _V >= (3, 11):
        kw["co_exceptiontable"] = _exception_table(code.co_exceptiontable, lambda o: at(boundary(o)), lambda o: at(handler(o)))
    new = code.replace(**kw)
    _hooks[id(new)] = (new, frozenset(seq[s_i].at for s_i in hook_at.values()), frozenset(line_i))
    return new


def _points(ins, line_of, index_of, handlers, want, inlined=False):
    """{instruction index: also reached by falling through from its own line} where hooks go:
    instructions of a wanted line where it begins on some path (entered from another line, at
    an exception handler, at the code's start unless `inlined`: a list, set or dict
    comprehension's code, which 3.12+ runs inline in the line that calls it)."""
    first = 0
    if _START is not None:
        for k, x in enumerate(ins):  # (3.11: after MAKE_CELL / COPY_FREE_VARS, however many)
            if x.op == _START:
                first = k + 1
                break
    other = set(h for h in handlers if ins[h].op != _END_ASYNC_FOR)  # entered from elsewhere
    if first < len(ins) and not inlined:
        other.add(first)
    for k, x in enumerate(ins):
        if x.target is None:
            continue
        t = index_of.get(x.target)
        if t is not None and _reports(x, ins[t], line_of[k], line_of[t]):
            other.add(t)
    points = {}
    for k in range(first, len(ins)):
        line = line_of[k]
        if line is None or line not in want:
            continue
        falls = k > first and ins[k - 1].op not in _NO_FALL
        same = falls and line_of[k - 1] == line
        if k in other or (falls and not same):
            points[k] = same
    return points


def _reports(jump, dest, jump_line, dest_line):
    """A line begins where this jump lands: at another line, at an exception handler (3.10's
    SETUP_* targets; not `async for`'s end, entered from its own line). Not after a backward
    jump from the line itself (a one-line loop, a comprehension's next item): as 3.12+'s LINE
    events, not as sys.settrace, which reports every such jump."""
    return (jump.op in _SETUPS and dest.op != _END_ASYNC_FOR) or jump_line != dest_line


def _hook_ops(hook_i, line_i):
    op = dis.opmap
    if _V >= (3, 11):
        return ((op["PUSH_NULL"], 0), (op["LOAD_CONST"], hook_i), (op["LOAD_CONST"], line_i), (op["PRECALL"], 1), (op["CALL"], 1), (op["POP_TOP"], 0))
    return ((op["LOAD_CONST"], hook_i), (op["LOAD_CONST"], line_i), (op["CALL_FUNCTION"], 1), (op["POP_TOP"], 0))


def _jump_arg(x, dest):
    if x.op in _JABS:
        return dest // 2
    after = x.at + x.size - 2 * _caches(x.op)  # the unit after its opcode
    if x.op in _BACKWARD:
        return max(0, (after - dest) // 2)
    return max(0, (dest - after) // 2)


# ---- tables ----
def _linetable(firstline, positions):
    if _V >= (3, 11):
        return _locations_311(firstline, positions)
    return _lines_310(firstline, [p[0] for p in positions])


def _lines_310(firstline, unit_lines):
    """3.10's co_linetable: (byte delta, line delta) pairs, -128 for no line (lnotab_notes.txt)."""
    out = bytearray()
    prev = firstline
    for line, count in _runs(unit_lines):
        bdelta = count * 2
        if line is None:
            ld = -128
        else:
            ld = line - prev
            prev = line
            while ld > 127:
                out += bytes((0, 127))
                ld -= 127
            while ld < -127:
                out += bytes((0, (-127) & 0xFF))
                ld += 127
        while bdelta > 254:
            out += bytes((254, ld & 0xFF))
            ld = -128 if line is None else 0
            bdelta -= 254
        out += bytes((bdelta, ld & 0xFF))
    return bytes(out)


def _runs(values, most=None):
    """(value, count) for each run of equal values, runs at most `most` long."""
    k = 0
    n = len(values)
    while k < n:
        j = k + 1
        while j < n and values[j] == values[k] and (most is None or j - k < most):
            j += 1
        yield values[k], j - k
        k = j


def _varint(v, out):
    while v >= 64:
        out.append(64 | (v & 63))
        v >>= 6
    out.append(v)


def _svarint(v, out):
    _varint(((-v) << 1) | 1 if v < 0 else v << 1, out)


def _locations_311(firstline, positions):
    """3.11's co_linetable (Objects/locations.md): long-form entries (code 14), no-location
    entries (code 15), each for up to 8 code units of one position."""
    out = bytearray()
    prev = firstline
    for p, length in _runs(positions, 8):
        line, endline, col, endcol = p
        if line is None:
            out.append(0x80 | (15 << 3) | (length - 1))
        else:
            out.append(0x80 | (14 << 3) | (length - 1))
            _svarint(line - prev, out)
            prev = line
            _varint(max(0, (endline if endline is not None else line) - line), out)
            _varint(0 if col is None else col + 1, out)
            _varint(0 if endcol is None else endcol + 1, out)
    return bytes(out)


def _parse_ex_varint(data, i):
    b = data[i]
    v = b & 63
    i += 1
    while b & 64:
        b = data[i]
        v = (v << 6) | (b & 63)
        i += 1
    return v, i


def _ex_varint(v, out, first=False):
    chunks = [v & 63]
    v >>= 6
    while v:
        chunks.append(v & 63)
        v >>= 6
    chunks.reverse()
    for m, c in enumerate(chunks):
        b = c | (64 if m < len(chunks) - 1 else 0)
        if m == 0 and first:
            b |= 128
        out.append(b)


def _read_exception_table(data):
    """(start, length, target, depth_lasti) entries, in code units."""
    out = []
    i = 0
    while i < len(data):
        start, i = _parse_ex_varint(data, i)
        length, i = _parse_ex_varint(data, i)
        target, i = _parse_ex_varint(data, i)
        dl, i = _parse_ex_varint(data, i)
        out.append((start, length, target, dl))
    return out


def _exception_table(data, boundary, handler):
    """3.11's co_exceptiontable (exception_handling_notes.txt) with every offset moved."""
    out = bytearray()
    for start, length, target, dl in _read_exception_table(data):
        s = boundary(start * 2)
        e = boundary((start + length) * 2)
        if e <= s:
            continue
        _ex_varint(s // 2, out, first=True)
        _ex_varint((e - s) // 2, out)
        _ex_varint(handler(target * 2) // 2, out)
        _ex_varint(dl, out)
    return bytes(out)
