# InferScope's bootstrap. `inferscope run` puts this directory first on the child's PYTHONPATH,
# so `site` imports this file during start-up, before the script (or -m module) runs. That keeps
# everything the script sees exactly as under `python script.py args`: Python itself sets
# sys.argv, sys.path[0], __main__ and the exit status, and prints tracebacks.
#
# It (1) takes this directory off sys.path, and off PYTHONPATH too unless child processes are
# followed (then Python subprocesses and multiprocessing's spawned children need it there to be
# traced), (2) starts the recorder when $_INFERSCOPE_RUN names this process's parent, or names any
# ancestor and children are followed, (3) imports the user's own sitecustomize, if any, so it
# still runs (an error in it is reported by `site` as usual).


def _inferscope_boot():
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    real = os.path.realpath(here)

    def is_here(p):
        try:
            return os.path.realpath(os.path.abspath(p or os.curdir)) == real
        except Exception:
            return False

    sys.path[:] = [p for p in sys.path if not is_here(p)]
    spec = os.environ.get("_INFERSCOPE_RUN")
    follow = False
    if spec:
        try:
            import json

            follow = json.loads(spec).get("follow", True) is not False
        except Exception:
            pass
    pp = os.environ.get("PYTHONPATH")
    if pp is not None and not follow:
        rest = [p for p in pp.split(os.pathsep) if p and not is_here(p)]
        os.environ["PYTHONPATH"] = os.pathsep.join(rest)

    if spec:
        try:
            from inferscope import _tracer

            _tracer.start_from_env(spec)
        except Exception as e:  # never break the user's program
            sys.stderr.write("inferscope: warning: the Python tracer did not start (%s: %s); the report has no Python data\n" % (type(e).__name__, e))

    me = sys.modules.pop("sitecustomize", None)
    try:
        import sitecustomize  # noqa: F401  (the user's own, found further down sys.path)
    except ImportError as exc:
        if exc.name != "sitecustomize":
            raise
        # None: importlib expects the module it is executing (this one) back in sys.modules.
        if me is not None:
            sys.modules["sitecustomize"] = me


_inferscope_boot()
del _inferscope_boot
