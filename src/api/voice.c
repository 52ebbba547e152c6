/*
 * voice.c - the voice / IVR filter (F7):
 *
 *   POST /v1/brands/{b}/voice/campaigns           filter a call list on ARAMA and keep it
 *   GET  /v1/voice/campaigns/{id}/numbers         the numbers the dialer may call (CSV, JSON)
 *   POST /v1/brands/{b}/voice/optout              the IVR's opt-out key: RET on ARAMA
 *
 * A campaign keeps every number with its verdict at creation. The numbers
 * endpoint gives only the allowed ones, each judged again when it is asked
 * for, so a consent withdrawn after the campaign was made is not dialled;
 * the dialer can still look once more right before a call with
 * GET /v1/brands/{b}/check/{recipient}?type=ARAMA. A campaign belongs to
 * the account whose key made it; any other key gets 404.
 *
 * The opt-out is recorded like any API change (the domain's record): source
 * HS_CAGRI_MERKEZI, origin API, consentDate now, the call as evidence, on
 * its way to İYS at once; a first RET is kept LOCAL with warning H175. A
 * second press by someone already opted out changes nothing and answers 200
 * with the record.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "core/consent.h"
#include "core/hcode.h"
#include "core/iz.h"
#include "net/jsonconsent.h"

#define CALL_ID_MAX 128  /* bytes of a call id */

static bool printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F) return false;
    return true;
}

bool iz_voice_name_ok(const char *name, size_t len)
{
    return len > 0 && len < IZ_NAME_MAX && printable(name, len);
}

/* Check a campaign body; answers and returns non-zero when it is wrong. */
static int read_campaign(iz_req_t *r, json_t *body, bool *commercial, iz_rtype_t *rtype)
{
    static const char *const known[] = {"name", "commercial", "recipientType", "recipients"};
    if (iz__body_fields(r, body, known, IZ_ARRAY_LEN(known)) != 0) return -1;
    if (iz__send_flags(r, body, commercial, rtype) != 0) return -1;
    json_t *jn = json_object_get(body, "name");
    json_t *list = json_object_get(body, "recipients");
    if (!jn || json_is_null(jn) || (json_is_string(jn) && !*json_string_value(jn))) {
        iz__reply_field(r, "name", NULL, "Kampanya adı (name) bulunamadı.",
                        "The name field is missing.");
    } else if (!json_is_string(jn) ||
               !iz_voice_name_ok(json_string_value(jn), json_string_length(jn))) {
        iz__reply_field(r, "name", jn,
                        "Kampanya adı (name) en çok 127 bayt, denetim karakteri içermeyen bir "
                        "metin olmalıdır.",
                        "name must be text of at most 127 bytes without control characters.");
    } else if (!list || json_is_null(list)) {
        iz_error_t e = {.code = "H168", .location = "recipients", .index = -1};
        iz_reply_errors(r, iz_hcode_http("H168"), &e, 1);
    } else if (!json_is_array(list)) {
        iz_error_t e = {.code = "H478", .location = "recipients", .index = -1};
        iz_reply_errors(r, iz_hcode_http("H478"), &e, 1);
    } else if (json_array_size(list) > IZ_VOICE_MAX) {
        iz__reply_field(r, "recipients", NULL, "Bir kampanyada en çok 100000 numara olabilir.",
                        "At most 100000 numbers in one campaign.");
    } else {
        return 0;
    }
    return -1;
}

int iz_voice_create(iz_req_t *r, iz_app_t *app, const iz_brand_t *brand, const char *name,
                    bool commercial, iz_rtype_t rtype, json_t *list, iz_voice_campaign_t *c,
                    json_t *blocked)
{
    size_t n = json_array_size(list);
    iz_judge_t j = {
        .brand_id = brand->id, .type = IZ_ARAMA, .rtype = rtype, .commercial = commercial};
    iz_judged_t *verdicts;
    int rc = iz_api_judge_json(r, app, &j, list, &verdicts);
    if (rc != 0) return rc;
    iz_voice_number_t *nums = iz_req_alloc(r, (n ? n : 1) * sizeof *nums);
    size_t nn = 0, nallowed = 0, nblocked = 0;
    for (size_t i = 0; i < n; i++) {
        if (verdicts[i].repeat) continue; /* a repeat: called once */
        iz_voice_number_t *x = &nums[nn++];
        const char *reason =
            iz__judged_entry(json_array_get(list, i), &verdicts[i], x->recipient, blocked);
        iz_strlcpy(x->outcome, reason ? reason : "ALLOWED", sizeof x->outcome);
        if (reason)
            nblocked++;
        else
            nallowed++;
    }
    *c = (iz_voice_campaign_t){.brand_id = brand->id,
                               .account_id = brand->account_id,
                               .commercial = commercial,
                               .rtype = rtype,
                               .allowed = (int64_t)nallowed,
                               .blocked = (int64_t)nblocked};
    iz_strlcpy(c->name, name, sizeof c->name);
    return iz_store_voice_add(app->store, c, nums, nn);
}

void iz__h_voice_campaign_post(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    json_t *body = iz__api_body(r, app, &brand, NULL);
    if (!body) return;
    bool commercial;
    iz_rtype_t rtype;
    if (read_campaign(r, body, &commercial, &rtype) != 0) {
        json_decref(body);
        return;
    }
    json_t *blocked = json_array();
    iz_voice_campaign_t c;
    int rc = iz_voice_create(r, app, &brand, json_string_value(json_object_get(body, "name")),
                             commercial, rtype, json_object_get(body, "recipients"), &c, blocked);
    json_decref(body);
    if (rc != 0) {
        json_decref(blocked);
        iz__reply_store_error(r, rc);
        return;
    }
    iz_reply_json(r, 201,
                  json_pack("{s:I, s:s, s:b, s:s, s:I, s:I, s:o}", "campaignId", (json_int_t)c.id,
                            "name", c.name, "commercial", commercial, "recipientType",
                            iz_rtype_name(rtype), "allowed", (json_int_t)c.allowed, "blocked",
                            (json_int_t)c.blocked, "blockedRecipients", blocked));
}

/* Append s to a growing buffer. */
static void buf_add(char **b, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        while (*len + n + 1 > *cap)
            *cap = *cap ? *cap * 2 : 4096;
        *b = iz_xrealloc(*b, *cap);
    }
    memcpy(*b + *len, s, n + 1);
    *len += n;
}

int iz_voice_callable(iz_app_t *app, const iz_voice_campaign_t *c, iz_judged_t **out, size_t *n)
{
    iz_voice_number_t *list = NULL;
    int rc = iz_store_voice_numbers(app->store, c->id, true, &list, n);
    if (rc != 0) return rc;
    /* Each number judged again now: a consent withdrawn since the campaign
     * was made must not be dialled. */
    iz_judge_t j = {
        .brand_id = c->brand_id, .type = IZ_ARAMA, .rtype = c->rtype, .commercial = c->commercial};
    size_t k = *n ? *n : 1;
    const char **raw = iz_xmalloc(k * sizeof *raw);
    size_t *lens = iz_xmalloc(k * sizeof *lens);
    *out = iz_xmalloc(k * sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        raw[i] = list[i].recipient;
        lens[i] = strlen(list[i].recipient);
    }
    rc = iz_domain_judge_list(app->dom, &j, raw, lens, *n, false, *out);
    free(lens);
    free(raw);
    free(list);
    if (rc != 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int iz_voice_callable_csv(iz_app_t *app, const iz_voice_campaign_t *c, char **out, size_t *len)
{
    iz_judged_t *v = NULL;
    size_t n = 0, cap = 0;
    int rc = iz_voice_callable(app, c, &v, &n);
    if (rc != 0) return rc;
    *out = NULL;
    *len = 0;
    buf_add(out, len, &cap, "recipient\n");
    for (size_t i = 0; i < n; i++) {
        if (v[i].v != IZ_VERDICT_ALLOWED) continue;
        buf_add(out, len, &cap, v[i].norm);
        buf_add(out, len, &cap, "\n");
    }
    free(v);
    return 0;
}

void iz__h_voice_numbers(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    int64_t id;
    const char *sid = iz_req_param(r, "campaignId");
    const char *nf = iz_req_english(r) ? "campaign not found" : "Kampanya bulunamadı.";
    if (!sid || iz_parse_i64(sid, 1, INT64_MAX, &id) != 0) {
        iz_reply_error(r, "IZ404", nf);
        return;
    }
    const char *fmt = iz_req_query(r, "format");
    bool csv = false;
    if (fmt && strcmp(fmt, "csv") == 0) {
        csv = true;
    } else if (fmt && strcmp(fmt, "json") != 0) {
        json_t *v = json_string(fmt);
        iz__reply_field(r, "format", v, "format csv ya da json olmalıdır.",
                        "format must be csv or json.");
        json_decref(v);
        return;
    } else if (!fmt) {
        const char *acc = iz_req_header(r, "Accept");
        csv = acc && strncmp(acc, "text/csv", 8) == 0;
    }
    iz_voice_campaign_t c;
    int rc = iz_store_voice_get(app->store, id, &c);
    if (rc == IZ_ENOTFOUND || (rc == 0 && c.account_id != iz_req_account(r))) {
        iz_reply_error(r, "IZ404", nf);
        return;
    }
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    char *out = NULL;
    size_t len = 0;
    json_t *arr = NULL;
    if (csv) {
        rc = iz_voice_callable_csv(app, &c, &out, &len);
    } else {
        iz_judged_t *v = NULL;
        size_t n = 0;
        rc = iz_voice_callable(app, &c, &v, &n);
        arr = json_array();
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (v[i].v == IZ_VERDICT_ALLOWED) json_array_append_new(arr, json_string(v[i].norm));
        free(v);
    }
    if (rc != 0) {
        json_decref(arr);
        iz__reply_store_error(r, rc);
        return;
    }
    if (csv) {
        iz_reply_bytes(r, 200, "text/csv; charset=utf-8", out, len);
        free(out);
        return;
    }
    iz_reply_json(r, 200,
                  json_pack("{s:I, s:s, s:o}", "campaignId", (json_int_t)c.id, "name", c.name,
                            "numbers", arr));
}

void iz__h_voice_optout(iz_req_t *r, void *vapp)
{
    static const char *const known[] = {"recipient", "callId", "recipientType"};
    iz_app_t *app = vapp;
    iz_brand_t brand;
    json_t *body = iz__api_body(r, app, &brand, "H085");
    if (!body) return;
    const char *unk = iz_json_unknown_key(body, known, IZ_ARRAY_LEN(known));
    if (unk) {
        iz__reply_field(r, unk, NULL,
                        "Bilinmeyen alan. Kullanılabilecek alanlar: recipient, callId, "
                        "recipientType (ret ARAMA kanalına, HS_CAGRI_MERKEZI kaynağıyla ve şimdiki "
                        "zamanla kaydedilir).",
                        "Unknown field. The body may contain: recipient, callId, recipientType "
                        "(the RET is recorded on ARAMA, source HS_CAGRI_MERKEZI, dated now).");
        json_decref(body);
        return;
    }
    json_t *jcall = json_object_get(body, "callId");
    char call[CALL_ID_MAX + 1];
    if (json_is_integer(jcall)) {
        snprintf(call, sizeof call, "%" JSON_INTEGER_FORMAT, json_integer_value(jcall));
    } else if (json_is_string(jcall) && json_string_length(jcall) > 0 &&
               json_string_length(jcall) <= CALL_ID_MAX &&
               printable(json_string_value(jcall), json_string_length(jcall))) {
        memcpy(call, json_string_value(jcall), json_string_length(jcall) + 1);
    } else {
        bool missing = !jcall || json_is_null(jcall) ||
                       (json_is_string(jcall) && json_string_length(jcall) == 0);
        if (missing)
            iz__reply_field(r, "callId", NULL, "Çağrı kimliği (callId) bulunamadı.",
                            "The callId field is missing.");
        else
            iz__reply_field(r, "callId", jcall,
                            "Çağrı kimliği (callId) en çok 128 bayt, denetim karakteri "
                            "içermeyen bir metin ya da tam sayı olmalıdır.",
                            "callId must be text of at most 128 bytes without control "
                            "characters, or an integer.");
        json_decref(body);
        return;
    }

    /* The change the opt-out key means, recorded like any other: RET on
     * ARAMA, source HS_CAGRI_MERKEZI, dated now, the call as evidence. */
    int64_t now = (int64_t)time(NULL);
    char date[IZ_DATETIME_LEN];
    iz_tr_format(now, date);
    static const char *const extra[] = {"callId", NULL};
    iz_record_t *rec = iz_req_alloc(r, sizeof *rec);
    iz_consent_raw_from_json(body, extra, &rec->raw);
    rec->raw.type = (iz_field_t){IZ_FIELD_STRING, "ARAMA", 5};
    rec->raw.status = (iz_field_t){IZ_FIELD_STRING, "RET", 3};
    rec->raw.source = (iz_field_t){IZ_FIELD_STRING, "HS_CAGRI_MERKEZI", 16};
    rec->raw.consent_date = (iz_field_t){IZ_FIELD_STRING, date, strlen(date)};
    rec->origin = IZ_ORIGIN_API;
    json_t *ev = json_pack("{s:s}", "callId", call);
    rec->evidence = iz_api_evidence(r, ev);
    json_decref(ev);
    int rc = iz_domain_record(app->dom, &brand, now, rec, 1);
    if (rc != 0) rec->rc = rc;
    if (rec->rc == IZ_ERULE && rec->hcode && strcmp(rec->hcode, "H174") == 0) {
        /* Already opted out: nothing to record; the record is the answer. */
        iz_change_t *cur = iz_req_alloc(r, sizeof *cur);
        rc = iz_store_consent_get(app->store, brand.id, rec->chg.rtype, IZ_ARAMA,
                                  rec->chg.recipient, cur);
        json_decref(body);
        if (rc != 0) {
            iz__reply_store_error(r, rc);
            return;
        }
        iz_reply_json(r, 200, iz_change_json(cur));
        return;
    }
    iz__reply_record(r, body, rec, "recipient");
    json_decref(body);
}
