/*
 * sim_int.h - what the emulator's files share; private to src/sim/.
 *
 * Files:
 *   sim.c        open/close, the route table, config defaults
 *   iys_api.c    /oauth2/token and the consent calls under /sps/... and /v2/sps/...
 *   bulk.c       the worker that processes async bulk requests
 *   push.c       push registrations (POST, GET .../push/registration,
 *                .../push/unregistration) and the worker that delivers IYS_*
 *                changes to them
 *   recon.c      reconciliation (mutabakat): the day-end worker writing each
 *                brand's daily change file, its hash and timestamp; the
 *                .../changes/{reportDate}/... and .../agreements/... calls
 *   info.c       /info/city and /info/town (data/tr-cities.tsv, tr-towns.tsv)
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
 *   retailers.c  retailers (bayi), their access to consents, and the
 *                retailer fields of the consent adds
 *   viaflow.c    ViA and ViA Pass processes (codes, links, messages, recording
 *                what the person agreed to), the person's /s/{code} page,
 *                /_sim/via/..., /_sim/otp...
 *   via.c        ViA: /via/sps/{iysCode}/..., the ViA Frame widget /widget/...,
 *                e-mail opt-out links (.../via-hash-links, the /RET/{hash} page)
 *   otp.c        OTP management (ViA Pass): /otp-management/api/v1/...
 *   simstore.c   the persistent store (simstore.h)
 *   viastore.c   the via_* tables of that store (viastore.h)
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
    pthread_t bulk_thread, push_thread, recon_thread;
    bool bulk_started, push_started, recon_started;
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

/* sim.c: a worker's wait of ms milliseconds between rounds; true when the
 * emulator is stopping (at once when it is). And the CLOCK_REALTIME time
 * ms from now, for pthread_cond_timedwait. */
bool iz__sim_nap(iz_sim_t *sim, long ms);
struct timespec;
void iz__sim_deadline_after_ms(struct timespec *ts, long ms);

/* recon.c: start the day-end worker (stopped by iz_sim_close). */
int iz__sim_recon_start(iz_sim_t *sim);

/* retailers.c: a consent's retailer fields. code is its retailerCode (0 =
 * none); access its retailerAccess list as given (a duplicate does no
 * harm). A value that cannot name a retailer (a number below 1, a string
 * that is not one) is kept as -1, which the store's check answers H180. */
#define IZ_SIM_RETAILER_ACCESS_MAX 100 /* H126 above */
typedef struct iz__sim_retail {
    int64_t code;
    size_t n;
    int64_t access[IZ_SIM_RETAILER_ACCESS_MAX];
} iz__sim_retail_t;

/* iys_api.c, shared with bulk.c, push.c and retailers.c */
/* Parse and validate one consent object as İYS does (phones only in
 * E.164 form; the retailer fields into *rt, as iz__sim_retail_parse): 0,
 * or IZ_ERULE with every failure in errs. */
int iz__sim_consent_parse(json_t *item, int64_t now, iz_consent_t *out, iz__sim_retail_t *rt,
                          iz_verrs_t *errs);
/* The bearer token's provider into *iys_code; else answers 401 H351 (or
 * 500 H015) and returns non-zero. */
int iz__sim_bearer(iz_req_t *r, iz_sim_t *sim, int64_t *iys_code);
/* Answer one field error: code's status, message (NULL: the code's own),
 * location and the offending value as a string (may be NULL). */
void iz__sim_field_error(iz_req_t *r, const char *code, const char *message, const char *location,
                         const char *value);

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
int iz__sim_record(iz_sim_t *sim, const iz_sim_provider_t *prov, const iz_consent_t *c, int64_t now,
                   bool idempotent, iz_sim_change_t *chg, const char **hcode);
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
void iz__sim_admin_field_error(iz_req_t *r, const char *field, const char *tr, const char *en);
void iz__sim_conflict(iz_req_t *r, const char *field, const char *tr, const char *en);
json_t *iz__sim_body_object(iz_req_t *r);
bool iz__sim_positive_code(json_t *v, int64_t *out);
/* A printable, non-empty name that fits the store's columns. */
bool iz__sim_good_name(json_t *v);
/* The name, username and password of an account's body: 0, or answers
 * 422 IZ422 naming the first bad one and returns -1. */
int iz__sim_check_account(iz_req_t *r, json_t *body);
int iz__sim_check_subscription(iz_req_t *r, json_t *v, iz_sub_t *out);

/* The {type, recipientType, recipient} of a query. */
typedef struct iz__sim_keyq {
    iz_type_t type;
    iz_rtype_t rtype;
    char recipient[IZ_RECIPIENT_MAX];
} iz__sim_keyq_t;
/* Parse a query's {type, recipient, recipientType} (all three required);
 * answers the errors itself and returns non-zero. */
int iz__sim_key_query(iz_req_t *r, json_t *body, iz__sim_keyq_t *q);
/* The body's type (true when valid) and recipientType into q; a failure's
 * code (H111 H117, H170 H116) appended to errs. */
bool iz__sim_parse_type(json_t *body, iz__sim_keyq_t *q, iz_verrs_t *errs);
void iz__sim_parse_rtype(json_t *body, iz__sim_keyq_t *q, iz_verrs_t *errs);
/* Normalize one queried recipient of a type into out: NULL, or the H-code
 * (H120 H121 H166 ...). */
const char *iz__sim_query_recipient(json_t *v, iz_type_t type, char out[IZ_RECIPIENT_MAX]);
/* limit and offset of a listing's query (limit 1..max; a bad limit answers
 * bad_limit, a bad offset bad_offset: the calls' examples differ). 0, or -1
 * when the answer is sent. */
int iz__sim_paging(iz_req_t *r, int64_t max, const char *bad_limit, const char *bad_offset,
                   int64_t *limit, int64_t *offset);
/* İYS's "YYYY-MM-DD hh:mm:ss" of t (new reference); a random UUID. */
json_t *iz__sim_tr_date(int64_t t);
void iz__sim_uuid4(char out[37]);

/* retailers.c, used by iys_api.c and bulk.c */
/* The retailerCode and retailerAccess fields of a consent object into *rt,
 * each failure appended to errs: H266 (retailerCode null), H267 (an empty
 * string), H085 (another kind of value), H169 (retailerAccess null), H163
 * (an empty list), H126 (over 100), H085 (not a list). */
void iz__sim_retail_parse(json_t *item, iz__sim_retail_t *rt, iz_verrs_t *errs);
/* Record a consent as iz__sim_record does, with its retailers: they are
 * checked first (IZ_ERULE with *hcode H180 or H353 and *bad the index in
 * rt->access, rt->n for the retailerCode), then the change is recorded,
 * then the retailers are given access (also to a repeated change). The
 * caller holds a store batch, so that the change and the access are one
 * transaction. rt NULL or empty: iz__sim_record. */
int iz__sim_record_retail(iz_sim_t *sim, const iz_sim_provider_t *prov, const iz_consent_t *c,
                          const iz__sim_retail_t *rt, int64_t now, bool idempotent,
                          iz_sim_change_t *chg, const char **hcode, size_t *bad);
/* The error object (new reference) of a retailer refusal hcode of item
 * (its location and value named by bad, as iz__sim_record_retail sets it;
 * index >= 0: a bulk item's); NULL when hcode is not a retailer's. */
json_t *iz__sim_retail_error(iz_req_t *r, const char *hcode, json_t *item,
                             const iz__sim_retail_t *rt, size_t bad, int index);
/* Check the retailers of n bulk items (body's elements) against the brand;
 * answers 403 with an error for each item that names a retailer not of
 * the brand and returns non-zero. */
int iz__sim_retail_check_items(iz_req_t *r, iz_sim_t *sim, const iz__sim_auth_t *a, json_t *body,
                               const iz__sim_retail_t *rts, size_t n);
/* Put rt's fields into a stored bulk item (obj), as the bulk worker reads
 * them back through iz__sim_consent_parse. */
void iz__sim_retail_store(const iz__sim_retail_t *rt, json_t *obj);
/* Add retailerCode, retailerTitle and retailerAccessCount to a consent's
 * status answer out, as İYS shows them (nothing when the consent has no
 * retailer). 0, or the store's failure. */
int iz__sim_retail_status(iz_sim_t *sim, const iz_sim_change_t *cur, json_t *out);
/* iys_api.c, shared with via.c and otp.c */
/* The provider whose valid access token the request's bearer carries: 0
 * with *owner, IZ_ENOTFOUND when there is none, or a store error. */
int iz__sim_token_owner(iz_req_t *r, iz_sim_t *sim, int64_t *owner);

/* ---- viaflow.c: ViA and ViA Pass processes ---- */

/* What starts a process; every pointer is borrowed. */
typedef struct iz__via_start {
    const char *service;       /* "VIA", "WIDGET" or "PASS" */
    int64_t iys_code;          /* the provider */
    const char *form_id;       /* the ViA form, or the ViA Pass templateId */
    const char *verification;  /* SMS_OTP, SMS_SHORTURL, EPOSTA_OTP, EPOSTA_SHORTURL,
                                  EPOSTA_APPROVALURL */
    const char *recipient;     /* normalized: E.164 phone or e-mail */
    json_t *etk;               /* {brandCodes, types, recipientType} or NULL */
    json_t *kvk;               /* {types, personData} or NULL */
    json_t *consent;           /* PASS: the template's {brandCode, types, recipientType} */
    const char *template_text; /* PASS: the template's text ({{otp}}, {{link}}) or NULL */
    const char *cookie_key;    /* WIDGET: the widget's cookie key, or NULL */
} iz__via_start_t;

/* Start a process: its codes or short link, the messages sent (one
 * credit each, from the provider's ViA subscription) and the process, in
 * one transaction. 0 with its requestId (and short code, "" for an OTP);
 * IZ_ERULE with *hcode "H1015" when the credit is not enough; else a store
 * error. r gives the emulator's address for the link. */
int iz__via_start(iz_sim_t *sim, iz_req_t *r, const iz__via_start_t *s, char request_id[37],
                  char short_code[16], const char **hcode);

typedef enum {
    IZ__VIA_OK,       /* completed: consents recorded */
    IZ__VIA_NOTFOUND, /* no such process of this provider and service */
    IZ__VIA_MISMATCH, /* another verificationType than the process's */
    IZ__VIA_PENDING,  /* a short link the person has not confirmed yet */
    IZ__VIA_DONE,     /* completed already */
    IZ__VIA_EXPIRED,  /* the code's or link's time is over */
    IZ__VIA_LOCKED,   /* ended by too many wrong codes */
    IZ__VIA_WRONG,    /* a wrong code (counted) */
    IZ__VIA_TITLES,   /* the codes given do not match the process's titles */
    IZ__VIA_QUOTA,    /* a new consent over the provider's quota (H1031) */
    IZ__VIA_FAIL      /* a store failure */
} iz__via_outcome_t;

/* A completion with codes. */
typedef struct iz__via_complete {
    const char *request_id;
    int64_t owner;            /* the provider asking (0: any, for the widget) */
    const char *service;      /* the service the process must be of */
    const char *verification; /* must equal the process's, NULL: not checked */
    const char *const *titles;
    const char *const *codes;
    size_t n;
} iz__via_complete_t;

/* Check the codes and complete: IZ__VIA_OK with *out the results (new
 * reference: [{consentType, brandCode?, type, transactionId,
 * creationDate}]), IZ__VIA_WRONG with *out the wrong code given, else
 * *out NULL. */
iz__via_outcome_t iz__via_complete(iz_sim_t *sim, const iz__via_complete_t *c, json_t **out);

/* A process's state marked expired when its time is over and it is not
 * completed; true when it changed. */
bool iz__via_expire(json_t *state, int64_t now);
/* Answer the process's summary file (a .zip, İYS's "işlem dosyası"). */
void iz__via_reply_file(iz_req_t *r, iz_sim_t *sim, const char *request_id, json_t *state);
/* Small shared pieces: the clock in ms; İYS's date text of ms
 * ("2024-07-09 10:43:16.038"; of seconds: iz__sim_tr_date); a string member ("" when
 * absent); SMS_* or EPOSTA_*, *_OTP or a link; "http://host:port" of the
 * request (r's arena). */
int64_t iz__via_now_ms(void);
json_t *iz__via_date_ms(int64_t ms);
const char *iz__via_str(json_t *o, const char *key);
bool iz__via_is_sms(const char *verification);
bool iz__via_is_otp(const char *verification);
const char *iz__via_base_url(iz_req_t *r);

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
/* push.c */
void iz__sim_h_push_register(iz_req_t *r, void *app);
void iz__sim_h_push_list(iz_req_t *r, void *app);
void iz__sim_h_push_unregister(iz_req_t *r, void *app);
/* recon.c */
void iz__sim_h_recon_file(iz_req_t *r, void *app);      /* GET .../changes/{d}/file */
void iz__sim_h_recon_summary(iz_req_t *r, void *app);   /* GET .../changes/{d}/recipients/{t} */
void iz__sim_h_recon_get(iz_req_t *r, void *app);       /* GET .../agreements/{d} */
void iz__sim_h_recon_put(iz_req_t *r, void *app);       /* PUT .../agreements/{d} */
void iz__sim_h_recon_timestamp(iz_req_t *r, void *app); /* GET .../agreements/{d}/timestamp */
void iz__sim_h_day_end(iz_req_t *r, void *app);         /* POST /_sim/end-of-day */
void iz__sim_h_tsa_cert(iz_req_t *r, void *app);        /* GET /_sim/tsa-certificate */
/* info.c */
void iz__sim_h_cities(iz_req_t *r, void *app);
void iz__sim_h_city(iz_req_t *r, void *app);
void iz__sim_h_towns(iz_req_t *r, void *app);
void iz__sim_h_town(iz_req_t *r, void *app);
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
void iz__sim_h_grant_withdraw(iz_req_t *r, void *app);
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
/* retailers.c */
void iz__sim_h_retailer_create(iz_req_t *r, void *app);
void iz__sim_h_retailer_list(iz_req_t *r, void *app);
void iz__sim_h_retailer_get(iz_req_t *r, void *app);
void iz__sim_h_retailer_delete(iz_req_t *r, void *app);
void iz__sim_h_access_add(iz_req_t *r, void *app);        /* addRetailers */
void iz__sim_h_access_override(iz_req_t *r, void *app);   /* overrideRetailers */
void iz__sim_h_access_list(iz_req_t *r, void *app);       /* searchRetailersOfOneConsent */
void iz__sim_h_access_remove(iz_req_t *r, void *app);     /* removeRelationBetweenRetailer */
void iz__sim_h_access_remove_all(iz_req_t *r, void *app); /* ...AndConsents */
void iz__sim_h_sim_access(iz_req_t *r, void *app);        /* GET /_sim/retailers/access */
/* viaflow.c */
void iz__sim_h_link_page(iz_req_t *r, void *app); /* GET /s/{code} */
void iz__sim_h_link_post(iz_req_t *r, void *app); /* POST /s/{code} */
void iz__sim_h_via_sub_put(iz_req_t *r, void *app);
void iz__sim_h_via_form_put(iz_req_t *r, void *app);
void iz__sim_h_otp_template_put(iz_req_t *r, void *app);
void iz__sim_h_via_widget_put(iz_req_t *r, void *app);
void iz__sim_h_otp_messages(iz_req_t *r, void *app);
/* via.c */
void iz__sim_h_via_start(iz_req_t *r, void *app);
void iz__sim_h_via_confirm(iz_req_t *r, void *app);
void iz__sim_h_via_request(iz_req_t *r, void *app);
void iz__sim_h_via_kvk(iz_req_t *r, void *app);
void iz__sim_h_via_kvk_search(iz_req_t *r, void *app);
void iz__sim_h_via_file(iz_req_t *r, void *app);
void iz__sim_h_widget_loader(iz_req_t *r, void *app);
void iz__sim_h_widget_key(iz_req_t *r, void *app);
void iz__sim_h_widget_load(iz_req_t *r, void *app);
void iz__sim_h_widget_start(iz_req_t *r, void *app);
void iz__sim_h_widget_complete(iz_req_t *r, void *app);
void iz__sim_h_hash_links(iz_req_t *r, void *app);
void iz__sim_h_ret_page(iz_req_t *r, void *app); /* GET /RET/{hash} */
void iz__sim_h_ret_post(iz_req_t *r, void *app); /* POST /RET/{hash} */
/* otp.c */
void iz__sim_h_otp_start(iz_req_t *r, void *app); /* sms/email, OTP/short-url (path tells) */
void iz__sim_h_otp_complete(iz_req_t *r, void *app);
void iz__sim_h_otp_file(iz_req_t *r, void *app);
void iz__sim_h_otp_history(iz_req_t *r, void *app);
void iz__sim_h_otp_subscription(iz_req_t *r, void *app);

#endif
