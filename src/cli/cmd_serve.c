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
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/cpage.h"
#include "bulk/job.h"
#include "cli/cli.h"
#include "sys/fs.h"
#include "hook/webhook.h"
#include "core/holidays_data.h"
#include "core/iz.h"
#include "domain/cluster.h"
#include "index/index.h"
#include "iys/sync.h"
#include "sys/crypto.h"
#include "sim/sim.h"
#include "sim/simstore.h"
#include "sms/gateway.h"
#include "sms/outbound.h"
#include "sys/log.h"
#include "web/panel.h"

/* The settings of serve and demo (API.md), each with its default. */
static const iz_optdef_t serve_defs[] = {
    {"listen", true, "ADDR", "127.0.0.1:8080", "address and port to serve the API on"},
    {"data", true, "DIR", "./izin-data", "data directory (the SQLite store DIR/izin.db)"},
    {"db", true, "URL", NULL,
     "store location instead of --data: sqlite:PATH (postgresql:// not "
     "in this build)"},
    {"config", true, "FILE", NULL, "read settings from FILE, one 'name = value' a line"},
    {"iys-url", true, "URL", "none (demo: the built-in emulator)",
     "İYS base URL for accounts that set none"},
    {"iys-pull-interval", true, "S", "60 (demo: 5)", "seconds between İYS change pulls"},
    {"iys-rate", true, "N", "10",
     "İYS requests a second, at most, to one İYS URL (every account behind this address)"},
    {"iys-bulk-after", true, "N", "3 x --iys-rate",
     "an account with more than N changes due sends them in bulk requests of up to 1000"},
    {"iys-bulk-poll", true, "S", "300 (demo: 1)",
     "seconds before a bulk request's status is polled"},
    {"iys-timeout-ms", true, "MS", "10000", "time limit of one İYS request"},
    {"iys-retry-max", true, "S", "60", "longest pause between retries after İYS failures"},
    {"iys-reconcile-hour", true, "H", "2",
     "Turkey-time hour (1-23) after which yesterday is reconciled with İYS; -1: never"},
    {"iys-integrator-user", true, "U", NULL,
     "İYS partner (iş ortağı) API user, for the accounts added with --iys-integrator CODE"},
    {"iys-integrator-password", true, "P", NULL, "that user's password"},
    {"iys-standing-interval", true, "S", "600",
     "seconds between reads of each account's İYS subscription and a partner's authorizations"},
    {"iys-push-user", true, "U", NULL, "HTTP Basic user İYS's push must carry"},
    {"iys-push-password", true, "P", NULL, "HTTP Basic password İYS's push must carry"},
    {"iys-listen", true, "ADDR", "127.0.0.1:8090", "(demo) where the built-in emulator listens"},
    {"sms-gateway", true, "SPEC", "log:DATA/sms.log",
     "outbound SMS: log:FILE, kannel:http://host:port/cgi-bin/sendsms?username=U&password=P, "
     "json:URL"},
    {"sms-max-parts", true, "N", "10 (kannel: 1)",
     "parts an SMS text may have, opt-out included (1..10); for Kannel at most the "
     "sendsms-user's max-messages"},
    {"sms-concurrency", true, "N", "16", "SMS requests to the gateway at once (1..64)"},
    {"sms-rate", true, "N", "0: as fast as the gateway answers", "SMS a second at most"},
    {"sms-timeout-ms", true, "MS", "10000",
     "time limit of one SMS request; without an answer the message is UNKNOWN, never resent"},
    {"sms-dlr-url", true, "URL", "kannel with --gateway-token: http://LISTEN/v1/sms/dlr",
     "where Kannel sends delivery reports (izin's GET /v1/sms/dlr), or none"},
    {"gateway-token", true, "T", "none: inbound SMS answers 503",
     "secret inbound SMS and delivery reports must carry (?token= or X-Izin-Token), 16 "
     "characters or more"},
    {"public-url", true, "URL", "http://LISTEN",
     "base of the consent page links (/c/SLUG) and their QR codes"},
    {"page-code-ttl", true, "S", "180", "seconds a consent page code is valid (1..3600)"},
    {"allow-private-webhooks", false, NULL, "off (demo: on)",
     "let webhooks go to http:// and to loopback or private addresses (tests, demos, a "
     "receiver on the same network)"},
    {"webhook-give-up", true, "S", "86400",
     "seconds a webhook batch may keep failing before it becomes a dead letter (86400, "
     "24 hours, is the least for production)"},
    {"webhook-workers", true, "N", "4", "webhook deliveries at once, over all brands (1..32)"},
    {"holidays", true, "FILE", "the built-in table", "Turkey's holidays (CSV) for business days"},
    {"plans", true, "FILE", "the built-in sample (data/plans.conf)",
     "plan tiers, one a line: code | name | consent limit | yearly price before VAT"},
    {"threads", true, "N", "32", "HTTP worker threads"},
    {"access-log", false, NULL, "off", "one log line per request"},
    {"max-conns-per-ip", true, "N", "128",
     "open connections one client address may hold (raise it behind a proxy)"},
    {"header-timeout", true, "S", "10", "seconds a client has to send its request headers"},
    {"log-level", true, "LEVEL", "info", "debug, info, warn or error"},
};

static const iz_cmddef_t serve_cmd =
    IZ_CMD("izin serve", "[options]",
           "Run the module server: the HTTP API, the send filter and the İYS sync engine.",
           serve_defs);

const iz_cmddef_t *iz_cli_serve_cmd(void)
{
    return &serve_cmd;
}

static const iz_cmddef_t demo_cmd =
    IZ_CMD("izin demo", "[options]",
           "Run everything on embedded defaults in one process: the store in --data, the İYS "
           "emulator,\nthe SMS log sink, a demo account, brand and a new API key printed on "
           "start.",
           serve_defs);

/* The checks of settings made before anything starts: the log level. */
static int early_settings(const iz_opts_t *o)
{
    const char *lv = iz_cli_get(o, "log-level");
    iz_log_level_t level;
    if (lv) {
        if (iz_log_level_parse(lv, &level) != 0) {
            iz_cli_fail("--log-level must be debug, info, warn or error");
            return -1;
        }
        iz_log_set_level(level);
    }
    return 0;
}

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

/* Read the settings of serve or demo: flags, then the --config file, then
 * the checks every setting gets; blocks the stop signals into *set. 0, or
 * the exit code (0 after --help). */
static int settings(iz_opts_t *o, const iz_cmddef_t *cmd, int argc, char **argv, sigset_t *set,
                    int *exit_code)
{
    int prc = iz_cli_parse(o, cmd, argc, argv);
    if (prc != 0) {
        *exit_code = IZ_CLI_EXIT(prc);
        return -1;
    }
    const char *cfgfile = iz_cli_get(o, "config");
    if ((cfgfile && iz_cli_load_config(o, cfgfile) != 0) || early_settings(o) != 0) {
        iz_cli_free(o);
        *exit_code = 2;
        return -1;
    }
    block_signals(set);
    return 0;
}


typedef struct server {
    iz_store_t *store;
    iz_jobs_t *jobs;
    char spool[IZ_PATH_MAX];
    iz_holidays_t *holidays;
    iz_plans_t *plans;
    iz_index_t *index;
    iz_domain_t *dom;
    iz_app_t app;
    iz_http_t *http;
    iz_sync_t *sync;
    iz_cluster_t *cluster; /* several nodes on one PostgreSQL; NULL: this node alone */
    iz_sms_gateway_t *gateway;
    iz_sms_queue_t *sms_queue;
    iz_hook_t *hook;
    iz_panel_t *panel;
    iz_route_t *routes; /* the API's routes and the panel's, joined */
} server_t;

/* The data directory of the store the options name (--db or --data, or
 * their IZIN_* variables, else ./izin-data), from the one location parser:
 * the default SMS log and the demo's emulator go there. */
static int data_dir(const iz_opts_t *o, char *out, size_t outsz)
{
    const char *local = iz_cli_local_dir(o);
    if (local) {
        const char *merr = NULL;
        if (iz_strlcpy(out, local, outsz) != 0 || iz_mkdirs(out, &merr) != 0) {
            iz_cli_fail("the node's folder %s: %s", local, merr ? merr : "too long");
            return -1;
        }
        return 0;
    }
    const char *loc = iz_cli_store_location(o);
    iz_store_loc_t *l = iz_xmalloc(sizeof *l);
    const char *err = NULL;
    int rc = iz_store_location_parse(loc, l, &err);
    if (rc == 0 && !l->dir[0]) rc = IZ_EUNSUPPORTED;
    if (rc == 0 && iz_strlcpy(out, l->dir, outsz) != 0) rc = IZ_ETOOBIG;
    if (rc != 0) iz_cli_fail("store location %s: %s", loc, err ? err : iz_strerror(rc));
    free(l);
    return rc;
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

/* Open the SMS gateway of --sms-gateway (default log:DATA/sms.log). */
static int open_gateway(server_t *s, const iz_opts_t *o)
{
    char dir[IZ_PATH_MAX];
    if (data_dir(o, dir, sizeof dir) != 0) return -1;
    const char *err = NULL;
    if (iz_sms_gateway_open(iz_cli_get(o, "sms-gateway"), dir, &s->gateway, &err) != 0) {
        iz_cli_fail("--sms-gateway: %s", err ? err : "cannot open the gateway");
        return -1;
    }
    char shown[1024];
    iz_sms_gateway_describe(s->gateway, shown, sizeof shown);
    iz_logf(IZ_LOG_INFO, "serve", "SMS gateway", "gateway=%s", shown);
    s->app.gateway = s->gateway;
    bool kannel = iz_sms_gateway_is_kannel(s->gateway);
    int64_t parts, timeout;
    if (num_opt(o, "sms-max-parts", 1, 10, kannel ? 1 : 10, &parts) ||
        num_opt(o, "sms-timeout-ms", 100, 600000, 10000, &timeout))
        return -1;
    s->app.sms_max_parts = (int)parts;
    s->app.sms_wait_ms = (long)timeout + 1000; /* the answer is written within ms of it */
    iz_sms_gateway_set_timeout(s->gateway, (long)timeout);
    if (!kannel) return 0;
    /* Kannel's sendsms-user sends only max-messages parts of a text (1
     * unless set) and drops the rest - the opt-out instruction with it -
     * answering 202 all the same. Nothing izin can ask Kannel tells that
     * number, so izin refuses longer texts itself and says so. */
    if (!iz_cli_get(o, "sms-max-parts"))
        iz_logf(IZ_LOG_WARN, "serve",
                "kannel: SMS texts over one part are refused: Kannel's sendsms-user sends "
                "only max-messages parts (1 unless set) and drops the rest without an error; "
                "set max-messages = 10 and concatenation = true for izin's sendsms-user and "
                "start izin with --sms-max-parts 10",
                "max_parts=1");
    else
        iz_logf(IZ_LOG_INFO, "serve",
                "kannel: SMS texts of up to max_parts parts; the sendsms-user's max-messages "
                "must be at least that",
                "max_parts=%lld", (long long)parts);
    char msg[256];
    int prc = iz_sms_gateway_probe(s->gateway, msg, sizeof msg);
    if (prc == IZ_ERULE) {
        iz_cli_fail("--sms-gateway: %s", msg);
        return -1;
    }
    iz_logf(prc == 0 ? IZ_LOG_INFO : IZ_LOG_WARN, "serve", msg, "gateway=%s", shown);
    return 0;
}

/* Start the outbound SMS queue once the server listens: Kannel's delivery
 * reports come back to the server's own port. */
static int start_sms_queue(server_t *s, const iz_opts_t *o, const char *listen)
{
    int64_t conc, rate;
    if (num_opt(o, "sms-concurrency", 1, IZ_SMS_CONCURRENCY_MAX, 16, &conc) ||
        num_opt(o, "sms-rate", 0, 100000, 0, &rate))
        return 2;
    const char *dlr = iz_cli_get(o, "sms-dlr-url");
    char deflt[300];
    if (dlr && strcmp(dlr, "none") == 0) {
        dlr = NULL;
    } else if (dlr) {
        if ((strncmp(dlr, "http://", 7) != 0 && strncmp(dlr, "https://", 8) != 0) ||
            strlen(dlr) > 256) {
            iz_cli_fail("--sms-dlr-url must be an http:// or https:// URL (at most 256 "
                        "characters), or none");
            return 2;
        }
        if (!s->app.gateway_token) {
            iz_cli_fail("--sms-dlr-url needs --gateway-token: delivery reports carry it");
            return 2;
        }
    } else if (s->app.gateway_token && iz_sms_gateway_is_kannel(s->gateway)) {
        /* The address izin listens on, as Kannel on this host reaches it. */
        const char *colon = strrchr(listen, ':');
        size_t hl = colon ? (size_t)(colon - listen) : 0;
        char host[128] = "127.0.0.1";
        if (hl > 0 && hl < sizeof host && strncmp(listen, "0.0.0.0", hl) != 0 &&
            strncmp(listen, "[::]", hl) != 0) {
            memcpy(host, listen, hl);
            host[hl] = '\0';
        }
        snprintf(deflt, sizeof deflt, "http://%s:%u/v1/sms/dlr", host,
                 (unsigned)iz_http_port(s->http));
        dlr = deflt;
    }
    if (dlr) {
        iz_sms_gateway_set_dlr(s->gateway, dlr, s->app.gateway_token);
        iz_logf(IZ_LOG_INFO, "serve", "SMS delivery reports", "dlr_url=%s", dlr);
    } else if (iz_sms_gateway_is_kannel(s->gateway)) {
        iz_logf(IZ_LOG_INFO, "serve",
                "SMS delivery reports are off (they need --gateway-token; --sms-dlr-url)",
                "dlr_url=none");
    }
    iz_sms_queue_conf_t qc = {.dom = s->dom,
                              .gateway = s->gateway,
                              .concurrency = (unsigned)conc,
                              .rate = (double)rate,
                              .max_parts = s->app.sms_max_parts,
                              .lead = s->cluster ? iz_cluster_leading : NULL,
                              .lead_ctx = s->cluster};
    int rc = iz_sms_queue_start(&qc, &s->sms_queue);
    if (rc != 0) {
        iz_cli_fail("cannot start the SMS queue: %s", iz_strerror(rc));
        return 1;
    }
    atomic_store(&s->app.sms_queue, s->sms_queue);
    return 0;
}

/* Start the store, the sync engine and the HTTP server. default_iys_url,
 * when not NULL, overrides --iys-url (the demo's built-in emulator). */
/* The consent page: its links under --public-url, by default this
 * server's own address (the host of --listen with the port bound). */
static int start_cpage(server_t *s, const iz_opts_t *o, const char *listen)
{
    const char *url = iz_cli_get(o, "public-url");
    char deflt[IZ_CPAGE_PUBLIC_URL_MAX + 1];
    if (!url) {
        const char *colon = strrchr(listen, ':');
        int hlen = colon ? (int)(colon - listen) : (int)strlen(listen);
        snprintf(deflt, sizeof deflt, "http://%.*s:%u", hlen, listen,
                 (unsigned)iz_http_port(s->http));
        url = deflt;
    }
    int64_t ttl;
    if (num_opt(o, "page-code-ttl", 1, 3600, IZ_CPAGE_TTL, &ttl)) return 2;
    iz_cpage_t *cp = NULL;
    int rc = iz_cpage_new(url, ttl, &cp);
    if (rc != 0) {
        iz_cli_fail("--public-url must be http:// or https:// and a host, at most %d bytes, "
                    "without a query: %s",
                    IZ_CPAGE_PUBLIC_URL_MAX, url);
        return 2;
    }
    atomic_store(&s->app.cpage, cp);
    return 0;
}

/* The customer webhooks' delivery engine. The demo lets them go to
 * private addresses (its receivers run beside it). */
static int start_hook(server_t *s, const iz_opts_t *o, bool demo)
{
    int64_t give_up, workers;
    if (num_opt(o, "webhook-give-up", 1, 365 * 86400, IZ_HOOK_GIVE_UP_DEFAULT, &give_up) ||
        num_opt(o, "webhook-workers", 1, 32, 4, &workers))
        return 2;
    iz_hook_conf_t hc = {.store = s->store,
                         .allow_private = demo || iz_cli_get(o, "allow-private-webhooks") != NULL,
                         .give_up_s = give_up,
                         .workers = (unsigned)workers,
                         .lead = s->cluster ? iz_cluster_leading : NULL,
                         .lead_ctx = s->cluster};
    if (give_up < IZ_HOOK_GIVE_UP_DEFAULT)
        iz_logf(IZ_LOG_WARN, "serve",
                "webhook batches are given up on after less than 24 hours (fine for tests, not "
                "for production)",
                "give_up_s=%lld", (long long)give_up);
    if (hc.allow_private)
        iz_logf(IZ_LOG_INFO, "serve", "webhooks may go to http:// and private addresses",
                "allow_private=1");
    if (iz_hook_start(&hc, &s->hook) != 0) {
        iz_cli_fail("cannot start the webhook delivery");
        return 1;
    }
    atomic_store(&s->app.hook, s->hook);
    return 0;
}

/* Every account's plan must be one of the plans: an account whose plan
 * the file lost would be bounded by nothing without anyone knowing. */
static int accounts_plans_known(server_t *s)
{
    iz_account_t *a = NULL;
    size_t n = 0;
    if (iz_store_accounts_all(s->store, &a, &n) != 0) {
        iz_cli_fail("cannot read the accounts");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (a[i].plan[0] && !iz_plans_find(s->plans, a[i].plan)) {
            char known[1024];
            iz_plans_codes(s->plans, known, sizeof known);
            iz_cli_fail("account %s has plan '%s', which the plans do not have (they are: %s); "
                        "give --plans a file with it, or izin account set --name %s --plan P",
                        a[i].name, a[i].plan, known, a[i].name);
            rc = -1;
        }
    free(a);
    return rc;
}

static int server_start(server_t *s, const iz_opts_t *o, const char *default_listen,
                        const char *default_iys_url, int default_pull, int default_poll)
{
    memset(s, 0, sizeof *s);
    if (load_holidays(o, &s->holidays) != 0) return 1;
    if (iz_cli_load_plans(o, &s->plans) != 0) return 2;
    if (iz_cli_open_store(o, &s->store) != 0) return 1;
    if (accounts_plans_known(s) != 0) return 2;
    if (open_gateway(s, o) != 0) return 2;
    const char *iys_url = default_iys_url ? default_iys_url : iz_cli_get(o, "iys-url");
    if (iys_url && strncmp(iys_url, "http://", 7) != 0 && strncmp(iys_url, "https://", 8) != 0) {
        iz_cli_fail("--iys-url must start with https:// (or http:// for the emulator)");
        return 2;
    }
    /* The domain layer: everything records and judges through it. Opening
     * it subscribes the send filter's index to the store's commits and
     * builds the index. */
    s->index = iz_index_new();
    iz_domain_conf_t dc = {.store = s->store,
                           .holidays = s->holidays,
                           .default_iys_url = iys_url,
                           .index = s->index,
                           .plans = s->plans};
    const char *derr = NULL;
    int drc = iz_domain_open(&dc, &s->dom, &derr);
    if (drc != 0) {
        iz_cli_fail("%s: %s", derr ? derr : "cannot start", iz_strerror(drc));
        return 1;
    }
    iz_logf(IZ_LOG_INFO, "serve", "filter index built", "consents=%zu bytes=%zu",
            iz_index_count(s->index), iz_index_bytes(s->index));
    /* Several nodes on one PostgreSQL: the lease and the shared log's
     * notices (domain/cluster.h); nothing when the store is SQLite. */
    if (iz_cluster_start(s->dom, &s->cluster) != 0) {
        iz_cli_fail("cannot start the cluster thread");
        return 1;
    }
    s->app.cluster = s->cluster;
    s->app.dom = s->dom;
    s->app.store = s->store;
    s->app.push_user = iz_cli_get(o, "iys-push-user");
    s->app.push_password = iz_cli_get(o, "iys-push-password");
    int64_t pull, rate, poll, timeout, retry_max, bulk_after, recon_hour, standing;
    if (num_opt(o, "iys-pull-interval", 1, 86400, default_pull, &pull) ||
        num_opt(o, "iys-rate", 1, 1000, 10, &rate) ||
        num_opt(o, "iys-bulk-after", 1, 100000000, 0, &bulk_after) ||
        num_opt(o, "iys-bulk-poll", 0, 86400, default_poll, &poll) ||
        num_opt(o, "iys-timeout-ms", 100, 600000, 10000, &timeout) ||
        num_opt(o, "iys-retry-max", 1, 3600, 60, &retry_max) ||
        num_opt(o, "iys-reconcile-hour", -1, 23, 2, &recon_hour) ||
        num_opt(o, "iys-standing-interval", 1, 86400, 600, &standing))
        return 2;
    /* An answer that waits for İYS (retailers, the consent page's OTP):
     * a token and the call, each bounded by the timeout, and a second. */
    s->app.iys_wait_ms = 2 * (long)timeout + 1000;
    if (recon_hour == 0) {
        iz_cli_fail("--iys-reconcile-hour must be 1 to 23 (İYS writes a day's files after "
                    "midnight), or -1 for never");
        return 2;
    }
    const char *ig_user = iz_cli_get(o, "iys-integrator-user");
    const char *ig_pass = iz_cli_get(o, "iys-integrator-password");
    if (!ig_user != !ig_pass ||
        (ig_user && (strlen(ig_user) >= IZ_NAME_MAX || strlen(ig_pass) >= IZ_NAME_MAX))) {
        iz_cli_fail("--iys-integrator-user and --iys-integrator-password go together (each under "
                    "%d bytes)",
                    IZ_NAME_MAX);
        return 2;
    }
    iz_sync_conf_t sc = {.default_iys_url = iys_url,
                         .pull_interval = (int)pull,
                         .rate = (double)rate,
                         .bulk_after = bulk_after ? (int)bulk_after : (int)(3 * rate),
                         .bulk_poll_delay = (int)poll,
                         .timeout_ms = (long)timeout,
                         .retry_max = (int)retry_max,
                         .recon_hour = (int)recon_hour,
                         .holidays = s->holidays,
                         .integrator_user = ig_user,
                         .integrator_password = ig_pass,
                         .standing_interval = (int)standing,
                         .lead = s->cluster ? iz_cluster_leading : NULL,
                         .lead_ctx = s->cluster};
    if (iz_sync_start(s->dom, &sc, &s->sync) != 0) {
        iz_cli_fail("cannot start the İYS sync engine");
        return 1;
    }
    s->app.sync = s->sync;
    /* Bulk uploads are spooled in DATA/uploads and run by the job runner,
     * which first resumes the jobs a stopped server left. */
    char dir[IZ_PATH_MAX];
    if (data_dir(o, dir, sizeof dir) != 0) return 1;
    const char *merr = NULL;
    if (snprintf(s->spool, sizeof s->spool, "%s/uploads", dir) >= (int)sizeof s->spool ||
        iz_mkdirs(s->spool, &merr) != 0) {
        iz_cli_fail("cannot make the upload folder %s: %s", s->spool, merr ? merr : "too long");
        return 1;
    }
    s->app.spool_dir = s->spool;
    const char *tok = iz_cli_get(o, "gateway-token");
    if (tok && strlen(tok) < 16) {
        iz_cli_fail("--gateway-token must be at least 16 characters (it is the only lock on "
                    "inbound SMS)");
        return 1;
    }
    s->app.gateway_token = tok && *tok ? tok : NULL;
    if (iz_jobs_start(s->dom, &s->jobs) != 0) {
        iz_cli_fail("cannot start the bulk job runner");
        return 1;
    }
    s->app.jobs = s->jobs;
    /* Only the demo passes its own emulator's URL. */
    int hrc = start_hook(s, o, default_iys_url != NULL);
    if (hrc != 0) return hrc;
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
    /* Half the outside-call workers (net/http.h: twice the threads). */
    s->app.sms_wait_max = threads ? (int)threads : IZ_HTTP_DEFAULT_THREADS;
    /* The panel: its cookies are Secure (and __Host-) when the public
     * address is https. */
    const char *pub = iz_cli_get(o, "public-url");
    if (iz_panel_new(pub && strncmp(pub, "https://", 8) == 0, &s->panel) != 0) {
        iz_cli_fail("cannot start the panel (no randomness or memory)");
        return 1;
    }
    s->app.panel = s->panel;
    size_t napi, nweb;
    const iz_route_t *api = iz_api_routes(&napi), *web = iz_web_routes(&nweb);
    s->routes = iz_xcalloc(napi + nweb, sizeof *s->routes);
    memcpy(s->routes, api, napi * sizeof *api);
    memcpy(s->routes + napi, web, nweb * sizeof *web);
    cfg.routes = s->routes;
    cfg.nroutes = napi + nweb;
    cfg.app = &s->app;
    cfg.auth = iz_api_auth;
    cfg.access_log = iz_cli_get(o, "access-log") != NULL;
    int64_t per_ip, header_timeout;
    if (num_opt(o, "max-conns-per-ip", 1, 65536, 128, &per_ip) ||
        num_opt(o, "header-timeout", 1, 3600, 10, &header_timeout))
        return 2;
    cfg.max_per_ip = (unsigned)per_ip;
    cfg.header_timeout_ms = (unsigned)header_timeout * 1000;
    const char *err = NULL;
    if (iz_http_start(&cfg, &s->http, &err) != 0) {
        iz_cli_fail("cannot listen on %s: %s", cfg.listen, err);
        return 1;
    }
    atomic_store(&s->app.http, s->http);
    int crc = start_cpage(s, o, cfg.listen);
    if (crc != 0) return crc;
    return start_sms_queue(s, o, cfg.listen);
}

static void server_stop(server_t *s)
{
    iz_domain_stopping(s->dom);
    iz_http_stop(s->http);
    iz_cpage_free(atomic_exchange(&s->app.cpage, NULL));
    iz_panel_free(s->panel);
    iz_api_cache_free(&s->app);
    free(s->routes);
    iz_sms_queue_stop(s->sms_queue);
    atomic_store(&s->app.hook, NULL);
    iz_hook_stop(s->hook);
    iz_jobs_stop(s->jobs);
    iz_sync_stop(s->sync);
    iz_cluster_stop(s->cluster);
    iz_sms_gateway_close(s->gateway);
    iz_domain_close(s->dom);
    iz_store_close(s->store);
    iz_index_free(s->index);
    if (s->holidays) iz_holidays_free(s->holidays);
    free(s->plans);
}

static void wait_for_stop(const sigset_t *set)
{
    int sig = 0;
    sigwait(set, &sig);
    iz_logf(IZ_LOG_INFO, "serve", "stopping", "signal=%d", sig);
}

int iz_cmd_serve(int argc, char **argv)
{
    iz_opts_t o;
    sigset_t set;
    int code;
    if (settings(&o, &serve_cmd, argc, argv, &set, &code) != 0) return code;
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
/* A sample MERSİS number and contact for the demo brand's commercial
 * messages (no real company's). */
#define DEMO_MERSIS "0000000000000001"
#define DEMO_CONTACT "destek@example.com"

/* Make sure the demo account and brand exist, and the matching service
 * provider in the emulator; make a new key (keys are stored hashed, so the
 * old one cannot be shown again). */
#define DEMO_USER "demo@izin.local"

/* The demo's panel user: made on the first start, given a new password
 * (printed) on every start, as the key is made anew. */
static int demo_user(iz_store_t *st, int64_t account_id, char pw[IZ_PW_GEN_LEN + 1])
{
    iz_user_t u;
    int rc = iz_store_user_by_email(st, DEMO_USER, &u);
    if (rc == IZ_ENOTFOUND) {
        rc = iz_panel_user_add(st, account_id, DEMO_USER, NULL, pw, &u);
        /* The demo's password is printed on every start: no forced change. */
        if (rc == 0) rc = iz_panel_user_reset(st, u.id, pw);
        return rc;
    }
    return rc == 0 ? iz_panel_user_reset(st, u.id, pw) : rc;
}

static int demo_setup(iz_store_t *st, const char *sim_dir, char key[IZ_KEY_LEN + 1],
                      char pw[IZ_PW_GEN_LEN + 1])
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
    /* The sender's identity and contact every commercial message carries:
     * sample values (an older demo store gets them too). */
    iz_brand_ident_t id;
    if ((rc = iz_store_brand_ident_get(st, b.id, &id)) != 0) return rc;
    if (!id.trade_name[0] && !id.tradesman[0]) {
        iz_strlcpy(id.trade_name, "Demo Ticaret A.Ş.", sizeof id.trade_name);
        iz_strlcpy(id.mersis, DEMO_MERSIS, sizeof id.mersis);
        if (!id.contact[0]) iz_strlcpy(id.contact, DEMO_CONTACT, sizeof id.contact);
        if ((rc = iz_store_brand_ident_set(st, b.id, &id)) != 0) return rc;
    }

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

    rc = iz_store_key_create(st, a.id, key);
    return rc == 0 ? demo_user(st, a.id, pw) : rc;
}

/* The demo's İYS: the emulator in this process, on its own port, with its
 * store beside the module's. */
typedef struct demo_sim {
    iz_sim_t *sim;
    iz_http_t *http;
    char url[64];
    char dir[IZ_PATH_MAX + 16];
} demo_sim_t;

static int demo_sim_start(demo_sim_t *d, const iz_opts_t *o, const iz_holidays_t *hol)
{
    char data[IZ_PATH_MAX];
    if (data_dir(o, data, sizeof data) != 0) return 2;
    if (snprintf(d->dir, sizeof d->dir, "%s/iys-sim", data) >= (int)sizeof d->dir) {
        iz_cli_fail("the data directory's path is too long");
        return 2;
    }
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
    sigset_t set;
    int code;
    if (settings(&o, &demo_cmd, argc, argv, &set, &code) != 0) return code;
    iz_holidays_t *hol = NULL;
    if (load_holidays(&o, &hol) != 0) return 1;
    demo_sim_t d = {0};
    server_t s;
    memset(&s, 0, sizeof s);
    int rc = demo_sim_start(&d, &o, hol);
    if (rc == 0) rc = server_start(&s, &o, "127.0.0.1:8080", d.url, 5, 1);
    char key[IZ_KEY_LEN + 1], pw[IZ_PW_GEN_LEN + 1];
    if (rc == 0 && demo_setup(s.store, d.dir, key, pw) != 0) {
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
           "  panel    %s/panel  (e-mail %s, password %s)\n"
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
           base, DEMO_ACCOUNT, DEMO_IYS_CODE, DEMO_BRAND, key, base, DEMO_USER, pw, d.url, d.url,
           key, base, DEMO_BRAND, base, DEMO_BRAND, base, DEMO_BRAND);
    fflush(stdout);
    iz_wipe(key, sizeof key);
    iz_wipe(pw, sizeof pw);
    wait_for_stop(&set);
    server_stop(&s);
    demo_sim_stop(&d);
    iz_holidays_free(hol);
    return 0;
}
