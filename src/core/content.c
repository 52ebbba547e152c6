/*
 * content.c - a commercial SMS's footer (identity, contact, opt-out) and the
 * commercial wording of an informational one (see content.h).
 *
 * Names and numbers are compared on folded text (smstext's folding: Turkish
 * letters to their ASCII base, punctuation to spaces), as whole words, so
 * "ACME Ticaret A.Ş." in the settings is found in "acme ticaret a.s.'den".
 */
#include "core/content.h"

#include <stdint.h>
#include <string.h>

#include "core/iz.h"
#include "core/utf8.h"

/* ---- the word list ------------------------------------------------------- */

/* What needs consent, from the regulation's and the product brief's list
 * (campaign, discount, gift, greeting and celebration, survey, promotion,
 * offer, draw, coupon, points), folded. Each word of an entry is a stem the
 * word of the text must start with; an entry of several words matches that
 * many words in a row. */
static const char *const WORDS[] = {
    "kampanya",   "indirim",       "firsat",       "hediye",     "promosyon",    "cekilis",
    "kupon",      "anket",         "kutlar",       "kutlu",      "kutlama",      "tebrik",
    "bayraminiz", "iyi bayramlar", "mutlu yillar", "iyi yillar", "yeni yiliniz", "puan kazan",
    "kazandiniz", "ozel teklif",   "avantaj",      "yeni sezon", "sezon sonu",   "kacirma",
    "campaign",   "discount",      "promo",        "gift",       "coupon",       "survey",
};

/* Words after a percentage that make it a rate, not an offer: "%20 KDV". */
static const char *const RATE_WORDS[] = {"kdv", "otv", "faiz", "vergi", "gecikme", "stopaj"};

/* ---- folding helpers ----------------------------------------------------- */

/* A byte that separates words: ASCII that is neither a letter, a digit nor
 * an apostrophe (which joins a suffix: "Kampanya'mız"). '%' separates and
 * is a word of its own. */
static bool sep(unsigned char c)
{
    if (c >= 0x80) return false;
    return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '\'');
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Whether needle (folded, non-empty) stands in hay (folded) as whole words. */
static bool has_words(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0) return false;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        if ((p == hay || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ')) return true;
    return false;
}

/* Whether text names value: folded, as whole words. */
static bool names(const char *folded_text, const char *value)
{
    char f[512];
    if (!value || !*value || iz_smstext_fold(value, strlen(value), f, sizeof f) != 0) return false;
    return has_words(folded_text, f);
}

/* The digits of s into out (at most max), how many; 0 when more. */
static size_t digits_of(const char *s, char *out, size_t max)
{
    size_t n = 0;
    for (; *s; s++)
        if (*s >= '0' && *s <= '9') {
            if (n == max) return 0;
            out[n++] = *s;
        }
    return n;
}

/* Whether two digit strings are one number: the same, or, both of at least
 * 10 digits, the same last 10 (0212 ... and +90 212 ...). */
static bool same_number(const char *a, size_t na, const char *b, size_t nb)
{
    if (na == nb && memcmp(a, b, na) == 0) return true;
    return na >= 10 && nb >= 10 && memcmp(a + na - 10, b + nb - 10, 10) == 0;
}

/* Whether text holds the number digits (nd digits) as a run of its own,
 * grouped in any way: digits with single spaces, '-', '.', '/', '(' or ')'
 * between them, a leading '+'. */
static bool has_number(const char *text, size_t len, const char *digits, size_t nd)
{
    char run[32];
    size_t i = 0;
    while (i < len) {
        if (!(text[i] >= '0' && text[i] <= '9')) {
            i++;
            continue;
        }
        if (i > 0 && ((text[i - 1] >= 'a' && text[i - 1] <= 'z') ||
                      (text[i - 1] >= 'A' && text[i - 1] <= 'Z'))) {
            while (i < len && text[i] >= '0' && text[i] <= '9')
                i++;
            continue;
        }
        size_t n = 0;
        bool over = false;
        while (i < len) {
            if (text[i] >= '0' && text[i] <= '9') {
                if (n < sizeof run)
                    run[n++] = text[i];
                else
                    over = true;
                i++;
            } else {
                /* At most two separators between digits: "0 (212) 555-0123". */
                size_t k = i;
                while (k < len && k < i + 2 && strchr(" -./()", text[k]))
                    k++;
                if (k == i || k == len || !(text[k] >= '0' && text[k] <= '9')) break;
                i = k;
            }
        }
        if (!over && same_number(run, n, digits, nd)) return true;
    }
    return false;
}

/* ---- commercial wording -------------------------------------------------- */

#define TOKENS_MAX (IZ_SMSTEXT_MAX_BYTES / 2 + 1)

typedef struct token {
    size_t at, len; /* in the text */
    const char *fw; /* its first folded word ("" for none) */
} token_t;

typedef struct words {
    char (*out)[IZ_CONTENT_WORD_MAX];
    size_t max, n;
} words_t;

/* Add the text's bytes [from, to) to w once (cut at a character boundary
 * when too long). */
static void add_word(words_t *w, const char *text, size_t from, size_t to)
{
    if (w->n == w->max) return;
    size_t n = to - from;
    if (n >= IZ_CONTENT_WORD_MAX) n = iz_utf8_valid_prefix(text + from, IZ_CONTENT_WORD_MAX - 1);
    char word[IZ_CONTENT_WORD_MAX];
    memcpy(word, text + from, n);
    word[n] = '\0';
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->out[i], word) == 0) return;
    memcpy(w->out[w->n++], word, n + 1);
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] >= '0' && s[i] <= '9')) return false;
    return true;
}

size_t iz_content_commercial_words(const char *text, size_t len, char (*out)[IZ_CONTENT_WORD_MAX],
                                   size_t max)
{
    if (len > IZ_SMSTEXT_MAX_BYTES || iz_utf8_valid_prefix(text, len) != len) return 0;
    static _Thread_local token_t tok[TOKENS_MAX];
    static _Thread_local char fbuf[IZ_SMSTEXT_MAX_BYTES + TOKENS_MAX + 1];
    size_t nt = 0, fused = 0;
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len && nt < TOKENS_MAX;) {
        if (s[i] == '%') {
            tok[nt++] = (token_t){i, 1, "%"};
            i++;
            continue;
        }
        if (sep(s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && !sep(s[j]) && s[j] != '%')
            j++;
        char *f = fbuf + fused;
        if (iz_smstext_fold(text + i, j - i, f, j - i + 1) != 0) f[0] = '\0';
        char *sp = strchr(f, ' ');
        if (sp) *sp = '\0';
        fused += strlen(f) + 1;
        tok[nt++] = (token_t){i, j - i, f};
        i = j;
    }
    words_t w = {out, max, 0};
    for (size_t i = 0; i < nt; i++) {
        /* A percentage: "%20", "% 20", "20%", unless a rate follows. */
        if (tok[i].fw[0] == '%') {
            size_t num = SIZE_MAX, next = SIZE_MAX;
            if (i + 1 < nt && all_digits(text + tok[i + 1].at, tok[i + 1].len))
                num = i + 1, next = i + 2;
            else if (i > 0 && all_digits(text + tok[i - 1].at, tok[i - 1].len) &&
                     tok[i - 1].at + tok[i - 1].len == tok[i].at)
                num = i - 1, next = i + 1;
            if (num == SIZE_MAX) continue;
            /* A rate word right after it or right before it. */
            size_t a = num < i ? num : i, b = num < i ? i : num;
            bool rate = false;
            for (size_t k = 0; k < IZ_ARRAY_LEN(RATE_WORDS); k++)
                rate = rate || (next < nt && starts(tok[next].fw, RATE_WORDS[k])) ||
                       (a > 0 && starts(tok[a - 1].fw, RATE_WORDS[k]));
            if (!rate) add_word(&w, text, tok[a].at, tok[b].at + tok[b].len);
            continue;
        }
        for (size_t e = 0; e < IZ_ARRAY_LEN(WORDS); e++) {
            /* Each word of the entry against the words from i on. */
            const char *p = WORDS[e];
            size_t k = i;
            bool ok = true;
            while (ok && *p) {
                size_t wl = strcspn(p, " ");
                ok = k < nt && tok[k].fw[0] && strncmp(tok[k].fw, p, wl) == 0;
                k++;
                p += wl;
                if (*p == ' ') p++;
            }
            if (ok) {
                add_word(&w, text, tok[i].at, tok[k - 1].at + tok[k - 1].len);
                break;
            }
        }
    }
    return w.n;
}

/* ---- the footer ---------------------------------------------------------- */

const char *iz_content_name(unsigned bit)
{
    return bit == IZ_CONTENT_IDENTITY  ? "identity"
           : bit == IZ_CONTENT_CONTACT ? "contact"
           : bit == IZ_CONTENT_OPTOUT  ? "optout"
                                       : NULL;
}

bool iz_content_mersis_ok(const char *s)
{
    return s && strlen(s) == 16 && strspn(s, "0123456789") == 16;
}

bool iz_content_field_ok(const char *s, size_t max)
{
    if (!s) return false;
    size_t n = strlen(s);
    if (n >= max || iz_utf8_valid_prefix(s, n) != n) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < ' ' || s[i] == 0x7f) return false;
    return true;
}

static bool set(const char *s)
{
    return s && *s;
}

/* Append s to out (len so far); false when it does not fit. */
static bool put(iz_content_t *out, const char *s)
{
    size_t n = strlen(s);
    if (out->len + n >= sizeof out->text) return false;
    memcpy(out->text + out->len, s, n + 1);
    out->len += n;
    return true;
}

/* Append a sentence: a space before it when something precedes, a full
 * stop after it unless it ends with one. */
static bool sentence(iz_content_t *out, const char *a, const char *b, const char *c)
{
    if (out->len > 0 && !put(out, " ")) return false;
    if (!put(out, a) || (b && !put(out, b)) || (c && !put(out, c))) return false;
    return out->text[out->len - 1] == '.' || put(out, ".");
}

int iz_content_build(const iz_content_brand_t *b, const char *text, size_t len, bool commercial,
                     unsigned flags, iz_content_t *out)
{
    memset(out, 0, sizeof *out);
    if (len > IZ_SMSTEXT_MAX_BYTES) return IZ_ETOOBIG;
    if (memchr(text, '\0', len) || iz_utf8_valid_prefix(text, len) != len) return IZ_EINVAL;
    memcpy(out->text, text, len);
    out->text[len] = '\0';
    out->len = len;
    if (!commercial) {
        out->nwords = iz_content_commercial_words(text, len, out->words, IZ_CONTENT_WORDS_MAX);
    } else {
        char ins[IZ_OPTOUT_MAX];
        int rc = iz_smstext_optout(b->keyword, b->short_number, b->subscriber_number, ins);
        if (rc == IZ_ENOTFOUND)
            out->missing = IZ_CONTENT_OPTOUT;
        else if (rc != 0)
            return rc;
        else if (!(set(b->trade_name) && iz_content_mersis_ok(b->mersis)) && !set(b->tradesman))
            out->missing = IZ_CONTENT_IDENTITY;
        else if (!set(b->contact))
            out->missing = IZ_CONTENT_CONTACT;
        if (out->missing) return IZ_ERULE;

        static _Thread_local char folded[IZ_SMSTEXT_MAX_BYTES + 1];
        if (iz_smstext_fold(text, len, folded, sizeof folded) != 0) return IZ_EINVAL;
        char md[17], cd[32];
        size_t nm = set(b->mersis) ? digits_of(b->mersis, md, sizeof md) : 0;
        size_t nc = digits_of(b->contact, cd, sizeof cd);
        /* A company's identity is its trade name and its MERSİS number
         * (the regulation asks for both): the text must carry both, or the
         * footer adds them; a tradesman's is the name. */
        bool company = set(b->trade_name) && iz_content_mersis_ok(b->mersis);
        bool identity =
            company ? names(folded, b->trade_name) && nm > 0 && has_number(text, len, md, nm)
                    : names(folded, b->tradesman);
        bool contact = names(folded, b->contact) || (nc >= 7 && has_number(text, len, cd, nc));
        const char *number =
            set(b->keyword) && set(b->short_number) ? b->short_number : b->subscriber_number;
        bool optout = iz_smstext_has_optout(text, len, b->keyword, number, ins);
        if (!identity || !contact || !optout) {
            /* Trailing white space goes; one space separates the footer. */
            while (out->len > 0 && strchr(" \t\r\n", out->text[out->len - 1]))
                out->len--;
            out->text[out->len] = '\0';
        }
        bool fits = true;
        if (!identity) {
            fits = company ? sentence(out, b->trade_name, ", MERSİS: ", b->mersis)
                           : sentence(out, b->tradesman, NULL, NULL);
            out->added |= IZ_CONTENT_IDENTITY;
        }
        if (fits && !contact) {
            fits = sentence(out, "İletişim: ", b->contact, NULL);
            out->added |= IZ_CONTENT_CONTACT;
        }
        if (fits && !optout) {
            fits = sentence(out, ins, NULL, NULL);
            out->added |= IZ_CONTENT_OPTOUT;
        }
        if (!fits) return IZ_ETOOBIG;
    }
    return iz_smstext_analyze(out->text, out->len, flags, &out->info);
}
