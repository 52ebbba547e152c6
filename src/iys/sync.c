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
#include "iys/standing.h"
#include "net/client.h"
#include "sys/log.h"

#define SENDERS 8
#define ROUND_MS 250
#define FOLLOW_WAIT_MS 250    /* between looks at the lease while another node sends */
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

#define STANDING_SOON_MS 5000   /* the earliest read again after one, when an answer held */
#define STANDING_RETRY_MS 30000 /* a read that got no answer is tried again after this */
#define PARTNER_PAGES 100       /* listing pages of 100 brands read at most */

/* P_CHECK: the standing reads (subscription, partner) go after the
 * realtime changes of the accounts whose standing is known and before the
 * rest; an account whose standing is not known yet sends nothing until its
 * read came back (standing_known), so hundreds of reads at a start do not
 * hold up the others' single adds. */
enum { P_RET, P_SINGLE, P_CHECK, P_BULK, P_POLL, P_PULL, P_RECON };

typedef struct ubudget {
    char url[IZ_URL_MAX];
    iz_iys_budget_t *b;
    iz_store_t *st; /* a shared store: the cluster's window of the URL is kept there */
    int64_t next_probe_ms;
    int64_t down_since_ms; /* when the dispatcher first saw it down; 0: up */
} ubudget_t;

typedef struct acct acct_t;

/* An İYS partner (iş ortağı) on one URL: the one token of all its accounts
 * there, its own subscription and the brands that authorized it. */
typedef struct partner {
    ubudget_t *ub;
    int64_t code;
    iz_iys_auth_t *auth;
    iz_grant_t *grants; /* the listing, when listed */
    size_t ngrants;
    bool listed;     /* the listing was read at least once */
    iz_hold_t hold;  /* its own subscription's (PARTNER_*), or NONE */
    char status[16]; /* its own subscription's state; "" not read */
    char detail[320];
    int64_t checked_ms, next_ms;
    bool running; /* a read is planned or running */
    bool done;    /* a read came back, whatever it said */
} partner_t;

/* A brand and type whose changes wait for a partner's write right. */
typedef struct held {
    int64_t brand_code;
    iz_type_t type;
    int64_t until_ms; /* İYS's H353 holds until then, unless a listing says otherwise */
} held_t;

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
    /* Standing (iys/standing.h). */
    char name[IZ_NAME_MAX];
    int64_t iys_code;
    bool has_iys;       /* an İYS URL is set: changes are not LOCAL */
    partner_t *partner; /* partner mode, or NULL */
    int64_t integrator; /* partner mode: its code (also without credentials) */
    iz_hold_t sub_hold; /* from the subscription read or İYS's answers */
    char detail[320];   /* why, in words (İYS's own where it gave some) */
    iz_sub_t sub;       /* the last subscription read */
    bool sub_read;
    int64_t sub_checked_ms, sub_next_ms;
    bool sub_running, sub_done; /* sub_done: a read came back, whatever it said */
    int64_t limit_until_ms;     /* an H525 holds until then when İYS shows no figures */
    iz_hold_t hold;             /* the account's hold as last worked out */
    held_t *held;               /* partner: waiting for a write right */
    size_t nheld;
    char *standing; /* the read-out last written to the store */
};

/* A counter's per-second rate over the last RATE_SECONDS. */
typedef struct rate {
    uint64_t at[RATE_SECONDS + 1];
    int64_t sec;
} rate_t;

static const char *const kind_names[IZ_REQ_KINDS] = {
    "single", "bulk", "poll", "pull", "probe", "recon", "subscription", "partner"};

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
    partner_t **partners;
    size_t npartners;
    char integrator_password[IZ_NAME_MAX];
    job_t *queue, *queue_tail; /* handed out, not yet taken by a sender */
    int idle;                  /* senders waiting for a job */
    job_t *running[SENDERS];   /* jobs senders are running */
    uint64_t seq;
    int64_t next_pull_ms, next_ret_ms, next_polls_ms, next_brands_ms, next_recon_ms,
        next_catch_up_ms;
    bool leading; /* this node sends (take_lead ran since it last did not) */
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

/* The budget's gate on a shared store (iys/budget.h): a start counts in
 * the cluster's window of the URL too. A store that cannot be read shuts
 * the gate for a while (no request is better than one over İYS's limit). */
static bool cluster_gate(void *ctx, int cap, int64_t window_ms, int64_t *wait_ms)
{
    ubudget_t *ub = ctx;
    int rc = iz_store_budget_start(ub->st, ub->url, cap, window_ms, wait_ms);
    if (rc != 0) {
        log_store_error("count an İYS request in the cluster's window", rc);
        *wait_ms = 1000;
        return false;
    }
    return *wait_ms == 0;
}

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
    if (iz_store_shared(s->st)) {
        /* Several nodes behind one address: one window for all of them. */
        ub->st = s->st;
        iz_iys_budget_set_gate(ub->b, cluster_gate, ub);
    }
    s->ubs = iz_xrealloc(s->ubs, (s->nubs + 1) * sizeof *s->ubs);
    s->ubs[s->nubs++] = ub;
    return ub;
}

static void standing_update(iz_sync_t *s, acct_t *ac, int64_t now);

/* The partner of code on a URL, made on first use with the installation's
 * partner credentials: one token for all its accounts there. */
static partner_t *partner_for(iz_sync_t *s, ubudget_t *ub, int64_t code)
{
    for (size_t i = 0; i < s->npartners; i++)
        if (s->partners[i]->ub == ub && s->partners[i]->code == code) return s->partners[i];
    partner_t *p = iz_xcalloc(1, sizeof *p);
    p->ub = ub;
    p->code = code;
    iz_iys_auth_conf_t c = {.store = s->st, .integrator_code = code};
    iz_strlcpy(c.base_url, ub->url, sizeof c.base_url);
    iz_strlcpy(c.username, s->conf.integrator_user, sizeof c.username);
    iz_strlcpy(c.password, s->integrator_password, sizeof c.password);
    p->auth = iz_iys_auth_new(&c);
    iz_wipe(&c, sizeof c);
    s->partners = iz_xrealloc(s->partners, (s->npartners + 1) * sizeof *s->partners);
    s->partners[s->npartners++] = p;
    return p;
}

/* The account, with its İYS client made on first use (cli NULL when the
 * account has no İYS, is a partner's without partner credentials, or
 * cannot be read). */
static acct_t *account(iz_sync_t *s, int64_t account_id)
{
    for (size_t i = 0; i < s->naccts; i++)
        if (s->accts[i]->account_id == account_id) return s->accts[i];
    acct_t *ac = iz_xcalloc(1, sizeof *ac);
    ac->account_id = account_id;
    ac->dirty = true;
    iz_account_t a;
    if (iz_store_account_get(s->st, account_id, &a) == 0) {
        iz_strlcpy(ac->name, a.name, sizeof ac->name);
        ac->iys_code = a.iys_code;
        ac->integrator = a.iys_integrator;
        const char *url = a.iys_url[0] ? a.iys_url : s->default_url;
        ac->has_iys = url[0] != '\0';
        /* A partner's account without partner credentials has no client:
         * its changes wait (standing NO_PARTNER_CREDENTIALS). */
        if (url[0] && (!a.iys_integrator || s->conf.integrator_user)) {
            iz_iys_conf_t c = {0};
            ac->ub = budget_for(s, url);
            iz_strlcpy(c.base_url, url, sizeof c.base_url);
            iz_strlcpy(c.username, a.iys_user, sizeof c.username);
            iz_strlcpy(c.password, a.iys_password, sizeof c.password);
            c.iys_code = a.iys_code;
            c.timeout_ms = s->conf.timeout_ms;
            c.rate = s->conf.rate;
            c.budget = ac->ub->b;
            c.store = s->st; /* the account's tokens outlive a restart */
            c.account_id = account_id;
            if (a.iys_integrator) {
                ac->partner = partner_for(s, ac->ub, a.iys_integrator);
                c.auth = ac->partner->auth;
                c.integrator_code = a.iys_integrator;
            }
            if (iz_iys_new(&c, &ac->cli) != 0) ac->cli = NULL;
            iz_wipe(c.password, sizeof c.password);
        }
        iz_wipe(a.iys_password, sizeof a.iys_password);
    }
    s->accts = iz_xrealloc(s->accts, (s->naccts + 1) * sizeof *s->accts);
    s->accts[s->naccts++] = ac;
    standing_update(s, ac, now_ms());
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

/* ---- standing (mu held) ------------------------------------------------------ */

/* The account's hold: the partner's own first (it stops all its
 * accounts), then a partner no brand of the provider authorized, then the
 * account's subscription and İYS's answers. */
static iz_hold_t hold_of(const acct_t *ac)
{
    const partner_t *p = ac->partner;
    if (ac->integrator && !p && ac->has_iys) return IZ_HOLD_NO_PARTNER_CREDENTIALS;
    if (p && p->hold != IZ_HOLD_NONE) return p->hold;
    if (p && p->listed && !iz_standing_authorized(p->grants, p->ngrants, ac->iys_code))
        return IZ_HOLD_NOT_AUTHORIZED;
    return ac->sub_hold;
}

/* Whether the account's standing was read once since start: until then
 * nothing of it goes but the reads (they go first), so a state İYS would
 * refuse every call in is not met by calls that fail. */
static bool standing_known(const acct_t *ac)
{
    const partner_t *p = ac->partner;
    if (p && !p->done) return false;
    if (p && p->listed && !iz_standing_authorized(p->grants, p->ngrants, ac->iys_code))
        return true; /* its subscription is not read: it is held anyway */
    return ac->sub_done;
}

/* The partner's grant for one of the account's brands (NULL: none, or the
 * listing was never read). */
static const iz_grant_t *grant_of(const acct_t *ac, int64_t brand_code)
{
    const partner_t *p = ac->partner;
    return p ? iz_standing_grant(p->grants, p->ngrants, ac->iys_code, brand_code) : NULL;
}

/* Whether a change of this brand and type may go now: always for an
 * account's own user; for a partner, unless its listing lacks the write
 * right (a listing never read - İYS offers it in production only - does
 * not hold: İYS's answers will tell). */
static bool may_write(const acct_t *ac, int64_t brand_code, iz_type_t type)
{
    const partner_t *p = ac->partner;
    if (p && p->listed && iz_standing_right(grant_of(ac, brand_code), type) != IZ_RIGHT_WRITE)
        return false;
    int64_t now = now_ms();
    for (size_t i = 0; i < ac->nheld; i++)
        if (ac->held[i].brand_code == brand_code && ac->held[i].type == type && !(p && p->listed) &&
            ac->held[i].until_ms > now)
            return false; /* İYS answered H353 and no listing says otherwise */
    return true;
}

static void note_held(acct_t *ac, int64_t brand_code, iz_type_t type, int64_t until_ms)
{
    for (size_t i = 0; i < ac->nheld; i++)
        if (ac->held[i].brand_code == brand_code && ac->held[i].type == type) {
            if (until_ms > ac->held[i].until_ms) ac->held[i].until_ms = until_ms;
            return;
        }
    ac->held = iz_xrealloc(ac->held, (ac->nheld + 1) * sizeof *ac->held);
    ac->held[ac->nheld++] = (held_t){brand_code, type, until_ms};
}

static json_t *time_json(int64_t ms)
{
    if (ms <= 0) return json_null();
    char d[IZ_DATETIME_LEN];
    iz_tr_format(ms / 1000, d);
    return json_string(d);
}

static json_t *figure(int64_t v)
{
    return v >= 0 ? json_integer((json_int_t)v) : json_null();
}

/* The partner part of a read-out: the rights on each of the account's
 * brands and what is missing. */
static json_t *partner_json(iz_sync_t *s, const acct_t *ac)
{
    const partner_t *p = ac->partner;
    json_t *brands = json_array(), *problems = json_array();
    static const iz_type_t types[] = {IZ_MESAJ, IZ_ARAMA, IZ_EPOSTA};
    for (size_t b = 0; b < s->nbrands; b++) {
        if (s->brands[b].account_id != ac->account_id) continue;
        int64_t code = s->brands[b].code;
        const iz_grant_t *g = grant_of(ac, code);
        json_t *o = json_pack("{s:I, s:b}", "brandCode", (json_int_t)code, "authorized", g != NULL);
        for (size_t t = 0; t < IZ_ARRAY_LEN(types); t++) {
            const char *r = iz_right_name(iz_standing_right(g, types[t]));
            json_object_set_new(o, iz_type_name(types[t]), r ? json_string(r) : json_null());
        }
        json_object_set_new(o, "agreementControl", json_boolean(g && g->agreement));
        json_array_append_new(brands, o);
        if (p && p->listed && !g)
            json_array_append_new(problems, json_pack("{s:I, s:s}", "brandCode", (json_int_t)code,
                                                      "problem", "BRAND_NOT_AUTHORIZED"));
    }
    for (size_t i = 0; i < ac->nheld; i++) {
        if (p && p->listed && !grant_of(ac, ac->held[i].brand_code)) continue; /* said above */
        json_array_append_new(
            problems, json_pack("{s:I, s:s, s:s}", "brandCode", (json_int_t)ac->held[i].brand_code,
                                "type", iz_type_name(ac->held[i].type), "problem", "NO_WRITE"));
    }
    json_t *o = json_pack("{s:I, s:o, s:o, s:o, s:o}", "integratorCode", (json_int_t)ac->integrator,
                          "checkedAt", time_json(p ? p->checked_ms : 0), "listed",
                          json_boolean(p && p->listed), "brands", brands, "problems", problems);
    json_object_set_new(o, "subscription",
                        p && p->status[0] ? json_pack("{s:s}", "status", p->status) : json_null());
    return o;
}

/* An account's read-out (sync.h, iz_sync_standing). */
static json_t *standing_json(iz_sync_t *s, const acct_t *ac)
{
    const char *mode = ac->integrator ? "partner" : ac->has_iys ? "direct" : "none";
    json_t *o = json_pack("{s:s, s:I, s:s}", "account", ac->name, "iysCode",
                          (json_int_t)ac->iys_code, "mode", mode);
    if (ac->integrator)
        json_object_set_new(o, "integratorCode", json_integer((json_int_t)ac->integrator));
    json_object_set_new(o, "sending", json_boolean(ac->has_iys && ac->hold == IZ_HOLD_NONE));
    if (!ac->has_iys) {
        json_object_set_new(o, "reason", json_string("NO_IYS"));
        json_object_set_new(o, "detail", json_string("no İYS URL: changes are kept LOCAL"));
    } else if (ac->hold != IZ_HOLD_NONE) {
        json_object_set_new(o, "reason", json_string(iz_hold_name(ac->hold)));
        if (ac->detail[0]) json_object_set_new(o, "detail", json_string(ac->detail));
    }
    json_t *sub = json_null();
    if (ac->sub_read) {
        sub = json_pack("{s:s, s:o, s:o, s:o, s:o}", "status", ac->sub.status, "consentLimit",
                        figure(ac->sub.consent_limit), "used", figure(ac->sub.used),
                        "consentLimitExceed",
                        ac->sub.limit_exceed < 0 ? json_null() : json_boolean(ac->sub.limit_exceed),
                        "checkedAt", time_json(ac->sub_checked_ms));
    }
    json_object_set_new(o, "subscription", sub);
    if (ac->integrator) json_object_set_new(o, "partner", partner_json(s, ac));
    return o;
}

/* Say why a hold came, in words. */
static void hold_detail(acct_t *ac, iz_hold_t h)
{
    const partner_t *p = ac->partner;
    if (h == IZ_HOLD_NO_PARTNER_CREDENTIALS)
        snprintf(ac->detail, sizeof ac->detail,
                 "the account sends through İYS partner %lld; izin serve has no "
                 "--iys-integrator-user and --iys-integrator-password",
                 (long long)ac->integrator);
    else if (p && h == p->hold && p->detail[0])
        iz_strlcpy(ac->detail, p->detail, sizeof ac->detail);
    else if (h == IZ_HOLD_NOT_AUTHORIZED && p && p->listed &&
             !iz_standing_authorized(p->grants, p->ngrants, ac->iys_code))
        snprintf(ac->detail, sizeof ac->detail,
                 "no brand of iysCode %lld authorized İYS partner %lld", (long long)ac->iys_code,
                 (long long)p->code);
}

/* Work out the account's hold again after anything it depends on changed:
 * log a change, let its changes go at once when the hold ended, and keep
 * the read-out in the store for the command line. */
static void standing_update(iz_sync_t *s, acct_t *ac, int64_t now)
{
    iz_hold_t was = ac->hold, h = hold_of(ac);
    if (h != IZ_HOLD_NONE) hold_detail(ac, h);
    ac->hold = h;
    /* Changes held for a right the listing now gives go again. */
    size_t k = 0;
    bool freed = false;
    for (size_t i = 0; i < ac->nheld; i++) {
        bool still = ac->partner && ac->partner->listed &&
                     iz_standing_right(grant_of(ac, ac->held[i].brand_code), ac->held[i].type) !=
                         IZ_RIGHT_WRITE;
        if (!ac->partner || !ac->partner->listed) still = ac->held[i].until_ms > now;
        if (still)
            ac->held[k++] = ac->held[i];
        else
            freed = true;
    }
    ac->nheld = k;
    if (h != was) {
        if (h != IZ_HOLD_NONE)
            iz_logf(IZ_LOG_WARN, "sync", "İYS: the account's changes wait",
                    "account=%s reason=%s detail=%s", ac->name, iz_hold_name(h), ac->detail);
        else
            iz_logf(IZ_LOG_INFO, "sync", "İYS: the account's changes go again", "account=%s was=%s",
                    ac->name, iz_hold_name(was));
        if (h == IZ_HOLD_NONE) ac->detail[0] = '\0';
    }
    if (freed || (was != IZ_HOLD_NONE && (h == IZ_HOLD_NONE || !iz_hold_stops_all(h)))) {
        int rc = iz_store_outbox_due_now(s->st, ac->account_id, now);
        if (rc != 0) log_store_error("release held changes", rc);
        ac->dirty = true;
        s->next_polls_ms = 0;
    }
    json_t *j = standing_json(s, ac);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text) iz_oom();
    if (!ac->standing || strcmp(text, ac->standing) != 0) {
        int rc = iz_store_iys_standing_put(s->st, ac->account_id, ac->has_iys && h == IZ_HOLD_NONE,
                                           ac->has_iys ? iz_hold_name(h) : "NO_IYS", text);
        if (rc != 0 && rc != IZ_ENOTFOUND) log_store_error("keep the İYS standing", rc);
        free(ac->standing);
        ac->standing = text;
    } else {
        free(text);
    }
}

/* When the next regular read is due: every standing_interval, and every
 * tenth of it (between a second and a minute) while something is held,
 * so sending resumes soon after İYS says it may. */
static int64_t next_read(iz_sync_t *s, bool held, int64_t now)
{
    int64_t every = (int64_t)s->conf.standing_interval * 1000;
    if (held) {
        every /= 10;
        if (every > 60000) every = 60000;
        if (every < 1000) every = 1000;
    }
    /* Up to a tenth later, so the reads of accounts started together
     * spread out instead of coming all at once every interval. */
    return now + every + (int64_t)(rand_r(&s->rnd) % (unsigned)(every / 10 + 1));
}

/* The earliest time a read may come again after one made at last. */
static int64_t soon(int64_t now, int64_t last, int64_t planned)
{
    int64_t t = last + STANDING_SOON_MS > now ? last + STANDING_SOON_MS : now;
    return t < planned ? t : planned;
}

/* İYS answered a call of the account with code: when it is about the
 * account and not the change (standing.h), hold the account (or the brand
 * and type, for a partner), have its standing read again soon, and answer
 * true: the change stays PENDING. */
static bool held_by_answer(iz_sync_t *s, acct_t *ac, const iz_iys_res_t *res, int64_t brand_code,
                           iz_type_t type)
{
    if (res->cls != IZ_IYS_PERMANENT) return false;
    iz_hold_t h = iz_standing_hold_of_code(res->code, res->message);
    iz_h353_t field =
        strcmp(res->code, "H353") == 0 ? iz_standing_h353_field(res->message) : IZ_H353_OTHER;
    partner_t *p = ac->partner;
    bool right = p && (field == IZ_H353_BRAND || field == IZ_H353_TYPE) && type != IZ_TYPE_NONE;
    if (h == IZ_HOLD_NONE && !right) return false;
    int64_t now = now_ms();
    pthread_mutex_lock(&s->mu);
    char detail[sizeof ac->detail];
    snprintf(detail, sizeof detail, "İYS answered %s: %s", res->code, res->message);
    if (right) {
        /* The listing is read again soon; until then the brand and type
         * wait, and the listing's word is taken over this answer. */
        note_held(ac, brand_code, type, now + (int64_t)s->conf.standing_interval * 1000);
        if (p->listed) {
            for (size_t i = 0; i < p->ngrants; i++)
                if (p->grants[i].iys_code == ac->iys_code &&
                    p->grants[i].brand_code == brand_code) {
                    iz_right_t *r = &p->grants[i].right[type];
                    if (field == IZ_H353_BRAND || *r == IZ_RIGHT_WRITE) *r = IZ_RIGHT_READ;
                }
        }
    } else if (p && h >= IZ_HOLD_PARTNER_PAUSED && h <= IZ_HOLD_PARTNER_NONE) {
        p->hold = h;
        iz_strlcpy(p->detail, detail, sizeof p->detail);
    } else {
        ac->sub_hold = h;
        iz_strlcpy(ac->detail, detail, sizeof ac->detail);
        /* İYS shows a partner no consent figures: its H525 holds until
         * the next regular read. */
        if (h == IZ_HOLD_LIMIT_FULL)
            ac->limit_until_ms = now + (int64_t)s->conf.standing_interval * 1000;
    }
    ac->sub_next_ms = soon(now, ac->sub_checked_ms, ac->sub_next_ms);
    if (p) p->next_ms = soon(now, p->checked_ms, p->next_ms);
    standing_update(s, ac, now);
    pthread_mutex_unlock(&s->mu);
    return true;
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

static bool is_not_check(const job_t *j)
{
    return j->kind != IZ_REQ_SUBSCRIPTION && j->kind != IZ_REQ_PARTNER;
}

static bool is_any(const job_t *j)
{
    (void)j;
    return true;
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

/* Put changes a partner may not write aside until its listing is read
 * again (they do not stand in the way of the others; standing_update lets
 * them go at once when the right comes), and say so in the read-out. */
static void park_held(iz_sync_t *s, acct_t *ac, const int64_t *ids, size_t n, int64_t now)
{
    if (n == 0) return;
    int64_t until = ac->partner && ac->partner->next_ms > now ? ac->partner->next_ms : now + 60000;
    int rc = iz_store_outbox_retry_many(
        s->st, ids, n, until, "waiting: the İYS partner may not write this brand and type");
    if (rc != 0) log_store_error("hold changes", rc);
    standing_update(s, ac, now);
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
    /* A full consent limit holds new consents; RETs still go. */
    if (rc == 0 && ac->hold != IZ_HOLD_LIMIT_FULL)
        rc = iz_store_outbox_due(s->st, now, ac->account_id, false, PLAN_FETCH, &rows, &nn);
    /* What goes to İYS is on disk first (store.h iz_store_durable). */
    if (rc == 0 && nr + nn > 0) rc = iz_store_durable(s->st);
    if (rc != 0) {
        log_store_error("outbox", rc);
        free(rets);
        free(rows);
        return;
    }
    /* One list: the RETs by deadline, then the rest oldest first; a
     * partner's changes it may not write wait aside (park_held). */
    iz_outbox_item_t *all = iz_xmalloc((nr + nn + 1) * sizeof *all);
    int64_t *held = iz_xmalloc((nr + nn + 1) * sizeof *held);
    size_t n = 0, nh = 0;
    for (size_t i = 0; i < nr + nn; i++) {
        const iz_outbox_item_t *it = i < nr ? &rets[i] : &rows[i - nr];
        if ((i >= nr && it->chg.ret_deadline > 0) || row_in_flight(s, it->chg.id)) continue;
        if (!may_write(ac, it->brand_code, it->chg.type)) {
            note_held(ac, it->brand_code, it->chg.type,
                      ac->partner && ac->partner->next_ms > now ? ac->partner->next_ms
                                                                : now + 60000);
            held[nh++] = it->chg.id;
            continue;
        }
        all[n++] = *it;
    }
    free(rets);
    free(rows);
    park_held(s, ac, held, nh, now);
    free(held);
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
        if (!ac->cli || !standing_known(ac) || iz_hold_stops_all(ac->hold)) continue;
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
        if (ac->cli && !standing_known(ac)) {
            /* Pulled as soon as its standing is read (a new account, a
             * start), not a whole interval later. */
            if (s->next_pull_ms > now + 1000) s->next_pull_ms = now + 1000;
            continue;
        }
        if (!ac->cli || iz_hold_stops_all(ac->hold)) continue;
        /* A partner reads only the brands that authorized it. */
        if (ac->partner && ac->partner->listed && !grant_of(ac, s->brands[b].code)) continue;
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
        if (!standing_known(ac) || iz_hold_stops_all(ac->hold)) {
            /* Its plan would be dropped (an account whose standing is not
             * known yet, or that is held, makes no İYS call): again in a
             * second, not in RECON_EVERY_MS. */
            s->next_recon_ms = now + 1000;
            continue;
        }
        /* A partner reconciles only the brands that gave it the right
         * (agreementControl): İYS refuses the others with a 403. */
        const partner_t *pt = ac->partner;
        if (pt && pt->listed) {
            const iz_grant_t *g =
                iz_standing_grant(pt->grants, pt->ngrants, ac->iys_code, s->brands[b].code);
            if (!g || !g->agreement) continue;
        }
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

/* The standing reads whose time has come: each account's subscription,
 * each partner's own subscription and listing (made through one of its
 * accounts, whose client carries the partner's token). */
static void plan_checks(iz_sync_t *s, int64_t now)
{
    for (size_t i = 0; i < s->naccts; i++) {
        acct_t *ac = s->accts[i];
        if (!ac->cli || ac->sub_running || now < ac->sub_next_ms) continue;
        /* A partner reads a provider's subscription once its listing was
         * asked for, and not while its own subscription is held or the
         * provider authorized none of its brands (İYS would refuse it: a
         * 403 counts against izin). */
        const partner_t *p = ac->partner;
        if (p && (!p->done || p->hold != IZ_HOLD_NONE ||
                  (p->listed && !iz_standing_authorized(p->grants, p->ngrants, ac->iys_code))))
            continue;
        ac->sub_running = true;
        plan_add(ac, new_job(IZ_REQ_SUBSCRIPTION, P_CHECK));
    }
    for (size_t k = 0; k < s->npartners; k++) {
        partner_t *p = s->partners[k];
        if (p->running || now < p->next_ms) continue;
        for (size_t i = 0; i < s->naccts; i++) {
            acct_t *ac = s->accts[i];
            if (ac->partner != p || !ac->cli) continue;
            p->running = true;
            plan_add(ac, new_job(IZ_REQ_PARTNER, P_CHECK));
            break;
        }
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
        iz_store_outbox_retry_many(s->st, ids, n, now + 60000,
                                   ac->integrator ? "no İYS partner credentials"
                                                  : "no İYS configured");
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
                                : top->items               ? top->items[0].brand_code
                                                           : top->ac->any_brand;
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

/* Wait up to wait ms for a wake-up (called without s->mu). */
static void sleep_until_woken(iz_sync_t *s, int64_t wait)
{
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
}

/* Whether this node may send now (conf.lead: several nodes, one leads). */
static bool may_lead(const iz_sync_t *s)
{
    return !s->conf.lead || s->conf.lead(s->conf.lead_ctx);
}

/* Become the node that sends, as a restarted process would: rows another
 * leader (or this process, stopped) left SENDING go again - İYS's v2 adds
 * are idempotent, so a change whose request did reach İYS is answered with
 * the transactionId it already has - and SENT requests are polled. With
 * s->mu held; false when the store cannot be read (tried again). */
static bool take_lead(iz_sync_t *s)
{
    int rc = iz_store_outbox_reset_sending(s->st);
    if (rc != 0) {
        log_store_error("take over the outbox", rc);
        return false;
    }
    s->next_polls_ms = 0;
    for (size_t i = 0; i < s->naccts; i++)
        s->accts[i]->dirty = true;
    s->leading = true;
    if (s->conf.lead) iz_logf(IZ_LOG_INFO, "sync", "sending to İYS from this node", NULL);
    return true;
}

/* Stop sending: another node leads (or none can be sure to). The requests
 * in flight finish and are recorded; nothing new starts. */
static void give_up_lead(iz_sync_t *s)
{
    for (size_t i = 0; i < s->naccts; i++)
        plan_drop(s->accts[i], is_any);
    /* (Jobs already handed out hold their budget slot and an idle sender:
     * they go, at most one a sender.) */
    if (s->leading) iz_logf(IZ_LOG_INFO, "sync", "another node sends to İYS", NULL);
    s->leading = false;
}

static void *dispatcher(void *arg)
{
    iz_sync_t *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        int64_t now = now_ms();
        if (!may_lead(s) || (!s->leading && !take_lead(s))) {
            give_up_lead(s);
            pthread_mutex_unlock(&s->mu);
            sleep_until_woken(s, FOLLOW_WAIT_MS);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        take_notes(s);
        refresh_brands(s, now);
        do_ret(s, now);
        plan_checks(s, now);
        plan_pulls(s, now);
        plan_polls(s, now);
        plan_recon(s, now);
        if (now >= s->next_catch_up_ms && !iz_store_shared(s->st)) {
            /* (Several nodes: domain/cluster.c catches up on every notice.) */
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
            if (!standing_known(ac) || iz_hold_stops_all(ac->hold)) {
                /* Held: nothing of it goes but the standing reads; its rows
                 * stay PENDING and due. */
                plan_drop(ac, is_not_check);
                ac->planned_ms = now;
                ac->dirty = false;
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
        sleep_until_woken(s, wait);
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

static void run_single(iz_sync_t *s, job_t *j)
{
    const iz_outbox_item_t *it = &j->items[0];
    iz_iys_res_t res = {0};
    count_request(s, IZ_REQ_SINGLE);
    iz_iys_consent_add(j->ac->cli, it->brand_code, &it->chg, &res);
    if (held_by_answer(s, j->ac, &res, it->brand_code, it->chg.type)) {
        /* About the account, not the change: it waits, PENDING. */
        char err[300];
        snprintf(err, sizeof err, "held: %s %s", res.code, res.message);
        int rc = iz_store_outbox_retry(s->st, it->chg.id, now_ms(), err);
        if (rc != 0) log_store_error("hold a change", rc);
    } else if (res.cls == IZ_IYS_OK || res.cls == IZ_IYS_PERMANENT) {
        account_ok(s, j->ac);
        const char *tx = json_string_value(json_object_get(res.body, "transactionId"));
        iz_outbox_done_t d = {.log_id = it->chg.id};
        if (res.cls == IZ_IYS_OK) {
            atomic_fetch_add(&s->consents_sent, 1);
            d.state = IZ_IYS_ACCEPTED;
            d.txid = tx ? tx : "";
            d.iys_created = iz_iys_created(res.body);
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

/* held_by_answer for the error of one item of a bulk request. */
static bool item_held(iz_sync_t *s, acct_t *ac, const char *code, const char *message,
                      int64_t brand_code, iz_type_t type)
{
    iz_iys_res_t r = {.cls = IZ_IYS_PERMANENT};
    iz_strlcpy(r.code, code ? code : "", sizeof r.code);
    iz_strlcpy(r.message, message ? message : "", sizeof r.message);
    return held_by_answer(s, ac, &r, brand_code, type);
}

/* Whether a bulk request refused whole (no item's index in the errors) was
 * refused for the account's sake; an H353 on the type holds each type of
 * the request, the listing read soon after tells which it was. */
static bool bulk_held(iz_sync_t *s, job_t *j, const iz_iys_res_t *res)
{
    size_t k;
    json_t *e;
    json_array_foreach(json_object_get(res->body, "errors"), k, e)
    {
        if (json_is_integer(json_object_get(e, "index"))) return false;
    }
    bool held = false, seen[4] = {false};
    for (size_t i = 0; i < j->n; i++) {
        iz_type_t t = j->items[i].chg.type;
        if (t < 0 || t > IZ_EPOSTA || seen[t]) continue;
        seen[t] = true;
        held = held_by_answer(s, j->ac, res, j->items[0].brand_code, t) || held;
    }
    return held;
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
    const char *rid = iz_iys_request_id(res.body, sizeof j->items[0].request_id);
    if (res.cls == IZ_IYS_OK && rid) {
        account_ok(s, j->ac);
        atomic_fetch_add(&s->consents_sent, n);
        int rc = iz_store_outbox_mark(s->st, ids, n, "SENT", rid, now_ms());
        /* Left SENDING on failure: sent again, idempotently, after a
         * restart. */
        if (rc != 0) log_store_error("mark sent", rc);
    } else if (res.cls == IZ_IYS_PERMANENT && bulk_held(s, j, &res)) {
        /* The request was refused for the account's sake (standing.h):
         * every change in it waits, PENDING. */
        char err[300];
        snprintf(err, sizeof err, "held: %s %s", res.code, res.message);
        int rc = iz_store_outbox_retry_many(s->st, ids, n, now_ms(), err);
        if (rc != 0) log_store_error("hold changes", rc);
    } else if (res.cls == IZ_IYS_PERMANENT) {
        /* Field errors come back at once with the item's index: those
         * changes are refused (but for an error about the account, whose
         * change waits); the rest go again. */
        account_ok(s, j->ac);
        iz_outbox_done_t *done = iz_xcalloc(n, sizeof *done);
        int64_t *created = iz_xcalloc(n, sizeof *created);
        bool *bad = iz_xcalloc(n, sizeof *bad);
        size_t nbad = 0, nheld = 0;
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(res.body, "errors"), k, e)
        {
            const char *code = json_string_value(json_object_get(e, "code"));
            size_t i;
            if (!iz_iys_error_item(e, n, &i) || bad[i]) continue;
            if (item_held(s, j->ac, code, json_string_value(json_object_get(e, "message")),
                          j->items[i].brand_code, j->items[i].chg.type)) {
                nheld++;
                continue;
            }
            bad[i] = true;
            done[nbad] =
                (iz_outbox_done_t){ids[i], IZ_IYS_REJECTED, NULL, code ? code : res.code, 0};
            created[nbad++] = j->items[i].chg.creation_ms;
        }
        if (nbad == 0 && nheld == 0) {
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
        int64_t *held = iz_xcalloc(n, sizeof *held);
        size_t nd = 0, nh = 0, k;
        json_t *item;
        json_array_foreach(res.body, k, item)
        {
            iz_iys_item_t it;
            iz_iys_item_read(item, &it);
            if (it.state == IZ_IYS_ITEM_UNREAD || it.state == IZ_IYS_ITEM_PENDING ||
                it.index >= BULK_MAX || !by_index[it.index])
                continue; /* "enqueue": not processed yet */
            const iz_outbox_row_t *row = by_index[it.index];
            if (it.state == IZ_IYS_ITEM_SUCCESS) {
                done[nd] = (iz_outbox_done_t){row->log_id, IZ_IYS_ACCEPTED, it.txid ? it.txid : "",
                                              NULL, it.created};
            } else {
                if (item_held(s, j->ac, it.code, it.message, j->req.brand_code, it.type)) {
                    /* Refused for the account's sake when İYS applied it
                     * (a subscription paused meanwhile): it waits. */
                    held[nh++] = row->log_id;
                    by_index[it.index] = NULL;
                    continue;
                }
                done[nd] = (iz_outbox_done_t){row->log_id, IZ_IYS_REJECTED, NULL,
                                              it.code ? it.code : "failure", 0};
            }
            created[nd++] = row->creation_ms;
            by_index[it.index] = NULL;
        }
        finish_many(s, done, created, nd);
        if (nh && (rc = iz_store_outbox_retry_many(s->st, held, nh, now, "held by İYS")) != 0)
            log_store_error("hold changes", rc);
        free(held);
        free(done);
        free(created);
        if (nd + nh < n) {
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
        /* İYS refuses to tell (an expired or foreign request, or the
         * account is held: standing.h): send the changes again,
         * idempotently. */
        account_ok(s, j->ac);
        held_by_answer(s, j->ac, &res, j->req.brand_code, IZ_TYPE_NONE);
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

/* Whether the engine is stopping (for long jobs that check between steps). */
static bool stopping(iz_sync_t *s)
{
    pthread_mutex_lock(&s->mu);
    bool st = s->stop;
    pthread_mutex_unlock(&s->mu);
    return st;
}

static void run_pull(iz_sync_t *s, job_t *j)
{
    static const char *const sources[] = {"IYS", "HS"};
    const iz_brand_t *brand = &j->brand;
    const char *source = sources[j->source];
    char cursor[300];
    if (iz_store_cursor_get(s->st, brand->id, source, cursor, sizeof cursor) != 0) return;
    /* (A stop waits for the page in hand, not for the rest: the cursor
     * is where the next start goes on.) */
    for (int page = 0; page < PULL_PAGES && !stopping(s); page++) {
        iz_iys_res_t res = {0};
        count_request(s, IZ_REQ_PULL);
        iz_iys_changes(j->ac->cli, brand->code, source, cursor, PULL_LIMIT, &res);
        if (res.cls != IZ_IYS_OK) {
            if (res.cls == IZ_IYS_PERMANENT &&
                !held_by_answer(s, j->ac, &res, brand->code, IZ_TYPE_NONE))
                iz_logf(IZ_LOG_WARN, "sync", "İYS refused the change pull",
                        "brand=%lld source=%s code=%s message=%s", (long long)brand->code, source,
                        res.code, res.message);
            else if (res.token_failed || res.http == 401)
                after_failure(s, j->ac, &res, 0);
            iz_iys_res_clear(&res);
            break;
        }
        account_ok(s, j->ac);
        const char *after;
        json_t *list = iz_iys_page_read(res.body, &after, sizeof cursor);
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
        if (after) {
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

/* Read an account's HS subscription: its state and, for the provider
 * itself, the consent limit and its use decide its hold. */
static void run_subscription(iz_sync_t *s, job_t *j)
{
    acct_t *ac = j->ac;
    iz_iys_res_t res = {0};
    count_request(s, IZ_REQ_SUBSCRIPTION);
    iz_iys_subscription(ac->cli, &res);
    int64_t now = now_ms();
    iz_sub_t sub;
    bool parsed = res.cls == IZ_IYS_OK && iz_standing_sub_parse(res.body, &sub) == 0;
    if (res.cls == IZ_IYS_OK || res.cls == IZ_IYS_PERMANENT)
        account_ok(s, ac);
    else if (res.token_failed || res.http == 401)
        after_failure(s, ac, &res, 0);
    pthread_mutex_lock(&s->mu);
    ac->sub_running = false;
    ac->sub_done = true;
    if (parsed) {
        ac->sub = sub;
        ac->sub_read = true;
        ac->sub_checked_ms = now;
        iz_hold_t h = iz_standing_sub_hold(&sub, false);
        /* İYS shows a partner no figures: an H525 it answered holds the
         * new consents until the next regular read. */
        if (h == IZ_HOLD_NONE && sub.consent_limit < 0 && now < ac->limit_until_ms)
            h = IZ_HOLD_LIMIT_FULL;
        else if (sub.consent_limit >= 0 || h != IZ_HOLD_NONE)
            ac->limit_until_ms = 0;
        if (h == IZ_HOLD_LIMIT_FULL && sub.consent_limit > 0)
            snprintf(ac->detail, sizeof ac->detail,
                     "%lld of %lld consent records used, no consentLimitExceed: new consents "
                     "wait, RETs still go",
                     (long long)sub.used, (long long)sub.consent_limit);
        else if (h != IZ_HOLD_NONE && h != ac->sub_hold)
            snprintf(ac->detail, sizeof ac->detail, "İYS subscription %s", sub.status);
        ac->sub_hold = h;
    } else if (res.cls == IZ_IYS_PERMANENT) {
        /* 404 H437: no subscription; H520/H521 here are a partner's own
         * (the provider's query answers in every state), H353 the user's
         * rights. Another code is not a reason to stop. */
        iz_hold_t h = iz_standing_hold_of_code(res.code, res.message);
        partner_t *p = ac->partner;
        ac->sub_checked_ms = now;
        if (strcmp(res.code, "H437") == 0) {
            memset(&ac->sub, 0, sizeof ac->sub);
            iz_strlcpy(ac->sub.status, "NONE", sizeof ac->sub.status);
            ac->sub.consent_limit = ac->sub.used = ac->sub.limit_exceed = -1;
            ac->sub_read = true;
        }
        if (h != IZ_HOLD_NONE)
            snprintf(ac->detail, sizeof ac->detail, "İYS answered %s: %s", res.code, res.message);
        else
            iz_logf(IZ_LOG_WARN, "sync", "İYS refused the subscription query",
                    "account=%s code=%s message=%s", ac->name, res.code, res.message);
        if (p && h >= IZ_HOLD_PARTNER_PAUSED && h <= IZ_HOLD_PARTNER_NONE) {
            p->hold = h;
            iz_strlcpy(p->detail, ac->detail, sizeof p->detail);
            h = IZ_HOLD_NONE;
        }
        ac->sub_hold = h;
    }
    standing_update(s, ac, now);
    ac->sub_next_ms = res.cls == IZ_IYS_TRANSIENT ? now + STANDING_RETRY_MS
                                                  : next_read(s, ac->hold != IZ_HOLD_NONE, now);
    pthread_mutex_unlock(&s->mu);
    iz_iys_res_clear(&res);
}

/* Read the partner's listing, all its pages, into *grants; 0, or the
 * failing answer in res. */
static int read_listing(iz_sync_t *s, iz_iys_t *cli, iz_grant_t **grants, size_t *n,
                        iz_iys_res_t *res)
{
    size_t skipped = 0;
    int offset = 0;
    for (int page = 0; page < PARTNER_PAGES; page++) {
        if (page > 0) count_request(s, IZ_REQ_PARTNER);
        iz_iys_partner_brands(cli, offset, 100, res);
        if (res->cls != IZ_IYS_OK) return -1;
        json_t *list = json_object_get(res->body, "list");
        json_int_t total = json_integer_value(
            json_object_get(json_object_get(res->body, "pagination"), "totalCount"));
        size_t got = json_array_size(list);
        if (iz_standing_grants_parse(list, grants, n, &skipped) != 0) {
            res->cls = IZ_IYS_TRANSIENT;
            snprintf(res->message, sizeof res->message, "a listing without its list");
            return -1;
        }
        iz_iys_res_clear(res);
        offset += (int)got;
        if (got == 0 || offset >= total) break;
    }
    if (skipped)
        iz_logf(IZ_LOG_WARN, "sync", "İYS partner listing items izin cannot read", "skipped=%zu",
                skipped);
    return 0;
}

/* Read a partner's own subscription and, while it is ACTIVE, the brands
 * that authorized it, for every account of it on the URL. */
static void run_partner(iz_sync_t *s, job_t *j)
{
    partner_t *p = j->ac->partner;
    iz_iys_t *cli = j->ac->cli;
    iz_iys_res_t res = {0};
    count_request(s, IZ_REQ_PARTNER);
    iz_iys_partner_subscription(cli, &res);
    int64_t now = now_ms();
    iz_sub_t sub = {0};
    iz_hold_t h = IZ_HOLD_NONE;
    bool answered = res.cls != IZ_IYS_TRANSIENT;
    char detail[320] = "";
    if (res.cls == IZ_IYS_OK && iz_standing_sub_parse(res.body, &sub) == 0) {
        h = iz_standing_sub_hold(&sub, true);
        if (h != IZ_HOLD_NONE)
            snprintf(detail, sizeof detail, "the İYS partner's own subscription is %s", sub.status);
    } else if (res.cls == IZ_IYS_PERMANENT) {
        if (strcmp(res.code, "H437") == 0) {
            iz_strlcpy(sub.status, "NONE", sizeof sub.status);
            h = IZ_HOLD_PARTNER_NONE;
        } else {
            /* H522: the credentials are not a partner's; H353: the code
             * is another partner's. Every call would fail the same way. */
            h = iz_standing_hold_of_code(res.code, res.message);
            if (h == IZ_HOLD_NONE &&
                (strcmp(res.code, "H522") == 0 || strcmp(res.code, "H353") == 0))
                h = IZ_HOLD_NOT_AUTHORIZED;
        }
        snprintf(detail, sizeof detail, "İYS answered %s: %s", res.code, res.message);
        iz_logf(IZ_LOG_WARN, "sync", "İYS refused the partner subscription query",
                "integrator=%lld code=%s message=%s", (long long)p->code, res.code, res.message);
    } else if (res.token_failed || res.http == 401) {
        after_failure(s, j->ac, &res, 0);
    }
    if (answered) account_ok(s, j->ac);
    iz_iys_res_clear(&res);
    iz_grant_t *grants = NULL;
    size_t ng = 0;
    bool listed = false;
    if (answered && h == IZ_HOLD_NONE) {
        if (read_listing(s, cli, &grants, &ng, &res) == 0) {
            listed = true;
        } else {
            /* İYS offers the listing in production only: without it
             * nothing is held for rights, İYS's answers tell. */
            if (res.cls == IZ_IYS_PERMANENT)
                iz_logf(IZ_LOG_WARN, "sync", "İYS refused the partner's brand listing",
                        "integrator=%lld code=%s message=%s", (long long)p->code, res.code,
                        res.message);
            iz_iys_res_clear(&res);
        }
    }
    pthread_mutex_lock(&s->mu);
    p->running = false;
    p->done = true;
    if (answered) {
        p->hold = h;
        iz_strlcpy(p->status, sub.status, sizeof p->status);
        iz_strlcpy(p->detail, detail, sizeof p->detail);
        p->checked_ms = now;
    }
    if (listed) {
        free(p->grants);
        p->grants = grants;
        p->ngrants = ng;
        p->listed = true;
        grants = NULL;
    }
    bool held = p->hold != IZ_HOLD_NONE;
    for (size_t i = 0; i < s->naccts; i++) {
        acct_t *ac = s->accts[i];
        if (ac->partner != p) continue;
        standing_update(s, ac, now);
        held = held || ac->hold != IZ_HOLD_NONE || ac->nheld > 0;
    }
    p->next_ms = answered ? next_read(s, held, now) : now + STANDING_RETRY_MS;
    pthread_mutex_unlock(&s->mu);
    free(grants);
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
        case IZ_REQ_SUBSCRIPTION:
            run_subscription(s, j);
            break;
        case IZ_REQ_PARTNER:
            run_partner(s, j);
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
    if (s->conf.standing_interval <= 0) s->conf.standing_interval = 600;
    /* The partner credentials are kept here (the caller's may go). */
    s->conf.integrator_user =
        conf->integrator_user && *conf->integrator_user ? iz_xstrdup(conf->integrator_user) : NULL;
    if (conf->integrator_password)
        iz_strlcpy(s->integrator_password, conf->integrator_password,
                   sizeof s->integrator_password);
    s->conf.integrator_password = NULL;
    s->rnd = (unsigned)now_ms();
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->wake_mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_cond_init(&s->jobs_cv, NULL);
    /* Rows a stopped process left SENDING go again when this node starts
     * to send (take_lead: at once without a cluster). Subscribed before
     * the threads run: the list must not change under a commit, and the
     * senders' pulls commit. */
    int rc = iz_store_subscribe(s->st, on_commit, s);
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
        free(s->accts[i]->held);
        free(s->accts[i]->standing);
        free(s->accts[i]);
    }
    free(s->accts);
    for (size_t i = 0; i < s->npartners; i++) {
        iz_iys_auth_free(s->partners[i]->auth);
        free(s->partners[i]->grants);
        free(s->partners[i]);
    }
    free(s->partners);
    free((char *)s->conf.integrator_user);
    iz_wipe(s->integrator_password, sizeof s->integrator_password);
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

json_t *iz_sync_standing(iz_sync_t *s, int64_t account_id)
{
    if (!s) return NULL;
    pthread_mutex_lock(&s->mu);
    json_t *o = standing_json(s, account(s, account_id));
    pthread_mutex_unlock(&s->mu);
    return o;
}

json_t *iz_sync_standings(iz_sync_t *s)
{
    json_t *list = json_array();
    if (!s) return list;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->naccts; i++)
        json_array_append_new(list, standing_json(s, s->accts[i]));
    pthread_mutex_unlock(&s->mu);
    return list;
}
