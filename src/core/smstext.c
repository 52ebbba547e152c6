/*
 * smstext.c - SMS encodings and parts, keyword folding, and the opt-out
 * instruction of a commercial text (see smstext.h for the rules).
 *
 * The character sets are those of core/gsm7 (3GPP TS 23.038: the default
 * alphabet, its extension table, the Turkish single shift table). Only
 * membership matters here, not the septet values, since izin hands text to
 * gateways as UTF-8 and they do the packing.
 */
#include "core/smstext.h"

#include <stdint.h>
#include <string.h>

#include "core/gsm7.h"
#include "core/iz.h"
#include "core/utf8.h"

/* Units of one character in an encoding: 1 or 2 (0: not representable). */
static unsigned char_units(iz_sms_enc_t enc, uint32_t cp)
{
    if (enc == IZ_SMS_UCS2) return cp > 0xFFFF ? 2 : 1;
    return iz_gsm7_units(cp, enc == IZ_SMS_GSM7_TR);
}

const char *iz_sms_enc_name(iz_sms_enc_t e)
{
    static const char *const names[] = {[IZ_SMS_GSM7] = "GSM7",
                                        [IZ_SMS_GSM7_TR] = "GSM7_TR",
                                        [IZ_SMS_UCS2] = "UCS2"};
    return (int)e >= 0 && (size_t)e < IZ_ARRAY_LEN(names) ? names[e] : NULL;
}

int iz_smstext_analyze(const char *text, size_t len, unsigned flags, iz_smstext_info_t *out)
{
    memset(out, 0, sizeof *out);
    if (len > IZ_SMSTEXT_MAX_BYTES) return IZ_ETOOBIG;
    const unsigned char *s = (const unsigned char *)text;
    bool gsm = true, tr = !(flags & IZ_SMSTEXT_NO_TR_SHIFT);
    size_t chars = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        if (iz_utf8_next(s, len, &i, &cp) != 0) return IZ_EINVAL;
        chars++;
        if (gsm && char_units(IZ_SMS_GSM7, cp) == 0) gsm = false;
        if (tr && char_units(IZ_SMS_GSM7_TR, cp) == 0) tr = false;
    }
    iz_sms_enc_t enc = gsm ? IZ_SMS_GSM7 : tr ? IZ_SMS_GSM7_TR : IZ_SMS_UCS2;
    size_t single = enc == IZ_SMS_GSM7      ? IZ_SMS_GSM7_SINGLE
                    : enc == IZ_SMS_GSM7_TR ? IZ_SMS_GSM7_TR_SINGLE
                                            : IZ_SMS_UCS2_SINGLE;
    size_t concat = enc == IZ_SMS_GSM7      ? IZ_SMS_GSM7_CONCAT
                    : enc == IZ_SMS_GSM7_TR ? IZ_SMS_GSM7_TR_CONCAT
                                            : IZ_SMS_UCS2_CONCAT;
    /* Second pass: the total, and the greedy split that never cuts a
     * character in two - or, for a gateway that cuts UCS-2 anywhere, every
     * `concat` units. */
    size_t units = 0, parts = 1, fill = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        iz_utf8_next(s, len, &i, &cp);
        unsigned u = char_units(enc, cp);
        units += u;
        if (fill + u > concat) {
            parts++;
            fill = 0;
        }
        fill += u;
    }
    if (enc == IZ_SMS_UCS2 && (flags & IZ_SMSTEXT_SPLIT_SURROGATES))
        parts = units == 0 ? 1 : (units + concat - 1) / concat;
    out->encoding = enc;
    out->chars = chars;
    out->units = units;
    if (units <= single) {
        out->parts = 1;
        out->part_units = single;
    } else {
        out->parts = parts;
        out->part_units = concat;
    }
    return 0;
}

#define FOLD_SPACE 0x20u
#define FOLD_DROP 0xFFFFFFFFu

/* Ranges of code points that fold to a separator or are dropped. */
typedef struct {
    uint32_t lo, hi, to;
} fold_range_t;

static const fold_range_t fold_ranges[] = {
    {0x0080, 0x00AC, FOLD_SPACE}, /* C1 controls, no-break space, ¡ « » ¿ ° and friends */
    {0x00AD, 0x00AD, FOLD_DROP},  /* soft hyphen */
    {0x00AE, 0x00BF, FOLD_SPACE}, /* ® ... ¿ */
    {0x00D7, 0x00D7, FOLD_SPACE}, /* × */
    {0x00F7, 0x00F7, FOLD_SPACE}, /* ÷ */
    {0x02B0, 0x02FF, FOLD_SPACE}, /* modifier letters: ʼ (an apostrophe) ˆ ˇ ˘ ˙ ˜ */
    {0x0300, 0x036F, FOLD_DROP},  /* combining marks: decomposed Ş Ğ Ç Ö Ü İ fold whole */
    {0x200B, 0x200B, FOLD_SPACE}, /* zero width space */
    {0x200C, 0x200F, FOLD_DROP},  /* zero width (non-)joiner, direction marks */
    {0x2000, 0x2029, FOLD_SPACE}, /* spaces, dashes, quotes ‘ ’ “ ”, …, line separators */
    {0x202A, 0x202E, FOLD_DROP},  /* direction embeddings */
    {0x202F, 0x205F, FOLD_SPACE}, /* narrow space, ‰ ′ ‼ ⁄ ... */
    {0x2060, 0x206F, FOLD_DROP},  /* word joiner, invisible operators, isolates */
    {0x2070, 0x20CF, FOLD_SPACE}, /* super- and subscripts, currency signs (€ ₺) */
    {0x20D0, 0x20FF, FOLD_DROP},  /* combining marks for symbols (the keycap of 1️⃣) */
    {0x2100, 0x2BFF, FOLD_SPACE}, /* letterlike, arrows, maths, shapes, ☺ ♥ ✅ ❤ ... */
    {0x2E00, 0x2E7F, FOLD_SPACE}, /* supplemental punctuation */
    {0x3000, 0x303F, FOLD_SPACE}, /* CJK spaces and punctuation */
    {0xE000, 0xF8FF, FOLD_SPACE}, /* private use (a vendor's logo) */
    {0xFE00, 0xFE0F, FOLD_DROP},  /* variation selectors (the emoji form of ❤️) */
    {0xFE10, 0xFE6F, FOLD_SPACE}, /* vertical, compatibility and small punctuation */
    {0xFEFF, 0xFEFF, FOLD_DROP},  /* byte order mark */
    {0xFF01, 0xFF0F, FOLD_SPACE}, /* full-width ! to / */
    {0xFF1A, 0xFF20, FOLD_SPACE}, /* full-width : to @ */
    {0xFF3B, 0xFF40, FOLD_SPACE}, /* full-width [ to ` */
    {0xFF5B, 0xFF65, FOLD_SPACE}, /* full-width { to ~, half-width CJK punctuation */
    {0xFFF0, 0xFFFF, FOLD_SPACE}, /* specials: the replacement character U+FFFD */
    {0x1F000, 0x1FBFF, FOLD_SPACE}, /* emoji, pictographs, flags' regional letters */
    {0xE0000, 0xE007F, FOLD_DROP},  /* tags (of subdivision flags) */
    {0xE0100, 0xE01EF, FOLD_DROP},  /* variation selectors supplement */
};

/* The folded form of one code point: itself, another one, FOLD_SPACE for a
 * separator, FOLD_DROP to leave it out. Never a longer UTF-8 sequence. */
static uint32_t fold_cp(uint32_t cp)
{
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z') return cp - 'A' + 'a';
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) return cp;
        return FOLD_SPACE;
    }
    /* The explicit Turkish folding table of SMS.md (never the locale). */
    static const struct {
        uint16_t cp;
        char to;
    } fold[] = {
        {0x0130, 'i'}, /* İ */
        {0x0131, 'i'}, /* ı */
        {0x00CE, 'i'}, /* Î */
        {0x00EE, 'i'}, /* î */
        {0x015E, 's'}, /* Ş */
        {0x015F, 's'}, /* ş */
        {0x011E, 'g'}, /* Ğ */
        {0x011F, 'g'}, /* ğ */
        {0x00C7, 'c'}, /* Ç */
        {0x00E7, 'c'}, /* ç */
        {0x00D6, 'o'}, /* Ö */
        {0x00F6, 'o'}, /* ö */
        {0x00DC, 'u'}, /* Ü */
        {0x00FC, 'u'}, /* ü */
        {0x00DB, 'u'}, /* Û */
        {0x00FB, 'u'}, /* û */
        {0x00C2, 'a'}, /* Â */
        {0x00E2, 'a'}, /* â */
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(fold); i++)
        if (fold[i].cp == cp) return (uint32_t)fold[i].to;
    for (size_t i = 0; i < IZ_ARRAY_LEN(fold_ranges); i++)
        if (cp >= fold_ranges[i].lo && cp <= fold_ranges[i].hi) return fold_ranges[i].to;
    /* Other Latin letters lower-cased: Latin-1 À-Þ, then the pairs of
     * Latin Extended-A (upper case first; odd-first between Ĺ and Ň and
     * between Ź and Ž), and Ÿ. */
    if (cp >= 0x00C0 && cp <= 0x00DE) return cp + 0x20;
    if (cp >= 0x0100 && cp <= 0x0137) return cp | 1;
    if ((cp >= 0x0139 && cp <= 0x0148) || (cp >= 0x0179 && cp <= 0x017E))
        return cp & 1 ? cp + 1 : cp;
    if (cp >= 0x014A && cp <= 0x0177) return cp | 1;
    if (cp == 0x0178) return 0x00FF;
    return cp;
}

int iz_smstext_fold(const char *in, size_t len, char *out, size_t outsz)
{
    if (outsz < len + 1) {
        if (outsz) out[0] = '\0';
        return IZ_ETOOBIG;
    }
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0;
    bool space = true; /* drops leading spaces */
    for (size_t i = 0; i < len;) {
        size_t start = i;
        uint32_t cp;
        if (iz_utf8_next(s, len, &i, &cp) != 0) {
            out[0] = '\0';
            return IZ_EINVAL;
        }
        uint32_t f = fold_cp(cp);
        if (f == FOLD_DROP) continue;
        if (f == FOLD_SPACE) {
            if (!space) out[o++] = ' ';
            space = true;
            continue;
        }
        if (f == cp) {
            memcpy(out + o, in + start, i - start);
            o += i - start;
        } else {
            o += iz_utf8_put(f, out + o);
        }
        space = false;
    }
    if (o > 0 && out[o - 1] == ' ') o--;
    out[o] = '\0';
    return 0;
}

/* True when s has a byte below 0x20 or DEL. */
static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7F) return true;
    return false;
}

int iz_smstext_optout(const char *keyword, const char *short_number, const char *subscriber_number,
                      char out[IZ_OPTOUT_MAX])
{
    out[0] = '\0';
    bool kw = keyword && *keyword;
    const char *number = NULL;
    if (kw && short_number && *short_number)
        number = short_number;
    else if (subscriber_number && *subscriber_number)
        number = subscriber_number;
    if (!number) return IZ_ENOTFOUND;
    if ((kw && has_control(keyword)) || has_control(number)) return IZ_EINVAL;
    size_t need = strlen("Ret için RET  yazıp  numarasına gönderin.") + (kw ? strlen(keyword) : 0) +
                  strlen(number) + 1;
    if (need > IZ_OPTOUT_MAX) return IZ_ETOOBIG;
    /* Assembled piece by piece: the lengths were checked above. */
    strcpy(out, "Ret için RET ");
    if (kw) {
        strcat(out, keyword);
        strcat(out, " ");
    }
    strcat(out, "yazıp ");
    strcat(out, number);
    strcat(out, " numarasına gönderin.");
    return 0;
}

/* The national part of a number's digits: without 0090 / 90 (a Turkish
 * number's country code) and a leading 0, so that 0850..., +90 850... and
 * 850... are one number. */
static const char *national(const char *d)
{
    size_t n = strlen(d);
    if (strncmp(d, "0090", 4) == 0 && n > 6)
        d += 4;
    else if (strncmp(d, "90", 2) == 0 && n == 12)
        d += 2;
    if (d[0] == '0' && d[1]) d++;
    return d;
}

static bool is_group_sep(char c)
{
    return c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')';
}

/* Whether the text names the number (its digits nd): a run of digits of
 * its own equal to it, or digits written in groups (separated by one space,
 * '-', '.', '/', '(' or ')') that together are it. */
static bool names_number(const char *text, size_t len, const char *nd)
{
    const char *want = national(nd);
    char token[64], joined[64];
    size_t tl = 0, jl = 0;
    bool jtoo_long = false;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? text[i] : '\0';
        if (c >= '0' && c <= '9') {
            if (tl + 1 < sizeof token) token[tl] = c;
            tl++;
            if (jl + 1 < sizeof joined)
                joined[jl++] = c;
            else
                jtoo_long = true;
            continue;
        }
        if (tl > 0) {
            if (tl < sizeof token) {
                token[tl] = '\0';
                if (strcmp(national(token), want) == 0) return true;
            }
            tl = 0;
        }
        /* One or two group separators between digits ("0850 123", "(0850) 123")
         * keep the joined run going. */
        size_t k = i;
        while (k < len && k < i + 2 && is_group_sep(text[k]))
            k++;
        if (jl > 0 && k > i && k < len && text[k] >= '0' && text[k] <= '9') {
            i = k - 1;
            continue;
        }
        if (jl > 0 && !jtoo_long) {
            joined[jl] = '\0';
            if (strcmp(national(joined), want) == 0) return true;
        }
        jl = 0;
        jtoo_long = false;
    }
    return false;
}

bool iz_smstext_has_optout(const char *text, size_t len, const char *keyword, const char *number,
                           const char *instruction)
{
    if (len > IZ_SMSTEXT_MAX_BYTES) return false;
    if (instruction && *instruction && len >= strlen(instruction) &&
        memmem(text, len, instruction, strlen(instruction)))
        return true;
    /* The number it names: its digits, at most 32. */
    size_t nl = number ? strlen(number) : 0;
    if (nl == 0 || nl > 32) return false;
    char nd[32 + 1];
    size_t o = 0;
    for (size_t i = 0; i < nl; i++)
        if (number[i] >= '0' && number[i] <= '9') nd[o++] = number[i];
    nd[o] = '\0';
    if (!nd[0]) return false;
    /* " " + folded text + " ", so that whole words can be looked for. */
    char folded[IZ_SMSTEXT_MAX_BYTES + 3];
    folded[0] = ' ';
    if (iz_smstext_fold(text, len, folded + 1, sizeof folded - 2) != 0) return false;
    strcat(folded, " ");
    char needle[64 + 8] = " ret ";
    if (keyword && *keyword) {
        size_t kl = strlen(keyword);
        if (kl > 64) return false;
        char kf[64 + 1];
        if (iz_smstext_fold(keyword, kl, kf, sizeof kf) != 0 || !kf[0]) return false;
        strcat(needle, kf);
        strcat(needle, " ");
    }
    return strstr(folded, needle) != NULL && names_number(text, len, nd);
}
