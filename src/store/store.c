/*
 * store.c - the storage front door: picks the backend from the location
 * string, checks the arguments of every public call and forwards it to the
 * backend's ops table (store_int.h). Also holds what all backends share:
 * the consent log's hash function and the thread-local error message.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>


#include "core/iz.h"
#include "sys/crypto.h"
#include "store/store_int.h"

static _Thread_local char store_err[512];

const char *iz__store_errf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(store_err, sizeof store_err, fmt, ap);
    va_end(ap);
    return store_err;
}

int iz__store_chain_hash(const char *const f[IZ_HASH_FIELDS], char out[IZ_HASH_HEX])
{
    iz_sha256_join_hex(f, IZ_HASH_FIELDS, out);
    return 0;
}

/* Create dir and its missing parents with mode 0700 (mkdir -p). */
static int make_dirs(const char *dir)
{
    char buf[PATH_MAX];
    if (iz_strlcpy(buf, dir, sizeof buf) != 0) return IZ_ETOOBIG;
    size_t len = strlen(buf);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = '\0';
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) return IZ_EIO;
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST) return IZ_EIO;
    struct stat sb;
    if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode)) return IZ_EINVAL;
    return 0;
}

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int iz_store_open(const char *location, iz_store_t **out, const char **err)
{
    const char *dummy;
    if (!err) err = &dummy;
    *err = NULL;
    if (!out || !location || !*location) {
        *err = "store location is empty";
        return IZ_EINVAL;
    }
    *out = NULL;
    if (strnlen(location, PATH_MAX) >= PATH_MAX) {
        *err = "store location is too long";
        return IZ_ETOOBIG;
    }
    if (has_prefix(location, "postgres://") || has_prefix(location, "postgresql://")) {
        *err = "PostgreSQL backend not available in this build";
        return IZ_EUNSUPPORTED;
    }
    const char *file = NULL;
    if (has_prefix(location, "sqlite:"))
        file = location + strlen("sqlite:");
    else if (has_prefix(location, "file:"))
        file = location + strlen("file:");
    if (file) {
        if (!*file) {
            *err = iz__store_errf("store location '%s' names no file", location);
            return IZ_EINVAL;
        }
        return iz__sqlite_open(file, out, err);
    }

    /* A plain path is the data directory; the database is izin.db in it. */
    int rc = make_dirs(location);
    if (rc == IZ_EINVAL) {
        *err = iz__store_errf("store location '%s' is not a directory", location);
        return rc;
    }
    if (rc != 0) {
        *err = iz__store_errf("cannot create data directory '%s': %s", location,
                              rc == IZ_ETOOBIG ? "path too long" : strerror(errno));
        return rc;
    }
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/izin.db", location);
    if (n < 0 || (size_t)n >= sizeof path) {
        *err = "store location is too long";
        return IZ_ETOOBIG;
    }
    return iz__sqlite_open(path, out, err);
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

int iz_store_brand_get(iz_store_t *st, int64_t account_id, int64_t code, iz_brand_t *out)
{
    return st && out ? st->ops->brand_get(st, account_id, code, out) : IZ_EINVAL;
}

int iz_store_key_add(iz_store_t *st, int64_t account_id, const char *hash_hex, const char *prefix)
{
    return st && hash_hex && prefix ? st->ops->key_add(st, account_id, hash_hex, prefix)
                                    : IZ_EINVAL;
}

int iz_store_key_lookup(iz_store_t *st, const char *hash_hex, int64_t *account_id)
{
    return st && hash_hex && account_id ? st->ops->key_lookup(st, hash_hex, account_id) : IZ_EINVAL;
}

int iz_store_key_revoke(iz_store_t *st, int64_t account_id, const char *hash_hex)
{
    return st && hash_hex ? st->ops->key_revoke(st, account_id, hash_hex) : IZ_EINVAL;
}

int iz_store_consent_apply(iz_store_t *st, iz_change_t *chg, iz_store_rule_fn rule, void *ctx)
{
    return st && chg ? st->ops->consent_apply(st, chg, rule, ctx) : IZ_EINVAL;
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

int iz_store_outbox_count(iz_store_t *st, int64_t *n)
{
    return st && n ? st->ops->outbox_count(st, n) : IZ_EINVAL;
}

int iz_store_outbox_due(iz_store_t *st, int64_t now_ms, bool bulk, size_t max,
                        iz_outbox_item_t **list, size_t *n)
{
    return st && list && n ? st->ops->outbox_due(st, now_ms, bulk, max, list, n) : IZ_EINVAL;
}

int iz_store_outbox_inflight(iz_store_t *st, iz_outbox_item_t **list, size_t *n)
{
    return st && list && n ? st->ops->outbox_inflight(st, list, n) : IZ_EINVAL;
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

void iz_store_on_change(iz_store_t *st, iz_store_change_fn fn, void *ctx)
{
    if (!st) return;
    st->on_change = fn;
    st->on_change_ctx = ctx;
}

int iz_store_state_scan(iz_store_t *st, iz_store_state_fn fn, void *ctx)
{
    return st && fn ? st->ops->state_scan(st, fn, ctx) : IZ_EINVAL;
}

int iz_store_sms_record(iz_store_t *st, iz_sms_msg_t *msg, const iz_sms_rcpt_t *rcpts, size_t n)
{
    if (!st || !msg || !msg->text || (n && !rcpts)) return IZ_EINVAL;
    return st->ops->sms_record(st, msg, rcpts, n);
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

int iz_store_voice_numbers(iz_store_t *st, int64_t id, bool allowed_only, iz_voice_number_t **list,
                           size_t *n)
{
    return st && list && n ? st->ops->voice_numbers(st, id, allowed_only, list, n) : IZ_EINVAL;
}
