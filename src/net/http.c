/*
 * http.c - the HTTP server: libmicrohttpd with an internal thread pool, a
 * bounded request body, a per-request arena, a route table with {param}
 * segments, bearer-key authentication and İYS-shaped JSON errors.
 *
 * Body handling: libmicrohttpd hands the body over in chunks; they are
 * appended to a buffer that never grows past cfg->max_body. A request whose
 * Content-Length is over the limit is answered 413 before its body is read;
 * a chunked body that grows past it is read and dropped (up to a hard cap,
 * after which the connection is closed) and then answered 413, so nothing
 * oversized ever reaches a handler.
 */
#include "net/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/hcode.h"
#include "core/iz.h"
#include "sys/log.h"

#define IZ_DEFAULT_MAX_BODY (1u << 20)
#define IZ_DEFAULT_MAX_HEADER (16u << 10)
#define IZ_MAX_PARAMS 4
#define IZ_MAX_SEGMENTS 16
#define IZ_MAX_EXTRA_HEADERS 8
#define IZ_DISCARD_FACTOR 4 /* read at most this many times max_body of an oversized body */
#define IZ_ARENA_BLOCK 4096

struct iz_http {
    struct MHD_Daemon *d;
    int fd;
    uint16_t port;
    iz_http_config_t cfg;
};

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    max_align_t data[];
} arena_block_t;

struct iz_req {
    iz_http_t *h;
    struct MHD_Connection *c;
    const char *method;
    const char *path;
    char *body;
    size_t body_len, body_cap, seen;
    bool too_big, replied, header_too_big;
    int64_t account;
    int status;
    const iz_route_t *route;
    /* streaming (IZ_ROUTE_STREAM) */
    bool stream_begin, streaming, buffered;
    iz_chunk_fn chunk;
    iz_done_fn done;
    iz_state_free_fn state_free;
    void *state;
    uint64_t streamed;
    /* an answer given while the body is still coming, queued at its end */
    struct MHD_Response *pending;
    struct timespec start;
    size_t nparams;
    const char *pname[IZ_MAX_PARAMS];
    const char *pval[IZ_MAX_PARAMS];
    size_t nextra;
    char *extra_name[IZ_MAX_EXTRA_HEADERS];
    char *extra_val[IZ_MAX_EXTRA_HEADERS];
    char remote[INET6_ADDRSTRLEN];
    arena_block_t *arena;
};

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
    if (r->state_free && r->state) r->state_free(r->state);
    if (r->pending) MHD_destroy_response(r->pending);
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

void iz_reply_header(iz_req_t *r, const char *name, const char *value)
{
    if (r->nextra >= IZ_MAX_EXTRA_HEADERS) return;
    r->extra_name[r->nextra] = iz_req_strdup(r, name);
    r->extra_val[r->nextra] = iz_req_strdup(r, value);
    r->nextra++;
}

/* Queue resp now, or keep it for the end of the body when the body is
 * still coming (libmicrohttpd takes an answer only before the body or after
 * it). */
static void queue(iz_req_t *r, int status, const char *content_type, struct MHD_Response *resp)
{
    r->replied = true;
    r->status = status;
    if (content_type) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    for (size_t i = 0; i < r->nextra; i++)
        MHD_add_response_header(resp, r->extra_name[i], r->extra_val[i]);
    if (r->streaming) {
        r->pending = resp;
        return;
    }
    MHD_queue_response(r->c, (unsigned)status, resp);
    MHD_destroy_response(resp);
}

void iz_reply_bytes(iz_req_t *r, int status, const char *content_type, const char *body, size_t len)
{
    if (r->replied) return;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) iz_oom();
    queue(r, status, content_type, resp);
}

void iz_reply_fd(iz_req_t *r, int status, const char *content_type, int fd, uint64_t size)
{
    if (r->replied) {
        close(fd);
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
        if (!a || strncasecmp(a, "Bearer ", 7) != 0 || strlen(a + 7) > 256 || !cfg->auth ||
            cfg->auth(cfg->app, a + 7, &acct) != 0 || acct <= 0) {
            iz_reply_header(r, "WWW-Authenticate", "Bearer");
            iz_reply_error(r, "IZ401", NULL);
            return false;
        }
        r->account = acct;
    }
    return true;
}

static bool method_ok(const iz_req_t *r, const iz_route_t *rt)
{
    return strcmp(rt->method, r->method) == 0 ||
           (strcmp(r->method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0);
}

static void dispatch(iz_req_t *r)
{
    const iz_http_config_t *cfg = &r->h->cfg;
    bool path_known = false;
    for (size_t i = 0; i < cfg->nroutes; i++) {
        const iz_route_t *rt = &cfg->routes[i];
        if (!route_match(r, rt->pattern, r->path)) continue;
        path_known = true;
        if (!method_ok(r, rt)) continue;
        if (!admit(r, rt)) return;
        rt->fn(r, cfg->app);
        if (!r->replied) iz_reply_error(r, "IZ500", NULL);
        return;
    }
    iz_reply_error(r, path_known ? "IZ405" : "IZ404", NULL);
}

/* A stream route is decided before its body: match, admit and let its fn
 * choose. Returns false when this is no stream route (normal dispatch at the
 * end of the body). */
static bool stream_begin(iz_req_t *r)
{
    const iz_http_config_t *cfg = &r->h->cfg;
    for (size_t i = 0; i < cfg->nroutes; i++) {
        const iz_route_t *rt = &cfg->routes[i];
        if (!(rt->flags & IZ_ROUTE_STREAM) || !method_ok(r, rt) ||
            !route_match(r, rt->pattern, r->path))
            continue;
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
    return false;
}

/* ---- libmicrohttpd callbacks ---------------------------------------------- */

struct header_sum {
    size_t total;
};

static enum MHD_Result sum_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    struct header_sum *s = cls;
    s->total += strlen(key) + (value ? strlen(value) : 0) + 4;
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    iz_http_t *h = cls;
    iz_req_t *r = *con_cls;
    if (!r) {
        r = iz_xcalloc(1, sizeof *r);
        r->h = h;
        r->c = c;
        r->method = method;
        r->path = url;
        clock_gettime(CLOCK_MONOTONIC, &r->start);
        fill_remote(r);
        *con_cls = r;
        struct header_sum hs = {0};
        MHD_get_connection_values(c, MHD_HEADER_KIND, sum_header, &hs);
        if (hs.total + strlen(url) > h->cfg.max_header) {
            iz_reply_error(r, "IZ413", "request headers too large");
            return MHD_YES;
        }
        if (stream_begin(r) && (r->replied || r->streaming)) return MHD_YES;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            int64_t n;
            if (iz_parse_i64(cl, 0, INT64_MAX, &n) != 0) {
                iz_reply_error(r, "IZ400", "bad Content-Length");
                return MHD_YES;
            }
            if ((uint64_t)n > h->cfg.max_body) {
                iz_reply_error(r, "IZ413", NULL);
                return MHD_YES;
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        r->seen += n;
        if (r->streaming) {
            if (r->replied) return MHD_YES;
            r->streamed += n;
            if (r->streamed > h->cfg.max_stream) {
                r->too_big = true;
                iz_reply_error(r, "IZ413", NULL); /* kept for the end of the body */
                return r->streamed > h->cfg.max_stream + (64u << 20) ? MHD_NO : MHD_YES;
            }
            r->chunk(r, r->state, upload_data, n);
            return MHD_YES;
        }
        if (r->replied) return MHD_YES;
        if (r->too_big || r->body_len + n > h->cfg.max_body) {
            r->too_big = true;
            free(r->body);
            r->body = NULL;
            r->body_len = r->body_cap = 0;
            /* Stop reading a hostile stream, but let a modest overrun get its 413. */
            return r->seen > (size_t)IZ_DISCARD_FACTOR * h->cfg.max_body ? MHD_NO : MHD_YES;
        }
        if (r->body_len + n > r->body_cap) {
            size_t cap = r->body_cap ? r->body_cap : 4096;
            while (cap < r->body_len + n)
                cap *= 2;
            if (cap > h->cfg.max_body) cap = h->cfg.max_body;
            r->body = iz_xrealloc(r->body, cap);
            r->body_cap = cap;
        }
        memcpy(r->body + r->body_len, upload_data, n);
        r->body_len += n;
        return MHD_YES;
    }
    if (r->pending) {
        /* An answer given while the body was coming goes out now. */
        MHD_queue_response(r->c, (unsigned)r->status, r->pending);
        MHD_destroy_response(r->pending);
        r->pending = NULL;
        return MHD_YES;
    }
    if (r->replied) return MHD_YES;
    if (r->too_big) {
        iz_reply_error(r, "IZ413", NULL);
        return MHD_YES;
    }
    if (r->streaming) {
        r->streaming = false; /* answers from done() are queued at once */
        r->done(r, r->state);
        if (!r->replied) iz_reply_error(r, "IZ500", NULL);
        return MHD_YES;
    }
    if (r->buffered) {
        r->route->fn(r, r->h->cfg.app);
        if (!r->replied) iz_reply_error(r, "IZ500", NULL);
        return MHD_YES;
    }
    dispatch(r);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    iz_http_t *h = cls;
    iz_req_t *r = *con_cls;
    if (!r) return;
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
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 512) != 0) {
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

int iz_http_start(const iz_http_config_t *cfg, iz_http_t **out, const char **err)
{
    const char *dummy;
    if (!err) err = &dummy;
    iz_http_t *h = iz_xcalloc(1, sizeof *h);
    h->cfg = *cfg;
    if (!h->cfg.max_body) h->cfg.max_body = IZ_DEFAULT_MAX_BODY;
    if (!h->cfg.max_header) h->cfg.max_header = IZ_DEFAULT_MAX_HEADER;
    if (!h->cfg.max_stream) h->cfg.max_stream = (uint64_t)4 << 30;
    if (!h->cfg.threads) h->cfg.threads = 8;
    int rc = open_listener(cfg->listen ? cfg->listen : "127.0.0.1:8080", &h->fd, &h->port, err);
    if (rc != 0) {
        free(h);
        return rc;
    }
    h->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, on_request, h,
        MHD_OPTION_LISTEN_SOCKET, h->fd, MHD_OPTION_THREAD_POOL_SIZE, h->cfg.threads,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(h->cfg.max_header * 4 + 65536),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000, MHD_OPTION_END);
    if (!h->d) {
        close(h->fd);
        free(h);
        *err = "cannot start the HTTP server";
        return IZ_EIO;
    }
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
    MHD_stop_daemon(h->d);
    close(h->fd);
    free(h);
}
