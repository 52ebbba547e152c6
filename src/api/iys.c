/*
 * iys.c - GET /v1/iys/status: where the key's account stands with İYS -
 * whether its changes go, why not, its subscription and, for an account
 * sending through a partner, the partner's rights (the sync engine's
 * read-out, iys/sync.h) - and how many of its changes wait.
 */
#include <stdlib.h>

#include "api/api_int.h"
#include "core/iz.h"

/* The read-out izin serve last kept in the store, when the sync engine does
 * not run here; NULL when there is none. */
static json_t *stored_standing(iz_store_t *st, int64_t account_id)
{
    iz_iys_standing_t *l = NULL;
    size_t n = 0;
    json_t *o = NULL;
    if (iz_store_iys_standing_all(st, &l, &n) != 0) return NULL;
    for (size_t i = 0; i < n && !o; i++)
        if (l[i].account_id == account_id) o = json_loads(l[i].json, 0, NULL);
    iz_store_iys_standing_free(l, n);
    return o;
}

int iz_api_account_waiting(iz_app_t *app, int64_t account_id, int64_t *waiting)
{
    iz_outbox_depth_t *d = NULL;
    size_t n = 0;
    int64_t oldest = 0;
    *waiting = 0;
    int rc = iz_store_outbox_depth(app->store, &d, &n, &oldest);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (d[i].account_id == account_id) *waiting += d[i].rows;
    free(d);
    return rc;
}

void iz__h_iys_status(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    int64_t account = iz_req_account(r);
    json_t *o =
        app->sync ? iz_sync_standing(app->sync, account) : stored_standing(app->store, account);
    if (!o) o = json_object();
    int64_t waiting = 0;
    int rc = iz_api_account_waiting(app, account, &waiting);
    if (rc != 0) {
        json_decref(o);
        iz__reply_store_error(r, rc);
        return;
    }
    json_object_set_new(o, "waiting", json_integer((json_int_t)waiting));
    iz_reply_json(r, 200, o);
}
