#include <stdlib.h>
#include <time.h>
#include "inferscope.h"

int is_shim_version(void) { return IS_SHIM_VERSION; }

int64_t is_monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Bun's process.env does not reach the C environment; libcuda reads CUDA_VISIBLE_DEVICES there. */
int is_setenv(const char *name, const char *value) { return setenv(name, value, 1); }

/* Whether this shim was built with CUPTI (build.ts found cupti.h): without it there is no
 * InitializeInjection, so the parent must not point CUDA_INJECTION64_PATH at it. */
int is_has_cupti(void) {
#ifdef IS_HAVE_CUPTI
  return 1;
#else
  return 0;
#endif
}
