"""Small programs for the fault and defect tests, run under `inferscope run` through the SIMULATED
CUDA driver (README.md). Each launches synthetic kernels (hand-made: names and intervals chosen
here, placed just after the call on the simulated GPU) from named Python functions, then ends as
the scenario says.

    python scenario.py NAME [ARGS…]
"""

import ctypes
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import replay  # noqa: E402

DRIVER, RUNTIME = 1, 2
# cbids (cupti_runtime_cbid.h / cupti_driver_cbid.h)
cudaLaunchKernel, cudaLaunchKernel_ptsz = 211, 214
__cudaLaunchKernel, __cudaLaunchKernel_ptsz = 505, 506
cudaMemcpyAsync, cudaMalloc, cudaHostAlloc, cudaMallocManaged, cudaFree = 41, 20, 23, 150, 22
cuLaunchKernel = 307

lib = replay.driver()
ORIGIN = time.perf_counter_ns()


def start():
    if lib.cuInit(0) != 0:
        sys.exit("scenario.py: cuInit failed")
    lib.gpusimSetOrigin(ORIGIN)


def kernel(name, dur_us=20.0, delay_us=200.0, stream=7):
    now = time.perf_counter_ns() - ORIGIN
    op = replay.Op(start=now + int(delay_us * 1000), end=now + int((delay_us + dur_us) * 1000), name=name.encode(), kind=replay.KERNEL, stream=stream)
    op.grid[:] = [1, 1, 1]
    op.block[:] = [128, 1, 1]
    return op


def launch_args(name, cbid=cudaLaunchKernel, domain=RUNTIME, inner=0, **kw):
    """gpusimLaunch's arguments; the caller makes the call, so its frame is the innermost one."""
    return domain, cbid, inner, -1, ctypes.byref(kernel(name, **kw)), 1


def launch(name, **kw):
    return lib.gpusimLaunch(*launch_args(name, **kw))


def my_step(i, name="void step_kernel<float>(float*)"):
    return lib.gpusimLaunch(*launch_args(name))


def run_for(seconds):
    """Launches from my_step until `seconds` have passed; returns the number of launches."""
    n = 0
    end = time.perf_counter_ns() + int(seconds * 1e9)
    while time.perf_counter_ns() < end:
        my_step(n)
        n += 1
        time.sleep(0.0002)
    return n


def say(*a):
    print(*a, flush=True)


# ---- scenarios ---------------------------------------------------------------------------------


def nvcc13_launches():
    """nvcc-13 host stubs launch through __cudaLaunchKernel(_ptsz); one also runs a nested cudaLaunchKernel."""

    def torch_own_kernel():
        lib.gpusimLaunch(*launch_args("void at::native::elementwise<1>()", cbid=__cudaLaunchKernel))

    def per_thread_stream():
        lib.gpusimLaunch(*launch_args("void at::native::elementwise<2>()", cbid=__cudaLaunchKernel_ptsz))

    def nested_launch():
        lib.gpusimLaunch(*launch_args("void at::native::elementwise<3>()", cbid=__cudaLaunchKernel, inner=cudaLaunchKernel))

    def cublas_gemm():
        lib.gpusimLaunch(*launch_args("sm90_xmma_gemm_f16f16_f16f32", cbid=cuLaunchKernel, domain=DRIVER))

    start()
    for f in (torch_own_kernel, per_thread_stream, nested_launch, cublas_gemm):
        f()
    lib.cuCtxSynchronize()


def run_then(how, seconds):
    """Launches for `seconds`, waits for the GPU and idles 2.2 s (the shim's 1 s flusher hands those
    records to disk: CUPTI delivers only buffers whose records are all finished), launches 0.3 s
    more and one long kernel, then ends while that kernel runs: `kill`, SIGKILL (no final flush);
    `os_exit`, os._exit(3) (InferScope's tracer runs its final flush first). `seconds` 0: ends
    right away."""
    start()
    if float(seconds) == 0:
        n = run_for(0.2)
        say("launched", n, "delivered 0")
    else:
        n = run_for(float(seconds))
        lib.cuCtxSynchronize()
        time.sleep(2.2)
        more = run_for(0.3)
        launch("void still_running()", dur_us=10e6)  # the GPU is busy when the process dies
        say("launched", n + more + 1, "delivered", n)
    if how == "os_exit":
        os._exit(3)
    if how == "kill":
        os.kill(os.getpid(), 9)


def fork_both():
    """Both sides of a fork launch; the child's calls fail as CUDA's do after fork; both exit."""
    start()
    for i in range(200):
        my_step(i)
    pid = os.fork()
    if pid == 0:
        failed = sum(launch("void child_kernel()") != 0 for _ in range(50))
        say("child: %d launches failed" % failed)
        sys.exit(0)
    for i in range(200):
        my_step(i)
    os.waitpid(pid, 0)
    lib.cuCtxSynchronize()


def cuda_child():
    """A subprocess that uses CUDA itself: both processes record, each into its own file."""
    start()
    for i in range(100):
        my_step(i)
    subprocess.run([sys.executable, os.path.abspath(__file__), "child_work"], check=True)
    lib.cuCtxSynchronize()


def child_work(n=100, name="child_kernel"):
    start()
    for i in range(int(n)):
        launch("void %s()" % name)
    lib.cuCtxSynchronize()
    say("child pid", os.getpid())


def two_children():
    """Two subprocesses launch kernels at the same time (120 and 80), the script 100 of its own."""
    start()
    me = [sys.executable, os.path.abspath(__file__), "child_work"]
    a = subprocess.Popen(me + ["120", "child_a_kernel"])
    b = subprocess.Popen(me + ["80", "child_b_kernel"])
    for i in range(100):
        my_step(i)
    lib.cuCtxSynchronize()
    if a.wait() or b.wait():
        sys.exit("scenario.py: a child failed")


def mp_work(n, name):
    """A multiprocessing child's work: it initialises CUDA itself."""
    child_work(n, name)


def spawn_and_fork():
    """A multiprocessing `fork` child (forked before the script used CUDA: CUDA cannot be used in a
    child forked after) and a `spawn` child each initialise CUDA and launch (40 and 60); the script
    launches 100 itself in between."""
    import multiprocessing as mp

    forked = mp.get_context("fork").Process(target=mp_work, args=(40, "fork_kernel"))
    forked.start()
    start()
    spawned = mp.get_context("spawn").Process(target=mp_work, args=(60, "spawn_kernel"))
    spawned.start()
    for i in range(100):
        my_step(i)
    lib.cuCtxSynchronize()
    forked.join()
    spawned.join()
    say("fork pid", forked.pid, "spawn pid", spawned.pid)
    if forked.exitcode or spawned.exitcode:
        sys.exit("scenario.py: a child failed")


def child_killed():
    """A subprocess launches, is killed mid-run (SIGKILL, a kernel still running: run_then kill 0.5);
    the script launches 100 kernels before and after, and ends normally."""
    start()
    for i in range(50):
        my_step(i)
    r = subprocess.run([sys.executable, os.path.abspath(__file__), "run_then", "kill", "0.5"], stdout=subprocess.PIPE, text=True)
    say("child:", r.stdout.strip(), "exit", r.returncode)
    for i in range(50):
        my_step(i)
    lib.cuCtxSynchronize()


def unfinished_at_exit():
    """Work still running at exit (no synchronize): the forced flush hands over an unfinished record."""
    start()
    for i in range(100):
        my_step(i)
    lib.cuCtxSynchronize()
    launch("void long_kernel()", dur_us=30e6)


def many_names(n):
    start()
    for i in range(int(n)):
        launch("void kernel_%05d()" % i)
    lib.cuCtxSynchronize()


def demangle():
    """Loads libstdc++ as Python loads an extension's dependency (RTLD_LOCAL), then a mangled name."""
    with open("/proc/self/maps") as f:
        if "libstdc++" in f.read():
            sys.exit("scenario.py: libstdc++ is already loaded; this check needs it loaded RTLD_LOCAL only")
    ctypes.CDLL("libstdc++.so.6", mode=os.RTLD_LOCAL)
    start()
    for i in range(3):
        launch("_ZN7cutlass7Kernel2I43cutlass_80_simt_sgemm_256x128_8x4_nn_align1EEvNT_6ParamsE")
    lib.cuCtxSynchronize()


def memory():
    start()
    a = ctypes.c_uint64()
    gib = 1 << 30
    lib.gpusimMalloc(RUNTIME, cudaMalloc, gib, 3, ctypes.byref(a))  # DEVICE
    pinned = ctypes.c_uint64()
    lib.gpusimMalloc(RUNTIME, cudaHostAlloc, 2 * gib, 2, ctypes.byref(pinned))  # PINNED host memory
    managed = ctypes.c_uint64()
    lib.gpusimMalloc(RUNTIME, cudaMallocManaged, gib // 2, 5, ctypes.byref(managed))  # MANAGED
    my_step(0)
    lib.gpusimFree(RUNTIME, cudaFree, a.value)
    lib.cuCtxSynchronize()


def driver_correlated_copy():
    """A runtime copy whose record carries the correlation id of an internal driver call."""
    start()

    def copy_to_host():
        now = time.perf_counter_ns() - ORIGIN
        op = replay.Op(start=now + 5000, end=now + 9000, kind=replay.MEMCPY, stream=7, bytes=4096, copy_kind=2, src_kind=3, dst_kind=2, flags=1 | 2)
        lib.gpusimMemcpy(RUNTIME, cudaMemcpyAsync, -1, ctypes.byref(op))

    copy_to_host()
    lib.cuCtxSynchronize()


def hung_kernel():
    """A kernel that never ends, then wait to be stopped (SIGTERM). torch here is a hand-made
    stand-in (test/gpu-sim/stub_torch) whose cuda.synchronize is the driver's cuCtxSynchronize."""
    import torch  # noqa: F401  (the stand-in: _cuda's exit hook synchronizes through it)

    start()
    for i in range(10):
        my_step(i)
    now = time.perf_counter_ns() - ORIGIN
    op = replay.Op(start=now + 5000, end=(1 << 62), name=b"void hung_kernel()", kind=replay.KERNEL, stream=7)
    lib.gpusimLaunch(RUNTIME, cudaLaunchKernel, 0, -1, ctypes.byref(op), 1)
    say("ready")
    time.sleep(600)


def switch_gpu(visible):
    """The script picks its GPU itself, after InferScope listed the one it would use."""
    os.environ["CUDA_VISIBLE_DEVICES"] = visible
    many_names(3)


def symlink_out_then_run(target):
    """This process's gpu-<pid>.bin on another filesystem (a small tmpfs the test mounted): the disk fills mid-run."""
    out = "%s-%d.bin" % (os.environ["_INFERSCOPE_GPU_OUT"], os.getpid())  # this process's records file
    os.symlink(target, out)
    start()
    for i in range(3000):
        my_step(i)
    lib.cuCtxSynchronize()


def window_api(before, inside, after):
    """Capture windows: launches `before` kernels, inferscope.start(), `inside` more, stop(), `after` more."""
    import inferscope

    start()
    for i in range(int(before)):
        my_step(i)
    say("start", inferscope.start())
    for i in range(int(inside)):
        my_step(i)
    say("stop", inferscope.stop())
    for i in range(int(after)):
        my_step(i)
    lib.cuCtxSynchronize()


def window_timed(seconds):
    """Capture windows by --delay/--duration: launches for `seconds`, says how many."""
    start()
    say("launched", run_for(float(seconds)))
    lib.cuCtxSynchronize()


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
