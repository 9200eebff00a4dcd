# The API outside a run: importable, does nothing, costs little.
import json, sys, threading, time
from inferscope import scope, mark_event, is_active

def f(x):
    return x + 1

decorated = scope("decorated", a=1)(f)
with scope("outer", step=1) as s:
    with scope("inner"):
        mark_event("m", k=2)
r = mark_event("m2")

N = 200000
t0 = time.perf_counter_ns()
for _ in range(N):
    pass
t1 = time.perf_counter_ns()
for _ in range(N):
    with scope("x"):
        pass
t2 = time.perf_counter_ns()
for _ in range(N):
    mark_event("y")
t3 = time.perf_counter_ns()
for _ in range(N):
    f(1)
t4 = time.perf_counter_ns()
monitoring_tools = [sys.monitoring.get_tool(i) for i in range(6)] if hasattr(sys, "monitoring") else []
print(json.dumps({
    "active": is_active(),
    "decorated_is_f": decorated is f,
    "mark_returns": r,
    "profile": sys.getprofile() is None,
    "threads": threading.active_count(),
    "monitoring_tools": monitoring_tools,
    "scope_ns": (t2 - t1 - (t1 - t0)) / N,
    "mark_ns": (t3 - t2 - (t1 - t0)) / N,
    "call_ns": (t4 - t3 - (t1 - t0)) / N,  # a plain Python call, for scale (bench/api-noop.ts)
    "modules": sorted(m for m in sys.modules if m.startswith("inferscope")),
}))
