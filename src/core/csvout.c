/*
 * csvout.c - RFC 4180 field quoting (see csvout.h).
 */
#include "core/csvout.h"

#include <string.h>

bool iz_csv_needs_quotes(const char *s, size_t n)
{
    if (iz_csv_formula_like(s, n)) return true;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n') return true;
    return false;
}

bool iz_csv_formula_like(const char *s, size_t n)
{
    if (n == 0) return false;
    if (s[0] == '=' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') return true;
    if (s[0] != '+' && s[0] != '-') return false;
    /* A signed number (a phone number "+90 532 ...") is no formula. */
    for (size_t i = 1; i < n; i++)
        if (!(s[i] >= '0' && s[i] <= '9') && s[i] != ' ' && s[i] != '.') return true;
    return false;
}

size_t iz_csv_field(char *out, const char *s, size_t n)
{
    if (!iz_csv_needs_quotes(s, n)) {
        memcpy(out, s, n);
        return n;
    }
    size_t k = 0;
    out[k++] = '"';
    if (iz_csv_formula_like(s, n)) out[k++] = '\''; /* shown as text, not run */
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') out[k++] = '"';
        out[k++] = s[i];
    }
    out[k++] = '"';
    return k;
}
