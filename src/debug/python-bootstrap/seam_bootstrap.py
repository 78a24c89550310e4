"""Seam's launcher for Python programs under the mixed-mode debugger.

    python seam_bootstrap.py SCRIPT ARGS...      runs SCRIPT like `python SCRIPT ARGS...`
    python seam_bootstrap.py -m MODULE ARGS...   runs MODULE like `python -m MODULE ARGS...`

Python line breakpoints come from a control file (path in the environment variable SEAM_CONTROL,
removed before the program starts): JSON {"version": n, "breakpoints": [{"id", "file", "line",
"condition"?, "ignoreCount"?, "modulo"?, "logMessage"?}]}, written atomically (rename) by the
adapter. It is read at start, after each stop, and by a polling thread (one stat every 200 ms).

Hooks exist only while breakpoints do: 3.12+ sys.monitoring (DEBUGGER_ID, LINE events only on the
code objects that hold a breakpoint line), 3.10/3.11 sys.settrace with a local tracer only for
code objects that hold a breakpoint line. Conditions, hit counts and logpoints are evaluated here.
A breakpoint that stops calls sys.audit("seam.breakpoint", id): the debugger breaks on CPython's
sys_audit with a condition on the event name (no call into the program), so without a debugger
it is a no-op. Logpoints go to fd 2 as lines starting with "\\x1eseam-log ", which the adapter
turns into output events.
"""
import os
import sys

_EVENT = "seam.breakpoint"
_LOG_PREFIX = b"\x1eseam-log "
_POLL_SECONDS = 0.2
_HERE = os.path.abspath(__file__)


def _norm(path):
    try:
        return os.path.normcase(os.path.realpath(path))
    except (TypeError, ValueError, OSError):
        return path


class _Breakpoint:
    __slots__ = ("id", "line", "condition", "ignore", "modulo", "log", "hits", "compiled")

    def __init__(self, d):
        self.id = int(d["id"])
        self.line = int(d["line"])
        self.condition = d.get("condition") or None
        self.ignore = int(d.get("ignoreCount") or 0)
        self.modulo = int(d.get("modulo") or 0)
        self.log = d.get("logMessage")
        self.hits = 0
        self.compiled = None


class _Controller:
    def __init__(self, control):
        import threading  # noqa: F401  (imported by the program anyway; needed for settrace)
        import _thread

        self.control = control
        self.lock = _thread.RLock()
        self.stamp = None
        self.version = None
        self.by_file = {}  # normalised file -> {line: [_Breakpoint]}
        self.norm_cache = {}  # co_filename -> normalised
        self.mon = getattr(sys, "monitoring", None)
        self.tool_held = False
        self.instrumented = set()  # code objects with local LINE events (3.12+)
        self.tracing = False  # 3.10/3.11

    # ---- control file ----
    def refresh(self):
        """Re-reads the control file if it changed; applies the breakpoints."""
        try:
            st = os.stat(self.control)
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            return
        if stamp == self.stamp:
            return
        with self.lock:
            if stamp == self.stamp:
                return
            try:
                import json

                with open(self.control, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError):
                return  # half-written or gone: the next look retries
            self.stamp = stamp
            if data.get("version") == self.version:
                return
            self.version = data.get("version")
            old = {(f, b.id): b for f, lines in self.by_file.items() for bs in lines.values() for b in bs}
            by_file = {}
            for d in data.get("breakpoints", []):
                try:
                    bp = _Breakpoint(d)
                    f = _norm(d["file"])
                except (KeyError, TypeError, ValueError):
                    continue
                prev = old.get((f, bp.id))
                if prev is not None:
                    bp.hits = prev.hits
                by_file.setdefault(f, {}).setdefault(bp.line, []).append(bp)
            self.by_file = by_file
            self.apply()

    def poll(self):
        import time

        while True:
            time.sleep(_POLL_SECONDS)
            try:
                self.refresh()
            except Exception:  # never let the poller die loudly in the program's stderr
                pass

    # ---- which code has breakpoints ----
    def lines_for(self, code):
        fn = code.co_filename
        f = self.norm_cache.get(fn)
        if f is None:
            f = self.norm_cache[fn] = _norm(fn)
        return self.by_file.get(f)

    def holds_breakpoint(self, code):
        lines = self.lines_for(code)
        if not lines:
            return False
        for _, _, line in code.co_lines():
            if line in lines:
                return True
        return False

    def all_code(self):
        """Code objects alive now: functions' code (and nested code) and running frames."""
        import gc

        seen = set()
        out = []

        def add(code):
            if id(code) in seen:
                return
            seen.add(id(code))
            out.append(code)
            for c in code.co_consts:
                if isinstance(c, type(add.__code__)):
                    add(c)

        for o in gc.get_objects():
            c = getattr(o, "__code__", None) if callable(o) else None
            if isinstance(c, type(add.__code__)):
                add(c)
        for frame in sys._current_frames().values():
            while frame is not None:
                add(frame.f_code)
                frame = frame.f_back
        return out

    # ---- hooks ----
    def apply(self):
        if self.mon is not None:
            self.apply_monitoring()
        else:
            self.apply_settrace()

    def apply_monitoring(self):
        mon = self.mon
        tool = mon.DEBUGGER_ID
        for code in self.instrumented:
            try:
                mon.set_local_events(tool, code, 0)
            except ValueError:
                pass
        self.instrumented = set()
        if not self.by_file:
            if self.tool_held:
                mon.set_events(tool, 0)
                mon.register_callback(tool, mon.events.LINE, None)
                mon.register_callback(tool, mon.events.PY_START, None)
                mon.free_tool_id(tool)
                self.tool_held = False
            return
        if not self.tool_held:
            try:
                mon.use_tool_id(tool, "seam")
            except ValueError:
                return  # another debugger holds it
            self.tool_held = True
            mon.register_callback(tool, mon.events.LINE, self.on_line)
            mon.register_callback(tool, mon.events.PY_START, self.on_start)
        for code in self.all_code():
            if self.holds_breakpoint(code):
                self.instrument(code)
        mon.set_events(tool, mon.events.PY_START)
        mon.restart_events()

    def instrument(self, code):
        self.mon.set_local_events(self.mon.DEBUGGER_ID, code, self.mon.events.LINE)
        self.instrumented.add(code)

    def on_start(self, code, offset):
        if code not in self.instrumented and self.holds_breakpoint(code):
            self.instrument(code)
        return self.mon.DISABLE

    def on_line(self, code, line):
        lines = self.lines_for(code)
        bps = lines.get(line) if lines else None
        if not bps:
            return self.mon.DISABLE
        self.hit(sys._getframe(1), bps)
        return None

    def apply_settrace(self):
        import threading

        if not self.by_file:
            if self.tracing:
                sys.settrace(None)
                threading.settrace(None)
                self.tracing = False
            return
        threading.settrace(self.global_trace)
        sys.settrace(self.global_trace)
        self.tracing = True
        # Frames already running in this thread (other threads: see the report on 3.10/3.11).
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename != _HERE and self.holds_breakpoint(frame.f_code):
                frame.f_trace = self.local_trace
            frame = frame.f_back

    def global_trace(self, frame, event, arg):
        if event == "call" and self.holds_breakpoint(frame.f_code):
            return self.local_trace
        return None

    def local_trace(self, frame, event, arg):
        if event == "line":
            lines = self.lines_for(frame.f_code)
            bps = lines.get(frame.f_lineno) if lines else None
            if bps:
                self.hit(frame, bps)
        return self.local_trace

    # ---- a breakpoint line is reached ----
    def hit(self, frame, bps):
        stop = None
        for bp in bps:
            if bp.condition:
                try:
                    if bp.compiled is None:
                        bp.compiled = compile(bp.condition, "<breakpoint condition>", "eval")
                    if not eval(bp.compiled, frame.f_globals, frame.f_locals):
                        continue
                except Exception as e:
                    self.log(f"breakpoint condition {bp.condition!r} failed: {type(e).__name__}: {e}")
            bp.hits += 1
            if bp.hits <= bp.ignore:
                continue
            if bp.modulo and bp.hits % bp.modulo:
                continue
            if bp.log is not None:
                self.log(self.format(bp.log, frame))
                continue
            if stop is None:
                stop = bp
        if stop is not None:
            sys.audit(_EVENT, stop.id)  # the debugger stops here
            self.refresh()  # breakpoints set while stopped apply from the next line on

    @staticmethod
    def format(message, frame):
        import re

        def one(m):
            try:
                return str(eval(m.group(1), frame.f_globals, frame.f_locals))
            except Exception as e:
                return f"<{type(e).__name__}: {e}>"

        return re.sub(r"\{([^{}]+)\}", one, message)

    @staticmethod
    def log(text):
        data = _LOG_PREFIX + text.replace("\n", "\\n").encode("utf-8", "backslashreplace") + b"\n"
        try:
            os.write(2, data)
        except OSError:
            pass


def _hide_own_frames(tb):
    """The traceback without the bootstrap's and runpy's frames at its top."""
    while tb is not None and (tb.tb_frame.f_code.co_filename == _HERE or tb.tb_frame.f_globals.get("__name__") == "runpy"):
        tb = tb.tb_next
    return tb


def _run_script(path):
    """What `python SCRIPT` does: a fresh __main__ module, the script's code run in it."""
    import builtins
    import importlib.machinery
    import io
    import types

    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__cached__ = None
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    with io.open_code(path) as f:
        source = f.read()
    exec(compile(source, path, "exec", dont_inherit=True), main.__dict__)


def _main():
    import runpy

    argv = sys.argv[1:]
    if not argv or argv[0] in ("-m",) and len(argv) < 2:
        sys.stderr.write("usage: seam_bootstrap.py SCRIPT [ARGS...] | -m MODULE [ARGS...]\n")
        raise SystemExit(2)
    control = os.environ.pop("SEAM_CONTROL", None)
    ctl = None
    if control:
        ctl = _Controller(control)
        ctl.refresh()
        import _thread

        _thread.start_new_thread(ctl.poll, ())  # not a threading.Thread: invisible to the program
    if argv[0] == "-m":
        module = argv[1]
        sys.argv = [argv[1], *argv[2:]]  # runpy puts the module's path in argv[0]
        sys.path[0] = os.getcwd()
        run = lambda: runpy.run_module(module, run_name="__main__", alter_sys=True)  # noqa: E731
    else:
        sys.argv = list(argv)
        script = os.path.abspath(argv[0])  # __file__ and co_filename, as `python SCRIPT` sets them
        sys.path[0] = os.path.dirname(os.path.realpath(script))
        run = lambda: _run_script(script)  # noqa: E731
    try:
        run()
    except SystemExit:
        raise
    except BaseException as e:  # as `python SCRIPT` would print it, without our frames
        tb = _hide_own_frames(e.__traceback__)
        e.with_traceback(tb)
        if isinstance(e, KeyboardInterrupt):
            raise
        sys.excepthook(type(e), e, tb)
        raise SystemExit(1)


if __name__ == "__main__":
    _main()
