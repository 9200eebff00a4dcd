# Deterministic call-heavy work for the buffer tests: N calls of leaf() plus scopes and marks
# (and with "sleep", a 2 ms sleep first: a wait).
import sys
from inferscope import scope, mark_event

def leaf(i):
    return i & 7

def batch(n):
    t = 0
    for i in range(n):
        t += leaf(i)
    return t

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
if len(sys.argv) > 2 and sys.argv[2] == "sleep":  # one wait first: always among the oldest events
    import time

    time.sleep(0.002)
for j in range(N // 1000):
    with scope("batch", j=j):
        batch(1000)
    if j % 10 == 0:
        mark_event("ten", j=j)
