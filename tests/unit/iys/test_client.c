/*
 * test_client.c - the İYS client against the emulator in this process:
 * tokens, answer classes, and the hour without token requests after H084;
 * tokens kept in the store across clients (restarts). Each test has an
 * emulator of its own, so the hourly token limit of one does not reach the
 * next.
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

#include "../testutil.h"
#include "core/iz.h"
#include "iys/client.h"
#include "net/http.h"
#include "sim/sim.h"
#include "sim/simstore.h"

#define IYS_CODE 778001

static char dir[64];
static iz_sim_t *sim;
static iz_http_t *http;
static char url[64];
static iz_holidays_t *hol;

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/izin-client-XXXXXX");
    assert_non_null(mkdtemp(dir));
    iz_sim_store_t *ss;
    const char *err = NULL;
    assert_int_equal(iz_sim_store_open(dir, &ss, &err), 0);
    iz_sim_provider_t p = {.iys_code = IYS_CODE, .subscription = IZ_SUB_ACTIVE};
    strcpy(p.name, "İstemci A.Ş.");
    strcpy(p.username, "client");
    assert_int_equal(iz_sim_provider_add(ss, &p, "client-password"), 0);
    assert_int_equal(iz_sim_brand_add(ss, IYS_CODE, IYS_CODE, "Marka"), 0);
    iz_sim_store_close(ss);
    iz_sim_config_t cfg;
    iz_sim_config_defaults(&cfg);
    cfg.data_dir = dir;
    cfg.rate = 0;
    cfg.token_limit = 2; /* the third token request in an hour is H084 */
    cfg.pull_lag = 0;
    hol = iz_holidays_empty();
    cfg.holidays = hol;
    assert_int_equal(iz_sim_open(&cfg, &sim, &err), 0);
    iz_http_config_t hc = {
        .listen = "127.0.0.1:0", .app = sim, .gate = iz_sim_gate, .on_complete = iz_sim_complete};
    hc.routes = iz_sim_routes(&hc.nroutes);
    assert_int_equal(iz_http_start(&hc, &http, &err), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)iz_http_port(http));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    iz_http_stop(http);
    iz_sim_close(sim);
    iz_holidays_free(hol);
    assert_int_equal(iz_test_rmtree(dir), 0);
    return 0;
}

static iz_iys_t *client(const char *password)
{
    iz_iys_conf_t c = {.iys_code = IYS_CODE, .timeout_ms = 5000, .rate = 100};
    strcpy(c.base_url, url);
    strcpy(c.username, "client");
    strcpy(c.password, password);
    iz_iys_t *cl = NULL;
    assert_int_equal(iz_iys_new(&c, &cl), 0);
    return cl;
}

static void change(iz_change_t *c, const char *recipient, iz_status_t st)
{
    memset(c, 0, sizeof *c);
    strcpy(c->recipient, recipient);
    c->rtype = IZ_BIREYSEL;
    c->type = IZ_MESAJ;
    c->status = st;
    c->source = IZ_HS_WEB;
    c->consent_date = (int64_t)time(NULL) - 3600;
}

static void test_classes_and_tokens(void **state)
{
    (void)state;
    iz_iys_t *a = client("client-password");
    iz_change_t c;
    iz_iys_res_t res = {0};

    /* 1st token request: fine; the add is OK with a transactionId */
    change(&c, "+905370000001", IZ_ONAY);
    iz_iys_consent_add(a, IYS_CODE, &c, &res);
    assert_int_equal(res.cls, IZ_IYS_OK);
    const char *tx = json_string_value(json_object_get(res.body, "transactionId"));
    assert_non_null(tx);
    assert_int_equal(strlen(tx), 64);
    char first[65];
    strcpy(first, tx);
    iz_iys_res_clear(&res);

    /* v2 is idempotent: the same change answers the same transactionId */
    iz_iys_consent_add(a, IYS_CODE, &c, &res);
    assert_int_equal(res.cls, IZ_IYS_OK);
    assert_string_equal(json_string_value(json_object_get(res.body, "transactionId")), first);
    iz_iys_res_clear(&res);

    /* a first RET is İYS's H175: permanent, with the code */
    change(&c, "+905370000002", IZ_RET);
    iz_iys_consent_add(a, IYS_CODE, &c, &res);
    assert_int_equal(res.cls, IZ_IYS_PERMANENT);
    assert_string_equal(res.code, "H175");
    assert_int_equal(res.http, 400);
    iz_iys_res_clear(&res);

    /* the status query and an unknown address */
    iz_iys_status(a, IYS_CODE, "+905370000001", IZ_BIREYSEL, IZ_MESAJ, &res);
    assert_int_equal(res.cls, IZ_IYS_OK);
    assert_string_equal(json_string_value(json_object_get(res.body, "status")), "ONAY");
    iz_iys_res_clear(&res);

    /* the change pull: our own change under source HS, nothing under IYS (204) */
    iz_iys_changes(a, IYS_CODE, "HS", NULL, 1000, &res);
    assert_int_equal(res.cls, IZ_IYS_OK);
    assert_int_equal(json_array_size(json_object_get(res.body, "list")), 1);
    iz_iys_res_clear(&res);
    iz_iys_changes(a, IYS_CODE, "IYS", NULL, 1000, &res);
    assert_int_equal(res.http, 204);
    iz_iys_res_clear(&res);

    /* a wrong password: transient for the change (not its fault), 2nd token request */
    iz_iys_t *b = client("wrong-password");
    change(&c, "+905370000003", IZ_ONAY);
    iz_iys_consent_add(b, IYS_CODE, &c, &res);
    assert_int_equal(res.cls, IZ_IYS_TRANSIENT);
    iz_iys_res_clear(&res);

    /* 3rd token request in the hour: H084; then no token request for an hour */
    iz_iys_t *d = client("client-password");
    iz_iys_consent_add(d, IYS_CODE, &c, &res);
    assert_int_equal(res.cls, IZ_IYS_TRANSIENT);
    assert_string_equal(res.code, "H084");
    iz_iys_res_clear(&res);
    for (int i = 0; i < 3; i++) {
        iz_iys_consent_add(d, IYS_CODE, &c, &res);
        assert_int_equal(res.cls, IZ_IYS_TRANSIENT);
        assert_int_equal(res.http, 0); /* nothing was sent */
        assert_string_equal(res.code, "H084");
        iz_iys_res_clear(&res);
    }
    iz_iys_counts_t n;
    iz_iys_counts_get(d, &n);
    assert_int_equal(n.token_blocked, 3);
    assert_int_equal(n.rate_limited, 1);

    /* the client that holds a token goes on working */
    iz_iys_consent_add(a, IYS_CODE, &c, &res);
    assert_int_equal(res.cls, IZ_IYS_OK);
    iz_iys_res_clear(&res);
    iz_iys_free(a);
    iz_iys_free(b);
    iz_iys_free(d);
}

static void test_no_answer_is_transient(void **state)
{
    (void)state;
    iz_iys_conf_t c = {.iys_code = IYS_CODE, .timeout_ms = 500, .rate = 100};
    strcpy(c.base_url, "http://127.0.0.1:1"); /* nothing listens there */
    strcpy(c.username, "client");
    strcpy(c.password, "client-password");
    iz_iys_t *cl = NULL;
    assert_int_equal(iz_iys_new(&c, &cl), 0);
    iz_change_t ch;
    change(&ch, "+905370000009", IZ_ONAY);
    iz_iys_res_t res = {0};
    iz_iys_consent_add(cl, IYS_CODE, &ch, &res);
    assert_int_equal(res.cls, IZ_IYS_TRANSIENT);
    assert_int_equal(res.http, 0);
    iz_iys_res_clear(&res);
    iz_iys_free(cl);
}

/* ---- tokens kept in the store ------------------------------------------- */

/* The module's store in the test's directory, with one account (the
 * tokens' owner). */
static iz_store_t *module_store(int64_t *account_id)
{
    char mod[96];
    snprintf(mod, sizeof mod, "%s/mod", dir);
    iz_store_t *st = NULL;
    const char *err = NULL;
    assert_int_equal(iz_test_store_open(mod, &st, &err), 0);
    iz_account_t a = {.iys_code = IYS_CODE};
    strcpy(a.name, "acme");
    assert_int_equal(iz_store_account_add(st, &a), 0);
    *account_id = a.id;
    return st;
}

/* A client as `izin serve` makes one at each start: the store keeps its
 * tokens. base is the URL as the account gives it. */
static iz_iys_t *stored_client(iz_store_t *st, int64_t account_id, const char *base,
                               const char *user, const char *password)
{
    iz_iys_conf_t c = {.iys_code = IYS_CODE,
                       .timeout_ms = 5000,
                       .rate = 100,
                       .store = st,
                       .account_id = account_id};
    snprintf(c.base_url, sizeof c.base_url, "%s", base);
    strcpy(c.username, user);
    strcpy(c.password, password);
    iz_iys_t *cl = NULL;
    assert_int_equal(iz_iys_new(&c, &cl), 0);
    return cl;
}

/* How many token pairs the emulator has issued (it keeps each access
 * token's hash until it expires). */
/* The emulator's tokens are JSON Web Tokens: three dot-separated parts of
 * base64url, longer than the 64 hex digits older emulators issued. */
static bool is_jwt(const char *t)
{
    size_t dots = 0, n = strlen(t);
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (c == '.')
            dots++;
        else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_'))
            return false;
    }
    return dots == 2 && n > 64;
}

static int64_t issued(void)
{
    char path[128];
    snprintf(path, sizeof path, "file:%s/iys-sim.db?mode=ro", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    int64_t n = -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_busy_timeout(db, 5000), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM tokens WHERE kind = 'access'", -1,
                                        &stmt, NULL),
                     SQLITE_OK);
    if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

/* One v2 add of a fresh address; returns its class, the answer in *res. */
static iz_iys_class_t add_one(iz_iys_t *cl, const char *recipient, iz_iys_res_t *res)
{
    iz_change_t c;
    change(&c, recipient, IZ_ONAY);
    iz_iys_res_clear(res);
    iz_iys_consent_add(cl, IYS_CODE, &c, res);
    return res->cls;
}

/* A new client (a restart) goes on with the pair the last one kept, for the
 * same İYS and user only; an H084 hour outlives the client too. The
 * emulator allows 2 token requests an hour here. */
static void test_tokens_outlive_the_client(void **state)
{
    (void)state;
    int64_t acc;
    iz_store_t *st = module_store(&acc);
    iz_iys_res_t res = {0};
    int64_t now = (int64_t)time(NULL);

    /* the first start logs in (token request 1) and keeps the pair */
    iz_iys_t *a = stored_client(st, acc, url, "client", "client-password");
    assert_int_equal(add_one(a, "+905370000101", &res), IZ_IYS_OK);
    assert_int_equal(issued(), 1);
    iz_iys_token_t t;
    assert_int_equal(iz_store_iys_token_get(st, acc, url, "client", &t), 0);
    assert_true(is_jwt(t.access));
    assert_true(is_jwt(t.refresh));
    assert_true(t.access_exp >= now + 7200 - 5 && t.access_exp <= now + 7200 + 5);
    assert_true(t.refresh_exp > t.access_exp);
    assert_int_equal(t.blocked_until, 0);
    iz_iys_free(a);

    /* restarts, with the URL written with a trailing slash too: no token
     * request, the kept access token does */
    for (int i = 0; i < 5; i++) {
        char u[80], rcp[16];
        snprintf(u, sizeof u, "%s%s", url, i % 2 ? "/" : "");
        snprintf(rcp, sizeof rcp, "+90537000011%d", i);
        iz_iys_t *b = stored_client(st, acc, u, "client", "client-password");
        assert_int_equal(add_one(b, rcp, &res), IZ_IYS_OK);
        iz_iys_free(b);
    }
    assert_int_equal(issued(), 1);

    /* another user of the account (its settings changed): the pair is not
     * theirs, so it is not offered; this one asks (request 2, refused) */
    iz_iys_t *c = stored_client(st, acc, url, "nobody", "not-the-password");
    assert_int_equal(add_one(c, "+905370000120", &res), IZ_IYS_TRANSIENT);
    assert_int_equal(res.http, 400);
    iz_iys_free(c);
    assert_int_equal(iz_store_iys_token_get(st, acc, url, "client", &t), IZ_ENOTFOUND);
    assert_int_equal(iz_store_iys_token_get(st, acc, url, "nobody", &t), 0);
    assert_string_equal(t.access, "");
    assert_string_equal(t.refresh, "");

    /* back to the first user: its pair went with the change, so a new
     * login (request 3) - over the limit: H084, kept */
    iz_iys_t *d = stored_client(st, acc, url, "client", "client-password");
    assert_int_equal(add_one(d, "+905370000121", &res), IZ_IYS_TRANSIENT);
    assert_string_equal(res.code, "H084");
    assert_int_equal(res.http, 429);
    iz_iys_free(d);
    assert_int_equal(iz_store_iys_token_get(st, acc, url, "client", &t), 0);
    assert_true(t.blocked_until >= now + 3600 - 5);

    /* the next start asks for nothing inside the hour (a request there
     * would restart it) */
    iz_iys_t *e = stored_client(st, acc, url, "client", "client-password");
    assert_int_equal(add_one(e, "+905370000122", &res), IZ_IYS_TRANSIENT);
    assert_string_equal(res.code, "H084");
    assert_int_equal(res.http, 0);
    iz_iys_counts_t n;
    iz_iys_counts_get(e, &n);
    assert_int_equal(n.token_blocked, 1);
    assert_int_equal(n.rate_limited, 0);
    iz_iys_free(e);
    assert_int_equal(issued(), 1);

    /* without a store nothing is kept: the client starts empty (here: it
     * asks, and is refused within the hour) */
    iz_iys_t *m = client("client-password");
    assert_int_equal(add_one(m, "+905370000123", &res), IZ_IYS_TRANSIENT);
    assert_int_equal(res.http, 429);
    iz_iys_free(m);
    iz_iys_res_clear(&res);
    iz_wipe(&t, sizeof t);
    iz_store_close(st);
}

/* A kept pair İYS no longer takes (its store was reset, the tokens
 * revoked): the call's 401 gets one new pair - the refresh token refused,
 * then the password - and the new pair replaces the dead one. */
static void test_a_dead_stored_token_is_replaced(void **state)
{
    (void)state;
    int64_t acc;
    iz_store_t *st = module_store(&acc);
    iz_iys_token_t t = {.access_exp = (int64_t)time(NULL) + 3600,
                        .refresh_exp = (int64_t)time(NULL) + 7200};
    strcpy(t.base_url, url);
    strcpy(t.username, "client");
    strcpy(t.access, "0000000000000000000000000000000000000000000000000000000000000000");
    strcpy(t.refresh, "1111111111111111111111111111111111111111111111111111111111111111");
    assert_int_equal(iz_store_iys_token_put(st, acc, &t), 0);
    iz_iys_res_t res = {0};
    iz_iys_t *a = stored_client(st, acc, url, "client", "client-password");
    assert_int_equal(add_one(a, "+905370000201", &res), IZ_IYS_OK);
    iz_iys_free(a);
    assert_int_equal(issued(), 1);
    iz_iys_token_t g;
    assert_int_equal(iz_store_iys_token_get(st, acc, url, "client", &g), 0);
    assert_true(is_jwt(g.access));
    assert_string_not_equal(g.access, t.access);
    assert_string_not_equal(g.refresh, t.refresh);
    /* and the next start goes on with it */
    iz_iys_t *b = stored_client(st, acc, url, "client", "client-password");
    assert_int_equal(add_one(b, "+905370000202", &res), IZ_IYS_OK);
    iz_iys_free(b);
    assert_int_equal(issued(), 1);
    iz_iys_res_clear(&res);
    iz_wipe(&g, sizeof g);
    iz_store_close(st);
}

/* An access token near its end is refreshed with the kept refresh token
 * (not the password), and the new pair is kept. */
static void test_a_stored_refresh_token_is_used(void **state)
{
    (void)state;
    int64_t acc;
    iz_store_t *st = module_store(&acc);
    iz_iys_res_t res = {0};
    iz_iys_t *a = stored_client(st, acc, url, "client", "client-password");
    assert_int_equal(add_one(a, "+905370000301", &res), IZ_IYS_OK);
    iz_iys_free(a);
    /* the kept access token about to end (inside the 5-minute margin) */
    iz_iys_token_t t;
    assert_int_equal(iz_store_iys_token_get(st, acc, url, "client", &t), 0);
    char old_refresh[IZ_IYS_TOKEN_MAX];
    strcpy(old_refresh, t.refresh);
    t.access_exp = (int64_t)time(NULL) + 60;
    assert_int_equal(iz_store_iys_token_put(st, acc, &t), 0);
    /* a wrong password: only the refresh grant can succeed */
    iz_iys_t *b = stored_client(st, acc, url, "client", "wrong-password");
    assert_int_equal(add_one(b, "+905370000302", &res), IZ_IYS_OK);
    iz_iys_free(b);
    assert_int_equal(issued(), 2);
    assert_int_equal(iz_store_iys_token_get(st, acc, url, "client", &t), 0);
    assert_string_not_equal(t.refresh, old_refresh); /* İYS rotates it */
    assert_true(t.access_exp > (int64_t)time(NULL) + 7000);
    iz_iys_res_clear(&res);
    iz_wipe(&t, sizeof t);
    iz_wipe(old_refresh, sizeof old_refresh);
    iz_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_classes_and_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_answer_is_transient, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens_outlive_the_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_dead_stored_token_is_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_stored_refresh_token_is_used, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
