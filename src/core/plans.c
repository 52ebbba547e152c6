/*
 * plans.c - the plans file's strict reader and the money arithmetic (see
 * plans.h).
 */
#include "core/plans.h"

#include <stdio.h>
#include <string.h>

#include "core/iz.h"
#include "core/utf8.h"

/* Trim spaces and tabs from both ends of [*s, *e). */
static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

static bool is_dash(const char *s, const char *e)
{
    return e - s == 1 && *s == '-';
}

/* A limit: digits, groups of three after '.' or ','; from 1. */
static bool parse_limit(const char *s, const char *e, int64_t *out)
{
    int64_t v = 0;
    size_t group = 0, digits = 0;
    bool grouped = false;
    for (const char *p = s; p < e; p++) {
        if (*p >= '0' && *p <= '9') {
            if (v > (INT64_MAX - 9) / 10) return false;
            v = v * 10 + (*p - '0');
            group++;
            digits++;
        } else if ((*p == '.' || *p == ',') && group > 0 && (grouped ? group == 3 : group <= 3)) {
            grouped = true;
            group = 0;
        } else {
            return false;
        }
    }
    if (digits == 0 || (grouped && group != 3) || v < 1) return false;
    *out = v;
    return true;
}

/* A price: digits, optionally '.' and one or two decimals; in kuruş. */
static bool parse_price(const char *s, const char *e, int64_t *out)
{
    int64_t v = 0;
    size_t ints = 0, decs = 0;
    bool dot = false;
    for (const char *p = s; p < e; p++) {
        if (*p == '.' && !dot && ints > 0) {
            dot = true;
        } else if (*p >= '0' && *p <= '9') {
            if (dot && ++decs > 2) return false;
            if (!dot) ints++;
            if (v > (INT64_MAX / 1000)) return false;
            v = v * 10 + (*p - '0');
        } else {
            return false;
        }
    }
    if (ints == 0 || (dot && decs == 0)) return false;
    /* Bounded before the scaling into kuruş (which would overflow for 17
     * digits) so that its VAT (×120) fits too. */
    int64_t scale = decs == 2 ? 1 : decs == 1 ? 10 : 100;
    if (v > INT64_MAX / 200 / scale) return false;
    *out = v * scale;
    return true;
}

static int fail(int *line, int at, char *err, size_t errsz, const char *why)
{
    *line = at;
    snprintf(err, errsz, "%s", why);
    return IZ_EINVAL;
}

int iz_plans_parse(const char *text, size_t len, iz_plans_t *out, int *line, char *err,
                   size_t errsz)
{
    memset(out, 0, sizeof *out);
    *line = 0;
    if (errsz) err[0] = '\0';
    if (memchr(text, '\0', len) || iz_utf8_valid_prefix(text, len) != len)
        return fail(line, 1, err, errsz, "the file is not UTF-8 text");
    int at = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        at++;
        const char *hash = memchr(p, '#', (size_t)(le - p));
        const char *s = p, *e = hash ? hash : le;
        p = nl ? nl + 1 : end;
        trim(&s, &e);
        if (s == e) continue;
        const char *f[4][2];
        size_t nf = 0;
        for (const char *q = s;;) {
            const char *bar = memchr(q, '|', (size_t)(e - q));
            const char *fe = bar ? bar : e;
            if (nf == 4) return fail(line, at, err, errsz, "more than four fields");
            f[nf][0] = q;
            f[nf][1] = fe;
            trim(&f[nf][0], &f[nf][1]);
            nf++;
            if (!bar) break;
            q = bar + 1;
        }
        if (nf != 4)
            return fail(line, at, err, errsz, "a plan is four fields: code | name | limit | price");
        if (out->n == IZ_PLANS_MAX) return fail(line, at, err, errsz, "more than 64 plans");
        iz_plan_t *pl = &out->plan[out->n];
        size_t cl = (size_t)(f[0][1] - f[0][0]), nl2 = (size_t)(f[1][1] - f[1][0]);
        if (cl == 0 || cl >= IZ_PLAN_CODE_MAX ||
            strspn(f[0][0], "abcdefghijklmnopqrstuvwxyz0123456789-_") < cl)
            return fail(line, at, err, errsz, "the code must be 1-31 of a-z, 0-9, '-', '_'");
        memcpy(pl->code, f[0][0], cl);
        if (iz_plans_find(out, pl->code))
            return fail(line, at, err, errsz, "the code is already another plan's");
        if (nl2 == 0 || nl2 >= IZ_PLAN_NAME_MAX)
            return fail(line, at, err, errsz, "the name must be 1-63 bytes");
        for (size_t i = 0; i < nl2; i++)
            if ((unsigned char)f[1][0][i] < ' ' || f[1][0][i] == 0x7f)
                return fail(line, at, err, errsz, "the name has a control character");
        memcpy(pl->name, f[1][0], nl2);
        if (is_dash(f[2][0], f[2][1]))
            pl->limit = 0;
        else if (!parse_limit(f[2][0], f[2][1], &pl->limit))
            return fail(line, at, err, errsz,
                        "the limit must be a whole number from 1 (25000 or 25.000) or '-'");
        if (is_dash(f[3][0], f[3][1]))
            pl->price_kurus = -1;
        else if (!parse_price(f[3][0], f[3][1], &pl->price_kurus) ||
                 pl->price_kurus > INT64_MAX / 200)
            return fail(line, at, err, errsz,
                        "the price must be TRY before VAT (2400 or 2400.50) or '-'");
        out->n++;
    }
    if (out->n == 0) return fail(line, at ? at : 1, err, errsz, "the file has no plan");
    return 0;
}

const iz_plan_t *iz_plans_find(const iz_plans_t *p, const char *code)
{
    for (size_t i = 0; p && code && i < p->n; i++)
        if (strcmp(p->plan[i].code, code) == 0) return &p->plan[i];
    return NULL;
}

int64_t iz_plan_with_vat(int64_t kurus)
{
    if (kurus < 0) return -1;
    return (kurus * (100 + IZ_VAT_PERCENT) + 50) / 100;
}

void iz_money_format(int64_t kurus, char out[32])
{
    if (kurus < 0) {
        out[0] = '\0';
        return;
    }
    snprintf(out, 32, "%lld.%02lld", (long long)(kurus / 100), (long long)(kurus % 100));
}

void iz_plans_codes(const iz_plans_t *p, char *out, size_t outsz)
{
    if (outsz == 0) return;
    out[0] = '\0';
    for (size_t i = 0; i < p->n; i++) {
        if (i) iz_strlcpy(out + strlen(out), ", ", outsz - strlen(out));
        iz_strlcpy(out + strlen(out), p->plan[i].code, outsz - strlen(out));
    }
}
