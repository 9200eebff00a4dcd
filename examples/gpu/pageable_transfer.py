"""256 MB copied host→device from pageable memory every step, trivial compute.
expect: memory_bound (pageable copies flagged)"""
import torch

from _common import device, loop, parse

args = parse(__doc__, batch=1, steps=20)
dev = device()
host = torch.randn(64 * 1024 * 1024)  # 256 MB fp32, pageable


def step():
    d = host.to(dev)
    d.mul_(2.0)


loop(step, args)
