/*
 * test_consent_each.c - iz_store_consent_each, the walk over a brand's
 * current consents that izin export writes: only the current record of
 * each key, in key order, one brand, every type or one, a TACIR record
 * without source and date, an early stop, and a walk of many rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../testutil.h"
#include "core/iz.h"
#include "store/store.h"

typedef struct fx {
    char dir[64];
    iz_store_t *st;
} fx_t;

static int fx_up(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/izin-each-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    const char *err = NULL;
    if (iz_test_store_open(f->dir, &f->st, &err) != 0) return -1;
    *state = f;
    return 0;
}

static int fx_down(void **state)
{
    fx_t *f = *state;
    iz_store_close(f->st);
    iz_test_rmtree(f->dir);
    free(f);
    return 0;
}

/* Record one change (accepted by no rule, as the store takes it). */
static void put(fx_t *f, int64_t brand, const char *rcpt, iz_rtype_t rt, iz_type_t ty,
                iz_status_t status, iz_source_t src, int64_t date)
{
    iz_change_t c = {.brand_id = brand,
                     .rtype = rt,
                     .type = ty,
                     .status = status,
                     .source = src,
                     .consent_date = date,
                     .origin = IZ_ORIGIN_API,
                     .iys_state = IZ_IYS_LOCAL};
    snprintf(c.recipient, sizeof c.recipient, "%s", rcpt);
    assert_int_equal(iz_store_consent_apply(f->st, &c, NULL, NULL), 0);
}

/* What the walk saw, one "recipient rtype type status source date" line a
 * row, and when to stop. */
typedef struct seen {
    char text[4096];
    size_t rows, stop_after;
} seen_t;

static int collect(void *ctx, const iz_consent_t *c)
{
    seen_t *s = ctx;
    size_t k = strlen(s->text);
    snprintf(s->text + k, sizeof s->text - k, "%s %s %s %s %s %lld\n", c->recipient,
             iz_rtype_name(c->rtype), iz_type_name(c->type), iz_status_name(c->status),
             c->source ? iz_source_name(c->source) : "-", (long long)c->consent_date);
    s->rows++;
    return s->stop_after && s->rows == s->stop_after ? 77 : 0;
}

static void test_current_in_key_order(void **state)
{
    fx_t *f = *state;
    /* written out of order, over two brands; one key changes twice */
    put(f, 1, "+905329999999", IZ_BIREYSEL, IZ_MESAJ, IZ_ONAY, IZ_HS_WEB, 1700000000);
    put(f, 1, "+905321111111", IZ_BIREYSEL, IZ_MESAJ, IZ_ONAY, IZ_HS_WEB, 1700000000);
    put(f, 1, "+905321111111", IZ_BIREYSEL, IZ_ARAMA, IZ_ONAY, IZ_HS_CAGRI_MERKEZI, 1700000001);
    put(f, 2, "+905321111111", IZ_BIREYSEL, IZ_MESAJ, IZ_RET, IZ_HS_WEB, 1700000002);
    put(f, 1, "+905321111111", IZ_TACIR, IZ_MESAJ, IZ_ONAY, IZ_SOURCE_NONE, 0);
    put(f, 1, "ali@example.com", IZ_BIREYSEL, IZ_EPOSTA, IZ_ONAY, IZ_HS_EORTAM, 1700000003);
    put(f, 1, "+905329999999", IZ_BIREYSEL, IZ_MESAJ, IZ_RET, IZ_HS_MESAJ, 1700000100);

    seen_t s = {0};
    assert_int_equal(iz_store_consent_each(f->st, 1, IZ_TYPE_NONE, collect, &s), 0);
    assert_string_equal(s.text, "+905321111111 BIREYSEL ARAMA ONAY HS_CAGRI_MERKEZI 1700000001\n"
                                "+905321111111 BIREYSEL MESAJ ONAY HS_WEB 1700000000\n"
                                "+905321111111 TACIR MESAJ ONAY - 0\n"
                                "+905329999999 BIREYSEL MESAJ RET HS_MESAJ 1700000100\n"
                                "ali@example.com BIREYSEL EPOSTA ONAY HS_EORTAM 1700000003\n");

    /* one type */
    memset(&s, 0, sizeof s);
    assert_int_equal(iz_store_consent_each(f->st, 1, IZ_MESAJ, collect, &s), 0);
    assert_string_equal(s.text, "+905321111111 BIREYSEL MESAJ ONAY HS_WEB 1700000000\n"
                                "+905321111111 TACIR MESAJ ONAY - 0\n"
                                "+905329999999 BIREYSEL MESAJ RET HS_MESAJ 1700000100\n");

    /* the other brand, and a brand with none */
    memset(&s, 0, sizeof s);
    assert_int_equal(iz_store_consent_each(f->st, 2, IZ_TYPE_NONE, collect, &s), 0);
    assert_string_equal(s.text, "+905321111111 BIREYSEL MESAJ RET HS_WEB 1700000002\n");
    memset(&s, 0, sizeof s);
    assert_int_equal(iz_store_consent_each(f->st, 3, IZ_TYPE_NONE, collect, &s), 0);
    assert_int_equal(s.rows, 0);
    assert_int_equal(iz_store_consent_each(f->st, 1, IZ_EPOSTA, collect, &s), 0);
    assert_int_equal(s.rows, 1);

    /* the callback's non-zero value stops the walk and is returned */
    memset(&s, 0, sizeof s);
    s.stop_after = 2;
    assert_int_equal(iz_store_consent_each(f->st, 1, IZ_TYPE_NONE, collect, &s), 77);
    assert_int_equal(s.rows, 2);

    /* bad arguments */
    assert_int_equal(iz_store_consent_each(f->st, 1, (iz_type_t)99, collect, &s), IZ_EINVAL);
    assert_int_equal(iz_store_consent_each(f->st, 1, IZ_MESAJ, NULL, &s), IZ_EINVAL);
    assert_int_equal(iz_store_consent_each(NULL, 1, IZ_MESAJ, collect, &s), IZ_EINVAL);
}

/* Counts rows and checks that they keep coming in key order (recipient,
 * then type by its name; every row here is BIREYSEL). */
typedef struct order {
    char last[IZ_RECIPIENT_MAX];
    const char *last_type;
    size_t rows;
    bool sorted;
} order_t;

static int in_order(void *ctx, const iz_consent_t *c)
{
    order_t *o = ctx;
    const char *ty = iz_type_name(c->type);
    int by_rcpt = strcmp(o->last, c->recipient);
    if (o->rows && (by_rcpt > 0 || (by_rcpt == 0 && strcmp(o->last_type, ty) >= 0)))
        o->sorted = false;
    snprintf(o->last, sizeof o->last, "%s", c->recipient);
    o->last_type = ty;
    o->rows++;
    return 0;
}

static void test_many(void **state)
{
    fx_t *f = *state;
    /* 20,000 keys in batches, written in a scrambled order; every third
     * recipient has an ARAMA consent too, so that the walk's pages (of
     * 2,000 rows) end between two types of one recipient as well */
    enum { N = 20000, B = 1000 };
    static iz_change_t chg[B];
    static iz_store_apply_t items[B];
    size_t arama = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int b = 0; b < N / B; b++) {
            size_t n = 0;
            for (int i = 0; i < B; i++) {
                int k = (int)(((b * B + i) * 7919L) % N);
                if (pass == 1 && k % 3 != 0) continue;
                chg[n] = (iz_change_t){.brand_id = 5,
                                       .rtype = IZ_BIREYSEL,
                                       .type = pass ? IZ_ARAMA : IZ_MESAJ,
                                       .status = IZ_ONAY,
                                       .source = IZ_HS_WEB,
                                       .consent_date = 1700000000,
                                       .origin = IZ_ORIGIN_BULK,
                                       .iys_state = IZ_IYS_LOCAL};
                snprintf(chg[n].recipient, sizeof chg[n].recipient, "+90532%07d", k);
                items[n] = (iz_store_apply_t){.chg = &chg[n]};
                n++;
            }
            assert_int_equal(iz_store_consent_apply_batch(f->st, items, n), 0);
            if (pass == 1) arama += n;
        }
    order_t o = {.sorted = true};
    assert_int_equal(iz_store_consent_each(f->st, 5, IZ_MESAJ, in_order, &o), 0);
    assert_int_equal(o.rows, N);
    assert_true(o.sorted);
    o = (order_t){.sorted = true};
    assert_int_equal(iz_store_consent_each(f->st, 5, IZ_TYPE_NONE, in_order, &o), 0);
    assert_int_equal(arama, (N + 2) / 3);
    assert_int_equal(o.rows, N + arama);
    assert_true(o.sorted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_current_in_key_order, fx_up, fx_down),
        cmocka_unit_test_setup_teardown(test_many, fx_up, fx_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
