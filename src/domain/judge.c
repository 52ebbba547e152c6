/*
 * judge.c - the send filter's verdicts (see domain.h): one recipient, a
 * list, a stream of lines.
 *
 * Every path runs the same batched look-up: recipients are normalized
 * (Turkish numbers in their plain shapes packed straight from the text,
 * core/recipient.h iz_phone_pack_raw, the rest through the full
 * normalization), then a batch's Turkish numbers go to the index in one
 * call (one read lock, slots computed and prefetched together), and the
 * other addresses (e-mail, foreign numbers) in another. Without an index
 * (a store-only tool) each key is asked of the store.
 */
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "core/recipient.h"
#include "domain/domain_int.h"

#define BATCH 4096 /* recipients judged per index call */

const char *iz_verdict_reason(iz_verdict_t v)
{
    static const char *const reasons[] = {[IZ_VERDICT_ALLOWED] = NULL,
                                          [IZ_VERDICT_NO_CONSENT] = "NO_CONSENT",
                                          [IZ_VERDICT_RET] = "RET",
                                          [IZ_VERDICT_INVALID] = "INVALID"};
    return (int)v >= 0 && (size_t)v < IZ_ARRAY_LEN(reasons) ? reasons[v] : NULL;
}

static iz_verdict_t of_status(const iz_judge_t *j, iz_status_t st)
{
    if (!j->commercial || st == IZ_ONAY) return IZ_VERDICT_ALLOWED;
    return st == IZ_RET ? IZ_VERDICT_RET : IZ_VERDICT_NO_CONSENT;
}

/* Normalize one recipient as written: 0 with *key the packed Turkish
 * number or 0 (then norm is the text key), norm filled and *normlen its
 * length; IZ_EINVAL when it is unusable. */
static int normalize(const iz_judge_t *j, const char *raw, size_t len,
                     char norm[IZ_RECIPIENT_MAX], unsigned long long *key, size_t *normlen)
{
    *key = 0;
    if (j->type != IZ_EPOSTA && (*key = iz_phone_pack_raw(raw, len)) != 0) {
        /* Every shape the fast path takes ends with the 10 national
         * digits: the E.164 form is "+90" and those. */
        memcpy(norm, "+90", 3);
        memcpy(norm + 3, raw + len - 10, 10);
        norm[13] = '\0';
        *normlen = 13;
        return 0;
    }
    const char *hcode = NULL;
    if (iz_recipient_normalize(raw, len, j->type, norm, &hcode) != 0) return IZ_EINVAL;
    if (j->type != IZ_EPOSTA) *key = iz_phone_pack(norm);
    *normlen = strlen(norm);
    return 0;
}

/* The statuses of n normalized recipients: keys[i] the packed number or 0,
 * texts[i] the normalized text (used when keys[i] is 0). st gets iz_status_t
 * values. pos is scratch room for n indexes. */
static int look_up(iz_domain_t *d, const iz_judge_t *j, const unsigned long long *keys,
                   const char *const *texts, size_t n, uint8_t *st, uint64_t *pk, uint32_t *pos,
                   const char **tx, uint8_t *tst)
{
    if (atomic_load(&d->stale)) return IZ_EBUSY; /* behind the other nodes: no stale verdict */
    if (!d->index) {
        for (size_t i = 0; i < n; i++) {
            iz_status_t s = IZ_STATUS_NONE;
            int rc = iz_store_consent_status(d->st, j->brand_id, j->rtype, j->type, texts[i], &s);
            if (rc != 0) return rc;
            st[i] = (uint8_t)s;
        }
        return 0;
    }
    size_t np = 0, nt = 0;
    for (size_t i = 0; i < n; i++)
        if (keys[i]) pk[np++] = keys[i];
    if (np) iz_index_get_phones(d->index, j->brand_id, j->type, j->rtype, pk, np, tst);
    /* Spread the phones' statuses back, and gather the texts. */
    size_t p = 0;
    for (size_t i = 0; i < n; i++) {
        if (keys[i]) {
            st[i] = tst[p++];
        } else {
            pos[nt] = (uint32_t)i;
            tx[nt++] = texts[i];
        }
    }
    if (nt) {
        iz_index_get_many(d->index, j->brand_id, j->type, j->rtype, tx, nt, tst);
        for (size_t t = 0; t < nt; t++)
            st[pos[t]] = tst[t];
    }
    return 0;
}

int iz_domain_judge(iz_domain_t *d, const iz_judge_t *j, const char *raw, size_t len,
                    char norm[IZ_RECIPIENT_MAX], iz_verdict_t *v)
{
    unsigned long long key;
    size_t nl;
    if (!raw || normalize(j, raw, len, norm, &key, &nl) != 0) {
        norm[0] = '\0';
        *v = IZ_VERDICT_INVALID;
        return 0;
    }
    if (!j->commercial) {
        *v = IZ_VERDICT_ALLOWED;
        return 0;
    }
    const char *text = norm;
    uint8_t st = 0, tst;
    uint64_t pk;
    uint32_t pos;
    const char *tx;
    int rc = look_up(d, j, &key, &text, 1, &st, &pk, &pos, &tx, &tst);
    if (rc == 0) *v = of_status(j, (iz_status_t)st);
    return rc;
}

/* ---- lists ------------------------------------------------------------------ */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Scratch room for the look-ups of one batch. */
typedef struct scratch {
    unsigned long long keys[BATCH];
    const char *texts[BATCH];
    uint8_t st[BATCH], tst[BATCH];
    uint64_t pk[BATCH];
    uint32_t pos[BATCH], idx[BATCH];
    const char *tx[BATCH];
} scratch_t;

int iz_domain_judge_list(iz_domain_t *d, const iz_judge_t *j, const char *const *raw,
                         const size_t *len, size_t n, bool drop_repeats, iz_judged_t *out)
{
    if (!d || !j || (n && (!raw || !len || !out))) return IZ_EINVAL;
    /* The repeat set: open addressing over the normalized forms. */
    size_t cap = 16;
    while (drop_repeats && cap < n * 2 + 16)
        cap *= 2;
    const char **seen = drop_repeats ? iz_xcalloc(cap, sizeof *seen) : NULL;
    scratch_t *sc = iz_xmalloc(sizeof *sc);
    size_t nb = 0;
    int rc = 0;
    for (size_t i = 0; i <= n && rc == 0; i++) {
        if (i < n) {
            iz_judged_t *o = &out[i];
            o->repeat = false;
            unsigned long long key = 0;
            size_t nl;
            if (!raw[i] || normalize(j, raw[i], len[i], o->norm, &key, &nl) != 0) {
                o->norm[0] = '\0';
                o->v = IZ_VERDICT_INVALID;
                continue;
            }
            if (seen) {
                size_t h = fnv1a(o->norm) & (cap - 1);
                while (seen[h] && strcmp(seen[h], o->norm) != 0)
                    h = (h + 1) & (cap - 1);
                if (seen[h]) {
                    o->repeat = true;
                    o->v = IZ_VERDICT_ALLOWED; /* answered at its first place */
                    continue;
                }
                seen[h] = o->norm;
            }
            if (!j->commercial) {
                o->v = IZ_VERDICT_ALLOWED;
                continue;
            }
            sc->keys[nb] = key;
            sc->texts[nb] = o->norm;
            sc->idx[nb++] = (uint32_t)i;
            if (nb < BATCH) continue;
        }
        if (nb == 0) continue;
        rc = look_up(d, j, sc->keys, sc->texts, nb, sc->st, sc->pk, sc->pos, sc->tx, sc->tst);
        for (size_t b = 0; rc == 0 && b < nb; b++)
            out[sc->idx[b]].v = of_status(j, (iz_status_t)sc->st[b]);
        nb = 0;
    }
    free(sc);
    free(seen);
    return rc;
}

/* ---- streams ---------------------------------------------------------------- */

#define CUT_SHOWN 64 /* bytes of an over-long line handed on */

struct iz_judge_stream {
    iz_domain_t *d;
    iz_judge_t j;
    iz_judge_line_fn fn;
    void *ctx;
    int rc;
    uint64_t allowed, blocked;
    /* the line being assembled across chunks */
    char line[IZ_INPUT_MAX + 1];
    size_t linelen;
    bool overlong;
    /* the batch: the lines' text in one buffer, their forms and keys */
    char *text;     /* BATCH * (IZ_INPUT_MAX + 8) bytes at most; lines packed */
    size_t textlen;
    size_t n;
    uint32_t off[BATCH], len[BATCH], normlen[BATCH];
    char (*norm)[IZ_RECIPIENT_MAX];
    bool invalid[BATCH];
    bool cut[BATCH]; /* an over-long line: len[] is what is shown of it */
    scratch_t sc;
};

#define TEXT_CAP ((size_t)BATCH * 64) /* typical lines; a batch ends early when full */

iz_judge_stream_t *iz_judge_stream_new(iz_domain_t *d, const iz_judge_t *j, iz_judge_line_fn fn,
                                       void *ctx)
{
    iz_judge_stream_t *s = iz_xcalloc(1, sizeof *s);
    s->d = d;
    s->j = *j;
    s->fn = fn;
    s->ctx = ctx;
    s->text = iz_xmalloc(TEXT_CAP + IZ_INPUT_MAX + 8);
    s->norm = iz_xmalloc(BATCH * sizeof *s->norm);
    return s;
}

void iz_judge_stream_free(iz_judge_stream_t *s)
{
    if (!s) return;
    free(s->text);
    free(s->norm);
    free(s);
}

void iz_judge_stream_counts(const iz_judge_stream_t *s, uint64_t *allowed, uint64_t *blocked)
{
    if (allowed) *allowed = s->allowed;
    if (blocked) *blocked = s->blocked;
}

/* Judge the batch and answer its lines in order. */
static void flush(iz_judge_stream_t *s)
{
    if (s->n == 0 || s->rc != 0) return;
    scratch_t *sc = &s->sc;
    size_t nl = 0; /* lines to look up */
    for (size_t i = 0; i < s->n; i++) {
        const char *line = s->text + s->off[i];
        unsigned long long key = 0;
        size_t normlen = 0;
        s->invalid[i] =
            s->cut[i] || normalize(&s->j, line, s->len[i], s->norm[i], &key, &normlen) != 0;
        s->normlen[i] = (uint32_t)normlen;
        if (s->invalid[i] || !s->j.commercial) continue;
        sc->keys[nl] = key;
        sc->texts[nl] = s->norm[i];
        sc->idx[nl++] = (uint32_t)i;
    }
    if (nl) {
        s->rc = look_up(s->d, &s->j, sc->keys, sc->texts, nl, sc->st, sc->pk, sc->pos, sc->tx,
                        sc->tst);
        if (s->rc != 0) return;
    }
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        const char *line = s->text + s->off[i];
        iz_verdict_t v;
        if (s->invalid[i]) {
            v = IZ_VERDICT_INVALID;
        } else if (!s->j.commercial) {
            v = IZ_VERDICT_ALLOWED;
        } else {
            v = of_status(&s->j, (iz_status_t)sc->st[k++]);
        }
        if (v == IZ_VERDICT_ALLOWED)
            s->allowed++;
        else
            s->blocked++;
        size_t shown = s->len[i]; /* an over-long line's cut may hold a NUL: not strlen */
        const char *norm = v == IZ_VERDICT_INVALID ? NULL : s->norm[i];
        s->fn(s->ctx, line, shown, norm, norm ? s->normlen[i] : 0, v);
    }
    s->n = 0;
    s->textlen = 0;
}

/* One complete line (without its newline). */
static void add_line(iz_judge_stream_t *s, const char *p, size_t len, bool overlong)
{
    while (len && (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    while (len && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    if (len == 0 && !overlong) return;
    if (s->textlen > TEXT_CAP || s->n == BATCH) flush(s);
    if (s->rc != 0) return;
    char *dst = s->text + s->textlen;
    s->off[s->n] = (uint32_t)s->textlen;
    if (overlong) {
        /* Too long to be any address: INVALID, handed on cut short and
         * marked so (cut tells flush). */
        size_t k = len < CUT_SHOWN ? len : CUT_SHOWN;
        while (k > 0 && k < len && ((unsigned char)p[k] & 0xC0) == 0x80)
            k--; /* not through a UTF-8 sequence (p[len] is past the line) */
        memcpy(dst, p, k);
        memcpy(dst + k, "...", 4);
        s->len[s->n] = (uint32_t)(k + 3);
        s->cut[s->n] = true;
        s->textlen += k + 4;
    } else {
        memcpy(dst, p, len);
        dst[len] = '\0';
        s->len[s->n] = (uint32_t)len;
        s->cut[s->n] = false;
        s->textlen += len + 1;
    }
    s->n++;
}

int iz_judge_stream_feed(iz_judge_stream_t *s, const char *data, size_t len)
{
    while (len > 0 && s->rc == 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;
        if (s->linelen == 0 && nl && !s->overlong && take <= IZ_INPUT_MAX) {
            /* The whole line is in this chunk: no copy into line[]. */
            add_line(s, data, take, false);
        } else {
            if (!s->overlong) {
                size_t room = IZ_INPUT_MAX - s->linelen;
                if (take > room) {
                    memcpy(s->line + s->linelen, data, room);
                    s->linelen += room;
                    s->overlong = true;
                } else {
                    memcpy(s->line + s->linelen, data, take);
                    s->linelen += take;
                }
            }
            if (!nl) return s->rc;
            add_line(s, s->line, s->linelen, s->overlong);
            s->linelen = 0;
            s->overlong = false;
        }
        data = nl + 1;
        len -= take + 1;
    }
    return s->rc;
}

int iz_judge_stream_end(iz_judge_stream_t *s)
{
    if (s->rc == 0 && (s->linelen || s->overlong)) {
        add_line(s, s->line, s->linelen, s->overlong);
        s->linelen = 0;
        s->overlong = false;
    }
    flush(s);
    return s->rc;
}
