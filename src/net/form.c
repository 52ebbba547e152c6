/*
 * form.c - urlencoded form parsing, bounded field reads and URL encoding.
 *
 * Decoded values live in the request's arena. A value may legally contain
 * %00; its true length is kept in value_len so a handler can refuse it
 * rather than silently cut it at the NUL.
 */
#include "net/form.h"

#include <string.h>

#include "core/iz.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decode s[0..n) into a new arena string; -1 on a bad escape. */
static int decode(iz_req_t *r, const char *s, size_t n, const char **out, size_t *outlen)
{
    char *d = iz_req_alloc(r, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            d[k++] = ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= n) return -1;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            d[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[k++] = s[i];
        }
    }
    d[k] = '\0';
    *out = d;
    if (outlen) *outlen = k;
    return 0;
}

int iz_form_parse(iz_req_t *r, const char *text, size_t len, iz_form_t *out)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && text[j] != '&')
            j++;
        if (j > i) {
            if (out->n >= IZ_FORM_MAX_FIELDS) return IZ_EINVAL;
            const char *eq = memchr(text + i, '=', j - i);
            size_t nl = eq ? (size_t)(eq - (text + i)) : j - i;
            const char *vs = eq ? eq + 1 : text + j;
            size_t vl = eq ? (size_t)(text + j - vs) : 0;
            if (decode(r, text + i, nl, &out->name[out->n], NULL) != 0 ||
                decode(r, vs, vl, &out->value[out->n], &out->value_len[out->n]) != 0)
                return IZ_EINVAL;
            out->n++;
        }
        i = j + 1;
    }
    return 0;
}

const char *iz_form_get(const iz_form_t *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->name[i], name) == 0) return f->value[i];
    return NULL;
}

const char *iz_form_value(const iz_form_t *f, const char *name, size_t max)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->name[i], name) == 0) {
            if (strlen(f->value[i]) != f->value_len[i] || f->value_len[i] > max) return NULL;
            return f->value[i];
        }
    return NULL;
}

const char *iz_form_urlencode(iz_req_t *r, const char *text)
{
    static const char hexd[] = "0123456789ABCDEF";
    size_t n = strlen(text);
    char *o = iz_req_alloc(r, 3 * n + 1), *d = o;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            *d++ = (char)*p;
        } else {
            *d++ = '%';
            *d++ = hexd[*p >> 4];
            *d++ = hexd[*p & 15];
        }
    }
    *d = '\0';
    return o;
}
