/*
 * client.h - izin's İYS client on libcurl: token handling and the calls the
 * sync engine makes (v2 single add, async bulk add and its status, single
 * status, change pull).
 *
 * Tokens: an access token is refreshed when less than 5 minutes of it
 * remain; when the refresh fails the client logs in with the password; after
 * an H084 (hourly token limit) it asks for no token for an hour. A call that
 * answers 401 gets one new token and one retry. Given a store, the client
 * keeps its token state there (sealed) and starts from it: a restart, even
 * a crash loop, asks İYS for no new token while the stored one is good, and
 * an H084 hour outlives the process too.
 *
 * Rate: every HTTP request, token requests included, takes a slot of the
 * base URL's budget (iys/budget.h), shared by every account on that URL, so
 * izin never exceeds İYS's per-IP limit however much is queued; the
 * answer's status goes back to the budget (429s, outages).
 *
 * Each answer is classified: OK (2xx), PERMANENT (a 4xx with an H-code: the
 * change itself is refused; never retried), TRANSIENT (no answer, timeout,
 * 5xx, 429, 401 after a new token, no token to be had: retried later).
 *
 * An iz_iys_t may be used from several threads at once (the sync engine's
 * senders): token renewal is serialized, requests are not.
 */
#ifndef IZ_IYS_CLIENT_H
#define IZ_IYS_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "iys/budget.h"
#include "net/client.h"
#include "store/store.h"

/* The credentials of one İYS user and their token state: a client's own,
 * or one shared by the clients of every account that logs in as the same
 * user (partner mode: the partner's, for every account added with
 * --iys-integrator, so they hold one token between them). Token renewal
 * is serialized on it. It must outlive the clients that borrow it. */
typedef struct iz_iys_auth iz_iys_auth_t;

typedef struct iz_iys_auth_conf {
    char base_url[IZ_URL_MAX];
    char username[IZ_NAME_MAX];
    char password[IZ_NAME_MAX];
    iz_store_t *store;       /* as iz_iys_conf_t's (NULL: memory only) */
    int64_t account_id;      /* the token state is this account's ... */
    int64_t integrator_code; /* ... or, when not 0, this partner's
                              * (iz_store_iys_partner_token_get) */
} iz_iys_auth_conf_t;

/* A new auth (the password is copied, and wiped by iz_iys_auth_free). */
iz_iys_auth_t *iz_iys_auth_new(const iz_iys_auth_conf_t *conf);
void iz_iys_auth_free(iz_iys_auth_t *a);

typedef struct iz_iys_conf {
    char base_url[IZ_URL_MAX]; /* "https://api.iys.org.tr" (no trailing slash needed) */
    char username[IZ_NAME_MAX];
    char password[IZ_NAME_MAX];
    int64_t iys_code;
    long timeout_ms; /* per request; default 10000 */
    double rate;     /* requests a second when budget is NULL; default 10 */
    iz_iys_budget_t *budget; /* the URL's shared budget (borrowed), or NULL: one of its own */
    /* Optional: where the token state outlives the process (not owned; it
     * must outlive the client). NULL: tokens are kept in memory only. The
     * state is account_id's, good only for this base_url and username
     * (iz_store_iys_token_get): it is read at iz_iys_new and written after
     * every token request that changed it (a new pair, H084, a refusal). */
    iz_store_t *store;
    int64_t account_id;
    /* Partner mode: the partner's (integrator's) code, for the
     * /integrator/{code} calls, and its shared credentials (borrowed);
     * username, password, store and account_id are then not used. */
    int64_t integrator_code;
    iz_iys_auth_t *auth;
} iz_iys_conf_t;

typedef struct iz_iys iz_iys_t;

int iz_iys_new(const iz_iys_conf_t *conf, iz_iys_t **out);
void iz_iys_free(iz_iys_t *c);

typedef enum { IZ_IYS_OK = 0, IZ_IYS_TRANSIENT, IZ_IYS_PERMANENT } iz_iys_class_t;

typedef struct iz_iys_res {
    iz_iys_class_t cls;
    long http;          /* HTTP status; 0 when there was no answer */
    char code[16];      /* İYS's error code of the first error ("H174"), or "" */
    char message[256];  /* its message, or a transport error */
    json_t *body;       /* the parsed answer or NULL; freed by iz_iys_res_clear */
    long retry_after_s; /* from a Retry-After header, 0 when none */
    bool token_failed;  /* no token: the account's own failure (a refused login, H084,
                         * the hour's token requests used), not İYS being down */
} iz_iys_res_t;

void iz_iys_res_clear(iz_iys_res_t *res);

/* POST /v2/sps/{iysCode}/brands/{brandCode}/consents (idempotent add). */
int iz_iys_consent_add(iz_iys_t *c, int64_t brand_code, const iz_change_t *chg, iz_iys_res_t *res);

/* POST /v2/sps/.../consents/request with n changes (n <= 1000): the
 * idempotent bulk add, so a request whose answer was lost can be sent
 * again and İYS answers the transactionIds it already gave. */
int iz_iys_bulk_add(iz_iys_t *c, int64_t brand_code, const iz_change_t *const *chgs, size_t n,
                    iz_iys_res_t *res);

/* GET /v2/sps/.../consents/request/{requestId}. */
int iz_iys_bulk_status(iz_iys_t *c, int64_t brand_code, const char *request_id, iz_iys_res_t *res);

/* A cheap probe of whether İYS answers: the status of a request that does
 * not exist (İYS answers an empty list, or 401 when no token is held: the
 * probe never asks for one). No change is made, and the call has no hourly
 * limit. Any HTTP answer but a 5xx means İYS is there. */
int iz_iys_probe(iz_iys_t *c, int64_t brand_code, iz_iys_res_t *res);

/* The next İYS request made on this thread has its budget slot already
 * (the caller reserved it with iz_iys_budget_try). */
void iz_iys_prepaid(void);

/* After a call: true (and forgotten) when the reserved slot was not used
 * because no request was made; the caller then releases it. */
bool iz_iys_prepaid_unused(void);

/* POST /sps/.../consents/status for one address. */
int iz_iys_status(iz_iys_t *c, int64_t brand_code, const char *recipient, iz_rtype_t rtype,
                  iz_type_t type, iz_iys_res_t *res);

/* GET /sps/.../consents/changes?source=&after=&limit= (204: OK with body NULL). */
int iz_iys_changes(iz_iys_t *c, int64_t brand_code, const char *source, const char *after,
                   int limit, iz_iys_res_t *res);

/* Reconciliation (İYS's MUTABAKAT YÖNETİMİ), date "YYYY-MM-DD" (else
 * IZ_EINVAL, no request made):
 * GET /sps/.../changes/{date}/file: the brand's change file of the day,
 * handed to fn(ud, ...) as it arrives when İYS answers 2xx (a day may hold
 * millions of lines: nothing of it is kept here); 204 (no file) is OK with
 * nothing written. Whatever fn took before a failure is not to be used. */
int iz_iys_recon_file(iz_iys_t *c, int64_t brand_code, const char *date, iz_httpc_write_fn fn,
                      void *ud, iz_iys_res_t *res);

/* GET /sps/.../agreements/{date}: {processStatus, hashValue, hashMethod,
 * agreementStatus}, or 204 when İYS has no file that day. */
int iz_iys_agreement_get(iz_iys_t *c, int64_t brand_code, const char *date, iz_iys_res_t *res);

/* PUT /sps/.../agreements/{date} {agreementStatus: true}: record the
 * agreement (the caller compared İYS's hashValue with its own first). */
int iz_iys_agreement_put(iz_iys_t *c, int64_t brand_code, const char *date, iz_iys_res_t *res);

/* GET /sps/.../agreements/{date}/timestamp: the RFC 3161 reply (DER)
 * stamping the day's file, handed to fn as the file is. */
int iz_iys_recon_timestamp(iz_iys_t *c, int64_t brand_code, const char *date, iz_httpc_write_fn fn,
                           void *ud, iz_iys_res_t *res);
/* The retailer calls (BAYİ YÖNETİMİ). createRetailer: POST
 * /sps/.../retailers with body (borrowed; İYS's CreateRetailerType);
 * searchRetailers: GET /sps/.../retailers?offset=&limit=&all=true (every
 * field of each); deleteRetailer: DELETE /sps/.../retailers/{code}. */
int iz_iys_retailer_create(iz_iys_t *c, int64_t brand_code, json_t *body, iz_iys_res_t *res);
int iz_iys_retailer_list(iz_iys_t *c, int64_t brand_code, int64_t offset, int limit,
                         iz_iys_res_t *res);
int iz_iys_retailer_delete(iz_iys_t *c, int64_t brand_code, int64_t code, iz_iys_res_t *res);

/* A client for account a: its own İYS URL, else default_url (may be NULL),
 * its user and password, its tokens kept in st (may be NULL), requests on
 * budget (NULL: one of its own at rate a second; 0: 10). IZ_ENOTFOUND when
 * the account has no İYS (no URL and no default). Free with iz_iys_free. */
int iz_iys_for_account(const iz_account_t *a, const char *default_url, iz_store_t *st,
                       iz_iys_budget_t *budget, long timeout_ms, double rate, iz_iys_t **out);

/* GET /sps/{iysCode}/subscription: the HS subscription (its state, and
 * for the provider itself its consent limit and use). */
int iz_iys_subscription(iz_iys_t *c, iz_iys_res_t *res);

/* GET /integrator/{integratorCode}/subscription: the partner's own. */
int iz_iys_partner_subscription(iz_iys_t *c, iz_iys_res_t *res);

/* GET /integrator/{integratorCode}/sps?offset=&limit=: the brands that
 * authorized the partner, with its rights (limit at most 100). */
int iz_iys_partner_brands(iz_iys_t *c, int offset, int limit, iz_iys_res_t *res);

/* OTP management (ViA Pass), İYS verifying a number by SMS:
 * POST /otp-management/api/v1/{iysCode}/sms/start {phoneNumber (E.164),
 * templateId, vkn} (İYS sends the code; data.requestId names the process)
 * and POST /otp-management/api/v1/sms/complete {requestId, otpCode}.
 * res->code is the sub-system's H-code (H1052 a wrong code, H1050 ended
 * by wrong codes, H1051 expired, H1110 completed already, H1107 no such
 * template ...) or the answer's errorCode (OTP-ERROR-001 an unknown
 * requestId, ERR-VLD-001 a field); the sub-system's own 5xx or 429
 * (H1058, H083) is TRANSIENT. */
int iz_iys_otp_sms_start(iz_iys_t *c, const char *phone, const char *template_id, const char *vkn,
                         iz_iys_res_t *res);
int iz_iys_otp_sms_complete(iz_iys_t *c, const char *request_id, const char *code,
                            iz_iys_res_t *res);

/* Counts of answers by class since start (for the success-rate watch). */
typedef struct iz_iys_counts {
    uint64_t ok, client_error, rate_limited, server_error, transport, token_blocked;
    uint64_t tokens; /* token requests made */
} iz_iys_counts_t;
void iz_iys_counts_get(const iz_iys_t *c, iz_iys_counts_t *out);

/* ---- İYS's answers read (no HTTP here: the client and the sync engine
 * read with these, and so does fuzz/fuzz_iys.c) ---------------------------- */

/* An HTTP answer (status 0: none) into res: the body parsed as JSON (NULL
 * when it is not), the class, and for a refusal the first error's code and
 * message (İYS's errors[0], or OAuth's error / error_description), else
 * "HTTP <status>". res is overwritten; clear it with iz_iys_res_clear. */
void iz_iys_answer_read(iz_iys_res_t *res, long status, const char *body, size_t len,
                        long retry_after_s);

/* A token answer (/oauth2/token's 2xx body): the access token (a string
 * that fits, else IZ_EINVAL), the refresh token ("" when none fits) and
 * their lives in seconds (expires_in, refresh_expires_in; 2 h and 4 h when
 * missing or not positive, at most IZ_IYS_TTL_MAX). */
#define IZ_IYS_TTL_MAX (30 * 86400)
typedef struct iz_iys_token_answer {
    char access[IZ_IYS_TOKEN_MAX], refresh[IZ_IYS_TOKEN_MAX];
    int64_t access_ttl, refresh_ttl;
} iz_iys_token_answer_t;
int iz_iys_token_read(const json_t *body, iz_iys_token_answer_t *t);

/* One item of a bulk request's status (GET .../consents/request/{id}, an
 * array of them): UNREAD without a non-negative integer index and a status
 * string; PENDING ("enqueue" or any other status: asked again); SUCCESS
 * with its transactionId (may be NULL) and creationDate; FAILURE with
 * error.code and error.message (may be NULL) and its type (IZ_TYPE_NONE
 * when unknown). Strings point into item. */
typedef enum {
    IZ_IYS_ITEM_UNREAD = 0,
    IZ_IYS_ITEM_PENDING,
    IZ_IYS_ITEM_SUCCESS,
    IZ_IYS_ITEM_FAILURE
} iz_iys_item_state_t;
typedef struct iz_iys_item {
    iz_iys_item_state_t state;
    int64_t index;
    const char *txid;
    int64_t created; /* epoch s, 0 when none */
    const char *code, *message;
    iz_type_t type;
} iz_iys_item_t;
void iz_iys_item_read(const json_t *item, iz_iys_item_t *out);

/* The creationDate of an answer or item (İYS's "yyyy-MM-dd HH:mm:ss",
 * Turkey time) as epoch s; 0 when it has none that parses. */
int64_t iz_iys_created(const json_t *o);

/* A bulk add's requestId when it is a string shorter than max, else NULL. */
const char *iz_iys_request_id(const json_t *body, size_t max);

/* Whether an error e of a refused bulk add names an item of the n sent (an
 * integer index in [0, n)), and which. */
bool iz_iys_error_item(const json_t *e, size_t n, size_t *index);

/* A page of the change pull: its list (NULL when there is none) and its
 * after cursor (*after NULL when it is not a string shorter than
 * after_max: then no cursor is moved and no next page asked). */
json_t *iz_iys_page_read(const json_t *body, const char **after, size_t after_max);

/* The JSON body İYS expects for one change (new reference). */
json_t *iz_iys_consent_json(const iz_change_t *chg);

#endif
