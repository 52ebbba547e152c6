/*
 * inbound.c - the inbound SMS interfaces (API.md "Inbound SMS"): Kannel's
 * get-url, a JSON webhook and Jasmin's MO callback, each with the gateway
 * token (?token= or X-Izin-Token). Every one hands the message to
 * sms/inbound.c and answers only after it is durably stored; a store
 * failure is 503 and nothing is stored, so the gateway delivers it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/iz.h"
#include "core/recipient.h"
#include "core/smsmo.h"
#include "core/smstext.h"
#include "core/trtime.h"
#include "net/form.h"
#include "sms/inbound.h"
#include "sys/log.h"

#define FIELD_MAX 128 /* id, from, to, smsc */

/* Hand the message over; false (and the answer sent) when it was not
 * stored. */
static bool take(iz_req_t *r, iz_app_t *app, const iz_mo_t *mo, iz_inbound_t *out)
{
    bool replay = false;
    int rc = iz_inbound_take(app->dom, mo, NULL, out, &replay);
    if (rc == IZ_EINVAL) {
        iz_reply_error(r, "IZ400",
                       iz_req_english(r)
                           ? "an inbound SMS needs id, from and to (each at most 128 bytes) and "
                             "UTF-8 text of at most 1599 bytes"
                           : "Gelen SMS için id, from ve to (her biri en çok 128 bayt) ve en çok "
                             "1599 baytlık UTF-8 metin gerekir.");
        return false;
    }
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return false;
    }
    iz_logf(IZ_LOG_INFO, "sms", replay ? "inbound SMS again (answered as before)" : "inbound SMS",
            "gateway=%s id=%s to=%s outcome=%s", out->gateway, out->msg_id, out->receiver,
            out->outcome);
    return true;
}

static bool ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80) return false;
    return true;
}

/* GET /v1/sms/inbound?from=&to=&text=&id=&smsc=&time=&token= (Kannel's
 * sms-service get-url): the body is the reply SMS, empty for none; a
 * Turkish reply goes with X-Kannel-Coding: 2 (UCS-2), since Kannel's
 * GSM-7 turns İ ı ğ ş into '?'. */
void iz__h_sms_inbound_kannel(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    if (!iz__gateway_token_ok(r, app)) return;
    const char *text = iz_req_query(r, "text");
    const char *time_s = iz_req_query(r, "time");
    int64_t t = 0;
    if (time_s && *time_s && iz_parse_i64(time_s, 1, INT64_MAX / 1000, &t) != 0) t = 0;
    iz_mo_t mo = {.gateway = "kannel",
                  .id = iz_req_query(r, "id"),
                  .from = iz_req_query(r, "from"),
                  .to = iz_req_query(r, "to"),
                  .smsc = iz_req_query(r, "smsc"),
                  .text = text ? text : "",
                  .text_len = text ? strlen(text) : 0,
                  .received_ms = t * 1000};
    iz_inbound_t *m = iz_req_alloc(r, sizeof *m);
    if (!take(r, app, &mo, m)) return;
    if (!ascii(m->reply)) iz_reply_header(r, "X-Kannel-Coding", "2");
    iz_reply_bytes(r, 200, "text/plain; charset=utf-8", m->reply, strlen(m->reply));
}

/* A JSON field: a string of at most max bytes, or NULL. */
static const char *jstr(json_t *o, const char *k, size_t max)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) && json_string_length(v) <= max ? json_string_value(v) : NULL;
}

/* POST /v1/sms/inbound {id, from, to, text, receivedAt?, smsc?}: 200
 * {reply, outcome}; the caller sends the reply (empty: none). */
void iz__h_sms_inbound_json(iz_req_t *r, void *vapp)
{
    static const char *const known[] = {"id", "from", "to", "text", "receivedAt", "smsc"};
    iz_app_t *app = vapp;
    if (!iz__gateway_token_ok(r, app)) return;
    json_t *body = iz_req_json_object(r, "IZ400");
    if (!body) return;
    const char *unk = iz_json_unknown_key(body, known, IZ_ARRAY_LEN(known));
    json_t *text = json_object_get(body, "text"), *at = json_object_get(body, "receivedAt");
    int64_t when = 0;
    bool at_ok = !at || json_is_null(at);
    if (json_is_integer(at) && json_integer_value(at) > 0 &&
        json_integer_value(at) < INT64_MAX / 1000) {
        when = (int64_t)json_integer_value(at) * 1000;
        at_ok = true;
    } else if (json_is_string(at) &&
               iz_tr_parse(json_string_value(at), json_string_length(at), &when, NULL) == 0) {
        when *= 1000;
        at_ok = true;
    }
    if (unk || !json_is_string(text) || !at_ok) {
        iz_reply_error(r, "IZ400",
                       iz_req_english(r)
                           ? "the body is {id, from, to, text, receivedAt?, smsc?}: strings; "
                             "receivedAt as YYYY-MM-DD HH:MM:SS (Turkey) or Unix seconds"
                           : "Gövde {id, from, to, text, receivedAt?, smsc?} olmalı: metinler; "
                             "receivedAt YYYY-AA-GG SS:DD:ss (Türkiye saati) ya da Unix saniyesi.");
        json_decref(body);
        return;
    }
    iz_mo_t mo = {.gateway = "json",
                  .id = jstr(body, "id", FIELD_MAX),
                  .from = jstr(body, "from", FIELD_MAX),
                  .to = jstr(body, "to", FIELD_MAX),
                  .smsc = jstr(body, "smsc", FIELD_MAX),
                  .text = json_string_value(text),
                  .text_len = json_string_length(text),
                  .received_ms = when};
    iz_inbound_t *m = iz_req_alloc(r, sizeof *m);
    bool ok = take(r, app, &mo, m);
    json_decref(body);
    if (!ok) return;
    iz_reply_json(r, 200, json_pack("{s:s, s:s}", "reply", m->reply, "outcome", m->outcome));
}

/* Jasmin's content (the short message's bytes) as UTF-8, by its SMPP
 * data_coding (core/smsmo.h); NULL for a coding izin cannot read or bytes
 * that are not of it. */
static char *jasmin_text(iz_req_t *r, const char *content, size_t len, const char *coding)
{
    int64_t dc = 0;
    iz_mo_coding_t c;
    if ((coding && *coding && iz_parse_i64(coding, 0, 255, &dc) != 0) ||
        iz_mo_coding_from_smpp((int)dc, &c) != 0)
        return NULL;
    size_t cap = IZ_MO_DECODED_MAX(len), outlen = 0, replaced = 0;
    char *out = iz_req_alloc(r, cap);
    return iz_mo_decode(content ? content : "", len, c, out, cap, &outlen, &replaced) == 0 ? out
                                                                                         : NULL;
}

/* POST /v1/sms/inbound/jasmin (form: id, from, to, content, coding,
 * origin-connector): answers exactly "ACK/Jasmin" once stored (anything
 * else makes Jasmin deliver it again); the reply is queued with it and
 * goes out through izin's SMS gateway, from the number the person wrote
 * to. */
void iz__h_sms_inbound_jasmin(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    size_t len = 0;
    const char *raw = iz_req_body(r, &len);
    iz_form_t f;
    if (iz_form_parse(r, raw ? raw : "", len, &f) != 0) {
        iz_reply_error(r, "IZ400", NULL);
        return;
    }
    if (!iz__gateway_token_ok(r, app)) return;
    const char *content = iz_form_get(&f, "content");
    size_t clen = 0;
    for (size_t i = 0; i < f.n; i++)
        if (strcmp(f.name[i], "content") == 0) {
            clen = f.value_len[i];
            break;
        }
    char *text = jasmin_text(r, content, clen, iz_form_get(&f, "coding"));
    if (!text) {
        iz_reply_error(r, "IZ400",
                       iz_req_english(r)
                           ? "content cannot be read in its coding (GSM-7 0, Latin-1 3, UCS-2 8)"
                           : "content kodlamasına göre okunamadı (GSM-7 0, Latin-1 3, UCS-2 8).");
        return;
    }
    iz_mo_t mo = {.gateway = "jasmin",
                  .id = iz_form_value(&f, "id", FIELD_MAX),
                  .from = iz_form_value(&f, "from", FIELD_MAX),
                  .to = iz_form_value(&f, "to", FIELD_MAX),
                  .smsc = iz_form_value(&f, "origin-connector", FIELD_MAX),
                  .text = text,
                  .text_len = strlen(text)};
    iz_inbound_t *m = iz_req_alloc(r, sizeof *m);
    bool replay = false;
    /* The reply is queued in the same transaction as the message: it goes
     * out once, through the outbound queue, however often Jasmin
     * delivers the message. */
    int rc = iz_inbound_take(app->dom, &mo, iz_api_sms_queue(app), m, &replay);
    if (rc == IZ_EINVAL) {
        iz_reply_error(r, "IZ400", NULL);
        return;
    }
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    iz_logf(IZ_LOG_INFO, "sms", replay ? "inbound SMS again (answered as before)" : "inbound SMS",
            "gateway=jasmin id=%s to=%s outcome=%s", m->msg_id, m->receiver, m->outcome);
    iz_reply_bytes(r, 200, "text/plain", "ACK/Jasmin", 10);
}
