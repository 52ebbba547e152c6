/*
 * test_sync.c - the sync engine's bulk path and crash reconciliation, against
 * the emulator running in this process on a loopback port.
 *
 * BULK-origin changes go in async bulk requests of at most 1000, their
 * status is polled, and every change ends ACCEPTED with İYS's transactionId
 * or REJECTED with its H-code. Rows left SENDING by a crash are resent with
 * the idempotent v2 single add and reach İYS exactly once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/iz.h"
#include "core/trtime.h"
#include "iys/sync.h"
#include "net/http.h"
#include "sim/sim.h"
#include "sim/simstore.h"
#include "store/store.h"

#include "../testutil.h"

#define IYS_CODE 777001

typedef struct fx {
    char dir[64], simdir[96], moddir[96];
    iz_sim_t *sim;
    iz_http_t *http;
    iz_store_t *st;
    iz_domain_t *dom;
    iz_sync_t *sync; /* the running sync, stopped by stop_sync or, after a failure, teardown */
    iz_brand_t brand;
    char url[64];
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/izin-sync-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->simdir, sizeof f->simdir, "%s/sim", f->dir);
    snprintf(f->moddir, sizeof f->moddir, "%s/mod", f->dir);

    iz_sim_config_t cfg;
    iz_sim_config_defaults(&cfg);
    cfg.data_dir = f->simdir;
    cfg.bulk_delay = 0;
    cfg.pull_lag = 0;
    cfg.rate = 0;
    cfg.token_limit = 0;
    static iz_holidays_t *hol;
    if (!hol) hol = iz_holidays_empty();
    cfg.holidays = hol;
    const char *err = NULL;
    /* The provider is created before the emulator opens its store. */
    iz_sim_store_t *ss;
    assert_int_equal(iz_sim_store_open(f->simdir, &ss, &err), 0);
    iz_sim_provider_t p = {.iys_code = IYS_CODE, .subscription = IZ_SUB_ACTIVE};
    strcpy(p.name, "Test A.Ş.");
    strcpy(p.username, "syncuser");
    assert_int_equal(iz_sim_provider_add(ss, &p, "sync-password"), 0);
    assert_int_equal(iz_sim_brand_add(ss, IYS_CODE, IYS_CODE, "Marka"), 0);
    iz_sim_store_close(ss);
    assert_int_equal(iz_sim_open(&cfg, &f->sim, &err), 0);
    iz_http_config_t hc = {.listen = "127.0.0.1:0",
                           .app = f->sim,
                           .gate = iz_sim_gate,
                           .on_complete = iz_sim_complete};
    hc.routes = iz_sim_routes(&hc.nroutes);
    assert_int_equal(iz_http_start(&hc, &f->http, &err), 0);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u", (unsigned)iz_http_port(f->http));

    assert_int_equal(iz_test_store_open(f->moddir, &f->st, &err), 0);
    iz_account_t a = {.iys_code = IYS_CODE};
    strcpy(a.name, "acme");
    strcpy(a.iys_url, f->url);
    strcpy(a.iys_user, "syncuser");
    strcpy(a.iys_password, "sync-password");
    assert_int_equal(iz_store_account_add(f->st, &a), 0);
    f->brand.account_id = a.id;
    f->brand.code = IYS_CODE;
    strcpy(f->brand.name, "Marka");
    assert_int_equal(iz_store_brand_add(f->st, &f->brand), 0);
    iz_domain_conf_t dc = {.store = f->st, .holidays = hol};
    assert_int_equal(iz_domain_open(&dc, &f->dom, &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    /* A test that failed while its sync ran left it running: stop it
     * before the store it reads is closed. */
    if (f->sync) iz_sync_stop(f->sync);
    iz_domain_close(f->dom);
    iz_store_close(f->st);
    iz_http_stop(f->http);
    iz_sim_close(f->sim);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Add a change of origin BULK (or another) directly to the module's store. */
static int64_t add(fx_t *f, int i, iz_status_t status, iz_origin_t origin, iz_iys_state_t st,
                   int64_t date)
{
    iz_change_t c = {0};
    c.brand_id = f->brand.id;
    snprintf(c.recipient, sizeof c.recipient, "+90536%07d", i);
    c.rtype = IZ_BIREYSEL;
    c.type = IZ_MESAJ;
    c.status = status;
    c.source = IZ_HS_WEB;
    c.consent_date = date;
    c.origin = origin;
    c.iys_state = st;
    assert_int_equal(iz_store_consent_apply(f->st, &c, NULL, NULL), 0);
    return c.id;
}

static iz_sync_t *start_sync(fx_t *f)
{
    iz_sync_conf_t sc = {.pull_interval = 3600,
                         .rate = 1000,
                         .bulk_poll_delay = 0,
                         .timeout_ms = 5000,
                         .retry_max = 1,
                         .holidays = NULL};
    iz_sync_t *s = NULL;
    assert_int_equal(iz_sync_start(f->dom, &sc, &s), 0);
    f->sync = s;
    return s;
}

static void stop_sync(fx_t *f)
{
    iz_sync_stop(f->sync);
    f->sync = NULL;
}

static void wait_drained(fx_t *f, int seconds)
{
    int64_t n = -1;
    for (int i = 0; i < seconds * 20; i++) {
        assert_int_equal(iz_store_outbox_count(f->st, &n), 0);
        if (n == 0) return;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fail_msg("outbox not drained: %lld left", (long long)n);
}

static int64_t sim_count(fx_t *f, const char *sql)
{
    char path[160];
    snprintf(path, sizeof path, "%s/iys-sim.db", f->simdir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void test_bulk_in_requests_of_1000(void **state)
{
    fx_t *f = *state;
    int64_t date = (int64_t)time(NULL) - 3600;
    for (int i = 0; i < 2500; i++)
        add(f, i, IZ_ONAY, IZ_ORIGIN_BULK, IZ_IYS_PENDING, date);
    iz_sync_t *s = start_sync(f);
    wait_drained(f, 60);
    /* The counters move just after the answers' commit that empties the
     * outbox. */
    iz_sync_stats_t stats;
    for (int i = 0; i < 500; i++) {
        iz_sync_stats_get(s, &stats);
        if (stats.accepted + stats.rejected >= 2500) break;
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    stop_sync(f);
    assert_int_equal(stats.accepted, 2500);
    assert_int_equal(stats.rejected, 0);
    /* three requests: 1000 + 1000 + 500, every item once in İYS */
    assert_int_equal(sim_count(f, "SELECT count(*) FROM bulk_requests"), 3);
    assert_int_equal(
        sim_count(f, "SELECT max(n) FROM (SELECT count(*) n FROM bulk_items GROUP BY request_id)"),
        1000);
    assert_int_equal(sim_count(f, "SELECT count(*) FROM consent_log"), 2500);
    iz_change_t c;
    assert_int_equal(
        iz_store_consent_get(f->st, f->brand.id, IZ_BIREYSEL, IZ_MESAJ, "+905360001234", &c), 0);
    assert_int_equal(c.iys_state, IZ_IYS_ACCEPTED);
    assert_int_equal(strlen(c.iys_txid), 64);
}

static void test_business_failure_is_rejected_with_its_code(void **state)
{
    fx_t *f = *state;
    int64_t now = (int64_t)time(NULL);
    /* izin knows an ONAY that never went to İYS; the RET that follows is a
     * first record there: İYS answers H175 for that item only. */
    add(f, 1, IZ_ONAY, IZ_ORIGIN_BULK, IZ_IYS_LOCAL, now - 7200);
    int64_t ret = add(f, 1, IZ_RET, IZ_ORIGIN_BULK, IZ_IYS_PENDING, now - 3600);
    add(f, 2, IZ_ONAY, IZ_ORIGIN_BULK, IZ_IYS_PENDING, now - 3600);
    start_sync(f);
    wait_drained(f, 30);
    stop_sync(f);
    iz_change_t *h = NULL;
    size_t n = 0;
    assert_int_equal(iz_store_consent_history(f->st, f->brand.id, IZ_BIREYSEL, IZ_MESAJ,
                                              "+905360000001", &h, &n),
                     0);
    assert_int_equal(n, 2);
    assert_int_equal(h[0].id, ret);
    assert_int_equal(h[0].iys_state, IZ_IYS_REJECTED);
    assert_string_equal(h[0].iys_error, "H175");
    free(h);
    iz_change_t c;
    assert_int_equal(
        iz_store_consent_get(f->st, f->brand.id, IZ_BIREYSEL, IZ_MESAJ, "+905360000002", &c), 0);
    assert_int_equal(c.iys_state, IZ_IYS_ACCEPTED);
}

static void test_rows_left_sending_are_reconciled_once(void **state)
{
    fx_t *f = *state;
    int64_t date = (int64_t)time(NULL) - 3600;
    int64_t ids[50];
    for (int i = 0; i < 50; i++)
        ids[i] = add(f, 100 + i, IZ_ONAY, IZ_ORIGIN_BULK, IZ_IYS_PENDING, date);
    /* The first 20 reached İYS before the "crash" (sent by a first engine
     * that was stopped), then every row is put back as SENDING: nobody
     * knows any more which were posted. */
    start_sync(f);
    wait_drained(f, 30);
    stop_sync(f);
    assert_int_equal(sim_count(f, "SELECT count(*) FROM consent_log"), 50);
    for (int i = 0; i < 50; i++) {
        add(f, 200 + i, IZ_ONAY, IZ_ORIGIN_BULK, IZ_IYS_PENDING, date);
    }
    /* rows 200..249 are marked SENDING without being posted */
    iz_outbox_item_t *list = NULL;
    size_t n = 0;
    assert_int_equal(iz_store_outbox_due(f->st, INT64_MAX, f->brand.account_id, false, 1000, &list, &n), 0);
    assert_int_equal(n, 50);
    int64_t pend[50];
    for (size_t i = 0; i < n; i++)
        pend[i] = list[i].chg.id;
    free(list);
    assert_int_equal(iz_store_outbox_mark(f->st, pend, 25, "SENDING", NULL, 1), 0);
    (void)ids;
    start_sync(f);
    wait_drained(f, 30);
    stop_sync(f);
    /* 100 addresses, each exactly once in İYS, no failure answered */
    assert_int_equal(sim_count(f, "SELECT count(*) FROM consent_log"), 100);
    assert_int_equal(sim_count(f, "SELECT count(DISTINCT recipient) FROM consent_log"), 100);
    iz_change_t c;
    assert_int_equal(
        iz_store_consent_get(f->st, f->brand.id, IZ_BIREYSEL, IZ_MESAJ, "+905360000210", &c), 0);
    assert_int_equal(c.iys_state, IZ_IYS_ACCEPTED);
    assert_int_equal(strlen(c.iys_txid), 64);
}

/* ---- a pull page izin cannot fully read ----------------------------------- */

/* A hand-made İYS that answers a token and one change page: one readable
 * change, two that cannot be applied, then nothing more (204). */
static int pulls;

static void fake_token(iz_req_t *r, void *app)
{
    (void)app;
    iz_reply_json(r, 200,
                  json_pack("{s:s, s:s, s:i, s:i, s:s}", "access_token", "a", "refresh_token", "r",
                            "expires_in", 7200, "refresh_expires_in", 14400, "token_type",
                            "bearer"));
}

static void fake_changes(iz_req_t *r, void *app)
{
    (void)app;
    const char *after = iz_req_query(r, "after"), *source = iz_req_query(r, "source");
    if (after || !source || strcmp(source, "IYS") != 0) {
        iz_reply_bytes(r, 204, NULL, "", 0);
        return;
    }
    __atomic_add_fetch(&pulls, 1, __ATOMIC_SEQ_CST);
    char date[IZ_DATETIME_LEN];
    iz_tr_format((int64_t)time(NULL) - 60, date);
    iz_reply_json(r, 200,
                  json_pack("{s:s, s:[{s:s, s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s}, s]}",
                            "after", "1767600000_abc", "list", "recipient", "+905360009999",
                            "type", "MESAJ", "status", "RET", "source", "IYS_WEB", "consentDate",
                            date, "transactionId", "t-ok", "recipient", "+905360009998", "type",
                            "FAKS", "status", "RET", "garbage"));
}

static void test_unreadable_changes_quarantined_before_the_cursor_moves(void **state)
{
    fx_t *f = *state;
    static const iz_route_t routes[] = {
        {"POST", "/oauth2/token", fake_token, 0, NULL},
        {"GET", "/sps/{iysCode}/brands/{brandCode}/consents/changes", fake_changes, 0, NULL},
    };
    iz_http_config_t hc = {.listen = "127.0.0.1:0", .routes = routes, .nroutes = 2};
    iz_http_t *fake = NULL;
    const char *err = NULL;
    assert_int_equal(iz_http_start(&hc, &fake, &err), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)iz_http_port(fake));
    /* the account's İYS is the fake one (as a default URL for a new account) */
    iz_account_t a = {.iys_code = 777002};
    strcpy(a.name, "fake");
    strcpy(a.iys_url, url);
    strcpy(a.iys_user, "u");
    strcpy(a.iys_password, "p");
    assert_int_equal(iz_store_account_add(f->st, &a), 0);
    iz_brand_t b = {.account_id = a.id, .code = 777002};
    strcpy(b.name, "Sahte");
    assert_int_equal(iz_store_brand_add(f->st, &b), 0);
    start_sync(f);
    char cursor[300] = "";
    for (int i = 0; i < 200 && !cursor[0]; i++) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
        assert_int_equal(iz_store_cursor_get(f->st, b.id, "IYS", cursor, sizeof cursor), 0);
    }
    stop_sync(f);
    iz_http_stop(fake);
    /* the cursor moved past the page only with every item applied or kept */
    assert_string_equal(cursor, "1767600000_abc");
    assert_int_equal(__atomic_load_n(&pulls, __ATOMIC_SEQ_CST), 1);
    iz_quarantine_t *q = NULL;
    size_t n = 0;
    assert_int_equal(iz_store_quarantine_list(f->st, b.id, 0, 10, &q, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(q[0].via, "pull");
    assert_string_equal(q[0].source, "IYS");
    assert_non_null(strstr(q[0].raw, "FAKS"));
    assert_string_equal(q[1].raw, "\"garbage\"");
    iz_store_quarantine_free(q, n);
    iz_change_t c;
    assert_int_equal(
        iz_store_consent_get(f->st, b.id, IZ_BIREYSEL, IZ_MESAJ, "+905360009999", &c), 0);
    assert_int_equal(c.origin, IZ_ORIGIN_IYS);
    assert_int_equal(c.status, IZ_RET);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bulk_in_requests_of_1000, setup, teardown),
        cmocka_unit_test_setup_teardown(test_business_failure_is_rejected_with_its_code, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rows_left_sending_are_reconciled_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_changes_quarantined_before_the_cursor_moves,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
