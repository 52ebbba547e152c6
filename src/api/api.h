/*
 * api.h - the module's HTTP API (API.md, "HTTP API of izin serve"): the
 * application state the handlers share and the route table that
 * cli/serve passes to the HTTP server.
 *
 * One file per handler group: consents.c, check.c, changes.c (the changes
 * feed, İYS's push, the quarantine), sms.c, voice.c, ops.c; app.c holds
 * what they share (auth, brand resolution, the change's JSON form, field
 * errors). Every consent a handler records and every verdict it gives
 * come from the domain layer (domain/domain.h).
 */
#ifndef IZ_API_H
#define IZ_API_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/domain.h"
#include "iys/sync.h"
#include "net/http.h"
#include "core/content.h"
#include "sms/gateway.h"

typedef struct iz_app {
    iz_domain_t *dom;          /* records and judges (not owned) */
    iz_store_t *store;         /* reads: brands, history, feed (not owned; the domain's) */
    iz_sync_t *sync;           /* the sync engine, for its figures; may be NULL */
    struct iz_cluster *cluster; /* several nodes (domain/cluster.h); NULL: this node alone */
    const char *push_user;     /* HTTP Basic credentials İYS's push must carry; */
    const char *push_password; /* NULL = the push endpoint answers 401 */
    iz_sms_gateway_t *gateway; /* outbound SMS (not owned); NULL: sms/send answers 503 */
    struct iz_jobs *jobs;      /* the bulk job runner (not owned); NULL: uploads answer 503 */
    const char *spool_dir;     /* where uploads are spooled (DATA/uploads) */
    const char *gateway_token; /* the secret inbound SMS carries; NULL: inbound answers 503 */
    /* The outbound queue (not owned): set once it has started, after the
     * server (delivery reports need the server's port), hence atomic;
     * NULL: sms/send answers 503. Read it with iz_api_sms_queue(). */
    _Atomic(struct iz_sms_queue *) sms_queue;
    int sms_max_parts;         /* parts a text may have (--sms-max-parts) */
    long sms_wait_ms;          /* how long a small send waits for the gateway's answers */
    int sms_wait_max;          /* small sends that may wait at once (half the outside-call
                                  workers): a hung gateway never holds every outside call */
    atomic_int sms_waiting;
    long iys_wait_ms;          /* the time limit of an answer that waits for İYS (a deferred
                                  call, net/http.h: retailers, the consent page's OTP) */
    /* The server answering, for its connection figures: set once it has
     * started, while requests may already run (hence atomic); NULL before. */
    _Atomic(iz_http_t *) http;
    /* The consent page's state (api/cpage.h): set once the server has
     * started (the default link needs its port), hence atomic; NULL: /c/
     * answers 404. */
    _Atomic(struct iz_cpage *) cpage;
    /* The webhook delivery engine (hook/webhook.h, not owned): set before
     * the server starts, cleared before it stops; NULL: the webhook
     * endpoints answer 503. */
    _Atomic(struct iz_hook *) hook;
    /* The customer's panel (web/panel.h): set before the server starts;
     * NULL: /panel answers 404. */
    struct iz_panel *panel;
    /* A shared store (PostgreSQL): API keys and brands read in the last
     * second, kept here (api/app.c) so that a check costs no round trip to
     * the database; made on first use. */
    _Atomic(struct iz_api_cache *) cache;
} iz_app_t;

/* Free the app's cache (at the server's stop). */
void iz_api_cache_free(iz_app_t *app);

/* The outbound SMS queue, or NULL before it has started. */
static inline struct iz_sms_queue *iz_api_sms_queue(iz_app_t *app)
{
    return atomic_load(&app->sms_queue);
}

/* How many of an account's changes wait for İYS (its outbox rows): what
 * GET /v1/iys/status and the panel's dashboard show. 0 or the store's
 * failure. (iys.c) */
int iz_api_account_waiting(iz_app_t *app, int64_t account_id, int64_t *waiting);

/* ---- bulk uploads (jobs.c): the API's and the panel's ------------------- */

/* An upload being spooled to a file for a bulk job. */
typedef struct iz_upload iz_upload_t;

/* Start spooling an upload of brand: 0, IZ_EBUSY when the server runs
 * without a spool directory or job runner (503), IZ_EIO when no file can
 * be made. */
int iz_upload_open(iz_app_t *app, const iz_brand_t *brand, iz_upload_t **out);

/* Append a piece of the file (a write failure is kept for finish). */
void iz_upload_write(iz_upload_t *u, const char *data, size_t len);

/* The file is whole: make its job (the format sniffed from its first
 * bytes and content_type, which may be NULL) into *job and wake the
 * runner. 0; IZ_EIO (IZ_ETOOBIG when the disk was full) when it could not
 * be spooled; IZ_EINVAL when it is empty or not CSV, XLSX or JSON; the
 * store's failure. */
int iz_upload_finish(iz_upload_t *u, const char *content_type, iz_job_t *job);

/* Free the upload; its file is removed unless a job took it. NULL is
 * fine. */
void iz_upload_free(iz_upload_t *u);

/* A job's rate since it started (rows a second) and, while it runs with a
 * known total, the seconds left at that rate (-1 otherwise). */
void iz_job_rate(const iz_job_t *job, double *rate, double *eta);

/* errors.csv of a job (bulk/job.h) in an unlinked temporary file: *fd at
 * its start and *size. 0, IZ_EIO, or the store's failure. */
int iz_job_errors_file(iz_app_t *app, const char *job_id, int *fd, uint64_t *size);

/* iz__judge_json without an answer: the store's failure is returned. */
int iz_api_judge_json(iz_req_t *r, iz_app_t *app, const iz_judge_t *j, json_t *list,
                      iz_judged_t **out);

/* ---- SMS sends (sms.c): the API's sms/send and the panel's campaign ------ */

/* Why a send was refused: izin's code (IZ422 for a field, IZ4221 a
 * commercial text without the brand's identity, IZ4222 without its
 * contact), the field, and the reason in Turkish and English. */
typedef struct iz_sms_refusal {
    const char *code;
    const char *field;
    char tr[320], en[320];
} iz_sms_refusal_t;

/* The text of brand as it goes out from sender from (sms/content.h: the
 * footer a commercial text lacks, its encoding and parts, the words of an
 * informational text that reads as commercial) into *out, with the checks
 * sms/send makes: 0; IZ_EINVAL with *why; the store's failure. */
int iz_sms_compose(iz_app_t *app, const iz_brand_t *brand, const char *from, const char *text,
                   size_t len, bool commercial, iz_content_t *out, iz_sms_refusal_t *why);

/* Judge the JSON array to (MESAJ; each address once) and queue a send of
 * text c from from to the allowed ones, durably (the queue judges each
 * again before it goes): 0 with *out (in r's arena) and, when blocked and
 * ids are given, the blocked {recipient, reason} and the queued messages'
 * ids appended; IZ_EEXIST when key (may be NULL, with its request's hash)
 * names a send already; the store's failure. */
int iz_sms_enqueue(iz_req_t *r, iz_app_t *app, const iz_brand_t *brand, const char *from,
                   const iz_content_t *c, bool commercial, iz_rtype_t rtype, json_t *to,
                   const char *key, const char *hash, iz_sms_msg_t **out, json_t *blocked,
                   json_t *ids);

/* The evidence of a change made by request r (its IP, its user agent, cut
 * to fit; extra's members added), as JSON text in r's arena: what the API
 * and the panel keep with a change they record. (app.c) */
const char *iz_api_evidence(iz_req_t *r, json_t *extra);
/* ---- voice campaigns (voice.c): the API's and the panel's ------------------ */

#define IZ_VOICE_MAX 100000 /* numbers in one campaign */

/* True when name (len bytes) may name a voice campaign: 1 to
 * IZ_NAME_MAX - 1 bytes without control characters. */
bool iz_voice_name_ok(const char *name, size_t len);

/* Make brand's voice campaign name (iz_voice_name_ok) from the JSON array
 * list (at most IZ_VOICE_MAX items, as POST /v1/brands/{b}/voice/campaigns
 * takes it): each address judged on ARAMA for commercial and rtype, a
 * repeat kept once, every number stored with its verdict. 0 with *c the
 * stored campaign (id, created, allowed and blocked counts) and each
 * blocked {recipient, reason} appended to blocked; the store's failure. */
int iz_voice_create(iz_req_t *r, iz_app_t *app, const iz_brand_t *brand, const char *name,
                    bool commercial, iz_rtype_t rtype, json_t *list, iz_voice_campaign_t *c,
                    json_t *blocked);

/* Campaign c's allowed numbers judged again now (a consent withdrawn since
 * the campaign was made is not dialled): *out (free it) holds *n verdicts,
 * the callable ones IZ_VERDICT_ALLOWED with their norm. 0 or the store's
 * failure. */
int iz_voice_callable(iz_app_t *app, const iz_voice_campaign_t *c, iz_judged_t **out, size_t *n);

/* The same as the dialer's CSV (GET /v1/voice/campaigns/{id}/numbers?format=csv):
 * "recipient\n" then one number a line, into *out (free it), *len bytes. */
int iz_voice_callable_csv(iz_app_t *app, const iz_voice_campaign_t *c, char **out, size_t *len);

/* ---- a brand's settings (brands.c): PATCH /v1/brands/{b} and the panel ------- */

/* Everything PATCH /v1/brands/{b} changes, as the store holds it. Large
 * (the information text): allocate it, e.g. in the request's arena. */
typedef struct iz_brand_settings {
    iz_brand_t b;
    iz_brand_sms_t sms;
    char info[IZ_BRAND_INFO_MAX];
    iz_brand_page_t page;
    iz_brand_ident_t ident;
} iz_brand_settings_t;

/* Why settings were refused: izin's code (IZ422 for a field's value, IZ409
 * when a keyword, the 0850 number or the slug is another brand's), the
 * field, and the reason in Turkish and English. */
typedef struct iz_brand_refusal {
    const char *code;
    const char *field;
    bool echo; /* the answer echoes the field's value */
    char tr[320], en[320];
} iz_brand_refusal_t;

/* Read brand b's settings into *out: 0 or the store's failure. */
int iz_brand_settings_get(iz_app_t *app, const iz_brand_t *b, iz_brand_settings_t *out);

/* Set the keywords from kw[0..n) as written (a NULL item is a value that
 * is not text): 0, or IZ_EINVAL with *why when there are more than
 * IZ_KEYWORDS_MAX or one is not a keyword (core/keyword.h). */
int iz_brand_keywords_set(iz_brand_sms_t *sms, const char *const *kw, size_t n,
                          iz_brand_refusal_t *why);

/* The checks of changed settings, in PATCH's order: a name, the short and
 * 0850 numbers' forms, mode ("" unchanged, else IYS or LOCAL: sets
 * page.iys), the page mode's needs, MERSİS, the identity texts, the slug's
 * characters. 0 or IZ_EINVAL with *why (IZ422). */
int iz_brand_settings_check(iz_brand_settings_t *s, const char *mode, iz_brand_refusal_t *why);

/* Store checked settings (the store's one brand update, then the
 * information text, page and identity) and let inbound SMS routing see
 * them: 0; IZ_EEXIST with *why (IZ409) when a keyword is another brand's
 * on the same short number, or the 0850 number or slug another brand's;
 * the store's failure. */
int iz_brand_settings_save(iz_app_t *app, iz_brand_settings_t *s, iz_brand_refusal_t *why);

/* The module's routes (static table). */
const iz_route_t *iz_api_routes(size_t *n);

/* The API document (data/openapi.json as compiled in): its bytes, not
 * NUL-terminated within *len (a NUL follows them). Every route of
 * iz_api_routes() is one of its operations, with the route's name as the
 * operationId (tests/unit/api/test_openapi.c). */
const char *iz_api_openapi(size_t *len);

/* Bearer-key check for iz_http_config_t.auth: app is an iz_app_t. */
int iz_api_auth(void *app, const char *token, int64_t *account_id);

#endif
