# Reads lines from a child that writes one every 50 ms, by iterating over the pipe: the reads
# happen inside the file's iterator (C), where no Python hook fires, so the tracer sees no wait.
import subprocess
import sys

child = subprocess.Popen([sys.executable, "-c", "import time\nfor i in range(12):\n    time.sleep(0.05)\n    print(i, flush=True)"], stdout=subprocess.PIPE, text=True)
n = 0
for line in child.stdout:
    n += len(line)
child.wait()
print(n)
