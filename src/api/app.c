/*
 * app.c - what the module's handlers share: the route table, bearer-key
 * authentication, brand resolution scoped to the key's account, the JSON
 * form of a change, one answer for a recorded change, and the checks of
 * fields every handler makes alike.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api/api_int.h"
#include "core/hcode.h"
#include "core/iz.h"
#include "net/jsonconsent.h"
#include "sys/crypto.h"
#include "sys/log.h"

static const iz_route_t routes[] = {
    {"GET", "/healthz", iz__h_healthz, 0, "healthz"},
    {"POST", "/v1/brands/{brandCode}/consents", iz__h_consent_post, IZ_ROUTE_AUTH, "consent_add"},
    {"GET", "/v1/brands/{brandCode}/consents/{recipient}", iz__h_consent_get, IZ_ROUTE_AUTH,
     "consent_get"},
    {"POST", "/v1/brands/{brandCode}/check", iz__h_check_post, IZ_ROUTE_AUTH | IZ_ROUTE_STREAM,
     "check"},
    {"GET", "/v1/brands/{brandCode}/check/{recipient}", iz__h_check_get, IZ_ROUTE_AUTH,
     "check_one"},
    {"GET", "/v1/brands/{brandCode}/changes", iz__h_changes, IZ_ROUTE_AUTH, "changes"},
    {"GET", "/v1/brands/{brandCode}/iys/quarantine", iz__h_quarantine, IZ_ROUTE_AUTH, "quarantine"},
    {"GET", "/v1/brands/{brandCode}/iys/reconciliations", iz__h_reconciliations, IZ_ROUTE_AUTH,
     "reconciliations"},
    {"POST", "/v1/iys/push/{iysCode}/{brandCode}", iz__h_iys_push, 0, "iys_push"},
    {"POST", "/v1/brands/{brandCode}/sms/send", iz__h_sms_send, IZ_ROUTE_AUTH | IZ_ROUTE_STREAM,
     "sms_send"},
    {"GET", "/v1/sms/sends/{id}", iz__h_sms_send_get, IZ_ROUTE_AUTH, "sms_send_get"},
    {"GET", "/v1/sms/dlr", iz__h_sms_dlr, 0, "sms_dlr"},
    {"GET", "/v1/brands/{brandCode}", iz__h_brand_get, IZ_ROUTE_AUTH, "brand"},
    {"PATCH", "/v1/brands/{brandCode}", iz__h_brand_patch, IZ_ROUTE_AUTH, "brand_patch"},
    {"GET", "/v1/sms/inbound", iz__h_sms_inbound_kannel, 0, "sms_inbound_kannel"},
    {"POST", "/v1/sms/inbound", iz__h_sms_inbound_json, 0, "sms_inbound"},
    {"POST", "/v1/sms/inbound/jasmin", iz__h_sms_inbound_jasmin, 0, "sms_inbound_jasmin"},
    {"POST", "/v1/brands/{brandCode}/voice/campaigns", iz__h_voice_campaign_post, IZ_ROUTE_AUTH,
     "voice_campaign"},
    {"GET", "/v1/voice/campaigns/{campaignId}/numbers", iz__h_voice_numbers, IZ_ROUTE_AUTH,
     "voice_numbers"},
    {"POST", "/v1/brands/{brandCode}/voice/optout", iz__h_voice_optout, IZ_ROUTE_AUTH,
     "voice_optout"},
    {"POST", "/v1/brands/{brandCode}/consents/bulk", iz__h_bulk_post,
     IZ_ROUTE_AUTH | IZ_ROUTE_STREAM, "bulk_upload"},
    {"GET", "/v1/jobs/{jobId}", iz__h_job_get, IZ_ROUTE_AUTH, "job"},
    {"GET", "/v1/jobs/{jobId}/errors.csv", iz__h_job_errors_csv, IZ_ROUTE_AUTH, "job_errors"},
    {"GET", "/v1/brands/{brandCode}/retailers", iz__h_retailers_get, IZ_ROUTE_AUTH, "retailers"},
    {"POST", "/v1/brands/{brandCode}/retailers", iz__h_retailers_post, IZ_ROUTE_AUTH,
     "retailer_add"},
    {"DELETE", "/v1/brands/{brandCode}/retailers/{retailerCode}", iz__h_retailer_delete,
     IZ_ROUTE_AUTH, "retailer_delete"},
    {"GET", "/metrics", iz__h_metrics, 0, "metrics"},
    {"GET", "/openapi.json", iz__h_openapi, 0, "openapi"},
    {"GET", "/docs", iz__h_docs, 0, "docs"},
    {"GET", "/c/{slug}", iz__h_cpage_get, 0, "cpage"},
    {"GET", "/c/{slug}/qr.svg", iz__h_cpage_qr, 0, "cpage_qr"},
    {"POST", "/c/{slug}/otp", iz__h_cpage_otp, 0, "cpage_otp"},
    {"POST", "/c/{slug}/verify", iz__h_cpage_verify, 0, "cpage_verify"},
    {"GET", "/v1/iys/status", iz__h_iys_status, IZ_ROUTE_AUTH, "iys_status"},
    {"PUT", "/v1/brands/{brandCode}/webhook", iz__h_webhook_put, IZ_ROUTE_AUTH, "webhook_put"},
    {"GET", "/v1/brands/{brandCode}/webhook", iz__h_webhook_get, IZ_ROUTE_AUTH, "webhook"},
    {"DELETE", "/v1/brands/{brandCode}/webhook", iz__h_webhook_delete, IZ_ROUTE_AUTH,
     "webhook_delete"},
    {"GET", "/v1/brands/{brandCode}/webhook/dead-letters", iz__h_webhook_dead, IZ_ROUTE_AUTH,
     "webhook_dead_letters"},
    {"POST", "/v1/brands/{brandCode}/webhook/dead-letters/{id}/retry", iz__h_webhook_retry,
     IZ_ROUTE_AUTH, "webhook_retry"},
    {"GET", "/v1/account", iz__h_account_get, IZ_ROUTE_AUTH, "account"},
};

const iz_route_t *iz_api_routes(size_t *n)
{
    *n = IZ_ARRAY_LEN(routes);
    return routes;
}

/* ---- the read cache of keys and brands ------------------------------------------ */

/* A check reads the key and the brand before it asks the in-memory index:
 * on PostgreSQL a round trip each, on SQLite a read transaction each (with
 * its file locks: a tenth of a check's time). What was read is kept for
 * CACHE_MS: a key revoked or a brand changed through another node or
 * process (`izin key`, `izin brand set` beside a running server) is seen
 * within that time; through this one at once (iz_store_gen). Only what was
 * found is kept: an unknown key always goes to the store. */
#define CACHE_SLOTS 512 /* a power of two */
#define CACHE_MS 1000

typedef struct key_slot {
    char hex[IZ_SHA256_HEX];
    int64_t account_id, until_ms;
    uint64_t gen; /* iz_store_gen when read: a revocation here since makes it stale */
} key_slot_t;

typedef struct brand_slot {
    int64_t account_id, code, until_ms;
    uint64_t gen;
    iz_brand_t b;
} brand_slot_t;

struct iz_api_cache {
    pthread_mutex_t mu;
    key_slot_t keys[CACHE_SLOTS];
    brand_slot_t brands[CACHE_SLOTS];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct iz_api_cache *cache_of(iz_app_t *a)
{
    struct iz_api_cache *c = atomic_load(&a->cache);
    if (c) return c;
    struct iz_api_cache *n = iz_xcalloc(1, sizeof *n);
    pthread_mutex_init(&n->mu, NULL);
    if (atomic_compare_exchange_strong(&a->cache, &c, n)) return n;
    pthread_mutex_destroy(&n->mu);
    free(n);
    return c;
}

void iz_api_cache_free(iz_app_t *app)
{
    struct iz_api_cache *c = atomic_exchange(&app->cache, NULL);
    if (!c) return;
    pthread_mutex_destroy(&c->mu);
    sodium_memzero(c, sizeof *c);
    free(c);
}

static size_t slot_of(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h & (CACHE_SLOTS - 1);
}

int iz_api_auth(void *app, const char *token, int64_t *account_id)
{
    iz_app_t *a = app;
    size_t len = strlen(token);
    if (len == 0 || len > 256) return IZ_EINVAL;
    char hex[IZ_SHA256_HEX];
    iz_sha256_hex(token, len, hex);
    struct iz_api_cache *c = cache_of(a);
    key_slot_t *k = NULL;
    if (c) {
        k = &c->keys[slot_of(strtoull(hex + 48, NULL, 16))];
        pthread_mutex_lock(&c->mu);
        bool hit = k->until_ms > mono_ms() && k->gen == iz_store_gen(a->store) &&
                   sodium_memcmp(k->hex, hex, sizeof hex) == 0;
        if (hit) *account_id = k->account_id;
        pthread_mutex_unlock(&c->mu);
        if (hit) return 0;
    }
    uint64_t gen = iz_store_gen(a->store);
    int rc = iz_store_key_lookup(a->store, hex, account_id);
    if (rc == 0 && c) {
        pthread_mutex_lock(&c->mu);
        k->gen = gen;
        memcpy(k->hex, hex, sizeof hex);
        k->account_id = *account_id;
        k->until_ms = mono_ms() + CACHE_MS;
        pthread_mutex_unlock(&c->mu);
    }
    return rc;
}

/* A brand of an account, through the cache. */
static int brand_read(iz_app_t *a, int64_t account_id, int64_t code, iz_brand_t *b)
{
    struct iz_api_cache *c = cache_of(a);
    if (!c) return iz_store_brand_get(a->store, account_id, code, b);
    brand_slot_t *s = &c->brands[slot_of((uint64_t)account_id * 1000003u ^ (uint64_t)code)];
    pthread_mutex_lock(&c->mu);
    bool hit = s->until_ms > mono_ms() && s->gen == iz_store_gen(a->store) &&
               s->account_id == account_id && s->code == code;
    if (hit) *b = s->b;
    pthread_mutex_unlock(&c->mu);
    if (hit) return 0;
    uint64_t gen = iz_store_gen(a->store);
    int rc = iz_store_brand_get(a->store, account_id, code, b);
    if (rc == 0) {
        pthread_mutex_lock(&c->mu);
        s->gen = gen;
        s->account_id = account_id;
        s->code = code;
        s->b = *b;
        s->until_ms = mono_ms() + CACHE_MS;
        pthread_mutex_unlock(&c->mu);
    }
    return rc;
}

int iz__api_brand(iz_req_t *r, iz_app_t *app, iz_brand_t *b)
{
    int64_t code;
    const char *s = iz_req_param(r, "brandCode");
    int rc = IZ_ENOTFOUND;
    if (s && iz_parse_i64(s, 1, INT64_MAX, &code) == 0)
        rc = brand_read(app, iz_req_account(r), code, b);
    if (rc == 0) return 0;
    if (rc == IZ_ENOTFOUND)
        iz_reply_error(r, "IZ404", iz_req_english(r) ? "brand not found" : "Marka bulunamadı.");
    else
        iz__reply_store_error(r, rc);
    return -1;
}

json_t *iz__api_body(iz_req_t *r, iz_app_t *app, iz_brand_t *b, const char *object_code)
{
    if (iz__api_brand(r, app, b) != 0) return NULL;
    return object_code ? iz_req_json_object(r, object_code) : iz_req_json(r);
}

void iz__reply_store_error(iz_req_t *r, int rc)
{
    iz_logf(IZ_LOG_ERROR, "api", "store failure", "path=%s error=%s", iz_req_path(r),
            iz_strerror(rc));
    iz_reply_error(r, rc == IZ_EBUSY ? "IZ503" : "IZ500", NULL);
}

int iz__query_type(iz_req_t *r, iz_type_t *type, iz_rtype_t *rtype)
{
    const char *t = iz_req_query(r, "type");
    const char *rt = iz_req_query(r, "recipientType");
    iz_error_t e = {.index = -1};
    json_t *val = NULL;
    if (!t || !*t) {
        e.code = "H111";
        e.location = "type";
    } else if (iz_type_parse(t, type) != 0) {
        e.code = "H117";
        e.location = "type";
        val = json_string(t);
    } else if (rt && !*rt) {
        e.code = "H170";
        e.location = "recipientType";
    } else if (rt && iz_rtype_parse(rt, rtype) != 0) {
        e.code = "H116";
        e.location = "recipientType";
        val = json_string(rt);
    } else {
        if (!rt) *rtype = IZ_BIREYSEL;
        return 0;
    }
    e.value = val;
    iz_reply_errors(r, 422, &e, 1);
    json_decref(val);
    return -1;
}

int iz__query_bool(iz_req_t *r, const char *name, bool def, bool *out)
{
    const char *v = iz_req_query(r, name);
    *out = def;
    if (!v) return 0;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
        *out = true;
        return 0;
    }
    if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
        *out = false;
        return 0;
    }
    char tr[128], en[128];
    snprintf(tr, sizeof tr, "%s true ya da false olmalıdır.", name);
    snprintf(en, sizeof en, "%s must be true or false.", name);
    json_t *jv = json_string(v);
    iz__reply_field(r, name, jv, tr, en);
    json_decref(jv);
    return -1;
}

/* The field a state rule's refusal concerns. */
static const char *rule_location(const char *hcode)
{
    if (strcmp(hcode, "H462") == 0 || strcmp(hcode, "H178") == 0 || strcmp(hcode, "H467") == 0)
        return "consentDate";
    if (strcmp(hcode, "H463") == 0 || strcmp(hcode, "H408") == 0) return "source";
    return "status";
}

void iz__reply_record(iz_req_t *r, json_t *body, const iz_record_t *rec, const char *rule_field)
{
    if (rec->rc == IZ_EINVAL && rec->errs.n > 0) {
        iz_reply_verrs(r, body, &rec->errs);
    } else if (rec->rc == IZ_ERULE && rec->hcode) {
        iz_error_t e = {.code = rec->hcode, .location = rule_field, .index = -1};
        if (!e.location) e.location = rule_location(rec->hcode);
        e.value = json_is_object(body) ? json_object_get(body, e.location) : NULL;
        iz_reply_errors(r, iz_hcode_http(rec->hcode), &e, 1);
    } else if (rec->rc == IZ_ETOOBIG) {
        iz_reply_error(r, "IZ413",
                       iz_req_english(r) ? "the evidence of this change is too large to keep"
                                         : "Bu değişikliğin kanıtı saklanamayacak kadar büyük.");
    } else if (rec->rc != 0 && rec->rc != IZ_REPEAT) {
        iz__reply_store_error(r, rec->rc);
    } else {
        json_t *out = iz_change_json(&rec->chg);
        if (rec->chg.warning[0]) {
            iz_error_t w = {.code = rec->chg.warning, .index = -1};
            json_t *warn = iz_error_json(r, &w);
            const char *note = iz_req_english(r)
                                   ? "kept locally as an opt-out; not sent to İYS"
                                   : "ret yerel olarak saklandı; İYS'ye gönderilmedi";
            json_object_set_new(warn, "note", json_string(note));
            json_object_set_new(out, "warnings", json_pack("[o]", warn));
        }
        iz_reply_json(r, rec->rc == IZ_REPEAT ? 200 : 201, out);
    }
}

void iz__reply_field(iz_req_t *r, const char *field, json_t *value, const char *tr, const char *en)
{
    iz_error_t e = {.code = "IZ422",
                    .message = iz_req_english(r) ? en : tr,
                    .location = field,
                    .value = value,
                    .index = -1};
    iz_reply_errors(r, 422, &e, 1);
}

int iz__body_fields(iz_req_t *r, json_t *body, const char *const *known, size_t n)
{
    if (!json_is_object(body)) {
        iz__reply_field(r, NULL, NULL, "İstek gövdesi bir JSON nesnesi olmalıdır.",
                        "The body must be a JSON object.");
        return -1;
    }
    const char *unk = iz_json_unknown_key(body, known, n);
    if (!unk) return 0;
    char list[256] = "", tr[320], en[320];
    for (size_t i = 0; i < n; i++) {
        if (i) iz_strlcpy(list + strlen(list), ", ", sizeof list - strlen(list));
        iz_strlcpy(list + strlen(list), known[i], sizeof list - strlen(list));
    }
    snprintf(tr, sizeof tr, "Bilinmeyen alan. Kullanılabilecek alanlar: %s.", list);
    snprintf(en, sizeof en, "Unknown field. The body may contain: %s.", list);
    iz__reply_field(r, unk, NULL, tr, en);
    return -1;
}

int iz__send_flags(iz_req_t *r, json_t *body, bool *commercial, iz_rtype_t *rtype)
{
    json_t *jc = json_object_get(body, "commercial");
    json_t *jrt = json_object_get(body, "recipientType");
    *commercial = true;
    *rtype = IZ_BIREYSEL;
    if (jc && !json_is_boolean(jc)) {
        iz__reply_field(r, "commercial", jc, "commercial true ya da false olmalıdır.",
                        "commercial must be true or false.");
        return -1;
    }
    if (jc) *commercial = json_is_true(jc);
    if (jrt && (json_is_null(jrt) || (json_is_string(jrt) && !*json_string_value(jrt)))) {
        iz_error_t e = {.code = "H170", .location = "recipientType", .index = -1};
        iz_reply_errors(r, iz_hcode_http("H170"), &e, 1);
        return -1;
    }
    if (jrt && (!json_is_string(jrt) || iz_rtype_parse(json_string_value(jrt), rtype) != 0)) {
        iz_error_t e = {.code = "H116", .location = "recipientType", .value = jrt, .index = -1};
        iz_reply_errors(r, iz_hcode_http("H116"), &e, 1);
        return -1;
    }
    return 0;
}

int iz__judge_json(iz_req_t *r, iz_app_t *app, const iz_judge_t *j, json_t *list,
                   iz_judged_t **out)
{
    int rc = iz_api_judge_json(r, app, j, list, out);
    if (rc != 0) iz__reply_store_error(r, rc);
    return rc;
}

int iz_api_judge_json(iz_req_t *r, iz_app_t *app, const iz_judge_t *j, json_t *list,
                      iz_judged_t **out)
{
    size_t n = json_array_size(list);
    const char **raw = iz_req_alloc(r, (n ? n : 1) * sizeof *raw);
    size_t *len = iz_req_alloc(r, (n ? n : 1) * sizeof *len);
    *out = iz_req_alloc(r, (n ? n : 1) * sizeof **out);
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(list, i);
        raw[i] = json_string_value(item); /* NULL for a non-string: INVALID */
        len[i] = raw[i] ? json_string_length(item) : 0;
    }
    return iz_domain_judge_list(app->dom, j, raw, len, n, true, *out);
}

const char *iz__judged_entry(json_t *item, const iz_judged_t *jd, char out[IZ_RECIPIENT_MAX],
                             json_t *blocked)
{
    const char *reason = iz_verdict_reason(jd->v);
    if (jd->v == IZ_VERDICT_INVALID) {
        iz__raw_recipient(item, out);
        json_array_append_new(blocked, json_pack("{s:O, s:s}", "recipient", item, "reason", reason));
        return reason;
    }
    memcpy(out, jd->norm, IZ_RECIPIENT_MAX);
    if (reason)
        json_array_append_new(blocked,
                              json_pack("{s:s, s:s}", "recipient", jd->norm, "reason", reason));
    return reason;
}

void iz__raw_recipient(json_t *item, char out[IZ_RECIPIENT_MAX])
{
    char *dumped = NULL;
    const char *s = json_string_value(item);
    if (!s) s = dumped = json_dumps(item, JSON_ENCODE_ANY | JSON_COMPACT);
    size_t n = s ? strlen(s) : 0;
    if (n > IZ_RECIPIENT_MAX - 1) {
        n = IZ_RECIPIENT_MAX - 4;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        memcpy(out, s, n);
        memcpy(out + n, "...", 4);
    } else {
        if (n) memcpy(out, s, n);
        out[n] = '\0';
    }
    free(dumped);
}

#define UA_KEEP 256

const char *iz_api_evidence(iz_req_t *r, json_t *extra)
{
    json_t *ev = json_object();
    json_object_set_new(ev, "ip", json_string(iz_req_remote(r)));
    const char *ua = iz_req_header(r, "User-Agent");
    if (ua) {
        char cut[UA_KEEP + 1];
        size_t n = strlen(ua);
        bool long_ua = n > UA_KEEP;
        if (long_ua) {
            n = UA_KEEP;
            while (n > 0 && ((unsigned char)ua[n] & 0xC0) == 0x80)
                n--;
        }
        memcpy(cut, ua, n);
        cut[n] = '\0';
        json_t *s = json_string(cut);
        if (s) {
            json_object_set_new(ev, "userAgent", s);
            if (long_ua) json_object_set_new(ev, "userAgentCut", json_true());
        }
    }
    if (extra) json_object_update(ev, extra);
    char *text = json_dumps(ev, JSON_COMPACT);
    if (text && ua && strlen(text) >= IZ_EVIDENCE_MAX) {
        /* Evidence is kept whole or not at all (the store refuses what
         * does not fit): a user agent that escapes long (quotes, control
         * bytes) gives way to its SHA-256, which still proves it. */
        char h[IZ_SHA256_HEX];
        iz_sha256_hex(ua, strlen(ua), h);
        json_object_del(ev, "userAgent");
        json_object_del(ev, "userAgentCut");
        json_object_set_new(ev, "userAgentSha256", json_string(h));
        free(text);
        text = json_dumps(ev, JSON_COMPACT);
    }
    json_decref(ev);
    if (!text) iz_oom();
    char *out = iz_req_strdup(r, text);
    free(text);
    return out;
}

bool iz__gateway_token_ok(iz_req_t *r, const iz_app_t *app)
{
    if (!app->gateway_token || !*app->gateway_token) {
        iz_reply_error(r, "IZ503",
                       iz_req_english(r)
                           ? "requests from SMS gateways (inbound SMS, delivery reports) are "
                             "off: start izin with --gateway-token"
                           : "SMS ağ geçidi istekleri (gelen SMS, iletim raporları) kapalı: izin "
                             "--gateway-token ile başlatılmalı.");
        return false;
    }
    const char *given = iz_req_query(r, "token");
    if (!given || !*given) given = iz_req_header(r, "X-Izin-Token");
    size_t a = given ? strlen(given) : 0, b = strlen(app->gateway_token);
    if (!given || a != b || sodium_memcmp(given, app->gateway_token, b) != 0) {
        iz_reply_error(r, "IZ401",
                       iz_req_english(r) ? "the gateway token is missing or wrong"
                                         : "Ağ geçidi anahtarı (token) eksik veya yanlış.");
        return false;
    }
    return true;
}
