"""Shared by the GPU examples: arguments, device, and a timed step loop with scope("step")."""
import argparse
import time

try:
    from inferscope import scope
except ImportError:  # run without InferScope: scopes become no-ops
    import contextlib

    def scope(name, **attrs):
        return contextlib.nullcontext()


def parse(description, batch, steps=50, warmup=5):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--batch", type=int, default=batch)
    p.add_argument("--steps", type=int, default=steps)
    p.add_argument("--warmup", type=int, default=warmup)
    return p.parse_args()


def device():
    import torch

    if not torch.cuda.is_available():
        raise SystemExit("this example needs a CUDA GPU (torch.cuda.is_available() is False)")
    return torch.device("cuda")


def loop(step, args, sync=True):
    """Warm up, then time `args.steps` steps, each inside scope("step"); prints the median."""
    import torch

    for _ in range(args.warmup):
        step()
    torch.cuda.synchronize()
    times = []
    for i in range(args.steps):
        t0 = time.perf_counter()
        with scope("step", i=i):
            step()
            if sync:
                torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    times.sort()
    print("median step ms %.3f" % (times[len(times) // 2] * 1e3), flush=True)
