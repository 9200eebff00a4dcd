/* The binary file cupti.c writes and src/collect/gpu-records.ts reads: an 8-byte magic
 * "ISGPU\0\0\1", then records, each a rec_head {type, payload size} and a packed little-endian
 * payload. Strings (kernel and API names) are written once as R_STRING {u32 id, bytes} and
 * referred to by id (0 = unknown). Change both sides together. */
#ifndef INFERSCOPE_GPU_RECORDS_H
#define INFERSCOPE_GPU_RECORDS_H
#include <stdint.h>

enum { R_KERNEL = 1, R_MEMCPY, R_MEMSET, R_API, R_SYNC, R_MEMORY, R_STRING, R_DROPPED, R_INFO };

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
#pragma pack(pop)

#endif
