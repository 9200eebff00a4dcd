"""GPT-2-sized model (random weights from a config, nothing downloaded), greedy generate.
expect: cpu_bound (launch-bound: many small kernels, GPU idle between launches)"""
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from _common import device, loop, parse

args = parse(__doc__, batch=1, steps=10, warmup=2)
dev = device()
torch.manual_seed(0)
model = GPT2LMHeadModel(GPT2Config()).eval().to(dev)
ids = torch.randint(0, 50257, (args.batch, 32), device=dev)


def step():
    with torch.no_grad():
        model.generate(ids, max_new_tokens=32, do_sample=False, pad_token_id=0)


loop(step, args)
