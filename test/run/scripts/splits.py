# Known splits between running and waiting, for the accuracy of waits (test/run/waits.test.ts,
# bench/wait-accuracy.ts). Each measured function times itself from entry to exit and around its
# blocking call; whatever it waits for (a timer thread, a pipe) is set up by the caller, so the
# function has no other calls that wait. Prints {function: {"wall_ms", "blocked_ms"}} on stdout.
import json
import os
import queue
import select
import sys
import tempfile
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


def blocking_write(w, payload):
    t0 = now()
    os.write(w, payload)
    t1 = now()
    truth["blocking_write"] = ((now() - t0) * 1e3, (t1 - t0) * 1e3)


def cached_io(path):
    # reads served from the page cache and writes into it: CPU work, not waits (1 MB writes, 30 MB
    # reads). The thread's reads and writes just before were long (blocking_write), so the tracer
    # measures these from the first (ffi/pytrace.c: a first long one after short ones counts whole)
    t0 = now()
    block = b"z" * (1 << 20)
    with open(path, "wb") as f:
        for _ in range(30):
            f.write(block)
    for _ in range(30):
        with open(path, "rb") as f:
            f.read()
    truth["cached_io"] = ((now() - t0) * 1e3, 0.0)


def cached_after_short(path):
    # each long read from the page cache follows a short one (a header from the buffer, then the
    # body), so the tracer does not read the thread's CPU clock when the long one starts: still
    # work, not a wait. (A read of the rest after a partial read is slow in CPython: ~10x a whole read.)
    t0 = now()
    for _ in range(3):
        with open(path, "rb") as f:
            f.read(16)
            f.read(16)
            f.read()
    truth["cached_after_short"] = ((now() - t0) * 1e3, 0.0)


def blocking_after_short(f):
    # a short read (a header already in the pipe), then one that blocks until a timer thread
    # writes: a wait, although it too is not measured from its start
    t0 = now()
    f.read(16)
    t1 = now()
    f.read(16)
    t2 = now()
    truth["blocking_after_short"] = ((t2 - t0) * 1e3, (t2 - t1) * 1e3)


def joiner(t):
    # the blocking call Thread.join makes, called here so that the wait is joiner's own:
    # _ThreadHandle.join from Python 3.13, the thread's lock before
    t0 = now()
    handle = getattr(t, "_handle", None)
    if hasattr(handle, "join"):
        handle.join()
    else:
        t._tstate_lock.acquire()
        t._tstate_lock.release()
    t1 = now()
    truth["joiner"] = ((now() - t0) * 1e3, (t1 - t0) * 1e3)


def queue_get(q):
    # SimpleQueue.get is bound as a builtin_method (a heap type's C method) from 3.10
    t0 = now()
    q.get()
    t1 = now()
    truth["queue_get"] = ((now() - t0) * 1e3, (t1 - t0) * 1e3)


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
# a full pipe: the write blocks until a timer thread drains it (pipe buffers are 64 KiB on Linux)
r2, w2 = os.pipe()
os.set_blocking(w2, False)
try:
    while True:
        os.write(w2, b"x" * 65536)
except BlockingIOError:
    pass
os.set_blocking(w2, True)


def drain():
    while os.read(r2, 1 << 20):
        pass


threading.Timer(MS / 1e3, drain).start()
blocking_write(w2, b"y" * 4096)
os.close(w2)
fd, cached = tempfile.mkstemp()
os.close(fd)
cached_io(cached)
cached_after_short(cached)
os.unlink(cached)
r3, w3 = os.pipe()
os.write(w3, b"h" * 16)
threading.Timer(MS / 1e3, lambda: os.write(w3, b"b" * 16)).start()
with open(r3, "rb", buffering=0) as f3:
    blocking_after_short(f3)
sleeping = threading.Thread(target=time.sleep, args=(MS / 1e3,))
sleeping.start()
joiner(sleeping)
sleeping.join()
q = queue.SimpleQueue()
threading.Timer(MS / 1e3, q.put, args=(1,)).start()
queue_get(q)
half_and_half()
print(json.dumps({k: {"wall_ms": v[0], "blocked_ms": v[1]} for k, v in truth.items()}))
