/*
 * sms.c - the SMS send filter (F6) and the outbound queue's endpoints:
 *
 *   POST /v1/brands/{b}/sms/send   filter a list and queue the messages
 *   GET  /v1/sms/sends/{id}        a send and each message's state
 *   GET  /v1/sms/dlr               delivery reports (Kannel's dlr-url)
 *
 * Every recipient goes through the send filter (the domain's judge, MESAJ);
 * only the allowed ones are queued, each once however often the list names
 * it, and the queue judges each again right before its SMS goes, so a
 * consent withdrawn while a long list is going out stops the rest.
 *
 * The law wants every commercial message to carry the sender's identity, a
 * way to reach it and a free way to opt out in the same channel: the text
 * goes out with the footer of what it lacks (sms/content.h, the panel's
 * campaign page uses the same), and the answer's "added" says what. A brand
 * without a number to send "RET" to, an identity or a contact cannot send
 * commercial messages (422, the code naming the setting). Informational
 * messages (commercial:false) go to every valid recipient, unchanged; one
 * that reads as commercial goes too, with a warning (IZ4223) naming the
 * words: the sender knows what the message is, izin only points at it.
 *
 * The answer comes once the send is durably queued (202). A send of at most
 * SMALL_SEND allowed recipients waits, at most the gateway's timeout and
 * one second, for the gateway's answers and reports them (sent, failed):
 * the wait is deferred (net/http.h, iz_req_defer), so no server thread
 * waits; while half the outside-call workers wait for the gateway already,
 * or the pool is full, the send is answered at once (a hung gateway holds
 * neither the server nor every outside call); a larger one is answered at once and followed with
 * GET /v1/sms/sends/{id}. An Idempotency-Key makes a retried request answer with the first one's
 * send instead of sending again.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "core/hcode.h"
#include "core/iz.h"
#include "core/smstext.h"
#include "sms/content.h"
#include "sms/outbound.h"
#include "sys/crypto.h"
#include "sys/log.h"

#define SMS_TO_MAX 100000           /* recipients in one request */
#define SMS_BODY_MAX (8u << 20)     /* a send's body: 100,000 recipients however written */
#define SMALL_SEND 10               /* allowed recipients a send waits for */
#define KEY_MAX (IZ_IDEM_KEY_MAX - 1) /* bytes of an Idempotency-Key */
#define PAGE_DEFAULT 1000           /* recipients a GET of a send shows */
#define PAGE_MAX 10000
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
    const char *text;      /* final text (in content) */
    iz_content_t *content; /* the text as it goes out (arena) */
    bool appended;
    iz_smstext_info_t info;
    json_t *to;
} send_req_t;

static int refuse(iz_sms_refusal_t *why, const char *code, const char *field, const char *tr,
                  const char *en)
{
    why->code = code;
    why->field = field;
    iz_strlcpy(why->tr, tr, sizeof why->tr);
    iz_strlcpy(why->en, en, sizeof why->en);
    return IZ_EINVAL;
}

/* A commercial text refused for a brand setting it lacks: the code and
 * the setting named (IZ422 for the opt-out's number, as before; IZ4221
 * the identity; IZ4222 the contact). */
static int refuse_missing(iz_sms_refusal_t *why, unsigned missing)
{
    if (missing == IZ_CONTENT_OPTOUT)
        return refuse(why, "IZ422", "commercial",
                      "Ticari ileti, markanın ret talimatını taşımalıdır; markaya bir anahtar "
                      "kelime ile kısa numara ya da bir abone numarası tanımlayın.",
                      "A commercial message must carry the brand's opt-out instruction; "
                      "give the brand a keyword and a short number, or a subscriber number.");
    if (missing == IZ_CONTENT_IDENTITY)
        return refuse(why, "IZ4221", "brand.tradeName",
                      "Ticari ileti gönderenin kimliğini taşımalıdır: markaya ticaret unvanı ile "
                      "MERSİS numarası (tradeName, mersis) ya da esnafın adı ve soyadını "
                      "(tradesman) tanımlayın.",
                      "A commercial message must carry the sender's identity: give the brand its "
                      "trade name and MERSİS number (tradeName, mersis) or the tradesman's name "
                      "(tradesman).");
    return refuse(why, "IZ4222", "brand.contact",
                  "Ticari ileti gönderene ulaşılabilecek bir iletişim bilgisi taşımalıdır: "
                  "markaya telefon, adres, web ya da e-posta (contact) tanımlayın.",
                  "A commercial message must carry a way to reach the sender: give the brand a "
                  "contact (phone, address, web or e-mail).");
}

int iz_sms_compose(iz_app_t *app, const iz_brand_t *brand, const char *from, const char *text,
                   size_t len, bool commercial, iz_content_t *out, iz_sms_refusal_t *why)
{
    if (!from || !*from)
        return refuse(why, "IZ422", "from", "Gönderen (from) bulunamadı.",
                      "The from field is missing.");
    if (!sender_ok(from, strlen(from)))
        return refuse(why, "IZ422", "from",
                      "Gönderen (from) en çok 11 karakterlik bir başlık (harf, rakam, boşluk, "
                      "nokta, tire, alt çizgi, &) ya da en çok 15 haneli bir numara olmalıdır.",
                      "from must be a sender title of at most 11 characters (letters, digits, "
                      "space, '.', '-', '_', '&') or a number of at most 15 digits.");
    if (!text || blank(text, len))
        return refuse(why, "IZ422", "text", "Mesaj metni (text) bulunamadı.",
                      "The text field is missing.");
    /* The text as it will go out: with the footer a commercial one lacks. */
    char too_long_tr[256], too_long_en[256];
    snprintf(too_long_tr, sizeof too_long_tr,
             "Mesaj metni (text), ticari iletiye eklenen gönderen bilgisi, iletişim ve ret "
             "talimatıyla birlikte, en çok %d parça olabilir.",
             app->sms_max_parts);
    snprintf(too_long_en, sizeof too_long_en,
             "text, with what a commercial message's footer adds (the sender's identity, "
             "contact, opt-out), may have at most %d part%s (--sms-max-parts).",
             app->sms_max_parts, app->sms_max_parts == 1 ? "" : "s");
    if (len > IZ_SMSTEXT_MAX_BYTES || memchr(text, '\0', len))
        return refuse(why, "IZ422", "text", too_long_tr, too_long_en);
    int rc = iz_sms_content(app->store, brand, text, len, commercial,
                            iz_sms_gateway_text_flags(app->gateway), out);
    if (rc == IZ_ERULE) return refuse_missing(why, out->missing);
    if (rc == IZ_EINVAL)
        return refuse(why, "IZ422", "text", "Mesaj metni (text) geçerli UTF-8 olmalıdır.",
                      "text must be valid UTF-8.");
    if (rc == IZ_ETOOBIG || (rc == 0 && out->info.parts > (size_t)app->sms_max_parts))
        return refuse(why, "IZ422", "text", too_long_tr, too_long_en);
    return rc;
}

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

    q->content = iz_req_alloc(r, sizeof *q->content);
    iz_sms_refusal_t why;
    int rc = iz_sms_compose(app, brand, q->from, json_string_value(jt), json_string_length(jt),
                            q->commercial, q->content, &why);
    if (rc == IZ_EINVAL) {
        if (strcmp(why.code, "IZ422") == 0) {
            iz__reply_field(r, why.field, NULL, why.tr, why.en);
        } else {
            iz_error_t e = {.code = why.code,
                            .message = iz_req_english(r) ? why.en : why.tr,
                            .location = why.field,
                            .index = -1};
            iz_reply_errors(r, 422, &e, 1);
        }
        return -1;
    }
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return -1;
    }
    q->text = q->content->text;
    q->info = q->content->info;
    q->appended = (q->content->added & IZ_CONTENT_OPTOUT) != 0;
    return 0;
}

/* ---- answers ------------------------------------------------------------- */

static const char *STATES[] = {"QUEUED", "SENDING", "SENT",       "DELIVERED", "FAILED",
                               "UNKNOWN", "NO_CONSENT", "RET", "INVALID"};

static bool is_blocked(const char *outcome)
{
    return strcmp(outcome, "NO_CONSENT") == 0 || strcmp(outcome, "RET") == 0 ||
           strcmp(outcome, "INVALID") == 0;
}

/* A recipient as it was given, for an answer: a value that was no string
 * is given back as the JSON value it was. */
static json_t *rcpt_value(const iz_sms_rcpt_t *x)
{
    if (x->raw_json) {
        json_t *v = json_loads(x->recipient, JSON_DECODE_ANY, NULL);
        if (v) return v;
    }
    return json_string(x->recipient);
}

/* The messages' outcomes of a send into sent / failed (and blocked, for a
 * message stopped at send time): *pending gets those still QUEUED or
 * SENDING. Reads the messages in pages. */
static int add_outcomes(iz_app_t *app, int64_t id, json_t *sent, json_t *failed, json_t *blocked,
                        int64_t *pending)
{
    int64_t after = -1;
    *pending = 0;
    for (;;) {
        iz_sms_rcpt_t *l = NULL;
        size_t n = 0;
        int rc = iz_store_sms_rcpts(app->store, id, after, PAGE_MAX, true, &l, &n);
        if (rc != 0) return rc;
        for (size_t i = 0; i < n; i++) {
            const iz_sms_rcpt_t *x = &l[i];
            after = x->seq;
            if (strcmp(x->outcome, "SENT") == 0 || strcmp(x->outcome, "DELIVERED") == 0)
                json_array_append_new(sent, json_pack("{s:s, s:s}", "recipient", x->recipient,
                                                      "messageId", x->gateway_id));
            else if (strcmp(x->outcome, "FAILED") == 0 || strcmp(x->outcome, "UNKNOWN") == 0)
                json_array_append_new(failed,
                                      json_pack("{s:s, s:s, s:s, s:s}", "recipient", x->recipient,
                                                "messageId", x->gateway_id, "state", x->outcome,
                                                "error", x->error));
            else if (is_blocked(x->outcome) && blocked)
                json_array_append_new(blocked, json_pack("{s:s, s:s}", "recipient", x->recipient,
                                                         "reason", x->outcome));
            else if (!is_blocked(x->outcome))
                (*pending)++;
        }
        free(l);
        if (n < PAGE_MAX) return 0;
    }
}

/* The answer to sms/send: what was queued (the send's own fields) with the
 * given blocked list and message ids, and the outcomes known so far. */
static json_t *send_answer(iz_app_t *app, const iz_sms_msg_t *m, json_t *blocked, json_t *ids,
                           bool outcomes)
{
    json_t *sent = json_array(), *failed = json_array();
    int64_t pending = m->accepted;
    if (outcomes && add_outcomes(app, m->id, sent, failed, blocked, &pending) != 0)
        pending = m->accepted - (int64_t)json_array_size(sent) - (int64_t)json_array_size(failed);
    json_t *out = json_pack(
        "{s:I, s:s, s:I, s:o, s:o, s:o, s:o, s:I, s:s, s:I, s:b, s:s}", "id", (json_int_t)m->id,
        "state", pending > 0 ? "QUEUED" : "DONE", "accepted", (json_int_t)m->accepted, "blocked",
        blocked, "failed", failed, "messageIds", ids, "sent", sent, "queued", (json_int_t)pending,
        "encoding", m->encoding, "parts", (json_int_t)m->parts, "optOutAppended", m->opt_out,
        "text", m->text);
    if (!out) iz_oom();
    return out;
}

/* What the text's footer added ("added": identity, contact, optout, in the
 * footer's order) and, for an informational text that reads as
 * commercial, the warning naming its words. */
static void content_fields(iz_req_t *r, json_t *out, const iz_content_t *c)
{
    json_t *added = json_array();
    for (unsigned bit = IZ_CONTENT_IDENTITY; bit <= IZ_CONTENT_OPTOUT; bit <<= 1)
        if (c->added & bit) json_array_append_new(added, json_string(iz_content_name(bit)));
    json_object_set_new(out, "added", added);
    if (c->nwords == 0) return;
    json_t *words = json_array();
    for (size_t i = 0; i < c->nwords; i++)
        json_array_append_new(words, json_string(c->words[i]));
    iz_error_t e = {.code = "IZ4223", .message = NULL, .location = "commercial", .index = -1};
    json_t *w = iz_error_json(r, &e);
    json_object_set_new(w, "words", words);
    json_object_set_new(out, "warnings", json_pack("[o]", w));
}

/* The first answer again, for a request repeated with its Idempotency-Key:
 * rebuilt from the stored send (the outcomes as they are now). */
static void replay(iz_req_t *r, iz_app_t *app, const iz_sms_msg_t *m)
{
    json_t *blocked = json_array(), *ids = json_array();
    int64_t after = -1;
    for (;;) {
        iz_sms_rcpt_t *l = NULL;
        size_t n = 0;
        int rc = iz_store_sms_rcpts(app->store, m->id, after, PAGE_MAX, false, &l, &n);
        if (rc != 0) {
            json_decref(blocked);
            json_decref(ids);
            iz__reply_store_error(r, rc);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            after = l[i].seq;
            if (l[i].gateway_id[0])
                json_array_append_new(ids, json_string(l[i].gateway_id));
            else if (is_blocked(l[i].outcome))
                json_array_append_new(blocked, json_pack("{s:o, s:s}", "recipient",
                                                         rcpt_value(&l[i]), "reason",
                                                         l[i].outcome));
        }
        free(l);
        if (n < PAGE_MAX) break;
    }
    json_t *out = send_answer(app, m, blocked, ids, true);
    json_object_set_new(out, "replayed", json_true());
    iz_reply_header(r, "Idempotent-Replayed", "true");
    iz_reply_json(r, 202, out);
}

/* The request's fingerprint for its Idempotency-Key: the brand and the body
 * as canonical JSON (keys sorted, no spaces), so that the same request
 * written another way is the same request. */
static void fingerprint(const iz_brand_t *brand, json_t *body, char out[IZ_SHA256_HEX])
{
    char *canon = json_dumps(body, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
    if (!canon) iz_oom();
    size_t n = strlen(canon);
    char head[32];
    int hn = snprintf(head, sizeof head, "%lld\n", (long long)brand->code);
    char *all = iz_xmalloc((size_t)hn + n);
    memcpy(all, head, (size_t)hn);
    memcpy(all + hn, canon, n);
    iz_sha256_hex(all, (size_t)hn + n, out);
    free(all);
    free(canon);
}

/* A send that exists under key already: the same request answers with it,
 * another one is refused (422, as the IETF's Idempotency-Key draft says). */
static void key_taken(iz_req_t *r, iz_app_t *app, const char *key, const char *hash)
{
    iz_sms_msg_t *m = iz_req_alloc(r, sizeof *m);
    int rc = iz_store_sms_by_key(app->store, iz_req_account(r), key, m);
    if (rc != 0) {
        iz__reply_store_error(r, rc == IZ_ENOTFOUND ? IZ_EIO : rc);
        return;
    }
    if (strcmp(m->idem_hash, hash) != 0) {
        iz__reply_field(r, "Idempotency-Key", NULL,
                        "Bu Idempotency-Key başka bir istek için kullanıldı; yeni bir istek için "
                        "yeni bir anahtar gönderin.",
                        "This Idempotency-Key was used for another request; send a new key "
                        "with a new request.");
        return;
    }
    replay(r, app, m);
}

/* An Idempotency-Key: 1 to 128 printable ASCII characters. */
static bool key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > KEY_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] < 0x20 || (unsigned char)k[i] >= 0x7F) return false;
    return k[0] != ' ' && k[n - 1] != ' ';
}

int iz_sms_enqueue(iz_req_t *r, iz_app_t *app, const iz_brand_t *brand, const char *from,
                   const iz_content_t *c, bool commercial, iz_rtype_t rtype, json_t *to,
                   const char *key, const char *hash, iz_sms_msg_t **out, json_t *blocked,
                   json_t *ids)
{
    /* Every verdict first; then the whole send is queued in one
     * transaction, and the queue judges each message again before it
     * goes. */
    size_t n = json_array_size(to);
    iz_judge_t j = {
        .brand_id = brand->id, .type = IZ_MESAJ, .rtype = rtype, .commercial = commercial};
    iz_judged_t *verdicts;
    int rc = iz_api_judge_json(r, app, &j, to, &verdicts);
    if (rc != 0) return rc;
    json_t *bl = blocked ? blocked : json_array();
    iz_sms_item_t *items = iz_req_alloc(r, (n ? n : 1) * sizeof *items);
    char(*rcpt)[IZ_RECIPIENT_MAX] = iz_req_alloc(r, (n ? n : 1) * sizeof *rcpt);
    char(*mid)[IZ_SMS_ID_MAX] = iz_req_alloc(r, (n ? n : 1) * sizeof *mid);
    size_t nitems = 0, nblocked = 0, naccepted = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (verdicts[i].repeat) continue; /* a repeat: sent once */
        iz_sms_item_t *x = &items[nitems];
        json_t *item = json_array_get(to, i);
        const char *reason = iz__judged_entry(item, &verdicts[i], rcpt[nitems], bl);
        x->recipient = rcpt[nitems];
        if (reason) {
            x->outcome = reason;
            x->raw_json = verdicts[i].v == IZ_VERDICT_INVALID && !json_is_string(item);
            nblocked++;
        } else if ((rc = iz_sms_new_id(mid[nitems])) == 0) {
            x->outcome = "QUEUED";
            x->msg_id = mid[nitems];
            if (ids) json_array_append_new(ids, json_string(mid[nitems]));
            naccepted++;
        }
        nitems++;
    }
    if (bl != blocked) json_decref(bl);
    if (rc != 0) return IZ_EIO;
    iz_sms_msg_t *m = iz_req_alloc(r, sizeof *m);
    memset(m, 0, sizeof *m);
    m->account_id = brand->account_id;
    m->brand_id = brand->id;
    iz_strlcpy(m->kind, "SEND", sizeof m->kind);
    m->priority = naccepted <= SMALL_SEND ? 0 : 1;
    iz_strlcpy(m->sender, from, sizeof m->sender);
    iz_strlcpy(m->text, c->text, sizeof m->text);
    m->commercial = commercial;
    m->rtype = rtype;
    iz_strlcpy(m->encoding, iz_sms_enc_name(c->info.encoding), sizeof m->encoding);
    m->parts = (int)c->info.parts;
    m->opt_out = (c->added & IZ_CONTENT_OPTOUT) != 0;
    m->accepted = (int64_t)naccepted;
    m->blocked = (int64_t)nblocked;
    if (key) {
        iz_strlcpy(m->idem_key, key, sizeof m->idem_key);
        iz_strlcpy(m->idem_hash, hash, sizeof m->idem_hash);
    }
    rc = iz_sms_queue_put(iz_api_sms_queue(app), m, items, nitems);
    if (rc == 0) *out = m;
    return rc;
}

/* ---- POST /v1/brands/{b}/sms/send ------------------------------------------ */

static void send_reply(iz_req_t *r, iz_app_t *app, const iz_sms_msg_t *m, json_t *blocked,
                       json_t *ids, const iz_content_t *content, bool waited)
{
    json_t *out = send_answer(app, m, blocked, ids, waited);
    content_fields(r, out, content);
    iz_reply_json(r, 202, out);
}

/* A small send's wait for the gateway's answers, on an outside-call worker
 * (the answer is written by send_wait_end on a server thread). */
typedef struct send_wait {
    iz_app_t *app;
    struct iz_sms_queue *q;
    int64_t id;
    long wait_ms;
    /* the answer's (the request's, untouched by the work) */
    const iz_sms_msg_t *m;
    json_t *blocked, *ids;
    const iz_content_t *content;
} send_wait_t;

static void send_wait_work(iz_work_t *wk, void *arg)
{
    send_wait_t *w = arg;
    /* In steps, so that a wait nobody needs any more (the server stops)
     * ends within a quarter second. */
    long left = w->wait_ms;
    while (left > 0 && !iz_work_cancelled(wk)) {
        long step = left < 250 ? left : 250;
        int rc = iz_sms_queue_wait(w->q, w->id, step);
        if (rc != IZ_EBUSY) break; /* done, or the store failed: answer what is known */
        left -= step;
    }
}

static void send_wait_end(iz_req_t *r, void *arg, iz_defer_end_t how)
{
    send_wait_t *w = arg;
    /* A wait cut short answers with what is known so far, as one that ran
     * out of time always did. */
    send_reply(r, w->app, w->m, w->blocked, w->ids, w->content, how != IZ_DEFER_FULL);
}

static void send_wait_free(void *arg)
{
    send_wait_t *w = arg;
    atomic_fetch_sub(&w->app->sms_waiting, 1);
    free(w);
}

void iz__h_sms_send(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    if (iz__api_brand(r, app, &brand) != 0) return;
    if (!iz_api_sms_queue(app)) {
        iz_reply_error(r, "IZ503",
                       iz_req_english(r) ? "no SMS gateway is configured"
                                         : "SMS ağ geçidi yapılandırılmamış.");
        return;
    }
    if (iz_req_streaming(r)) {
        /* A list of 100,000 recipients is larger than other bodies. */
        iz_req_buffer_max(r, SMS_BODY_MAX);
        return;
    }
    const char *key = iz_req_header(r, "Idempotency-Key");
    if (key && !key_ok(key)) {
        iz__reply_field(r, "Idempotency-Key", NULL,
                        "Idempotency-Key 1 ile 128 arasında yazdırılabilir ASCII karakter "
                        "olmalıdır.",
                        "Idempotency-Key must be 1 to 128 printable ASCII characters.");
        return;
    }
    json_t *body = iz_req_json(r);
    if (!body) return;
    char hash[IZ_SHA256_HEX] = "";
    if (key) {
        fingerprint(&brand, body, hash);
        iz_sms_msg_t *old = iz_req_alloc(r, sizeof *old);
        int rc = iz_store_sms_by_key(app->store, iz_req_account(r), key, old);
        if (rc == 0 || rc != IZ_ENOTFOUND) {
            json_decref(body);
            if (rc == 0)
                key_taken(r, app, key, hash);
            else
                iz__reply_store_error(r, rc);
            return;
        }
    }
    send_req_t q = {0};
    if (read_request(r, app, &brand, body, &q) != 0) {
        json_decref(body);
        return;
    }

    iz_sms_msg_t *m;
    json_t *blocked = json_array(), *ids = json_array();
    int rc = iz_sms_enqueue(r, app, &brand, q.from, q.content, q.commercial, q.rtype, q.to, key,
                            hash, &m, blocked, ids);
    json_decref(body);
    if (rc != 0) {
        json_decref(blocked);
        json_decref(ids);
        if (rc == IZ_EEXIST && key)
            key_taken(r, app, key, hash); /* a request with the same key came first */
        else
            iz__reply_store_error(r, rc);
        return;
    }
    if (m->accepted > 0 && m->accepted <= SMALL_SEND &&
        atomic_fetch_add(&app->sms_waiting, 1) < app->sms_wait_max) {
        send_wait_t *w = iz_xcalloc(1, sizeof *w);
        *w = (send_wait_t){.app = app,
                           .q = iz_api_sms_queue(app),
                           .id = m->id,
                           .wait_ms = app->sms_wait_ms,
                           .m = m,
                           .blocked = blocked,
                           .ids = ids,
                           .content = q.content};
        iz_req_defer(r, send_wait_work, send_wait_end, send_wait_free, w,
                     (unsigned)app->sms_wait_ms + 2000);
        return;
    }
    if (m->accepted > 0 && m->accepted <= SMALL_SEND) atomic_fetch_sub(&app->sms_waiting, 1);
    send_reply(r, app, m, blocked, ids, q.content, false);
}

/* ---- GET /v1/sms/sends/{id} -------------------------------------------------- */

static void iso_time(int64_t ms, char out[IZ_DATETIME_LEN])
{
    iz_tr_format(ms / 1000, out);
}

void iz__h_sms_send_get(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    int64_t id = 0, after = -1, limit = PAGE_DEFAULT;
    const char *s = iz_req_param(r, "id");
    iz_sms_msg_t *m = iz_req_alloc(r, sizeof *m);
    int rc = s && iz_parse_i64(s, 1, INT64_MAX, &id) == 0 ? iz_store_sms_get(app->store, id, m)
                                                          : IZ_ENOTFOUND;
    if (rc == 0 && m->account_id != iz_req_account(r)) rc = IZ_ENOTFOUND;
    if (rc != 0) {
        if (rc == IZ_ENOTFOUND)
            iz_reply_error(r, "IZ404", iz_req_english(r) ? "send not found" : "Gönderim bulunamadı.");
        else
            iz__reply_store_error(r, rc);
        return;
    }
    const char *qa = iz_req_query(r, "after"), *ql = iz_req_query(r, "limit");
    if (qa && iz_parse_i64(qa, -1, INT64_MAX, &after) != 0) {
        iz__reply_field(r, "after", NULL, "after bir sıra numarası olmalıdır.",
                        "after must be a recipient's seq.");
        return;
    }
    if (ql && iz_parse_i64(ql, 1, PAGE_MAX, &limit) != 0) {
        iz__reply_field(r, "limit", NULL, "limit 1 ile 10000 arasında olmalıdır.",
                        "limit must be from 1 to 10000.");
        return;
    }
    iz_sms_counts_t c;
    iz_sms_rcpt_t *l = NULL;
    size_t n = 0;
    rc = iz_store_sms_counts(app->store, id, &c);
    if (rc == 0) rc = iz_store_sms_rcpts(app->store, id, after, (size_t)limit, false, &l, &n);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    const int64_t counts[] = {c.queued, c.sending, c.sent,       c.delivered, c.failed,
                              c.unknown, c.no_consent, c.ret, c.invalid};
    json_t *jc = json_object();
    for (size_t i = 0; i < IZ_ARRAY_LEN(STATES); i++)
        json_object_set_new(jc, STATES[i], json_integer(counts[i]));
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        const iz_sms_rcpt_t *x = &l[i];
        json_t *o = json_pack("{s:I, s:o, s:s}", "seq", (json_int_t)x->seq, "recipient",
                              rcpt_value(x), "state", x->outcome);
        if (x->gateway_id[0]) json_object_set_new(o, "messageId", json_string(x->gateway_id));
        if (x->error[0]) json_object_set_new(o, "error", json_string(x->error));
        char t[IZ_DATETIME_LEN];
        if (x->sent_ms) {
            iso_time(x->sent_ms, t);
            json_object_set_new(o, "sentAt", json_string(t));
        }
        if (x->dlr_status) {
            iso_time(x->dlr_ms, t);
            json_object_set_new(o, "report",
                                json_pack("{s:i, s:s}", "status", x->dlr_status, "at", t));
        }
        json_array_append_new(list, o);
    }
    char created[IZ_DATETIME_LEN];
    iso_time(m->created_ms, created);
    bool done = c.queued + c.sending == 0;
    json_t *out = json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:i, s:b, s:I, s:I, s:o, s:o}", "id",
        (json_int_t)m->id, "kind", m->kind, "state", done ? "DONE" : "QUEUED", "createdAt",
        created, "from", m->sender, "text", m->text, "commercial", m->commercial, "encoding",
        m->encoding, "parts", m->parts, "optOutAppended", m->opt_out, "accepted",
        (json_int_t)m->accepted, "blocked", (json_int_t)m->blocked, "counts", jc, "recipients",
        list);
    if (n == (size_t)limit) json_object_set_new(out, "next", json_integer(l[n - 1].seq));
    free(l);
    iz_reply_json(r, 200, out);
}

/* ---- GET /v1/sms/dlr?id=&status=&token= --------------------------------------- */

void iz__h_sms_dlr(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    if (!iz__gateway_token_ok(r, app)) return;
    if (!iz_api_sms_queue(app)) {
        iz_reply_error(r, "IZ503", NULL);
        return;
    }
    const char *id = iz_req_query(r, "id"), *st = iz_req_query(r, "status");
    int64_t status = 0;
    if (!id || !*id) {
        iz__reply_field(r, "id", NULL, "id (mesaj kimliği) bulunamadı.", "id is missing.");
        return;
    }
    if (!st || iz_parse_i64(st, 1, 16, &status) != 0 ||
        !(status == 1 || status == 2 || status == 4 || status == 8 || status == 16)) {
        iz__reply_field(r, "status", NULL, "status 1, 2, 4, 8 ya da 16 olmalıdır.",
                        "status must be 1, 2, 4, 8 or 16 (Kannel's dlr type).");
        return;
    }
    int rc = iz_sms_queue_dlr(iz_api_sms_queue(app), id, (int)status);
    if (rc == IZ_ENOTFOUND || rc == IZ_EINVAL) {
        iz_reply_error(r, "IZ404",
                       iz_req_english(r) ? "no such message" : "Böyle bir mesaj yok.");
        return;
    }
    if (rc != 0) {
        iz__reply_store_error(r, rc == IZ_EBUSY ? IZ_EBUSY : rc);
        return;
    }
    iz_reply_json(r, 200, json_pack("{s:s, s:I}", "messageId", id, "status", (json_int_t)status));
}
