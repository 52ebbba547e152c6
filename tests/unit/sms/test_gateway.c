/*
 * test_gateway.c - the SMS gateway adapters: spec parsing and its refusals,
 * the log sink's lines, and Kannel's sendsms and the JSON POST against a
 * stand-in gateway served on loopback by this process (what arrives, the
 * delivery report URL Kannel is given, the start-up probe, and the fate of
 * a message the gateway refused, could not be reached for, or did not
 * answer in time - UNKNOWN, never retried - without secrets).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>

#include "core/iz.h"
#include "net/http.h"
#include "sms/gateway.h"

/* ---- the stand-in gateway ---------------------------------------------- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int hits;
static char got[10][512]; /* username password from to text charset coding smsc dlr-mask dlr-url */
static char got_body[1024];
static int answer_status = 202;

static const char *const kannel_params[10] = {"username", "password", "from",   "to",
                                              "text",     "charset",  "coding", "smsc",
                                              "dlr-mask", "dlr-url"};

/* Kannel's sendsms as 1.4.5 answers: 403 for a wrong password, 400 for no
 * receiver, else 202 (or answer_status). */
static void h_sendsms(iz_req_t *r, void *app)
{
    (void)app;
    pthread_mutex_lock(&mu);
    hits++;
    for (int i = 0; i < 10; i++) {
        const char *v = iz_req_query(r, kannel_params[i]);
        snprintf(got[i], sizeof got[i], "%s", v ? v : "(none)");
    }
    int st = answer_status;
    pthread_mutex_unlock(&mu);
    const char *pw = iz_req_query(r, "password");
    const char *body = "0: Accepted for delivery";
    if (!pw || strcmp(pw, "s3cr&t") != 0 || st == 403) {
        st = 403;
        body = "Authorization failed for sendsms";
    } else if (!iz_req_query(r, "to")) {
        st = 400;
        body = "Missing receiver number, rejected";
    } else if (st != 202) {
        body = "Internal error";
    }
    iz_reply_bytes(r, st, "text/html", body, strlen(body));
}

/* A gateway that takes the request and answers too late. */
static void h_slow(iz_req_t *r, void *app)
{
    (void)app;
    pthread_mutex_lock(&mu);
    hits++;
    pthread_mutex_unlock(&mu);
    usleep(1500 * 1000);
    iz_reply_bytes(r, 202, "text/html", "0: Accepted for delivery", 24);
}

static void h_json(iz_req_t *r, void *app)
{
    (void)app;
    size_t len = 0;
    const char *b = iz_req_body(r, &len);
    pthread_mutex_lock(&mu);
    hits++;
    snprintf(got_body, sizeof got_body, "%.*s", (int)len, b ? b : "");
    snprintf(got[0], sizeof got[0], "%s",
             iz_req_header(r, "Content-Type") ? iz_req_header(r, "Content-Type") : "");
    int st = answer_status;
    pthread_mutex_unlock(&mu);
    iz_reply_json(r, st == 202 ? 200 : st, json_pack("{s:b}", "ok", st == 202));
}

static const iz_route_t routes[] = {
    {"GET", "/cgi-bin/sendsms", h_sendsms, 0, "sendsms"},
    {"GET", "/slow/sendsms", h_slow, 0, "slow"},
    {"POST", "/sms", h_json, 0, "json"},
};

static iz_http_t *http;
static unsigned port;
static char dir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/izin-gw-XXXXXX");
    assert_non_null(mkdtemp(dir));
    iz_http_config_t hc = {.listen = "127.0.0.1:0", .routes = routes, .nroutes = 3};
    const char *err = NULL;
    assert_int_equal(iz_http_start(&hc, &http, &err), 0);
    port = iz_http_port(http);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    iz_http_stop(http);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static bool is_hex32(const char *id)
{
    if (strlen(id) != 32) return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    return true;
}

/* ---- tests --------------------------------------------------------------- */

static void test_bad_specs(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "foo:bar",
        "log:",
        "kannel:ftp://h/cgi-bin/sendsms?username=u&password=p",
        "kannel:http://h/cgi-bin/sendsms",
        "kannel:http://h/cgi-bin/sendsms?username=u",
        "kannel:http://h/cgi-bin/sendsms?username=&password=p",
        "kannel:http://h/cgi-bin/sendsms?username=u&password=p&to=123",
        "kannel:http://h/cgi-bin/sendsms?username=u&password=p&coding=0",
        "kannel:http://h/cgi-bin/sendsms?username=u&password=p&dlr-mask=3",
        "kannel:http://h/cgi-bin/sendsms?username=u&password=p&dlr-url=http%3A%2F%2Fx",
        "kannel:http:///cgi-bin/sendsms?username=u&password=p",
        "json:http://",
        "json:http://h/a b",
        "json:h/sms",
        "log:/nonexistent-dir-izin/sub/sms.log",
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(bad); i++) {
        iz_sms_gateway_t *gw = (iz_sms_gateway_t *)1;
        const char *err = NULL;
        if (iz_sms_gateway_open(bad[i], dir, &gw, &err) == 0) fail_msg("accepted %s", bad[i]);
        assert_null(gw);
        assert_non_null(err);
        assert_null(strstr(err, "password=p"));
    }
    char *big = malloc(3000);
    memset(big, 'x', 2999);
    memcpy(big, "json:http://h/", 14);
    big[2999] = '\0';
    iz_sms_gateway_t *gw;
    assert_int_not_equal(iz_sms_gateway_open(big, dir, &gw, NULL), 0);
    free(big);
}

/* One message of the tests. */
static iz_sms_out_t out(const char *id, const char *from, const char *text, iz_sms_enc_t enc)
{
    return (iz_sms_out_t){.id = id, .from = from, .to = "+905321234567", .text = text, .enc = enc};
}

static void test_ids(void **state)
{
    (void)state;
    char a[IZ_SMS_ID_MAX], b[IZ_SMS_ID_MAX];
    assert_int_equal(iz_sms_new_id(a), 0);
    assert_int_equal(iz_sms_new_id(b), 0);
    assert_true(is_hex32(a));
    assert_true(is_hex32(b));
    assert_string_not_equal(a, b);
}

static void test_log_sink(void **state)
{
    (void)state;
    iz_sms_gateway_t *gw;
    const char *err = NULL;
    /* no spec: DATA/sms.log */
    assert_int_equal(iz_sms_gateway_open(NULL, dir, &gw, &err), 0);
    assert_int_equal(iz_sms_gateway_text_flags(gw), 0);
    assert_false(iz_sms_gateway_is_kannel(gw));
    char msg[256];
    assert_int_equal(iz_sms_gateway_probe(gw, msg, sizeof msg), 0);
    char shown[512], path[128];
    snprintf(path, sizeof path, "%s/sms.log", dir);
    iz_sms_gateway_describe(gw, shown, sizeof shown);
    char want[160];
    snprintf(want, sizeof want, "log:%s", path);
    assert_string_equal(shown, want);
    char e[128];
    iz_sms_out_t m1 = out("0123456789abcdef0123456789abcdef", "ACME", "Merhaba \"dünya\"\nşğı",
                          IZ_SMS_GSM7_TR);
    assert_int_equal(iz_sms_send(gw, &m1, e, sizeof e, NULL), IZ_SMS_SENT);
    iz_sms_out_t m2 = out("id-2", "4607", "iki", IZ_SMS_GSM7);
    m2.to = "+905329876543";
    assert_int_equal(iz_sms_send(gw, &m2, e, sizeof e, NULL), IZ_SMS_SENT);
    iz_sms_out_t bad = out("id-3", "", "x", IZ_SMS_GSM7);
    assert_int_equal(iz_sms_send(gw, &bad, e, sizeof e, NULL), IZ_SMS_FAILED);
    assert_string_equal(e, "bad arguments");
    bad = out("", "ACME", "x", IZ_SMS_GSM7);
    assert_int_equal(iz_sms_send(gw, &bad, e, sizeof e, NULL), IZ_SMS_FAILED);
    iz_sms_gateway_close(gw);

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        assert_non_null(o);
        assert_int_equal(json_object_size(o), 5);
        const char *t = json_string_value(json_object_get(o, "time"));
        assert_non_null(t);
        assert_int_equal(strlen(t), 19); /* YYYY-MM-DD HH:MM:SS */
        if (n == 0) {
            assert_string_equal(json_string_value(json_object_get(o, "from")), "ACME");
            assert_string_equal(json_string_value(json_object_get(o, "to")), "+905321234567");
            assert_string_equal(json_string_value(json_object_get(o, "text")),
                                "Merhaba \"dünya\"\nşğı");
            assert_string_equal(json_string_value(json_object_get(o, "id")), m1.id);
        }
        json_decref(o);
        n++;
    }
    fclose(f);
    assert_int_equal(n, 2);

    /* an explicit file, appended to */
    char spec[160];
    snprintf(spec, sizeof spec, "log:%s", path);
    assert_int_equal(iz_sms_gateway_open(spec, "/elsewhere", &gw, &err), 0);
    iz_sms_out_t m3 = out("id-4", "ACME", "üç", IZ_SMS_GSM7_TR);
    assert_int_equal(iz_sms_send(gw, &m3, e, sizeof e, NULL), IZ_SMS_SENT);
    iz_sms_gateway_close(gw);
    f = fopen(path, "r");
    n = 0;
    while (fgets(line, sizeof line, f))
        n++;
    fclose(f);
    assert_int_equal(n, 3);
    iz_sms_gateway_close(NULL);
}

static void test_kannel(void **state)
{
    (void)state;
    char spec[256];
    snprintf(spec, sizeof spec,
             "kannel:http://127.0.0.1:%u/cgi-bin/sendsms?username=izin&password=s3cr%%26t&smsc=tr1",
             port);
    iz_sms_gateway_t *gw;
    const char *err = NULL;
    assert_int_equal(iz_sms_gateway_open(spec, dir, &gw, &err), 0);
    assert_true(iz_sms_gateway_is_kannel(gw));
    assert_int_equal(iz_sms_gateway_text_flags(gw),
                     IZ_SMSTEXT_NO_TR_SHIFT | IZ_SMSTEXT_SPLIT_SURROGATES);
    char shown[512];
    iz_sms_gateway_describe(gw, shown, sizeof shown);
    assert_null(strstr(shown, "s3cr"));
    assert_non_null(strstr(shown, "(user izin)"));
    assert_non_null(strstr(shown, "/cgi-bin/sendsms"));

    /* the probe sends nothing: the credentials without a receiver */
    pthread_mutex_lock(&mu);
    hits = 0;
    answer_status = 202;
    pthread_mutex_unlock(&mu);
    char msg[256];
    assert_int_equal(iz_sms_gateway_probe(gw, msg, sizeof msg), 0);
    assert_null(strstr(msg, "s3cr"));
    pthread_mutex_lock(&mu);
    assert_string_equal(got[3], "(none)");
    assert_string_equal(got[4], "(none)");
    pthread_mutex_unlock(&mu);

    char e[128];
    const char *text = "İndirim %50 & fazlası + hediye; ret: RET ACME";
    iz_sms_out_t m = out("0123456789abcdef0123456789abcdef", "ACME A.S.", text, IZ_SMS_UCS2);
    assert_int_equal(iz_sms_send(gw, &m, e, sizeof e, NULL), IZ_SMS_SENT);
    pthread_mutex_lock(&mu);
    assert_int_equal(hits, 2);
    assert_string_equal(got[0], "izin");
    assert_string_equal(got[1], "s3cr&t");
    assert_string_equal(got[2], "ACME A.S.");
    assert_string_equal(got[3], "+905321234567");
    assert_string_equal(got[4], text);
    assert_string_equal(got[5], "UTF-8");
    assert_string_equal(got[6], "2");
    assert_string_equal(got[7], "tr1");
    assert_string_equal(got[8], "(none)"); /* no reports asked for */
    assert_string_equal(got[9], "(none)");
    pthread_mutex_unlock(&mu);

    /* delivery reports: Kannel gets the message id, %d and the token */
    iz_sms_gateway_set_dlr(gw, "http://127.0.0.1:8080/v1/sms/dlr", "tok&en-0123456789");
    m = out("0123456789abcdef0123456789abcdef", "ACME", "plain", IZ_SMS_GSM7);
    assert_int_equal(iz_sms_send(gw, &m, e, sizeof e, NULL), IZ_SMS_SENT);
    pthread_mutex_lock(&mu);
    assert_string_equal(got[6], "0");
    assert_string_equal(got[8], "27");
    assert_string_equal(got[9], "http://127.0.0.1:8080/v1/sms/dlr?id=0123456789abcdef0123456789"
                                "abcdef&status=%d&token=tok%26en-0123456789");
    answer_status = 500;
    pthread_mutex_unlock(&mu);

    /* a refusal: FAILED with the reason, never retried (it reached the
     * gateway: not unsent) */
    bool unsent = true;
    assert_int_equal(iz_sms_send(gw, &m, e, sizeof e, &unsent), IZ_SMS_FAILED);
    assert_string_equal(e, "HTTP 500: Internal error");
    assert_false(unsent);
    pthread_mutex_lock(&mu);
    answer_status = 403;
    pthread_mutex_unlock(&mu);
    assert_int_equal(iz_sms_send(gw, &m, e, sizeof e, NULL), IZ_SMS_FAILED);
    assert_string_equal(e, "HTTP 403: Authorization failed for sendsms");
    pthread_mutex_lock(&mu);
    answer_status = 202;
    assert_int_equal(hits, 5);
    pthread_mutex_unlock(&mu);
    iz_sms_gateway_close(gw);

    /* the probe finds a wrong password, and nobody listening */
    snprintf(spec, sizeof spec,
             "kannel:http://127.0.0.1:%u/cgi-bin/sendsms?username=izin&password=wrong", port);
    assert_int_equal(iz_sms_gateway_open(spec, dir, &gw, &err), 0);
    assert_int_equal(iz_sms_gateway_probe(gw, msg, sizeof msg), IZ_ERULE);
    assert_null(strstr(msg, "wrong"));
    iz_sms_gateway_close(gw);
    assert_int_equal(iz_sms_gateway_open("kannel:http://127.0.0.1:1/cgi-bin/sendsms?username=u&"
                                         "password=p",
                                         dir, &gw, &err),
                     0);
    assert_int_equal(iz_sms_gateway_probe(gw, msg, sizeof msg), IZ_EIO);
    /* not reachable: the message was not sent, and says so (the queue may
     * try it again) */
    assert_int_equal(iz_sms_send(gw, &m, e, sizeof e, &unsent), IZ_SMS_FAILED);
    assert_true(unsent);
    iz_sms_gateway_close(gw);
}

static void test_timeout_is_unknown(void **state)
{
    (void)state;
    char spec[256];
    snprintf(spec, sizeof spec,
             "kannel:http://127.0.0.1:%u/slow/sendsms?username=izin&password=p", port);
    iz_sms_gateway_t *gw;
    assert_int_equal(iz_sms_gateway_open(spec, dir, &gw, NULL), 0);
    iz_sms_gateway_set_timeout(gw, 300);
    pthread_mutex_lock(&mu);
    hits = 0;
    pthread_mutex_unlock(&mu);
    char e[128];
    iz_sms_out_t m = out("id-slow", "ACME", "x", IZ_SMS_GSM7);
    /* it went out and no answer came in time: the gateway may deliver it */
    assert_int_equal(iz_sms_send(gw, &m, e, sizeof e, NULL), IZ_SMS_UNKNOWN);
    assert_string_equal(e, "timeout");
    pthread_mutex_lock(&mu);
    assert_int_equal(hits, 1);
    pthread_mutex_unlock(&mu);
    iz_sms_gateway_close(gw);
    usleep(1600 * 1000); /* the stand-in's late answer */
}

static void test_json(void **state)
{
    (void)state;
    char spec[128];
    snprintf(spec, sizeof spec, "json:http://127.0.0.1:%u/sms", port);
    iz_sms_gateway_t *gw;
    assert_int_equal(iz_sms_gateway_open(spec, dir, &gw, NULL), 0);
    assert_int_equal(iz_sms_gateway_text_flags(gw), 0);
    char e[128];
    iz_sms_out_t m = out("0123456789abcdef0123456789abcdef", "ACME", "Şubat indirimi",
                         IZ_SMS_GSM7_TR);
    assert_int_equal(iz_sms_send(gw, &m, e, sizeof e, NULL), IZ_SMS_SENT);
    pthread_mutex_lock(&mu);
    json_t *o = json_loads(got_body, 0, NULL);
    assert_string_equal(got[0], "application/json");
    pthread_mutex_unlock(&mu);
    assert_non_null(o);
    assert_int_equal(json_object_size(o), 4);
    assert_string_equal(json_string_value(json_object_get(o, "from")), "ACME");
    assert_string_equal(json_string_value(json_object_get(o, "to")), "+905321234567");
    assert_string_equal(json_string_value(json_object_get(o, "text")), "Şubat indirimi");
    assert_string_equal(json_string_value(json_object_get(o, "id")), m.id);
    json_decref(o);

    pthread_mutex_lock(&mu);
    answer_status = 500;
    pthread_mutex_unlock(&mu);
    assert_int_equal(iz_sms_send(gw, &m, e, sizeof e, NULL), IZ_SMS_FAILED);
    assert_true(strncmp(e, "HTTP 500", 8) == 0);
    pthread_mutex_lock(&mu);
    answer_status = 202;
    pthread_mutex_unlock(&mu);
    iz_sms_gateway_close(gw);

    /* nobody listening: not sent, reported, not retried */
    assert_int_equal(iz_sms_gateway_open("json:http://127.0.0.1:1/sms", dir, &gw, NULL), 0);
    assert_int_equal(iz_sms_send(gw, &m, e, sizeof e, NULL), IZ_SMS_FAILED);
    assert_true(e[0] != '\0');
    iz_sms_gateway_close(gw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_specs),  cmocka_unit_test(test_ids),
        cmocka_unit_test(test_log_sink),   cmocka_unit_test(test_kannel),
        cmocka_unit_test(test_timeout_is_unknown), cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
