# Workloads for bench/module-cost.ts: what seeing every nn.Module call costs per step, on the CPU.
#   python3 module_cost.py resnet50|decode|small [steps] --compare hooks|modules
# Steps alternate between without (a) and with (b), in one process, so that both see the same
# machine (a shared, loaded box varies more between processes than within one):
#   hooks    a global forward pre-hook and forward hook that do nothing (torch's own way to see every
#            module call) registered for the b steps: plain python;
#   modules  InferScope's nn.Module.__call__ wrapper (src/tracer/inferscope/_modules.py) in place for
#            the b steps, torch's own __call__ for the a steps: under `inferscope run`.
# Prints one JSON line: the a and b step times (ns, perf_counter_ns around each step, after 2
# warm-up steps of each), the module calls per step, and the ns per call of a module that does
# nothing, without and with (per_call). One intra-op thread.
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Bottleneck(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        cout = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        return self.relu(self.bn3(self.conv3(y)) + idt)


class ResNet50(nn.Module):
    """ResNet-50's layout (bottlenecks 3, 4, 6, 3; widths 64–512), without torchvision."""

    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        layers, cin = [], 64
        for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            seq = []
            for i in range(blocks):
                seq.append(Bottleneck(cin, width, stride if i == 0 else 1))
                cin = width * 4
            layers.append(nn.Sequential(*seq))
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, x, cache):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        if cache:
            k = torch.cat([cache[0], k], 1)
            v = torch.cat([cache[1], v], 1)
        cache[:] = [k, v]
        h = lambda z: z.view(b, -1, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
        y = F.scaled_dot_product_attention(h(q), h(k), h(v), is_causal=t > 1)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(self.act(self.fc1(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self, vocab=2048, d=256, heads=4, layers=6):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)

    def forward(self, ids, caches):
        x = self.embed(ids)
        for layer, cache in zip(self.layers, caches):
            x = layer(x, cache)
        return self.lm_head(self.ln_f(x))


def workload(name):
    torch.manual_seed(0)
    if name == "resnet50":
        m = ResNet50().eval()
        x = torch.randn(1, 3, 112, 112)
        return lambda: m(x)
    if name == "decode":
        m = GPT().eval()
        prompt = torch.randint(0, 2048, (1, 32))

        def decode():
            # one step = 16 new tokens, greedy, with a KV cache: the decode loop of generate()
            caches = [[] for _ in m.layers]
            logits = m(prompt, caches)
            for _ in range(16):
                nxt = logits[:, -1].argmax(-1, keepdim=True)
                logits = m(nxt, caches)
            return logits

        return decode
    if name == "small":
        # many small modules: 400 Linear(16, 16) + ReLU pairs in a row, a tiny input
        m = nn.Sequential(*[nn.Sequential(nn.Linear(16, 16), nn.ReLU()) for _ in range(200)]).eval()
        x = torch.randn(1, 16)
        return lambda: m(x)
    raise SystemExit("unknown workload %r: resnet50, decode or small" % name)


def count_calls(step):
    calls = [0]

    def pre(module, args):
        calls[0] += 1

    h = nn.modules.module.register_module_forward_pre_hook(pre)
    try:
        step()
    finally:
        h.remove()
    return calls[0]


def toggles(mode):
    """(off, on): put the a / b configuration in place."""
    if mode == "hooks":
        handles = []

        def on():
            handles.append(nn.modules.module.register_module_forward_pre_hook(lambda module, args: None))
            handles.append(nn.modules.module.register_module_forward_hook(lambda module, args, out: None))

        def off():
            while handles:
                handles.pop().remove()

        return off, on
    if mode == "modules":
        state = sys.modules.get("inferscope._modules")
        state = state._state if state is not None else {}
        wrapper, orig = state.get("call"), state.get("orig")
        if wrapper is None or nn.Module.__call__ is not wrapper:
            raise SystemExit("--compare modules: run this under `inferscope run` with modules on")

        def set_call(f):
            nn.Module.__call__ = f

        return (lambda: set_call(orig)), (lambda: set_call(wrapper))
    raise SystemExit("--compare hooks or modules")


def main():
    name = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 10
    mode = sys.argv[sys.argv.index("--compare") + 1] if "--compare" in sys.argv else ""
    torch.set_num_threads(1)
    torch.backends.nnpack.set_flags(False)  # else a warning per convolution on CPUs NNPACK does not support
    step = workload(name)
    off, on = toggles(mode)
    times = {"a": [], "b": []}
    with torch.no_grad():
        off()
        calls = count_calls(step)
        for i in range(4 + 2 * steps):
            b = i % 2 == 1
            (on if b else off)()
            t0 = time.perf_counter_ns()
            step()
            dt = time.perf_counter_ns() - t0
            if i >= 4:
                times["b" if b else "a"].append(dt)
        off()
        call_a, call_b = per_call(off, on)
    print(
        json.dumps(
            {"workload": name, "compare": mode, "a_ns": times["a"], "b_ns": times["b"], "module_calls": calls, "call_a_ns": call_a, "call_b_ns": call_b}
        )
    )


def per_call(off, on, rounds=30, n=300):
    """ns per call of a module that does nothing (nn.Identity), without and with: the fastest of
    `rounds` alternating loops of n calls each (the fastest: what the code costs when nothing else
    runs; a busy machine only adds)."""
    ident = nn.Identity()
    x = torch.zeros(1)
    loops = range(n)
    best = {False: float("inf"), True: float("inf")}
    for i in range(2 * rounds):
        b = i % 2 == 1
        (on if b else off)()
        t0 = time.perf_counter_ns()
        for _ in loops:
            ident(x)
        best[b] = min(best[b], (time.perf_counter_ns() - t0) / n)
    off()
    return best[False], best[True]


if __name__ == "__main__":
    main()
