"""A `.item()` after every op: the CPU waits for the GPU twenty times a step.
expect: sync finding (sync_stalls), GPU idle between ops"""
import torch

from _common import device, loop, parse

args = parse(__doc__, batch=1)
dev = device()
a = torch.randn(2048, 2048, device=dev)


def step():
    b = a
    tot = 0.0
    for _ in range(20):
        b = torch.tanh(b @ a * 1e-3)
        tot += b.mean().item()
    return tot


loop(step, args, sync=False)
