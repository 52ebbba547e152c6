/*
 * cmd_check.c - `izin check`: the send filter for files and pipes. Reads
 * recipients one a line from FILE or standard input and prints the allowed
 * ones (E.164, one a line), or with --blocked the blocked ones as
 * "recipient,reason". Works on the local store, through the same domain
 * judge as the HTTP check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/csvout.h"
#include "core/holidays_data.h"
#include "core/iz.h"
#include "domain/domain.h"
#include "index/index.h"

static const iz_optdef_t check_defs[] = {
    {"data", true, "DIR", "./izin-data", "data directory (the SQLite store DIR/izin.db)"},
    {"db", true, "URL", NULL, "store location instead of --data: sqlite:PATH"},
    {"brand", true, "CODE", NULL, "the brand's İYS code (required)"},
    {"account", true, "NAME", NULL, "the brand's account, when several have that code"},
    {"type", true, "T", NULL, "MESAJ, ARAMA or EPOSTA (required)"},
    {"recipient-type", true, "R", "BIREYSEL", "BIREYSEL or TACIR"},
    {"informational", false, NULL, NULL, "not a commercial message: every valid recipient"},
    {"blocked", false, NULL, NULL, "print the blocked ones as recipient,reason instead"},
};

static const iz_cmddef_t check_cmd =
    IZ_CMD("izin check", "--brand CODE --type T [options] [FILE]",
           "Read recipients, one a line, from FILE or standard input and print the ones a "
           "commercial\nmessage may go to (E.164), judged on the local store.",
           check_defs);

/* What the stream judge answers goes to standard output: the allowed
 * recipients, or with --blocked the blocked ones as CSV. */
typedef struct out_ctx {
    bool blocked;
} out_ctx_t;

/* A CSV field on standard output; line and norm are at most IZ_INPUT_MAX
 * bytes (the stream judge cuts longer lines). */
static void csv_out(const char *s, size_t n)
{
    char buf[IZ_CSV_FIELD_MAX(IZ_INPUT_MAX)];
    if (n > IZ_INPUT_MAX) n = IZ_INPUT_MAX;
    fwrite(buf, 1, iz_csv_field(buf, s, n), stdout);
}

static void on_line(void *ctx, const char *line, size_t len, const char *norm, size_t normlen,
                    iz_verdict_t v)
{
    out_ctx_t *o = ctx;
    if (v == IZ_VERDICT_ALLOWED && !o->blocked) {
        fwrite(norm, 1, normlen, stdout);
        putchar('\n');
    } else if (v != IZ_VERDICT_ALLOWED && o->blocked) {
        if (norm)
            csv_out(norm, normlen);
        else
            csv_out(line, len);
        printf(",%s\n", iz_verdict_reason(v));
    }
}

int iz_cmd_check(int argc, char **argv)
{
    iz_opts_t o;
    int prc = iz_cli_parse(&o, &check_cmd, argc, argv);
    if (prc != 0) return IZ_CLI_EXIT(prc);
    const char *ts = iz_cli_get(&o, "type");
    const char *rts = iz_cli_get(&o, "recipient-type");
    int64_t code;
    iz_judge_t j = {.rtype = IZ_BIREYSEL};
    if (iz_cli_brand_code(&o, &code) != 0) return 2;
    if (!ts || iz_type_parse(ts, &j.type) != 0) {
        iz_cli_fail("--type must be MESAJ, ARAMA or EPOSTA");
        return 2;
    }
    if (rts && iz_rtype_parse(rts, &j.rtype) != 0) {
        iz_cli_fail("--recipient-type must be BIREYSEL or TACIR");
        return 2;
    }
    if (o.npositional > 1) {
        iz_cli_fail("usage: izin check --brand CODE --type T [FILE] (see izin check --help)");
        return 2;
    }
    FILE *in = stdin;
    if (o.npositional == 1 && strcmp(o.positional[0], "-") != 0) {
        in = fopen(o.positional[0], "r");
        if (!in) {
            iz_cli_fail("cannot read %s", o.positional[0]);
            return 1;
        }
    }
    iz_store_t *st;
    if (iz_cli_open_store(&o, &st) != 0) {
        if (in != stdin) fclose(in);
        return 1;
    }
    iz_brand_t brand;
    int rc = iz_cli_find_brand(st, iz_cli_get(&o, "account"), code, &brand);
    iz_holidays_t *hol = NULL;
    if (rc == 0 && iz_holidays_parse(iz_holidays_csv,
                                     (size_t)(iz_holidays_csv_end - iz_holidays_csv), &hol) != 0)
        rc = -1;
    /* The same domain and index the server uses: a list of millions is
     * judged at memory speed, not one store query a line. */
    iz_index_t *idx = iz_index_new();
    iz_domain_t *dom = NULL;
    if (rc == 0) {
        iz_domain_conf_t dc = {.store = st, .holidays = hol, .index = idx};
        const char *err = NULL;
        if (iz_domain_open(&dc, &dom, &err) != 0) {
            iz_cli_fail("cannot read the consents: %s", err ? err : "");
            rc = -1;
        }
    }
    j.brand_id = brand.id;
    j.commercial = !iz_cli_get(&o, "informational");
    out_ctx_t oc = {.blocked = iz_cli_get(&o, "blocked") != NULL};
    iz_judge_stream_t *js = rc == 0 ? iz_judge_stream_new(dom, &j, on_line, &oc) : NULL;
    char *buf = iz_xmalloc(1 << 16);
    size_t got;
    while (rc == 0 && (got = fread(buf, 1, 1 << 16, in)) > 0) {
        int src = iz_judge_stream_feed(js, buf, got);
        if (src != 0) {
            iz_cli_fail("store error: %s", iz_strerror(src));
            rc = -1;
        }
    }
    if (rc == 0 && ferror(in)) {
        iz_cli_fail("read error");
        rc = -1;
    }
    if (rc == 0 && iz_judge_stream_end(js) != 0) {
        iz_cli_fail("store error");
        rc = -1;
    }
    free(buf);
    iz_judge_stream_free(js);
    if (in != stdin) fclose(in);
    iz_domain_close(dom);
    iz_store_close(st);
    iz_index_free(idx);
    iz_holidays_free(hol);
    if (fflush(stdout) != 0) return 1;
    return rc == 0 ? 0 : 1;
}
