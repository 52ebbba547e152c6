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
#include "net/secret.h"

static const iz_optdef_t serve_defs[] = {
    {"listen", true},        {"data", true},          {"db", true},
    {"config", true},        {"iys-url", true},       {"iys-pull-interval", true},
    {"iys-rate", true},      {"sms-gateway", true},   {"gateway-token", true},
    {"public-url", true},    {"allow-private-webhooks", false},
    {"holidays", true},      {"threads", true},       {"access-log", false},
};

/* The holiday table: --holidays FILE, else the built-in copy. */
static int load_holidays(const iz_opts_t *o, iz_holidays_t **h)
{
    const char *path = iz_cli_get(o, "holidays");
    int rc = path ? iz_holidays_load(path, h)
                  : iz_holidays_parse(iz_holidays_csv,
                                      (size_t)(iz_holidays_csv_end - iz_holidays_csv), h);
    if (rc != 0) iz_cli_fail("cannot load the holiday table%s%s", path ? " " : "", path ? path : "");
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
} server_t;

static int server_start(server_t *s, const iz_opts_t *o, const char *default_listen)
{
    memset(s, 0, sizeof *s);
    if (load_holidays(o, &s->holidays) != 0) return 1;
    if (iz_cli_open_store(o, &s->store) != 0) return 1;
    s->app.store = s->store;
    s->app.holidays = s->holidays;
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
    if (s->store) iz_store_close(s->store);
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
    int rc = server_start(&s, &o, "127.0.0.1:8080");
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

/* Make sure the demo account and brand exist; make a new key (keys are
 * stored hashed, so the old one cannot be shown again). */
static int demo_setup(iz_store_t *st, char key[IZ_KEY_LEN + 1])
{
    iz_account_t a = {0};
    int rc = iz_store_account_by_name(st, DEMO_ACCOUNT, &a);
    if (rc == IZ_ENOTFOUND) {
        iz_strlcpy(a.name, DEMO_ACCOUNT, sizeof a.name);
        a.iys_code = DEMO_IYS_CODE;
        iz_strlcpy(a.plan, "demo", sizeof a.plan);
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
    char hex[IZ_SHA256_HEX];
    if ((rc = iz_key_generate(key)) != 0) return rc;
    iz_sha256_hex(key, strlen(key), hex);
    char prefix[9];
    memcpy(prefix, key, 8);
    prefix[8] = '\0';
    return iz_store_key_add(st, a.id, hex, prefix);
}

int iz_cmd_demo(int argc, char **argv)
{
    iz_opts_t o;
    if (iz_cli_parse(&o, serve_defs, IZ_ARRAY_LEN(serve_defs), argc, argv) != 0) return 2;
    sigset_t set;
    block_signals(&set);
    server_t s;
    int rc = server_start(&s, &o, "127.0.0.1:8080");
    char key[IZ_KEY_LEN + 1];
    if (rc == 0 && demo_setup(s.store, key) != 0) {
        iz_cli_fail("cannot set up the demo account");
        rc = 1;
    }
    if (rc != 0) {
        server_stop(&s);
        return rc;
    }
    unsigned port = iz_http_port(s.http);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", port);
    printf("izin demo is running on %s\n\n"
           "  account  %s (İYS code %d)\n"
           "  brand    %d (Demo Mağazası)\n"
           "  API key  %s\n\n"
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
           base, DEMO_ACCOUNT, DEMO_IYS_CODE, DEMO_BRAND, key, key, base, DEMO_BRAND, base,
           DEMO_BRAND, base, DEMO_BRAND);
    fflush(stdout);
    iz_wipe(key, sizeof key);
    wait_for_stop(&set);
    server_stop(&s);
    return 0;
}
