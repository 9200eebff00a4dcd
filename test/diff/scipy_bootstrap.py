# The scipy-computed intervals in diff.test.ts: scipy.stats.bootstrap (percentile method, 200 000
# resamples) of the relative change of the median step duration, on the real pairs in
# test/fixtures/diff. Run from the repository root with a Python that has numpy and scipy:
#   python test/diff/scipy_bootstrap.py
import json
import subprocess

import numpy as np
from scipy.stats import bootstrap


def durations(path):
    out = subprocess.run(["npx", "bun", "src/main.ts", "analyze", "-f", "json", path], check=True, capture_output=True, text=True).stdout
    return np.array([s for s in json.loads(out)["scopes"] if s["name"] == "step"][0]["durations_ms"])


def ci(a, b, n):
    a, b = durations(a)[:n], durations(b)[:n]
    stat = lambda x, y, axis=-1: (np.median(y, axis=axis) - np.median(x, axis=axis)) / np.median(x, axis=axis) * 100
    r = bootstrap((a, b), stat, n_resamples=200000, method="percentile", confidence_level=0.95, random_state=np.random.default_rng(1), vectorized=True)
    print(f"{(np.median(b) - np.median(a)) / np.median(a) * 100:.3f} {r.confidence_interval.low:.3f} {r.confidence_interval.high:.3f}")


D = "test/fixtures/diff/"
ci(D + "normalize_loop.inferscope.json.gz", D + "normalize_numpy.inferscope.json.gz", 59)
ci(D + "mlp_cpu_batch1.kineto.json.gz", D + "mlp_cpu_batch8.kineto.json.gz", 39)
ci(D + "normalize_loop.inferscope.json.gz", D + "normalize_loop.inferscope.json.gz", 59)
