/*
 * store.c - the storage front door: picks the backend from the location
 * string, checks the arguments of every public call and forwards it to the
 * backend's ops table (store_int.h). Also holds what all backends share:
 * the location parser, the secret key, the commit subscribers and the
 * consent log's hash function.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/content.h"
#include "core/iz.h"
#include "core/trtime.h"
#include "store/store_int.h"
#include "sys/crypto.h"
#include "sys/fs.h"

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The length of a URI scheme at the start of s ("postgresql" of
 * "postgresql:/x"), or 0 when s does not start with "scheme:". */
static size_t scheme_len(const char *s)
{
    size_t n = 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return 0;
    while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
           (s[n] >= '0' && s[n] <= '9') || s[n] == '+' || s[n] == '-' || s[n] == '.')
        n++;
    return s[n] == ':' ? n : 0;
}

/* Copy a formatted path into dst; IZ_ETOOBIG when it does not fit. */
static int put_path(char *dst, const char *a, const char *b)
{
    int n = snprintf(dst, IZ_PATH_MAX, "%s%s", a, b);
    return n < 0 || n >= IZ_PATH_MAX ? IZ_ETOOBIG : 0;
}

int iz_store_location_parse(const char *location, iz_store_loc_t *out, const char **err)
{
    const char *dummy;
    if (!err) err = &dummy;
    *err = NULL;
    memset(out, 0, sizeof *out);
    if (!location || !*location) {
        *err = "store location is empty";
        return IZ_EINVAL;
    }
    if (strnlen(location, IZ_PATH_MAX) >= IZ_PATH_MAX - 8) {
        *err = "store location is too long";
        return IZ_ETOOBIG;
    }
    for (const unsigned char *p = (const unsigned char *)location; *p; p++)
        if (*p < 0x20 || *p == 0x7F) {
            *err = "store location holds a control character";
            return IZ_EINVAL;
        }
    if (has_prefix(location, "postgres://") || has_prefix(location, "postgresql://")) {
        out->kind = IZ_STORE_POSTGRES;
        return put_path(out->db, location, "");
    }
    const char *file = NULL;
    if (has_prefix(location, "sqlite:"))
        file = location + strlen("sqlite:");
    else if (has_prefix(location, "file:"))
        file = location + strlen("file:");
    else if (scheme_len(location) > 0) {
        size_t sl = scheme_len(location);
        if ((sl == 8 && strncmp(location, "postgres", 8) == 0) ||
            (sl == 10 && strncmp(location, "postgresql", 10) == 0))
            /* Not the location itself: what follows the scheme may hold a
             * password ("postgresql:/u:pw@h"), and this message is logged. */
            *err = iz_errf("store location '%.*s:...': a PostgreSQL location is written "
                           "postgresql://user@host/db",
                           (int)sl, location);
        else
            *err = iz_errf("store location '%.*s:...': unknown scheme '%.*s:' (use a "
                           "directory, sqlite:PATH or postgresql://...; a directory whose "
                           "name has a colon is written ./NAME)",
                           (int)sl, location, (int)sl, location);
        return IZ_EINVAL;
    }
    int rc;
    if (file) {
        if (!*file || file[strlen(file) - 1] == '/') {
            *err = iz_errf("store location '%s' names no file", location);
            return IZ_EINVAL;
        }
        out->kind = IZ_STORE_SQLITE;
        if ((rc = put_path(out->db, file, "")) != 0) return rc;
        const char *slash = strrchr(file, '/');
        if (!slash)
            rc = put_path(out->dir, ".", "");
        else if (slash == file)
            rc = put_path(out->dir, "/", "");
        else
            rc = snprintf(out->dir, IZ_PATH_MAX, "%.*s", (int)(slash - file), file) < 0 ? IZ_EIO : 0;
    } else {
        /* A plain path is the data directory; the database is izin.db in it. */
        out->kind = IZ_STORE_DIR;
        rc = put_path(out->dir, location, "");
        if (rc == 0) rc = put_path(out->db, location, "/izin.db");
    }
    if (rc == 0) rc = put_path(out->key_file, out->db, ".key");
    if (rc != 0) *err = "store location is too long";
    return rc;
}

/* The key that seals the store's secrets: the given one, else the key
 * file beside the database (made on first use; *created says so). */
static int load_key(const iz_store_loc_t *loc, const iz_store_opts_t *opts, iz_seal_key_t *key,
                    bool *created, const char **err)
{
    *created = false;
    if (opts && opts->secret_key_hex) {
        if (iz_seal_key_parse(opts->secret_key_hex, key) != 0) {
            *err = "IZIN_SECRET_KEY must be 64 hex digits";
            return IZ_EINVAL;
        }
        return 0;
    }
    const char *why = NULL;
    int rc = iz_seal_key_load(loc->key_file, false, key, &why);
    if (rc == IZ_ENOTFOUND) {
        rc = iz_seal_key_load(loc->key_file, true, key, &why);
        *created = rc == 0;
    }
    if (rc != 0) *err = iz_errf("%s: %s", loc->key_file, why ? why : iz_strerror(rc));
    return rc;
}

int iz_store_open(const char *location, const iz_store_opts_t *opts, iz_store_t **out,
                  const char **err)
{
    const char *dummy;
    if (!err) err = &dummy;
    *err = NULL;
    if (!out) return IZ_EINVAL;
    *out = NULL;
    iz_store_loc_t *loc = iz_xmalloc(sizeof *loc);
    int rc = iz_store_location_parse(location, loc, err);
    if (rc == 0 && loc->kind == IZ_STORE_POSTGRES && !(opts && opts->secret_key_hex)) {
        /* No file beside the database to keep it in: every node of the
         * cluster is given the same key. */
        *err = "a PostgreSQL store needs its secret key in IZIN_SECRET_KEY (64 hex digits, "
               "the same on every node; `openssl rand -hex 32` makes one)";
        rc = IZ_EINVAL;
    }
    if (rc == 0 && loc->kind == IZ_STORE_DIR) rc = iz_mkdirs(loc->dir, err);
    iz_seal_key_t key;
    bool created = false;
    if (rc == 0) rc = load_key(loc, opts, &key, &created, err);
    if (rc == 0) {
        rc = iz__sqlite_open(loc->db, &key, out, err);
        if (rc != 0 && created) {
            /* A key made for a store that already holds secrets sealed
             * under another one: do not leave the wrong key behind. */
            unlink(loc->key_file);
            if (rc == IZ_ERULE)
                *err = iz_errf("the secret key file %s is missing: the stored secrets "
                               "cannot be opened without it (or set IZIN_SECRET_KEY)",
                               loc->key_file);
        }
        iz_seal_key_wipe(&key);
    }
    free(loc);
    return rc;
}

void iz_store_close(iz_store_t *st)
{
    if (st) st->ops->close(st);
}

int iz_store_schema_version(iz_store_t *st)
{
    return st ? st->ops->schema_version(st) : IZ_EINVAL;
}

int iz_store_ping(iz_store_t *st)
{
    return st ? st->ops->ping(st) : IZ_EINVAL;
}

int iz_store_account_add(iz_store_t *st, iz_account_t *a)
{
    return st && a ? st->ops->account_add(st, a) : IZ_EINVAL;
}

int iz_store_account_by_name(iz_store_t *st, const char *name, iz_account_t *out)
{
    return st && name && out ? st->ops->account_by_name(st, name, out) : IZ_EINVAL;
}

int iz_store_account_get(iz_store_t *st, int64_t id, iz_account_t *out)
{
    return st && out ? st->ops->account_get(st, id, out) : IZ_EINVAL;
}

int iz_store_brand_add(iz_store_t *st, iz_brand_t *b)
{
    return st && b ? st->ops->brand_add(st, b) : IZ_EINVAL;
}

int iz_store_brand_sms_get(iz_store_t *st, int64_t brand_id, iz_brand_sms_t *out)
{
    return st && out ? st->ops->brand_sms_get(st, brand_id, out) : IZ_EINVAL;
}

int iz_store_brand_update(iz_store_t *st, iz_brand_t *b, const iz_brand_sms_t *sms,
                          const char **conflict)
{
    const char *dummy;
    if (!conflict) conflict = &dummy;
    *conflict = NULL;
    if (!st || !b || !sms || sms->nkeywords > IZ_KEYWORDS_MAX) return IZ_EINVAL;
    atomic_fetch_add(&st->gen, 1);
    return st->ops->brand_update(st, b, sms, conflict);
}

int iz_store_brand_by_slug(iz_store_t *st, const char *slug, iz_brand_t *out)
{
    if (!st || !slug || !*slug || !out) return IZ_EINVAL;
    return st->ops->brand_by_slug(st, slug, out);
}

int iz_store_brand_info_get(iz_store_t *st, int64_t brand_id, char *out, size_t size)
{
    if (!st || !out || size < IZ_BRAND_INFO_MAX) return IZ_EINVAL;
    return st->ops->brand_info_get(st, brand_id, out, size);
}

int iz_store_brand_info_set(iz_store_t *st, int64_t brand_id, const char *text)
{
    if (!st || !text) return IZ_EINVAL;
    if (strlen(text) >= IZ_BRAND_INFO_MAX) return IZ_ETOOBIG;
    return st->ops->brand_info_set(st, brand_id, text);
}

int iz_store_brand_page_get(iz_store_t *st, int64_t brand_id, iz_brand_page_t *out)
{
    if (!st || !out) return IZ_EINVAL;
    return st->ops->brand_page_get(st, brand_id, out);
}

bool iz_brand_page_ok(const iz_brand_page_t *p)
{
    if (memchr(p->otp_template, 0, sizeof p->otp_template) == NULL ||
        memchr(p->vkn, 0, sizeof p->vkn) == NULL)
        return false;
    size_t v = strlen(p->vkn);
    if (v && (v < 10 || v > 11 || strspn(p->vkn, "0123456789") != v || p->vkn[0] == '0'))
        return false;
    for (const char *t = p->otp_template; *t; t++)
        if ((unsigned char)*t < ' ' || *t == 0x7f) return false;
    return !p->iys || (p->otp_template[0] && v);
}

int iz_store_brand_page_set(iz_store_t *st, int64_t brand_id, const iz_brand_page_t *p)
{
    if (!st || !p || !iz_brand_page_ok(p)) return IZ_EINVAL;
    return st->ops->brand_page_set(st, brand_id, p);
}

int iz_store_account_usage(iz_store_t *st, int64_t account_id, int64_t *records)
{
    if (!st || !records) return IZ_EINVAL;
    return st->ops->account_usage(st, account_id, records);
}

int iz_store_account_plan_set(iz_store_t *st, int64_t account_id, const char *plan)
{
    if (!st || !plan) return IZ_EINVAL;
    if (strlen(plan) >= sizeof((iz_account_t *)0)->plan) return IZ_ETOOBIG;
    return st->ops->account_plan_set(st, account_id, plan);
}

bool iz_brand_ident_ok(const iz_brand_ident_t *id)
{
    return id && iz_content_field_ok(id->trade_name, sizeof id->trade_name) &&
           iz_content_field_ok(id->tradesman, sizeof id->tradesman) &&
           iz_content_field_ok(id->contact, sizeof id->contact) &&
           (!id->mersis[0] || iz_content_mersis_ok(id->mersis));
}

int iz_store_brand_ident_get(iz_store_t *st, int64_t brand_id, iz_brand_ident_t *out)
{
    if (!st || !out) return IZ_EINVAL;
    return st->ops->brand_ident_get(st, brand_id, out);
}

int iz_store_brand_ident_set(iz_store_t *st, int64_t brand_id, const iz_brand_ident_t *id)
{
    if (!st || !iz_brand_ident_ok(id)) return IZ_EINVAL;
    return st->ops->brand_ident_set(st, brand_id, id);
}

int iz_store_brands_by_number(iz_store_t *st, const char *number, iz_brand_t **list,
                              iz_brand_sms_t **sms, size_t *n)
{
    if (!st || !number || !list || !sms || !n) return IZ_EINVAL;
    return st->ops->brands_by_number(st, number, list, sms, n);
}

int iz_store_inbound_get(iz_store_t *st, const char *gateway, const char *msg_id,
                         iz_inbound_t *out)
{
    if (!st || !gateway || !msg_id || !out) return IZ_EINVAL;
    return st->ops->inbound_get(st, gateway, msg_id, out);
}

int iz_store_inbound_add(iz_store_t *st, iz_inbound_t *in)
{
    if (!st || !in || !in->gateway[0] || !in->msg_id[0]) return IZ_EINVAL;
    return st->ops->inbound_add(st, in);
}

int iz_store_inbound_of_brand(iz_store_t *st, int64_t brand_id, size_t limit, iz_inbound_t **list,
                              size_t *n)
{
    if (!st || !list || !n) return IZ_EINVAL;
    return st->ops->inbound_of_brand(st, brand_id, limit, list, n);
}

int iz_store_brand_get(iz_store_t *st, int64_t account_id, int64_t code, iz_brand_t *out)
{
    return st && out ? st->ops->brand_get(st, account_id, code, out) : IZ_EINVAL;
}

int iz_store_key_add(iz_store_t *st, int64_t account_id, const char *hash_hex, const char *prefix)
{
    return st && hash_hex && prefix ? st->ops->key_add(st, account_id, hash_hex, prefix)
                                    : IZ_EINVAL;
}

int iz_store_key_create(iz_store_t *st, int64_t account_id, char key[IZ_KEY_LEN + 1])
{
    char hex[IZ_SHA256_HEX], prefix[9];
    int rc = iz_key_generate(key);
    if (rc != 0) return rc;
    iz_sha256_hex(key, strlen(key), hex);
    memcpy(prefix, key, 8);
    prefix[8] = '\0';
    rc = iz_store_key_add(st, account_id, hex, prefix);
    if (rc != 0) iz_wipe(key, IZ_KEY_LEN + 1);
    return rc;
}

int iz_store_key_lookup(iz_store_t *st, const char *hash_hex, int64_t *account_id)
{
    return st && hash_hex && account_id ? st->ops->key_lookup(st, hash_hex, account_id) : IZ_EINVAL;
}

int iz_store_key_revoke(iz_store_t *st, int64_t account_id, const char *hash_hex)
{
    if (!st || !hash_hex) return IZ_EINVAL;
    atomic_fetch_add(&st->gen, 1);
    return st->ops->key_revoke(st, account_id, hash_hex);
}

uint64_t iz_store_gen(iz_store_t *st)
{
    return st ? atomic_load(&st->gen) : 0;
}

int iz_store_keys_list(iz_store_t *st, int64_t account_id, iz_key_info_t **list, size_t *n)
{
    return st && list && n ? st->ops->keys_list(st, account_id, list, n) : IZ_EINVAL;
}

int iz_store_key_revoke_id(iz_store_t *st, int64_t account_id, int64_t key_id)
{
    if (!st) return IZ_EINVAL;
    atomic_fetch_add(&st->gen, 1);
    return st->ops->key_revoke_id(st, account_id, key_id);
}

int iz_store_brands_of(iz_store_t *st, int64_t account_id, iz_brand_t **list, size_t *n)
{
    return st && list && n ? st->ops->brands_of(st, account_id, list, n) : IZ_EINVAL;
}

int iz_store_user_add(iz_store_t *st, iz_user_t *u)
{
    return st && u ? st->ops->user_add(st, u) : IZ_EINVAL;
}

int iz_store_user_by_email(iz_store_t *st, const char *email, iz_user_t *out)
{
    return st && email && out ? st->ops->user_by_email(st, email, out) : IZ_EINVAL;
}

int iz_store_user_get(iz_store_t *st, int64_t id, iz_user_t *out)
{
    return st && out ? st->ops->user_get(st, id, out) : IZ_EINVAL;
}

int iz_store_users_of(iz_store_t *st, int64_t account_id, iz_user_t **list, size_t *n)
{
    return st && list && n ? st->ops->users_of(st, account_id, list, n) : IZ_EINVAL;
}

int iz_store_user_delete(iz_store_t *st, int64_t account_id, int64_t user_id)
{
    return st ? st->ops->user_delete(st, account_id, user_id) : IZ_EINVAL;
}

int iz_store_user_password_set(iz_store_t *st, int64_t user_id, const char *pwhash,
                               bool must_change, const char *keep_hash)
{
    return st && pwhash ? st->ops->user_password_set(st, user_id, pwhash, must_change, keep_hash)
                        : IZ_EINVAL;
}

int iz_store_session_add(iz_store_t *st, const char *hash_hex, int64_t user_id, int64_t now)
{
    return st && hash_hex ? st->ops->session_add(st, hash_hex, user_id, now) : IZ_EINVAL;
}

int iz_store_session_get(iz_store_t *st, const char *hash_hex, iz_session_t *out)
{
    return st && hash_hex && out ? st->ops->session_get(st, hash_hex, out) : IZ_EINVAL;
}

int iz_store_session_touch(iz_store_t *st, const char *hash_hex, int64_t now)
{
    return st && hash_hex ? st->ops->session_touch(st, hash_hex, now) : IZ_EINVAL;
}

int iz_store_session_delete(iz_store_t *st, const char *hash_hex)
{
    return st && hash_hex ? st->ops->session_delete(st, hash_hex) : IZ_EINVAL;
}

int iz_store_sessions_expire(iz_store_t *st, int64_t idle_before, int64_t abs_before, int64_t *n)
{
    return st ? st->ops->sessions_expire(st, idle_before, abs_before, n) : IZ_EINVAL;
}

int iz_store_login_fail_add(iz_store_t *st, const char *email, int64_t now)
{
    return st && email ? st->ops->login_fail_add(st, email, now) : IZ_EINVAL;
}

int iz_store_login_fails(iz_store_t *st, const char *email, int64_t *times, size_t max, size_t *n)
{
    return st && email && times && n ? st->ops->login_fails(st, email, times, max, n) : IZ_EINVAL;
}

int iz_store_stat_state(iz_store_t *st, int64_t brand_id, iz_stat_t **list, size_t *n)
{
    return st && list && n ? st->ops->stat_state(st, brand_id, list, n) : IZ_EINVAL;
}

int iz_store_stat_days(iz_store_t *st, int64_t brand_id, const char *from_day, iz_stat_t **list,
                       size_t *n)
{
    return st && from_day && list && n ? st->ops->stat_days(st, brand_id, from_day, list, n)
                                       : IZ_EINVAL;
}

int iz_store_stat_origins(iz_store_t *st, int64_t brand_id, iz_stat_t **list, size_t *n)
{
    return st && list && n ? st->ops->stat_origins(st, brand_id, list, n) : IZ_EINVAL;
}

int iz_store_ret_brand(iz_store_t *st, int64_t brand_id, iz_ret_open_t **list, size_t *n,
                       int64_t *late)
{
    return st && list && n && late ? st->ops->ret_brand(st, brand_id, list, n, late) : IZ_EINVAL;
}

int iz_store_quarantine_count_brand(iz_store_t *st, int64_t brand_id, int64_t *n)
{
    return st && n ? st->ops->quarantine_count_brand(st, brand_id, n) : IZ_EINVAL;
}

int iz_store_iys_changes(iz_store_t *st, int64_t brand_id, int64_t before_id, size_t limit,
                         iz_change_t **list, size_t *n)
{
    return st && list && n ? st->ops->iys_changes(st, brand_id, before_id, limit, list, n)
                           : IZ_EINVAL;
}

int iz_store_durable(iz_store_t *st)
{
    if (!st) return IZ_EINVAL;
    return st->ops->durable(st);
}

int iz_store_consent_apply_batch(iz_store_t *st, iz_store_apply_t *items, size_t n)
{
    if (!st || !items || n == 0 || n > IZ_STORE_BATCH_MAX) return IZ_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!items[i].chg) return IZ_EINVAL;
    return st->ops->consent_apply_batch(st, items, n);
}

int iz_store_consent_apply(iz_store_t *st, iz_change_t *chg, iz_store_rule_fn rule, void *ctx)
{
    iz_store_apply_t one = {.chg = chg, .rule = rule, .ctx = ctx};
    int rc = iz_store_consent_apply_batch(st, &one, 1);
    return rc != 0 ? rc : one.rc;
}

int iz_store_consent_get(iz_store_t *st, int64_t brand_id, iz_rtype_t rtype, iz_type_t type,
                         const char *recipient, iz_change_t *out)
{
    if (!st || !recipient || !out) return IZ_EINVAL;
    return st->ops->consent_get(st, brand_id, rtype, type, recipient, out);
}

int iz_store_consent_history(iz_store_t *st, int64_t brand_id, iz_rtype_t rtype, iz_type_t type,
                             const char *recipient, iz_change_t **list, size_t *n)
{
    if (!st || !recipient || !list || !n) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    return st->ops->consent_history(st, brand_id, rtype, type, recipient, list, n);
}

int iz_store_consent_status(iz_store_t *st, int64_t brand_id, iz_rtype_t rtype, iz_type_t type,
                            const char *recipient, iz_status_t *out)
{
    if (!st || !recipient || !out) return IZ_EINVAL;
    return st->ops->consent_status(st, brand_id, rtype, type, recipient, out);
}

int iz_store_verify_log(iz_store_t *st, int64_t *bad_id)
{
    int64_t dummy;
    if (!st) return IZ_EINVAL;
    if (!bad_id) bad_id = &dummy;
    *bad_id = 0;
    return st->ops->verify_log(st, bad_id);
}

int iz_store_consent_apply_batch_then(iz_store_t *st, iz_store_apply_t *items, size_t n,
                                      iz_store_then_fn then, void *ctx)
{
    if (!st || (n && !items) || n > IZ_STORE_BATCH_MAX) return IZ_EINVAL;
    return st->ops->apply_then(st, items, n, then, ctx);
}

int iz_store_consent_load_then(iz_store_t *st, const char *job_id, const int64_t *lines,
                               iz_store_apply_t *items, size_t n, iz_store_then_fn then,
                               void *ctx)
{
    if (!st || !job_id || (n && (!items || !lines)) || n > IZ_STORE_LOAD_MAX) return IZ_EINVAL;
    if (strlen(job_id) > 64) return IZ_ETOOBIG;
    return st->ops->load_then(st, job_id, lines, items, n, then, ctx);
}

int iz_store_job_add(iz_store_t *st, const iz_job_t *job)
{
    return st && job && job->id[0] ? st->ops->job_add(st, job) : IZ_EINVAL;
}

int iz_store_job_get(iz_store_t *st, const char *id, iz_job_t *out)
{
    return st && id && out ? st->ops->job_get(st, id, out) : IZ_EINVAL;
}

int iz_store_jobs_open(iz_store_t *st, iz_job_t **list, size_t *n)
{
    return st && list && n ? st->ops->jobs_open(st, list, n) : IZ_EINVAL;
}

int iz_store_jobs_of_brand(iz_store_t *st, int64_t brand_id, size_t limit, iz_job_t **list,
                           size_t *n)
{
    return st && list && n ? st->ops->jobs_of_brand(st, brand_id, limit, list, n) : IZ_EINVAL;
}

int iz_store_job_step(iz_store_t *st, const iz_job_t *job, const iz_job_error_t *errs, size_t n)
{
    return st && job && (errs || n == 0) ? st->ops->job_step(st, job, errs, n) : IZ_EINVAL;
}

int iz_store_job_errors(iz_store_t *st, const char *id, int64_t after_line, size_t limit,
                        iz_job_error_t **list, size_t *n)
{
    return st && id && list && n ? st->ops->job_errors(st, id, after_line, limit, list, n)
                                 : IZ_EINVAL;
}

int iz_store_outbox_count(iz_store_t *st, int64_t *n)
{
    return st && n ? st->ops->outbox_count(st, n) : IZ_EINVAL;
}

int iz_store_outbox_due(iz_store_t *st, int64_t now_ms, int64_t account_id, bool rets,
                        size_t max, iz_outbox_item_t **list, size_t *n)
{
    return st && list && n ? st->ops->outbox_due(st, now_ms, account_id, rets, max, list, n)
                           : IZ_EINVAL;
}

int iz_store_outbox_count_due(iz_store_t *st, int64_t now_ms, int64_t account_id, int64_t *n)
{
    return st && n ? st->ops->outbox_count_due(st, now_ms, account_id, n) : IZ_EINVAL;
}

int iz_store_outbox_reset_sending(iz_store_t *st)
{
    return st ? st->ops->outbox_reset_sending(st) : IZ_EINVAL;
}

int iz_store_outbox_mark(iz_store_t *st, const int64_t *log_ids, size_t n, const char *state,
                         const char *request_id, int64_t sent_ms)
{
    if (!st || (n && !log_ids) || !state) return IZ_EINVAL;
    if (strcmp(state, "PENDING") != 0 && strcmp(state, "SENDING") != 0 &&
        strcmp(state, "SENT") != 0)
        return IZ_EINVAL;
    return st->ops->outbox_mark(st, log_ids, n, state, request_id, sent_ms);
}

int iz_store_outbox_touch(iz_store_t *st, const char *request_id, int64_t sent_ms)
{
    return st && request_id && *request_id ? st->ops->outbox_touch(st, request_id, sent_ms)
                                           : IZ_EINVAL;
}

int iz_store_outbox_retry(iz_store_t *st, int64_t log_id, int64_t next_ms, const char *error)
{
    return st ? st->ops->outbox_retry(st, log_id, next_ms, error ? error : "") : IZ_EINVAL;
}

int iz_store_outbox_retry_many(iz_store_t *st, const int64_t *log_ids, size_t n, int64_t next_ms,
                               const char *error)
{
    if (!st || (n && !log_ids)) return IZ_EINVAL;
    return st->ops->outbox_retry_many(st, log_ids, n, next_ms, error ? error : "");
}

int iz_store_outbox_finish_many(iz_store_t *st, const iz_outbox_done_t *done, size_t n,
                                int64_t now_ms)
{
    if (!st || (n && !done)) return IZ_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (done[i].state != IZ_IYS_ACCEPTED && done[i].state != IZ_IYS_REJECTED)
            return IZ_EINVAL;
    return st->ops->outbox_finish_many(st, done, n, now_ms);
}

int iz_store_outbox_requests(iz_store_t *st, iz_outbox_req_t **list, size_t *n)
{
    return st && list && n ? st->ops->outbox_requests(st, list, n) : IZ_EINVAL;
}

int iz_store_outbox_request_rows(iz_store_t *st, const char *request_id, iz_outbox_row_t **list,
                                 size_t *n)
{
    return st && request_id && list && n ? st->ops->outbox_request_rows(st, request_id, list, n)
                                         : IZ_EINVAL;
}

int iz_store_outbox_depth(iz_store_t *st, iz_outbox_depth_t **list, size_t *n, int64_t *oldest_ms)
{
    return st && list && n && oldest_ms ? st->ops->outbox_depth(st, list, n, oldest_ms)
                                        : IZ_EINVAL;
}

int iz_store_outbox_finish(iz_store_t *st, int64_t log_id, iz_iys_state_t state, const char *txid,
                           const char *error, int64_t now_ms)
{
    if (!st || (state != IZ_IYS_ACCEPTED && state != IZ_IYS_REJECTED)) return IZ_EINVAL;
    return st->ops->outbox_finish(st, log_id, state, txid ? txid : "", error ? error : "", now_ms);
}

int iz_store_change_by_txid(iz_store_t *st, int64_t brand_id, const char *txid, iz_change_t *out)
{
    return st && txid && *txid && out ? st->ops->change_by_txid(st, brand_id, txid, out)
                                      : IZ_EINVAL;
}

int iz_store_changes(iz_store_t *st, int64_t brand_id, int64_t after_id, size_t limit,
                     iz_change_t **list, size_t *n)
{
    return st && list && n ? st->ops->changes(st, brand_id, after_id, limit, list, n) : IZ_EINVAL;
}

int iz_store_brands_all(iz_store_t *st, iz_brand_t **list, size_t *n)
{
    return st && list && n ? st->ops->brands_all(st, list, n) : IZ_EINVAL;
}

static bool cursor_source_ok(const char *source)
{
    return source && (strcmp(source, "HS") == 0 || strcmp(source, "IYS") == 0);
}

int iz_store_cursor_get(iz_store_t *st, int64_t brand_id, const char *source, char *out,
                        size_t outsz)
{
    if (!st || !cursor_source_ok(source) || !out || outsz == 0) return IZ_EINVAL;
    return st->ops->cursor_get(st, brand_id, source, out, outsz);
}

int iz_store_cursor_set(iz_store_t *st, int64_t brand_id, const char *source, const char *cursor)
{
    if (!st || !cursor_source_ok(source) || !cursor) return IZ_EINVAL;
    if (strlen(cursor) > 256) return IZ_ETOOBIG;
    return st->ops->cursor_set(st, brand_id, source, cursor);
}

int iz_store_ret_open(iz_store_t *st, iz_ret_open_t **list, size_t *n)
{
    return st && list && n ? st->ops->ret_open(st, list, n) : IZ_EINVAL;
}

int iz_store_ret_late(iz_store_t *st, int64_t *n)
{
    return st && n ? st->ops->ret_late(st, n) : IZ_EINVAL;
}

int iz_store_subscribe(iz_store_t *st, iz_store_change_fn fn, void *ctx)
{
    if (!st || !fn) return IZ_EINVAL;
    if (st->nsubs >= IZ_STORE_SUBSCRIBERS_MAX) return IZ_ETOOBIG;
    st->subs[st->nsubs++] = (iz_store_sub_t){fn, ctx};
    return 0;
}

void iz_store_unsubscribe(iz_store_t *st, iz_store_change_fn fn, void *ctx)
{
    if (!st) return;
    for (size_t i = 0; i < st->nsubs; i++)
        if (st->subs[i].fn == fn && st->subs[i].ctx == ctx) {
            memmove(&st->subs[i], &st->subs[i + 1], (st->nsubs - i - 1) * sizeof st->subs[0]);
            st->nsubs--;
            return;
        }
}

void iz__store_publish(iz_store_t *st, const iz_change_t *chg)
{
    for (size_t i = 0; i < st->nsubs; i++)
        st->subs[i].fn(st->subs[i].ctx, chg);
}

static bool via_ok(const char *via)
{
    return via &&
           (strcmp(via, "pull") == 0 || strcmp(via, "push") == 0 || strcmp(via, "recon") == 0);
}

int iz_store_quarantine_add(iz_store_t *st, int64_t brand_id, const char *via, const char *source,
                            const char *raw, const char *reason)
{
    if (!st || !via_ok(via) || !raw || !reason) return IZ_EINVAL;
    if (source && *source && !cursor_source_ok(source)) return IZ_EINVAL;
    if (strlen(raw) > IZ_QUARANTINE_RAW_MAX ||
        strlen(reason) >= sizeof((iz_quarantine_t *)0)->reason)
        return IZ_ETOOBIG;
    return st->ops->quarantine_add(st, brand_id, via, source ? source : "", raw, reason);
}

int iz_store_quarantine_list(iz_store_t *st, int64_t brand_id, int64_t after_id, size_t limit,
                             iz_quarantine_t **list, size_t *n)
{
    if (!st || !list || !n) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    return st->ops->quarantine_list(st, brand_id, after_id, limit, list, n);
}

void iz_store_quarantine_free(iz_quarantine_t *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        free(list[i].raw);
    free(list);
}

int iz_store_quarantine_count(iz_store_t *st, int64_t *n)
{
    return st && n ? st->ops->quarantine_count(st, n) : IZ_EINVAL;
}

int iz_store_change_get(iz_store_t *st, int64_t id, iz_change_t *out)
{
    return st && out && id > 0 ? st->ops->change_get(st, id, out) : IZ_EINVAL;
}

int iz_store_log_max(iz_store_t *st, int64_t *id)
{
    return st && id ? st->ops->log_max(st, id) : IZ_EINVAL;
}

int iz_store_log_after(iz_store_t *st, int64_t after_id, size_t limit, iz_change_t **list,
                       size_t *n)
{
    if (!st || !list || !n || limit == 0) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    return st->ops->log_after(st, after_id, limit, list, n);
}

int iz_store_changes_by_txid(iz_store_t *st, int64_t brand_id, const char *txid, iz_change_t **list,
                             size_t *n)
{
    if (!st || !txid || !*txid || !list || !n) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    return st->ops->changes_by_txid(st, brand_id, txid, list, n);
}

/* A report date as the store keeps it: "YYYY-MM-DD". */
static bool is_day(const char *d)
{
    int64_t e;
    return iz_tr_parse_date(d, &e) == 0;
}

int iz_store_iys_day_ids(iz_store_t *st, int64_t brand_id, const char *day, int64_t after_id,
                         size_t limit, int64_t **ids, size_t *n)
{
    if (!st || !ids || !n || !is_day(day) || limit == 0) return IZ_EINVAL;
    *ids = NULL;
    *n = 0;
    return st->ops->iys_day_ids(st, brand_id, day, after_id, limit, ids, n);
}

int iz_store_iys_day_span(iz_store_t *st, int64_t brand_id, const char *day, int64_t *count,
                          int64_t *min_id, int64_t *max_id)
{
    if (!st || !count || !min_id || !max_id || !is_day(day)) return IZ_EINVAL;
    return st->ops->iys_day_span(st, brand_id, day, count, min_id, max_id);
}

int iz_store_recon_put(iz_store_t *st, const iz_recon_t *r)
{
    if (!st || !r || !is_day(r->date) || !r->status[0]) return IZ_EINVAL;
    if (r->tsr_len > IZ_RECON_TSR_MAX || (r->details && strlen(r->details) > IZ_RECON_DETAILS_MAX))
        return IZ_ETOOBIG;
    return st->ops->recon_put(st, r);
}

int iz_store_recon_list(iz_store_t *st, int64_t brand_id, const char *date, size_t limit,
                        iz_recon_t **list, size_t *n)
{
    if (!st || !list || !n || (date && !is_day(date))) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    return st->ops->recon_list(st, brand_id, date, limit, list, n);
}

void iz_store_recon_free(iz_recon_t *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++) {
        free(list[i].tsr);
        free(list[i].details);
    }
    free(list);
}

int iz_store_recon_counts(iz_store_t *st, int64_t counts[4])
{
    return st && counts ? st->ops->recon_counts(st, counts) : IZ_EINVAL;
}

int iz_store_retailers_set(iz_store_t *st, int64_t brand_id, const iz_retailer_t *list, size_t n)
{
    return st && (list || n == 0) ? st->ops->retailers_set(st, brand_id, list, n) : IZ_EINVAL;
}

int iz_store_retailer_put(iz_store_t *st, int64_t brand_id, const iz_retailer_t *r)
{
    return st && r ? st->ops->retailer_put(st, brand_id, r) : IZ_EINVAL;
}

int iz_store_retailer_remove(iz_store_t *st, int64_t brand_id, int64_t code)
{
    return st ? st->ops->retailer_remove(st, brand_id, code) : IZ_EINVAL;
}

int iz_store_retailers_get(iz_store_t *st, int64_t brand_id, iz_retailer_t **list, size_t *n,
                           int64_t *synced_ms)
{
    return st && list && n && synced_ms ? st->ops->retailers_get(st, brand_id, list, n, synced_ms)
                                        : IZ_EINVAL;
}

int iz_store_retailer_codes(iz_store_t *st, int64_t brand_id, int64_t **codes, size_t *n,
                            int64_t *synced_ms)
{
    return st && codes && n && synced_ms
               ? st->ops->retailer_codes(st, brand_id, codes, n, synced_ms)
               : IZ_EINVAL;
}

int iz_store_state_scan(iz_store_t *st, iz_store_state_fn fn, void *ctx)
{
    return st && fn ? st->ops->state_scan(st, fn, ctx) : IZ_EINVAL;
}

int iz_store_consent_each(iz_store_t *st, int64_t brand_id, iz_type_t type, iz_store_consent_fn fn,
                          void *ctx)
{
    if (!st || !fn || (type != IZ_TYPE_NONE && !iz_type_name(type))) return IZ_EINVAL;
    return st->ops->consent_each(st, brand_id, type, fn, ctx);
}

int iz_store_iys_token_get(iz_store_t *st, int64_t account_id, const char *base_url,
                           const char *username, iz_iys_token_t *out)
{
    if (!st || !base_url || !username || !out) return IZ_EINVAL;
    return st->ops->iys_token_get(st, account_id, base_url, username, out);
}

int iz_store_iys_token_put(iz_store_t *st, int64_t account_id, const iz_iys_token_t *tok)
{
    return st && tok ? st->ops->iys_token_put(st, account_id, tok) : IZ_EINVAL;
}

int iz_store_sms_queue(iz_store_t *st, iz_sms_msg_t *msg, const iz_sms_item_t *items, size_t n)
{
    if (!st || !msg || (n && !items)) return IZ_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!items[i].recipient || !items[i].outcome) return IZ_EINVAL;
    return st->ops->sms_queue(st, msg, items, n);
}

int iz_store_sms_get(iz_store_t *st, int64_t id, iz_sms_msg_t *out)
{
    return st && out ? st->ops->sms_get(st, id, NULL, 0, out) : IZ_EINVAL;
}

int iz_store_sms_by_key(iz_store_t *st, int64_t account_id, const char *key, iz_sms_msg_t *out)
{
    return st && key && *key && out ? st->ops->sms_get(st, 0, key, account_id, out) : IZ_EINVAL;
}

int iz_store_sms_counts(iz_store_t *st, int64_t id, iz_sms_counts_t *out)
{
    return st && out ? st->ops->sms_counts(st, id, out) : IZ_EINVAL;
}

int iz_store_sms_rcpts(iz_store_t *st, int64_t id, int64_t after, size_t limit,
                       bool messages_only, iz_sms_rcpt_t **list, size_t *n)
{
    if (!st || !list || !n || limit == 0 || limit > 10000) return IZ_EINVAL;
    return st->ops->sms_rcpts(st, id, after, limit, messages_only, false, list, n);
}

int iz_store_sms_open(iz_store_t *st, size_t limit, int64_t **ids, int **priorities, size_t *n)
{
    return st && ids && priorities && n ? st->ops->sms_open(st, limit, ids, priorities, n)
                                        : IZ_EINVAL;
}

int iz_store_sms_queued(iz_store_t *st, int64_t id, size_t max, iz_sms_rcpt_t **list, size_t *n)
{
    if (!st || !list || !n || max == 0 || max > 10000) return IZ_EINVAL;
    return st->ops->sms_rcpts(st, id, -1, max, true, true, list, n);
}

int iz_store_sms_move(iz_store_t *st, const iz_sms_move_t *moves, size_t n)
{
    if (!st || (n && !moves)) return IZ_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!moves[i].to) return IZ_EINVAL;
    return n ? st->ops->sms_move(st, moves, n) : 0;
}

int iz_store_sms_dlr(iz_store_t *st, iz_sms_dlr_t *reports, size_t n)
{
    if (!st || (n && !reports)) return IZ_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!reports[i].msg_id) return IZ_EINVAL;
    return n ? st->ops->sms_dlr(st, reports, n) : 0;
}

int iz_store_sms_finish(iz_store_t *st, int64_t id, bool *done)
{
    return st && done ? st->ops->sms_finish(st, id, done) : IZ_EINVAL;
}

int iz_store_sms_recover(iz_store_t *st, int64_t *n)
{
    return st && n ? st->ops->sms_recover(st, n) : IZ_EINVAL;
}

int iz_store_sms_backlog(iz_store_t *st, int64_t *n)
{
    return st && n ? st->ops->sms_backlog(st, n) : IZ_EINVAL;
}

int iz_store_voice_add(iz_store_t *st, iz_voice_campaign_t *c, const iz_voice_number_t *nums,
                       size_t n)
{
    if (!st || !c || (n && !nums)) return IZ_EINVAL;
    return st->ops->voice_add(st, c, nums, n);
}

int iz_store_voice_get(iz_store_t *st, int64_t id, iz_voice_campaign_t *out)
{
    return st && out ? st->ops->voice_get(st, id, out) : IZ_EINVAL;
}

int iz_store_voice_of_brand(iz_store_t *st, int64_t brand_id, size_t limit,
                            iz_voice_campaign_t **list, size_t *n)
{
    return st && list && n ? st->ops->voice_of_brand(st, brand_id, limit, list, n) : IZ_EINVAL;
}

int iz_store_voice_numbers(iz_store_t *st, int64_t id, bool allowed_only, iz_voice_number_t **list,
                           size_t *n)
{
    return st && list && n ? st->ops->voice_numbers(st, id, allowed_only, list, n) : IZ_EINVAL;
}

/* ---- v11: partner mode and İYS standings ---------------------------------- */

int iz_store_accounts_all(iz_store_t *st, iz_account_t **list, size_t *n)
{
    return st && list && n ? st->ops->accounts_all(st, list, n) : IZ_EINVAL;
}

int iz_store_outbox_due_now(iz_store_t *st, int64_t account_id, int64_t now_ms)
{
    return st ? st->ops->outbox_due_now(st, account_id, now_ms) : IZ_EINVAL;
}

int iz_store_iys_partner_token_get(iz_store_t *st, int64_t integrator_code, const char *base_url,
                                   const char *username, iz_iys_token_t *out)
{
    if (!st || !base_url || !username || !out) return IZ_EINVAL;
    return st->ops->iys_partner_token_get(st, integrator_code, base_url, username, out);
}

int iz_store_iys_partner_token_put(iz_store_t *st, int64_t integrator_code,
                                   const iz_iys_token_t *tok)
{
    return st && tok ? st->ops->iys_partner_token_put(st, integrator_code, tok) : IZ_EINVAL;
}

int iz_store_iys_standing_put(iz_store_t *st, int64_t account_id, bool sending, const char *reason,
                              const char *json)
{
    if (!st || !reason || !json) return IZ_EINVAL;
    return st->ops->iys_standing_put(st, account_id, sending, reason, json);
}

int iz_store_iys_standing_all(iz_store_t *st, iz_iys_standing_t **list, size_t *n)
{
    return st && list && n ? st->ops->iys_standing_all(st, list, n) : IZ_EINVAL;
}

void iz_store_iys_standing_free(iz_iys_standing_t *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        free(list[i].json);
    free(list);
}

/* ---- customer webhooks (v16) ------------------------------------------------ */

int iz_store_webhook_put(iz_store_t *st, int64_t brand_id, const char *url, const char *secret,
                         bool *created)
{
    bool dummy;
    if (!st || !url || !secret) return IZ_EINVAL;
    return st->ops->webhook_put(st, brand_id, url, secret, created ? created : &dummy);
}

int iz_store_webhook_get(iz_store_t *st, int64_t brand_id, bool with_secret, iz_webhook_t *out)
{
    return st && out ? st->ops->webhook_get(st, brand_id, with_secret, out) : IZ_EINVAL;
}

int iz_store_webhook_delete(iz_store_t *st, int64_t brand_id)
{
    return st ? st->ops->webhook_delete(st, brand_id) : IZ_EINVAL;
}

int iz_store_webhooks_all(iz_store_t *st, iz_webhook_t **list, size_t *n)
{
    if (!st || !list || !n) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    return st->ops->webhooks_all(st, list, n);
}

int iz_store_webhook_delivered(iz_store_t *st, int64_t webhook_id, int64_t last_id)
{
    return st ? st->ops->webhook_delivered(st, webhook_id, last_id) : IZ_EINVAL;
}

int iz_store_webhook_failed(iz_store_t *st, int64_t webhook_id, int64_t first, int64_t last,
                            int64_t count, int64_t now_ms, int64_t next_ms, long status,
                            const char *error, bool dead)
{
    if (!st || first <= 0 || last < first || count <= 0) return IZ_EINVAL;
    return st->ops->webhook_failed(st, webhook_id, first, last, count, now_ms, next_ms, status,
                                   error ? error : "", dead);
}

int iz_store_webhook_dead_list(iz_store_t *st, int64_t brand_id, int64_t after_id, size_t limit,
                               bool retry_only, iz_webhook_dead_t **list, size_t *n)
{
    if (!st || !list || !n) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    return st->ops->webhook_dead_list(st, brand_id, after_id, limit, retry_only, list, n);
}

int iz_store_webhook_dead_retry(iz_store_t *st, int64_t brand_id, int64_t id)
{
    return st ? st->ops->webhook_dead_retry(st, brand_id, id) : IZ_EINVAL;
}

int iz_store_webhook_dead_done(iz_store_t *st, int64_t id, bool delivered, long status,
                               const char *error)
{
    return st ? st->ops->webhook_dead_done(st, id, delivered, status, error ? error : "")
              : IZ_EINVAL;
}

int iz_store_webhook_figures(iz_store_t *st, iz_webhook_figures_t **list, size_t *n)
{
    if (!st || !list || !n) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    return st->ops->webhook_figures(st, list, n);
}
