"""Seam's launcher for Python programs under the mixed-mode debugger.

    python seam_bootstrap.py SCRIPT ARGS...      runs SCRIPT like `python SCRIPT ARGS...`
    python seam_bootstrap.py -m MODULE ARGS...   runs MODULE like `python -m MODULE ARGS...`

Python line breakpoints come from a control file (path in the environment variable SEAM_CONTROL,
removed before the program starts): JSON {"version": n, "breakpoints": [{"id", "file", "line",
"condition"?, "ignoreCount"?, "modulo"?, "logMessage"?}]}, written atomically (rename) by the
adapter. It is read at start, after each stop, and by a polling thread (one stat every 200 ms).

Hooks exist only while breakpoints do: 3.12+ sys.monitoring (DEBUGGER_ID, LINE events only on the
code objects that hold a breakpoint line); 3.10/3.11 a call of bp_line(line) written into the
code objects that hold a breakpoint line (seam_codepatch.py, beside this file), so code without
breakpoints runs with no trace function at all: every function's code is swapped (its next
calls, in any thread), the script's code before it runs, a module's code as importlib's source
loader hands it over (SourceLoader.get_code, wrapped), and code exec()d by another loader (an
"exec" audit hook) is traced in its thread until it returns, then its functions are swapped.
Frames already running such code get a local tracer under a trace function written in C until
they return (or their breakpoints go): in the thread that applies the breakpoints (a stop, an
attach) by sys.settrace, in the others through CPython's _PyEval_SetTrace (_ThreadTracer). If
the hooks cannot be written, the
code is traced instead (sys.settrace, local tracer only for code that holds a breakpoint line).
Conditions, hit counts and logpoints are evaluated here.
A breakpoint that stops calls sys.audit("seam.breakpoint", id): the debugger breaks on CPython's
sys_audit with a condition on the event name (no call into the program), so without a debugger
it is a no-op. Logpoints go to fd 2 as lines starting with "\\x1eseam-log ", which the adapter
turns into output events.

Stepping: the control file's "step" ({"seq", "kind": over|in|out|cancel}) is taken by the thread
that just trapped (after its sys.audit returns) for the frame it stopped in. Events exist only
while the step runs: 3.12+ local LINE/PY_RETURN/PY_YIELD on the stepped frames' code (CALL on the
starting code and global PY_START for "in"); 3.10/3.11 the thread's own sys.settrace (and
sys.setprofile for "in", whose 'c_call' events name the C function called); a 'line' event where
a breakpoint hook begins is left to the hook, which then does the step's work too. A finished step calls
sys.audit("seam.breakpoint", STEP_DONE); a C function about to be called by a step "in" calls
sys.audit("seam.breakpoint", STEP_NATIVE, function), after which the step goes on as "over" (the
adapter breaks in the C function; a step out from there is this step's next line). A breakpoint
that stops during a step ends it. Before stopping, the control file is read again: a step the
adapter cancelled (new seq) ends silently.

A step "in" from a native (C or Rust) line: the adapter writes a step of kind "native-in" and,
with the thread stopped in that line's code holding the GIL, calls `_Controller.native_step`
through the debugger (an inferior call of PyObject_CallNoArgs on the object whose id() is in
CONTROL + ".hooks", JSON {"nativeStep": id}). It begins a step "in" on that thread from its
innermost Python frame (the one that called the native code): the next Python function the
native code calls stops at its first line, and once the native code returns, the calling
frame's next line stops. It returns True when armed. The adapter cancels it (a new seq) when the
native step ends in native code (its hooks go at the thread's next Python event), or, when the
thread got into that native code by a Python step "in", arms "native-over" in its place (a step
"over" of the same frame: a step out of the native code ends at that frame's next line, as
before).

Exceptions: the control file's "exceptions" lists the filters on ("raised", "uncaught"); no hook
exists while none is. "raised": 3.12+ a global RAISE event, 3.10/3.11 the trace function's
'exception' event (a local tracer without line events on user frames); it stops once per
exception, in the frame it was raised in (a C function's exception: in its Python caller), in
the program's own code only (not the standard library, site-packages or the bootstrap), and not
for StopIteration, StopAsyncIteration or GeneratorExit. "uncaught": the exception leaves the
outermost user frame (the script's or module's `<module>`, a thread's target or `run`) while
that frame still exists: 3.12+ a global PY_UNWIND event, 3.10/3.11 the 'return' trace event of
that frame at an instruction other than RETURN_VALUE (with "uncaught" alone, once that frame
has its local tracer the thread's global tracer becomes a C callable that returns None: about
3.5x on a loop of tiny calls, against 20x with a Python one). Before it stops the bootstrap writes
CONTROL + ".exc" (JSON: kind, typeName, fullTypeName, message, stackTrace) and calls
sys.audit("seam.breakpoint", EXC_RAISED | EXC_UNCAUGHT). After it, the program goes on as
without the debugger (an uncaught one: the traceback printed, exit code 1).
"""
import os
import sys
from _thread import get_ident as _get_ident

_EVENT = "seam.breakpoint"
_LOG_PREFIX = b"\x1eseam-log "
_POLL_SECONDS = 0.2
STEP_DONE = 1_000_000_001
STEP_NATIVE = 1_000_000_002
EXC_RAISED = 1_000_000_003
EXC_UNCAUGHT = 1_000_000_004
_NOT_STOPPING = (StopIteration, StopAsyncIteration, GeneratorExit)
# The functions that run the program's outermost frames: name -> module ("": this bootstrap).
_RUNNERS = {"_run_script": "", "_run_code": "runpy", "run": "threading", "_bootstrap_inner": "threading"}
# 3.10/3.11: a global trace function in C that takes (frame, event, arg), keeps nothing and
# returns None (int's __init__ is object_init, which ignores extra arguments when __new__ is
# overridden): with it, the frames that already have a local tracer keep their events.
_NO_CALL_TRACE = (0).__init__
_HERE = os.path.abspath(__file__)


class _Every:
    def __contains__(self, _):
        return True


_EVERY_OFFSET = _Every()


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
        self.holds_cache = {}  # code object -> holds a breakpoint line (reset when they change)
        self.norm_cache = {}  # co_filename -> normalised
        self.mon = getattr(sys, "monitoring", None)
        self.tool_held = False
        self.instrumented = set()  # code objects with local LINE events (3.12+)
        self.tracing = False  # 3.10/3.11
        # 3.10/3.11: breakpoint hooks written into code objects (seam_codepatch.py); None: not
        # loadable, sys.settrace finds breakpoint code as on 3.12+ monitoring does
        self.cp = None if self.mon is not None else _load_codepatch()
        self.originals = {}  # id(patched code) -> (patched code, original)
        self.armed = {}  # thread ident -> ids of running frames traced for breakpoints hooks miss
        self.tracer = None  # 3.10/3.11: _ThreadTracer, False when it cannot be made
        self.begins_cache = {}  # 3.10/3.11: code object -> offsets where its lines begin
        self.hook = _Hook(self)  # the constant in every patched code
        self.import_patched = False
        self.audit_hooked = False
        self.unhooked = False  # a code object could not get hooks: breakpoints are traced as before
        self.execs = {}  # thread ident -> code objects exec'd without hooks, running (innermost last)
        self.step_seq = 0  # the control file's latest step request
        self.step_kind = None
        self.taken_seq = 0  # the latest one a thread took
        self.step = None  # the step running: _Step
        self.exc_filters = frozenset()  # "raised", "uncaught"
        self.exc_busy = False  # in our own exception stop (its work may raise)
        self.exc_seen = None  # id of the last exception stopped at as uncaught
        self.exc_last = {}  # 3.10/3.11: id(top frame) -> the exception passing through it
        self.quiet = False  # evaluating for the debugger: no stop of ours may happen
        self.stdlib = _norm(os.path.dirname(os.__file__)) + os.sep
        self.user_cache = {}  # co_filename -> the program's own code?

    def native_step(self):
        """Called by the debugger on a thread stopped in native code that holds the GIL (see the
        module's doc): arms the "native-in" / "native-over" step the control file asks for, as
        a step "in" / "over" of the thread's innermost Python frame. Never raises."""
        try:
            if self.stepping_here():
                self.end_step()  # stale (its thread is in native code): not while reading the file
            self.refresh(force=True)
            kind = {"native-in": "in", "native-over": "over"}.get(self.step_kind)
            if self.step_seq <= self.taken_seq or kind is None:
                return False
            self.taken_seq = self.step_seq
            if self.step is not None:
                self.end_step()
            frame = sys._getframe(1)  # the innermost Python frame: it called the native code
            while frame is not None and frame.f_code.co_filename == _HERE:
                frame = frame.f_back
            if frame is None:
                return False
            self.begin_step(frame, kind, self.step_seq)
            return self.step is not None
        except Exception:  # noqa: BLE001  (called from the debugger: an exception would be left set)
            return False

    def evaluate(self):
        """Called by the debugger on a thread stopped holding the GIL: evaluates the expression of
        CONTROL + ".eval" (JSON {"seq", "expression", "frame": n}) in the thread's n-th Python frame
        of the program (innermost 0; the bootstrap's and runpy's frames not counted, as the
        adapter hides them) and writes CONTROL + ".eval.out" (JSON {"seq", "ok", "value",
        "type"}). A statement (`x = 1`) is executed. No breakpoint, step or exception stop
        happens meanwhile. Never raises."""
        import json

        out = {"seq": None, "ok": False, "value": "", "type": ""}
        was, self.quiet = self.quiet, True
        try:
            with open(self.control + ".eval", encoding="utf-8") as f:
                req = json.load(f)
            out["seq"] = req.get("seq")
            n = int(req.get("frame") or 0)
            frame = sys._getframe(1)
            while frame is not None:
                if frame.f_code.co_filename != _HERE and frame.f_globals.get("__name__") != "runpy":
                    if n == 0:
                        break
                    n -= 1
                frame = frame.f_back
            if frame is None:
                out["value"] = "no such Python frame in this thread"
            else:
                source = str(req.get("expression") or "")
                try:
                    code = compile(source, "<debug console>", "eval")
                except SyntaxError:
                    code = compile(source, "<debug console>", "exec")
                value = eval(code, frame.f_globals, frame.f_locals)
                out["ok"] = True
                out["type"] = type(value).__qualname__
                try:
                    text = repr(value)
                except Exception as e:  # noqa: BLE001
                    text = f"<repr() failed: {type(e).__name__}: {e}>"
                out["value"] = text if len(text) <= 4000 else text[:4000] + "…"
        except BaseException as e:  # noqa: BLE001  (the expression's own error, reported)
            out["value"] = f"{type(e).__name__}: {e}"
        finally:
            self.quiet = was
        try:
            tmp = self.control + ".eval.tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(out, f)
            os.replace(tmp, self.control + ".eval.out")
        except OSError:
            return False
        return True

    def publish_hooks(self):
        """CONTROL + ".hooks": the addresses (ids) of the callables the debugger calls: to arm a
        step from native code, to evaluate an expression; kept alive by this controller."""
        import json

        self.native_step_hook = self.native_step  # one bound method object, its id stays valid
        self.evaluate_hook = self.evaluate
        try:
            tmp = self.control + ".hooks.tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump({"nativeStep": id(self.native_step_hook), "evaluate": id(self.evaluate_hook)}, f)
            os.replace(tmp, self.control + ".hooks")
        except OSError:
            pass

    def take_step(self, frame):
        """After a trap: the step the adapter asked for, from `frame` in this thread."""
        self.refresh(force=True)
        if self.cp is not None and self.by_file:
            # breakpoints set while stopped reach this thread's running frames, whichever thread
            # (this one or the poller, racing it on the continue) applied them
            self.arm_running(frame)
        if self.step_seq <= self.taken_seq:
            return
        self.taken_seq = self.step_seq
        if self.step is not None:
            self.end_step()
        if self.step_kind in ("over", "in", "out"):
            self.begin_step(frame, self.step_kind, self.step_seq)

    # ---- control file ----
    def refresh(self, force=False):
        """Re-reads the control file if it changed (`force`: even if its stamp did not, as two
        quick writes can share one); applies the breakpoints."""
        try:
            st = os.stat(self.control)
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            return
        if stamp == self.stamp and not force:
            return
        with self.lock:
            if stamp == self.stamp and not force:
                return
            try:
                import json

                with open(self.control, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError):
                return  # half-written or gone: the next look retries
            self.stamp = stamp
            step = data.get("step") or {}
            self.step_seq = int(step.get("seq") or 0)
            self.step_kind = step.get("kind")
            if data.get("version") == self.version:
                return
            self.version = data.get("version")
            self.exc_filters = frozenset(f for f in data.get("exceptions") or () if f in ("raised", "uncaught"))
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
            self.holds_cache = {}
            self.apply()

    def start_polling(self):
        """The polling thread (a `_thread`, not a threading.Thread: invisible to the program),
        returned once it runs: a program that ends at once would otherwise finalize while the
        thread registers itself (Debian's 3.11.2 then dies: "Couldn't create autoTSSkey mapping")."""
        import _thread

        started = _thread.allocate_lock()
        started.acquire()
        _thread.start_new_thread(self.poll, (started,))
        started.acquire()

    def poll(self, started=None):
        import time

        if started is not None:
            started.release()
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
        # Asked on every Python call under settrace (3.10/3.11): one dict lookup once known.
        known = self.holds_cache.get(code)
        if known is not None:
            return known
        lines = self.lines_for(code)
        held = bool(lines) and any(line in lines for _, _, line in code.co_lines())
        if held and self.cp is not None:  # 3.10/3.11: only lines its hooks do not cover
            hooked = self.cp.hooked_lines(code)
            held = any(line in lines and line not in hooked for _, _, line in code.co_lines())
        self.holds_cache[code] = held
        return held

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
        if not self.by_file and self.step is None and not self.exc_filters:
            self.release_tool()
            return
        if not self.hold_tool():
            return
        if self.by_file:
            for code in self.all_code():
                if self.holds_breakpoint(code):
                    self.instrument(code)
        if self.step is not None:
            self.step.apply(self)
        mon.set_events(tool, self.global_events())
        mon.restart_events()

    def global_events(self):
        """3.12+: PY_START while breakpoints or a step exist; RAISE / PY_UNWIND per exception filter."""
        ev = self.mon.events
        e = ev.PY_START if self.by_file or self.step is not None else 0
        if "raised" in self.exc_filters:
            e |= ev.RAISE
        if "uncaught" in self.exc_filters:
            e |= ev.PY_UNWIND
        return e

    def hold_tool(self):
        mon = self.mon
        if self.tool_held:
            return True
        try:
            mon.use_tool_id(mon.DEBUGGER_ID, "seam")
        except ValueError:
            return False  # another debugger holds it
        self.tool_held = True
        ev = mon.events
        mon.register_callback(mon.DEBUGGER_ID, ev.LINE, self.on_line)
        mon.register_callback(mon.DEBUGGER_ID, ev.PY_START, self.on_start)
        mon.register_callback(mon.DEBUGGER_ID, ev.PY_RETURN, self.on_return)
        mon.register_callback(mon.DEBUGGER_ID, ev.PY_YIELD, self.on_return)
        mon.register_callback(mon.DEBUGGER_ID, ev.CALL, self.on_call)
        mon.register_callback(mon.DEBUGGER_ID, ev.RAISE, self.on_raise)
        mon.register_callback(mon.DEBUGGER_ID, ev.PY_UNWIND, self.on_unwind)
        return True

    def release_tool(self):
        mon = self.mon
        if not self.tool_held:
            return
        mon.set_events(mon.DEBUGGER_ID, 0)
        ev = mon.events
        for e in (ev.LINE, ev.PY_START, ev.PY_RETURN, ev.PY_YIELD, ev.CALL, ev.RAISE, ev.PY_UNWIND):
            mon.register_callback(mon.DEBUGGER_ID, e, None)
        mon.free_tool_id(mon.DEBUGGER_ID)
        self.tool_held = False

    def local_events(self, code):
        """The LINE events of breakpoints and the step's events, for one code object."""
        ev = self.mon.events.LINE if code in self.instrumented else 0
        if self.step is not None:
            ev |= self.step.codes.get(code, 0)
        return ev

    def instrument(self, code):
        self.instrumented.add(code)
        self.mon.set_local_events(self.mon.DEBUGGER_ID, code, self.local_events(code))

    def on_start(self, code, offset):
        step = self.step
        if step is not None and step.kind == "in" and step.thread == _get_ident() and code.co_filename != _HERE:
            step.add_code(self, code, self.mon.events.LINE)
            return None
        if code not in self.instrumented and self.holds_breakpoint(code):
            self.instrument(code)
        return None if step is not None else self.mon.DISABLE

    def on_line(self, code, line):
        lines = self.lines_for(code)
        bps = lines.get(line) if lines else None
        step = self.step
        if step is None:
            if not bps:
                return self.mon.DISABLE
            self.hit(sys._getframe(1), bps)
            return None
        frame = sys._getframe(1)
        if bps and self.hit(frame, bps):
            return None  # a breakpoint stopped: it wins over the step
        if step is self.step and step.thread == _get_ident() and step.stops_at(frame):
            self.step_done(frame)
        return None

    def on_return(self, code, offset, value):
        step = self.step
        if step is not None and step.thread == _get_ident():
            step.returned(self, sys._getframe(1))
        return None

    def on_call(self, code, offset, callable, arg0):
        step = self.step
        if step is not None and step.kind == "in" and step.thread == _get_ident() and sys._getframe(1) is step.frame:
            self.native_call(callable, arg0)
        return None

    def on_raise(self, code, offset, exc):
        self.raised(sys._getframe(1), exc)

    def on_unwind(self, code, offset, exc):
        frame = sys._getframe(1)
        if self.is_top(frame):
            self.uncaught(frame, exc)

    def apply_settrace(self):
        import threading

        if self.cp is not None:
            self.apply_patches()
        mine = self.stepping_here()
        if not self.exc_filters and (self.cp is not None and not self.unhooked or not self.by_file):
            # no trace function (hooks in the code find the breakpoints), but for the frames
            # of this thread already running code that holds breakpoint lines without hooks
            threading.settrace(None)
            self.tracing = False
            if not mine:
                self.restore_trace()
            if self.cp is not None:
                self.arm_running(sys._getframe(1))  # (with no breakpoint: takes back its tracer)
                self.arm_other_threads(_NO_CALL_TRACE)
            return
        threading.settrace(self.global_trace)
        if not mine:
            sys.settrace(self.global_trace)
        self.tracing = True
        # Frames already running, in this thread and the others.
        self.arm_frames(sys._getframe(1))
        self.arm_other_threads(self.global_trace)

    # ---- 3.10/3.11: breakpoint hooks in code objects ----
    def apply_patches(self):
        """Every function's code gets hooks at the breakpoint lines it holds (and loses those of
        breakpoints gone): its next calls, in any thread, call bp_line there."""
        import gc

        memo = {}
        by_file = self.by_file
        function = type(_norm)
        for o in gc.get_objects():
            if type(o) is not function:
                continue
            code = o.__code__
            known = self.originals.get(id(code))
            orig = known[1] if known is not None and known[0] is code else code
            if orig is code and (not by_file or not self.lines_for(code)):
                continue
            new = self.patched(orig, memo) if by_file else orig
            if new is not code:
                try:
                    o.__code__ = new
                except (TypeError, ValueError):
                    pass
        if by_file and not self.import_patched:
            self.import_patched = _patch_imports(self)
        if by_file and not self.audit_hooked:
            self.audit_hooked = True
            try:
                sys.addaudithook(self.on_audit)
            except Exception:  # noqa: BLE001  (a program's own audit hook may refuse new ones)
                pass

    def on_audit(self, event, args):
        """Code run by exec() without hooks (a module loaded by a loader of its own, as pytest's):
        traced in its thread until it returns, then the functions it made get their hooks."""
        if event != "exec" or not self.by_file:
            return
        try:
            code = args[0]
            if type(code) is not type(_norm.__code__) or id(code) in self.originals or not self.needs_hooks(code):
                return
            self.execs.setdefault(_get_ident(), []).append(code)
            if not self.stepping_here():
                sys.settrace(self.global_trace)
        except Exception:  # noqa: BLE001  (an audit hook that raises would stop the exec)
            pass

    def needs_hooks(self, code):
        lines = self.lines_for(code)
        if not lines:
            return False
        if any(line in lines for _, _, line in code.co_lines()):
            return True
        return any(self.needs_hooks(c) for c in code.co_consts if type(c) is type(code))

    def patched(self, code, memo=None):
        """`code` with hooks at its breakpoint lines (and its nested code's); `code` itself when
        it holds none or the hooks cannot be written (it is then traced: see holds_breakpoint)."""
        if not self.by_file or self.lines_for(code) is None:
            return code
        try:
            new = self.cp.patch(code, self.lines_for, self.hook, {} if memo is None else memo)
        except Exception as e:  # noqa: BLE001  (an unknown bytecode shape: tracing still finds it)
            self.log(f"Seam could not hook breakpoints into {code.co_name} ({code.co_filename}): {type(e).__name__}: {e}; they are traced instead (slower)")
            self.unhooked = True
            return code
        if new is not code:
            self.originals[id(new)] = (new, code)
        return new

    def arm_running(self, frame):
        """Frames of this thread already running code whose breakpoint lines have no hook: a
        local tracer, with a trace function in C for the thread (kept until they return)."""
        armed = self.arm_frames(frame, watch=False)
        ident = _get_ident()
        if armed:
            self.armed[ident] = armed
        else:
            self.armed.pop(ident, None)
        if not self.stepping_here():
            self.restore_trace()

    def arm_frames(self, frame, watch=True):
        """Running frames (innermost `frame` outwards) that hold breakpoint lines get a local
        tracer, and (`watch`) those the exception filters watch one without line events;
        returns the ids of the frames armed."""
        armed = set()
        while frame is not None:
            if frame.f_code.co_filename != _HERE and self.holds_breakpoint(frame.f_code):
                frame.f_trace = self.local_trace
                frame.f_trace_lines = True
                armed.add(id(frame))
            elif watch and self.watch_exceptions(frame):
                frame.f_trace = self.local_trace
                frame.f_trace_lines = False
                armed.add(id(frame))
            frame = frame.f_back
        return armed

    def arm_other_threads(self, trace):
        """3.10/3.11: the other threads' running frames that hold breakpoint lines no hook
        covers (a loop in a frame that never returns) get a local tracer, and each such thread
        without a trace function gets `trace` (through _PyEval_SetTrace, which sets another
        thread's; the GIL is held), kept until those frames return (see local_trace) or no
        longer hold a breakpoint (then this takes both back)."""
        if not self.armed and not self.by_file:
            return
        setter = self.thread_tracer()
        if setter is None:
            return
        me = _get_ident()
        step = self.step
        try:
            states = setter.threads()
            for ident, top in sys._current_frames().items():
                ts = states.get(ident)
                if ident == me or ts is None or (step is not None and step.thread == ident):
                    continue
                armed = self.arm_frames(top)
                before = self.armed.get(ident)
                if before:
                    frame = top
                    while frame is not None:
                        if id(frame) in before and id(frame) not in armed and frame.f_trace == self.local_trace:
                            frame.f_trace = None
                        frame = frame.f_back
                if armed:
                    self.armed[ident] = armed
                    setter.set_if_none(ts, trace)
                elif before is not None:
                    self.armed.pop(ident, None)
                    setter.clear_if(ts, _NO_CALL_TRACE)
        except Exception as e:  # noqa: BLE001  (those threads then see them at their next call)
            self.log(f"Seam could not trace the program's other threads ({type(e).__name__}: {e}); their running functions see new breakpoints once they return")
            self.tracer = False

    def begins_of(self, code):
        """3.10/3.11: where lines begin in `code` (seam_codepatch.begins), once per code object."""
        got = self.begins_cache.get(code)
        if got is None:
            try:
                got = self.cp.begins(code)
            except Exception:  # noqa: BLE001  (an unknown bytecode shape: every event is a line's)
                got = _EVERY_OFFSET
            self.begins_cache[code] = got
        return got

    def thread_tracer(self):
        """The _ThreadTracer, made once; None where it cannot be (no ctypes, an unknown layout)."""
        t = self.tracer
        if t is None:
            try:
                t = _ThreadTracer()
            except Exception:  # noqa: BLE001
                t = False
            self.tracer = t
        return t or None

    def restore_trace(self):
        """This thread's trace function once a step in it ends or tracing changes."""
        if self.tracing or (self.cp is None or self.unhooked) and self.by_file or self.execs.get(_get_ident()):
            sys.settrace(self.global_trace)
        elif self.armed.get(_get_ident()):
            sys.settrace(_NO_CALL_TRACE)
        else:
            sys.settrace(None)

    def bp_line(self, line, frame):
        """Called by the hooks patched into code (3.10/3.11) where a breakpoint line begins
        (`frame`: the frame running it): what a 'line' trace event does there."""
        try:
            self.line_begins(frame, line)
        except Exception:  # noqa: BLE001  (never into the program)
            pass

    def line_begins(self, frame, line):
        """3.10/3.11, `line` begins in `frame` (a hook or a 'line' trace event): its breakpoints,
        else the step of this thread."""
        lines = self.lines_for(frame.f_code)
        bps = lines.get(line) if lines else None
        stopped = bool(bps) and self.hit(frame, bps)
        step = self.step
        if not stopped and step is not None and step.thread == _get_ident() and step.stops_at(frame):
            self.step_done(frame)

    def stepping_here(self):
        """A step runs in this thread (its trace function is the step's)."""
        return self.step is not None and self.step.thread == _get_ident()

    def global_trace(self, frame, event, arg):
        if event != "call":
            return None
        step = self.step
        if step is not None and step.kind == "in" and step.thread == _get_ident() and frame.f_code.co_filename != _HERE:
            return self.local_trace
        if self.holds_breakpoint(frame.f_code):
            return self.local_trace
        execs = self.execs.get(_get_ident())
        if execs and frame.f_code is execs[-1]:
            frame.f_trace_lines = False  # only its 'return': then its functions get hooks
            return self.local_trace
        if not self.exc_filters:
            return None
        if self.only_uncaught() and self.is_outermost(frame):
            # The thread's outermost program frame is here: it alone needs events, and a trace
            # function written in C costs each later call far less than this one does.
            sys.settrace(_NO_CALL_TRACE)
        if self.watch_exceptions(frame):
            frame.f_trace_lines = False  # 'exception' and 'return' events only
            return self.local_trace
        return None

    def only_uncaught(self):
        """3.10/3.11: only the uncaught filter needs tracing (no breakpoint, step or "raised")."""
        return not self.by_file and self.step is None and self.exc_filters == {"uncaught"}

    def watch_exceptions(self, frame):
        """3.10/3.11: frames whose 'exception' / 'return' events the filters need."""
        if "raised" in self.exc_filters and self.user_code(frame.f_code):
            return True
        return "uncaught" in self.exc_filters and self.is_top(frame)

    def local_trace(self, frame, event, arg):
        if event == "line":
            if self.cp is not None:
                if frame.f_lasti in self.cp.starts(frame.f_code):
                    return self.local_trace  # a hook begins here: it does what this event would
                if frame.f_lasti not in self.begins_of(frame.f_code):
                    return self.local_trace  # a backward jump within the line: it goes on
            self.line_begins(frame, frame.f_lineno)
        elif event == "return":
            step = self.step
            if step is not None and step.thread == _get_ident():
                step.returned(self, frame)
            armed = self.armed.get(_get_ident())
            if armed and id(frame) in armed:
                armed.discard(id(frame))
                if not armed and not self.stepping_here():
                    self.restore_trace()
            execs = self.execs.get(_get_ident())
            if execs and frame.f_code is execs[-1]:
                execs.pop()
                self.apply_patches()
                if not self.stepping_here():
                    self.restore_trace()
            last = self.exc_last.pop(id(frame), None)
            if last is not None and "uncaught" in self.exc_filters and self.unwinding(frame):
                self.uncaught(frame, *last)
        elif event == "exception":
            exc = arg[1]
            if self.exc_filters and "uncaught" in self.exc_filters and self.is_top(frame):
                self.exc_last[id(frame)] = (exc, arg[2])
            if "raised" in self.exc_filters:
                self.raised(frame, exc, arg[2])  # (3.10: exc.__traceback__ is not set yet)
        return self.local_trace

    @staticmethod
    def unwinding(frame):
        """3.10/3.11, at a 'return' event: the frame ends by an exception (its last instruction
        is not a RETURN_VALUE)."""
        import dis

        code = frame.f_code.co_code
        i = frame.f_lasti
        return not (0 <= i < len(code) and code[i] == dis.opmap["RETURN_VALUE"])

    def profile(self, frame, event, arg):
        """3.10/3.11, during a step "in": the C function the stepped line calls."""
        if event == "c_call":
            step = self.step
            if step is not None and step.kind == "in" and step.thread == _get_ident() and frame is step.frame:
                self.native_call(arg, None)

    # ---- exceptions ----
    def user_code(self, code):
        """The program's own code: not the bootstrap, the standard library, site-packages or
        code without a file (`<frozen ...>`, `<string>`)."""
        fn = code.co_filename
        mine = self.user_cache.get(fn)
        if mine is None:
            mine = self.user_cache[fn] = fn != _HERE and not fn.startswith("<") and not _norm(fn).startswith(self.stdlib)
        return mine

    def is_top(self, frame):
        """The outermost frame of the program's own code in its thread: an exception leaving it
        is uncaught."""
        return self.user_code(frame.f_code) and self.is_outermost(frame)

    @staticmethod
    def is_outermost(frame):
        """The first frame the bootstrap, runpy or threading runs in a thread (the script's or
        module's `<module>`, a thread's target or overridden `run`)."""
        if frame.f_code.co_filename == _HERE or frame.f_globals.get("__name__") in ("runpy", "threading"):
            return False
        back = frame.f_back
        if back is None:
            return True
        runner = _RUNNERS.get(back.f_code.co_name)
        if runner == "threading":
            return back.f_globals.get("__name__") == runner
        # the script's or module's code, exec'd (not what the runner calls to set it up)
        return runner is not None and frame.f_code.co_name == "<module>" and (back.f_code.co_filename == _HERE if runner == "" else back.f_globals.get("__name__") == runner)

    def raised(self, frame, exc, tb=None):
        """An exception raised in (or into, from a C function) `frame`: stops on its first frame."""
        if self.exc_busy or isinstance(exc, _NOT_STOPPING) or not self.user_code(frame.f_code):
            return
        if tb is None:
            tb = getattr(exc, "__traceback__", None)
        if tb is not None and (tb.tb_next is not None or tb.tb_frame is not frame):
            return  # propagating (or re-raised): it stopped where it was raised
        self.exc_stop(frame, exc, EXC_RAISED, tb)

    def uncaught(self, frame, exc, tb=None):
        if self.exc_busy or isinstance(exc, SystemExit) or id(exc) == self.exc_seen:
            return
        self.exc_seen = id(exc)
        self.exc_stop(frame, exc, EXC_UNCAUGHT, tb)

    def exc_stop(self, frame, exc, kind, tb=None):
        """`tb`: the traceback so far (3.10/3.11 trace events pass it; exc.__traceback__ lags)."""
        if self.quiet:
            return
        self.exc_busy = True
        try:
            self.write_exception(exc, kind, tb or exc.__traceback__)
            if self.stepping_here():
                self.end_step()
            sys.audit(_EVENT, kind)  # the debugger stops here
        finally:
            self.exc_busy = False
        self.take_step(frame)

    def write_exception(self, exc, kind, tb):
        import json
        import traceback

        t = type(exc)
        try:
            message = str(exc)
        except Exception as e:  # a broken __str__
            message = f"<str() failed: {type(e).__name__}>"
        try:
            trace = "".join(traceback.format_exception(t, exc, tb))
        except Exception:
            trace = ""
        module = getattr(t, "__module__", None)
        info = {
            "kind": "raised" if kind == EXC_RAISED else "uncaught",
            "typeName": t.__qualname__,
            "fullTypeName": t.__qualname__ if module in (None, "builtins") else f"{module}.{t.__qualname__}",
            "message": message,
            "stackTrace": trace,
        }
        try:
            with open(self.control + ".exc", "w", encoding="utf-8") as f:
                json.dump(info, f)
        except OSError:
            pass

    # ---- steps ----
    def begin_step(self, frame, kind, seq):
        step = self.step = _Step(frame, kind, seq)
        if self.mon is not None:
            if not self.hold_tool():
                self.step = None
                return
            ev = self.mon.events
            step.add_code(self, frame.f_code, ev.LINE | ev.PY_RETURN | ev.PY_YIELD | (ev.CALL if kind == "in" else 0))
            self.mon.set_events(self.mon.DEBUGGER_ID, self.global_events())
            self.mon.restart_events()  # lines disabled while no step ran (DISABLE) fire again
        else:
            sys.settrace(self.global_trace)
            frame.f_trace = self.local_trace
            frame.f_trace_lines = True
            if kind == "in":
                step.profiling = True
                sys.setprofile(self.profile)

    def end_step(self):
        step, self.step = self.step, None
        if step is None:
            return
        if self.mon is not None:
            for code in step.codes:
                try:
                    self.mon.set_local_events(self.mon.DEBUGGER_ID, code, self.local_events(code))
                except ValueError:
                    pass
            if not self.by_file and not self.exc_filters:
                self.release_tool()
            else:
                self.mon.set_events(self.mon.DEBUGGER_ID, self.global_events())
        else:
            if step.profiling:
                sys.setprofile(None)
            if step.thread == _get_ident():
                self.restore_trace()

    def cancelled(self, step):
        """The adapter ended the step (a continue, or a stop elsewhere) since it began."""
        self.refresh(force=True)
        if self.step_seq != step.seq:
            if self.step is step:
                self.end_step()
            return True
        return False

    def step_done(self, frame):
        step = self.step
        if self.quiet or self.cancelled(step):
            return
        self.end_step()
        sys.audit(_EVENT, STEP_DONE)  # the debugger stops here
        self.take_step(frame)

    def native_call(self, func, arg0):
        """A step "in" reaches a call of a C function: the debugger breaks in it, then the step
        goes on as "over" (a step out of the C function ends at this frame's next line)."""
        step = self.step
        if type(func).__name__ not in ("builtin_function_or_method", "method_descriptor", "wrapper_descriptor", "classmethod_descriptor"):
            return
        if self.quiet or self.cancelled(step):
            return
        step.kind = "over"
        if self.mon is not None:
            ev = self.mon.events
            step.add_code(self, step.frame.f_code, ev.LINE | ev.PY_RETURN | ev.PY_YIELD, replace=True)
        else:
            step.profiling = False
            sys.setprofile(None)
        sys.audit(_EVENT, STEP_NATIVE, func)  # the debugger sets a breakpoint in the C function

    # ---- a breakpoint line is reached ----
    def hit(self, frame, bps):
        if self.quiet:
            return False
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
        if stop is None:
            return False
        if self.stepping_here():
            self.end_step()  # a breakpoint during a step wins
        sys.audit(_EVENT, stop.id)  # the debugger stops here
        self.take_step(frame)  # (re-reads the control file: breakpoints set while stopped apply)
        return True

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


class _ThreadTracer:
    """3.10/3.11: sets another thread's trace function (3.12's threading.settrace_all_threads
    does not exist there), through CPython's exported _PyEval_SetTrace(tstate, func, arg). `func`
    is sys.settrace's C trampoline, found by setting a trace and a profile function on this
    thread and looking for both objects, side by side, among its PyThreadState's first words
    (c_profilefunc, c_tracefunc, c_profileobj, c_traceobj in 3.10 and 3.11); the same search
    gives c_traceobj's place, to leave a thread alone that has a trace function already, and
    thread_id's (the word that is this thread's ident), to tell the threads apart."""

    def __init__(self):
        import ctypes

        api = ctypes.pythonapi
        vp = ctypes.c_void_p
        for name, res, args in (
            ("PyThreadState_Get", vp, []),
            ("PyInterpreterState_Get", vp, []),
            ("PyInterpreterState_ThreadHead", vp, [vp]),
            ("PyThreadState_Next", vp, [vp]),
            ("_PyEval_SetTrace", ctypes.c_int, [vp, vp, vp]),  # it takes its own reference
        ):
            f = getattr(api, name)
            f.restype = res
            f.argtypes = args
        self.api = api
        self.words = ctypes.c_void_p * 64
        profile = (1).__init__
        old_trace, old_profile = sys.gettrace(), sys.getprofile()
        sys.setprofile(profile)
        sys.settrace(_NO_CALL_TRACE)
        try:
            w = self.words.from_address(api.PyThreadState_Get())
            found = [k for k in range(3, 64) if w[k] == id(_NO_CALL_TRACE) and w[k - 1] == id(profile) and w[k - 2] and w[k - 3] and w[k - 2] != w[k - 3]]
            ident = [k for k in range(64) if w[k] == _get_ident()]
            if len(found) != 1 or len(ident) != 1:
                raise RuntimeError("PyThreadState layout not recognised")
            self.trampoline, self.traceobj, self.thread_id = w[found[0] - 2], found[0], ident[0]
        finally:
            sys.settrace(old_trace)
            sys.setprofile(old_profile)

    def threads(self):
        """{thread ident: its PyThreadState's address}."""
        api = self.api
        out = {}
        ts = api.PyInterpreterState_ThreadHead(api.PyInterpreterState_Get())
        while ts:
            out[self.words.from_address(ts)[self.thread_id]] = ts
            ts = api.PyThreadState_Next(ts)
        return out

    def set_if_none(self, ts, trace):
        if not self.words.from_address(ts)[self.traceobj]:
            self.api._PyEval_SetTrace(ts, self.trampoline, id(trace))

    def clear_if(self, ts, trace):
        if self.words.from_address(ts)[self.traceobj] == id(trace):
            self.api._PyEval_SetTrace(ts, None, None)


class _Hook:
    """The callable in the constants of patched code (3.10/3.11): the controller's bp_line for the
    calling frame. Pickled (cloudpickle sends a __main__ function's code by value to other
    processes) it becomes `int`, which the hook then calls harmlessly."""

    __slots__ = ("ctl",)

    def __init__(self, ctl):
        self.ctl = ctl

    def __call__(self, line):
        self.ctl.bp_line(line, sys._getframe(1))

    def __reduce__(self):
        return (type, (0,))


class _Step:
    """One step of one thread: the frame it watches and, on 3.12+, the code objects it gave
    events to (code -> events)."""

    __slots__ = ("frame", "kind", "seq", "thread", "codes", "profiling")

    def __init__(self, frame, kind, seq):
        self.frame = frame
        self.kind = kind
        self.seq = seq
        self.thread = _get_ident()
        self.codes = {}
        self.profiling = False

    def add_code(self, ctl, code, events, replace=False):
        self.codes[code] = events if replace else self.codes.get(code, 0) | events
        ctl.mon.set_local_events(ctl.mon.DEBUGGER_ID, code, ctl.local_events(code))

    def apply(self, ctl):
        for code in self.codes:
            ctl.mon.set_local_events(ctl.mon.DEBUGGER_ID, code, ctl.local_events(code))

    def stops_at(self, frame):
        """A new line in `frame`: over/out stop in the watched frame only (out once it returned);
        in stops in any frame of the program."""
        if frame is self.frame:
            return self.kind != "out"
        return self.kind == "in" and frame.f_code.co_filename != _HERE

    def returned(self, ctl, frame):
        """`frame` returns (or yields): from the watched frame, the step goes on in its caller."""
        if frame is not self.frame:
            return
        caller = frame.f_back
        if caller is None or caller.f_code.co_filename == _HERE or caller.f_globals.get("__name__") == "runpy":
            ctl.end_step()  # back in the bootstrap: the program ends
            return
        self.frame = caller
        if self.kind == "out":
            self.kind = "over"
        if ctl.mon is not None:
            ev = ctl.mon.events
            self.add_code(ctl, caller.f_code, ev.LINE | ev.PY_RETURN | ev.PY_YIELD)
        else:
            caller.f_trace = ctl.local_trace
            caller.f_trace_lines = True


def _load_codepatch():
    """seam_codepatch.py beside this file (3.10/3.11), not put in sys.modules; None when it
    cannot serve this interpreter (sys.settrace then finds breakpoint code)."""
    try:
        import importlib.util

        path = os.path.join(os.path.dirname(_HERE), "seam_codepatch.py")
        spec = importlib.util.spec_from_file_location("_seam_codepatch", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod if mod.supported() else None
    except Exception:  # noqa: BLE001
        return None


# The loader method every source import goes through, wrapped so that a module's code gets its
# breakpoint hooks before it runs. Compiled under importlib's own file name: CPython removes its
# frames from import tracebacks (a SyntaxError in an imported module reads as without Seam).
_GET_CODE = """
def get_code(self, fullname):
    code = _get_code(self, fullname)
    if code is not None and _ctl.by_file:
        code = _ctl.patched(code)
    return code
"""


def _patch_imports(ctl):
    """3.10/3.11: modules imported from now on get their hooks as they load. True when done."""
    try:
        ext = sys.modules.get("_frozen_importlib_external")
        if ext is None:
            import importlib._bootstrap_external as ext
        cls = ext.SourceLoader
        original = cls.__dict__["get_code"]
        ns = {"_get_code": original, "_ctl": ctl}
        exec(compile(_GET_CODE, "<frozen importlib._bootstrap_external>", "exec"), ns)
        get_code = ns["get_code"]
        get_code.__qualname__ = original.__qualname__
        get_code.__doc__ = original.__doc__
        cls.get_code = get_code
        return True
    except Exception:  # noqa: BLE001  (imports stay as they are: their code is traced instead)
        return False


def _hide_own_frames(tb):
    """The traceback without the bootstrap's and runpy's frames at its top."""
    while tb is not None and (tb.tb_frame.f_code.co_filename == _HERE or tb.tb_frame.f_globals.get("__name__") == "runpy"):
        tb = tb.tb_next
    return tb


def _run_script(path, ctl=None):
    """What `python SCRIPT` does: a fresh __main__ module, the script's code run in it (3.10/3.11:
    with its breakpoint hooks)."""
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
    code = compile(source, path, "exec", dont_inherit=True)
    if ctl is not None and ctl.cp is not None:
        code = ctl.patched(code)
    exec(code, main.__dict__)


_attached = None


def _publish_thread_names(path):
    """Keeps PATH (JSON {native_id: name}) up to date with the program's `threading` names, for
    the adapter's Threads view (the OS names are 15 bytes and rarely set): rewritten atomically
    when a thread starts and when a name changes. Costs one small file write per thread start."""
    import json
    import threading

    def write():
        try:
            names = {str(t.native_id): t.name for t in threading.enumerate() if getattr(t, "native_id", None)}
            tmp = path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(names, f)
            os.replace(tmp, path)
        except Exception:  # noqa: BLE001  (names are a nicety: never disturb the program)
            pass

    set_native_id = getattr(threading.Thread, "_set_native_id", None)
    if set_native_id is not None:
        def _set_native_id(self):
            set_native_id(self)
            write()

        threading.Thread._set_native_id = _set_native_id
    name = threading.Thread.__dict__.get("name")
    if isinstance(name, property) and name.fset is not None:
        def _set_name(self, value):
            name.fset(self, value)
            write()

        threading.Thread.name = property(name.fget, _set_name, name.fdel, name.__doc__)
    write()


def attach(control):
    """After an attach: Seam's debugger makes the program call this on its main thread (a pending
    call, see src/debug/adapter/pythonAttach.ts), with the session's control file. From here on
    it is as on launch: breakpoints, exceptions and steps from the control file (3.10/3.11: the
    frames already running code with breakpoint lines, in every thread, trace until they
    return)."""
    global _attached
    if _attached is not None:
        _attached.refresh(force=True)
        return
    ctl = _Controller(control)
    _attached = ctl
    ctl.refresh(force=True)
    ctl.publish_hooks()
    _publish_thread_names(control + ".threads")
    ctl.start_polling()


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
        ctl.publish_hooks()
        _publish_thread_names(control + ".threads")
        ctl.start_polling()
    if argv[0] == "-m":
        module = argv[1]
        sys.argv = [argv[1], *argv[2:]]  # runpy puts the module's path in argv[0]
        sys.path[0] = os.getcwd()
        run = lambda: runpy.run_module(module, run_name="__main__", alter_sys=True)  # noqa: E731
    else:
        sys.argv = list(argv)
        script = os.path.abspath(argv[0])  # __file__ and co_filename, as `python SCRIPT` sets them
        sys.path[0] = os.path.dirname(os.path.realpath(script))
        run = lambda: _run_script(script, ctl)  # noqa: E731
    try:
        run()
        _record_exit(control, 0)
    except SystemExit as e:
        _record_exit(control, e.code if isinstance(e.code, int) else 0 if e.code is None else 1)
        raise
    except BaseException as e:  # as `python SCRIPT` would print it, without our frames
        tb = _hide_own_frames(e.__traceback__)
        e.with_traceback(tb)
        if isinstance(e, KeyboardInterrupt):
            raise
        sys.excepthook(type(e), e, tb)
        _record_exit(control, 1)
        raise SystemExit(1)


def _record_exit(control, code):
    """The exit status the program's main code ends with, in CONTROL + ".exit": a debugger that
    loses the status (lldb-vscode under load reports -1) can be told it. Not for os._exit or a
    death by signal, which the debugger sees itself."""
    if not control:
        return
    try:
        with open(control + ".exit", "w", encoding="utf-8") as f:
            f.write(str(code & 0xFF))
    except Exception:  # noqa: BLE001
        pass


if __name__ == "__main__":
    _main()
