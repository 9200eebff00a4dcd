# A Ctrl-C that is already pending when the interpreter reaches InferScope's atexit hook (the
# last to run: atexit runs hooks last-registered first). This script's own hook is
# _thread.interrupt_main itself, a C function that makes SIGINT pending as a Ctrl-C does,
# without running the handler and without a line of Python after it: before the fix,
# KeyboardInterrupt was raised at the first line of the tracer's flush, which never ran.
import _thread
import atexit

from inferscope import scope

N = 50_000


def step(i):
    return i * 2


for i in range(N):
    with scope("iteration"):
        step(i)

atexit.register(_thread.interrupt_main)
