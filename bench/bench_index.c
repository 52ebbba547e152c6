/*
 * bench_index.c - the send filter's in-process figures, side by side with
 * SQLite and Redis on the same generated data, for `make bench`
 * (bench/run.py starts Redis, runs this, then the HTTP part, and prints the
 * table).
 *
 * Data: n consents of one brand (MESAJ, BIREYSEL), Turkish mobiles
 * "+905" + 9 digits spread over the whole number range; about one in ten is
 * RET, the rest ONAY. Look-ups alternate between a present number and an
 * absent one (half present), in random order.
 *
 * The consents are written straight into the store's consent_state table
 * (one transaction, prepared statement, key order) because going through
 * iz_store_consent_apply would cost a durable commit each; the rows have no
 * consent_log rows behind them, so such a store is bench data only.
 *
 * Figures are printed one a line as "name value" for the driver.
 */
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/iz.h"
#include "core/recipient.h"
#include "index/index.h"
#include "store/store.h"

#define STEP 387420489u /* 3^18: coprime to 10^9, so i -> i * STEP mod 10^9 is a permutation */
#define SPREAD 1000000000u
#define CALL_BATCH 4096 /* keys per look-up call, as the HTTP check batches them */

typedef struct opts {
    const char *data, *check_file, *redis;
    int64_t brand_code;
    size_t n, lookups, sqlite_lookups, redis_lookups;
} opts_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_index: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

/* The 9 digits after "+905" of the i-th generated number. */
static uint32_t number_of(size_t i)
{
    return (uint32_t)(((uint64_t)i * STEP + 12345u) % SPREAD);
}

static int status_of(uint32_t x)
{
    return x % 10 == 7 ? IZ_RET : IZ_ONAY;
}

/* "+905" and 9 digits, no NUL; returns 13. */
static size_t format_number(uint32_t x, char *out)
{
    memcpy(out, "+905", 4);
    for (int d = 12; d >= 4; d--) {
        out[d] = (char)('0' + x % 10);
        x /= 10;
    }
    return 13;
}

/* LSD radix sort of 30-bit values, two 15-bit passes. */
static void radix_sort(uint32_t *a, size_t n)
{
    uint32_t *tmp = iz_xmalloc(n * sizeof *tmp);
    for (int pass = 0; pass < 2; pass++) {
        unsigned sh = (unsigned)pass * 15;
        size_t *cnt = iz_xcalloc((1u << 15) + 1, sizeof *cnt);
        for (size_t i = 0; i < n; i++)
            cnt[((a[i] >> sh) & 0x7fff) + 1]++;
        for (size_t b = 1; b <= (1u << 15); b++)
            cnt[b] += cnt[b - 1];
        for (size_t i = 0; i < n; i++)
            tmp[cnt[(a[i] >> sh) & 0x7fff]++] = a[i];
        memcpy(a, tmp, n * sizeof *a);
        free(cnt);
    }
    free(tmp);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ---- the store ------------------------------------------------------------------- */

static void sq_check(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) die(what, sqlite3_errmsg(db));
}

static void sq_exec(sqlite3 *db, const char *sql)
{
    sq_check(db, sqlite3_exec(db, sql, NULL, NULL, NULL), sql);
}

static int64_t sq_int(sqlite3 *db, const char *sql, int64_t arg)
{
    sqlite3_stmt *st;
    sq_check(db, sqlite3_prepare_v2(db, sql, -1, &st, NULL), sql);
    sqlite3_bind_int64(st, 1, arg);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

/* Write the consents (unless the store already holds exactly n for the
 * brand, from an earlier run kept with --keep) and return the brand id. */
static int64_t load_store(const opts_t *o, double *secs)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/izin.db", o->data);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) die("open", path);
    sqlite3_busy_timeout(db, 5000);
    int64_t brand = sq_int(db, "SELECT id FROM brands WHERE code = ?1", o->brand_code);
    if (brand < 0) die("no such brand code in the store", NULL);
    int64_t have = sq_int(db, "SELECT count(*) FROM consent_state WHERE brand_id = ?1", brand);
    *secs = 0;
    if (have == (int64_t)o->n) {
        sqlite3_close(db);
        return brand;
    }
    if (have != 0) die("the store holds another data set; use a fresh --data", NULL);
    double t0 = now_s();
    uint32_t *x = iz_xmalloc(o->n * sizeof *x);
    for (size_t i = 0; i < o->n; i++)
        x[i] = number_of(i);
    radix_sort(x, o->n); /* key order: SQLite appends to its B-tree instead of splitting it */
    sq_exec(db, "PRAGMA synchronous = OFF");
    sq_exec(db, "PRAGMA cache_size = -262144");
    sq_exec(db, "BEGIN");
    sqlite3_stmt *st;
    sq_check(db,
             sqlite3_prepare_v2(db,
                                "INSERT INTO consent_state(brand_id, recipient, rtype, type,"
                                " log_id, status, source, consent_date) VALUES(?1, ?2,"
                                " 'BIREYSEL', 'MESAJ', ?3, ?4, 'HS_WEB', 1700000000)",
                                -1, &st, NULL),
             "prepare insert");
    char num[16];
    for (size_t i = 0; i < o->n; i++) {
        size_t len = format_number(x[i], num);
        sqlite3_bind_int64(st, 1, brand);
        sqlite3_bind_text(st, 2, num, (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (int64_t)i + 1);
        sqlite3_bind_text(st, 4, status_of(x[i]) == IZ_ONAY ? "ONAY" : "RET", -1, SQLITE_STATIC);
        sq_check(db, sqlite3_step(st), "insert");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sq_exec(db, "COMMIT");
    sq_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(db);
    free(x);
    *secs = now_s() - t0;
    return brand;
}

/* ---- the look-up list ----------------------------------------------------------------- */

typedef struct lookups {
    size_t n;
    uint32_t *x;    /* the number's 9 digits */
    uint8_t *want;  /* expected status */
    uint64_t *key;  /* iz_phone_pack form */
    size_t allowed; /* how many are ONAY */
} lookups_t;

static void make_lookups(const opts_t *o, lookups_t *l)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;
    l->n = o->lookups;
    l->x = iz_xmalloc(l->n * sizeof *l->x);
    l->want = iz_xmalloc(l->n);
    l->key = iz_xmalloc(l->n * sizeof *l->key);
    l->allowed = 0;
    for (size_t j = 0; j < l->n; j++) {
        size_t i = (size_t)(rng_next(&s) % o->n) + (j % 2 ? o->n : 0);
        l->x[j] = number_of(i);
        l->want[j] = j % 2 ? IZ_STATUS_NONE : (uint8_t)status_of(l->x[j]);
        if (l->want[j] == IZ_ONAY) l->allowed++;
        l->key[j] = 5000000000ull + l->x[j];
    }
}

/* The look-ups as text, one a line, for the HTTP check. */
static void write_check_file(const char *path, const lookups_t *l)
{
    FILE *f = fopen(path, "w");
    if (!f) die("cannot write", path);
    char *buf = iz_xmalloc(1 << 20);
    size_t used = 0;
    for (size_t j = 0; j < l->n; j++) {
        used += format_number(l->x[j], buf + used);
        buf[used++] = '\n';
        if (used > (1 << 20) - 32) {
            if (fwrite(buf, 1, used, f) != used) die("write", path);
            used = 0;
        }
    }
    if ((used && fwrite(buf, 1, used, f) != used) || fclose(f) != 0) die("write", path);
    free(buf);
}

static size_t mismatches(const uint8_t *got, const uint8_t *want, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += got[i] != want[i];
    return bad;
}

/* ---- izin's index ------------------------------------------------------------------------ */

static void bench_izin(const opts_t *o, int64_t brand, const lookups_t *l)
{
    iz_store_t *st;
    const char *err = NULL;
    if (iz_store_open(o->data, NULL, &st, &err) != 0) die("iz_store_open", err);
    iz_index_t *ix = iz_index_new();
    double t0 = now_s();
    if (iz_index_build(ix, st) != 0) die("iz_index_build failed", NULL);
    double build = now_s() - t0;
    iz_store_close(st);
    size_t count = iz_index_count(ix), bytes = iz_index_bytes(ix);
    printf("izin_build_s %.3f\n", build);
    printf("izin_count %zu\n", count);
    printf("izin_bytes %zu\n", bytes);
    printf("izin_bytes_per_consent %.2f\n", (double)bytes / (double)count);

    uint8_t *out = iz_xmalloc(l->n);
    /* Best of three passes over the 10M keys: the first also warms the
     * page tables of the freshly built table. */
    double best = 1e9;
    for (int pass = 0; pass < 3; pass++) {
        t0 = now_s();
        for (size_t i = 0; i < l->n; i += CALL_BATCH) {
            size_t m = l->n - i < CALL_BATCH ? l->n - i : CALL_BATCH;
            iz_index_get_phones(ix, brand, IZ_MESAJ, IZ_BIREYSEL, l->key + i, m, out + i);
        }
        double t = now_s() - t0;
        if (t < best) best = t;
    }
    printf("izin_lookups %zu\n", l->n);
    printf("izin_lookup_s %.4f\n", best);
    printf("izin_rate %.0f\n", (double)l->n / best);
    printf("izin_mismatch %zu\n", mismatches(out, l->want, l->n));

    /* The text path (normalized strings, packed inside the index), as a
     * caller holding E.164 strings would use it. */
    char(*txt)[16] = iz_xmalloc(l->n * sizeof *txt);
    const char **ptr = iz_xmalloc(l->n * sizeof *ptr);
    for (size_t j = 0; j < l->n; j++) {
        txt[j][format_number(l->x[j], txt[j])] = '\0';
        ptr[j] = txt[j];
    }
    memset(out, 0xff, l->n);
    t0 = now_s();
    for (size_t i = 0; i < l->n; i += CALL_BATCH) {
        size_t m = l->n - i < CALL_BATCH ? l->n - i : CALL_BATCH;
        iz_index_get_many(ix, brand, IZ_MESAJ, IZ_BIREYSEL, ptr + i, m, out + i);
    }
    double t = now_s() - t0;
    printf("izin_text_rate %.0f\n", (double)l->n / t);
    printf("izin_text_mismatch %zu\n", mismatches(out, l->want, l->n));

    /* The baseline of the batched path, in the same run: one key a call
     * (a read lock and a probe each), as the text/plain check looked its
     * recipients up before the domain layer batched them. */
    memset(out, 0xff, l->n);
    t0 = now_s();
    for (size_t j = 0; j < l->n; j++)
        out[j] = (uint8_t)iz_index_get(ix, brand, IZ_MESAJ, IZ_BIREYSEL, ptr[j]);
    t = now_s() - t0;
    printf("izin_single_rate %.0f\n", (double)l->n / t);
    printf("izin_single_mismatch %zu\n", mismatches(out, l->want, l->n));
    free(txt);
    free(ptr);
    free(out);
    iz_index_free(ix);
}

/* ---- SQLite baseline ------------------------------------------------------------------------- */

static void bench_sqlite(const opts_t *o, int64_t brand, const lookups_t *l)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/izin.db", o->data);
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) die("open", path);
    sqlite3_stmt *st;
    sq_check(db,
             sqlite3_prepare_v2(db,
                                "SELECT status FROM consent_state WHERE brand_id = ?1 AND"
                                " recipient = ?2 AND rtype = 'BIREYSEL' AND type = 'MESAJ'",
                                -1, &st, NULL),
             "prepare select");
    size_t n = o->sqlite_lookups < l->n ? o->sqlite_lookups : l->n;
    uint8_t *out = iz_xmalloc(n ? n : 1);
    char num[16];
    double t0 = now_s();
    for (size_t j = 0; j < n; j++) {
        size_t len = format_number(l->x[j], num);
        sqlite3_bind_int64(st, 1, brand);
        sqlite3_bind_text(st, 2, num, (int)len, SQLITE_STATIC);
        out[j] = IZ_STATUS_NONE;
        if (sqlite3_step(st) == SQLITE_ROW) {
            const unsigned char *s = sqlite3_column_text(st, 0);
            out[j] = s && s[0] == 'O' ? IZ_ONAY : IZ_RET;
        }
        sqlite3_reset(st);
    }
    double t = now_s() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    printf("sqlite_lookups %zu\n", n);
    printf("sqlite_rate %.0f\n", n ? (double)n / t : 0.0);
    printf("sqlite_mismatch %zu\n", mismatches(out, l->want, n));
    free(out);
}

/* ---- Redis baseline ----------------------------------------------------------------------------
 */

#define PIPE 1000

static redisContext *redis_connect(const char *hostport)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= sizeof host) die("bad --redis", hostport);
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    int port = atoi(colon + 1);
    for (int tries = 0; tries < 100; tries++) { /* the server may still be starting */
        redisContext *c = redisConnect(host, port);
        if (c && !c->err) return c;
        if (c) redisFree(c);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    die("cannot connect to redis", hostport);
    return NULL;
}

/* Read and drop k pipelined replies. */
static void redis_drain(redisContext *c, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        void *r;
        if (redisGetReply(c, &r) != REDIS_OK) die("redis", c->errstr);
        freeReplyObject(r);
    }
}

static void bench_redis(const opts_t *o, const lookups_t *l)
{
    redisContext *c = redis_connect(o->redis);
    /* Small hashes of about 100 fields each: Redis keeps them as compact
     * listpacks, its most memory-frugal layout for many small keys. */
    size_t buckets = o->n / 100 ? o->n / 100 : 1;
    char key[32], field[16];
    double t0 = now_s();
    size_t pending = 0;
    for (size_t i = 0; i < o->n; i++) {
        uint32_t x = number_of(i);
        snprintf(key, sizeof key, "c:%zu", (size_t)x % buckets);
        snprintf(field, sizeof field, "%09u", x);
        redisAppendCommand(c, "HSET %s %s %s", key, field, status_of(x) == IZ_ONAY ? "1" : "2");
        if (++pending == PIPE) {
            redis_drain(c, pending);
            pending = 0;
        }
    }
    redis_drain(c, pending);
    double load = now_s() - t0;
    redisReply *info = redisCommand(c, "INFO memory");
    long long used = -1;
    if (info && info->type == REDIS_REPLY_STRING) {
        const char *p = strstr(info->str, "used_memory:");
        if (p) used = atoll(p + strlen("used_memory:"));
    }
    if (info) freeReplyObject(info);

    size_t n = o->redis_lookups < l->n ? o->redis_lookups : l->n;
    uint8_t *out = iz_xmalloc(n ? n : 1);
    t0 = now_s();
    for (size_t j = 0; j < n; j += PIPE) {
        size_t m = n - j < PIPE ? n - j : PIPE;
        for (size_t k = 0; k < m; k++) {
            uint32_t x = l->x[j + k];
            snprintf(key, sizeof key, "c:%zu", (size_t)x % buckets);
            snprintf(field, sizeof field, "%09u", x);
            redisAppendCommand(c, "HMGET %s %s", key, field);
        }
        for (size_t k = 0; k < m; k++) {
            redisReply *r;
            if (redisGetReply(c, (void **)&r) != REDIS_OK) die("redis", c->errstr);
            out[j + k] = IZ_STATUS_NONE;
            if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
                r->element[0]->type == REDIS_REPLY_STRING)
                out[j + k] = r->element[0]->str[0] == '1' ? IZ_ONAY : IZ_RET;
            freeReplyObject(r);
        }
    }
    double t = now_s() - t0;
    redisFree(c);
    printf("redis_load_s %.3f\n", load);
    printf("redis_bytes_per_consent %.2f\n", used > 0 ? (double)used / (double)o->n : 0.0);
    printf("redis_lookups %zu\n", n);
    printf("redis_rate %.0f\n", n ? (double)n / t : 0.0);
    printf("redis_mismatch %zu\n", mismatches(out, l->want, n));
    free(out);
}

/* ---- main
 * ------------------------------------------------------------------------------------------ */

static size_t size_arg(const char *s, const char *name)
{
    int64_t v;
    if (iz_parse_i64(s, 0, 500000000, &v) != 0) die("bad number for", name);
    return (size_t)v;
}

int main(int argc, char **argv)
{
    opts_t o = {.brand_code = 0,
                .n = 10000000,
                .lookups = 10000000,
                .sqlite_lookups = 500000,
                .redis_lookups = 2000000};
    static const struct option lo[] = {{"data", required_argument, NULL, 'd'},
                                       {"brand-code", required_argument, NULL, 'b'},
                                       {"n", required_argument, NULL, 'n'},
                                       {"lookups", required_argument, NULL, 'l'},
                                       {"sqlite-lookups", required_argument, NULL, 's'},
                                       {"redis", required_argument, NULL, 'r'},
                                       {"redis-lookups", required_argument, NULL, 'R'},
                                       {"check-file", required_argument, NULL, 'c'},
                                       {NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'd':
            o.data = optarg;
            break;
        case 'b':
            o.brand_code = (int64_t)size_arg(optarg, "--brand-code");
            break;
        case 'n':
            o.n = size_arg(optarg, "--n");
            break;
        case 'l':
            o.lookups = size_arg(optarg, "--lookups");
            break;
        case 's':
            o.sqlite_lookups = size_arg(optarg, "--sqlite-lookups");
            break;
        case 'r':
            o.redis = optarg;
            break;
        case 'R':
            o.redis_lookups = size_arg(optarg, "--redis-lookups");
            break;
        case 'c':
            o.check_file = optarg;
            break;
        default:
            return 2;
        }
    }
    if (!o.data || o.brand_code <= 0 || o.n == 0 || o.lookups == 0 || 2 * o.n > SPREAD)
        die("usage: bench_index --data DIR --brand-code CODE [--n N] [--lookups L]"
            " [--sqlite-lookups S] [--redis HOST:PORT] [--redis-lookups R] [--check-file F]",
            NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);

    double load;
    int64_t brand = load_store(&o, &load);
    printf("n %zu\n", o.n);
    printf("store_load_s %.3f\n", load);
    lookups_t l;
    make_lookups(&o, &l);
    printf("expected_allowed %zu\n", l.allowed);
    if (o.check_file) write_check_file(o.check_file, &l);
    bench_izin(&o, brand, &l);
    if (o.sqlite_lookups) bench_sqlite(&o, brand, &l);
    if (o.redis && o.redis_lookups) bench_redis(&o, &l);
    free(l.x);
    free(l.want);
    free(l.key);
    return 0;
}
