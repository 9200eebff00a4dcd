"""A HAND-MADE STAND-IN for torch, for the hung-kernel test of test/gpu-sim only. It is not
PyTorch: it has just what InferScope's exit hook calls, torch.cuda.is_initialized() and
torch.cuda.synchronize(), the latter being the simulated driver's cuCtxSynchronize (which, like
the real one, waits for every kernel, forever for one that never ends)."""

import ctypes

__version__ = "0.0+gpusim-stand-in"


class version:
    cuda = None


class cuda:
    @staticmethod
    def is_initialized():
        return True

    @staticmethod
    def synchronize():
        ctypes.CDLL("libcuda.so.1").cuCtxSynchronize()
