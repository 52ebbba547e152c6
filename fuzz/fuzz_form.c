/*
 * fuzz_form.c - libFuzzer driver for urlencoded forms and query strings
 * (net/form.h: iz_form_parse, iz_form_value, iz_form_urlencode), on a
 * request with no connection (iz_req_detached: the parser's arena).
 *
 * The input is a form body. Checks, against a decoder of the driver's own
 * written from the format (pieces between '&', name=value, '+' a space,
 * %XX a byte): the parse succeeds exactly when every piece decodes and
 * there are at most IZ_FORM_MAX_FIELDS pieces, and then gives those
 * fields, in order, with their exact bytes and lengths (a %00 kept, and
 * iz_form_value refusing that value); a value encoded by iz_form_urlencode
 * parses back to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "net/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode s[0..n) into out (n + 1 bytes); its length, or -1. */
static long ref_decode(const char *s, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (n - i < 3 || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) return -1;
            out[k++] = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            out[k++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    return (long)k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    iz_req_t *r = iz_req_detached();
    iz_form_t f;
    int rc = iz_form_parse(r, text, size, &f);
    char *name = malloc(size + 1), *val = malloc(size + 1);
    if (!name || !val) abort();
    /* Walk the pieces as the format says and compare. */
    size_t i = 0, field = 0;
    bool ok = true;
    while (i < size) {
        const char *amp = memchr(text + i, '&', size - i);
        size_t j = amp ? (size_t)(amp - text) : size;
        if (j > i) {
            const char *eq = memchr(text + i, '=', j - i);
            size_t nl = eq ? (size_t)(eq - (text + i)) : j - i;
            long n1 = ref_decode(text + i, nl, name);
            long n2 = eq ? ref_decode(eq + 1, (size_t)(text + j - eq - 1), val) : 0;
            if (n1 < 0 || n2 < 0 || field >= IZ_FORM_MAX_FIELDS) {
                ok = false;
                break;
            }
            if (rc == 0) {
                /* the name is read up to its first NUL, as handlers do */
                if (strlen(f.name[field]) != strnlen(name, (size_t)n1) ||
                    memcmp(f.name[field], name, strlen(f.name[field])) != 0 ||
                    f.value_len[field] != (size_t)n2 ||
                    memcmp(f.value[field], val, (size_t)n2) != 0 || f.value[field][n2] != '\0')
                    abort();
                bool has_nul = memchr(val, '\0', (size_t)n2) != NULL;
                /* the first field of that name is the one read */
                bool first = true;
                for (size_t q = 0; q < field && first; q++)
                    first = strcmp(f.name[q], f.name[field]) != 0;
                if (first) {
                    const char *v = iz_form_value(&f, f.name[field], (size_t)n2);
                    if ((v != NULL) == has_nul || (v && v != f.value[field])) abort();
                    if (iz_form_get(&f, f.name[field]) != f.value[field]) abort();
                    if (n2 > 0 && !has_nul && iz_form_value(&f, f.name[field], (size_t)n2 - 1))
                        abort(); /* one byte over the limit is refused */
                }
            }
            field++;
        }
        i = j + 1;
    }
    if ((rc == 0) != ok) abort();
    if (rc == 0 && f.n != field) abort();
    if (rc != 0 && rc != IZ_EINVAL) abort();
    /* Encoding: the input's bytes up to a NUL as a value, encoded, parse
     * back to themselves, and the encoding holds only safe bytes. */
    size_t tl = strnlen(text, size);
    memcpy(val, text, tl);
    val[tl] = '\0';
    const char *enc = iz_form_urlencode(r, val);
    for (const char *p = enc; *p; p++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%", *p))
            abort();
    char *body = malloc(strlen(enc) + 3);
    if (!body) abort();
    memcpy(body, "v=", 2);
    strcpy(body + 2, enc);
    if (iz_form_parse(r, body, strlen(body), &f) != 0 || f.n != 1 || f.value_len[0] != tl ||
        memcmp(f.value[0], val, tl) != 0)
        abort();
    free(body);
    free(name);
    free(val);
    iz_req_detached_free(r);
    return 0;
}
