/*
 * index.c - the send filter's in-memory index (see index.h for the layout
 * and the thread rules).
 *
 * Slot word, 64 bits, 0 = empty:
 *   phone:  0 | number (34 bits, <= 9999999999) << 2 | status
 *   text:   1 << 63 | hash fragment (29 bits) << 34 | arena ref (32) << 2 | status
 * A phone slot never has bit 63 set and a text slot always has, so one probe
 * loop serves both kinds in one table. A text's probe position comes from
 * the high bits of its hash and its fragment from the low bits, so the two
 * are independent; a rehash recomputes the hash from the arena.
 *
 * The arena is a list of 256 KiB chunks; a ref is chunk << 15 | offset / 8,
 * so it stays valid when chunks are added (readers never see memory move)
 * and 32 bits address 32 GiB of text. A record is a 16-bit length and the
 * bytes, padded to 8.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "core/hash.h"
#include "core/iz.h"
#include "core/recipient.h"
#include "index/index.h"
#include "index/index_int.h"

#define PHONE_MAX 9999999999ull
#define ST_MASK 3ull
#define STR_TAG (1ull << 63)
#define FRAG_SHIFT 34
#define FRAG_MASK ((1ull << 29) - 1)
#define MATCH_MASK (~((1ull << FRAG_SHIFT) - 1)) /* tag and fragment */
#define REF_MASK 0xffffffffull
#define MIN_CAP 16
#define HUGE_BYTES ((size_t)2 << 20) /* slot arrays this big get huge pages */
#define CHUNK_SHIFT 18               /* 256 KiB arena chunks */
#define CHUNK_BYTES ((size_t)1 << CHUNK_SHIFT)
#define REF_POS_BITS (CHUNK_SHIFT - 3)
#define MAX_CHUNKS ((size_t)1 << (32 - REF_POS_BITS))
#define TEXT_MAX 0xffff /* a recipient longer than this is refused */
#define LOCK_SPAN 65536 /* keys probed per read-lock hold */
#define BATCH 16        /* keys whose slots are prefetched together */

typedef struct ix_table {
    int64_t brand_id;
    uint8_t type, rtype;
    uint64_t *slot;
    size_t cap, count;
    unsigned shift;  /* 64 - log2(cap): position = hash >> shift */
    uint64_t *stage; /* a build's slot words, placed once the scan has ended */
    size_t nstage, stage_cap;
} ix_table_t;

/* The swappable contents: tables, their map, the text arena. */
typedef struct ix_set {
    ix_table_t **map; /* open addressing on (brand, type, rtype) */
    size_t map_cap, ntables;
    char **chunks;
    size_t nchunks, chunks_cap, chunk_used; /* bytes used in the last chunk */
    size_t count;
} ix_set_t;

/* A change that arrived while a build was scanning. */
typedef struct ix_pending {
    int64_t brand_id;
    uint8_t type, rtype, status;
    char *recipient;
} ix_pending_t;

struct iz_index {
    pthread_rwlock_t lock; /* readers: shared; publishing a write: exclusive */
    pthread_mutex_t wmu;   /* one writer at a time */
    ix_set_t *set;
    uint64_t mult;      /* odd multiplier for phone positions */
    uint8_t sipkey[16]; /* SipHash key for text */
    uint64_t hash_mask; /* all ones except in the collision tests */
    bool building;
    ix_pending_t *pend;
    size_t npend, pend_cap;
};

/* A key ready to probe: a packed phone, or a text with its hash. */
typedef struct ix_key {
    uint64_t phone; /* non-zero for a Turkish number */
    uint64_t hash;
    const char *text;
    size_t len;
} ix_key_t;

/* ---- hashing --------------------------------------------------------------- */

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = rotl(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = rotl(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = rotl(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = rotl(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = rotl(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = rotl(v2, 32);                                                                         \
    } while (0)

uint64_t iz__index_siphash(const uint8_t key[16], const void *data, size_t len)
{
    const uint8_t *in = data;
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
    uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
    size_t full = len - len % 8;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load_le64(in + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = len % 8; i > 0; i--)
        b |= (uint64_t)in[full + i - 1] << (8 * (i - 1));
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static uint64_t text_hash(const iz_index_t *ix, const char *s, size_t len)
{
    return iz__index_siphash(ix->sipkey, s, len) & ix->hash_mask;
}

static void make_key(const iz_index_t *ix, const char *s, ix_key_t *k)
{
    k->text = s;
    k->len = strlen(s);
    k->phone = iz_phone_pack(s);
    k->hash = k->phone ? 0 : text_hash(ix, s, k->len);
}

static size_t key_pos(const iz_index_t *ix, const ix_table_t *t, const ix_key_t *k)
{
    return (size_t)((k->phone ? k->phone * ix->mult : k->hash) >> t->shift);
}

/* ---- memory ---------------------------------------------------------------- */

/* Zeroed slots. Big arrays are mapped on a 2 MiB boundary and advised to use
 * huge pages: a random probe then costs a cache miss but rarely a TLB miss,
 * which is most of the look-up rate at 10M keys. */
static uint64_t *slots_alloc(size_t cap)
{
    size_t bytes = cap * sizeof(uint64_t);
    if (bytes < HUGE_BYTES) return iz_xcalloc(cap, sizeof(uint64_t));
    size_t span = bytes + HUGE_BYTES;
    char *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) iz_oom();
    size_t head = (HUGE_BYTES - (uintptr_t)p % HUGE_BYTES) % HUGE_BYTES;
    if (head) munmap(p, head);
    if (span - head > bytes) munmap(p + head + bytes, span - head - bytes);
    p += head;
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* advice only; fine when refused */
    return (uint64_t *)(void *)p;
}

static void slots_free(uint64_t *p, size_t cap)
{
    size_t bytes = cap * sizeof(uint64_t);
    if (!p) return;
    if (bytes < HUGE_BYTES)
        free(p);
    else
        munmap(p, bytes);
}

static void wr_lock(pthread_rwlock_t *lk)
{
    if (lk) pthread_rwlock_wrlock(lk);
}

static void wr_unlock(pthread_rwlock_t *lk)
{
    if (lk) pthread_rwlock_unlock(lk);
}

/* ---- the arena --------------------------------------------------------------- */

static const char *arena_text(const ix_set_t *s, uint32_t ref, size_t *len)
{
    const char *rec =
        s->chunks[ref >> REF_POS_BITS] + ((size_t)(ref & ((1u << REF_POS_BITS) - 1)) << 3);
    uint16_t n;
    memcpy(&n, rec, sizeof n);
    *len = n;
    return rec + sizeof n;
}

/* Copy a text into the arena and return its ref. The bytes land in memory
 * no reader looks at until a slot holding the ref is published under the
 * write lock; only a new chunk pointer array needs the lock itself. */
static uint32_t arena_add(ix_set_t *s, pthread_rwlock_t *lk, const char *text, size_t len)
{
    size_t need = (sizeof(uint16_t) + len + 7) & ~(size_t)7;
    if (s->nchunks == 0 || s->chunk_used + need > CHUNK_BYTES) {
        if (s->nchunks == MAX_CHUNKS) iz_oom(); /* 32 GiB of recipients */
        if (s->nchunks == s->chunks_cap) {
            size_t ncap = s->chunks_cap ? s->chunks_cap * 2 : 16;
            char **nc = iz_xcalloc(ncap, sizeof *nc);
            if (s->nchunks) memcpy(nc, s->chunks, s->nchunks * sizeof *nc);
            char **old = s->chunks;
            wr_lock(lk);
            s->chunks = nc;
            s->chunks_cap = ncap;
            wr_unlock(lk);
            free(old);
        }
        s->chunks[s->nchunks] = iz_xmalloc(CHUNK_BYTES);
        wr_lock(lk);
        s->nchunks++;
        wr_unlock(lk);
        s->chunk_used = 0;
    }
    char *rec = s->chunks[s->nchunks - 1] + s->chunk_used;
    uint16_t n = (uint16_t)len;
    memcpy(rec, &n, sizeof n);
    memcpy(rec + sizeof n, text, len);
    uint32_t ref = (uint32_t)(((s->nchunks - 1) << REF_POS_BITS) | (s->chunk_used >> 3));
    s->chunk_used += need;
    return ref;
}

/* ---- tables ----------------------------------------------------------------- */

static unsigned log2_of(size_t cap)
{
    unsigned b = 0;
    while (((size_t)1 << b) < cap)
        b++;
    return b;
}

static void table_init(ix_table_t *t, size_t cap)
{
    t->slot = slots_alloc(cap);
    t->cap = cap;
    t->shift = 64 - log2_of(cap);
}

/* Find k in t: true with *pos its slot, or false with *pos the empty slot
 * where it would go. Runs under a read lock or as the writer. */
static bool table_find(const ix_set_t *s, const ix_table_t *t, const ix_key_t *k, size_t p,
                       size_t *pos)
{
    const uint64_t *slot = t->slot;
    size_t mask = t->cap - 1;
    uint64_t v;
    if (k->phone) {
        for (; (v = slot[p]) != 0; p = (p + 1) & mask)
            if ((v & ~ST_MASK) == k->phone << 2) break;
    } else {
        uint64_t want = STR_TAG | (k->hash & FRAG_MASK) << FRAG_SHIFT;
        for (; (v = slot[p]) != 0; p = (p + 1) & mask) {
            if ((v & MATCH_MASK) != want) continue;
            size_t n;
            const char *txt = arena_text(s, (uint32_t)((v >> 2) & REF_MASK), &n);
            if (n == k->len && memcmp(txt, k->text, n) == 0) break;
        }
    }
    *pos = p;
    return v != 0;
}

/* Put a slot word into a table known not to hold its key (a rehash). */
static void slot_place(uint64_t *slot, size_t mask, size_t p, uint64_t v)
{
    while (slot[p])
        p = (p + 1) & mask;
    slot[p] = v;
}

static size_t word_pos(const iz_index_t *ix, const ix_set_t *s, uint64_t v, unsigned shift)
{
    if (!(v & STR_TAG)) return (size_t)(((v >> 2) * ix->mult) >> shift);
    size_t n;
    const char *txt = arena_text(s, (uint32_t)((v >> 2) & REF_MASK), &n);
    return (size_t)(text_hash(ix, txt, n) >> shift);
}

/* Double t. The new array is filled outside the write lock (this thread is
 * the only writer and readers only read the old array), then swapped in. */
static void table_grow(const iz_index_t *ix, ix_set_t *s, pthread_rwlock_t *lk, ix_table_t *t)
{
    ix_table_t nt = *t;
    table_init(&nt, t->cap * 2);
    size_t mask = nt.cap - 1, pos[BATCH];
    uint64_t word[BATCH];
    for (size_t i = 0; i < t->cap;) {
        size_t m = 0;
        for (; i < t->cap && m < BATCH; i++) {
            if (!t->slot[i]) continue;
            word[m] = t->slot[i];
            pos[m] = word_pos(ix, s, word[m], nt.shift);
            __builtin_prefetch(&nt.slot[pos[m]], 1);
            m++;
        }
        for (size_t j = 0; j < m; j++)
            slot_place(nt.slot, mask, pos[j], word[j]);
    }
    uint64_t *old = t->slot;
    size_t old_cap = t->cap;
    wr_lock(lk);
    t->slot = nt.slot;
    t->cap = nt.cap;
    t->shift = nt.shift;
    wr_unlock(lk);
    slots_free(old, old_cap);
}

/* The key a slot word stands for (a text's comes from the arena). */
static void word_key(const iz_index_t *ix, const ix_set_t *s, uint64_t v, ix_key_t *k)
{
    if (!(v & STR_TAG)) {
        k->phone = v >> 2;
        k->hash = 0;
        k->text = NULL;
        k->len = 0;
        return;
    }
    k->phone = 0;
    k->text = arena_text(s, (uint32_t)((v >> 2) & REF_MASK), &k->len);
    k->hash = text_hash(ix, k->text, k->len);
}

/* Place a build's staged words into a table sized for them at once: no
 * rehash on the way, and the positions of each group are prefetched before
 * they are written. A word whose key is already placed replaces its status
 * (the scan never yields a key twice, but a hand-edited store could). */
static void table_place_stage(const iz_index_t *ix, const ix_set_t *s, ix_table_t *t)
{
    size_t cap = MIN_CAP;
    while (t->nstage * 10 > cap * 7)
        cap *= 2;
    slots_free(t->slot, t->cap);
    table_init(t, cap);
    ix_key_t k[BATCH];
    size_t pos[BATCH];
    for (size_t i = 0; i < t->nstage; i += BATCH) {
        size_t m = t->nstage - i < BATCH ? t->nstage - i : BATCH;
        for (size_t j = 0; j < m; j++) {
            word_key(ix, s, t->stage[i + j], &k[j]);
            pos[j] = key_pos(ix, t, &k[j]);
            __builtin_prefetch(&t->slot[pos[j]], 1);
        }
        for (size_t j = 0; j < m; j++) {
            size_t p;
            uint64_t v = t->stage[i + j];
            if (table_find(s, t, &k[j], pos[j], &p)) {
                t->slot[p] = (t->slot[p] & ~ST_MASK) | (v & ST_MASK);
            } else {
                t->slot[p] = v;
                t->count++;
            }
        }
    }
    free(t->stage);
    t->stage = NULL;
    t->nstage = t->stage_cap = 0;
}

/* ---- the set ------------------------------------------------------------------ */

static size_t map_pos(const ix_set_t *s, int64_t brand_id, int type, int rtype)
{
    uint64_t h = iz_hash_mix64((uint64_t)brand_id * 16u + (uint64_t)type * 4u + (uint64_t)rtype);
    return (size_t)h & (s->map_cap - 1);
}

static ix_table_t *set_table(const ix_set_t *s, int64_t brand_id, int type, int rtype)
{
    if (!s->map_cap) return NULL;
    for (size_t p = map_pos(s, brand_id, type, rtype);; p = (p + 1) & (s->map_cap - 1)) {
        ix_table_t *t = s->map[p];
        if (!t) return NULL;
        if (t->brand_id == brand_id && t->type == type && t->rtype == rtype) return t;
    }
}

static void map_place(ix_set_t *s, ix_table_t *t)
{
    size_t p = map_pos(s, t->brand_id, t->type, t->rtype);
    while (s->map[p])
        p = (p + 1) & (s->map_cap - 1);
    s->map[p] = t;
}

static ix_table_t *set_table_add(ix_set_t *s, pthread_rwlock_t *lk, int64_t brand_id, int type,
                                 int rtype)
{
    ix_table_t *t = iz_xcalloc(1, sizeof *t);
    t->brand_id = brand_id;
    t->type = (uint8_t)type;
    t->rtype = (uint8_t)rtype;
    table_init(t, MIN_CAP);
    if ((s->ntables + 1) * 2 > s->map_cap) {
        ix_set_t ns = *s;
        ns.map_cap = s->map_cap ? s->map_cap * 2 : 8;
        ns.map = iz_xcalloc(ns.map_cap, sizeof *ns.map);
        for (size_t i = 0; i < s->map_cap; i++)
            if (s->map[i]) map_place(&ns, s->map[i]);
        ix_table_t **old = s->map;
        wr_lock(lk);
        s->map = ns.map;
        s->map_cap = ns.map_cap;
        wr_unlock(lk);
        free(old);
    }
    wr_lock(lk);
    map_place(s, t);
    s->ntables++;
    wr_unlock(lk);
    return t;
}

/* Set the status of a key; lk is the index's lock for the live set, NULL
 * for a set nobody else sees yet. */
static void set_put(const iz_index_t *ix, ix_set_t *s, pthread_rwlock_t *lk, int64_t brand_id,
                    int type, int rtype, const char *recipient, int status)
{
    ix_key_t k;
    make_key(ix, recipient, &k);
    ix_table_t *t = set_table(s, brand_id, type, rtype);
    if (!t) t = set_table_add(s, lk, brand_id, type, rtype);
    size_t p;
    if (table_find(s, t, &k, key_pos(ix, t, &k), &p)) {
        wr_lock(lk);
        t->slot[p] = (t->slot[p] & ~ST_MASK) | (uint64_t)status;
        wr_unlock(lk);
        return;
    }
    if ((t->count + 1) * 10 > t->cap * 7) {
        table_grow(ix, s, lk, t);
        (void)table_find(s, t, &k, key_pos(ix, t, &k), &p);
    }
    uint64_t v;
    if (k.phone) {
        v = k.phone << 2 | (uint64_t)status;
    } else {
        uint64_t ref = arena_add(s, lk, k.text, k.len);
        v = STR_TAG | (k.hash & FRAG_MASK) << FRAG_SHIFT | ref << 2 | (uint64_t)status;
    }
    wr_lock(lk);
    t->slot[p] = v;
    t->count++;
    s->count++;
    wr_unlock(lk);
}

static void set_free(ix_set_t *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->map_cap; i++) {
        if (!s->map[i]) continue;
        slots_free(s->map[i]->slot, s->map[i]->cap);
        free(s->map[i]->stage);
        free(s->map[i]);
    }
    for (size_t i = 0; i < s->nchunks; i++)
        free(s->chunks[i]);
    free(s->chunks);
    free(s->map);
    free(s);
}

/* ---- probing ------------------------------------------------------------------- */

/* Look up m <= BATCH phones: all positions first, each prefetched, then the
 * probes, so the cache misses of the group overlap instead of queueing. */
static void probe_phones(const iz_index_t *ix, const ix_table_t *t, const uint64_t *keys, size_t n,
                         uint8_t *out)
{
    const uint64_t *slot = t->slot;
    const size_t mask = t->cap - 1;
    const unsigned shift = t->shift;
    const uint64_t mult = ix->mult;
    size_t pos[BATCH];
    for (size_t i = 0; i < n; i += BATCH) {
        size_t m = n - i < BATCH ? n - i : BATCH;
        for (size_t j = 0; j < m; j++) {
            pos[j] = (size_t)((keys[i + j] * mult) >> shift);
            __builtin_prefetch(&slot[pos[j]]);
        }
        for (size_t j = 0; j < m; j++) {
            uint64_t k = keys[i + j], want = k << 2, v;
            uint8_t st = 0;
            if (k - 1 < PHONE_MAX) { /* 1..PHONE_MAX; 0 wraps around */
                for (size_t p = pos[j]; (v = slot[p]) != 0; p = (p + 1) & mask) {
                    if ((v & ~ST_MASK) == want) {
                        st = (uint8_t)(v & ST_MASK);
                        break;
                    }
                }
            }
            out[i + j] = st;
        }
    }
}

static void probe_texts(const iz_index_t *ix, const ix_set_t *s, const ix_table_t *t,
                        const char *const *rcp, size_t n, uint8_t *out)
{
    ix_key_t k[BATCH];
    size_t pos[BATCH];
    for (size_t i = 0; i < n; i += BATCH) {
        size_t m = n - i < BATCH ? n - i : BATCH;
        for (size_t j = 0; j < m; j++) {
            if (!rcp[i + j]) {
                k[j].text = NULL;
                continue;
            }
            make_key(ix, rcp[i + j], &k[j]);
            pos[j] = key_pos(ix, t, &k[j]);
            __builtin_prefetch(&t->slot[pos[j]]);
        }
        for (size_t j = 0; j < m; j++) {
            size_t p;
            out[i + j] = k[j].text && table_find(s, t, &k[j], pos[j], &p)
                             ? (uint8_t)(t->slot[p] & ST_MASK)
                             : 0;
        }
    }
}

/* ---- the public face -------------------------------------------------------------- */

static void seed(iz_index_t *ix)
{
    uint8_t r[24];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        /* No entropy source: a clock-derived key still spreads keys well;
         * it only gives up resistance to chosen-key flooding. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x =
            iz_hash_mix64((uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uintptr_t)ix);
        for (size_t i = 0; i < sizeof r; i += 8) {
            x = iz_hash_mix64(x + 0x9e3779b97f4a7c15ull);
            memcpy(r + i, &x, 8);
        }
    }
    memcpy(ix->sipkey, r, 16);
    memcpy(&ix->mult, r + 16, 8);
    ix->mult |= 1; /* odd: multiply-shift is then a universal family */
}

iz_index_t *iz_index_new(void)
{
    iz_index_t *ix = iz_xcalloc(1, sizeof *ix);
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    if (pthread_rwlock_init(&ix->lock, &a) != 0) iz_oom();
    pthread_rwlockattr_destroy(&a);
    if (pthread_mutex_init(&ix->wmu, NULL) != 0) iz_oom();
    ix->set = iz_xcalloc(1, sizeof *ix->set);
    ix->hash_mask = ~0ull;
    seed(ix);
    return ix;
}

static void pending_clear(iz_index_t *ix)
{
    for (size_t i = 0; i < ix->npend; i++)
        free(ix->pend[i].recipient);
    free(ix->pend);
    ix->pend = NULL;
    ix->npend = ix->pend_cap = 0;
}

void iz_index_free(iz_index_t *ix)
{
    if (!ix) return;
    set_free(ix->set);
    pending_clear(ix);
    pthread_rwlock_destroy(&ix->lock);
    pthread_mutex_destroy(&ix->wmu);
    free(ix);
}

void iz__index_test_hash_mask(iz_index_t *ix, uint64_t mask)
{
    ix->hash_mask = mask;
}

static bool valid(int64_t brand_id, int type, int rtype, int status, const char *rcp)
{
    return brand_id > 0 && type >= IZ_ARAMA && type <= IZ_EPOSTA && rtype >= IZ_BIREYSEL &&
           rtype <= IZ_TACIR && (status == IZ_ONAY || status == IZ_RET) && rcp && *rcp &&
           strnlen(rcp, TEXT_MAX + 1) <= TEXT_MAX;
}

int iz_index_apply(iz_index_t *ix, const iz_change_t *c)
{
    if (!ix || !c || !valid(c->brand_id, c->type, c->rtype, c->status, c->recipient))
        return IZ_EINVAL;
    pthread_mutex_lock(&ix->wmu);
    set_put(ix, ix->set, &ix->lock, c->brand_id, c->type, c->rtype, c->recipient, c->status);
    if (ix->building) {
        if (ix->npend == ix->pend_cap) {
            ix->pend_cap = ix->pend_cap ? ix->pend_cap * 2 : 64;
            ix->pend = iz_xrealloc(ix->pend, ix->pend_cap * sizeof *ix->pend);
        }
        ix->pend[ix->npend++] = (ix_pending_t){.brand_id = c->brand_id,
                                               .type = (uint8_t)c->type,
                                               .rtype = (uint8_t)c->rtype,
                                               .status = (uint8_t)c->status,
                                               .recipient = iz_xstrdup(c->recipient)};
    }
    pthread_mutex_unlock(&ix->wmu);
    return 0;
}

void iz_index_on_change(void *ix, const iz_change_t *chg)
{
    (void)iz_index_apply(ix, chg);
}

typedef struct build_ctx {
    const iz_index_t *ix;
    ix_set_t *set;
} build_ctx_t;

/* Stage one scanned row in its table: texts go to the arena now, slots
 * are placed when the scan has ended and the table's size is known. */
static int build_row(void *vctx, const iz_state_row_t *row)
{
    build_ctx_t *b = vctx;
    if (!valid(row->brand_id, row->type, row->rtype, row->status, row->recipient)) return 0;
    ix_table_t *t = set_table(b->set, row->brand_id, row->type, row->rtype);
    if (!t) t = set_table_add(b->set, NULL, row->brand_id, row->type, row->rtype);
    uint64_t v, phone = iz_phone_pack(row->recipient);
    if (phone) {
        v = phone << 2 | (uint64_t)row->status;
    } else {
        size_t len = strlen(row->recipient);
        uint64_t h = text_hash(b->ix, row->recipient, len);
        uint64_t ref = arena_add(b->set, NULL, row->recipient, len);
        v = STR_TAG | (h & FRAG_MASK) << FRAG_SHIFT | ref << 2 | (uint64_t)row->status;
    }
    if (t->nstage == t->stage_cap) {
        t->stage_cap = t->stage_cap ? t->stage_cap * 2 : 1024;
        t->stage = iz_xrealloc(t->stage, t->stage_cap * sizeof *t->stage);
    }
    t->stage[t->nstage++] = v;
    return 0;
}

/* Place every table's staged words and count them. */
static void build_finish(const iz_index_t *ix, ix_set_t *s)
{
    s->count = 0;
    for (size_t i = 0; i < s->map_cap; i++) {
        if (!s->map[i]) continue;
        table_place_stage(ix, s, s->map[i]);
        s->count += s->map[i]->count;
    }
}

int iz_index_build(iz_index_t *ix, iz_store_t *st)
{
    if (!ix || !st) return IZ_EINVAL;
    pthread_mutex_lock(&ix->wmu);
    if (ix->building) {
        pthread_mutex_unlock(&ix->wmu);
        return IZ_EBUSY;
    }
    ix->building = true;
    pending_clear(ix);
    pthread_mutex_unlock(&ix->wmu);

    /* The scan runs without the writer mutex: the commit hook runs with the
     * store locked and takes that mutex, while the scan takes the store's
     * lock, so holding both here could deadlock. The hook's changes go to
     * the live set and the pending list meanwhile. */
    build_ctx_t b = {.ix = ix, .set = iz_xcalloc(1, sizeof(ix_set_t))};
    int rc = iz_store_state_scan(st, build_row, &b);

    pthread_mutex_lock(&ix->wmu);
    ix_set_t *old = b.set;
    if (rc == 0) build_finish(ix, b.set);
    if (rc == 0) {
        /* Replaying in commit order is safe even for a change the scan
         * already saw: a status replaces, so the last one wins either way. */
        for (size_t i = 0; i < ix->npend; i++) {
            const ix_pending_t *p = &ix->pend[i];
            set_put(ix, b.set, NULL, p->brand_id, p->type, p->rtype, p->recipient, p->status);
        }
        pthread_rwlock_wrlock(&ix->lock);
        old = ix->set;
        ix->set = b.set;
        pthread_rwlock_unlock(&ix->lock);
    }
    ix->building = false;
    pending_clear(ix);
    pthread_mutex_unlock(&ix->wmu);
    set_free(old);
    return rc;
}

static bool lookup_args(const iz_index_t *ix, int type, int rtype, size_t n, const void *in,
                        uint8_t *out)
{
    if (n && out) memset(out, 0, n);
    return ix && n && in && out && type >= IZ_ARAMA && type <= IZ_EPOSTA && rtype >= IZ_BIREYSEL &&
           rtype <= IZ_TACIR;
}

void iz_index_get_phones(iz_index_t *ix, int64_t brand_id, iz_type_t type, iz_rtype_t rtype,
                         const uint64_t *keys, size_t n, uint8_t *out)
{
    if (!lookup_args(ix, type, rtype, n, keys, out)) return;
    for (size_t done = 0; done < n;) {
        size_t m = n - done < LOCK_SPAN ? n - done : LOCK_SPAN;
        pthread_rwlock_rdlock(&ix->lock);
        const ix_table_t *t = set_table(ix->set, brand_id, type, rtype);
        if (t) probe_phones(ix, t, keys + done, m, out + done);
        pthread_rwlock_unlock(&ix->lock);
        done += m;
    }
}

void iz_index_get_many(iz_index_t *ix, int64_t brand_id, iz_type_t type, iz_rtype_t rtype,
                       const char *const *recipients, size_t n, uint8_t *out)
{
    if (!lookup_args(ix, type, rtype, n, recipients, out)) return;
    for (size_t done = 0; done < n;) {
        size_t m = n - done < LOCK_SPAN ? n - done : LOCK_SPAN;
        pthread_rwlock_rdlock(&ix->lock);
        const ix_table_t *t = set_table(ix->set, brand_id, type, rtype);
        if (t) probe_texts(ix, ix->set, t, recipients + done, m, out + done);
        pthread_rwlock_unlock(&ix->lock);
        done += m;
    }
}

iz_status_t iz_index_get(iz_index_t *ix, int64_t brand_id, iz_type_t type, iz_rtype_t rtype,
                         const char *recipient)
{
    uint8_t st = 0;
    iz_index_get_many(ix, brand_id, type, rtype, &recipient, 1, &st);
    return (iz_status_t)st;
}

size_t iz_index_count(iz_index_t *ix)
{
    if (!ix) return 0;
    pthread_rwlock_rdlock(&ix->lock);
    size_t n = ix->set->count;
    pthread_rwlock_unlock(&ix->lock);
    return n;
}

size_t iz_index_bytes(iz_index_t *ix)
{
    if (!ix) return 0;
    pthread_rwlock_rdlock(&ix->lock);
    const ix_set_t *s = ix->set;
    size_t b = sizeof *ix + sizeof *s + s->map_cap * sizeof *s->map +
               s->chunks_cap * sizeof *s->chunks + s->nchunks * CHUNK_BYTES;
    for (size_t i = 0; i < s->map_cap; i++)
        if (s->map[i]) b += sizeof *s->map[i] + s->map[i]->cap * sizeof(uint64_t);
    pthread_rwlock_unlock(&ix->lock);
    return b;
}
