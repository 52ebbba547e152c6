/*
 * bulk.c - the worker that processes the emulator's async bulk requests.
 *
 * iys_api.c checks a request's format, stores it with its items and wakes
 * this worker. Once a request is due (cfg.bulk_delay seconds after it was
 * made) its items are applied one by one in index order with İYS's rules,
 * so an item sees what the earlier items of its request did. They are
 * applied in chunks of CHUNK items - a whole request, as İYS takes 1000 at
 * most: each chunk is one store transaction (a batch, simstore.h) holding
 * its items' changes and their results (success with transactionId, or
 * failure with the H-code), so it costs one fsync, and after a crash or a
 * stop an item is either applied with its result or still "enqueue", to be
 * applied on the next start. Results older than 60 days are dropped, as
 * İYS keeps them no longer; expired tokens are dropped too.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hcode.h"
#include "core/iz.h"
#include "sim/sim_int.h"

/* Items a transaction (docs/DECISIONS.md): a commit's cost is the pages
 * it writes, which the items of one transaction share, so 1000 a commit
 * (a whole request) cost the worker a fifth less CPU a consent than 200;
 * the store's lock, which every API call needs too, is held about 30 ms. */
#define CHUNK 1000
#define KEEP_RESULTS (60 * 86400)
#define PURGE_EVERY 3600
#define IDLE_WAIT_MS 250

static bool stopping(iz_sim_t *sim)
{
    pthread_mutex_lock(&sim->mu);
    bool s = sim->stopping;
    pthread_mutex_unlock(&sim->mu);
    return s;
}

/* An item read and checked before its chunk's batch, outside the store's
 * lock: the consent to record, or the H-code it already fails with. */
typedef struct prepared {
    int idx; /* the item's index in its request */
    iz_consent_t c;
    iz__sim_retail_t rt; /* its retailerCode and retailerAccess */
    bool idempotent;     /* v2: an identical change is answered, not refused */
    const char *code;
} prepared_t;

static void prepare_item(const iz_sim_bulk_item_t *it, int64_t now, prepared_t *p)
{
    memset(p, 0, sizeof *p);
    p->idx = it->idx;
    json_t *item = json_loads(it->body ? it->body : "", 0, NULL);
    if (!json_is_object(item)) {
        p->code = "H015";
    } else {
        p->idempotent = json_is_true(json_object_get(item, "idempotent"));
        json_object_del(item, "idempotent");
        iz_verrs_t errs = {0};
        if (iz__sim_consent_parse(item, now, &p->c, &p->rt, &errs) != 0) p->code = errs.e[0].code;
    }
    json_decref(item);
}

/* Apply one prepared item inside the chunk's batch and store its result.
 * Returns 0, or the store's failure. A record that failed in the store
 * is the item's H015 - unless the failure spoiled the batch (simstore.h),
 * when storing the result fails too: the chunk is then rolled back and
 * tried again later, so no item fails for a fault of the emulator's disk. */
static int apply_item(iz_sim_t *sim, const iz_sim_bulk_t *b, const iz_sim_provider_t *prov,
                      const prepared_t *p, int64_t now)
{
    const char *code = p->code;
    if (!code) {
        iz_sim_change_t chg = {.iys_code = b->iys_code, .brand_code = b->brand_code};
        iz_strlcpy(chg.request_id, b->request_id, sizeof chg.request_id);
        size_t bad;
        int rc =
            iz__sim_record_retail(sim, prov, &p->c, &p->rt, now, p->idempotent, &chg, &code, &bad);
        if (rc == 0 || rc == IZ_REPEAT) {
            return iz_sim_bulk_item_result(sim->st, b->request_id, p->idx, "success", chg.txid,
                                           chg.creation, NULL, NULL);
        }
        if (rc != IZ_ERULE || !code) code = "H015";
    }
    const iz_hcode_t *hc = iz_hcode(code);
    return iz_sim_bulk_item_result(sim->st, b->request_id, p->idx, "failure", NULL, 0, code,
                                   hc ? hc->tr : code);
}

/* Apply the next CHUNK items still "enqueue" from items[*next] on, with
 * their results, in one batch; the batch that reaches the last item also
 * marks the request processed. The items are parsed before the batch, so
 * the store's lock (which every API call needs) is held for the writes
 * only. On success *next is where the next chunk starts (n when the
 * request is done); on failure nothing of the chunk is kept. No lock of the
 * emulator's is taken inside the batch: stopping() takes sim->mu, which
 * the worker holds while it calls the store. */
static int apply_chunk(iz_sim_t *sim, const iz_sim_bulk_t *b, const iz_sim_provider_t *prov,
                       const iz_sim_bulk_item_t *items, size_t n, size_t *next, prepared_t *prep)
{
    int64_t now = time(NULL);
    size_t i = *next, np = 0;
    for (; i < n && np < CHUNK; i++)
        if (strcmp(items[i].status, "enqueue") == 0) prepare_item(&items[i], now, &prep[np++]);
    int rc = iz_sim_batch_begin(sim->st);
    for (size_t k = 0; rc == 0 && k < np; k++)
        rc = apply_item(sim, b, prov, &prep[k], now);
    if (rc == 0 && i == n) rc = iz_sim_bulk_done(sim->st, b->request_id, time(NULL));
    if ((rc = iz_sim_batch_end(sim->st, rc)) == 0) *next = i;
    return rc;
}

int iz__sim_bulk_process(iz_sim_t *sim, const char *request_id)
{
    iz_sim_bulk_t b;
    iz_sim_bulk_item_t *items = NULL;
    size_t n = 0;
    int rc = iz_sim_bulk_get(sim->st, request_id, &b, &items, &n);
    if (rc != 0) return rc;
    iz_sim_provider_t prov;
    bool have_prov = iz_sim_provider_get(sim->st, b.iys_code, &prov) == 0;
    prepared_t *prep = iz_xcalloc(n < CHUNK ? n + 1 : CHUNK, sizeof *prep);
    size_t next = 0;
    do {
        /* Stop between chunks; the rest stays "enqueue" for the next start. */
        if (stopping(sim)) {
            rc = IZ_EBUSY;
            break;
        }
        rc = apply_chunk(sim, &b, have_prov ? &prov : NULL, items, n, &next, prep);
    } while (rc == 0 && next < n);
    free(prep);
    iz_sim_bulk_items_free(items, n);
    return rc;
}

/* The worker: process every due request, purge now and then, then sleep
 * until woken or a short while has passed. The store is asked for due
 * requests with sim->mu held, so a wake sent after a request was stored
 * cannot slip in between that question and the wait. */
static void *bulk_main(void *arg)
{
    iz_sim_t *sim = arg;
    int64_t last_purge = 0;
    pthread_mutex_lock(&sim->mu);
    while (!sim->stopping) {
        int64_t now = time(NULL);
        char id[37];
        int rc = iz_sim_bulk_next_due(sim->st, now, id);
        pthread_mutex_unlock(&sim->mu);
        if (rc == 0) {
            if (iz__sim_bulk_process(sim, id) != 0 && !stopping(sim)) {
                /* A store failure: do not spin on the same request. */
                struct timespec ts = {0, IDLE_WAIT_MS * 1000000L};
                nanosleep(&ts, NULL);
            }
            pthread_mutex_lock(&sim->mu);
            continue;
        }
        if (now - last_purge >= PURGE_EVERY) {
            iz_sim_bulk_purge(sim->st, now - KEEP_RESULTS);
            iz_sim_token_purge(sim->st, now);
            last_purge = now;
        }
        pthread_mutex_lock(&sim->mu);
        if (sim->stopping) break;
        /* Ask once more under the lock before sleeping (see above). */
        if (iz_sim_bulk_next_due(sim->st, time(NULL), id) == 0) continue;
        struct timespec ts;
        iz__sim_deadline_after_ms(&ts, IDLE_WAIT_MS);
        int w = pthread_cond_timedwait(&sim->wake, &sim->mu, &ts);
        (void)w;
    }
    pthread_mutex_unlock(&sim->mu);
    return NULL;
}

int iz__sim_bulk_start(iz_sim_t *sim)
{
    if (pthread_create(&sim->bulk_thread, NULL, bulk_main, sim) != 0) return IZ_EIO;
    sim->bulk_started = true;
    return 0;
}

void iz__sim_bulk_wake(iz_sim_t *sim)
{
    pthread_mutex_lock(&sim->mu);
    pthread_cond_broadcast(&sim->wake);
    pthread_mutex_unlock(&sim->mu);
}
