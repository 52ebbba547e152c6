/*
 * store_int.h - what a storage backend implements, private to src/store/.
 *
 * iz_store_t is the first member of every backend's own struct; its ops
 * table holds the backend's functions. store.c checks the arguments of the
 * public iz_store_* calls and forwards them here, so a backend may assume
 * non-NULL pointers and only validates the values themselves. Adding a
 * backend (PostgreSQL) means one more ops table and one more case in
 * iz_store_open(); callers do not change.
 */
#ifndef IZ_STORE_INT_H
#define IZ_STORE_INT_H

#include <stdatomic.h>

#include "store/store.h"
#include "sys/crypto.h"

typedef struct iz_store_ops {
    void (*close)(iz_store_t *st);
    int (*schema_version)(iz_store_t *st);
    int (*ping)(iz_store_t *st);
    int (*account_add)(iz_store_t *st, iz_account_t *a);
    int (*account_by_name)(iz_store_t *st, const char *name, iz_account_t *out);
    int (*account_get)(iz_store_t *st, int64_t id, iz_account_t *out);
    int (*brand_add)(iz_store_t *st, iz_brand_t *b);
    int (*brand_get)(iz_store_t *st, int64_t account_id, int64_t code, iz_brand_t *out);
    int (*brand_sms_get)(iz_store_t *st, int64_t brand_id, iz_brand_sms_t *out);
    int (*brand_by_slug)(iz_store_t *st, const char *slug, iz_brand_t *out);
    int (*brand_info_get)(iz_store_t *st, int64_t brand_id, char *out, size_t size);
    int (*brand_info_set)(iz_store_t *st, int64_t brand_id, const char *text);
    int (*brand_page_get)(iz_store_t *st, int64_t brand_id, iz_brand_page_t *out);
    int (*brand_page_set)(iz_store_t *st, int64_t brand_id, const iz_brand_page_t *p);
    int (*account_usage)(iz_store_t *st, int64_t account_id, int64_t *records);
    int (*account_plan_set)(iz_store_t *st, int64_t account_id, const char *plan);
    int (*brand_ident_get)(iz_store_t *st, int64_t brand_id, iz_brand_ident_t *out);
    int (*brand_ident_set)(iz_store_t *st, int64_t brand_id, const iz_brand_ident_t *id);
    int (*brand_update)(iz_store_t *st, iz_brand_t *b, const iz_brand_sms_t *sms,
                        const char **conflict);
    int (*brands_by_number)(iz_store_t *st, const char *number, iz_brand_t **list,
                            iz_brand_sms_t **sms, size_t *n);
    int (*inbound_get)(iz_store_t *st, const char *gateway, const char *msg_id, iz_inbound_t *out);
    int (*inbound_add)(iz_store_t *st, iz_inbound_t *in);
    int (*inbound_of_brand)(iz_store_t *st, int64_t brand_id, size_t limit, iz_inbound_t **list,
                            size_t *n);
    int (*key_add)(iz_store_t *st, int64_t account_id, const char *hash_hex, const char *prefix);
    int (*key_lookup)(iz_store_t *st, const char *hash_hex, int64_t *account_id);
    int (*key_revoke)(iz_store_t *st, int64_t account_id, const char *hash_hex);
    int (*keys_list)(iz_store_t *st, int64_t account_id, iz_key_info_t **list, size_t *n);
    int (*key_revoke_id)(iz_store_t *st, int64_t account_id, int64_t key_id);
    int (*brands_of)(iz_store_t *st, int64_t account_id, iz_brand_t **list, size_t *n);
    int (*user_add)(iz_store_t *st, iz_user_t *u);
    int (*user_by_email)(iz_store_t *st, const char *email, iz_user_t *out);
    int (*user_get)(iz_store_t *st, int64_t id, iz_user_t *out);
    int (*users_of)(iz_store_t *st, int64_t account_id, iz_user_t **list, size_t *n);
    int (*user_delete)(iz_store_t *st, int64_t account_id, int64_t user_id);
    int (*user_password_set)(iz_store_t *st, int64_t user_id, const char *pwhash, bool must_change,
                             const char *keep_hash);
    int (*session_add)(iz_store_t *st, const char *hash_hex, int64_t user_id, int64_t now);
    int (*session_get)(iz_store_t *st, const char *hash_hex, iz_session_t *out);
    int (*session_touch)(iz_store_t *st, const char *hash_hex, int64_t now);
    int (*session_delete)(iz_store_t *st, const char *hash_hex);
    int (*sessions_expire)(iz_store_t *st, int64_t idle_before, int64_t abs_before, int64_t *n);
    int (*login_fail_add)(iz_store_t *st, const char *email, int64_t now);
    int (*login_fails)(iz_store_t *st, const char *email, int64_t *times, size_t max, size_t *n);
    int (*stat_state)(iz_store_t *st, int64_t brand_id, iz_stat_t **list, size_t *n);
    int (*stat_days)(iz_store_t *st, int64_t brand_id, const char *from_day, iz_stat_t **list,
                     size_t *n);
    int (*stat_origins)(iz_store_t *st, int64_t brand_id, iz_stat_t **list, size_t *n);
    int (*ret_brand)(iz_store_t *st, int64_t brand_id, iz_ret_open_t **list, size_t *n,
                     int64_t *late);
    int (*quarantine_count_brand)(iz_store_t *st, int64_t brand_id, int64_t *n);
    int (*iys_changes)(iz_store_t *st, int64_t brand_id, int64_t before_id, size_t limit,
                       iz_change_t **list, size_t *n);
    int (*consent_apply_batch)(iz_store_t *st, iz_store_apply_t *items, size_t n);
    int (*durable)(iz_store_t *st);
    int (*consent_get)(iz_store_t *st, int64_t brand_id, iz_rtype_t rtype, iz_type_t type,
                       const char *recipient, iz_change_t *out);
    int (*consent_history)(iz_store_t *st, int64_t brand_id, iz_rtype_t rtype, iz_type_t type,
                           const char *recipient, iz_change_t **list, size_t *n);
    int (*consent_status)(iz_store_t *st, int64_t brand_id, iz_rtype_t rtype, iz_type_t type,
                          const char *recipient, iz_status_t *out);
    int (*verify_log)(iz_store_t *st, int64_t *bad_id);
    int (*apply_then)(iz_store_t *st, iz_store_apply_t *items, size_t n, iz_store_then_fn then,
                      void *ctx);
    int (*load_then)(iz_store_t *st, const char *job_id, const int64_t *lines,
                     iz_store_apply_t *items, size_t n, iz_store_then_fn then, void *ctx);
    int (*job_add)(iz_store_t *st, const iz_job_t *job);
    int (*job_get)(iz_store_t *st, const char *id, iz_job_t *out);
    int (*jobs_open)(iz_store_t *st, iz_job_t **list, size_t *n);
    int (*jobs_of_brand)(iz_store_t *st, int64_t brand_id, size_t limit, iz_job_t **list,
                         size_t *n);
    int (*job_step)(iz_store_t *st, const iz_job_t *job, const iz_job_error_t *errs, size_t n);
    int (*job_errors)(iz_store_t *st, const char *id, int64_t after_line, size_t limit,
                      iz_job_error_t **list, size_t *n);
    int (*outbox_count)(iz_store_t *st, int64_t *n);
    int (*outbox_due)(iz_store_t *st, int64_t now_ms, int64_t account_id, bool rets, size_t max,
                      iz_outbox_item_t **list, size_t *n);
    int (*outbox_reset_sending)(iz_store_t *st);
    int (*outbox_count_due)(iz_store_t *st, int64_t now_ms, int64_t account_id, int64_t *n);
    int (*outbox_mark)(iz_store_t *st, const int64_t *log_ids, size_t n, const char *state,
                       const char *request_id, int64_t sent_ms);
    int (*outbox_touch)(iz_store_t *st, const char *request_id, int64_t sent_ms);
    int (*outbox_retry_many)(iz_store_t *st, const int64_t *log_ids, size_t n, int64_t next_ms,
                             const char *error);
    int (*outbox_finish_many)(iz_store_t *st, const iz_outbox_done_t *done, size_t n,
                              int64_t now_ms);
    int (*outbox_requests)(iz_store_t *st, iz_outbox_req_t **list, size_t *n);
    int (*outbox_request_rows)(iz_store_t *st, const char *request_id, iz_outbox_row_t **list,
                               size_t *n);
    int (*outbox_depth)(iz_store_t *st, iz_outbox_depth_t **list, size_t *n, int64_t *oldest_ms);
    int (*outbox_retry)(iz_store_t *st, int64_t log_id, int64_t next_ms, const char *error);
    int (*outbox_finish)(iz_store_t *st, int64_t log_id, iz_iys_state_t state, const char *txid,
                         const char *error, int64_t now_ms);
    int (*change_by_txid)(iz_store_t *st, int64_t brand_id, const char *txid, iz_change_t *out);
    int (*changes)(iz_store_t *st, int64_t brand_id, int64_t after_id, size_t limit,
                   iz_change_t **list, size_t *n);
    int (*brands_all)(iz_store_t *st, iz_brand_t **list, size_t *n);
    int (*cursor_get)(iz_store_t *st, int64_t brand_id, const char *source, char *out,
                      size_t outsz);
    int (*cursor_set)(iz_store_t *st, int64_t brand_id, const char *source, const char *cursor);
    int (*ret_open)(iz_store_t *st, iz_ret_open_t **list, size_t *n);
    int (*ret_late)(iz_store_t *st, int64_t *n);
    int (*state_scan)(iz_store_t *st, iz_store_state_fn fn, void *ctx);
    int (*consent_each)(iz_store_t *st, int64_t brand_id, iz_type_t type, iz_store_consent_fn fn,
                        void *ctx);
    int (*quarantine_add)(iz_store_t *st, int64_t brand_id, const char *via, const char *source,
                          const char *raw, const char *reason);
    int (*quarantine_list)(iz_store_t *st, int64_t brand_id, int64_t after_id, size_t limit,
                           iz_quarantine_t **list, size_t *n);
    int (*quarantine_count)(iz_store_t *st, int64_t *n);
    int (*change_get)(iz_store_t *st, int64_t id, iz_change_t *out);
    int (*log_max)(iz_store_t *st, int64_t *id);
    int (*log_after)(iz_store_t *st, int64_t after_id, size_t limit, iz_change_t **list, size_t *n);
    int (*changes_by_txid)(iz_store_t *st, int64_t brand_id, const char *txid, iz_change_t **list,
                           size_t *n);
    int (*iys_day_ids)(iz_store_t *st, int64_t brand_id, const char *day, int64_t after_id,
                       size_t limit, int64_t **ids, size_t *n);
    int (*iys_day_span)(iz_store_t *st, int64_t brand_id, const char *day, int64_t *count,
                        int64_t *min_id, int64_t *max_id);
    int (*recon_put)(iz_store_t *st, const iz_recon_t *r);
    int (*recon_list)(iz_store_t *st, int64_t brand_id, const char *date, size_t limit,
                      iz_recon_t **list, size_t *n);
    int (*recon_counts)(iz_store_t *st, int64_t counts[4]);
    int (*retailers_set)(iz_store_t *st, int64_t brand_id, const iz_retailer_t *list, size_t n);
    int (*retailer_put)(iz_store_t *st, int64_t brand_id, const iz_retailer_t *r);
    int (*retailer_remove)(iz_store_t *st, int64_t brand_id, int64_t code);
    int (*retailers_get)(iz_store_t *st, int64_t brand_id, iz_retailer_t **list, size_t *n,
                         int64_t *synced_ms);
    int (*retailer_codes)(iz_store_t *st, int64_t brand_id, int64_t **codes, size_t *n,
                          int64_t *synced_ms);
    int (*iys_token_get)(iz_store_t *st, int64_t account_id, const char *base_url,
                         const char *username, iz_iys_token_t *out);
    int (*iys_token_put)(iz_store_t *st, int64_t account_id, const iz_iys_token_t *tok);
    int (*sms_queue)(iz_store_t *st, iz_sms_msg_t *msg, const iz_sms_item_t *items, size_t n);
    int (*sms_get)(iz_store_t *st, int64_t id, const char *key, int64_t account_id,
                   iz_sms_msg_t *out);
    int (*sms_counts)(iz_store_t *st, int64_t id, iz_sms_counts_t *out);
    int (*sms_rcpts)(iz_store_t *st, int64_t id, int64_t after, size_t limit, bool messages_only,
                     bool queued_only, iz_sms_rcpt_t **list, size_t *n);
    int (*sms_open)(iz_store_t *st, size_t limit, int64_t **ids, int **priorities, size_t *n);
    int (*sms_move)(iz_store_t *st, const iz_sms_move_t *moves, size_t n);
    int (*sms_dlr)(iz_store_t *st, iz_sms_dlr_t *reports, size_t n);
    int (*sms_finish)(iz_store_t *st, int64_t id, bool *done);
    int (*sms_recover)(iz_store_t *st, int64_t *n);
    int (*sms_backlog)(iz_store_t *st, int64_t *n);
    int (*voice_add)(iz_store_t *st, iz_voice_campaign_t *c, const iz_voice_number_t *nums,
                     size_t n);
    int (*voice_get)(iz_store_t *st, int64_t id, iz_voice_campaign_t *out);
    int (*voice_of_brand)(iz_store_t *st, int64_t brand_id, size_t limit,
                          iz_voice_campaign_t **list, size_t *n);
    int (*voice_numbers)(iz_store_t *st, int64_t id, bool allowed_only, iz_voice_number_t **list,
                         size_t *n);
    /* v11: partner mode and İYS standings */
    int (*accounts_all)(iz_store_t *st, iz_account_t **list, size_t *n);
    int (*outbox_due_now)(iz_store_t *st, int64_t account_id, int64_t now_ms);
    int (*iys_partner_token_get)(iz_store_t *st, int64_t integrator_code, const char *base_url,
                                 const char *username, iz_iys_token_t *out);
    int (*iys_partner_token_put)(iz_store_t *st, int64_t integrator_code,
                                 const iz_iys_token_t *tok);
    int (*iys_standing_put)(iz_store_t *st, int64_t account_id, bool sending, const char *reason,
                            const char *json);
    int (*iys_standing_all)(iz_store_t *st, iz_iys_standing_t **list, size_t *n);
    /* v16: customer webhooks */
    int (*webhook_put)(iz_store_t *st, int64_t brand_id, const char *url, const char *secret,
                       bool *created);
    int (*webhook_get)(iz_store_t *st, int64_t brand_id, bool with_secret, iz_webhook_t *out);
    int (*webhook_delete)(iz_store_t *st, int64_t brand_id);
    int (*webhooks_all)(iz_store_t *st, iz_webhook_t **list, size_t *n);
    int (*webhook_delivered)(iz_store_t *st, int64_t webhook_id, int64_t last_id);
    int (*webhook_failed)(iz_store_t *st, int64_t webhook_id, int64_t first, int64_t last,
                          int64_t count, int64_t now_ms, int64_t next_ms, long status,
                          const char *error, bool dead);
    int (*webhook_dead_list)(iz_store_t *st, int64_t brand_id, int64_t after_id, size_t limit,
                             bool retry_only, iz_webhook_dead_t **list, size_t *n);
    int (*webhook_dead_retry)(iz_store_t *st, int64_t brand_id, int64_t id);
    int (*webhook_dead_done)(iz_store_t *st, int64_t id, bool delivered, long status,
                             const char *error);
    int (*webhook_figures)(iz_store_t *st, iz_webhook_figures_t **list, size_t *n);
} iz_store_ops_t;

typedef struct iz_store_sub {
    iz_store_change_fn fn;
    void *ctx;
} iz_store_sub_t;

struct iz_store {
    const iz_store_ops_t *ops;
    /* The commit subscribers: the backend calls each for every committed
     * change, after the commit and before the store's lock is released, so
     * changes reach them in commit order. Set before the store is shared
     * between threads (iz_store_subscribe). */
    iz_store_sub_t subs[IZ_STORE_SUBSCRIBERS_MAX];
    size_t nsubs;
    _Atomic uint64_t gen; /* bumped by this process's key revocations and brand changes */
};

/* Call every subscriber for chg (the backends' commit path). */
void iz__store_publish(iz_store_t *st, const iz_change_t *chg);

/* Open the store in the SQLite file at path (created 0600 when missing),
 * or in the PostgreSQL database at a postgresql:// URL, with the key that
 * seals its secrets. */
int iz__sqlite_open(const char *path, const iz_seal_key_t *key, iz_store_t **out,
                    const char **err);

/* The consent log's hash covers 12 fields (see store.h): prev_hash, id,
 * brand_id, recipient, rtype, type, status, source, consent_date,
 * creation_ms, origin, evidence. */
#define IZ_HASH_FIELDS 12

/* A test's seam: when set, the SQLite backend's iz_store_changes calls it
 * between its read of the log rows and its read of the segments (a unit
 * test commits there through another connection to show both reads are
 * one snapshot). NULL in izin. */
extern void (*iz__sq_changes_gap)(void *ctx);
extern void *iz__sq_changes_gap_ctx;

#endif
