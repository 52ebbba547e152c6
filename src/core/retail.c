/*
 * retail.c - a consent's retailer fields: reading their text forms,
 * writing the stored one (see retail.h).
 */
#include "core/retail.h"

#include <stdio.h>
#include <string.h>

void iz_retail_copy(iz_retail_t *dst, const iz_retail_t *src)
{
    dst->code = src->code;
    dst->n = src->n <= IZ_RETAIL_ACCESS_MAX ? src->n : IZ_RETAIL_ACCESS_MAX;
    if (dst->n) memcpy(dst->access, src->access, dst->n * sizeof dst->access[0]);
}

bool iz_retail_equal(const iz_retail_t *a, const iz_retail_t *b)
{
    return a->code == b->code && a->n == b->n &&
           (a->n == 0 || memcmp(a->access, b->access, a->n * sizeof a->access[0]) == 0);
}

bool iz_retail_code_parse(const char *s, size_t len, uint32_t *out)
{
    if (!s || len != 8) return false;
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    if (v < IZ_RETAIL_CODE_MIN) return false;
    *out = v;
    return true;
}

static bool is_sep(char c)
{
    return c == '|' || c == ',' || c == ' ' || c == '\t';
}

iz_retail_list_t iz_retail_list_parse(const char *s, size_t len, iz_retail_t *r, size_t *bad)
{
    size_t count = 0, i = 0;
    iz_retail_list_t res = IZ_RETAIL_LIST_OK;
    r->n = 0;
    /* Count first: a list over the limit is H126 whatever its codes are
     * (a format error, before any code is judged). */
    while (i < len) {
        while (i < len && is_sep(s[i]))
            i++;
        if (i == len) break;
        count++;
        while (i < len && !is_sep(s[i]))
            i++;
    }
    if (count == 0) return IZ_RETAIL_LIST_EMPTY;
    if (count > IZ_RETAIL_ACCESS_MAX) return IZ_RETAIL_LIST_TOO_LONG;
    for (i = 0; i < len;) {
        while (i < len && is_sep(s[i]))
            i++;
        if (i == len) break;
        size_t start = i;
        while (i < len && !is_sep(s[i]))
            i++;
        uint32_t code;
        if (!iz_retail_code_parse(s + start, i - start, &code)) {
            if (bad) *bad = r->n;
            res = IZ_RETAIL_LIST_BAD_CODE;
            break;
        }
        r->access[r->n++] = code;
    }
    return res;
}

void iz_retail_list_format(const iz_retail_t *r, char out[IZ_RETAIL_LIST_TEXT])
{
    size_t o = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < r->n && i < IZ_RETAIL_ACCESS_MAX; i++)
        o += (size_t)snprintf(out + o, IZ_RETAIL_LIST_TEXT - o, "%s%u", i ? "," : "",
                              (unsigned)r->access[i] % 100000000u);
}

void iz_retail_hash_text(const iz_retail_t *r, char out[IZ_RETAIL_HASH_TEXT])
{
    char list[IZ_RETAIL_LIST_TEXT];
    iz_retail_list_format(r, list);
    if (r->code)
        snprintf(out, IZ_RETAIL_HASH_TEXT, "%u/%s", (unsigned)r->code, list);
    else
        snprintf(out, IZ_RETAIL_HASH_TEXT, "/%s", list);
}

static bool known_code(uint32_t c, const int64_t *known, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (known[mid] == (int64_t)c) return true;
        if (known[mid] < (int64_t)c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

bool iz_retail_all_known(const iz_retail_t *r, const int64_t *known, size_t n, bool *at_code)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (!known_code(r->access[i], known, n)) {
            *at_code = false;
            return false;
        }
    if (r->code && !known_code(r->code, known, n)) {
        *at_code = true;
        return false;
    }
    return true;
}
