/*
 * retailers.c - a brand's retailers at İYS and izin's copy of them (see
 * retailers.h).
 */
#include "iys/retailers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "core/places.h"
#include "core/trtime.h"
#include "sys/log.h"

#define PAGE 100 /* İYS's largest page of retailers */

void iz_retailer_inputs(iz_retailer_t *r, iz_retailer_input_t out[IZ_RETAILER_INPUTS])
{
    const iz_retailer_input_t in[IZ_RETAILER_INPUTS] = {
        {"title", "title", r->title, sizeof r->title},
        {"name", "name", r->name, sizeof r->name},
        {"alias", "alias", r->alias, sizeof r->alias},
        {"tckn", "tckn", r->tckn, sizeof r->tckn},
        {"tin", "tin", r->tin, sizeof r->tin},
        {"mersis", "mersis", r->mersis, sizeof r->mersis},
        {"mobile", "mobile", r->mobile, sizeof r->mobile},
        {"cityCode", "city-code", r->city_code, sizeof r->city_code},
        {"townCode", "town-code", r->town_code, sizeof r->town_code},
        {"status", "status", r->status, sizeof r->status}};
    memcpy(out, in, sizeof in);
}

int iz_retailer_places(iz_retailer_t *r, const char **why, const char **field)
{
    int64_t city, town;
    iz_place_t c, t;
    if (iz_parse_i64(r->city_code, 1, 81, &city) != 0 || iz_place_find(false, city, &c) != 0) {
        *why = "the city code names no city (İYS's plate codes, 1 to 81)";
        *field = "cityCode";
        return IZ_EINVAL;
    }
    if (iz_parse_i64(r->town_code, 1, INT32_MAX, &town) != 0 ||
        iz_place_find(true, town, &t) != 0) {
        *why = "the town code names no town (İYS's town codes)";
        *field = "townCode";
        return IZ_EINVAL;
    }
    if (t.city != city) {
        *why = "the town is not in that city";
        *field = "townCode";
        return IZ_EINVAL;
    }
    /* The codes as İYS writes them (no leading zeros). */
    snprintf(r->city_code, sizeof r->city_code, "%lld", (long long)city);
    snprintf(r->town_code, sizeof r->town_code, "%lld", (long long)town);
    iz_strlcpy(r->city_name, c.name, sizeof r->city_name);
    iz_strlcpy(r->town_name, t.name, sizeof r->town_name);
    return 0;
}

/* The outcome of a call: 0 for an answer of 2xx, IZ_ERULE for İYS's
 * refusal, IZ_EBUSY when it did not answer (or no token could be had). */
static int outcome(const iz_iys_res_t *res)
{
    if (res->cls == IZ_IYS_OK) return 0;
    return res->cls == IZ_IYS_PERMANENT ? IZ_ERULE : IZ_EBUSY;
}

static json_t *place_json(const char *code, const char *name)
{
    return json_pack("{s:s, s:s}", "code", code, "name", name);
}

json_t *iz_retailer_json(const iz_retailer_t *r)
{
    json_t *o = json_object();
    if (r->code) json_object_set_new(o, "retailerCode", json_integer(r->code));
    const struct {
        const char *name, *v;
    } f[] = {{"title", r->title},   {"name", r->name},    {"alias", r->alias},
             {"tckn", r->tckn},     {"tin", r->tin},      {"mersis", r->mersis},
             {"mobile", r->mobile}, {"status", r->status}};
    for (size_t i = 0; i < IZ_ARRAY_LEN(f); i++)
        if (f[i].v[0]) json_object_set_new(o, f[i].name, json_string(f[i].v));
    if (r->city_code[0]) json_object_set_new(o, "city", place_json(r->city_code, r->city_name));
    if (r->town_code[0]) json_object_set_new(o, "town", place_json(r->town_code, r->town_name));
    json_object_set_new(o, "retailerAccessCount", json_integer(r->access_count));
    return o;
}

json_t *iz_retailers_json(const iz_retailer_t *list, size_t n, int64_t synced_ms)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, iz_retailer_json(&list[i]));
    json_t *out = json_pack("{s:o}", "list", arr);
    if (synced_ms) {
        char when[IZ_DATETIME_LEN];
        iz_tr_format(synced_ms / 1000, when);
        json_object_set_new(out, "syncedAt", json_string(when));
    }
    return out;
}

/* The body of createRetailer: İYS's CreateRetailerType, without what is
 * not given. */
static json_t *create_body(const iz_retailer_t *r)
{
    json_t *o = iz_retailer_json(r);
    json_object_del(o, "retailerCode");
    json_object_del(o, "retailerAccessCount");
    return o;
}

/* A text field of İYS's answer (a string, or a number İYS may send for
 * tckn, mersis and codes) into out: 0, or IZ_ETOOBIG when it does not fit
 * (never cut: the copy would name another retailer). */
static int take(json_t *v, char *out, size_t size)
{
    out[0] = '\0';
    if (json_is_integer(v)) {
        int n = snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return n >= 0 && (size_t)n < size ? 0 : IZ_ETOOBIG;
    }
    const char *s = json_string_value(v);
    return s ? iz_strlcpy(out, s, size) : 0;
}

/* One retailer of a searchRetailers page into r. */
static int read_retailer(json_t *o, iz_retailer_t *r)
{
    memset(r, 0, sizeof *r);
    json_t *code = json_object_get(o, "retailerCode");
    if (!json_is_integer(code) || json_integer_value(code) <= 0) return IZ_EINVAL;
    r->code = json_integer_value(code);
    json_t *city = json_object_get(o, "city"), *town = json_object_get(o, "town");
    int rc = take(json_object_get(o, "title"), r->title, sizeof r->title);
    if (!rc) rc = take(json_object_get(o, "name"), r->name, sizeof r->name);
    if (!rc) rc = take(json_object_get(o, "alias"), r->alias, sizeof r->alias);
    if (!rc) rc = take(json_object_get(o, "tckn"), r->tckn, sizeof r->tckn);
    if (!rc) rc = take(json_object_get(o, "tin"), r->tin, sizeof r->tin);
    if (!rc) rc = take(json_object_get(o, "mersis"), r->mersis, sizeof r->mersis);
    if (!rc) rc = take(json_object_get(o, "mobile"), r->mobile, sizeof r->mobile);
    if (!rc) rc = take(json_object_get(o, "status"), r->status, sizeof r->status);
    if (!rc) rc = take(json_object_get(city, "code"), r->city_code, sizeof r->city_code);
    if (!rc) rc = take(json_object_get(city, "name"), r->city_name, sizeof r->city_name);
    if (!rc) rc = take(json_object_get(town, "code"), r->town_code, sizeof r->town_code);
    if (!rc) rc = take(json_object_get(town, "name"), r->town_name, sizeof r->town_name);
    r->access_count = json_integer_value(json_object_get(o, "retailerAccessCount"));
    return rc;
}

int iz_retailers_sync(iz_iys_t *cli, iz_store_t *st, const iz_brand_t *brand, iz_iys_res_t *res)
{
    iz_retailer_t *all = NULL;
    size_t n = 0, cap = 0;
    int64_t total = -1;
    int rc = 0;
    for (int page = 0; rc == 0 && page < IZ_RETAILER_PAGES_MAX; page++) {
        int64_t offset = (int64_t)page * PAGE;
        if (total >= 0 && offset >= total) break;
        iz_iys_res_clear(res);
        iz_iys_retailer_list(cli, brand->code, offset, PAGE, res);
        if ((rc = outcome(res)) != 0) break;
        json_t *list = json_object_get(res->body, "list");
        json_t *tc = json_object_get(json_object_get(res->body, "pagination"), "totalCount");
        if (!json_is_array(list) || !json_is_integer(tc)) {
            snprintf(res->message, sizeof res->message, "İYS's list of retailers cannot be read");
            rc = IZ_EBUSY;
            break;
        }
        total = json_integer_value(tc);
        for (size_t i = 0; rc == 0 && i < json_array_size(list); i++) {
            if (n == cap) {
                cap = cap ? cap * 2 : PAGE;
                all = iz_xrealloc(all, cap * sizeof *all);
            }
            if ((rc = read_retailer(json_array_get(list, i), &all[n++])) != 0) {
                snprintf(res->message, sizeof res->message,
                         "a retailer in İYS's list cannot be kept (%s)", iz_strerror(rc));
                rc = IZ_EBUSY;
            }
        }
        if (json_array_size(list) == 0) break;
    }
    if (rc == 0 && total > (int64_t)n) {
        /* Over IZ_RETAILER_PAGES_MAX pages, or a list that shrank while
         * it was read: not whole, so not kept as whole. */
        snprintf(res->message, sizeof res->message, "İYS's list of retailers was not read whole");
        rc = IZ_EBUSY;
    }
    if (rc == 0) rc = iz_store_retailers_set(st, brand->id, all, n);
    free(all);
    return rc;
}

/* After a retailer was made or deleted at İYS: a copy that is not whole
 * yet is read whole now (a failure is logged: the retailer is at İYS, and
 * the next list brings the copy). */
static void copy_whole(iz_iys_t *cli, iz_store_t *st, const iz_brand_t *brand)
{
    iz_iys_res_t res = {0};
    int rc = iz_retailers_sync(cli, st, brand, &res);
    if (rc != 0)
        iz_logf(IZ_LOG_WARN, "retailers", "cannot read the brand's retailers from İYS",
                "brand=%lld error=%s message=\"%s\"", (long long)brand->code, iz_strerror(rc),
                res.message);
    iz_iys_res_clear(&res);
}

static bool copy_is_whole(iz_store_t *st, const iz_brand_t *brand, int *rc)
{
    int64_t *codes = NULL, synced = 0;
    size_t n = 0;
    *rc = iz_store_retailer_codes(st, brand->id, &codes, &n, &synced);
    free(codes);
    return *rc == 0 && synced != 0;
}

int iz_retailer_create(iz_iys_t *cli, iz_store_t *st, const iz_brand_t *brand, iz_retailer_t *r,
                       iz_iys_res_t *res)
{
    json_t *body = create_body(r);
    iz_iys_retailer_create(cli, brand->code, body, res);
    json_decref(body);
    int rc = outcome(res);
    if (rc != 0) return rc;
    json_t *code = json_object_get(res->body, "retailerCode");
    if (!json_is_integer(code) || json_integer_value(code) <= 0) {
        snprintf(res->message, sizeof res->message, "İYS's answer has no retailerCode");
        return IZ_EBUSY;
    }
    r->code = json_integer_value(code);
    if (!r->status[0]) iz_strlcpy(r->status, "active", sizeof r->status);
    r->access_count = 0;
    if (copy_is_whole(st, brand, &rc)) return iz_store_retailer_put(st, brand->id, r);
    if (rc != 0) return rc;
    copy_whole(cli, st, brand);
    return 0;
}

int iz_retailer_delete(iz_iys_t *cli, iz_store_t *st, const iz_brand_t *brand, int64_t code,
                       iz_iys_res_t *res)
{
    iz_iys_retailer_delete(cli, brand->code, code, res);
    int rc = outcome(res);
    if (rc != 0) return rc;
    if (copy_is_whole(st, brand, &rc)) {
        rc = iz_store_retailer_remove(st, brand->id, code);
        return rc == IZ_ENOTFOUND ? 0 : rc;
    }
    if (rc != 0) return rc;
    copy_whole(cli, st, brand);
    return 0;
}
