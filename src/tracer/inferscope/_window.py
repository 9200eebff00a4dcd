"""Capture windows: what the recorder records only while a window is open.

A window opens and closes by `--delay S` / `--duration S` (timers here), by the script
(`inferscope.start()` / `inferscope.stop()`) and by signals (SIGUSR1 opens, SIGUSR2 closes; the
`inferscope run` process forwards them here). Outside a window:
  - Python calls: the C hot path's flag is off and, on 3.9-3.11, its profile function is taken
    off every thread; on 3.12+ the sys.monitoring events are switched off; the pure-Python
    fallbacks check a flag;
  - scopes and marks: `scope()` hands back a placeholder and `mark_event()` returns at once;
  - CUPTI: the shim disables its activity kinds (is_cupti_capture);
so nothing is recorded and nothing costs more than a flag check. The parent keeps only the /proc
samples taken inside the windows. Each window's (start, end) in CLOCK_MONOTONIC ns goes into the
end record's "capture" entry; the reader closes spans still open when a window closed there.
"""

import _thread
import os
import sys
import time
from time import perf_counter_ns as _now

from inferscope import _torch_ops

SIG_START, SIG_STOP = "SIGUSR1", "SIGUSR2"

# The original: _guards wraps sys.monitoring.set_events to notice the script switching off
# InferScope's tool; a window opening or closing must not count as that.
_set_events = getattr(getattr(sys, "monitoring", None), "set_events", None)


class Window(object):
    def __init__(self, rec, opts):
        self.rec = rec
        self.delay = max(0.0, float(opts.get("delay") or 0))
        self.duration = max(0.0, float(opts.get("duration") or 0))
        self.manual = opts.get("capture") == "manual"
        # Set once anything chose a window (options, start/stop, a signal): only then is the
        # capture stated in the report.
        self.controlled = self.manual or self.delay > 0 or self.duration > 0
        self.windows = []  # [start ns, end ns or None, opened by, closed by]
        self.lock = _thread.allocate_lock()
        self.generation = 0
        self.signals = False
        # Resolved now, not on the timer or signal thread: os.environ.get and ctypes run Python
        # code of the stdlib, which would be recorded there once a window is open.
        self.cupti = self._find_cupti()
        # Child processes (issue 11 follows them) keep the run's windows: --delay/--duration
        # count from the root process's start (t0, handed down in $_INFERSCOPE_RUN by
        # hand_down_t0), not from the child's own; manual windows open by the child's own
        # start()/stop() and signals.
        self.anchor = opts.get("t0") if not getattr(rec, "root", True) else None
        self.t0 = None

    # ---- start-up -----------------------------------------------------------------------------

    def begin(self):
        """Called once the back-end is installed, before the script runs."""
        now = _now()
        anchored = isinstance(self.anchor, int) and 0 < self.anchor <= now
        self.t0 = self.anchor if anchored else now
        if self.manual:
            self._apply(False)
            return
        self._resume(now, None)

    def _resume(self, now, opened_at):
        """Opens/arms what the run's --delay/--duration call for at `now` (opened_at: the start
        of the window open now, or None when none is)."""
        elapsed = (now - self.t0) / 1e9
        if opened_at is None and self.delay > elapsed:
            self._apply(False)
            self._timer(self.delay - elapsed, "delay")
            return
        if opened_at is None:
            if self.windows or (self.duration > 0 and elapsed >= self.delay + self.duration):
                self._apply(False)  # the run's window is over (or was closed): stays closed
                return
            self.open("delay" if self.delay > 0 else "start", left=(self.delay + self.duration - elapsed) if self.duration > 0 else None)
        elif self.duration > 0:
            left = self.duration - (now - opened_at) / 1e9
            if left <= 0:
                self.close("duration")
            else:
                self._timer(left, "duration", self.generation)

    def hand_down_t0(self):
        """The root process, before anything is recorded: its start becomes the run's t0, which
        its Python subprocesses read from $_INFERSCOPE_RUN."""
        if not getattr(self.rec, "root", False) or self.anchor is not None:
            return
        self.anchor = _now()
        try:
            import json

            spec = json.loads(os.environ["_INFERSCOPE_RUN"])
            spec["t0"] = self.anchor
            os.environ["_INFERSCOPE_RUN"] = json.dumps(spec)
        except Exception:
            pass

    def after_fork(self):
        """A followed forked child: the window state at the fork carries over (open stays open,
        closed stays closed); the parent's timers do not run here, so the time they had left is
        armed again; the child's file states its own windows from the fork on."""
        self.lock = _thread.allocate_lock()
        now = _now()
        live = self.rec.live
        opened_at = self.windows[-1][0] if live and self.windows else None
        self.windows = [[now, None, "fork", None]] if live else []
        self.generation += 1
        # The child never drives CUPTI: it inherited the parent's collector state, and CUDA is
        # unusable after a fork anyway.
        self.cupti = None
        self._apply(live)
        if self.manual or self.t0 is None:
            return
        if live:
            self._resume(now, opened_at)
        elif self.delay > (now - self.t0) / 1e9:
            self._timer(self.delay - (now - self.t0) / 1e9, "delay")

    def install_signals(self):
        """SIGUSR1/SIGUSR2 open/close a window, where the script left them at their default."""
        try:
            import signal
            import threading

            if threading.current_thread() is not threading.main_thread():
                return
            if signal.getsignal(signal.SIGUSR1) != signal.SIG_DFL or signal.getsignal(signal.SIGUSR2) != signal.SIG_DFL:
                self.rec.warnings.append("the script handles SIGUSR1/SIGUSR2 itself: the capture-window signals are left to it (use inferscope.start()/stop())")
                return
            # The handler runs in the main thread between two bytecodes, maybe inside open() or
            # close() holding the lock: the change is made on a thread of its own.
            signal.signal(signal.SIGUSR1, lambda s, f: _thread.start_new_thread(self.open, (SIG_START,)))
            signal.signal(signal.SIGUSR2, lambda s, f: _thread.start_new_thread(self.close, (SIG_STOP,)))
            self.signals = True
        except Exception:
            pass

    # ---- open / close -------------------------------------------------------------------------

    def open(self, by, left=None):
        with self.lock:
            rec = self.rec
            if by != "start":
                self.controlled = True
            if rec.live or rec.done:
                return False
            self.generation += 1
            gen = self.generation
            self.windows.append([_now(), None, by, None])
            self._apply(True)
        if self.duration > 0:
            self._timer(self.duration if left is None else left, "duration", gen)
        return True

    def close(self, by, gen=None):
        with self.lock:
            rec = self.rec
            self.controlled = True
            if not rec.live or rec.done or (gen is not None and gen != self.generation):
                return False
            self._apply(False)
            w = self.windows[-1]
            w[1] = _now()
            w[3] = by
        # Spill mode: what the window recorded is written now, not left in the buffers until the
        # next window or the end (a SIGKILL in between would lose it).
        try:
            self.rec.checkpoint()
        except Exception:
            pass
        return True

    def _apply(self, on):
        rec = self.rec
        rec.live = on
        if on:
            _torch_ops.capture(on)  # before the hot path records: nothing of this call is traced
        if rec.c is not None:
            rec.capture_moves_profile = bool(rec.c["capture"](1 if on else 0))
        if rec.backend == "sys.monitoring" or rec.backend == "sys.monitoring+c":
            try:
                E = sys.monitoring.events
                all_events = getattr(rec, "monitoring_events", None) or (E.PY_START | E.PY_RESUME | E.PY_RETURN | E.PY_YIELD | E.PY_THROW | E.PY_UNWIND)
                _set_events(rec.tool_id, all_events if on else 0)
            except Exception:
                pass
        self._cupti(on)
        if not on:
            _torch_ops.capture(on)

    @staticmethod
    def _find_cupti():
        shim = os.environ.get("CUDA_INJECTION64_PATH")
        if not shim or not os.environ.get("_INFERSCOPE_GPU_OUT"):
            return None
        try:
            import ctypes

            # The library the driver loads (or will load) at cuInit: the same handle.
            return ctypes.CDLL(shim).is_cupti_capture
        except (OSError, AttributeError):
            return None

    def _cupti(self, on):
        if self.cupti is not None:
            self.cupti(1 if on else 0)

    def _timer(self, seconds, what, gen=None):
        # A bare _thread: no threading.Thread, so nothing of it is recorded or joined at exit.
        def run():
            time.sleep(seconds)
            if what == "delay":
                self.open("delay")
            else:
                self.close("duration", gen)

        _thread.start_new_thread(run, ())

    # ---- at the end ---------------------------------------------------------------------------

    def finish(self, t_end):
        """The end record's "capture" entry (None when nothing chose a window)."""
        with self.lock:
            if self.rec.live and self.windows and self.windows[-1][1] is None:
                self.windows[-1][1] = t_end
                self.windows[-1][3] = "end"
            self.rec.live = False
        return self.state(t_end, "end")

    def state(self, t_end, by):
        """The "capture" entry as of t_end, a window still open shown closed there by `by`
        (os.exec* writes an end record while recording goes on); None when nothing chose one."""
        if not self.controlled:
            return None
        with self.lock:
            windows = [list(w) for w in self.windows]
        if windows and windows[-1][1] is None:
            windows[-1][1] = t_end
            windows[-1][3] = by
        return {
            "windows": windows,
            "delay": self.delay,
            "duration": self.duration,
            "mode": "manual" if self.manual else "auto",
            "signals": self.signals,
        }
