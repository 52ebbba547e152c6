/*
 * store_sqlite.c - the embedded SQLite backend of the store: one database
 * file, WAL journal with synchronous=FULL so that a call returning 0 is on
 * disk, the schema kept by an ordered list of migrations, and the consent
 * log written as a hash chain (see the invariants at the top of store.h).
 *
 * One sqlite3 connection per store, guarded by a mutex: every call takes the
 * mutex, so calls from many threads serialize and the connection's prepared
 * statements (cached in the store, prepared on first use) are never shared
 * between two running calls. Every write runs in a BEGIN IMMEDIATE
 * transaction, and every path out of a function leaves no transaction open.
 * The log check (iz_store_verify_log) reads through its own read-only
 * connection, so a long walk does not hold writers up (WAL readers see a
 * snapshot and never block the writer).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/iz.h"
#include "store/store_int.h"

#define SQ_BUSY_TIMEOUT_MS 5000

/* ---- schema ------------------------------------------------------------- */

/* The migrations, applied in order; migrations[i] brings the schema from
 * version i to version i + 1. A released entry is never edited: a schema
 * change is a new entry at the end. */
static const char *const migrations[] = {
    /* 1: accounts, brands, API keys, the consent log and state, outbox. */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE accounts("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " iys_code INTEGER NOT NULL DEFAULT 0,"
    " activation_date TEXT,"
    " iys_url TEXT NOT NULL DEFAULT '',"
    " iys_user TEXT NOT NULL DEFAULT '',"
    " iys_password TEXT NOT NULL DEFAULT '',"
    " plan TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE brands("
    " id INTEGER PRIMARY KEY,"
    " account_id INTEGER NOT NULL REFERENCES accounts(id),"
    " code INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " keyword TEXT NOT NULL DEFAULT '',"
    " short_number TEXT NOT NULL DEFAULT '',"
    " subscriber_number TEXT NOT NULL DEFAULT '',"
    " slug TEXT UNIQUE,"
    " created_at INTEGER NOT NULL,"
    " UNIQUE(account_id, code));"
    "CREATE TABLE api_keys("
    " id INTEGER PRIMARY KEY,"
    " account_id INTEGER NOT NULL REFERENCES accounts(id),"
    " hash TEXT NOT NULL UNIQUE,"
    " prefix TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " revoked_at INTEGER);"
    "CREATE INDEX api_keys_account ON api_keys(account_id);"
    "CREATE TABLE consent_log("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " brand_id INTEGER NOT NULL,"
    " recipient TEXT NOT NULL,"
    " rtype TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " source TEXT,"
    " consent_date INTEGER,"
    " creation_ms INTEGER NOT NULL,"
    " origin TEXT,"
    " iys_state TEXT,"
    " iys_txid TEXT,"
    " iys_error TEXT,"
    " warning TEXT,"
    " evidence TEXT,"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE INDEX consent_log_key ON consent_log(brand_id, recipient, rtype, type, id);"
    /* Append-only, enforced for every writer of the file: no delete, and no
     * change to an immutable column once the row has its hash. */
    "CREATE TRIGGER consent_log_no_delete BEFORE DELETE ON consent_log"
    " BEGIN SELECT RAISE(ABORT, 'consent_log is append-only'); END;"
    "CREATE TRIGGER consent_log_no_update BEFORE UPDATE OF id, brand_id, recipient, rtype,"
    " type, status, source, consent_date, creation_ms, origin, warning, evidence, prev_hash,"
    " hash ON consent_log WHEN old.hash <> ''"
    " BEGIN SELECT RAISE(ABORT, 'consent_log is append-only'); END;"
    "CREATE TABLE consent_state("
    " brand_id INTEGER NOT NULL,"
    " recipient TEXT NOT NULL,"
    " rtype TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " log_id INTEGER NOT NULL REFERENCES consent_log(id),"
    " status TEXT NOT NULL,"
    " source TEXT,"
    " consent_date INTEGER,"
    " PRIMARY KEY(brand_id, recipient, rtype, type)) WITHOUT ROWID;"
    "CREATE TABLE outbox("
    " id INTEGER PRIMARY KEY,"
    " log_id INTEGER NOT NULL UNIQUE REFERENCES consent_log(id),"
    " created_ms INTEGER NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'PENDING');",
    /* 2: the sync engine: outbox scheduling, pull cursors, RET deadlines. */
    "ALTER TABLE outbox ADD COLUMN bulk INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE outbox ADD COLUMN next_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE outbox ADD COLUMN request_id TEXT;"
    "ALTER TABLE outbox ADD COLUMN sent_ms INTEGER;"
    "ALTER TABLE outbox ADD COLUMN last_error TEXT;"
    "CREATE INDEX outbox_state ON outbox(state, bulk, next_ms);"
    "CREATE INDEX consent_log_txid ON consent_log(iys_txid);"
    "CREATE INDEX consent_log_brand ON consent_log(brand_id, id);"
    "CREATE TABLE iys_cursor("
    " brand_id INTEGER NOT NULL,"
    " source TEXT NOT NULL,"
    " cursor TEXT NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " PRIMARY KEY(brand_id, source)) WITHOUT ROWID;"
    "CREATE TABLE ret_deadlines("
    " log_id INTEGER PRIMARY KEY REFERENCES consent_log(id),"
    " deadline INTEGER NOT NULL,"
    " done_ms INTEGER);"
    "CREATE INDEX ret_open ON ret_deadlines(done_ms, deadline);",
};

#define SQ_SCHEMA_VERSION ((int)IZ_ARRAY_LEN(migrations))
_Static_assert(IZ_ARRAY_LEN(migrations) == IZ_STORE_SCHEMA_VERSION, "store.h names the schema version");

/* ---- prepared statements ------------------------------------------------ */

#define ACC_COLS                                                                                   \
    "id, name, iys_code, activation_date, iys_url, iys_user, iys_password, plan, created_at"
#define BRAND_COLS                                                                                 \
    "id, account_id, code, name, keyword, short_number, subscriber_number, slug, created_at"
#define CHG_COLS                                                                                   \
    "l.id, l.brand_id, l.recipient, l.rtype, l.type, l.status, l.source, l.consent_date,"          \
    " l.creation_ms, l.origin, l.iys_state, l.iys_txid, l.iys_error, l.warning, l.evidence"
#define KEY_WHERE "brand_id = ?1 AND recipient = ?2 AND rtype = ?3 AND type = ?4"

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_PING,
    ST_ACC_ADD,
    ST_ACC_BY_NAME,
    ST_ACC_GET,
    ST_BRAND_ADD,
    ST_BRAND_GET,
    ST_KEY_ADD,
    ST_KEY_LOOKUP,
    ST_KEY_REVOKE,
    ST_LOG_REPEAT,
    ST_STATE_CUR,
    ST_LOG_LAST,
    ST_LOG_INSERT,
    ST_LOG_SET_HASH,
    ST_STATE_UPSERT,
    ST_OUTBOX_ADD,
    ST_CONSENT_GET,
    ST_HISTORY,
    ST_STATUS,
    ST_OUTBOX_COUNT,
    ST_RET_ADD,
    ST_OUTBOX_DUE,
    ST_OUTBOX_INFLIGHT,
    ST_OUTBOX_MARK,
    ST_LOG_MARK_SENT,
    ST_OUTBOX_RETRY,
    ST_LOG_IYS,
    ST_OUTBOX_DEL,
    ST_RET_DONE,
    ST_BY_TXID,
    ST_CHANGES,
    ST_BRANDS_ALL,
    ST_CURSOR_GET,
    ST_CURSOR_SET,
    ST_RET_OPEN,
    ST_RET_LATE,
    ST_COUNT_
};

#define OUTBOX_SELECT                                                                              \
    "SELECT " CHG_COLS ", b.account_id, b.code, o.attempts, o.bulk, o.state, o.request_id,"        \
    " o.sent_ms FROM outbox o JOIN consent_log l ON l.id = o.log_id"                               \
    " JOIN brands b ON b.id = l.brand_id"

static const char *const sq_sql[ST_COUNT_] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_PING] = "SELECT 1",
    [ST_ACC_ADD] = "INSERT INTO accounts(name, iys_code, activation_date, iys_url, iys_user,"
                   " iys_password, plan, created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_ACC_BY_NAME] = "SELECT " ACC_COLS " FROM accounts WHERE name = ?",
    [ST_ACC_GET] = "SELECT " ACC_COLS " FROM accounts WHERE id = ?",
    [ST_BRAND_ADD] = "INSERT INTO brands(account_id, code, name, keyword, short_number,"
                     " subscriber_number, slug, created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_BRAND_GET] = "SELECT " BRAND_COLS " FROM brands WHERE account_id = ? AND code = ?",
    [ST_KEY_ADD] = "INSERT INTO api_keys(account_id, hash, prefix, created_at)"
                   " VALUES(?, ?, ?, ?)",
    [ST_KEY_LOOKUP] = "SELECT account_id FROM api_keys WHERE hash = ? AND revoked_at IS NULL",
    [ST_KEY_REVOKE] = "UPDATE api_keys SET revoked_at = ? WHERE account_id = ? AND hash = ?"
                      " AND revoked_at IS NULL",
    [ST_LOG_REPEAT] = "SELECT " CHG_COLS " FROM consent_log l WHERE " KEY_WHERE
                      " AND status = ?5 AND source IS ?6 AND consent_date IS ?7"
                      " ORDER BY id DESC LIMIT 1",
    [ST_STATE_CUR] = "SELECT status, source, consent_date FROM consent_state WHERE " KEY_WHERE,
    [ST_LOG_LAST] = "SELECT hash FROM consent_log ORDER BY id DESC LIMIT 1",
    [ST_LOG_INSERT] = "INSERT INTO consent_log(brand_id, recipient, rtype, type, status, source,"
                      " consent_date, creation_ms, origin, iys_state, iys_txid, iys_error,"
                      " warning, evidence, prev_hash, hash)"
                      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
                      " '')",
    [ST_LOG_SET_HASH] = "UPDATE consent_log SET hash = ?2 WHERE id = ?1 AND hash = ''",
    [ST_STATE_UPSERT] = "INSERT INTO consent_state(brand_id, recipient, rtype, type, log_id,"
                        " status, source, consent_date) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                        " ON CONFLICT(brand_id, recipient, rtype, type) DO UPDATE SET"
                        " log_id = excluded.log_id, status = excluded.status,"
                        " source = excluded.source, consent_date = excluded.consent_date",
    [ST_OUTBOX_ADD] = "INSERT INTO outbox(log_id, created_ms, state, bulk)"
                      " VALUES(?, ?, 'PENDING', ?)",
    [ST_CONSENT_GET] = "SELECT " CHG_COLS " FROM consent_state s JOIN consent_log l"
                       " ON l.id = s.log_id WHERE s.brand_id = ?1 AND s.recipient = ?2"
                       " AND s.rtype = ?3 AND s.type = ?4",
    [ST_HISTORY] = "SELECT " CHG_COLS " FROM consent_log l WHERE " KEY_WHERE " ORDER BY id DESC",
    [ST_STATUS] = "SELECT status FROM consent_state WHERE " KEY_WHERE,
    [ST_OUTBOX_COUNT] = "SELECT count(*) FROM outbox",
    [ST_RET_ADD] = "INSERT INTO ret_deadlines(log_id, deadline) VALUES(?, ?)",
    /* Only the oldest outbox row of each key is eligible: one address's
     * changes reach İYS one by one, in order. */
    [ST_OUTBOX_DUE] = OUTBOX_SELECT
    " WHERE o.state = 'PENDING' AND o.bulk = ?2 AND o.next_ms <= ?1 AND NOT EXISTS("
    "SELECT 1 FROM consent_log l2 JOIN outbox o2 ON o2.log_id = l2.id"
    " WHERE l2.brand_id = l.brand_id AND l2.recipient = l.recipient AND l2.rtype = l.rtype"
    " AND l2.type = l.type AND l2.id < l.id) ORDER BY o.log_id LIMIT ?3",
    [ST_OUTBOX_INFLIGHT] = OUTBOX_SELECT " WHERE o.state IN ('SENDING', 'SENT') ORDER BY o.log_id",
    [ST_OUTBOX_MARK] = "UPDATE outbox SET state = ?2, request_id = ?3, sent_ms = ?4"
                       " WHERE log_id = ?1",
    [ST_LOG_MARK_SENT] = "UPDATE consent_log SET iys_state = 'SENT' WHERE id = ?1",
    [ST_OUTBOX_RETRY] = "UPDATE outbox SET state = 'PENDING', request_id = NULL, sent_ms = NULL,"
                        " attempts = attempts + 1, next_ms = ?2, last_error = ?3 WHERE log_id = ?1",
    [ST_LOG_IYS] = "UPDATE consent_log SET iys_state = ?2, iys_txid = ?3, iys_error = ?4"
                   " WHERE id = ?1",
    [ST_OUTBOX_DEL] = "DELETE FROM outbox WHERE log_id = ?1",
    [ST_RET_DONE] = "UPDATE ret_deadlines SET done_ms = ?2 WHERE log_id = ?1 AND done_ms IS NULL",
    [ST_BY_TXID] = "SELECT " CHG_COLS " FROM consent_log l WHERE l.iys_txid = ?2"
                   " AND l.brand_id = ?1 ORDER BY l.id DESC LIMIT 1",
    [ST_CHANGES] = "SELECT " CHG_COLS " FROM consent_log l WHERE l.brand_id = ?1 AND l.id > ?2"
                   " ORDER BY l.id LIMIT ?3",
    [ST_BRANDS_ALL] = "SELECT " BRAND_COLS " FROM brands ORDER BY id",
    [ST_CURSOR_GET] = "SELECT cursor FROM iys_cursor WHERE brand_id = ?1 AND source = ?2",
    [ST_CURSOR_SET] = "INSERT INTO iys_cursor(brand_id, source, cursor, updated_ms)"
                      " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(brand_id, source) DO UPDATE SET"
                      " cursor = excluded.cursor, updated_ms = excluded.updated_ms",
    [ST_RET_OPEN] = "SELECT log_id, deadline FROM ret_deadlines WHERE done_ms IS NULL"
                    " ORDER BY deadline",
    [ST_RET_LATE] = "SELECT count(*) FROM ret_deadlines WHERE done_ms > deadline * 1000",
};

typedef struct sq_store {
    iz_store_t base;
    sqlite3 *db;
    pthread_mutex_t mu;
    char *path;
    int version;
    sqlite3_stmt *stmt[ST_COUNT_];
} sq_store_t;

static sq_store_t *sq(iz_store_t *st)
{
    return (sq_store_t *)st;
}

/* Log an SQLite failure and map it to an IZ_* code: a lock still held by
 * another process after the busy timeout is IZ_EBUSY, anything else IZ_EIO. */
static int sq_fail(sqlite3 *db, int rc, const char *what)
{
    fprintf(stderr, "izin: store: %s: %s (%d)\n", what, sqlite3_errmsg(db),
            sqlite3_extended_errcode(db));
    rc &= 0xff;
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? IZ_EBUSY : IZ_EIO;
}

/* The cached statement id, prepared on first use; NULL on failure. */
static sqlite3_stmt *sq_stmt(sq_store_t *s, int id)
{
    if (!s->stmt[id]) {
        int rc = sqlite3_prepare_v3(s->db, sq_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[id],
                                    NULL);
        if (rc != SQLITE_OK) {
            sq_fail(s->db, rc, "prepare");
            s->stmt[id] = NULL;
        }
    }
    return s->stmt[id];
}

/* Make a cached statement ready for its next use. The result of reset
 * repeats the error of the last step, which the caller has already seen. */
static void sq_done(sqlite3_stmt *stmt)
{
    if (stmt) {
        (void)sqlite3_reset(stmt);
        (void)sqlite3_clear_bindings(stmt);
    }
}

/* Run a cached statement that returns no rows. */
static int sq_exec(sq_store_t *s, int id, const char *what)
{
    sqlite3_stmt *stmt = sq_stmt(s, id);
    if (!stmt) return IZ_EIO;
    int rc = sqlite3_step(stmt);
    int ret = rc == SQLITE_DONE ? 0 : sq_fail(s->db, rc, what);
    sq_done(stmt);
    return ret;
}

/* Roll back the open transaction, if any. Called on every way out of a
 * writing function, so none leaves a transaction open. */
static void sq_end(sq_store_t *s)
{
    if (sqlite3_get_autocommit(s->db)) return;
    if (sq_exec(s, ST_ROLLBACK, "rollback") != 0 && !sqlite3_get_autocommit(s->db))
        fprintf(stderr, "izin: store: transaction still open after a failed rollback\n");
}

static int sq_commit(sq_store_t *s)
{
    return sq_exec(s, ST_COMMIT, "commit");
}

static void sq_lock(sq_store_t *s)
{
    if (pthread_mutex_lock(&s->mu) != 0) abort();
}

static void sq_unlock(sq_store_t *s)
{
    sq_end(s);
    if (pthread_mutex_unlock(&s->mu) != 0) abort();
}

/* ---- binding and reading helpers ---------------------------------------- */

static int b_i64(sqlite3_stmt *stmt, int i, int64_t v)
{
    return sqlite3_bind_int64(stmt, i, v);
}

static int b_txt(sqlite3_stmt *stmt, int i, const char *v)
{
    return sqlite3_bind_text(stmt, i, v, -1, SQLITE_STATIC);
}

/* Bind v, or NULL when v is NULL or empty. */
static int b_opt(sqlite3_stmt *stmt, int i, const char *v)
{
    if (!v || !*v) return sqlite3_bind_null(stmt, i);
    return b_txt(stmt, i, v);
}

/* Bind v, or NULL when it is 0. */
static int b_opt_i64(sqlite3_stmt *stmt, int i, int64_t v)
{
    return v ? b_i64(stmt, i, v) : sqlite3_bind_null(stmt, i);
}

static const char *c_txt(sqlite3_stmt *stmt, int i)
{
    return (const char *)sqlite3_column_text(stmt, i);
}

/* Copy a text column into a buffer; NULL reads as "". */
static void c_str(sqlite3_stmt *stmt, int i, char *dst, size_t size)
{
    const char *t = c_txt(stmt, i);
    (void)iz_strlcpy(dst, t ? t : "", size);
}

/* ETOOBIG when s (in a buffer of size bytes) has no room for its NUL. */
static int fits(const char *s, size_t size)
{
    return strnlen(s, size) < size ? 0 : IZ_ETOOBIG;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return now_s() * 1000;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is_hex64(const char *h)
{
    size_t i;
    for (i = 0; i < 64; i++) {
        char ch = h[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return 0;
    }
    return h[i] == '\0';
}

/* Map a unique violation to IZ_EEXIST and a foreign key one to
 * IZ_ENOTFOUND (the row referred to does not exist). */
static int sq_write_fail(sqlite3 *db, int rc, const char *what)
{
    int ext = sqlite3_extended_errcode(db);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) return IZ_EEXIST;
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY) return IZ_ENOTFOUND;
    return sq_fail(db, rc, what);
}

/* ---- open, migrate, close ----------------------------------------------- */

/* Read the schema version: 0 for a new file (no meta table yet). */
static int sq_read_version(sqlite3 *db, int *version, const char **err)
{
    sqlite3_stmt *stmt = NULL;
    *version = 0;
    int rc = sqlite3_prepare_v2(
        db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'", -1, &stmt,
        NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int has_meta = sqlite3_column_int(stmt, 0);
        (void)sqlite3_finalize(stmt);
        stmt = NULL;
        if (!has_meta) return 0;
        rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
                                &stmt, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            int64_t v = 0;
            const char *t = c_txt(stmt, 0);
            if (!t || iz_parse_i64(t, 0, INT_MAX, &v) != 0) {
                (void)sqlite3_finalize(stmt);
                *err = "store has a malformed schema_version";
                return IZ_EIO;
            }
            *version = (int)v;
            rc = SQLITE_DONE;
        }
    }
    if (rc != SQLITE_DONE) {
        *err = iz__store_errf("cannot read the store's schema version: %s", sqlite3_errmsg(db));
        (void)sqlite3_finalize(stmt);
        return rc == SQLITE_BUSY ? IZ_EBUSY : IZ_EIO;
    }
    (void)sqlite3_finalize(stmt);
    return 0;
}

static int sq_exec_sql(sqlite3 *db, const char *sql, const char **err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        *err = iz__store_errf("store: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return (rc & 0xff) == SQLITE_BUSY ? IZ_EBUSY : IZ_EIO;
    }
    return 0;
}

/* Bring the schema up to SQ_SCHEMA_VERSION. A store already there is only
 * read; one with a newer version than this binary knows is refused. */
static int sq_migrate(sq_store_t *s, const char **err)
{
    int v, rc = sq_read_version(s->db, &v, err);
    if (rc == 0 && v < SQ_SCHEMA_VERSION) {
        rc = sq_exec_sql(s->db, "BEGIN IMMEDIATE", err);
        if (rc != 0) return rc;
        /* Another process may have migrated while we waited for the lock. */
        rc = sq_read_version(s->db, &v, err);
        int from = v;
        for (; rc == 0 && v < SQ_SCHEMA_VERSION; v++)
            rc = sq_exec_sql(s->db, migrations[v], err);
        if (rc == 0 && v != from) {
            char sql[128];
            snprintf(sql, sizeof sql,
                     "INSERT INTO meta(key, value) VALUES('schema_version', '%d')"
                     " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                     v);
            rc = sq_exec_sql(s->db, sql, err);
        }
        if (rc == 0) rc = sq_exec_sql(s->db, "COMMIT", err);
        if (!sqlite3_get_autocommit(s->db)) {
            const char *ignored;
            (void)sq_exec_sql(s->db, "ROLLBACK", &ignored);
        }
    }
    if (rc != 0) return rc;
    if (v > SQ_SCHEMA_VERSION) {
        *err = iz__store_errf("store schema version %d is newer than this izin knows (%d);"
                              " upgrade izin",
                              v, SQ_SCHEMA_VERSION);
        return IZ_EUNSUPPORTED;
    }
    s->version = v;
    return 0;
}

/* Create the database file with mode 0600 when missing (it holds İYS
 * credentials), and make its directory entry durable. */
static int sq_create_file(const char *path, const char **err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return 0;
        *err = iz__store_errf("cannot create store file '%s': %s", path, strerror(errno));
        return IZ_EIO;
    }
    int rc = fsync(fd);
    close(fd);
    char dir[PATH_MAX];
    (void)iz_strlcpy(dir, path, sizeof dir);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) != 0) rc = -1;
        close(dfd);
    }
    if (rc != 0) {
        *err = iz__store_errf("cannot sync store file '%s': %s", path, strerror(errno));
        return IZ_EIO;
    }
    return 0;
}

/* Set a pragma and check the value it answers with (journal_mode answers
 * the mode in force, which is not WAL on a medium that cannot do it). */
static int sq_pragma(sqlite3 *db, const char *sql, const char *want, const char **err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW && want) {
            const char *got = c_txt(stmt, 0);
            if (!got || strcmp(got, want) != 0) {
                *err = iz__store_errf("store: '%s' answered '%s', not '%s'", sql, got ? got : "",
                                      want);
                (void)sqlite3_finalize(stmt);
                return IZ_EIO;
            }
            rc = SQLITE_DONE;
        }
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        *err = iz__store_errf("store: '%s': %s", sql, sqlite3_errmsg(db));
        (void)sqlite3_finalize(stmt);
        return (rc & 0xff) == SQLITE_BUSY ? IZ_EBUSY : IZ_EIO;
    }
    (void)sqlite3_finalize(stmt);
    return 0;
}

static void sq_close(iz_store_t *st)
{
    sq_store_t *s = sq(st);
    for (int i = 0; i < ST_COUNT_; i++)
        (void)sqlite3_finalize(s->stmt[i]);
    if (s->db) {
        int rc = sqlite3_close(s->db);
        if (rc != SQLITE_OK) fprintf(stderr, "izin: store: close: %s\n", sqlite3_errstr(rc));
    }
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

static const iz_store_ops_t sq_ops;

int iz__sqlite_open(const char *path, iz_store_t **out, const char **err)
{
    if (!sqlite3_threadsafe()) {
        *err = "the SQLite library was built without thread support";
        return IZ_EUNSUPPORTED;
    }
    int rc = sq_create_file(path, err);
    if (rc != 0) return rc;

    sq_store_t *s = iz_xcalloc(1, sizeof *s);
    s->base.ops = &sq_ops;
    s->path = iz_xstrdup(path);
    if (pthread_mutex_init(&s->mu, NULL) != 0) iz_oom();

    int src = sqlite3_open_v2(
        path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
    if (src != SQLITE_OK) {
        *err = iz__store_errf("cannot open store '%s': %s", path,
                              s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(src));
        sq_close(&s->base);
        return IZ_EIO;
    }
    if (sqlite3_extended_result_codes(s->db, 1) != SQLITE_OK ||
        sqlite3_busy_timeout(s->db, SQ_BUSY_TIMEOUT_MS) != SQLITE_OK ||
        sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) != SQLITE_OK) {
        *err = iz__store_errf("cannot configure store '%s': %s", path, sqlite3_errmsg(s->db));
        sq_close(&s->base);
        return IZ_EIO;
    }
    rc = sq_pragma(s->db, "PRAGMA journal_mode = WAL", "wal", err);
    if (rc == 0) rc = sq_pragma(s->db, "PRAGMA synchronous = FULL", NULL, err);
    if (rc == 0) rc = sq_pragma(s->db, "PRAGMA foreign_keys = ON", NULL, err);
    if (rc == 0) rc = sq_migrate(s, err);
    if (rc != 0) {
        sq_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}

static int sq_schema_version(iz_store_t *st)
{
    return sq(st)->version;
}

static int sq_ping(iz_store_t *st)
{
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_PING);
    int rc = IZ_EIO;
    if (stmt) {
        int r = sqlite3_step(stmt);
        rc = r == SQLITE_ROW ? 0 : sq_fail(s->db, r, "ping");
        sq_done(stmt);
    }
    sq_unlock(s);
    return rc;
}

/* ---- accounts, brands, keys --------------------------------------------- */

/* "YYYY-MM-DD" (digits and dashes in place; the calendar is the caller's). */
static int is_date(const char *d)
{
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (d[i] != '-') return 0;
        } else if (d[i] < '0' || d[i] > '9') {
            return 0;
        }
    }
    return d[10] == '\0';
}

static int account_check(const iz_account_t *a)
{
    if (fits(a->name, sizeof a->name) || fits(a->activation_date, sizeof a->activation_date) ||
        fits(a->iys_url, sizeof a->iys_url) || fits(a->iys_user, sizeof a->iys_user) ||
        fits(a->iys_password, sizeof a->iys_password) || fits(a->plan, sizeof a->plan))
        return IZ_ETOOBIG;
    if (!a->name[0] || (a->activation_date[0] && !is_date(a->activation_date))) return IZ_EINVAL;
    return 0;
}

static void account_read(sqlite3_stmt *stmt, iz_account_t *a)
{
    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(stmt, 0);
    c_str(stmt, 1, a->name, sizeof a->name);
    a->iys_code = sqlite3_column_int64(stmt, 2);
    c_str(stmt, 3, a->activation_date, sizeof a->activation_date);
    c_str(stmt, 4, a->iys_url, sizeof a->iys_url);
    c_str(stmt, 5, a->iys_user, sizeof a->iys_user);
    c_str(stmt, 6, a->iys_password, sizeof a->iys_password);
    c_str(stmt, 7, a->plan, sizeof a->plan);
    a->created_at = sqlite3_column_int64(stmt, 8);
}

static int sq_account_add(iz_store_t *st, iz_account_t *a)
{
    int rc = account_check(a);
    if (rc != 0) return rc;
    sq_store_t *s = sq(st);
    int64_t created = a->created_at ? a->created_at : now_s();
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_ACC_ADD);
    rc = IZ_EIO;
    if (stmt) {
        int r = b_txt(stmt, 1, a->name);
        if (r == SQLITE_OK) r = b_i64(stmt, 2, a->iys_code);
        if (r == SQLITE_OK) r = b_opt(stmt, 3, a->activation_date);
        if (r == SQLITE_OK) r = b_txt(stmt, 4, a->iys_url);
        if (r == SQLITE_OK) r = b_txt(stmt, 5, a->iys_user);
        if (r == SQLITE_OK) r = b_txt(stmt, 6, a->iys_password);
        if (r == SQLITE_OK) r = b_txt(stmt, 7, a->plan);
        if (r == SQLITE_OK) r = b_i64(stmt, 8, created);
        if (r == SQLITE_OK) r = sqlite3_step(stmt);
        if (r == SQLITE_DONE) {
            a->id = sqlite3_last_insert_rowid(s->db);
            a->created_at = created;
            rc = 0;
        } else {
            rc = sq_write_fail(s->db, r, "account add");
        }
        sq_done(stmt);
    }
    sq_unlock(s);
    return rc;
}

/* Run a one-row lookup statement after bind() and read the row with read();
 * IZ_ENOTFOUND when there is none. */
static int sq_get_row(sq_store_t *s, sqlite3_stmt *stmt, int bind_rc, const char *what,
                      void (*read)(sqlite3_stmt *, void *), void *out)
{
    int rc;
    int r = bind_rc == SQLITE_OK ? sqlite3_step(stmt) : bind_rc;
    if (r == SQLITE_ROW) {
        read(stmt, out);
        rc = 0;
    } else if (r == SQLITE_DONE) {
        rc = IZ_ENOTFOUND;
    } else {
        rc = sq_fail(s->db, r, what);
    }
    sq_done(stmt);
    return rc;
}

static void account_read_v(sqlite3_stmt *stmt, void *out)
{
    account_read(stmt, out);
}

static int sq_account_by_name(iz_store_t *st, const char *name, iz_account_t *out)
{
    sq_store_t *s = sq(st);
    if (strnlen(name, IZ_NAME_MAX) >= IZ_NAME_MAX) return IZ_ENOTFOUND;
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_ACC_BY_NAME);
    int rc = stmt
                 ? sq_get_row(s, stmt, b_txt(stmt, 1, name), "account by name", account_read_v, out)
                 : IZ_EIO;
    sq_unlock(s);
    return rc;
}

static int sq_account_get(iz_store_t *st, int64_t id, iz_account_t *out)
{
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_ACC_GET);
    int rc =
        stmt ? sq_get_row(s, stmt, b_i64(stmt, 1, id), "account get", account_read_v, out) : IZ_EIO;
    sq_unlock(s);
    return rc;
}

static int brand_check(const iz_brand_t *b)
{
    if (fits(b->name, sizeof b->name) || fits(b->keyword, sizeof b->keyword) ||
        fits(b->short_number, sizeof b->short_number) ||
        fits(b->subscriber_number, sizeof b->subscriber_number) || fits(b->slug, sizeof b->slug))
        return IZ_ETOOBIG;
    if (!b->name[0] || b->code <= 0) return IZ_EINVAL;
    return 0;
}

static void brand_read_v(sqlite3_stmt *stmt, void *out)
{
    iz_brand_t *b = out;
    memset(b, 0, sizeof *b);
    b->id = sqlite3_column_int64(stmt, 0);
    b->account_id = sqlite3_column_int64(stmt, 1);
    b->code = sqlite3_column_int64(stmt, 2);
    c_str(stmt, 3, b->name, sizeof b->name);
    c_str(stmt, 4, b->keyword, sizeof b->keyword);
    c_str(stmt, 5, b->short_number, sizeof b->short_number);
    c_str(stmt, 6, b->subscriber_number, sizeof b->subscriber_number);
    c_str(stmt, 7, b->slug, sizeof b->slug);
    b->created_at = sqlite3_column_int64(stmt, 8);
}

static int sq_brand_add(iz_store_t *st, iz_brand_t *b)
{
    int rc = brand_check(b);
    if (rc != 0) return rc;
    sq_store_t *s = sq(st);
    int64_t created = b->created_at ? b->created_at : now_s();
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_BRAND_ADD);
    rc = IZ_EIO;
    if (stmt) {
        int r = b_i64(stmt, 1, b->account_id);
        if (r == SQLITE_OK) r = b_i64(stmt, 2, b->code);
        if (r == SQLITE_OK) r = b_txt(stmt, 3, b->name);
        if (r == SQLITE_OK) r = b_txt(stmt, 4, b->keyword);
        if (r == SQLITE_OK) r = b_txt(stmt, 5, b->short_number);
        if (r == SQLITE_OK) r = b_txt(stmt, 6, b->subscriber_number);
        if (r == SQLITE_OK) r = b_opt(stmt, 7, b->slug);
        if (r == SQLITE_OK) r = b_i64(stmt, 8, created);
        if (r == SQLITE_OK) r = sqlite3_step(stmt);
        if (r == SQLITE_DONE) {
            b->id = sqlite3_last_insert_rowid(s->db);
            b->created_at = created;
            rc = 0;
        } else {
            rc = sq_write_fail(s->db, r, "brand add");
        }
        sq_done(stmt);
    }
    sq_unlock(s);
    return rc;
}

static int sq_brand_get(iz_store_t *st, int64_t account_id, int64_t code, iz_brand_t *out)
{
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_BRAND_GET);
    int rc = IZ_EIO;
    if (stmt) {
        int r = b_i64(stmt, 1, account_id);
        if (r == SQLITE_OK) r = b_i64(stmt, 2, code);
        rc = sq_get_row(s, stmt, r, "brand get", brand_read_v, out);
    }
    sq_unlock(s);
    return rc;
}

#define IZ_KEY_PREFIX_MAX 32

static int sq_key_add(iz_store_t *st, int64_t account_id, const char *hash_hex, const char *prefix)
{
    if (!is_hex64(hash_hex)) return IZ_EINVAL;
    if (strnlen(prefix, IZ_KEY_PREFIX_MAX + 1) > IZ_KEY_PREFIX_MAX) return IZ_ETOOBIG;
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_KEY_ADD);
    int rc = IZ_EIO;
    if (stmt) {
        int r = b_i64(stmt, 1, account_id);
        if (r == SQLITE_OK) r = b_txt(stmt, 2, hash_hex);
        if (r == SQLITE_OK) r = b_txt(stmt, 3, prefix);
        if (r == SQLITE_OK) r = b_i64(stmt, 4, now_s());
        if (r == SQLITE_OK) r = sqlite3_step(stmt);
        rc = r == SQLITE_DONE ? 0 : sq_write_fail(s->db, r, "key add");
        sq_done(stmt);
    }
    sq_unlock(s);
    return rc;
}

static void i64_read_v(sqlite3_stmt *stmt, void *out)
{
    *(int64_t *)out = sqlite3_column_int64(stmt, 0);
}

static int sq_key_lookup(iz_store_t *st, const char *hash_hex, int64_t *account_id)
{
    if (!is_hex64(hash_hex)) return IZ_EINVAL;
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_KEY_LOOKUP);
    int rc =
        stmt ? sq_get_row(s, stmt, b_txt(stmt, 1, hash_hex), "key lookup", i64_read_v, account_id)
             : IZ_EIO;
    sq_unlock(s);
    return rc;
}

static int sq_key_revoke(iz_store_t *st, int64_t account_id, const char *hash_hex)
{
    if (!is_hex64(hash_hex)) return IZ_EINVAL;
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_KEY_REVOKE);
    int rc = IZ_EIO;
    if (stmt) {
        int r = b_i64(stmt, 1, now_s());
        if (r == SQLITE_OK) r = b_i64(stmt, 2, account_id);
        if (r == SQLITE_OK) r = b_txt(stmt, 3, hash_hex);
        if (r == SQLITE_OK) r = sqlite3_step(stmt);
        if (r == SQLITE_DONE)
            rc = sqlite3_changes(s->db) > 0 ? 0 : IZ_ENOTFOUND;
        else
            rc = sq_fail(s->db, r, "key revoke");
        sq_done(stmt);
    }
    sq_unlock(s);
    return rc;
}

/* ---- consents ----------------------------------------------------------- */

/* The İYS spellings of a change's enum fields; NULL for an absent value. */
typedef struct chg_names {
    const char *rtype, *type, *status, *source, *origin, *iys_state;
} chg_names_t;

/* The key columns of a consent: IZ_EINVAL when an enum is absent or out of
 * range, IZ_ENOTFOUND when the recipient cannot be in the store. */
static int key_names(iz_rtype_t rtype, iz_type_t type, const char *recipient, const char **rt,
                     const char **ty)
{
    *rt = iz_rtype_name(rtype);
    *ty = iz_type_name(type);
    if (!*rt || !*ty) return IZ_EINVAL;
    size_t len = strnlen(recipient, IZ_RECIPIENT_MAX);
    return len == 0 || len >= IZ_RECIPIENT_MAX ? IZ_ENOTFOUND : 0;
}

/* Check a change before it is written: every string fits its buffer (so
 * nothing is truncated on the way in) and every enum has a spelling. */
static int change_check(const iz_change_t *c, chg_names_t *nm)
{
    if (fits(c->recipient, sizeof c->recipient) || fits(c->iys_txid, sizeof c->iys_txid) ||
        fits(c->iys_error, sizeof c->iys_error) || fits(c->warning, sizeof c->warning) ||
        fits(c->evidence, sizeof c->evidence))
        return IZ_ETOOBIG;
    nm->rtype = iz_rtype_name(c->rtype);
    nm->type = iz_type_name(c->type);
    nm->status = iz_status_name(c->status);
    nm->source = iz_source_name(c->source);
    nm->origin = iz_origin_name(c->origin);
    nm->iys_state = iz_iys_state_name(c->iys_state);
    if (!c->recipient[0] || !nm->rtype || !nm->type || !nm->status ||
        (c->source != IZ_SOURCE_NONE && !nm->source) ||
        (c->origin != IZ_ORIGIN_NONE && !nm->origin) ||
        (c->iys_state != IZ_IYS_NONE && !nm->iys_state) || c->consent_date < 0 ||
        c->creation_ms < 0)
        return IZ_EINVAL;
    return 0;
}

/* Read a CHG_COLS row. Unknown spellings (a row written by hand) read as
 * the enum's NONE. */
static void change_read(sqlite3_stmt *stmt, iz_change_t *c)
{
    const char *t;
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(stmt, 0);
    c->brand_id = sqlite3_column_int64(stmt, 1);
    c_str(stmt, 2, c->recipient, sizeof c->recipient);
    if ((t = c_txt(stmt, 3))) (void)iz_rtype_parse(t, &c->rtype);
    if ((t = c_txt(stmt, 4))) (void)iz_type_parse(t, &c->type);
    if ((t = c_txt(stmt, 5))) (void)iz_status_parse(t, &c->status);
    if ((t = c_txt(stmt, 6))) (void)iz_source_parse(t, &c->source);
    c->consent_date = sqlite3_column_int64(stmt, 7);
    c->creation_ms = sqlite3_column_int64(stmt, 8);
    if ((t = c_txt(stmt, 9))) (void)iz_origin_parse(t, &c->origin);
    if ((t = c_txt(stmt, 10))) (void)iz_iys_state_parse(t, &c->iys_state);
    c_str(stmt, 11, c->iys_txid, sizeof c->iys_txid);
    c_str(stmt, 12, c->iys_error, sizeof c->iys_error);
    c_str(stmt, 13, c->warning, sizeof c->warning);
    c_str(stmt, 14, c->evidence, sizeof c->evidence);
}

static void change_read_v(sqlite3_stmt *stmt, void *out)
{
    change_read(stmt, out);
}

static int bind_key(sqlite3_stmt *stmt, int64_t brand_id, const char *recipient, const char *rt,
                    const char *ty)
{
    int r = b_i64(stmt, 1, brand_id);
    if (r == SQLITE_OK) r = b_txt(stmt, 2, recipient);
    if (r == SQLITE_OK) r = b_txt(stmt, 3, rt);
    if (r == SQLITE_OK) r = b_txt(stmt, 4, ty);
    return r;
}

/* Look for an identical change (same status, source, consent_date) in the
 * key's history: 1 and the stored change in *old when found, 0 when not. */
static int find_repeat(sq_store_t *s, const iz_change_t *c, const chg_names_t *nm, iz_change_t *old)
{
    sqlite3_stmt *stmt = sq_stmt(s, ST_LOG_REPEAT);
    if (!stmt) return IZ_EIO;
    int r = bind_key(stmt, c->brand_id, c->recipient, nm->rtype, nm->type);
    if (r == SQLITE_OK) r = b_txt(stmt, 5, nm->status);
    if (r == SQLITE_OK) r = b_opt(stmt, 6, nm->source);
    if (r == SQLITE_OK) r = b_opt_i64(stmt, 7, c->consent_date);
    int rc = sq_get_row(s, stmt, r, "repeat lookup", change_read_v, old);
    return rc == 0 ? 1 : rc == IZ_ENOTFOUND ? 0 : rc;
}

static void current_read_v(sqlite3_stmt *stmt, void *out)
{
    iz_current_t *cur = out;
    const char *t;
    cur->exists = true;
    if ((t = c_txt(stmt, 0))) (void)iz_status_parse(t, &cur->status);
    if ((t = c_txt(stmt, 1))) (void)iz_source_parse(t, &cur->source);
    cur->consent_date = sqlite3_column_int64(stmt, 2);
}

static int read_current(sq_store_t *s, const iz_change_t *c, const chg_names_t *nm,
                        iz_current_t *cur)
{
    memset(cur, 0, sizeof *cur);
    sqlite3_stmt *stmt = sq_stmt(s, ST_STATE_CUR);
    if (!stmt) return IZ_EIO;
    int rc = sq_get_row(s, stmt, bind_key(stmt, c->brand_id, c->recipient, nm->rtype, nm->type),
                        "state lookup", current_read_v, cur);
    return rc == IZ_ENOTFOUND ? 0 : rc;
}

/* The hash of the newest log row, "" when the log is empty. Read inside the
 * write transaction on every append rather than cached: another process
 * (the CLI) may append to the same file, and this is one b-tree descent to
 * the last row, a page that is already in the cache. */
static int read_last_hash(sq_store_t *s, char out[IZ_HASH_HEX])
{
    sqlite3_stmt *stmt = sq_stmt(s, ST_LOG_LAST);
    if (!stmt) return IZ_EIO;
    out[0] = '\0';
    int r = sqlite3_step(stmt);
    int rc = 0;
    if (r == SQLITE_ROW) {
        c_str(stmt, 0, out, IZ_HASH_HEX);
    } else if (r != SQLITE_DONE) {
        rc = sq_fail(s->db, r, "last hash");
    }
    sq_done(stmt);
    return rc;
}

/* Hash of a change being written, with the fields spelled as they are
 * stored (absent values as ""), so that verify can recompute it from the
 * row's text. */
static int change_hash(const char *prev, int64_t id, const iz_change_t *c, const chg_names_t *nm,
                       int64_t creation_ms, char out[IZ_HASH_HEX])
{
    char ids[24], brand[24], cdate[24], cms[24];
    snprintf(ids, sizeof ids, "%" PRId64, id);
    snprintf(brand, sizeof brand, "%" PRId64, c->brand_id);
    if (c->consent_date)
        snprintf(cdate, sizeof cdate, "%" PRId64, c->consent_date);
    else
        cdate[0] = '\0';
    snprintf(cms, sizeof cms, "%" PRId64, creation_ms);
    const char *f[IZ_HASH_FIELDS] = {prev,      ids,      brand,      c->recipient,
                                     nm->rtype, nm->type, nm->status, nm->source,
                                     cdate,     cms,      nm->origin, c->evidence};
    return iz__store_chain_hash(f, out);
}

/* Insert the log row, give it its hash, move the key's state to it and queue
 * it for İYS when pending; all inside the caller's transaction. */
static int write_change(sq_store_t *s, const iz_change_t *c, const chg_names_t *nm,
                        int64_t creation_ms, int64_t *id_out)
{
    char prev[IZ_HASH_HEX], hash[IZ_HASH_HEX];
    int rc = read_last_hash(s, prev);
    if (rc != 0) return rc;

    sqlite3_stmt *stmt = sq_stmt(s, ST_LOG_INSERT);
    if (!stmt) return IZ_EIO;
    int r = bind_key(stmt, c->brand_id, c->recipient, nm->rtype, nm->type);
    if (r == SQLITE_OK) r = b_txt(stmt, 5, nm->status);
    if (r == SQLITE_OK) r = b_opt(stmt, 6, nm->source);
    if (r == SQLITE_OK) r = b_opt_i64(stmt, 7, c->consent_date);
    if (r == SQLITE_OK) r = b_i64(stmt, 8, creation_ms);
    if (r == SQLITE_OK) r = b_opt(stmt, 9, nm->origin);
    if (r == SQLITE_OK) r = b_opt(stmt, 10, nm->iys_state);
    if (r == SQLITE_OK) r = b_opt(stmt, 11, c->iys_txid);
    if (r == SQLITE_OK) r = b_opt(stmt, 12, c->iys_error);
    if (r == SQLITE_OK) r = b_opt(stmt, 13, c->warning);
    if (r == SQLITE_OK) r = b_opt(stmt, 14, c->evidence);
    if (r == SQLITE_OK) r = b_txt(stmt, 15, prev);
    if (r == SQLITE_OK) r = sqlite3_step(stmt);
    sq_done(stmt);
    if (r != SQLITE_DONE) return sq_fail(s->db, r, "log insert");
    int64_t id = sqlite3_last_insert_rowid(s->db);

    if ((rc = change_hash(prev, id, c, nm, creation_ms, hash)) != 0) return rc;
    if (!(stmt = sq_stmt(s, ST_LOG_SET_HASH))) return IZ_EIO;
    r = b_i64(stmt, 1, id);
    if (r == SQLITE_OK) r = b_txt(stmt, 2, hash);
    if (r == SQLITE_OK) r = sqlite3_step(stmt);
    sq_done(stmt);
    if (r != SQLITE_DONE) return sq_fail(s->db, r, "log hash");
    if (sqlite3_changes(s->db) != 1) {
        fprintf(stderr, "izin: store: log row %" PRId64 " lost its hash slot\n", id);
        return IZ_EIO;
    }

    if (!(stmt = sq_stmt(s, ST_STATE_UPSERT))) return IZ_EIO;
    r = bind_key(stmt, c->brand_id, c->recipient, nm->rtype, nm->type);
    if (r == SQLITE_OK) r = b_i64(stmt, 5, id);
    if (r == SQLITE_OK) r = b_txt(stmt, 6, nm->status);
    if (r == SQLITE_OK) r = b_opt(stmt, 7, nm->source);
    if (r == SQLITE_OK) r = b_opt_i64(stmt, 8, c->consent_date);
    if (r == SQLITE_OK) r = sqlite3_step(stmt);
    sq_done(stmt);
    if (r != SQLITE_DONE) return sq_fail(s->db, r, "state upsert");

    if (c->iys_state == IZ_IYS_PENDING) {
        if (!(stmt = sq_stmt(s, ST_OUTBOX_ADD))) return IZ_EIO;
        r = b_i64(stmt, 1, id);
        if (r == SQLITE_OK) r = b_i64(stmt, 2, creation_ms);
        if (r == SQLITE_OK) r = b_i64(stmt, 3, c->origin == IZ_ORIGIN_BULK);
        if (r == SQLITE_OK) r = sqlite3_step(stmt);
        sq_done(stmt);
        if (r != SQLITE_DONE) return sq_fail(s->db, r, "outbox insert");
        if (c->status == IZ_RET && c->ret_deadline > 0) {
            if (!(stmt = sq_stmt(s, ST_RET_ADD))) return IZ_EIO;
            r = b_i64(stmt, 1, id);
            if (r == SQLITE_OK) r = b_i64(stmt, 2, c->ret_deadline);
            if (r == SQLITE_OK) r = sqlite3_step(stmt);
            sq_done(stmt);
            if (r != SQLITE_DONE) return sq_fail(s->db, r, "ret deadline insert");
        }
    }
    *id_out = id;
    return 0;
}

static int same_key(const iz_change_t *a, const iz_change_t *b)
{
    return a->brand_id == b->brand_id && a->rtype == b->rtype && a->type == b->type &&
           strcmp(a->recipient, b->recipient) == 0;
}

/* The rule runs with the store's mutex held and inside the transaction; it
 * must not call the store. */
static int sq_consent_apply(iz_store_t *st, iz_change_t *chg, iz_store_rule_fn rule, void *ctx)
{
    chg_names_t nm;
    int rc = change_check(chg, &nm);
    if (rc != 0) return rc;
    sq_store_t *s = sq(st);
    iz_change_t old, key;
    iz_current_t cur;
    int64_t id = 0;

    sq_lock(s);
    if ((rc = sq_exec(s, ST_BEGIN, "begin")) != 0) goto out;
    rc = find_repeat(s, chg, &nm, &old);
    if (rc == 1) {
        *chg = old;
        rc = IZ_REPEAT;
        goto out;
    }
    if (rc != 0 || (rc = read_current(s, chg, &nm, &cur)) != 0) goto out;
    if (rule) {
        memcpy(&key, chg, sizeof key);
        if ((rc = rule(ctx, &cur, chg)) != 0) goto out;
        if (!same_key(&key, chg)) {
            rc = IZ_EINVAL;
            goto out;
        }
        if ((rc = change_check(chg, &nm)) != 0) goto out;
    }
    int64_t creation_ms = chg->creation_ms ? chg->creation_ms : now_ms();
    if ((rc = write_change(s, chg, &nm, creation_ms, &id)) != 0) goto out;
    if ((rc = sq_commit(s)) != 0) goto out;
    chg->id = id;
    chg->creation_ms = creation_ms;
out:
    sq_unlock(s); /* rolls back whatever is still open */
    return rc;
}

static int sq_consent_get(iz_store_t *st, int64_t brand_id, iz_rtype_t rtype, iz_type_t type,
                          const char *recipient, iz_change_t *out)
{
    const char *rt, *ty;
    int rc = key_names(rtype, type, recipient, &rt, &ty);
    if (rc != 0) return rc;
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_CONSENT_GET);
    rc = stmt ? sq_get_row(s, stmt, bind_key(stmt, brand_id, recipient, rt, ty), "consent get",
                           change_read_v, out)
              : IZ_EIO;
    sq_unlock(s);
    return rc;
}

static int sq_consent_history(iz_store_t *st, int64_t brand_id, iz_rtype_t rtype, iz_type_t type,
                              const char *recipient, iz_change_t **list, size_t *n)
{
    const char *rt, *ty;
    int rc = key_names(rtype, type, recipient, &rt, &ty);
    if (rc == IZ_ENOTFOUND) return 0;
    if (rc != 0) return rc;
    sq_store_t *s = sq(st);
    iz_change_t *v = NULL;
    size_t len = 0, cap = 0;
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_HISTORY);
    rc = IZ_EIO;
    if (stmt) {
        int r = bind_key(stmt, brand_id, recipient, rt, ty);
        while (r == SQLITE_OK && (r = sqlite3_step(stmt)) == SQLITE_ROW) {
            if (len == cap) {
                cap = cap ? cap * 2 : 8;
                v = iz_xrealloc(v, cap * sizeof *v);
            }
            change_read(stmt, &v[len++]);
            r = SQLITE_OK;
        }
        rc = r == SQLITE_DONE ? 0 : sq_fail(s->db, r, "history");
        sq_done(stmt);
    }
    sq_unlock(s);
    if (rc != 0) {
        free(v);
        return rc;
    }
    *list = v;
    *n = len;
    return 0;
}

static void status_read_v(sqlite3_stmt *stmt, void *out)
{
    const char *t = c_txt(stmt, 0);
    if (t) (void)iz_status_parse(t, out);
}

static int sq_consent_status(iz_store_t *st, int64_t brand_id, iz_rtype_t rtype, iz_type_t type,
                             const char *recipient, iz_status_t *out)
{
    const char *rt, *ty;
    *out = IZ_STATUS_NONE;
    int rc = key_names(rtype, type, recipient, &rt, &ty);
    if (rc == IZ_ENOTFOUND) return 0;
    if (rc != 0) return rc;
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_STATUS);
    rc = stmt ? sq_get_row(s, stmt, bind_key(stmt, brand_id, recipient, rt, ty), "status",
                           status_read_v, out)
              : IZ_EIO;
    sq_unlock(s);
    return rc == IZ_ENOTFOUND ? 0 : rc;
}

/* Walk the chain through a read-only connection of its own: the walk reads
 * one snapshot of the log (a read transaction) while writers go on. Every
 * field is taken as the text SQLite holds, so a value changed by hand to
 * something no enum spells still breaks the hash. */
static int sq_verify_log(iz_store_t *st, int64_t *bad_id)
{
    sq_store_t *s = sq(st);
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    int rc = IZ_EIO;
    int r = sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (r == SQLITE_OK) r = sqlite3_busy_timeout(db, SQ_BUSY_TIMEOUT_MS);
    if (r == SQLITE_OK) r = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (r == SQLITE_OK)
        r = sqlite3_prepare_v2(db,
                               "SELECT prev_hash, id, brand_id, recipient, rtype, type, status,"
                               " source, consent_date, creation_ms, origin, evidence, hash"
                               " FROM consent_log ORDER BY id",
                               -1, &stmt, NULL);
    if (r != SQLITE_OK) {
        rc = db ? sq_fail(db, r, "verify") : IZ_EIO;
        goto out;
    }
    char prev[IZ_HASH_HEX] = "", hash[IZ_HASH_HEX];
    while ((r = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *f[IZ_HASH_FIELDS];
        for (int i = 0; i < IZ_HASH_FIELDS; i++)
            f[i] = c_txt(stmt, i);
        const char *stored_prev = f[0] ? f[0] : "";
        const char *stored = c_txt(stmt, IZ_HASH_FIELDS);
        f[0] = prev;
        if ((rc = iz__store_chain_hash(f, hash)) != 0) goto out;
        if (strcmp(stored_prev, prev) != 0 || !stored || strcmp(stored, hash) != 0) {
            *bad_id = sqlite3_column_int64(stmt, 1);
            rc = IZ_ERULE;
            goto out;
        }
        memcpy(prev, hash, sizeof prev);
    }
    rc = r == SQLITE_DONE ? 0 : sq_fail(db, r, "verify");
out:
    (void)sqlite3_finalize(stmt);
    if (db) {
        if (!sqlite3_get_autocommit(db))
            (void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL); /* read-only: nothing to lose */
        r = sqlite3_close(db);
        if (r != SQLITE_OK) fprintf(stderr, "izin: store: verify close: %s\n", sqlite3_errstr(r));
    }
    return rc;
}

static int sq_outbox_count(iz_store_t *st, int64_t *n)
{
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_OUTBOX_COUNT);
    int rc = stmt ? sq_get_row(s, stmt, SQLITE_OK, "outbox count", i64_read_v, n) : IZ_EIO;
    sq_unlock(s);
    return rc;
}

/* ---- the sync engine's queries ------------------------------------------- */

static void outbox_read(sqlite3_stmt *stmt, iz_outbox_item_t *it)
{
    change_read(stmt, &it->chg);
    it->account_id = sqlite3_column_int64(stmt, 15);
    it->brand_code = sqlite3_column_int64(stmt, 16);
    it->attempts = sqlite3_column_int(stmt, 17);
    it->bulk = sqlite3_column_int(stmt, 18) != 0;
    c_str(stmt, 19, it->state, sizeof it->state);
    c_str(stmt, 20, it->request_id, sizeof it->request_id);
    it->sent_ms = sqlite3_column_int64(stmt, 21);
}

/* Step a bound statement and collect every row with read() into a growing
 * array of elem-sized items. */
static int sq_collect(sq_store_t *s, sqlite3_stmt *stmt, int bind_rc, const char *what, size_t elem,
                      void (*read)(sqlite3_stmt *, void *), void **list, size_t *n)
{
    char *v = NULL;
    size_t len = 0, cap = 0;
    int r = bind_rc;
    while (r == SQLITE_OK && (r = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            v = iz_xrealloc(v, cap * elem);
        }
        memset(v + len * elem, 0, elem);
        read(stmt, v + len * elem);
        len++;
        r = SQLITE_OK;
    }
    int rc = r == SQLITE_DONE ? 0 : sq_fail(s->db, r, what);
    sq_done(stmt);
    if (rc != 0) {
        free(v);
        return rc;
    }
    *list = v;
    *n = len;
    return 0;
}

static void outbox_read_v(sqlite3_stmt *stmt, void *out)
{
    outbox_read(stmt, out);
}

static int sq_outbox_due(iz_store_t *st, int64_t now, bool bulk, size_t max,
                         iz_outbox_item_t **list, size_t *n)
{
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_OUTBOX_DUE);
    int rc = IZ_EIO;
    if (stmt) {
        int r = b_i64(stmt, 1, now);
        if (r == SQLITE_OK) r = b_i64(stmt, 2, bulk ? 1 : 0);
        if (r == SQLITE_OK) r = b_i64(stmt, 3, (int64_t)(max > 100000 ? 100000 : max));
        rc = sq_collect(s, stmt, r, "outbox due", sizeof **list, outbox_read_v, (void **)list, n);
    }
    sq_unlock(s);
    return rc;
}

static int sq_outbox_inflight(iz_store_t *st, iz_outbox_item_t **list, size_t *n)
{
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_OUTBOX_INFLIGHT);
    int rc = stmt ? sq_collect(s, stmt, SQLITE_OK, "outbox inflight", sizeof **list, outbox_read_v,
                               (void **)list, n)
                  : IZ_EIO;
    sq_unlock(s);
    return rc;
}

/* Run a cached statement bound by bind(ctx) inside the caller's transaction. */
static int sq_step_write(sq_store_t *s, int id, const char *what, int bind_rc)
{
    sqlite3_stmt *stmt = s->stmt[id];
    int r = bind_rc == SQLITE_OK ? sqlite3_step(stmt) : bind_rc;
    sq_done(stmt);
    return r == SQLITE_DONE ? 0 : sq_fail(s->db, r, what);
}

static int sq_outbox_mark(iz_store_t *st, const int64_t *ids, size_t n, const char *state,
                          const char *request_id, int64_t sent_ms)
{
    sq_store_t *s = sq(st);
    bool sent = strcmp(state, "SENT") == 0;
    sq_lock(s);
    int rc = sq_exec(s, ST_BEGIN, "begin");
    sqlite3_stmt *mark = sq_stmt(s, ST_OUTBOX_MARK), *log = sq_stmt(s, ST_LOG_MARK_SENT);
    if (rc == 0 && (!mark || !log)) rc = IZ_EIO;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int r = b_i64(mark, 1, ids[i]);
        if (r == SQLITE_OK) r = b_txt(mark, 2, state);
        if (r == SQLITE_OK) r = b_opt(mark, 3, request_id);
        if (r == SQLITE_OK) r = b_opt_i64(mark, 4, sent_ms);
        rc = sq_step_write(s, ST_OUTBOX_MARK, "outbox mark", r);
        if (rc == 0 && sent)
            rc = sq_step_write(s, ST_LOG_MARK_SENT, "log sent", b_i64(log, 1, ids[i]));
    }
    if (rc == 0) rc = sq_commit(s);
    sq_unlock(s);
    return rc;
}

static int sq_outbox_retry(iz_store_t *st, int64_t log_id, int64_t next_ms, const char *error)
{
    sq_store_t *s = sq(st);
    char err[256];
    (void)iz_strlcpy(err, error, sizeof err);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_OUTBOX_RETRY);
    int rc = IZ_EIO;
    if (stmt) {
        int r = b_i64(stmt, 1, log_id);
        if (r == SQLITE_OK) r = b_i64(stmt, 2, next_ms);
        if (r == SQLITE_OK) r = b_txt(stmt, 3, err);
        rc = sq_step_write(s, ST_OUTBOX_RETRY, "outbox retry", r);
    }
    sq_unlock(s);
    return rc;
}

static int sq_outbox_finish(iz_store_t *st, int64_t log_id, iz_iys_state_t state, const char *txid,
                            const char *error, int64_t now)
{
    sq_store_t *s = sq(st);
    char tx[72], err[16];
    if (iz_strlcpy(tx, txid, sizeof tx) != 0) return IZ_ETOOBIG;
    (void)iz_strlcpy(err, error, sizeof err);
    sq_lock(s);
    int rc = sq_exec(s, ST_BEGIN, "begin");
    sqlite3_stmt *a = sq_stmt(s, ST_LOG_IYS), *b = sq_stmt(s, ST_OUTBOX_DEL),
                 *c = sq_stmt(s, ST_RET_DONE);
    if (rc == 0 && (!a || !b || !c)) rc = IZ_EIO;
    if (rc == 0) {
        int r = b_i64(a, 1, log_id);
        if (r == SQLITE_OK) r = b_txt(a, 2, iz_iys_state_name(state));
        if (r == SQLITE_OK) r = b_opt(a, 3, tx);
        if (r == SQLITE_OK) r = b_opt(a, 4, err);
        rc = sq_step_write(s, ST_LOG_IYS, "log iys state", r);
    }
    if (rc == 0) rc = sq_step_write(s, ST_OUTBOX_DEL, "outbox delete", b_i64(b, 1, log_id));
    if (rc == 0) {
        int r = b_i64(c, 1, log_id);
        if (r == SQLITE_OK) r = b_i64(c, 2, now);
        rc = sq_step_write(s, ST_RET_DONE, "ret done", r);
    }
    if (rc == 0) rc = sq_commit(s);
    sq_unlock(s);
    return rc;
}

static int sq_change_by_txid(iz_store_t *st, int64_t brand_id, const char *txid, iz_change_t *out)
{
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_BY_TXID);
    int rc = IZ_EIO;
    if (stmt) {
        int r = b_i64(stmt, 1, brand_id);
        if (r == SQLITE_OK) r = b_txt(stmt, 2, txid);
        rc = sq_get_row(s, stmt, r, "change by txid", change_read_v, out);
    }
    sq_unlock(s);
    return rc;
}

static int sq_changes(iz_store_t *st, int64_t brand_id, int64_t after_id, size_t limit,
                      iz_change_t **list, size_t *n)
{
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_CHANGES);
    int rc = IZ_EIO;
    if (stmt) {
        int r = b_i64(stmt, 1, brand_id);
        if (r == SQLITE_OK) r = b_i64(stmt, 2, after_id);
        if (r == SQLITE_OK) r = b_i64(stmt, 3, (int64_t)(limit > 100000 ? 100000 : limit));
        rc = sq_collect(s, stmt, r, "changes", sizeof **list, change_read_v, (void **)list, n);
    }
    sq_unlock(s);
    return rc;
}

static int sq_brands_all(iz_store_t *st, iz_brand_t **list, size_t *n)
{
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_BRANDS_ALL);
    int rc = stmt ? sq_collect(s, stmt, SQLITE_OK, "brands", sizeof **list, brand_read_v,
                               (void **)list, n)
                  : IZ_EIO;
    sq_unlock(s);
    return rc;
}

typedef struct strbuf {
    char *p;
    size_t size;
} strbuf_t;

static void strbuf_read_v(sqlite3_stmt *stmt, void *out)
{
    strbuf_t *b = out;
    c_str(stmt, 0, b->p, b->size);
}

static int sq_cursor_get(iz_store_t *st, int64_t brand_id, const char *source, char *out,
                         size_t outsz)
{
    sq_store_t *s = sq(st);
    strbuf_t b = {out, outsz};
    out[0] = '\0';
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_CURSOR_GET);
    int rc = IZ_EIO;
    if (stmt) {
        int r = b_i64(stmt, 1, brand_id);
        if (r == SQLITE_OK) r = b_txt(stmt, 2, source);
        rc = sq_get_row(s, stmt, r, "cursor get", strbuf_read_v, &b);
    }
    sq_unlock(s);
    return rc == IZ_ENOTFOUND ? 0 : rc;
}

static int sq_cursor_set(iz_store_t *st, int64_t brand_id, const char *source, const char *cursor)
{
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_CURSOR_SET);
    int rc = IZ_EIO;
    if (stmt) {
        int r = b_i64(stmt, 1, brand_id);
        if (r == SQLITE_OK) r = b_txt(stmt, 2, source);
        if (r == SQLITE_OK) r = b_txt(stmt, 3, cursor);
        if (r == SQLITE_OK) r = b_i64(stmt, 4, now_ms());
        rc = sq_step_write(s, ST_CURSOR_SET, "cursor set", r);
    }
    sq_unlock(s);
    return rc;
}

static void ret_read_v(sqlite3_stmt *stmt, void *out)
{
    iz_ret_open_t *r = out;
    r->log_id = sqlite3_column_int64(stmt, 0);
    r->deadline = sqlite3_column_int64(stmt, 1);
}

static int sq_ret_open(iz_store_t *st, iz_ret_open_t **list, size_t *n)
{
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_RET_OPEN);
    int rc = stmt ? sq_collect(s, stmt, SQLITE_OK, "ret open", sizeof **list, ret_read_v,
                               (void **)list, n)
                  : IZ_EIO;
    sq_unlock(s);
    return rc;
}

static int sq_ret_late(iz_store_t *st, int64_t *n)
{
    sq_store_t *s = sq(st);
    sq_lock(s);
    sqlite3_stmt *stmt = sq_stmt(s, ST_RET_LATE);
    int rc = stmt ? sq_get_row(s, stmt, SQLITE_OK, "ret late", i64_read_v, n) : IZ_EIO;
    sq_unlock(s);
    return rc;
}

static const iz_store_ops_t sq_ops = {
    .name = "sqlite",
    .close = sq_close,
    .schema_version = sq_schema_version,
    .ping = sq_ping,
    .account_add = sq_account_add,
    .account_by_name = sq_account_by_name,
    .account_get = sq_account_get,
    .brand_add = sq_brand_add,
    .brand_get = sq_brand_get,
    .key_add = sq_key_add,
    .key_lookup = sq_key_lookup,
    .key_revoke = sq_key_revoke,
    .consent_apply = sq_consent_apply,
    .consent_get = sq_consent_get,
    .consent_history = sq_consent_history,
    .consent_status = sq_consent_status,
    .verify_log = sq_verify_log,
    .outbox_count = sq_outbox_count,
    .outbox_due = sq_outbox_due,
    .outbox_inflight = sq_outbox_inflight,
    .outbox_mark = sq_outbox_mark,
    .outbox_retry = sq_outbox_retry,
    .outbox_finish = sq_outbox_finish,
    .change_by_txid = sq_change_by_txid,
    .changes = sq_changes,
    .brands_all = sq_brands_all,
    .cursor_get = sq_cursor_get,
    .cursor_set = sq_cursor_set,
    .ret_open = sq_ret_open,
    .ret_late = sq_ret_late,
};
