/* procfs.c: the parent's periodic samples of the profiled process and of the machine, read
 * from /proc and /sys without allocating on the JS side. A file that does not exist or cannot
 * be read (containers, one-node machines, a process that is gone) gives -1: the metric is then
 * absent, never 0. Sizes are in kB as the kernel reports them. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inferscope.h"

/* Reads a whole (small) file into buf, NUL-terminated; returns its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t n = 0;
  while (n + 1 < cap) {
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r < 0) {
      close(fd);
      return -1;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = 0;
  return (ssize_t)n;
}

/* "Key:   1234 kB" → 1234, or -1 when the key is absent. The key must start a line. */
static int64_t field_kb(const char *text, const char *key) {
  size_t klen = strlen(key);
  for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
      const char *v = p + klen + 1;
      while (*v == ' ' || *v == '\t') v++;
      if (!isdigit((unsigned char)*v)) return -1;
      return strtoll(v, NULL, 10);
    }
  }
  return -1;
}

int is_proc_status(int pid, int64_t *out) {
  char path[64], buf[8192];
  out[0] = out[1] = out[2] = out[3] = -1;
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  if (read_small(path, buf, sizeof buf) < 0) return -1;
  out[0] = field_kb(buf, "VmRSS");
  out[1] = field_kb(buf, "Threads");
  out[2] = field_kb(buf, "VmSwap");
  out[3] = field_kb(buf, "VmHWM");
  return 0;
}

/* utime + stime (clock ticks) from a /proc/.../stat line; -1 when it does not parse. The
 * command name (field 2) may hold spaces and parentheses, so fields are counted after the last
 * ')'. */
static int64_t stat_ticks_split(const char *line, int64_t *sys) {
  const char *p = strrchr(line, ')');
  if (!p) return -1;
  p++;
  /* Fields after ')': state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
   * cmajflt utime(14) stime(15). */
  int field = 2;
  int64_t utime = -1;
  while (*p) {
    while (*p == ' ') p++;
    if (!*p) break;
    field++;
    if (field == 14) utime = strtoll(p, NULL, 10);
    if (field == 15) {
      if (utime < 0) return -1;
      int64_t stime = strtoll(p, NULL, 10);
      if (sys) *sys = stime;
      return utime + stime;
    }
    while (*p && *p != ' ') p++;
  }
  return -1;
}

static int64_t stat_ticks(const char *line) { return stat_ticks_split(line, NULL); }

int64_t is_proc_cpu_ticks(int pid) {
  char path[64], buf[2048];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  if (read_small(path, buf, sizeof buf) < 0) return -1;
  return stat_ticks(buf);
}

int is_proc_thread_cpu(int pid, int32_t *tids, int64_t *ticks, int64_t *sys_ticks, int cap) {
  char path[96], buf[2048];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR *d = opendir(path);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while (n < cap && (e = readdir(d)) != NULL) {
    if (!isdigit((unsigned char)e->d_name[0])) continue;
    int tid = atoi(e->d_name);
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", pid, tid);
    if (read_small(path, buf, sizeof buf) < 0) continue; /* the thread just exited */
    int64_t sys = 0;
    int64_t t = stat_ticks_split(buf, &sys);
    if (t < 0) continue;
    tids[n] = tid;
    ticks[n] = t;
    if (sys_ticks) sys_ticks[n] = sys;
    n++;
  }
  closedir(d);
  return n;
}

int is_meminfo(int64_t *out) {
  char buf[8192];
  out[0] = out[1] = out[2] = out[3] = -1;
  if (read_small("/proc/meminfo", buf, sizeof buf) < 0) return -1;
  out[0] = field_kb(buf, "MemTotal");
  out[1] = field_kb(buf, "MemAvailable");
  out[2] = field_kb(buf, "SwapTotal");
  out[3] = field_kb(buf, "SwapFree");
  return 0;
}

static int cmp_int32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

int is_numa_nodes(int32_t *ids, int cap) {
  DIR *d = opendir("/sys/devices/system/node");
  if (!d) return 0;
  int n = 0;
  struct dirent *e;
  while (n < cap && (e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, "node", 4) != 0 || !isdigit((unsigned char)e->d_name[4])) continue;
    ids[n++] = atoi(e->d_name + 4);
  }
  closedir(d);
  qsort(ids, (size_t)n, sizeof *ids, cmp_int32);
  return n;
}

int is_numa_node_meminfo(int node, int64_t *out) {
  char path[96], buf[8192], key[32];
  out[0] = out[1] = -1;
  snprintf(path, sizeof path, "/sys/devices/system/node/node%d/meminfo", node);
  if (read_small(path, buf, sizeof buf) < 0) return -1;
  /* Lines look like "Node 0 MemTotal:  131072 kB". */
  snprintf(key, sizeof key, "Node %d MemTotal", node);
  out[0] = field_kb(buf, key);
  snprintf(key, sizeof key, "Node %d MemFree", node);
  out[1] = field_kb(buf, key);
  return 0;
}

int is_proc_numa_maps(int pid, int64_t *kb, int cap) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/numa_maps", pid);
  FILE *f = fopen(path, "re");
  if (!f) return -1;
  for (int i = 0; i < cap; i++) kb[i] = 0;
  char *line = NULL;
  size_t len = 0;
  int maxnode = -1;
  while (getline(&line, &len, f) > 0) {
    int64_t page_kb = 4;
    const char *ps = strstr(line, " kernelpagesize_kB=");
    if (ps) page_kb = strtoll(ps + 19, NULL, 10);
    /* Tokens " N<node>=<pages>". */
    for (const char *p = strstr(line, " N"); p; p = strstr(p + 1, " N")) {
      if (!isdigit((unsigned char)p[2])) continue;
      char *endp;
      long node = strtol(p + 2, &endp, 10);
      if (*endp != '=') continue;
      long long pages = strtoll(endp + 1, NULL, 10);
      if (node > maxnode) maxnode = (int)node;
      if (node >= 0 && node < cap) kb[node] += pages * page_kb;
    }
  }
  free(line);
  int err = ferror(f);
  fclose(f);
  if (err) return -1;
  return maxnode + 1;
}

int is_pci_sysfs_name(const char *bdf, char *out, size_t cap) {
  /* NVML and the CUDA driver may write the domain with 8 hex digits (00000000:65:00.0); sysfs
   * uses 4, lower case. */
  const char *colon = strchr(bdf, ':');
  if (!colon || cap == 0) return -1;
  size_t dom = (size_t)(colon - bdf);
  const char *start = dom > 4 ? bdf + (dom - 4) : bdf;
  size_t n = 0;
  for (const char *p = start; *p && n + 1 < cap; p++) out[n++] = (char)tolower((unsigned char)*p);
  out[n] = 0;
  return 0;
}

long is_pci_attr(const char *bdf, const char *attr) {
  char name[32], path[160], buf[32];
  if (is_pci_sysfs_name(bdf, name, sizeof name) < 0) return -1;
  snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/%s", name, attr);
  if (read_small(path, buf, sizeof buf) <= 0) return -1;
  char *end;
  long v = strtol(buf, &end, 10);
  return end == buf ? -1 : v;
}

int is_pci_numa_node(const char *bdf) {
  long node = is_pci_attr(bdf, "numa_node");
  return node >= 0 ? (int)node : -1;
}

int64_t is_clock_ticks_per_sec(void) { return sysconf(_SC_CLK_TCK); }

/* Children of every thread of `pid` (/proc/<pid>/task/<tid>/children, Linux 3.5+ with
 * CONFIG_PROC_CHILDREN): their pids into out[], the count returned (-1 when the process is gone
 * or the files do not exist). A pid may appear once per thread that forked it: callers dedupe. */
int is_proc_children(int pid, int32_t *out, int cap) {
  char path[320], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR *d = opendir(path);
  if (!d) return -1;
  int n = 0, seen_file = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < cap) {
    if (!isdigit((unsigned char)e->d_name[0])) continue;
    snprintf(path, sizeof path, "/proc/%d/task/%s/children", pid, e->d_name);
    if (read_small(path, buf, sizeof buf) < 0) continue;
    seen_file = 1;
    for (char *p = buf; *p && n < cap;) {
      while (*p == ' ' || *p == '\n') p++;
      if (!isdigit((unsigned char)*p)) break;
      out[n++] = (int32_t)strtol(p, &p, 10);
    }
  }
  closedir(d);
  return seen_file ? n : -1;
}

/* /proc/<pid>/cmdline with NULs turned into spaces, into out (NUL-terminated); its length or -1. */
int is_proc_cmdline(int pid, char *out, int cap) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
  ssize_t n = read_small(path, out, (size_t)cap);
  if (n < 0) return -1;
  while (n > 0 && out[n - 1] == 0) n--;
  for (ssize_t i = 0; i < n; i++)
    if (out[i] == 0) out[i] = ' ';
  out[n] = 0;
  return (int)n;
}
