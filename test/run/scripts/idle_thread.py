# A thread that blocks in C code the tracer does not see as a wait (iter(q.get, None) calls
# SimpleQueue.get from C, as multiprocessing.Pool's task handler does) for 0.4 s, then ends.
import queue
import threading
import time

q = queue.SimpleQueue()


def handler():
    for _ in iter(q.get, None):
        pass


t = threading.Thread(target=handler, name="handler")
t.start()
time.sleep(0.4)
q.put(None)
t.join()
