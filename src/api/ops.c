/*
 * ops.c - operational endpoints: GET /healthz answers 200 while the store
 * answers a query, 503 otherwise (a load balancer takes the node out).
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/iz.h"

#include "api/api_int.h"

void iz__h_healthz(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    if (iz_store_ping(app->store) == 0)
        iz_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
    else
        iz_reply_json(r, 503, json_pack("{s:s}", "status", "store unavailable"));
}

/* GET /metrics: Prometheus text format. The İYS answer classes give the
 * success rate İYS watches (it removes a client under 70%); izin aims at
 * 99% by refusing locally what İYS would refuse. */
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
    }
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
