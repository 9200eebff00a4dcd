"""Replays a real torch.profiler (Kineto) trace through the SIMULATED CUDA driver (README.md).

Run under `inferscope run` with the simulated libcuda.so.1 / libcupti.so.13 first on
LD_LIBRARY_PATH: it calls the simulated driver's entry points through ctypes, once per CUDA call
in the trace, from a Python function named after the torch op that made the call in the recording
(the outermost cpu_op around it, e.g. `aten::linear`; `(no torch op)` where there was none), so
real Python frames are on the stack at each launch. InferScope's shim, loaded by the simulated
cuInit, takes every timestamp through its own timestamp callback at the moment of the call.

Timing: the GPU keeps the recorded intervals (work starts and ends where it did, shifted by one
constant: recording time 0 = `origin`), so kernel times, gaps, GPU busy and utilization are the
recording's. The calls are paced to their recorded start times (a spin, never early) and return no
earlier than their recorded end, but Python cannot always keep up: where it falls behind, a call
lands after the GPU work it issued started. So CPU↔GPU alignment (host-wait idle, launch latency,
what the CPU did while the GPU idled) is only as good as the pacing, and is reported, not checked.

    python replay.py TRACE.json[.gz] [--stop-after N] [--then exit|os_exit|kill] [--as-nvcc13]

--as-nvcc13 issues the recording's cudaLaunchKernel(_ptsz) calls (cbids 211, 214) as the
__cudaLaunchKernel(_ptsz) of nvcc-13 host stubs (505, 506): the fixtures, recorded with torch 2.11
+cu130, hold no such call, so this is the one departure from the recording, and says so.
"""

import argparse
import ctypes
import gzip
import json
import os
import sys
import time
import types
from decimal import Decimal
from functools import partial

DRIVER, RUNTIME = 1, 2
KERNEL, MEMCPY, MEMSET = 1, 2, 3
ASYNC = 1
SYNC_EVENT, SYNC_STREAM, SYNC_CONTEXT = 1, 3, 4
COPY_KINDS = {"HtoD": 1, "DtoH": 2, "HtoA": 3, "AtoH": 4, "AtoA": 5, "AtoD": 6, "DtoA": 7, "DtoD": 8, "HtoH": 9, "PtoP": 10}
MEM_KINDS = {"pageable": 1, "pinned": 2, "device": 3, "array": 4, "managed": 5}
NO_OP = "(no torch op)"
# cudaLaunchKernel_v7000, cudaLaunchKernel_ptsz_v7000 → __cudaLaunchKernel_v13000, __cudaLaunchKernel_ptsz_v13000
NVCC13_LAUNCH = {211: 505, 214: 506}

# CUPTI reports C++ kernel names mangled; Kineto writes them demangled. These are the mangled forms
# of some fixture kernels, produced by g++ 12 from declarations of the same templates; the shim's
# demangling must give back the exact Kineto name (the replay's parity check compares them).
MANGLED = {
    "void cutlass::Kernel2<cutlass_80_simt_sgemm_256x128_8x4_nn_align1>(cutlass_80_simt_sgemm_256x128_8x4_nn_align1::Params)": "_ZN7cutlass7Kernel2I43cutlass_80_simt_sgemm_256x128_8x4_nn_align1EEvNT_6ParamsE",
    "void cutlass::Kernel2<cutlass_80_simt_sgemm_128x32_8x5_tn_align1>(cutlass_80_simt_sgemm_128x32_8x5_tn_align1::Params)": "_ZN7cutlass7Kernel2I42cutlass_80_simt_sgemm_128x32_8x5_tn_align1EEvNT_6ParamsE",
    "void at::native::vectorized_elementwise_kernel<8, at::native::CUDAFunctor_add<c10::Half>, std::array<char*, 3ul> >(int, at::native::CUDAFunctor_add<c10::Half>, std::array<char*, 3ul>)": "_ZN2at6native29vectorized_elementwise_kernelILi8ENS0_15CUDAFunctor_addIN3c104HalfEEESt5arrayIPcLm3EEEEviT0_T1_",
    "void at::native::vectorized_gather_kernel<16, long>(char*, char*, long*, int, long, long, long, long, bool)": "_ZN2at6native24vectorized_gather_kernelILi16ElEEvPcS2_PT0_illllb",
    "fmha_cutlassF_f32_aligned_64x64_rf_sm80(PyTorchMemEffAttention::AttentionKernel<float, cutlass::arch::Sm80, true, 64, 64, 64, true, true>::Params)": "_Z39fmha_cutlassF_f32_aligned_64x64_rf_sm80N22PyTorchMemEffAttention15AttentionKernelIfN7cutlass4arch4Sm80ELb1ELi64ELi64ELi64ELb1ELb1EE6ParamsE",
}


class Op(ctypes.Structure):
    """gpusim_op in gpusim.h."""

    _fields_ = [
        ("start", ctypes.c_int64),
        ("end", ctypes.c_int64),
        ("name", ctypes.c_char_p),
        ("kind", ctypes.c_uint32),
        ("stream", ctypes.c_uint32),
        ("grid", ctypes.c_int32 * 3),
        ("block", ctypes.c_int32 * 3),
        ("registers", ctypes.c_uint32),
        ("static_smem", ctypes.c_uint32),
        ("dynamic_smem", ctypes.c_uint32),
        ("graph_id", ctypes.c_uint32),
        ("graph_node", ctypes.c_uint32),
        ("bytes", ctypes.c_uint64),
        ("copy_kind", ctypes.c_uint32),
        ("src_kind", ctypes.c_uint32),
        ("dst_kind", ctypes.c_uint32),
        ("mem_kind", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
    ]


def driver():
    """The simulated driver, found like the real one (LD_LIBRARY_PATH)."""
    lib = ctypes.CDLL("libcuda.so.1")
    if not hasattr(lib, "gpusimLaunch"):
        sys.exit("replay.py: libcuda.so.1 is not the simulated driver (put build/gpu-sim first on LD_LIBRARY_PATH)")
    i64, i32, u32 = ctypes.c_int64, ctypes.c_int, ctypes.c_uint32
    lib.gpusimSetOrigin.argtypes = [i64]
    lib.gpusimLaunch.argtypes = [i32, i32, i32, i64, ctypes.POINTER(Op), i32]
    lib.gpusimMemcpy.argtypes = [i32, i32, i64, ctypes.POINTER(Op)]
    lib.gpusimMemset.argtypes = [i32, i32, i64, ctypes.POINTER(Op)]
    lib.gpusimSynchronize.argtypes = [i32, i32, i32, u32, i64]
    lib.gpusimCall.argtypes = [i32, i32, i64]
    lib.gpusimMalloc.argtypes = [i32, i32, ctypes.c_uint64, i32, ctypes.POINTER(ctypes.c_uint64)]
    lib.gpusimFree.argtypes = [i32, i32, ctypes.c_uint64]
    return lib


def ns(v):
    """Kineto's µs (three decimals) → integer ns, exactly."""
    return int((Decimal(v) * 1000).to_integral_value())


def load_events(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return json.load(f, parse_float=Decimal)["traceEvents"]


def launcher_names(calls, ops_cpu):
    """The outermost cpu_op enclosing each call's start on its thread (start <= t < end)."""
    by_tid = {}
    for o in ops_cpu:
        by_tid.setdefault(o["tid"], []).append(o)
    for lst in by_tid.values():
        lst.sort(key=lambda o: (o["start"], -o["end"]))
    for c in calls:
        c["function"] = NO_OP
        for o in by_tid.get(c["tid"], []):
            if o["start"] > c["start"]:
                break
            if o["start"] <= c["start"] < o["end"]:
                c["function"] = o["name"]
                break


def plan(path):
    """The calls of a Kineto trace in start order, each with its GPU work, relative to the first call."""
    calls, ops_cpu, gpu = [], [], {}
    for e in load_events(path):
        cat = e.get("cat")
        if e.get("ph") != "X":
            continue
        start = ns(e["ts"])
        end = start + ns(e.get("dur", 0))
        args = e.get("args") or {}
        if cat in ("cuda_runtime", "cuda_driver"):
            calls.append({"domain": RUNTIME if cat == "cuda_runtime" else DRIVER, "cbid": int(args["cbid"]), "name": e["name"], "tid": e["tid"], "start": start, "end": end, "corr": args.get("correlation")})
        elif cat == "cpu_op":
            ops_cpu.append({"name": e["name"], "tid": e["tid"], "start": start, "end": end})
        elif cat in ("kernel", "gpu_memcpy", "gpu_memset"):
            gpu.setdefault(args.get("correlation"), []).append((cat, e["name"], start, end, args))
    calls.sort(key=lambda c: (c["start"], -c["end"]))
    if not calls:
        sys.exit("replay.py: %s has no CUDA calls" % path)
    launcher_names(calls, ops_cpu)
    origin = calls[0]["start"]
    orphans = sum(len(v) for k, v in gpu.items() if k not in {c["corr"] for c in calls})
    if orphans:
        sys.exit("replay.py: %d GPU ops have no CUDA call in the trace; the replay needs their call" % orphans)
    for c in calls:
        c["start"] -= origin
        c["end"] -= origin
        work = sorted(gpu.get(c["corr"], []), key=lambda w: w[2])
        arr = (Op * max(1, len(work)))()
        for i, (cat, name, start, end, args) in enumerate(work):
            o = arr[i]
            o.start, o.end = start - origin, end - origin
            o.stream = int(args.get("stream", 0))
            if cat == "kernel":
                o.kind = KERNEL
                o.name = MANGLED.get(name, name).encode()
                o.grid[:] = [int(x) for x in args.get("grid", [0, 0, 0])]
                o.block[:] = [int(x) for x in args.get("block", [0, 0, 0])]
                o.registers = int(args.get("registers per thread", 0))
                o.static_smem = int(args.get("shared memory", 0))
                if "GraphLaunch" in c["name"]:
                    o.graph_id, o.graph_node = 1, i + 1
            elif cat == "gpu_memcpy":
                o.kind = MEMCPY
                o.bytes = int(args.get("bytes", 0))
                kind, _, rest = name[len("Memcpy "):].partition(" (")
                src, _, dst = rest.rstrip(")").partition(" -> ")
                o.copy_kind = COPY_KINDS.get(kind, 0)
                o.src_kind, o.dst_kind = MEM_KINDS.get(src.lower(), 0), MEM_KINDS.get(dst.lower(), 0)
                o.flags = ASYNC if "Async" in c["name"] else 0
            else:
                o.kind = MEMSET
                o.bytes = int(args.get("bytes", 0))
                o.mem_kind = MEM_KINDS.get(name.partition("(")[2].rstrip(")").lower(), 0)
                o.flags = ASYNC if "Async" in c["name"] else 0
        c["ops"], c["n"] = arr, len(work)
    return calls


SYNC_TYPES = {"DeviceSynchronize": SYNC_CONTEXT, "CtxSynchronize": SYNC_CONTEXT, "StreamSynchronize": SYNC_STREAM, "EventSynchronize": SYNC_EVENT}


def bind(lib, c):
    """The ctypes call that stands for this CUDA call, arguments bound (no Python frame of its own)."""
    d, cb, end = c["domain"], c["cbid"], c["end"]
    for word, t in SYNC_TYPES.items():
        if word in c["name"]:
            return partial(lib.gpusimSynchronize, d, cb, t, 7, end)
    if c["n"] == 0:
        return partial(lib.gpusimCall, d, cb, end)
    return partial(lib.gpusimLaunch, d, cb, 0, end, c["ops"], c["n"])


_functions = {}


def named(name):
    """A Python function whose frame is named `name` (aten::linear, …): it makes the call."""
    f = _functions.get(name)
    if f is None:

        def launcher(call):
            return call()

        code = launcher.__code__.replace(co_name=name, co_qualname=name)
        f = _functions[name] = types.FunctionType(code, globals(), name)
    return f


def replay(lib, calls, stop_after=None, lead_ns=20_000_000):
    """Issues the calls at their recorded times; returns how late they were (ns, per call)."""
    bound = [(named(c["function"]), bind(lib, c), c["start"]) for c in calls[:stop_after]]
    origin = time.perf_counter_ns() + lead_ns
    lib.gpusimSetOrigin(origin)
    late = []
    clock = time.perf_counter_ns
    for fn, call, start in bound:
        due = origin + start
        now = clock()
        while now < due:
            now = clock()
        late.append(now - due)
        fn(call)
    return late


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--stop-after", type=int, default=None, help="replay only the first N calls")
    ap.add_argument("--then", default="exit", choices=["exit", "os_exit", "kill"], help="how the script ends")
    ap.add_argument("--as-nvcc13", action="store_true", help="launch through __cudaLaunchKernel (cbids 505/506) instead of cudaLaunchKernel")
    a = ap.parse_args()
    lib = driver()
    if lib.cuInit(0) != 0:
        sys.exit("replay.py: cuInit failed")
    calls = plan(a.trace)
    if a.as_nvcc13:
        for c in calls:
            if c["domain"] == RUNTIME:
                c["cbid"] = NVCC13_LAUNCH.get(c["cbid"], c["cbid"])
    late = replay(lib, calls, a.stop_after)
    late.sort()
    print("replay: %d calls, late by median %.1f µs, p90 %.1f µs, max %.1f µs" % (len(late), late[len(late) // 2] / 1e3, late[int(len(late) * 0.9)] / 1e3, late[-1] / 1e3))
    sys.stdout.flush()
    if a.then == "os_exit":
        os._exit(3)
    if a.then == "kill":
        os.kill(os.getpid(), 9)


if __name__ == "__main__":
    main()
