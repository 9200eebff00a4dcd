"""Large fp16 matmuls back to back.
expect: gpu_bound"""
import torch

from _common import device, loop, parse

args = parse(__doc__, batch=1)
dev = device()
a = torch.randn(8192, 8192, device=dev, dtype=torch.float16)
b = torch.randn(8192, 8192, device=dev, dtype=torch.float16)


def step():
    for _ in range(4):
        torch.mm(a, b)


loop(step, args)
