/*
 * sim.c - the İYS emulator's assembly: configuration defaults, the route
 * table, opening and closing (store, workers), and the consent rule that
 * every write path of the emulator shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "sys/crypto.h"
#include "sim/sim_int.h"

void iz_sim_config_defaults(iz_sim_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->data_dir = "iys-sim-data";
    cfg->bulk_delay = 2;
    cfg->min_poll = 0;
    cfg->rate = 10;
    cfg->token_limit = 100;
    cfg->status_limit = 1000;
    cfg->history_limit = 100;
    cfg->pull_lag = 3600;
    cfg->watch_min = 20000;
    cfg->push_interval_ms = 1000;
}

#define SPS "/sps/{iysCode}/brands/{brandCode}"
#define V2 "/v2/sps/{iysCode}/brands/{brandCode}"

static const iz_route_t routes[] = {
    /* İYS API */
    {"POST", "/oauth2/token", iz__sim_h_token, 0, "token"},
    {"GET", "/sps/{iysCode}/brands", iz__sim_h_brands, 0, "brands"},
    {"GET", "/sps/{iysCode}/subscription", iz__sim_h_subscription, 0, "subscription"},
    {"GET", "/integrator/{integratorCode}/subscription", iz__sim_h_integrator_subscription, 0,
     "integrator_subscription"},
    {"GET", "/integrator/{integratorCode}/sps", iz__sim_h_integrator_sps, 0, "integrator_sps"},
    {"GET", "/integrator/{integratorCode}/sps/{iysCode}", iz__sim_h_integrator_sps, 0,
     "integrator_sps"},
    {"POST", SPS "/consents", iz__sim_h_consent_add, 0, "consent_add"},
    {"POST", V2 "/consents", iz__sim_h_consent_add, 0, "consent_add_v2"},
    {"POST", SPS "/consents/request", iz__sim_h_bulk_add, 0, "bulk_add"},
    {"POST", V2 "/consents/request", iz__sim_h_bulk_add, 0, "bulk_add_v2"},
    {"GET", SPS "/consents/request/{requestId}", iz__sim_h_bulk_status, 0, "bulk_status"},
    {"GET", V2 "/consents/request/{requestId}", iz__sim_h_bulk_status, 0, "bulk_status_v2"},
    {"POST", SPS "/consents/status", iz__sim_h_status, 0, "status"},
    {"POST", SPS "/consents/{recipientType}/status/{type}", iz__sim_h_multi_status, 0,
     "multi_status"},
    {"POST", SPS "/consents/history", iz__sim_h_history, 0, "history"},
    {"GET", SPS "/consents/changes", iz__sim_h_changes, 0, "changes"},
    {"POST", SPS "/push/registration", iz__sim_h_push_register, 0, "push_registration"},
    /* administration (no auth; the emulator listens on loopback) */
    {"POST", "/_sim/providers", iz__sim_h_providers_add, 0, "_sim"},
    {"GET", "/_sim/providers", iz__sim_h_providers_list, 0, "_sim"},
    {"PATCH", "/_sim/providers/{iysCode}", iz__sim_h_provider_update, 0, "_sim"},
    {"PUT", "/_sim/providers/{iysCode}/subscription", iz__sim_h_provider_sub_put, 0, "_sim"},
    {"POST", "/_sim/integrators", iz__sim_h_integrators_add, 0, "_sim"},
    {"GET", "/_sim/integrators", iz__sim_h_integrators_list, 0, "_sim"},
    {"PUT", "/_sim/integrators/{integratorCode}/subscription", iz__sim_h_integrator_sub_put, 0,
     "_sim"},
    {"POST", "/_sim/integrators/{integratorCode}/authorizations", iz__sim_h_grant_add, 0, "_sim"},
    {"DELETE", "/_sim/integrators/{integratorCode}/authorizations/{iysCode}/{brandCode}",
     iz__sim_h_grant_delete, 0, "_sim"},
    {"PUT", "/_sim/faults", iz__sim_h_faults, 0, "_sim"},
    {"GET", "/_sim/stats", iz__sim_h_stats, 0, "_sim"},
    {"POST", "/_sim/citizen/consents", iz__sim_h_citizen_post, 0, "_sim"},
    {"GET", "/_sim/citizen/consents", iz__sim_h_citizen_get, 0, "_sim"},
    {"POST", "/_sim/complaints", iz__sim_h_complaint_post, 0, "_sim"},
    {"GET", "/_sim/complaints", iz__sim_h_complaint_list, 0, "_sim"},
    {"GET", "/healthz", iz__sim_h_healthz, 0, "_sim"},
    /* the citizen's and the authority's web pages */
    {"GET", "/vatandas", iz__sim_h_portal, 0, "web"},
    {"POST", "/vatandas", iz__sim_h_portal_post, 0, "web"},
    {"GET", "/vatandas/sikayet", iz__sim_h_complaint_page, 0, "web"},
    {"POST", "/vatandas/sikayet", iz__sim_h_complaint_form, 0, "web"},
    {"GET", "/yetkili/sikayetler", iz__sim_h_authority, 0, "web"},
};

const iz_route_t *iz_sim_routes(size_t *n)
{
    *n = IZ_ARRAY_LEN(routes);
    return routes;
}

int iz__sim_rule(void *vctx, const iz_current_t *cur, int64_t provider_records, const char **hcode)
{
    iz__sim_rule_ctx_t *ctx = vctx;
    const char *code = NULL;
    if (ctx->check_sub && ctx->sub != IZ_SUB_ACTIVE)
        code = ctx->sub == IZ_SUB_NONE ? "H524" : ctx->sub == IZ_SUB_CLOSED ? "H521" : "H520";
    if (!code) code = iz_consent_rules(ctx->c, cur, &ctx->rules);
    if (!code && !cur->exists && ctx->quota > 0 && provider_records >= ctx->quota) code = "H525";
    if (code) {
        *hcode = code;
        return IZ_ERULE;
    }
    return 0;
}

void iz__sim_rule_init(iz__sim_rule_ctx_t *ctx, const iz_sim_t *sim, const iz_sim_provider_t *prov,
                       const iz_consent_t *c, int64_t now)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->c = c;
    ctx->rules.now = now;
    ctx->rules.holidays = sim->cfg.holidays;
    if (prov) {
        /* consentLimitExceed lets the provider pass its consent limit. */
        ctx->quota = prov->limit_exceed ? 0 : prov->quota;
        ctx->check_sub = true;
        ctx->sub = prov->subscription;
        if (prov->activation_date[0])
            (void)iz_tr_parse_date(prov->activation_date, &ctx->rules.activation);
    }
}

int iz_sim_open(const iz_sim_config_t *cfg, iz_sim_t **out, const char **err)
{
    iz_sim_t *sim = iz_xcalloc(1, sizeof *sim);
    sim->cfg = *cfg;
    pthread_mutex_init(&sim->mu, NULL);
    pthread_cond_init(&sim->wake, NULL);
    int rc = iz_sim_store_open(cfg->data_dir, &sim->st, err);
    if (rc != 0) {
        iz_sim_close(sim);
        return rc;
    }
    if ((rc = iz__sim_ops_new(cfg, &sim->ops)) != 0 || (rc = iz__sim_pages_open(sim)) != 0 ||
        (rc = iz__sim_accounts_open(sim)) != 0) {
        if (err) *err = "cannot set up the emulator's limits, pages and token key";
        iz_sim_close(sim);
        return rc;
    }
    if ((rc = iz__sim_bulk_start(sim)) != 0 || (rc = iz__sim_push_start(sim)) != 0) {
        if (err) *err = "cannot start the emulator's workers";
        iz_sim_close(sim);
        return rc;
    }
    *out = sim;
    return 0;
}

void iz_sim_close(iz_sim_t *sim)
{
    if (!sim) return;
    pthread_mutex_lock(&sim->mu);
    sim->stopping = true;
    pthread_cond_broadcast(&sim->wake);
    pthread_mutex_unlock(&sim->mu);
    if (sim->bulk_started) pthread_join(sim->bulk_thread, NULL);
    if (sim->push_started) pthread_join(sim->push_thread, NULL);
    iz_httpc_free(sim->push_http);
    if (sim->ops) iz__sim_ops_free(sim->ops);
    iz__sim_pages_close(sim);
    iz_wipe(sim->jwt_key, sizeof sim->jwt_key);
    if (sim->st) iz_sim_store_close(sim->st);
    pthread_cond_destroy(&sim->wake);
    pthread_mutex_destroy(&sim->mu);
    free(sim);
}

int iz_sim_verify_dir(const char *dir, int64_t *bad_id, const char **err)
{
    iz_sim_store_t *st;
    int rc = iz_sim_store_open(dir, &st, err);
    if (rc != 0) return rc;
    rc = iz_sim_verify(st, bad_id);
    iz_sim_store_close(st);
    return rc;
}
