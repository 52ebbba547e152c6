/*
 * sqlite_util.c - the SQLite plumbing the module's store and the emulator's
 * store share: opening and migrating a database file, the lock and the
 * statement cache, a statement run in one call, the error mapping, the
 * consent fields both stores hold alike, and the hash chain's writer and
 * walk (see sqlite_util.h).
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
#include "store/pgdb.h"
#include "store/sqlite_util.h"
#include "sys/crypto.h"
#include "sys/fs.h"
#include "sys/log.h"

#define SQ_BUSY_TIMEOUT_MS 5000
#define SQ_CACHE_MIN 64 /* statement slots at first; the cache doubles at half full */

/* Log an SQLite failure of db and map it to an IZ_* code. */
static int db_fail(const char *who, sqlite3 *db, int rc, const char *what)
{
    iz_logf(IZ_LOG_ERROR, who, "database failure", "op=%s error=%s code=%d", what,
            sqlite3_errmsg(db), sqlite3_extended_errcode(db));
    rc &= 0xff;
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? IZ_EBUSY : IZ_EIO;
}

/* The same for q's connection; what is the statement that failed. */
static int sq_fail(iz_sq_t *q, int rc, const char *what)
{
    return db_fail(q->def->who, q->db, rc, what);
}

/* sq_fail, with a unique violation IZ_EEXIST and a foreign-key one
 * IZ_ENOTFOUND. */
static int write_fail(iz_sq_t *q, int rc, const char *what)
{
    int ext = sqlite3_extended_errcode(q->db);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) return IZ_EEXIST;
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY) return IZ_ENOTFOUND;
    return sq_fail(q, rc, what);
}

/* ---- the statement cache ------------------------------------------------ */

/* The slot of sql in a cache of cap slots (a power of two): its own, or
 * the empty one where it goes. The key is the statement's address (a
 * string literal of the store), so a lookup hashes one pointer, not the
 * SQL text. */
static iz_sq_cached_t *cache_slot(iz_sq_cached_t *cache, size_t cap, const char *sql)
{
    uintptr_t h = (uintptr_t)sql;
    size_t i = (size_t)(h ^ h >> 4 ^ h >> 12) & (cap - 1);
    while (cache[i].sql && cache[i].sql != sql)
        i = (i + 1) & (cap - 1);
    return &cache[i];
}

/* The prepared statement of sql, prepared on first use; NULL (logged) on
 * failure. Called with the lock held. */
static sqlite3_stmt *stmt_get(iz_sq_t *q, const char *sql)
{
    iz_sq_cached_t *slot = cache_slot(q->cache, q->cap, sql);
    if (slot->sql) return slot->stmt;
    if (2 * (q->ncached + 1) > q->cap) {
        size_t cap = 2 * q->cap;
        iz_sq_cached_t *cache = iz_xcalloc(cap, sizeof *cache);
        for (size_t i = 0; i < q->cap; i++)
            if (q->cache[i].sql) *cache_slot(cache, cap, q->cache[i].sql) = q->cache[i];
        free(q->cache);
        q->cache = cache;
        q->cap = cap;
        slot = cache_slot(q->cache, q->cap, sql);
    }
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
    if (rc != SQLITE_OK) {
        (void)sq_fail(q, rc, sql);
        (void)sqlite3_finalize(stmt);
        return NULL;
    }
    *slot = (iz_sq_cached_t){sql, stmt};
    q->ncached++;
    return stmt;
}

sqlite3_stmt *iz__sq_stmt(iz_sq_t *q, const char *sql)
{
    return q->pg ? NULL : stmt_get(q, sql);
}

int iz__sq_stmt_fail(iz_sq_t *q, int rc, const char *sql)
{
    return write_fail(q, rc, sql);
}

/* Bind a list of parameters from ?*next on; the first failure's SQLite
 * code, or SQLITE_OK. */
static int bind_list(sqlite3_stmt *stmt, const iz_sq_arg_t *a, int *next)
{
    int r = SQLITE_OK;
    for (; a && a->kind != IZ_SQ_K_END && r == SQLITE_OK; a++) {
        int i = (*next)++;
        if (a->kind == IZ_SQ_K_I64 || (a->kind == IZ_SQ_K_OPT_I64 && a->i != 0))
            r = sqlite3_bind_int64(stmt, i, a->i);
        else if (a->kind == IZ_SQ_K_TEXT || (a->kind == IZ_SQ_K_OPT && a->t && a->t[0]))
            r = sqlite3_bind_text(stmt, i, a->t, -1, SQLITE_STATIC);
        else if (a->kind == IZ_SQ_K_BLOB)
            r = sqlite3_bind_blob64(stmt, i, a->t, (sqlite3_uint64)a->i, SQLITE_STATIC);
        else
            r = sqlite3_bind_null(stmt, i);
    }
    return r;
}

/* ---- the lock and transactions ------------------------------------------ */

static const char sql_sync_normal[] = "PRAGMA synchronous = NORMAL",
                  sql_sync_full[] = "PRAGMA synchronous = FULL";
static const char sql_begin[] = "BEGIN IMMEDIATE", sql_begin_read[] = "BEGIN",
                  sql_commit[] = "COMMIT", sql_rollback[] = "ROLLBACK",
                  sql_savepoint[] = "SAVEPOINT item", sql_release[] = "RELEASE item",
                  sql_rollback_to[] = "ROLLBACK TO item";

/* The key of the transaction advisory lock every PostgreSQL write
 * transaction takes ("izin" and 1: the store's writers). */
#define PG_WRITE_KEY INT64_C(0x697a696e00000001)
/* The session advisory lock of a migration. */
#define PG_MIGRATE_KEY INT64_C(0x697a696e00000002)

void iz__sq_lock(iz_sq_t *q)
{
    if (q->pg) {
        iz__pg_lock(q->pg);
        return;
    }
    if (pthread_mutex_lock(&q->mu) != 0) abort();
    q->depth++;
}

void iz__sq_unlock(iz_sq_t *q)
{
    if (q->pg) {
        iz__pg_unlock(q->pg);
        return;
    }
    if (q->depth == 1 && !sqlite3_get_autocommit(q->db) && iz__sq_run(q, sql_rollback, NULL) != 0 &&
        !sqlite3_get_autocommit(q->db))
        iz_logf(IZ_LOG_ERROR, q->def->who, "transaction still open after a failed rollback", NULL);
    if (q->depth == 1 && q->lazy && sqlite3_get_autocommit(q->db)) {
        /* Every other transaction waits for the disk again. */
        if (iz__sq_run(q, sql_sync_full, NULL) == 0) q->lazy = false;
    }
    q->depth--;
    if (pthread_mutex_unlock(&q->mu) != 0) abort();
}

/* A PostgreSQL write transaction: the writers' lock first (see
 * iz__sq_begin), then, for a lazy one, a commit that does not wait for the
 * WAL's flush (synchronous_commit off: PostgreSQL's own form of SQLite's
 * synchronous = NORMAL; a crash of the server may take the last such
 * commits back, whole, never a later FULL one). */
static int pg_begin(iz_sq_t *q, bool lazy)
{
    int rc = iz__pg_begin(q->pg);
    q->appended = false;
    if (rc == 0)
        rc = iz__pg_exec(q->pg, "SELECT pg_advisory_xact_lock(?1::int8)",
                         IZ_SQ_ARGS(IZ_SQ_I64(PG_WRITE_KEY)), NULL);
    if (rc == 0 && lazy) rc = iz__pg_script(q->pg, "SET LOCAL synchronous_commit = off");
    return rc;
}

int iz__sq_begin(iz_sq_t *q)
{
    if (q->pg) return pg_begin(q, false);
    iz__sq_lock(q);
    return iz__sq_run(q, sql_begin, NULL);
}

int iz__sq_begin_small(iz_sq_t *q)
{
    if (!q->pg) return iz__sq_begin(q);
    int rc = iz__pg_begin(q->pg);
    if (rc == 0) rc = iz__pg_script(q->pg, "SET LOCAL synchronous_commit = off");
    return rc;
}

int iz__sq_begin_read(iz_sq_t *q)
{
    if (q->pg) return iz__pg_begin_read(q->pg);
    iz__sq_lock(q);
    return iz__sq_run(q, sql_begin_read, NULL);
}

void iz__sq_log_appended(iz_sq_t *q)
{
    if (q->pg) q->appended = true;
}

int iz__sq_commit(iz_sq_t *q)
{
    if (q->pg) {
        /* Delivered to the listeners at the commit, not before; PostgreSQL
         * folds a transaction's identical notifications into one. */
        int rc = q->appended ? iz__pg_script(q->pg, "NOTIFY " IZ_SQ_LOG_CHANNEL) : 0;
        q->appended = false;
        return rc ? rc : iz__pg_commit(q->pg);
    }
    return iz__sq_run(q, sql_commit, NULL);
}

int iz__sq_tx_state(iz_sq_t *q)
{
    if (q->pg) {
        int t = iz__pg_tx_state(q->pg);
        return t == 2 ? -1 : t;
    }
    iz__sq_lock(q);
    int t = sqlite3_get_autocommit(q->db) ? 0 : 1;
    iz__sq_unlock(q);
    return t;
}

int iz__sq_begin_lazy(iz_sq_t *q)
{
    if (q->pg) {
        iz__sq_lock(q);
        int t = iz__pg_tx_state(q->pg);
        iz__sq_unlock(q);
        if (t != 0) {
            iz__sq_lock(q);
            return IZ_EINVAL;
        }
        return pg_begin(q, true);
    }
    iz__sq_lock(q);
    /* (SQLite takes the setting only outside a transaction.) */
    int rc = q->depth == 1 && sqlite3_get_autocommit(q->db) ? iz__sq_run(q, sql_sync_normal, NULL)
                                                            : IZ_EINVAL;
    if (rc == 0) {
        q->lazy = true;
        rc = iz__sq_run(q, sql_begin, NULL);
    }
    return rc;
}

/* The directory part of path ("." when none) into dir. */
static void dir_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, size, ".");
    else if (slash == path)
        snprintf(dir, size, "/");
    else
        snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

int iz__sq_wal_sync(iz_sq_t *q)
{
    if (q->pg) return 0;
    if (!q->wal_open) {
        /* The file SQLite writes the WAL to: it stays while the store is
         * open (SQLite deletes it at the last connection's close), so one
         * descriptor serves every sync. Its directory entry is synced once,
         * as SQLite does for a new journal. */
        char wal[PATH_MAX], dir[PATH_MAX];
        if (snprintf(wal, sizeof wal, "%s-wal", q->path) >= (int)sizeof wal) return IZ_EIO;
        int fd = open(wal, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            iz_logf(IZ_LOG_ERROR, q->def->who, "cannot open the WAL to sync it", "errno=%d", errno);
            return IZ_EIO;
        }
        dir_of(q->path, dir, sizeof dir);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) != 0) {
            iz_logf(IZ_LOG_ERROR, q->def->who, "cannot sync the database's folder", "errno=%d",
                    errno);
            if (dfd >= 0) close(dfd);
            close(fd);
            return IZ_EIO;
        }
        close(dfd);
        q->wal_fd = fd;
        q->wal_open = true;
    }
    if (fdatasync(q->wal_fd) != 0) {
        iz_logf(IZ_LOG_ERROR, q->def->who, "cannot sync the WAL", "errno=%d", errno);
        return IZ_EIO;
    }
    return 0;
}

int iz__sq_end(iz_sq_t *q, int rc)
{
    if (rc == 0) rc = iz__sq_commit(q);
    iz__sq_unlock(q);
    return rc;
}

int iz__sq_savepoint(iz_sq_t *q)
{
    if (q->pg) return iz__pg_savepoint(q->pg);
    return iz__sq_run(q, sql_savepoint, NULL);
}

int iz__sq_release(iz_sq_t *q, bool undo)
{
    if (q->pg) return iz__pg_release(q->pg, undo);
    if (undo) (void)iz__sq_run(q, sql_rollback_to, NULL);
    return iz__sq_run(q, sql_release, NULL);
}

/* ---- a statement in one call -------------------------------------------- */

/* How the end of a statement that returns no rows is judged. */
typedef enum { SQ_RUN, SQ_WRITE, SQ_UPDATE } sq_mode_t;

/* One run of a statement: its parameters (args, then more), what its rows
 * are handed to, and how its end is judged. */
typedef struct sq_call {
    const char *sql;
    const iz_sq_arg_t *args, *more;
    bool one;               /* the first row is the answer: read into out, and stop */
    const iz_sq_row_t *row; /* may be NULL: the row's presence is the answer */
    void *out;
    iz_sq_each_fn each; /* every row; NULL (and not one): the statement returns none */
    void *ctx;
    sq_mode_t mode;
    int64_t *rowid; /* when not NULL: the inserted row's id */
} sq_call_t;

/* Fill a zeroed element of row type row from the current row. */
static void read_row(const iz_sq_row_t *row, const iz_row_t *r, void *out)
{
    memset(out, 0, row->size);
    row->read(r, out);
}

/* ---- the same on PostgreSQL ---------------------------------------------- */

#define PG_ARGS_MAX 64 /* arguments of a call with more (the chain's append) */

/* What a PostgreSQL row is handed to. */
typedef struct pg_hand {
    const sq_call_t *c;
} pg_hand_t;

static int pg_one(void *ctx, const iz_pg_row_t *r)
{
    const sq_call_t *c = ((pg_hand_t *)ctx)->c;
    const iz_row_t row = IZ_ROW_PG(r);
    if (c->row) read_row(c->row, &row, c->out);
    return 0;
}

static int pg_each(void *ctx, const iz_pg_row_t *r)
{
    const sq_call_t *c = ((pg_hand_t *)ctx)->c;
    const iz_row_t row = IZ_ROW_PG(r);
    return c->each(c->ctx, &row);
}

static int pg_statement(iz_sq_t *q, const sq_call_t *c, const iz_sq_arg_t *args)
{
    pg_hand_t h = {c};
    if (c->one) {
        int rc = iz__pg_get(q->pg, c->sql, args, pg_one, &h);
        return rc == 0 ? 1 : rc == IZ_ENOTFOUND ? 0 : rc;
    }
    if (c->each) return iz__pg_each(q->pg, c->sql, args, pg_each, &h);
    if (c->rowid) return iz__pg_insert(q->pg, c->sql, args, c->rowid);
    int64_t changes = 0;
    int rc = iz__pg_exec(q->pg, c->sql, args, &changes);
    if (rc == 0 && c->mode == SQ_UPDATE && changes == 0) rc = IZ_ENOTFOUND;
    return rc;
}

/* run_call on PostgreSQL. A write whose failure is an answer (IZ_EEXIST,
 * IZ_ENOTFOUND) runs inside a savepoint when a transaction is open: a
 * failed statement fails PostgreSQL's whole transaction, SQLite's only
 * the statement, and the callers go on after such an answer. */
static int pg_call(iz_sq_t *q, const sq_call_t *c)
{
    iz_sq_arg_t buf[PG_ARGS_MAX + 1];
    const iz_sq_arg_t *args = c->args;
    if (c->more) {
        size_t n = 0;
        for (const iz_sq_arg_t *l = c->args; l && l->kind != IZ_SQ_K_END; l++)
            if (n < PG_ARGS_MAX)
                buf[n++] = *l;
            else
                return IZ_EINVAL;
        for (const iz_sq_arg_t *l = c->more; l->kind != IZ_SQ_K_END; l++)
            if (n < PG_ARGS_MAX)
                buf[n++] = *l;
            else
                return IZ_EINVAL;
        buf[n] = (iz_sq_arg_t){.kind = IZ_SQ_K_END};
        args = buf;
    }
    iz__pg_lock(q->pg);
    bool guard = c->mode == SQ_WRITE && iz__pg_tx_state(q->pg) == 1;
    int rc = guard ? iz__pg_script(q->pg, "SAVEPOINT w") : 0;
    if (rc == 0) rc = pg_statement(q, c, args);
    if (guard && rc != 0 && iz__pg_tx_state(q->pg) == 2)
        (void)iz__pg_script(q->pg, "ROLLBACK TO w");
    if (guard && iz__pg_tx_state(q->pg) == 1) {
        int r = iz__pg_script(q->pg, "RELEASE w");
        if (rc == 0) rc = r;
    }
    iz__pg_unlock(q->pg);
    return rc;
}

/* The one loop every call of this file runs, under the lock: bind, step
 * to the end (or to the first row when c->one; 1 then says it was there)
 * handing rows over, judge the end, reset. */
static int run_call(iz_sq_t *q, const sq_call_t *c)
{
    if (q->pg) return pg_call(q, c);
    iz__sq_lock(q);
    sqlite3_stmt *stmt = stmt_get(q, c->sql);
    int rc = stmt ? 0 : IZ_EIO, r = SQLITE_OK, next = 1;
    if (stmt) r = bind_list(stmt, c->args, &next);
    if (stmt && r == SQLITE_OK) r = bind_list(stmt, c->more, &next);
    const iz_row_t cur = IZ_ROW_SQLITE(stmt);
    while (rc == 0 && r == SQLITE_OK && (r = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (c->one) {
            if (c->row) read_row(c->row, &cur, c->out);
            rc = 1;
        } else if (c->each) {
            rc = c->each(c->ctx, &cur);
            r = SQLITE_OK;
        }
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = c->mode != SQ_RUN ? write_fail(q, r, c->sql) : sq_fail(q, r, c->sql);
    else if (rc == 0 && c->mode == SQ_UPDATE && sqlite3_changes(q->db) == 0)
        rc = IZ_ENOTFOUND;
    else if (rc == 0 && c->rowid)
        *c->rowid = sqlite3_last_insert_rowid(q->db);
    if (stmt) {
        /* The result of reset repeats the error of the last step, which
         * has been judged above. */
        (void)sqlite3_reset(stmt);
        (void)sqlite3_clear_bindings(stmt);
    }
    iz__sq_unlock(q);
    return rc;
}

int iz__sq_run(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args)
{
    return run_call(q, &(sq_call_t){.sql = sql, .args = args, .mode = SQ_RUN});
}

int iz__sq_write(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args, int64_t *rowid)
{
    return run_call(q, &(sq_call_t){.sql = sql, .args = args, .mode = SQ_WRITE, .rowid = rowid});
}

int iz__sq_update(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args)
{
    return run_call(q, &(sq_call_t){.sql = sql, .args = args, .mode = SQ_UPDATE});
}

int iz__sq_changes(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args, int64_t *n)
{
    *n = 0;
    if (q->pg) return iz__pg_exec(q->pg, sql, args, n);
    iz__sq_lock(q);
    int rc = iz__sq_run(q, sql, args);
    if (rc == 0) *n = sqlite3_changes64(q->db);
    iz__sq_unlock(q);
    return rc;
}

int iz__sq_each(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args, iz_sq_each_fn fn, void *ctx)
{
    return run_call(q, &(sq_call_t){.sql = sql, .args = args, .each = fn, .ctx = ctx});
}

typedef struct stream_hand {
    iz_sq_each_fn fn;
    void *ctx;
} stream_hand_t;

static int stream_row(void *ctx, const iz_pg_row_t *r)
{
    const stream_hand_t *h = ctx;
    const iz_row_t row = IZ_ROW_PG(r);
    return h->fn(h->ctx, &row);
}

int iz__sq_each_stream(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args, iz_sq_each_fn fn,
                       void *ctx)
{
    if (!q->pg) return iz__sq_each(q, sql, args, fn, ctx);
    return iz__pg_stream(q->pg, sql, args, stream_row, &(stream_hand_t){fn, ctx});
}

int iz__sq_find(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args, const iz_sq_row_t *row,
                void *out)
{
    return run_call(q, &(sq_call_t){.sql = sql, .args = args, .one = true, .row = row, .out = out});
}

int iz__sq_get(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args, const iz_sq_row_t *row,
               void *out)
{
    int rc = iz__sq_find(q, sql, args, row, out);
    return rc == 1 ? 0 : rc == 0 ? IZ_ENOTFOUND : rc;
}

/* An array being read. */
typedef struct row_list {
    const iz_sq_row_t *row;
    char *v;
    size_t len, cap;
} row_list_t;

static int read_into_list(void *ctx, const iz_row_t *r)
{
    row_list_t *l = ctx;
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = iz_xrealloc(l->v, l->cap * l->row->size);
    }
    read_row(l->row, r, l->v + l->len++ * l->row->size);
    return 0;
}

int iz__sq_list(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args, const iz_sq_row_t *row,
                void *list, size_t *n)
{
    row_list_t l = {.row = row};
    int rc = iz__sq_each(q, sql, args, read_into_list, &l);
    if (rc != 0) {
        iz__sq_free_rows(row, l.v, l.len);
        return rc;
    }
    /* list is a T ** of the caller's; copied as bytes, so that no T * is
     * written through a char **. */
    memcpy(list, &l.v, sizeof l.v);
    *n = l.len;
    return 0;
}

void iz__sq_free_rows(const iz_sq_row_t *row, void *list, size_t n)
{
    char *v = list;
    for (size_t i = 0; v && row->owns_text && i < n; i++)
        free(*(char **)(v + i * row->size + row->text_at));
    free(v);
}

/* ---- reading columns ---------------------------------------------------- */

static void read_i64(const iz_row_t *r, void *out)
{
    *(int64_t *)out = iz_row_i64(r, 0);
}

const iz_sq_row_t iz__sq_i64_row = IZ_SQ_ROW(int64_t, read_i64);

/* The columns status, source, consent_date from column i. */
static void col_state(const iz_row_t *r, int i, iz_status_t *status, iz_source_t *source,
                      int64_t *consent_date)
{
    const char *t;
    if ((t = iz_row_text(r, i))) (void)iz_status_parse(t, status);
    if ((t = iz_row_text(r, i + 1))) (void)iz_source_parse(t, source);
    *consent_date = iz_row_i64(r, i + 2);
}

static void read_current(const iz_row_t *r, void *out)
{
    iz_current_t *cur = out;
    cur->exists = true;
    col_state(r, 0, &cur->status, &cur->source, &cur->consent_date);
}

const iz_sq_row_t iz__sq_current_row = IZ_SQ_ROW(iz_current_t, read_current);

/* A text buffer being read by iz__sq_get_text. */
typedef struct text_buf {
    char *p;
    size_t size;
} text_buf_t;

static void read_text(const iz_row_t *r, void *out)
{
    const text_buf_t *b = out;
    if (b->p) iz_row_str(r, 0, b->p, b->size);
}

int iz__sq_get_text(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args, char *out, size_t size)
{
    /* Not a zeroed element: the buffer description is the out. */
    static const iz_sq_row_t text_row = {.read = read_text};
    return iz__sq_get(q, sql, args, &text_row, &(text_buf_t){out, size});
}

void iz__sq_col_consent(const iz_row_t *r, int i, char *recipient, iz_rtype_t *rtype,
                        iz_type_t *type, iz_status_t *status, iz_source_t *source,
                        int64_t *consent_date)
{
    const char *t;
    iz_row_str(r, i, recipient, IZ_RECIPIENT_MAX);
    if ((t = iz_row_text(r, i + 1))) (void)iz_rtype_parse(t, rtype);
    if ((t = iz_row_text(r, i + 2))) (void)iz_type_parse(t, type);
    col_state(r, i + 3, status, source, consent_date);
}

/* ---- the consent fields ------------------------------------------------- */

int iz__sq_names(const char *recipient, iz_rtype_t rtype, iz_type_t type, iz_status_t status,
                 iz_source_t source, int64_t consent_date, iz_sq_names_t *nm)
{
    if (iz__sq_fits(recipient, IZ_RECIPIENT_MAX)) return IZ_ETOOBIG;
    nm->rtype = iz_rtype_name(rtype);
    nm->type = iz_type_name(type);
    nm->status = iz_status_name(status);
    nm->source = iz_source_name(source);
    if (!recipient[0] || !nm->rtype || !nm->type || !nm->status ||
        (source != IZ_SOURCE_NONE && !nm->source) || consent_date < 0)
        return IZ_EINVAL;
    return 0;
}

int iz__sq_key_names(iz_rtype_t rtype, iz_type_t type, const char *recipient, const char **rt,
                     const char **ty)
{
    *rt = iz_rtype_name(rtype);
    *ty = iz_type_name(type);
    if (!recipient || !*rt || !*ty) return IZ_EINVAL;
    return !recipient[0] || iz__sq_fits(recipient, IZ_RECIPIENT_MAX) ? IZ_ENOTFOUND : 0;
}

/* ---- checks ------------------------------------------------------------- */

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
        int has_meta = iz_row_int(&IZ_ROW_SQLITE(stmt), 0);
        (void)sqlite3_finalize(stmt);
        stmt = NULL;
        if (!has_meta) return 0;
        rc = sqlite3_prepare_v2(q->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
                                &stmt, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            int64_t v = 0;
            const char *t = iz_row_text(&IZ_ROW_SQLITE(stmt), 0);
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
            const char *got = iz_row_text(&IZ_ROW_SQLITE(stmt), 0);
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

/* ---- the checkpointer ------------------------------------------------------ */

/* A commit appends its pages to the WAL; a checkpoint copies them into the
 * database file (and fsyncs it) so that the WAL can start over. SQLite
 * does that in the committing thread, every 1000 pages: a writer then
 * pays for its pages twice, and a caller waiting for a group commit waits
 * for the copy too. Here a thread of the store's own, on a connection of
 * its own, copies them (PASSIVE: it never holds a writer up) while the
 * writer goes on; should it fall behind by CKPT_SELF_FRAMES pages, the
 * committer copies itself, as SQLite would. */
#define CKPT_FRAMES 1000       /* WAL pages that wake the thread: SQLite's default */
#define CKPT_SELF_FRAMES 65536 /* 256 MiB of 4 KiB pages: the committer copies */
#define CKPT_WAL_KEEP "67108864" /* bytes the WAL file keeps after it starts over */

struct iz_sq_ckpt {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool due, stop;
    sqlite3 *db; /* the thread's connection */
    const char *who;
};

static void *ckpt_main(void *arg)
{
    struct iz_sq_ckpt *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        if (!c->due) {
            pthread_cond_wait(&c->cv, &c->mu);
            continue;
        }
        c->due = false;
        pthread_mutex_unlock(&c->mu);
        int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
            iz_logf(IZ_LOG_WARN, c->who, "checkpoint failed", "error=%s", sqlite3_errstr(rc));
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* After every commit of the store's connection (SQLite's WAL hook, called
 * with the WAL's page count). */
static int ckpt_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    struct iz_sq_ckpt *c = arg;
    if (frames >= CKPT_SELF_FRAMES) {
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (frames >= CKPT_FRAMES) {
        pthread_mutex_lock(&c->mu);
        c->due = true;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
    }
    return SQLITE_OK;
}

static void ckpt_stop(iz_sq_t *q)
{
    struct iz_sq_ckpt *c = q->ckpt;
    if (!c) return;
    if (q->db) sqlite3_wal_hook(q->db, NULL, NULL);
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    (void)sqlite3_close(c->db);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
    q->ckpt = NULL;
    /* What is left in the WAL is copied by the connection's close. */
}

/* Start the checkpointer of q's file; without it (no connection, no
 * thread) SQLite's own checkpoints in the committer stay on. */
static void ckpt_start(iz_sq_t *q)
{
    struct iz_sq_ckpt *c = iz_xcalloc(1, sizeof *c);
    c->who = q->def->who;
    if (sqlite3_open_v2(q->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL) != SQLITE_OK) {
        (void)sqlite3_close(c->db);
        free(c);
        return;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->th, NULL, ckpt_main, c) != 0) {
        (void)sqlite3_close(c->db);
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        free(c);
        return;
    }
    q->ckpt = c;
    (void)sqlite3_exec(q->db, "PRAGMA journal_size_limit = " CKPT_WAL_KEEP, NULL, NULL, NULL);
    sqlite3_wal_hook(q->db, ckpt_hook, c); /* in place of wal_autocheckpoint's */
}

void iz__sq_close(iz_sq_t *q)
{
    if (q->pg) {
        iz__pg_close(q->pg);
        free(q->path);
        memset(q, 0, sizeof *q);
        return;
    }
    ckpt_stop(q);
    if (q->wal_open) close(q->wal_fd);
    for (size_t i = 0; q->cache && i < q->cap; i++)
        (void)sqlite3_finalize(q->cache[i].stmt);
    free(q->cache);
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
    q->cap = SQ_CACHE_MIN;
    q->cache = iz_xcalloc(q->cap, sizeof *q->cache);
    pthread_mutexattr_t attr;
    if (pthread_mutexattr_init(&attr) != 0 ||
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE) != 0 ||
        pthread_mutex_init(&q->mu, &attr) != 0)
        iz_oom();
    (void)pthread_mutexattr_destroy(&attr);
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
    ckpt_start(q);
    return 0;
}

/* ---- PostgreSQL: open and migrate ---------------------------------------- */

static int read_int_text(void *ctx, const iz_row_t *r)
{
    const char *t = iz_row_text(r, 0);
    int64_t v = 0;
    if (!t || iz_parse_i64(t, 0, INT_MAX, &v) != 0) return IZ_EIO;
    *(int *)ctx = (int)v;
    return 0;
}

static int pg_each_row(void *ctx, const iz_pg_row_t *r)
{
    const iz_row_t row = IZ_ROW_PG(r);
    return read_int_text(ctx, &row);
}

/* The database's schema version: 0 when it has no meta table yet. */
static int pg_version(iz_sq_t *q, int *v, const char **err)
{
    *v = 0;
    int has = 0;
    int rc = iz__pg_get(q->pg,
                        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
                        " AND tablename = 'meta'",
                        NULL, pg_each_row, &has);
    if (rc == 0 && has)
        rc = iz__pg_get(q->pg, "SELECT value FROM meta WHERE key = 'schema_version'", NULL,
                        pg_each_row, v);
    if (rc == IZ_ENOTFOUND) rc = 0;
    if (rc != 0) *err = iz_errf("cannot read the %s's schema version", q->def->who);
    return rc;
}

static int pg_migrate(iz_sq_t *q, const char **err)
{
    const iz_sq_def_t *def = q->def;
    const int want = def->nmigrations;
    if (!def->pg_baseline) {
        *err = iz_errf("the %s cannot be kept in PostgreSQL", def->who);
        return IZ_EUNSUPPORTED;
    }
    iz__pg_lock(q->pg);
    int rc = iz__pg_exec(q->pg, "SELECT pg_advisory_lock(?1::int8)",
                         IZ_SQ_ARGS(IZ_SQ_I64(PG_MIGRATE_KEY)), NULL);
    int v = 0;
    if (rc == 0) rc = pg_version(q, &v, err);
    if (rc == 0 && v < want) {
        rc = iz__pg_script(q->pg, "BEGIN");
        if (rc == 0 && v == 0) {
            rc = iz__pg_script(q->pg, def->pg_baseline);
            v = def->pg_baseline_version;
        }
        for (; rc == 0 && v >= def->pg_baseline_version && v < want; v++)
            rc = iz__pg_script(q->pg, def->pg_migrations[v - def->pg_baseline_version]);
        if (rc == 0 && v < want) {
            *err = iz_errf("%s schema version %d cannot be brought to %d in PostgreSQL", def->who,
                           v, want);
            rc = IZ_EUNSUPPORTED;
        }
        char sql[128];
        snprintf(sql, sizeof sql,
                 "INSERT INTO meta(key, value) VALUES('schema_version', '%d')"
                 " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                 v);
        if (rc == 0) rc = iz__pg_script(q->pg, sql);
        if (rc == 0) rc = iz__pg_script(q->pg, "COMMIT");
        if (rc != 0 && !*err) *err = iz_errf("cannot make the %s's schema", def->who);
    }
    (void)iz__pg_exec(q->pg, "SELECT pg_advisory_unlock(?1::int8)",
                      IZ_SQ_ARGS(IZ_SQ_I64(PG_MIGRATE_KEY)), NULL);
    iz__pg_unlock(q->pg); /* rolls back what did not commit */
    if (rc == 0 && v > want) {
        *err = iz_errf("%s schema version %d is newer than this izin knows (%d);"
                       " upgrade izin",
                       def->who, v, want);
        rc = IZ_EUNSUPPORTED;
    }
    if (rc == 0) q->version = v;
    return rc;
}

static int read_text_row(void *ctx, const iz_pg_row_t *r)
{
    const iz_row_t row = IZ_ROW_PG(r);
    iz_row_str(&row, 0, ctx, 64);
    return 0;
}

/* The store compares and orders text by its bytes, as SQLite does (keys,
 * pages of a walk, an export's order): a database whose collation is a
 * language's would order and page otherwise. Refused with the way out. */
static int pg_collation(iz_sq_t *q, const char **err)
{
    char coll[64] = "";
    int rc = iz__pg_get(q->pg,
                        "SELECT CASE WHEN datlocprovider = 'c' THEN datcollate"
                        " ELSE 'ICU ' || coalesce(daticulocale, '') END"
                        " FROM pg_database WHERE datname = current_database()",
                        NULL, read_text_row, coll);
    if (rc != 0) {
        *err = iz_errf("cannot read the database's collation");
        return rc;
    }
    if (strcmp(coll, "C") == 0 || strcmp(coll, "POSIX") == 0 || strncmp(coll, "C.", 2) == 0)
        return 0;
    *err = iz_errf("the database's collation is %s; izin orders text by its bytes: create the "
                   "database with `createdb --template=template0 --locale=C.UTF-8`",
                   coll);
    return IZ_EUNSUPPORTED;
}

int iz__sq_open_pg(iz_sq_t *q, const iz_sq_def_t *def, const char *url, const char **err)
{
    memset(q, 0, sizeof *q);
    q->def = def;
    *err = NULL;
    int rc = iz__pg_open(&q->pg, def->who, url, err);
    if (rc != 0) {
        q->pg = NULL;
        return rc;
    }
    q->path = iz_xstrdup(url);
    rc = pg_collation(q, err);
    if (rc == 0) rc = pg_migrate(q, err);
    if (rc != 0) iz__sq_close(q);
    return rc;
}

/* ---- the hash chain ----------------------------------------------------- */

int iz__sq_chain_append(iz_sq_t *q, const char *insert_sql, const iz_sq_arg_t *args,
                        const iz_sq_arg_t *hashed, int64_t *id_out)
{
    char prev[IZ_SHA256_HEX] = "", hash[IZ_SHA256_HEX];
    char num[IZ_SQ_CHAIN_MAX][24]; /* the integers' decimal text */
    const char *f[IZ_SQ_CHAIN_MAX] = {prev, num[1]};
    int nf = 2;
    /* The row's own fields as the text its columns will hold (bind_list's
     * rules: an optional 0 or a NULL text is NULL, hashed as ""). */
    for (const iz_sq_arg_t *a = hashed; a->kind != IZ_SQ_K_END; a++, nf++) {
        if (nf == IZ_SQ_CHAIN_MAX) return IZ_EINVAL;
        f[nf] = a->kind == IZ_SQ_K_TEXT || a->kind == IZ_SQ_K_OPT ? a->t : NULL;
        if (a->kind == IZ_SQ_K_I64 || (a->kind == IZ_SQ_K_OPT_I64 && a->i != 0)) {
            snprintf(num[nf], sizeof num[nf], "%" PRId64, a->i);
            f[nf] = num[nf];
        }
    }
    /* Read inside the write transaction on every append rather than cached:
     * another process (the CLI) may append to the same file, and this is one
     * b-tree descent to the last row, a page that is already in the cache. */
    int rc = iz__sq_get_text(q,
                             q->def->chain_head_sql
                                 ? q->def->chain_head_sql
                                 : "SELECT hash FROM consent_log ORDER BY id DESC LIMIT 1",
                             NULL, prev, sizeof prev);
    if (rc != 0 && rc != IZ_ENOTFOUND) return rc;
    int64_t id = 0;
    rc = run_call(q, &(sq_call_t){.sql = insert_sql,
                                  .args = args,
                                  .more = IZ_SQ_ARGS(IZ_SQ_TEXT(prev)),
                                  .rowid = &id});
    if (rc != 0) return rc;
    snprintf(num[1], sizeof num[1], "%" PRId64, id);
    iz_sha256_join_hex(f, (size_t)nf, hash);
    rc = iz__sq_update(q, "UPDATE consent_log SET hash = ?2 WHERE id = ?1 AND hash = ''",
                       IZ_SQ_ARGS(IZ_SQ_I64(id), IZ_SQ_TEXT(hash)));
    iz__sq_log_appended(q);
    if (rc == IZ_ENOTFOUND) {
        iz_logf(IZ_LOG_ERROR, q->def->who, "log row lost its hash slot", "id=%lld", (long long)id);
        rc = IZ_EIO;
    }
    if (rc == 0) *id_out = id;
    return rc;
}

/* A cursor of the PostgreSQL walk, read a batch at a time. */
#define PG_WALK_BATCH 10000
typedef struct pg_stream {
    iz_pg_t *pg;
    const char *fetch; /* "FETCH n FROM cursor" */
    iz_pg_batch_t *b;
    size_t i, n;
    bool end;
    iz_row_t row;
} pg_stream_t;

/* The stream's current row (NULL at its end), read on when *rc is 0. */
static const iz_row_t *pg_cur(pg_stream_t *s, int *rc)
{
    while (*rc == 0 && s->i == s->n && !s->end) {
        iz__pg_batch_free(s->b);
        s->b = NULL;
        s->i = s->n = 0;
        *rc = iz__pg_fetch(s->pg, s->fetch, &s->b);
        if (*rc == 0) s->n = iz__pg_batch_rows(s->b);
        /* A short batch is the cursor's last. */
        if (*rc == 0 && s->n < PG_WALK_BATCH) s->end = true;
    }
    if (*rc != 0 || s->i == s->n) return NULL;
    s->row = IZ_ROW_PG(iz__pg_batch_row(s->b, s->i));
    return &s->row;
}

static int pg_declare(iz_pg_t *pg, const char *name, const char *sql)
{
    size_t n = strlen(sql) + 64;
    char *decl = iz_xmalloc(n);
    (void)snprintf(decl, n, "DECLARE %s NO SCROLL CURSOR FOR %s", name, sql);
    int rc = iz__pg_script(pg, decl);
    free(decl);
    return rc;
}

/* The walk of iz__sq_verify_chain on PostgreSQL: a connection of its own,
 * one REPEATABLE READ snapshot, rows and segments through two cursors. */
static int pg_verify(iz_sq_t *q, const char *sql, int nf, const char *seg_sql,
                     iz_sq_link_fn seg_link, int64_t *bad_id)
{
    const char *err = NULL;
    iz_pg_t *pg = NULL;
    int rc = iz__pg_open(&pg, q->def->who, q->path, &err);
    if (rc != 0) return rc;
    pg_stream_t ls = {.pg = pg, .fetch = "FETCH 10000 FROM lr"},
                ss = {.pg = pg, .fetch = "FETCH 10000 FROM sg", .end = !seg_sql};
    iz__pg_lock(pg);
    rc = iz__pg_script(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    if (rc == 0) {
        rc = pg_declare(pg, "lr", sql);
    }
    if (rc == 0 && seg_sql) {
        rc = pg_declare(pg, "sg", seg_sql);
    }
    char prev[65] = "", h[65];
    const iz_row_t *lr, *sr;
    while (rc == 0) {
        lr = pg_cur(&ls, &rc);
        sr = rc == 0 ? pg_cur(&ss, &rc) : NULL;
        if (rc != 0 || (!lr && !sr)) break;
        bool take_seg = sr && (!lr || iz_row_i64(sr, 1) < iz_row_i64(lr, 1));
        const iz_row_t *cur = take_seg ? sr : lr;
        const char *stored_prev = iz_row_text(cur, 0), *stored;
        if (take_seg) {
            seg_link(sr, prev, h);
            stored = iz_row_text(sr, 2);
        } else {
            const char *f[IZ_SQ_CHAIN_MAX];
            for (int i = 0; i < nf; i++)
                f[i] = iz_row_text(lr, i);
            stored = iz_row_text(lr, nf);
            f[0] = prev;
            iz_sha256_join_hex(f, (size_t)nf, h);
        }
        if (strcmp(stored_prev ? stored_prev : "", prev) != 0 || !stored ||
            strcmp(stored, h) != 0) {
            *bad_id = iz_row_i64(cur, 1);
            rc = IZ_ERULE;
            break;
        }
        memcpy(prev, h, sizeof prev);
        if (take_seg)
            ss.i++;
        else
            ls.i++;
    }
    iz__pg_batch_free(ls.b);
    iz__pg_batch_free(ss.b);
    iz__pg_unlock(pg); /* ends the read-only transaction */
    iz__pg_close(pg);
    return rc;
}

int iz__sq_verify_chain(iz_sq_t *q, const char *sql, int nf, const char *seg_sql,
                        iz_sq_link_fn seg_link, int64_t *bad_id)
{
    if (nf < 2 || nf > IZ_SQ_CHAIN_MAX || (seg_sql && !seg_link)) return IZ_EINVAL;
    if (q->pg) return pg_verify(q, sql, nf, seg_sql, seg_link, bad_id);
    const char *who = q->def->who;
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL, *seg = NULL;
    int rc = IZ_EIO;
    int r = sqlite3_open_v2(q->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (r == SQLITE_OK) r = sqlite3_busy_timeout(db, SQ_BUSY_TIMEOUT_MS);
    if (r == SQLITE_OK) r = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (r == SQLITE_OK) r = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (r == SQLITE_OK && seg_sql) r = sqlite3_prepare_v2(db, seg_sql, -1, &seg, NULL);
    if (r != SQLITE_OK) {
        rc = db ? db_fail(who, db, r, "verify") : IZ_EIO;
        goto out;
    }
    char prev[65] = "", h[65];
    /* Rows and segments in one id order: step whichever comes first. */
    int rr = sqlite3_step(stmt), rs = seg ? sqlite3_step(seg) : SQLITE_DONE;
    const iz_row_t lrow = IZ_ROW_SQLITE(stmt), srow = IZ_ROW_SQLITE(seg);
    while (rr == SQLITE_ROW || rs == SQLITE_ROW) {
        bool take_seg =
            rs == SQLITE_ROW && (rr != SQLITE_ROW || iz_row_i64(&srow, 1) < iz_row_i64(&lrow, 1));
        const iz_row_t *cur = take_seg ? &srow : &lrow;
        const char *stored_prev = iz_row_text(cur, 0), *stored;
        if (take_seg) {
            seg_link(&srow, prev, h);
            stored = iz_row_text(&srow, 2);
        } else {
            const char *f[IZ_SQ_CHAIN_MAX];
            for (int i = 0; i < nf; i++)
                f[i] = iz_row_text(&lrow, i);
            stored = iz_row_text(&lrow, nf);
            f[0] = prev;
            iz_sha256_join_hex(f, (size_t)nf, h);
        }
        if (strcmp(stored_prev ? stored_prev : "", prev) != 0 || !stored || strcmp(stored, h) != 0) {
            *bad_id = iz_row_i64(cur, 1);
            rc = IZ_ERULE;
            goto out;
        }
        memcpy(prev, h, sizeof prev);
        if (take_seg)
            rs = sqlite3_step(seg);
        else
            rr = sqlite3_step(stmt);
    }
    rc = rr == SQLITE_DONE && rs == SQLITE_DONE
             ? 0
             : db_fail(who, db, rr != SQLITE_DONE ? rr : rs, "verify");
out:
    (void)sqlite3_finalize(stmt);
    (void)sqlite3_finalize(seg);
    if (db) {
        if (!sqlite3_get_autocommit(db))
            (void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL); /* read-only: nothing to lose */
        r = sqlite3_close(db);
        if (r != SQLITE_OK)
            iz_logf(IZ_LOG_ERROR, who, "verify: cannot close", "error=%s", sqlite3_errstr(r));
    }
    return rc;
}
