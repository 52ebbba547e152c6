/*
 * gsm7.c - the GSM 7-bit default alphabet, its extension table and the
 * Turkish shift tables (see gsm7.h), written out as code points from
 * 3GPP TS 23.038.
 */
#include "core/gsm7.h"

#include "core/iz.h"
#include "core/utf8.h"

/* 6.2.1, by septet; the escape's slot holds 0 (no character). */
static const uint16_t gsm_default[128] = {
    0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, /* @ £ $ ¥ è é ù ì */
    0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5, /* ò Ç LF Ø ø CR Å å */
    0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, /* Δ _ Φ Γ Λ Ω Π Ψ */
    0x03A3, 0x0398, 0x039E, 0x0000, 0x00C6, 0x00E6, 0x00DF, 0x00C9, /* Σ Θ Ξ ESC Æ æ ß É */
    ' ',    '!',    '"',    '#',    0x00A4, '%',    '&',    '\'',   /* ¤ in place of $ */
    '(',    ')',    '*',    '+',    ',',    '-',    '.',    '/',    /* */
    '0',    '1',    '2',    '3',    '4',    '5',    '6',    '7',    /* */
    '8',    '9',    ':',    ';',    '<',    '=',    '>',    '?',    /* */
    0x00A1, 'A',    'B',    'C',    'D',    'E',    'F',    'G',    /* ¡ */
    'H',    'I',    'J',    'K',    'L',    'M',    'N',    'O',    /* */
    'P',    'Q',    'R',    'S',    'T',    'U',    'V',    'W',    /* */
    'X',    'Y',    'Z',    0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, /* Ä Ö Ñ Ü § */
    0x00BF, 'a',    'b',    'c',    'd',    'e',    'f',    'g',    /* ¿ */
    'h',    'i',    'j',    'k',    'l',    'm',    'n',    'o',    /* */
    'p',    'q',    'r',    's',    't',    'u',    'v',    'w',    /* */
    'x',    'y',    'z',    0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0, /* ä ö ñ ü à */
};

typedef struct {
    uint8_t septet;
    uint16_t cp;
} gsm_pair_t;

/* Where the Turkish locking shift table (A.3.1) differs from the default
 * alphabet; every other septet is the same. */
static const gsm_pair_t tr_lock[] = {
    {0x04, 0x20AC}, {0x07, 0x0131}, {0x0B, 0x011E}, {0x0C, 0x011F}, /* € ı Ğ ğ */
    {0x1C, 0x015E}, {0x1D, 0x015F}, {0x40, 0x0130}, {0x60, 0x00E7}, /* Ş ş İ ç */
};

/* The Turkish single shift table (A.2.1): the default extension table
 * (6.2.1.1, the first ten) and the Turkish letters after it. */
static const gsm_pair_t tr_shift[] = {
    {0x0A, 0x000C}, {0x14, '^'},    {0x28, '{'},    {0x29, '}'},    {0x2F, '\\'},   {0x3C, '['},
    {0x3D, '~'},    {0x3E, ']'},    {0x40, '|'},    {0x65, 0x20AC}, {0x47, 0x011E}, {0x49, 0x0130},
    {0x53, 0x015E}, {0x63, 0x00E7}, {0x67, 0x011F}, {0x69, 0x0131}, {0x73, 0x015F},
};
#define GSM_EXT_COUNT 10 /* the default extension table's part of tr_shift */

unsigned iz_gsm7_units(uint32_t cp, bool tr_single)
{
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
        cp == ' ')
        return 1;
    if (cp == 0) return 0;
    for (size_t s = 0; s < IZ_ARRAY_LEN(gsm_default); s++)
        if (gsm_default[s] == cp) return 1;
    size_t n = tr_single ? IZ_ARRAY_LEN(tr_shift) : GSM_EXT_COUNT;
    for (size_t i = 0; i < n; i++)
        if (tr_shift[i].cp == cp) return 2;
    return 0;
}

static uint32_t pair_find(const gsm_pair_t *t, size_t n, unsigned septet)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].septet == septet) return t[i].cp;
    return 0;
}

/* The character of septet s (< 128, not the escape) in the locking table. */
static uint32_t lock_char(unsigned s, bool tr)
{
    uint32_t cp = tr ? pair_find(tr_lock, IZ_ARRAY_LEN(tr_lock), s) : 0;
    return cp ? cp : gsm_default[s];
}

/* The number of septets len octets hold (see gsm7.h for the CR filler). */
static size_t septet_count(const uint8_t *in, size_t len, bool packed)
{
    if (!packed) return len;
    size_t n = len / 7 * 8 + len % 7 * 8 / 7;
    if (len % 7 == 0 && n > 0 && (in[len - 1] >> 1) == 0x0D) n--;
    return n;
}

/* Septet i of the input; an unpacked octet is returned as it is. */
static unsigned septet_at(const uint8_t *in, size_t len, bool packed, size_t i)
{
    if (!packed) return in[i];
    size_t bit = i * 7, byte = bit / 8;
    unsigned shift = bit % 8, v = in[byte] >> shift;
    if (shift > 1 && byte + 1 < len) v |= (unsigned)in[byte + 1] << (8 - shift);
    return v & 0x7F;
}

int iz_gsm7_decode(const void *in, size_t len, unsigned flags, char *out, size_t outsz,
                   size_t *outlen)
{
    const uint8_t *p = in;
    bool packed = flags & IZ_GSM7_PACKED, tr = flags & IZ_GSM7_TR_LOCK;
    size_t n = septet_count(p, len, packed), o = 0;
    int rc = outsz ? 0 : IZ_ETOOBIG;
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned s = septet_at(p, len, packed, i);
        uint32_t cp;
        if (s > 0x7F) {
            rc = IZ_EINVAL;
            break;
        }
        if (s != IZ_GSM7_ESC) {
            cp = lock_char(s, tr);
        } else if (i + 1 == n) {
            break; /* an escape with nothing after it */
        } else {
            s = septet_at(p, len, packed, ++i);
            if (s > 0x7F) {
                rc = IZ_EINVAL;
                break;
            }
            if (s == IZ_GSM7_ESC)
                cp = ' ';
            else if (!(cp = pair_find(tr_shift, IZ_ARRAY_LEN(tr_shift), s)))
                cp = lock_char(s, tr);
        }
        rc = iz_utf8_append(out, outsz, &o, cp);
    }
    if (rc != 0) o = 0;
    if (outsz) out[o] = '\0';
    if (outlen) *outlen = o;
    return rc;
}
