# Hand-made stand-in for torch (NOT torch): just the part of nn.Module that InferScope's module
# recording relies on (a class attribute __call__ that calls forward, named_modules() over the
# attributes that are modules), so the recording is tested where real torch is not installed.
# The real thing is tested in test/run/modules.test.ts when torch is present.
import types

__version__ = "0.0-handmade"


class Module(object):
    def __init__(self):
        object.__setattr__(self, "_modules", {})

    def __setattr__(self, name, value):
        if isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, sub in self._modules.items():
            for path, m in sub.named_modules(prefix + "." + name if prefix else name):
                yield path, m

    def __call__(self, *args):
        return self.forward(*args)


nn = types.ModuleType("torch.nn")
nn.Module = Module
