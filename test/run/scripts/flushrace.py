# Provokes the race between the owner of a list sealing its full chunk and the periodic flush
# sealing the same list (pure-Python tracer, run with a tiny flush interval): the GIL switches
# as often as it can, so the flusher thread often runs between two steps of a seal.
import sys

sys.setswitchinterval(1e-6)


def leaf(i):
    return i & 7


t = 0
for i in range(300000):
    t += leaf(i)
