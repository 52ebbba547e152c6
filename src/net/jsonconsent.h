/*
 * jsonconsent.h - one consent change as a JSON object ({"recipient",
 * "type", "status", "source", "consentDate", "recipientType"}): reading its
 * fields into the raw form that core/consent.c validates, and answering the
 * validation errors with the values the client sent. The module's API
 * (api/consents.c) and the İYS emulator (sim/iys_api.c) read the same
 * object shape through it, so both judge a body field by field alike.
 */
#ifndef IZ_JSONCONSENT_H
#define IZ_JSONCONSENT_H

#include <jansson.h>

#include "core/consent.h"
#include "net/http.h"

/* Fill f from a JSON value: absent for NULL, then null, string (f->s
 * borrows v's text, f->len its length, NUL bytes included) or not a
 * string. */
void iz_field_from_json(iz_field_t *f, json_t *v);

/* Fill raw from the consent object obj: each of the six fields above
 * absent, null, not a string or a string (borrowed from obj, which must
 * outlive raw), and raw->unknown_field the first key of obj, in obj's
 * order, that is none of them nor in extra_known (a NULL-terminated list
 * of further accepted names, or NULL for none). */
void iz_consent_raw_from_json(json_t *obj, const char *const *extra_known, iz_consent_raw_t *raw);

/* Answer the validation errors of the consent object body (errs->n > 0):
 * each with its H-code, its field as the location and the value body has
 * there, with the HTTP status of the first code. */
void iz_reply_verrs(iz_req_t *r, json_t *body, const iz_verrs_t *errs);

#endif
