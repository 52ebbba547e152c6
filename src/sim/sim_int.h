/*
 * sim_int.h - what the emulator's files share; private to src/sim/.
 *
 * Files:
 *   sim.c        open/close, the route table, config defaults
 *   iys_api.c    /oauth2/token and the consent calls under /sps/... and /v2/sps/...
 *   bulk.c       the worker that processes async bulk requests
 *   push.c       the worker that delivers IYS_* changes to registered push URLs
 *   gate.c       rate limits, injected faults, statistics, the 70% watch
 *   admin.c      /_sim/providers, /_sim/faults, /_sim/stats
 *   accounts.c   tokens (JWT), who may call what (providers' own tokens,
 *                integrators acting for providers, subscriptions), the brand,
 *                subscription and integrator calls of İYS's API
 *   accounts_admin.c /_sim/integrators and /_sim/providers/{iysCode}/subscription
 *   jwt.c        HS256 JSON Web Tokens (jwt.h)
 *   simstore_accounts.c the store's accounts part (simstore.h)
 *   citizen.c    /vatandas (web page) and /_sim/citizen/... (JSON)
 *   complaints.c /_sim/complaints and the authority view
 *   simstore.c   the persistent store (simstore.h)
 */
#ifndef IZ_SIM_INT_H
#define IZ_SIM_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "net/client.h"
#include "net/page.h"
#include "net/ratelimit.h"
#include "sim/sim.h"
#include "sim/simstore.h"

/* In-memory state of gate.c (rate limits, faults, statistics); opaque to
 * the other files. */
typedef struct iz_sim_ops iz_sim_ops_t;

struct iz_sim {
    iz_sim_config_t cfg;
    iz_sim_store_t *st;
    iz_sim_ops_t *ops;

    /* the citizen's and the authority's pages (citizen.c) */
    iz_page_site_t site;
    iz_ratelimit_t *page_posts;

    /* workers */
    pthread_mutex_t mu;
    pthread_cond_t wake;
    bool stopping;
    pthread_t bulk_thread, push_thread;
    bool bulk_started, push_started;
    iz_httpc_t *push_http; /* push.c's outbound client; freed by iz_sim_close */

    uint8_t jwt_key[32]; /* the tokens' signing key (from the store; accounts.c) */
};

/* gate.c: the gate's state for the limits in cfg (read once: they do not
 * change while the emulator runs). 0 with *out, or IZ_EIO when there is no
 * randomness for the per-second limiter's hash key. */
int iz__sim_ops_new(const iz_sim_config_t *cfg, iz_sim_ops_t **out);
void iz__sim_ops_free(iz_sim_ops_t *ops);

/* Injected faults (PUT /_sim/faults): each 0 is off. The two windows are
 * absolute epoch seconds. */
typedef struct iz__sim_faults {
    int latency_ms;
    double error_rate; /* 0..1 of İYS API answers become 500 H015 / 503 H192 */
    int64_t until_429; /* 429 H124 to every İYS API call until then */
    int64_t outage_until;
} iz__sim_faults_t;
/* Replace the active faults. */
void iz__sim_faults_set(iz_sim_ops_t *ops, const iz__sim_faults_t *f);
/* The active faults as JSON (windows as seconds left); new reference. */
json_t *iz__sim_faults_json(iz_sim_ops_t *ops);
/* GET /_sim/stats's body; new reference. */
json_t *iz__sim_stats_json(iz_sim_t *sim);

/* citizen.c: the emulator's Turkish pages are one site of the page kit
 * (net/page.h): its brand text and CSS, and a per-IP limit on the pages'
 * POSTs (sim->page_posts). Set up by iz_sim_open, freed by iz_sim_close. */
int iz__sim_pages_open(iz_sim_t *sim);
void iz__sim_pages_close(iz_sim_t *sim);
/* "SMS", "Arama", "E-posta". */
const char *iz__sim_channel(iz_type_t t);

/* bulk.c: start/stop the worker; wake it when a request was stored. */
int iz__sim_bulk_start(iz_sim_t *sim);
void iz__sim_bulk_wake(iz_sim_t *sim);
/* Process one stored request now (used by the worker; also at start-up for
 * requests left unprocessed by a restart). */
int iz__sim_bulk_process(iz_sim_t *sim, const char *request_id);

/* push.c */
int iz__sim_push_start(iz_sim_t *sim);
/* POST a JSON body to url with HTTP Basic auth and a 5 s timeout: 0 on a
 * 2xx answer, IZ_EBUSY on a timeout, IZ_EIO on anything else. */
int iz__sim_push_post(iz_sim_t *sim, const char *url, const char *user, const char *pass,
                      const char *body);

/* iys_api.c, shared with bulk.c and push.c */
/* Parse and validate one consent object as İYS does (retailerCode and
 * retailerAccess accepted and ignored; phones only in E.164 form): 0, or
 * IZ_ERULE with every failure in errs. */
int iz__sim_consent_parse(json_t *item, int64_t now, iz_consent_t *out, iz_verrs_t *errs);
/* A change as İYS's change pull shows it (new reference). */
json_t *iz__sim_change_json(const iz_sim_change_t *c);

/* The İYS consent rules as the emulator applies them (İYS refuses H175,
 * unlike the module): an iz_sim_rule_fn whose ctx is an iz__sim_rule_ctx. */
typedef struct iz__sim_rule_ctx {
    const iz_consent_t *c;
    iz_rules_ctx_t rules;
    int64_t quota; /* provider's quota, 0 = none (H525 for a new record over it) */
    /* The provider's subscription when the change is a provider's (no
     * change while it is not ACTIVE: H524 H520 H521, checked again at the
     * write, as a bulk item is applied long after its request was taken). */
    bool check_sub;
    iz_sub_t sub;
} iz__sim_rule_ctx_t;
int iz__sim_rule(void *ctx, const iz_current_t *cur, int64_t provider_records, const char **hcode);
/* The brand a citizen's page form names: its iysCode and brandCode fields
 * (*siys and *sbrand get them as sent, NULL when absent) as positive
 * integers into *iys and *brand. NULL when both are, else the H-code of the
 * first that is not ("H190", "H191"). */
struct iz_form;
const char *iz__sim_form_codes(const struct iz_form *f, const char **siys, const char **sbrand,
                               int64_t *iys, int64_t *brand);

/* Record the validated consent c as a change of the brand chg names
 * (chg->iys_code, chg->brand_code; the caller may also set request_id and
 * citizen_name, the rest is filled from c), judged by İYS's rules for
 * provider prov (NULL: a citizen's change: no quota, no H467) at time now.
 * Returns iz_sim_consent_apply's result; chg is the change as stored (or
 * the one repeated). */
int iz__sim_record(iz_sim_t *sim, const iz_sim_provider_t *prov, const iz_consent_t *c,
                   int64_t now, bool idempotent, iz_sim_change_t *chg, const char **hcode);
/* Set up a rule context for provider prov (its quota and activation date;
 * NULL = neither) judging c at time now. */
void iz__sim_rule_init(iz__sim_rule_ctx_t *ctx, const iz_sim_t *sim, const iz_sim_provider_t *prov,
                       const iz_consent_t *c, int64_t now);

/* accounts.c: who calls. What authorize found out about a call under
 * /sps/{iysCode}/...: the path's codes, the provider, and the integrator
 * acting for it (0 when the call comes with the provider's own token) with
 * its grant on the brand. */
typedef struct iz__sim_auth {
    int64_t iys, brand;
    iz_sim_provider_t prov;
    int64_t integrator;
    iz_sim_grant_t grant;
} iz__sim_auth_t;

enum {
    IZ__AUTH_BRAND = 1,   /* the path has {brandCode}: check it too */
    IZ__AUTH_SUBQUERY = 2 /* the subscription query: answers in every state */
};
/* Check what İYS checks before a call under /sps/{iysCode}/..., in its
 * order: the bearer token (401 H351), integer path codes (H190/H191), whose
 * the token is (403 H353 for another provider's iysCode, or a brand an
 * integrator was not authorized for), an integrator's own subscription,
 * the provider's subscription (H524 H520 H521) and package (H586), and the
 * brand (403 H353 when it is another provider's, else 404 H018). Answers
 * the error itself and returns non-zero. */
int iz__sim_authorize(iz_req_t *r, iz_sim_t *sim, iz__sim_auth_t *a, unsigned flags);
/* Whether the caller may read (need IZ_RIGHT_READ) or write consents of
 * type: always for the provider's own token, for an integrator by its
 * grant. Answers 403 H353 and returns non-zero when not. */
int iz__sim_may(iz_req_t *r, const iz__sim_auth_t *a, iz_right_t need, iz_type_t type);
/* Whether the caller may reconcile the brand (agreementControl): always
 * for the provider, for an integrator by its grant; answers 403 H353 and
 * returns non-zero when not. For the reconciliation calls. */
int iz__sim_may_reconcile(iz_req_t *r, const iz__sim_auth_t *a);
/* Whether the caller may read consents of type (no answer made). */
bool iz__sim_can_read(const iz__sim_auth_t *a, iz_type_t type);

/* Load the signing key from the store into sim->jwt_key. */
int iz__sim_accounts_open(iz_sim_t *sim);
/* Issue and answer a new token pair (200, İYS's token answer) for a
 * provider or an integrator. */
void iz__sim_issue_tokens(iz_req_t *r, iz_sim_t *sim, iz_sim_owner_t owner, int64_t code);
/* Whose a refresh token is: its signature, then the store, which consumes
 * it (each refresh rotates it). IZ_ENOTFOUND when it is not a valid one. */
int iz__sim_refresh_owner(iz_sim_t *sim, const char *tok, size_t len, iz_sim_owner_t *owner,
                          int64_t *code);
/* A provider's subscription as İYS's subscription query shows it: to the
 * provider itself (full) or to an integrator (no limits, no credits). A
 * new reference. */
json_t *iz__sim_subscription_json(iz_sim_t *sim, const iz_sim_provider_t *p, bool full);
/* An integrator's subscription as its subscription query shows it. */
json_t *iz__sim_integrator_sub_json(const iz_sim_integrator_t *ig);
/* A grant as the integrator brand listing shows it (new reference). */
json_t *iz__sim_grant_json(const iz_sim_grant_t *g);

/* accounts_admin.c: the grants of an integrator (0: every one's) over a
 * provider (0: every one's) as the admin shows them (*out a new array). */
int iz__sim_grants_json(iz_sim_t *sim, int64_t integrator_code, int64_t iys_code, json_t **out);

/* admin.c, shared with accounts_admin.c: the /_sim/ calls' checks. */
void iz__sim_field_error(iz_req_t *r, const char *field, const char *tr, const char *en);
void iz__sim_conflict(iz_req_t *r, const char *field, const char *tr, const char *en);
json_t *iz__sim_body_object(iz_req_t *r);
bool iz__sim_positive_code(json_t *v, int64_t *out);
/* A printable, non-empty name that fits the store's columns. */
bool iz__sim_good_name(json_t *v);
/* The name, username and password of an account's body: 0, or answers
 * 422 IZ422 naming the first bad one and returns -1. */
int iz__sim_check_account(iz_req_t *r, json_t *body);
int iz__sim_check_subscription(iz_req_t *r, json_t *v, iz_sub_t *out);

/* ---- handlers (route table in sim.c) ---- */
/* iys_api.c */
void iz__sim_h_token(iz_req_t *r, void *app);
void iz__sim_h_consent_add(iz_req_t *r, void *app); /* v1 and v2 (path tells) */
void iz__sim_h_bulk_add(iz_req_t *r, void *app);
void iz__sim_h_bulk_status(iz_req_t *r, void *app);
void iz__sim_h_status(iz_req_t *r, void *app);
void iz__sim_h_multi_status(iz_req_t *r, void *app);
void iz__sim_h_history(iz_req_t *r, void *app);
void iz__sim_h_changes(iz_req_t *r, void *app);
void iz__sim_h_push_register(iz_req_t *r, void *app);
/* accounts.c */
void iz__sim_h_brands(iz_req_t *r, void *app);       /* GET /sps/{iysCode}/brands */
void iz__sim_h_subscription(iz_req_t *r, void *app); /* GET /sps/{iysCode}/subscription */
void iz__sim_h_integrator_subscription(iz_req_t *r,
                                       void *app);     /* GET /integrator/{c}/subscription */
void iz__sim_h_integrator_sps(iz_req_t *r, void *app); /* GET /integrator/{c}/sps[/{iysCode}] */
/* accounts_admin.c */
void iz__sim_h_integrators_add(iz_req_t *r, void *app);
void iz__sim_h_integrators_list(iz_req_t *r, void *app);
void iz__sim_h_integrator_sub_put(iz_req_t *r, void *app);
void iz__sim_h_grant_add(iz_req_t *r, void *app);
void iz__sim_h_grant_delete(iz_req_t *r, void *app);
void iz__sim_h_provider_sub_put(iz_req_t *r, void *app);
/* admin.c */
void iz__sim_h_providers_add(iz_req_t *r, void *app);
void iz__sim_h_providers_list(iz_req_t *r, void *app);
void iz__sim_h_provider_update(iz_req_t *r, void *app);
void iz__sim_h_faults(iz_req_t *r, void *app);
void iz__sim_h_stats(iz_req_t *r, void *app);
void iz__sim_h_healthz(iz_req_t *r, void *app);
/* citizen.c */
void iz__sim_h_citizen_post(iz_req_t *r, void *app);
void iz__sim_h_citizen_get(iz_req_t *r, void *app);
void iz__sim_h_portal(iz_req_t *r, void *app);      /* GET /vatandas */
void iz__sim_h_portal_post(iz_req_t *r, void *app); /* POST /vatandas (change/withdraw) */
/* complaints.c */
void iz__sim_h_complaint_post(iz_req_t *r, void *app);
void iz__sim_h_complaint_list(iz_req_t *r, void *app);
void iz__sim_h_complaint_page(iz_req_t *r, void *app); /* GET /vatandas/sikayet (form) */
void iz__sim_h_complaint_form(iz_req_t *r, void *app); /* POST /vatandas/sikayet */
void iz__sim_h_authority(iz_req_t *r, void *app);      /* GET /yetkili/sikayetler */

#endif
