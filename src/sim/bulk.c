/*
 * bulk.c - the worker that processes the emulator's async bulk requests.
 *
 * iys_api.c checks a request's format, stores it with its items and wakes
 * this worker. Once a request is due (cfg.bulk_delay seconds after it was
 * made) its items are applied one by one in index order with İYS's rules;
 * each item's result (success with transactionId, or failure with the
 * H-code) is stored as soon as it is known, so a restart in the middle
 * resumes with the items still "enqueue". Results older than 60 days are
 * dropped, as İYS keeps them no longer; expired tokens are dropped too.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hcode.h"
#include "core/iz.h"
#include "sim/sim_int.h"

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

/* Apply one stored item; fills the result fields of *it. */
static void process_item(iz_sim_t *sim, const iz_sim_bulk_t *b, const iz_sim_provider_t *prov,
                         iz_sim_bulk_item_t *it)
{
    int64_t now = time(NULL);
    const char *code = NULL;
    json_t *item = json_loads(it->body ? it->body : "", 0, NULL);
    if (!json_is_object(item)) {
        code = "H015";
    } else {
        bool idempotent = json_is_true(json_object_get(item, "idempotent"));
        json_object_del(item, "idempotent");
        iz_consent_t c;
        iz_verrs_t errs = {0};
        if (iz__sim_consent_parse(item, now, &c, &errs) != 0) {
            code = errs.e[0].code;
        } else {
            iz_sim_change_t chg = {.iys_code = b->iys_code, .brand_code = b->brand_code};
            iz_strlcpy(chg.request_id, b->request_id, sizeof chg.request_id);
            int rc = iz__sim_record(sim, prov, &c, now, idempotent, &chg, &code);
            if (rc == 0 || rc == IZ_REPEAT) {
                code = NULL;
                iz_strlcpy(it->status, "success", sizeof it->status);
                iz_strlcpy(it->txid, chg.txid, sizeof it->txid);
                it->creation = chg.creation;
            } else if (rc != IZ_ERULE || !code) {
                code = "H015";
            }
        }
    }
    json_decref(item);
    if (code) {
        const iz_hcode_t *hc = iz_hcode(code);
        iz_strlcpy(it->status, "failure", sizeof it->status);
        iz_strlcpy(it->error_code, code, sizeof it->error_code);
        iz_strlcpy(it->error_message, hc ? hc->tr : code, sizeof it->error_message);
        it->txid[0] = '\0';
        it->creation = 0;
    }
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
    for (size_t i = 0; i < n && rc == 0; i++) {
        iz_sim_bulk_item_t *it = &items[i];
        if (strcmp(it->status, "enqueue") != 0) continue;
        /* Stop between items; the rest stays "enqueue" for the next start. */
        if (stopping(sim)) {
            rc = IZ_EBUSY;
            break;
        }
        process_item(sim, &b, have_prov ? &prov : NULL, it);
        rc = iz_sim_bulk_item_result(sim->st, request_id, it->idx, it->status,
                                     it->txid[0] ? it->txid : NULL, it->creation,
                                     it->error_code[0] ? it->error_code : NULL,
                                     it->error_code[0] ? it->error_message : NULL);
    }
    iz_sim_bulk_items_free(items, n);
    if (rc != 0) return rc;
    return iz_sim_bulk_done(sim->st, request_id, time(NULL));
}

static void deadline_after_ms(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
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
        deadline_after_ms(&ts, IDLE_WAIT_MS);
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
