/*
 * sync.c - the sync engine (see sync.h for what it promises).
 *
 * One dispatcher thread owns the plan: for each account a short list of
 * jobs (single adds, bulk sends, polls, pulls) made from the store, sorted
 * by priority. When a budget has a free slot and a sender is idle, it takes
 * the slot, picks the best job of the accounts on that budget and hands it
 * to a sender. Senders make the request (iz_iys_prepaid: the slot is
 * already taken) and record the answer in the store; then the dispatcher
 * plans again. The dispatcher also runs the RET deadline watch.
 *
 * What may be planned: PENDING outbox rows that are due and the oldest of
 * their key (iz_store_outbox_due) and not in a single add in flight; a bulk
 * job's rows are marked SENDING before it is handed out, so they are not
 * planned again; a SENT request is polled by one job at a time.
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
#include "iys/budget.h"
#include "iys/client.h"
#include "iys/recon.h"
#include "net/client.h"
#include "sys/log.h"

#define SENDERS 8
#define ROUND_MS 250
#define REPLAN_MS 100         /* an account's plan is made again at most this often */
#define POLLS_EVERY_MS 250    /* the SENT requests are looked at this often */
#define BRANDS_EVERY_MS 5000  /* new accounts and brands are looked for this often */
#define PROBE_FAST_MS 250     /* probes of a URL down for less than PROBE_SLOW_AFTER_MS */
#define PROBE_SLOW_MS 1000    /* then one a second */
#define PROBE_SLOW_AFTER_MS 30000
#define BULK_MAX 1000
#define PLAN_FETCH 1000       /* due rows read for an account's plan */
#define BACKOFF_BASE_MS 500
#define PULL_LIMIT 1000
#define PULL_PAGES 50
#define RET_EVERY_MS 5000
#define LOST_AFTER_MS (3600 * 1000) /* an unknown bulk request this old is sent again */
#define WARNED_MAX 4096
#define LAT_RING 4096
#define RATE_SECONDS 10
#define RECON_EVERY_MS 60000   /* how often the daily reconciliation is looked at */
#define RECON_RETRY_MS 3600000 /* a FAILED one is tried again after an hour */
#define CATCH_UP_EVERY_MS 1000 /* how often other processes' commits are looked for */
#define RECON_BRANDS_MAX 4096  /* brands whose reconciliation state is kept */

enum { P_RET, P_SINGLE, P_BULK, P_POLL, P_PULL, P_RECON };

typedef struct ubudget {
    char url[IZ_URL_MAX];
    iz_iys_budget_t *b;
    int64_t next_probe_ms;
    int64_t down_since_ms; /* when the dispatcher first saw it down; 0: up */
} ubudget_t;

typedef struct acct acct_t;

typedef struct job {
    iz_req_kind_t kind;
    int prio;
    int64_t deadline; /* RETs: the earliest deadline; else 0 */
    acct_t *ac;
    iz_outbox_item_t *items; /* SINGLE: 1, BULK: n (owned) */
    size_t n;
    iz_outbox_req_t req; /* POLL */
    iz_brand_t brand;    /* PULL, RECON */
    char date[11];       /* RECON: the report date */
    int source;          /* PULL: 0 IYS, 1 HS */
    int64_t brand_code;  /* PROBE */
    struct job *next;
} job_t;

struct acct {
    int64_t account_id;
    iz_iys_t *cli; /* NULL: no İYS configured */
    ubudget_t *ub;
    int64_t pause_ms; /* account failures (token, 401): no sending before this */
    int streak;
    uint64_t last_served; /* the dispatcher's sequence number when it last got a slot */
    job_t *plan;          /* sorted by (prio, deadline); planned, not yet handed out */
    int64_t planned_ms;
    bool dirty;           /* the outbox may have changed since the plan */
    int64_t any_brand;    /* a brand code for probes */
};

/* A counter's per-second rate over the last RATE_SECONDS. */
typedef struct rate {
    uint64_t at[RATE_SECONDS + 1];
    int64_t sec;
} rate_t;

static const char *const kind_names[IZ_REQ_KINDS] = {"single", "bulk",  "poll",
                                                     "pull",   "probe", "recon"};

/* A brand's daily reconciliation: the last date done (or found done in the
 * store) and when a failed one may be tried again. */
typedef struct recon_state {
    int64_t brand_id;
    char done[11];
    int64_t next_ms;
    bool busy; /* planned or running */
} recon_state_t;

const char *iz_req_kind_name(iz_req_kind_t k)
{
    return k < IZ_REQ_KINDS ? kind_names[k] : "?";
}

struct iz_sync {
    iz_domain_t *dom;
    iz_store_t *st;
    iz_sync_conf_t conf;
    char default_url[IZ_URL_MAX];
    pthread_t th, senders[SENDERS];
    int nsenders;
    pthread_mutex_t mu;     /* everything below that is not atomic or under wake_mu */
    pthread_cond_t jobs_cv; /* the senders wait here */
    bool stop, started;
    /* The dispatcher sleeps on cv with wake_mu, a leaf lock: the store's
     * commit subscriber takes it inside a commit, so it must never be held
     * while anything else is taken. It guards woken and the notes of
     * brands with new PENDING changes. */
    pthread_mutex_t wake_mu;
    pthread_cond_t cv;
    bool woken, all_dirty;
    int64_t dirty_brands[64];
    size_t ndirty;
    acct_t **accts;
    size_t naccts;
    ubudget_t **ubs;
    size_t nubs;
    job_t *queue, *queue_tail; /* handed out, not yet taken by a sender */
    int idle;                  /* senders waiting for a job */
    job_t *running[SENDERS];   /* jobs senders are running */
    uint64_t seq;
    int64_t next_pull_ms, next_ret_ms, next_polls_ms, next_brands_ms, next_recon_ms,
        next_catch_up_ms;
    recon_state_t *recon;
    size_t nrecon;
    _Atomic uint64_t recon_results[4];
    bool pulls_planned;
    iz_brand_t *brands;
    size_t nbrands;
    int64_t ret_pending, ret_at_risk, ret_missed;
    int64_t warned[WARNED_MAX];
    size_t nwarned;
    int64_t lat[LAT_RING];
    size_t nlat;
    rate_t req_rate[IZ_REQ_KINDS], sent_rate;
    _Atomic uint64_t pulled, accepted, rejected, quarantined, consents_sent;
    _Atomic uint64_t requests[IZ_REQ_KINDS];
    unsigned rnd;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_store_error(const char *what, int rc)
{
    iz_logf(IZ_LOG_ERROR, "sync", "store failure", "op=%s error=%s", what, iz_strerror(rc));
}

/* ---- accounts and budgets (dispatcher thread, mu held) --------------------- */

static ubudget_t *budget_for(iz_sync_t *s, const char *url)
{
    char u[IZ_URL_MAX];
    iz_strlcpy(u, url, sizeof u);
    size_t l = strlen(u);
    while (l > 0 && u[l - 1] == '/')
        u[--l] = '\0';
    for (size_t i = 0; i < s->nubs; i++)
        if (strcmp(s->ubs[i]->url, u) == 0) return s->ubs[i];
    ubudget_t *ub = iz_xcalloc(1, sizeof *ub);
    iz_strlcpy(ub->url, u, sizeof ub->url);
    ub->b = iz_iys_budget_new(s->conf.rate);
    s->ubs = iz_xrealloc(s->ubs, (s->nubs + 1) * sizeof *s->ubs);
    s->ubs[s->nubs++] = ub;
    return ub;
}

/* The account, with its İYS client made on first use (cli NULL when the
 * account has no İYS or cannot be read). */
static acct_t *account(iz_sync_t *s, int64_t account_id)
{
    for (size_t i = 0; i < s->naccts; i++)
        if (s->accts[i]->account_id == account_id) return s->accts[i];
    acct_t *ac = iz_xcalloc(1, sizeof *ac);
    ac->account_id = account_id;
    ac->dirty = true;
    iz_account_t a;
    if (iz_store_account_get(s->st, account_id, &a) == 0) {
        const char *url = a.iys_url[0] ? a.iys_url : s->default_url;
        if (url[0]) {
            ac->ub = budget_for(s, url);
            if (iz_iys_for_account(&a, url, s->st, ac->ub->b, s->conf.timeout_ms, s->conf.rate,
                                   &ac->cli) != 0)
                ac->cli = NULL;
        }
        iz_wipe(a.iys_password, sizeof a.iys_password);
    }
    s->accts = iz_xrealloc(s->accts, (s->naccts + 1) * sizeof *s->accts);
    s->accts[s->naccts++] = ac;
    return ac;
}

/* Look for new accounts and brands now and then. */
static void refresh_brands(iz_sync_t *s, int64_t now)
{
    if (now < s->next_brands_ms) return;
    s->next_brands_ms = now + BRANDS_EVERY_MS;
    iz_brand_t *b = NULL;
    size_t n = 0;
    if (iz_store_brands_all(s->st, &b, &n) != 0) return;
    free(s->brands);
    s->brands = b;
    s->nbrands = n;
    for (size_t i = 0; i < n; i++) {
        acct_t *ac = account(s, b[i].account_id);
        if (!ac->any_brand) ac->any_brand = b[i].code;
    }
}

/* Pause an account after one of its own failures (token, 401): the shared
 * backoff, exponential with jitter, İYS's Retry-After honoured up to the
 * configured longest pause. Called with mu held. */
static int64_t pause_account(iz_sync_t *s, acct_t *ac, const iz_iys_res_t *res)
{
    if (ac->streak < 20) ac->streak++;
    int64_t d = iz_backoff_ms(ac->streak < 8 ? ac->streak : 8, BACKOFF_BASE_MS,
                              (int64_t)s->conf.retry_max * 1000, res->retry_after_s,
                              (uint64_t)rand_r(&s->rnd));
    ac->pause_ms = now_ms() + d;
    return ac->pause_ms;
}

/* ---- plans (dispatcher thread, mu held) --------------------------------------- */

static void job_free(job_t *j)
{
    if (!j) return;
    free(j->items);
    free(j);
}

static bool job_before(const job_t *a, const job_t *b)
{
    if (a->prio != b->prio) return a->prio < b->prio;
    return a->deadline < b->deadline;
}

static void plan_add(acct_t *ac, job_t *j)
{
    j->ac = ac;
    job_t **p = &ac->plan;
    while (*p && !job_before(j, *p))
        p = &(*p)->next;
    j->next = *p;
    *p = j;
}

/* Drop the planned jobs of some kinds. */
static void plan_drop(acct_t *ac, bool (*which)(const job_t *))
{
    job_t **p = &ac->plan;
    while (*p) {
        if (which(*p)) {
            job_t *j = *p;
            *p = j->next;
            job_free(j);
        } else {
            p = &(*p)->next;
        }
    }
}

static bool is_send(const job_t *j)
{
    return j->kind == IZ_REQ_SINGLE || j->kind == IZ_REQ_BULK;
}

static bool is_poll(const job_t *j)
{
    return j->kind == IZ_REQ_POLL;
}

/* Whether a row is in a single add that a sender has or will have. */
static bool row_in_flight(iz_sync_t *s, int64_t log_id)
{
    for (job_t *j = s->queue; j; j = j->next)
        if (j->kind == IZ_REQ_SINGLE && j->items[0].chg.id == log_id) return true;
    for (int i = 0; i < SENDERS; i++)
        if (s->running[i] && s->running[i]->kind == IZ_REQ_SINGLE &&
            s->running[i]->items[0].chg.id == log_id)
            return true;
    return false;
}

static bool request_in_flight(iz_sync_t *s, const char *rid)
{
    for (job_t *j = s->queue; j; j = j->next)
        if (j->kind == IZ_REQ_POLL && strcmp(j->req.request_id, rid) == 0) return true;
    for (int i = 0; i < SENDERS; i++)
        if (s->running[i] && s->running[i]->kind == IZ_REQ_POLL &&
            strcmp(s->running[i]->req.request_id, rid) == 0)
            return true;
    return false;
}

static job_t *new_job(iz_req_kind_t kind, int prio)
{
    job_t *j = iz_xcalloc(1, sizeof *j);
    j->kind = kind;
    j->prio = prio;
    return j;
}

/* A bulk job of the collected rows of one brand. */
static void flush_batch(acct_t *ac, iz_outbox_item_t *rows, size_t n)
{
    if (n == 0) return;
    job_t *j = new_job(IZ_REQ_BULK, P_BULK);
    j->items = iz_xmalloc(n * sizeof *j->items);
    memcpy(j->items, rows, n * sizeof *rows);
    j->n = n;
    for (size_t i = 0; i < n; i++)
        if (rows[i].chg.ret_deadline > 0 &&
            (j->prio != P_RET || rows[i].chg.ret_deadline < j->deadline)) {
            j->prio = P_RET;
            j->deadline = rows[i].chg.ret_deadline;
        }
    plan_add(ac, j);
}

/* Make an account's single and bulk jobs again from the store: its RETs
 * first, then its other due rows; alone as v2 single adds while the queue
 * is short, else in bulk requests per brand. */
static void plan_sends(iz_sync_t *s, acct_t *ac, int64_t now)
{
    plan_drop(ac, is_send);
    ac->planned_ms = now;
    ac->dirty = false;
    iz_outbox_item_t *rets = NULL, *rows = NULL;
    size_t nr = 0, nn = 0;
    int rc = iz_store_outbox_due(s->st, now, ac->account_id, true, PLAN_FETCH, &rets, &nr);
    if (rc == 0) rc = iz_store_outbox_due(s->st, now, ac->account_id, false, PLAN_FETCH, &rows, &nn);
    if (rc != 0) {
        log_store_error("outbox", rc);
        free(rets);
        free(rows);
        return;
    }
    /* One list: the RETs by deadline, then the rest oldest first. */
    iz_outbox_item_t *all = iz_xmalloc((nr + nn + 1) * sizeof *all);
    size_t n = 0;
    for (size_t i = 0; i < nr; i++)
        if (!row_in_flight(s, rets[i].chg.id)) all[n++] = rets[i];
    for (size_t i = 0; i < nn; i++) {
        if (rows[i].chg.ret_deadline > 0 || row_in_flight(s, rows[i].chg.id)) continue;
        all[n++] = rows[i];
    }
    free(rets);
    free(rows);
    /* More due than a few seconds' worth of single adds: bulk. The plan
     * reads at most PLAN_FETCH rows; past that the store counts them. */
    bool bulk_mode = n > (size_t)s->conf.bulk_after;
    if (!bulk_mode && nn == PLAN_FETCH) {
        int64_t due = 0;
        if (iz_store_outbox_count_due(s->st, now, ac->account_id, &due) == 0)
            bulk_mode = due > s->conf.bulk_after;
    }
    /* Batches per brand, filled greedily in the list's order. */
    iz_outbox_item_t *batch = iz_xmalloc(BULK_MAX * sizeof *batch);
    bool *used = iz_xcalloc(n + 1, sizeof *used);
    for (size_t i = 0; i < n; i++) {
        if (used[i]) continue;
        if (!bulk_mode && !all[i].bulk) {
            job_t *j = new_job(IZ_REQ_SINGLE, all[i].chg.ret_deadline > 0 ? P_RET : P_SINGLE);
            j->deadline = all[i].chg.ret_deadline;
            j->items = iz_xmalloc(sizeof *j->items);
            j->items[0] = all[i];
            j->n = 1;
            used[i] = true;
            plan_add(ac, j);
            continue;
        }
        size_t nb = 0;
        for (size_t k = i; k < n && nb < BULK_MAX; k++) {
            if (used[k] || all[k].brand_code != all[i].brand_code) continue;
            if (!bulk_mode && !all[k].bulk) continue;
            used[k] = true;
            batch[nb++] = all[k];
        }
        flush_batch(ac, batch, nb);
    }
    free(used);
    free(batch);
    free(all);
}

/* Poll jobs for the SENT requests whose time has come. */
static void plan_polls(iz_sync_t *s, int64_t now)
{
    if (now < s->next_polls_ms) return;
    s->next_polls_ms = now + POLLS_EVERY_MS;
    iz_outbox_req_t *reqs = NULL;
    size_t n = 0;
    if (iz_store_outbox_requests(s->st, &reqs, &n) != 0) return;
    for (size_t i = 0; i < s->naccts; i++)
        plan_drop(s->accts[i], is_poll);
    /* The first poll when İYS allows it; after an "enqueue" answer, again
     * after a quarter of that (at least half a second). */
    int64_t delay = (int64_t)s->conf.bulk_poll_delay * 1000;
    int64_t again = delay / 4 > 500 ? delay / 4 : 500;
    for (size_t i = 0; i < n; i++) {
        int64_t due = reqs[i].sent_ms + (reqs[i].sent_ms > reqs[i].posted_ms ? again : delay);
        if (due > now || request_in_flight(s, reqs[i].request_id)) continue;
        acct_t *ac = account(s, reqs[i].account_id);
        if (!ac->cli) continue;
        job_t *j = new_job(IZ_REQ_POLL, P_POLL);
        j->req = reqs[i];
        j->deadline = reqs[i].sent_ms;
        plan_add(ac, j);
    }
    free(reqs);
}

/* Pull jobs for every brand and both sources, every pull_interval, once the
 * previous round is done. */
static void plan_pulls(iz_sync_t *s, int64_t now)
{
    if (now < s->next_pull_ms) return;
    bool busy = false;
    for (size_t i = 0; i < s->naccts && !busy; i++)
        for (job_t *j = s->accts[i]->plan; j; j = j->next)
            if (j->kind == IZ_REQ_PULL) busy = true;
    for (int i = 0; i < SENDERS; i++)
        if (s->running[i] && s->running[i]->kind == IZ_REQ_PULL) busy = true;
    if (busy) return;
    s->next_pull_ms = now + (int64_t)s->conf.pull_interval * 1000;
    for (size_t b = 0; b < s->nbrands; b++) {
        acct_t *ac = account(s, s->brands[b].account_id);
        if (!ac->cli) continue;
        for (int src = 0; src < 2; src++) {
            job_t *j = new_job(IZ_REQ_PULL, P_PULL);
            j->brand = s->brands[b];
            j->source = src;
            plan_add(ac, j);
        }
    }
}

/* The reconciliation state of a brand (NULL when the table is full). */
static recon_state_t *recon_of(iz_sync_t *s, int64_t brand_id)
{
    for (size_t i = 0; i < s->nrecon; i++)
        if (s->recon[i].brand_id == brand_id) return &s->recon[i];
    if (s->nrecon >= RECON_BRANDS_MAX) return NULL;
    s->recon = iz_xrealloc(s->recon, (s->nrecon + 1) * sizeof *s->recon);
    s->recon[s->nrecon] = (recon_state_t){.brand_id = brand_id};
    return &s->recon[s->nrecon++];
}

/* Once Turkey time is past recon_hour, a reconciliation job for yesterday
 * for every brand with İYS that has none kept yet (a FAILED one again
 * after RECON_RETRY_MS). */
static void plan_recon(iz_sync_t *s, int64_t now)
{
    if (s->conf.recon_hour < 0 || now < s->next_recon_ms) return;
    s->next_recon_ms = now + RECON_EVERY_MS;
    int64_t t = now / 1000;
    if ((t + IZ_TR_OFFSET) % 86400 < (int64_t)s->conf.recon_hour * 3600) return;
    char date[11];
    iz_recon_yesterday(t, date);
    for (size_t b = 0; b < s->nbrands; b++) {
        acct_t *ac = account(s, s->brands[b].account_id);
        recon_state_t *rs = recon_of(s, s->brands[b].id);
        if (!ac->cli || !rs || rs->busy || strcmp(rs->done, date) == 0 || rs->next_ms > now)
            continue;
        /* Done already (by an earlier run of this process, another
         * process or `izin iys reconcile`)? */
        iz_recon_t *kept = NULL;
        size_t n = 0;
        if (iz_store_recon_list(s->st, s->brands[b].id, date, 1, &kept, &n) == 0 && n &&
            strcmp(kept[0].status, "FAILED") != 0) {
            iz_strlcpy(rs->done, date, sizeof rs->done);
            iz_store_recon_free(kept, n);
            continue;
        }
        iz_store_recon_free(kept, n);
        job_t *j = new_job(IZ_REQ_RECON, P_RECON);
        j->brand = s->brands[b];
        iz_strlcpy(j->date, date, sizeof j->date);
        rs->busy = true;
        plan_add(ac, j);
    }
}

/* Rows of accounts with no İYS stay queued; looked at again in a minute. */
static void park_no_iys(iz_sync_t *s, acct_t *ac, int64_t now)
{
    if (!ac->dirty || now - ac->planned_ms < 60000) return;
    ac->planned_ms = now;
    ac->dirty = false;
    iz_outbox_item_t *rows = NULL;
    size_t n = 0;
    if (iz_store_outbox_due(s->st, now, ac->account_id, false, PLAN_FETCH, &rows, &n) == 0 && n) {
        int64_t *ids = iz_xmalloc(n * sizeof *ids);
        for (size_t i = 0; i < n; i++)
            ids[i] = rows[i].chg.id;
        iz_store_outbox_retry_many(s->st, ids, n, now + 60000, "no İYS configured");
        free(ids);
    }
    free(rows);
}

/* ---- handing out (dispatcher thread, mu held) -------------------------------- */

/* The best planned job of the accounts on a budget: the lowest priority
 * class and deadline, then the account served least recently. */
static job_t *best_job(iz_sync_t *s, ubudget_t *ub, int64_t now, bool pop)
{
    acct_t *best = NULL;
    for (size_t i = 0; i < s->naccts; i++) {
        acct_t *ac = s->accts[i];
        if (ac->ub != ub || !ac->cli || !ac->plan || ac->pause_ms > now) continue;
        if (!best || job_before(ac->plan, best->plan) ||
            (!job_before(best->plan, ac->plan) && ac->last_served < best->last_served))
            best = ac;
    }
    if (!best) return NULL;
    job_t *j = best->plan;
    if (pop) {
        best->plan = j->next;
        j->next = NULL;
        best->last_served = ++s->seq;
    }
    return j;
}

static void hand_out(iz_sync_t *s, job_t *j)
{
    j->next = NULL;
    if (s->queue_tail)
        s->queue_tail->next = j;
    else
        s->queue = j;
    s->queue_tail = j;
    s->idle--;
    pthread_cond_signal(&s->jobs_cv);
}

/* Mark a bulk job's rows SENDING before it goes (they leave the plannable
 * rows); false when the store refuses. */
static bool mark_sending(iz_sync_t *s, job_t *j)
{
    int64_t *ids = iz_xmalloc(j->n * sizeof *ids);
    for (size_t i = 0; i < j->n; i++)
        ids[i] = j->items[i].chg.id;
    int rc = iz_store_outbox_mark(s->st, ids, j->n, "SENDING", NULL, now_ms());
    free(ids);
    if (rc != 0) log_store_error("mark sending", rc);
    return rc == 0;
}

/* Hand out what the budgets allow; returns the ms until a budget that has
 * work frees a slot (or ROUND_MS). */
static int64_t dispatch(iz_sync_t *s, int64_t now)
{
    int64_t wait = ROUND_MS;
    for (size_t u = 0; u < s->nubs; u++) {
        ubudget_t *ub = s->ubs[u];
        while (s->idle > 0 && !s->stop) {
            job_t *top = best_job(s, ub, now, false);
            if (!top) break;
            int64_t w = iz_iys_budget_wait_ms(ub->b);
            bool down = iz_iys_budget_down(ub->b);
            if (!down) ub->down_since_ms = 0;
            if (down) {
                if (!ub->down_since_ms) ub->down_since_ms = now;
                /* İYS does not answer: a cheap probe a second, nothing
                 * else, until it does. */
                int64_t until = ub->next_probe_ms - now;
                if (until > 0 || w > 0) {
                    int64_t d = until > w ? until : w;
                    if (d < wait) wait = d;
                    break;
                }
                if (!iz_iys_budget_try(ub->b)) break;
                /* A short outage is probed four times a second, a long one
                 * once a second. */
                ub->next_probe_ms = now + (now - ub->down_since_ms < PROBE_SLOW_AFTER_MS
                                               ? PROBE_FAST_MS
                                               : PROBE_SLOW_MS);
                job_t *p = new_job(IZ_REQ_PROBE, P_RET);
                p->ac = top->ac;
                p->brand_code = top->kind == IZ_REQ_PULL || top->kind == IZ_REQ_RECON
                                    ? top->brand.code
                                : top->kind == IZ_REQ_POLL ? top->req.brand_code
                                                           : top->items[0].brand_code;
                hand_out(s, p);
                break;
            }
            if (w > 0) {
                if (w < wait) wait = w;
                break;
            }
            if (!iz_iys_budget_try(ub->b)) break;
            job_t *j = best_job(s, ub, now, true);
            /* There may be more rows than were planned. */
            if (is_send(j)) j->ac->dirty = true;
            if (j->kind == IZ_REQ_BULK && !mark_sending(s, j)) {
                job_free(j);
                continue;
            }
            hand_out(s, j);
        }
    }
    return wait;
}

/* ---- waking the dispatcher ---------------------------------------------------- */

/* Wake the dispatcher (wake_mu only: see there). */
static void wake(iz_sync_t *s)
{
    pthread_mutex_lock(&s->wake_mu);
    s->woken = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->wake_mu);
}

/* A commit subscriber: a change waiting for İYS makes its brand's account
 * plan again, and wakes the dispatcher. Runs inside the commit. */
static void on_commit(void *ctx, const iz_change_t *chg)
{
    iz_sync_t *s = ctx;
    if (chg->iys_state != IZ_IYS_PENDING) return;
    pthread_mutex_lock(&s->wake_mu);
    bool known = false;
    for (size_t i = 0; i < s->ndirty && !known; i++)
        known = s->dirty_brands[i] == chg->brand_id;
    if (!known) {
        if (s->ndirty < IZ_ARRAY_LEN(s->dirty_brands))
            s->dirty_brands[s->ndirty++] = chg->brand_id;
        else
            s->all_dirty = true;
    }
    s->woken = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->wake_mu);
}

/* Take the commit subscriber's notes: the accounts of the noted brands
 * plan again. Called with mu held. */
static void take_notes(iz_sync_t *s)
{
    int64_t brands[64];
    size_t n;
    bool all;
    pthread_mutex_lock(&s->wake_mu);
    n = s->ndirty;
    memcpy(brands, s->dirty_brands, n * sizeof *brands);
    all = s->all_dirty;
    s->ndirty = 0;
    s->all_dirty = false;
    pthread_mutex_unlock(&s->wake_mu);
    for (size_t i = 0; i < n && !all; i++) {
        bool found = false;
        for (size_t b = 0; b < s->nbrands && !found; b++) {
            if (s->brands[b].id != brands[i]) continue;
            found = true;
            account(s, s->brands[b].account_id)->dirty = true;
        }
        if (!found) all = true; /* a brand not seen yet */
    }
    if (all) {
        s->next_brands_ms = 0;
        for (size_t k = 0; k < s->naccts; k++)
            s->accts[k]->dirty = true;
    }
}

/* ---- the RET watch ------------------------------------------------------------ */

static bool warned(iz_sync_t *s, int64_t id)
{
    for (size_t i = 0; i < s->nwarned; i++)
        if (s->warned[i] == id) return true;
    if (s->nwarned < WARNED_MAX) s->warned[s->nwarned++] = id;
    return false;
}

/* Pending, at risk (the deadline is in the current business day: less than
 * one business day left) and missed RETs. */
static void do_ret(iz_sync_t *s, int64_t now_msec)
{
    if (now_msec < s->next_ret_ms) return;
    s->next_ret_ms = now_msec + RET_EVERY_MS;
    iz_ret_open_t *list = NULL;
    size_t n = 0;
    int64_t late = 0;
    if (iz_store_ret_open(s->st, &list, &n) != 0 || iz_store_ret_late(s->st, &late) != 0) {
        free(list);
        return;
    }
    int64_t now = now_msec / 1000, pending = 0, risk = 0, missed = late;
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
    s->ret_pending = pending;
    s->ret_at_risk = risk;
    s->ret_missed = missed;
}

static void rate_tick(rate_t *r, uint64_t value, int64_t now)
{
    int64_t sec = now / 1000;
    if (sec == r->sec) return;
    int64_t steps = r->sec ? sec - r->sec : RATE_SECONDS + 1;
    for (int64_t k = 0; k < steps && k <= RATE_SECONDS; k++) {
        memmove(&r->at[1], &r->at[0], RATE_SECONDS * sizeof r->at[0]);
        r->at[0] = value;
    }
    r->sec = sec;
}

static double rate_get(const rate_t *r)
{
    return (double)(r->at[0] - r->at[RATE_SECONDS]) / RATE_SECONDS;
}

static void *dispatcher(void *arg)
{
    iz_sync_t *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        int64_t now = now_ms();
        take_notes(s);
        refresh_brands(s, now);
        do_ret(s, now);
        plan_pulls(s, now);
        plan_polls(s, now);
        plan_recon(s, now);
        if (now >= s->next_catch_up_ms) {
            /* Changes another process committed (izin iys reconcile beside
             * the server, say) reach the send filter within a second. */
            s->next_catch_up_ms = now + CATCH_UP_EVERY_MS;
            pthread_mutex_unlock(&s->mu);
            int crc = iz_domain_catch_up(s->dom, NULL);
            if (crc != 0) log_store_error("catch up with other processes", crc);
            pthread_mutex_lock(&s->mu);
        }
        int64_t replan_wait = ROUND_MS;
        for (size_t i = 0; i < s->naccts; i++) {
            acct_t *ac = s->accts[i];
            if (!ac->cli) {
                park_no_iys(s, ac, now);
                continue;
            }
            /* Again when the outbox changed (at most every REPLAN_MS), and
             * every second for rows whose retry time has come. */
            int64_t age = now - ac->planned_ms;
            if ((ac->dirty && age >= REPLAN_MS) || age >= 1000)
                plan_sends(s, ac, now);
            else if (ac->dirty && REPLAN_MS - age < replan_wait)
                replan_wait = REPLAN_MS - age;
        }
        int64_t wait = dispatch(s, now);
        if (replan_wait < wait) wait = replan_wait;
        for (int k = 0; k < IZ_REQ_KINDS; k++)
            rate_tick(&s->req_rate[k], atomic_load(&s->requests[k]), now);
        rate_tick(&s->sent_rate, atomic_load(&s->consents_sent), now);
        pthread_mutex_unlock(&s->mu);
        pthread_mutex_lock(&s->wake_mu);
        if (!s->woken && wait > 0) {
            if (wait < 5) wait = 5;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (wait % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->cv, &s->wake_mu, &ts);
        }
        s->woken = false;
        pthread_mutex_unlock(&s->wake_mu);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the senders: one request and its answer ---------------------------------- */

static void count_request(iz_sync_t *s, iz_req_kind_t k)
{
    atomic_fetch_add(&s->requests[k], 1);
}

/* Keep the times from creation to İYS's final answer of n changes. */
static void note_latency(iz_sync_t *s, const int64_t *creation_ms, size_t n, int64_t now)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < n; i++)
        s->lat[s->nlat++ % LAT_RING] = now - creation_ms[i];
    pthread_mutex_unlock(&s->mu);
}

/* İYS's codes are short ("H174"); anything longer than the record keeps
 * is logged whole and recorded as what it is: not an İYS code. */
static const char *code_or_unknown(int64_t log_id, const char *code)
{
    if (code && strlen(code) > 15) {
        iz_logf(IZ_LOG_WARN, "sync", "İYS answered an error code izin does not know",
                "id=%lld code=%s", (long long)log_id, code);
        return "UNKNOWN";
    }
    return code;
}

/* Record final answers in one transaction. */
static void finish_many(iz_sync_t *s, iz_outbox_done_t *d, const int64_t *created, size_t n)
{
    if (n == 0) return;
    int64_t now = now_ms();
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        d[i].error = code_or_unknown(d[i].log_id, d[i].error);
        if (d[i].state == IZ_IYS_ACCEPTED) ok++;
    }
    int rc = iz_store_outbox_finish_many(s->st, d, n, now);
    if (rc != 0) {
        log_store_error("record İYS answers", rc);
        return;
    }
    atomic_fetch_add(&s->accepted, ok);
    atomic_fetch_add(&s->rejected, n - ok);
    note_latency(s, created, n, now);
}

/* After a failure that is not the change's: the account's own (token,
 * 401) pauses the account; İYS's (no answer, 5xx, 429) is the budget's
 * business. Returns when the rows may go again. */
static int64_t after_failure(iz_sync_t *s, acct_t *ac, const iz_iys_res_t *res, int attempts)
{
    pthread_mutex_lock(&s->mu);
    int64_t next;
    if (res->token_failed || res->http == 401) {
        next = pause_account(s, ac, res);
    } else {
        /* Spread repeated failures of the same rows out (a change İYS
         * cannot take without a 5xx must not hold the budget). */
        next = now_ms() + (attempts > 0 ? iz_backoff_ms(attempts < 8 ? attempts : 8,
                                                         BACKOFF_BASE_MS,
                                                         (int64_t)s->conf.retry_max * 1000, 0,
                                                         (uint64_t)rand_r(&s->rnd))
                                        : 0);
    }
    pthread_mutex_unlock(&s->mu);
    return next;
}

static void account_ok(iz_sync_t *s, acct_t *ac)
{
    pthread_mutex_lock(&s->mu);
    ac->streak = 0;
    pthread_mutex_unlock(&s->mu);
}

/* The creationDate İYS answered for an accepted change (epoch s), 0 when
 * it gave none: the day whose reconciliation file must hold the change. */
static int64_t iys_created(json_t *o)
{
    const char *d = json_string_value(json_object_get(o, "creationDate"));
    const char *hcode;
    int64_t e = 0;
    if (!d || iz_tr_parse(d, strlen(d), &e, &hcode) != 0) return 0;
    return e;
}

static void run_single(iz_sync_t *s, job_t *j)
{
    const iz_outbox_item_t *it = &j->items[0];
    iz_iys_res_t res = {0};
    count_request(s, IZ_REQ_SINGLE);
    iz_iys_consent_add(j->ac->cli, it->brand_code, &it->chg, &res);
    if (res.cls == IZ_IYS_OK || res.cls == IZ_IYS_PERMANENT) {
        account_ok(s, j->ac);
        const char *tx = json_string_value(json_object_get(res.body, "transactionId"));
        iz_outbox_done_t d = {.log_id = it->chg.id};
        if (res.cls == IZ_IYS_OK) {
            atomic_fetch_add(&s->consents_sent, 1);
            d.state = IZ_IYS_ACCEPTED;
            d.txid = tx ? tx : "";
            d.iys_created = iys_created(res.body);
        } else {
            iz_logf(IZ_LOG_WARN, "sync", "İYS refused a change", "id=%lld code=%s message=%s",
                    (long long)it->chg.id, res.code, res.message);
            d.state = IZ_IYS_REJECTED;
            d.error = res.code;
        }
        finish_many(s, &d, &it->chg.creation_ms, 1);
    } else {
        int64_t next = after_failure(s, j->ac, &res, it->attempts + 1);
        char err[300];
        snprintf(err, sizeof err, "%s %s", res.code, res.message);
        int rc = iz_store_outbox_retry(s->st, it->chg.id, next, err);
        if (rc != 0) log_store_error("schedule retry", rc);
    }
    iz_iys_res_clear(&res);
}

static void run_bulk(iz_sync_t *s, job_t *j)
{
    size_t n = j->n;
    int64_t *ids = iz_xmalloc(n * sizeof *ids);
    const iz_change_t **chgs = iz_xmalloc(n * sizeof *chgs);
    for (size_t i = 0; i < n; i++) {
        ids[i] = j->items[i].chg.id;
        chgs[i] = &j->items[i].chg;
    }
    iz_iys_res_t res = {0};
    count_request(s, IZ_REQ_BULK);
    iz_iys_bulk_add(j->ac->cli, j->items[0].brand_code, chgs, n, &res);
    const char *rid = json_string_value(json_object_get(res.body, "requestId"));
    if (res.cls == IZ_IYS_OK && rid && strlen(rid) < sizeof j->items[0].request_id) {
        account_ok(s, j->ac);
        atomic_fetch_add(&s->consents_sent, n);
        int rc = iz_store_outbox_mark(s->st, ids, n, "SENT", rid, now_ms());
        /* Left SENDING on failure: sent again, idempotently, after a
         * restart. */
        if (rc != 0) log_store_error("mark sent", rc);
    } else if (res.cls == IZ_IYS_PERMANENT) {
        /* Field errors come back at once with the item's index: those
         * changes are refused; the rest go again. */
        account_ok(s, j->ac);
        iz_outbox_done_t *done = iz_xcalloc(n, sizeof *done);
        int64_t *created = iz_xcalloc(n, sizeof *created);
        bool *bad = iz_xcalloc(n, sizeof *bad);
        size_t nbad = 0;
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(res.body, "errors"), k, e)
        {
            json_t *ix = json_object_get(e, "index");
            const char *code = json_string_value(json_object_get(e, "code"));
            if (!json_is_integer(ix) || json_integer_value(ix) < 0 ||
                (size_t)json_integer_value(ix) >= n || bad[json_integer_value(ix)])
                continue;
            size_t i = (size_t)json_integer_value(ix);
            bad[i] = true;
            done[nbad] =
                (iz_outbox_done_t){ids[i], IZ_IYS_REJECTED, NULL, code ? code : res.code, 0};
            created[nbad++] = j->items[i].chg.creation_ms;
        }
        if (nbad == 0) {
            /* The request itself was refused: so is every change in it. */
            for (size_t i = 0; i < n; i++) {
                done[i] = (iz_outbox_done_t){ids[i], IZ_IYS_REJECTED, NULL, res.code, 0};
                created[i] = j->items[i].chg.creation_ms;
            }
            nbad = n;
        } else {
            size_t nk = 0;
            for (size_t i = 0; i < n; i++)
                if (!bad[i]) ids[nk++] = ids[i];
            int rc = iz_store_outbox_retry_many(s->st, ids, nk, now_ms(), res.code);
            if (rc != 0) log_store_error("schedule retry", rc);
        }
        finish_many(s, done, created, nbad);
        free(bad);
        free(created);
        free(done);
    } else {
        /* No answer, 5xx, 429 or no token: İYS may or may not have the
         * request; the v2 bulk add is idempotent, so the rows simply go
         * again. */
        int64_t next = after_failure(s, j->ac, &res, j->items[0].attempts + 1);
        char err[300];
        snprintf(err, sizeof err, "%s %s", res.code, res.message);
        int rc = iz_store_outbox_retry_many(s->st, ids, n, next, err);
        if (rc != 0) log_store_error("schedule retry", rc);
    }
    iz_iys_res_clear(&res);
    free(ids);
    free(chgs);
}

/* Poll a bulk request. Each SENT row keeps its index in its request, so
 * results map back even when some of the request's rows were finished
 * before (a partial result, or a crash between two finishes). */
static void run_poll(iz_sync_t *s, job_t *j)
{
    iz_outbox_row_t *rows = NULL;
    size_t n = 0;
    int rc = iz_store_outbox_request_rows(s->st, j->req.request_id, &rows, &n);
    if (rc != 0 || n == 0) {
        if (rc != 0) log_store_error("bulk rows", rc);
        free(rows);
        return;
    }
    const iz_outbox_row_t **by_index = iz_xcalloc(BULK_MAX, sizeof *by_index);
    for (size_t i = 0; i < n; i++)
        if (rows[i].req_index >= 0 && rows[i].req_index < BULK_MAX)
            by_index[rows[i].req_index] = &rows[i];
    iz_iys_res_t res = {0};
    count_request(s, IZ_REQ_POLL);
    iz_iys_bulk_status(j->ac->cli, j->req.brand_code, j->req.request_id, &res);
    int64_t now = now_ms();
    if (res.cls == IZ_IYS_OK && json_is_array(res.body)) {
        account_ok(s, j->ac);
        iz_outbox_done_t *done = iz_xcalloc(n, sizeof *done);
        int64_t *created = iz_xcalloc(n, sizeof *created);
        size_t nd = 0, k;
        json_t *item;
        json_array_foreach(res.body, k, item)
        {
            json_t *jix = json_object_get(item, "index");
            const char *st = json_string_value(json_object_get(item, "status"));
            if (!json_is_integer(jix) || !st) continue;
            json_int_t ix = json_integer_value(jix);
            if (ix < 0 || ix >= BULK_MAX || !by_index[ix]) continue;
            const iz_outbox_row_t *row = by_index[ix];
            if (strcmp(st, "success") == 0) {
                const char *tx = json_string_value(json_object_get(item, "transactionId"));
                done[nd] = (iz_outbox_done_t){row->log_id, IZ_IYS_ACCEPTED, tx ? tx : "", NULL,
                                              iys_created(item)};
            } else if (strcmp(st, "failure") == 0) {
                const char *code =
                    json_string_value(json_object_get(json_object_get(item, "error"), "code"));
                done[nd] = (iz_outbox_done_t){row->log_id, IZ_IYS_REJECTED, NULL,
                                              code ? code : "failure", 0};
            } else {
                continue; /* "enqueue": not processed yet */
            }
            created[nd++] = row->creation_ms;
            by_index[ix] = NULL;
        }
        finish_many(s, done, created, nd);
        free(done);
        free(created);
        if (nd < n) {
            if (json_array_size(res.body) == 0 && now - j->req.posted_ms > LOST_AFTER_MS) {
                /* İYS answers an empty list for a request it does not know
                 * (or no longer keeps): send the changes again, which the
                 * idempotent v2 add makes safe. */
                int64_t *ids = iz_xmalloc(n * sizeof *ids);
                size_t ni = 0;
                for (size_t q = 0; q < BULK_MAX; q++)
                    if (by_index[q]) ids[ni++] = by_index[q]->log_id;
                iz_store_outbox_retry_many(s->st, ids, ni, now, "İYS does not know the request");
                free(ids);
            } else {
                /* Not processed yet: ask again after the poll delay. */
                iz_store_outbox_touch(s->st, j->req.request_id, now);
            }
        }
    } else if (res.cls == IZ_IYS_PERMANENT) {
        /* İYS refuses to tell (an expired or foreign request): send the
         * changes again, idempotently. */
        account_ok(s, j->ac);
        int64_t *ids = iz_xmalloc(n * sizeof *ids);
        for (size_t i = 0; i < n; i++)
            ids[i] = rows[i].log_id;
        iz_store_outbox_retry_many(s->st, ids, n, now, res.code);
        free(ids);
    } else {
        if (res.token_failed || res.http == 401) after_failure(s, j->ac, &res, 0);
        /* Asked again when the budget allows: the request stays due. */
    }
    iz_iys_res_clear(&res);
    free(by_index);
    free(rows);
}

static void run_pull(iz_sync_t *s, job_t *j)
{
    static const char *const sources[] = {"IYS", "HS"};
    const iz_brand_t *brand = &j->brand;
    const char *source = sources[j->source];
    char cursor[300];
    if (iz_store_cursor_get(s->st, brand->id, source, cursor, sizeof cursor) != 0) return;
    for (int page = 0; page < PULL_PAGES; page++) {
        iz_iys_res_t res = {0};
        count_request(s, IZ_REQ_PULL);
        iz_iys_changes(j->ac->cli, brand->code, source, cursor, PULL_LIMIT, &res);
        if (res.cls != IZ_IYS_OK) {
            if (res.cls == IZ_IYS_PERMANENT)
                iz_logf(IZ_LOG_WARN, "sync", "İYS refused the change pull",
                        "brand=%lld source=%s code=%s message=%s", (long long)brand->code, source,
                        res.code, res.message);
            else if (res.token_failed || res.http == 401)
                after_failure(s, j->ac, &res, 0);
            iz_iys_res_clear(&res);
            break;
        }
        account_ok(s, j->ac);
        json_t *list = json_object_get(res.body, "list");
        const char *after = json_string_value(json_object_get(res.body, "after"));
        size_t got = json_array_size(list);
        if (res.http == 204 || got == 0) {
            iz_iys_res_clear(&res);
            break;
        }
        size_t applied = 0, kept = 0;
        int arc = iz_domain_apply_remote(s->dom, brand, "pull", source, list, &applied, &kept);
        if (arc != 0) {
            log_store_error("apply pulled changes", arc);
            iz_iys_res_clear(&res);
            break;
        }
        atomic_fetch_add(&s->pulled, (uint64_t)applied);
        atomic_fetch_add(&s->quarantined, (uint64_t)kept);
        /* The cursor moves only after the page is applied and what could
         * not be applied is quarantined, so a crash re-pulls it and the
         * repeats are recognized. */
        if (after && strlen(after) < sizeof cursor) {
            iz_strlcpy(cursor, after, sizeof cursor);
            iz_store_cursor_set(s->st, brand->id, source, cursor);
        }
        iz_iys_res_clear(&res);
        if (got < PULL_LIMIT || !after) break;
    }
}

/* A brand's daily reconciliation; its requests go through the client, so
 * through the URL's budget (the first with the slot the dispatcher took). */
static void run_recon(iz_sync_t *s, job_t *j)
{
    iz_recon_t r;
    count_request(s, IZ_REQ_RECON);
    int rc = iz_recon_run(s->dom, j->ac->cli, &j->brand, j->date, &r);
    static const char *const names[4] = {"MATCHED", "REPAIRED", "MISMATCH", "FAILED"};
    for (int k = 0; k < 4; k++)
        if (strcmp(r.status, names[k]) == 0) atomic_fetch_add(&s->recon_results[k], 1);
    bool failed = rc != 0 || strcmp(r.status, "FAILED") == 0;
    free(r.tsr);
    free(r.details);
    pthread_mutex_lock(&s->mu);
    recon_state_t *rs = recon_of(s, j->brand.id);
    if (rs) {
        rs->busy = false;
        if (failed)
            rs->next_ms = now_ms() + RECON_RETRY_MS;
        else
            iz_strlcpy(rs->done, j->date, sizeof rs->done);
    }
    pthread_mutex_unlock(&s->mu);
}

static void run_probe(iz_sync_t *s, job_t *j)
{
    iz_iys_res_t res = {0};
    count_request(s, IZ_REQ_PROBE);
    iz_iys_probe(j->ac->cli, j->brand_code, &res);
    if (res.token_failed || res.http == 401) after_failure(s, j->ac, &res, 0);
    iz_iys_res_clear(&res);
}

static void *sender(void *arg)
{
    iz_sync_t *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->queue && !s->stop)
            pthread_cond_wait(&s->jobs_cv, &s->mu);
        if (s->stop) break;
        job_t *j = s->queue;
        s->queue = j->next;
        if (!s->queue) s->queue_tail = NULL;
        int me = 0;
        while (s->running[me])
            me++;
        s->running[me] = j;
        pthread_mutex_unlock(&s->mu);
        /* The dispatcher reserved the slot of the job's first request. */
        iz_iys_prepaid();
        switch (j->kind) {
        case IZ_REQ_SINGLE:
            run_single(s, j);
            break;
        case IZ_REQ_BULK:
            run_bulk(s, j);
            break;
        case IZ_REQ_POLL:
            run_poll(s, j);
            break;
        case IZ_REQ_PULL:
            run_pull(s, j);
            break;
        case IZ_REQ_RECON:
            run_recon(s, j);
            break;
        default:
            run_probe(s, j);
            break;
        }
        /* A job that made no request (no token to be had, a store
         * failure) gives its slot back. */
        if (iz_iys_prepaid_unused()) iz_iys_budget_release(j->ac->ub->b);
        pthread_mutex_lock(&s->mu);
        s->running[me] = NULL;
        j->ac->dirty = true;
        if (j->kind == IZ_REQ_BULK || j->kind == IZ_REQ_POLL) s->next_polls_ms = 0;
        job_free(j);
        s->idle++;
        wake(s);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- start, stop, stats ---------------------------------------------------------- */

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
    if (s->conf.bulk_after <= 0) s->conf.bulk_after = (int)(3 * s->conf.rate);
    if (s->conf.bulk_poll_delay < 0) s->conf.bulk_poll_delay = 300;
    if (s->conf.timeout_ms <= 0) s->conf.timeout_ms = 10000;
    if (s->conf.retry_max <= 0) s->conf.retry_max = 60;
    if (s->conf.recon_hour == 0) s->conf.recon_hour = 2;
    if (s->conf.recon_hour > 23) s->conf.recon_hour = 23;
    s->rnd = (unsigned)now_ms();
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->wake_mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_cond_init(&s->jobs_cv, NULL);
    /* Rows a stopped process left SENDING go again (idempotent v2 adds). */
    int rc = iz_store_outbox_reset_sending(s->st);
    /* Subscribed before the threads run: the list must not change under a
     * commit, and the senders' pulls commit. */
    if (rc == 0) rc = iz_store_subscribe(s->st, on_commit, s);
    if (rc == 0) s->started = true;
    for (int i = 0; rc == 0 && i < SENDERS; i++) {
        if (pthread_create(&s->senders[i], NULL, sender, s) != 0) {
            rc = IZ_EIO;
            break;
        }
        s->nsenders++;
        pthread_mutex_lock(&s->mu);
        s->idle++;
        pthread_mutex_unlock(&s->mu);
    }
    if (rc == 0 && pthread_create(&s->th, NULL, dispatcher, s) != 0) rc = IZ_EIO;
    if (rc != 0) {
        s->started = false;
        iz_sync_stop(s);
        return rc;
    }
    *out = s;
    return 0;
}

iz_iys_t *iz_sync_client(iz_sync_t *s, int64_t account_id)
{
    pthread_mutex_lock(&s->mu);
    iz_iys_t *cli = account(s, account_id)->cli;
    pthread_mutex_unlock(&s->mu);
    return cli;
}

void iz_sync_wake(iz_sync_t *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    for (size_t k = 0; k < s->naccts; k++)
        s->accts[k]->dirty = true;
    pthread_mutex_unlock(&s->mu);
    wake(s);
}

void iz_sync_stop(iz_sync_t *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->jobs_cv);
    pthread_mutex_unlock(&s->mu);
    wake(s);
    if (s->started) pthread_join(s->th, NULL);
    for (int i = 0; i < s->nsenders; i++)
        pthread_join(s->senders[i], NULL);
    /* Only once every thread has stopped: pulls commit changes, and the
     * subscriber list must not change under a commit. */
    iz_store_unsubscribe(s->st, on_commit, s);
    while (s->queue) {
        job_t *j = s->queue;
        s->queue = j->next;
        job_free(j);
    }
    for (size_t i = 0; i < s->naccts; i++) {
        while (s->accts[i]->plan) {
            job_t *j = s->accts[i]->plan;
            s->accts[i]->plan = j->next;
            job_free(j);
        }
        iz_iys_free(s->accts[i]->cli);
        free(s->accts[i]);
    }
    free(s->accts);
    for (size_t i = 0; i < s->nubs; i++) {
        iz_iys_budget_free(s->ubs[i]->b);
        free(s->ubs[i]);
    }
    free(s->ubs);
    free(s->brands);
    free(s->recon);
    pthread_cond_destroy(&s->jobs_cv);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->wake_mu);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void iz_sync_stats_get(iz_sync_t *s, iz_sync_stats_t *o)
{
    memset(o, 0, sizeof *o);
    if (!s) {
        o->success_rate = 1;
        return;
    }
    int64_t lat[LAT_RING];
    size_t nlat;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->naccts; i++) {
        if (!s->accts[i]->cli) continue;
        iz_iys_counts_t c;
        iz_iys_counts_get(s->accts[i]->cli, &c);
        o->ok += c.ok;
        o->client_error += c.client_error;
        o->rate_limited += c.rate_limited;
        o->server_error += c.server_error;
        o->transport += c.transport;
        o->token_blocked += c.token_blocked;
        o->tokens += c.tokens;
    }
    for (size_t i = 0; i < s->nubs; i++)
        if (iz_iys_budget_down(s->ubs[i]->b)) o->budgets_down++;
    o->ret_pending = s->ret_pending;
    o->ret_at_risk = s->ret_at_risk;
    o->ret_missed = s->ret_missed;
    for (int k = 0; k < IZ_REQ_KINDS; k++)
        o->requests_per_s[k] = rate_get(&s->req_rate[k]);
    o->consents_per_s = rate_get(&s->sent_rate);
    nlat = s->nlat < LAT_RING ? s->nlat : LAT_RING;
    memcpy(lat, s->lat, nlat * sizeof *lat);
    pthread_mutex_unlock(&s->mu);
    if (nlat) {
        qsort(lat, nlat, sizeof *lat, cmp_i64);
        o->to_iys_p50_ms = lat[(nlat - 1) / 2];
        o->to_iys_p99_ms = lat[(nlat - 1) * 99 / 100];
    }
    for (int k = 0; k < IZ_REQ_KINDS; k++)
        o->requests[k] = atomic_load(&s->requests[k]);
    o->consents_sent = atomic_load(&s->consents_sent);
    o->pulled = atomic_load(&s->pulled);
    o->accepted = atomic_load(&s->accepted);
    o->rejected = atomic_load(&s->rejected);
    o->quarantined = atomic_load(&s->quarantined);
    for (int k = 0; k < 4; k++)
        o->recon[k] = atomic_load(&s->recon_results[k]);
    o->success_rate =
        o->ok + o->client_error ? (double)o->ok / (double)(o->ok + o->client_error) : 1;
    iz_store_outbox_count(s->st, &o->outbox);
}
