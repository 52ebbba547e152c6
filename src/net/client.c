/*
 * client.c - the outbound HTTP client (see client.h for what it promises).
 *
 * Each exchange takes a curl easy handle from the client's pool, sets it up
 * from the request alone, runs it, and resets it before giving it back: a
 * reset drops every option (so nothing of one request, no URL and no
 * credential, leaks into the next) but keeps the handle's open connections,
 * which is what the pool is for.
 *
 * The answer body goes into a buffer that grows up to the request's
 * max_body and no further; the transfer is stopped when the answer is
 * larger, so a broken or hostile server cannot make izin allocate without
 * bound. Authorization values are built here, in buffers and header lists
 * that are wiped before they are freed.
 */
#include "net/client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/iz.h"
#include "sys/log.h"

#define POOL_DEFAULT 4
#define METHOD_MAX 16
#define CONTENT_TYPE_MAX 256

struct iz_httpc {
    pthread_mutex_t mu; /* guards idle and nidle */
    size_t keep;        /* idle handles kept at most */
    size_t nidle;
    CURL *idle[IZ_HTTPC_POOL_MAX];
};

/* libcurl's global setup is not thread-safe in every build and must happen
 * once, before any handle exists; it is never undone, since other clients
 * may live until exit. */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int iz_httpc_new(const iz_httpc_conf_t *conf, iz_httpc_t **out)
{
    *out = NULL;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) return IZ_EIO;
    iz_httpc_t *c = iz_xcalloc(1, sizeof *c);
    c->keep = conf && conf->pool ? conf->pool : POOL_DEFAULT;
    if (c->keep > IZ_HTTPC_POOL_MAX) c->keep = IZ_HTTPC_POOL_MAX;
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return 0;
}

void iz_httpc_free(iz_httpc_t *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->nidle; i++)
        curl_easy_cleanup(c->idle[i]);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void iz_httpc_res_clear(iz_httpc_res_t *res)
{
    /* An answer may hold secrets (a token answer does). */
    if (res->body) iz_wipe(res->body, res->body_len);
    free(res->body);
    memset(res, 0, sizeof *res);
}

static CURL *take_handle(iz_httpc_t *c)
{
    pthread_mutex_lock(&c->mu);
    CURL *h = c->nidle ? c->idle[--c->nidle] : NULL;
    pthread_mutex_unlock(&c->mu);
    if (!h) h = curl_easy_init();
    if (!h) iz_oom(); /* after a successful global init, only memory can fail */
    return h;
}

/* Reset a handle (every option and every copy of the request's strings
 * dropped, its connections kept) and keep it if the pool has room. */
static void give_handle(iz_httpc_t *c, CURL *h)
{
    curl_easy_reset(h);
    pthread_mutex_lock(&c->mu);
    if (c->nidle < c->keep) {
        c->idle[c->nidle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    if (h) curl_easy_cleanup(h);
}

/* ---- parsing and small helpers ------------------------------------------ */

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

int iz_httpc_retry_after(const char *value, int64_t now, long *out_s)
{
    while (is_blank(*value))
        value++;
    size_t n = strnlen(value, 64);
    while (n > 0 && is_blank(value[n - 1]))
        n--;
    /* The longest valid form (an RFC 850 date) has 30 characters. */
    if (n == 0 || n > 40) return IZ_EINVAL;
    char v[48];
    memcpy(v, value, n);
    v[n] = '\0';
    int64_t secs;
    if (v[0] >= '0' && v[0] <= '9') {
        /* delta-seconds: digits only. More digits than any useful pause
         * still mean "a very long time": the clamp below. */
        secs = 0;
        for (size_t i = 0; i < n; i++) {
            if (v[i] < '0' || v[i] > '9') return IZ_EINVAL;
            if (secs <= IZ_HTTPC_RETRY_AFTER_MAX) secs = secs * 10 + (v[i] - '0');
        }
    } else {
        /* All three HTTP-date forms begin with a day name; curl's parser
         * accepts each of them (RFC 9110 asks recipients to). */
        if (!((v[0] >= 'A' && v[0] <= 'Z') || (v[0] >= 'a' && v[0] <= 'z'))) return IZ_EINVAL;
        time_t t = curl_getdate(v, NULL);
        if (t == (time_t)-1) return IZ_EINVAL;
        secs = (int64_t)t - now;
        if (secs < 0) secs = 0;
    }
    *out_s = secs > IZ_HTTPC_RETRY_AFTER_MAX ? IZ_HTTPC_RETRY_AFTER_MAX : (long)secs;
    return 0;
}

char *iz_httpc_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    if (n > (SIZE_MAX - 1) / 3) iz_oom();
    char *o = iz_xmalloc(3 * n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            o[k++] = (char)ch;
        } else {
            o[k++] = '%';
            o[k++] = hex[ch >> 4];
            o[k++] = hex[ch & 15];
        }
    }
    o[k] = '\0';
    return o;
}

int64_t iz_backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, long retry_after_s,
                      uint64_t rnd)
{
    if (attempt < 1) attempt = 1;
    if (base_ms < 1) base_ms = 1;
    if (max_ms < base_ms) max_ms = base_ms;
    /* base * 2^(attempt-1), doubling only while below max: no overflow,
     * and at most 63 rounds whatever attempt is. */
    int64_t d = base_ms;
    for (int i = 1; i < attempt && d < max_ms; i++)
        d = d > max_ms / 2 ? max_ms : d * 2;
    int64_t lo = d - d / 2;
    int64_t r = lo + (int64_t)(rnd % (uint64_t)(d - lo + 1));
    if (retry_after_s > 0) {
        int64_t ra = retry_after_s > max_ms / 1000 ? max_ms : (int64_t)retry_after_s * 1000;
        if (r < ra) {
            /* Everyone told "in 30 s" would otherwise come back at the same
             * instant: spread them over a quarter more, within max. */
            int64_t hi = ra > max_ms - ra / 4 ? max_ms : ra + ra / 4;
            r = ra + (int64_t)(rnd % (uint64_t)(hi - ra + 1));
        }
    }
    return r;
}

/* True when s has a byte a header value must not hold (a control byte other
 * than a tab), or more than max bytes; *len gets its length. */
static bool bad_value(const char *s, size_t max, size_t *len)
{
    size_t n = strnlen(s, max + 1);
    if (len) *len = n;
    if (n > max) return true;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7F) return true;
    }
    return false;
}

/* A "Name: value" line: a non-empty token before the colon, a clean value. */
static bool good_header(const char *line)
{
    size_t name = strcspn(line, ":");
    if (name == 0 || line[name] != ':') return false;
    for (size_t i = 0; i < name; i++) {
        unsigned char ch = (unsigned char)line[i];
        if (ch <= 0x20 || ch >= 0x7F || strchr("\"(),/:;<=>?@[\\]{}", ch)) return false;
    }
    return !bad_value(line, IZ_HTTPC_HEADER_MAX, NULL);
}

/* Only http:// and https://, with a host, and no byte that would need
 * escaping to be part of a URL at all. */
static bool good_url(const char *url)
{
    size_t n = strnlen(url, IZ_HTTPC_URL_MAX + 1);
    if (n > IZ_HTTPC_URL_MAX) return false;
    size_t skip = strncasecmp(url, "http://", 7) == 0    ? 7
                  : strncasecmp(url, "https://", 8) == 0 ? 8
                                                         : 0;
    if (skip == 0 || url[skip] == '\0' || strchr("/?#", url[skip])) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7F) return false;
    return true;
}

static bool good_method(const char *m)
{
    size_t n = strnlen(m, METHOD_MAX + 1);
    if (n == 0 || n > METHOD_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (m[i] < 'A' || m[i] > 'Z') return false;
    return true;
}

/* The host (and port) of a URL, for the log: no user info, no path and no
 * query, since a webhook URL may carry its secret in any of them. */
static void shown_host(const char *url, char *out, size_t outsz)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t auth = strcspn(p, "/?#");
    const char *host = p;
    for (size_t i = 0; i < auth; i++)
        if (p[i] == '@') host = p + i + 1;
    snprintf(out, outsz, "%.*s", (int)(p + auth - host), host);
}

/* ---- one exchange -------------------------------------------------------- */

typedef struct xfer {
    char *body;
    size_t len, cap, max;
    bool too_big, aborted, read_failed, stalled, write_failed;
    long retry_after_s;
    CURL *h; /* for the answer's status when a body goes to req->body_write */
    iz_httpc_abort_fn abort;
    void *abort_ud;
    const iz_httpc_req_t *req; /* for its body_read and body_rewind */
    /* A streamed body's exchange ends after stall_ms without a byte moved
     * either way (0: no such limit); moved and moved_ms track it. */
    int64_t stall_ms, moved, moved_ms;
} xfer_t;

/* The request body, read as it is sent (req->body_read). */
static size_t on_read(char *buf, size_t size, size_t nmemb, void *ud)
{
    xfer_t *x = ud;
    long n = x->req->body_read(x->req->body_ud, buf, size * nmemb);
    if (n < 0 || (size_t)n > size * nmemb) {
        x->read_failed = true;
        return CURL_READFUNC_ABORT;
    }
    return (size_t)n;
}

/* libcurl sends a request again on a fresh connection when a kept one
 * turns out closed: the body then starts over. */
static int on_seek(void *ud, curl_off_t offset, int origin)
{
    xfer_t *x = ud;
    if (offset != 0 || origin != SEEK_SET || !x->req->body_rewind) return CURL_SEEKFUNC_CANTSEEK;
    return x->req->body_rewind(x->req->body_ud) == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    xfer_t *x = ud;
    size_t n = size * nmemb;
    if (x->req->body_write) {
        long status = 0;
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300) {
            if (x->req->body_write(x->req->body_write_ud, data, n) == 0) return n;
            x->write_failed = true;
            return 0;
        }
    }
    bool over = n > x->max - x->len;
    size_t k = over ? x->max - x->len : n;
    if (x->len + k + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 4096;
        while (cap < x->len + k + 1)
            cap *= 2;
        if (cap > x->max + 1) cap = x->max + 1;
        /* Not realloc: the old block, which may hold part of a token
         * answer, is wiped before it is freed. */
        char *grown = iz_xmalloc(cap);
        if (x->len) memcpy(grown, x->body, x->len);
        if (x->body) iz_wipe(x->body, x->len);
        free(x->body);
        x->body = grown;
        x->cap = cap;
    }
    memcpy(x->body + x->len, data, k);
    x->len += k;
    x->body[x->len] = '\0';
    if (over) {
        x->too_big = true;
        return 0; /* anything but n stops the transfer */
    }
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    xfer_t *x = ud;
    size_t n = size * nmemb;
    /* A new answer head (after a 100 Continue, say): only the last one's
     * headers count. */
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) x->retry_after_s = 0;
    if (n > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
        char v[64];
        size_t k = n - 12;
        if (k < sizeof v) {
            memcpy(v, data + 12, k);
            v[k] = '\0';
            long s;
            if (iz_httpc_retry_after(v, (int64_t)time(NULL), &s) == 0) x->retry_after_s = s;
        }
    }
    return n;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Called about once a second, and more often while data moves. libcurl's
 * own low-speed limit averages over several seconds, so the stall of a
 * streamed body is timed here instead. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)ut;
    xfer_t *x = ud;
    if (x->stall_ms) {
        int64_t now = mono_ms(), moved = (int64_t)dn + (int64_t)un;
        if (moved != x->moved) {
            x->moved = moved;
            x->moved_ms = now;
        } else if (now - x->moved_ms >= x->stall_ms) {
            x->stalled = true;
            return 1;
        }
    }
    if (x->abort && x->abort(x->abort_ud)) x->aborted = true;
    return x->aborted ? 1 : 0;
}

static iz_httpc_class_t classify(long status)
{
    if (status >= 200 && status < 300) return IZ_HTTPC_OK;
    if (status == 429 || status >= 500) return IZ_HTTPC_TRANSIENT;
    return IZ_HTTPC_CLIENT;
}

static int refuse(iz_httpc_res_t *res, const char *why)
{
    res->cls = IZ_HTTPC_CLIENT;
    snprintf(res->error, sizeof res->error, "%s", why);
    return IZ_EINVAL;
}

/* A numeric IPv4 or IPv6 address (what connect_addr must be). */
static bool good_addr(const char *a)
{
    unsigned char buf[16];
    return strlen(a) < 64 && (inet_pton(AF_INET, a, buf) == 1 || inet_pton(AF_INET6, a, buf) == 1);
}

/* Check a request against every limit of client.h; NULL when it may go,
 * else why not. */
static const char *check_req(const iz_httpc_req_t *req)
{
    if (!req->url || !good_url(req->url))
        return "the URL must be http:// or https:// with a host, without spaces";
    if (req->method && !good_method(req->method)) return "bad method";
    if (req->nheaders > IZ_HTTPC_HEADERS_MAX || (req->nheaders && !req->headers))
        return "too many headers";
    for (size_t i = 0; i < req->nheaders; i++)
        if (!req->headers[i] || !good_header(req->headers[i])) return "bad header line";
    if (req->content_type && bad_value(req->content_type, CONTENT_TYPE_MAX, NULL))
        return "bad content type";
    if (req->user && (bad_value(req->user, IZ_HTTPC_CRED_MAX, NULL) || strchr(req->user, ':')))
        return "bad Basic user (no ':' or control bytes)";
    if (req->user && req->password && bad_value(req->password, IZ_HTTPC_CRED_MAX, NULL))
        return "bad Basic password (control bytes or too long)";
    if (req->bearer && (bad_value(req->bearer, IZ_HTTPC_BEARER_MAX, NULL) || !req->bearer[0]))
        return "bad bearer token";
    if (req->timeout_ms < 0 || req->timeout_ms > IZ_HTTPC_TIMEOUT_MAX_MS ||
        req->connect_timeout_ms < 0 || req->connect_timeout_ms > IZ_HTTPC_TIMEOUT_MAX_MS)
        return "timeout out of range";
    if (req->max_body > IZ_HTTPC_BODY_MAX) return "answer limit out of range";
    if (req->body_len && !req->body) return "body length without a body";
    if (req->body_read && req->body) return "two bodies";
    if (req->body_read && req->body_size < -1) return "bad body size";
    if (req->connect_addr && !good_addr(req->connect_addr)) return "bad connect address";
    return NULL;
}

static struct curl_slist *add_line(struct curl_slist *l, const char *line)
{
    struct curl_slist *n = curl_slist_append(l, line);
    if (!n) iz_oom();
    return n;
}

/* The header list of a request; Authorization lines are built here. The
 * caller frees it with free_lines(). */
static struct curl_slist *request_lines(const iz_httpc_req_t *req)
{
    struct curl_slist *l = NULL;
    char line[IZ_HTTPC_HEADER_MAX + 64];
    for (size_t i = 0; i < req->nheaders; i++)
        l = add_line(l, req->headers[i]);
    if (req->body || req->body_read) {
        /* Without a type, curl would claim a form; an empty value sends
         * none. */
        if (req->content_type) {
            snprintf(line, sizeof line, "Content-Type: %s", req->content_type);
            l = add_line(l, line);
        } else {
            l = add_line(l, "Content-Type:");
        }
        /* No "Expect: 100-continue" wait for larger bodies: servers that
         * do not know it would stall every such request by a second. */
        l = add_line(l, "Expect:");
        if (req->body_read && req->body_size < 0) l = add_line(l, "Transfer-Encoding: chunked");
    }
    if (req->bearer) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", req->bearer);
        l = add_line(l, line);
    }
    if (req->user) {
        const char *pw = req->password ? req->password : "";
        size_t ul = strlen(req->user), pl = strlen(pw);
        char cred[2 * IZ_HTTPC_CRED_MAX + 2];
        char b64[sodium_base64_ENCODED_LEN(2 * IZ_HTTPC_CRED_MAX + 1,
                                           sodium_base64_VARIANT_ORIGINAL)];
        memcpy(cred, req->user, ul);
        cred[ul] = ':';
        memcpy(cred + ul + 1, pw, pl);
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)cred, ul + 1 + pl,
                          sodium_base64_VARIANT_ORIGINAL);
        snprintf(line, sizeof line, "Authorization: Basic %s", b64);
        l = add_line(l, line);
        iz_wipe(cred, sizeof cred);
        iz_wipe(b64, sizeof b64);
    }
    iz_wipe(line, sizeof line);
    return l;
}

/* Free a header list, wiping each line first: some hold credentials. */
static void free_lines(struct curl_slist *l)
{
    for (struct curl_slist *p = l; p; p = p->next)
        iz_wipe(p->data, strlen(p->data));
    curl_slist_free_all(l);
}

int iz_httpc_do(iz_httpc_t *c, const iz_httpc_req_t *req, iz_httpc_res_t *res)
{
    memset(res, 0, sizeof *res);
    const char *why = check_req(req);
    if (why) return refuse(res, why);
    bool has_body = req->body || req->body_read;
    const char *method = req->method ? req->method : has_body ? "POST" : "GET";
    long timeout = req->timeout_ms ? req->timeout_ms : IZ_HTTPC_TIMEOUT_DEFAULT_MS;
    long connect = req->connect_timeout_ms ? req->connect_timeout_ms : timeout;
    xfer_t x = {.max = req->max_body ? req->max_body : IZ_HTTPC_BODY_DEFAULT,
                .abort = req->abort,
                .abort_ud = req->abort_ud,
                .req = req};
    struct curl_slist *lines = request_lines(req);
    struct curl_slist *pin = NULL;
    if (req->connect_addr) {
        /* "::ADDR:" - any host and port of this exchange go to ADDR, the
         * same port. */
        char spec[80];
        snprintf(spec, sizeof spec,
                 strchr(req->connect_addr, ':') ? "::[%s]:" : "::%s:", req->connect_addr);
        pin = add_line(NULL, spec);
    }

    CURL *h = take_handle(c);
    x.h = h;
    CURLcode cc = curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, lines);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    if (pin) {
        curl_easy_setopt(h, CURLOPT_CONNECT_TO, pin);
        curl_easy_setopt(h, CURLOPT_PROXY, "");
    }
    if (req->body_read || req->body_write) {
        /* A streamed upload or download is bounded by its stalls, not its
         * length. */
        x.stall_ms = timeout;
        x.moved_ms = mono_ms();
    } else {
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    }
    if (req->abort || req->body_read || req->body_write) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") == 0 && !has_body) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        if (req->body) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        } else if (req->body_read) {
            curl_easy_setopt(h, CURLOPT_POST, 1L);
            curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(h, CURLOPT_READDATA, &x);
            curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
            curl_easy_setopt(h, CURLOPT_SEEKDATA, &x);
            if (req->body_size >= 0)
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_size);
        }
        if (strcmp(method, "POST") != 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    if (cc == CURLE_OK) cc = curl_easy_perform(h);
    long status = 0;
    curl_off_t us = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &us);
    long req_bytes = 0;
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &req_bytes);
    give_handle(c, h);
    free_lines(lines);
    curl_slist_free_all(pin);

    int rc = 0;
    res->retry_after_s = x.retry_after_s;
    res->body = x.body;
    res->body_len = x.len;
    res->sent = req_bytes > 0 || status != 0;
    if (cc == CURLE_OK) {
        res->status = status;
        res->cls = classify(status);
    } else if (x.too_big) {
        res->status = status;
        res->too_big = true;
        res->cls = IZ_HTTPC_TRANSIENT;
        snprintf(res->error, sizeof res->error, "answer too large");
        rc = IZ_ETOOBIG;
    } else {
        /* Half an answer is no answer: nothing of it is kept. */
        iz_httpc_res_clear(res);
        res->cls = IZ_HTTPC_TRANSIENT;
        res->timed_out = cc == CURLE_OPERATION_TIMEDOUT || x.stalled;
        res->aborted = x.aborted;
        res->sent = req_bytes > 0;
        snprintf(res->error, sizeof res->error, "%s",
                 x.read_failed    ? "cannot read the body"
                 : x.write_failed ? "cannot keep the answer"
                 : res->timed_out ? "timeout"
                 : res->aborted   ? "aborted"
                                  : curl_easy_strerror(cc));
        rc = IZ_EIO;
    }
    char host[128];
    shown_host(req->url, host, sizeof host);
    iz_logf(IZ_LOG_DEBUG, "httpc", "exchange", "method=%s host=%s status=%ld ms=%lld err=%s",
            method, host, res->status, (long long)(us / 1000), res->error);
    return rc;
}
