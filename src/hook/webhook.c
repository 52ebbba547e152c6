/*
 * webhook.c - the delivery engine of customer webhooks (webhook.h).
 *
 * One dispatcher thread and a pool of workers. The dispatcher keeps a slot
 * for each brand with a webhook; every IZ_HOOK_POLL_MS, or sooner when the
 * commit subscriber or the API marks a brand, it reads the webhooks from
 * the store and hands each brand that is due and not already with a worker
 * to the pool. A worker then delivers that brand's batches one after the
 * other (at most BATCHES_A_TURN, so that a long backlog does not keep the
 * worker from other brands), then gives the brand back. Nothing here holds
 * the engine's lock while it calls the store or the network: the commit
 * subscriber, which runs under the store's lock, only takes the engine's.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/iz.h"
#include "domain/domain.h"
#include "hook/webhook.h"
#include "net/client.h"
#include "sys/crypto.h"
#include "sys/log.h"

#define WORKERS_MAX 32
#define DIRTY_MAX 256     /* brands marked between two looks; more: look at all */
#define BATCHES_A_TURN 20 /* batches a worker delivers for a brand before it gives it back */
#define DEAD_A_TURN 50    /* dead-letter retries a worker makes in one turn */

typedef struct slot {
    int64_t brand_id;
    bool busy;      /* with a worker */
    bool seen;      /* still has a webhook (the last read) */
    bool remark;    /* marked while with a worker: another turn after this one */
    int64_t due_ms; /* when to look at it again without a mark */
} slot_t;

struct iz_hook {
    iz_hook_conf_t conf;
    iz_httpc_t *http;
    pthread_mutex_t mu;
    pthread_cond_t dcv; /* the dispatcher waits on it */
    pthread_cond_t wcv; /* the workers wait on it */
    bool stop;
    int64_t dirty[DIRTY_MAX];
    size_t ndirty;
    bool all_dirty;
    /* The brand the commit subscriber marked last, 0 once the dispatcher
     * has taken the marks: a bulk job's millions of changes of one brand
     * take the lock once a look, not once a change. */
    _Atomic int64_t last_marked;
    slot_t *slots;
    size_t nslots, slots_cap;
    int64_t *queue; /* brand ids waiting for a worker (at most one entry a brand) */
    size_t qhead, qlen, qcap;
    pthread_t dispatcher;
    pthread_t workers[WORKERS_MAX];
    unsigned nworkers;
    bool dispatcher_started;
    atomic_uint_fast64_t ok, fail;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t rnd64(void)
{
    uint64_t r = 0;
    if (iz_random(&r, sizeof r) != 0) r = (uint64_t)now_ms() * 2654435761u;
    return r;
}

/* ---- marks ------------------------------------------------------------------ */

/* Mark a brand to be looked at; the caller holds h->mu. */
static void mark_locked(iz_hook_t *h, int64_t brand_id)
{
    for (size_t i = 0; i < h->ndirty; i++)
        if (h->dirty[i] == brand_id) return;
    if (h->ndirty < DIRTY_MAX)
        h->dirty[h->ndirty++] = brand_id;
    else
        h->all_dirty = true;
    pthread_cond_signal(&h->dcv);
}

void iz_hook_wake(iz_hook_t *h, int64_t brand_id)
{
    if (!h) return;
    pthread_mutex_lock(&h->mu);
    mark_locked(h, brand_id);
    pthread_mutex_unlock(&h->mu);
}

/* The commit subscriber: under the store's lock, so only a mark, and none
 * while the brand's mark is still waiting for the dispatcher (it reads the
 * store after taking the marks, so it sees this change too). */
static void on_commit(void *ctx, const iz_change_t *chg)
{
    iz_hook_t *h = ctx;
    if (atomic_load(&h->last_marked) == chg->brand_id) return;
    pthread_mutex_lock(&h->mu);
    mark_locked(h, chg->brand_id);
    atomic_store(&h->last_marked, chg->brand_id); /* under mu, as its reset */
    pthread_mutex_unlock(&h->mu);
}

/* ---- one delivery ----------------------------------------------------------- */

/* What became of one POST. */
typedef struct outcome {
    bool ok;
    long status;      /* the answer's status, 0 when none */
    long retry_after; /* the answer's Retry-After, s */
    char error[160];  /* why it failed */
} outcome_t;

/* POST the changes items (the feed's items, a JSON array) to the webhook
 * as one delivery with id delivery. */
static void post(iz_hook_t *h, const iz_webhook_t *w, json_t *items, const char *delivery,
                 outcome_t *out)
{
    memset(out, 0, sizeof *out);
    iz_hook_url_t u;
    const char *why = NULL;
    char addr[IZ_HOOK_ADDR_MAX];
    if (iz_hook_url_parse(w->url, h->conf.allow_private, &u, &why) != 0 ||
        iz_hook_resolve(&u, h->conf.allow_private, addr, &why) != 0) {
        snprintf(out->error, sizeof out->error, "%s", why);
        return;
    }
    int64_t ts = (int64_t)time(NULL);
    json_t *doc = json_pack("{s:O, s:I}", "list", items, "timestamp", (json_int_t)ts);
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!body) iz_oom();
    size_t blen = strlen(body);
    char sig[IZ_HOOK_SIG_MAX];
    iz_hook_sign(w->secret, body, blen, sig);
    char l_ts[64], l_sig[32 + IZ_HOOK_SIG_MAX], l_id[96];
    snprintf(l_ts, sizeof l_ts, "X-Izin-Timestamp: %lld", (long long)ts);
    snprintf(l_sig, sizeof l_sig, "X-Izin-Signature: %s", sig);
    snprintf(l_id, sizeof l_id, "X-Izin-Delivery: %s", delivery);
    const char *headers[] = {l_ts, l_sig, l_id, "User-Agent: izin-webhook"};
    iz_httpc_req_t req = {.method = "POST",
                          .url = w->url,
                          .headers = headers,
                          .nheaders = IZ_ARRAY_LEN(headers),
                          .body = body,
                          .body_len = blen,
                          .content_type = "application/json",
                          .timeout_ms = IZ_HOOK_TIMEOUT_MS,
                          .max_body = 64 << 10,
                          .connect_addr = addr};
    iz_httpc_res_t res;
    int rc = iz_httpc_do(h->http, &req, &res);
    out->status = res.status;
    out->retry_after = res.retry_after_s;
    /* A 2xx whose answer is over the limit was still taken. */
    if ((rc == 0 || rc == IZ_ETOOBIG) && res.status >= 200 && res.status < 300)
        out->ok = true;
    else if (res.status)
        snprintf(out->error, sizeof out->error, "the receiver answered HTTP %ld", res.status);
    else
        snprintf(out->error, sizeof out->error, "no answer: %s", res.error);
    iz_httpc_res_clear(&res);
    free(body);
    atomic_fetch_add(out->ok ? &h->ok : &h->fail, 1);
}

/* The brand's changes in (after, last] (last 0: no bound), at most max,
 * into items as the feed's items, cut at IZ_HOOK_BATCH_BYTES (never
 * below one change); *first, *end and *count describe what was taken. */
static int load_batch(iz_hook_t *h, int64_t brand_id, int64_t after, int64_t last, size_t max,
                      json_t *items, int64_t *first, int64_t *end, int64_t *count)
{
    iz_change_t *list = NULL;
    size_t n = 0;
    *first = *end = *count = 0;
    int rc = iz_store_changes(h->conf.store, brand_id, after, max, &list, &n);
    /* What is delivered is on disk first (store.h iz_store_durable). */
    if (rc == 0 && n > 0) rc = iz_store_durable(h->conf.store);
    size_t bytes = 64;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (last && list[i].id > last) break;
        json_t *it = iz_change_feed_json(&list[i]);
        char *text = json_dumps(it, JSON_COMPACT);
        size_t len = text ? strlen(text) + 1 : 0;
        free(text);
        if (*count > 0 && bytes + len > IZ_HOOK_BATCH_BYTES) {
            json_decref(it);
            break;
        }
        bytes += len;
        json_array_append_new(items, it);
        if (!*first) *first = list[i].id;
        *end = list[i].id;
        (*count)++;
    }
    free(list);
    return rc;
}

/* Log a failed delivery: the brand, the batch and why (never the URL,
 * whose query may hold a token, nor the secret). */
static void log_failure(const iz_webhook_t *w, const char *delivery, const outcome_t *o,
                        int attempts, bool dead)
{
    iz_logf(dead ? IZ_LOG_ERROR : IZ_LOG_WARN, "webhook",
            dead ? "a batch failed for too long: kept as a dead letter" : "delivery failed",
            "brand_id=%lld delivery=%s attempts=%d status=%ld error=%s", (long long)w->brand_id,
            delivery, attempts, o->status, o->error);
}

/* The dead letters of the brand whose retry was asked for: each sent once
 * more to the webhook as it is now. */
static void retry_dead(iz_hook_t *h, const iz_webhook_t *w)
{
    iz_webhook_dead_t *dl = NULL;
    size_t nd = 0;
    if (iz_store_webhook_dead_list(h->conf.store, w->brand_id, 0, DEAD_A_TURN, true, &dl, &nd) != 0)
        return;
    for (size_t i = 0; i < nd; i++) {
        json_t *items = json_array();
        int64_t first, end, count;
        int rc = load_batch(h, w->brand_id, dl[i].first_id - 1, dl[i].last_id, (size_t)dl[i].count,
                            items, &first, &end, &count);
        if (rc == 0 && count > 0) {
            char delivery[64];
            snprintf(delivery, sizeof delivery, "%lld-%lld", (long long)dl[i].first_id,
                     (long long)dl[i].last_id);
            outcome_t o;
            post(h, w, items, delivery, &o);
            iz_store_webhook_dead_done(h->conf.store, dl[i].id, o.ok, o.status, o.error);
            iz_logf(o.ok ? IZ_LOG_INFO : IZ_LOG_WARN, "webhook",
                    o.ok ? "dead letter delivered" : "dead letter retry failed",
                    "brand_id=%lld delivery=%s status=%ld error=%s", (long long)w->brand_id,
                    delivery, o.status, o.error);
        }
        json_decref(items);
    }
    free(dl);
}

/* Whether w's webhook was set again (or removed) since w was read. */
static bool replaced(iz_hook_t *h, const iz_webhook_t *w)
{
    iz_webhook_t *now = iz_xmalloc(sizeof *now);
    int rc = iz_store_webhook_get(h->conf.store, w->brand_id, false, now);
    bool changed = rc != 0 || now->id != w->id || now->updated_ms != w->updated_ms ||
                   strcmp(now->url, w->url) != 0;
    free(now);
    return changed;
}

/* One turn of a brand: its dead-letter retries, then its batches until
 * one fails, none is left or the turn is over. Returns true when more may
 * be waiting (the dispatcher looks again at once). */
static bool turn(iz_hook_t *h, int64_t brand_id)
{
    iz_webhook_t *w = iz_xmalloc(sizeof *w);
    bool more = false;
    if (iz_store_webhook_get(h->conf.store, brand_id, true, w) != 0) goto out;
    retry_dead(h, w);
    for (int b = 0; b < BATCHES_A_TURN; b++) {
        int64_t now = now_ms();
        if (w->batch_last && w->next_ms > now) break; /* a retry not yet due */
        if (b > 0 && replaced(h, w)) {
            /* Set again (another URL or secret) since the turn began: no
             * further batch goes to the old one; a new turn takes the new. */
            more = true;
            break;
        }
        json_t *items = json_array();
        int64_t first, end, count;
        int rc = w->batch_last ? load_batch(h, brand_id, w->cursor, w->batch_last,
                                            (size_t)w->batch_count, items, &first, &end, &count)
                               : load_batch(h, brand_id, w->cursor, 0, IZ_HOOK_BATCH_MAX, items,
                                            &first, &end, &count);
        if (rc != 0 || count == 0) {
            json_decref(items);
            break;
        }
        char delivery[64];
        snprintf(delivery, sizeof delivery, "%lld-%lld", (long long)first, (long long)end);
        outcome_t o;
        post(h, w, items, delivery, &o);
        json_decref(items);
        now = now_ms();
        if (o.ok) {
            if (iz_store_webhook_delivered(h->conf.store, w->id, end) != 0) break;
            w->cursor = end;
            w->batch_first = w->batch_last = w->batch_count = 0;
            w->attempts = 0;
            w->failing_since_ms = 0;
            more = b == BATCHES_A_TURN - 1;
            continue;
        }
        /* The same batch again, or a first failure of a new one. */
        bool same = w->batch_last == end && w->failing_since_ms > 0;
        int64_t since = same ? w->failing_since_ms : now;
        int attempts = (same ? w->attempts : 0) + 1;
        int64_t give_up_ms = h->conf.give_up_s * 1000;
        bool dead = now - since >= give_up_ms;
        int64_t next = now + iz_hook_backoff_ms(attempts, o.retry_after, rnd64());
        /* The last try comes when the batch's time is up, not a pause
         * after it. */
        if (next > since + give_up_ms) next = since + give_up_ms;
        log_failure(w, delivery, &o, attempts, dead);
        if (iz_store_webhook_failed(h->conf.store, w->id, first, end, count, now, next, o.status,
                                    o.error, dead) != 0)
            break;
        if (!dead) break;
        /* Given up on: the cursor moved past it; the next changes go now. */
        w->cursor = end;
        w->batch_first = w->batch_last = w->batch_count = 0;
        w->attempts = 0;
        w->failing_since_ms = 0;
    }
out:
    iz_wipe(w->secret, sizeof w->secret);
    free(w);
    return more;
}

/* ---- the pool ---------------------------------------------------------------- */

static slot_t *slot_of(iz_hook_t *h, int64_t brand_id)
{
    for (size_t i = 0; i < h->nslots; i++)
        if (h->slots[i].brand_id == brand_id) return &h->slots[i];
    return NULL;
}

static void *worker_main(void *arg)
{
    iz_hook_t *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->stop && h->qlen == 0)
            pthread_cond_wait(&h->wcv, &h->mu);
        if (h->stop) break;
        int64_t brand_id = h->queue[h->qhead];
        h->qhead = (h->qhead + 1) % h->qcap;
        h->qlen--;
        pthread_mutex_unlock(&h->mu);
        bool more = turn(h, brand_id);
        pthread_mutex_lock(&h->mu);
        slot_t *s = slot_of(h, brand_id);
        if (s) {
            s->busy = false;
            s->due_ms = now_ms() + IZ_HOOK_POLL_MS;
            more = more || s->remark;
            s->remark = false;
        }
        if (more) mark_locked(h, brand_id);
        pthread_cond_signal(&h->dcv);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* Hand a brand to the pool; the caller holds h->mu. */
static void enqueue_locked(iz_hook_t *h, slot_t *s)
{
    if (h->qlen == h->qcap) {
        size_t cap = h->qcap ? 2 * h->qcap : 16;
        int64_t *q = iz_xmalloc(cap * sizeof *q);
        for (size_t i = 0; i < h->qlen; i++)
            q[i] = h->queue[(h->qhead + i) % h->qcap];
        free(h->queue);
        h->queue = q;
        h->qhead = 0;
        h->qcap = cap;
    }
    h->queue[(h->qhead + h->qlen) % h->qcap] = s->brand_id;
    h->qlen++;
    s->busy = true;
    pthread_cond_signal(&h->wcv);
}

static bool in_list(const int64_t *l, size_t n, int64_t v)
{
    for (size_t i = 0; i < n; i++)
        if (l[i] == v) return true;
    return false;
}

/* One look: read the webhooks and hand out the brands that are due. */
static int64_t look(iz_hook_t *h, const int64_t *dirty, size_t ndirty, bool all)
{
    iz_webhook_t *list = NULL;
    size_t n = 0;
    int64_t now = now_ms(), wait = IZ_HOOK_POLL_MS;
    if (iz_store_webhooks_all(h->conf.store, &list, &n) != 0) return wait;
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->nslots; i++)
        h->slots[i].seen = false;
    for (size_t i = 0; i < n; i++) {
        slot_t *s = slot_of(h, list[i].brand_id);
        if (!s) {
            if (h->nslots == h->slots_cap) {
                h->slots_cap = h->slots_cap ? 2 * h->slots_cap : 16;
                h->slots = iz_xrealloc(h->slots, h->slots_cap * sizeof *h->slots);
            }
            s = &h->slots[h->nslots++];
            *s = (slot_t){.brand_id = list[i].brand_id};
        }
        s->seen = true;
        /* A failing batch waits for its time (a mark may bring a
         * dead-letter retry); otherwise a mark or the poll brings it. */
        bool marked = all || in_list(dirty, ndirty, s->brand_id);
        if (s->busy) {
            s->remark = s->remark || marked;
            continue;
        }
        bool due = marked || now >= s->due_ms || (list[i].batch_last && list[i].next_ms <= now);
        if (due) {
            s->due_ms = now + IZ_HOOK_POLL_MS;
            enqueue_locked(h, s);
        } else if (list[i].batch_last && list[i].next_ms - now < wait) {
            wait = list[i].next_ms - now;
        }
    }
    /* Brands whose webhook went (and not with a worker) lose their slot. */
    size_t k = 0;
    for (size_t i = 0; i < h->nslots; i++)
        if (h->slots[i].seen || h->slots[i].busy) h->slots[k++] = h->slots[i];
    h->nslots = k;
    pthread_mutex_unlock(&h->mu);
    free(list);
    return wait < 10 ? 10 : wait;
}

static void *dispatcher_main(void *arg)
{
    iz_hook_t *h = arg;
    int64_t dirty[DIRTY_MAX];
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        if (h->conf.lead && !h->conf.lead(h->conf.lead_ctx)) {
            /* Another node delivers: look at everything once this one
             * does again. */
            h->all_dirty = true;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 250 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&h->dcv, &h->mu, &ts);
            continue;
        }
        atomic_store(&h->last_marked, 0); /* marks from now on are new */
        size_t nd = h->ndirty;
        bool all = h->all_dirty;
        memcpy(dirty, h->dirty, nd * sizeof *dirty);
        h->ndirty = 0;
        h->all_dirty = false;
        pthread_mutex_unlock(&h->mu);
        int64_t wait = look(h, dirty, nd, all);
        pthread_mutex_lock(&h->mu);
        if (h->stop || h->ndirty || h->all_dirty) continue;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = (int64_t)ts.tv_nsec + (wait % 1000) * 1000000;
        ts.tv_sec += (time_t)(wait / 1000 + ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&h->dcv, &h->mu, &ts);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

int iz_hook_start(const iz_hook_conf_t *conf, iz_hook_t **out)
{
    *out = NULL;
    iz_hook_t *h = iz_xcalloc(1, sizeof *h);
    h->conf = *conf;
    if (h->conf.give_up_s <= 0) h->conf.give_up_s = IZ_HOOK_GIVE_UP_DEFAULT;
    h->nworkers = h->conf.workers ? h->conf.workers : 4;
    if (h->nworkers > WORKERS_MAX) h->nworkers = WORKERS_MAX;
    iz_httpc_conf_t hc = {.pool = h->nworkers};
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->dcv, NULL);
    pthread_cond_init(&h->wcv, NULL);
    h->all_dirty = true; /* a restart resumes every webhook */
    unsigned started = 0;
    int rc = iz_httpc_new(&hc, &h->http);
    if (rc == 0) rc = iz_store_subscribe(h->conf.store, on_commit, h);
    if (rc != 0) {
        iz_httpc_free(h->http);
        free(h);
        return IZ_EIO;
    }
    for (; started < h->nworkers; started++)
        if (pthread_create(&h->workers[started], NULL, worker_main, h) != 0) break;
    h->nworkers = started;
    h->dispatcher_started =
        started > 0 && pthread_create(&h->dispatcher, NULL, dispatcher_main, h) == 0;
    if (!h->dispatcher_started) {
        iz_hook_stop(h);
        return IZ_EIO;
    }
    *out = h;
    return 0;
}

void iz_hook_stop(iz_hook_t *h)
{
    if (!h) return;
    iz_store_unsubscribe(h->conf.store, on_commit, h);
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    pthread_cond_broadcast(&h->dcv);
    pthread_cond_broadcast(&h->wcv);
    pthread_mutex_unlock(&h->mu);
    if (h->dispatcher_started) pthread_join(h->dispatcher, NULL);
    for (unsigned i = 0; i < h->nworkers; i++)
        pthread_join(h->workers[i], NULL);
    iz_httpc_free(h->http);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->dcv);
    pthread_cond_destroy(&h->wcv);
    free(h->slots);
    free(h->queue);
    free(h);
}

bool iz_hook_allow_private(const iz_hook_t *h)
{
    return h && h->conf.allow_private;
}

void iz_hook_counts(const iz_hook_t *h, uint64_t *ok, uint64_t *fail)
{
    *ok = h ? atomic_load(&h->ok) : 0;
    *fail = h ? atomic_load(&h->fail) : 0;
}

/* ---- the API's calls ------------------------------------------------------------ */

int iz_hook_set(iz_hook_t *h, int64_t brand_id, const char *url, const char *secret, bool *created,
                const char **field, const char **why)
{
    iz_hook_url_t u;
    char addr[IZ_HOOK_ADDR_MAX];
    *field = "secret";
    if (!iz_hook_secret_ok(secret, why)) return IZ_EINVAL;
    *field = "url";
    if (iz_hook_url_parse(url, h->conf.allow_private, &u, why) != 0) return IZ_EINVAL;
    if (iz_hook_resolve(&u, h->conf.allow_private, addr, why) != 0) return IZ_EINVAL;
    *field = NULL;
    int rc = iz_store_webhook_put(h->conf.store, brand_id, url, secret, created);
    if (rc == 0) iz_hook_wake(h, brand_id);
    return rc;
}

int iz_hook_retry(iz_hook_t *h, int64_t brand_id, int64_t dead_id)
{
    iz_webhook_t *w = iz_xmalloc(sizeof *w);
    int rc = iz_store_webhook_get(h->conf.store, brand_id, false, w);
    free(w);
    if (rc == IZ_ENOTFOUND) {
        /* Say which is missing: the dead letter, or the webhook. */
        iz_webhook_dead_t *dl = NULL;
        size_t n = 0;
        rc = iz_store_webhook_dead_list(h->conf.store, brand_id, dead_id - 1, 1, false, &dl, &n);
        bool found = rc == 0 && n == 1 && dl[0].id == dead_id;
        free(dl);
        return rc != 0 ? rc : found ? IZ_ERULE : IZ_ENOTFOUND;
    }
    if (rc == 0) rc = iz_store_webhook_dead_retry(h->conf.store, brand_id, dead_id);
    if (rc == 0) iz_hook_wake(h, brand_id);
    return rc;
}
