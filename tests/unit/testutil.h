/*
 * testutil.h - what the unit tests share: a temporary directory made and
 * removed with everything in it, and the test store of such a directory.
 * Header-only (static functions), included by the test programs that need
 * it; each test program is one file.
 *
 * The test store: an SQLite store in the directory, or, when IZIN_TEST_PG
 * names a PostgreSQL server (a superuser's URL: `make test` starts one with
 * scripts/pg.sh for its PostgreSQL pass), a fresh database of its own on
 * that server, named after the directory's path (mkdtemp made it unique), with
 * a fixed test key sealing its secrets.
 */
#ifndef IZ_TESTUTIL_H
#define IZ_TESTUTIL_H

#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "store/store.h"

static inline int iz_test_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Remove dir and everything below it (rm -rf); 0 on success. */
static inline int iz_test_rmtree(const char *dir)
{
    return nftw(dir, iz_test_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* The PostgreSQL server of the PostgreSQL pass, or NULL. */
static inline const char *iz_test_pg(void)
{
    const char *u = getenv("IZIN_TEST_PG");
    return u && *u ? u : NULL;
}

/* The key of every PostgreSQL test store. */
#define IZ_TEST_PG_KEY "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

/* The location of dir's test store into out (size bytes): dir itself, or
 * on the PostgreSQL pass the URL of a database named after dir's last
 * path, created when missing. 0, or -1 when it cannot be made. */
static inline int iz_test_store_loc(const char *dir, char *out, size_t size)
{
    const char *base = iz_test_pg();
    if (!base) return snprintf(out, size, "%s", dir) < (int)size ? 0 : -1;
    /* The database's name: a hash of the directory's path. */
    unsigned long long h = 14695981039346656037ULL;
    for (const char *p = dir; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    char db[24];
    snprintf(db, sizeof db, "%016llx", h);
    PQconninfoOption *o = PQconninfoParse(base, NULL);
    const char *host = "", *user = "";
    for (PQconninfoOption *x = o; x && x->keyword; x++) {
        if (!strcmp(x->keyword, "host") && x->val) host = x->val;
        if (!strcmp(x->keyword, "user") && x->val) user = x->val;
    }
    int w = snprintf(out, size, "postgresql:///t_%s?host=%s&user=%s", db, host, user);
    PQconninfoFree(o);
    if (w < 0 || (size_t)w >= size) return -1;
    PGconn *c = PQconnectdb(base);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE t_%s", db);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    bool ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || (state && !strcmp(state, "42P04")));
    if (!ok) fprintf(stderr, "testutil: cannot create database t_%s: %s", db, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

/* Run SQL on dir's test store through a connection of the test's own, as
 * an operator (or an attacker) with access to the database would: 0 when
 * it ran, else the engine's failure (non-zero). */
static inline int iz_test_raw_exec(const char *dir, const char *sql)
{
    char loc[512];
    if (iz_test_store_loc(dir, loc, sizeof loc) != 0) return -1;
    if (iz_test_pg()) {
        PGconn *c = PQconnectdb(loc);
        PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
        ExecStatusType st = PQresultStatus(r);
        int rc = r && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? 0 : 1;
        PQclear(r);
        PQfinish(c);
        return rc;
    }
    char db[600];
    snprintf(db, sizeof db, "%s/izin.db", dir);
    sqlite3 *h = NULL;
    int rc = sqlite3_open(db, &h);
    if (rc == SQLITE_OK) rc = sqlite3_busy_timeout(h, 5000);
    if (rc == SQLITE_OK) rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
    sqlite3_close(h);
    return rc;
}

/* The first column of the first row of a query on dir's test store, as an
 * integer or into text (size bytes; "" for none or NULL); -1 when the query
 * fails or has no row. */
static inline int64_t iz_test_raw_text(const char *dir, const char *sql, char *out, size_t size)
{
    char loc[512];
    int64_t n = -1;
    if (out && size) out[0] = '\0';
    if (iz_test_store_loc(dir, loc, sizeof loc) != 0) return -1;
    if (iz_test_pg()) {
        PGconn *c = PQconnectdb(loc);
        PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
            const char *v = PQgetvalue(r, 0, 0);
            n = PQgetisnull(r, 0, 0) ? 0 : strtoll(v, NULL, 10);
            if (out && size && !PQgetisnull(r, 0, 0)) snprintf(out, size, "%s", v);
        }
        PQclear(r);
        PQfinish(c);
        return n;
    }
    char db[600];
    snprintf(db, sizeof db, "%s/izin.db", dir);
    sqlite3 *h = NULL;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_open(db, &h) == SQLITE_OK && sqlite3_busy_timeout(h, 5000) == SQLITE_OK &&
        sqlite3_prepare_v2(h, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        n = sqlite3_column_int64(stmt, 0);
        const unsigned char *t = sqlite3_column_text(stmt, 0);
        if (out && size && t) snprintf(out, size, "%s", (const char *)t);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(h);
    return n;
}

static inline int64_t iz_test_raw_i64(const char *dir, const char *sql)
{
    return iz_test_raw_text(dir, sql, NULL, 0);
}

/* Open dir's test store (iz_store_open's answer). */
static inline int iz_test_store_open(const char *dir, iz_store_t **st, const char **err)
{
    char loc[512];
    if (iz_test_store_loc(dir, loc, sizeof loc) != 0) {
        *err = "the test database cannot be made";
        return -1;
    }
    iz_store_opts_t so = {.secret_key_hex = IZ_TEST_PG_KEY};
    return iz_store_open(loc, iz_test_pg() ? &so : NULL, st, err);
}

#endif
