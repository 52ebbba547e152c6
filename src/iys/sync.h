/*
 * sync.h - the İYS sync engine: delivers the outbox to İYS and brings
 * İYS-side changes back.
 *
 * Every request to one İYS base URL takes a slot of that URL's one rate
 * budget (iys/budget.h: `rate` a second for the whole process, whatever the
 * number of accounts), handed out by one dispatcher thread in priority
 * order, and among accounts of equal priority to the one served least
 * recently:
 *   1. RETs, earliest deadline first (alone or in a bulk request);
 *   2. v2 single adds: an account's realtime change goes at once, alone;
 *   3. bulk sends: when more than bulk_after of an account's changes are
 *      due (a few seconds' worth of single adds), or for BULK-origin
 *      changes, up to 1000 changes of one brand a request, filled greedily;
 *   4. bulk status polls: each request once bulk_poll_delay has passed
 *      since it was posted (again after a quarter of that delay, at least
 *      0.5 s, while İYS answers "enqueue");
 *   5. change pulls (sources IYS and HS) per brand every pull_interval;
 *   6. the daily reconciliation (iys/recon.h) of yesterday, per brand, once
 *      Turkey time is past recon_hour (İYS writes the day's files at its
 *      day-end); a FAILED one is tried again an hour later, a MISMATCH is
 *      reported and left for a person (`izin iys reconcile` runs it again).
 * Several senders run the requests, so many are in flight at once; per
 * address order holds because only the oldest outbox row of an address is
 * ever sent, and the next one only after İYS's answer to it is recorded.
 *
 * Failures: no answer or a 5xx marks the URL down; then only a cheap probe
 * goes out (four a second for the first 30 s, then one a second), and the
 * first answer brings everything back. A
 * 429 pauses the URL for its Retry-After and lowers its rate. A failed token
 * request or a 401 pauses the account alone, with exponential backoff up to
 * retry_max. A 4xx with an H-code refuses the change for good (REJECTED),
 * except the codes that are about the account rather than the change
 * (iys/standing.h: H520, H521, H524, H525, H586, H353): those hold the
 * account, and the change stays PENDING.
 *
 * Standing (iys/standing.h): every standing_interval, and soon after an
 * answer that held an account, the engine reads each account's HS
 * subscription (GET /sps/{iysCode}/subscription) and, for a partner, its
 * own subscription and the brands that authorized it (GET
 * /integrator/{code}/sps). While an account is held nothing of it is sent
 * (a full consent limit: only RETs go); a partner account's changes of a
 * brand or type it may not write are held alone. When the hold ends its
 * changes go at once. iz_sync_standing tells where an account stands.
 *
 * Partner mode: an account added with --iys-integrator CODE sends with the
 * partner's token, one for every such account on an İYS URL (its state
 * kept in the store), logged in with integrator_user and _password.
 *
 * Crash safety: a change leaves the outbox only in the transaction that
 * records İYS's final answer. Single and bulk adds are İYS's idempotent v2
 * calls, so whatever was in flight at a crash is sent again and İYS answers
 * the transactionIds it already gave. A bulk request is marked SENDING
 * before it is posted and SENT with its requestId after; SENT requests are
 * polled after a restart, and rows left SENDING go back to the queue.
 */
#ifndef IZ_IYS_SYNC_H
#define IZ_IYS_SYNC_H

#include <jansson.h>
#include <stdint.h>

#include "core/trtime.h"
#include "domain/domain.h"
#include "store/store.h"

typedef struct iz_sync_conf {
    const char *default_iys_url; /* for accounts that set none; NULL = none */
    int pull_interval;           /* s between change pulls (60) */
    double rate;                 /* İYS requests a second per base URL, all accounts (10) */
    int bulk_after;              /* due changes of an account that switch it to bulk (3 * rate) */
    int bulk_poll_delay;         /* s before a bulk request's status is polled (300) */
    long timeout_ms;             /* per İYS request (10000) */
    int retry_max;               /* s: the longest pause between retries (60) */
    int recon_hour;              /* Turkey-time hour (1-23) after which yesterday is
                                    reconciled; 0: 2; < 0: no daily reconciliation */
    const iz_holidays_t *holidays;
    const char *integrator_user;     /* the İYS partner's API user, or NULL */
    const char *integrator_password; /* (copied; wiped at stop) */
    int standing_interval;           /* s between subscription and partner reads (600) */
    /* Several nodes (domain/cluster.h): whether this node may send now.
     * While it may not, nothing is sent nor pulled; when it may again, the
     * engine starts as a restarted one. NULL: always. */
    bool (*lead)(void *ctx);
    void *lead_ctx;
} iz_sync_conf_t;

typedef struct iz_sync iz_sync_t;

/* Start the worker. It subscribes to the store's commits (a PENDING change
 * wakes it at once) and applies what İYS reports through the domain layer.
 * The domain, its store and the holidays must outlive it. */
int iz_sync_start(iz_domain_t *dom, const iz_sync_conf_t *conf, iz_sync_t **out);

/* Stop the worker (it finishes the request in flight) and free it. */
void iz_sync_stop(iz_sync_t *s);

/* Tell the worker there is something new in the outbox (committed PENDING
 * changes wake it by themselves). */
void iz_sync_wake(iz_sync_t *s);

/* The İYS client of an account (made on first use, shared with the
 * senders: its requests take the same slots of its URL's budget), or NULL
 * when the account has no İYS. It lives as long as s. For the calls made
 * on a user's behalf (retailers, iys/retailers.h). */
struct iz_iys;
struct iz_iys *iz_sync_client(iz_sync_t *s, int64_t account_id);

/* What a request was for (the /metrics labels). */
typedef enum {
    IZ_REQ_SINGLE,
    IZ_REQ_BULK,
    IZ_REQ_POLL,
    IZ_REQ_PULL,
    IZ_REQ_PROBE,
    IZ_REQ_RECON, /* a reconciliation: several requests (file, agreement, timestamp) */
    IZ_REQ_SUBSCRIPTION, /* an account's HS subscription */
    IZ_REQ_PARTNER,      /* a partner's subscription and authorizations */
    IZ_REQ_KINDS
} iz_req_kind_t;

const char *iz_req_kind_name(iz_req_kind_t k);

typedef struct iz_sync_stats {
    uint64_t ok, client_error, rate_limited, server_error, transport, token_blocked, tokens;
    double success_rate; /* ok / (ok + client_error), 1 when nothing was sent */
    int64_t outbox;
    uint64_t requests[IZ_REQ_KINDS]; /* requests made, by kind */
    double requests_per_s[IZ_REQ_KINDS]; /* over the last 10 s */
    uint64_t consents_sent;          /* changes in requests İYS took (single and bulk) */
    double consents_per_s;           /* over the last 10 s */
    int64_t to_iys_p50_ms, to_iys_p99_ms; /* creation to İYS's final answer, last 4096 */
    int budgets_down;                /* İYS base URLs that do not answer now */
    int64_t ret_pending, ret_at_risk, ret_missed;
    uint64_t pulled, accepted, rejected, quarantined;
    uint64_t recon[4]; /* reconciliations run by this process: MATCHED, REPAIRED, MISMATCH,
                          FAILED */
} iz_sync_stats_t;

void iz_sync_stats_get(iz_sync_t *s, iz_sync_stats_t *out);

/* Where an account stands with İYS now, as one JSON object (new
 * reference): {account, iysCode, mode: "direct"|"partner"|"none",
 * integratorCode?, sending, reason?, detail?, subscription: {status,
 * consentLimit, used, consentLimitExceed, checkedAt} or null, partner?:
 * {integratorCode, subscription, checkedAt, brands: [{brandCode,
 * authorized, MESAJ, ARAMA, EPOSTA, agreementControl}], problems:
 * [{brandCode, type?, problem: BRAND_NOT_AUTHORIZED|NO_WRITE}]}}. The
 * store keeps a copy for the command line (iz_store_iys_standing_all). */
json_t *iz_sync_standing(iz_sync_t *s, int64_t account_id);

/* Every account's (a JSON array, new reference; for /metrics). */
json_t *iz_sync_standings(iz_sync_t *s);

#endif
