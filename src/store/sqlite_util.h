/*
 * sqlite_util.h - the SQLite plumbing shared by the module's store
 * (store/store_sqlite.c) and the İYS emulator's store (sim/simstore.c).
 * Each keeps its own schema, statements and logic; this is what they do
 * alike:
 *
 *   - open a database file: created 0600 when missing (with its directory
 *     entry synced), WAL journal with synchronous=FULL so that a call
 *     returning 0 is on disk, foreign keys on, a busy timeout, defensive
 *     mode;
 *   - bring the schema up to date from an ordered list of migrations (the
 *     version in meta.schema_version) in one transaction, and refuse a file
 *     whose schema is newer than the binary;
 *   - one connection behind one lock, taken by every call below and held
 *     by a transaction from its begin to its end; the outermost release
 *     rolls back whatever transaction is still open, so no way out of a
 *     function leaves one;
 *   - a statement run in one call: its SQL, written where it is used,
 *     prepared on first use and cached by the connection, its parameters
 *     bound from a list of typed values, stepped, then reset and cleared,
 *     reading no row, one row or every row into an array;
 *   - SQLite failures logged with the statement and mapped to IZ_EIO /
 *     IZ_EBUSY, and on writes a unique violation to IZ_EEXIST and a
 *     foreign-key one to IZ_ENOTFOUND;
 *   - the consent fields both stores hold alike, and the hash-chained
 *     consent log: its one writer, and the walk that checks it through a
 *     read-only connection of its own.
 *
 * A store's function is then mostly one call, for example
 *
 *   return iz__sq_get(q, "SELECT " BRAND_COLS " FROM brands WHERE account_id = ?1 AND code = ?2",
 *                     IZ_SQ_ARGS(IZ_SQ_I64(account_id), IZ_SQ_I64(code)), &brand_row, out);
 *
 * Internal to izin: store/ and the emulator (a layer above it) use it.
 */
#ifndef IZ_SQLITE_UTIL_H
#define IZ_SQLITE_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "core/consent.h"
#include "store/dbrow.h"

/* What tells one store's database from another's (a static constant). */
typedef struct iz_sq_def {
    const char *who;               /* "store", "sim store": names log lines and messages */
    const char *const *migrations; /* migrations[i] brings the schema from i to i + 1 */
    int nmigrations;               /* = the schema version this binary writes */
    const char *chain_head_sql;    /* the hash chain's last link (one text column), or NULL:
                                      the last consent_log row's hash */
    /* PostgreSQL (issue 15): the schema at version pg_baseline_version made
     * in one script on an empty database, and pg_migrations[i] bringing it
     * from pg_baseline_version + i to + i + 1, up to nmigrations. NULL: the
     * store is SQLite's only. */
    const char *pg_baseline;
    int pg_baseline_version;
    const char *const *pg_migrations;
} iz_sq_def_t;

/* A prepared statement and the SQL it was prepared from (its cache key). */
typedef struct iz_sq_cached {
    const char *sql;
    sqlite3_stmt *stmt;
} iz_sq_cached_t;

/* One open database. Owned by the store that embeds it; every field is
 * read-only outside this file, and db, the cache and depth only under mu. */
typedef struct iz_sq {
    const iz_sq_def_t *def;
    sqlite3 *db;
    pthread_mutex_t mu; /* recursive: a transaction's calls take it again */
    int depth;          /* how many times the holder has taken mu */
    char *path;
    iz_sq_cached_t *cache; /* open addressing by SQL address, cap slots */
    size_t ncached, cap;
    int version; /* the schema version after open */
    struct iz_sq_ckpt *ckpt; /* the checkpointer thread (sqlite_util.c), or NULL */
    bool lazy;               /* synchronous is NORMAL for this transaction (begin_lazy) */
    struct iz_pg *pg;        /* a PostgreSQL connection (store/pgdb.h): then db is NULL */
    bool appended;           /* this transaction appended to the log (PostgreSQL's NOTIFY) */
    int wal_fd;              /* the WAL file, for iz__sq_wal_sync, when wal_open */
    bool wal_open;
} iz_sq_t;

/* Open (creating it 0600) the database file at path into *q, configure it
 * and run the migrations. On failure *err says why (sys/fs.h iz_errf text)
 * and q holds nothing that needs closing. */
int iz__sq_open(iz_sq_t *q, const iz_sq_def_t *def, const char *path, const char **err);

/* Open the PostgreSQL database at url (postgresql://...) into *q, in place
 * of a file: the same calls below then run on it (store/pgdb.h), with the
 * same meaning. The schema is made by def's baseline on an empty database
 * and brought up to date by its PostgreSQL migrations, under a session
 * advisory lock (nodes starting together migrate once). */
int iz__sq_open_pg(iz_sq_t *q, const iz_sq_def_t *def, const char *url, const char **err);

/* The channel a PostgreSQL transaction that appended to the consent log
 * notifies at its commit (every node LISTENs to it: store.h
 * iz_store_watch). iz__sq_chain_append marks its transaction; a writer
 * of the log's other links (the store's segments) calls
 * iz__sq_log_appended. Nothing on SQLite. */
#define IZ_SQ_LOG_CHANNEL "izin_log"
void iz__sq_log_appended(iz_sq_t *q);

/* Whether q is a PostgreSQL database; a statement whose text differs
 * between the engines names both: IZ_SQ_SQL(q, "sqlite's", "postgresql's")
 * (both string literals: each is a statement of its own in the caches). */
static inline bool iz__sq_is_pg(const iz_sq_t *q)
{
    return q->pg != NULL;
}
#define IZ_SQ_SQL(q, lite, pgsql) (iz__sq_is_pg(q) ? (pgsql) : (lite))

/* The connection's transaction, with the lock held: 1 when one is open and
 * usable, 0 when none is (SQLite rolled a failed one back by itself, or it
 * was never begun), -1 when one is open but failed (PostgreSQL: only a
 * rollback helps). */
int iz__sq_tx_state(iz_sq_t *q);

/* Finalize the statements, close the connection and free what an opened q
 * holds (not q itself). */
void iz__sq_close(iz_sq_t *q);

/* ---- the lock and transactions ------------------------------------------ */

/* Take and release the connection's lock (abort if the mutex is broken).
 * It is recursive, as SQLite's own connection mutex is: every call of this
 * file takes it, so that a call made alone is serialized and the same call
 * made inside a transaction joins it. The outermost release rolls back the
 * transaction still open, if any. */
void iz__sq_lock(iz_sq_t *q);
void iz__sq_unlock(iz_sq_t *q);

/* Take the lock and open a write transaction (BEGIN IMMEDIATE), or a read
 * transaction (BEGIN: one snapshot for several reads). On PostgreSQL a
 * write transaction takes a transaction advisory lock first, the same key
 * for every node: writers to one database go one at a time as SQLite's
 * do, so that the hash chain has one writer and the log's ids are handed
 * out in commit order (a reader following the log by id never sees a
 * smaller id commit after a larger one); a read transaction is a
 * REPEATABLE READ snapshot. The lock is taken
 * even when the BEGIN fails: every begin is paired with one iz__sq_end. */
int iz__sq_begin(iz_sq_t *q);
int iz__sq_begin_read(iz_sq_t *q);
/* A small write transaction of its own, outside the writers' order (on
 * PostgreSQL no writers' lock, and a commit that does not wait for the
 * WAL's flush: for state a crash may take back, such as the cluster's rate
 * window; its rows are locked with SELECT ... FOR UPDATE). SQLite's is
 * iz__sq_begin's. */
int iz__sq_begin_small(iz_sq_t *q);

/* Commit when rc is 0 and release the lock (which rolls back whatever was
 * not committed); returns rc, or the commit's failure. A caller that must
 * act between the commit and the release calls iz__sq_commit and then
 * iz__sq_unlock instead. */
int iz__sq_end(iz_sq_t *q, int rc);
int iz__sq_commit(iz_sq_t *q);
/* iz__sq_begin for a transaction whose commit does not wait for the disk:
 * it is made with synchronous = NORMAL (the WAL is written, not fsynced;
 * the next FULL commit or checkpoint makes it durable with everything
 * before it), and the outermost iz__sq_unlock sets FULL again. A crash of
 * the process loses nothing; a power loss may take such a commit back,
 * whole (the database stays consistent). Only for work that is redone when
 * taken back: a bulk job's step, whose progress commits with its rows.
 * IZ_EINVAL when called inside a transaction. */
int iz__sq_begin_lazy(iz_sq_t *q);

/* Make every transaction committed so far on SQLite durable: one
 * fdatasync of the database's WAL file, without the lock, so the next
 * transaction runs meanwhile (the group commit's second stage: a batch is
 * committed with iz__sq_begin_lazy and acknowledged after this). Only one
 * thread at a time may call it. 0, or IZ_EIO when the WAL cannot be opened
 * or synced (then nothing since the last good sync is known durable).
 * Nothing to do on PostgreSQL (0). */
int iz__sq_wal_sync(iz_sq_t *q);

/* A savepoint around one item of a larger transaction, and its end: undo
 * rolls the item's writes back first. iz__sq_release returns the release's
 * result. */
int iz__sq_savepoint(iz_sq_t *q);
int iz__sq_release(iz_sq_t *q, bool undo);

/* ---- a statement in one call -------------------------------------------- */

/* One parameter of a statement, made with the IZ_SQ_* macros below. */
typedef struct iz_sq_arg {
    enum {
        IZ_SQ_K_END,
        IZ_SQ_K_I64,
        IZ_SQ_K_OPT_I64,
        IZ_SQ_K_TEXT,
        IZ_SQ_K_OPT,
        IZ_SQ_K_NULL,
        IZ_SQ_K_BLOB
    } kind;
    int64_t i;
    const char *t; /* not copied: it must stay alive until the call returns */
} iz_sq_arg_t;

/* An integer; text (NULL binds NULL); optional text, bound NULL when NULL
 * or ""; an optional integer, bound NULL when 0; NULL. Absent values are
 * stored as NULL (store.h), so the optional forms are the usual ones for
 * the columns that may be absent. */
#define IZ_SQ_I64(v) ((iz_sq_arg_t){.kind = IZ_SQ_K_I64, .i = (v)})
#define IZ_SQ_TEXT(v) ((iz_sq_arg_t){.kind = IZ_SQ_K_TEXT, .t = (v)})
#define IZ_SQ_OPT(v) ((iz_sq_arg_t){.kind = IZ_SQ_K_OPT, .t = (v)})
#define IZ_SQ_OPT_I64(v) ((iz_sq_arg_t){.kind = IZ_SQ_K_OPT_I64, .i = (v)})
#define IZ_SQ_NULL ((iz_sq_arg_t){.kind = IZ_SQ_K_NULL})
/* n bytes at p (not copied), bound as a BLOB. */
#define IZ_SQ_BLOB(p, n) ((iz_sq_arg_t){.kind = IZ_SQ_K_BLOB, .t = (const char *)(p), .i = (int64_t)(n)})

/* The parameters ?1, ?2, ... of a statement, in order (a statement with
 * none takes NULL). The list lives until the end of the enclosing block. */
#define IZ_SQ_ARGS(...) ((const iz_sq_arg_t[]){__VA_ARGS__, {.kind = IZ_SQ_K_END}})

/* A reader of the current row into out; a walker of every row, returning
 * 0 to go on or any other value to stop the walk with it. Both read the
 * row through store/dbrow.h's accessors only. */
typedef void (*iz_sq_read_fn)(const iz_row_t *row, void *out);
typedef int (*iz_sq_each_fn)(void *ctx, const iz_row_t *row);

/* A row type: what one row is read into, an element of size bytes that is
 * zeroed and then filled by read. When owns_text, read allocates the
 * element's char * member at offset text_at (a column of any length),
 * which goes with the element. Made with IZ_SQ_ROW(T, read) or
 * IZ_SQ_ROW_OWNING(T, read, member). */
typedef struct iz_sq_row {
    size_t size;
    iz_sq_read_fn read;
    bool owns_text;
    size_t text_at;
} iz_sq_row_t;

/* (Kept from clang-format, which would give each brace a line of its own.) */
/* clang-format off */
#define IZ_SQ_ROW(T, fn) {.size = sizeof(T), .read = (fn)}
#define IZ_SQ_ROW_OWNING(T, fn, member) \
    {.size = sizeof(T), .read = (fn), .owns_text = true, .text_at = offsetof(T, member)}
/* clang-format on */

/* Row types of every store: column 0 as an int64_t; and the (status,
 * source, consent_date) columns of a consent_state row as an iz_current_t
 * (exists set, unknown spellings left NONE). */
extern const iz_sq_row_t iz__sq_i64_row;
extern const iz_sq_row_t iz__sq_current_row;

/* Free a list of n elements of row type row: each one's owned text, then
 * the array (list may be NULL). */
void iz__sq_free_rows(const iz_sq_row_t *row, void *list, size_t n);

/* Every call below runs the statement sql with args bound, under the lock,
 * and makes it ready again. sql must live as long as q (a string literal):
 * it is prepared on its first use on q's connection and kept, found again
 * by its address. A failure's log line names the statement. */

/* A statement that returns no rows. iz__sq_write also answers IZ_EEXIST for
 * a unique violation and IZ_ENOTFOUND for a foreign-key one (the row
 * referred to does not exist), and sets *rowid (when not NULL) to the
 * inserted row's id; iz__sq_update answers IZ_ENOTFOUND when no row
 * changed. */
int iz__sq_run(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args);
int iz__sq_write(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args, int64_t *rowid);
int iz__sq_update(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args);

/* A statement that returns no rows; *n gets the rows it inserted, updated
 * or deleted. */
int iz__sq_changes(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args, int64_t *n);

/* The first row, read as row type row into out (row NULL: only whether
 * there is one); IZ_ENOTFOUND when there is none, out then untouched.
 * iz__sq_find answers 1 when a row was read and 0 when there was none, for
 * the lookups where "none" is an answer. */
int iz__sq_get(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args, const iz_sq_row_t *row,
               void *out);
int iz__sq_find(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args, const iz_sq_row_t *row,
                void *out);

/* The first row's column 0 as text copied into out (size bytes, longer
 * text cut; NULL reads as ""); IZ_ENOTFOUND when there is no row, out then
 * untouched. out may be NULL when only the row's presence matters. */
int iz__sq_get_text(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args, char *out, size_t size);

/* Every row into a growing array: list is the address of the caller's
 * array pointer (T **, T of row->size bytes), which gets the array (free
 * it with iz__sq_free_rows, or free() when the rows own no text), and *n
 * its length (may be 0). On failure the rows read so far are freed and
 * *list and *n are left alone. */
int iz__sq_list(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args, const iz_sq_row_t *row,
                void *list, size_t *n);

/* Hand every row to fn(ctx, row) in turn; fn's non-zero value stops the
 * walk and is returned. The row's text is valid during the call only. */
int iz__sq_each(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args, iz_sq_each_fn fn, void *ctx);

/* iz__sq_each for a walk over a whole table (the index's build): on
 * PostgreSQL the rows come one at a time rather than as one result held
 * whole, and fn must run no statement meanwhile (the connection is busy). */
int iz__sq_each_stream(iz_sq_t *q, const char *sql, const iz_sq_arg_t *args, iz_sq_each_fn fn,
                       void *ctx);

/* The cached statement of sql, for a loop that binds and steps it itself
 * (a bulk load's hot path): the caller holds the lock (inside a
 * transaction) and resets the statement after each step. NULL when it
 * cannot be prepared (logged). iz__sq_stmt_fail maps a failed step's
 * SQLite code to an IZ_* code (logged). */
sqlite3_stmt *iz__sq_stmt(iz_sq_t *q, const char *sql);
int iz__sq_stmt_fail(iz_sq_t *q, int rc, const char *sql);

/* ---- the consent fields both stores hold alike -------------------------- */

/* Both stores key a consent by its owner, recipient, rtype and type and
 * keep its status, source and consent_date, in İYS's spellings, an absent
 * source or consent_date as NULL (store.h). What follows is that much,
 * written once. */

/* The spellings of a change's consent fields; source NULL when omitted. */
typedef struct iz_sq_names {
    const char *rtype, *type, *status, *source;
} iz_sq_names_t;

/* Spell and check the consent fields of a change about to be written:
 * IZ_ETOOBIG when recipient has no room for its NUL in IZ_RECIPIENT_MAX
 * bytes; IZ_EINVAL for an empty recipient, an absent or unknown rtype, type
 * or status, an unknown source, or a negative consent_date. */
int iz__sq_names(const char *recipient, iz_rtype_t rtype, iz_type_t type, iz_status_t status,
                 iz_source_t source, int64_t consent_date, iz_sq_names_t *nm);

/* The spelled key of a lookup: IZ_EINVAL for a NULL recipient or an absent
 * or unknown rtype or type; IZ_ENOTFOUND when the recipient ("" or longer
 * than IZ_RECIPIENT_MAX allows) cannot be in a store. */
int iz__sq_key_names(iz_rtype_t rtype, iz_type_t type, const char *recipient, const char **rt,
                     const char **ty);

/* The parameters status, source, consent_date of a spelled change. */
#define IZ_SQ_STATE_ARGS(nm, consent_date)                                                         \
    IZ_SQ_TEXT((nm)->status), IZ_SQ_OPT((nm)->source), IZ_SQ_OPT_I64(consent_date)

/* Read the columns recipient (into a buffer of IZ_RECIPIENT_MAX bytes),
 * rtype, type, status, source, consent_date, in that order from column i.
 * NULL or an unknown spelling (a row written by hand) reads as NONE. */
void iz__sq_col_consent(const iz_row_t *row, int i, char *recipient, iz_rtype_t *rtype,
                        iz_type_t *type, iz_status_t *status, iz_source_t *source,
                        int64_t *consent_date);

/* ---- checks ------------------------------------------------------------- */

/* 0 when s (in a buffer of size bytes) has room for its NUL, else
 * IZ_ETOOBIG. */
int iz__sq_fits(const char *s, size_t size);

/* True for exactly 64 lower-case hex digits (a stored SHA-256). */
int iz__sq_is_hex64(const char *h);

/* ---- the hash chain ----------------------------------------------------- */

#define IZ_SQ_CHAIN_MAX 32 /* hashed fields of one row, at most */

/* The one writer of a hash-chained log, inside the caller's transaction.
 * The log is the store's table consent_log(id INTEGER PRIMARY KEY, ...,
 * prev_hash, hash). A row's hash is the hex SHA-256 of its fields as text
 * joined with '|' (sys/crypto.h iz_sha256_join_hex): the previous row's
 * hash, the row's id, then the row's own fields, hashed - each as the text
 * its column holds: an integer in decimal, an absent value (NULL) as "".
 * Runs insert_sql - which writes the row with hash '' - with args and then
 * the newest row's hash ("" for an empty log) as its parameters, and
 * stores the new row's hash; *id_out gets the row's id. IZ_EINVAL when
 * hashed holds more than IZ_SQ_CHAIN_MAX - 2 fields. */
int iz__sq_chain_append(iz_sq_t *q, const char *insert_sql, const iz_sq_arg_t *args,
                        const iz_sq_arg_t *hashed, int64_t *id_out);

/* Walk a hash chain through a read-only connection of its own, in one read
 * transaction (a snapshot) while writers go on. sql selects, in chain
 * order, the nf hashed fields of each row - prev_hash first, the row id
 * second - and then the stored hash. Every field is taken as the text
 * SQLite holds, so a value changed by hand still breaks the hash. 0 when
 * the chain holds, IZ_ERULE with the first bad row in *bad_id.
 * A chain with links of a second kind (the store's log segments) names
 * them in seg_sql, in id order: prev_hash, id, stored hash, then what
 * seg_link reads to compute the link's hash from the previous one; rows
 * and links are walked in one id order. seg_sql may be NULL. */
typedef void (*iz_sq_link_fn)(const iz_row_t *row, const char *prev, char out[65]);
int iz__sq_verify_chain(iz_sq_t *q, const char *sql, int nf, const char *seg_sql,
                        iz_sq_link_fn seg_link, int64_t *bad_id);

#endif
