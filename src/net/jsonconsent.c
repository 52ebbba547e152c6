/*
 * jsonconsent.c - a consent change's JSON object to the raw fields that
 * core/consent.c validates, and its validation errors back to JSON (see
 * jsonconsent.h).
 */
#include "net/jsonconsent.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/hcode.h"
#include "core/iz.h"

/* The fields of a consent object, in the order İYS documents them. */
static const char *const consent_fields[] = {"recipient", "type",        "status",
                                             "source",    "consentDate", "recipientType"};

void iz_field_from_json(iz_field_t *f, json_t *v)
{
    memset(f, 0, sizeof *f);
    if (!v) {
        f->kind = IZ_FIELD_ABSENT;
    } else if (json_is_null(v)) {
        f->kind = IZ_FIELD_NULL;
    } else if (json_is_string(v)) {
        f->kind = IZ_FIELD_STRING;
        f->s = json_string_value(v);
        f->len = json_string_length(v);
    } else {
        f->kind = IZ_FIELD_NOT_STRING;
    }
}

static bool listed(const char *key, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n && names[i]; i++)
        if (strcmp(key, names[i]) == 0) return true;
    return false;
}

void iz_consent_raw_from_json(json_t *obj, const char *const *extra_known, iz_consent_raw_t *raw)
{
    memset(raw, 0, sizeof *raw);
    iz_field_from_json(&raw->recipient, json_object_get(obj, "recipient"));
    iz_field_from_json(&raw->type, json_object_get(obj, "type"));
    iz_field_from_json(&raw->status, json_object_get(obj, "status"));
    iz_field_from_json(&raw->source, json_object_get(obj, "source"));
    iz_field_from_json(&raw->consent_date, json_object_get(obj, "consentDate"));
    iz_field_from_json(&raw->recipient_type, json_object_get(obj, "recipientType"));
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        if (!listed(key, consent_fields, IZ_ARRAY_LEN(consent_fields)) &&
            !(extra_known && listed(key, extra_known, SIZE_MAX))) {
            raw->unknown_field = key;
            break;
        }
    }
}

void iz_reply_verrs(iz_req_t *r, json_t *body, const iz_verrs_t *errs)
{
    iz_error_t out[IZ_VERR_MAX];
    for (int i = 0; i < errs->n; i++) {
        const char *field = errs->e[i].field;
        out[i] = (iz_error_t){.code = errs->e[i].code,
                              .location = field,
                              .value = field && json_is_object(body) ? json_object_get(body, field)
                                                                     : NULL,
                              .index = -1};
    }
    iz_reply_errors(r, iz_hcode_http(errs->e[0].code), out, (size_t)errs->n);
}
