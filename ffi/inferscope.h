/* InferScope C shim: loaded by the Bun parent through bun:ffi and, for CUPTI, inside the profiled
 * Python process. It links nothing but libc/libdl: libcuda, NVML and libcupti are opened with
 * dlopen at run time, so the shim (and the binary) start on machines without a GPU. */
#ifndef INFERSCOPE_H
#define INFERSCOPE_H
#include <stdint.h>

#define IS_SHIM_VERSION 1

/* clock.c */
int is_shim_version(void);
/* CLOCK_MONOTONIC in ns: the clock of Python's time.perf_counter_ns() and of CUPTI (via its
 * timestamp callback). */
int64_t is_monotonic_ns(void);
/* setenv in the C environment (where libcuda reads CUDA_VISIBLE_DEVICES at cuInit). */
int is_setenv(const char *name, const char *value);

/* device.c: GPUs visible through libcuda (honours CUDA_VISIBLE_DEVICES). Never creates a context.
 * Returns the count (>= 0), or -1 with a reason written to `reason` (NUL-terminated). */
int is_gpu_count(char *reason, int reason_len);
/* One device as a JSON object into `out`; returns its length, or -1 (reason in `out`). */
int is_gpu_info(int index, char *out, int out_len);

/* cupti.c (built only where cupti.h was found). Started by the driver through
 * CUDA_INJECTION64_PATH (InitializeInjection) with the output path in $_INFERSCOPE_GPU_OUT. */
int is_cupti_start(const char *out_path);
/* Forced flush of CUPTI's buffers into the output file; called from Python's atexit after a
 * device synchronize, and from a C atexit as backstop. */
int is_cupti_flush(void);
const char *is_cupti_status(void);
uint64_t is_cupti_dropped(void);
int InitializeInjection(void);

#endif
