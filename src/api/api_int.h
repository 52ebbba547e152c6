/*
 * api_int.h - what the API's handler files share; not for other layers.
 */
#ifndef IZ_API_INT_H
#define IZ_API_INT_H

#include <jansson.h>

#include "api/api.h"

/* Resolve {brandCode} for the authenticated account into *b. On failure
 * answers 404 IZ404 (also for another account's brand) and returns non-zero. */
int iz__api_brand(iz_req_t *r, iz_app_t *app, iz_brand_t *b);

/* The prologue of a handler with a JSON body: resolve {brandCode} (as
 * iz__api_brand) and parse the body (iz_req_json). With object_code, a body
 * that is not a JSON object is answered with that code (İYS's H085, H097).
 * Returns the body (the caller releases it), or NULL when answered. */
json_t *iz__api_body(iz_req_t *r, iz_app_t *app, iz_brand_t *b, const char *object_code);

/* Answer 500 IZ500 (503 IZ503 when the store was busy) for a store failure. */
void iz__reply_store_error(iz_req_t *r, int rc);

/* Parse ?type= and ?recipientType= (default BIREYSEL); answers 422 with
 * H111/H117/H170/H116 and returns non-zero on failure. */
int iz__query_type(iz_req_t *r, iz_type_t *type, iz_rtype_t *rtype);

/* A yes/no query parameter: absent gives def; "true"/"1" and "false"/"0";
 * anything else answers 422 IZ422 naming the parameter and returns -1. */
int iz__query_bool(iz_req_t *r, const char *name, bool def, bool *out);

/* Answer the outcome of one recorded change whose request body is body (a
 * JSON object, borrowed; NULL when the fields did not come from one): 201
 * (200 for IZ_REPEAT) with the change's JSON and, for a first RET kept
 * locally, warnings:[{code:"H175", note}]; the field errors (422) with the
 * values sent; a rule's refusal with its H-code, İYS's status for it and
 * the field it concerns (rule_field, or when NULL the field the code is
 * about); a store failure as 500/503. */
void iz__reply_record(iz_req_t *r, json_t *body, const iz_record_t *rec, const char *rule_field);

/* Check that body is a JSON object holding only the fields known[0..n);
 * answers 422 IZ422 (naming the field and the ones allowed) and returns
 * non-zero otherwise. */
int iz__body_fields(iz_req_t *r, json_t *body, const char *const *known, size_t n);

/* Answer 422 with one error of izin's code IZ422 on field (may be NULL),
 * echoing value (may be NULL), in the client's language. */
void iz__reply_field(iz_req_t *r, const char *field, json_t *value, const char *tr, const char *en);

/* The send filter's request flags: commercial (default true) and
 * recipientType (default BIREYSEL, H170 when empty, H116 when wrong).
 * Answers 422 and returns non-zero when either is wrong. */
int iz__send_flags(iz_req_t *r, json_t *body, bool *commercial, iz_rtype_t *rtype);

/* Judge the JSON array list (its items as the client wrote them) for a
 * send: out[i] for item i (allocated in r's arena, *out set), repeats
 * marked. Answers a store failure itself and returns non-zero then. */
int iz__judge_json(iz_req_t *r, iz_app_t *app, const iz_judge_t *j, json_t *list,
                   iz_judged_t **out);

/* One judged item of a send's list (not a repeat): out gets the recipient
 * to keep on record (the normalized address, or the item as written when
 * INVALID) and, when it is blocked, its entry {recipient, reason} is
 * appended to blocked (the item as sent for INVALID). Returns the reason,
 * or NULL when the item is allowed. */
const char *iz__judged_entry(json_t *item, const iz_judged_t *jd, char out[IZ_RECIPIENT_MAX],
                             json_t *blocked);

/* A recipient as the client wrote it (a non-string as its JSON text) for a
 * record of what was refused: at most IZ_RECIPIENT_MAX - 1 bytes, a longer
 * one cut at a character boundary and ended with "..." so that the cut
 * shows. */
void iz__raw_recipient(json_t *item, char out[IZ_RECIPIENT_MAX]);

/* The gateway token a request from an SMS gateway carries (?token= or the
 * header X-Izin-Token), compared in constant time: true when right; else
 * answered 401 (missing or wrong) or 503 (izin runs without one). */
bool iz__gateway_token_ok(iz_req_t *r, const iz_app_t *app);

/* iz_api_evidence (api.h): a user agent over 256 bytes is kept as its first
 * 256 with userAgentCut:true, or as its SHA-256 when the evidence would
 * not fit IZ_EVIDENCE_MAX. */

/* The handlers, by file (the route table is in app.c). */
typedef void iz__handler_t(iz_req_t *r, void *app);
extern iz__handler_t iz__h_consent_post, iz__h_consent_get,                     /* consents.c */
    iz__h_check_post, iz__h_check_get,                                          /* check.c */
    iz__h_changes, iz__h_quarantine, iz__h_iys_push,                            /* changes.c */
    iz__h_sms_send, iz__h_sms_send_get, iz__h_sms_dlr,                          /* sms.c */
    iz__h_sms_inbound_kannel, iz__h_sms_inbound_json, iz__h_sms_inbound_jasmin, /* inbound.c */
    iz__h_brand_get, iz__h_brand_patch,                                 /* brands.c */
    iz__h_voice_campaign_post, iz__h_voice_numbers, iz__h_voice_optout, /* voice.c */
    iz__h_healthz, iz__h_metrics,                                       /* ops.c */
    iz__h_reconciliations,                                              /* recon.c */
    iz__h_retailers_get, iz__h_retailers_post, iz__h_retailer_delete;   /* retailers.c */

/* cpage.c: the consent page */
void iz__h_cpage_get(iz_req_t *r, void *app);
void iz__h_cpage_qr(iz_req_t *r, void *app);
void iz__h_cpage_otp(iz_req_t *r, void *app);
void iz__h_cpage_verify(iz_req_t *r, void *app);

/* jobs.c: bulk upload and its jobs */
void iz__h_bulk_post(iz_req_t *r, void *app);
void iz__h_job_get(iz_req_t *r, void *app);
void iz__h_job_errors_csv(iz_req_t *r, void *app);

/* webhooks.c: a brand's customer webhook and its dead letters */
void iz__h_webhook_put(iz_req_t *r, void *app);
void iz__h_webhook_get(iz_req_t *r, void *app);
void iz__h_webhook_delete(iz_req_t *r, void *app);
void iz__h_webhook_dead(iz_req_t *r, void *app);
void iz__h_webhook_retry(iz_req_t *r, void *app);
/* docs.c: the API document and its page */
void iz__h_openapi(iz_req_t *r, void *app);
void iz__h_docs(iz_req_t *r, void *app);

/* iys.c: the account's standing with İYS */
void iz__h_iys_status(iz_req_t *r, void *app);
void iz__h_account_get(iz_req_t *r, void *app);

/* An account's plan and usage as GET /v1/account answers it. */
json_t *iz__usage_json(const char *account, const iz_usage_t *u);

#endif
