/*
 * ops.c - operational endpoints: GET /healthz answers 200 while the store
 * answers a query, 503 otherwise (a load balancer takes the node out).
 */
#include "api/api_int.h"

void iz__h_healthz(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    if (iz_store_ping(app->store) == 0)
        iz_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
    else
        iz_reply_json(r, 503, json_pack("{s:s}", "status", "store unavailable"));
}
