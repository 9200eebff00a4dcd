"""Shared by the CPU examples: the timed steady state and a scope() that works without InferScope.

Each example times its own steady-state work (after imports and model construction) and prints
`work_ms=<ms>` on stderr, so a benchmark can compare that figure with and without a profiler.
"""
import sys
import time

try:
    from inferscope import mark_event, scope
except ImportError:  # plain `python script.py` without InferScope's package on the path
    import contextlib

    def scope(name, **attrs):
        return contextlib.nullcontext()

    def mark_event(name, **attrs):
        pass


class timed_work(object):
    """`with timed_work(): ...` around the steady state; prints work_ms=… on stderr at the end."""

    def __enter__(self):
        self.t0 = time.perf_counter()
        self.c0 = time.process_time()
        return self

    def __exit__(self, *exc):
        wall = (time.perf_counter() - self.t0) * 1000
        cpu = (time.process_time() - self.c0) * 1000
        sys.stderr.write("work_ms=%.1f work_cpu_ms=%.1f\n" % (wall, cpu))
        return False
