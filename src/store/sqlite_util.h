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
 *   - one connection behind a mutex: iz__sq_lock / iz__sq_unlock around
 *     every call, and the unlock rolls back whatever transaction is still
 *     open, so no way out of a function leaves one;
 *   - statements prepared on first use and cached by id, reset and cleared
 *     after each use;
 *   - SQLite failures logged and mapped to IZ_EIO / IZ_EBUSY, and on writes
 *     a unique violation to IZ_EEXIST and a foreign-key one to
 *     IZ_ENOTFOUND;
 *   - the walk that checks a hash-chained log through a read-only
 *     connection of its own.
 *
 * Internal to izin: store/ and the emulator (a layer above it) use it.
 */
#ifndef IZ_SQLITE_UTIL_H
#define IZ_SQLITE_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "core/consent.h"

/* Statement ids below IZ_SQ_FIRST are the transaction statements this file
 * provides; a store numbers its own statements from IZ_SQ_FIRST and leaves
 * those slots of its table empty. */
enum {
    IZ_SQ_BEGIN,      /* BEGIN IMMEDIATE: every write */
    IZ_SQ_BEGIN_READ, /* BEGIN: a read that needs one snapshot */
    IZ_SQ_COMMIT,
    IZ_SQ_ROLLBACK,
    IZ_SQ_FIRST
};

/* What tells one store's database from another's (a static constant). */
typedef struct iz_sq_def {
    const char *who;               /* "store", "sim store": names log lines and messages */
    const char *const *migrations; /* migrations[i] brings the schema from i to i + 1 */
    int nmigrations;               /* = the schema version this binary writes */
    const char *const *sql;        /* the store's statements by id (from IZ_SQ_FIRST) */
    int nstmt;                     /* entries of sql, IZ_SQ_FIRST included */
} iz_sq_def_t;

/* One open database. Owned by the store that embeds it; every field is
 * read-only outside this file, and db and the cache only under mu. */
typedef struct iz_sq {
    const iz_sq_def_t *def;
    sqlite3 *db;
    pthread_mutex_t mu;
    char *path;
    sqlite3_stmt **stmt; /* def->nstmt cached statements, NULL until first use */
    int version;         /* the schema version after open */
} iz_sq_t;

/* Open (creating it 0600) the database file at path into *q, configure it
 * and run the migrations. On failure *err says why (sys/fs.h iz_errf text) and
 * q holds nothing that needs closing. */
int iz__sq_open(iz_sq_t *q, const iz_sq_def_t *def, const char *path, const char **err);

/* Finalize the statements, close the connection and free what an opened q
 * holds (not q itself). */
void iz__sq_close(iz_sq_t *q);

/* Take the connection's mutex; abort if the mutex is broken. */
void iz__sq_lock(iz_sq_t *q);

/* Roll back the open transaction, if any, and release the mutex. */
void iz__sq_unlock(iz_sq_t *q);

/* Log an SQLite failure of q's connection and map it: a lock still held
 * after the busy timeout is IZ_EBUSY, anything else IZ_EIO. */
int iz__sq_fail(iz_sq_t *q, int rc, const char *what);

/* The cached statement id, prepared on first use; NULL on failure. */
sqlite3_stmt *iz__sq_stmt(iz_sq_t *q, int id);

/* Make a cached statement ready for its next use (NULL is ignored). The
 * result of reset repeats the error of the last step, which the caller has
 * already seen. */
void iz__sq_done(sqlite3_stmt *stmt);

/* BEGIN IMMEDIATE, BEGIN (deferred, for a read snapshot) and COMMIT. */
int iz__sq_begin(iz_sq_t *q);
int iz__sq_begin_read(iz_sq_t *q);
int iz__sq_commit(iz_sq_t *q);

/* Step a statement that returns no rows, once bound (bind_rc is the result
 * of binding), and make it ready again; a failure is mapped by
 * iz__sq_fail. iz__sq_write also maps a unique violation to IZ_EEXIST and
 * a foreign-key one to IZ_ENOTFOUND (the row referred to does not exist);
 * iz__sq_update answers IZ_ENOTFOUND when no row changed. */
int iz__sq_run(iz_sq_t *q, sqlite3_stmt *stmt, int bind_rc, const char *what);
int iz__sq_write(iz_sq_t *q, sqlite3_stmt *stmt, int bind_rc, const char *what);
int iz__sq_update(iz_sq_t *q, sqlite3_stmt *stmt, int bind_rc, const char *what);

/* A reader of the current row of stmt into out. */
typedef void (*iz_sq_read_fn)(sqlite3_stmt *stmt, void *out);

/* Run a one-row statement once bound and read the row with read();
 * IZ_ENOTFOUND when there is none. */
int iz__sq_get_row(iz_sq_t *q, sqlite3_stmt *stmt, int bind_rc, const char *what,
                   iz_sq_read_fn read, void *out);

/* Run a statement once bound and read every row, with read() into zeroed
 * memory, into a growing array of elsize-byte elements: *list (free() it)
 * and *n. On failure the rows read so far are released with drop (NULL:
 * plain free) and *list and *n are left alone. */
int iz__sq_rows(iz_sq_t *q, sqlite3_stmt *stmt, int bind_rc, const char *what, size_t elsize,
                iz_sq_read_fn read, void (*drop)(void *list, size_t n), void **list, size_t *n);

/* Bind helpers: text is bound SQLITE_STATIC (it must outlive the step);
 * the _opt forms bind NULL for NULL or "" text and for a 0 integer. */
int iz__sq_bind_i64(sqlite3_stmt *stmt, int i, int64_t v);
int iz__sq_bind_text(sqlite3_stmt *stmt, int i, const char *v);
int iz__sq_bind_opt(sqlite3_stmt *stmt, int i, const char *v);
int iz__sq_bind_opt_i64(sqlite3_stmt *stmt, int i, int64_t v);

/* A text column (NULL for NULL), and a text column copied into a buffer of
 * size bytes (NULL reads as "", longer text is cut). */
const char *iz__sq_col_text(sqlite3_stmt *stmt, int i);
void iz__sq_col_str(sqlite3_stmt *stmt, int i, char *dst, size_t size);

/* Row readers for iz__sq_get_row: column 0 as an int64_t; and the
 * (status, source, consent_date) columns of a consent_state row as an
 * iz_current_t (exists set, unknown spellings left NONE). */
void iz__sq_read_i64(sqlite3_stmt *stmt, void *out);
void iz__sq_read_current(sqlite3_stmt *stmt, void *out);

/* A text buffer for iz__sq_read_text, which copies column 0 into p (size
 * bytes; NULL reads as "") and does nothing when p is NULL. */
typedef struct iz_sq_buf {
    char *p;
    size_t size;
} iz_sq_buf_t;
void iz__sq_read_text(sqlite3_stmt *stmt, void *buf);

/* Run the cached statement id, which takes no parameters and selects one
 * text column of at most one row, into out (size bytes); "" when there is
 * no row. */
int iz__sq_get_text(iz_sq_t *q, int id, const char *what, char *out, size_t size);

/* 0 when s (in a buffer of size bytes) has room for its NUL, else
 * IZ_ETOOBIG. */
int iz__sq_fits(const char *s, size_t size);

/* True for exactly 64 lower-case hex digits (a stored SHA-256). */
int iz__sq_is_hex64(const char *h);

#define IZ_SQ_CHAIN_MAX 32 /* hashed fields of one row, at most */

/* The one writer of a hash-chained log, inside the caller's transaction.
 * A row's hash is the hex SHA-256 of its nf fields as text joined with '|'
 * (sys/crypto.h iz_sha256_join_hex): the previous row's hash, the row's id,
 * then the row's own fields. Reads the newest row's hash (statement last_id:
 * one text column, "" when the log is empty), binds it as parameter
 * prev_param of insert - whose other parameters the caller has bound, and
 * which writes the row with hash '' - and runs it; then fills f[0] (the
 * previous hash) and f[1] (the new id) and stores the row's hash with
 * statement set_hash_id (?1 id, ?2 hash; it must only fill an empty hash).
 * *id_out gets the new row's id. insert is reset in every case. */
int iz__sq_chain_append(iz_sq_t *q, int last_id, sqlite3_stmt *insert, int prev_param,
                        int set_hash_id, const char **f, int nf, int64_t *id_out);

/* Walk a hash chain through a read-only connection of its own, in one read
 * transaction (a snapshot) while writers go on. sql selects, in chain
 * order, the nf hashed fields of each row - prev_hash first, the row id
 * second - and then the stored hash. Every field is taken as the text
 * SQLite holds, so a value changed by hand still breaks the hash. 0 when
 * the chain holds, IZ_ERULE with the first bad row in *bad_id. */
int iz__sq_verify_chain(iz_sq_t *q, const char *sql, int nf, int64_t *bad_id);

#endif
