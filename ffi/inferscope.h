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

/* device.c: GPUs visible through libcuda (honours CUDA_VISIBLE_DEVICES). Never creates a context.
 * Returns the count (>= 0), or -1 with a reason written to `reason` (NUL-terminated). */
int is_gpu_count(char *reason, int reason_len);
/* One device as a JSON object into `out`; returns its length, or -1 (reason in `out`). */
int is_gpu_info(int index, char *out, int out_len);

#endif
