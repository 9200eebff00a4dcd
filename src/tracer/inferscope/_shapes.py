"""The shape of a function's bytecode, for telling its own Python time from the native code it
calls: (instructions, loops). A function without a loop runs each of its instructions at most
once per call, so its own bytecode costs at most a few µs per call; self time far above that was
spent in native code its instructions called (NumPy or BLAS behind `x @ w`, zlib, a tokenizer
library), which the tracer does not see (src/analyze/native-time.ts).

Computed once per recorded code object, when it is first called: a bytes scan (3.11+), plus
one pass over the jumps before 3.11, where a loop can be a conditional jump backwards.
"""

import sys
import opcode as _opcode

_OPS = _opcode.opmap
_CACHE = _OPS.get("CACHE")
# Opcodes only a loop has: a for loop's FOR_ITER, 3.11+'s backward jumps (3.11 alone has the
# conditional ones), and before 3.11 the unconditional absolute jump (mostly a loop's back edge;
# taken as one when it is not).
_LOOP_NAMES = (
    "FOR_ITER",
    "JUMP_BACKWARD",
    "JUMP_BACKWARD_NO_INTERRUPT",
    "POP_JUMP_BACKWARD_IF_TRUE",
    "POP_JUMP_BACKWARD_IF_FALSE",
    "POP_JUMP_BACKWARD_IF_NONE",
    "POP_JUMP_BACKWARD_IF_NOT_NONE",
    "JUMP_ABSOLUTE",
)
_LOOP_OPS = tuple(_OPS[n] for n in _LOOP_NAMES if n in _OPS)
_OLD = sys.version_info < (3, 11)
_JABS = frozenset(_opcode.hasjabs) if _OLD else frozenset()
_EXTENDED_ARG = _opcode.EXTENDED_ARG
# 3.10 counts jump targets in instructions, 3.8 and 3.9 in bytes
_UNIT = 2 if sys.version_info >= (3, 10) else 1


def _jumps_back(co):
    ext = 0
    for i in range(0, len(co), 2):
        op = co[i]
        arg = co[i + 1] | ext
        if op == _EXTENDED_ARG:
            ext = arg << 8
            continue
        ext = 0
        if op in _JABS and arg * _UNIT <= i:
            return True
    return False


def shape(code):
    """(instructions, 1 if the function has a loop else 0)."""
    co = code.co_code
    ops = co[::2]
    n = len(ops) - (ops.count(_CACHE) if _CACHE is not None else 0)
    loop = any(op in ops for op in _LOOP_OPS) or (_OLD and _jumps_back(co))
    return n, 1 if loop else 0
