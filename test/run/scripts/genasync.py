# Generators and coroutines: every resume/yield is its own span, nesting stays correct.
import asyncio

def helper(x):
    return x + 1

def numbers(n):
    for i in range(n):
        helper(i)
        yield i

def consume():
    total = 0
    for v in numbers(5):
        total += helper(v)
    return total

def gen_with_throw():
    try:
        yield 1
    except KeyError:
        helper(0)
        yield 2

def thrower():
    g = gen_with_throw()
    next(g)
    g.throw(KeyError())
    g.close()

def fails():
    helper(1)
    raise RuntimeError("x")

def catcher():
    for _ in range(3):
        try:
            fails()
        except RuntimeError:
            pass

async def worker(k):
    for i in range(3):
        helper(k)
        await asyncio.sleep(0)
    return k

async def main():
    return await asyncio.gather(*(worker(k) for k in range(4)))

consume()
thrower()
catcher()
asyncio.run(main())

# Decorated coroutines interleave on the event-loop thread: coroutine k starts at 10k ms and
# runs 20 + 5k ms, so they end in the order they began (not nested). Each scope must still pair
# with its own call: the marks at its first and last line (no await between them and the scope's
# begin / end) name the call.
from inferscope import mark_event, scope

@scope("acoro", kind="async")
async def timed(k):
    mark_event("acoro-in", k=k)
    await asyncio.sleep(0.020 + 0.005 * k)
    mark_event("acoro-out", k=k)
    return k

async def starter(k):
    await asyncio.sleep(0.010 * k)
    return await timed(k)

@scope("agen")
def counting(n):
    for i in range(n):
        yield i

async def timed_main():
    return await asyncio.gather(*(starter(k) for k in range(4)))

asyncio.run(timed_main())
list(counting(3))
