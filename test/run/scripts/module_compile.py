# nn.Module recording under torch.compile (test/run/modules.test.ts), on the CPU with real torch:
# dynamo's eager backend (no C compiler needed), fullgraph=True (a graph break raises) and an
# error on any recompilation. Prints one JSON line: the module calls torch saw inside the graph.
import json

import torch
import torch.nn as nn

torch._dynamo.config.error_on_recompile = True
m = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8)).eval()
cm = torch.compile(m, backend="eager", fullgraph=True)
x = torch.randn(2, 8)
with torch.no_grad():
    for _ in range(3):
        cm(x)
from torch._dynamo.utils import counters  # noqa: E402

print(json.dumps({"graph_breaks": sum(counters["graph_break"].values()), "unique_graphs": counters["stats"]["unique_graphs"]}))
