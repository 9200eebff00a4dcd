"""Many short reads or writes, timed by the script itself: the tracer's cost on watched calls
(docs/benchmarks.md, "Reads and writes (waits)").

    python3 bench/io_calls.py readline|write      (plain)
    dist/inferscope run bench/io_calls.py readline|write
"""
import os
import sys
import tempfile
import time

N = 300_000
fd, path = tempfile.mkstemp()
os.close(fd)
try:
    if sys.argv[1] == "readline":
        with open(path, "w") as f:
            f.write("a line of text for the reader\n" * N)
        with open(path, "rb") as f:
            t = time.perf_counter()
            while f.readline():
                pass
    else:
        with open(path, "wb") as f:
            t = time.perf_counter()
            for _ in range(N):
                f.write(b"0123456789abcdef")
    print("ms %.1f" % ((time.perf_counter() - t) * 1e3))
finally:
    os.unlink(path)
