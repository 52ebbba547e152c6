/*
 * pgdb.h - the PostgreSQL driver of the store's database layer, over libpq
 * (issue 15). It does for a PostgreSQL connection what sqlite_util does for
 * an SQLite file, with the same statements and arguments, so that one store
 * can be written once over both:
 *
 *   - a connection opened from a libpq URL (postgresql://... or
 *     postgres://...; anything else is refused), in UTF-8; the password a
 *     URL may hold is never logged nor put in a message;
 *   - one connection behind one recursive lock, taken by every call below
 *     and held by a transaction from its begin to its end; the outermost
 *     release rolls back whatever transaction is still open;
 *   - a statement run in one call: its SQL written with SQLite's numbered
 *     parameters ?1, ?2, ... (rewritten once to PostgreSQL's $1, $2, ...,
 *     skipping quoted text, identifiers and comments), prepared on the
 *     server on first use and found again by the SQL's address, its
 *     arguments the iz_sq_arg_t lists of sqlite_util.h, its rows read
 *     through the engine-neutral row accessors below;
 *   - failures logged with the statement (never the values) and mapped as
 *     sqlite_util maps them: a unique violation IZ_EEXIST, a foreign-key one
 *     IZ_ENOTFOUND, a serialization failure, a deadlock or a lost
 *     connection IZ_EBUSY (try again: the next call reconnects), anything
 *     else IZ_EIO;
 *   - session advisory locks of a 64-bit key, for a lease one node of many
 *     holds at a time (the İYS sync leader).
 *
 * Internal to store/.
 */
#ifndef IZ_PGDB_H
#define IZ_PGDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/sqlite_util.h"

/* One open connection; its fields are private to pgdb.c. */
typedef struct iz_pg iz_pg_t;

/* A result row (store/dbrow.h declares the type and its accessors),
 * valid during the callback it is handed to. */

/* True when url is one this driver takes (postgresql:// or postgres://). */
bool iz__pg_is_url(const char *url);

/* Connect to the database at url into *out; who names log lines ("store").
 * On failure *err says why (sys/fs.h iz_errf text, naming the host and
 * database, never the password) and *out is NULL. IZ_EINVAL for a url that
 * is not a PostgreSQL one, IZ_EBUSY when the server cannot be reached. */
int iz__pg_open(iz_pg_t **out, const char *who, const char *url, const char **err);

/* Deallocate the statements, close the connection and free pg (NULL is
 * fine). A session's advisory locks go with it. */
void iz__pg_close(iz_pg_t *pg);

/* ---- the lock and transactions ------------------------------------------ */

/* Take and release the connection's lock (recursive, as iz__sq_lock). The
 * outermost release rolls back the transaction still open, if any. A
 * connection found lost when the lock is taken from the outside is reset
 * (reconnected, its statements prepared again on use). */
void iz__pg_lock(iz_pg_t *pg);
void iz__pg_unlock(iz_pg_t *pg);

/* Take the lock and open a transaction: a write one (READ COMMITTED, the
 * default), or a read-only snapshot for several reads (REPEATABLE READ,
 * READ ONLY). The lock is taken even when the BEGIN fails: every begin is
 * paired with one iz__pg_end. */
int iz__pg_begin(iz_pg_t *pg);
int iz__pg_begin_read(iz_pg_t *pg);

/* Commit when rc is 0 and release the lock (which rolls back what was not
 * committed); returns rc, or the commit's failure. */
int iz__pg_end(iz_pg_t *pg, int rc);
int iz__pg_commit(iz_pg_t *pg);

/* A savepoint around one item of a larger transaction, and its end: undo
 * rolls the item's writes back first. */
int iz__pg_savepoint(iz_pg_t *pg);
int iz__pg_release(iz_pg_t *pg, bool undo);

/* ---- a statement in one call -------------------------------------------- */

/* Every call below runs sql with args bound (NULL: none), under the lock.
 * sql must live as long as pg (a string literal): it is prepared on its
 * first use and kept, found again by its address. The parameters' types
 * are the server's inference (asked once, when it is prepared): an integer
 * argument goes as binary int8/int4/int2 to such a parameter and as decimal
 * text to any other, text as text, a blob as binary (bytea), NULL as NULL.
 * The number of arguments must be the statement's (IZ_EINVAL). */

/* A walker of rows: 0 to go on, any other value stops the walk with it. */
typedef int (*iz_pg_each_fn)(void *ctx, const iz_pg_row_t *row);

/* A statement whose rows, if any, are not read; *changes (may be NULL)
 * gets the number of rows it inserted, updated or deleted. */
int iz__pg_exec(iz_pg_t *pg, const char *sql, const iz_sq_arg_t *args, int64_t *changes);

/* The first row handed to fn (which may be NULL: only whether there is
 * one); IZ_ENOTFOUND when there is none. fn's non-zero value is returned. */
int iz__pg_get(iz_pg_t *pg, const char *sql, const iz_sq_arg_t *args, iz_pg_each_fn fn, void *ctx);

/* Every row handed to fn in turn (the whole result is fetched first). */
int iz__pg_each(iz_pg_t *pg, const char *sql, const iz_sq_arg_t *args, iz_pg_each_fn fn, void *ctx);

/* Every row handed to fn as it arrives (libpq's single-row mode): what a
 * walk over a whole table holds is one row, not the result. The lock is
 * held throughout and the connection is busy: fn must run no statement. */
int iz__pg_stream(iz_pg_t *pg, const char *sql, const iz_sq_arg_t *args, iz_pg_each_fn fn,
                  void *ctx);

/* COPY ... FROM STDIN (sql) with data, len bytes of COPY's text format:
 * the rows go in one exchange. Its failure as any statement's (a unique
 * violation IZ_EEXIST); in a transaction, run it inside a savepoint when
 * the caller goes on after a failure. */
int iz__pg_copy(iz_pg_t *pg, const char *sql, const char *data, size_t len);

/* An INSERT of one row, run with " RETURNING id" after it (its own
 * prepared statement): *id gets the inserted row's id column. */
int iz__pg_insert(iz_pg_t *pg, const char *sql, const iz_sq_arg_t *args, int64_t *id);

/* The connection's transaction: 0 none, 1 open, 2 failed (a statement
 * failed in it: only a rollback, or a rollback to a savepoint, helps). */
int iz__pg_tx_state(iz_pg_t *pg);

/* A batch of rows read by a statement with no parameters, outside the
 * statement cache (FETCH n FROM a cursor: a walk over more rows than
 * memory should hold at once), its rows read in place. */
typedef struct iz_pg_batch iz_pg_batch_t;
int iz__pg_fetch(iz_pg_t *pg, const char *sql, iz_pg_batch_t **out);
size_t iz__pg_batch_rows(const iz_pg_batch_t *b);
const iz_pg_row_t *iz__pg_batch_row(iz_pg_batch_t *b, size_t i); /* valid until the next call */
void iz__pg_batch_free(iz_pg_batch_t *b);

/* Run SQL text with no parameters outside the statement cache (several
 * statements may be joined by ';': a migration). */
int iz__pg_script(iz_pg_t *pg, const char *sql);

/* ---- reading a row ------------------------------------------------------ */

/* The accessors of a row (declared in store/dbrow.h, which the store's
 * readers use): column col (0-based); NULL or a column out of range reads
 * as absent - 0, NULL, 0 bytes. Integers are read from int2, int4, int8,
 * oid, bool and numeric columns, and from text holding a decimal; text is
 * the column's bytes with a NUL after them, an integer column's decimal
 * text; blob and bytes are a bytea's bytes and length (or a text's). */

/* ---- notifications ---------------------------------------------------- */

/* Wait up to timeout_ms for a notification of a channel this connection
 * LISTENs to (iz__pg_script(pg, "LISTEN ...")); *heard says whether one (or
 * several) came. IZ_EBUSY when the connection is lost: the next call made
 * under the lock connects again, without its LISTENs (iz__pg_session tells). */
int iz__pg_wait(iz_pg_t *pg, int timeout_ms, bool *heard);

/* ---- advisory locks ----------------------------------------------------- */

/* Try to take the session advisory lock of key without waiting: *got says
 * whether this connection now holds it (taking it again while holding it
 * nests, as PostgreSQL counts). Release gives one hold back (IZ_ENOTFOUND
 * when this connection did not hold it). A lost connection loses its locks:
 * iz__pg_session tells a holder that its session changed since it took one. */
int iz__pg_try_lock(iz_pg_t *pg, int64_t key, bool *got);
int iz__pg_unlock_key(iz_pg_t *pg, int64_t key);

/* A number that changes whenever the connection is made again (starts at 1). */
uint64_t iz__pg_session(iz_pg_t *pg);

/* ---- for the tests ------------------------------------------------------ */

/* Rewrite ?N parameters of sql into $N (a bare ? numbered as SQLite does) into out (size bytes);
 * the highest N in *nparams. IZ_ETOOBIG when out is too small, IZ_EINVAL for a parameter number out
 * of 1..IZ_PG_MAX_PARAMS. */
#define IZ_PG_MAX_PARAMS 32766 /* SQLite's limit; PostgreSQL's is 65535 */
int iz__pg_rewrite(const char *sql, char *out, size_t size, int *nparams);

/* How many times a statement was prepared on pg's current connection. */
uint64_t iz__pg_prepares(iz_pg_t *pg);

#endif
