/*
 * viastore.c - the via_* tables of the emulator's store (viastore.h): one
 * statement a call, on simstore.c's connection, so that each call is
 * serialized with the others and joins a batch the thread holds (a
 * process's completion writes its state, its messages and its consents in
 * one).
 */
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "sim/viastore.h"
#include "store/sqlite_util.h"

static int body_ok(const char *body)
{
    if (!body) return IZ_EINVAL;
    return strnlen(body, IZ_VIA_BODY_MAX + 1) > IZ_VIA_BODY_MAX ? IZ_ETOOBIG : 0;
}

/* ---- a growing list of strings ------------------------------------------------ */

typedef struct str_list {
    char **v;
    size_t n, cap;
} str_list_t;

static int collect_text(void *ctx, const iz_row_t *row)
{
    str_list_t *l = ctx;
    const char *t = iz_row_text(row, 0);
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->v = iz_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = iz_xstrdup(t ? t : "");
    return 0;
}

void iz_sim_via_strings_free(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

/* Run a one-text-column query into *list / *n. */
static int text_list(iz_sim_store_t *st, const char *sql, const iz_sq_arg_t *args, char ***list,
                     size_t *n)
{
    str_list_t l = {0};
    int rc = iz__sq_each(iz__sim_store_sq(st), sql, args, collect_text, &l);
    if (rc != 0) {
        iz_sim_via_strings_free(l.v, l.n);
        return rc;
    }
    *list = l.v;
    *n = l.n;
    return 0;
}

/* One stored row: an integer column and a JSON body. */
typedef struct sub_row {
    int64_t credit;
    char *body;
} sub_row_t;

static void sub_read(const iz_row_t *row, void *out)
{
    sub_row_t *s = out;
    const char *t = iz_row_text(row, 1);
    s->credit = iz_row_i64(row, 0);
    s->body = iz_xstrdup(t ? t : "{}");
}

/* ---- forms, templates, widgets ------------------------------------------------ */

int iz_sim_via_config_put(iz_sim_store_t *st, const char *kind, const char *id, int64_t iys_code,
                          const char *body)
{
    int rc = body_ok(body);
    if (rc != 0 || !kind || !id) return rc ? rc : IZ_EINVAL;
    return iz__sq_run(
        iz__sim_store_sq(st),
        "INSERT INTO via_config(kind, id, iys_code, body) VALUES(?1, ?2, ?3, ?4)"
        " ON CONFLICT(kind, id) DO UPDATE SET iys_code = excluded.iys_code,"
        " body = excluded.body",
        IZ_SQ_ARGS(IZ_SQ_TEXT(kind), IZ_SQ_TEXT(id), IZ_SQ_I64(iys_code), IZ_SQ_TEXT(body)));
}

int iz_sim_via_config_get(iz_sim_store_t *st, const char *kind, const char *id, int64_t *iys_code,
                          char **body)
{
    static const iz_sq_row_t row = IZ_SQ_ROW_OWNING(sub_row_t, sub_read, body);
    sub_row_t s = {0};
    int rc = iz__sq_get(iz__sim_store_sq(st),
                        "SELECT iys_code, body FROM via_config WHERE kind = ?1 AND id = ?2",
                        IZ_SQ_ARGS(IZ_SQ_TEXT(kind), IZ_SQ_TEXT(id)), &row, &s);
    if (rc != 0) return rc;
    *iys_code = s.credit;
    *body = s.body;
    return 0;
}

/* ---- processes ------------------------------------------------------------------ */

static void req_read(const iz_row_t *row, void *out)
{
    iz_sim_via_req_t *q = out;
    const char *t = iz_row_text(row, 4);
    iz_row_str(row, 0, q->request_id, sizeof q->request_id);
    q->iys_code = iz_row_i64(row, 1);
    iz_row_str(row, 2, q->short_code, sizeof q->short_code);
    q->created = iz_row_i64(row, 3);
    q->body = iz_xstrdup(t ? t : "{}");
}

static const iz_sq_row_t req_row = IZ_SQ_ROW_OWNING(iz_sim_via_req_t, req_read, body);

int iz_sim_via_req_add(iz_sim_store_t *st, const iz_sim_via_req_t *req)
{
    int rc = body_ok(req->body);
    if (rc != 0) return rc;
    return iz__sq_write(iz__sim_store_sq(st),
                        "INSERT INTO via_requests(request_id, iys_code, short_code, created, body)"
                        " VALUES(?1, ?2, ?3, ?4, ?5)",
                        IZ_SQ_ARGS(IZ_SQ_TEXT(req->request_id), IZ_SQ_I64(req->iys_code),
                                   IZ_SQ_OPT(req->short_code), IZ_SQ_I64(req->created),
                                   IZ_SQ_TEXT(req->body)),
                        NULL);
}

int iz_sim_via_req_set(iz_sim_store_t *st, const char *request_id, const char *body)
{
    int rc = body_ok(body);
    if (rc != 0) return rc;
    return iz__sq_update(iz__sim_store_sq(st),
                         "UPDATE via_requests SET body = ?2 WHERE request_id = ?1",
                         IZ_SQ_ARGS(IZ_SQ_TEXT(request_id), IZ_SQ_TEXT(body)));
}

/* The process whose column (request_id or short_code, in sql) is key. */
static int req_query(iz_sim_store_t *st, const char *sql, const char *key, iz_sim_via_req_t *out)
{
    memset(out, 0, sizeof *out);
    return iz__sq_get(iz__sim_store_sq(st), sql, IZ_SQ_ARGS(IZ_SQ_TEXT(key)), &req_row, out);
}

#define REQ_SELECT "SELECT request_id, iys_code, short_code, created, body FROM via_requests"

int iz_sim_via_req_get(iz_sim_store_t *st, const char *request_id, iz_sim_via_req_t *out)
{
    return req_query(st, REQ_SELECT " WHERE request_id = ?1", request_id, out);
}

int iz_sim_via_req_by_short(iz_sim_store_t *st, const char *short_code, iz_sim_via_req_t *out)
{
    return req_query(st, REQ_SELECT " WHERE short_code = ?1", short_code, out);
}

/* ---- KVK consents --------------------------------------------------------------- */

int iz_sim_via_kvk_add(iz_sim_store_t *st, int64_t iys_code, const char *request_id,
                       const char *recipient, const char *type, const char *body)
{
    int rc = body_ok(body);
    if (rc != 0) return rc;
    return iz__sq_write(iz__sim_store_sq(st),
                        "INSERT INTO via_kvk(iys_code, request_id, recipient, type, body)"
                        " VALUES(?1, ?2, ?3, ?4, ?5)",
                        IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_TEXT(request_id),
                                   IZ_SQ_TEXT(recipient), IZ_SQ_TEXT(type), IZ_SQ_TEXT(body)),
                        NULL);
}

int iz_sim_via_kvk_of_request(iz_sim_store_t *st, const char *request_id, char ***list, size_t *n)
{
    return text_list(st, "SELECT body FROM via_kvk WHERE request_id = ?1 ORDER BY id",
                     IZ_SQ_ARGS(IZ_SQ_TEXT(request_id)), list, n);
}

int iz_sim_via_kvk_requests(iz_sim_store_t *st, int64_t iys_code, const char *recipient,
                            const char *type, char ***list, size_t *n)
{
    return text_list(st,
                     "SELECT request_id FROM via_kvk WHERE iys_code = ?1 AND recipient = ?2"
                     " AND type = ?3 ORDER BY id",
                     IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_TEXT(recipient), IZ_SQ_TEXT(type)), list,
                     n);
}

/* ---- messages İYS sent ---------------------------------------------------------- */

int iz_sim_via_message_add(iz_sim_store_t *st, const char *recipient, const char *request_id,
                           int64_t created, const char *body)
{
    int rc = body_ok(body);
    if (rc != 0) return rc;
    return iz__sq_write(iz__sim_store_sq(st),
                        "INSERT INTO via_messages(recipient, request_id, created, body)"
                        " VALUES(?1, ?2, ?3, ?4)",
                        IZ_SQ_ARGS(IZ_SQ_TEXT(recipient), IZ_SQ_TEXT(request_id),
                                   IZ_SQ_I64(created), IZ_SQ_TEXT(body)),
                        NULL);
}

int iz_sim_via_messages(iz_sim_store_t *st, const char *recipient, size_t limit, char ***list,
                        size_t *n)
{
    return text_list(st,
                     "SELECT body FROM via_messages WHERE recipient = ?1 ORDER BY id DESC"
                     " LIMIT ?2",
                     IZ_SQ_ARGS(IZ_SQ_TEXT(recipient), IZ_SQ_I64((int64_t)limit)), list, n);
}

/* ---- e-mail opt-out links ---------------------------------------------------------- */

int iz_sim_via_link_add(iz_sim_store_t *st, const iz_sim_via_link_t *l)
{
    return iz__sq_write(iz__sim_store_sq(st),
                        "INSERT INTO via_links(hash, iys_code, brand_code, recipient, rtype,"
                        " created, expires) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        IZ_SQ_ARGS(IZ_SQ_TEXT(l->hash), IZ_SQ_I64(l->iys_code),
                                   IZ_SQ_I64(l->brand_code), IZ_SQ_TEXT(l->recipient),
                                   IZ_SQ_TEXT(l->rtype), IZ_SQ_I64(l->created),
                                   IZ_SQ_I64(l->expires)),
                        NULL);
}

static void link_read(const iz_row_t *row, void *out)
{
    iz_sim_via_link_t *l = out;
    iz_row_str(row, 0, l->hash, sizeof l->hash);
    l->iys_code = iz_row_i64(row, 1);
    l->brand_code = iz_row_i64(row, 2);
    iz_row_str(row, 3, l->recipient, sizeof l->recipient);
    iz_row_str(row, 4, l->rtype, sizeof l->rtype);
    l->created = iz_row_i64(row, 5);
    l->expires = iz_row_i64(row, 6);
    l->used = iz_row_i64(row, 7);
}

int iz_sim_via_link_get(iz_sim_store_t *st, const char *hash, iz_sim_via_link_t *out)
{
    static const iz_sq_row_t row = IZ_SQ_ROW(iz_sim_via_link_t, link_read);
    return iz__sq_get(iz__sim_store_sq(st),
                      "SELECT hash, iys_code, brand_code, recipient, rtype, created, expires,"
                      " coalesce(used, 0) FROM via_links WHERE hash = ?1",
                      IZ_SQ_ARGS(IZ_SQ_TEXT(hash)), &row, out);
}

int iz_sim_via_link_use(iz_sim_store_t *st, const char *hash, int64_t t)
{
    return iz__sq_update(iz__sim_store_sq(st),
                         "UPDATE via_links SET used = ?2 WHERE hash = ?1 AND used IS NULL",
                         IZ_SQ_ARGS(IZ_SQ_TEXT(hash), IZ_SQ_I64(t)));
}

/* ---- widget nonces ---------------------------------------------------------------- */

int iz_sim_via_nonce_add(iz_sim_store_t *st, const char *nonce, const char *widget, int64_t expires)
{
    iz_sq_t *q = iz__sim_store_sq(st);
    /* Expired nonces go as new ones come: the table stays small. */
    int rc = iz__sq_run(q, "DELETE FROM via_nonces WHERE expires < ?1",
                        IZ_SQ_ARGS(IZ_SQ_I64(expires - 86400)));
    if (rc != 0) return rc;
    return iz__sq_write(q, "INSERT INTO via_nonces(nonce, widget, expires) VALUES(?1, ?2, ?3)",
                        IZ_SQ_ARGS(IZ_SQ_TEXT(nonce), IZ_SQ_TEXT(widget), IZ_SQ_I64(expires)),
                        NULL);
}

int iz_sim_via_nonce_bind(iz_sim_store_t *st, const char *nonce, const char *widget,
                          const char *csrf, int64_t now)
{
    return iz__sq_update(
        iz__sim_store_sq(st),
        "UPDATE via_nonces SET csrf = ?3"
        " WHERE nonce = ?1 AND widget = ?2 AND expires > ?4",
        IZ_SQ_ARGS(IZ_SQ_TEXT(nonce), IZ_SQ_TEXT(widget), IZ_SQ_TEXT(csrf), IZ_SQ_I64(now)));
}

int iz_sim_via_nonce_check(iz_sim_store_t *st, const char *nonce, const char *widget,
                           const char *csrf, int64_t now)
{
    return iz__sq_get(
        iz__sim_store_sq(st),
        "SELECT 1 FROM via_nonces WHERE nonce = ?1 AND widget = ?2 AND csrf = ?3"
        " AND expires > ?4",
        IZ_SQ_ARGS(IZ_SQ_TEXT(nonce), IZ_SQ_TEXT(widget), IZ_SQ_TEXT(csrf), IZ_SQ_I64(now)), NULL,
        NULL);
}
