/*
 * iz.c - the shared conventions of izin: return-code descriptions, the
 * out-of-memory wrappers, bounded string copying, strict number parsing and
 * wiping of secrets.
 *
 * These helpers are deliberately small and free of global state so that
 * every layer, the CLI and the fuzz drivers can link them. Allocation
 * failure is not handled case by case: izin keeps everything it acknowledged
 * in its store, so aborting through iz_oom() loses nothing and keeps every
 * caller free of NULL checks.
 */
#include "core/iz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *iz_strerror(int rc)
{
    /* Indexed by -rc for the errors; the two non-negative codes first. */
    static const char *const errors[] = {
        "ok",
        "out of memory",
        "invalid argument or input",
        "not found",
        "already exists",
        "input/output error",
        "refused by an IYS rule",
        "busy, try again later",
        "input over its limit",
        "not supported",
        "over the plan's consent limit",
    };
    if (rc == IZ_REPEAT) return "identical change already recorded";
    if (rc > 0 || (size_t)-rc >= IZ_ARRAY_LEN(errors)) return "unknown error";
    return errors[-rc];
}

void iz_oom(void)
{
    /* No allocation here: write a fixed message and stop at once. */
    static const char msg[] = "izin: out of memory\n";
    fwrite(msg, 1, sizeof(msg) - 1, stderr);
    abort();
}

void *iz_xmalloc(size_t n)
{
    /* malloc(0) may return NULL legitimately; ask for one byte instead so
     * that NULL always means failure. */
    void *p = malloc(n ? n : 1);
    if (!p) iz_oom();
    return p;
}

void *iz_xcalloc(size_t n, size_t size)
{
    void *p;
    if (n == 0 || size == 0) n = size = 1;
    p = calloc(n, size); /* calloc checks n * size for overflow */
    if (!p) iz_oom();
    return p;
}

void *iz_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) iz_oom();
    return q;
}

char *iz_xstrdup(const char *s)
{
    return iz_xstrndup(s, strlen(s));
}

char *iz_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p;
    if (len == SIZE_MAX) iz_oom();
    p = iz_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

int iz_strlcpy(char *dst, const char *src, size_t dstsz)
{
    size_t len = strlen(src);
    if (dstsz == 0) return len ? IZ_ETOOBIG : IZ_OK;
    if (len >= dstsz) {
        memcpy(dst, src, dstsz - 1);
        dst[dstsz - 1] = '\0';
        return IZ_ETOOBIG;
    }
    memcpy(dst, src, len + 1);
    return IZ_OK;
}

/*
 * Accepts an optional '-' followed by one or more decimal digits and nothing
 * else: no spaces, no '+', no hexadecimal or octal prefixes. Leading zeros are
 * harmless and allowed. Overflow is detected digit by digit, so no value out
 * of the int64 range can wrap around into [min, max].
 */
int iz_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    int neg = 0;
    uint64_t mag = 0;
    uint64_t limit;
    int64_t v;

    if (!s || !out || min > max) return IZ_EINVAL;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    if (*s == '\0') return IZ_EINVAL;
    /* The magnitude of INT64_MIN is one more than INT64_MAX. */
    limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    for (; *s; s++) {
        unsigned d;
        if (*s < '0' || *s > '9') return IZ_EINVAL;
        d = (unsigned)(*s - '0');
        if (mag > (limit - d) / 10u) return IZ_EINVAL;
        mag = mag * 10u + d;
    }
    if (neg)
        v = mag == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)mag;
    else
        v = (int64_t)mag;
    if (v < min || v > max) return IZ_EINVAL;
    *out = v;
    return IZ_OK;
}

void iz_wipe(void *p, size_t n)
{
    if (p && n) explicit_bzero(p, n);
}
