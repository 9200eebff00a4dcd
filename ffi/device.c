/* Visible GPUs through the driver API, opened with dlopen: cuInit + cuDeviceGet* need no context.
 * PCIe link and NUMA node come from sysfs for the device's PCI bus id. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include "inferscope.h"

typedef int CUresult;
typedef int CUdevice;
/* CUdevice_attribute values (cuda.h) */
enum { CU_ATTR_SM_COUNT = 16, CU_ATTR_CC_MAJOR = 75, CU_ATTR_CC_MINOR = 76 };

static struct {
  int tried, ok;
  char why[256];
  CUresult (*init)(unsigned);
  CUresult (*count)(int *);
  CUresult (*get)(CUdevice *, int);
  CUresult (*name)(char *, int, CUdevice);
  CUresult (*mem)(size_t *, CUdevice);
  CUresult (*attr)(int *, int, CUdevice);
  CUresult (*bus)(char *, int, CUdevice);
  CUresult (*uuid)(unsigned char *, CUdevice);
} cu;

static void copy_reason(char *dst, int len, const char *src) {
  if (dst && len > 0) snprintf(dst, (size_t)len, "%s", src);
}

static int load_driver(void) {
  if (cu.tried) return cu.ok;
  cu.tried = 1;
  void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!h) h = dlopen("libcuda.so", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(cu.why, sizeof cu.why, "no NVIDIA driver: libcuda.so.1 not found");
    return 0;
  }
  cu.init = (CUresult(*)(unsigned))dlsym(h, "cuInit");
  cu.count = (CUresult(*)(int *))dlsym(h, "cuDeviceGetCount");
  cu.get = (CUresult(*)(CUdevice *, int))dlsym(h, "cuDeviceGet");
  cu.name = (CUresult(*)(char *, int, CUdevice))dlsym(h, "cuDeviceGetName");
  cu.mem = (CUresult(*)(size_t *, CUdevice))dlsym(h, "cuDeviceTotalMem_v2");
  cu.attr = (CUresult(*)(int *, int, CUdevice))dlsym(h, "cuDeviceGetAttribute");
  cu.bus = (CUresult(*)(char *, int, CUdevice))dlsym(h, "cuDeviceGetPCIBusId");
  cu.uuid = (CUresult(*)(unsigned char *, CUdevice))dlsym(h, "cuDeviceGetUuid_v2");
  if (!cu.uuid) cu.uuid = (CUresult(*)(unsigned char *, CUdevice))dlsym(h, "cuDeviceGetUuid");
  if (!cu.init || !cu.count || !cu.get) {
    snprintf(cu.why, sizeof cu.why, "libcuda.so.1 lacks cuInit/cuDeviceGetCount");
    return 0;
  }
  CUresult r = cu.init(0);
  if (r != 0) {
    /* 100 = CUDA_ERROR_NO_DEVICE */
    snprintf(cu.why, sizeof cu.why, r == 100 ? "no GPU visible to the driver (cuInit: CUDA_ERROR_NO_DEVICE)"
                                             : "cuInit failed with CUresult %d", r);
    return 0;
  }
  cu.ok = 1;
  return 1;
}

int is_gpu_count(char *reason, int reason_len) {
  if (!load_driver()) {
    copy_reason(reason, reason_len, cu.why);
    return -1;
  }
  int n = 0;
  if (cu.count(&n) != 0) {
    copy_reason(reason, reason_len, "cuDeviceGetCount failed");
    return -1;
  }
  return n;
}

int is_gpu_info(int index, char *out, int out_len) {
  if (!load_driver()) {
    copy_reason(out, out_len, cu.why);
    return -1;
  }
  CUdevice d;
  if (cu.get(&d, index) != 0) {
    copy_reason(out, out_len, "cuDeviceGet failed: no such device index");
    return -1;
  }
  char name[256] = "unknown", bus[64] = "";
  size_t mem = 0;
  int sms = -1, major = -1, minor = -1;
  if (cu.name) cu.name(name, sizeof name, d);
  if (cu.mem) cu.mem(&mem, d);
  if (cu.attr) {
    cu.attr(&sms, CU_ATTR_SM_COUNT, d);
    cu.attr(&major, CU_ATTR_CC_MAJOR, d);
    cu.attr(&minor, CU_ATTR_CC_MINOR, d);
  }
  if (cu.bus) cu.bus(bus, sizeof bus, d);
  /* nvidia-smi's form, GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx: CUPTI's device record carries the
   * same 16 bytes, so the report can say which physical GPU the script used. */
  unsigned char u[16];
  char uuid[48] = "";
  if (cu.uuid && cu.uuid(u, d) == 0)
    snprintf(uuid, sizeof uuid, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5], u[6],
             u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
  /* the bus id as sysfs names it (0000:17:00.0), and what sysfs says of it (procfs.c) */
  char sys[32] = "";
  if (is_pci_sysfs_name(bus, sys, sizeof sys) < 0) sys[0] = 0;
  long numa = is_pci_numa_node(sys);
  long width = is_pci_attr(sys, "current_link_width");
  for (char *p = name; *p; p++)
    if (*p == '"' || *p == '\\') *p = '\'';
  return snprintf(out, (size_t)out_len,
                  "{\"index\":%d,\"name\":\"%s\",\"memoryBytes\":%zu,\"smCount\":%d,\"computeMajor\":%d,\"computeMinor\":%d,"
                  "\"pciBusId\":\"%s\",\"uuid\":\"%s\",\"numaNode\":%ld,\"pcieLinkWidth\":%ld}",
                  index, name, mem, sms, major, minor, sys, uuid, numa, width);
}
