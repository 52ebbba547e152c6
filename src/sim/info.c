/*
 * info.c - İYS's reference lists: GET /info/city (Turkey's 81 cities by
 * plate code), /info/city/{code}, /info/town (the towns, ilçe, with İYS's
 * town codes and their city's plate code) and /info/town/{code}; 204 for a
 * code that names none. Any valid token may read them (401 H351 without
 * one).
 *
 * The tables are data (data/tr-cities.tsv, data/tr-towns.tsv, copied from
 * the lists in İYS's specification, with its codes and spellings), linked
 * into the binary and read by core/places.c, once, on first use, into
 * immutable arrays.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "core/places.h"
#include "sim/sim_int.h"

#define INFO_CITIES 81
#define INFO_TOWNS_MAX 2000

typedef iz_place_t place_t;

static place_t cities[INFO_CITIES], towns[INFO_TOWNS_MAX];
static size_t ncities, ntowns;
static bool tables_ok;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* Read one table (core/places.h) into out; false when a line is malformed
 * or the table overflows. Codes must rise: the single look-ups bisect. */
static bool load(bool town_table, place_t *out, size_t max, size_t *n)
{
    const char *pos = NULL;
    place_t pl;
    int rc;
    *n = 0;
    while ((rc = iz_places_next(town_table, &pos, &pl)) == 1) {
        if (*n == max || (*n > 0 && pl.code <= out[*n - 1].code)) return false;
        out[(*n)++] = pl;
    }
    return rc == 0;
}

static void load_tables(void)
{
    tables_ok = load(false, cities, INFO_CITIES, &ncities) && ncities == INFO_CITIES &&
                load(true, towns, INFO_TOWNS_MAX, &ntowns) && ntowns > 0;
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
