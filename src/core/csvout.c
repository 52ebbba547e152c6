/*
 * csvout.c - RFC 4180 field quoting (see csvout.h).
 */
#include "core/csvout.h"

#include <string.h>

bool iz_csv_needs_quotes(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n') return true;
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
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') out[k++] = '"';
        out[k++] = s[i];
    }
    out[k++] = '"';
    return k;
}
