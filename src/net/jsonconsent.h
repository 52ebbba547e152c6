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

/* The text the retailer fields of a JSON consent are read from
 * (core/retail.h), at most this many bytes with the NUL: 101 list items of
 * up to 20 characters and their separators (a longer list is H126 whatever
 * follows). */
#define IZ_RETAIL_JSON_TEXT (101 * 21 + 1)

/* Fill raw's retailer fields from the consent object obj, as İYS's API
 * takes them: retailerCode an integer (written into code_buf, 24 bytes) or
 * a string (borrowed); retailerAccess an array of codes (integers or
 * strings of digits), written into list_buf (IZ_RETAIL_JSON_TEXT bytes)
 * separated by '|' - an item of another kind as "x", which names no
 * retailer, and [] as "|", the empty list. null is IZ_FIELD_NULL, any
 * other kind IZ_FIELD_NOT_STRING. raw's other fields are left as they
 * are; the buffers must outlive raw. */
void iz_consent_raw_retail_from_json(json_t *obj, char code_buf[24],
                                     char list_buf[IZ_RETAIL_JSON_TEXT], iz_consent_raw_t *raw);

/* Set retailerCode (an integer) and retailerAccess (an array of integers)
 * on obj when r has them, as İYS's API takes them (the İYS client's
 * bodies) and izin's API shows them. */
void iz_retail_to_json(const iz_retail_t *r, json_t *obj);

/* The names of the two retailer fields, NULL-terminated (an extra_known
 * list for iz_consent_raw_from_json). */
extern const char *const iz_retail_json_fields[];

/* Answer the validation errors of the consent object body (errs->n > 0):
 * each with its H-code, its field as the location and the value body has
 * there, with the HTTP status of the first code. */
void iz_reply_verrs(iz_req_t *r, json_t *body, const iz_verrs_t *errs);

#endif
