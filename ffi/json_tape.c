/* A JSON reader for `inferscope analyze` (src/trace/json-tape.ts): it turns a batch of trace
 * events (`{…},{…},…`, the bytes src/trace/json-framer.ts cuts) into a tape of doubles that
 * JavaScript turns into the same values JSON.parse would give, without first decoding the bytes
 * into one big string, with every repeated string (kernel and op names, keys) decoded once, and
 * with the objects of one key sequence (a "shape": every kernel event's args, …) built by one
 * compiled function instead of a property at a time.
 *
 * It accepts strictly less than JSON.parse: whatever it refuses (bad JSON, deep nesting, huge
 * objects) is handed to JSON.parse by the caller, which then gives the same values or the same
 * error as before. Strings with escapes and numbers outside the exact fast path are handed back as
 * byte ranges for JavaScript to decode, so the values are JSON.parse's by construction.
 *
 * Tape: one slot (a double) per tag, tag in the low 4 bits, a count or an id above them.
 *   NUM v | STR(id) | STR_NEW(id) off len (JavaScript learns string id) | STR_RAW off len |
 *   STR_ESC off len (the quotes included) | TRUE | FALSE | NULL | OBJ(n) then n × (key, value) |
 *   ARR(n) then n values | NUM_RAW off len | FLOW (a flow event, "ph" s / f / t, whose other
 *   fields nothing reads) | SHAPED(shape) then its values (keys: is_tape_shape) |
 *   EVENT(n) then n × (field, value): a complete event of a category the converter reads field
 *   by field (is_tape_fields), with only the fields it reads.
 * Offsets are from the start of the batch. A batch either goes onto the tape whole or not at
 * all: a refused one leaves the string and shape tables as they were.
 *
 * is_tape_start parses a batch on a thread of the reader's own while JavaScript walks the tape of
 * the one before (is_tape_join collects it): the parse leaves the main thread, which is what a
 * machine with cores to spare waits for. Only that thread touches the tables while it parses;
 * every other entry point waits for it first. A parsed batch JavaScript never collects (its
 * guessed cut was not the one the framer took) is forgotten like a refused one. */
#include "byte_table.h"
#include "inferscope.h"
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum { T_NUM, T_STR, T_STR_NEW, T_STR_RAW, T_STR_ESC, T_TRUE, T_FALSE, T_NULL, T_OBJ, T_ARR, T_NUM_RAW, T_FLOW, T_SHAPED, T_EVENT };

#define MAX_DEPTH 64
#define MAX_COUNT ((1 << 26) - 1)
/* Strings kept for interning (byte_table.h bounds their bytes and length). */
#define MAX_STRINGS (1u << 20)
/* Shapes: each is one compiled function in JavaScript, so few; the keys of one. */
#define MAX_SHAPES 4096u
#define MAX_SHAPE_KEYS 64

/* The fields of a complete event that the converter reads (src/trace/json-tape.ts gives them):
 * ph cat name ts dur pid tid, then argument keys. */
#define MAX_FIELDS 64
enum { F_PH, F_CAT, F_NAME, F_TS, F_DUR, F_PID, F_TID, F_ARGS0 };
static const char *const TOP_FIELDS[F_ARGS0] = {"ph", "cat", "name", "ts", "dur", "pid", "tid"};
static const uint8_t TOP_LENGTHS[F_ARGS0] = {2, 3, 4, 2, 3, 3, 3};

/* The top-level field a key names, or -1. */
static inline int top_field(const uint8_t *k, uint32_t n) {
  if (n < 2 || n > 4) return -1;
  for (int f = 0; f < F_ARGS0; f++)
    if (TOP_LENGTHS[f] == n && TOP_FIELDS[f][0] == k[0] && memcmp(TOP_FIELDS[f], k, n) == 0) return f;
  return -1;
}

typedef struct {
  table strings, shapes;
  /* is_tape_fields: argument keys (id = field - F_ARGS0) and categories read field by field;
   * whole[id]: an argument whose event goes as a whole object (the converter keeps its args) */
  table arg_keys, cats;
  uint8_t whole[MAX_FIELDS];
  /* by string id: JavaScript has it (it came as STR_NEW); the ids marked in this batch */
  uint8_t *known;
  uint32_t known_cap;
  uint32_t *marked;
  uint32_t marked_n, marked_cap;
  /* the tables' sizes before the last parse, to forget it */
  uint32_t strings0, arena0, shapes0, shape_arena0;
  /* is_tape_start's thread: state 0 idle, 1 parsing, 2 parsed (result not collected) */
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int has_thread, state, quit;
  const uint8_t *job_buf;
  int64_t job_len, job_cap, job_result;
  double *job_tape;
} reader;

typedef struct {
  const uint8_t *b;
  size_t pos, len;
  double *tape;
  size_t n, cap;
  reader *r;
  int overflow;
} parser;

void *is_tape_new(void) {
  reader *r = calloc(1, sizeof(reader));
  if (!r) return NULL;
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  r->strings.max_count = MAX_STRINGS;
  r->shapes.max_count = MAX_SHAPES;
  r->arg_keys.max_count = MAX_FIELDS - F_ARGS0 - 1; /* bit 63 of `seen` is "args" */
  r->cats.max_count = 256;
  return r;
}

void is_tape_free(void *handle) {
  reader *r = handle;
  if (!r) return;
  if (r->has_thread) {
    pthread_mutex_lock(&r->mu);
    r->quit = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
  }
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->cv);
  is_table_free(&r->strings);
  is_table_free(&r->shapes);
  is_table_free(&r->arg_keys);
  is_table_free(&r->cats);
  free(r->known);
  free(r->marked);
  free(r);
}

/* Mark string id as sent to JavaScript; 0, or -1 when out of memory. */
static int mark(reader *r, uint32_t id) {
  if (id >= r->known_cap) {
    uint32_t cap = r->known_cap ? r->known_cap : 1024;
    while (cap <= id) cap *= 2;
    uint8_t *k = realloc(r->known, cap);
    if (!k) return -1;
    memset(k + r->known_cap, 0, cap - r->known_cap);
    r->known = k;
    r->known_cap = cap;
  }
  if (r->marked_n == r->marked_cap) {
    uint32_t cap = r->marked_cap ? r->marked_cap * 2 : 1024;
    uint32_t *m = realloc(r->marked, sizeof(uint32_t) * cap);
    if (!m) return -1;
    r->marked = m;
    r->marked_cap = cap;
  }
  r->known[id] = 1;
  r->marked[r->marked_n++] = id;
  return 0;
}

/* Unmark the ids marked since `n` were: their STR_NEW is no longer on the tape. */
static void unmark(reader *r, uint32_t n) {
  while (r->marked_n > n) r->known[r->marked[--r->marked_n]] = 0;
}

static inline int put(parser *p, double v) {
  if (p->n >= p->cap) {
    p->overflow = 1;
    return -1;
  }
  p->tape[p->n++] = v;
  return 0;
}

static inline int put_tag(parser *p, int tag, uint32_t x) { return put(p, (double)(tag | ((uint64_t)x << 4))); }

static inline void skip_ws(parser *p) {
  while (p->pos < p->len) {
    uint8_t c = p->b[p->pos];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
    p->pos++;
  }
}

static int hexdig(uint8_t c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

static inline uint64_t has_byte_below(uint64_t w, uint8_t c) { return (w - 0x0101010101010101ull * c) & ~w & 0x8080808080808080ull; }
static inline uint64_t has_byte(uint64_t w, uint8_t c) { return has_byte_below(w ^ (0x0101010101010101ull * c), 1); }

/* A string at p->pos (its opening quote). emit: write it to the tape. key_id: a key of a shaped
 * object: not written, its id (-1 when it has escapes or is not kept) in *key_id. */
static int string_esc(parser *p, int emit, int64_t *key_id, int *had_esc) {
  size_t start = ++p->pos;
  int esc = 0;
  for (;;) {
    /* plain bytes in blocks: no quote, backslash or control character among them */
#ifdef __SSE2__
    while (p->pos + 16 <= p->len) {
      __m128i v = _mm_loadu_si128((const __m128i *)(p->b + p->pos));
      __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                                     _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f)));
      int mask = _mm_movemask_epi8(special);
      if (mask) {
        p->pos += (size_t)__builtin_ctz((unsigned)mask);
        break;
      }
      p->pos += 16;
    }
#endif
    while (p->pos + 8 <= p->len) {
      uint64_t w;
      memcpy(&w, p->b + p->pos, 8);
      if (has_byte(w, '"') | has_byte(w, '\\') | has_byte_below(w, 0x20)) break;
      p->pos += 8;
    }
    if (p->pos >= p->len) return -1;
    uint8_t c = p->b[p->pos];
    if (c == '"') break;
    if (c < 0x20) return -1;
    if (c == '\\') {
      esc = 1;
      if (p->pos + 1 >= p->len) return -1;
      uint8_t d = p->b[p->pos + 1];
      if (d == 'u') {
        if (p->pos + 5 >= p->len) return -1;
        for (int i = 2; i < 6; i++)
          if (!hexdig(p->b[p->pos + i])) return -1;
        p->pos += 6;
        continue;
      }
      if (!strchr("\"\\/bfnrt", d) || d == 0) return -1;
      p->pos += 2;
      continue;
    }
    p->pos++;
  }
  size_t end = p->pos++; /* at the closing quote */
  uint32_t n = (uint32_t)(end - start);
  if (had_esc) *had_esc = esc;
  if (key_id) {
    *key_id = esc ? -1 : is_table_intern(&p->r->strings, p->b + start, n);
    return 0;
  }
  if (!emit) return 0;
  if (esc) return put_tag(p, T_STR_ESC, 0) || put(p, (double)(start - 1)) || put(p, (double)(n + 2)) ? -1 : 0;
  int64_t id = is_table_intern(&p->r->strings, p->b + start, n);
  if (id < 0) return put_tag(p, T_STR_RAW, 0) || put(p, (double)start) || put(p, (double)n) ? -1 : 0;
  if (p->r->known_cap > id && p->r->known[id]) return put_tag(p, T_STR, (uint32_t)id);
  if (mark(p->r, (uint32_t)id)) return -1;
  return put_tag(p, T_STR_NEW, (uint32_t)id) || put(p, (double)start) || put(p, (double)n) ? -1 : 0;
}

static int string(parser *p, int emit, int64_t *key_id) { return string_esc(p, emit, key_id, NULL); }

static const double POW10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
                                1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* A number (JSON's grammar exactly). Exact when its digits fit 2^53 and the power of ten is at
 * most 22 (one correctly rounded division or multiplication); else handed back as bytes. */
static int number(parser *p, int emit) {
  size_t start = p->pos;
  const uint8_t *b = p->b;
  size_t i = p->pos, len = p->len;
  int neg = 0;
  if (i < len && b[i] == '-') {
    neg = 1;
    i++;
  }
  if (i >= len) return -1;
  uint64_t m = 0;
  int digits = 0, exp10 = 0;
  if (b[i] == '0') {
    i++;
  } else if (b[i] >= '1' && b[i] <= '9') {
    while (i < len && b[i] >= '0' && b[i] <= '9') {
      if (digits < 19) m = m * 10 + (b[i] - '0');
      else exp10++;
      digits++;
      i++;
    }
  } else {
    return -1;
  }
  if (i < len && b[i] == '.') {
    i++;
    if (i >= len || b[i] < '0' || b[i] > '9') return -1;
    while (i < len && b[i] >= '0' && b[i] <= '9') {
      if (m == 0 && b[i] == '0') {
        exp10--; /* leading zeros of a fraction: not significant */
      } else if (digits < 19) {
        m = m * 10 + (b[i] - '0');
        exp10--;
        digits++;
      } else {
        digits++;
      }
      i++;
    }
  }
  int big_exp = 0;
  if (i < len && (b[i] == 'e' || b[i] == 'E')) {
    i++;
    int eneg = 0;
    if (i < len && (b[i] == '+' || b[i] == '-')) eneg = b[i++] == '-';
    if (i >= len || b[i] < '0' || b[i] > '9') return -1;
    int e = 0;
    while (i < len && b[i] >= '0' && b[i] <= '9') {
      if (e < 100000) e = e * 10 + (b[i] - '0');
      else big_exp = 1;
      i++;
    }
    exp10 += eneg ? -e : e;
  }
  p->pos = i;
  if (!emit) return 0;
  if (!big_exp && digits <= 19 && m <= (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
    double v = (double)m;
    v = exp10 < 0 ? v / POW10[-exp10] : v * POW10[exp10];
    if (put_tag(p, T_NUM, 0) || put(p, neg ? -v : v)) return -1;
    return 0;
  }
  return put_tag(p, T_NUM_RAW, 0) || put(p, (double)start) || put(p, (double)(i - start)) ? -1 : 0;
}

static int literal(parser *p, const char *word, int tag, int emit) {
  size_t n = strlen(word);
  if (p->len - p->pos < n || memcmp(p->b + p->pos, word, n) != 0) return -1;
  p->pos += n;
  return emit ? put_tag(p, tag, 0) : 0;
}

static int value(parser *p, int depth, int emit);

/* Whether the tokens after a value are a delimiter JSON allows (`1x`, `truex` are not JSON). */
static int delimited(parser *p) {
  if (p->pos >= p->len) return 1;
  uint8_t c = p->b[p->pos];
  return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* The id of the key sequence keys[0,n), added when new; -1 when not kept. */
static int64_t shape_id(reader *r, const uint32_t *keys, uint32_t n) {
  return is_table_intern(&r->shapes, (const uint8_t *)keys, n * (uint32_t)sizeof(uint32_t));
}

/* The next string (at its quote) as a plain byte range: 0, 1 when it has escapes, -1 bad JSON. */
static int string_range(parser *p, size_t *start, uint32_t *n) {
  size_t q = p->pos;
  int esc;
  if (string_esc(p, 0, NULL, &esc)) return -1;
  *start = q + 1;
  *n = (uint32_t)(p->pos - q - 2);
  return esc;
}

/* The `:` after a key, and the whitespace around it; -1 when it is not there or nothing follows. */
static int colon(parser *p) {
  skip_ws(p);
  if (p->pos >= p->len || p->b[p->pos] != ':') return -1;
  p->pos++;
  skip_ws(p);
  return p->pos < p->len ? 0 : -1;
}

/* After a member of an object or array: 1 at its closing bracket, 0 at a comma (another member
 * follows), -1 otherwise (not JSON, or the bytes ran out). */
static int after_member(parser *p, uint8_t close) {
  skip_ws(p);
  if (p->pos >= p->len) return -1;
  uint8_t c = p->b[p->pos++];
  if (c == close) return 1;
  return c == ',' ? 0 : -1;
}

/* An object: SHAPED (its values only) when its keys can make a shape, else OBJ (keys and values).
 * generic: OBJ straight away (the second try of an object whose keys made no shape). */
static int object(parser *p, int depth, int emit, int generic) {
  size_t pos0 = p->pos, n0 = p->n;
  uint32_t marked0 = p->r->marked_n;
  int shaped = emit && !generic;
  uint32_t keys[MAX_SHAPE_KEYS];
  p->pos++;
  size_t at = p->n;
  if (emit && put_tag(p, T_OBJ, 0)) return -1;
  uint32_t count = 0;
  skip_ws(p);
  if (p->pos < p->len && p->b[p->pos] == '}') {
    p->pos++;
    return 0;
  }
  for (;;) {
    skip_ws(p);
    if (p->pos >= p->len || p->b[p->pos] != '"') return -1;
    if (shaped) {
      int64_t id;
      if (string(p, 0, &id)) return -1;
      if (id < 0 || count >= MAX_SHAPE_KEYS) goto unshaped;
      keys[count] = (uint32_t)id;
    } else if (string(p, emit, NULL)) {
      return -1;
    }
    if (colon(p) || value(p, depth + 1, emit)) return -1;
    if (++count > MAX_COUNT) return -1;
    int m = after_member(p, '}');
    if (m < 0) return -1;
    if (m) break;
  }
  if (shaped) {
    int64_t sid = shape_id(p->r, keys, count);
    if (sid < 0) goto unshaped;
    p->tape[at] = (double)(T_SHAPED | ((uint64_t)sid << 4));
  } else if (emit) {
    p->tape[at] = (double)(T_OBJ | ((uint64_t)count << 4));
  }
  return 0;
unshaped:
  /* again from its `{`, keys on the tape; what the first try wrote is dropped */
  unmark(p->r, marked0);
  p->pos = pos0;
  p->n = n0;
  return object(p, depth, emit, 1);
}

static int array(parser *p, int depth, int emit) {
  p->pos++;
  size_t at = p->n;
  if (emit && put_tag(p, T_ARR, 0)) return -1;
  uint32_t count = 0;
  skip_ws(p);
  if (p->pos < p->len && p->b[p->pos] == ']') {
    p->pos++;
    return 0;
  }
  for (;;) {
    skip_ws(p);
    if (value(p, depth + 1, emit)) return -1;
    if (++count > MAX_COUNT) return -1;
    int m = after_member(p, ']');
    if (m < 0) return -1;
    if (m) break;
  }
  if (emit) p->tape[at] = (double)(T_ARR | ((uint64_t)count << 4));
  return 0;
}

static int value(parser *p, int depth, int emit) {
  if (depth > MAX_DEPTH || p->pos >= p->len) return -1;
  int r;
  switch (p->b[p->pos]) {
    case '{': return object(p, depth, emit, 0);
    case '[': return array(p, depth, emit);
    case '"': return string(p, emit, NULL);
    case 't': r = literal(p, "true", T_TRUE, emit); break;
    case 'f': r = literal(p, "false", T_FALSE, emit); break;
    case 'n': r = literal(p, "null", T_NULL, emit); break;
    default: r = number(p, emit); break;
  }
  return r || !delimited(p) ? -1 : 0;
}

/* Whether the string at pos is exactly `s` (no escapes), and pos then moved past it. */
static int plain_string_is(parser *p, const char *s) {
  size_t n = strlen(s);
  if (p->len - p->pos < n + 2 || p->b[p->pos] != '"' || memcmp(p->b + p->pos + 1, s, n) != 0 || p->b[p->pos + 1 + n] != '"') return 0;
  p->pos += n + 2;
  return 1;
}

/* A flow event ({"ph": "s" | "f" | "t", …}, ph its first key and no later one): FLOW on the tape
 * instead of the object. Returns 1 when it was one, 0 when not (pos unchanged), -1 on bad JSON. */
static int flow(parser *p) {
  size_t start = p->pos;
  p->pos++;
  skip_ws(p);
  if (!plain_string_is(p, "ph") || colon(p)) goto no;
  if (!plain_string_is(p, "s") && !plain_string_is(p, "f") && !plain_string_is(p, "t")) goto no;
  /* the rest, checked without a trace of it on the tape; a later key that is (or may be) "ph" */
  for (;;) {
    int m = after_member(p, '}');
    if (m < 0) return -1;
    if (m) break;
    skip_ws(p);
    if (p->pos >= p->len || p->b[p->pos] != '"') return -1;
    size_t ks;
    uint32_t kn;
    int e = string_range(p, &ks, &kn);
    if (e < 0) return -1;
    if (e || (kn == 2 && memcmp(p->b + ks, "ph", 2) == 0)) goto no;
    if (colon(p) || value(p, 2, 0)) return -1;
  }
  if (!delimited(p)) return -1;
  return put_tag(p, T_FLOW, 0) ? -1 : 1;
no:
  p->pos = start;
  return 0;
}


/* One field's value onto the tape: a number, a string, true, false, null, or an
 * array of three numbers (grid, block); 0, 1 when it is none of these, -1 bad JSON. */
static int field_value(parser *p, uint32_t field, int depth) {
  if (put(p, (double)field)) return -1;
  uint8_t c = p->b[p->pos];
  if (c == '"') return string(p, 1, NULL) || !delimited(p) ? -1 : 0;
  if (c == '[') {
    size_t at = p->n;
    if (value(p, depth, 1)) return -1;
    /* ARR(3) NUM a NUM b NUM c */
    if (p->n - at != 7 || p->tape[at] != (double)(T_ARR | (3 << 4)) || p->tape[at + 1] != T_NUM || p->tape[at + 3] != T_NUM || p->tape[at + 5] != T_NUM) return 1;
    return 0;
  }
  if (c == '{') return 1;
  size_t at = p->n;
  if (value(p, depth, 1)) return -1;
  return p->tape[at] == T_NUM_RAW ? 1 : 0;
}

/* A complete event whose category the converter reads field by field: EVENT(n) then n × (field,
 * value) instead of its object, with only the fields the converter reads. 1 when written; 0 when
 * the event is not one (pos and tape as they were); -1 bad JSON. */
static int event(parser *p) {
  reader *r = p->r;
  size_t pos0 = p->pos, n0 = p->n;
  uint32_t marked0 = r->marked_n;
  uint64_t seen = 0;
  uint32_t count = 0;
  int x = 0, fast_cat = 0;
  if (r->cats.count == 0 || put_tag(p, T_EVENT, 0)) goto not_one;
  p->pos++;
  skip_ws(p);
  if (p->pos >= p->len || p->b[p->pos] == '}') goto not_one;
  for (;;) {
    skip_ws(p);
    if (p->pos >= p->len || p->b[p->pos] != '"') return -1;
    size_t ks;
    uint32_t kn;
    int e = string_range(p, &ks, &kn);
    if (e < 0) return -1;
    if (e) goto not_one; /* an escaped key may spell a field */
    int field = top_field(p->b + ks, kn);
    int is_args = kn == 4 && memcmp(p->b + ks, "args", 4) == 0;
    if (colon(p)) return -1;
    if (field >= 0) {
      if (seen & (1ull << field)) goto not_one; /* a duplicate: JSON.parse keeps the last */
      seen |= 1ull << field;
      if (field == F_PH || field == F_CAT) {
        size_t vs;
        uint32_t vn;
        if (p->b[p->pos] != '"') goto not_one;
        int ve = string_range(p, &vs, &vn);
        if (ve < 0 || !delimited(p)) return -1;
        if (ve) goto not_one;
        if (field == F_PH) {
          x = vn == 1 && p->b[vs] == 'X';
          if (!x) goto not_one;
        } else {
          fast_cat = is_table_lookup(&r->cats, p->b + vs, vn) >= 0;
          if (!fast_cat) goto not_one;
          p->pos = vs - 1;
          if (field_value(p, field, 2)) goto not_one;
          count++;
        }
        goto next;
      }
      int v = field_value(p, field, 2);
      if (v < 0) return -1;
      if (v) goto not_one;
      count++;
    } else if (is_args) {
      if (seen & (1ull << 63)) goto not_one;
      seen |= 1ull << 63;
      if (p->b[p->pos] != '{') goto not_one;
      p->pos++;
      skip_ws(p);
      if (p->pos < p->len && p->b[p->pos] == '}') {
        p->pos++;
        goto next;
      }
      for (;;) {
        skip_ws(p);
        if (p->pos >= p->len || p->b[p->pos] != '"') return -1;
        int ae = string_range(p, &ks, &kn);
        if (ae < 0) return -1;
        if (ae) goto not_one;
        int64_t k = is_table_lookup(&r->arg_keys, p->b + ks, kn);
        if (k >= 0 && r->whole[k]) goto not_one;
        if (colon(p)) return -1;
        if (k >= 0) {
          int f = F_ARGS0 + (int)k;
          if (seen & (1ull << f)) goto not_one;
          seen |= 1ull << f;
          int v = field_value(p, (uint32_t)f, 3);
          if (v < 0) return -1;
          if (v) goto not_one;
          count++;
        } else if (value(p, 3, 0)) {
          return -1;
        }
        int m = after_member(p, '}');
        if (m < 0) return -1;
        if (m) break;
      }
      if (!delimited(p)) return -1;
    } else if (value(p, 2, 0)) {
      return -1;
    }
  next: {
    int m = after_member(p, '}');
    if (m < 0) return -1;
    if (m) break;
  }
  }
  if (!x || !fast_cat || !delimited(p)) goto not_one;
  p->tape[n0] = (double)(T_EVENT | ((uint64_t)count << 4));
  return 1;
not_one:
  if (p->overflow) return -1;
  unmark(r, marked0);
  p->pos = pos0;
  p->n = n0;
  return 0;
}

/* Tell the reader the fields to hand over one by one: NUL-separated lists of argument keys,
 * categories, and argument keys that send their event as a whole object (added to the first list
 * when not in it). 0, or -1 (a list too long, or a duplicate). */
int is_tape_fields(void *handle, const uint8_t *args, int64_t args_len, const uint8_t *cats, int64_t cats_len, const uint8_t *whole, int64_t whole_len) {
  reader *r = handle;
  if (!r) return -1;
  const uint8_t *lists[3] = {args, cats, whole};
  int64_t lens[3] = {args_len, cats_len, whole_len};
  for (int l = 0; l < 3; l++) {
    int64_t i = 0;
    while (i < lens[l]) {
      const uint8_t *z = memchr(lists[l] + i, 0, (size_t)(lens[l] - i));
      int64_t end = z ? z - lists[l] : lens[l];
      table *t = l == 1 ? &r->cats : &r->arg_keys;
      uint32_t before = t->count;
      int64_t id = is_table_intern(t, lists[l] + i, (uint32_t)(end - i));
      if (id < 0 || (l < 2 && (uint32_t)id != before)) return -1; /* full, or a duplicate */
      if (l == 2) r->whole[id] = 1;
      i = end + 1;
    }
  }
  return 0;
}

/* Undo the last parse: JavaScript will not walk its tape (refused, or parsed ahead and not collected). */
static void forget_last(reader *r) {
  unmark(r, 0);
  is_table_truncate(&r->strings, r->strings0, r->arena0);
  is_table_truncate(&r->shapes, r->shapes0, r->shape_arena0);
}

/* buf[0,len) = `value (, value)*` with whitespace around: the values onto the tape. Returns the
 * slots written; -1 when the bytes are not that (or are beyond this reader: JSON.parse decides);
 * -2 when the tape is too small (nothing is kept: call again with a bigger one). */
static int64_t parse_batch(reader *r, const uint8_t *buf, int64_t len, double *tape, int64_t cap) {
  parser p = {buf, 0, (size_t)len, tape, 0, (size_t)cap, r, 0};
  r->strings0 = r->strings.count, r->arena0 = r->strings.arena_len;
  r->shapes0 = r->shapes.count, r->shape_arena0 = r->shapes.arena_len;
  r->marked_n = 0;
  skip_ws(&p);
  int ok = p.pos < p.len;
  while (ok) {
    int f = p.b[p.pos] == '{' ? flow(&p) : 0;
    if (f == 0 && p.b[p.pos] == '{') f = event(&p);
    if (f < 0 || (f == 0 && value(&p, 1, 1))) {
      ok = 0;
      break;
    }
    skip_ws(&p);
    if (p.pos >= p.len) break;
    if (p.b[p.pos] != ',') {
      ok = 0;
      break;
    }
    p.pos++;
    skip_ws(&p);
  }
  if (ok) return (int64_t)p.n;
  /* JavaScript never sees this tape: forget what it would have learnt from it */
  forget_last(r);
  return p.overflow ? -2 : -1;
}

/* Wait until the thread is not parsing; with `drop`, forget a parsed batch not collected. */
static void settle(reader *r, int drop) {
  if (!r->has_thread) return;
  pthread_mutex_lock(&r->mu);
  while (r->state == 1) pthread_cond_wait(&r->cv, &r->mu);
  if (drop && r->state == 2) {
    if (r->job_result >= 0) forget_last(r);
    r->state = 0;
  }
  pthread_mutex_unlock(&r->mu);
}

static void *parse_thread(void *arg) {
  reader *r = arg;
  pthread_mutex_lock(&r->mu);
  for (;;) {
    while (r->state != 1 && !r->quit) pthread_cond_wait(&r->cv, &r->mu);
    if (r->quit) break;
    pthread_mutex_unlock(&r->mu);
    int64_t n = parse_batch(r, r->job_buf, r->job_len, r->job_tape, r->job_cap);
    pthread_mutex_lock(&r->mu);
    r->job_result = n;
    r->state = 2;
    pthread_cond_broadcast(&r->cv);
  }
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

int64_t is_tape_parse(void *handle, const uint8_t *buf, int64_t len, double *tape, int64_t cap) {
  reader *r = handle;
  if (!r || len < 0 || cap < 0) return -1;
  settle(r, 1);
  return parse_batch(r, buf, len, tape, cap);
}

int is_tape_start(void *handle, const uint8_t *buf, int64_t len, double *tape, int64_t cap) {
  reader *r = handle;
  if (!r || len < 0 || cap < 0) return -1;
  settle(r, 1);
  if (!r->has_thread) {
    if (pthread_create(&r->thread, NULL, parse_thread, r) != 0) return -1;
    r->has_thread = 1;
  }
  pthread_mutex_lock(&r->mu);
  r->job_buf = buf, r->job_len = len, r->job_tape = tape, r->job_cap = cap;
  r->state = 1;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  return 0;
}

int64_t is_tape_join(void *handle) {
  reader *r = handle;
  if (!r || !r->has_thread) return -3;
  pthread_mutex_lock(&r->mu);
  while (r->state == 1) pthread_cond_wait(&r->cv, &r->mu);
  int64_t n = r->state == 2 ? r->job_result : -3;
  r->state = 0;
  pthread_mutex_unlock(&r->mu);
  return n;
}

void is_tape_forget(void *handle) {
  reader *r = handle;
  if (r) settle(r, 1);
}

int is_tape_shape(void *handle, uint32_t shape, uint32_t *keys, int cap) {
  reader *r = handle;
  if (!r) return -1;
  settle(r, 0);
  if (shape >= r->shapes.count) return -1;
  entry *e = &r->shapes.entries[shape];
  int n = (int)(e->len / sizeof(uint32_t));
  if (n > cap) return -1;
  memcpy(keys, r->shapes.arena + e->off, e->len);
  return n;
}

int64_t is_tape_string(void *handle, uint32_t id, uint8_t *out, int64_t cap) {
  reader *r = handle;
  if (!r) return -1;
  settle(r, 0);
  if (id >= r->strings.count) return -1;
  entry *e = &r->strings.entries[id];
  if ((int64_t)e->len <= cap) memcpy(out, r->strings.arena + e->off, e->len);
  return e->len;
}
