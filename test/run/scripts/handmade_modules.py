# Module recording with the hand-made torch stand-in (handmade_torch/, NOT torch): the import hook
# and the paths, where real torch is absent. Prints whether __call__ was wrapped.
import json
import sys

sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__file__), "handmade_torch"))
import torch  # noqa: E402

Module = torch.nn.Module


class Leaf(Module):
    def forward(self, x):
        return x + 1


class Pair(Module):
    def __init__(self):
        super().__init__()
        self.a = Leaf()
        self.b = Leaf()

    def forward(self, x):
        return self.b(self.a(x))


class Top(Module):
    def __init__(self):
        super().__init__()
        self.first = Pair()
        self.second = Pair()

    def forward(self, x):
        return self.second(self.first(x))


y = Top()(0)
print(json.dumps({"y": y, "wrapped": Module.__call__.__module__ == "inferscope._modules"}))
