# 4 threads, each with its own scope nesting: outer(k) > middle > inner, 25 times.
import threading
from inferscope import scope, mark_event

def leaf(x):
    return sum(range(x))

def work(k):
    for i in range(25):
        with scope("outer", thread=k, i=i):
            with scope("middle"):
                leaf(50)
                with scope("inner"):
                    leaf(10)
            mark_event("tick", thread=k)

threads = [threading.Thread(target=work, args=(k,), name="worker-%d" % k) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
