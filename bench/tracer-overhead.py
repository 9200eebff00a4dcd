"""Workloads for bench/tracer-overhead.ts: times its own work with perf_counter_ns (so start-up
and the tracer's final flush are not in the figure) and prints it as JSON on stdout.

    python bench/tracer-overhead.py heavy   # ~400 000 Python calls: the tracer's worst case
    python bench/tracer-overhead.py light   # a numeric loop with ~1 000 calls: typical glue code
"""
import json
import sys
import time


def leaf(x):
    return x + 1


def mid(n):
    t = 0
    for i in range(n):
        t += leaf(i)
    return t


def heavy():
    for _ in range(400):
        mid(1000)


def chunk(n):
    t = 0
    for i in range(n):
        t += i * i
    return t


def light():
    for _ in range(1000):
        chunk(3000)


work = {"heavy": heavy, "light": light}[sys.argv[1]]
c0 = time.thread_time_ns()
t0 = time.perf_counter_ns()
work()
t1 = time.perf_counter_ns()
c1 = time.thread_time_ns()
# cpu_ns: this thread's CPU time, which time slices taken by other processes do not inflate
print(json.dumps({"work_ns": t1 - t0, "cpu_ns": c1 - c0}))
