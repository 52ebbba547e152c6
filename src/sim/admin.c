/*
 * admin.c - the emulator's administration under /_sim/ (JSON, no auth: the
 * emulator listens on loopback): service providers with their API user,
 * brands, subscription and quota (I4; the whole subscription and the
 * integrators: accounts_admin.c); the injected faults; the statistics;
 * and /healthz, which the test harness waits on.
 *
 * Field errors answer 422 IZ422 naming the field, a body that is not a JSON
 * object 400 IZ400, a taken iysCode, username or brand 409 IZ409. A
 * password is never echoed or listed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hcode.h"
#include "core/iz.h"
#include "core/trtime.h"
#include "sim/sim_int.h"

#define MAX_BRANDS 1000
#define MAX_CODE 9007199254740991LL /* the largest integer a JSON client keeps exact */
#define NAME_MAX_BYTES 127
#define PASSWORD_MIN 8
#define PASSWORD_MAX 256
#define MAX_WINDOW 86400
#define MAX_LATENCY_MS 60000

/* Answer 422 IZ422 for one field with a message in the client's language. */
void iz__sim_admin_field_error(iz_req_t *r, const char *field, const char *tr, const char *en)
{
    iz_error_t e = {
        .code = "IZ422", .message = iz_req_english(r) ? en : tr, .location = field, .index = -1};
    iz_reply_errors(r, 422, &e, 1);
}

void iz__sim_conflict(iz_req_t *r, const char *field, const char *tr, const char *en)
{
    iz_error_t e = {
        .code = "IZ409", .message = iz_req_english(r) ? en : tr, .location = field, .index = -1};
    iz_reply_errors(r, 409, &e, 1);
}

/* The body as a JSON object, or NULL after answering. */
json_t *iz__sim_body_object(iz_req_t *r)
{
    json_t *body = iz_req_json(r);
    if (!body) return NULL;
    if (!json_is_object(body)) {
        json_decref(body);
        iz_reply_error(r, "IZ400",
                       iz_req_english(r) ? "The body must be a JSON object."
                                         : "İstek gövdesi bir JSON nesnesi olmalıdır.");
        return NULL;
    }
    return body;
}

bool iz__sim_positive_code(json_t *v, int64_t *out)
{
    if (!json_is_integer(v)) return false;
    json_int_t n = json_integer_value(v);
    if (n <= 0 || n > MAX_CODE) return false;
    *out = (int64_t)n;
    return true;
}

/* A printable, non-empty name that fits the store's columns. */
bool iz__sim_good_name(json_t *v)
{
    if (!json_is_string(v)) return false;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n == 0 || n > NAME_MAX_BYTES || strlen(s) != n) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
    return true;
}

/* A username: 3 to 127 of [A-Za-z0-9._@-]. */
static bool good_username(json_t *v)
{
    if (!json_is_string(v)) return false;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n < 3 || n > NAME_MAX_BYTES || strlen(s) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '@' || c == '-'))
            return false;
    }
    return true;
}

/* A password: 8 to 256 bytes of text without NUL. */
static bool good_password(json_t *v)
{
    return json_is_string(v) && json_string_length(v) >= PASSWORD_MIN &&
           json_string_length(v) <= PASSWORD_MAX &&
           strlen(json_string_value(v)) == json_string_length(v);
}

int iz__sim_check_account(iz_req_t *r, json_t *body)
{
    if (!iz__sim_good_name(json_object_get(body, "name"))) {
        iz__sim_admin_field_error(r, "name", "name 1-127 baytlık bir metin olmalıdır.",
                                  "name must be text of 1 to 127 bytes.");
    } else if (!good_username(json_object_get(body, "username"))) {
        iz__sim_admin_field_error(
            r, "username", "username 3-127 karakter olmalı; harf, rakam ve . _ @ - içerebilir.",
            "username must be 3 to 127 characters of letters, digits and . _ @ -.");
    } else if (!good_password(json_object_get(body, "password"))) {
        iz__sim_admin_field_error(r, "password", "password 8-256 baytlık bir metin olmalıdır.",
                                  "password must be text of 8 to 256 bytes.");
    } else {
        return 0;
    }
    return -1;
}

/* A brand list: 1..MAX_BRANDS objects {brandCode, name}, codes unique.
 * Returns 0, or answers 422 and returns -1. */
static int check_brands(iz_req_t *r, json_t *brands)
{
    if (!json_is_array(brands) || json_array_size(brands) == 0 ||
        json_array_size(brands) > MAX_BRANDS) {
        iz__sim_admin_field_error(r, "brands",
                                  "brands 1 ile 1000 arasında marka içeren bir liste olmalıdır.",
                                  "brands must be a list of 1 to 1000 brands.");
        return -1;
    }
    static const char *const allowed[] = {"brandCode", "name"};
    size_t i;
    json_t *b;
    json_array_foreach(brands, i, b)
    {
        int64_t code;
        if (!json_is_object(b) || iz_json_unknown_key(b, allowed, IZ_ARRAY_LEN(allowed)) ||
            !iz__sim_positive_code(json_object_get(b, "brandCode"), &code) ||
            !iz__sim_good_name(json_object_get(b, "name"))) {
            iz_error_t e = {.code = "IZ422",
                            .message = iz_req_english(r)
                                           ? "Each brand must be {brandCode: a positive "
                                             "integer, name: 1 to 127 bytes of text}."
                                           : "Her marka {brandCode: pozitif tam sayı, name: 1-127 "
                                             "baytlık metin} olmalıdır.",
                            .location = "brands",
                            .index = (int)i};
            iz_reply_errors(r, 422, &e, 1);
            return -1;
        }
        for (size_t k = 0; k < i; k++) {
            int64_t other = 0;
            iz__sim_positive_code(json_object_get(json_array_get(brands, k), "brandCode"), &other);
            if (other == code) {
                iz_error_t e = {.code = "IZ422",
                                .message = iz_req_english(r)
                                               ? "A brandCode repeats in the list."
                                               : "Listede bir brandCode tekrar ediyor.",
                                .location = "brands",
                                .index = (int)i};
                iz_reply_errors(r, 422, &e, 1);
                return -1;
            }
        }
    }
    return 0;
}

/* quota: an integer >= 0 (0 = unlimited). */
static int check_quota(iz_req_t *r, json_t *v, int64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > MAX_CODE) {
        iz__sim_admin_field_error(r, "quota",
                                  "quota 0 veya pozitif bir tam sayı olmalıdır (0 = sınırsız).",
                                  "quota must be 0 or a positive integer (0 = unlimited).");
        return -1;
    }
    *out = (int64_t)json_integer_value(v);
    return 0;
}

int iz__sim_check_subscription(iz_req_t *r, json_t *v, iz_sub_t *out)
{
    if (!json_is_string(v) || iz_sub_parse(json_string_value(v), out) != 0) {
        iz__sim_admin_field_error(
            r, "subscription",
            "subscription için uygun değerler: ACTIVE, PAUSED, EXPIRED, CLOSED, NONE",
            "Valid values for subscription: ACTIVE, PAUSED, EXPIRED, CLOSED, NONE");
        return -1;
    }
    return 0;
}

/* activationDate: "YYYY-MM-DD" (a real date) or "" / null to clear. */
static int check_activation(iz_req_t *r, json_t *v, char out[11])
{
    int64_t e;
    if (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        out[0] = '\0';
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) != 10 ||
        iz_tr_parse_date(json_string_value(v), &e) != 0) {
        iz__sim_admin_field_error(r, "activationDate",
                                  "activationDate YYYY-MM-DD biçiminde bir tarih olmalıdır.",
                                  "activationDate must be a date as YYYY-MM-DD.");
        return -1;
    }
    memcpy(out, json_string_value(v), 11);
    return 0;
}

static json_t *provider_json(const iz_sim_provider_t *p)
{
    char created[IZ_DATETIME_LEN];
    iz_tr_format(p->created, created);
    json_t *j =
        json_pack("{s:I, s:s, s:s, s:s, s:I, s:s}", "iysCode", (json_int_t)p->iys_code, "name",
                  p->name, "username", p->username, "subscription", iz_sub_name(p->subscription),
                  "quota", (json_int_t)p->quota, "created", created);
    if (!j) iz_oom();
    if (p->activation_date[0])
        json_object_set_new(j, "activationDate", json_string(p->activation_date));
    return j;
}

/* Add the brands of a checked list; IZ_EEXIST names the first taken one. */
static int add_brands(iz_sim_t *sim, int64_t iys_code, json_t *brands, json_t *out, int64_t *taken)
{
    size_t i;
    json_t *b;
    json_array_foreach(brands, i, b)
    {
        int64_t code = (int64_t)json_integer_value(json_object_get(b, "brandCode"));
        const char *name = json_string_value(json_object_get(b, "name"));
        int rc = iz_sim_brand_add(sim->st, iys_code, code, name);
        if (rc != 0) {
            *taken = code;
            return rc;
        }
        json_array_append_new(out,
                              json_pack("{s:I, s:s}", "brandCode", (json_int_t)code, "name", name));
    }
    return 0;
}

static void store_error(iz_req_t *r, int rc)
{
    (void)rc;
    iz_reply_error(r, "IZ500", NULL);
}

void iz__sim_h_providers_add(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    json_t *body = iz__sim_body_object(r);
    if (!body) return;
    static const char *const allowed[] = {"iysCode", "name",  "username",     "password",
                                          "brands",  "quota", "subscription", "activationDate"};
    const char *unk = iz_json_unknown_key(body, allowed, IZ_ARRAY_LEN(allowed));
    iz_sim_provider_t p = {0};
    json_t *pw = json_object_get(body, "password");
    json_t *brands = json_object_get(body, "brands");
    json_t *v;
    if (unk) {
        iz__sim_admin_field_error(r, unk, "Bilinmeyen alan.", "Unknown field.");
    } else if (!iz__sim_positive_code(json_object_get(body, "iysCode"), &p.iys_code)) {
        iz__sim_admin_field_error(r, "iysCode", "iysCode pozitif bir tam sayı olmalıdır.",
                                  "iysCode must be a positive integer.");
    } else if (iz__sim_check_account(r, body) != 0) {
        /* answered */
    } else if (check_brands(r, brands) != 0) {
        /* answered */
    } else if ((v = json_object_get(body, "quota")) && check_quota(r, v, &p.quota) != 0) {
        /* answered */
    } else if ((v = json_object_get(body, "subscription")) &&
               iz__sim_check_subscription(r, v, &p.subscription) != 0) {
        /* answered */
    } else if ((v = json_object_get(body, "activationDate")) &&
               check_activation(r, v, p.activation_date) != 0) {
        /* answered */
    } else {
        if (!json_object_get(body, "subscription")) p.subscription = IZ_SUB_ACTIVE;
        iz_strlcpy(p.name, json_string_value(json_object_get(body, "name")), sizeof p.name);
        iz_strlcpy(p.username, json_string_value(json_object_get(body, "username")),
                   sizeof p.username);
        p.created = (int64_t)time(NULL);
        int rc = iz_sim_provider_add(sim->st, &p, json_string_value(pw));
        iz_sim_provider_t other;
        if (rc == IZ_EEXIST && iz_sim_provider_get(sim->st, p.iys_code, &other) == 0) {
            iz__sim_conflict(r, "iysCode", "Bu iysCode ile bir hizmet sağlayıcı zaten kayıtlı.",
                             "A provider with this iysCode already exists.");
        } else if (rc == IZ_EEXIST) {
            iz__sim_conflict(r, "username", "Bu kullanıcı adı (username) zaten kayıtlı.",
                             "This username is already taken.");
        } else if (rc != 0) {
            store_error(r, rc);
        } else {
            json_t *out = provider_json(&p);
            json_t *list = json_array();
            int64_t taken = 0;
            rc = add_brands(sim, p.iys_code, brands, list, &taken);
            json_object_set_new(out, "brands", list);
            if (rc != 0) {
                json_decref(out);
                store_error(r, rc);
            } else {
                iz_reply_json(r, 201, out);
            }
        }
    }
    json_decref(body);
}

void iz__sim_h_providers_list(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz_sim_provider_t *list = NULL;
    size_t n = 0;
    int rc = iz_sim_provider_list(sim->st, &list, &n);
    if (rc != 0) {
        store_error(r, rc);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *j = provider_json(&list[i]);
        json_object_set_new(j, "subscriptionDetail",
                            iz__sim_subscription_json(sim, &list[i], true));
        json_t *grants = NULL;
        rc = iz__sim_grants_json(sim, 0, list[i].iys_code, &grants);
        json_object_set_new(j, "integrators", grants);
        json_array_append_new(arr, j);
    }
    free(list);
    if (rc != 0) {
        json_decref(arr);
        store_error(r, rc);
        return;
    }
    iz_reply_json(r, 200, json_pack("{s:o}", "list", arr));
}

void iz__sim_h_provider_update(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    int64_t code;
    if (iz_parse_i64(iz_req_param(r, "iysCode"), 1, MAX_CODE, &code) != 0) {
        iz_reply_error(r, "H190", NULL);
        return;
    }
    iz_sim_provider_t p;
    int rc = iz_sim_provider_get(sim->st, code, &p);
    if (rc == IZ_ENOTFOUND) {
        iz_reply_error(r, "H001", NULL);
        return;
    }
    if (rc != 0) {
        store_error(r, rc);
        return;
    }
    json_t *body = iz__sim_body_object(r);
    if (!body) return;
    static const char *const allowed[] = {"subscription", "quota", "brands", "activationDate"};
    const char *unk = iz_json_unknown_key(body, allowed, IZ_ARRAY_LEN(allowed));
    iz_sub_t sub;
    int64_t quota;
    char act[11];
    json_t *vs = json_object_get(body, "subscription");
    json_t *vq = json_object_get(body, "quota");
    json_t *va = json_object_get(body, "activationDate");
    json_t *brands = json_object_get(body, "brands");
    if (unk) {
        iz__sim_admin_field_error(r, unk, "Bilinmeyen alan.", "Unknown field.");
    } else if (va && check_activation(r, va, act) != 0) {
        /* answered */
    } else if (vs && iz__sim_check_subscription(r, vs, &sub) != 0) {
        /* answered */
    } else if (vq && check_quota(r, vq, &quota) != 0) {
        /* answered */
    } else if (brands && check_brands(r, brands) != 0) {
        /* answered */
    } else {
        /* Refuse a taken brand before changing anything. */
        size_t i;
        json_t *b;
        int64_t taken = 0;
        if (brands) {
            json_array_foreach(brands, i, b)
            {
                int64_t bc = (int64_t)json_integer_value(json_object_get(b, "brandCode"));
                if (iz_sim_brand_get(sim->st, code, bc, NULL) == 0) {
                    taken = bc;
                    break;
                }
            }
        }
        if (taken) {
            iz__sim_conflict(r, "brands",
                             "Bu marka kodu (brandCode) bu hizmet sağlayıcıda zaten var.",
                             "The provider already has this brandCode.");
        } else if ((vs || vq) && (rc = iz_sim_provider_update(sim->st, code, vs ? &sub : NULL,
                                                              vq ? &quota : NULL)) != 0) {
            store_error(r, rc);
        } else if (va && (rc = iz_sim_provider_set_activation(sim->st, code, act)) != 0) {
            store_error(r, rc);
        } else if ((rc = iz_sim_provider_get(sim->st, code, &p)) != 0) {
            store_error(r, rc);
        } else {
            json_t *out = provider_json(&p);
            json_t *added = json_array();
            rc = brands ? add_brands(sim, code, brands, added, &taken) : 0;
            json_object_set_new(out, "brandsAdded", added);
            if (rc == IZ_EEXIST) {
                json_decref(out);
                iz__sim_conflict(r, "brands",
                                 "Bu marka kodu (brandCode) bu hizmet sağlayıcıda zaten var.",
                                 "The provider already has this brandCode.");
            } else if (rc != 0) {
                json_decref(out);
                store_error(r, rc);
            } else {
                iz_reply_json(r, 200, out);
            }
        }
    }
    json_decref(body);
}

/* A whole number in [0, max] from a JSON integer (or a real with no
 * fraction, as some clients send 500.0). */
static bool whole(json_t *v, int64_t max, int64_t *out)
{
    double d;
    if (json_is_integer(v))
        d = (double)json_integer_value(v);
    else if (json_is_real(v))
        d = json_real_value(v);
    else
        return false;
    if (!(d >= 0 && d <= (double)max) || floor(d) != d) return false;
    *out = (int64_t)d;
    return true;
}

/* Read the faults of a PUT body into f (absent fields stay off). Returns 0,
 * or answers 422 and returns -1. */
static int parse_faults(iz_req_t *r, json_t *body, int64_t now, iz__sim_faults_t *f)
{
    static const char *const allowed[] = {"latencyMs", "errorRate", "status429Seconds",
                                          "outageSeconds"};
    const char *unk = iz_json_unknown_key(body, allowed, IZ_ARRAY_LEN(allowed));
    if (unk) {
        iz__sim_admin_field_error(r, unk, "Bilinmeyen alan.", "Unknown field.");
        return -1;
    }
    /* The whole-number fields: their bound and where they go. */
    struct {
        const char *name;
        int64_t max, *out;
    } whole_fields[] = {{"latencyMs", MAX_LATENCY_MS, NULL},
                        {"status429Seconds", MAX_WINDOW, &f->until_429},
                        {"outageSeconds", MAX_WINDOW, &f->outage_until}};
    for (size_t i = 0; i < IZ_ARRAY_LEN(whole_fields); i++) {
        json_t *v = json_object_get(body, whole_fields[i].name);
        int64_t n;
        if (!v) continue;
        if (!whole(v, whole_fields[i].max, &n)) {
            char tr[128], en[128];
            snprintf(tr, sizeof tr, "%s 0 ile %lld arasında bir tam sayı olmalıdır.",
                     whole_fields[i].name, (long long)whole_fields[i].max);
            snprintf(en, sizeof en, "%s must be a whole number from 0 to %lld.",
                     whole_fields[i].name, (long long)whole_fields[i].max);
            iz__sim_admin_field_error(r, whole_fields[i].name, tr, en);
            return -1;
        }
        if (whole_fields[i].out)
            *whole_fields[i].out = n ? now + n : 0; /* a window from now */
        else
            f->latency_ms = (int)n;
    }
    json_t *v = json_object_get(body, "errorRate");
    if (v) {
        if (!json_is_number(v) || !(json_number_value(v) >= 0.0) || json_number_value(v) > 1.0) {
            iz__sim_admin_field_error(r, "errorRate",
                                      "errorRate 0 ile 1 arasında bir sayı olmalıdır.",
                                      "errorRate must be a number from 0 to 1.");
            return -1;
        }
        f->error_rate = json_number_value(v);
    }
    return 0;
}

/* PUT replaces the whole set: a field left out is off, so {} clears all. */
void iz__sim_h_faults(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    json_t *body = iz__sim_body_object(r);
    if (!body) return;
    iz__sim_faults_t f = {0};
    if (parse_faults(r, body, (int64_t)time(NULL), &f) == 0) {
        iz__sim_faults_set(sim->ops, &f);
        iz_reply_json(r, 200, iz__sim_faults_json(sim->ops));
    }
    json_decref(body);
}

void iz__sim_h_stats(iz_req_t *r, void *app)
{
    iz_reply_json(r, 200, iz__sim_stats_json(app));
}

void iz__sim_h_healthz(iz_req_t *r, void *app)
{
    (void)app;
    iz_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}
