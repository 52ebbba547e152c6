/*
 * webhooks.c - a brand's customer webhook (API.md "Changes (F8)"):
 *   PUT    /v1/brands/{b}/webhook {url, secret}   set it (201 new, 200 replaced)
 *   GET    /v1/brands/{b}/webhook                 it, without the secret (404: none)
 *   DELETE /v1/brands/{b}/webhook                 remove it (204); dead letters stay
 *   GET    /v1/brands/{b}/webhook/dead-letters    the batches given up on
 *   POST   /v1/brands/{b}/webhook/dead-letters/{id}/retry   send one again (202)
 * The checks and the delivery are hook/webhook.h's; the secret is never
 * answered, echoed in an error or logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/iz.h"
#include "hook/webhook.h"

/* The engine, or NULL after answering 503. */
static iz_hook_t *engine(iz_req_t *r, iz_app_t *app)
{
    iz_hook_t *h = atomic_load(&app->hook);
    if (!h)
        iz_reply_error(r, "IZ503",
                       iz_req_english(r) ? "webhooks are not running" : "Webhook'lar çalışmıyor.");
    return h;
}

static json_t *when(int64_t ms)
{
    char t[IZ_DATETIME_LEN];
    iz_tr_format(ms / 1000, t);
    return json_string(t);
}

/* A webhook's JSON: everything but the secret. */
static json_t *webhook_json(const iz_webhook_t *w)
{
    char cursor[24];
    snprintf(cursor, sizeof cursor, "%lld", (long long)w->cursor);
    json_t *o = json_pack("{s:s, s:o, s:o, s:s}", "url", w->url, "createdAt", when(w->created_ms),
                          "updatedAt", when(w->updated_ms), "lastDeliveredId", cursor);
    if (w->batch_last) {
        json_t *f = json_pack("{s:I, s:I, s:I, s:i, s:o, s:o, s:s}", "firstChangeId",
                              (json_int_t)w->batch_first, "lastChangeId", (json_int_t)w->batch_last,
                              "count", (json_int_t)w->batch_count, "attempts", w->attempts,
                              "failingSince", when(w->failing_since_ms), "nextAttemptAt",
                              when(w->next_ms), "lastError", w->last_error);
        if (w->last_status) json_object_set_new(f, "lastStatus", json_integer(w->last_status));
        json_object_set_new(o, "retrying", f);
    }
    return o;
}

/* A PUT's setting, made on an outside-call worker: iz_hook_set resolves
 * the URL's host (DNS may hang), which must not hold a server thread. */
typedef struct hook_put {
    iz_app_t *app;
    iz_hook_t *h;
    int64_t brand_id;
    char *url, *secret;
    int rc; /* iz_hook_set's answer, and what it says */
    bool created;
    const char *field, *why;
} hook_put_t;

static void hook_put_free(void *arg)
{
    hook_put_t *p = arg;
    iz_wipe(p->secret, strlen(p->secret));
    free(p->secret);
    free(p->url);
    free(p);
}

static void hook_put_work(iz_work_t *w, void *arg)
{
    (void)w;
    hook_put_t *p = arg;
    p->rc = iz_hook_set(p->h, p->brand_id, p->url, p->secret, &p->created, &p->field, &p->why);
}

static void hook_put_end(iz_req_t *r, void *arg, iz_defer_end_t how)
{
    hook_put_t *p = arg;
    if (how != IZ_DEFER_DONE) {
        iz_reply_defer_failed(r, how, "webhook adresinin çözümlenmesi",
                              "resolving the webhook's address");
    } else if (p->rc == IZ_EINVAL && p->field) {
        /* The URL is echoed; the secret never is. */
        char en[320];
        snprintf(en, sizeof en, "%s.", p->why);
        json_t *ju = strcmp(p->field, "url") == 0 ? json_string(p->url) : NULL;
        iz__reply_field(r, p->field, ju, iz_hook_why_tr(p->why), en);
        json_decref(ju);
    } else if (p->rc == IZ_ETOOBIG) {
        iz__reply_field(r, "url", NULL, "Adres çok uzun.", "The URL is too long.");
    } else if (p->rc != 0) {
        iz__reply_store_error(r, p->rc);
    } else {
        iz_webhook_t *w = iz_req_alloc(r, sizeof *w);
        int rc = iz_store_webhook_get(p->app->store, p->brand_id, false, w);
        if (rc != 0)
            iz__reply_store_error(r, rc);
        else
            iz_reply_json(r, p->created ? 201 : 200, webhook_json(w));
    }
}

void iz__h_webhook_put(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t b;
    iz_hook_t *h = engine(r, app);
    if (!h) return;
    json_t *body = iz__api_body(r, app, &b, NULL);
    if (!body) return;
    static const char *const known[] = {"url", "secret"};
    if (iz__body_fields(r, body, known, IZ_ARRAY_LEN(known)) != 0) {
        json_decref(body);
        return;
    }
    json_t *ju = json_object_get(body, "url"), *js = json_object_get(body, "secret");
    const char *url = json_string_value(ju), *secret = json_string_value(js);
    if (!url)
        iz__reply_field(r, "url", ju, iz_hook_why_tr("the URL is empty"), "the URL is empty.");
    else if (!secret)
        iz__reply_field(r, "secret", NULL, iz_hook_why_tr("the secret must be 16 to 256 bytes"),
                        "the secret must be 16 to 256 bytes.");
    if (!url || !secret) {
        json_decref(body);
        return;
    }
    hook_put_t *p = iz_xcalloc(1, sizeof *p);
    *p = (hook_put_t){
        .app = app, .h = h, .brand_id = b.id, .url = iz_xstrdup(url), .secret = iz_xstrdup(secret)};
    json_decref(body);
    iz_req_defer(r, hook_put_work, hook_put_end, hook_put_free, p, IZ_HOOK_SET_WAIT_MS);
}

/* Resolve the brand and answer 404 when it has no webhook; else *w. */
static int brand_webhook(iz_req_t *r, iz_app_t *app, iz_brand_t *b, iz_webhook_t *w)
{
    if (iz__api_brand(r, app, b) != 0) return -1;
    int rc = iz_store_webhook_get(app->store, b->id, false, w);
    if (rc == IZ_ENOTFOUND)
        iz_reply_error(r, "IZ404",
                       iz_req_english(r) ? "the brand has no webhook" : "Markanın webhook'u yok.");
    else if (rc != 0)
        iz__reply_store_error(r, rc);
    return rc;
}

void iz__h_webhook_get(iz_req_t *r, void *vapp)
{
    iz_brand_t b;
    iz_webhook_t *w = iz_req_alloc(r, sizeof *w);
    if (brand_webhook(r, vapp, &b, w) == 0) iz_reply_json(r, 200, webhook_json(w));
}

void iz__h_webhook_delete(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t b;
    iz_webhook_t *w = iz_req_alloc(r, sizeof *w);
    if (brand_webhook(r, app, &b, w) != 0) return;
    int rc = iz_store_webhook_delete(app->store, b.id);
    if (rc != 0 && rc != IZ_ENOTFOUND)
        iz__reply_store_error(r, rc);
    else
        iz_reply_bytes(r, 204, "application/json", "", 0);
}

void iz__h_webhook_dead(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t b;
    if (iz__api_brand(r, app, &b) != 0) return;
    iz_webhook_dead_t *dl = NULL;
    size_t n = 0;
    int rc = iz_store_webhook_dead_list(app->store, b.id, 0, 10000, false, &dl, &n);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:i, s:s, s:o, s:o, s:b}", "id",
                              (json_int_t)dl[i].id, "firstChangeId", (json_int_t)dl[i].first_id,
                              "lastChangeId", (json_int_t)dl[i].last_id, "count",
                              (json_int_t)dl[i].count, "attempts", dl[i].attempts, "lastError",
                              dl[i].last_error, "createdAt", when(dl[i].created_ms), "deadAt",
                              when(dl[i].dead_ms), "retryQueued", dl[i].retry);
        json_object_set_new(o, "lastStatus",
                            dl[i].last_status ? json_integer(dl[i].last_status) : json_null());
        json_array_append_new(arr, o);
    }
    free(dl);
    iz_reply_json(r, 200, json_pack("{s:o}", "list", arr));
}

void iz__h_webhook_retry(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t b;
    iz_hook_t *h = engine(r, app);
    if (!h || iz__api_brand(r, app, &b) != 0) return;
    int64_t id;
    int rc = iz_parse_i64(iz_req_param(r, "id"), 1, INT64_MAX, &id) == 0
                 ? iz_hook_retry(h, b.id, id)
                 : IZ_ENOTFOUND;
    if (rc == IZ_ENOTFOUND)
        iz_reply_error(r, "IZ404",
                       iz_req_english(r) ? "no such dead letter"
                                         : "Böyle bir teslim edilemeyen "
                                           "gönderim yok.");
    else if (rc == IZ_ERULE)
        iz_reply_error(r, "IZ409",
                       iz_req_english(r)
                           ? "the brand has no webhook to send it to: set one first"
                           : "Markanın gönderilecek bir webhook'u yok: önce webhook tanımlanmalı.");
    else if (rc != 0)
        iz__reply_store_error(r, rc);
    else
        iz_reply_json(r, 202, json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", "QUEUED"));
}
