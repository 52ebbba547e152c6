/*
 * places.c - reading İYS's city and town tables where the binary holds
 * them (see places.h).
 */
#include "core/places.h"

#include <string.h>

#include "core/iz.h"

extern const char iz_tr_cities_tsv[], iz_tr_cities_tsv_end[];
extern const char iz_tr_towns_tsv[], iz_tr_towns_tsv_end[];

/* Read the next data line's tab-separated fields (nf of them, the last
 * one running to the end of the line) into f; comment and blank lines are
 * skipped. 1 for a line, 0 at the end, -1 for a malformed line. */
static int next_line(const char **p, const char *end, char f[][IZ_PLACE_NAME_MAX], int nf)
{
    while (*p < end) {
        const char *nl = memchr(*p, '\n', (size_t)(end - *p));
        const char *le = nl ? nl : end;
        const char *s = *p;
        *p = nl ? nl + 1 : end;
        if (s == le || *s == '#') continue;
        for (int i = 0; i < nf; i++) {
            const char *tab = i < nf - 1 ? memchr(s, '\t', (size_t)(le - s)) : le;
            if (!tab || tab == s || (size_t)(tab - s) >= IZ_PLACE_NAME_MAX) return -1;
            memcpy(f[i], s, (size_t)(tab - s));
            f[i][tab - s] = '\0';
            s = tab + 1;
        }
        return 1;
    }
    return 0;
}

int iz_places_next(bool towns, const char **pos, iz_place_t *out)
{
    const char *begin = towns ? iz_tr_towns_tsv : iz_tr_cities_tsv;
    const char *end = towns ? iz_tr_towns_tsv_end : iz_tr_cities_tsv_end;
    if (!*pos) *pos = begin;
    char f[3][IZ_PLACE_NAME_MAX];
    int nf = towns ? 3 : 2;
    int rc = next_line(pos, end, f, nf);
    if (rc <= 0) return rc;
    memset(out, 0, sizeof *out);
    if (iz_parse_i64(f[0], 1, INT32_MAX, &out->code) != 0 ||
        (towns && iz_parse_i64(f[1], 1, 81, &out->city) != 0))
        return -1;
    memcpy(out->name, f[nf - 1], sizeof out->name);
    return 1;
}

int iz_place_find(bool towns, int64_t code, iz_place_t *out)
{
    const char *pos = NULL;
    iz_place_t p;
    int rc;
    while ((rc = iz_places_next(towns, &pos, &p)) == 1)
        if (p.code == code) {
            *out = p;
            return 0;
        }
    return IZ_ENOTFOUND;
}
