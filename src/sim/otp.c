/*
 * otp.c - OTP management (ViA Pass) as the emulator answers it: a provider
 * asks İYS to verify that a phone number or an e-mail address is the
 * person's, by a code İYS sends (OTP) or a short link the person opens:
 *
 *   POST /otp-management/api/v1/{iysCode}/sms/start            (+ /short-url)
 *   POST /otp-management/api/v1/{iysCode}/email/start          (+ /short-url)
 *   POST /otp-management/api/v1/sms/complete, .../email/complete
 *   GET  /otp-management/api/v1/get-clarification-file/{iysCode}/{requestId}
 *   POST /otp-management/api/v1/request-history?page=&pageSize=
 *   GET  /otp-management/api/v1/subscription/{iysCode}
 *
 * ViA Pass has its own answer shapes: {errorCode, errorMessage} with
 * ERR-VLD-001 and a list of field errors (data), or ERR-SYS-0007 with the
 * İYS H-code of the "sub-system" (subSystemErrorInfo), and a trace_id
 * header on every answer. A template (its templateId) says the channel and
 * the method; in the emulator it may also name a consent (brand, types,
 * recipientType) that a completed verification records, as ViA records
 * what the person agreed to (docs/IYS-EMULATOR.md, "OTP management").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hcode.h"
#include "core/iz.h"
#include "core/recipient.h"
#include "sim/sim_int.h"
#include "sim/viastore.h"

#define ID_MAX 64
#define PAGE_SIZE_MAX 100

static const char msg_vld[] = "validasyon hatası";
static const char msg_sub[] = "Alt sistem hatası.";
static const char msg_sys[] =
    "Teknik nedenlerden dolayı şu anda işleminizi gerçekleştiremiyoruz. Lütfen bir süre sonra "
    "tekrar deneyiniz.";
static const char msg_vkn[] = "Vergi Kimlik Numarası yalnızca rakamlardan oluşmalı, 10 veya 11 "
                              "haneli olmalı, özel karakter ya da harf içermemeli ve 0 ile "
                              "başlamamalıdır.";

/* ---- answers ----------------------------------------------------------------- */

/* Every ViA Pass answer carries a trace_id. */
static void reply(iz_req_t *r, int status, json_t *body)
{
    char id[37];
    iz__sim_uuid4(id);
    iz_reply_header(r, "trace_id", id);
    iz_reply_json(r, status, body);
}

static void generic(iz_req_t *r, int status, const char *code, const char *message)
{
    reply(r, status, json_pack("{s:s, s:s}", "errorCode", code, "errorMessage", message));
}

/* ERR-SYS-0007 with one İYS error (status: the HTTP status, sub: the
 * sub-system's); message NULL takes the table's, value borrowed. */
static void subsystem(iz_req_t *r, int status, const char *code, const char *message, json_t *value)
{
    const iz_hcode_t *h = iz_hcode(code);
    json_t *e = json_pack("{s:s, s:s}", "code", code, "message",
                          message ? message
                          : h     ? h->tr
                                  : code);
    if (value) json_object_set(e, "value", value);
    reply(r, status,
          json_pack("{s:s, s:s, s:{s:i, s:[o]}}", "errorCode", "ERR-SYS-0007", "errorMessage",
                    msg_sub, "subSystemErrorInfo", "status", h ? h->http : status, "errors", e));
}

/* ---- checks ------------------------------------------------------------------ */

/* The token's provider, or -1 and answered 401 ERR-SYS-0006. */
static int pass_token(iz_req_t *r, iz_sim_t *sim, int64_t *owner)
{
    int rc = iz__sim_token_owner(r, sim, owner);
    if (rc == 0) return 0;
    if (rc == IZ_ENOTFOUND)
        generic(r, 401, "ERR-SYS-0006", "Yetkisiz erişim");
    else
        generic(r, 500, "ERR-SYS-0004", msg_sys);
    return -1;
}

/* The token and, when the path has one, the iysCode (403 ERR-SYS-0005
 * when it is not the token's provider). */
static int pass_auth(iz_req_t *r, iz_sim_t *sim, int64_t *iys)
{
    if (pass_token(r, sim, iys) != 0) return -1;
    const char *ic = iz_req_param(r, "iysCode");
    int64_t path;
    if (ic && (iz_parse_i64(ic, 1, INT64_MAX, &path) != 0 || path != *iys)) {
        generic(r, 403, "ERR-SYS-0005",
                "Gönderilen iysCode'un mevcut API kullanıcısı için yetkisi bulunmamaktadır.");
        return -1;
    }
    return 0;
}

/* The body as a JSON object, or NULL and answered ERR-VLD-001. */
static json_t *pass_body(iz_req_t *r)
{
    size_t len = 0;
    const char *b = iz_req_body(r, &len);
    json_t *j = b && len ? json_loadb(b, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        reply(r, 400,
              json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "errorCode", "ERR-VLD-001", "errorMessage",
                        msg_vld, "data", "field", "body", "message",
                        "İstek gövdesi geçerli bir JSON nesnesi olmalıdır."));
        return NULL;
    }
    return j;
}

/* One field error of a validation answer. */
static void field_error(json_t *data, const char *field, const char *message)
{
    json_array_append_new(data, json_pack("{s:s, s:s}", "field", field, "message", message));
}

/* A required text field: NULL (with its error in data) when missing. */
static const char *required(json_t *body, const char *field, size_t max, json_t *data)
{
    json_t *v = json_object_get(body, field);
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) != json_string_length(v)) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s gereklidir ve boş bırakılamaz. Girilen değer: '%s'", field,
                 s ? s : "null");
        field_error(data, field, msg);
        return NULL;
    }
    if (json_string_length(v) > max) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s en fazla %zu karakter olmalıdır.", field, max);
        field_error(data, field, msg);
        return NULL;
    }
    return s;
}

/* Answer ERR-VLD-001 with the field errors in data, if any (-1); data
 * is consumed either way. */
static int invalid(iz_req_t *r, json_t *data)
{
    if (json_array_size(data) == 0) {
        json_decref(data);
        return 0;
    }
    reply(r, 400,
          json_pack("{s:s, s:s, s:o}", "errorCode", "ERR-VLD-001", "errorMessage", msg_vld, "data",
                    data));
    return -1;
}

static bool vkn_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 10 || n > 11 || s[0] == '0') return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static bool path_has(iz_req_t *r, const char *part)
{
    return strstr(iz_req_path(r), part) != NULL;
}

/* The provider's ViA subscription (H1093 when it has none): the one
 * OTP management shares with ViA. */
static int pass_subscribed(iz_req_t *r, iz_sim_t *sim, int64_t iys, iz_sim_via_t *v)
{
    int rc = iz_sim_via_get(sim->st, iys, false, v);
    if (rc == IZ_ENOTFOUND) {
        subsystem(r, 400, "H1093", NULL, NULL);
        return -1;
    }
    if (rc != 0) {
        generic(r, 500, "ERR-SYS-0004", msg_sys);
        return -1;
    }
    return 0;
}

/* ---- start ------------------------------------------------------------------- */

void iz__sim_h_otp_start(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    int64_t iys;
    if (pass_auth(r, sim, &iys) != 0) return;
    bool sms = path_has(r, "/sms/"), link = path_has(r, "/short-url");
    json_t *body = pass_body(r);
    if (!body) return;
    json_t *data = json_array();
    const char *field = sms ? "phoneNumber" : "email";
    static const char *const sms_keys[] = {"phoneNumber", "templateId", "vkn"};
    static const char *const mail_keys[] = {"email", "templateId", "vkn"};
    const char *unknown = iz_json_unknown_key(body, sms ? sms_keys : mail_keys, 3);
    const char *to = required(body, field, IZ_INPUT_MAX, data);
    const char *tid = required(body, "templateId", ID_MAX, data);
    const char *vkn = json_string_value(json_object_get(body, "vkn"));
    char recipient[IZ_RECIPIENT_MAX];
    if (unknown) {
        char msg[128];
        snprintf(msg, sizeof msg, "Beklenmeyen alan: %.64s", unknown);
        field_error(data, unknown, msg);
    }
    if (to && sms) {
        char ph[IZ_PHONE_MAX];
        if (iz_phone_normalize(to, strlen(to), ph, NULL) != 0 || strcmp(ph, to) != 0)
            field_error(data, field,
                        "E164 uluslararası([+][country code][area code][local phone number]) "
                        "formatına uygun bir telefon numarası girilmelidir. (örn. "
                        "`+905992000000`)");
        else
            iz_strlcpy(recipient, ph, sizeof recipient);
    } else if (to && iz_email_normalize(to, strlen(to), recipient, NULL) != 0) {
        field_error(data, field, "Geçerli bir e-posta adresi girilmelidir.");
    }
    if (!vkn || !vkn_ok(vkn)) field_error(data, "vkn", msg_vkn);
    if (invalid(r, data) != 0) {
        json_decref(body);
        return;
    }

    /* The template: the provider's, of this channel and method (H1107). */
    int64_t owner;
    char *ttext = NULL;
    json_t *t = NULL;
    if (iz_sim_via_config_get(sim->st, "TEMPLATE", tid, &owner, &ttext) == 0 && owner == iys)
        t = json_loads(ttext, 0, NULL);
    free(ttext);
    if (!json_is_object(t) || strcmp(iz__via_str(t, "channel"), sms ? "SMS" : "EPOSTA") != 0 ||
        strcmp(iz__via_str(t, "method"), link ? "SHORTURL" : "OTP") != 0) {
        json_decref(t);
        json_decref(body);
        subsystem(r, 404, "H1107", NULL, NULL);
        return;
    }
    iz_sim_via_t sub;
    if (pass_subscribed(r, sim, iys, &sub) != 0) {
        json_decref(t);
        json_decref(body);
        return;
    }
    if (sub.sub.status != IZ_SUB_ACTIVE) {
        subsystem(r, 400, "H1092", NULL, NULL);
        json_decref(t);
        json_decref(body);
        return;
    }
    const char *v =
        sms ? (link ? "SMS_SHORTURL" : "SMS_OTP") : (link ? "EPOSTA_SHORTURL" : "EPOSTA_OTP");
    iz__via_start_t s = {.service = "PASS",
                         .iys_code = iys,
                         .form_id = tid,
                         .verification = v,
                         .recipient = recipient,
                         .consent = json_object_get(t, "consent"),
                         .template_text = iz__via_str(t, "text")};
    char rid[37], code[16];
    const char *hcode = NULL;
    int rc = iz__via_start(sim, r, &s, rid, code, &hcode);
    json_decref(t);
    json_decref(body);
    if (rc == IZ_ERULE && hcode) {
        subsystem(r, 400, hcode, NULL, NULL);
        return;
    }
    if (rc != 0) {
        generic(r, 500, "ERR-SYS-0004", msg_sys);
        return;
    }
    const char *msg = sms ? "SMS OTP doğrulama süreci başarıyla başlatıldı."
                          : "Email OTP doğrulama süreci başarıyla başlatıldı.";
    /* İYS's own examples: {"requestId"} for a code, a list of
     * {"requestId", "shortUrl"} for a link (shortUrl: the link's code). */
    if (link)
        reply(r, 200,
              json_pack("{s:[{s:s, s:s}], s:s}", "data", "requestId", rid, "shortUrl", code,
                        "message", msg));
    else
        reply(r, 200, json_pack("{s:{s:s}, s:s}", "data", "requestId", rid, "message", msg));
}

/* ---- complete ------------------------------------------------------------------ */

/* The sub-system's code of each outcome of a completion that has one. */
static const char *const pass_codes[] = {
    [IZ__VIA_DONE] = "H1110",  [IZ__VIA_EXPIRED] = "H1051", [IZ__VIA_LOCKED] = "H1050",
    [IZ__VIA_WRONG] = "H1052", [IZ__VIA_QUOTA] = "H1031",
};

/* A ViA Pass process of provider iys; NULL when there is none. */
static json_t *pass_process(iz_sim_t *sim, int64_t iys, const char *rid, int *rc)
{
    iz_sim_via_req_t q;
    *rc = strlen(rid) <= ID_MAX ? iz_sim_via_req_get(sim->st, rid, &q) : IZ_ENOTFOUND;
    if (*rc != 0) return NULL;
    json_t *state = json_loads(q.body, 0, NULL);
    free(q.body);
    if (!json_is_object(state) || q.iys_code != iys ||
        strcmp(iz__via_str(state, "service"), "PASS") != 0) {
        json_decref(state);
        *rc = IZ_ENOTFOUND;
        return NULL;
    }
    return state;
}

void iz__sim_h_otp_complete(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    int64_t iys;
    if (pass_auth(r, sim, &iys) != 0) return;
    bool sms = path_has(r, "/sms/");
    json_t *body = pass_body(r);
    if (!body) return;
    json_t *data = json_array();
    const char *code = required(body, "otpCode", 16, data);
    const char *rid = required(body, "requestId", ID_MAX, data);
    if (invalid(r, data) != 0) {
        json_decref(body);
        return;
    }
    int rc;
    json_t *state = pass_process(sim, iys, rid, &rc);
    const char *v = state ? iz__via_str(state, "verificationType") : "";
    if (!state || iz__via_is_sms(v) != sms) {
        if (rc != 0 && rc != IZ_ENOTFOUND)
            generic(r, 500, "ERR-SYS-0004", msg_sys);
        else
            generic(r, 404, "OTP-ERROR-001", "Otp request ek bilgi kaydı bulunamadı.");
    } else if (!iz__via_is_otp(v)) {
        subsystem(r, 400, "H1056", NULL, NULL);
    } else {
        const char *titles[] = {"ALL"}, *codes[] = {code};
        iz__via_complete_t c = {.request_id = rid,
                                .owner = iys,
                                .service = "PASS",
                                .titles = titles,
                                .codes = codes,
                                .n = 1};
        json_t *out = NULL;
        iz__via_outcome_t res = iz__via_complete(sim, &c, &out);
        if (res == IZ__VIA_OK)
            reply(r, 200,
                  json_pack("{s:s}", "message",
                            sms ? "SMS OTP işlemi başarıyla tamamlandı."
                                : "Email OTP işlemi başarıyla tamamlandı."));
        else if (res == IZ__VIA_NOTFOUND)
            generic(r, 404, "OTP-ERROR-001", "Otp request ek bilgi kaydı bulunamadı.");
        else if ((size_t)res < IZ_ARRAY_LEN(pass_codes) && pass_codes[res])
            subsystem(r, 400, pass_codes[res],
                      res == IZ__VIA_WRONG ? "Girilen VIA_PASS otp kodu geçerli değildir." : NULL,
                      out);
        else
            generic(r, 500, "ERR-SYS-0004", msg_sys);
        json_decref(out);
    }
    json_decref(state);
    json_decref(body);
}

/* ---- reads ----------------------------------------------------------------------- */

void iz__sim_h_otp_file(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    int64_t iys;
    if (pass_auth(r, sim, &iys) != 0) return;
    const char *rid = iz_req_param(r, "requestId");
    int rc;
    json_t *state = pass_process(sim, iys, rid, &rc);
    if (rc != 0 && rc != IZ_ENOTFOUND)
        generic(r, 500, "ERR-SYS-0004", msg_sys);
    else if (!state || strcmp(iz__via_str(state, "status"), "SUCCESS") != 0)
        subsystem(r, 400, "H1072", NULL, NULL);
    else
        iz__via_reply_file(r, sim, rid, state);
    json_decref(state);
}

/* One history event as ViA Pass lists it; NULL for events it does not. */
static json_t *history_item(json_t *ev, const char *request_type)
{
    static const struct {
        const char *event, *status, *description;
    } map[] = {
        {"START", "OTP Generation", "OTP Generation"},
        {"SENT", "SUCCESS", "Mesaj gönderildi"},
        {"OPENED", "SUCCESS", "Kısa link açıldı"},
        {"WRONG", "FAILURE", "Hatalı OTP kodu girildi"},
        {"LOCKED", "FAILURE", "Hatalı OTP kodu girildi; süreç sonlandı"},
        {"EXPIRED", "FAILURE", "Süre doldu; süreç sonlandı"},
        {"COMPLETED", "SUCCESS", "OTP Completed"},
    };
    const char *e = iz__via_str(ev, "event");
    for (size_t i = 0; i < IZ_ARRAY_LEN(map); i++)
        if (strcmp(map[i].event, e) == 0)
            return json_pack("{s:s, s:s, s:s, s:o}", "requestType", request_type, "status",
                             map[i].status, "description", map[i].description, "transactionDate",
                             iz__via_date_ms(json_integer_value(json_object_get(ev, "atMs"))));
    return NULL;
}

/* A page query argument: def when absent, else a positive integer. */
static int page_arg(iz_req_t *r, const char *name, int64_t def, int64_t max, int64_t *out)
{
    const char *s = iz_req_query(r, name);
    *out = def;
    return s ? iz_parse_i64(s, 1, max, out) : 0;
}

void iz__sim_h_otp_history(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    int64_t iys, page, size;
    if (pass_auth(r, sim, &iys) != 0) return;
    if (page_arg(r, "page", 1, INT32_MAX, &page) != 0) {
        subsystem(r, 400, "H1088", NULL, NULL);
        return;
    }
    if (page_arg(r, "pageSize", 20, PAGE_SIZE_MAX, &size) != 0) {
        subsystem(r, 400, "H1089", NULL, NULL);
        return;
    }
    json_t *body = pass_body(r);
    if (!body) return;
    const char *rid = json_string_value(json_object_get(body, "requestId"));
    int rc = 0;
    json_t *state = rid && *rid ? pass_process(sim, iys, rid, &rc) : NULL;
    if (!rid || !*rid) {
        generic(r, 400, "ERR-SYS-0009", "İstek gövdesinde requestId değeri bulunamadı.");
    } else if (!state) {
        if (rc != 0 && rc != IZ_ENOTFOUND)
            generic(r, 500, "ERR-SYS-0004", msg_sys);
        else
            generic(r, 404, "OTP-ERROR-002", "Girilen request id ile ilgili işlem bulunamadı.");
    } else {
        (void)iz__via_expire(state, time(NULL));
        const char *v = iz__via_str(state, "verificationType");
        const char *type = iz__via_is_sms(v) ? (iz__via_is_otp(v) ? "SMS" : "SMS SHORT URL")
                                             : (iz__via_is_otp(v) ? "EMAIL" : "EMAIL SHORT URL");
        json_t *all = json_array(), *content = json_array();
        size_t i;
        json_t *ev;
        json_array_foreach(json_object_get(state, "history"), i, ev)
        {
            json_t *it = history_item(ev, type);
            if (it) json_array_append_new(all, it);
        }
        size_t total = json_array_size(all);
        for (size_t k = (size_t)((page - 1) * size); k < total && k < (size_t)(page * size); k++)
            json_array_append(content, json_array_get(all, k));
        json_decref(all);
        reply(r, 200,
              json_pack("{s:o, s:{s:I, s:I, s:I, s:I}}", "content", content, "pagination",
                        "currentPage", (json_int_t)page, "totalItems", (json_int_t)total,
                        "totalPages", (json_int_t)((total + (size_t)size - 1) / (size_t)size),
                        "elementsInPage", (json_int_t)json_array_size(content)));
    }
    json_decref(state);
    json_decref(body);
}

void iz__sim_h_otp_subscription(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    int64_t owner = 0, iys;
    if (pass_token(r, sim, &owner) != 0) return;
    /* İYS's example answers another provider's code from the sub-system
     * (403 H1040), unlike the other calls' ERR-SYS-0005. */
    const char *ic = iz_req_param(r, "iysCode");
    if (iz_parse_i64(ic, 1, INT64_MAX, &iys) != 0 || iys != owner) {
        char msg[128];
        snprintf(msg, sizeof msg, "%.24s, kullanıcı izinleriyle eşleştirilemiyor", ic);
        subsystem(r, 403, "H1040", msg, NULL);
        return;
    }
    iz_sim_via_t v;
    if (pass_subscribed(r, sim, iys, &v) != 0) return;
    const char *status = iz_sub_name(v.sub.status);
    json_t *item = json_pack(
        "{s:s, s:I, s:o, s:o, s:o, s:o, s:b, s:I, s:s, s:{s:s, s:o, s:o, s:s, s:s, s:I, s:b}}",
        "iysViaSubscriptionId", v.sub.id, "iysCode", (json_int_t)iys, "startDate",
        iz__sim_tr_date(v.sub.start), "expirationDate", iz__sim_tr_date(v.sub.end), "creationDate",
        iz__sim_tr_date(v.created), "lastUpdateDate", iz__sim_tr_date(v.created), "autoRenewal",
        v.auto_renewal, "viaCredit", (json_int_t)v.credit, "status", status,
        "viaSubscriptionPackage", "viaSubscriptionId", v.sub.id, "startDate",
        iz__sim_tr_date(v.sub.start), "expirationDate", iz__sim_tr_date(v.sub.end),
        "viaSubscriptionPackageName", v.sub.package, "status", status, "viaCredit",
        (json_int_t)v.credit, "isLimited", v.limited);
    if (!item) iz_oom();
    reply(r, 200,
          json_pack("{s:[o], s:s}", "data", item, "message",
                    "Abonelik bilgileri başarıyla getirildi."));
}
