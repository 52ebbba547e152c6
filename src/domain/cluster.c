/*
 * cluster.c - the node's cluster thread (see cluster.h): the lease, the
 * notifications of the shared log and the catch-ups they call for.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "core/iz.h"
#include "domain/cluster.h"
#include "store/store.h"
#include "sys/log.h"

struct iz_cluster {
    iz_domain_t *dom;
    iz_store_t *st;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    atomic_bool leader;
    _Atomic uint64_t notices, catch_ups, caught, leads;
    _Atomic int64_t last_ok_ms;
    int64_t analyzed_at; /* the log's end at the last ANALYZE (the thread's) */
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep ms unless stopped; true when stopped. */
static bool nap(iz_cluster_t *c, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->mu);
    if (!c->stop) pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    bool stop = c->stop;
    pthread_mutex_unlock(&c->mu);
    return stop;
}

static bool stopping(iz_cluster_t *c)
{
    pthread_mutex_lock(&c->mu);
    bool stop = c->stop;
    pthread_mutex_unlock(&c->mu);
    return stop;
}

static void set_leader(iz_cluster_t *c, bool held)
{
    bool was = atomic_exchange(&c->leader, held);
    if (held && !was) {
        atomic_fetch_add(&c->leads, 1);
        iz_logf(IZ_LOG_INFO, "cluster", "this node leads: İYS sync, webhooks, SMS queue", NULL);
    } else if (!held && was) {
        iz_logf(IZ_LOG_WARN, "cluster", "this node no longer leads", NULL);
    }
}

/* Catch the index up with the shared log; the index is fresh again only
 * once that succeeded. */
static void catch_up(iz_cluster_t *c)
{
    size_t seen = 0;
    int rc = iz_domain_catch_up(c->dom, &seen);
    atomic_fetch_add(&c->catch_ups, 1);
    atomic_fetch_add(&c->caught, seen);
    if (rc == 0) {
        atomic_store(&c->last_ok_ms, wall_ms());
        if (iz_domain_stale(c->dom)) {
            iz_logf(IZ_LOG_INFO, "cluster", "caught up with the shared log: checks answer again",
                    "changes=%zu", seen);
            iz_domain_set_stale(c->dom, false);
        }
    } else if (!iz_domain_stale(c->dom)) {
        iz_logf(IZ_LOG_WARN, "cluster", "cannot read the shared log: checks wait", "error=%s",
                iz_strerror(rc));
        iz_domain_set_stale(c->dom, true);
    }
}

/* The leader refreshes the planner's statistics once the log has grown by
 * a fifth since the last time (and by ANALYZE_MIN changes at least). */
#define ANALYZE_MIN 1000

static void maybe_analyze(iz_cluster_t *c, iz_store_watch_t *w)
{
    int64_t max = 0;
    if (!atomic_load(&c->leader) || iz_store_log_max(c->st, &max) != 0) return;
    if (max - c->analyzed_at < ANALYZE_MIN || max - c->analyzed_at < c->analyzed_at / 5) return;
    if (iz_store_watch_analyze(w) == 0) c->analyzed_at = max;
}

static void *cluster_main(void *arg)
{
    iz_cluster_t *c = arg;
    iz_store_watch_t *w = NULL;
    while (!stopping(c)) {
        if (!w && iz_store_watch_open(c->st, &w) != 0) {
            w = NULL;
            set_leader(c, false);
            iz_domain_set_stale(c->dom, true);
            if (nap(c, IZ_CLUSTER_TRY_MS)) break;
            continue;
        }
        bool held = false, heard = false;
        int rc = iz_store_watch_lease(w, &held);
        set_leader(c, rc == 0 && held);
        /* A notice, or the wait's end: catch up either way (a notice can
         * be missed while a connection is made again). */
        if (rc == 0) rc = iz_store_watch_wait(w, IZ_CLUSTER_TRY_MS, &heard);
        if (heard) atomic_fetch_add(&c->notices, 1);
        if (rc != 0) {
            /* Deaf: what other nodes commit may be missed until the
             * connection is back and a catch-up has run. */
            if (!iz_domain_stale(c->dom))
                iz_logf(IZ_LOG_WARN, "cluster", "lost the shared log's notices: checks wait",
                        "error=%s", iz_strerror(rc));
            iz_domain_set_stale(c->dom, true);
            set_leader(c, false);
            iz_store_watch_close(w);
            w = NULL;
            if (nap(c, IZ_CLUSTER_TRY_MS)) break;
            continue;
        }
        catch_up(c);
        maybe_analyze(c, w);
    }
    set_leader(c, false);
    iz_store_watch_close(w);
    return NULL;
}

int iz_cluster_start(iz_domain_t *dom, iz_cluster_t **out)
{
    *out = NULL;
    iz_store_t *st = iz_domain_store(dom);
    if (!iz_store_shared(st)) return 0;
    iz_cluster_t *c = iz_xcalloc(1, sizeof *c);
    c->dom = dom;
    c->st = st;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    atomic_store(&c->last_ok_ms, wall_ms());
    if (pthread_create(&c->th, NULL, cluster_main, c) != 0) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        free(c);
        return IZ_EIO;
    }
    *out = c;
    return 0;
}

void iz_cluster_stop(iz_cluster_t *c)
{
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

bool iz_cluster_leading(void *arg)
{
    iz_cluster_t *c = arg;
    return !c || atomic_load(&c->leader);
}

void iz_cluster_status(iz_cluster_t *c, iz_cluster_status_t *out)
{
    *out = (iz_cluster_status_t){.leader = true};
    if (!c) return;
    out->shared = true;
    out->leader = atomic_load(&c->leader);
    out->stale = iz_domain_stale(c->dom);
    out->notices = atomic_load(&c->notices);
    out->catch_ups = atomic_load(&c->catch_ups);
    out->caught = atomic_load(&c->caught);
    out->leads = atomic_load(&c->leads);
    out->last_ok_ms = atomic_load(&c->last_ok_ms);
}
