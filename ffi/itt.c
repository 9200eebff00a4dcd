/* itt.c: torch ops (aten::add, aten::linear, user record_function ranges...) without a second
 * CUPTI client. PyTorch reports every op it runs to the Intel ITT API when its profiler is in ITT
 * state (torch.autograd.profiler.emit_itt), and the ITT API's static part inside libtorch loads a
 * collector from $INTEL_LIBITTNOTIFY64 (with $INTEL_ITTNOTIFY_GROUPS naming the API groups to
 * fill; "structure" has domains, string handles and tasks). This file is that collector: the
 * Python tracer points both variables at the shim before torch loads, turns the ITT state on per
 * thread, and calls is_itt_start(path) so that ops are written to ops-<pid>.isc.
 *
 * ITT state touches neither Kineto nor CUPTI: torch's ITT observer only calls __itt_task_begin /
 * __itt_task_end around each op (torch/csrc/profiler/standalone/itt_observer.cpp).
 *
 * Ops run with the GIL released (torch's bindings drop it around every op), so nothing here calls
 * Python: each thread appends (word, CLOCK_MONOTONIC ns) pairs to its own buffer (__thread, no
 * lock) and writes a full buffer itself, under a mutex, as an ISC1 chunk record (the Python
 * tracer's file format, see src/tracer/inferscope/_tracer.py): word = name id << 3 | 0 (begin)
 * or 1 (end). Names are interned by content (op names may live in temporaries) and written as a
 * tables record {"ops": [[id, name], ...]} before the chunk that first uses them. Only the
 * "PyTorch" domain is recorded: other ITT users in the process (oneDNN) get a disabled domain. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "inferscope.h"

/* ITT's public structs (ittnotify.h): only their first fields are read by the callers. */
typedef struct itt_domain {
  volatile int flags; /* 0: the caller's macros skip every call for this domain */
  const char *nameA;
  void *nameW;
  int extra1;
  void *extra2;
  struct itt_domain *next;
} itt_domain;

typedef struct itt_string_handle {
  const char *strA;
  void *strW;
  int extra1;
  void *extra2;
  struct itt_string_handle *next;
  /* ours */
  int64_t id;
  size_t len;
  uint64_t hash;
} itt_string_handle;

typedef struct {
  unsigned long long d1, d2, d3;
} itt_id;

#define OP_BEGIN 0
#define OP_END 1
#define REC_TABLES 1
#define REC_CHUNK 2
#define REC_END 3
#define CHUNK_WORDS 65536 /* 512 KiB per thread */

typedef struct obuf {
  int64_t w[CHUNK_WORDS];
  size_t n;
  int32_t tid;
  struct obuf *next;
} obuf;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* file, names, buffer list */
static int fd = -1;
static volatile int recording;
static int64_t generation = 1; /* bumped at fork: a thread's buffer from before it is stale */
static __thread obuf *tb;
static __thread int64_t tb_gen;
static obuf *all_bufs;

/* names: open addressing by content hash */
static itt_string_handle **names;
static size_t names_cap, names_used;
static int64_t next_id = 1;
static char *pending; /* JSON rows not yet written: ,[id,"name"] ... */
static size_t pending_len, pending_cap;
static uint64_t written_events, written_chunks;

static itt_domain torch_domain = {1, "PyTorch", NULL, 0, NULL, NULL};
static itt_domain *other_domains;
/* ITT's static part may create domains itself (then only their name tells): the last domain
 * pointers seen, and whether each is torch's. */
static const itt_domain *volatile seen_torch, *volatile seen_other;

static int is_torch_domain(const itt_domain *d) {
  if (d == seen_torch || d == &torch_domain) return 1;
  if (!d || d == seen_other) return 0;
  if (d->nameA && strcmp(d->nameA, "PyTorch") == 0) {
    seen_torch = d;
    return 1;
  }
  seen_other = d;
  return 0;
}

static inline int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t hash_str(const char *s, size_t *len) {
  uint64_t h = 1469598103934665603ULL;
  const char *p = s;
  for (; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  *len = (size_t)(p - s);
  return h;
}

static void write_all(const void *data, size_t n) {
  const char *p = data;
  while (n > 0 && fd >= 0) {
    ssize_t k = write(fd, p, n);
    if (k <= 0) return;
    p += k;
    n -= (size_t)k;
  }
}

static void write_record(uint32_t type, const void *a, size_t an, const void *b, size_t bn) {
  struct {
    char magic[4];
    uint32_t type;
    uint64_t len;
  } hdr = {{'I', 'S', 'C', '1'}, type, (uint64_t)(an + bn)};
  write_all(&hdr, sizeof hdr);
  if (an) write_all(a, an);
  if (bn) write_all(b, bn);
}

/* With the lock held: the names interned since the last chunk, as a tables record. */
static void write_pending_names(void) {
  if (!pending_len) return;
  /* pending starts with ',' */
  const char *head = "{\"ops\":[";
  const char *tail = "]}";
  size_t n = strlen(head) + (pending_len - 1) + strlen(tail);
  char *buf = malloc(n);
  if (!buf) return;
  memcpy(buf, head, strlen(head));
  memcpy(buf + strlen(head), pending + 1, pending_len - 1);
  memcpy(buf + strlen(head) + pending_len - 1, tail, strlen(tail));
  write_record(REC_TABLES, buf, n, NULL, 0);
  free(buf);
  pending_len = 0;
}

static void flush_locked(obuf *b) {
  if (!b->n) return;
  if (recording && fd >= 0) {
    write_pending_names();
    struct {
      int32_t tid;
      uint32_t words, side, zero;
    } ch = {b->tid, (uint32_t)b->n, 0, 0};
    write_record(REC_CHUNK, &ch, sizeof ch, b->w, b->n * sizeof(int64_t));
    written_events += b->n / 2;
    written_chunks++;
  }
  b->n = 0;
}

static obuf *my_buf(void) {
  if (tb && tb_gen == generation) return tb;
  obuf *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  b->tid = (int32_t)syscall(SYS_gettid);
  pthread_mutex_lock(&lock);
  b->next = all_bufs;
  all_bufs = b;
  pthread_mutex_unlock(&lock);
  tb = b;
  tb_gen = generation;
  return b;
}

static inline void record(int64_t w) {
  obuf *b = my_buf();
  if (!b) return;
  if (b->n + 2 > CHUNK_WORDS) {
    pthread_mutex_lock(&lock);
    flush_locked(b);
    pthread_mutex_unlock(&lock);
  }
  b->w[b->n] = w;
  b->w[b->n + 1] = now_ns();
  b->n += 2;
}

/* JSON string body of s into pending (with the lock held). */
static void pending_add(int64_t id, const char *s) {
  size_t need = pending_len + strlen(s) * 6 + 64;
  if (need > pending_cap) {
    size_t cap = pending_cap ? pending_cap : 4096;
    while (cap < need) cap *= 2;
    char *p = realloc(pending, cap);
    if (!p) return;
    pending = p;
    pending_cap = cap;
  }
  pending_len += (size_t)sprintf(pending + pending_len, ",[%lld,\"", (long long)id);
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\') {
      pending[pending_len++] = '\\';
      pending[pending_len++] = (char)*c;
    } else if (*c < 0x20) {
      pending_len += (size_t)sprintf(pending + pending_len, "\\u%04x", *c);
    } else {
      pending[pending_len++] = (char)*c;
    }
  }
  pending[pending_len++] = '"';
  pending[pending_len++] = ']';
}

static int names_grow(void) {
  size_t ncap = names_cap ? names_cap * 2 : 1024;
  itt_string_handle **nn = calloc(ncap, sizeof *nn);
  if (!nn) return -1;
  for (size_t i = 0; i < names_cap; i++) {
    itt_string_handle *h = names[i];
    if (!h) continue;
    size_t s = h->hash & (ncap - 1);
    while (nn[s]) s = (s + 1) & (ncap - 1);
    nn[s] = h;
  }
  free(names);
  names = nn;
  names_cap = ncap;
  return 0;
}

static itt_string_handle *intern(const char *s) {
  size_t len;
  uint64_t h = hash_str(s, &len);
  pthread_mutex_lock(&lock);
  if ((names_used + 1) * 2 > names_cap && names_grow() < 0) {
    pthread_mutex_unlock(&lock);
    return NULL;
  }
  size_t slot = h & (names_cap - 1);
  for (; names[slot]; slot = (slot + 1) & (names_cap - 1)) {
    itt_string_handle *x = names[slot];
    if (x->hash == h && x->len == len && memcmp(x->strA, s, len) == 0) {
      pthread_mutex_unlock(&lock);
      return x;
    }
  }
  itt_string_handle *x = calloc(1, sizeof *x);
  char *copy = x ? malloc(len + 1) : NULL;
  if (!copy) {
    free(x);
    pthread_mutex_unlock(&lock);
    return NULL;
  }
  memcpy(copy, s, len + 1);
  x->strA = copy;
  x->len = len;
  x->hash = h;
  x->id = next_id++;
  names[slot] = x;
  names_used++;
  pending_add(x->id, copy);
  pthread_mutex_unlock(&lock);
  return x;
}

/* Per-thread cache of the last handles, keyed by the caller's pointer and checked by content:
 * torch passes the same static name for an op, but a temporary for a record_function label. */
#define CACHE 64
static __thread struct {
  const char *ptr;
  itt_string_handle *h;
} cache[CACHE];

/* ---- the ITT API (names as ittnotify_static.c looks them up with dlsym) ---- */

const char *__itt_api_version(void) { return "inferscope"; }

itt_domain *__itt_domain_create(const char *name) {
  if (name && strcmp(name, "PyTorch") == 0) return &torch_domain;
  itt_domain *d = calloc(1, sizeof *d); /* flags 0: disabled */
  if (!d) return NULL;
  pthread_mutex_lock(&lock);
  d->next = other_domains;
  other_domains = d;
  pthread_mutex_unlock(&lock);
  return d;
}

itt_string_handle *__itt_string_handle_create(const char *name) {
  if (!name) return NULL;
  size_t slot = ((uintptr_t)name >> 3) & (CACHE - 1);
  itt_string_handle *h = cache[slot].h;
  if (h && cache[slot].ptr == name && strncmp(h->strA, name, h->len + 1) == 0) return h;
  h = intern(name);
  cache[slot].ptr = name;
  cache[slot].h = h;
  return h;
}

/* Capture windows (the Python tracer's _window.py calls is_itt_capture): only begins and ends
 * inside a window are recorded; an op still open when a window closes is ended there by the
 * reader (as Python calls are). Ends carry no name: a per-thread bit per nesting level says
 * whether the begin was kept, so an op begun outside never takes an end recorded inside. */
static int capturing = 1;
static __thread uint64_t kept_bits;
static __thread int op_depth;

void is_itt_capture(int on) { capturing = on != 0; }

void __itt_task_begin(const itt_domain *d, itt_id id, itt_id parent, itt_string_handle *name) {
  (void)id;
  (void)parent;
  if (!recording || !name || !is_torch_domain(d)) return;
  int keep = capturing;
  if (op_depth < 64) {
    if (keep) kept_bits |= 1ULL << op_depth;
    else kept_bits &= ~(1ULL << op_depth);
  }
  op_depth++;
  if (keep) record((name->id << 3) | OP_BEGIN);
}

void __itt_task_end(const itt_domain *d) {
  if (!recording || !is_torch_domain(d)) return;
  if (op_depth > 0) {
    op_depth--;
    if (op_depth < 64 && !(kept_bits & (1ULL << op_depth))) return;
  }
  if (!capturing) return; /* the reader ends an op open at a window's close there */
  record(OP_END);
}

/* ---- control, from the Python tracer through ctypes ---- */

static void at_fork_child(void) {
  /* The child's ops are not the parent's: drop what the parent had buffered; the child's tracer
   * calls is_itt_start() again with its own file when it follows children. */
  recording = 0;
  pthread_mutex_init(&lock, NULL);
  if (fd >= 0) close(fd);
  fd = -1;
  generation++;
  obuf *b = all_bufs;
  all_bufs = NULL;
  while (b) {
    obuf *next = b->next;
    free(b);
    b = next;
  }
  tb = NULL;
  /* Names interned so far are the parent's ids: the child's file restates them all. */
  pending_len = 0;
  for (size_t i = 0; i < names_cap; i++)
    if (names[i]) pending_add(names[i]->id, names[i]->strA);
  written_events = written_chunks = 0;
}

static void at_exit(void) { is_itt_stop(); }

int is_itt_start(const char *path) {
  static int hooked;
  pthread_mutex_lock(&lock);
  if (!hooked) {
    hooked = 1;
    pthread_atfork(NULL, NULL, at_fork_child);
    atexit(at_exit);
  }
  if (fd < 0) fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  recording = fd >= 0;
  pthread_mutex_unlock(&lock);
  return recording ? 0 : -1;
}

/* Writes every thread's buffered ops and an end record; records nothing more. Safe to call twice. */
int is_itt_stop(void) {
  pthread_mutex_lock(&lock);
  if (fd >= 0 && recording) {
    for (obuf *b = all_bufs; b; b = b->next) flush_locked(b);
    write_pending_names();
    char meta[160];
    int n = snprintf(meta, sizeof meta, "{\"pid\":%d,\"events\":%llu,\"chunks\":%llu}", (int)getpid(), (unsigned long long)written_events, (unsigned long long)written_chunks);
    write_record(REC_END, meta, (size_t)n, NULL, 0);
    close(fd);
    fd = -1;
  }
  recording = 0;
  pthread_mutex_unlock(&lock);
  return 0;
}

/* Ops recorded so far in this process (written or buffered). */
int64_t is_itt_events(void) {
  int64_t n = (int64_t)written_events;
  pthread_mutex_lock(&lock);
  for (obuf *b = all_bufs; b; b = b->next) n += (int64_t)(b->n / 2);
  pthread_mutex_unlock(&lock);
  return n;
}

/* ---- ops recorded by another source (the Python tracer's op shapes, src/tracer/inferscope/
 * _torch_ops.py): torch's legacy CPU profiler state, whose events carry input shapes where ITT's
 * carry names only, is converted by the tracer into the same words and written here. ---- */

/* The op name's id (interned as ITT names are; written with the next chunk). */
int64_t is_itt_intern(const char *name) {
  itt_string_handle *h = name ? intern(name) : NULL;
  return h ? h->id : -1;
}

/* One chunk of n words (word, CLOCK_MONOTONIC ns pairs) for thread tid. */
int is_itt_replay(int32_t tid, const int64_t *w, int64_t n) {
  if (n <= 0 || (n & 1)) return -1;
  pthread_mutex_lock(&lock);
  int ok = recording && fd >= 0;
  if (ok) {
    write_pending_names();
    struct {
      int32_t tid;
      uint32_t words, side, zero;
    } ch = {tid, (uint32_t)n, 0, 0};
    write_record(REC_CHUNK, &ch, sizeof ch, w, (size_t)n * sizeof(int64_t));
    written_events += (uint64_t)n / 2;
    written_chunks++;
  }
  pthread_mutex_unlock(&lock);
  return ok ? 0 : -1;
}
