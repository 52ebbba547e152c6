/*
 * cmd_sim.c - `izin iys-sim`: the İYS emulator alone, and
 * `izin iys-sim verify`: check the emulator store's tamper-evident log.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/holidays_data.h"
#include "core/iz.h"
#include "sim/sim.h"
#include "sys/log.h"

static const iz_optdef_t sim_defs[] = {
    {"listen", true, "ADDR", "127.0.0.1:8090", "address and port to serve İYS's API on"},
    {"data", true, "DIR", "./iys-sim-data", "the emulator's data directory (DIR/iys-sim.db)"},
    {"bulk-delay", true, "S", "2", "seconds before a bulk request is processed"},
    {"min-poll", true, "S", "0 (İYS: 300)", "how soon a bulk status may be polled"},
    {"rate", true, "N", "10", "requests a second per client address (0: off)"},
    {"token-limit", true, "N", "100", "token requests an hour per client address (0: off)"},
    {"status-limit", true, "N", "1000", "single status queries an hour per client (0: off)"},
    {"history-limit", true, "N", "100", "history queries an hour per client (0: off)"},
    {"pull-lag", true, "S", "3600", "the change pull leaves out changes younger than S seconds"},
    {"watch-min", true, "N", "20000", "requests in 24 h before the 70% success watch judges"},
    {"push-interval-ms", true, "MS", "1000", "how often push deliveries are attempted"},
    {"allow-http-push", false, NULL, "off (https only, as İYS)",
     "take http:// push URLs too (for tests on loopback)"},
    {"otp-ttl", true, "S", "180", "how long a ViA / OTP management code is valid"},
    {"link-ttl", true, "S", "86400", "how long a ViA / OTP management short link is valid"},
    {"threads", true, "N", "4", "HTTP worker threads"},
    {"access-log", false, NULL, "off", "one log line per request"},
    {"holidays", true, "FILE", "the built-in table", "Turkey's holidays (CSV)"},
    {"json", false, NULL, NULL, "(verify) print the result as one JSON object"},
};

static const iz_cmddef_t sim_cmd =
    IZ_CMD("izin iys-sim", "[verify] [options]",
           "Run the İYS emulator: İYS's API under its real paths, rules and limits, with "
           "/_sim/\nadministration and the citizen portal /vatandas. 'izin iys-sim verify' checks "
           "its tamper-evident log.",
           sim_defs);

/* Read an integer setting in [0, max] into *out when it is given. */
static int int_opt(const iz_opts_t *o, const char *name, int max, int *out)
{
    const char *v = iz_cli_get(o, name);
    if (!v) return 0;
    int64_t n;
    if (iz_parse_i64(v, 0, max, &n) != 0) {
        iz_cli_fail("--%s must be a whole number from 0 to %d", name, max);
        return -1;
    }
    *out = (int)n;
    return 0;
}

static const char *sim_data_dir(const iz_opts_t *o)
{
    const char *d = iz_cli_get(o, "data");
    return d ? d : "iys-sim-data";
}

static int sim_verify(int argc, char **argv)
{
    iz_opts_t o;
    int prc = iz_cli_parse(&o, &sim_cmd, argc, argv);
    if (prc != 0) return IZ_CLI_EXIT(prc);
    const char *dir = sim_data_dir(&o);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        iz_cli_fail("no emulator data directory at %s", dir);
        return 1;
    }
    int64_t bad = 0;
    const char *err = NULL;
    int rc = iz_sim_verify_dir(dir, &bad, &err);
    int ex = iz_cli_verify_print(rc, bad, iz_cli_get(&o, "json") != NULL);
    if (ex >= 0) return ex;
    iz_cli_fail("cannot verify %s: %s", dir, err ? err : iz_strerror(rc));
    return 1;
}

int iz_cmd_iys_sim(int argc, char **argv)
{
    if (argc > 0 && strcmp(argv[0], "verify") == 0) return sim_verify(argc - 1, argv + 1);
    iz_opts_t o;
    int prc = iz_cli_parse(&o, &sim_cmd, argc, argv);
    if (prc != 0) return IZ_CLI_EXIT(prc);
    iz_sim_config_t cfg;
    iz_sim_config_defaults(&cfg);
    cfg.data_dir = sim_data_dir(&o);
    if (int_opt(&o, "bulk-delay", 86400, &cfg.bulk_delay) ||
        int_opt(&o, "min-poll", 86400, &cfg.min_poll) || int_opt(&o, "rate", 1000000, &cfg.rate) ||
        int_opt(&o, "token-limit", 1000000, &cfg.token_limit) ||
        int_opt(&o, "status-limit", 1000000, &cfg.status_limit) ||
        int_opt(&o, "history-limit", 1000000, &cfg.history_limit) ||
        int_opt(&o, "pull-lag", 7 * 86400, &cfg.pull_lag) ||
        int_opt(&o, "watch-min", 100000000, &cfg.watch_min) ||
        int_opt(&o, "push-interval-ms", 3600000, &cfg.push_interval_ms) ||
        int_opt(&o, "otp-ttl", 86400, &cfg.otp_ttl) ||
        int_opt(&o, "link-ttl", 30 * 86400, &cfg.link_ttl))
        return 2;
    cfg.allow_http_push = iz_cli_get(&o, "allow-http-push") != NULL;
    iz_holidays_t *hol = NULL;
    const char *hpath = iz_cli_get(&o, "holidays");
    int rc = hpath ? iz_holidays_load(hpath, &hol)
                   : iz_holidays_parse(iz_holidays_csv,
                                       (size_t)(iz_holidays_csv_end - iz_holidays_csv), &hol);
    if (rc != 0) {
        iz_cli_fail("cannot load the holiday table");
        return 1;
    }
    cfg.holidays = hol;

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    iz_sim_t *sim = NULL;
    const char *err = NULL;
    if (iz_sim_open(&cfg, &sim, &err) != 0) {
        iz_cli_fail("cannot open the emulator store in %s: %s", cfg.data_dir, err ? err : "");
        iz_holidays_free(hol);
        return 1;
    }
    iz_http_config_t hc = {0};
    hc.listen = iz_cli_get(&o, "listen");
    if (!hc.listen) hc.listen = "127.0.0.1:8090";
    int threads = 4;
    if (int_opt(&o, "threads", 256, &threads)) return 2;
    hc.threads = (unsigned)threads;
    hc.routes = iz_sim_routes(&hc.nroutes);
    hc.app = sim;
    hc.gate = iz_sim_gate;
    hc.on_complete = iz_sim_complete;
    hc.access_log = iz_cli_get(&o, "access-log") != NULL;
    iz_http_t *http = NULL;
    if (iz_http_start(&hc, &http, &err) != 0) {
        iz_cli_fail("cannot listen on %s: %s", hc.listen, err);
        iz_sim_close(sim);
        iz_holidays_free(hol);
        return 1;
    }
    printf("izin iys-sim: İYS emulator on http://127.0.0.1:%u (data %s)\n",
           (unsigned)iz_http_port(http), cfg.data_dir);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    iz_logf(IZ_LOG_INFO, "sim", "stopping", "signal=%d", sig);
    iz_http_stop(http);
    iz_sim_close(sim);
    iz_holidays_free(hol);
    return 0;
}
