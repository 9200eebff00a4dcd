/* A set of byte strings numbered in the order they came, for the JSON reader (json_tape.c): the
 * strings of a trace (each distinct one decoded once in JavaScript) and the shapes of its objects
 * (their key ids as bytes). Open addressing, load under one half; an id is its insertion rank. */
#ifndef BYTE_TABLE_H
#define BYTE_TABLE_H
#include <stddef.h>
#include <stdint.h>

/* Bytes kept in one table at most, and the longest string worth keeping. */
#define MAX_ARENA (64u << 20)
#define MAX_INTERNED_LEN 8192

typedef struct {
  uint32_t off, len, hash;
} entry;

typedef struct {
  entry *entries; /* by id */
  uint32_t count, cap;
  int32_t *slots; /* open addressing: an id, or -1 */
  uint32_t nslots;
  uint8_t *arena;
  uint32_t arena_len, arena_cap;
  uint32_t max_count; /* set by the owner: more entries are not kept */
} table;

/* Internal to the shim: never exported, so no library loaded beside it can take these names. */
#define IS_HIDDEN __attribute__((visibility("hidden")))

/* The id of s[0,n), added when new; -1 when it is not kept (too long, the table full). */
IS_HIDDEN int64_t is_table_intern(table *t, const uint8_t *s, uint32_t n);
/* The id of s[0,n), or -1 when it is not in the table. */
IS_HIDDEN int64_t is_table_lookup(table *t, const uint8_t *s, uint32_t n);
/* Forget what was added since the table held `count` entries and `arena_len` bytes. */
IS_HIDDEN void is_table_truncate(table *t, uint32_t count, uint32_t arena_len);
IS_HIDDEN void is_table_free(table *t);
#endif
