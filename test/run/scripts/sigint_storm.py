# 200 SIGINTs, 0.3 ms apart, while the tracer hands full chunks over (--trace-size-mb 1: small
# chunks, often): the script catches each KeyboardInterrupt and goes on. Nothing recorded may be
# lost to an interrupt that lands inside the tracer's own hand-over.
import os, signal, threading, time

N = 200_000
i = 0
interrupts = 0


def storm():
    time.sleep(0.05)  # the main thread is inside its loop by then
    for _ in range(200):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.0003)


def leaf(k):
    return k + 1


t = threading.Thread(target=storm, daemon=True)
t.start()
while True:
    # two levels: an interrupt landing in the inner handler itself is caught by the outer one
    try:
        try:
            while i < N:
                i = leaf(i)
            while t.is_alive():
                time.sleep(0.001)
            # the storm is over; deferred ones may still come: stop after 0.5 s without one (an
            # interrupt in the sleep starts it again), ignoring any later one
            time.sleep(0.5)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            break
        except KeyboardInterrupt:
            interrupts += 1
    except KeyboardInterrupt:
        interrupts += 1
# Signals that come while one is pending merge into one (also without InferScope): at least one
# must reach the script.
print("interrupted" if interrupts > 0 else "no interrupt reached the script")
