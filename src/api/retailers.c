/*
 * retailers.c - a brand's retailers (İYS's bayi) over HTTP:
 * GET /v1/brands/{b}/retailers (read from İYS, kept as izin's copy; with
 * ?cached=true the copy alone), POST .../retailers (made at İYS) and
 * DELETE .../retailers/{retailerCode}. The work is iys/retailers.c's, on
 * the account's İYS client of the sync engine (its requests share the
 * URL's rate budget with the sync).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/iz.h"
#include "iys/retailers.h"

/* The account's İYS client, or NULL after answering 503. */
static iz_iys_t *client_of(iz_req_t *r, iz_app_t *app)
{
    iz_iys_t *cli = app->sync ? iz_sync_client(app->sync, iz_req_account(r)) : NULL;
    if (!cli)
        iz_reply_error(r, "IZ503",
                       iz_req_english(r) ? "this account has no İYS configured"
                                         : "Bu hesap için İYS ayarlanmamış.");
    return cli;
}

/* Answer a failed İYS call: İYS's refusal with its status, code and
 * message; no answer as 503; a store failure as 500. */
static void reply_failure(iz_req_t *r, int rc, const iz_iys_res_t *res)
{
    if (rc == IZ_ERULE) {
        iz_error_t e = {.code = res->code, .message = res->message, .index = -1};
        iz_reply_errors(r, (int)res->http, &e, 1);
    } else if (rc == IZ_EBUSY) {
        char msg[320];
        snprintf(msg, sizeof msg, "%s: %s",
                 iz_req_english(r) ? "İYS did not answer" : "İYS yanıt vermedi",
                 res->message[0] ? res->message : "-");
        iz_reply_error(r, "IZ503", msg);
    } else {
        iz__reply_store_error(r, rc);
    }
}

static void reply_list(iz_req_t *r, iz_app_t *app, const iz_brand_t *brand)
{
    iz_retailer_t *list = NULL;
    size_t n = 0;
    int64_t synced = 0;
    int rc = iz_store_retailers_get(app->store, brand->id, &list, &n, &synced);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    json_t *out = iz_retailers_json(list, n, synced);
    free(list);
    iz_reply_json(r, 200, out);
}

void iz__h_retailers_get(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    bool cached;
    if (iz__api_brand(r, app, &brand) != 0 || iz__query_bool(r, "cached", false, &cached) != 0)
        return;
    if (!cached) {
        iz_iys_t *cli = client_of(r, app);
        if (!cli) return;
        iz_iys_res_t res = {0};
        int rc = iz_retailers_sync(cli, app->store, &brand, &res);
        if (rc != 0) reply_failure(r, rc, &res);
        iz_iys_res_clear(&res);
        if (rc != 0) return;
    }
    reply_list(r, app, &brand);
}

/* A text field of the body (a string, or an integer for the numbers) into
 * out: 0, or answers 422 and returns -1. */
static int body_text(iz_req_t *r, json_t *body, const char *name, char *out, size_t size)
{
    json_t *v = json_object_get(body, name);
    out[0] = '\0';
    if (!v || json_is_null(v)) return 0;
    int rc = IZ_EINVAL;
    if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v))
        rc = iz_strlcpy(out, json_string_value(v), size);
    else if (json_is_integer(v) && json_integer_value(v) >= 0)
        rc = snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < (int)size
                 ? 0
                 : IZ_ETOOBIG;
    if (rc == 0) return 0;
    char tr[128], en[128];
    snprintf(tr, sizeof tr, "%s en fazla %zu karakterlik bir metin olmalıdır.", name, size - 1);
    snprintf(en, sizeof en, "%s must be a text of at most %zu characters.", name, size - 1);
    iz__reply_field(r, name, v, tr, en);
    return -1;
}

void iz__h_retailers_post(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    json_t *body = iz__api_body(r, app, &brand, NULL);
    if (!body) return;
    iz_retailer_t *rt = iz_req_alloc(r, sizeof *rt);
    memset(rt, 0, sizeof *rt);
    iz_retailer_input_t f[IZ_RETAILER_INPUTS];
    const char *known[IZ_RETAILER_INPUTS];
    iz_retailer_inputs(rt, f);
    for (size_t i = 0; i < IZ_RETAILER_INPUTS; i++)
        known[i] = f[i].field;
    bool ok = iz__body_fields(r, body, known, IZ_RETAILER_INPUTS) == 0;
    for (size_t i = 0; ok && i < IZ_RETAILER_INPUTS; i++)
        ok = body_text(r, body, f[i].field, f[i].out, f[i].size) == 0;
    const char *why = NULL, *field = NULL;
    if (ok && iz_retailer_places(rt, &why, &field) != 0) {
        iz__reply_field(r, field, json_object_get(body, field),
                        strcmp(field, "cityCode") == 0
                            ? "cityCode bir il kodu olmalıdır (İYS'nin plaka kodları, 1-81)."
                            : "townCode, cityCode ilinin bir ilçesinin İYS kodu olmalıdır.",
                        why);
        ok = false;
    }
    json_decref(body);
    if (!ok) return;
    iz_iys_t *cli = client_of(r, app);
    if (!cli) return;
    iz_iys_res_t res = {0};
    int rc = iz_retailer_create(cli, app->store, &brand, rt, &res);
    if (rc != 0)
        reply_failure(r, rc, &res);
    else
        iz_reply_json(r, 201, iz_retailer_json(rt));
    iz_iys_res_clear(&res);
}

void iz__h_retailer_delete(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    if (iz__api_brand(r, app, &brand) != 0) return;
    int64_t code;
    if (iz_parse_i64(iz_req_param(r, "retailerCode"), 1, INT64_MAX, &code) != 0) {
        iz_reply_error(r, "IZ404", iz_req_english(r) ? "retailer not found" : "Bayi bulunamadı.");
        return;
    }
    iz_iys_t *cli = client_of(r, app);
    if (!cli) return;
    iz_iys_res_t res = {0};
    int rc = iz_retailer_delete(cli, app->store, &brand, code, &res);
    if (rc != 0)
        reply_failure(r, rc, &res);
    else
        iz_reply_json(r, 200,
                      json_pack("{s:I, s:b}", "retailerCode", (json_int_t)code, "deleted", 1));
    iz_iys_res_clear(&res);
}
