/* byte_table.h: a set of byte strings numbered in the order they came. */
#include "byte_table.h"
#include <stdlib.h>
#include <string.h>

void is_table_free(table *t) {
  free(t->entries);
  free(t->slots);
  free(t->arena);
}

/* Eight bytes at a time: the names are long (kernel names run to hundreds of bytes). */
static uint32_t hash_bytes(const uint8_t *s, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ n, w;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    memcpy(&w, s + i, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  if (i < n) {
    if (n >= 8) {
      memcpy(&w, s + n - 8, 8); /* the last eight bytes, overlapping */
    } else {
      w = 0;
      for (size_t k = 0; k < n; k++) w |= (uint64_t)s[k] << (8 * k);
    }
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  h *= 0x94D049BB133111EBull;
  return (uint32_t)(h ^ (h >> 32));
}

static void reindex(table *t, uint32_t nslots) {
  int32_t *slots = malloc(sizeof(int32_t) * nslots);
  if (!slots) return; /* keep the old index */
  memset(slots, 0xff, sizeof(int32_t) * nslots);
  for (uint32_t id = 0; id < t->count; id++) {
    uint32_t k = t->entries[id].hash & (nslots - 1);
    while (slots[k] >= 0) k = (k + 1) & (nslots - 1);
    slots[k] = (int32_t)id;
  }
  free(t->slots);
  t->slots = slots;
  t->nslots = nslots;
}

int64_t is_table_intern(table *t, const uint8_t *s, uint32_t n) {
  if (n > MAX_INTERNED_LEN) return -1;
  if (t->nslots == 0) reindex(t, 1024);
  if (t->nslots == 0) return -1;
  uint32_t h = hash_bytes(s, n);
  uint32_t k = h & (t->nslots - 1);
  for (;;) {
    int32_t id = t->slots[k];
    if (id < 0) break;
    entry *e = &t->entries[id];
    if (e->hash == h && e->len == n && memcmp(t->arena + e->off, s, n) == 0) return id;
    k = (k + 1) & (t->nslots - 1);
  }
  /* (count + 2 > nslots: an index that could not grow must keep a free slot for the probe) */
  if (t->count >= t->max_count || t->count + 2 > t->nslots || (size_t)t->arena_len + n > MAX_ARENA) return -1;
  if (t->count == t->cap) {
    uint32_t cap = t->cap ? t->cap * 2 : 1024;
    entry *e = realloc(t->entries, sizeof(entry) * cap);
    if (!e) return -1;
    t->entries = e;
    t->cap = cap;
  }
  if (t->arena_len + n > t->arena_cap) {
    uint32_t cap = t->arena_cap ? t->arena_cap : 65536;
    while (cap < t->arena_len + n) cap *= 2;
    uint8_t *a = realloc(t->arena, cap);
    if (!a) return -1;
    t->arena = a;
    t->arena_cap = cap;
  }
  if (n) memcpy(t->arena + t->arena_len, s, n);
  uint32_t id = t->count++;
  t->entries[id] = (entry){t->arena_len, n, h};
  t->arena_len += n;
  t->slots[k] = (int32_t)id;
  if (t->count * 2 > t->nslots) reindex(t, t->nslots * 2); /* load under one half */
  return id;
}

void is_table_truncate(table *t, uint32_t count, uint32_t arena_len) {
  if (t->count == count) return;
  t->count = count;
  t->arena_len = arena_len;
  if (t->nslots) reindex(t, t->nslots);
}

int64_t is_table_lookup(table *t, const uint8_t *s, uint32_t n) {
  if (t->nslots == 0) return -1;
  uint32_t h = hash_bytes(s, n);
  for (uint32_t k = h & (t->nslots - 1);; k = (k + 1) & (t->nslots - 1)) {
    int32_t id = t->slots[k];
    if (id < 0) return -1;
    entry *e = &t->entries[id];
    if (e->hash == h && e->len == n && memcmp(t->arena + e->off, s, n) == 0) return id;
  }
}

