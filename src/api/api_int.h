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

/* The JSON form of a stored change (new reference). */
json_t *iz__change_json(const iz_change_t *c);

/* Answer 500 IZ500 for a store failure. */
void iz__reply_store_error(iz_req_t *r, int rc);

/* Parse ?type= and ?recipientType= (default BIREYSEL); answers 422 with
 * H111/H117/H170/H116 and returns non-zero on failure. */
int iz__query_type(iz_req_t *r, iz_type_t *type, iz_rtype_t *rtype);

void iz__h_consent_post(iz_req_t *r, void *app);
void iz__h_consent_get(iz_req_t *r, void *app);
void iz__h_check_post(iz_req_t *r, void *app);
void iz__h_check_get(iz_req_t *r, void *app);
void iz__h_healthz(iz_req_t *r, void *app);
void iz__h_metrics(iz_req_t *r, void *app);
void iz__h_changes(iz_req_t *r, void *app);
void iz__h_iys_push(iz_req_t *r, void *app);

/* The send filter's verdict for one recipient as written (len bytes): NULL
 * when a message may go to it, else the reason "NO_CONSENT", "RET" or
 * "INVALID". norm receives the E.164 / lower-case form (also for the
 * refused ones, except INVALID). With commercial false every valid
 * recipient is allowed. *rc is non-zero when the store failed (the
 * verdict is then NULL and must not be used). */
const char *iz__filter(iz_app_t *app, int64_t brand_id, iz_type_t type, iz_rtype_t rtype,
                       bool commercial, const char *raw, size_t len, char norm[IZ_RECIPIENT_MAX],
                       int *rc);

/* Whether an account's changes go to İYS (its own URL or the default). */
bool iz__iys_configured(const iz_app_t *app, const iz_account_t *acct);

#endif
