"""InferScope's Python API: named scopes and instant events for the profiler's timeline.

    from inferscope import scope, mark_event

    with scope("step", batch=8):      # a span on this thread's lane, with attributes
        ...

    @scope("preprocess")              # as a decorator (functions, generators, coroutines)
    def preprocess(x): ...

    mark_event("checkpoint", step=3)  # an instant event

Inside `inferscope run` they are recorded; anywhere else they are near-free no-ops (a disabled
scope is one function call, and as a decorator it returns the function unchanged), so the calls
can stay in production code. Attribute values should be str/int/float/bool/None (or short
lists of them); anything else is recorded as its str().

Standard library only; Python 3.8+.
"""

__all__ = ["scope", "mark_event", "is_active"]
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


def scope(name, **attrs):
    """A named span: `with scope("step", i=3): ...` or `@scope("load")` on a function.

    Nestable, usable from any thread; one scope object may be entered by several threads at
    once (a decorated function called concurrently), since the open spans live per thread.
    """
    r = _rec
    if r is None:
        return _NULL_SCOPE
    return r.make_scope(name, attrs)


def mark_event(name, **attrs):
    """An instant event on the calling thread's lane, with attributes."""
    r = _rec
    if r is not None:
        r.mark(name, attrs)


def is_active():
    """True when this process is being recorded by `inferscope run`."""
    return _rec is not None
