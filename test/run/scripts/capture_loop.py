"""Capture-window tests (test/run/capture.test.ts): a loop of numbered steps, each a scope with a
mark, a call of tick() and a short sleep. Prints "step N" as it goes.

    capture_loop.py SECONDS                 run for SECONDS
    capture_loop.py steps N START STOP      N steps; inferscope.start() before step START, stop()
                                            inside step STOP (its scope and call are open then)
    capture_loop.py until FILE              run until FILE exists (a server that waits to be stopped)
"""
import os
import sys
import time

import inferscope
from inferscope import mark_event, scope


def tick(i):
    return i * 2


def step(i, inside=None):
    with scope("step", i=i):
        if inside:
            inside()
        tick(i)
        mark_event("m", i=i)
        time.sleep(0.004)
    print("step", i, flush=True)


mode = sys.argv[1]
if mode == "steps":
    n, on, off = (int(x) for x in sys.argv[2:5])
    for i in range(n):
        if i == on:
            print("start ->", inferscope.start(), flush=True)
        step(i, (lambda: print("stop ->", inferscope.stop(), flush=True)) if i == off else None)
elif mode == "until":
    i = 0
    while not os.path.exists(sys.argv[2]):
        step(i)
        i += 1
else:
    end = time.perf_counter_ns() + int(float(mode) * 1e9)
    i = 0
    while time.perf_counter_ns() < end:
        step(i)
        i += 1
print("steps", i if mode != "steps" else n, flush=True)
