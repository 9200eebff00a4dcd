# Forward passes with autograd on, counted with the hand-made torch stand-in (handmade_torch/, NOT
# torch) where real torch is absent: 3 with grad mode and a parameter requiring grad, 1 under
# no_grad, 1 of a frozen copy (requires_grad_(False)): 3 of 5; the nested Lin calls do not count.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "handmade_torch"))
import torch  # noqa: E402


class Lin(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.Parameter()

    def forward(self, x):
        return x + 1


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = Lin()

    def forward(self, x):
        return self.fc(x)


net = Net()
for _ in range(3):
    net(0)
with torch.no_grad():
    net(0)
Net().requires_grad_(False)(0)
