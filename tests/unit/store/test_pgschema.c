/*
 * test_pgschema.c - the PostgreSQL baseline (store/schema_pg.h) against the
 * SQLite schema it copies: the baseline run on a private server
 * (pgtest.h), a fresh SQLite store opened through iz_store_open, and both
 * read back from their catalogs into the same kind of lines, which must be
 * equal:
 *
 *   - the tables; each table's columns in order, with the mapped type
 *     (INTEGER bigint, TEXT text, BLOB bytea, REAL double precision), NOT
 *     NULL, the place in the primary key, the DEFAULT (an `id INTEGER
 *     PRIMARY KEY` matches a BIGSERIAL whose sequence is <table>_id_seq),
 *     and a collation other than the default (NOCASE matches nocase);
 *   - UNIQUE constraints, foreign keys (columns, target, actions), CHECKs;
 *   - the indexes made by CREATE INDEX (SQLite's autoindexes and the
 *     indexes behind PostgreSQL's key constraints are the constraints
 *     above): name, table, columns, uniqueness, the partial WHERE;
 *   - the triggers: name, table, event with its column list, FOR EACH ROW,
 *     the WHEN condition.
 *
 * Expressions (WHERE, WHEN) are compared after folding what the two
 * engines print differently: case, parentheses, double quotes, `::text`,
 * and IS DISTINCT FROM for SQLite's IS NOT. A primary-key column counts as
 * NOT NULL on SQLite's side too: PostgreSQL makes every key NOT NULL, and
 * the only SQLite keys that may hold NULL (meta.key, jobs.id: text keys of
 * rowid tables) never do.
 *
 * Then behaviour: one list of statements run on both engines, each
 * succeeding on both or refused on both (the append-only guards with the
 * same message), and the rows they leave compared - the dashboard counters
 * the triggers keep, including Turkey-time days at midnight, and a panel
 * e-mail found and kept unique in any ASCII case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/iz.h"
#include "store/pgdb.h"
#include "store/schema_pg.h"
#include "store/store.h"

#include "pgtest.h"

/* The two databases: the baseline on the server, a new SQLite store. */
static struct {
    iz_pg_t *pg;
    char dir[96];
    sqlite3 *db;
    int sqlite_version;
} fx;

static const char sql_meta_rows[] = "SELECT count(*) FROM meta";

static int group_setup(void **state)
{
    if (iz_pgt_setup(state) != 0) return -1;
    const char *err = NULL;
    if (iz__pg_open(&fx.pg, "test", iz_pgt.url, &err) != 0) return -1;
    if (iz__pg_script(fx.pg, iz__pg_baseline) != 0) {
        fprintf(stderr, "test_pgschema: the baseline failed (the log says why)\n");
        return -1;
    }
    /* In the server's folder, which the guard removes however this ends. */
    snprintf(fx.dir, sizeof fx.dir, "%s/sqlite", iz_pgt.dir);
    iz_store_t *st = NULL;
    if (iz_store_open(fx.dir, NULL, &st, &err) != 0) {
        fprintf(stderr, "test_pgschema: store: %s\n", err ? err : "");
        return -1;
    }
    fx.sqlite_version = iz_store_schema_version(st);
    iz_store_close(st);
    char file[160];
    snprintf(file, sizeof file, "%s/izin.db", fx.dir);
    if (sqlite3_open_v2(file, &fx.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_exec(fx.db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    sqlite3_close(fx.db);
    iz__pg_close(fx.pg);
    return iz_pgt_teardown(state);
}

/* ---- lines ---------------------------------------------------------------- */

/* A list of lines, compared as sorted sets. */
typedef struct lines {
    char **v;
    size_t n, cap;
} lines_t;

/* Fold what the engines print differently (see the top) in s, in place;
 * quoted literals keep their case and spaces. */
static void fold(char *s)
{
    static const struct {
        const char *from, *to;
    } words[] = {{"::text", ""}, {" is distinct from ", " is not "}};
    char *w = s;
    bool quoted = false; /* in a '...' literal, kept as it is */
    for (const char *r = s; *r; r++) {
        char c = *r;
        if (c == '\'') quoted = !quoted;
        if (!quoted && (c == '(' || c == ')' || c == '"')) continue;
        if (!quoted && c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (!quoted && c == ' ' && (w == s || w[-1] == ' ')) continue;
        *w++ = c;
    }
    while (w > s && w[-1] == ' ')
        w--;
    *w = '\0';
    for (size_t i = 0; i < IZ_ARRAY_LEN(words); i++) {
        char *at;
        size_t fl = strlen(words[i].from), tl = strlen(words[i].to);
        while ((at = strstr(s, words[i].from)) != NULL) {
            memmove(at + tl, at + fl, strlen(at + fl) + 1);
            memcpy(at, words[i].to, tl);
        }
    }
}

static void add_line(lines_t *l, const char *text, bool folded)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        assert_non_null(l->v);
    }
    char *s = strdup(text ? text : "(null)");
    assert_non_null(s);
    if (folded) fold(s);
    l->v[l->n++] = s;
}

static void free_lines(lines_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    *l = (lines_t){0};
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Assert that two lists of lines (SQLite's or the expected ones, and
 * PostgreSQL's) are the same set, printing every line only one side has. */
static void assert_same(lines_t *sq, lines_t *pg, const char *sq_name)
{
    qsort(sq->v, sq->n, sizeof *sq->v, cmp_line);
    qsort(pg->v, pg->n, sizeof *pg->v, cmp_line);
    size_t i = 0, j = 0, bad = 0;
    while (i < sq->n || j < pg->n) {
        int c = i == sq->n ? 1 : j == pg->n ? -1 : strcmp(sq->v[i], pg->v[j]);
        if (c == 0) {
            i++, j++;
            continue;
        }
        print_error("only in %-10s: %s\n", c < 0 ? sq_name : "PostgreSQL",
                    c < 0 ? sq->v[i++] : pg->v[j++]);
        bad++;
    }
    assert_int_equal(bad, 0);
    assert_true(sq->n > 0);
}

/* Every row of a one-text-column query, into l. */
static void sq_lines(const char *sql, lines_t *l, bool folded)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(fx.db, sql, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("SQLite: %s: %s", sqlite3_errmsg(fx.db), sql);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        add_line(l, (const char *)sqlite3_column_text(stmt, 0), folded);
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(stmt);
}

typedef struct pg_into {
    lines_t *l;
    bool folded;
} pg_into_t;

static int pg_line(void *ctx, const iz_pg_row_t *row)
{
    pg_into_t *in = ctx;
    add_line(in->l, iz_pg_row_text(row, 0), in->folded);
    return 0;
}

static void pg_lines(const char *sql, lines_t *l, bool folded)
{
    pg_into_t in = {l, folded};
    assert_int_equal(iz__pg_each(fx.pg, sql, NULL, pg_line, &in), 0);
}

/* ---- the catalogs ---------------------------------------------------------- */

/* SQLite's tables as its catalog and pragmas list them, one fact a line. */
static const char *const sq_facts[] = {
    "SELECT 'table ' || name FROM sqlite_schema WHERE type = 'table'"
    " AND name NOT LIKE 'sqlite%'",
    /* Columns; `id INTEGER PRIMARY KEY` alone in its key is a BIGSERIAL. */
    "SELECT 'column ' || m.name || ' ' || (c.cid + 1) || ' ' || c.name || ' '"
    " || CASE upper(c.type) WHEN 'INTEGER' THEN 'bigint' WHEN 'TEXT' THEN 'text'"
    " WHEN 'BLOB' THEN 'bytea' WHEN 'REAL' THEN 'double precision'"
    " ELSE 'unmapped ' || c.type END"
    " || CASE WHEN c.\"notnull\" OR c.pk > 0 THEN ' not null' ELSE ' null' END"
    " || ' pk=' || c.pk || ' default=' || CASE WHEN c.name = 'id' AND upper(c.type) = 'INTEGER'"
    " AND c.pk = 1 AND (SELECT count(*) FROM pragma_table_info(m.name) k WHERE k.pk > 0) = 1"
    " THEN 'serial' ELSE coalesce(c.dflt_value, '') END"
    " FROM sqlite_schema m, pragma_table_info(m.name) c"
    " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%'",
    "SELECT 'unique ' || m.name || ' cols=' || (SELECT group_concat(name, ',')"
    " FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno))"
    " FROM sqlite_schema m, pragma_index_list(m.name) l"
    " WHERE m.type = 'table' AND l.origin = 'u'",
    "SELECT 'fk ' || m.name || ' ' || f.seq || ' ' || f.\"from\" || ' -> ' || f.\"table\""
    " || ' ' || coalesce(f.\"to\", '?') || ' on delete ' || f.on_delete"
    " || ' on update ' || f.on_update"
    " FROM sqlite_schema m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'",
    "SELECT 'check ' || name FROM sqlite_schema WHERE type = 'table' AND sql LIKE '%CHECK%'",
    "SELECT 'index ' || l.name || ' on ' || m.name || ' cols=' || (SELECT group_concat(name, ',')"
    " FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno))"
    " || ' unique=' || l.\"unique\" || ' where=' || CASE WHEN l.partial"
    " THEN substr(s.sql, instr(upper(s.sql), ' WHERE ') + 7) ELSE '' END"
    " FROM sqlite_schema m, pragma_index_list(m.name) l JOIN sqlite_schema s ON s.name = l.name"
    " WHERE m.type = 'table' AND l.origin = 'c'",
};

/* PostgreSQL's, from its catalogs, in the same words. A default is printed
 * as SQLite keeps it: '-1'::integer as -1, the BIGSERIAL's nextval of
 * <table>_id_seq as serial. */
#define PG_MINE "c.relnamespace = current_schema()::regnamespace"
static const char pg_tables[] =
    "SELECT 'table ' || c.relname FROM pg_class c WHERE c.relkind = 'r' AND " PG_MINE;
static const char pg_columns[] =
    "SELECT 'column ' || c.relname || ' ' || a.attnum || ' ' || a.attname || ' '"
    " || format_type(a.atttypid, a.atttypmod)"
    " || CASE WHEN a.attnotnull THEN ' not null' ELSE ' null' END"
    " || ' pk=' || coalesce(array_position(p.conkey, a.attnum), 0) || ' default='"
    " || CASE WHEN d.adbin IS NULL THEN ''"
    " WHEN pg_get_expr(d.adbin, d.adrelid) = 'nextval(''' || c.relname || '_id_seq''::regclass)'"
    " THEN 'serial'"
    " ELSE regexp_replace(pg_get_expr(d.adbin, d.adrelid), '^''(-?[0-9]+)''::(integer|bigint)$',"
    " '\\1') END"
    " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
    " AND NOT a.attisdropped"
    " LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum"
    " LEFT JOIN pg_constraint p ON p.conrelid = c.oid AND p.contype = 'p'"
    " WHERE c.relkind = 'r' AND " PG_MINE;
static const char pg_collations[] =
    "SELECT 'collate ' || c.relname || ' ' || a.attname || ' ' || co.collname"
    " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
    " JOIN pg_collation co ON co.oid = a.attcollation"
    " WHERE co.collname <> 'default' AND c.relkind = 'r' AND " PG_MINE;
static const char pg_uniques[] =
    "SELECT 'unique ' || c.relname || ' cols=' || (SELECT string_agg(a.attname, ',' ORDER BY k.i)"
    " FROM unnest(x.conkey) WITH ORDINALITY k(n, i)"
    " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.n)"
    " FROM pg_constraint x JOIN pg_class c ON c.oid = x.conrelid"
    " WHERE x.contype = 'u' AND " PG_MINE;
/* A foreign key's action as SQLite names it. */
#define PG_ACTION(col)                                                                             \
    "CASE " col " WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'"      \
    " WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END"
#define PG_ON_DELETE PG_ACTION("x.confdeltype")
#define PG_ON_UPDATE PG_ACTION("x.confupdtype")
static const char pg_fks[] =
    "SELECT 'fk ' || c.relname || ' ' || (k.i - 1) || ' ' || a.attname || ' -> ' || r.relname"
    " || ' ' || b.attname || ' on delete ' || " PG_ON_DELETE " || ' on update ' || " PG_ON_UPDATE
    " FROM pg_constraint x JOIN pg_class c ON c.oid = x.conrelid"
    " JOIN pg_class r ON r.oid = x.confrelid"
    " CROSS JOIN LATERAL unnest(x.conkey, x.confkey) WITH ORDINALITY k(n, rn, i)"
    " JOIN pg_attribute a ON a.attrelid = x.conrelid AND a.attnum = k.n"
    " JOIN pg_attribute b ON b.attrelid = x.confrelid AND b.attnum = k.rn"
    " WHERE x.contype = 'f' AND " PG_MINE;
static const char pg_checks[] =
    "SELECT DISTINCT 'check ' || c.relname FROM pg_constraint x"
    " JOIN pg_class c ON c.oid = x.conrelid WHERE x.contype = 'c' AND " PG_MINE;
static const char pg_indexes[] =
    "SELECT 'index ' || i.relname || ' on ' || c.relname || ' cols='"
    " || (SELECT string_agg(pg_get_indexdef(x.indexrelid, k, true), ',' ORDER BY k)"
    " FROM generate_series(1, x.indnkeyatts) k)"
    " || ' unique=' || x.indisunique::int"
    " || ' where=' || coalesce(pg_get_expr(x.indpred, x.indrelid, true), '')"
    " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
    " JOIN pg_class c ON c.oid = x.indrelid"
    " WHERE " PG_MINE " AND NOT EXISTS (SELECT 1 FROM pg_constraint k"
    " WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u'))";
static const char *const pg_facts[] = {pg_tables, pg_columns, pg_collations, pg_uniques,
                                       pg_fks,    pg_checks,  pg_indexes};

/* A trigger's line from its CREATE TRIGGER text, as either engine prints
 * it: the event (timing, operation, UPDATE OF's columns) between the name
 * and " ON ", and the condition after " WHEN " up to the body (SQLite's
 * BEGIN, PostgreSQL's EXECUTE). */
static void add_trigger(lines_t *l, const char *name, const char *table, const char *def, bool row)
{
    const char *ev = strstr(def, name), *on = ev ? strstr(ev, " ON ") : NULL;
    assert_non_null(on);
    ev += strlen(name) + 1;
    const char *when = strstr(on, " WHEN "), *end = NULL;
    if (when) {
        when += 6;
        end = strstr(when, " BEGIN");
        if (!end) end = strstr(when, " EXECUTE ");
        assert_non_null(end);
    }
    char line[1024];
    snprintf(line, sizeof line, "trigger %s on %s %.*s row=%d when=%.*s", name, table,
             (int)(on - ev), ev, row, when ? (int)(end - when) : 0, when ? when : "");
    add_line(l, line, true);
}

static int pg_trigger(void *ctx, const iz_pg_row_t *row)
{
    const char *def = iz_pg_row_text(row, 2);
    add_trigger(ctx, iz_pg_row_text(row, 0), iz_pg_row_text(row, 1), def,
                strstr(def, " FOR EACH ROW ") != NULL);
    return 0;
}

static const char pg_triggers[] =
    "SELECT t.tgname::text, c.relname::text, pg_get_triggerdef(t.oid, true)"
    " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
    " WHERE NOT t.tgisinternal AND " PG_MINE;

/* SQLite's non-default collations (NOCASE) and triggers, which its pragmas
 * do not list. */
static void sq_collations_and_triggers(lines_t *l)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(fx.db,
                                        "SELECT m.name, c.name FROM sqlite_schema m,"
                                        " pragma_table_info(m.name) c WHERE m.type = 'table'"
                                        " AND m.name NOT LIKE 'sqlite%'",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(stmt, 0);
        const char *c = (const char *)sqlite3_column_text(stmt, 1);
        const char *coll = NULL;
        assert_int_equal(
            sqlite3_table_column_metadata(fx.db, NULL, t, c, NULL, &coll, NULL, NULL, NULL),
            SQLITE_OK);
        if (coll && strcmp(coll, "BINARY") != 0) {
            char line[256];
            snprintf(line, sizeof line, "collate %s %s %s", t, c, coll);
            add_line(l, line, true);
        }
    }
    sqlite3_finalize(stmt);
    assert_int_equal(sqlite3_prepare_v2(fx.db,
                                        "SELECT name, tbl_name, sql FROM sqlite_schema"
                                        " WHERE type = 'trigger'",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    /* SQLite has only row triggers. */
    while (sqlite3_step(stmt) == SQLITE_ROW)
        add_trigger(l, (const char *)sqlite3_column_text(stmt, 0),
                    (const char *)sqlite3_column_text(stmt, 1),
                    (const char *)sqlite3_column_text(stmt, 2), true);
    sqlite3_finalize(stmt);
}

static int read_i64(void *ctx, const iz_pg_row_t *row)
{
    *(int64_t *)ctx = iz_pg_row_i64(row, 0);
    return 0;
}

static void test_versions(void **state)
{
    (void)state;
    /* The SQLite store this test reads is the version the baseline copies:
     * a new SQLite migration needs its PostgreSQL one (and this test then
     * runs the baseline and the PostgreSQL migrations). */
    assert_int_equal(fx.sqlite_version, IZ_PG_BASELINE_VERSION);
    assert_int_equal(IZ_STORE_SCHEMA_VERSION, IZ_PG_BASELINE_VERSION);
    /* The baseline writes no row: the caller records the version. */
    int64_t n = -1;
    assert_int_equal(iz__pg_get(fx.pg, sql_meta_rows, NULL, read_i64, &n), 0);
    assert_int_equal(n, 0);
}

static void test_same_schema(void **state)
{
    (void)state;
    lines_t sq = {0}, pg = {0};
    for (size_t i = 0; i < IZ_ARRAY_LEN(sq_facts); i++)
        sq_lines(sq_facts[i], &sq, true);
    sq_collations_and_triggers(&sq);
    for (size_t i = 0; i < IZ_ARRAY_LEN(pg_facts); i++)
        pg_lines(pg_facts[i], &pg, true);
    assert_int_equal(iz__pg_each(fx.pg, pg_triggers, NULL, pg_trigger, &pg), 0);
    assert_same(&sq, &pg, "SQLite");
    free_lines(&sq);
    free_lines(&pg);
}

/* ---- behaviour ------------------------------------------------------------ */

/* What a statement of the list must do on both engines: succeed (NULL),
 * be refused by an append-only guard with this message, or be refused for
 * another reason, each engine in its own words (ANY). */
#define LOG_GUARD "consent_log is append-only"
#define SEG_GUARD "log_segments is append-only"
#define ANY "*"

/* 2024-12-31 23:59:59.999 and 2025-01-01 00:00:00.000 in Turkey (UTC+3),
 * and a time whose seconds, truncated toward zero (-10800), are Turkey's
 * 1970-01-01 where flooring (-10801) would give the day before. */
#define MS_LAST "1735678799999"
#define MS_NEXT "1735678800000"
#define MS_TRUNC "-10800001"
#define LOG_INSERT                                                                                 \
    "INSERT INTO consent_log(brand_id, recipient, rtype, type, status, source, creation_ms,"       \
    " origin, prev_hash, hash) VALUES"
#define KEY1 " WHERE recipient = '+905320000001'"

static const struct step {
    const char *sql, *refused;
} steps[] = {
    {"INSERT INTO accounts(name, created_at) VALUES('a', 0)", NULL},
    {"INSERT INTO brands(account_id, code, name, created_at) VALUES(1, 7, 'b', 0)", NULL},
    /* A change written, then its hash set once (the hash is '' until then,
     * and while it is, nothing is guarded). */
    {LOG_INSERT "(1, '+905320000001', 'BIREYSEL', 'MESAJ', 'ONAY', 'HS_WEB', " MS_LAST
                ", 'API', '', '')",
     NULL},
    {"UPDATE consent_log SET status = 'RET', retailer_code = 5 WHERE id = 1", NULL},
    {"UPDATE consent_log SET status = 'ONAY', retailer_code = NULL, hash = 'h1' WHERE id = 1",
     NULL},
    /* Hashed: its hashed columns are refused, even set to what they hold;
     * İYS's answer columns are not hashed. */
    {"UPDATE consent_log SET status = 'RET' WHERE id = 1", LOG_GUARD},
    {"UPDATE consent_log SET hash = hash WHERE id = 1", LOG_GUARD},
    {"UPDATE consent_log SET hash = '' WHERE id = 1", LOG_GUARD},
    {"UPDATE consent_log SET id = 99 WHERE id = 1", LOG_GUARD},
    {"UPDATE consent_log SET retailer_access = 'x' WHERE id = 1", LOG_GUARD},
    {"UPDATE consent_log SET iys_state = 'SENT', iys_txid = 't1', iys_error = NULL WHERE id = 1",
     NULL},
    {"DELETE FROM consent_log WHERE id = 1", LOG_GUARD},
    {"DELETE FROM consent_log", LOG_GUARD},
    /* More changes for the days: the next Turkey day with no origin, the
     * same day again, and the truncating division. */
    {LOG_INSERT "(1, '+905320000002', 'BIREYSEL', 'MESAJ', 'ONAY', NULL, " MS_NEXT
                ", NULL, 'h1', 'h2')",
     NULL},
    {LOG_INSERT "(1, '+905320000003', 'BIREYSEL', 'ARAMA', 'ONAY', 'HS_WEB', 1735657200000,"
                " 'API', 'h2', 'h3')",
     NULL},
    {LOG_INSERT "(1, '+905320000004', 'BIREYSEL', 'ARAMA', 'ONAY', 'HS_WEB', " MS_TRUNC
                ", 'IYS', 'h3', 'h4')",
     NULL},
    /* Segments: counted by their count; only their queued flag may change. */
    {"INSERT INTO log_segments VALUES(100, 5, 1, " MS_LAST
     ", 'BULK', 'j1', 'PENDING', 1, 'seg', 'h4', 's1')",
     NULL},
    {"INSERT INTO log_segments VALUES(105, 3, 1, " MS_LAST
     " - 999, 'BULK', 'j1', 'PENDING', 1, 'seg', 's1', 's2')",
     NULL},
    {"INSERT INTO log_segments VALUES(108, 2, 1, " MS_NEXT
     ", 'BULK', 'j2', 'PENDING', 1, 'seg', 's2', 's3')",
     NULL},
    {"UPDATE log_segments SET queued = 0 WHERE first_id = 100", NULL},
    {"UPDATE log_segments SET iys_state = 'SENT' WHERE first_id = 100", SEG_GUARD},
    {"UPDATE log_segments SET data = 'x' WHERE first_id = 100", SEG_GUARD},
    {"UPDATE log_segments SET queued = 1, hash = hash WHERE first_id = 100", SEG_GUARD},
    {"DELETE FROM log_segments WHERE first_id = 105", SEG_GUARD},
    {"INSERT INTO log_segments VALUES(100, 1, 1, 0, 'BULK', 'j3', 'PENDING', 1, 'seg', '', '')",
     ANY},
    /* The state rows: a new row is counted by the store's code (stat_new),
     * a change of status or source and a delete by the triggers. */
    {"INSERT INTO consent_state VALUES(1, '+905320000001', 'BIREYSEL', 'MESAJ', 1, 'ONAY',"
     " 'HS_WEB', NULL, NULL)",
     NULL},
    {"INSERT INTO stat_state VALUES(1, 'MESAJ', 'BIREYSEL', 'ONAY', 'HS_WEB', 1)", NULL},
    {"UPDATE consent_state SET status = 'RET'" KEY1, NULL},
    {"UPDATE consent_state SET status = 'RET', source = 'HS_WEB'" KEY1, NULL}, /* no change */
    {"UPDATE consent_state SET source = NULL" KEY1, NULL},
    {"UPDATE consent_state SET source = NULL" KEY1, NULL},       /* NULL to NULL: no change */
    {"UPDATE consent_state SET source = 'HS_MESAJ'" KEY1, NULL}, /* NULL to a value */
    {"UPDATE consent_state SET log_id = 2, consent_date = 5" KEY1, NULL}, /* not counted */
    {"INSERT INTO consent_state VALUES(1, '+905320000002', 'BIREYSEL', 'MESAJ', 2, 'ONAY',"
     " NULL, NULL, NULL)",
     NULL},
    {"INSERT INTO stat_state VALUES(1, 'MESAJ', 'BIREYSEL', 'ONAY', '', 1)", NULL},
    {"INSERT INTO stat_state VALUES(1, 'MESAJ', 'BIREYSEL', 'ONAY', '', 1)", ANY},
    /* A load's row taken back before it was counted: no trigger. */
    {"INSERT INTO consent_state VALUES(1, '+905320000005', 'BIREYSEL', 'MESAJ', 100, 'ONAY',"
     " 'HS_WEB', NULL, 100)",
     NULL},
    {"DELETE FROM consent_state WHERE seg_id = 100", NULL},
    {"DELETE FROM consent_state WHERE recipient = '+905320000002'", NULL},
    /* A panel user's e-mail, unique and found in any ASCII case. */
    {"INSERT INTO panel_users(account_id, email, pwhash, created_at)"
     " VALUES(1, 'Ayse.Kaya@Example.com', 'x', 0)",
     NULL},
    {"INSERT INTO panel_users(account_id, email, pwhash, created_at)"
     " VALUES(1, 'ayse.kaya@EXAMPLE.COM', 'x', 0)",
     ANY},
    {"INSERT INTO panel_users(account_id, email, pwhash, created_at)"
     " VALUES(1, 'ayse.kayа@example.com', 'x', 0)", /* a Cyrillic а: another address */
     NULL},
};

/* The rows the steps leave, one text column a row, as both engines spell
 * them (|| and coalesce alike). */
static const char sql_rows_state[] =
    "SELECT 'stat_state ' || brand_id || ' ' || type || ' ' || rtype || ' ' || status || ' ['"
    " || source || '] ' || n FROM stat_state";
static const char sql_rows_days[] =
    "SELECT 'stat_days ' || brand_id || ' ' || day || ' [' || origin || '] ' || n FROM stat_days";
static const char sql_rows_log[] =
    "SELECT 'log ' || id || ' ' || status || ' ' || hash || ' ' || coalesce(iys_state, '-')"
    " || ' ' || coalesce(retailer_code || '', '-') FROM consent_log";
static const char sql_rows_seg[] =
    "SELECT 'segment ' || first_id || ' ' || count || ' ' || queued || ' ' || iys_state"
    " FROM log_segments";
static const char sql_rows_user[] =
    "SELECT 'user ' || email FROM panel_users WHERE email = 'AYSE.KAYA@example.COM'";
static const char *const rows_sql[] = {sql_rows_state, sql_rows_days, sql_rows_log, sql_rows_seg,
                                       sql_rows_user};

/* What both must hold after the steps. */
static const char *const want_rows[] = {
    "log 1 ONAY h1 SENT -",
    "log 2 ONAY h2 - -",
    "log 3 ONAY h3 - -",
    "log 4 ONAY h4 - -",
    "segment 100 5 0 PENDING",
    "segment 105 3 1 PENDING",
    "segment 108 2 1 PENDING",
    "stat_days 1 1970-01-01 [IYS] 1",
    "stat_days 1 2024-12-31 [API] 2",
    "stat_days 1 2024-12-31 [BULK] 8",
    "stat_days 1 2025-01-01 [] 1",
    "stat_days 1 2025-01-01 [BULK] 2",
    "stat_state 1 MESAJ BIREYSEL ONAY [HS_WEB] 0",
    "stat_state 1 MESAJ BIREYSEL ONAY [] 0",
    "stat_state 1 MESAJ BIREYSEL RET [HS_MESAJ] 1",
    "stat_state 1 MESAJ BIREYSEL RET [HS_WEB] 0",
    "stat_state 1 MESAJ BIREYSEL RET [] 0",
    "user Ayse.Kaya@Example.com",
};

/* Run sql on PostgreSQL, catching its error: "" or the error's message. */
static const char sql_try_fn[] =
    "CREATE FUNCTION pg_temp.try_sql(q text) RETURNS text LANGUAGE plpgsql AS $$BEGIN"
    " EXECUTE q; RETURN ''; EXCEPTION WHEN OTHERS THEN RETURN SQLERRM; END$$";
static const char sql_try[] = "SELECT pg_temp.try_sql(?1)";

static int read_text(void *ctx, const iz_pg_row_t *row)
{
    snprintf(ctx, 256, "%s", iz_pg_row_text(row, 0));
    return 0;
}

static void test_same_behaviour(void **state)
{
    (void)state;
    assert_int_equal(iz__pg_script(fx.pg, sql_try_fn), 0);
    for (size_t i = 0; i < IZ_ARRAY_LEN(steps); i++) {
        const struct step *s = &steps[i];
        char pg_msg[256] = "?", sq_msg[256] = "";
        assert_int_equal(
            iz__pg_get(fx.pg, sql_try, IZ_SQ_ARGS(IZ_SQ_TEXT(s->sql)), read_text, pg_msg), 0);
        if (sqlite3_exec(fx.db, s->sql, NULL, NULL, NULL) != SQLITE_OK)
            snprintf(sq_msg, sizeof sq_msg, "%s", sqlite3_errmsg(fx.db));
        const char *want = s->refused ? s->refused : "";
        bool any = !strcmp(want, ANY);
        if (any ? !pg_msg[0] || !sq_msg[0] : strcmp(pg_msg, want) || strcmp(sq_msg, want))
            fail_msg("step %zu: %s\n  want: %s\n  PostgreSQL: %s\n  SQLite: %s", i, s->sql, want,
                     pg_msg, sq_msg);
    }
    /* A guard's refusal through the driver is IZ_EIO, as sqlite_util's. */
    assert_int_equal(iz__pg_exec(fx.pg, "DELETE FROM consent_log", NULL, NULL), IZ_EIO);

    lines_t sq = {0}, pg = {0}, want = {0};
    for (size_t i = 0; i < IZ_ARRAY_LEN(rows_sql); i++) {
        sq_lines(rows_sql[i], &sq, false);
        pg_lines(rows_sql[i], &pg, false);
    }
    for (size_t i = 0; i < IZ_ARRAY_LEN(want_rows); i++)
        add_line(&want, want_rows[i], false);
    assert_same(&sq, &pg, "SQLite");
    assert_same(&want, &pg, "expected");
    free_lines(&sq);
    free_lines(&pg);
    free_lines(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_same_schema),
        cmocka_unit_test(test_same_behaviour),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
