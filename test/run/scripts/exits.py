# Ends the process without Python's exit handlers, or takes the profile hook, after some calls.
#   exits.py os_exit             1,000 calls, then os._exit(3)
#   exits.py sigkill OUT         calls for 3 s (about 1,000 a second, too few to fill a chunk),
#                                writes to OUT how many were made in the first second, then
#                                SIGKILLs itself
#   exits.py execv               1,000 calls, then os.execv("/bin/true")
#   exits.py setprofile          1,000 calls, sys.setprofile(None), 1,000 more
#   exits.py threading_setprofile
#                                1,000 calls, threading.setprofile(None), a thread making 1,000
#                                calls, 1,000 more calls in the main thread
#   exits.py thread_setprofile   1,000 calls, then a thread making 1,000 calls,
#                                sys.setprofile(None), 1,000 more
#   exits.py monitoring          1,000 calls, sys.monitoring.set_events(tool, 0), 1,000 more (3.12+)
#   exits.py window_sigkill      (with --capture manual) 1,000 calls, inferscope.start(), 1,000
#                                calls, inferscope.stop(), SIGKILL 0.3 s later
#   exits.py window_execv        (with --capture manual) 1,000 calls, inferscope.start(), 1,000
#                                calls, then os.execv("/bin/true") inside the window
import os
import signal
import sys
import threading
import time


def work(x):
    return x + 1


def calls(n):
    s = 0
    for _ in range(n):
        s = work(s)
    return s


what = sys.argv[1]
calls(1000)
if what == "os_exit":
    os._exit(3)
elif what == "sigkill":
    t0 = time.monotonic()
    made = 1000
    noted = False
    while time.monotonic() - t0 < 3.0:
        calls(10)
        made += 10
        if not noted and time.monotonic() - t0 >= 1.0:
            with open(sys.argv[2], "w") as f:
                f.write(str(made))
            noted = True
        time.sleep(0.01)
    os.kill(os.getpid(), signal.SIGKILL)
elif what == "execv":
    os.execv("/bin/true", ["true"])
elif what == "setprofile":
    sys.setprofile(None)
    calls(1000)
elif what == "threading_setprofile":
    threading.setprofile(None)
    t = threading.Thread(target=calls, args=(1000,))
    t.start()
    t.join()
    calls(1000)
elif what == "thread_setprofile":

    def thread_body():
        calls(1000)
        sys.setprofile(None)
        calls(1000)

    t = threading.Thread(target=thread_body)
    t.start()
    t.join()
elif what == "monitoring":
    for tool in (3, 4):
        if sys.monitoring.get_tool(tool) == "inferscope":
            sys.monitoring.set_events(tool, 0)
    calls(1000)
elif what == "window_sigkill":
    import inferscope

    inferscope.start()
    calls(1000)
    inferscope.stop()
    time.sleep(0.3)
    os.kill(os.getpid(), signal.SIGKILL)
elif what == "window_execv":
    import inferscope

    inferscope.start()
    calls(1000)
    os.execv("/bin/true", ["true"])
