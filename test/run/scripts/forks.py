# A forked child: recorded into its own lane (children followed), or not at all with
# --no-follow-children (and its exit never flushes the parent's trace).
import os, sys
from inferscope import is_active, scope

def work(n):
    return sum(range(n))

for i in range(3):
    work(1000)
with scope("before-fork"):
    pid = os.fork()
if pid == 0:
    for i in range(100):
        work(10)
    with scope("in-child"):
        pass
    sys.stdout.write("child active=%s\n" % is_active())
    sys.stdout.flush()
    sys.exit(0)  # runs atexit in the child: the recorder must not write from here
os.waitpid(pid, 0)
for i in range(2):
    work(1000)
print("parent active=%s" % is_active())
