"""For the GPU check (bench/gpu-check.sh): which CUDA calls really launched the kernels of a run,
as libcupti named them (the trace shows them normalised: `__cudaLaunchKernel_v13000` reads
`cudaLaunchKernel`), and whether those kernels carry their Python caller.

    python3 bench/gpu_raw_apis.py RUN_DIR      (a run made with --keep-raw)

Prints one JSON object: per raw launch-call name, its kernels and how many have a Python function.
Reads raw/gpu-<pid>.bin, each CUDA process's records (layout: ffi/gpu_records.h), with the
standard library only; a kernel's correlation id in the trace is its process's CUPTI id plus the
process's correlationBase (inferscope.gpuProcesses; 0 for a single process).
"""

import json
import os
import struct
import sys

R_KERNEL, R_API, R_STRING = 1, 4, 7


def raw_calls(path):
    """correlation id → the raw name of the API call that has it."""
    data = open(path, "rb").read()
    names, calls = {}, {}
    off = 8
    while off + 4 <= len(data):
        typ, size = struct.unpack_from("<HH", data, off)
        p = off + 4
        if p + size > len(data):
            break
        off = p + size
        if typ == R_STRING:
            names[struct.unpack_from("<I", data, p)[0]] = data[p + 4 : p + size].decode("utf-8", "replace")
        elif typ == R_API:
            corr, _ret, name = struct.unpack_from("<III", data, p + 32)
            calls[corr] = name
    return {c: names.get(n, "unknown") for c, n in calls.items()}


def main():
    run = sys.argv[1]
    trace = json.load(open(os.path.join(run, "trace.json")))
    bases = {p["pid"]: p["correlationBase"] for p in trace["inferscope"].get("gpuProcesses", [])}
    calls = {}  # pid → correlation → raw name
    out = {}
    for e in trace["traceEvents"]:
        if e.get("cat") != "kernel":
            continue
        pid = e["pid"]
        if pid not in calls:
            path = os.path.join(run, "raw", "gpu-%d.bin" % pid)
            calls[pid] = raw_calls(path) if os.path.exists(path) else {}
        args = e.get("args", {})
        raw = calls[pid].get((args.get("correlation") or 0) - bases.get(pid, 0), "(no launch call recorded)")
        row = out.setdefault(raw, {"kernels": 0, "with_python_caller": 0})
        row["kernels"] += 1
        row["with_python_caller"] += "python function" in args
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
