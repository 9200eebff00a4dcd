"""A DataLoader with two worker processes whose __getitem__ hashes text features in pure Python.
expect: cpu_bound; culprit: HashedText.__getitem__ in the DataLoader workers (the main loop waits for them)

The model (two linear layers) is cheap; each sample's features are built by hashing its words
into 4096 buckets with a hand-written FNV-1a loop, in the workers. The main process spends most
of the steady state waiting for batches.
"""
import argparse
import random

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from _common import timed_work

p = argparse.ArgumentParser()
p.add_argument("--samples", type=int, default=384)
p.add_argument("--workers", type=int, default=2)
args = p.parse_args()
torch.manual_seed(0)
torch.set_num_threads(1)  # one intra-op thread: this example is about data loading
BUCKETS = 4096
WORDS = ["user", "clicked", "item", "price", "category", "session", "mobile", "desktop", "search", "cart"]


def fnv1a(word):
    h = 0x811C9DC5
    for ch in word:
        h = ((h ^ ord(ch)) * 0x01000193) & 0xFFFFFFFF
    return h


class HashedText(Dataset):
    def __init__(self, n):
        rng = random.Random(0)
        self.texts = [" ".join(rng.choice(WORDS) + str(rng.randrange(50)) for _ in range(300)) for _ in range(n)]

    def __len__(self):
        return len(self.texts)

    def __getitem__(self, i):
        feats = [0.0] * BUCKETS
        for word in self.texts[i].split():
            feats[fnv1a(word) % BUCKETS] += 1.0
        return torch.tensor(feats), i % 10


if __name__ == "__main__":
    model = nn.Sequential(nn.Linear(BUCKETS, 256), nn.ReLU(), nn.Linear(256, 10)).eval()
    loader = DataLoader(HashedText(args.samples), batch_size=16, num_workers=args.workers)
    correct = 0
    with timed_work(), torch.no_grad():
        for x, y in loader:
            correct += int((model(x).argmax(1) == y).sum())
    print("accuracy", correct / args.samples)
