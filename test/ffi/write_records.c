/* Writes one record of each kind with the shim's own struct layouts and magic (ffi/gpu_records.h),
 * so the test checks that the TypeScript reader and the C writer agree byte for byte. Hand-made
 * values, not CUPTI data. With "magic" as its argument it prints IS_GPU_MAGIC in hex instead. */
#include <stdio.h>
#include <string.h>
#include "../../ffi/gpu_records.h"

static FILE *out;
static void rec(uint16_t type, const void *p, uint16_t size) {
  rec_head h = {type, size};
  fwrite(&h, sizeof h, 1, out);
  fwrite(p, size, 1, out);
}
static void str(uint32_t id, const char *s) {
  char buf[256];
  memcpy(buf, &id, 4);
  memcpy(buf + 4, s, strlen(s));
  rec(R_STRING, buf, (uint16_t)(4 + strlen(s)));
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "magic") == 0) {
    for (int i = 0; i < IS_GPU_MAGIC_LEN; i++) printf("%02x", (unsigned char)IS_GPU_MAGIC[i]);
    printf("\n");
    return 0;
  }
  out = fopen(argv[1], "wb");
  fwrite(IS_GPU_MAGIC, IS_GPU_MAGIC_LEN, 1, out);
  rec(R_INFO, "cupti test 130000", 17);
  rec(R_INFO, "start 700", 9);
  str(5, "void at::native::vectorized_elementwise_kernel<4>(int)");
  str(6, "cudaLaunchKernel_v7000");
  str(7, "__cudaLaunchKernel_ptsz_v13000");
  str(8, "NVIDIA H100 80GB HBM3");
  rec_kernel k = {1000, 3500, 0, 1, 7, 42, 5, 0, {128, 2, 1}, {256, 1, 1}, 32, 1024, 2048, 0};
  rec(R_KERNEL, &k, sizeof k);
  rec_memcpy m = {4000, 9000, 1 << 20, 0, 1, 7, 43, 0, 0, 1, 1, 3, 1};
  rec(R_MEMCPY, &m, sizeof m);
  rec_memset s = {9500, 9600, 4096, 0, 1, 7, 44, 0, 3, 0};
  rec(R_MEMSET, &s, sizeof s);
  rec_api a = {900, 990, 1, 211, 1234, 5678, 42, 0, 6};
  rec(R_API, &a, sizeof a);
  rec_api a2 = {9400, 9450, 1, 506, 1234, 5678, 44, 0, 7};
  rec(R_API, &a2, sizeof a2);
  rec_sync y = {9700, 9900, 3, 45, 1, 7, 0};
  rec(R_SYNC, &y, sizeof y);
  /* device memory (counted), pinned host memory (not GPU memory), managed memory (its own track) */
  rec_memory mem = {0x7f0000000000ULL, 2 << 20, 800, 1, 3, 41, 0, 1, 7};
  rec(R_MEMORY, &mem, sizeof mem);
  rec_memory pinned = {0x7f1000000000ULL, 8 << 20, 810, 1, 2, 41, 0, 1, 7};
  rec(R_MEMORY, &pinned, sizeof pinned);
  rec_memory managed = {0x7f2000000000ULL, 1 << 20, 820, 1, 5, 41, 0, 1, 7};
  rec(R_MEMORY, &managed, sizeof managed);
  rec_device d = {0, 8, 132, 9, 0, 85017493504ULL, {0x5e, 0x0c, 0x2d, 0x4a, 0x1b, 0x7f, 0x4c, 0x3e, 0x9a, 0x2d, 0x6f, 0x1e, 0x8b, 0x3c, 0x7d, 0x90}};
  rec(R_DEVICE, &d, sizeof d);
  uint64_t dropped = 3, incomplete = 2;
  rec(R_DROPPED, &dropped, sizeof dropped);
  rec(R_INCOMPLETE, &incomplete, sizeof incomplete);
  fwrite("\x01\x00", 2, 1, out); /* a torn record header: the process died mid-write */
  fclose(out);
  return argc > 1 ? 0 : 1;
}
