/* pytrace.c: the hot path of the Python tracer (src/tracer/inferscope/_tracer.py) in C.
 *
 * Loaded inside the profiled interpreter with ctypes.PyDLL, so the Python C API is already in
 * the process: its functions are found with dlsym(RTLD_DEFAULT) at init, and the shim needs no
 * Python headers, links no libpython, and serves every CPython 3.8+ with one build.
 * is_pytrace_init() returns Python callables:
 *   - sys.monitoring callbacks (3.12+) for PY_START/RESUME, PY_RETURN/YIELD, PY_THROW, PY_UNWIND,
 *     returning sys.monitoring.DISABLE for code that is not recorded;
 *   - set_profile(): a C profile function (PyEval_SetProfile) for the calling thread (<= 3.11);
 *   - emit(word), emit_attrs(word, attrs): scope/mark records from Python;
 *   - drain(): every thread's pending (tid, bytes, side) for the final flush; reset() after fork;
 *   - waits: set_waits([(callable, word, is_io), ...]) names the blocking builtins (time.sleep,
 *     lock.acquire, select/poll/epoll, socket and pipe reads...); a call to one of them that takes
 *     at least wait_min_ns is recorded as a wait: K_WAIT_BEGIN / K_WAIT_END records (kinds 6, 7,
 *     word = name id << 3 | kind) around it, so the enclosing Python function's time splits into
 *     running and waiting. Calls are seen through the profile function's C_CALL / C_RETURN events
 *     (<= 3.11) or sys.monitoring's CALL / C_RETURN / C_RAISE (3.12+: CALL returns DISABLE at a
 *     call site whose callable is not a blocking builtin, so other C calls cost nothing there).
 *     For reads and writes (is_io) the thread's CPU time is measured across the call while the
 *     thread's previous one was long: a read served from the page cache is CPU work, not a wait.
 * is_pytrace_set_tick(on_tick, ns) asks for on_tick() (the periodic flush) from the first record
 * made ns after the previous one, in whichever thread records: no thread of InferScope's own.
 * The records are the Python tracer's (word, CLOCK_MONOTONIC ns) int64 pairs, in one buffer per
 * OS thread (__thread: no lock, no lookup); a full buffer is handed to Python's on_full(tid,
 * bytes, side), which applies the spill/wrap policy. Code objects map to their start word in an
 * open-addressing table keyed by address (Python keeps every interned code object alive, so an
 * address is never reused); an unknown code object asks Python's intern(code) once.
 * Everything here runs with the GIL held; the Python side does not use it on free-threaded
 * builds. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "inferscope.h"

/* A record's kind, in the low KIND_BITS of its word (the rest is the code or name id): the
 * Python tracer's K_* (src/tracer/inferscope/_tracer.py, where the format is described) and the
 * reader's (src/collect/python-events.ts). Three languages, three copies of the numbers:
 * test/collect/record-kinds.test.ts keeps them equal. */
#define K_PY_START 0
#define K_PY_END 1
#define K_SCOPE_BEGIN 2
#define K_MARK 4
#define K_ATTRS 5
#define KIND_BITS 3
/* A code object's end word: its start word with the end kind (the start kind is 0). */
#define END_WORD(w) ((w) | K_PY_END)

typedef struct _object PyObject;
typedef intptr_t Py_ssize_t;
typedef struct {
  const char *ml_name;
  void *ml_meth;
  int ml_flags;
  const char *ml_doc;
} PyMethodDef;
#define METH_O 0x0008
#define METH_NOARGS 0x0004
#define METH_FASTCALL 0x0080
#define PyTrace_CALL 0
#define PyTrace_RETURN 3
#define PyTrace_C_CALL 4
#define PyTrace_C_EXCEPTION 5
#define PyTrace_C_RETURN 6
#define K_WAIT_BEGIN 6
#define K_WAIT_END 7

static struct {
  PyObject *(*CFunction_NewEx)(PyMethodDef *, PyObject *, PyObject *);
  long long (*Long_AsLongLong)(PyObject *);
  PyObject *(*Long_FromLongLong)(long long);
  void (*IncRef)(PyObject *);
  void (*DecRef)(PyObject *);
  PyObject *(*CallFunctionObjArgs)(PyObject *, ...);
  PyObject *(*Bytes_FromStringAndSize)(const char *, Py_ssize_t);
  char *(*Bytes_AsString)(PyObject *);
  PyObject *(*List_New)(Py_ssize_t);
  int (*List_Append)(PyObject *, PyObject *);
  Py_ssize_t (*List_Size)(PyObject *);
  PyObject *(*List_GetItem)(PyObject *, Py_ssize_t);
  PyObject *(*Tuple_GetItem)(PyObject *, Py_ssize_t);
  PyObject *(*Tuple_Pack)(Py_ssize_t, ...);
  PyObject *(*Err_Occurred)(void);
  void (*Err_Clear)(void);
  int (*Err_CheckSignals)(void);
  int (*Err_ExceptionMatches)(PyObject *);
  void (*Err_Fetch)(PyObject **, PyObject **, PyObject **);
  void (*Err_Restore)(PyObject *, PyObject *, PyObject *);
  PyObject **Exc_Exception;
  void (*Eval_SetProfile)(int (*)(PyObject *, void *, int, PyObject *), PyObject *);
  PyObject *(*Frame_GetCode)(void *);
  PyObject *None;
  /* Optional (capture windows, 3.9 - 3.11): set or clear the profile function of every thread. */
  void *(*ThreadState_Get)(void);
  void *(*ThreadState_GetInterpreter)(void *);
  void *(*Interp_ThreadHead)(void *);
  void *(*ThreadState_Next)(void *);
  int (*Eval_SetProfileFor)(void *, int (*)(PyObject *, void *, int, PyObject *), PyObject *);
} P;

typedef struct tbuf {
  int64_t *w;
  size_t n, cap;
  int32_t tid;
  PyObject *side; /* list of attribute dicts for K_ATTRS records, or NULL */
  struct tbuf *next;
  /* blocking calls in progress on this thread (they nest only through signal handlers) */
  int wdepth;
  int64_t wword[8], wstart[8], wcpu[8];
  /* the thread's last read or write took at least wait_min_ns: measure the next one's CPU time */
  int io_long;
  /* the thread's CPU clock at a monotonic time (the last time it was read): bounds how long an
   * unmeasured read or write can have been off the CPU */
  int64_t ref_wall, ref_cpu;
} tbuf;

static __thread tbuf *tb;
static tbuf *all_bufs;
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t chunk_words = 1 << 17;
static PyObject *cb_intern, *cb_full, *cb_thread, *obj_disable;
/* > 0 while this thread runs an import whose inner calls are not recorded (_imports.py). */
static __thread int quiet;
static int py_minor, active;
/* stop() or reset() ran: a capture window can no longer open. */
static int stopped;
/* set_profile() was used (the setprofile+c back-end): capture() moves the profile function. */
static int profiling;
/* the periodic flush: on_tick() from the first record at or after next_tick */
static PyObject *cb_tick;
static int64_t tick_ns, next_tick = INT64_MAX;

/* code address -> start word (0: not recorded) */
static uintptr_t *map_keys;
static int64_t *map_vals;
static size_t map_cap, map_used;

static inline int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline size_t slot_of(uintptr_t key) { return (size_t)(((key >> 4) * 0x9E3779B97F4A7C15ULL) >> 20) & (map_cap - 1); }

static int map_grow(void) {
  size_t ncap = map_cap ? map_cap * 2 : 4096;
  uintptr_t *nk = calloc(ncap, sizeof *nk);
  int64_t *nv = calloc(ncap, sizeof *nv);
  if (!nk || !nv) {
    free(nk);
    free(nv);
    return -1;
  }
  uintptr_t *ok = map_keys;
  int64_t *ov = map_vals;
  size_t ocap = map_cap;
  map_keys = nk;
  map_vals = nv;
  map_cap = ncap;
  for (size_t i = 0; i < ocap; i++) {
    if (!ok[i]) continue;
    size_t s = slot_of(ok[i]);
    while (map_keys[s]) s = (s + 1) & (map_cap - 1);
    map_keys[s] = ok[i];
    map_vals[s] = ov[i];
  }
  free(ok);
  free(ov);
  return 0;
}

/* An exception from a signal handler (KeyboardInterrupt on Ctrl-C, SystemExit from a script's
 * own SIGTERM handler...) belongs to the script. Python runs signal handlers at the first
 * bytecode it can, and that may be inside the tracer's own Python code that a callback below
 * calls (intern, on_full, on_thread): clearing it with our own errors lost Ctrl-C (seen: a run
 * that ignored SIGINT until the script's end). So pending handlers run before we call into
 * Python, and what they raise is kept here and raised when the callback returns to the script.
 * Signal handlers run only on the main thread; __thread keeps other threads out of it. */
static __thread struct {
  PyObject *type, *value, *tb;
} held;
/* > 0 while a callback below runs Python code of ours: the profile / monitoring callbacks also
 * fire for that code, and must not raise the held exception into it. */
static __thread int in_python;

/* After a failed call into Python (or a signal handler that raised): keep what is not an
 * Exception (KeyboardInterrupt, SystemExit...) for the script; clear our own errors. */
static void keep_or_clear(void) {
  if (!held.type && !P.Err_ExceptionMatches(*P.Exc_Exception)) P.Err_Fetch(&held.type, &held.value, &held.tb);
  else P.Err_Clear();
}

/* Before calling into Python from a callback: run pending signal handlers here, not in our code. */
static void run_signal_handlers(void) {
  if (P.Err_CheckSignals() < 0) keep_or_clear();
}

/* Calls one of the tracer's Python callbacks; pending signal handlers run first. */
static PyObject *call_python(PyObject *fn, PyObject *a, PyObject *b, PyObject *c) {
  run_signal_handlers();
  in_python++;
  PyObject *r = P.CallFunctionObjArgs(fn, a, b, c, NULL);
  in_python--;
  return r;
}

/* Raises a held exception in the script: 1 when one was set (the callback must fail). */
static int raise_held(void) {
  if (!held.type || in_python) return 0;
  P.Err_Restore(held.type, held.value, held.tb);
  held.type = held.value = held.tb = NULL;
  return 1;
}

/* Start word of a code object; -1 when unknown. */
static inline int64_t map_find(PyObject *code) {
  uintptr_t key = (uintptr_t)code;
  if (!map_cap) return -1;
  for (size_t s = slot_of(key);; s = (s + 1) & (map_cap - 1)) {
    if (map_keys[s] == key) return map_vals[s];
    if (!map_keys[s]) return -1;
  }
}

/* Start word of a code object, asking Python's intern(code) the first time (0: not recorded). */
static int64_t lookup(PyObject *code) {
  int64_t w = map_find(code);
  if (w >= 0) return w;
  PyObject *r = call_python(cb_intern, code, NULL, NULL);
  if (r) {
    w = P.Long_AsLongLong(r);
    P.DecRef(r);
  }
  if (!r || w < 0) {
    if (P.Err_Occurred()) keep_or_clear();
    w = 0;
  }
  if ((map_used + 1) * 2 > map_cap && map_grow() < 0) return w;
  size_t s = slot_of((uintptr_t)code);
  while (map_keys[s] && map_keys[s] != (uintptr_t)code) s = (s + 1) & (map_cap - 1);
  if (!map_keys[s]) map_used++;
  map_keys[s] = (uintptr_t)code;
  map_vals[s] = w;
  return w;
}

/* Blocking builtins: PyMethodDef address -> wait word (name id << 3), with bit 2 of the stored
 * value meaning "a read: check the thread's CPU time". Fixed size, filled once by set_waits. */
#define WAIT_SLOTS 256
static uintptr_t wait_keys[WAIT_SLOTS];
static int64_t wait_vals[WAIT_SLOTS];
static int64_t wait_min_ns = 20000;
static int waits_on;
static PyObject *type_cfunction, *type_method_descr, *type_cmethod;

/* The PyMethodDef behind a C callable: builtin_function_or_method {HEAD; m_ml; ...}, its
 * subtype builtin_method (PyCMethodObject, the same layout first: a method of a heap type that
 * takes its defining class, as SimpleQueue.get from 3.10 and FileIO.read from 3.12; up to 3.11
 * the profile function gets such a bound method for `q.get()`), or method_descriptor {HEAD;
 * d_type; d_name; d_qualname; d_method; ...}; 0 for anything else. */
static inline uintptr_t method_def(PyObject *callable) {
  if (!callable) return 0;
  PyObject *type = ((PyObject **)callable)[1];
  if (type == type_cfunction || type == type_cmethod) return (uintptr_t)((void **)callable)[2];
  if (type == type_method_descr) return (uintptr_t)((void **)callable)[5];
  return 0;
}

static inline size_t wait_slot(uintptr_t key) { return (size_t)(((key >> 3) * 0x9E3779B97F4A7C15ULL) >> 56) & (WAIT_SLOTS - 1); }

/* The wait value of a callable (word | 4 for reads), or -1 when it is not a blocking builtin. */
static inline int64_t wait_value(PyObject *callable) {
  uintptr_t key = method_def(callable);
  if (!key) return -1;
  for (size_t s = wait_slot(key), k = 0; k < WAIT_SLOTS; s = (s + 1) & (WAIT_SLOTS - 1), k++) {
    if (wait_keys[s] == key) return wait_vals[s];
    if (!wait_keys[s]) return -1;
  }
  return -1;
}

static inline int64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void record(int64_t w);
static void record_at(int64_t w, int64_t ts);

static void wait_enter(int64_t v) {
  tbuf *t = tb;
  if (!t) {
    record_at(-1, 0); /* creates the thread's buffer (a no-op record) */
    t = tb;
    if (!t) return;
  }
  if (t->wdepth >= 8) return;
  int d = t->wdepth++;
  t->wword[d] = v;
  /* A read or write (v & 4) is measured with the thread's CPU clock, which is a syscall (1.4 µs
   * each on a VM here), only while the thread's previous one was long: a loop of short reads or
   * writes, the common case, costs two monotonic clock reads a call. An unmeasured one that turns
   * out long reads the clock once, at its end (wait_leave). */
  t->wcpu[d] = ((v & 4) && t->io_long) ? thread_cpu_ns() : -1;
  t->wstart[d] = now_ns();
}

static void wait_leave(int64_t v) {
  tbuf *t = tb;
  if (!t || t->wdepth == 0 || t->wword[t->wdepth - 1] != v) return;
  int d = --t->wdepth;
  int64_t end = now_ns();
  int64_t wall = end - t->wstart[d], waited = wall;
  if (v & 4) t->io_long = wall >= wait_min_ns;
  /* a measured read or write waits when it spent at least half its time off the CPU: a long copy
   * from the page cache that lost the CPU for a moment is work */
  if (t->wcpu[d] >= 0) {
    int64_t cpu = thread_cpu_ns();
    waited -= cpu - t->wcpu[d];
    t->ref_wall = end, t->ref_cpu = cpu;
    if (2 * waited < wall) return;
  } else if ((v & 4) && wall >= wait_min_ns) {
    /* Long but not measured from its start (the one before was short: a header, then the body).
     * It cannot have been off the CPU longer than the thread was since its clock was last read:
     * a thread that computed in between was on the CPU, and then a long read from the page cache
     * is work, not a wait. */
    int64_t cpu = thread_cpu_ns();
    if (t->ref_wall > 0) {
      int64_t off = (end - t->ref_wall) - (cpu - t->ref_cpu);
      if (off < waited) waited = off;
    }
    t->ref_wall = end, t->ref_cpu = cpu;
    if (2 * waited < wall) return;
  } else if (wall >= wait_min_ns) {
    /* after a long sleep or lock wait, the clock's reference starts afresh (a stale one would
     * count that wait against the next read) */
    t->ref_wall = end, t->ref_cpu = thread_cpu_ns();
  }
  if (waited < wait_min_ns) return;
  int64_t word = v & ~(int64_t)7;
  record_at(word | K_WAIT_BEGIN, t->wstart[d]);
  record_at(word | K_WAIT_END, end);
}

static tbuf *new_tbuf(void) {
  tbuf *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->cap = chunk_words < 4096 ? chunk_words : 4096;
  t->w = malloc(t->cap * sizeof *t->w);
  if (!t->w) {
    free(t);
    return NULL;
  }
  t->tid = (int32_t)syscall(SYS_gettid);
  t->ref_cpu = thread_cpu_ns();
  t->ref_wall = now_ns();
  pthread_mutex_lock(&all_lock);
  t->next = all_bufs;
  all_bufs = t;
  pthread_mutex_unlock(&all_lock);
  tb = t;
  /* Python learns the thread (and its threading.Thread) at its first event. */
  PyObject *tid = P.Long_FromLongLong(t->tid);
  PyObject *r = tid ? call_python(cb_thread, tid, NULL, NULL) : NULL;
  if (tid) P.DecRef(tid);
  if (r) P.DecRef(r);
  else keep_or_clear();
  return t;
}

/* Buffers Python could not take (its on_full raised: a Ctrl-C in the middle of it, or a bug of
 * ours), and the events in them, reported as dropped at the end: never a silent loss. */
static struct {
  long long chunks, events;
} lost;

static void count_lost(const int64_t *w, size_t n) {
  lost.chunks++;
  for (size_t i = 0; i + 1 < n; i += 2) {
    int k = (int)(w[i] & ((1 << KIND_BITS) - 1));
    if (k == K_PY_START || k == K_SCOPE_BEGIN || k == K_MARK || k == K_WAIT_BEGIN) lost.events++;
  }
}

/* Hands the thread's records to Python (which spills or keeps them) and starts afresh. The
 * buffer is reset before the call, so anything recorded meanwhile lands in the new one. */
static void flush(tbuf *t) {
  size_t n = t->n;
  PyObject *data = P.Bytes_FromStringAndSize((const char *)t->w, (Py_ssize_t)(t->n * sizeof *t->w));
  PyObject *side = t->side ? t->side : P.None;
  if (!t->side) P.IncRef(P.None);
  t->side = NULL;
  t->n = 0;
  if (!data) {
    P.Err_Clear();
    P.DecRef(side);
    count_lost(t->w, n); /* t->w is untouched: nothing ran since the reset */
    return;
  }
  PyObject *tid = P.Long_FromLongLong(t->tid);
  PyObject *r = tid ? call_python(cb_full, tid, data, side) : NULL;
  if (r) P.DecRef(r);
  else {
    keep_or_clear();
    /* From the copy: the callback may have recorded into t->w meanwhile. */
    count_lost((const int64_t *)P.Bytes_AsString(data), n);
  }
  if (tid) P.DecRef(tid);
  P.DecRef(data);
  P.DecRef(side);
}

/* Room for k more words: grows up to a chunk, then flushes. */
static int ensure(tbuf *t, size_t k) {
  if (t->n + k > chunk_words) flush(t);
  if (t->n + k > t->cap) {
    size_t ncap = t->cap * 2;
    while (ncap < t->n + k) ncap *= 2;
    if (ncap > chunk_words + 8) ncap = chunk_words + 8;
    int64_t *nw = realloc(t->w, ncap * sizeof *nw);
    if (!nw) return -1;
    t->w = nw;
    t->cap = ncap;
  }
  return 0;
}

/* The periodic flush, from a record (not while one of the tracer's Python callbacks runs). */
static void tick(int64_t ts) {
  next_tick = ts + tick_ns;
  PyObject *r = call_python(cb_tick, NULL, NULL, NULL);
  if (r) P.DecRef(r);
  else keep_or_clear();
}

/* Appends (w, ts); w == -1 only makes sure the thread has a buffer. */
static void record_at(int64_t w, int64_t ts) {
  tbuf *t = tb;
  if (!t && !(t = new_tbuf())) return;
  if (w == -1) return;
  if (t->n + 2 > t->cap || t->n + 2 > chunk_words)
    if (ensure(t, 2) < 0) return;
  t->w[t->n] = w;
  t->w[t->n + 1] = ts;
  t->n += 2;
}

static void record(int64_t w) {
  tbuf *t = tb;
  if (!t && !(t = new_tbuf())) return;
  if (t->n + 2 > t->cap || t->n + 2 > chunk_words)
    if (ensure(t, 2) < 0) return;
  int64_t ts = now_ns();
  t->w[t->n] = w;
  t->w[t->n + 1] = ts;
  t->n += 2;
  if (ts >= next_tick && !in_python) tick(ts);
}

static inline PyObject *ret_none(void) {
  P.IncRef(P.None);
  return P.None;
}

static inline PyObject *ret_disable(void) {
  P.IncRef(obj_disable);
  return obj_disable;
}

/* sys.monitoring: PY_START and PY_RESUME (code, offset) */
static PyObject *m_start(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  if (nargs < 1 || !active || quiet) return ret_none();
  int64_t w = lookup(args[0]);
  if (raise_held()) return NULL;
  if (!w) return ret_disable();
  record(w);
  return raise_held() ? NULL : ret_none();
}

/* PY_RETURN and PY_YIELD (code, offset, value) */
static PyObject *m_end(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  if (nargs < 1 || !active || quiet) return ret_none();
  int64_t w = lookup(args[0]);
  if (raise_held()) return NULL;
  if (!w) return ret_disable();
  record(END_WORD(w));
  return raise_held() ? NULL : ret_none();
}

/* PY_THROW (code, offset, exc): a generator resumed by throw(); cannot be disabled. */
static PyObject *m_throw(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  if (nargs < 1 || !active || quiet) return ret_none();
  int64_t w = lookup(args[0]);
  if (w) record(w);
  return ret_none(); /* a held exception waits for the next start or end: not raised mid-throw */
}

/* PY_UNWIND (code, offset, exc): a frame left by an exception; cannot be disabled. */
static PyObject *m_unwind(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  if (nargs < 1 || !active || quiet) return ret_none();
  int64_t w = map_find(args[0]);
  if (w > 0) record(END_WORD(w));
  return ret_none(); /* as in m_throw: never replace the exception that is unwinding */
}

/* CALL (code, offset, callable, arg0): a blocking builtin starts; any other callable disables the
 * event at this call site for good. */
static PyObject *m_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  if (nargs < 3 || !active || quiet) return ret_none();
  int64_t v = wait_value(args[2]);
  if (v < 0) return ret_disable();
  wait_enter(v);
  return ret_none();
}

/* C_RETURN and C_RAISE (code, offset, callable, arg0): only after a CALL left enabled above. */
static PyObject *m_c_return(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  if (nargs < 3 || !active || quiet) return ret_none();
  int64_t v = wait_value(args[2]);
  if (v >= 0) wait_leave(v);
  return ret_none();
}

/* set_waits([(callable, word, is_io), ...], min_ns, type(len), type(str.join)[, builtin_method]):
 * the blocking builtins, the shortest wait worth a record, and the C callable types whose
 * PyMethodDef method_def() reads. Callables of other types are skipped. Returns how many were set. */
static PyObject *f_set_waits(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  if (nargs != 4 && nargs != 5) return ret_none();
  if (!type_cfunction) {
    type_cfunction = args[2];
    type_method_descr = args[3];
    P.IncRef(type_cfunction);
    P.IncRef(type_method_descr);
    if (nargs == 5) {
      type_cmethod = args[4];
      P.IncRef(type_cmethod);
    }
  }
  long long min_ns = P.Long_AsLongLong(args[1]);
  if (min_ns == -1 && P.Err_Occurred()) return NULL;
  wait_min_ns = min_ns;
  PyObject *list = args[0];
  Py_ssize_t n = P.List_Size(list);
  if (n < 0) return NULL;
  long long set = 0;
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *item = P.List_GetItem(list, i);
    if (!item) return NULL;
    PyObject *callable = P.Tuple_GetItem(item, 0);
    PyObject *word = P.Tuple_GetItem(item, 1);
    PyObject *io = P.Tuple_GetItem(item, 2);
    if (!callable || !word || !io) return NULL;
    uintptr_t key = method_def(callable);
    long long w = P.Long_AsLongLong(word);
    long long isio = P.Long_AsLongLong(io);
    if ((w == -1 || isio == -1) && P.Err_Occurred()) return NULL;
    if (!key || set >= WAIT_SLOTS / 2) continue;
    size_t s = wait_slot(key);
    while (wait_keys[s] && wait_keys[s] != key) s = (s + 1) & (WAIT_SLOTS - 1);
    wait_keys[s] = key;
    wait_vals[s] = (w & ~(int64_t)7) | (isio ? 4 : 0);
    set++;
  }
  waits_on = set > 0;
  return P.Long_FromLongLong(set);
}

/* PyEval_SetProfile function (3.8 - 3.11): calls and returns of Python frames. */
static int profile(PyObject *obj, void *frame, int what, PyObject *arg) {
  (void)obj;
  if (!active) return 0;
  if (what == PyTrace_C_CALL || what == PyTrace_C_RETURN || what == PyTrace_C_EXCEPTION) {
    if (!waits_on) return 0;
    int64_t v = wait_value(arg);
    if (v >= 0) {
      if (what == PyTrace_C_CALL) wait_enter(v);
      else wait_leave(v);
    }
    return 0;
  }
  if (what != PyTrace_CALL && what != PyTrace_RETURN) return 0;
  PyObject *code;
  if (py_minor >= 11) {
    code = P.Frame_GetCode(frame);
    if (!code) {
      P.Err_Clear();
      return 0;
    }
    P.DecRef(code); /* the frame (and Python's table of interned code objects) keeps it alive */
  } else {
    /* 3.8 - 3.10: PyFrameObject { PyObject_VAR_HEAD; f_back; f_code; ... } */
    code = *(PyObject **)((char *)frame + 4 * sizeof(void *));
  }
  int64_t w = what == PyTrace_CALL ? lookup(code) : map_find(code);
  if (w > 0) record(what == PyTrace_CALL ? w : END_WORD(w));
  return raise_held() ? -1 : 0;
}

static PyObject *f_set_profile(PyObject *self, PyObject *unused) {
  (void)self;
  (void)unused;
  profiling = 1;
  P.Eval_SetProfile(profile, NULL);
  return ret_none();
}

/* capture(on): open (1) or close (0) a capture window. Closed, nothing is recorded: the
 * monitoring callbacks and emit() return at the `active` check, and (3.9 - 3.11) the profile
 * function is taken off every thread, so the interpreter does not even call it; returns True when
 * it could do that, False when only the flag was set (3.8, or the symbols are missing). */
static PyObject *f_capture(PyObject *self, PyObject *arg) {
  (void)self;
  long long on = P.Long_AsLongLong(arg);
  if (on == -1 && P.Err_Occurred()) return NULL;
  active = on && !stopped;
  /* Blocking calls in progress when a window opens or closes are not recorded as waits: one
   * begun outside has no recorded start, one still open at the close would end outside (and
   * 3.9 - 3.11 lose the profile function's C_RETURN once it is taken off). Callers hold the GIL,
   * as do wait_enter/wait_leave. */
  pthread_mutex_lock(&all_lock);
  for (tbuf *t = all_bufs; t; t = t->next) t->wdepth = 0;
  pthread_mutex_unlock(&all_lock);
  int all = P.ThreadState_Get && P.ThreadState_GetInterpreter && P.Interp_ThreadHead && P.ThreadState_Next && P.Eval_SetProfileFor;
  if (!profiling) return P.Long_FromLongLong(1);
  if (!all) return P.Long_FromLongLong(0);
  for (void *t = P.Interp_ThreadHead(P.ThreadState_GetInterpreter(P.ThreadState_Get())); t; t = P.ThreadState_Next(t))
    if (P.Eval_SetProfileFor(t, active ? profile : NULL, NULL) < 0) P.Err_Clear();
  return P.Long_FromLongLong(1);
}

static PyObject *f_unset_profile(PyObject *self, PyObject *unused) {
  (void)self;
  (void)unused;
  P.Eval_SetProfile(NULL, NULL);
  return ret_none();
}

/* emit(word): a scope begin/end or mark with the current time. */
static PyObject *f_emit(PyObject *self, PyObject *arg) {
  (void)self;
  long long w = P.Long_AsLongLong(arg);
  if (w == -1 && P.Err_Occurred()) return NULL;
  if (active) record(w);
  return raise_held() ? NULL : ret_none();
}

/* emit_attrs(word, attrs): an attributes record (index into this chunk's side list) followed by
 * the scope begin / mark it belongs to, in the same chunk. */
static PyObject *f_emit_attrs(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  if (nargs != 2) return ret_none();
  long long w = P.Long_AsLongLong(args[0]);
  if (w == -1 && P.Err_Occurred()) return NULL;
  if (!active) return ret_none();
  tbuf *t = tb;
  if (!t && !(t = new_tbuf())) return ret_none();
  if (ensure(t, 4) < 0) return ret_none();
  if (!t->side && !(t->side = P.List_New(0))) {
    P.Err_Clear();
    return ret_none();
  }
  int64_t idx = (int64_t)P.List_Size(t->side);
  if (P.List_Append(t->side, args[1]) < 0) {
    P.Err_Clear();
    return ret_none();
  }
  t->w[t->n] = (idx << KIND_BITS) | K_ATTRS;
  t->w[t->n + 1] = 0;
  int64_t ts = now_ns();
  t->w[t->n + 2] = w;
  t->w[t->n + 3] = ts;
  t->n += 4;
  if (ts >= next_tick && !in_python) tick(ts);
  return raise_held() ? NULL : ret_none();
}

/* drain() -> [(tid, bytes, side or None), ...]: every thread's pending records (final flush). */
static PyObject *f_drain(PyObject *self, PyObject *unused) {
  (void)self;
  (void)unused;
  PyObject *out = P.List_New(0);
  if (!out) return NULL;
  pthread_mutex_lock(&all_lock);
  for (tbuf *t = all_bufs; t; t = t->next) {
    /* A thread still blocked (a daemon thread in queue.get at exit): its wait so far is open. */
    for (int d = 0; d < t->wdepth; d++) {
      if (ensure(t, 2) < 0) break;
      t->w[t->n] = (t->wword[d] & ~(int64_t)7) | K_WAIT_BEGIN;
      t->w[t->n + 1] = t->wstart[d];
      t->n += 2;
    }
    t->wdepth = 0;
    if (!t->n && !t->side) continue;
    PyObject *tid = P.Long_FromLongLong(t->tid);
    PyObject *data = P.Bytes_FromStringAndSize((const char *)t->w, (Py_ssize_t)(t->n * sizeof *t->w));
    PyObject *side = t->side ? t->side : P.None;
    if (!t->side) P.IncRef(P.None);
    t->side = NULL;
    t->n = 0;
    PyObject *item = (tid && data) ? P.Tuple_Pack(3, tid, data, side) : NULL;
    if (tid) P.DecRef(tid);
    if (data) P.DecRef(data);
    P.DecRef(side);
    if (!item || P.List_Append(out, item) < 0) P.Err_Clear();
    if (item) P.DecRef(item);
  }
  pthread_mutex_unlock(&all_lock);
  return out;
}

/* quiet(on): this thread's Python calls are not recorded while on (an import in progress). */
static PyObject *f_quiet(PyObject *self, PyObject *on) {
  (void)self;
  long long v = P.Long_AsLongLong(on);
  if (v == -1 && P.Err_Occurred()) return NULL;
  quiet = v != 0;
  return ret_none();
}

/* stop(): record nothing more (the final flush is under way or done). */
static PyObject *f_stop(PyObject *self, PyObject *unused) {
  (void)self;
  (void)unused;
  active = 0;
  stopped = 1;
  next_tick = INT64_MAX;
  return ret_none();
}

/* reset(keep): in a forked child: drop every buffer (the parent's records); record nothing more
 * unless keep is true (the child is followed: it records into its own file from here). */
static PyObject *f_reset(PyObject *self, PyObject *keep) {
  (void)self;
  /* A followed child records from here (its capture window is set by the Python side next); an
   * unfollowed one records nothing, and no window can open again. */
  active = keep && keep != P.None && P.Long_AsLongLong(keep) != 0;
  P.Err_Clear();
  stopped = !active;
  lost.chunks = lost.events = 0; /* the parent's losses are the parent's to report */
  /* a followed child goes on flushing its own records periodically; an unfollowed one never */
  next_tick = active && cb_tick ? now_ns() + tick_ns : INT64_MAX;
  pthread_mutex_init(&all_lock, NULL);
  tbuf *t = all_bufs;
  all_bufs = NULL;
  tb = NULL;
  while (t) {
    tbuf *next = t->next;
    free(t->w);
    /* side lists are owned by the parent's objects in this copy: leak rather than touch them */
    free(t);
    t = next;
  }
  return ret_none();
}

/* lost() -> (chunks, events): what on_full could not take (see `lost`). */
static PyObject *f_lost(PyObject *self, PyObject *unused) {
  (void)self;
  (void)unused;
  PyObject *c = P.Long_FromLongLong(lost.chunks), *e = P.Long_FromLongLong(lost.events);
  PyObject *r = (c && e) ? P.Tuple_Pack(2, c, e) : NULL;
  if (c) P.DecRef(c);
  if (e) P.DecRef(e);
  return r;
}

/* call_at_exit(fn): the tracer's atexit hook. A signal handler already pending when the
 * interpreter reaches the hook would raise at fn's first line and skip the final flush; run it
 * here and drop what it raises (plain Python ignores a KeyboardInterrupt in atexit too). Signals
 * that arrive during fn are held by fn itself. */
static PyObject *f_call_at_exit(PyObject *self, PyObject *fn) {
  (void)self;
  if (P.Err_CheckSignals() < 0) P.Err_Clear();
  return P.CallFunctionObjArgs(fn, NULL);
}

static PyMethodDef defs[] = {
    {"monitoring_start", (void *)m_start, METH_FASTCALL, "PY_START / PY_RESUME"},
    {"monitoring_end", (void *)m_end, METH_FASTCALL, "PY_RETURN / PY_YIELD"},
    {"monitoring_throw", (void *)m_throw, METH_FASTCALL, "PY_THROW"},
    {"monitoring_unwind", (void *)m_unwind, METH_FASTCALL, "PY_UNWIND"},
    {"set_profile", (void *)f_set_profile, METH_NOARGS, "C profile function for this thread"},
    {"unset_profile", (void *)f_unset_profile, METH_NOARGS, "remove it"},
    {"emit", (void *)f_emit, METH_O, "record(word)"},
    {"emit_attrs", (void *)f_emit_attrs, METH_FASTCALL, "attributes + record(word)"},
    {"drain", (void *)f_drain, METH_NOARGS, "pending records of every thread"},
    {"stop", (void *)f_stop, METH_NOARGS, "record nothing more"},
    {"reset", (void *)f_reset, METH_O, "after fork"},
    {"call_at_exit", (void *)f_call_at_exit, METH_O, "fn() after pending signal handlers"},
    {"lost", (void *)f_lost, METH_NOARGS, "(chunks, events) Python could not take"},
    {"capture", (void *)f_capture, METH_O, "open (1) or close (0) a capture window"},
    {"monitoring_call", (void *)m_call, METH_FASTCALL, "CALL"},
    {"monitoring_c_return", (void *)m_c_return, METH_FASTCALL, "C_RETURN / C_RAISE"},
    {"set_waits", (void *)f_set_waits, METH_FASTCALL, "blocking builtins"},
    {"quiet", (void *)f_quiet, METH_O, "skip this thread's calls (imports)"},
};

#define SYM(field, name)                                     \
  do {                                                       \
    *(void **)&P.field = dlsym(RTLD_DEFAULT, name);          \
    if (!P.field) return NULL;                               \
  } while (0)

PyObject *is_pytrace_init(PyObject *intern, PyObject *on_full, PyObject *on_thread, PyObject *disable, long long words, int minor) {
  SYM(CFunction_NewEx, "PyCFunction_NewEx");
  SYM(Long_AsLongLong, "PyLong_AsLongLong");
  SYM(Long_FromLongLong, "PyLong_FromLongLong");
  SYM(IncRef, "Py_IncRef");
  SYM(DecRef, "Py_DecRef");
  SYM(CallFunctionObjArgs, "PyObject_CallFunctionObjArgs");
  SYM(Bytes_FromStringAndSize, "PyBytes_FromStringAndSize");
  SYM(Bytes_AsString, "PyBytes_AsString");
  SYM(List_New, "PyList_New");
  SYM(List_Append, "PyList_Append");
  SYM(List_Size, "PyList_Size");
  SYM(List_GetItem, "PyList_GetItem");
  SYM(Tuple_GetItem, "PyTuple_GetItem");
  SYM(Tuple_Pack, "PyTuple_Pack");
  SYM(Err_Occurred, "PyErr_Occurred");
  SYM(Err_Clear, "PyErr_Clear");
  SYM(Err_CheckSignals, "PyErr_CheckSignals");
  SYM(Err_ExceptionMatches, "PyErr_ExceptionMatches");
  SYM(Err_Fetch, "PyErr_Fetch");
  SYM(Err_Restore, "PyErr_Restore");
  SYM(Exc_Exception, "PyExc_Exception");
  SYM(Eval_SetProfile, "PyEval_SetProfile");
  SYM(None, "_Py_NoneStruct");
  if (minor >= 9) SYM(Frame_GetCode, "PyFrame_GetCode");
  if (minor >= 9 && minor < 12) {
    *(void **)&P.ThreadState_Get = dlsym(RTLD_DEFAULT, "PyThreadState_Get");
    *(void **)&P.ThreadState_GetInterpreter = dlsym(RTLD_DEFAULT, "PyThreadState_GetInterpreter");
    *(void **)&P.Interp_ThreadHead = dlsym(RTLD_DEFAULT, "PyInterpreterState_ThreadHead");
    *(void **)&P.ThreadState_Next = dlsym(RTLD_DEFAULT, "PyThreadState_Next");
    *(void **)&P.Eval_SetProfileFor = dlsym(RTLD_DEFAULT, "_PyEval_SetProfile");
  }
  if (cb_intern) return NULL; /* once per process */
  py_minor = minor;
  if (words >= 64) chunk_words = (size_t)words & ~(size_t)1;
  cb_intern = intern;
  cb_full = on_full;
  cb_thread = on_thread;
  obj_disable = disable;
  P.IncRef(intern);
  P.IncRef(on_full);
  P.IncRef(on_thread);
  P.IncRef(disable);
  if (map_grow() < 0) return NULL;
  size_t n = sizeof defs / sizeof defs[0];
  PyObject *fns[sizeof defs / sizeof defs[0]];
  for (size_t i = 0; i < n; i++) {
    fns[i] = P.CFunction_NewEx(&defs[i], NULL, NULL);
    if (!fns[i]) return NULL;
  }
  PyObject *list = P.List_New(0);
  if (!list) return NULL;
  for (size_t i = 0; i < n; i++) {
    P.List_Append(list, fns[i]);
    P.DecRef(fns[i]);
  }
  active = 1;
  return list;
}

/* The periodic flush: on_tick() at most every interval_ns, from a record (0: never). */
int is_pytrace_set_tick(PyObject *on_tick, long long interval_ns) {
  if (!cb_intern || cb_tick || interval_ns <= 0) return -1;
  P.IncRef(on_tick);
  cb_tick = on_tick;
  tick_ns = interval_ns;
  next_tick = now_ns() + interval_ns;
  return 0;
}
