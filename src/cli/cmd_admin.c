/*
 * cmd_admin.c - the administration commands: init, account add, brand add,
 * key add. Each prints its result (as one JSON object with --json) and exits
 * 0, or prints one line on stderr and exits non-zero.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/iz.h"
#include "core/trtime.h"
#include "sys/crypto.h"

#define DATA_OPTS                                                                                  \
    {"data", true, "DIR", "./izin-data", "data directory (the SQLite store DIR/izin.db)"},          \
        {"db", true, "URL", NULL, "store location instead of --data: sqlite:PATH"},                 \
        {"json", false, NULL, NULL, "print the result as one JSON object"}

static void print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    if (!s) iz_oom();
    puts(s);
    free(s);
    json_decref(o);
}

static bool want_json(const iz_opts_t *o)
{
    return iz_cli_get(o, "json") != NULL;
}

static const iz_optdef_t init_defs[] = {DATA_OPTS};
static const iz_cmddef_t init_cmd =
    IZ_CMD("izin init", "[options]",
           "Create the store, or bring it to the current schema; running it again changes "
           "nothing.",
           init_defs);

static int init_run(const iz_opts_t *o)
{
    iz_store_t *st;
    if (iz_cli_open_store(o, &st) != 0) return 1;
    int v = iz_store_schema_version(st);
    iz_store_close(st);
    if (want_json(o))
        print_json(json_pack("{s:b, s:i}", "ok", 1, "schemaVersion", v));
    else
        printf("store ready (schema version %d)\n", v);
    return 0;
}

int iz_cmd_init(int argc, char **argv)
{
    return iz_cli_run(&init_cmd, init_run, argc, argv);
}

/* Copy a required text option into dst, refusing empty or too long values. */
static int text_opt(const iz_opts_t *o, const char *name, char *dst, size_t n, bool required)
{
    const char *v = iz_cli_get(o, name);
    if (!v || !*v) {
        if (!required) return 0;
        iz_cli_fail("--%s is required", name);
        return -1;
    }
    if (iz_strlcpy(dst, v, n) != 0) {
        iz_cli_fail("--%s is too long (at most %zu bytes)", name, n - 1);
        return -1;
    }
    return 0;
}

static const iz_optdef_t account_defs[] = {
        DATA_OPTS,
        {"name", true, "NAME", NULL, "the account's name (required)"},
        {"iys-code", true, "N", NULL, "İYS's code of the service provider (required)"},
        {"activation-date", true, "YYYY-MM-DD", "none: upload period, H467 not applied",
         "the account's İYS activation date"},
        {"iys-url", true, "URL", "serve's --iys-url", "İYS base URL of this account"},
        {"iys-user", true, "U", NULL, "İYS API user"},
        {"iys-password", true, "P", NULL, "İYS API password (stored sealed, never printed)"},
        {"plan", true, "NAME", NULL, "the account's plan"},
};
static const iz_cmddef_t account_cmd =
    IZ_CMD("izin account add", "--name NAME --iys-code N [options]",
           "Add a service-provider account.", account_defs);

static int account_add(const iz_opts_t *o)
{
    iz_account_t a = {0};
    if (text_opt(o, "name", a.name, sizeof a.name, true) != 0) return 2;
    const char *code = iz_cli_get(o, "iys-code");
    if (!code || iz_parse_i64(code, 1, 999999999999, &a.iys_code) != 0) {
        iz_cli_fail("--iys-code must be İYS's numeric code of the service provider");
        return 2;
    }
    const char *ad = iz_cli_get(o, "activation-date");
    if (ad) {
        int64_t e;
        if (iz_tr_parse_date(ad, &e) != 0) {
            iz_cli_fail("--activation-date must be YYYY-MM-DD");
            return 2;
        }
        iz_strlcpy(a.activation_date, ad, sizeof a.activation_date);
    }
    if (text_opt(o, "iys-url", a.iys_url, sizeof a.iys_url, false) != 0 ||
        text_opt(o, "iys-user", a.iys_user, sizeof a.iys_user, false) != 0 ||
        text_opt(o, "iys-password", a.iys_password, sizeof a.iys_password, false) != 0 ||
        text_opt(o, "plan", a.plan, sizeof a.plan, false) != 0)
        return 2;
    if (a.iys_url[0] && strncmp(a.iys_url, "http://", 7) != 0 &&
        strncmp(a.iys_url, "https://", 8) != 0) {
        iz_cli_fail("--iys-url must start with https:// (or http:// for the emulator)");
        return 2;
    }
    iz_store_t *st;
    if (iz_cli_open_store(o, &st) != 0) return 1;
    int rc = iz_store_account_add(st, &a);
    iz_wipe(a.iys_password, sizeof a.iys_password);
    iz_store_close(st);
    if (rc == IZ_EEXIST) {
        iz_cli_fail("an account named '%s' already exists", a.name);
        return 1;
    }
    if (rc != 0) {
        iz_cli_fail("cannot add the account: %s", iz_strerror(rc));
        return 1;
    }
    if (want_json(o)) {
        json_t *j = json_pack("{s:I, s:s, s:I}", "id", (json_int_t)a.id, "name", a.name,
                              "iysCode", (json_int_t)a.iys_code);
        if (a.activation_date[0])
            json_object_set_new(j, "activationDate", json_string(a.activation_date));
        print_json(j);
    } else {
        printf("account %s added (iys code %lld)\n", a.name, (long long)a.iys_code);
    }
    return 0;
}

static bool all_digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max) return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return false;
    return true;
}

static const iz_optdef_t brand_defs[] = {
        DATA_OPTS,
        {"account", true, "NAME", NULL, "the account the brand belongs to (required)"},
        {"code", true, "N", NULL, "İYS's brand code (required)"},
        {"name", true, "TEXT", NULL, "the brand's name (required)"},
        {"keyword", true, "KW", NULL, "SMS keyword, letters A-Z and digits"},
        {"short-number", true, "46XX", NULL, "the 4-digit short number of the keyword"},
        {"subscriber-number", true, "0850XXXXXXX", NULL, "the brand's own 0850 number"},
        {"slug", true, "SLUG", NULL, "the consent page's short name: a-z, 0-9, '-'"},
};
static const iz_cmddef_t brand_cmd =
    IZ_CMD("izin brand add", "--account NAME --code N --name TEXT [options]",
           "Add a brand to an account.", brand_defs);

static int brand_add(const iz_opts_t *o)
{
    iz_brand_t b = {0};
    char account[IZ_NAME_MAX];
    if (text_opt(o, "account", account, sizeof account, true) != 0 ||
        text_opt(o, "name", b.name, sizeof b.name, true) != 0 ||
        text_opt(o, "keyword", b.keyword, sizeof b.keyword, false) != 0 ||
        text_opt(o, "short-number", b.short_number, sizeof b.short_number, false) != 0 ||
        text_opt(o, "subscriber-number", b.subscriber_number, sizeof b.subscriber_number,
                 false) != 0 ||
        text_opt(o, "slug", b.slug, sizeof b.slug, false) != 0)
        return 2;
    const char *code = iz_cli_get(o, "code");
    if (!code || iz_parse_i64(code, 1, 999999999999, &b.code) != 0) {
        iz_cli_fail("--code must be İYS's numeric brand code");
        return 2;
    }
    if (b.short_number[0] && !all_digits(b.short_number, 4, 4)) {
        iz_cli_fail("--short-number must be 4 digits");
        return 2;
    }
    if (b.subscriber_number[0] && !(all_digits(b.subscriber_number, 11, 11) &&
                                    strncmp(b.subscriber_number, "0850", 4) == 0)) {
        iz_cli_fail("--subscriber-number must be 0850 followed by 7 digits");
        return 2;
    }
    for (const char *p = b.slug; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-')) {
            iz_cli_fail("--slug may contain only a-z, 0-9 and '-'");
            return 2;
        }
    for (char *p = b.keyword; *p; p++) {
        if (!isalnum((unsigned char)*p)) {
            iz_cli_fail("--keyword may contain only letters A-Z and digits");
            return 2;
        }
        *p = (char)toupper((unsigned char)*p);
    }
    iz_store_t *st;
    if (iz_cli_open_store(o, &st) != 0) return 1;
    iz_account_t a;
    int rc = iz_store_account_by_name(st, account, &a);
    if (rc == 0) {
        b.account_id = a.id;
        rc = iz_store_brand_add(st, &b);
    }
    iz_store_close(st);
    if (rc == IZ_ENOTFOUND) {
        iz_cli_fail("no account named '%s'", account);
        return 1;
    }
    if (rc == IZ_EEXIST) {
        iz_cli_fail("brand code %lld or slug '%s' is already in use", (long long)b.code, b.slug);
        return 1;
    }
    if (rc != 0) {
        iz_cli_fail("cannot add the brand: %s", iz_strerror(rc));
        return 1;
    }
    if (want_json(o)) {
        json_t *j = json_pack("{s:I, s:s, s:I, s:s}", "id", (json_int_t)b.id, "account", account,
                              "code", (json_int_t)b.code, "name", b.name);
        if (b.keyword[0]) json_object_set_new(j, "keyword", json_string(b.keyword));
        if (b.short_number[0]) json_object_set_new(j, "shortNumber", json_string(b.short_number));
        if (b.subscriber_number[0])
            json_object_set_new(j, "subscriberNumber", json_string(b.subscriber_number));
        if (b.slug[0]) json_object_set_new(j, "slug", json_string(b.slug));
        print_json(j);
    } else {
        printf("brand %lld (%s) added to account %s\n", (long long)b.code, b.name, account);
    }
    return 0;
}

static const iz_optdef_t key_defs[] = {
    DATA_OPTS, {"account", true, "NAME", NULL, "the account the key opens (required)"}};
static const iz_cmddef_t key_cmd =
    IZ_CMD("izin key add", "--account NAME [options]",
           "Create an API key; it is printed once, alone on its line (only its hash is stored).",
           key_defs);

static int key_add(const iz_opts_t *o)
{
    char account[IZ_NAME_MAX];
    if (text_opt(o, "account", account, sizeof account, true) != 0) return 2;
    iz_store_t *st;
    if (iz_cli_open_store(o, &st) != 0) return 1;
    iz_account_t a;
    int rc = iz_store_account_by_name(st, account, &a);
    char key[IZ_KEY_LEN + 1], hex[IZ_SHA256_HEX], prefix[9];
    if (rc == 0) rc = iz_key_generate(key);
    if (rc == 0) {
        iz_sha256_hex(key, strlen(key), hex);
        memcpy(prefix, key, 8);
        prefix[8] = '\0';
        rc = iz_store_key_add(st, a.id, hex, prefix);
    }
    iz_store_close(st);
    if (rc == IZ_ENOTFOUND) {
        iz_cli_fail("no account named '%s'", account);
        return 1;
    }
    if (rc != 0) {
        iz_cli_fail("cannot add the key: %s", iz_strerror(rc));
        return 1;
    }
    if (want_json(o))
        print_json(json_pack("{s:s, s:s}", "account", account, "key", key));
    else
        puts(key);
    iz_wipe(key, sizeof key);
    return 0;
}

/* "izin account add ...": the sub-command word comes first. */
static int subcommand(const char *group, int argc, char **argv, const iz_cmddef_t *cmd,
                      int (*add)(const iz_opts_t *o))
{
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        printf("usage: izin %s add [options]\n\nSee izin %s add --help.\n", group, group);
        return 0;
    }
    if (argc < 1 || strcmp(argv[0], "add") != 0) {
        iz_cli_fail("usage: izin %s add [options] (see izin %s add --help)", group, group);
        return 2;
    }
    return iz_cli_run(cmd, add, argc - 1, argv + 1);
}

int iz_cmd_account(int argc, char **argv)
{
    return subcommand("account", argc, argv, &account_cmd, account_add);
}

int iz_cmd_brand(int argc, char **argv)
{
    return subcommand("brand", argc, argv, &brand_cmd, brand_add);
}

int iz_cmd_key(int argc, char **argv)
{
    return subcommand("key", argc, argv, &key_cmd, key_add);
}
