/* CUPTI activity collection inside the profiled process.
 *
 * Loaded by the CUDA driver through CUDA_INJECTION64_PATH (it calls InitializeInjection at cuInit),
 * so collection starts with the first CUDA call and costs nothing in scripts that never use CUDA.
 * libcupti is opened with dlopen, never linked: first an explicit path, then the copy torch has
 * already loaded (RTLD_NOLOAD), then the copies next to torch's CUDA libraries, then the system's.
 *
 * Records stream to one binary file (layout in src/collect/gpu-records.ts): CUPTI hands each full
 * buffer back on its own thread, we append compact fixed-size records and free the buffer, so
 * memory stays bounded. Every timestamp is CLOCK_MONOTONIC ns through the timestamp callback, the
 * clock of Python's time.perf_counter_ns(). */
#define _GNU_SOURCE
#include <cupti.h>
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "gpu_records.h"
#include "inferscope.h"

#define OUT_ENV "_INFERSCOPE_GPU_OUT"
#define CUPTI_ENV "_INFERSCOPE_CUPTI_PATH"
#define PPID_ENV "_INFERSCOPE_GPU_PPID"
#define BUF_SIZE (8u << 20)


/* The CUPTI entry points we use, resolved from the dlopen'ed library. */
static struct {
  CUptiResult (*enable)(CUpti_ActivityKind);
  CUptiResult (*disable)(CUpti_ActivityKind);
  CUptiResult (*register_callbacks)(CUpti_BuffersCallbackRequestFunc, CUpti_BuffersCallbackCompleteFunc);
  CUptiResult (*register_ts)(CUpti_TimestampCallbackFunc);
  CUptiResult (*next_record)(uint8_t *, size_t, CUpti_Activity **);
  CUptiResult (*dropped)(CUcontext, uint32_t, size_t *);
  CUptiResult (*flush_all)(uint32_t);
  CUptiResult (*enable_runtime_api)(CUpti_CallbackId, uint8_t);
  CUptiResult (*enable_driver_api)(CUpti_CallbackId, uint8_t);
  CUptiResult (*callback_name)(CUpti_CallbackDomain, uint32_t, const char **);
  CUptiResult (*thread_id_type)(CUpti_ActivityThreadIdType);
  CUptiResult (*version)(uint32_t *);
  CUptiResult (*result_string)(CUptiResult, const char **);
} cu;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *out;
static int started;
static char status_text[512] = "not started";
static uint64_t total_dropped, total_records;

/* Kernel and API names are interned: each distinct string is written once as R_STRING. */
#define NAMES 8192
static struct { uint64_t hash; char *s; } names[NAMES];
static uint32_t name_count;

static uint64_t fnv(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
  return h;
}

static void write_rec(uint16_t type, const void *payload, uint16_t size) {
  rec_head h = {type, size};
  fwrite(&h, sizeof h, 1, out);
  fwrite(payload, size, 1, out);
}

/* Caller holds `lock`. Returns the id of `s`, writing it out the first time it is seen. */
static uint32_t intern(const char *s) {
  if (!s) s = "";
  uint64_t h = fnv(s);
  uint32_t i = (uint32_t)(h % NAMES);
  for (uint32_t probe = 0; probe < NAMES; probe++, i = (i + 1) % NAMES) {
    if (!names[i].s) break;
    if (names[i].hash == h && strcmp(names[i].s, s) == 0) return i + 1;
  }
  if (names[i].s || name_count >= NAMES - 1) return 0; /* table full: name id 0 = unknown */
  names[i].hash = h;
  names[i].s = strdup(s);
  name_count++;
  size_t len = strlen(s);
  if (len > 60000) len = 60000;
  uint8_t buf[4 + 60000];
  uint32_t id = i + 1;
  memcpy(buf, &id, 4);
  memcpy(buf + 4, s, len);
  write_rec(R_STRING, buf, (uint16_t)(4 + len));
  return id;
}

/* C++ kernel names arrive mangled; libstdc++ (always loaded next to torch) demangles them. */
static char *(*cxa_demangle)(const char *, char *, size_t *, int *);
static uint32_t intern_kernel(const char *name) {
  if (name && name[0] == '_' && name[1] == 'Z') {
    if (!cxa_demangle) *(void **)(&cxa_demangle) = dlsym(RTLD_DEFAULT, "__cxa_demangle");
    int status = -1;
    char *d = cxa_demangle ? cxa_demangle(name, NULL, NULL, &status) : NULL;
    if (d && status == 0) {
      uint32_t id = intern(d);
      free(d);
      return id;
    }
    free(d);
  }
  return intern(name);
}

static void info(const char *text) {
  if (out) write_rec(R_INFO, text, (uint16_t)strlen(text));
}

static uint64_t monotonic_ts(void) { return (uint64_t)is_monotonic_ns(); }

static void CUPTIAPI buffer_requested(uint8_t **buffer, size_t *size, size_t *max_records) {
  *buffer = aligned_alloc(8, BUF_SIZE);
  *size = *buffer ? BUF_SIZE : 0;
  *max_records = 0;
}

static void emit(CUpti_Activity *r) {
  switch (r->kind) {
    case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
    case CUPTI_ACTIVITY_KIND_KERNEL: {
      /* Fields read here sit at the same offsets in CUPTI 12 (Kernel9) and 13 (Kernel10). */
      CUpti_ActivityKernel10 *k = (CUpti_ActivityKernel10 *)r;
      rec_kernel o = {k->start, k->end, k->deviceId, k->contextId, k->streamId, k->correlationId, intern_kernel(k->name), k->graphId,
                      {k->gridX, k->gridY, k->gridZ}, {k->blockX, k->blockY, k->blockZ}, k->registersPerThread,
                      (uint32_t)k->staticSharedMemory, (uint32_t)k->dynamicSharedMemory, k->graphNodeId};
      write_rec(R_KERNEL, &o, sizeof o);
      break;
    }
    case CUPTI_ACTIVITY_KIND_MEMCPY: {
      CUpti_ActivityMemcpy6 *m = (CUpti_ActivityMemcpy6 *)r;
      rec_memcpy o = {m->start, m->end, m->bytes, m->deviceId, m->contextId, m->streamId, m->correlationId,
                      m->runtimeCorrelationId, m->graphId, m->copyKind, m->srcKind, m->dstKind, m->flags};
      write_rec(R_MEMCPY, &o, sizeof o);
      break;
    }
    case CUPTI_ACTIVITY_KIND_MEMSET: {
      CUpti_ActivityMemset4 *m = (CUpti_ActivityMemset4 *)r;
      rec_memset o = {m->start, m->end, m->bytes, m->deviceId, m->contextId, m->streamId, m->correlationId, m->graphId, m->memoryKind, m->flags};
      write_rec(R_MEMSET, &o, sizeof o);
      break;
    }
    case CUPTI_ACTIVITY_KIND_RUNTIME:
    case CUPTI_ACTIVITY_KIND_DRIVER: {
      CUpti_ActivityAPI *a = (CUpti_ActivityAPI *)r;
      int runtime = r->kind == CUPTI_ACTIVITY_KIND_RUNTIME;
      const char *nm = NULL;
      if (cu.callback_name) cu.callback_name(runtime ? CUPTI_CB_DOMAIN_RUNTIME_API : CUPTI_CB_DOMAIN_DRIVER_API, a->cbid, &nm);
      rec_api o = {a->start, a->end, runtime ? 1u : 2u, a->cbid, a->processId, a->threadId, a->correlationId, a->returnValue, intern(nm)};
      write_rec(R_API, &o, sizeof o);
      break;
    }
    case CUPTI_ACTIVITY_KIND_SYNCHRONIZATION: {
      CUpti_ActivitySynchronization2 *s = (CUpti_ActivitySynchronization2 *)r;
      rec_sync o = {s->start, s->end, (uint32_t)s->type, s->correlationId, s->contextId, s->streamId, s->cudaEventId};
      write_rec(R_SYNC, &o, sizeof o);
      break;
    }
    case CUPTI_ACTIVITY_KIND_MEMORY2: {
      CUpti_ActivityMemory4 *m = (CUpti_ActivityMemory4 *)r;
      rec_memory o = {m->address, m->bytes, m->timestamp, (uint32_t)m->memoryOperationType, (uint32_t)m->memoryKind,
                      m->correlationId, m->deviceId, m->contextId, m->streamId};
      write_rec(R_MEMORY, &o, sizeof o);
      break;
    }
    default:
      break;
  }
}

static void CUPTIAPI buffer_completed(CUcontext ctx, uint32_t stream, uint8_t *buffer, size_t size, size_t valid) {
  pthread_mutex_lock(&lock);
  if (out) {
    CUpti_Activity *r = NULL;
    while (cu.next_record(buffer, valid, &r) == CUPTI_SUCCESS) {
      emit(r);
      total_records++;
    }
    size_t dropped = 0;
    if (cu.dropped && cu.dropped(ctx, stream, &dropped) == CUPTI_SUCCESS && dropped) {
      total_dropped += dropped;
      uint64_t d = dropped;
      write_rec(R_DROPPED, &d, sizeof d);
    }
  }
  pthread_mutex_unlock(&lock);
  (void)size;
  free(buffer);
}

/* Finds a directory of an already-loaded CUDA library (torch's nvidia/cuXX/lib) for libcupti. */
static int find_loaded_dir(struct dl_phdr_info *info, size_t sz, void *data) {
  (void)sz;
  const char *n = info->dlpi_name;
  if (n && (strstr(n, "/libcudart.so") || strstr(n, "/libnvrtc") || strstr(n, "/libcublas.so"))) {
    const char *slash = strrchr(n, '/');
    size_t len = (size_t)(slash - n);
    if (len < 400) {
      memcpy(data, n, len);
      ((char *)data)[len] = 0;
      return 1;
    }
  }
  return 0;
}

static void *open_cupti(char *where, size_t where_len) {
  const char *explicit_path = getenv(CUPTI_ENV);
  void *h = NULL;
  if (explicit_path && *explicit_path) {
    h = dlopen(explicit_path, RTLD_NOW | RTLD_GLOBAL);
    snprintf(where, where_len, "%s", explicit_path);
    return h;
  }
  const char *sonames[] = {"libcupti.so.13", "libcupti.so.12", "libcupti.so"};
  for (size_t i = 0; i < 3 && !h; i++)
    if ((h = dlopen(sonames[i], RTLD_NOW | RTLD_NOLOAD))) snprintf(where, where_len, "%s (already loaded)", sonames[i]);
  if (!h) {
    char dir[512] = "";
    if (dl_iterate_phdr(find_loaded_dir, dir) && *dir) {
      char p[700];
      for (size_t i = 0; i < 3 && !h; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, sonames[i]);
        if ((h = dlopen(p, RTLD_NOW | RTLD_GLOBAL))) snprintf(where, where_len, "%s", p);
      }
    }
  }
  for (size_t i = 0; i < 3 && !h; i++)
    if ((h = dlopen(sonames[i], RTLD_NOW | RTLD_GLOBAL))) snprintf(where, where_len, "%s", sonames[i]);
  const char *fixed[] = {"/usr/local/cuda/lib64/libcupti.so", "/usr/local/cuda/extras/CUPTI/lib64/libcupti.so"};
  for (size_t i = 0; i < 2 && !h; i++)
    if ((h = dlopen(fixed[i], RTLD_NOW | RTLD_GLOBAL))) snprintf(where, where_len, "%s", fixed[i]);
  return h;
}

/* Launch, copy, memset, sync and alloc calls only: recording every API call costs 5–35 % and is
 * mostly cudaGetDevice. */
static int wanted_api(const char *name) {
  static const char *prefixes[] = {"cudaLaunch", "cudaGraphLaunch", "cudaMemcpy", "cudaMemset", "cudaDeviceSynchronize",
                                   "cudaStreamSynchronize", "cudaEventSynchronize", "cudaStreamWaitEvent", "cudaMalloc",
                                   "cudaFree", "cudaHostAlloc", "cuLaunch", "cuGraphLaunch", "cuMemcpy", "cuMemset",
                                   "cuCtxSynchronize", "cuStreamSynchronize", "cuEventSynchronize", "cuStreamWaitEvent",
                                   "cuMemAlloc", "cuMemFree", "cuMemHostAlloc"};
  if (!name) return 0;
  for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
    if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) return 1;
  return 0;
}

static void select_apis(void) {
  if (!cu.callback_name) return;
  for (uint32_t cbid = 1; cbid < CUPTI_RUNTIME_TRACE_CBID_SIZE; cbid++) {
    const char *n = NULL;
    if (cu.callback_name(CUPTI_CB_DOMAIN_RUNTIME_API, cbid, &n) == CUPTI_SUCCESS && cu.enable_runtime_api)
      cu.enable_runtime_api(cbid, (uint8_t)wanted_api(n));
  }
  for (uint32_t cbid = 1; cbid < CUPTI_DRIVER_TRACE_CBID_SIZE; cbid++) {
    const char *n = NULL;
    if (cu.callback_name(CUPTI_CB_DOMAIN_DRIVER_API, cbid, &n) == CUPTI_SUCCESS && cu.enable_driver_api)
      cu.enable_driver_api(cbid, (uint8_t)wanted_api(n));
  }
}

static const char *err(CUptiResult r) {
  const char *s = NULL;
  if (cu.result_string) cu.result_string(r, &s);
  return s ? s : "unknown CUPTI error";
}

static void at_exit_flush(void) { is_cupti_flush(); }

int is_cupti_start(const char *out_path) {
  pthread_mutex_lock(&lock);
  if (started) {
    pthread_mutex_unlock(&lock);
    return 0;
  }
  started = 1;
  pthread_mutex_unlock(&lock);
  char where[1024] = "";
  void *h = open_cupti(where, sizeof where);
  if (!h) {
    snprintf(status_text, sizeof status_text, "no-cupti: libcupti not found (set cuptiPath / INFERSCOPE_CUPTI_PATH)");
    return -1;
  }
#define SYM(field, name) *(void **)(&cu.field) = dlsym(h, name)
  SYM(enable, "cuptiActivityEnable");
  SYM(disable, "cuptiActivityDisable");
  SYM(register_callbacks, "cuptiActivityRegisterCallbacks");
  SYM(register_ts, "cuptiActivityRegisterTimestampCallback");
  SYM(next_record, "cuptiActivityGetNextRecord");
  SYM(dropped, "cuptiActivityGetNumDroppedRecords");
  SYM(flush_all, "cuptiActivityFlushAll");
  SYM(enable_runtime_api, "cuptiActivityEnableRuntimeApi");
  SYM(enable_driver_api, "cuptiActivityEnableDriverApi");
  SYM(callback_name, "cuptiGetCallbackName");
  SYM(thread_id_type, "cuptiSetThreadIdType");
  SYM(version, "cuptiGetVersion");
  SYM(result_string, "cuptiGetResultString");
#undef SYM
  if (!cu.enable || !cu.register_callbacks || !cu.next_record || !cu.flush_all) {
    snprintf(status_text, sizeof status_text, "no-cupti: %s lacks the activity API", where);
    return -1;
  }
  out = fopen(out_path, "wb");
  if (!out) {
    snprintf(status_text, sizeof status_text, "error: cannot write %s", out_path);
    return -1;
  }
  setvbuf(out, NULL, _IOFBF, 1 << 20);
  fwrite("ISGPU\0\0\1", 8, 1, out);
  uint32_t v = 0;
  if (cu.version) cu.version(&v);
  char line[1200];
  snprintf(line, sizeof line, "cupti %s api %u", where, v);
  info(line);
  /* The timestamp callback must be in place before any activity kind is enabled. */
  if (!cu.register_ts || cu.register_ts(monotonic_ts) != CUPTI_SUCCESS) info("clock: CUPTI default (timestamp callback unavailable)");
  if (cu.thread_id_type) cu.thread_id_type(CUPTI_ACTIVITY_THREAD_ID_TYPE_SYSTEM);
  CUptiResult r = cu.register_callbacks(buffer_requested, buffer_completed);
  if (r != CUPTI_SUCCESS) {
    snprintf(status_text, sizeof status_text, "cupti-busy: cuptiActivityRegisterCallbacks: %s (another CUPTI client such as torch.profiler or nsys?)", err(r));
    info(status_text);
    return -1;
  }
  const CUpti_ActivityKind kinds[] = {CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, CUPTI_ACTIVITY_KIND_MEMCPY, CUPTI_ACTIVITY_KIND_MEMSET,
                                      CUPTI_ACTIVITY_KIND_SYNCHRONIZATION, CUPTI_ACTIVITY_KIND_RUNTIME, CUPTI_ACTIVITY_KIND_DRIVER,
                                      CUPTI_ACTIVITY_KIND_MEMORY2};
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
    r = cu.enable(kinds[i]);
    if (r != CUPTI_SUCCESS) {
      snprintf(line, sizeof line, "warning: cuptiActivityEnable(%d): %s", (int)kinds[i], err(r));
      info(line);
      if (kinds[i] == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) {
        snprintf(status_text, sizeof status_text, "cupti-error: cannot enable kernel records: %s", err(r));
        return -1;
      }
    }
  }
  select_apis();
  atexit(at_exit_flush);
  snprintf(status_text, sizeof status_text, "cupti: %s", where);
  return 0;
}

int is_cupti_flush(void) {
  if (!out || !cu.flush_all) return -1;
  cu.flush_all(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  pthread_mutex_lock(&lock);
  /* The parent treats a file without this marker as cut short (os._exit, a kill). */
  info("flushed");
  fflush(out);
  pthread_mutex_unlock(&lock);
  return 0;
}

const char *is_cupti_status(void) { return status_text; }

uint64_t is_cupti_dropped(void) { return total_dropped; }

/* Called by the CUDA driver at cuInit when CUDA_INJECTION64_PATH names this library. */
int InitializeInjection(void) {
  const char *path = getenv(OUT_ENV);
  if (!path || !*path) return 1;
  /* Subprocesses of the script inherit the environment: only the process InferScope started
   * (its direct child) records, or a CUDA-using subprocess would truncate the same file. */
  const char *ppid = getenv(PPID_ENV);
  if (ppid && *ppid && atol(ppid) != (long)getppid()) return 1;
  is_cupti_start(path);
  /* The parent reads why collection is (not) running from <out>.status. */
  char sp[4096];
  snprintf(sp, sizeof sp, "%s.status", path);
  FILE *f = fopen(sp, "w");
  if (f) {
    fputs(status_text, f);
    fclose(f);
  }
  return 1; /* the driver goes on whatever happened; the status file says what did */
}
