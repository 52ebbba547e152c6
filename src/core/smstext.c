/*
 * smstext.c - SMS encodings and parts, keyword folding, and the opt-out
 * instruction of a commercial text (see smstext.h for the rules).
 *
 * The character sets are written out as code points from 3GPP TS 23.038:
 * section 6.2.1 (default alphabet), 6.2.1.1 (its extension table) and
 * annex A.2.1 (the Turkish national language single shift table). Only
 * membership matters here, not the septet values, since izin hands text to
 * gateways as UTF-8 and they do the packing.
 */
#include "core/smstext.h"

#include <stdint.h>
#include <string.h>

#include "core/iz.h"
#include "core/utf8.h"

/* Non-ASCII characters of the default alphabet. */
static const uint16_t gsm_default_high[] = {
    0x00A1, 0x00A3, 0x00A4, 0x00A5, 0x00A7, 0x00BF, 0x00C4, 0x00C5, 0x00C6, 0x00C7,
    0x00C9, 0x00D1, 0x00D6, 0x00D8, 0x00DC, 0x00DF, 0x00E0, 0x00E4, 0x00E5, 0x00E6,
    0x00E8, 0x00E9, 0x00EC, 0x00F1, 0x00F2, 0x00F6, 0x00F8, 0x00F9, 0x00FC, 0x0393,
    0x0394, 0x0398, 0x039B, 0x039E, 0x03A0, 0x03A3, 0x03A6, 0x03A8, 0x03A9,
};

/* The default extension table: form feed ^ { } \ [ ~ ] | €. The Turkish
 * single shift table holds all of these too. */
static const uint16_t gsm_ext[] = {0x000C, '^', '{', '}', '\\', '[', '~', ']', '|', 0x20AC};

/* What the Turkish single shift table adds: Ğ İ Ş ç ğ ı ş. */
static const uint16_t gsm_tr[] = {0x011E, 0x0130, 0x015E, 0x00E7, 0x011F, 0x0131, 0x015F};

static bool in_list(const uint16_t *list, size_t n, uint32_t cp)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == cp) return true;
    return false;
}

static bool gsm_default(uint32_t cp)
{
    if (cp == '\n' || cp == '\r') return true;
    if (cp >= 0x20 && cp < 0x7F) return !in_list(gsm_ext, IZ_ARRAY_LEN(gsm_ext), cp) && cp != '`';
    return in_list(gsm_default_high, IZ_ARRAY_LEN(gsm_default_high), cp);
}

/* Units of one character in an encoding: 1 or 2 (0: not representable). */
static unsigned char_units(iz_sms_enc_t enc, uint32_t cp)
{
    if (enc == IZ_SMS_UCS2) return cp > 0xFFFF ? 2 : 1;
    if (gsm_default(cp)) return 1;
    if (in_list(gsm_ext, IZ_ARRAY_LEN(gsm_ext), cp)) return 2;
    if (enc == IZ_SMS_GSM7_TR && in_list(gsm_tr, IZ_ARRAY_LEN(gsm_tr), cp)) return 2;
    return 0;
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

/* The folded form of one code point, as at most one ASCII byte: 0 when the
 * character is kept as it is, ' ' for a separator, '\1' to drop it. */
static char fold_cp(uint32_t cp)
{
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z') return (char)(cp - 'A' + 'a');
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) return (char)cp;
        return ' ';
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
        {0x0307, '\1'}, /* combining dot above ("i̇" from lower-casing İ): dropped */
        {0x00A0, ' '},  /* no-break space */
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(fold); i++)
        if (fold[i].cp == cp) return fold[i].to;
    return 0;
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
        char f = fold_cp(cp);
        if (f == '\1') continue;
        if (f == ' ') {
            if (!space) out[o++] = ' ';
            space = true;
            continue;
        }
        if (f) {
            out[o++] = f;
        } else {
            memcpy(out + o, in + start, i - start);
            o += i - start;
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
