"""Thousands of tiny element-wise ops on a small tensor.
expect: cpu_bound with launch_bound finding (kernels under 10 us)"""
import torch

from _common import device, loop, parse

args = parse(__doc__, batch=1, steps=20)
dev = device()
x = torch.randn(64, device=dev)


def step():
    y = x
    for _ in range(2000):
        y = y * 1.0001 + 0.0001


loop(step, args)
