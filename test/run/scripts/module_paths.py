# nn.Module paths as `inferscope run` records them (test/run/modules.test.ts), on the CPU with real
# torch. Prints one JSON line: whether nn.Module.__call__ is torch's own, for --no-modules.
import json
import sys

import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.helpers = [nn.ReLU()]  # a plain list: not registered in the model

    def forward(self, x):
        return self.helpers[0](self.fc(x)) + nn.Identity()(x)  # made on the fly


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(16, 8)
        self.layers = nn.ModuleList(Block() for _ in range(2))

    def forward(self, ids):
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x)
        return x


torch.manual_seed(0)
net = Net().eval()
other = nn.Linear(8, 2)  # a second model, called after the first
ids = torch.tensor([[1, 2, 3]])
with torch.no_grad():
    net.embed(ids)  # a submodule called on its own before its model: renamed once the model runs
    y = net(ids)
    other(y)
own = type(net).__call__ is nn.Module.__call__ and nn.Module.__call__.__module__ == "torch.nn.modules.module"
print(json.dumps({"torch_call": own}))
sys.stdout.flush()
