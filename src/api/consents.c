/*
 * consents.c - POST /v1/brands/{b}/consents and GET .../consents/{recipient}.
 *
 * A posted change is recorded through the domain layer with origin API and
 * the client's address and user agent as its evidence: validated field by
 * field, judged by İYS's state rules inside the store's transaction, kept
 * LOCAL with warning H175 when it is a first RET (an opt-out is never
 * lost), and on its way to İYS once committed. The body may carry İYS's
 * retailerCode and retailerAccess, read as İYS reads them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "core/consent.h"
#include "core/hcode.h"
#include "core/iz.h"
#include "net/jsonconsent.h"

void iz__h_consent_post(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    json_t *body = iz__api_body(r, app, &brand, "H085");
    if (!body) return;
    iz_record_t *rec = iz_req_alloc(r, sizeof *rec);
    iz_consent_raw_from_json(body, iz_retail_json_fields, &rec->raw);
    iz_consent_raw_retail_from_json(body, iz_req_alloc(r, 24), iz_req_alloc(r, IZ_RETAIL_JSON_TEXT),
                                    &rec->raw);
    rec->origin = IZ_ORIGIN_API;
    rec->evidence = iz_api_evidence(r, NULL);
    int rc = iz_domain_record(app->dom, &brand, (int64_t)time(NULL), rec, 1);
    if (rc != 0) rec->rc = rc;
    iz__reply_record(r, body, rec, NULL);
    json_decref(body);
}

void iz__h_consent_get(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    iz_type_t type;
    iz_rtype_t rtype;
    if (iz__api_brand(r, app, &brand) != 0 || iz__query_type(r, &type, &rtype) != 0) return;
    const char *in = iz_req_param(r, "recipient");
    char norm[IZ_RECIPIENT_MAX];
    const char *hcode = NULL;
    if (iz_recipient_normalize(in, strlen(in), type, norm, &hcode) != 0) {
        json_t *v = json_string(in);
        iz_error_t e = {.code = hcode, .location = "recipient", .value = v, .index = -1};
        iz_reply_errors(r, iz_hcode_http(hcode), &e, 1);
        json_decref(v);
        return;
    }
    iz_change_t *list = NULL;
    size_t n = 0;
    int rc = iz_store_consent_history(app->store, brand.id, rtype, type, norm, &list, &n);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    if (n == 0) {
        free(list);
        iz_reply_error(r, "IZ404",
                       iz_req_english(r) ? "no consent record" : "Bu alıcı için izin kaydı yok.");
        return;
    }
    /* The current record is the newest change of the key; every change
     * shows its evidence, the proof kept with it. */
    json_t *out = iz_change_json(&list[0]);
    json_t *hist = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *c = iz_change_json(&list[i]);
        json_t *ev = list[i].evidence[0] ? json_loads(list[i].evidence, 0, NULL) : NULL;
        if (ev) json_object_set_new(c, "evidence", ev);
        json_array_append_new(hist, c);
    }
    json_object_set_new(out, "history", hist);
    free(list);
    iz_reply_json(r, 200, out);
}
