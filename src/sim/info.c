/*
 * info.c - İYS's reference lists: GET /info/city (Turkey's 81 cities by
 * plate code), /info/city/{code}, /info/town (the towns, ilçe, with İYS's
 * town codes and their city's plate code) and /info/town/{code}; 204 for a
 * code that names none. Any valid token may read them (401 H351 without
 * one).
 *
 * The tables are data (data/tr-cities.tsv, data/tr-towns.tsv, copied from
 * the lists in İYS's specification, with its codes and spellings), linked
 * into the binary by info_data.S and read once, on first use, into
 * immutable arrays.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "sim/sim_int.h"

#define INFO_NAME_MAX 64 /* bytes of a name ("Afyonkarahisar Merkez" and the longest towns) */
#define INFO_CITIES 81
#define INFO_TOWNS_MAX 2000

extern const char iz_tr_cities_tsv[], iz_tr_cities_tsv_end[];
extern const char iz_tr_towns_tsv[], iz_tr_towns_tsv_end[];

typedef struct place {
    int64_t code;
    int64_t city; /* a town's city (plate code); 0 for a city */
    char name[INFO_NAME_MAX];
} place_t;

static place_t cities[INFO_CITIES], towns[INFO_TOWNS_MAX];
static size_t ncities, ntowns;
static bool tables_ok;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* Read the next data line's tab-separated fields (nf of them, the last
 * one running to the end of the line) into f; comment and blank lines are
 * skipped. 1 for a line, 0 at the end, -1 for a malformed line. */
static int next_line(const char **p, const char *end, char f[][INFO_NAME_MAX], int nf)
{
    while (*p < end) {
        const char *nl = memchr(*p, '\n', (size_t)(end - *p));
        const char *le = nl ? nl : end;
        const char *s = *p;
        *p = nl ? nl + 1 : end;
        if (s == le || *s == '#') continue;
        for (int i = 0; i < nf; i++) {
            const char *tab = i < nf - 1 ? memchr(s, '\t', (size_t)(le - s)) : le;
            if (!tab || tab == s || (size_t)(tab - s) >= INFO_NAME_MAX) return -1;
            memcpy(f[i], s, (size_t)(tab - s));
            f[i][tab - s] = '\0';
            s = tab + 1;
        }
        return 1;
    }
    return 0;
}

/* Read one table (nf 2: code, name; nf 3: code, city, name) into out;
 * false when a line is malformed or the table overflows. Codes must rise:
 * the single look-ups bisect. */
static bool load(const char *begin, const char *end, int nf, place_t *out, size_t max, size_t *n)
{
    char f[3][INFO_NAME_MAX];
    const char *p = begin;
    int rc;
    *n = 0;
    while ((rc = next_line(&p, end, f, nf)) == 1) {
        place_t pl = {0};
        if (*n == max || iz_parse_i64(f[0], 1, INT32_MAX, &pl.code) != 0 ||
            (nf == 3 && iz_parse_i64(f[1], 1, INFO_CITIES, &pl.city) != 0) ||
            (*n > 0 && pl.code <= out[*n - 1].code))
            return false;
        memcpy(pl.name, f[nf - 1], sizeof pl.name);
        out[(*n)++] = pl;
    }
    return rc == 0;
}

static void load_tables(void)
{
    tables_ok = load(iz_tr_cities_tsv, iz_tr_cities_tsv_end, 2, cities, INFO_CITIES, &ncities) &&
                ncities == INFO_CITIES &&
                load(iz_tr_towns_tsv, iz_tr_towns_tsv_end, 3, towns, INFO_TOWNS_MAX, &ntowns) &&
                ntowns > 0;
}

/* The token check and the tables; false after answering. */
static bool info_prologue(iz_req_t *r, iz_sim_t *sim, const char *fail_code)
{
    int64_t owner;
    if (iz__sim_bearer(r, sim, &owner) != 0) return false;
    pthread_once(&tables_once, load_tables);
    if (!tables_ok) {
        iz_reply_error(r, fail_code, NULL);
        return false;
    }
    return true;
}

/* A place as İYS writes it: {code, name} for a city, {name, code,
 * city_code} for a town (the examples' spelling; the schema's "cityCode"
 * is not what İYS sends). */
static json_t *place_json(const place_t *p)
{
    if (!p->city) return json_pack("{s:I, s:s}", "code", (json_int_t)p->code, "name", p->name);
    return json_pack("{s:s, s:I, s:I}", "name", p->name, "code", (json_int_t)p->code, "city_code",
                     (json_int_t)p->city);
}

static void reply_list(iz_req_t *r, iz_sim_t *sim, const place_t *list, const size_t *n)
{
    if (!info_prologue(r, sim, "H082")) return;
    json_t *out = json_array();
    for (size_t i = 0; i < *n; i++)
        json_array_append_new(out, place_json(&list[i]));
    iz_reply_json(r, 200, out);
}

static int cmp_code(const void *key, const void *elem)
{
    int64_t k = *(const int64_t *)key, c = ((const place_t *)elem)->code;
    return k < c ? -1 : k > c;
}

/* The place the path's {code} names, or 204: a code that is not a
 * positive integer names none either. */
static void reply_one(iz_req_t *r, iz_sim_t *sim, const place_t *list, const size_t *n)
{
    if (!info_prologue(r, sim, "H241")) return;
    const char *s = iz_req_param(r, "code");
    int64_t code;
    const place_t *p = NULL;
    if (s && iz_parse_i64(s, 1, INT32_MAX, &code) == 0)
        p = bsearch(&code, list, *n, sizeof *list, cmp_code);
    if (!p) {
        iz_reply_bytes(r, 204, NULL, "", 0);
        return;
    }
    iz_reply_json(r, 200, place_json(p));
}

void iz__sim_h_cities(iz_req_t *r, void *app)
{
    reply_list(r, app, cities, &ncities);
}

void iz__sim_h_city(iz_req_t *r, void *app)
{
    reply_one(r, app, cities, &ncities);
}

void iz__sim_h_towns(iz_req_t *r, void *app)
{
    reply_list(r, app, towns, &ntowns);
}

void iz__sim_h_town(iz_req_t *r, void *app)
{
    reply_one(r, app, towns, &ntowns);
}
