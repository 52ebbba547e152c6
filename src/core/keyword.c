/*
 * keyword.c - SMS keywords and numbers of a brand (see keyword.h).
 */
#include <stdbool.h>
#include <string.h>

#include "core/keyword.h"

#include "core/iz.h"
#include "core/smsmo.h"

/* In Turkish capitals; -1 when it does not fit in n bytes. */
static int tr_upper(const char *in, char *out, size_t n)
{
    static const char *const map[][2] = {{"i", "İ"}, {"ı", "I"}, {"ç", "Ç"}, {"ğ", "Ğ"},
                                         {"ö", "Ö"}, {"ş", "Ş"}, {"ü", "Ü"}};
    size_t o = 0;
    while (*in) {
        const char *rep = NULL;
        size_t used = 1;
        for (size_t k = 0; k < IZ_ARRAY_LEN(map) && !rep; k++)
            if (strncmp(in, map[k][0], strlen(map[k][0])) == 0) {
                rep = map[k][1];
                used = strlen(map[k][0]);
            }
        char one[2] = {*in >= 'a' && *in <= 'z' ? (char)(*in - 'a' + 'A') : *in, '\0'};
        if (!rep) rep = one;
        size_t len = strlen(rep);
        if (o + len >= n) return -1;
        memcpy(out + o, rep, len);
        o += len;
        in += used;
    }
    out[o] = '\0';
    return 0;
}

int iz_keyword(const char *in, char out[IZ_KEYWORD_MAX])
{
    /* The grammar's own test: 1 to 4 words, none an action or channel word. */
    if (iz_mo_keyword_check(in) != 0 || strlen(in) >= IZ_KEYWORD_MAX) return IZ_EINVAL;
    return tr_upper(in, out, IZ_KEYWORD_MAX) == 0 ? 0 : IZ_EINVAL;
}

static bool digits(const char *s, size_t n)
{
    if (strlen(s) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

bool iz_short_number_ok(const char *s)
{
    return digits(s, 4);
}

bool iz_subscriber_number_ok(const char *s)
{
    return digits(s, 11) && strncmp(s, "0850", 4) == 0;
}
