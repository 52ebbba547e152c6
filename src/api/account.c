/*
 * account.c - GET /v1/account: the key's account, its plan and its usage
 * (F9), the same figures the panel's usage page and /metrics show
 * (iz__usage_json).
 */
#include <string.h>

#include "api/api_int.h"
#include "core/iz.h"
#include "core/plans.h"

json_t *iz__usage_json(const char *account, const iz_usage_t *u)
{
    json_t *o = json_pack("{s:s, s:I}", "account", account, "used", (json_int_t)u->used);
    if (!o) iz_oom();
    const iz_plan_t *p = u->plan;
    if (!p) {
        /* No plan: not bounded (an operator's own account). */
        json_object_set_new(o, "plan", json_null());
        json_object_set_new(o, "limit", json_null());
        json_object_set_new(o, "price", json_null());
        return o;
    }
    json_object_set_new(o, "plan", json_pack("{s:s, s:s}", "code", p->code, "name", p->name));
    json_object_set_new(o, "limit", p->limit ? json_integer(p->limit) : json_null());
    if (p->price_kurus < 0) {
        json_object_set_new(o, "price", json_null());
    } else {
        char before[32], with[32];
        iz_money_format(p->price_kurus, before);
        iz_money_format(iz_plan_with_vat(p->price_kurus), with);
        json_object_set_new(o, "price",
                            json_pack("{s:s, s:s, s:i, s:s, s:s}", "beforeVat", before, "withVat",
                                      with, "vatPercent", IZ_VAT_PERCENT, "currency", "TRY",
                                      "period", "YEAR"));
    }
    return o;
}

void iz__h_account_get(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    int64_t id = iz_req_account(r);
    iz_account_t a;
    iz_usage_t u;
    int rc = iz_store_account_get(app->store, id, &a);
    iz_wipe(a.iys_password, sizeof a.iys_password);
    if (rc == 0) rc = iz_domain_usage(app->dom, id, &u);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    iz_reply_json(r, 200, iz__usage_json(a.name, &u));
}
