/*
 * schema_pg.h - the store's schema in PostgreSQL's dialect: one baseline
 * script equal to the SQLite schema at version IZ_PG_BASELINE_VERSION (the
 * end of store_sqlite.c's migrations[]), for a PostgreSQL store that starts
 * empty. A PostgreSQL database is created at the baseline, never walked
 * through SQLite's eighteen steps; a later schema change is a PostgreSQL
 * migration after it, as SQLite's is a new entry of migrations[].
 *
 * The same tables, columns (names, order, NOT NULL, DEFAULT), keys,
 * foreign keys, indexes (names, columns, uniqueness, partial WHERE) and
 * triggers (names, events, columns, conditions, effects) as SQLite's; the
 * types mapped INTEGER -> BIGINT (flags too: the store binds 0/1, never a
 * boolean), TEXT -> TEXT, BLOB -> BYTEA, REAL -> DOUBLE PRECISION, and an
 * `id INTEGER PRIMARY KEY` (AUTOINCREMENT or not) -> `id BIGSERIAL PRIMARY
 * KEY`, whose sequence is <table>_id_seq (consent_log_id_seq is the log's
 * id sequence, which log segments move past as sqlite_sequence is moved).
 * tests/unit/store/test_pgschema.c checks all of this against a fresh
 * SQLite store. What did not map one to one is said where it is done in
 * schema_pg.c (COLLATE NOCASE, nullable text primary keys, the triggers).
 *
 * Internal to store/.
 */
#ifndef IZ_SCHEMA_PG_H
#define IZ_SCHEMA_PG_H

/* The SQLite schema version the baseline equals. */
#define IZ_PG_BASELINE_VERSION 18

/* The baseline: statements joined by ';' (for iz__pg_script), run once on
 * an empty database. It creates every object in the connection's current
 * schema and writes no row: the caller runs it and records
 * meta.schema_version ('18') in one transaction (iz__pg_begin, the script,
 * the row, iz__pg_end), so that a database is either empty or whole. */
extern const char iz__pg_baseline[];

#endif
