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
void iz__h_sms_send(iz_req_t *r, void *app);
void iz__h_voice_campaign_post(iz_req_t *r, void *app);
void iz__h_voice_numbers(iz_req_t *r, void *app);
void iz__h_voice_optout(iz_req_t *r, void *app);

/* Record a validated change c of brand (consents.c): the İYS state rules
 * are judged against the current record inside the store's transaction; a
 * first RET is kept LOCAL with warning H175; otherwise the change is
 * PENDING for İYS (LOCAL when the account has no İYS) and the sync engine
 * is woken. now is the registration time (epoch s), evidence a JSON object
 * text or NULL. Returns 0 (chg is the stored change), IZ_REPEAT (an
 * identical change existed; chg is it), IZ_ERULE with *hcode the refusing
 * H-code, or a store error. */
int iz__consent_commit(iz_app_t *app, const iz_brand_t *brand, const iz_consent_t *c, int64_t now,
                       iz_origin_t origin, const char *evidence, iz_change_t *chg,
                       const char **hcode);

/* Answer a committed change: 201 (200 for IZ_REPEAT) with its JSON and,
 * for a first RET, warnings:[{code:"H175", note}]. */
void iz__reply_change(iz_req_t *r, const iz_change_t *chg, int rc);

/* Answer the result of iz__consent_commit for a request whose body is
 * body (released here): a refusal with its H-code, İYS's status for it and
 * the field it concerns (rule_field, or when NULL the field the code is
 * about), a store failure as 500, else the change (iz__reply_change). */
void iz__reply_commit(iz_req_t *r, json_t *body, const iz_change_t *chg, int rc, const char *hcode,
                      const char *rule_field);

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

/* A recipient as the client wrote it (a non-string as its JSON text), cut
 * at a character boundary to fit a stored record. */
void iz__raw_recipient(json_t *item, char out[IZ_RECIPIENT_MAX]);

/* A set of strings for dropping repeated recipients within one request;
 * the slots live in the request's arena, the strings are not copied. */
typedef struct iz__seen {
    const char **slot;
    size_t cap;
} iz__seen_t;

/* Room for n strings. */
void iz__seen_init(iz_req_t *r, iz__seen_t *set, size_t n);

/* True when s was added, false when it was already there. */
bool iz__seen_add(iz__seen_t *set, const char *s);

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
