# Records many scopes, then says "exiting" from an atexit hook that runs just before InferScope's
# final flush (atexit runs hooks last-registered first): the signal tests interrupt that flush.
# The hook is print itself, not a Python function: a Ctrl-C landing in a Python hook of the
# script's own would show Python's "Exception ignored in atexit callback", as it should.
import atexit
from inferscope import scope

N = 50_000


def step(i):
    return i * 2


for i in range(N):
    with scope("iteration"):
        step(i)

atexit.register(print, "exiting", flush=True)
