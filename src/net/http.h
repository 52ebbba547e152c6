/*
 * http.h - izin's HTTP server plumbing on libmicrohttpd: routing, request
 * limits, bearer-key authentication and JSON answers in İYS's error shape.
 *
 * A handler gets an iz_req_t, reads what it needs through the accessors
 * below and answers with exactly one iz_reply_*() call. Everything a handler
 * allocates with iz_req_alloc()/iz_req_strdup() lives in the request's arena
 * and is freed when the answer has been sent, so handlers rarely free().
 *
 * Limits enforced before a handler runs: control bytes in the path, the
 * query or a header (400 IZ400), total header size (413), body size by
 * Content-Length or as a chunked body grows (413), unknown path (404), known
 * path with another method (405), missing or bad bearer key on an
 * authenticated route (401 IZ401).
 *
 * Limits on connections, so that slow or greedy clients cannot starve the
 * others: open connections in all (sized from RLIMIT_NOFILE, whose soft
 * limit is raised to the hard one) and per client address (more are closed
 * at accept); a deadline for the request headers; a minimum average rate
 * for a body after a grace period. A connection past its deadline is shut
 * down by a reaper thread.
 *
 * Outside calls (İYS, the SMS gateway, DNS) never run on a server thread:
 * a handler that needs one hands it to iz_req_defer(), which suspends the
 * connection (libmicrohttpd's suspend/resume) and gives the work to a small
 * bounded pool of outside-call workers; the answer is written when the
 * work ends, or at its time limit, whichever comes first. A full pool is
 * answered at once, never queued without bound.
 *
 * An answer given before the body has been read (413 for a body that grows
 * past its limit, or an early refusal) is written at once, the connection
 * is half-closed and the rest of the body is read and dropped for a bounded
 * time and amount (a lingering close), so that a client that sends its
 * whole body before reading gets the answer instead of a reset.
 */
#ifndef IZ_HTTP_H
#define IZ_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/histo.h"

typedef struct iz_http iz_http_t;
typedef struct iz_req iz_req_t;

typedef void (*iz_handler_fn)(iz_req_t *req, void *app);

/* Resolve a bearer token to an account id; 0 when valid, IZ_ENOTFOUND
 * (or IZ_EINVAL) when no key is, another code when it cannot be told now
 * (the store down: answered 503 IZ503, not 401). */
typedef int (*iz_auth_fn)(void *app, const char *token, int64_t *account_id);

enum {
    IZ_ROUTE_AUTH = 1u << 0,   /* a valid bearer key is required */
    IZ_ROUTE_STREAM = 1u << 1, /* fn runs when the headers are in, before the body: it either
                                  answers, takes the body as a stream (iz_req_stream) or asks
                                  for it whole (iz_req_buffer) */
};

typedef struct iz_route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/v1/brands/{brandCode}/consents": {x} matches one segment */
    iz_handler_fn fn;
    unsigned flags;
    const char *tag; /* a name for statistics (optional) */
} iz_route_t;

/* Called once per request after its answer is queued (also for requests
 * answered before routing, with no route: iz_req_route() is NULL). */
typedef void (*iz_complete_fn)(void *app, const iz_req_t *r);

/* Called before a routed handler runs; returns true when it answered the
 * request itself (rate limit, injected fault), so the handler is skipped. */
typedef bool (*iz_gate_fn)(void *app, iz_req_t *r);

/* HTTP worker threads when none are given. A durable write holds its
 * thread until its group commit is on disk, so the threads bound how many
 * writes one fsync carries: 8 gave ~5,600 writes/s here, 32 up to ~9,900,
 * and checks ran no slower (bench/load.py). */
#define IZ_HTTP_DEFAULT_THREADS 32

typedef struct iz_http_config {
    const char *listen;  /* "127.0.0.1:8080", "127.0.0.1:0" for any free port */
    size_t max_body;     /* bytes; default 1 MiB */
    size_t max_header;   /* bytes of all request headers; default 16 KiB */
    uint64_t max_stream; /* bytes of a streamed body (IZ_ROUTE_STREAM); default 4 GiB */
    unsigned threads;    /* worker threads; default IZ_HTTP_DEFAULT_THREADS */
    const iz_route_t *routes;
    size_t nroutes;
    void *app; /* passed to handlers and auth */
    iz_auth_fn auth;
    bool access_log;            /* one line per request on stderr (never headers) */
    iz_complete_fn on_complete; /* optional */
    iz_gate_fn gate;            /* optional */
    /* Connection limits; 0 takes the default. */
    unsigned max_connections;   /* open connections in all; default RLIMIT_NOFILE less a
                                   reserve for files and outgoing connections, at most 65536 */
    unsigned max_per_ip;        /* open connections of one client address; default 128 */
    unsigned header_timeout_ms; /* from accept, or on a kept-alive connection from the first
                                   byte of the next request, to its complete headers;
                                   default 10000 */
    unsigned body_grace_ms;     /* a body may take this long plus 1 s for every body_min_rate
                                   bytes it brings (time in handlers not counted); default 10000 */
    unsigned body_min_rate;     /* bytes a second; default 1024 */
    unsigned linger_ms;         /* after an answer given before the end of the body: how long the
                                   rest is read and dropped before closing; default 10000 */
    uint64_t linger_max;        /* ... and how many bytes of it at most; default 256 MiB */
    /* Outside-call workers (iz_req_defer); 0 takes the default. */
    unsigned outside_workers; /* threads; default 2 x threads, at most 256 */
    unsigned outside_queue;   /* deferred requests waiting for a worker; default 4 x workers */
} iz_http_config_t;

/* Start serving. On failure *err gets a static message. */
int iz_http_start(const iz_http_config_t *cfg, iz_http_t **out, const char **err);

/* The port actually bound (useful with port 0). */
uint16_t iz_http_port(const iz_http_t *h);

/* Stop accepting, finish running requests, free everything. */
void iz_http_stop(iz_http_t *h);

/* What the connection limits did since the start (for /metrics). */
typedef struct iz_http_stats {
    uint64_t refused_per_ip;  /* closed at accept: the address had max_per_ip open */
    uint64_t reaped_headers;  /* shut down: headers not complete within header_timeout_ms */
    uint64_t reaped_body;     /* shut down: body slower than body_min_rate after the grace */
    uint64_t linger_cut;      /* lingering closes that reached linger_ms or linger_max */
    uint64_t refused_control; /* requests answered 400 for a control byte */
    unsigned open;            /* connections open now */
    unsigned max_connections; /* the limit in force */
    /* outside calls (iz_req_defer) */
    unsigned outside_running; /* works running on a worker now */
    unsigned outside_queued;  /* works waiting for a worker */
    unsigned outside_workers; /* the pool's threads */
    unsigned outside_queue;   /* the pool's queue bound */
    uint64_t outside_done;    /* requests answered after their work ended */
    uint64_t outside_full;    /* requests answered at once: the pool was full */
    uint64_t outside_late;    /* requests answered at their time limit, work unfinished */
} iz_http_stats_t;

void iz_http_stats(iz_http_t *h, iz_http_stats_t *out);

/* Requests by route, status class and latency (for /metrics), counted when
 * a request ends: the time from its complete headers until its answer has
 * been sent. Entry i < nroutes is routes[i] (named by its tag, else its
 * pattern; a HEAD counts with its GET, a 401 with the route it was for);
 * the last entry, "unmatched", counts the requests no route took (404,
 * 405, limits refused before routing). Class "none": the request ended
 * without an answer (the client went away). */
#define IZ_HTTP_CLASSES 6
extern const char *const iz_http_class_names[IZ_HTTP_CLASSES]; /* "1xx".."5xx", "none" */

typedef struct iz_http_route_stats {
    const char *route; /* the route's tag, or "unmatched" */
    uint64_t requests[IZ_HTTP_CLASSES];
    iz_histo_snap_t latency;
} iz_http_route_stats_t;

/* The number of entries: the routes and one for "unmatched". */
size_t iz_http_route_stats_count(const iz_http_t *h);

void iz_http_route_stats(iz_http_t *h, size_t i, iz_http_route_stats_t *out);

/* ---- routing on its own (the server's, for tests and fuzz drivers) ------ */

/* The route of routes[0..n) that takes method and path (a HEAD takes a GET
 * route): the first whose pattern matches the path and whose method fits,
 * its {name} segments then r's params (iz_req_param); NULL when none
 * takes it. *path_known (may be NULL) tells whether some route matched the
 * path (405 rather than 404). stream_only looks at IZ_ROUTE_STREAM routes
 * only. The server routes every request with it. */
const iz_route_t *iz_http_route(iz_req_t *r, const iz_route_t *routes, size_t n, const char *method,
                                const char *path, bool stream_only, bool *path_known);

/* A request with no connection: its arena (iz_req_alloc, what the form
 * parser allocates from) and its params (iz_http_route, iz_req_param) work,
 * nothing that reads the connection or answers does. For parsing outside
 * a server: unit tests and fuzz drivers. Free with iz_req_detached_free. */
iz_req_t *iz_req_detached(void);
void iz_req_detached_free(iz_req_t *r);

/* ---- request accessors (valid until the handler returns) ---------------- */

const char *iz_req_method(const iz_req_t *r);
const char *iz_req_path(const iz_req_t *r);
/* A {name} segment of the route, percent-decoded; NULL when not in the pattern. */
const char *iz_req_param(const iz_req_t *r, const char *name);
/* A query argument, or NULL. */
const char *iz_req_query(const iz_req_t *r, const char *name);
/* A request header (case-insensitive name), or NULL. */
const char *iz_req_header(const iz_req_t *r, const char *name);
/* The body bytes (not NUL-terminated; *len may be 0). */
const char *iz_req_body(const iz_req_t *r, size_t *len);
/* The authenticated account, or 0 on routes without IZ_ROUTE_AUTH. */
int64_t iz_req_account(const iz_req_t *r);
/* The route that matched, or NULL (404, 405, limits). */
const iz_route_t *iz_req_route(const iz_req_t *r);
/* The status of the answer given so far (0 before one). */
int iz_req_status(const iz_req_t *r);
/* The client's IP address as text. */
const char *iz_req_remote(const iz_req_t *r);
/* True when the Content-Type's media type is `type` (parameters ignored). */
bool iz_req_content_type_is(const iz_req_t *r, const char *type);
/* True when the client prefers English (Accept-Language starts with "en"). */
bool iz_req_english(const iz_req_t *r);

/* ---- streaming bodies (IZ_ROUTE_STREAM routes) -------------------------- */

typedef void (*iz_chunk_fn)(iz_req_t *r, void *state, const char *data, size_t len);
typedef void (*iz_done_fn)(iz_req_t *r, void *state);
typedef void (*iz_state_free_fn)(void *state);

/* Take the body as it arrives: chunk for each piece (no answer may be given
 * there), done once it is complete (done must answer). free_state (may be
 * NULL) runs when the request ends, also when the client went away
 * midway. Bodies of stream routes are bounded by max_stream, not max_body. */
void iz_req_stream(iz_req_t *r, iz_chunk_fn chunk, iz_done_fn done, iz_state_free_fn free_state,
                   void *state);

/* Read the body whole (bounded by max_body) and call the route's fn again
 * when it is complete; iz_req_streaming() is false in that second call. */
void iz_req_buffer(iz_req_t *r);

/* iz_req_buffer with another limit than the server's max_body (a larger
 * one for a route whose bodies are larger by nature: sms/send's list of
 * 100,000 recipients). */
void iz_req_buffer_max(iz_req_t *r, size_t max);

/* True in the first call of a stream route's fn (before the body). */
bool iz_req_streaming(const iz_req_t *r);

/* Answer with the content of an open file (from its current offset, size
 * bytes); the server closes fd when the answer has been sent. */
void iz_reply_fd(iz_req_t *r, int status, const char *content_type, int fd, uint64_t size);

/* Arena allocation, freed with the request. */
void *iz_req_alloc(iz_req_t *r, size_t n);
char *iz_req_strdup(iz_req_t *r, const char *s);

/* Parse the body as a JSON value (UTF-8, no duplicate keys, bounded depth).
 * On failure answers 400 H014 (415 IZ415 when the Content-Type is not
 * application/json) and returns NULL. The caller owns the result
 * (json_decref). */
json_t *iz_req_json(iz_req_t *r);

/* iz_req_json for a body that must be a JSON object: any other JSON value
 * is answered with code (İYS's H085 for a consent, H097 for a query) and
 * NULL returned. */
json_t *iz_req_json_object(iz_req_t *r, const char *code);

/* The first key of the JSON object obj that is not among known[0..n), or
 * NULL: bodies with unknown fields are refused, a typo must not pass
 * silently. */
const char *iz_json_unknown_key(json_t *obj, const char *const *known, size_t n);

/* ---- outside calls: deferred work ---------------------------------------- */

/* What became of a deferred request's work, as its end function hears it. */
typedef enum iz_defer_end {
    IZ_DEFER_DONE = 0, /* the work ran to its end */
    IZ_DEFER_FULL,     /* the pool was full (or the server stops): the work never ran */
    IZ_DEFER_LATE,     /* the time limit passed first: the work may still run, or may not
                          have started; its result is dropped */
} iz_defer_end_t;

typedef struct iz_work iz_work_t;

/* The outside call, on a worker thread: it may use only arg (no request:
 * the request may have been answered and freed meanwhile) and must end in
 * bounded time (the outside client's own timeouts). */
typedef void (*iz_work_fn)(iz_work_t *w, void *arg);

/* The answer, on a server thread again: called exactly once, with the
 * request alive, and must answer. With IZ_DEFER_LATE the work may still be
 * running: end may read what the handler put into arg, never what the
 * work writes. */
typedef void (*iz_defer_end_fn)(iz_req_t *r, void *arg, iz_defer_end_t how);

/* Hand an outside call to the pool: the connection is suspended (no server
 * thread waits), work(arg) runs on a worker, and end(r, arg, how) answers
 * once the work ended or timeout_ms passed. arg is allocated by the caller
 * (malloc, never the request's arena: it may outlive the request) and
 * freed with free_arg (NULL: free()) once both the work and the answer are
 * through with it. When the pool is full (or the server stops) end runs at
 * once with IZ_DEFER_FULL, before this returns. Only on a request whose
 * body is complete (the handler of an ordinary route, or a buffered or
 * streamed route's last call); the handler returns right after. */
void iz_req_defer(iz_req_t *r, iz_work_fn work, iz_defer_end_fn end, void (*free_arg)(void *),
                  void *arg, unsigned timeout_ms);

/* True once nobody waits for the work's result any more (its time limit
 * passed, or the server stops): a work that waits in steps stops early. */
bool iz_work_cancelled(const iz_work_t *w);

/* The usual answer to a deferral that did not end with IZ_DEFER_DONE:
 * 503 IZ503 with Retry-After and a message naming what (e.g. "İYS") did
 * not answer in time, or that the server is too busy with outside calls
 * now. */
void iz_reply_defer_failed(iz_req_t *r, iz_defer_end_t how, const char *what_tr,
                           const char *what_en);

/* ---- answers: call exactly one per request ------------------------------ */

/* Answer JSON; steals the reference to body. */
void iz_reply_json(iz_req_t *r, int status, json_t *body);

/* Answer with bytes of a given content type (copied). */
void iz_reply_bytes(iz_req_t *r, int status, const char *content_type, const char *body,
                    size_t len);

/* One error in İYS's shape. */
typedef struct iz_error {
    const char *code;     /* "H121" or "IZ400" */
    const char *message;  /* NULL: the code's message in the client's language */
    const char *location; /* field name or NULL */
    json_t *value;        /* borrowed; may be NULL */
    int index;            /* list index, or -1 */
} iz_error_t;

/* Build the JSON object of one error (new reference). */
json_t *iz_error_json(const iz_req_t *r, const iz_error_t *e);

/* Answer {"errors":[...]} with the given status. */
void iz_reply_errors(iz_req_t *r, int status, const iz_error_t *errs, size_t n);

/* Shorthand for one error with no location; status from the code's table. */
void iz_reply_error(iz_req_t *r, const char *code, const char *message);

/* Add a response header to the coming answer (copied). A name or value with
 * a control byte (CR, LF: header injection) is left out and logged. */
void iz_reply_header(iz_req_t *r, const char *name, const char *value);

#endif
