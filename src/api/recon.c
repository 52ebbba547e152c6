/*
 * recon.c - GET /v1/brands/{brandCode}/iys/reconciliations?date=YYYY-MM-DD:
 * the brand's daily reconciliations with İYS (iys/recon.h) as the store
 * keeps them: the last result of each day, newest first (the last 31 days
 * kept when no date is given), each with what matched, what was repaired,
 * what could not be, the file's SHA-384, whether the agreement was
 * recorded and İYS's RFC 3161 timestamp reply (base64).
 */
#include <string.h>

#include "api/api_int.h"
#include "core/iz.h"
#include "core/trtime.h"
#include "iys/recon.h"

#define RECON_LIST_MAX 31

void iz__h_reconciliations(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    if (iz__api_brand(r, app, &brand) != 0) return;
    const char *date = iz_req_query(r, "date");
    int64_t e;
    if (date && iz_tr_parse_date(date, &e) != 0) {
        json_t *v = json_string(date);
        iz__reply_field(r, "date", v, "date YYYY-MM-DD biçiminde bir gün olmalıdır.",
                        "date must be a day written YYYY-MM-DD.");
        json_decref(v);
        return;
    }
    iz_recon_t *list = NULL;
    size_t n = 0;
    int rc = iz_store_recon_list(app->store, brand.id, date, RECON_LIST_MAX, &list, &n);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, iz_recon_json(&list[i], brand.code));
    iz_store_recon_free(list, n);
    iz_reply_json(r, 200, json_pack("{s:o}", "list", arr));
}
