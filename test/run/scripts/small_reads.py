# A loop whose time is system calls: a file read back from the page cache in 16 KiB chunks, step
# after step (the reads copy in the kernel; the loop's own bytecode is little).
import os
import sys
import tempfile

from inferscope import scope

path = os.path.join(tempfile.mkdtemp(), "data.bin")
with open(path, "wb") as f:
    f.write(os.urandom(8 << 20))  # 8 MiB, in the page cache from here on


def load(p):
    n = 0
    with open(p, "rb", buffering=0) as f:
        while True:
            b = f.read(16384)
            if not b:
                break
            n += len(b)
    return n


steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
for i in range(steps):
    with scope("step"):
        load(path)
os.remove(path)
os.rmdir(os.path.dirname(path))
