/*
 * jsonconsent.c - a consent change's JSON object to the raw fields that
 * core/consent.c validates, and its validation errors back to JSON (see
 * jsonconsent.h).
 */
#include "net/jsonconsent.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
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

const char *const iz_retail_json_fields[] = {"retailerCode", "retailerAccess", NULL};

/* One retailer code of a JSON body as text into out (24 bytes): an
 * integer in decimal, a string of 1 to 20 digits as it is, anything else
 * "x" (no code has that shape; it never holds a separator). */
static const char *code_text(json_t *v, char out[24])
{
    if (json_is_integer(v)) {
        snprintf(out, 24, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return out;
    }
    const char *s = json_string_value(v);
    size_t n = s ? json_string_length(v) : 0;
    if (!s || n == 0 || n > 20 || strspn(s, "0123456789") != n) return "x";
    return s;
}

void iz_consent_raw_retail_from_json(json_t *obj, char code_buf[24],
                                     char list_buf[IZ_RETAIL_JSON_TEXT], iz_consent_raw_t *raw)
{
    json_t *c = json_object_get(obj, "retailerCode");
    raw->retailer_code = (iz_field_t){.kind = IZ_FIELD_ABSENT};
    if (json_is_null(c)) {
        raw->retailer_code.kind = IZ_FIELD_NULL;
    } else if (json_is_integer(c) || json_is_string(c)) {
        const char *t =
            json_is_string(c) && json_string_length(c) == 0 ? "" : code_text(c, code_buf);
        raw->retailer_code = (iz_field_t){IZ_FIELD_STRING, t, strlen(t)};
    } else if (c) {
        raw->retailer_code.kind = IZ_FIELD_NOT_STRING;
    }
    json_t *a = json_object_get(obj, "retailerAccess");
    raw->retailer_access = (iz_field_t){.kind = IZ_FIELD_ABSENT};
    if (json_is_null(a)) {
        raw->retailer_access.kind = IZ_FIELD_NULL;
    } else if (json_is_array(a)) {
        size_t o = 0;
        list_buf[0] = '\0';
        if (json_array_size(a) == 0) list_buf[o++] = '|';
        /* 101 items are enough to tell a list over the limit. */
        for (size_t i = 0; i < json_array_size(a) && i <= IZ_RETAIL_ACCESS_MAX; i++) {
            char buf[24];
            const char *t = code_text(json_array_get(a, i), buf);
            size_t n = strlen(t);
            if (i) list_buf[o++] = '|';
            memcpy(list_buf + o, t, n);
            o += n;
        }
        list_buf[o] = '\0';
        raw->retailer_access = (iz_field_t){IZ_FIELD_STRING, list_buf, o};
    } else if (a) {
        raw->retailer_access.kind = IZ_FIELD_NOT_STRING;
    }
}

void iz_retail_to_json(const iz_retail_t *r, json_t *obj)
{
    if (r->code) json_object_set_new(obj, "retailerCode", json_integer(r->code));
    if (!r->n) return;
    json_t *list = json_array();
    for (uint32_t i = 0; i < r->n && i < IZ_RETAIL_ACCESS_MAX; i++)
        json_array_append_new(list, json_integer(r->access[i]));
    json_object_set_new(obj, "retailerAccess", list);
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
