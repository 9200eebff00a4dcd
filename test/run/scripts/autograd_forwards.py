# Forward passes of a small model with autograd on and off, for the tracer's forward count
# (src/tracer/inferscope/_modules.py): 6 with grad mode and parameters requiring grad, 3 under
# torch.no_grad(), 2 under torch.inference_mode(), and 1 of a model whose parameters require no
# grad (grad mode on): 6 of 12 with autograd on. Nested modules are not forward passes.
import torch

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
frozen = torch.nn.Sequential(torch.nn.Linear(8, 2)).requires_grad_(False)
x = torch.randn(4, 8)
for _ in range(6):
    model(x)
with torch.no_grad():
    for _ in range(3):
        model(x)
with torch.inference_mode():
    for _ in range(2):
        model(x)
frozen(x)
