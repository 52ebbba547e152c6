/*
 * sim.c - the İYS emulator's assembly: configuration defaults, the route
 * table, opening and closing (store, workers), and the consent rule that
 * every write path of the emulator shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    cfg->otp_ttl = 180;
    cfg->link_ttl = 86400;
}

#define SPS "/sps/{iysCode}/brands/{brandCode}"
#define V2 "/v2/sps/{iysCode}/brands/{brandCode}"
#define VIA "/via/sps/{iysCode}"
#define OTP "/otp-management/api/v1"

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
    /* retailers (retailers.c) */
    {"POST", SPS "/retailers", iz__sim_h_retailer_create, 0, "retailers"},
    {"GET", SPS "/retailers", iz__sim_h_retailer_list, 0, "retailers"},
    {"GET", SPS "/retailers/{retailerCode}", iz__sim_h_retailer_get, 0, "retailers"},
    {"DELETE", SPS "/retailers/{retailerCode}", iz__sim_h_retailer_delete, 0, "retailers"},
    {"POST", SPS "/consents/retailers/access", iz__sim_h_access_add, 0, "retailer_access"},
    {"PUT", SPS "/consents/retailers/access", iz__sim_h_access_override, 0, "retailer_access"},
    /* İYS's path has "consent", not "consents", here */
    {"POST", SPS "/consent/retailers/access/list", iz__sim_h_access_list, 0, "retailer_access"},
    {"POST", SPS "/consents/retailers/access/remove", iz__sim_h_access_remove, 0,
     "retailer_access"},
    {"POST", SPS "/consents/retailers/access/remove/all", iz__sim_h_access_remove_all, 0,
     "retailer_access"},
    {"GET", SPS "/push/registration", iz__sim_h_push_list, 0, "push_list"},
    {"POST", SPS "/push/unregistration", iz__sim_h_push_unregister, 0, "push_unregistration"},
    {"GET", SPS "/changes/{reportDate}/file", iz__sim_h_recon_file, 0, "agreement_file"},
    {"GET", SPS "/changes/{reportDate}/recipients/{recipientType}", iz__sim_h_recon_summary, 0,
     "change_summary"},
    {"GET", SPS "/agreements/{reportDate}", iz__sim_h_recon_get, 0, "agreements"},
    {"PUT", SPS "/agreements/{reportDate}", iz__sim_h_recon_put, 0, "agreement_put"},
    {"GET", SPS "/agreements/{reportDate}/timestamp", iz__sim_h_recon_timestamp, 0,
     "agreement_timestamp"},
    {"GET", "/info/city", iz__sim_h_cities, 0, "info"},
    {"GET", "/info/city/{code}", iz__sim_h_city, 0, "info"},
    {"GET", "/info/town", iz__sim_h_towns, 0, "info"},
    {"GET", "/info/town/{code}", iz__sim_h_town, 0, "info"},
    {"POST", SPS "/via-hash-links", iz__sim_h_hash_links, 0, "via_hash_links"},
    /* İLETİ ViA (via.c) */
    {"POST", VIA "/consent", iz__sim_h_via_start, 0, "via_start"},
    {"POST", VIA "/confirmation", iz__sim_h_via_confirm, 0, "via_confirmation"},
    {"GET", VIA "/consent/request/{requestId}", iz__sim_h_via_request, 0, "via_request"},
    {"POST", VIA "/consent/status", iz__sim_h_via_kvk_search, 0, "via_kvk_search"},
    {"GET", VIA "/consent/{requestId}", iz__sim_h_via_kvk, 0, "via_kvk"},
    {"GET", VIA "/via/clarification/{requestId}/file", iz__sim_h_via_file, 0, "via_file"},
    /* ViA Frame: İYS writes these paths with {{widgetUUID}}; served under
     * the usual single-brace parameter */
    {"GET", "/widget/load-widgetloader/{widgetUUID}", iz__sim_h_widget_loader, 0, "widget"},
    {"GET", "/widget/publicKey/{widgetUUID}", iz__sim_h_widget_key, 0, "widget"},
    {"GET", "/widget/load-widget/{widgetUUID}", iz__sim_h_widget_load, 0, "widget"},
    {"POST", "/widget/process/start/{widgetUUID}", iz__sim_h_widget_start, 0, "widget"},
    {"POST", "/widget/process/complete/{widgetUUID}", iz__sim_h_widget_complete, 0, "widget"},
    /* OTP management, ViA Pass (otp.c) */
    {"POST", OTP "/{iysCode}/sms/start", iz__sim_h_otp_start, 0, "otp_start"},
    {"POST", OTP "/{iysCode}/email/start", iz__sim_h_otp_start, 0, "otp_start"},
    {"POST", OTP "/{iysCode}/sms/start/short-url", iz__sim_h_otp_start, 0, "otp_start"},
    {"POST", OTP "/{iysCode}/email/start/short-url", iz__sim_h_otp_start, 0, "otp_start"},
    {"POST", OTP "/sms/complete", iz__sim_h_otp_complete, 0, "otp_complete"},
    {"POST", OTP "/email/complete", iz__sim_h_otp_complete, 0, "otp_complete"},
    {"GET", OTP "/get-clarification-file/{iysCode}/{requestId}", iz__sim_h_otp_file, 0, "otp_file"},
    {"POST", OTP "/request-history", iz__sim_h_otp_history, 0, "otp_history"},
    {"GET", OTP "/subscription/{iysCode}", iz__sim_h_otp_subscription, 0, "otp_subscription"},
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
    {"DELETE", "/_sim/integrators/{integratorCode}/authorizations", iz__sim_h_grant_withdraw, 0,
     "_sim"},
    {"DELETE", "/_sim/integrators/{integratorCode}/authorizations/{iysCode}/{brandCode}",
     iz__sim_h_grant_delete, 0, "_sim"},
    {"PUT", "/_sim/faults", iz__sim_h_faults, 0, "_sim"},
    {"GET", "/_sim/stats", iz__sim_h_stats, 0, "_sim"},
    {"POST", "/_sim/end-of-day", iz__sim_h_day_end, 0, "_sim"},
    {"GET", "/_sim/tsa-certificate", iz__sim_h_tsa_cert, 0, "_sim"},
    {"POST", "/_sim/citizen/consents", iz__sim_h_citizen_post, 0, "_sim"},
    {"GET", "/_sim/citizen/consents", iz__sim_h_citizen_get, 0, "_sim"},
    {"POST", "/_sim/complaints", iz__sim_h_complaint_post, 0, "_sim"},
    {"GET", "/_sim/complaints", iz__sim_h_complaint_list, 0, "_sim"},
    {"GET", "/_sim/retailers/access", iz__sim_h_sim_access, 0, "_sim"},
    {"GET", "/healthz", iz__sim_h_healthz, 0, "_sim"},
    {"PUT", "/_sim/via/subscriptions/{iysCode}", iz__sim_h_via_sub_put, 0, "_sim"},
    {"POST", "/_sim/via/forms", iz__sim_h_via_form_put, 0, "_sim"},
    {"POST", "/_sim/via/widgets", iz__sim_h_via_widget_put, 0, "_sim"},
    {"POST", "/_sim/otp/templates", iz__sim_h_otp_template_put, 0, "_sim"},
    {"GET", "/_sim/otp", iz__sim_h_otp_messages, 0, "_sim"},
    /* the citizen's and the authority's web pages */
    {"GET", "/vatandas", iz__sim_h_portal, 0, "web"},
    {"POST", "/vatandas", iz__sim_h_portal_post, 0, "web"},
    {"GET", "/vatandas/sikayet", iz__sim_h_complaint_page, 0, "web"},
    {"POST", "/vatandas/sikayet", iz__sim_h_complaint_form, 0, "web"},
    {"GET", "/yetkili/sikayetler", iz__sim_h_authority, 0, "web"},
    {"GET", "/s/{code}", iz__sim_h_link_page, 0, "web"}, /* a ViA / ViA Pass short link */
    {"POST", "/s/{code}", iz__sim_h_link_post, 0, "web"},
    {"GET", "/RET/{hash}", iz__sim_h_ret_page, 0, "web"}, /* an e-mail opt-out link */
    {"POST", "/RET/{hash}", iz__sim_h_ret_post, 0, "web"},
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

void iz__sim_deadline_after_ms(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

bool iz__sim_nap(iz_sim_t *sim, long ms)
{
    struct timespec ts;
    iz__sim_deadline_after_ms(&ts, ms);
    pthread_mutex_lock(&sim->mu);
    /* Wakes meant for the bulk worker do not shorten the nap. */
    while (!sim->stopping && pthread_cond_timedwait(&sim->wake, &sim->mu, &ts) == 0) {
    }
    bool stop = sim->stopping;
    pthread_mutex_unlock(&sim->mu);
    return stop;
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
    if ((rc = iz__sim_bulk_start(sim)) != 0 || (rc = iz__sim_push_start(sim)) != 0 ||
        (rc = iz__sim_recon_start(sim)) != 0) {
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
    if (sim->recon_started) pthread_join(sim->recon_thread, NULL);
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
