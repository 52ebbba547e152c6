/*
 * sync.h - the İYS sync engine: delivers the outbox to İYS and brings
 * İYS-side changes back.
 *
 * One worker thread does everything in turn, so every İYS request of a
 * process goes through one rate bucket per account:
 *   - realtime changes (API, SMS, URL, PANEL) as v2 single adds, at once;
 *   - BULK changes in async bulk requests of up to 1000 (one change per
 *     address per request), their status polled no sooner than allowed;
 *   - the change pull (source IYS and HS) per brand on a schedule;
 *   - the RET deadline watch.
 * Transient failures (no answer, 5xx, 429) are retried with exponential
 * backoff and jitter, and pause the account's sending; permanent ones (a 4xx
 * with an H-code) are recorded as REJECTED and never retried.
 *
 * Crash safety: a change leaves the outbox only in the transaction that
 * records İYS's final answer. Single adds use İYS's idempotent v2 call, so a
 * resend after a crash gets the same transactionId. A bulk request is marked
 * SENDING before it is posted and SENT with its requestId after; at start-up
 * SENT requests are polled by requestId and SENDING ones (posted or not,
 * nobody knows) are reconciled address by address with a status query.
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
    double rate;                 /* İYS requests a second per account (10) */
    int bulk_poll_delay;         /* s before a bulk request's status is polled (300) */
    long timeout_ms;             /* per İYS request (10000) */
    int retry_max;               /* s: the longest pause between retries (60) */
    const iz_holidays_t *holidays;
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

typedef struct iz_sync_stats {
    uint64_t ok, client_error, rate_limited, server_error, transport, token_blocked;
    double success_rate; /* ok / (ok + client_error), 1 when nothing was sent */
    int64_t outbox;
    int64_t ret_pending, ret_at_risk, ret_missed;
    uint64_t pulled, accepted, rejected, quarantined;
} iz_sync_stats_t;

void iz_sync_stats_get(iz_sync_t *s, iz_sync_stats_t *out);

#endif
