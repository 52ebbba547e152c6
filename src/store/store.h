/*
 * store.h - izin's storage interface.
 *
 * Callers see only this header; the backend (SQLite, the embedded default,
 * in store_sqlite.c; PostgreSQL later) is chosen by iz_store_open()'s
 * location and hidden behind the opaque iz_store_t. Only the domain layer
 * (src/domain/) writes consents through it; the other calls serve the
 * sync engine, the send records and the administration commands.
 *
 * Schema (version 11; the version each table or column came in is named)
 * -------------------------------------------------------------------
 *   meta(key TEXT PK, value TEXT)                    schema_version, ...
 *   accounts(id PK, name UNIQUE, iys_code, activation_date TEXT NULL
 *            "YYYY-MM-DD", iys_url, iys_user, iys_password (sealed: "sb1:"
 *            + base64 secretbox, see sys/crypto.h; v4 seals the older clear
 *            ones), plan, created_at)
 *   brands(id PK, account_id -> accounts, code, name, keyword, short_number,
 *          subscriber_number, slug UNIQUE NULL, created_at,
 *          UNIQUE(account_id, code))
 *   api_keys(id PK, account_id -> accounts, hash TEXT UNIQUE (hex SHA-256 of
 *          the key), prefix TEXT (first 8 chars, for display), created_at,
 *          revoked_at NULL)
 *   consent_log(id PK AUTOINCREMENT, brand_id, recipient, rtype, type,
 *          status, source, consent_date, creation_ms, origin, iys_state,
 *          iys_txid, iys_error, warning, evidence, prev_hash, hash)
 *          retailer_code (İYS's 8-digit retailer number, NULL when none),
 *          retailer_access (the codes joined by ',', NULL when none)  (v12)
 *   consent_state(brand_id, recipient, rtype, type) PK -> log_id of the
 *          current change, status, source, consent_date
 *   outbox(id PK, log_id UNIQUE -> consent_log, created_ms, state PENDING|
 *          SENDING|SENT, bulk, attempts, next_ms, request_id, sent_ms,
 *          last_error, req_index)                         (v2: scheduling)
 *          account_id (the brand's), posted_ms (when İYS took its bulk
 *          request)                                  (v6: the shared budget)
 *   iys_cursor(brand_id, source HS|IYS) PK, cursor, updated_ms    (v2)
 *   ret_deadlines(log_id PK -> consent_log, deadline (epoch s), done_ms) (v2)
 *   sms_messages(id PK, brand_id, created_ms, sender, text, commercial,
 *          encoding, parts, accepted, blocked)                          (v3)
 *          account_id, kind SEND|REPLY, state QUEUED|DONE, priority,
 *          rtype, opt_out, idem_key, idem_hash    (v10: the outbound queue;
 *          UNIQUE(account_id, idem_key) when there is a key)
 *   sms_recipients(message_id -> sms_messages, seq, recipient, outcome
 *          SENT|FAILED|NO_CONSENT|RET|INVALID, gateway_id) PK(message_id, seq)
 *          outcome also QUEUED|SENDING|DELIVERED|UNKNOWN, gateway_id (izin's
 *          message id) UNIQUE, error, sent_ms, dlr_status, dlr_ms, raw_json
 *          (v10)
 *   brand_keywords(brand_id, pos, keyword, folded), brands.reply_* and
 *          sms_inbound(id PK, gateway, msg_id, sender, receiver, smsc, text,
 *          received_ms, created_ms, brand_id, outcome, detail, reply,
 *          UNIQUE(gateway, msg_id))                                       (v9)
 *   voice_campaigns(id PK, brand_id, account_id, name, commercial, rtype,
 *          created_ms, allowed, blocked)                                (v3)
 *   voice_numbers(campaign_id -> voice_campaigns, seq, recipient, outcome
 *          ALLOWED|NO_CONSENT|RET|INVALID) PK(campaign_id, seq)
 *   jobs(id TEXT PK, account_id, brand_id, state QUEUED|RUNNING|DONE|FAILED,
 *          format, path, total, processed, accepted, rejected, resume_line,
 *          error, warnings, created_ms, started_ms, updated_ms, finished_ms,
 *          owner "host:pid")
 *   job_errors(job_id, line, code, message, raw) PK(job_id, line)     (v7)
 *   iys_quarantine(id PK, brand_id, via pull|push|recon, source IYS|HS|NULL,
 *          raw (the item's JSON as İYS sent it), raw_hash (hex SHA-256),
 *          reason, created_ms, UNIQUE(brand_id, raw_hash))               (v4)
 *   iys_tokens(account_id PK -> accounts, base_url, username (what the
 *          pair was issued for), access, refresh (sealed, as iys_password;
 *          "" when none), access_exp, refresh_exp, blocked_until (epoch s,
 *          0 none; blocked_until: no token request before it, after H084),
 *          updated_ms)                                                  (v5)
 *   iys_days(log_id PK, brand_id, day "YYYY-MM-DD", created (epoch s)):
 *          the Turkey-time day İYS recorded an accepted change of izin's on
 *          (its creationDate), so that a day's reconciliation knows which
 *          of izin's changes İYS's file of the day must hold       (v11)
 *   iys_recon(brand_id, report_date "YYYY-MM-DD", status MATCHED|REPAIRED|
 *          MISMATCH|FAILED, rows, matched, repaired, pending, mismatched,
 *          hash (hex SHA-384 of İYS's file, NULL: no file), agreed (the
 *          agreement was recorded with İYS), agreed_ms, tsr (İYS's RFC 3161
 *          timestamp reply, DER, NULL: none), details (JSON array of what
 *          could not be repaired), error, started_ms, finished_ms,
 *          PK(brand_id, report_date)): the last reconciliation of each
 *          brand-day                                                  (v11)
 *   retailers(brand_id -> brands, code, title, name, alias, tckn, tin,
 *          mersis, mobile, city_code, city_name, town_code, town_name, status,
 *          access_count, updated_ms) PK(brand_id, code): izin's copy of a
 *          brand's retailers at İYS                                    (v12)
 *   retailer_lists(brand_id PK -> brands, synced_ms): when the brand's whole
 *          list was last read from İYS; a brand without a row has a copy
 *          izin cannot vouch for                                       (v12)
 *   brands.info_text: the brand's information text for its consent page (v13)
 *   accounts.iys_integrator: the İYS partner (iş ortağı) code whose token
 *          sends the account's changes, 0 for the account's own user;
 *   iys_partner_tokens(integrator_code, base_url) PK, username, access,
 *          refresh, access_exp, refresh_exp, blocked_until, updated_ms:
 *          the partner's token state, as iys_tokens, one for every account
 *          of that partner on that İYS;
 *   iys_standing(account_id PK -> accounts, sending, reason, json,
 *          updated_ms): the sync engine's last read-out of the account's
 *          standing with İYS (iys/standing.h)        (v14: partner mode,
 *          subscriptions)
 *   brands.page_mode ('LOCAL' | 'IYS'), page_otp_template, page_vkn: how
 *          the brand's consent page proves a number (v15: İYS-verified
 *          consent page)
 *   webhooks(id PK, brand_id UNIQUE -> brands, url, secret (sealed, as
 *          iys_password), created_ms, updated_ms, cursor (the last change
 *          id delivered or given up), batch_first, batch_last, batch_count
 *          (the batch that failed and is being retried; batch_last 0:
 *          none), failing_since_ms, attempts, next_ms, last_status,
 *          last_error): a brand's customer webhook and its delivery state
 *          (hook/webhook.h)                                          (v16)
 *   webhook_dead(id PK, brand_id -> brands, first_id, last_id, count,
 *          attempts, last_status, last_error, created_ms (its first
 *          failure), dead_ms, retry (a retry was asked for)): batches
 *          given up on, kept until a retry delivers them          (v16)
 *   panel_users(id PK, account_id -> accounts, email UNIQUE COLLATE NOCASE,
 *          pwhash (libsodium's argon2id string), must_change (a generated
 *          password, to be replaced at first login), created_at, last_login
 *          (epoch s, NULL never))
 *   panel_sessions(hash PK (hex SHA-256 of the session token), user_id ->
 *          panel_users, created_at, last_seen (epoch s))
 *   panel_login_failures(email (lower-cased ASCII), at (epoch s)): failed
 *          logins, for the lockout; rows older than a day are pruned
 *   stat_state(brand_id, type, rtype, status, source ('' when none), n) PK
 *          all but n: how many consent_state rows have those values, kept
 *          by triggers on consent_state (every path that writes it)
 *   stat_days(brand_id, day (Turkey's "YYYY-MM-DD" of creation_ms), origin,
 *          n) PK all but n: changes recorded, kept by triggers on
 *          consent_log and log_segments (a segment counts its entries)
 *   consent_log_iys: a partial index of the İYS-origin changes by brand
 *                              (v17: the panel)
 *   brands.trade_name, mersis, tradesman, contact: the sender's identity
 *          and contact every commercial SMS carries (v18: content rules);
 *          account_usage(account_id PK, records): each account's
 *          consent_state rows, moved in the same transaction as they are
 *          inserted (the plan's quota is judged against it)
 *
 * Invariants
 * ----------
 *   - consent_log is append-only: rows are never deleted, and only the
 *     iys_* columns of a row change after it is written.
 *   - Every consent_log row's hash = SHA-256(prev_hash | the row's
 *     immutable fields); prev_hash is the hash of the row before it ("" for
 *     the first). A changed or missing row breaks the chain. Exactly: hex
 *     SHA-256 of prev_hash|id|brand_id|recipient|rtype|type|status|source|
 *     consent_date|creation_ms|origin|evidence, each field as the text the
 *     column holds (integers in decimal, NULL as ""). A row with retailer
 *     fields (v12) hashes one field more after evidence:
 *     "<retailer_code>/<retailer_access>" (either side "" when NULL); a row
 *     without them hashes as before, so the rows of older versions verify
 *     unchanged. SQLite triggers refuse DELETE and UPDATE of those columns
 *     (and warning, retailer_code, retailer_access) once a row has its
 *     hash.
 *   - For every key in consent_state, log_id is the newest consent_log row
 *     of that key; the state row and the log row are written in one
 *     transaction, so the two never disagree.
 *   - A change whose iys_state is PENDING or SENT has exactly one outbox
 *     row, written in the same transaction as the change; the row goes
 *     when İYS's final answer (ACCEPTED/REJECTED) is recorded, in the same
 *     transaction as that answer. A PENDING RET has a ret_deadlines row.
 *   - Only the SHA-256 of an API key is stored; the key itself never is.
 *     The same for a panel session's token; a panel password only as its
 *     argon2id hash.
 *   - A panel user's sessions go with the user (deleted in one transaction).
 *   - Enum columns hold İYS's spellings (TEXT), times are epoch seconds
 *     (consent_date) or milliseconds (creation_ms), UTC. An absent value
 *     (IZ_SOURCE_NONE, consent_date 0, origin/iys_state NONE, "" for
 *     activation_date, slug, iys_txid, iys_error, warning, evidence) is
 *     stored as NULL and read back as absent.
 *   - Strings that do not fit their struct buffer are refused on write
 *     (IZ_ETOOBIG), never truncated.
 *   - A webhook's cursor only moves forward, and past a batch only when
 *     the receiver took it (2xx) or the batch became a webhook_dead row in
 *     the same transaction: no change of a brand with a webhook is passed
 *     over silently.
 *   - Secrets (accounts.iys_password, iys_tokens.access and .refresh,
 *     webhooks.secret) are
 *     stored only sealed, under a key kept outside the database; opening
 *     the store checks that the key opens every stored password, and
 *     refuses to go on otherwise.
 *   - An iys_tokens row is good only for the base URL and user it names:
 *     read for another (the account's İYS settings changed), it is none.
 *   - An SMS message is handed to the gateway only from SENDING, and a
 *     message leaves SENDING only with the gateway's answer or as UNKNOWN:
 *     no message is ever sent twice by izin, across crashes too. A send is
 *     DONE only when none of its messages is QUEUED or SENDING.
 *   - An İYS change that cannot be applied is written to iys_quarantine
 *     (with its raw JSON and the reason) before the pull cursor moves past
 *     it: nothing İYS reports is dropped.
 *
 * Threads: one iz_store_t may be used from many threads; the backend
 * serializes access. Writes are durable when a call returns 0 (SQLite: WAL,
 * synchronous=FULL). Storage failures return IZ_EIO, or IZ_EBUSY when
 * another process held the database lock past the busy timeout (5 s).
 * Migrations: opening runs the missing ones in one transaction; a store at
 * the current version is only read; a store with a newer version than the
 * binary knows is refused with IZ_EUNSUPPORTED.
 */
#ifndef IZ_STORE_H
#define IZ_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/consent.h"
#include "core/enums.h"
#include "core/recipient.h"
#include "core/retail.h"
#include "core/smstext.h"
#include "sys/crypto.h"

/* The schema version this build creates (see the migrations). */
#define IZ_STORE_SCHEMA_VERSION 18

typedef struct iz_store iz_store_t;

/* Where a store lives, parsed from a location string in one place:
 *   DIR                      a data directory: the SQLite file DIR/izin.db
 *   sqlite:PATH, file:PATH   the SQLite file PATH (its folder is the data
 *                            directory)
 *   postgres://..., postgresql://...   PostgreSQL (not in this build)
 * Anything else that starts with a scheme ("name:") is refused, so a typo
 * such as "postgresql:/x" never becomes a folder of that name. A directory
 * whose name holds a colon is written "./name". The data directory holds
 * the store's companions: the secret key file, the SMS log, the emulator's
 * store in the demo. */
typedef enum { IZ_STORE_DIR = 1, IZ_STORE_SQLITE, IZ_STORE_POSTGRES } iz_store_kind_t;

#define IZ_PATH_MAX 4096

typedef struct iz_store_loc {
    iz_store_kind_t kind;
    char db[IZ_PATH_MAX];       /* SQLite file; for PostgreSQL the URL */
    char dir[IZ_PATH_MAX];      /* data directory ("" for PostgreSQL) */
    char key_file[IZ_PATH_MAX]; /* the secret key beside the database: DB.key */
} iz_store_loc_t;

/* Parse location into *out. 0, or IZ_EINVAL / IZ_ETOOBIG with *err (static
 * or thread-local text) saying why. */
int iz_store_location_parse(const char *location, iz_store_loc_t *out, const char **err);

typedef struct iz_store_opts {
    /* The key that seals secrets, as 64 hex digits (IZIN_SECRET_KEY); NULL:
     * the key file beside the database, created 0600 on first use. */
    const char *secret_key_hex;
} iz_store_opts_t;

/* Open (creating when missing) the store at location (see above); opts may
 * be NULL. Runs the migrations, loads the secret key, seals any secret
 * still stored in clear and checks that the key opens every sealed one.
 * PostgreSQL answers IZ_EUNSUPPORTED until that backend exists. On failure
 * *err (when not NULL) gets a static or thread-local message. */
int iz_store_open(const char *location, const iz_store_opts_t *opts, iz_store_t **out,
                  const char **err);
void iz_store_close(iz_store_t *st);

/* Current schema version of an open store. */
int iz_store_schema_version(iz_store_t *st);

/* 0 when the store answers a trivial query (health check). */
int iz_store_ping(iz_store_t *st);

/* ---- accounts, brands, keys ------------------------------------------- */

#define IZ_NAME_MAX 128
#define IZ_URL_MAX 512

typedef struct iz_account {
    int64_t id;
    char name[IZ_NAME_MAX];
    int64_t iys_code;
    char activation_date[11]; /* "YYYY-MM-DD" or "" (upload period) */
    char iys_url[IZ_URL_MAX]; /* "" = none configured */
    char iys_user[IZ_NAME_MAX];
    char iys_password[IZ_NAME_MAX];
    char plan[64];
    int64_t created_at;     /* epoch seconds */
    int64_t iys_integrator; /* partner mode: the partner's code (iys_user and
                             * iys_password are then ""); 0: its own user */
} iz_account_t;

typedef struct iz_brand {
    int64_t id;
    int64_t account_id;
    int64_t code;
    char name[IZ_NAME_MAX];
    char keyword[64];
    char short_number[16];
    char subscriber_number[16];
    char slug[64]; /* "" = none */
    int64_t created_at;
} iz_brand_t;

/* Add an account (a->id is ignored and set; a->created_at is set to now
 * when 0). IZ_EEXIST when the name is taken, IZ_EINVAL for an empty name or
 * an activation_date not "YYYY-MM-DD". */
int iz_store_account_add(iz_store_t *st, iz_account_t *a);
int iz_store_account_by_name(iz_store_t *st, const char *name, iz_account_t *out);
int iz_store_account_get(iz_store_t *st, int64_t id, iz_account_t *out);

/* Every account by id, without passwords (iys_password ""); the caller
 * frees *list. */
int iz_store_accounts_all(iz_store_t *st, iz_account_t **list, size_t *n);

/* Add a brand (b->id is set; b->created_at is set to now when 0).
 * IZ_ENOTFOUND for an unknown account, IZ_EEXIST when the account already
 * has that code or the slug is taken, IZ_EINVAL for code <= 0 or an empty
 * name. */
int iz_store_brand_add(iz_store_t *st, iz_brand_t *b);

/* The brand `code` of account `account_id`; IZ_ENOTFOUND when the account
 * has no such brand (another account's brand is not found either). */
int iz_store_brand_get(iz_store_t *st, int64_t account_id, int64_t code, iz_brand_t *out);

/* ---- a brand's SMS keywords, numbers and replies (inbound SMS) ------------ */

#define IZ_KEYWORDS_MAX 8 /* keywords of one brand */
#define IZ_REPLY_MAX 480  /* bytes of one reply text, NUL included */

typedef struct iz_brand_sms {
    char keywords[IZ_KEYWORDS_MAX][64]; /* as written; [0] is brands.keyword, the main one */
    size_t nkeywords;
    /* Reply texts; "" = izin's Turkish default. {brand} {channels} {keyword}
     * {number} are filled in (sms/inbound.h). */
    char reply_onay[IZ_REPLY_MAX];
    char reply_ret[IZ_REPLY_MAX];
    char reply_help[IZ_REPLY_MAX];
} iz_brand_sms_t;

/* A brand's keywords and reply texts (none set: nkeywords 0, texts ""). */
int iz_store_brand_sms_get(iz_store_t *st, int64_t brand_id, iz_brand_sms_t *out);

/* Change a brand (found by b->id; its account and code stay): name, short
 * and subscriber numbers, slug, keywords (b->keyword becomes keywords[0])
 * and reply texts, in one transaction. IZ_EEXIST (*conflict names what)
 * when a keyword, folded, is another brand's on the same short number,
 * the subscriber number is another brand's, or the slug is taken;
 * IZ_ENOTFOUND for no such brand. */
int iz_store_brand_update(iz_store_t *st, iz_brand_t *b, const iz_brand_sms_t *sms,
                          const char **conflict);

/* The brand whose consent page slug is slug (any account's: slugs are
 * unique); IZ_ENOTFOUND when none. */
int iz_store_brand_by_slug(iz_store_t *st, const char *slug, iz_brand_t *out);

/* A brand's information text (KVKK aydınlatma metni, plain text shown on
 * its consent page; "" = none), at most IZ_BRAND_INFO_MAX - 1 bytes. get
 * needs size >= IZ_BRAND_INFO_MAX; set answers IZ_ETOOBIG for a longer
 * text and IZ_ENOTFOUND for no such brand. */
#define IZ_BRAND_INFO_MAX 16384
int iz_store_brand_info_get(iz_store_t *st, int64_t brand_id, char *out, size_t size);
int iz_store_brand_info_set(iz_store_t *st, int64_t brand_id, const char *text);

/* How a brand's consent page proves a number: izin's own code (iys false,
 * the default), or İYS's SMS OTP (ViA Pass) with the brand's OTP template
 * at İYS and the sender's VKN, which İYS's start call needs. set answers
 * IZ_EINVAL for an IYS mode without a template or with a VKN that is not
 * 10 or 11 digits, IZ_ENOTFOUND for no such brand. */
#define IZ_PAGE_TEMPLATE_MAX 65
typedef struct iz_brand_page {
    bool iys;
    char otp_template[IZ_PAGE_TEMPLATE_MAX]; /* İYS's templateId, "" = none */
    char vkn[12];                            /* digits, "" = none */
} iz_brand_page_t;
bool iz_brand_page_ok(const iz_brand_page_t *p); /* what set accepts */
int iz_store_brand_page_get(iz_store_t *st, int64_t brand_id, iz_brand_page_t *out);
int iz_store_brand_page_set(iz_store_t *st, int64_t brand_id, const iz_brand_page_t *p);

/* Who sends a brand's commercial messages and how to reach them, which
 * every commercial SMS must carry (core/content.h): a company's trade name
 * and MERSİS number (16 digits), or a tradesman's (esnaf) name and
 * surname, and a contact (phone, address, web or e-mail). "" = not set.
 * set answers IZ_EINVAL for a MERSİS number that is not 16 digits or a
 * text with control characters or invalid UTF-8, IZ_ENOTFOUND for no such
 * brand. */
typedef struct iz_brand_ident {
    char trade_name[161];
    char mersis[17];
    char tradesman[101];
    char contact[161];
} iz_brand_ident_t;
bool iz_brand_ident_ok(const iz_brand_ident_t *id); /* what set accepts */
int iz_store_brand_ident_get(iz_store_t *st, int64_t brand_id, iz_brand_ident_t *out);
int iz_store_brand_ident_set(iz_store_t *st, int64_t brand_id, const iz_brand_ident_t *id);

/* The brands an inbound message to number reaches: those whose short
 * number or subscriber number it is (digits as stored), each with its
 * keywords in sms[i]. Both lists allocated; free() them. */
int iz_store_brands_by_number(iz_store_t *st, const char *number, iz_brand_t **list,
                              iz_brand_sms_t **sms, size_t *n);

/* ---- inbound SMS ------------------------------------------------------------ */

#define IZ_INBOUND_TEXT_MAX 1600

/* One mobile-originated message as izin took it, and its answer. */
typedef struct iz_inbound {
    int64_t id;
    char gateway[16];   /* kannel, json, jasmin */
    char msg_id[128];   /* the gateway's message id: the same id is applied once */
    char sender[40];    /* as the gateway gave it */
    char receiver[40];
    char smsc[64];
    char text[IZ_INBOUND_TEXT_MAX]; /* decoded, UTF-8 */
    int64_t received_ms;
    int64_t created_ms;
    int64_t brand_id;   /* 0: no brand found */
    char outcome[24];   /* APPLIED, HELP, NO_BRAND, NO_NUMBER, BAD_SENDER, REFUSED */
    char detail[64];    /* the action and channels, or the refusing code */
    char reply[IZ_REPLY_MAX];
} iz_inbound_t;

/* The stored message of (gateway, msg_id); IZ_ENOTFOUND when none. */
int iz_store_inbound_get(iz_store_t *st, const char *gateway, const char *msg_id,
                         iz_inbound_t *out);

/* Store a message (in->id and in->created_ms set). Inside an
 * iz_store_then_fn it joins that transaction. IZ_EEXIST when (gateway,
 * msg_id) is stored already. */
int iz_store_inbound_add(iz_store_t *st, iz_inbound_t *in);

/* A brand's newest inbound messages, newest first, at most limit (the
 * panel's numbers page); *list allocated, free() it. */
int iz_store_inbound_of_brand(iz_store_t *st, int64_t brand_id, size_t limit, iz_inbound_t **list,
                              size_t *n);

/* Store an API key's hash (64 lower-case hex digits of SHA-256, else
 * IZ_EINVAL) and display prefix (at most 32 chars, else IZ_ETOOBIG).
 * IZ_ENOTFOUND for an unknown account, IZ_EEXIST when the hash is taken. */
int iz_store_key_add(iz_store_t *st, int64_t account_id, const char *hash_hex, const char *prefix);

/* Make a new API key of account_id: a random key (sys/crypto.h
 * iz_key_generate) into key, of which only the SHA-256 and the first 8
 * characters (its display prefix) are stored. What `izin key add`, the
 * demo and the panel's keys page share. 0, IZ_ENOTFOUND for an unknown
 * account, IZ_EIO; key is wiped on failure. The caller shows key once and
 * wipes it. */
int iz_store_key_create(iz_store_t *st, int64_t account_id, char key[IZ_KEY_LEN + 1]);

/* The account a key hash belongs to; IZ_ENOTFOUND when none (or revoked). */
int iz_store_key_lookup(iz_store_t *st, const char *hash_hex, int64_t *account_id);

/* Revoke account_id's key with that hash (revoked_at = now); IZ_ENOTFOUND
 * when the account has no such live key. */
int iz_store_key_revoke(iz_store_t *st, int64_t account_id, const char *hash_hex);

/* An account's API keys for display (never the key: only its prefix),
 * newest first, revoked ones included. */
typedef struct iz_key_info {
    int64_t id;
    char prefix[33];
    int64_t created_at; /* epoch s */
    int64_t revoked_at; /* 0: live */
} iz_key_info_t;
int iz_store_keys_list(iz_store_t *st, int64_t account_id, iz_key_info_t **list, size_t *n);

/* Revoke account_id's key by its id (the panel names keys by id, it never
 * holds a hash); IZ_ENOTFOUND when the account has no such live key. */
int iz_store_key_revoke_id(iz_store_t *st, int64_t account_id, int64_t key_id);

/* Every brand of one account, by code. */
int iz_store_brands_of(iz_store_t *st, int64_t account_id, iz_brand_t **list, size_t *n);

/* ---- panel users, sessions and failed logins (web/) ------------------------ */

#define IZ_EMAIL_MAX 255  /* bytes of a panel user's e-mail, NUL included */
#define IZ_PWHASH_MAX 128 /* libsodium's crypto_pwhash_STRBYTES */

typedef struct iz_user {
    int64_t id; /* set by add */
    int64_t account_id;
    char email[IZ_EMAIL_MAX];   /* as given; unique without regard to ASCII case */
    char pwhash[IZ_PWHASH_MAX]; /* "$argon2id$..." (sys/crypto.h iz_pw_hash) */
    bool must_change;           /* a generated password: the panel asks for a new one first */
    int64_t created_at;         /* epoch s; 0 on add: now */
    int64_t last_login;         /* epoch s; 0: never */
} iz_user_t;

/* Add a panel user (u->id and created_at set). IZ_EEXIST when the e-mail
 * is taken by any account (in any ASCII case), IZ_ENOTFOUND for an unknown
 * account, IZ_EINVAL for an empty e-mail or a pwhash that is not argon2id's
 * string, IZ_ETOOBIG for a field that does not fit. */
int iz_store_user_add(iz_store_t *st, iz_user_t *u);

/* The user with that e-mail (ASCII case ignored), or with that id;
 * IZ_ENOTFOUND when none. */
int iz_store_user_by_email(iz_store_t *st, const char *email, iz_user_t *out);
int iz_store_user_get(iz_store_t *st, int64_t id, iz_user_t *out);

/* An account's users by e-mail (the caller frees *list). */
int iz_store_users_of(iz_store_t *st, int64_t account_id, iz_user_t **list, size_t *n);

/* Delete a user and every session of theirs in one transaction; with
 * account_id > 0 only a user of that account (another's is IZ_ENOTFOUND,
 * as an unknown one). */
int iz_store_user_delete(iz_store_t *st, int64_t account_id, int64_t user_id);

/* Set a user's password hash and must-change flag, and end every session
 * of theirs but keep_hash's (NULL: all), in one transaction. */
int iz_store_user_password_set(iz_store_t *st, int64_t user_id, const char *pwhash,
                               bool must_change, const char *keep_hash);

/* A panel session, named by the hex SHA-256 of its token (the token itself
 * is never stored). */
typedef struct iz_session {
    char hash[65];
    int64_t user_id;
    int64_t created_at, last_seen; /* epoch s */
} iz_session_t;

/* Start a session for a successful login at now: the session row, the
 * user's last_login, and the e-mail's failed logins cleared, in one
 * transaction. IZ_EINVAL for a hash that is not 64 hex digits,
 * IZ_ENOTFOUND for an unknown user. */
int iz_store_session_add(iz_store_t *st, const char *hash_hex, int64_t user_id, int64_t now);

/* The session of hash; IZ_ENOTFOUND when none. Whether it is still valid
 * (idle and absolute limits) is the caller's judgement. */
int iz_store_session_get(iz_store_t *st, const char *hash_hex, iz_session_t *out);

/* Mark the session seen at now; end it (delete). */
int iz_store_session_touch(iz_store_t *st, const char *hash_hex, int64_t now);
int iz_store_session_delete(iz_store_t *st, const char *hash_hex);

/* Delete every session last seen before idle_before or created before
 * abs_before (the expired ones); *n gets how many went (may be NULL). */
int iz_store_sessions_expire(iz_store_t *st, int64_t idle_before, int64_t abs_before, int64_t *n);

/* Record a failed login for email (lower-case it first) at now, pruning
 * every failure older than a day; and read the newest at most max failure
 * times of email, newest first, into times (*n how many). */
int iz_store_login_fail_add(iz_store_t *st, const char *email, int64_t now);
int iz_store_login_fails(iz_store_t *st, const char *email, int64_t *times, size_t max, size_t *n);

/* ---- consents ----------------------------------------------------------- */

#define IZ_EVIDENCE_MAX 1024

/* One change of the consent log. */
typedef struct iz_change {
    int64_t id;
    int64_t brand_id;
    char recipient[IZ_RECIPIENT_MAX];
    iz_rtype_t rtype;
    iz_type_t type;
    iz_status_t status;
    iz_source_t source;   /* IZ_SOURCE_NONE: omitted (TACIR) */
    int64_t consent_date; /* epoch seconds; 0: omitted (TACIR) */
    int64_t creation_ms;  /* when izin recorded it, epoch ms */
    iz_origin_t origin;
    iz_iys_state_t iys_state;
    char iys_txid[72];
    char iys_error[16];
    char warning[8];                /* "H175" for a first RET kept locally, or "" */
    char evidence[IZ_EVIDENCE_MAX]; /* JSON object text, or "" */
    /* For a PENDING RET: the last second (epoch) by which it must reach İYS
     * (3 business days); written to ret_deadlines with the change. 0: none.
     * Read back only with an outbox row (iz_store_outbox_due). */
    int64_t ret_deadline;
    /* retailerCode and retailerAccess (core/retail.h); none: code 0, n 0.
     * Part of the change's identity (a repeat has the same), hashed with
     * it, never kept in a log segment (such a change takes the ordinary
     * path). Last, so a copy may stop after the list's n codes. */
    iz_retail_t retail;
} iz_change_t;

/* Called inside the write transaction with the key's current record; returns
 * 0 to let the change be written (it may adjust chg->iys_state and
 * chg->warning), or any non-zero value to refuse it, which becomes the
 * change's result. */
typedef int (*iz_store_rule_fn)(void *ctx, const iz_current_t *cur, iz_change_t *chg);

/* One change of a batch and what became of it. */
typedef struct iz_store_apply {
    iz_change_t *chg;      /* in: the change; out: as stored, or the identical one found */
    iz_store_rule_fn rule; /* may be NULL: accept */
    void *ctx;             /* the rule's */
    /* The account's consent limit (its plan), 0: none. A change that would
     * make a new ONAY record while the account holds quota records or
     * more is refused with IZ_EQUOTA; a RET, and any change of an existing
     * record, never is. Every item of one call has the same. */
    int64_t quota;
    int rc;                /* out: 0 written, IZ_REPEAT, the rule's refusal, IZ_EINVAL,
                              IZ_ETOOBIG, or the store's failure */
} iz_store_apply_t;

#define IZ_STORE_BATCH_MAX 10000 /* changes in one batch call, at most */

/* Apply n changes in one durable transaction, in order. For each: an
 * identical change already in the key's history (same status, source,
 * consent_date and retailer fields; for a change of origin IYS whatever
 * the retailer fields, which İYS's reports never carry) makes it
 * IZ_REPEAT, *chg replaced by the stored change and nothing written;
 * otherwise rule(ctx, &current, chg) decides, and on 0 the
 * change is appended to the log, the key's state moves to it, chg->id and
 * chg->creation_ms are set (creation_ms kept when non-zero, else the clock)
 * and an outbox row (and a RET deadline) is added when chg->iys_state is
 * IZ_IYS_PENDING. Each change runs under its own savepoint, so a refused or
 * invalid one does not undo the others, and a later change of the same key
 * sees the earlier one. The rule runs inside the transaction with the store
 * locked, so it must not call the store; a rule that changes the key
 * (brand, recipient, rtype, type) gets IZ_EINVAL. IZ_EINVAL also for an
 * absent or unknown rtype/type/status or an unknown source/origin/iys_state,
 * IZ_ETOOBIG for a string without room for its NUL.
 * Concurrent callers share transactions (group commit): every call returns
 * only when its changes are on disk. Returns 0 when the batch was committed
 * (each item's rc tells its fate), IZ_EINVAL for n == 0 or n >
 * IZ_STORE_BATCH_MAX, or the store's failure (nothing of the batch is
 * written; every item's rc is that failure). The subscribers (below) see the
 * written changes after the commit, in commit order. */
int iz_store_consent_apply_batch(iz_store_t *st, iz_store_apply_t *items, size_t n);

/* Make every change committed so far durable (on SQLite a group commit's
 * transaction is on disk only when its writers' calls return: store.c's
 * second stage; a reader may see it a sync earlier). Called before a
 * change read from the store leaves the process (İYS, webhooks), so that
 * nothing a power loss may take back is ever sent. 0, or IZ_EIO when the
 * disk failed a sync. Quick when nothing waits for one. */
int iz_store_durable(iz_store_t *st);

/* Work that must commit with a batch of changes or not at all (a bulk
 * job's progress and errors): called inside the batch's transaction after
 * its changes (each item's rc is set); a non-zero return undoes the whole
 * transaction. */
typedef int (*iz_store_then_fn)(iz_store_t *st, void *ctx);

/* iz_store_consent_apply_batch, then then(st, ctx) in the same transaction
 * (also when every change was refused before it reached the store). */
int iz_store_consent_apply_batch_then(iz_store_t *st, iz_store_apply_t *items, size_t n,
                                      iz_store_then_fn then, void *ctx);

/* A bulk load: iz_store_consent_apply_batch_then for the changes of one
 * bulk job's batch (one brand, origin BULK; change i's evidence exactly
 * {"job":"<job_id>","line":<lines[i]>}). A change whose key has no record
 * yet, that the rule lets through as PENDING or LOCAL without a warning
 * or a RET deadline, is kept compactly: the batch's new keys share one
 * log segment (hash-chained like log rows, ids from the same sequence)
 * and their İYS queue entries wait in it until the sync takes them; each
 * key still gets its state row, and every reader of the log (history,
 * the current change, the feed, the outbox, the log check) sees such a
 * change as it sees a log row. Every other change is applied as
 * iz_store_consent_apply_batch does. n may be up to IZ_STORE_LOAD_MAX. */
#define IZ_STORE_LOAD_MAX 50000
int iz_store_consent_load_then(iz_store_t *st, const char *job_id, const int64_t *lines,
                               iz_store_apply_t *items, size_t n, iz_store_then_fn then,
                               void *ctx);

/* iz_store_consent_apply_batch for one change: returns the item's rc. */
int iz_store_consent_apply(iz_store_t *st, iz_change_t *chg, iz_store_rule_fn rule, void *ctx);

/* The current change of a key; IZ_ENOTFOUND when the key has no record. */
int iz_store_consent_get(iz_store_t *st, int64_t brand_id, iz_rtype_t rtype, iz_type_t type,
                         const char *recipient, iz_change_t *out);

/* Every change of a key, newest first (by log order). *list is allocated
 * with iz_xmalloc and freed by the caller with free(); *n may be 0. */
int iz_store_consent_history(iz_store_t *st, int64_t brand_id, iz_rtype_t rtype, iz_type_t type,
                             const char *recipient, iz_change_t **list, size_t *n);

/* Current status of a key without the rest of the record: IZ_ONAY, IZ_RET,
 * or IZ_STATUS_NONE when there is no record. Returns 0 or IZ_EIO. */
int iz_store_consent_status(iz_store_t *st, int64_t brand_id, iz_rtype_t rtype, iz_type_t type,
                            const char *recipient, iz_status_t *out);

/* Walk the hash chain of the consent log. Returns 0 when intact, IZ_ERULE
 * with *bad_id the first row whose hash does not match. */
int iz_store_verify_log(iz_store_t *st, int64_t *bad_id);

/* The account's consent records (plans, F9): its consent_state rows
 * across its brands, every status, kept as a counter that moves in the
 * same transaction as the rows (account_usage). 0 for an account without
 * any. */
int iz_store_account_usage(iz_store_t *st, int64_t account_id, int64_t *records);

/* Change an account's plan (its code, "" none). IZ_ENOTFOUND for no such
 * account, IZ_ETOOBIG for a code that does not fit. */
int iz_store_account_plan_set(iz_store_t *st, int64_t account_id, const char *plan);

/* ---- bulk jobs (schema v7) -------------------------------------------------- */

#define IZ_JOB_ID_LEN 33 /* 32 hex digits and the NUL */

/* A bulk upload: the file is spooled at path, read by the job runner, each
 * row recorded like a single consent. resume_line is the last row whose
 * fate (stored or in job_errors) is committed: a resumed job goes on after
 * it. */
typedef struct iz_job {
    char id[IZ_JOB_ID_LEN];
    int64_t account_id, brand_id;
    char state[8];  /* QUEUED, RUNNING, DONE, FAILED */
    char format[8]; /* csv, xlsx, json */
    char path[1024];
    int64_t total; /* rows, -1 until known */
    int64_t processed, accepted, rejected, resume_line;
    char error[512];     /* FAILED: why */
    char warnings[2048]; /* the reader's warnings, one a line */
    int64_t created_ms, started_ms, updated_ms, finished_ms;
    char owner[96]; /* who runs it: "host:pid" (iz_job_run), "" when nobody has yet */
} iz_job_t;

int iz_store_job_add(iz_store_t *st, const iz_job_t *job);
int iz_store_job_get(iz_store_t *st, const char *id, iz_job_t *out);

/* The jobs still QUEUED or RUNNING, oldest first. */
int iz_store_jobs_open(iz_store_t *st, iz_job_t **list, size_t *n);

/* A brand's newest jobs, newest first, at most limit (the panel's list). */
int iz_store_jobs_of_brand(iz_store_t *st, int64_t brand_id, size_t limit, iz_job_t **list,
                           size_t *n);

/* A rejected row of a job. */
typedef struct iz_job_error {
    int64_t line;
    char code[16];
    char message[512];
    char raw[4096]; /* the reader's raw row: at most IZ_BULK_RAW_MAX (4096) with its marker */
} iz_job_error_t;

/* Write a job's row (state, counters, resume_line, error, warnings) and
 * its new rejected rows (a row already recorded for that line is kept
 * once). Inside an iz_store_then_fn it joins the batch's transaction; alone
 * it is its own. */
int iz_store_job_step(iz_store_t *st, const iz_job_t *job, const iz_job_error_t *errs, size_t n);

/* The rejected rows of a job with line > after_line, in line order, at most
 * limit. */
int iz_store_job_errors(iz_store_t *st, const char *id, int64_t after_line, size_t limit,
                        iz_job_error_t **list, size_t *n);

/* ---- outbox ------------------------------------------------------------- */

/* Number of rows in the outbox (changes waiting to be sent to İYS). */
int iz_store_outbox_count(iz_store_t *st, int64_t *n);

/* One outbox row with its change and where it goes. */
typedef struct iz_outbox_item {
    iz_change_t chg;     /* chg.id is the row's key (the log id) */
    int64_t account_id;  /* whose İYS settings apply */
    int64_t brand_code;  /* İYS's brand code for the path */
    int attempts;        /* transient failures so far */
    bool bulk;           /* origin BULK: goes in bulk requests */
    char state[8];       /* PENDING, SENDING (bulk POST in flight), SENT (awaiting status) */
    char request_id[40]; /* bulk requestId once İYS answered 202 */
    int64_t sent_ms;     /* when the bulk request was accepted, or last polled */
    int req_index;       /* SENT: its index in the bulk request; else -1 */
} iz_outbox_item_t;

/* Up to max PENDING rows of one account due at now_ms (next attempt time
 * reached), oldest first, each the oldest outbox row of its key: changes of
 * one address go to İYS one by one, in order. With rets, only RETs that
 * have an open deadline, earliest deadline first. */
int iz_store_outbox_due(iz_store_t *st, int64_t now_ms, int64_t account_id, bool rets,
                        size_t max, iz_outbox_item_t **list, size_t *n);

/* The number of PENDING rows of one account due at now_ms (every row, not
 * only the oldest of each key). */
int iz_store_outbox_count_due(iz_store_t *st, int64_t now_ms, int64_t account_id, int64_t *n);

/* At start: rows left SENDING by a process that stopped between marking a
 * bulk request and recording İYS's answer go back to PENDING (izin's bulk
 * and single adds are İYS's idempotent v2 calls, so sending them again is
 * safe). */
int iz_store_outbox_reset_sending(iz_store_t *st);

/* Move rows to state (SENDING, SENT or PENDING) with request_id (may be NULL)
 * and sent_ms, in one transaction; the changes' iys_state becomes SENT for
 * SENT, log_ids[i] keeps i as its index in the bulk request and sent_ms is
 * also kept as the request's posting time. */
int iz_store_outbox_mark(iz_store_t *st, const int64_t *log_ids, size_t n, const char *state,
                         const char *request_id, int64_t sent_ms);

/* Note that a bulk request was polled (its SENT rows' sent_ms = sent_ms). */
int iz_store_outbox_touch(iz_store_t *st, const char *request_id, int64_t sent_ms);

/* Make every PENDING row of an account due now (next_ms = now_ms): its
 * changes held back (iys/standing.h) may go again. */
int iz_store_outbox_due_now(iz_store_t *st, int64_t account_id, int64_t now_ms);

/* A transient failure: back to PENDING, attempts + 1, next try at next_ms;
 * error (a diagnostic) is kept up to 511 bytes, a longer one ending "...". */
int iz_store_outbox_retry(iz_store_t *st, int64_t log_id, int64_t next_ms, const char *error);

/* The same for n rows, in one transaction. */
int iz_store_outbox_retry_many(iz_store_t *st, const int64_t *log_ids, size_t n, int64_t next_ms,
                               const char *error);

/* The final answer for a change: its iys_state (ACCEPTED or REJECTED),
 * transactionId (at most 71 bytes) and error code (at most 15; longer ones
 * are refused with IZ_ETOOBIG, never cut) are recorded, its outbox row
 * removed and its RET deadline (if any) closed, in one transaction. */
int iz_store_outbox_finish(iz_store_t *st, int64_t log_id, iz_iys_state_t state, const char *txid,
                           const char *error, int64_t now_ms);

/* One final answer of a batch. */
typedef struct iz_outbox_done {
    int64_t log_id;
    iz_iys_state_t state; /* ACCEPTED or REJECTED */
    const char *txid;     /* may be NULL */
    const char *error;    /* may be NULL */
    int64_t iys_created;  /* ACCEPTED: İYS's creationDate (epoch s), kept in iys_days;
                             0: İYS did not say */
} iz_outbox_done_t;

/* n final answers in one transaction (a bulk request's results): all are
 * recorded or none. */
int iz_store_outbox_finish_many(iz_store_t *st, const iz_outbox_done_t *done, size_t n,
                                int64_t now_ms);

/* A bulk request İYS took and izin still waits on (its SENT rows). */
typedef struct iz_outbox_req {
    char request_id[40];
    int64_t account_id, brand_code;
    int64_t posted_ms; /* when İYS took it */
    int64_t sent_ms;   /* when it was posted or last polled */
    int64_t rows;      /* its rows still waiting */
} iz_outbox_req_t;

int iz_store_outbox_requests(iz_store_t *st, iz_outbox_req_t **list, size_t *n);

/* The waiting rows of one bulk request. */
typedef struct iz_outbox_row {
    int64_t log_id;
    int req_index;       /* its index in the request */
    int64_t creation_ms; /* when izin recorded the change */
} iz_outbox_row_t;

int iz_store_outbox_request_rows(iz_store_t *st, const char *request_id, iz_outbox_row_t **list,
                                 size_t *n);

/* The queue's depth: rows per account and origin, and the oldest row's
 * creation time (0 when the outbox is empty). */
typedef struct iz_outbox_depth {
    int64_t account_id;
    iz_origin_t origin;
    int64_t rows;
} iz_outbox_depth_t;

int iz_store_outbox_depth(iz_store_t *st, iz_outbox_depth_t **list, size_t *n, int64_t *oldest_ms);

/* The change with this İYS transactionId in a brand; IZ_ENOTFOUND if none. */
int iz_store_change_by_txid(iz_store_t *st, int64_t brand_id, const char *txid, iz_change_t *out);

/* Every change of a brand with this İYS transactionId, oldest first, at
 * most IZ_TXID_CHANGES_MAX (İYS gives two changes of one address in one
 * second the same transactionId); *list allocated (free()), *n may be 0. */
#define IZ_TXID_CHANGES_MAX 16
int iz_store_changes_by_txid(iz_store_t *st, int64_t brand_id, const char *txid, iz_change_t **list,
                             size_t *n);

/* The change with log id id (a log row or a segment's entry);
 * IZ_ENOTFOUND when there is none. */
int iz_store_change_get(iz_store_t *st, int64_t id, iz_change_t *out);

/* The largest log id (0 when empty), and the changes with id > after_id
 * in id order, at most limit, whatever their brand - log rows and the
 * entries of log segments alike, read in one snapshot: how a process (or
 * another node) sees changes another one committed. */
int iz_store_log_max(iz_store_t *st, int64_t *id);
int iz_store_log_after(iz_store_t *st, int64_t after_id, size_t limit, iz_change_t **list,
                       size_t *n);

/* The changes of a brand with log id > after_id in commit order, at most
 * limit (the changes feed). */
int iz_store_changes(iz_store_t *st, int64_t brand_id, int64_t after_id, size_t limit,
                     iz_change_t **list, size_t *n);

/* Every brand of every account (for the sync engine's pull). */
int iz_store_brands_all(iz_store_t *st, iz_brand_t **list, size_t *n);

/* The İYS change-pull cursor of a brand for source "HS" or "IYS" ("" when
 * none yet), and its update. */
int iz_store_cursor_get(iz_store_t *st, int64_t brand_id, const char *source, char *out,
                        size_t outsz);
int iz_store_cursor_set(iz_store_t *st, int64_t brand_id, const char *source, const char *cursor);

/* RET deadlines: the open ones (not yet at İYS), and how many closed late. */
typedef struct iz_ret_open {
    int64_t log_id;
    int64_t deadline; /* epoch seconds */
} iz_ret_open_t;
int iz_store_ret_open(iz_store_t *st, iz_ret_open_t **list, size_t *n);
int iz_store_ret_late(iz_store_t *st, int64_t *n);

/* ---- commit subscribers ------------------------------------------------ */

/* Called for each committed change (every origin), in commit order, right
 * after its transaction commits and before the store's lock is released:
 * it must be quick and must not call the store. The filter index, the
 * change counters of /metrics, the sync engine's and the webhooks'
 * wake-ups subscribe. On SQLite the commit may not be on disk yet: the
 * writer's call returns once it is, a sync of the WAL later (at most one
 * sync, about a millisecond, after the subscribers saw it); what acts
 * outside on changes it reads calls iz_store_durable first. */
typedef void (*iz_store_change_fn)(void *ctx, const iz_change_t *chg);

#define IZ_STORE_SUBSCRIBERS_MAX 8

/* Add a subscriber: 0, or IZ_ETOOBIG when IZ_STORE_SUBSCRIBERS_MAX are
 * already there. Subscribe before the store is shared between threads, and
 * unsubscribe (same fn and ctx) before what ctx points to goes away. */
int iz_store_subscribe(iz_store_t *st, iz_store_change_fn fn, void *ctx);
void iz_store_unsubscribe(iz_store_t *st, iz_store_change_fn fn, void *ctx);

/* One row of the current state. recipient is valid during the call only. */
typedef struct iz_state_row {
    int64_t brand_id;
    const char *recipient;
    iz_rtype_t rtype;
    iz_type_t type;
    iz_status_t status;
} iz_state_row_t;

/* Returns 0 to go on, non-zero to stop the scan (which then returns it). */
typedef int (*iz_store_state_fn)(void *ctx, const iz_state_row_t *row);

/* Walk every current record (to build the filter index at start-up). */
int iz_store_state_scan(iz_store_t *st, iz_store_state_fn fn, void *ctx);

/* Called with one current consent of a brand; c is valid during the call
 * only. Returns 0 to go on, non-zero to stop the walk (which then returns
 * it). */
typedef int (*iz_store_consent_fn)(void *ctx, const iz_consent_t *c);

/* Walk the current consents of a brand - every type, or only `type` when it
 * is not IZ_TYPE_NONE - in key order (recipient, then recipientType, then
 * type, by their stored text), one row at a time: memory does not grow
 * with the brand (izin export). The walk reads one consistent snapshot. fn
 * runs with the store locked: it must not call the store, and other
 * callers of this store wait until the walk ends (writers of other
 * processes do not). A row with a spelling izin does not know (written by
 * hand) is passed over. IZ_EINVAL for an unknown type. */
int iz_store_consent_each(iz_store_t *st, int64_t brand_id, iz_type_t type, iz_store_consent_fn fn,
                          void *ctx);

/* ---- a brand's retailers (izin's copy of İYS's list) ------------------------ */

/* One retailer (İYS's bayi) as İYS shows it; "" for a field it has not. */
typedef struct iz_retailer {
    int64_t code; /* İYS's 8-digit retailer number */
    char title[256], name[256], alias[256];
    char tckn[16], tin[16], mersis[24], mobile[24];
    char city_code[24], city_name[64], town_code[24], town_name[64];
    char status[16]; /* active, passive, suspended */
    int64_t access_count;
} iz_retailer_t;

/* Replace the brand's copy with list (n retailers, from İYS's whole list)
 * and note that it is whole as of now, in one transaction. IZ_ETOOBIG for
 * a string without room for its NUL, IZ_EINVAL for a code <= 0. */
int iz_store_retailers_set(iz_store_t *st, int64_t brand_id, const iz_retailer_t *list, size_t n);

/* Add or replace one retailer of the brand's copy (one izin just made at
 * İYS). */
int iz_store_retailer_put(iz_store_t *st, int64_t brand_id, const iz_retailer_t *r);

/* Remove one retailer from the brand's copy; IZ_ENOTFOUND when the copy
 * has none with that code. */
int iz_store_retailer_remove(iz_store_t *st, int64_t brand_id, int64_t code);

/* The brand's copy, by code (the caller frees *list), and when it was
 * last read whole from İYS (*synced_ms, 0 when never: izin does not know
 * every retailer of the brand). */
int iz_store_retailers_get(iz_store_t *st, int64_t brand_id, iz_retailer_t **list, size_t *n,
                           int64_t *synced_ms);

/* The codes of the brand's copy, ascending (the caller frees *codes), and
 * *synced_ms as above: a consent naming a code outside a whole copy names
 * no retailer of the brand. */
int iz_store_retailer_codes(iz_store_t *st, int64_t brand_id, int64_t **codes, size_t *n,
                            int64_t *synced_ms);

/* ---- İYS changes izin could not apply ----------------------------------- */

typedef struct iz_quarantine {
    int64_t id;
    int64_t brand_id;
    char via[8];      /* "pull", "push" or "recon" (a reconciliation's repair) */
    char source[8];   /* the pull's source "IYS" or "HS"; "" for a push */
    char *raw;        /* the item's JSON as İYS sent it (owned by the list) */
    char reason[256]; /* why it could not be applied */
    int64_t created_ms;
} iz_quarantine_t;

#define IZ_QUARANTINE_RAW_MAX 65536 /* bytes of one item's JSON */

/* Keep an item İYS reported that could not be applied: 0, or IZ_REPEAT
 * when the brand already has that very item (a page pulled again after a
 * crash). IZ_ETOOBIG when raw is over IZ_QUARANTINE_RAW_MAX or reason over
 * its buffer: the caller then keeps a shortened raw that says so, never a
 * silent cut. */
int iz_store_quarantine_add(iz_store_t *st, int64_t brand_id, const char *via, const char *source,
                            const char *raw, const char *reason);

/* A brand's quarantined items with id > after_id, oldest first, at most
 * limit; free with iz_store_quarantine_free. */
int iz_store_quarantine_list(iz_store_t *st, int64_t brand_id, int64_t after_id, size_t limit,
                             iz_quarantine_t **list, size_t *n);
void iz_store_quarantine_free(iz_quarantine_t *list, size_t n);

/* How many items are quarantined, over all brands. */
int iz_store_quarantine_count(iz_store_t *st, int64_t *n);

/* ---- daily reconciliation with İYS (schema v11) ------------------------------ */

/* The log ids of brand's changes that İYS accepted on day (its
 * creationDate, Turkey time, "YYYY-MM-DD") with id > after_id, in id
 * order, at most limit; *ids allocated (free()). */
int iz_store_iys_day_ids(iz_store_t *st, int64_t brand_id, const char *day, int64_t after_id,
                         size_t limit, int64_t **ids, size_t *n);

/* Their count and the smallest and largest id (0, 0, 0 when none). */
int iz_store_iys_day_span(iz_store_t *st, int64_t brand_id, const char *day, int64_t *count,
                          int64_t *min_id, int64_t *max_id);

#define IZ_RECON_TSR_MAX 65536          /* bytes of a kept timestamp reply */
#define IZ_RECON_DETAILS_MAX (1u << 20) /* bytes of the kept mismatch details */

/* The result of one brand-day's reconciliation. */
typedef struct iz_recon {
    int64_t brand_id;
    char date[11];      /* the report date, "YYYY-MM-DD" (Turkey time) */
    char status[12];    /* MATCHED, REPAIRED, MISMATCH, FAILED */
    int64_t rows;       /* change lines in İYS's file */
    int64_t matched;    /* lines izin had as they are */
    int64_t repaired;   /* İYS changes izin lacked, applied now as repairs */
    int64_t pending;    /* lines of izin's changes still waiting for İYS's answer */
    int64_t mismatched; /* what could not be repaired (lines, and changes missing from the file) */
    char hash[97];      /* hex SHA-384 of the file's bytes, "" when İYS had no file */
    bool agreed;        /* the agreement was recorded with İYS */
    int64_t agreed_ms;
    unsigned char *tsr; /* İYS's timestamp reply (DER), NULL: none (owned) */
    size_t tsr_len;
    char *details;   /* JSON array text of the mismatches, NULL: none (owned) */
    char error[512]; /* FAILED: why */
    int64_t started_ms, finished_ms;
} iz_recon_t;

/* Keep r as the brand-day's result, replacing an earlier one. IZ_ETOOBIG
 * when tsr or details is over its limit. */
int iz_store_recon_put(iz_store_t *st, const iz_recon_t *r);

/* A brand's results, newest date first: of one date when date is not NULL,
 * else of every date, at most limit. Free with iz_store_recon_free. */
int iz_store_recon_list(iz_store_t *st, int64_t brand_id, const char *date, size_t limit,
                        iz_recon_t **list, size_t *n);
void iz_store_recon_free(iz_recon_t *list, size_t n);

/* How many brand-days were last reconciled with each status, over all
 * brands: counts[i] for statuses MATCHED, REPAIRED, MISMATCH, FAILED. */
int iz_store_recon_counts(iz_store_t *st, int64_t counts[4]);

/* ---- İYS tokens ---------------------------------------------------------- */

/* Every token request counts against İYS's hourly limit (H084), so the İYS
 * client's tokens are kept across restarts: a crash loop must not log in
 * again at each start. */

/* İYS's tokens are JWTs carrying the user's brands: its documented sample
 * access token is about 1.4 KB, so 4 KiB with room to spare. */
#define IZ_IYS_TOKEN_MAX 4096 /* bytes of a token, its NUL included */

/* An account's İYS token state. The secrets are the caller's to wipe
 * (iz_wipe) once used. */
typedef struct iz_iys_token {
    char base_url[IZ_URL_MAX];       /* the İYS it was issued by */
    char username[IZ_NAME_MAX];      /* and the user it was issued to */
    char access[IZ_IYS_TOKEN_MAX];   /* "" = none */
    char refresh[IZ_IYS_TOKEN_MAX];  /* "" = none */
    int64_t access_exp, refresh_exp; /* epoch seconds; 0 = none */
    int64_t blocked_until;           /* after H084: no token request before it (epoch s) */
    int64_t updated_ms;              /* when it was put (epoch ms); get sets it */
} iz_iys_token_t;

/* The token state last put for account_id, when it was put for this
 * base_url and username: 0 with *out filled (the secrets opened), or
 * IZ_ENOTFOUND when there is none, it was issued for another URL or user
 * (the account's İYS settings changed since), or a stored secret does not
 * open (tokens are a cache: the password gets new ones). */
int iz_store_iys_token_get(iz_store_t *st, int64_t account_id, const char *base_url,
                           const char *username, iz_iys_token_t *out);

/* Keep tok as account_id's token state, replacing the one before, the
 * secrets sealed (tok->updated_ms is ignored: the store takes the clock).
 * IZ_ENOTFOUND for an unknown account,
 * IZ_ETOOBIG for a string without room for its NUL, IZ_EIO when there is
 * no randomness to seal with. */
int iz_store_iys_token_put(iz_store_t *st, int64_t account_id, const iz_iys_token_t *tok);

/* The same for an İYS partner's (iş ortağı) token state, one per partner
 * code and base URL, shared by every account added with --iys-integrator
 * (v11). */
int iz_store_iys_partner_token_get(iz_store_t *st, int64_t integrator_code, const char *base_url,
                                   const char *username, iz_iys_token_t *out);
int iz_store_iys_partner_token_put(iz_store_t *st, int64_t integrator_code,
                                   const iz_iys_token_t *tok);

/* ---- an account's standing with İYS (v11) --------------------------------- */

/* The sync engine's last read-out of an account's standing (iys/standing.h:
 * whether its changes go to İYS, why not, its subscription, a partner's
 * rights), for the command line: `izin account list`. */
#define IZ_STANDING_JSON_MAX 65536
typedef struct iz_iys_standing {
    int64_t account_id;
    bool sending;
    char reason[48]; /* "" while sending */
    char *json;      /* the read-out, one JSON object (owned: iz_store_iys_standing_free) */
    int64_t updated_ms;
} iz_iys_standing_t;

/* Replace an account's read-out. IZ_ENOTFOUND for an unknown account,
 * IZ_ETOOBIG for a reason or json over its limit. */
int iz_store_iys_standing_put(iz_store_t *st, int64_t account_id, bool sending, const char *reason,
                              const char *json);

/* Every account's read-out (accounts the sync engine never looked at have
 * none), by account id. */
int iz_store_iys_standing_all(iz_store_t *st, iz_iys_standing_t **list, size_t *n);
void iz_store_iys_standing_free(iz_iys_standing_t *list, size_t n);

/* ---- SMS sent through izin: the outbound queue ----------------------------- */

/* A send (sms/send, or the reply to an inbound message) is one sms_messages
 * row and one sms_recipients row a recipient, written in one transaction:
 * the allowed ones QUEUED with izin's message id, the blocked ones with
 * their reason. A message then goes QUEUED -> SENDING (a worker took it)
 * -> SENT (the gateway took it), FAILED (refused, or not reachable) or
 * UNKNOWN (no answer in time: it may still go out, so it is never sent
 * again); delivery reports move SENT or UNKNOWN on to DELIVERED or FAILED.
 * A message found SENDING at start-up (the process stopped while sending
 * it) becomes UNKNOWN: it is never sent twice. */

#define IZ_SMS_TEXT_MAX (IZ_SMSTEXT_MAX_BYTES + IZ_OPTOUT_MAX + 2) /* a text, NUL included */
#define IZ_IDEM_KEY_MAX 129 /* an Idempotency-Key, NUL included */

typedef struct iz_sms_msg {
    int64_t id;           /* set by iz_store_sms_queue */
    int64_t account_id;   /* whose send it is (0: nobody's, a reply on a number no brand has) */
    int64_t brand_id;     /* 0: no brand */
    int64_t created_ms;   /* 0: now */
    char kind[8];         /* SEND (sms/send) or REPLY (the answer to an inbound message) */
    char state[8];        /* QUEUED while a message waits or is being sent, then DONE */
    int priority;         /* 0 goes first (someone waits for it), 1 campaigns */
    char sender[16];      /* originator (alphanumeric title or number) */
    char text[IZ_SMS_TEXT_MAX]; /* as sent (opt-out appended) */
    bool commercial;
    iz_rtype_t rtype;     /* whose consent a commercial message needs (judged again at send) */
    char encoding[16];    /* GSM7, GSM7_TR, UCS2 */
    int parts;
    bool opt_out;         /* the opt-out instruction was appended */
    int64_t accepted, blocked; /* messages queued, recipients blocked at queue time */
    char idem_key[IZ_IDEM_KEY_MAX]; /* the request's Idempotency-Key, or "" */
    char idem_hash[65];   /* hex SHA-256 of what was asked with it */
} iz_sms_msg_t;

/* One recipient of a send, as it is queued. Strings are borrowed. */
typedef struct iz_sms_item {
    const char *recipient; /* E.164, or the input as given when INVALID */
    const char *outcome;   /* QUEUED, or the reason it is blocked: NO_CONSENT, RET, INVALID */
    const char *msg_id;    /* izin's message id for QUEUED (unique); NULL otherwise */
    bool raw_json;         /* INVALID: recipient is the JSON text of a value that was no string */
} iz_sms_item_t;

/* One recipient of a send, as it stands. */
typedef struct iz_sms_rcpt {
    int64_t seq;                      /* its place in the send, from 0 */
    char recipient[IZ_RECIPIENT_MAX];
    char outcome[12];    /* QUEUED SENDING SENT DELIVERED FAILED UNKNOWN; NO_CONSENT RET INVALID */
    char gateway_id[64]; /* izin's message id, or "" */
    bool raw_json;
    char error[128];     /* why FAILED or UNKNOWN (or blocked at send time), or "" */
    int64_t sent_ms;     /* when the gateway answered (or gave up), 0 before */
    int dlr_status;      /* the delivery report that decided its state (Kannel's type), 0 none */
    int64_t dlr_ms;
} iz_sms_rcpt_t;

/* Queue a send: msg and its n recipients (items[i] gets seq i) in one
 * transaction; inside an iz_store_then_fn it joins that transaction.
 * msg->id and msg->created_ms are set, msg->state is QUEUED (DONE when no
 * item is QUEUED). IZ_EEXIST when msg->idem_key is not "" and the account
 * already has a send with that key (nothing written). */
int iz_store_sms_queue(iz_store_t *st, iz_sms_msg_t *msg, const iz_sms_item_t *items, size_t n);

/* A send by id, or by its account's Idempotency-Key; IZ_ENOTFOUND when
 * none. */
int iz_store_sms_get(iz_store_t *st, int64_t id, iz_sms_msg_t *out);
int iz_store_sms_by_key(iz_store_t *st, int64_t account_id, const char *key, iz_sms_msg_t *out);

/* How many recipients of a send are in each state. */
typedef struct iz_sms_counts {
    int64_t queued, sending, sent, delivered, failed, unknown, no_consent, ret, invalid;
} iz_sms_counts_t;
int iz_store_sms_counts(iz_store_t *st, int64_t id, iz_sms_counts_t *out);

/* A send's recipients with seq > after, in seq order, at most limit
 * (<= 10000); only its messages (no blocked recipient) with messages_only.
 * The list is the caller's to free(). */
int iz_store_sms_rcpts(iz_store_t *st, int64_t id, int64_t after, size_t limit,
                       bool messages_only, iz_sms_rcpt_t **list, size_t *n);

/* The sends still QUEUED, by priority then age: ids and priorities, at most
 * limit. Lists are the caller's to free(). */
int iz_store_sms_open(iz_store_t *st, size_t limit, int64_t **ids, int **priorities, size_t *n);

/* Up to max QUEUED messages of a send, in seq order (the queue's next). */
int iz_store_sms_queued(iz_store_t *st, int64_t id, size_t max, iz_sms_rcpt_t **list, size_t *n);

/* A change of state: (send, seq) becomes `to` when it is in `from` (NULL:
 * whatever it is in); error (may be NULL) and sent_ms (0: unchanged) are
 * kept either way. */
typedef struct iz_sms_move {
    int64_t send_id, seq;
    const char *from, *to;
    const char *error;
    int64_t sent_ms;
} iz_sms_move_t;

/* Make n moves in one transaction. */
int iz_store_sms_move(iz_store_t *st, const iz_sms_move_t *moves, size_t n);

/* A delivery report for message msg_id (Kannel's type: 1 delivered, 2
 * undeliverable, 4 buffered, 8 taken by the SMSC, 16 refused by the SMSC)
 * received at at_ms; found is set when the message exists. DELIVERED is
 * final; 2 and 16 make it FAILED; 4 and 8 make a SENDING or UNKNOWN one
 * SENT (the gateway has it after all). */
typedef struct iz_sms_dlr {
    const char *msg_id;
    int status;
    int64_t at_ms;
    bool found; /* out */
} iz_sms_dlr_t;

/* Apply n reports in one transaction. */
int iz_store_sms_dlr(iz_store_t *st, iz_sms_dlr_t *reports, size_t n);

/* A send none of whose messages is QUEUED or SENDING any more becomes DONE
 * (*done then true; also when it was DONE already). */
int iz_store_sms_finish(iz_store_t *st, int64_t id, bool *done);

/* At start: every message left SENDING by a process that stopped becomes
 * UNKNOWN (it may have reached the gateway); *n how many. */
int iz_store_sms_recover(iz_store_t *st, int64_t *n);

/* How many messages wait (QUEUED) over every send. */
int iz_store_sms_backlog(iz_store_t *st, int64_t *n);

/* ---- voice campaigns ----------------------------------------------------- */

typedef struct iz_voice_campaign {
    int64_t id; /* set by add */
    int64_t brand_id, account_id;
    char name[IZ_NAME_MAX];
    bool commercial;
    iz_rtype_t rtype;
    int64_t created_ms; /* 0: now */
    int64_t allowed, blocked;
} iz_voice_campaign_t;

typedef struct iz_voice_number {
    char recipient[IZ_RECIPIENT_MAX]; /* E.164, or the input as given when INVALID */
    char outcome[12];                 /* ALLOWED, NO_CONSENT, RET, INVALID */
} iz_voice_number_t;

int iz_store_voice_add(iz_store_t *st, iz_voice_campaign_t *c, const iz_voice_number_t *nums,
                       size_t n);
int iz_store_voice_get(iz_store_t *st, int64_t id, iz_voice_campaign_t *out);
/* A brand's newest voice campaigns, newest first, at most limit. */
int iz_store_voice_of_brand(iz_store_t *st, int64_t brand_id, size_t limit,
                            iz_voice_campaign_t **list, size_t *n);
/* A campaign's numbers in input order (only the ALLOWED ones when
 * allowed_only). */
int iz_store_voice_numbers(iz_store_t *st, int64_t id, bool allowed_only, iz_voice_number_t **list,
                           size_t *n);

/* ---- customer webhooks (v16) --------------------------------------------- */

/* A brand's webhook receives every change of the brand after the webhook
 * was set, in commit order (hook/webhook.h delivers them). Its delivery
 * state lives here, so a restart resumes where delivery was. */

#define IZ_WEBHOOK_URL_MAX 2049   /* a URL's bytes and the NUL */
#define IZ_WEBHOOK_SECRET_MAX 257 /* a secret's bytes and the NUL */
#define IZ_WEBHOOK_ERROR_MAX 256  /* a kept error's bytes and the NUL (longer ones cut with "...") \
                                   */

typedef struct iz_webhook {
    int64_t id; /* a new one for each webhook set on a brand that had none */
    int64_t brand_id;
    char url[IZ_WEBHOOK_URL_MAX];
    char secret[IZ_WEBHOOK_SECRET_MAX]; /* opened; "" unless asked for: wipe after use */
    int64_t created_ms, updated_ms;
    int64_t cursor; /* the last change id delivered or given up (0: none yet) */
    /* The batch that failed and is retried as it is: changes with ids in
     * (cursor, batch_last], batch_count of them; batch_last 0 when none. */
    int64_t batch_first, batch_last, batch_count;
    int64_t failing_since_ms; /* the batch's first failure */
    int attempts;             /* the batch's failed attempts */
    int64_t next_ms;          /* its next attempt */
    long last_status;         /* the last failure's HTTP status, 0: no answer */
    char last_error[IZ_WEBHOOK_ERROR_MAX];
} iz_webhook_t;

/* Set brand_id's webhook (url and secret as given: the caller checks
 * them). A brand without one gets a new webhook whose cursor is the
 * brand's last change now (the changes committed after this call are
 * delivered; *created true); a brand with one keeps its delivery state
 * and cursor, and a batch being retried is due at once. The secret is
 * stored sealed. IZ_ETOOBIG for a url or secret over its limit,
 * IZ_ENOTFOUND for no such brand, IZ_EIO when there is no randomness to
 * seal with. */
int iz_store_webhook_put(iz_store_t *st, int64_t brand_id, const char *url, const char *secret,
                         bool *created);

/* brand_id's webhook, its secret opened when with_secret (else ""); the
 * caller wipes out->secret. IZ_ENOTFOUND when the brand has none, IZ_ERULE
 * when the stored secret does not open. */
int iz_store_webhook_get(iz_store_t *st, int64_t brand_id, bool with_secret, iz_webhook_t *out);

/* Remove brand_id's webhook and its delivery state (its dead letters
 * stay); IZ_ENOTFOUND when it has none. */
int iz_store_webhook_delete(iz_store_t *st, int64_t brand_id);

/* Every webhook, without secrets, by brand id (the caller frees *list). */
int iz_store_webhooks_all(iz_store_t *st, iz_webhook_t **list, size_t *n);

/* Webhook webhook_id's receiver took the changes up to last_id: the cursor
 * moves there (never back) and the failed batch, if any, is over.
 * IZ_ENOTFOUND when that webhook is gone (deleted, or set anew). */
int iz_store_webhook_delivered(iz_store_t *st, int64_t webhook_id, int64_t last_id);

/* A failed attempt of the batch (first, last, count) of webhook
 * webhook_id at now_ms. Unless dead: it becomes (or stays) the batch being
 * retried, attempts + 1, next attempt at next_ms, failing_since_ms kept
 * (now_ms for its first failure), status and error kept. With dead: the
 * batch becomes a dead letter (with its attempts, first failure, status
 * and error) and the cursor moves past it, in one transaction.
 * IZ_ENOTFOUND when that webhook is gone. */
int iz_store_webhook_failed(iz_store_t *st, int64_t webhook_id, int64_t first, int64_t last,
                            int64_t count, int64_t now_ms, int64_t next_ms, long status,
                            const char *error, bool dead);

/* A batch given up on. */
typedef struct iz_webhook_dead {
    int64_t id, brand_id;
    int64_t first_id, last_id, count; /* its changes: ids in [first_id, last_id] */
    int attempts;
    long last_status;
    char last_error[IZ_WEBHOOK_ERROR_MAX];
    int64_t created_ms; /* its first failure */
    int64_t dead_ms;    /* when it was given up on */
    bool retry;         /* a retry was asked for and has not run yet */
} iz_webhook_dead_t;

/* brand_id's dead letters with id > after_id, oldest first, at most limit
 * (<= 10000); with retry_only only those waiting for a retry. free()
 * *list. */
int iz_store_webhook_dead_list(iz_store_t *st, int64_t brand_id, int64_t after_id, size_t limit,
                               bool retry_only, iz_webhook_dead_t **list, size_t *n);

/* Ask for a retry of brand_id's dead letter id; IZ_ENOTFOUND when the
 * brand has no such dead letter. */
int iz_store_webhook_dead_retry(iz_store_t *st, int64_t brand_id, int64_t id);

/* A retry's outcome: delivered, the dead letter goes; else it stays with
 * attempts + 1, the new status and error, and no retry asked for. */
int iz_store_webhook_dead_done(iz_store_t *st, int64_t id, bool delivered, long status,
                               const char *error);

/* The figures of every brand with a webhook or a dead letter: changes
 * committed after its cursor (0 without a webhook) and dead letters. */
typedef struct iz_webhook_figures {
    int64_t brand_id, brand_code, account_id;
    bool has_webhook;
    int64_t backlog, dead;
} iz_webhook_figures_t;
int iz_store_webhook_figures(iz_store_t *st, iz_webhook_figures_t **list, size_t *n);
/* ---- the panel's figures (web/) -------------------------------------------------- */

/* One counted group: its key's parts a..d (which they are depends on the
 * call) and how many. */
typedef struct iz_stat {
    char a[24], b[24], c[24], d[24];
    int64_t n;
} iz_stat_t;

/* A brand's current consents counted by type (a), recipient type (b),
 * status (c) and source (d, "" for none): a few rows read from stat_state
 * whatever the brand holds. The caller frees *list. */
int iz_store_stat_state(iz_store_t *st, int64_t brand_id, iz_stat_t **list, size_t *n);

/* A brand's changes by Turkey-time day (a, "YYYY-MM-DD") and origin (b)
 * from from_day on, by day; and by origin (a) over all time. */
int iz_store_stat_days(iz_store_t *st, int64_t brand_id, const char *from_day, iz_stat_t **list,
                       size_t *n);
int iz_store_stat_origins(iz_store_t *st, int64_t brand_id, iz_stat_t **list, size_t *n);

/* A brand's open RET deadlines (as iz_store_ret_open) and how many of its
 * RETs reached İYS after their deadline, read in one snapshot. */
int iz_store_ret_brand(iz_store_t *st, int64_t brand_id, iz_ret_open_t **list, size_t *n,
                       int64_t *late);

/* How many İYS-side changes of a brand wait in quarantine. */
int iz_store_quarantine_count_brand(iz_store_t *st, int64_t brand_id, int64_t *n);

/* A brand's changes of origin IYS with id < before_id (0: from the
 * newest), newest first, at most limit. */
int iz_store_iys_changes(iz_store_t *st, int64_t brand_id, int64_t before_id, size_t limit,
                         iz_change_t **list, size_t *n);

/* ---- several nodes on one PostgreSQL (issue 15) ------------------------------------ */

/* Whether the store is shared by several nodes (PostgreSQL). */
bool iz_store_shared(iz_store_t *st);

/* A number this process bumps whenever it revokes a key or changes a
 * brand: a cache of those reads (api/app.c) made before is stale. */
uint64_t iz_store_gen(iz_store_t *st);

/* A watch: a connection of its own to a shared store's database, which
 * hears of every commit that appends to the consent log, whichever node
 * made it, and may hold the cluster's lease (the İYS sync leader's): a
 * PostgreSQL session advisory lock, held while the session lives and
 * freed by the server the moment it ends (the node died, or its
 * connection broke). One thread uses a watch. IZ_EUNSUPPORTED for a
 * store that is not shared. */
typedef struct iz_store_watch iz_store_watch_t;
int iz_store_watch_open(iz_store_t *st, iz_store_watch_t **out);
void iz_store_watch_close(iz_store_watch_t *w);

/* Wait up to timeout_ms for a commit of the log; *heard says one (or more)
 * came, or that some may have been missed (the connection was made again:
 * catch up by log position). IZ_EBUSY when the connection is lost; the next
 * call connects again. */
int iz_store_watch_wait(iz_store_watch_t *w, int timeout_ms, bool *heard);

/* Take the lease when it is free; *held says whether this watch holds it
 * now (false once its connection was lost: the lease went with it). */
int iz_store_watch_lease(iz_store_watch_t *w, bool *held);

/* One İYS rate window for every node behind one address (iys/budget.h's
 * gate): record a request start to url now when fewer than cap starts were
 * recorded in the last window_ms (0, *wait_ms 0), else *wait_ms (> 0) until
 * one may start. The window is kept in the store (meta), by the nodes'
 * wall clocks (kept in step by NTP; a skew of a few ms is inside
 * IZ_IYS_BUDGET_MARGIN_MS). */
int iz_store_budget_start(iz_store_t *st, const char *url, int cap, int64_t window_ms,
                          int64_t *wait_ms);

/* Refresh the planner's statistics of the tables that grow with the log
 * (consent_log, consent_state, outbox, log_segments) through the watch's
 * connection: PostgreSQL's autovacuum looks once a minute, and a plan made
 * for the empty tables of a new store stays slow for the whole of a first
 * burst of changes. */
int iz_store_watch_analyze(iz_store_watch_t *w);

#endif
