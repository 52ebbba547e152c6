/*
 * dbrow.h - one row of a query's result, whichever database engine made
 * it (issue 15: one store logic over two engines, SQLite and PostgreSQL).
 *
 * The store's row readers (iz_sq_read_fn, iz_sq_each_fn in sqlite_util.h)
 * read their columns through these accessors only, never through an
 * engine's own calls, so that the same readers can later read a libpq
 * result. Columns are numbered from 0 in the order of the SELECT.
 *
 * The SQLite driver is below (an iz_row_t holds the statement stepped onto
 * the row). Its accessors are inline: a bulk load reads rows in tight
 * loops, and an accessor costs what the sqlite3_column_* call it wraps
 * costs. A second driver will tag the row with its engine and branch
 * here (a predictable branch, still inline), or move the accessors out of
 * line behind a table of functions if measured as cheap.
 *
 * What store/store_sqlite.c still does in SQLite's own terms after this
 * step (the map for the PostgreSQL driver):
 *   - state_insert, the bulk load's hot path (load_items), binds and steps
 *     a cached multi-row INSERT itself (iz__sq_stmt: sqlite3_bind_*,
 *     sqlite3_step, sqlite3_reset) and counts what it inserted with
 *     sqlite3_changes; PostgreSQL would load with COPY;
 *   - sqlite3_changes64 / sqlite3_changes for the count of rows a DELETE or
 *     UPDATE touched (sq_sessions_expire, sq_sms_recover);
 *   - sqlite3_get_autocommit to learn that SQLite rolled the transaction
 *     back by itself after a failure (load_items, run_batch: the group
 *     commit's batch); the emulator's tx_begin does the same;
 *   - the SQL dialect of the statements and of the migrations: INTEGER
 *     PRIMARY KEY rowids read back with last_insert_rowid (iz__sq_write's
 *     rowid, the hash chain's append), INSERT OR IGNORE / OR REPLACE,
 *     ON CONFLICT DO NOTHING, triggers with date(..., 'unixepoch'), BLOB
 *     columns, and the placeholders ?1 / ? (libpq: $1);
 *   - in store/sqlite_util.c, the SQLite driver's own place: the open (a
 *     0600 file, PRAGMAs journal_mode=WAL, synchronous FULL, and NORMAL
 *     for a begin_lazy transaction, foreign_keys, busy_timeout, defensive
 *     mode), BEGIN IMMEDIATE and the savepoints, the checkpointer thread
 *     (WAL hook), the statement cache, the mapping of SQLite's error codes,
 *     the schema version read (sqlite_master), and the hash chain's verify
 *     walk over a read-only connection of its own.
 * docs/DECISIONS.md "Store engines (issue 15)" keeps the same list.
 */
#ifndef IZ_DBROW_H
#define IZ_DBROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "core/iz.h"

/* One row of a result: valid while its reader or walker runs. */
typedef struct iz_row iz_row_t;

/* A PostgreSQL result row (store/pgdb.c); its accessors are out of line. */
typedef struct iz_pg_row iz_pg_row_t;
bool iz_pg_row_null(const iz_pg_row_t *row, int col);
int64_t iz_pg_row_i64(const iz_pg_row_t *row, int col);
int iz_pg_row_int(const iz_pg_row_t *row, int col);
const char *iz_pg_row_text(const iz_pg_row_t *row, int col);
const void *iz_pg_row_blob(const iz_pg_row_t *row, int col);
size_t iz_pg_row_bytes(const iz_pg_row_t *row, int col);

/* ---- the drivers -------------------------------------------------------- */

/* A row is SQLite's (stmt, stepped onto the row: SQLITE_ROW) or
 * PostgreSQL's (pg, a row of a libpq result); the accessors branch on
 * which, a branch that always goes the same way in one process. */
struct iz_row {
    sqlite3_stmt *stmt;
    const iz_pg_row_t *pg;
};

/* A row of stmt, which the caller has just stepped onto. */
#define IZ_ROW_SQLITE(st) ((iz_row_t){.stmt = (st)})
/* A row of a PostgreSQL result. */
#define IZ_ROW_PG(r) ((iz_row_t){.pg = (r)})

/* An integer column; NULL reads 0. */
static inline int64_t iz_row_i64(const iz_row_t *r, int col)
{
    if (r->pg) return iz_pg_row_i64(r->pg, col);
    return sqlite3_column_int64(r->stmt, col);
}

static inline int iz_row_int(const iz_row_t *r, int col)
{
    if (r->pg) return iz_pg_row_int(r->pg, col);
    return sqlite3_column_int(r->stmt, col);
}

/* A text column, NULL for SQL NULL; valid until the next row. An integer
 * column reads as its decimal text. */
static inline const char *iz_row_text(const iz_row_t *r, int col)
{
    if (r->pg) return iz_pg_row_text(r->pg, col);
    return (const char *)sqlite3_column_text(r->stmt, col);
}

/* A blob column and its length in bytes (NULL and 0 for SQL NULL or an
 * empty blob); read the blob first, then its length. */
static inline const void *iz_row_blob(const iz_row_t *r, int col)
{
    if (r->pg) return iz_pg_row_blob(r->pg, col);
    return sqlite3_column_blob(r->stmt, col);
}

static inline size_t iz_row_bytes(const iz_row_t *r, int col)
{
    if (r->pg) return iz_pg_row_bytes(r->pg, col);
    return (size_t)sqlite3_column_bytes(r->stmt, col);
}

static inline bool iz_row_null(const iz_row_t *r, int col)
{
    if (r->pg) return iz_pg_row_null(r->pg, col);
    return sqlite3_column_type(r->stmt, col) == SQLITE_NULL;
}

/* ---- built on the accessors (every engine) ------------------------------ */

/* A text column copied into a buffer of size bytes: NULL reads as "",
 * longer text is cut. */
static inline void iz_row_str(const iz_row_t *r, int col, char *dst, size_t size)
{
    const char *t = iz_row_text(r, col);
    (void)iz_strlcpy(dst, t ? t : "", size);
}

#endif
