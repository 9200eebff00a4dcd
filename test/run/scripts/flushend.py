# Records many scopes, then says "exiting" from an atexit hook that runs just before InferScope's
# final flush (atexit runs hooks last-registered first): the signal tests interrupt that flush.
import atexit
from inferscope import scope

N = 200_000


def step(i):
    return i * 2


for i in range(N):
    with scope("iteration"):
        step(i)


@atexit.register
def _say_exiting():
    print("exiting", flush=True)
