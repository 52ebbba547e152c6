/*
 * webhook.h - customer webhooks (API.md "Changes (F8)"): every committed
 * change of a brand that has a webhook is POSTed to the customer's URL,
 * signed, in commit order, retried with backoff until it is taken or
 * given up on (then kept as a dead letter and re-deliverable).
 *
 * The request: POST url with body {"list":[...], "timestamp": T}, where
 * each list item is the changes feed's item (domain.h
 * iz_change_feed_json) and T the unix seconds of the attempt, and headers
 *   Content-Type: application/json
 *   X-Izin-Timestamp: T
 *   X-Izin-Signature: sha256=<lower-case hex HMAC-SHA256(secret, body)>
 *   X-Izin-Delivery: <first change id>-<last change id> (the batch's id)
 * The timestamp is inside the signed body, so a receiver that checks the
 * signature and rejects old timestamps cannot be fed a replay.
 *
 * Delivery: the engine (iz_hook_start) keeps a small pool of workers; a
 * brand is handed to one worker at a time, so its batches go one by one in
 * commit order while other brands go on concurrently, and a receiver that
 * hangs holds one worker for at most the timeout (10 s). A batch is up to
 * IZ_HOOK_BATCH_MAX changes or IZ_HOOK_BATCH_BYTES of body. A batch that
 * fails (not 2xx, a timeout, no connection, an address no longer allowed)
 * is retried as it is (the same changes; a fresh timestamp and signature)
 * after iz_hook_backoff_ms, until it has failed for give_up_s; then it
 * becomes a dead letter (store.h iz_store_webhook_failed) and delivery
 * goes on after it. The cursor and the failing batch live in the store, so
 * a restart resumes where delivery was; a crash between the receiver's 2xx
 * and the cursor's commit sends that batch again (at least once: receivers
 * dedupe by change id).
 *
 * Addresses: a URL is https to a public address (iz_hook_addr_public for
 * every address its host resolves to), unless allow_private (then http and
 * private or loopback addresses too). The check runs when the webhook is
 * set and before every delivery, and the exchange is pinned to the address
 * checked (client.h connect_addr), so a name that resolves again to an
 * internal address (DNS rebinding) cannot reach it.
 *
 * Wake-ups: a commit subscriber (store.h iz_store_subscribe) marks the
 * change's brand (quick, no store call); the engine also looks at every
 * webhook every IZ_HOOK_POLL_MS (changes committed by other processes, a
 * retry's due time).
 */
#ifndef IZ_HOOK_WEBHOOK_H
#define IZ_HOOK_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "store/store.h"

#define IZ_HOOK_URL_MAX 2048          /* bytes of a webhook URL */
#define IZ_HOOK_SECRET_MIN 16         /* bytes of a secret, at least */
#define IZ_HOOK_SECRET_MAX 256        /* and at most */
#define IZ_HOOK_BATCH_MAX 500         /* changes in one delivery */
#define IZ_HOOK_BATCH_BYTES (1 << 20) /* bytes of one delivery's body, about */
#define IZ_HOOK_TIMEOUT_MS 10000L     /* one delivery's time limit */
#define IZ_HOOK_SET_WAIT_MS 15000     /* a setting's time limit (its name lookup) */
#define IZ_HOOK_FIRST_RETRY_MS 5000   /* the first retry comes within this */
#define IZ_HOOK_RETRY_MAX_MS 600000   /* the pauses double up to this */
#define IZ_HOOK_GIVE_UP_DEFAULT 86400 /* seconds a batch may fail before it is a dead letter */
#define IZ_HOOK_POLL_MS 2000          /* how often every webhook is looked at */
#define IZ_HOOK_SIG_MAX (7 + 64 + 1)  /* "sha256=" + hex + NUL */
#define IZ_HOOK_ADDR_MAX 64           /* a numeric address and its NUL */

/* ---- checks (pure, unit-tested) ------------------------------------------ */

/* A webhook URL taken apart. */
typedef struct iz_hook_url {
    bool https;
    char host[256]; /* a name or a numeric address (IPv6 without brackets) */
    unsigned port;  /* the URL's, or 443 / 80 */
} iz_hook_url_t;

/* Check and take apart a webhook URL: http:// or https:// (http only with
 * allow_private), a host, an optional port, no user info (credentials in
 * a URL would be shown by GET; the secret authenticates izin), no
 * fragment, printable ASCII only, at most IZ_HOOK_URL_MAX bytes. 0, or
 * IZ_EINVAL with *why (static English text). */
int iz_hook_url_parse(const char *url, bool allow_private, iz_hook_url_t *out, const char **why);

/* Whether an address may receive webhooks without allow_private: not
 * unspecified, loopback, private (10/8, 172.16/12, 192.168/16), link-local,
 * CGNAT 100.64/10, 0/8, multicast, broadcast, reserved or documentation
 * ranges; for IPv6 not ::1, fc00::/7, fe80::/10, fec0::/10, ff00::/8,
 * documentation, and not an IPv4-mapped, -compatible, NAT64 or 6to4 form
 * of a non-public IPv4 address. */
bool iz_hook_addr_public(const struct sockaddr *sa);

/* Resolve u's host and check every address it resolves to (all must be
 * public unless allow_private); the first into addr (numeric, without
 * brackets): the one the delivery is pinned to. 0, or IZ_EINVAL (not
 * allowed) / IZ_EIO (does not resolve) with *why (static text). */
int iz_hook_resolve(const iz_hook_url_t *u, bool allow_private, char addr[IZ_HOOK_ADDR_MAX],
                    const char **why);

/* Whether a secret is IZ_HOOK_SECRET_MIN..IZ_HOOK_SECRET_MAX printable
 * ASCII bytes (0x21..0x7e); *why says what is wrong. */
bool iz_hook_secret_ok(const char *secret, const char **why);

/* The Turkish of a *why of the checks above (iz_hook_url_parse,
 * iz_hook_resolve, iz_hook_secret_ok), for the API's and the panel's
 * refusals; a generic sentence for any other text. */
const char *iz_hook_why_tr(const char *why);

/* "sha256=" and the lower-case hex HMAC-SHA256 of body under secret. */
void iz_hook_sign(const char *secret, const char *body, size_t n, char out[IZ_HOOK_SIG_MAX]);

/* The pause before the next attempt of a batch that has failed attempts
 * times (>= 1), in ms: IZ_HOOK_FIRST_RETRY_MS doubled each time, at most
 * IZ_HOOK_RETRY_MAX_MS, with jitter (net/client.h iz_backoff_ms: within
 * [d/2, d]), not sooner than the receiver's Retry-After (capped by the
 * maximum). rnd is the caller's random value. */
int64_t iz_hook_backoff_ms(int attempts, long retry_after_s, uint64_t rnd);

/* ---- the delivery engine ---------------------------------------------------- */

typedef struct iz_hook iz_hook_t;

typedef struct iz_hook_conf {
    iz_store_t *store;  /* not owned; must outlive the engine */
    bool allow_private; /* --allow-private-webhooks */
    int64_t give_up_s;  /* --webhook-give-up; 0: IZ_HOOK_GIVE_UP_DEFAULT */
    unsigned workers;   /* deliveries at once; 0: 4 */
    /* Several nodes (domain/cluster.h): whether this node delivers now;
     * while it does not, nothing goes out, and every webhook is looked at
     * again when it does (its cursor is in the store). NULL: always. */
    bool (*lead)(void *ctx);
    void *lead_ctx;
} iz_hook_conf_t;

/* Start the engine: subscribe to the store's commits and start its
 * threads; every webhook is looked at once at start (a restart resumes).
 * IZ_EIO when a thread or the HTTP client cannot start. */
int iz_hook_start(const iz_hook_conf_t *conf, iz_hook_t **out);

/* Stop the workers (a delivery in flight finishes or times out first) and
 * free the engine (NULL is fine). */
void iz_hook_stop(iz_hook_t *h);

/* Look at brand_id's webhook now (set, retried). Thread-safe, quick. */
void iz_hook_wake(iz_hook_t *h, int64_t brand_id);

bool iz_hook_allow_private(const iz_hook_t *h);

/* Deliveries made since start, by outcome (/metrics). */
void iz_hook_counts(const iz_hook_t *h, uint64_t *ok, uint64_t *fail);

/* ---- what the API and the panel call ---------------------------------------- */

/* Set brand_id's webhook after checking it: the secret, the URL and the
 * addresses its host resolves to (as a delivery would). On a refusal
 * returns IZ_EINVAL with *field ("url" or "secret") and *why (static
 * English text); else the store's answer (*created as
 * iz_store_webhook_put's) and the engine looks at the brand. */
int iz_hook_set(iz_hook_t *h, int64_t brand_id, const char *url, const char *secret, bool *created,
                const char **field, const char **why);

/* Send brand_id's dead letter dead_id again, out of band (a worker does
 * it: delivered, it leaves the list; failed, it stays with the new
 * error). IZ_ENOTFOUND for no such dead letter, IZ_ERULE when the brand
 * has no webhook to send it to. */
int iz_hook_retry(iz_hook_t *h, int64_t brand_id, int64_t dead_id);

/* A brand's webhook (store.h iz_store_webhook_get without the secret), its
 * dead letters (iz_store_webhook_dead_list) and the backlog figures of
 * every brand (iz_store_webhook_figures) are read from the store directly. */

#endif
