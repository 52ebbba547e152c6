/*
 * via.c - İLETİ ViA as the emulator answers it: a provider asks İYS to
 * collect a person's consent (ETK: to receive commercial messages from its
 * brands; KVK: personal data texts) by an OTP code or a short link İYS
 * sends, then completes it or reads its state:
 *
 *   POST /via/sps/{iysCode}/consent                      startViaRequest
 *   POST /via/sps/{iysCode}/confirmation                 complete with the codes
 *   GET  /via/sps/{iysCode}/consent/request/{requestId}  getViaRequest
 *   GET  /via/sps/{iysCode}/consent/{requestId}          getKVKConsent
 *   POST /via/sps/{iysCode}/consent/status               searchKVKConsent
 *   GET  /via/sps/{iysCode}/via/clarification/{requestId}/file
 *
 * the ViA Frame widget a provider embeds in its web site (/widget/...), and
 * the e-mail opt-out links (POST .../via-hash-links; the person's page
 * /RET/{hash}). The processes themselves are viaflow.c's. ViA answers
 * errors as {"errors":[{"code","message"}]} with its own H1xxx codes
 * (İYS's error table); where the documents leave a choice it is written
 * in docs/IYS-EMULATOR.md ("ViA").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hcode.h"
#include "core/iz.h"
#include "core/recipient.h"
#include "net/page.h"
#include "sim/sim_int.h"
#include "sim/viastore.h"
#include "sys/crypto.h"

#define ID_MAX 64        /* formId, requestId and the widget's keys */
#define NAME_MAX_LEN 128 /* personData.name */
#define ADDRESS_MAX 512  /* personData.address */
#define BRANDS_MAX 100   /* brandCodes of one request */
#define LINKS_MAX 100    /* recipients of one via-hash-links call */
#define LINK_DAYS 90     /* an opt-out link is valid 90 days */
#define NONCE_TTL 1800   /* a widget nonce: 30 minutes */
#define COOKIE_MAX 256
#define URL_MAX 400 /* the emulator's address and /RET/<64 hex> */

static const char *const etk_types[] = {"ARAMA", "MESAJ", "EPOSTA"};
static const char *const kvk_types[] = {"AYDINLATMA_METNI", "ACIK_RIZA_METNI", "YURTDISI_AKTARIM"};
static const char *const verifications[] = {"SMS_OTP", "SMS_SHORTURL", "EPOSTA_OTP",
                                            "EPOSTA_SHORTURL", "EPOSTA_APPROVALURL"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, list[i]) == 0) return true;
    return false;
}

/* ---- answers ----------------------------------------------------------------- */

/* One ViA error; message NULL takes the table's; value borrowed. */
static void via_error(iz_req_t *r, const char *code, const char *message, json_t *value)
{
    iz_error_t e = {.code = code, .message = message, .value = value, .index = -1};
    iz_reply_errors(r, iz_hcode_http(code), &e, 1);
}

/* "<field> alanı boş veya null olmamalıdır." (H1057) */
static void via_blank(iz_req_t *r, const char *field)
{
    char msg[96];
    snprintf(msg, sizeof msg, "%s alanı boş veya null olmamalıdır.", field);
    via_error(r, "H1057", msg, NULL);
}

/* "<field> bulunamadı." (H1005) */
static void via_missing(iz_req_t *r, const char *field)
{
    char msg[96];
    snprintf(msg, sizeof msg, "%s bulunamadı.", field);
    via_error(r, "H1005", msg, NULL);
}

/* "'<field>' alanı '<type>' tipinde olmalıdır." (H1029) */
static void via_badtype(iz_req_t *r, const char *field, const char *type)
{
    char msg[128];
    snprintf(msg, sizeof msg, "%s alanı '%s' tipinde olmalıdır.", field, type);
    via_error(r, "H1029", msg, NULL);
}

static void via_ok(iz_req_t *r, json_t *message)
{
    iz_reply_json(r, 200, json_pack("{s:o, s:s}", "message", message, "code", "OK"));
}

/* ---- the checks of every ViA call ------------------------------------------------ */

/* The codes a call answers for its token and its iysCode. ViA's own: no
 * token 401 H1038 ("Token eksik!"), a token that is not valid 401 H1045,
 * another provider's code 403 H1040. getKVKConsent's examples give the
 * consent calls' H351 and H353 instead (docs/IYS-EMULATOR.md). */
typedef struct via_codes {
    const char *missing, *invalid, *other;
} via_codes_t;

static const via_codes_t via_own = {"H1038", "H1045", "H1040"};
static const via_codes_t via_kvk_codes = {"H351", "H351", "H353"};

/* The token and the path's iysCode, which must be the token's provider.
 * 0 with *iys, else answered with the codes of c. */
static int via_auth_as(iz_req_t *r, iz_sim_t *sim, const via_codes_t *c, int64_t *iys)
{
    int64_t owner = 0;
    int rc = iz__sim_token_owner(r, sim, &owner);
    if (rc == IZ_ENOTFOUND) {
        const char *h = iz_req_header(r, "Authorization");
        via_error(r, h && *h ? c->invalid : c->missing, NULL, NULL);
        return -1;
    }
    if (rc != 0) {
        via_error(r, "H1019", NULL, NULL);
        return -1;
    }
    const char *ic = iz_req_param(r, "iysCode");
    if (!ic || iz_parse_i64(ic, 1, INT64_MAX, iys) != 0 || *iys != owner) {
        via_error(r, c->other, "iysCode, kullanıcı izinleriyle eşleştirilemiyor.", NULL);
        return -1;
    }
    return 0;
}

static int via_auth(iz_req_t *r, iz_sim_t *sim, int64_t *iys)
{
    return via_auth_as(r, sim, &via_own, iys);
}

/* A stored JSON body a lookup returned (rc, body: freed here) as an
 * object; NULL and answered when the lookup found nothing (missing, with
 * its message or the table's) or failed (H1019). */
static json_t *stored(iz_req_t *r, int rc, char *body, const char *missing, const char *msg)
{
    json_t *o = rc == 0 ? json_loads(body, 0, NULL) : NULL;
    free(body);
    if (rc == 0 && !json_is_object(o)) rc = IZ_EIO;
    if (rc != 0) {
        json_decref(o);
        via_error(r, rc == IZ_ENOTFOUND ? missing : "H1019", rc == IZ_ENOTFOUND ? msg : NULL, NULL);
        return NULL;
    }
    return o;
}

/* The provider's ViA subscription is there (H1093) and active (H1092). */
static int via_subscribed(iz_req_t *r, iz_sim_t *sim, int64_t iys)
{
    iz_sim_via_t v;
    int rc = iz_sim_via_get(sim->st, iys, false, &v);
    if (rc != 0) {
        via_error(r, rc == IZ_ENOTFOUND ? "H1093" : "H1019", NULL, NULL);
        return -1;
    }
    if (v.sub.status != IZ_SUB_ACTIVE) {
        via_error(r, "H1092", NULL, NULL);
        return -1;
    }
    return 0;
}

/* The body as a JSON object: an empty one is H1042, anything but an
 * object H1016. NULL when answered. */
static json_t *via_body(iz_req_t *r)
{
    size_t len = 0;
    const char *b = iz_req_body(r, &len);
    if (!b || len == 0) {
        via_error(r, "H1042", NULL, NULL);
        return NULL;
    }
    json_t *j = json_loadb(b, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        via_error(r, "H1016", NULL, NULL);
        return NULL;
    }
    return j;
}

/* A body with only known keys; else H1025 naming the first other. */
static int known_keys(iz_req_t *r, json_t *o, const char *const *keys, size_t n)
{
    const char *k = iz_json_unknown_key(o, keys, n);
    if (!k) return 0;
    char msg[160];
    snprintf(msg, sizeof msg, "'%.64s' geçersiz bir alan adıdır.", k);
    via_error(r, "H1025", msg, NULL);
    return -1;
}

/* A required text field (a number is taken as its text, as formId is
 * written both ways): NULL and answered H1057 / H1029 when it is not one. */
static const char *text_of(iz_req_t *r, json_t *o, const char *key, size_t max)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        via_blank(r, key);
        return NULL;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        char *s = iz_req_alloc(r, 24);
        snprintf(s, 24, "%lld", (long long)json_integer_value(v));
        return s;
    }
    if (!json_is_string(v) || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        via_badtype(r, key, "String");
        return NULL;
    }
    return json_string_value(v);
}

/* The recipient for a verification type: an E.164 phone for SMS_*
 * (H1026), an e-mail address for EPOSTA_* (H1027). */
static int via_recipient(iz_req_t *r, json_t *v, bool sms, char out[IZ_RECIPIENT_MAX])
{
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        via_blank(r, "recipient");
        return -1;
    }
    const char *s = json_string_value(v);
    size_t len = s ? strlen(s) : 0;
    bool ok = s && len == json_string_length(v) && len <= IZ_INPUT_MAX;
    if (ok && sms) {
        char ph[IZ_PHONE_MAX];
        ok = iz_phone_normalize(s, len, ph, NULL) == 0 && strcmp(ph, s) == 0;
        if (ok) iz_strlcpy(out, ph, IZ_RECIPIENT_MAX);
    } else if (ok) {
        ok = iz_email_normalize(s, len, out, NULL) == 0;
    }
    if (!ok) via_error(r, sms ? "H1026" : "H1027", NULL, v);
    return ok ? 0 : -1;
}

/* ---- consentTypes ------------------------------------------------------------------ */

/* A list of distinct types out of allowed (H1085 for another value, H1061
 * for a repeat); NULL and answered when it is not one. label names the
 * list when it is missing ("etkTypes", "kvkTypes"). */
static json_t *type_list(iz_req_t *r, json_t *v, const char *label, const char *const *allowed,
                         size_t nallowed)
{
    if (!v || json_is_null(v)) {
        via_missing(r, label);
        return NULL;
    }
    if (!json_is_array(v)) {
        via_badtype(r, "types", "List");
        return NULL;
    }
    if (json_array_size(v) == 0) {
        via_blank(r, label);
        return NULL;
    }
    size_t i, k;
    json_t *t, *u;
    json_array_foreach(v, i, t)
    {
        const char *s = json_string_value(t);
        if (!s || !in_list(s, allowed, nallowed)) {
            char msg[256];
            snprintf(
                msg, sizeof msg,
                "Geçersiz izin tipi: %.40s. Lütfen geçerli izin tiplerini kullanın: %s%s%s%s%s",
                s ? s : "?", allowed[0], nallowed > 1 ? ", " : "", nallowed > 1 ? allowed[1] : "",
                nallowed > 2 ? ", " : "", nallowed > 2 ? allowed[2] : "");
            via_error(r, "H1085", msg, t);
            return NULL;
        }
        json_array_foreach(v, k, u)
        {
            if (k < i && json_equal(t, u)) {
                via_error(r, "H1061", "İzin tipi ismi(name) değeri liste içinde tekrarlanamaz.", t);
                return NULL;
            }
        }
    }
    return v;
}

/* The ETK part of consentTypes: brands of iys (H1014), channels that fit
 * the verification type (H1066, H1086), a recipientType (H1057, H1063).
 * *out is a new normalized object; -1 when answered. */
static int parse_etk(iz_req_t *r, iz_sim_t *sim, int64_t iys, json_t *item, const char *v,
                     json_t **out)
{
    static const char *const keys[] = {"title", "brandCodes", "types", "recipientType"};
    if (known_keys(r, item, keys, IZ_ARRAY_LEN(keys)) != 0) return -1;
    json_t *brands = json_object_get(item, "brandCodes");
    if (!brands || json_is_null(brands)) {
        via_missing(r, "brandCodes");
        return -1;
    }
    if (!json_is_array(brands)) {
        via_badtype(r, "brandCodes", "integer");
        return -1;
    }
    if (json_array_size(brands) == 0) {
        via_blank(r, "brandCodes");
        return -1;
    }
    if (json_array_size(brands) > BRANDS_MAX) {
        via_error(r, "H1010", "brandCodes alanına girilen değer uygun değil.", NULL);
        return -1;
    }
    size_t i, k;
    json_t *b, *c;
    json_array_foreach(brands, i, b)
    {
        if (!json_is_integer(b)) {
            via_badtype(r, "brandCodes", "integer");
            return -1;
        }
        json_array_foreach(brands, k, c)
        {
            if (k < i && json_equal(b, c)) {
                via_error(r, "H1010", "brandCodes alanına girilen değer uygun değil.", b);
                return -1;
            }
        }
        if (iz_sim_brand_get(sim->st, iys, json_integer_value(b), NULL) != 0) {
            via_error(r, "H1014", NULL, b);
            return -1;
        }
    }
    json_t *types = type_list(r, json_object_get(item, "types"), "etkTypes", etk_types, 3);
    if (!types) return -1;
    bool sms = iz__via_is_sms(v), email = false, phone = false;
    json_array_foreach(types, i, c)
    {
        if (strcmp(json_string_value(c), "EPOSTA") == 0)
            email = true;
        else
            phone = true;
    }
    if (email && json_array_size(types) > 1) {
        via_error(r, "H1066", NULL, types);
        return -1;
    }
    if ((sms && email) || (!sms && phone)) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "Girdiğiniz '%s' izin tipi, doğrulama tipi '%s' ile uyuşmamaktadır. Uyuşan "
                 "geçerli değerler: %s",
                 email   ? "EPOSTA"
                 : phone ? json_string_value(json_array_get(types, 0))
                         : "",
                 v, sms ? "[MESAJ, ARAMA]" : "[EPOSTA]");
        via_error(r, "H1086", msg, types);
        return -1;
    }
    json_t *rt = json_object_get(item, "recipientType");
    iz_rtype_t rtype;
    if (!rt || json_is_null(rt) || (json_is_string(rt) && json_string_length(rt) == 0)) {
        via_blank(r, "recipientType");
        return -1;
    }
    if (!json_is_string(rt) || json_string_length(rt) > 8 ||
        iz_rtype_parse(json_string_value(rt), &rtype) != 0) {
        via_error(r, "H1063", NULL, rt);
        return -1;
    }
    *out = json_pack("{s:O, s:O, s:s}", "brandCodes", brands, "types", types, "recipientType",
                     iz_rtype_name(rtype));
    return 0;
}

/* A TC kimlik number as ViA takes it: 10 or 11 digits (the spec's own
 * example has 10), not starting with 0. */
static bool id_number_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 10 || n > 11 || s[0] == '0') return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

/* The KVK part: its types and personData (name required: H1057
 * recipientName; recipientIdNumber H1096; address bounded). */
static int parse_kvk(iz_req_t *r, json_t *item, json_t **out)
{
    static const char *const keys[] = {"title", "types", "personData"};
    static const char *const pkeys[] = {"name", "recipientIdNumber", "address"};
    if (known_keys(r, item, keys, IZ_ARRAY_LEN(keys)) != 0) return -1;
    json_t *types = type_list(r, json_object_get(item, "types"), "kvkTypes", kvk_types, 3);
    if (!types) return -1;
    json_t *pd = json_object_get(item, "personData");
    if (pd && !json_is_object(pd)) {
        via_badtype(r, "personData", "Object");
        return -1;
    }
    if (pd && known_keys(r, pd, pkeys, IZ_ARRAY_LEN(pkeys)) != 0) return -1;
    json_t *name = json_object_get(pd, "name"), *id = json_object_get(pd, "recipientIdNumber");
    json_t *addr = json_object_get(pd, "address");
    if (!json_is_string(name) || json_string_length(name) == 0) {
        via_blank(r, "recipientName");
        return -1;
    }
    if (json_string_length(name) > NAME_MAX_LEN ||
        strlen(json_string_value(name)) != json_string_length(name)) {
        via_badtype(r, "name", "String");
        return -1;
    }
    if (id && !json_is_null(id) &&
        (!json_is_string(id) ||
         (json_string_length(id) > 0 && !id_number_ok(json_string_value(id))))) {
        via_error(r, "H1096", NULL, id);
        return -1;
    }
    if (addr && !json_is_null(addr) &&
        (!json_is_string(addr) || json_string_length(addr) > ADDRESS_MAX)) {
        via_badtype(r, "address", "String");
        return -1;
    }
    json_t *p = json_pack("{s:O}", "name", name);
    if (json_is_string(id) && json_string_length(id)) json_object_set(p, "recipientIdNumber", id);
    if (json_is_string(addr) && json_string_length(addr)) json_object_set(p, "address", addr);
    *out = json_pack("{s:O, s:o}", "types", types, "personData", p);
    return 0;
}

/* consentTypes: at most one ETK and one KVK item (H1060 for a repeated
 * title, H1013 for another). */
static int parse_consent_types(iz_req_t *r, iz_sim_t *sim, int64_t iys, json_t *list, const char *v,
                               json_t **etk, json_t **kvk)
{
    *etk = *kvk = NULL;
    if (!list || json_is_null(list) || (json_is_array(list) && json_array_size(list) == 0)) {
        via_blank(r, "consentTypes");
        return -1;
    }
    if (!json_is_array(list)) {
        via_badtype(r, "consentTypes", "List");
        return -1;
    }
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        json_t *title = json_is_object(item) ? json_object_get(item, "title") : NULL;
        const char *t = json_string_value(title);
        int rc = 0;
        if (!json_is_object(item)) {
            via_badtype(r, "consentTypes", "Object");
            rc = -1;
        } else if (!title || json_is_null(title)) {
            via_missing(r, "title");
            rc = -1;
        } else if (!t || (strcmp(t, "ETK") != 0 && strcmp(t, "KVK") != 0)) {
            via_error(r, "H1013", "title alanı için gereken değerler: ETK, KVK olmalıdır.", title);
            rc = -1;
        } else if ((strcmp(t, "ETK") == 0 && *etk) || (strcmp(t, "KVK") == 0 && *kvk)) {
            via_error(r, "H1060", NULL, title);
            rc = -1;
        } else if (strcmp(t, "ETK") == 0) {
            rc = parse_etk(r, sim, iys, item, v, etk);
        } else {
            rc = parse_kvk(r, item, kvk);
        }
        if (rc != 0) {
            json_decref(*etk);
            json_decref(*kvk);
            *etk = *kvk = NULL;
            return -1;
        }
    }
    return 0;
}

/* The ViA form of a start: known (H1055), the provider's (H1062),
 * published (H1000), of the verification type's method (H1065). */
static int check_form(iz_req_t *r, iz_sim_t *sim, int64_t iys, const char *form_id, const char *v)
{
    int64_t owner;
    char *body = NULL, msg[160];
    snprintf(msg, sizeof msg, "İstekte verilen formId:%.64s sistemde bulunamadı.", form_id);
    int rc = iz_sim_via_config_get(sim->st, "FORM", form_id, &owner, &body);
    json_t *form = stored(r, rc, body, "H1055", msg);
    if (!form) return -1;
    const char *method = iz__via_str(form, "method");
    const char *want = iz__via_is_otp(v)          ? "OTP"
                       : strstr(v, "APPROVALURL") ? "APPROVALURL"
                                                  : "SHORTURL";
    bool published = json_is_true(json_object_get(form, "published"));
    rc = 0;
    if (owner != iys) {
        via_error(r, "H1062", NULL, NULL);
        rc = -1;
    } else if (!published) {
        via_error(r, "H1000", NULL, NULL);
        rc = -1;
    } else if (strcmp(method, want) != 0) {
        snprintf(msg, sizeof msg,
                 "İstekte verilen doğrulama tipi (verificationType) form tipi ile "
                 "uyuşmamaktadır. Form tipi: %s",
                 method);
        via_error(r, "H1065", msg, NULL);
        rc = -1;
    }
    json_decref(form);
    return rc;
}

/* A verificationType: H1057 when missing, H1012 when not one of ViA's. */
static const char *verification_of(iz_req_t *r, json_t *body)
{
    json_t *v = json_object_get(body, "verificationType");
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        via_blank(r, "verificationType");
        return NULL;
    }
    if (!in_list(json_string_value(v), verifications, IZ_ARRAY_LEN(verifications))) {
        via_error(r, "H1012",
                  "verificationType alanı için gereken değerler: SMS_SHORTURL, EPOSTA_SHORTURL, "
                  "SMS_OTP, EPOSTA_OTP, EPOSTA_APPROVALURL olmalıdır.",
                  v);
        return NULL;
    }
    return json_string_value(v);
}

/* Start a process after the checks shared by the API and the widget
 * (form, subscription, credit); answers errors and returns -1. */
static int start_checked(iz_req_t *r, iz_sim_t *sim, iz__via_start_t *s, char rid[37])
{
    if (check_form(r, sim, s->iys_code, s->form_id, s->verification) != 0 ||
        via_subscribed(r, sim, s->iys_code) != 0)
        return -1;
    char short_code[16];
    const char *hcode = NULL;
    int rc = iz__via_start(sim, r, s, rid, short_code, &hcode);
    if (rc == IZ_ERULE && hcode) {
        via_error(r, hcode, NULL, NULL);
        return -1;
    }
    if (rc != 0) {
        via_error(r, "H1019", NULL, NULL);
        return -1;
    }
    return 0;
}

/* ---- POST /via/sps/{iysCode}/consent ------------------------------------------------- */

void iz__sim_h_via_start(iz_req_t *r, void *app)
{
    static const char *const keys[] = {"formId", "recipient", "verificationType", "consentTypes"};
    iz_sim_t *sim = app;
    int64_t iys;
    if (via_auth(r, sim, &iys) != 0) return;
    json_t *body = via_body(r);
    if (!body) return;
    json_t *etk = NULL, *kvk = NULL;
    const char *form_id, *v;
    char recipient[IZ_RECIPIENT_MAX];
    if (known_keys(r, body, keys, IZ_ARRAY_LEN(keys)) == 0 &&
        (form_id = text_of(r, body, "formId", ID_MAX)) != NULL &&
        (v = verification_of(r, body)) != NULL &&
        via_recipient(r, json_object_get(body, "recipient"), iz__via_is_sms(v), recipient) == 0 &&
        parse_consent_types(r, sim, iys, json_object_get(body, "consentTypes"), v, &etk, &kvk) ==
            0) {
        iz__via_start_t s = {.service = "VIA",
                             .iys_code = iys,
                             .form_id = form_id,
                             .verification = v,
                             .recipient = recipient,
                             .etk = etk,
                             .kvk = kvk};
        char rid[37];
        if (start_checked(r, sim, &s, rid) == 0) via_ok(r, json_pack("{s:s}", "requestId", rid));
    }
    json_decref(etk);
    json_decref(kvk);
    json_decref(body);
}

/* ---- completions ------------------------------------------------------------------------ */

/* The ViA code of each outcome that is not a success. */
static const char *const outcome_codes[] = {
    [IZ__VIA_NOTFOUND] = "H1030", [IZ__VIA_MISMATCH] = "H1064", [IZ__VIA_PENDING] = "H1033",
    [IZ__VIA_DONE] = "H1032",     [IZ__VIA_EXPIRED] = "H1051",  [IZ__VIA_LOCKED] = "H1050",
    [IZ__VIA_WRONG] = "H1052",    [IZ__VIA_TITLES] = "H1054",   [IZ__VIA_QUOTA] = "H1031",
    [IZ__VIA_FAIL] = "H1019",
};

/* Answer a completion's outcome that is not a success: with the wrong
 * code (out) or the requestId (a pending link) as the error's value.
 * conflict: 409 for "completed already" (the widget's). */
static void reply_outcome(iz_req_t *r, iz__via_outcome_t res, json_t *out, const char *rid,
                          bool conflict)
{
    const char *code = (size_t)res < IZ_ARRAY_LEN(outcome_codes) && outcome_codes[res]
                           ? outcome_codes[res]
                           : "H1019";
    json_t *value = res == IZ__VIA_WRONG     ? json_incref(out)
                    : res == IZ__VIA_PENDING ? json_string(rid)
                                             : NULL;
    iz_error_t e = {.code = code, .value = value, .index = -1};
    iz_reply_errors(r, res == IZ__VIA_DONE && conflict ? 409 : iz_hcode_http(code), &e, 1);
    json_decref(value);
}

/* The results as the confirmation answers them: brandCode as text, KVK
 * items without one. */
static json_t *confirmation_list(json_t *results)
{
    json_t *out = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(results, i, x)
    {
        json_t *o = json_pack(
            "{s:O, s:O, s:O}", "transactionId", json_object_get(x, "transactionId"), "creationDate",
            json_object_get(x, "creationDate"), "type", json_object_get(x, "type"));
        json_t *b = json_object_get(x, "brandCode");
        if (b) {
            char s[24];
            snprintf(s, sizeof s, "%lld", (long long)json_integer_value(b));
            json_object_set_new(o, "brandCode", json_string(s));
        }
        json_array_append_new(out, o);
    }
    return out;
}

void iz__sim_h_via_confirm(iz_req_t *r, void *app)
{
    static const char *const keys[] = {"requestId", "verificationType", "consentTypes"};
    iz_sim_t *sim = app;
    int64_t iys;
    if (via_auth(r, sim, &iys) != 0) return;
    json_t *body = via_body(r);
    if (!body) return;
    const char *rid, *v;
    if (known_keys(r, body, keys, IZ_ARRAY_LEN(keys)) != 0 ||
        !(rid = text_of(r, body, "requestId", ID_MAX)) || !(v = verification_of(r, body))) {
        json_decref(body);
        return;
    }
    json_t *list = json_object_get(body, "consentTypes");
    const char *titles[2], *codes[2];
    size_t n = 0;
    if (iz__via_is_otp(v)) {
        if (!list || json_is_null(list) || (json_is_array(list) && json_array_size(list) == 0)) {
            via_blank(r, "consentTypes");
            json_decref(body);
            return;
        }
        if (!json_is_array(list) || json_array_size(list) > 2) {
            via_badtype(r, "consentTypes", "List");
            json_decref(body);
            return;
        }
        size_t i;
        json_t *item;
        json_array_foreach(list, i, item)
        {
            static const char *const ikeys[] = {"title", "otpCode"};
            const char *t = json_string_value(json_object_get(item, "title"));
            if (!json_is_object(item)) {
                via_badtype(r, "consentTypes", "Object");
            } else if (known_keys(r, item, ikeys, 2) != 0) {
                t = NULL;
            } else if (!json_object_get(item, "title")) {
                via_missing(r, "title");
                t = NULL;
            } else if (!t || (strcmp(t, "ETK") != 0 && strcmp(t, "KVK") != 0)) {
                via_error(r, "H1013", "title alanı için gereken değerler: ETK, KVK olmalıdır.",
                          json_object_get(item, "title"));
                t = NULL;
            } else if (n == 1 && strcmp(titles[0], t) == 0) {
                via_error(r, "H1060", NULL, NULL);
                t = NULL;
            } else if (!(codes[n] = text_of(r, item, "otpCode", 16))) {
                t = NULL;
            }
            if (!json_is_object(item) || !t) {
                json_decref(body);
                return;
            }
            titles[n++] = t;
        }
    }
    iz__via_complete_t c = {.request_id = rid,
                            .owner = iys,
                            .service = "VIA",
                            .verification = v,
                            .titles = titles,
                            .codes = codes,
                            .n = n};
    json_t *out = NULL;
    iz__via_outcome_t res = iz__via_complete(sim, &c, &out);
    if (res == IZ__VIA_OK)
        via_ok(r, confirmation_list(out));
    else
        reply_outcome(r, res, out, rid, false);
    json_decref(out);
    json_decref(body);
}

/* ---- reads --------------------------------------------------------------------------------- */

/* The ViA process (VIA or WIDGET) of the path's requestId, after
 * via_auth; NULL and answered (missing: H1030, or H1072 for the file)
 * when the provider has none. The state's time is applied (not stored). */
static json_t *path_process(iz_req_t *r, iz_sim_t *sim, const via_codes_t *c, const char *missing,
                            const char **rid)
{
    int64_t iys;
    if (via_auth_as(r, sim, c, &iys) != 0) return NULL;
    *rid = iz_req_param(r, "requestId");
    iz_sim_via_req_t q;
    int rc = strlen(*rid) <= ID_MAX ? iz_sim_via_req_get(sim->st, *rid, &q) : IZ_ENOTFOUND;
    if (rc != 0 && rc != IZ_ENOTFOUND) {
        via_error(r, "H1019", NULL, NULL);
        return NULL;
    }
    json_t *state = rc == 0 ? json_loads(q.body, 0, NULL) : NULL;
    if (rc == 0) free(q.body);
    if (!json_is_object(state) || q.iys_code != iys ||
        strcmp(iz__via_str(state, "service"), "PASS") == 0) {
        json_decref(state);
        via_error(r, missing, NULL, NULL);
        return NULL;
    }
    (void)iz__via_expire(state, time(NULL));
    return state;
}

/* The result of brand/type (or KVK type) in results, or NULL. */
static json_t *result_of(json_t *results, const char *consent_type, int64_t brand, const char *type)
{
    size_t i;
    json_t *x;
    json_array_foreach(results, i, x)
    {
        if (strcmp(iz__via_str(x, "consentType"), consent_type) == 0 &&
            json_integer_value(json_object_get(x, "brandCode")) == brand &&
            strcmp(iz__via_str(x, "type"), type) == 0)
            return x;
    }
    return NULL;
}

static json_t *detail(json_t *results, const char *consent_type, int64_t brand, const char *type)
{
    json_t *o = json_object();
    if (brand) {
        char s[24];
        snprintf(s, sizeof s, "%lld", (long long)brand);
        json_object_set_new(o, "brandCode", json_string(s));
    }
    json_object_set_new(o, "consentTypeChoice", json_string(type));
    json_object_set_new(o, "consentType", json_string(consent_type));
    json_t *x = result_of(results, consent_type, brand, type);
    json_object_set_new(o, "operationStatusMessage",
                        json_string(x ? "Onay verildi" : "Onay verilmedi"));
    if (x) {
        json_object_set(o, "transactionId", json_object_get(x, "transactionId"));
        json_object_set(o, "consentDate", json_object_get(x, "creationDate"));
    }
    return o;
}

void iz__sim_h_via_request(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    const char *rid;
    json_t *state = path_process(r, sim, &via_own, "H1030", &rid);
    if (!state) return;
    int64_t iys = json_integer_value(json_object_get(state, "iysCode"));
    json_t *etk = json_object_get(state, "etk"), *kvk = json_object_get(state, "kvk");
    json_t *pd = json_object_get(kvk, "personData"), *results = json_object_get(state, "results");
    bool sms = iz__via_is_sms(iz__via_str(state, "verificationType"));
    bool widget = strcmp(iz__via_str(state, "service"), "WIDGET") == 0;
    char iys_s[24];
    snprintf(iys_s, sizeof iys_s, "%lld", (long long)iys);
    json_t *m = json_object();
    json_object_set_new(m, "requestId", json_string(rid));
    json_object_set(m, "formId", json_object_get(state, "formId"));
    json_object_set_new(m, "source",
                        json_string(widget ? (sms ? "IYS_FRAME_SMS" : "IYS_FRAME_EPOSTA")
                                           : (sms ? "IYS_KISAMESAJ" : "IYS_EPOSTA")));
    if (*iz__via_str(pd, "name")) json_object_set(m, "recipientName", json_object_get(pd, "name"));
    if (*iz__via_str(pd, "recipientIdNumber"))
        json_object_set(m, "recipientIdNumber", json_object_get(pd, "recipientIdNumber"));
    json_object_set_new(m, "iysCode", json_string(iys_s));
    json_object_set(m, "recipient", json_object_get(state, "recipient"));
    if (etk) json_object_set(m, "recipientType", json_object_get(etk, "recipientType"));
    json_object_set(m, "consentSource", json_object_get(state, "verificationType"));
    json_object_set_new(m, "requestDate",
                        iz__via_date_ms(json_integer_value(json_object_get(state, "createdMs"))));
    json_t *details = json_array();
    size_t i, k;
    json_t *b, *t;
    json_array_foreach(json_object_get(etk, "brandCodes"), i, b)
    {
        json_array_foreach(json_object_get(etk, "types"), k, t)
        {
            json_array_append_new(
                details, detail(results, "ETK", json_integer_value(b), json_string_value(t)));
        }
    }
    json_array_foreach(json_object_get(kvk, "types"), k, t)
        json_array_append_new(details, detail(results, "KVK", 0, json_string_value(t)));
    json_object_set_new(m, "requestDetails", details);
    json_object_set_new(m, "lastStatus",
                        json_pack("{s:O, s:O}", "stage", json_object_get(state, "stage"), "status",
                                  json_object_get(state, "status")));
    json_decref(state);
    via_ok(r, m);
}

void iz__sim_h_via_kvk(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    const char *rid;
    json_t *state = path_process(r, sim, &via_kvk_codes, "H1030", &rid);
    if (!state) return;
    json_decref(state);
    char **list = NULL;
    size_t n = 0;
    if (iz_sim_via_kvk_of_request(sim->st, rid, &list, &n) != 0) {
        via_error(r, "H1019", NULL, NULL);
        return;
    }
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_loads(list[i], 0, NULL);
        if (x) json_array_append_new(out, x);
    }
    iz_sim_via_strings_free(list, n);
    if (json_array_size(out) == 0) {
        json_decref(out);
        via_error(r, "H1076", NULL, NULL);
        return;
    }
    via_ok(r, out);
}

void iz__sim_h_via_kvk_search(iz_req_t *r, void *app)
{
    static const char *const keys[] = {"type", "recipient"};
    iz_sim_t *sim = app;
    int64_t iys;
    if (via_auth(r, sim, &iys) != 0) return;
    json_t *body = via_body(r);
    if (!body) return;
    json_t *type = json_object_get(body, "type"), *rc = json_object_get(body, "recipient");
    char recipient[IZ_RECIPIENT_MAX];
    if (known_keys(r, body, keys, 2) != 0) {
        json_decref(body);
        return;
    }
    if (!type || json_is_null(type) || (json_is_string(type) && json_string_length(type) == 0)) {
        via_blank(r, "type");
    } else if (!in_list(json_string_value(type), kvk_types, 3)) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "Geçersiz izin tipi: %.40s. Lütfen geçerli izin tiplerini kullanın: "
                 "AYDINLATMA_METNI, ACIK_RIZA_METNI, YURTDISI_AKTARIM",
                 json_is_string(type) ? json_string_value(type) : "?");
        via_error(r, "H1085", msg, type);
    } else if (via_recipient(r, rc, !(json_is_string(rc) && strchr(json_string_value(rc), '@')),
                             recipient) == 0) {
        char **list = NULL;
        size_t n = 0;
        if (iz_sim_via_kvk_requests(sim->st, iys, recipient, json_string_value(type), &list, &n) !=
            0) {
            via_error(r, "H1019", NULL, NULL);
        } else {
            json_t *out = json_array();
            for (size_t i = 0; i < n; i++)
                json_array_append_new(out, json_string(list[i]));
            iz_sim_via_strings_free(list, n);
            via_ok(r, out);
        }
    }
    json_decref(body);
}

void iz__sim_h_via_file(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    const char *rid;
    json_t *state = path_process(r, sim, &via_own, "H1072", &rid);
    if (!state) return;
    if (strcmp(iz__via_str(state, "status"), "SUCCESS") != 0)
        via_error(r, "H1072", NULL, NULL);
    else
        iz__via_reply_file(r, sim, rid, state);
    json_decref(state);
}

/* ---- the ViA Frame widget -------------------------------------------------------------- */

/* The widget of the path (its JSON), or NULL when answered 404. */
static json_t *widget_of(iz_req_t *r, iz_sim_t *sim)
{
    const char *id = iz_req_param(r, "widgetUUID");
    int64_t iys;
    char *body = NULL;
    json_t *w = NULL;
    if (strlen(id) <= ID_MAX && iz_sim_via_config_get(sim->st, "WIDGET", id, &iys, &body) == 0)
        w = json_loads(body, 0, NULL);
    free(body);
    if (!json_is_object(w)) {
        json_decref(w);
        iz_reply_json(
            r, 404, json_pack("{s:s, s:s}", "status", "FAILURE", "message", "Widget bulunamadı."));
        return NULL;
    }
    return w;
}

/* The random hex token of nbytes bytes. */
static void token_hex(char *out, size_t nbytes)
{
    uint8_t b[32];
    if (nbytes > sizeof b || iz_random(b, nbytes) != 0) iz_oom();
    iz_hex(b, nbytes, out);
}

void iz__sim_h_widget_loader(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    json_t *w = widget_of(r, sim);
    if (!w) return;
    char *js = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&js, &len);
    if (!f) iz_oom();
    /* İYS's loader, as its document shows it, pointed at the emulator. */
    fprintf(f,
            "const widgetUUID = \"%s\";\n"
            "const apiURL = \"%s\";\n"
            "const targetSection = document.getElementById(widgetUUID);\n"
            "fetch(apiURL + \"/widget/publicKey/\" + widgetUUID, { method: \"GET\" })\n"
            "  .then(r => r.text())\n"
            "  .then(t => JSON.parse(t))\n"
            "  .then(data => {\n"
            "    const parts = data.message[0].split(\"|\");\n"
            "    if (document.location.hostname === parts[1]) {\n"
            "      return fetch(apiURL + \"/widget/load-widget/\" + widgetUUID + \"?apinoncekey=\" "
            "+ parts[0]);\n"
            "    }\n"
            "    throw new Error(\"Invalid domain\");\n"
            "  })\n"
            "  .then(r => r.json())\n"
            "  .then(data => {\n"
            "    if (data.js) { const s = document.createElement(\"script\"); s.textContent = "
            "data.js; document.body.appendChild(s); }\n"
            "    if (data.css) { const st = document.createElement(\"style\"); st.textContent = "
            "data.css; document.head.appendChild(st); }\n"
            "  });\n",
            iz__via_str(w, "widgetUUID"), iz__via_base_url(r));
    if (fclose(f) != 0) iz_oom();
    json_decref(w);
    iz_reply_bytes(r, 200, "application/javascript; charset=utf-8", js, len);
    free(js);
}

void iz__sim_h_widget_key(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    json_t *w = widget_of(r, sim);
    if (!w) return;
    char nonce[65], msg[65 + 260];
    token_hex(nonce, 32);
    if (iz_sim_via_nonce_add(sim->st, nonce, iz__via_str(w, "widgetUUID"),
                             (int64_t)time(NULL) + NONCE_TTL) != 0) {
        json_decref(w);
        via_error(r, "H1019", NULL, NULL);
        return;
    }
    snprintf(msg, sizeof msg, "%s|%s", nonce, iz__via_str(w, "domain"));
    json_decref(w);
    iz_reply_json(r, 200, json_pack("{s:[s], s:s}", "message", msg, "status", "SUCCESS"));
}

/* The widget's script: a form that starts the process and completes it
 * with the code, through the two process calls. */
static const char widget_js[] =
    "(function(){\n"
    "var W=%s,N=%s,C=%s,A=%s,K=Array.from(crypto.getRandomValues(new Uint8Array(16)),"
    "function(b){return b.toString(16).padStart(2,'0')}).join('');\n"
    "var root=document.getElementById(W);if(!root)return;\n"
    "root.innerHTML='<form class=\"iys-via\"><label>Telefon numarası <input name=\"recipient\" "
    "placeholder=\"+905xxxxxxxxx\"></label><label>Ad soyad <input name=\"citizenName\"></label>"
    "<label><input type=\"checkbox\" name=\"mesaj\" checked> SMS ile ileti almayı kabul "
    "ediyorum</label><button>Onay kodu gönder</button></form><form class=\"iys-via\" hidden>"
    "<label>Onay kodu <input name=\"otp\" inputmode=\"numeric\"></label><button>Onayla</button>"
    "</form><p class=\"iys-via-msg\"></p>';\n"
    "var f=root.querySelectorAll('form'),m=root.querySelector('p'),rid=null;\n"
    "function post(p,b){b.cookieKey=K;b.csrfToken=C;b.nonceKey=N;return fetch(A+p+W,"
    "{method:'POST',headers:{'Content-Type':'application/json'},body:JSON.stringify(b)})"
    ".then(function(r){return r.json()})}\n"
    "f[0].onsubmit=function(e){e.preventDefault();post('/widget/process/start/',"
    "{etkTypes:f[0].mesaj.checked?['MESAJ']:[],kvkTypes:[],recipient:f[0].recipient.value,"
    "verificationType:'SMS_OTP',recipientType:'BIREYSEL',widgetUUID:W,"
    "citizenName:f[0].citizenName.value}).then(function(d){if(d.status==='SUCCESS'){"
    "rid=d.message.requestId;f[0].hidden=true;f[1].hidden=false;m.textContent='Onay kodu "
    "gönderildi.'}else{m.textContent=(d.errors&&d.errors[0].message)||'Hata'}})};\n"
    "f[1].onsubmit=function(e){e.preventDefault();post('/widget/process/complete/',"
    "{requestId:rid,otpCode:f[1].otp.value,verificationType:'SMS_OTP',consentType:'ETK'})"
    ".then(function(d){m.textContent=d.status==='SUCCESS'?'Onayınız kaydedildi.':"
    "((d.errors&&d.errors[0].message)||'Hata')})};\n"
    "})();\n";

void iz__sim_h_widget_load(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    json_t *w = widget_of(r, sim);
    if (!w) return;
    const char *nonce = iz_req_query(r, "apinoncekey");
    char csrf[65];
    token_hex(csrf, 32);
    if (!nonce || strlen(nonce) != 64 ||
        iz_sim_via_nonce_bind(sim->st, nonce, iz__via_str(w, "widgetUUID"), csrf, time(NULL)) !=
            0) {
        json_decref(w);
        via_error(r, "H1045", NULL, NULL);
        return;
    }
    /* The values go into the script as JSON strings (quoted, escaped). */
    json_t *vals =
        json_pack("[s, s, s, s]", iz__via_str(w, "widgetUUID"), nonce, csrf, iz__via_base_url(r));
    char *q[4];
    for (size_t i = 0; i < 4; i++) {
        q[i] = json_dumps(json_array_get(vals, i), JSON_ENCODE_ANY | JSON_ESCAPE_SLASH);
        if (!q[i]) iz_oom();
    }
    char *js = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&js, &len);
    if (!f) iz_oom();
    fprintf(f, widget_js, q[0], q[1], q[2], q[3]);
    if (fclose(f) != 0) iz_oom();
    for (size_t i = 0; i < 4; i++)
        free(q[i]);
    json_decref(vals);
    json_decref(w);
    json_t *out = json_pack("{s:s, s:s, s:s, s:{s:s}}", "js", js, "css",
                            ".iys-via label{display:block;margin:.4em 0}"
                            ".iys-via-msg{font-weight:700}",
                            "status", "SUCCESS", "message", "csrfToken", csrf);
    free(js);
    iz_reply_json(r, 200, out);
}

/* The widget calls' own keys: the nonce the public-key call gave, the
 * CSRF token the widget's script carries and the cookie key (401 H1045
 * when they do not hold). */
static int widget_keys(iz_req_t *r, iz_sim_t *sim, json_t *w, json_t *body)
{
    const char *nonce = json_string_value(json_object_get(body, "nonceKey"));
    const char *csrf = json_string_value(json_object_get(body, "csrfToken"));
    const char *cookie = json_string_value(json_object_get(body, "cookieKey"));
    if (!nonce || !csrf || !cookie || !*cookie || strlen(cookie) > COOKIE_MAX ||
        strlen(nonce) != 64 || strlen(csrf) != 64 ||
        iz_sim_via_nonce_check(sim->st, nonce, iz__via_str(w, "widgetUUID"), csrf, time(NULL)) !=
            0) {
        via_error(r, "H1045", NULL, NULL);
        return -1;
    }
    return 0;
}

void iz__sim_h_widget_start(iz_req_t *r, void *app)
{
    static const char *const keys[] = {
        "etkTypes", "kvkTypes",  "recipient", "verificationType", "recipientType", "captchaText",
        "cid",      "cookieKey", "csrfToken", "widgetUUID",       "nonceKey",      "citizenName"};
    iz_sim_t *sim = app;
    json_t *w = widget_of(r, sim);
    if (!w) return;
    json_t *body = via_body(r);
    if (!body) {
        json_decref(w);
        return;
    }
    int64_t iys = json_integer_value(json_object_get(w, "iysCode"));
    json_t *etk = NULL, *kvk = NULL;
    const char *v = NULL;
    char recipient[IZ_RECIPIENT_MAX];
    json_t *et = json_object_get(body, "etkTypes"), *kt = json_object_get(body, "kvkTypes");
    if (known_keys(r, body, keys, IZ_ARRAY_LEN(keys)) != 0 || widget_keys(r, sim, w, body) != 0) {
        goto done;
    }
    if (!json_equal(json_object_get(body, "widgetUUID"), json_object_get(w, "widgetUUID"))) {
        via_error(r, "H1010", "widgetUUID alanına girilen değer uygun değil.", NULL);
        goto done;
    }
    if ((v = verification_of(r, body)) == NULL || strstr(v, "APPROVALURL") ||
        via_recipient(r, json_object_get(body, "recipient"), iz__via_is_sms(v), recipient) != 0) {
        if (v && strstr(v, "APPROVALURL"))
            via_error(r, "H1012",
                      "verificationType alanı için gereken değerler: SMS_SHORTURL, "
                      "EPOSTA_SHORTURL, SMS_OTP, EPOSTA_OTP olmalıdır.",
                      json_object_get(body, "verificationType"));
        goto done;
    }
    /* The widget's lists become ViA's consentTypes, with the widget's
     * brands, and go through the same checks. */
    json_t *list = json_array();
    if (json_is_array(et) && json_array_size(et))
        json_array_append_new(list,
                              json_pack("{s:s, s:O, s:O, s:O*}", "title", "ETK", "brandCodes",
                                        json_object_get(w, "brandCodes"), "types", et,
                                        "recipientType", json_object_get(body, "recipientType")));
    if (json_is_array(kt) && json_array_size(kt))
        json_array_append_new(list, json_pack("{s:s, s:O, s:{s:O*}}", "title", "KVK", "types", kt,
                                              "personData", "name",
                                              json_object_get(body, "citizenName")));
    if ((et && !json_is_array(et)) || (kt && !json_is_array(kt))) {
        via_badtype(r, et && !json_is_array(et) ? "etkTypes" : "kvkTypes", "List");
    } else if (parse_consent_types(r, sim, iys, list, v, &etk, &kvk) == 0) {
        const char *cookie = json_string_value(json_object_get(body, "cookieKey"));
        iz__via_start_t s = {.service = "WIDGET",
                             .iys_code = iys,
                             .form_id = iz__via_str(w, "formId"),
                             .verification = v,
                             .recipient = recipient,
                             .etk = etk,
                             .kvk = kvk,
                             .cookie_key = cookie};
        char rid[37];
        if (start_checked(r, sim, &s, rid) == 0)
            iz_reply_json(r, 200,
                          json_pack("{s:s, s:{s:s, s:i}}", "status", "SUCCESS", "message",
                                    "requestId", rid, "timeout",
                                    iz__via_is_otp(v) ? sim->cfg.otp_ttl : sim->cfg.link_ttl));
    }
    json_decref(list);
done:
    json_decref(etk);
    json_decref(kvk);
    json_decref(body);
    json_decref(w);
}

void iz__sim_h_widget_complete(iz_req_t *r, void *app)
{
    static const char *const keys[] = {"requestId", "otpCode",  "verificationType", "cookieKey",
                                       "csrfToken", "nonceKey", "consentType"};
    iz_sim_t *sim = app;
    json_t *w = widget_of(r, sim);
    if (!w) return;
    json_t *body = via_body(r);
    if (!body) {
        json_decref(w);
        return;
    }
    const char *rid, *v, *ct = json_string_value(json_object_get(body, "consentType"));
    if (known_keys(r, body, keys, IZ_ARRAY_LEN(keys)) != 0 || widget_keys(r, sim, w, body) != 0 ||
        !(rid = text_of(r, body, "requestId", ID_MAX)) || !(v = verification_of(r, body))) {
        json_decref(body);
        json_decref(w);
        return;
    }
    const char *code = NULL;
    if (!ct || (strcmp(ct, "ETK") != 0 && strcmp(ct, "KVK") != 0 && strcmp(ct, "ETK_KVK") != 0)) {
        via_error(r, "H1010", "consentType alanına girilen değer uygun değil.",
                  json_object_get(body, "consentType"));
    } else if (!iz__via_is_otp(v) || (code = text_of(r, body, "otpCode", 16)) != NULL) {
        /* The process must be this widget's and this browser's (its
         * cookie key); anything else is not found. */
        iz_sim_via_req_t q;
        json_t *state = NULL;
        bool mine = false;
        if (iz_sim_via_req_get(sim->st, rid, &q) == 0) {
            state = json_loads(q.body, 0, NULL);
            free(q.body);
            json_t *e = json_object_get(state, "etk"), *k = json_object_get(state, "kvk");
            const char *want = e && k ? "ETK_KVK" : e ? "ETK" : "KVK";
            mine =
                q.iys_code == json_integer_value(json_object_get(w, "iysCode")) &&
                json_equal(json_object_get(state, "cookieKey"), json_object_get(body, "cookieKey"));
            if (mine && strcmp(want, ct) != 0) {
                via_error(r, "H1054", NULL, NULL);
                json_decref(state);
                json_decref(body);
                json_decref(w);
                return;
            }
        }
        json_decref(state);
        const char *titles[] = {"ALL"}, *codes[] = {code};
        iz__via_complete_t c = {.request_id = mine ? rid : "",
                                .service = "WIDGET",
                                .verification = v,
                                .titles = titles,
                                .codes = codes,
                                .n = code ? 1 : 0};
        json_t *out = NULL;
        iz__via_outcome_t res = iz__via_complete(sim, &c, &out);
        if (res == IZ__VIA_OK)
            iz_reply_json(r, 200,
                          json_pack("{s:s, s:s}", "status", "SUCCESS", "message",
                                    "Process completed successfully"));
        else
            reply_outcome(r, res, out, rid, true);
        json_decref(out);
    }
    json_decref(body);
    json_decref(w);
}

/* ---- e-mail opt-out links --------------------------------------------------------------- */

void iz__sim_h_hash_links(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz__sim_auth_t a;
    if (iz__sim_authorize(r, sim, &a, IZ__AUTH_BRAND) != 0) return;
    int64_t iys = a.iys, brand = a.brand;
    json_t *body = iz_req_json_object(r, "H097");
    if (!body) return;
    json_t *list = json_object_get(body, "recipients");
    iz_error_t e = {.location = "recipients", .index = -1};
    if (!list || json_is_null(list)) {
        e.code = "H168";
    } else if (!json_is_array(list)) {
        e.code = "H478";
    } else if (json_array_size(list) == 0) {
        e.code = "H164";
    } else if (json_array_size(list) > LINKS_MAX) {
        e.code = "H127";
    }
    if (e.code) {
        iz_reply_errors(r, 422, &e, 1);
        json_decref(body);
        return;
    }
    size_t n = json_array_size(list);
    iz_error_t *errs = iz_req_alloc(r, 2 * n * sizeof *errs);
    char(*norm)[IZ_RECIPIENT_MAX] = iz_req_alloc(r, n * sizeof *norm);
    iz_rtype_t *rtypes = iz_req_alloc(r, n * sizeof *rtypes);
    size_t nerr = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(list, i);
        json_t *rc = json_object_get(item, "recipient"),
               *rt = json_object_get(item, "recipientType");
        const char *s = json_string_value(rc);
        if (!json_is_object(item) || !rc || json_is_null(rc))
            errs[nerr++] = (iz_error_t){.code = "H114", .location = "recipient", .index = (int)i};
        else if (!s || strlen(s) != json_string_length(rc) || strlen(s) > IZ_INPUT_MAX ||
                 iz_email_normalize(s, strlen(s), norm[i], NULL) != 0)
            errs[nerr++] =
                (iz_error_t){.code = "H120", .location = "recipient", .value = rc, .index = (int)i};
        if (json_is_object(item) && (!rt || json_is_null(rt)))
            errs[nerr++] =
                (iz_error_t){.code = "H170", .location = "recipientType", .index = (int)i};
        else if (json_is_object(item) && (!json_is_string(rt) || json_string_length(rt) > 8 ||
                                          iz_rtype_parse(json_string_value(rt), &rtypes[i]) != 0))
            errs[nerr++] = (iz_error_t){
                .code = "H116", .location = "recipientType", .value = rt, .index = (int)i};
    }
    if (nerr) {
        iz_reply_errors(r, 422, errs, nerr);
        json_decref(body);
        return;
    }
    int64_t now = time(NULL);
    const char *base = iz__via_base_url(r);
    json_t *out = json_array();
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        iz_sim_change_t cur;
        int g = iz_sim_consent_get(sim->st, iys, brand, rtypes[i], IZ_EPOSTA, norm[i], &cur);
        if (g != 0 && g != IZ_ENOTFOUND) {
            rc = g;
        } else if (g != 0 || cur.status != IZ_ONAY) {
            json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "recipient", norm[i], "code",
                                                 "H568", "message",
                                                 "Sadece ONAY durumunda olan izinler için link "
                                                 "üretilmelidir."));
        } else {
            iz_sim_via_link_t l = {.iys_code = iys,
                                   .brand_code = brand,
                                   .created = now,
                                   .expires = now + LINK_DAYS * 86400};
            token_hex(l.hash, 32);
            iz_strlcpy(l.recipient, norm[i], sizeof l.recipient);
            iz_strlcpy(l.rtype, iz_rtype_name(rtypes[i]), sizeof l.rtype);
            rc = iz_sim_via_link_add(sim->st, &l);
            char url[URL_MAX];
            snprintf(url, sizeof url, "%s/RET/%s", base, l.hash);
            json_array_append_new(out, json_pack("{s:s, s:s}", "url", url, "recipient", norm[i]));
        }
    }
    json_decref(body);
    if (rc != 0) {
        json_decref(out);
        iz_reply_error(r, "H101", NULL);
        return;
    }
    iz_reply_json(r, 200, out);
}

/* The link of the path; NULL and the page answered when it cannot be used. */
static int ret_link(iz_req_t *r, iz_sim_t *sim, iz_sim_via_link_t *l)
{
    const char *hash = iz_req_param(r, "hash");
    int rc = strlen(hash) == 64 ? iz_sim_via_link_get(sim->st, hash, l) : IZ_ENOTFOUND;
    if (rc == IZ_ENOTFOUND) {
        iz_page_refuse(r, &sim->site, 404, "Bağlantı geçersiz",
                       "Girilen hash url geçerli değildir.");
    } else if (rc != 0) {
        iz_page_refuse(r, &sim->site, 500, "Beklenmedik bir hata oluştu",
                       "Lütfen daha sonra yeniden deneyiniz.");
    } else if (l->used) {
        iz_page_refuse(r, &sim->site, 409, "İşlem tamamlanmış",
                       "Bu bağlantı ile daha önce işlem gerçekleştirilmiştir.");
        rc = -1;
    } else if (time(NULL) >= l->expires) {
        iz_page_refuse(r, &sim->site, 410, "Bağlantının süresi dolmuş",
                       "Bu bağlantının geçerlilik süresi (90 gün) dolmuştur.");
        rc = -1;
    }
    return rc;
}

void iz__sim_h_ret_page(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz_sim_via_link_t l;
    if (ret_link(r, sim, &l) != 0) return;
    char brand[128] = "";
    (void)iz_sim_brand_get(sim->st, l.iys_code, l.brand_code, brand);
    iz_page_t p;
    iz_page_begin(&p, &sim->site, r, "E-posta iletilerinden çıkış");
    iz_page_puts(&p, "<h1>E-posta iletilerinden çıkış</h1>");
    iz_page_printf(&p,
                   "<p><strong>%s</strong> markasının <strong>%s</strong> adresine ticari "
                   "elektronik ileti göndermesine verdiğiniz onayı geri almak üzeresiniz.</p>",
                   iz_page_esc(r, brand), iz_page_esc(r, l.recipient));
    char action[80];
    snprintf(action, sizeof action, "/RET/%s", l.hash);
    iz_page_form_post(&p, NULL, action);
    iz_page_puts(&p, "<button type=\"submit\" class=\"ret\">E-posta almak istemiyorum</button>"
                     "</form>");
    iz_page_end(&p, 200);
}

/* RET through a link: the address's consent must be ONAY (H1083 when
 * there is none, H1079 when it is RET already). */
static int ret_rule(void *ctx, const iz_current_t *cur, int64_t provider_records,
                    const char **hcode)
{
    (void)ctx;
    (void)provider_records;
    if (!cur->exists)
        *hcode = "H1083";
    else if (cur->status != IZ_ONAY)
        *hcode = "H1079";
    else
        return 0;
    return IZ_ERULE;
}

void iz__sim_h_ret_post(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz_form_t form;
    if (iz_page_post_form(r, &sim->site, sim->page_posts, &form) != 0) return;
    iz_sim_via_link_t l;
    if (ret_link(r, sim, &l) != 0) return;
    int64_t now = time(NULL);
    iz_sim_change_t chg = {.iys_code = l.iys_code,
                           .brand_code = l.brand_code,
                           .type = IZ_EPOSTA,
                           .status = IZ_RET,
                           .source = IZ_IYS_EPOSTA,
                           .consent_date = now,
                           .creation = now};
    iz_strlcpy(chg.recipient, l.recipient, sizeof chg.recipient);
    (void)iz_rtype_parse(l.rtype, &chg.rtype);
    const char *hcode = NULL;
    int rc = iz_sim_batch_begin(sim->st);
    if (rc == 0) rc = iz_sim_via_link_use(sim->st, l.hash, now);
    if (rc == 0) rc = iz_sim_consent_apply(sim->st, &chg, false, ret_rule, NULL, &hcode);
    /* A refused RET still uses the link up: it has done what it could. */
    int end = iz_sim_batch_end(sim->st, rc == IZ_ERULE ? 0 : rc);
    if (rc == IZ_ENOTFOUND || ((rc == 0 || rc == IZ_ERULE) && end != 0)) {
        iz_page_refuse(r, &sim->site, rc == IZ_ENOTFOUND ? 409 : 500,
                       rc == IZ_ENOTFOUND ? "İşlem tamamlanmış" : "Beklenmedik bir hata oluştu",
                       rc == IZ_ENOTFOUND ? "Bu bağlantı ile daha önce işlem gerçekleştirilmiştir."
                                          : "Lütfen daha sonra yeniden deneyiniz.");
        return;
    }
    if (rc != 0 && rc != IZ_ERULE) {
        iz_page_refuse(r, &sim->site, 500, "Beklenmedik bir hata oluştu",
                       "Lütfen daha sonra yeniden deneyiniz.");
        return;
    }
    iz_page_t p;
    iz_page_begin(&p, &sim->site, r, "E-posta iletilerinden çıkış");
    iz_page_puts(&p, "<h1>E-posta iletilerinden çıkış</h1>");
    iz_page_msg(&p, "ok",
                rc == 0 ? "Onayınız geri alındı; bu marka size artık ticari e-posta gönderemez."
                        : "Bu adres için geri alınacak bir onay bulunmuyor.",
                NULL);
    iz_page_end(&p, 200);
}
