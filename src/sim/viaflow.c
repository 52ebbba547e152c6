/*
 * viaflow.c - the processes behind ViA (İYS collects a consent on a brand's
 * behalf: via.c, and the ViA Frame widget) and ViA Pass (İYS verifies a
 * phone or an e-mail address for a provider: otp.c): starting one (codes,
 * short links, the messages İYS "sends", the provider's ViA credit),
 * completing it with codes or through the person's page, and recording
 * what the person agreed to - ETK consents in the emulator's consent log
 * (so that the status call and the change pull show them) and KVK consents
 * in via_kvk. Also the person's short-link page (/s/{code}) and the /_sim/
 * calls that set up subscriptions, forms, templates and widgets and show
 * the messages sent.
 *
 * A process's state is one JSON object (via_requests.body):
 *   service        VIA | WIDGET | PASS
 *   iysCode, formId (VIA, WIDGET: the form; PASS: the templateId)
 *   verificationType  SMS_OTP, SMS_SHORTURL, EPOSTA_OTP, EPOSTA_SHORTURL,
 *                  EPOSTA_APPROVALURL
 *   recipient      normalized (E.164 phone or e-mail)
 *   etk            {brandCodes, types, recipientType}   (VIA, WIDGET)
 *   kvk            {types, personData{name, recipientIdNumber, address}}
 *   consent        PASS: {brandCode, types, recipientType} from the template
 *   codes          {title: salted SHA-256 of the code}; titles ETK, KVK, or
 *                  ALL for one code for everything (WIDGET, PASS)
 *   tries          wrong submissions so far
 *   createdMs, expires (epoch s), stage, status (İYS's lastStatus)
 *   history        [{atMs, stage, status, event}]
 *   texts          the messages sent, their codes masked
 *   results        what was recorded: [{consentType, brandCode?, type,
 *                  transactionId, creationDate}]
 *   completed, ip, cookieKey
 *
 * Codes: 6 random digits, stored only as SHA-256(requestId|title|code).
 * They are valid --otp-ttl seconds (İYS: 3 minutes) and take VIA_TRIES
 * (3) wrong submissions: the third wrong one ends the process, and any
 * later one is refused even with the right code. Short links are valid
 * --link-ttl seconds (İYS: 24 hours).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zip.h>

#include "core/hcode.h"
#include "core/iz.h"
#include "core/trtime.h"
#include "net/form.h"
#include "net/page.h"
#include "sim/sim_int.h"
#include "sim/viastore.h"
#include "sys/crypto.h"

#define VIA_TRIES 3
#define SHORT_LEN 6       /* İYS's short links look like "HWtU19" */
#define MESSAGES_SHOWN 20 /* /_sim/otp: the newest messages of an address */
#define HOST_MAX 255      /* the Host header a link is built from */
#define TEXT_MAX 1000     /* a form's or template's text */
#define ID_MAX 64         /* formId, templateId */
#define DOMAIN_MAX 253

/* ---- small helpers ------------------------------------------------------------ */

int64_t iz__via_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

json_t *iz__via_date_ms(int64_t ms)
{
    char buf[IZ_DATETIME_LEN], out[IZ_DATETIME_LEN + 8];
    iz_tr_format(ms / 1000, buf);
    snprintf(out, sizeof out, "%s.%03d", buf, (int)(ms % 1000));
    return json_string(out);
}

const char *iz__via_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

bool iz__via_is_sms(const char *verification)
{
    return strncmp(verification, "SMS_", 4) == 0;
}

bool iz__via_is_otp(const char *verification)
{
    size_t n = strlen(verification);
    return n > 4 && strcmp(verification + n - 4, "_OTP") == 0;
}

/* A process's state parsed; NULL when the stored text is not an object
 * (a row written by hand): the caller treats it as missing. */
static json_t *state_of(const iz_sim_via_req_t *q)
{
    json_t *s = json_loads(q->body, 0, NULL);
    if (!json_is_object(s)) {
        json_decref(s);
        return NULL;
    }
    return s;
}

static int state_save(iz_sim_t *sim, const char *request_id, json_t *state)
{
    char *text = json_dumps(state, JSON_COMPACT);
    if (!text) iz_oom();
    int rc = iz_sim_via_req_set(sim->st, request_id, text);
    free(text);
    return rc;
}

static void set_status(json_t *state, const char *stage, const char *status, const char *event)
{
    json_object_set_new(state, "stage", json_string(stage));
    json_object_set_new(state, "status", json_string(status));
    json_t *h = json_object_get(state, "history");
    if (!json_is_array(h)) {
        h = json_array();
        json_object_set_new(state, "history", h);
    }
    json_array_append_new(h, json_pack("{s:I, s:s, s:s, s:s}", "atMs", (json_int_t)iz__via_now_ms(),
                                       "stage", stage, "status", status, "event", event));
}

bool iz__via_expire(json_t *state, int64_t now)
{
    if (strcmp(iz__via_str(state, "stage"), "COMPLETED") == 0) return false;
    if (now < json_integer_value(json_object_get(state, "expires"))) return false;
    const char *v = iz__via_str(state, "verificationType");
    const char *status = iz__via_is_otp(v)                          ? "OTP_CODE_EXPIRED"
                         : json_object_get(state, "opened") != NULL ? "SHORT_URL_EXPIRED"
                                                                    : "LINK_CLICK_TIMEOUT";
    set_status(state, "COMPLETED", status, "EXPIRED");
    return true;
}

/* n random characters of [A-Za-z0-9] (rejection sampling: no bias). */
static void random_alnum(char *out, size_t n)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t i = 0;
    while (i < n) {
        uint8_t b[32];
        if (iz_random(b, sizeof b) != 0) iz_oom();
        for (size_t k = 0; k < sizeof b && i < n; k++)
            if (b[k] < 248) out[i++] = set[b[k] % 62];
    }
    out[n] = '\0';
}

/* A code of 6 decimal digits, uniformly drawn. */
static void random_code(char out[7])
{
    uint32_t v;
    do {
        if (iz_random(&v, sizeof v) != 0) iz_oom();
    } while (v >= 4294000000u); /* a multiple of 10^6: no bias */
    snprintf(out, 7, "%06u", (unsigned)(v % 1000000u));
}

/* What is stored of a code: SHA-256 of requestId|title|code. */
static void code_hash(const char *request_id, const char *title, const char *code,
                      char out[IZ_SHA256_HEX])
{
    const char *f[] = {request_id, title, code};
    iz_sha256_join_hex(f, 3, out);
}

/* The base URL this request came to ("http://host:port"), from its Host
 * header; 127.0.0.1 when it is missing or looks wrong. */
const char *iz__via_base_url(iz_req_t *r)
{
    const char *h = iz_req_header(r, "Host");
    bool ok = h && *h && strlen(h) <= HOST_MAX;
    for (const char *p = h; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']';
    char *out = iz_req_alloc(r, HOST_MAX + 16);
    snprintf(out, HOST_MAX + 16, "http://%s", ok ? h : "127.0.0.1");
    return out;
}

/* How long something lasts, in Turkish ("3 dakika", "20 saniye", "24 saat"). */
static void duration_tr(int64_t s, char *out, size_t size)
{
    if (s >= 3600 && s % 3600 == 0)
        snprintf(out, size, "%lld saat", (long long)(s / 3600));
    else if (s >= 60 && s % 60 == 0)
        snprintf(out, size, "%lld dakika", (long long)(s / 60));
    else
        snprintf(out, size, "%lld saniye", (long long)s);
}

/* text with every "{{name}}" replaced by value (a template's placeholder);
 * a new string. */
static char *replace_all(const char *text, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value), cap = strlen(text) + 1, len = 0;
    char *out = iz_xmalloc(cap);
    for (const char *p = text; *p;) {
        bool hit = strncmp(p, name, nl) == 0;
        size_t add = hit ? vl : 1;
        if (len + add + 1 > cap) {
            cap = 2 * (len + add + 1);
            out = iz_xrealloc(out, cap);
        }
        memcpy(out + len, hit ? value : p, add);
        len += add;
        p += hit ? nl : 1;
    }
    out[len] = '\0';
    return out;
}

/* ---- starting a process ---------------------------------------------------------- */

/* One message to send: its text (new string), the code or link it carries. */
typedef struct outmsg {
    char *text;
    char *masked; /* the text with the code masked, for the state */
    char code[7];
    char title[4];
} outmsg_t;

/* The person's message for one code (title ETK, KVK or ALL). */
static void otp_message(const iz__via_start_t *s, const char *prov, const char *title,
                        const char *code, const char *ttl, outmsg_t *m)
{
    char buf[TEXT_MAX + 256];
    if (s->template_text && s->template_text[0]) {
        char *t = replace_all(s->template_text, "{{otp}}", code);
        if (strstr(s->template_text, "{{otp}}"))
            snprintf(buf, sizeof buf, "%s", t);
        else
            snprintf(buf, sizeof buf, "%s Doğrulama kodunuz: %s", t, code);
        free(t);
    } else if (strcmp(title, "ETK") == 0) {
        snprintf(buf, sizeof buf,
                 "%s size ticari elektronik ileti gönderebilmek için onayınızı istiyor. Onay "
                 "kodunuz: %s. Kod %s geçerlidir. Onay vermek istemiyorsanız bu mesajı dikkate "
                 "almayınız. İYS",
                 prov, code, ttl);
    } else if (strcmp(title, "KVK") == 0) {
        snprintf(buf, sizeof buf,
                 "%s kişisel verilerinizin işlenmesi için onayınızı istiyor. Onay kodunuz: %s. "
                 "Kod %s geçerlidir. Onay vermek istemiyorsanız bu mesajı dikkate almayınız. İYS",
                 prov, code, ttl);
    } else {
        snprintf(buf, sizeof buf, "%s için doğrulama kodunuz: %s. Kod %s geçerlidir. İYS", prov,
                 code, ttl);
    }
    m->text = iz_xstrdup(buf);
    m->masked = replace_all(buf, code, "******");
    memcpy(m->code, code, sizeof m->code);
    iz_strlcpy(m->title, title, sizeof m->title);
}

/* The person's message for a short link. */
static void link_message(const iz__via_start_t *s, const char *prov, const char *url,
                         const char *ttl, outmsg_t *m)
{
    char buf[TEXT_MAX + 512];
    if (s->template_text && s->template_text[0]) {
        char *t = replace_all(s->template_text, "{{link}}", url);
        if (strstr(s->template_text, "{{link}}"))
            snprintf(buf, sizeof buf, "%s", t);
        else
            snprintf(buf, sizeof buf, "%s %s", t, url);
        free(t);
    } else if (strcmp(s->service, "PASS") == 0) {
        snprintf(buf, sizeof buf,
                 "%s iletişim adresinizi doğrulamanızı istiyor. Doğrulamak için: %s (%s "
                 "geçerlidir) İYS",
                 prov, url, ttl);
    } else {
        snprintf(buf, sizeof buf,
                 "%s onayınızı istiyor. Ayrıntıları görmek ve onay vermek için: %s (%s "
                 "geçerlidir) İYS",
                 prov, url, ttl);
    }
    m->text = iz_xstrdup(buf);
    m->masked = iz_xstrdup(buf);
    m->code[0] = '\0';
    m->title[0] = '\0';
}

int iz__via_start(iz_sim_t *sim, iz_req_t *r, const iz__via_start_t *s, char request_id[37],
                  char short_code[16], const char **hcode)
{
    *hcode = NULL;
    short_code[0] = '\0';
    iz_sim_provider_t prov;
    if (iz_sim_provider_get(sim->st, s->iys_code, &prov) != 0)
        iz_strlcpy(prov.name, "Hizmet sağlayıcı", sizeof prov.name);
    int64_t now_ms = iz__via_now_ms(), now = now_ms / 1000;
    bool otp = iz__via_is_otp(s->verification);
    int64_t ttl = otp ? sim->cfg.otp_ttl : sim->cfg.link_ttl;
    char ttl_text[32];
    duration_tr(ttl, ttl_text, sizeof ttl_text);
    iz__sim_uuid4(request_id);

    json_t *state =
        json_pack("{s:s, s:I, s:s, s:s, s:s, s:i, s:I, s:I, s:s, s:s, s:[], s:[], s:[]}", "service",
                  s->service, "iysCode", (json_int_t)s->iys_code, "formId", s->form_id,
                  "verificationType", s->verification, "recipient", s->recipient, "tries", 0,
                  "createdMs", (json_int_t)now_ms, "expires", (json_int_t)(now + ttl), "stage",
                  "SUCCESS", "status", "START", "history", "texts", "results");
    if (!state) iz_oom();
    if (s->etk) json_object_set(state, "etk", s->etk);
    if (s->kvk) json_object_set(state, "kvk", s->kvk);
    if (s->consent) json_object_set(state, "consent", s->consent);
    if (s->cookie_key) json_object_set_new(state, "cookieKey", json_string(s->cookie_key));
    set_status(state, "SUCCESS", "START", "START");

    /* The messages: one code per title (ViA), one code for all (widget,
     * ViA Pass), or one short link. */
    outmsg_t msgs[2];
    size_t nmsg = 0;
    json_t *codes = json_object();
    if (otp) {
        const char *titles[2];
        size_t nt = 0;
        if (strcmp(s->service, "VIA") == 0) {
            if (s->etk) titles[nt++] = "ETK";
            if (s->kvk) titles[nt++] = "KVK";
        } else {
            titles[nt++] = "ALL";
        }
        for (size_t i = 0; i < nt; i++) {
            char code[7], h[IZ_SHA256_HEX];
            random_code(code);
            code_hash(request_id, titles[i], code, h);
            json_object_set_new(codes, titles[i], json_string(h));
            otp_message(s, prov.name, titles[i], code, ttl_text, &msgs[nmsg++]);
            iz_wipe(code, sizeof code);
        }
    }
    json_object_set_new(state, "codes", codes);

    int rc = 0;
    for (int attempt = 0; attempt < 4; attempt++) {
        char url[HOST_MAX + 64] = "";
        if (!otp) {
            random_alnum(short_code, SHORT_LEN);
            snprintf(url, sizeof url, "%s/s/%s", iz__via_base_url(r), short_code);
            link_message(s, prov.name, url, ttl_text, &msgs[0]);
            nmsg = 1;
            json_object_set_new(state, "shortCode", json_string(short_code));
        }
        json_t *texts = json_object_get(state, "texts");
        json_array_clear(texts);
        for (size_t i = 0; i < nmsg; i++)
            json_array_append_new(texts, json_string(msgs[i].masked));
        set_status(state, "CONSENT_REQUESTED", "PENDING", "SENT");
        char *body = json_dumps(state, JSON_COMPACT);
        if (!body) iz_oom();
        iz_sim_via_req_t q = {.iys_code = s->iys_code, .created = now, .body = body};
        memcpy(q.request_id, request_id, 37);
        iz_strlcpy(q.short_code, short_code, sizeof q.short_code);

        /* The credit, the process and its messages in one transaction. */
        rc = iz_sim_batch_begin(sim->st);
        if (rc == 0) rc = iz_sim_via_take(sim->st, s->iys_code, (int64_t)nmsg);
        if (rc == 0) rc = iz_sim_via_req_add(sim->st, &q);
        for (size_t i = 0; i < nmsg && rc == 0; i++) {
            json_t *m = json_pack("{s:s, s:s, s:s, s:o}", "requestId", request_id, "channel",
                                  iz__via_is_sms(s->verification) ? "SMS" : "EPOSTA", "text",
                                  msgs[i].text, "sentAt", iz__sim_tr_date(now));
            if (msgs[i].code[0]) {
                json_object_set_new(m, "code", json_string(msgs[i].code));
                json_object_set_new(m, "title", json_string(msgs[i].title));
            } else {
                json_object_set_new(m, "shortUrl", json_string(url));
                json_object_set_new(m, "shortCode", json_string(short_code));
            }
            char *mt = json_dumps(m, JSON_COMPACT);
            json_decref(m);
            if (!mt) iz_oom();
            rc = iz_sim_via_message_add(sim->st, s->recipient, request_id, now, mt);
            free(mt);
        }
        rc = iz_sim_batch_end(sim->st, rc);
        free(body);
        if (!otp) {
            free(msgs[0].text);
            free(msgs[0].masked);
        }
        /* A short code taken already: draw another (6 characters of 62). */
        if (rc != IZ_EEXIST || otp) break;
    }
    if (otp)
        for (size_t i = 0; i < nmsg; i++) {
            iz_wipe(msgs[i].text, strlen(msgs[i].text));
            free(msgs[i].text);
            free(msgs[i].masked);
            iz_wipe(msgs[i].code, sizeof msgs[i].code);
        }
    json_decref(state);
    if (rc == IZ_ERULE) *hcode = "H1015";
    return rc;
}

/* ---- recording what the person agreed to ----------------------------------------- */

typedef struct quota_ctx {
    int64_t quota;
} quota_ctx_t;

/* ViA's rule: an ONAY is recorded whatever the address's state (a RET
 * becomes ONAY, an ONAY gets the new source and consentDate), but a new
 * record must fit in the provider's quota (H1031). */
static int via_rule(void *vctx, const iz_current_t *cur, int64_t provider_records,
                    const char **hcode)
{
    const quota_ctx_t *ctx = vctx;
    if (!cur->exists && ctx->quota > 0 && provider_records >= ctx->quota) {
        *hcode = "H1031";
        return IZ_ERULE;
    }
    return 0;
}

/* The source İYS gives a consent a process collected. */
static iz_source_t via_source(json_t *state)
{
    bool sms = iz__via_is_sms(iz__via_str(state, "verificationType"));
    if (strcmp(iz__via_str(state, "service"), "WIDGET") == 0)
        return sms ? IZ_IYS_FRAME_SMS : IZ_IYS_FRAME_EPOSTA;
    return sms ? IZ_IYS_KISAMESAJ : IZ_IYS_EPOSTA;
}

/* Record one ETK consent (ONAY of brand, type) into results. */
static int record_etk(iz_sim_t *sim, json_t *state, int64_t brand, const char *type,
                      const char *rtype, int64_t now, quota_ctx_t *q, json_t *results,
                      const char **hcode)
{
    iz_sim_change_t chg = {.iys_code = json_integer_value(json_object_get(state, "iysCode")),
                           .brand_code = brand,
                           .status = IZ_ONAY,
                           .source = via_source(state),
                           .consent_date = now,
                           .creation = now};
    iz_strlcpy(chg.recipient, iz__via_str(state, "recipient"), sizeof chg.recipient);
    if (iz_type_parse(type, &chg.type) != 0 || iz_rtype_parse(rtype, &chg.rtype) != 0)
        return IZ_EINVAL;
    json_t *pd = json_object_get(json_object_get(state, "kvk"), "personData");
    const char *name = iz__via_str(pd, "name");
    if (!*name) name = iz__via_str(state, "citizenName");
    iz_strlcpy(chg.citizen_name, name, sizeof chg.citizen_name);
    int rc = iz_sim_consent_apply(sim->st, &chg, false, via_rule, q, hcode);
    if (rc != 0) return rc;
    json_array_append_new(results,
                          json_pack("{s:s, s:I, s:s, s:s, s:o}", "consentType", "ETK", "brandCode",
                                    (json_int_t)brand, "type", type, "transactionId", chg.txid,
                                    "creationDate", iz__sim_tr_date(chg.creation)));
    return 0;
}

/* Record one KVK consent (type) of the process into results. */
static int record_kvk(iz_sim_t *sim, const char *request_id, json_t *state, const char *type,
                      int64_t now_ms, json_t *results)
{
    char txid[IZ_SHA256_HEX], ms[24];
    snprintf(ms, sizeof ms, "%lld", (long long)now_ms);
    const char *f[] = {"KVK", request_id, type, ms};
    iz_sha256_join_hex(f, 4, txid);
    json_t *pd = json_object_get(json_object_get(state, "kvk"), "personData");
    int64_t iys = json_integer_value(json_object_get(state, "iysCode"));
    char iys_s[24];
    snprintf(iys_s, sizeof iys_s, "%lld", (long long)iys);
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "requestId", request_id,
                            "type", type, "source", iz_source_name(via_source(state)), "iysCode",
                            iys_s, "recipient", iz__via_str(state, "recipient"), "consentDate", ms,
                            "status", "ONAY", "transactionId", txid);
    const char *keys[] = {"name", "recipientIdNumber", "address"};
    const char *as[] = {"recipientName", "recipientIdNumber", "address"};
    for (size_t i = 0; i < 3; i++)
        if (*iz__via_str(pd, keys[i]))
            json_object_set_new(rec, as[i], json_string(iz__via_str(pd, keys[i])));
    char *text = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    if (!text) iz_oom();
    int rc =
        iz_sim_via_kvk_add(sim->st, iys, request_id, iz__via_str(state, "recipient"), type, text);
    free(text);
    if (rc != 0) return rc;
    json_array_append_new(results, json_pack("{s:s, s:s, s:s, s:o}", "consentType", "KVK", "type",
                                             type, "transactionId", txid, "creationDate",
                                             iz__sim_tr_date(now_ms / 1000)));
    return 0;
}

/* True when chosen (NULL: everything) holds s. */
static bool chosen_has(json_t *chosen, const char *s)
{
    if (!chosen) return true;
    size_t i;
    json_t *v;
    json_array_foreach(chosen, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) return true;
    }
    return false;
}

/* Record everything the process asked for that chosen (the person's
 * choice on the page; NULL: all of it) holds, and mark it completed. */
static int record_all(iz_sim_t *sim, const char *request_id, json_t *state, json_t *chosen,
                      const char **hcode)
{
    int64_t now_ms = iz__via_now_ms(), now = now_ms / 1000;
    int64_t iys = json_integer_value(json_object_get(state, "iysCode"));
    iz_sim_provider_t prov;
    quota_ctx_t q = {0};
    if (iz_sim_provider_get(sim->st, iys, &prov) == 0) q.quota = prov.quota;
    set_status(state, "ENQUEUE", "PENDING", "CONFIRMED");
    json_t *results = json_object_get(state, "results");
    int rc = 0;
    size_t i, k;
    json_t *b, *t;
    json_t *etk = json_object_get(state, "etk");
    if (etk) json_array_foreach(json_object_get(etk, "brandCodes"), i, b)
        {
            json_array_foreach(json_object_get(etk, "types"), k, t)
            {
                if (rc == 0 && chosen_has(chosen, json_string_value(t)))
                    rc = record_etk(sim, state, json_integer_value(b), json_string_value(t),
                                    iz__via_str(etk, "recipientType"), now, &q, results, hcode);
            }
        }
    json_t *consent = json_object_get(state, "consent");
    if (consent) json_array_foreach(json_object_get(consent, "types"), k, t)
        {
            if (rc == 0)
                rc = record_etk(sim, state,
                                json_integer_value(json_object_get(consent, "brandCode")),
                                json_string_value(t), iz__via_str(consent, "recipientType"), now,
                                &q, results, hcode);
        }
    json_t *kvk = json_object_get(state, "kvk");
    if (kvk) json_array_foreach(json_object_get(kvk, "types"), k, t)
        {
            if (rc == 0 && chosen_has(chosen, json_string_value(t)))
                rc = record_kvk(sim, request_id, state, json_string_value(t), now_ms, results);
        }
    if (rc != 0) return rc;
    json_object_set_new(state, "completed", json_integer(now));
    set_status(state, "COMPLETED", "SUCCESS", "COMPLETED");
    return state_save(sim, request_id, state);
}

/* ---- completing a process ---------------------------------------------------------- */

/* Load a process of owner and service (NULL: any) inside the open batch;
 * NULL when there is none. */
static json_t *load_process(iz_sim_t *sim, const char *request_id, int64_t owner,
                            const char *service, int *rc)
{
    iz_sim_via_req_t q;
    *rc = iz_sim_via_req_get(sim->st, request_id, &q);
    if (*rc != 0) return NULL;
    json_t *state = state_of(&q);
    free(q.body);
    if (state && ((owner && q.iys_code != owner) ||
                  (service && strcmp(iz__via_str(state, "service"), service) != 0))) {
        json_decref(state);
        state = NULL;
    }
    return state;
}

/* The outcome of a completed process met again. */
static iz__via_outcome_t completed_outcome(json_t *state)
{
    const char *status = iz__via_str(state, "status");
    if (strcmp(status, "SUCCESS") == 0) return IZ__VIA_DONE;
    if (strcmp(status, "OTP_CODE_INCORRECT") == 0) return IZ__VIA_LOCKED;
    return IZ__VIA_EXPIRED;
}

/* The OTP checks and the completion, inside the caller's batch. */
static iz__via_outcome_t complete_locked(iz_sim_t *sim, const iz__via_complete_t *c, json_t **out,
                                         const char **hcode)
{
    int rc;
    json_t *state = load_process(sim, c->request_id, c->owner, c->service, &rc);
    if (!state) return rc == 0 || rc == IZ_ENOTFOUND ? IZ__VIA_NOTFOUND : IZ__VIA_FAIL;
    iz__via_outcome_t res = IZ__VIA_OK;
    const char *v = iz__via_str(state, "verificationType");
    json_t *codes = json_object_get(state, "codes");
    if (c->verification && strcmp(c->verification, v) != 0) {
        res = IZ__VIA_MISMATCH;
    } else if (strcmp(iz__via_str(state, "stage"), "COMPLETED") == 0) {
        res = completed_outcome(state);
    } else if (!iz__via_is_otp(v)) {
        res = IZ__VIA_PENDING;
    } else if (iz__via_expire(state, time(NULL))) {
        res = state_save(sim, c->request_id, state) == 0 ? IZ__VIA_EXPIRED : IZ__VIA_FAIL;
    } else if (c->n != json_object_size(codes)) {
        res = IZ__VIA_TITLES;
    } else {
        size_t wrong = c->n;
        for (size_t i = 0; i < c->n && res == IZ__VIA_OK; i++) {
            const char *want = json_string_value(json_object_get(codes, c->titles[i]));
            char h[IZ_SHA256_HEX];
            if (!want) {
                res = IZ__VIA_TITLES;
                break;
            }
            code_hash(c->request_id, c->titles[i], c->codes[i], h);
            if (!iz_secret_equal(h, want) && wrong == c->n) wrong = i;
        }
        if (res == IZ__VIA_OK && wrong < c->n) {
            json_int_t tries = json_integer_value(json_object_get(state, "tries")) + 1;
            json_object_set_new(state, "tries", json_integer(tries));
            if (tries >= VIA_TRIES)
                set_status(state, "COMPLETED", "OTP_CODE_INCORRECT", "LOCKED");
            else
                set_status(state, "CONSENT_REQUESTED", "OTP_CODE_INCORRECT", "WRONG");
            *out = json_string(c->codes[wrong]);
            res = state_save(sim, c->request_id, state) == 0 ? IZ__VIA_WRONG : IZ__VIA_FAIL;
        } else if (res == IZ__VIA_OK) {
            rc = record_all(sim, c->request_id, state, NULL, hcode);
            if (rc == IZ_ERULE)
                res = IZ__VIA_QUOTA;
            else if (rc != 0)
                res = IZ__VIA_FAIL;
            else
                *out = json_incref(json_object_get(state, "results"));
        }
    }
    json_decref(state);
    return res;
}

iz__via_outcome_t iz__via_complete(iz_sim_t *sim, const iz__via_complete_t *c, json_t **out)
{
    *out = NULL;
    const char *hcode = NULL;
    if (iz_sim_batch_begin(sim->st) != 0) {
        (void)iz_sim_batch_end(sim->st, IZ_EIO);
        return IZ__VIA_FAIL;
    }
    iz__via_outcome_t res = complete_locked(sim, c, out, &hcode);
    /* A wrong code's try counts: it is committed like a success; a quota
     * refusal undoes the consents recorded before it. */
    bool keep = res == IZ__VIA_OK || res == IZ__VIA_WRONG || res == IZ__VIA_EXPIRED;
    int rc = iz_sim_batch_end(sim->st, keep ? 0 : IZ_ERULE);
    if (keep && rc != 0) {
        json_decref(*out);
        *out = NULL;
        return IZ__VIA_FAIL;
    }
    return res;
}

/* ---- the person's short-link page ---------------------------------------------------- */

static const char *kvk_label(const char *type)
{
    if (strcmp(type, "AYDINLATMA_METNI") == 0) return "Aydınlatma metnini okudum, anladım.";
    if (strcmp(type, "ACIK_RIZA_METNI") == 0)
        return "Kişisel verilerimin işlenmesine açık rıza veriyorum.";
    if (strcmp(type, "YURTDISI_AKTARIM") == 0)
        return "Kişisel verilerimin yurt dışına aktarılmasına açık rıza veriyorum.";
    return type;
}

/* The process behind a short code, with its form's or template's text;
 * NULL (and the page answered) when there is none or it cannot be used. */
static json_t *link_process(iz_req_t *r, iz_sim_t *sim, const char *code, char **text,
                            char request_id[37])
{
    *text = NULL;
    iz_sim_via_req_t q;
    int rc = strlen(code) == SHORT_LEN ? iz_sim_via_req_by_short(sim->st, code, &q) : IZ_ENOTFOUND;
    json_t *state = rc == 0 ? state_of(&q) : NULL;
    if (rc == 0) {
        memcpy(request_id, q.request_id, 37);
        free(q.body);
    }
    if (!state) {
        if (rc != 0 && rc != IZ_ENOTFOUND)
            iz_page_refuse(r, &sim->site, 500, "Beklenmedik bir hata oluştu",
                           "Lütfen daha sonra yeniden deneyiniz.");
        else
            iz_page_refuse(r, &sim->site, 404, "Bağlantı bulunamadı",
                           "Girilen bağlantı geçerli değildir.");
        return NULL;
    }
    const char *stage = iz__via_str(state, "stage");
    if (strcmp(stage, "COMPLETED") == 0 || iz__via_expire(state, time(NULL))) {
        bool done = strcmp(iz__via_str(state, "status"), "SUCCESS") == 0;
        iz_page_refuse(r, &sim->site, done ? 409 : 410,
                       done ? "İşlem tamamlanmış" : "Bağlantının süresi dolmuş",
                       done ? "Bu bağlantı ile daha önce işlem gerçekleştirilmiştir."
                            : "Bu bağlantının geçerlilik süresi dolmuştur; işlem yapılamaz.");
        json_decref(state);
        return NULL;
    }
    int64_t owner;
    const char *kind = strcmp(iz__via_str(state, "service"), "PASS") == 0 ? "TEMPLATE" : "FORM";
    if (iz_sim_via_config_get(sim->st, kind, iz__via_str(state, "formId"), &owner, text) != 0)
        *text = NULL;
    return state;
}

/* The page: what the process asks and the choices, with msg (an error)
 * above them. */
static void link_page(iz_req_t *r, iz_sim_t *sim, const char *code, json_t *state,
                      const char *form_text, const char *msg, int status)
{
    iz_page_t p;
    bool pass = strcmp(iz__via_str(state, "service"), "PASS") == 0;
    iz_page_begin(&p, &sim->site, r, pass ? "Doğrulama" : "Onay isteği");
    int64_t iys = json_integer_value(json_object_get(state, "iysCode"));
    iz_sim_provider_t prov;
    if (iz_sim_provider_get(sim->st, iys, &prov) != 0) prov.name[0] = '\0';
    iz_page_printf(&p, "<h1>%s</h1>", pass ? "İletişim adresi doğrulama" : "Onay isteği");
    if (msg) iz_page_msg(&p, "err", msg, NULL);
    char action[32];
    snprintf(action, sizeof action, "/s/%s", code);
    if (pass) {
        iz_page_printf(&p,
                       "<p>%s, <strong>%s</strong> adresinin size ait olduğunu doğrulamanızı "
                       "istiyor.</p>",
                       iz_page_esc(r, prov.name), iz_page_esc(r, iz__via_str(state, "recipient")));
        if (form_text) iz_page_printf(&p, "<p>%s</p>", iz_page_esc(r, form_text));
        iz_page_form_post(&p, NULL, action);
        iz_page_puts(&p, "<button type=\"submit\" name=\"onay\" value=\"1\">Doğruluyorum</button>"
                         "</form>");
        iz_page_end(&p, status);
        return;
    }
    iz_page_printf(&p,
                   "<p>%s, <strong>%s</strong> adresi için aşağıdaki konularda onayınızı "
                   "istiyor. Onay vermek istediklerinizi seçip onaylayınız.</p>",
                   iz_page_esc(r, prov.name), iz_page_esc(r, iz__via_str(state, "recipient")));
    if (form_text) iz_page_printf(&p, "<p>%s</p>", iz_page_esc(r, form_text));
    iz_page_form_post(&p, NULL, action);
    size_t i;
    json_t *v;
    json_t *etk = json_object_get(state, "etk");
    if (etk) {
        iz_page_puts(&p, "<fieldset><legend>Ticari elektronik ileti</legend><p>Markalar: ");
        json_array_foreach(json_object_get(etk, "brandCodes"), i, v)
        {
            char name[128] = "";
            (void)iz_sim_brand_get(sim->st, iys, json_integer_value(v), name);
            iz_page_printf(&p, "%s%s", i ? ", " : "", iz_page_esc(r, name));
        }
        iz_page_puts(&p, "</p>");
        json_array_foreach(json_object_get(etk, "types"), i, v)
        {
            iz_type_t t = IZ_TYPE_NONE;
            (void)iz_type_parse(json_string_value(v), &t);
            iz_page_printf(
                &p,
                "<p><label><input type=\"checkbox\" name=\"secim\" value=\"%s\" checked> "
                "%s ile ileti almayı kabul ediyorum.</label></p>",
                iz_page_esc(r, json_string_value(v)), iz__sim_channel(t));
        }
        iz_page_puts(&p, "</fieldset>");
    }
    json_t *kvk = json_object_get(state, "kvk");
    if (kvk) {
        iz_page_puts(&p, "<fieldset><legend>Kişisel verilerin korunması</legend>");
        json_array_foreach(json_object_get(kvk, "types"), i, v)
        {
            iz_page_printf(&p,
                           "<p><label><input type=\"checkbox\" name=\"secim\" value=\"%s\"> "
                           "%s</label></p>",
                           iz_page_esc(r, json_string_value(v)),
                           iz_page_esc(r, kvk_label(json_string_value(v))));
        }
        iz_page_puts(&p, "</fieldset>");
    }
    iz_page_puts(&p, "<button type=\"submit\">Onaylıyorum</button></form>");
    iz_page_end(&p, status);
}

void iz__sim_h_link_page(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    const char *code = iz_req_param(r, "code");
    char *text, rid[37];
    json_t *state = link_process(r, sim, code, &text, rid);
    if (!state) return;
    /* The first visit: İYS's REQUEST_OPENED, written on the state read
     * again inside a batch, so that a completion that came meanwhile is
     * not overwritten (a failed write only loses that stage). */
    if (!json_object_get(state, "opened") && iz_sim_batch_begin(sim->st) == 0) {
        iz_sim_via_req_t q;
        json_t *now = iz_sim_via_req_get(sim->st, rid, &q) == 0 ? state_of(&q) : NULL;
        int rc = now ? 0 : IZ_ENOTFOUND;
        if (now) free(q.body);
        if (rc == 0 && !json_object_get(now, "opened") &&
            strcmp(iz__via_str(now, "stage"), "COMPLETED") != 0) {
            json_object_set_new(now, "opened", json_integer(time(NULL)));
            set_status(now, "REQUEST_OPENED", "PENDING", "OPENED");
            rc = state_save(sim, rid, now);
        }
        json_decref(now);
        (void)iz_sim_batch_end(sim->st, rc);
    } else if (!json_object_get(state, "opened")) {
        (void)iz_sim_batch_end(sim->st, IZ_EIO);
    }
    link_page(r, sim, code, state, text, NULL, 200);
    free(text);
    json_decref(state);
}

void iz__sim_h_link_post(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz_form_t form;
    if (iz_page_post_form(r, &sim->site, sim->page_posts, &form) != 0) return;
    const char *code = iz_req_param(r, "code");
    char *text, rid[37];
    json_t *state = link_process(r, sim, code, &text, rid);
    if (!state) return;
    bool pass = strcmp(iz__via_str(state, "service"), "PASS") == 0;
    json_t *chosen = json_array();
    for (size_t i = 0; i < form.n; i++)
        if (strcmp(form.name[i], "secim") == 0 && form.value_len[i] <= 32 &&
            strlen(form.value[i]) == form.value_len[i])
            json_array_append_new(chosen, json_string(form.value[i]));
    if (!pass && json_array_size(chosen) == 0) {
        link_page(r, sim, code, state, text, "Onaylamak için en az bir seçim yapmalısınız.", 422);
        json_decref(chosen);
        json_decref(state);
        free(text);
        return;
    }
    free(text);
    json_decref(state);

    /* Again inside the batch: the state read there is the one written. */
    const char *hcode = NULL;
    int rc = iz_sim_batch_begin(sim->st);
    iz_sim_via_req_t q = {0};
    if (rc == 0) rc = iz_sim_via_req_by_short(sim->st, code, &q);
    state = rc == 0 ? state_of(&q) : NULL;
    if (rc == 0 && !state) rc = IZ_ENOTFOUND;
    if (rc == 0 && (strcmp(iz__via_str(state, "stage"), "COMPLETED") == 0 ||
                    iz__via_expire(state, time(NULL))))
        rc = IZ_EEXIST;
    if (rc == 0) {
        json_object_set_new(state, "ip", json_string(iz_req_remote(r)));
        rc = record_all(sim, q.request_id, state, pass ? NULL : chosen, &hcode);
    }
    rc = iz_sim_batch_end(sim->st, rc);
    free(q.body);
    json_decref(state);
    json_decref(chosen);
    if (rc == IZ_EEXIST) {
        iz_page_refuse(r, &sim->site, 409, "İşlem tamamlanmış",
                       "Bu bağlantı ile daha önce işlem gerçekleştirilmiştir.");
    } else if (rc == IZ_ERULE) {
        iz_page_refuse(r, &sim->site, 422, "Onay kaydedilemedi",
                       "Hizmet sağlayıcının izin sayısı sınırına ulaşıldığı için onayınız "
                       "kaydedilemedi.");
    } else if (rc != 0) {
        iz_page_refuse(r, &sim->site, 500, "Beklenmedik bir hata oluştu",
                       "Lütfen daha sonra yeniden deneyiniz.");
    } else {
        iz_page_t p;
        iz_page_begin(&p, &sim->site, r, pass ? "Doğrulandı" : "Onayınız kaydedildi");
        iz_page_printf(&p, "<h1>%s</h1>", pass ? "Doğrulandı" : "Onayınız kaydedildi");
        iz_page_msg(&p, "ok",
                    pass ? "İletişim adresiniz doğrulandı. Teşekkür ederiz."
                         : "Onayınız İleti Yönetim Sistemi'ne kaydedildi. Teşekkür ederiz.",
                    NULL);
        iz_page_end(&p, 200);
    }
}

/* ---- the clarification (işlem özeti) file ----------------------------------------- */

/* Append "label: value\n" to the text being built. */
static void line(FILE *f, const char *label, const char *value)
{
    fprintf(f, "%s: %s\n", label, value && *value ? value : "-");
}

void iz__via_reply_file(iz_req_t *r, iz_sim_t *sim, const char *request_id, json_t *state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) iz_oom();
    int64_t iys = json_integer_value(json_object_get(state, "iysCode"));
    iz_sim_provider_t prov;
    if (iz_sim_provider_get(sim->st, iys, &prov) != 0) prov.name[0] = '\0';
    char buf[64], iys_s[24];
    snprintf(iys_s, sizeof iys_s, "%lld", (long long)iys);
    bool pass = strcmp(iz__via_str(state, "service"), "PASS") == 0;
    const char *v = iz__via_str(state, "verificationType");
    fprintf(f, "%s\n\n", pass ? "ViA Pass İşlem Özeti" : "ViA İşlem Özeti");
    line(f, "İstek ID", request_id);
    json_t *d = iz__via_date_ms(json_integer_value(json_object_get(state, "createdMs")));
    line(f, "İşlemin Başladığı Tarih ve Saat", json_string_value(d));
    json_decref(d);
    iz_tr_format(json_integer_value(json_object_get(state, "completed")), buf);
    line(f, "İşlemin Tamamlandığı Tarih ve Saat", buf);
    line(f, pass ? "Şirket Ticaret Ünvanı" : "Hizmet Sağlayıcı Unvanı", prov.name);
    line(f, "Alıcı İletişim Adresi", iz__via_str(state, "recipient"));
    line(f, "Alıcı IP Adresi", iz__via_str(state, "ip"));
    line(f, "İşlemi Yapan Kullanıcı ID", iys_s);
    line(f, "Kısa Link (veya OTP Kodu)",
         iz__via_is_otp(v) ? "OTP ile doğrulandı" : iz__via_str(state, "shortCode"));
    line(f, "İşlem Tipi", v);
    line(f, pass ? "Şablon ID" : "Form ID", iz__via_str(state, "formId"));
    line(f, "İYS Numarası", iys_s);
    json_t *etk = json_object_get(state, "etk"), *pd = NULL;
    if (!etk) etk = json_object_get(state, "consent");
    json_t *kvk = json_object_get(state, "kvk");
    if (kvk) pd = json_object_get(kvk, "personData");
    line(f, "Alıcı Türü", iz__via_str(etk, "recipientType"));
    line(f, "Alıcı Ad Soyad", iz__via_str(pd, "name"));
    line(f, "Alıcı TCKN", iz__via_str(pd, "recipientIdNumber"));
    line(f, "Alıcı Adres Bilgisi", iz__via_str(pd, "address"));
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(state, "results"), i, x)
    {
        char name[128] = "";
        int64_t b = json_integer_value(json_object_get(x, "brandCode"));
        if (b) (void)iz_sim_brand_get(sim->st, iys, b, name);
        fprintf(f, "\n%s İzin Tipi: %s\nİzin Durumu: ONAY\n", iz__via_str(x, "consentType"),
                iz__via_str(x, "type"));
        if (b) fprintf(f, "Marka İYS Numarası: %lld\nMarka Adı: %s\n", (long long)b, name);
        fprintf(f, "İşlem ID: %s\n", iz__via_str(x, "transactionId"));
    }
    json_array_foreach(json_object_get(state, "texts"), i, x)
        fprintf(f, "\nİleti İçeriği: %s\n", json_string_value(x));
    if (fclose(f) != 0) iz_oom();

    /* A .zip, as İYS hands it out, with the summary as UTF-8 text (İYS:
     * a PDF and its RFC 3161 time stamp, which the emulator has no
     * authority to make). */
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_t *za = src ? zip_open_from_source(src, ZIP_TRUNCATE, &ze) : NULL;
    int ok = za != NULL;
    char name[64];
    snprintf(name, sizeof name, "%s.txt", request_id);
    if (ok) {
        zip_source_keep(src);
        zip_source_t *fs = zip_source_buffer(za, text, len, 0);
        ok = fs && zip_file_add(za, name, fs, ZIP_FL_ENC_UTF_8) >= 0;
        if (!ok) zip_source_free(fs);
        ok = zip_close(za) == 0 && ok;
        if (!ok && za) zip_discard(za);
    }
    char *bytes = NULL;
    zip_int64_t size = 0;
    if (ok && zip_source_open(src) == 0) {
        if (zip_source_seek(src, 0, SEEK_END) == 0 && (size = zip_source_tell(src)) > 0 &&
            zip_source_seek(src, 0, SEEK_SET) == 0) {
            bytes = iz_req_alloc(r, (size_t)size);
            ok = zip_source_read(src, bytes, (zip_uint64_t)size) == size;
        } else {
            ok = 0;
        }
        zip_source_close(src);
    } else {
        ok = 0;
    }
    if (src) zip_source_free(src);
    zip_error_fini(&ze);
    free(text);
    if (!ok || !bytes) {
        iz_reply_error(r, "H1073", NULL);
        return;
    }
    char disp[96];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s.zip\"", request_id);
    iz_reply_header(r, "Content-Disposition", disp);
    iz_reply_bytes(r, 200, "application/zip", bytes, (size_t)size);
}

/* ---- /_sim/ ------------------------------------------------------------------------- */

static void sim_error(iz_req_t *r, int status, const char *message, const char *field)
{
    iz_error_t e = {.code = status == 404 ? "IZ404" : "IZ422",
                    .message = message,
                    .location = field,
                    .index = -1};
    iz_reply_errors(r, status, &e, 1);
}

/* A JSON body object for a /_sim/ call; NULL when answered. */
static json_t *sim_body(iz_req_t *r)
{
    json_t *b = iz_req_json(r);
    if (b && !json_is_object(b)) {
        sim_error(r, 422, "Gövde bir JSON nesnesi olmalıdır.", NULL);
        json_decref(b);
        return NULL;
    }
    return b;
}

/* A bounded, non-empty text field (or an integer written as text). */
static const char *text_field(json_t *b, const char *key, size_t max, char *tmp, size_t tmpsz)
{
    json_t *v = json_object_get(b, key);
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        snprintf(tmp, tmpsz, "%lld", (long long)json_integer_value(v));
        return tmp;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

/* The provider named by the body's iysCode, which must exist. */
static int sim_provider(iz_req_t *r, iz_sim_t *sim, json_t *b, int64_t *iys)
{
    json_t *v = json_object_get(b, "iysCode");
    iz_sim_provider_t p;
    if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
        iz_sim_provider_get(sim->st, json_integer_value(v), &p) != 0) {
        sim_error(r, 422, "iysCode var olan bir hizmet sağlayıcının numarası olmalıdır.",
                  "iysCode");
        return -1;
    }
    *iys = json_integer_value(v);
    return 0;
}

/* A /_sim/ set-up call's body with its provider and id. */
typedef struct config_req {
    json_t *b;      /* the body (owned) */
    int64_t iys;    /* its iysCode: an existing provider */
    const char *id; /* its id field: a bounded text or number, NULL when not */
    char tmp[24];   /* a number id's text */
} config_req_t;

/* The start of a /_sim/ set-up call; -1 when answered. */
static int config_body(iz_req_t *r, iz_sim_t *sim, const char *id_key, config_req_t *q)
{
    q->b = sim_body(r);
    if (!q->b) return -1;
    if (sim_provider(r, sim, q->b, &q->iys) != 0) {
        json_decref(q->b);
        return -1;
    }
    q->id = text_field(q->b, id_key, ID_MAX, q->tmp, sizeof q->tmp);
    return 0;
}

/* Store one set-up object (obj: stolen) and answer it 201. */
static void put_config(iz_req_t *r, iz_sim_t *sim, const char *kind, const char *id, int64_t iys,
                       json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    if (!text) iz_oom();
    int rc = iz_sim_via_config_put(sim->st, kind, id, iys, text);
    free(text);
    if (rc != 0) {
        json_decref(obj);
        iz_reply_error(r, "IZ500", NULL);
        return;
    }
    iz_reply_json(r, 201, obj);
}

/* PUT /_sim/via/subscriptions/{iysCode} {credit, status, package, limited,
 * autoRenewal}: a provider's ViA subscription, created or replaced. */
void iz__sim_h_via_sub_put(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    int64_t iys;
    iz_sim_provider_t p;
    const char *ic = iz_req_param(r, "iysCode");
    if (iz_parse_i64(ic, 1, INT64_MAX, &iys) != 0 || iz_sim_provider_get(sim->st, iys, &p) != 0) {
        sim_error(r, 404, "Hizmet sağlayıcı bulunamadı.", "iysCode");
        return;
    }
    json_t *b = sim_body(r);
    if (!b) return;
    json_t *credit = json_object_get(b, "credit");
    const char *status = json_string_value(json_object_get(b, "status"));
    if (!status) status = "ACTIVE";
    if (!json_is_integer(credit) || json_integer_value(credit) < 0) {
        sim_error(r, 422, "credit sıfır ya da pozitif bir tam sayı olmalıdır.", "credit");
    } else if (strcmp(status, "ACTIVE") != 0 && strcmp(status, "PASSIVE") != 0) {
        sim_error(r, 422, "status ACTIVE ya da PASSIVE olmalıdır.", "status");
    } else {
        /* The provider's VIA row of product_subscriptions (simstore.h), the
         * one the accounts' subscription query shows; PASSIVE is PAUSED. */
        int64_t now = time(NULL);
        iz_sim_via_t v = {.sub.status =
                              strcmp(status, "ACTIVE") == 0 ? IZ_SUB_ACTIVE : IZ_SUB_PAUSED,
                          .sub.start = now,
                          .sub.end = now + 365 * 86400,
                          .credit = json_integer_value(credit),
                          .created = now};
        iz__sim_uuid4(v.sub.id);
        const char *pkg = json_string_value(json_object_get(b, "package"));
        iz_strlcpy(v.sub.package, pkg && strlen(pkg) <= 64 ? pkg : "VIA-PASS-25",
                   sizeof v.sub.package);
        json_t *limited = json_object_get(b, "limited"), *renew = json_object_get(b, "autoRenewal");
        v.limited = limited ? json_is_true(limited) : true;
        v.auto_renewal = renew ? json_is_true(renew) : true;
        int rc = iz_sim_via_set(sim->st, iys, false, &v);
        if (rc != 0) {
            iz_reply_error(r, "IZ500", NULL);
        } else {
            iz_reply_json(r, 200,
                          json_pack("{s:s, s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:O}", "id", v.sub.id,
                                    "package", v.sub.package, "status", status, "limited",
                                    v.limited, "autoRenewal", v.auto_renewal, "start",
                                    (json_int_t)v.sub.start, "expiration", (json_int_t)v.sub.end,
                                    "created", (json_int_t)now, "credit", credit));
        }
    }
    json_decref(b);
}

/* The ETK channels of a list of types, checked: NULL when valid. */
static const char *check_types(json_t *types, bool sms_only, bool email_only)
{
    if (!json_is_array(types) || json_array_size(types) == 0 || json_array_size(types) > 2)
        return "types ARAMA, MESAJ ya da EPOSTA değerlerinden oluşan bir liste olmalıdır.";
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t)
    {
        const char *s = json_string_value(t);
        iz_type_t ty;
        if (!s || strlen(s) > 8 || iz_type_parse(s, &ty) != 0)
            return "types ARAMA, MESAJ ya da EPOSTA değerlerinden oluşan bir liste olmalıdır.";
        if ((ty == IZ_EPOSTA && sms_only) || (ty != IZ_EPOSTA && email_only))
            return "types şablonun kanalına uymalıdır (SMS: MESAJ, ARAMA; EPOSTA: EPOSTA).";
    }
    return NULL;
}

/* POST /_sim/via/forms {iysCode, formId, method OTP|SHORTURL|APPROVALURL,
 * text, published}: a ViA form, as İYS Web's ViA management defines. */
void iz__sim_h_via_form_put(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    config_req_t q;
    if (config_body(r, sim, "formId", &q) != 0) return;
    json_t *b = q.b;
    int64_t iys = q.iys;
    const char *id = q.id;
    const char *method = json_string_value(json_object_get(b, "method"));
    json_t *text = json_object_get(b, "text"), *pub = json_object_get(b, "published");
    if (!id) {
        sim_error(r, 422, "formId en fazla 64 karakterlik bir değer olmalıdır.", "formId");
    } else if (!method || (strcmp(method, "OTP") != 0 && strcmp(method, "SHORTURL") != 0 &&
                           strcmp(method, "APPROVALURL") != 0)) {
        sim_error(r, 422, "method OTP, SHORTURL ya da APPROVALURL olmalıdır.", "method");
    } else if (text && (!json_is_string(text) || json_string_length(text) > TEXT_MAX)) {
        sim_error(r, 422, "text en fazla 1000 karakterlik bir metin olmalıdır.", "text");
    } else if (pub && !json_is_boolean(pub)) {
        sim_error(r, 422, "published true ya da false olmalıdır.", "published");
    } else {
        json_t *form = json_pack("{s:I, s:s, s:s, s:s, s:b}", "iysCode", (json_int_t)iys, "formId",
                                 id, "method", method, "text", text ? json_string_value(text) : "",
                                 "published", pub ? json_is_true(pub) : 1);
        put_config(r, sim, "FORM", id, iys, form);
    }
    json_decref(b);
}

/* POST /_sim/otp/templates {iysCode, templateId, channel SMS|EPOSTA,
 * method OTP|SHORTURL, text, consent {brandCode, types, recipientType}}: a
 * ViA Pass template; with consent, a completed verification records that
 * consent (ONAY) for the verified address. */
void iz__sim_h_otp_template_put(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    config_req_t q;
    if (config_body(r, sim, "templateId", &q) != 0) return;
    json_t *b = q.b;
    int64_t iys = q.iys;
    const char *id = q.id;
    const char *channel = json_string_value(json_object_get(b, "channel"));
    const char *method = json_string_value(json_object_get(b, "method"));
    json_t *text = json_object_get(b, "text"), *consent = json_object_get(b, "consent");
    const char *bad = NULL, *field = NULL;
    iz_rtype_t rt;
    if (!id) {
        bad = "templateId en fazla 64 karakterlik bir değer olmalıdır.", field = "templateId";
    } else if (!channel || (strcmp(channel, "SMS") != 0 && strcmp(channel, "EPOSTA") != 0)) {
        bad = "channel SMS ya da EPOSTA olmalıdır.", field = "channel";
    } else if (!method || (strcmp(method, "OTP") != 0 && strcmp(method, "SHORTURL") != 0)) {
        bad = "method OTP ya da SHORTURL olmalıdır.", field = "method";
    } else if (text && (!json_is_string(text) || json_string_length(text) > TEXT_MAX)) {
        bad = "text en fazla 1000 karakterlik bir metin olmalıdır.", field = "text";
    } else if (consent) {
        json_t *bc = json_object_get(consent, "brandCode");
        const char *rts = json_string_value(json_object_get(consent, "recipientType"));
        field = "consent";
        if (!json_is_object(consent) || !json_is_integer(bc) ||
            iz_sim_brand_get(sim->st, iys, json_integer_value(bc), NULL) != 0)
            bad = "consent.brandCode hizmet sağlayıcının bir markası olmalıdır.";
        else if (!rts || strlen(rts) > 8 || iz_rtype_parse(rts, &rt) != 0)
            bad = "consent.recipientType BIREYSEL ya da TACIR olmalıdır.";
        else
            bad = check_types(json_object_get(consent, "types"), strcmp(channel, "SMS") == 0,
                              strcmp(channel, "EPOSTA") == 0);
    }
    if (bad) {
        sim_error(r, 422, bad, field);
    } else {
        json_t *t = json_pack("{s:I, s:s, s:s, s:s, s:s}", "iysCode", (json_int_t)iys, "templateId",
                              id, "channel", channel, "method", method, "text",
                              text ? json_string_value(text) : "");
        if (consent)
            json_object_set_new(t, "consent",
                                json_pack("{s:O, s:O, s:O}", "brandCode",
                                          json_object_get(consent, "brandCode"), "types",
                                          json_object_get(consent, "types"), "recipientType",
                                          json_object_get(consent, "recipientType")));
        put_config(r, sim, "TEMPLATE", id, iys, t);
    }
    json_decref(b);
}

/* POST /_sim/via/widgets {iysCode, formId, brandCodes, domain}: a ViA Frame
 * widget; the answer names its widgetUUID. */
void iz__sim_h_via_widget_put(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    int64_t owner;
    char *form = NULL;
    config_req_t q;
    if (config_body(r, sim, "formId", &q) != 0) return;
    json_t *b = q.b;
    int64_t iys = q.iys;
    const char *id = q.id;
    const char *domain = json_string_value(json_object_get(b, "domain"));
    json_t *brands = json_object_get(b, "brandCodes");
    bool brands_ok =
        json_is_array(brands) && json_array_size(brands) > 0 && json_array_size(brands) <= 100;
    size_t i;
    json_t *v;
    json_array_foreach(brands, i, v)
    {
        if (!json_is_integer(v) || iz_sim_brand_get(sim->st, iys, json_integer_value(v), NULL) != 0)
            brands_ok = false;
    }
    if (!id || iz_sim_via_config_get(sim->st, "FORM", id, &owner, &form) != 0 || owner != iys) {
        sim_error(r, 422, "formId hizmet sağlayıcının bir ViA formu olmalıdır.", "formId");
    } else if (!brands_ok) {
        sim_error(r, 422,
                  "brandCodes hizmet sağlayıcının markalarından oluşan bir liste olmalıdır.",
                  "brandCodes");
    } else if (!domain || !*domain || strlen(domain) > DOMAIN_MAX) {
        sim_error(r, 422, "domain widget'ın gömüleceği alan adı olmalıdır.", "domain");
    } else {
        char uuid[37];
        iz__sim_uuid4(uuid);
        json_t *w =
            json_pack("{s:s, s:I, s:s, s:O, s:s}", "widgetUUID", uuid, "iysCode", (json_int_t)iys,
                      "formId", id, "brandCodes", brands, "domain", domain);
        put_config(r, sim, "WIDGET", uuid, iys, w);
    }
    free(form);
    json_decref(b);
}

/* GET /_sim/otp?recipient=: the messages İYS sent to an address, newest
 * first, with the newest code and short link on top - what the person's
 * phone or mailbox would show. */
void iz__sim_h_otp_messages(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    const char *rc_s = iz_req_query(r, "recipient");
    if (!rc_s || !*rc_s || strlen(rc_s) >= IZ_RECIPIENT_MAX) {
        sim_error(r, 422, "recipient verilmelidir.", "recipient");
        return;
    }
    char **list = NULL;
    size_t n = 0;
    if (iz_sim_via_messages(sim->st, rc_s, MESSAGES_SHOWN, &list, &n) != 0) {
        iz_reply_error(r, "IZ500", NULL);
        return;
    }
    json_t *out = json_object(), *arr = json_array();
    json_object_set_new(out, "recipient", json_string(rc_s));
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_loads(list[i], 0, NULL);
        if (!json_is_object(m)) {
            json_decref(m);
            continue;
        }
        if (!json_object_get(out, "code") && json_object_get(m, "code"))
            json_object_set(out, "code", json_object_get(m, "code"));
        if (!json_object_get(out, "shortUrl") && json_object_get(m, "shortUrl"))
            json_object_set(out, "shortUrl", json_object_get(m, "shortUrl"));
        json_array_append_new(arr, m);
    }
    iz_sim_via_strings_free(list, n);
    json_object_set_new(out, "messages", arr);
    iz_reply_json(r, 200, out);
}
