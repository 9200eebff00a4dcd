# 500 SIGINTs, 0.3 ms apart, while the tracer hands full chunks over (--trace-size-mb 1: small
# chunks, often): the script catches each KeyboardInterrupt and goes on. Nothing recorded may be
# lost to an interrupt that lands inside the tracer's own hand-over.
import os, signal, threading, time

N = 300_000
i = 0
interrupts = 0


def storm():
    time.sleep(0.05)  # the main thread is inside its loop by then
    for _ in range(500):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.0003)


def leaf(k):
    return k + 1


t = threading.Thread(target=storm, daemon=True)
t.start()
quiet_until = None
while True:
    # two levels: an interrupt landing in the inner handler itself is caught by the outer one
    try:
        try:
            while i < N or t.is_alive():
                i = leaf(i)
            # the storm is over; deferred ones may still come: wait for them, then stop
            if quiet_until is None:
                quiet_until = time.monotonic() + 0.2
            while time.monotonic() < quiet_until:
                time.sleep(0.01)
            break
        except KeyboardInterrupt:
            interrupts += 1
    except KeyboardInterrupt:
        interrupts += 1
# Signals that come while one is pending merge into one (also without InferScope): at least one
# must reach the script.
print("interrupted" if interrupts > 0 else "no interrupt reached the script")
