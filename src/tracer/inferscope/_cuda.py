"""GPU side inside the profiled process.

The CUDA driver loads InferScope's shim at cuInit (CUDA_INJECTION64_PATH) and CUPTI streams
activity records to a file from then on. What Python must add is the end: at exit, wait for the
GPU work still in flight, then force CUPTI to hand back its last buffers. It runs as one of the
recorder's finish hooks: from its atexit handler (registered before user code, so after the
script's own handlers and before CUDA tears down) and from its SIGTERM handler. The shim's C
atexit is the backstop.
"""

import ctypes
import os
import sys

_state = {"installed": False}


def install(recorder):
    shim = os.environ.get("CUDA_INJECTION64_PATH")
    out = os.environ.get("_INFERSCOPE_GPU_OUT")
    if not shim or not out or _state["installed"]:
        return
    _state["installed"] = True
    recorder.finish_hooks.append(lambda: _flush(shim, out))


def _flush(shim, out):
    # The shim writes <out>.status when the driver loaded it: no file, no CUDA, nothing to flush.
    if not os.path.exists(out + ".status"):
        return
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_initialized():
                torch.cuda.synchronize()
        except Exception:
            pass  # a broken CUDA state must not turn the script's exit into a crash
    try:
        ctypes.CDLL(shim).is_cupti_flush()  # same path as the driver's dlopen: the same handle
    except OSError:
        pass
