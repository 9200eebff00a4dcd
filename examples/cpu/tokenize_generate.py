"""A small transformer answering requests with a greedy generate loop; its tokenizer is pure Python.
expect: cpu_bound; culprit: BPETokenizer._merge (pure-Python tokenizer, scope `request`)

Each request is tokenized by a hand-written byte-pair tokenizer (a Python loop over symbol pairs),
then the model generates 8 tokens greedily, one forward per token. The tokenizer, not the model,
takes most of the CPU time.
"""
import argparse
import random

import torch
from torch import nn

from _common import scope, timed_work

p = argparse.ArgumentParser()
p.add_argument("--requests", type=int, default=40)
p.add_argument("--new-tokens", type=int, default=8)
args = p.parse_args()
torch.manual_seed(0)
torch.set_num_threads(1)  # one intra-op thread: this example is about the Python side
rng = random.Random(0)
WORDS = ["inference", "latency", "tokenizer", "transformer", "batching", "throughput", "profile", "kernel", "python", "preprocess"]


class BPETokenizer(object):
    """Byte-pair merges applied one pair at a time, as a naive pure-Python tokenizer does."""

    def __init__(self, merges):
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.vocab = {}

    def _merge(self, symbols):
        while len(symbols) > 1:
            best, best_rank = None, None
            for i in range(len(symbols) - 1):
                r = self.ranks.get((symbols[i], symbols[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best is None:
                break
            symbols = symbols[:best] + [symbols[best] + symbols[best + 1]] + symbols[best + 2 :]
        return symbols

    def encode(self, text):
        ids = []
        for word in text.split():
            for piece in self._merge(list(word)):
                ids.append(self.vocab.setdefault(piece, len(self.vocab) % 1000))
        return ids


def learn_merges(words, n):
    merges, seen = [], set()
    for w in words:
        for i in range(len(w) - 1):
            for j in range(i + 2, min(len(w), i + 6) + 1):
                pair = (w[i:j - 1], w[j - 1])
                if pair not in seen:
                    seen.add(pair)
                    merges.append(pair)
    return merges[:n]


class TinyLM(nn.Module):
    def __init__(self, vocab=1000, d=64, layers=1):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        layer = nn.TransformerEncoderLayer(d, nhead=4, dim_feedforward=128, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, layers)
        self.head = nn.Linear(d, vocab)

    def forward(self, ids):
        return self.head(self.enc(self.emb(ids)))


def generate(model, ids, n):
    x = torch.tensor([ids[-32:]])
    for _ in range(n):
        logits = model(x)[:, -1]
        x = torch.cat([x, logits.argmax(-1, keepdim=True)], dim=1)[:, -32:]
    return x[0, -n:].tolist()


tok = BPETokenizer(learn_merges(WORDS, 200))
model = TinyLM().eval()
texts = [" ".join(rng.choice(WORDS) for _ in range(3000)) for _ in range(args.requests)]
with timed_work(), torch.no_grad():
    for i, text in enumerate(texts):
        with scope("request", i=i):
            ids = tok.encode(text)
            out = generate(model, ids, args.new_tokens)
print("generated", len(out), "tokens per request")
