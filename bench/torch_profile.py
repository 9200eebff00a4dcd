"""Runs a script under torch.profiler (CPU + CUDA activities) and exports its Chrome trace, for
side-by-side checks against InferScope on the same script.

    python3 bench/torch_profile.py OUT.json script.py [script args...]
"""
import os
import runpy
import sys

import torch
from torch.profiler import ProfilerActivity, profile

out, script = sys.argv[1], sys.argv[2]
sys.argv = sys.argv[2:]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as p:
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        torch.cuda.synchronize()
p.export_chrome_trace(out)
