# Dies of SIGKILL (as under the OOM killer) after recording a few chunks' worth of calls.
import os, signal, sys
from inferscope import scope

def leaf(i):
    return i

for j in range(int(sys.argv[1])):
    with scope("batch", j=j):
        for i in range(1000):
            leaf(i)
sys.stdout.flush()
os.kill(os.getpid(), signal.SIGKILL)
