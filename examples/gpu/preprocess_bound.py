"""Pure-Python preprocessing (tokenising text by hand) before a small GPU forward.
expect: cpu_bound (GPU idle while the main thread runs tokenize)"""
import torch

from _common import device, loop, parse

args = parse(__doc__, batch=16)
dev = device()
lin = torch.nn.Linear(256, 256).to(dev)
texts = ["the quick brown fox jumps over the lazy dog %d" % i for i in range(2000)]


def tokenize(batch_texts):
    ids = []
    for t in batch_texts:
        row = [sum(ord(c) for c in w) % 256 for w in t.split()] * 20
        ids.append(row[:256])
    return ids


def step():
    ids = tokenize(texts)
    x = torch.tensor(ids, dtype=torch.float32).to(dev)
    with torch.no_grad():
        lin(x).sum()


loop(step, args)
