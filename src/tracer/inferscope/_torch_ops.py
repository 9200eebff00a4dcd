"""torch ops (aten::*, record_function ranges) in the profiled process, without a CUPTI client.

PyTorch reports each op to the Intel ITT API while its profiler is in ITT state (what
torch.autograd.profiler.emit_itt turns on), and ITT's static part inside libtorch forwards the
calls to the collector library named by $INTEL_LIBITTNOTIFY64 when torch loads. InferScope's
shim is that collector (ffi/itt.c): it writes ops-<pid>.isc next to the Python events. Neither
Kineto nor CUPTI is involved, so InferScope's own CUPTI collector stays the only CUPTI client.

The ITT state is per thread: it is turned on for the thread that imports torch and for every
threading.Thread started afterwards (around its run), and off again before the thread ends (torch
warns about a callback still registered when a thread's state is destroyed). When the script
starts a torch profiler of its own on a thread, InferScope's state steps aside on that thread
and comes back when the script's profiler stops.

Op shapes (opShapes, opt-in): torch's ITT observer passes the op's name only, even with
record_shapes (enterITT ignores its report_input_shapes parameter), so with shapes the ops come
from torch's legacy CPU profiler state instead (ProfilerState.CPU with record_shapes: no Kineto,
no CUPTI either). It buffers each thread's events inside torch; when the thread's state is turned
off (thread end, the script's own profiler, finish) they are converted here into the ITT file's
words, the name being "aten::addmm\x01[[4, 16], [16, 32], []]" (src/collect/python-events.ts
splits it), with torch's clock (Unix time, in microseconds) moved onto CLOCK_MONOTONIC.
"""

import os
import sys
import threading

_state = {"rec": None, "lib": None, "path": None, "cfg": None, "on": threading.local(), "warned": False, "shapes": False, "windows": None, "since": 0, "ids": {}}
SHAPES_SEP = "\x01"
_CHUNK_WORDS = 65536


def install(rec, lib):
    """Arrange for torch ops to be recorded once torch is imported (now, if it already is)."""
    if _state["rec"] is not None:
        return
    _state["rec"] = rec
    _state["lib"] = lib
    _state["shapes"] = bool(rec.opts.get("opShapes", False))
    if _state["shapes"]:
        import time

        _state["windows"] = [(time.monotonic_ns(), bool(rec.live))]
    try:  # resolved now: ctypes' attribute lookup is Python code, recorded inside a window
        _state["capture"] = lib.is_itt_capture
    except AttributeError:
        _state["capture"] = None
    capture(rec.live)  # a window chosen before the ops collector was known (_window.py)
    _state["path"] = os.path.join(rec.dir, "ops-%d.isc" % os.getpid())
    if "torch" in sys.modules:
        rec.warnings.append("torch was imported before InferScope's tracer started: torch ops are not recorded")
        return
    sys.meta_path.insert(0, _TorchFinder())


def after_fork_in_child(rec):
    """A forked child that is followed: its own ops file (the forking thread keeps its ITT state)."""
    if _state["lib"] is None or _state["cfg"] is None:
        return
    _state["path"] = os.path.join(rec.dir, "ops-%d.isc" % os.getpid())
    if _state["shapes"]:  # the parent's events still buffered in torch are not the child's
        import time

        _state["since"] = time.monotonic_ns()
        _state["ids"] = {}
    _start_file()


def capture(on):
    """A capture window opened or closed: ops that begin outside one are not recorded."""
    fn = _state.get("capture")
    if fn is not None:
        fn(1 if on else 0)
    w = _state["windows"]
    if w is not None:
        import time

        w.append((time.monotonic_ns(), bool(on)))


def finish():
    """Turn the ITT state off on this thread and write the buffered ops (the recorder's finish)."""
    _disable_here()
    lib = _state["lib"]
    if lib is not None:
        try:
            lib.is_itt_stop()
        except Exception:
            pass


def records():
    lib = _state["lib"]
    if lib is None or _state["cfg"] is None:
        return 0
    try:
        return int(lib.is_itt_events())
    except Exception:
        return 0


class _TorchFinder(object):
    """A meta path finder that only watches `import torch`: it sets the ITT variables for the
    duration of the import (libtorch reads them when it loads) and turns ops on afterwards."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torch":
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        import importlib.util

        spec = importlib.util.find_spec("torch")
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        orig = loader.exec_module

        def exec_module(module):
            if _state["shapes"]:
                orig(module)
                _on_torch(module)
                return
            saved = _set_itt_env()
            try:
                orig(module)
                if saved is not None:
                    _load_collector(module)
            finally:
                _restore_env(saved)
            if saved is not None:
                _on_torch(module)

        loader.exec_module = exec_module
        return spec


_ITT_VARS = ("INTEL_LIBITTNOTIFY64", "INTEL_ITTNOTIFY_GROUPS")


def _set_itt_env():
    saved = {k: os.environ.get(k) for k in _ITT_VARS}
    if saved["INTEL_LIBITTNOTIFY64"]:
        _state["rec"].warnings.append("INTEL_LIBITTNOTIFY64 is set (another ITT collector, such as VTune): torch ops are not recorded")
        return None
    os.environ["INTEL_LIBITTNOTIFY64"] = _state["rec"].shim
    os.environ["INTEL_ITTNOTIFY_GROUPS"] = "structure"
    return saved


def _load_collector(torch):
    """ITT's static part reads the variables at the first ITT call, not when libtorch loads: make
    that call now, while they are set (a range nobody records yet)."""
    try:
        itt = torch._C._itt
        if itt.is_available():
            itt.rangePush("inferscope")
            itt.rangePop()
    except Exception:
        pass


def _restore_env(saved):
    if saved is None:
        return
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _on_torch(torch):
    rec = _state["rec"]
    shapes = _state["shapes"]
    try:
        from torch._C._profiler import ProfilerConfig, ProfilerState, _ExperimentalConfig

        if shapes:
            torch.autograd._enable_profiler_legacy  # noqa: B018 (present since torch 1.x)
        elif not torch._C._itt.is_available():
            rec.warnings.append("this torch build has no ITT support: torch ops are not recorded")
            return
        state = ProfilerState.CPU if shapes else ProfilerState.ITT
        _state["cfg"] = ProfilerConfig(state, shapes, False, False, False, False, _ExperimentalConfig())
    except Exception as e:
        rec.warnings.append("torch ops are not recorded (%s%s: %s)" % ("op shapes: " if shapes else "", type(e).__name__, e))
        return
    if not _start_file():
        return
    _wrap_profiler(torch)
    _wrap_threads()
    _enable_here()


def _start_file():
    try:
        ok = _state["lib"].is_itt_start(_state["path"].encode()) == 0
    except Exception:
        ok = False
    if not ok:
        _state["cfg"] = None
        _state["rec"].warnings.append("torch ops are not recorded: %s could not be opened" % _state["path"])
    return ok


def _enable_here():
    on = _state["on"]
    if _state["cfg"] is None or getattr(on, "v", False):
        return
    try:
        import torch

        if torch.autograd._profiler_enabled():
            return  # the script's own profiler runs on this thread
        if _state["shapes"]:
            torch.autograd._enable_profiler_legacy(_state["cfg"])
        else:
            torch.autograd._enable_profiler(_state["cfg"], set())
        on.v = True
    except Exception as e:
        if not _state["warned"]:
            _state["warned"] = True
            _state["rec"].warnings.append("torch ops not recorded on some threads (%s: %s)" % (type(e).__name__, e))


def _disable_here():
    on = _state["on"]
    if not getattr(on, "v", False):
        return
    on.v = False
    try:
        import torch

        if _state["shapes"]:
            _write_legacy(torch.autograd._disable_profiler_legacy())
        else:
            torch.autograd._disable_profiler()
    except Exception as e:
        if _state["shapes"] and not _state["warned"]:
            _state["warned"] = True
            _state["rec"].warnings.append("torch ops (with shapes) lost on a thread (%s: %s)" % (type(e).__name__, e))


def _write_legacy(lists):
    """This thread's events from torch's legacy CPU state → ops file chunks. Events on other
    threads that inherited the state (intra-op workers) are left out: their nesting is their own."""
    import array
    import time

    lib = _state["lib"]
    tid = threading.get_native_id()
    # torch's clock is Unix time: the offset to CLOCK_MONOTONIC now (no clock step assumed since)
    offset = time.monotonic_ns() - time.time_ns()
    since, windows, ids = _state["since"], _state["windows"], _state["ids"]
    for events in lists:
        if not events or events[0].name() != "__start_profile":
            continue
        words = array.array("q")
        kept = []  # per open op: was its begin kept
        wi = 0
        for e in events:
            kind = e.kind()
            if kind == "mark":
                continue
            ts = int(e.start_us() * 1000) + offset
            while wi + 1 < len(windows) and windows[wi + 1][0] <= ts:
                wi += 1
            inside = windows[wi][1] and ts >= since
            if kind == "push":
                kept.append(inside)
                if not inside:
                    continue
                key = (e.name(), str(e.shapes()))
                oid = ids.get(key)
                if oid is None:
                    oid = ids[key] = int(lib.is_itt_intern((key[0] + SHAPES_SEP + key[1]).encode()))
                words.append(oid << 3)
                words.append(ts)
            elif kind == "pop":
                if not kept or not kept.pop() or not inside:
                    continue  # the reader ends an op open at a window's close there
                words.append(1)
                words.append(ts)
            if len(words) >= _CHUNK_WORDS:
                _replay(lib, tid, words)
                words = array.array("q")
        if words:
            _replay(lib, tid, words)


def _replay(lib, tid, words):
    import ctypes

    addr, n = words.buffer_info()
    lib.is_itt_replay(tid, ctypes.c_void_p(addr), n)


def _wrap_threads():
    """threading.Thread started from now on run with ops on, and turn them off before ending
    (around _bootstrap_inner, so that subclasses overriding run() are covered too)."""
    Thread = threading.Thread
    orig = getattr(Thread, "_bootstrap_inner", None)
    if orig is None:
        return

    def _bootstrap_inner(self):
        _enable_here()
        try:
            orig(self)
        finally:
            _disable_here()

    Thread._bootstrap_inner = _bootstrap_inner


def _wrap_profiler(torch):
    """The script's own torch profiler (torch.profiler, autograd.profiler, emit_itt/emit_nvtx)
    cannot start on a thread where InferScope's ITT state is on: step aside while it runs."""
    try:
        mod = torch.autograd.profiler
        enable, disable = mod._enable_profiler, mod._disable_profiler
    except AttributeError:
        return
    on = _state["on"]

    def _enable_profiler(*a, **k):
        if getattr(on, "v", False):
            _disable_here()
            on.suspended = True
        return enable(*a, **k)

    def _disable_profiler(*a, **k):
        r = disable(*a, **k)
        if getattr(on, "suspended", False):
            on.suspended = False
            _enable_here()
        return r

    mod._enable_profiler = _enable_profiler
    mod._disable_profiler = _disable_profiler
