#include <time.h>
#include "inferscope.h"

int is_shim_version(void) { return IS_SHIM_VERSION; }

int64_t is_monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
