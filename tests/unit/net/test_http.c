/*
 * test_http.c - the HTTP plumbing against a real server on a loopback port:
 * routing with {params}, 404/405, bearer auth, body limits, JSON errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "core/iz.h"
#include "net/http.h"
#include "sys/crypto.h"

static void h_echo(iz_req_t *r, void *app)
{
    (void)app;
    const char *q = iz_req_query(r, "q");
    iz_reply_json(r, 200,
                  json_pack("{s:s, s:s, s:I, s:s?}", "a", iz_req_param(r, "a"), "b",
                            iz_req_param(r, "b"), "acct", (json_int_t)iz_req_account(r), "q", q));
}

static void h_json(iz_req_t *r, void *app)
{
    (void)app;
    json_t *j = iz_req_json(r);
    if (!j) return;
    iz_reply_json(r, 201, j);
}

static void h_silent(iz_req_t *r, void *app)
{
    (void)r;
    (void)app; /* answers nothing: the server must answer 500 for it */
}

static int auth(void *app, const char *token, int64_t *acct)
{
    (void)app;
    if (strcmp(token, "good") != 0) return IZ_ENOTFOUND;
    *acct = 42;
    return 0;
}

static const iz_route_t routes[] = {
    {"GET", "/x/{a}/y/{b}", h_echo, 0, "echo"},
    {"GET", "/auth/{a}/{b}", h_echo, IZ_ROUTE_AUTH, "auth"},
    {"POST", "/json", h_json, 0, "json"},
    {"GET", "/silent", h_silent, 0, "silent"},
};

typedef struct buf {
    char data[65536];
    size_t len;
} buf_t;

static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
    buf_t *b = ud;
    size_t k = sz * n;
    if (b->len + k >= sizeof b->data) k = sizeof b->data - b->len - 1;
    memcpy(b->data + b->len, p, k);
    b->len += k;
    b->data[b->len] = '\0';
    return sz * n;
}

static iz_http_t *srv;

static long request(const char *method, const char *path, const char *auth_hdr, const char *ctype,
                    const char *body, size_t body_len, buf_t *out)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)iz_http_port(srv), path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    if (auth_hdr) h = curl_slist_append(h, auth_hdr);
    if (ctype) h = curl_slist_append(h, ctype);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    out->len = 0;
    out->data[0] = '\0';
    long status = 0;
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static int setup(void **state)
{
    (void)state;
    iz_http_config_t cfg = {.listen = "127.0.0.1:0", .routes = routes,
                            .nroutes = IZ_ARRAY_LEN(routes), .auth = auth, .max_body = 1024};
    const char *err = NULL;
    assert_int_equal(iz_http_start(&cfg, &srv, &err), 0);
    assert_true(iz_http_port(srv) > 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    iz_http_stop(srv);
    return 0;
}

static void test_params_and_query(void **state)
{
    (void)state;
    buf_t b;
    assert_int_equal(request("GET", "/x/one/y/%2B90?q=hello%20world", NULL, NULL, NULL, 0, &b),
                     200);
    json_t *j = json_loads(b.data, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "a")), "one");
    assert_string_equal(json_string_value(json_object_get(j, "b")), "+90");
    assert_string_equal(json_string_value(json_object_get(j, "q")), "hello world");
    assert_int_equal(json_integer_value(json_object_get(j, "acct")), 0);
    json_decref(j);
}

static void test_not_found_and_method(void **state)
{
    (void)state;
    buf_t b;
    assert_int_equal(request("GET", "/x/one/y", NULL, NULL, NULL, 0, &b), 404);
    assert_non_null(strstr(b.data, "\"IZ404\""));
    assert_int_equal(request("GET", "/x/one/y/two/three", NULL, NULL, NULL, 0, &b), 404);
    assert_int_equal(request("DELETE", "/x/one/y/two", NULL, NULL, NULL, 0, &b), 405);
    assert_int_equal(request("GET", "/silent", NULL, NULL, NULL, 0, &b), 500);
}

static void test_auth(void **state)
{
    (void)state;
    buf_t b;
    assert_int_equal(request("GET", "/auth/a/b", NULL, NULL, NULL, 0, &b), 401);
    assert_int_equal(request("GET", "/auth/a/b", "Authorization: Bearer bad", NULL, NULL, 0, &b),
                     401);
    assert_non_null(strstr(b.data, "IZ401"));
    assert_int_equal(request("GET", "/auth/a/b", "Authorization: Basic good", NULL, NULL, 0, &b),
                     401);
    assert_int_equal(
        request("GET", "/auth/a/b", "Authorization: Bearer good", NULL, NULL, 0, &b), 200);
    assert_non_null(strstr(b.data, "\"acct\":42"));
}

static void test_json_body(void **state)
{
    (void)state;
    buf_t b;
    const char *ct = "Content-Type: application/json; charset=utf-8";
    assert_int_equal(request("POST", "/json", NULL, ct, "{\"a\":1}", 7, &b), 201);
    assert_string_equal(b.data, "{\"a\":1}\n");
    assert_int_equal(request("POST", "/json", NULL, ct, "{\"a\":", 5, &b), 400);
    assert_non_null(strstr(b.data, "H014"));
    assert_int_equal(request("POST", "/json", NULL, ct, "\"\xff\"", 3, &b), 400);
    assert_int_equal(request("POST", "/json", NULL, "Content-Type: text/plain", "{}", 2, &b),
                     415);
    char big[2048];
    memset(big, ' ', sizeof big);
    big[0] = '[';
    big[sizeof big - 1] = ']';
    assert_int_equal(request("POST", "/json", NULL, ct, big, sizeof big, &b), 413);
    assert_non_null(strstr(b.data, "IZ413"));
    /* a body at the limit is fine */
    assert_int_equal(request("POST", "/json", NULL, ct, big + 1024, 1024, &b), 400);
}

static void test_keys(void **state)
{
    (void)state;
    char k1[IZ_KEY_LEN + 1], k2[IZ_KEY_LEN + 1], h[IZ_SHA256_HEX];
    assert_int_equal(iz_key_generate(k1), 0);
    assert_int_equal(iz_key_generate(k2), 0);
    assert_int_equal(strlen(k1), IZ_KEY_LEN);
    assert_memory_equal(k1, "izk_", 4);
    assert_string_not_equal(k1, k2);
    iz_sha256_hex("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_true(iz_secret_equal("abc", "abc"));
    assert_false(iz_secret_equal("abc", "abd"));
    assert_false(iz_secret_equal("abc", "abcd"));
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_and_query),
        cmocka_unit_test(test_not_found_and_method),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_json_body),
        cmocka_unit_test(test_keys),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
