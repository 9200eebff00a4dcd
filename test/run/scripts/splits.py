# Known splits between running and waiting, for the accuracy of waits (test/run/waits.test.ts,
# bench/wait-accuracy.ts). Each measured function times itself from entry to exit and around its
# blocking call; whatever it waits for (a timer thread, a pipe) is set up by the caller, so the
# function has no other calls that wait. Prints {function: {"wall_ms", "blocked_ms"}} on stdout.
import json
import os
import select
import sys
import threading
import time

MS = float(sys.argv[1]) if len(sys.argv) > 1 else 200.0
truth = {}
now = time.perf_counter


def spin(seconds):
    end = now() + seconds
    x = 0
    while now() < end:
        x += 1
    return x


def busy_loop():
    t0 = now()
    spin(MS / 1e3)
    truth["busy_loop"] = ((now() - t0) * 1e3, 0.0)


def sleeper():
    t0 = now()
    time.sleep(MS / 1e3)
    t1 = now()
    truth["sleeper"] = ((t1 - t0) * 1e3, (t1 - t0) * 1e3)


def lock_wait(lock):
    t0 = now()
    lock.acquire()
    t1 = now()
    truth["lock_wait"] = ((now() - t0) * 1e3, (t1 - t0) * 1e3)


def selector(r):
    t0 = now()
    select.select([r], [], [], MS / 1e3)
    t1 = now()
    truth["selector"] = ((now() - t0) * 1e3, (t1 - t0) * 1e3)


def blocking_read(r):
    t0 = now()
    os.read(r, 1)
    t1 = now()
    truth["blocking_read"] = ((now() - t0) * 1e3, (t1 - t0) * 1e3)


def half_and_half():
    t0 = now()
    spin(MS / 2e3)
    t1 = now()
    time.sleep(MS / 2e3)
    t2 = now()
    truth["half_and_half"] = ((t2 - t0) * 1e3, (t2 - t1) * 1e3)


busy_loop()
sleeper()
lock = threading.Lock()
lock.acquire()
threading.Timer(MS / 1e3, lock.release).start()
lock_wait(lock)
r, w = os.pipe()
selector(r)
threading.Timer(MS / 1e3, lambda: os.write(w, b"x")).start()
blocking_read(r)
half_and_half()
print(json.dumps({k: {"wall_ms": v[0], "blocked_ms": v[1]} for k, v in truth.items()}))
