"""A thread-pool request handler: four Python threads each run a torch model on their request.
expect: cpu_bound; culprit: thread oversubscription (4 handler threads × torch's intra-op threads > cores) in aten::addmm

Requests arrive as small JSON documents; each handler thread parses one, builds its input batch,
runs an MLP forward (large enough that torch uses its intra-op thread pool) and serialises the
answer. The main thread only submits
and waits for the futures. With torch's default thread count (one per core), four concurrent
handlers ask for several times more threads than the machine has cores.
"""
import argparse
import json
from concurrent.futures import ThreadPoolExecutor

import torch
from torch import nn

from _common import scope, timed_work

p = argparse.ArgumentParser()
p.add_argument("--requests", type=int, default=48)
p.add_argument("--threads", type=int, default=4)
args = p.parse_args()
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(512, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 16)).eval()
payloads = [json.dumps({"id": i, "seed": i, "rows": 256}) for i in range(args.requests)]


def handle(payload):
    with scope("handle"):
        req = json.loads(payload)
        g = torch.Generator().manual_seed(req["seed"])
        x = torch.rand(req["rows"], 512, generator=g)
        with torch.no_grad():
            y = model(x)
        return json.dumps({"id": req["id"], "scores": y.mean(0).tolist()})


with timed_work(), ThreadPoolExecutor(max_workers=args.threads) as pool:
    futures = [pool.submit(handle, p) for p in payloads]
    answers = [f.result() for f in futures]
print("answered", len(answers), "requests")
