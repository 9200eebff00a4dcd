"""BERT-base embeddings (random weights from a config), batch 64, sequence 128.
expect: gpu_bound"""
import torch
from transformers import BertConfig, BertModel

from _common import device, loop, parse

args = parse(__doc__, batch=64)
dev = device()
model = BertModel(BertConfig()).eval().to(dev)
ids = torch.randint(0, 30522, (args.batch, 128), device=dev)


def step():
    with torch.no_grad():
        model(input_ids=ids).last_hidden_state.mean(1)


loop(step, args)
