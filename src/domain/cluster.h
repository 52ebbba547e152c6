/*
 * cluster.h - one node of several `izin serve` nodes on one PostgreSQL
 * store (issue 15).
 *
 * Every node serves every API. What only one node may do at a time - the
 * İYS sync (its outbox, pulls and polls), the webhook deliveries and the
 * outbound SMS queue - runs on the node that holds the cluster's lease, a
 * PostgreSQL session advisory lock (store.h iz_store_watch_lease): the
 * server frees it the moment the holder's session ends, so when the
 * leader dies another node takes it at its next try, within
 * IZ_CLUSTER_TRY_MS. The new leader starts as a restarted one would: rows
 * left SENDING go again (İYS's v2 adds are idempotent), SENT requests are
 * polled; nothing reaches İYS twice as a new record. And with one leader
 * sending, the İYS rate budget of the leader is the cluster's.
 *
 * Every node's send filter follows the shared log: a commit that appends
 * to the log notifies every node (LISTEN/NOTIFY), whose cluster thread
 * then catches up by log position (domain.h iz_domain_catch_up), and every
 * IZ_CLUSTER_TRY_MS without a notification too. While the node cannot hear
 * or read the log (its connection lost), its index is marked stale:
 * checks answer 503 IZ503 and /healthz says "catching up", until a
 * catch-up after the reconnection has succeeded.
 *
 * With a store that is not shared (SQLite), there is no cluster: the node
 * leads and is never stale.
 */
#ifndef IZ_DOMAIN_CLUSTER_H
#define IZ_DOMAIN_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/domain.h"

#define IZ_CLUSTER_TRY_MS 250 /* between tries of the lease, and catch-ups without a notice */

typedef struct iz_cluster iz_cluster_t;

/* Start the node's cluster thread when the domain's store is shared; *out
 * is NULL (and 0 returned) when it is not. The domain outlives it. */
int iz_cluster_start(iz_domain_t *dom, iz_cluster_t **out);

/* Stop the thread and free it (the lease goes with its connection). NULL
 * is fine. */
void iz_cluster_stop(iz_cluster_t *c);

/* Whether this node holds the lease: the leader's work may run. With no
 * cluster (c NULL) always true. The shape of a worker's callback. */
bool iz_cluster_leading(void *c);

typedef struct iz_cluster_status {
    bool shared;        /* several nodes may share the store */
    bool leader;        /* this node holds the lease */
    bool stale;         /* the filter index may be behind: checks wait */
    uint64_t notices;   /* notifications heard */
    uint64_t catch_ups; /* catch-ups run, and changes read by them */
    uint64_t caught;
    uint64_t leads;     /* times this node took the lease */
    int64_t last_ok_ms; /* wall clock of the last successful catch-up */
} iz_cluster_status_t;

void iz_cluster_status(iz_cluster_t *c, iz_cluster_status_t *out);

#endif
