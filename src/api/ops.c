/*
 * ops.c - operational endpoints: GET /healthz answers 200 while the store
 * answers a query, 503 otherwise (a load balancer takes the node out).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/iz.h"

#include "api/api_int.h"
#include "domain/cluster.h"
#include "hook/webhook.h"
#include "sms/inbound.h"
#include "sms/outbound.h"

void iz__h_healthz(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_cluster_status_t cs;
    iz_cluster_status(app->cluster, &cs);
    json_t *out;
    int status = 200;
    if (iz_store_ping(app->store) != 0) {
        out = json_pack("{s:s}", "status", "store unavailable");
        status = 503;
    } else if (app->dom && iz_domain_stale(app->dom)) {
        /* A node that lost the shared log: its checks wait (503) until it
         * has caught up; take it out until then. */
        out = json_pack("{s:s}", "status", "catching up");
        status = 503;
    } else {
        out = json_pack("{s:s}", "status", "ok");
    }
    if (cs.shared) json_object_set_new(out, "role", json_string(cs.leader ? "leader" : "follower"));
    iz_reply_json(r, status, out);
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void put_label(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fputc('\\', f);
        if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
}

/* The İYS delivery figures: queue depth per account and origin, the
 * oldest queued change's age, requests and consents a second, 429s and the
 * time from a change's creation to İYS's final answer. */
static void iys_delivery_metrics(FILE *f, iz_app_t *app, const iz_sync_stats_t *s)
{
    iz_outbox_depth_t *d = NULL;
    size_t n = 0;
    int64_t oldest = 0;
    if (iz_store_outbox_depth(app->store, &d, &n, &oldest) == 0) {
        fputs("# HELP izin_iys_queue Changes waiting for İYS, by account and origin.\n"
              "# TYPE izin_iys_queue gauge\n",
              f);
        int64_t last_id = 0;
        iz_account_t a = {0};
        for (size_t i = 0; i < n; i++) {
            if (d[i].account_id != last_id) {
                last_id = d[i].account_id;
                if (iz_store_account_get(app->store, last_id, &a) != 0)
                    snprintf(a.name, sizeof a.name, "%lld", (long long)last_id);
                iz_wipe(a.iys_password, sizeof a.iys_password);
            }
            fputs("izin_iys_queue{account=\"", f);
            put_label(f, a.name);
            fprintf(f, "\",origin=\"%s\"} %lld\n", iz_origin_name(d[i].origin),
                    (long long)d[i].rows);
        }
        int64_t age = oldest ? (int64_t)time(NULL) * 1000 - oldest : 0;
        fprintf(f,
                "# HELP izin_iys_oldest_queued_seconds Age of the oldest change waiting for "
                "İYS.\n# TYPE izin_iys_oldest_queued_seconds gauge\n"
                "izin_iys_oldest_queued_seconds %.3f\n",
                age > 0 ? (double)age / 1000.0 : 0.0);
    }
    free(d);
    fputs("# HELP izin_iys_requests_total Requests made to İYS, by kind.\n"
          "# TYPE izin_iys_requests_total counter\n",
          f);
    for (int k = 0; k < IZ_REQ_KINDS; k++)
        fprintf(f, "izin_iys_requests_total{kind=\"%s\"} %llu\n",
                iz_req_kind_name((iz_req_kind_t)k), (unsigned long long)s->requests[k]);
    fprintf(f, "izin_iys_requests_total{kind=\"token\"} %llu\n", (unsigned long long)s->tokens);
    fputs("# HELP izin_iys_requests_per_second Requests made to İYS a second over the last 10 s.\n"
          "# TYPE izin_iys_requests_per_second gauge\n",
          f);
    for (int k = 0; k < IZ_REQ_KINDS; k++)
        fprintf(f, "izin_iys_requests_per_second{kind=\"%s\"} %.1f\n",
                iz_req_kind_name((iz_req_kind_t)k), s->requests_per_s[k]);
    fprintf(f,
            "# HELP izin_iys_consents_sent_total Changes in requests İYS took (single and bulk).\n"
            "# TYPE izin_iys_consents_sent_total counter\n"
            "izin_iys_consents_sent_total %llu\n"
            "# HELP izin_iys_consents_sent_per_second The same a second over the last 10 s.\n"
            "# TYPE izin_iys_consents_sent_per_second gauge\n"
            "izin_iys_consents_sent_per_second %.1f\n"
            "# HELP izin_iys_429_total 429 answers from İYS (rate limits) since start.\n"
            "# TYPE izin_iys_429_total counter\n"
            "izin_iys_429_total %llu\n"
            "# HELP izin_iys_seconds_to_iys From a change's creation to İYS's final answer "
            "(the last 4096 changes).\n# TYPE izin_iys_seconds_to_iys summary\n"
            "izin_iys_seconds_to_iys{quantile=\"0.5\"} %.3f\n"
            "izin_iys_seconds_to_iys{quantile=\"0.99\"} %.3f\n"
            "# HELP izin_iys_urls_down İYS base URLs that do not answer now (probed every "
            "second).\n# TYPE izin_iys_urls_down gauge\n"
            "izin_iys_urls_down %d\n",
            (unsigned long long)s->consents_sent, s->consents_per_s,
            (unsigned long long)s->rate_limited, (double)s->to_iys_p50_ms / 1000.0,
            (double)s->to_iys_p99_ms / 1000.0, s->budgets_down);
}

/* Where each account stands with İYS (iys/standing.h): whether its
 * changes go, why not, its consent figures, a partner's missing rights. */
/* Each account's plan limit (0: none) and consent records (plans, F9). */
static void plan_metrics(FILE *f, iz_app_t *app)
{
    iz_account_t *a = NULL;
    size_t n = 0;
    if (iz_store_accounts_all(app->store, &a, &n) != 0) return;
    iz_usage_t *u = iz_xcalloc(n ? n : 1, sizeof *u);
    for (size_t i = 0; i < n; i++)
        if (iz_domain_usage(app->dom, a[i].id, &u[i]) != 0) u[i].used = -1;
    fputs("# HELP izin_plan_limit The consent records an account's plan allows (0: no limit).\n"
          "# TYPE izin_plan_limit gauge\n",
          f);
    for (size_t i = 0; i < n; i++) {
        fputs("izin_plan_limit{account=\"", f);
        put_label(f, a[i].name);
        fprintf(f, "\"} %lld\n", (long long)(u[i].plan ? u[i].plan->limit : 0));
    }
    fputs("# HELP izin_plan_used An account's consent records across its brands.\n"
          "# TYPE izin_plan_used gauge\n",
          f);
    for (size_t i = 0; i < n; i++) {
        if (u[i].used < 0) continue;
        fputs("izin_plan_used{account=\"", f);
        put_label(f, a[i].name);
        fprintf(f, "\"} %lld\n", (long long)u[i].used);
    }
    free(u);
    free(a);
}

static void iys_standing_metrics(FILE *f, iz_app_t *app)
{
    json_t *list = iz_sync_standings(app->sync);
    fputs("# HELP izin_iys_account_sending 1 while an account's changes go to İYS, 0 while "
          "they wait.\n# TYPE izin_iys_account_sending gauge\n",
          f);
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        if (strcmp(json_string_value(json_object_get(o, "mode")), "none") == 0) continue;
        fputs("izin_iys_account_sending{account=\"", f);
        put_label(f, json_string_value(json_object_get(o, "account")));
        fprintf(f, "\"} %d\n", json_is_true(json_object_get(o, "sending")) ? 1 : 0);
    }
    fputs("# HELP izin_iys_account_blocked An account whose changes wait, by why (a "
          "subscription not ACTIVE, a full consent limit, a partner not authorized...).\n"
          "# TYPE izin_iys_account_blocked gauge\n",
          f);
    json_array_foreach(list, i, o)
    {
        const char *reason = json_string_value(json_object_get(o, "reason"));
        if (!reason || strcmp(reason, "NO_IYS") == 0) continue;
        fputs("izin_iys_account_blocked{account=\"", f);
        put_label(f, json_string_value(json_object_get(o, "account")));
        fputs("\",reason=\"", f);
        put_label(f, reason);
        fputs("\"} 1\n", f);
    }
    fputs("# HELP izin_iys_subscription_consents An account's İYS consent records and its "
          "limit, as İYS's subscription query shows them to the provider.\n"
          "# TYPE izin_iys_subscription_consents gauge\n",
          f);
    json_array_foreach(list, i, o)
    {
        json_t *sub = json_object_get(o, "subscription");
        static const char *const figures[][2] = {{"used", "used"}, {"consentLimit", "limit"}};
        for (size_t k = 0; k < IZ_ARRAY_LEN(figures); k++) {
            json_t *v = json_object_get(sub, figures[k][0]);
            if (!json_is_integer(v)) continue;
            fputs("izin_iys_subscription_consents{account=\"", f);
            put_label(f, json_string_value(json_object_get(o, "account")));
            fprintf(f, "\",figure=\"%s\"} %lld\n", figures[k][1], (long long)json_integer_value(v));
        }
    }
    fputs("# HELP izin_iys_partner_problems A partner account's brand that did not authorize "
          "the partner, or a type it may not write whose changes wait.\n"
          "# TYPE izin_iys_partner_problems gauge\n",
          f);
    json_array_foreach(list, i, o)
    {
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(json_object_get(o, "partner"), "problems"), k, p)
        {
            const char *type = json_string_value(json_object_get(p, "type"));
            fputs("izin_iys_partner_problems{account=\"", f);
            put_label(f, json_string_value(json_object_get(o, "account")));
            fprintf(f, "\",brand=\"%lld\",type=\"%s\",problem=\"%s\"} 1\n",
                    (long long)json_integer_value(json_object_get(p, "brandCode")),
                    type ? type : "", json_string_value(json_object_get(p, "problem")));
        }
    }
    json_decref(list);
}

/* Requests and their latency by route (the route table's names; requests
 * no route took as "unmatched"): the counts by status class, and a
 * histogram from complete headers to the answer sent. A route with no
 * request yet shows its zero counts, so that every series exists from the
 * start. */
static void route_metrics(FILE *f, iz_http_t *http)
{
    size_t n = iz_http_route_stats_count(http);
    iz_http_route_stats_t *st = iz_xcalloc(n, sizeof *st);
    for (size_t i = 0; i < n; i++)
        iz_http_route_stats(http, i, &st[i]);
    fputs("# HELP izin_http_requests_total HTTP requests answered, by route and status class "
          "(none: the client went away before the answer).\n"
          "# TYPE izin_http_requests_total counter\n",
          f);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < IZ_HTTP_CLASSES; k++) {
            if (k == IZ_HTTP_CLASSES - 1 && st[i].requests[k] == 0) continue;
            fputs("izin_http_requests_total{route=\"", f);
            put_label(f, st[i].route);
            fprintf(f, "\",code=\"%s\"} %llu\n", iz_http_class_names[k],
                    (unsigned long long)st[i].requests[k]);
        }
    fputs("# HELP izin_http_request_duration_seconds Time from a request's headers to its "
          "answer sent, by route.\n# TYPE izin_http_request_duration_seconds histogram\n",
          f);
    for (size_t i = 0; i < n; i++) {
        /* Route names are the table's tags or patterns: no quote or
         * backslash to escape. */
        char labels[160];
        int w = snprintf(labels, sizeof labels, "route=\"%s\"", st[i].route);
        if (w < 0 || (size_t)w >= sizeof labels) continue;
        iz_histo_write(f, "izin_http_request_duration_seconds", labels, &st[i].latency);
    }
    free(st);
}

/* GET /metrics: Prometheus text format. The İYS answer classes give the
 * success rate İYS watches (it removes a client under 70%); izin aims at
 * 99% by refusing locally what İYS would refuse. */
/* The customer webhooks: each brand's changes not yet delivered and its
 * dead letters (from the store, so `izin` commands' changes count too),
 * and this server's deliveries by outcome. */
/* Several nodes on one PostgreSQL (domain/cluster.h): only then. */
static void cluster_metrics(FILE *f, iz_app_t *app)
{
    iz_cluster_status_t cs;
    iz_cluster_status(app->cluster, &cs);
    if (!cs.shared) return;
    fprintf(f,
            "# HELP izin_cluster_leader 1 while this node holds the cluster's lease (İYS sync,"
            " webhooks, SMS queue).\n# TYPE izin_cluster_leader gauge\nizin_cluster_leader %d\n"
            "# HELP izin_cluster_stale 1 while this node's send filter may be behind the shared"
            " log (checks answer 503).\n# TYPE izin_cluster_stale gauge\nizin_cluster_stale %d\n"
            "# HELP izin_cluster_leads_total Times this node took the lease.\n"
            "# TYPE izin_cluster_leads_total counter\nizin_cluster_leads_total %llu\n"
            "# HELP izin_cluster_notices_total Notices of other commits to the log heard.\n"
            "# TYPE izin_cluster_notices_total counter\nizin_cluster_notices_total %llu\n"
            "# HELP izin_cluster_caught_up_total Changes read by catch-ups with the shared log.\n"
            "# TYPE izin_cluster_caught_up_total counter\nizin_cluster_caught_up_total %llu\n",
            cs.leader ? 1 : 0, cs.stale ? 1 : 0, (unsigned long long)cs.leads,
            (unsigned long long)cs.notices, (unsigned long long)cs.caught);
}

static void webhook_metrics(FILE *f, iz_app_t *app)
{
    iz_webhook_figures_t *w = NULL;
    size_t n = 0;
    if (iz_store_webhook_figures(app->store, &w, &n) == 0) {
        fputs("# HELP izin_webhook_backlog Changes of a brand not yet delivered to its webhook.\n"
              "# TYPE izin_webhook_backlog gauge\n",
              f);
        iz_account_t *a = iz_xmalloc(sizeof *a);
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1)
                fputs("# HELP izin_webhook_dead_letters Batches given up on, kept for a retry.\n"
                      "# TYPE izin_webhook_dead_letters gauge\n",
                      f);
            for (size_t i = 0; i < n; i++) {
                if (pass == 0 && !w[i].has_webhook) continue;
                if (iz_store_account_get(app->store, w[i].account_id, a) != 0)
                    snprintf(a->name, sizeof a->name, "%lld", (long long)w[i].account_id);
                iz_wipe(a->iys_password, sizeof a->iys_password);
                fputs(pass == 0 ? "izin_webhook_backlog{account=\""
                                : "izin_webhook_dead_letters{account=\"",
                      f);
                put_label(f, a->name);
                fprintf(f, "\",brand=\"%lld\"} %lld\n", (long long)w[i].brand_code,
                        (long long)(pass == 0 ? w[i].backlog : w[i].dead));
            }
        }
        free(a);
    }
    free(w);
    uint64_t ok, fail;
    iz_hook_counts(atomic_load(&app->hook), &ok, &fail);
    fprintf(f,
            "# HELP izin_webhook_deliveries_total Webhook deliveries (POSTs) since start, by "
            "result.\n# TYPE izin_webhook_deliveries_total counter\n"
            "izin_webhook_deliveries_total{result=\"ok\"} %llu\n"
            "izin_webhook_deliveries_total{result=\"fail\"} %llu\n",
            (unsigned long long)ok, (unsigned long long)fail);
}

void iz__h_metrics(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_sync_stats_t s;
    iz_sync_stats_get(app->sync, &s);
    if (!app->sync) iz_store_outbox_count(app->store, &s.outbox);
    iz_domain_stats_t d;
    iz_domain_stats(app->dom, &d);
    int64_t quarantined = 0;
    int qrc = iz_store_quarantine_count(app->store, &quarantined);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f) iz_oom();
    fprintf(f,
            "# HELP izin_iys_answers_total Answers from İYS by class.\n"
            "# TYPE izin_iys_answers_total counter\n"
            "izin_iys_answers_total{class=\"ok\"} %llu\n"
            "izin_iys_answers_total{class=\"client_error\"} %llu\n"
            "izin_iys_answers_total{class=\"rate_limited\"} %llu\n"
            "izin_iys_answers_total{class=\"server_error\"} %llu\n"
            "izin_iys_answers_total{class=\"transport\"} %llu\n"
            "izin_iys_answers_total{class=\"token_blocked\"} %llu\n"
            "# HELP izin_iys_success_ratio ok / (ok + client errors), as İYS counts it.\n"
            "# TYPE izin_iys_success_ratio gauge\n"
            "izin_iys_success_ratio %.4f\n"
            "# TYPE izin_outbox_changes gauge\n"
            "izin_outbox_changes %lld\n"
            "# TYPE izin_iys_changes_total counter\n"
            "izin_iys_changes_total{result=\"accepted\"} %llu\n"
            "izin_iys_changes_total{result=\"rejected\"} %llu\n"
            "izin_iys_changes_total{result=\"pulled\"} %llu\n"
            "# HELP izin_ret_deadlines RETs that must reach İYS within 3 business days.\n"
            "# TYPE izin_ret_deadlines gauge\n"
            "izin_ret_deadlines{state=\"pending\"} %lld\n"
            "izin_ret_deadlines{state=\"at_risk\"} %lld\n"
            "izin_ret_deadlines{state=\"missed\"} %lld\n",
            (unsigned long long)s.ok, (unsigned long long)s.client_error,
            (unsigned long long)s.rate_limited, (unsigned long long)s.server_error,
            (unsigned long long)s.transport, (unsigned long long)s.token_blocked,
            s.success_rate, (long long)s.outbox, (unsigned long long)s.accepted,
            (unsigned long long)s.rejected, (unsigned long long)s.pulled,
            (long long)s.ret_pending, (long long)s.ret_at_risk, (long long)s.ret_missed);
    iys_delivery_metrics(f, app, &s);
    iys_standing_metrics(f, app);
    plan_metrics(f, app);
    fputs("# HELP izin_consent_changes_total Consent changes committed since start, by "
          "origin.\n# TYPE izin_consent_changes_total counter\n",
          f);
    for (int o = IZ_ORIGIN_API; o < IZ_ORIGIN_COUNT_; o++)
        fprintf(f, "izin_consent_changes_total{origin=\"%s\"} %llu\n",
                iz_origin_name((iz_origin_t)o), (unsigned long long)d.changes[o]);
    fprintf(f,
            "# HELP izin_local_rets_total First RETs kept locally (İYS's H175) since start.\n"
            "# TYPE izin_local_rets_total counter\n"
            "izin_local_rets_total %llu\n"
            "# HELP izin_iys_quarantined_total İYS changes put in quarantine since start.\n"
            "# TYPE izin_iys_quarantined_total counter\n"
            "izin_iys_quarantined_total %llu\n",
            (unsigned long long)d.local_ret, (unsigned long long)d.quarantined);
    {
        /* The daily reconciliation: the runs of this process, and every
         * brand-day's last result as kept in the store (runs of
         * `izin iys reconcile` included). */
        static const char *const names[4] = {"MATCHED", "REPAIRED", "MISMATCH", "FAILED"};
        int64_t kept[4] = {0};
        int krc = iz_store_recon_counts(app->store, kept);
        fputs("# HELP izin_iys_reconcile_total Daily reconciliations with İYS run by this "
              "server since start, by result.\n# TYPE izin_iys_reconcile_total counter\n",
              f);
        for (int k = 0; k < 4; k++)
            fprintf(f, "izin_iys_reconcile_total{result=\"%s\"} %llu\n", names[k],
                    (unsigned long long)s.recon[k]);
        if (krc == 0) {
            fputs("# HELP izin_iys_reconciled_days Brand-days whose last reconciliation had "
                  "this result.\n# TYPE izin_iys_reconciled_days gauge\n",
                  f);
            for (int k = 0; k < 4; k++)
                fprintf(f, "izin_iys_reconciled_days{result=\"%s\"} %lld\n", names[k],
                        (long long)kept[k]);
        }
    }
    iz_http_t *http = atomic_load(&app->http);
    if (http) {
        iz_http_stats_t h;
        iz_http_stats(http, &h);
        fprintf(f,
                "# HELP izin_http_connections Open HTTP connections and the limit.\n"
                "# TYPE izin_http_connections gauge\n"
                "izin_http_connections{state=\"open\"} %u\n"
                "izin_http_connections{state=\"limit\"} %u\n"
                "# HELP izin_http_refused_total Connections and requests refused or cut by the "
                "server's limits.\n# TYPE izin_http_refused_total counter\n"
                "izin_http_refused_total{why=\"per_ip\"} %llu\n"
                "izin_http_refused_total{why=\"header_deadline\"} %llu\n"
                "izin_http_refused_total{why=\"body_too_slow\"} %llu\n"
                "izin_http_refused_total{why=\"linger_cut\"} %llu\n"
                "izin_http_refused_total{why=\"control_byte\"} %llu\n",
                h.open, h.max_connections, (unsigned long long)h.refused_per_ip,
                (unsigned long long)h.reaped_headers, (unsigned long long)h.reaped_body,
                (unsigned long long)h.linger_cut, (unsigned long long)h.refused_control);
        fprintf(f,
                "# HELP izin_http_outside_calls Requests waiting for an outside service (İYS, "
                "the SMS gateway) on the outside-call workers, and the pool's bounds.\n"
                "# TYPE izin_http_outside_calls gauge\n"
                "izin_http_outside_calls{state=\"running\"} %u\n"
                "izin_http_outside_calls{state=\"queued\"} %u\n"
                "izin_http_outside_calls{state=\"workers\"} %u\n"
                "izin_http_outside_calls{state=\"queue_limit\"} %u\n"
                "# HELP izin_http_outside_calls_total Requests that waited for an outside "
                "service, by how their answer came: done (the call ended), full (503 at once: "
                "the pool was full), late (503 at the time limit).\n"
                "# TYPE izin_http_outside_calls_total counter\n"
                "izin_http_outside_calls_total{end=\"done\"} %llu\n"
                "izin_http_outside_calls_total{end=\"full\"} %llu\n"
                "izin_http_outside_calls_total{end=\"late\"} %llu\n",
                h.outside_running, h.outside_queued, h.outside_workers, h.outside_queue,
                (unsigned long long)h.outside_done, (unsigned long long)h.outside_full,
                (unsigned long long)h.outside_late);
        route_metrics(f, http);
    }
    {
        /* Every inbound SMS is stored with its outcome; these count them. */
        const char *const *names;
        uint64_t in[IZ_INBOUND_OUTCOMES];
        size_t k = iz_inbound_counts(&names, in);
        fputs("# HELP izin_sms_inbound_total Inbound SMS taken since start, by outcome "
              "(REPLAYED: a message id seen before, answered again).\n"
              "# TYPE izin_sms_inbound_total counter\n",
              f);
        for (size_t i = 0; i < k; i++)
            fprintf(f, "izin_sms_inbound_total{outcome=\"%s\"} %llu\n", names[i],
                    (unsigned long long)in[i]);
    }
    struct iz_sms_queue *sq = iz_api_sms_queue(app);
    if (sq) {
        iz_sms_queue_stats_t q;
        iz_sms_queue_stats(sq, &q);
        int64_t backlog = 0;
        if (iz_store_sms_backlog(app->store, &backlog) != 0) backlog = -1;
        fprintf(f,
                "# HELP izin_sms_messages_total SMS messages by what the gateway answered "
                "(unknown: no answer in time), or blocked at send time, since start.\n"
                "# TYPE izin_sms_messages_total counter\n"
                "izin_sms_messages_total{result=\"sent\"} %llu\n"
                "izin_sms_messages_total{result=\"failed\"} %llu\n"
                "izin_sms_messages_total{result=\"unknown\"} %llu\n"
                "izin_sms_messages_total{result=\"blocked\"} %llu\n"
                "# HELP izin_sms_delivery_reports_total Delivery reports since start: applied, "
                "or for a message izin does not have.\n"
                "# TYPE izin_sms_delivery_reports_total counter\n"
                "izin_sms_delivery_reports_total{result=\"applied\"} %llu\n"
                "izin_sms_delivery_reports_total{result=\"unknown_message\"} %llu\n"
                "# HELP izin_sms_unsent_retries_total Sends tried again because the gateway "
                "refused the connection (the message never reached it), since start.\n"
                "# TYPE izin_sms_unsent_retries_total counter\n"
                "izin_sms_unsent_retries_total %llu\n"
                "# HELP izin_sms_in_flight SMS requests to the gateway running now, and the "
                "limit.\n# TYPE izin_sms_in_flight gauge\n"
                "izin_sms_in_flight{state=\"running\"} %u\n"
                "izin_sms_in_flight{state=\"limit\"} %u\n",
                (unsigned long long)q.sent, (unsigned long long)q.failed,
                (unsigned long long)q.unknown, (unsigned long long)q.blocked,
                (unsigned long long)q.reports, (unsigned long long)q.reports_unknown,
                (unsigned long long)q.unsent_retries, q.in_flight, q.concurrency);
        if (backlog >= 0)
            fprintf(f,
                    "# HELP izin_sms_queued SMS messages waiting in the queue.\n"
                    "# TYPE izin_sms_queued gauge\nizin_sms_queued %lld\n",
                    (long long)backlog);
    }
    webhook_metrics(f, app);
    cluster_metrics(f, app);
    if (qrc == 0)
        fprintf(f,
                "# HELP izin_iys_quarantine İYS changes in quarantine (not applied), all "
                "brands.\n# TYPE izin_iys_quarantine gauge\n"
                "izin_iys_quarantine %lld\n",
                (long long)quarantined);
    if (fclose(f) != 0) iz_oom();
    iz_reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", out, len);
    free(out);
}
