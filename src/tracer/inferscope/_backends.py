"""How Python calls reach the recorder (_tracer.Recorder): four back-ends, the fastest this
interpreter allows is installed (Recorder.backend names it):

  sys.monitoring+c  3.12+: the C callbacks of ffi/pytrace.c registered with sys.monitoring
  setprofile+c      before 3.12: the C profile function of ffi/pytrace.c
  sys.monitoring    3.12+ without the C hot path: Python callbacks (_install_monitoring)
  setprofile        otherwise: a per-thread Python closure (_make_profiler)

The C hot path keeps each thread's buffer in C and hands full chunks to Recorder.chunk_from_c;
the Python back-ends append to the thread's own list (Recorder.new_thread).

The Python callbacks below are hot (every Python call and return of the profiled program goes
through them, ~100 ns each): they repeat the same few lines (look the word up, find the thread's
list, append) inline instead of calling a shared helper, and bind what they use to local names.
"""

import os
import sys
import threading
from time import perf_counter_ns as _now

# The originals: _guards replaces sys.setprofile / threading.setprofile to notice the script
# taking the hook; the back-ends' own calls must not count as that.
_sys_setprofile = sys.setprofile
_threading_setprofile = threading.setprofile


def install(rec):
    """Load the C hot path if it can, then start recording Python calls (unless calls == "none")."""
    if rec.calls == "user":
        rec._libs()  # imports site/sysconfig now, not inside the first callback
    _load_c(rec)
    if rec.calls == "none":
        return
    monitoring = sys.version_info >= (3, 12) and hasattr(sys, "monitoring")
    if rec.c is not None:
        if monitoring and _install_monitoring_c(rec):
            return
        if not monitoring:
            _install_setprofile_c(rec)
            return
    if monitoring and _install_monitoring(rec):
        return
    _install_setprofile(rec)


def uninstall(rec):
    if rec.backend.startswith("sys.monitoring"):
        try:
            sys.monitoring.set_events(rec.tool_id, 0)
            sys.monitoring.free_tool_id(rec.tool_id)
        except Exception:
            pass
    elif rec.backend.startswith("setprofile"):
        _sys_setprofile(None)
        _threading_setprofile(None)
        # Other threads keep their closures (no way to reach them before 3.12), but they
        # only append to lists nobody reads any more.


# ---- the C hot path (ffi/pytrace.c) -------------------------------------------------------


def _load_c(rec):
    if not rec.shim or os.environ.get("_INFERSCOPE_PURE_PYTHON"):
        return
    if sys.implementation.name != "cpython" or hasattr(sys, "getobjects"):
        return  # another implementation, or a Py_TRACE_REFS build (other object layout)
    gil = getattr(sys, "_is_gil_enabled", None)
    if gil is not None and not gil():
        return  # free-threaded: the C side relies on the GIL
    intern = rec.intern_code

    def c_intern(code):
        frame = None
        if not hasattr(code, "co_qualname"):
            # Called from the C profile function: the frame being entered is the caller's.
            f = sys._getframe(1)
            if f.f_code is code:
                frame = f
        return intern(code, frame)

    try:
        import ctypes

        lib = ctypes.PyDLL(rec.shim)
        init = lib.is_pytrace_init
        init.restype = ctypes.py_object
        init.argtypes = [ctypes.py_object] * 4 + [ctypes.c_longlong, ctypes.c_int]
        disable = sys.monitoring.DISABLE if hasattr(sys, "monitoring") else None
        fns = init(c_intern, rec.chunk_from_c, rec.add_thread, disable, rec.cap, sys.version_info[1])
    except Exception as e:
        rec.warnings.append("the tracer's C hot path did not load (%s: %s): Python calls recorded in pure Python (slower)" % (type(e).__name__, e))
        return
    names = ["monitoring_start", "monitoring_end", "monitoring_throw", "monitoring_unwind", "set_profile", "unset_profile", "emit", "emit_attrs", "drain", "stop", "reset", "call_at_exit", "lost", "capture", "monitoring_call", "monitoring_c_return", "set_waits", "quiet"]
    rec.c = dict(zip(names, fns))
    if rec.policy == "spill":
        # The periodic flush, from the threads that record (the C side calls it): InferScope
        # adds no thread to the script's process.
        try:
            set_tick = lib.is_pytrace_set_tick
            set_tick.restype = ctypes.c_int
            set_tick.argtypes = [ctypes.py_object, ctypes.c_longlong]
            rec.ticks_from_c = set_tick(rec.checkpoint, int(rec.flush_interval_s * 1e9)) == 0
        except Exception:
            rec.ticks_from_c = False
    _set_waits(rec)
    emit = rec.c["emit"]
    emit_attrs = rec.c["emit_attrs"]

    def open_scope(word, attrs):
        if attrs:
            emit_attrs(word, attrs)
        else:
            emit(word)

    rec.open_scope = open_scope
    rec.close_scope = emit


def _set_waits(rec):
    """Tell the C hot path which builtins block (_waits.py): calls to them become waits."""
    from inferscope import _waits
    from inferscope._tracer import SHIFT

    try:
        table = [(fn, rec.name_id(name) << SHIFT, io) for fn, name, io in _waits.blocking_builtins()]
        rec.waits = rec.c["set_waits"](table, _waits.WAIT_MIN_NS, type(len), type(str.join), _waits.bound_cmethod_type()) > 0
    except Exception as e:
        rec.warnings.append("waits are not told apart from running (%s: %s)" % (type(e).__name__, e))


def _install_monitoring_c(rec):
    M = sys.monitoring
    E = M.events
    tool = _claim_tool(rec)
    if tool is None:
        return False
    c = rec.c
    M.register_callback(tool, E.PY_START, c["monitoring_start"])
    M.register_callback(tool, E.PY_RESUME, c["monitoring_start"])
    M.register_callback(tool, E.PY_RETURN, c["monitoring_end"])
    M.register_callback(tool, E.PY_YIELD, c["monitoring_end"])
    M.register_callback(tool, E.PY_THROW, c["monitoring_throw"])
    M.register_callback(tool, E.PY_UNWIND, c["monitoring_unwind"])
    events = E.PY_START | E.PY_RESUME | E.PY_RETURN | E.PY_YIELD | E.PY_THROW | E.PY_UNWIND
    if rec.waits:
        # Blocking builtins: CALL returns DISABLE at every other call site (ffi/pytrace.c).
        M.register_callback(tool, E.CALL, c["monitoring_call"])
        M.register_callback(tool, E.C_RETURN, c["monitoring_c_return"])
        M.register_callback(tool, E.C_RAISE, c["monitoring_c_return"])
        events |= E.CALL | E.C_RETURN | E.C_RAISE
    M.set_events(tool, events)
    rec.monitoring_events = events  # what a capture window switches back on (_window.py)
    rec.backend = "sys.monitoring+c"
    return True


def _install_setprofile_c(rec):
    set_profile = rec.c["set_profile"]
    start = rec.c["monitoring_start"]
    intern = rec.intern_code

    # Installed in every new threading.Thread: puts the C profile function in its place,
    # then records the call it was called for.
    def first_event(frame, event, arg):
        if not rec.live:  # outside a capture window: capture(1) installs it when one opens
            _sys_setprofile(None)
            return
        set_profile()
        if event == "call":
            intern(frame.f_code, frame)
            start(frame.f_code, 0)

    _threading_setprofile(first_event)
    set_profile()
    rec.backend = "setprofile+c"


# ---- pure Python ----------------------------------------------------------------------------


def _claim_tool(rec):
    M = sys.monitoring
    for t in (3, 4):
        try:
            M.use_tool_id(t, "inferscope")
            rec.tool_id = t
            return t
        except ValueError:
            continue
    rec.warnings.append("sys.monitoring tool ids 3 and 4 are taken (another profiler?): Python calls recorded with sys.setprofile instead")
    return None


def _install_monitoring(rec):
    M = sys.monitoring
    E = M.events
    tool = _claim_tool(rec)
    if tool is None:
        return False
    DISABLE = M.DISABLE
    codes_get = rec.codes.get
    ends_get = rec.ends.get
    intern = rec.intern_code
    tl = rec.tl
    new_thread = rec.new_thread
    cap = rec.cap
    full = rec.chunk_full
    now = _now

    # hot: inlined (see the module comment)
    def on_start(code, offset):
        w = codes_get(id(code))
        if w is None:
            w = intern(code)
        if not w:
            return DISABLE
        try:
            b = tl.b
        except AttributeError:
            b = new_thread().buf
        if b is None:  # a quiet stretch of this thread (_quiet.py)
            return
        if len(b) >= cap:
            full()
        b.append(w)
        b.append(now())

    def on_end(code, offset, retval):
        w = ends_get(id(code))
        if w is None:
            intern(code)
            w = ends_get(id(code))
        if not w:
            return DISABLE
        try:
            b = tl.b
        except AttributeError:
            b = new_thread().buf
        if b is None:
            return
        b.append(w)
        b.append(now())

    # PY_THROW and PY_UNWIND cannot be disabled per location: never return DISABLE there.
    def on_throw(code, offset, exc):
        w = codes_get(id(code))
        if w is None:
            w = intern(code)
        if w:
            try:
                b = tl.b
            except AttributeError:
                b = new_thread().buf
            if b is None:
                return
            if len(b) >= cap:
                full()
            b.append(w)
            b.append(now())

    def on_unwind(code, offset, exc):
        w = ends_get(id(code))
        if w:
            try:
                b = tl.b
            except AttributeError:
                b = new_thread().buf
            if b is None:
                return
            b.append(w)
            b.append(now())

    M.register_callback(tool, E.PY_START, on_start)
    M.register_callback(tool, E.PY_RESUME, on_start)
    M.register_callback(tool, E.PY_RETURN, on_end)
    M.register_callback(tool, E.PY_YIELD, on_end)
    M.register_callback(tool, E.PY_THROW, on_throw)
    M.register_callback(tool, E.PY_UNWIND, on_unwind)
    M.set_events(tool, E.PY_START | E.PY_RESUME | E.PY_RETURN | E.PY_YIELD | E.PY_THROW | E.PY_UNWIND)
    rec.backend = "sys.monitoring"
    return True


def _make_profiler(rec, b):
    codes_get = rec.codes.get
    ends_get = rec.ends.get
    intern = rec.intern_code
    cap = rec.cap
    full = rec.chunk_full
    now = _now

    # hot: inlined (see the module comment). setprofile reports generator resumes as "call" and
    # yields as "return", and a frame left by an exception as "return" too, so starts and ends
    # stay balanced.
    def profile(frame, event, arg):
        if not rec.live:  # outside a capture window (_window.py)
            return
        if event == "call":
            code = frame.f_code
            w = codes_get(id(code))
            if w is None:
                w = intern(code, frame)
            if w:
                if len(b) >= cap:
                    full()
                b.append(w)
                b.append(now())
        elif event == "return":
            w = ends_get(id(frame.f_code))
            if w:
                b.append(w)
                b.append(now())

    return profile


def _install_setprofile(rec):
    # Installed in every new threading.Thread: replaces itself by a closure over that
    # thread's own list, so the hot path needs no thread lookup.
    def first_event(frame, event, arg):
        info = rec._info()
        p = _make_profiler(rec, info.buf)
        _sys_setprofile(p)
        p(frame, event, arg)

    _threading_setprofile(first_event)
    _sys_setprofile(_make_profiler(rec, rec._info().buf))
    rec.backend = "setprofile"
