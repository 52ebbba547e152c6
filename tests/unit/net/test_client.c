/*
 * test_client.c - the outbound HTTP client against a small HTTP/1.1 server
 * that this test runs on a loopback port (raw sockets, so that it can count
 * connections, stall, send oversized or chunked answers and show exactly
 * which headers arrived), and the pure helpers: Retry-After, escaping and
 * the backoff.
 */
#include <setjmp.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "core/iz.h"
#include "net/client.h"
#include "sys/log.h"

/* ---- the stand-in server ------------------------------------------------- */

typedef struct seen {
    char method[16];
    char path[512];
    char authz[1024];
    char ctype[128];
    bool has_ctype;
    char body[4096];
    size_t body_len;
    bool chunked;      /* the body came chunked */
    size_t body_total; /* the whole body's length (body keeps its start) */
    uint32_t body_fnv; /* FNV-1a of the whole body */
} seen_t;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static seen_t last;     /* the last request served */
static int accepted;    /* connections accepted */
static int served;      /* requests answered */
static int target_hits; /* requests for /target (where /redirect points) */
static int lfd = -1;
static unsigned port;
static pthread_t acceptor;
static iz_httpc_t *cli; /* the client of the tests that need no pool of their own */

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static void reply(int fd, int status, const char *extra, const char *body, size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n", status,
                     len, extra ? extra : "");
    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Answer one request by its path. */
static void answer(int fd, const seen_t *rq)
{
    const char *p = rq->path;
    char extra[256];
    if (strncmp(p, "/status/", 8) == 0) {
        int st = atoi(p + 8);
        char body[32];
        int n = snprintf(body, sizeof body, "status %d", st);
        reply(fd, st, NULL, st == 204 ? "" : body, st == 204 ? 0 : (size_t)n);
    } else if (strcmp(p, "/retry-delta") == 0) {
        reply(fd, 429, "Retry-After: 7\r\n", "slow down", 9);
    } else if (strcmp(p, "/retry-date") == 0) {
        time_t t = time(NULL) + 30;
        struct tm tm;
        gmtime_r(&t, &tm);
        char date[64];
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        snprintf(extra, sizeof extra, "Retry-After: %s\r\n", date);
        reply(fd, 503, extra, "later", 5);
    } else if (strncmp(p, "/big/", 5) == 0) {
        size_t n = (size_t)atol(p + 5);
        char *b = malloc(n + 1);
        memset(b, 'x', n);
        reply(fd, 200, NULL, b, n);
        free(b);
    } else if (strncmp(p, "/chunked/", 9) == 0) {
        size_t n = (size_t)atol(p + 9);
        const char *h = "HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\n\r\n";
        send_all(fd, h, strlen(h));
        char chunk[1100];
        memset(chunk, 'y', sizeof chunk);
        for (size_t sent = 0; sent < n;) {
            size_t k = n - sent < 1000 ? n - sent : 1000;
            char sz[32];
            int m = snprintf(sz, sizeof sz, "%zx\r\n", k);
            send_all(fd, sz, (size_t)m);
            send_all(fd, chunk, k);
            send_all(fd, "\r\n", 2);
            sent += k;
        }
        send_all(fd, "0\r\n\r\n", 5);
    } else if (strcmp(p, "/interim") == 0) {
        /* an interim answer with a Retry-After, then the final one without */
        const char *h = "HTTP/1.1 103 Early Hints\r\nRetry-After: 9\r\n\r\n";
        send_all(fd, h, strlen(h));
        reply(fd, 200, NULL, "final", 5);
    } else if (strcmp(p, "/slow") == 0) {
        sleep_ms(3000);
        reply(fd, 200, NULL, "late", 4);
    } else if (strcmp(p, "/redirect") == 0) {
        reply(fd, 302, "Location: /target\r\n", "", 0);
    } else if (strcmp(p, "/target") == 0) {
        pthread_mutex_lock(&mu);
        target_hits++;
        pthread_mutex_unlock(&mu);
        reply(fd, 200, NULL, "target", 6);
    } else if (strncmp(p, "/say/", 5) == 0) {
        reply(fd, 200, NULL, p + 5, strlen(p + 5));
    } else {
        reply(fd, 200, NULL, "ok", 2);
    }
}

/* Fill rq from a request head (head bytes, ending in CRLF CRLF); returns
 * the Content-Length. */
static size_t parse_head(const char *buf, size_t head, seen_t *rq)
{
    memset(rq, 0, sizeof *rq);
    sscanf(buf, "%15s %511s", rq->method, rq->path);
    size_t cl = 0;
    const char *line = strstr(buf, "\r\n") + 2;
    while (line < buf + head - 2) {
        const char *eol = strstr(line, "\r\n");
        int ll = (int)(eol - line);
        if (strncasecmp(line, "Content-Length:", 15) == 0) cl = (size_t)atol(line + 15);
        if (strncasecmp(line, "Authorization: ", 15) == 0)
            snprintf(rq->authz, sizeof rq->authz, "%.*s", ll - 15, line + 15);
        if (strncasecmp(line, "Transfer-Encoding: chunked", 26) == 0) rq->chunked = true;
        if (strncasecmp(line, "Content-Type:", 13) == 0) {
            rq->has_ctype = true;
            snprintf(rq->ctype, sizeof rq->ctype, "%.*s", ll - 14 > 0 ? ll - 14 : 0, line + 14);
        }
        line = eol + 2;
    }
    return cl;
}

/* Take n body bytes into rq: its start, its length and its hash. */
static void body_bytes(seen_t *rq, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (rq->body_total + i < sizeof rq->body - 1) rq->body[rq->body_total + i] = p[i];
        rq->body_fnv = (rq->body_fnv ^ (unsigned char)p[i]) * 16777619u;
    }
    rq->body_total += n;
    rq->body_len = rq->body_total < sizeof rq->body - 1 ? rq->body_total : sizeof rq->body - 1;
}

/* Receive into buf (len bytes so far) until it holds at least want bytes;
 * false when the connection ends or buf is full first. */
static bool recv_until(int fd, char *buf, size_t cap, size_t *len, size_t want)
{
    while (*len < want) {
        if (*len >= cap - 1) return false;
        ssize_t n = recv(fd, buf + *len, cap - 1 - *len, 0);
        if (n <= 0) return false;
        *len += (size_t)n;
        buf[*len] = '\0';
    }
    return true;
}

/* Read a chunked body that starts at buf + head, keeping buf small by
 * dropping each chunk once taken; returns false on a broken body. */
static bool read_chunked(int fd, char *buf, size_t cap, size_t *len, size_t head, seen_t *rq)
{
    for (;;) {
        char *eol;
        while (!(eol = memmem(buf + head, *len - head, "\r\n", 2)))
            if (!recv_until(fd, buf, cap, len, *len + 1)) return false;
        size_t k = strtoul(buf + head, NULL, 16), at = (size_t)(eol - buf) + 2;
        if (!recv_until(fd, buf, cap, len, at + k + 2)) return false;
        body_bytes(rq, buf + at, k);
        memmove(buf + head, buf + at + k + 2, *len - at - k - 2);
        *len -= at + k + 2 - head;
        if (k == 0) return true;
    }
}

/* One connection: requests one after another (keep-alive) until the client
 * closes it. */
static void *conn_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[65536];
    size_t len = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
            if (len == sizeof buf - 1) goto out;
            ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
            if (n <= 0) goto out;
            len += (size_t)n;
            buf[len] = '\0';
        }
        size_t head = (size_t)(end - buf) + 4;
        seen_t rq;
        size_t cl = parse_head(buf, head, &rq);
        rq.body_fnv = 2166136261u;
        if (rq.chunked) {
            if (!read_chunked(fd, buf, sizeof buf, &len, head, &rq)) goto out;
        } else {
            if (head + cl > sizeof buf - 1) goto out;
            if (!recv_until(fd, buf, sizeof buf, &len, head + cl)) goto out;
            body_bytes(&rq, buf + head, cl);
        }
        pthread_mutex_lock(&mu);
        last = rq;
        served++;
        pthread_mutex_unlock(&mu);
        answer(fd, &rq);
        memmove(buf, buf + head + cl, len - head - cl);
        len -= head + cl;
        buf[len] = '\0';
    }
out:
    close(fd);
    return NULL;
}

static void *accept_main(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) break;
        pthread_mutex_lock(&mu);
        accepted++;
        pthread_mutex_unlock(&mu);
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, conn_main, (void *)(intptr_t)fd) != 0) close(fd);
        pthread_attr_destroy(&at);
    }
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lfd, 64), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
    port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&acceptor, NULL, accept_main, NULL), 0);
    assert_int_equal(iz_httpc_new(NULL, &cli), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    iz_httpc_free(cli);
    shutdown(lfd, SHUT_RDWR);
    close(lfd);
    pthread_join(acceptor, NULL);
    return 0;
}

static int counter(int *v)
{
    pthread_mutex_lock(&mu);
    int n = *v;
    pthread_mutex_unlock(&mu);
    return n;
}

static void url_of(char *out, size_t n, const char *path)
{
    snprintf(out, n, "http://127.0.0.1:%u%s", port, path);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* GET path on c; the result in res. */
static int get(iz_httpc_t *c, const char *path, iz_httpc_res_t *res)
{
    char url[256];
    url_of(url, sizeof url, path);
    iz_httpc_req_t rq = {.url = url, .timeout_ms = 5000};
    return iz_httpc_do(c, &rq, res);
}

/* ---- exchanges ----------------------------------------------------------- */

static void test_classes(void **state)
{
    (void)state;
    static const struct {
        int status;
        iz_httpc_class_t cls;
    } cases[] = {
        {200, IZ_HTTPC_OK},        {201, IZ_HTTPC_OK},        {204, IZ_HTTPC_OK},
        {400, IZ_HTTPC_CLIENT},    {401, IZ_HTTPC_CLIENT},    {404, IZ_HTTPC_CLIENT},
        {422, IZ_HTTPC_CLIENT},    {429, IZ_HTTPC_TRANSIENT}, {500, IZ_HTTPC_TRANSIENT},
        {503, IZ_HTTPC_TRANSIENT},
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(cases); i++) {
        char path[32];
        snprintf(path, sizeof path, "/status/%d", cases[i].status);
        iz_httpc_res_t res = {0};
        assert_int_equal(get(cli, path, &res), 0);
        assert_int_equal(res.status, cases[i].status);
        assert_int_equal(res.cls, cases[i].cls);
        assert_string_equal(res.error, "");
        assert_false(res.too_big);
        if (cases[i].status == 204) {
            assert_null(res.body);
        } else {
            char want[32];
            snprintf(want, sizeof want, "status %d", cases[i].status);
            assert_int_equal(res.body_len, strlen(want));
            assert_string_equal(res.body, want);
        }
        iz_httpc_res_clear(&res);
    }
}

static void test_retry_after_answers(void **state)
{
    (void)state;
    iz_httpc_res_t res = {0};
    assert_int_equal(get(cli, "/retry-delta", &res), 0);
    assert_int_equal(res.status, 429);
    assert_int_equal(res.cls, IZ_HTTPC_TRANSIENT);
    assert_int_equal(res.retry_after_s, 7);
    iz_httpc_res_clear(&res);

    assert_int_equal(get(cli, "/retry-date", &res), 0);
    assert_int_equal(res.status, 503);
    assert_in_range(res.retry_after_s, 28, 31);
    iz_httpc_res_clear(&res);

    /* only the final answer's headers count */
    assert_int_equal(get(cli, "/interim", &res), 0);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body, "final");
    assert_int_equal(res.retry_after_s, 0);
    iz_httpc_res_clear(&res);

    /* the next answer on the same handle has none */
    assert_int_equal(get(cli, "/status/503", &res), 0);
    assert_int_equal(res.retry_after_s, 0);
    iz_httpc_res_clear(&res);
}

static void test_answer_limit(void **state)
{
    (void)state;
    /* Over the limit: refused, with the status and the first max_body
     * bytes; chunked answers (no length known in advance) alike. */
    static const struct {
        const char *path;
        size_t max_body;
        int rc;
        size_t kept;
    } cases[] = {
        {"/big/1000", 1000, 0, 1000},
        {"/big/1001", 1000, IZ_ETOOBIG, 1000},
        {"/chunked/4500", 5000, 0, 4500},
        {"/chunked/100000", 5000, IZ_ETOOBIG, 5000},
        {"/big/70000", 0, IZ_ETOOBIG, IZ_HTTPC_BODY_DEFAULT}, /* the default: 64 KiB */
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(cases); i++) {
        char url[256];
        url_of(url, sizeof url, cases[i].path);
        iz_httpc_req_t rq = {.url = url, .max_body = cases[i].max_body};
        iz_httpc_res_t res = {0};
        assert_int_equal(iz_httpc_do(cli, &rq, &res), cases[i].rc);
        bool over = cases[i].rc != 0;
        assert_int_equal(res.status, 200);
        assert_int_equal(res.cls, over ? IZ_HTTPC_TRANSIENT : IZ_HTTPC_OK);
        assert_int_equal(res.too_big, over);
        assert_int_equal(res.body_len, cases[i].kept);
        assert_int_equal(strlen(res.body), cases[i].kept);
        assert_string_equal(res.error, over ? "answer too large" : "");
        iz_httpc_res_clear(&res);
    }
}

static void test_timeout_refused_abort(void **state)
{
    (void)state;
    char url[256];
    iz_httpc_res_t res = {0};

    url_of(url, sizeof url, "/slow");
    iz_httpc_req_t rq = {.url = url, .timeout_ms = 300};
    int64_t t0 = mono_ms();
    assert_int_equal(iz_httpc_do(cli, &rq, &res), IZ_EIO);
    assert_true(mono_ms() - t0 < 1500);
    assert_true(res.timed_out);
    assert_false(res.aborted);
    assert_int_equal(res.status, 0);
    assert_int_equal(res.cls, IZ_HTTPC_TRANSIENT);
    assert_string_equal(res.error, "timeout");
    iz_httpc_res_clear(&res);

    /* a port nobody listens on: bound, then closed */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &al);
    close(s);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", (unsigned)ntohs(a.sin_port));
    rq.timeout_ms = 2000;
    assert_int_equal(iz_httpc_do(cli, &rq, &res), IZ_EIO);
    assert_false(res.timed_out);
    assert_int_equal(res.status, 0);
    assert_int_equal(res.cls, IZ_HTTPC_TRANSIENT);
    assert_true(res.error[0] != '\0');
    assert_null(res.body);
    iz_httpc_res_clear(&res);
}

static bool stop_now(void *ud)
{
    int *calls = ud;
    (*calls)++;
    return *calls >= 2;
}

static void test_abort(void **state)
{
    (void)state;
    char url[256];
    url_of(url, sizeof url, "/slow");
    int calls = 0;
    iz_httpc_req_t rq = {.url = url, .timeout_ms = 5000, .abort = stop_now, .abort_ud = &calls};
    iz_httpc_res_t res = {0};
    int64_t t0 = mono_ms();
    assert_int_equal(iz_httpc_do(cli, &rq, &res), IZ_EIO);
    assert_true(mono_ms() - t0 < 2500); /* polled about once a second; the answer takes 3 s */
    assert_true(res.aborted);
    assert_false(res.timed_out);
    assert_int_equal(calls, 2);
    assert_string_equal(res.error, "aborted");
    iz_httpc_res_clear(&res);

    /* a callback that never stops does not disturb an exchange */
    url_of(url, sizeof url, "/status/200");
    calls = -1000000;
    assert_int_equal(iz_httpc_do(cli, &rq, &res), 0);
    assert_int_equal(res.status, 200);
    assert_true(calls > -1000000);
    iz_httpc_res_clear(&res);
}

static void test_what_arrives(void **state)
{
    (void)state;
    char url[256];
    url_of(url, sizeof url, "/echo");
    iz_httpc_res_t res = {0};

    /* Basic auth: base64("izin:s3cr:et") */
    const char *body = "{\"a\":1}";
    iz_httpc_req_t rq = {.url = url,
                         .body = body,
                         .body_len = strlen(body),
                         .content_type = "application/json",
                         .user = "izin",
                         .password = "s3cr:et"};
    assert_int_equal(iz_httpc_do(cli, &rq, &res), 0);
    iz_httpc_res_clear(&res);
    pthread_mutex_lock(&mu);
    assert_string_equal(last.method, "POST");
    assert_string_equal(last.authz, "Basic aXppbjpzM2NyOmV0");
    assert_string_equal(last.ctype, "application/json");
    assert_string_equal(last.body, body);
    pthread_mutex_unlock(&mu);

    /* bearer, another method, an extra header, no Content-Type given */
    const char *hdrs[] = {"Accept: application/json"};
    iz_httpc_req_t rq2 = {.method = "PUT",
                          .url = url,
                          .headers = hdrs,
                          .nheaders = 1,
                          .body = "x",
                          .body_len = 1,
                          .bearer = "tok-123"};
    assert_int_equal(iz_httpc_do(cli, &rq2, &res), 0);
    iz_httpc_res_clear(&res);
    pthread_mutex_lock(&mu);
    assert_string_equal(last.method, "PUT");
    assert_string_equal(last.authz, "Bearer tok-123");
    assert_false(last.has_ctype);
    assert_string_equal(last.body, "x");
    pthread_mutex_unlock(&mu);

    /* nothing of the last request stays on the reused handle */
    iz_httpc_req_t rq3 = {.url = url};
    assert_int_equal(iz_httpc_do(cli, &rq3, &res), 0);
    iz_httpc_res_clear(&res);
    pthread_mutex_lock(&mu);
    assert_string_equal(last.method, "GET");
    assert_string_equal(last.authz, "");
    assert_int_equal(last.body_len, 0);
    pthread_mutex_unlock(&mu);

    iz_httpc_req_t rq4 = {.method = "DELETE", .url = url};
    assert_int_equal(iz_httpc_do(cli, &rq4, &res), 0);
    iz_httpc_res_clear(&res);
    pthread_mutex_lock(&mu);
    assert_string_equal(last.method, "DELETE");
    pthread_mutex_unlock(&mu);
}

/* A body handed over by a read callback: bytes of a known pattern, n at
 * most per call, with a pause before each call when slow_ms is set. */
typedef struct src {
    size_t size, pos, max_read;
    long slow_ms;
    bool fail_at_half;
    int rewinds;
} src_t;

static char src_byte(size_t i)
{
    return (char)('a' + (i * 7 + i / 13) % 26);
}

static long src_read(void *ud, char *buf, size_t n)
{
    src_t *s = ud;
    if (s->slow_ms) sleep_ms(s->slow_ms);
    if (s->fail_at_half && s->pos >= s->size / 2) return -1;
    size_t k = s->size - s->pos;
    if (k > n) k = n;
    if (s->max_read && k > s->max_read) k = s->max_read;
    for (size_t i = 0; i < k; i++)
        buf[i] = src_byte(s->pos + i);
    s->pos += k;
    return (long)k;
}

static int src_rewind(void *ud)
{
    src_t *s = ud;
    s->pos = 0;
    s->rewinds++;
    return 0;
}

static uint32_t src_fnv(size_t size)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ (unsigned char)src_byte(i)) * 16777619u;
    return h;
}

static void test_body_read(void **state)
{
    (void)state;
    char url[256];
    url_of(url, sizeof url, "/echo");
    iz_httpc_res_t res = {0};

    /* a known length (Content-Length) and one unknown (chunked): the same
     * bytes arrive, with the bearer and the type */
    for (int chunked = 0; chunked < 2; chunked++) {
        src_t src = {.size = 40000, .max_read = chunked ? 1000 : 0};
        iz_httpc_req_t rq = {.url = url,
                             .bearer = "tok-9",
                             .content_type = "text/csv",
                             .body_read = src_read,
                             .body_rewind = src_rewind,
                             .body_ud = &src,
                             .body_size = chunked ? -1 : (int64_t)src.size,
                             .timeout_ms = 5000};
        assert_int_equal(iz_httpc_do(cli, &rq, &res), 0);
        assert_int_equal(res.status, 200);
        iz_httpc_res_clear(&res);
        pthread_mutex_lock(&mu);
        assert_string_equal(last.method, "POST");
        assert_string_equal(last.authz, "Bearer tok-9");
        assert_string_equal(last.ctype, "text/csv");
        assert_int_equal(last.chunked, chunked);
        assert_int_equal(last.body_total, 40000);
        assert_int_equal(last.body_fnv, src_fnv(40000));
        pthread_mutex_unlock(&mu);
    }

    /* an empty body */
    src_t empty = {.size = 0};
    iz_httpc_req_t rq0 = {.url = url, .body_read = src_read, .body_ud = &empty, .body_size = 0};
    assert_int_equal(iz_httpc_do(cli, &rq0, &res), 0);
    iz_httpc_res_clear(&res);
    pthread_mutex_lock(&mu);
    assert_string_equal(last.method, "POST");
    assert_int_equal(last.body_total, 0);
    pthread_mutex_unlock(&mu);

    /* a failed read stops the exchange, and says so */
    src_t bad = {.size = 20000, .max_read = 1000, .fail_at_half = true};
    iz_httpc_req_t rq1 = {.url = url, .body_read = src_read, .body_ud = &bad, .body_size = -1};
    int before = counter(&served);
    assert_int_equal(iz_httpc_do(cli, &rq1, &res), IZ_EIO);
    assert_string_equal(res.error, "cannot read the body");
    assert_int_equal(res.cls, IZ_HTTPC_TRANSIENT);
    iz_httpc_res_clear(&res);
    assert_int_equal(counter(&served), before);

    /* timeout_ms bounds the stalls, not the length: an upload moving a
     * little every 250 ms for 2 s goes through a 1 s timeout... */
    src_t slow = {.size = 800, .max_read = 100, .slow_ms = 250};
    iz_httpc_req_t rq2 = {
        .url = url, .body_read = src_read, .body_ud = &slow, .body_size = 800, .timeout_ms = 1000};
    assert_int_equal(iz_httpc_do(cli, &rq2, &res), 0);
    iz_httpc_res_clear(&res);
    pthread_mutex_lock(&mu);
    assert_int_equal(last.body_fnv, src_fnv(800));
    pthread_mutex_unlock(&mu);

    /* ...while a server that takes the body and then says nothing for
     * longer is given up */
    url_of(url, sizeof url, "/slow");
    src_t quick = {.size = 10};
    iz_httpc_req_t rq3 = {
        .url = url, .body_read = src_read, .body_ud = &quick, .body_size = 10, .timeout_ms = 1000};
    int64_t t0 = mono_ms();
    assert_int_equal(iz_httpc_do(cli, &rq3, &res), IZ_EIO);
    assert_true(mono_ms() - t0 < 2900);
    assert_true(res.timed_out);
    iz_httpc_res_clear(&res);

    /* refused before sending: two bodies, a bad size */
    src_t any = {.size = 1};
    iz_httpc_req_t two = {
        .url = url, .body = "x", .body_len = 1, .body_read = src_read, .body_ud = &any};
    iz_httpc_req_t neg = {.url = url, .body_read = src_read, .body_ud = &any, .body_size = -2};
    assert_int_equal(iz_httpc_do(cli, &two, &res), IZ_EINVAL);
    iz_httpc_res_clear(&res);
    assert_int_equal(iz_httpc_do(cli, &neg, &res), IZ_EINVAL);
    iz_httpc_res_clear(&res);
}

static void test_no_redirect(void **state)
{
    (void)state;
    iz_httpc_res_t res = {0};
    int before = counter(&target_hits);
    assert_int_equal(get(cli, "/redirect", &res), 0);
    assert_int_equal(res.status, 302);
    assert_int_equal(res.cls, IZ_HTTPC_CLIENT);
    assert_int_equal(counter(&target_hits), before);
    iz_httpc_res_clear(&res);
}

static void test_refused_requests(void **state)
{
    (void)state;
    char url[256];
    url_of(url, sizeof url, "/echo");
    const char *crlf[] = {"X-A: 1\r\nX-Injected: 2"};
    const char *nocolon[] = {"X-A 1"};
    const char *badname[] = {"X A: 1"};
    iz_httpc_req_t bad[] = {
        {.url = "ftp://127.0.0.1/x"},
        {.url = "file:///etc/passwd"},
        {.url = "http://"},
        {.url = "http:///path"},
        {.url = "http://127.0.0.1/a b"},
        {.url = NULL},
        {.url = url, .headers = crlf, .nheaders = 1},
        {.url = url, .headers = nocolon, .nheaders = 1},
        {.url = url, .headers = badname, .nheaders = 1},
        {.url = url, .headers = NULL, .nheaders = 1},
        {.url = url, .nheaders = IZ_HTTPC_HEADERS_MAX + 1},
        {.url = url, .user = "a:b", .password = "p"},
        {.url = url, .user = "a", .password = "p\n"},
        {.url = url, .bearer = "t\r\nX: y"},
        {.url = url, .bearer = ""},
        {.url = url, .method = "get"},
        {.url = url, .method = "GET X"},
        {.url = url, .content_type = "a\nb", .body = "x", .body_len = 1},
        {.url = url, .timeout_ms = -1},
        {.url = url, .timeout_ms = IZ_HTTPC_TIMEOUT_MAX_MS + 1},
        {.url = url, .max_body = IZ_HTTPC_BODY_MAX + 1},
        {.url = url, .body_len = 3},
    };
    int before = counter(&served);
    for (size_t i = 0; i < IZ_ARRAY_LEN(bad); i++) {
        iz_httpc_res_t res = {0};
        if (iz_httpc_do(cli, &bad[i], &res) != IZ_EINVAL) fail_msg("request %zu accepted", i);
        assert_int_equal(res.cls, IZ_HTTPC_CLIENT);
        assert_true(res.error[0] != '\0');
        iz_httpc_res_clear(&res);
    }
    assert_int_equal(counter(&served), before);

    /* HTTPS and upper-case schemes are fine */
    iz_httpc_res_t res = {0};
    char up[256];
    snprintf(up, sizeof up, "HTTP://127.0.0.1:%u/echo", port);
    iz_httpc_req_t ok = {.url = up};
    assert_int_equal(iz_httpc_do(cli, &ok, &res), 0);
    iz_httpc_res_clear(&res);
}

static void test_keepalive(void **state)
{
    (void)state;
    iz_httpc_t *c;
    iz_httpc_conf_t conf = {.pool = 2};
    assert_int_equal(iz_httpc_new(&conf, &c), 0);
    int before = counter(&accepted);
    for (int i = 0; i < 10; i++) {
        iz_httpc_res_t res = {0};
        assert_int_equal(get(c, "/status/200", &res), 0);
        iz_httpc_res_clear(&res);
    }
    assert_int_equal(counter(&accepted) - before, 1);
    iz_httpc_free(c);
}

typedef struct worker {
    iz_httpc_t *c;
    int id;
    int ok;
} worker_t;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < 25; i++) {
        char path[96], want[64];
        snprintf(want, sizeof want, "t%d-%d", w->id, i);
        snprintf(path, sizeof path, "/say/%s", want);
        iz_httpc_res_t res = {0};
        if (get(w->c, path, &res) == 0 && res.status == 200 && res.body &&
            strcmp(res.body, want) == 0)
            w->ok++;
        iz_httpc_res_clear(&res);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    iz_httpc_t *c;
    iz_httpc_conf_t conf = {.pool = 4};
    assert_int_equal(iz_httpc_new(&conf, &c), 0);
    worker_t w[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (worker_t){.c = c, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].ok, 25);
    }
    iz_httpc_free(c);
}

static void test_secrets_not_logged(void **state)
{
    (void)state;
    char path[] = "/tmp/izin-httpc-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    int saved = dup(STDERR_FILENO);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    iz_log_set_level(IZ_LOG_DEBUG);

    char url[256];
    snprintf(url, sizeof url, "http://someone:URLPW@127.0.0.1:%u/hook/PATHSECRET?password=QPW",
             port);
    iz_httpc_req_t rq = {.url = url, .bearer = "BEARERTOK"};
    iz_httpc_res_t res = {0};
    assert_int_equal(iz_httpc_do(cli, &rq, &res), 0);
    iz_httpc_res_clear(&res);
    url_of(url, sizeof url, "/echo");
    iz_httpc_req_t rq2 = {.url = url, .user = "u", .password = "BASICPW"};
    assert_int_equal(iz_httpc_do(cli, &rq2, &res), 0);
    iz_httpc_res_clear(&res);

    iz_log_set_level(IZ_LOG_INFO);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char text[8192];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    text[n] = '\0';
    char host[64];
    snprintf(host, sizeof host, "host=127.0.0.1:%u ", port);
    assert_non_null(strstr(text, "comp=httpc"));
    assert_non_null(strstr(text, host));
    static const char *const secrets[] = {"URLPW",     "someone", "PATHSECRET",  "QPW",
                                          "BEARERTOK", "BASICPW", "dTpCQVNJQ1BX"};
    for (size_t i = 0; i < IZ_ARRAY_LEN(secrets); i++)
        if (strstr(text, secrets[i])) fail_msg("%s in the log", secrets[i]);
}

/* ---- pure helpers -------------------------------------------------------- */

static void test_retry_after_parse(void **state)
{
    (void)state;
    const int64_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
    long s = -1;
    assert_int_equal(iz_httpc_retry_after("120", now, &s), 0);
    assert_int_equal(s, 120);
    assert_int_equal(iz_httpc_retry_after(" 5\r\n", now, &s), 0);
    assert_int_equal(s, 5);
    assert_int_equal(iz_httpc_retry_after("0", now, &s), 0);
    assert_int_equal(s, 0);
    assert_int_equal(iz_httpc_retry_after("99999999999999999999999", now, &s), 0);
    assert_int_equal(s, IZ_HTTPC_RETRY_AFTER_MAX);
    assert_int_equal(iz_httpc_retry_after("86401", now, &s), 0);
    assert_int_equal(s, IZ_HTTPC_RETRY_AFTER_MAX);
    /* the three date forms, 60 s after now */
    static const char *const dates[] = {"Sun, 06 Nov 1994 08:50:37 GMT",
                                        "Sunday, 06-Nov-94 08:50:37 GMT",
                                        "Sun Nov  6 08:50:37 1994"};
    for (size_t i = 0; i < IZ_ARRAY_LEN(dates); i++) {
        s = -1;
        assert_int_equal(iz_httpc_retry_after(dates[i], now, &s), 0);
        assert_int_equal(s, 60);
    }
    /* a date in the past: now */
    assert_int_equal(iz_httpc_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now, &s), 0);
    assert_int_equal(s, 0);
    static const char *const bad[] = {"",   "  ",  "-1",  "+5",   "1.5",
                                      "5s", "abc", "1 2", "\x01", "Sun, 99 Nov 1994 08:50:37 GMT"};
    for (size_t i = 0; i < IZ_ARRAY_LEN(bad); i++) {
        s = 12345;
        if (iz_httpc_retry_after(bad[i], now, &s) == 0) fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(s, 12345);
    }
    char big[200];
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(iz_httpc_retry_after(big, now, &s), IZ_EINVAL);
}

static void test_escape(void **state)
{
    (void)state;
    char *e = iz_httpc_escape("a b&c=d/ü~-._+%");
    assert_string_equal(e, "a%20b%26c%3Dd%2F%C3%BC~-._%2B%25");
    free(e);
    e = iz_httpc_escape("");
    assert_string_equal(e, "");
    free(e);
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* How many different pauses 200 nodes would pick at one attempt. */
static int distinct_pauses(int attempt, long retry_after_s, uint64_t *rs)
{
    int n = 0;
    int64_t seen[200];
    for (int k = 0; k < 200; k++) {
        int64_t v = iz_backoff_ms(attempt, 500, 60000, retry_after_s, splitmix(rs));
        bool dup = false;
        for (int j = 0; j < n; j++)
            dup = dup || seen[j] == v;
        if (!dup) seen[n++] = v;
    }
    return n;
}

static void test_backoff(void **state)
{
    (void)state;
    uint64_t rs = 42;
    const int64_t base = 500, max = 60000;
    /* bounds and growth: attempt n lies in [d/2, d], d = base 2^(n-1) up to max */
    int64_t prev_hi = 0, prev_d = 0;
    for (int n = 1; n <= 40; n++) {
        int64_t d = base;
        for (int i = 1; i < n && d < max; i++)
            d = d * 2 > max ? max : d * 2;
        int64_t lo = INT64_MAX, hi = 0;
        for (int k = 0; k < 2000; k++) {
            int64_t v = iz_backoff_ms(n, base, max, 0, splitmix(&rs));
            assert_in_range(v, d - d / 2, d);
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        /* it grows: while d doubles, the shortest pause of attempt n is at
         * least the longest of attempt n-1 */
        if (d == 2 * prev_d) assert_true(lo >= prev_hi);
        assert_true(lo >= prev_hi / 2);
        prev_hi = hi;
        prev_d = d;
        /* the jitter spreads: the sample covers most of [d/2, d] */
        assert_true(hi - lo >= (d / 2) * 9 / 10);
    }
    assert_int_equal(iz_backoff_ms(1, base, max, 0, 0), 250);
    assert_int_equal(iz_backoff_ms(1, base, max, 0, 250), 500);
    assert_int_equal(iz_backoff_ms(1000000, base, max, 0, 30000), 60000);

    /* many nodes at the same attempt do not retry in step */
    assert_true(distinct_pauses(5, 0, &rs) > 150);

    /* Retry-After: never sooner, spread over a quarter more, up to max */
    for (int k = 0; k < 1000; k++) {
        assert_in_range(iz_backoff_ms(1, base, max, 10, splitmix(&rs)), 10000, 12500);
        assert_int_equal(iz_backoff_ms(1, base, max, 3600, splitmix(&rs)), max);
        assert_in_range(iz_backoff_ms(1, base, max, 50, splitmix(&rs)), 50000, 60000);
        /* a Retry-After shorter than the backoff changes nothing */
        assert_in_range(iz_backoff_ms(6, base, max, 1, splitmix(&rs)), 8000, 16000);
    }
    /* nodes told "in 10 s" at once do not come back in step either */
    assert_true(distinct_pauses(1, 10, &rs) > 150);
    /* extremes: no overflow (UBSan watches), nothing out of range */
    assert_in_range(iz_backoff_ms(INT32_MAX, INT64_MAX / 2, INT64_MAX, LONG_MAX, UINT64_MAX), 1,
                    INT64_MAX);
    assert_int_equal(iz_backoff_ms(3, 0, 0, 0, 77), 1);
    assert_int_equal(iz_backoff_ms(-5, 100, 50, 0, 0), 50);
    assert_in_range(iz_backoff_ms(3, 1000, 500, 100, 999), 1000, 1000);
    assert_in_range(iz_backoff_ms(2, 1000, 10000, -5, 3), 1000, 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_retry_after_answers),
        cmocka_unit_test(test_answer_limit),
        cmocka_unit_test(test_timeout_refused_abort),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_what_arrives),
        cmocka_unit_test(test_body_read),
        cmocka_unit_test(test_no_redirect),
        cmocka_unit_test(test_refused_requests),
        cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_secrets_not_logged),
        cmocka_unit_test(test_retry_after_parse),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
