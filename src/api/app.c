/*
 * app.c - what the module's handlers share: the route table, bearer-key
 * authentication, brand resolution scoped to the key's account, and the JSON
 * form of a change.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "core/iz.h"
#include "sys/crypto.h"

static const iz_route_t routes[] = {
    {"GET", "/healthz", iz__h_healthz, 0, "healthz"},
    {"POST", "/v1/brands/{brandCode}/consents", iz__h_consent_post, IZ_ROUTE_AUTH, "consent_add"},
    {"GET", "/v1/brands/{brandCode}/consents/{recipient}", iz__h_consent_get, IZ_ROUTE_AUTH,
     "consent_get"},
    {"POST", "/v1/brands/{brandCode}/check", iz__h_check_post, IZ_ROUTE_AUTH | IZ_ROUTE_STREAM,
     "check"},
    {"GET", "/v1/brands/{brandCode}/check/{recipient}", iz__h_check_get, IZ_ROUTE_AUTH,
     "check_one"},
    {"GET", "/v1/brands/{brandCode}/changes", iz__h_changes, IZ_ROUTE_AUTH, "changes"},
    {"POST", "/v1/iys/push/{iysCode}/{brandCode}", iz__h_iys_push, 0, "iys_push"},
    {"POST", "/v1/brands/{brandCode}/sms/send", iz__h_sms_send, IZ_ROUTE_AUTH, "sms_send"},
    {"POST", "/v1/brands/{brandCode}/voice/campaigns", iz__h_voice_campaign_post, IZ_ROUTE_AUTH,
     "voice_campaign"},
    {"GET", "/v1/voice/campaigns/{campaignId}/numbers", iz__h_voice_numbers, IZ_ROUTE_AUTH,
     "voice_numbers"},
    {"POST", "/v1/brands/{brandCode}/voice/optout", iz__h_voice_optout, IZ_ROUTE_AUTH,
     "voice_optout"},
    {"GET", "/metrics", iz__h_metrics, 0, "metrics"},
};

const iz_route_t *iz_api_routes(size_t *n)
{
    *n = IZ_ARRAY_LEN(routes);
    return routes;
}

int iz_api_auth(void *app, const char *token, int64_t *account_id)
{
    iz_app_t *a = app;
    size_t len = strlen(token);
    if (len == 0 || len > 256) return IZ_EINVAL;
    char hex[IZ_SHA256_HEX];
    iz_sha256_hex(token, len, hex);
    return iz_store_key_lookup(a->store, hex, account_id);
}

int iz__api_brand(iz_req_t *r, iz_app_t *app, iz_brand_t *b)
{
    int64_t code;
    const char *s = iz_req_param(r, "brandCode");
    int rc = IZ_ENOTFOUND;
    if (s && iz_parse_i64(s, 1, INT64_MAX, &code) == 0)
        rc = iz_store_brand_get(app->store, iz_req_account(r), code, b);
    if (rc == 0) return 0;
    if (rc == IZ_ENOTFOUND)
        iz_reply_error(r, "IZ404", iz_req_english(r) ? "brand not found" : "Marka bulunamadı.");
    else
        iz__reply_store_error(r, rc);
    return -1;
}

bool iz__iys_configured(const iz_app_t *app, const iz_account_t *acct)
{
    return acct->iys_url[0] != '\0' || (app->default_iys_url && app->default_iys_url[0]);
}

void iz__reply_store_error(iz_req_t *r, int rc)
{
    fprintf(stderr, "izin: store error: %s\n", iz_strerror(rc));
    iz_reply_error(r, rc == IZ_EBUSY ? "IZ503" : "IZ500", NULL);
}

json_t *iz__change_json(const iz_change_t *c)
{
    char cd[IZ_DATETIME_LEN], cr[IZ_DATETIME_LEN];
    iz_tr_format(c->creation_ms / 1000, cr);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(c->id));
    json_object_set_new(o, "recipient", json_string(c->recipient));
    json_object_set_new(o, "recipientType", json_string(iz_rtype_name(c->rtype)));
    json_object_set_new(o, "type", json_string(iz_type_name(c->type)));
    json_object_set_new(o, "status", json_string(iz_status_name(c->status)));
    if (c->source != IZ_SOURCE_NONE)
        json_object_set_new(o, "source", json_string(iz_source_name(c->source)));
    if (c->consent_date != 0) {
        iz_tr_format(c->consent_date, cd);
        json_object_set_new(o, "consentDate", json_string(cd));
    }
    json_object_set_new(o, "creationDate", json_string(cr));
    json_object_set_new(o, "origin", json_string(iz_origin_name(c->origin)));
    json_t *iys = json_object();
    const char *st = iz_iys_state_name(c->iys_state);
    json_object_set_new(iys, "state", json_string(st ? st : "LOCAL"));
    if (c->iys_txid[0]) json_object_set_new(iys, "transactionId", json_string(c->iys_txid));
    if (c->iys_error[0]) json_object_set_new(iys, "error", json_string(c->iys_error));
    json_object_set_new(o, "iys", iys);
    return o;
}

int iz__query_type(iz_req_t *r, iz_type_t *type, iz_rtype_t *rtype)
{
    const char *t = iz_req_query(r, "type");
    const char *rt = iz_req_query(r, "recipientType");
    iz_error_t e = {.index = -1};
    json_t *val = NULL;
    if (!t || !*t) {
        e.code = "H111";
        e.location = "type";
    } else if (iz_type_parse(t, type) != 0) {
        e.code = "H117";
        e.location = "type";
        val = json_string(t);
    } else if (rt && !*rt) {
        e.code = "H170";
        e.location = "recipientType";
    } else if (rt && iz_rtype_parse(rt, rtype) != 0) {
        e.code = "H116";
        e.location = "recipientType";
        val = json_string(rt);
    } else {
        if (!rt) *rtype = IZ_BIREYSEL;
        return 0;
    }
    e.value = val;
    iz_reply_errors(r, 422, &e, 1);
    json_decref(val);
    return -1;
}
