/*
 * test_webhooks.c - the store's customer webhooks (schema v16): set, read
 * (the secret sealed at rest, opened on request), a new webhook's cursor at
 * the brand's last change, delivery state across a reopen, a failing batch
 * kept and given up on as a dead letter, a retry's outcome, the figures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../testutil.h"
#include <sqlite3.h>

#include "core/iz.h"
#include "store/store.h"

#define SECRET "whsec-unit-0123456789"

typedef struct fx {
    char dir[64];
    iz_store_t *st;
    int64_t brand, other;
} fx_t;

static void reopen(fx_t *f)
{
    const char *err = NULL;
    if (f->st) iz_store_close(f->st);
    f->st = NULL;
    assert_int_equal(iz_test_store_open(f->dir, &f->st, &err), 0);
}

static int64_t brand(fx_t *f, const char *name, int64_t code)
{
    iz_account_t a = {0};
    snprintf(a.name, sizeof a.name, "%s", name);
    assert_int_equal(iz_store_account_add(f->st, &a), 0);
    iz_brand_t b = {0};
    b.account_id = a.id;
    b.code = code;
    snprintf(b.name, sizeof b.name, "%s", name);
    assert_int_equal(iz_store_brand_add(f->st, &b), 0);
    return b.id;
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/izin-hookstore-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    reopen(f);
    f->brand = brand(f, "acme", 700001);
    f->other = brand(f, "other", 700002);
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

static int64_t change(fx_t *f, int64_t brand_id, int i)
{
    iz_change_t c;
    memset(&c, 0, sizeof c);
    c.brand_id = brand_id;
    snprintf(c.recipient, sizeof c.recipient, "+9053200000%02d", i);
    c.rtype = IZ_BIREYSEL;
    c.type = IZ_MESAJ;
    c.status = IZ_ONAY;
    c.source = IZ_HS_WEB;
    c.consent_date = 1767000000;
    c.origin = IZ_ORIGIN_API;
    c.iys_state = IZ_IYS_LOCAL;
    assert_int_equal(iz_store_consent_apply(f->st, &c, NULL, NULL), 0);
    return c.id;
}

/* Whether the file holds s anywhere (the database and its WAL). */
static bool in_files(const fx_t *f, const char *s)
{
    const char *names[] = {"izin.db", "izin.db-wal"};
    for (size_t k = 0; k < 2; k++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", f->dir, names[k]);
        FILE *fp = fopen(p, "rb");
        if (!fp) continue;
        static char buf[1 << 22];
        size_t n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        for (size_t i = 0; i + strlen(s) <= n; i++)
            if (memcmp(buf + i, s, strlen(s)) == 0) return true;
    }
    return false;
}

static void test_put_get_delete(void **state)
{
    fx_t *f = *state;
    iz_webhook_t w;
    bool created = false;
    int64_t before = change(f, f->brand, 1);
    change(f, f->other, 2);
    assert_int_equal(iz_store_webhook_get(f->st, f->brand, false, &w), IZ_ENOTFOUND);
    assert_int_equal(iz_store_webhook_put(f->st, f->brand, "https://a.example/h", SECRET, &created),
                     0);
    assert_true(created);
    assert_int_equal(iz_store_webhook_get(f->st, f->brand, false, &w), 0);
    assert_string_equal(w.url, "https://a.example/h");
    assert_string_equal(w.secret, "");
    assert_int_equal(w.cursor, before); /* the changes after the PUT are delivered */
    int64_t id = w.id;
    reopen(f);
    assert_int_equal(iz_store_webhook_get(f->st, f->brand, true, &w), 0);
    assert_string_equal(w.secret, SECRET);
    assert_false(in_files(f, SECRET));
    /* set again: the same webhook, its delivery state kept */
    assert_int_equal(iz_store_webhook_delivered(f->st, id, before + 5), 0);
    assert_int_equal(
        iz_store_webhook_put(f->st, f->brand, "https://b.example/h", SECRET "x", &created), 0);
    assert_false(created);
    assert_int_equal(iz_store_webhook_get(f->st, f->brand, true, &w), 0);
    assert_int_equal(w.id, id);
    assert_int_equal(w.cursor, before + 5);
    assert_string_equal(w.secret, SECRET "x");
    iz_wipe(w.secret, sizeof w.secret);
    iz_webhook_t *all = NULL;
    size_t n = 0;
    assert_int_equal(iz_store_webhooks_all(f->st, &all, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(all[0].secret, "");
    free(all);
    char big[IZ_WEBHOOK_URL_MAX + 1];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(iz_store_webhook_put(f->st, f->brand, big, SECRET, &created), IZ_ETOOBIG);
    assert_int_equal(iz_store_webhook_put(f->st, 9999, "https://a/", SECRET, &created),
                     IZ_ENOTFOUND);
    assert_int_equal(iz_store_webhook_delete(f->st, f->brand), 0);
    assert_int_equal(iz_store_webhook_delete(f->st, f->brand), IZ_ENOTFOUND);
    assert_int_equal(iz_store_webhook_delivered(f->st, id, before + 9), IZ_ENOTFOUND);
    /* a new webhook is a new one */
    assert_int_equal(iz_store_webhook_put(f->st, f->brand, "https://a.example/h", SECRET, &created),
                     0);
    assert_true(created);
    assert_int_equal(iz_store_webhook_get(f->st, f->brand, false, &w), 0);
    assert_true(w.id != id);
}

static void test_failures_dead_letters_figures(void **state)
{
    fx_t *f = *state;
    iz_webhook_t w;
    assert_int_equal(iz_store_webhook_put(f->st, f->brand, "https://a.example/h", SECRET, NULL), 0);
    assert_int_equal(iz_store_webhook_get(f->st, f->brand, false, &w), 0);
    int64_t c1 = change(f, f->brand, 1), c2 = change(f, f->brand, 2), c3 = change(f, f->brand, 3);
    change(f, f->other, 4);
    iz_webhook_figures_t *fig = NULL;
    size_t n = 0;
    assert_int_equal(iz_store_webhook_figures(f->st, &fig, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(fig[0].brand_code, 700001);
    assert_int_equal(fig[0].backlog, 3);
    assert_int_equal(fig[0].dead, 0);
    free(fig);
    /* two failures of one batch: first failure kept, attempts counted */
    assert_int_equal(
        iz_store_webhook_failed(f->st, w.id, c1, c2, 2, 1000, 6000, 500, "HTTP 500", false), 0);
    assert_int_equal(
        iz_store_webhook_failed(f->st, w.id, c1, c2, 2, 7000, 17000, 0, "timeout", false), 0);
    reopen(f);
    assert_int_equal(iz_store_webhook_get(f->st, f->brand, false, &w), 0);
    assert_int_equal(w.batch_first, c1);
    assert_int_equal(w.batch_last, c2);
    assert_int_equal(w.batch_count, 2);
    assert_int_equal(w.attempts, 2);
    assert_int_equal(w.failing_since_ms, 1000);
    assert_int_equal(w.next_ms, 17000);
    assert_int_equal(w.last_status, 0);
    assert_string_equal(w.last_error, "timeout");
    /* given up on: a dead letter, the cursor past it */
    char longerr[600];
    memset(longerr, 'e', sizeof longerr - 1);
    longerr[sizeof longerr - 1] = '\0';
    assert_int_equal(
        iz_store_webhook_failed(f->st, w.id, c1, c2, 2, 20000, 20000, 503, longerr, true), 0);
    assert_int_equal(iz_store_webhook_get(f->st, f->brand, false, &w), 0);
    assert_int_equal(w.cursor, c2);
    assert_int_equal(w.batch_last, 0);
    assert_int_equal(w.attempts, 0);
    iz_webhook_dead_t *dl = NULL;
    assert_int_equal(iz_store_webhook_dead_list(f->st, f->brand, 0, 100, false, &dl, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(dl[0].first_id, c1);
    assert_int_equal(dl[0].last_id, c2);
    assert_int_equal(dl[0].count, 2);
    assert_int_equal(dl[0].attempts, 3);
    assert_int_equal(dl[0].last_status, 503);
    assert_int_equal(dl[0].created_ms, 1000);
    assert_int_equal(dl[0].dead_ms, 20000);
    assert_int_equal(strlen(dl[0].last_error), IZ_WEBHOOK_ERROR_MAX - 1);
    assert_string_equal(dl[0].last_error + IZ_WEBHOOK_ERROR_MAX - 4, "...");
    assert_false(dl[0].retry);
    int64_t did = dl[0].id;
    free(dl);
    assert_int_equal(iz_store_webhook_figures(f->st, &fig, &n), 0);
    assert_int_equal(fig[0].backlog, 1); /* c3 */
    assert_int_equal(fig[0].dead, 1);
    free(fig);
    /* retries: only the brand's own, asked for, then their outcome */
    assert_int_equal(iz_store_webhook_dead_retry(f->st, f->other, did), IZ_ENOTFOUND);
    assert_int_equal(iz_store_webhook_dead_retry(f->st, f->brand, did), 0);
    assert_int_equal(iz_store_webhook_dead_list(f->st, f->brand, 0, 100, true, &dl, &n), 0);
    assert_int_equal(n, 1);
    assert_true(dl[0].retry);
    free(dl);
    assert_int_equal(iz_store_webhook_dead_done(f->st, did, false, 502, "HTTP 502"), 0);
    assert_int_equal(iz_store_webhook_dead_list(f->st, f->brand, 0, 100, true, &dl, &n), 0);
    assert_int_equal(n, 0);
    free(dl);
    assert_int_equal(iz_store_webhook_dead_list(f->st, f->brand, 0, 100, false, &dl, &n), 0);
    assert_int_equal(dl[0].attempts, 4);
    assert_int_equal(dl[0].last_status, 502);
    free(dl);
    /* the webhook goes; its dead letter stays, and counts */
    assert_int_equal(iz_store_webhook_delete(f->st, f->brand), 0);
    assert_int_equal(iz_store_webhook_figures(f->st, &fig, &n), 0);
    assert_int_equal(n, 1);
    assert_false(fig[0].has_webhook);
    assert_int_equal(fig[0].dead, 1);
    free(fig);
    assert_int_equal(iz_store_webhook_dead_done(f->st, did, true, 200, NULL), 0);
    assert_int_equal(iz_store_webhook_dead_list(f->st, f->brand, 0, 100, false, &dl, &n), 0);
    assert_int_equal(n, 0);
    free(dl);
    /* the cursor never goes back */
    assert_int_equal(iz_store_webhook_put(f->st, f->brand, "https://a.example/h", SECRET, NULL), 0);
    assert_int_equal(iz_store_webhook_get(f->st, f->brand, false, &w), 0);
    assert_int_equal(w.cursor, c3); /* the brand's last change, not the other brand's */
    assert_int_equal(iz_store_webhook_delivered(f->st, w.id, c1), 0);
    assert_int_equal(iz_store_webhook_get(f->st, f->brand, false, &w), 0);
    assert_true(w.cursor >= c3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failures_dead_letters_figures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
