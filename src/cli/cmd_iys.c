/*
 * cmd_iys.c - `izin iys reconcile`: run the daily reconciliation with İYS
 * now (iys/recon.h), for one day (default yesterday, Turkey time) and every
 * brand of every account with İYS (or of one account), on the local store.
 * Prints per brand what matched, what was repaired and what could not be.
 *
 * Exit codes: 0 every brand-day MATCHED or REPAIRED, 3 a mismatch remains
 * (MISMATCH), 1 a reconciliation failed (İYS did not answer or refused) or
 * the store could not be used, 2 a usage error.
 *
 * The command makes its own İYS client per account, with the account's
 * tokens from the store (so it asks İYS for no new token while the
 * server's is good) and a rate budget of its own (--iys-rate): it runs in
 * another process than `izin serve`, whose budget it cannot share.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/holidays_data.h"
#include "core/iz.h"
#include "core/trtime.h"
#include "domain/domain.h"
#include "iys/client.h"
#include "iys/recon.h"

static const iz_optdef_t recon_defs[] = {
    {"data", true, "DIR", "./izin-data", "data directory (the SQLite store DIR/izin.db)"},
    {"db", true, "URL", NULL, "store location instead of --data: sqlite:PATH"},
    {"account", true, "NAME", "every account", "reconcile only this account's brands"},
    {"date", true, "YYYY-MM-DD", "yesterday (Turkey time)", "the day to reconcile"},
    {"iys-url", true, "URL", "none", "İYS base URL for accounts that set none"},
    {"iys-rate", true, "N", "10", "İYS requests a second, at most"},
    {"json", false, NULL, NULL, "print the result as one JSON object"},
};
static const iz_cmddef_t recon_cmd =
    IZ_CMD("izin iys reconcile", "[options]",
           "Run the daily reconciliation with İYS now: download each brand's change file of "
           "the day, repair what izin lacks, record the agreement when izin agrees; print what "
           "matched, what was repaired and what could not be. Exits 3 when a mismatch remains, "
           "1 when a reconciliation failed.",
           recon_defs);

/* One brand-day in words. */
static void print_text(const iz_brand_t *b, const iz_recon_t *r)
{
    printf("brand %lld %s: %s - %lld lines in İYS's file: %lld matched, %lld repaired, %lld "
           "pending at izin, %lld could not be repaired",
           (long long)b->code, r->date, r->status, (long long)r->rows, (long long)r->matched,
           (long long)r->repaired, (long long)r->pending, (long long)r->mismatched);
    if (r->agreed) printf("; agreement recorded%s", r->tsr ? ", timestamp kept" : "");
    putchar('\n');
    if (r->error[0]) printf("  error: %s\n", r->error);
    json_t *m = r->details ? json_loads(r->details, 0, NULL) : NULL;
    size_t i;
    json_t *d;
    json_array_foreach(m, i, d)
    {
        const char *kind = json_string_value(json_object_get(d, "kind"));
        json_t *line = json_object_get(d, "line");
        printf("  %s", kind ? kind : "?");
        if (json_is_integer(line)) printf(" line %lld", (long long)json_integer_value(line));
        static const char *const keys[] = {"transactionId", "recipient", "type",  "status",
                                           "field",         "count",     "reason"};
        for (size_t k = 0; k < IZ_ARRAY_LEN(keys); k++) {
            json_t *v = json_object_get(d, keys[k]);
            if (json_is_string(v))
                printf(" %s=%s", keys[k], json_string_value(v));
            else if (json_is_integer(v))
                printf(" %s=%lld", keys[k], (long long)json_integer_value(v));
        }
        putchar('\n');
    }
    json_decref(m);
}

/* The İYS client of an account, made once (NULL: no İYS for it). */
typedef struct client_of {
    int64_t account_id;
    iz_iys_t *cli;
} client_of_t;

static iz_iys_t *client_for(iz_store_t *st, const iz_opts_t *o, double rate, client_of_t **list,
                            size_t *n, int64_t account_id)
{
    for (size_t i = 0; i < *n; i++)
        if ((*list)[i].account_id == account_id) return (*list)[i].cli;
    iz_iys_t *cli = NULL;
    iz_account_t a;
    if (iz_store_account_get(st, account_id, &a) == 0) {
        if (iz_iys_for_account(&a, iz_cli_get(o, "iys-url"), st, NULL, 0, rate, &cli) != 0)
            cli = NULL;
        iz_wipe(a.iys_password, sizeof a.iys_password);
    }
    *list = iz_xrealloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = (client_of_t){account_id, cli};
    return cli;
}

static int reconcile(const iz_opts_t *o)
{
    char date[11];
    const char *d = iz_cli_get(o, "date");
    int64_t e;
    if (d) {
        if (iz_tr_parse_date(d, &e) != 0) {
            iz_cli_fail("--date must be YYYY-MM-DD");
            return 2;
        }
        iz_strlcpy(date, d, sizeof date);
    } else {
        iz_recon_yesterday((int64_t)time(NULL), date);
    }
    int64_t rate = 10;
    const char *rs = iz_cli_get(o, "iys-rate");
    if (rs && iz_parse_i64(rs, 1, 1000, &rate) != 0) {
        iz_cli_fail("--iys-rate must be a number from 1 to 1000");
        return 2;
    }
    iz_store_t *st;
    if (iz_cli_open_store(o, &st) != 0) return 1;
    int exit_code = 0;
    iz_account_t only = {0};
    const char *acct = iz_cli_get(o, "account");
    iz_holidays_t *hol = NULL;
    iz_domain_t *dom = NULL;
    iz_brand_t *brands = NULL;
    size_t nb = 0;
    client_of_t *clients = NULL;
    size_t nc = 0;
    if (acct && iz_store_account_by_name(st, acct, &only) != 0) {
        iz_cli_fail("no account named %s", acct);
        exit_code = 1;
        goto out;
    }
    iz_wipe(only.iys_password, sizeof only.iys_password);
    const char *err = NULL;
    iz_domain_conf_t dc = {.store = st};
    if (iz_holidays_parse(iz_holidays_csv, (size_t)(iz_holidays_csv_end - iz_holidays_csv), &hol) !=
            0 ||
        (dc.holidays = hol, iz_domain_open(&dc, &dom, &err)) != 0 ||
        iz_store_brands_all(st, &brands, &nb) != 0) {
        iz_cli_fail("cannot open the store%s%s", err ? ": " : "", err ? err : "");
        exit_code = 1;
        goto out;
    }
    bool json = iz_cli_get(o, "json") != NULL;
    json_t *results = json_array();
    size_t done = 0;
    for (size_t i = 0; i < nb; i++) {
        if (acct && brands[i].account_id != only.id) continue;
        iz_iys_t *cli = client_for(st, o, (double)rate, &clients, &nc, brands[i].account_id);
        if (!cli) continue; /* an account without İYS has nothing to reconcile */
        iz_recon_t r;
        int rc = iz_recon_run(dom, cli, &brands[i], date, &r);
        if (rc != 0) {
            iz_cli_fail("brand %lld: cannot keep the result: %s", (long long)brands[i].code,
                        iz_strerror(rc));
            exit_code = 1;
        }
        done++;
        if (strcmp(r.status, "FAILED") == 0)
            exit_code = 1;
        else if (strcmp(r.status, "MISMATCH") == 0 && exit_code == 0)
            exit_code = 3;
        if (json)
            json_array_append_new(results, iz_recon_json(&r, brands[i].code));
        else
            print_text(&brands[i], &r);
        free(r.tsr);
        free(r.details);
    }
    if (json) {
        json_t *all = json_pack("{s:s, s:o}", "date", date, "results", results);
        char *s = all ? json_dumps(all, JSON_COMPACT) : NULL;
        if (!s) iz_oom();
        puts(s);
        free(s);
        json_decref(all);
    } else {
        json_decref(results);
        if (done == 0) printf("no brand with İYS to reconcile\n");
    }
out:
    for (size_t i = 0; i < nc; i++)
        iz_iys_free(clients[i].cli);
    free(clients);
    free(brands);
    iz_domain_close(dom);
    iz_store_close(st);
    if (hol) iz_holidays_free(hol);
    return exit_code;
}

int iz_cmd_iys(int argc, char **argv)
{
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        printf("usage: izin iys reconcile [options]\n\nSee izin iys reconcile --help.\n");
        return 0;
    }
    if (argc < 1 || strcmp(argv[0], "reconcile") != 0) {
        iz_cli_fail("usage: izin iys reconcile [options] (see izin iys reconcile --help)");
        return 2;
    }
    return iz_cli_run(&recon_cmd, reconcile, argc - 1, argv + 1);
}
