/*
 * http.c - the HTTP server: libmicrohttpd with an internal thread pool, a
 * bounded request body, a per-request arena, a route table with {param}
 * segments, bearer-key authentication and İYS-shaped JSON errors.
 *
 * Body handling: libmicrohttpd hands the body over in chunks; they are
 * appended to a buffer that never grows past cfg->max_body. A request whose
 * Content-Length is over the limit, or whose chunked body grows past it, is
 * answered 413 at once, so nothing oversized ever reaches a handler.
 *
 * Answers given before the end of the body: libmicrohttpd 0.9.75 takes an
 * answer only in the first call of the access handler (before the body) or
 * in the last (after it); one taken in the first call makes it skip the
 * body and close the connection right after the answer, with the body still
 * unread, so the kernel resets the connection and a client that sends its
 * whole body before reading (Python requests, most scripts) sees a reset
 * instead of the answer. Such answers are therefore written to the socket
 * here (answer_raw), the sending side is shut down, and the rest of the body
 * is read and dropped for at most cfg->linger_ms and cfg->linger_max bytes
 * before the connection closes: the lingering close of nginx and Apache.
 * The exception is a client waiting for "100 Continue": it has sent no
 * body, so libmicrohttpd may answer in its own way.
 *
 * Connection limits: every connection is registered in a table from
 * libmicrohttpd's STARTED notification to its CLOSED one (which 0.9.75
 * sends before it closes the socket, so the table never holds a reused
 * descriptor). The accept policy callback counts connections per client
 * address; the access handler and the completion callback move a
 * connection through its phases (headers, body, work, linger); a reaper
 * thread shuts down the connections past their phase's deadline, which
 * libmicrohttpd's own timeout cannot do: it is an inactivity timeout, and a
 * client sending one byte a second is never inactive.
 *
 * Control bytes: libmicrohttpd percent-decodes the path and the query
 * arguments (through the unescape callback here) into C strings, so "%00"
 * would silently cut a value and "%0A" would put a line break into a path.
 * The unescape callback flags a connection whose request target decodes to
 * a control byte, and its request is answered 400 before routing, as is one
 * with a control byte other than tab in a header. (A raw NUL byte in a
 * header or the request line is beyond reach: libmicrohttpd 0.9.75 stores
 * those lines as C strings, cut at the NUL, before any callback runs.)
 */
#include "net/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/hcode.h"
#include "core/histo.h"
#include "core/iz.h"
#include "sys/log.h"

#define IZ_DEFAULT_MAX_BODY (1u << 20)
#define IZ_DEFAULT_MAX_HEADER (16u << 10)
#define IZ_DEFAULT_PER_IP 128
#define IZ_DEFAULT_HEADER_TIMEOUT_MS 10000
#define IZ_DEFAULT_BODY_GRACE_MS 10000
#define IZ_DEFAULT_BODY_MIN_RATE 1024
#define IZ_DEFAULT_LINGER_MS 10000
#define IZ_DEFAULT_LINGER_MAX ((uint64_t)256 << 20)
#define IZ_MAX_CONNECTIONS 65536
#define IZ_MAX_PARAMS 4
#define IZ_MAX_SEGMENTS 16
#define IZ_MAX_EXTRA_HEADERS 16
#define IZ_ARENA_BLOCK 4096
#define IZ_IP_BUCKETS 1024

/* What a connection is doing, for its deadline. */
typedef enum conn_phase {
    PH_HEADERS, /* waiting for complete request headers: header_timeout_ms */
    PH_BODY,    /* receiving a body: body_grace_ms plus body_min_rate */
    PH_WORK,    /* a handler runs or the answer goes out: no deadline of ours */
    PH_LINGER,  /* answered early, dropping the rest of the body: linger_ms */
} conn_phase_t;

/* Open connections of one client address. */
typedef struct ipcount {
    struct ipcount *next;
    unsigned char addr[16]; /* IPv6, or IPv4 as ::ffff:a.b.c.d */
    unsigned count;
} ipcount_t;

/* One connection, from libmicrohttpd's STARTED notification to its CLOSED
 * one (its socket context). The fields up to `reaped` are guarded by the
 * server's mutex; bad_target is only touched by the connection's thread. */
typedef struct conn {
    struct conn *prev, *next;
    int fd;
    ipcount_t *ip; /* NULL for a non-IP client */
    conn_phase_t phase;
    int64_t since;   /* monotonic ms: start of the phase (see reaper_verdict) */
    uint64_t bytes;  /* body bytes read in the phase */
    unsigned served; /* requests finished on this connection */
    bool started;    /* kept-alive: the next request has begun arriving */
    bool reaped;
    bool bad_target; /* the path or query decoded to a control byte */
} conn_t;

/* Requests and latency of one route (cfg.routes[i]; one more entry for the
 * requests no route took): relaxed atomic adds, no lock on the way. */
typedef struct route_stat {
    _Atomic uint64_t by_class[IZ_HTTP_CLASSES];
    iz_histo_t latency;
} route_stat_t;

struct iz_http {
    struct MHD_Daemon *d;
    int fd;
    uint16_t port;
    iz_http_config_t cfg;
    uint64_t nofile;    /* RLIMIT_NOFILE in force */
    pthread_mutex_t mu; /* guards everything below, and conn_t's shared fields */
    pthread_cond_t wake;
    pthread_t reaper;
    bool reaper_running, stopping;
    conn_t *conns;
    ipcount_t *ips[IZ_IP_BUCKETS];
    iz_http_stats_t stats;
    route_stat_t *routes; /* cfg.nroutes + 1 entries, not guarded by mu */
    /* Counts not yet logged: the reaper writes one line a tick at most, so
     * that a flood cannot flood the log too. */
    uint64_t unlogged_refused, unlogged_headers, unlogged_body, unlogged_linger;
    char unlogged_remote[INET6_ADDRSTRLEN];
    /* Outside calls (iz_req_defer), guarded by mu: the works waiting for a
     * worker (a FIFO; q_len counts places taken, a reservation included),
     * the works whose request still waits for its answer (the reaper's
     * list for time limits), and the requests suspended until their
     * answer has been given. */
    pthread_cond_t work_cv; /* a work was queued, or the server stops */
    pthread_t *workers;
    unsigned nworkers;
    iz_work_t *q_head, *q_tail;
    unsigned q_len;
    iz_work_t *waiting;
    unsigned suspended, resuming;
};

/* One deferred request's work (iz_req_defer). Freed, with its arg, once
 * both sides are through with it: the worker (work_over) and the request
 * (req_over). The fields are guarded by the server's mutex, except
 * cancelled (read by the work without it). */
struct iz_work {
    iz_http_t *h;
    struct iz_work *next;          /* in the queue */
    struct iz_work *wprev, *wnext; /* in h->waiting while the request waits */
    struct iz_work *resume_next;   /* in a list of works being resumed now */
    struct MHD_Connection *c;
    iz_work_fn work;
    iz_defer_end_fn end;
    void (*free_arg)(void *);
    void *arg;
    int64_t deadline; /* monotonic ms */
    iz_defer_end_t how;
    bool resumed, work_over, req_over;
    _Atomic bool cancelled;
};

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    max_align_t data[];
} arena_block_t;

/* Where a request is in libmicrohttpd's calls of the access handler. */
typedef enum req_stage {
    STAGE_FIRST, /* the first call: headers complete, body not read */
    STAGE_BODY,  /* between the first and the last call: the body arrives */
    STAGE_FINAL, /* the last call: the body is complete */
} req_stage_t;

struct iz_req {
    iz_http_t *h;
    struct MHD_Connection *c;
    conn_t *conn; /* NULL only if libmicrohttpd gave no socket context */
    const char *method;
    const char *path;
    char *body;
    size_t body_len, body_cap;
    bool replied;
    int64_t account;
    int status;
    const iz_route_t *route;
    req_stage_t stage;
    bool has_body;        /* Content-Length over 0, or a Transfer-Encoding */
    bool expect_continue; /* the client waits for "100 Continue" before its body */
    bool lingering;       /* answered early; the rest of the body is dropped */
    bool close_now;       /* the early answer could not be written: close */
    uint64_t dropped;     /* body bytes dropped while lingering */
    /* streaming (IZ_ROUTE_STREAM) */
    bool stream_begin, streaming, buffered;
    size_t body_max; /* a buffered body's limit: 0 for the server's max_body */
    iz_chunk_fn chunk;
    iz_done_fn done;
    iz_state_free_fn state_free;
    void *state;
    uint64_t streamed;
    struct timespec start;
    size_t nparams;
    const char *pname[IZ_MAX_PARAMS];
    const char *pval[IZ_MAX_PARAMS];
    size_t nextra;
    char *extra_name[IZ_MAX_EXTRA_HEADERS];
    char *extra_val[IZ_MAX_EXTRA_HEADERS];
    char remote[INET6_ADDRSTRLEN];
    arena_block_t *arena;
    iz_work_t *work; /* deferred: the work whose end answers */
};

static void work_release_req(iz_http_t *h, iz_work_t *w);

/* ---- arena ---------------------------------------------------------------- */

void *iz_req_alloc(iz_req_t *r, size_t n)
{
    size_t need = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    arena_block_t *b = r->arena;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > IZ_ARENA_BLOCK ? need : IZ_ARENA_BLOCK;
        b = iz_xmalloc(sizeof(*b) + cap);
        b->cap = cap;
        b->used = 0;
        b->next = r->arena;
        r->arena = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += need;
    memset(p, 0, n);
    return p;
}

char *iz_req_strdup(iz_req_t *r, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = iz_req_alloc(r, n);
    memcpy(p, s, n);
    return p;
}

static void req_free(iz_req_t *r)
{
    /* Resumed but ended before its answer (the client went away). */
    if (r->work) work_release_req(r->h, r->work);
    if (r->state_free && r->state) r->state_free(r->state);
    arena_block_t *b = r->arena;
    while (b) {
        arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    free(r->body);
    free(r);
}

/* ---- accessors ------------------------------------------------------------ */

const char *iz_req_method(const iz_req_t *r)
{
    return r->method;
}

const char *iz_req_path(const iz_req_t *r)
{
    return r->path;
}

const char *iz_req_param(const iz_req_t *r, const char *name)
{
    for (size_t i = 0; i < r->nparams; i++)
        if (strcmp(r->pname[i], name) == 0) return r->pval[i];
    return NULL;
}

const char *iz_req_query(const iz_req_t *r, const char *name)
{
    return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, name);
}

const char *iz_req_header(const iz_req_t *r, const char *name)
{
    return MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, name);
}

const char *iz_req_body(const iz_req_t *r, size_t *len)
{
    *len = r->body_len;
    return r->body ? r->body : "";
}

int64_t iz_req_account(const iz_req_t *r)
{
    return r->account;
}

const iz_route_t *iz_req_route(const iz_req_t *r)
{
    return r->route;
}

int iz_req_status(const iz_req_t *r)
{
    return r->status;
}

const char *iz_req_remote(const iz_req_t *r)
{
    return r->remote;
}

bool iz_req_content_type_is(const iz_req_t *r, const char *type)
{
    const char *ct = iz_req_header(r, "Content-Type");
    if (!ct) return false;
    while (*ct == ' ')
        ct++;
    size_t n = strlen(type);
    if (strncasecmp(ct, type, n) != 0) return false;
    char c = ct[n];
    return c == '\0' || c == ';' || c == ' ';
}

bool iz_req_english(const iz_req_t *r)
{
    const char *al = iz_req_header(r, "Accept-Language");
    return al && strncasecmp(al, "en", 2) == 0;
}

/* ---- answers -------------------------------------------------------------- */

/* True when s holds a byte that would end or split a header line (CR, LF,
 * NUL cannot occur) or any other control byte; a tab only where tab_ok. */
static bool header_unsafe(const char *s, bool tab_ok)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && !(tab_ok && *p == '\t')) || *p == 0x7f) return true;
    return false;
}

void iz_reply_header(iz_req_t *r, const char *name, const char *value)
{
    if (header_unsafe(name, false) || header_unsafe(value, true)) {
        /* A value built from what a client sent (a file name, a redirect)
         * must never add a header or split the answer: it is left out,
         * and the handler that tried is named in the log. */
        iz_logf(IZ_LOG_ERROR, "http", "answer header with a control byte left out",
                "path=%s header=%s", r->path, name);
        return;
    }
    if (r->nextra >= IZ_MAX_EXTRA_HEADERS) {
        /* A handler that sets this many headers is wrong; say so rather
         * than send an answer without one of them. */
        iz_logf(IZ_LOG_ERROR, "http", "too many answer headers: one dropped",
                "path=%s header=%s", r->path, name);
        return;
    }
    r->extra_name[r->nextra] = iz_req_strdup(r, name);
    r->extra_val[r->nextra] = iz_req_strdup(r, value);
    r->nextra++;
}

/* The headers every answer carries, besides its content type and the
 * handler's own. */
static const char *const std_headers[][2] = {
    {"X-Content-Type-Options", "nosniff"},
    {MHD_HTTP_HEADER_CACHE_CONTROL, "no-store"},
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Move c to phase ph, starting its clock; bytes counts again from 0. */
static void set_phase(iz_http_t *h, conn_t *c, conn_phase_t ph)
{
    if (!c) return;
    pthread_mutex_lock(&h->mu);
    c->phase = ph;
    c->since = now_ms();
    c->bytes = 0;
    pthread_mutex_unlock(&h->mu);
}

/* Whether an answer given now must bypass libmicrohttpd (see the top of
 * this file): it is given while the body arrives, or before a body that the
 * client sends without waiting for "100 Continue". */
static bool answer_early(const iz_req_t *r)
{
    if (r->stage == STAGE_BODY) return true;
    return r->stage == STAGE_FIRST && r->has_body && !r->expect_continue;
}

/* The date of an HTTP answer (RFC 9110 IMF-fixdate), in English whatever
 * the locale. */
static void http_date(char out[32])
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Write all of buf to the non-blocking socket fd; 0, or -1 when it cannot
 * take it within about 100 ms (it never should: nothing else is being sent
 * while a request body arrives). */
static int send_all(int fd, const char *buf, size_t len)
{
    int waits = 0;
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waits++ < 10) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, 10);
        } else {
            return -1;
        }
    }
    return 0;
}

/* Append "name: value\r\n" to buf (cap bytes, sized by the caller so that
 * everything fits; a header that would not is left out, never cut). */
static void put_header(char *buf, size_t cap, size_t *len, const char *name, const char *value)
{
    int n = snprintf(buf + *len, cap - *len, "%s: %s\r\n", name, value);
    if (n > 0 && (size_t)n < cap - *len) *len += (size_t)n;
}

/* Answer now on the socket itself and start the lingering close (see the
 * top of this file): the connection will close once the body has been read
 * and dropped, or at the linger bound. */
static void answer_raw(iz_req_t *r, int status, const char *content_type, const char *body,
                       size_t len)
{
    bool head = strcmp(r->method, "HEAD") == 0;
    size_t cap = 256 + (content_type ? strlen(content_type) : 0) + (head ? 0 : len);
    for (size_t i = 0; i < IZ_ARRAY_LEN(std_headers); i++)
        cap += strlen(std_headers[i][0]) + strlen(std_headers[i][1]) + 4;
    for (size_t i = 0; i < r->nextra; i++)
        cap += strlen(r->extra_name[i]) + strlen(r->extra_val[i]) + 4;
    char *buf = iz_req_alloc(r, cap);
    const char *reason = MHD_get_reason_phrase_for((unsigned)status);
    char date[32], clen[24];
    http_date(date);
    snprintf(clen, sizeof clen, "%zu", len);
    size_t n = (size_t)snprintf(buf, cap, "HTTP/1.1 %d %s\r\n", status, reason ? reason : "");
    put_header(buf, cap, &n, MHD_HTTP_HEADER_DATE, date);
    put_header(buf, cap, &n, MHD_HTTP_HEADER_CONNECTION, "close");
    put_header(buf, cap, &n, MHD_HTTP_HEADER_CONTENT_LENGTH, clen);
    if (content_type) put_header(buf, cap, &n, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    for (size_t i = 0; i < IZ_ARRAY_LEN(std_headers); i++)
        put_header(buf, cap, &n, std_headers[i][0], std_headers[i][1]);
    for (size_t i = 0; i < r->nextra; i++)
        put_header(buf, cap, &n, r->extra_name[i], r->extra_val[i]);
    r->replied = true;
    r->status = status;
    r->lingering = true;
    if (n + 2 + (head ? 0 : len) > cap) { /* cap counts every byte; never reached */
        r->close_now = true;
        return;
    }
    memcpy(buf + n, "\r\n", 2);
    n += 2;
    if (!head) {
        memcpy(buf + n, body, len);
        n += len;
    }
    int fd = r->conn ? r->conn->fd : -1;
    if (fd < 0 || send_all(fd, buf, n) != 0) {
        r->close_now = true;
        return;
    }
    /* The FIN follows the answer, so the client sees a complete answer
     * whatever it does next; its sending side stays open for the rest of
     * its body. */
    shutdown(fd, SHUT_WR);
    set_phase(r->h, r->conn, PH_LINGER);
}

/* Queue resp with libmicrohttpd (before the body or after it). */
static void queue(iz_req_t *r, int status, const char *content_type, struct MHD_Response *resp)
{
    r->replied = true;
    r->status = status;
    if (content_type) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    for (size_t i = 0; i < IZ_ARRAY_LEN(std_headers); i++)
        MHD_add_response_header(resp, std_headers[i][0], std_headers[i][1]);
    for (size_t i = 0; i < r->nextra; i++)
        MHD_add_response_header(resp, r->extra_name[i], r->extra_val[i]);
    MHD_queue_response(r->c, (unsigned)status, resp);
    MHD_destroy_response(resp);
}

void iz_reply_bytes(iz_req_t *r, int status, const char *content_type, const char *body, size_t len)
{
    if (r->replied) return;
    if (answer_early(r)) {
        answer_raw(r, status, content_type, body, len);
        return;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) iz_oom();
    queue(r, status, content_type, resp);
}

void iz_reply_fd(iz_req_t *r, int status, const char *content_type, int fd, uint64_t size)
{
    if (r->replied || answer_early(r)) {
        /* A file answer is meant for the end of the body (a stream route's
         * done); given earlier, it cannot be written on the raw socket. */
        close(fd);
        iz_reply_error(r, "IZ500", NULL);
        return;
    }
    off_t off = lseek(fd, 0, SEEK_CUR);
    struct MHD_Response *resp =
        MHD_create_response_from_fd_at_offset64(size, fd, off < 0 ? 0 : (uint64_t)off);
    if (!resp) iz_oom();
    queue(r, status, content_type, resp);
}

void iz_req_stream(iz_req_t *r, iz_chunk_fn chunk, iz_done_fn done, iz_state_free_fn free_state,
                   void *state)
{
    r->chunk = chunk;
    r->done = done;
    r->state_free = free_state;
    r->state = state;
}

void iz_req_buffer(iz_req_t *r)
{
    r->buffered = true;
}

void iz_req_buffer_max(iz_req_t *r, size_t max)
{
    r->buffered = true;
    r->body_max = max;
}

/* The most body bytes this request may bring. */
static size_t body_limit(const iz_req_t *r)
{
    return r->body_max ? r->body_max : r->h->cfg.max_body;
}

bool iz_req_streaming(const iz_req_t *r)
{
    return r->stream_begin;
}

void iz_reply_json(iz_req_t *r, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text) iz_oom();
    size_t n = strlen(text);
    /* A trailing newline makes curl output readable and costs nothing. */
    char *withnl = iz_req_alloc(r, n + 2);
    memcpy(withnl, text, n);
    withnl[n] = '\n';
    free(text);
    iz_reply_bytes(r, status, "application/json; charset=utf-8", withnl, n + 1);
}

json_t *iz_error_json(const iz_req_t *r, const iz_error_t *e)
{
    const iz_hcode_t *hc = iz_hcode(e->code);
    const char *msg = e->message;
    if (!msg) msg = hc ? (iz_req_english(r) ? hc->en : hc->tr) : e->code;
    json_t *o = json_pack("{s:s, s:s}", "code", e->code, "message", msg);
    if (!o) iz_oom();
    if (e->location) json_object_set_new(o, "location", json_pack("[s]", e->location));
    if (e->value) json_object_set(o, "value", e->value);
    if (e->index >= 0) json_object_set_new(o, "index", json_integer(e->index));
    return o;
}

void iz_reply_errors(iz_req_t *r, int status, const iz_error_t *errs, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, iz_error_json(r, &errs[i]));
    iz_reply_json(r, status, json_pack("{s:o}", "errors", list));
}

void iz_reply_error(iz_req_t *r, const char *code, const char *message)
{
    iz_error_t e = {.code = code, .message = message, .index = -1};
    iz_reply_errors(r, iz_hcode_http(code), &e, 1);
}

json_t *iz_req_json(iz_req_t *r)
{
    if (!iz_req_content_type_is(r, "application/json")) {
        iz_reply_error(r, "IZ415", NULL);
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        iz_error_t e = {.code = "H014", .index = -1};
        char msg[256];
        snprintf(msg, sizeof msg, "%s (%s)",
                 iz_req_english(r) ? "The request must be valid JSON"
                                   : "Gönderilen istek JSON formatına uygun olmalıdır",
                 jerr.text);
        e.message = msg;
        iz_reply_errors(r, 400, &e, 1);
        return NULL;
    }
    return j;
}

json_t *iz_req_json_object(iz_req_t *r, const char *code)
{
    json_t *body = iz_req_json(r);
    if (body && !json_is_object(body)) {
        iz_reply_error(r, code, NULL);
        json_decref(body);
        body = NULL;
    }
    return body;
}

const char *iz_json_unknown_key(json_t *obj, const char *const *known, size_t n)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        bool ok = false;
        for (size_t i = 0; i < n && !ok; i++)
            ok = strcmp(k, known[i]) == 0;
        if (!ok) return k;
    }
    return NULL;
}

/* ---- outside calls: deferred work --------------------------------------------
 *
 * A handler that needs an outside service calls iz_req_defer: the
 * connection is suspended (MHD_suspend_connection, from the access
 * handler as libmicrohttpd requires), the work is queued for the pool of
 * outside-call workers, and the server thread goes back to other
 * connections. Whoever comes first - the worker when the work ends, the
 * reaper when the time limit passes, the stop - marks the work resumed
 * and calls MHD_resume_connection; libmicrohttpd then calls the access
 * handler again (the body is complete, no answer queued), which runs the
 * end function on a server thread. MHD_resume_connection is called
 * without the server's mutex held (it takes libmicrohttpd's own locks,
 * which its callbacks may hold while they take ours); `resuming` counts
 * the calls under way so that the stop never stops the daemon under one. */

static void work_free(iz_work_t *w)
{
    if (w->free_arg)
        w->free_arg(w->arg);
    else
        free(w->arg);
    free(w);
}

/* Take w out of h->waiting and mark it resumed with how. Called with h->mu
 * held, for a work not resumed yet. */
static void work_mark_resumed(iz_http_t *h, iz_work_t *w, iz_defer_end_t how)
{
    w->resumed = true;
    w->how = how;
    if (how != IZ_DEFER_DONE) atomic_store(&w->cancelled, true);
    if (w->wprev)
        w->wprev->wnext = w->wnext;
    else
        h->waiting = w->wnext;
    if (w->wnext) w->wnext->wprev = w->wprev;
    w->wprev = w->wnext = NULL;
    h->resuming++;
}

/* Resume the connections of a list of works marked resumed (called without
 * h->mu). A work may be freed as soon as its connection resumes, so the
 * next one and the connection are read first. */
static void work_resume_list(iz_http_t *h, iz_work_t *list)
{
    unsigned n = 0;
    for (iz_work_t *w = list, *next; w; w = next) {
        next = w->resume_next;
        struct MHD_Connection *c = w->c;
        MHD_resume_connection(c);
        n++;
    }
    if (!n) return;
    pthread_mutex_lock(&h->mu);
    h->resuming -= n;
    pthread_cond_broadcast(&h->wake);
    pthread_mutex_unlock(&h->mu);
}

/* The request's side is through with w: it answered, or ended without. */
static void work_release_req(iz_http_t *h, iz_work_t *w)
{
    pthread_mutex_lock(&h->mu);
    w->req_over = true;
    h->suspended--;
    bool free_now = w->work_over;
    pthread_cond_broadcast(&h->wake);
    pthread_mutex_unlock(&h->mu);
    if (free_now) work_free(w);
}

static void *worker_main(void *arg)
{
    iz_http_t *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->q_head && !h->stopping)
            pthread_cond_wait(&h->work_cv, &h->mu);
        iz_work_t *w = h->q_head;
        if (!w) break;
        h->q_head = w->next;
        if (!h->q_head) h->q_tail = NULL;
        h->q_len--;
        /* A work whose time limit passed while it waited is not started:
         * nobody waits for it, and the service it calls is the slow one. */
        bool run = !w->resumed;
        if (run) h->stats.outside_running++;
        pthread_mutex_unlock(&h->mu);
        if (run) w->work(w, w->arg);
        pthread_mutex_lock(&h->mu);
        if (run) h->stats.outside_running--;
        w->work_over = true;
        if (!w->resumed) {
            work_mark_resumed(h, w, IZ_DEFER_DONE);
            h->stats.outside_done++;
            w->resume_next = NULL;
            pthread_mutex_unlock(&h->mu);
            work_resume_list(h, w);
            pthread_mutex_lock(&h->mu);
        } else if (w->req_over) {
            pthread_mutex_unlock(&h->mu);
            work_free(w);
            pthread_mutex_lock(&h->mu);
        }
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* Resume the requests whose time limit passed (all of them when the
 * server stops). Called by the reaper with h->mu held; drops it while
 * resuming. */
static void defer_reap(iz_http_t *h, int64_t now, bool all)
{
    iz_work_t *list = NULL;
    for (iz_work_t *w = h->waiting, *next; w; w = next) {
        next = w->wnext;
        if (!all && w->deadline > now) continue;
        work_mark_resumed(h, w, IZ_DEFER_LATE);
        h->stats.outside_late++;
        w->resume_next = list;
        list = w;
    }
    if (!list) return;
    pthread_mutex_unlock(&h->mu);
    work_resume_list(h, list);
    pthread_mutex_lock(&h->mu);
}

bool iz_work_cancelled(const iz_work_t *w)
{
    return atomic_load(&w->cancelled);
}

void iz_req_defer(iz_req_t *r, iz_work_fn work, iz_defer_end_fn end, void (*free_arg)(void *),
                  void *arg, unsigned timeout_ms)
{
    iz_http_t *h = r->h;
    bool usable = r->stage == STAGE_FINAL && !r->replied && !r->work;
    pthread_mutex_lock(&h->mu);
    bool full = !usable || h->stopping || h->q_len >= h->cfg.outside_queue;
    if (full && usable) h->stats.outside_full++;
    if (!full) h->q_len++; /* the place is taken now; the work comes once suspended */
    pthread_mutex_unlock(&h->mu);
    if (full) {
        if (!usable)
            iz_logf(IZ_LOG_ERROR, "http", "iz_req_defer before the body or after an answer",
                    "path=%s", r->path);
        end(r, arg, IZ_DEFER_FULL);
        if (free_arg)
            free_arg(arg);
        else
            free(arg);
        return;
    }
    iz_work_t *w = iz_xcalloc(1, sizeof *w);
    w->h = h;
    w->c = r->c;
    w->work = work;
    w->end = end;
    w->free_arg = free_arg;
    w->arg = arg;
    w->deadline = now_ms() + (int64_t)timeout_ms;
    r->work = w;
    /* Suspended before any worker can see the work (and resume it). */
    MHD_suspend_connection(r->c);
    pthread_mutex_lock(&h->mu);
    h->suspended++;
    if (h->q_tail)
        h->q_tail->next = w;
    else
        h->q_head = w;
    h->q_tail = w;
    w->wnext = h->waiting;
    if (h->waiting) h->waiting->wprev = w;
    h->waiting = w;
    pthread_cond_signal(&h->work_cv);
    pthread_mutex_unlock(&h->mu);
}

/* The access handler's call after a deferred request was resumed: its end
 * answers, on this server thread. */
static enum MHD_Result defer_answer(iz_req_t *r)
{
    iz_work_t *w = r->work;
    pthread_mutex_lock(&r->h->mu);
    iz_defer_end_t how = w->how;
    pthread_mutex_unlock(&r->h->mu);
    w->end(r, w->arg, how);
    if (!r->replied) iz_reply_error(r, "IZ500", NULL);
    r->work = NULL;
    work_release_req(r->h, w);
    return MHD_YES;
}

void iz_reply_defer_failed(iz_req_t *r, iz_defer_end_t how, const char *what_tr,
                           const char *what_en)
{
    char msg[256];
    bool en = iz_req_english(r);
    if (how == IZ_DEFER_LATE)
        snprintf(msg, sizeof msg,
                 en ? "%s did not answer in time; try again later"
                    : "%s zamanında yanıt vermedi; lütfen biraz sonra tekrar deneyin.",
                 en ? what_en : what_tr);
    else
        snprintf(msg, sizeof msg, "%s",
                 en ? "the server is busy with calls to outside services; try again shortly"
                    : "Sunucu şu anda dış hizmet çağrılarıyla dolu; lütfen biraz sonra tekrar "
                      "deneyin.");
    iz_reply_header(r, "Retry-After", how == IZ_DEFER_LATE ? "5" : "1");
    iz_reply_error(r, "IZ503", msg);
}

/* ---- routing -------------------------------------------------------------- */

/* Match path against pattern, filling r's params. Segments are compared
 * literally except {name}, which takes one non-empty segment. */
static bool route_match(iz_req_t *r, const char *pattern, const char *path)
{
    size_t np = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/') return false;
        p++;
        s++;
        const char *pe = strchr(p, '/');
        const char *se = strchr(s, '/');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        size_t sl = se ? (size_t)(se - s) : strlen(s);
        if (pl >= 2 && p[0] == '{' && p[pl - 1] == '}') {
            if (sl == 0 || np >= IZ_MAX_PARAMS) return false;
            char *name = iz_req_alloc(r, pl - 1);
            memcpy(name, p + 1, pl - 2);
            char *val = iz_req_alloc(r, sl + 1);
            memcpy(val, s, sl);
            r->pname[np] = name;
            r->pval[np] = val;
            np++;
        } else if (pl != sl || memcmp(p, s, pl) != 0) {
            return false;
        }
        p += pl;
        s += sl;
    }
    if (*p || *s) return false;
    r->nparams = np;
    return true;
}

static bool method_ok(const char *method, const iz_route_t *rt)
{
    return strcmp(rt->method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0);
}

const iz_route_t *iz_http_route(iz_req_t *r, const iz_route_t *routes, size_t n, const char *method,
                                const char *path, bool stream_only, bool *path_known)
{
    if (path_known) *path_known = false;
    r->nparams = 0;
    for (size_t i = 0; i < n; i++) {
        const iz_route_t *rt = &routes[i];
        if (stream_only && !(rt->flags & IZ_ROUTE_STREAM)) continue;
        if (!route_match(r, rt->pattern, path)) continue;
        if (path_known) *path_known = true;
        if (method_ok(method, rt)) return rt;
    }
    r->nparams = 0;
    return NULL;
}

iz_req_t *iz_req_detached(void)
{
    return iz_xcalloc(1, sizeof(iz_req_t));
}

void iz_req_detached_free(iz_req_t *r)
{
    if (r) req_free(r);
}

/* The gate and the bearer key of route rt; false when the request has been
 * answered (refused). */
static bool admit(iz_req_t *r, const iz_route_t *rt)
{
    const iz_http_config_t *cfg = &r->h->cfg;
    r->route = rt;
    if (cfg->gate && cfg->gate(cfg->app, r)) {
        if (!r->replied) iz_reply_error(r, "IZ500", NULL);
        return false;
    }
    if (rt->flags & IZ_ROUTE_AUTH) {
        const char *a = iz_req_header(r, "Authorization");
        int64_t acct = 0;
        int arc = IZ_ENOTFOUND;
        if (a && strncasecmp(a, "Bearer ", 7) == 0 && strlen(a + 7) <= 256 && cfg->auth)
            arc = cfg->auth(cfg->app, a + 7, &acct);
        if (arc != 0 && arc != IZ_ENOTFOUND && arc != IZ_EINVAL) {
            /* The key cannot be looked up now (the store is down): a 401
             * would tell a right key it is wrong. */
            iz_reply_error(r, "IZ503", NULL);
            return false;
        }
        if (arc != 0 || acct <= 0) {
            iz_reply_header(r, "WWW-Authenticate", "Bearer");
            iz_reply_error(r, "IZ401", NULL);
            return false;
        }
        r->account = acct;
    }
    return true;
}

static void dispatch(iz_req_t *r)
{
    const iz_http_config_t *cfg = &r->h->cfg;
    bool path_known = false;
    const iz_route_t *rt =
        iz_http_route(r, cfg->routes, cfg->nroutes, r->method, r->path, false, &path_known);
    if (!rt) {
        iz_reply_error(r, path_known ? "IZ405" : "IZ404", NULL);
        return;
    }
    if (!admit(r, rt)) return;
    rt->fn(r, cfg->app);
    if (!r->replied && !r->work) iz_reply_error(r, "IZ500", NULL);
}

/* A stream route is decided before its body: match, admit and let its fn
 * choose. Returns false when this is no stream route (normal dispatch at the
 * end of the body). */
static bool stream_begin(iz_req_t *r)
{
    const iz_http_config_t *cfg = &r->h->cfg;
    const iz_route_t *rt =
        iz_http_route(r, cfg->routes, cfg->nroutes, r->method, r->path, true, NULL);
    if (!rt) return false;
    if (!admit(r, rt)) return true;
    r->stream_begin = true;
    rt->fn(r, cfg->app);
    r->stream_begin = false;
    if (r->replied) return true;
    if (r->chunk && r->done) {
        r->streaming = true;
    } else if (!r->buffered) {
        iz_reply_error(r, "IZ500", NULL);
    }
    return true;
}

/* ---- connection table and per-address counts ------------------------------ */

/* The 16-byte key of a client address (IPv4 as ::ffff:a.b.c.d, so that a
 * v4-mapped client counts with its IPv4 self); -1 for a non-IP address. */
static int addr_key(const struct sockaddr *sa, socklen_t len, unsigned char key[16])
{
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(key, mapped, 12);
        memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return 0;
    }
    return -1;
}

static void key_text(const unsigned char key[16], char out[INET6_ADDRSTRLEN])
{
    struct in6_addr a;
    memcpy(&a, key, 16);
    if (IN6_IS_ADDR_V4MAPPED(&a))
        inet_ntop(AF_INET, key + 12, out, INET6_ADDRSTRLEN);
    else
        inet_ntop(AF_INET6, key, out, INET6_ADDRSTRLEN);
}

static size_t key_bucket(const unsigned char key[16])
{
    uint32_t x = 2166136261u; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        x = (x ^ key[i]) * 16777619u;
    return x % IZ_IP_BUCKETS;
}

/* One count less for ip, freed at zero. Called with h->mu held. */
static void ip_release(iz_http_t *h, ipcount_t *ip)
{
    if (--ip->count > 0) return;
    ipcount_t **pp = &h->ips[key_bucket(ip->addr)];
    while (*pp != ip)
        pp = &(*pp)->next;
    *pp = ip->next;
    free(ip);
}

/* The count an accepted connection holds between the accept policy callback
 * and the STARTED notification. libmicrohttpd runs both in the worker thread
 * that accepted, one right after the other, so a thread-local slot carries
 * it; one left behind (libmicrohttpd failed in between, out of memory) is
 * given back at that thread's next accept. */
static _Thread_local struct {
    iz_http_t *h;
    ipcount_t *ip;
} reserved;

/* Accept policy: refuse a client address that already has max_per_ip
 * connections open. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    iz_http_t *h = cls;
    unsigned char key[16];
    if (addr_key(addr, addrlen, key) != 0) return MHD_YES;
    pthread_mutex_lock(&h->mu);
    if (reserved.h == h && reserved.ip) ip_release(h, reserved.ip);
    reserved.h = NULL;
    reserved.ip = NULL;
    size_t b = key_bucket(key);
    ipcount_t *ip = h->ips[b];
    while (ip && memcmp(ip->addr, key, 16) != 0)
        ip = ip->next;
    if (ip && ip->count >= h->cfg.max_per_ip) {
        h->stats.refused_per_ip++;
        h->unlogged_refused++;
        key_text(key, h->unlogged_remote);
        pthread_mutex_unlock(&h->mu);
        return MHD_NO;
    }
    if (!ip) {
        ip = iz_xcalloc(1, sizeof *ip);
        memcpy(ip->addr, key, 16);
        ip->next = h->ips[b];
        h->ips[b] = ip;
    }
    ip->count++;
    reserved.h = h;
    reserved.ip = ip;
    pthread_mutex_unlock(&h->mu);
    return MHD_YES;
}

/* Register a connection when it starts and remove it when it closes.
 * libmicrohttpd 0.9.75 sends CLOSED before it closes the socket, so the
 * reaper, which only touches sockets of registered connections under the
 * same mutex, never shuts down a descriptor that was closed and reused. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    iz_http_t *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_t *cn = iz_xcalloc(1, sizeof *cn);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        cn->fd = ci ? ci->connect_fd : -1;
        cn->phase = PH_HEADERS;
        cn->since = now_ms();
        pthread_mutex_lock(&h->mu);
        if (reserved.h == h) {
            cn->ip = reserved.ip;
            reserved.h = NULL;
            reserved.ip = NULL;
        }
        cn->next = h->conns;
        if (h->conns) h->conns->prev = cn;
        h->conns = cn;
        h->stats.open++;
        pthread_mutex_unlock(&h->mu);
        *socket_context = cn;
        return;
    }
    conn_t *cn = *socket_context;
    if (!cn) return;
    pthread_mutex_lock(&h->mu);
    if (cn->prev)
        cn->prev->next = cn->next;
    else
        h->conns = cn->next;
    if (cn->next) cn->next->prev = cn->prev;
    if (cn->ip) ip_release(h, cn->ip);
    h->stats.open--;
    pthread_mutex_unlock(&h->mu);
    free(cn);
    *socket_context = NULL;
}

static conn_t *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* ---- the reaper --------------------------------------------------------------- */

enum { REAP_NONE, REAP_HEADERS, REAP_BODY, REAP_LINGER };

/* Bytes the kernel holds for fd that nobody has read yet. */
static int unread(int fd)
{
    int n = 0;
    return ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
}

/* Whether no data has arrived on fd for the last ms milliseconds. The
 * kernel keeps that time in jiffies (4 or 10 ms), so 25 ms of slack keep a
 * connection quiet since exactly then from looking busy. */
static bool quiet_for(int fd, int64_t ms)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return false;
    return (int64_t)ti.tcpi_last_data_recv + 25 >= ms;
}

/* Whether c is past its phase's deadline. Called with h->mu held.
 *
 * Headers: header_timeout_ms from accept. On a kept-alive connection the
 * wait for the next request is no fault, so the clock restarts while the
 * connection stays quiet (libmicrohttpd's inactivity timeout ends idle
 * ones) and runs from the first data of the next request, give or take a
 * quarter of the timeout. Body: body_grace_ms plus 1 s for every
 * body_min_rate bytes that came. Neither counts against a connection whose
 * data waits unread in the kernel: then this server is the slow one (its
 * worker thread is busy). Linger: linger_ms. */
static int reaper_verdict(const iz_http_t *h, conn_t *c, int64_t now)
{
    const iz_http_config_t *cfg = &h->cfg;
    int64_t age = now - c->since;
    switch (c->phase) {
    case PH_HEADERS:
        if (c->served > 0 && !c->started) {
            if (age < cfg->header_timeout_ms / 4) return REAP_NONE;
            if (quiet_for(c->fd, age)) {
                c->since = now;
                return REAP_NONE;
            }
            c->started = true;
        }
        if (age <= (int64_t)cfg->header_timeout_ms || unread(c->fd) > 0) return REAP_NONE;
        return REAP_HEADERS;
    case PH_BODY: {
        /* Capped so that the product cannot overflow: 2^40 bytes earn
         * years at any rate. */
        uint64_t bytes = c->bytes < ((uint64_t)1 << 40) ? c->bytes : ((uint64_t)1 << 40);
        int64_t allowed =
            (int64_t)cfg->body_grace_ms + (int64_t)(bytes * 1000 / cfg->body_min_rate);
        if (age <= allowed || unread(c->fd) > 0) return REAP_NONE;
        return REAP_BODY;
    }
    case PH_LINGER:
        return age > (int64_t)cfg->linger_ms ? REAP_LINGER : REAP_NONE;
    case PH_WORK:
        break;
    }
    return REAP_NONE;
}

/* Log what the limits did since the last line; called without h->mu. */
static void log_limits(uint64_t refused, uint64_t headers, uint64_t body, uint64_t linger,
                       const char *remote, unsigned per_ip)
{
    if (refused)
        iz_logf(IZ_LOG_WARN, "http", "connections refused: too many from one address",
                "count=%llu limit=%u remote=%s", (unsigned long long)refused, per_ip, remote);
    if (headers || body)
        iz_logf(IZ_LOG_WARN, "http", "slow connections closed", "headers=%llu body=%llu remote=%s",
                (unsigned long long)headers, (unsigned long long)body, remote);
    if (linger)
        iz_logf(IZ_LOG_INFO, "http", "lingering connections closed at their bound",
                "count=%llu remote=%s", (unsigned long long)linger, remote);
}

/* The reaper thread: a few times a second, shut down the connections past
 * their deadline. shutdown() rather than close(): the descriptor stays
 * libmicrohttpd's, which sees the connection end and cleans up as usual. */
static void *reaper_main(void *arg)
{
    iz_http_t *h = arg;
    const iz_http_config_t *cfg = &h->cfg;
    unsigned shortest = cfg->header_timeout_ms;
    if (cfg->body_grace_ms < shortest) shortest = cfg->body_grace_ms;
    if (cfg->linger_ms < shortest) shortest = cfg->linger_ms;
    int64_t tick = shortest / 8;
    if (tick < 10) tick = 10;
    if (tick > 250) tick = 250;
    pthread_mutex_lock(&h->mu);
    while (!h->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = ts.tv_nsec + tick * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&h->wake, &h->mu, &ts);
        if (h->stopping) break;
        int64_t now = now_ms();
        defer_reap(h, now, false);
        for (conn_t *c = h->conns; c; c = c->next) {
            if (c->reaped) continue;
            int v = reaper_verdict(h, c, now);
            if (v == REAP_NONE) continue;
            shutdown(c->fd, SHUT_RDWR);
            c->reaped = true;
            if (c->ip) key_text(c->ip->addr, h->unlogged_remote);
            if (v == REAP_HEADERS) {
                h->stats.reaped_headers++;
                h->unlogged_headers++;
            } else if (v == REAP_BODY) {
                h->stats.reaped_body++;
                h->unlogged_body++;
            } else {
                h->stats.linger_cut++;
                h->unlogged_linger++;
            }
        }
        if (h->unlogged_refused || h->unlogged_headers || h->unlogged_body || h->unlogged_linger) {
            uint64_t rf = h->unlogged_refused, hd = h->unlogged_headers, bd = h->unlogged_body,
                     lg = h->unlogged_linger;
            char remote[INET6_ADDRSTRLEN];
            memcpy(remote, h->unlogged_remote, sizeof remote);
            h->unlogged_refused = h->unlogged_headers = h->unlogged_body = h->unlogged_linger = 0;
            pthread_mutex_unlock(&h->mu);
            log_limits(rf, hd, bd, lg, remote, cfg->max_per_ip);
            pthread_mutex_lock(&h->mu);
        }
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

const char *const iz_http_class_names[IZ_HTTP_CLASSES] = {"1xx", "2xx", "3xx",
                                                          "4xx", "5xx", "none"};

/* Count a finished request under its route and status class, with the time
 * from its complete headers to now. */
static void route_count(iz_http_t *h, const iz_req_t *r)
{
    size_t i = h->cfg.nroutes;
    if (r->route && r->route >= h->cfg.routes && r->route < h->cfg.routes + h->cfg.nroutes)
        i = (size_t)(r->route - h->cfg.routes);
    size_t cls =
        r->status >= 100 && r->status <= 599 ? (size_t)(r->status / 100 - 1) : IZ_HTTP_CLASSES - 1;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ns =
        (int64_t)(now.tv_sec - r->start.tv_sec) * 1000000000 + (now.tv_nsec - r->start.tv_nsec);
    atomic_fetch_add_explicit(&h->routes[i].by_class[cls], 1, memory_order_relaxed);
    iz_histo_observe(&h->routes[i].latency, ns > 0 ? (uint64_t)ns : 0);
}

size_t iz_http_route_stats_count(const iz_http_t *h)
{
    return h->cfg.nroutes + 1;
}

void iz_http_route_stats(iz_http_t *h, size_t i, iz_http_route_stats_t *out)
{
    if (i >= h->cfg.nroutes) {
        i = h->cfg.nroutes;
        out->route = "unmatched";
    } else {
        const iz_route_t *rt = &h->cfg.routes[i];
        out->route = rt->tag ? rt->tag : rt->pattern;
    }
    for (size_t k = 0; k < IZ_HTTP_CLASSES; k++)
        out->requests[k] = atomic_load_explicit(&h->routes[i].by_class[k], memory_order_relaxed);
    iz_histo_snapshot(&h->routes[i].latency, &out->latency);
}

void iz_http_stats(iz_http_t *h, iz_http_stats_t *out)
{
    pthread_mutex_lock(&h->mu);
    *out = h->stats;
    out->max_connections = h->cfg.max_connections;
    out->outside_queued = h->q_len;
    out->outside_workers = h->nworkers;
    out->outside_queue = h->cfg.outside_queue;
    pthread_mutex_unlock(&h->mu);
}

/* ---- control bytes ---------------------------------------------------------- */

/* Whether s[0..n) holds a control byte (below 0x20, or DEL); tab allowed
 * when tab_ok. Bytes from 0x80 (UTF-8) are fine. */
static bool has_control(const char *s, size_t n, bool tab_ok)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        if ((b < 0x20 && !(tab_ok && b == '\t')) || b == 0x7F) return true;
    }
    return false;
}

/* libmicrohttpd's own percent-decoding of the path and of each query key
 * and value, which also flags the connection when the result holds a
 * control byte (its request is refused before routing). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    size_t n = MHD_http_unescape(s);
    if (has_control(s, n, false)) {
        conn_t *cn = conn_of(c);
        if (cn) cn->bad_target = true;
    }
    return n;
}

/* ---- libmicrohttpd callbacks ---------------------------------------------- */

struct header_scan {
    size_t total;
    bool control;
};

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct header_scan *s = cls;
    size_t kl = strlen(key), vl = value ? strlen(value) : 0;
    s->total += kl + vl + 4;
    if (has_control(key, kl, false) || (value && has_control(value, vl, true))) s->control = true;
    return MHD_YES;
}

static void fill_remote(iz_req_t *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    strcpy(r->remote, "?");
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->remote,
                  sizeof r->remote);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->remote,
                  sizeof r->remote);
}

/* The checks of a request's first call (headers complete, body not read):
 * control bytes, header size, a stream route's decision, Content-Length.
 * Answers when one fails. */
static void first_checks(iz_req_t *r, bool bad_target, const char *version)
{
    iz_http_t *h = r->h;
    struct header_scan hs = {0};
    MHD_get_connection_values(r->c, MHD_HEADER_KIND, scan_header, &hs);
    const char *cl = iz_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = iz_req_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char *expect = iz_req_header(r, MHD_HTTP_HEADER_EXPECT);
    int64_t clen = 0;
    bool cl_ok = !cl || iz_parse_i64(cl, 0, INT64_MAX, &clen) == 0;
    r->has_body = te != NULL || clen > 0;
    r->expect_continue = expect && strcasecmp(expect, "100-continue") == 0 &&
                         strcmp(version, MHD_HTTP_VERSION_1_1) == 0;
    if (bad_target || hs.control) {
        pthread_mutex_lock(&h->mu);
        h->stats.refused_control++;
        pthread_mutex_unlock(&h->mu);
        iz_reply_error(r, "IZ400",
                       iz_req_english(r)
                           ? (bad_target ? "control character in the path or query"
                                         : "control character in a header")
                           : (bad_target ? "Yolda ya da sorguda denetim karakteri var."
                                         : "Bir başlıkta denetim karakteri var."));
        return;
    }
    if (hs.total + strlen(r->path) > h->cfg.max_header) {
        iz_reply_error(r, "IZ413", "request headers too large");
        return;
    }
    if (te && strcasecmp(te, "chunked") != 0) {
        /* RFC 9112 6.3: a request whose last coding is not chunked has no
         * length a server can know; libmicrohttpd would wait for it. */
        iz_reply_error(r, "IZ400",
                       iz_req_english(r) ? "Transfer-Encoding other than chunked"
                                         : "Transfer-Encoding yalnızca chunked olabilir.");
        return;
    }
    if (stream_begin(r) && (r->replied || r->streaming)) return;
    if (!cl_ok) {
        iz_reply_error(r, "IZ400", "bad Content-Length");
        return;
    }
    if ((uint64_t)clen > body_limit(r)) iz_reply_error(r, "IZ413", NULL);
}

/* A piece of the body: kept (bounded by max_body), streamed to the route
 * (bounded by max_stream), or dropped after an early answer. */
static enum MHD_Result body_piece(iz_req_t *r, const char *data, size_t n)
{
    iz_http_t *h = r->h;
    if (r->close_now) return MHD_NO;
    if (r->lingering) {
        r->dropped += n;
        if (r->dropped <= h->cfg.linger_max) return MHD_YES;
        pthread_mutex_lock(&h->mu);
        h->stats.linger_cut++;
        h->unlogged_linger++;
        pthread_mutex_unlock(&h->mu);
        return MHD_NO;
    }
    if (r->conn) {
        pthread_mutex_lock(&h->mu);
        r->conn->bytes += n;
        pthread_mutex_unlock(&h->mu);
    }
    if (r->replied) return MHD_YES; /* libmicrohttpd skips such bodies; just in case */
    if (r->streaming) {
        r->streamed += n;
        if (r->streamed > h->cfg.max_stream) {
            iz_reply_error(r, "IZ413", NULL);
            return MHD_YES;
        }
        r->chunk(r, r->state, data, n);
        return MHD_YES;
    }
    if (r->body_len + n > body_limit(r)) {
        free(r->body);
        r->body = NULL;
        r->body_len = r->body_cap = 0;
        iz_reply_error(r, "IZ413", NULL);
        return MHD_YES;
    }
    if (r->body_len + n > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + n)
            cap *= 2;
        if (cap > body_limit(r)) cap = body_limit(r);
        r->body = iz_xrealloc(r->body, cap);
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    return MHD_YES;
}

/* The last call: the body is complete; run the handler. */
static enum MHD_Result body_done(iz_req_t *r)
{
    /* An early answer went out; all of the body has been read, so closing
     * now ends the connection cleanly. */
    if (r->lingering) return MHD_NO;
    if (r->work) return defer_answer(r);
    r->stage = STAGE_FINAL;
    set_phase(r->h, r->conn, PH_WORK);
    if (r->replied) return MHD_YES;
    if (r->streaming) {
        r->streaming = false;
        r->done(r, r->state);
    } else if (r->buffered) {
        r->route->fn(r, r->h->cfg.app);
    } else {
        dispatch(r);
        return MHD_YES;
    }
    if (!r->replied && !r->work) iz_reply_error(r, "IZ500", NULL);
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    iz_http_t *h = cls;
    iz_req_t *r = *con_cls;
    if (!r) {
        r = iz_xcalloc(1, sizeof *r);
        r->h = h;
        r->c = c;
        r->conn = conn_of(c);
        r->method = method;
        r->path = url;
        r->stage = STAGE_FIRST;
        clock_gettime(CLOCK_MONOTONIC, &r->start);
        fill_remote(r);
        *con_cls = r;
        bool bad_target = r->conn && r->conn->bad_target;
        if (r->conn) r->conn->bad_target = false;
        first_checks(r, bad_target, version);
        r->stage = STAGE_BODY;
        if (r->close_now) return MHD_NO;
        if (!r->lingering) set_phase(h, r->conn, r->replied ? PH_WORK : PH_BODY);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return body_piece(r, upload_data, n);
    }
    return body_done(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    iz_http_t *h = cls;
    iz_req_t *r = *con_cls;
    if (!r) return;
    if (r->conn) {
        /* The connection waits for its next request now. */
        pthread_mutex_lock(&h->mu);
        r->conn->phase = PH_HEADERS;
        r->conn->since = now_ms();
        r->conn->served++;
        r->conn->started = false;
        pthread_mutex_unlock(&h->mu);
    }
    route_count(h, r);
    if (h->cfg.on_complete) h->cfg.on_complete(h->cfg.app, r);
    if (h->cfg.access_log) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double ms = (double)(now.tv_sec - r->start.tv_sec) * 1e3 +
                    (double)(now.tv_nsec - r->start.tv_nsec) / 1e6;
        iz_logf(IZ_LOG_INFO, "http", "request", "remote=%s method=%s path=%s status=%d ms=%.1f",
                r->remote, r->method, r->path, r->status, ms);
    }
    req_free(r);
    *con_cls = NULL;
}

/* ---- start / stop --------------------------------------------------------- */

/* Split "host:port" or "[v6]:port" and bind a listening socket to it. */
static int open_listener(const char *listen_addr, int *fd_out, uint16_t *port_out, const char **err)
{
    char host[256];
    const char *port;
    if (listen_addr[0] == '[') {
        const char *e = strchr(listen_addr, ']');
        if (!e || e[1] != ':' || (size_t)(e - listen_addr - 1) >= sizeof host) goto bad;
        memcpy(host, listen_addr + 1, (size_t)(e - listen_addr - 1));
        host[e - listen_addr - 1] = '\0';
        port = e + 2;
    } else {
        const char *e = strrchr(listen_addr, ':');
        if (!e || (size_t)(e - listen_addr) >= sizeof host) goto bad;
        memcpy(host, listen_addr, (size_t)(e - listen_addr));
        host[e - listen_addr] = '\0';
        port = e + 1;
    }
    int64_t pn;
    if (iz_parse_i64(port, 0, 65535, &pn) != 0) goto bad;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    if (getaddrinfo(host[0] ? host : NULL, port, &hints, &ai) != 0 || !ai) {
        *err = "cannot resolve the listen address";
        return IZ_EINVAL;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(ai);
        *err = "cannot create a socket";
        return IZ_EIO;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        freeaddrinfo(ai);
        close(fd);
        *err =
            errno == EADDRINUSE ? "the listen address is in use" : "cannot bind the listen address";
        return IZ_EIO;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return 0;
bad:
    *err = "listen address must be HOST:PORT";
    return IZ_EINVAL;
}

/* Raise the soft RLIMIT_NOFILE to the hard one (every connection is a
 * descriptor, and the usual soft default of 1024 would cap the server far
 * below what the system allows); returns the limit in force. */
static uint64_t raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
    rlim_t want = rl.rlim_max;
    if (want == RLIM_INFINITY || want > ((rlim_t)1 << 20)) want = (rlim_t)1 << 20;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want) return (uint64_t)want;
    rlim_t old = rl.rlim_cur;
    rl.rlim_cur = want;
    return setrlimit(RLIMIT_NOFILE, &rl) == 0 ? (uint64_t)want : (uint64_t)old;
}

/* The total connection limit from the descriptor limit: an eighth of it
 * (at least 256) stays for the store, spool files, logs and outgoing
 * connections. */
static unsigned connections_for(uint64_t nofile)
{
    uint64_t reserve = nofile / 8 > 256 ? nofile / 8 : 256;
    uint64_t n = nofile > reserve + 64 ? nofile - reserve : nofile / 2;
    if (n > IZ_MAX_CONNECTIONS) n = IZ_MAX_CONNECTIONS;
    return n < 16 ? 16 : (unsigned)n;
}

static void config_defaults(iz_http_config_t *c, uint64_t nofile)
{
    if (!c->max_body) c->max_body = IZ_DEFAULT_MAX_BODY;
    if (!c->max_header) c->max_header = IZ_DEFAULT_MAX_HEADER;
    if (!c->max_stream) c->max_stream = (uint64_t)4 << 30;
    if (!c->threads) c->threads = IZ_HTTP_DEFAULT_THREADS;
    if (!c->max_connections) c->max_connections = connections_for(nofile);
    /* libmicrohttpd splits the limit between its threads; each needs one. */
    if (c->max_connections < c->threads) c->max_connections = c->threads;
    if (!c->max_per_ip) c->max_per_ip = IZ_DEFAULT_PER_IP;
    if (!c->header_timeout_ms) c->header_timeout_ms = IZ_DEFAULT_HEADER_TIMEOUT_MS;
    if (!c->body_grace_ms) c->body_grace_ms = IZ_DEFAULT_BODY_GRACE_MS;
    if (!c->body_min_rate) c->body_min_rate = IZ_DEFAULT_BODY_MIN_RATE;
    if (!c->linger_ms) c->linger_ms = IZ_DEFAULT_LINGER_MS;
    if (!c->linger_max) c->linger_max = IZ_DEFAULT_LINGER_MAX;
    if (!c->outside_workers) c->outside_workers = 2 * c->threads;
    if (c->outside_workers > 256) c->outside_workers = 256;
    if (!c->outside_queue) c->outside_queue = 4 * c->outside_workers;
}

/* Free h and what start made of it so far (the daemon is stopped by then). */
static void http_free(iz_http_t *h)
{
    /* Counts left by a thread's reservation that never became a connection. */
    for (size_t i = 0; i < IZ_IP_BUCKETS; i++)
        for (ipcount_t *ip = h->ips[i], *next; ip; ip = next) {
            next = ip->next;
            free(ip);
        }
    for (iz_work_t *w = h->q_head, *next; w; w = next) {
        next = w->next;
        work_free(w);
    }
    free(h->workers);
    pthread_cond_destroy(&h->work_cv);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->mu);
    close(h->fd);
    free(h->routes);
    free(h);
}


/* A connection's memory in libmicrohttpd: the request's headers (at most
 * max_header, checked in first_checks) twice over for the parsed copies,
 * and 16 KiB for the read and answer-header buffers. It is zeroed again
 * before every request a kept-alive connection makes, so it is not made
 * larger than that: at 4 x max_header + 64 KiB the zeroing alone took a
 * tenth of a check's time. */
static size_t pool_size(size_t max_header)
{
    return max_header * 2 + 16384;
}

int iz_http_start(const iz_http_config_t *cfg, iz_http_t **out, const char **err)
{
    const char *dummy;
    if (!err) err = &dummy;
    iz_http_t *h = iz_xcalloc(1, sizeof *h);
    h->cfg = *cfg;
    h->nofile = raise_nofile();
    config_defaults(&h->cfg, h->nofile);
    int rc = open_listener(cfg->listen ? cfg->listen : "127.0.0.1:8080", &h->fd, &h->port, err);
    if (rc != 0) {
        free(h);
        return rc;
    }
    h->routes = iz_xcalloc(h->cfg.nroutes + 1, sizeof *h->routes);
    pthread_mutex_init(&h->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&h->work_cv, NULL);
    h->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, on_accept, h,
        on_request, h, MHD_OPTION_LISTEN_SOCKET, h->fd, MHD_OPTION_THREAD_POOL_SIZE, h->cfg.threads,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        h, MHD_OPTION_UNESCAPE_CALLBACK, unescape, h, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool_size(h->cfg.max_header),
        MHD_OPTION_CONNECTION_LIMIT, h->cfg.max_connections, MHD_OPTION_END);
    if (!h->d) {
        http_free(h);
        *err = "cannot start the HTTP server";
        return IZ_EIO;
    }
    if (pthread_create(&h->reaper, NULL, reaper_main, h) != 0) {
        MHD_stop_daemon(h->d);
        http_free(h);
        *err = "cannot start the connection reaper";
        return IZ_EIO;
    }
    h->reaper_running = true;
    h->workers = iz_xcalloc(h->cfg.outside_workers, sizeof *h->workers);
    for (unsigned i = 0; i < h->cfg.outside_workers; i++) {
        if (pthread_create(&h->workers[i], NULL, worker_main, h) != 0) break;
        h->nworkers++;
    }
    if (h->nworkers == 0) {
        iz_http_stop(h);
        *err = "cannot start the outside-call workers";
        return IZ_EIO;
    }
    iz_logf(IZ_LOG_INFO, "http", "listening",
            "port=%u max_connections=%u max_per_ip=%u header_timeout_ms=%u nofile=%llu "
            "outside_workers=%u",
            (unsigned)h->port, h->cfg.max_connections, h->cfg.max_per_ip, h->cfg.header_timeout_ms,
            (unsigned long long)h->nofile, h->nworkers);
    *out = h;
    return 0;
}

uint16_t iz_http_port(const iz_http_t *h)
{
    return h->port;
}

void iz_http_stop(iz_http_t *h)
{
    if (!h) return;
    pthread_mutex_lock(&h->mu);
    h->stopping = true;
    pthread_cond_signal(&h->wake);
    pthread_cond_broadcast(&h->work_cv);
    /* libmicrohttpd must not stop with a connection suspended: every
     * deferred request is answered now (503, its work cut short), and the
     * stop waits a little for those answers to be given. */
    defer_reap(h, 0, true);
    int64_t until = now_ms() + 2000;
    while ((h->suspended > 0 || h->resuming > 0) && now_ms() < until) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 20 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&h->wake, &h->mu, &ts);
    }
    while (h->resuming > 0) /* a resume call under way ends in microseconds */
        pthread_cond_wait(&h->wake, &h->mu);
    pthread_mutex_unlock(&h->mu);
    if (h->reaper_running) pthread_join(h->reaper, NULL);
    MHD_stop_daemon(h->d);
    /* The workers end their running works (bounded by the outside
     * clients' own time limits) and skip the rest. */
    for (unsigned i = 0; i < h->nworkers; i++)
        pthread_join(h->workers[i], NULL);
    http_free(h);
}
