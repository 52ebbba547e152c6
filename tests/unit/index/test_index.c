/*
 * test_index.c - unit tests of the send filter's index: SipHash against the
 * reference vectors, phones / foreign phones / e-mails, status replacement,
 * one table per (brand, type, rtype), forced full hash collisions, growth
 * through many doublings (1M phones, 100k texts) within the memory budget,
 * the batched look-ups agreeing with the single one, a build from a real
 * store (also while changes commit), and readers racing a writer.
 */
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../testutil.h"

#include "core/iz.h"
#include "core/recipient.h"
#include "index/index.h"
#include "index/index_int.h"
#include "store/store.h"

static iz_change_t chg(int64_t brand, iz_type_t type, iz_rtype_t rtype, const char *rcp,
                       iz_status_t status)
{
    iz_change_t c;
    memset(&c, 0, sizeof c);
    c.brand_id = brand;
    c.type = type;
    c.rtype = rtype;
    c.status = status;
    snprintf(c.recipient, sizeof c.recipient, "%s", rcp);
    c.source = IZ_HS_WEB;
    c.consent_date = 1700000000;
    c.origin = IZ_ORIGIN_API;
    c.iys_state = IZ_IYS_PENDING;
    return c;
}

static void put(iz_index_t *ix, int64_t brand, iz_type_t type, iz_rtype_t rtype, const char *rcp,
                iz_status_t status)
{
    iz_change_t c = chg(brand, type, rtype, rcp, status);
    assert_int_equal(iz_index_apply(ix, &c), 0);
}

/* The i-th of a run of distinct Turkish mobiles (an odd step modulo 10^9 is
 * a permutation, so numbers never repeat). */
static void phone_i(size_t i, char out[IZ_PHONE_MAX])
{
    unsigned long long x = (unsigned long long)(i * 387420489ull + 12345) % 1000000000ull;
    snprintf(out, IZ_PHONE_MAX, "+905%09llu", x);
}

static void test_siphash_vectors(void **state)
{
    (void)state;
    uint8_t key[16], msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    /* From the SipHash reference implementation's vectors.h. */
    assert_true(iz__index_siphash(key, msg, 0) == 0x726fdb47dd0e0e31ull);
    assert_true(iz__index_siphash(key, msg, 1) == 0x74f839c593dc67fdull);
    assert_true(iz__index_siphash(key, msg, 7) == 0xab0200f58b01d137ull);
    assert_true(iz__index_siphash(key, msg, 8) == 0x93f5f5799a932462ull);
    assert_true(iz__index_siphash(key, msg, 15) == 0xa129ca6149be45e5ull);
    assert_true(iz__index_siphash(key, msg, 63) == 0x958a324ceb064572ull);
}

static void test_kinds(void **state)
{
    (void)state;
    iz_index_t *ix = iz_index_new();
    assert_int_equal(iz_index_get(ix, 1, IZ_MESAJ, IZ_BIREYSEL, "+905321234567"), IZ_STATUS_NONE);
    put(ix, 1, IZ_MESAJ, IZ_BIREYSEL, "+905321234567", IZ_ONAY);
    put(ix, 1, IZ_MESAJ, IZ_BIREYSEL, "+4915123456789", IZ_ONAY);
    put(ix, 1, IZ_EPOSTA, IZ_BIREYSEL, "ali.veli+kampanya@example.com.tr", IZ_RET);
    put(ix, 1, IZ_ARAMA, IZ_BIREYSEL, "+902122223344", IZ_ONAY);

    assert_int_equal(iz_index_get(ix, 1, IZ_MESAJ, IZ_BIREYSEL, "+905321234567"), IZ_ONAY);
    assert_int_equal(iz_index_get(ix, 1, IZ_MESAJ, IZ_BIREYSEL, "+4915123456789"), IZ_ONAY);
    assert_int_equal(
        iz_index_get(ix, 1, IZ_EPOSTA, IZ_BIREYSEL, "ali.veli+kampanya@example.com.tr"), IZ_RET);
    assert_int_equal(iz_index_get(ix, 1, IZ_ARAMA, IZ_BIREYSEL, "+902122223344"), IZ_ONAY);
    /* Near misses are not hits. */
    assert_int_equal(iz_index_get(ix, 1, IZ_MESAJ, IZ_BIREYSEL, "+905321234568"), IZ_STATUS_NONE);
    assert_int_equal(iz_index_get(ix, 1, IZ_MESAJ, IZ_BIREYSEL, "+491512345678"), IZ_STATUS_NONE);
    assert_int_equal(iz_index_get(ix, 1, IZ_EPOSTA, IZ_BIREYSEL, "ali.veli@example.com.tr"),
                     IZ_STATUS_NONE);
    assert_int_equal(iz_index_count(ix), 4);

    /* The packed path answers Turkish numbers; key 0 and out-of-range keys
     * answer NONE. */
    uint64_t keys[4] = {iz_phone_pack("+905321234567"), 0, 10000000000ull, ~0ull};
    uint8_t out[4];
    iz_index_get_phones(ix, 1, IZ_MESAJ, IZ_BIREYSEL, keys, 4, out);
    assert_int_equal(out[0], IZ_ONAY);
    assert_int_equal(out[1], IZ_STATUS_NONE);
    assert_int_equal(out[2], IZ_STATUS_NONE);
    assert_int_equal(out[3], IZ_STATUS_NONE);
    iz_index_free(ix);
}

static void test_replace(void **state)
{
    (void)state;
    iz_index_t *ix = iz_index_new();
    const char *e = "kisi@ornek.com";
    put(ix, 7, IZ_MESAJ, IZ_TACIR, "+905001112233", IZ_ONAY);
    put(ix, 7, IZ_EPOSTA, IZ_TACIR, e, IZ_ONAY);
    put(ix, 7, IZ_MESAJ, IZ_TACIR, "+905001112233", IZ_RET);
    put(ix, 7, IZ_EPOSTA, IZ_TACIR, e, IZ_RET);
    assert_int_equal(iz_index_get(ix, 7, IZ_MESAJ, IZ_TACIR, "+905001112233"), IZ_RET);
    assert_int_equal(iz_index_get(ix, 7, IZ_EPOSTA, IZ_TACIR, e), IZ_RET);
    assert_int_equal(iz_index_count(ix), 2); /* replaced, not added */
    put(ix, 7, IZ_MESAJ, IZ_TACIR, "+905001112233", IZ_ONAY);
    assert_int_equal(iz_index_get(ix, 7, IZ_MESAJ, IZ_TACIR, "+905001112233"), IZ_ONAY);
    assert_int_equal(iz_index_count(ix), 2);
    iz_index_free(ix);
}

static void test_separate_tables(void **state)
{
    (void)state;
    iz_index_t *ix = iz_index_new();
    const char *p = "+905551112233";
    put(ix, 1, IZ_MESAJ, IZ_BIREYSEL, p, IZ_ONAY);
    put(ix, 1, IZ_ARAMA, IZ_BIREYSEL, p, IZ_RET);
    put(ix, 1, IZ_MESAJ, IZ_TACIR, p, IZ_RET);
    put(ix, 2, IZ_MESAJ, IZ_BIREYSEL, p, IZ_RET);
    for (int b = 3; b < 200; b++) /* enough brands to grow the table map */
        put(ix, b, IZ_MESAJ, IZ_BIREYSEL, p, b % 2 ? IZ_ONAY : IZ_RET);
    assert_int_equal(iz_index_get(ix, 1, IZ_MESAJ, IZ_BIREYSEL, p), IZ_ONAY);
    assert_int_equal(iz_index_get(ix, 1, IZ_ARAMA, IZ_BIREYSEL, p), IZ_RET);
    assert_int_equal(iz_index_get(ix, 1, IZ_MESAJ, IZ_TACIR, p), IZ_RET);
    assert_int_equal(iz_index_get(ix, 2, IZ_MESAJ, IZ_BIREYSEL, p), IZ_RET);
    assert_int_equal(iz_index_get(ix, 1, IZ_ARAMA, IZ_TACIR, p), IZ_STATUS_NONE);
    assert_int_equal(iz_index_get(ix, 1, IZ_EPOSTA, IZ_BIREYSEL, p), IZ_STATUS_NONE);
    assert_int_equal(iz_index_get(ix, 9999, IZ_MESAJ, IZ_BIREYSEL, p), IZ_STATUS_NONE);
    for (int b = 3; b < 200; b++)
        assert_int_equal(iz_index_get(ix, b, IZ_MESAJ, IZ_BIREYSEL, p), b % 2 ? IZ_ONAY : IZ_RET);
    /* Absent enum values never find a table. */
    assert_int_equal(iz_index_get(ix, 1, IZ_TYPE_NONE, IZ_BIREYSEL, p), IZ_STATUS_NONE);
    assert_int_equal(iz_index_get(ix, 1, IZ_MESAJ, IZ_RTYPE_NONE, p), IZ_STATUS_NONE);
    iz_index_free(ix);
}

static void test_invalid(void **state)
{
    (void)state;
    iz_index_t *ix = iz_index_new();
    iz_change_t c = chg(1, IZ_MESAJ, IZ_BIREYSEL, "+905321234567", IZ_STATUS_NONE);
    assert_int_equal(iz_index_apply(ix, &c), IZ_EINVAL);
    c = chg(1, IZ_TYPE_NONE, IZ_BIREYSEL, "+905321234567", IZ_ONAY);
    assert_int_equal(iz_index_apply(ix, &c), IZ_EINVAL);
    c = chg(1, IZ_MESAJ, IZ_RTYPE_NONE, "+905321234567", IZ_ONAY);
    assert_int_equal(iz_index_apply(ix, &c), IZ_EINVAL);
    c = chg(0, IZ_MESAJ, IZ_BIREYSEL, "+905321234567", IZ_ONAY);
    assert_int_equal(iz_index_apply(ix, &c), IZ_EINVAL);
    c = chg(1, IZ_MESAJ, IZ_BIREYSEL, "", IZ_ONAY);
    assert_int_equal(iz_index_apply(ix, &c), IZ_EINVAL);
    assert_int_equal(iz_index_apply(ix, NULL), IZ_EINVAL);
    assert_int_equal(iz_index_count(ix), 0);
    assert_int_equal(iz_index_get(ix, 1, IZ_MESAJ, IZ_BIREYSEL, NULL), IZ_STATUS_NONE);
    assert_int_equal(iz_index_get(NULL, 1, IZ_MESAJ, IZ_BIREYSEL, "+905321234567"), IZ_STATUS_NONE);
    iz_index_free(ix);
    iz_index_free(NULL);
}

/* With every text hash forced to 0 all texts share one probe chain and one
 * fragment: only the stored text can tell them apart. */
static void test_forced_collisions(void **state)
{
    (void)state;
    iz_index_t *ix = iz_index_new();
    iz__index_test_hash_mask(ix, 0);
    char buf[64];
    for (int i = 0; i < 300; i++) {
        snprintf(buf, sizeof buf, "kisi%d@ornek.com", i);
        put(ix, 1, IZ_EPOSTA, IZ_BIREYSEL, buf, i % 3 ? IZ_ONAY : IZ_RET);
        snprintf(buf, sizeof buf, "+4930%08d", i);
        put(ix, 1, IZ_MESAJ, IZ_BIREYSEL, buf, i % 3 ? IZ_RET : IZ_ONAY);
    }
    for (int i = 0; i < 300; i++) {
        snprintf(buf, sizeof buf, "kisi%d@ornek.com", i);
        assert_int_equal(iz_index_get(ix, 1, IZ_EPOSTA, IZ_BIREYSEL, buf),
                         i % 3 ? IZ_ONAY : IZ_RET);
        snprintf(buf, sizeof buf, "+4930%08d", i);
        assert_int_equal(iz_index_get(ix, 1, IZ_MESAJ, IZ_BIREYSEL, buf), i % 3 ? IZ_RET : IZ_ONAY);
        snprintf(buf, sizeof buf, "kisi%d@ornek.co", i); /* a prefix of a stored one */
        assert_int_equal(iz_index_get(ix, 1, IZ_EPOSTA, IZ_BIREYSEL, buf), IZ_STATUS_NONE);
        snprintf(buf, sizeof buf, "kisi%d@ornek.comm", i); /* one byte longer */
        assert_int_equal(iz_index_get(ix, 1, IZ_EPOSTA, IZ_BIREYSEL, buf), IZ_STATUS_NONE);
    }
    /* A replace under full collision still hits the right key. */
    put(ix, 1, IZ_EPOSTA, IZ_BIREYSEL, "kisi1@ornek.com", IZ_RET);
    assert_int_equal(iz_index_get(ix, 1, IZ_EPOSTA, IZ_BIREYSEL, "kisi1@ornek.com"), IZ_RET);
    assert_int_equal(iz_index_get(ix, 1, IZ_EPOSTA, IZ_BIREYSEL, "kisi2@ornek.com"), IZ_ONAY);
    assert_int_equal(iz_index_count(ix), 600);
    iz_index_free(ix);
}

static void test_growth_phones(void **state)
{
    (void)state;
    enum { N = 1000000 };
    iz_index_t *ix = iz_index_new();
    char p[IZ_PHONE_MAX];
    for (size_t i = 0; i < N; i++) {
        phone_i(i, p);
        put(ix, 3, IZ_MESAJ, IZ_BIREYSEL, p, i % 10 ? IZ_ONAY : IZ_RET);
    }
    assert_int_equal(iz_index_count(ix), N);
    size_t bytes = iz_index_bytes(ix);
    print_message("1M phones: %zu bytes, %.1f bytes a consent\n", bytes, (double)bytes / N);
    assert_true(bytes <= (size_t)32 * N);

    /* Present keys (even i < N) and absent ones (i >= N) interleaved,
     * through the packed, the text and the single look-ups. */
    enum { M = 200000 };
    uint64_t *keys = malloc(M * sizeof *keys);
    char(*txt)[IZ_PHONE_MAX] = malloc(M * sizeof *txt);
    const char **ptr = malloc(M * sizeof *ptr);
    uint8_t *a = malloc(M), *b = malloc(M);
    assert_true(keys && txt && ptr && a && b);
    for (size_t j = 0; j < M; j++) {
        size_t i = j % 2 ? N + j : j * 4;
        phone_i(i, txt[j]);
        keys[j] = iz_phone_pack(txt[j]);
        ptr[j] = txt[j];
    }
    iz_index_get_phones(ix, 3, IZ_MESAJ, IZ_BIREYSEL, keys, M, a);
    iz_index_get_many(ix, 3, IZ_MESAJ, IZ_BIREYSEL, ptr, M, b);
    for (size_t j = 0; j < M; j++) {
        size_t i = j % 2 ? N + j : j * 4;
        int want = j % 2 ? IZ_STATUS_NONE : (i % 10 ? IZ_ONAY : IZ_RET);
        if (a[j] != want || b[j] != want) fail_msg("key %zu: %d %d, want %d", j, a[j], b[j], want);
        if (j % 1000 == 0)
            assert_int_equal(iz_index_get(ix, 3, IZ_MESAJ, IZ_BIREYSEL, ptr[j]), want);
    }
    free(keys);
    free(txt);
    free(ptr);
    free(a);
    free(b);
    iz_index_free(ix);
}

static void test_growth_texts(void **state)
{
    (void)state;
    enum { N = 100000 };
    iz_index_t *ix = iz_index_new();
    char buf[64];
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "musteri.%d@firma%d.com.tr", i, i % 97);
        put(ix, 5, IZ_EPOSTA, IZ_BIREYSEL, buf, i % 4 ? IZ_ONAY : IZ_RET);
        if (i % 10 == 0) {
            snprintf(buf, sizeof buf, "+1212555%04d%d", i % 10000, i % 7);
            put(ix, 5, IZ_ARAMA, IZ_BIREYSEL, buf, IZ_ONAY);
        }
    }
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "musteri.%d@firma%d.com.tr", i, i % 97);
        assert_int_equal(iz_index_get(ix, 5, IZ_EPOSTA, IZ_BIREYSEL, buf),
                         i % 4 ? IZ_ONAY : IZ_RET);
        snprintf(buf, sizeof buf, "musteri.%d@firma%d.com.tr", i, i % 97 + 1);
        assert_int_equal(iz_index_get(ix, 5, IZ_EPOSTA, IZ_BIREYSEL, buf), IZ_STATUS_NONE);
    }
    assert_int_equal(iz_index_get(ix, 5, IZ_ARAMA, IZ_BIREYSEL, "+121255500000"), IZ_ONAY);
    iz_index_free(ix);
}

/* ---- with a real store ----------------------------------------------------------- */

typedef struct fx {
    char dir[64];
    iz_store_t *st;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/izin-index-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    const char *err = NULL;
    if (iz_test_store_open(f->dir, &f->st, &err) != 0) fail_msg("open: %s", err ? err : "");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    iz_store_close(f->st);
    iz_test_rmtree(f->dir);
    free(f);
    return 0;
}

static const char *const store_keys[] = {"+905321110001", "+905321110002", "+4917612345678",
                                         "a@ornek.com",   "b@ornek.com",   "+902165550000"};

static void store_put(fx_t *f, int64_t brand, iz_type_t type, const char *rcp, iz_status_t s)
{
    iz_change_t c = chg(brand, type, IZ_BIREYSEL, rcp, s);
    c.consent_date = 1700000000 + (int64_t)s; /* a new change, not a repeat */
    int rc = iz_store_consent_apply(f->st, &c, NULL, NULL);
    assert_true(rc == 0 || rc == IZ_REPEAT);
}

static iz_type_t key_type(const char *rcp)
{
    return strchr(rcp, '@') ? IZ_EPOSTA : IZ_MESAJ;
}

/* Every key of store_keys for brands 1..3 agrees between idx and store. */
static void compare(fx_t *f, iz_index_t *ix)
{
    for (int64_t b = 1; b <= 3; b++)
        for (size_t i = 0; i < IZ_ARRAY_LEN(store_keys); i++) {
            iz_type_t t = key_type(store_keys[i]);
            iz_status_t want;
            assert_int_equal(
                iz_store_consent_status(f->st, b, IZ_BIREYSEL, t, store_keys[i], &want), 0);
            assert_int_equal(iz_index_get(ix, b, t, IZ_BIREYSEL, store_keys[i]), want);
        }
}

static void test_build_from_store(void **state)
{
    fx_t *f = *state;
    iz_index_t *live = iz_index_new();
    assert_int_equal(iz_store_subscribe(f->st, iz_index_on_change, live), 0);
    for (int64_t b = 1; b <= 2; b++)
        for (size_t i = 0; i < IZ_ARRAY_LEN(store_keys); i++)
            store_put(f, b, key_type(store_keys[i]), store_keys[i], i % 2 ? IZ_RET : IZ_ONAY);
    store_put(f, 1, IZ_MESAJ, "+905321110001", IZ_RET);  /* ONAY -> RET */
    store_put(f, 2, IZ_MESAJ, "+905321110002", IZ_ONAY); /* RET -> ONAY */

    iz_index_t *built = iz_index_new();
    assert_int_equal(iz_index_build(built, f->st), 0);
    assert_int_equal(iz_index_count(built), 2 * IZ_ARRAY_LEN(store_keys));
    assert_int_equal(iz_index_count(live), iz_index_count(built));
    compare(f, built);
    compare(f, live); /* the hook kept the live one current */

    /* A rebuild replaces the contents: a key applied only to the index (not
     * in the store) is gone afterwards. */
    put(built, 3, IZ_MESAJ, IZ_BIREYSEL, "+905321110001", IZ_ONAY);
    assert_int_equal(iz_index_build(built, f->st), 0);
    assert_int_equal(iz_index_get(built, 3, IZ_MESAJ, IZ_BIREYSEL, "+905321110001"),
                     IZ_STATUS_NONE);
    compare(f, built);
    iz_store_unsubscribe(f->st, iz_index_on_change, live);
    iz_index_free(built);
    iz_index_free(live);
}

/* A build places texts whose hashes all collide: the staged placement must
 * tell them apart by their text too. */
static void test_build_collisions(void **state)
{
    fx_t *f = *state;
    char e[64];
    for (int i = 0; i < 40; i++) {
        snprintf(e, sizeof e, "k%d@ornek.com", i);
        store_put(f, 1, IZ_EPOSTA, e, i % 2 ? IZ_RET : IZ_ONAY);
    }
    iz_index_t *ix = iz_index_new();
    iz__index_test_hash_mask(ix, 0);
    assert_int_equal(iz_index_build(ix, f->st), 0);
    assert_int_equal(iz_index_count(ix), 40);
    for (int i = 0; i < 40; i++) {
        snprintf(e, sizeof e, "k%d@ornek.com", i);
        assert_int_equal(iz_index_get(ix, 1, IZ_EPOSTA, IZ_BIREYSEL, e), i % 2 ? IZ_RET : IZ_ONAY);
    }
    assert_int_equal(iz_index_get(ix, 1, IZ_EPOSTA, IZ_BIREYSEL, "k40@ornek.com"), IZ_STATUS_NONE);
    iz_index_free(ix);
}

typedef struct committer {
    fx_t *f;
    int n;
} committer_t;

static void *commit_thread(void *arg)
{
    committer_t *c = arg;
    for (int i = 0; i < c->n; i++) {
        const char *k = store_keys[i % IZ_ARRAY_LEN(store_keys)];
        store_put(c->f, 3, key_type(k), k, (i / 6) % 2 ? IZ_RET : IZ_ONAY);
    }
    return NULL;
}

/* Rebuilds race commits that reach the index through the hook: when both
 * stop, the index must equal the store. */
static void test_build_while_committing(void **state)
{
    fx_t *f = *state;
    char p[IZ_PHONE_MAX];
    for (size_t i = 0; i < 300; i++) {
        phone_i(i, p);
        store_put(f, 1, IZ_MESAJ, p, IZ_ONAY);
    }
    iz_index_t *ix = iz_index_new();
    assert_int_equal(iz_store_subscribe(f->st, iz_index_on_change, ix), 0);
    committer_t c = {.f = f, .n = 60};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, commit_thread, &c), 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(iz_index_build(ix, f->st), 0);
    pthread_join(th, NULL);
    iz_store_unsubscribe(f->st, iz_index_on_change, ix);
    compare(f, ix);
    assert_int_equal(iz_index_count(ix), 300 + IZ_ARRAY_LEN(store_keys));
    iz_index_free(ix);
}

/* ---- readers racing a writer ---------------------------------------------------- */

enum { STABLE = 20000, FLIP = 1000 };

typedef struct race {
    iz_index_t *ix;
    int stop; /* read and written under mu */
    pthread_mutex_t mu;
    int bad;
} race_t;

static int race_stopped(race_t *r)
{
    pthread_mutex_lock(&r->mu);
    int s = r->stop;
    pthread_mutex_unlock(&r->mu);
    return s;
}

static void *reader(void *arg)
{
    race_t *r = arg;
    uint64_t keys[512];
    uint8_t out[512];
    char p[IZ_PHONE_MAX];
    int bad = 0;
    for (size_t round = 0; !race_stopped(r); round++) {
        for (size_t j = 0; j < 512; j++) {
            phone_i((round * 512 + j) % (STABLE + FLIP), p);
            keys[j] = iz_phone_pack(p);
        }
        iz_index_get_phones(r->ix, 1, IZ_MESAJ, IZ_BIREYSEL, keys, 512, out);
        for (size_t j = 0; j < 512; j++) {
            size_t i = (round * 512 + j) % (STABLE + FLIP);
            if (i < STABLE ? out[j] != IZ_ONAY : out[j] != IZ_ONAY && out[j] != IZ_RET) bad++;
        }
        if (iz_index_get(r->ix, 1, IZ_EPOSTA, IZ_BIREYSEL, "sabit@ornek.com") != IZ_ONAY) bad++;
    }
    pthread_mutex_lock(&r->mu);
    r->bad += bad;
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static void test_readers_and_writer(void **state)
{
    (void)state;
    race_t r = {.ix = iz_index_new()};
    pthread_mutex_init(&r.mu, NULL);
    char p[IZ_PHONE_MAX], e[64];
    for (size_t i = 0; i < STABLE + FLIP; i++) {
        phone_i(i, p);
        put(r.ix, 1, IZ_MESAJ, IZ_BIREYSEL, p, IZ_ONAY);
    }
    put(r.ix, 1, IZ_EPOSTA, IZ_BIREYSEL, "sabit@ornek.com", IZ_ONAY);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reader, &r), 0);
    /* The writer flips statuses and adds new phones and e-mails, so tables,
     * the table map and the arena all grow under the readers. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t n = 0;
    do {
        for (int k = 0; k < 1000; k++, n++) {
            phone_i(STABLE + n % FLIP, p);
            put(r.ix, 1, IZ_MESAJ, IZ_BIREYSEL, p, n % 2 ? IZ_RET : IZ_ONAY);
            phone_i(STABLE + FLIP + n, p);
            put(r.ix, 1, IZ_MESAJ, IZ_BIREYSEL, p, IZ_ONAY);
            snprintf(e, sizeof e, "yeni%zu@ornek.com", n);
            put(r.ix, (int64_t)(2 + n % 50), IZ_EPOSTA, IZ_BIREYSEL, e, IZ_ONAY);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
    } while ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 400);
    pthread_mutex_lock(&r.mu);
    r.stop = 1;
    pthread_mutex_unlock(&r.mu);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(r.bad, 0);
    assert_int_equal(iz_index_count(r.ix), STABLE + FLIP + 1 + 2 * n);
    pthread_mutex_destroy(&r.mu);
    iz_index_free(r.ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_vectors),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_separate_tables),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_forced_collisions),
        cmocka_unit_test(test_growth_phones),
        cmocka_unit_test(test_growth_texts),
        cmocka_unit_test_setup_teardown(test_build_from_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_collisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_while_committing, setup, teardown),
        cmocka_unit_test(test_readers_and_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
