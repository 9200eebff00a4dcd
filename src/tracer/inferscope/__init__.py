"""InferScope's Python API: named scopes and instant events for the profiler's timeline.

    from inferscope import scope, mark_event

    with scope("step", batch=8):      # a span on this thread's lane, with attributes
        ...

    @scope("preprocess")              # as a decorator (functions, generators, coroutines)
    def preprocess(x): ...

    mark_event("checkpoint", step=3)  # an instant event

    inferscope.start() / inferscope.stop()   # open / close a capture window (see `--capture`)

Requests (per-request latency, TTFT and ITL in the report):

    with request(req_id):                          # any thread or async task: paired by id
        ...
        mark_event("schedule", request=req_id)     # it left the queue
        mark_event("token", request=req_id)        # each token sent
    request_begin(req_id) / request_end(req_id)    # for a request that hops between threads

Inside `inferscope run` they are recorded; anywhere else they are near-free no-ops (a disabled
scope is one function call, and as a decorator it returns the function unchanged), so the calls
can stay in production code. Attribute values should be str/int/float/bool/None (or short
lists of them); anything else is recorded as its str().

Standard library only; Python 3.8+.
"""

__all__ = ["scope", "mark_event", "request", "request_begin", "request_end", "is_active", "start", "stop"]
__version__ = "0.1.0"

# Set by inferscope._tracer when the profiler is recording this process; None otherwise.
_rec = None


class _NullScope(object):
    """What scope() returns outside a run: does nothing, decorates by returning the function."""

    __slots__ = ()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        return False

    def __call__(self, fn):
        return fn


_NULL_SCOPE = _NullScope()


class _PausedScope(object):
    """What scope() returns in a run outside a capture window: records nothing; as a decorator
    it still wraps the function, so calls made inside a later window are recorded."""

    __slots__ = ("_r", "_name", "_attrs")

    def __init__(self, r, name, attrs):
        self._r = r
        self._name = name
        self._attrs = attrs

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        return False

    def __call__(self, fn):
        return self._r.make_scope(self._name, self._attrs)(fn)


def scope(name, **attrs):
    """A named span: `with scope("step", i=3): ...` or `@scope("load")` on a function.

    Nestable, usable from any thread; one scope object may be entered by several threads at
    once (a decorated function called concurrently), since the open spans live per thread.
    """
    r = _rec
    if r is None:
        return _NULL_SCOPE
    if not r.live:
        return _PausedScope(r, name, attrs)
    return r.make_scope(name, attrs)


def mark_event(name, **attrs):
    """An instant event on the calling thread's lane, with attributes."""
    r = _rec
    if r is not None:
        r.mark(name, attrs)


def is_active():
    """True when this process is being recorded by `inferscope run`."""
    return _rec is not None


def start():
    """Opens a capture window: from now on the run records (Python calls, scopes, GPU activity).
    Returns True when a window opened, False when one was already open or outside a run."""
    r = _rec
    return r.window.open("inferscope.start()") if r is not None else False


def stop():
    """Closes the capture window: nothing more is recorded until the next start(). Returns True
    when a window closed, False when none was open or outside a run."""
    r = _rec
    return r.window.close("inferscope.stop()") if r is not None else False


class _Request(object):
    __slots__ = ("_id", "_attrs")

    def __init__(self, rid, attrs):
        self._id = rid
        self._attrs = attrs

    def __enter__(self):
        request_begin(self._id, **self._attrs)
        return self

    def __exit__(self, exc_type, exc, tb):
        request_end(self._id)
        return False


def request(id, **attrs):
    """A request from now to the end of the with-block: `with request(req_id): ...`. Begin and
    end are paired by id, so concurrent requests on one thread (async tasks) stay apart."""
    return _NULL_SCOPE if _rec is None else _Request(id, attrs)


def request_begin(id, **attrs):
    """A request begins (it may end on another thread: request_end(id))."""
    r = _rec
    if r is not None:
        attrs["id"] = id
        r.mark("request.begin", attrs)


def request_end(id, **attrs):
    """The request `id` ends."""
    r = _rec
    if r is not None:
        attrs["id"] = id
        r.mark("request.end", attrs)
