/* The binary file cupti.c writes and src/collect/gpu-records.ts reads: the 8-byte magic
 * IS_GPU_MAGIC (defined here, once, for C; GPU_MAGIC in gpu-records.ts for TypeScript, checked
 * against this one by test/ffi/gpu-records.test.ts), then records, each a rec_head {type, payload
 * size} and a packed little-endian payload. Strings (kernel and API names) are written once as
 * R_STRING {u32 id, bytes} and referred to by id (0 = unknown). A reader skips record types it
 * does not know by their size. Change both sides together. */
#ifndef INFERSCOPE_GPU_RECORDS_H
#define INFERSCOPE_GPU_RECORDS_H
#include <stdint.h>

#define IS_GPU_MAGIC "ISGPU\0\0\1"
#define IS_GPU_MAGIC_LEN 8

enum { R_KERNEL = 1, R_MEMCPY, R_MEMSET, R_API, R_SYNC, R_MEMORY, R_STRING, R_DROPPED, R_INFO, R_DEVICE, R_INCOMPLETE };

#pragma pack(push, 1)
typedef struct { uint16_t type, size; } rec_head;
typedef struct {
  uint64_t start, end;
  uint32_t device, context, stream, corr, name, graph;
  int32_t grid[3], block[3];
  uint32_t regs, static_smem, dynamic_smem;
  uint64_t graph_node;
} rec_kernel;
typedef struct {
  uint64_t start, end, bytes;
  uint32_t device, context, stream, corr, runtime_corr, graph;
  uint8_t copy_kind, src_kind, dst_kind, flags;
} rec_memcpy;
typedef struct {
  uint64_t start, end, bytes;
  uint32_t device, context, stream, corr, graph;
  uint16_t mem_kind, flags;
} rec_memset;
typedef struct {
  uint64_t start, end;
  uint32_t domain, cbid, pid, tid, corr, ret, name;
} rec_api;
typedef struct {
  uint64_t start, end;
  uint32_t type, corr, context, stream, event;
} rec_sync;
typedef struct {
  uint64_t address, bytes, ts;
  uint32_t op, mem_kind, corr, device, context, stream;
} rec_memory;
/* CUPTI_ACTIVITY_KIND_DEVICE: which physical GPU the process used. CUDA's device order is not
 * nvidia-smi's; the UUID says which GPU it was. */
typedef struct {
  uint32_t id, name, sm_count, cc_major, cc_minor;
  uint64_t global_memory;
  uint8_t uuid[16];
} rec_device;
/* R_DROPPED and R_INCOMPLETE carry one uint64_t count. */
#pragma pack(pop)

#endif
