/*
 * utf8.c - strict UTF-8 decoding and encoding (see utf8.h).
 */
#include "core/utf8.h"

#include "core/iz.h"

int iz_utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
{
    unsigned char c = s[*i];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        (*i)++;
        return 0;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
        v = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        v = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return IZ_EINVAL;
    }
    if (len - *i <= n) return IZ_EINVAL;
    for (size_t k = 1; k <= n; k++) {
        unsigned char d = s[*i + k];
        if ((d & 0xC0) != 0x80) return IZ_EINVAL;
        v = (v << 6) | (d & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return IZ_EINVAL;
    *cp = v;
    *i += n + 1;
    return 0;
}

size_t iz_utf8_valid_prefix(const void *s, size_t len)
{
    const unsigned char *p = s;
    size_t i = 0;
    while (i < len) {
        /* ASCII runs are the common case: skip them eight bytes at a time. */
        while (i + 8 <= len) {
            uint64_t w;
            __builtin_memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= len) break;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        if (iz_utf8_next(p, len, &i, &cp) != 0) break;
    }
    return i;
}

int iz_utf8_incomplete(const void *s, size_t len)
{
    const unsigned char *p = s;
    size_t need;
    if (len == 0 || len > 3) return 0;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        need = 2;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        need = 3;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        need = 4;
    else
        return 0;
    if (len >= need) return 0;
    for (size_t k = 1; k < len; k++)
        if ((p[k] & 0xC0) != 0x80) return 0;
    return 1;
}

size_t iz_utf8_put(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > 0x10FFFF) return 0;
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

int iz_utf8_append(char *out, size_t outsz, size_t *len, uint32_t cp)
{
    char buf[4];
    size_t n = iz_utf8_put(cp, buf);
    if (n == 0) return IZ_EINVAL;
    if (*len >= outsz || outsz - *len <= n) return IZ_ETOOBIG;
    for (size_t k = 0; k < n; k++)
        out[*len + k] = buf[k];
    *len += n;
    return 0;
}
