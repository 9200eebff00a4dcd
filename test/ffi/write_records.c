/* Writes one record of each kind with the shim's own struct layouts (ffi/gpu_records.h), so the
 * test checks that the TypeScript reader and the C writer agree byte for byte. Not CUPTI data. */
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
  out = fopen(argv[1], "wb");
  fwrite("ISGPU\0\0\1", 8, 1, out);
  rec(R_INFO, "cupti test 130000", 17);
  str(5, "void at::native::vectorized_elementwise_kernel<4>(int)");
  str(6, "cudaLaunchKernel_v7000");
  rec_kernel k = {1000, 3500, 0, 1, 7, 42, 5, 0, {128, 2, 1}, {256, 1, 1}, 32, 1024, 2048, 0};
  rec(R_KERNEL, &k, sizeof k);
  rec_memcpy m = {4000, 9000, 1 << 20, 0, 1, 7, 43, 0, 0, 1, 1, 3, 1};
  rec(R_MEMCPY, &m, sizeof m);
  rec_memset s = {9500, 9600, 4096, 0, 1, 7, 44, 0, 3, 0};
  rec(R_MEMSET, &s, sizeof s);
  rec_api a = {900, 990, 1, 211, 1234, 5678, 42, 0, 6};
  rec(R_API, &a, sizeof a);
  rec_sync y = {9700, 9900, 3, 45, 1, 7, 0};
  rec(R_SYNC, &y, sizeof y);
  rec_memory mem = {0x7f0000000000ULL, 2 << 20, 800, 1, 3, 41, 0, 1, 7};
  rec(R_MEMORY, &mem, sizeof mem);
  uint64_t dropped = 3;
  rec(R_DROPPED, &dropped, sizeof dropped);
  fwrite("\x01\x00", 2, 1, out); /* a torn record header: the process died mid-write */
  fclose(out);
  return argc > 1 ? 0 : 1;
}
