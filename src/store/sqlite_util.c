/*
 * sqlite_util.c - the SQLite plumbing the module's store and the emulator's
 * store share: opening and migrating a database file, the mutex and the
 * statement cache, the error mapping, bind and column helpers, and the hash
 * chain walk (see sqlite_util.h).
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
#include <unistd.h>

#include <sqlite3.h>

#include "core/iz.h"
#include "store/sqlite_util.h"
#include "sys/crypto.h"
#include "sys/fs.h"
#include "sys/log.h"

#define SQ_BUSY_TIMEOUT_MS 5000

/* Log an SQLite failure of db and map it to an IZ_* code. */
static int db_fail(const char *who, sqlite3 *db, int rc, const char *what)
{
    iz_logf(IZ_LOG_ERROR, who, "database failure", "op=%s error=%s code=%d", what,
            sqlite3_errmsg(db), sqlite3_extended_errcode(db));
    rc &= 0xff;
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? IZ_EBUSY : IZ_EIO;
}

int iz__sq_fail(iz_sq_t *q, int rc, const char *what)
{
    return db_fail(q->def->who, q->db, rc, what);
}

/* iz__sq_fail, with a unique violation IZ_EEXIST and a foreign-key one
 * IZ_ENOTFOUND. */
static int write_fail(iz_sq_t *q, int rc, const char *what)
{
    int ext = sqlite3_extended_errcode(q->db);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) return IZ_EEXIST;
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY) return IZ_ENOTFOUND;
    return iz__sq_fail(q, rc, what);
}

/* ---- statements and transactions ---------------------------------------- */

static const char *const txn_sql[IZ_SQ_FIRST] = {
    [IZ_SQ_BEGIN] = "BEGIN IMMEDIATE",
    [IZ_SQ_BEGIN_READ] = "BEGIN",
    [IZ_SQ_COMMIT] = "COMMIT",
    [IZ_SQ_ROLLBACK] = "ROLLBACK",
};

sqlite3_stmt *iz__sq_stmt(iz_sq_t *q, int id)
{
    if (!q->stmt[id]) {
        const char *sql = id < IZ_SQ_FIRST ? txn_sql[id] : q->def->sql[id];
        int rc = sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q->stmt[id], NULL);
        if (rc != SQLITE_OK) {
            iz__sq_fail(q, rc, "prepare");
            q->stmt[id] = NULL;
        }
    }
    return q->stmt[id];
}

void iz__sq_done(sqlite3_stmt *stmt)
{
    if (stmt) {
        (void)sqlite3_reset(stmt);
        (void)sqlite3_clear_bindings(stmt);
    }
}

int iz__sq_run(iz_sq_t *q, sqlite3_stmt *stmt, int bind_rc, const char *what)
{
    int r = bind_rc == SQLITE_OK ? sqlite3_step(stmt) : bind_rc;
    int rc = r == SQLITE_DONE ? 0 : iz__sq_fail(q, r, what);
    iz__sq_done(stmt);
    return rc;
}

int iz__sq_write(iz_sq_t *q, sqlite3_stmt *stmt, int bind_rc, const char *what)
{
    int r = bind_rc == SQLITE_OK ? sqlite3_step(stmt) : bind_rc;
    int rc = r == SQLITE_DONE ? 0 : write_fail(q, r, what);
    iz__sq_done(stmt);
    return rc;
}

int iz__sq_update(iz_sq_t *q, sqlite3_stmt *stmt, int bind_rc, const char *what)
{
    int r = bind_rc == SQLITE_OK ? sqlite3_step(stmt) : bind_rc;
    int rc;
    if (r == SQLITE_DONE)
        rc = sqlite3_changes(q->db) > 0 ? 0 : IZ_ENOTFOUND;
    else
        rc = iz__sq_fail(q, r, what);
    iz__sq_done(stmt);
    return rc;
}

/* Run a cached statement that returns no rows. */
static int exec_id(iz_sq_t *q, int id, const char *what)
{
    sqlite3_stmt *stmt = iz__sq_stmt(q, id);
    return stmt ? iz__sq_run(q, stmt, SQLITE_OK, what) : IZ_EIO;
}

int iz__sq_begin(iz_sq_t *q)
{
    return exec_id(q, IZ_SQ_BEGIN, "begin");
}

int iz__sq_begin_read(iz_sq_t *q)
{
    return exec_id(q, IZ_SQ_BEGIN_READ, "begin");
}

int iz__sq_commit(iz_sq_t *q)
{
    return exec_id(q, IZ_SQ_COMMIT, "commit");
}

void iz__sq_lock(iz_sq_t *q)
{
    if (pthread_mutex_lock(&q->mu) != 0) abort();
}

void iz__sq_unlock(iz_sq_t *q)
{
    if (!sqlite3_get_autocommit(q->db) && exec_id(q, IZ_SQ_ROLLBACK, "rollback") != 0 &&
        !sqlite3_get_autocommit(q->db))
        iz_logf(IZ_LOG_ERROR, q->def->who, "transaction still open after a failed rollback", NULL);
    if (pthread_mutex_unlock(&q->mu) != 0) abort();
}

/* ---- rows --------------------------------------------------------------- */

int iz__sq_get_row(iz_sq_t *q, sqlite3_stmt *stmt, int bind_rc, const char *what,
                   iz_sq_read_fn read, void *out)
{
    int rc;
    int r = bind_rc == SQLITE_OK ? sqlite3_step(stmt) : bind_rc;
    if (r == SQLITE_ROW) {
        read(stmt, out);
        rc = 0;
    } else if (r == SQLITE_DONE) {
        rc = IZ_ENOTFOUND;
    } else {
        rc = iz__sq_fail(q, r, what);
    }
    iz__sq_done(stmt);
    return rc;
}

int iz__sq_rows(iz_sq_t *q, sqlite3_stmt *stmt, int bind_rc, const char *what, size_t elsize,
                iz_sq_read_fn read, void (*drop)(void *list, size_t n), void **list, size_t *n)
{
    char *v = NULL;
    size_t len = 0, cap = 0;
    int r = bind_rc;
    while (r == SQLITE_OK && (r = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            v = iz_xrealloc(v, cap * elsize);
        }
        memset(v + len * elsize, 0, elsize);
        read(stmt, v + len * elsize);
        len++;
        r = SQLITE_OK;
    }
    int rc = r == SQLITE_DONE ? 0 : iz__sq_fail(q, r, what);
    iz__sq_done(stmt);
    if (rc != 0) {
        if (drop)
            drop(v, len);
        else
            free(v);
        return rc;
    }
    *list = v;
    *n = len;
    return 0;
}

int iz__sq_bind_i64(sqlite3_stmt *stmt, int i, int64_t v)
{
    return sqlite3_bind_int64(stmt, i, v);
}

int iz__sq_bind_text(sqlite3_stmt *stmt, int i, const char *v)
{
    return sqlite3_bind_text(stmt, i, v, -1, SQLITE_STATIC);
}

int iz__sq_bind_opt(sqlite3_stmt *stmt, int i, const char *v)
{
    if (!v || !*v) return sqlite3_bind_null(stmt, i);
    return iz__sq_bind_text(stmt, i, v);
}

int iz__sq_bind_opt_i64(sqlite3_stmt *stmt, int i, int64_t v)
{
    return v ? iz__sq_bind_i64(stmt, i, v) : sqlite3_bind_null(stmt, i);
}

const char *iz__sq_col_text(sqlite3_stmt *stmt, int i)
{
    return (const char *)sqlite3_column_text(stmt, i);
}

void iz__sq_col_str(sqlite3_stmt *stmt, int i, char *dst, size_t size)
{
    const char *t = iz__sq_col_text(stmt, i);
    (void)iz_strlcpy(dst, t ? t : "", size);
}

void iz__sq_read_i64(sqlite3_stmt *stmt, void *out)
{
    *(int64_t *)out = sqlite3_column_int64(stmt, 0);
}

void iz__sq_read_current(sqlite3_stmt *stmt, void *out)
{
    iz_current_t *cur = out;
    const char *t;
    cur->exists = true;
    if ((t = iz__sq_col_text(stmt, 0))) (void)iz_status_parse(t, &cur->status);
    if ((t = iz__sq_col_text(stmt, 1))) (void)iz_source_parse(t, &cur->source);
    cur->consent_date = sqlite3_column_int64(stmt, 2);
}

void iz__sq_read_text(sqlite3_stmt *stmt, void *buf)
{
    iz_sq_buf_t *b = buf;
    if (b->p) iz__sq_col_str(stmt, 0, b->p, b->size);
}

int iz__sq_get_text(iz_sq_t *q, int id, const char *what, char *out, size_t size)
{
    sqlite3_stmt *stmt = iz__sq_stmt(q, id);
    if (!stmt) return IZ_EIO;
    iz_sq_buf_t b = {out, size};
    out[0] = '\0';
    int rc = iz__sq_get_row(q, stmt, SQLITE_OK, what, iz__sq_read_text, &b);
    return rc == IZ_ENOTFOUND ? 0 : rc;
}

int iz__sq_fits(const char *s, size_t size)
{
    return strnlen(s, size) < size ? 0 : IZ_ETOOBIG;
}

int iz__sq_is_hex64(const char *h)
{
    size_t i;
    for (i = 0; i < 64; i++) {
        char ch = h[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return 0;
    }
    return h[i] == '\0';
}

/* ---- open, migrate, close ----------------------------------------------- */

/* Run SQL text outside the statement cache (migrations, their transaction). */
static int exec_sql(const iz_sq_t *q, const char *sql, const char **err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(q->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        *err = iz_errf("%s: %s", q->def->who, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return (rc & 0xff) == SQLITE_BUSY ? IZ_EBUSY : IZ_EIO;
    }
    return 0;
}

/* Read the schema version: 0 for a new file (no meta table yet). */
static int read_version(const iz_sq_t *q, int *version, const char **err)
{
    sqlite3_stmt *stmt = NULL;
    *version = 0;
    int rc = sqlite3_prepare_v2(
        q->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'", -1,
        &stmt, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int has_meta = sqlite3_column_int(stmt, 0);
        (void)sqlite3_finalize(stmt);
        stmt = NULL;
        if (!has_meta) return 0;
        rc = sqlite3_prepare_v2(q->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
                                &stmt, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            int64_t v = 0;
            const char *t = iz__sq_col_text(stmt, 0);
            if (!t || iz_parse_i64(t, 0, INT_MAX, &v) != 0) {
                (void)sqlite3_finalize(stmt);
                *err = iz_errf("%s has a malformed schema_version", q->def->who);
                return IZ_EIO;
            }
            *version = (int)v;
            rc = SQLITE_DONE;
        }
    }
    if (rc != SQLITE_DONE) {
        *err =
            iz_errf("cannot read the %s's schema version: %s", q->def->who, sqlite3_errmsg(q->db));
        (void)sqlite3_finalize(stmt);
        return (rc & 0xff) == SQLITE_BUSY ? IZ_EBUSY : IZ_EIO;
    }
    (void)sqlite3_finalize(stmt);
    return 0;
}

/* Bring the schema up to the number of migrations. A file already there is
 * only read; one with a newer version than this binary knows is refused. */
static int migrate(iz_sq_t *q, const char **err)
{
    const int want = q->def->nmigrations;
    int v, rc = read_version(q, &v, err);
    if (rc == 0 && v < want) {
        rc = exec_sql(q, "BEGIN IMMEDIATE", err);
        if (rc != 0) return rc;
        /* Another process may have migrated while we waited for the lock. */
        rc = read_version(q, &v, err);
        int from = v;
        for (; rc == 0 && v < want; v++)
            rc = exec_sql(q, q->def->migrations[v], err);
        if (rc == 0 && v != from) {
            char sql[128];
            snprintf(sql, sizeof sql,
                     "INSERT INTO meta(key, value) VALUES('schema_version', '%d')"
                     " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                     v);
            rc = exec_sql(q, sql, err);
        }
        if (rc == 0) rc = exec_sql(q, "COMMIT", err);
        if (!sqlite3_get_autocommit(q->db)) {
            const char *ignored;
            (void)exec_sql(q, "ROLLBACK", &ignored);
        }
    }
    if (rc != 0) return rc;
    if (v > want) {
        *err = iz_errf("%s schema version %d is newer than this izin knows (%d);"
                       " upgrade izin",
                       q->def->who, v, want);
        return IZ_EUNSUPPORTED;
    }
    q->version = v;
    return 0;
}

/* Create the database file with mode 0600 when missing (it holds
 * credentials or password hashes), and make its directory entry durable. */
static int create_file(const char *who, const char *path, const char **err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return 0;
        *err = iz_errf("cannot create %s file '%s': %s", who, path, strerror(errno));
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
        *err = iz_errf("cannot sync %s file '%s': %s", who, path, strerror(errno));
        return IZ_EIO;
    }
    return 0;
}

/* Set a pragma and check the value it answers with (journal_mode answers
 * the mode in force, which is not WAL on a medium that cannot do it). */
static int pragma(const iz_sq_t *q, const char *sql, const char *want, const char **err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(q->db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW && want) {
            const char *got = iz__sq_col_text(stmt, 0);
            if (!got || strcmp(got, want) != 0) {
                *err = iz_errf("%s: '%s' answered '%s', not '%s'", q->def->who, sql, got ? got : "",
                               want);
                (void)sqlite3_finalize(stmt);
                return IZ_EIO;
            }
            rc = SQLITE_DONE;
        }
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        *err = iz_errf("%s: '%s': %s", q->def->who, sql, sqlite3_errmsg(q->db));
        (void)sqlite3_finalize(stmt);
        return (rc & 0xff) == SQLITE_BUSY ? IZ_EBUSY : IZ_EIO;
    }
    (void)sqlite3_finalize(stmt);
    return 0;
}

void iz__sq_close(iz_sq_t *q)
{
    for (int i = 0; q->stmt && i < q->def->nstmt; i++)
        (void)sqlite3_finalize(q->stmt[i]);
    free(q->stmt);
    if (q->db) {
        int rc = sqlite3_close(q->db);
        if (rc != SQLITE_OK)
            iz_logf(IZ_LOG_ERROR, q->def->who, "cannot close", "error=%s", sqlite3_errstr(rc));
    }
    pthread_mutex_destroy(&q->mu);
    free(q->path);
    memset(q, 0, sizeof *q);
}

int iz__sq_open(iz_sq_t *q, const iz_sq_def_t *def, const char *path, const char **err)
{
    memset(q, 0, sizeof *q);
    q->def = def;
    if (!sqlite3_threadsafe()) {
        *err = "the SQLite library was built without thread support";
        return IZ_EUNSUPPORTED;
    }
    int rc = create_file(def->who, path, err);
    if (rc != 0) return rc;

    q->path = iz_xstrdup(path);
    q->stmt = iz_xcalloc((size_t)def->nstmt, sizeof *q->stmt);
    if (pthread_mutex_init(&q->mu, NULL) != 0) iz_oom();
    int src = sqlite3_open_v2(
        path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
    if (src != SQLITE_OK) {
        *err = iz_errf("cannot open %s '%s': %s", def->who, path,
                       q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(src));
        iz__sq_close(q);
        return IZ_EIO;
    }
    if (sqlite3_extended_result_codes(q->db, 1) != SQLITE_OK ||
        sqlite3_busy_timeout(q->db, SQ_BUSY_TIMEOUT_MS) != SQLITE_OK ||
        sqlite3_db_config(q->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) != SQLITE_OK) {
        *err = iz_errf("cannot configure %s '%s': %s", def->who, path, sqlite3_errmsg(q->db));
        iz__sq_close(q);
        return IZ_EIO;
    }
    rc = pragma(q, "PRAGMA journal_mode = WAL", "wal", err);
    if (rc == 0) rc = pragma(q, "PRAGMA synchronous = FULL", NULL, err);
    if (rc == 0) rc = pragma(q, "PRAGMA foreign_keys = ON", NULL, err);
    if (rc == 0) rc = migrate(q, err);
    if (rc != 0) {
        iz__sq_close(q);
        return rc;
    }
    return 0;
}

/* ---- the hash chain ----------------------------------------------------- */

int iz__sq_chain_append(iz_sq_t *q, int last_id, sqlite3_stmt *insert, int prev_param,
                        int set_hash_id, const char **f, int nf, int64_t *id_out)
{
    char prev[IZ_SHA256_HEX], ids[24], hash[IZ_SHA256_HEX];
    if (nf < 2 || nf > IZ_SQ_CHAIN_MAX) {
        iz__sq_done(insert);
        return IZ_EINVAL;
    }
    /* Read inside the write transaction on every append rather than cached:
     * another process (the CLI) may append to the same file, and this is one
     * b-tree descent to the last row, a page that is already in the cache. */
    int rc = iz__sq_get_text(q, last_id, "last hash", prev, sizeof prev);
    if (rc != 0) {
        iz__sq_done(insert);
        return rc;
    }
    rc = iz__sq_run(q, insert, iz__sq_bind_text(insert, prev_param, prev), "log insert");
    if (rc != 0) return rc;
    int64_t id = sqlite3_last_insert_rowid(q->db);
    snprintf(ids, sizeof ids, "%" PRId64, id);
    f[0] = prev;
    f[1] = ids;
    iz_sha256_join_hex(f, (size_t)nf, hash);
    sqlite3_stmt *set = iz__sq_stmt(q, set_hash_id);
    if (!set) return IZ_EIO;
    int r = iz__sq_bind_i64(set, 1, id);
    if (r == SQLITE_OK) r = iz__sq_bind_text(set, 2, hash);
    if ((rc = iz__sq_run(q, set, r, "log hash")) != 0) return rc;
    if (sqlite3_changes(q->db) != 1) {
        iz_logf(IZ_LOG_ERROR, q->def->who, "log row lost its hash slot", "id=%lld",
                (long long)id);
        return IZ_EIO;
    }
    *id_out = id;
    return 0;
}

int iz__sq_verify_chain(iz_sq_t *q, const char *sql, int nf, int64_t *bad_id)
{
    if (nf < 2 || nf > IZ_SQ_CHAIN_MAX) return IZ_EINVAL;
    const char *who = q->def->who;
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    int rc = IZ_EIO;
    int r = sqlite3_open_v2(q->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (r == SQLITE_OK) r = sqlite3_busy_timeout(db, SQ_BUSY_TIMEOUT_MS);
    if (r == SQLITE_OK) r = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (r == SQLITE_OK) r = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (r != SQLITE_OK) {
        rc = db ? db_fail(who, db, r, "verify") : IZ_EIO;
        goto out;
    }
    char prev[65] = "", h[65];
    while ((r = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *f[IZ_SQ_CHAIN_MAX];
        for (int i = 0; i < nf; i++)
            f[i] = iz__sq_col_text(stmt, i);
        const char *stored_prev = f[0] ? f[0] : "";
        const char *stored = iz__sq_col_text(stmt, nf);
        f[0] = prev;
        iz_sha256_join_hex(f, (size_t)nf, h);
        if (strcmp(stored_prev, prev) != 0 || !stored || strcmp(stored, h) != 0) {
            *bad_id = sqlite3_column_int64(stmt, 1);
            rc = IZ_ERULE;
            goto out;
        }
        memcpy(prev, h, sizeof prev);
    }
    rc = r == SQLITE_DONE ? 0 : db_fail(who, db, r, "verify");
out:
    (void)sqlite3_finalize(stmt);
    if (db) {
        if (!sqlite3_get_autocommit(db))
            (void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL); /* read-only: nothing to lose */
        r = sqlite3_close(db);
        if (r != SQLITE_OK)
            iz_logf(IZ_LOG_ERROR, who, "verify: cannot close", "error=%s", sqlite3_errstr(r));
    }
    return rc;
}
