# Hand-made stand-in for torch (NOT torch): just the part of nn.Module that InferScope's module
# recording relies on (a class attribute __call__ that calls forward, named_modules() over the
# attributes that are modules; grad mode and parameters() for the forward-pass count), so the
# recording is tested where real torch is not installed. The real thing is tested in
# test/run/modules.test.ts when torch is present.
import types

__version__ = "0.0-handmade"

_grad = [True]


def is_grad_enabled():
    return _grad[0]


class no_grad(object):
    def __enter__(self):
        self.before = _grad[0]
        _grad[0] = False

    def __exit__(self, *exc):
        _grad[0] = self.before


class Parameter(object):
    def __init__(self, requires_grad=True):
        self.requires_grad = requires_grad


class Module(object):
    def __init__(self):
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_parameters", {})

    def __setattr__(self, name, value):
        if isinstance(value, Module):
            self._modules[name] = value
        if isinstance(value, Parameter):
            self._parameters[name] = value
        object.__setattr__(self, name, value)

    def parameters(self):
        for p in self._parameters.values():
            yield p
        for sub in self._modules.values():
            for p in sub.parameters():
                yield p

    def requires_grad_(self, flag=True):
        for p in self.parameters():
            p.requires_grad = flag
        return self

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, sub in self._modules.items():
            for path, m in sub.named_modules(prefix + "." + name if prefix else name):
                yield path, m

    def __call__(self, *args):
        return self.forward(*args)


nn = types.ModuleType("torch.nn")
nn.Module = Module
