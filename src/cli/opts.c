/*
 * opts.c - option parsing, settings lookup and store opening shared by the
 * commands.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/iz.h"

void iz_cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("izin: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int find_def(const iz_opts_t *o, const char *name, size_t len)
{
    for (int i = 0; i < o->ndefs; i++)
        if (strlen(o->defs[i].name) == len && strncmp(o->defs[i].name, name, len) == 0) return i;
    return -1;
}

void iz_cli_help(FILE *f, const iz_cmddef_t *cmd)
{
    fprintf(f, "usage: %s %s\n\n%s\n", cmd->name, cmd->args, cmd->summary);
    if (cmd->nopts > 0) fputs("\noptions:\n", f);
    for (int i = 0; i < cmd->nopts; i++) {
        const iz_optdef_t *d = &cmd->opts[i];
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", d->name, d->arg ? " " : "", d->arg ? d->arg : "");
        fprintf(f, "  %-28s %s", left, d->help ? d->help : "");
        if (d->def) fprintf(f, " (default: %s)", d->def);
        fputc('\n', f);
    }
    fputs("\nEvery option may also be given as IZIN_NAME in the environment (IZIN_LISTEN for "
          "--listen).\n",
          f);
}

int iz_cli_parse(iz_opts_t *o, const iz_cmddef_t *cmd, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->defs = cmd->opts;
    o->ndefs = cmd->nopts < IZ_CLI_MAX_OPTS ? cmd->nopts : IZ_CLI_MAX_OPTS;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            iz_cli_help(stdout, cmd);
            return IZ_CLI_HELP;
        }
    const iz_optdef_t *defs = cmd->opts;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (o->npositional >= (int)IZ_ARRAY_LEN(o->positional)) {
                iz_cli_fail("unexpected argument '%s' (see %s --help)", a, cmd->name);
                return 2;
            }
            o->positional[o->npositional++] = a;
            continue;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        int d = find_def(o, name, nl);
        if (d < 0) {
            iz_cli_fail("unknown option --%.*s (see %s --help)", (int)nl, name, cmd->name);
            return 2;
        }
        if (!defs[d].has_arg) {
            if (eq) {
                iz_cli_fail("option --%s takes no value", defs[d].name);
                return 2;
            }
            o->val[d] = "1";
        } else if (eq) {
            o->val[d] = eq + 1;
        } else if (i + 1 < argc) {
            o->val[d] = argv[++i];
        } else {
            iz_cli_fail("option --%s needs a value", defs[d].name);
            return 2;
        }
    }
    return 0;
}

const char *iz_cli_get(const iz_opts_t *o, const char *name)
{
    int d = find_def(o, name, strlen(name));
    if (d >= 0 && o->val[d]) return o->val[d];
    char env[96] = "IZIN_";
    size_t n = 5;
    for (const char *p = name; *p && n + 1 < sizeof env; p++)
        env[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    env[n] = '\0';
    const char *e = getenv(env);
    if (e && *e) return e;
    if (d >= 0 && o->file_vals[d]) return o->file_vals[d];
    return NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int iz_cli_load_config(iz_opts_t *o, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        iz_cli_fail("cannot read config file %s", path);
        return -1;
    }
    int rc = iz_cli_read_config(o, f, path);
    fclose(f);
    return rc;
}

int iz_cli_read_config(iz_opts_t *o, FILE *f, const char *path)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int lineno = 0, rc = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t len = (size_t)got;
        if (len && line[len - 1] == '\n') len--;
        if (len > IZ_CLI_CONFIG_LINE_MAX) {
            iz_cli_fail("%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        /* A NUL would end the line's text early and drop the rest unseen. */
        if (memchr(line, '\0', len)) {
            iz_cli_fail("%s:%d: the line holds a NUL byte", path, lineno);
            rc = -1;
            break;
        }
        line[len] = '\0';
        char *s = trim(line);
        if (*s == '\0' || *s == '#') continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            iz_cli_fail("%s:%d: expected name = value", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *name = trim(s), *val = trim(eq + 1);
        int d = find_def(o, name, strlen(name));
        if (d < 0 || strcmp(name, "config") == 0) {
            iz_cli_fail("%s:%d: unknown setting '%s'", path, lineno, name);
            rc = -1;
            break;
        }
        free(o->file_vals[d]);
        o->file_vals[d] = iz_xstrdup(val);
    }
    free(line);
    return rc;
}

void iz_cli_free(iz_opts_t *o)
{
    for (int i = 0; i < IZ_CLI_MAX_OPTS; i++) {
        free(o->file_vals[i]);
        o->file_vals[i] = NULL;
    }
}

/* Whether loc is a PostgreSQL store's location. */
static bool is_pg(const char *loc)
{
    return loc && (!strncmp(loc, "postgresql://", 13) || !strncmp(loc, "postgres://", 11));
}

const char *iz_cli_store_location(const iz_opts_t *o)
{
    int ddb = find_def(o, "db", 2), ddata = find_def(o, "data", 4);
    const char *fdb = ddb >= 0 ? o->val[ddb] : NULL;
    const char *fdata = ddata >= 0 ? o->val[ddata] : NULL;
    /* A flag wins; otherwise IZIN_DB, then IZIN_DATA, then the default. */
    const char *loc = fdb ? fdb : fdata;
    if (!loc) loc = iz_cli_get(o, "db");
    if (!loc) loc = iz_cli_get(o, "data");
    return loc ? loc : "izin-data";
}

const char *iz_cli_local_dir(const iz_opts_t *o)
{
    const char *loc = iz_cli_store_location(o);
    if (!is_pg(loc)) return NULL;
    const char *d = iz_cli_get(o, "data");
    return d && *d ? d : "izin-data";
}

int iz_cli_verify_print(int rc, int64_t bad, bool json)
{
    if (rc == 0) {
        puts(json ? "{\"ok\":true}" : "log intact");
        return 0;
    }
    if (rc != IZ_ERULE) return -1;
    if (json)
        printf("{\"ok\":false,\"firstBrokenId\":%lld}\n", (long long)bad);
    else
        printf("log broken at change %lld\n", (long long)bad);
    return 3;
}

int iz_cli_open_existing_store(const iz_opts_t *o, iz_store_t **st)
{
    const char *loc = iz_cli_store_location(o);
    iz_store_loc_t *l = iz_xmalloc(sizeof *l);
    const char *err = NULL;
    int rc = iz_store_location_parse(loc, l, &err);
    bool missing = rc == 0 && l->kind != IZ_STORE_POSTGRES && access(l->db, F_OK) != 0;
    if (missing) iz_cli_fail("no store at %s (izin init makes one)", l->db);
    free(l);
    if (missing) return -1;
    return iz_cli_open_store(o, st);
}

int iz_cli_open_store(const iz_opts_t *o, iz_store_t **st)
{
    int ddb = find_def(o, "db", 2), ddata = find_def(o, "data", 4);
    if (ddb >= 0 && ddata >= 0 && o->val[ddb] && o->val[ddata] && !is_pg(o->val[ddb])) {
        iz_cli_fail("give --data or --db, not both (--data goes with a postgresql:// --db only:"
                    " the node's own folder)");
        return -1;
    }
    const char *loc = iz_cli_store_location(o);
    const char *err = NULL;
    /* The key that seals stored secrets: IZIN_SECRET_KEY, else the key
     * file beside the database. */
    iz_store_opts_t so = {.secret_key_hex = getenv("IZIN_SECRET_KEY")};
    if (so.secret_key_hex && !*so.secret_key_hex) so.secret_key_hex = NULL;
    int rc = iz_store_open(loc, &so, st, &err);
    if (rc != 0) {
        iz_cli_fail("cannot open the store at %s: %s", loc, err ? err : iz_strerror(rc));
        return -1;
    }
    return 0;
}

void iz_cli_print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    if (!s) iz_oom();
    puts(s);
    free(s);
    json_decref(o);
}

int iz_cli_brand_code(const iz_opts_t *o, int64_t *code)
{
    const char *bs = iz_cli_get(o, "brand");
    if (!bs || iz_parse_i64(bs, 1, INT64_MAX, code) != 0) {
        iz_cli_fail("--brand must be the brand's numeric code");
        return -1;
    }
    return 0;
}

/* The brand `code`; with --account, that account's; otherwise the only
 * brand with that code (an ambiguous code needs --account). */
int iz_cli_find_brand(iz_store_t *st, const char *account, int64_t code, iz_brand_t *out)
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

int iz_cli_run(const iz_cmddef_t *cmd, int (*fn)(const iz_opts_t *o), int argc, char **argv)
{
    iz_opts_t o;
    int prc = iz_cli_parse(&o, cmd, argc, argv);
    if (prc != 0) return IZ_CLI_EXIT(prc);
    int rc = fn(&o);
    iz_cli_free(&o);
    return rc;
}
