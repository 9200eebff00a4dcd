"""Stretches of a thread whose Python calls are not recorded: the script's imports (_imports.py)
and InferScope's own work that calls into other code: the tracer's set-up once recording has
begun, the final flush, naming a model's modules (_modules.py). Without it that work shows up as
the script's: stdlib calls (signal, ctypes, weakref, importlib) and torch's named_modules() in the
hot functions, at the start and end of every run; a burst of them once picked the steady-state
window of a short script.

begin() / end() nest per thread: only the outermost pair switches recording off and on.
  setprofile back-ends: the profile function is taken off the thread (and put back);
  sys.monitoring with the C hot path: its per-thread quiet flag (the callbacks still run, ~40 ns);
  sys.monitoring in pure Python: the thread's list is hidden from its (global) callbacks.
"""

import threading

from inferscope import _backends

_tl = threading.local()  # _thread._local: its attribute access runs no Python code
_switch = {"off": None, "on": None}


def setup(rec):
    """Chooses how to switch this back-end's recording off and on (after Recorder.install)."""
    if rec.backend.startswith("setprofile"):

        def off():
            if rec.c is not None:
                rec.c["unset_profile"]()
            else:
                _backends._sys_setprofile(None)  # the original: the guarded one would report it as the script's

        def on():
            if rec.c is not None:
                # Outside a capture window capture(1) puts the profile function back when one
                # opens (3.9 - 3.11); where it cannot (3.8), the profile function stays and checks a flag.
                if rec.live or not rec.capture_moves_profile:
                    rec.c["set_profile"]()
            else:
                rec._first_event_here()

    elif rec.backend == "sys.monitoring":
        # Its callbacks are global: the thread's list is hidden from them (they skip a None).
        tl = rec.tl

        def off():
            rec._info()  # the thread's list exists, to be put back
            tl.b = None

        def on():
            tl.b = tl.info.buf

    elif rec.c is not None and rec.backend != "none":
        quiet = rec.c["quiet"]

        def off():
            quiet(1)

        def on():
            quiet(0)

    else:
        off = on = None
    _switch["off"] = off
    _switch["on"] = on


def begin():
    n = getattr(_tl, "n", 0)
    _tl.n = n + 1
    if n == 0 and _switch["off"] is not None:
        _switch["off"]()


def end():
    n = getattr(_tl, "n", 0) - 1
    if n < 0:
        return
    _tl.n = n
    if n == 0 and _switch["on"] is not None:
        _switch["on"]()
