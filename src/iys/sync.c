/*
 * sync.c - the sync engine's worker (see sync.h for what it promises).
 *
 * The worker's round: reconcile uncertain bulk rows, send due realtime
 * changes, post due bulk batches, poll bulk requests, pull İYS-side changes
 * when their time has come, refresh the RET deadline figures; then sleep
 * until woken or 250 ms pass. Each account has its own İYS client (its URL
 * and credentials) and its own pause after transient failures, so one
 * account's broken İYS does not hold the others up.
 */
#include "iys/sync.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/iz.h"
#include "core/recipient.h"
#include "iys/client.h"
#include "net/client.h"
#include "sys/log.h"

#define ROUND_MS 250
#define REALTIME_BATCH 200
#define BULK_MAX 1000
#define BACKOFF_BASE_MS 500
#define PULL_LIMIT 1000
#define PULL_PAGES 50
#define RET_EVERY_MS 5000
#define WARNED_MAX 4096

typedef struct acct {
    int64_t account_id;
    iz_iys_t *cli;    /* NULL: no İYS configured for the account */
    int64_t pause_ms; /* no sending before this */
    int streak;       /* transient failures in a row */
} acct_t;

struct iz_sync {
    iz_domain_t *dom;
    iz_store_t *st;
    iz_sync_conf_t conf;
    char default_url[IZ_URL_MAX];
    pthread_t th;
    pthread_mutex_t mu; /* guards stop, woken, ret figures, accts (for stats) */
    pthread_cond_t cv;
    bool stop, woken, started;
    acct_t *accts;
    size_t naccts;
    int64_t next_pull_ms, next_ret_ms;
    int64_t ret_pending, ret_at_risk, ret_missed;
    int64_t warned[WARNED_MAX];
    size_t nwarned;
    _Atomic uint64_t pulled, accepted, rejected, quarantined;
    unsigned rnd;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The İYS client of an account, made on first use; NULL when the account has
 * no İYS (its changes are never PENDING then) or cannot be read. */
static acct_t *account(iz_sync_t *s, int64_t account_id)
{
    for (size_t i = 0; i < s->naccts; i++)
        if (s->accts[i].account_id == account_id) return &s->accts[i];
    iz_account_t a;
    if (iz_store_account_get(s->st, account_id, &a) != 0) return NULL;
    iz_iys_conf_t c = {0};
    const char *url = a.iys_url[0] ? a.iys_url : s->default_url;
    iz_iys_t *cli = NULL;
    if (url[0]) {
        iz_strlcpy(c.base_url, url, sizeof c.base_url);
        iz_strlcpy(c.username, a.iys_user, sizeof c.username);
        iz_strlcpy(c.password, a.iys_password, sizeof c.password);
        c.iys_code = a.iys_code;
        c.timeout_ms = s->conf.timeout_ms;
        c.rate = s->conf.rate;
        c.store = s->st; /* the account's tokens outlive a restart */
        c.account_id = account_id;
        if (iz_iys_new(&c, &cli) != 0) cli = NULL;
        iz_wipe(c.password, sizeof c.password);
    }
    iz_wipe(a.iys_password, sizeof a.iys_password);
    pthread_mutex_lock(&s->mu);
    s->accts = iz_xrealloc(s->accts, (s->naccts + 1) * sizeof *s->accts);
    acct_t *ac = &s->accts[s->naccts++];
    memset(ac, 0, sizeof *ac);
    ac->account_id = account_id;
    ac->cli = cli;
    pthread_mutex_unlock(&s->mu);
    return ac;
}

/* Pause an account after a transient failure: the shared backoff
 * (exponential with jitter, so that many izin nodes do not retry in step;
 * İYS's Retry-After honoured up to the configured longest pause). As
 * before, the growth stops at the 8th failure in a row (64 s), below
 * retry_max when that is longer. */
static int64_t backoff(iz_sync_t *s, acct_t *ac, const iz_iys_res_t *res)
{
    if (ac->streak < 20) ac->streak++;
    int64_t d = iz_backoff_ms(ac->streak < 8 ? ac->streak : 8, BACKOFF_BASE_MS,
                              (int64_t)s->conf.retry_max * 1000, res->retry_after_s,
                              (uint64_t)rand_r(&s->rnd));
    ac->pause_ms = now_ms() + d;
    return ac->pause_ms;
}

static void log_store_error(const char *what, int rc)
{
    iz_logf(IZ_LOG_ERROR, "sync", "store failure", "op=%s error=%s", what, iz_strerror(rc));
}

static void finish(iz_sync_t *s, int64_t log_id, bool ok, const char *txid, const char *code)
{
    /* İYS's codes are short ("H174"); anything longer than the record
     * keeps is logged whole and recorded as what it is: not an İYS code. */
    if (code && strlen(code) > 15) {
        iz_logf(IZ_LOG_WARN, "sync", "İYS answered an error code izin does not know",
                "id=%lld code=%s", (long long)log_id, code);
        code = "UNKNOWN";
    }
    int rc = iz_store_outbox_finish(s->st, log_id, ok ? IZ_IYS_ACCEPTED : IZ_IYS_REJECTED, txid,
                                    code, now_ms());
    if (rc != 0) log_store_error("record İYS answer", rc);
    atomic_fetch_add(ok ? &s->accepted : &s->rejected, 1);
}

/* Record the answer to one single add. */
static void single_result(iz_sync_t *s, acct_t *ac, const iz_outbox_item_t *it, iz_iys_res_t *res)
{
    if (res->cls == IZ_IYS_OK) {
        ac->streak = 0;
        const char *tx = json_string_value(json_object_get(res->body, "transactionId"));
        finish(s, it->chg.id, true, tx ? tx : "", "");
    } else if (res->cls == IZ_IYS_PERMANENT) {
        ac->streak = 0;
        iz_logf(IZ_LOG_WARN, "sync", "İYS refused a change", "id=%lld code=%s message=%s",
                (long long)it->chg.id, res->code, res->message);
        finish(s, it->chg.id, false, "", res->code);
    } else {
        int64_t next = backoff(s, ac, res);
        char err[300];
        snprintf(err, sizeof err, "%s %s", res->code, res->message);
        int rc = iz_store_outbox_retry(s->st, it->chg.id, next, err);
        if (rc != 0) log_store_error("schedule retry", rc);
    }
}

static void send_single(iz_sync_t *s, acct_t *ac, const iz_outbox_item_t *it)
{
    iz_iys_res_t res = {0};
    iz_iys_consent_add(ac->cli, it->brand_code, &it->chg, &res);
    single_result(s, ac, it, &res);
    iz_iys_res_clear(&res);
}

static bool stopping(iz_sync_t *s)
{
    pthread_mutex_lock(&s->mu);
    bool st = s->stop;
    pthread_mutex_unlock(&s->mu);
    return st;
}

/* An outbox row whose account has no İYS any more: keep it queued and look
 * again in a minute (the settings may come back). */
static void no_iys(iz_sync_t *s, const iz_outbox_item_t *it)
{
    iz_store_outbox_retry(s->st, it->chg.id, now_ms() + 60000, "no İYS configured");
}

/* Send each item of list (for which want() holds) as a v2 single add, as
 * its account allows: not while it is paused, queued again when it has no
 * İYS. Frees list. */
static void send_each(iz_sync_t *s, iz_outbox_item_t *list, size_t n,
                      bool (*want)(const iz_outbox_item_t *))
{
    for (size_t i = 0; i < n && !stopping(s); i++) {
        if (want && !want(&list[i])) continue;
        acct_t *ac = account(s, list[i].account_id);
        if (!ac || !ac->cli)
            no_iys(s, &list[i]);
        else if (ac->pause_ms <= now_ms())
            send_single(s, ac, &list[i]);
    }
    free(list);
}

static void do_realtime(iz_sync_t *s)
{
    iz_outbox_item_t *list = NULL;
    size_t n = 0;
    int rc = iz_store_outbox_due(s->st, now_ms(), false, REALTIME_BATCH, &list, &n);
    if (rc != 0)
        log_store_error("outbox", rc);
    else
        send_each(s, list, n, NULL);
}

static bool is_sending(const iz_outbox_item_t *it)
{
    return strcmp(it->state, "SENDING") == 0;
}

/* Rows left SENDING are uncertain: the bulk POST may or may not have reached
 * İYS (a crash, a timeout). Each is resent as an idempotent v2 single add:
 * İYS answers the transactionId it already has, or records it now. */
static void do_reconcile(iz_sync_t *s)
{
    iz_outbox_item_t *list = NULL;
    size_t n = 0;
    if (iz_store_outbox_inflight(s->st, &list, &n) == 0) send_each(s, list, n, is_sending);
}

/* Post one batch (one account and brand, distinct addresses, <= 1000). */
static void post_batch(iz_sync_t *s, acct_t *ac, iz_outbox_item_t **items, size_t n)
{
    int64_t *ids = iz_xmalloc(n * sizeof *ids);
    const iz_change_t **chgs = iz_xmalloc(n * sizeof *chgs);
    for (size_t i = 0; i < n; i++) {
        ids[i] = items[i]->chg.id;
        chgs[i] = &items[i]->chg;
    }
    int rc = iz_store_outbox_mark(s->st, ids, n, "SENDING", NULL, now_ms());
    if (rc != 0) {
        log_store_error("mark sending", rc);
        goto out;
    }
    iz_iys_res_t res = {0};
    iz_iys_bulk_add(ac->cli, items[0]->brand_code, chgs, n, &res);
    const char *rid = json_string_value(json_object_get(res.body, "requestId"));
    if (res.cls == IZ_IYS_OK && rid && strlen(rid) < sizeof items[0]->request_id) {
        ac->streak = 0;
        rc = iz_store_outbox_mark(s->st, ids, n, "SENT", rid, now_ms());
        if (rc != 0) log_store_error("mark sent", rc); /* stays SENDING: reconciled */
    } else if (res.cls == IZ_IYS_PERMANENT) {
        /* Field errors come back at once with the item's index: those
         * changes are refused; the rest go again in the next batch. */
        ac->streak = 0;
        bool *bad = iz_xcalloc(n, sizeof *bad);
        json_t *errs = json_object_get(res.body, "errors");
        size_t k;
        json_t *e;
        size_t nbad = 0;
        json_array_foreach(errs, k, e)
        {
            json_t *ix = json_object_get(e, "index");
            const char *code = json_string_value(json_object_get(e, "code"));
            if (json_is_integer(ix) && json_integer_value(ix) >= 0 &&
                (size_t)json_integer_value(ix) < n && !bad[json_integer_value(ix)]) {
                size_t i = (size_t)json_integer_value(ix);
                bad[i] = true;
                nbad++;
                finish(s, ids[i], false, "", code ? code : res.code);
            }
        }
        for (size_t i = 0; i < n; i++) {
            if (bad[i]) continue;
            if (nbad == 0)
                finish(s, ids[i], false, "", res.code); /* the request itself was refused */
            else
                iz_store_outbox_mark(s->st, &ids[i], 1, "PENDING", NULL, 0);
        }
        free(bad);
    } else if (res.http == 0) {
        /* No answer: İYS may have the request. Leave the rows SENDING; the
         * reconcile pass resends them one by one, idempotently. */
        backoff(s, ac, &res);
    } else {
        int64_t next = backoff(s, ac, &res);
        for (size_t i = 0; i < n; i++)
            iz_store_outbox_retry(s->st, ids[i], next, res.code[0] ? res.code : res.message);
    }
    iz_iys_res_clear(&res);
out:
    free(ids);
    free(chgs);
}

static void do_bulk(iz_sync_t *s)
{
    iz_outbox_item_t *list = NULL;
    size_t n = 0;
    if (iz_store_outbox_due(s->st, now_ms(), true, 5 * BULK_MAX, &list, &n) != 0 || n == 0) {
        free(list);
        return;
    }
    bool *used = iz_xcalloc(n, sizeof *used);
    iz_outbox_item_t **batch = iz_xmalloc(BULK_MAX * sizeof *batch);
    for (size_t i = 0; i < n && !stopping(s); i++) {
        if (used[i]) continue;
        acct_t *ac = account(s, list[i].account_id);
        size_t nb = 0;
        for (size_t j = i; j < n && nb < BULK_MAX; j++) {
            if (used[j] || list[j].account_id != list[i].account_id ||
                list[j].brand_code != list[i].brand_code)
                continue;
            used[j] = true;
            batch[nb++] = &list[j];
        }
        if (!ac || !ac->cli) {
            for (size_t b = 0; b < nb; b++)
                no_iys(s, batch[b]);
            continue;
        }
        if (ac->pause_ms > now_ms()) continue;
        post_batch(s, ac, batch, nb);
    }
    free(batch);
    free(used);
    free(list);
}

/* Poll the bulk requests whose time has come. Each SENT row keeps its index
 * in its request, so results map back even when some of the request's rows
 * were finished before (a partial result, or a crash between two finishes). */
static void do_poll(iz_sync_t *s)
{
    iz_outbox_item_t *list = NULL;
    size_t n = 0;
    if (iz_store_outbox_inflight(s->st, &list, &n) != 0) return;
    int64_t delay = (int64_t)s->conf.bulk_poll_delay * 1000;
    bool *done = iz_xcalloc(n ? n : 1, sizeof *done);
    for (size_t i = 0; i < n && !stopping(s); i++) {
        if (done[i] || strcmp(list[i].state, "SENT") != 0) continue;
        /* by_index[k]: the row posted at index k that is still waiting */
        const iz_outbox_item_t **by_index = iz_xcalloc(BULK_MAX, sizeof *by_index);
        for (size_t j = i; j < n; j++)
            if (!done[j] && strcmp(list[j].state, "SENT") == 0 &&
                strcmp(list[j].request_id, list[i].request_id) == 0) {
                done[j] = true;
                if (list[j].req_index >= 0 && list[j].req_index < BULK_MAX)
                    by_index[list[j].req_index] = &list[j];
            }
        acct_t *ac = account(s, list[i].account_id);
        if (!ac || !ac->cli || list[i].sent_ms + delay > now_ms() || ac->pause_ms > now_ms()) {
            free(by_index);
            continue;
        }
        iz_iys_res_t res = {0};
        iz_iys_bulk_status(ac->cli, list[i].brand_code, list[i].request_id, &res);
        if (res.cls == IZ_IYS_OK && json_is_array(res.body)) {
            ac->streak = 0;
            size_t k;
            json_t *item;
            bool waiting = false;
            json_array_foreach(res.body, k, item)
            {
                json_t *jix = json_object_get(item, "index");
                const char *st = json_string_value(json_object_get(item, "status"));
                if (!json_is_integer(jix) || !st) continue;
                json_int_t ix = json_integer_value(jix);
                if (ix < 0 || ix >= BULK_MAX || !by_index[ix]) continue;
                const iz_outbox_item_t *it = by_index[ix];
                if (strcmp(st, "success") == 0) {
                    const char *tx = json_string_value(json_object_get(item, "transactionId"));
                    finish(s, it->chg.id, true, tx ? tx : "", "");
                    by_index[ix] = NULL;
                } else if (strcmp(st, "failure") == 0) {
                    const char *code =
                        json_string_value(json_object_get(json_object_get(item, "error"), "code"));
                    finish(s, it->chg.id, false, "", code ? code : "failure");
                    by_index[ix] = NULL;
                }
            }
            for (size_t q = 0; q < BULK_MAX; q++)
                if (by_index[q]) waiting = true;
            /* Not processed yet: ask again after the poll delay. */
            if (waiting) iz_store_outbox_touch(s->st, list[i].request_id, now_ms());
        } else if (res.cls == IZ_IYS_PERMANENT) {
            /* İYS does not know the request (expired, or lost): resend the
             * changes idempotently. */
            ac->streak = 0;
            for (size_t q = 0; q < BULK_MAX; q++)
                if (by_index[q])
                    iz_store_outbox_mark(s->st, &by_index[q]->chg.id, 1, "SENDING", NULL, now_ms());
        } else {
            backoff(s, ac, &res);
        }
        iz_iys_res_clear(&res);
        free(by_index);
    }
    free(done);
    free(list);
}

static void do_pull(iz_sync_t *s)
{
    if (now_ms() < s->next_pull_ms) return;
    s->next_pull_ms = now_ms() + (int64_t)s->conf.pull_interval * 1000;
    iz_brand_t *brands = NULL;
    size_t nb = 0;
    if (iz_store_brands_all(s->st, &brands, &nb) != 0) return;
    static const char *const sources[] = {"IYS", "HS"};
    for (size_t b = 0; b < nb && !stopping(s); b++) {
        acct_t *ac = account(s, brands[b].account_id);
        if (!ac || !ac->cli || ac->pause_ms > now_ms()) continue;
        for (int si = 0; si < 2; si++) {
            char cursor[300];
            if (iz_store_cursor_get(s->st, brands[b].id, sources[si], cursor, sizeof cursor) != 0)
                continue;
            for (int page = 0; page < PULL_PAGES && !stopping(s); page++) {
                iz_iys_res_t res = {0};
                iz_iys_changes(ac->cli, brands[b].code, sources[si], cursor, PULL_LIMIT, &res);
                if (res.cls != IZ_IYS_OK) {
                    if (res.cls == IZ_IYS_TRANSIENT)
                        backoff(s, ac, &res);
                    else
                        iz_logf(IZ_LOG_WARN, "sync", "İYS refused the change pull",
                                "brand=%lld source=%s code=%s message=%s",
                                (long long)brands[b].code, sources[si], res.code, res.message);
                    iz_iys_res_clear(&res);
                    break;
                }
                ac->streak = 0;
                json_t *list = json_object_get(res.body, "list");
                const char *after = json_string_value(json_object_get(res.body, "after"));
                size_t got = json_array_size(list);
                if (res.http == 204 || got == 0) {
                    iz_iys_res_clear(&res);
                    break;
                }
                size_t applied = 0, kept = 0;
                int arc = iz_domain_apply_remote(s->dom, &brands[b], "pull", sources[si], list,
                                                 &applied, &kept);
                if (arc != 0) {
                    log_store_error("apply pulled changes", arc);
                    iz_iys_res_clear(&res);
                    break;
                }
                atomic_fetch_add(&s->pulled, (uint64_t)applied);
                atomic_fetch_add(&s->quarantined, (uint64_t)kept);
                /* The cursor moves only after the page is applied and what
                 * could not be applied is quarantined, so a crash re-pulls it
                 * and the repeats are recognized. */
                if (after && strlen(after) < sizeof cursor) {
                    iz_strlcpy(cursor, after, sizeof cursor);
                    iz_store_cursor_set(s->st, brands[b].id, sources[si], cursor);
                }
                iz_iys_res_clear(&res);
                if (got < PULL_LIMIT || !after) break;
            }
        }
    }
    free(brands);
}

static bool warned(iz_sync_t *s, int64_t id)
{
    for (size_t i = 0; i < s->nwarned; i++)
        if (s->warned[i] == id) return true;
    if (s->nwarned < WARNED_MAX) s->warned[s->nwarned++] = id;
    return false;
}

/* Pending, at risk (the deadline is in the current business day: less than
 * one business day left) and missed RETs. */
static void do_ret(iz_sync_t *s)
{
    if (now_ms() < s->next_ret_ms) return;
    s->next_ret_ms = now_ms() + RET_EVERY_MS;
    iz_ret_open_t *list = NULL;
    size_t n = 0;
    int64_t late = 0;
    if (iz_store_ret_open(s->st, &list, &n) != 0 || iz_store_ret_late(s->st, &late) != 0) {
        free(list);
        return;
    }
    int64_t now = now_ms() / 1000, pending = 0, risk = 0, missed = late;
    for (size_t i = 0; i < n; i++) {
        if (list[i].deadline < now) {
            missed++;
            continue;
        }
        pending++;
        if (iz_bizdays_between(s->conf.holidays, now, list[i].deadline) < 1) {
            risk++;
            if (!warned(s, list[i].log_id)) {
                char d[IZ_DATETIME_LEN];
                iz_tr_format(list[i].deadline, d);
                iz_logf(IZ_LOG_WARN, "sync", "a RET has not reached İYS and its deadline is near",
                        "id=%lld deadline=%s", (long long)list[i].log_id, d);
            }
        }
    }
    free(list);
    pthread_mutex_lock(&s->mu);
    s->ret_pending = pending;
    s->ret_at_risk = risk;
    s->ret_missed = missed;
    pthread_mutex_unlock(&s->mu);
}

static void *worker(void *arg)
{
    iz_sync_t *s = arg;
    while (!stopping(s)) {
        do_reconcile(s);
        do_realtime(s);
        do_bulk(s);
        do_poll(s);
        do_pull(s);
        do_ret(s);
        pthread_mutex_lock(&s->mu);
        if (!s->stop && !s->woken) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += ROUND_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        }
        s->woken = false;
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

/* A commit subscriber: a change waiting for İYS wakes the worker at once. */
static void on_commit(void *ctx, const iz_change_t *chg)
{
    if (chg->iys_state == IZ_IYS_PENDING) iz_sync_wake(ctx);
}

int iz_sync_start(iz_domain_t *dom, const iz_sync_conf_t *conf, iz_sync_t **out)
{
    iz_sync_t *s = iz_xcalloc(1, sizeof *s);
    s->dom = dom;
    s->st = iz_domain_store(dom);
    s->conf = *conf;
    if (conf->default_iys_url)
        iz_strlcpy(s->default_url, conf->default_iys_url, sizeof s->default_url);
    if (s->conf.pull_interval <= 0) s->conf.pull_interval = 60;
    if (s->conf.rate <= 0) s->conf.rate = 10;
    if (s->conf.bulk_poll_delay < 0) s->conf.bulk_poll_delay = 300;
    if (s->conf.timeout_ms <= 0) s->conf.timeout_ms = 10000;
    if (s->conf.retry_max <= 0) s->conf.retry_max = 60;
    s->rnd = (unsigned)now_ms();
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    /* Subscribed before the worker runs: the list must not change under a
     * commit, and the worker's own pulls commit. */
    int rc = iz_store_subscribe(s->st, on_commit, s);
    if (rc == 0 && pthread_create(&s->th, NULL, worker, s) != 0) rc = IZ_EIO;
    if (rc != 0) {
        iz_sync_stop(s); /* not started: unsubscribes and frees */
        return rc;
    }
    s->started = true;
    *out = s;
    return 0;
}

/* Wake the worker; with stop, for good. */
static void signal_worker(iz_sync_t *s, bool stop)
{
    pthread_mutex_lock(&s->mu);
    if (stop)
        s->stop = true;
    else
        s->woken = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void iz_sync_wake(iz_sync_t *s)
{
    if (s) signal_worker(s, false);
}

void iz_sync_stop(iz_sync_t *s)
{
    if (!s) return;
    signal_worker(s, true);
    if (s->started) pthread_join(s->th, NULL);
    /* Only once the worker has stopped: its own pulls commit changes, and
     * the subscriber list must not change under a commit. */
    iz_store_unsubscribe(s->st, on_commit, s);
    for (size_t i = 0; i < s->naccts; i++)
        iz_iys_free(s->accts[i].cli);
    free(s->accts);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void iz_sync_stats_get(iz_sync_t *s, iz_sync_stats_t *o)
{
    memset(o, 0, sizeof *o);
    if (!s) {
        o->success_rate = 1;
        return;
    }
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->naccts; i++) {
        if (!s->accts[i].cli) continue;
        iz_iys_counts_t c;
        iz_iys_counts_get(s->accts[i].cli, &c);
        o->ok += c.ok;
        o->client_error += c.client_error;
        o->rate_limited += c.rate_limited;
        o->server_error += c.server_error;
        o->transport += c.transport;
        o->token_blocked += c.token_blocked;
    }
    o->ret_pending = s->ret_pending;
    o->ret_at_risk = s->ret_at_risk;
    o->ret_missed = s->ret_missed;
    pthread_mutex_unlock(&s->mu);
    o->pulled = atomic_load(&s->pulled);
    o->accepted = atomic_load(&s->accepted);
    o->rejected = atomic_load(&s->rejected);
    o->quarantined = atomic_load(&s->quarantined);
    o->success_rate =
        o->ok + o->client_error ? (double)o->ok / (double)(o->ok + o->client_error) : 1;
    iz_store_outbox_count(s->st, &o->outbox);
}
