/*
 * test_client.c - the İYS client against the emulator in this process:
 * tokens, answer classes, and the hour without token requests after H084.
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
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes_and_tokens),
        cmocka_unit_test(test_no_answer_is_transient),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
