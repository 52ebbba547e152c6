/*
 * schema_pg.c - the store's PostgreSQL baseline (schema_pg.h): SQLite's
 * schema at version 18 written in PostgreSQL's dialect, table by table in
 * the order SQLite's migrations made them, each table's columns in
 * SQLite's final order (a column a migration added comes last), since the
 * store's statements insert and select by position.
 *
 * Where the dialects part:
 *   - INTEGER is BIGINT, BLOB is BYTEA; `id INTEGER PRIMARY KEY` is `id
 *     BIGSERIAL PRIMARY KEY`. An INTEGER PRIMARY KEY of another name
 *     (log_segments.first_id, ret_deadlines.log_id, ...) is a plain BIGINT
 *     PRIMARY KEY: the store always gives it, and SQLite's filling of a
 *     NULL one from the rowid is not used.
 *   - A primary key is NOT NULL in PostgreSQL, where SQLite lets the text
 *     keys meta.key and jobs.id hold NULL (an old quirk of its rowid
 *     tables); the store never writes a NULL key.
 *   - panel_users.email is COLLATE NOCASE in SQLite (equality, UNIQUE and
 *     ORDER BY fold ASCII case: the store looks a user up with `email =
 *     ?`). PostgreSQL has no such built-in collation; `nocase` here is an
 *     ICU nondeterministic one at strength 2 (case ignored, accents not),
 *     so the same statements find and refuse the same ASCII addresses. It
 *     folds beyond ASCII too (İ/i, full-width letters) and orders by ICU's
 *     rules rather than by code point: stricter for uniqueness, the same
 *     for every ASCII address.
 *   - WITHOUT ROWID has no counterpart (every PostgreSQL table is a heap
 *     with separate indexes): the primary key stays, the clause goes.
 *   - A trigger is a function and a CREATE TRIGGER of SQLite's name, event
 *     (BEFORE/AFTER, UPDATE OF the same columns: both engines fire it when
 *     a listed column is SET, changed or not), FOR EACH ROW and condition;
 *     `IS NOT` is IS DISTINCT FROM. PostgreSQL runs an AFTER row trigger at
 *     the end of its statement rather than after each row: the counters are
 *     the same once the statement is done.
 *   - The append-only guards raise SQLite's message ("<table> is
 *     append-only") with SQLSTATE 23000 (integrity_constraint_violation),
 *     SQLite's SQLITE_CONSTRAINT; both drivers answer IZ_EIO. A TRUNCATE,
 *     which SQLite does not have, passes row triggers by: the store's
 *     database role should not be granted TRUNCATE on these tables.
 *   - SQLite's `date(ms / 1000 + 10800, 'unixepoch')` (Turkey's day, UTC+3
 *     with no summer time since 2016; integer division truncating toward
 *     zero, as bigint division does) is stat_day(ms), formatted by to_char,
 *     not by the session's DateStyle. It is declared IMMUTABLE: its pattern
 *     reads no locale and the zone is fixed.
 *   - An upsert names its conflict target (the primary key) and qualifies
 *     the old row's column: `ON CONFLICT (...) DO UPDATE SET n = stat_days.n
 *     + EXCLUDED.n`.
 *   - The migrations' data copies (INSERT ... SELECT, UPDATE) have nothing
 *     to copy in a new database, and no row is written here.
 */
#include "store/schema_pg.h"

const char iz__pg_baseline[] =
    /* 1: accounts, brands, API keys, the consent log and state, outbox. */
    "CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2',"
    " deterministic = false);"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE accounts("
    " id BIGSERIAL PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " iys_code BIGINT NOT NULL DEFAULT 0,"
    " activation_date TEXT,"
    " iys_url TEXT NOT NULL DEFAULT '',"
    " iys_user TEXT NOT NULL DEFAULT '',"
    " iys_password TEXT NOT NULL DEFAULT '',"
    " plan TEXT NOT NULL DEFAULT '',"
    " created_at BIGINT NOT NULL,"
    " iys_integrator BIGINT NOT NULL DEFAULT 0);" /* v14 */
    "CREATE TABLE brands("
    " id BIGSERIAL PRIMARY KEY,"
    " account_id BIGINT NOT NULL REFERENCES accounts(id),"
    " code BIGINT NOT NULL,"
    " name TEXT NOT NULL,"
    " keyword TEXT NOT NULL DEFAULT '',"
    " short_number TEXT NOT NULL DEFAULT '',"
    " subscriber_number TEXT NOT NULL DEFAULT '',"
    " slug TEXT UNIQUE,"
    " created_at BIGINT NOT NULL,"
    " reply_onay TEXT NOT NULL DEFAULT '',"        /* v9 */
    " reply_ret TEXT NOT NULL DEFAULT '',"         /* v9 */
    " reply_help TEXT NOT NULL DEFAULT '',"        /* v9 */
    " info_text TEXT NOT NULL DEFAULT '',"         /* v13 */
    " page_mode TEXT NOT NULL DEFAULT 'LOCAL',"    /* v15 */
    " page_otp_template TEXT NOT NULL DEFAULT ''," /* v15 */
    " page_vkn TEXT NOT NULL DEFAULT '',"          /* v15 */
    " trade_name TEXT NOT NULL DEFAULT '',"        /* v18 */
    " mersis TEXT NOT NULL DEFAULT '',"            /* v18 */
    " tradesman TEXT NOT NULL DEFAULT '',"         /* v18 */
    " contact TEXT NOT NULL DEFAULT '',"           /* v18 */
    " UNIQUE(account_id, code));"
    "CREATE TABLE api_keys("
    " id BIGSERIAL PRIMARY KEY,"
    " account_id BIGINT NOT NULL REFERENCES accounts(id),"
    " hash TEXT NOT NULL UNIQUE,"
    " prefix TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " revoked_at BIGINT);"
    "CREATE INDEX api_keys_account ON api_keys(account_id);"
    "CREATE TABLE consent_log("
    " id BIGSERIAL PRIMARY KEY,"
    " brand_id BIGINT NOT NULL,"
    " recipient TEXT NOT NULL,"
    " rtype TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " source TEXT,"
    " consent_date BIGINT,"
    " creation_ms BIGINT NOT NULL,"
    " origin TEXT,"
    " iys_state TEXT,"
    " iys_txid TEXT,"
    " iys_error TEXT,"
    " warning TEXT,"
    " evidence TEXT,"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL,"
    " retailer_code BIGINT,"  /* v12 */
    " retailer_access TEXT);" /* v12 */
    "CREATE INDEX consent_log_key ON consent_log(brand_id, recipient, rtype, type, id);"
    /* Append-only for every writer of the database, as in SQLite: the
     * guards of consent_log and log_segments. */
    "CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN"
    " RAISE EXCEPTION '% is append-only', TG_TABLE_NAME"
    " USING ERRCODE = 'integrity_constraint_violation'; END$$;"
    "CREATE TRIGGER consent_log_no_delete BEFORE DELETE ON consent_log"
    " FOR EACH ROW EXECUTE FUNCTION append_only();"
    "CREATE TRIGGER consent_log_no_update BEFORE UPDATE OF id, brand_id, recipient, rtype,"
    " type, status, source, consent_date, creation_ms, origin, warning, evidence, prev_hash,"
    " hash ON consent_log FOR EACH ROW WHEN (OLD.hash <> '')"
    " EXECUTE FUNCTION append_only();"
    "CREATE TABLE consent_state("
    " brand_id BIGINT NOT NULL,"
    " recipient TEXT NOT NULL,"
    " rtype TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " log_id BIGINT NOT NULL,"
    " status TEXT NOT NULL,"
    " source TEXT,"
    " consent_date BIGINT,"
    " seg_id BIGINT," /* v8 */
    " PRIMARY KEY(brand_id, recipient, rtype, type));"
    "CREATE TABLE outbox("
    " id BIGSERIAL PRIMARY KEY,"
    " log_id BIGINT NOT NULL UNIQUE,"
    " created_ms BIGINT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'PENDING',"
    " bulk BIGINT NOT NULL DEFAULT 0,"     /* v2 */
    " attempts BIGINT NOT NULL DEFAULT 0," /* v2 */
    " next_ms BIGINT NOT NULL DEFAULT 0,"  /* v2 */
    " request_id TEXT,"                    /* v2 */
    " sent_ms BIGINT,"                     /* v2 */
    " last_error TEXT,"                    /* v2 */
    " req_index BIGINT,"                   /* v2 */
    " account_id BIGINT,"                  /* v6 */
    " posted_ms BIGINT,"                   /* v6 */
    " brand_id BIGINT NOT NULL);"          /* v8 */
    /* 2: the sync engine. */
    "CREATE INDEX outbox_state ON outbox(state, bulk, next_ms);"
    "CREATE INDEX consent_log_txid ON consent_log(iys_txid);"
    "CREATE INDEX consent_log_brand ON consent_log(brand_id, id);"
    "CREATE TABLE iys_cursor("
    " brand_id BIGINT NOT NULL,"
    " source TEXT NOT NULL,"
    " cursor TEXT NOT NULL,"
    " updated_ms BIGINT NOT NULL,"
    " PRIMARY KEY(brand_id, source));"
    "CREATE TABLE ret_deadlines("
    " log_id BIGINT PRIMARY KEY REFERENCES consent_log(id),"
    " deadline BIGINT NOT NULL,"
    " done_ms BIGINT);"
    "CREATE INDEX ret_open ON ret_deadlines(done_ms, deadline);"
    /* 3 and 10: SMS messages and their queue, voice campaigns. */
    "CREATE TABLE sms_messages("
    " id BIGSERIAL PRIMARY KEY,"
    " brand_id BIGINT NOT NULL,"
    " created_ms BIGINT NOT NULL,"
    " sender TEXT NOT NULL,"
    " text TEXT NOT NULL,"
    " commercial BIGINT NOT NULL,"
    " encoding TEXT NOT NULL,"
    " parts BIGINT NOT NULL,"
    " accepted BIGINT NOT NULL,"
    " blocked BIGINT NOT NULL,"
    " account_id BIGINT NOT NULL DEFAULT 0,"   /* v10 */
    " kind TEXT NOT NULL DEFAULT 'SEND',"      /* v10 */
    " state TEXT NOT NULL DEFAULT 'DONE',"     /* v10 */
    " priority BIGINT NOT NULL DEFAULT 1,"     /* v10 */
    " rtype TEXT NOT NULL DEFAULT 'BIREYSEL'," /* v10 */
    " opt_out BIGINT NOT NULL DEFAULT 0,"      /* v10 */
    " idem_key TEXT,"                          /* v10 */
    " idem_hash TEXT);"                        /* v10 */
    "CREATE INDEX sms_messages_brand ON sms_messages(brand_id, id);"
    "CREATE UNIQUE INDEX sms_messages_idem ON sms_messages(account_id, idem_key)"
    " WHERE idem_key IS NOT NULL;"
    "CREATE INDEX sms_messages_open ON sms_messages(priority, id) WHERE state <> 'DONE';"
    "CREATE TABLE sms_recipients("
    " message_id BIGINT NOT NULL REFERENCES sms_messages(id),"
    " seq BIGINT NOT NULL,"
    " recipient TEXT NOT NULL,"
    " outcome TEXT NOT NULL,"
    " gateway_id TEXT,"
    " error TEXT,"                         /* v10 */
    " sent_ms BIGINT,"                     /* v10 */
    " dlr_status BIGINT,"                  /* v10 */
    " dlr_ms BIGINT,"                      /* v10 */
    " raw_json BIGINT NOT NULL DEFAULT 0," /* v10 */
    " PRIMARY KEY(message_id, seq));"
    "CREATE UNIQUE INDEX sms_recipients_msgid ON sms_recipients(gateway_id)"
    " WHERE gateway_id IS NOT NULL;"
    "CREATE INDEX sms_recipients_queued ON sms_recipients(message_id, seq)"
    " WHERE outcome = 'QUEUED';"
    "CREATE INDEX sms_recipients_sending ON sms_recipients(message_id, seq)"
    " WHERE outcome = 'SENDING';"
    "CREATE TABLE voice_campaigns("
    " id BIGSERIAL PRIMARY KEY,"
    " brand_id BIGINT NOT NULL,"
    " account_id BIGINT NOT NULL,"
    " name TEXT NOT NULL,"
    " commercial BIGINT NOT NULL,"
    " rtype TEXT NOT NULL,"
    " created_ms BIGINT NOT NULL,"
    " allowed BIGINT NOT NULL,"
    " blocked BIGINT NOT NULL);"
    "CREATE TABLE voice_numbers("
    " campaign_id BIGINT NOT NULL REFERENCES voice_campaigns(id),"
    " seq BIGINT NOT NULL,"
    " recipient TEXT NOT NULL,"
    " outcome TEXT NOT NULL,"
    " PRIMARY KEY(campaign_id, seq));"
    /* 4: İYS changes that could not be applied. */
    "CREATE TABLE iys_quarantine("
    " id BIGSERIAL PRIMARY KEY,"
    " brand_id BIGINT NOT NULL,"
    " via TEXT NOT NULL,"
    " source TEXT,"
    " raw TEXT NOT NULL,"
    " raw_hash TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " created_ms BIGINT NOT NULL,"
    " UNIQUE(brand_id, raw_hash));"
    "CREATE INDEX iys_quarantine_brand ON iys_quarantine(brand_id, id);"
    /* 5: the İYS client's tokens (sealed in C). */
    "CREATE TABLE iys_tokens("
    " account_id BIGINT PRIMARY KEY REFERENCES accounts(id),"
    " base_url TEXT NOT NULL,"
    " username TEXT NOT NULL,"
    " access TEXT NOT NULL DEFAULT '',"
    " refresh TEXT NOT NULL DEFAULT '',"
    " access_exp BIGINT NOT NULL DEFAULT 0,"
    " refresh_exp BIGINT NOT NULL DEFAULT 0,"
    " blocked_until BIGINT NOT NULL DEFAULT 0,"
    " updated_ms BIGINT NOT NULL);"
    /* 6: the shared rate budget. */
    "CREATE INDEX outbox_account ON outbox(account_id, state, log_id);"
    "CREATE INDEX outbox_request ON outbox(request_id);"
    /* 7: bulk upload jobs and their rejected rows. */
    "CREATE TABLE jobs("
    " id TEXT PRIMARY KEY,"
    " account_id BIGINT NOT NULL REFERENCES accounts(id),"
    " brand_id BIGINT NOT NULL REFERENCES brands(id),"
    " state TEXT NOT NULL,"
    " format TEXT NOT NULL,"
    " path TEXT NOT NULL,"
    " total BIGINT NOT NULL DEFAULT -1,"
    " processed BIGINT NOT NULL DEFAULT 0,"
    " accepted BIGINT NOT NULL DEFAULT 0,"
    " rejected BIGINT NOT NULL DEFAULT 0,"
    " resume_line BIGINT NOT NULL DEFAULT -1,"
    " owner TEXT,"
    " error TEXT,"
    " warnings TEXT,"
    " created_ms BIGINT NOT NULL,"
    " started_ms BIGINT,"
    " updated_ms BIGINT,"
    " finished_ms BIGINT);"
    "CREATE INDEX jobs_open ON jobs(state, created_ms);"
    "CREATE TABLE job_errors("
    " job_id TEXT NOT NULL REFERENCES jobs(id),"
    " line BIGINT NOT NULL,"
    " code TEXT NOT NULL,"
    " message TEXT NOT NULL,"
    " raw TEXT NOT NULL,"
    " PRIMARY KEY(job_id, line));"
    /* 8: log segments (segment.h) and the entries' İYS results. */
    "CREATE TABLE log_segments("
    " first_id BIGINT PRIMARY KEY,"
    " count BIGINT NOT NULL,"
    " brand_id BIGINT NOT NULL REFERENCES brands(id),"
    " creation_ms BIGINT NOT NULL,"
    " origin TEXT NOT NULL,"
    " job_id TEXT NOT NULL,"
    " iys_state TEXT NOT NULL,"
    " queued BIGINT NOT NULL,"
    " data BYTEA NOT NULL,"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE INDEX log_segments_queued ON log_segments(queued, first_id) WHERE queued = 1;"
    "CREATE INDEX log_segments_brand ON log_segments(brand_id, first_id);"
    "CREATE TRIGGER log_segments_no_delete BEFORE DELETE ON log_segments"
    " FOR EACH ROW EXECUTE FUNCTION append_only();"
    "CREATE TRIGGER log_segments_no_update BEFORE UPDATE OF first_id, count, brand_id,"
    " creation_ms, origin, job_id, iys_state, data, prev_hash, hash ON log_segments"
    " FOR EACH ROW EXECUTE FUNCTION append_only();"
    "CREATE TABLE segment_results("
    " log_id BIGINT PRIMARY KEY,"
    " iys_state TEXT NOT NULL,"
    " iys_txid TEXT,"
    " iys_error TEXT);"
    "CREATE INDEX segment_results_txid ON segment_results(iys_txid) WHERE iys_txid IS NOT NULL;"
    /* 9: inbound SMS. */
    "CREATE TABLE brand_keywords("
    " brand_id BIGINT NOT NULL REFERENCES brands(id),"
    " pos BIGINT NOT NULL,"
    " keyword TEXT NOT NULL,"
    " folded TEXT NOT NULL,"
    " PRIMARY KEY(brand_id, pos),"
    " UNIQUE(brand_id, folded));"
    "CREATE INDEX brand_keywords_folded ON brand_keywords(folded);"
    "CREATE INDEX brands_short_number ON brands(short_number) WHERE short_number <> '';"
    "CREATE INDEX brands_subscriber_number ON brands(subscriber_number)"
    " WHERE subscriber_number <> '';"
    "CREATE TABLE sms_inbound("
    " id BIGSERIAL PRIMARY KEY,"
    " gateway TEXT NOT NULL,"
    " msg_id TEXT NOT NULL,"
    " sender TEXT NOT NULL,"
    " receiver TEXT NOT NULL,"
    " smsc TEXT,"
    " text TEXT NOT NULL,"
    " received_ms BIGINT NOT NULL,"
    " created_ms BIGINT NOT NULL,"
    " brand_id BIGINT,"
    " outcome TEXT NOT NULL,"
    " detail TEXT,"
    " reply TEXT NOT NULL,"
    " UNIQUE(gateway, msg_id));"
    "CREATE INDEX sms_inbound_brand ON sms_inbound(brand_id, id);"
    /* 11: daily reconciliation. */
    "CREATE TABLE iys_days("
    " log_id BIGINT PRIMARY KEY,"
    " brand_id BIGINT NOT NULL,"
    " day TEXT NOT NULL,"
    " created BIGINT NOT NULL);"
    "CREATE INDEX iys_days_day ON iys_days(brand_id, day, log_id);"
    "CREATE TABLE iys_recon("
    " brand_id BIGINT NOT NULL,"
    " report_date TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " rows BIGINT NOT NULL DEFAULT 0,"
    " matched BIGINT NOT NULL DEFAULT 0,"
    " repaired BIGINT NOT NULL DEFAULT 0,"
    " pending BIGINT NOT NULL DEFAULT 0,"
    " mismatched BIGINT NOT NULL DEFAULT 0,"
    " hash TEXT,"
    " agreed BIGINT NOT NULL DEFAULT 0,"
    " agreed_ms BIGINT,"
    " tsr BYTEA,"
    " details TEXT,"
    " error TEXT,"
    " started_ms BIGINT NOT NULL,"
    " finished_ms BIGINT NOT NULL,"
    " PRIMARY KEY(brand_id, report_date));"
    /* 12: retailers; a change's retailer fields are as immutable as the
     * rest of it. */
    "CREATE TRIGGER consent_log_no_update_retail BEFORE UPDATE OF retailer_code,"
    " retailer_access ON consent_log FOR EACH ROW WHEN (OLD.hash <> '')"
    " EXECUTE FUNCTION append_only();"
    "CREATE TABLE retailers("
    " brand_id BIGINT NOT NULL REFERENCES brands(id),"
    " code BIGINT NOT NULL,"
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
    " access_count BIGINT NOT NULL DEFAULT 0,"
    " updated_ms BIGINT NOT NULL,"
    " PRIMARY KEY(brand_id, code));"
    "CREATE TABLE retailer_lists("
    " brand_id BIGINT PRIMARY KEY REFERENCES brands(id),"
    " synced_ms BIGINT NOT NULL);"
    /* 14: partner mode and the accounts' standing. */
    "CREATE TABLE iys_partner_tokens("
    " integrator_code BIGINT NOT NULL,"
    " base_url TEXT NOT NULL,"
    " username TEXT NOT NULL,"
    " access TEXT NOT NULL DEFAULT '',"
    " refresh TEXT NOT NULL DEFAULT '',"
    " access_exp BIGINT NOT NULL DEFAULT 0,"
    " refresh_exp BIGINT NOT NULL DEFAULT 0,"
    " blocked_until BIGINT NOT NULL DEFAULT 0,"
    " updated_ms BIGINT NOT NULL,"
    " PRIMARY KEY(integrator_code, base_url));"
    "CREATE TABLE iys_standing("
    " account_id BIGINT PRIMARY KEY REFERENCES accounts(id),"
    " sending BIGINT NOT NULL,"
    " reason TEXT NOT NULL DEFAULT '',"
    " json TEXT NOT NULL,"
    " updated_ms BIGINT NOT NULL);"
    /* 16: customer webhooks (SQLite's AUTOINCREMENT: a sequence never hands
     * an id out twice either). */
    "CREATE TABLE webhooks("
    " id BIGSERIAL PRIMARY KEY,"
    " brand_id BIGINT NOT NULL UNIQUE REFERENCES brands(id),"
    " url TEXT NOT NULL,"
    " secret TEXT NOT NULL,"
    " created_ms BIGINT NOT NULL,"
    " updated_ms BIGINT NOT NULL,"
    " cursor BIGINT NOT NULL,"
    " batch_first BIGINT NOT NULL DEFAULT 0,"
    " batch_last BIGINT NOT NULL DEFAULT 0,"
    " batch_count BIGINT NOT NULL DEFAULT 0,"
    " failing_since_ms BIGINT NOT NULL DEFAULT 0,"
    " attempts BIGINT NOT NULL DEFAULT 0,"
    " next_ms BIGINT NOT NULL DEFAULT 0,"
    " last_status BIGINT NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE webhook_dead("
    " id BIGSERIAL PRIMARY KEY,"
    " brand_id BIGINT NOT NULL REFERENCES brands(id),"
    " first_id BIGINT NOT NULL,"
    " last_id BIGINT NOT NULL,"
    " count BIGINT NOT NULL,"
    " attempts BIGINT NOT NULL,"
    " last_status BIGINT NOT NULL,"
    " last_error TEXT NOT NULL,"
    " created_ms BIGINT NOT NULL,"
    " dead_ms BIGINT NOT NULL,"
    " retry BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX webhook_dead_brand ON webhook_dead(brand_id, id);"
    /* 17: the customer's panel (the e-mail's collation: see the top). */
    "CREATE TABLE panel_users("
    " id BIGSERIAL PRIMARY KEY,"
    " account_id BIGINT NOT NULL REFERENCES accounts(id),"
    " email TEXT NOT NULL UNIQUE COLLATE nocase,"
    " pwhash TEXT NOT NULL,"
    " must_change BIGINT NOT NULL DEFAULT 0,"
    " created_at BIGINT NOT NULL,"
    " last_login BIGINT);"
    "CREATE INDEX panel_users_account ON panel_users(account_id);"
    "CREATE TABLE panel_sessions("
    " hash TEXT PRIMARY KEY,"
    " user_id BIGINT NOT NULL REFERENCES panel_users(id),"
    " created_at BIGINT NOT NULL,"
    " last_seen BIGINT NOT NULL);"
    "CREATE INDEX panel_sessions_user ON panel_sessions(user_id);"
    "CREATE TABLE panel_login_failures(email TEXT NOT NULL, at BIGINT NOT NULL);"
    "CREATE INDEX panel_login_failures_email ON panel_login_failures(email, at);"
    "CREATE INDEX panel_login_failures_at ON panel_login_failures(at);"
    /* The dashboard's counters (store_sqlite.c, migration 17, says which
     * writes the code counts itself and which the triggers count). */
    "CREATE TABLE stat_state("
    " brand_id BIGINT NOT NULL, type TEXT NOT NULL, rtype TEXT NOT NULL,"
    " status TEXT NOT NULL, source TEXT NOT NULL, n BIGINT NOT NULL,"
    " PRIMARY KEY(brand_id, type, rtype, status, source));"
    "CREATE TABLE stat_days("
    " brand_id BIGINT NOT NULL, day TEXT NOT NULL, origin TEXT NOT NULL, n BIGINT NOT NULL,"
    " PRIMARY KEY(brand_id, day, origin));"
    /* The Turkey-time day of a time in ms, as SQLite's date(ms / 1000 +
     * 10800, 'unixepoch'). */
    "CREATE FUNCTION stat_day(ms BIGINT) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE"
    " RETURN to_char(to_timestamp(ms / 1000 + 10800) AT TIME ZONE 'UTC', 'YYYY-MM-DD');"
    "CREATE FUNCTION stat_state_upd() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN"
    " UPDATE stat_state SET n = n - 1 WHERE brand_id = OLD.brand_id AND type = OLD.type"
    " AND rtype = OLD.rtype AND status = OLD.status AND source = coalesce(OLD.source, '');"
    " INSERT INTO stat_state VALUES(NEW.brand_id, NEW.type, NEW.rtype, NEW.status,"
    " coalesce(NEW.source, ''), 1) ON CONFLICT (brand_id, type, rtype, status, source)"
    " DO UPDATE SET n = stat_state.n + 1;"
    " RETURN NULL; END$$;"
    "CREATE TRIGGER stat_state_upd AFTER UPDATE OF status, source ON consent_state"
    " FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status"
    " OR OLD.source IS DISTINCT FROM NEW.source) EXECUTE FUNCTION stat_state_upd();"
    "CREATE FUNCTION stat_state_del() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN"
    " UPDATE stat_state SET n = n - 1 WHERE brand_id = OLD.brand_id AND type = OLD.type"
    " AND rtype = OLD.rtype AND status = OLD.status AND source = coalesce(OLD.source, '');"
    " RETURN NULL; END$$;"
    "CREATE TRIGGER stat_state_del AFTER DELETE ON consent_state"
    " FOR EACH ROW WHEN (OLD.seg_id IS NULL) EXECUTE FUNCTION stat_state_del();"
    "CREATE FUNCTION stat_days_log() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN"
    " INSERT INTO stat_days VALUES(NEW.brand_id, stat_day(NEW.creation_ms),"
    " coalesce(NEW.origin, ''), 1) ON CONFLICT (brand_id, day, origin)"
    " DO UPDATE SET n = stat_days.n + 1;"
    " RETURN NULL; END$$;"
    "CREATE TRIGGER stat_days_log AFTER INSERT ON consent_log"
    " FOR EACH ROW EXECUTE FUNCTION stat_days_log();"
    "CREATE FUNCTION stat_days_seg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN"
    " INSERT INTO stat_days VALUES(NEW.brand_id, stat_day(NEW.creation_ms), NEW.origin,"
    " NEW.count) ON CONFLICT (brand_id, day, origin) DO UPDATE SET n = stat_days.n + EXCLUDED.n;"
    " RETURN NULL; END$$;"
    "CREATE TRIGGER stat_days_seg AFTER INSERT ON log_segments"
    " FOR EACH ROW EXECUTE FUNCTION stat_days_seg();"
    "CREATE INDEX consent_log_iys ON consent_log(brand_id, id) WHERE origin = 'IYS';"
    /* 18: content rules (brands' columns above) and each account's consent
     * records for its plan. */
    "CREATE TABLE account_usage("
    " account_id BIGINT PRIMARY KEY,"
    " records BIGINT NOT NULL);";
