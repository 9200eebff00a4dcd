"""The recorder inside the profiled process (standard library only, Python 3.8+).

Started by the bootstrap (inferscope/_boot/sitecustomize.py) when `inferscope run` launched this
interpreter; never imported otherwise.

What it records, per OS thread, as a stream of (word, timestamp) int64 pairs:
  word & 7 == 0  Python call start      word >> 3 = code id   (entry, generator resume, throw)
  word & 7 == 1  Python call end        word >> 3 = code id   (return, yield, unwind)
  word & 7 == 2  scope begin            word >> 3 = token << 21 | name id
  word & 7 == 3  scope end              word >> 3 = token << 21 | name id (token: 0 for with-blocks,
                                        unique per call of a decorated coroutine/generator)
  word & 7 == 4  mark (instant)         word >> 3 = name id
  word & 7 == 5  attributes for the next scope begin / mark: word >> 3 = index into the
                 chunk's side table (a JSON array of objects); the timestamp slot is 0
A scope whose name starts with "\\0module\\0" is an nn.Module call (path, NUL, class: _modules.py).
  word & 7 == 6  wait begin              word >> 3 = name id of the blocking builtin (time.sleep,
  word & 7 == 7  wait end                lock.acquire, select.epoll.poll...; see _waits.py)
Timestamps are time.perf_counter_ns(): CLOCK_MONOTONIC on Linux, the clock of the parent and of
CUPTI. Python calls come from sys.monitoring on 3.12+ (tool id 3, else 4) and from sys.setprofile
(per-thread closures, installed in new threads through threading.setprofile) before that, through
the C hot path of ffi/pytrace.c when it loads (the back-ends: _backends.py); sys.settrace is
never used.

Each thread appends to its own list (no lock, no thread lookup in setprofile mode); when the list
holds a chunk's worth of words it becomes an array('q') chunk that is either written to the
session file (policy "spill": nothing is lost) or kept in memory, the oldest chunks being dropped
past the size budget (policy "wrap": the events lost are counted exactly).

File `python-<pid>.isc` in the session dir, a sequence of records:
  header  <4s I Q>: b"ISC1", record type, payload bytes
  type 1  tables: JSON {"codes": [[id, qualname, file, line, instructions, loop], ...], "names": [[id, name], ...]}
          (instructions, loop: the bytecode's shape, _shapes.py; absent for synthetic rows such as imports)
  type 2  chunk:  <i I I I> tid, words, side-table bytes, 0; then words * int64 (little endian),
                  then the side table (UTF-8 JSON array)
  type 3  end:    JSON metadata (pid, python, backend, dropped, threads, t_start, t_end, ...)
Tables precede the chunks that use them in spill mode; a reader should still read the whole file
before decoding. A file without an end record means the process died before the final flush.
"""

import _thread
import atexit
import os
import struct
import sys
import threading
from array import array
from collections import deque
from time import perf_counter_ns as _now

from inferscope import _backends, _guards, _quiet, _shapes
from inferscope._window import Window

# Spill mode writes every thread's pending records this often (from the first record made after
# the interval, by the C hot path; else from a background thread), so a process that dies without
# its exit handlers (SIGKILL, a crash in C) loses at most about this much of its recording.
FLUSH_INTERVAL_S = 1.0

# Record kinds (the low SHIFT bits of a word), also named in ffi/pytrace.c and in the reader
# (src/collect/python-events.ts); test/collect/record-kinds.test.ts keeps the three equal.
K_PY_START, K_PY_END, K_SCOPE_BEGIN, K_SCOPE_END, K_MARK, K_ATTRS, K_WAIT_BEGIN, K_WAIT_END = 0, 1, 2, 3, 4, 5, 6, 7
SHIFT = 3

REC_TABLES, REC_CHUNK, REC_END = 1, 2, 3
_HDR = struct.Struct("<4sIQ")
_CHUNK_HDR = struct.Struct("<iIII")
_MAGIC = b"ISC1"

# bytes.translate table: low byte of a word -> 1 when it opens an event (call start, scope
# begin, mark), so a dropped chunk's events are counted with C-speed byte operations.
_OPENS = bytes(1 if (v & 7) in (K_PY_START, K_SCOPE_BEGIN, K_MARK, K_WAIT_BEGIN) else 0 for v in range(256))
# ... and 2 when it opens a wait: waits come and go with the machine's load (a read that blocks
# only now and then), so the drop count says how many of its events were waits.
_OPENS_WAITS = bytes(2 if (v & 7) == K_WAIT_BEGIN else _OPENS[v] for v in range(256))

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def _make_dumps():
    # The C encoder directly: json.dumps would run Python-level stdlib functions, which the
    # tracer would record in "all" mode from the thread that happens to flush.
    try:
        from _json import encode_basestring_ascii, make_encoder

        enc = make_encoder(None, str, encode_basestring_ascii, None, ":", ",", False, True, True)

        def dumps(obj):
            return "".join(enc(obj, 0))

        dumps({"probe": [1, "x", None, 1.5, True]})
        return dumps
    except Exception:
        import json

        def dumps(obj):
            return json.dumps(obj, default=str, separators=(",", ":"))

        return dumps


_dumps = _make_dumps()

_SCALARS = (str, int, bool, type(None))

# Scope words: (token << 21 | name id) << 3 | kind. Token 0 for with-blocks (they nest, and are
# paired by name); a per-call token for decorated coroutines/generators.
_NAME_LIMIT = 1 << 21
_TOKEN_SHIFT = 21 + SHIFT
_TOKENS = __import__("itertools").count(1)


def _clean_value(v):
    t = type(v)
    if t in _SCALARS:
        return v
    if t is float:
        return v if v == v and v not in (float("inf"), float("-inf")) else str(v)
    if t in (list, tuple) and len(v) <= 64:
        out = []
        for x in v:
            tx = type(x)
            out.append(x if tx in _SCALARS or (tx is float and x == x and abs(x) != float("inf")) else str(x))
        return out
    s = str(v)
    return s if len(s) <= 256 else s[:253] + "..."


def _clean_attrs(attrs):
    return {str(k): _clean_value(v) for k, v in attrs.items()}


class _ThreadBuf(object):
    __slots__ = ("tid", "ident", "name", "thread", "buf", "side")

    def __init__(self, tid, ident, thread):
        self.tid = tid
        self.ident = ident
        self.thread = thread  # the threading.Thread, when found: its name is read at the end
        self.name = None
        self.buf = []
        self.side = []

    def final_name(self):
        if self.thread is not None:
            try:
                return str(self.thread.name)
            except Exception:
                pass
        return self.name


def _find_thread(ident, frame):
    """The threading.Thread running this OS thread, without creating a _DummyThread: from
    threading's registry, or, early in Thread._bootstrap (before it registers itself), from
    the `self` of a frame on the stack."""
    try:
        t = threading._active.get(ident)
        if t is not None:
            return t
        f = frame
        while f is not None:
            if "self" in f.f_code.co_varnames:
                obj = f.f_locals.get("self")
                if isinstance(obj, threading.Thread):
                    return obj
            f = f.f_back
    except Exception:
        pass
    return None


class _Scope(object):
    """An active scope: begin/end records on the calling thread's stream."""

    __slots__ = ("_rec", "_begin", "_end", "_attrs", "name")

    def __init__(self, rec, name, attrs):
        nid = rec.name_id(name)
        self._rec = rec
        self._begin = (nid << SHIFT) | K_SCOPE_BEGIN
        self._end = (nid << SHIFT) | K_SCOPE_END
        self._attrs = _clean_attrs(attrs) if attrs else None
        self.name = name

    def __enter__(self):
        self._rec.open_scope(self._begin, self._attrs)
        return self

    def __exit__(self, exc_type, exc, tb):
        self._rec.close_scope(self._end)
        return False

    def __call__(self, fn):
        import functools
        import inspect

        rec, begin, end, attrs = self._rec, self._begin, self._end, self._attrs
        # Coroutines and generators interleave on one thread (A begins, B begins, A ends): each
        # call gets a token in its begin/end words so the reader pairs them exactly.
        tokens = _TOKENS if (begin >> SHIFT) < _NAME_LIMIT else None
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def scoped_coroutine(*args, **kwargs):
                tok = (next(tokens) << _TOKEN_SHIFT) if tokens is not None else 0
                rec.open_scope(begin | tok, attrs)
                try:
                    return await fn(*args, **kwargs)
                finally:
                    rec.close_scope(end | tok)

            return scoped_coroutine
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def scoped_generator(*args, **kwargs):
                tok = (next(tokens) << _TOKEN_SHIFT) if tokens is not None else 0
                rec.open_scope(begin | tok, attrs)
                try:
                    return (yield from fn(*args, **kwargs))
                finally:
                    rec.close_scope(end | tok)

            return scoped_generator

        @functools.wraps(fn)
        def scoped(*args, **kwargs):
            rec.open_scope(begin, attrs)
            try:
                return fn(*args, **kwargs)
            finally:
                rec.close_scope(end)

        return scoped


class Recorder(object):
    def __init__(self, opts):
        self.dir = opts["dir"]
        self.opts = opts
        self.calls = opts.get("calls", "all")
        if self.calls not in ("all", "user", "none"):
            self.calls = "all"
        self.policy = "wrap" if opts.get("buffer") == "wrap" else "spill"
        self.size_mb = float(opts.get("sizeMb", 100))
        self.size_bytes = max(1, int(self.size_mb * 1048576))
        # A chunk is 1/16 of the budget (at most 1 MiB, at least 4 KiB), so wrap mode keeps most
        # of its budget when it drops one.
        chunk_bytes = max(4096, min(1 << 20, self.size_bytes // 16))
        self.cap = chunk_bytes // 8  # list length (words) at which a thread's chunk is sealed
        self.pid = os.getpid()
        self.path = os.path.join(self.dir, "python-%d.isc" % self.pid)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o644)
        self.ilock = _thread.allocate_lock()  # code/name tables and the thread list
        self.wlock = _thread.allocate_lock()  # the file and the wrap queue
        # a periodic flush, an exec and the final flush drain the buffers one at a time;
        # re-entrant: a signal handler may call finish() while this thread is in a flush
        self.flock = threading.RLock()
        self.slock = _thread.allocate_lock()  # taking a thread's records from its list: see _seal
        # Keyed by id(code): hashing a code object is slow (3.12 hashes its bytecode), and the
        # objects are kept alive in code_objs so an id is never reused.
        self.codes = {}  # id(code) -> start word (0: not recorded)
        self.ends = {}  # id(code) -> end word (0: not recorded)
        self.code_objs = []
        self.code_rows = []  # tables not yet written
        self.all_code_rows = []  # every row: a followed forked child restates them in its file
        self.names_synthetic = {}  # (name, file) -> start word of spans with no code object
        self.ncodes = 0
        self.names = {}
        self.name_rows = []
        self.all_name_rows = []
        self.file_is_user = {}
        self.lib_prefixes = None
        self.threads = []
        self.tl = threading.local()
        self.retained = deque()
        self.retained_bytes = 0
        self.dropped = 0
        self.dropped_chunks = 0
        self.dropped_waits = 0  # of self.dropped
        self.spilled_chunks = 0
        self.chunks_written = 0
        self.write_error = None  # first OSError writing the record file (then nothing more is written)
        self.warnings = []
        self.backend = "none"
        self.tool_id = None
        self.stopping = False  # finish() is removing the back-end (the guards stay quiet)
        self.done = False  # finish() has begun: no more chunk writes from other threads
        self.closed = False  # finish() is over: the file is closed
        self.finish_hooks = []
        self.t_start = _now()
        self.reason = "exit"
        self.shim = opts.get("shim")
        self.c = None  # the C hot path (ffi/pytrace.c), when it could be loaded
        # _INFERSCOPE_FLUSH_INTERVAL_S: tests only (a tiny interval makes flushes race the script)
        self.flush_interval_s = float(os.environ.get("_INFERSCOPE_FLUSH_INTERVAL_S") or FLUSH_INTERVAL_S)
        self.ticks_from_c = False  # the C hot path calls checkpoint() itself
        self.waits = False  # blocking builtins recorded as waits (C hot path only)
        self.follow = bool(opts.get("follow", True))
        self.ppid = os.getppid()
        self.root = int(opts.get("ppid", -1)) == self.ppid  # the process InferScope started
        self.forked = False
        self.live = False  # a capture window is open (_window.py); set by Window.begin()
        self.capture_moves_profile = False  # capture() takes the C profile function off threads
        self.window = Window(self, opts)

    # ---- tables ---------------------------------------------------------------------------

    def _libs(self):
        if self.lib_prefixes is None:
            import site
            import sysconfig

            paths = set()
            try:
                for key in ("stdlib", "platstdlib", "purelib", "platlib"):
                    p = sysconfig.get_paths().get(key)
                    if p:
                        paths.add(p)
            except Exception:
                pass
            try:
                paths.update(site.getsitepackages())
            except Exception:
                pass
            try:
                paths.add(site.getusersitepackages())
            except Exception:
                pass
            paths.add(os.path.dirname(os.__file__))
            for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
                paths.add(os.path.join(prefix, "lib", "python%d.%d" % sys.version_info[:2]))
            out = set()
            for p in paths:
                for q in (os.path.abspath(p), os.path.realpath(p)):
                    out.add(q.rstrip(os.sep) + os.sep)
            self.lib_prefixes = tuple(sorted(out))
        return self.lib_prefixes

    def _is_user_file(self, filename):
        r = self.file_is_user.get(filename)
        if r is None:
            if filename.startswith("<"):
                # <frozen ...>, and <string>: code the stdlib generates (namedtuple, dataclasses)
                r = False
            else:
                a = os.path.abspath(filename)
                r = not (a.startswith(self._libs()) or os.path.realpath(a).startswith(self._libs()))
            self.file_is_user[filename] = r
        return r

    def intern_code(self, code, frame=None):
        """Start word for a code object (0 when its calls are not recorded); fills the tables."""
        key = id(code)
        w = self.codes.get(key)
        if w is not None:
            return w
        filename = code.co_filename
        keep = not filename.startswith(_PKG_DIR) and (self.calls == "all" or self._is_user_file(filename))
        name = (getattr(code, "co_qualname", None) or self._qualname(code, frame)) if keep else None
        shape = _shapes.shape(code) if keep else None
        with self.ilock:
            w = self.codes.get(key)
            if w is not None:
                return w
            self.code_objs.append(code)
            if not keep:
                self.ends[key] = 0
                self.codes[key] = 0
                return 0
            self.ncodes += 1
            cid = self.ncodes
            row = [cid, name, filename, code.co_firstlineno]
            row.extend(shape)
            self.code_rows.append(row)
            self.all_code_rows.append(row)
            self.ends[key] = (cid << SHIFT) | K_PY_END
            w = self.codes[key] = (cid << SHIFT) | K_PY_START
        return w

    def never_record(self, code):
        """Calls of this code object are not recorded (the tracer's own, compiled elsewhere)."""
        with self.ilock:
            self.code_objs.append(code)
            self.codes[id(code)] = 0
            self.ends[id(code)] = 0

    def intern_named(self, name, filename):
        """Start word of a synthetic function (an import span): a code row with no code object."""
        key = (name, filename)
        with self.ilock:
            w = self.names_synthetic.get(key)
            if w is not None:
                return w
            self.ncodes += 1
            cid = self.ncodes
            row = [cid, name, filename, 0]
            self.code_rows.append(row)
            self.all_code_rows.append(row)
            w = self.names_synthetic[key] = (cid << SHIFT) | K_PY_START
        return w

    def _first_event_here(self):
        """Pure-Python setprofile back-end: put this thread's profile function back (through the
        original sys.setprofile: the guarded one would report it as the script's doing)."""
        _backends._sys_setprofile(_backends._make_profiler(self, self._info().buf))

    @staticmethod
    def _qualname(code, frame):
        # Before 3.11 code objects have no co_qualname: find the class that defines the method.
        name = code.co_name
        try:
            if frame is not None and code.co_argcount and code.co_varnames[0] in ("self", "cls"):
                obj = frame.f_locals.get(code.co_varnames[0])
                cls = obj if isinstance(obj, type) else type(obj)
                for klass in cls.__mro__:
                    f = klass.__dict__.get(name)
                    f = getattr(f, "__func__", f)
                    f = getattr(f, "fget", f)
                    if getattr(f, "__code__", None) is code:
                        return klass.__qualname__ + "." + name
        except Exception:
            pass
        return name

    def name_id(self, name):
        nid = self.names.get(name)
        if nid is None:
            with self.ilock:
                nid = self.names.get(name)
                if nid is None:
                    nid = len(self.names) + 1
                    row = [nid, str(name)]
                    self.name_rows.append(row)
                    self.all_name_rows.append(row)
                    self.names[name] = nid
        return nid

    # ---- per-thread buffers ---------------------------------------------------------------

    def new_thread(self):
        ident = _thread.get_ident()
        info = _ThreadBuf(threading.get_native_id() if hasattr(threading, "get_native_id") else ident, ident, _find_thread(ident, sys._getframe(1)))
        self.tl.b = info.buf
        self.tl.info = info
        with self.ilock:
            self.threads.append(info)
        return info

    def _info(self):
        try:
            return self.tl.info
        except AttributeError:
            return self.new_thread()

    def chunk_full(self):
        """Called by a thread whose list reached the chunk size (from a callback or a scope)."""
        info = self._info()
        if self.closed:  # a daemon thread still running after the final flush
            del info.buf[:]
            info.side = []
        elif not self.done:  # during finish(), finish() seals every list itself
            if self.policy == "spill":
                self.spilled_chunks += 1
            self._seal(info)

    def _seal(self, info):
        # The periodic flush and finish() seal other threads' lists while those threads may be
        # appending: take a whole number of (word, ts) pairs (an append adds a whole pair in one
        # step under the GIL, at the end). slock: the owner sealing its full list (chunk_full)
        # and the flusher must not both take the same front of the list, or records are
        # written twice and others lost.
        b = info.buf
        with self.slock:
            n = len(b) & ~1
            if not n:
                return
            words = b[:n]
            del b[:n]
            side = info.side
            info.side = []
        arr = array("q")
        arr.fromlist(words)
        self._seal_data(info.tid, arr, side)

    def _seal_data(self, tid, arr, side):
        """A full chunk (array('q') or little-endian bytes) of one thread: spill it or keep it."""
        sideb = _dumps(side).encode("utf-8") if side else b""
        if self.policy == "spill":
            self._write_chunk(tid, arr, sideb)
        else:
            with self.wlock:
                self.retained.append((tid, arr, sideb))
                self.retained_bytes += memoryview(arr).nbytes + len(sideb)
                while self.retained_bytes > self.size_bytes and self.retained:
                    _tid, old, oldside = self.retained.popleft()
                    self.retained_bytes -= memoryview(old).nbytes + len(oldside)
                    events, waits = _count_events(old)
                    self.dropped += events
                    self.dropped_waits += waits
                    self.dropped_chunks += 1

    # ---- file -----------------------------------------------------------------------------

    # A signal handler may raise (KeyboardInterrupt) between any two Python calls here, as these
    # run inside the hot path's callbacks. So a record goes to the file in one os.writev (never
    # half a record), and the code/name tables leave the pending lists only once they are
    # written (a table written twice is harmless; one never written loses every name in it).

    def _write(self, rtype, parts):
        self._writev(self._record(rtype, parts))

    @staticmethod
    def _record(rtype, parts):
        n = 0
        for p in parts:
            n += memoryview(p).nbytes
        return [_HDR.pack(_MAGIC, rtype, n)] + list(parts)

    def _writev(self, parts):
        # A full disk or a removed run directory: stop writing, never raise. This runs from the
        # script's threads and from atexit, and an exception here would print a traceback into
        # the script's stderr; InferScope finds the file short and says so in one line.
        if self.write_error is not None:
            return
        try:
            k = os.writev(self.fd, parts)
            total = sum(memoryview(p).nbytes for p in parts)
            if k < total:  # a short write (a full disk): the rest, or the error, from plain writes
                rest = memoryview(b"".join(bytes(memoryview(p).cast("B")) for p in parts))[k:]
                while len(rest):
                    rest = rest[os.write(self.fd, rest):]
        except OSError as e:
            self.write_error = e.strerror or str(e)

    def _tables_record(self):
        """The pending code/name tables as one record (or []), and how many rows it holds."""
        with self.ilock:
            codes, names = self.code_rows[:], self.name_rows[:]
        if not codes and not names:
            return [], 0, 0
        # Outside the lock: _dumps is traced code, and interning it takes ilock.
        payload = _dumps({"codes": codes, "names": names}).encode("utf-8")
        return self._record(REC_TABLES, [payload]), len(codes), len(names)

    def _tables_written(self, nc, nn):
        with self.ilock:
            del self.code_rows[:nc]
            del self.name_rows[:nn]

    def _write_chunk(self, tid, arr, sideb):
        if sys.byteorder != "little" and isinstance(arr, array):
            arr = array("q", arr)
            arr.byteswap()
        with self.wlock:
            tables, nc, nn = self._tables_record()
            self._writev(tables + self._record(REC_CHUNK, [_CHUNK_HDR.pack(tid, memoryview(arr).nbytes // 8, len(sideb), 0), arr, sideb]))
            self._tables_written(nc, nn)
            self.chunks_written += 1

    # ---- scopes and marks -----------------------------------------------------------------

    def make_scope(self, name, attrs):
        return _Scope(self, name, attrs)

    def open_scope(self, word, attrs):
        if not self.live:
            return
        try:
            b = self.tl.b
        except AttributeError:
            b = self.new_thread().buf
        if b is None:  # a quiet stretch (_quiet.py): its Python calls are left out, not its scopes
            b = self.tl.info.buf
        if len(b) >= self.cap:
            self.chunk_full()
        if attrs:
            # attrs first: a flush between these lines loses the attributes, never mislabels
            side = self.tl.info.side
            side.append(attrs)
            b += (((len(side) - 1) << SHIFT) | K_ATTRS, 0)
        b += (word, _now())

    def close_scope(self, word):
        if not self.live:
            return
        try:
            b = self.tl.b
        except AttributeError:
            b = self.new_thread().buf
        if b is None:
            b = self.tl.info.buf
        b += (word, _now())

    def mark(self, name, attrs):
        if not self.live:
            return
        word = (self.name_id(name) << SHIFT) | K_MARK
        self.open_scope(word, _clean_attrs(attrs) if attrs else None)

    # ---- Python call tracing (the back-ends live in _backends.py) ------------------------

    def install(self):
        _backends.install(self)

    def _uninstall(self):
        _backends.uninstall(self)

    def add_thread(self, tid):
        """A thread the C hot path met for the first time (it keeps the thread's buffer itself).
        Called from C: frame 1 is the thread's own code."""
        ident = _thread.get_ident()
        info = _ThreadBuf(tid, ident, _find_thread(ident, sys._getframe(1)))
        with self.ilock:
            self.threads.append(info)

    def chunk_from_c(self, tid, data, side):
        """A full chunk handed over by the C hot path: spill it or keep it, as for our own lists."""
        if self.closed:
            return
        if self.policy == "spill":
            self.spilled_chunks += 1
        self._seal_data(tid, data, side)

    # ---- lifecycle ------------------------------------------------------------------------

    def checkpoint(self):
        """Writes every thread's pending records now (spill mode): the periodic flush, and the
        last thing before an exec."""
        if self.policy != "spill":
            return
        with self.flock:
            if self.done or os.getpid() != self.pid:
                return
            self._drain()
            with self.wlock:
                tables, nc, nn = self._tables_record()
                if tables:
                    self._writev(tables)
                    self._tables_written(nc, nn)

    def _drain(self):
        if self.c is not None:
            for tid, data, side in self.c["drain"]():
                self._seal_data(tid, data, side)
        with self.ilock:
            threads = list(self.threads)
        for info in threads:
            self._seal(info)
        return threads

    def before_exec(self, what):
        """The process is about to become another program (os.exec*): write what was recorded
        and an end record saying so. Recording goes on: if the exec fails, the final end record
        written at exit replaces this one."""
        if self.done or os.getpid() != self.pid:
            return
        with self.flock:
            if self.done:
                return
            threads = self._drain()
            for tid, arr, sideb in list(self.retained):
                self._write_chunk(tid, arr, sideb)
            self.retained.clear()  # written: if the exec fails, not again at exit
            self.retained_bytes = 0
            t_exec = _now()
            # the capture windows so far, one still open ending here as at the end of a run (it
            # stays open: if the exec fails, the end record written at exit states them again)
            meta = self._meta(threads, t_exec, "exec", self.window.state(t_exec, "end"))
            meta["exec"] = what
            with self.wlock:
                tables, nc, nn = self._tables_record()
                self._writev(tables + self._record(REC_END, [_dumps(meta).encode("utf-8")]))
                self._tables_written(nc, nn)

    def finish(self, reason=None):
        if self.done or os.getpid() != self.pid:
            return
        _quiet.begin()  # the flush (signal, ctypes, the finish hooks) is not the script's; never ended: recording stops
        # A Ctrl-C during the final flush would cut the record file short. Hold it until the
        # flush ends and then drop it: plain Python also ignores a KeyboardInterrupt in atexit,
        # so the exit status stays the script's (InferScope's parent saw the signal anyway).
        held = _hold_sigint()
        try:
            with self.flock:
                if not self.done:
                    self._finish(reason)
        finally:
            _release_sigint(held)

    def _finish(self, reason):
        if reason:
            self.reason = reason
        for hook in list(self.finish_hooks):
            try:
                hook()
            except Exception as e:
                self.warnings.append("finish hook failed: %s: %s" % (type(e).__name__, e))
        self.stopping = True
        self._uninstall()
        self.done = True
        if self.window.signals:
            # An ended process takes no more capture signals; its pid may be reused by a process
            # that SIGUSR1 would kill (children come and go: DataLoader workers).
            try:
                os.unlink(os.path.join(self.dir, "control-%d" % self.pid))
            except OSError:
                pass
        t_end = _now()
        capture = self.window.finish(t_end)
        if self.c is not None:
            self.c["stop"]()  # other threads' C profile functions (< 3.12) record nothing more
        threads = self._drain()
        if self.c is not None:
            chunks, events = self.c["lost"]()
            if chunks:
                self.dropped += events
                self.dropped_chunks += chunks
                self.warnings.append("%d chunk(s) of Python events (%d events) could not be written: an exception (a Ctrl-C?) interrupted the tracer while it wrote them" % (chunks, events))
        import inferscope

        inferscope._rec = None
        with self.wlock:
            tables, nc, nn = self._tables_record()
            if tables:
                self._writev(tables)
                self._tables_written(nc, nn)
        for tid, arr, sideb in list(self.retained):
            self._write_chunk(tid, arr, sideb)
        self.retained.clear()
        meta = self._meta(threads, t_end, self.reason, capture)
        with self.wlock:
            self._write(REC_END, [_dumps(meta).encode("utf-8")])
            os.close(self.fd)
            self.fd = -1
            self.closed = True

    def _meta(self, threads, t_end, reason, capture=None):
        meta = {
            "pid": self.pid,
            "python": "%d.%d.%d" % sys.version_info[:3],
            "implementation": sys.implementation.name,
            "executable": sys.executable,
            "backend": self.backend,
            "toolId": self.tool_id,
            "calls": self.calls,
            "buffer": {"policy": self.policy, "sizeMb": self.size_mb, "chunkWords": self.cap},
            "dropped": self.dropped,
            "droppedChunks": self.dropped_chunks,
            "droppedWaits": self.dropped_waits,
            "spilledChunks": self.spilled_chunks,
            "chunks": self.chunks_written,
            "tStart": self.t_start,
            "tEnd": t_end,
            "reason": reason,
            "clock": _clock_name(),
            "threads": [{"tid": i.tid, "name": i.final_name()} for i in threads],
            "warnings": self.warnings,
            "waits": self.waits,
            "process": _process_info(self),
        }
        if capture is not None:
            meta["capture"] = capture
        torch = sys.modules.get("torch")
        if torch is not None:
            try:
                meta["torch"] = str(torch.__version__)
                cuda = getattr(getattr(torch, "version", None), "cuda", None)
                if cuda:
                    meta["cuda"] = str(cuda)
                meta["torchThreads"] = int(torch.get_num_threads())
                meta["torchInteropThreads"] = int(torch.get_num_interop_threads())
            except Exception:
                pass
        from inferscope import _torch_ops

        meta["torchOps"] = _torch_ops.records()
        mods = sys.modules.get("inferscope._modules")
        if mods is not None and mods.forwards["calls"]:
            meta["forwards"] = dict(mods.forwards)
        return meta

    def after_fork_in_child(self):
        if self.follow and not self.done:
            try:
                self._restart_in_child()
                return
            except Exception as e:  # never break the child: fall back to recording nothing
                sys.stderr.write("inferscope: warning: forked child %d is not traced (%s: %s)\n" % (os.getpid(), type(e).__name__, e))
        # Not followed: the child records nothing and writes nothing.
        self.done = self.closed = True
        if self.c is not None:
            self.c["reset"](False)
        try:
            self._uninstall()
            mods = sys.modules.get("inferscope._modules")
            if mods is not None:
                mods.uninstall()  # a worker process runs the original nn.Module.__call__
        except Exception:
            pass
        try:
            os.close(self.fd)
        except Exception:
            pass
        import inferscope

        inferscope._rec = None
        for info in self.threads:
            info.buf = []
        self.threads = []
        self.retained.clear()

    def _restart_in_child(self):
        """A followed forked child: the parent's buffered records are dropped (they are the
        parent's), and the child records into its own python-<pid>.isc from here, starting with
        the calls it is inside of (the stack at the fork), so that their ends pair up."""
        if self.c is not None:
            self.c["reset"](True)
        self.window.after_fork()  # the C flag follows the window inherited from the parent
        try:
            os.close(self.fd)
        except Exception:
            pass
        self.pid = os.getpid()
        self.ppid = os.getppid()
        self.root = False
        self.forked = True
        self.path = os.path.join(self.dir, "python-%d.isc" % self.pid)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o644)
        self.ilock = _thread.allocate_lock()
        self.wlock = _thread.allocate_lock()
        info = getattr(self.tl, "info", None)
        self.threads = []
        if info is not None:  # pure-Python back-ends: the forking thread keeps its list object
            del info.buf[:]
            info.side = []
            info.tid = threading.get_native_id() if hasattr(threading, "get_native_id") else info.tid
            self.threads.append(info)
        self.retained.clear()
        self.retained_bytes = self.dropped = self.dropped_chunks = self.dropped_waits = self.spilled_chunks = self.chunks_written = 0
        self.code_rows = list(self.all_code_rows)
        self.name_rows = list(self.all_name_rows)
        self.warnings = []
        self.t_start = _now()
        frames = []
        f = sys._getframe(1)
        while f is not None:
            frames.append(f)
            f = f.f_back
        for f in reversed(frames):
            w = self.intern_code(f.f_code, f)
            if w:
                self.open_scope(w, None)  # a bare (word, now) record on this thread
        _say_ready(self)  # SIGUSR1/SIGUSR2 handlers are inherited: let `inferscope run` signal it too
        if self.policy == "spill" and not self.ticks_from_c:
            _thread.start_new_thread(_flusher, (self,))  # the parent's flusher thread did not fork
        from inferscope import _torch_ops

        _torch_ops.after_fork_in_child(self)

    def on_sigint(self, signum, frame):
        """SIGINT under Python's default handler: KeyboardInterrupt, as without InferScope, but
        not inside the recorder's own methods (a chunk handed over by the C hot path, the
        periodic flush): raised there it cut the hand-over short and the records in hand were
        lost (counted as dropped). There it comes again 5 ms later."""
        import signal

        f = frame
        while f is not None:
            if f.f_code in _RECORDER_CODES:
                _send_again_later(signum)
                return
            f = f.f_back
        signal.default_int_handler(signum, frame)

    def on_sigterm(self, signum, frame):
        import signal

        # Python runs the handler between any two bytecodes, also inside the tracer's own code,
        # which may hold a lock finish() takes (a hang, seen): then try again a moment later.
        f = frame
        while f is not None:
            if f.f_code.co_filename.startswith(_PKG_DIR):
                _send_again_later(signum)
                return
            f = f.f_back
        try:
            self.finish("SIGTERM")
        finally:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)


def _send_again_later(signum):
    """Sends signum to this process again 5 ms from now, from a bare thread: starting it does not
    wait (threading.Timer's start() waits for the thread, and signals that came meanwhile ran the
    handler again inside it: 575 of 577 SIGINTs of a test were deferred over and over), and it is
    not in the script's threading.enumerate()."""

    def later():
        import time

        time.sleep(0.005)
        os.kill(os.getpid(), signum)

    _thread.start_new_thread(later, ())


# Code of the recorder's own methods (see on_sigint).
_RECORDER_CODES = frozenset(getattr(getattr(m, "__func__", m), "__code__", None) for m in vars(Recorder).values()) - {None}


def _flusher(rec):
    """Background thread of spill mode: writes pending records every flush_interval_s."""
    import time

    while not rec.done:
        time.sleep(rec.flush_interval_s)
        try:
            rec.checkpoint()
        except Exception:
            pass  # never disturb the script; the final flush still runs


def _process_info(rec):
    """Who this process is, for its lane in the reports: the script, a forked child, a
    multiprocessing child (its name), a DataLoader worker (its id), a Python subprocess."""
    info = {"ppid": rec.ppid, "root": rec.root, "forked": rec.forked, "argv": [str(a) for a in sys.argv[:8]]}
    try:
        info["cpus"] = len(os.sched_getaffinity(0))
    except Exception:
        info["cpus"] = os.cpu_count()
    mp = sys.modules.get("multiprocessing")
    if mp is not None and not rec.root:
        try:
            name = str(mp.current_process().name)
            if name != "MainProcess":  # a plain os.fork() child still sees its parent's
                info["mpName"] = name
        except Exception:
            pass
    data = sys.modules.get("torch.utils.data")
    if data is not None:
        try:
            w = data.get_worker_info()
            if w is not None:
                info["dataloaderWorker"] = int(w.id)
        except Exception:
            pass
    return info


def _hold_sigint():
    """Ignores SIGINT for a while (main thread only); returns what _release_sigint restores."""
    try:
        import signal

        if threading.current_thread() is threading.main_thread():
            return [signal.signal(signal.SIGINT, lambda signum, frame: None)]
    except Exception:
        pass
    return None


def _release_sigint(held):
    if held is None or held[0] is None:  # None: a handler Python cannot put back (set from C)
        return
    try:
        import signal

        signal.signal(signal.SIGINT, held[0])
    except Exception:
        pass


def _count_events(arr):
    """Events (call starts, scope begins, marks, waits) in a chunk, and the waits among them,
    for the exact drop count."""
    low = bytes(memoryview(arr).cast("B")[0::16]).translate(_OPENS_WAITS)
    waits = low.count(2)
    return low.count(1) + waits, waits


def _clock_name():
    try:
        import time

        return time.get_clock_info("perf_counter").implementation
    except Exception:
        return "unknown"


_recorder = None


def start(opts):
    """Start recording this process (called once, by the bootstrap)."""
    global _recorder
    if _recorder is not None:
        return _recorder
    import inferscope

    rec = Recorder(opts)
    clock = _clock_name()
    if "CLOCK_MONOTONIC" not in clock and sys.platform.startswith("linux"):
        rec.warnings.append("time.perf_counter_ns is %s, not CLOCK_MONOTONIC: CPU and GPU times may not align" % clock)
    _recorder = rec
    inferscope._rec = rec
    rec.window.hand_down_t0()  # before install: none of it is recorded
    rec.install()
    rec.window.begin()  # before anything else runs: a closed window records none of it
    _quiet.setup(rec)
    # The rest is InferScope's set-up (imports, ctypes, signal handlers): not the script's calls.
    _quiet.begin()
    try:
        _set_up(rec)
    finally:
        _quiet.end()
    return rec


def _set_up(rec):
    if rec.backend != "none":
        from inferscope import _imports

        _imports.install(rec)
    if rec.c is not None:
        atexit.register(rec.c["call_at_exit"], rec.finish)  # see ffi/pytrace.c: a pending Ctrl-C cannot skip the flush
    else:
        atexit.register(rec.finish)
    _guards.install(rec)
    if rec.policy == "spill" and not rec.ticks_from_c:
        # Pure Python back-ends: a background thread flushes (_thread, not threading: the
        # script's threading.enumerate() / active_count() stay as they are)
        _thread.start_new_thread(_flusher, (rec,))
    from inferscope import _cuda

    _cuda.install(rec)
    if rec.opts.get("modules", True):
        from inferscope import _modules

        _modules.watch(rec)
    _install_torch_ops(rec)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=rec.after_fork_in_child)
    _wrap_os_exit()
    # SIGTERM would kill the process without atexit: flush first, then die of the same signal
    # (so the exit status still says SIGTERM). Only when the script has not chosen a handler.
    try:
        import signal

        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, rec.on_sigterm)
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, rec.on_sigint)
    except Exception:
        pass
    rec.window.install_signals()
    _say_ready(rec)


def _say_ready(rec):
    """control-<pid>: tells `inferscope run` this process takes the capture-window signals."""
    if not rec.window.signals:
        return
    try:
        with open(os.path.join(rec.dir, "control-%d" % rec.pid), "w") as f:
            f.write("signals\n")
    except OSError:
        pass


def _install_torch_ops(rec):
    if not rec.shim or not opts_bool(rec.opts, "torchOps", True):
        return
    try:
        import ctypes

        lib = ctypes.CDLL(rec.shim)
        lib.is_itt_events.restype = ctypes.c_int64
        lib.is_itt_start.argtypes = [ctypes.c_char_p]
        if rec.opts.get("opShapes"):
            lib.is_itt_intern.restype = ctypes.c_int64
            lib.is_itt_intern.argtypes = [ctypes.c_char_p]
            lib.is_itt_replay.argtypes = [ctypes.c_int32, ctypes.c_void_p, ctypes.c_int64]
    except Exception as e:
        rec.warnings.append("torch ops are not recorded (%s: %s)" % (type(e).__name__, e))
        return
    from inferscope import _torch_ops

    _torch_ops.install(rec, lib)
    rec.finish_hooks.append(_torch_ops.finish)


def opts_bool(opts, key, default):
    v = opts.get(key, default)
    return v if isinstance(v, bool) else default


def _wrap_os_exit():
    """os._exit skips atexit: multiprocessing's children (DataLoader workers) end through it.
    Flush the recording first."""
    real = os._exit

    def _exit(code):
        r = _recorder
        if r is not None:
            try:
                r.finish("os._exit")
            except Exception:
                pass
        real(code)

    _exit.__wrapped__ = real
    os._exit = _exit


def start_from_env(spec):
    import json

    opts = json.loads(spec)
    if int(opts.get("ppid", -1)) != os.getppid() and not opts_bool(opts, "follow", True):
        return None  # a subprocess of the profiled script, and children are not followed
    return start(opts)
