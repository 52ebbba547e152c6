/*
 * test_http.c - the HTTP plumbing against a real server on a loopback port:
 * routing with {params}, 404/405, bearer auth, body limits, JSON errors;
 * and the connection limits against a second server with short deadlines:
 * control bytes, the per-address limit, the header and body deadlines, the
 * 413 of an oversized chunked or streamed body and its lingering close.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

/* Headers built from a value a client could shape: a file name with CR LF
 * and a header after it, a Location with a bare LF. */
static void h_inject(iz_req_t *r, void *app)
{
    (void)app;
    iz_reply_header(r, "Content-Disposition", "attachment; filename=\"a\r\nSet-Cookie: x=1\"");
    iz_reply_header(r, "Location", "/ok\nX-Forged: 1");
    iz_reply_header(r, "X-Bad\r\nName", "v");
    iz_reply_header(r, "X-Fine", "tab\tand \xc3\xbc");
    iz_reply_bytes(r, 200, "text/plain", "ok", 2);
}

static int auth(void *app, const char *token, int64_t *acct)
{
    (void)app;
    if (strcmp(token, "good") != 0) return IZ_ENOTFOUND;
    *acct = 42;
    return 0;
}

/* A stream route that counts the bytes of its body. */
static void count_chunk(iz_req_t *r, void *state, const char *data, size_t len)
{
    (void)r;
    (void)data;
    *(size_t *)state += len;
}

static void count_done(iz_req_t *r, void *state)
{
    char text[32];
    snprintf(text, sizeof text, "%zu", *(size_t *)state);
    iz_reply_bytes(r, 200, "text/plain", text, strlen(text));
}

static void h_count(iz_req_t *r, void *app)
{
    (void)app;
    if (iz_req_streaming(r))
        iz_req_stream(r, count_chunk, count_done, free, iz_xcalloc(1, sizeof(size_t)));
}

static const iz_route_t routes[] = {
    {"GET", "/x/{a}/y/{b}", h_echo, 0, "echo"},
    {"GET", "/auth/{a}/{b}", h_echo, IZ_ROUTE_AUTH, "auth"},
    {"POST", "/json", h_json, 0, "json"},
    {"GET", "/silent", h_silent, 0, "silent"},
    {"GET", "/inject", h_inject, 0, "inject"},
    {"POST", "/count", h_count, IZ_ROUTE_STREAM, "count"},
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
static iz_http_t *lim; /* the same routes with small limits and short deadlines */

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
    iz_http_config_t cfg = {.listen = "127.0.0.1:0",
                            .routes = routes,
                            .nroutes = IZ_ARRAY_LEN(routes),
                            .auth = auth,
                            .max_body = 1024};
    const char *err = NULL;
    assert_int_equal(iz_http_start(&cfg, &srv, &err), 0);
    assert_true(iz_http_port(srv) > 0);
    iz_http_config_t lc = cfg;
    lc.max_stream = 64 << 10;
    lc.threads = 2;
    lc.max_per_ip = 4;
    lc.header_timeout_ms = 300;
    lc.body_grace_ms = 300;
    lc.body_min_rate = 1000;
    lc.linger_ms = 300;
    lc.linger_max = 256 << 10;
    assert_int_equal(iz_http_start(&lc, &lim, &err), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    iz_http_stop(srv);
    iz_http_stop(lim);
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
    assert_int_equal(request("GET", "/auth/a/b", "Authorization: Bearer good", NULL, NULL, 0, &b),
                     200);
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
    assert_int_equal(request("POST", "/json", NULL, "Content-Type: text/plain", "{}", 2, &b), 415);
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

/* ---- raw connections to `lim` ---------------------------------------------- */

static int64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A blocking TCP connection to s from 127.0.0.1. */
static int dial(iz_http_t *s)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(iz_http_port(s))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void send_str(int fd, const char *s)
{
    assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Read one answer (headers, then Content-Length bytes of body) into b;
 * returns its status, or -1 when the connection ended first. */
static int read_answer(int fd, buf_t *b)
{
    b->len = 0;
    b->data[0] = '\0';
    for (;;) {
        char *end = strstr(b->data, "\r\n\r\n");
        if (end) {
            const char *cl = strstr(b->data, "Content-Length: ");
            size_t want = (size_t)(end + 4 - b->data) + (cl ? strtoul(cl + 16, NULL, 10) : 0);
            if (b->len >= want) return atoi(b->data + 9);
        }
        ssize_t n = recv(fd, b->data + b->len, sizeof b->data - 1 - b->len, 0);
        if (n <= 0) return -1;
        b->len += (size_t)n;
        b->data[b->len] = '\0';
    }
}

/* Send one byte of `drip` every 50 ms until the server closes the
 * connection; the milliseconds that took, or -1 after limit_ms. */
static int64_t trickle_until_closed(int fd, const char *drip, int64_t limit_ms)
{
    int64_t t0 = ms_now();
    size_t i = 0;
    while (ms_now() - t0 < limit_ms) {
        if (*drip) send(fd, drip + i++ % strlen(drip), 1, MSG_NOSIGNAL);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) == 1) {
            char c[256];
            ssize_t n = recv(fd, c, sizeof c, 0);
            if (n == 0 || (n < 0 && errno == ECONNRESET)) return ms_now() - t0;
        }
    }
    return -1;
}

/* A new connection to lim that sends head, then drips; the milliseconds
 * until the server closed it (-1: not within 5 s). */
static int64_t slow_request(const char *head, const char *drip)
{
    int fd = dial(lim);
    send_str(fd, head);
    int64_t took = trickle_until_closed(fd, drip, 5000);
    close(fd);
    return took;
}

static iz_http_stats_t stats_of(iz_http_t *s)
{
    iz_http_stats_t st;
    iz_http_stats(s, &st);
    return st;
}

/* Wait until s has no connection open: a connection the client closed is
 * counted until the server has seen it end, and the next test must not
 * find its address at the per-address limit. */
static void wait_idle(iz_http_t *s)
{
    int64_t t0 = ms_now();
    while (stats_of(s).open > 0 && ms_now() - t0 < 3000)
        usleep(5000);
    assert_int_equal(stats_of(s).open, 0);
}

/* ---- the limits --------------------------------------------------------- */

static void test_control_bytes_refused(void **state)
{
    (void)state;
    buf_t b;
    uint64_t before = stats_of(srv).refused_control;
    /* %00 would cut the value to "a", %0A would split a log line */
    assert_int_equal(request("GET", "/x/one/y/two?q=a%00b", NULL, NULL, NULL, 0, &b), 400);
    assert_non_null(strstr(b.data, "\"IZ400\""));
    assert_int_equal(request("GET", "/x/one%0Aforged/y/two", NULL, NULL, NULL, 0, &b), 400);
    assert_int_equal(request("GET", "/x/one/y/two?q%0D=1", NULL, NULL, NULL, 0, &b), 400);
    assert_int_equal(request("GET", "/x/one/y/two?q=%7F", NULL, NULL, NULL, 0, &b), 400);
    assert_int_equal(request("GET", "/x/one/y/two", "X-Note: a\x01z", NULL, NULL, 0, &b), 400);
    assert_int_equal(request("GET", "/x/one/y/two", "X-Note: \x1b[2J", NULL, NULL, 0, &b), 400);
    assert_int_equal(stats_of(srv).refused_control, before + 6);
    /* tab and UTF-8 in a header, UTF-8 in a query are fine */
    assert_int_equal(
        request("GET", "/x/one/y/two?q=%C3%BC", "X-Note: a\tb \xc3\xbc", NULL, NULL, 0, &b), 200);
    assert_non_null(strstr(b.data, "\"q\":\"\xc3\xbc\""));
    /* the refusal comes before routing: also on an unknown path */
    assert_int_equal(request("GET", "/nowhere%00", NULL, NULL, NULL, 0, &b), 400);
    /* a raw control byte in the request line */
    int fd = dial(srv);
    send_str(fd, "GET /x/o\x02ne/y/two HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(read_answer(fd, &b), 400);
    close(fd);
}

static void test_header_injection_left_out(void **state)
{
    (void)state;
    int fd = dial(srv);
    send_str(fd, "GET /inject HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    char got[4096];
    size_t n = 0;
    ssize_t k;
    while (n < sizeof got - 1 && (k = recv(fd, got + n, sizeof got - 1 - n, 0)) > 0)
        n += (size_t)k;
    got[n] = '\0';
    close(fd);
    assert_non_null(strstr(got, "200"));
    assert_null(strstr(got, "Set-Cookie"));
    assert_null(strstr(got, "X-Forged"));
    assert_null(strstr(got, "X-Bad"));
    assert_null(strstr(got, "Content-Disposition"));
    assert_null(strstr(got, "Location"));
    assert_non_null(strstr(got, "X-Fine: tab\tand \xc3\xbc\r\n"));
}

static void test_per_address_limit(void **state)
{
    (void)state;
    wait_idle(lim);
    buf_t b;
    uint64_t refused = stats_of(lim).refused_per_ip;
    int fds[4];
    for (int i = 0; i < 4; i++)
        fds[i] = dial(lim);
    /* connect() returns once the kernel has the connection; the server's
     * threads may take them in another order, so wait until it has all */
    int64_t t0 = ms_now();
    while (stats_of(lim).open < 4 && ms_now() - t0 < 3000)
        usleep(5000);
    assert_int_equal(stats_of(lim).open, 4);
    /* the fifth from the same address is closed at once */
    int extra = dial(lim);
    char c;
    ssize_t got = recv(extra, &c, 1, 0);
    assert_true(got == 0 || (got < 0 && errno == ECONNRESET));
    close(extra);
    assert_int_equal(stats_of(lim).refused_per_ip, refused + 1);
    /* the four are served */
    send_str(fds[0], "GET /x/a/y/b HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(read_answer(fds[0], &b), 200);
    /* once one closes, a new one is taken */
    close(fds[1]);
    t0 = ms_now();
    while (stats_of(lim).open > 3 && ms_now() - t0 < 3000)
        usleep(10000);
    int again = dial(lim);
    send_str(again, "GET /x/a/y/b HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(read_answer(again, &b), 200);
    close(again);
    close(fds[0]);
    close(fds[2]);
    close(fds[3]);
    assert_int_equal(stats_of(lim).refused_per_ip, refused + 1);
}

static void test_header_deadline(void **state)
{
    (void)state;
    wait_idle(lim);
    uint64_t reaped = stats_of(lim).reaped_headers;
    /* one header byte every 50 ms never completes within 300 ms */
    int64_t took = slow_request("GET /x/a/y/b HTTP/1.1\r\nX-Slow: ", "abc");
    assert_true(took >= 250 && took < 3000);
    /* a silent connection is closed as well */
    took = slow_request("", "");
    assert_true(took >= 250 && took < 3000);
    assert_int_equal(stats_of(lim).reaped_headers, reaped + 2);
}

static void test_keepalive_idle_then_trickle(void **state)
{
    (void)state;
    wait_idle(lim);
    buf_t b;
    uint64_t reaped = stats_of(lim).reaped_headers;
    int fd = dial(lim);
    send_str(fd, "GET /x/a/y/b HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(read_answer(fd, &b), 200);
    /* waiting for the next request past the header deadline is no fault */
    usleep(800 * 1000);
    send_str(fd, "GET /x/c/y/d HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(read_answer(fd, &b), 200);
    assert_non_null(strstr(b.data, "\"a\":\"c\""));
    assert_int_equal(stats_of(lim).reaped_headers, reaped);
    /* but trickling the next request is */
    usleep(400 * 1000);
    send_str(fd, "GET /x/a/y/b HTTP/1.1\r\nX-Slow: ");
    int64_t took = trickle_until_closed(fd, "abc", 5000);
    close(fd);
    assert_true(took > 0 && took < 3000);
    assert_int_equal(stats_of(lim).reaped_headers, reaped + 1);
}

static void test_body_deadline(void **state)
{
    (void)state;
    wait_idle(lim);
    uint64_t reaped = stats_of(lim).reaped_body;
    /* 20 bytes a second, against a minimum of 1000 after 300 ms */
    int64_t took = slow_request("POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                                "\r\nContent-Length: 1000\r\n\r\n[",
                                " ");
    assert_true(took >= 250 && took < 3000);
    assert_int_equal(stats_of(lim).reaped_body, reaped + 1);
    /* a body that keeps the rate is fine, even past the grace period */
    buf_t b;
    int fd = dial(lim);
    send_str(fd, "POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: 962\r\n\r\n[");
    char spaces[81];
    memset(spaces, ' ', 80);
    spaces[80] = '\0';
    for (int i = 0; i < 12; i++) {
        send_str(fd, spaces);
        usleep(50 * 1000);
    }
    send_str(fd, "]");
    assert_int_equal(read_answer(fd, &b), 201);
    close(fd);
    assert_int_equal(stats_of(lim).reaped_body, reaped + 1);
}

/* Send a chunked body of `total` bytes of spaces in 16 KiB chunks, all of
 * it before reading anything, as Python requests does; then read the
 * answer. Returns its status; *sent_all tells whether every byte went. */
static int chunked_post(iz_http_t *s, const char *path, size_t total, buf_t *b, bool *sent_all)
{
    int fd = dial(s);
    char head[256];
    snprintf(head, sizeof head,
             "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Transfer-Encoding: chunked\r\n\r\n",
             path);
    send_str(fd, head);
    static char chunk[16384 + 16];
    int hl = snprintf(chunk, sizeof chunk, "%x\r\n", 16384);
    memset(chunk + hl, ' ', 16384);
    memcpy(chunk + hl + 16384, "\r\n", 2);
    size_t clen = (size_t)hl + 16384 + 2;
    *sent_all = true;
    for (size_t sent = 0; sent < total && *sent_all; sent += 16384)
        for (size_t off = 0; off < clen;) {
            ssize_t n = send(fd, chunk + off, clen - off, MSG_NOSIGNAL);
            if (n <= 0) {
                *sent_all = false;
                break;
            }
            off += (size_t)n;
        }
    if (*sent_all && send(fd, "0\r\n\r\n", 5, MSG_NOSIGNAL) != 5) *sent_all = false;
    int status = read_answer(fd, b);
    close(fd);
    return status;
}

static void test_chunked_413_is_answered(void **state)
{
    (void)state;
    buf_t b;
    bool all;
    /* 4 MiB against 1 KiB: answered at once, the rest read and dropped */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(chunked_post(srv, "/json", 4 << 20, &b, &all), 413);
        assert_true(all);
        assert_non_null(strstr(b.data, "\"IZ413\""));
        assert_non_null(strstr(b.data, "Connection: close"));
    }
    /* a streamed body past max_stream (64 KiB), within linger_max (256 KiB) */
    assert_int_equal(chunked_post(lim, "/count", 240 << 10, &b, &all), 413);
    assert_true(all);
    assert_int_equal(chunked_post(lim, "/count", 32 << 10, &b, &all), 200);
    assert_non_null(strstr(b.data, "\r\n\r\n32768"));
    /* curl (Expect: 100-continue, reading while it sends) gets it too */
    static char big[2 << 20];
    memset(big, ' ', sizeof big);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/json", (unsigned)iz_http_port(srv));
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, big);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)sizeof big);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    b.len = 0;
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    long status = 0;
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 413);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    /* the server is fine afterwards */
    assert_int_equal(request("GET", "/x/a/y/b", NULL, NULL, NULL, 0, &b), 200);
}

static void test_linger_is_bounded(void **state)
{
    (void)state;
    wait_idle(lim);
    buf_t b;
    bool all;
    uint64_t cut = stats_of(lim).linger_cut;
    /* past linger_max (256 KiB) the server closes; the answer is still
     * there to read */
    assert_int_equal(chunked_post(lim, "/json", 8 << 20, &b, &all), 413);
    assert_false(all);
    assert_int_equal(stats_of(lim).linger_cut, cut + 1);
    /* a client that stops sending after the answer is cut at linger_ms */
    int fd = dial(lim);
    send_str(fd, "POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: 100000\r\n\r\n");
    int64_t t0 = ms_now();
    assert_int_equal(read_answer(fd, &b), 413);
    char c;
    assert_int_equal(recv(fd, &c, 1, 0), 0); /* the answer is followed by the server's FIN */
    while (stats_of(lim).linger_cut < cut + 2 && ms_now() - t0 < 3000)
        usleep(10000);
    assert_int_equal(stats_of(lim).linger_cut, cut + 2);
    assert_true(ms_now() - t0 >= 250);
    close(fd);
    wait_idle(lim);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_and_query),
        cmocka_unit_test(test_not_found_and_method),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_header_injection_left_out),
        cmocka_unit_test(test_json_body),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_control_bytes_refused),
        cmocka_unit_test(test_per_address_limit),
        cmocka_unit_test(test_header_deadline),
        cmocka_unit_test(test_keepalive_idle_then_trickle),
        cmocka_unit_test(test_body_deadline),
        cmocka_unit_test(test_chunked_413_is_answered),
        cmocka_unit_test(test_linger_is_bounded),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
