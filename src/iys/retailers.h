/*
 * retailers.h - a brand's retailers (İYS's bayi), managed through izin:
 * made, listed and deleted at İYS with the account's İYS client, and kept
 * in the store as izin's copy of the brand's list (store.h, retailers).
 *
 * The copy is what lets the domain refuse a consent naming a retailer the
 * brand does not have (H180) before anything goes to İYS. It counts only
 * once it is whole: a list read from İYS page by page, which replaces the
 * copy and notes when. A retailer izin makes or deletes changes a whole
 * copy in place; when the copy is not whole yet, the call reads the whole
 * list after it. A retailer made or deleted elsewhere (İYS's own screens)
 * is seen at the next list.
 *
 * Used by the CLI (izin retailer) and the API (/v1/brands/{b}/retailers);
 * every call blocks on İYS.
 */
#ifndef IZ_IYS_RETAILERS_H
#define IZ_IYS_RETAILERS_H

#include <jansson.h>

#include "iys/client.h"
#include "store/store.h"

#define IZ_RETAILER_PAGES_MAX 1000 /* pages of 100 a list reads at most */

/* What a user gives to make a retailer, in order: the field's name in the
 * API, its command-line option, and where its text goes in r. */
#define IZ_RETAILER_INPUTS 10
typedef struct iz_retailer_input {
    const char *field, *option;
    char *out;
    size_t size;
} iz_retailer_input_t;
void iz_retailer_inputs(iz_retailer_t *r, iz_retailer_input_t out[IZ_RETAILER_INPUTS]);

/* Fill r's city and town names from their codes (İYS's tables,
 * core/places.h). 0, or IZ_EINVAL with *why (static English text, and
 * *field the option's field) when a code names no place or the town is
 * not in the city. */
int iz_retailer_places(iz_retailer_t *r, const char **why, const char **field);

/* Make r (title, name, alias, tckn, tin, mersis, mobile, the city and
 * town with their names, status; "" for what is not given) at İYS for
 * brand, and keep it: 0 with r->code set. IZ_ERULE when İYS refused it
 * (res->code, res->message, res->http say why), IZ_EBUSY when İYS did not
 * answer (res->message), or the store's failure. res is the caller's to
 * clear. */
int iz_retailer_create(iz_iys_t *cli, iz_store_t *st, const iz_brand_t *brand, iz_retailer_t *r,
                       iz_iys_res_t *res);

/* Read the brand's whole list from İYS and make it izin's copy. Returns as
 * iz_retailer_create. */
int iz_retailers_sync(iz_iys_t *cli, iz_store_t *st, const iz_brand_t *brand, iz_iys_res_t *res);

/* Delete the brand's retailer code at İYS and from the copy. Returns as
 * iz_retailer_create (İYS's H058 for an unknown code is IZ_ERULE). */
int iz_retailer_delete(iz_iys_t *cli, iz_store_t *st, const iz_brand_t *brand, int64_t code,
                       iz_iys_res_t *res);

/* A retailer as izin shows it: İYS's fields (retailerCode, title, name,
 * alias, tckn, tin, mersis, mobile, city {code, name}, town {code, name},
 * status, retailerAccessCount), those it has not left out. New reference. */
json_t *iz_retailer_json(const iz_retailer_t *r);

/* {"list": [retailers], "syncedAt": "YYYY-MM-DD HH:MM:SS" (when the copy
 * was last read whole from İYS, Turkey time; absent when never)}: what the
 * API and `izin retailer list --json` answer. New reference. */
json_t *iz_retailers_json(const iz_retailer_t *list, size_t n, int64_t synced_ms);

#endif
