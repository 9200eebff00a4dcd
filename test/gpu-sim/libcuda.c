/* SIMULATION of libcuda.so.1 (the NVIDIA driver's library), for tests only: see README.md. It is
 * not the driver and does nothing on a GPU. It reproduces what InferScope relies on at the driver
 * boundary:
 *  - cuInit loads $CUDA_INJECTION64_PATH and calls its InitializeInjection, as the driver does;
 *  - the device queries InferScope's parent makes (count, name, memory, SMs, PCI id, UUID), for the
 *    GPUs in $GPUSIM_GPUS, listed in CUDA's default order (fastest first), honouring
 *    CUDA_DEVICE_ORDER=PCI_BUS_ID and CUDA_VISIBLE_DEVICES (indices or UUID prefixes, cut at the
 *    first invalid entry, as CUDA does);
 *  - a GPU timeline: work runs at the interval it had in a recording, streams and the device are
 *    busy until their work ends, synchronizing calls block until then (a hung kernel never ends);
 *  - after fork() every call in the child fails with CUDA_ERROR_NOT_INITIALIZED, as CUDA does.
 * The simulated libcupti attaches through gpusimAttachTool and is told of every call and piece of
 * GPU work. Build: test/gpu-sim/build.ts. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "gpusim.h"

enum { CUDA_SUCCESS = 0, CUDA_ERROR_INVALID_VALUE = 1, CUDA_ERROR_NOT_INITIALIZED = 3, CUDA_ERROR_NO_DEVICE = 100, CUDA_ERROR_INVALID_DEVICE = 101 };
enum { DOMAIN_DRIVER = 1 };
enum { CBID_cuCtxSynchronize = 17 };           /* CUPTI_DRIVER_TRACE_CBID_cuCtxSynchronize */
enum { SYNC_CONTEXT = 4, SYNC_STREAM = 3 };    /* CUpti_ActivitySynchronizationType */
#define NEVER INT64_MAX
#define MAX_GPUS 16
#define MAX_STREAMS 256

typedef struct {
  char name[128], uuid[48], pci[32];
  uint32_t sms;
  uint64_t memory;
  int cc_major, cc_minor;
} gpu;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static gpu all[MAX_GPUS];
static int n_all;
static int visible[MAX_GPUS], n_visible;
static int initialized, forked, context_made;
static const gpusim_tool *tool;
static int64_t origin = -1;
static int64_t device_busy;
static struct {
  uint32_t id;
  int64_t busy;
} streams[MAX_STREAMS];
static int n_streams;
static struct {
  uint64_t address, bytes;
  int kind;
} allocations[4096];
static uint64_t next_address = 0x7f0000000000ULL;

static int64_t mono(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* ---- devices ------------------------------------------------------------------------------ */

/* GPUSIM_GPUS: "name|uuid|pci|sms|bytes[|major.minor];…" in CUDA's default order (compute
 * capability 9.0 when not given). Default: one H100 as in the Kineto fixtures' deviceProperties. */
static void load_gpus(void) {
  const char *spec = getenv("GPUSIM_GPUS");
  if (!spec) spec = "NVIDIA H100 80GB HBM3|GPU-5e0c2d4a-1b7f-4c3e-9a2d-6f1e8b3c7d90|0000:18:00.0|132|85017493504";
  char *copy = strdup(spec), *save = NULL;
  for (char *g = strtok_r(copy, ";", &save); g && n_all < MAX_GPUS; g = strtok_r(NULL, ";", &save)) {
    gpu *d = &all[n_all];
    char *f[6] = {0};
    char *s2 = NULL;
    int i = 0;
    for (char *x = strtok_r(g, "|", &s2); x && i < 6; x = strtok_r(NULL, "|", &s2)) f[i++] = x;
    if (i < 5) continue;
    d->cc_major = 9;
    d->cc_minor = 0;
    if (i == 6 && sscanf(f[5], "%d.%d", &d->cc_major, &d->cc_minor) != 2) d->cc_major = 9, d->cc_minor = 0;
    snprintf(d->name, sizeof d->name, "%s", f[0]);
    snprintf(d->uuid, sizeof d->uuid, "%s", f[1]);
    snprintf(d->pci, sizeof d->pci, "%s", f[2]);
    d->sms = (uint32_t)atoi(f[3]);
    d->memory = strtoull(f[4], NULL, 10);
    n_all++;
  }
  free(copy);
}

static int by_pci(const void *a, const void *b) { return strcasecmp(all[*(const int *)a].pci, all[*(const int *)b].pci); }

/* CUDA_DEVICE_ORDER picks the order; CUDA_VISIBLE_DEVICES picks from it. */
static void select_visible(void) {
  int order[MAX_GPUS];
  for (int i = 0; i < n_all; i++) order[i] = i;
  const char *ord = getenv("CUDA_DEVICE_ORDER");
  if (ord && strcmp(ord, "PCI_BUS_ID") == 0) qsort(order, (size_t)n_all, sizeof *order, by_pci);
  const char *v = getenv("CUDA_VISIBLE_DEVICES");
  n_visible = 0;
  if (!v) {
    for (int i = 0; i < n_all; i++) visible[n_visible++] = order[i];
    return;
  }
  char *copy = strdup(v), *save = NULL;
  for (char *e = strtok_r(copy, ",", &save); e && n_visible < MAX_GPUS; e = strtok_r(NULL, ",", &save)) {
    while (isspace((unsigned char)*e)) e++;
    int found = -1;
    if (strncmp(e, "GPU-", 4) == 0) {
      for (int i = 0; i < n_all; i++)
        if (strncasecmp(all[i].uuid, e, strlen(e)) == 0) found = i;
    } else if (isdigit((unsigned char)*e)) {
      int k = atoi(e);
      if (k < n_all) found = order[k];
    }
    if (found < 0) break; /* CUDA ignores everything from the first invalid entry on */
    visible[n_visible++] = found;
  }
  free(copy);
}

static void after_fork_child(void) {
  if (initialized) forked = 1;
}

int cuInit(unsigned flags) {
  (void)flags;
  if (forked) return CUDA_ERROR_NOT_INITIALIZED;
  pthread_mutex_lock(&lock);
  int first = !initialized;
  if (first) {
    initialized = 1;
    load_gpus();
    select_visible();
    pthread_atfork(NULL, NULL, after_fork_child);
  }
  pthread_mutex_unlock(&lock);
  if (!n_visible) return CUDA_ERROR_NO_DEVICE;
  if (first) {
    /* As the driver does: the injection library's InitializeInjection runs inside cuInit. */
    const char *inj = getenv("CUDA_INJECTION64_PATH");
    if (inj && *inj) {
      void *h = dlopen(inj, RTLD_NOW);
      int (*init)(void) = h ? (int (*)(void))dlsym(h, "InitializeInjection") : NULL;
      if (init) init();
      else fprintf(stderr, "gpusim libcuda: CUDA_INJECTION64_PATH=%s: %s\n", inj, h ? "no InitializeInjection" : dlerror());
    }
  }
  return CUDA_SUCCESS;
}

int cuDriverGetVersion(int *v) {
  *v = 13000;
  return CUDA_SUCCESS;
}

#define NEED_INIT \
  if (forked || !initialized) return CUDA_ERROR_NOT_INITIALIZED
#define DEV(d) \
  if ((d) < 0 || (d) >= n_visible) return CUDA_ERROR_INVALID_DEVICE; \
  const gpu *g = &all[visible[d]]

int cuDeviceGetCount(int *n) {
  NEED_INIT;
  *n = n_visible;
  return CUDA_SUCCESS;
}
int cuDeviceGet(int *d, int i) {
  NEED_INIT;
  if (i < 0 || i >= n_visible) return CUDA_ERROR_INVALID_DEVICE;
  *d = i;
  return CUDA_SUCCESS;
}
int cuDeviceGetName(char *s, int len, int d) {
  NEED_INIT;
  DEV(d);
  snprintf(s, (size_t)len, "%s", g->name);
  return CUDA_SUCCESS;
}
int cuDeviceTotalMem_v2(size_t *b, int d) {
  NEED_INIT;
  DEV(d);
  *b = (size_t)g->memory;
  return CUDA_SUCCESS;
}
int cuDeviceGetAttribute(int *v, int attr, int d) {
  NEED_INIT;
  DEV(d);
  /* MULTIPROCESSOR_COUNT, COMPUTE_CAPABILITY_MAJOR, _MINOR */
  *v = attr == 16 ? (int)g->sms : attr == 75 ? g->cc_major : attr == 76 ? g->cc_minor : 0;
  return CUDA_SUCCESS;
}
int cuDeviceGetPCIBusId(char *s, int len, int d) {
  NEED_INIT;
  DEV(d);
  snprintf(s, (size_t)len, "%s", g->pci);
  return CUDA_SUCCESS;
}
static int parse_uuid(const char *s, unsigned char *out) {
  int k = 0;
  if (strncmp(s, "GPU-", 4) == 0) s += 4;
  for (; *s && k < 16; s++) {
    if (*s == '-') continue;
    unsigned v;
    if (sscanf(s, "%2x", &v) != 1) return -1;
    out[k++] = (unsigned char)v;
    s++;
  }
  return k == 16 ? 0 : -1;
}
int cuDeviceGetUuid_v2(unsigned char *u, int d) {
  NEED_INIT;
  DEV(d);
  return parse_uuid(g->uuid, u) == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
int cuDeviceGetUuid(unsigned char *u, int d) { return cuDeviceGetUuid_v2(u, d); }

/* ---- the timeline ------------------------------------------------------------------------- */

void gpusimAttachTool(const gpusim_tool *t) { tool = t; }

int gpusimSetOrigin(int64_t monotonic_ns) {
  origin = monotonic_ns;
  return CUDA_SUCCESS;
}

static int64_t *stream_busy(uint32_t id) {
  for (int i = 0; i < n_streams; i++)
    if (streams[i].id == id) return &streams[i].busy;
  if (n_streams == MAX_STREAMS) return &device_busy;
  streams[n_streams].id = id;
  return &streams[n_streams++].busy;
}

/* Sleeps most of the way, spins the last 2 ms (a sleep can overshoot by that much on a busy
 * machine, and the recorded intervals are µs apart). */
static void wait_until(int64_t t) {
  if (t == NEVER) {
    for (;;) pause(); /* a hung kernel: only a signal ends this process */
  }
  for (int64_t now = mono(); now < t; now = mono()) {
    if (t - now > 3000000) {
      struct timespec s = {0, (long)(t - now - 2000000)};
      if (s.tv_nsec >= 1000000000L) s.tv_sec = s.tv_nsec / 1000000000L, s.tv_nsec %= 1000000000L;
      nanosleep(&s, NULL);
    }
  }
}

static int64_t at(int64_t recorded) { return recorded >= NEVER / 2 ? NEVER : origin + recorded; }

/* The first call makes the context: CUPTI's device record for the GPU in use. */
static void make_context(void) {
  if (context_made) return;
  context_made = 1;
  if (origin < 0) origin = mono();
  if (tool && tool->device && n_visible > 0) {
    const gpu *g = &all[visible[0]];
    gpusim_device d = {g->name, {0}, 0, g->sms, (uint32_t)g->cc_major, (uint32_t)g->cc_minor, g->memory};
    parse_uuid(g->uuid, d.uuid);
    tool->device(&d);
  }
}

typedef struct {
  uint64_t start;
  uint32_t corr;
} call_state;

static int enter(call_state *c) {
  if (forked || !initialized) return CUDA_ERROR_NOT_INITIALIZED;
  pthread_mutex_lock(&lock);
  make_context();
  pthread_mutex_unlock(&lock);
  c->start = tool ? tool->timestamp() : 0;
  c->corr = tool ? tool->correlation() : 0;
  return CUDA_SUCCESS;
}

static void leave(int domain, int cbid, const call_state *c, int64_t api_end) {
  if (api_end >= 0) wait_until(at(api_end));
  if (tool) tool->api(domain, cbid, c->start, tool->timestamp(), c->corr, CUDA_SUCCESS);
}

static void issue(const gpusim_op *ops, int n, uint32_t corr, uint32_t runtime_corr) {
  pthread_mutex_lock(&lock);
  for (int i = 0; i < n; i++) {
    int64_t s = at(ops[i].start), e = at(ops[i].end);
    int64_t *sb = stream_busy(ops[i].stream);
    if (e > *sb) *sb = e;
    if (e > device_busy) device_busy = e;
    uint32_t c = corr;
    if (ops[i].flags & GPUSIM_DRIVER_CORR) c = tool ? tool->correlation() : 0;
    if (tool) tool->gpu(&ops[i], c, runtime_corr, s, e);
  }
  pthread_mutex_unlock(&lock);
}

int gpusimLaunch(int domain, int cbid, int inner_cbid, int64_t api_end, const gpusim_op *ops, int n) {
  call_state c, in;
  int r = enter(&c);
  if (r) return r;
  if (inner_cbid > 0) {
    enter(&in);
    issue(ops, n, in.corr, in.corr);
    leave(2, inner_cbid, &in, -1);
  } else {
    issue(ops, n, c.corr, c.corr);
  }
  leave(domain, cbid, &c, api_end);
  return CUDA_SUCCESS;
}

int gpusimMemcpy(int domain, int cbid, int64_t api_end, const gpusim_op *op) { return gpusimLaunch(domain, cbid, 0, api_end, op, 1); }
int gpusimMemset(int domain, int cbid, int64_t api_end, const gpusim_op *op) { return gpusimLaunch(domain, cbid, 0, api_end, op, 1); }

int gpusimCall(int domain, int cbid, int64_t api_end) {
  call_state c;
  int r = enter(&c);
  if (r) return r;
  leave(domain, cbid, &c, api_end);
  return CUDA_SUCCESS;
}

int gpusimSynchronize(int domain, int cbid, int type, uint32_t stream, int64_t api_end) {
  call_state c;
  int r = enter(&c);
  if (r) return r;
  pthread_mutex_lock(&lock);
  int64_t until = type == SYNC_STREAM ? *stream_busy(stream) : device_busy;
  pthread_mutex_unlock(&lock);
  wait_until(until);
  if (api_end >= 0) wait_until(at(api_end));
  uint64_t end = tool ? tool->timestamp() : 0;
  if (tool) {
    tool->sync(type, type == SYNC_STREAM ? stream : 0xffffffffu, c.corr, c.start, end);
    tool->api(domain, cbid, c.start, end, c.corr, CUDA_SUCCESS);
  }
  return CUDA_SUCCESS;
}

/* The real entry point, as torch.cuda.synchronize reaches it: waits for all work. */
int cuCtxSynchronize(void) { return gpusimSynchronize(DOMAIN_DRIVER, CBID_cuCtxSynchronize, SYNC_CONTEXT, 0, -1); }

int gpusimMalloc(int domain, int cbid, uint64_t bytes, int memory_kind, uint64_t *address) {
  call_state c;
  int r = enter(&c);
  if (r) return r;
  pthread_mutex_lock(&lock);
  uint64_t a = next_address;
  next_address += (bytes + 0xfffff) & ~0xfffffULL;
  for (int i = 0; i < 4096; i++)
    if (!allocations[i].address) {
      allocations[i].address = a;
      allocations[i].bytes = bytes;
      allocations[i].kind = memory_kind;
      break;
    }
  pthread_mutex_unlock(&lock);
  *address = a;
  if (tool) tool->memory(1 /* ALLOCATION */, memory_kind, a, bytes, c.corr, tool->timestamp());
  leave(domain, cbid, &c, -1);
  return CUDA_SUCCESS;
}

int gpusimFree(int domain, int cbid, uint64_t address) {
  call_state c;
  int r = enter(&c);
  if (r) return r;
  uint64_t bytes = 0;
  int kind = 0;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < 4096; i++)
    if (allocations[i].address == address) {
      bytes = allocations[i].bytes;
      kind = allocations[i].kind;
      allocations[i].address = 0;
      break;
    }
  pthread_mutex_unlock(&lock);
  if (tool) tool->memory(2 /* RELEASE */, kind, address, bytes, c.corr, tool->timestamp());
  leave(domain, cbid, &c, -1);
  return CUDA_SUCCESS;
}
