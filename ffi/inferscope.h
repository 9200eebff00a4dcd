/* InferScope C shim: loaded by the Bun parent through bun:ffi and, for CUPTI, inside the profiled
 * Python process. It links nothing but libc/libdl: libcuda, NVML and libcupti are opened with
 * dlopen at run time, so the shim (and the binary) start on machines without a GPU. */
#ifndef INFERSCOPE_H
#define INFERSCOPE_H
#include <stddef.h>
#include <stdint.h>

#define IS_SHIM_VERSION 1

/* clock.c */
int is_shim_version(void);
/* CLOCK_MONOTONIC in ns: the clock of Python's time.perf_counter_ns() and of CUPTI (via its
 * timestamp callback). */
int64_t is_monotonic_ns(void);
/* setenv in the C environment (where libcuda reads CUDA_VISIBLE_DEVICES at cuInit). */
int is_setenv(const char *name, const char *value);
/* 1 when the shim was built with CUPTI (and so has InitializeInjection), else 0. */
int is_has_cupti(void);

/* device.c: GPUs visible through libcuda (honours CUDA_VISIBLE_DEVICES). Never creates a context.
 * Returns the count (>= 0), or -1 with a reason written to `reason` (NUL-terminated). */
int is_gpu_count(char *reason, int reason_len);
/* One device as a JSON object into `out`; returns its length, or -1 (reason in `out`). */
int is_gpu_info(int index, char *out, int out_len);

/* cupti.c (built only where cupti.h was found). Started by the driver through
 * CUDA_INJECTION64_PATH (InitializeInjection) with the output path in $_INFERSCOPE_GPU_OUT. */
int is_cupti_start(const char *out_path);
/* Forced flush of CUPTI's buffers into the output file, once, in the process that started
 * collection; called from Python's atexit after a device synchronize, and from a C atexit as
 * backstop. */
int is_cupti_flush(void);
const char *is_cupti_status(void);
/* Opens (1) or closes (0) a capture window: outside one the activity kinds are disabled. Callable
 * before collection starts (the state is then applied at start); returns the state. */
int is_cupti_capture(int on);
uint64_t is_cupti_dropped(void);
int InitializeInjection(void);

/* procfs */
/* procfs.c: the parent's samples (see its header). -1 (in a slot, or returned) = absent. */
/* out[4] = VmRSS kB, Threads, VmSwap kB, VmHWM kB; returns 0, -1 when /proc/<pid>/status is unreadable. */
int is_proc_status(int pid, int64_t *out);
/* utime + stime of the process, clock ticks (/proc/<pid>/stat). */
int64_t is_proc_cpu_ticks(int pid);
/* Per thread (/proc/<pid>/task/<tid>/stat): tids[i], utime + stime ticks[i], and stime alone in
 * sys_ticks[i] (the kernel's share: system calls, page faults) when sys_ticks is not NULL; returns the count. */
int is_proc_thread_cpu(int pid, int32_t *tids, int64_t *ticks, int64_t *sys_ticks, int cap);
/* out[4] = MemTotal, MemAvailable, SwapTotal, SwapFree kB (/proc/meminfo). */
int is_meminfo(int64_t *out);
/* NUMA node ids (/sys/devices/system/node/node*), sorted; 0 when none are exposed. */
int is_numa_nodes(int32_t *ids, int cap);
/* out[2] = MemTotal, MemFree kB of one node. */
int is_numa_node_meminfo(int node, int64_t *out);
/* The process's pages per node from /proc/<pid>/numa_maps, kB in kb[node] (node < cap); returns
 * the highest node seen + 1. Costs ~4 us per MiB of RSS: call it rarely. */
int is_proc_numa_maps(int pid, int64_t *kb, int cap);
/* sysfs's name of a PCI device (lower case, 4-digit domain; NVML's and the driver's 8-digit
 * domain accepted) into out; 0, or -1 when bdf is not a bus id. */
int is_pci_sysfs_name(const char *bdf, char *out, size_t cap);
/* /sys/bus/pci/devices/<bdf>/<attr> as a number; -1 when absent. Used for GPUs by device.c too. */
long is_pci_attr(const char *bdf, const char *attr);
/* /sys/bus/pci/devices/<bdf>/numa_node; -1 unknown (sysfs says -1 for no affinity). */
int is_pci_numa_node(const char *bdf);
int64_t is_clock_ticks_per_sec(void);
/* Children of all threads of pid (pids, count; -1 when unreadable); duplicates possible. */
int is_proc_children(int pid, int32_t *out, int cap);
/* Command line with spaces for NULs; length or -1. */
int is_proc_cmdline(int pid, char *out, int cap);

/* json_tape.c: `analyze`'s JSON reader (src/trace/json-tape.ts). A handle holds the strings
 * seen so far (interned across batches); is_tape_parse writes a batch of events as a tape of
 * doubles: the slots written, -1 (not JSON it takes: the caller uses JSON.parse), -2 (tape too
 * small). */
void *is_tape_new(void);
void is_tape_free(void *handle);
int64_t is_tape_parse(void *handle, const uint8_t *buf, int64_t len, double *tape, int64_t cap);
/* The same on the reader's thread: 0 started (is_tape_join waits for it and returns what
 * is_tape_parse would), -1 not started. buf and tape must stay untouched until then. A batch not
 * collected is forgotten by the next start or parse, or by is_tape_forget. */
int is_tape_start(void *handle, const uint8_t *buf, int64_t len, double *tape, int64_t cap);
int64_t is_tape_join(void *handle);
void is_tape_forget(void *handle);
/* The fields of complete events handed over one by one (NUL-separated lists); 0, or -1. */
int is_tape_fields(void *handle, const uint8_t *args, int64_t args_len, const uint8_t *cats, int64_t cats_len, const uint8_t *whole, int64_t whole_len);
/* The key ids of a shape (-1: no such shape, or more than cap keys). */
int is_tape_shape(void *handle, uint32_t shape, uint32_t *keys, int cap);
/* The bytes of string id into out when they fit; their length, or -1 when there is no such id. */
int64_t is_tape_string(void *handle, uint32_t id, uint8_t *out, int64_t cap);

/* pytrace */
/* pytrace.c: the Python tracer's hot path, loaded into the profiled interpreter with
 * ctypes.PyDLL (it finds the Python C API with dlsym; no Python headers, no libpython link).
 * Returns a list of Python callables (see pytrace.c), or NULL when this is not a CPython it can
 * serve; the tracer then stays in pure Python. */
struct _object;
struct _object *is_pytrace_init(struct _object *intern, struct _object *on_full, struct _object *on_thread, struct _object *disable, long long chunk_words, int py_minor);
/* After init: on_tick() from a record at most every interval_ns (the periodic flush). 0, or -1. */
int is_pytrace_set_tick(struct _object *on_tick, long long interval_ns);

/* itt.c: torch ops through the Intel ITT API (see its header). is_itt_start(path) starts writing
 * ops-<pid>.isc; is_itt_stop() writes what is buffered and an end record; is_itt_events() counts. */
int is_itt_start(const char *path);
int is_itt_stop(void);
int64_t is_itt_events(void);
/* is_itt_capture(on): a capture window opened (1) or closed (0): ops beginning outside are not kept. */
void is_itt_capture(int on);
/* Ops from the tracer's op-shapes mode: is_itt_intern(name) → its id; is_itt_replay(tid, words, n) writes a chunk. */
int64_t is_itt_intern(const char *name);
int is_itt_replay(int32_t tid, const int64_t *w, int64_t n);

#endif
