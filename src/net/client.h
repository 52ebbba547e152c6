/*
 * client.h - izin's one outbound HTTP client, on libcurl: the İYS client,
 * the SMS gateways, the emulator's push and the customer webhooks all call
 * outside services through it, so timeouts, size limits, secrets and
 * Retry-After are handled in one place.
 *
 * A client (iz_httpc_t) keeps a small pool of curl easy handles: each
 * exchange takes one and gives it back, so consecutive exchanges reuse the
 * connection and concurrent ones do not wait for each other. A client may be
 * used from several threads at once; it must outlive every exchange that
 * uses it. libcurl's global state is set up once per process, on the first
 * iz_httpc_new(), and kept until exit.
 *
 * What an exchange will do: only http:// and https:// URLs, redirects never
 * followed (a 3xx is the answer), a bounded answer body (a larger one is an
 * error, never silently cut), a timeout for the whole exchange (for a body
 * streamed from a read callback: for its stalls) and one for connecting,
 * and an optional abort callback polled while it runs.
 *
 * Secrets: a URL may carry credentials (user info, a password in the
 * query), and Authorization values are built here from a bearer token or a
 * Basic user and password. None of them is ever logged (the debug log shows
 * scheme, host and path only), and every copy izin makes is wiped after the
 * exchange. libcurl's own copies are freed when the handle is reset, but
 * libcurl does not wipe them.
 */
#ifndef IZ_NET_CLIENT_H
#define IZ_NET_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct iz_httpc iz_httpc_t;

#define IZ_HTTPC_POOL_MAX 32               /* idle handles a client may keep */
#define IZ_HTTPC_URL_MAX (256u << 10)      /* longest URL (Kannel puts the text in it) */
#define IZ_HTTPC_HEADERS_MAX 32            /* extra header lines a request may have */
#define IZ_HTTPC_HEADER_MAX 8192           /* longest header line, Authorization included */
#define IZ_HTTPC_CRED_MAX 1024             /* longest Basic user, password */
#define IZ_HTTPC_BEARER_MAX 4096           /* longest bearer token (İYS's JWTs pass 1 KB) */
#define IZ_HTTPC_BODY_MAX (64u << 20)      /* largest max_body a request may ask for */
#define IZ_HTTPC_BODY_DEFAULT (64u << 10)  /* max_body when a request gives 0 */
#define IZ_HTTPC_TIMEOUT_DEFAULT_MS 10000L /* timeout_ms when a request gives 0 */
#define IZ_HTTPC_TIMEOUT_MAX_MS 600000L    /* longest timeout a request may ask for */
#define IZ_HTTPC_RETRY_AFTER_MAX 86400L    /* Retry-After values are clamped to a day */

typedef struct iz_httpc_conf {
    size_t pool; /* idle handles kept for reuse; 0: 4; at most IZ_HTTPC_POOL_MAX */
} iz_httpc_conf_t;

/* Make a client (conf may be NULL for the defaults). Returns 0, or IZ_EIO
 * when libcurl cannot be initialized. The caller frees *out with
 * iz_httpc_free(). */
int iz_httpc_new(const iz_httpc_conf_t *conf, iz_httpc_t **out);

/* Free a client and close its kept connections (NULL is fine). No exchange
 * may be running on it. */
void iz_httpc_free(iz_httpc_t *c);

/* Polled while an exchange runs (about once a second, more often while
 * data moves); returning true stops the exchange, which then fails with
 * res->aborted set. Called on the exchanging thread. */
typedef bool (*iz_httpc_abort_fn)(void *ud);

/* A body sent as it is read (a large upload streamed from a file): fill
 * buf with up to n bytes and return how many, 0 at the end, or -1 on a
 * failure, which stops the exchange (IZ_EIO, "cannot read the body").
 * Called on the exchanging thread. */
typedef long (*iz_httpc_read_fn)(void *ud, char *buf, size_t n);

/* Start the body again from its first byte, when libcurl must send the
 * request once more (a kept connection found closed); 0, or -1 when it
 * cannot (the exchange then fails). */
typedef int (*iz_httpc_rewind_fn)(void *ud);

/* Where a 2xx answer's body goes as it arrives, instead of into res->body
 * (a download larger than any buffer should be: a day's change file):
 * take n bytes and return 0, or non-zero to stop the exchange (IZ_EIO,
 * "cannot keep the answer"). An answer that is not 2xx is kept in
 * res->body as usual, so its error can be read. Called on the exchanging
 * thread. */
typedef int (*iz_httpc_write_fn)(void *ud, const char *data, size_t n);

/* One request. Every pointer is borrowed for the duration of
 * iz_httpc_do() only; nothing is kept after it returns. */
typedef struct iz_httpc_req {
    /* "GET", "POST", "PUT", ... (A-Z, at most 16); NULL: GET, or POST when
     * there is a body. */
    const char *method;
    /* http:// or https:// only, with a host, no spaces or control bytes, at
     * most IZ_HTTPC_URL_MAX. It may carry secrets: it is never logged. */
    const char *url;
    const char *const *headers; /* nheaders extra "Name: value" lines (no CR, LF) */
    size_t nheaders;            /* at most IZ_HTTPC_HEADERS_MAX */
    const char *body;           /* body_len bytes sent as the body; NULL: none */
    size_t body_len;
    /* Instead of body: a body read by body_read(body_ud, ...) while it is
     * sent, body_size bytes (Content-Length), or with body_size -1 of a
     * length not known beforehand (sent chunked). body_rewind may be NULL.
     * With body_read, timeout_ms is how long the exchange may go without
     * moving a byte either way, not its whole length: an upload takes as
     * long as it needs while it moves. */
    iz_httpc_read_fn body_read;
    iz_httpc_rewind_fn body_rewind;
    void *body_ud;
    int64_t body_size;
    const char *content_type; /* the body's Content-Type; NULL: none is sent */
    /* A 2xx answer's body handed to body_write(body_write_ud, ...) as it
     * arrives (not bounded by max_body; res->body stays NULL). With
     * body_write, timeout_ms bounds the stalls, as for body_read. */
    iz_httpc_write_fn body_write;
    void *body_write_ud;
    const char *user;        /* HTTP Basic when not NULL: no ':' (RFC 7617) */
    const char *password;    /* with user; NULL is "" */
    const char *bearer;      /* "Authorization: Bearer <bearer>" when not NULL */
    long timeout_ms;         /* the whole exchange; 0: IZ_HTTPC_TIMEOUT_DEFAULT_MS */
    long connect_timeout_ms; /* connecting alone; 0: as timeout_ms */
    /* Answer body bytes accepted; 0: IZ_HTTPC_BODY_DEFAULT; at most
     * IZ_HTTPC_BODY_MAX. */
    size_t max_body;
    iz_httpc_abort_fn abort; /* optional */
    void *abort_ud;
    /* When not NULL: the numeric IPv4 or IPv6 address (no brackets) to
     * connect to instead of resolving the URL's host, which still names
     * the server for TLS (SNI, certificate check) and the Host header
     * (CURLOPT_CONNECT_TO), and no proxy of the environment is used. The
     * caller checks an address and pins the exchange to it, so that a name
     * that resolves again to another address (DNS rebinding) cannot lead
     * the request elsewhere: the customer webhooks' guard against
     * reaching internal hosts. */
    const char *connect_addr;
} iz_httpc_req_t;

/* What an exchange's result means for a retry. Callers may refine it (the
 * İYS client makes a 4xx with an H-code permanent, a 401 a reason for a
 * new token). */
typedef enum {
    /* a 2xx answer, read whole */
    IZ_HTTPC_OK = 0,
    /* no answer, a timeout, an abort, an answer over max_body, 5xx, 429 */
    IZ_HTTPC_TRANSIENT,
    /* any other answer (4xx, an unfollowed 3xx), or a request refused
     * before sending: the same request will fail again */
    IZ_HTTPC_CLIENT
} iz_httpc_class_t;

/* The result of one exchange. iz_httpc_do() fills it from scratch, so one
 * that holds a body must go through iz_httpc_res_clear() before reuse. */
typedef struct iz_httpc_res {
    iz_httpc_class_t cls;
    /* The answer's HTTP status, also for an answer over max_body; 0 when
     * there was no answer. */
    long status;
    /* Owned, freed by iz_httpc_res_clear(); NUL-terminated after body_len
     * bytes; NULL when empty. At most max_body bytes: for an answer over
     * the limit, its first max_body bytes. */
    char *body;
    size_t body_len;
    bool too_big;       /* the answer body was larger than max_body */
    bool timed_out;     /* a timeout (connecting or the whole exchange) ended it */
    bool aborted;       /* the abort callback ended it */
    /* Some of the request was written to a connection: without an answer,
     * the server may still have acted on it (an SMS gateway may deliver a
     * message whose answer timed out); false when connecting failed. */
    bool sent;
    long retry_after_s; /* the answer's Retry-After in seconds (either form), 0 when none */
    char error[128];    /* why there was no usable answer (never a secret), "" otherwise */
} iz_httpc_res_t;

/* Make one exchange. Returns
 *   0           an answer was read whole, whatever its status (see res->cls);
 *   IZ_ETOOBIG  the answer body was over max_body (status set, too_big true,
 *               class TRANSIENT);
 *   IZ_EIO      no answer: refused, unreachable, TLS, timeout, abort, or a
 *               connection lost midway (status 0, class TRANSIENT);
 *   IZ_EINVAL   the request was refused before anything was sent: bad URL
 *               scheme or characters, CR/LF in a header, ':' in a Basic
 *               user, a limit above exceeded (class CLIENT).
 * res->error says why in every failure. A failed exchange is never retried
 * here: whether a retry is safe is the caller's decision. */
int iz_httpc_do(iz_httpc_t *c, const iz_httpc_req_t *req, iz_httpc_res_t *res);

/* Free what res holds and zero it (a zeroed res is fine). */
void iz_httpc_res_clear(iz_httpc_res_t *res);

/* Parse a Retry-After value (RFC 9110 10.2.3): delta-seconds, or an
 * HTTP-date in any of its three forms, taken relative to now (epoch
 * seconds; a past date is 0). Leading and trailing blanks are allowed. On
 * success *out_s gets the seconds, clamped to IZ_HTTPC_RETRY_AFTER_MAX;
 * IZ_EINVAL (out untouched) for anything else. */
int iz_httpc_retry_after(const char *value, int64_t now, long *out_s);

/* s percent-encoded for a URL query value: everything but the unreserved
 * characters (A-Z a-z 0-9 - . _ ~) as %XX. The caller frees the result. */
char *iz_httpc_escape(const char *s);

/* The pause before retry number attempt (1 = the first retry), in ms:
 * exponential backoff with "equal jitter" that honours a Retry-After.
 *
 *   d      = base_ms * 2^(attempt-1), at most max_ms
 *   result = uniform in [d - d/2, d] (picked by rnd), so that many izin
 *            nodes failing at once do not retry in step, and the pauses
 *            still grow: attempt n+1's shortest is attempt n's longest
 *   with retry_after_s > 0: never sooner than min(retry_after_s s, max_ms);
 *            when that is later than the result, uniform in
 *            [ra, min(ra + ra/4, max_ms)] instead, again not in step
 *
 * The result is in [1, max(max_ms, 1)]. Out-of-range arguments are taken
 * as their nearest valid value (attempt >= 1, base_ms >= 1, max_ms >=
 * base_ms); nothing overflows. rnd is a random value from the caller (31
 * random bits cover spans up to 24 days), so the function is pure and its
 * tests are deterministic. */
int64_t iz_backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, long retry_after_s,
                      uint64_t rnd);

#endif
