/*
 * places.h - Turkey's cities (il) and towns (ilçe) as İYS lists them, with
 * İYS's codes and spellings (data/tr-cities.tsv, data/tr-towns.tsv, linked
 * into the binary by places_data.S). The emulator's /info calls list them;
 * the module names a retailer's city and town from their codes.
 *
 * Pure: the tables are constant data read in place, no allocation, no
 * global state.
 */
#ifndef IZ_PLACES_H
#define IZ_PLACES_H

#include <stdbool.h>
#include <stdint.h>

#define IZ_PLACE_NAME_MAX 64 /* bytes of a name with its NUL */

typedef struct iz_place {
    int64_t code;
    int64_t city; /* a town's city (plate code); 0 for a city */
    char name[IZ_PLACE_NAME_MAX];
} iz_place_t;

/* A walk over one table: start with *pos NULL. The next place into *out:
 * 1, 0 at the end, -1 for a malformed line (a broken build). */
int iz_places_next(bool towns, const char **pos, iz_place_t *out);

/* The city or town with that code: 0 with *out, IZ_ENOTFOUND when none
 * has it (or the table cannot be read). */
int iz_place_find(bool towns, int64_t code, iz_place_t *out);

#endif
