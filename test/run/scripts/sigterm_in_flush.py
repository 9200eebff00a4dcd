# SIGTERM arriving while the tracer writes a chunk: 5,000 calls, then a flush during which the
# script sends itself SIGTERM (the handler runs at the next bytecode: inside the flush, with
# the chunk drained from the buffers and not yet on disk).
import os
import signal
import time

import inferscope


def work(x):
    return x + 1


for i in range(5000):
    work(i)

rec = inferscope._rec
real = rec._write_chunk


def write_then_signal(*args):
    os.kill(os.getpid(), signal.SIGTERM)
    return real(*args)


rec._write_chunk = write_then_signal
rec.checkpoint()
time.sleep(10)  # the tracer acts on a SIGTERM that landed in its own code a moment later
print("not reached: SIGTERM ends the script")
