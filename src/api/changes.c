/*
 * changes.c - the changes feed (GET /v1/brands/{b}/changes) and the
 * endpoint that receives İYS's push (POST /v1/iys/push/{iysCode}/{brandCode}).
 *
 * The feed lists a brand's changes in commit order from every origin, so a
 * customer's system can follow what people did on İYS's channels as well as
 * its own. The cursor `after` is the last change's id as a string; clients
 * treat it as opaque.
 *
 * GET .../iys/quarantine lists the İYS changes that could not be applied.
 *
 * The push endpoint is what a brand registers at İYS: İYS POSTs {list:[...]}
 * of IYS_* changes with HTTP Basic credentials and wants an answer within
 * 5 s. The changes are applied at once (a few local writes) and answered
 * 200; the scheduled pull still runs as the safety net.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>

#include "api/api_int.h"
#include "core/iz.h"

#define FEED_DEFAULT 1000
#define FEED_MAX 10000

/* ?after= (a cursor: the last id seen) and ?limit= (1..FEED_MAX); answers
 * 422 IZ422 and returns non-zero when either is wrong. */
static int page_params(iz_req_t *r, int64_t *after, int64_t *limit)
{
    const char *a = iz_req_query(r, "after"), *l = iz_req_query(r, "limit");
    if (a && *a && iz_parse_i64(a, 0, INT64_MAX, after) != 0) {
        json_t *v = json_string(a);
        iz__reply_field(r, "after", v, "after bu listeden alınmış bir imleç olmalıdır.",
                        "after must be a cursor from this list.");
        json_decref(v);
        return -1;
    }
    if (l && iz_parse_i64(l, 1, FEED_MAX, limit) != 0) {
        json_t *v = json_string(l);
        iz__reply_field(r, "limit", v, "limit 1 ile 10000 arasında olmalıdır.",
                        "limit must be 1..10000.");
        json_decref(v);
        return -1;
    }
    return 0;
}

void iz__h_changes(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    if (iz__api_brand(r, app, &brand) != 0) return;
    int64_t after = 0, limit = FEED_DEFAULT;
    if (page_params(r, &after, &limit) != 0) return;
    iz_change_t *list = NULL;
    size_t n = 0;
    int rc = iz_store_changes(app->store, brand.id, after, (size_t)limit, &list, &n);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *c = iz__change_json(&list[i]);
        json_object_del(c, "iys");
        json_array_append_new(arr, c);
    }
    char next[24];
    snprintf(next, sizeof next, "%lld", (long long)(n ? list[n - 1].id : after));
    free(list);
    iz_reply_json(r, 200, json_pack("{s:s, s:o}", "after", next, "list", arr));
}

/* GET /v1/brands/{b}/iys/quarantine: the İYS changes izin could not apply,
 * with their raw JSON and the reason, oldest first, paged like the feed. */
void iz__h_quarantine(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    if (iz__api_brand(r, app, &brand) != 0) return;
    int64_t after = 0, limit = FEED_DEFAULT;
    if (page_params(r, &after, &limit) != 0) return;
    iz_quarantine_t *list = NULL;
    size_t n = 0;
    int rc = iz_store_quarantine_list(app->store, brand.id, after, (size_t)limit, &list, &n);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char when[IZ_DATETIME_LEN];
        iz_tr_format(list[i].created_ms / 1000, when);
        json_t *raw = json_loads(list[i].raw, JSON_DECODE_ANY, NULL);
        json_t *o = json_pack("{s:I, s:s, s:o, s:s, s:s}", "id", (json_int_t)list[i].id, "via",
                              list[i].via, "raw", raw ? raw : json_string(list[i].raw), "reason",
                              list[i].reason, "receivedAt", when);
        if (list[i].source[0]) json_object_set_new(o, "source", json_string(list[i].source));
        json_array_append_new(arr, o);
    }
    char next[24];
    snprintf(next, sizeof next, "%lld", (long long)(n ? list[n - 1].id : after));
    iz_store_quarantine_free(list, n);
    iz_reply_json(r, 200, json_pack("{s:s, s:o}", "after", next, "list", arr));
}

/* Check "Authorization: Basic base64(user:password)" in constant time. */
static bool basic_ok(iz_req_t *r, const char *user, const char *pass)
{
    const char *h = iz_req_header(r, "Authorization");
    if (!h || !user || !pass || strncasecmp(h, "Basic ", 6) != 0) return false;
    const char *b64 = h + 6;
    size_t n = strlen(b64);
    if (n == 0 || n > 512 || n % 4 != 0) return false;
    unsigned char dec[400];
    int len = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)n);
    if (len < 0) return false;
    /* EVP_DecodeBlock counts the padding as zero bytes: drop them. */
    if (n >= 1 && b64[n - 1] == '=') len--;
    if (n >= 2 && b64[n - 2] == '=') len--;
    char want[300];
    int wl = snprintf(want, sizeof want, "%s:%s", user, pass);
    bool ok = wl > 0 && (size_t)wl < sizeof want && len == wl &&
              CRYPTO_memcmp(dec, want, (size_t)wl) == 0;
    iz_wipe(dec, sizeof dec);
    iz_wipe(want, sizeof want);
    return ok;
}

void iz__h_iys_push(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    if (!basic_ok(r, app->push_user, app->push_password)) {
        iz_reply_header(r, "WWW-Authenticate", "Basic realm=\"izin-iys-push\"");
        iz_reply_error(r, "IZ401", NULL);
        return;
    }
    int64_t iys_code, brand_code;
    if (iz_parse_i64(iz_req_param(r, "iysCode"), 1, INT64_MAX, &iys_code) != 0 ||
        iz_parse_i64(iz_req_param(r, "brandCode"), 1, INT64_MAX, &brand_code) != 0) {
        iz_reply_error(r, "IZ404", NULL);
        return;
    }
    iz_brand_t *brands = NULL, *brand = NULL;
    size_t nb = 0;
    int rc = iz_store_brands_all(app->store, &brands, &nb);
    for (size_t i = 0; rc == 0 && i < nb && !brand; i++) {
        iz_account_t a;
        if (brands[i].code == brand_code &&
            iz_store_account_get(app->store, brands[i].account_id, &a) == 0 &&
            a.iys_code == iys_code)
            brand = &brands[i];
    }
    if (rc != 0 || !brand) {
        free(brands);
        if (rc != 0)
            iz__reply_store_error(r, rc);
        else
            iz_reply_error(r, "IZ404", NULL);
        return;
    }
    json_t *body = iz_req_json(r);
    if (!body) {
        free(brands);
        return;
    }
    json_t *list = json_object_get(body, "list");
    if (!json_is_array(list) || json_array_size(list) > 1000) {
        iz_error_t e = {.code = "H478", .location = "list", .index = -1};
        iz_reply_errors(r, 422, &e, 1);
    } else {
        /* İYS names the brand in each item; an item for another brand (such
         * as İYS's test payload at registration, iysCode 121212) is not
         * this brand's change and is acknowledged without being applied. */
        json_t *mine = json_array();
        size_t i;
        json_t *it;
        json_array_foreach(list, i, it)
        {
            json_t *ic = json_object_get(it, "iysCode"), *bc = json_object_get(it, "brandCode");
            if ((ic && json_integer_value(ic) != iys_code) ||
                (bc && json_integer_value(bc) != brand_code))
                continue;
            json_array_append(mine, it);
        }
        size_t applied = 0, kept = 0;
        int rc2 = iz_domain_apply_remote(app->dom, brand, "push", NULL, mine, &applied, &kept);
        json_decref(mine);
        if (rc2 != 0)
            iz__reply_store_error(r, rc2);
        else
            iz_reply_json(r, 200, json_pack("{s:I, s:I}", "applied", (json_int_t)applied,
                                            "quarantined", (json_int_t)kept));
    }
    json_decref(body);
    free(brands);
}
