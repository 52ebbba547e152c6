/*
 * pgdb.c - the PostgreSQL driver over libpq (see pgdb.h): the connection
 * and its lock, the ?N rewriting and the statement cache, binding the
 * typed arguments, reading binary result rows, the error mapping and the
 * advisory locks.
 *
 * Results are asked for in binary format, so that int8 and bytea columns
 * arrive as their bytes and nothing is parsed from text; a text column's
 * binary form is its text. Parameters are typed by the server (a statement
 * is prepared untyped and described once), so one argument list serves
 * statements whose parameter is an int8 here and an int4 there, and a NULL
 * needs no type at all.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "core/iz.h"
#include "store/pgdb.h"
#include "sys/fs.h"
#include "sys/log.h"

/* PostgreSQL's type OIDs (catalog/pg_type.h, stable across versions). */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_OID = 26,
    OID_VARCHAR = 1043,
    OID_NUMERIC = 1700
};

#define PG_CACHE_MIN 64        /* statement slots at first; the cache doubles at half full */
#define PG_SQL_MAX (64 * 1024) /* longest statement text, rewritten */

/* A statement prepared on the server: its SQL's address (the key), its
 * server-side name and its parameters' types as the server inferred them. */
typedef struct pg_cached {
    const char *sql;
    bool ret_id; /* prepared with " RETURNING id" after it (iz__pg_insert) */
    char name[24];
    int nparams;
    Oid *types;
} pg_cached_t;

struct iz_pg {
    const char *who;
    PGconn *conn;
    pthread_mutex_t mu; /* recursive: a transaction's calls take it again */
    int depth;
    pg_cached_t *cache; /* open addressing by SQL address, cap slots */
    size_t ncached, cap;
    uint64_t named;    /* statements named so far (the names' counter) */
    uint64_t prepares; /* statements prepared on the current connection */
    uint64_t session;  /* bumped at every reconnect */
    /* Scratch for binding, grown as needed, under mu. */
    const char **values;
    int *lengths, *formats;
    char (*ints)[24];
    int nscratch;
};

struct iz_pg_row {
    const PGresult *res;
    int row;
    char (*num)[24]; /* the decimal text of integer columns, one slot a column */
};

/* ---- errors ------------------------------------------------------------- */

/* Map a failed result (or a failure with no result: res NULL) of sql to an
 * IZ_* code, logging what is not an answer. The log line names the
 * statement and the SQLSTATE; the server's message too unless it is a data
 * exception (class 22), whose message may quote a value. Values are never
 * logged otherwise: they travel as parameters, out of the SQL text. */
static int pg_fail(iz_pg_t *pg, const PGresult *res, const char *sql)
{
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!st) st = "";
    if (!strcmp(st, "23505")) return IZ_EEXIST;    /* unique_violation */
    if (!strcmp(st, "23503")) return IZ_ENOTFOUND; /* foreign_key_violation */
    if (PQstatus(pg->conn) == CONNECTION_BAD || !strncmp(st, "08", 2)) {
        iz_logf(IZ_LOG_WARN, pg->who, "database connection lost", "op=%s sqlstate=%s", sql, st);
        return IZ_EBUSY;
    }
    bool busy = !strcmp(st, "40001") || !strcmp(st, "40P01") || /* serialization, deadlock */
                !strcmp(st, "55P03") ||                         /* lock_not_available */
                !strncmp(st, "57P0", 4);                        /* the server shutting down */
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg && !res) msg = PQerrorMessage(pg->conn);
    if (!strncmp(st, "22", 2) || !msg) msg = "";
    iz_logf(busy ? IZ_LOG_WARN : IZ_LOG_ERROR, pg->who, "database failure",
            "op=%s sqlstate=%s error=%s", sql, st, msg);
    return busy ? IZ_EBUSY : IZ_EIO;
}

/* The server's notices (a WARNING of a statement) into the log, not onto
 * standard error where libpq would print them. */
static void on_notice(void *arg, const char *msg)
{
    const iz_pg_t *pg = arg;
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        n--;
    iz_logf(IZ_LOG_WARN, pg->who, "database notice", "notice=%.*s", (int)n, msg);
}

/* ---- rewriting ?N into $N ----------------------------------------------- */

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

/* The length of the dollar-quote tag ($tag$ or $$) at p, or 0 when p does
 * not open one ($1 is a parameter: a tag does not start with a digit). */
static size_t dollar_tag(const char *p)
{
    size_t i = 1;
    if (isdigit((unsigned char)p[1])) return 0;
    while (ident_char(p[i]))
        i++;
    return p[i] == '$' ? i + 1 : 0;
}

int iz__pg_rewrite(const char *sql, char *out, size_t size, int *nparams)
{
    size_t o = 0;
    int max = 0;
    const char *p = sql;
    /* Copy n bytes from p on. */
#define COPY(n)                                                                                    \
    do {                                                                                           \
        size_t n_ = (n);                                                                           \
        if (o + n_ >= size) return IZ_ETOOBIG;                                                     \
        memcpy(out + o, p, n_);                                                                    \
        o += n_;                                                                                   \
        p += n_;                                                                                   \
    } while (0)
    while (*p) {
        if (*p == '\'' || *p == '"') {
            /* A string or a quoted identifier, to its closing quote; a
             * doubled quote is one inside it, and in an E'' string a
             * backslash escapes the next byte. */
            char q = *p;
            bool esc = q == '\'' && p > sql && (p[-1] == 'E' || p[-1] == 'e') &&
                       (p - 1 == sql || !ident_char(p[-2]));
            COPY(1);
            while (*p) {
                if (esc && *p == '\\' && p[1])
                    COPY(2);
                else if (*p == q && p[1] == q)
                    COPY(2);
                else if (*p == q)
                    break;
                else
                    COPY(1);
            }
            if (*p) COPY(1);
        } else if (p[0] == '-' && p[1] == '-') {
            size_t n = strcspn(p, "\n");
            COPY(n);
        } else if (p[0] == '/' && p[1] == '*') {
            /* PostgreSQL's block comments nest. */
            int depth = 0;
            do {
                if (p[0] == '/' && p[1] == '*') {
                    depth++;
                    COPY(2);
                } else if (p[0] == '*' && p[1] == '/') {
                    depth--;
                    COPY(2);
                } else {
                    COPY(1);
                }
            } while (*p && depth > 0);
        } else if (*p == '$' && (p == sql || !ident_char(p[-1])) && dollar_tag(p)) {
            size_t t = dollar_tag(p);
            const char *tag = p;
            COPY(t);
            while (*p && strncmp(p, tag, t) != 0)
                COPY(1);
            if (*p) COPY(t);
        } else if (*p == '?' && isdigit((unsigned char)p[1])) {
            int n = 0;
            const char *d = p + 1;
            while (isdigit((unsigned char)*d) && n <= IZ_PG_MAX_PARAMS)
                n = n * 10 + (*d++ - '0');
            if (n < 1 || n > IZ_PG_MAX_PARAMS || isdigit((unsigned char)*d)) return IZ_EINVAL;
            if (n > max) max = n;
            if (o + 1 >= size) return IZ_ETOOBIG;
            out[o++] = '$';
            p++;
            COPY((size_t)(d - p));
        } else if (*p == '?') {
            /* A bare ? is numbered as SQLite numbers it: one more than the
             * largest number so far. */
            int n = ++max;
            if (n > IZ_PG_MAX_PARAMS) return IZ_EINVAL;
            int w = snprintf(out + o, size - o, "$%d", n);
            if (w < 0 || o + (size_t)w >= size) return IZ_ETOOBIG;
            o += (size_t)w;
            p++;
        } else {
            COPY(1);
        }
    }
#undef COPY
    out[o] = '\0';
    *nparams = max;
    return 0;
}

/* ---- the statement cache ------------------------------------------------ */

/* The slot of sql in a cache of cap slots (a power of two), as sqlite_util
 * keys its own: by the statement's address. */
static pg_cached_t *cache_slot(pg_cached_t *cache, size_t cap, const char *sql, bool ret_id)
{
    uintptr_t h = (uintptr_t)sql + ret_id;
    size_t i = (size_t)(h ^ h >> 4 ^ h >> 12) & (cap - 1);
    while (cache[i].sql && (cache[i].sql != sql || cache[i].ret_id != ret_id))
        i = (i + 1) & (cap - 1);
    return &cache[i];
}

/* Forget every prepared statement (the connection that held them is gone). */
static void cache_clear(iz_pg_t *pg)
{
    for (size_t i = 0; i < pg->cap; i++)
        free(pg->cache[i].types);
    memset(pg->cache, 0, pg->cap * sizeof *pg->cache);
    pg->ncached = 0;
    pg->prepares = 0;
}

/* The prepared statement of sql, prepared and described on first use; NULL
 * with *rc on failure. Called with the lock held. */
static const pg_cached_t *stmt_get(iz_pg_t *pg, const char *sql, bool ret_id, int *rc)
{
    pg_cached_t *slot = cache_slot(pg->cache, pg->cap, sql, ret_id);
    if (slot->sql) return slot;
    if (2 * (pg->ncached + 1) > pg->cap) {
        size_t cap = 2 * pg->cap;
        pg_cached_t *cache = iz_xcalloc(cap, sizeof *cache);
        for (size_t i = 0; i < pg->cap; i++)
            if (pg->cache[i].sql)
                *cache_slot(cache, cap, pg->cache[i].sql, pg->cache[i].ret_id) = pg->cache[i];
        free(pg->cache);
        pg->cache = cache;
        pg->cap = cap;
        slot = cache_slot(pg->cache, pg->cap, sql, ret_id);
    }
    pg_cached_t c = {.sql = sql, .ret_id = ret_id};
    char *text = iz_xmalloc(PG_SQL_MAX);
    int nmax = 0;
    *rc = iz__pg_rewrite(sql, text, PG_SQL_MAX - 16, &nmax);
    if (*rc == 0 && ret_id) strcat(text, " RETURNING id");
    if (*rc != 0) {
        iz_logf(IZ_LOG_ERROR, pg->who, "statement cannot be rewritten", "op=%s error=%s", sql,
                iz_strerror(*rc));
        free(text);
        return NULL;
    }
    (void)snprintf(c.name, sizeof c.name, "iz%" PRIu64, ++pg->named);
    PGresult *res = PQprepare(pg->conn, c.name, text, 0, NULL);
    free(text);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        *rc = pg_fail(pg, res, sql);
        PQclear(res);
        return NULL;
    }
    PQclear(res);
    res = PQdescribePrepared(pg->conn, c.name);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        *rc = pg_fail(pg, res, sql);
        PQclear(res);
        return NULL;
    }
    c.nparams = PQnparams(res);
    c.types = iz_xcalloc((size_t)c.nparams + 1, sizeof *c.types);
    for (int i = 0; i < c.nparams; i++)
        c.types[i] = PQparamtype(res, i);
    PQclear(res);
    *slot = c;
    pg->ncached++;
    pg->prepares++;
    return slot;
}

/* ---- binding ------------------------------------------------------------ */

static void put_be(char *b, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        b[i] = (char)(v & 0xff);
}

/* Fill the scratch arrays from args for the statement st; IZ_EINVAL (logged)
 * when their number is not its or an integer does not fit its parameter. */
static int bind_args(iz_pg_t *pg, const pg_cached_t *st, const iz_sq_arg_t *args)
{
    int n = 0;
    for (const iz_sq_arg_t *a = args; a && a->kind != IZ_SQ_K_END; a++)
        n++;
    if (n != st->nparams) {
        iz_logf(IZ_LOG_ERROR, pg->who, "wrong number of arguments", "op=%s args=%d params=%d",
                st->sql, n, st->nparams);
        return IZ_EINVAL;
    }
    if (n > pg->nscratch) {
        pg->values = iz_xrealloc(pg->values, (size_t)n * sizeof *pg->values);
        pg->lengths = iz_xrealloc(pg->lengths, (size_t)n * sizeof *pg->lengths);
        pg->formats = iz_xrealloc(pg->formats, (size_t)n * sizeof *pg->formats);
        pg->ints = iz_xrealloc(pg->ints, (size_t)n * sizeof *pg->ints);
        pg->nscratch = n;
    }
    for (int i = 0; i < n; i++) {
        const iz_sq_arg_t *a = &args[i];
        Oid type = st->types[i];
        pg->values[i] = NULL;
        pg->lengths[i] = 0;
        pg->formats[i] = 0;
        if (a->kind == IZ_SQ_K_I64 || (a->kind == IZ_SQ_K_OPT_I64 && a->i != 0)) {
            char *b = pg->ints[i];
            int64_t v = a->i;
            int len = type == OID_INT8 ? 8 : type == OID_INT4 ? 4 : type == OID_INT2 ? 2 : 0;
            if ((len == 4 && (v < INT32_MIN || v > INT32_MAX)) ||
                (len == 2 && (v < INT16_MIN || v > INT16_MAX))) {
                iz_logf(IZ_LOG_ERROR, pg->who, "integer argument out of its parameter's range",
                        "op=%s param=%d", st->sql, i + 1);
                return IZ_EINVAL;
            }
            if (len) {
                put_be(b, (uint64_t)v, len);
                pg->lengths[i] = len;
                pg->formats[i] = 1;
            } else {
                /* numeric, text, an untyped literal: the server parses it. */
                (void)snprintf(b, sizeof pg->ints[i], "%" PRId64, v);
            }
            pg->values[i] = b;
        } else if (a->kind == IZ_SQ_K_TEXT || (a->kind == IZ_SQ_K_OPT && a->t && a->t[0])) {
            pg->values[i] = a->t;
            if (a->t && type == OID_BYTEA) {
                /* Text into a bytea is its bytes, not an escape syntax. */
                pg->lengths[i] = (int)strlen(a->t);
                pg->formats[i] = 1;
            }
        } else if (a->kind == IZ_SQ_K_BLOB && a->t) {
            if (a->i < 0 || a->i > INT32_MAX) return IZ_ETOOBIG;
            pg->values[i] = a->t;
            pg->lengths[i] = (int)a->i;
            pg->formats[i] = 1;
        }
    }
    return 0;
}

/* ---- the connection and its lock ---------------------------------------- */

bool iz__pg_is_url(const char *url)
{
    return url && (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11));
}

/* What a message may say about url: its host and database, never the rest. */
static void describe_url(const char *url, char *out, size_t size)
{
    PQconninfoOption *o = PQconninfoParse(url, NULL);
    const char *host = NULL, *db = NULL;
    for (PQconninfoOption *x = o; x && x->keyword; x++) {
        if (!strcmp(x->keyword, "host") && x->val) host = x->val;
        if (!strcmp(x->keyword, "dbname") && x->val) db = x->val;
    }
    (void)snprintf(out, size, "host %s, database %s", host ? host : "(default)",
                   db ? db : "(default)");
    PQconninfoFree(o);
}

int iz__pg_open(iz_pg_t **out, const char *who, const char *url, const char **err)
{
    *out = NULL;
    if (!iz__pg_is_url(url)) {
        *err = iz_errf("not a PostgreSQL URL (postgresql://USER@HOST/DB or "
                       "postgresql:///DB?host=SOCKETDIR)");
        return IZ_EINVAL;
    }
    /* libpq's own message about a malformed URL may quote a piece of it
     * (the password included): it is not passed on. */
    char *perr = NULL;
    PQconninfoOption *parsed = PQconninfoParse(url, &perr);
    PQfreemem(perr);
    if (!parsed) {
        *err = iz_errf("malformed PostgreSQL URL");
        return IZ_EINVAL;
    }
    PQconninfoFree(parsed);
    char where[256];
    describe_url(url, where, sizeof where);
    /* Keys after dbname override the URL's: the client speaks UTF-8. */
    static const char *const keys[] = {"dbname", "fallback_application_name", "client_encoding",
                                       NULL};
    /* The application's name says which process a session is (a node's
     * sessions in pg_stat_activity), unless the URL names one. */
    char app[32];
    (void)snprintf(app, sizeof app, "izin/%ld", (long)getpid());
    const char *vals[] = {url, app, "UTF8", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (!conn) iz_oom();
    if (PQstatus(conn) != CONNECTION_OK) {
        const char *m = PQerrorMessage(conn);
        size_t n = strcspn(m, "\n");
        *err = iz_errf("cannot connect to PostgreSQL (%s): %.*s", where, (int)n, m);
        PQfinish(conn);
        return IZ_EBUSY;
    }
    iz_pg_t *pg = iz_xcalloc(1, sizeof *pg);
    pg->who = who;
    pg->conn = conn;
    pg->session = 1;
    pg->cap = PG_CACHE_MIN;
    pg->cache = iz_xcalloc(pg->cap, sizeof *pg->cache);
    pthread_mutexattr_t attr;
    if (pthread_mutexattr_init(&attr) != 0 ||
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE) != 0 ||
        pthread_mutex_init(&pg->mu, &attr) != 0)
        abort();
    (void)pthread_mutexattr_destroy(&attr);
    (void)PQsetNoticeProcessor(conn, on_notice, pg);
    iz_logf(IZ_LOG_DEBUG, who, "connected to PostgreSQL", "where=%s server=%d", where,
            PQserverVersion(conn));
    *out = pg;
    return 0;
}

void iz__pg_close(iz_pg_t *pg)
{
    if (!pg) return;
    PQfinish(pg->conn);
    cache_clear(pg);
    free(pg->cache);
    free(pg->values);
    free(pg->lengths);
    free(pg->formats);
    free(pg->ints);
    (void)pthread_mutex_destroy(&pg->mu);
    free(pg);
}

static const char sql_begin[] = "BEGIN",
                  sql_begin_read[] = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                  sql_commit[] = "COMMIT", sql_rollback[] = "ROLLBACK",
                  sql_savepoint[] = "SAVEPOINT item", sql_release[] = "RELEASE item",
                  sql_rollback_to[] = "ROLLBACK TO item";

void iz__pg_lock(iz_pg_t *pg)
{
    if (pthread_mutex_lock(&pg->mu) != 0) abort();
    if (pg->depth++ == 0 && PQstatus(pg->conn) == CONNECTION_BAD) {
        /* Lost since the last call (its failure answered IZ_EBUSY): make it
         * again. Its prepared statements and advisory locks went with it. */
        PQreset(pg->conn);
        cache_clear(pg);
        pg->session++;
        bool ok = PQstatus(pg->conn) == CONNECTION_OK;
        iz_logf(ok ? IZ_LOG_INFO : IZ_LOG_WARN, pg->who,
                ok ? "reconnected to PostgreSQL" : "cannot reconnect to PostgreSQL", NULL);
        if (ok) (void)PQsetNoticeProcessor(pg->conn, on_notice, pg);
    }
}

void iz__pg_unlock(iz_pg_t *pg)
{
    if (pg->depth == 1 && PQtransactionStatus(pg->conn) != PQTRANS_IDLE &&
        PQstatus(pg->conn) == CONNECTION_OK)
        (void)iz__pg_script(pg, sql_rollback);
    pg->depth--;
    if (pthread_mutex_unlock(&pg->mu) != 0) abort();
}

int iz__pg_script(iz_pg_t *pg, const char *sql)
{
    iz__pg_lock(pg);
    PGresult *res = PQexec(pg->conn, sql);
    ExecStatusType s = PQresultStatus(res);
    int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? 0 : pg_fail(pg, res, sql);
    PQclear(res);
    iz__pg_unlock(pg);
    return rc;
}

static int begin_with(iz_pg_t *pg, const char *sql)
{
    iz__pg_lock(pg);
    return iz__pg_script(pg, sql);
}

int iz__pg_begin(iz_pg_t *pg)
{
    return begin_with(pg, sql_begin);
}

int iz__pg_begin_read(iz_pg_t *pg)
{
    return begin_with(pg, sql_begin_read);
}

/* PostgreSQL answers a COMMIT of a transaction that a failed statement
 * aborted with success and the tag ROLLBACK; that is a failure here (a
 * caller that went on past a failure must not believe its writes made). */
int iz__pg_commit(iz_pg_t *pg)
{
    iz__pg_lock(pg);
    int rc = 0;
    if (PQtransactionStatus(pg->conn) == PQTRANS_INERROR) {
        iz_logf(IZ_LOG_ERROR, pg->who, "commit of a failed transaction: rolled back", NULL);
        (void)iz__pg_script(pg, sql_rollback);
        rc = IZ_EIO;
    } else {
        PGresult *res = PQexec(pg->conn, sql_commit);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = pg_fail(pg, res, sql_commit);
        else if (strcmp(PQcmdStatus(res), "COMMIT") != 0)
            rc = IZ_EIO;
        PQclear(res);
    }
    iz__pg_unlock(pg);
    return rc;
}

int iz__pg_end(iz_pg_t *pg, int rc)
{
    if (rc == 0) rc = iz__pg_commit(pg);
    iz__pg_unlock(pg);
    return rc;
}

int iz__pg_savepoint(iz_pg_t *pg)
{
    return iz__pg_script(pg, sql_savepoint);
}

int iz__pg_release(iz_pg_t *pg, bool undo)
{
    int rc = undo ? iz__pg_script(pg, sql_rollback_to) : 0;
    int r = iz__pg_script(pg, sql_release);
    return rc ? rc : r;
}

/* ---- a statement in one call -------------------------------------------- */

/* Run sql with args; *res gets its result (PQclear it) when it succeeded. */
static int run(iz_pg_t *pg, const char *sql, bool ret_id, const iz_sq_arg_t *args, PGresult **res)
{
    int rc = 0;
    const pg_cached_t *st = stmt_get(pg, sql, ret_id, &rc);
    if (!st) return rc;
    if ((rc = bind_args(pg, st, args)) != 0) return rc;
    PGresult *r =
        PQexecPrepared(pg->conn, st->name, st->nparams, pg->values, pg->lengths, pg->formats, 1);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        rc = pg_fail(pg, r, sql);
        PQclear(r);
        return rc;
    }
    *res = r;
    return 0;
}

int iz__pg_exec(iz_pg_t *pg, const char *sql, const iz_sq_arg_t *args, int64_t *changes)
{
    PGresult *res = NULL;
    iz__pg_lock(pg);
    int rc = run(pg, sql, false, args, &res);
    iz__pg_unlock(pg);
    if (rc == 0 && changes) {
        const char *t = PQcmdTuples(res);
        *changes = t && *t ? strtoll(t, NULL, 10) : 0;
    }
    PQclear(res);
    return rc;
}

/* Hand the rows of sql to fn, at most max of them; IZ_ENOTFOUND when there
 * was none and none_is_error. */
static int walk(iz_pg_t *pg, const char *sql, const iz_sq_arg_t *args, iz_pg_each_fn fn, void *ctx,
                int max, bool none_is_error)
{
    PGresult *res = NULL;
    iz__pg_lock(pg);
    int rc = run(pg, sql, false, args, &res);
    iz__pg_unlock(pg);
    if (rc != 0) return rc;
    int n = PQntuples(res);
    if (n == 0 && none_is_error) rc = IZ_ENOTFOUND;
    char(*num)[24] = iz_xcalloc((size_t)PQnfields(res) + 1, sizeof *num);
    for (int i = 0; i < n && i < max && rc == 0 && fn; i++)
        rc = fn(ctx, &(iz_pg_row_t){res, i, num});
    free(num);
    PQclear(res);
    return rc;
}

int iz__pg_get(iz_pg_t *pg, const char *sql, const iz_sq_arg_t *args, iz_pg_each_fn fn, void *ctx)
{
    return walk(pg, sql, args, fn, ctx, 1, true);
}

int iz__pg_each(iz_pg_t *pg, const char *sql, const iz_sq_arg_t *args, iz_pg_each_fn fn, void *ctx)
{
    return walk(pg, sql, args, fn, ctx, INT32_MAX, false);
}

int iz__pg_stream(iz_pg_t *pg, const char *sql, const iz_sq_arg_t *args, iz_pg_each_fn fn,
                  void *ctx)
{
    iz__pg_lock(pg);
    int rc = 0;
    const pg_cached_t *st = stmt_get(pg, sql, false, &rc);
    if (st) rc = bind_args(pg, st, args);
    if (st && rc == 0) {
        if (!PQsendQueryPrepared(pg->conn, st->name, st->nparams, pg->values, pg->lengths,
                                 pg->formats, 1)) {
            rc = pg_fail(pg, NULL, sql);
        } else {
            if (!PQsetSingleRowMode(pg->conn))
                iz_logf(IZ_LOG_WARN, pg->who, "rows read whole, not one at a time", "op=%s", sql);
            char(*num)[24] = NULL;
            /* Every result is read to the end, even after fn stopped the
             * walk or a failure: the connection is busy until then. */
            for (PGresult *r; (r = PQgetResult(pg->conn)) != NULL; PQclear(r)) {
                ExecStatusType t = PQresultStatus(r);
                if (t == PGRES_SINGLE_TUPLE || t == PGRES_TUPLES_OK) {
                    if (!num) num = iz_xcalloc((size_t)PQnfields(r) + 1, sizeof *num);
                    for (int i = 0; rc == 0 && fn && i < PQntuples(r); i++)
                        rc = fn(ctx, &(iz_pg_row_t){r, i, num});
                } else if (t != PGRES_COMMAND_OK && rc == 0) {
                    rc = pg_fail(pg, r, sql);
                }
            }
            free(num);
        }
    }
    iz__pg_unlock(pg);
    return rc;
}

int iz__pg_copy(iz_pg_t *pg, const char *sql, const char *data, size_t len)
{
    iz__pg_lock(pg);
    int rc = 0;
    PGresult *res = PQexec(pg->conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        rc = pg_fail(pg, res, sql);
        PQclear(res);
        iz__pg_unlock(pg);
        return rc;
    }
    PQclear(res);
    if (len > INT32_MAX || PQputCopyData(pg->conn, data, (int)len) != 1) rc = IZ_EIO;
    if (PQputCopyEnd(pg->conn, rc ? "izin: cannot send the rows" : NULL) != 1 && rc == 0)
        rc = IZ_EIO;
    for (PGresult *r; (r = PQgetResult(pg->conn)) != NULL; PQclear(r))
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0) rc = pg_fail(pg, r, sql);
    iz__pg_unlock(pg);
    return rc;
}

int iz__pg_insert(iz_pg_t *pg, const char *sql, const iz_sq_arg_t *args, int64_t *id)
{
    PGresult *res = NULL;
    iz__pg_lock(pg);
    int rc = run(pg, sql, true, args, &res);
    iz__pg_unlock(pg);
    if (rc != 0) return rc;
    if (PQntuples(res) != 1) {
        iz_logf(IZ_LOG_ERROR, pg->who, "insert returned no id", "op=%s", sql);
        rc = IZ_EIO;
    } else {
        char(*num)[24] = iz_xcalloc(2, sizeof *num);
        *id = iz_pg_row_i64(&(iz_pg_row_t){res, 0, num}, 0);
        free(num);
    }
    PQclear(res);
    return rc;
}

int iz__pg_tx_state(iz_pg_t *pg)
{
    iz__pg_lock(pg);
    PGTransactionStatusType t = PQtransactionStatus(pg->conn);
    iz__pg_unlock(pg);
    return t == PQTRANS_INTRANS ? 1 : t == PQTRANS_INERROR ? 2 : 0;
}

/* ---- batches of a cursor ------------------------------------------------- */

struct iz_pg_batch {
    PGresult *res;
    char (*num)[24];
    iz_pg_row_t row;
};

int iz__pg_fetch(iz_pg_t *pg, const char *sql, iz_pg_batch_t **out)
{
    *out = NULL;
    iz__pg_lock(pg);
    PGresult *res = PQexecParams(pg->conn, sql, 0, NULL, NULL, NULL, NULL, 1);
    ExecStatusType s = PQresultStatus(res);
    int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? 0 : pg_fail(pg, res, sql);
    iz__pg_unlock(pg);
    if (rc != 0) {
        PQclear(res);
        return rc;
    }
    iz_pg_batch_t *b = iz_xcalloc(1, sizeof *b);
    b->res = res;
    b->num = iz_xcalloc((size_t)PQnfields(res) + 1, sizeof *b->num);
    *out = b;
    return 0;
}

size_t iz__pg_batch_rows(const iz_pg_batch_t *b)
{
    return b ? (size_t)PQntuples(b->res) : 0;
}

const iz_pg_row_t *iz__pg_batch_row(iz_pg_batch_t *b, size_t i)
{
    b->row = (iz_pg_row_t){b->res, (int)i, b->num};
    return &b->row;
}

void iz__pg_batch_free(iz_pg_batch_t *b)
{
    if (!b) return;
    PQclear(b->res);
    free(b->num);
    free(b);
}

/* ---- reading a row ------------------------------------------------------ */

static bool absent(const iz_pg_row_t *row, int col)
{
    return col < 0 || col >= PQnfields(row->res) || PQgetisnull(row->res, row->row, col);
}

bool iz_pg_row_null(const iz_pg_row_t *row, int col)
{
    return absent(row, col);
}

static uint64_t get_be(const unsigned char *b, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | b[i];
    return v;
}

/* The integer part of a binary numeric (sum() of int8 answers one):
 * ndigits, weight, sign, dscale (int16 each), then ndigits base-10000
 * digits, the first one's weight given. */
static int64_t numeric_i64(const unsigned char *b, int len)
{
    if (len < 8) return 0;
    int nd = (int16_t)get_be(b, 2), weight = (int16_t)get_be(b + 2, 2);
    unsigned sign = (unsigned)get_be(b + 4, 2);
    if (nd < 0 || len < 8 + 2 * nd) return 0;
    int64_t v = 0;
    for (int i = 0; i <= weight; i++)
        v = v * 10000 + (i < nd ? (int64_t)get_be(b + 8 + 2 * i, 2) : 0);
    return sign == 0x4000 ? -v : v;
}

int64_t iz_pg_row_i64(const iz_pg_row_t *row, int col)
{
    if (absent(row, col)) return 0;
    const unsigned char *b = (const unsigned char *)PQgetvalue(row->res, row->row, col);
    int len = PQgetlength(row->res, row->row, col);
    Oid type = PQftype(row->res, col);
    if (PQfformat(row->res, col) == 0) {
        /* A text result (iz__pg_script's): the server's decimal. */
        if (type == OID_BOOL) return b[0] == 't';
        return strtoll((const char *)b, NULL, 10);
    }
    switch (type) {
    case OID_INT8:
        return len == 8 ? (int64_t)get_be(b, 8) : 0;
    case OID_INT4:
        return len == 4 ? (int32_t)(uint32_t)get_be(b, 4) : 0;
    case OID_INT2:
        return len == 2 ? (int16_t)(uint16_t)get_be(b, 2) : 0;
    case OID_OID:
        return len == 4 ? (int64_t)get_be(b, 4) : 0;
    case OID_BOOL:
        return len == 1 ? b[0] != 0 : 0;
    case OID_NUMERIC:
        return numeric_i64(b, len);
    case OID_TEXT:
    case OID_VARCHAR: {
        /* SQLite reads an integer from text that holds one; so does this. */
        char t[24];
        if (len <= 0 || len >= (int)sizeof t) return 0;
        memcpy(t, b, (size_t)len);
        t[len] = '\0';
        return strtoll(t, NULL, 10);
    }
    default:
        return 0;
    }
}

int iz_pg_row_int(const iz_pg_row_t *row, int col)
{
    int64_t v = iz_pg_row_i64(row, col);
    return v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : (int)v;
}

const char *iz_pg_row_text(const iz_pg_row_t *row, int col)
{
    if (absent(row, col)) return NULL;
    switch (PQfformat(row->res, col) ? PQftype(row->res, col) : OID_TEXT) {
    case OID_INT8:
    case OID_INT4:
    case OID_INT2:
    case OID_OID:
    case OID_BOOL:
    case OID_NUMERIC:
        /* As SQLite reads an integer column as text: its decimal. */
        if (!row->num) return "";
        (void)snprintf(row->num[col], sizeof row->num[col], "%" PRId64, iz_pg_row_i64(row, col));
        return row->num[col];
    default:
        return PQgetvalue(row->res, row->row, col);
    }
}

const void *iz_pg_row_blob(const iz_pg_row_t *row, int col)
{
    return absent(row, col) ? NULL : PQgetvalue(row->res, row->row, col);
}

size_t iz_pg_row_bytes(const iz_pg_row_t *row, int col)
{
    return absent(row, col) ? 0 : (size_t)PQgetlength(row->res, row->row, col);
}

/* ---- notifications ---------------------------------------------------- */

int iz__pg_wait(iz_pg_t *pg, int timeout_ms, bool *heard)
{
    *heard = false;
    iz__pg_lock(pg);
    int rc = 0;
    /* What arrived with earlier results first. */
    for (PGnotify *n; (n = PQnotifies(pg->conn)) != NULL; PQfreemem(n))
        *heard = true;
    int fd = PQsocket(pg->conn);
    iz__pg_unlock(pg);
    if (*heard) return 0;
    if (fd < 0) return IZ_EBUSY;
    /* Waited for without the lock: the socket is read only here, and by
     * PQconsumeInput below under the lock. */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno != EINTR) return IZ_EIO;
    iz__pg_lock(pg);
    if (r > 0 && !PQconsumeInput(pg->conn)) {
        iz_logf(IZ_LOG_WARN, pg->who, "database connection lost", "op=%s", "wait");
        rc = IZ_EBUSY;
    }
    for (PGnotify *n; rc == 0 && (n = PQnotifies(pg->conn)) != NULL; PQfreemem(n))
        *heard = true;
    if (rc == 0 && PQstatus(pg->conn) == CONNECTION_BAD) rc = IZ_EBUSY;
    iz__pg_unlock(pg);
    return rc;
}

/* ---- advisory locks ----------------------------------------------------- */

static int read_flag(void *ctx, const iz_pg_row_t *row)
{
    *(bool *)ctx = iz_pg_row_i64(row, 0) != 0;
    return 0;
}

int iz__pg_try_lock(iz_pg_t *pg, int64_t key, bool *got)
{
    *got = false;
    return iz__pg_get(pg, "SELECT pg_try_advisory_lock(?1::int8)", IZ_SQ_ARGS(IZ_SQ_I64(key)),
                      read_flag, got);
}

int iz__pg_unlock_key(iz_pg_t *pg, int64_t key)
{
    bool held = false;
    int rc = iz__pg_get(pg, "SELECT pg_advisory_unlock(?1::int8)", IZ_SQ_ARGS(IZ_SQ_I64(key)),
                        read_flag, &held);
    return rc ? rc : held ? 0 : IZ_ENOTFOUND;
}

uint64_t iz__pg_session(iz_pg_t *pg)
{
    iz__pg_lock(pg);
    uint64_t s = pg->session;
    iz__pg_unlock(pg);
    return s;
}

uint64_t iz__pg_prepares(iz_pg_t *pg)
{
    iz__pg_lock(pg);
    uint64_t n = pg->prepares;
    iz__pg_unlock(pg);
    return n;
}
