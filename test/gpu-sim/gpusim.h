/* SIMULATION of the CUDA driver boundary, for tests only (see README.md beside this file). It
 * proves InferScope's plumbing on recorded data; it says nothing about how NVIDIA's libraries
 * behave.
 *
 * Two libraries stand in for the NVIDIA ones, found where those are found (LD_LIBRARY_PATH, or
 * InferScope's cuptiPath): libcuda.so.1 (libcuda.c: cuInit loads CUDA_INJECTION64_PATH and calls
 * InitializeInjection; device queries; the GPU timeline) and libcupti.so.13 (libcupti.c: the
 * Activity API calls InferScope makes, records in the real CUPTI 13 structs, buffers delivered on a
 * worker thread). This header is what they share, and the entry points a replay script calls
 * through ctypes, each standing for a family of real entry points named by (domain, cbid):
 * domain 1 = CUPTI_CB_DOMAIN_DRIVER_API, 2 = CUPTI_CB_DOMAIN_RUNTIME_API. */
#ifndef GPUSIM_H
#define GPUSIM_H
#include <stdint.h>

enum { GPUSIM_KERNEL = 1, GPUSIM_MEMCPY = 2, GPUSIM_MEMSET = 3 };
/* gpusim_op.flags */
enum {
  GPUSIM_ASYNC = 1,           /* CUPTI_ACTIVITY_FLAG_MEMCPY_ASYNC on a copy */
  GPUSIM_DRIVER_CORR = 2,     /* a copy correlated with an (unrecorded) internal driver call; runtimeCorrelationId names the runtime call */
};

/* One piece of GPU work, with the interval it had in the recording (ns from the recording's
 * origin, see gpusimSetOrigin). The layout is mirrored by ctypes in replay.py. */
typedef struct {
  int64_t start, end;
  const char *name; /* kernels: the name CUPTI reports (mangled where the recording's was) */
  uint32_t kind, stream;
  int32_t grid[3], block[3];
  uint32_t registers, static_smem, dynamic_smem;
  uint32_t graph_id, graph_node;
  uint64_t bytes;
  uint32_t copy_kind, src_kind, dst_kind, mem_kind; /* CUpti_ActivityMemcpyKind / CUpti_ActivityMemoryKind */
  uint32_t flags;
} gpusim_op;

typedef struct {
  const char *name;
  uint8_t uuid[16];
  uint32_t ordinal, sm_count, cc_major, cc_minor;
  uint64_t memory;
} gpusim_device;

/* What the simulated driver tells the simulated CUPTI (the real pair talk through private
 * export tables). Times: `timestamp` is CUPTI's clock (the client's timestamp callback, else
 * CLOCK_REALTIME, as CUPTI's default); GPU work is placed on CLOCK_MONOTONIC and converted. */
typedef struct {
  uint64_t (*timestamp)(void);
  uint32_t (*correlation)(void);
  void (*api)(int domain, int cbid, uint64_t start, uint64_t end, uint32_t corr, int result);
  void (*gpu)(const gpusim_op *op, uint32_t corr, uint32_t runtime_corr, int64_t start_mono, int64_t end_mono);
  void (*sync)(int type, uint32_t stream, uint32_t corr, uint64_t start, uint64_t end);
  void (*memory)(int operation, int memory_kind, uint64_t address, uint64_t bytes, uint32_t corr, uint64_t ts);
  void (*device)(const gpusim_device *d);
} gpusim_tool;

void gpusimAttachTool(const gpusim_tool *tool);

/* ---- the replay's entry points (libcuda.so.1) ---------------------------------------------- */

/* Recording time 0 is this CLOCK_MONOTONIC instant (time.perf_counter_ns()). */
int gpusimSetOrigin(int64_t monotonic_ns);
/* A launch (kernels; a graph launch issues several), copy or memset call: the GPU work runs at
 * its recorded interval; the call returns no earlier than `api_end` (recording ns; < 0: at once).
 * `inner_cbid` > 0: the call runs a nested runtime call of that cbid which issues the work (as
 * __cudaLaunchKernel may run cudaLaunchKernel). Returns a CUresult. */
int gpusimLaunch(int domain, int cbid, int inner_cbid, int64_t api_end, const gpusim_op *ops, int n);
int gpusimMemcpy(int domain, int cbid, int64_t api_end, const gpusim_op *op);
int gpusimMemset(int domain, int cbid, int64_t api_end, const gpusim_op *op);
/* Blocks until the GPU work it waits for has ended (a device, a stream or an event sync;
 * CUpti_ActivitySynchronizationType `type`), at least until `api_end`. */
int gpusimSynchronize(int domain, int cbid, int type, uint32_t stream, int64_t api_end);
/* Any other call (no GPU work): cudaStreamIsCapturing, cudaDeviceGetAttribute, … */
int gpusimCall(int domain, int cbid, int64_t api_end);
/* Allocation calls: CUPTI memory records (memory_kind: CUpti_ActivityMemoryKind). */
int gpusimMalloc(int domain, int cbid, uint64_t bytes, int memory_kind, uint64_t *address);
int gpusimFree(int domain, int cbid, uint64_t address);

#endif
