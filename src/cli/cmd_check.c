/*
 * cmd_check.c - `izin check`: the send filter for files and pipes. Reads
 * recipients one a line from FILE or standard input and prints the allowed
 * ones (E.164, one a line), or with --blocked the blocked ones as
 * "recipient,reason". Works on the local store, with the same filter as the
 * HTTP check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/api_int.h"
#include "cli/cli.h"
#include "core/holidays_data.h"
#include "core/iz.h"
#include "index/index.h"

static const iz_optdef_t check_defs[] = {
    {"data", true},           {"db", true},       {"brand", true},
    {"account", true},        {"type", true},     {"recipient-type", true},
    {"informational", false}, {"blocked", false},
};

/* The brand `code`; with --account, that account's; otherwise the only
 * brand with that code (an ambiguous code needs --account). */
static int find_brand(iz_store_t *st, const char *account, int64_t code, iz_brand_t *out)
{
    if (account) {
        iz_account_t a;
        if (iz_store_account_by_name(st, account, &a) != 0) {
            iz_cli_fail("no account named '%s'", account);
            return -1;
        }
        if (iz_store_brand_get(st, a.id, code, out) != 0) {
            iz_cli_fail("account '%s' has no brand %lld", account, (long long)code);
            return -1;
        }
        return 0;
    }
    iz_brand_t *all = NULL;
    size_t n = 0, found = 0;
    if (iz_store_brands_all(st, &all, &n) != 0) {
        iz_cli_fail("cannot read the brands");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (all[i].code == code) {
            *out = all[i];
            found++;
        }
    free(all);
    if (found == 1) return 0;
    if (found == 0)
        iz_cli_fail("no brand %lld", (long long)code);
    else
        iz_cli_fail("brand %lld exists in several accounts: give --account", (long long)code);
    return -1;
}

static void csv_out(const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"') putchar('"');
        putchar(*s);
    }
    putchar('"');
}

int iz_cmd_check(int argc, char **argv)
{
    iz_opts_t o;
    if (iz_cli_parse(&o, check_defs, IZ_ARRAY_LEN(check_defs), argc, argv) != 0) return 2;
    const char *bs = iz_cli_get(&o, "brand"), *ts = iz_cli_get(&o, "type");
    const char *rts = iz_cli_get(&o, "recipient-type");
    int64_t code;
    iz_type_t type;
    iz_rtype_t rtype = IZ_BIREYSEL;
    if (!bs || iz_parse_i64(bs, 1, INT64_MAX, &code) != 0) {
        iz_cli_fail("--brand must be the brand's numeric code");
        return 2;
    }
    if (!ts || iz_type_parse(ts, &type) != 0) {
        iz_cli_fail("--type must be MESAJ, ARAMA or EPOSTA");
        return 2;
    }
    if (rts && iz_rtype_parse(rts, &rtype) != 0) {
        iz_cli_fail("--recipient-type must be BIREYSEL or TACIR");
        return 2;
    }
    if (o.npositional > 1) {
        iz_cli_fail("usage: izin check --brand CODE --type T [FILE]");
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
    int rc = find_brand(st, iz_cli_get(&o, "account"), code, &brand);
    iz_holidays_t *hol = NULL;
    if (rc == 0 && iz_holidays_parse(iz_holidays_csv,
                                     (size_t)(iz_holidays_csv_end - iz_holidays_csv), &hol) != 0)
        rc = -1;
    /* The same index the server uses: a list of millions is judged at
     * memory speed, not one store query a line. */
    iz_index_t *idx = iz_index_new();
    if (rc == 0 && iz_index_build(idx, st) != 0) {
        iz_cli_fail("cannot read the consents");
        rc = -1;
    }
    iz_app_t app = {.store = st, .holidays = hol, .index = idx};
    bool commercial = !iz_cli_get(&o, "informational");
    bool blocked = iz_cli_get(&o, "blocked") != NULL;
    char line[IZ_INPUT_MAX + 2], norm[IZ_RECIPIENT_MAX];
    while (rc == 0 && fgets(line, sizeof line, in)) {
        size_t len = strlen(line);
        bool overlong = len == sizeof line - 1 && line[len - 1] != '\n';
        if (overlong) { /* drop the rest of an over-long line */
            int ch;
            while ((ch = fgetc(in)) != EOF && ch != '\n')
                ;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s) continue;
        int src = 0;
        const char *why = overlong ? "INVALID"
                                   : iz__filter(&app, brand.id, type, rtype, commercial, s,
                                                strlen(s), norm, &src);
        if (src != 0) {
            iz_cli_fail("store error: %s", iz_strerror(src));
            rc = -1;
            break;
        }
        if (!why && !blocked) {
            puts(norm);
        } else if (why && blocked) {
            csv_out(strcmp(why, "INVALID") == 0 ? s : norm);
            printf(",%s\n", why);
        }
    }
    if (rc == 0 && ferror(in)) {
        iz_cli_fail("read error");
        rc = -1;
    }
    if (in != stdin) fclose(in);
    iz_store_close(st);
    iz_index_free(idx);
    iz_holidays_free(hol);
    if (fflush(stdout) != 0) return 1;
    return rc == 0 ? 0 : 1;
}
