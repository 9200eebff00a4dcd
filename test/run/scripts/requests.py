"""Requests for test/run/requests.test.ts: 12 requests that hop threads (begun on a front thread,
tokens and end on a worker thread) and 6 asyncio requests interleaved on one thread. Prints, as
JSON, the script's own bounds of each request's latency: the recorded begin lies between t0 and
t1, the end between t2 and t3."""
import asyncio
import json
import queue
import threading
import time

from inferscope import mark_event, request, request_begin, request_end

now = time.perf_counter_ns
bounds = {}
work = queue.Queue()


def worker():
    while True:
        item = work.get()
        if item is None:
            return
        rid, n = item
        mark_event("schedule", request=rid)
        for _ in range(n):
            time.sleep(0.002)
            mark_event("token", request=rid)
        bounds[rid].append(now())
        request_end(rid)
        bounds[rid].append(now())


def front(k):
    for j in range(3):
        rid = "t%d-%d" % (k, j)
        t0 = now()
        request_begin(rid)
        bounds[rid] = [t0, now()]
        work.put((rid, 2 + j))
        time.sleep(0.001)


async def handle(rid, n):
    t0 = now()
    with request(rid):
        bounds[rid] = [t0, now()]
        for _ in range(n):
            await asyncio.sleep(0.003)
            mark_event("token", request=rid)
        bounds[rid].append(now())
    bounds[rid].append(now())


w = threading.Thread(target=worker, name="worker")
w.start()
fronts = [threading.Thread(target=front, args=(k,), name="front-%d" % k) for k in range(4)]
for f in fronts:
    f.start()
for f in fronts:
    f.join()
work.put(None)
w.join()


async def main():
    await asyncio.gather(*(handle("a%d" % i, 1 + i) for i in range(6)))


asyncio.run(main())
print(json.dumps(bounds))
