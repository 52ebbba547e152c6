/*
 * fuzz_mo_parse.c - libFuzzer driver for the inbound SMS grammar
 * (iz_mo_parse). The input is lines: the last is the SMS text, every line
 * before it a brand keyword (at most 16; brand = line number % 3, so some
 * keywords share a brand and some do not).
 *
 * Invariants checked on every input:
 *   - the parse fails exactly on invalid UTF-8 or a text over the limit;
 *   - a status is set exactly when the verdict is a command; the keyword is
 *     an index into the list (whose folded words stand in the folded text),
 *     none, or ambiguous; only channel bits are set; unknown <= words, and
 *     words is the number of words of the folded text;
 *   - the text folded first parses the same (the parse reads only that);
 *   - the keywords in reverse order name the same brand;
 *   - without keywords, " iptal" added turns no action into RET, keeps RET,
 *     and turns an opt-in into both actions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "core/smsmo.h"
#include "core/smstext.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_KW 16

static bool same(const iz_mo_parse_t *a, const iz_mo_parse_t *b)
{
    return a->status == b->status && a->why == b->why && a->channels == b->channels &&
           a->all == b->all && a->keyword == b->keyword && a->words == b->words &&
           a->unknown == b->unknown;
}

static size_t count_words(const char *folded)
{
    size_t n = *folded ? 1 : 0;
    for (const char *p = folded; *p; p++)
        n += *p == ' ';
    return n;
}

/* Whether the folded keyword stands as whole words in the folded text. */
static bool has_words(const char *folded, const char *keyword)
{
    size_t tl = strlen(folded), kl = strlen(keyword);
    char *t = malloc(tl + 3), k[IZ_MO_KEYWORD_MAX + 3];
    if (!t) abort();
    t[0] = ' ';
    memcpy(t + 1, folded, tl);
    strcpy(t + 1 + tl, " ");
    char kf[IZ_MO_KEYWORD_MAX + 1];
    if (kl > IZ_MO_KEYWORD_MAX || iz_smstext_fold(keyword, kl, kf, sizeof kf) != 0) abort();
    k[0] = ' ';
    strcpy(k + 1, kf);
    strcat(k, " ");
    bool found = strstr(t, k) != NULL;
    free(t);
    return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* split into lines: keywords, then the text */
    char *buf = malloc(size + 1);
    if (!buf) abort();
    memcpy(buf, data, size);
    buf[size] = '\0';
    iz_mo_keyword_t kws[MAX_KW];
    size_t nkw = 0;
    char *text = buf;
    for (char *nl; (nl = memchr(text, '\n', size - (size_t)(text - buf))) && nkw < MAX_KW;) {
        *nl = '\0';
        kws[nkw] = (iz_mo_keyword_t){text, (int64_t)(nkw % 3)};
        nkw++;
        text = nl + 1;
    }
    size_t len = size - (size_t)(text - buf);

    iz_mo_parse_t p;
    int rc = iz_mo_parse(text, len, kws, nkw, &p);
    bool valid = iz_utf8_valid_prefix(text, len) == len;
    if (len > IZ_SMSTEXT_MAX_BYTES) {
        if (rc != IZ_ETOOBIG) abort();
    } else if (rc != (valid ? 0 : IZ_EINVAL)) {
        abort();
    }
    if ((p.status != IZ_STATUS_NONE) != (p.why == IZ_MO_COMMAND)) abort();
    if (p.status != IZ_STATUS_NONE && p.status != IZ_ONAY && p.status != IZ_RET) abort();
    if (p.keyword < IZ_MO_KEYWORD_AMBIGUOUS || p.keyword >= (int)nkw) abort();
    if (rc != 0) {
        if (p.status != IZ_STATUS_NONE || p.keyword != IZ_MO_KEYWORD_NONE || p.words) abort();
        free(buf);
        return 0;
    }
    unsigned chans = IZ_MO_CHANNEL(IZ_MESAJ) | IZ_MO_CHANNEL(IZ_ARAMA) | IZ_MO_CHANNEL(IZ_EPOSTA);
    if ((p.channels & ~chans) || p.unknown > p.words) abort();

    char *folded = malloc(len + 1);
    if (!folded || iz_smstext_fold(text, len, folded, len + 1) != 0) abort();
    if (p.words != count_words(folded)) abort();
    if (p.keyword >= 0 && !has_words(folded, kws[p.keyword].text)) abort();
    iz_mo_parse_t q;
    if (iz_mo_parse(folded, strlen(folded), kws, nkw, &q) != 0 || !same(&p, &q)) abort();

    iz_mo_keyword_t rev[MAX_KW];
    for (size_t k = 0; k < nkw; k++)
        rev[k] = kws[nkw - 1 - k];
    if (iz_mo_parse(text, len, rev, nkw, &q) != 0) abort();
    if (q.status != p.status || q.channels != p.channels || q.all != p.all ||
        q.unknown != p.unknown || (q.keyword < 0) != (p.keyword < 0) ||
        (q.keyword < 0 && q.keyword != p.keyword) ||
        (q.keyword >= 0 && rev[q.keyword].brand != kws[p.keyword].brand))
        abort();

    /* an opt-out word added, no keywords */
    if (len + 6 <= IZ_SMSTEXT_MAX_BYTES) {
        char *more = malloc(len + 7);
        if (!more) abort();
        memcpy(more, text, len);
        memcpy(more + len, " iptal", 7);
        iz_mo_parse_t a, b;
        if (iz_mo_parse(text, len, NULL, 0, &a) != 0 ||
            iz_mo_parse(more, len + 6, NULL, 0, &b) != 0)
            abort();
        bool had_optin =
            a.why == IZ_MO_BOTH_ACTIONS || a.why == IZ_MO_UNCLEAR_CONSENT || a.status == IZ_ONAY;
        if (had_optin ? b.why != IZ_MO_BOTH_ACTIONS : b.status != IZ_RET) abort();
        free(more);
    }
    free(folded);
    free(buf);
    return 0;
}
