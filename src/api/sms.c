/*
 * sms.c - POST /v1/brands/{b}/sms/send: the SMS send filter (F6).
 *
 * Every recipient goes through the send filter (the domain's judge, MESAJ);
 * only the allowed ones are handed to the SMS gateway, each once however
 * often the list names it. Whatever the input, a commercial message never
 * reaches a recipient whose status is not ONAY: the verdict is taken again
 * right before each recipient's send, so a consent withdrawn while a long
 * list is going out stops the rest.
 *
 * The law wants every commercial message to carry a free way to opt out in
 * the same channel: a commercial text without the brand's instruction gets
 * it appended ("Ret için RET ACME yazıp 4607 numarasına gönderin."). A brand
 * with no number to send "RET" to cannot send commercial messages (422).
 * Informational messages (commercial:false) go to every valid recipient,
 * unchanged.
 *
 * What was sent, what was blocked and why, and what failed at the gateway
 * is recorded with the message (iz_store_sms_record). A gateway failure is
 * reported as FAILED and never retried here, so nothing goes twice.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "core/hcode.h"
#include "core/iz.h"
#include "core/smstext.h"
#include "sys/log.h"

#define SMS_TO_MAX 100000 /* recipients in one request */
#define SMS_PARTS_MAX 10  /* parts of one message, opt-out included */
#define SENDER_ALNUM_MAX 11
#define SENDER_DIGITS_MAX 15

/* ---- validation ---------------------------------------------------------- */

/* An originator: a title of 1-11 characters (ASCII letters, digits, space,
 * '.', '-', '_', '&', at least one letter, no space at either end) or a
 * number of 1-15 digits with an optional leading '+'. */
static bool sender_ok(const char *s, size_t len)
{
    if (len == 0) return false;
    size_t digits = 0, letters = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9')
            digits++;
        else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
            letters++;
        else if (!(c == ' ' || c == '.' || c == '-' || c == '_' || c == '&' ||
                   (c == '+' && i == 0)))
            return false;
    }
    if (letters == 0) {
        size_t plus = s[0] == '+';
        return digits > 0 && digits + plus == len && len <= SENDER_DIGITS_MAX;
    }
    if (s[0] == '+' || s[0] == ' ' || s[len - 1] == ' ') return false;
    return len <= SENDER_ALNUM_MAX;
}

/* True when s (len bytes) is empty or only white space. */
static bool blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!(s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) return false;
    return true;
}

/* ---- the handler --------------------------------------------------------- */

typedef struct send_req {
    bool commercial;
    iz_rtype_t rtype;
    const char *from;
    char *text; /* final text (arena) */
    bool appended;
    iz_smstext_info_t info;
    json_t *to;
} send_req_t;

/* Read and check the body into q; answers and returns non-zero on failure. */
static int read_request(iz_req_t *r, iz_app_t *app, const iz_brand_t *brand, json_t *body,
                        send_req_t *q)
{
    static const char *const known[] = {"commercial", "recipientType", "from", "text", "to"};
    if (iz__body_fields(r, body, known, IZ_ARRAY_LEN(known)) != 0) return -1;
    if (iz__send_flags(r, body, &q->commercial, &q->rtype) != 0) return -1;
    json_t *jf = json_object_get(body, "from");
    json_t *jt = json_object_get(body, "text");
    q->to = json_object_get(body, "to");
    if (!jf || json_is_null(jf) || (json_is_string(jf) && !*json_string_value(jf))) {
        iz__reply_field(r, "from", NULL, "Gönderen (from) bulunamadı.",
                        "The from field is missing.");
        return -1;
    }
    if (!json_is_string(jf) || !sender_ok(json_string_value(jf), json_string_length(jf))) {
        iz__reply_field(r, "from", jf,
                        "Gönderen (from) en çok 11 karakterlik bir başlık (harf, rakam, boşluk, "
                        "nokta, tire, alt çizgi, &) ya da en çok 15 haneli bir numara olmalıdır.",
                        "from must be a sender title of at most 11 characters (letters, digits, "
                        "space, '.', '-', '_', '&') or a number of at most 15 digits.");
        return -1;
    }
    q->from = json_string_value(jf);
    if (!jt || json_is_null(jt) ||
        (json_is_string(jt) && blank(json_string_value(jt), json_string_length(jt)))) {
        iz__reply_field(r, "text", NULL, "Mesaj metni (text) bulunamadı.",
                        "The text field is missing.");
        return -1;
    }
    if (!json_is_string(jt)) {
        iz__reply_field(r, "text", jt, "Mesaj metni (text) metin olmalıdır.",
                        "text must be a string.");
        return -1;
    }
    if (!q->to || json_is_null(q->to)) {
        iz__reply_field(r, "to", NULL, "Alıcı listesi (to) bulunamadı.", "The to list is missing.");
        return -1;
    }
    if (!json_is_array(q->to)) {
        iz__reply_field(r, "to", NULL, "Alıcı listesi (to) liste olmalıdır.", "to must be a list.");
        return -1;
    }
    if (json_array_size(q->to) > SMS_TO_MAX) {
        iz__reply_field(r, "to", NULL, "Tek istekte en çok 100000 alıcı olabilir.",
                        "At most 100000 recipients in one request.");
        return -1;
    }

    /* The text as it will go out: with the opt-out for a commercial one. */
    const char *text = json_string_value(jt);
    size_t len = json_string_length(jt);
    const char *too_long_tr = "Mesaj metni (text), ret talimatıyla birlikte, en çok 10 parça "
                              "olabilir.";
    const char *too_long_en = "text, with the opt-out instruction, may have at most 10 parts.";
    if (len > IZ_SMSTEXT_MAX_BYTES || memchr(text, '\0', len)) {
        iz__reply_field(r, "text", NULL, too_long_tr, too_long_en);
        return -1;
    }
    q->text = iz_req_alloc(r, len + IZ_OPTOUT_MAX + 2);
    memcpy(q->text, text, len);
    q->text[len] = '\0';
    if (q->commercial) {
        char ins[IZ_OPTOUT_MAX];
        int rc =
            iz_smstext_optout(brand->keyword, brand->short_number, brand->subscriber_number, ins);
        if (rc != 0) {
            iz__reply_field(
                r, "commercial", NULL,
                "Ticari ileti, markanın ret talimatını taşımalıdır; markaya bir anahtar "
                "kelime ile kısa numara ya da bir abone numarası tanımlayın.",
                "A commercial message must carry the brand's opt-out instruction; "
                "give the brand a keyword and a short number, or a subscriber number.");
            return -1;
        }
        const char *number = brand->keyword[0] && brand->short_number[0] ? brand->short_number
                                                                         : brand->subscriber_number;
        if (!iz_smstext_has_optout(text, len, brand->keyword, number, ins)) {
            /* Trailing white space goes; one space separates the two. */
            while (len > 0 && (q->text[len - 1] == ' ' || q->text[len - 1] == '\n' ||
                               q->text[len - 1] == '\r' || q->text[len - 1] == '\t'))
                len--;
            q->text[len] = '\0';
            if (len > 0) strcat(q->text, " ");
            strcat(q->text, ins);
            q->appended = true;
        }
    }
    int rc = iz_smstext_analyze(q->text, strlen(q->text), iz_sms_gateway_text_flags(app->gateway),
                                &q->info);
    if (rc == IZ_EINVAL) {
        iz__reply_field(r, "text", NULL, "Mesaj metni (text) geçerli UTF-8 olmalıdır.",
                        "text must be valid UTF-8.");
        return -1;
    }
    if (rc != 0 || q->info.parts > SMS_PARTS_MAX) {
        iz__reply_field(r, "text", NULL, too_long_tr, too_long_en);
        return -1;
    }
    return 0;
}

void iz__h_sms_send(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    if (iz__api_brand(r, app, &brand) != 0) return;
    if (!app->gateway) {
        iz_reply_error(r, "IZ503",
                       iz_req_english(r) ? "no SMS gateway is configured"
                                         : "SMS ağ geçidi yapılandırılmamış.");
        return;
    }
    json_t *body = iz_req_json(r);
    if (!body) return;
    send_req_t q = {0};
    if (read_request(r, app, &brand, body, &q) != 0) {
        json_decref(body);
        return;
    }

    /* First every verdict, so that a store failure stops the request
     * before anything is sent. */
    size_t n = json_array_size(q.to);
    iz_judge_t j = {.brand_id = brand.id, .type = IZ_MESAJ, .rtype = q.rtype,
                    .commercial = q.commercial};
    iz_judged_t *verdicts;
    if (iz__judge_json(r, app, &j, q.to, &verdicts) != 0) {
        json_decref(body);
        return;
    }
    iz_sms_rcpt_t *rc_list = iz_req_alloc(r, (n ? n : 1) * sizeof *rc_list);
    size_t nrc = 0;
    json_t *blocked = json_array();
    size_t nblocked = 0;
    for (size_t i = 0; i < n; i++) {
        if (verdicts[i].repeat) continue; /* a repeat: sent once */
        iz_sms_rcpt_t *x = &rc_list[nrc++];
        const char *reason = iz__judged_entry(json_array_get(q.to, i), &verdicts[i],
                                              x->recipient, blocked);
        if (reason) {
            iz_strlcpy(x->outcome, reason, sizeof x->outcome);
            nblocked++;
        }
    }

    /* Then the sends, each after a last look at the recipient's status. */
    const char *enc = iz_sms_enc_name(q.info.encoding);
    json_t *ids = json_array(), *sent = json_array(), *failed = json_array();
    size_t naccepted = 0;
    for (size_t i = 0; i < nrc; i++) {
        iz_sms_rcpt_t *x = &rc_list[i];
        if (x->outcome[0]) continue;
        char norm[IZ_RECIPIENT_MAX];
        iz_verdict_t v;
        int rc = iz_domain_judge(app->dom, &j, x->recipient, strlen(x->recipient), norm, &v);
        if (rc != 0) {
            iz_strlcpy(x->outcome, "FAILED", sizeof x->outcome);
            json_array_append_new(failed, json_pack("{s:s, s:s}", "recipient", x->recipient,
                                                    "error", "store unavailable; not sent"));
            continue;
        }
        const char *reason = iz_verdict_reason(v);
        if (reason) {
            iz_strlcpy(x->outcome, reason, sizeof x->outcome);
            json_array_append_new(
                blocked, json_pack("{s:s, s:s}", "recipient", x->recipient, "reason", reason));
            nblocked++;
            continue;
        }
        char err[128];
        if (iz_sms_send(app->gateway, q.from, x->recipient, q.text, q.info.encoding, x->gateway_id,
                        err, sizeof err) != 0) {
            iz_strlcpy(x->outcome, "FAILED", sizeof x->outcome);
            json_array_append_new(failed,
                                  json_pack("{s:s, s:s}", "recipient", x->recipient, "error", err));
            continue;
        }
        iz_strlcpy(x->outcome, "SENT", sizeof x->outcome);
        naccepted++;
        json_array_append_new(ids, json_string(x->gateway_id));
        json_array_append_new(
            sent, json_pack("{s:s, s:s}", "recipient", x->recipient, "messageId", x->gateway_id));
    }

    iz_sms_msg_t msg = {.brand_id = brand.id,
                        .text = q.text,
                        .commercial = q.commercial,
                        .parts = (int)q.info.parts,
                        .accepted = (int64_t)naccepted,
                        .blocked = (int64_t)nblocked};
    iz_strlcpy(msg.sender, q.from, sizeof msg.sender);
    iz_strlcpy(msg.encoding, enc, sizeof msg.encoding);
    int src = iz_store_sms_record(app->store, &msg, rc_list, nrc);
    json_t *out = json_pack("{s:I, s:o, s:o, s:o, s:o, s:s, s:I, s:b, s:s}", "accepted",
                            (json_int_t)naccepted, "blocked", blocked, "failed", failed,
                            "messageIds", ids, "sent", sent, "encoding", enc, "parts",
                            (json_int_t)q.info.parts, "optOutAppended", q.appended, "text", q.text);
    if (src == 0) {
        json_object_set_new(out, "id", json_integer(msg.id));
    } else {
        /* The messages went out; the answer must say so even though the
         * record of them could not be written. */
        iz_logf(IZ_LOG_ERROR, "api", "cannot record an SMS send", "brand=%lld error=%s",
                (long long)brand.code, iz_strerror(src));
        iz_error_t w = {.code = "IZ500",
                        .message = iz_req_english(r) ? "sent, but the send could not be recorded"
                                                     : "Gönderildi, ancak kaydı yazılamadı.",
                        .index = -1};
        json_object_set_new(out, "warnings", json_pack("[o]", iz_error_json(r, &w)));
    }
    json_decref(body);
    iz_reply_json(r, 202, out);
}
