/*
 * smsmo.c - inbound SMS text: decoding to UTF-8 and the keyword grammar of
 * spec/SMS.md (see smsmo.h for the rules and the decisions behind them).
 *
 * The parse folds the text once into a stack buffer, splits it into words
 * (offsets into that buffer), then marks for every word the longest brand
 * keyword that starts there (a pass a keyword, so each keyword is folded
 * once), and last walks the words left to right: a keyword's words are
 * taken together, every other word is classified by the grammar's table.
 */
#include "core/smsmo.h"

#include <string.h>

#include "core/gsm7.h"
#include "core/iz.h"
#include "core/smstext.h"
#include "core/utf8.h"

/* ---- decoding ---- */

#define REPLACEMENT 0xFFFDu

/* Append cp, a NUL as U+FFFD (counted). */
static int put(char *out, size_t outsz, size_t *o, size_t *rep, uint32_t cp)
{
    if (cp == 0) {
        cp = REPLACEMENT;
        (*rep)++;
    }
    return iz_utf8_append(out, outsz, o, cp);
}

/* The length of the maximal subpart of an invalid UTF-8 sequence at s (len
 * >= 1 bytes; iz_utf8_next has refused it): the bytes that could start a
 * valid sequence, at least one. */
static size_t utf8_bad_len(const unsigned char *s, size_t len)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0) lo = 0xA0; /* no overlong form */
        if (c == 0xED) hi = 0x9F; /* no surrogate */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        return 1;
    }
    size_t k = 1;
    for (; k <= need && k < len; k++) {
        if (s[k] < lo || s[k] > hi) break;
        lo = 0x80;
        hi = 0xBF;
    }
    return k;
}

static int decode_utf8(const unsigned char *s, size_t len, char *out, size_t outsz, size_t *o,
                       size_t *rep)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        if (iz_utf8_next(s, len, &i, &cp) != 0) {
            i += utf8_bad_len(s + i, len - i);
            (*rep)++;
            cp = REPLACEMENT;
        }
        int rc = put(out, outsz, o, rep, cp);
        if (rc != 0) return rc;
    }
    return 0;
}

static int decode_utf16be(const unsigned char *s, size_t len, char *out, size_t outsz, size_t *o,
                          size_t *rep)
{
    if (len % 2) return IZ_EINVAL;
    for (size_t i = 0; i < len; i += 2) {
        uint32_t cp = (uint32_t)s[i] << 8 | s[i + 1];
        if (cp >= 0xDC00 && cp <= 0xDFFF) return IZ_EINVAL;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (len - i < 4) return IZ_EINVAL;
            uint32_t lo = (uint32_t)s[i + 2] << 8 | s[i + 3];
            if (lo < 0xDC00 || lo > 0xDFFF) return IZ_EINVAL;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 2;
        }
        int rc = put(out, outsz, o, rep, cp);
        if (rc != 0) return rc;
    }
    return 0;
}

static int decode_latin1(const unsigned char *s, size_t len, char *out, size_t outsz, size_t *o,
                         size_t *rep)
{
    for (size_t i = 0; i < len; i++) {
        int rc = put(out, outsz, o, rep, s[i]);
        if (rc != 0) return rc;
    }
    return 0;
}

int iz_mo_decode(const void *in, size_t len, iz_mo_coding_t coding, char *out, size_t outsz,
                 size_t *outlen, size_t *replaced)
{
    const unsigned char *s = in;
    size_t o = 0, rep = 0;
    int rc;
    if (outsz == 0) {
        rc = IZ_ETOOBIG;
    } else {
        switch (coding) {
        case IZ_MO_UTF8:
            rc = decode_utf8(s, len, out, outsz, &o, &rep);
            break;
        case IZ_MO_UCS2:
            rc = decode_utf16be(s, len, out, outsz, &o, &rep);
            break;
        case IZ_MO_LATIN1:
            rc = decode_latin1(s, len, out, outsz, &o, &rep);
            break;
        case IZ_MO_GSM7:
        case IZ_MO_GSM7_PACKED:
        case IZ_MO_GSM7_TR:
        case IZ_MO_GSM7_TR_PACKED: {
            unsigned flags =
                (coding == IZ_MO_GSM7_PACKED || coding == IZ_MO_GSM7_TR_PACKED ? IZ_GSM7_PACKED
                                                                               : 0) |
                (coding == IZ_MO_GSM7_TR || coding == IZ_MO_GSM7_TR_PACKED ? IZ_GSM7_TR_LOCK : 0);
            rc = iz_gsm7_decode(s, len, flags, out, outsz, &o);
            break;
        }
        default:
            rc = IZ_EINVAL;
        }
    }
    if (rc != 0) o = rep = 0;
    if (outsz) out[o] = '\0';
    if (outlen) *outlen = o;
    if (replaced) *replaced = rep;
    return rc;
}

int iz_mo_coding_from_smpp(int dc, iz_mo_coding_t *out)
{
    int alphabet; /* GSM 03.38 alphabet bits: 0 GSM-7, 1 8-bit data, 2 UCS-2 */
    switch (dc) {
    case 0: /* SMSC default alphabet: GSM-7, one septet an octet in SMPP */
        *out = IZ_MO_GSM7;
        return 0;
    case 1: /* IA5 (ASCII), read as its superset Latin-1 */
    case 3:
        *out = IZ_MO_LATIN1;
        return 0;
    case 8:
        *out = IZ_MO_UCS2;
        return 0;
    }
    if (dc >= 0x10 && dc <= 0x7F) {
        if (dc & 0x20) return IZ_EUNSUPPORTED; /* compressed */
        alphabet = (dc >> 2) & 3;
    } else if (dc >= 0xC0 && dc <= 0xDF) {
        alphabet = 0;
    } else if (dc >= 0xE0 && dc <= 0xEF) {
        alphabet = 2;
    } else if (dc >= 0xF0 && dc <= 0xFF) {
        alphabet = dc & 0x04 ? 1 : 0;
    } else {
        return IZ_EUNSUPPORTED;
    }
    if (alphabet == 0)
        *out = IZ_MO_GSM7;
    else if (alphabet == 2)
        *out = IZ_MO_UCS2;
    else
        return IZ_EUNSUPPORTED;
    return 0;
}

/* ---- the grammar ---- */

typedef enum { W_UNKNOWN = 0, W_OPTOUT, W_OPTIN, W_CHANNEL, W_ALL, W_NEUTRAL } word_class_t;

/* The grammar's words and phrases, folded. */
static const struct {
    const char *phrase;
    word_class_t cls;
    iz_type_t type;
} grammar[] = {
    {"ret", W_OPTOUT, 0},
    {"iptal", W_OPTOUT, 0},
    {"stop", W_OPTOUT, 0},
    {"hayir", W_OPTOUT, 0},
    {"red", W_OPTOUT, 0},
    {"cikis", W_OPTOUT, 0},
    {"onay", W_OPTIN, 0},
    {"evet", W_OPTIN, 0},
    {"kabul", W_OPTIN, 0},
    {"basla", W_OPTIN, 0},
    {"mesaj", W_CHANNEL, IZ_MESAJ},
    {"sms", W_CHANNEL, IZ_MESAJ},
    {"arama", W_CHANNEL, IZ_ARAMA},
    {"ara", W_CHANNEL, IZ_ARAMA},
    {"eposta", W_CHANNEL, IZ_EPOSTA},
    {"e posta", W_CHANNEL, IZ_EPOSTA}, /* e-posta */
    {"email", W_CHANNEL, IZ_EPOSTA},
    {"e mail", W_CHANNEL, IZ_EPOSTA}, /* e-mail */
    {"mail", W_CHANNEL, IZ_EPOSTA},
    {"tumu", W_ALL, 0},
    {"hepsi", W_ALL, 0},
    /* Courtesy, and verbs that confirm an opt-in ("onay veriyorum",
     * "kabul ediyorum"); their negations ("vermiyorum") stay unknown. */
    {"lutfen", W_NEUTRAL, 0},
    {"merhaba", W_NEUTRAL, 0},
    {"mrb", W_NEUTRAL, 0},
    {"selam", W_NEUTRAL, 0},
    {"slm", W_NEUTRAL, 0},
    {"tesekkurler", W_NEUTRAL, 0},
    {"tesekkur", W_NEUTRAL, 0},
    {"ederim", W_NEUTRAL, 0},
    {"ederiz", W_NEUTRAL, 0},
    {"tsk", W_NEUTRAL, 0},
    {"tskler", W_NEUTRAL, 0},
    {"sagol", W_NEUTRAL, 0},
    {"sagolun", W_NEUTRAL, 0},
    {"iyi", W_NEUTRAL, 0},
    {"gunler", W_NEUTRAL, 0},
    {"tamam", W_NEUTRAL, 0},
    {"ok", W_NEUTRAL, 0},
    {"veriyorum", W_NEUTRAL, 0},
    {"verdim", W_NEUTRAL, 0},
    {"ediyorum", W_NEUTRAL, 0},
    {"ettim", W_NEUTRAL, 0},
    {"istiyorum", W_NEUTRAL, 0},
};

/* Turkish case endings written after a name and an apostrophe ("ACME'ye",
 * "ACME'nin"), folded: neutral right after a keyword. */
static const char *const case_endings[] = {
    "a",  "e",  "ya", "ye", "i",   "u",   "yi",  "yu",  "in", "un", "nin", "nun",
    "da", "de", "ta", "te", "dan", "den", "tan", "ten", "la", "le", "yla", "yle",
};

/* A word of a folded text: where it starts and how long it is. */
typedef struct {
    uint16_t off, len;
} word_t;

#define MAX_WORDS (IZ_SMSTEXT_MAX_BYTES / 2 + 1)

/* Split a folded text (single spaces, none at the ends) into words; max is
 * enough for any text of its length. */
static size_t split_words(const char *s, word_t *w, size_t max)
{
    size_t n = 0, i = 0, len = strlen(s);
    while (i < len && n < max) {
        const char *sp = memchr(s + i, ' ', len - i);
        size_t l = sp ? (size_t)(sp - s) - i : len - i;
        w[n++] = (word_t){(uint16_t)i, (uint16_t)l};
        i += l + 1;
    }
    return n;
}

/* The number of words of phrase (folded) when they stand in the text from
 * word p on, else 0. */
static size_t phrase_at(const char *text, const word_t *w, size_t nw, size_t p, const char *phrase)
{
    size_t k = 0;
    for (const char *s = phrase;; k++) {
        const char *sp = strchr(s, ' ');
        size_t l = sp ? (size_t)(sp - s) : strlen(s);
        if (p + k >= nw || w[p + k].len != l || memcmp(text + w[p + k].off, s, l) != 0) return 0;
        if (!sp) return k + 1;
        s = sp + 1;
    }
}

/* The grammar entry that stands at word p (the longest), or -1; *n its
 * words. */
static int grammar_at(const char *text, const word_t *w, size_t nw, size_t p, size_t *n)
{
    int best = -1;
    *n = 0;
    for (size_t g = 0; g < IZ_ARRAY_LEN(grammar); g++) {
        size_t k = phrase_at(text, w, nw, p, grammar[g].phrase);
        if (k > *n) {
            *n = k;
            best = (int)g;
        }
    }
    return best;
}

static bool all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return len > 0;
}

static bool is_case_ending(const char *s, size_t len)
{
    for (size_t i = 0; i < IZ_ARRAY_LEN(case_endings); i++)
        if (strlen(case_endings[i]) == len && memcmp(case_endings[i], s, len) == 0) return true;
    return false;
}

/* Fold a keyword into out (IZ_MO_KEYWORD_MAX + 1 bytes) and count its
 * words. Returns 0, IZ_EINVAL (invalid UTF-8, no word, too many words) or
 * IZ_ETOOBIG. */
static int fold_keyword(const char *text, char *out, size_t *nwords)
{
    size_t len = text ? strlen(text) : 0;
    if (len > IZ_MO_KEYWORD_MAX) return IZ_ETOOBIG;
    int rc = iz_smstext_fold(text ? text : "", len, out, IZ_MO_KEYWORD_MAX + 1);
    if (rc != 0) return rc;
    if (!out[0]) return IZ_EINVAL;
    size_t n = 1;
    for (const char *p = out; *p; p++)
        n += *p == ' ';
    *nwords = n;
    return n <= IZ_MO_KEYWORD_WORDS ? 0 : IZ_EINVAL;
}

int iz_mo_keyword_check(const char *text)
{
    char kw[IZ_MO_KEYWORD_MAX + 1];
    word_t w[IZ_MO_KEYWORD_WORDS];
    size_t nw;
    int rc = fold_keyword(text, kw, &nw);
    if (rc != 0) return rc;
    nw = split_words(kw, w, IZ_ARRAY_LEN(w));
    for (size_t p = 0; p < nw; p++) {
        size_t n;
        int g = grammar_at(kw, w, nw, p, &n);
        if (g >= 0 && grammar[g].cls != W_NEUTRAL) return IZ_EINVAL;
    }
    return 0;
}

/* The longest keyword that starts at a word. */
typedef struct {
    int kw;         /* index, or -1 */
    uint8_t words;  /* its words */
    bool ambiguous; /* another brand's keyword is the same words */
} kw_at_t;

/* Mark, for every word of the text, the longest keyword starting there. */
static void mark_keywords(const char *text, const word_t *w, size_t nw,
                          const iz_mo_keyword_t *keywords, size_t nkeywords, kw_at_t *at)
{
    for (size_t p = 0; p < nw; p++)
        at[p] = (kw_at_t){-1, 0, false};
    for (size_t k = 0; k < nkeywords; k++) {
        char kw[IZ_MO_KEYWORD_MAX + 1];
        size_t kn;
        if (fold_keyword(keywords[k].text, kw, &kn) != 0) continue;
        for (size_t p = 0; p + kn <= nw; p++) {
            if (phrase_at(text, w, nw, p, kw) == 0) continue;
            if (kn > at[p].words) {
                at[p] = (kw_at_t){(int)k, (uint8_t)kn, false};
            } else if (kn == at[p].words && keywords[at[p].kw].brand != keywords[k].brand) {
                at[p].ambiguous = true;
            }
        }
    }
}

static const iz_mo_parse_t parse_none = {
    IZ_STATUS_NONE, IZ_MO_NO_ACTION, 0, false, IZ_MO_KEYWORD_NONE, 0, 0};

int iz_mo_parse(const char *text, size_t len, const iz_mo_keyword_t *keywords, size_t nkeywords,
                iz_mo_parse_t *out)
{
    *out = parse_none;
    if (len > IZ_SMSTEXT_MAX_BYTES) return IZ_ETOOBIG;
    char folded[IZ_SMSTEXT_MAX_BYTES + 1];
    int rc = iz_smstext_fold(text, len, folded, sizeof folded);
    if (rc != 0) return rc;
    word_t w[MAX_WORDS];
    kw_at_t at[MAX_WORDS];
    size_t nw = split_words(folded, w, MAX_WORDS);
    mark_keywords(folded, w, nw, keywords, nkeywords, at);

    bool optout = false, optin = false;
    int kw = IZ_MO_KEYWORD_NONE;
    size_t after_kw = (size_t)-1; /* the word right after the last keyword */
    for (size_t p = 0; p < nw;) {
        if (at[p].kw >= 0) {
            int k = at[p].kw;
            if (at[p].ambiguous || (kw >= 0 && keywords[kw].brand != keywords[k].brand))
                kw = IZ_MO_KEYWORD_AMBIGUOUS;
            else if (kw == IZ_MO_KEYWORD_NONE)
                kw = k;
            p += at[p].words;
            after_kw = p;
            continue;
        }
        size_t n;
        int g = grammar_at(folded, w, nw, p, &n);
        word_class_t cls = g >= 0 ? grammar[g].cls : W_UNKNOWN;
        if (cls == W_UNKNOWN) {
            n = 1;
            const char *s = folded + w[p].off;
            if (all_digits(s, w[p].len) || (p == after_kw && is_case_ending(s, w[p].len)))
                cls = W_NEUTRAL;
        }
        switch (cls) {
        case W_OPTOUT:
            optout = true;
            break;
        case W_OPTIN:
            optin = true;
            break;
        case W_CHANNEL:
            out->channels |= IZ_MO_CHANNEL(grammar[g].type);
            break;
        case W_ALL:
            out->all = true;
            break;
        case W_NEUTRAL:
            break;
        case W_UNKNOWN:
            out->unknown++;
            break;
        }
        p += n;
    }
    out->words = nw;
    out->keyword = kw;
    if (optout && optin)
        out->why = IZ_MO_BOTH_ACTIONS;
    else if (!optout && !optin)
        out->why = IZ_MO_NO_ACTION;
    else if (optin && out->unknown > 0)
        out->why = IZ_MO_UNCLEAR_CONSENT;
    else
        out->why = IZ_MO_COMMAND;
    if (out->why == IZ_MO_COMMAND) out->status = optout ? IZ_RET : IZ_ONAY;
    return 0;
}

const char *iz_mo_why_name(iz_mo_why_t why)
{
    static const char *const names[] = {
        [IZ_MO_COMMAND] = "COMMAND",
        [IZ_MO_NO_ACTION] = "NO_ACTION",
        [IZ_MO_BOTH_ACTIONS] = "BOTH_ACTIONS",
        [IZ_MO_UNCLEAR_CONSENT] = "UNCLEAR_CONSENT",
    };
    return (int)why >= 0 && (size_t)why < IZ_ARRAY_LEN(names) ? names[why] : "?";
}
