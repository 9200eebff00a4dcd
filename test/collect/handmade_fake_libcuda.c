/* A hand-made stand-in for libcuda.so.1 (NOT the NVIDIA driver): it lists FAKE_GPUS devices, fewer
 * when CUDA_VISIBLE_DEVICES says so, so the parent's device rules can be tested without a GPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int visible(void) {
  int n = getenv("FAKE_GPUS") ? atoi(getenv("FAKE_GPUS")) : 0;
  const char *v = getenv("CUDA_VISIBLE_DEVICES");
  if (!v) return n;
  if (!*v) return 0;
  int c = 1;
  for (; *v; v++) c += *v == ',';
  return c < n ? c : n;
}
int cuInit(unsigned f) { (void)f; return visible() ? 0 : 100; }
int cuDeviceGetCount(int *n) { *n = visible(); return 0; }
int cuDeviceGet(int *d, int i) { *d = i; return i < visible() ? 0 : 101; }
int cuDeviceGetName(char *s, int len, int d) { snprintf(s, (size_t)len, "Fake GPU %d", d); return 0; }
int cuDeviceTotalMem_v2(size_t *b, int d) { (void)d; *b = (size_t)80 << 30; return 0; }
int cuDeviceGetAttribute(int *v, int a, int d) { (void)d; *v = a == 16 ? 132 : 0; return 0; }
int cuDeviceGetPCIBusId(char *s, int len, int d) { snprintf(s, (size_t)len, "0000:%02X:00.0", 0x17 + d); return 0; }
