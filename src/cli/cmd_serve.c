/*
 * cmd_serve.c - `izin serve` (the module server) and `izin demo` (the same
 * on embedded defaults, with a demo account, brand and key, and curl
 * examples printed on start).
 *
 * Both run until SIGINT or SIGTERM, then stop accepting, let running
 * requests finish and close the store. Every answered change is already
 * durable, so a SIGKILL loses nothing either.
 */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "core/holidays_data.h"
#include "core/iz.h"
#include "index/index.h"
#include "iys/sync.h"
#include "sys/crypto.h"
#include "sim/sim.h"
#include "sim/simstore.h"
#include "sms/gateway.h"

static const iz_optdef_t serve_defs[] = {
    {"listen", true},
    {"data", true},
    {"db", true},
    {"config", true},
    {"iys-url", true},
    {"iys-pull-interval", true},
    {"iys-rate", true},
    {"sms-gateway", true},
    {"gateway-token", true},
    {"public-url", true},
    {"allow-private-webhooks", false},
    {"holidays", true},
    {"threads", true},
    {"access-log", false},
    {"iys-bulk-poll", true},
    {"iys-timeout-ms", true},
    {"iys-push-user", true},
    {"iys-push-password", true},
    {"iys-listen", true},
    {"iys-retry-max", true},
};

/* The holiday table: --holidays FILE, else the built-in copy. */
static int load_holidays(const iz_opts_t *o, iz_holidays_t **h)
{
    const char *path = iz_cli_get(o, "holidays");
    int rc = path ? iz_holidays_load(path, h)
                  : iz_holidays_parse(iz_holidays_csv,
                                      (size_t)(iz_holidays_csv_end - iz_holidays_csv), h);
    if (rc != 0)
        iz_cli_fail("cannot load the holiday table%s%s", path ? " " : "", path ? path : "");
    return rc;
}

/* Block the stop signals in every thread, then wait for one in this one. */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

typedef struct server {
    iz_store_t *store;
    iz_holidays_t *holidays;
    iz_app_t app;
    iz_http_t *http;
    iz_sync_t *sync;
    iz_sms_gateway_t *gateway;
    iz_index_t *index;
} server_t;

/* The data directory the default SMS log goes in: --data (IZIN_DATA), else
 * the directory of a --db location that is one, else ./izin-data. */
static void sms_data_dir(const iz_opts_t *o, char *out, size_t outsz)
{
    const char *d = iz_cli_get(o, "data");
    const char *db = iz_cli_get(o, "db");
    if (!d && db) {
        if (strncmp(db, "sqlite:", 7) == 0 || strncmp(db, "file:", 5) == 0) {
            const char *path = strchr(db, ':') + 1;
            const char *slash = strrchr(path, '/');
            if (slash)
                snprintf(out, outsz, "%.*s", (int)(slash - path), path);
            else
                snprintf(out, outsz, ".");
            if (!out[0]) snprintf(out, outsz, "/");
            return;
        }
        if (!strstr(db, "://")) d = db;
    }
    snprintf(out, outsz, "%s", d ? d : (db ? "." : "izin-data"));
}

/* Open the SMS gateway of --sms-gateway (default log:DATA/sms.log). */
static int open_gateway(server_t *s, const iz_opts_t *o)
{
    char dir[4096];
    sms_data_dir(o, dir, sizeof dir);
    const char *err = NULL;
    if (iz_sms_gateway_open(iz_cli_get(o, "sms-gateway"), dir, &s->gateway, &err) != 0) {
        iz_cli_fail("--sms-gateway: %s", err ? err : "cannot open the gateway");
        return -1;
    }
    char shown[1024];
    iz_sms_gateway_describe(s->gateway, shown, sizeof shown);
    fprintf(stderr, "izin: SMS gateway %s\n", shown);
    s->app.gateway = s->gateway;
    return 0;
}

/* An integer setting in [min, max], or def when not given. */
static int num_opt(const iz_opts_t *o, const char *name, int64_t min, int64_t max, int64_t def,
                   int64_t *out)
{
    const char *v = iz_cli_get(o, name);
    *out = def;
    if (!v) return 0;
    if (iz_parse_i64(v, min, max, out) != 0) {
        iz_cli_fail("--%s must be a whole number from %lld to %lld", name, (long long)min,
                    (long long)max);
        return -1;
    }
    return 0;
}

/* Start the store, the sync engine and the HTTP server. default_iys_url,
 * when not NULL, overrides --iys-url (the demo's built-in emulator). */
static int server_start(server_t *s, const iz_opts_t *o, const char *default_listen,
                        const char *default_iys_url, int default_pull, int default_poll)
{
    memset(s, 0, sizeof *s);
    if (load_holidays(o, &s->holidays) != 0) return 1;
    if (iz_cli_open_store(o, &s->store) != 0) return 1;
    if (open_gateway(s, o) != 0) return 2;
    /* The send filter's index: the commit hook goes in first, so no change
     * committed during the build is missed (the build replays them). */
    s->index = iz_index_new();
    iz_store_on_change(s->store, iz_index_on_change, s->index);
    int brc = iz_index_build(s->index, s->store);
    if (brc != 0) {
        iz_cli_fail("cannot build the filter index: %s", iz_strerror(brc));
        return 1;
    }
    fprintf(stderr, "izin: filter index: %zu consents, %zu bytes\n", iz_index_count(s->index),
            iz_index_bytes(s->index));
    s->app.index = s->index;
    s->app.store = s->store;
    s->app.holidays = s->holidays;
    s->app.default_iys_url = default_iys_url ? default_iys_url : iz_cli_get(o, "iys-url");
    s->app.push_user = iz_cli_get(o, "iys-push-user");
    s->app.push_password = iz_cli_get(o, "iys-push-password");
    if (s->app.default_iys_url && strncmp(s->app.default_iys_url, "http://", 7) != 0 &&
        strncmp(s->app.default_iys_url, "https://", 8) != 0) {
        iz_cli_fail("--iys-url must start with https:// (or http:// for the emulator)");
        return 2;
    }
    int64_t pull, rate, poll, timeout, retry_max;
    if (num_opt(o, "iys-pull-interval", 1, 86400, default_pull, &pull) ||
        num_opt(o, "iys-rate", 1, 1000, 10, &rate) ||
        num_opt(o, "iys-bulk-poll", 0, 86400, default_poll, &poll) ||
        num_opt(o, "iys-timeout-ms", 100, 600000, 10000, &timeout) ||
        num_opt(o, "iys-retry-max", 1, 3600, 60, &retry_max))
        return 2;
    iz_sync_conf_t sc = {.default_iys_url = s->app.default_iys_url,
                         .pull_interval = (int)pull,
                         .rate = (double)rate,
                         .bulk_poll_delay = (int)poll,
                         .timeout_ms = (long)timeout,
                         .retry_max = (int)retry_max,
                         .holidays = s->holidays};
    if (iz_sync_start(s->store, &sc, &s->sync) != 0) {
        iz_cli_fail("cannot start the İYS sync engine");
        return 1;
    }
    s->app.sync = s->sync;
    iz_http_config_t cfg = {0};
    cfg.listen = iz_cli_get(o, "listen");
    if (!cfg.listen) cfg.listen = default_listen;
    const char *th = iz_cli_get(o, "threads");
    int64_t threads = 0;
    if (th && iz_parse_i64(th, 1, 256, &threads) != 0) {
        iz_cli_fail("--threads must be 1..256");
        return 2;
    }
    cfg.threads = (unsigned)threads;
    cfg.routes = iz_api_routes(&cfg.nroutes);
    cfg.app = &s->app;
    cfg.auth = iz_api_auth;
    cfg.access_log = iz_cli_get(o, "access-log") != NULL;
    const char *err = NULL;
    if (iz_http_start(&cfg, &s->http, &err) != 0) {
        iz_cli_fail("cannot listen on %s: %s", cfg.listen, err);
        return 1;
    }
    return 0;
}

static void server_stop(server_t *s)
{
    iz_http_stop(s->http);
    iz_sync_stop(s->sync);
    iz_sms_gateway_close(s->gateway);
    if (s->store) {
        iz_store_on_change(s->store, NULL, NULL);
        iz_store_close(s->store);
    }
    iz_index_free(s->index);
    if (s->holidays) iz_holidays_free(s->holidays);
}

static void wait_for_stop(const sigset_t *set)
{
    int sig = 0;
    sigwait(set, &sig);
    fprintf(stderr, "izin: stopping (signal %d)\n", sig);
}

int iz_cmd_serve(int argc, char **argv)
{
    iz_opts_t o;
    if (iz_cli_parse(&o, serve_defs, IZ_ARRAY_LEN(serve_defs), argc, argv) != 0) return 2;
    const char *cfgfile = iz_cli_get(&o, "config");
    if (cfgfile && iz_cli_load_config(&o, cfgfile) != 0) {
        iz_cli_free(&o);
        return 2;
    }
    sigset_t set;
    block_signals(&set);
    server_t s;
    int rc = server_start(&s, &o, "127.0.0.1:8080", NULL, 60, 300);
    if (rc != 0) {
        server_stop(&s);
        iz_cli_free(&o);
        return rc;
    }
    printf("izin: serving on http://127.0.0.1:%u\n", (unsigned)iz_http_port(s.http));
    fflush(stdout);
    wait_for_stop(&set);
    server_stop(&s);
    iz_cli_free(&o);
    return 0;
}

#define DEMO_ACCOUNT "demo"
#define DEMO_IYS_CODE 600000
#define DEMO_BRAND 600000
#define DEMO_IYS_USER "demo"
/* The built-in emulator listens on loopback only; this password guards
 * nothing but the demo's own İYS stand-in. */
#define DEMO_IYS_PASSWORD "demo-izin-iys"

/* Make sure the demo account and brand exist, and the matching service
 * provider in the emulator; make a new key (keys are stored hashed, so the
 * old one cannot be shown again). */
static int demo_setup(iz_store_t *st, const char *sim_dir, char key[IZ_KEY_LEN + 1])
{
    iz_account_t a = {0};
    int rc = iz_store_account_by_name(st, DEMO_ACCOUNT, &a);
    if (rc == IZ_ENOTFOUND) {
        iz_strlcpy(a.name, DEMO_ACCOUNT, sizeof a.name);
        a.iys_code = DEMO_IYS_CODE;
        iz_strlcpy(a.plan, "demo", sizeof a.plan);
        iz_strlcpy(a.iys_user, DEMO_IYS_USER, sizeof a.iys_user);
        iz_strlcpy(a.iys_password, DEMO_IYS_PASSWORD, sizeof a.iys_password);
        rc = iz_store_account_add(st, &a);
    }
    if (rc != 0) return rc;
    iz_brand_t b = {0};
    rc = iz_store_brand_get(st, a.id, DEMO_BRAND, &b);
    if (rc == IZ_ENOTFOUND) {
        b.account_id = a.id;
        b.code = DEMO_BRAND;
        iz_strlcpy(b.name, "Demo Mağazası", sizeof b.name);
        iz_strlcpy(b.keyword, "DEMO", sizeof b.keyword);
        iz_strlcpy(b.short_number, "4607", sizeof b.short_number);
        iz_strlcpy(b.slug, "demo", sizeof b.slug);
        rc = iz_store_brand_add(st, &b);
    }
    if (rc != 0) return rc;

    iz_sim_store_t *ss;
    const char *err = NULL;
    if ((rc = iz_sim_store_open(sim_dir, &ss, &err)) != 0) return rc;
    iz_sim_provider_t p = {.iys_code = DEMO_IYS_CODE, .subscription = IZ_SUB_ACTIVE};
    iz_strlcpy(p.name, "Demo Ticaret A.Ş.", sizeof p.name);
    iz_strlcpy(p.username, DEMO_IYS_USER, sizeof p.username);
    rc = iz_sim_provider_add(ss, &p, DEMO_IYS_PASSWORD);
    if (rc == 0 || rc == IZ_EEXIST) rc = iz_sim_brand_add(ss, DEMO_IYS_CODE, DEMO_BRAND, b.name);
    if (rc == IZ_EEXIST) rc = 0;
    iz_sim_store_close(ss);
    if (rc != 0) return rc;

    char hex[IZ_SHA256_HEX];
    if ((rc = iz_key_generate(key)) != 0) return rc;
    iz_sha256_hex(key, strlen(key), hex);
    char prefix[9];
    memcpy(prefix, key, 8);
    prefix[8] = '\0';
    return iz_store_key_add(st, a.id, hex, prefix);
}

/* The demo's İYS: the emulator in this process, on its own port, with its
 * store beside the module's. */
typedef struct demo_sim {
    iz_sim_t *sim;
    iz_http_t *http;
    char url[64];
    char dir[4096];
} demo_sim_t;

static int demo_sim_start(demo_sim_t *d, const iz_opts_t *o, const iz_holidays_t *hol)
{
    const char *data = iz_cli_get(o, "data");
    snprintf(d->dir, sizeof d->dir, "%s/iys-sim", data ? data : "izin-data");
    iz_sim_config_t cfg;
    iz_sim_config_defaults(&cfg);
    cfg.data_dir = d->dir;
    cfg.pull_lag = 0;
    cfg.bulk_delay = 1;
    cfg.holidays = hol;
    const char *err = NULL;
    if (iz_sim_open(&cfg, &d->sim, &err) != 0) {
        iz_cli_fail("cannot open the emulator in %s: %s", d->dir, err ? err : "");
        return 1;
    }
    iz_http_config_t hc = {0};
    hc.listen = iz_cli_get(o, "iys-listen");
    if (!hc.listen) {
        /* Beside the module: port 0 (tests) stays 0, 8080 becomes 8090. */
        const char *l = iz_cli_get(o, "listen");
        hc.listen =
            l && strstr(l, ":0") && strlen(strstr(l, ":0")) == 2 ? "127.0.0.1:0" : "127.0.0.1:8090";
    }
    hc.routes = iz_sim_routes(&hc.nroutes);
    hc.app = d->sim;
    hc.gate = iz_sim_gate;
    hc.on_complete = iz_sim_complete;
    if (iz_http_start(&hc, &d->http, &err) != 0) {
        iz_cli_fail("cannot start the emulator on %s: %s", hc.listen, err);
        return 1;
    }
    snprintf(d->url, sizeof d->url, "http://127.0.0.1:%u", (unsigned)iz_http_port(d->http));
    return 0;
}

static void demo_sim_stop(demo_sim_t *d)
{
    iz_http_stop(d->http);
    iz_sim_close(d->sim);
}

int iz_cmd_demo(int argc, char **argv)
{
    iz_opts_t o;
    if (iz_cli_parse(&o, serve_defs, IZ_ARRAY_LEN(serve_defs), argc, argv) != 0) return 2;
    sigset_t set;
    block_signals(&set);
    iz_holidays_t *hol = NULL;
    if (load_holidays(&o, &hol) != 0) return 1;
    demo_sim_t d = {0};
    server_t s;
    memset(&s, 0, sizeof s);
    int rc = demo_sim_start(&d, &o, hol);
    if (rc == 0) rc = server_start(&s, &o, "127.0.0.1:8080", d.url, 5, 1);
    char key[IZ_KEY_LEN + 1];
    if (rc == 0 && demo_setup(s.store, d.dir, key) != 0) {
        iz_cli_fail("cannot set up the demo account");
        rc = 1;
    }
    if (rc != 0) {
        server_stop(&s);
        demo_sim_stop(&d);
        iz_holidays_free(hol);
        return rc;
    }
    unsigned port = iz_http_port(s.http);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", port);
    printf("izin demo is running on %s\n\n"
           "  account  %s (İYS code %d)\n"
           "  brand    %d (Demo Mağazası)\n"
           "  API key  %s\n"
           "  İYS      the built-in emulator on %s (citizen portal: %s/vatandas)\n\n"
           "Try it (Ctrl-C stops the demo; data stays in the data directory):\n\n"
           "  export KEY=%s\n\n"
           "  # record a consent (ONAY) for an SMS recipient\n"
           "  curl -s -X POST %s/v1/brands/%d/consents -H \"Authorization: Bearer $KEY\" \\\n"
           "    -H 'Content-Type: application/json' \\\n"
           "    -d '{\"recipient\":\"0532 123 45 67\",\"type\":\"MESAJ\",\"status\":\"ONAY\","
           "\"source\":\"HS_WEB\",\"consentDate\":\"2026-01-05 10:00:00\"}'\n\n"
           "  # read it back with its history\n"
           "  curl -s '%s/v1/brands/%d/consents/+905321234567?type=MESAJ' "
           "-H \"Authorization: Bearer $KEY\"\n\n"
           "  # which recipients may get a commercial SMS?\n"
           "  curl -s -X POST %s/v1/brands/%d/check -H \"Authorization: Bearer $KEY\" \\\n"
           "    -H 'Content-Type: application/json' \\\n"
           "    -d '{\"type\":\"MESAJ\",\"recipients\":[\"05321234567\",\"05329998877\"]}'\n\n",
           base, DEMO_ACCOUNT, DEMO_IYS_CODE, DEMO_BRAND, key, d.url, d.url, key, base, DEMO_BRAND,
           base, DEMO_BRAND, base, DEMO_BRAND);
    fflush(stdout);
    iz_wipe(key, sizeof key);
    wait_for_stop(&set);
    server_stop(&s);
    demo_sim_stop(&d);
    iz_holidays_free(hol);
    return 0;
}
