"""What the script can do behind the recorder's back, and how the recorder keeps track:

  os._exit(n)         skips atexit: the final flush runs first (nothing is lost)
  os.execv/execve     (and the execl*/execvp* that call them) replace the program: what was
                      recorded is written, with an end record naming the exec
  sys.setprofile, threading.setprofile (setprofile back-ends), sys.monitoring calls on the
                      recorder's tool id (sys.monitoring back-ends): recording stops on that
                      thread or for that tool; the call is noted with its time and place

Not seen: a profile function set from C on Python <= 3.11 (cProfile's enable(), other C
profilers) replaces the recorder's without a Python call; on 3.12+ cProfile uses its own
sys.monitoring tool id and both record.

Notes become warnings in the report. The wrappers are functions of this package, whose calls the
recorder never records.
"""

import os
import sys
import threading
from time import perf_counter_ns as _now

MAX_NOTES = 3


def install(rec):
    _guard_exits(rec)
    if rec.backend.startswith("setprofile"):
        _guard_setprofile(rec)
    elif rec.backend.startswith("sys.monitoring"):
        _guard_monitoring(rec)


def _since_start(rec):
    return "+%.3f s" % ((_now() - rec.t_start) / 1e9)


def _caller():
    try:
        f = sys._getframe(2)
        return "%s:%d" % (f.f_code.co_filename, f.f_lineno)
    except Exception:
        return "unknown place"


def _note(rec, text):
    rec.guard_notes = getattr(rec, "guard_notes", 0) + 1
    if rec.guard_notes <= MAX_NOTES:
        rec.warnings.append(text)


def _wraps(real, wrapper):
    for attr in ("__name__", "__qualname__", "__doc__"):
        try:
            setattr(wrapper, attr, getattr(real, attr))
        except Exception:
            pass
    wrapper.__wrapped__ = real
    return wrapper


# ---- ends of the process that skip atexit ---------------------------------------------------


def _guard_exits(rec):
    real_exit = os._exit

    def _exit(status):
        try:
            rec.finish("os._exit(%s)" % (status,))
        except BaseException:
            pass
        real_exit(status)

    os._exit = _wraps(real_exit, _exit)
    for name in ("execv", "execve"):
        real = getattr(os, name, None)
        if real is not None:
            setattr(os, name, _wraps(real, _exec_wrapper(rec, name, real)))


def _exec_wrapper(rec, name, real):
    def exec_(path, args, *rest):
        try:
            shown = os.fsdecode(path)
        except Exception:
            shown = repr(path)
        try:
            rec.before_exec("os.%s(%r)" % (name, shown))
        except BaseException:
            pass
        return real(path, args, *rest)

    return exec_


# ---- another profiler taking over -----------------------------------------------------------


def _guard_setprofile(rec):
    sys.setprofile = _wraps(
        sys.setprofile,
        _setprofile_wrapper(rec, "sys.setprofile", sys.setprofile, "InferScope's recording of that thread's Python calls stopped there"),
    )
    threading.setprofile = _wraps(
        threading.setprofile,
        _setprofile_wrapper(rec, "threading.setprofile", threading.setprofile, "Python calls of threads started after it were not recorded"),
    )


def _setprofile_wrapper(rec, name, real, effect):
    def setprofile(function):
        # A new threading.Thread installs threading's hook, InferScope's own first_event: not the script's doing
        own = function is not None and function is getattr(rec, "_first_event", None)
        if not own and not rec.stopping and not rec.done:
            shown = "None" if function is None else getattr(function, "__qualname__", type(function).__name__)
            _note(rec, "the script called %s(%s) at %s (%s): %s" % (name, shown, _since_start(rec), _caller(), effect))
        return real(function)

    return setprofile


def _guard_monitoring(rec):
    M = sys.monitoring
    for name in ("set_events", "set_local_events", "register_callback", "free_tool_id", "clear_tool_id"):
        real = getattr(M, name, None)
        if real is not None:
            setattr(M, name, _wraps(real, _monitoring_wrapper(rec, name, real)))


def _monitoring_wrapper(rec, name, real):
    def call(tool_id, *args):
        if tool_id == rec.tool_id and not rec.stopping and not rec.done:
            _note(
                rec,
                "the script called sys.monitoring.%s() on InferScope's tool id %d at %s (%s): Python calls may not be recorded after it"
                % (name, tool_id, _since_start(rec), _caller()),
            )
        return real(tool_id, *args)

    return call
