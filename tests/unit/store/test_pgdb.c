/*
 * test_pgdb.c - the PostgreSQL driver (store/pgdb.h) against a real server:
 * a private one for this program, started and stopped by pgtest.h (a guard
 * process stops it even when this program dies).
 *
 * Checked: ?N (and a bare ?, numbered as SQLite does) rewritten to $N but not inside strings,
 * identifiers, comments or dollar quotes; each argument kind and NULL through a table and back; a
 * unique violation IZ_EEXIST, a foreign-key one IZ_ENOTFOUND; a rollback; a read snapshot; an
 * advisory lock refused to a second connection and free once the first is closed; a statement
 * prepared once and reused; a lost connection IZ_EBUSY and then reconnected; a URL that is not
 * PostgreSQL's refused, and a password kept out of the messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/iz.h"
#include "store/pgdb.h"

#include "pgtest.h"

/* ---- rewriting ---------------------------------------------------------- */

static void test_rewrite(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
        int n;
    } cases[] = {
        {"SELECT ?1, ?2", "SELECT $1, $2", 2},
        {"SELECT '?1', ?2", "SELECT '?1', $2", 2},
        {"SELECT 'it''s ?1', ?3", "SELECT 'it''s ?1', $3", 3},
        {"SELECT \"a?1\" FROM t WHERE x = ?1", "SELECT \"a?1\" FROM t WHERE x = $1", 1},
        {"SELECT E'\\' ?1', ?2", "SELECT E'\\' ?1', $2", 2},
        {"SELECT ?1 -- ?2\n, ?3", "SELECT $1 -- ?2\n, $3", 3},
        {"SELECT /* ?1 /* ?2 */ ?3 */ ?4", "SELECT /* ?1 /* ?2 */ ?3 */ $4", 4},
        {"SELECT $$ ?1 $$, $q$ ?2 $$ ?3 $q$, ?4", "SELECT $$ ?1 $$, $q$ ?2 $$ ?3 $q$, $4", 4},
        /* a bare ? is numbered as SQLite numbers it (the store writes no
         * jsonb ? operator) */
        {"SELECT ?, ?, ?5, ?", "SELECT $1, $2, $5, $6", 6},
        {"SELECT '?', ?", "SELECT '?', $1", 1},
        {"SELECT ?1 + ?1", "SELECT $1 + $1", 1},
        {"SELECT 1", "SELECT 1", 0},
        {"SELECT 'unterminated ?1", "SELECT 'unterminated ?1", 0},
    };
    char out[256];
    for (size_t i = 0; i < IZ_ARRAY_LEN(cases); i++) {
        int n = -1;
        assert_int_equal(iz__pg_rewrite(cases[i].in, out, sizeof out, &n), 0);
        assert_string_equal(out, cases[i].out);
        assert_int_equal(n, cases[i].n);
    }
    int n;
    assert_int_equal(iz__pg_rewrite("SELECT ?0", out, sizeof out, &n), IZ_EINVAL);
    assert_int_equal(iz__pg_rewrite("SELECT ?32767", out, sizeof out, &n), IZ_EINVAL);
    assert_int_equal(iz__pg_rewrite("SELECT ?1", out, 9, &n), IZ_ETOOBIG);
    assert_int_equal(iz__pg_rewrite("SELECT ?1", out, 10, &n), 0);
}

/* ---- arguments and rows ------------------------------------------------- */

typedef struct kinds {
    int64_t i8, i4, i2;
    bool null[8];
    char t[64], num[32];
    unsigned char b[16];
    size_t blen;
    int rows;
} kinds_t;

static int read_kinds(void *ctx, const iz_pg_row_t *row)
{
    kinds_t *k = ctx;
    k->i8 = iz_pg_row_i64(row, 0);
    k->i4 = iz_pg_row_int(row, 1);
    k->i2 = iz_pg_row_i64(row, 2);
    const char *t = iz_pg_row_text(row, 3);
    snprintf(k->t, sizeof k->t, "%s", t ? t : "(null)");
    k->blen = iz_pg_row_bytes(row, 4);
    if (k->blen <= sizeof k->b && iz_pg_row_blob(row, 4))
        memcpy(k->b, iz_pg_row_blob(row, 4), k->blen);
    t = iz_pg_row_text(row, 5);
    snprintf(k->num, sizeof k->num, "%s", t ? t : "(null)");
    for (int c = 0; c < 8; c++)
        k->null[c] = iz_pg_row_null(row, c);
    k->rows++;
    return 0;
}

typedef struct three {
    int64_t *v;
    char *t;
} three_t;

/* Columns 0 and 2 as integers, 1 as text (32 bytes). */
static int read3(void *ctx, const iz_pg_row_t *row)
{
    three_t *c = ctx;
    c->v[0] = iz_pg_row_i64(row, 0);
    snprintf(c->t, 32, "%s", iz_pg_row_text(row, 1));
    c->v[2] = iz_pg_row_i64(row, 2);
    return 0;
}

static const char sql_kinds_table[] =
    "CREATE TABLE kinds (id int8 PRIMARY KEY, i8 int8, i4 int4, i2 int2, t text, b bytea, "
    "n text, o int8)";
static const char sql_kinds_put[] = "INSERT INTO kinds (id, i8, i4, i2, t, b, n, o) VALUES (?1, "
                                    "?2, ?3, ?4, ?5, ?6, ?7::numeric, ?8)";
static const char sql_kinds_get[] = "SELECT i8, i4, i2, t, b, n, o FROM kinds WHERE id = ?1";

static void test_kinds(void **state)
{
    (void)state;
    iz_pg_t *pg = iz_pgt_open();
    assert_int_equal(iz__pg_script(pg, sql_kinds_table), 0);
    static const unsigned char blob[] = {0, 1, 0xff, 0x80, '\'', '\\', 0, 'x'};
    /* Extremes, Turkish text, a blob with NULs, a numeric parameter bound
     * from an integer (sent as decimal text). */
    assert_int_equal(
        iz__pg_exec(pg, sql_kinds_put,
                    IZ_SQ_ARGS(IZ_SQ_I64(1), IZ_SQ_I64(INT64_MIN), IZ_SQ_I64(INT32_MAX),
                               IZ_SQ_I64(-32768), IZ_SQ_TEXT("ığüşöç İĞÜŞÖÇ ?1 '"),
                               IZ_SQ_BLOB(blob, sizeof blob), IZ_SQ_I64(INT64_MAX),
                               IZ_SQ_OPT_I64(7)),
                    NULL),
        0);
    kinds_t k = {0};
    assert_int_equal(iz__pg_get(pg, sql_kinds_get, IZ_SQ_ARGS(IZ_SQ_I64(1)), read_kinds, &k), 0);
    assert_int_equal(k.rows, 1);
    assert_true(k.i8 == INT64_MIN);
    assert_int_equal(k.i4, INT32_MAX);
    assert_int_equal(k.i2, -32768);
    assert_string_equal(k.t, "ığüşöç İĞÜŞÖÇ ?1 '");
    assert_int_equal(k.blen, sizeof blob);
    assert_memory_equal(k.b, blob, sizeof blob);
    assert_string_equal(k.num, "9223372036854775807");
    assert_false(k.null[0] || k.null[3] || k.null[4] || k.null[6]);

    /* The absent forms: NULL, OPT "" and NULL text, OPT_I64 0, a NULL blob. */
    assert_int_equal(iz__pg_exec(pg, sql_kinds_put,
                                 IZ_SQ_ARGS(IZ_SQ_I64(2), IZ_SQ_NULL, IZ_SQ_OPT_I64(0), IZ_SQ_NULL,
                                            IZ_SQ_OPT(""), IZ_SQ_BLOB(NULL, 0), IZ_SQ_TEXT(NULL),
                                            IZ_SQ_OPT_I64(0)),
                                 NULL),
                     0);
    k = (kinds_t){0};
    assert_int_equal(iz__pg_get(pg, sql_kinds_get, IZ_SQ_ARGS(IZ_SQ_I64(2)), read_kinds, &k), 0);
    for (int c = 0; c < 7; c++)
        assert_true(k.null[c]);
    assert_true(k.null[7]); /* out of range reads as absent */
    assert_int_equal(k.i8, 0);
    assert_string_equal(k.t, "(null)");
    assert_int_equal(k.blen, 0);

    /* An empty blob is not NULL; an integer into a text parameter. A
     * parameter the server cannot type (a bare ?3 IS NULL) is refused when
     * prepared: statements cast such parameters. */
    assert_int_equal(iz__pg_get(pg, "SELECT ?1 IS NULL", IZ_SQ_ARGS(IZ_SQ_NULL), NULL, NULL),
                     IZ_EIO);
    static const char sql_b[] = "SELECT length(?1::bytea), ?2::text, ?3::text IS NULL";
    int64_t v[3] = {-1, -1, -1};
    char txt[32] = "";
    three_t c = {v, txt};
    assert_int_equal(
        iz__pg_get(pg, sql_b, IZ_SQ_ARGS(IZ_SQ_BLOB("", 0), IZ_SQ_I64(-42), IZ_SQ_NULL), read3, &c),
        0);
    assert_int_equal(v[0], 0);
    assert_string_equal(txt, "-42");
    assert_int_equal(v[2], 1);

    /* No row, several rows, a wrong number of arguments, an int4 overflow. */
    assert_int_equal(iz__pg_get(pg, sql_kinds_get, IZ_SQ_ARGS(IZ_SQ_I64(3)), NULL, NULL),
                     IZ_ENOTFOUND);
    k = (kinds_t){0};
    assert_int_equal(
        iz__pg_each(pg, "SELECT i8, i4, i2, t, b, n FROM kinds ORDER BY id", NULL, read_kinds, &k),
        0);
    assert_int_equal(k.rows, 2);
    assert_int_equal(
        iz__pg_get(pg, sql_kinds_get, IZ_SQ_ARGS(IZ_SQ_I64(1), IZ_SQ_I64(2)), NULL, NULL),
        IZ_EINVAL);
    assert_int_equal(iz__pg_exec(pg, "UPDATE kinds SET i4 = ?1 WHERE id = 1",
                                 IZ_SQ_ARGS(IZ_SQ_I64((int64_t)INT32_MAX + 1)), NULL),
                     IZ_EINVAL);
    int64_t changes = -1;
    assert_int_equal(
        iz__pg_exec(pg, "UPDATE kinds SET i4 = ?1", IZ_SQ_ARGS(IZ_SQ_I64(5)), &changes), 0);
    assert_int_equal(changes, 2);
    assert_int_equal(iz__pg_script(pg, "DROP TABLE kinds"), 0);
    iz__pg_close(pg);
}

/* ---- errors and transactions -------------------------------------------- */

static int read_count(void *ctx, const iz_pg_row_t *row)
{
    *(int64_t *)ctx = iz_pg_row_i64(row, 0);
    return 0;
}

static int64_t count(iz_pg_t *pg, const char *table_sql)
{
    int64_t n = -1;
    assert_int_equal(iz__pg_get(pg, table_sql, NULL, read_count, &n), 0);
    return n;
}

static const char sql_count_child[] = "SELECT count(*) FROM child";
static const char sql_add_child[] = "INSERT INTO child (id, parent) VALUES (?1, ?2)";

static void test_errors_and_transactions(void **state)
{
    (void)state;
    iz_pg_t *pg = iz_pgt_open(), *other = iz_pgt_open();
    assert_int_equal(iz__pg_script(pg,
                                   "CREATE TABLE parent (id int8 PRIMARY KEY, name text UNIQUE);"
                                   "CREATE TABLE child (id int8 PRIMARY KEY, "
                                   "parent int8 NOT NULL REFERENCES parent(id))"),
                     0);
    static const char add_parent[] = "INSERT INTO parent (id, name) VALUES (?1, ?2)";
    assert_int_equal(iz__pg_exec(pg, add_parent, IZ_SQ_ARGS(IZ_SQ_I64(1), IZ_SQ_TEXT("a")), NULL),
                     0);
    assert_int_equal(iz__pg_exec(pg, add_parent, IZ_SQ_ARGS(IZ_SQ_I64(2), IZ_SQ_TEXT("a")), NULL),
                     IZ_EEXIST);
    assert_int_equal(iz__pg_exec(pg, sql_add_child, IZ_SQ_ARGS(IZ_SQ_I64(1), IZ_SQ_I64(99)), NULL),
                     IZ_ENOTFOUND);
    assert_int_equal(iz__pg_exec(pg, "SELECT * FROM no_such_table", NULL, NULL), IZ_EIO);

    /* A rolled-back transaction leaves nothing; a committed one is seen by
     * another connection. */
    assert_int_equal(iz__pg_begin(pg), 0);
    assert_int_equal(iz__pg_exec(pg, sql_add_child, IZ_SQ_ARGS(IZ_SQ_I64(1), IZ_SQ_I64(1)), NULL),
                     0);
    assert_int_equal(count(pg, sql_count_child), 1);
    assert_int_equal(count(other, sql_count_child), 0);
    assert_int_equal(iz__pg_end(pg, IZ_EIO), IZ_EIO);
    assert_int_equal(count(pg, sql_count_child), 0);
    assert_int_equal(iz__pg_begin(pg), 0);
    assert_int_equal(iz__pg_exec(pg, sql_add_child, IZ_SQ_ARGS(IZ_SQ_I64(1), IZ_SQ_I64(1)), NULL),
                     0);
    assert_int_equal(iz__pg_end(pg, 0), 0);
    assert_int_equal(count(other, sql_count_child), 1);

    /* A savepoint undone keeps the rest of the transaction. */
    assert_int_equal(iz__pg_begin(pg), 0);
    assert_int_equal(iz__pg_exec(pg, sql_add_child, IZ_SQ_ARGS(IZ_SQ_I64(2), IZ_SQ_I64(1)), NULL),
                     0);
    assert_int_equal(iz__pg_savepoint(pg), 0);
    assert_int_equal(iz__pg_exec(pg, sql_add_child, IZ_SQ_ARGS(IZ_SQ_I64(3), IZ_SQ_I64(1)), NULL),
                     0);
    assert_int_equal(iz__pg_exec(pg, sql_add_child, IZ_SQ_ARGS(IZ_SQ_I64(3), IZ_SQ_I64(1)), NULL),
                     IZ_EEXIST);
    assert_int_equal(iz__pg_release(pg, true), 0);
    assert_int_equal(iz__pg_end(pg, 0), 0);
    assert_int_equal(count(other, sql_count_child), 2);

    /* A read snapshot sees one state through its reads. */
    assert_int_equal(iz__pg_begin_read(pg), 0);
    assert_int_equal(count(pg, sql_count_child), 2);
    assert_int_equal(
        iz__pg_exec(other, sql_add_child, IZ_SQ_ARGS(IZ_SQ_I64(4), IZ_SQ_I64(1)), NULL), 0);
    assert_int_equal(count(pg, sql_count_child), 2);
    assert_int_equal(iz__pg_exec(pg, sql_add_child, IZ_SQ_ARGS(IZ_SQ_I64(5), IZ_SQ_I64(1)), NULL),
                     IZ_EIO);                    /* read only */
    assert_int_equal(iz__pg_end(pg, 0), IZ_EIO); /* the failed transaction cannot commit */
    assert_int_equal(count(pg, sql_count_child), 3);

    /* Unlocking with a transaction open rolls it back. */
    assert_int_equal(iz__pg_begin(pg), 0);
    assert_int_equal(iz__pg_exec(pg, sql_add_child, IZ_SQ_ARGS(IZ_SQ_I64(6), IZ_SQ_I64(1)), NULL),
                     0);
    iz__pg_unlock(pg);
    assert_int_equal(count(other, sql_count_child), 3);

    assert_int_equal(iz__pg_script(pg, "DROP TABLE child; DROP TABLE parent"), 0);
    iz__pg_close(other);
    iz__pg_close(pg);
}

/* ---- the statement cache ------------------------------------------------ */

static void test_prepared_once(void **state)
{
    (void)state;
    iz_pg_t *pg = iz_pgt_open();
    static const char sql[] = "SELECT ?1::int8 * 2";
    /* The same text at another address is another statement. */
    static const char same_text[] = "SELECT ?1::int8 * 2";
    uint64_t before = iz__pg_prepares(pg);
    int64_t v = 0;
    assert_int_equal(iz__pg_get(pg, sql, IZ_SQ_ARGS(IZ_SQ_I64(21)), read_count, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(iz__pg_prepares(pg), before + 1);
    assert_int_equal(iz__pg_get(pg, sql, IZ_SQ_ARGS(IZ_SQ_I64(5)), read_count, &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(iz__pg_prepares(pg), before + 1);
    assert_int_equal(iz__pg_get(pg, same_text, IZ_SQ_ARGS(IZ_SQ_I64(1)), read_count, &v), 0);
    assert_int_equal(iz__pg_prepares(pg), before + 2);
    /* The server holds exactly these prepared statements. */
    int64_t n = 0;
    assert_int_equal(
        iz__pg_get(pg, "SELECT count(*) FROM pg_prepared_statements", NULL, read_count, &n), 0);
    assert_int_equal(n, 3);
    iz__pg_close(pg);
}

/* ---- advisory locks ----------------------------------------------------- */

static void test_advisory_lock(void **state)
{
    (void)state;
    const int64_t key = INT64_C(0x697A696E00000001); /* "izin" + 1 */
    iz_pg_t *a = iz_pgt_open(), *b = iz_pgt_open();
    bool got = false;
    assert_int_equal(iz__pg_try_lock(a, key, &got), 0);
    assert_true(got);
    assert_int_equal(iz__pg_try_lock(b, key, &got), 0);
    assert_false(got);
    assert_int_equal(iz__pg_try_lock(b, key + 1, &got), 0);
    assert_true(got);
    assert_int_equal(iz__pg_unlock_key(b, key + 1), 0);
    assert_int_equal(iz__pg_unlock_key(b, key), IZ_ENOTFOUND);
    /* Released and taken back by the holder. */
    assert_int_equal(iz__pg_unlock_key(a, key), 0);
    assert_int_equal(iz__pg_try_lock(a, key, &got), 0);
    assert_true(got);
    /* The holder's connection closed: the lock is free (the server ends
     * the session just after the close, so allow it a moment). */
    iz__pg_close(a);
    got = false;
    for (int i = 0; i < 100 && !got; i++) {
        assert_int_equal(iz__pg_try_lock(b, key, &got), 0);
        if (!got) nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    assert_true(got);
    iz__pg_close(b);
}

/* ---- notices, streaming, COPY, returned ids -------------------------------- */

static int count_row(void *ctx, const iz_pg_row_t *row)
{
    int64_t *sum = ctx;
    *sum += iz_pg_row_i64(row, 0);
    return 0;
}

static void test_notify_stream_copy(void **state)
{
    (void)state;
    iz_pg_t *a = iz_pgt_open(), *b = iz_pgt_open();
    /* a NOTIFY reaches a listener at the commit, not before */
    assert_int_equal(iz__pg_script(b, "LISTEN t_chan"), 0);
    bool heard = true;
    assert_int_equal(iz__pg_wait(b, 10, &heard), 0);
    assert_false(heard);
    assert_int_equal(iz__pg_begin(a), 0);
    assert_int_equal(iz__pg_script(a, "NOTIFY t_chan"), 0);
    assert_int_equal(iz__pg_wait(b, 50, &heard), 0);
    assert_false(heard);
    assert_int_equal(iz__pg_end(a, 0), 0);
    assert_int_equal(iz__pg_wait(b, 2000, &heard), 0);
    assert_true(heard);
    /* COPY's rows, a unique violation answered as any statement's */
    assert_int_equal(iz__pg_script(a, "DROP TABLE IF EXISTS t_copy;"
                                      "CREATE TABLE t_copy(id BIGSERIAL PRIMARY KEY,"
                                      " k TEXT UNIQUE, v BIGINT)"),
                     0);
    const char rows[] = "a\t1\nb\\t\t2\nc\t\\N\n";
    assert_int_equal(iz__pg_copy(a, "COPY t_copy(k, v) FROM STDIN", rows, strlen(rows)), 0);
    assert_int_equal(iz__pg_copy(a, "COPY t_copy(k, v) FROM STDIN", "a\t9\n", 4), IZ_EEXIST);
    int64_t sum = 0;
    assert_int_equal(iz__pg_each(a, "SELECT coalesce(v, 100) FROM t_copy", NULL, count_row, &sum),
                     0);
    assert_int_equal(sum, 103);
    assert_int_equal(
        iz__pg_each(a, "SELECT count(*) FROM t_copy WHERE k = 'b\t'", NULL, count_row, &sum), 0);
    assert_int_equal(sum, 104); /* the escaped tab came through as a tab */
    /* a walk streamed a row at a time sees every row */
    sum = 0;
    assert_int_equal(
        iz__pg_stream(a, "SELECT g FROM generate_series(1, 50000) g", NULL, count_row, &sum), 0);
    assert_int_equal(sum, (int64_t)50000 * 50001 / 2);
    /* an insert's id */
    int64_t id = 0;
    assert_int_equal(iz__pg_insert(a, "INSERT INTO t_copy(k, v) VALUES(?1, ?2)",
                                   IZ_SQ_ARGS(IZ_SQ_TEXT("d"), IZ_SQ_I64(4)), &id),
                     0);
    assert_int_equal(id, 5); /* the failed COPY took 4: a sequence never gives an id twice */
    assert_int_equal(iz__pg_script(a, "DROP TABLE t_copy"), 0);
    iz__pg_close(a);
    iz__pg_close(b);
}

/* ---- a lost connection -------------------------------------------------- */

static void test_connection_lost(void **state)
{
    (void)state;
    iz_pg_t *pg = iz_pgt_open(), *killer = iz_pgt_open();
    static const char sql_pid[] = "SELECT pg_backend_pid()";
    int64_t pid = 0, v = 0;
    assert_int_equal(iz__pg_get(pg, sql_pid, NULL, read_count, &pid), 0);
    uint64_t session = iz__pg_session(pg);
    assert_int_equal(iz__pg_get(killer, "SELECT pg_terminate_backend(?1::int4)::int4",
                                IZ_SQ_ARGS(IZ_SQ_I64(pid)), read_count, &v),
                     0);
    assert_int_equal(v, 1);
    /* The next call finds the connection gone: try again later. */
    int rc = IZ_EBUSY;
    for (int i = 0; i < 50 && rc == IZ_EBUSY; i++) {
        rc = iz__pg_get(pg, sql_pid, NULL, read_count, &v);
        if (rc == 0 && v == pid) rc = IZ_EBUSY; /* not ended yet */
        if (rc == IZ_EBUSY) nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    assert_int_equal(rc, 0);
    assert_true(v != pid);
    assert_true(iz__pg_session(pg) > session);
    iz__pg_close(killer);
    iz__pg_close(pg);
}

/* ---- URLs --------------------------------------------------------------- */

static void test_urls(void **state)
{
    (void)state;
    iz_pg_t *pg = (iz_pg_t *)1;
    const char *err = NULL;
    assert_int_equal(iz__pg_open(&pg, "test", "/var/lib/izin", &err), IZ_EINVAL);
    assert_null(pg);
    assert_non_null(strstr(err, "not a PostgreSQL URL"));
    assert_int_equal(iz__pg_open(&pg, "test", "host=/tmp dbname=izin", &err), IZ_EINVAL);
    assert_false(iz__pg_is_url("mysql://x"));
    assert_true(iz__pg_is_url("postgres://x"));
    /* A server that is not there: a message naming where, not the password. */
    char bad[300];
    snprintf(bad, sizeof bad, "postgresql://izin:s3cr3tpw@/izin?host=%s/nowhere", iz_pgt.dir);
    assert_int_equal(iz__pg_open(&pg, "test", bad, &err), IZ_EBUSY);
    assert_null(strstr(err, "s3cr3tpw"));
    assert_non_null(strstr(err, "nowhere"));
    /* A malformed one whose bad piece is the password. */
    assert_int_equal(iz__pg_open(&pg, "test", "postgresql://izin:s3cr%zzpw@h/db", &err), IZ_EINVAL);
    assert_null(strstr(err, "s3cr"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rewrite),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_errors_and_transactions),
        cmocka_unit_test(test_prepared_once),
        cmocka_unit_test(test_advisory_lock),
        cmocka_unit_test(test_notify_stream_copy),
        cmocka_unit_test(test_connection_lost),
        cmocka_unit_test(test_urls),
    };
    return cmocka_run_group_tests(tests, iz_pgt_setup, iz_pgt_teardown);
}
