# Allocates ~200 MB, reports VmRSS as the kernel sees it, then idles so the sampler catches it.
import time
blob = bytearray(200 * 1024 * 1024)
for i in range(0, len(blob), 4096):
    blob[i] = 1
time.sleep(0.3)
with open("/proc/self/status") as f:
    rss = [l for l in f if l.startswith("VmRSS:")][0].split()[1]
print("RSS_KB", rss, "AT", time.perf_counter_ns(), flush=True)
time.sleep(0.4)
