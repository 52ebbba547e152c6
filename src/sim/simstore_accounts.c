/*
 * simstore_accounts.c - the accounts part of the emulator's store: a
 * provider's HS subscription beyond its state and quota, its ViA and ViA
 * PASS subscriptions, integrators (iş ortakları) with their subscription,
 * the brands providers authorized them for, the per-brand consent counts
 * of the brand listing, and the token signing key (schema v4 at the top of
 * simstore.h). Integrators' passwords and the login are in simstore.c, next
 * to the providers' (one password scheme).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "core/iz.h"
#include "sys/crypto.h"
#include "sim/simstore.h"
#include "sim/simstore_int.h"

#define SA_KEY_MAX 64 /* bytes of the signing key */
#define SA_ID_MAX 64
#define SA_NAME_MAX 128

iz_right_t iz_sim_grant_right(const iz_sim_grant_t *g, iz_type_t type)
{
    switch (type) {
    case IZ_MESAJ:
        return g->mesaj;
    case IZ_ARAMA:
        return g->arama;
    case IZ_EPOSTA:
        return g->eposta;
    default:
        return IZ_RIGHT_NONE;
    }
}

/* A subscription's text fields must fit their buffers on the way back. */
static int subinfo_check(const iz_sim_subinfo_t *s, bool none_ok)
{
    if (iz__sq_fits(s->id, SA_ID_MAX) || iz__sq_fits(s->package, SA_NAME_MAX)) return IZ_ETOOBIG;
    if (!iz_sub_name(s->status) || (!none_ok && s->status == IZ_SUB_NONE)) return IZ_EINVAL;
    return 0;
}

/* ---- the HS subscription ---------------------------------------------------- */

int iz_sim_hs_set(iz_sim_store_t *st, int64_t iys_code, const iz_sim_subinfo_t *hs, int64_t quota,
                  bool limit_exceed, bool api_access)
{
    if (!st || !hs || quota < 0) return IZ_EINVAL;
    int rc = subinfo_check(hs, true);
    if (rc != 0) return rc;
    return iz__sq_update(
        iz__sim_store_sq(st),
        "UPDATE providers SET subscription = ?2, quota = ?3, limit_exceed = ?4, api_access = ?5,"
        " sub_id = ?6, sub_package = ?7, sub_start = ?8, sub_end = ?9 WHERE iys_code = ?1",
        IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_TEXT(iz_sub_name(hs->status)), IZ_SQ_I64(quota),
                   IZ_SQ_I64(limit_exceed), IZ_SQ_I64(api_access), IZ_SQ_OPT(hs->id),
                   IZ_SQ_OPT(hs->package), IZ_SQ_OPT_I64(hs->start), IZ_SQ_OPT_I64(hs->end)));
}

int iz_sim_provider_used(iz_sim_store_t *st, int64_t iys_code, int64_t *used)
{
    if (!st || !used) return IZ_EINVAL;
    *used = 0;
    int rc =
        iz__sq_get(iz__sim_store_sq(st), "SELECT records FROM provider_records WHERE iys_code = ?1",
                   IZ_SQ_ARGS(IZ_SQ_I64(iys_code)), &iz__sq_i64_row, used);
    return rc == IZ_ENOTFOUND ? 0 : rc;
}

/* ---- ViA and ViA PASS ---------------------------------------------------------- */

static const char *product_name(bool pass)
{
    return pass ? "VIA_PASS" : "VIA";
}

int iz_sim_via_set(iz_sim_store_t *st, int64_t iys_code, bool pass, const iz_sim_via_t *v)
{
    if (!st) return IZ_EINVAL;
    iz_sq_t *q = iz__sim_store_sq(st);
    if (!v)
        return iz__sq_run(q,
                          "DELETE FROM product_subscriptions WHERE iys_code = ?1 AND product = ?2",
                          IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_TEXT(product_name(pass))));
    int rc = subinfo_check(&v->sub, false);
    if (rc != 0) return rc;
    if (v->credit < -1) return IZ_EINVAL;
    /* A ViA subscription always has an id and a package name (İYS shows
     * both); the caller fills them. */
    if (!v->sub.id[0] || !v->sub.package[0]) return IZ_EINVAL;
    int64_t created = v->created ? v->created : (int64_t)time(NULL);
    return iz__sq_write(
        q,
        "INSERT INTO product_subscriptions(iys_code, product, sub_id, package, status, sub_start,"
        " sub_end, credit, limited, auto_renewal, created)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        " ON CONFLICT(iys_code, product) DO UPDATE SET sub_id = excluded.sub_id,"
        " package = excluded.package, status = excluded.status, sub_start = excluded.sub_start,"
        " sub_end = excluded.sub_end, credit = excluded.credit, limited = excluded.limited,"
        " auto_renewal = excluded.auto_renewal, created = excluded.created",
        IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_TEXT(product_name(pass)), IZ_SQ_TEXT(v->sub.id),
                   IZ_SQ_TEXT(v->sub.package), IZ_SQ_TEXT(iz_sub_name(v->sub.status)),
                   IZ_SQ_I64(v->sub.start), IZ_SQ_I64(v->sub.end), IZ_SQ_I64(v->credit),
                   IZ_SQ_I64(v->limited), IZ_SQ_I64(v->auto_renewal), IZ_SQ_I64(created)),
        NULL);
}

static void via_read(const iz_row_t *row, void *out)
{
    iz_sim_via_t *v = out;
    const char *t;
    memset(v, 0, sizeof *v);
    t = iz_row_text(row, 0);
    v->pass = t && strcmp(t, "VIA_PASS") == 0;
    iz_row_str(row, 1, v->sub.id, sizeof v->sub.id);
    iz_row_str(row, 2, v->sub.package, sizeof v->sub.package);
    if ((t = iz_row_text(row, 3))) (void)iz_sub_parse(t, &v->sub.status);
    v->sub.start = iz_row_i64(row, 4);
    v->sub.end = iz_row_i64(row, 5);
    v->credit = iz_row_i64(row, 6);
    v->limited = iz_row_i64(row, 7) != 0;
    v->auto_renewal = iz_row_i64(row, 8) != 0;
    v->created = iz_row_i64(row, 9);
}

int iz_sim_via_get(iz_sim_store_t *st, int64_t iys_code, bool pass, iz_sim_via_t *out)
{
    static const iz_sq_row_t via_row = IZ_SQ_ROW(iz_sim_via_t, via_read);
    if (!st || !out) return IZ_EINVAL;
    return iz__sq_get(iz__sim_store_sq(st),
                      "SELECT product, sub_id, package,"
                      " CASE WHEN status = 'ACTIVE' AND sub_end > 0"
                      "  AND sub_end < CAST(strftime('%s', 'now') AS INTEGER) THEN 'EXPIRED'"
                      "  ELSE status END,"
                      " sub_start, sub_end, credit, limited, auto_renewal, created"
                      " FROM product_subscriptions WHERE iys_code = ?1 AND product = ?2",
                      IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_TEXT(product_name(pass))), &via_row,
                      out);
}

int iz_sim_via_take(iz_sim_store_t *st, int64_t iys_code, int64_t n)
{
    if (!st || n < 0) return IZ_EINVAL;
    int rc =
        iz__sq_update(iz__sim_store_sq(st),
                      "UPDATE product_subscriptions"
                      " SET credit = CASE WHEN credit < 0 THEN credit ELSE credit - ?2 END"
                      " WHERE iys_code = ?1 AND product = 'VIA' AND (credit < 0 OR credit >= ?2)",
                      IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_I64(n)));
    return rc == IZ_ENOTFOUND ? IZ_ERULE : rc;
}

/* ---- integrators ------------------------------------------------------------ */

#define IG_COLS                                                                                    \
    "code, name, username, subscription, sub_id, sub_package, sub_start, sub_end, created"

static void integrator_read(const iz_row_t *row, void *out)
{
    iz_sim_integrator_t *ig = out;
    const char *t;
    memset(ig, 0, sizeof *ig);
    ig->code = iz_row_i64(row, 0);
    iz_row_str(row, 1, ig->name, sizeof ig->name);
    iz_row_str(row, 2, ig->username, sizeof ig->username);
    if ((t = iz_row_text(row, 3))) (void)iz_sub_parse(t, &ig->sub.status);
    iz_row_str(row, 4, ig->sub.id, sizeof ig->sub.id);
    iz_row_str(row, 5, ig->sub.package, sizeof ig->sub.package);
    ig->sub.start = iz_row_i64(row, 6);
    ig->sub.end = iz_row_i64(row, 7);
    ig->created = iz_row_i64(row, 8);
}

static const iz_sq_row_t integrator_row = IZ_SQ_ROW(iz_sim_integrator_t, integrator_read);

int iz_sim_integrator_get(iz_sim_store_t *st, int64_t code, iz_sim_integrator_t *out)
{
    if (!st || !out) return IZ_EINVAL;
    return iz__sq_get(iz__sim_store_sq(st), "SELECT " IG_COLS " FROM integrators WHERE code = ?1",
                      IZ_SQ_ARGS(IZ_SQ_I64(code)), &integrator_row, out);
}

int iz_sim_integrator_list(iz_sim_store_t *st, iz_sim_integrator_t **list, size_t *n)
{
    if (!st || !list || !n) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    return iz__sq_list(iz__sim_store_sq(st), "SELECT " IG_COLS " FROM integrators ORDER BY code",
                       NULL, &integrator_row, list, n);
}

int iz_sim_integrator_sub_set(iz_sim_store_t *st, int64_t code, const iz_sim_subinfo_t *sub)
{
    if (!st || !sub) return IZ_EINVAL;
    int rc = subinfo_check(sub, true);
    if (rc != 0) return rc;
    return iz__sq_update(iz__sim_store_sq(st),
                         "UPDATE integrators SET subscription = ?2, sub_id = ?3, sub_package = ?4,"
                         " sub_start = ?5, sub_end = ?6 WHERE code = ?1",
                         IZ_SQ_ARGS(IZ_SQ_I64(code), IZ_SQ_TEXT(iz_sub_name(sub->status)),
                                    IZ_SQ_OPT(sub->id), IZ_SQ_OPT(sub->package),
                                    IZ_SQ_OPT_I64(sub->start), IZ_SQ_OPT_I64(sub->end)));
}

/* ---- grants ------------------------------------------------------------------ */

int iz_sim_grant_set(iz_sim_store_t *st, const iz_sim_grant_t *g)
{
    if (!st || !g) return IZ_EINVAL;
    return iz__sq_write(
        iz__sim_store_sq(st),
        "INSERT INTO integrator_brands(integrator_code, iys_code, brand_code, mesaj, arama, eposta,"
        " agreement, via) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        " ON CONFLICT(integrator_code, iys_code, brand_code) DO UPDATE SET"
        " mesaj = excluded.mesaj, arama = excluded.arama, eposta = excluded.eposta,"
        " agreement = excluded.agreement, via = excluded.via",
        IZ_SQ_ARGS(IZ_SQ_I64(g->integrator_code), IZ_SQ_I64(g->iys_code), IZ_SQ_I64(g->brand_code),
                   IZ_SQ_TEXT(iz_right_name(g->mesaj)), IZ_SQ_TEXT(iz_right_name(g->arama)),
                   IZ_SQ_TEXT(iz_right_name(g->eposta)), IZ_SQ_I64(g->agreement),
                   IZ_SQ_I64(g->via)),
        NULL);
}

int iz_sim_grant_delete(iz_sim_store_t *st, int64_t integrator_code, int64_t iys_code,
                        int64_t brand_code)
{
    if (!st) return IZ_EINVAL;
    /* An update statement's "no row changed" is the IZ_ENOTFOUND wanted. */
    return iz__sq_update(
        iz__sim_store_sq(st),
        "DELETE FROM integrator_brands WHERE integrator_code = ?1"
        " AND iys_code = ?2 AND brand_code = ?3",
        IZ_SQ_ARGS(IZ_SQ_I64(integrator_code), IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code)));
}

/* The main brand is the provider's lowest brandCode (docs/IYS-EMULATOR.md). */
#define GRANT_SELECT                                                                               \
    "SELECT g.integrator_code, g.iys_code, g.brand_code, g.mesaj, g.arama, g.eposta,"              \
    " g.agreement, g.via, b.name, p.name,"                                                         \
    " g.brand_code = (SELECT min(brand_code) FROM brands m WHERE m.iys_code = g.iys_code)"         \
    " FROM integrator_brands g"                                                                    \
    " JOIN brands b ON b.iys_code = g.iys_code AND b.brand_code = g.brand_code"                    \
    " JOIN providers p ON p.iys_code = g.iys_code"

static void grant_read(const iz_row_t *row, void *out)
{
    iz_sim_grant_t *g = out;
    memset(g, 0, sizeof *g);
    g->integrator_code = iz_row_i64(row, 0);
    g->iys_code = iz_row_i64(row, 1);
    g->brand_code = iz_row_i64(row, 2);
    g->mesaj = iz_right_parse(iz_row_text(row, 3));
    g->arama = iz_right_parse(iz_row_text(row, 4));
    g->eposta = iz_right_parse(iz_row_text(row, 5));
    g->agreement = iz_row_i64(row, 6) != 0;
    g->via = iz_row_i64(row, 7) != 0;
    iz_row_str(row, 8, g->brand_name, sizeof g->brand_name);
    iz_row_str(row, 9, g->provider_name, sizeof g->provider_name);
    g->master = iz_row_i64(row, 10) != 0;
}

static const iz_sq_row_t grant_row = IZ_SQ_ROW(iz_sim_grant_t, grant_read);

int iz_sim_grant_get(iz_sim_store_t *st, int64_t integrator_code, int64_t iys_code,
                     int64_t brand_code, iz_sim_grant_t *out)
{
    if (!st || !out) return IZ_EINVAL;
    return iz__sq_get(
        iz__sim_store_sq(st),
        GRANT_SELECT " WHERE g.integrator_code = ?1 AND g.iys_code = ?2"
                     " AND g.brand_code = ?3",
        IZ_SQ_ARGS(IZ_SQ_I64(integrator_code), IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code)),
        &grant_row, out);
}

/* The page and its total are read in one snapshot. */
int iz_sim_grant_list(iz_sim_store_t *st, int64_t integrator_code, int64_t iys_code, int64_t offset,
                      int64_t limit, iz_sim_grant_t **list, size_t *n, int64_t *total)
{
    if (!st || !list || !n || offset < 0 || limit < 0) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    iz_sq_t *q = iz__sim_store_sq(st);
    int rc = iz__sq_begin_read(q);
    if (rc == 0 && total)
        rc = iz__sq_get(q,
                        "SELECT count(*) FROM integrator_brands"
                        " WHERE (?1 = 0 OR integrator_code = ?1) AND (?2 = 0 OR iys_code = ?2)",
                        IZ_SQ_ARGS(IZ_SQ_I64(integrator_code), IZ_SQ_I64(iys_code)),
                        &iz__sq_i64_row, total);
    if (rc == 0)
        rc = iz__sq_list(q,
                         GRANT_SELECT " WHERE (?1 = 0 OR g.integrator_code = ?1)"
                                      " AND (?2 = 0 OR g.iys_code = ?2)"
                                      " ORDER BY g.iys_code, g.brand_code, g.integrator_code"
                                      " LIMIT ?4 OFFSET ?3",
                         IZ_SQ_ARGS(IZ_SQ_I64(integrator_code), IZ_SQ_I64(iys_code),
                                    IZ_SQ_I64(offset), IZ_SQ_I64(limit)),
                         &grant_row, list, n);
    return iz__sq_end(q, rc);
}

/* ---- the brand listing's counts ---------------------------------------------- */

static void brand_stats_read(const iz_row_t *row, void *out)
{
    iz_sim_brand_stats_t *b = out;
    b->brand_code = iz_row_i64(row, 0);
    iz_row_str(row, 1, b->name, sizeof b->name);
    b->approval = iz_row_i64(row, 2);
    b->rejection = iz_row_i64(row, 3);
    b->total = iz_row_i64(row, 4);
    b->retailers = iz_row_i64(row, 5);
}

/* consent_state is keyed recipient first, so the counts are one walk of
 * the table (grouped once, then joined to the brands); the brand listing is an occasional call, and
 * a token's brands are read without them. */
int iz_sim_brand_stats(iz_sim_store_t *st, int64_t iys_code, bool counts,
                       iz_sim_brand_stats_t **list, size_t *n)
{
    static const iz_sq_row_t brand_stats_row = IZ_SQ_ROW(iz_sim_brand_stats_t, brand_stats_read);
    if (!st || !list || !n) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    if (!counts)
        return iz__sq_list(iz__sim_store_sq(st),
                           "SELECT brand_code, name, 0, 0, 0, 0 FROM brands WHERE iys_code = ?1"
                           " ORDER BY brand_code",
                           IZ_SQ_ARGS(IZ_SQ_I64(iys_code)), &brand_stats_row, list, n);
    return iz__sq_list(iz__sim_store_sq(st),
                       "SELECT b.brand_code, b.name, coalesce(c.a, 0), coalesce(c.r, 0),"
                       " coalesce(c.t, 0), (SELECT count(*) FROM retailers t"
                       "  WHERE t.iys_code = ?1 AND t.brand_code = b.brand_code)"
                       " FROM brands b LEFT JOIN"
                       " (SELECT brand_code, sum(status = 'ONAY') AS a, sum(status = 'RET') AS r,"
                       "  count(*) AS t FROM consent_state WHERE iys_code = ?1"
                       "  GROUP BY brand_code) c ON c.brand_code = b.brand_code"
                       " WHERE b.iys_code = ?1 ORDER BY b.brand_code",
                       IZ_SQ_ARGS(IZ_SQ_I64(iys_code)), &brand_stats_row, list, n);
}

/* ---- the signing key ------------------------------------------------------------ */

/* The first caller's random key wins (INSERT OR IGNORE), so two emulators
 * opening one new store agree on it. */
int iz_sim_signing_key(iz_sim_store_t *st, uint8_t *key, size_t n)
{
    if (!st || !key || n == 0 || n > SA_KEY_MAX) return IZ_EINVAL;
    uint8_t fresh[SA_KEY_MAX];
    char hex[2 * SA_KEY_MAX + 1];
    if (iz_random(fresh, n) != 0) return IZ_EIO;
    iz_hex(fresh, n, hex);
    iz_wipe(fresh, sizeof fresh);
    iz_sq_t *q = iz__sim_store_sq(st);
    int rc = iz__sq_run(q, "INSERT OR IGNORE INTO meta(key, value) VALUES('jwt_key', ?1)",
                        IZ_SQ_ARGS(IZ_SQ_TEXT(hex)));
    if (rc == 0)
        rc = iz__sq_get_text(q, "SELECT value FROM meta WHERE key = 'jwt_key'", NULL, hex,
                             sizeof hex);
    if (rc == 0 && strlen(hex) != 2 * n) rc = IZ_EIO;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) rc = IZ_EIO;
        key[i] = (uint8_t)v;
    }
    iz_wipe(hex, sizeof hex);
    return rc;
}
