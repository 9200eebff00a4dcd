"""The blocking builtins: C functions in which a thread waits instead of running.

A call to one of them that lasts at least WAIT_MIN_NS is recorded as a wait (ffi/pytrace.c), so
a Python function's time splits into running and waiting: Condition.wait, queue.Queue.get,
Future.result, Thread.join reach lock.acquire; asyncio's loop and multiprocessing queues reach
select/poll/epoll; pipes and sockets reach os.read / recv; files, pipes and sockets are written
through os.write / FileIO.write / BufferedWriter, and fsync waits for the disk. Reads and writes
(is_io) are waits only for the part of the call the thread spent off the CPU: a read served from
the page cache, or a write into it, is CPU work (ffi/pytrace.c measures it while the thread's
reads and writes take long). TextIOWrapper.write is left out: it fills a buffer far more often
than it writes.

Not seen: a `with lock:` block on a bare lock (its __enter__ is called without a call event),
the GIL, waits inside C extensions that do not go through these functions, and these functions
when C code calls them (iter(queue.get, None) in multiprocessing.Pool's task handler).
"""

import sys

# (module, attribute path, is_io)
_CATALOGUE = (
    ("time", "sleep", 0),
    ("_thread", "LockType.acquire", 0),
    ("_thread", "LockType.acquire_lock", 0),
    ("_thread", "LockType.__enter__", 0),
    ("_thread", "RLock.acquire", 0),
    ("_thread", "RLock.__enter__", 0),
    ("_thread", "_ThreadHandle.join", 0),  # Thread.join from Python 3.13 (not lock.acquire)
    ("_queue", "SimpleQueue.get", 0),
    ("_multiprocessing", "SemLock.acquire", 0),
    ("_multiprocessing", "SemLock.__enter__", 0),
    ("select", "select", 0),
    ("select", "poll.poll", 0),
    ("select", "epoll.poll", 0),
    ("os", "read", 1),
    ("os", "readv", 1),
    ("os", "pread", 1),
    ("os", "write", 1),
    ("os", "writev", 1),
    ("os", "pwrite", 1),
    ("os", "fsync", 0),
    ("os", "fdatasync", 0),
    ("os", "sync", 0),
    ("os", "waitpid", 0),
    ("os", "wait", 0),
    ("os", "wait3", 0),
    ("os", "wait4", 0),
    ("os", "waitid", 0),
    ("_socket", "socket._accept", 0),
    ("_socket", "socket.recv", 1),
    ("_socket", "socket.recv_into", 1),
    ("_socket", "socket.recvfrom", 1),
    ("_socket", "socket.recvfrom_into", 1),
    ("_socket", "socket.recvmsg", 1),
    ("_socket", "socket.connect", 0),
    ("_socket", "socket.send", 1),
    ("_socket", "socket.sendall", 1),
    ("_socket", "socket.sendto", 1),
    ("_io", "FileIO.read", 1),
    ("_io", "FileIO.readinto", 1),
    ("_io", "FileIO.readall", 1),
    ("_io", "BufferedReader.read", 1),
    ("_io", "BufferedReader.read1", 1),
    ("_io", "BufferedReader.readinto", 1),
    ("_io", "BufferedReader.readline", 1),
    ("_io", "TextIOWrapper.read", 1),
    ("_io", "TextIOWrapper.readline", 1),
    ("_io", "FileIO.write", 1),
    ("_io", "BufferedWriter.write", 1),
    ("_io", "BufferedWriter.flush", 1),
    ("_io", "BufferedRandom.write", 1),
    ("_io", "BufferedRandom.flush", 1),
)

# Shortest blocking call recorded as a wait: an uncontended lock takes ~0.1 µs, a context
# switch a few µs.
WAIT_MIN_NS = 20000


def _name(module, path):
    # Shown to the user: "lock.acquire", "select.epoll.poll", "time.sleep", "socket.recv"...
    mod = {"_thread": "", "_queue": "queue.", "_multiprocessing": "multiprocessing.", "_socket": "", "_io": "io."}.get(module, module + ".")
    return mod + path.replace("LockType", "lock").replace("_ThreadHandle", "thread")


def bound_cmethod_type():
    """builtin_method: a bound method of a heap type's C method that takes its defining class
    (SimpleQueue.get from 3.10). The profile function (up to 3.11) sees `q.get()` as one, not as
    the method descriptor; on 3.8 and 3.9 it is builtin_function_or_method."""
    import _queue

    return type(_queue.SimpleQueue().get)


def blocking_builtins():
    """[(callable, name, is_io)] for those this interpreter has."""
    out = []
    for module, path, io in _CATALOGUE:
        mod = sys.modules.get(module)
        if mod is None:
            try:
                mod = __import__(module)
            except ImportError:
                continue
        obj = mod
        for i, part in enumerate(path.split(".")):
            obj = getattr(obj, part, None)
            if obj is None:
                break
            if (module, path, i) == ("select", "poll.poll", 0):
                obj = type(obj())  # select.poll() makes the object; its type has the method
        if obj is not None:
            out.append((obj, _name(module, path), io))
    return out
