"""An asyncio server loop that batches requests arriving every few milliseconds.
expect: wait_bound; culprit: none — the event loop mostly waits for input (select/epoll), it is not CPU-bound

A producer coroutine stands for clients: one request every 5 ms. The batcher collects up to 8
requests or waits at most 10 ms, then runs a small model on the batch. The CPU work per batch
is a fraction of a millisecond, so the loop spends nearly all of its time waiting in the
selector for the next request.
"""
import argparse
import asyncio

import torch
from torch import nn

from _common import timed_work

p = argparse.ArgumentParser()
p.add_argument("--requests", type=int, default=300)
p.add_argument("--interval-ms", type=float, default=5.0)
args = p.parse_args()
torch.manual_seed(0)
torch.set_num_threads(1)
model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 8)).eval()


async def clients(queue):
    for i in range(args.requests):
        await queue.put((i, torch.randn(64)))
        await asyncio.sleep(args.interval_ms / 1000)
    await queue.put(None)


async def batcher(queue, max_batch=8, max_wait=0.010):
    served = 0
    while True:
        item = await queue.get()
        if item is None:
            return served
        batch = [item]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        while len(batch) < max_batch:
            timeout = deadline - loop.time()
            if timeout <= 0:
                break
            try:
                nxt = await asyncio.wait_for(queue.get(), timeout)
            except asyncio.TimeoutError:
                break
            if nxt is None:
                queue.put_nowait(None)
                break
            batch.append(nxt)
        with torch.no_grad():
            model(torch.stack([x for _, x in batch])).argmax(1)
        served += len(batch)


async def main():
    queue = asyncio.Queue()
    producer = asyncio.create_task(clients(queue))
    served = await batcher(queue)
    await producer
    return served


with timed_work():
    served = asyncio.run(main())
print("served", served, "requests")
