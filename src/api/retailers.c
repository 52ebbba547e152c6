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

/* One call to İYS for a handler, on an outside-call worker. */
typedef enum { OP_LIST, OP_CREATE, OP_DELETE } op_t;

typedef struct iys_call {
    op_t op;
    iz_app_t *app;
    iz_iys_t *cli;
    iz_brand_t brand;
    iz_retailer_t rt; /* OP_CREATE's retailer; İYS's code once made */
    int64_t code;     /* OP_DELETE's retailer */
    /* the work's */
    int rc;
    iz_iys_res_t res;
} iys_call_t;

static void iys_call_work(iz_work_t *w, void *arg)
{
    (void)w;
    iys_call_t *c = arg;
    if (c->op == OP_LIST)
        c->rc = iz_retailers_sync(c->cli, c->app->store, &c->brand, &c->res);
    else if (c->op == OP_CREATE)
        c->rc = iz_retailer_create(c->cli, c->app->store, &c->brand, &c->rt, &c->res);
    else
        c->rc = iz_retailer_delete(c->cli, c->app->store, &c->brand, c->code, &c->res);
}

static void iys_call_end(iz_req_t *r, void *arg, iz_defer_end_t how)
{
    iys_call_t *c = arg;
    if (how != IZ_DEFER_DONE)
        iz_reply_defer_failed(r, how, "İYS", "İYS");
    else if (c->rc != 0)
        reply_failure(r, c->rc, &c->res);
    else if (c->op == OP_LIST)
        reply_list(r, c->app, &c->brand);
    else if (c->op == OP_CREATE)
        iz_reply_json(r, 201, iz_retailer_json(&c->rt));
    else
        iz_reply_json(r, 200, json_pack("{s:I, s:b}", "retailerCode", (json_int_t)c->code,
                                        "deleted", 1));
}

static void iys_call_free(void *arg)
{
    iys_call_t *c = arg;
    iz_iys_res_clear(&c->res);
    free(c);
}

/* Hand c (filled by the handler) to an outside-call worker. */
static void iys_call(iz_req_t *r, iz_app_t *app, iys_call_t *c)
{
    c->app = app;
    iz_req_defer(r, iys_call_work, iys_call_end, iys_call_free, c, (unsigned)app->iys_wait_ms);
}

void iz__h_retailers_get(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    bool cached;
    if (iz__api_brand(r, app, &brand) != 0 || iz__query_bool(r, "cached", false, &cached) != 0)
        return;
    if (cached) {
        reply_list(r, app, &brand);
        return;
    }
    iz_iys_t *cli = client_of(r, app);
    if (!cli) return;
    iys_call_t *c = iz_xcalloc(1, sizeof *c);
    c->op = OP_LIST;
    c->cli = cli;
    c->brand = brand;
    iys_call(r, app, c);
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
    iys_call_t *c = iz_xcalloc(1, sizeof *c);
    iz_retailer_t *rt = &c->rt;
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
    iz_iys_t *cli = ok ? client_of(r, app) : NULL;
    if (!cli) {
        free(c);
        return;
    }
    c->op = OP_CREATE;
    c->cli = cli;
    c->brand = brand;
    iys_call(r, app, c);
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
    iys_call_t *c = iz_xcalloc(1, sizeof *c);
    c->op = OP_DELETE;
    c->cli = cli;
    c->brand = brand;
    c->code = code;
    iys_call(r, app, c);
}
