"""A small CNN classifying images that are resized in pure Python first.
expect: cpu_bound; culprit: resize_bilinear (pure-Python image resizing)

Each "decoded" image is a list of rows of (r, g, b) tuples at 96×96; a hand-written bilinear
resize brings it to 48×48 before the CNN runs on a batch of 8. The resize loop, not the
convolutions, takes most of the CPU time.
"""
import argparse
import random

import torch
from torch import nn

from _common import timed_work

p = argparse.ArgumentParser()
p.add_argument("--batches", type=int, default=12)
p.add_argument("--batch", type=int, default=8)
args = p.parse_args()
torch.manual_seed(0)
torch.set_num_threads(1)  # one intra-op thread: this example is about the Python side
SRC, DST = 96, 48


def decode(seed):
    """Stands for a C image decoder: random RGB bytes as rows of (r, g, b) tuples."""
    b = random.Random(seed).randbytes(SRC * SRC * 3)
    px = list(zip(b[0::3], b[1::3], b[2::3]))
    return [px[y * SRC : (y + 1) * SRC] for y in range(SRC)]


def resize_bilinear(img, size):
    h, w = len(img), len(img[0])
    sy, sx = (h - 1) / (size - 1), (w - 1) / (size - 1)
    out = []
    for y in range(size):
        fy = y * sy
        y0 = int(fy)
        y1 = min(y0 + 1, h - 1)
        dy = fy - y0
        row = []
        for x in range(size):
            fx = x * sx
            x0 = int(fx)
            x1 = min(x0 + 1, w - 1)
            dx = fx - x0
            a, b, c, d = img[y0][x0], img[y0][x1], img[y1][x0], img[y1][x1]
            row.append(tuple((a[k] * (1 - dx) + b[k] * dx) * (1 - dy) + (c[k] * (1 - dx) + d[k] * dx) * dy for k in range(3)))
        out.append(row)
    return out


def to_tensor(images):
    return torch.tensor(images, dtype=torch.float32).permute(0, 3, 1, 2) / 255.0


model = nn.Sequential(
    nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
    nn.Flatten(), nn.Linear(64, 10),
).eval()
raw = [decode(i) for i in range(args.batch * 2)]
with timed_work(), torch.no_grad():
    for b in range(args.batches):
        batch = [resize_bilinear(raw[(b * args.batch + i) % len(raw)], DST) for i in range(args.batch)]
        labels = model(to_tensor(batch)).argmax(1)
print("classified", args.batches * args.batch, "images")
