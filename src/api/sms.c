/*
 * sms.c - POST /v1/brands/{b}/sms/send: the SMS send filter (F6).
 *
 * Every recipient goes through the send filter (iz__filter, type MESAJ);
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

#define SMS_TO_MAX 100000 /* recipients in one request */
#define SMS_PARTS_MAX 10  /* parts of one message, opt-out included */
#define SENDER_ALNUM_MAX 11
#define SENDER_DIGITS_MAX 15

/* ---- the repeat filter shared with voice.c ----------------------------- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

void iz__seen_init(iz_req_t *r, iz__seen_t *set, size_t n)
{
    set->cap = 16;
    while (set->cap < n * 2 + 16)
        set->cap *= 2;
    set->slot = iz_req_alloc(r, set->cap * sizeof *set->slot);
}

bool iz__seen_add(iz__seen_t *set, const char *s)
{
    size_t i = fnv1a(s) & (set->cap - 1);
    while (set->slot[i]) {
        if (strcmp(set->slot[i], s) == 0) return false;
        i = (i + 1) & (set->cap - 1);
    }
    set->slot[i] = s;
    return true;
}

/* ---- validation ---------------------------------------------------------- */

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

void iz__raw_recipient(json_t *item, char out[IZ_RECIPIENT_MAX])
{
    char *dumped = NULL;
    const char *s = json_string_value(item);
    if (!s) s = dumped = json_dumps(item, JSON_ENCODE_ANY | JSON_COMPACT);
    size_t n = s ? strlen(s) : 0;
    if (n > IZ_RECIPIENT_MAX - 1) {
        n = IZ_RECIPIENT_MAX - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    if (n) memcpy(out, s, n);
    out[n] = '\0';
    free(dumped);
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
    iz_sms_rcpt_t *rc_list = iz_req_alloc(r, (n ? n : 1) * sizeof *rc_list);
    size_t nrc = 0;
    iz__seen_t seen;
    iz__seen_init(r, &seen, n);
    json_t *blocked = json_array();
    size_t nblocked = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(q.to, i);
        const char *s = json_string_value(item);
        char norm[IZ_RECIPIENT_MAX];
        int rc = 0;
        const char *reason = s ? iz__filter(app, brand.id, IZ_MESAJ, q.rtype, q.commercial, s,
                                            json_string_length(item), norm, &rc)
                               : "INVALID";
        if (rc != 0) {
            json_decref(blocked);
            json_decref(body);
            iz__reply_store_error(r, rc);
            return;
        }
        iz_sms_rcpt_t *x = &rc_list[nrc];
        if (reason && strcmp(reason, "INVALID") == 0) {
            iz__raw_recipient(item, x->recipient);
            iz_strlcpy(x->outcome, "INVALID", sizeof x->outcome);
            json_array_append_new(blocked,
                                  json_pack("{s:O, s:s}", "recipient", item, "reason", "INVALID"));
            nblocked++;
            nrc++;
            continue;
        }
        memcpy(x->recipient, norm, sizeof x->recipient);
        if (!iz__seen_add(&seen, x->recipient)) continue; /* a repeat: sent once */
        if (reason) {
            iz_strlcpy(x->outcome, reason, sizeof x->outcome);
            json_array_append_new(blocked,
                                  json_pack("{s:s, s:s}", "recipient", norm, "reason", reason));
            nblocked++;
        }
        nrc++;
    }

    /* Then the sends, each after a last look at the recipient's status. */
    const char *enc = iz_sms_enc_name(q.info.encoding);
    json_t *ids = json_array(), *sent = json_array(), *failed = json_array();
    size_t naccepted = 0;
    for (size_t i = 0; i < nrc; i++) {
        iz_sms_rcpt_t *x = &rc_list[i];
        if (x->outcome[0]) continue;
        char norm[IZ_RECIPIENT_MAX];
        int rc = 0;
        const char *reason = iz__filter(app, brand.id, IZ_MESAJ, q.rtype, q.commercial,
                                        x->recipient, strlen(x->recipient), norm, &rc);
        if (rc != 0) {
            iz_strlcpy(x->outcome, "FAILED", sizeof x->outcome);
            json_array_append_new(failed, json_pack("{s:s, s:s}", "recipient", x->recipient,
                                                    "error", "store unavailable; not sent"));
            continue;
        }
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
        fprintf(stderr, "izin: cannot record an SMS send of brand %lld: %s\n",
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
