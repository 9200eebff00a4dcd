"""Runs a script under torch.profiler and exports its Chrome trace, for side-by-side checks
against InferScope on the same script: CPU + CUDA activities by default, CPU only with --cpu.

    python3 bench/torch_profile.py [--cpu] OUT.json script.py [script args...]
"""
import os
import runpy
import sys

import torch
from torch.profiler import ProfilerActivity, profile

cpu_only = sys.argv[1] == "--cpu"
if cpu_only:
    del sys.argv[1]
out, script = sys.argv[1], sys.argv[2]
sys.argv = sys.argv[2:]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
activities = [ProfilerActivity.CPU] if cpu_only else [ProfilerActivity.CPU, ProfilerActivity.CUDA]
with profile(activities=activities) as p:
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        if not cpu_only:
            torch.cuda.synchronize()
p.export_chrome_trace(out)
