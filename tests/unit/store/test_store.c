/*
 * test_store.c - unit tests of the store (SQLite backend): locations and
 * migrations, accounts/brands/keys with tenant scoping, the İYS tokens
 * (sealed, good for one URL and user), consent apply with
 * its rule callback, repeats and outbox, the hash chain and its tamper
 * detection, persistence, bounded strings, and concurrent writers.
 *
 * Each test opens a fresh store in its own mkdtemp directory and removes the
 * directory afterwards.
 */
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../testutil.h"
#include <sqlite3.h>

#include "core/iz.h"
#include "store/store.h"
#include "store/store_int.h"

typedef struct fx {
    char dir[64];
    char db[128];
    iz_store_t *st;
} fx_t;

static void fx_reopen(fx_t *f)
{
    const char *err = NULL;
    if (f->st) iz_store_close(f->st);
    f->st = NULL;
    int rc = iz_test_store_open(f->dir, &f->st, &err);
    if (rc != 0) fail_msg("open %s: %d %s", f->dir, rc, err ? err : "");
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/izin-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/izin.db", f->dir);
    fx_reopen(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    iz_store_close(f->st);
    iz_test_rmtree(f->dir);
    free(f);
    return 0;
}

/* Run SQL on the store's file through a connection of the test's own, as an
 * operator (or an attacker) with file access would. */
/* The SQL text of the engine under test: SQLite's, or PostgreSQL's on the
 * PostgreSQL pass (IZIN_TEST_PG). */
static const char *eng(const char *lite, const char *pgsql)
{
    return iz_test_pg() ? pgsql : lite;
}

/* A test of SQLite's file itself (its schema history, its key file, its
 * bytes on disk): said and skipped on the PostgreSQL pass, whose own
 * checks of the same promise are in the test beside it. */
#define SQLITE_ONLY(why)                                                                           \
    do {                                                                                           \
        if (iz_test_pg()) {                                                                        \
            print_message("SQLite only: %s\n", why);                                               \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static int raw_sql(const fx_t *f, const char *sql)
{
    return iz_test_raw_exec(f->dir, sql);
}

static int64_t raw_count(const fx_t *f, const char *sql)
{
    return iz_test_raw_i64(f->dir, sql);
}

static iz_change_t mk_change(int64_t brand, const char *recipient, iz_status_t status,
                             int64_t consent_date, iz_iys_state_t ys)
{
    iz_change_t c;
    memset(&c, 0, sizeof c);
    c.brand_id = brand;
    snprintf(c.recipient, sizeof c.recipient, "%s", recipient);
    c.rtype = IZ_BIREYSEL;
    c.type = IZ_MESAJ;
    c.status = status;
    c.source = IZ_HS_WEB;
    c.consent_date = consent_date;
    c.origin = IZ_ORIGIN_API;
    c.iys_state = ys;
    return c;
}

static void apply_ok(fx_t *f, iz_change_t *c)
{
    int rc = iz_store_consent_apply(f->st, c, NULL, NULL);
    assert_int_equal(rc, 0);
    assert_true(c->id > 0);
}

static size_t history_len(fx_t *f, int64_t brand, const char *recipient)
{
    iz_change_t *list = NULL;
    size_t n = 99;
    assert_int_equal(
        iz_store_consent_history(f->st, brand, IZ_BIREYSEL, IZ_MESAJ, recipient, &list, &n), 0);
    free(list);
    return n;
}

static int64_t outbox(fx_t *f)
{
    int64_t n = -1;
    assert_int_equal(iz_store_outbox_count(f->st, &n), 0);
    return n;
}

static void verify_ok(fx_t *f)
{
    int64_t bad = -1;
    assert_int_equal(iz_store_verify_log(f->st, &bad), 0);
    assert_int_equal(bad, 0);
}

/* ---- locations and migrations ------------------------------------------- */

static void test_locations(void **state)
{
    fx_t *f = *state;
    iz_store_t *st = NULL;
    const char *err = NULL;
    char loc[256];
    struct stat sb;

    /* A missing nested data directory is created, mode 0700. */
    snprintf(loc, sizeof loc, "%s/a/b", f->dir);
    assert_int_equal(iz_store_open(loc, NULL, &st, &err), 0);
    assert_int_equal(iz_store_ping(st), 0);
    iz_store_close(st);
    assert_int_equal(stat(loc, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    snprintf(loc, sizeof loc, "%s/a/b/izin.db", f->dir);
    assert_int_equal(stat(loc, &sb), 0);
    assert_int_equal(sb.st_mode & 0077, 0); /* holds İYS credentials */

    snprintf(loc, sizeof loc, "sqlite:%s/x.db", f->dir);
    assert_int_equal(iz_store_open(loc, NULL, &st, &err), 0);
    assert_int_equal(iz_store_schema_version(st), IZ_STORE_SCHEMA_VERSION);
    iz_store_close(st);
    snprintf(loc, sizeof loc, "file:%s/x.db", f->dir);
    assert_int_equal(iz_store_open(loc, NULL, &st, &err), 0);
    iz_store_close(st);

    st = NULL;
    /* PostgreSQL: the secret key is given (no file beside the database). */
    assert_int_equal(iz_store_open("postgres://u@h/db", NULL, &st, &err), IZ_EINVAL);
    assert_null(st);
    assert_non_null(strstr(err, "PostgreSQL"));
    assert_non_null(strstr(err, "IZIN_SECRET_KEY"));
    assert_int_equal(iz_store_open("postgresql://h/db", NULL, &st, &err), IZ_EINVAL);

    /* A regular file is not a data directory; a file in a missing dir fails. */
    snprintf(loc, sizeof loc, "%s/x.db", f->dir);
    assert_int_equal(iz_store_open(loc, NULL, &st, &err), IZ_EINVAL);
    snprintf(loc, sizeof loc, "sqlite:%s/nodir/x.db", f->dir);
    assert_int_equal(iz_store_open(loc, NULL, &st, &err), IZ_EIO);
    assert_non_null(err);
    assert_int_equal(iz_store_open("sqlite:", NULL, &st, &err), IZ_EINVAL);
    assert_int_equal(iz_store_open("", NULL, &st, &err), IZ_EINVAL);

    /* A file that is not a database is refused, not overwritten. */
    snprintf(loc, sizeof loc, "%s/junk.db", f->dir);
    FILE *fp = fopen(loc, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite database\n", fp);
    fclose(fp);
    snprintf(loc, sizeof loc, "sqlite:%s/junk.db", f->dir);
    assert_int_equal(iz_store_open(loc, NULL, &st, &err), IZ_EIO);
}

static unsigned char *slurp(const char *path, size_t *len);

/* The location parser: one place, and an unknown scheme is an error, so
 * "postgresql:/x" (one slash) never becomes a folder of that name. */
static void test_location_parse(void **state)
{
    (void)state;
    iz_store_loc_t l;
    const char *err = NULL;
    assert_int_equal(iz_store_location_parse("data", &l, &err), 0);
    assert_int_equal(l.kind, IZ_STORE_DIR);
    assert_string_equal(l.db, "data/izin.db");
    assert_string_equal(l.dir, "data");
    assert_string_equal(l.key_file, "data/izin.db.key");
    assert_int_equal(iz_store_location_parse("sqlite:/var/x/a.db", &l, &err), 0);
    assert_int_equal(l.kind, IZ_STORE_SQLITE);
    assert_string_equal(l.db, "/var/x/a.db");
    assert_string_equal(l.dir, "/var/x");
    assert_string_equal(l.key_file, "/var/x/a.db.key");
    assert_int_equal(iz_store_location_parse("file:a.db", &l, &err), 0);
    assert_string_equal(l.dir, ".");
    assert_int_equal(iz_store_location_parse("postgresql://u@h/db", &l, &err), 0);
    assert_int_equal(l.kind, IZ_STORE_POSTGRES);
    assert_int_equal(iz_store_location_parse("./a:b", &l, &err), 0);
    assert_int_equal(l.kind, IZ_STORE_DIR);
    assert_int_equal(iz_store_location_parse("postgresql:/x", &l, &err), IZ_EINVAL);
    assert_non_null(strstr(err, "postgresql://"));
    assert_int_equal(iz_store_location_parse("postgres:x", &l, &err), IZ_EINVAL);
    assert_int_equal(iz_store_location_parse("mysql://h/db", &l, &err), IZ_EINVAL);
    assert_non_null(strstr(err, "unknown scheme"));
    assert_int_equal(iz_store_location_parse("a:b", &l, &err), IZ_EINVAL);
    assert_int_equal(iz_store_location_parse("sqlite:dir/", &l, &err), IZ_EINVAL);
    assert_int_equal(iz_store_location_parse("da\nta", &l, &err), IZ_EINVAL);
    assert_int_equal(iz_store_location_parse("", &l, &err), IZ_EINVAL);
}

/* İYS passwords are stored sealed under the key beside the database; the
 * store refuses to open with another key, and with none, without leaving a
 * wrong key file behind; a password stored in clear by an older version is
 * sealed at open. */
static void test_secrets_sealed(void **state)
{
    fx_t *f = *state;
    iz_account_t a = {.iys_code = 1};
    strcpy(a.name, "sealed");
    strcpy(a.iys_password, "çok-gizli-şifre");
    assert_int_equal(iz_store_account_add(f->st, &a), 0);
    iz_account_t b;
    assert_int_equal(iz_store_account_get(f->st, a.id, &b), 0);
    assert_string_equal(b.iys_password, "çok-gizli-şifre");
    char key[300];
    snprintf(key, sizeof key, "%s.key", f->db);
    struct stat sb;
    if (!iz_test_pg()) {
        assert_int_equal(stat(key, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
    }
    iz_store_close(f->st);
    f->st = NULL;
    /* not in the database in clear */
    assert_int_equal(
        raw_count(f, "SELECT count(*) FROM accounts WHERE iys_password LIKE '%gizli%'"), 0);
    if (!iz_test_pg()) {
        size_t n;
        unsigned char *all = slurp(f->db, &n);
        assert_null(memmem(all, n, "çok-gizli", strlen("çok-gizli")));
        free(all);
    }
    assert_int_equal(raw_count(f, "SELECT count(*) FROM accounts WHERE iys_password LIKE 'sb1:%'"),
                     1);
    /* another key: refused */
    const char *err = NULL;
    iz_store_t *st = NULL;
    char loc[512];
    assert_int_equal(iz_test_store_loc(f->dir, loc, sizeof loc), 0);
    iz_store_opts_t other = {
        .secret_key_hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"};
    assert_int_equal(iz_store_open(loc, &other, &st, &err), IZ_ERULE);
    assert_null(st);
    assert_non_null(strstr(err, "key"));
    if (iz_test_pg()) {
        /* (no key file: the rest is the file's) */
        assert_int_equal(
            raw_sql(f, "UPDATE accounts SET iys_password = 'eski' WHERE name = 'sealed'"), 0);
        fx_reopen(f);
        assert_int_equal(
            raw_count(f, "SELECT count(*) FROM accounts WHERE iys_password LIKE 'sb1:%'"), 1);
        assert_int_equal(iz_store_account_by_name(f->st, "sealed", &b), 0);
        assert_string_equal(b.iys_password, "eski");
        return;
    }
    /* the key file gone: refused, and no new (wrong) key file left */
    char moved[320];
    snprintf(moved, sizeof moved, "%s.moved", key);
    assert_int_equal(rename(key, moved), 0);
    assert_int_equal(iz_store_open(f->dir, NULL, &st, &err), IZ_ERULE);
    assert_non_null(strstr(err, "missing"));
    assert_int_not_equal(stat(key, &sb), 0);
    assert_int_equal(rename(moved, key), 0);
    /* a password in clear (an older store) is sealed at open */
    assert_int_equal(raw_sql(f, "UPDATE accounts SET iys_password = 'eski' WHERE name = 'sealed'"),
                     SQLITE_OK);
    fx_reopen(f);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM accounts WHERE iys_password LIKE 'sb1:%'"),
                     1);
    assert_int_equal(iz_store_account_by_name(f->st, "sealed", &b), 0);
    assert_string_equal(b.iys_password, "eski");
}

/* Column 0 of the first row of sql, as text, through the test's own
 * connection ("" when there is no row or it is NULL). */
static void raw_text(const fx_t *f, const char *sql, char *out, size_t outsz)
{
    (void)iz_test_raw_text(f->dir, sql, out, outsz);
}

static int64_t add_account(fx_t *f, const char *name);
static int64_t add_brand(fx_t *f, int64_t account, int64_t code, const char *slug);

#define TOK_URL "https://api.iys.org.tr"
#define TOK_ACCESS "3f9a0c1d2e4b5a6978877665544332211ffeeddccbbaa99887766554433221100"
#define TOK_REFRESH "refresh-0123456789abcdef0123456789abcdef0123456789abcdef01234567"

static iz_iys_token_t mk_token(const char *url, const char *user)
{
    iz_iys_token_t t;
    memset(&t, 0, sizeof t);
    snprintf(t.base_url, sizeof t.base_url, "%s", url);
    snprintf(t.username, sizeof t.username, "%s", user);
    strcpy(t.access, TOK_ACCESS);
    strcpy(t.refresh, TOK_REFRESH);
    t.access_exp = 1900000000;
    t.refresh_exp = 1900007200;
    return t;
}

/* A new account holding the token state mk_token(TOK_URL, "API_USER"). */
static int64_t account_with_token(fx_t *f, const char *name)
{
    int64_t acc = add_account(f, name);
    iz_iys_token_t t = mk_token(TOK_URL, "API_USER");
    assert_int_equal(iz_store_iys_token_put(f->st, acc, &t), 0);
    return acc;
}

/* The İYS client's tokens: kept per account, read back whole (across a
 * reopen too), only for the URL and user they were issued for. */
static void test_iys_tokens_round_trip(void **state)
{
    fx_t *f = *state;
    int64_t acc = add_account(f, "tokens"), other = add_account(f, "other");
    iz_iys_token_t t = mk_token(TOK_URL, "API_USER"), g;
    assert_int_equal(iz_store_iys_token_get(f->st, acc, TOK_URL, "API_USER", &g), IZ_ENOTFOUND);
    assert_int_equal(iz_store_iys_token_put(f->st, 9999, &t), IZ_ENOTFOUND); /* no such account */
    assert_int_equal(iz_store_iys_token_put(f->st, acc, &t), 0);
    fx_reopen(f);
    memset(&g, 0x55, sizeof g);
    assert_int_equal(iz_store_iys_token_get(f->st, acc, TOK_URL, "API_USER", &g), 0);
    assert_string_equal(g.base_url, TOK_URL);
    assert_string_equal(g.username, "API_USER");
    assert_string_equal(g.access, TOK_ACCESS);
    assert_string_equal(g.refresh, TOK_REFRESH);
    assert_int_equal(g.access_exp, 1900000000);
    assert_int_equal(g.refresh_exp, 1900007200);
    assert_int_equal(g.blocked_until, 0);
    assert_true(g.updated_ms > 1700000000000);
    /* another account has none */
    assert_int_equal(iz_store_iys_token_get(f->st, other, TOK_URL, "API_USER", &g), IZ_ENOTFOUND);

    /* a put replaces: no refresh token, an H084 hour */
    t.refresh[0] = '\0';
    t.refresh_exp = 0;
    t.blocked_until = 1900003600;
    assert_int_equal(iz_store_iys_token_put(f->st, acc, &t), 0);
    assert_int_equal(iz_store_iys_token_get(f->st, acc, TOK_URL, "API_USER", &g), 0);
    assert_string_equal(g.access, TOK_ACCESS);
    assert_string_equal(g.refresh, "");
    assert_int_equal(g.blocked_until, 1900003600);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM iys_tokens"), 1);

    /* a state with no token at all (blocked before any was issued) */
    iz_iys_token_t none = mk_token(TOK_URL, "API_USER");
    none.access[0] = none.refresh[0] = '\0';
    none.blocked_until = 1900003600;
    assert_int_equal(iz_store_iys_token_put(f->st, acc, &none), 0);
    assert_int_equal(iz_store_iys_token_get(f->st, acc, TOK_URL, "API_USER", &g), 0);
    assert_string_equal(g.access, "");
    assert_string_equal(g.refresh, "");
    assert_int_equal(raw_count(f, "SELECT count(*) FROM iys_tokens WHERE access = ''"), 1);

    /* a token without room for its NUL is refused, never cut */
    iz_iys_token_t big = mk_token(TOK_URL, "API_USER");
    memset(big.access, 'a', sizeof big.access);
    assert_int_equal(iz_store_iys_token_put(f->st, acc, &big), IZ_ETOOBIG);
    assert_int_equal(iz_store_iys_token_put(NULL, acc, &t), IZ_EINVAL);
    assert_int_equal(iz_store_iys_token_get(f->st, acc, NULL, "API_USER", &g), IZ_EINVAL);
}

/* The tokens are sealed at rest as the İYS password is: the column is not
 * the token, the file holds it nowhere, and a changed column reads as none
 * (the password then gets a new pair). */
static void test_iys_tokens_sealed(void **state)
{
    fx_t *f = *state;
    int64_t acc = account_with_token(f, "sealed-tokens");
    iz_iys_token_t g;
    char col[2048];
    raw_text(f, "SELECT access FROM iys_tokens", col, sizeof col);
    assert_true(strncmp(col, "sb1:", 4) == 0);
    assert_null(strstr(col, TOK_ACCESS));
    raw_text(f, "SELECT refresh FROM iys_tokens", col, sizeof col);
    assert_true(strncmp(col, "sb1:", 4) == 0);
    assert_null(strstr(col, TOK_REFRESH));
    iz_store_close(f->st);
    f->st = NULL;
    if (iz_test_pg()) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM iys_tokens WHERE access LIKE '%%%.16s%%'"
                 " OR refresh LIKE '%%%.16s%%'",
                 TOK_ACCESS + 8, TOK_REFRESH + 8);
        assert_int_equal(raw_count(f, sql), 0);
    } else {
        size_t n;
        unsigned char *all = slurp(f->db, &n);
        assert_null(memmem(all, n, TOK_ACCESS, strlen(TOK_ACCESS)));
        assert_null(memmem(all, n, TOK_REFRESH, strlen(TOK_REFRESH)));
        assert_null(memmem(all, n, TOK_ACCESS + 8, 16)); /* not even a piece of it */
        free(all);
    }
    fx_reopen(f);
    assert_int_equal(iz_store_iys_token_get(f->st, acc, TOK_URL, "API_USER", &g), 0);
    assert_string_equal(g.access, TOK_ACCESS);
    /* a changed byte: the value does not open, and reads as none */
    assert_int_equal(raw_sql(f, "UPDATE iys_tokens SET access = substr(access, 1, 10) ||"
                                " (CASE substr(access, 11, 1) WHEN 'A' THEN 'B' ELSE 'A' END) ||"
                                " substr(access, 12)"),
                     SQLITE_OK);
    assert_int_equal(iz_store_iys_token_get(f->st, acc, TOK_URL, "API_USER", &g), IZ_ENOTFOUND);
    /* a token stored in clear (written by hand) is not a sealed value: none */
    assert_int_equal(raw_sql(f, "UPDATE iys_tokens SET access = 'in-clear'"), SQLITE_OK);
    assert_int_equal(iz_store_iys_token_get(f->st, acc, TOK_URL, "API_USER", &g), IZ_ENOTFOUND);
}

/* A pair issued by one İYS to one user is none for another: the account's
 * İYS URL or user changed since (or the default URL of `serve` did). */
static void test_iys_tokens_url_or_user_changed(void **state)
{
    fx_t *f = *state;
    int64_t acc = account_with_token(f, "moved");
    iz_iys_token_t g;
    assert_int_equal(iz_store_iys_token_get(f->st, acc, TOK_URL, "API_USER", &g), 0);
    assert_int_equal(
        iz_store_iys_token_get(f->st, acc, "https://api.sandbox.iys.org.tr", "API_USER", &g),
        IZ_ENOTFOUND);
    assert_int_equal(iz_store_iys_token_get(f->st, acc, TOK_URL, "NEW_USER", &g), IZ_ENOTFOUND);
    assert_int_equal(iz_store_iys_token_get(f->st, acc, TOK_URL, "api_user", &g), IZ_ENOTFOUND);
    assert_int_equal(iz_store_iys_token_get(f->st, acc, TOK_URL "/x", "API_USER", &g),
                     IZ_ENOTFOUND);
    /* a URL or user that could never be stored is none too */
    char longurl[IZ_URL_MAX + 10];
    memset(longurl, 'u', sizeof longurl - 1);
    longurl[sizeof longurl - 1] = '\0';
    assert_int_equal(iz_store_iys_token_get(f->st, acc, longurl, "API_USER", &g), IZ_ENOTFOUND);
    /* the pair put for the new settings replaces the old one */
    iz_iys_token_t n2 = mk_token("https://api.sandbox.iys.org.tr", "API_USER");
    assert_int_equal(iz_store_iys_token_put(f->st, acc, &n2), 0);
    assert_int_equal(iz_store_iys_token_get(f->st, acc, TOK_URL, "API_USER", &g), IZ_ENOTFOUND);
    assert_int_equal(
        iz_store_iys_token_get(f->st, acc, "https://api.sandbox.iys.org.tr", "API_USER", &g), 0);
}

/* v11: an account sending through a partner, the partner's one token
 * state (per code and URL, across a reopen), the standings the sync engine
 * keeps for the command line, and held changes let go at once. */
static void test_partner_mode_and_standings(void **state)
{
    fx_t *f = *state;
    iz_account_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "partnered");
    a.iys_code = 700900;
    a.iys_integrator = 960001;
    assert_int_equal(iz_store_account_add(f->st, &a), 0);
    int64_t own = account_with_token(f, "own");
    iz_account_t g;
    assert_int_equal(iz_store_account_get(f->st, a.id, &g), 0);
    assert_int_equal(g.iys_integrator, 960001);
    assert_int_equal(iz_store_account_get(f->st, own, &g), 0);
    assert_int_equal(g.iys_integrator, 0);
    /* the partner's pair */
    iz_iys_token_t t = mk_token(TOK_URL, "PARTNER_USER"), got;
    assert_int_equal(iz_store_iys_partner_token_put(f->st, 960001, &t), 0);
    fx_reopen(f);
    assert_int_equal(iz_store_iys_partner_token_get(f->st, 960001, TOK_URL, "PARTNER_USER", &got),
                     0);
    assert_string_equal(got.access, TOK_ACCESS);
    assert_string_equal(got.refresh, TOK_REFRESH);
    assert_int_equal(got.access_exp, 1900000000);
    assert_int_equal(iz_store_iys_partner_token_get(f->st, 960001, TOK_URL, "OTHER", &got),
                     IZ_ENOTFOUND);
    assert_int_equal(iz_store_iys_partner_token_get(f->st, 960002, TOK_URL, "PARTNER_USER", &got),
                     IZ_ENOTFOUND);
    assert_int_equal(
        iz_store_iys_partner_token_get(f->st, 960001, "https://x", "PARTNER_USER", &got),
        IZ_ENOTFOUND);
    /* it is not an account's, and an account's is not the partner's */
    assert_int_equal(iz_store_iys_token_get(f->st, a.id, TOK_URL, "PARTNER_USER", &got),
                     IZ_ENOTFOUND);
    assert_int_equal(iz_store_iys_partner_token_get(f->st, own, TOK_URL, "API_USER", &got),
                     IZ_ENOTFOUND);
    /* another URL gets a pair of its own */
    iz_iys_token_t t2 = mk_token("https://api.sandbox.iys.org.tr", "PARTNER_USER");
    t2.access_exp = 1;
    assert_int_equal(iz_store_iys_partner_token_put(f->st, 960001, &t2), 0);
    assert_int_equal(iz_store_iys_partner_token_get(f->st, 960001, TOK_URL, "PARTNER_USER", &got),
                     0);
    assert_int_equal(got.access_exp, 1900000000);
    /* the accounts, without passwords */
    iz_account_t *list = NULL;
    size_t n = 0;
    assert_int_equal(iz_store_accounts_all(f->st, &list, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "partnered");
    assert_int_equal(list[0].iys_integrator, 960001);
    assert_string_equal(list[1].name, "own");
    assert_string_equal(list[1].iys_password, "");
    free(list);
    /* standings: replaced whole, by account */
    assert_int_equal(iz_store_iys_standing_put(f->st, a.id, true, "", "{\"sending\":true}"), 0);
    assert_int_equal(
        iz_store_iys_standing_put(f->st, a.id, false, "SUBSCRIPTION_PAUSED", "{\"sending\":false}"),
        0);
    assert_int_equal(iz_store_iys_standing_put(f->st, 9999, true, "", "{}"), IZ_ENOTFOUND);
    char big[80];
    memset(big, 'X', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(iz_store_iys_standing_put(f->st, a.id, false, big, "{}"), IZ_ETOOBIG);
    iz_iys_standing_t *sl = NULL;
    assert_int_equal(iz_store_iys_standing_all(f->st, &sl, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(sl[0].account_id, a.id);
    assert_false(sl[0].sending);
    assert_string_equal(sl[0].reason, "SUBSCRIPTION_PAUSED");
    assert_string_equal(sl[0].json, "{\"sending\":false}");
    assert_true(sl[0].updated_ms > 0);
    iz_store_iys_standing_free(sl, n);
    /* a held change (next try far ahead) is due again at once */
    int64_t brand = add_brand(f, a.id, 700900, "partnered");
    iz_change_t c = mk_change(brand, "+905551112299", IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    apply_ok(f, &c);
    int64_t now = 1800000000000;
    assert_int_equal(iz_store_outbox_retry(f->st, c.id, now + 3600000, "held"), 0);
    iz_outbox_item_t *due = NULL;
    assert_int_equal(iz_store_outbox_due(f->st, now, a.id, false, 10, &due, &n), 0);
    assert_int_equal(n, 0);
    free(due);
    assert_int_equal(iz_store_outbox_due_now(f->st, a.id, now), 0);
    assert_int_equal(iz_store_outbox_due(f->st, now, a.id, false, 10, &due, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(due[0].chg.id, c.id);
    free(due);
}

/* A store of schema 4 (before the tokens) gains the table when opened. */
static void test_iys_tokens_migration(void **state)
{
    SQLITE_ONLY("the SQLite schema's history from version 4 (a PostgreSQL store starts at 18)");
    fx_t *f = *state;
    int64_t acc = add_account(f, "old");
    int64_t brand = add_brand(f, acc, 700100, "old");
    iz_change_t c = mk_change(brand, "+905551112233", IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    apply_ok(f, &c);
    iz_store_close(f->st);
    f->st = NULL;
    /* A version 4 store: without v5's tokens, v6's outbox columns, v7's
     * jobs and v8's segments (its state and outbox rows' new columns). */
    assert_int_equal(raw_sql(f, /* the panel's figures and index (v17) */
                             "DROP TRIGGER stat_state_upd;"
                             "DROP TRIGGER stat_state_del; DROP TRIGGER stat_days_log;"
                             "DROP TRIGGER stat_days_seg;"
                             "DROP TABLE stat_state; DROP TABLE stat_days;"
                             "DROP INDEX consent_log_iys;"
                             "DROP TABLE job_errors; DROP TABLE jobs;"
                             "DROP TABLE iys_tokens; DROP TABLE segment_results;"
                             "DROP TABLE log_segments; DROP TABLE brand_keywords;"
                             "DROP TABLE sms_inbound; DROP INDEX brands_short_number;"
                             "DROP INDEX brands_subscriber_number;"
                             "ALTER TABLE brands DROP COLUMN reply_onay;"
                             "ALTER TABLE brands DROP COLUMN reply_ret;"
                             "ALTER TABLE brands DROP COLUMN reply_help;"
                             "DROP INDEX outbox_account; DROP INDEX outbox_request;"
                             "ALTER TABLE outbox DROP COLUMN account_id;"
                             "ALTER TABLE outbox DROP COLUMN posted_ms;"
                             "ALTER TABLE outbox DROP COLUMN brand_id;"
                             "ALTER TABLE consent_state DROP COLUMN seg_id;"
                             /* v10's queue */
                             "DROP INDEX sms_messages_idem; DROP INDEX sms_messages_open;"
                             "DROP INDEX sms_recipients_msgid;"
                             "DROP INDEX sms_recipients_queued;"
                             "DROP INDEX sms_recipients_sending;"
                             "ALTER TABLE sms_messages DROP COLUMN account_id;"
                             "ALTER TABLE sms_messages DROP COLUMN kind;"
                             "ALTER TABLE sms_messages DROP COLUMN state;"
                             "ALTER TABLE sms_messages DROP COLUMN priority;"
                             "ALTER TABLE sms_messages DROP COLUMN rtype;"
                             "ALTER TABLE sms_messages DROP COLUMN opt_out;"
                             "ALTER TABLE sms_messages DROP COLUMN idem_key;"
                             "ALTER TABLE sms_messages DROP COLUMN idem_hash;"
                             "ALTER TABLE sms_recipients DROP COLUMN error;"
                             "ALTER TABLE sms_recipients DROP COLUMN sent_ms;"
                             "ALTER TABLE sms_recipients DROP COLUMN dlr_status;"
                             "ALTER TABLE sms_recipients DROP COLUMN dlr_ms;"
                             "ALTER TABLE sms_recipients DROP COLUMN raw_json;"
                             /* v11's reconciliation */
                             "DROP TABLE iys_days; DROP TABLE iys_recon;"
                             /* v14's partner mode and standings */
                             "ALTER TABLE accounts DROP COLUMN iys_integrator;"
                             "DROP TABLE iys_partner_tokens; DROP TABLE iys_standing;"
                             /* a send as version 3 recorded it */
                             "INSERT INTO sms_messages(id, brand_id, created_ms, sender, text,"
                             " commercial, encoding, parts, accepted, blocked) VALUES(7, 1,"
                             " 1700000000000, 'ACME', 'Merhaba', 1, 'GSM7', 1, 1, 1);"
                             "INSERT INTO sms_recipients VALUES(7, 0, '+905551112233', 'SENT',"
                             " 'a1b2');"
                             "INSERT INTO sms_recipients VALUES(7, 1, '+905551112234',"
                             " 'NO_CONSENT', NULL);"
                             /* v11's retailers */
                             "DROP TABLE retailer_lists; DROP TABLE retailers;"
                             "DROP TRIGGER consent_log_no_update_retail;"
                             "ALTER TABLE consent_log DROP COLUMN retailer_code;"
                             "ALTER TABLE consent_log DROP COLUMN retailer_access;"
                             /* v13's consent page information text */
                             "ALTER TABLE brands DROP COLUMN info_text;"
                             /* v15's consent page mode */
                             "ALTER TABLE brands DROP COLUMN page_mode;"
                             "ALTER TABLE brands DROP COLUMN page_otp_template;"
                             "ALTER TABLE brands DROP COLUMN page_vkn;"
                             /* v16's webhooks */
                             "DROP TABLE webhook_dead; DROP TABLE webhooks;"
                             /* v18's content rules and plans */
                             "ALTER TABLE brands DROP COLUMN trade_name;"
                             "ALTER TABLE brands DROP COLUMN mersis;"
                             "ALTER TABLE brands DROP COLUMN tradesman;"
                             "ALTER TABLE brands DROP COLUMN contact;"
                             "DROP TABLE account_usage;"
                             /* the panel's tables */
                             "DROP TABLE panel_sessions; DROP TABLE panel_users;"
                             "DROP TABLE panel_login_failures;"
                             "UPDATE meta SET value = '4' WHERE key = 'schema_version'"),
                     SQLITE_OK);
    fx_reopen(f);
    assert_int_equal(iz_store_schema_version(f->st), IZ_STORE_SCHEMA_VERSION);
    /* The old send is the account's, DONE, its messages as they were. */
    iz_sms_msg_t *m = calloc(1, sizeof *m);
    assert_int_equal(iz_store_sms_get(f->st, 7, m), 0);
    assert_int_equal(m->account_id, acc);
    assert_string_equal(m->state, "DONE");
    assert_string_equal(m->kind, "SEND");
    free(m);
    iz_sms_counts_t cnt;
    assert_int_equal(iz_store_sms_counts(f->st, 7, &cnt), 0);
    assert_int_equal(cnt.sent, 1);
    assert_int_equal(cnt.no_consent, 1);
    /* The change, its state and its queue row came through. */
    iz_change_t got;
    assert_int_equal(
        iz_store_consent_get(f->st, brand, IZ_BIREYSEL, IZ_MESAJ, "+905551112233", &got), 0);
    assert_int_equal(got.id, c.id);
    assert_int_equal(outbox(f), 1);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM outbox WHERE brand_id IS NOT NULL"), 1);
    verify_ok(f);
    iz_iys_token_t t = mk_token(TOK_URL, "API_USER"), g;
    assert_int_equal(iz_store_iys_token_put(f->st, acc, &t), 0);
    assert_int_equal(iz_store_iys_token_get(f->st, acc, TOK_URL, "API_USER", &g), 0);
}

/* A batch: one call, one transaction, each change's own result. */
static void test_batch_apply(void **state)
{
    fx_t *f = *state;
    int64_t brand = 1;
    iz_change_t c[4];
    c[0] = mk_change(brand, "+905370000001", IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    c[1] = mk_change(brand, "+905370000001", IZ_RET, 1700000100, IZ_IYS_PENDING);
    c[2] = mk_change(brand, "+905370000001", IZ_RET, 1700000100, IZ_IYS_PENDING); /* repeat */
    c[3] = mk_change(brand, "", IZ_ONAY, 1700000000, IZ_IYS_PENDING);             /* invalid */
    iz_store_apply_t it[4];
    for (int i = 0; i < 4; i++)
        it[i] = (iz_store_apply_t){.chg = &c[i]};
    assert_int_equal(iz_store_consent_apply_batch(f->st, it, 4), 0);
    assert_int_equal(it[0].rc, 0);
    assert_int_equal(it[1].rc, 0);
    assert_int_equal(it[2].rc, IZ_REPEAT);
    assert_int_equal(c[2].id, c[1].id);
    assert_int_equal(it[3].rc, IZ_EINVAL);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_log"), 2);
    assert_int_equal(iz_store_consent_apply_batch(f->st, it, 0), IZ_EINVAL);
    verify_ok(f);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long n = ftell(fp);
    assert_true(n > 0);
    rewind(fp);
    unsigned char *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static void test_migrations_idempotent(void **state)
{
    fx_t *f = *state;
    assert_int_equal(iz_store_schema_version(f->st), IZ_STORE_SCHEMA_VERSION);
    iz_store_close(f->st);
    f->st = NULL;

    if (iz_test_pg()) {
        /* Opening again runs no migration: no object made again, none made new. */
        const char *objs = "SELECT count(*) FROM pg_class WHERE relnamespace ="
                           " 'public'::regnamespace";
        int64_t n1 = raw_count(f, objs);
        fx_reopen(f);
        assert_int_equal(iz_store_schema_version(f->st), IZ_STORE_SCHEMA_VERSION);
        iz_store_close(f->st);
        f->st = NULL;
        assert_true(n1 > 20);
        assert_int_equal(raw_count(f, objs), n1);
    } else {
        size_t n1, n2;
        unsigned char *before = slurp(f->db, &n1);
        fx_reopen(f);
        assert_int_equal(iz_store_schema_version(f->st), IZ_STORE_SCHEMA_VERSION);
        iz_store_close(f->st);
        f->st = NULL;
        unsigned char *after = slurp(f->db, &n2);
        assert_int_equal(n1, n2);
        assert_memory_equal(before, after, n1); /* opening changed nothing */
        free(before);
        free(after);
    }
    assert_int_equal(raw_count(f, "SELECT value FROM meta WHERE key = 'schema_version'"),
                     IZ_STORE_SCHEMA_VERSION);
    fx_reopen(f);
}

static void test_newer_version_refused(void **state)
{
    fx_t *f = *state;
    iz_store_close(f->st);
    f->st = NULL;
    assert_int_equal(raw_sql(f, "UPDATE meta SET value = '999' WHERE key = 'schema_version'"),
                     SQLITE_OK);
    const char *err = NULL;
    iz_store_t *st = NULL;
    assert_int_equal(iz_test_store_open(f->dir, &st, &err), IZ_EUNSUPPORTED);
    assert_null(st);
    assert_non_null(err);
    assert_non_null(strstr(err, "999"));
    /* Refusing did not touch the store. */
    assert_int_equal(raw_count(f, "SELECT value FROM meta WHERE key = 'schema_version'"), 999);
}

/* ---- accounts, brands, keys --------------------------------------------- */

static int64_t add_account(fx_t *f, const char *name)
{
    iz_account_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "%s", name);
    a.iys_code = 700001;
    assert_int_equal(iz_store_account_add(f->st, &a), 0);
    return a.id;
}

static int64_t add_brand(fx_t *f, int64_t account, int64_t code, const char *slug)
{
    iz_brand_t b;
    memset(&b, 0, sizeof b);
    b.account_id = account;
    b.code = code;
    snprintf(b.name, sizeof b.name, "brand %" PRId64, code);
    snprintf(b.slug, sizeof b.slug, "%s", slug);
    assert_int_equal(iz_store_brand_add(f->st, &b), 0);
    return b.id;
}

static void test_accounts(void **state)
{
    fx_t *f = *state;
    iz_account_t a, g;
    memset(&a, 0, sizeof a);
    strcpy(a.name, "Örnek A.Ş.");
    a.iys_code = 123456;
    strcpy(a.activation_date, "2024-03-01");
    strcpy(a.iys_url, "https://api.iys.org.tr");
    strcpy(a.iys_user, "user");
    strcpy(a.iys_password, "secret");
    strcpy(a.plan, "pro");
    assert_int_equal(iz_store_account_add(f->st, &a), 0);
    assert_true(a.id > 0);
    assert_true(a.created_at > 0);

    assert_int_equal(iz_store_account_get(f->st, a.id, &g), 0);
    assert_memory_equal(&a, &g, sizeof a);
    assert_int_equal(iz_store_account_by_name(f->st, "Örnek A.Ş.", &g), 0);
    assert_int_equal(g.id, a.id);
    assert_string_equal(g.activation_date, "2024-03-01");
    assert_string_equal(g.iys_password, "secret");

    iz_account_t dup = a;
    assert_int_equal(iz_store_account_add(f->st, &dup), IZ_EEXIST);
    assert_int_equal(iz_store_account_get(f->st, a.id + 100, &g), IZ_ENOTFOUND);
    assert_int_equal(iz_store_account_by_name(f->st, "nobody", &g), IZ_ENOTFOUND);

    /* Upload period: no activation date reads back as "". */
    int64_t id2 = add_account(f, "second");
    assert_int_equal(iz_store_account_get(f->st, id2, &g), 0);
    assert_string_equal(g.activation_date, "");

    iz_account_t bad;
    memset(&bad, 0, sizeof bad);
    strcpy(bad.name, "bad date");
    strcpy(bad.activation_date, "01.03.2024");
    assert_int_equal(iz_store_account_add(f->st, &bad), IZ_EINVAL);
    memset(&bad, 0, sizeof bad);
    assert_int_equal(iz_store_account_add(f->st, &bad), IZ_EINVAL); /* empty name */
    memset(bad.name, 'n', sizeof bad.name);                         /* no room for NUL */
    assert_int_equal(iz_store_account_add(f->st, &bad), IZ_ETOOBIG);
}

static void test_brands(void **state)
{
    fx_t *f = *state;
    int64_t a1 = add_account(f, "one"), a2 = add_account(f, "two");
    iz_brand_t b, g;
    memset(&b, 0, sizeof b);
    b.account_id = a1;
    b.code = 55;
    strcpy(b.name, "Marka");
    strcpy(b.keyword, "MARKA");
    strcpy(b.short_number, "3434");
    strcpy(b.subscriber_number, "08501234567");
    strcpy(b.slug, "marka");
    assert_int_equal(iz_store_brand_add(f->st, &b), 0);
    assert_true(b.id > 0);
    assert_int_equal(iz_store_brand_get(f->st, a1, 55, &g), 0);
    assert_memory_equal(&b, &g, sizeof b);

    /* Tenant scoping: another account does not see the brand. */
    assert_int_equal(iz_store_brand_get(f->st, a2, 55, &g), IZ_ENOTFOUND);
    assert_int_equal(iz_store_brand_get(f->st, a1, 56, &g), IZ_ENOTFOUND);

    /* The consent page finds a brand by its slug alone; its information
     * text starts empty, is kept whole and is bounded. */
    memset(&g, 0, sizeof g);
    assert_int_equal(iz_store_brand_by_slug(f->st, "marka", &g), 0);
    assert_memory_equal(&b, &g, sizeof b);
    assert_int_equal(iz_store_brand_by_slug(f->st, "yok", &g), IZ_ENOTFOUND);
    assert_int_equal(iz_store_brand_by_slug(f->st, "", &g), IZ_EINVAL);
    char *info = calloc(1, IZ_BRAND_INFO_MAX + 1);
    assert_int_equal(iz_store_brand_info_get(f->st, b.id, info, IZ_BRAND_INFO_MAX), 0);
    assert_string_equal(info, "");
    assert_int_equal(iz_store_brand_info_set(f->st, b.id, "Aydınlatma metni\n<b>2. satır</b>"), 0);
    assert_int_equal(iz_store_brand_info_get(f->st, b.id, info, IZ_BRAND_INFO_MAX), 0);
    assert_string_equal(info, "Aydınlatma metni\n<b>2. satır</b>");
    assert_int_equal(iz_store_brand_info_set(f->st, b.id + 100, "x"), IZ_ENOTFOUND);
    memset(info, 'a', IZ_BRAND_INFO_MAX);
    assert_int_equal(iz_store_brand_info_set(f->st, b.id, info), IZ_ETOOBIG);
    free(info);

    /* The page's mode starts LOCAL; IYS needs a template and a VKN. */
    iz_brand_page_t pg = {.iys = true};
    assert_int_equal(iz_store_brand_page_get(f->st, b.id, &pg), 0);
    assert_false(pg.iys);
    assert_string_equal(pg.otp_template, "");
    pg.iys = true;
    assert_int_equal(iz_store_brand_page_set(f->st, b.id, &pg), IZ_EINVAL);
    strcpy(pg.otp_template, "izin-sayfa");
    strcpy(pg.vkn, "0123456789");
    assert_int_equal(iz_store_brand_page_set(f->st, b.id, &pg), IZ_EINVAL);
    strcpy(pg.vkn, "1234567890");
    assert_int_equal(iz_store_brand_page_set(f->st, b.id, &pg), 0);
    assert_int_equal(iz_store_brand_page_set(f->st, b.id + 100, &pg), IZ_ENOTFOUND);
    iz_brand_page_t pg2;
    assert_int_equal(iz_store_brand_page_get(f->st, b.id, &pg2), 0);
    assert_true(pg2.iys);
    assert_string_equal(pg2.otp_template, "izin-sayfa");
    assert_string_equal(pg2.vkn, "1234567890");

    iz_brand_t d = b;
    strcpy(d.slug, "other");
    assert_int_equal(iz_store_brand_add(f->st, &d), IZ_EEXIST); /* same code */
    d = b;
    d.code = 56;
    assert_int_equal(iz_store_brand_add(f->st, &d), IZ_EEXIST); /* same slug */
    d = b;
    d.account_id = a2;
    d.slug[0] = '\0';
    /* An inbound message is routed by its number, then keyword: one brand
     * a 0850 number, one brand a keyword on a short number. */
    assert_int_equal(iz_store_brand_add(f->st, &d), IZ_EEXIST);
    d.subscriber_number[0] = '\0';
    assert_int_equal(iz_store_brand_add(f->st, &d), IZ_EEXIST);
    strcpy(d.keyword, "OTHER");
    assert_int_equal(iz_store_brand_add(f->st, &d), 0); /* same code, other account */
    d.account_id = a1;
    d.code = 57;
    strcpy(d.keyword, "THIRD");
    assert_int_equal(iz_store_brand_add(f->st, &d), 0); /* many brands without a slug */
    assert_int_equal(iz_store_brand_get(f->st, a2, 55, &g), 0);
    assert_int_equal(g.account_id, a2);
    assert_string_equal(g.slug, "");

    d.account_id = a2 + 1000;
    d.code = 1;
    assert_int_equal(iz_store_brand_add(f->st, &d), IZ_ENOTFOUND); /* unknown account */
    d.account_id = a1;
    d.code = 2;
    memset(d.short_number, '1', sizeof d.short_number);
    assert_int_equal(iz_store_brand_add(f->st, &d), IZ_ETOOBIG);
}

static void test_keys(void **state)
{
    fx_t *f = *state;
    int64_t a1 = add_account(f, "one"), a2 = add_account(f, "two");
    const char *h1 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const char *h2 = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";
    int64_t acc = 0;
    assert_int_equal(iz_store_key_add(f->st, a1, h1, "izk_abcd"), 0);
    assert_int_equal(iz_store_key_add(f->st, a2, h2, "izk_efgh"), 0);
    assert_int_equal(iz_store_key_lookup(f->st, h1, &acc), 0);
    assert_int_equal(acc, a1);
    assert_int_equal(iz_store_key_lookup(f->st, h2, &acc), 0);
    assert_int_equal(acc, a2);
    assert_int_equal(iz_store_key_add(f->st, a2, h1, "izk_abcd"), IZ_EEXIST);
    assert_int_equal(iz_store_key_add(f->st, a2 + 50,
                                      "0000000000000000000000000000000000000000"
                                      "000000000000000000000000",
                                      "x"),
                     IZ_ENOTFOUND);
    assert_int_equal(iz_store_key_lookup(f->st,
                                         "0000000000000000000000000000000000000000000000000000"
                                         "000000000000",
                                         &acc),
                     IZ_ENOTFOUND);
    assert_int_equal(iz_store_key_add(f->st, a1, "not-a-hash", "x"), IZ_EINVAL);
    assert_int_equal(iz_store_key_lookup(f->st, "ABC", &acc), IZ_EINVAL);

    /* Only the hash is stored. */
    assert_int_equal(raw_count(f, "SELECT count(*) FROM api_keys WHERE prefix = 'izk_abcd'"), 1);

    /* A revoked key no longer authenticates; another account cannot revoke it. */
    assert_int_equal(iz_store_key_revoke(f->st, a2, h1), IZ_ENOTFOUND);
    assert_int_equal(iz_store_key_revoke(f->st, a1, h1), 0);
    assert_int_equal(iz_store_key_lookup(f->st, h1, &acc), IZ_ENOTFOUND);
    assert_int_equal(iz_store_key_revoke(f->st, a1, h1), IZ_ENOTFOUND);
    assert_int_equal(iz_store_key_lookup(f->st, h2, &acc), 0);
}

/* ---- consents ----------------------------------------------------------- */

static void test_consent_apply_get(void **state)
{
    fx_t *f = *state;
    const char *r = "+905321234567";
    iz_status_t s = IZ_ONAY;
    iz_change_t out;

    assert_int_equal(iz_store_consent_status(f->st, 1, IZ_BIREYSEL, IZ_MESAJ, r, &s), 0);
    assert_int_equal(s, IZ_STATUS_NONE);
    assert_int_equal(iz_store_consent_get(f->st, 1, IZ_BIREYSEL, IZ_MESAJ, r, &out), IZ_ENOTFOUND);
    assert_int_equal(history_len(f, 1, r), 0);

    iz_change_t c1 = mk_change(1, r, IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    strcpy(c1.evidence, "{\"ip\":\"10.0.0.1\"}");
    apply_ok(f, &c1);
    assert_true(c1.creation_ms > 0);
    iz_change_t c2 = mk_change(1, r, IZ_RET, 1700000100, IZ_IYS_PENDING);
    c2.creation_ms = 1700000100123;
    c2.source = IZ_HS_MESAJ;
    c2.origin = IZ_ORIGIN_SMS;
    apply_ok(f, &c2);
    assert_true(c2.id > c1.id);
    assert_int_equal(c2.creation_ms, 1700000100123);

    assert_int_equal(iz_store_consent_status(f->st, 1, IZ_BIREYSEL, IZ_MESAJ, r, &s), 0);
    assert_int_equal(s, IZ_RET);
    assert_int_equal(iz_store_consent_get(f->st, 1, IZ_BIREYSEL, IZ_MESAJ, r, &out), 0);
    assert_memory_equal(&out, &c2, sizeof out);

    iz_change_t *list = NULL;
    size_t n = 0;
    assert_int_equal(iz_store_consent_history(f->st, 1, IZ_BIREYSEL, IZ_MESAJ, r, &list, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(&list[0], &c2, sizeof c2); /* newest first */
    assert_memory_equal(&list[1], &c1, sizeof c1);
    free(list);

    /* The key is (brand, recipient, rtype, type): neighbours are separate. */
    assert_int_equal(iz_store_consent_status(f->st, 2, IZ_BIREYSEL, IZ_MESAJ, r, &s), 0);
    assert_int_equal(s, IZ_STATUS_NONE);
    assert_int_equal(iz_store_consent_status(f->st, 1, IZ_TACIR, IZ_MESAJ, r, &s), 0);
    assert_int_equal(s, IZ_STATUS_NONE);
    assert_int_equal(iz_store_consent_status(f->st, 1, IZ_BIREYSEL, IZ_ARAMA, r, &s), 0);
    assert_int_equal(s, IZ_STATUS_NONE);

    /* A TACIR record without source and consent date round-trips as such. */
    iz_change_t t = mk_change(1, r, IZ_ONAY, 0, IZ_IYS_PENDING);
    t.rtype = IZ_TACIR;
    t.source = IZ_SOURCE_NONE;
    apply_ok(f, &t);
    assert_int_equal(iz_store_consent_get(f->st, 1, IZ_TACIR, IZ_MESAJ, r, &out), 0);
    assert_int_equal(out.source, IZ_SOURCE_NONE);
    assert_int_equal(out.consent_date, 0);
    assert_int_equal(out.rtype, IZ_TACIR);

    /* Bad enums are refused before anything is written. */
    iz_change_t bad = mk_change(1, r, IZ_STATUS_NONE, 1700000000, IZ_IYS_PENDING);
    assert_int_equal(iz_store_consent_apply(f->st, &bad, NULL, NULL), IZ_EINVAL);
    bad = mk_change(1, r, IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    bad.source = (iz_source_t)999;
    assert_int_equal(iz_store_consent_apply(f->st, &bad, NULL, NULL), IZ_EINVAL);
    bad = mk_change(1, "", IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    assert_int_equal(iz_store_consent_apply(f->st, &bad, NULL, NULL), IZ_EINVAL);
    assert_int_equal(iz_store_consent_get(f->st, 1, IZ_RTYPE_NONE, IZ_MESAJ, r, &out), IZ_EINVAL);
    verify_ok(f);
}

typedef struct rule_probe {
    int calls;
    iz_current_t seen;
    int ret;
    iz_iys_state_t set_state;
    const char *set_warning;
} rule_probe_t;

static int probe_rule(void *ctx, const iz_current_t *cur, iz_change_t *chg)
{
    rule_probe_t *p = ctx;
    p->calls++;
    p->seen = *cur;
    if (p->ret) return p->ret;
    if (p->set_state) chg->iys_state = p->set_state;
    if (p->set_warning) snprintf(chg->warning, sizeof chg->warning, "%s", p->set_warning);
    return 0;
}

static int move_rule(void *ctx, const iz_current_t *cur, iz_change_t *chg)
{
    (void)ctx;
    (void)cur;
    chg->brand_id++;
    return 0;
}

static void test_rule_callback(void **state)
{
    fx_t *f = *state;
    const char *r = "+905551112233";
    rule_probe_t p = {0};

    /* First change: the rule sees no record; it keeps a RET locally. */
    iz_change_t c = mk_change(1, r, IZ_RET, 1700000000, IZ_IYS_PENDING);
    p.set_state = IZ_IYS_LOCAL;
    p.set_warning = "H175";
    assert_int_equal(iz_store_consent_apply(f->st, &c, probe_rule, &p), 0);
    assert_int_equal(p.calls, 1);
    assert_false(p.seen.exists);
    assert_int_equal(c.iys_state, IZ_IYS_LOCAL);
    assert_int_equal(outbox(f), 0); /* LOCAL is not sent */
    iz_change_t out;
    assert_int_equal(iz_store_consent_get(f->st, 1, IZ_BIREYSEL, IZ_MESAJ, r, &out), 0);
    assert_string_equal(out.warning, "H175");
    assert_int_equal(out.iys_state, IZ_IYS_LOCAL);

    /* A refusing rule: nothing written, its code returned, state unchanged. */
    memset(&p, 0, sizeof p);
    p.ret = IZ_ERULE;
    iz_change_t d = mk_change(1, r, IZ_ONAY, 1700000500, IZ_IYS_PENDING);
    assert_int_equal(iz_store_consent_apply(f->st, &d, probe_rule, &p), IZ_ERULE);
    assert_int_equal(p.calls, 1);
    assert_true(p.seen.exists);
    assert_int_equal(p.seen.status, IZ_RET);
    assert_int_equal(p.seen.source, IZ_HS_WEB);
    assert_int_equal(p.seen.consent_date, 1700000000);
    assert_int_equal(d.id, 0);
    assert_int_equal(history_len(f, 1, r), 1);
    iz_status_t s;
    assert_int_equal(iz_store_consent_status(f->st, 1, IZ_BIREYSEL, IZ_MESAJ, r, &s), 0);
    assert_int_equal(s, IZ_RET);
    assert_int_equal(outbox(f), 0);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_log"), 1);

    /* The store works on after the aborted transaction, chain intact. */
    memset(&p, 0, sizeof p);
    apply_ok(f, &d);
    assert_int_equal(outbox(f), 1);
    assert_int_equal(history_len(f, 1, r), 2);

    /* A rule may not move the change to another key. */
    iz_change_t e = mk_change(1, r, IZ_RET, 1700000900, IZ_IYS_PENDING);
    assert_int_equal(iz_store_consent_apply(f->st, &e, move_rule, NULL), IZ_EINVAL);
    assert_int_equal(history_len(f, 1, r), 2);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_log"), 2);
    verify_ok(f);
}

static void test_repeat(void **state)
{
    fx_t *f = *state;
    const char *r = "+905321110000";
    iz_change_t c1 = mk_change(7, r, IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    strcpy(c1.evidence, "{\"first\":true}");
    apply_ok(f, &c1);
    iz_change_t c2 = mk_change(7, r, IZ_RET, 1700000100, IZ_IYS_PENDING);
    apply_ok(f, &c2);
    assert_int_equal(outbox(f), 2);

    /* The first change again (even though it is no longer current). */
    rule_probe_t p = {0};
    iz_change_t again = mk_change(7, r, IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    again.origin = IZ_ORIGIN_BULK;
    strcpy(again.evidence, "{\"second\":true}");
    assert_int_equal(iz_store_consent_apply(f->st, &again, probe_rule, &p), IZ_REPEAT);
    assert_int_equal(p.calls, 0); /* decided before the rule */
    assert_memory_equal(&again, &c1, sizeof c1);
    assert_int_equal(history_len(f, 7, r), 2);
    assert_int_equal(outbox(f), 2);
    iz_status_t s;
    assert_int_equal(iz_store_consent_status(f->st, 7, IZ_BIREYSEL, IZ_MESAJ, r, &s), 0);
    assert_int_equal(s, IZ_RET);

    /* Different source or date is not a repeat. */
    iz_change_t other = mk_change(7, r, IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    other.source = IZ_HS_MOBIL;
    apply_ok(f, &other);
    assert_int_equal(history_len(f, 7, r), 3);

    /* Repeat of a TACIR change without source/date (NULL columns). */
    iz_change_t t = mk_change(7, r, IZ_ONAY, 0, IZ_IYS_PENDING);
    t.rtype = IZ_TACIR;
    t.source = IZ_SOURCE_NONE;
    apply_ok(f, &t);
    iz_change_t t2 = t;
    t2.id = 0;
    assert_int_equal(iz_store_consent_apply(f->st, &t2, NULL, NULL), IZ_REPEAT);
    assert_int_equal(t2.id, t.id);
    verify_ok(f);
}

static void test_outbox_pending_only(void **state)
{
    fx_t *f = *state;
    static const iz_iys_state_t states[] = {IZ_IYS_NONE,     IZ_IYS_SENT,    IZ_IYS_ACCEPTED,
                                            IZ_IYS_REJECTED, IZ_IYS_LOCAL,   IZ_IYS_PENDING,
                                            IZ_IYS_PENDING,  IZ_IYS_ACCEPTED};
    for (size_t i = 0; i < IZ_ARRAY_LEN(states); i++) {
        char r[32];
        snprintf(r, sizeof r, "+90532000%04zu", i);
        iz_change_t c = mk_change(3, r, IZ_ONAY, 1700000000, states[i]);
        c.origin = states[i] == IZ_IYS_ACCEPTED ? IZ_ORIGIN_IYS : IZ_ORIGIN_API;
        apply_ok(f, &c);
        iz_change_t out;
        assert_int_equal(iz_store_consent_get(f->st, 3, IZ_BIREYSEL, IZ_MESAJ, r, &out), 0);
        assert_int_equal(out.iys_state, states[i]);
    }
    assert_int_equal(outbox(f), 2);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM outbox o JOIN consent_log l"
                                  " ON l.id = o.log_id WHERE l.iys_state = 'PENDING'"),
                     2);
}

/* ---- hash chain --------------------------------------------------------- */

static void add_three(fx_t *f)
{
    iz_change_t c = mk_change(1, "+905320000001", IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    apply_ok(f, &c);
    c = mk_change(1, "+905320000002", IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    strcpy(c.evidence, "{\"mo\":\"EVET\"}");
    apply_ok(f, &c);
    c = mk_change(1, "+905320000003", IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    apply_ok(f, &c);
}

static void test_chain_empty_and_intact(void **state)
{
    fx_t *f = *state;
    verify_ok(f);
    add_three(f);
    verify_ok(f);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_log WHERE prev_hash = ''"), 1);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_log WHERE length(hash) = 64"), 3);
    /* Each row's prev_hash is the hash of the row before it. */
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_log a JOIN consent_log b"
                                  " ON b.id = a.id + 1 WHERE b.prev_hash = a.hash"),
                     2);
}

static void test_chain_tamper_update(void **state)
{
    fx_t *f = *state;
    add_three(f);
    /* The append-only trigger stops a plain update or delete... */
    assert_int_not_equal(raw_sql(f, "UPDATE consent_log SET status = 'RET' WHERE id = 2"),
                         SQLITE_OK);
    assert_int_not_equal(raw_sql(f, "DELETE FROM consent_log WHERE id = 2"), SQLITE_OK);
    verify_ok(f);
    /* ...and the chain catches one made after removing the trigger. */
    assert_int_equal(raw_sql(f, eng("DROP TRIGGER consent_log_no_update;"
                                    "UPDATE consent_log SET status = 'RET' WHERE id = 2",
                                    "DROP TRIGGER consent_log_no_update ON consent_log;"
                                    "UPDATE consent_log SET status = 'RET' WHERE id = 2")),
                     SQLITE_OK);
    int64_t bad = 0;
    assert_int_equal(iz_store_verify_log(f->st, &bad), IZ_ERULE);
    assert_int_equal(bad, 2);
}

static void test_chain_tamper_evidence_and_delete(void **state)
{
    fx_t *f = *state;
    add_three(f);
    assert_int_equal(raw_sql(f, eng("DROP TRIGGER consent_log_no_update;"
                                    "UPDATE consent_log SET evidence = '{}' WHERE id = 2",
                                    "DROP TRIGGER consent_log_no_update ON consent_log;"
                                    "UPDATE consent_log SET evidence = '{}' WHERE id = 2")),
                     SQLITE_OK);
    int64_t bad = 0;
    assert_int_equal(iz_store_verify_log(f->st, &bad), IZ_ERULE);
    assert_int_equal(bad, 2);
    assert_int_equal(raw_sql(f, "UPDATE consent_log SET evidence = '{\"mo\":\"EVET\"}'"
                                " WHERE id = 2"),
                     SQLITE_OK);
    verify_ok(f);

    /* A missing row breaks the link of the row after it. */
    assert_int_equal(raw_sql(f, eng("DROP TRIGGER consent_log_no_delete;"
                                    "PRAGMA foreign_keys = OFF;"
                                    "DELETE FROM consent_log WHERE id = 2",
                                    "DROP TRIGGER consent_log_no_delete ON consent_log;"
                                    "SET session_replication_role = replica;"
                                    "DELETE FROM consent_log WHERE id = 2")),
                     SQLITE_OK);
    assert_int_equal(iz_store_verify_log(f->st, &bad), IZ_ERULE);
    assert_int_equal(bad, 3);
}

static void test_iys_columns_may_change(void **state)
{
    fx_t *f = *state;
    add_three(f);
    /* The sync engine updates the iys_* columns; the chain does not cover them. */
    assert_int_equal(raw_sql(f, "UPDATE consent_log SET iys_state = 'ACCEPTED',"
                                " iys_txid = 'tx-1' WHERE id = 2"),
                     SQLITE_OK);
    verify_ok(f);
    iz_change_t out;
    assert_int_equal(iz_store_consent_get(f->st, 1, IZ_BIREYSEL, IZ_MESAJ, "+905320000002", &out),
                     0);
    assert_int_equal(out.iys_state, IZ_IYS_ACCEPTED);
    assert_string_equal(out.iys_txid, "tx-1");
}

/* ---- persistence and bounds --------------------------------------------- */

static void test_persistence(void **state)
{
    fx_t *f = *state;
    int64_t acc = add_account(f, "persist");
    int64_t brand = add_brand(f, acc, 9, "p");
    iz_change_t c1 = mk_change(brand, "+905320000009", IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    apply_ok(f, &c1);
    fx_reopen(f);
    iz_brand_t b;
    assert_int_equal(iz_store_brand_get(f->st, acc, 9, &b), 0);
    assert_int_equal(b.id, brand);
    iz_change_t out;
    assert_int_equal(
        iz_store_consent_get(f->st, brand, IZ_BIREYSEL, IZ_MESAJ, "+905320000009", &out), 0);
    assert_memory_equal(&out, &c1, sizeof c1);
    assert_int_equal(outbox(f), 1);

    /* The chain continues across the reopen. */
    iz_change_t c2 = mk_change(brand, "+905320000009", IZ_RET, 1700000100, IZ_IYS_PENDING);
    apply_ok(f, &c2);
    assert_true(c2.id > c1.id);
    fx_reopen(f);
    assert_int_equal(history_len(f, brand, "+905320000009"), 2);
    verify_ok(f);
}

static void test_long_strings(void **state)
{
    fx_t *f = *state;
    iz_change_t c = mk_change(1, "x", IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    c.type = IZ_EPOSTA;
    /* The longest strings that fit round-trip whole. */
    memset(c.recipient, 'r', sizeof c.recipient - 1);
    c.recipient[sizeof c.recipient - 1] = '\0';
    for (size_t i = 0; i < sizeof c.evidence - 1; i++)
        c.evidence[i] = (char)('a' + i % 26);
    c.evidence[sizeof c.evidence - 1] = '\0';
    const char *head = "{\"t\":\"ç|ş\"";
    memcpy(c.evidence, head, strlen(head));
    memset(c.iys_txid, 't', sizeof c.iys_txid - 1);
    memset(c.iys_error, 'e', sizeof c.iys_error - 1);
    strcpy(c.warning, "H175");
    c.iys_state = IZ_IYS_REJECTED;
    apply_ok(f, &c);
    iz_change_t out;
    assert_int_equal(iz_store_consent_get(f->st, 1, IZ_BIREYSEL, IZ_EPOSTA, c.recipient, &out), 0);
    assert_memory_equal(&out, &c, sizeof c);
    verify_ok(f);

    /* One byte more (no room for the NUL) is refused, not truncated. */
    iz_change_t big = c;
    big.consent_date++;
    memset(big.evidence, 'x', sizeof big.evidence);
    assert_int_equal(iz_store_consent_apply(f->st, &big, NULL, NULL), IZ_ETOOBIG);
    big = c;
    big.consent_date++;
    memset(big.recipient, 'r', sizeof big.recipient);
    assert_int_equal(iz_store_consent_apply(f->st, &big, NULL, NULL), IZ_ETOOBIG);
    big = c;
    big.consent_date++;
    memset(big.warning, 'w', sizeof big.warning);
    assert_int_equal(iz_store_consent_apply(f->st, &big, NULL, NULL), IZ_ETOOBIG);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_log"), 1);

    /* Lookups with an over-long recipient find nothing instead of failing. */
    char longr[400];
    memset(longr, 'r', sizeof longr - 1);
    longr[sizeof longr - 1] = '\0';
    iz_status_t s = IZ_ONAY;
    assert_int_equal(iz_store_consent_status(f->st, 1, IZ_BIREYSEL, IZ_EPOSTA, longr, &s), 0);
    assert_int_equal(s, IZ_STATUS_NONE);
    assert_int_equal(iz_store_consent_get(f->st, 1, IZ_BIREYSEL, IZ_EPOSTA, longr, &out),
                     IZ_ENOTFOUND);

    /* A value longer than the struct buffer, written by hand, is cut safely. */
    assert_int_equal(
        raw_sql(f, eng("UPDATE consent_log SET iys_error = replace(hex(zeroblob(250)), '0', 'E')",
                       "UPDATE consent_log SET iys_error = repeat('E', 500)")),
        SQLITE_OK);
    assert_int_equal(iz_store_consent_get(f->st, 1, IZ_BIREYSEL, IZ_EPOSTA, c.recipient, &out), 0);
    assert_int_equal(strlen(out.iys_error), sizeof out.iys_error - 1);
}

/* ---- threads ------------------------------------------------------------ */

#define N_THREADS 4
#define N_PER_THREAD 500

typedef struct worker {
    iz_store_t *st;
    int n;
    int failures;
} worker_t;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < N_PER_THREAD; i++) {
        char r[32];
        snprintf(r, sizeof r, "+90532%d%06d", w->n, i);
        iz_change_t c = mk_change(100 + w->n, r, IZ_ONAY, 1700000000 + i, IZ_IYS_PENDING);
        if (iz_store_consent_apply(w->st, &c, NULL, NULL) != 0 || c.id <= 0) w->failures++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    fx_t *f = *state;
    pthread_t t[N_THREADS];
    worker_t w[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (worker_t){.st = f->st, .n = i};
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
    for (int n = 0; n < N_THREADS; n++) {
        for (int i = 0; i < N_PER_THREAD; i++) {
            char r[32];
            iz_status_t s = IZ_STATUS_NONE;
            snprintf(r, sizeof r, "+90532%d%06d", n, i);
            assert_int_equal(iz_store_consent_status(f->st, 100 + n, IZ_BIREYSEL, IZ_MESAJ, r, &s),
                             0);
            assert_int_equal(s, IZ_ONAY);
        }
    }
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_log"), N_THREADS * N_PER_THREAD);
    assert_int_equal(outbox(f), N_THREADS * N_PER_THREAD);
    verify_ok(f);
}

/* Group commit: changes of many threads share transactions, yet a change
 * refused by its rule, or a repeat, touches nothing of the others in its
 * batch, and the commit hook sees every written change once, in log order. */
typedef struct hook_seen {
    pthread_mutex_t mu;
    int64_t last_id;
    int n, out_of_order;
} hook_seen_t;

static void count_hook(void *ctx, const iz_change_t *c)
{
    hook_seen_t *h = ctx;
    pthread_mutex_lock(&h->mu);
    if (c->id <= h->last_id) h->out_of_order++;
    h->last_id = c->id;
    h->n++;
    pthread_mutex_unlock(&h->mu);
}

static int refuse_odd(void *ctx, const iz_current_t *cur, iz_change_t *chg)
{
    (void)ctx;
    (void)cur;
    return chg->recipient[strlen(chg->recipient) - 1] % 2 ? IZ_ERULE : 0;
}

typedef struct gworker {
    iz_store_t *st;
    int n, refused, written, repeats, failures;
} gworker_t;

static void *gworker_main(void *arg)
{
    gworker_t *w = arg;
    for (int i = 0; i < 200; i++) {
        char r[32];
        snprintf(r, sizeof r, "+90533%d%06d", w->n, i % 150); /* 50 repeats */
        iz_change_t c = mk_change(200 + w->n, r, IZ_ONAY, 1700000000, IZ_IYS_PENDING);
        int rc = iz_store_consent_apply(w->st, &c, refuse_odd, NULL);
        if (rc == IZ_ERULE)
            w->refused++;
        else if (rc == IZ_REPEAT)
            w->repeats++;
        else if (rc == 0 && c.id > 0)
            w->written++;
        else
            w->failures++;
    }
    return NULL;
}

static void test_group_commit(void **state)
{
    fx_t *f = *state;
    hook_seen_t h = {.mu = PTHREAD_MUTEX_INITIALIZER};
    assert_int_equal(iz_store_subscribe(f->st, count_hook, &h), 0);
    enum { T = 8 };
    pthread_t t[T];
    gworker_t w[T];
    for (int i = 0; i < T; i++) {
        w[i] = (gworker_t){.st = f->st, .n = i};
        assert_int_equal(pthread_create(&t[i], NULL, gworker_main, &w[i]), 0);
    }
    int written = 0;
    for (int i = 0; i < T; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
        assert_int_equal(w[i].written, 75);  /* the even ones of 150 */
        assert_int_equal(w[i].refused, 100); /* odd ones, every time */
        assert_int_equal(w[i].repeats, 25);  /* even ones sent again */
        written += w[i].written;
    }
    iz_store_unsubscribe(f->st, count_hook, &h);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_log"), written);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_state"), written);
    assert_int_equal(outbox(f), written);
    assert_int_equal(h.n, written);
    assert_int_equal(h.out_of_order, 0);
    verify_ok(f);
}

/* ---- crash ---------------------------------------------------------------- */

/* A child applies changes and reports each acknowledged id on a pipe; it is
 * killed with SIGKILL mid-stream. Every acknowledged change must be in the
 * store afterwards and the chain must verify. */
static void test_sigkill(void **state)
{
    fx_t *f = *state;
    iz_store_close(f->st);
    f->st = NULL;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        iz_store_t *st = NULL;
        const char *err = NULL;
        if (iz_test_store_open(f->dir, &st, &err) != 0) _exit(2);
        for (int i = 0;; i++) {
            char r[32];
            snprintf(r, sizeof r, "+90533%07d", i);
            iz_change_t c = mk_change(1, r, IZ_ONAY, 1700000000, IZ_IYS_PENDING);
            if (iz_store_consent_apply(st, &c, NULL, NULL) != 0) _exit(3);
            if (write(fds[1], &i, sizeof i) != (ssize_t)sizeof i) _exit(4);
        }
    }
    close(fds[1]);
    int last = -1, got;
    while (last < 300 && read(fds[0], &got, sizeof got) == (ssize_t)sizeof got)
        last = got;
    assert_int_equal(kill(pid, SIGKILL), 0);
    while (read(fds[0], &got, sizeof got) == (ssize_t)sizeof got)
        last = got; /* acknowledged before the kill landed */
    close(fds[0]);
    int wst;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_true(WIFSIGNALED(wst));
    assert_true(last >= 300);

    fx_reopen(f);
    for (int i = 0; i <= last; i++) {
        char r[32];
        iz_status_t s = IZ_STATUS_NONE;
        snprintf(r, sizeof r, "+90533%07d", i);
        assert_int_equal(iz_store_consent_status(f->st, 1, IZ_BIREYSEL, IZ_MESAJ, r, &s), 0);
        assert_int_equal(s, IZ_ONAY);
    }
    verify_ok(f);
    int64_t n = 0;
    assert_int_equal(iz_store_outbox_count(f->st, &n), 0);
    assert_true(n >= last + 1 && n <= last + 2);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_log"), n);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_state"), n);
    /* The store takes writes after the crash, the chain continuing. */
    iz_change_t c = mk_change(1, "+905339999999", IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    apply_ok(f, &c);
    verify_ok(f);
}

/* ---- bulk loads: log segments --------------------------------------------- */

#define LOAD_JOB "0123456789abcdef0123456789abcdef"

/* A rule for a load: refuses recipients ending in 9 when the key has no
 * record, sends the others to İYS (PENDING). */
static int load_rule(void *ctx, const iz_current_t *cur, iz_change_t *chg)
{
    (void)ctx;
    size_t n = strlen(chg->recipient);
    if (!cur->exists && chg->recipient[n - 1] == '9') return IZ_ERULE;
    chg->iys_state = IZ_IYS_PENDING;
    return 0;
}

typedef struct load_batch {
    iz_change_t *c;
    iz_store_apply_t *it;
    int64_t *lines;
    size_t n;
} load_batch_t;

/* n BULK changes of brand for +90555000000i, i from first, on lines 2.. */
static load_batch_t mk_load(int64_t brand, size_t first, size_t n)
{
    load_batch_t b = {.c = calloc(n, sizeof(iz_change_t)),
                      .it = calloc(n, sizeof(iz_store_apply_t)),
                      .lines = calloc(n, sizeof(int64_t)),
                      .n = n};
    assert_non_null(b.c);
    for (size_t i = 0; i < n; i++) {
        char r[32];
        snprintf(r, sizeof r, "+9055500%05zu", first + i);
        b.c[i] = mk_change(brand, r, IZ_ONAY, 1700000000 + (int64_t)i, IZ_IYS_NONE);
        b.c[i].origin = IZ_ORIGIN_BULK;
        b.lines[i] = (int64_t)(i + 2);
        snprintf(b.c[i].evidence, sizeof b.c[i].evidence, "{\"job\":\"%s\",\"line\":%" PRId64 "}",
                 LOAD_JOB, b.lines[i]);
        b.it[i] = (iz_store_apply_t){.chg = &b.c[i], .rule = load_rule};
    }
    return b;
}

static void free_load(load_batch_t *b)
{
    free(b->c);
    free(b->it);
    free(b->lines);
}

static int64_t load_brand(fx_t *f)
{
    int64_t acc = add_account(f, "loader");
    return add_brand(f, acc, 700200, "loader");
}

static void count_sub(void *ctx, const iz_change_t *chg)
{
    (void)chg;
    (*(int *)ctx)++;
}

/* New keys go into segments of up to 1000 entries; every reader sees them
 * as log rows. */
static void test_load_segments(void **state)
{
    fx_t *f = *state;
    int64_t brand = load_brand(f);
    iz_change_t before = mk_change(brand, "+905559990000", IZ_ONAY, 1700000000, IZ_IYS_LOCAL);
    apply_ok(f, &before);
    int published = 0;
    assert_int_equal(iz_store_subscribe(f->st, count_sub, &published), 0);
    load_batch_t b = mk_load(brand, 0, 2500);
    assert_int_equal(iz_store_consent_load_then(f->st, LOAD_JOB, b.lines, b.it, b.n, NULL, NULL), 0);
    iz_store_unsubscribe(f->st, count_sub, &published);
    size_t refused = 0;
    for (size_t i = 0; i < b.n; i++) {
        if (b.c[i].recipient[strlen(b.c[i].recipient) - 1] == '9') {
            assert_int_equal(b.it[i].rc, IZ_ERULE);
            refused++;
            continue;
        }
        assert_int_equal(b.it[i].rc, 0);
        assert_true(b.c[i].id > before.id);
        assert_int_equal(b.c[i].iys_state, IZ_IYS_PENDING);
    }
    assert_int_equal(refused, 250);
    assert_int_equal(published, 2250);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM log_segments"), 3);
    assert_int_equal(raw_count(f, "SELECT sum(count) FROM log_segments"), 2250);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_log"), 1);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_state"), 2251);
    assert_int_equal(outbox(f), 2250);
    verify_ok(f);

    /* The current change and the history of a loaded key. */
    iz_change_t got;
    assert_int_equal(
        iz_store_consent_get(f->st, brand, IZ_BIREYSEL, IZ_MESAJ, b.c[1234].recipient, &got), 0);
    assert_int_equal(got.id, b.c[1234].id);
    assert_string_equal(got.recipient, b.c[1234].recipient);
    assert_int_equal(got.status, IZ_ONAY);
    assert_int_equal(got.source, IZ_HS_WEB);
    assert_int_equal(got.consent_date, 1700000000 + 1234);
    assert_int_equal(got.origin, IZ_ORIGIN_BULK);
    assert_int_equal(got.iys_state, IZ_IYS_PENDING);
    assert_string_equal(got.evidence, b.c[1234].evidence);
    assert_int_equal(history_len(f, brand, b.c[1234].recipient), 1);

    /* An API change after the load: a log row after the segments; the
     * history has both, newest first; the chain holds. */
    iz_change_t later = mk_change(brand, b.c[1234].recipient, IZ_RET, 1800000000, IZ_IYS_PENDING);
    apply_ok(f, &later);
    assert_true(later.id > b.c[b.n - 1].id);
    iz_change_t *h = NULL;
    size_t hn = 0;
    assert_int_equal(iz_store_consent_history(f->st, brand, IZ_BIREYSEL, IZ_MESAJ,
                                              b.c[1234].recipient, &h, &hn),
                     0);
    assert_int_equal(hn, 2);
    assert_int_equal(h[0].id, later.id);
    assert_int_equal(h[1].id, b.c[1234].id);
    free(h);
    verify_ok(f);

    /* The same change again is a repeat of the segment's entry. */
    iz_change_t again = b.c[10];
    again.id = 0;
    again.iys_state = IZ_IYS_PENDING;
    again.creation_ms = 0;
    assert_int_equal(iz_store_consent_apply(f->st, &again, NULL, NULL), IZ_REPEAT);
    assert_int_equal(again.id, b.c[10].id);

    /* The feed: rows and entries in one id order, from inside a segment. */
    iz_change_t *feed = NULL;
    size_t fn = 0;
    assert_int_equal(iz_store_changes(f->st, brand, b.c[500].id, 100000, &feed, &fn), 0);
    assert_int_equal(fn, 1999 - 200 + 1); /* the entries after #500 (200 refused), the RET */
    for (size_t i = 1; i < fn; i++)
        assert_true(feed[i].id > feed[i - 1].id);
    assert_int_equal(feed[fn - 1].id, later.id);
    free(feed);
    assert_int_equal(iz_store_changes(f->st, brand, 0, 10, &feed, &fn), 0);
    assert_int_equal(fn, 10);
    assert_int_equal(feed[0].id, before.id);
    assert_int_equal(feed[1].id, b.c[0].id);
    free(feed);
    free_load(&b);
}

/* What the gap commits: through a second connection, as another process
 * (izin import) would, an ordinary change and then a load after it. */
typedef struct gap_ctx {
    fx_t *f;
    int64_t brand;
    int64_t log_id;
    bool done;
} gap_ctx_t;

static void gap_commit(void *ctx)
{
    gap_ctx_t *g = ctx;
    if (g->done) return;
    g->done = true;
    iz_store_t *other = NULL;
    const char *err = NULL;
    assert_int_equal(iz_test_store_open(g->f->dir, &other, &err), 0);
    iz_change_t c = mk_change(g->brand, "+905551112233", IZ_ONAY, 1700000000, IZ_IYS_LOCAL);
    assert_int_equal(iz_store_consent_apply(other, &c, NULL, NULL), 0);
    g->log_id = c.id;
    load_batch_t b = mk_load(g->brand, 0, 20);
    assert_int_equal(iz_store_consent_load_then(other, LOAD_JOB, b.lines, b.it, b.n, NULL, NULL),
                     0);
    assert_true(b.c[0].id > c.id);
    free_load(&b);
    iz_store_close(other);
}

/* A reader that moves a cursor over iz_store_changes (webhooks, a feed's
 * client) gets every change when another process commits a log row and
 * then a segment while it reads: the rows and the segments are read in
 * one snapshot, so it never sees the segment without the row before it. */
static void test_changes_one_snapshot(void **state)
{
    fx_t *f = *state;
    int64_t brand = load_brand(f);
    iz_change_t first = mk_change(brand, "+905559990000", IZ_ONAY, 1700000000, IZ_IYS_LOCAL);
    apply_ok(f, &first);
    gap_ctx_t g = {.f = f, .brand = brand};
    iz__sq_changes_gap_ctx = &g;
    iz__sq_changes_gap = gap_commit;
    int64_t cursor = first.id;
    size_t seen = 0;
    bool saw_row = false;
    for (int round = 0; round < 3; round++) {
        iz_change_t *l = NULL;
        size_t n = 0;
        assert_int_equal(iz_store_changes(f->st, brand, cursor, 1000, &l, &n), 0);
        for (size_t i = 0; i < n; i++) {
            saw_row = saw_row || l[i].id == g.log_id;
            cursor = l[i].id;
        }
        seen += n;
        free(l);
    }
    iz__sq_changes_gap = NULL;
    iz__sq_changes_gap_ctx = NULL;
    assert_true(g.done);
    assert_true(saw_row);
    assert_int_equal(seen, 1 + 18); /* the row, the load's 20 less its 2 refused (…09, …19) */
}

/* The dashboard's figures (stat_state) agree with the state rows after
 * a load (counted by the load itself, a group taken back and done one by
 * one included) and after ordinary changes (counted by the triggers). */
static int64_t stat_disagree(const fx_t *f)
{
    return raw_count(f, "SELECT count(*) FROM ("
                        " SELECT brand_id, type, rtype, status, coalesce(source, ''), count(*)"
                        " FROM consent_state GROUP BY 1, 2, 3, 4, 5"
                        " EXCEPT SELECT * FROM stat_state WHERE n <> 0) AS d") +
           raw_count(f, "SELECT count(*) FROM ("
                        " SELECT * FROM stat_state WHERE n <> 0 EXCEPT"
                        " SELECT brand_id, type, rtype, status, coalesce(source, ''), count(*)"
                        " FROM consent_state GROUP BY 1, 2, 3, 4, 5) AS d");
}

/* A PostgreSQL database that orders text by a language's rules is refused
 * (the store's keys, pages and export order are by bytes), naming the way
 * out. (SQLite orders by bytes: nothing to check there.) */
static void test_pg_collation_refused(void **state)
{
    (void)state;
    if (!iz_test_pg()) {
        print_message("PostgreSQL only: a database's collation\n");
        skip();
    }
    PGconn *c = PQconnectdb(iz_test_pg());
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQclear(PQexec(c, "DROP DATABASE IF EXISTS t_icu_tr"));
    PGresult *r = PQexec(c, "CREATE DATABASE t_icu_tr TEMPLATE template0 LOCALE_PROVIDER icu"
                            " ICU_LOCALE 'tr'");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
    char url[512];
    snprintf(url, sizeof url, "%s", iz_test_pg());
    char *slash = strstr(url, ":///");
    assert_non_null(slash);
    char *q = strchr(slash + 4, '?');
    char rest[256];
    snprintf(rest, sizeof rest, "%s", q ? q : "");
    snprintf(slash + 4, sizeof url - (size_t)(slash + 4 - url), "t_icu_tr%s", rest);
    iz_store_opts_t so = {.secret_key_hex = IZ_TEST_PG_KEY};
    iz_store_t *st = NULL;
    const char *err = NULL;
    assert_int_equal(iz_store_open(url, &so, &st, &err), IZ_EUNSUPPORTED);
    assert_null(st);
    assert_non_null(strstr(err, "collation"));
    assert_non_null(strstr(err, "--locale=C.UTF-8"));
}

/* The cluster's İYS window (iys/budget.h's gate): cap starts a window,
 * counted across two connections as two nodes would. */
static void test_budget_window(void **state)
{
    fx_t *f = *state;
    iz_store_t *other = NULL;
    const char *err = NULL;
    assert_int_equal(iz_test_store_open(f->dir, &other, &err), 0);
    int64_t wait = -1;
    const char *url = "https://api.iys.org.tr";
    for (int i = 0; i < 3; i++) {
        assert_int_equal(iz_store_budget_start(i % 2 ? other : f->st, url, 3, 400, &wait), 0);
        assert_int_equal(wait, 0);
    }
    /* the fourth waits, on either node, for the oldest to leave */
    assert_int_equal(iz_store_budget_start(other, url, 3, 400, &wait), 0);
    assert_true(wait > 0 && wait <= 400);
    assert_int_equal(iz_store_budget_start(f->st, url, 3, 400, &wait), 0);
    assert_true(wait > 0 && wait <= 400);
    /* another URL has a window of its own */
    assert_int_equal(iz_store_budget_start(f->st, "https://other", 3, 400, &wait), 0);
    assert_int_equal(wait, 0);
    usleep(450 * 1000);
    assert_int_equal(iz_store_budget_start(other, url, 3, 400, &wait), 0);
    assert_int_equal(wait, 0);
    assert_int_equal(iz_store_budget_start(f->st, url, 0, 400, &wait), IZ_EINVAL);
    iz_store_close(other);
}

/* Another node holding the window's row while a start is asked for. */
typedef struct holder {
    const char *dir;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool holding;
    int64_t released_ms;
} holder_t;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *holder_main(void *arg)
{
    holder_t *h = arg;
    char loc[512];
    if (iz_test_store_loc(h->dir, loc, sizeof loc) != 0) return NULL;
    PGconn *pc = NULL;
    sqlite3 *lite = NULL;
    bool ok;
    if (iz_test_pg()) {
        pc = PQconnectdb(loc);
        PGresult *r = PQexec(pc, "BEGIN; SELECT value FROM meta WHERE key = "
                                 "'iys_budget https://api.iys.org.tr' FOR UPDATE");
        ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
        PQclear(r);
    } else {
        char db[600];
        snprintf(db, sizeof db, "%s/izin.db", h->dir);
        ok = sqlite3_open(db, &lite) == SQLITE_OK &&
             sqlite3_exec(lite, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
    }
    pthread_mutex_lock(&h->mu);
    h->holding = ok;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    usleep(300 * 1000);
    h->released_ms = wall_ms();
    if (pc) PQclear(PQexec(pc, "COMMIT"));
    if (lite) sqlite3_exec(lite, "COMMIT", NULL, NULL, NULL);
    PQfinish(pc);
    sqlite3_close(lite);
    return NULL;
}

/* A start that waited for another node's hold on the window counts from
 * when it got the window, not from when it asked: counted from before the
 * wait, it would leave the window early while its request went out late. */
static void test_budget_start_counts_after_wait(void **state)
{
    fx_t *f = *state;
    const char *url = "https://api.iys.org.tr";
    int64_t wait = -1;
    assert_int_equal(iz_store_budget_start(f->st, url, 10, 1000, &wait), 0);
    holder_t h = {.dir = f->dir};
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cv, NULL);
    pthread_t t;
    pthread_mutex_lock(&h.mu);
    assert_int_equal(pthread_create(&t, NULL, holder_main, &h), 0);
    while (!h.holding)
        pthread_cond_wait(&h.cv, &h.mu);
    pthread_mutex_unlock(&h.mu);
    int64_t asked = wall_ms();
    assert_int_equal(iz_store_budget_start(f->st, url, 10, 1000, &wait), 0);
    assert_int_equal(wait, 0);
    pthread_join(t, NULL);
    assert_true(h.released_ms - asked >= 250);
    char val[256];
    assert_true(iz_test_raw_text(f->dir,
                                 "SELECT value FROM meta WHERE key = "
                                 "'iys_budget https://api.iys.org.tr'",
                                 val, sizeof val) >= 0);
    const char *last = strrchr(val, ',');
    assert_non_null(last);
    int64_t started = strtoll(last + 1, NULL, 10);
    assert_true(started >= h.released_ms);
    pthread_cond_destroy(&h.cv);
    pthread_mutex_destroy(&h.mu);
}

static void test_stat_figures(void **state)
{
    fx_t *f = *state;
    int64_t brand = load_brand(f);
    load_batch_t b = mk_load(brand, 0, 1000);
    assert_int_equal(iz_store_consent_load_then(f->st, LOAD_JOB, b.lines, b.it, b.n, NULL, NULL),
                     0);
    free_load(&b);
    assert_int_equal(raw_count(f, "SELECT sum(n) FROM stat_state"), 900);
    assert_int_equal(stat_disagree(f), 0);
    /* a record of one key in the middle of the next load's first group: the
     * group is taken back and goes one by one */
    iz_change_t c = mk_change(brand, "+905550001010", IZ_ONAY, 1700000000, IZ_IYS_LOCAL);
    apply_ok(f, &c);
    b = mk_load(brand, 1000, 300);
    assert_int_equal(iz_store_consent_load_then(f->st, LOAD_JOB, b.lines, b.it, b.n, NULL, NULL),
                     0);
    free_load(&b);
    assert_int_equal(stat_disagree(f), 0);
    /* an ordinary change of a loaded record moves it from one status to another */
    iz_change_t d = mk_change(brand, "+905550000001", IZ_RET, 1750000000, IZ_IYS_LOCAL);
    apply_ok(f, &d);
    assert_int_equal(stat_disagree(f), 0);
    assert_int_equal(raw_count(f, "SELECT sum(n) FROM stat_state"),
                     raw_count(f, "SELECT count(*) FROM consent_state"));
}

/* The plans' usage counter moves with the state rows, on both write paths;
 * a quota refuses new ONAY records past it (IZ_EQUOTA), never a RET or a
 * change of an existing record, and a load that could pass it goes the
 * ordinary way, record by record. */
static void test_usage_and_quota(void **state)
{
    fx_t *f = *state;
    int64_t brand = load_brand(f);
    int64_t acc = raw_count(f, "SELECT account_id FROM brands WHERE code = 700200");
    int64_t used = -1;
    assert_int_equal(iz_store_account_usage(f->st, acc, &used), 0);
    assert_int_equal(used, 0);
    /* a load of 1000 new keys (the segment path; the rule refuses the 100
     * ending in 9) counts the 900 written */
    load_batch_t b = mk_load(brand, 0, 1000);
    assert_int_equal(iz_store_consent_load_then(f->st, LOAD_JOB, b.lines, b.it, b.n, NULL, NULL),
                     0);
    assert_int_equal(iz_store_account_usage(f->st, acc, &used), 0);
    assert_int_equal(used, 900);
    free_load(&b);
    /* the ordinary path counts a new key, not a change of an existing one */
    iz_change_t c = mk_change(brand, "+905550000001", IZ_RET, 1750000000, IZ_IYS_LOCAL);
    apply_ok(f, &c);
    iz_change_t d = mk_change(brand, "+905551112233", IZ_RET, 1700000000, IZ_IYS_LOCAL);
    apply_ok(f, &d);
    assert_int_equal(iz_store_account_usage(f->st, acc, &used), 0);
    assert_int_equal(used, 901);
    /* at the quota: a new ONAY is refused; a new RET and an existing key's
     * change go */
    iz_change_t e = mk_change(brand, "+905551112244", IZ_ONAY, 1700000000, IZ_IYS_LOCAL);
    iz_store_apply_t it = {.chg = &e, .quota = 901};
    assert_int_equal(iz_store_consent_apply_batch(f->st, &it, 1), 0);
    assert_int_equal(it.rc, IZ_EQUOTA);
    iz_change_t g = mk_change(brand, "+905551112255", IZ_RET, 1700000000, IZ_IYS_LOCAL);
    it = (iz_store_apply_t){.chg = &g, .quota = 901};
    assert_int_equal(iz_store_consent_apply_batch(f->st, &it, 1), 0);
    assert_int_equal(it.rc, 0);
    iz_change_t h = mk_change(brand, "+905551112233", IZ_ONAY, 1710000000, IZ_IYS_LOCAL);
    it = (iz_store_apply_t){.chg = &h, .quota = 901};
    assert_int_equal(iz_store_consent_apply_batch(f->st, &it, 1), 0);
    assert_int_equal(it.rc, 0);
    assert_int_equal(iz_store_account_usage(f->st, acc, &used), 0);
    assert_int_equal(used, 902);
    /* a load that could pass the quota: exactly the room left goes in */
    b = mk_load(brand, 5000, 10);
    for (size_t i = 0; i < b.n; i++)
        b.it[i].quota = 905;
    assert_int_equal(iz_store_consent_load_then(f->st, LOAD_JOB, b.lines, b.it, b.n, NULL, NULL),
                     0);
    size_t ok = 0, over = 0;
    for (size_t i = 0; i < b.n; i++) {
        ok += b.it[i].rc == 0;
        over += b.it[i].rc == IZ_EQUOTA;
    }
    assert_int_equal(ok, 3);
    assert_int_equal(over, 6); /* and the one ending in 9, refused by the rule */
    free_load(&b);
    assert_int_equal(iz_store_account_usage(f->st, acc, &used), 0);
    assert_int_equal(used, 905);
    /* the counter survives a reopen and agrees with the rows */
    fx_reopen(f);
    assert_int_equal(iz_store_account_usage(f->st, acc, &used), 0);
    assert_int_equal(used, raw_count(f, "SELECT count(*) FROM consent_state"));
    /* an account with no records: 0 */
    assert_int_equal(iz_store_account_usage(f->st, 999, &used), 0);
    assert_int_equal(used, 0);
    assert_int_equal(iz_store_account_plan_set(f->st, acc, "mini"), 0);
    assert_int_equal(iz_store_account_plan_set(f->st, 999, "mini"), IZ_ENOTFOUND);
}

/* A key that has a record, and a key twice in one load, take the ordinary
 * path, in order. */
static void test_load_existing_keys(void **state)
{
    fx_t *f = *state;
    int64_t brand = load_brand(f);
    load_batch_t b = mk_load(brand, 100, 3);
    iz_change_t old = mk_change(brand, b.c[0].recipient, IZ_RET, 1600000000, IZ_IYS_LOCAL);
    apply_ok(f, &old);
    snprintf(b.c[2].recipient, sizeof b.c[2].recipient, "%s", b.c[1].recipient);
    b.c[2].consent_date = b.c[1].consent_date + 10;
    assert_int_equal(iz_store_consent_load_then(f->st, LOAD_JOB, b.lines, b.it, b.n, NULL, NULL), 0);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(b.it[i].rc, 0);
    assert_int_equal(raw_count(f, "SELECT sum(count) FROM log_segments"), 1);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_log"), 3);
    assert_int_equal(history_len(f, brand, b.c[0].recipient), 2);
    assert_int_equal(history_len(f, brand, b.c[1].recipient), 2);
    iz_change_t got;
    assert_int_equal(
        iz_store_consent_get(f->st, brand, IZ_BIREYSEL, IZ_MESAJ, b.c[1].recipient, &got), 0);
    assert_int_equal(got.id, b.c[2].id);
    assert_true(b.c[2].id > b.c[1].id);
    verify_ok(f);
    free_load(&b);
}

/* A rule for a load that takes every change to İYS. */
static int load_rule_all(void *ctx, const iz_current_t *cur, iz_change_t *chg)
{
    (void)ctx;
    (void)cur;
    chg->iys_state = IZ_IYS_PENDING;
    return 0;
}

/* New keys go in by groups of state rows: a group with a key that has a
 * record, and a group with one key twice, fall back to one by one; the
 * segment's ids stay consecutive and the others take the ordinary path, in
 * order. */
static void test_load_groups(void **state)
{
    fx_t *f = *state;
    int64_t brand = load_brand(f);
    load_batch_t b = mk_load(brand, 0, 1000);
    for (size_t i = 0; i < b.n; i++)
        b.it[i].rule = load_rule_all;
    iz_change_t old = mk_change(brand, b.c[300].recipient, IZ_RET, 1600000000, IZ_IYS_LOCAL);
    apply_ok(f, &old);
    snprintf(b.c[701].recipient, sizeof b.c[701].recipient, "%s", b.c[700].recipient);
    b.c[701].consent_date = b.c[700].consent_date + 10;
    assert_int_equal(iz_store_consent_load_then(f->st, LOAD_JOB, b.lines, b.it, b.n, NULL, NULL), 0);
    for (size_t i = 0; i < b.n; i++)
        assert_int_equal(b.it[i].rc, 0);
    assert_int_equal(raw_count(f, "SELECT sum(count) FROM log_segments"), 998);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_log"), 3);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_state"), 999);
    /* The entries' ids: consecutive, in the file's order. */
    int64_t prev = 0;
    for (size_t i = 0; i < b.n; i++) {
        if (i == 300 || i == 701) continue;
        if (prev) assert_int_equal(b.c[i].id, prev + 1);
        prev = b.c[i].id;
        iz_change_t got;
        assert_int_equal(
            iz_store_consent_get(f->st, brand, IZ_BIREYSEL, IZ_MESAJ, b.c[i].recipient, &got), 0);
        assert_int_equal(got.id, i == 700 ? b.c[701].id : b.c[i].id);
    }
    /* The ordinary ones come after every entry of the load. */
    assert_true(b.c[300].id > b.c[999].id);
    assert_true(b.c[701].id > b.c[300].id);
    assert_int_equal(history_len(f, brand, b.c[300].recipient), 2);
    assert_int_equal(history_len(f, brand, b.c[700].recipient), 2);
    assert_int_equal(outbox(f), 1000);
    verify_ok(f);
    free_load(&b);
}

/* The sync takes a segment's entries from the outbox like any row: after
 * them, a later change of the same key; İYS's answers are kept. */
static void test_load_outbox(void **state)
{
    fx_t *f = *state;
    int64_t brand = load_brand(f);
    int64_t acc = 0;
    assert_int_equal(raw_count(f, "SELECT count(*) FROM accounts"), 1);
    acc = raw_count(f, "SELECT id FROM accounts");
    load_batch_t b = mk_load(brand, 0, 1500);
    assert_int_equal(iz_store_consent_load_then(f->st, LOAD_JOB, b.lines, b.it, b.n, NULL, NULL), 0);
    iz_change_t ret = mk_change(brand, b.c[0].recipient, IZ_RET, 1800000000, IZ_IYS_PENDING);
    apply_ok(f, &ret);
    int64_t due = 0;
    assert_int_equal(iz_store_outbox_count_due(f->st, INT64_MAX / 2, acc, &due), 0);
    assert_int_equal(due, 1350 + 1);

    iz_outbox_item_t *items = NULL;
    size_t n = 0;
    assert_int_equal(iz_store_outbox_due(f->st, INT64_MAX / 2, acc, false, 1000, &items, &n), 0);
    assert_int_equal(n, 1000);
    assert_int_equal(items[0].chg.id, b.c[0].id);
    assert_string_equal(items[0].chg.recipient, b.c[0].recipient);
    assert_int_equal(items[0].chg.brand_id, brand);
    assert_true(items[0].bulk);
    assert_int_equal(items[0].brand_code, 700200);
    for (size_t i = 0; i < n; i++)
        assert_true(items[i].chg.id != ret.id); /* the key's entry is still queued */
    int64_t ids[1] = {items[0].chg.id};
    free(items);
    assert_int_equal(iz_store_outbox_mark(f->st, ids, 1, "SENT", "req-1", 1000), 0);
    iz_change_t got;
    assert_int_equal(iz_store_change_by_txid(f->st, brand, "tx-1", &got), IZ_ENOTFOUND);
    assert_int_equal(iz_store_outbox_finish(f->st, ids[0], IZ_IYS_ACCEPTED, "tx-1", NULL, 2000), 0);
    assert_int_equal(iz_store_change_by_txid(f->st, brand, "tx-1", &got), 0);
    assert_int_equal(got.id, b.c[0].id);
    assert_int_equal(got.iys_state, IZ_IYS_ACCEPTED);
    assert_string_equal(got.iys_txid, "tx-1");
    /* With the entry answered, the RET of its key is due. */
    assert_int_equal(iz_store_outbox_due(f->st, INT64_MAX / 2, acc, false, 2000, &items, &n), 0);
    bool ret_due = false;
    for (size_t i = 0; i < n; i++)
        ret_due = ret_due || items[i].chg.id == ret.id;
    assert_true(ret_due);
    assert_int_equal(n, 1350);
    free(items);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM log_segments WHERE queued = 1"), 0);
    verify_ok(f);
    free_load(&b);
}

/* A segment changed by hand breaks the chain at its first id. */
static void test_load_tamper(void **state)
{
    fx_t *f = *state;
    int64_t brand = load_brand(f);
    load_batch_t b = mk_load(brand, 0, 20);
    assert_int_equal(iz_store_consent_load_then(f->st, LOAD_JOB, b.lines, b.it, b.n, NULL, NULL), 0);
    iz_change_t after = mk_change(brand, "+905559990000", IZ_ONAY, 1700000000, IZ_IYS_LOCAL);
    apply_ok(f, &after);
    verify_ok(f);
    assert_int_not_equal(raw_sql(f, "DELETE FROM log_segments"), SQLITE_OK);
    assert_int_not_equal(raw_sql(f, eng("UPDATE log_segments SET data = x'00'",
                                        "UPDATE log_segments SET data = '\\x00'")),
                         SQLITE_OK);
    assert_int_equal(
        raw_sql(f, eng("DROP TRIGGER log_segments_no_update;"
                       "UPDATE log_segments SET data = replace(data, '+90555', '+90556')",
                       "DROP TRIGGER log_segments_no_update ON log_segments;"
                       "UPDATE log_segments SET data = decode(replace(encode(data,"
                       " 'escape'), '+90555', '+90556'), 'escape')")),
        SQLITE_OK);
    int64_t bad = 0;
    assert_int_equal(iz_store_verify_log(f->st, &bad), IZ_ERULE);
    assert_int_equal(bad, b.c[0].id);
    free_load(&b);
}

/* ---- inbound SMS: keywords, numbers, messages ------------------------------- */

static void test_brand_keywords_and_numbers(void **state)
{
    fx_t *f = *state;
    int64_t acc = add_account(f, "kw");
    iz_brand_t a = {.account_id = acc, .code = 700301};
    snprintf(a.name, sizeof a.name, "ACME");
    snprintf(a.keyword, sizeof a.keyword, "ACME");
    snprintf(a.short_number, sizeof a.short_number, "4607");
    assert_int_equal(iz_store_brand_add(f->st, &a), 0);
    iz_brand_t b = {.account_id = acc, .code = 700302};
    snprintf(b.name, sizeof b.name, "Çiçekçi");
    snprintf(b.keyword, sizeof b.keyword, "acme");
    snprintf(b.short_number, sizeof b.short_number, "4607");
    /* The same keyword, folded, on the same short number: refused. */
    assert_int_equal(iz_store_brand_add(f->st, &b), IZ_EEXIST);
    snprintf(b.keyword, sizeof b.keyword, "ÇİÇEK");
    assert_int_equal(iz_store_brand_add(f->st, &b), 0);
    iz_brand_sms_t m = {.nkeywords = 2};
    snprintf(m.keywords[0], sizeof m.keywords[0], "ÇİÇEK");
    snprintf(m.keywords[1], sizeof m.keywords[1], "Acme");
    const char *why = NULL;
    assert_int_equal(iz_store_brand_update(f->st, &b, &m, &why), IZ_EEXIST);
    assert_string_equal(why, "keyword");
    snprintf(m.keywords[1], sizeof m.keywords[1], "CICEKCI");
    snprintf(m.reply_ret, sizeof m.reply_ret, "{brand}: tamam.");
    snprintf(b.subscriber_number, sizeof b.subscriber_number, "08501234567");
    assert_int_equal(iz_store_brand_update(f->st, &b, &m, &why), 0);
    /* Another brand may not take that 0850 number. */
    snprintf(a.subscriber_number, sizeof a.subscriber_number, "08501234567");
    iz_brand_sms_t am = {.nkeywords = 1};
    snprintf(am.keywords[0], sizeof am.keywords[0], "ACME");
    assert_int_equal(iz_store_brand_update(f->st, &a, &am, &why), IZ_EEXIST);
    assert_string_equal(why, "subscriber number");
    /* Nor another brand's slug: an update's unique violation is a
     * conflict, not a failure. */
    snprintf(b.slug, sizeof b.slug, "cicekci");
    assert_int_equal(iz_store_brand_update(f->st, &b, &m, &why), 0);
    a.subscriber_number[0] = '\0';
    snprintf(a.slug, sizeof a.slug, "cicekci");
    assert_int_equal(iz_store_brand_update(f->st, &a, &am, &why), IZ_EEXIST);
    assert_string_equal(why, "slug");
    a.slug[0] = '\0';

    iz_brand_t *list = NULL;
    iz_brand_sms_t *sms = NULL;
    size_t n = 0;
    assert_int_equal(iz_store_brands_by_number(f->st, "4607", &list, &sms, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(sms[1].nkeywords, 2);
    assert_string_equal(sms[1].keywords[1], "CICEKCI");
    assert_string_equal(sms[1].reply_ret, "{brand}: tamam.");
    assert_string_equal(list[1].keyword, "ÇİÇEK");
    free(list);
    free(sms);
    assert_int_equal(iz_store_brands_by_number(f->st, "08501234567", &list, &sms, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].code, 700302);
    free(list);
    free(sms);
    assert_int_equal(iz_store_brands_by_number(f->st, "", &list, &sms, &n), 0);
    assert_int_equal(n, 0);
    free(list);
    free(sms);
}

static void test_inbound_once_per_id(void **state)
{
    fx_t *f = *state;
    iz_inbound_t in = {.received_ms = 1700000000000};
    snprintf(in.gateway, sizeof in.gateway, "kannel");
    snprintf(in.msg_id, sizeof in.msg_id, "m-1");
    snprintf(in.sender, sizeof in.sender, "+905321112233");
    snprintf(in.receiver, sizeof in.receiver, "4607");
    snprintf(in.text, sizeof in.text, "RET ACME");
    snprintf(in.outcome, sizeof in.outcome, "HELP");
    snprintf(in.reply, sizeof in.reply, "Yardım");
    assert_int_equal(iz_store_inbound_add(f->st, &in), 0);
    assert_true(in.id > 0);
    assert_int_equal(iz_store_inbound_add(f->st, &in), IZ_EEXIST);
    snprintf(in.gateway, sizeof in.gateway, "json");
    assert_int_equal(iz_store_inbound_add(f->st, &in), 0);
    iz_inbound_t got;
    assert_int_equal(iz_store_inbound_get(f->st, "kannel", "m-1", &got), 0);
    assert_string_equal(got.text, "RET ACME");
    assert_string_equal(got.reply, "Yardım");
    assert_int_equal(got.received_ms, 1700000000000);
    assert_int_equal(iz_store_inbound_get(f->st, "kannel", "m-2", &got), IZ_ENOTFOUND);
}

/* A brand's inbound messages: its own only, newest first, at most limit. */
static void test_inbound_of_brand(void **state)
{
    fx_t *f = *state;
    int64_t acc = add_account(f, "in");
    int64_t b1 = add_brand(f, acc, 700310, "in1");
    int64_t b2 = add_brand(f, acc, 700311, "in2");
    const int64_t brand_of[] = {b1, b2, b1, 0, b1};
    for (int i = 0; i < 5; i++) {
        iz_inbound_t in = {.received_ms = 1700000000000 + i, .brand_id = brand_of[i]};
        snprintf(in.gateway, sizeof in.gateway, "kannel");
        snprintf(in.msg_id, sizeof in.msg_id, "ib-%d", i);
        snprintf(in.sender, sizeof in.sender, "+90532111223%d", i);
        snprintf(in.text, sizeof in.text, "ACME %d", i);
        snprintf(in.outcome, sizeof in.outcome, brand_of[i] ? "APPLIED" : "NO_BRAND");
        assert_int_equal(iz_store_inbound_add(f->st, &in), 0);
    }
    iz_inbound_t *l = NULL;
    size_t n = 0;
    assert_int_equal(iz_store_inbound_of_brand(f->st, b1, 2, &l, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(l[0].text, "ACME 4");
    assert_string_equal(l[1].text, "ACME 2");
    assert_int_equal(l[0].brand_id, b1);
    free(l);
    assert_int_equal(iz_store_inbound_of_brand(f->st, b2, 50, &l, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(l[0].text, "ACME 1");
    free(l);
    assert_int_equal(iz_store_inbound_of_brand(f->st, b2 + 100, 50, &l, &n), 0);
    assert_int_equal(n, 0);
    free(l);
}

/* The outbound queue: a send queued whole, its messages claimed, answered
 * and reported on; a key names one send an account; a stop mid-send leaves
 * SENDING messages that become UNKNOWN, never QUEUED again. */
static void test_sms_queue(void **state)
{
    fx_t *f = *state;
    int64_t acc = add_account(f, "q");
    int64_t brand = add_brand(f, acc, 700300, "q");
    iz_sms_msg_t *m = calloc(1, sizeof *m);
    m->account_id = acc;
    m->brand_id = brand;
    snprintf(m->kind, sizeof m->kind, "SEND");
    m->priority = 1;
    snprintf(m->sender, sizeof m->sender, "ACME");
    snprintf(m->text, sizeof m->text, "Kış indirimi");
    m->commercial = true;
    m->rtype = IZ_BIREYSEL;
    snprintf(m->encoding, sizeof m->encoding, "UCS2");
    m->parts = 1;
    m->accepted = 3;
    m->blocked = 1;
    snprintf(m->idem_key, sizeof m->idem_key, "key-1");
    snprintf(m->idem_hash, sizeof m->idem_hash, "%064d", 0);
    iz_sms_item_t items[4] = {
        {.recipient = "+905320000001", .outcome = "QUEUED", .msg_id = "id-1"},
        {.recipient = "42", .outcome = "INVALID", .raw_json = true},
        {.recipient = "+905320000002", .outcome = "QUEUED", .msg_id = "id-2"},
        {.recipient = "+905320000003", .outcome = "QUEUED", .msg_id = "id-3"},
    };
    assert_int_equal(iz_store_sms_queue(f->st, m, items, 4), 0);
    int64_t id = m->id;
    assert_true(id > 0);
    assert_string_equal(m->state, "QUEUED");
    /* the same key again: nothing written */
    int64_t sends = raw_count(f, "SELECT count(*) FROM sms_messages");
    assert_int_equal(iz_store_sms_queue(f->st, m, items, 4), IZ_EEXIST);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM sms_messages"), sends);
    iz_sms_msg_t *g = calloc(1, sizeof *g);
    assert_int_equal(iz_store_sms_by_key(f->st, acc, "key-1", g), 0);
    assert_int_equal(g->id, id);
    assert_int_equal(iz_store_sms_by_key(f->st, acc + 1, "key-1", g), IZ_ENOTFOUND);
    assert_int_equal(iz_store_sms_get(f->st, id, g), 0);
    assert_string_equal(g->text, "Kış indirimi");
    assert_true(g->commercial);
    assert_int_equal(g->priority, 1);

    int64_t *ids = NULL;
    int *prio = NULL;
    size_t n = 0;
    assert_int_equal(iz_store_sms_open(f->st, 10, &ids, &prio, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], id);
    free(ids);
    free(prio);

    iz_sms_rcpt_t *l = NULL;
    assert_int_equal(iz_store_sms_queued(f->st, id, 2, &l, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(l[0].seq, 0);
    assert_int_equal(l[1].seq, 2);
    assert_string_equal(l[1].gateway_id, "id-2");
    free(l);
    iz_sms_move_t mv[3] = {
        {.send_id = id, .seq = 0, .from = "QUEUED", .to = "SENDING"},
        {.send_id = id, .seq = 2, .from = "QUEUED", .to = "SENDING"},
        {.send_id = id, .seq = 3, .from = "QUEUED", .to = "RET", .error = "blocked"},
    };
    assert_int_equal(iz_store_sms_move(f->st, mv, 3), 0);
    int64_t backlog = -1;
    assert_int_equal(iz_store_sms_backlog(f->st, &backlog), 0);
    assert_int_equal(backlog, 0);
    bool done = true;
    assert_int_equal(iz_store_sms_finish(f->st, id, &done), 0);
    assert_false(done); /* two are SENDING */

    /* a report before the answer: the answer does not undo it */
    iz_sms_dlr_t d[2] = {{.msg_id = "id-1", .status = 1, .at_ms = 5},
                         {.msg_id = "nope", .status = 1, .at_ms = 5}};
    assert_int_equal(iz_store_sms_dlr(f->st, d, 2), 0);
    assert_true(d[0].found);
    assert_false(d[1].found);
    iz_sms_move_t ans = {.send_id = id, .seq = 0, .from = "SENDING", .to = "SENT", .sent_ms = 9};
    assert_int_equal(iz_store_sms_move(f->st, &ans, 1), 0);
    iz_sms_dlr_t late = {.msg_id = "id-1", .status = 8, .at_ms = 6};
    assert_int_equal(iz_store_sms_dlr(f->st, &late, 1), 0);
    assert_int_equal(iz_store_sms_rcpts(f->st, id, -1, 10, true, &l, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(l[0].outcome, "DELIVERED");
    assert_int_equal(l[0].dlr_status, 1);
    assert_int_equal(l[0].sent_ms, 9);
    assert_string_equal(l[2].outcome, "RET");
    free(l);

    /* stopped while seq 2 was SENDING: UNKNOWN, and a report then says it went */
    iz_store_close(f->st);
    f->st = NULL;
    fx_reopen(f);
    int64_t left = 0;
    assert_int_equal(iz_store_sms_recover(f->st, &left), 0);
    assert_int_equal(left, 1);
    assert_int_equal(iz_store_sms_recover(f->st, &left), 0);
    assert_int_equal(left, 0);
    iz_sms_counts_t c;
    assert_int_equal(iz_store_sms_counts(f->st, id, &c), 0);
    assert_int_equal(c.unknown, 1);
    assert_int_equal(c.delivered, 1);
    assert_int_equal(c.invalid, 1);
    assert_int_equal(c.ret, 1);
    assert_int_equal(c.queued + c.sending, 0);
    iz_sms_dlr_t went = {.msg_id = "id-2", .status = 8, .at_ms = 7};
    assert_int_equal(iz_store_sms_dlr(f->st, &went, 1), 0);
    assert_int_equal(iz_store_sms_counts(f->st, id, &c), 0);
    assert_int_equal(c.unknown, 0);
    assert_int_equal(c.sent, 1);
    assert_int_equal(iz_store_sms_finish(f->st, id, &done), 0);
    assert_true(done);
    assert_int_equal(iz_store_sms_open(f->st, 10, &ids, &prio, &n), 0);
    assert_int_equal(n, 0);
    free(ids);
    free(prio);
    /* the INVALID recipient kept as the JSON it was */
    assert_int_equal(iz_store_sms_rcpts(f->st, id, 0, 1, false, &l, &n), 0);
    assert_int_equal(n, 1);
    assert_true(l[0].raw_json);
    assert_string_equal(l[0].recipient, "42");
    free(l);
    free(m);
    free(g);
}

/* ---- retailers (schema 11) ---- */

static void set_retail(iz_change_t *c, uint32_t code, uint32_t n, uint32_t first)
{
    c->retail.code = code;
    c->retail.n = n;
    for (uint32_t i = 0; i < n; i++)
        c->retail.access[i] = first + i;
}

/* A change's retailer fields are stored, read back by every reader, part
 * of a repeat's identity, hashed and as immutable as the rest. */
static void test_retail_fields(void **state)
{
    fx_t *f = *state;
    int64_t acc = add_account(f, "retail");
    assert_int_equal(add_brand(f, acc, 700300, "retail"), 1);
    iz_change_t a = mk_change(1, "+905551230000", IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    set_retail(&a, 12345678, 3, 20000000);
    apply_ok(f, &a);
    iz_change_t plain = mk_change(1, "+905551230001", IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    apply_ok(f, &plain);
    iz_change_t got;
    assert_int_equal(
        iz_store_consent_get(f->st, 1, IZ_BIREYSEL, IZ_MESAJ, "+905551230000", &got), 0);
    assert_true(iz_retail_equal(&got.retail, &a.retail));
    assert_int_equal(
        iz_store_consent_get(f->st, 1, IZ_BIREYSEL, IZ_MESAJ, "+905551230001", &got), 0);
    assert_false(iz_retail_any(&got.retail));
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_log WHERE retailer_code ="
                                  " 12345678 AND retailer_access = '20000000,20000001,20000002'"),
                     1);
    /* the outbox hands them to the sync */
    iz_outbox_item_t *due = NULL;
    size_t n = 0;
    assert_int_equal(iz_store_outbox_due(f->st, INT64_MAX / 2, acc, false, 10, &due, &n), 0);
    bool seen = false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(due[i].chg.recipient, "+905551230000") == 0)
            seen = iz_retail_equal(&due[i].chg.retail, &a.retail);
    free(due);
    assert_true(seen);
    /* the same change again is a repeat; other retailers are not */
    iz_change_t again = mk_change(1, "+905551230000", IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    set_retail(&again, 12345678, 3, 20000000);
    assert_int_equal(iz_store_consent_apply(f->st, &again, NULL, NULL), IZ_REPEAT);
    assert_int_equal(again.id, a.id);
    iz_change_t other = mk_change(1, "+905551230000", IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    set_retail(&other, 12345678, 2, 20000000);
    assert_int_equal(iz_store_consent_apply(f->st, &other, NULL, NULL), 0);
    assert_int_not_equal(other.id, a.id);
    assert_int_equal(history_len(f, 1, "+905551230000"), 2);
    /* İYS's report of izin's own change carries no retailer fields: still
     * the same change (a pull that comes before İYS's answer is recorded) */
    iz_change_t back = mk_change(1, "+905551230000", IZ_ONAY, 1700000000, IZ_IYS_ACCEPTED);
    back.origin = IZ_ORIGIN_IYS;
    assert_int_equal(iz_store_consent_apply(f->st, &back, NULL, NULL), IZ_REPEAT);
    assert_int_equal(back.id, other.id);
    assert_int_equal(back.retail.n, 2);
    assert_int_equal(history_len(f, 1, "+905551230000"), 2);
    /* a list over the limit is refused, never cut */
    iz_change_t big = mk_change(1, "+905551230002", IZ_ONAY, 1700000000, IZ_IYS_PENDING);
    big.retail.n = IZ_RETAIL_ACCESS_MAX + 1;
    assert_int_equal(iz_store_consent_apply(f->st, &big, NULL, NULL), IZ_ETOOBIG);
    /* the chain covers them: rows with and without verify */
    verify_ok(f);
    assert_int_not_equal(
        raw_sql(f, "UPDATE consent_log SET retailer_access = '20000000' WHERE id = 1"), SQLITE_OK);
    assert_int_equal(
        raw_sql(f, eng("DROP TRIGGER consent_log_no_update_retail;"
                       "UPDATE consent_log SET retailer_access = '20000000' WHERE id = 1",
                       "DROP TRIGGER consent_log_no_update_retail ON consent_log;"
                       "UPDATE consent_log SET retailer_access = '20000000' WHERE id = 1")),
        SQLITE_OK);
    int64_t bad = 0;
    assert_int_equal(iz_store_verify_log(f->st, &bad), IZ_ERULE);
    assert_int_equal(bad, 1);
    /* moving the code into the other column is caught too */
    assert_int_equal(raw_sql(f, "UPDATE consent_log SET retailer_access ="
                                " '20000000,20000001,20000002', retailer_code = NULL WHERE id = 1"),
                     SQLITE_OK);
    assert_int_equal(iz_store_verify_log(f->st, &bad), IZ_ERULE);
    assert_int_equal(raw_sql(f, "UPDATE consent_log SET retailer_code = 12345678 WHERE id = 1"),
                     SQLITE_OK);
    verify_ok(f);
}

/* A bulk load's change with retailer fields takes the ordinary path: a log
 * row with them, never a segment entry. */
static void test_retail_not_in_segments(void **state)
{
    fx_t *f = *state;
    int64_t brand = load_brand(f);
    load_batch_t b = mk_load(brand, 0, 10);
    set_retail(&b.c[4], 0, 1, 30000000);
    assert_int_equal(iz_store_consent_load_then(f->st, LOAD_JOB, b.lines, b.it, b.n, NULL, NULL), 0);
    assert_int_equal(b.it[4].rc, 0);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM consent_log WHERE retailer_access ="
                                  " '30000000'"),
                     1);
    iz_change_t got;
    assert_int_equal(
        iz_store_consent_get(f->st, brand, IZ_BIREYSEL, IZ_MESAJ, b.c[4].recipient, &got), 0);
    assert_int_equal(got.retail.n, 1);
    assert_int_equal(got.retail.access[0], 30000000);
    verify_ok(f);
    free_load(&b);
}

static iz_retailer_t mk_retailer(int64_t code, const char *title)
{
    iz_retailer_t r;
    memset(&r, 0, sizeof r);
    r.code = code;
    snprintf(r.title, sizeof r.title, "%s", title);
    snprintf(r.name, sizeof r.name, "Ali Veli");
    snprintf(r.city_code, sizeof r.city_code, "1");
    snprintf(r.city_name, sizeof r.city_name, "Adana");
    snprintf(r.status, sizeof r.status, "active");
    return r;
}

/* izin's copy of a brand's retailers: not whole until set, then kept in
 * place; codes come sorted; another brand's copy is its own. */
static void test_retailers_copy(void **state)
{
    fx_t *f = *state;
    int64_t acc = add_account(f, "bayi");
    int64_t b1 = add_brand(f, acc, 700301, "b1"), b2 = add_brand(f, acc, 700302, "b2");
    int64_t *codes = NULL, synced = -1;
    size_t n = 9;
    iz_retailer_t r = mk_retailer(55555555, "Tek");
    assert_int_equal(iz_store_retailer_put(f->st, b1, &r), 0);
    assert_int_equal(iz_store_retailer_codes(f->st, b1, &codes, &n, &synced), 0);
    assert_int_equal(n, 1);
    assert_int_equal(synced, 0); /* not whole: the consent API cannot judge by it */
    free(codes);
    iz_retailer_t list[3] = {mk_retailer(33333333, "Üç"), mk_retailer(11111111, "Bir"),
                             mk_retailer(22222222, "İki")};
    assert_int_equal(iz_store_retailers_set(f->st, b1, list, 3), 0);
    assert_int_equal(iz_store_retailer_codes(f->st, b1, &codes, &n, &synced), 0);
    assert_int_equal(n, 3);
    assert_true(synced > 0);
    assert_int_equal(codes[0], 11111111);
    assert_int_equal(codes[2], 33333333);
    free(codes);
    assert_int_equal(iz_store_retailer_remove(f->st, b1, 22222222), 0);
    assert_int_equal(iz_store_retailer_remove(f->st, b1, 22222222), IZ_ENOTFOUND);
    iz_retailer_t *got = NULL;
    assert_int_equal(iz_store_retailers_get(f->st, b1, &got, &n, &synced), 0);
    assert_int_equal(n, 2);
    assert_string_equal(got[1].title, "Üç");
    assert_string_equal(got[1].city_name, "Adana");
    free(got);
    assert_int_equal(iz_store_retailers_get(f->st, b2, &got, &n, &synced), 0);
    assert_int_equal(n, 0);
    assert_int_equal(synced, 0);
    free(got);
    /* refused, never cut */
    iz_retailer_t bad = mk_retailer(0, "x");
    assert_int_equal(iz_store_retailer_put(f->st, b1, &bad), IZ_EINVAL);
    bad = mk_retailer(44444444, "x");
    memset(bad.tckn, '1', sizeof bad.tckn);
    assert_int_equal(iz_store_retailer_put(f->st, b1, &bad), IZ_ETOOBIG);
    /* the copy survives a restart */
    fx_reopen(f);
    assert_int_equal(iz_store_retailer_codes(f->st, b1, &codes, &n, &synced), 0);
    assert_int_equal(n, 2);
    assert_true(synced > 0);
    free(codes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_locations, setup, teardown),
        cmocka_unit_test(test_location_parse),
        cmocka_unit_test_setup_teardown(test_secrets_sealed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iys_tokens_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iys_tokens_sealed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iys_tokens_url_or_user_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iys_tokens_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partner_mode_and_standings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_apply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_version_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accounts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_brands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consent_apply_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox_pending_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_empty_and_intact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_tamper_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_tamper_evidence_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iys_columns_may_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_existing_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_tamper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_brand_keywords_and_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inbound_once_per_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inbound_of_brand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sms_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retail_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retail_not_in_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retailers_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_and_quota, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stat_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_start_counts_after_wait, setup, teardown),
        cmocka_unit_test(test_pg_collation_refused),
        cmocka_unit_test_setup_teardown(test_changes_one_snapshot, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
