# A loop-free function whose time is native code it calls (zlib's C compressor), in a loop of
# steps: its self time is far above what its few bytecode instructions can take.
import os
import zlib

from inferscope import scope

DATA = os.urandom(1 << 18) * 4  # 1 MiB, compressible: 4 copies of 256 KiB


def pack(buf):
    return zlib.compress(buf, 9)


def checksum(out):
    total = 0
    for b in out[:2000]:  # a loop in Python: its own bytecode
        total = (total * 31 + b) & 0xFFFFFFFF
    return total


for i in range(10):
    with scope("step"):
        checksum(pack(DATA))
