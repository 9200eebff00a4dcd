"""nn.Module calls as module spans, with each module's path in its model.

Once torch is imported, torch.nn.Module.__call__ is wrapped: the wrapper writes a begin and an end
record around each module call, as scope records whose name (in the name table) is
MODULE_PREFIX + path + "\\0" + class; the reader turns them into module spans. A module's two
records are computed once and kept by id.

Why a wrapper and not torch's global forward hooks: any global hook sends every module call down
_call_impl's slow path (hooks looked up and called per call); the wrapper keeps the fast path and
adds one Python call. bench/module-cost.ts measures both, side by side (docs/benchmarks.md).

Paths come from named_modules() of the outermost module called (a module called with no module
open around it): that module is named by its class (`LlamaForCausalLM`), the modules below it by
their attribute path (`model.layers.3.self_attn`). A later outermost module that is not part of an
earlier model prefixes its paths with its own name (`Decoder.layers.0`); one that contains an
earlier outermost module (a submodule called on its own first, such as an embedding) takes over
its modules' names. A module called inside another but not registered in it (kept in a plain
list, made on the fly) is named `<enclosing path>.<class>`.

Under torch.compile the wrapper calls straight through while dynamo compiles, so dynamo traces
nothing of it and the compiled graph stays whole (checked with fullgraph=True): the compiled
module's own call is recorded, the calls inside its graph are not. A subclass that defines its own
__call__ is not recorded (its submodules are).
"""

import sys
import types
import weakref

from inferscope import _quiet

MODULE_PREFIX = "\x00module\x00"

_state = {"orig": None, "call": None}

# Calls of outermost modules (a model's forward) and those made with autograd on: grad mode
# enabled and parameters that require grad, so every op records a backward graph nobody runs.
forwards = {"calls": 0, "withGrad": 0}


def watch(rec):
    """Record module calls from the moment torch is imported (now, if it already is).

    A finder first on sys.meta_path answers nothing itself: when `torch` is looked up, it asks
    the finders after it for the spec and wraps that loader's exec_module, so install() runs once
    torch's __init__ (which imports torch.nn) has finished. The finder then leaves sys.meta_path.
    The loader keeps its class (module.__loader__ is torch's own); only its exec_module is
    wrapped, on that one instance."""
    torch = sys.modules.get("torch")
    if torch is not None and getattr(getattr(torch, "nn", None), "Module", None) is not None:
        install(rec, torch)
    else:
        sys.meta_path.insert(0, _TorchFinder(rec))
    rec.finish_hooks.append(uninstall)


class _TorchFinder(object):
    def __init__(self, rec):
        self.rec = rec

    def find_spec(self, name, path=None, target=None):
        if name != "torch":
            return None
        self._leave()
        spec = None
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            try:
                spec = find(name, path, target)
            except Exception:
                spec = None
            if spec is not None:
                break
        loader = getattr(spec, "loader", None)
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return spec  # None: torch is not installed; the import fails as it would anyway
        rec = self.rec

        def exec_then_install(module):
            exec_module(module)
            try:
                del loader.exec_module  # the instance's own method again
            except AttributeError:
                pass
            install(rec, module)

        try:
            loader.exec_module = exec_then_install
        except Exception as e:
            rec.warnings.append("nn.Module calls are not recorded (torch's loader: %s: %s)" % (type(e).__name__, e))
        return spec

    def _leave(self):
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass


def install(rec, torch):
    """Start recording module calls (the recorder's torch hook calls this once torch is imported)."""
    if _state["orig"] is not None:
        return
    try:
        Module = torch.nn.Module
        orig = Module.__call__
        # torch.compile: dynamo traces through this wrapper (it inlines Module.__call__), and
        # must see the plain call so that the graph stays whole. torch.compiler._is_compiling_flag
        # is held True while dynamo compiles (torch 2.13 has it): one attribute read per call. Without
        # it, torch.compiler.is_compiling(), which dynamo folds to True: two more Python calls
        # per module call, recorded like any other when calls are recorded.
        compiler = getattr(torch, "compiler", None)
        flag = compiler if hasattr(compiler, "_is_compiling_flag") else _NoFlag
        is_compiling = None if flag is compiler else getattr(compiler, "is_compiling", None)
        names = _Names(rec)
        emit = rec.c["emit"] if rec.c is not None else (lambda w: rec.open_scope(w, None))
        words_get = names.words.get
        is_grad_enabled = getattr(torch, "is_grad_enabled", None)
        if is_grad_enabled is not None and not isinstance(is_grad_enabled, types.BuiltinFunctionType):
            # torch's is C; Python in its place (a stand-in, a patch) runs as InferScope's work
            py_grad_enabled = is_grad_enabled

            def is_grad_enabled():
                _quiet.begin()
                try:
                    return py_grad_enabled()
                finally:
                    _quiet.end()
        needs_grad = names.needs_grad

        def forward(module):
            forwards["calls"] += 1
            if is_grad_enabled is None or not is_grad_enabled():
                return
            g = needs_grad.get(id(module))
            if g is None:
                _quiet.begin()
                try:
                    g = needs_grad[id(module)] = any(p.requires_grad for p in module.parameters())
                except Exception:
                    g = needs_grad[id(module)] = False
                finally:
                    _quiet.end()
            if g:
                forwards["withGrad"] += 1

        # hot: every module call goes through it (its cost: docs/benchmarks.md, "nn.Module calls")
        def __call__(self, *args, **kwargs):
            if flag._is_compiling_flag or (is_compiling is not None and is_compiling()):
                return orig(self, *args, **kwargs)
            w = words_get(id(self))
            if w is None:
                _quiet.begin()  # named_modules() and the rest: InferScope's work, not the script's
                try:
                    w = names.name(self)
                finally:
                    _quiet.end()
            emit(w[0])
            if w[3]:
                forward(self)
            try:
                return orig(self, *args, **kwargs)
            finally:
                emit(w[1])

        names.call_code = __call__.__code__
        Module.__call__ = __call__
        _state["orig"] = orig
        _state["call"] = __call__
        _state["module"] = Module
    except Exception as e:
        rec.warnings.append("nn.Module calls are not recorded (%s: %s)" % (type(e).__name__, e))


def uninstall():
    """Put torch.nn.Module.__call__ back, unless something replaced our wrapper since (and stop
    waiting for torch)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _TorchFinder)]
    orig = _state["orig"]
    if orig is None:
        return
    Module = _state["module"]
    if Module.__dict__.get("__call__") is _state["call"]:
        Module.__call__ = orig
    _state["orig"] = None


class _NoFlag(object):
    _is_compiling_flag = False


class _Names(object):
    """Module → (begin word, end word, path, outermost), by id; paths computed once per outermost module."""

    def __init__(self, rec):
        self.rec = rec
        self.words = {}  # id(module) -> (begin, end, path)
        self.refs = {}  # id(module) -> weakref whose callback forgets it
        self.root_of = {}  # id(module) -> id of the outermost module it was named under
        self.first = None  # id of the model named with bare paths
        self.root_names = {}  # id(outermost module) -> its name
        self.needs_grad = {}  # id(outermost module) -> whether a parameter requires grad (asked once)
        self.call_code = None

    def _set(self, module, path, root):
        from inferscope._tracer import K_SCOPE_BEGIN, K_SCOPE_END, SHIFT

        nid = self.rec.name_id(MODULE_PREFIX + path + "\x00" + type(module).__name__)
        key = id(module)
        if key not in self.words:
            # a weakref callback, not weakref.finalize: that is Python code, run again for every
            # module at exit (atexit), and recorded when the script's calls are
            try:
                self.refs[key] = weakref.ref(module, lambda _r, key=key: self._forget(key))
            except TypeError:
                pass
        self.words[key] = ((nid << SHIFT) | K_SCOPE_BEGIN, (nid << SHIFT) | K_SCOPE_END, path, root == key)
        self.root_of[key] = root

    def _forget(self, key):
        self.refs.pop(key, None)
        self.words.pop(key, None)
        self.root_of.pop(key, None)
        self.root_names.pop(key, None)
        self.needs_grad.pop(key, None)  # an id a new module may take
        if self.first == key:
            self.first = None

    def _enclosing(self):
        """The module whose call is open around this one on this thread (None: outermost)."""
        f = sys._getframe(3)  # 0 this, 1 name(), 2 the wrapper of the module being named
        while f is not None:
            if f.f_code is self.call_code:
                return f.f_locals.get("self")
            f = f.f_back
        return None

    def name(self, module):
        """Name a module seen for the first time; returns its words."""
        parent = self._enclosing()
        if parent is not None and id(parent) in self.words:
            # inside a known module but not registered in it
            self._set(module, "%s.%s" % (self.words[id(parent)][2], type(module).__name__), self.root_of.get(id(parent)))
            return self.words[id(module)]
        try:
            subs = list(module.named_modules())
        except Exception:
            subs = [("", module)]
        key = id(module)
        # earlier outermost modules that are part of this one are renamed under it
        absorbed = set(self.root_names) & set(id(sub) for path, sub in subs if path)
        for r in absorbed:
            del self.root_names[r]
        if self.first is None or self.first in absorbed:
            self.first = key
        taken = set(self.root_names.values())
        root = type(module).__name__
        n = 2
        while root in taken:
            root = "%s#%d" % (type(module).__name__, n)
            n += 1
        self.root_names[key] = root
        prefix = "" if self.first == key else root + "."
        self._set(module, root, key)
        for path, sub in subs:
            if not path:
                continue
            k = id(sub)
            if k not in self.words or self.root_of.get(k) in absorbed:
                self._set(sub, prefix + path, key)
        return self.words[key]
