# A Python subprocess under --delay/--duration (test/run/capture-children.test.ts): the parent
# starts it 0.5 s in; it marks steps for 1.5 s.
import subprocess
import sys
import time

if len(sys.argv) > 1:
    import inferscope

    end = time.monotonic() + float(sys.argv[1])
    while time.monotonic() < end:
        inferscope.mark_event("c")
        time.sleep(0.01)
    sys.exit(0)
time.sleep(0.5)
subprocess.run([sys.executable, __file__, "1.5"], check=True)
