/*
 * test_simstore.c - unit tests of the İYS emulator's store: migrations and
 * file modes, providers with password login, brands, tokens (expiry, refresh
 * rotation, a race for one refresh token), consent apply with its rule
 * callback and idempotent repeats, history ordering and paging, the change
 * pull with its filters and cursor, the citizen view, the state at a past
 * time, the hash chain and its tamper detection, persistence, async bulk
 * requests, batches (many calls in one transaction), push registrations and
 * complaints.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../testutil.h"
#include <sqlite3.h>

#include "core/iz.h"
#include "sys/crypto.h"
#include "sim/simstore.h"
#include "sim/viastore.h"

#define P1 700001
#define P2 700002
#define B1 800001
#define B2 800002
#define PHONE "+905321234567"
#define PHONE2 "+905329876543"

typedef struct fx {
    char dir[64];
    char db[128];
    iz_sim_store_t *st;
} fx_t;

static void fx_reopen(fx_t *f)
{
    const char *err = NULL;
    if (f->st) iz_sim_store_close(f->st);
    f->st = NULL;
    int rc = iz_sim_store_open(f->dir, &f->st, &err);
    if (rc != 0) fail_msg("open %s: %d %s", f->dir, rc, err ? err : "");
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/izin-simstore-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/iys-sim.db", f->dir);
    fx_reopen(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    iz_sim_store_close(f->st);
    iz_test_rmtree(f->dir);
    free(f);
    return 0;
}

/* Run SQL on the store's file through a connection of the test's own, as an
 * operator (or an attacker) with file access would. */
static int raw_sql(const fx_t *f, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open(f->db, &db);
    if (rc == SQLITE_OK) rc = sqlite3_busy_timeout(db, 5000);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* The integer answer of a one-value query on the store's file. */
static int64_t raw_i64(const fx_t *f, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    int64_t v = -1;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    if (sqlite3_step(stmt) == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
}

static int64_t log_rows(const fx_t *f)
{
    return raw_i64(f, "SELECT count(*) FROM consent_log");
}

static iz_sim_provider_t provider(int64_t code, const char *user)
{
    iz_sim_provider_t p;
    memset(&p, 0, sizeof p);
    p.iys_code = code;
    snprintf(p.name, sizeof p.name, "Provider %" PRId64, code);
    snprintf(p.username, sizeof p.username, "%s", user);
    p.subscription = IZ_SUB_ACTIVE;
    return p;
}

static iz_sim_change_t change(int64_t brand, const char *recipient, iz_status_t status,
                              iz_source_t source, int64_t cdate, int64_t creation)
{
    iz_sim_change_t c;
    memset(&c, 0, sizeof c);
    c.iys_code = P1;
    c.brand_code = brand;
    snprintf(c.recipient, sizeof c.recipient, "%s", recipient);
    c.rtype = IZ_BIREYSEL;
    c.type = IZ_MESAJ;
    c.status = status;
    c.source = source;
    c.consent_date = cdate;
    c.creation = creation;
    return c;
}

static void apply_ok(fx_t *f, iz_sim_change_t *c)
{
    const char *h = NULL;
    int rc = iz_sim_consent_apply(f->st, c, false, NULL, NULL, &h);
    if (rc != 0) fail_msg("apply: %d", rc);
    assert_true(c->id > 0);
}

static void hash_of(const char *s, char out[IZ_SHA256_HEX])
{
    iz_sha256_hex(s, strlen(s), out);
}

/* The emulator store's schema version: its number of migrations. */
#define SIM_SCHEMA 8

/* ---- open and migrations ------------------------------------------------ */

static void test_migrations_idempotent(void **state)
{
    fx_t *f = *state;
    assert_int_equal(raw_i64(f, "SELECT value FROM meta WHERE key = 'schema_version'"), SIM_SCHEMA);
    fx_reopen(f);
    fx_reopen(f);
    assert_int_equal(raw_i64(f, "SELECT value FROM meta WHERE key = 'schema_version'"), SIM_SCHEMA);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM meta"), 1);

    struct stat sb;
    assert_int_equal(stat(f->db, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    /* A missing directory is created (with its parents) mode 0700. */
    char sub[128];
    snprintf(sub, sizeof sub, "%s/a/b", f->dir);
    iz_sim_store_t *st = NULL;
    const char *err = NULL;
    assert_int_equal(iz_sim_store_open(sub, &st, &err), 0);
    assert_int_equal(stat(sub, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    iz_sim_store_close(st);

    /* A newer schema than this build knows is refused. */
    assert_int_equal(raw_sql(f, "UPDATE meta SET value = '99' WHERE key = 'schema_version'"),
                     SQLITE_OK);
    assert_int_equal(iz_sim_store_open(f->dir, &st, &err), IZ_EUNSUPPORTED);
    assert_non_null(err);
    assert_int_equal(raw_sql(f, "UPDATE meta SET value = '1' WHERE key = 'schema_version'"),
                     SQLITE_OK);
    assert_int_equal(iz_sim_store_open("", &st, &err), IZ_EINVAL);
}

/* ---- providers and brands ----------------------------------------------- */

static void test_providers(void **state)
{
    fx_t *f = *state;
    iz_sim_provider_t p = provider(P1, "user1"), got;
    p.quota = 10;
    p.created = 1700000000;
    assert_int_equal(iz_sim_provider_add(f->st, &p, "s3cret"), 0);

    iz_sim_provider_t dup = provider(P1, "other");
    assert_int_equal(iz_sim_provider_add(f->st, &dup, "x"), IZ_EEXIST);
    dup = provider(P2, "user1");
    assert_int_equal(iz_sim_provider_add(f->st, &dup, "x"), IZ_EEXIST);
    dup = provider(P2, "");
    assert_int_equal(iz_sim_provider_add(f->st, &dup, "x"), IZ_EINVAL);
    dup = provider(P2, "user2");
    assert_int_equal(iz_sim_provider_add(f->st, &dup, ""), IZ_EINVAL);
    memset(dup.name, 'n', sizeof dup.name);
    assert_int_equal(iz_sim_provider_add(f->st, &dup, "x"), IZ_ETOOBIG);

    assert_int_equal(iz_sim_provider_get(f->st, P1, &got), 0);
    assert_int_equal(got.iys_code, P1);
    assert_string_equal(got.name, "Provider 700001");
    assert_string_equal(got.username, "user1");
    assert_int_equal(got.subscription, IZ_SUB_ACTIVE);
    assert_int_equal(got.quota, 10);
    assert_int_equal(got.created, 1700000000);
    assert_int_equal(iz_sim_provider_get(f->st, P2, &got), IZ_ENOTFOUND);

    /* The password is stored only as a salted hash. */
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM providers WHERE pw_hash LIKE '%s3cret%'"
                                " OR length(pw_hash) <> 64 OR length(pw_salt) <> 32"),
                     0);

    int64_t code = 0;
    assert_int_equal(iz_sim_provider_login(f->st, "user1", "s3cret", &code), 0);
    assert_int_equal(code, P1);
    assert_int_equal(iz_sim_provider_login(f->st, "user1", "s3cret ", &code), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_provider_login(f->st, "user1", "", &code), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_provider_login(f->st, "nobody", "s3cret", &code), IZ_ENOTFOUND);

    iz_sub_t sub = IZ_SUB_PAUSED;
    assert_int_equal(iz_sim_provider_update(f->st, P1, &sub, NULL), 0);
    assert_int_equal(iz_sim_provider_get(f->st, P1, &got), 0);
    assert_int_equal(got.subscription, IZ_SUB_PAUSED);
    assert_int_equal(got.quota, 10);
    int64_t quota = 0;
    assert_int_equal(iz_sim_provider_update(f->st, P1, NULL, &quota), 0);
    assert_int_equal(iz_sim_provider_get(f->st, P1, &got), 0);
    assert_int_equal(got.subscription, IZ_SUB_PAUSED);
    assert_int_equal(got.quota, 0);
    sub = IZ_SUB_NONE;
    quota = 5;
    assert_int_equal(iz_sim_provider_update(f->st, P1, &sub, &quota), 0);
    assert_int_equal(iz_sim_provider_get(f->st, P1, &got), 0);
    assert_int_equal(got.subscription, IZ_SUB_NONE);
    assert_int_equal(got.quota, 5);
    assert_int_equal(iz_sim_provider_update(f->st, P2, &sub, NULL), IZ_ENOTFOUND);
    sub = (iz_sub_t)42;
    assert_int_equal(iz_sim_provider_update(f->st, P1, &sub, NULL), IZ_EINVAL);

    p = provider(P2, "user2");
    p.subscription = IZ_SUB_CLOSED;
    assert_int_equal(iz_sim_provider_add(f->st, &p, "pw2"), 0);
    iz_sim_provider_t *list = NULL;
    size_t n = 0;
    assert_int_equal(iz_sim_provider_list(f->st, &list, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].iys_code, P1);
    assert_int_equal(list[1].iys_code, P2);
    assert_int_equal(list[1].subscription, IZ_SUB_CLOSED);
    assert_true(list[1].created > 0);
    free(list);

    iz_sub_t parsed;
    assert_string_equal(iz_sub_name(IZ_SUB_EXPIRED), "EXPIRED");
    assert_null(iz_sub_name((iz_sub_t)9));
    assert_int_equal(iz_sub_parse("CLOSED", &parsed), 0);
    assert_int_equal(parsed, IZ_SUB_CLOSED);
    assert_int_equal(iz_sub_parse("closed", &parsed), IZ_EINVAL);
}

static void test_brands(void **state)
{
    fx_t *f = *state;
    iz_sim_provider_t p = provider(P1, "user1");
    assert_int_equal(iz_sim_provider_add(f->st, &p, "pw"), 0);
    assert_int_equal(iz_sim_brand_add(f->st, P1, B1, "Brand One"), 0);
    assert_int_equal(iz_sim_brand_add(f->st, P1, B2, "Brand Two"), 0);
    assert_int_equal(iz_sim_brand_add(f->st, P1, B1, "Again"), IZ_EEXIST);
    assert_int_equal(iz_sim_brand_add(f->st, P2, B1, "Orphan"), IZ_ENOTFOUND);

    char name[128];
    assert_int_equal(iz_sim_brand_get(f->st, P1, B1, name), 0);
    assert_string_equal(name, "Brand One");
    assert_int_equal(iz_sim_brand_get(f->st, P1, B2, NULL), 0);
    assert_int_equal(iz_sim_brand_get(f->st, P2, B1, name), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_brand_get(f->st, P1, 999, name), IZ_ENOTFOUND);
}

/* ---- tokens ------------------------------------------------------------- */

static void test_tokens(void **state)
{
    fx_t *f = *state;
    char a1[IZ_SHA256_HEX], r1[IZ_SHA256_HEX], a2[IZ_SHA256_HEX], r2[IZ_SHA256_HEX];
    hash_of("access-1", a1);
    hash_of("refresh-1", r1);
    hash_of("access-2", a2);
    hash_of("refresh-2", r2);
    assert_int_equal(iz_sim_token_put(f->st, a1, 1000, r1, 2000, P1, IZ_SIM_SP), 0);
    assert_int_equal(iz_sim_token_put(f->st, a1, 1000, r2, 2000, P1, IZ_SIM_SP), IZ_EEXIST);
    assert_int_equal(iz_sim_token_put(f->st, "nothex", 1000, r2, 2000, P1, IZ_SIM_SP), IZ_EINVAL);
    /* The refused pair left nothing behind. */
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM tokens"), 2);

    int64_t code = 0;
    assert_int_equal(iz_sim_token_access(f->st, a1, 999, &code, NULL), 0);
    assert_int_equal(code, P1);
    assert_int_equal(iz_sim_token_access(f->st, a1, 1000, &code, NULL), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_token_access(f->st, r1, 10, &code, NULL), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_token_access(f->st, a2, 10, &code, NULL), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_token_access(f->st, "short", 10, &code, NULL), IZ_ENOTFOUND);

    /* A refresh token works once; an access token is no refresh token. */
    assert_int_equal(iz_sim_token_refresh(f->st, a1, 10, &code, NULL), IZ_ENOTFOUND);
    code = 0;
    assert_int_equal(iz_sim_token_refresh(f->st, r1, 1999, &code, NULL), 0);
    assert_int_equal(code, P1);
    assert_int_equal(iz_sim_token_refresh(f->st, r1, 1999, &code, NULL), IZ_ENOTFOUND);

    /* An expired refresh token is refused. */
    assert_int_equal(iz_sim_token_put(f->st, a2, 1000, r2, 2000, P2, IZ_SIM_SP), 0);
    assert_int_equal(iz_sim_token_refresh(f->st, r2, 2000, &code, NULL), IZ_ENOTFOUND);

    assert_int_equal(iz_sim_token_purge(f->st, 1000), 0);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM tokens"), 1); /* r2 */
    assert_int_equal(iz_sim_token_purge(f->st, 2000), 0);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM tokens"), 0);
}

typedef struct race {
    iz_sim_store_t *st;
    const char *hash;
    pthread_barrier_t *bar;
    int rc;
} race_t;

static void *race_refresh(void *arg)
{
    race_t *r = arg;
    int64_t code = 0;
    pthread_barrier_wait(r->bar);
    r->rc = iz_sim_token_refresh(r->st, r->hash, 10, &code, NULL);
    if (r->rc == 0 && code != P1) r->rc = -100;
    return NULL;
}

/* Two threads, each with its own handle (its own connection, as two
 * processes would have), race for one refresh token: exactly one wins. */
static void test_token_refresh_race(void **state)
{
    fx_t *f = *state;
    iz_sim_store_t *other = NULL;
    const char *err = NULL;
    assert_int_equal(iz_sim_store_open(f->dir, &other, &err), 0);
    for (int round = 0; round < 20; round++) {
        char a[IZ_SHA256_HEX], r[IZ_SHA256_HEX], seed[32];
        snprintf(seed, sizeof seed, "a%d", round);
        hash_of(seed, a);
        snprintf(seed, sizeof seed, "r%d", round);
        hash_of(seed, r);
        assert_int_equal(iz_sim_token_put(f->st, a, 1000, r, 2000, P1, IZ_SIM_SP), 0);
        pthread_barrier_t bar;
        assert_int_equal(pthread_barrier_init(&bar, NULL, 2), 0);
        /* Alternate: two handles, then both threads on one handle. */
        race_t ra = {f->st, r, &bar, 1}, rb = {round % 2 ? f->st : other, r, &bar, 1};
        pthread_t ta, tb;
        assert_int_equal(pthread_create(&ta, NULL, race_refresh, &ra), 0);
        assert_int_equal(pthread_create(&tb, NULL, race_refresh, &rb), 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&bar);
        assert_true((ra.rc == 0 && rb.rc == IZ_ENOTFOUND) || (rb.rc == 0 && ra.rc == IZ_ENOTFOUND));
    }
    iz_sim_store_close(other);
}

/* ---- consents ----------------------------------------------------------- */

static void test_consent_apply_get_history(void **state)
{
    fx_t *f = *state;
    iz_sim_change_t c1 = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    iz_sim_change_t c2 = change(B1, PHONE, IZ_RET, IZ_HS_WEB, 3000, 5001);
    iz_sim_change_t c3 = change(B1, PHONE, IZ_ONAY, IZ_HS_MESAJ, 2000, 5002);
    iz_sim_change_t c4 = change(B1, PHONE, IZ_RET, IZ_HS_MESAJ, 2000, 5003); /* tie with c3 */
    apply_ok(f, &c1);
    apply_ok(f, &c2);
    apply_ok(f, &c3);
    apply_ok(f, &c4);
    assert_true(c1.id < c2.id && c2.id < c3.id && c3.id < c4.id);
    assert_int_equal(strlen(c1.txid), 64);
    assert_int_equal(c1.creation, 5000);

    /* The state is the last change written. */
    iz_sim_change_t cur;
    assert_int_equal(iz_sim_consent_get(f->st, P1, B1, IZ_BIREYSEL, IZ_MESAJ, PHONE, &cur), 0);
    assert_int_equal(cur.id, c4.id);
    assert_int_equal(cur.status, IZ_RET);
    assert_int_equal(cur.source, IZ_HS_MESAJ);
    assert_int_equal(cur.consent_date, 2000);
    assert_int_equal(cur.creation, 5003);
    assert_string_equal(cur.txid, c4.txid);
    assert_string_equal(cur.recipient, PHONE);
    assert_int_equal(cur.rtype, IZ_BIREYSEL);
    assert_int_equal(cur.type, IZ_MESAJ);
    assert_int_equal(iz_sim_consent_get(f->st, P1, B1, IZ_BIREYSEL, IZ_ARAMA, PHONE, &cur),
                     IZ_ENOTFOUND);
    assert_int_equal(iz_sim_consent_get(f->st, P1, B2, IZ_BIREYSEL, IZ_MESAJ, PHONE, &cur),
                     IZ_ENOTFOUND);
    assert_int_equal(iz_sim_consent_get(f->st, P1, B1, IZ_RTYPE_NONE, IZ_MESAJ, PHONE, &cur),
                     IZ_EINVAL);

    /* History: newest consentDate first, ties newest id first. */
    iz_sim_change_t *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(iz_sim_consent_history(f->st, P1, B1, IZ_BIREYSEL, IZ_MESAJ, PHONE, 0, 100,
                                            &list, &n, &total),
                     0);
    assert_int_equal(n, 4);
    assert_int_equal(total, 4);
    assert_int_equal(list[0].id, c2.id);
    assert_int_equal(list[1].id, c4.id);
    assert_int_equal(list[2].id, c3.id);
    assert_int_equal(list[3].id, c1.id);
    free(list);

    /* Paging. */
    assert_int_equal(iz_sim_consent_history(f->st, P1, B1, IZ_BIREYSEL, IZ_MESAJ, PHONE, 1, 2,
                                            &list, &n, &total),
                     0);
    assert_int_equal(n, 2);
    assert_int_equal(total, 4);
    assert_int_equal(list[0].id, c4.id);
    assert_int_equal(list[1].id, c3.id);
    free(list);
    assert_int_equal(iz_sim_consent_history(f->st, P1, B1, IZ_BIREYSEL, IZ_MESAJ, PHONE, 4, 2,
                                            &list, &n, &total),
                     0);
    assert_int_equal(n, 0);
    assert_int_equal(total, 4);
    free(list);
    assert_int_equal(iz_sim_consent_history(f->st, P1, B1, IZ_BIREYSEL, IZ_MESAJ, PHONE2, 0, 10,
                                            &list, &n, &total),
                     0);
    assert_int_equal(n, 0);
    assert_int_equal(total, 0);
    free(list);
    assert_int_equal(iz_sim_consent_history(f->st, P1, B1, IZ_BIREYSEL, IZ_MESAJ, PHONE, -1, 2,
                                            &list, &n, &total),
                     IZ_EINVAL);

    /* A TACIR change without consentDate and source sorts by its creation. */
    iz_sim_change_t t1 = change(B1, PHONE2, IZ_ONAY, IZ_HS_WEB, 100, 900);
    t1.rtype = IZ_TACIR;
    iz_sim_change_t t2 = change(B1, PHONE2, IZ_RET, IZ_SOURCE_NONE, 0, 800);
    t2.rtype = IZ_TACIR;
    iz_sim_change_t t3 = change(B1, PHONE2, IZ_ONAY, IZ_HS_WEB, 850, 901);
    t3.rtype = IZ_TACIR;
    apply_ok(f, &t1);
    apply_ok(f, &t2);
    apply_ok(f, &t3);
    assert_int_equal(
        iz_sim_consent_history(f->st, P1, B1, IZ_TACIR, IZ_MESAJ, PHONE2, 0, 10, &list, &n, &total),
        0);
    assert_int_equal(n, 3);
    assert_int_equal(list[0].id, t3.id); /* 850 */
    assert_int_equal(list[1].id, t2.id); /* creation 800 */
    assert_int_equal(list[2].id, t1.id); /* 100 */
    assert_int_equal(list[1].source, IZ_SOURCE_NONE);
    assert_int_equal(list[1].consent_date, 0);
    free(list);
}

static void test_idempotent_repeat(void **state)
{
    fx_t *f = *state;
    iz_sim_change_t c = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    apply_ok(f, &c);
    int64_t before = log_rows(f);

    iz_sim_change_t again = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 0);
    const char *h = NULL;
    assert_int_equal(iz_sim_consent_apply(f->st, &again, true, NULL, NULL, &h), IZ_REPEAT);
    assert_int_equal(again.id, c.id);
    assert_string_equal(again.txid, c.txid);
    assert_int_equal(again.creation, 5000);
    assert_int_equal(log_rows(f), before);

    /* A different source or consentDate is no repeat. */
    iz_sim_change_t other = change(B1, PHONE, IZ_ONAY, IZ_HS_MESAJ, 1000, 5001);
    assert_int_equal(iz_sim_consent_apply(f->st, &other, true, NULL, NULL, &h), 0);
    assert_int_not_equal(other.id, c.id);

    /* Omitted fields compare NULL-safely. */
    iz_sim_change_t t = change(B1, PHONE2, IZ_RET, IZ_SOURCE_NONE, 0, 6000);
    t.rtype = IZ_TACIR;
    assert_int_equal(iz_sim_consent_apply(f->st, &t, true, NULL, NULL, &h), 0);
    iz_sim_change_t t_again = t;
    t_again.id = 0;
    t_again.creation = 0;
    assert_int_equal(iz_sim_consent_apply(f->st, &t_again, true, NULL, NULL, &h), IZ_REPEAT);
    assert_int_equal(t_again.id, t.id);

    /* Without idempotence the same change is written again. */
    before = log_rows(f);
    iz_sim_change_t plain = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 7000);
    assert_int_equal(iz_sim_consent_apply(f->st, &plain, false, NULL, NULL, &h), 0);
    assert_int_equal(log_rows(f), before + 1);
}

static void test_same_second_txid(void **state)
{
    fx_t *f = *state;
    iz_sim_change_t a = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    iz_sim_change_t b = change(B1, PHONE, IZ_RET, IZ_HS_WEB, 1001, 5000);
    iz_sim_change_t c = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1002, 5001);
    apply_ok(f, &a);
    apply_ok(f, &b);
    apply_ok(f, &c);
    assert_int_not_equal(a.id, b.id);
    assert_string_equal(a.txid, b.txid);
    assert_string_not_equal(a.txid, c.txid);

    char want[IZ_SHA256_HEX];
    char in[256];
    snprintf(in, sizeof in, "%d|%d|BIREYSEL|MESAJ|%s|5000", P1, B1, PHONE);
    hash_of(in, want);
    assert_string_equal(a.txid, want);

    /* The clock fills an unset creation. */
    iz_sim_change_t d = change(B1, PHONE2, IZ_ONAY, IZ_HS_WEB, 1000, 0);
    int64_t t0 = (int64_t)time(NULL);
    apply_ok(f, &d);
    assert_true(d.creation >= t0 && d.creation <= (int64_t)time(NULL));
}

typedef struct rule_probe {
    int calls;
    iz_current_t cur;
    int64_t records;
    const char *refuse; /* the H-code to refuse with, or NULL */
} rule_probe_t;

static int probe_rule(void *ctx, const iz_current_t *cur, int64_t provider_records,
                      const char **hcode)
{
    rule_probe_t *p = ctx;
    p->calls++;
    p->cur = *cur;
    p->records = provider_records;
    if (!p->refuse) return 0;
    *hcode = p->refuse;
    return 1;
}

static void test_rule_refusal(void **state)
{
    fx_t *f = *state;
    rule_probe_t probe = {0};
    probe.refuse = "H175";
    const char *h = NULL;
    iz_sim_change_t c = change(B1, PHONE, IZ_RET, IZ_HS_WEB, 1000, 5000);
    assert_int_equal(iz_sim_consent_apply(f->st, &c, true, probe_rule, &probe, &h), IZ_ERULE);
    assert_non_null(h);
    assert_string_equal(h, "H175");
    assert_int_equal(probe.calls, 1);
    assert_false(probe.cur.exists);
    assert_int_equal(c.id, 0);
    assert_int_equal(log_rows(f), 0);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM consent_state"), 0);

    /* Accepted: the rule sees no record; then the record it wrote. */
    probe.refuse = NULL;
    c = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    assert_int_equal(iz_sim_consent_apply(f->st, &c, true, probe_rule, &probe, &h), 0);
    assert_null(h);
    iz_sim_change_t same = change(B1, PHONE, IZ_ONAY, IZ_HS_MESAJ, 2000, 5001);
    probe.refuse = "H174";
    assert_int_equal(iz_sim_consent_apply(f->st, &same, true, probe_rule, &probe, &h), IZ_ERULE);
    assert_string_equal(h, "H174");
    assert_true(probe.cur.exists);
    assert_int_equal(probe.cur.status, IZ_ONAY);
    assert_int_equal(probe.cur.source, IZ_HS_WEB);
    assert_int_equal(probe.cur.consent_date, 1000);
    assert_int_equal(log_rows(f), 1);

    /* An idempotent repeat is answered before the rule runs. */
    probe.calls = 0;
    iz_sim_change_t rep = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 0);
    assert_int_equal(iz_sim_consent_apply(f->st, &rep, true, probe_rule, &probe, &h), IZ_REPEAT);
    assert_int_equal(probe.calls, 0);
    int64_t bad = 0;
    assert_int_equal(iz_sim_verify(f->st, &bad), 0);
}

static void test_provider_records(void **state)
{
    fx_t *f = *state;
    rule_probe_t probe = {0};
    const char *h = NULL;
    const char *rcpts[] = {"+905320000001", "+905320000002", "+905320000003"};
    for (size_t i = 0; i < IZ_ARRAY_LEN(rcpts); i++) {
        iz_sim_change_t c = change(i == 2 ? B2 : B1, rcpts[i], IZ_ONAY, IZ_HS_WEB, 1000, 5000);
        assert_int_equal(iz_sim_consent_apply(f->st, &c, false, probe_rule, &probe, &h), 0);
        assert_int_equal(probe.records, (int64_t)i);
    }
    /* Another provider's keys do not count. */
    iz_sim_change_t o = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    o.iys_code = P2;
    assert_int_equal(iz_sim_consent_apply(f->st, &o, false, probe_rule, &probe, &h), 0);
    assert_int_equal(probe.records, 0);
    /* A change of an existing key does not add one. */
    iz_sim_change_t again = change(B1, rcpts[0], IZ_RET, IZ_HS_WEB, 2000, 5001);
    assert_int_equal(iz_sim_consent_apply(f->st, &again, false, probe_rule, &probe, &h), 0);
    assert_int_equal(probe.records, 3);
    iz_sim_change_t more = change(B1, PHONE2, IZ_ONAY, IZ_HS_WEB, 2000, 5001);
    more.type = IZ_ARAMA;
    assert_int_equal(iz_sim_consent_apply(f->st, &more, false, probe_rule, &probe, &h), 0);
    assert_int_equal(probe.records, 3);
    assert_int_equal(iz_sim_consent_apply(f->st, &more, true, probe_rule, &probe, &h), IZ_REPEAT);
    iz_sim_change_t last = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 2000, 5001);
    assert_int_equal(iz_sim_consent_apply(f->st, &last, false, probe_rule, &probe, &h), 0);
    assert_int_equal(probe.records, 4);
}

/* A version 2 file: its keys are counted when it is opened, and the
 * count goes on from there. */
static void test_provider_records_migration(void **state)
{
    fx_t *f = *state;
    const char *h = NULL;
    const char *rcpts[] = {"+905320000001", "+905320000002", "+905320000003"};
    for (size_t i = 0; i < IZ_ARRAY_LEN(rcpts); i++) {
        iz_sim_change_t c = change(B1, rcpts[i], IZ_ONAY, IZ_HS_WEB, 1000, 5000);
        c.iys_code = i == 2 ? P2 : P1;
        assert_int_equal(iz_sim_consent_apply(f->st, &c, false, NULL, NULL, &h), 0);
    }
    iz_sim_store_close(f->st);
    f->st = NULL;
    /* Back to version 2's layout, keys and all (the retailers' and the
     * reconciliation's tables, which later migrations add, go too). */
    assert_int_equal(raw_sql(f, "DROP TABLE consent_mediator;"
                                "DROP TABLE retailer_access;"
                                "DROP TABLE retailers;"
                                "DROP TABLE recon_files; DROP TABLE recon_days;"
                                "DROP TABLE recon_tsa;"
                                "DROP TRIGGER consent_state_added;"
                                "DROP TRIGGER consent_state_removed;"
                                "DROP TABLE provider_records;"
                                "CREATE TABLE v2(iys_code INTEGER NOT NULL,"
                                " brand_code INTEGER NOT NULL, rtype TEXT NOT NULL,"
                                " type TEXT NOT NULL, recipient TEXT NOT NULL,"
                                " log_id INTEGER NOT NULL REFERENCES consent_log(id),"
                                " status TEXT NOT NULL, source TEXT, consent_date INTEGER,"
                                " creation INTEGER NOT NULL, txid TEXT NOT NULL,"
                                " PRIMARY KEY(iys_code, brand_code, rtype, type, recipient))"
                                " WITHOUT ROWID;"
                                "INSERT INTO v2 SELECT * FROM consent_state;"
                                "DROP TABLE consent_state;"
                                "ALTER TABLE v2 RENAME TO consent_state;"
                                "CREATE INDEX consent_state_recipient ON consent_state(recipient);"
                                "DROP INDEX consent_log_txid;"
                                "CREATE INDEX consent_log_txid ON consent_log(txid);"
                                "DROP TABLE via_config;"
                                "DROP TABLE via_requests; DROP TABLE via_kvk;"
                                "DROP TABLE via_messages; DROP TABLE via_links;"
                                "DROP TABLE via_nonces;"
                                /* and without version 7's accounts */
                                "DROP TRIGGER providers_name; DROP TRIGGER integrators_name;"
                                "DROP TABLE account_names; DROP TABLE integrator_brands;"
                                "DROP TABLE integrators; DROP TABLE product_subscriptions;"
                                "ALTER TABLE tokens DROP COLUMN owner;"
                                "ALTER TABLE providers DROP COLUMN limit_exceed;"
                                "ALTER TABLE providers DROP COLUMN api_access;"
                                "ALTER TABLE providers DROP COLUMN sub_id;"
                                "ALTER TABLE providers DROP COLUMN sub_package;"
                                "ALTER TABLE providers DROP COLUMN sub_start;"
                                "ALTER TABLE providers DROP COLUMN sub_end;"
                                "UPDATE meta SET value = '2' WHERE key = 'schema_version'"),
                     SQLITE_OK);
    fx_reopen(f);
    assert_int_equal(raw_i64(f, "SELECT value FROM meta WHERE key = 'schema_version'"), SIM_SCHEMA);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM consent_state"), 3);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM sqlite_master"
                                " WHERE name = 'consent_state_recipient'"),
                     0);
    assert_int_equal(raw_i64(f, "SELECT instr(sql, 'PRIMARY KEY(recipient,') > 0"
                                " FROM sqlite_master WHERE name = 'consent_state'"),
                     1);
    iz_sim_citizen_rec_t *list = NULL;
    size_t n = 0;
    assert_int_equal(iz_sim_citizen_records(f->st, rcpts[2], &list, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].cur.iys_code, P2);
    free(list);
    assert_int_equal(raw_i64(f, "SELECT records FROM provider_records WHERE iys_code = 700001"), 2);
    assert_int_equal(raw_i64(f, "SELECT records FROM provider_records WHERE iys_code = 700002"), 1);
    rule_probe_t probe = {0};
    iz_sim_change_t c = change(B2, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    assert_int_equal(iz_sim_consent_apply(f->st, &c, false, probe_rule, &probe, &h), 0);
    assert_int_equal(probe.records, 2);
    assert_int_equal(raw_i64(f, "SELECT records FROM provider_records WHERE iys_code = 700001"), 3);
    /* The change pull's cursor still resolves through the new index. */
    int64_t id = 0;
    assert_int_equal(iz_sim_change_id(f->st, P1, B2, c.txid, c.creation, &id), 0);
    assert_int_equal(id, c.id);
    int64_t bad = 0;
    assert_int_equal(iz_sim_verify(f->st, &bad), 0);
}

/* ---- batches ---------------------------------------------------------------- */

static const char REQ[] = "33333333-3333-3333-3333-333333333333";

/* A request of n items for the batch tests. */
static void batch_request(fx_t *f, size_t n)
{
    iz_sim_bulk_t b = {.iys_code = P1, .brand_code = B1, .created = 1000};
    snprintf(b.request_id, sizeof b.request_id, "%s", REQ);
    const char *bodies[8];
    for (size_t i = 0; i < n; i++)
        bodies[i] = "{}";
    assert_int_equal(iz_sim_bulk_create(f->st, &b, bodies, NULL, n), 0);
}

/* Store item idx's success with change c's transactionId. */
static void result_ok(fx_t *f, int idx, const iz_sim_change_t *c)
{
    assert_int_equal(
        iz_sim_bulk_item_result(f->st, REQ, idx, "success", c->txid, c->creation, NULL, NULL), 0);
}

static void assert_item(fx_t *f, int idx, const char *status)
{
    iz_sim_bulk_t b;
    iz_sim_bulk_item_t *items = NULL;
    size_t n = 0;
    assert_int_equal(iz_sim_bulk_get(f->st, REQ, &b, &items, &n), 0);
    assert_true((size_t)idx < n);
    assert_string_equal(items[idx].status, status);
    iz_sim_bulk_items_free(items, n);
}

/* Changes and results in one batch: what an earlier change wrote is seen
 * by a later one (the rule and the key count), nothing is on disk for
 * another connection before the end, everything after it. */
static void test_batch_commit(void **state)
{
    fx_t *f = *state;
    batch_request(f, 3);
    rule_probe_t probe = {0};
    const char *h = NULL;
    assert_int_equal(iz_sim_batch_begin(f->st), 0);
    iz_sim_change_t a = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    assert_int_equal(iz_sim_consent_apply(f->st, &a, false, probe_rule, &probe, &h), 0);
    assert_int_equal(probe.records, 0);
    result_ok(f, 0, &a);
    iz_sim_change_t b = change(B1, PHONE, IZ_RET, IZ_HS_WEB, 2000, 5001);
    assert_int_equal(iz_sim_consent_apply(f->st, &b, false, probe_rule, &probe, &h), 0);
    assert_true(probe.cur.exists);
    assert_int_equal(probe.cur.status, IZ_ONAY);
    assert_int_equal(probe.records, 1);
    result_ok(f, 1, &b);
    iz_sim_change_t c = change(B1, PHONE2, IZ_ONAY, IZ_HS_WEB, 1000, 5001);
    assert_int_equal(iz_sim_consent_apply(f->st, &c, false, probe_rule, &probe, &h), 0);
    assert_int_equal(probe.records, 1);
    assert_int_equal(iz_sim_bulk_done(f->st, REQ, 5002), 0);
    assert_int_equal(log_rows(f), 0); /* another connection sees nothing yet */
    assert_int_equal(iz_sim_batch_end(f->st, 0), 0);
    assert_int_equal(log_rows(f), 3);
    assert_int_equal(raw_i64(f, "SELECT records FROM provider_records WHERE iys_code = 700001"), 2);
    assert_item(f, 0, "success");
    assert_item(f, 1, "success");
    assert_item(f, 2, "enqueue");
    iz_sim_change_t cur;
    assert_int_equal(iz_sim_consent_get(f->st, P1, B1, IZ_BIREYSEL, IZ_MESAJ, PHONE, &cur), 0);
    assert_int_equal(cur.id, b.id);
    int64_t bad = 0;
    assert_int_equal(iz_sim_verify(f->st, &bad), 0);
}

/* A batch ended with a failure keeps nothing; a refusal inside a batch
 * does not spoil it. */
static void test_batch_rollback_and_refusal(void **state)
{
    fx_t *f = *state;
    batch_request(f, 2);
    const char *h = NULL;
    assert_int_equal(iz_sim_batch_begin(f->st), 0);
    iz_sim_change_t a = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    apply_ok(f, &a);
    result_ok(f, 0, &a);
    assert_int_equal(iz_sim_batch_end(f->st, IZ_EBUSY), IZ_EBUSY);
    assert_int_equal(log_rows(f), 0);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM consent_state"), 0);
    assert_item(f, 0, "enqueue");

    rule_probe_t probe = {.refuse = "H175"};
    assert_int_equal(iz_sim_batch_begin(f->st), 0);
    iz_sim_change_t r = change(B1, PHONE, IZ_RET, IZ_HS_WEB, 1000, 5000);
    assert_int_equal(iz_sim_consent_apply(f->st, &r, false, probe_rule, &probe, &h), IZ_ERULE);
    assert_string_equal(h, "H175");
    assert_int_equal(iz_sim_bulk_item_result(f->st, REQ, 0, "failure", NULL, 0, "H175", "ilk RET"),
                     0);
    apply_ok(f, &a);
    iz_sim_change_t same = a;
    assert_int_equal(iz_sim_consent_apply(f->st, &same, true, NULL, NULL, &h), IZ_REPEAT);
    result_ok(f, 1, &a);
    assert_int_equal(iz_sim_batch_end(f->st, 0), 0);
    assert_int_equal(log_rows(f), 1);
    assert_item(f, 0, "failure");
    assert_item(f, 1, "success");
}

/* A change that fails after it has written part of itself spoils the
 * batch: the results after it are refused and the end rolls everything
 * back, so no change is kept without its result or half written. */
static void test_batch_spoiled(void **state)
{
    fx_t *f = *state;
    batch_request(f, 2);
    /* The state row of PHONE2 cannot be written: its log row can. */
    assert_int_equal(raw_sql(f, "CREATE TRIGGER test_fail BEFORE INSERT ON consent_state"
                                " WHEN new.recipient = '" PHONE2 "'"
                                " BEGIN SELECT RAISE(ABORT, 'test'); END"),
                     SQLITE_OK);
    const char *h = NULL;
    assert_int_equal(iz_sim_batch_begin(f->st), 0);
    iz_sim_change_t a = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    apply_ok(f, &a);
    result_ok(f, 0, &a);
    iz_sim_change_t b = change(B1, PHONE2, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    int rc = iz_sim_consent_apply(f->st, &b, false, NULL, NULL, &h);
    assert_true(rc < 0 && rc != IZ_ERULE);
    assert_int_equal(iz_sim_bulk_item_result(f->st, REQ, 1, "failure", NULL, 0, "H015", "x"), rc);
    iz_sim_change_t c = change(B1, "+905320000009", IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    assert_int_equal(iz_sim_consent_apply(f->st, &c, false, NULL, NULL, &h), rc);
    assert_int_equal(iz_sim_batch_end(f->st, 0), rc);
    assert_int_equal(log_rows(f), 0);
    assert_item(f, 0, "enqueue");
    assert_item(f, 1, "enqueue");

    /* The store goes on: outside a batch the same failure is the call's
     * own, and the next batch starts clean. */
    assert_int_equal(iz_sim_consent_apply(f->st, &b, false, NULL, NULL, &h), rc);
    assert_int_equal(log_rows(f), 0);
    assert_int_equal(iz_sim_batch_begin(f->st), 0);
    apply_ok(f, &a);
    assert_int_equal(iz_sim_batch_end(f->st, 0), 0);
    assert_int_equal(log_rows(f), 1);
    int64_t bad = 0;
    assert_int_equal(iz_sim_verify(f->st, &bad), 0);
}

/* Another thread's call waits for the batch to end and then sees it. */
typedef struct waiter {
    iz_sim_store_t *st;
    int rc;
    iz_sim_change_t got;
} waiter_t;

static void *wait_get(void *arg)
{
    waiter_t *w = arg;
    w->rc = iz_sim_consent_get(w->st, P1, B1, IZ_BIREYSEL, IZ_MESAJ, PHONE, &w->got);
    return NULL;
}

static void test_batch_other_thread_waits(void **state)
{
    fx_t *f = *state;
    assert_int_equal(iz_sim_batch_begin(f->st), 0);
    iz_sim_change_t a = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    apply_ok(f, &a);
    waiter_t w = {.st = f->st, .rc = -100};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_get, &w), 0);
    usleep(50 * 1000);
    assert_int_equal(iz_sim_batch_end(f->st, 0), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(w.rc, 0);
    assert_int_equal(w.got.id, a.id);
}

/* ---- reconciliation ------------------------------------------------------ */

static void add_brand(fx_t *f, int64_t iys, int64_t brand)
{
    iz_sim_provider_t p = {.iys_code = iys, .subscription = IZ_SUB_ACTIVE};
    snprintf(p.name, sizeof p.name, "P%lld", (long long)iys);
    snprintf(p.username, sizeof p.username, "u%lld", (long long)iys);
    int rc = iz_sim_provider_add(f->st, &p, "password-123");
    assert_true(rc == 0 || rc == IZ_EEXIST);
    assert_int_equal(iz_sim_brand_add(f->st, iys, brand, "Marka"), 0);
}

static void test_day_changes_and_brands(void **state)
{
    fx_t *f = *state;
    add_brand(f, P1, B1);
    add_brand(f, P1, B2);
    iz_sim_change_t a = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 86400 + 10);
    iz_sim_change_t b = change(B1, PHONE, IZ_RET, IZ_IYS_MOBIL, 1500, 86400 + 20);
    iz_sim_change_t before = change(B1, PHONE2, IZ_ONAY, IZ_HS_WEB, 1000, 86399);
    iz_sim_change_t next = change(B1, PHONE2, IZ_RET, IZ_HS_WEB, 2000, 2 * 86400);
    iz_sim_change_t other = change(B2, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 2 * 86400 + 5);
    apply_ok(f, &before);
    apply_ok(f, &a);
    apply_ok(f, &b);
    apply_ok(f, &next);
    apply_ok(f, &other);
    iz_sim_change_t *list = NULL;
    size_t n = 0;
    /* [86400, 172800): both sources, in log order, the bounds kept */
    assert_int_equal(
        iz_sim_day_changes(f->st, P1, B1, 0, INT64_MAX, 86400, 2 * 86400, 100, &list, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, a.id);
    assert_int_equal(list[1].id, b.id);
    free(list);
    /* max_id and after_id bound the range */
    assert_int_equal(iz_sim_day_changes(f->st, P1, B1, 0, a.id, 86400, 2 * 86400, 100, &list, &n),
                     0);
    assert_int_equal(n, 1);
    free(list);
    assert_int_equal(
        iz_sim_day_changes(f->st, P1, B1, a.id, INT64_MAX, 86400, 2 * 86400, 100, &list, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, b.id);
    free(list);
    iz_sim_brand_key_t *keys = NULL;
    assert_int_equal(iz_sim_day_brands(f->st, 86400, 2 * 86400, &keys, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(keys[0].brand_code, B1);
    free(keys);
    assert_int_equal(iz_sim_day_brands(f->st, 2 * 86400, 3 * 86400, &keys, &n), 0);
    assert_int_equal(n, 2);
    free(keys);

    /* the summary: a first ONAY is an approval, ONAY to RET a rejection */
    iz_sim_day_stat_t st[3][2];
    assert_int_equal(iz_sim_day_summary(f->st, P1, B1, IZ_BIREYSEL, 86400, 2 * 86400, st), 0);
    assert_int_equal(st[IZ_MESAJ - 1][0].approval, 1);
    assert_int_equal(st[IZ_MESAJ - 1][0].total, 1);
    assert_int_equal(st[IZ_MESAJ - 1][1].rejection, 1);
    assert_int_equal(st[IZ_MESAJ - 1][1].total, 1);
    assert_int_equal(st[IZ_ARAMA - 1][0].total, 0);
    assert_int_equal(iz_sim_day_summary(f->st, P1, B1, IZ_TACIR, 86400, 2 * 86400, st), 0);
    assert_int_equal(st[IZ_MESAJ - 1][0].total, 0);
}

static void test_recon_files(void **state)
{
    fx_t *f = *state;
    unsigned char tsr[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    iz_sim_recon_t r = {.iys_code = P1,
                        .brand_code = B1,
                        .date = "2026-01-05",
                        .rows = 2,
                        .max_id = 7,
                        .generated = 100,
                        .tsr = tsr,
                        .tsr_len = sizeof tsr};
    memset(r.hash, 'a', 96);
    iz_sim_recon_t got;
    assert_int_equal(iz_sim_recon_get(f->st, P1, B1, "2026-01-05", &got), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_recon_put(f->st, &r), 0);
    assert_int_equal(iz_sim_recon_get(f->st, P1, B1, "2026-01-05", &got), 0);
    assert_int_equal(got.rows, 2);
    assert_int_equal(got.max_id, 7);
    assert_string_equal(got.hash, r.hash);
    assert_int_equal(got.agreed, 0);
    assert_int_equal(got.tsr_len, sizeof tsr);
    assert_memory_equal(got.tsr, tsr, sizeof tsr);
    iz_sim_recon_clear(&got);
    /* agreement only with the kept hash */
    char other[97];
    memset(other, 'b', 96);
    other[96] = '\0';
    assert_int_equal(iz_sim_recon_agree(f->st, P1, B1, "2026-01-05", other, 200), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_recon_agree(f->st, P1, B1, "2026-01-05", r.hash, 200), 0);
    /* the same content again keeps it, another content drops it */
    r.generated = 300;
    assert_int_equal(iz_sim_recon_put(f->st, &r), 0);
    assert_int_equal(iz_sim_recon_get(f->st, P1, B1, "2026-01-05", &got), 0);
    assert_int_equal(got.agreed, 200);
    iz_sim_recon_clear(&got);
    memcpy(r.hash, other, sizeof other);
    r.rows = 3;
    assert_int_equal(iz_sim_recon_put(f->st, &r), 0);
    fx_reopen(f);
    assert_int_equal(iz_sim_recon_get(f->st, P1, B1, "2026-01-05", &got), 0);
    assert_int_equal(got.agreed, 0);
    assert_int_equal(got.rows, 3);
    iz_sim_recon_clear(&got);

    /* day marks and the purge */
    bool done = true;
    assert_int_equal(iz_sim_recon_day_done(f->st, "2026-01-05", &done), 0);
    assert_false(done);
    assert_int_equal(iz_sim_recon_day_mark(f->st, "2026-01-05", 400), 0);
    assert_int_equal(iz_sim_recon_day_done(f->st, "2026-01-05", &done), 0);
    assert_true(done);
    assert_int_equal(iz_sim_recon_purge(f->st, "2026-01-05"), 0);
    assert_int_equal(iz_sim_recon_get(f->st, P1, B1, "2026-01-05", &got), 0);
    iz_sim_recon_clear(&got);
    assert_int_equal(iz_sim_recon_purge(f->st, "2026-01-06"), 0);
    assert_int_equal(iz_sim_recon_get(f->st, P1, B1, "2026-01-05", &got), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_recon_day_done(f->st, "2026-01-05", &done), 0);
    assert_false(done);

    /* the timestamping key: the first one stored stays */
    char *k = NULL, *c = NULL;
    assert_int_equal(iz_sim_tsa_get(f->st, &k, &c), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_tsa_put(f->st, "key1", "cert1"), 0);
    assert_int_equal(iz_sim_tsa_put(f->st, "key2", "cert2"), 0);
    assert_int_equal(iz_sim_tsa_get(f->st, &k, &c), 0);
    assert_string_equal(k, "key1");
    assert_string_equal(c, "cert1");
    free(k);
    free(c);
}

static void test_changes_filter(void **state)
{
    fx_t *f = *state;
    iz_sim_change_t hs = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    iz_sim_change_t tacir = change(B1, PHONE2, IZ_RET, IZ_SOURCE_NONE, 0, 5001);
    tacir.rtype = IZ_TACIR;
    iz_sim_change_t iys = change(B1, PHONE, IZ_RET, IZ_IYS_WEB, 1500, 5002);
    snprintf(iys.citizen_name, sizeof iys.citizen_name, "Ayşe Yılmaz");
    iz_sim_change_t other_brand = change(B2, PHONE, IZ_RET, IZ_IYS_MOBIL, 1500, 5003);
    iz_sim_change_t iys2 = change(B1, PHONE2, IZ_ONAY, IZ_IYS_KISAMESAJ, 1600, 5004);
    snprintf(iys2.request_id, sizeof iys2.request_id, "0f8fad5b-d9cb-469f-a165-70867728950e");
    apply_ok(f, &hs);
    apply_ok(f, &tacir);
    apply_ok(f, &iys);
    apply_ok(f, &other_brand);
    apply_ok(f, &iys2);

    iz_sim_change_t *list = NULL;
    size_t n = 0;
    assert_int_equal(iz_sim_changes(f->st, P1, B1, true, 0, 0, INT64_MAX, 100, &list, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, iys.id);
    assert_int_equal(list[0].source, IZ_IYS_WEB);
    assert_string_equal(list[0].citizen_name, "Ayşe Yılmaz");
    assert_int_equal(list[1].id, iys2.id);
    assert_string_equal(list[1].request_id, "0f8fad5b-d9cb-469f-a165-70867728950e");
    free(list);

    assert_int_equal(iz_sim_changes(f->st, P1, B1, false, 0, 0, INT64_MAX, 100, &list, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, hs.id);
    assert_int_equal(list[1].id, tacir.id);
    assert_int_equal(list[1].source, IZ_SOURCE_NONE);
    assert_string_equal(list[0].citizen_name, "");
    free(list);

    /* after_id, the time window and the limit. */
    assert_int_equal(iz_sim_changes(f->st, P1, B1, true, iys.id, 0, INT64_MAX, 100, &list, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, iys2.id);
    free(list);
    assert_int_equal(iz_sim_changes(f->st, P1, B1, true, 0, 5003, 5004, 100, &list, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, iys2.id);
    free(list);
    assert_int_equal(iz_sim_changes(f->st, P1, B1, true, 0, 0, 5003, 100, &list, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, iys.id);
    free(list);
    assert_int_equal(iz_sim_changes(f->st, P1, B1, false, 0, 0, INT64_MAX, 1, &list, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, hs.id);
    free(list);
    assert_int_equal(iz_sim_changes(f->st, P1, B1, false, 0, 0, INT64_MAX, 0, &list, &n), 0);
    assert_int_equal(n, 0);
    free(list);
    assert_int_equal(iz_sim_changes(f->st, P2, B1, true, 0, 0, INT64_MAX, 10, &list, &n), 0);
    assert_int_equal(n, 0);
    free(list);
}

static void test_change_id(void **state)
{
    fx_t *f = *state;
    iz_sim_change_t a = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    iz_sim_change_t b = change(B1, PHONE, IZ_RET, IZ_HS_WEB, 1001, 5000);
    iz_sim_change_t c = change(B1, PHONE2, IZ_ONAY, IZ_HS_WEB, 1000, 5001);
    apply_ok(f, &a);
    apply_ok(f, &b);
    apply_ok(f, &c);
    int64_t id = 0;
    assert_int_equal(iz_sim_change_id(f->st, P1, B1, a.txid, 5000, &id), 0);
    assert_int_equal(id, b.id); /* same txid: the newest */
    assert_int_equal(iz_sim_change_id(f->st, P1, B1, c.txid, 5001, &id), 0);
    assert_int_equal(id, c.id);
    assert_int_equal(iz_sim_change_id(f->st, P1, B1, c.txid, 5000, &id), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_change_id(f->st, P1, B2, c.txid, 5001, &id), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_change_id(f->st, P1, B1, "nope", 5001, &id), IZ_ENOTFOUND);
}

static void test_citizen_records(void **state)
{
    fx_t *f = *state;
    iz_sim_provider_t p = provider(P1, "user1");
    assert_int_equal(iz_sim_provider_add(f->st, &p, "pw"), 0);
    assert_int_equal(iz_sim_brand_add(f->st, P1, B1, "Brand One"), 0);

    iz_sim_change_t a = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    iz_sim_change_t a2 = change(B1, PHONE, IZ_RET, IZ_IYS_WEB, 2000, 5001);
    iz_sim_change_t b = change(B2, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5002); /* brand not named */
    iz_sim_change_t c = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5003);
    c.type = IZ_ARAMA;
    iz_sim_change_t other = change(B1, PHONE2, IZ_ONAY, IZ_HS_WEB, 1000, 5004);
    apply_ok(f, &a);
    apply_ok(f, &a2);
    apply_ok(f, &b);
    apply_ok(f, &c);
    apply_ok(f, &other);

    iz_sim_citizen_rec_t *list = NULL;
    size_t n = 0;
    assert_int_equal(iz_sim_citizen_records(f->st, PHONE, &list, &n), 0);
    assert_int_equal(n, 3);
    /* Ordered by provider, brand, type (İYS spelling). */
    assert_int_equal(list[0].cur.brand_code, B1);
    assert_int_equal(list[0].cur.type, IZ_ARAMA);
    assert_int_equal(list[1].cur.brand_code, B1);
    assert_int_equal(list[1].cur.type, IZ_MESAJ);
    assert_int_equal(list[1].cur.status, IZ_RET);
    assert_int_equal(list[1].cur.id, a2.id);
    assert_string_equal(list[1].provider_name, "Provider 700001");
    assert_string_equal(list[1].brand_name, "Brand One");
    assert_int_equal(list[2].cur.brand_code, B2);
    assert_string_equal(list[2].provider_name, "Provider 700001");
    assert_string_equal(list[2].brand_name, "");
    free(list);

    assert_int_equal(iz_sim_citizen_records(f->st, "+905000000000", &list, &n), 0);
    assert_int_equal(n, 0);
    free(list);
}

static void test_consent_at(void **state)
{
    fx_t *f = *state;
    iz_sim_change_t a = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 100, 5000);
    iz_sim_change_t b = change(B1, PHONE, IZ_RET, IZ_IYS_WEB, 200, 5001);
    iz_sim_change_t t = change(B1, PHONE, IZ_ONAY, IZ_SOURCE_NONE, 0, 300);
    t.rtype = IZ_TACIR;
    apply_ok(f, &a);
    apply_ok(f, &b);
    apply_ok(f, &t);
    iz_sim_change_t out;
    assert_int_equal(iz_sim_consent_at(f->st, P1, B1, IZ_BIREYSEL, IZ_MESAJ, PHONE, 99, &out),
                     IZ_ENOTFOUND);
    assert_int_equal(iz_sim_consent_at(f->st, P1, B1, IZ_BIREYSEL, IZ_MESAJ, PHONE, 100, &out), 0);
    assert_int_equal(out.id, a.id);
    assert_int_equal(iz_sim_consent_at(f->st, P1, B1, IZ_BIREYSEL, IZ_MESAJ, PHONE, 199, &out), 0);
    assert_int_equal(out.status, IZ_ONAY);
    assert_int_equal(iz_sim_consent_at(f->st, P1, B1, IZ_BIREYSEL, IZ_MESAJ, PHONE, 250, &out), 0);
    assert_int_equal(out.id, b.id);
    assert_int_equal(out.status, IZ_RET);
    /* Omitted consentDate: its creation counts. */
    assert_int_equal(iz_sim_consent_at(f->st, P1, B1, IZ_TACIR, IZ_MESAJ, PHONE, 299, &out),
                     IZ_ENOTFOUND);
    assert_int_equal(iz_sim_consent_at(f->st, P1, B1, IZ_TACIR, IZ_MESAJ, PHONE, 300, &out), 0);
    assert_int_equal(out.id, t.id);
}

static void test_verify_tamper(void **state)
{
    fx_t *f = *state;
    iz_sim_change_t c[4] = {
        change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000),
        change(B1, PHONE, IZ_RET, IZ_HS_WEB, 2000, 5001),
        change(B1, PHONE2, IZ_ONAY, IZ_SOURCE_NONE, 0, 5002),
        change(B1, PHONE2, IZ_RET, IZ_IYS_WEB, 3000, 5003),
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(c); i++)
        apply_ok(f, &c[i]);
    int64_t bad = 0;
    assert_int_equal(iz_sim_verify(f->st, &bad), 0);

    /* The triggers refuse changing or deleting a log row. */
    assert_int_not_equal(raw_sql(f, "UPDATE consent_log SET status = 'ONAY' WHERE id = 2"),
                         SQLITE_OK);
    assert_int_not_equal(raw_sql(f, "DELETE FROM consent_log WHERE id = 2"), SQLITE_OK);
    assert_int_equal(iz_sim_verify(f->st, &bad), 0);

    /* With the triggers dropped, a changed row is found by its id. */
    assert_int_equal(raw_sql(f, "DROP TRIGGER consent_log_no_update;"
                                "DROP TRIGGER consent_log_no_delete"),
                     SQLITE_OK);
    assert_int_equal(raw_sql(f, "UPDATE consent_log SET status = 'ONAY' WHERE id = 2"), SQLITE_OK);
    assert_int_equal(iz_sim_verify(f->st, &bad), IZ_ERULE);
    assert_int_equal(bad, c[1].id);
    assert_int_equal(raw_sql(f, "UPDATE consent_log SET status = 'RET' WHERE id = 2"), SQLITE_OK);
    assert_int_equal(iz_sim_verify(f->st, &bad), 0);

    /* An omitted consentDate hashes as "", so even NULL turned into 0
     * breaks the chain. */
    assert_int_equal(raw_sql(f, "UPDATE consent_log SET consent_date = 0 WHERE id = 3"), SQLITE_OK);
    assert_int_equal(iz_sim_verify(f->st, &bad), IZ_ERULE);
    assert_int_equal(bad, c[2].id);
    assert_int_equal(raw_sql(f, "UPDATE consent_log SET consent_date = NULL WHERE id = 3"),
                     SQLITE_OK);
    assert_int_equal(iz_sim_verify(f->st, &bad), 0);

    /* A missing row is reported at the row after it. */
    assert_int_equal(raw_sql(f, "DELETE FROM consent_log WHERE id = 3"), SQLITE_OK);
    assert_int_equal(iz_sim_verify(f->st, &bad), IZ_ERULE);
    assert_int_equal(bad, c[3].id);
}

static void test_persistence(void **state)
{
    fx_t *f = *state;
    iz_sim_provider_t p = provider(P1, "user1");
    assert_int_equal(iz_sim_provider_add(f->st, &p, "pw"), 0);
    assert_int_equal(iz_sim_brand_add(f->st, P1, B1, "Brand One"), 0);
    iz_sim_change_t a = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    iz_sim_change_t b = change(B1, PHONE, IZ_RET, IZ_HS_WEB, 2000, 5001);
    apply_ok(f, &a);
    apply_ok(f, &b);
    char ah[IZ_SHA256_HEX], rh[IZ_SHA256_HEX];
    hash_of("a", ah);
    hash_of("r", rh);
    assert_int_equal(iz_sim_token_put(f->st, ah, 1000, rh, 2000, P1, IZ_SIM_SP), 0);
    assert_int_equal(iz_sim_push_set(f->st, P1, B1, "[]"), 0);

    fx_reopen(f);
    int64_t code = 0;
    assert_int_equal(iz_sim_provider_login(f->st, "user1", "pw", &code), 0);
    assert_int_equal(code, P1);
    assert_int_equal(iz_sim_brand_get(f->st, P1, B1, NULL), 0);
    assert_int_equal(iz_sim_token_access(f->st, ah, 10, &code, NULL), 0);
    iz_sim_change_t cur;
    assert_int_equal(iz_sim_consent_get(f->st, P1, B1, IZ_BIREYSEL, IZ_MESAJ, PHONE, &cur), 0);
    assert_int_equal(cur.id, b.id);
    assert_string_equal(cur.txid, b.txid);

    /* The chain goes on across the reopen. */
    iz_sim_change_t c = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 3000, 5002);
    apply_ok(f, &c);
    assert_true(c.id > b.id);
    int64_t bad = 0;
    assert_int_equal(iz_sim_verify(f->st, &bad), 0);
    iz_sim_push_t *pl = NULL;
    size_t n = 0;
    assert_int_equal(iz_sim_push_list(f->st, &pl, &n), 0);
    assert_int_equal(n, 1);
    iz_sim_push_list_free(pl, n);
}

static void test_change_bounds(void **state)
{
    fx_t *f = *state;
    const char *h = NULL;
    iz_sim_change_t c = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    memset(c.recipient, 'a', sizeof c.recipient);
    assert_int_equal(iz_sim_consent_apply(f->st, &c, false, NULL, NULL, &h), IZ_ETOOBIG);
    c = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    memset(c.citizen_name, 'a', sizeof c.citizen_name);
    assert_int_equal(iz_sim_consent_apply(f->st, &c, false, NULL, NULL, &h), IZ_ETOOBIG);
    c = change(B1, PHONE, IZ_STATUS_NONE, IZ_HS_WEB, 1000, 5000);
    assert_int_equal(iz_sim_consent_apply(f->st, &c, false, NULL, NULL, &h), IZ_EINVAL);
    c = change(B1, PHONE, IZ_ONAY, (iz_source_t)999, 1000, 5000);
    assert_int_equal(iz_sim_consent_apply(f->st, &c, false, NULL, NULL, &h), IZ_EINVAL);
    c = change(B1, "", IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    assert_int_equal(iz_sim_consent_apply(f->st, &c, false, NULL, NULL, &h), IZ_EINVAL);
    c = change(0, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    assert_int_equal(iz_sim_consent_apply(f->st, &c, false, NULL, NULL, &h), IZ_EINVAL);
    assert_int_equal(log_rows(f), 0);
}

/* ---- bulk, push, complaints --------------------------------------------- */

static void test_bulk(void **state)
{
    fx_t *f = *state;
    iz_sim_bulk_t b = {.request_id = "11111111-1111-1111-1111-111111111111",
                       .iys_code = P1,
                       .brand_code = B1,
                       .created = 1000,
                       .process_after = 1300};
    const char *bodies[] = {"{\"recipient\":\"+905321234567\"}", "{\"recipient\":\"x\"}",
                            "{\"a\":1}"};
    const char *subs[] = {"aaaaaaaa-0000-0000-0000-000000000000",
                          "bbbbbbbb-0000-0000-0000-000000000000",
                          "cccccccc-0000-0000-0000-000000000000"};
    assert_int_equal(iz_sim_bulk_create(f->st, &b, bodies, subs, 3), 0);
    assert_int_equal(iz_sim_bulk_create(f->st, &b, bodies, subs, 3), IZ_EEXIST);

    iz_sim_bulk_t b2 = b;
    snprintf(b2.request_id, sizeof b2.request_id, "22222222-2222-2222-2222-222222222222");
    b2.created = 1100;
    b2.process_after = 1200; /* due before the first, but younger */
    assert_int_equal(iz_sim_bulk_create(f->st, &b2, bodies, NULL, 1), 0);

    iz_sim_bulk_t got;
    iz_sim_bulk_item_t *items = NULL;
    size_t n = 0;
    assert_int_equal(iz_sim_bulk_get(f->st, b.request_id, &got, &items, &n), 0);
    assert_string_equal(got.request_id, b.request_id);
    assert_int_equal(got.iys_code, P1);
    assert_int_equal(got.brand_code, B1);
    assert_int_equal(got.created, 1000);
    assert_int_equal(got.process_after, 1300);
    assert_int_equal(got.processed_at, 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(items[i].idx, (int)i);
        assert_string_equal(items[i].body, bodies[i]);
        assert_string_equal(items[i].sub_request_id, subs[i]);
        assert_string_equal(items[i].status, "enqueue");
        assert_string_equal(items[i].txid, "");
    }
    iz_sim_bulk_items_free(items, n);
    assert_int_equal(iz_sim_bulk_get(f->st, "missing", &got, NULL, NULL), IZ_ENOTFOUND);

    char id[37];
    assert_int_equal(iz_sim_bulk_next_due(f->st, 1199, id), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_bulk_next_due(f->st, 1200, id), 0);
    assert_string_equal(id, b2.request_id);
    assert_int_equal(iz_sim_bulk_next_due(f->st, 1300, id), 0);
    assert_string_equal(id, b.request_id); /* the oldest due */

    char txid[65];
    hash_of("tx", txid);
    assert_int_equal(
        iz_sim_bulk_item_result(f->st, b.request_id, 0, "success", txid, 1301, NULL, NULL), 0);
    assert_int_equal(iz_sim_bulk_item_result(f->st, b.request_id, 1, "failure", NULL, 0, "H120",
                                             "Geçersiz e-posta"),
                     0);
    assert_int_equal(
        iz_sim_bulk_item_result(f->st, b.request_id, 7, "success", txid, 1301, NULL, NULL),
        IZ_ENOTFOUND);
    assert_int_equal(iz_sim_bulk_item_result(f->st, b.request_id, 0, "done", NULL, 0, NULL, NULL),
                     IZ_EINVAL);
    assert_int_equal(iz_sim_bulk_done(f->st, b.request_id, 1302), 0);
    assert_int_equal(iz_sim_bulk_done(f->st, "missing", 1302), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_bulk_next_due(f->st, 5000, id), 0);
    assert_string_equal(id, b2.request_id);
    assert_int_equal(iz_sim_bulk_done(f->st, b2.request_id, 1303), 0);
    assert_int_equal(iz_sim_bulk_next_due(f->st, 5000, id), IZ_ENOTFOUND);

    assert_int_equal(iz_sim_bulk_get(f->st, b.request_id, &got, &items, &n), 0);
    assert_int_equal(got.processed_at, 1302);
    assert_string_equal(items[0].status, "success");
    assert_string_equal(items[0].txid, txid);
    assert_int_equal(items[0].creation, 1301);
    assert_string_equal(items[1].status, "failure");
    assert_string_equal(items[1].error_code, "H120");
    assert_string_equal(items[1].error_message, "Geçersiz e-posta");
    assert_string_equal(items[2].status, "enqueue");
    iz_sim_bulk_items_free(items, n);

    /* Purge drops requests created before the limit, with their items. */
    assert_int_equal(iz_sim_bulk_purge(f->st, 1050), 0);
    assert_int_equal(iz_sim_bulk_get(f->st, b.request_id, &got, NULL, NULL), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_bulk_get(f->st, b2.request_id, &got, NULL, NULL), 0);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM bulk_items"), 1);
}

static void test_push(void **state)
{
    fx_t *f = *state;
    iz_sim_change_t a = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    iz_sim_change_t b = change(B1, PHONE2, IZ_ONAY, IZ_HS_WEB, 1000, 5001);
    apply_ok(f, &a);
    apply_ok(f, &b);
    const char *conn = "[{\"url\":\"https://example.test/hook\",\"type\":\"BASIC\"}]";
    assert_int_equal(iz_sim_push_set(f->st, P1, B1, conn), 0);
    assert_int_equal(iz_sim_push_set(f->st, P1, B2, "[]"), 0);

    iz_sim_push_t *list = NULL;
    size_t n = 0;
    assert_int_equal(iz_sim_push_list(f->st, &list, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].iys_code, P1);
    assert_int_equal(list[0].brand_code, B1);
    assert_string_equal(list[0].connections, conn);
    assert_int_equal(list[0].cursor, b.id);
    assert_int_equal(list[1].brand_code, B2);
    iz_sim_push_list_free(list, n);

    assert_int_equal(iz_sim_push_advance(f->st, P1, B1, 5), 0);
    assert_int_equal(iz_sim_push_advance(f->st, P1, B1, 3), 0); /* never backwards */
    assert_int_equal(iz_sim_push_advance(f->st, P2, B1, 3), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_push_list(f->st, &list, &n), 0);
    assert_int_equal(list[0].cursor, 5);
    iz_sim_push_list_free(list, n);

    /* A new registration replaces the connections and restarts the cursor at
     * the end of the log. */
    iz_sim_change_t c = change(B1, PHONE, IZ_RET, IZ_IYS_WEB, 2000, 5002);
    apply_ok(f, &c);
    assert_int_equal(iz_sim_push_set(f->st, P1, B1, "[]"), 0);
    assert_int_equal(iz_sim_push_list(f->st, &list, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].connections, "[]");
    assert_int_equal(list[0].cursor, c.id);
    iz_sim_push_list_free(list, n);
}

/* ---- retailers ------------------------------------------------------------ */

static iz_sim_retailer_t retailer(int64_t brand, const char *mersis, const char *tckn,
                                  const char *status)
{
    iz_sim_retailer_t r;
    memset(&r, 0, sizeof r);
    r.iys_code = P1;
    r.brand_code = brand;
    snprintf(r.title, sizeof r.title, "Bayi");
    snprintf(r.name, sizeof r.name, "Ad Soyad");
    snprintf(r.mersis, sizeof r.mersis, "%s", mersis);
    snprintf(r.tckn, sizeof r.tckn, "%s", tckn);
    snprintf(r.tin, sizeof r.tin, "8450525470");
    snprintf(r.city_code, sizeof r.city_code, "34");
    snprintf(r.city_name, sizeof r.city_name, "İstanbul");
    snprintf(r.town_code, sizeof r.town_code, "1");
    snprintf(r.town_name, sizeof r.town_name, "Kadıköy");
    snprintf(r.status, sizeof r.status, "%s", status);
    return r;
}

static void test_retailers(void **state)
{
    fx_t *f = *state;
    iz_sim_provider_t p = provider(P1, "retail");
    assert_int_equal(iz_sim_provider_add(f->st, &p, "pw"), 0);
    assert_int_equal(iz_sim_brand_add(f->st, P1, B1, "B1"), 0);
    assert_int_equal(iz_sim_brand_add(f->st, P1, B2, "B2"), 0);
    const char *h = NULL, *field = NULL;
    iz_sim_retailer_t a = retailer(B1, "0000000000000001", "57703411244", "active");
    iz_sim_retailer_t b = retailer(B1, "", "10000000146", "passive");
    iz_sim_retailer_t c = retailer(B2, "", "10000000078", "active");
    assert_int_equal(iz_sim_retailer_add(f->st, &a, &h, &field), 0);
    assert_true(a.code >= 10000000 && a.code <= 99999999);
    assert_int_equal(iz_sim_retailer_add(f->st, &b, &h, &field), 0);
    assert_int_equal(iz_sim_retailer_add(f->st, &c, &h, &field), 0);
    /* mersis and tckn are unique within the provider; a passive one is H253 */
    iz_sim_retailer_t dup = retailer(B2, "0000000000000001", "", "active");
    assert_int_equal(iz_sim_retailer_add(f->st, &dup, &h, &field), IZ_ERULE);
    assert_string_equal(h, "H230");
    assert_string_equal(field, "mersis");
    dup = retailer(B2, "", "10000000146", "active");
    assert_int_equal(iz_sim_retailer_add(f->st, &dup, &h, &field), IZ_ERULE);
    assert_string_equal(h, "H253");
    assert_string_equal(field, "tckn");
    dup = retailer(999, "", "10000000220", "active");
    assert_int_equal(iz_sim_retailer_add(f->st, &dup, &h, &field), IZ_ENOTFOUND);

    /* the brand's list, in creation order */
    iz_sim_retailer_t *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(iz_sim_retailer_list(f->st, P1, B1, 1, 10, &list, &n, &total), 0);
    assert_int_equal(total, 2);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].code, b.code);
    free(list);

    /* access: checked codes, consents that exist only */
    iz_sim_change_t chg = change(B1, PHONE, IZ_ONAY, IZ_HS_WEB, 1000, 5000);
    assert_int_equal(iz_sim_consent_apply(f->st, &chg, false, NULL, NULL, &h), 0);
    iz_sim_key_t keys[2] = {{.iys_code = P1,
                             .brand_code = B1,
                             .rtype = IZ_BIREYSEL,
                             .type = IZ_MESAJ,
                             .recipient = PHONE},
                            {.iys_code = P1,
                             .brand_code = B1,
                             .rtype = IZ_BIREYSEL,
                             .type = IZ_MESAJ,
                             .recipient = "+905329999999"}};
    size_t found = 0, bad = 0;
    int64_t codes[2] = {b.code, c.code};
    assert_int_equal(
        iz_sim_access_change(f->st, IZ_SIM_ACCESS_ADD, keys, 2, codes, 2, 0, &found, &bad, &h),
        IZ_ERULE);
    assert_string_equal(h, "H353");
    assert_int_equal(bad, 1);
    codes[1] = 12345;
    assert_int_equal(
        iz_sim_access_change(f->st, IZ_SIM_ACCESS_ADD, keys, 2, codes, 2, 0, &found, &bad, &h),
        IZ_ERULE);
    assert_string_equal(h, "H180");
    assert_int_equal(
        iz_sim_access_change(f->st, IZ_SIM_ACCESS_ADD, keys, 2, codes, 1, a.code, &found, &bad, &h),
        0);
    assert_int_equal(found, 1);
    iz_sim_consent_retail_t cr;
    assert_int_equal(iz_sim_consent_retail(f->st, &keys[0], &cr), 0);
    assert_int_equal(cr.mediator, a.code);
    assert_string_equal(cr.title, "Bayi");
    assert_int_equal(cr.access_count, 2);
    assert_int_equal(iz_sim_retailer_delete(f->st, P1, B1, b.code), IZ_EEXIST);
    assert_int_equal(iz_sim_retailer_delete(f->st, P1, B2, b.code), IZ_ENOTFOUND);
    /* SET replaces, the mediator's access included; REMOVE_ALL empties */
    assert_int_equal(
        iz_sim_access_change(f->st, IZ_SIM_ACCESS_SET, keys, 1, &b.code, 1, 0, &found, &bad, &h),
        0);
    assert_int_equal(iz_sim_access_list(f->st, &keys[0], 0, 10, &list, &n, &total), 0);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].code, b.code);
    assert_int_equal(list[0].access_count, 1);
    free(list);
    assert_int_equal(iz_sim_access_change(f->st, IZ_SIM_ACCESS_REMOVE_ALL, keys, 1, NULL, 0, 0,
                                          &found, &bad, &h),
                     0);
    assert_int_equal(iz_sim_consent_retail(f->st, &keys[0], &cr), 0);
    assert_int_equal(cr.access_count, 0);
    assert_int_equal(cr.mediator, a.code);
    assert_int_equal(iz_sim_retailer_delete(f->st, P1, B1, b.code), 0);
    assert_int_equal(iz_sim_retailer_delete(f->st, P1, B1, a.code), IZ_EEXIST);
    /* it all survives a reopen */
    fx_reopen(f);
    iz_sim_retailer_t got;
    assert_int_equal(iz_sim_retailer_get(f->st, a.code, &got), 0);
    assert_string_equal(got.mersis, "0000000000000001");
    assert_string_equal(got.city_name, "İstanbul");
    assert_int_equal(iz_sim_retailer_get(f->st, b.code, &got), IZ_ENOTFOUND);
}

/* A version 7 file kept the ViA credit twice (via_subscriptions and the
 * accounts' product_subscriptions): migration 8 makes each ViA part's row
 * the provider's VIA row, keeps the other rows and drops the old table. */
static void test_via_credit_migration(void **state)
{
    fx_t *f = *state;
    iz_sim_provider_t p1 = provider(P1, "user1"), p2 = provider(P2, "user2");
    assert_int_equal(iz_sim_provider_add(f->st, &p1, "s3cret"), 0);
    assert_int_equal(iz_sim_provider_add(f->st, &p2, "s3cret"), 0);
    iz_sim_via_t v = {.sub = {.status = IZ_SUB_ACTIVE, .id = "acc", .package = "ViA-5"},
                      .credit = 5};
    assert_int_equal(iz_sim_via_set(f->st, P1, false, &v), 0);
    v.credit = 7;
    assert_int_equal(iz_sim_via_set(f->st, P2, false, &v), 0);
    iz_sim_store_close(f->st);
    f->st = NULL;
    assert_int_equal(
        raw_sql(f, "ALTER TABLE product_subscriptions DROP COLUMN limited;"
                   "ALTER TABLE product_subscriptions DROP COLUMN auto_renewal;"
                   "ALTER TABLE product_subscriptions DROP COLUMN created;"
                   "CREATE TABLE via_subscriptions(iys_code INTEGER PRIMARY KEY,"
                   " credit INTEGER NOT NULL, body TEXT NOT NULL);"
                   "INSERT INTO via_subscriptions VALUES(700001, 42, '{\"id\":\"via-id\","
                   "\"package\":\"VIA-PASS-25\",\"status\":\"PASSIVE\",\"limited\":false,"
                   "\"autoRenewal\":true,\"start\":100,\"expiration\":200,\"created\":90}');"
                   "INSERT INTO via_subscriptions VALUES(123, 1, '{}');" /* no such provider */
                   "UPDATE meta SET value = '7' WHERE key = 'schema_version'"),
        SQLITE_OK);
    fx_reopen(f);
    assert_int_equal(raw_i64(f, "SELECT value FROM meta WHERE key = 'schema_version'"), SIM_SCHEMA);
    assert_int_equal(
        raw_i64(f, "SELECT count(*) FROM sqlite_master WHERE name = 'via_subscriptions'"), 0);
    assert_int_equal(iz_sim_via_get(f->st, P1, false, &v), 0);
    assert_int_equal(v.credit, 42);
    assert_string_equal(v.sub.id, "via-id");
    assert_int_equal(v.sub.status, IZ_SUB_PAUSED);
    assert_int_equal(v.sub.start, 100);
    assert_int_equal(v.created, 90);
    assert_false(v.limited);
    assert_true(v.auto_renewal);
    assert_int_equal(iz_sim_via_get(f->st, P2, false, &v), 0);
    assert_int_equal(v.credit, 7);
    assert_string_equal(v.sub.id, "acc");
    assert_true(v.limited);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM product_subscriptions"), 2);
}

/* The via_* tables (viastore.h): credit is taken only while it lasts, a
 * process is found by requestId and short code and both are unique, a
 * link is used once, a nonce holds only for its widget, CSRF token and
 * time, and lists come back in their order. */
static void test_viastore(void **state)
{
    fx_t *f = *state;
    int64_t owner = 0;
    char *body = NULL;
    /* The ViA credit is product_subscriptions' VIA row (v8), the same
     * the accounts' subscription query shows (a provider's row). */
    iz_sim_provider_t p1 = provider(P1, "user1");
    assert_int_equal(iz_sim_provider_add(f->st, &p1, "s3cret"), 0);
    iz_sim_via_t v = {.sub = {.status = IZ_SUB_ACTIVE, .id = "v1", .package = "VIA-PASS-25"},
                      .credit = 2};
    assert_int_equal(iz_sim_via_get(f->st, P1, false, &v), IZ_ENOTFOUND);
    v = (iz_sim_via_t){.sub = {.status = IZ_SUB_ACTIVE, .id = "v1", .package = "VIA-PASS-25"},
                       .credit = 2};
    assert_int_equal(iz_sim_via_take(f->st, P1, 1), IZ_ERULE);
    assert_int_equal(iz_sim_via_set(f->st, P1, false, &v), 0);
    assert_int_equal(iz_sim_via_take(f->st, P1, 2), 0);
    assert_int_equal(iz_sim_via_take(f->st, P1, 1), IZ_ERULE);
    assert_int_equal(iz_sim_via_get(f->st, P1, false, &v), 0);
    assert_int_equal(v.credit, 0);
    assert_int_equal(v.sub.status, IZ_SUB_ACTIVE);
    assert_true(v.created > 0);
    /* the ViA PASS row's credit is its own; an unlimited one stays */
    assert_int_equal(iz_sim_via_take(f->st, P2, 1), IZ_ERULE);
    v.credit = -1;
    assert_int_equal(iz_sim_via_set(f->st, P1, false, &v), 0);
    assert_int_equal(iz_sim_via_take(f->st, P1, 5), 0);
    assert_int_equal(iz_sim_via_get(f->st, P1, false, &v), 0);
    assert_int_equal(v.credit, -1);

    assert_int_equal(iz_sim_via_config_put(f->st, "FORM", "f1", P1, "{}"), 0);
    assert_int_equal(iz_sim_via_config_put(f->st, "FORM", "f1", P2, "{\"a\":1}"), 0);
    assert_int_equal(iz_sim_via_config_get(f->st, "FORM", "f1", &owner, &body), 0);
    assert_int_equal(owner, P2);
    assert_string_equal(body, "{\"a\":1}");
    free(body);
    assert_int_equal(iz_sim_via_config_get(f->st, "TEMPLATE", "f1", &owner, &body), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_via_config_put(f->st, "OTHER", "x", P1, "{}"), IZ_EIO);

    iz_sim_via_req_t q = {.request_id = "r1", .iys_code = P1, .short_code = "AbC123", .created = 7,
                          .body = "{\"n\":1}"};
    assert_int_equal(iz_sim_via_req_add(f->st, &q), 0);
    assert_int_equal(iz_sim_via_req_add(f->st, &q), IZ_EEXIST);
    iz_sim_via_req_t q2 = {.request_id = "r2", .iys_code = P1, .short_code = "AbC123", .body = "{}"};
    assert_int_equal(iz_sim_via_req_add(f->st, &q2), IZ_EEXIST); /* the short code is taken */
    q2.short_code[0] = '\0';
    assert_int_equal(iz_sim_via_req_add(f->st, &q2), 0);
    assert_int_equal(iz_sim_via_req_set(f->st, "r1", "{\"n\":2}"), 0);
    assert_int_equal(iz_sim_via_req_set(f->st, "nope", "{}"), IZ_ENOTFOUND);
    iz_sim_via_req_t got;
    assert_int_equal(iz_sim_via_req_by_short(f->st, "AbC123", &got), 0);
    assert_string_equal(got.request_id, "r1");
    assert_string_equal(got.body, "{\"n\":2}");
    assert_int_equal(got.created, 7);
    free(got.body);
    assert_int_equal(iz_sim_via_req_get(f->st, "r2", &got), 0);
    assert_string_equal(got.short_code, "");
    free(got.body);

    char **list = NULL;
    size_t n = 0;
    assert_int_equal(iz_sim_via_kvk_add(f->st, P1, "r1", PHONE, "ACIK_RIZA_METNI", "{\"k\":1}"), 0);
    assert_int_equal(iz_sim_via_kvk_add(f->st, P1, "r2", PHONE, "ACIK_RIZA_METNI", "{\"k\":2}"), 0);
    assert_int_equal(iz_sim_via_kvk_requests(f->st, P1, PHONE, "ACIK_RIZA_METNI", &list, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0], "r1");
    iz_sim_via_strings_free(list, n);
    assert_int_equal(iz_sim_via_kvk_of_request(f->st, "r2", &list, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0], "{\"k\":2}");
    iz_sim_via_strings_free(list, n);

    for (int i = 0; i < 3; i++) {
        char m[16];
        snprintf(m, sizeof m, "m%d", i);
        assert_int_equal(iz_sim_via_message_add(f->st, PHONE, "r1", 10 + i, m), 0);
    }
    assert_int_equal(iz_sim_via_messages(f->st, PHONE, 2, &list, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0], "m2"); /* newest first */
    assert_string_equal(list[1], "m1");
    iz_sim_via_strings_free(list, n);

    iz_sim_via_link_t l = {.hash = "h1", .iys_code = P1, .brand_code = B1, .recipient = "a@b.com",
                           .rtype = "BIREYSEL", .created = 1, .expires = 100};
    assert_int_equal(iz_sim_via_link_add(f->st, &l), 0);
    assert_int_equal(iz_sim_via_link_use(f->st, "h1", 50), 0);
    assert_int_equal(iz_sim_via_link_use(f->st, "h1", 51), IZ_ENOTFOUND);
    iz_sim_via_link_t gl;
    assert_int_equal(iz_sim_via_link_get(f->st, "h1", &gl), 0);
    assert_int_equal(gl.used, 50);
    assert_string_equal(gl.recipient, "a@b.com");

    assert_int_equal(iz_sim_via_nonce_add(f->st, "n1", "w1", 1000), 0);
    assert_int_equal(iz_sim_via_nonce_bind(f->st, "n1", "w2", "c", 10), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_via_nonce_bind(f->st, "n1", "w1", "c", 2000), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_via_nonce_bind(f->st, "n1", "w1", "c", 10), 0);
    assert_int_equal(iz_sim_via_nonce_check(f->st, "n1", "w1", "c", 10), 0);
    assert_int_equal(iz_sim_via_nonce_check(f->st, "n1", "w1", "d", 10), IZ_ENOTFOUND);
    assert_int_equal(iz_sim_via_nonce_check(f->st, "n1", "w1", "c", 1000), IZ_ENOTFOUND);
}

static void test_complaints(void **state)
{
    fx_t *f = *state;
    iz_sim_complaint_t c = {0};
    c.iys_code = P1;
    c.brand_code = B1;
    snprintf(c.recipient, sizeof c.recipient, "%s", PHONE);
    c.type = IZ_MESAJ;
    c.message_time = 4000;
    snprintf(c.text, sizeof c.text, "İzin vermediğim halde SMS geldi.");
    c.created = 5000;
    assert_int_equal(iz_sim_complaint_add(f->st, &c), 0);
    int64_t first = c.id;
    assert_true(first > 0);
    c.created = 6000;
    c.type = IZ_ARAMA;
    assert_int_equal(iz_sim_complaint_add(f->st, &c), 0);
    int64_t second = c.id;
    c.iys_code = P2;
    c.created = 0;
    assert_int_equal(iz_sim_complaint_add(f->st, &c), 0);
    assert_true(c.created > 6000);
    int64_t third = c.id;
    c.type = IZ_TYPE_NONE;
    assert_int_equal(iz_sim_complaint_add(f->st, &c), IZ_EINVAL);
    c.type = IZ_MESAJ;
    memset(c.text, 'x', sizeof c.text);
    assert_int_equal(iz_sim_complaint_add(f->st, &c), IZ_ETOOBIG);

    iz_sim_complaint_t *list = NULL;
    size_t n = 0;
    assert_int_equal(iz_sim_complaint_list(f->st, 0, &list, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(list[0].id, third);
    assert_int_equal(list[1].id, second);
    assert_int_equal(list[2].id, first);
    assert_int_equal(list[2].type, IZ_MESAJ);
    assert_int_equal(list[2].message_time, 4000);
    assert_string_equal(list[2].recipient, PHONE);
    assert_string_equal(list[2].text, "İzin vermediğim halde SMS geldi.");
    free(list);
    assert_int_equal(iz_sim_complaint_list(f->st, P1, &list, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, second);
    assert_int_equal(list[0].type, IZ_ARAMA);
    free(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_providers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_brands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_refresh_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consent_apply_get_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_repeat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_second_txid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_records_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retailers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_rollback_and_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_spoiled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_other_thread_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_day_changes_and_brands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recon_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_citizen_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consent_at, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_tamper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complaints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_viastore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_via_credit_migration, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
