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

/* A paged list of a brand: resolve {brandCode}, read ?after= (a cursor:
 * the last id seen) and ?limit= (1..FEED_MAX, default FEED_DEFAULT); answers
 * 422 IZ422 (or the brand's 404) and returns non-zero when one is wrong. */
static int page_begin(iz_req_t *r, iz_app_t *app, iz_brand_t *brand, int64_t *after,
                      int64_t *limit)
{
    if (iz__api_brand(r, app, brand) != 0) return -1;
    const char *a = iz_req_query(r, "after"), *l = iz_req_query(r, "limit");
    *after = 0;
    *limit = FEED_DEFAULT;
    const char *bad = NULL;
    if (a && *a && iz_parse_i64(a, 0, INT64_MAX, after) != 0)
        bad = "after";
    else if (l && iz_parse_i64(l, 1, FEED_MAX, limit) != 0)
        bad = "limit";
    if (!bad) return 0;
    json_t *v = json_string(bad[0] == 'a' ? a : l);
    if (bad[0] == 'a')
        iz__reply_field(r, "after", v, "after bu listeden alınmış bir imleç olmalıdır.",
                        "after must be a cursor from this list.");
    else
        iz__reply_field(r, "limit", v, "limit 1 ile 10000 arasında olmalıdır.",
                        "limit must be 1..10000.");
    json_decref(v);
    return -1;
}

/* The changes feed's page into arr; *last gets the last id. */
static int feed_page(iz_store_t *st, int64_t brand_id, int64_t after, size_t limit, json_t *arr,
                     int64_t *last)
{
    iz_change_t *list = NULL;
    size_t n = 0;
    int rc = iz_store_changes(st, brand_id, after, limit, &list, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_array_append_new(arr, iz_change_feed_json(&list[i]));
        *last = list[i].id;
    }
    free(list);
    return rc;
}

/* The quarantine's page into arr: each item with its raw JSON as İYS sent
 * it, the reason, how and when it came. */
static int quarantine_page(iz_store_t *st, int64_t brand_id, int64_t after, size_t limit,
                           json_t *arr, int64_t *last)
{
    iz_quarantine_t *q = NULL;
    size_t n = 0;
    int rc = iz_store_quarantine_list(st, brand_id, after, limit, &q, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char when[IZ_DATETIME_LEN];
        iz_tr_format(q[i].created_ms / 1000, when);
        json_t *raw = json_loads(q[i].raw, JSON_DECODE_ANY, NULL);
        json_t *o = json_pack("{s:I, s:s, s:o, s:s, s:s}", "id", (json_int_t)q[i].id, "via",
                              q[i].via, "raw", raw ? raw : json_string(q[i].raw), "reason",
                              q[i].reason, "receivedAt", when);
        if (q[i].source[0]) json_object_set_new(o, "source", json_string(q[i].source));
        json_array_append_new(arr, o);
        *last = q[i].id;
    }
    iz_store_quarantine_free(q, n);
    return rc;
}

typedef int (*page_fn)(iz_store_t *st, int64_t brand_id, int64_t after, size_t limit, json_t *arr,
                       int64_t *last);

/* Answer one page of a brand's list: {after: the last id of the page (the
 * cursor given when the page is empty), list}. */
static void paged(iz_req_t *r, iz_app_t *app, page_fn fill)
{
    iz_brand_t brand;
    int64_t after, limit;
    if (page_begin(r, app, &brand, &after, &limit) != 0) return;
    json_t *arr = json_array();
    int64_t last = after;
    int rc = fill(app->store, brand.id, after, (size_t)limit, arr, &last);
    if (rc != 0) {
        json_decref(arr);
        iz__reply_store_error(r, rc);
        return;
    }
    char next[24];
    snprintf(next, sizeof next, "%lld", (long long)last);
    iz_reply_json(r, 200, json_pack("{s:s, s:o}", "after", next, "list", arr));
}

void iz__h_changes(iz_req_t *r, void *app)
{
    paged(r, app, feed_page);
}

/* GET /v1/brands/{b}/iys/quarantine: the İYS changes izin could not apply,
 * oldest first, paged like the feed. */
void iz__h_quarantine(iz_req_t *r, void *app)
{
    paged(r, app, quarantine_page);
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
