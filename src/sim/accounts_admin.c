/*
 * accounts_admin.c - the administration of accounts under /_sim/ (JSON, no
 * auth, like admin.c, whose checks it shares): a provider's whole
 * subscription (HS with its consent limit - the quota of /_sim/providers -,
 * ViA, ViA PASS), integrators with their API user and subscription, and
 * the brands providers authorize them for with a right per consent type.
 *
 * Field errors answer 422 IZ422 naming the field, a taken code or username
 * 409 IZ409; an unknown integrator 404 H129, provider 404 H001, brand 404
 * H018, as İYS names them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/iz.h"
#include "core/trtime.h"
#include "sim/sim_int.h"

#define MAX_CODE 9007199254740991LL
#define YEAR (365 * 86400)
#define VIA_PACKAGE "ViA-5"
#define VIA_PASS_PACKAGE "VIA-PASS-5000"

static void store_error(iz_req_t *r)
{
    iz_reply_error(r, "IZ500", NULL);
}

/* ---- field checks ------------------------------------------------------------- */

/* An optional text field of 1..size-1 printable bytes into out ("" when
 * absent). 0, or answers 422 and returns -1. */
static int opt_text(iz_req_t *r, json_t *o, const char *field, const char *loc, char *out,
                    size_t size)
{
    json_t *v = json_object_get(o, field);
    out[0] = '\0';
    if (!v || json_is_null(v)) return 0;
    if (!iz__sim_good_name(v) || json_string_length(v) >= size) {
        char tr[96], en[96];
        snprintf(tr, sizeof tr, "Alan 1-%zu baytlık bir metin olmalıdır.", size - 1);
        snprintf(en, sizeof en, "The field must be text of 1 to %zu bytes.", size - 1);
        iz__sim_admin_field_error(r, loc, tr, en);
        return -1;
    }
    iz_strlcpy(out, json_string_value(v), size);
    return 0;
}

/* An optional "YYYY-MM-DD HH:MM:SS" (Turkey time) into *out (0 when
 * absent). */
static int opt_date(iz_req_t *r, json_t *o, const char *field, const char *loc, int64_t *out)
{
    json_t *v = json_object_get(o, field);
    const char *hc;
    *out = 0;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v) ||
        iz_tr_parse(json_string_value(v), json_string_length(v), out, &hc) != 0) {
        iz__sim_admin_field_error(r, loc, "Tarih YYYY-MM-DD SS:DD:ss biçiminde olmalıdır.",
                                  "The date must be written as YYYY-MM-DD HH:MM:SS.");
        return -1;
    }
    return 0;
}

static int opt_bool(iz_req_t *r, json_t *o, const char *field, bool def, bool *out)
{
    json_t *v = json_object_get(o, field);
    *out = def;
    if (!v) return 0;
    if (!json_is_boolean(v)) {
        iz__sim_admin_field_error(r, field, "Alan true ya da false olmalıdır.",
                                  "The field must be true or false.");
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

/* An integer field in [min, MAX_CODE] (def when absent). */
static int opt_int(iz_req_t *r, json_t *o, const char *field, const char *loc, int64_t min,
                   int64_t def, int64_t *out)
{
    json_t *v = json_object_get(o, field);
    *out = def;
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > MAX_CODE) {
        char tr[96], en[96];
        snprintf(tr, sizeof tr, "Alan %lld veya daha büyük bir tam sayı olmalıdır.",
                 (long long)min);
        snprintf(en, sizeof en, "The field must be an integer of %lld or more.", (long long)min);
        iz__sim_admin_field_error(r, loc, tr, en);
        return -1;
    }
    *out = (int64_t)json_integer_value(v);
    return 0;
}

/* The fields every subscription has: status (required; NONE only when
 * none_ok), subscriptionId, packageName, startDate, expirationDate. loc is
 * the object's place ("" at the top, "via." inside). */
static int subinfo_body(iz_req_t *r, json_t *o, const char *loc, bool none_ok, iz_sim_subinfo_t *s)
{
    char l[64];
    memset(s, 0, sizeof *s);
    snprintf(l, sizeof l, "%sstatus", loc);
    json_t *st = json_object_get(o, "status");
    if (!st || iz__sim_check_subscription(r, st, &s->status) != 0) {
        if (!st)
            iz__sim_admin_field_error(r, l, "status zorunludur: ACTIVE, PAUSED, EXPIRED, CLOSED",
                                      "status is required: ACTIVE, PAUSED, EXPIRED, CLOSED");
        return -1;
    }
    if (s->status == IZ_SUB_NONE && !none_ok) {
        iz__sim_admin_field_error(r, l,
                                  "status için uygun değerler: ACTIVE, PAUSED, EXPIRED, CLOSED",
                                  "Valid values for status: ACTIVE, PAUSED, EXPIRED, CLOSED");
        return -1;
    }
    char li[64], lp[64], ls[64], le[64];
    snprintf(li, sizeof li, "%ssubscriptionId", loc);
    snprintf(lp, sizeof lp, "%spackageName", loc);
    snprintf(ls, sizeof ls, "%sstartDate", loc);
    snprintf(le, sizeof le, "%sexpirationDate", loc);
    if (opt_text(r, o, "subscriptionId", li, s->id, sizeof s->id) != 0 ||
        opt_text(r, o, "packageName", lp, s->package, sizeof s->package) != 0 ||
        opt_date(r, o, "startDate", ls, &s->start) != 0 ||
        opt_date(r, o, "expirationDate", le, &s->end) != 0)
        return -1;
    if (s->start && s->end && s->end < s->start) {
        iz__sim_admin_field_error(r, le, "expirationDate startDate'ten önce olamaz.",
                                  "expirationDate cannot come before startDate.");
        return -1;
    }
    return 0;
}

/* A ViA or ViA PASS object of the subscription body: absent or null is
 * none (*has false). */
static int via_body(iz_req_t *r, json_t *body, bool pass, iz_sim_via_t *v, bool *has)
{
    const char *field = pass ? "viaPass" : "via";
    json_t *o = json_object_get(body, field);
    static const char *const allowed[] = {"status",      "credit",    "subscriptionId",
                                          "packageName", "startDate", "expirationDate"};
    char loc[16], lc[32];
    *has = false;
    if (!o || json_is_null(o)) return 0;
    snprintf(loc, sizeof loc, "%s.", field);
    snprintf(lc, sizeof lc, "%scredit", loc);
    const char *unk =
        json_is_object(o) ? iz_json_unknown_key(o, allowed, IZ_ARRAY_LEN(allowed)) : NULL;
    if (!json_is_object(o) || unk) {
        iz__sim_admin_field_error(r, field,
                                  "Alan bir nesne ya da null olmalıdır; bilinmeyen alan yok.",
                                  "The field must be an object or null, with no unknown field.");
        return -1;
    }
    memset(v, 0, sizeof *v);
    v->pass = pass;
    v->limited = v->auto_renewal = true;
    if (subinfo_body(r, o, loc, false, &v->sub) != 0 ||
        opt_int(r, o, "credit", lc, -1, -1, &v->credit) != 0)
        return -1;
    /* İYS shows every ViA package with an id, a name and dates. */
    if (!v->sub.id[0])
        snprintf(v->sub.id, sizeof v->sub.id, "%s-%lld", field, (long long)time(NULL));
    if (!v->sub.package[0])
        iz_strlcpy(v->sub.package, pass ? VIA_PASS_PACKAGE : VIA_PACKAGE, sizeof v->sub.package);
    if (!v->sub.start) v->sub.start = (int64_t)time(NULL);
    if (!v->sub.end) v->sub.end = v->sub.start + YEAR - 1;
    *has = true;
    return 0;
}

static int code_param(iz_req_t *r, const char *name, const char *code, int64_t *out)
{
    if (iz_parse_i64(iz_req_param(r, name), 1, MAX_CODE, out) == 0) return 0;
    iz_reply_error(r, code, NULL);
    return -1;
}

/* ---- PUT /_sim/providers/{iysCode}/subscription ------------------------------- */

void iz__sim_h_provider_sub_put(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    int64_t code;
    iz_sim_provider_t p;
    if (code_param(r, "iysCode", "H190", &code) != 0) return;
    int rc = iz_sim_provider_get(sim->st, code, &p);
    if (rc != 0) {
        if (rc == IZ_ENOTFOUND)
            iz_reply_error(r, "H001", NULL);
        else
            store_error(r);
        return;
    }
    json_t *body = iz__sim_body_object(r);
    if (!body) return;
    static const char *const allowed[] = {
        "status",      "consentLimit", "consentLimitExceed", "apiAccess", "subscriptionId",
        "packageName", "startDate",    "expirationDate",     "via",       "viaPass"};
    const char *unk = iz_json_unknown_key(body, allowed, IZ_ARRAY_LEN(allowed));
    iz_sim_subinfo_t hs;
    iz_sim_via_t via, pass;
    bool has_via, has_pass, exceed, api;
    int64_t limit;
    if (unk) {
        iz__sim_admin_field_error(r, unk, "Bilinmeyen alan.", "Unknown field.");
    } else if (subinfo_body(r, body, "", true, &hs) == 0 &&
               opt_int(r, body, "consentLimit", "consentLimit", 0, 0, &limit) == 0 &&
               opt_bool(r, body, "consentLimitExceed", false, &exceed) == 0 &&
               opt_bool(r, body, "apiAccess", true, &api) == 0 &&
               via_body(r, body, false, &via, &has_via) == 0 &&
               via_body(r, body, true, &pass, &has_pass) == 0) {
        /* Each write is one statement; the whole is applied in order and a
         * failure (the disk) is answered 500. */
        rc = iz_sim_hs_set(sim->st, code, &hs, limit, exceed, api);
        if (rc == 0) rc = iz_sim_via_set(sim->st, code, false, has_via ? &via : NULL);
        if (rc == 0) rc = iz_sim_via_set(sim->st, code, true, has_pass ? &pass : NULL);
        if (rc == 0) rc = iz_sim_provider_get(sim->st, code, &p);
        if (rc != 0) {
            store_error(r);
        } else {
            json_t *out = iz__sim_subscription_json(sim, &p, true);
            json_object_set_new(out, "apiAccess", json_boolean(p.api_access));
            iz_reply_json(r, 200, out);
        }
    }
    json_decref(body);
}

/* ---- integrators --------------------------------------------------------------- */

int iz__sim_grants_json(iz_sim_t *sim, int64_t integrator_code, int64_t iys_code, json_t **out)
{
    iz_sim_grant_t *list = NULL;
    size_t n = 0;
    *out = json_array();
    int rc = iz_sim_grant_list(sim->st, integrator_code, iys_code, 0, INT64_MAX, &list, &n, NULL);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *g = iz__sim_grant_json(&list[i]);
        json_object_set_new(g, "integratorCode", json_integer(list[i].integrator_code));
        json_array_append_new(*out, g);
    }
    free(list);
    return rc;
}

static json_t *integrator_json(const iz_sim_integrator_t *ig)
{
    char created[IZ_DATETIME_LEN];
    iz_tr_format(ig->created, created);
    json_t *j = json_pack("{s:I, s:s, s:s, s:s}", "integratorCode", (json_int_t)ig->code, "name",
                          ig->name, "username", ig->username, "created", created);
    if (!j) iz_oom();
    if (ig->sub.status == IZ_SUB_NONE)
        json_object_set_new(j, "subscription", json_null());
    else
        json_object_set_new(j, "subscription", iz__sim_integrator_sub_json(ig));
    return j;
}

void iz__sim_h_integrators_add(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    json_t *body = iz__sim_body_object(r);
    if (!body) return;
    static const char *const allowed[] = {"integratorCode", "name", "username", "password",
                                          "subscription"};
    const char *unk = iz_json_unknown_key(body, allowed, IZ_ARRAY_LEN(allowed));
    iz_sim_integrator_t ig = {0};
    json_t *pw = json_object_get(body, "password"), *v;
    if (unk) {
        iz__sim_admin_field_error(r, unk, "Bilinmeyen alan.", "Unknown field.");
    } else if (!iz__sim_positive_code(json_object_get(body, "integratorCode"), &ig.code)) {
        iz__sim_admin_field_error(r, "integratorCode",
                                  "integratorCode pozitif bir tam sayı olmalıdır.",
                                  "integratorCode must be a positive integer.");
    } else if (iz__sim_check_account(r, body) != 0) {
        /* answered */
    } else if ((v = json_object_get(body, "subscription")) &&
               iz__sim_check_subscription(r, v, &ig.sub.status) != 0) {
        /* answered */
    } else {
        if (!v) ig.sub.status = IZ_SUB_ACTIVE;
        iz_strlcpy(ig.name, json_string_value(json_object_get(body, "name")), sizeof ig.name);
        iz_strlcpy(ig.username, json_string_value(json_object_get(body, "username")),
                   sizeof ig.username);
        ig.created = (int64_t)time(NULL);
        int rc = iz_sim_integrator_add(sim->st, &ig, json_string_value(pw));
        iz_sim_integrator_t other;
        if (rc == IZ_EEXIST && iz_sim_integrator_get(sim->st, ig.code, &other) == 0)
            iz__sim_conflict(r, "integratorCode",
                             "Bu integratorCode ile bir iş ortağı zaten kayıtlı.",
                             "An integrator with this integratorCode already exists.");
        else if (rc == IZ_EEXIST)
            iz__sim_conflict(r, "username", "Bu kullanıcı adı (username) zaten kayıtlı.",
                             "This username is already taken.");
        else if (rc != 0)
            store_error(r);
        else
            iz_reply_json(r, 201, integrator_json(&ig));
    }
    json_decref(body);
}

void iz__sim_h_integrators_list(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz_sim_integrator_t *list = NULL;
    size_t n = 0;
    int rc = iz_sim_integrator_list(sim->st, &list, &n);
    json_t *arr = json_array();
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *j = integrator_json(&list[i]), *grants = NULL;
        rc = iz__sim_grants_json(sim, list[i].code, 0, &grants);
        json_object_set_new(j, "authorizations", grants);
        json_array_append_new(arr, j);
    }
    free(list);
    if (rc != 0) {
        json_decref(arr);
        store_error(r);
        return;
    }
    iz_reply_json(r, 200, json_pack("{s:o}", "list", arr));
}

/* The integrator of the path: 0, or answered (422 H190, 404 H129). */
static int path_integrator(iz_req_t *r, iz_sim_t *sim, iz_sim_integrator_t *ig)
{
    int64_t code;
    if (code_param(r, "integratorCode", "H190", &code) != 0) return -1;
    int rc = iz_sim_integrator_get(sim->st, code, ig);
    if (rc == 0) return 0;
    if (rc == IZ_ENOTFOUND)
        iz_reply_error(r, "H129", NULL);
    else
        store_error(r);
    return -1;
}

void iz__sim_h_integrator_sub_put(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz_sim_integrator_t ig;
    if (path_integrator(r, sim, &ig) != 0) return;
    json_t *body = iz__sim_body_object(r);
    if (!body) return;
    static const char *const allowed[] = {"status", "subscriptionId", "packageName", "startDate",
                                          "expirationDate"};
    const char *unk = iz_json_unknown_key(body, allowed, IZ_ARRAY_LEN(allowed));
    iz_sim_subinfo_t sub;
    if (unk) {
        iz__sim_admin_field_error(r, unk, "Bilinmeyen alan.", "Unknown field.");
    } else if (subinfo_body(r, body, "", true, &sub) == 0) {
        if (iz_sim_integrator_sub_set(sim->st, ig.code, &sub) != 0 ||
            iz_sim_integrator_get(sim->st, ig.code, &ig) != 0)
            store_error(r);
        else
            iz_reply_json(r, 200, integrator_json(&ig));
    }
    json_decref(body);
}

/* A right field: absent or null is none, else "read" or "write". */
static int right_field(iz_req_t *r, json_t *body, iz_type_t type, iz_right_t *out)
{
    const char *name = iz_type_name(type);
    json_t *v = json_object_get(body, name);
    *out = IZ_RIGHT_NONE;
    if (!v || json_is_null(v)) return 0;
    const char *s = json_string_value(v);
    if (s && strcmp(s, "read") == 0) {
        *out = IZ_RIGHT_READ;
    } else if (s && strcmp(s, "write") == 0) {
        *out = IZ_RIGHT_WRITE;
    } else {
        iz__sim_admin_field_error(r, name, "Yetki için uygun değerler: read, write, null",
                                  "Valid values for a right: read, write, null");
        return -1;
    }
    return 0;
}

/* API.md's form of a grant, {iysCode, brandCodes?:[...], types:[MESAJ,
 * ARAMA, EPOSTA], rights:[READ, WRITE, RECONCILE]}, as the detailed form
 * this file keeps ({iysCode, MESAJ: "read"|"write", ..., agreementControl};
 * a new reference), and its brands into *brands (borrowed; NULL: every
 * brand of the provider). NULL after answering a bad body. */
static json_t *contract_grant(iz_req_t *r, json_t *body, json_t **brands)
{
    static const char *const allowed[] = {"iysCode", "brandCodes", "types", "rights"};
    const char *unk = iz_json_unknown_key(body, allowed, IZ_ARRAY_LEN(allowed));
    json_t *types = json_object_get(body, "types"), *rights = json_object_get(body, "rights");
    *brands = json_object_get(body, "brandCodes");
    if (unk) {
        iz__sim_admin_field_error(r, unk, "Bilinmeyen alan.", "Unknown field.");
        return NULL;
    }
    if (*brands && (!json_is_array(*brands) || json_array_size(*brands) == 0)) {
        iz__sim_admin_field_error(r, "brandCodes", "brandCodes boş olmayan bir liste olmalıdır.",
                                  "brandCodes must be a non-empty list.");
        return NULL;
    }
    bool read = false, write = false, reconcile = false;
    size_t i;
    json_t *v;
    json_array_foreach(rights, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strcmp(s, "READ") == 0) read = true;
        else if (s && strcmp(s, "WRITE") == 0) write = true;
        else if (s && strcmp(s, "RECONCILE") == 0) reconcile = true;
        else break;
    }
    if (!json_is_array(rights) || i < json_array_size(rights)) {
        iz__sim_admin_field_error(r, "rights", "rights READ, WRITE, RECONCILE listesi olmalıdır.",
                                  "rights must be a list of READ, WRITE, RECONCILE.");
        return NULL;
    }
    json_t *out = json_pack("{s:O?, s:b}", "iysCode", json_object_get(body, "iysCode"),
                            "agreementControl", reconcile);
    if (!out) iz_oom();
    json_array_foreach(types, i, v)
    {
        iz_type_t t;
        if (!json_is_string(v) || iz_type_parse(json_string_value(v), &t) != 0) break;
        if (read || write)
            json_object_set_new(out, iz_type_name(t), json_string(write ? "write" : "read"));
    }
    if (!json_is_array(types) || i < json_array_size(types)) {
        json_decref(out);
        iz__sim_admin_field_error(r, "types", "types MESAJ, ARAMA, EPOSTA listesi olmalıdır.",
                                  "types must be a list of MESAJ, ARAMA, EPOSTA.");
        return NULL;
    }
    return out;
}

/* Give (add) or withdraw an integrator's grant on one brand of the
 * provider body names, or on every one of its brands (vb NULL). 0, or -1
 * after answering the error. */
static int grant_apply(iz_req_t *r, iz_sim_t *sim, const iz_sim_integrator_t *ig, json_t *body,
                       json_t *vb, bool add, int64_t *iys_code)
{
    static const char *const allowed[] = {"iysCode", "brandCode",        "MESAJ",     "ARAMA",
                                          "EPOSTA",  "agreementControl", "viaControl"};
    const char *unk = iz_json_unknown_key(body, allowed, IZ_ARRAY_LEN(allowed));
    iz_sim_grant_t g = {.integrator_code = ig->code};
    iz_sim_provider_t p;
    if (unk) {
        iz__sim_admin_field_error(r, unk, "Bilinmeyen alan.", "Unknown field.");
    } else if (!iz__sim_positive_code(json_object_get(body, "iysCode"), &g.iys_code)) {
        iz__sim_admin_field_error(r, "iysCode", "iysCode pozitif bir tam sayı olmalıdır.",
                                  "iysCode must be a positive integer.");
    } else if (vb && !iz__sim_positive_code(vb, &g.brand_code)) {
        iz__sim_admin_field_error(r, "brandCode", "brandCode pozitif bir tam sayı olmalıdır.",
                                  "brandCode must be a positive integer.");
    } else if (right_field(r, body, IZ_MESAJ, &g.mesaj) != 0 ||
               right_field(r, body, IZ_ARAMA, &g.arama) != 0 ||
               right_field(r, body, IZ_EPOSTA, &g.eposta) != 0 ||
               opt_bool(r, body, "agreementControl", false, &g.agreement) != 0 ||
               opt_bool(r, body, "viaControl", false, &g.via) != 0) {
        /* answered */
    } else if (iz_sim_provider_get(sim->st, g.iys_code, &p) != 0) {
        iz_reply_error(r, "H001", NULL);
    } else if (vb && iz_sim_brand_get(sim->st, g.iys_code, g.brand_code, NULL) != 0) {
        iz_reply_error(r, "H018", NULL);
    } else {
        iz_sim_brand_stats_t *brands = NULL;
        size_t n = 0;
        int rc = 0;
        if (!vb) rc = iz_sim_brand_stats(sim->st, g.iys_code, false, &brands, &n);
        for (size_t i = 0; rc == 0 && i < (vb ? 1 : n); i++) {
            if (!vb) g.brand_code = brands[i].brand_code;
            rc = add ? iz_sim_grant_set(sim->st, &g)
                     : iz_sim_grant_delete(sim->st, ig->code, g.iys_code, g.brand_code);
            if (rc == IZ_ENOTFOUND && !add) rc = 0; /* nothing to withdraw there */
        }
        free(brands);
        if (rc != 0) {
            store_error(r);
            return -1;
        }
        *iys_code = g.iys_code;
        return 0;
    }
    return -1;
}

/* POST and DELETE .../authorizations: the provider's one brand (brandCode)
 * or, without it, every brand of the provider gets the same grant
 * (replacing one there was), or loses it. The body is this file's detailed
 * form or API.md's ({iysCode, brandCodes?, types, rights}). */
static void grant_change(iz_req_t *r, void *app, bool add)
{
    iz_sim_t *sim = app;
    iz_sim_integrator_t ig;
    if (path_integrator(r, sim, &ig) != 0) return;
    json_t *body = iz__sim_body_object(r);
    if (!body) return;
    bool contract = json_object_get(body, "types") || json_object_get(body, "rights") ||
                    json_object_get(body, "brandCodes");
    json_t *brands = NULL, *detail = contract ? contract_grant(r, body, &brands) : json_incref(body);
    int64_t iys = 0;
    int rc = detail ? 0 : -1;
    /* All the brands' grants or none: a bad brand late in the list takes
     * back the ones before it. */
    bool batch = rc == 0 && iz_sim_batch_begin(sim->st) == 0;
    if (rc == 0 && !batch) {
        store_error(r);
        rc = -1;
    }
    if (rc == 0 && contract && brands) {
        size_t i;
        json_t *b;
        json_array_foreach(brands, i, b)
        {
            if ((rc = grant_apply(r, sim, &ig, detail, b, add, &iys)) != 0) break;
        }
    } else if (rc == 0) {
        rc = grant_apply(r, sim, &ig, detail, contract ? NULL : json_object_get(body, "brandCode"),
                         add, &iys);
    }
    if (detail && iz_sim_batch_end(sim->st, rc == 0 ? 0 : IZ_EINVAL) != 0 && rc == 0) {
        store_error(r);
        rc = -1;
    }
    if (rc == 0) {
        json_t *out = NULL;
        if (iz__sim_grants_json(sim, ig.code, iys, &out) != 0) {
            json_decref(out);
            store_error(r);
        } else {
            iz_reply_json(r, add ? 201 : 200, json_pack("{s:o}", "list", out));
        }
    }
    json_decref(detail);
    json_decref(body);
}

void iz__sim_h_grant_add(iz_req_t *r, void *app)
{
    grant_change(r, app, true);
}

void iz__sim_h_grant_withdraw(iz_req_t *r, void *app)
{
    grant_change(r, app, false);
}

void iz__sim_h_grant_delete(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz_sim_integrator_t ig;
    int64_t iys, brand;
    if (path_integrator(r, sim, &ig) != 0 || code_param(r, "iysCode", "H190", &iys) != 0 ||
        code_param(r, "brandCode", "H191", &brand) != 0)
        return;
    int rc = iz_sim_grant_delete(sim->st, ig.code, iys, brand);
    if (rc == 0)
        iz_reply_bytes(r, 204, NULL, "", 0);
    else if (rc == IZ_ENOTFOUND)
        iz_reply_error(r, "IZ404", NULL);
    else
        store_error(r);
}
