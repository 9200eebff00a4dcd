# Runs until interrupted: the signal tests stop it mid-run.
import sys, time
from inferscope import scope, mark_event

def step(i):
    total = 0
    for k in range(200):
        total += k * i
    return total

print("ready", flush=True)
i = 0
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    with scope("iteration", i=i):
        step(i)
    i += 1
    if i % 1000 == 0:
        time.sleep(0.001)
