# Child processes of every kind, for test/run/children.test.ts: each child runs child_work()
# (a recognisable function) in a scope, then ends the way MODE says.
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time

from inferscope import scope


def child_work(n=200):
    total = 0
    for i in range(n):
        total += leaf(i)
    return total


def leaf(i):
    return i * i


def run_child(tag):
    with scope("child-" + tag):
        child_work()


def killed_child(tag):
    with scope("child-" + tag):
        child_work()
        time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGKILL)


def main(mode):
    child_work(50)
    if mode == "fork":
        pid = os.fork()
        if pid == 0:
            run_child("fork")
            sys.exit(0)
        os.waitpid(pid, 0)
    elif mode.startswith("mp-"):
        ctx = mp.get_context(mode[3:])
        p = ctx.Process(target=run_child, args=(mode,))
        p.start()
        p.join()
    elif mode == "subprocess":
        code = "import sys; sys.path.insert(0, %r); import children; children.run_child('subprocess')" % os.path.dirname(os.path.abspath(__file__))
        subprocess.run([sys.executable, "-c", code], check=True)
    elif mode == "kill-fork":
        pid = os.fork()
        if pid == 0:
            killed_child("kill-fork")
        os.waitpid(pid, 0)
    elif mode == "kill-spawn":
        p = mp.get_context("spawn").Process(target=killed_child, args=("kill-spawn",))
        p.start()
        p.join()
    elif mode == "isolated":
        # -I: no PYTHONPATH, no site: InferScope's bootstrap cannot start in it
        subprocess.run([sys.executable, "-I", "-c", "import time; time.sleep(0.3)"], check=True)
    child_work(50)
    print("done", mode)


if __name__ == "__main__":
    main(sys.argv[1])
