# Ctrl-C must reach the script even when Python runs the SIGINT handler inside the tracer's own
# code. The C hot path hands a full buffer to the tracer's Python on_full callback; Python runs
# a pending signal handler at the first bytecode it can, which may be in that callback. This
# script makes that happen on purpose, many times: map() calls from C, with no bytecode in
# between, _thread.interrupt_main (it makes SIGINT's handler pending, as a Ctrl-C does; os.kill
# and signal.raise_signal would run it at once) and the C record function itself (internal:
# inferscope._rec.c["emit"]), which hands over a full buffer every few thousand calls. Prints how
# many of the interrupts were lost.
import _thread
import functools
import operator
import sys

import inferscope
from inferscope import _tracer

if not hasattr(operator, "call"):  # 3.11+: a C function that calls its argument
    print("needs Python 3.11+")
    sys.exit(0)

rec = inferscope._rec
emit = rec.c["emit"]
word = (rec.name_id("tick") << _tracer.SHIFT) | _tracer.K_MARK
record = functools.partial(emit, word)
N = 20000
caught = 0
for _ in range(N):
    try:
        list(map(operator.call, [_thread.interrupt_main, record]))
    except KeyboardInterrupt:
        caught += 1
print("lost %d of %d" % (N - caught, N))
