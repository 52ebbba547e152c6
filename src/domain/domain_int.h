/*
 * domain_int.h - what the domain's files share; private to src/domain/.
 *
 *   record.c   opening, the rules, recording changes from every origin
 *   remote.c   changes İYS reports (pull and push), the quarantine
 *   judge.c    the send filter's verdicts: one, a list, a stream
 */
#ifndef IZ_DOMAIN_INT_H
#define IZ_DOMAIN_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "domain/domain.h"

/* What recording needs of an account, cached for a moment so that a busy
 * API does not read the account under the store's lock for every change. */
typedef struct acct_cache {
    int64_t id;
    int64_t activation; /* epoch of the activation day's 00:00 TR, 0: upload period */
    bool iys;           /* İYS configured */
    int64_t quota;      /* its plan's consent limit, 0: none */
    int64_t until_ms;   /* valid until */
} acct_cache_t;

#define ACCT_CACHE 64      /* accounts kept */
#define ACCT_CACHE_MS 1000 /* how long an entry is trusted */

struct iz_domain {
    iz_store_t *st;
    const iz_holidays_t *holidays;
    const iz_plans_t *plans;
    iz_index_t *index;
    char *default_iys_url; /* NULL: none */
    bool index_subscribed;
    _Atomic uint64_t changes[IZ_ORIGIN_COUNT_];
    _Atomic uint64_t local_ret;
    _Atomic uint64_t quarantined;
    _Atomic int64_t seen_id; /* the largest log id the commit subscriber saw or caught up to */
    atomic_bool stale;       /* the index may miss other nodes' changes: checks wait (cluster.h) */
    atomic_bool stopping;    /* the process stops: a catch-up returns between two pages */
    pthread_mutex_t cache_mu;
    acct_cache_t cache[ACCT_CACHE];
};

#endif
