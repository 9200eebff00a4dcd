# Known op shapes (test/run/op-shapes.test.ts): Linear(16, 32) on a 4x16 input 30 times on the
# main thread, on a 2x16 input 20 times on a worker thread.
import threading

import torch

m = torch.nn.Linear(16, 32)


def run(rows, n):
    x = torch.randn(rows, 16)
    with torch.no_grad():
        for _ in range(n):
            m(x)


t = threading.Thread(target=run, args=(2, 20))
t.start()
t.join()
run(4, 30)
print("ok")
