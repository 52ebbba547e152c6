/*
 * simstore.h - the İYS emulator's own persistent store (SQLite, one file
 * DIR/iys-sim.db), separate from the module's store: the emulator plays
 * another organization's system and shares nothing with the module.
 *
 * Schema (version 4)
 * ------------------
 *   meta(key PK, value)                                  schema_version
 *   providers(iys_code PK, name, username UNIQUE, pw_salt, pw_hash
 *             (hex PBKDF2-HMAC-SHA256), subscription TEXT
 *             ACTIVE|PAUSED|EXPIRED|CLOSED|NONE, quota INT (0 = none),
 *             created, activation_date TEXT NULL (v2))
 *   brands(iys_code -> providers, brand_code, name, PK(iys_code, brand_code))
 *   tokens(hash PK (hex SHA-256 of the token), kind 'access'|'refresh',
 *          iys_code, expires)
 *   consent_log(id PK AUTOINCREMENT, iys_code, brand_code, recipient, rtype,
 *          type, status, source, consent_date, creation, txid, request_id,
 *          citizen_name, prev_hash, hash)
 *   consent_state(recipient, iys_code, brand_code, rtype, type) PK (v3:
 *          recipient first, which serves the citizen's view) -> log_id,
 *          status, source, consent_date, creation, txid
 *   provider_records(iys_code PK, records) (v3): consent_state rows of each
 *          iysCode, kept by triggers on consent_state (the quota's count)
 *   bulk_requests(request_id PK, iys_code, brand_code, created,
 *          process_after, processed_at NULL)
 *   bulk_items(request_id, idx, sub_request_id, body (JSON of the item),
 *          status enqueue|success|failure, txid, creation, error_code,
 *          error_message, PK(request_id, idx))
 *   push(iys_code, brand_code, connections (JSON text), cursor (consent_log
 *          id delivered up to), PK(iys_code, brand_code))
 *   complaints(id PK, iys_code, brand_code, recipient, type, message_time,
 *          text, created)
 *   retailers(id PK, retailer_code UNIQUE (8 digits, random), iys_code, brand_code ->
 *          brands, title, mersis, alias, name, tckn, mobile, tin, city_code,
 *          city_name, town_code, town_name, status active|passive|suspended,
 *          created) (retailers migration)
 *   retailer_access(iys_code, brand_code, rtype, type, recipient,
 *          retailer_code -> retailers, created, PK(all but created)): which
 *          retailers may see which consent (retailers migration)
 *   consent_mediator(iys_code, brand_code, rtype, type, recipient PK,
 *          retailer_code -> retailers): the retailerCode a consent was
 *          obtained through (retailers migration)
 *   recon_files(iys_code, brand_code, report_date 'YYYY-MM-DD', rows, max_id,
 *          hash (hex SHA-384 of the CSV), tsr (RFC 3161 reply, DER),
 *          generated, agreed (0 = no), PK(iys_code, brand_code, report_date))
 *          (v5): a brand's daily change file: its changes of the day with
 *          id <= max_id
 *   recon_days(report_date PK, done) (v5): days whose day-end has run
 *   recon_tsa(id = 1, key_pem, cert_pem) (v5): the timestamping key
 *   via_* (v6): ViA and OTP management, described in viastore.h, whose
 *          functions keep them
 *   (v7, accounts) providers + limit_exceed, api_access (the HS
 *          subscription's consentLimitExceed and whether the package
 *          includes API use), sub_id, sub_package, sub_start, sub_end NULL
 *          (its id, package name and dates); subscription is the HS
 *          subscription's state and quota its consentLimit
 *   product_subscriptions(iys_code, product VIA|VIA_PASS, sub_id, package,
 *          status, sub_start, sub_end, credit (-1 = unlimited), PK(iys_code,
 *          product)) + (v8) limited, auto_renewal, created: the one ViA
 *          credit (v8 moved via_subscriptions' rows here and dropped it)
 *   integrators(code PK, name, username UNIQUE, pw_salt, pw_hash,
 *          subscription ACTIVE|PAUSED|EXPIRED|CLOSED|NONE, sub_id,
 *          sub_package, sub_start, sub_end, created)
 *   integrator_brands(integrator_code, iys_code, brand_code -> brands,
 *          mesaj, arama, eposta ('read'|'write'|NULL), agreement, via,
 *          PK(integrator_code, iys_code, brand_code))
 *   tokens + owner 'sp'|'integrator' (iys_code is then the owner's code)
 *   account_names(username PK): every provider's and integrator's username
 *
 * Invariants
 * ----------
 *   - consent_log is append-only and hash-chained exactly like the module's
 *     (hash = SHA-256 of prev_hash and the row's fields); consent_state and
 *     the log row are written in one transaction.
 *   - A transactionId is SHA-256 (64 hex) of iys_code|brand_code|rtype|type|
 *     recipient|creation (seconds): two changes of one address in the same
 *     second get the same transactionId, as in İYS.
 *   - provider_records.records is the number of consent_state rows of its
 *     iys_code (no row: none).
 *   - A bulk item's change and its result are committed together (the bulk
 *     worker writes them in one batch), so an item still "enqueue" has no
 *     change in the log.
 *   - A daily file's text is a function of the log rows it names (the
 *     log is append-only), so it is kept as (date, max_id) and its hash,
 *     never as text.
 *   - Times are epoch seconds (UTC); İYS's text form is made by the caller.
 *   - Passwords and tokens are stored only as hashes.
 *   - A retailer_access or consent_mediator row names a retailer of the
 *     same brand and a key that has a consent_state row; a retailer named
 *     by either cannot be deleted.
 *   - A username logs in one account: account_names (kept by triggers on
 *     providers and integrators) refuses it a second time.
 *   - A provider's subscription reads EXPIRED while it is ACTIVE and its
 *     sub_end is past (every read of a provider computes it).
 *
 * Threads: one handle serves many threads (a mutex serializes calls).
 * Every write is durable (WAL, synchronous=FULL) when the call returns -
 * except inside a batch (below), whose writes are durable together when
 * iz_sim_batch_end returns 0.
 * Lists returned through `**list` are allocated with iz_xmalloc and freed by
 * the caller with free().
 */
#ifndef IZ_SIMSTORE_H
#define IZ_SIMSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/consent.h"
#include "core/enums.h"
#include "core/recipient.h"

typedef struct iz_sim_store iz_sim_store_t;

/* Open (creating) DIR/iys-sim.db, running migrations. */
int iz_sim_store_open(const char *dir, iz_sim_store_t **out, const char **err);
void iz_sim_store_close(iz_sim_store_t *st);

/* A batch: many calls of one thread in one transaction, so one fsync.
 * Between iz_sim_batch_begin and iz_sim_batch_end every call the thread
 * makes on st joins the batch, and other threads' calls wait for its end.
 * A refusal that writes nothing (iz_sim_consent_apply's IZ_ERULE and
 * IZ_REPEAT, a lookup that finds nothing) leaves the batch as it was; any
 * other failure may have written part of a call and spoils the batch:
 * iz_sim_consent_apply, the token calls and the bulk calls fail in it with
 * that error from then on, and iz_sim_batch_end rolls the whole batch back
 * and returns it. iz_sim_batch_end commits when rc is
 * 0 and the batch is unspoiled, else rolls back; it returns rc, the
 * batch's failure or the commit's. Every begin is paired with one end, also
 * when the begin failed; batches do not nest. While in a batch the thread
 * must not wait for anything that another thread holds while calling the
 * store. */
int iz_sim_batch_begin(iz_sim_store_t *st);
int iz_sim_batch_end(iz_sim_store_t *st, int rc);

/* The store's SQLite connection, for viastore.c, which keeps the via_*
 * tables on it (a call there is serialized and joins a batch like any call
 * of this file). */
struct iz_sq;
struct iz_sq *iz__sim_store_sq(iz_sim_store_t *st);

/* ---- providers and brands ------------------------------------------------ */

typedef enum {
    IZ_SUB_NONE = 0, /* no subscription record: H524 */
    IZ_SUB_ACTIVE,
    IZ_SUB_PAUSED,  /* H520 */
    IZ_SUB_EXPIRED, /* H520 */
    IZ_SUB_CLOSED   /* H521 */
} iz_sub_t;

/* The stored spelling (ACTIVE, PAUSED, EXPIRED, CLOSED, NONE); NULL when
 * out of range. */
const char *iz_sub_name(iz_sub_t s);
int iz_sub_parse(const char *s, iz_sub_t *out);

typedef struct iz_sim_provider {
    int64_t iys_code;
    char name[128];
    char username[128];
    iz_sub_t subscription;
    int64_t quota; /* consents (records) allowed; 0 = unlimited */
    int64_t created;
    char activation_date[11]; /* "YYYY-MM-DD": İYS activation (H467 after it); "" = none */
    /* The HS subscription beyond subscription (its state) and quota (its
     * consentLimit), set by iz_sim_hs_set. */
    bool limit_exceed; /* consentLimitExceed: the quota may be passed */
    bool api_access;   /* the package includes API use (false: 403 H586) */
    char sub_id[64];   /* "" = never set */
    char sub_package[128];
    int64_t sub_start, sub_end; /* epoch seconds; 0 = never set */
} iz_sim_provider_t;

/* Add a provider with its API user (password hashed with a random salt;
 * created 0 means now). IZ_EEXIST when the iysCode or the username is
 * taken. */
int iz_sim_provider_add(iz_sim_store_t *st, const iz_sim_provider_t *p, const char *password);
int iz_sim_provider_get(iz_sim_store_t *st, int64_t iys_code, iz_sim_provider_t *out);
/* Change subscription and/or quota (NULL keeps the current value). */
int iz_sim_provider_update(iz_sim_store_t *st, int64_t iys_code, const iz_sub_t *sub,
                           const int64_t *quota);
/* Set ("YYYY-MM-DD") or clear ("") a provider's activation date. */
int iz_sim_provider_set_activation(iz_sim_store_t *st, int64_t iys_code, const char *date);
/* Whose an API user or a token is. */
typedef enum { IZ_SIM_SP = 0, IZ_SIM_INTEGRATOR = 1 } iz_sim_owner_t;

/* Check a provider's username and password; IZ_ENOTFOUND when they do not
 * match (an integrator's user included). */
int iz_sim_provider_login(iz_sim_store_t *st, const char *username, const char *password,
                          int64_t *iys_code);
/* Check any API user's username and password: the provider's iysCode or
 * the integrator's code in *code, whose in *owner (may be NULL);
 * IZ_ENOTFOUND when they do not match. */
int iz_sim_login(iz_sim_store_t *st, const char *username, const char *password,
                 iz_sim_owner_t *owner, int64_t *code);
/* Every provider (for the admin view). */
int iz_sim_provider_list(iz_sim_store_t *st, iz_sim_provider_t **list, size_t *n);

/* IZ_EEXIST when the provider already has that brand, IZ_ENOTFOUND for an
 * unknown provider. */
int iz_sim_brand_add(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, const char *name);
/* 0 when the provider has the brand (name copied when name is not NULL). */
int iz_sim_brand_get(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, char name[128]);

/* ---- tokens ----------------------------------------------------------- */

/* Store a token pair (hex SHA-256 hashes) of the provider or integrator
 * code. */
int iz_sim_token_put(iz_sim_store_t *st, const char *access_hash, int64_t access_expires,
                     const char *refresh_hash, int64_t refresh_expires, int64_t code,
                     iz_sim_owner_t owner);
/* The owner of a valid (unexpired) access token (owner may be NULL);
 * IZ_ENOTFOUND otherwise. */
int iz_sim_token_access(iz_sim_store_t *st, const char *access_hash, int64_t now, int64_t *code,
                        iz_sim_owner_t *owner);
/* Consume a valid refresh token (it is deleted: each refresh rotates it);
 * IZ_ENOTFOUND when unknown, expired or already used. */
int iz_sim_token_refresh(iz_sim_store_t *st, const char *refresh_hash, int64_t now, int64_t *code,
                         iz_sim_owner_t *owner);
/* Drop expired tokens. */
int iz_sim_token_purge(iz_sim_store_t *st, int64_t now);

/* ---- consents ----------------------------------------------------------- */

typedef struct iz_sim_change {
    int64_t id;
    int64_t iys_code, brand_code;
    char recipient[IZ_RECIPIENT_MAX];
    iz_rtype_t rtype;
    iz_type_t type;
    iz_status_t status;
    iz_source_t source;   /* IZ_SOURCE_NONE: omitted (TACIR) */
    int64_t consent_date; /* 0: omitted (TACIR) */
    int64_t creation;     /* when İYS recorded it, epoch seconds */
    char txid[65];
    char request_id[37];   /* the bulk request it came from, or "" */
    char citizen_name[64]; /* for IYS_* changes: who made it (may be "") */
} iz_sim_change_t;

/* Judges a change inside the write transaction: cur is the key's current
 * record, provider_records the number of keys (consent_state rows) the
 * provider has (for the quota). Returns 0 to write, else an H-code string
 * through *hcode and non-zero. It runs with the store's lock held and must
 * not call the store. */
typedef int (*iz_sim_rule_fn)(void *ctx, const iz_current_t *cur, int64_t provider_records,
                              const char **hcode);

/* Apply one change: when idempotent is true and a change identical to chg
 * (same key, status, source, consent_date) exists, *chg is filled from it
 * and IZ_REPEAT returned. Otherwise rule (may be NULL) decides: on refusal
 * IZ_ERULE is returned with *hcode set. On success chg->creation (the
 * clock when 0), chg->txid and chg->id are set and the change is durable. */
int iz_sim_consent_apply(iz_sim_store_t *st, iz_sim_change_t *chg, bool idempotent,
                         iz_sim_rule_fn rule, void *ctx, const char **hcode);

/* The number of keys (consent_state rows) provider iys_code has, which its
 * quota counts; 0 for a provider with none. */
int iz_sim_provider_records(iz_sim_store_t *st, int64_t iys_code, int64_t *records);

/* The current record of a key; IZ_ENOTFOUND when none. */
int iz_sim_consent_get(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, iz_rtype_t rtype,
                       iz_type_t type, const char *recipient, iz_sim_change_t *out);

/* One page of a key's history, newest consentDate first (an omitted one
 * counts as its creation; ties: newest id first); *total is the count of
 * all its changes. limit 0 gives no rows but the total; a negative offset or
 * limit is IZ_EINVAL. */
int iz_sim_consent_history(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code,
                           iz_rtype_t rtype, iz_type_t type, const char *recipient, int64_t offset,
                           int64_t limit, iz_sim_change_t **list, size_t *n, int64_t *total);

/* Changes of a brand in log order with id > after_id and min_creation <=
 * creation <= max_creation, whose source is IYS_* (iys_sources) or not
 * (HS_* and omitted); at most limit. */
int iz_sim_changes(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, bool iys_sources,
                   int64_t after_id, int64_t min_creation, int64_t max_creation, size_t limit,
                   iz_sim_change_t **list, size_t *n);

/* Resolve a pull cursor: the newest log id of the brand with this txid and
 * creation second; IZ_ENOTFOUND when none. */
int iz_sim_change_id(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, const char *txid,
                     int64_t creation, int64_t *id);

/* A citizen's view: every brand's current record for a recipient (any
 * type), with the provider's and brand's names. */
typedef struct iz_sim_citizen_rec {
    iz_sim_change_t cur;
    char provider_name[128];
    char brand_name[128];
} iz_sim_citizen_rec_t;
int iz_sim_citizen_records(iz_sim_store_t *st, const char *recipient, iz_sim_citizen_rec_t **list,
                           size_t *n);

/* The change of a key that held at time t: the newest change whose
 * consent_date (creation when omitted) is <= t; IZ_ENOTFOUND when none. */
int iz_sim_consent_at(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, iz_rtype_t rtype,
                      iz_type_t type, const char *recipient, int64_t t, iz_sim_change_t *out);

/* Walk the hash chain; 0 when intact, IZ_ERULE with *bad_id the first row
 * that does not match (a changed row, or the row after a missing one). */
int iz_sim_verify(iz_sim_store_t *st, int64_t *bad_id);

/* ---- async bulk requests ---------------------------------------------- */

typedef struct iz_sim_bulk_item {
    int idx;
    char sub_request_id[37];
    char *body;     /* the item's JSON text (owned by the list) */
    char status[8]; /* "enqueue", "success", "failure" */
    char txid[65];
    int64_t creation;
    char error_code[8];
    char error_message[256];
} iz_sim_bulk_item_t;

typedef struct iz_sim_bulk {
    char request_id[37];
    int64_t iys_code, brand_code;
    int64_t created, process_after, processed_at; /* processed_at 0: not yet */
} iz_sim_bulk_t;

/* Record a request and its items (bodies are JSON texts) in one transaction.
 * created 0 means now, process_after 0 means created; sub_request_ids may be
 * NULL. IZ_EEXIST when the requestId is taken. */
int iz_sim_bulk_create(iz_sim_store_t *st, const iz_sim_bulk_t *b, const char *const *bodies,
                       const char *const *sub_request_ids, size_t n);
/* The request and its items (free with iz_sim_bulk_items_free); items and n
 * may both be NULL when only the request is wanted. */
int iz_sim_bulk_get(iz_sim_store_t *st, const char *request_id, iz_sim_bulk_t *b,
                    iz_sim_bulk_item_t **items, size_t *n);
void iz_sim_bulk_items_free(iz_sim_bulk_item_t *items, size_t n);
/* The oldest unprocessed request due at now; IZ_ENOTFOUND when none. */
int iz_sim_bulk_next_due(iz_sim_store_t *st, int64_t now, char request_id[37]);
/* Record one item's result. */
int iz_sim_bulk_item_result(iz_sim_store_t *st, const char *request_id, int idx, const char *status,
                            const char *txid, int64_t creation, const char *error_code,
                            const char *error_message);
/* Where the change (transactionId, creation) of a brand was first made:
 * the bulk request that made it and that item's subRequestId (both "" for a
 * single add or a citizen's change). IZ_ENOTFOUND when there is no such
 * change. v2's bulk status names the original of a repeated consent. */
typedef struct iz_sim_origin {
    char request_id[37];
    char sub_request_id[37];
} iz_sim_origin_t;
int iz_sim_change_origin(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, const char *txid,
                         int64_t creation, iz_sim_origin_t *out);
/* Mark a request processed. */
int iz_sim_bulk_done(iz_sim_store_t *st, const char *request_id, int64_t now);
/* Drop requests created before `before` (İYS keeps results 60 days). */
int iz_sim_bulk_purge(iz_sim_store_t *st, int64_t before);

/* ---- push ----------------------------------------------------------------- */

/* Register (replace) a brand's push connections (JSON array text). The
 * delivery cursor starts at the current end of the log. */
int iz_sim_push_set(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code,
                    const char *connections_json);
/* The same, keeping the delivery cursor of an existing registration. */
int iz_sim_push_replace(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code,
                        const char *connections_json);
typedef struct iz_sim_push {
    int64_t iys_code, brand_code;
    char *connections; /* JSON text, owned by the list */
    int64_t cursor;
} iz_sim_push_t;
int iz_sim_push_list(iz_sim_store_t *st, iz_sim_push_t **list, size_t *n);
void iz_sim_push_list_free(iz_sim_push_t *list, size_t n);
/* Move the delivery cursor forward (a smaller value is ignored);
 * IZ_ENOTFOUND when the brand has no registration. */
int iz_sim_push_advance(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, int64_t cursor);

/* ---- complaints ------------------------------------------------------------ */

typedef struct iz_sim_complaint {
    int64_t id;
    int64_t iys_code, brand_code;
    char recipient[IZ_RECIPIENT_MAX];
    iz_type_t type;
    int64_t message_time;
    char text[1024];
    int64_t created;
} iz_sim_complaint_t;

/* Record a complaint; sets c->id, and c->created when it was 0 (now). */
int iz_sim_complaint_add(iz_sim_store_t *st, iz_sim_complaint_t *c);
/* All complaints, newest first; iys_code 0 = every provider. */
int iz_sim_complaint_list(iz_sim_store_t *st, int64_t iys_code, iz_sim_complaint_t **list,
                          size_t *n);

/* ---- retailers (bayi) ------------------------------------------------------ */

#define IZ_SIM_RETAILER_TEXT 256 /* title, alias, name: 255 bytes at most */

/* A retailer of a brand, with İYS's fields as text ("" when not given). */
typedef struct iz_sim_retailer {
    int64_t code; /* retailerCode */
    int64_t iys_code, brand_code;
    char title[IZ_SIM_RETAILER_TEXT];
    char mersis[17];
    char alias[IZ_SIM_RETAILER_TEXT];
    char name[IZ_SIM_RETAILER_TEXT];
    char tckn[12];
    char mobile[16];
    char tin[12];
    char city_code[17], city_name[65];
    char town_code[17], town_name[65];
    char status[10]; /* "active", "passive", "suspended" */
    int64_t created;
    int64_t access_count; /* consents it has access to (read, never written) */
} iz_sim_retailer_t;

/* Add a retailer under r->iys_code and r->brand_code with a new random
 * 8-digit code, set in r->code (created 0 means now). IZ_ERULE with *hcode
 * (and *field, "mersis" or "tckn") when another retailer of the provider
 * has the same mersis or tckn: H253 when that one is passive, else H230
 * (mersis) or H231 (tckn); IZ_ERULE with H067 when no free code was found;
 * IZ_ENOTFOUND when the brand does not exist. */
int iz_sim_retailer_add(iz_sim_store_t *st, iz_sim_retailer_t *r, const char **hcode,
                        const char **field);
/* A retailer by its code, with its access_count; IZ_ENOTFOUND when none. */
int iz_sim_retailer_get(iz_sim_store_t *st, int64_t code, iz_sim_retailer_t *out);
/* One page of a brand's retailers in the order they were created; *total
 * is the count of all of them. A negative offset or limit is IZ_EINVAL. */
int iz_sim_retailer_list(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, int64_t offset,
                         int64_t limit, iz_sim_retailer_t **list, size_t *n, int64_t *total);
/* Delete a retailer of the brand: IZ_ENOTFOUND when the brand has no such
 * retailer, IZ_EEXIST when a consent names it (access or mediator). */
int iz_sim_retailer_delete(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, int64_t code);

/* One consent key. */
typedef struct iz_sim_key {
    int64_t iys_code, brand_code;
    iz_rtype_t rtype;
    iz_type_t type;
    char recipient[IZ_RECIPIENT_MAX];
} iz_sim_key_t;

/* 0 when every one of the n codes names a retailer of the brand, else
 * IZ_ERULE with *bad the first index that does not and *hcode H180 (no
 * such retailer) or H353 (another brand's). */
int iz_sim_retailers_check(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code,
                           const int64_t *codes, size_t n, size_t *bad, const char **hcode);

typedef enum {
    IZ_SIM_ACCESS_ADD,       /* give the codes access (and set the mediator) */
    IZ_SIM_ACCESS_SET,       /* the codes, and only they, have access */
    IZ_SIM_ACCESS_REMOVE,    /* take the codes' access away */
    IZ_SIM_ACCESS_REMOVE_ALL /* take every retailer's access away (codes unused) */
} iz_sim_access_op_t;

/* Change the retailer access of the consents of nkeys keys of one brand
 * (keys[0]'s iys_code and brand_code) in one transaction. The codes are
 * checked first as iz_sim_retailers_check does (IZ_ERULE, *bad, *hcode;
 * nothing written); keys with no consent are passed over and *found counts
 * the keys that have one. mediator (ADD only; 0 = none) becomes the
 * consent's retailerCode and gets access too; it must be checked like the
 * codes (*bad is then ncodes). */
int iz_sim_access_change(iz_sim_store_t *st, iz_sim_access_op_t op, const iz_sim_key_t *keys,
                         size_t nkeys, const int64_t *codes, size_t ncodes, int64_t mediator,
                         size_t *found, size_t *bad, const char **hcode);

/* What a consent's status shows of its retailers: its mediator (0 when
 * none) with the mediator's title, and how many retailers have access. */
typedef struct iz_sim_consent_retail {
    int64_t mediator;
    char title[IZ_SIM_RETAILER_TEXT];
    int64_t access_count;
} iz_sim_consent_retail_t;
int iz_sim_consent_retail(iz_sim_store_t *st, const iz_sim_key_t *key,
                          iz_sim_consent_retail_t *out);
/* One page of the retailers that have access to a key's consent, by code;
 * *total is the count of all of them (0 when the key has no consent). */
int iz_sim_access_list(iz_sim_store_t *st, const iz_sim_key_t *key, int64_t offset, int64_t limit,
                       iz_sim_retailer_t **list, size_t *n, int64_t *total);
/* ---- reconciliation (mutabakat, recon.c) --------------------------------- */

/* Changes of a brand in log order with after_id < id <= max_id and
 * from <= creation < to, of every source; at most limit. */
int iz_sim_day_changes(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, int64_t after_id,
                       int64_t max_id, int64_t from, int64_t to, size_t limit,
                       iz_sim_change_t **list, size_t *n);

/* One line of İYS's daily change summary. */
typedef struct iz_sim_day_stat {
    int64_t approval;  /* to ONAY from no record or RET */
    int64_t rejection; /* from ONAY to RET */
    int64_t pending;   /* items of the day's async requests not yet written */
    int64_t total;     /* every movement of the day, and the pending items */
} iz_sim_day_stat_t;
/* The summary of a brand's changes of recipient type rtype with
 * from <= creation < to: out[type - 1][0] for HS_* (and omitted) sources,
 * out[type - 1][1] for IYS_* ones (type: IZ_ARAMA, IZ_MESAJ, IZ_EPOSTA). */
int iz_sim_day_summary(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, iz_rtype_t rtype,
                       int64_t from, int64_t to, iz_sim_day_stat_t out[3][2]);

typedef struct iz_sim_brand_key {
    int64_t iys_code, brand_code;
} iz_sim_brand_key_t;
/* The brands with at least one change with from <= creation < to. */
int iz_sim_day_brands(iz_sim_store_t *st, int64_t from, int64_t to, iz_sim_brand_key_t **list,
                      size_t *n);

/* A brand's daily change file: the brand's changes of the day (Turkey
 * time) with id <= max_id, kept as that range of the append-only log and
 * the SHA-384 of the CSV text made of it (recon.c writes the text). */
typedef struct iz_sim_recon {
    int64_t iys_code, brand_code;
    char date[11]; /* "YYYY-MM-DD" */
    int64_t rows;
    int64_t max_id;
    char hash[97]; /* lowercase hex SHA-384 of the file */
    int64_t generated;
    int64_t agreed;     /* when the provider captured agreement; 0 = not */
    unsigned char *tsr; /* the RFC 3161 timestamp reply (DER), owned */
    size_t tsr_len;
} iz_sim_recon_t;
/* Store (replace) a file; a changed hash drops the agreement. */
int iz_sim_recon_put(iz_sim_store_t *st, const iz_sim_recon_t *f);
/* IZ_ENOTFOUND when the brand has no file for the date; free *out's tsr
 * with iz_sim_recon_clear. */
int iz_sim_recon_get(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, const char *date,
                     iz_sim_recon_t *out);
void iz_sim_recon_clear(iz_sim_recon_t *f);
/* Record the provider's agreement with the file whose hash is hash
 * (IZ_ENOTFOUND when the brand has no such file). */
int iz_sim_recon_agree(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, const char *date,
                       const char *hash, int64_t now);
/* Whether the day-end of date has run; mark it run. */
int iz_sim_recon_day_done(iz_sim_store_t *st, const char *date, bool *done);
int iz_sim_recon_day_mark(iz_sim_store_t *st, const char *date, int64_t now);
/* Drop files and day marks of dates before `before` ("YYYY-MM-DD"). */
int iz_sim_recon_purge(iz_sim_store_t *st, const char *before);
/* The timestamping key and certificate (PEM, malloc'd); IZ_ENOTFOUND when
 * none yet. iz_sim_tsa_put keeps the first pair stored. */
int iz_sim_tsa_get(iz_sim_store_t *st, char **key_pem, char **cert_pem);
int iz_sim_tsa_put(iz_sim_store_t *st, const char *key_pem, const char *cert_pem);
/* ---- accounts: subscriptions, integrators (simstore_accounts.c) ---------- */

/* A subscription's descriptive part (its state is kept beside it). */
typedef struct iz_sim_subinfo {
    iz_sub_t status;
    char id[64];        /* "" = never set */
    char package[128];  /* "" = never set */
    int64_t start, end; /* epoch seconds; 0 = never set */
} iz_sim_subinfo_t;

/* Set a provider's whole HS subscription: state and descriptive part,
 * consent limit (quota, 0 = none), whether the limit may be passed and
 * whether the package includes API use. IZ_ENOTFOUND for an unknown
 * provider. */
int iz_sim_hs_set(iz_sim_store_t *st, int64_t iys_code, const iz_sim_subinfo_t *hs, int64_t quota,
                  bool limit_exceed, bool api_access);
/* The number of consent keys (records) a provider has: the count the quota
 * is judged against (usedConsentLimit). */
int iz_sim_provider_used(iz_sim_store_t *st, int64_t iys_code, int64_t *used);

/* A provider's ViA or ViA PASS subscription (credit -1 = unlimited). The
 * ViA row is the one source of the ViA credit: the accounts' subscription
 * query shows it and ViA's and OTP management's processes take from it. */
typedef struct iz_sim_via {
    bool pass; /* ViA PASS, else ViA */
    iz_sim_subinfo_t sub;
    int64_t credit;
    bool limited;      /* isLimited (OTP management's subscription query) */
    bool auto_renewal; /* autoRenewal */
    int64_t created;   /* epoch seconds the row was set; 0 = now */
} iz_sim_via_t;
/* Set (replace) or, when v is NULL, drop the provider's ViA (pass false)
 * or ViA PASS subscription. IZ_ENOTFOUND for an unknown provider. */
int iz_sim_via_set(iz_sim_store_t *st, int64_t iys_code, bool pass, const iz_sim_via_t *v);
/* IZ_ENOTFOUND when the provider has no such subscription. An ACTIVE one
 * past its expiry date reads EXPIRED. */
int iz_sim_via_get(iz_sim_store_t *st, int64_t iys_code, bool pass, iz_sim_via_t *out);
/* Take n credits of the provider's ViA subscription: IZ_ERULE when it has
 * none or fewer are left (nothing taken); an unlimited credit (-1) stays. */
int iz_sim_via_take(iz_sim_store_t *st, int64_t iys_code, int64_t n);

typedef struct iz_sim_integrator {
    int64_t code;
    char name[128];
    char username[128];
    iz_sim_subinfo_t sub; /* status IZ_SUB_NONE: no subscription */
    int64_t created;
} iz_sim_integrator_t;

/* Add an integrator with its API user (password hashed with a random
 * salt; created 0 means now). IZ_EEXIST when its code or the username
 * (also a provider's) is taken. */
int iz_sim_integrator_add(iz_sim_store_t *st, const iz_sim_integrator_t *ig, const char *password);
int iz_sim_integrator_get(iz_sim_store_t *st, int64_t code, iz_sim_integrator_t *out);
int iz_sim_integrator_list(iz_sim_store_t *st, iz_sim_integrator_t **list, size_t *n);
/* Replace an integrator's subscription. */
int iz_sim_integrator_sub_set(iz_sim_store_t *st, int64_t code, const iz_sim_subinfo_t *sub);

/* One brand a provider authorized an integrator for. */
typedef struct iz_sim_grant {
    int64_t integrator_code, iys_code, brand_code;
    iz_right_t mesaj, arama, eposta; /* WRITE includes READ */
    bool agreement;                  /* reconciliation (agreementControl) */
    bool via;                        /* ViA services (viaControl) */
    /* as read by iz_sim_grant_list: */
    char brand_name[128];
    char provider_name[128];
    bool master; /* the provider's main brand: its lowest brandCode */
} iz_sim_grant_t;

/* The right of one consent type in a grant. */
iz_right_t iz_sim_grant_right(const iz_sim_grant_t *g, iz_type_t type);
/* Set (replace) the grant of g's integrator, provider and brand.
 * IZ_ENOTFOUND when the integrator or the brand does not exist. */
int iz_sim_grant_set(iz_sim_store_t *st, const iz_sim_grant_t *g);
/* Withdraw a grant; IZ_ENOTFOUND when there is none. */
int iz_sim_grant_delete(iz_sim_store_t *st, int64_t integrator_code, int64_t iys_code,
                        int64_t brand_code);
int iz_sim_grant_get(iz_sim_store_t *st, int64_t integrator_code, int64_t iys_code,
                     int64_t brand_code, iz_sim_grant_t *out);
/* One page of an integrator's grants (integrator_code 0: every
 * integrator's) over one provider (iys_code 0: every provider), ordered by
 * iysCode and brandCode; *total counts them all (may be NULL). */
int iz_sim_grant_list(iz_sim_store_t *st, int64_t integrator_code, int64_t iys_code, int64_t offset,
                      int64_t limit, iz_sim_grant_t **list, size_t *n, int64_t *total);

/* Every brand of a provider, lowest brandCode (the main brand) first,
 * with its current consents and its retailers counted when counts is true
 * (else 0). */
typedef struct iz_sim_brand_stats {
    int64_t brand_code;
    char name[128];
    int64_t approval, rejection, total;
    int64_t retailers; /* rows of retailers under the brand, any status */
} iz_sim_brand_stats_t;
int iz_sim_brand_stats(iz_sim_store_t *st, int64_t iys_code, bool counts,
                       iz_sim_brand_stats_t **list, size_t *n);

/* The emulator's token signing key (n bytes), made at random the first
 * time and kept in the store's meta table. */
int iz_sim_signing_key(iz_sim_store_t *st, uint8_t *key, size_t n);

#endif
