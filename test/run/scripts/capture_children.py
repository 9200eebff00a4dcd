# Capture window × waits × a forked child (test/run/capture-children.test.ts): sleeps before,
# inside and after a manual window, a child forked inside it that closes its own window, and one
# forked outside it that opens its own.
import os
import time

import inferscope


def before():
    time.sleep(0.03)


def inside():
    time.sleep(0.03)


def child_inside():
    time.sleep(0.03)


def child_outside():
    time.sleep(0.03)


def forked_outside():
    time.sleep(0.03)


def reopened_in_child():
    time.sleep(0.03)


def after():
    time.sleep(0.03)


before()
inferscope.start()
inside()
pid = os.fork()
if pid == 0:
    child_inside()
    inferscope.stop()
    child_outside()
    os._exit(0)
os.waitpid(pid, 0)
inferscope.stop()
after()
pid = os.fork()
if pid == 0:  # forked outside the window: records nothing until its own start()
    forked_outside()
    import colorsys  # noqa: F401  (an import span: not recorded outside the window either)

    inferscope.start()
    reopened_in_child()
    os._exit(0)
os.waitpid(pid, 0)
