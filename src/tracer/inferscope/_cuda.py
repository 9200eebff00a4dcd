"""GPU side inside the profiled process.

The CUDA driver loads InferScope's shim at cuInit (CUDA_INJECTION64_PATH) and CUPTI streams
activity records to this process's own file from then on. What Python must add is the end: at exit, wait for the
GPU work still in flight, then force CUPTI to hand back its last buffers. It runs as one of the
recorder's finish hooks: from its atexit handler (registered before user code, so after the
script's own handlers and before CUDA tears down) and from its SIGTERM handler. The shim's C
atexit is the backstop.

The wait is bounded: a hung kernel must not keep a SIGTERM'd script alive, nor its exit. Records
of work still running when the wait ends arrive unfinished; the shim counts and leaves them out.
"""

import ctypes
import os
import sys
import threading

_state = {"installed": False}

# Seconds to wait for the GPU to finish: after SIGTERM the user wants the process gone.
SIGTERM_WAIT_S = 2.0
EXIT_WAIT_S = 30.0


def install(recorder):
    shim = os.environ.get("CUDA_INJECTION64_PATH")
    out = os.environ.get("_INFERSCOPE_GPU_OUT")
    if not shim or not out or _state["installed"]:
        return
    _state["installed"] = True
    recorder.finish_hooks.append(lambda: _flush(shim, out, recorder))


def _synchronize(torch):
    try:
        if torch.cuda.is_initialized():
            torch.cuda.synchronize()
    except Exception:
        pass  # a broken CUDA state must not turn the script's exit into a crash


def _flush(shim, out, recorder):
    # The shim writes <out>-<pid>.bin.status when the driver loaded it in this process: no file,
    # no CUDA here, nothing to flush (a forked child of a CUDA process has none either).
    if not os.path.exists("%s-%d.bin.status" % (out, os.getpid())):
        return
    torch = sys.modules.get("torch")
    sigterm = getattr(recorder, "reason", None) == "SIGTERM"
    limit = SIGTERM_WAIT_S if sigterm else EXIT_WAIT_S
    waiter = threading.Thread(target=_synchronize, args=(torch,), name="inferscope-gpu-wait", daemon=True)
    if torch is not None:
        waiter.start()
        waiter.join(limit)
    if waiter.is_alive():
        recorder.warnings.append(
            "the GPU was still busy %g s after %s: InferScope stopped waiting, so GPU work still running then is not in the report"
            % (limit, "SIGTERM" if sigterm else "the script ended")
        )
    try:
        ctypes.CDLL(shim).is_cupti_flush()  # same path as the driver's dlopen: the same handle
    except OSError:
        pass
