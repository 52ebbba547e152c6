/*
 * record.c - recording consent changes, from every origin (see domain.h).
 *
 * A call validates each change's fields (core/consent.c), reads the
 * account once (its İYS activation date and whether it has an İYS), and
 * hands the valid changes to the store as one batch; the İYS state rules
 * run inside the store's transaction through rule(), so they are judged
 * against the record as it is at that moment.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/iz.h"
#include "domain/domain_int.h"
#include "sys/log.h"

/* ---- opening ---------------------------------------------------------------- */

/* Counts committed changes by origin: a commit subscriber. */
static void count_change(void *ctx, const iz_change_t *chg)
{
    iz_domain_t *d = ctx;
    if (chg->origin >= 0 && chg->origin < IZ_ORIGIN_COUNT_)
        atomic_fetch_add(&d->changes[chg->origin], 1);
    if (chg->warning[0] && strcmp(chg->warning, "H175") == 0) atomic_fetch_add(&d->local_ret, 1);
    /* The catch-up cursor moves with this process's own commits only while
     * they follow it without a gap: a row another process committed in
     * between stays after the cursor, for iz_domain_catch_up to put into
     * the index (commits are published in order, under the store's lock). */
    int64_t seen = atomic_load(&d->seen_id);
    if (chg->id == seen + 1) (void)atomic_compare_exchange_strong(&d->seen_id, &seen, chg->id);
}

int iz_domain_open(const iz_domain_conf_t *conf, iz_domain_t **out, const char **err)
{
    const char *dummy;
    if (!err) err = &dummy;
    *err = NULL;
    if (!conf || !conf->store || !out) {
        *err = "the domain needs a store";
        return IZ_EINVAL;
    }
    iz_domain_t *d = iz_xcalloc(1, sizeof *d);
    if (pthread_mutex_init(&d->cache_mu, NULL) != 0) iz_oom();
    d->st = conf->store;
    d->holidays = conf->holidays;
    d->plans = conf->plans;
    d->index = conf->index;
    if (conf->default_iys_url && *conf->default_iys_url)
        d->default_iys_url = iz_xstrdup(conf->default_iys_url);
    /* The index subscribes before it is built: a change committed during
     * the build is replayed onto the new contents (index.h), never lost. */
    int rc = iz_store_subscribe(d->st, count_change, d);
    if (rc == 0 && d->index) {
        rc = iz_store_subscribe(d->st, iz_index_on_change, d->index);
        if (rc == 0) d->index_subscribed = true;
    }
    if (rc != 0) {
        *err = "the store has no room for another commit subscriber";
        iz_domain_close(d);
        return rc;
    }
    /* The log's end before the build: what other processes commit later
     * is caught up with (iz_domain_catch_up). */
    int64_t max = 0;
    if (d->index && (rc = iz_store_log_max(d->st, &max)) != 0) {
        *err = "cannot read the consent log";
        iz_domain_close(d);
        return rc;
    }
    atomic_store(&d->seen_id, max);
    if (d->index && (rc = iz_index_build(d->index, d->st)) != 0) {
        *err = "cannot build the filter index from the store";
        iz_domain_close(d);
        return rc;
    }
    *out = d;
    return 0;
}

void iz_domain_close(iz_domain_t *d)
{
    if (!d) return;
    iz_store_unsubscribe(d->st, count_change, d);
    if (d->index_subscribed) iz_store_unsubscribe(d->st, iz_index_on_change, d->index);
    free(d->default_iys_url);
    pthread_mutex_destroy(&d->cache_mu);
    free(d);
}

iz_store_t *iz_domain_store(const iz_domain_t *d)
{
    return d->st;
}

bool iz_domain_iys_configured(const iz_domain_t *d, const iz_account_t *acct)
{
    return acct->iys_url[0] != '\0' || d->default_iys_url != NULL;
}

void iz_domain_stats(const iz_domain_t *d, iz_domain_stats_t *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < IZ_ORIGIN_COUNT_; i++)
        out->changes[i] = atomic_load(&d->changes[i]);
    out->local_ret = atomic_load(&d->local_ret);
    out->quarantined = atomic_load(&d->quarantined);
}

int iz_domain_ret_tally(iz_domain_t *d, int64_t brand_id, int64_t now, iz_ret_tally_t *out)
{
    memset(out, 0, sizeof *out);
    iz_ret_open_t *list = NULL;
    size_t n = 0;
    int64_t late = 0;
    int rc = iz_store_ret_brand(d->st, brand_id, &list, &n, &late);
    if (rc != 0) return rc;
    out->missed = late;
    for (size_t i = 0; i < n; i++) {
        if (list[i].deadline < now) {
            out->missed++;
            continue;
        }
        out->pending++;
        if (iz_bizdays_between(d->holidays, now, list[i].deadline) < 1) out->at_risk++;
    }
    free(list);
    return 0;
}

/* ---- changes other processes commit ------------------------------------------ */

#define CATCH_UP_PAGE 1000

/* Put the current record of a change's key into the index, and again while
 * it moves under us: a change of this process committed meanwhile has
 * applied itself, and must not be undone by an older read. */
static int index_current(iz_domain_t *d, const iz_change_t *c)
{
    int64_t last = -1;
    for (int round = 0; round < 8; round++) {
        iz_change_t cur;
        int rc = iz_store_consent_get(d->st, c->brand_id, c->rtype, c->type, c->recipient, &cur);
        if (rc == IZ_ENOTFOUND) return 0;
        if (rc != 0) return rc;
        if (cur.id == last) return 0;
        last = cur.id;
        if ((rc = iz_index_apply(d->index, &cur)) != 0) return rc;
    }
    return 0;
}

int iz_domain_catch_up(iz_domain_t *d, size_t *seen)
{
    if (seen) *seen = 0;
    if (!d || !d->index) return 0;
    while (!atomic_load(&d->stopping)) {
        int64_t from = atomic_load(&d->seen_id), max = 0;
        int rc = iz_store_log_max(d->st, &max);
        if (rc != 0 || max <= from) return rc;
        iz_change_t *list = NULL;
        size_t n = 0;
        if ((rc = iz_store_log_after(d->st, from, CATCH_UP_PAGE, &list, &n)) != 0) return rc;
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = index_current(d, &list[i]);
        int64_t last = n ? list[n - 1].id : max;
        free(list);
        if (rc != 0) return rc;
        if (seen) *seen += n;
        int64_t cur = atomic_load(&d->seen_id);
        while (last > cur && !atomic_compare_exchange_weak(&d->seen_id, &cur, last)) {
        }
        if (n < CATCH_UP_PAGE) return 0;
    }
    return 0;
}

void iz_domain_stopping(iz_domain_t *d)
{
    if (d) atomic_store(&d->stopping, true);
}

void iz_domain_set_stale(iz_domain_t *d, bool stale)
{
    if (d) atomic_store(&d->stale, stale);
}

bool iz_domain_stale(const iz_domain_t *d)
{
    return d && atomic_load(&((iz_domain_t *)d)->stale);
}

/* ---- what recording needs of an account -------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The account's activation (for H467) and whether its changes go to İYS:
 * from the cache when read in the last ACCT_CACHE_MS, else from the store.
 * A change of an account's settings (the CLI, another node) is seen within
 * that time. */
static int account_of(iz_domain_t *d, int64_t account_id, acct_cache_t *out)
{
    int64_t t = now_ms();
    size_t slot = (size_t)account_id % ACCT_CACHE;
    pthread_mutex_lock(&d->cache_mu);
    acct_cache_t c = d->cache[slot];
    pthread_mutex_unlock(&d->cache_mu);
    if (c.id == account_id && c.until_ms > t) {
        *out = c;
        return 0;
    }
    iz_account_t acct;
    int rc = iz_store_account_get(d->st, account_id, &acct);
    iz_wipe(acct.iys_password, sizeof acct.iys_password);
    if (rc != 0) return rc;
    const iz_plan_t *plan = iz_plans_find(d->plans, acct.plan);
    c = (acct_cache_t){.id = account_id,
                       .iys = iz_domain_iys_configured(d, &acct),
                       .quota = plan ? plan->limit : 0,
                       .until_ms = t + ACCT_CACHE_MS};
    if (acct.activation_date[0]) iz_tr_parse_date(acct.activation_date, &c.activation);
    pthread_mutex_lock(&d->cache_mu);
    d->cache[slot] = c;
    pthread_mutex_unlock(&d->cache_mu);
    *out = c;
    return 0;
}

/* ---- the rules, inside the store's transaction --------------------------- */

typedef struct rule_ctx {
    iz_record_t *rec;
    const iz_consent_t *c;
    const iz_rules_ctx_t *rules;
    bool iys_configured;
} rule_ctx_t;

static int rule(void *vctx, const iz_current_t *cur, iz_change_t *chg)
{
    rule_ctx_t *ctx = vctx;
    const char *code = iz_consent_rules(ctx->c, cur, ctx->rules);
    if (code && strcmp(code, "H175") == 0) {
        /* İYS refuses a first RET; izin keeps the opt-out locally, from
         * every origin: it blocks sending and is never sent to İYS. */
        chg->iys_state = IZ_IYS_LOCAL;
        iz_strlcpy(chg->warning, "H175", sizeof chg->warning);
        chg->ret_deadline = 0;
        return 0;
    }
    if (code) {
        ctx->rec->hcode = code;
        return IZ_ERULE;
    }
    chg->iys_state = ctx->iys_configured ? IZ_IYS_PENDING : IZ_IYS_LOCAL;
    return 0;
}

/* ---- recording ------------------------------------------------------------- */

/* Each record's fate from its store item (rc: the transaction's failure,
 * or 0). */
static void outcomes(iz_store_apply_t *items, size_t k, int rc)
{
    for (size_t i = 0; i < k; i++) {
        iz_record_t *r = ((rule_ctx_t *)items[i].ctx)->rec;
        r->rc = rc != 0 ? rc : items[i].rc;
        if (r->rc == IZ_EQUOTA) {
            /* Every origin answers a plan's limit as a rule's refusal. */
            r->rc = IZ_ERULE;
            r->hcode = "IZ4031";
        }
        if (r->rc != IZ_ERULE) r->hcode = NULL;
    }
}

int iz_domain_usage(iz_domain_t *d, int64_t account_id, iz_usage_t *out)
{
    memset(out, 0, sizeof *out);
    iz_account_t acct;
    int rc = iz_store_account_get(d->st, account_id, &acct);
    iz_wipe(acct.iys_password, sizeof acct.iys_password);
    if (rc == 0) rc = iz_store_account_usage(d->st, account_id, &out->used);
    if (rc == 0) out->plan = iz_plans_find(d->plans, acct.plan);
    return rc;
}

const iz_plans_t *iz_domain_plans(const iz_domain_t *d)
{
    return d->plans;
}

typedef struct then_ctx {
    iz_store_apply_t *items;
    size_t n;
    iz_store_then_fn then;
    void *ctx;
} then_ctx_t;

/* Inside the transaction: the records' fates as they stand, then the
 * caller's work. */
static int then_outcomes(iz_store_t *st, void *arg)
{
    then_ctx_t *tc = arg;
    outcomes(tc->items, tc->n, 0);
    return tc->then(st, tc->ctx);
}

int iz_domain_record(iz_domain_t *d, const iz_brand_t *brand, int64_t now, iz_record_t *recs,
                     size_t n)
{
    return iz_domain_record_then(d, brand, now, recs, n, NULL, NULL);
}

/* An empty change: its numbers zero, its strings "" (a bulk batch clears
 * tens of thousands of them: the buffers are not wiped whole). */
static void change_clear(iz_change_t *c)
{
    c->id = c->brand_id = c->consent_date = c->creation_ms = c->ret_deadline = 0;
    c->rtype = IZ_RTYPE_NONE;
    c->type = IZ_TYPE_NONE;
    c->status = IZ_STATUS_NONE;
    c->source = IZ_SOURCE_NONE;
    c->origin = IZ_ORIGIN_NONE;
    c->iys_state = IZ_IYS_NONE;
    c->recipient[0] = c->iys_txid[0] = c->iys_error[0] = c->warning[0] = c->evidence[0] = '\0';
    c->retail.code = c->retail.n = 0;
}

/* The brand's retailers as izin knows them, read once a call when a
 * change names any. */
typedef struct known {
    bool read;
    int rc;
    int64_t *codes;
    size_t n;
    int64_t synced_ms; /* 0: izin does not know every retailer of the brand */
} known_t;

/* Whether the retailers a valid change names are the brand's: 0, or
 * IZ_EINVAL with H180 in r->errs when izin knows the brand's whole list
 * and a code is not on it (İYS would refuse it; without a whole list İYS
 * judges), or the store's failure. */
static int retail_known(iz_domain_t *d, int64_t brand_id, const iz_consent_t *cv, known_t *k,
                        iz_record_t *r)
{
    if (!iz_retail_any(&cv->retail)) return 0;
    if (!k->read) {
        k->read = true;
        k->rc = iz_store_retailer_codes(d->st, brand_id, &k->codes, &k->n, &k->synced_ms);
    }
    if (k->rc != 0) return k->rc;
    bool at_code = false;
    if (k->synced_ms == 0 || iz_retail_all_known(&cv->retail, k->codes, k->n, &at_code)) return 0;
    r->errs.n = 1;
    r->errs.e[0] =
        (iz_verr_t){.code = "H180", .field = at_code ? "retailerCode" : "retailerAccess"};
    return IZ_EINVAL;
}

/* A bulk load's job and the records' lines, or none. */
typedef struct load {
    const char *job_id;
    const int64_t *lines;
} load_t;

static int record(iz_domain_t *d, const iz_brand_t *brand, int64_t now, iz_record_t *recs,
                  size_t n, const load_t *load, iz_store_then_fn then, void *ctx)
{
    if (!d || !brand || (!recs && n) || (n == 0 && !then) ||
        n > (load ? IZ_DOMAIN_LOAD_MAX : IZ_DOMAIN_BATCH_MAX))
        return IZ_EINVAL;
    acct_cache_t acct;
    int rc = account_of(d, brand->account_id, &acct);
    if (rc != 0) {
        for (size_t i = 0; i < n; i++)
            recs[i].rc = rc;
        return rc;
    }
    iz_rules_ctx_t rules = {.now = now, .activation = acct.activation, .holidays = d->holidays};
    bool iys = acct.iys;

    /* A record that comes validated (a file's row) is read where it is:
     * a bulk batch has tens of thousands, and a copy of each costs more
     * than all the rest of this loop. The others are validated into cs,
     * made when the first of them comes. */
    iz_consent_t *cs = NULL;
    rule_ctx_t *ctxs = iz_xcalloc(n ? n : 1, sizeof *ctxs);
    iz_store_apply_t *items = iz_xcalloc(n ? n : 1, sizeof *items);
    size_t k = 0;
    iz_validate_opts_t vo = {.now = now, .allow_iys_sources = false};
    known_t known = {0};
    for (size_t i = 0; i < n; i++) {
        iz_record_t *r = &recs[i];
        r->rc = 0;
        r->hcode = NULL;
        r->errs.n = 0;
        change_clear(&r->chg);
        if (r->origin == IZ_ORIGIN_NONE || r->origin == IZ_ORIGIN_IYS ||
            r->origin >= IZ_ORIGIN_COUNT_) {
            r->rc = IZ_EINVAL; /* İYS's own changes come through apply_remote */
            continue;
        }
        const iz_consent_t *cv = r->valid;
        if (!cv) {
            if (!cs) cs = iz_xcalloc(n, sizeof *cs);
            if (iz_consent_validate(&r->raw, &vo, &cs[i], &r->errs) != 0) {
                r->rc = IZ_EINVAL;
                continue;
            }
            cv = &cs[i];
        }
        if (load && r->origin != IZ_ORIGIN_BULK) {
            r->rc = IZ_EINVAL;
            continue;
        }
        if ((r->rc = retail_known(d, brand->id, cv, &known, r)) != 0) continue;
        if (r->evidence && iz_strlcpy(r->chg.evidence, r->evidence, sizeof r->chg.evidence) != 0) {
            /* Evidence is proof: cut, it would prove something else. */
            r->chg.evidence[0] = '\0';
            r->rc = IZ_ETOOBIG;
            continue;
        }
        iz_change_t *c = &r->chg;
        c->brand_id = brand->id;
        size_t rlen = strnlen(cv->recipient, sizeof c->recipient - 1);
        memcpy(c->recipient, cv->recipient, rlen);
        c->recipient[rlen] = '\0';
        c->rtype = cv->rtype;
        c->type = cv->type;
        c->status = cv->status;
        c->source = cv->source;
        c->consent_date = cv->consent_date;
        iz_retail_copy(&c->retail, &cv->retail);
        c->origin = r->origin;
        /* A RET must reach İYS within 3 business days of its date. */
        if (c->status == IZ_RET)
            c->ret_deadline =
                iz_bizday_deadline(d->holidays, c->consent_date ? c->consent_date : now);
        ctxs[i] = (rule_ctx_t){.rec = r, .c = cv, .rules = &rules, .iys_configured = iys};
        items[k++] =
            (iz_store_apply_t){.chg = c, .rule = rule, .ctx = &ctxs[i], .quota = acct.quota};
    }
    int64_t *lines = NULL;
    if (load) {
        /* The lines of the records that reach the store. */
        lines = iz_xcalloc(k ? k : 1, sizeof *lines);
        for (size_t i = 0, j = 0; i < n; i++)
            if (recs[i].rc == 0) lines[j++] = load->lines[i];
    }
    if (load) {
        then_ctx_t tc = {.items = items, .n = k, .then = then, .ctx = ctx};
        rc = iz_store_consent_load_then(d->st, load->job_id, lines, items, k,
                                        then ? then_outcomes : NULL, then ? &tc : NULL);
    } else if (then) {
        then_ctx_t tc = {.items = items, .n = k, .then = then, .ctx = ctx};
        rc = iz_store_consent_apply_batch_then(d->st, items, k, then_outcomes, &tc);
    } else {
        rc = k ? iz_store_consent_apply_batch(d->st, items, k) : 0;
    }
    outcomes(items, k, rc);
    free(lines);
    free(items);
    free(ctxs);
    free(cs);
    free(known.codes);
    return rc;
}

int iz_domain_record_then(iz_domain_t *d, const iz_brand_t *brand, int64_t now, iz_record_t *recs,
                          size_t n, iz_store_then_fn then, void *ctx)
{
    return record(d, brand, now, recs, n, NULL, then, ctx);
}

int iz_domain_load_then(iz_domain_t *d, const iz_brand_t *brand, int64_t now, iz_record_t *recs,
                        size_t n, const char *job_id, const int64_t *lines, iz_store_then_fn then,
                        void *ctx)
{
    if (!job_id || (n && !lines)) return IZ_EINVAL;
    load_t load = {.job_id = job_id, .lines = lines};
    return record(d, brand, now, recs, n, &load, then, ctx);
}
