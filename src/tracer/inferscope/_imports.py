"""Imports as spans of their own, recorded cheaply.

`import torch` runs about a million Python calls: recorded one by one they make start-up several
times slower and fill most of the trace, while the report only needs how long each import took.
So the import machinery's entry point (importlib._bootstrap._find_and_load, which the
interpreter calls for every module not yet in sys.modules) is wrapped: each import becomes one
span named "import <module>" (file "<import>"), nested as imports nest, and the calls inside an
import are not recorded (_quiet.py): with sys.setprofile (Python <= 3.11) the profile function is
taken off the thread for the outermost import, which also spares that code the interpreter's
slower profiled mode; with sys.monitoring (3.12+) the C hot path is told to skip them (its
callbacks still run, at ~40 ns), and its pure-Python fallback's callbacks find no buffer.
Imports made by InferScope's own code get no span, and the calls inside them are not recorded
either.

The wrapper is compiled under importlib's own file name, so that the interpreter strips its
frame from tracebacks as it strips importlib's (an error raised while importing a module reads
exactly as without InferScope); the recorder is told never to record it.
"""

import os
import sys
import threading

from inferscope import _quiet

IMPORT_FILE = "<import>"
_PKG_DIR = os.path.dirname(os.path.abspath(__file__))
_IMPORTLIB_FILE = "<frozen importlib._bootstrap>"

_WRAPPER = '''
def _find_and_load(name, import_):
    if skip(name):
        tl.ours = getattr(tl, "ours", 0) + 1
        off()
        try:
            return orig(name, import_)
        finally:
            on()
            tl.ours -= 1
    depth = getattr(tl, "depth", 0)
    w = word(name)
    begin(w)
    tl.depth = depth + 1
    if depth == 0:
        off()
    try:
        return orig(name, import_)
    finally:
        if depth == 0:
            on()
        tl.depth = depth
        end(w)
'''


def _by_tracer():
    """Whether the import was asked for by InferScope's own code (not the script's start-up)."""
    f = sys._getframe(1)  # the wrapper
    f = f.f_back if f is not None else None  # whoever called it: the importer, or importlib
    while f is not None and f.f_code.co_filename.startswith("<frozen importlib"):
        f = f.f_back
    return f is not None and f.f_code.co_filename.startswith(_PKG_DIR)


def install(rec):
    boot = sys.modules.get("importlib._bootstrap") or sys.modules.get("_frozen_importlib")
    if boot is None or not hasattr(boot, "_find_and_load") or rec.calls == "none":
        return False
    orig = boot._find_and_load
    tl = threading.local()
    c = rec.c
    words = {}

    def word(name):
        w = words.get(name)
        if w is None:
            w = words[name] = rec.intern_named("import " + name, IMPORT_FILE)
        return w

    def skip(name):
        if getattr(tl, "ours", 0) or name.startswith("inferscope"):
            return True
        try:
            return _by_tracer()
        except Exception:
            return False

    if c is not None:
        emit = c["emit"]

        def begin(w):
            emit(w)

        def end(w):
            emit(w | 1)

    else:

        def begin(w):
            rec.open_scope(w, None)

        def end(w):
            rec.close_scope(w | 1)

    ns = {"orig": orig, "tl": tl, "skip": skip, "word": word, "begin": begin, "end": end, "off": _quiet.begin, "on": _quiet.end, "getattr": getattr}
    exec(compile(_WRAPPER, _IMPORTLIB_FILE, "exec"), ns)
    wrapper = ns["_find_and_load"]
    rec.never_record(wrapper.__code__)
    wrapper.__wrapped__ = orig
    boot._find_and_load = wrapper
    rec.finish_hooks.append(lambda: setattr(boot, "_find_and_load", orig))
    return True

