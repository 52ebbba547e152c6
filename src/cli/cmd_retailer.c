/*
 * cmd_retailer.c - izin retailer add | list | delete: a brand's retailers
 * (İYS's bayi), made, listed and deleted at İYS with the account's İYS
 * settings, and kept in the store as izin's copy (iys/retailers.h), which
 * lets the consent API refuse an unknown retailerCode with H180.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/iz.h"
#include "core/trtime.h"
#include "iys/retailers.h"

/* (Kept from clang-format, which splits the last brace of a macro.) */
/* clang-format off */
#define COMMON_OPTS                                                                                \
    {"data", true, "DIR", "./izin-data", "data directory (the SQLite store DIR/izin.db)"},          \
    {"db", true, "URL", NULL, "store location instead of --data: sqlite:PATH"},                     \
    {"json", false, NULL, NULL, "print the result as JSON"},                                        \
    {"brand", true, "CODE", NULL, "İYS's brand code (required)"},                                   \
    {"account", true, "NAME", "the one account with that brand code",                              \
     "the account the brand belongs to"},                                                          \
    {"iys-url", true, "URL", "none", "İYS base URL for an account that sets none"}
/* clang-format on */

static const iz_optdef_t add_defs[] = {
    COMMON_OPTS,
    {"title", true, "TEXT", NULL, "the retailer's trade name (required by İYS)"},
    {"name", true, "TEXT", NULL, "its authorized person's name and surname (required by İYS)"},
    {"alias", true, "TEXT", NULL, "a short name of the retailer"},
    {"tckn", true, "11 DIGITS", NULL, "the authorized person's TCKN (required by İYS)"},
    {"tin", true, "DIGITS", NULL, "the retailer's VKN (10 digits) or TCKN (11) (required by İYS)"},
    {"mersis", true, "16 DIGITS", NULL, "the retailer's MERSİS number"},
    {"mobile", true, "+90...", NULL, "the authorized person's mobile number, E.164"},
    {"city-code", true, "N", NULL, "the city's plate code, 1-81 (required)"},
    {"town-code", true, "N", NULL, "İYS's town code, a town of that city (required)"},
    {"status", true, "S", "active", "active, passive or suspended"},
};
static const iz_cmddef_t add_cmd = IZ_CMD(
    "izin retailer add",
    "--brand CODE --title T --name N --tckn T --tin T --city-code C --town-code T",
    "Make a retailer of the brand at İYS (the account's İYS URL and credentials) and keep it in "
    "izin's copy of the brand's retailers; prints its retailerCode.",
    add_defs);

static const iz_optdef_t list_defs[] = {
    COMMON_OPTS,
    {"cached", false, NULL, NULL, "print izin's copy without asking İYS"},
};
static const iz_cmddef_t list_cmd =
    IZ_CMD("izin retailer list", "--brand CODE [options]",
           "Read the brand's retailers from İYS, keep them as izin's copy and print them (code, "
           "title, city, town, status, consents they may see; tab-separated).",
           list_defs);

static const iz_optdef_t delete_defs[] = {
    COMMON_OPTS,
    {"code", true, "RETAILERCODE", NULL, "the retailer's 8-digit code (required)"},
};
static const iz_cmddef_t delete_cmd =
    IZ_CMD("izin retailer delete", "--brand CODE --code RETAILERCODE [options]",
           "Delete a retailer of the brand at İYS (İYS refuses while a consent names it) and "
           "from izin's copy.",
           delete_defs);

/* What every subcommand opens: the store, the brand and, unless
 * no_iys, the account's İYS client. */
typedef struct ctx {
    iz_store_t *st;
    iz_brand_t brand;
    iz_iys_t *cli;
} ctx_t;

static void ctx_close(ctx_t *c)
{
    iz_iys_free(c->cli);
    iz_store_close(c->st);
}

static int ctx_open(const iz_opts_t *o, bool no_iys, ctx_t *c)
{
    memset(c, 0, sizeof *c);
    int64_t code;
    if (iz_cli_brand_code(o, &code) != 0) return 2;
    if (iz_cli_open_store(o, &c->st) != 0) return 1;
    if (iz_cli_find_brand(c->st, iz_cli_get(o, "account"), code, &c->brand) != 0) {
        ctx_close(c);
        return 1;
    }
    if (no_iys) return 0;
    iz_account_t a = {0};
    int rc = iz_store_account_get(c->st, c->brand.account_id, &a);
    if (rc == 0)
        rc = iz_iys_for_account(&a, iz_cli_get(o, "iys-url"), c->st, NULL, 10000, 0, &c->cli);
    iz_wipe(a.iys_password, sizeof a.iys_password);
    if (rc != 0) {
        if (rc == IZ_ENOTFOUND)
            iz_cli_fail("account '%s' has no İYS URL (set one with izin account add --iys-url, or "
                        "give --iys-url)",
                        a.name);
        else
            iz_cli_fail("cannot reach İYS: %s", iz_strerror(rc));
        ctx_close(c);
        return 1;
    }
    return 0;
}

/* Print why an İYS call failed; returns the exit code 1. */
static int fail_call(const char *what, int rc, const iz_iys_res_t *res)
{
    if (rc == IZ_ERULE)
        iz_cli_fail("İYS refused to %s: %s %s", what, res->code, res->message);
    else if (rc == IZ_EBUSY)
        iz_cli_fail("cannot %s: İYS did not answer (%s)", what,
                    res->message[0] ? res->message : "no answer");
    else
        iz_cli_fail("cannot %s: %s", what, iz_strerror(rc));
    return 1;
}

static int add_run(const iz_opts_t *o)
{
    iz_retailer_t r = {0};
    iz_retailer_input_t f[IZ_RETAILER_INPUTS];
    iz_retailer_inputs(&r, f);
    /* İYS judges the fields (and answers its own codes); izin needs the
     * place codes to name the city and town. */
    for (size_t i = 0; i < IZ_RETAILER_INPUTS; i++) {
        const char *v = iz_cli_get(o, f[i].option);
        bool required = f[i].out == r.city_code || f[i].out == r.town_code;
        if (required && (!v || !*v)) {
            iz_cli_fail("--%s is required", f[i].option);
            return 2;
        }
        if (v && iz_strlcpy(f[i].out, v, f[i].size) != 0) {
            iz_cli_fail("--%s is too long (at most %zu bytes)", f[i].option, f[i].size - 1);
            return 2;
        }
    }
    const char *why, *field;
    if (iz_retailer_places(&r, &why, &field) != 0) {
        iz_cli_fail("--%s: %s", strcmp(field, "cityCode") == 0 ? "city-code" : "town-code", why);
        return 2;
    }
    ctx_t c;
    int rc = ctx_open(o, false, &c);
    if (rc != 0) return rc;
    iz_iys_res_t res = {0};
    rc = iz_retailer_create(c.cli, c.st, &c.brand, &r, &res);
    int exit = rc != 0 ? fail_call("add the retailer", rc, &res) : 0;
    iz_iys_res_clear(&res);
    if (exit == 0) {
        if (iz_cli_get(o, "json"))
            iz_cli_print_json(iz_retailer_json(&r));
        else
            printf("retailer %lld (%s) added to brand %lld\n", (long long)r.code, r.title,
                   (long long)c.brand.code);
    }
    ctx_close(&c);
    return exit;
}

static int list_run(const iz_opts_t *o)
{
    bool cached = iz_cli_get(o, "cached") != NULL;
    ctx_t c;
    int rc = ctx_open(o, cached, &c);
    if (rc != 0) return rc;
    if (!cached) {
        iz_iys_res_t res = {0};
        rc = iz_retailers_sync(c.cli, c.st, &c.brand, &res);
        if (rc != 0) fail_call("list the retailers", rc, &res);
        iz_iys_res_clear(&res);
        if (rc != 0) {
            ctx_close(&c);
            return 1;
        }
    }
    iz_retailer_t *list = NULL;
    size_t n = 0;
    int64_t synced = 0;
    rc = iz_store_retailers_get(c.st, c.brand.id, &list, &n, &synced);
    ctx_close(&c);
    if (rc != 0) {
        iz_cli_fail("cannot read the retailers: %s", iz_strerror(rc));
        return 1;
    }
    if (iz_cli_get(o, "json")) {
        iz_cli_print_json(iz_retailers_json(list, n, synced));
    } else {
        for (size_t i = 0; i < n; i++)
            printf("%lld\t%s\t%s\t%s\t%s\t%lld\n", (long long)list[i].code, list[i].title,
                   list[i].city_name, list[i].town_name, list[i].status,
                   (long long)list[i].access_count);
    }
    free(list);
    return 0;
}

static int delete_run(const iz_opts_t *o)
{
    int64_t code;
    const char *cs = iz_cli_get(o, "code");
    if (!cs || iz_parse_i64(cs, 1, INT64_MAX, &code) != 0) {
        iz_cli_fail("--code must be the retailer's code (a positive number)");
        return 2;
    }
    ctx_t c;
    int rc = ctx_open(o, false, &c);
    if (rc != 0) return rc;
    iz_iys_res_t res = {0};
    rc = iz_retailer_delete(c.cli, c.st, &c.brand, code, &res);
    int exit = rc != 0 ? fail_call("delete the retailer", rc, &res) : 0;
    iz_iys_res_clear(&res);
    if (exit == 0) {
        if (iz_cli_get(o, "json"))
            iz_cli_print_json(
                json_pack("{s:I, s:b}", "retailerCode", (json_int_t)code, "deleted", 1));
        else
            printf("retailer %lld deleted from brand %lld\n", (long long)code,
                   (long long)c.brand.code);
    }
    ctx_close(&c);
    return exit;
}

int iz_cmd_retailer(int argc, char **argv)
{
    static const struct {
        const char *name;
        const iz_cmddef_t *cmd;
        int (*fn)(const iz_opts_t *o);
    } subs[] = {{"add", &add_cmd, add_run},
                {"list", &list_cmd, list_run},
                {"delete", &delete_cmd, delete_run}};
    for (size_t i = 0; argc >= 1 && i < IZ_ARRAY_LEN(subs); i++)
        if (strcmp(argv[0], subs[i].name) == 0)
            return iz_cli_run(subs[i].cmd, subs[i].fn, argc - 1, argv + 1);
    bool help = argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0);
    fprintf(help ? stdout : stderr,
            "usage: izin retailer add --brand CODE --title T --name N --tckn T --tin T "
            "--city-code C --town-code T [options]\n"
            "       izin retailer list --brand CODE [--cached]\n"
            "       izin retailer delete --brand CODE --code RETAILERCODE\n\n"
            "See izin retailer <add|list|delete> --help.\n");
    return help ? 0 : 2;
}
