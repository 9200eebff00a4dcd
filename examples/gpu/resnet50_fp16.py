"""torchvision ResNet-50, fp16, batch 32, random weights.
expect: gpu_bound"""
import torch
import torchvision

from _common import device, loop, parse

args = parse(__doc__, batch=32)
dev = device()
model = torchvision.models.resnet50().eval().to(dev).half()
x = torch.randn(args.batch, 3, 224, 224, device=dev).half()


def step():
    with torch.no_grad():
        model(x)


loop(step, args)
