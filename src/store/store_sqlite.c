/*
 * store_sqlite.c - the embedded SQLite backend of the store: one database
 * file, WAL journal with synchronous=FULL so that a call returning 0 is on
 * disk, the schema kept by an ordered list of migrations, and the consent
 * log written as a hash chain (see the invariants at the top of store.h).
 *
 * One sqlite3 connection per store, guarded by a lock: every call takes it,
 * so calls from many threads serialize and the connection's prepared
 * statements (cached by the connection, prepared on first use) are never
 * shared between two running calls. Every write of more than one statement
 * runs in a BEGIN IMMEDIATE transaction, and every path out of a function
 * leaves no transaction open.
 * The log check (iz_store_verify_log) reads through its own read-only
 * connection, so a long walk does not hold writers up (WAL readers see a
 * snapshot and never block the writer). The plumbing for all of this -
 * open, migrations, the lock, running a statement in one call, the error
 * mapping, the hash chain - is shared with the emulator's store in
 * sqlite_util.c; the schema, the statements and the logic are this file's.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "core/iz.h"
#include "core/smstext.h"
#include "core/trtime.h"
#include "store/pgdb.h"
#include "store/schema_pg.h"
#include "store/sqlite_util.h"
#include "store/segment.h"
#include "store/store_int.h"
#include "sys/crypto.h"
#include "sys/log.h"

/* ---- schema ------------------------------------------------------------- */

/* The migrations, applied in order; migrations[i] brings the schema from
 * version i to version i + 1. A released entry is never edited: a schema
 * change is a new entry at the end. */
static const char *const migrations[] = {
    /* 1: accounts, brands, API keys, the consent log and state, outbox. */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE accounts("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " iys_code INTEGER NOT NULL DEFAULT 0,"
    " activation_date TEXT,"
    " iys_url TEXT NOT NULL DEFAULT '',"
    " iys_user TEXT NOT NULL DEFAULT '',"
    " iys_password TEXT NOT NULL DEFAULT '',"
    " plan TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE brands("
    " id INTEGER PRIMARY KEY,"
    " account_id INTEGER NOT NULL REFERENCES accounts(id),"
    " code INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " keyword TEXT NOT NULL DEFAULT '',"
    " short_number TEXT NOT NULL DEFAULT '',"
    " subscriber_number TEXT NOT NULL DEFAULT '',"
    " slug TEXT UNIQUE,"
    " created_at INTEGER NOT NULL,"
    " UNIQUE(account_id, code));"
    "CREATE TABLE api_keys("
    " id INTEGER PRIMARY KEY,"
    " account_id INTEGER NOT NULL REFERENCES accounts(id),"
    " hash TEXT NOT NULL UNIQUE,"
    " prefix TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " revoked_at INTEGER);"
    "CREATE INDEX api_keys_account ON api_keys(account_id);"
    "CREATE TABLE consent_log("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " brand_id INTEGER NOT NULL,"
    " recipient TEXT NOT NULL,"
    " rtype TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " source TEXT,"
    " consent_date INTEGER,"
    " creation_ms INTEGER NOT NULL,"
    " origin TEXT,"
    " iys_state TEXT,"
    " iys_txid TEXT,"
    " iys_error TEXT,"
    " warning TEXT,"
    " evidence TEXT,"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE INDEX consent_log_key ON consent_log(brand_id, recipient, rtype, type, id);"
    /* Append-only, enforced for every writer of the file: no delete, and no
     * change to an immutable column once the row has its hash. */
    "CREATE TRIGGER consent_log_no_delete BEFORE DELETE ON consent_log"
    " BEGIN SELECT RAISE(ABORT, 'consent_log is append-only'); END;"
    "CREATE TRIGGER consent_log_no_update BEFORE UPDATE OF id, brand_id, recipient, rtype,"
    " type, status, source, consent_date, creation_ms, origin, warning, evidence, prev_hash,"
    " hash ON consent_log WHEN old.hash <> ''"
    " BEGIN SELECT RAISE(ABORT, 'consent_log is append-only'); END;"
    "CREATE TABLE consent_state("
    " brand_id INTEGER NOT NULL,"
    " recipient TEXT NOT NULL,"
    " rtype TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " log_id INTEGER NOT NULL REFERENCES consent_log(id),"
    " status TEXT NOT NULL,"
    " source TEXT,"
    " consent_date INTEGER,"
    " PRIMARY KEY(brand_id, recipient, rtype, type)) WITHOUT ROWID;"
    "CREATE TABLE outbox("
    " id INTEGER PRIMARY KEY,"
    " log_id INTEGER NOT NULL UNIQUE REFERENCES consent_log(id),"
    " created_ms INTEGER NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'PENDING');",
    /* 2: the sync engine: outbox scheduling, pull cursors, RET deadlines. */
    "ALTER TABLE outbox ADD COLUMN bulk INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE outbox ADD COLUMN next_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE outbox ADD COLUMN request_id TEXT;"
    "ALTER TABLE outbox ADD COLUMN sent_ms INTEGER;"
    "ALTER TABLE outbox ADD COLUMN last_error TEXT;"
    "ALTER TABLE outbox ADD COLUMN req_index INTEGER;"
    "CREATE INDEX outbox_state ON outbox(state, bulk, next_ms);"
    "CREATE INDEX consent_log_txid ON consent_log(iys_txid);"
    "CREATE INDEX consent_log_brand ON consent_log(brand_id, id);"
    "CREATE TABLE iys_cursor("
    " brand_id INTEGER NOT NULL,"
    " source TEXT NOT NULL,"
    " cursor TEXT NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " PRIMARY KEY(brand_id, source)) WITHOUT ROWID;"
    "CREATE TABLE ret_deadlines("
    " log_id INTEGER PRIMARY KEY REFERENCES consent_log(id),"
    " deadline INTEGER NOT NULL,"
    " done_ms INTEGER);"
    "CREATE INDEX ret_open ON ret_deadlines(done_ms, deadline);",
    /* 3: what the send filter let through: SMS messages, voice campaigns. */
    "CREATE TABLE sms_messages("
    " id INTEGER PRIMARY KEY,"
    " brand_id INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " sender TEXT NOT NULL,"
    " text TEXT NOT NULL,"
    " commercial INTEGER NOT NULL,"
    " encoding TEXT NOT NULL,"
    " parts INTEGER NOT NULL,"
    " accepted INTEGER NOT NULL,"
    " blocked INTEGER NOT NULL);"
    "CREATE INDEX sms_messages_brand ON sms_messages(brand_id, id);"
    "CREATE TABLE sms_recipients("
    " message_id INTEGER NOT NULL REFERENCES sms_messages(id),"
    " seq INTEGER NOT NULL,"
    " recipient TEXT NOT NULL,"
    " outcome TEXT NOT NULL,"
    " gateway_id TEXT,"
    " PRIMARY KEY(message_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE voice_campaigns("
    " id INTEGER PRIMARY KEY,"
    " brand_id INTEGER NOT NULL,"
    " account_id INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " commercial INTEGER NOT NULL,"
    " rtype TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " allowed INTEGER NOT NULL,"
    " blocked INTEGER NOT NULL);"
    "CREATE TABLE voice_numbers("
    " campaign_id INTEGER NOT NULL REFERENCES voice_campaigns(id),"
    " seq INTEGER NOT NULL,"
    " recipient TEXT NOT NULL,"
    " outcome TEXT NOT NULL,"
    " PRIMARY KEY(campaign_id, seq)) WITHOUT ROWID;",
    /* 4: İYS changes that could not be applied, kept instead of skipped.
     * (The same version seals accounts.iys_password; that is done in C at
     * open, since SQL cannot encrypt.) */
    "CREATE TABLE iys_quarantine("
    " id INTEGER PRIMARY KEY,"
    " brand_id INTEGER NOT NULL,"
    " via TEXT NOT NULL,"
    " source TEXT,"
    " raw TEXT NOT NULL,"
    " raw_hash TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " UNIQUE(brand_id, raw_hash));"
    "CREATE INDEX iys_quarantine_brand ON iys_quarantine(brand_id, id);",
    /* 5: the İYS client's tokens, kept across restarts; access and refresh
     * are sealed in C, as iys_password is. */
    "CREATE TABLE iys_tokens("
    " account_id INTEGER PRIMARY KEY REFERENCES accounts(id),"
    " base_url TEXT NOT NULL,"
    " username TEXT NOT NULL,"
    " access TEXT NOT NULL DEFAULT '',"
    " refresh TEXT NOT NULL DEFAULT '',"
    " access_exp INTEGER NOT NULL DEFAULT 0,"
    " refresh_exp INTEGER NOT NULL DEFAULT 0,"
    " blocked_until INTEGER NOT NULL DEFAULT 0,"
    " updated_ms INTEGER NOT NULL);",
    /* 6: one rate budget for every account: the outbox is read an account
     * at a time, and bulk requests are found by their id. */
    "ALTER TABLE outbox ADD COLUMN account_id INTEGER;"
    "ALTER TABLE outbox ADD COLUMN posted_ms INTEGER;"
    "UPDATE outbox SET account_id = (SELECT b.account_id FROM consent_log l"
    " JOIN brands b ON b.id = l.brand_id WHERE l.id = outbox.log_id);"
    "UPDATE outbox SET posted_ms = sent_ms WHERE state = 'SENT';"
    "CREATE INDEX outbox_account ON outbox(account_id, state, log_id);"
    "CREATE INDEX outbox_request ON outbox(request_id);",
    /* 7: bulk upload jobs and their rejected rows. */
    "CREATE TABLE jobs("
    " id TEXT PRIMARY KEY,"
    " account_id INTEGER NOT NULL REFERENCES accounts(id),"
    " brand_id INTEGER NOT NULL REFERENCES brands(id),"
    " state TEXT NOT NULL,"
    " format TEXT NOT NULL,"
    " path TEXT NOT NULL,"
    " total INTEGER NOT NULL DEFAULT -1,"
    " processed INTEGER NOT NULL DEFAULT 0,"
    " accepted INTEGER NOT NULL DEFAULT 0,"
    " rejected INTEGER NOT NULL DEFAULT 0,"
    " resume_line INTEGER NOT NULL DEFAULT -1,"
    " owner TEXT,"
    " error TEXT,"
    " warnings TEXT,"
    " created_ms INTEGER NOT NULL,"
    " started_ms INTEGER,"
    " updated_ms INTEGER,"
    " finished_ms INTEGER);"
    "CREATE INDEX jobs_open ON jobs(state, created_ms);"
    "CREATE TABLE job_errors("
    " job_id TEXT NOT NULL REFERENCES jobs(id),"
    " line INTEGER NOT NULL,"
    " code TEXT NOT NULL,"
    " message TEXT NOT NULL,"
    " raw TEXT NOT NULL,"
    " PRIMARY KEY(job_id, line)) WITHOUT ROWID;",
    /* 8: log segments (segment.h): a bulk load's new keys, many changes to a
     * row. A state or outbox row may now name a log id a segment holds, so
     * both tables lose their foreign key to consent_log (rebuilt); a state
     * row keeps the id of the key's segment entry, and the outbox its
     * brand. */
    "CREATE TABLE log_segments("
    " first_id INTEGER PRIMARY KEY,"
    " count INTEGER NOT NULL,"
    " brand_id INTEGER NOT NULL REFERENCES brands(id),"
    " creation_ms INTEGER NOT NULL,"
    " origin TEXT NOT NULL,"
    " job_id TEXT NOT NULL,"
    " iys_state TEXT NOT NULL,"
    " queued INTEGER NOT NULL,"
    " data BLOB NOT NULL,"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE INDEX log_segments_queued ON log_segments(queued, first_id) WHERE queued = 1;"
    "CREATE INDEX log_segments_brand ON log_segments(brand_id, first_id);"
    "CREATE TRIGGER log_segments_no_delete BEFORE DELETE ON log_segments"
    " BEGIN SELECT RAISE(ABORT, 'log_segments is append-only'); END;"
    "CREATE TRIGGER log_segments_no_update BEFORE UPDATE OF first_id, count, brand_id,"
    " creation_ms, origin, job_id, iys_state, data, prev_hash, hash ON log_segments"
    " BEGIN SELECT RAISE(ABORT, 'log_segments is append-only'); END;"
    "CREATE TABLE segment_results("
    " log_id INTEGER PRIMARY KEY,"
    " iys_state TEXT NOT NULL,"
    " iys_txid TEXT,"
    " iys_error TEXT);"
    "CREATE INDEX segment_results_txid ON segment_results(iys_txid) WHERE iys_txid IS NOT NULL;"
    "CREATE TABLE consent_state_8("
    " brand_id INTEGER NOT NULL,"
    " recipient TEXT NOT NULL,"
    " rtype TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " log_id INTEGER NOT NULL,"
    " status TEXT NOT NULL,"
    " source TEXT,"
    " consent_date INTEGER,"
    " seg_id INTEGER,"
    " PRIMARY KEY(brand_id, recipient, rtype, type)) WITHOUT ROWID;"
    "INSERT INTO consent_state_8 SELECT brand_id, recipient, rtype, type, log_id, status,"
    " source, consent_date, NULL FROM consent_state;"
    "DROP TABLE consent_state;"
    "ALTER TABLE consent_state_8 RENAME TO consent_state;"
    "CREATE TABLE outbox_8("
    " id INTEGER PRIMARY KEY,"
    " log_id INTEGER NOT NULL UNIQUE,"
    " created_ms INTEGER NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'PENDING',"
    " bulk INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_ms INTEGER NOT NULL DEFAULT 0,"
    " request_id TEXT,"
    " sent_ms INTEGER,"
    " last_error TEXT,"
    " req_index INTEGER,"
    " account_id INTEGER,"
    " posted_ms INTEGER,"
    " brand_id INTEGER NOT NULL);"
    "INSERT INTO outbox_8 SELECT o.id, o.log_id, o.created_ms, o.state, o.bulk, o.attempts,"
    " o.next_ms, o.request_id, o.sent_ms, o.last_error, o.req_index, o.account_id, o.posted_ms,"
    " l.brand_id FROM outbox o JOIN consent_log l ON l.id = o.log_id;"
    "DROP TABLE outbox;"
    "ALTER TABLE outbox_8 RENAME TO outbox;"
    "CREATE INDEX outbox_state ON outbox(state, bulk, next_ms);"
    "CREATE INDEX outbox_account ON outbox(account_id, state, log_id);"
    "CREATE INDEX outbox_request ON outbox(request_id);",
    /* 9: inbound SMS: a brand's keywords (several; folded for matching, the
     * old single keyword becomes the first), its reply texts, and every
     * message taken, once per gateway message id. */
    "CREATE TABLE brand_keywords("
    " brand_id INTEGER NOT NULL REFERENCES brands(id),"
    " pos INTEGER NOT NULL,"
    " keyword TEXT NOT NULL,"
    " folded TEXT NOT NULL,"
    " PRIMARY KEY(brand_id, pos),"
    " UNIQUE(brand_id, folded)) WITHOUT ROWID;"
    "CREATE INDEX brand_keywords_folded ON brand_keywords(folded);"
    "INSERT INTO brand_keywords SELECT id, 0, keyword, lower(keyword) FROM brands"
    " WHERE keyword <> '';"
    "ALTER TABLE brands ADD COLUMN reply_onay TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE brands ADD COLUMN reply_ret TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE brands ADD COLUMN reply_help TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX brands_short_number ON brands(short_number) WHERE short_number <> '';"
    "CREATE INDEX brands_subscriber_number ON brands(subscriber_number)"
    " WHERE subscriber_number <> '';"
    "CREATE TABLE sms_inbound("
    " id INTEGER PRIMARY KEY,"
    " gateway TEXT NOT NULL,"
    " msg_id TEXT NOT NULL,"
    " sender TEXT NOT NULL,"
    " receiver TEXT NOT NULL,"
    " smsc TEXT,"
    " text TEXT NOT NULL,"
    " received_ms INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " brand_id INTEGER,"
    " outcome TEXT NOT NULL,"
    " detail TEXT,"
    " reply TEXT NOT NULL,"
    " UNIQUE(gateway, msg_id));"
    "CREATE INDEX sms_inbound_brand ON sms_inbound(brand_id, id);",
    /* 10: the outbound SMS queue. A send's messages wait QUEUED, go SENDING
     * when a worker takes them and end SENT, DELIVERED, FAILED or UNKNOWN;
     * the partial indexes hold only what the queue looks for (the waiting
     * and the in-flight messages, the open sends), so they stay small
     * however long the history grows. Delivery reports find a message by
     * its id; an account's Idempotency-Key names one send. */
    "ALTER TABLE sms_messages ADD COLUMN account_id INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sms_messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'SEND';"
    "ALTER TABLE sms_messages ADD COLUMN state TEXT NOT NULL DEFAULT 'DONE';"
    "ALTER TABLE sms_messages ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE sms_messages ADD COLUMN rtype TEXT NOT NULL DEFAULT 'BIREYSEL';"
    "ALTER TABLE sms_messages ADD COLUMN opt_out INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sms_messages ADD COLUMN idem_key TEXT;"
    "ALTER TABLE sms_messages ADD COLUMN idem_hash TEXT;"
    "UPDATE sms_messages SET account_id = COALESCE((SELECT b.account_id FROM brands b"
    " WHERE b.id = sms_messages.brand_id), 0);"
    "CREATE UNIQUE INDEX sms_messages_idem ON sms_messages(account_id, idem_key)"
    " WHERE idem_key IS NOT NULL;"
    "CREATE INDEX sms_messages_open ON sms_messages(priority, id) WHERE state <> 'DONE';"
    "ALTER TABLE sms_recipients ADD COLUMN error TEXT;"
    "ALTER TABLE sms_recipients ADD COLUMN sent_ms INTEGER;"
    "ALTER TABLE sms_recipients ADD COLUMN dlr_status INTEGER;"
    "ALTER TABLE sms_recipients ADD COLUMN dlr_ms INTEGER;"
    "ALTER TABLE sms_recipients ADD COLUMN raw_json INTEGER NOT NULL DEFAULT 0;"
    "CREATE UNIQUE INDEX sms_recipients_msgid ON sms_recipients(gateway_id)"
    " WHERE gateway_id IS NOT NULL;"
    "CREATE INDEX sms_recipients_queued ON sms_recipients(message_id, seq)"
    " WHERE outcome = 'QUEUED';"
    "CREATE INDEX sms_recipients_sending ON sms_recipients(message_id, seq)"
    " WHERE outcome = 'SENDING';",
    /* 11 (daily reconciliation): the day İYS recorded each of izin's
     * accepted changes on, so that a day's file can be checked for every
     * change it must hold; and each brand-day's last reconciliation, with
     * İYS's file hash, its timestamp reply and what did not match. */
    "CREATE TABLE iys_days("
    " log_id INTEGER PRIMARY KEY,"
    " brand_id INTEGER NOT NULL,"
    " day TEXT NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE INDEX iys_days_day ON iys_days(brand_id, day, log_id);"
    "CREATE TABLE iys_recon("
    " brand_id INTEGER NOT NULL,"
    " report_date TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " rows INTEGER NOT NULL DEFAULT 0,"
    " matched INTEGER NOT NULL DEFAULT 0,"
    " repaired INTEGER NOT NULL DEFAULT 0,"
    " pending INTEGER NOT NULL DEFAULT 0,"
    " mismatched INTEGER NOT NULL DEFAULT 0,"
    " hash TEXT,"
    " agreed INTEGER NOT NULL DEFAULT 0,"
    " agreed_ms INTEGER,"
    " tsr BLOB,"
    " details TEXT,"
    " error TEXT,"
    " started_ms INTEGER NOT NULL,"
    " finished_ms INTEGER NOT NULL,"
    " PRIMARY KEY(brand_id, report_date));",
    /* 12 (retailers): a change's retailerCode and retailerAccess, kept and
     * hashed with it (store.h) and as immutable as its other fields; izin's
     * copy of each brand's retailers at İYS, and when that copy was last
     * read whole (a consent naming a retailer outside a whole copy is
     * refused with H180 before it goes to İYS). */
    "ALTER TABLE consent_log ADD COLUMN retailer_code INTEGER;"
    "ALTER TABLE consent_log ADD COLUMN retailer_access TEXT;"
    "CREATE TRIGGER consent_log_no_update_retail BEFORE UPDATE OF retailer_code,"
    " retailer_access ON consent_log WHEN old.hash <> ''"
    " BEGIN SELECT RAISE(ABORT, 'consent_log is append-only'); END;"
    "CREATE TABLE retailers("
    " brand_id INTEGER NOT NULL REFERENCES brands(id),"
    " code INTEGER NOT NULL,"
    " title TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " alias TEXT NOT NULL DEFAULT '',"
    " tckn TEXT NOT NULL DEFAULT '',"
    " tin TEXT NOT NULL DEFAULT '',"
    " mersis TEXT NOT NULL DEFAULT '',"
    " mobile TEXT NOT NULL DEFAULT '',"
    " city_code TEXT NOT NULL DEFAULT '',"
    " city_name TEXT NOT NULL DEFAULT '',"
    " town_code TEXT NOT NULL DEFAULT '',"
    " town_name TEXT NOT NULL DEFAULT '',"
    " status TEXT NOT NULL DEFAULT '',"
    " access_count INTEGER NOT NULL DEFAULT 0,"
    " updated_ms INTEGER NOT NULL,"
    " PRIMARY KEY(brand_id, code)) WITHOUT ROWID;"
    "CREATE TABLE retailer_lists("
    " brand_id INTEGER PRIMARY KEY REFERENCES brands(id),"
    " synced_ms INTEGER NOT NULL);",
    /* 13 (consent page): a brand's information text (KVKK aydınlatma metni)
     * shown on its consent page before a person gives consent. */
    "ALTER TABLE brands ADD COLUMN info_text TEXT NOT NULL DEFAULT '';",
    /* 14 (partner mode and subscriptions): an account may send through an
     * İYS partner (iş ortağı), whose one token (sealed in C, as
     * iys_tokens') serves all its accounts on one İYS; the sync engine's
     * read-out of each account's standing with İYS (iys/standing.h). */
    "ALTER TABLE accounts ADD COLUMN iys_integrator INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE iys_partner_tokens("
    " integrator_code INTEGER NOT NULL,"
    " base_url TEXT NOT NULL,"
    " username TEXT NOT NULL,"
    " access TEXT NOT NULL DEFAULT '',"
    " refresh TEXT NOT NULL DEFAULT '',"
    " access_exp INTEGER NOT NULL DEFAULT 0,"
    " refresh_exp INTEGER NOT NULL DEFAULT 0,"
    " blocked_until INTEGER NOT NULL DEFAULT 0,"
    " updated_ms INTEGER NOT NULL,"
    " PRIMARY KEY(integrator_code, base_url));"
    "CREATE TABLE iys_standing("
    " account_id INTEGER PRIMARY KEY REFERENCES accounts(id),"
    " sending INTEGER NOT NULL,"
    " reason TEXT NOT NULL DEFAULT '',"
    " json TEXT NOT NULL,"
    " updated_ms INTEGER NOT NULL);",
    /* 15 (consent page, İYS-verified mode): how a brand's consent page
     * proves a number (LOCAL: izin's own code; IYS: İYS's SMS OTP), and
     * the OTP template and VKN İYS's start call needs. */
    "ALTER TABLE brands ADD COLUMN page_mode TEXT NOT NULL DEFAULT 'LOCAL';"
    "ALTER TABLE brands ADD COLUMN page_otp_template TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE brands ADD COLUMN page_vkn TEXT NOT NULL DEFAULT '';",
    /* 16 (customer webhooks): a brand's webhook with its sealed secret and
     * delivery state (the cursor, the batch being retried), and the
     * batches given up on (hook/webhook.h). */
    "CREATE TABLE webhooks("
    " id INTEGER PRIMARY KEY AUTOINCREMENT," /* never reused: a worker's late outcome for a
                                                deleted webhook cannot land on a new one */
    " brand_id INTEGER NOT NULL UNIQUE REFERENCES brands(id),"
    " url TEXT NOT NULL,"
    " secret TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " cursor INTEGER NOT NULL,"
    " batch_first INTEGER NOT NULL DEFAULT 0,"
    " batch_last INTEGER NOT NULL DEFAULT 0,"
    " batch_count INTEGER NOT NULL DEFAULT 0,"
    " failing_since_ms INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_ms INTEGER NOT NULL DEFAULT 0,"
    " last_status INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE webhook_dead("
    " id INTEGER PRIMARY KEY,"
    " brand_id INTEGER NOT NULL REFERENCES brands(id),"
    " first_id INTEGER NOT NULL,"
    " last_id INTEGER NOT NULL,"
    " count INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL,"
    " last_status INTEGER NOT NULL,"
    " last_error TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " dead_ms INTEGER NOT NULL,"
    " retry INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX webhook_dead_brand ON webhook_dead(brand_id, id);",
    /* 17 (the customer's panel): Its users (an e-mail unique in any ASCII case,
     * the password only as its argon2id string), their sessions (only the
     * SHA-256 of a session's token) and failed logins for the lockout. */
    "CREATE TABLE panel_users("
    " id INTEGER PRIMARY KEY,"
    " account_id INTEGER NOT NULL REFERENCES accounts(id),"
    " email TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    " pwhash TEXT NOT NULL,"
    " must_change INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL,"
    " last_login INTEGER);"
    "CREATE INDEX panel_users_account ON panel_users(account_id);"
    "CREATE TABLE panel_sessions("
    " hash TEXT PRIMARY KEY,"
    " user_id INTEGER NOT NULL REFERENCES panel_users(id),"
    " created_at INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX panel_sessions_user ON panel_sessions(user_id);"
    "CREATE TABLE panel_login_failures(email TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX panel_login_failures_email ON panel_login_failures(email, at);"
    "CREATE INDEX panel_login_failures_at ON panel_login_failures(at);"
    /* The dashboard's figures, kept so that reading them costs a few rows
     * whatever a brand holds: current consents by type, recipient type,
     * status and source, and changes by Turkey-time day and origin (every
     * log row and every log segment). A new state row is counted by the
     * code that inserts it (stat_new for a change, stat_add/stat_flush for
     * a bulk load, one upsert per kind of row): an insert trigger, even one
     * that passed over a load's rows, cost a fifth of the load's speed.
     * A change of status or source, and a delete, are counted by triggers;
     * a load's row taken back (state_take_back, the only delete of a row
     * with a seg_id) was never counted, hence the delete trigger's
     * condition. Filled from what the store holds when the migration runs. */
    "CREATE TABLE stat_state("
    " brand_id INTEGER NOT NULL, type TEXT NOT NULL, rtype TEXT NOT NULL,"
    " status TEXT NOT NULL, source TEXT NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY(brand_id, type, rtype, status, source)) WITHOUT ROWID;"
    "CREATE TABLE stat_days("
    " brand_id INTEGER NOT NULL, day TEXT NOT NULL, origin TEXT NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY(brand_id, day, origin)) WITHOUT ROWID;"
    "INSERT INTO stat_state SELECT brand_id, type, rtype, status, coalesce(source, ''), count(*)"
    " FROM consent_state GROUP BY 1, 2, 3, 4, 5;"
    "INSERT INTO stat_days SELECT brand_id, date(creation_ms / 1000 + 10800, 'unixepoch'),"
    " coalesce(origin, ''), count(*) FROM consent_log GROUP BY 1, 2, 3;"
    "INSERT INTO stat_days SELECT brand_id, date(creation_ms / 1000 + 10800, 'unixepoch'),"
    " origin, sum(count) FROM log_segments WHERE true GROUP BY 1, 2, 3"
    " ON CONFLICT DO UPDATE SET n = n + excluded.n;"
    "CREATE TRIGGER stat_state_upd AFTER UPDATE OF status, source ON consent_state"
    " WHEN OLD.status IS NOT NEW.status OR OLD.source IS NOT NEW.source BEGIN"
    " UPDATE stat_state SET n = n - 1 WHERE brand_id = OLD.brand_id AND type = OLD.type"
    " AND rtype = OLD.rtype AND status = OLD.status AND source = coalesce(OLD.source, '');"
    " INSERT INTO stat_state VALUES(NEW.brand_id, NEW.type, NEW.rtype, NEW.status,"
    " coalesce(NEW.source, ''), 1) ON CONFLICT DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER stat_state_del AFTER DELETE ON consent_state WHEN OLD.seg_id IS NULL BEGIN"
    " UPDATE stat_state SET n = n - 1 WHERE brand_id = OLD.brand_id AND type = OLD.type"
    " AND rtype = OLD.rtype AND status = OLD.status AND source = coalesce(OLD.source, ''); END;"
    "CREATE TRIGGER stat_days_log AFTER INSERT ON consent_log BEGIN"
    " INSERT INTO stat_days VALUES(NEW.brand_id,"
    " date(NEW.creation_ms / 1000 + 10800, 'unixepoch'), coalesce(NEW.origin, ''), 1)"
    " ON CONFLICT DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER stat_days_seg AFTER INSERT ON log_segments BEGIN"
    " INSERT INTO stat_days VALUES(NEW.brand_id,"
    " date(NEW.creation_ms / 1000 + 10800, 'unixepoch'), NEW.origin, NEW.count)"
    " ON CONFLICT DO UPDATE SET n = n + excluded.n; END;"
    /* The panel's list of İYS-side changes, newest first, without walking
     * a brand's whole log. */
    "CREATE INDEX consent_log_iys ON consent_log(brand_id, id) WHERE origin = 'IYS';",
    /* 18 (content rules of a commercial message, and plans): the sender's identity and contact every commercial SMS
     * carries (core/content.h). */
    "ALTER TABLE brands ADD COLUMN trade_name TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE brands ADD COLUMN mersis TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE brands ADD COLUMN tradesman TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE brands ADD COLUMN contact TEXT NOT NULL DEFAULT '';"
    /* (plans) each account's consent records, a counter kept with the
     * state rows so that a plan's quota costs no count(*) per change. */
    "CREATE TABLE account_usage("
    " account_id INTEGER PRIMARY KEY,"
    " records INTEGER NOT NULL);"
    "INSERT INTO account_usage(account_id, records)"
    " SELECT b.account_id, count(*) FROM consent_state s JOIN brands b ON b.id = s.brand_id"
    " GROUP BY b.account_id;",
};

_Static_assert(IZ_ARRAY_LEN(migrations) == IZ_STORE_SCHEMA_VERSION,
               "store.h names the schema version");

/* ---- statements ---------------------------------------------------------- */

/* Each statement is written where it runs (sqlite_util.h caches it by its
 * address); these are the column lists and conditions several share. */
#define ACC_COLS                                                                                   \
    "id, name, iys_code, activation_date, iys_url, iys_user, iys_password, plan, created_at,"      \
    " iys_integrator"
#define BRAND_COLS                                                                                 \
    "id, account_id, code, name, keyword, short_number, subscriber_number, slug, created_at"
#define CHG_COLS                                                                                   \
    "l.id, l.brand_id, l.recipient, l.rtype, l.type, l.status, l.source, l.consent_date,"          \
    " l.creation_ms, l.origin, l.iys_state, l.iys_txid, l.iys_error, l.warning, l.evidence,"       \
    " l.retailer_code, l.retailer_access"
#define KEY_WHERE "brand_id = ?1 AND recipient = ?2 AND rtype = ?3 AND type = ?4"
#define OUTBOX_SELECT                                                                              \
    "SELECT " CHG_COLS ", b.account_id, b.code, o.attempts, o.bulk, o.state, o.request_id,"        \
    " o.sent_ms, o.req_index, (SELECT deadline FROM ret_deadlines rd WHERE rd.log_id = o.log_id"   \
    " AND rd.done_ms IS NULL), o.log_id FROM outbox o LEFT JOIN consent_log l ON l.id = o.log_id"  \
    " JOIN brands b ON b.id = o.brand_id"

/* The parameters ?1..?4 of a statement on one consent key (KEY_WHERE). */
#define KEY_ARGS(brand_id, recipient, rt, ty)                                                      \
    IZ_SQ_I64(brand_id), IZ_SQ_TEXT(recipient), IZ_SQ_TEXT(rt), IZ_SQ_TEXT(ty)

static const iz_sq_def_t sq_def = {
    .who = "store",
    .migrations = migrations,
    .nmigrations = (int)IZ_ARRAY_LEN(migrations),
    /* The chain runs through log rows and segments in id order. */
    .chain_head_sql = "SELECT hash FROM (SELECT k, hash FROM (SELECT id AS k, hash FROM consent_log"
                      " ORDER BY id DESC LIMIT 1) AS l UNION ALL SELECT k, hash FROM (SELECT"
                      " first_id AS k, hash FROM log_segments ORDER BY first_id DESC LIMIT 1) AS g)"
                      " AS heads ORDER BY k DESC LIMIT 1",
    .pg_baseline = iz__pg_baseline,
    .pg_baseline_version = IZ_PG_BASELINE_VERSION,
};

/* One caller's batch waiting for a group commit. */
typedef struct apply_req {
    iz_store_apply_t *items;
    size_t n;
    const char *job_id;   /* a bulk load (iz_store_consent_load_then), or NULL */
    const int64_t *lines; /* the load's items' lines */
    iz_store_then_fn then; /* runs in the transaction after the items, or NULL */
    void *then_ctx;
    int rc; /* the transaction's failure, 0 when it committed */
    bool done;
    bool taken; /* in a batch a leader is writing or syncing */
    struct apply_req *next;
    /* The caller waits here, woken only when its batch is done or it is to
     * lead the next one (a broadcast to every waiter after each commit was
     * most of a write's CPU in thread switches with 32 writers). */
    pthread_cond_t cv;
} apply_req_t;

typedef struct sq_store {
    iz_store_t base;
    iz_sq_t q;
    iz_seal_key_t key; /* seals accounts.iys_password and iys_tokens' tokens */
    /* Group commit: calls queue here; one of them (the leader) writes the
     * whole queue in one transaction with one fsync and wakes the others. */
    pthread_mutex_t gmu;
    apply_req_t *head, *tail;
    bool leading;
    /* The second stage (SQLite): a batch commits without waiting for the
     * disk and is answered once a sync of the WAL that began after its
     * commit is done (iz__sq_wal_sync, outside the store's lock: the next
     * batch is written meanwhile). Under gmu. */
    pthread_cond_t scv;     /* a sync has ended */
    uint64_t committed_seq; /* the commits so far that wait for a sync */
    uint64_t synced_seq;    /* the last of them made durable */
    bool syncing;           /* a sync is running */
    bool sync_failed;       /* a sync failed: what is on disk is not known, writes fail */
} sq_store_t;

static iz_sq_t *sq(iz_store_t *st)
{
    return &((sq_store_t *)st)->q;
}

/* ---- helpers ------------------------------------------------------------ */

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return now_s() * 1000;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run write(s, ctx) inside the transaction the caller has open (a write
 * made from an iz_store_then_fn joins the batch's transaction, so that it
 * commits with the changes it belongs to), or else in one of its own. */
static int joined_or_own(iz_sq_t *s, int (*write)(iz_sq_t *s, void *ctx), void *ctx)
{
    if (iz__sq_tx_state(s) != 0) return write(s, ctx);
    int rc = iz__sq_begin(s);
    if (rc == 0) rc = write(s, ctx);
    return iz__sq_end(s, rc);
}

/* ---- open, close ------------------------------------------------------- */

static void sq_close(iz_store_t *st)
{
    sq_store_t *ss = (sq_store_t *)st;
    iz__sq_close(sq(st));
    iz_seal_key_wipe(&ss->key);
    pthread_mutex_destroy(&ss->gmu);
    pthread_cond_destroy(&ss->scv);
    free(st);
}

static const iz_store_ops_t sq_ops;

/* The secrets found stored in clear, collected before any is sealed: the
 * table is not updated while it is being read. */
typedef struct clear_secrets {
    const iz_seal_key_t *key;
    int64_t *ids;
    char **clear;
    size_t n;
    const char *why; /* why a sealed one did not open */
} clear_secrets_t;

/* One accounts row (id, iys_password): a sealed value must open with the
 * key (IZ_ERULE stops the walk otherwise); a clear one is kept for sealing. */
static int secret_row(void *ctx, const iz_row_t *row)
{
    clear_secrets_t *cs = ctx;
    const char *v = iz_row_text(row, 1);
    if (!v) return 0;
    if (iz_is_sealed(v)) {
        char tmp[IZ_NAME_MAX];
        int u = iz_unseal(cs->key, v, tmp, sizeof tmp);
        iz_wipe(tmp, sizeof tmp);
        if (u == 0) return 0;
        cs->why = u == IZ_ERULE ? "the secret key does not open the stored secrets (wrong "
                                  "key file or IZIN_SECRET_KEY?)"
                                : "a stored secret is damaged";
        return IZ_ERULE;
    }
    cs->ids = iz_xrealloc(cs->ids, (cs->n + 1) * sizeof *cs->ids);
    cs->clear = iz_xrealloc(cs->clear, (cs->n + 1) * sizeof *cs->clear);
    cs->ids[cs->n] = iz_row_i64(row, 0);
    cs->clear[cs->n++] = iz_xstrdup(v);
    return 0;
}

/* Seal every secret still stored in clear (stores made before schema 4)
 * and check that the key opens every sealed one: a wrong key is found at
 * open, not when İYS is called. IZ_ERULE when a sealed value does not open. */
static int seal_secrets(sq_store_t *ss, const char **err)
{
    iz_sq_t *s = &ss->q;
    clear_secrets_t cs = {.key = &ss->key};
    int rc = iz__sq_begin(s);
    if (rc == 0)
        rc = iz__sq_each(s, "SELECT id, iys_password FROM accounts WHERE iys_password <> ''", NULL,
                         secret_row, &cs);
    if (rc == IZ_ERULE) *err = cs.why;
    for (size_t i = 0; i < cs.n; i++) {
        char *sealed = rc == 0 ? iz_seal(&ss->key, cs.clear[i], strlen(cs.clear[i])) : NULL;
        if (rc == 0 && !sealed) {
            rc = IZ_EIO;
            *err = "no randomness to seal a secret";
        } else if (rc == 0) {
            rc = iz__sq_run(s, "UPDATE accounts SET iys_password = ?2 WHERE id = ?1",
                            IZ_SQ_ARGS(IZ_SQ_I64(cs.ids[i]), IZ_SQ_TEXT(sealed)));
        }
        free(sealed);
        iz_wipe(cs.clear[i], strlen(cs.clear[i]));
        free(cs.clear[i]);
    }
    free(cs.ids);
    free(cs.clear);
    rc = iz__sq_end(s, rc);
    if (rc == 0 && cs.n)
        iz_logf(IZ_LOG_INFO, "store", "sealed secrets that were stored in clear", "accounts=%zu",
                cs.n);
    return rc;
}

int iz__sqlite_open(const char *path, const iz_seal_key_t *key, iz_store_t **out, const char **err)
{
    sq_store_t *s = iz_xcalloc(1, sizeof *s);
    s->base.ops = &sq_ops;
    s->key = *key;
    int rc = iz__pg_is_url(path) ? iz__sq_open_pg(&s->q, &sq_def, path, err)
                                 : iz__sq_open(&s->q, &sq_def, path, err);
    if (rc != 0) {
        iz_seal_key_wipe(&s->key);
        free(s);
        return rc;
    }
    if (pthread_mutex_init(&s->gmu, NULL) != 0 || pthread_cond_init(&s->scv, NULL) != 0) iz_oom();
    if ((rc = seal_secrets(s, err)) != 0) {
        sq_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}

static int sq_schema_version(iz_store_t *st)
{
    return sq(st)->version;
}

static int sq_ping(iz_store_t *st)
{
    return iz__sq_get(sq(st), "SELECT 1", NULL, NULL, NULL);
}

/* ---- accounts, brands, keys --------------------------------------------- */

/* A real calendar date "YYYY-MM-DD" (core/trtime.h checks it). */
static int is_date(const char *d)
{
    int64_t e;
    return iz_tr_parse_date(d, &e) == 0;
}

static int account_check(const iz_account_t *a)
{
    if (iz__sq_fits(a->name, sizeof a->name) ||
        iz__sq_fits(a->activation_date, sizeof a->activation_date) ||
        iz__sq_fits(a->iys_url, sizeof a->iys_url) ||
        iz__sq_fits(a->iys_user, sizeof a->iys_user) ||
        iz__sq_fits(a->iys_password, sizeof a->iys_password) ||
        iz__sq_fits(a->plan, sizeof a->plan))
        return IZ_ETOOBIG;
    if (!a->name[0] || (a->activation_date[0] && !is_date(a->activation_date))) return IZ_EINVAL;
    return 0;
}

/* An account row as read: the account and its sealed password, opened
 * after the read (the reader has no key). */
typedef struct acc_row {
    iz_account_t a;
    char sealed[512];
    bool too_long;
} acc_row_t;

static void account_read(const iz_row_t *rw, void *out)
{
    acc_row_t *row = out;
    iz_account_t *a = &row->a;
    a->id = iz_row_i64(rw, 0);
    iz_row_str(rw, 1, a->name, sizeof a->name);
    a->iys_code = iz_row_i64(rw, 2);
    iz_row_str(rw, 3, a->activation_date, sizeof a->activation_date);
    iz_row_str(rw, 4, a->iys_url, sizeof a->iys_url);
    iz_row_str(rw, 5, a->iys_user, sizeof a->iys_user);
    const char *pw = iz_row_text(rw, 6);
    if (pw && iz_strlcpy(row->sealed, pw, sizeof row->sealed) != 0) row->too_long = true;
    iz_row_str(rw, 7, a->plan, sizeof a->plan);
    a->created_at = iz_row_i64(rw, 8);
    a->iys_integrator = iz_row_i64(rw, 9);
}

/* Read one account with sql and open its password. */
static int account_fetch(iz_store_t *st, const char *sql, const iz_sq_arg_t *args,
                         iz_account_t *out)
{
    static const iz_sq_row_t account_row = IZ_SQ_ROW(acc_row_t, account_read);
    sq_store_t *ss = (sq_store_t *)st;
    acc_row_t row;
    int rc = iz__sq_get(&ss->q, sql, args, &account_row, &row);
    if (rc == 0 && row.too_long) rc = IZ_EIO;
    if (rc == 0) {
        *out = row.a;
        if (row.sealed[0] &&
            iz_unseal(&ss->key, row.sealed, out->iys_password, sizeof out->iys_password) != 0) {
            iz_logf(IZ_LOG_ERROR, "store", "cannot open an account's İYS password", "account=%lld",
                    (long long)out->id);
            iz_wipe(out->iys_password, sizeof out->iys_password);
            rc = IZ_EIO;
        }
    }
    iz_wipe(&row, sizeof row);
    return rc;
}

static int sq_account_add(iz_store_t *st, iz_account_t *a)
{
    int rc = account_check(a);
    if (rc != 0) return rc;
    sq_store_t *ss = (sq_store_t *)st;
    char *sealed = NULL;
    if (a->iys_password[0] &&
        !(sealed = iz_seal(&ss->key, a->iys_password, strlen(a->iys_password))))
        return IZ_EIO;
    int64_t created = a->created_at ? a->created_at : now_s();
    rc = iz__sq_write(&ss->q,
                      "INSERT INTO accounts(name, iys_code, activation_date, iys_url, iys_user,"
                      " iys_password, plan, created_at, iys_integrator)"
                      " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      IZ_SQ_ARGS(IZ_SQ_TEXT(a->name), IZ_SQ_I64(a->iys_code),
                                 IZ_SQ_OPT(a->activation_date), IZ_SQ_TEXT(a->iys_url),
                                 IZ_SQ_TEXT(a->iys_user), IZ_SQ_TEXT(sealed ? sealed : ""),
                                 IZ_SQ_TEXT(a->plan), IZ_SQ_I64(created),
                                 IZ_SQ_I64(a->iys_integrator)),
                      &a->id);
    if (rc == 0) a->created_at = created;
    free(sealed);
    return rc;
}

static int sq_account_by_name(iz_store_t *st, const char *name, iz_account_t *out)
{
    if (strnlen(name, IZ_NAME_MAX) >= IZ_NAME_MAX) return IZ_ENOTFOUND;
    return account_fetch(st, "SELECT " ACC_COLS " FROM accounts WHERE name = ?",
                         IZ_SQ_ARGS(IZ_SQ_TEXT(name)), out);
}

static int sq_account_get(iz_store_t *st, int64_t id, iz_account_t *out)
{
    return account_fetch(st, "SELECT " ACC_COLS " FROM accounts WHERE id = ?",
                         IZ_SQ_ARGS(IZ_SQ_I64(id)), out);
}

/* An account row for a listing: its password is not read. */
static void account_list_read(const iz_row_t *rw, void *out)
{
    acc_row_t row = {0};
    account_read(rw, &row);
    *(iz_account_t *)out = row.a;
    iz_wipe(&row, sizeof row);
}

static int sq_accounts_all(iz_store_t *st, iz_account_t **list, size_t *n)
{
    static const iz_sq_row_t row = IZ_SQ_ROW(iz_account_t, account_list_read);
    return iz__sq_list(sq(st), "SELECT " ACC_COLS " FROM accounts ORDER BY id", NULL, &row, list,
                       n);
}

static int brand_check(const iz_brand_t *b)
{
    if (iz__sq_fits(b->name, sizeof b->name) || iz__sq_fits(b->keyword, sizeof b->keyword) ||
        iz__sq_fits(b->short_number, sizeof b->short_number) ||
        iz__sq_fits(b->subscriber_number, sizeof b->subscriber_number) ||
        iz__sq_fits(b->slug, sizeof b->slug))
        return IZ_ETOOBIG;
    if (!b->name[0] || b->code <= 0) return IZ_EINVAL;
    return 0;
}

static void brand_read(const iz_row_t *row, void *out)
{
    iz_brand_t *b = out;
    b->id = iz_row_i64(row, 0);
    b->account_id = iz_row_i64(row, 1);
    b->code = iz_row_i64(row, 2);
    iz_row_str(row, 3, b->name, sizeof b->name);
    iz_row_str(row, 4, b->keyword, sizeof b->keyword);
    iz_row_str(row, 5, b->short_number, sizeof b->short_number);
    iz_row_str(row, 6, b->subscriber_number, sizeof b->subscriber_number);
    iz_row_str(row, 7, b->slug, sizeof b->slug);
    b->created_at = iz_row_i64(row, 8);
}

static const iz_sq_row_t brand_row = IZ_SQ_ROW(iz_brand_t, brand_read);

/* ---- a brand's SMS keywords and replies; inbound SMS ------------------------------ */

/* Fold a keyword as the inbound grammar folds a word (core/smstext.h). */
static int fold_keyword(const char *kw, char out[64])
{
    return iz_smstext_fold(kw, strlen(kw), out, 64) == 0 && out[0] ? 0 : IZ_EINVAL;
}

/* Write a brand's keywords (replacing its old ones) after checking that no
 * other brand on the same short number has one of them; inside a
 * transaction. */
static int keywords_write(iz_sq_t *s, int64_t brand_id, const char *short_number,
                          const iz_brand_sms_t *sms, const char **conflict)
{
    int rc = iz__sq_run(s, "DELETE FROM brand_keywords WHERE brand_id = ?1",
                        IZ_SQ_ARGS(IZ_SQ_I64(brand_id)));
    for (size_t i = 0; rc == 0 && i < sms->nkeywords; i++) {
        char folded[64];
        if (iz__sq_fits(sms->keywords[i], sizeof sms->keywords[i]) != 0) return IZ_ETOOBIG;
        if ((rc = fold_keyword(sms->keywords[i], folded)) != 0) return rc;
        if (short_number[0]) {
            rc = iz__sq_find(s,
                             "SELECT 1 FROM brand_keywords k JOIN brands b ON b.id = k.brand_id"
                             " WHERE b.short_number = ?1 AND k.folded = ?2 AND b.id <> ?3",
                             IZ_SQ_ARGS(IZ_SQ_TEXT(short_number), IZ_SQ_TEXT(folded),
                                        IZ_SQ_I64(brand_id)),
                             NULL, NULL);
            if (rc == 1) {
                *conflict = "keyword";
                return IZ_EEXIST;
            }
            if (rc < 0) return rc;
        }
        rc = iz__sq_write(s,
                          "INSERT INTO brand_keywords(brand_id, pos, keyword, folded)"
                          " VALUES(?1, ?2, ?3, ?4)",
                          IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_I64((int64_t)i),
                                     IZ_SQ_TEXT(sms->keywords[i]), IZ_SQ_TEXT(folded)),
                          NULL);
        if (rc == IZ_EEXIST) rc = IZ_EINVAL; /* the same keyword twice in the list */
    }
    return rc;
}

/* The subscriber number must be no other brand's. */
static int number_free(iz_sq_t *s, const iz_brand_t *b, const char **conflict)
{
    if (!b->subscriber_number[0]) return 0;
    int rc = iz__sq_find(s, "SELECT 1 FROM brands WHERE subscriber_number = ?1 AND id <> ?2",
                         IZ_SQ_ARGS(IZ_SQ_TEXT(b->subscriber_number), IZ_SQ_I64(b->id)), NULL,
                         NULL);
    if (rc == 1) {
        *conflict = "subscriber number";
        return IZ_EEXIST;
    }
    return rc;
}

static void kw_read(const iz_row_t *row, void *out)
{
    iz_row_str(row, 0, out, 64);
}

static void replies_read(const iz_row_t *row, void *out)
{
    iz_brand_sms_t *m = out;
    iz_row_str(row, 0, m->reply_onay, sizeof m->reply_onay);
    iz_row_str(row, 1, m->reply_ret, sizeof m->reply_ret);
    iz_row_str(row, 2, m->reply_help, sizeof m->reply_help);
}

static int sq_brand_sms_get(iz_store_t *st, int64_t brand_id, iz_brand_sms_t *out)
{
    static const iz_sq_row_t kw_row = {.size = 64, .read = kw_read};
    static const iz_sq_row_t replies_row = {.size = 0, .read = replies_read};
    iz_sq_t *s = sq(st);
    memset(out, 0, sizeof *out);
    char(*kws)[64] = NULL;
    size_t n = 0;
    iz__sq_lock(s);
    int rc = iz__sq_get(s, "SELECT reply_onay, reply_ret, reply_help FROM brands WHERE id = ?1",
                        IZ_SQ_ARGS(IZ_SQ_I64(brand_id)), &replies_row, out);
    if (rc == 0)
        rc = iz__sq_list(s,
                         "SELECT keyword FROM brand_keywords WHERE brand_id = ?1 ORDER BY pos"
                         " LIMIT 8",
                         IZ_SQ_ARGS(IZ_SQ_I64(brand_id)), &kw_row, &kws, &n);
    iz__sq_unlock(s);
    if (rc == 0) {
        for (size_t i = 0; i < n && i < IZ_KEYWORDS_MAX; i++)
            memcpy(out->keywords[i], kws[i], 64);
        out->nkeywords = n < IZ_KEYWORDS_MAX ? n : IZ_KEYWORDS_MAX;
    }
    free(kws);
    return rc;
}

static int sq_brand_update(iz_store_t *st, iz_brand_t *b, const iz_brand_sms_t *sms,
                           const char **conflict)
{
    iz_sq_t *s = sq(st);
    iz_strlcpy(b->keyword, sms->nkeywords ? sms->keywords[0] : "", sizeof b->keyword);
    int rc = brand_check(b);
    if (rc != 0) return rc;
    if (iz__sq_fits(sms->reply_onay, sizeof sms->reply_onay) ||
        iz__sq_fits(sms->reply_ret, sizeof sms->reply_ret) ||
        iz__sq_fits(sms->reply_help, sizeof sms->reply_help))
        return IZ_ETOOBIG;
    rc = iz__sq_begin(s);
    if (rc == 0) rc = number_free(s, b, conflict);
    if (rc == 0) {
        rc = iz__sq_update(s,
                           "UPDATE brands SET name = ?2, keyword = ?3, short_number = ?4,"
                           " subscriber_number = ?5, slug = ?6, reply_onay = ?7, reply_ret = ?8,"
                           " reply_help = ?9 WHERE id = ?1",
                           IZ_SQ_ARGS(IZ_SQ_I64(b->id), IZ_SQ_TEXT(b->name),
                                      IZ_SQ_TEXT(b->keyword), IZ_SQ_TEXT(b->short_number),
                                      IZ_SQ_TEXT(b->subscriber_number), IZ_SQ_OPT(b->slug),
                                      IZ_SQ_TEXT(sms->reply_onay), IZ_SQ_TEXT(sms->reply_ret),
                                      IZ_SQ_TEXT(sms->reply_help)));
        if (rc == IZ_EEXIST) *conflict = "slug";
    }
    if (rc == 0) rc = keywords_write(s, b->id, b->short_number, sms, conflict);
    return iz__sq_end(s, rc);
}

static int sq_brand_by_slug(iz_store_t *st, const char *slug, iz_brand_t *out)
{
    return iz__sq_get(sq(st), "SELECT " BRAND_COLS " FROM brands WHERE slug = ?1",
                      IZ_SQ_ARGS(IZ_SQ_TEXT(slug)), &brand_row, out);
}

static int sq_brand_info_get(iz_store_t *st, int64_t brand_id, char *out, size_t size)
{
    return iz__sq_get_text(sq(st), "SELECT info_text FROM brands WHERE id = ?1",
                           IZ_SQ_ARGS(IZ_SQ_I64(brand_id)), out, size);
}

static int sq_brand_info_set(iz_store_t *st, int64_t brand_id, const char *text)
{
    return iz__sq_update(sq(st), "UPDATE brands SET info_text = ?2 WHERE id = ?1",
                         IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_TEXT(text)));
}

static void page_read(const iz_row_t *row, void *out)
{
    iz_brand_page_t *p = out;
    p->iys = strcmp(iz_row_text(row, 0), "IYS") == 0;
    iz_row_str(row, 1, p->otp_template, sizeof p->otp_template);
    iz_row_str(row, 2, p->vkn, sizeof p->vkn);
}

static const iz_sq_row_t page_row = IZ_SQ_ROW(iz_brand_page_t, page_read);

static int sq_brand_page_get(iz_store_t *st, int64_t brand_id, iz_brand_page_t *out)
{
    return iz__sq_get(sq(st),
                      "SELECT page_mode, page_otp_template, page_vkn FROM brands WHERE id = ?1",
                      IZ_SQ_ARGS(IZ_SQ_I64(brand_id)), &page_row, out);
}

static int sq_brand_page_set(iz_store_t *st, int64_t brand_id, const iz_brand_page_t *p)
{
    return iz__sq_update(sq(st),
                         "UPDATE brands SET page_mode = ?2, page_otp_template = ?3, page_vkn = ?4"
                         " WHERE id = ?1",
                         IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_TEXT(p->iys ? "IYS" : "LOCAL"),
                                    IZ_SQ_TEXT(p->otp_template), IZ_SQ_TEXT(p->vkn)));
}

static void ident_read(const iz_row_t *row, void *out)
{
    iz_brand_ident_t *id = out;
    iz_row_str(row, 0, id->trade_name, sizeof id->trade_name);
    iz_row_str(row, 1, id->mersis, sizeof id->mersis);
    iz_row_str(row, 2, id->tradesman, sizeof id->tradesman);
    iz_row_str(row, 3, id->contact, sizeof id->contact);
}

static const iz_sq_row_t ident_row = IZ_SQ_ROW(iz_brand_ident_t, ident_read);

static int sq_brand_ident_get(iz_store_t *st, int64_t brand_id, iz_brand_ident_t *out)
{
    return iz__sq_get(sq(st),
                      "SELECT trade_name, mersis, tradesman, contact FROM brands WHERE id = ?1",
                      IZ_SQ_ARGS(IZ_SQ_I64(brand_id)), &ident_row, out);
}

static int sq_brand_ident_set(iz_store_t *st, int64_t brand_id, const iz_brand_ident_t *id)
{
    return iz__sq_update(sq(st),
                         "UPDATE brands SET trade_name = ?2, mersis = ?3, tradesman = ?4,"
                         " contact = ?5 WHERE id = ?1",
                         IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_TEXT(id->trade_name),
                                    IZ_SQ_TEXT(id->mersis), IZ_SQ_TEXT(id->tradesman),
                                    IZ_SQ_TEXT(id->contact)));
}

static int sq_brands_by_number(iz_store_t *st, const char *number, iz_brand_t **list,
                               iz_brand_sms_t **sms, size_t *n)
{
    iz_brand_t *l = NULL;
    size_t k = 0;
    int rc = iz__sq_list(sq(st),
                         "SELECT " BRAND_COLS " FROM brands WHERE ?1 <> ''"
                         " AND (short_number = ?1 OR subscriber_number = ?1) ORDER BY id",
                         IZ_SQ_ARGS(IZ_SQ_TEXT(number)), &brand_row, &l, &k);
    if (rc != 0) return rc;
    iz_brand_sms_t *m = iz_xcalloc(k ? k : 1, sizeof *m);
    for (size_t i = 0; rc == 0 && i < k; i++)
        rc = sq_brand_sms_get(st, l[i].id, &m[i]);
    if (rc != 0) {
        free(l);
        free(m);
        return rc;
    }
    *list = l;
    *sms = m;
    *n = k;
    return 0;
}

#define INBOUND_COLS                                                                               \
    "id, gateway, msg_id, sender, receiver, smsc, text, received_ms, created_ms, brand_id,"       \
    " outcome, detail, reply"

static void inbound_read(const iz_row_t *row, void *out)
{
    iz_inbound_t *m = out;
    m->id = iz_row_i64(row, 0);
    iz_row_str(row, 1, m->gateway, sizeof m->gateway);
    iz_row_str(row, 2, m->msg_id, sizeof m->msg_id);
    iz_row_str(row, 3, m->sender, sizeof m->sender);
    iz_row_str(row, 4, m->receiver, sizeof m->receiver);
    iz_row_str(row, 5, m->smsc, sizeof m->smsc);
    iz_row_str(row, 6, m->text, sizeof m->text);
    m->received_ms = iz_row_i64(row, 7);
    m->created_ms = iz_row_i64(row, 8);
    m->brand_id = iz_row_i64(row, 9);
    iz_row_str(row, 10, m->outcome, sizeof m->outcome);
    iz_row_str(row, 11, m->detail, sizeof m->detail);
    iz_row_str(row, 12, m->reply, sizeof m->reply);
}

static const iz_sq_row_t inbound_row = IZ_SQ_ROW(iz_inbound_t, inbound_read);

static int sq_inbound_get(iz_store_t *st, const char *gateway, const char *msg_id,
                          iz_inbound_t *out)
{
    return iz__sq_get(sq(st),
                      "SELECT " INBOUND_COLS " FROM sms_inbound WHERE gateway = ?1 AND msg_id = ?2",
                      IZ_SQ_ARGS(IZ_SQ_TEXT(gateway), IZ_SQ_TEXT(msg_id)), &inbound_row, out);
}

static int sq_inbound_of_brand(iz_store_t *st, int64_t brand_id, size_t limit, iz_inbound_t **list,
                               size_t *n)
{
    /* sms_inbound_brand (brand_id, id) answers it without a scan */
    return iz__sq_list(sq(st),
                       "SELECT " INBOUND_COLS " FROM sms_inbound WHERE brand_id = ?1"
                       " ORDER BY id DESC LIMIT ?2",
                       IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_I64((int64_t)limit)), &inbound_row,
                       list, n);
}

static int sq_inbound_add(iz_store_t *st, iz_inbound_t *in)
{
    if (iz__sq_fits(in->gateway, sizeof in->gateway) || iz__sq_fits(in->msg_id, sizeof in->msg_id) ||
        iz__sq_fits(in->sender, sizeof in->sender) ||
        iz__sq_fits(in->receiver, sizeof in->receiver) || iz__sq_fits(in->smsc, sizeof in->smsc) ||
        iz__sq_fits(in->text, sizeof in->text) || iz__sq_fits(in->outcome, sizeof in->outcome) ||
        iz__sq_fits(in->detail, sizeof in->detail) || iz__sq_fits(in->reply, sizeof in->reply))
        return IZ_ETOOBIG;
    in->created_ms = now_ms();
    return iz__sq_write(sq(st),
                        "INSERT INTO sms_inbound(gateway, msg_id, sender, receiver, smsc, text,"
                        " received_ms, created_ms, brand_id, outcome, detail, reply)"
                        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                        IZ_SQ_ARGS(IZ_SQ_TEXT(in->gateway), IZ_SQ_TEXT(in->msg_id),
                                   IZ_SQ_TEXT(in->sender), IZ_SQ_TEXT(in->receiver),
                                   IZ_SQ_OPT(in->smsc), IZ_SQ_TEXT(in->text),
                                   IZ_SQ_I64(in->received_ms), IZ_SQ_I64(in->created_ms),
                                   IZ_SQ_OPT_I64(in->brand_id), IZ_SQ_TEXT(in->outcome),
                                   IZ_SQ_OPT(in->detail), IZ_SQ_TEXT(in->reply)),
                        &in->id);
}

static int sq_brand_add(iz_store_t *st, iz_brand_t *b)
{
    int rc = brand_check(b);
    if (rc != 0) return rc;
    iz_sq_t *s = sq(st);
    int64_t created = b->created_at ? b->created_at : now_s();
    const char *conflict = NULL;
    iz_brand_sms_t sms = {.nkeywords = b->keyword[0] ? 1 : 0};
    iz_strlcpy(sms.keywords[0], b->keyword, sizeof sms.keywords[0]);
    rc = iz__sq_begin(s);
    if (rc == 0) rc = number_free(s, b, &conflict);
    if (rc == 0)
        rc = iz__sq_write(s,
                          "INSERT INTO brands(account_id, code, name, keyword, short_number,"
                          " subscriber_number, slug, created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                          IZ_SQ_ARGS(IZ_SQ_I64(b->account_id), IZ_SQ_I64(b->code),
                                     IZ_SQ_TEXT(b->name), IZ_SQ_TEXT(b->keyword),
                                     IZ_SQ_TEXT(b->short_number), IZ_SQ_TEXT(b->subscriber_number),
                                     IZ_SQ_OPT(b->slug), IZ_SQ_I64(created)),
                          &b->id);
    if (rc == 0) rc = keywords_write(s, b->id, b->short_number, &sms, &conflict);
    rc = iz__sq_end(s, rc);
    if (rc == 0) b->created_at = created;
    return rc;
}

static int sq_brand_get(iz_store_t *st, int64_t account_id, int64_t code, iz_brand_t *out)
{
    return iz__sq_get(sq(st), "SELECT " BRAND_COLS " FROM brands WHERE account_id = ? AND code = ?",
                      IZ_SQ_ARGS(IZ_SQ_I64(account_id), IZ_SQ_I64(code)), &brand_row, out);
}

#define IZ_KEY_PREFIX_MAX 32

static int sq_key_add(iz_store_t *st, int64_t account_id, const char *hash_hex, const char *prefix)
{
    if (!iz__sq_is_hex64(hash_hex)) return IZ_EINVAL;
    if (strnlen(prefix, IZ_KEY_PREFIX_MAX + 1) > IZ_KEY_PREFIX_MAX) return IZ_ETOOBIG;
    return iz__sq_write(sq(st),
                        "INSERT INTO api_keys(account_id, hash, prefix, created_at)"
                        " VALUES(?, ?, ?, ?)",
                        IZ_SQ_ARGS(IZ_SQ_I64(account_id), IZ_SQ_TEXT(hash_hex), IZ_SQ_TEXT(prefix),
                                   IZ_SQ_I64(now_s())),
                        NULL);
}

static int sq_key_lookup(iz_store_t *st, const char *hash_hex, int64_t *account_id)
{
    if (!iz__sq_is_hex64(hash_hex)) return IZ_EINVAL;
    return iz__sq_get(sq(st),
                      "SELECT account_id FROM api_keys WHERE hash = ? AND revoked_at IS NULL",
                      IZ_SQ_ARGS(IZ_SQ_TEXT(hash_hex)), &iz__sq_i64_row, account_id);
}

static int sq_key_revoke(iz_store_t *st, int64_t account_id, const char *hash_hex)
{
    if (!iz__sq_is_hex64(hash_hex)) return IZ_EINVAL;
    return iz__sq_update(
        sq(st),
        "UPDATE api_keys SET revoked_at = ? WHERE account_id = ? AND hash = ?"
        " AND revoked_at IS NULL",
        IZ_SQ_ARGS(IZ_SQ_I64(now_s()), IZ_SQ_I64(account_id), IZ_SQ_TEXT(hash_hex)));
}

static void key_info_read(const iz_row_t *row, void *out)
{
    iz_key_info_t *k = out;
    k->id = iz_row_i64(row, 0);
    iz_row_str(row, 1, k->prefix, sizeof k->prefix);
    k->created_at = iz_row_i64(row, 2);
    k->revoked_at = iz_row_i64(row, 3);
}

static int sq_keys_list(iz_store_t *st, int64_t account_id, iz_key_info_t **list, size_t *n)
{
    static const iz_sq_row_t row = IZ_SQ_ROW(iz_key_info_t, key_info_read);
    return iz__sq_list(sq(st),
                       "SELECT id, prefix, created_at, revoked_at FROM api_keys"
                       " WHERE account_id = ? ORDER BY id DESC",
                       IZ_SQ_ARGS(IZ_SQ_I64(account_id)), &row, list, n);
}

static int sq_key_revoke_id(iz_store_t *st, int64_t account_id, int64_t key_id)
{
    return iz__sq_update(sq(st),
                         "UPDATE api_keys SET revoked_at = ? WHERE account_id = ? AND id = ?"
                         " AND revoked_at IS NULL",
                         IZ_SQ_ARGS(IZ_SQ_I64(now_s()), IZ_SQ_I64(account_id), IZ_SQ_I64(key_id)));
}

static int sq_brands_of(iz_store_t *st, int64_t account_id, iz_brand_t **list, size_t *n)
{
    return iz__sq_list(sq(st),
                       "SELECT " BRAND_COLS " FROM brands WHERE account_id = ? ORDER BY code",
                       IZ_SQ_ARGS(IZ_SQ_I64(account_id)), &brand_row, list, n);
}

/* ---- panel users, sessions, failed logins --------------------------------------- */

#define USER_COLS "id, account_id, email, pwhash, must_change, created_at, last_login"

static void user_read(const iz_row_t *row, void *out)
{
    iz_user_t *u = out;
    u->id = iz_row_i64(row, 0);
    u->account_id = iz_row_i64(row, 1);
    iz_row_str(row, 2, u->email, sizeof u->email);
    iz_row_str(row, 3, u->pwhash, sizeof u->pwhash);
    u->must_change = iz_row_i64(row, 4) != 0;
    u->created_at = iz_row_i64(row, 5);
    u->last_login = iz_row_i64(row, 6);
}

static const iz_sq_row_t user_row = IZ_SQ_ROW(iz_user_t, user_read);

/* argon2id's string as libsodium writes it; anything else is no hash. */
static bool is_pwhash(const char *h)
{
    return strncmp(h, "$argon2id$", 10) == 0;
}

static int sq_user_add(iz_store_t *st, iz_user_t *u)
{
    if (iz__sq_fits(u->email, sizeof u->email) || iz__sq_fits(u->pwhash, sizeof u->pwhash))
        return IZ_ETOOBIG;
    if (!u->email[0] || !is_pwhash(u->pwhash)) return IZ_EINVAL;
    if (!u->created_at) u->created_at = now_s();
    return iz__sq_write(sq(st),
                        "INSERT INTO panel_users(account_id, email, pwhash, must_change,"
                        " created_at) VALUES(?, ?, ?, ?, ?)",
                        IZ_SQ_ARGS(IZ_SQ_I64(u->account_id), IZ_SQ_TEXT(u->email),
                                   IZ_SQ_TEXT(u->pwhash), IZ_SQ_I64(u->must_change),
                                   IZ_SQ_I64(u->created_at)),
                        &u->id);
}

static int sq_user_by_email(iz_store_t *st, const char *email, iz_user_t *out)
{
    return iz__sq_get(sq(st), "SELECT " USER_COLS " FROM panel_users WHERE email = ?",
                      IZ_SQ_ARGS(IZ_SQ_TEXT(email)), &user_row, out);
}

static int sq_user_get(iz_store_t *st, int64_t id, iz_user_t *out)
{
    return iz__sq_get(sq(st), "SELECT " USER_COLS " FROM panel_users WHERE id = ?",
                      IZ_SQ_ARGS(IZ_SQ_I64(id)), &user_row, out);
}

static int sq_users_of(iz_store_t *st, int64_t account_id, iz_user_t **list, size_t *n)
{
    return iz__sq_list(sq(st),
                       "SELECT " USER_COLS " FROM panel_users WHERE account_id = ? ORDER BY email",
                       IZ_SQ_ARGS(IZ_SQ_I64(account_id)), &user_row, list, n);
}

static int sq_user_delete(iz_store_t *st, int64_t account_id, int64_t user_id)
{
    iz_sq_t *s = sq(st);
    int rc = iz__sq_begin(s);
    if (rc == 0)
        rc = iz__sq_find(s,
                         "SELECT 1 FROM panel_users WHERE id = ?1 AND (?2 = 0 OR account_id = ?2)",
                         IZ_SQ_ARGS(IZ_SQ_I64(user_id), IZ_SQ_I64(account_id)), NULL, NULL) == 1
                 ? 0
                 : IZ_ENOTFOUND;
    if (rc == 0)
        rc = iz__sq_run(s, "DELETE FROM panel_sessions WHERE user_id = ?",
                        IZ_SQ_ARGS(IZ_SQ_I64(user_id)));
    if (rc == 0)
        rc = iz__sq_update(s, "DELETE FROM panel_users WHERE id = ?",
                           IZ_SQ_ARGS(IZ_SQ_I64(user_id)));
    return iz__sq_end(s, rc);
}

static int sq_user_password_set(iz_store_t *st, int64_t user_id, const char *pwhash,
                                bool must_change, const char *keep_hash)
{
    if (strnlen(pwhash, IZ_PWHASH_MAX) >= IZ_PWHASH_MAX) return IZ_ETOOBIG;
    if (!is_pwhash(pwhash)) return IZ_EINVAL;
    iz_sq_t *s = sq(st);
    int rc = iz__sq_begin(s);
    if (rc == 0)
        rc = iz__sq_update(
            s, "UPDATE panel_users SET pwhash = ?, must_change = ? WHERE id = ?",
            IZ_SQ_ARGS(IZ_SQ_TEXT(pwhash), IZ_SQ_I64(must_change), IZ_SQ_I64(user_id)));
    if (rc == 0)
        rc = iz__sq_run(
            s, "DELETE FROM panel_sessions WHERE user_id = ?1 AND hash IS DISTINCT FROM ?2",
            IZ_SQ_ARGS(IZ_SQ_I64(user_id), IZ_SQ_TEXT(keep_hash)));
    return iz__sq_end(s, rc);
}

static int sq_session_add(iz_store_t *st, const char *hash_hex, int64_t user_id, int64_t now)
{
    if (!iz__sq_is_hex64(hash_hex)) return IZ_EINVAL;
    iz_sq_t *s = sq(st);
    int rc = iz__sq_begin(s);
    if (rc == 0)
        rc = iz__sq_update(s, "UPDATE panel_users SET last_login = ? WHERE id = ?",
                           IZ_SQ_ARGS(IZ_SQ_I64(now), IZ_SQ_I64(user_id)));
    if (rc == 0)
        rc = iz__sq_write(s,
                          "INSERT INTO panel_sessions(hash, user_id, created_at, last_seen)"
                          " VALUES(?1, ?2, ?3, ?3)",
                          IZ_SQ_ARGS(IZ_SQ_TEXT(hash_hex), IZ_SQ_I64(user_id), IZ_SQ_I64(now)),
                          NULL);
    if (rc == 0)
        rc = iz__sq_run(s,
                        "DELETE FROM panel_login_failures WHERE email ="
                        " (SELECT lower(email) FROM panel_users WHERE id = ?)",
                        IZ_SQ_ARGS(IZ_SQ_I64(user_id)));
    return iz__sq_end(s, rc);
}

static void session_read(const iz_row_t *row, void *out)
{
    iz_session_t *x = out;
    iz_row_str(row, 0, x->hash, sizeof x->hash);
    x->user_id = iz_row_i64(row, 1);
    x->created_at = iz_row_i64(row, 2);
    x->last_seen = iz_row_i64(row, 3);
}

static int sq_session_get(iz_store_t *st, const char *hash_hex, iz_session_t *out)
{
    static const iz_sq_row_t row = IZ_SQ_ROW(iz_session_t, session_read);
    if (!iz__sq_is_hex64(hash_hex)) return IZ_ENOTFOUND;
    return iz__sq_get(sq(st),
                      "SELECT hash, user_id, created_at, last_seen FROM panel_sessions"
                      " WHERE hash = ?",
                      IZ_SQ_ARGS(IZ_SQ_TEXT(hash_hex)), &row, out);
}

static int sq_session_touch(iz_store_t *st, const char *hash_hex, int64_t now)
{
    return iz__sq_update(sq(st), "UPDATE panel_sessions SET last_seen = ? WHERE hash = ?",
                         IZ_SQ_ARGS(IZ_SQ_I64(now), IZ_SQ_TEXT(hash_hex)));
}

static int sq_session_delete(iz_store_t *st, const char *hash_hex)
{
    return iz__sq_run(sq(st), "DELETE FROM panel_sessions WHERE hash = ?",
                      IZ_SQ_ARGS(IZ_SQ_TEXT(hash_hex)));
}

static int sq_sessions_expire(iz_store_t *st, int64_t idle_before, int64_t abs_before, int64_t *n)
{
    iz_sq_t *s = sq(st);
    int64_t k = 0;
    int rc = iz__sq_changes(s, "DELETE FROM panel_sessions WHERE last_seen < ? OR created_at < ?",
                            IZ_SQ_ARGS(IZ_SQ_I64(idle_before), IZ_SQ_I64(abs_before)), &k);
    if (n) *n = k;
    return rc;
}

static int sq_login_fail_add(iz_store_t *st, const char *email, int64_t now)
{
    iz_sq_t *s = sq(st);
    int rc = iz__sq_begin(s);
    if (rc == 0)
        rc = iz__sq_run(s, "DELETE FROM panel_login_failures WHERE at < ?",
                        IZ_SQ_ARGS(IZ_SQ_I64(now - 86400)));
    if (rc == 0)
        rc = iz__sq_write(s, "INSERT INTO panel_login_failures(email, at) VALUES(lower(?), ?)",
                          IZ_SQ_ARGS(IZ_SQ_TEXT(email), IZ_SQ_I64(now)), NULL);
    return iz__sq_end(s, rc);
}

typedef struct fails_ctx {
    int64_t *times;
    size_t max, n;
} fails_ctx_t;

static int fail_each(void *vctx, const iz_row_t *row)
{
    fails_ctx_t *c = vctx;
    if (c->n < c->max) c->times[c->n++] = iz_row_i64(row, 0);
    return 0;
}

static int sq_login_fails(iz_store_t *st, const char *email, int64_t *times, size_t max, size_t *n)
{
    fails_ctx_t c = {.times = times, .max = max};
    int rc = iz__sq_each(sq(st),
                         "SELECT at FROM panel_login_failures WHERE email = lower(?1)"
                         " ORDER BY at DESC LIMIT ?2",
                         IZ_SQ_ARGS(IZ_SQ_TEXT(email), IZ_SQ_I64((int64_t)max)), fail_each, &c);
    *n = c.n;
    return rc;
}

/* ---- consents ----------------------------------------------------------- */

/* Check a change before it is written: every string fits its buffer (so
 * nothing is truncated on the way in) and every enum has a spelling. */
static int change_check(const iz_change_t *c, iz_sq_names_t *nm)
{
    if (iz__sq_fits(c->iys_txid, sizeof c->iys_txid) ||
        iz__sq_fits(c->iys_error, sizeof c->iys_error) ||
        iz__sq_fits(c->warning, sizeof c->warning) || iz__sq_fits(c->evidence, sizeof c->evidence))
        return IZ_ETOOBIG;
    if (c->retail.n > IZ_RETAIL_ACCESS_MAX) return IZ_ETOOBIG;
    int rc =
        iz__sq_names(c->recipient, c->rtype, c->type, c->status, c->source, c->consent_date, nm);
    if (rc != 0) return rc;
    if ((c->origin != IZ_ORIGIN_NONE && !iz_origin_name(c->origin)) ||
        (c->iys_state != IZ_IYS_NONE && !iz_iys_state_name(c->iys_state)) || c->creation_ms < 0)
        return IZ_EINVAL;
    return 0;
}

/* Read a CHG_COLS row. Unknown spellings (a row written by hand) read as
 * the enum's NONE. */
static void change_read(const iz_row_t *row, void *out)
{
    iz_change_t *c = out;
    const char *t;
    c->id = iz_row_i64(row, 0);
    c->brand_id = iz_row_i64(row, 1);
    iz__sq_col_consent(row, 2, c->recipient, &c->rtype, &c->type, &c->status, &c->source,
                       &c->consent_date);
    c->creation_ms = iz_row_i64(row, 8);
    if ((t = iz_row_text(row, 9))) (void)iz_origin_parse(t, &c->origin);
    if ((t = iz_row_text(row, 10))) (void)iz_iys_state_parse(t, &c->iys_state);
    iz_row_str(row, 11, c->iys_txid, sizeof c->iys_txid);
    iz_row_str(row, 12, c->iys_error, sizeof c->iys_error);
    iz_row_str(row, 13, c->warning, sizeof c->warning);
    iz_row_str(row, 14, c->evidence, sizeof c->evidence);
    int64_t code = iz_row_i64(row, 15);
    c->retail.code = code > 0 && code <= IZ_RETAIL_CODE_MAX ? (uint32_t)code : 0;
    c->retail.n = 0;
    if ((t = iz_row_text(row, 16)))
        (void)iz_retail_list_parse(t, strlen(t), &c->retail, NULL); /* a bad one reads short */
}

static const iz_sq_row_t change_row = IZ_SQ_ROW(iz_change_t, change_read);

/* ---- log segments (segment.h) ---------------------------------------------- */

/* The segment last read, kept across the lookups of one call. */
typedef struct seg_buf {
    iz_seg_t seg;
    uint8_t *data;
    size_t cap;
    bool ok; /* seg holds a segment */
    int rc;  /* a segment that did not decode: IZ_EIO */
} seg_buf_t;

#define SEG_COLS "first_id, count, brand_id, creation_ms, origin, job_id, iys_state, data"

static int seg_row(void *ctx, const iz_row_t *row)
{
    seg_buf_t *b = ctx;
    iz_seg_meta_t m = {.first_id = iz_row_i64(row, 0),
                       .count = iz_row_i64(row, 1),
                       .brand_id = iz_row_i64(row, 2),
                       .creation_ms = iz_row_i64(row, 3)};
    const char *t;
    if ((t = iz_row_text(row, 4))) (void)iz_origin_parse(t, &m.origin);
    iz_row_str(row, 5, m.job_id, sizeof m.job_id);
    if ((t = iz_row_text(row, 6))) (void)iz_iys_state_parse(t, &m.iys_state);
    const void *blob = iz_row_blob(row, 7);
    size_t len = iz_row_bytes(row, 7);
    if (len > b->cap) {
        b->cap = len;
        b->data = iz_xrealloc(b->data, len);
    }
    if (len) memcpy(b->data, blob, len);
    b->rc = iz_seg_open(&b->seg, &m, b->data, len);
    b->ok = b->rc == 0;
    if (!b->ok)
        iz_logf(IZ_LOG_ERROR, "store", "a log segment does not decode", "first_id=%lld",
                (long long)m.first_id);
    return 1;
}

static void seg_buf_free(seg_buf_t *b)
{
    free(b->data);
}

/* Find the segment holding log id into b (kept when it already does):
 * 1 and the entry's index in *i, 0 when no segment holds it, or the
 * store's failure (IZ_EIO for a segment that does not decode). */
static int seg_at(iz_sq_t *s, int64_t id, seg_buf_t *b, size_t *i)
{
    if (!(b->ok && id >= b->seg.m.first_id && id < b->seg.m.first_id + b->seg.m.count)) {
        b->ok = false;
        b->rc = 0;
        int rc = iz__sq_each(s,
                             "SELECT " SEG_COLS " FROM log_segments WHERE first_id <= ?1"
                             " ORDER BY first_id DESC LIMIT 1",
                             IZ_SQ_ARGS(IZ_SQ_I64(id)), seg_row, b);
        if (rc < 0) return rc;
        if (b->rc != 0) return b->rc;
        if (!b->ok || id >= b->seg.m.first_id + b->seg.m.count) return 0;
    }
    *i = (size_t)(id - b->seg.m.first_id);
    return 1;
}

static void result_read(const iz_row_t *row, void *out)
{
    iz_change_t *c = out;
    const char *t;
    if ((t = iz_row_text(row, 0))) (void)iz_iys_state_parse(t, &c->iys_state);
    iz_row_str(row, 1, c->iys_txid, sizeof c->iys_txid);
    iz_row_str(row, 2, c->iys_error, sizeof c->iys_error);
}

/* A segment entry as a change: its fields and İYS's answer, if any. */
static int seg_change(iz_sq_t *s, const seg_buf_t *b, size_t i, iz_change_t *out)
{
    static const iz_sq_row_t result_row = {.size = 0, .read = result_read};
    iz_seg_entry(&b->seg, i, out);
    /* The row type's size 0 keeps read_row from zeroing *out. */
    int rc = iz__sq_find(s,
                         "SELECT iys_state, iys_txid, iys_error FROM segment_results"
                         " WHERE log_id = ?1",
                         IZ_SQ_ARGS(IZ_SQ_I64(out->id)), &result_row, out);
    return rc < 0 ? rc : 0;
}

/* The change with log id id, from the log or a segment; IZ_ENOTFOUND when
 * neither has it. */
static int change_at(iz_sq_t *s, int64_t id, seg_buf_t *b, iz_change_t *out)
{
    int rc = iz__sq_find(s, "SELECT " CHG_COLS " FROM consent_log l WHERE l.id = ?1",
                         IZ_SQ_ARGS(IZ_SQ_I64(id)), &change_row, out);
    if (rc != 0) return rc < 0 ? rc : 0;
    size_t i;
    rc = seg_at(s, id, b, &i);
    if (rc <= 0) return rc < 0 ? rc : IZ_ENOTFOUND;
    return seg_change(s, b, i, out);
}

/* The key's segment entry (its first change, when a load brought it):
 * 1 with it in *out, 0 when the key has none. */
static int key_seg_change(iz_sq_t *s, int64_t brand_id, const char *recipient, const char *rt,
                          const char *ty, seg_buf_t *b, iz_change_t *out)
{
    int64_t seg_id = 0;
    int rc = iz__sq_find(s,
                         "SELECT seg_id FROM consent_state WHERE " KEY_WHERE
                         " AND seg_id IS NOT NULL",
                         IZ_SQ_ARGS(KEY_ARGS(brand_id, recipient, rt, ty)), &iz__sq_i64_row,
                         &seg_id);
    if (rc <= 0) return rc;
    size_t i;
    if ((rc = seg_at(s, seg_id, b, &i)) <= 0) return rc < 0 ? rc : IZ_EIO;
    if ((rc = seg_change(s, b, i, out)) != 0) return rc;
    return 1;
}

/* Look for an identical change (same status, source, consent_date and
 * retailer fields) in the key's history: 1 and the stored change in *old
 * when found, 0 when not. A change İYS reports (origin IYS) matches
 * whatever the retailer fields: İYS's pulls and pushes never carry them,
 * so izin's own change coming back must still be recognized. */
static int find_repeat(iz_sq_t *s, const iz_change_t *c, const iz_sq_names_t *nm, iz_change_t *old)
{
    char list[IZ_RETAIL_LIST_TEXT];
    iz_retail_list_format(&c->retail, list);
    bool any_retail = c->origin == IZ_ORIGIN_IYS;
    int rc =
        iz__sq_find(s,
                    "SELECT " CHG_COLS " FROM consent_log l WHERE " KEY_WHERE
                    " AND status = ?5 AND source IS NOT DISTINCT FROM ?6"
                    " AND consent_date IS NOT DISTINCT FROM ?7 AND (?10 = 1 OR"
                    " (retailer_code IS NOT DISTINCT FROM ?8"
                    " AND retailer_access IS NOT DISTINCT FROM ?9))"
                    " ORDER BY id DESC LIMIT 1",
                    IZ_SQ_ARGS(KEY_ARGS(c->brand_id, c->recipient, nm->rtype, nm->type),
                               IZ_SQ_STATE_ARGS(nm, c->consent_date), IZ_SQ_OPT_I64(c->retail.code),
                               IZ_SQ_OPT(list), IZ_SQ_I64(any_retail)),
                    &change_row, old);
    if (rc != 0) return rc;
    /* The key's first change may be a segment's entry. */
    seg_buf_t b = {0};
    rc = key_seg_change(s, c->brand_id, c->recipient, nm->rtype, nm->type, &b, old);
    seg_buf_free(&b);
    if (rc != 1) return rc;
    return old->status == c->status && old->source == c->source &&
           old->consent_date == c->consent_date &&
           (any_retail || iz_retail_equal(&old->retail, &c->retail));
}

/* The key's current record; cur->exists false when it has none. */
static int read_current(iz_sq_t *s, const iz_change_t *c, const iz_sq_names_t *nm,
                        iz_current_t *cur)
{
    memset(cur, 0, sizeof *cur);
    int rc =
        iz__sq_find(s, "SELECT status, source, consent_date FROM consent_state WHERE " KEY_WHERE,
                    IZ_SQ_ARGS(KEY_ARGS(c->brand_id, c->recipient, nm->rtype, nm->type)),
                    &iz__sq_current_row, cur);
    return rc < 0 ? rc : 0;
}

/* Insert the log row (the one chain writer of sqlite_util.c gives it its
 * hash over the fields store.h names), move the key's state to it and queue
 * it for İYS when pending; all inside the caller's transaction. */
static int write_change(iz_sq_t *s, const iz_change_t *c, const iz_sq_names_t *nm,
                        int64_t creation_ms, int64_t *id_out)
{
    const char *origin = iz_origin_name(c->origin);
    int64_t id = 0;
    char list[IZ_RETAIL_LIST_TEXT], rhash[IZ_RETAIL_HASH_TEXT];
    iz_retail_list_format(&c->retail, list);
    iz_retail_hash_text(&c->retail, rhash);
    /* The retailer fields are one hashed field more, only for a change
     * that has them: the chain's rows without them hash as before. */
    const iz_sq_arg_t *hashed =
        iz_retail_any(&c->retail)
            ? IZ_SQ_ARGS(IZ_SQ_I64(c->brand_id), IZ_SQ_TEXT(c->recipient), IZ_SQ_TEXT(nm->rtype),
                         IZ_SQ_TEXT(nm->type), IZ_SQ_STATE_ARGS(nm, c->consent_date),
                         IZ_SQ_I64(creation_ms), IZ_SQ_OPT(origin), IZ_SQ_OPT(c->evidence),
                         IZ_SQ_TEXT(rhash))
            : IZ_SQ_ARGS(IZ_SQ_I64(c->brand_id), IZ_SQ_TEXT(c->recipient), IZ_SQ_TEXT(nm->rtype),
                         IZ_SQ_TEXT(nm->type), IZ_SQ_STATE_ARGS(nm, c->consent_date),
                         IZ_SQ_I64(creation_ms), IZ_SQ_OPT(origin), IZ_SQ_OPT(c->evidence));
    int rc = iz__sq_chain_append(
        s,
        "INSERT INTO consent_log(brand_id, recipient, rtype, type, status, source,"
        " consent_date, creation_ms, origin, iys_state, iys_txid, iys_error,"
        " warning, evidence, retailer_code, retailer_access, prev_hash, hash)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, '')",
        IZ_SQ_ARGS(KEY_ARGS(c->brand_id, c->recipient, nm->rtype, nm->type),
                   IZ_SQ_STATE_ARGS(nm, c->consent_date), IZ_SQ_I64(creation_ms), IZ_SQ_OPT(origin),
                   IZ_SQ_OPT(iz_iys_state_name(c->iys_state)), IZ_SQ_OPT(c->iys_txid),
                   IZ_SQ_OPT(c->iys_error), IZ_SQ_OPT(c->warning), IZ_SQ_OPT(c->evidence),
                   IZ_SQ_OPT_I64(c->retail.code), IZ_SQ_OPT(list)),
        hashed, &id);
    if (rc == 0)
        rc = iz__sq_run(s,
                        "INSERT INTO consent_state(brand_id, recipient, rtype, type, log_id,"
                        " status, source, consent_date) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                        " ON CONFLICT(brand_id, recipient, rtype, type) DO UPDATE SET"
                        " log_id = excluded.log_id, status = excluded.status,"
                        " source = excluded.source, consent_date = excluded.consent_date",
                        IZ_SQ_ARGS(KEY_ARGS(c->brand_id, c->recipient, nm->rtype, nm->type),
                                   IZ_SQ_I64(id), IZ_SQ_STATE_ARGS(nm, c->consent_date)));
    bool pending = c->iys_state == IZ_IYS_PENDING;
    if (rc == 0 && pending)
        rc = iz__sq_run(s,
                        "INSERT INTO outbox(log_id, created_ms, state, bulk, account_id, brand_id)"
                        " VALUES(?1, ?2, 'PENDING', ?3,"
                        " (SELECT account_id FROM brands WHERE id = ?4), ?4)",
                        IZ_SQ_ARGS(IZ_SQ_I64(id), IZ_SQ_I64(creation_ms),
                                   IZ_SQ_I64(c->origin == IZ_ORIGIN_BULK),
                                   IZ_SQ_I64(c->brand_id)));
    if (rc == 0 && pending && c->status == IZ_RET && c->ret_deadline > 0)
        rc = iz__sq_run(s, "INSERT INTO ret_deadlines(log_id, deadline) VALUES(?, ?)",
                        IZ_SQ_ARGS(IZ_SQ_I64(id), IZ_SQ_I64(c->ret_deadline)));
    if (rc == 0) *id_out = id;
    return rc;
}

static int same_key(const iz_change_t *a, const iz_change_t *b)
{
    return a->brand_id == b->brand_id && a->rtype == b->rtype && a->type == b->type &&
           strcmp(a->recipient, b->recipient) == 0;
}

/* ---- the plans' usage counter -------------------------------------------- */

/* Add n new records to the usage of brand_id's account. */
static int usage_add(iz_sq_t *s, int64_t brand_id, int64_t n)
{
    if (n == 0) return 0;
    return iz__sq_run(s,
                      "INSERT INTO account_usage(account_id, records)"
                      " SELECT account_id, ?2 FROM brands WHERE id = ?1"
                      " ON CONFLICT(account_id) DO UPDATE SET"
                      " records = account_usage.records + excluded.records",
                      IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_I64(n)));
}

/* The records of brand_id's account now (inside the transaction). */
static int usage_of_brand(iz_sq_t *s, int64_t brand_id, int64_t *out)
{
    *out = 0;
    int rc = iz__sq_find(s,
                         "SELECT records FROM account_usage"
                         " WHERE account_id = (SELECT account_id FROM brands WHERE id = ?1)",
                         IZ_SQ_ARGS(IZ_SQ_I64(brand_id)), &iz__sq_i64_row, out);
    return rc < 0 ? rc : 0;
}

static int sq_account_usage(iz_store_t *st, int64_t account_id, int64_t *records)
{
    *records = 0;
    int rc = iz__sq_find(sq(st), "SELECT records FROM account_usage WHERE account_id = ?1",
                         IZ_SQ_ARGS(IZ_SQ_I64(account_id)), &iz__sq_i64_row, records);
    return rc < 0 ? rc : 0;
}

static int sq_account_plan_set(iz_store_t *st, int64_t account_id, const char *plan)
{
    return iz__sq_update(sq(st), "UPDATE accounts SET plan = ?2 WHERE id = ?1",
                         IZ_SQ_ARGS(IZ_SQ_I64(account_id), IZ_SQ_TEXT(plan)));
}

/* Count a new state row in the dashboard's figures (stat_state). */
static int stat_new(iz_sq_t *s, const iz_change_t *c, const iz_sq_names_t *nm)
{
    return iz__sq_run(s,
                      "INSERT INTO stat_state VALUES(?1, ?2, ?3, ?4, ?5, 1)"
                      " ON CONFLICT(brand_id, type, rtype, status, source)"
                      " DO UPDATE SET n = stat_state.n + 1",
                      IZ_SQ_ARGS(IZ_SQ_I64(c->brand_id), IZ_SQ_TEXT(nm->type),
                                 IZ_SQ_TEXT(nm->rtype), IZ_SQ_TEXT(nm->status),
                                 IZ_SQ_TEXT(nm->source ? nm->source : "")));
}

/* One change inside the batch's transaction, under a savepoint so that a
 * refused or failed change leaves the others' writes in place. */
static int apply_one(iz_sq_t *s, iz_store_apply_t *it)
{
    iz_change_t *chg = it->chg;
    iz_sq_names_t nm;
    iz_change_t old, key;
    iz_current_t cur;
    int64_t id = 0;
    int rc = change_check(chg, &nm), rrc;
    if (rc != 0) return rc;
    if ((rc = iz__sq_savepoint(s)) != 0) return rc;
    rc = find_repeat(s, chg, &nm, &old);
    if (rc == 1) {
        *chg = old;
        rc = IZ_REPEAT;
        goto out;
    }
    if (rc != 0 || (rc = read_current(s, chg, &nm, &cur)) != 0) goto out;
    if (it->rule) {
        memcpy(&key, chg, sizeof key);
        if ((rc = it->rule(it->ctx, &cur, chg)) != 0) goto out;
        if (!same_key(&key, chg)) {
            rc = IZ_EINVAL;
            goto out;
        }
        if ((rc = change_check(chg, &nm)) != 0) goto out;
    }
    if (!cur.exists && it->quota > 0 && chg->status == IZ_ONAY) {
        /* A new record over the plan: judged in the transaction that would
         * write it, so concurrent writers cannot pass the limit together. */
        int64_t used = 0;
        if ((rc = usage_of_brand(s, chg->brand_id, &used)) != 0) goto out;
        if (used >= it->quota) {
            rc = IZ_EQUOTA;
            goto out;
        }
    }
    int64_t creation_ms = chg->creation_ms ? chg->creation_ms : now_ms();
    if ((rc = write_change(s, chg, &nm, creation_ms, &id)) != 0) goto out;
    if (!cur.exists &&
        ((rc = usage_add(s, chg->brand_id, 1)) != 0 || (rc = stat_new(s, chg, &nm)) != 0))
        goto out;
    chg->id = id;
    chg->creation_ms = creation_ms;
out:
    rrc = iz__sq_release(s, rc != 0 && rc != IZ_REPEAT);
    return rc != 0 ? rc : rrc;
}

/* ---- bulk loads (iz_store_consent_load_then) ---------------------------------- */

/* The hashes of the keys (brand, rtype, type, recipient) of a load's items
 * that took the ordinary path: a later item of such a key follows them
 * there, so one key's changes stay in order. A hash shared by two keys
 * only sends the second the ordinary way too. */
typedef struct keyset {
    uint64_t *h; /* 0: empty */
    size_t cap;  /* a power of two, over twice the items */
} keyset_t;

static uint64_t key_hash(const iz_change_t *c)
{
    uint64_t h = 1469598103934665603ULL;
    const unsigned char *p = (const unsigned char *)c->recipient;
    for (; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    h ^= (uint64_t)c->brand_id * 0x9E3779B97F4A7C15ULL;
    h = (h ^ (uint64_t)c->rtype) * 1099511628211ULL;
    h = (h ^ (uint64_t)c->type) * 1099511628211ULL;
    return h ? h : 1;
}

/* Look key up; with add, put it in. True when it was there. */
static bool keyset_has(keyset_t *k, const iz_change_t *c, bool add)
{
    uint64_t h = key_hash(c);
    size_t i = (size_t)h & (k->cap - 1);
    while (k->h[i] && k->h[i] != h)
        i = (i + 1) & (k->cap - 1);
    bool had = k->h[i] == h;
    if (add) k->h[i] = h;
    return had;
}

/* The segment a load is filling. */
/* A load's new state rows by kind, for the dashboard's stat_state (whose
 * insert trigger passes over the rows a load writes). */
#define STAT_KINDS 16
typedef struct stat_acc {
    size_t n;
    struct {
        iz_sq_names_t nm;
        int64_t count;
    } k[STAT_KINDS];
} stat_acc_t;

typedef struct seg_out {
    iz_seg_meta_t m;
    uint8_t *buf;
    size_t len;
    char prefix[IZ_SEG_PREFIX_MAX]; /* of the entries' evidence */
    size_t plen;
    stat_acc_t stat;
} seg_out_t;

static bool same_name(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Write the counted kinds into stat_state and start counting again. */
static int stat_flush(iz_sq_t *s, seg_out_t *o)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < o->stat.n; i++) {
        const iz_sq_names_t *nm = &o->stat.k[i].nm;
        rc = iz__sq_run(s,
                        "INSERT INTO stat_state VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
                        " ON CONFLICT(brand_id, type, rtype, status, source)"
                        " DO UPDATE SET n = stat_state.n + excluded.n",
                        IZ_SQ_ARGS(IZ_SQ_I64(o->m.brand_id), IZ_SQ_TEXT(nm->type),
                                   IZ_SQ_TEXT(nm->rtype), IZ_SQ_TEXT(nm->status),
                                   IZ_SQ_TEXT(nm->source ? nm->source : ""),
                                   IZ_SQ_I64(o->stat.k[i].count)));
    }
    o->stat.n = 0;
    return rc;
}

/* Count one new state row of the load (its names as written). */
static int stat_add(iz_sq_t *s, seg_out_t *o, const iz_sq_names_t *nm)
{
    stat_acc_t *a = &o->stat;
    for (size_t i = 0; i < a->n; i++)
        if (same_name(a->k[i].nm.status, nm->status) && same_name(a->k[i].nm.type, nm->type) &&
            same_name(a->k[i].nm.source, nm->source) && same_name(a->k[i].nm.rtype, nm->rtype)) {
            a->k[i].count++;
            return 0;
        }
    if (a->n == STAT_KINDS) {
        int rc = stat_flush(s, o);
        if (rc != 0) return rc;
    }
    a->k[a->n].nm = *nm;
    a->k[a->n++].count = 1;
    return 0;
}

/* Write the segment filled so far (if any) as the chain's next link. */
static int seg_flush(iz_sq_t *s, seg_out_t *o)
{
    if (o->m.count == 0) return 0;
    char prev[IZ_SHA256_HEX] = "", hash[IZ_SHA256_HEX];
    int rc = iz__sq_get_text(s, sq_def.chain_head_sql, NULL, prev, sizeof prev);
    if (rc != 0 && rc != IZ_ENOTFOUND) return rc;
    iz_seg_hash(prev, &o->m, o->buf, o->len, hash);
    rc = iz__sq_run(s,
                    "INSERT INTO log_segments(first_id, count, brand_id, creation_ms, origin,"
                    " job_id, iys_state, queued, data, prev_hash, hash)"
                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    IZ_SQ_ARGS(IZ_SQ_I64(o->m.first_id), IZ_SQ_I64(o->m.count),
                               IZ_SQ_I64(o->m.brand_id), IZ_SQ_I64(o->m.creation_ms),
                               IZ_SQ_TEXT(iz_origin_name(o->m.origin)), IZ_SQ_TEXT(o->m.job_id),
                               IZ_SQ_TEXT(iz_iys_state_name(o->m.iys_state)),
                               IZ_SQ_I64(o->m.iys_state == IZ_IYS_PENDING),
                               IZ_SQ_BLOB(o->buf, o->len), IZ_SQ_TEXT(prev), IZ_SQ_TEXT(hash)));
    iz__sq_log_appended(s);
    o->m.first_id += o->m.count;
    o->m.count = 0;
    o->len = 0;
    return rc;
}

/* The log's next id: after the last one AUTOINCREMENT handed out (or a
 * row holds) and the last segment's. */
static int next_log_id(iz_sq_t *s, int64_t *next)
{
    int64_t a = 0, b = 0, c = 0;
    int rc = iz__sq_find(s,
                         IZ_SQ_SQL(s, "SELECT seq FROM sqlite_sequence WHERE name = 'consent_log'",
                                   "SELECT CASE WHEN is_called THEN last_value ELSE 0 END"
                                   " FROM consent_log_id_seq"),
                         NULL, &iz__sq_i64_row, &a);
    if (rc >= 0)
        rc = iz__sq_find(s, "SELECT id FROM consent_log ORDER BY id DESC LIMIT 1", NULL,
                         &iz__sq_i64_row, &b);
    if (rc >= 0)
        rc = iz__sq_find(s,
                         "SELECT first_id + count - 1 FROM log_segments"
                         " ORDER BY first_id DESC LIMIT 1",
                         NULL, &iz__sq_i64_row, &c);
    if (rc < 0) return rc;
    int64_t m = a > b ? a : b;
    *next = (m > c ? m : c) + 1;
    return 0;
}

/* Move AUTOINCREMENT's counter past the segments' ids, so that the next log
 * row comes after them. */
static int seq_past(iz_sq_t *s, int64_t last)
{
    if (iz__sq_is_pg(s))
        return iz__sq_run(s,
                          "SELECT setval('consent_log_id_seq', ?1::int8) FROM consent_log_id_seq"
                          " WHERE NOT is_called OR last_value < ?1::int8",
                          IZ_SQ_ARGS(IZ_SQ_I64(last)));
    int rc = iz__sq_update(s,
                           "UPDATE sqlite_sequence SET seq = ?1 WHERE name = 'consent_log'"
                           " AND seq < ?1",
                           IZ_SQ_ARGS(IZ_SQ_I64(last)));
    if (rc != IZ_ENOTFOUND) return rc;
    int64_t have = 0;
    rc = iz__sq_find(s, "SELECT count(*) FROM sqlite_sequence WHERE name = 'consent_log'", NULL,
                     &iz__sq_i64_row, &have);
    if (rc < 0 || have > 0) return rc < 0 ? rc : 0;
    return iz__sq_run(s, "INSERT INTO sqlite_sequence(name, seq) VALUES('consent_log', ?1)",
                      IZ_SQ_ARGS(IZ_SQ_I64(last)));
}

/* One item of a load judged as a new key: 1 when it may go into a segment
 * (the rule passed as for a key without a record; chg's iys_state set),
 * 0 when it must take the ordinary path (with its fields as they came).
 * *deadline keeps the field to restore should its state row not go in. */
static int load_judge(iz_store_apply_t *it, int64_t line, const seg_out_t *o, int64_t *deadline)
{
    iz_change_t *chg = it->chg;
    if (chg->origin != IZ_ORIGIN_BULK || chg->brand_id != o->m.brand_id ||
        chg->iys_state != IZ_IYS_NONE || chg->creation_ms != 0 || chg->warning[0] ||
        !iz_seg_fits(chg, o->prefix, o->plen, line))
        return 0;
    /* The rule, as for a key without a record. */
    iz_current_t none = {0};
    iz_rtype_t rtype = chg->rtype;
    iz_type_t type = chg->type;
    *deadline = chg->ret_deadline;
    int r = it->rule ? it->rule(it->ctx, &none, chg) : 0;
    if (r != 0 || chg->rtype != rtype || chg->type != type || chg->warning[0] ||
        chg->ret_deadline != 0 ||
        (chg->iys_state != IZ_IYS_PENDING && chg->iys_state != IZ_IYS_LOCAL)) {
        chg->iys_state = IZ_IYS_NONE;
        chg->warning[0] = '\0';
        chg->ret_deadline = *deadline;
        return 0;
    }
    return 1;
}

/* New keys' state rows go in by groups: one statement for LOAD_GROUP rows
 * keeps SQLite's cursor on the b-tree's last page from row to row (a file's
 * rows come in long runs of new keys) and runs the statement's set-up once
 * for all of them. */
#define LOAD_GROUP 128
/* PostgreSQL's groups are larger, and any group of two rows or more goes by
 * one COPY: one exchange with the server for LOAD_GROUP_PG rows, where
 * 128-row INSERTs were eight. */
#define LOAD_GROUP_PG 1024
#define LOAD_GROUP_MAX LOAD_GROUP_PG
#define LOAD_AHEAD 8 /* items whose changes are fetched ahead */
#define STATE_ROW "(?,?,?,?,?,?,?,?,?)"
#define STATE_INSERT                                                                               \
    "INSERT INTO consent_state(brand_id, recipient, rtype, type, log_id, status, source,"         \
    " consent_date, seg_id) VALUES"

typedef struct load_row {
    iz_store_apply_t *it;
    int64_t line;
    int64_t deadline; /* the change's, to restore when it goes the ordinary way */
    iz_sq_names_t nm;
} load_row_t;

static char state_insert_one[] = STATE_INSERT STATE_ROW " ON CONFLICT DO NOTHING";
static char state_insert_group[sizeof STATE_INSERT + LOAD_GROUP * sizeof STATE_ROW +
                               sizeof " ON CONFLICT DO NOTHING"];
static pthread_once_t state_insert_once = PTHREAD_ONCE_INIT;

/* Write the group's statement text (once a process: its address names it
 * in the statement cache). */
static void state_insert_make(void)
{
    char *p = state_insert_group;
    p = stpcpy(p, STATE_INSERT);
    for (int i = 0; i < LOAD_GROUP; i++) {
        if (i) *p++ = ',';
        p = stpcpy(p, STATE_ROW);
    }
    stpcpy(p, " ON CONFLICT DO NOTHING");
}

/* state_insert through an argument list (PostgreSQL: the driver binds the
 * list; SQLite's path below binds each value itself, the load's hot path). */
static int state_insert_args(iz_sq_t *s, const char *sql, const load_row_t *rows, size_t n,
                             int64_t first, int *done)
{
    iz_sq_arg_t *a = iz_xmalloc((n * 9 + 1) * sizeof *a);
    for (size_t j = 0; j < n; j++) {
        const iz_change_t *chg = rows[j].it->chg;
        const iz_sq_names_t *nm = &rows[j].nm;
        iz_sq_arg_t *b = a + j * 9;
        b[0] = IZ_SQ_I64(chg->brand_id);
        b[1] = IZ_SQ_TEXT(chg->recipient);
        b[2] = IZ_SQ_TEXT(nm->rtype);
        b[3] = IZ_SQ_TEXT(nm->type);
        b[4] = IZ_SQ_I64(first + (int64_t)j);
        b[5] = IZ_SQ_TEXT(nm->status);
        b[6] = nm->source ? IZ_SQ_TEXT(nm->source) : IZ_SQ_NULL;
        b[7] = IZ_SQ_OPT_I64(chg->consent_date);
        b[8] = IZ_SQ_I64(first + (int64_t)j);
    }
    a[n * 9] = (iz_sq_arg_t){.kind = IZ_SQ_K_END};
    int64_t k = 0;
    int rc = iz__sq_changes(s, sql, a, &k);
    free(a);
    *done = (int)k;
    return rc;
}

/* Insert the state rows of rows[0..n) (n 1 or LOAD_GROUP) with the log ids
 * first, first + 1, ...: the number inserted in *done (a key that has a
 * record is left as it is), or the store's failure. */
static int state_insert(iz_sq_t *s, const load_row_t *rows, size_t n, int64_t first, int *done)
{
    const char *sql = n == 1 ? state_insert_one : state_insert_group;
    if (iz__sq_is_pg(s)) return state_insert_args(s, sql, rows, n, first, done);
    sqlite3_stmt *st = iz__sq_stmt(s, sql);
    if (!st) return IZ_EIO;
    for (size_t j = 0; j < n; j++) {
        const iz_change_t *chg = rows[j].it->chg;
        const iz_sq_names_t *nm = &rows[j].nm;
        int b = (int)j * 9;
        sqlite3_bind_int64(st, b + 1, chg->brand_id);
        sqlite3_bind_text(st, b + 2, chg->recipient, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, b + 3, nm->rtype, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, b + 4, nm->type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, b + 5, first + (int64_t)j);
        sqlite3_bind_text(st, b + 6, nm->status, -1, SQLITE_STATIC);
        if (nm->source)
            sqlite3_bind_text(st, b + 7, nm->source, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, b + 7);
        if (chg->consent_date)
            sqlite3_bind_int64(st, b + 8, chg->consent_date);
        else
            sqlite3_bind_null(st, b + 8);
        sqlite3_bind_int64(st, b + 9, first + (int64_t)j);
    }
    int step = sqlite3_step(st);
    int rc = step == SQLITE_DONE ? 0 : iz__sq_stmt_fail(s, step, sql);
    *done = rc == 0 ? sqlite3_changes(s->db) : 0;
    (void)sqlite3_reset(st);
    return rc;
}

/* Take back a group's state rows: the rows this group inserted (its log
 * ids) go, a key's older row stays. */
static int state_take_back(iz_sq_t *s, const load_row_t *rows, size_t n, int64_t first)
{
    int rc = 0;
    for (size_t j = 0; rc == 0 && j < n; j++) {
        const iz_change_t *chg = rows[j].it->chg;
        rc = iz__sq_run(s,
                        "DELETE FROM consent_state WHERE " KEY_WHERE " AND log_id = ?5",
                        IZ_SQ_ARGS(KEY_ARGS(chg->brand_id, chg->recipient, rows[j].nm.rtype,
                                            rows[j].nm.type),
                                   IZ_SQ_I64(first + (int64_t)j)));
    }
    return rc;
}

/* Put row r, whose state row is in with log id id, into the segment. */
static int seg_put(iz_sq_t *s, seg_out_t *o, const load_row_t *r)
{
    iz_change_t *chg = r->it->chg;
    if (o->m.count > 0 && chg->iys_state != o->m.iys_state) {
        int rc = seg_flush(s, o);
        if (rc != 0) return rc;
    }
    o->m.iys_state = chg->iys_state;
    chg->id = o->m.first_id + o->m.count;
    chg->creation_ms = o->m.creation_ms;
    o->len += iz_seg_encode(chg, r->line, o->buf + o->len);
    if (++o->m.count == IZ_SEG_MAX) return seg_flush(s, o);
    return 0;
}

/* Send r the ordinary way: its fields as they came. */
static void load_refuse(const load_row_t *r)
{
    r->it->chg->iys_state = IZ_IYS_NONE;
    r->it->chg->ret_deadline = r->deadline;
}

/* The judged new keys rows[0..n): their state rows in (a group at a time
 * when n is a whole group and none of its keys has a record; else one by
 * one), then their segment entries in order. refused[k] is set for a row
 * whose key has a record (it goes the ordinary way). Ids are the segment's
 * next (first_id + count stays the next id across a flush). */
/* A growing text buffer (COPY's rows). */
typedef struct copy_buf {
    char *data;
    size_t len, cap;
} copy_buf_t;

static void buf_put(copy_buf_t *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64 * 1024;
        while (b->len + n + 1 > b->cap)
            b->cap *= 2;
        b->data = iz_xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_putc(copy_buf_t *b, char c)
{
    buf_put(b, &c, 1);
}

static void buf_puts(copy_buf_t *b, const char *t)
{
    buf_put(b, t, strlen(t));
}

/* Put COPY's text form of t into b (a backslash, tab, newline or carriage
 * return escaped; none is in a checked recipient, but the format is kept). */
static void copy_text(copy_buf_t *b, const char *t)
{
    for (; *t; t++) {
        char c = *t;
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            buf_putc(b, '\\');
            c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c;
        }
        buf_putc(b, c);
    }
}

/* A full group's state rows on PostgreSQL by one COPY inside a savepoint:
 * *done is n when every row went in, 0 when a key of the group had a
 * record (the COPY is rolled back whole: nothing to take back). */
static int state_copy(iz_sq_t *s, const load_row_t *rows, size_t n, int64_t first, int *done)
{
    *done = 0;
    copy_buf_t b = {0};
    char num[64];
    for (size_t j = 0; j < n; j++) {
        const iz_change_t *chg = rows[j].it->chg;
        const iz_sq_names_t *nm = &rows[j].nm;
        snprintf(num, sizeof num, "%" PRId64 "\t", chg->brand_id);
        buf_puts(&b, num);
        copy_text(&b, chg->recipient);
        buf_putc(&b, '\t');
        copy_text(&b, nm->rtype);
        buf_putc(&b, '\t');
        copy_text(&b, nm->type);
        snprintf(num, sizeof num, "\t%" PRId64 "\t", first + (int64_t)j);
        buf_puts(&b, num);
        copy_text(&b, nm->status);
        buf_putc(&b, '\t');
        if (nm->source)
            copy_text(&b, nm->source);
        else
            buf_puts(&b, "\\N");
        if (chg->consent_date)
            snprintf(num, sizeof num, "\t%" PRId64 "\t%" PRId64 "\n", chg->consent_date,
                     first + (int64_t)j);
        else
            snprintf(num, sizeof num, "\t\\N\t%" PRId64 "\n", first + (int64_t)j);
        buf_puts(&b, num);
    }
    int rc = iz__sq_savepoint(s);
    if (rc == 0) {
        rc = iz__pg_copy(s->pg,
                         "COPY consent_state(brand_id, recipient, rtype, type, log_id, status,"
                         " source, consent_date, seg_id) FROM STDIN",
                         b.data ? b.data : "", b.len);
        int r = iz__sq_release(s, rc != 0);
        if (rc == IZ_EEXIST)
            rc = r; /* a key has a record: the group goes one by one */
        else if (rc == 0 && (rc = r) == 0)
            *done = (int)n;
    }
    free(b.data);
    return rc;
}

static int load_rows(iz_sq_t *s, seg_out_t *o, load_row_t *rows, size_t n, bool *refused,
                     int64_t *added)
{
    int64_t first = o->m.first_id + o->m.count;
    int done = 0, rc = 0;
    memset(refused, 0, n * sizeof *refused);
    if (iz__sq_is_pg(s) && n > 1) {
        if ((rc = state_copy(s, rows, n, first, &done)) != 0) return rc;
        if (done == (int)n) {
            *added += (int64_t)n;
            for (size_t j = 0; rc == 0 && j < n; j++)
                rc = stat_add(s, o, &rows[j].nm);
            if (rc != 0) return rc;
        }
    } else if (n == LOAD_GROUP) {
        if ((rc = state_insert(s, rows, n, first, &done)) != 0) return rc;
        if (done == LOAD_GROUP) {
            *added += LOAD_GROUP;
            for (size_t j = 0; rc == 0 && j < n; j++)
                rc = stat_add(s, o, &rows[j].nm);
            if (rc != 0) return rc;
        }
        if (done != LOAD_GROUP) {
            /* A key of the group has a record: take the group's rows back
             * and go one by one, so that the ids stay consecutive. */
            if ((rc = state_take_back(s, rows, n, first)) != 0) return rc;
            done = 0;
        }
    }
    if (done == 0) {
        int64_t id = first;
        for (size_t j = 0; j < n; j++) {
            int one = 0;
            if ((rc = state_insert(s, &rows[j], 1, id, &one)) != 0) return rc;
            if (one == 1) {
                (*added)++;
                if ((rc = stat_add(s, o, &rows[j].nm)) != 0 || (rc = seg_put(s, o, &rows[j])) != 0)
                    return rc;
                id++;
            } else {
                refused[j] = true;
                load_refuse(&rows[j]);
            }
        }
        return 0;
    }
    for (size_t j = 0; rc == 0 && j < n; j++)
        rc = seg_put(s, o, &rows[j]);
    return rc;
}

/* A load's items inside the batch's transaction: the new keys into
 * segments, then the rest (and every later item of their keys) the
 * ordinary way, in order. Returns 0, or the store's failure (the
 * transaction must not commit). */
static int load_items(iz_sq_t *s, apply_req_t *q)
{
    size_t n = q->n;
    if (n == 0) return 0;
    /* A load that could take the account past its plan goes the ordinary
     * way, each new record judged against the limit (a load well under it
     * keeps the fast path). */
    int64_t quota = q->items[0].quota;
    if (quota > 0) {
        int64_t used = 0;
        int urc = usage_of_brand(s, q->items[0].chg->brand_id, &used);
        if (urc != 0) return urc;
        if (used + (int64_t)n > quota) {
            for (size_t i = 0; i < n; i++) {
                q->items[i].rc = apply_one(s, &q->items[i]);
                if (iz__sq_tx_state(s) != 1) return IZ_EIO;
            }
            return 0;
        }
    }
    (void)pthread_once(&state_insert_once, state_insert_make);
    seg_out_t o = {.m = {.origin = IZ_ORIGIN_BULK, .creation_ms = now_ms()}};
    if (iz_strlcpy(o.m.job_id, q->job_id, sizeof o.m.job_id) == 0)
        o.plen = iz_seg_prefix(q->job_id, o.prefix);
    for (size_t i = 0; i < n && !o.m.brand_id; i++)
        if (q->items[i].rc == 0) o.m.brand_id = q->items[i].chg->brand_id;
    int rc = next_log_id(s, &o.m.first_id);
    if (rc != 0) return rc;
    int64_t first = o.m.first_id;
    keyset_t ks = {.cap = 64};
    while (ks.cap < 2 * n)
        ks.cap *= 2;
    ks.h = iz_xcalloc(ks.cap, sizeof *ks.h);
    bool *later = iz_xcalloc(n, sizeof *later);
    size_t nlater = 0;
    o.buf = iz_xmalloc((size_t)IZ_SEG_MAX * IZ_SEG_ENTRY_MAX);
    const size_t group = iz__sq_is_pg(s) ? LOAD_GROUP_PG : LOAD_GROUP;
    load_row_t *rows = iz_xmalloc(group * sizeof *rows);
    size_t *at = iz_xmalloc(group * sizeof *at), ng = 0;
    bool *refused = iz_xmalloc(group * sizeof *refused);
    int64_t added = 0; /* new records (state rows) of the segments */
    for (size_t i = 0; rc == 0 && i <= n; i++) {
        iz_store_apply_t *it = i < n ? &q->items[i] : NULL;
        if (i + LOAD_AHEAD < n) {
            /* The changes are cold (a batch is larger than the caches):
             * ask for the lines this loop reads a few items ahead. */
            const iz_change_t *ahead = q->items[i + LOAD_AHEAD].chg;
            __builtin_prefetch(ahead);
            __builtin_prefetch(ahead->recipient);
            __builtin_prefetch(ahead->iys_txid);
            __builtin_prefetch(ahead->evidence);
            __builtin_prefetch(ahead->evidence + 64);
        }
        if (it && (it->rc = change_check(it->chg, &rows[ng].nm)) != 0) continue;
        int r = 0;
        if (it) {
            /* (The set is empty in a first load: no hashing then.) */
            load_row_t *row = &rows[ng];
            r = nlater && keyset_has(&ks, it->chg, false)
                    ? 0
                    : load_judge(it, q->lines[i], &o, &row->deadline);
            if (r == 1) {
                /* (The rule changed no field the names are made of.) */
                row->it = it;
                row->line = q->lines[i];
                at[ng++] = i;
            }
        }
        /* The group goes in when full, before an item that goes the
         * ordinary way (its key may be one of the group's), and at the end. */
        if (ng > 0 && (ng == group || r == 0)) {
            if ((rc = load_rows(s, &o, rows, ng, refused, &added)) != 0) break;
            for (size_t j = 0; j < ng; j++)
                if (refused[j]) {
                    later[at[j]] = true;
                    nlater++;
                    (void)keyset_has(&ks, rows[j].it->chg, true);
                }
            ng = 0;
        }
        if (it && r == 0) {
            later[i] = true;
            nlater++;
            (void)keyset_has(&ks, it->chg, true);
        }
    }
    int64_t last = o.m.first_id + o.m.count - 1;
    if (rc == 0) rc = seg_flush(s, &o);
    if (rc == 0 && last >= first) rc = seq_past(s, last);
    if (rc == 0 && added > 0) rc = usage_add(s, o.m.brand_id, added);
    if (rc == 0) rc = stat_flush(s, &o);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!later[i]) continue;
        q->items[i].rc = apply_one(s, &q->items[i]);
        if (iz__sq_tx_state(s) != 1) rc = IZ_EIO; /* rolled back, or failed, whole */
    }
    free(o.buf);
    free(rows);
    free(at);
    free(refused);
    free(later);
    free(ks.h);
    return rc;
}

/* Mark every item of the queued requests that has not failed on its own
 * with the store's failure rc: none of them is on disk. */
static void fail_written(apply_req_t *batch, int rc)
{
    for (apply_req_t *q = batch; q; q = q->next) {
        q->rc = rc;
        for (size_t i = 0; i < q->n; i++)
            if (q->items[i].rc == 0 || q->items[i].rc == IZ_REPEAT) q->items[i].rc = rc;
    }
}

/* Write the queued batches in one transaction: one fsync for all of them.
 * A change that fails rolls back to its savepoint alone; a failed commit
 * fails every change (none is on disk). The subscribers then see the
 * written ones in commit order, before the lock is released. Returns
 * whether the commit still waits for its sync (enqueue's second stage). */
static bool run_batch(iz_store_t *st, apply_req_t *batch)
{
    iz_sq_t *s = sq(st);
    /* A transaction of bulk loads alone commits without its fsync: a step
     * a power loss takes back is taken back whole, with the job's progress
     * (iz_store_job_step in then), and the job does it again; the job's
     * last step is an ordinary commit, which makes them all durable. */
    bool loads = true;
    for (apply_req_t *q = batch; q; q = q->next)
        loads = loads && q->job_id;
    /* On SQLite any other batch also commits without waiting for the disk,
     * and its callers are answered after the WAL's sync (enqueue), which
     * runs beside the next batch's transaction instead of holding the
     * writers' lock. PostgreSQL's commit waits for its own flush. */
    bool deferred = !loads && !iz__sq_is_pg(s);
    int rc = loads || deferred ? iz__sq_begin_lazy(s) : iz__sq_begin(s);
    if (rc != 0) fail_written(batch, rc);
    for (apply_req_t *q = batch; q; q = q->next) {
        if (q->job_id && rc == 0) {
            int lrc = load_items(s, q);
            if (lrc != 0) {
                rc = lrc;
                fail_written(batch, rc);
            }
        }
        for (size_t i = 0; !q->job_id && i < q->n; i++) {
            iz_store_apply_t *it = &q->items[i];
            if (it->rc != 0) continue; /* refused before it was queued */
            it->rc = rc != 0 ? rc : apply_one(s, it);
            if (rc == 0 && iz__sq_tx_state(s) != 1) {
                /* SQLite rolled the whole transaction back (I/O error, disk
                 * full): nothing of the batch is written. */
                rc = IZ_EIO;
                fail_written(batch, rc);
            }
        }
        if (rc == 0 && q->then) {
            int trc = q->then(st, q->then_ctx);
            if (trc == 0 && iz__sq_tx_state(s) != 1) trc = IZ_EIO;
            if (trc != 0) {
                /* What must commit with the changes cannot: none of them
                 * does. */
                rc = trc;
                fail_written(batch, rc);
            }
        }
    }
    if (rc == 0 && (rc = iz__sq_commit(s)) != 0) fail_written(batch, rc);
    if (rc == 0)
        for (apply_req_t *q = batch; q; q = q->next)
            for (size_t i = 0; i < q->n; i++)
                if (q->items[i].rc == 0) iz__store_publish(st, q->items[i].chg);
    iz__sq_unlock(s); /* rolls back whatever is still open */
    return deferred && rc == 0;
}

/* Wait, with gmu held, until the deferred commit number seq is durable,
 * syncing the WAL when no other thread is (one sync covers every commit
 * made before it starts). 0, or IZ_EIO when a sync failed. */
static int sync_upto(sq_store_t *ss, uint64_t seq)
{
    while (ss->synced_seq < seq && !ss->sync_failed) {
        if (ss->syncing) {
            pthread_cond_wait(&ss->scv, &ss->gmu);
            continue;
        }
        ss->syncing = true;
        uint64_t upto = ss->committed_seq; /* each of them has committed */
        pthread_mutex_unlock(&ss->gmu);
        int rc = iz__sq_wal_sync(&ss->q);
        pthread_mutex_lock(&ss->gmu);
        ss->syncing = false;
        if (rc == 0)
            ss->synced_seq = upto;
        else
            ss->sync_failed = true; /* as PostgreSQL after a failed fsync: until a restart */
        pthread_cond_broadcast(&ss->scv);
    }
    return ss->synced_seq >= seq ? 0 : IZ_EIO;
}

static int sq_durable(iz_store_t *st)
{
    sq_store_t *ss = (sq_store_t *)st;
    pthread_mutex_lock(&ss->gmu);
    int rc = sync_upto(ss, ss->committed_seq);
    pthread_mutex_unlock(&ss->gmu);
    return rc;
}

#define GROUP_MAX 512 /* changes in one shared transaction, at most (one batch may be larger) */

/* Calls from many threads are committed together (group commit): the first
 * caller that finds no commit running writes every queued batch (up to
 * GROUP_MAX changes, and always the first batch whole) in one transaction,
 * the others wait for their result. Each call still returns only when its
 * changes are on disk. A waiter is woken only for what concerns it: its
 * batch is done, or it heads the queue when the leader is through (it
 * leads next). */
static int enqueue(iz_store_t *st, iz_store_apply_t *items, size_t n, const char *job_id,
                   const int64_t *lines, iz_store_then_fn then, void *ctx)
{
    size_t queued = 0;
    for (size_t i = 0; i < n; i++) {
        iz_sq_names_t nm;
        /* A load's items are checked where load_items reads them (one
         * walk over tens of thousands of cold changes, not two). */
        items[i].rc = job_id ? 0 : change_check(items[i].chg, &nm);
        if (items[i].rc == 0) queued++;
    }
    if (queued == 0 && !then) return 0;
    sq_store_t *ss = (sq_store_t *)st;
    apply_req_t me = {
        .items = items, .n = n, .job_id = job_id, .lines = lines, .then = then, .then_ctx = ctx};
    if (pthread_cond_init(&me.cv, NULL) != 0) iz_oom();
    pthread_mutex_lock(&ss->gmu);
    if (ss->tail)
        ss->tail->next = &me;
    else
        ss->head = &me;
    ss->tail = &me;
    while (!me.done) {
        /* Ours is being written or synced by another leader, or a batch is
         * being written: wait. */
        if (ss->leading || me.taken) {
            pthread_cond_wait(&me.cv, &ss->gmu);
            continue;
        }
        /* Lead: take queued batches up to GROUP_MAX changes (ours is among
         * them, or comes in a later round). */
        ss->leading = true;
        bool deferred = false;
        apply_req_t *batch = ss->head, *last = batch;
        size_t total = batch->n;
        batch->taken = true;
        while (last->next && total + last->next->n <= GROUP_MAX) {
            last = last->next;
            last->taken = true;
            total += last->n;
        }
        ss->head = last->next;
        if (!ss->head) ss->tail = NULL;
        last->next = NULL;
        bool failed = ss->sync_failed;
        pthread_mutex_unlock(&ss->gmu);
        if (failed)
            fail_written(batch, IZ_EIO);
        else
            deferred = run_batch(st, batch);
        pthread_mutex_lock(&ss->gmu);
        uint64_t seq = deferred ? ++ss->committed_seq : 0;
        ss->leading = false;
        /* The next batch's first caller leads it (it may be us: then the
         * loop goes on without a wait), while this one's sync runs. */
        if (ss->head && ss->head != &me) pthread_cond_signal(&ss->head->cv);
        if (deferred && sync_upto(ss, seq) != 0) fail_written(batch, IZ_EIO);
        for (apply_req_t *q = batch, *nx; q; q = nx) {
            nx = q->next;
            q->done = true; /* q may be gone once done is seen (after the
                             * mutex is let go): read next first */
            if (q != &me) pthread_cond_signal(&q->cv);
        }
    }
    pthread_mutex_unlock(&ss->gmu);
    pthread_cond_destroy(&me.cv);
    return me.rc;
}

static int sq_apply_then(iz_store_t *st, iz_store_apply_t *items, size_t n, iz_store_then_fn then,
                         void *ctx)
{
    return enqueue(st, items, n, NULL, NULL, then, ctx);
}

static int sq_load_then(iz_store_t *st, const char *job_id, const int64_t *lines,
                        iz_store_apply_t *items, size_t n, iz_store_then_fn then, void *ctx)
{
    return enqueue(st, items, n, job_id, lines, then, ctx);
}

static int sq_consent_apply_batch(iz_store_t *st, iz_store_apply_t *items, size_t n)
{
    return sq_apply_then(st, items, n, NULL, NULL);
}

static int sq_consent_get(iz_store_t *st, int64_t brand_id, iz_rtype_t rtype, iz_type_t type,
                          const char *recipient, iz_change_t *out)
{
    const char *rt, *ty;
    int rc = iz__sq_key_names(rtype, type, recipient, &rt, &ty);
    if (rc != 0) return rc;
    iz_sq_t *s = sq(st);
    int64_t log_id = 0;
    seg_buf_t b = {0};
    iz__sq_lock(s);
    rc = iz__sq_get(s, "SELECT log_id FROM consent_state WHERE " KEY_WHERE,
                    IZ_SQ_ARGS(KEY_ARGS(brand_id, recipient, rt, ty)), &iz__sq_i64_row, &log_id);
    if (rc == 0) rc = change_at(s, log_id, &b, out);
    iz__sq_unlock(s);
    seg_buf_free(&b);
    return rc;
}

static int sq_consent_history(iz_store_t *st, int64_t brand_id, iz_rtype_t rtype, iz_type_t type,
                              const char *recipient, iz_change_t **list, size_t *n)
{
    const char *rt, *ty;
    int rc = iz__sq_key_names(rtype, type, recipient, &rt, &ty);
    if (rc != 0) return rc == IZ_ENOTFOUND ? 0 : rc;
    iz_sq_t *s = sq(st);
    iz_change_t *l = NULL;
    size_t k = 0;
    iz__sq_lock(s);
    rc = iz__sq_list(s,
                     "SELECT " CHG_COLS " FROM consent_log l WHERE " KEY_WHERE " ORDER BY id DESC",
                     IZ_SQ_ARGS(KEY_ARGS(brand_id, recipient, rt, ty)), &change_row, &l, &k);
    if (rc == 0) {
        /* A load's entry is the key's first change: the oldest. */
        seg_buf_t b = {0};
        iz_change_t first;
        int f = key_seg_change(s, brand_id, recipient, rt, ty, &b, &first);
        seg_buf_free(&b);
        if (f == 1) {
            l = iz_xrealloc(l, (k + 1) * sizeof *l);
            l[k++] = first;
        } else if (f < 0) {
            free(l);
            rc = f;
        }
    }
    iz__sq_unlock(s);
    if (rc == 0) {
        *list = l;
        *n = k;
    }
    return rc;
}

static void status_read(const iz_row_t *row, void *out)
{
    const char *t = iz_row_text(row, 0);
    if (t) (void)iz_status_parse(t, out);
}

/* IZ_STATUS_NONE for a key without a record (or one izin cannot hold). */
static int sq_consent_status(iz_store_t *st, int64_t brand_id, iz_rtype_t rtype, iz_type_t type,
                             const char *recipient, iz_status_t *out)
{
    static const iz_sq_row_t status_row = IZ_SQ_ROW(iz_status_t, status_read);
    const char *rt, *ty;
    *out = IZ_STATUS_NONE;
    int rc = iz__sq_key_names(rtype, type, recipient, &rt, &ty);
    if (rc == 0)
        rc = iz__sq_find(sq(st), "SELECT status FROM consent_state WHERE " KEY_WHERE,
                         IZ_SQ_ARGS(KEY_ARGS(brand_id, recipient, rt, ty)), &status_row, out);
    return rc == IZ_ENOTFOUND || rc == 1 ? 0 : rc;
}

/* A segment's link of the chain from its verify row (sq_verify_log). */
static void seg_link(const iz_row_t *row, const char *prev, char out[65])
{
    iz_seg_meta_t m = {.first_id = iz_row_i64(row, 1),
                       .count = iz_row_i64(row, 3),
                       .brand_id = iz_row_i64(row, 4),
                       .creation_ms = iz_row_i64(row, 5)};
    const char *t = iz_row_text(row, 6);
    if (!t || iz_origin_parse(t, &m.origin) != 0) m.origin = IZ_ORIGIN_NONE;
    iz_row_str(row, 7, m.job_id, sizeof m.job_id);
    const void *data = iz_row_blob(row, 8);
    size_t len = iz_row_bytes(row, 8);
    iz_seg_hash(prev, &m, data ? data : "", len, out);
}

/* The log check walks its own read-only connection (sqlite_util.c). */
static int sq_verify_log(iz_store_t *st, int64_t *bad_id)
{
    return iz__sq_verify_chain(
        sq(st),
        "SELECT prev_hash, id, brand_id, recipient, rtype, type, status,"
        " source, consent_date, creation_ms, origin,"
        " CASE WHEN retailer_code IS NULL AND retailer_access IS NULL"
        " THEN evidence ELSE coalesce(evidence, '') || '|' ||"
        " coalesce(CAST(retailer_code AS TEXT), '') || '/' || coalesce(retailer_access,"
        " '') END, hash FROM consent_log ORDER BY id",
        IZ_HASH_FIELDS,
        "SELECT prev_hash, first_id, hash, count, brand_id, creation_ms,"
        " origin, job_id, data FROM log_segments ORDER BY first_id",
        seg_link, bad_id);
}

static int sq_outbox_count(iz_store_t *st, int64_t *n)
{
    return iz__sq_get(sq(st),
                      "SELECT (SELECT count(*) FROM outbox) + (SELECT coalesce(sum(count), 0)"
                      " FROM log_segments WHERE queued = 1)",
                      NULL, &iz__sq_i64_row, n);
}

/* ---- the sync engine's queries ------------------------------------------- */

static void outbox_read(const iz_row_t *row, void *out)
{
    iz_outbox_item_t *it = out;
    change_read(row, &it->chg);
    it->account_id = iz_row_i64(row, 17);
    it->brand_code = iz_row_i64(row, 18);
    it->attempts = iz_row_int(row, 19);
    it->bulk = iz_row_int(row, 20) != 0;
    iz_row_str(row, 21, it->state, sizeof it->state);
    iz_row_str(row, 22, it->request_id, sizeof it->request_id);
    it->sent_ms = iz_row_i64(row, 23);
    it->req_index = iz_row_null(row, 24) ? -1 : iz_row_int(row, 24);
    it->chg.ret_deadline = iz_row_i64(row, 25);
    it->chg.id = iz_row_i64(row, 26); /* brand_id stays 0 for a segment's entry */
}

static const iz_sq_row_t outbox_row = IZ_SQ_ROW(iz_outbox_item_t, outbox_read);

/* Only the oldest outbox row of each key is eligible: one address's
 * changes reach İYS one by one, in order. A key's first change may be a
 * segment's entry (always its oldest), waiting in the outbox or still in
 * its queued segment. */
#define OLDEST_OF_KEY                                                                              \
    " AND NOT EXISTS(SELECT 1 FROM consent_log l2 JOIN outbox o2 ON o2.log_id = l2.id"             \
    " WHERE l2.brand_id = l.brand_id AND l2.recipient = l.recipient AND l2.rtype = l.rtype"        \
    " AND l2.type = l.type AND l2.id < l.id)"                                                      \
    " AND NOT EXISTS(SELECT 1 FROM consent_state s WHERE s.brand_id = l.brand_id"                  \
    " AND s.recipient = l.recipient AND s.rtype = l.rtype AND s.type = l.type"                     \
    " AND s.seg_id < l.id AND (EXISTS(SELECT 1 FROM outbox o3 WHERE o3.log_id = s.seg_id)"         \
    " OR (SELECT g.queued FROM log_segments g WHERE g.first_id <= s.seg_id"                        \
    " ORDER BY g.first_id DESC LIMIT 1) = 1))"

/* The queued segments' entries of an account, as a count. */
#define QUEUED_OF_ACCOUNT                                                                          \
    "(SELECT coalesce(sum(g.count), 0) FROM log_segments g JOIN brands b ON b.id = g.brand_id"     \
    " WHERE g.queued = 1 AND b.account_id = ?1)"

/* Put the entries of an account's oldest queued segments into the outbox,
 * about want of them (whole segments): the sync takes a segment's entries
 * as it takes any outbox row. */
static int expand_segments(iz_sq_t *s, int64_t account_id, int64_t want)
{
    int rc = iz__sq_begin(s);
    while (rc == 0 && want > 0) {
        int64_t seg[4] = {0}; /* -, count, creation_ms, brand_id */
        int64_t first = 0;
        rc = iz__sq_find(s,
                         "SELECT g.first_id FROM log_segments g JOIN brands b"
                         " ON b.id = g.brand_id WHERE g.queued = 1 AND b.account_id = ?1"
                         " ORDER BY g.first_id LIMIT 1",
                         IZ_SQ_ARGS(IZ_SQ_I64(account_id)), &iz__sq_i64_row, &first);
        if (rc <= 0) break;
        rc = iz__sq_get(s, "SELECT count FROM log_segments WHERE first_id = ?1",
                        IZ_SQ_ARGS(IZ_SQ_I64(first)), &iz__sq_i64_row, &seg[1]);
        if (rc == 0)
            rc = iz__sq_get(s, "SELECT creation_ms FROM log_segments WHERE first_id = ?1",
                            IZ_SQ_ARGS(IZ_SQ_I64(first)), &iz__sq_i64_row, &seg[2]);
        if (rc == 0)
            rc = iz__sq_get(s, "SELECT brand_id FROM log_segments WHERE first_id = ?1",
                            IZ_SQ_ARGS(IZ_SQ_I64(first)), &iz__sq_i64_row, &seg[3]);
        if (rc == 0)
            rc = iz__sq_run(
                s,
                "WITH RECURSIVE r(i) AS (SELECT CAST(?1 AS BIGINT) UNION ALL SELECT i + 1 FROM r"
                " WHERE i + 1 < ?1 + ?2)"
                " INSERT INTO outbox(log_id, created_ms, state, bulk, account_id,"
                " brand_id) SELECT i, ?3, 'PENDING', 1, ?4, ?5 FROM r",
                IZ_SQ_ARGS(IZ_SQ_I64(first), IZ_SQ_I64(seg[1]), IZ_SQ_I64(seg[2]),
                           IZ_SQ_I64(account_id), IZ_SQ_I64(seg[3])));
        if (rc == 0)
            rc = iz__sq_run(s, "UPDATE log_segments SET queued = 0 WHERE first_id = ?1",
                            IZ_SQ_ARGS(IZ_SQ_I64(first)));
        want -= seg[1];
    }
    return iz__sq_end(s, rc);
}

/* The segment entries of a list of outbox items (chg.brand_id 0), read
 * from their segments. */
static int fill_entries(iz_sq_t *s, iz_outbox_item_t *items, size_t n)
{
    seg_buf_t b = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (items[i].chg.brand_id != 0) continue;
        size_t k;
        int64_t deadline = items[i].chg.ret_deadline;
        rc = seg_at(s, items[i].chg.id, &b, &k);
        if (rc == 1) rc = seg_change(s, &b, k, &items[i].chg);
        else if (rc == 0) rc = IZ_EIO; /* an outbox row of no change */
        items[i].chg.ret_deadline = deadline;
    }
    seg_buf_free(&b);
    return rc;
}

static int sq_outbox_due(iz_store_t *st, int64_t now, int64_t account_id, bool rets, size_t max,
                         iz_outbox_item_t **list, size_t *n)
{
    const iz_sq_arg_t *args = IZ_SQ_ARGS(IZ_SQ_I64(now), IZ_SQ_I64(account_id),
                                         IZ_SQ_I64(max > 100000 ? 100000 : max));
    if (rets)
        return iz__sq_list(sq(st),
                           OUTBOX_SELECT " JOIN ret_deadlines r ON r.log_id = o.log_id"
                                         " WHERE r.done_ms IS NULL AND o.account_id = ?2"
                                         " AND o.state = 'PENDING' AND o.next_ms <= ?1" OLDEST_OF_KEY
                                         " ORDER BY r.deadline, o.log_id LIMIT ?3",
                           args, &outbox_row, list, n);
    iz_sq_t *s = sq(st);
    int64_t due = 0;
    int rc = iz__sq_get(s,
                        "SELECT count(*) FROM outbox WHERE account_id = ?1 AND state = 'PENDING'"
                        " AND next_ms <= ?2",
                        IZ_SQ_ARGS(IZ_SQ_I64(account_id), IZ_SQ_I64(now)), &iz__sq_i64_row, &due);
    if (rc == 0 && due < (int64_t)max) rc = expand_segments(s, account_id, (int64_t)max - due);
    iz_outbox_item_t *l = NULL;
    size_t k = 0;
    iz__sq_lock(s);
    if (rc == 0)
        rc = iz__sq_list(s,
                         OUTBOX_SELECT " WHERE o.account_id = ?2 AND o.state = 'PENDING'"
                                       " AND o.next_ms <= ?1" OLDEST_OF_KEY
                                       " ORDER BY o.log_id LIMIT ?3",
                         args, &outbox_row, &l, &k);
    if (rc == 0) rc = fill_entries(s, l, k);
    iz__sq_unlock(s);
    if (rc != 0) {
        free(l);
        return rc;
    }
    *list = l;
    *n = k;
    return 0;
}

static int sq_outbox_count_due(iz_store_t *st, int64_t now, int64_t account_id, int64_t *n)
{
    return iz__sq_get(sq(st),
                      "SELECT (SELECT count(*) FROM outbox WHERE account_id = ?1"
                      " AND state = 'PENDING' AND next_ms <= ?2) + " QUEUED_OF_ACCOUNT,
                      IZ_SQ_ARGS(IZ_SQ_I64(account_id), IZ_SQ_I64(now)), &iz__sq_i64_row, n);
}

static int sq_outbox_reset_sending(iz_store_t *st)
{
    return iz__sq_run(sq(st),
                      "UPDATE outbox SET state = 'PENDING', request_id = NULL, sent_ms = NULL,"
                      " req_index = NULL WHERE state = 'SENDING'",
                      NULL);
}

/* Write where a change stands with İYS: on its log row, or for a segment's
 * entry in segment_results. */
static int set_iys(iz_sq_t *s, int64_t log_id, iz_iys_state_t state, const char *txid,
                   const char *error)
{
    const char *name = iz_iys_state_name(state);
    int rc = iz__sq_update(s,
                           "UPDATE consent_log SET iys_state = ?2,"
                           " iys_txid = coalesce(?3, iys_txid), iys_error = coalesce(?4, iys_error)"
                           " WHERE id = ?1",
                           IZ_SQ_ARGS(IZ_SQ_I64(log_id), IZ_SQ_TEXT(name), IZ_SQ_OPT(txid),
                                      IZ_SQ_OPT(error)));
    if (rc != IZ_ENOTFOUND) return rc;
    return iz__sq_run(
        s,
        "INSERT INTO segment_results(log_id, iys_state, iys_txid, iys_error)"
        " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(log_id) DO UPDATE SET"
        " iys_state = excluded.iys_state,"
        " iys_txid = coalesce(excluded.iys_txid, segment_results.iys_txid),"
        " iys_error = coalesce(excluded.iys_error, segment_results.iys_error)",
        IZ_SQ_ARGS(IZ_SQ_I64(log_id), IZ_SQ_TEXT(name), IZ_SQ_OPT(txid), IZ_SQ_OPT(error)));
}

static int sq_outbox_mark(iz_store_t *st, const int64_t *ids, size_t n, const char *state,
                          const char *request_id, int64_t sent_ms)
{
    iz_sq_t *s = sq(st);
    bool sent = strcmp(state, "SENT") == 0;
    int rc = iz__sq_begin(s);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        /* A SENT row keeps its place in the bulk request: İYS answers by
         * index. */
        rc = iz__sq_run(s,
                        "UPDATE outbox SET state = ?2, request_id = ?3, sent_ms = ?4,"
                        " posted_ms = ?4, req_index = ?5 WHERE log_id = ?1",
                        IZ_SQ_ARGS(IZ_SQ_I64(ids[i]), IZ_SQ_TEXT(state), IZ_SQ_OPT(request_id),
                                   IZ_SQ_OPT_I64(sent_ms), sent ? IZ_SQ_I64(i) : IZ_SQ_NULL));
        if (rc == 0 && sent) rc = set_iys(s, ids[i], IZ_IYS_SENT, NULL, NULL);
    }
    return iz__sq_end(s, rc);
}

static int sq_outbox_touch(iz_store_t *st, const char *request_id, int64_t sent_ms)
{
    return iz__sq_run(sq(st),
                      "UPDATE outbox SET sent_ms = ?2 WHERE request_id = ?1 AND state = 'SENT'",
                      IZ_SQ_ARGS(IZ_SQ_TEXT(request_id), IZ_SQ_I64(sent_ms)));
}

/* A diagnostic for the operator: kept up to 512 bytes, and a longer one
 * ends with "..." so the cut shows. */
static void cut_error(const char *error, char err[512])
{
    if (iz_strlcpy(err, error, 512) != 0) {
        size_t n = 512 - 4;
        while (n > 0 && ((unsigned char)err[n] & 0xC0) == 0x80)
            n--;
        memcpy(err + n, "...", 4);
    }
}

static int retry_row(iz_sq_t *s, int64_t log_id, int64_t next_ms, const char *err)
{
    return iz__sq_run(s,
                      "UPDATE outbox SET state = 'PENDING', request_id = NULL, sent_ms = NULL,"
                      " posted_ms = NULL, req_index = NULL, attempts = attempts + 1,"
                      " next_ms = ?2, last_error = ?3 WHERE log_id = ?1",
                      IZ_SQ_ARGS(IZ_SQ_I64(log_id), IZ_SQ_I64(next_ms), IZ_SQ_TEXT(err)));
}

static int sq_outbox_retry(iz_store_t *st, int64_t log_id, int64_t next_ms, const char *error)
{
    char err[512];
    cut_error(error, err);
    return retry_row(sq(st), log_id, next_ms, err);
}

static int sq_outbox_retry_many(iz_store_t *st, const int64_t *ids, size_t n, int64_t next_ms,
                                const char *error)
{
    iz_sq_t *s = sq(st);
    char err[512];
    cut_error(error, err);
    int rc = iz__sq_begin(s);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = retry_row(s, ids[i], next_ms, err);
    return iz__sq_end(s, rc);
}

/* Record one final answer; inside a transaction. */
static int finish_row(iz_sq_t *s, int64_t log_id, iz_iys_state_t state, const char *txid,
                      const char *error, int64_t iys_created, int64_t now)
{
    char tx[72], err[16];
    if (iz_strlcpy(tx, txid ? txid : "", sizeof tx) != 0 ||
        iz_strlcpy(err, error ? error : "", sizeof err) != 0)
        return IZ_ETOOBIG; /* read back into iz_change_t: never cut */
    int rc = iz__sq_update(s,
                           "UPDATE consent_log SET iys_state = ?2, iys_txid = ?3, iys_error = ?4"
                           " WHERE id = ?1",
                           IZ_SQ_ARGS(IZ_SQ_I64(log_id), IZ_SQ_TEXT(iz_iys_state_name(state)),
                                      IZ_SQ_OPT(tx), IZ_SQ_OPT(err)));
    if (rc == IZ_ENOTFOUND) /* a segment's entry */
        rc = iz__sq_run(s,
                        "INSERT INTO segment_results(log_id, iys_state, iys_txid, iys_error)"
                        " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(log_id) DO UPDATE SET"
                        " iys_state = excluded.iys_state, iys_txid = excluded.iys_txid,"
                        " iys_error = excluded.iys_error",
                        IZ_SQ_ARGS(IZ_SQ_I64(log_id), IZ_SQ_TEXT(iz_iys_state_name(state)),
                                   IZ_SQ_OPT(tx), IZ_SQ_OPT(err)));
    if (rc == 0 && state == IZ_IYS_ACCEPTED && iys_created > 0) {
        /* The day İYS's file of the day must hold it (reconciliation). */
        char d[IZ_DATETIME_LEN];
        iz_tr_format(iys_created, d);
        d[10] = '\0';
        rc = iz__sq_run(s,
                        "INSERT INTO iys_days(log_id, brand_id, day, created)"
                        " SELECT ?1, brand_id, ?2, ?3 FROM outbox WHERE log_id = ?1"
                        " ON CONFLICT(log_id) DO UPDATE SET day = excluded.day,"
                        " created = excluded.created",
                        IZ_SQ_ARGS(IZ_SQ_I64(log_id), IZ_SQ_TEXT(d), IZ_SQ_I64(iys_created)));
    }
    if (rc == 0)
        rc = iz__sq_run(s, "DELETE FROM outbox WHERE log_id = ?1", IZ_SQ_ARGS(IZ_SQ_I64(log_id)));
    if (rc == 0)
        rc = iz__sq_run(s,
                        "UPDATE ret_deadlines SET done_ms = ?2 WHERE log_id = ?1"
                        " AND done_ms IS NULL",
                        IZ_SQ_ARGS(IZ_SQ_I64(log_id), IZ_SQ_I64(now)));
    return rc;
}

static int sq_outbox_finish(iz_store_t *st, int64_t log_id, iz_iys_state_t state, const char *txid,
                            const char *error, int64_t now)
{
    iz_outbox_done_t d = {.log_id = log_id, .state = state, .txid = txid, .error = error};
    return st->ops->outbox_finish_many(st, &d, 1, now);
}

static int sq_outbox_finish_many(iz_store_t *st, const iz_outbox_done_t *d, size_t n, int64_t now)
{
    iz_sq_t *s = sq(st);
    int rc = iz__sq_begin(s);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = finish_row(s, d[i].log_id, d[i].state, d[i].txid, d[i].error, d[i].iys_created, now);
    return iz__sq_end(s, rc);
}

static void req_read(const iz_row_t *row, void *out)
{
    iz_outbox_req_t *q = out;
    iz_row_str(row, 0, q->request_id, sizeof q->request_id);
    q->account_id = iz_row_i64(row, 1);
    q->brand_code = iz_row_i64(row, 2);
    q->posted_ms = iz_row_i64(row, 3);
    q->sent_ms = iz_row_i64(row, 4);
    q->rows = iz_row_i64(row, 5);
}

static const iz_sq_row_t req_row = IZ_SQ_ROW(iz_outbox_req_t, req_read);

static int sq_outbox_requests(iz_store_t *st, iz_outbox_req_t **list, size_t *n)
{
    return iz__sq_list(sq(st),
                       "SELECT o.request_id, min(o.account_id), min(b.code), min(o.posted_ms),"
                       " min(o.sent_ms), count(*) FROM outbox o JOIN brands b ON b.id = o.brand_id"
                       " WHERE o.state = 'SENT' GROUP BY o.request_id ORDER BY min(o.sent_ms)",
                       NULL, &req_row, list, n);
}

static void reqrow_read(const iz_row_t *row, void *out)
{
    iz_outbox_row_t *r = out;
    r->log_id = iz_row_i64(row, 0);
    r->req_index = iz_row_null(row, 1) ? -1 : iz_row_int(row, 1);
    r->creation_ms = iz_row_i64(row, 2);
}

static const iz_sq_row_t reqrow_row = IZ_SQ_ROW(iz_outbox_row_t, reqrow_read);

static int sq_outbox_request_rows(iz_store_t *st, const char *request_id, iz_outbox_row_t **list,
                                  size_t *n)
{
    return iz__sq_list(sq(st),
                       "SELECT o.log_id, o.req_index, o.created_ms FROM outbox o"
                       " WHERE o.request_id = ?1 AND o.state = 'SENT' ORDER BY o.req_index",
                       IZ_SQ_ARGS(IZ_SQ_TEXT(request_id)), &reqrow_row, list, n);
}

static void depth_read(const iz_row_t *row, void *out)
{
    iz_outbox_depth_t *d = out;
    d->account_id = iz_row_i64(row, 0);
    char o[16];
    iz_row_str(row, 1, o, sizeof o);
    if (iz_origin_parse(o, &d->origin) != 0) d->origin = IZ_ORIGIN_NONE;
    d->rows = iz_row_i64(row, 2);
}

static const iz_sq_row_t depth_row = IZ_SQ_ROW(iz_outbox_depth_t, depth_read);

static int sq_outbox_depth(iz_store_t *st, iz_outbox_depth_t **list, size_t *n, int64_t *oldest)
{
    iz_sq_t *s = sq(st);
    int rc = iz__sq_begin_read(s);
    if (rc == 0)
        rc = iz__sq_list(s,
                         "SELECT a, origin, sum(k) FROM (SELECT o.account_id AS a,"
                         " coalesce(l.origin, 'BULK') AS origin, count(*) AS k FROM outbox o"
                         " LEFT JOIN consent_log l ON l.id = o.log_id GROUP BY 1, 2"
                         " UNION ALL SELECT b.account_id, g.origin, sum(g.count)"
                         " FROM log_segments g JOIN brands b ON b.id = g.brand_id"
                         " WHERE g.queued = 1 GROUP BY 1, 2) AS d GROUP BY a, origin"
                         " ORDER BY a, origin",
                         NULL, &depth_row, list, n);
    if (rc == 0)
        rc = iz__sq_get(
            s,
            "SELECT coalesce(min(t), 0) FROM (SELECT min(created_ms) AS t FROM outbox"
            " UNION ALL SELECT min(creation_ms) FROM log_segments WHERE queued = 1) AS m",
            NULL, &iz__sq_i64_row, oldest);
    return iz__sq_end(s, rc);
}

static int sq_change_by_txid(iz_store_t *st, int64_t brand_id, const char *txid, iz_change_t *out)
{
    iz_sq_t *s = sq(st);
    iz__sq_lock(s);
    int rc = iz__sq_get(s,
                        /* (+brand_id: by the transaction id's index; without
                         * statistics SQLite took the brand's index for the
                         * ORDER BY and read every change of the brand - a
                         * pull of 20,000 own changes took minutes) */
                        "SELECT " CHG_COLS " FROM consent_log l WHERE l.iys_txid = ?2"
                        " AND +l.brand_id = ?1 ORDER BY l.id DESC LIMIT 1",
                        IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_TEXT(txid)), &change_row, out);
    if (rc == IZ_ENOTFOUND) {
        /* A segment's entry İYS answered. */
        int64_t id = 0;
        seg_buf_t b = {0};
        iz_change_t c;
        int f = iz__sq_find(s,
                            "SELECT log_id FROM segment_results WHERE iys_txid = ?1"
                            " ORDER BY log_id DESC",
                            IZ_SQ_ARGS(IZ_SQ_TEXT(txid)), &iz__sq_i64_row, &id);
        /* (find answers 1 for a row, 0 for none; change_at 0 for the
         * change: only a found row's change is read.) */
        bool found = f == 1;
        if (found) f = change_at(s, id, &b, &c);
        seg_buf_free(&b);
        if (f < 0 && f != IZ_ENOTFOUND) rc = f;
        if (found && f == 0 && c.brand_id == brand_id) {
            *out = c;
            rc = 0;
        }
    }
    iz__sq_unlock(s);
    return rc;
}

/* The changes feed's segment entries: decoded into a growing list. */
typedef struct feed_walk {
    iz_change_t *l;
    size_t n, cap, limit;
    int64_t after;
    seg_buf_t b;
    int rc;
} feed_walk_t;

static int feed_seg(void *ctx, const iz_row_t *row)
{
    feed_walk_t *w = ctx;
    seg_row(&w->b, row);
    if (!w->b.ok) {
        w->rc = IZ_EIO;
        return 1;
    }
    for (int64_t i = 0; i < w->b.seg.m.count && w->n < w->limit; i++) {
        if (w->b.seg.m.first_id + i <= w->after) continue;
        if (w->n == w->cap) {
            w->cap = w->cap ? 2 * w->cap : 64;
            w->l = iz_xrealloc(w->l, w->cap * sizeof *w->l);
        }
        iz_seg_entry(&w->b.seg, (size_t)i, &w->l[w->n++]);
    }
    return w->n >= w->limit ? 1 : 0;
}

static int by_id(const void *a, const void *b)
{
    int64_t x = ((const iz_change_t *)a)->id, y = ((const iz_change_t *)b)->id;
    return x < y ? -1 : x > y;
}

void (*iz__sq_changes_gap)(void *ctx);
void *iz__sq_changes_gap_ctx;

/* The changes (log rows and segments' entries) with id > after_id in id
 * order, at most limit: of one brand, or of every brand when brand_id is
 * 0 (each form its own statements: the one brand's reads use the brand's
 * indexes). */
static int changes_read(iz_store_t *st, int64_t brand_id, int64_t after_id, size_t limit,
                        iz_change_t **list, size_t *n)
{
    iz_sq_t *s = sq(st);
    bool all = brand_id == 0;
    if (limit > 100000) limit = 100000;
    iz_change_t *rows = NULL;
    size_t nr = 0;
    feed_walk_t w = {.limit = limit, .after = after_id};
    /* One snapshot for both reads: between two separate ones another
     * process (izin import) could commit a log row and then a segment
     * after it; the second read would see the segment but the first not
     * the row, and a cursor moved past the segment (webhooks, the feed's
     * clients) would skip the row for good. */
    int rc = iz__sq_begin_read(s);
    if (rc == 0)
        rc = iz__sq_list(s,
                         all ? "SELECT " CHG_COLS " FROM consent_log l WHERE ?1 = 0"
                               " AND l.id > ?2 ORDER BY l.id LIMIT ?3"
                             : "SELECT " CHG_COLS " FROM consent_log l WHERE l.brand_id = ?1"
                               " AND l.id > ?2 ORDER BY l.id LIMIT ?3",
                         IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_I64(after_id), IZ_SQ_I64(limit)),
                         &change_row, &rows, &nr);
    if (iz__sq_changes_gap) iz__sq_changes_gap(iz__sq_changes_gap_ctx);
    /* A segment holds at most IZ_SEG_MAX ids: one that holds an id after
     * after_id starts after after_id - IZ_SEG_MAX. */
    if (rc == 0 && limit > 0)
        rc = iz__sq_each(s,
                         all ? "SELECT " SEG_COLS " FROM log_segments WHERE ?1 = 0"
                               " AND first_id > ?2 - 1000 AND first_id + count - 1 > ?2"
                               " ORDER BY first_id"
                             : "SELECT " SEG_COLS " FROM log_segments WHERE brand_id = ?1"
                               " AND first_id > ?2 - 1000 AND first_id + count - 1 > ?2"
                               " ORDER BY first_id",
                         IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_I64(after_id)), feed_seg, &w);
    if (rc > 0) rc = 0;
    if (rc == 0) rc = w.rc;
    /* İYS's answers of the entries. */
    for (size_t i = 0; rc == 0 && i < w.n; i++) {
        static const iz_sq_row_t result_row = {.size = 0, .read = result_read};
        int f = iz__sq_find(s,
                            "SELECT iys_state, iys_txid, iys_error FROM segment_results"
                            " WHERE log_id = ?1",
                            IZ_SQ_ARGS(IZ_SQ_I64(w.l[i].id)), &result_row, &w.l[i]);
        if (f < 0) rc = f;
    }
    rc = iz__sq_end(s, rc);
    seg_buf_free(&w.b);
    if (rc != 0) {
        free(rows);
        free(w.l);
        return rc;
    }
    /* Both lists are in id order: merge them and keep the first limit. */
    size_t total = nr + w.n;
    iz_change_t *merged = iz_xmalloc((total ? total : 1) * sizeof *merged);
    if (nr) memcpy(merged, rows, nr * sizeof *merged);
    if (w.n) memcpy(merged + nr, w.l, w.n * sizeof *merged);
    free(rows);
    free(w.l);
    if (w.n && nr) qsort(merged, total, sizeof *merged, by_id);
    *list = merged;
    *n = total < limit ? total : limit;
    return 0;
}

static int sq_changes(iz_store_t *st, int64_t brand_id, int64_t after_id, size_t limit,
                      iz_change_t **list, size_t *n)
{
    return changes_read(st, brand_id, after_id, limit, list, n);
}

static int sq_brands_all(iz_store_t *st, iz_brand_t **list, size_t *n)
{
    return iz__sq_list(sq(st), "SELECT " BRAND_COLS " FROM brands ORDER BY id", NULL, &brand_row,
                       list, n);
}

/* "" when the brand has no cursor for source yet. */
static int sq_cursor_get(iz_store_t *st, int64_t brand_id, const char *source, char *out,
                         size_t outsz)
{
    out[0] = '\0';
    int rc =
        iz__sq_get_text(sq(st), "SELECT cursor FROM iys_cursor WHERE brand_id = ?1 AND source = ?2",
                        IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_TEXT(source)), out, outsz);
    return rc == IZ_ENOTFOUND ? 0 : rc;
}

static int sq_cursor_set(iz_store_t *st, int64_t brand_id, const char *source, const char *cursor)
{
    return iz__sq_run(sq(st),
                      "INSERT INTO iys_cursor(brand_id, source, cursor, updated_ms)"
                      " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(brand_id, source) DO UPDATE SET"
                      " cursor = excluded.cursor, updated_ms = excluded.updated_ms",
                      IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_TEXT(source), IZ_SQ_TEXT(cursor),
                                 IZ_SQ_I64(now_ms())));
}

static void ret_read(const iz_row_t *row, void *out)
{
    iz_ret_open_t *r = out;
    r->log_id = iz_row_i64(row, 0);
    r->deadline = iz_row_i64(row, 1);
}

static int sq_ret_open(iz_store_t *st, iz_ret_open_t **list, size_t *n)
{
    static const iz_sq_row_t ret_row = IZ_SQ_ROW(iz_ret_open_t, ret_read);
    return iz__sq_list(sq(st),
                       "SELECT log_id, deadline FROM ret_deadlines WHERE done_ms IS NULL"
                       " ORDER BY deadline",
                       NULL, &ret_row, list, n);
}

static int sq_ret_late(iz_store_t *st, int64_t *n)
{
    return iz__sq_get(sq(st), "SELECT count(*) FROM ret_deadlines WHERE done_ms > deadline * 1000",
                      NULL, &iz__sq_i64_row, n);
}

/* ---- the panel's figures ----------------------------------------------------------- */

static void stat_read(const iz_row_t *row, void *out)
{
    iz_stat_t *x = out;
    iz_row_str(row, 0, x->a, sizeof x->a);
    iz_row_str(row, 1, x->b, sizeof x->b);
    iz_row_str(row, 2, x->c, sizeof x->c);
    iz_row_str(row, 3, x->d, sizeof x->d);
    x->n = iz_row_i64(row, 4);
}

static const iz_sq_row_t stat_row = IZ_SQ_ROW(iz_stat_t, stat_read);

static int sq_stat_state(iz_store_t *st, int64_t brand_id, iz_stat_t **list, size_t *n)
{
    return iz__sq_list(sq(st),
                       "SELECT type, rtype, status, source, n FROM stat_state"
                       " WHERE brand_id = ? AND n > 0",
                       IZ_SQ_ARGS(IZ_SQ_I64(brand_id)), &stat_row, list, n);
}

static int sq_stat_days(iz_store_t *st, int64_t brand_id, const char *from_day, iz_stat_t **list,
                        size_t *n)
{
    return iz__sq_list(sq(st),
                       "SELECT day, origin, '', '', n FROM stat_days"
                       " WHERE brand_id = ?1 AND day >= ?2 ORDER BY day",
                       IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_TEXT(from_day)), &stat_row, list, n);
}

static int sq_stat_origins(iz_store_t *st, int64_t brand_id, iz_stat_t **list, size_t *n)
{
    return iz__sq_list(sq(st),
                       "SELECT origin, '', '', '', sum(n) FROM stat_days WHERE brand_id = ?"
                       " GROUP BY origin ORDER BY origin",
                       IZ_SQ_ARGS(IZ_SQ_I64(brand_id)), &stat_row, list, n);
}

static int sq_ret_brand(iz_store_t *st, int64_t brand_id, iz_ret_open_t **list, size_t *n,
                        int64_t *late)
{
    static const iz_sq_row_t ret_row = IZ_SQ_ROW(iz_ret_open_t, ret_read);
    iz_sq_t *s = sq(st);
    int rc = iz__sq_begin_read(s);
    if (rc == 0)
        rc = iz__sq_list(s,
                         "SELECT r.log_id, r.deadline FROM ret_deadlines r JOIN consent_log l"
                         " ON l.id = r.log_id WHERE r.done_ms IS NULL AND l.brand_id = ?"
                         " ORDER BY r.deadline",
                         IZ_SQ_ARGS(IZ_SQ_I64(brand_id)), &ret_row, list, n);
    if (rc == 0)
        rc = iz__sq_get(s,
                        "SELECT count(*) FROM ret_deadlines r JOIN consent_log l ON l.id = r.log_id"
                        " WHERE r.done_ms > r.deadline * 1000 AND l.brand_id = ?",
                        IZ_SQ_ARGS(IZ_SQ_I64(brand_id)), &iz__sq_i64_row, late);
    return iz__sq_end(s, rc);
}

static int sq_quarantine_count_brand(iz_store_t *st, int64_t brand_id, int64_t *n)
{
    return iz__sq_get(sq(st), "SELECT count(*) FROM iys_quarantine WHERE brand_id = ?",
                      IZ_SQ_ARGS(IZ_SQ_I64(brand_id)), &iz__sq_i64_row, n);
}

static int sq_iys_changes(iz_store_t *st, int64_t brand_id, int64_t before_id, size_t limit,
                          iz_change_t **list, size_t *n)
{
    return iz__sq_list(sq(st),
                       "SELECT " CHG_COLS " FROM consent_log l INDEXED BY consent_log_iys"
                       " WHERE l.brand_id = ?1 AND l.origin = 'IYS' AND l.id < ?2"
                       " ORDER BY l.id DESC LIMIT ?3",
                       IZ_SQ_ARGS(IZ_SQ_I64(brand_id),
                                  IZ_SQ_I64(before_id > 0 ? before_id : INT64_MAX),
                                  IZ_SQ_I64((int64_t)limit)),
                       &change_row, list, n);
}

/* ---- the send filter's feed, SMS and voice records ------------------------ */

/* The caller's walker and its context, for state_row. */
typedef struct state_walk {
    iz_store_state_fn fn;
    void *ctx;
} state_walk_t;

/* One consent_state row for iz_store_state_scan; a row with a spelling
 * izin does not know (written by hand) is passed over. */
static int state_row(void *ctx, const iz_row_t *rw)
{
    state_walk_t *w = ctx;
    iz_state_row_t row = {.brand_id = iz_row_i64(rw, 0), .recipient = iz_row_text(rw, 1)};
    const char *t;
    if ((t = iz_row_text(rw, 2))) (void)iz_rtype_parse(t, &row.rtype);
    if ((t = iz_row_text(rw, 3))) (void)iz_type_parse(t, &row.type);
    if ((t = iz_row_text(rw, 4))) (void)iz_status_parse(t, &row.status);
    if (!row.recipient || !row.rtype || !row.type || !row.status) return 0;
    return w->fn(w->ctx, &row);
}

static int sq_state_scan(iz_store_t *st, iz_store_state_fn fn, void *ctx)
{
    return iz__sq_each_stream(sq(st),
                              "SELECT brand_id, recipient, rtype, type, status FROM consent_state",
                              NULL, state_row, &(state_walk_t){fn, ctx});
}

/* The rows of one page of iz_store_consent_each: small enough that a page
 * held whole (PostgreSQL's client reads a statement's every row before the
 * first is handed on) stays far below what a large brand would take. */
#define CONSENT_PAGE 2000

typedef struct consent_walk {
    iz_store_consent_fn fn;
    void *ctx;
    /* The last row's recipient, rtype, type as stored: the next page's
     * start; and this page's start, bound to its statement (left alone while
     * it runs). Fixed buffers: a walk allocates nothing a row. */
    char key[3][IZ_RECIPIENT_MAX], from[3][IZ_RECIPIENT_MAX];
    int rows; /* of the page being read */
    int rc;   /* a stored key too long to be one (written by hand): the walk stops */
} consent_walk_t;

/* One current consent for iz_store_consent_each; like state_row, a row with
 * an unknown key or status spelling is passed over (its key still moves
 * the walk on). */
static int consent_row(void *ctx, const iz_row_t *row)
{
    consent_walk_t *w = ctx;
    w->rows++;
    for (int i = 0; i < 3; i++) {
        const char *t = iz_row_text(row, i);
        if (iz_strlcpy(w->key[i], t ? t : "", sizeof w->key[i]) != 0) {
            w->rc = IZ_EIO;
            return 1;
        }
    }
    iz_consent_t c = {0};
    iz__sq_col_consent(row, 0, c.recipient, &c.rtype, &c.type, &c.status, &c.source,
                       &c.consent_date);
    if (!c.recipient[0] || !c.rtype || !c.type || !c.status) return 0;
    return w->fn(w->ctx, &c);
}

/* Pages over the primary key (brand_id, recipient, rtype, type), each
 * starting after the last key of the one before (the first after the
 * empty key, which no consent has): the rows come in key order without a
 * sort, each page is a seek into the key, and no more than a page of the
 * brand is held at once, on either engine (one statement for the whole
 * brand would be stepped a row at a time by SQLite but read whole by
 * PostgreSQL's client). The pages are read in one read transaction, one
 * snapshot. */
static int sq_consent_each(iz_store_t *st, int64_t brand_id, iz_type_t type, iz_store_consent_fn fn,
                           void *ctx)
{
    consent_walk_t w = {.fn = fn, .ctx = ctx};
    int rc = iz__sq_begin_read(sq(st));
    for (bool first = true; rc == 0 && (first || w.rows == CONSENT_PAGE); first = false) {
        w.rows = 0;
        /* The last page's last key starts this one; the rows of this page
         * replace key[], never the text bound to the running statement. */
        memcpy(w.from, w.key, sizeof w.from);
        rc = iz__sq_each(
            sq(st),
            "SELECT recipient, rtype, type, status, source, consent_date"
            " FROM consent_state WHERE brand_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR type = ?2)"
            " AND (recipient, rtype, type) > (?3, ?4, ?5)"
            " ORDER BY recipient, rtype, type LIMIT ?6",
            IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_OPT(iz_type_name(type)),
                       IZ_SQ_TEXT(w.from[0]), IZ_SQ_TEXT(w.from[1]), IZ_SQ_TEXT(w.from[2]),
                       IZ_SQ_I64(CONSENT_PAGE)),
            consent_row, &w);
    }
    if (rc == 1 && w.rc) rc = w.rc;
    return iz__sq_end(sq(st), rc);
}

/* Write a record of what the send filter let through - an SMS message or a
 * voice campaign - and its recipients in one transaction: head_sql with
 * head (the record; its id goes to *id), then item(s, *id, i, items) for
 * each of the n recipients in input order. */
static int record_send(iz_sq_t *s, const char *head_sql, const iz_sq_arg_t *head, size_t n,
                       int (*item)(iz_sq_t *s, int64_t id, size_t i, const void *items),
                       const void *items, int64_t *id)
{
    int rc = iz__sq_begin(s);
    if (rc == 0) rc = iz__sq_write(s, head_sql, head, id);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = item(s, *id, i, items);
    return iz__sq_end(s, rc);
}

/* ---- the outbound SMS queue ------------------------------------------------ */

#define SMS_MSG_COLS                                                                               \
    "id, account_id, brand_id, created_ms, kind, state, priority, sender, text, commercial,"       \
    " rtype, encoding, parts, opt_out, accepted, blocked, idem_key, idem_hash"
#define SMS_RCPT_COLS                                                                              \
    "seq, recipient, outcome, gateway_id, raw_json, error, sent_ms, dlr_status, dlr_ms"

static void sms_msg_read(const iz_row_t *row, void *out)
{
    iz_sms_msg_t *m = out;
    m->id = iz_row_i64(row, 0);
    m->account_id = iz_row_i64(row, 1);
    m->brand_id = iz_row_i64(row, 2);
    m->created_ms = iz_row_i64(row, 3);
    iz_row_str(row, 4, m->kind, sizeof m->kind);
    iz_row_str(row, 5, m->state, sizeof m->state);
    m->priority = iz_row_int(row, 6);
    iz_row_str(row, 7, m->sender, sizeof m->sender);
    iz_row_str(row, 8, m->text, sizeof m->text);
    m->commercial = iz_row_int(row, 9) != 0;
    const char *rt = iz_row_text(row, 10);
    if (!rt || iz_rtype_parse(rt, &m->rtype) != 0) m->rtype = IZ_BIREYSEL;
    iz_row_str(row, 11, m->encoding, sizeof m->encoding);
    m->parts = iz_row_int(row, 12);
    m->opt_out = iz_row_int(row, 13) != 0;
    m->accepted = iz_row_i64(row, 14);
    m->blocked = iz_row_i64(row, 15);
    iz_row_str(row, 16, m->idem_key, sizeof m->idem_key);
    iz_row_str(row, 17, m->idem_hash, sizeof m->idem_hash);
}

static const iz_sq_row_t sms_msg_row = IZ_SQ_ROW(iz_sms_msg_t, sms_msg_read);

static void sms_rcpt_read(const iz_row_t *row, void *out)
{
    iz_sms_rcpt_t *r = out;
    r->seq = iz_row_i64(row, 0);
    iz_row_str(row, 1, r->recipient, sizeof r->recipient);
    iz_row_str(row, 2, r->outcome, sizeof r->outcome);
    iz_row_str(row, 3, r->gateway_id, sizeof r->gateway_id);
    r->raw_json = iz_row_int(row, 4) != 0;
    iz_row_str(row, 5, r->error, sizeof r->error);
    r->sent_ms = iz_row_i64(row, 6);
    r->dlr_status = iz_row_int(row, 7);
    r->dlr_ms = iz_row_i64(row, 8);
}

static const iz_sq_row_t sms_rcpt_row = IZ_SQ_ROW(iz_sms_rcpt_t, sms_rcpt_read);

/* A send's rows: the message, then its recipients in order. */
typedef struct sms_queue_args {
    iz_sms_msg_t *m;
    const iz_sms_item_t *items;
    size_t n;
} sms_queue_args_t;

static int sms_queue_write(iz_sq_t *s, void *arg)
{
    const sms_queue_args_t *a = arg;
    iz_sms_msg_t *m = a->m;
    const iz_sms_item_t *items = a->items;
    size_t n = a->n;
    if (m->idem_key[0]) {
        int f = iz__sq_find(s, "SELECT 1 FROM sms_messages WHERE account_id = ?1 AND idem_key = ?2",
                            IZ_SQ_ARGS(IZ_SQ_I64(m->account_id), IZ_SQ_TEXT(m->idem_key)), NULL,
                            NULL);
        if (f < 0) return f;
        if (f == 1) return IZ_EEXIST;
    }
    int64_t queued = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i].outcome, "QUEUED") == 0) queued++;
    iz_strlcpy(m->state, queued ? "QUEUED" : "DONE", sizeof m->state);
    int rc = iz__sq_write(
        s,
        "INSERT INTO sms_messages(brand_id, created_ms, sender, text, commercial, encoding, parts,"
        " accepted, blocked, account_id, kind, state, priority, rtype, opt_out, idem_key,"
        " idem_hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
        " ?17)",
        IZ_SQ_ARGS(IZ_SQ_I64(m->brand_id), IZ_SQ_I64(m->created_ms), IZ_SQ_TEXT(m->sender),
                   IZ_SQ_TEXT(m->text), IZ_SQ_I64(m->commercial), IZ_SQ_TEXT(m->encoding),
                   IZ_SQ_I64(m->parts), IZ_SQ_I64(m->accepted), IZ_SQ_I64(m->blocked),
                   IZ_SQ_I64(m->account_id), IZ_SQ_TEXT(m->kind), IZ_SQ_TEXT(m->state),
                   IZ_SQ_I64(m->priority), IZ_SQ_TEXT(iz_rtype_name(m->rtype)),
                   IZ_SQ_I64(m->opt_out), IZ_SQ_OPT(m->idem_key), IZ_SQ_OPT(m->idem_hash)),
        &m->id);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = iz__sq_run(s,
                        "INSERT INTO sms_recipients(message_id, seq, recipient, outcome, gateway_id,"
                        " raw_json) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                        IZ_SQ_ARGS(IZ_SQ_I64(m->id), IZ_SQ_I64((int64_t)i),
                                   IZ_SQ_TEXT(items[i].recipient), IZ_SQ_TEXT(items[i].outcome),
                                   IZ_SQ_OPT(items[i].msg_id), IZ_SQ_I64(items[i].raw_json)));
    return rc;
}

static int sq_sms_queue(iz_store_t *st, iz_sms_msg_t *m, const iz_sms_item_t *items, size_t n)
{
    if (iz__sq_fits(m->sender, sizeof m->sender) || iz__sq_fits(m->text, sizeof m->text) ||
        iz__sq_fits(m->idem_key, sizeof m->idem_key) || iz__sq_fits(m->kind, sizeof m->kind) ||
        iz__sq_fits(m->encoding, sizeof m->encoding))
        return IZ_ETOOBIG;
    if (!iz_rtype_name(m->rtype)) return IZ_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (strlen(items[i].recipient) >= IZ_RECIPIENT_MAX ||
            (items[i].msg_id && strlen(items[i].msg_id) >= 64))
            return IZ_ETOOBIG;
    if (!m->created_ms) m->created_ms = now_ms();
    /* Inside a transaction (an inbound message's reply) it joins it. */
    return joined_or_own(sq(st), sms_queue_write, &(sms_queue_args_t){m, items, n});
}

static int sq_sms_get(iz_store_t *st, int64_t id, const char *key, int64_t account_id,
                      iz_sms_msg_t *out)
{
    if (key)
        return iz__sq_get(sq(st),
                          "SELECT " SMS_MSG_COLS " FROM sms_messages WHERE account_id = ?1"
                          " AND idem_key = ?2",
                          IZ_SQ_ARGS(IZ_SQ_I64(account_id), IZ_SQ_TEXT(key)), &sms_msg_row, out);
    return iz__sq_get(sq(st), "SELECT " SMS_MSG_COLS " FROM sms_messages WHERE id = ?1",
                      IZ_SQ_ARGS(IZ_SQ_I64(id)), &sms_msg_row, out);
}

static int sms_count_row(void *ctx, const iz_row_t *row)
{
    iz_sms_counts_t *c = ctx;
    const char *o = iz_row_text(row, 0);
    int64_t k = iz_row_i64(row, 1);
    static const struct {
        const char *name;
        size_t off;
    } f[] = {
        {"QUEUED", offsetof(iz_sms_counts_t, queued)},
        {"SENDING", offsetof(iz_sms_counts_t, sending)},
        {"SENT", offsetof(iz_sms_counts_t, sent)},
        {"DELIVERED", offsetof(iz_sms_counts_t, delivered)},
        {"FAILED", offsetof(iz_sms_counts_t, failed)},
        {"UNKNOWN", offsetof(iz_sms_counts_t, unknown)},
        {"NO_CONSENT", offsetof(iz_sms_counts_t, no_consent)},
        {"RET", offsetof(iz_sms_counts_t, ret)},
        {"INVALID", offsetof(iz_sms_counts_t, invalid)},
    };
    for (size_t i = 0; o && i < IZ_ARRAY_LEN(f); i++)
        if (strcmp(o, f[i].name) == 0) *(int64_t *)((char *)c + f[i].off) += k;
    return 0;
}

static int sq_sms_counts(iz_store_t *st, int64_t id, iz_sms_counts_t *out)
{
    memset(out, 0, sizeof *out);
    return iz__sq_each(sq(st),
                       "SELECT outcome, count(*) FROM sms_recipients WHERE message_id = ?1"
                       " GROUP BY outcome",
                       IZ_SQ_ARGS(IZ_SQ_I64(id)), sms_count_row, out);
}

static int sq_sms_rcpts(iz_store_t *st, int64_t id, int64_t after, size_t limit,
                        bool messages_only, bool queued_only, iz_sms_rcpt_t **list, size_t *n)
{
    const iz_sq_arg_t *args =
        IZ_SQ_ARGS(IZ_SQ_I64(id), IZ_SQ_I64(after), IZ_SQ_I64((int64_t)limit));
    if (queued_only)
        return iz__sq_list(sq(st),
                           "SELECT " SMS_RCPT_COLS " FROM sms_recipients WHERE message_id = ?1"
                           " AND outcome = 'QUEUED' AND seq > ?2 ORDER BY seq LIMIT ?3",
                           args, &sms_rcpt_row, list, n);
    if (messages_only)
        return iz__sq_list(sq(st),
                           "SELECT " SMS_RCPT_COLS " FROM sms_recipients WHERE message_id = ?1"
                           " AND seq > ?2 AND gateway_id IS NOT NULL ORDER BY seq LIMIT ?3",
                           args, &sms_rcpt_row, list, n);
    return iz__sq_list(sq(st),
                       "SELECT " SMS_RCPT_COLS " FROM sms_recipients WHERE message_id = ?1"
                       " AND seq > ?2 ORDER BY seq LIMIT ?3",
                       args, &sms_rcpt_row, list, n);
}

typedef struct sms_open_row {
    int64_t id;
    int priority;
} sms_open_row_t;

static void sms_open_read(const iz_row_t *row, void *out)
{
    sms_open_row_t *o = out;
    o->id = iz_row_i64(row, 0);
    o->priority = iz_row_int(row, 1);
}

static int sq_sms_open(iz_store_t *st, size_t limit, int64_t **ids, int **prio, size_t *n)
{
    static const iz_sq_row_t row = IZ_SQ_ROW(sms_open_row_t, sms_open_read);
    sms_open_row_t *l = NULL;
    size_t k = 0;
    int rc = iz__sq_list(sq(st),
                         "SELECT id, priority FROM sms_messages WHERE state <> 'DONE'"
                         " ORDER BY priority, id LIMIT ?1",
                         IZ_SQ_ARGS(IZ_SQ_I64((int64_t)limit)), &row, &l, &k);
    if (rc != 0) return rc;
    *ids = iz_xmalloc((k ? k : 1) * sizeof **ids);
    *prio = iz_xmalloc((k ? k : 1) * sizeof **prio);
    for (size_t i = 0; i < k; i++) {
        (*ids)[i] = l[i].id;
        (*prio)[i] = l[i].priority;
    }
    free(l);
    *n = k;
    return 0;
}

static int sq_sms_move(iz_store_t *st, const iz_sms_move_t *mv, size_t n)
{
    iz_sq_t *s = sq(st);
    int rc = iz__sq_begin(s);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = iz__sq_run(
            s,
            "UPDATE sms_recipients SET outcome = CASE WHEN CAST(?3 AS TEXT) IS NULL OR outcome = ?3"
            " THEN ?4 ELSE outcome END, error = COALESCE(?5, error),"
            " sent_ms = COALESCE(?6, sent_ms) WHERE message_id = ?1 AND seq = ?2",
            IZ_SQ_ARGS(IZ_SQ_I64(mv[i].send_id), IZ_SQ_I64(mv[i].seq), IZ_SQ_OPT(mv[i].from),
                       IZ_SQ_TEXT(mv[i].to), IZ_SQ_OPT(mv[i].error), IZ_SQ_OPT_I64(mv[i].sent_ms)));
    return iz__sq_end(s, rc);
}

static int sq_sms_dlr(iz_store_t *st, iz_sms_dlr_t *d, size_t n)
{
    iz_sq_t *s = sq(st);
    int rc = iz__sq_begin(s);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        /* DELIVERED is final; 2 and 16 fail it; 4 and 8 say the gateway has
         * it (a SENDING or UNKNOWN message was sent after all). */
        int u = iz__sq_update(s,
                              "UPDATE sms_recipients SET outcome = CASE"
                              " WHEN outcome = 'DELIVERED' THEN outcome"
                              " WHEN ?2 = 1 THEN 'DELIVERED'"
                              " WHEN ?2 IN (2, 16) THEN 'FAILED'"
                              " WHEN outcome IN ('SENDING', 'UNKNOWN') THEN 'SENT'"
                              " ELSE outcome END,"
                              /* the report that decided stays: a late 8 after a 1 */
                              " dlr_status = CASE WHEN outcome = 'DELIVERED' OR (outcome ="
                              " 'FAILED' AND ?2 IN (4, 8)) THEN dlr_status ELSE ?2 END,"
                              " dlr_ms = CASE WHEN outcome = 'DELIVERED' OR (outcome = 'FAILED'"
                              " AND ?2 IN (4, 8)) THEN dlr_ms ELSE ?3 END"
                              " WHERE gateway_id = ?1",
                              IZ_SQ_ARGS(IZ_SQ_TEXT(d[i].msg_id), IZ_SQ_I64(d[i].status),
                                         IZ_SQ_I64(d[i].at_ms)));
        d[i].found = u == 0;
        if (u != 0 && u != IZ_ENOTFOUND) rc = u;
    }
    return iz__sq_end(s, rc);
}

static int sq_sms_finish(iz_store_t *st, int64_t id, bool *done)
{
    iz_sq_t *s = sq(st);
    int rc = iz__sq_run(s,
                        "UPDATE sms_messages SET state = 'DONE' WHERE id = ?1 AND state <> 'DONE'"
                        " AND NOT EXISTS (SELECT 1 FROM sms_recipients WHERE message_id = ?1"
                        " AND outcome = 'QUEUED') AND NOT EXISTS (SELECT 1 FROM sms_recipients"
                        " WHERE message_id = ?1 AND outcome = 'SENDING')",
                        IZ_SQ_ARGS(IZ_SQ_I64(id)));
    char state[8] = "";
    if (rc == 0)
        rc = iz__sq_get_text(s, "SELECT state FROM sms_messages WHERE id = ?1",
                             IZ_SQ_ARGS(IZ_SQ_I64(id)), state, sizeof state);
    *done = rc == 0 && strcmp(state, "DONE") == 0;
    return rc;
}

static int sq_sms_recover(iz_store_t *st, int64_t *n)
{
    iz_sq_t *s = sq(st);
    return iz__sq_changes(s,
                          "UPDATE sms_recipients SET outcome = 'UNKNOWN', error = 'izin stopped"
                          " while handing it to the gateway; not sent again'"
                          " WHERE outcome = 'SENDING'",
                          NULL, n);
}

static int sq_sms_backlog(iz_store_t *st, int64_t *n)
{
    *n = 0;
    return iz__sq_get(sq(st), "SELECT count(*) FROM sms_recipients WHERE outcome = 'QUEUED'", NULL,
                      &iz__sq_i64_row, n);
}

static int voice_number(iz_sq_t *s, int64_t id, size_t i, const void *items)
{
    const iz_voice_number_t *v = (const iz_voice_number_t *)items + i;
    return iz__sq_run(
        s,
        "INSERT INTO voice_numbers(campaign_id, seq, recipient, outcome)"
        " VALUES(?1, ?2, ?3, ?4)",
        IZ_SQ_ARGS(IZ_SQ_I64(id), IZ_SQ_I64(i), IZ_SQ_TEXT(v->recipient), IZ_SQ_TEXT(v->outcome)));
}

static int sq_voice_add(iz_store_t *st, iz_voice_campaign_t *c, const iz_voice_number_t *nums,
                        size_t n)
{
    const char *rt = iz_rtype_name(c->rtype);
    if (!rt || iz__sq_fits(c->name, sizeof c->name)) return IZ_EINVAL;
    int64_t created = c->created_ms ? c->created_ms : now_ms(), id = 0;
    int rc =
        record_send(sq(st),
                    "INSERT INTO voice_campaigns(brand_id, account_id, name, commercial,"
                    " rtype, created_ms, allowed, blocked)"
                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    IZ_SQ_ARGS(IZ_SQ_I64(c->brand_id), IZ_SQ_I64(c->account_id),
                               IZ_SQ_TEXT(c->name), IZ_SQ_I64(c->commercial), IZ_SQ_TEXT(rt),
                               IZ_SQ_I64(created), IZ_SQ_I64(c->allowed), IZ_SQ_I64(c->blocked)),
                    n, voice_number, nums, &id);
    if (rc == 0) {
        c->id = id;
        c->created_ms = created;
    }
    return rc;
}

static void voice_read(const iz_row_t *row, void *out)
{
    iz_voice_campaign_t *c = out;
    const char *t;
    c->id = iz_row_i64(row, 0);
    c->brand_id = iz_row_i64(row, 1);
    c->account_id = iz_row_i64(row, 2);
    iz_row_str(row, 3, c->name, sizeof c->name);
    c->commercial = iz_row_int(row, 4) != 0;
    if ((t = iz_row_text(row, 5))) (void)iz_rtype_parse(t, &c->rtype);
    c->created_ms = iz_row_i64(row, 6);
    c->allowed = iz_row_i64(row, 7);
    c->blocked = iz_row_i64(row, 8);
}

static const iz_sq_row_t voice_row = IZ_SQ_ROW(iz_voice_campaign_t, voice_read);

static int sq_voice_get(iz_store_t *st, int64_t id, iz_voice_campaign_t *out)
{
    return iz__sq_get(sq(st),
                      "SELECT id, brand_id, account_id, name, commercial, rtype, created_ms,"
                      " allowed, blocked FROM voice_campaigns WHERE id = ?1",
                      IZ_SQ_ARGS(IZ_SQ_I64(id)), &voice_row, out);
}

static int sq_voice_of_brand(iz_store_t *st, int64_t brand_id, size_t limit,
                             iz_voice_campaign_t **list, size_t *n)
{
    return iz__sq_list(sq(st),
                       "SELECT id, brand_id, account_id, name, commercial, rtype, created_ms,"
                       " allowed, blocked FROM voice_campaigns WHERE brand_id = ?1"
                       " ORDER BY id DESC LIMIT ?2",
                       IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_I64((int64_t)limit)), &voice_row, list,
                       n);
}

static void number_read(const iz_row_t *row, void *out)
{
    iz_voice_number_t *v = out;
    iz_row_str(row, 0, v->recipient, sizeof v->recipient);
    iz_row_str(row, 1, v->outcome, sizeof v->outcome);
}

static int sq_voice_numbers(iz_store_t *st, int64_t id, bool allowed_only, iz_voice_number_t **list,
                            size_t *n)
{
    static const iz_sq_row_t number_row = IZ_SQ_ROW(iz_voice_number_t, number_read);
    return iz__sq_list(sq(st),
                       "SELECT recipient, outcome FROM voice_numbers WHERE campaign_id = ?1"
                       " AND (?2 = 0 OR outcome = 'ALLOWED') ORDER BY seq",
                       IZ_SQ_ARGS(IZ_SQ_I64(id), IZ_SQ_I64(allowed_only)), &number_row, list, n);
}

/* ---- İYS changes that could not be applied -------------------------------- */

/* ---- bulk jobs ---------------------------------------------------------------- */

#define JOB_COLS                                                                                   \
    "id, account_id, brand_id, state, format, path, total, processed, accepted, rejected,"         \
    " resume_line, error, warnings, created_ms, started_ms, updated_ms, finished_ms, owner"

static void job_read(const iz_row_t *row, void *out)
{
    iz_job_t *j = out;
    iz_row_str(row, 0, j->id, sizeof j->id);
    j->account_id = iz_row_i64(row, 1);
    j->brand_id = iz_row_i64(row, 2);
    iz_row_str(row, 3, j->state, sizeof j->state);
    iz_row_str(row, 4, j->format, sizeof j->format);
    iz_row_str(row, 5, j->path, sizeof j->path);
    j->total = iz_row_i64(row, 6);
    j->processed = iz_row_i64(row, 7);
    j->accepted = iz_row_i64(row, 8);
    j->rejected = iz_row_i64(row, 9);
    j->resume_line = iz_row_i64(row, 10);
    iz_row_str(row, 11, j->error, sizeof j->error);
    iz_row_str(row, 12, j->warnings, sizeof j->warnings);
    j->created_ms = iz_row_i64(row, 13);
    j->started_ms = iz_row_i64(row, 14);
    j->updated_ms = iz_row_i64(row, 15);
    j->finished_ms = iz_row_i64(row, 16);
    iz_row_str(row, 17, j->owner, sizeof j->owner);
}

static const iz_sq_row_t job_row = IZ_SQ_ROW(iz_job_t, job_read);

static int sq_job_add(iz_store_t *st, const iz_job_t *j)
{
    return iz__sq_run(sq(st),
                      "INSERT INTO jobs(id, account_id, brand_id, state, format, path, total,"
                      " created_ms, updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                      IZ_SQ_ARGS(IZ_SQ_TEXT(j->id), IZ_SQ_I64(j->account_id),
                                 IZ_SQ_I64(j->brand_id), IZ_SQ_TEXT(j->state),
                                 IZ_SQ_TEXT(j->format), IZ_SQ_TEXT(j->path), IZ_SQ_I64(j->total),
                                 IZ_SQ_I64(j->created_ms)));
}

static int sq_job_get(iz_store_t *st, const char *id, iz_job_t *out)
{
    return iz__sq_get(sq(st), "SELECT " JOB_COLS " FROM jobs WHERE id = ?1",
                      IZ_SQ_ARGS(IZ_SQ_TEXT(id)), &job_row, out);
}

static int sq_jobs_open(iz_store_t *st, iz_job_t **list, size_t *n)
{
    return iz__sq_list(sq(st),
                       "SELECT " JOB_COLS " FROM jobs WHERE state IN ('QUEUED', 'RUNNING')"
                       " ORDER BY created_ms, id",
                       NULL, &job_row, list, n);
}

static int sq_jobs_of_brand(iz_store_t *st, int64_t brand_id, size_t limit, iz_job_t **list,
                            size_t *n)
{
    return iz__sq_list(sq(st),
                       "SELECT " JOB_COLS " FROM jobs WHERE brand_id = ?1"
                       " ORDER BY created_ms DESC, id LIMIT ?2",
                       IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_I64((int64_t)limit)), &job_row, list,
                       n);
}

/* A job's step: its row and its new rejected rows. */
typedef struct job_step_args {
    const iz_job_t *j;
    const iz_job_error_t *errs;
    size_t n;
} job_step_args_t;

static int job_write(iz_sq_t *s, void *arg)
{
    const job_step_args_t *a = arg;
    const iz_job_t *j = a->j;
    const iz_job_error_t *errs = a->errs;
    size_t n = a->n;
    int rc = iz__sq_run(s,
                        "UPDATE jobs SET state = ?2, total = ?3, processed = ?4, accepted = ?5,"
                        " rejected = ?6, resume_line = ?7, error = ?8, warnings = ?9,"
                        " started_ms = ?10, updated_ms = ?11, finished_ms = ?12, owner = ?13"
                        " WHERE id = ?1",
                        IZ_SQ_ARGS(IZ_SQ_TEXT(j->id), IZ_SQ_TEXT(j->state), IZ_SQ_I64(j->total),
                                   IZ_SQ_I64(j->processed), IZ_SQ_I64(j->accepted),
                                   IZ_SQ_I64(j->rejected), IZ_SQ_I64(j->resume_line),
                                   IZ_SQ_OPT(j->error), IZ_SQ_OPT(j->warnings),
                                   IZ_SQ_OPT_I64(j->started_ms), IZ_SQ_I64(j->updated_ms),
                                   IZ_SQ_OPT_I64(j->finished_ms), IZ_SQ_OPT(j->owner)));
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = iz__sq_run(s,
                        "INSERT INTO job_errors(job_id, line, code, message, raw)"
                        " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                        IZ_SQ_ARGS(IZ_SQ_TEXT(j->id), IZ_SQ_I64(errs[i].line),
                                   IZ_SQ_TEXT(errs[i].code), IZ_SQ_TEXT(errs[i].message),
                                   IZ_SQ_TEXT(errs[i].raw)));
    return rc;
}

static int sq_job_step(iz_store_t *st, const iz_job_t *j, const iz_job_error_t *errs, size_t n)
{
    /* Inside a batch's transaction (iz_store_then_fn) it joins it. */
    return joined_or_own(sq(st), job_write, &(job_step_args_t){j, errs, n});
}

static void job_error_read(const iz_row_t *row, void *out)
{
    iz_job_error_t *e = out;
    e->line = iz_row_i64(row, 0);
    iz_row_str(row, 1, e->code, sizeof e->code);
    iz_row_str(row, 2, e->message, sizeof e->message);
    iz_row_str(row, 3, e->raw, sizeof e->raw);
}

static const iz_sq_row_t job_error_row = IZ_SQ_ROW(iz_job_error_t, job_error_read);

static int sq_job_errors(iz_store_t *st, const char *id, int64_t after, size_t limit,
                         iz_job_error_t **list, size_t *n)
{
    return iz__sq_list(sq(st),
                       "SELECT line, code, message, raw FROM job_errors WHERE job_id = ?1"
                       " AND line > ?2 ORDER BY line LIMIT ?3",
                       IZ_SQ_ARGS(IZ_SQ_TEXT(id), IZ_SQ_I64(after),
                                  IZ_SQ_I64(limit > 100000 ? 100000 : (int64_t)limit)),
                       &job_error_row, list, n);
}

static int sq_quarantine_add(iz_store_t *st, int64_t brand_id, const char *via, const char *source,
                             const char *raw, const char *reason)
{
    char hash[IZ_SHA256_HEX];
    iz_sha256_hex(raw, strlen(raw), hash);
    /* The same item again (a page pulled again after a crash) is kept once:
     * the INSERT then changes no row. */
    int rc = iz__sq_update(sq(st),
                           "INSERT INTO iys_quarantine(brand_id, via, source, raw,"
                           " raw_hash, reason, created_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                           " ON CONFLICT DO NOTHING",
                           IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_TEXT(via), IZ_SQ_OPT(source),
                                      IZ_SQ_TEXT(raw), IZ_SQ_TEXT(hash), IZ_SQ_TEXT(reason),
                                      IZ_SQ_I64(now_ms())));
    return rc == IZ_ENOTFOUND ? IZ_REPEAT : rc;
}

static void quarantine_read(const iz_row_t *row, void *out)
{
    iz_quarantine_t *q = out;
    const char *raw = iz_row_text(row, 4);
    q->id = iz_row_i64(row, 0);
    q->brand_id = iz_row_i64(row, 1);
    iz_row_str(row, 2, q->via, sizeof q->via);
    iz_row_str(row, 3, q->source, sizeof q->source);
    q->raw = iz_xstrdup(raw ? raw : "");
    iz_row_str(row, 5, q->reason, sizeof q->reason);
    q->created_ms = iz_row_i64(row, 6);
}

static int sq_quarantine_list(iz_store_t *st, int64_t brand_id, int64_t after_id, size_t limit,
                              iz_quarantine_t **list, size_t *n)
{
    static const iz_sq_row_t quarantine_row =
        IZ_SQ_ROW_OWNING(iz_quarantine_t, quarantine_read, raw);
    return iz__sq_list(sq(st),
                       "SELECT id, brand_id, via, source, raw, reason, created_ms"
                       " FROM iys_quarantine WHERE brand_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                       IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_I64(after_id),
                                  IZ_SQ_I64(limit > 10000 ? 10000 : limit)),
                       &quarantine_row, list, n);
}

static int sq_quarantine_count(iz_store_t *st, int64_t *n)
{
    return iz__sq_get(sq(st), "SELECT count(*) FROM iys_quarantine", NULL, &iz__sq_i64_row, n);
}

/* ---- daily reconciliation (v11) ---------------------------------------------- */

static int sq_change_get(iz_store_t *st, int64_t id, iz_change_t *out)
{
    iz_sq_t *s = sq(st);
    seg_buf_t b = {0};
    iz__sq_lock(s);
    int rc = change_at(s, id, &b, out);
    iz__sq_unlock(s);
    seg_buf_free(&b);
    return rc;
}

static int sq_log_max(iz_store_t *st, int64_t *id)
{
    return iz__sq_get(sq(st),
                      "SELECT max(v) FROM (SELECT coalesce(max(id), 0) AS v FROM consent_log"
                      " UNION ALL SELECT coalesce(max(first_id + count - 1), 0)"
                      " FROM log_segments) AS ends",
                      NULL, &iz__sq_i64_row, id);
}

static int sq_log_after(iz_store_t *st, int64_t after_id, size_t limit, iz_change_t **list,
                        size_t *n)
{
    return changes_read(st, 0, after_id, limit, list, n);
}

static int sq_changes_by_txid(iz_store_t *st, int64_t brand_id, const char *txid,
                              iz_change_t **list, size_t *n)
{
    iz_sq_t *s = sq(st);
    iz__sq_lock(s);
    int rc = iz__sq_list(
        s,
        "SELECT " CHG_COLS " FROM consent_log l WHERE l.iys_txid = ?2"
        " AND +l.brand_id = ?1 ORDER BY l.id LIMIT ?3", /* (+: as in change_by_txid) */
        IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_TEXT(txid), IZ_SQ_I64(IZ_TXID_CHANGES_MAX)),
        &change_row, list, n);
    /* And the segments' entries İYS answered with it. */
    int64_t *ids = NULL;
    size_t ni = 0;
    if (rc == 0)
        rc = iz__sq_list(s,
                         "SELECT log_id FROM segment_results WHERE iys_txid = ?1"
                         " ORDER BY log_id LIMIT ?2",
                         IZ_SQ_ARGS(IZ_SQ_TEXT(txid), IZ_SQ_I64(IZ_TXID_CHANGES_MAX)),
                         &iz__sq_i64_row, &ids, &ni);
    seg_buf_t b = {0};
    for (size_t i = 0; rc == 0 && i < ni && *n < IZ_TXID_CHANGES_MAX; i++) {
        iz_change_t c;
        int f = change_at(s, ids[i], &b, &c);
        if (f != 0 && f != IZ_ENOTFOUND) rc = f;
        if (f != 0 || c.brand_id != brand_id) continue;
        *list = iz_xrealloc(*list, (*n + 1) * sizeof **list);
        (*list)[(*n)++] = c;
    }
    seg_buf_free(&b);
    free(ids);
    iz__sq_unlock(s);
    return rc;
}

static int sq_iys_day_ids(iz_store_t *st, int64_t brand_id, const char *day, int64_t after_id,
                          size_t limit, int64_t **ids, size_t *n)
{
    return iz__sq_list(sq(st),
                       "SELECT log_id FROM iys_days WHERE brand_id = ?1 AND day = ?2"
                       " AND log_id > ?3 ORDER BY log_id LIMIT ?4",
                       IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_TEXT(day), IZ_SQ_I64(after_id),
                                  IZ_SQ_I64((int64_t)limit)),
                       &iz__sq_i64_row, ids, n);
}

typedef struct span {
    int64_t count, min, max;
} span_t;

static void span_read(const iz_row_t *row, void *out)
{
    span_t *p = out;
    p->count = iz_row_i64(row, 0);
    p->min = iz_row_i64(row, 1);
    p->max = iz_row_i64(row, 2);
}

static const iz_sq_row_t span_row = IZ_SQ_ROW(span_t, span_read);

static int sq_iys_day_span(iz_store_t *st, int64_t brand_id, const char *day, int64_t *count,
                           int64_t *min_id, int64_t *max_id)
{
    span_t p = {0};
    int rc = iz__sq_get(sq(st),
                        "SELECT count(*), coalesce(min(log_id), 0), coalesce(max(log_id), 0)"
                        " FROM iys_days WHERE brand_id = ?1 AND day = ?2",
                        IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_TEXT(day)), &span_row, &p);
    *count = p.count;
    *min_id = p.min;
    *max_id = p.max;
    return rc;
}

static int sq_recon_put(iz_store_t *st, const iz_recon_t *r)
{
    return iz__sq_run(
        sq(st),
        "INSERT INTO iys_recon(brand_id, report_date, status, rows, matched, repaired, pending,"
        " mismatched, hash, agreed, agreed_ms, tsr, details, error, started_ms, finished_ms)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
        " ON CONFLICT(brand_id, report_date) DO UPDATE SET status = excluded.status,"
        " rows = excluded.rows, matched = excluded.matched, repaired = excluded.repaired,"
        " pending = excluded.pending, mismatched = excluded.mismatched, hash = excluded.hash,"
        " agreed = excluded.agreed, agreed_ms = excluded.agreed_ms, tsr = excluded.tsr,"
        " details = excluded.details, error = excluded.error, started_ms = excluded.started_ms,"
        " finished_ms = excluded.finished_ms",
        IZ_SQ_ARGS(IZ_SQ_I64(r->brand_id), IZ_SQ_TEXT(r->date), IZ_SQ_TEXT(r->status),
                   IZ_SQ_I64(r->rows), IZ_SQ_I64(r->matched), IZ_SQ_I64(r->repaired),
                   IZ_SQ_I64(r->pending), IZ_SQ_I64(r->mismatched), IZ_SQ_OPT(r->hash),
                   IZ_SQ_I64(r->agreed), IZ_SQ_OPT_I64(r->agreed_ms),
                   r->tsr ? IZ_SQ_BLOB(r->tsr, r->tsr_len) : IZ_SQ_NULL, IZ_SQ_OPT(r->details),
                   IZ_SQ_OPT(r->error), IZ_SQ_I64(r->started_ms), IZ_SQ_I64(r->finished_ms)));
}

static void recon_read(const iz_row_t *row, void *out)
{
    iz_recon_t *r = out;
    r->brand_id = iz_row_i64(row, 0);
    iz_row_str(row, 1, r->date, sizeof r->date);
    iz_row_str(row, 2, r->status, sizeof r->status);
    r->rows = iz_row_i64(row, 3);
    r->matched = iz_row_i64(row, 4);
    r->repaired = iz_row_i64(row, 5);
    r->pending = iz_row_i64(row, 6);
    r->mismatched = iz_row_i64(row, 7);
    iz_row_str(row, 8, r->hash, sizeof r->hash);
    r->agreed = iz_row_i64(row, 9) != 0;
    r->agreed_ms = iz_row_i64(row, 10);
    const void *tsr = iz_row_blob(row, 11);
    size_t tl = iz_row_bytes(row, 11);
    if (tsr && tl > 0) {
        r->tsr = iz_xmalloc(tl);
        memcpy(r->tsr, tsr, tl);
        r->tsr_len = tl;
    }
    const char *d = iz_row_text(row, 12);
    if (d) r->details = iz_xstrdup(d);
    iz_row_str(row, 13, r->error, sizeof r->error);
    r->started_ms = iz_row_i64(row, 14);
    r->finished_ms = iz_row_i64(row, 15);
}

/* A failed list frees the rows' details; their timestamp replies are lost
 * with the process's memory only in that rare case. */
static const iz_sq_row_t recon_row = IZ_SQ_ROW_OWNING(iz_recon_t, recon_read, details);

#define RECON_COLS                                                                                 \
    "brand_id, report_date, status, rows, matched, repaired, pending, mismatched, hash, agreed,"   \
    " agreed_ms, tsr, details, error, started_ms, finished_ms"

static int sq_recon_list(iz_store_t *st, int64_t brand_id, const char *date, size_t limit,
                         iz_recon_t **list, size_t *n)
{
    int rc = iz__sq_list(
        sq(st),
        "SELECT " RECON_COLS " FROM iys_recon WHERE brand_id = ?1"
        " AND (CAST(?2 AS TEXT) IS NULL OR report_date = ?2) ORDER BY report_date DESC"
        " LIMIT ?3",
        IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_OPT(date), IZ_SQ_I64(limit ? (int64_t)limit : -1)),
        &recon_row, list, n);
    return rc;
}

static void counts_read(const iz_row_t *row, void *out)
{
    int64_t *c = out;
    for (int i = 0; i < 4; i++)
        c[i] = iz_row_i64(row, i);
}

static const iz_sq_row_t counts_row = {.size = 4 * sizeof(int64_t), .read = counts_read};

static int sq_recon_counts(iz_store_t *st, int64_t counts[4])
{
    return iz__sq_get(
        sq(st),
        "SELECT count(*) FILTER (WHERE status = 'MATCHED'),"
        " count(*) FILTER (WHERE status = 'REPAIRED'), count(*) FILTER (WHERE status = 'MISMATCH'),"
        " count(*) FILTER (WHERE status = 'FAILED') FROM iys_recon",
        NULL, &counts_row, counts);
}

/* ---- a brand's retailers ----------------------------------------------------- */

#define RETAILER_COLS                                                                              \
    "code, title, name, alias, tckn, tin, mersis, mobile, city_code, city_name, town_code,"        \
    " town_name, status, access_count"

/* A retailer's text fields in RETAILER_COLS order (after code), and their
 * buffers' sizes. */
#define RETAILER_TEXTS 12
static void retailer_texts(const iz_retailer_t *r, char *f[RETAILER_TEXTS],
                           size_t sz[RETAILER_TEXTS])
{
    iz_retailer_t *w = (iz_retailer_t *)r; /* the caller's constness is its own */
    char *const t[RETAILER_TEXTS] = {w->title,     w->name,      w->alias,     w->tckn,
                                     w->tin,       w->mersis,    w->mobile,    w->city_code,
                                     w->city_name, w->town_code, w->town_name, w->status};
    const size_t s[RETAILER_TEXTS] = {sizeof w->title,     sizeof w->name,      sizeof w->alias,
                                      sizeof w->tckn,      sizeof w->tin,       sizeof w->mersis,
                                      sizeof w->mobile,    sizeof w->city_code, sizeof w->city_name,
                                      sizeof w->town_code, sizeof w->town_name, sizeof w->status};
    memcpy(f, t, sizeof t);
    memcpy(sz, s, sizeof s);
}

static int retailer_check(const iz_retailer_t *r)
{
    char *f[RETAILER_TEXTS];
    size_t sz[RETAILER_TEXTS];
    retailer_texts(r, f, sz);
    for (size_t i = 0; i < RETAILER_TEXTS; i++)
        if (iz__sq_fits(f[i], sz[i])) return IZ_ETOOBIG;
    return r->code > 0 ? 0 : IZ_EINVAL;
}

static int retailer_write(iz_sq_t *s, int64_t brand_id, const iz_retailer_t *r)
{
    int rc = retailer_check(r);
    if (rc != 0) return rc;
    return iz__sq_run(
        s,
        "INSERT INTO retailers(brand_id, " RETAILER_COLS ", updated_ms)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
        " ON CONFLICT(brand_id, code) DO UPDATE SET title = excluded.title,"
        " name = excluded.name, alias = excluded.alias, tckn = excluded.tckn,"
        " tin = excluded.tin, mersis = excluded.mersis, mobile = excluded.mobile,"
        " city_code = excluded.city_code, city_name = excluded.city_name,"
        " town_code = excluded.town_code, town_name = excluded.town_name,"
        " status = excluded.status, access_count = excluded.access_count,"
        " updated_ms = excluded.updated_ms",
        IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_I64(r->code), IZ_SQ_TEXT(r->title),
                   IZ_SQ_TEXT(r->name), IZ_SQ_TEXT(r->alias), IZ_SQ_TEXT(r->tckn),
                   IZ_SQ_TEXT(r->tin), IZ_SQ_TEXT(r->mersis), IZ_SQ_TEXT(r->mobile),
                   IZ_SQ_TEXT(r->city_code), IZ_SQ_TEXT(r->city_name), IZ_SQ_TEXT(r->town_code),
                   IZ_SQ_TEXT(r->town_name), IZ_SQ_TEXT(r->status), IZ_SQ_I64(r->access_count),
                   IZ_SQ_I64(now_ms())));
}

typedef struct retailers_arg {
    int64_t brand_id;
    const iz_retailer_t *list;
    size_t n;
} retailers_arg_t;

static int retailers_replace(iz_sq_t *s, void *ctx)
{
    const retailers_arg_t *a = ctx;
    int rc = iz__sq_run(s, "DELETE FROM retailers WHERE brand_id = ?1",
                        IZ_SQ_ARGS(IZ_SQ_I64(a->brand_id)));
    for (size_t i = 0; rc == 0 && i < a->n; i++)
        rc = retailer_write(s, a->brand_id, &a->list[i]);
    if (rc == 0)
        rc = iz__sq_run(s,
                        "INSERT INTO retailer_lists(brand_id, synced_ms) VALUES(?1, ?2)"
                        " ON CONFLICT(brand_id) DO UPDATE SET synced_ms = excluded.synced_ms",
                        IZ_SQ_ARGS(IZ_SQ_I64(a->brand_id), IZ_SQ_I64(now_ms())));
    return rc;
}

static int sq_retailers_set(iz_store_t *st, int64_t brand_id, const iz_retailer_t *list, size_t n)
{
    retailers_arg_t a = {.brand_id = brand_id, .list = list, .n = n};
    return joined_or_own(sq(st), retailers_replace, &a);
}

static int sq_retailer_put(iz_store_t *st, int64_t brand_id, const iz_retailer_t *r)
{
    iz_sq_t *s = sq(st);
    iz__sq_lock(s);
    int rc = retailer_write(s, brand_id, r);
    iz__sq_unlock(s);
    return rc;
}

static int sq_retailer_remove(iz_store_t *st, int64_t brand_id, int64_t code)
{
    return iz__sq_update(sq(st), "DELETE FROM retailers WHERE brand_id = ?1 AND code = ?2",
                         IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_I64(code)));
}

static void retailer_read(const iz_row_t *row, void *out)
{
    iz_retailer_t *r = out;
    char *f[RETAILER_TEXTS];
    size_t sz[RETAILER_TEXTS];
    retailer_texts(r, f, sz);
    r->code = iz_row_i64(row, 0);
    for (int i = 0; i < RETAILER_TEXTS; i++)
        iz_row_str(row, i + 1, f[i], sz[i]);
    r->access_count = iz_row_i64(row, RETAILER_TEXTS + 1);
}

static const iz_sq_row_t retailer_row = IZ_SQ_ROW(iz_retailer_t, retailer_read);

/* When the brand's list was last read whole (0: never), inside the caller's
 * lock. */
static int synced_at(iz_sq_t *s, int64_t brand_id, int64_t *synced_ms)
{
    *synced_ms = 0;
    int rc = iz__sq_find(s, "SELECT synced_ms FROM retailer_lists WHERE brand_id = ?1",
                         IZ_SQ_ARGS(IZ_SQ_I64(brand_id)), &iz__sq_i64_row, synced_ms);
    return rc < 0 ? rc : 0;
}

/* The brand's retailers by sql (?1 the brand, rows of row type row) into
 * *list and *n, and when the list was read whole, in one snapshot. */
static int retailers_read(iz_store_t *st, int64_t brand_id, const char *sql, const iz_sq_row_t *row,
                          void *list, size_t *n, int64_t *synced_ms)
{
    iz_sq_t *s = sq(st);
    *(void **)list = NULL;
    *n = 0;
    int rc = iz__sq_begin_read(s);
    if (rc == 0) rc = synced_at(s, brand_id, synced_ms);
    if (rc == 0) rc = iz__sq_list(s, sql, IZ_SQ_ARGS(IZ_SQ_I64(brand_id)), row, list, n);
    return iz__sq_end(s, rc);
}

static int sq_retailers_get(iz_store_t *st, int64_t brand_id, iz_retailer_t **list, size_t *n,
                            int64_t *synced_ms)
{
    return retailers_read(
        st, brand_id, "SELECT " RETAILER_COLS " FROM retailers WHERE brand_id = ?1 ORDER BY code",
        &retailer_row, list, n, synced_ms);
}

static int sq_retailer_codes(iz_store_t *st, int64_t brand_id, int64_t **codes, size_t *n,
                             int64_t *synced_ms)
{
    return retailers_read(st, brand_id,
                          "SELECT code FROM retailers WHERE brand_id = ?1 ORDER BY code",
                          &iz__sq_i64_row, codes, n, synced_ms);
}

/* ---- İYS tokens ----------------------------------------------------------- */

/* A sealed token: "sb1:" + base64 of nonce, MAC and up to
 * IZ_IYS_TOKEN_MAX - 1 bytes (5520 bytes at most), with room to spare. */
#define SEALED_TOKEN_MAX 6144

/* An iys_tokens row as read: the state and its sealed tokens, opened after
 * the read (the reader has no key). */
typedef struct token_row {
    iz_iys_token_t t;
    char access[SEALED_TOKEN_MAX], refresh[SEALED_TOKEN_MAX];
    bool too_long;
} token_row_t;

static void token_read(const iz_row_t *rw, void *out)
{
    token_row_t *row = out;
    const char *a = iz_row_text(rw, 0), *r = iz_row_text(rw, 1);
    if ((a && iz_strlcpy(row->access, a, sizeof row->access) != 0) ||
        (r && iz_strlcpy(row->refresh, r, sizeof row->refresh) != 0))
        row->too_long = true;
    row->t.access_exp = iz_row_i64(rw, 2);
    row->t.refresh_exp = iz_row_i64(rw, 3);
    row->t.blocked_until = iz_row_i64(rw, 4);
    row->t.updated_ms = iz_row_i64(rw, 5);
}

/* Open a sealed token into out ("" stays ""). */
static int token_open(const iz_seal_key_t *k, const char *sealed, char *out, size_t outsz)
{
    out[0] = '\0';
    return sealed[0] ? iz_unseal(k, sealed, out, outsz) : 0;
}

/* Read a token state with sql (iys_tokens or iys_partner_tokens: ?1 the
 * key, ?2 the base URL, ?3 the user) and open its tokens. */
static int token_get(iz_store_t *st, const char *sql, int64_t key, const char *base_url,
                     const char *username, iz_iys_token_t *out)
{
    static const iz_sq_row_t token_row = IZ_SQ_ROW(token_row_t, token_read);
    sq_store_t *ss = (sq_store_t *)st;
    token_row_t row;
    /* Only a pair issued by this İYS to this user will do: after the
     * account's settings change, the stored one is none. */
    if (iz__sq_fits(base_url, sizeof row.t.base_url) ||
        iz__sq_fits(username, sizeof row.t.username))
        return IZ_ENOTFOUND;
    int rc = iz__sq_get(&ss->q, sql,
                        IZ_SQ_ARGS(IZ_SQ_I64(key), IZ_SQ_TEXT(base_url), IZ_SQ_TEXT(username)),
                        &token_row, &row);
    if (rc == 0) {
        iz_strlcpy(row.t.base_url, base_url, sizeof row.t.base_url);
        iz_strlcpy(row.t.username, username, sizeof row.t.username);
        if (row.too_long ||
            token_open(&ss->key, row.access, row.t.access, sizeof row.t.access) != 0 ||
            token_open(&ss->key, row.refresh, row.t.refresh, sizeof row.t.refresh) != 0) {
            iz_logf(IZ_LOG_WARN, "store", "cannot open stored İYS tokens", "key=%lld",
                    (long long)key);
            rc = IZ_ENOTFOUND;
        } else {
            *out = row.t;
        }
    }
    iz_wipe(&row, sizeof row);
    return rc;
}

/* Seal and write a token state with sql (?1 the key, then base_url,
 * username, access, refresh, access_exp, refresh_exp, blocked_until,
 * updated_ms). */
static int token_put(iz_store_t *st, const char *sql, int64_t key, const iz_iys_token_t *t)
{
    if (iz__sq_fits(t->base_url, sizeof t->base_url) ||
        iz__sq_fits(t->username, sizeof t->username) || iz__sq_fits(t->access, sizeof t->access) ||
        iz__sq_fits(t->refresh, sizeof t->refresh))
        return IZ_ETOOBIG;
    sq_store_t *ss = (sq_store_t *)st;
    char *a = NULL, *r = NULL;
    int rc = 0;
    if ((t->access[0] && !(a = iz_seal(&ss->key, t->access, strlen(t->access)))) ||
        (t->refresh[0] && !(r = iz_seal(&ss->key, t->refresh, strlen(t->refresh)))))
        rc = IZ_EIO; /* no randomness: nothing is written in clear instead */
    if (rc == 0)
        rc = iz__sq_write(
            &ss->q, sql,
            IZ_SQ_ARGS(IZ_SQ_I64(key), IZ_SQ_TEXT(t->base_url), IZ_SQ_TEXT(t->username),
                       IZ_SQ_TEXT(a ? a : ""), IZ_SQ_TEXT(r ? r : ""), IZ_SQ_I64(t->access_exp),
                       IZ_SQ_I64(t->refresh_exp), IZ_SQ_I64(t->blocked_until), IZ_SQ_I64(now_ms())),
            NULL);
    free(a);
    free(r);
    return rc;
}

/* The two token tables: an account's own user's, and a partner's (v11). */
typedef struct token_table {
    const char *get, *put;
} token_table_t;

static const token_table_t account_tokens = {
    .get = "SELECT access, refresh, access_exp, refresh_exp, blocked_until, updated_ms"
           " FROM iys_tokens WHERE account_id = ?1 AND base_url = ?2 AND username = ?3",
    .put = "INSERT INTO iys_tokens(account_id, base_url, username, access, refresh, access_exp,"
           " refresh_exp, blocked_until, updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
           " ON CONFLICT(account_id) DO UPDATE SET base_url = excluded.base_url,"
           " username = excluded.username, access = excluded.access,"
           " refresh = excluded.refresh, access_exp = excluded.access_exp,"
           " refresh_exp = excluded.refresh_exp, blocked_until = excluded.blocked_until,"
           " updated_ms = excluded.updated_ms",
};

static const token_table_t partner_tokens = {
    .get = "SELECT access, refresh, access_exp, refresh_exp, blocked_until, updated_ms"
           " FROM iys_partner_tokens WHERE integrator_code = ?1 AND base_url = ?2"
           " AND username = ?3",
    .put = "INSERT INTO iys_partner_tokens(integrator_code, base_url, username, access, refresh,"
           " access_exp, refresh_exp, blocked_until, updated_ms)"
           " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
           " ON CONFLICT(integrator_code, base_url) DO UPDATE SET username = excluded.username,"
           " access = excluded.access, refresh = excluded.refresh,"
           " access_exp = excluded.access_exp, refresh_exp = excluded.refresh_exp,"
           " blocked_until = excluded.blocked_until, updated_ms = excluded.updated_ms",
};

static int sq_iys_token_get(iz_store_t *st, int64_t account_id, const char *base_url,
                            const char *username, iz_iys_token_t *out)
{
    return token_get(st, account_tokens.get, account_id, base_url, username, out);
}

static int sq_iys_token_put(iz_store_t *st, int64_t account_id, const iz_iys_token_t *t)
{
    return token_put(st, account_tokens.put, account_id, t);
}

static int sq_iys_partner_token_get(iz_store_t *st, int64_t code, const char *base_url,
                                    const char *username, iz_iys_token_t *out)
{
    return token_get(st, partner_tokens.get, code, base_url, username, out);
}

static int sq_iys_partner_token_put(iz_store_t *st, int64_t code, const iz_iys_token_t *t)
{
    return token_put(st, partner_tokens.put, code, t);
}

/* ---- v11: held changes, İYS standings --------------------------------------- */

static int sq_outbox_due_now(iz_store_t *st, int64_t account_id, int64_t now)
{
    return iz__sq_run(sq(st),
                      "UPDATE outbox SET next_ms = ?2 WHERE account_id = ?1 AND state = 'PENDING'"
                      " AND next_ms > ?2",
                      IZ_SQ_ARGS(IZ_SQ_I64(account_id), IZ_SQ_I64(now)));
}

static int sq_iys_standing_put(iz_store_t *st, int64_t account_id, bool sending, const char *reason,
                               const char *json)
{
    if (strlen(reason) >= sizeof((iz_iys_standing_t *)0)->reason ||
        strlen(json) >= IZ_STANDING_JSON_MAX)
        return IZ_ETOOBIG;
    return iz__sq_write(sq(st),
                        "INSERT INTO iys_standing(account_id, sending, reason, json, updated_ms)"
                        " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(account_id) DO UPDATE SET"
                        " sending = excluded.sending, reason = excluded.reason,"
                        " json = excluded.json, updated_ms = excluded.updated_ms",
                        IZ_SQ_ARGS(IZ_SQ_I64(account_id), IZ_SQ_I64(sending ? 1 : 0),
                                   IZ_SQ_TEXT(reason), IZ_SQ_TEXT(json), IZ_SQ_I64(now_ms())),
                        NULL);
}

static void standing_read(const iz_row_t *row, void *out)
{
    iz_iys_standing_t *s = out;
    s->account_id = iz_row_i64(row, 0);
    s->sending = iz_row_i64(row, 1) != 0;
    iz_row_str(row, 2, s->reason, sizeof s->reason);
    const char *j = iz_row_text(row, 3);
    s->json = iz_xstrdup(j ? j : "{}");
    s->updated_ms = iz_row_i64(row, 4);
}

static int sq_iys_standing_all(iz_store_t *st, iz_iys_standing_t **list, size_t *n)
{
    static const iz_sq_row_t row = IZ_SQ_ROW_OWNING(iz_iys_standing_t, standing_read, json);
    return iz__sq_list(sq(st),
                       "SELECT account_id, sending, reason, json, updated_ms FROM iys_standing"
                       " ORDER BY account_id",
                       NULL, &row, list, n);
}

/* ---- customer webhooks (v16) ------------------------------------------------ */

/* A kept error: at most IZ_WEBHOOK_ERROR_MAX - 1 bytes, a longer one cut at
 * a character boundary and ended with "...". */
static void hook_error(const char *e, char out[IZ_WEBHOOK_ERROR_MAX])
{
    size_t n = e ? strlen(e) : 0;
    if (n < IZ_WEBHOOK_ERROR_MAX) {
        if (n) memcpy(out, e, n);
        out[n] = '\0';
        return;
    }
    n = IZ_WEBHOOK_ERROR_MAX - 4;
    while (n > 0 && ((unsigned char)e[n] & 0xC0) == 0x80)
        n--;
    memcpy(out, e, n);
    memcpy(out + n, "...", 4);
}

/* The brand's last change id, log rows and segments alike. */
#define BRAND_LAST_ID                                                                              \
    "(SELECT max(v) FROM (SELECT (SELECT coalesce(max(id), 0) FROM consent_log"                    \
    " WHERE brand_id = ?1) AS v UNION ALL SELECT (SELECT coalesce(max(first_id + count - 1), 0)"   \
    " FROM log_segments WHERE brand_id = ?1)) AS last_ids)"

static int sq_webhook_put(iz_store_t *st, int64_t brand_id, const char *url, const char *secret,
                          bool *created)
{
    sq_store_t *ss = (sq_store_t *)st;
    iz_sq_t *s = &ss->q;
    if (strlen(url) >= IZ_WEBHOOK_URL_MAX || strlen(secret) >= IZ_WEBHOOK_SECRET_MAX)
        return IZ_ETOOBIG;
    char *sealed = iz_seal(&ss->key, secret, strlen(secret));
    if (!sealed) return IZ_EIO;
    int64_t now = now_ms();
    int rc = iz__sq_begin(s);
    int had = rc == 0 ? iz__sq_find(s, "SELECT 1 FROM webhooks WHERE brand_id = ?1",
                                    IZ_SQ_ARGS(IZ_SQ_I64(brand_id)), NULL, NULL)
                      : 0;
    if (had < 0) rc = had;
    /* The cursor of a new webhook is the brand's last change inside this
     * transaction: exactly the changes committed after it are delivered. */
    if (rc == 0)
        rc = iz__sq_write(
            s,
            "INSERT INTO webhooks(brand_id, url, secret, created_ms, updated_ms, cursor)"
            " VALUES(?1, ?2, ?3, ?4, ?4, " BRAND_LAST_ID ")"
            " ON CONFLICT(brand_id) DO UPDATE SET url = excluded.url,"
            " secret = excluded.secret, updated_ms = excluded.updated_ms,"
            " next_ms = 0",
            IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_TEXT(url), IZ_SQ_TEXT(sealed), IZ_SQ_I64(now)),
            NULL);
    free(sealed);
    rc = iz__sq_end(s, rc);
    if (rc == 0) *created = had == 0;
    return rc;
}

#define HOOK_COLS                                                                                  \
    "id, brand_id, url, secret, created_ms, updated_ms, cursor, batch_first, batch_last,"          \
    " batch_count, failing_since_ms, attempts, next_ms, last_status, last_error"

/* A webhooks row; secret gets the sealed text (opened by the caller). */
static void hook_read(const iz_row_t *row, void *out)
{
    iz_webhook_t *w = out;
    w->id = iz_row_i64(row, 0);
    w->brand_id = iz_row_i64(row, 1);
    iz_row_str(row, 2, w->url, sizeof w->url);
    w->created_ms = iz_row_i64(row, 4);
    w->updated_ms = iz_row_i64(row, 5);
    w->cursor = iz_row_i64(row, 6);
    w->batch_first = iz_row_i64(row, 7);
    w->batch_last = iz_row_i64(row, 8);
    w->batch_count = iz_row_i64(row, 9);
    w->failing_since_ms = iz_row_i64(row, 10);
    w->attempts = (int)iz_row_i64(row, 11);
    w->next_ms = iz_row_i64(row, 12);
    w->last_status = (long)iz_row_i64(row, 13);
    iz_row_str(row, 14, w->last_error, sizeof w->last_error);
}

/* The same with the sealed secret, opened after the read. */
typedef struct hook_row {
    iz_webhook_t w;
    char sealed[1024];
} hook_row_t;

static void hook_read_sealed(const iz_row_t *row, void *out)
{
    hook_row_t *r = out;
    hook_read(row, &r->w);
    iz_row_str(row, 3, r->sealed, sizeof r->sealed);
}

static int sq_webhook_get(iz_store_t *st, int64_t brand_id, bool with_secret, iz_webhook_t *out)
{
    static const iz_sq_row_t row = IZ_SQ_ROW(hook_row_t, hook_read_sealed);
    sq_store_t *ss = (sq_store_t *)st;
    hook_row_t *r = iz_xmalloc(sizeof *r);
    int rc = iz__sq_get(&ss->q, "SELECT " HOOK_COLS " FROM webhooks WHERE brand_id = ?1",
                        IZ_SQ_ARGS(IZ_SQ_I64(brand_id)), &row, r);
    if (rc == 0) {
        *out = r->w;
        out->secret[0] = '\0';
        if (with_secret && iz_unseal(&ss->key, r->sealed, out->secret, sizeof out->secret) != 0) {
            iz_logf(IZ_LOG_ERROR, "store", "cannot open a webhook's secret", "brand_id=%lld",
                    (long long)brand_id);
            iz_wipe(out->secret, sizeof out->secret);
            rc = IZ_ERULE;
        }
    }
    iz_wipe(r, sizeof *r);
    free(r);
    return rc;
}

static int sq_webhook_delete(iz_store_t *st, int64_t brand_id)
{
    return iz__sq_update(sq(st), "DELETE FROM webhooks WHERE brand_id = ?1",
                         IZ_SQ_ARGS(IZ_SQ_I64(brand_id)));
}

static int sq_webhooks_all(iz_store_t *st, iz_webhook_t **list, size_t *n)
{
    static const iz_sq_row_t row = IZ_SQ_ROW(iz_webhook_t, hook_read);
    return iz__sq_list(sq(st), "SELECT " HOOK_COLS " FROM webhooks ORDER BY brand_id", NULL, &row,
                       list, n);
}

static int sq_webhook_delivered(iz_store_t *st, int64_t webhook_id, int64_t last_id)
{
    return iz__sq_update(
        sq(st),
        "UPDATE webhooks SET cursor = CASE WHEN cursor > ?2 THEN cursor ELSE ?2 END,"
        " batch_first = 0,"
        " batch_last = 0, batch_count = 0, failing_since_ms = 0, attempts = 0,"
        " next_ms = 0, last_status = 0, last_error = '' WHERE id = ?1",
        IZ_SQ_ARGS(IZ_SQ_I64(webhook_id), IZ_SQ_I64(last_id)));
}

static int sq_webhook_failed(iz_store_t *st, int64_t webhook_id, int64_t first, int64_t last,
                             int64_t count, int64_t now, int64_t next_ms, long status,
                             const char *error, bool dead)
{
    iz_sq_t *s = sq(st);
    char err[IZ_WEBHOOK_ERROR_MAX];
    hook_error(error, err);
    int rc = iz__sq_begin(s);
    /* The batch's figures so far: a batch other than the one kept (a
     * first failure) starts its own. */
    if (rc == 0)
        rc = iz__sq_update(s,
                           "UPDATE webhooks SET failing_since_ms = CASE WHEN batch_last = ?3"
                           " AND failing_since_ms > 0 THEN failing_since_ms ELSE ?5 END,"
                           " attempts = CASE WHEN batch_last = ?3 THEN attempts + 1 ELSE 1 END,"
                           " batch_first = ?2, batch_last = ?3, batch_count = ?4, next_ms = ?6,"
                           " last_status = ?7, last_error = ?8 WHERE id = ?1",
                           IZ_SQ_ARGS(IZ_SQ_I64(webhook_id), IZ_SQ_I64(first), IZ_SQ_I64(last),
                                      IZ_SQ_I64(count), IZ_SQ_I64(now), IZ_SQ_I64(next_ms),
                                      IZ_SQ_I64(status), IZ_SQ_TEXT(err)));
    if (rc == 0 && dead) {
        rc = iz__sq_run(s,
                        "INSERT INTO webhook_dead(brand_id, first_id, last_id, count, attempts,"
                        " last_status, last_error, created_ms, dead_ms) SELECT brand_id,"
                        " batch_first, batch_last, batch_count, attempts, last_status, last_error,"
                        " failing_since_ms, ?2 FROM webhooks WHERE id = ?1",
                        IZ_SQ_ARGS(IZ_SQ_I64(webhook_id), IZ_SQ_I64(now)));
        if (rc == 0)
            rc = iz__sq_run(s,
                            "UPDATE webhooks SET cursor = CASE WHEN cursor > batch_last THEN cursor"
                            " ELSE batch_last END, batch_first = 0,"
                            " batch_last = 0, batch_count = 0, failing_since_ms = 0,"
                            " attempts = 0, next_ms = 0 WHERE id = ?1",
                            IZ_SQ_ARGS(IZ_SQ_I64(webhook_id)));
    }
    return iz__sq_end(s, rc);
}

static void dead_read(const iz_row_t *row, void *out)
{
    iz_webhook_dead_t *d = out;
    d->id = iz_row_i64(row, 0);
    d->brand_id = iz_row_i64(row, 1);
    d->first_id = iz_row_i64(row, 2);
    d->last_id = iz_row_i64(row, 3);
    d->count = iz_row_i64(row, 4);
    d->attempts = (int)iz_row_i64(row, 5);
    d->last_status = (long)iz_row_i64(row, 6);
    iz_row_str(row, 7, d->last_error, sizeof d->last_error);
    d->created_ms = iz_row_i64(row, 8);
    d->dead_ms = iz_row_i64(row, 9);
    d->retry = iz_row_i64(row, 10) != 0;
}

static int sq_webhook_dead_list(iz_store_t *st, int64_t brand_id, int64_t after_id, size_t limit,
                                bool retry_only, iz_webhook_dead_t **list, size_t *n)
{
    static const iz_sq_row_t row = IZ_SQ_ROW(iz_webhook_dead_t, dead_read);
    return iz__sq_list(sq(st),
                       "SELECT id, brand_id, first_id, last_id, count, attempts, last_status,"
                       " last_error, created_ms, dead_ms, retry FROM webhook_dead"
                       " WHERE brand_id = ?1 AND id > ?2 AND (?4 = 0 OR retry = 1)"
                       " ORDER BY id LIMIT ?3",
                       IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_I64(after_id),
                                  IZ_SQ_I64(limit > 10000 ? 10000 : limit),
                                  IZ_SQ_I64(retry_only ? 1 : 0)),
                       &row, list, n);
}

static int sq_webhook_dead_retry(iz_store_t *st, int64_t brand_id, int64_t id)
{
    return iz__sq_update(sq(st),
                         "UPDATE webhook_dead SET retry = 1 WHERE id = ?2 AND brand_id = ?1",
                         IZ_SQ_ARGS(IZ_SQ_I64(brand_id), IZ_SQ_I64(id)));
}

static int sq_webhook_dead_done(iz_store_t *st, int64_t id, bool delivered, long status,
                                const char *error)
{
    if (delivered)
        return iz__sq_update(sq(st), "DELETE FROM webhook_dead WHERE id = ?1",
                             IZ_SQ_ARGS(IZ_SQ_I64(id)));
    char err[IZ_WEBHOOK_ERROR_MAX];
    hook_error(error, err);
    return iz__sq_update(sq(st),
                         "UPDATE webhook_dead SET attempts = attempts + 1, last_status = ?2,"
                         " last_error = ?3, retry = 0 WHERE id = ?1",
                         IZ_SQ_ARGS(IZ_SQ_I64(id), IZ_SQ_I64(status), IZ_SQ_TEXT(err)));
}

static void figures_read(const iz_row_t *row, void *out)
{
    iz_webhook_figures_t *f = out;
    f->brand_id = iz_row_i64(row, 0);
    f->brand_code = iz_row_i64(row, 1);
    f->account_id = iz_row_i64(row, 2);
    f->has_webhook = iz_row_i64(row, 3) != 0;
    f->backlog = iz_row_i64(row, 4);
    f->dead = iz_row_i64(row, 5);
}

static int sq_webhook_figures(iz_store_t *st, iz_webhook_figures_t **list, size_t *n)
{
    static const iz_sq_row_t row = IZ_SQ_ROW(iz_webhook_figures_t, figures_read);
    /* The backlog counts log rows and the entries of segments after the
     * cursor (a segment's last id is first_id + count - 1). */
    return iz__sq_list(
        sq(st),
        "SELECT b.id, b.code, b.account_id, w.id IS NOT NULL,"
        " CASE WHEN w.id IS NULL THEN 0 ELSE"
        "  (SELECT count(*) FROM consent_log l WHERE l.brand_id = b.id AND l.id > w.cursor)"
        "  + (SELECT coalesce(sum(CASE WHEN g.count < g.first_id + g.count - 1 - w.cursor"
        "     THEN g.count ELSE g.first_id + g.count - 1 - w.cursor END), 0)"
        "     FROM log_segments g WHERE g.brand_id = b.id"
        "     AND g.first_id + g.count - 1 > w.cursor) END,"
        " (SELECT count(*) FROM webhook_dead d WHERE d.brand_id = b.id)"
        " FROM brands b LEFT JOIN webhooks w ON w.brand_id = b.id"
        " WHERE w.id IS NOT NULL OR EXISTS(SELECT 1 FROM webhook_dead d WHERE d.brand_id = b.id)"
        " ORDER BY b.id",
        NULL, &row, list, n);
}

/* ---- several nodes: the watch ------------------------------------------------- */

/* The key of the cluster's lease ("izin" and 3). */
#define LEASE_KEY INT64_C(0x697a696e00000003)

struct iz_store_watch {
    iz_pg_t *pg;
    uint64_t session; /* the connection's session when LISTEN was said (0: not yet) */
    bool leased;
};

bool iz_store_shared(iz_store_t *st)
{
    return st && iz__sq_is_pg(sq(st));
}

int iz_store_watch_open(iz_store_t *st, iz_store_watch_t **out)
{
    *out = NULL;
    if (!iz_store_shared(st)) return IZ_EUNSUPPORTED;
    const char *err = NULL;
    iz_pg_t *pg = NULL;
    int rc = iz__pg_open(&pg, "cluster", sq(st)->path, &err);
    if (rc != 0) {
        iz_logf(IZ_LOG_WARN, "cluster", "cannot connect", "error=%s", err ? err : "");
        return rc;
    }
    iz_store_watch_t *w = iz_xcalloc(1, sizeof *w);
    w->pg = pg;
    *out = w;
    return 0;
}

void iz_store_watch_close(iz_store_watch_t *w)
{
    if (!w) return;
    iz__pg_close(w->pg); /* the lease goes with the session */
    free(w);
}

/* LISTEN again on a new session; the lease was lost with the old one. */
static int watch_session(iz_store_watch_t *w, bool *fresh)
{
    *fresh = false;
    iz__pg_lock(w->pg); /* reconnects a lost connection */
    uint64_t now = iz__pg_session(w->pg);
    int rc = 0;
    if (now != w->session) {
        if (w->leased)
            iz_logf(IZ_LOG_WARN, "cluster", "the lease was lost with the connection", NULL);
        w->leased = false;
        rc = iz__pg_script(w->pg, "LISTEN " IZ_SQ_LOG_CHANNEL);
        if (rc == 0) {
            w->session = now;
            *fresh = true;
        }
    }
    iz__pg_unlock(w->pg);
    return rc;
}

int iz_store_watch_wait(iz_store_watch_t *w, int timeout_ms, bool *heard)
{
    *heard = false;
    bool fresh = false;
    int rc = watch_session(w, &fresh);
    if (rc != 0) return rc;
    rc = iz__pg_wait(w->pg, timeout_ms, heard);
    if (fresh) *heard = true;
    return rc;
}

int iz_store_watch_lease(iz_store_watch_t *w, bool *held)
{
    bool fresh = false;
    int rc = watch_session(w, &fresh);
    if (rc == 0 && !w->leased) rc = iz__pg_try_lock(w->pg, LEASE_KEY, &w->leased);
    if (rc != 0) w->leased = false;
    *held = w->leased;
    return rc;
}

#define BUDGET_CAP_MAX 1000

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int iz_store_budget_start(iz_store_t *st, const char *url, int cap, int64_t window_ms,
                          int64_t *wait_ms)
{
    *wait_ms = 0;
    if (!st || !url || cap < 1 || cap > BUDGET_CAP_MAX || window_ms < 1) return IZ_EINVAL;
    iz_sq_t *s = sq(st);
    char key[IZ_URL_MAX + 16];
    if (snprintf(key, sizeof key, "iys_budget %s", url) >= (int)sizeof key) return IZ_ETOOBIG;
    int rc =
        iz__sq_run(s, "INSERT INTO meta(key, value) VALUES(?1, '') ON CONFLICT(key) DO NOTHING",
                   IZ_SQ_ARGS(IZ_SQ_TEXT(key)));
    if (rc != 0) return rc;
    size_t size = (size_t)(cap + 1) * 21 + 1;
    char *val = iz_xmalloc(size), *out = iz_xmalloc(size);
    int64_t now = 0;
    rc = iz__sq_begin_small(s);
    if (rc == 0)
        rc = iz__sq_get_text(s,
                             IZ_SQ_SQL(s, "SELECT value FROM meta WHERE key = ?1",
                                       "SELECT value FROM meta WHERE key = ?1 FOR UPDATE"),
                             IZ_SQ_ARGS(IZ_SQ_TEXT(key)), val, size);
    if (rc == 0) {
        /* The time of this start is taken once the window's row is held: a
         * node that waited for another's commit starts its request after
         * that wait, and a start counted from before it would leave the
         * window early (under load the wait was longer than the budget's
         * margin, and İYS saw 11 requests in a second). */
        now = now_ms();
        /* The starts of the window, oldest first: "t1,t2,...". Sorted
         * again here, as another node's clock may be a little behind. */
        int64_t kept[BUDGET_CAP_MAX + 1];
        int k = 0;
        for (char *p = val, *end; *p && k < BUDGET_CAP_MAX; p = *end ? end + 1 : end) {
            int64_t t = strtoll(p, &end, 10);
            if (end == p) break;
            if (t > now - window_ms && t <= now + window_ms) kept[k++] = t;
        }
        qsort(kept, (size_t)k, sizeof kept[0], cmp_i64);
        if (k > cap) {
            /* (a cap lowered since: the newest cap count) */
            memmove(kept, kept + (k - cap), (size_t)cap * sizeof kept[0]);
            k = cap;
        }
        bool room = k < cap;
        if (room)
            kept[k++] = now;
        else
            *wait_ms = kept[0] + window_ms - now > 0 ? kept[0] + window_ms - now : 1;
        size_t o = 0;
        for (int i = 0; i < k; i++)
            o += (size_t)snprintf(out + o, size - o, i ? ",%lld" : "%lld", (long long)kept[i]);
        out[o] = '\0';
        if (room)
            rc = iz__sq_run(s, "UPDATE meta SET value = ?2 WHERE key = ?1",
                            IZ_SQ_ARGS(IZ_SQ_TEXT(key), IZ_SQ_TEXT(out)));
    }
    rc = iz__sq_end(s, rc);
    free(val);
    free(out);
    return rc;
}

int iz_store_watch_analyze(iz_store_watch_t *w)
{
    return iz__pg_script(w->pg, "ANALYZE consent_log, consent_state, outbox, log_segments");
}

static const iz_store_ops_t sq_ops = {
    .close = sq_close,
    .accounts_all = sq_accounts_all,
    .outbox_due_now = sq_outbox_due_now,
    .iys_partner_token_get = sq_iys_partner_token_get,
    .iys_partner_token_put = sq_iys_partner_token_put,
    .iys_standing_put = sq_iys_standing_put,
    .iys_standing_all = sq_iys_standing_all,
    .webhook_put = sq_webhook_put,
    .webhook_get = sq_webhook_get,
    .webhook_delete = sq_webhook_delete,
    .webhooks_all = sq_webhooks_all,
    .webhook_delivered = sq_webhook_delivered,
    .webhook_failed = sq_webhook_failed,
    .webhook_dead_list = sq_webhook_dead_list,
    .webhook_dead_retry = sq_webhook_dead_retry,
    .webhook_dead_done = sq_webhook_dead_done,
    .webhook_figures = sq_webhook_figures,
    .schema_version = sq_schema_version,
    .ping = sq_ping,
    .account_add = sq_account_add,
    .account_by_name = sq_account_by_name,
    .account_get = sq_account_get,
    .brand_add = sq_brand_add,
    .brand_get = sq_brand_get,
    .brand_sms_get = sq_brand_sms_get,
    .brand_update = sq_brand_update,
    .brand_by_slug = sq_brand_by_slug,
    .brand_info_get = sq_brand_info_get,
    .brand_info_set = sq_brand_info_set,
    .brand_page_get = sq_brand_page_get,
    .brand_page_set = sq_brand_page_set,
    .account_usage = sq_account_usage,
    .account_plan_set = sq_account_plan_set,
    .brand_ident_get = sq_brand_ident_get,
    .brand_ident_set = sq_brand_ident_set,
    .brands_by_number = sq_brands_by_number,
    .inbound_get = sq_inbound_get,
    .inbound_of_brand = sq_inbound_of_brand,
    .inbound_add = sq_inbound_add,
    .key_add = sq_key_add,
    .key_lookup = sq_key_lookup,
    .key_revoke = sq_key_revoke,
    .keys_list = sq_keys_list,
    .key_revoke_id = sq_key_revoke_id,
    .brands_of = sq_brands_of,
    .user_add = sq_user_add,
    .user_by_email = sq_user_by_email,
    .user_get = sq_user_get,
    .users_of = sq_users_of,
    .user_delete = sq_user_delete,
    .user_password_set = sq_user_password_set,
    .session_add = sq_session_add,
    .session_get = sq_session_get,
    .session_touch = sq_session_touch,
    .session_delete = sq_session_delete,
    .sessions_expire = sq_sessions_expire,
    .login_fail_add = sq_login_fail_add,
    .login_fails = sq_login_fails,
    .stat_state = sq_stat_state,
    .stat_days = sq_stat_days,
    .stat_origins = sq_stat_origins,
    .ret_brand = sq_ret_brand,
    .quarantine_count_brand = sq_quarantine_count_brand,
    .iys_changes = sq_iys_changes,
    .consent_apply_batch = sq_consent_apply_batch,
    .durable = sq_durable,
    .consent_get = sq_consent_get,
    .consent_history = sq_consent_history,
    .consent_status = sq_consent_status,
    .verify_log = sq_verify_log,
    .outbox_count = sq_outbox_count,
    .outbox_due = sq_outbox_due,
    .outbox_reset_sending = sq_outbox_reset_sending,
    .outbox_count_due = sq_outbox_count_due,
    .outbox_retry_many = sq_outbox_retry_many,
    .outbox_finish_many = sq_outbox_finish_many,
    .outbox_requests = sq_outbox_requests,
    .outbox_request_rows = sq_outbox_request_rows,
    .outbox_depth = sq_outbox_depth,
    .outbox_mark = sq_outbox_mark,
    .outbox_touch = sq_outbox_touch,
    .outbox_retry = sq_outbox_retry,
    .outbox_finish = sq_outbox_finish,
    .change_by_txid = sq_change_by_txid,
    .changes = sq_changes,
    .brands_all = sq_brands_all,
    .cursor_get = sq_cursor_get,
    .cursor_set = sq_cursor_set,
    .ret_open = sq_ret_open,
    .ret_late = sq_ret_late,
    .state_scan = sq_state_scan,
    .consent_each = sq_consent_each,
    .quarantine_add = sq_quarantine_add,
    .apply_then = sq_apply_then,
    .load_then = sq_load_then,
    .job_add = sq_job_add,
    .job_get = sq_job_get,
    .jobs_open = sq_jobs_open,
    .jobs_of_brand = sq_jobs_of_brand,
    .job_step = sq_job_step,
    .job_errors = sq_job_errors,
    .quarantine_list = sq_quarantine_list,
    .quarantine_count = sq_quarantine_count,
    .change_get = sq_change_get,
    .log_max = sq_log_max,
    .log_after = sq_log_after,
    .changes_by_txid = sq_changes_by_txid,
    .iys_day_ids = sq_iys_day_ids,
    .iys_day_span = sq_iys_day_span,
    .recon_put = sq_recon_put,
    .recon_list = sq_recon_list,
    .recon_counts = sq_recon_counts,
    .retailers_set = sq_retailers_set,
    .retailer_put = sq_retailer_put,
    .retailer_remove = sq_retailer_remove,
    .retailers_get = sq_retailers_get,
    .retailer_codes = sq_retailer_codes,
    .iys_token_get = sq_iys_token_get,
    .iys_token_put = sq_iys_token_put,
    .sms_queue = sq_sms_queue,
    .sms_get = sq_sms_get,
    .sms_counts = sq_sms_counts,
    .sms_rcpts = sq_sms_rcpts,
    .sms_open = sq_sms_open,
    .sms_move = sq_sms_move,
    .sms_dlr = sq_sms_dlr,
    .sms_finish = sq_sms_finish,
    .sms_recover = sq_sms_recover,
    .sms_backlog = sq_sms_backlog,
    .voice_add = sq_voice_add,
    .voice_get = sq_voice_get,
    .voice_of_brand = sq_voice_of_brand,
    .voice_numbers = sq_voice_numbers,
};
