/*
 * check.c - the send filter's API: POST /v1/brands/{b}/check (JSON) and
 * GET /v1/brands/{b}/check/{recipient} (a dialer's last look).
 *
 * A commercial message may go to (brand, recipient, type, recipientType)
 * only when the current status is ONAY; no record blocks it (NO_CONSENT),
 * so does RET. An unusable recipient is INVALID. With commercial:false
 * (informational messages) every valid recipient is allowed. Each
 * recipient is answered once: repeats of an address (after normalization)
 * are dropped, so a list never makes a message go twice to one person.
 */
#include <string.h>

#include "api/api_int.h"
#include "core/hcode.h"
#include "core/iz.h"

#define IZ_CHECK_MAX 100000 /* recipients in one JSON check */

/* Decide one normalized recipient; returns NULL when allowed, else reason. */
static const char *decide(iz_app_t *app, int64_t brand_id, iz_type_t type, iz_rtype_t rtype,
                          bool commercial, const char *norm, int *rc)
{
    *rc = 0;
    if (!commercial) return NULL;
    iz_status_t st = IZ_STATUS_NONE;
    *rc = iz_store_consent_status(app->store, brand_id, rtype, type, norm, &st);
    if (*rc != 0) return NULL;
    if (st == IZ_ONAY) return NULL;
    return st == IZ_RET ? "RET" : "NO_CONSENT";
}

const char *iz__filter(iz_app_t *app, int64_t brand_id, iz_type_t type, iz_rtype_t rtype,
                       bool commercial, const char *raw, size_t len, char norm[IZ_RECIPIENT_MAX],
                       int *rc)
{
    const char *hcode = NULL;
    *rc = 0;
    if (iz_recipient_normalize(raw, len, type, norm, &hcode) != 0) return "INVALID";
    return decide(app, brand_id, type, rtype, commercial, norm, rc);
}

/* A small open-addressing set of strings, to drop repeats. */
typedef struct strset {
    const char **slot;
    size_t cap;
} strset_t;

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* True when s was added, false when it was already there. */
static bool strset_add(strset_t *set, const char *s)
{
    size_t i = fnv1a(s) & (set->cap - 1);
    while (set->slot[i]) {
        if (strcmp(set->slot[i], s) == 0) return false;
        i = (i + 1) & (set->cap - 1);
    }
    set->slot[i] = s;
    return true;
}

void iz__h_check_post(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    if (iz__api_brand(r, app, &brand) != 0) return;
    json_t *body = iz_req_json(r);
    if (!body) return;
    iz_error_t e = {.index = -1};
    json_t *jt = json_object_get(body, "type");
    json_t *jrt = json_object_get(body, "recipientType");
    json_t *jc = json_object_get(body, "commercial");
    json_t *list = json_object_get(body, "recipients");
    iz_type_t type = IZ_TYPE_NONE;
    iz_rtype_t rtype = IZ_BIREYSEL;
    if (!json_is_object(body)) {
        e.code = "H097";
    } else if (!jt || json_is_null(jt) || (json_is_string(jt) && !*json_string_value(jt))) {
        e.code = "H111";
        e.location = "type";
    } else if (!json_is_string(jt) || iz_type_parse(json_string_value(jt), &type) != 0) {
        e.code = "H117";
        e.location = "type";
        e.value = jt;
    } else if (jrt && (json_is_null(jrt) || (json_is_string(jrt) && !*json_string_value(jrt)))) {
        e.code = "H170";
        e.location = "recipientType";
    } else if (jrt &&
               (!json_is_string(jrt) || iz_rtype_parse(json_string_value(jrt), &rtype) != 0)) {
        e.code = "H116";
        e.location = "recipientType";
        e.value = jrt;
    } else if (jc && !json_is_boolean(jc)) {
        e.code = "IZ400";
        e.location = "commercial";
        e.value = jc;
        e.message = iz_req_english(r) ? "commercial must be true or false"
                                      : "commercial true ya da false olmalıdır.";
    } else if (!list || json_is_null(list)) {
        e.code = "H168";
        e.location = "recipients";
    } else if (!json_is_array(list)) {
        e.code = "H478";
        e.location = "recipients";
    } else if (json_array_size(list) > IZ_CHECK_MAX) {
        e.code = "IZ413";
        e.location = "recipients";
        e.message = iz_req_english(r) ? "at most 100000 recipients in one JSON check; "
                                        "send larger lists as text/plain"
                                      : "Tek JSON sorgusunda en fazla 100000 alıcı olabilir.";
    }
    if (e.code) {
        int status = strcmp(e.code, "IZ400") == 0 ? 422 : iz_hcode_http(e.code);
        iz_reply_errors(r, status, &e, 1);
        json_decref(body);
        return;
    }
    bool commercial = jc ? json_is_true(jc) : true;

    size_t n = json_array_size(list);
    strset_t seen = {.cap = 16};
    while (seen.cap < n * 2 + 16)
        seen.cap *= 2;
    seen.slot = iz_req_alloc(r, seen.cap * sizeof *seen.slot);
    json_t *allowed = json_array(), *blocked = json_array();
    size_t nallowed = 0, nblocked = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(list, i);
        char norm[IZ_RECIPIENT_MAX];
        const char *hcode = NULL;
        const char *s = json_is_string(item) ? json_string_value(item) : NULL;
        if (!s || iz_recipient_normalize(s, json_string_length(item), type, norm, &hcode) != 0) {
            json_array_append_new(blocked,
                                  json_pack("{s:O, s:s}", "recipient", item, "reason", "INVALID"));
            nblocked++;
            continue;
        }
        char *key = iz_req_strdup(r, norm);
        if (!strset_add(&seen, key)) continue;
        int rc;
        const char *reason = decide(app, brand.id, type, rtype, commercial, norm, &rc);
        if (rc != 0) {
            json_decref(allowed);
            json_decref(blocked);
            json_decref(body);
            iz__reply_store_error(r, rc);
            return;
        }
        if (reason) {
            json_array_append_new(blocked,
                                  json_pack("{s:s, s:s}", "recipient", norm, "reason", reason));
            nblocked++;
        } else {
            json_array_append_new(allowed, json_string(norm));
            nallowed++;
        }
    }
    json_decref(body);
    iz_reply_json(r, 200,
                  json_pack("{s:o, s:o, s:{s:I, s:I}}", "allowed", allowed, "blocked", blocked,
                            "counts", "allowed", (json_int_t)nallowed, "blocked",
                            (json_int_t)nblocked));
}

void iz__h_check_get(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    if (iz__api_brand(r, app, &brand) != 0) return;
    iz_type_t type;
    iz_rtype_t rtype;
    if (iz__query_type(r, &type, &rtype) != 0) return;
    const char *cm = iz_req_query(r, "commercial");
    bool commercial = !(cm && (strcmp(cm, "false") == 0 || strcmp(cm, "0") == 0));
    const char *in = iz_req_param(r, "recipient");
    char norm[IZ_RECIPIENT_MAX];
    const char *hcode = NULL;
    if (iz_recipient_normalize(in, strlen(in), type, norm, &hcode) != 0) {
        json_t *v = json_string(in);
        iz_reply_json(r, 200,
                      json_pack("{s:o, s:b, s:s}", "recipient", v ? v : json_null(), "allowed", 0,
                                "reason", "INVALID"));
        return;
    }
    int rc;
    const char *reason = decide(app, brand.id, type, rtype, commercial, norm, &rc);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    json_t *out = json_pack("{s:s, s:b}", "recipient", norm, "allowed", reason == NULL);
    if (reason) json_object_set_new(out, "reason", json_string(reason));
    iz_reply_json(r, 200, out);
}
