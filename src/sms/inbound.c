/*
 * inbound.c - mobile-originated SMS (see inbound.h).
 */
#include "sms/inbound.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/iz.h"
#include "core/recipient.h"
#include "core/trtime.h"
#include "core/utf8.h"
#include "core/smsmo.h"
#include "core/smstext.h"
#include "sms/outbound.h"
#include "sys/crypto.h"
#include "sys/log.h"

/* ---- what became of the messages, for /metrics ------------------------------------ */

static const char *const outcomes[IZ_INBOUND_OUTCOMES] = {
    "APPLIED", "REFUSED", "HELP", "NO_BRAND", "NO_NUMBER", "BAD_SENDER", "REPLAYED"};
static _Atomic uint64_t counts[IZ_INBOUND_OUTCOMES];

static void count(const char *outcome)
{
    for (size_t i = 0; i < IZ_INBOUND_OUTCOMES; i++)
        if (strcmp(outcome, outcomes[i]) == 0) {
            atomic_fetch_add(&counts[i], 1);
            return;
        }
}

size_t iz_inbound_counts(const char *const **names, uint64_t out[IZ_INBOUND_OUTCOMES])
{
    *names = outcomes;
    for (size_t i = 0; i < IZ_INBOUND_OUTCOMES; i++)
        out[i] = atomic_load(&counts[i]);
    return IZ_INBOUND_OUTCOMES;
}

/* ---- the same message id twice ------------------------------------------------ */

/* A message is looked up and stored under the lock of its id's stripe, so
 * that two deliveries of one id at the same time are applied once. */
#define STRIPES 64
static pthread_mutex_t stripes[STRIPES] = {[0 ... STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER};

static pthread_mutex_t *stripe_of(const char *gateway, const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = gateway; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return &stripes[h % STRIPES];
}

/* ---- numbers ----------------------------------------------------------------- */

int iz_inbound_number(const char *in, char *out, size_t n)
{
    char d[32];
    size_t k = 0;
    for (const char *p = in; *p && k + 1 < sizeof d; p++)
        if (*p >= '0' && *p <= '9') d[k++] = *p;
    d[k] = '\0';
    /* 90850... and 850... are 0850... */
    const char *rest = k == 12 && strncmp(d, "90850", 5) == 0 ? d + 2
                       : k == 10 && strncmp(d, "850", 3) == 0 ? d
                                                               : NULL;
    int w = rest ? snprintf(out, n, "0%s", rest) : snprintf(out, n, "%s", d);
    return k == 0 || w < 0 || (size_t)w >= n ? IZ_EINVAL : 0;
}

/* ---- the brands of a number, cached -------------------------------------------- */

/* Routing reads every brand on a number with its keywords: on a short
 * number many brands share, a few queries each. They are kept for
 * ROUTE_TTL_MS, so a change of keywords or numbers (the CLI, the API,
 * another node) is seen within that time. */
#define ROUTE_SLOTS 64
#define ROUTE_TTL_MS 1000

typedef struct route {
    const iz_store_t *st;
    char number[20];
    int64_t until_ms;
    iz_brand_t *brands;
    iz_brand_sms_t *sms;
    size_t n;
} route_t;

static pthread_mutex_t route_mu = PTHREAD_MUTEX_INITIALIZER;
static route_t routes[ROUTE_SLOTS];

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The brands on number (copies the caller frees). */
static int brands_on(iz_store_t *st, const char *number, iz_brand_t **brands,
                     iz_brand_sms_t **sms, size_t *n)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = number; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    route_t *slot = &routes[h % ROUTE_SLOTS];
    int64_t now = mono_ms();
    pthread_mutex_lock(&route_mu);
    if (slot->st == st && strcmp(slot->number, number) == 0 && slot->until_ms > now) {
        *n = slot->n;
        *brands = iz_xmalloc((slot->n ? slot->n : 1) * sizeof **brands);
        *sms = iz_xmalloc((slot->n ? slot->n : 1) * sizeof **sms);
        if (slot->n) {
            memcpy(*brands, slot->brands, slot->n * sizeof **brands);
            memcpy(*sms, slot->sms, slot->n * sizeof **sms);
        }
        pthread_mutex_unlock(&route_mu);
        return 0;
    }
    pthread_mutex_unlock(&route_mu);
    int rc = iz_store_brands_by_number(st, number, brands, sms, n);
    if (rc != 0) return rc;
    route_t fresh = {.st = st, .until_ms = now + ROUTE_TTL_MS, .n = *n};
    iz_strlcpy(fresh.number, number, sizeof fresh.number);
    fresh.brands = iz_xmalloc((*n ? *n : 1) * sizeof *fresh.brands);
    fresh.sms = iz_xmalloc((*n ? *n : 1) * sizeof *fresh.sms);
    if (*n) {
        memcpy(fresh.brands, *brands, *n * sizeof *fresh.brands);
        memcpy(fresh.sms, *sms, *n * sizeof *fresh.sms);
    }
    pthread_mutex_lock(&route_mu);
    route_t old = *slot;
    *slot = fresh;
    pthread_mutex_unlock(&route_mu);
    free(old.brands);
    free(old.sms);
    return 0;
}

void iz_inbound_routes_forget(void)
{
    pthread_mutex_lock(&route_mu);
    for (size_t i = 0; i < ROUTE_SLOTS; i++)
        routes[i].until_ms = 0;
    pthread_mutex_unlock(&route_mu);
}

/* ---- replies ------------------------------------------------------------------- */

static const char DEFAULT_ONAY[] = "{brand} için {channels} izniniz kaydedildi. Geri almak için "
                                   "{ret} yazıp {number} numarasına gönderin.";
static const char DEFAULT_RET[] = "{brand} için {channels} izniniz kaldırıldı. Yeniden izin vermek "
                                  "için {onay} yazıp {number} numarasına gönderin.";
static const char DEFAULT_HELP[] = "{brand}: İzin vermek için {onay}, izninizi geri almak için "
                                   "{ret} yazıp {number} numarasına gönderin.";
static const char NO_BRAND[] = "Marka bulunamadı. İzin vermek için ONAY MARKA, izninizi geri "
                               "almak için RET MARKA yazıp {number} numarasına gönderin "
                               "(MARKA yerine markanın SMS anahtar kelimesini yazın).";
static const char FAILED[] = "{brand}: Talebiniz şu an işlenemedi. Lütfen daha sonra yeniden "
                             "deneyin.";

/* What a reply's placeholders stand for. */
typedef struct reply_vars {
    const char *brand, *keyword, *number;
    char channels[64];
} reply_vars_t;

/* Fill a template: {brand} {channels} {keyword} {number} {ret} {onay}
 * ("RET ACME", or "RET" when the brand has its own number and no keyword).
 * The reply is cut at a character when it would not fit. */
static void fill(const char *tpl, const reply_vars_t *v, char *out, size_t n)
{
    char ret[96], onay[96];
    snprintf(ret, sizeof ret, "RET%s%s", v->keyword[0] ? " " : "", v->keyword);
    snprintf(onay, sizeof onay, "ONAY%s%s", v->keyword[0] ? " " : "", v->keyword);
    const struct {
        const char *name, *value;
    } vars[] = {{"{brand}", v->brand}, {"{channels}", v->channels}, {"{keyword}", v->keyword},
                {"{number}", v->number}, {"{ret}", ret},            {"{onay}", onay}};
    size_t o = 0;
    for (const char *p = tpl; *p && o + 1 < n;) {
        const char *value = NULL;
        size_t used = 0;
        for (size_t i = 0; i < IZ_ARRAY_LEN(vars) && !value; i++)
            if (strncmp(p, vars[i].name, strlen(vars[i].name)) == 0) {
                value = vars[i].value;
                used = strlen(vars[i].name);
            }
        if (!value) {
            out[o++] = *p++;
            continue;
        }
        size_t len = strlen(value);
        if (o + len + 1 > n) len = n - 1 - o;
        memcpy(out + o, value, len);
        o += len;
        p += used;
    }
    out[o] = '\0';
    o = iz_utf8_valid_prefix(out, o); /* a character cut at the end goes */
    out[o] = '\0';
}

/* "SMS", "SMS ve arama", "SMS, arama ve e-posta". */
static void channel_words(unsigned types, char *out, size_t n)
{
    const char *w[3];
    size_t k = 0;
    if (types & IZ_MO_CHANNEL(IZ_MESAJ)) w[k++] = "SMS";
    if (types & IZ_MO_CHANNEL(IZ_ARAMA)) w[k++] = "arama";
    if (types & IZ_MO_CHANNEL(IZ_EPOSTA)) w[k++] = "e-posta";
    out[0] = '\0';
    for (size_t i = 0; i < k; i++) {
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%s", i == 0 ? "" : i + 1 == k ? " ve " : ", ", w[i]);
    }
}

/* ---- taking a message --------------------------------------------------------------- */

typedef struct take {
    iz_inbound_t *msg;
    iz_sms_queue_t *reply_q; /* queue the reply in the message's transaction, or NULL */
    const iz_brand_t *brand;
    const iz_brand_sms_t *sms;
    iz_mo_parse_t parse;
    iz_record_t *recs;
    size_t nrec;
    reply_vars_t vars;
} take_t;

/* Store the message and, when izin sends the reply itself, queue the
 * reply in the same transaction: it goes out once, whatever happens. A
 * reply that cannot be sent (a sender that is no phone number) is left
 * out; the message is kept all the same. */
static int add_with_reply(iz_store_t *st, void *arg)
{
    take_t *t = arg;
    iz_inbound_t *m = t->msg;
    int rc = iz_store_inbound_add(st, m);
    if (rc != 0 || !t->reply_q || !m->reply[0]) return rc;
    rc = iz_sms_queue_reply(t->reply_q, t->brand ? t->brand->account_id : 0, m->brand_id,
                            m->receiver, m->sender, m->reply);
    if (rc == IZ_EINVAL) {
        iz_logf(IZ_LOG_WARN, "sms", "the reply to an inbound SMS cannot be sent",
                "id=%s outcome=%s", m->msg_id, m->outcome);
        rc = 0;
    }
    return rc;
}

/* Inside the transaction of the changes: their outcome, the reply, and
 * the message. */
static int store_message(iz_store_t *st, void *arg)
{
    take_t *t = arg;
    iz_inbound_t *m = t->msg;
    if (t->nrec > 0) {
        bool done = true;
        const char *code = NULL;
        for (size_t i = 0; i < t->nrec; i++) {
            const iz_record_t *r = &t->recs[i];
            bool same = r->rc == IZ_ERULE && r->hcode && strcmp(r->hcode, "H174") == 0;
            if (r->rc == 0 || r->rc == IZ_REPEAT || same) continue;
            done = false;
            if (!code)
                code = r->rc == IZ_ERULE && r->hcode           ? r->hcode
                       : r->rc == IZ_EINVAL && r->errs.n > 0 ? r->errs.e[0].code
                                                             : iz_strerror(r->rc);
        }
        bool ret = t->parse.status == IZ_RET;
        const char *tpl = !done ? FAILED
                          : ret ? (t->sms->reply_ret[0] ? t->sms->reply_ret : DEFAULT_RET)
                                : (t->sms->reply_onay[0] ? t->sms->reply_onay : DEFAULT_ONAY);
        iz_strlcpy(m->outcome, done ? "APPLIED" : "REFUSED", sizeof m->outcome);
        char detail[160];
        snprintf(detail, sizeof detail, "%s %s%s%s", ret ? "RET" : "ONAY", t->vars.channels,
                 code ? " " : "", code ? code : "");
        iz_strlcpy(m->detail, detail, sizeof m->detail);
        fill(tpl, &t->vars, m->reply, sizeof m->reply);
    }
    return add_with_reply(st, t);
}

/* The help reply, nothing changed. */
static void help(take_t *t, const char *outcome, const char *detail)
{
    iz_inbound_t *m = t->msg;
    iz_strlcpy(m->outcome, outcome, sizeof m->outcome);
    iz_strlcpy(m->detail, detail, sizeof m->detail);
    const char *tpl = !t->brand                 ? NO_BRAND
                      : t->sms->reply_help[0] ? t->sms->reply_help
                                              : DEFAULT_HELP;
    fill(tpl, &t->vars, m->reply, sizeof m->reply);
}

/* The evidence of the changes: the message, as JSON text. A text too long
 * to fit is named by its SHA-256 (the message is kept whole with its id). */
static char *evidence_of(const iz_inbound_t *m)
{
    char when[IZ_DATETIME_LEN];
    iz_tr_format(m->received_ms / 1000, when);
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s}", "gateway", m->gateway, "messageId",
                           m->msg_id, "from", m->sender, "to", m->receiver, "receivedAt", when);
    if (m->smsc[0]) json_object_set_new(ev, "smsc", json_string(m->smsc));
    json_object_set_new(ev, "text", json_string(m->text));
    char *s = json_dumps(ev, JSON_COMPACT);
    if (s && strlen(s) >= IZ_EVIDENCE_MAX) {
        free(s);
        char h[IZ_SHA256_HEX];
        iz_sha256_hex(m->text, strlen(m->text), h);
        json_object_del(ev, "text");
        json_object_set_new(ev, "textSha256", json_string(h));
        s = json_dumps(ev, JSON_COMPACT);
    }
    json_decref(ev);
    if (!s) iz_oom();
    return s;
}

/* Route, read and record one new message (under its id's lock). */
static int take_new(iz_domain_t *d, iz_inbound_t *m, iz_sms_queue_t *reply_q)
{
    iz_store_t *st = iz_domain_store(d);
    take_t t = {.msg = m, .reply_q = reply_q};
    iz_brand_t *brands = NULL;
    iz_brand_sms_t *sms = NULL;
    size_t nb = 0;
    char number[20];
    int rc = 0;
    if (iz_inbound_number(m->receiver, number, sizeof number) != 0) {
        iz_strlcpy(m->outcome, "NO_NUMBER", sizeof m->outcome);
        return iz_store_inbound_add(st, m);
    }
    if ((rc = brands_on(st, number, &brands, &sms, &nb)) != 0) return rc;
    t.vars = (reply_vars_t){.brand = "", .keyword = "", .number = number};
    iz_brand_t *own = NULL;
    for (size_t i = 0; i < nb; i++)
        if (strcmp(brands[i].subscriber_number, number) == 0) {
            own = &brands[i];
            t.sms = &sms[i];
        }
    /* Every keyword of the brands on this number, for the grammar. */
    iz_mo_keyword_t kws[64];
    size_t owner[64], nk = 0;
    for (size_t i = 0; i < nb; i++)
        for (size_t k = 0; k < sms[i].nkeywords && nk < IZ_ARRAY_LEN(kws); k++) {
            kws[nk] = (iz_mo_keyword_t){.text = sms[i].keywords[k], .brand = (int64_t)i};
            owner[nk++] = i;
        }
    /* Text the grammar cannot read (too long) is help. */
    (void)iz_mo_parse(m->text, strlen(m->text), kws, nk, &t.parse);
    if (own) {
        t.brand = own; /* its own number: the keyword is not needed */
    } else if (t.parse.keyword >= 0) {
        t.brand = &brands[owner[t.parse.keyword]];
        t.sms = &sms[owner[t.parse.keyword]];
    }
    if (t.brand) {
        t.vars.brand = t.brand->name;
        t.vars.keyword = own && !t.brand->keyword[0] ? "" : t.brand->keyword;
        m->brand_id = t.brand->id;
    }
    char sender[IZ_PHONE_MAX];
    const char *hcode = NULL;
    /* A phone number has no e-mail channel: none named, or all, is SMS
     * and calls. */
    const unsigned phone = IZ_MO_CHANNEL(IZ_MESAJ) | IZ_MO_CHANNEL(IZ_ARAMA);
    unsigned types = t.parse.all || !t.parse.channels ? phone : t.parse.channels & phone;
    channel_words(types, t.vars.channels, sizeof t.vars.channels);

    if (nb == 0) {
        iz_strlcpy(m->outcome, "NO_NUMBER", sizeof m->outcome);
    } else if (!t.brand) {
        help(&t, "NO_BRAND", t.parse.keyword == IZ_MO_KEYWORD_AMBIGUOUS ? "two brands" : "");
    } else if (t.parse.status != IZ_ONAY && t.parse.status != IZ_RET) {
        help(&t, "HELP", iz_mo_why_name(t.parse.why));
    } else if (types == 0) {
        help(&t, "HELP", "no phone channel");
    } else if (iz_phone_normalize(m->sender, strlen(m->sender), sender, &hcode) != 0) {
        iz_strlcpy(m->outcome, "BAD_SENDER", sizeof m->outcome);
        iz_strlcpy(m->detail, hcode ? hcode : "", sizeof m->detail);
    } else {
        /* One change a channel: origin SMS, source HS_MESAJ, dated when it
         * was received, the message as evidence. */
        char date[IZ_DATETIME_LEN];
        iz_tr_format(m->received_ms / 1000, date);
        char *ev = evidence_of(m);
        const char *status = t.parse.status == IZ_RET ? "RET" : "ONAY";
        iz_record_t recs[2];
        memset(recs, 0, sizeof recs);
        static const char *const names[] = {"MESAJ", "ARAMA"};
        const unsigned bits[] = {IZ_MO_CHANNEL(IZ_MESAJ), IZ_MO_CHANNEL(IZ_ARAMA)};
        for (size_t i = 0; i < 2; i++) {
            if (!(types & bits[i])) continue;
            iz_record_t *r = &recs[t.nrec++];
            r->raw.recipient = (iz_field_t){IZ_FIELD_STRING, sender, strlen(sender)};
            r->raw.type = (iz_field_t){IZ_FIELD_STRING, names[i], strlen(names[i])};
            r->raw.status = (iz_field_t){IZ_FIELD_STRING, status, strlen(status)};
            r->raw.source = (iz_field_t){IZ_FIELD_STRING, "HS_MESAJ", 8};
            r->raw.consent_date = (iz_field_t){IZ_FIELD_STRING, date, strlen(date)};
            r->origin = IZ_ORIGIN_SMS;
            r->evidence = ev;
        }
        t.recs = recs;
        rc = iz_domain_record_then(d, t.brand, (int64_t)time(NULL), recs, t.nrec, store_message,
                                   &t);
        free(ev);
        free(brands);
        free(sms);
        return rc;
    }
    /* Nothing to record but the message (and its reply). */
    rc = reply_q && m->reply[0] ? iz_store_consent_apply_batch_then(st, NULL, 0, add_with_reply, &t)
                                : iz_store_inbound_add(st, m);
    free(brands);
    free(sms);
    return rc;
}

static int copy(char *dst, size_t n, const char *src)
{
    return iz_strlcpy(dst, src ? src : "", n) == 0 ? 0 : IZ_EINVAL;
}

int iz_inbound_take(iz_domain_t *d, const iz_mo_t *mo, iz_sms_queue_t *reply_q, iz_inbound_t *out,
                    bool *replay)
{
    *replay = false;
    memset(out, 0, sizeof *out);
    if (!mo->id || !*mo->id || !mo->from || !*mo->from || !mo->to || !*mo->to || !mo->gateway ||
        (mo->text_len && !mo->text))
        return IZ_EINVAL;
    if (copy(out->gateway, sizeof out->gateway, mo->gateway) != 0 ||
        copy(out->msg_id, sizeof out->msg_id, mo->id) != 0 ||
        copy(out->sender, sizeof out->sender, mo->from) != 0 ||
        copy(out->receiver, sizeof out->receiver, mo->to) != 0 ||
        copy(out->smsc, sizeof out->smsc, mo->smsc) != 0 || mo->text_len >= sizeof out->text ||
        iz_utf8_valid_prefix(mo->text, mo->text_len) != mo->text_len ||
        memchr(mo->text, '\0', mo->text_len))
        return IZ_EINVAL;
    memcpy(out->text, mo->text, mo->text_len);
    out->text[mo->text_len] = '\0';
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    out->received_ms = mo->received_ms > 0 && mo->received_ms <= now ? mo->received_ms : now;

    iz_store_t *st = iz_domain_store(d);
    pthread_mutex_t *mu = stripe_of(out->gateway, out->msg_id);
    pthread_mutex_lock(mu);
    iz_inbound_t *old = iz_xmalloc(sizeof *old);
    int rc = iz_store_inbound_get(st, out->gateway, out->msg_id, old);
    if (rc == 0) {
        *out = *old;
        *replay = true;
    } else if (rc == IZ_ENOTFOUND) {
        rc = take_new(d, out, reply_q);
        if (rc == IZ_EEXIST) {
            /* Another process stored it first: its answer is the answer. */
            rc = iz_store_inbound_get(st, out->gateway, out->msg_id, old);
            if (rc == 0) {
                *out = *old;
                *replay = true;
            }
        }
    }
    pthread_mutex_unlock(mu);
    free(old);
    if (rc == 0) count(*replay ? "REPLAYED" : out->outcome);
    if (rc == 0 && !*replay && reply_q && out->reply[0]) iz_sms_queue_wake(reply_q);
    return rc;
}
