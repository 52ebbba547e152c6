/*
 * simstore.c - the İYS emulator's store: one SQLite file (DIR/iys-sim.db)
 * holding what the emulated İYS knows - providers with their API users and
 * subscriptions, brands, OAuth tokens, the hash-chained consent log and the
 * current state of every key, async bulk requests, push registrations and
 * citizens' complaints (schema and invariants at the top of simstore.h).
 *
 * It runs on the module's SQLite plumbing (store/sqlite_util.h), as the
 * module's own store does: one sqlite3 connection behind a lock, each
 * statement written where it runs and run in one call (prepared on first
 * use and cached), WAL with synchronous=FULL so that a call returning 0 is
 * on disk, an ordered list of migrations, BEGIN IMMEDIATE around every
 * multi-statement write, and no transaction left open on any way out of a
 * function. A batch (iz_sim_batch_begin) makes many such calls of one
 * thread one transaction: the bulk worker applies a request's items with
 * their results that way, with one fsync. The chain check (iz_sim_verify)
 * reads through a read-only connection of its own, so a long walk does not
 * hold writers up. The schema, the statements and the logic are this
 * file's.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "core/iz.h"
#include "sys/crypto.h"
#include "sys/fs.h"
#include "sys/log.h"
#include "sim/simstore.h"
#include "sim/simstore_int.h"
#include "store/sqlite_util.h"

#define SS_PBKDF2_ITER 10000 /* the emulator guards test accounts, not real ones */
#define SS_SALT_LEN 16
#define SS_DK_LEN 32
#define SS_PASSWORD_MAX 1024
#define SS_PUSH_MAX (64 * 1024) /* bytes of a brand's push connections JSON */
#define SS_HASH_FIELDS 12
#define SS_HEX 65
#define SS_NAME_MAX 128 /* the name buffers of providers and brands */

/* ---- schema ------------------------------------------------------------- */

/* The migrations, applied in order; migrations[i] brings the schema from
 * version i to version i + 1. A released entry is never edited. */
static const char *const migrations[] = {
    /* 1: everything in simstore.h's schema. */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE providers("
    " iys_code INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " username TEXT NOT NULL UNIQUE,"
    " pw_salt TEXT NOT NULL,"
    " pw_hash TEXT NOT NULL,"
    " subscription TEXT NOT NULL"
    "  CHECK(subscription IN ('ACTIVE', 'PAUSED', 'EXPIRED', 'CLOSED', 'NONE')),"
    " quota INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL);"
    "CREATE TABLE brands("
    " iys_code INTEGER NOT NULL REFERENCES providers(iys_code),"
    " brand_code INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " PRIMARY KEY(iys_code, brand_code)) WITHOUT ROWID;"
    "CREATE TABLE tokens("
    " hash TEXT PRIMARY KEY,"
    " kind TEXT NOT NULL CHECK(kind IN ('access', 'refresh')),"
    " iys_code INTEGER NOT NULL,"
    " expires INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX tokens_expires ON tokens(expires);"
    "CREATE TABLE consent_log("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " iys_code INTEGER NOT NULL,"
    " brand_code INTEGER NOT NULL,"
    " recipient TEXT NOT NULL,"
    " rtype TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " source TEXT,"
    " consent_date INTEGER,"
    " creation INTEGER NOT NULL,"
    " txid TEXT NOT NULL,"
    " request_id TEXT,"
    " citizen_name TEXT,"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE INDEX consent_log_key ON consent_log(iys_code, brand_code, rtype, type, recipient);"
    "CREATE INDEX consent_log_brand ON consent_log(iys_code, brand_code, id);"
    "CREATE INDEX consent_log_txid ON consent_log(txid);"
    /* Append-only for every writer of the file: no delete, and no change at
     * all once the row has its hash (it is inserted with '' and given its
     * hash in the same transaction, when its id is known). */
    "CREATE TRIGGER consent_log_no_delete BEFORE DELETE ON consent_log"
    " BEGIN SELECT RAISE(ABORT, 'consent_log is append-only'); END;"
    "CREATE TRIGGER consent_log_no_update BEFORE UPDATE ON consent_log WHEN old.hash <> ''"
    " BEGIN SELECT RAISE(ABORT, 'consent_log is append-only'); END;"
    "CREATE TABLE consent_state("
    " iys_code INTEGER NOT NULL,"
    " brand_code INTEGER NOT NULL,"
    " rtype TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " recipient TEXT NOT NULL,"
    " log_id INTEGER NOT NULL REFERENCES consent_log(id),"
    " status TEXT NOT NULL,"
    " source TEXT,"
    " consent_date INTEGER,"
    " creation INTEGER NOT NULL,"
    " txid TEXT NOT NULL,"
    " PRIMARY KEY(iys_code, brand_code, rtype, type, recipient)) WITHOUT ROWID;"
    "CREATE INDEX consent_state_recipient ON consent_state(recipient);"
    "CREATE TABLE bulk_requests("
    " request_id TEXT PRIMARY KEY,"
    " iys_code INTEGER NOT NULL,"
    " brand_code INTEGER NOT NULL,"
    " created INTEGER NOT NULL,"
    " process_after INTEGER NOT NULL,"
    " processed_at INTEGER);"
    "CREATE INDEX bulk_requests_due ON bulk_requests(processed_at, process_after);"
    "CREATE INDEX bulk_requests_created ON bulk_requests(created);"
    "CREATE TABLE bulk_items("
    " request_id TEXT NOT NULL REFERENCES bulk_requests(request_id) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL,"
    " sub_request_id TEXT NOT NULL DEFAULT '',"
    " body TEXT NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'enqueue'"
    "  CHECK(status IN ('enqueue', 'success', 'failure')),"
    " txid TEXT,"
    " creation INTEGER,"
    " error_code TEXT,"
    " error_message TEXT,"
    " PRIMARY KEY(request_id, idx)) WITHOUT ROWID;"
    "CREATE TABLE push("
    " iys_code INTEGER NOT NULL,"
    " brand_code INTEGER NOT NULL,"
    " connections TEXT NOT NULL,"
    " cursor INTEGER NOT NULL,"
    " PRIMARY KEY(iys_code, brand_code)) WITHOUT ROWID;"
    "CREATE TABLE complaints("
    " id INTEGER PRIMARY KEY,"
    " iys_code INTEGER NOT NULL,"
    " brand_code INTEGER NOT NULL,"
    " recipient TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " message_time INTEGER NOT NULL,"
    " text TEXT NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE INDEX complaints_provider ON complaints(iys_code, created);",
    /* 2: a provider's İYS activation date (H467 applies after it). */
    "ALTER TABLE providers ADD COLUMN activation_date TEXT;",
    /* 3: what the bulk worker writes for every change, made cheaper
     * (docs/DECISIONS.md). consent_state keyed recipient first, so that its
     * key serves the citizen's view and the index on recipient goes: one
     * b-tree fewer to write at a random place. The log's transactionId
     * index in time order, so that it grows at its end. And every
     * provider's number of keys kept by the database itself, so that the
     * quota check reads one row instead of counting the provider's keys for
     * every change (an upsert that updates a key fires no INSERT trigger). */
    "CREATE TABLE consent_state_v3("
    " iys_code INTEGER NOT NULL,"
    " brand_code INTEGER NOT NULL,"
    " rtype TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " recipient TEXT NOT NULL,"
    " log_id INTEGER NOT NULL REFERENCES consent_log(id),"
    " status TEXT NOT NULL,"
    " source TEXT,"
    " consent_date INTEGER,"
    " creation INTEGER NOT NULL,"
    " txid TEXT NOT NULL,"
    " PRIMARY KEY(recipient, iys_code, brand_code, rtype, type)) WITHOUT ROWID;"
    "INSERT INTO consent_state_v3 SELECT iys_code, brand_code, rtype, type, recipient, log_id,"
    " status, source, consent_date, creation, txid FROM consent_state;"
    "DROP TABLE consent_state;"
    "ALTER TABLE consent_state_v3 RENAME TO consent_state;"
    "DROP INDEX consent_log_txid;"
    "CREATE INDEX consent_log_txid ON consent_log(iys_code, brand_code, creation, txid);"
    "CREATE TABLE provider_records("
    " iys_code INTEGER PRIMARY KEY,"
    " records INTEGER NOT NULL);"
    "INSERT INTO provider_records(iys_code, records)"
    " SELECT iys_code, count(*) FROM consent_state GROUP BY iys_code;"
    "CREATE TRIGGER consent_state_added AFTER INSERT ON consent_state BEGIN"
    " INSERT INTO provider_records(iys_code, records) VALUES(new.iys_code, 1)"
    " ON CONFLICT(iys_code) DO UPDATE SET records = records + 1;"
    " END;"
    "CREATE TRIGGER consent_state_removed AFTER DELETE ON consent_state BEGIN"
    " UPDATE provider_records SET records = records - 1 WHERE iys_code = old.iys_code;"
    " END;",
    /* retailers (issue 12, İYS's BAYİ YÖNETİMİ and BAYİ İZİN YÖNETİMİ): a
     * brand's retailers, which of them may see which consent, and the
     * retailer a consent was obtained through (docs/IYS-EMULATOR.md). A
     * retailer's code is random, so a list in creation order goes by its
     * id; mersis and tckn are unique within a provider, which the add
     * checks through the two indexes. */
    "CREATE TABLE retailers("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " retailer_code INTEGER NOT NULL UNIQUE,"
    " iys_code INTEGER NOT NULL,"
    " brand_code INTEGER NOT NULL,"
    " title TEXT NOT NULL,"
    " mersis TEXT,"
    " alias TEXT,"
    " name TEXT NOT NULL,"
    " tckn TEXT NOT NULL,"
    " mobile TEXT,"
    " tin TEXT NOT NULL,"
    " city_code TEXT NOT NULL,"
    " city_name TEXT NOT NULL,"
    " town_code TEXT NOT NULL,"
    " town_name TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK(status IN ('active', 'passive', 'suspended')),"
    " created INTEGER NOT NULL,"
    " FOREIGN KEY(iys_code, brand_code) REFERENCES brands(iys_code, brand_code));"
    "CREATE INDEX retailers_brand ON retailers(iys_code, brand_code, id);"
    "CREATE INDEX retailers_mersis ON retailers(iys_code, mersis);"
    "CREATE INDEX retailers_tckn ON retailers(iys_code, tckn);"
    "CREATE TABLE retailer_access("
    " iys_code INTEGER NOT NULL,"
    " brand_code INTEGER NOT NULL,"
    " rtype TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " recipient TEXT NOT NULL,"
    " retailer_code INTEGER NOT NULL REFERENCES retailers(retailer_code),"
    " created INTEGER NOT NULL,"
    " PRIMARY KEY(iys_code, brand_code, rtype, type, recipient, retailer_code)) WITHOUT ROWID;"
    "CREATE INDEX retailer_access_retailer ON retailer_access(retailer_code);"
    "CREATE TABLE consent_mediator("
    " iys_code INTEGER NOT NULL,"
    " brand_code INTEGER NOT NULL,"
    " rtype TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " recipient TEXT NOT NULL,"
    " retailer_code INTEGER NOT NULL REFERENCES retailers(retailer_code),"
    " PRIMARY KEY(iys_code, brand_code, rtype, type, recipient)) WITHOUT ROWID;"
    "CREATE INDEX consent_mediator_retailer ON consent_mediator(retailer_code);",
    /* 5 (reconciliation, recon.c): the daily change files of every brand
     * (the rows of the day with id <= max_id, their SHA-384 and RFC 3161
     * timestamp reply, the provider's agreement), the days whose day-end
     * has run, and the emulator's timestamping key and certificate. */
    "CREATE TABLE recon_files("
    " iys_code INTEGER NOT NULL,"
    " brand_code INTEGER NOT NULL,"
    " report_date TEXT NOT NULL,"
    " rows INTEGER NOT NULL,"
    " max_id INTEGER NOT NULL,"
    " hash TEXT NOT NULL,"
    " tsr BLOB NOT NULL,"
    " generated INTEGER NOT NULL,"
    " agreed INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(iys_code, brand_code, report_date)) WITHOUT ROWID;"
    "CREATE INDEX recon_files_date ON recon_files(report_date);"
    "CREATE TABLE recon_days(report_date TEXT PRIMARY KEY, done INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE recon_tsa("
    " id INTEGER PRIMARY KEY CHECK(id = 1),"
    " key_pem TEXT NOT NULL,"
    " cert_pem TEXT NOT NULL);",
    /* 6 (ViA and OTP management, issue 12): the tables of viastore.h -
     * ViA subscriptions with their credit, forms / templates / widgets, the
     * consent and verification processes, the KVK consents they record, the
     * messages İYS "sent", the e-mail opt-out links and the widgets' nonces. */
    "CREATE TABLE via_subscriptions("
    " iys_code INTEGER PRIMARY KEY,"
    " credit INTEGER NOT NULL,"
    " body TEXT NOT NULL);"
    "CREATE TABLE via_config("
    " kind TEXT NOT NULL CHECK(kind IN ('FORM', 'TEMPLATE', 'WIDGET')),"
    " id TEXT NOT NULL,"
    " iys_code INTEGER NOT NULL,"
    " body TEXT NOT NULL,"
    " PRIMARY KEY(kind, id)) WITHOUT ROWID;"
    "CREATE TABLE via_requests("
    " request_id TEXT PRIMARY KEY,"
    " iys_code INTEGER NOT NULL,"
    " short_code TEXT UNIQUE,"
    " created INTEGER NOT NULL,"
    " body TEXT NOT NULL);"
    "CREATE TABLE via_kvk("
    " id INTEGER PRIMARY KEY,"
    " iys_code INTEGER NOT NULL,"
    " request_id TEXT NOT NULL,"
    " recipient TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " body TEXT NOT NULL);"
    "CREATE INDEX via_kvk_request ON via_kvk(request_id);"
    "CREATE INDEX via_kvk_recipient ON via_kvk(iys_code, recipient, type);"
    "CREATE TABLE via_messages("
    " id INTEGER PRIMARY KEY,"
    " recipient TEXT NOT NULL,"
    " request_id TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " body TEXT NOT NULL);"
    "CREATE INDEX via_messages_recipient ON via_messages(recipient, id);"
    "CREATE TABLE via_links("
    " hash TEXT PRIMARY KEY,"
    " iys_code INTEGER NOT NULL,"
    " brand_code INTEGER NOT NULL,"
    " recipient TEXT NOT NULL,"
    " rtype TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL,"
    " used INTEGER) WITHOUT ROWID;"
    "CREATE TABLE via_nonces("
    " nonce TEXT PRIMARY KEY,"
    " widget TEXT NOT NULL,"
    " csrf TEXT,"
    " expires INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX via_nonces_expires ON via_nonces(expires);",
    /* 7 (accounts, subscriptions, integrators; issue 12, docs/IYS-EMULATOR.md):
     * the provider's HS subscription beyond its state (subscription) and
     * consent limit (quota): may the limit be passed, does the package
     * include API use, its id, package name and dates (an expiry date, when
     * set, makes an ACTIVE subscription read EXPIRED once it is past). A
     * provider's ViA and ViA PASS subscriptions. Integrators (iş ortakları)
     * with their own API users and subscription, and the brands providers
     * authorized them for, with a right per consent type. Every token says
     * whose it is. A username is one login for providers and integrators
     * alike, so account_names holds every taken one (kept by triggers). */
    "ALTER TABLE providers ADD COLUMN limit_exceed INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE providers ADD COLUMN api_access INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE providers ADD COLUMN sub_id TEXT;"
    "ALTER TABLE providers ADD COLUMN sub_package TEXT;"
    "ALTER TABLE providers ADD COLUMN sub_start INTEGER;"
    "ALTER TABLE providers ADD COLUMN sub_end INTEGER;"
    "CREATE TABLE product_subscriptions("
    " iys_code INTEGER NOT NULL REFERENCES providers(iys_code),"
    " product TEXT NOT NULL CHECK(product IN ('VIA', 'VIA_PASS')),"
    " sub_id TEXT NOT NULL,"
    " package TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK(status IN ('ACTIVE', 'PAUSED', 'EXPIRED', 'CLOSED')),"
    " sub_start INTEGER NOT NULL,"
    " sub_end INTEGER NOT NULL,"
    " credit INTEGER NOT NULL,"
    " PRIMARY KEY(iys_code, product)) WITHOUT ROWID;"
    "CREATE TABLE integrators("
    " code INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " username TEXT NOT NULL UNIQUE,"
    " pw_salt TEXT NOT NULL,"
    " pw_hash TEXT NOT NULL,"
    " subscription TEXT NOT NULL"
    "  CHECK(subscription IN ('ACTIVE', 'PAUSED', 'EXPIRED', 'CLOSED', 'NONE')),"
    " sub_id TEXT,"
    " sub_package TEXT,"
    " sub_start INTEGER,"
    " sub_end INTEGER,"
    " created INTEGER NOT NULL);"
    "CREATE TABLE integrator_brands("
    " integrator_code INTEGER NOT NULL REFERENCES integrators(code),"
    " iys_code INTEGER NOT NULL,"
    " brand_code INTEGER NOT NULL,"
    " mesaj TEXT CHECK(mesaj IN ('read', 'write')),"
    " arama TEXT CHECK(arama IN ('read', 'write')),"
    " eposta TEXT CHECK(eposta IN ('read', 'write')),"
    " agreement INTEGER NOT NULL DEFAULT 0,"
    " via INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(integrator_code, iys_code, brand_code),"
    " FOREIGN KEY(iys_code, brand_code) REFERENCES brands(iys_code, brand_code)) WITHOUT ROWID;"
    "CREATE INDEX integrator_brands_sp ON integrator_brands(iys_code, brand_code);"
    "ALTER TABLE tokens ADD COLUMN owner TEXT NOT NULL DEFAULT 'sp'"
    " CHECK(owner IN ('sp', 'integrator'));"
    "CREATE TABLE account_names(username TEXT PRIMARY KEY) WITHOUT ROWID;"
    "INSERT INTO account_names SELECT username FROM providers;"
    "CREATE TRIGGER providers_name AFTER INSERT ON providers"
    " BEGIN INSERT INTO account_names VALUES(new.username); END;"
    "CREATE TRIGGER integrators_name AFTER INSERT ON integrators"
    " BEGIN INSERT INTO account_names VALUES(new.username); END;",
    /* 8 (conformance, issue 12: one ViA credit): the ViA part's
     * via_subscriptions (v6) and the accounts part's product_subscriptions
     * (v7) both kept a ViA credit. product_subscriptions is now the one
     * source: it gets the two fields only the ViA part had (limited,
     * autoRenewal) and the row's creation time, each via_subscriptions row
     * becomes the provider's VIA row (the credit ViA and OTP processes took
     * wins over an accounts row; PASSIVE reads PAUSED) and the old table
     * goes. */
    "ALTER TABLE product_subscriptions ADD COLUMN limited INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE product_subscriptions ADD COLUMN auto_renewal INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE product_subscriptions ADD COLUMN created INTEGER NOT NULL DEFAULT 0;"
    "UPDATE product_subscriptions SET created = sub_start;"
    "INSERT INTO product_subscriptions(iys_code, product, sub_id, package, status, sub_start,"
    " sub_end, credit, limited, auto_renewal, created)"
    " SELECT v.iys_code, 'VIA', coalesce(json_extract(v.body, '$.id'), 'via-' || v.iys_code),"
    "  coalesce(json_extract(v.body, '$.package'), 'VIA-PASS-25'),"
    "  CASE json_extract(v.body, '$.status') WHEN 'ACTIVE' THEN 'ACTIVE' ELSE 'PAUSED' END,"
    "  coalesce(json_extract(v.body, '$.start'), 0),"
    "  coalesce(json_extract(v.body, '$.expiration'), 0), v.credit,"
    "  coalesce(json_extract(v.body, '$.limited'), 1),"
    "  coalesce(json_extract(v.body, '$.autoRenewal'), 1),"
    "  coalesce(json_extract(v.body, '$.created'), 0)"
    " FROM via_subscriptions v WHERE v.iys_code IN (SELECT iys_code FROM providers)"
    " ON CONFLICT(iys_code, product) DO UPDATE SET sub_id = excluded.sub_id,"
    " package = excluded.package, status = excluded.status, sub_start = excluded.sub_start,"
    " sub_end = excluded.sub_end, credit = excluded.credit, limited = excluded.limited,"
    " auto_renewal = excluded.auto_renewal, created = excluded.created;"
    "DROP TABLE via_subscriptions;",
};

/* ---- statements ---------------------------------------------------------- */

/* Each statement is written where it runs (sqlite_util.h caches it by its
 * address); these are the column lists and conditions several share. */

/* The subscription as it reads now: an ACTIVE one past its expiry date is
 * EXPIRED (the stored state is what was set). */
#define PROV_COLS                                                                                  \
    "iys_code, name, username,"                                                                    \
    " CASE WHEN subscription = 'ACTIVE' AND sub_end IS NOT NULL"                                   \
    "  AND sub_end < CAST(strftime('%s', 'now') AS INTEGER) THEN 'EXPIRED' ELSE subscription END," \
    " quota, created, activation_date, limit_exceed, api_access, sub_id, sub_package, sub_start,"  \
    " sub_end"
#define LOG_COLS                                                                                   \
    "l.id, l.iys_code, l.brand_code, l.recipient, l.rtype, l.type, l.status, l.source,"            \
    " l.consent_date, l.creation, l.txid, l.request_id, l.citizen_name"
#define KEY_WHERE                                                                                  \
    "iys_code = ?1 AND brand_code = ?2 AND rtype = ?3 AND type = ?4 AND recipient = ?5"
#define BULK_COLS "request_id, iys_code, brand_code, created, process_after, processed_at"
#define COMPLAINT_COLS "id, iys_code, brand_code, recipient, type, message_time, text, created"

static const iz_sq_def_t ss_def = {
    .who = "sim store",
    .migrations = migrations,
    .nmigrations = (int)IZ_ARRAY_LEN(migrations),
};

struct iz_sim_store {
    iz_sq_t q;
    bool batch;   /* a batch is open (iz_sim_batch_begin); read and set under q's lock */
    int batch_rc; /* the failure that spoiled the open batch, or 0 */
};

/* ---- helpers ------------------------------------------------------------ */

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* ---- open, close ----------------------------------------------- */

void iz_sim_store_close(iz_sim_store_t *st)
{
    if (!st) return;
    iz__sq_close(&st->q);
    free(st);
}

int iz_sim_store_open(const char *dir, iz_sim_store_t **out, const char **err)
{
    const char *dummy;
    if (!err) err = &dummy;
    *err = NULL;
    if (!out || !dir || !*dir) {
        *err = "sim store directory is empty";
        return IZ_EINVAL;
    }
    *out = NULL;
    int rc = iz_mkdirs(dir, err);
    if (rc != 0) return rc;
    char path[PATH_MAX];
    int len = snprintf(path, sizeof path, "%s/iys-sim.db", dir);
    if (len < 0 || (size_t)len >= sizeof path) {
        *err = "sim store directory path is too long";
        return IZ_ETOOBIG;
    }
    iz_sim_store_t *s = iz_xcalloc(1, sizeof *s);
    if ((rc = iz__sq_open(&s->q, &ss_def, path, err)) != 0) {
        free(s);
        return rc;
    }
    /* The bulk worker writes a whole request in one transaction (bulk.c):
     * a page cache that holds what it touches (64 MiB at most instead of
     * SQLite's 2 MiB: no spilling to the log mid-transaction, no reading
     * back), and the log copied into the database every 10,000 pages
     * instead of every 1000, so that a page several transactions in a row
     * rewrite is copied once. Both are this connection's, not the file's. */
    if ((rc = iz__sq_run(&s->q, "PRAGMA cache_size = -65536", NULL)) != 0 ||
        (rc = iz__sq_get(&s->q, "PRAGMA wal_autocheckpoint = 10000", NULL, NULL, NULL)) != 0) {
        *err = "cannot configure the sim store's cache and checkpoints";
        iz_sim_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

iz_sq_t *iz__sim_store_sq(iz_sim_store_t *st)
{
    return &st->q;
}

/* ---- transactions and batches ------------------------------------------ */

/* Every transaction of this file: its own (BEGIN IMMEDIATE for a write,
 * BEGIN for a read), or, on the thread that holds a batch, the batch's
 * transaction - so that a call made alone is durable when it returns and
 * the same call made in a batch is part of the batch. The lock is taken
 * first: st->batch is true only while its thread holds the lock, so any
 * other thread reads it false once it has the lock.
 *
 * A call in a batch has no savepoint of its own (one a change cost a
 * tenth of the bulk worker's time): a call that fails after it may have
 * written spoils the batch instead - every later call fails with the same
 * error and iz_sim_batch_end rolls the whole batch back. A refusal that
 * writes nothing (tx_end's clean) leaves it usable. */
static int tx_begin(iz_sim_store_t *st, bool write)
{
    iz__sq_lock(&st->q);
    if (!st->batch) return write ? iz__sq_begin(&st->q) : iz__sq_begin_read(&st->q);
    /* SQLite rolls a transaction back on its own after some failures (I/O
     * error, disk full); what came after would be written outside it. */
    if (st->batch_rc == 0 && sqlite3_get_autocommit(st->q.db)) st->batch_rc = IZ_EIO;
    return st->batch_rc;
}

/* The end of tx_begin's transaction: commit when rc is 0, else roll back;
 * returns rc or the commit's failure. In a batch, a failure that is not
 * clean (nothing written) spoils the batch. */
static int tx_end(iz_sim_store_t *st, int rc, bool clean)
{
    if (!st->batch)
        rc = iz__sq_end(&st->q, rc);
    else if (rc != 0 && !clean && st->batch_rc == 0)
        st->batch_rc = rc < 0 ? rc : IZ_EIO;
    iz__sq_unlock(&st->q); /* the outermost release: rolls back what is still open */
    return rc;
}

int iz_sim_batch_begin(iz_sim_store_t *st)
{
    if (!st) return IZ_EINVAL;
    int rc = iz__sq_begin(&st->q);
    st->batch = rc == 0;
    st->batch_rc = 0;
    return rc;
}

int iz_sim_batch_end(iz_sim_store_t *st, int rc)
{
    if (!st) return IZ_EINVAL;
    if (rc == 0) rc = st->batch_rc;
    st->batch = false;
    st->batch_rc = 0;
    return iz__sq_end(&st->q, rc);
}

/* ---- providers and brands ----------------------------------------------- */

static const char *const sub_names[] = {
    [IZ_SUB_NONE] = "NONE",       [IZ_SUB_ACTIVE] = "ACTIVE", [IZ_SUB_PAUSED] = "PAUSED",
    [IZ_SUB_EXPIRED] = "EXPIRED", [IZ_SUB_CLOSED] = "CLOSED",
};

const char *iz_sub_name(iz_sub_t s)
{
    return (unsigned)s < IZ_ARRAY_LEN(sub_names) ? sub_names[s] : NULL;
}

int iz_sub_parse(const char *s, iz_sub_t *out)
{
    if (!s || !out) return IZ_EINVAL;
    for (size_t i = 0; i < IZ_ARRAY_LEN(sub_names); i++) {
        if (strcmp(s, sub_names[i]) == 0) {
            *out = (iz_sub_t)i;
            return 0;
        }
    }
    return IZ_EINVAL;
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Decode exactly n bytes of lower-case hex; IZ_EINVAL otherwise. */
static int hex_decode(const char *h, unsigned char *b, size_t n)
{
    if (strlen(h) != 2 * n) return IZ_EINVAL;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_val(h[2 * i]), lo = hex_val(h[2 * i + 1]);
        if (hi < 0 || lo < 0) return IZ_EINVAL;
        b[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* The hex PBKDF2-HMAC-SHA256 of password with salt. */
static int pw_derive(const char *password, const unsigned char salt[SS_SALT_LEN],
                     char out[2 * SS_DK_LEN + 1])
{
    unsigned char dk[SS_DK_LEN];
    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, SS_SALT_LEN, SS_PBKDF2_ITER,
                          EVP_sha256(), SS_DK_LEN, dk) != 1) {
        iz_logf(IZ_LOG_ERROR, "sim store", "PBKDF2 failed", NULL);
        return IZ_EIO;
    }
    iz_hex(dk, sizeof dk, out);
    iz_wipe(dk, sizeof dk);
    return 0;
}

/* A real calendar date "YYYY-MM-DD" (core/trtime.h checks it). */
static bool date_shape(const char *d)
{
    int64_t e;
    return iz_tr_parse_date(d, &e) == 0;
}

static void provider_read(const iz_row_t *row, void *out)
{
    iz_sim_provider_t *p = out;
    const char *t;
    p->iys_code = iz_row_i64(row, 0);
    iz_row_str(row, 1, p->name, sizeof p->name);
    iz_row_str(row, 2, p->username, sizeof p->username);
    if ((t = iz_row_text(row, 3))) (void)iz_sub_parse(t, &p->subscription);
    p->quota = iz_row_i64(row, 4);
    p->created = iz_row_i64(row, 5);
    iz_row_str(row, 6, p->activation_date, sizeof p->activation_date);
    p->limit_exceed = iz_row_i64(row, 7) != 0;
    p->api_access = iz_row_i64(row, 8) != 0;
    iz_row_str(row, 9, p->sub_id, sizeof p->sub_id);
    iz_row_str(row, 10, p->sub_package, sizeof p->sub_package);
    p->sub_start = iz_row_i64(row, 11);
    p->sub_end = iz_row_i64(row, 12);
}

static const iz_sq_row_t provider_row = IZ_SQ_ROW(iz_sim_provider_t, provider_read);

/* A new random salt and the password's hash with it, both as hex. */
static int pw_new(const char *password, char salt_hex[2 * SS_SALT_LEN + 1],
                  char hash[2 * SS_DK_LEN + 1])
{
    unsigned char salt[SS_SALT_LEN];
    if (iz_random(salt, sizeof salt) != 0) {
        iz_logf(IZ_LOG_ERROR, "sim store", "no randomness for a password salt", NULL);
        return IZ_EIO;
    }
    iz_hex(salt, sizeof salt, salt_hex);
    return pw_derive(password, salt, hash);
}

/* An account's name and username fit their buffers, its password its
 * bound; IZ_ETOOBIG otherwise, IZ_EINVAL for an empty username or
 * password. */
static int account_fits(const char *name, size_t name_size, const char *username,
                        size_t username_size, const char *password)
{
    if (iz__sq_fits(name, name_size) || iz__sq_fits(username, username_size) ||
        strnlen(password, SS_PASSWORD_MAX + 1) > SS_PASSWORD_MAX)
        return IZ_ETOOBIG;
    return username[0] && password[0] ? 0 : IZ_EINVAL;
}

/* Insert an account (a provider or an integrator) with sql, whose ?4 and
 * ?5 are the password's salt and hash: this fills args[3] and args[4]. */
static int account_insert(iz_sim_store_t *st, const char *sql, const char *password,
                          iz_sq_arg_t *args)
{
    char salt_hex[2 * SS_SALT_LEN + 1], hash[2 * SS_DK_LEN + 1];
    int rc = pw_new(password, salt_hex, hash);
    if (rc == 0) {
        args[3] = IZ_SQ_TEXT(salt_hex);
        args[4] = IZ_SQ_TEXT(hash);
        rc = iz__sq_write(&st->q, sql, args, NULL);
    }
    iz_wipe(hash, sizeof hash);
    return rc;
}

int iz_sim_provider_add(iz_sim_store_t *st, const iz_sim_provider_t *p, const char *password)
{
    if (!st || !p || !password) return IZ_EINVAL;
    int rc = account_fits(p->name, sizeof p->name, p->username, sizeof p->username, password);
    if (rc != 0) return rc;
    const char *sub = iz_sub_name(p->subscription);
    if (p->iys_code <= 0 || !sub || p->quota < 0 ||
        (p->activation_date[0] && !date_shape(p->activation_date)))
        return IZ_EINVAL;
    iz_sq_arg_t args[] = {IZ_SQ_I64(p->iys_code),
                          IZ_SQ_TEXT(p->name),
                          IZ_SQ_TEXT(p->username),
                          IZ_SQ_NULL,
                          IZ_SQ_NULL,
                          IZ_SQ_TEXT(sub),
                          IZ_SQ_I64(p->quota),
                          IZ_SQ_I64(p->created ? p->created : now_s()),
                          IZ_SQ_OPT(p->activation_date),
                          {.kind = IZ_SQ_K_END}};
    return account_insert(st,
                          "INSERT INTO providers(iys_code, name, username, pw_salt, pw_hash,"
                          " subscription, quota, created, activation_date)"
                          " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                          password, args);
}

int iz_sim_integrator_add(iz_sim_store_t *st, const iz_sim_integrator_t *ig, const char *password)
{
    if (!st || !ig || !password) return IZ_EINVAL;
    int rc = account_fits(ig->name, sizeof ig->name, ig->username, sizeof ig->username, password);
    if (rc != 0) return rc;
    const char *sub = iz_sub_name(ig->sub.status);
    if (ig->code <= 0 || !sub) return IZ_EINVAL;
    iz_sq_arg_t args[] = {IZ_SQ_I64(ig->code),
                          IZ_SQ_TEXT(ig->name),
                          IZ_SQ_TEXT(ig->username),
                          IZ_SQ_NULL,
                          IZ_SQ_NULL,
                          IZ_SQ_TEXT(sub),
                          IZ_SQ_OPT(ig->sub.id),
                          IZ_SQ_OPT(ig->sub.package),
                          IZ_SQ_OPT_I64(ig->sub.start),
                          IZ_SQ_OPT_I64(ig->sub.end),
                          IZ_SQ_I64(ig->created ? ig->created : now_s()),
                          {.kind = IZ_SQ_K_END}};
    return account_insert(st,
                          "INSERT INTO integrators(code, name, username, pw_salt, pw_hash,"
                          " subscription, sub_id, sub_package, sub_start, sub_end, created)"
                          " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                          password, args);
}

int iz_sim_provider_get(iz_sim_store_t *st, int64_t iys_code, iz_sim_provider_t *out)
{
    if (!st || !out) return IZ_EINVAL;
    return iz__sq_get(&st->q, "SELECT " PROV_COLS " FROM providers WHERE iys_code = ?1",
                      IZ_SQ_ARGS(IZ_SQ_I64(iys_code)), &provider_row, out);
}

int iz_sim_provider_update(iz_sim_store_t *st, int64_t iys_code, const iz_sub_t *sub,
                           const int64_t *quota)
{
    if (!st) return IZ_EINVAL;
    const char *name = NULL;
    if (sub && !(name = iz_sub_name(*sub))) return IZ_EINVAL;
    if (quota && *quota < 0) return IZ_EINVAL;
    /* NULL keeps the column's value (coalesce in the statement). */
    return iz__sq_update(
        &st->q,
        "UPDATE providers SET subscription = coalesce(?2, subscription),"
        " quota = coalesce(?3, quota) WHERE iys_code = ?1",
        IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_TEXT(name), quota ? IZ_SQ_I64(*quota) : IZ_SQ_NULL));
}

int iz_sim_provider_set_activation(iz_sim_store_t *st, int64_t iys_code, const char *date)
{
    if (!st || !date || (date[0] && !date_shape(date))) return IZ_EINVAL;
    return iz__sq_update(&st->q, "UPDATE providers SET activation_date = ?2 WHERE iys_code = ?1",
                         IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_OPT(date)));
}

typedef struct pw_row {
    char owner[16];
    int64_t code;
    char salt[2 * SS_SALT_LEN + 2];
    char hash[2 * SS_DK_LEN + 2];
} pw_row_t;

static void pw_read(const iz_row_t *rw, void *out)
{
    pw_row_t *row = out;
    iz_row_str(rw, 0, row->owner, sizeof row->owner);
    row->code = iz_row_i64(rw, 1);
    iz_row_str(rw, 2, row->salt, sizeof row->salt);
    iz_row_str(rw, 3, row->hash, sizeof row->hash);
}

static const iz_sq_row_t pw_row = IZ_SQ_ROW(pw_row_t, pw_read);

/* A username is a provider's or an integrator's (account_names keeps them
 * apart). The password is derived outside the lock (it is the slow part),
 * and an unknown username costs the same derivation as a known one, so the
 * answer time does not tell which usernames exist. */
int iz_sim_login(iz_sim_store_t *st, const char *username, const char *password,
                 iz_sim_owner_t *owner, int64_t *code)
{
    if (!st || !username || !password || !code) return IZ_EINVAL;
    pw_row_t row;
    memset(&row, 0, sizeof row);
    int rc = IZ_ENOTFOUND;
    if (!iz__sq_fits(username, SS_NAME_MAX) &&
        strnlen(password, SS_PASSWORD_MAX + 1) <= SS_PASSWORD_MAX)
        rc = iz__sq_get(&st->q,
                        "SELECT 'sp', iys_code, pw_salt, pw_hash FROM providers WHERE username = ?1"
                        " UNION ALL SELECT 'integrator', code, pw_salt, pw_hash FROM integrators"
                        " WHERE username = ?1",
                        IZ_SQ_ARGS(IZ_SQ_TEXT(username)), &pw_row, &row);
    if (rc != 0 && rc != IZ_ENOTFOUND) return rc;

    unsigned char salt[SS_SALT_LEN] = {0};
    char hash[2 * SS_DK_LEN + 1];
    int found = rc == 0 && hex_decode(row.salt, salt, sizeof salt) == 0;
    const char *pw = strnlen(password, SS_PASSWORD_MAX + 1) <= SS_PASSWORD_MAX ? password : "";
    if ((rc = pw_derive(pw, salt, hash)) != 0) return rc;
    bool ok = iz_secret_equal(hash, row.hash) && found;
    iz_wipe(hash, sizeof hash);
    if (!ok) return IZ_ENOTFOUND;
    if (owner) *owner = strcmp(row.owner, "integrator") == 0 ? IZ_SIM_INTEGRATOR : IZ_SIM_SP;
    *code = row.code;
    return 0;
}

int iz_sim_provider_login(iz_sim_store_t *st, const char *username, const char *password,
                          int64_t *iys_code)
{
    iz_sim_owner_t owner = IZ_SIM_SP;
    int64_t code = 0;
    int rc = iz_sim_login(st, username, password, &owner, &code);
    if (rc != 0) return rc;
    if (owner != IZ_SIM_SP) return IZ_ENOTFOUND;
    *iys_code = code;
    return 0;
}

int iz_sim_provider_list(iz_sim_store_t *st, iz_sim_provider_t **list, size_t *n)
{
    if (!st || !list || !n) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    return iz__sq_list(&st->q, "SELECT " PROV_COLS " FROM providers ORDER BY iys_code", NULL,
                       &provider_row, list, n);
}

int iz_sim_brand_add(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, const char *name)
{
    if (!st || !name) return IZ_EINVAL;
    if (iz__sq_fits(name, SS_NAME_MAX)) return IZ_ETOOBIG;
    if (brand_code <= 0) return IZ_EINVAL;
    return iz__sq_write(&st->q, "INSERT INTO brands(iys_code, brand_code, name) VALUES(?1, ?2, ?3)",
                        IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code), IZ_SQ_TEXT(name)),
                        NULL);
}

int iz_sim_brand_get(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, char name[128])
{
    if (!st) return IZ_EINVAL;
    return iz__sq_get_text(
        &st->q, "SELECT name FROM brands WHERE iys_code = ?1 AND brand_code = ?2",
        IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code)), name, SS_NAME_MAX);
}

/* ---- tokens ------------------------------------------------------------- */

static const char *owner_name(iz_sim_owner_t owner)
{
    return owner == IZ_SIM_INTEGRATOR ? "integrator" : "sp";
}

static int token_insert(iz_sim_store_t *st, const char *hash, const char *kind, int64_t code,
                        int64_t expires, iz_sim_owner_t owner)
{
    return iz__sq_write(&st->q,
                        "INSERT INTO tokens(hash, kind, iys_code, expires, owner)"
                        " VALUES(?1, ?2, ?3, ?4, ?5)",
                        IZ_SQ_ARGS(IZ_SQ_TEXT(hash), IZ_SQ_TEXT(kind), IZ_SQ_I64(code),
                                   IZ_SQ_I64(expires), IZ_SQ_TEXT(owner_name(owner))),
                        NULL);
}

int iz_sim_token_put(iz_sim_store_t *st, const char *access_hash, int64_t access_expires,
                     const char *refresh_hash, int64_t refresh_expires, int64_t code,
                     iz_sim_owner_t owner)
{
    if (!st || !access_hash || !refresh_hash) return IZ_EINVAL;
    if (!iz__sq_is_hex64(access_hash) || !iz__sq_is_hex64(refresh_hash)) return IZ_EINVAL;
    int rc = tx_begin(st, true);
    if (rc == 0) rc = token_insert(st, access_hash, "access", code, access_expires, owner);
    if (rc == 0) rc = token_insert(st, refresh_hash, "refresh", code, refresh_expires, owner);
    return tx_end(st, rc, false);
}

/* A token's owner as read: the code and whose it is. */
typedef struct token_owner {
    int64_t code;
    char owner[16];
} token_owner_t;

static void token_owner_read(const iz_row_t *row, void *out)
{
    token_owner_t *t = out;
    t->code = iz_row_i64(row, 0);
    iz_row_str(row, 1, t->owner, sizeof t->owner);
}

static const iz_sq_row_t token_owner_row = IZ_SQ_ROW(token_owner_t, token_owner_read);

static void token_owner_out(const token_owner_t *t, int64_t *code, iz_sim_owner_t *owner)
{
    *code = t->code;
    if (owner) *owner = strcmp(t->owner, "integrator") == 0 ? IZ_SIM_INTEGRATOR : IZ_SIM_SP;
}

int iz_sim_token_access(iz_sim_store_t *st, const char *access_hash, int64_t now, int64_t *code,
                        iz_sim_owner_t *owner)
{
    if (!st || !access_hash || !code) return IZ_EINVAL;
    if (!iz__sq_is_hex64(access_hash)) return IZ_ENOTFOUND;
    token_owner_t t = {0};
    int rc = iz__sq_get(&st->q,
                        "SELECT iys_code, owner FROM tokens WHERE hash = ?1 AND kind = 'access'"
                        " AND expires > ?2",
                        IZ_SQ_ARGS(IZ_SQ_TEXT(access_hash), IZ_SQ_I64(now)), &token_owner_row, &t);
    if (rc == 0) token_owner_out(&t, code, owner);
    return rc;
}

/* The delete is the consumption: of two callers racing with one token (on
 * this handle or another process's), only the one whose DELETE removed the
 * row gets the owner back. SQLite makes a RETURNING statement's changes
 * on its first step, so reading the one row is the whole delete. */
int iz_sim_token_refresh(iz_sim_store_t *st, const char *refresh_hash, int64_t now, int64_t *code,
                         iz_sim_owner_t *owner)
{
    if (!st || !refresh_hash || !code) return IZ_EINVAL;
    if (!iz__sq_is_hex64(refresh_hash)) return IZ_ENOTFOUND;
    token_owner_t t = {0};
    int rc = tx_begin(st, true);
    if (rc == 0)
        rc = iz__sq_get(&st->q,
                        "DELETE FROM tokens WHERE hash = ?1 AND kind = 'refresh'"
                        " AND expires > ?2 RETURNING iys_code, owner",
                        IZ_SQ_ARGS(IZ_SQ_TEXT(refresh_hash), IZ_SQ_I64(now)), &token_owner_row, &t);
    if ((rc = tx_end(st, rc, false)) == 0) token_owner_out(&t, code, owner);
    return rc;
}

int iz_sim_token_purge(iz_sim_store_t *st, int64_t now)
{
    if (!st) return IZ_EINVAL;
    return iz__sq_run(&st->q, "DELETE FROM tokens WHERE expires <= ?1", IZ_SQ_ARGS(IZ_SQ_I64(now)));
}

/* ---- consents ----------------------------------------------------------- */

/* The parameters ?1..?5 of a statement on one consent key (KEY_WHERE). */
#define KEY_ARGS(iys_code, brand_code, rt, ty, recipient)                                          \
    IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code), IZ_SQ_TEXT(rt), IZ_SQ_TEXT(ty),                    \
        IZ_SQ_TEXT(recipient)

static int change_check(const iz_sim_change_t *c, iz_sq_names_t *nm)
{
    if (iz__sq_fits(c->request_id, sizeof c->request_id) ||
        iz__sq_fits(c->citizen_name, sizeof c->citizen_name))
        return IZ_ETOOBIG;
    int rc =
        iz__sq_names(c->recipient, c->rtype, c->type, c->status, c->source, c->consent_date, nm);
    if (rc != 0) return rc;
    return c->iys_code <= 0 || c->brand_code <= 0 || c->creation < 0 ? IZ_EINVAL : 0;
}

/* Read a LOG_COLS row. Unknown spellings (a row written by hand) read as
 * the enum's NONE. */
static void change_read(const iz_row_t *row, void *out)
{
    iz_sim_change_t *c = out;
    c->id = iz_row_i64(row, 0);
    c->iys_code = iz_row_i64(row, 1);
    c->brand_code = iz_row_i64(row, 2);
    iz__sq_col_consent(row, 3, c->recipient, &c->rtype, &c->type, &c->status, &c->source,
                       &c->consent_date);
    c->creation = iz_row_i64(row, 9);
    iz_row_str(row, 10, c->txid, sizeof c->txid);
    iz_row_str(row, 11, c->request_id, sizeof c->request_id);
    iz_row_str(row, 12, c->citizen_name, sizeof c->citizen_name);
}

static const iz_sq_row_t change_row = IZ_SQ_ROW(iz_sim_change_t, change_read);

/* 1 with the stored change in *old when an identical change (same key,
 * status, source and consent_date) exists, 0 when not. */
static int find_repeat(iz_sim_store_t *st, const iz_sim_change_t *c, const iz_sq_names_t *nm,
                       iz_sim_change_t *old)
{
    return iz__sq_find(
        &st->q,
        "SELECT " LOG_COLS " FROM consent_log l WHERE " KEY_WHERE
        " AND status = ?6 AND source IS ?7 AND consent_date IS ?8"
        " ORDER BY id DESC LIMIT 1",
        IZ_SQ_ARGS(KEY_ARGS(c->iys_code, c->brand_code, nm->rtype, nm->type, c->recipient),
                   IZ_SQ_STATE_ARGS(nm, c->consent_date)),
        &change_row, old);
}

/* The key's current record and the provider's number of keys. */
static int read_current(iz_sim_store_t *st, const iz_sim_change_t *c, const iz_sq_names_t *nm,
                        iz_current_t *cur, int64_t *records)
{
    memset(cur, 0, sizeof *cur);
    int rc = iz__sq_find(
        &st->q, "SELECT status, source, consent_date FROM consent_state WHERE " KEY_WHERE,
        IZ_SQ_ARGS(KEY_ARGS(c->iys_code, c->brand_code, nm->rtype, nm->type, c->recipient)),
        &iz__sq_current_row, cur);
    if (rc < 0) return rc;
    return iz_sim_provider_records(st, c->iys_code, records);
}

/* The transactionId: SHA-256 of iys_code|brand_code|rtype|type|recipient|
 * creation, so that two changes of one address in one second share it. */
static void make_txid(const iz_sim_change_t *c, const iz_sq_names_t *nm, int64_t creation,
                      char out[SS_HEX])
{
    char iys[24], brand[24], cr[24];
    snprintf(iys, sizeof iys, "%" PRId64, c->iys_code);
    snprintf(brand, sizeof brand, "%" PRId64, c->brand_code);
    snprintf(cr, sizeof cr, "%" PRId64, creation);
    const char *f[] = {iys, brand, nm->rtype, nm->type, c->recipient, cr};
    iz_sha256_join_hex(f, IZ_ARRAY_LEN(f), out);
}

/* Insert the log row (the one chain writer of store/sqlite_util.c gives it
 * its hash over the fields simstore.h names) and move the key's state to
 * it; both inside the caller's transaction. */
static int write_change(iz_sim_store_t *st, const iz_sim_change_t *c, const iz_sq_names_t *nm,
                        int64_t creation, const char *txid, int64_t *id_out)
{
    int64_t id = 0;
    int rc = iz__sq_chain_append(
        &st->q,
        "INSERT INTO consent_log(iys_code, brand_code, rtype, type, recipient,"
        " status, source, consent_date, creation, txid, request_id, citizen_name,"
        " prev_hash, hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
        " ?12, ?13, '')",
        IZ_SQ_ARGS(KEY_ARGS(c->iys_code, c->brand_code, nm->rtype, nm->type, c->recipient),
                   IZ_SQ_STATE_ARGS(nm, c->consent_date), IZ_SQ_I64(creation), IZ_SQ_TEXT(txid),
                   IZ_SQ_OPT(c->request_id), IZ_SQ_OPT(c->citizen_name)),
        IZ_SQ_ARGS(IZ_SQ_I64(c->iys_code), IZ_SQ_I64(c->brand_code), IZ_SQ_TEXT(c->recipient),
                   IZ_SQ_TEXT(nm->rtype), IZ_SQ_TEXT(nm->type),
                   IZ_SQ_STATE_ARGS(nm, c->consent_date), IZ_SQ_I64(creation), IZ_SQ_TEXT(txid)),
        &id);
    if (rc == 0)
        rc = iz__sq_run(
            &st->q,
            "INSERT INTO consent_state(iys_code, brand_code, rtype, type, recipient,"
            " log_id, status, source, consent_date, creation, txid)"
            " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            " ON CONFLICT(iys_code, brand_code, rtype, type, recipient) DO UPDATE"
            " SET log_id = excluded.log_id, status = excluded.status,"
            " source = excluded.source, consent_date = excluded.consent_date,"
            " creation = excluded.creation, txid = excluded.txid",
            IZ_SQ_ARGS(KEY_ARGS(c->iys_code, c->brand_code, nm->rtype, nm->type, c->recipient),
                       IZ_SQ_I64(id), IZ_SQ_STATE_ARGS(nm, c->consent_date), IZ_SQ_I64(creation),
                       IZ_SQ_TEXT(txid)));
    if (rc == 0) *id_out = id;
    return rc;
}

/* The rule runs with the store's lock held and inside the transaction; it
 * must not call the store. */
int iz_sim_consent_apply(iz_sim_store_t *st, iz_sim_change_t *chg, bool idempotent,
                         iz_sim_rule_fn rule, void *ctx, const char **hcode)
{
    if (hcode) *hcode = NULL;
    if (!st || !chg) return IZ_EINVAL;
    iz_sq_names_t nm;
    int rc = change_check(chg, &nm);
    if (rc != 0) return rc;
    iz_sim_change_t old;
    iz_current_t cur;
    int64_t records = 0, id = 0, creation = 0;
    char txid[SS_HEX];
    const char *h = NULL;

    rc = tx_begin(st, true);
    if (rc == 0 && idempotent) rc = find_repeat(st, chg, &nm, &old); /* 1: found */
    if (rc == 0) rc = read_current(st, chg, &nm, &cur, &records);
    if (rc == 0 && rule && rule(ctx, &cur, records, &h) != 0) {
        if (hcode) *hcode = h;
        rc = IZ_ERULE;
    }
    if (rc == 0) {
        creation = chg->creation ? chg->creation : now_s();
        make_txid(chg, &nm, creation, txid);
        rc = write_change(st, chg, &nm, creation, txid, &id);
    }
    /* A repeat and a refusal are found before anything is written. */
    if ((rc = tx_end(st, rc, rc == 1 || rc == IZ_ERULE)) == 1) {
        *chg = old; /* an identical change: nothing was written */
        return IZ_REPEAT;
    }
    if (rc == 0) {
        chg->id = id;
        chg->creation = creation;
        memcpy(chg->txid, txid, sizeof chg->txid);
    }
    return rc;
}

int iz_sim_provider_records(iz_sim_store_t *st, int64_t iys_code, int64_t *records)
{
    if (!st || !records) return IZ_EINVAL;
    *records = 0; /* a provider with no key has no row */
    int rc = iz__sq_find(&st->q, "SELECT records FROM provider_records WHERE iys_code = ?1",
                         IZ_SQ_ARGS(IZ_SQ_I64(iys_code)), &iz__sq_i64_row, records);
    return rc < 0 ? rc : 0;
}

int iz_sim_consent_get(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, iz_rtype_t rtype,
                       iz_type_t type, const char *recipient, iz_sim_change_t *out)
{
    if (!st || !out) return IZ_EINVAL;
    const char *rt, *ty;
    int rc = iz__sq_key_names(rtype, type, recipient, &rt, &ty);
    if (rc != 0) return rc;
    return iz__sq_get(&st->q,
                      "SELECT " LOG_COLS " FROM consent_state s JOIN consent_log l"
                      " ON l.id = s.log_id WHERE s.iys_code = ?1 AND s.brand_code = ?2"
                      " AND s.rtype = ?3 AND s.type = ?4 AND s.recipient = ?5",
                      IZ_SQ_ARGS(KEY_ARGS(iys_code, brand_code, rt, ty, recipient)), &change_row,
                      out);
}

/* The count and the page are read in one read transaction, so the total
 * matches the page even while another process writes. */
int iz_sim_consent_history(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code,
                           iz_rtype_t rtype, iz_type_t type, const char *recipient, int64_t offset,
                           int64_t limit, iz_sim_change_t **list, size_t *n, int64_t *total)
{
    if (!st || !list || !n || !total || offset < 0 || limit < 0) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    *total = 0;
    const char *rt, *ty;
    int rc = iz__sq_key_names(rtype, type, recipient, &rt, &ty);
    if (rc != 0) return rc == IZ_ENOTFOUND ? 0 : rc;
    rc = tx_begin(st, false);
    if (rc == 0)
        rc = iz__sq_get(&st->q, "SELECT count(*) FROM consent_log WHERE " KEY_WHERE,
                        IZ_SQ_ARGS(KEY_ARGS(iys_code, brand_code, rt, ty, recipient)),
                        &iz__sq_i64_row, total);
    if (rc == 0)
        rc = iz__sq_list(
            &st->q,
            "SELECT " LOG_COLS " FROM consent_log l WHERE " KEY_WHERE
            " ORDER BY coalesce(consent_date, creation) DESC, id DESC LIMIT ?6 OFFSET ?7",
            IZ_SQ_ARGS(KEY_ARGS(iys_code, brand_code, rt, ty, recipient), IZ_SQ_I64(limit),
                       IZ_SQ_I64(offset)),
            &change_row, list, n);
    return tx_end(st, rc, true);
}

/* The changes of a brand in log order with after_id < id <= max_id and
 * min_creation <= creation <= max_creation, of the sources `which` names
 * (0 all, 1 IYS_*, 2 HS_* and omitted); at most limit. */
static int changes_query(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, int which,
                         int64_t after_id, int64_t max_id, int64_t min_creation,
                         int64_t max_creation, size_t limit, iz_sim_change_t **list, size_t *n)
{
    if (!st || !list || !n) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    if (limit == 0) return 0;
    return iz__sq_list(&st->q,
                       "SELECT " LOG_COLS " FROM consent_log l WHERE iys_code = ?1"
                       " AND brand_code = ?2 AND id > ?3 AND id <= ?4 AND creation >= ?5"
                       " AND creation <= ?6 AND CASE ?7 WHEN 0 THEN 1"
                       " WHEN 1 THEN source LIKE 'IYS\\_%' ESCAPE '\\'"
                       " ELSE source IS NULL OR source LIKE 'HS\\_%' ESCAPE '\\' END"
                       " ORDER BY id LIMIT ?8",
                       IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code), IZ_SQ_I64(after_id),
                                  IZ_SQ_I64(max_id), IZ_SQ_I64(min_creation),
                                  IZ_SQ_I64(max_creation), IZ_SQ_I64(which),
                                  IZ_SQ_I64(limit > (size_t)INT64_MAX ? INT64_MAX : limit)),
                       &change_row, list, n);
}

int iz_sim_changes(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, bool iys_sources,
                   int64_t after_id, int64_t min_creation, int64_t max_creation, size_t limit,
                   iz_sim_change_t **list, size_t *n)
{
    return changes_query(st, iys_code, brand_code, iys_sources ? 1 : 2, after_id, INT64_MAX,
                         min_creation, max_creation, limit, list, n);
}

int iz_sim_change_id(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, const char *txid,
                     int64_t creation, int64_t *id)
{
    if (!st || !txid || !id) return IZ_EINVAL;
    if (iz__sq_fits(txid, SS_HEX)) return IZ_ENOTFOUND;
    return iz__sq_get(&st->q,
                      "SELECT id FROM consent_log WHERE iys_code = ?1 AND brand_code = ?2"
                      " AND txid = ?3 AND creation = ?4 ORDER BY id DESC LIMIT 1",
                      IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code), IZ_SQ_TEXT(txid),
                                 IZ_SQ_I64(creation)),
                      &iz__sq_i64_row, id);
}

static void citizen_read(const iz_row_t *row, void *out)
{
    iz_sim_citizen_rec_t *rec = out;
    change_read(row, &rec->cur);
    iz_row_str(row, 13, rec->provider_name, sizeof rec->provider_name);
    iz_row_str(row, 14, rec->brand_name, sizeof rec->brand_name);
}

int iz_sim_citizen_records(iz_sim_store_t *st, const char *recipient, iz_sim_citizen_rec_t **list,
                           size_t *n)
{
    static const iz_sq_row_t citizen_row = IZ_SQ_ROW(iz_sim_citizen_rec_t, citizen_read);
    if (!st || !recipient || !list || !n) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    if (iz__sq_fits(recipient, IZ_RECIPIENT_MAX)) return 0;
    return iz__sq_list(
        &st->q,
        "SELECT " LOG_COLS ", p.name, b.name FROM consent_state s"
        " JOIN consent_log l ON l.id = s.log_id"
        " LEFT JOIN providers p ON p.iys_code = s.iys_code"
        " LEFT JOIN brands b ON b.iys_code = s.iys_code AND b.brand_code = s.brand_code"
        " WHERE s.recipient = ?1"
        " ORDER BY s.iys_code, s.brand_code, s.type, s.rtype",
        IZ_SQ_ARGS(IZ_SQ_TEXT(recipient)), &citizen_row, list, n);
}

int iz_sim_consent_at(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, iz_rtype_t rtype,
                      iz_type_t type, const char *recipient, int64_t t, iz_sim_change_t *out)
{
    if (!st || !out) return IZ_EINVAL;
    const char *rt, *ty;
    int rc = iz__sq_key_names(rtype, type, recipient, &rt, &ty);
    if (rc != 0) return rc;
    return iz__sq_get(&st->q,
                      "SELECT " LOG_COLS " FROM consent_log l WHERE " KEY_WHERE
                      " AND coalesce(consent_date, creation) <= ?6"
                      " ORDER BY coalesce(consent_date, creation) DESC, id DESC LIMIT 1",
                      IZ_SQ_ARGS(KEY_ARGS(iys_code, brand_code, rt, ty, recipient), IZ_SQ_I64(t)),
                      &change_row, out);
}

/* The walk runs on a read-only connection of its own (sqlite_util.c). */
int iz_sim_verify(iz_sim_store_t *st, int64_t *bad_id)
{
    if (!st || !bad_id) return IZ_EINVAL;
    return iz__sq_verify_chain(&st->q,
                               "SELECT prev_hash, id, iys_code, brand_code, recipient, rtype,"
                               " type, status, source, consent_date, creation, txid, hash"
                               " FROM consent_log ORDER BY id",
                               SS_HASH_FIELDS, NULL, NULL, bad_id);
}

/* ---- async bulk requests ------------------------------------------------ */

#define SS_REQID 37

int iz_sim_bulk_create(iz_sim_store_t *st, const iz_sim_bulk_t *b, const char *const *bodies,
                       const char *const *sub_request_ids, size_t n)
{
    if (!st || !b || (n && !bodies) || n > INT_MAX) return IZ_EINVAL;
    if (iz__sq_fits(b->request_id, sizeof b->request_id)) return IZ_ETOOBIG;
    if (!b->request_id[0]) return IZ_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!bodies[i]) return IZ_EINVAL;
        if (sub_request_ids && sub_request_ids[i] && iz__sq_fits(sub_request_ids[i], SS_REQID))
            return IZ_ETOOBIG;
    }
    int64_t created = b->created ? b->created : now_s();
    int64_t after = b->process_after ? b->process_after : created;

    int rc = tx_begin(st, true);
    if (rc == 0)
        rc = iz__sq_write(
            &st->q, "INSERT INTO bulk_requests(" BULK_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, NULL)",
            IZ_SQ_ARGS(IZ_SQ_TEXT(b->request_id), IZ_SQ_I64(b->iys_code), IZ_SQ_I64(b->brand_code),
                       IZ_SQ_I64(created), IZ_SQ_I64(after)),
            NULL);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *sub = sub_request_ids && sub_request_ids[i] ? sub_request_ids[i] : "";
        rc = iz__sq_write(&st->q,
                          "INSERT INTO bulk_items(request_id, idx, sub_request_id, body)"
                          " VALUES(?1, ?2, ?3, ?4)",
                          IZ_SQ_ARGS(IZ_SQ_TEXT(b->request_id), IZ_SQ_I64(i), IZ_SQ_TEXT(sub),
                                     IZ_SQ_TEXT(bodies[i])),
                          NULL);
    }
    return tx_end(st, rc, false);
}

static void bulk_read(const iz_row_t *row, void *out)
{
    iz_sim_bulk_t *b = out;
    iz_row_str(row, 0, b->request_id, sizeof b->request_id);
    b->iys_code = iz_row_i64(row, 1);
    b->brand_code = iz_row_i64(row, 2);
    b->created = iz_row_i64(row, 3);
    b->process_after = iz_row_i64(row, 4);
    b->processed_at = iz_row_i64(row, 5);
}

static const iz_sq_row_t bulk_row = IZ_SQ_ROW(iz_sim_bulk_t, bulk_read);

static void item_read(const iz_row_t *row, void *out)
{
    iz_sim_bulk_item_t *it = out;
    const char *body = iz_row_text(row, 2);
    it->idx = iz_row_int(row, 0);
    iz_row_str(row, 1, it->sub_request_id, sizeof it->sub_request_id);
    it->body = iz_xstrdup(body ? body : "");
    iz_row_str(row, 3, it->status, sizeof it->status);
    iz_row_str(row, 4, it->txid, sizeof it->txid);
    it->creation = iz_row_i64(row, 5);
    iz_row_str(row, 6, it->error_code, sizeof it->error_code);
    iz_row_str(row, 7, it->error_message, sizeof it->error_message);
}

static const iz_sq_row_t item_row = IZ_SQ_ROW_OWNING(iz_sim_bulk_item_t, item_read, body);

void iz_sim_bulk_items_free(iz_sim_bulk_item_t *items, size_t n)
{
    iz__sq_free_rows(&item_row, items, n);
}

/* The request and its items are read in one read transaction. */
int iz_sim_bulk_get(iz_sim_store_t *st, const char *request_id, iz_sim_bulk_t *b,
                    iz_sim_bulk_item_t **items, size_t *n)
{
    if (!st || !request_id || !b || (items && !n) || (!items && n)) return IZ_EINVAL;
    if (items) {
        *items = NULL;
        *n = 0;
    }
    if (iz__sq_fits(request_id, SS_REQID)) return IZ_ENOTFOUND;
    int rc = tx_begin(st, false);
    if (rc == 0)
        rc = iz__sq_get(&st->q, "SELECT " BULK_COLS " FROM bulk_requests WHERE request_id = ?1",
                        IZ_SQ_ARGS(IZ_SQ_TEXT(request_id)), &bulk_row, b);
    if (rc == 0 && items)
        rc = iz__sq_list(&st->q,
                         "SELECT idx, sub_request_id, body, status, txid, creation, error_code,"
                         " error_message FROM bulk_items WHERE request_id = ?1 ORDER BY idx",
                         IZ_SQ_ARGS(IZ_SQ_TEXT(request_id)), &item_row, items, n);
    return tx_end(st, rc, true);
}

static void origin_read(const iz_row_t *row, void *out)
{
    iz_sim_origin_t *o = out;
    iz_row_str(row, 0, o->request_id, sizeof o->request_id);
    iz_row_str(row, 1, o->sub_request_id, sizeof o->sub_request_id);
}

int iz_sim_change_origin(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, const char *txid,
                         int64_t creation, iz_sim_origin_t *out)
{
    static const iz_sq_row_t origin_row = IZ_SQ_ROW(iz_sim_origin_t, origin_read);
    if (!st || !txid || !out) return IZ_EINVAL;
    memset(out, 0, sizeof *out);
    if (iz__sq_fits(txid, SS_HEX)) return IZ_ENOTFOUND;
    return iz__sq_get(&st->q,
                      "SELECT l.request_id, b.sub_request_id FROM consent_log l"
                      " LEFT JOIN bulk_items b ON b.request_id = l.request_id AND b.txid = l.txid"
                      " WHERE l.iys_code = ?1 AND l.brand_code = ?2 AND l.txid = ?3"
                      " AND l.creation = ?4 ORDER BY l.id LIMIT 1",
                      IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code), IZ_SQ_TEXT(txid),
                                 IZ_SQ_I64(creation)),
                      &origin_row, out);
}

int iz_sim_bulk_next_due(iz_sim_store_t *st, int64_t now, char request_id[37])
{
    if (!st || !request_id) return IZ_EINVAL;
    return iz__sq_get_text(&st->q,
                           "SELECT request_id FROM bulk_requests WHERE processed_at IS NULL"
                           " AND process_after <= ?1 ORDER BY created, rowid LIMIT 1",
                           IZ_SQ_ARGS(IZ_SQ_I64(now)), request_id, SS_REQID);
}

int iz_sim_bulk_item_result(iz_sim_store_t *st, const char *request_id, int idx, const char *status,
                            const char *txid, int64_t creation, const char *error_code,
                            const char *error_message)
{
    if (!st || !request_id || !status) return IZ_EINVAL;
    if (strcmp(status, "enqueue") != 0 && strcmp(status, "success") != 0 &&
        strcmp(status, "failure") != 0)
        return IZ_EINVAL;
    const iz_sim_bulk_item_t *proto = NULL;
    if ((txid && iz__sq_fits(txid, sizeof proto->txid)) ||
        (error_code && iz__sq_fits(error_code, sizeof proto->error_code)) ||
        (error_message && iz__sq_fits(error_message, sizeof proto->error_message)))
        return IZ_ETOOBIG;
    if (iz__sq_fits(request_id, SS_REQID)) return IZ_ENOTFOUND;
    /* In its own transaction, or refused in a spoiled batch. */
    int rc = tx_begin(st, true);
    if (rc == 0)
        rc = iz__sq_update(
            &st->q,
            "UPDATE bulk_items SET status = ?3, txid = ?4, creation = ?5,"
            " error_code = ?6, error_message = ?7 WHERE request_id = ?1 AND idx = ?2",
            IZ_SQ_ARGS(IZ_SQ_TEXT(request_id), IZ_SQ_I64(idx), IZ_SQ_TEXT(status), IZ_SQ_OPT(txid),
                       IZ_SQ_OPT_I64(creation), IZ_SQ_OPT(error_code), IZ_SQ_OPT(error_message)));
    return tx_end(st, rc, rc == IZ_ENOTFOUND);
}

int iz_sim_bulk_done(iz_sim_store_t *st, const char *request_id, int64_t now)
{
    if (!st || !request_id) return IZ_EINVAL;
    if (iz__sq_fits(request_id, SS_REQID)) return IZ_ENOTFOUND;
    int rc = tx_begin(st, true);
    if (rc == 0)
        rc = iz__sq_update(&st->q,
                           "UPDATE bulk_requests SET processed_at = ?2 WHERE request_id = ?1",
                           IZ_SQ_ARGS(IZ_SQ_TEXT(request_id), IZ_SQ_I64(now)));
    return tx_end(st, rc, rc == IZ_ENOTFOUND);
}

/* The items go with their request (ON DELETE CASCADE). */
int iz_sim_bulk_purge(iz_sim_store_t *st, int64_t before)
{
    if (!st) return IZ_EINVAL;
    return iz__sq_run(&st->q, "DELETE FROM bulk_requests WHERE created < ?1",
                      IZ_SQ_ARGS(IZ_SQ_I64(before)));
}

/* ---- push --------------------------------------------------------------- */

/* Store a brand's connections; the cursor moves to the end of the log for
 * a new registration, and for an existing one when reset. */
static int push_store(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code,
                      const char *connections_json, bool reset)
{
    if (!st || !connections_json) return IZ_EINVAL;
    if (strnlen(connections_json, SS_PUSH_MAX + 1) > SS_PUSH_MAX) return IZ_ETOOBIG;
    return iz__sq_run(&st->q,
                      "INSERT INTO push(iys_code, brand_code, connections, cursor)"
                      " VALUES(?1, ?2, ?3, (SELECT coalesce(max(id), 0) FROM consent_log))"
                      " ON CONFLICT(iys_code, brand_code) DO UPDATE SET"
                      " connections = excluded.connections,"
                      " cursor = CASE WHEN ?4 THEN excluded.cursor ELSE cursor END",
                      IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code),
                                 IZ_SQ_TEXT(connections_json), IZ_SQ_I64(reset)));
}

int iz_sim_push_set(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code,
                    const char *connections_json)
{
    return push_store(st, iys_code, brand_code, connections_json, true);
}

int iz_sim_push_replace(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code,
                        const char *connections_json)
{
    return push_store(st, iys_code, brand_code, connections_json, false);
}

static void push_read(const iz_row_t *row, void *out)
{
    iz_sim_push_t *p = out;
    const char *t = iz_row_text(row, 2);
    p->iys_code = iz_row_i64(row, 0);
    p->brand_code = iz_row_i64(row, 1);
    p->connections = iz_xstrdup(t ? t : "");
    p->cursor = iz_row_i64(row, 3);
}

static const iz_sq_row_t push_row = IZ_SQ_ROW_OWNING(iz_sim_push_t, push_read, connections);

void iz_sim_push_list_free(iz_sim_push_t *list, size_t n)
{
    iz__sq_free_rows(&push_row, list, n);
}

int iz_sim_push_list(iz_sim_store_t *st, iz_sim_push_t **list, size_t *n)
{
    if (!st || !list || !n) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    return iz__sq_list(&st->q,
                       "SELECT iys_code, brand_code, connections, cursor FROM push"
                       " ORDER BY iys_code, brand_code",
                       NULL, &push_row, list, n);
}

/* The cursor only moves forward: a late, smaller value is ignored. */
int iz_sim_push_advance(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, int64_t cursor)
{
    if (!st) return IZ_EINVAL;
    return iz__sq_update(&st->q,
                         "UPDATE push SET cursor = max(cursor, ?3)"
                         " WHERE iys_code = ?1 AND brand_code = ?2",
                         IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code), IZ_SQ_I64(cursor)));
}

/* ---- complaints --------------------------------------------------------- */

int iz_sim_complaint_add(iz_sim_store_t *st, iz_sim_complaint_t *c)
{
    if (!st || !c) return IZ_EINVAL;
    if (iz__sq_fits(c->recipient, sizeof c->recipient) || iz__sq_fits(c->text, sizeof c->text))
        return IZ_ETOOBIG;
    const char *ty = iz_type_name(c->type);
    if (!ty || !c->recipient[0]) return IZ_EINVAL;
    int64_t created = c->created ? c->created : now_s();
    int rc = iz__sq_write(&st->q,
                          "INSERT INTO complaints(iys_code, brand_code, recipient, type,"
                          " message_time, text, created) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                          IZ_SQ_ARGS(IZ_SQ_I64(c->iys_code), IZ_SQ_I64(c->brand_code),
                                     IZ_SQ_TEXT(c->recipient), IZ_SQ_TEXT(ty),
                                     IZ_SQ_I64(c->message_time), IZ_SQ_TEXT(c->text),
                                     IZ_SQ_I64(created)),
                          &c->id);
    if (rc == 0) c->created = created;
    return rc;
}

static void complaint_read(const iz_row_t *row, void *out)
{
    iz_sim_complaint_t *c = out;
    const char *t;
    c->id = iz_row_i64(row, 0);
    c->iys_code = iz_row_i64(row, 1);
    c->brand_code = iz_row_i64(row, 2);
    iz_row_str(row, 3, c->recipient, sizeof c->recipient);
    if ((t = iz_row_text(row, 4))) (void)iz_type_parse(t, &c->type);
    c->message_time = iz_row_i64(row, 5);
    iz_row_str(row, 6, c->text, sizeof c->text);
    c->created = iz_row_i64(row, 7);
}

int iz_sim_complaint_list(iz_sim_store_t *st, int64_t iys_code, iz_sim_complaint_t **list,
                          size_t *n)
{
    static const iz_sq_row_t complaint_row = IZ_SQ_ROW(iz_sim_complaint_t, complaint_read);
    if (!st || !list || !n) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    return iz__sq_list(&st->q,
                       "SELECT " COMPLAINT_COLS " FROM complaints"
                       " WHERE ?1 = 0 OR iys_code = ?1 ORDER BY created DESC, id DESC",
                       IZ_SQ_ARGS(IZ_SQ_I64(iys_code)), &complaint_row, list, n);
}

/* ---- retailers ------------------------------------------------------------ */

#define RETAILER_COLS                                                                              \
    "r.retailer_code, r.iys_code, r.brand_code, r.title, r.mersis, r.alias, r.name, r.tckn,"       \
    " r.mobile, r.tin, r.city_code, r.city_name, r.town_code, r.town_name, r.status, r.created,"   \
    " (SELECT count(*) FROM retailer_access a WHERE a.retailer_code = r.retailer_code)"
#define RETAILER_CODE_MIN 10000000 /* İYS's retailer codes have 8 digits */
#define RETAILER_CODE_TRIES 64     /* random draws before H067 */

static void retailer_read(const iz_row_t *row, void *out)
{
    iz_sim_retailer_t *r = out;
    r->code = iz_row_i64(row, 0);
    r->iys_code = iz_row_i64(row, 1);
    r->brand_code = iz_row_i64(row, 2);
    iz_row_str(row, 3, r->title, sizeof r->title);
    iz_row_str(row, 4, r->mersis, sizeof r->mersis);
    iz_row_str(row, 5, r->alias, sizeof r->alias);
    iz_row_str(row, 6, r->name, sizeof r->name);
    iz_row_str(row, 7, r->tckn, sizeof r->tckn);
    iz_row_str(row, 8, r->mobile, sizeof r->mobile);
    iz_row_str(row, 9, r->tin, sizeof r->tin);
    iz_row_str(row, 10, r->city_code, sizeof r->city_code);
    iz_row_str(row, 11, r->city_name, sizeof r->city_name);
    iz_row_str(row, 12, r->town_code, sizeof r->town_code);
    iz_row_str(row, 13, r->town_name, sizeof r->town_name);
    iz_row_str(row, 14, r->status, sizeof r->status);
    r->created = iz_row_i64(row, 15);
    r->access_count = iz_row_i64(row, 16);
}

static const iz_sq_row_t retailer_row = IZ_SQ_ROW(iz_sim_retailer_t, retailer_read);

static int retailer_fits(const iz_sim_retailer_t *r)
{
    const struct {
        const char *s;
        size_t size;
    } f[] = {{r->title, sizeof r->title},
             {r->mersis, sizeof r->mersis},
             {r->alias, sizeof r->alias},
             {r->name, sizeof r->name},
             {r->tckn, sizeof r->tckn},
             {r->mobile, sizeof r->mobile},
             {r->tin, sizeof r->tin},
             {r->city_code, sizeof r->city_code},
             {r->city_name, sizeof r->city_name},
             {r->town_code, sizeof r->town_code},
             {r->town_name, sizeof r->town_name},
             {r->status, sizeof r->status}};
    for (size_t i = 0; i < IZ_ARRAY_LEN(f); i++)
        if (iz__sq_fits(f[i].s, f[i].size)) return IZ_ETOOBIG;
    return 0;
}

/* Inside the add's transaction: IZ_ERULE with *hcode when another retailer
 * of the provider has the same mersis (or tckn) value - H253 when all such
 * are passive, else H230 (H231) - 0 when none has. */
static int retailer_taken(iz_sim_store_t *st, int64_t iys_code, bool mersis, const char *value,
                          const char **hcode)
{
    char status[10] = "";
    *hcode = NULL;
    if (!value[0]) return 0;
    int rc = mersis ? iz__sq_get_text(&st->q,
                                      "SELECT status FROM retailers WHERE iys_code = ?1"
                                      " AND mersis = ?2 ORDER BY status = 'passive' LIMIT 1",
                                      IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_TEXT(value)), status,
                                      sizeof status)
                    : iz__sq_get_text(&st->q,
                                      "SELECT status FROM retailers WHERE iys_code = ?1"
                                      " AND tckn = ?2 ORDER BY status = 'passive' LIMIT 1",
                                      IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_TEXT(value)), status,
                                      sizeof status);
    if (rc == IZ_ENOTFOUND) return 0;
    if (rc != 0) return rc;
    *hcode = strcmp(status, "passive") == 0 ? "H253" : mersis ? "H230" : "H231";
    return IZ_ERULE;
}

/* A random code of 8 digits that no retailer has, or 0 when
 * RETAILER_CODE_TRIES draws found none. */
static int free_retailer_code(iz_sim_store_t *st, int64_t *code)
{
    *code = 0;
    for (int i = 0; i < RETAILER_CODE_TRIES; i++) {
        uint32_t rnd;
        if (iz_random(&rnd, sizeof rnd) != 0) return IZ_EIO;
        int64_t c = RETAILER_CODE_MIN + (int64_t)(rnd % (9 * RETAILER_CODE_MIN));
        int rc = iz__sq_find(&st->q, "SELECT 1 FROM retailers WHERE retailer_code = ?1",
                             IZ_SQ_ARGS(IZ_SQ_I64(c)), NULL, NULL);
        if (rc < 0) return rc;
        if (rc == 0) {
            *code = c;
            return 0;
        }
    }
    return 0;
}

int iz_sim_retailer_add(iz_sim_store_t *st, iz_sim_retailer_t *r, const char **hcode,
                        const char **field)
{
    *hcode = NULL;
    *field = NULL;
    if (!st || !r) return IZ_EINVAL;
    int rc = retailer_fits(r);
    if (rc != 0) return rc;
    if (r->iys_code <= 0 || r->brand_code <= 0) return IZ_EINVAL;
    int64_t created = r->created ? r->created : now_s(), code = 0;
    rc = tx_begin(st, true);
    if (rc == 0 && (rc = retailer_taken(st, r->iys_code, true, r->mersis, hcode)) != 0)
        *field = "mersis";
    if (rc == 0 && (rc = retailer_taken(st, r->iys_code, false, r->tckn, hcode)) != 0)
        *field = "tckn";
    if (rc == 0 && (rc = free_retailer_code(st, &code)) == 0 && code == 0) {
        *hcode = "H067";
        rc = IZ_ERULE;
    }
    if (rc == 0)
        rc = iz__sq_write(
            &st->q,
            "INSERT INTO retailers(retailer_code, iys_code, brand_code, title, mersis, alias,"
            " name, tckn, mobile, tin, city_code, city_name, town_code, town_name, status,"
            " created) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
            " ?15, ?16)",
            IZ_SQ_ARGS(IZ_SQ_I64(code), IZ_SQ_I64(r->iys_code), IZ_SQ_I64(r->brand_code),
                       IZ_SQ_TEXT(r->title), IZ_SQ_OPT(r->mersis), IZ_SQ_OPT(r->alias),
                       IZ_SQ_TEXT(r->name), IZ_SQ_TEXT(r->tckn), IZ_SQ_OPT(r->mobile),
                       IZ_SQ_TEXT(r->tin), IZ_SQ_TEXT(r->city_code), IZ_SQ_TEXT(r->city_name),
                       IZ_SQ_TEXT(r->town_code), IZ_SQ_TEXT(r->town_name), IZ_SQ_TEXT(r->status),
                       IZ_SQ_I64(created)),
            NULL);
    if ((rc = tx_end(st, rc, rc == IZ_ERULE)) == 0) {
        r->code = code;
        r->created = created;
        r->access_count = 0;
    }
    return rc;
}

int iz_sim_retailer_get(iz_sim_store_t *st, int64_t code, iz_sim_retailer_t *out)
{
    if (!st || !out) return IZ_EINVAL;
    return iz__sq_get(&st->q,
                      "SELECT " RETAILER_COLS " FROM retailers r WHERE r.retailer_code = ?1",
                      IZ_SQ_ARGS(IZ_SQ_I64(code)), &retailer_row, out);
}

int iz_sim_retailer_list(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, int64_t offset,
                         int64_t limit, iz_sim_retailer_t **list, size_t *n, int64_t *total)
{
    if (!st || !list || !n || !total || offset < 0 || limit < 0) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    *total = 0;
    int rc = tx_begin(st, false);
    if (rc == 0)
        rc = iz__sq_get(
            &st->q, "SELECT count(*) FROM retailers WHERE iys_code = ?1 AND brand_code = ?2",
            IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code)), &iz__sq_i64_row, total);
    if (rc == 0)
        rc = iz__sq_list(&st->q,
                         "SELECT " RETAILER_COLS " FROM retailers r WHERE r.iys_code = ?1"
                         " AND r.brand_code = ?2 ORDER BY r.id"
                         " LIMIT ?3 OFFSET ?4",
                         IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code), IZ_SQ_I64(limit),
                                    IZ_SQ_I64(offset)),
                         &retailer_row, list, n);
    return tx_end(st, rc, true);
}

int iz_sim_retailer_delete(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, int64_t code)
{
    if (!st) return IZ_EINVAL;
    int rc = tx_begin(st, true);
    if (rc == 0)
        rc = iz__sq_get(&st->q,
                        "SELECT 1 FROM retailers WHERE retailer_code = ?1 AND iys_code = ?2"
                        " AND brand_code = ?3",
                        IZ_SQ_ARGS(IZ_SQ_I64(code), IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code)),
                        NULL, NULL);
    if (rc == 0) {
        rc = iz__sq_find(&st->q,
                         "SELECT 1 FROM retailer_access WHERE retailer_code = ?1 UNION ALL"
                         " SELECT 1 FROM consent_mediator WHERE retailer_code = ?1 LIMIT 1",
                         IZ_SQ_ARGS(IZ_SQ_I64(code)), NULL, NULL);
        if (rc == 1) rc = IZ_EEXIST;
    }
    if (rc == 0)
        rc = iz__sq_run(&st->q, "DELETE FROM retailers WHERE retailer_code = ?1",
                        IZ_SQ_ARGS(IZ_SQ_I64(code)));
    return tx_end(st, rc, rc == IZ_ENOTFOUND || rc == IZ_EEXIST);
}

/* Inside the caller's transaction (or alone): iz_sim_retailers_check. */
static int check_codes(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code,
                       const int64_t *codes, size_t n, size_t *bad, const char **hcode)
{
    for (size_t i = 0; i < n; i++) {
        int64_t mine = 0;
        int rc =
            iz__sq_find(&st->q,
                        "SELECT iys_code = ?2 AND brand_code = ?3 FROM retailers"
                        " WHERE retailer_code = ?1",
                        IZ_SQ_ARGS(IZ_SQ_I64(codes[i]), IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code)),
                        &iz__sq_i64_row, &mine);
        if (rc < 0) return rc;
        if (rc == 0 || mine == 0) {
            *bad = i;
            *hcode = rc == 0 ? "H180" : "H353";
            return IZ_ERULE;
        }
    }
    return 0;
}

int iz_sim_retailers_check(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code,
                           const int64_t *codes, size_t n, size_t *bad, const char **hcode)
{
    if (!st || (n && !codes) || !bad || !hcode) return IZ_EINVAL;
    *hcode = NULL;
    int rc = tx_begin(st, false);
    if (rc == 0) rc = check_codes(st, iys_code, brand_code, codes, n, bad, hcode);
    return tx_end(st, rc, true);
}

/* The parameters ?1..?5 of a statement on one iz_sim_key_t. */
#define SIM_KEY_ARGS(k, rt, ty)                                                                    \
    IZ_SQ_I64((k)->iys_code), IZ_SQ_I64((k)->brand_code), IZ_SQ_TEXT(rt), IZ_SQ_TEXT(ty),          \
        IZ_SQ_TEXT((k)->recipient)

/* Give one retailer access to a key's consent (kept when it had it). */
static int grant(iz_sim_store_t *st, const iz_sim_key_t *k, const char *rt, const char *ty,
                 int64_t code, int64_t now)
{
    return iz__sq_run(&st->q,
                      "INSERT INTO retailer_access(iys_code, brand_code, rtype, type, recipient,"
                      " retailer_code, created) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                      " ON CONFLICT DO NOTHING",
                      IZ_SQ_ARGS(SIM_KEY_ARGS(k, rt, ty), IZ_SQ_I64(code), IZ_SQ_I64(now)));
}

/* Apply op to one key whose consent exists, inside the caller's
 * transaction. */
static int access_apply(iz_sim_store_t *st, iz_sim_access_op_t op, const iz_sim_key_t *k,
                        const char *rt, const char *ty, const int64_t *codes, size_t ncodes,
                        int64_t mediator, int64_t now)
{
    int rc = 0;
    if (op == IZ_SIM_ACCESS_SET || op == IZ_SIM_ACCESS_REMOVE_ALL)
        rc = iz__sq_run(&st->q, "DELETE FROM retailer_access WHERE " KEY_WHERE,
                        IZ_SQ_ARGS(SIM_KEY_ARGS(k, rt, ty)));
    if (op == IZ_SIM_ACCESS_REMOVE_ALL) return rc;
    for (size_t i = 0; rc == 0 && i < ncodes; i++)
        rc = op == IZ_SIM_ACCESS_REMOVE
                 ? iz__sq_run(&st->q,
                              "DELETE FROM retailer_access WHERE " KEY_WHERE
                              " AND retailer_code = ?6",
                              IZ_SQ_ARGS(SIM_KEY_ARGS(k, rt, ty), IZ_SQ_I64(codes[i])))
                 : grant(st, k, rt, ty, codes[i], now);
    if (rc == 0 && op == IZ_SIM_ACCESS_ADD && mediator) {
        rc = grant(st, k, rt, ty, mediator, now);
        if (rc == 0)
            rc = iz__sq_run(&st->q,
                            "INSERT INTO consent_mediator(iys_code, brand_code, rtype, type,"
                            " recipient, retailer_code) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
                            " ON CONFLICT DO UPDATE SET retailer_code = excluded.retailer_code",
                            IZ_SQ_ARGS(SIM_KEY_ARGS(k, rt, ty), IZ_SQ_I64(mediator)));
    }
    return rc;
}

int iz_sim_access_change(iz_sim_store_t *st, iz_sim_access_op_t op, const iz_sim_key_t *keys,
                         size_t nkeys, const int64_t *codes, size_t ncodes, int64_t mediator,
                         size_t *found, size_t *bad, const char **hcode)
{
    if (!st || !keys || !nkeys || (ncodes && !codes) || !found || !bad || !hcode) return IZ_EINVAL;
    *found = 0;
    *hcode = NULL;
    int64_t iys = keys[0].iys_code, brand = keys[0].brand_code, now = now_s();
    int rc = tx_begin(st, true);
    if (rc == 0 && op != IZ_SIM_ACCESS_REMOVE_ALL)
        rc = check_codes(st, iys, brand, codes, ncodes, bad, hcode);
    if (rc == 0 && op == IZ_SIM_ACCESS_ADD && mediator &&
        (rc = check_codes(st, iys, brand, &mediator, 1, bad, hcode)) != 0)
        *bad = ncodes;
    for (size_t i = 0; rc == 0 && i < nkeys; i++) {
        const iz_sim_key_t *k = &keys[i];
        const char *rt, *ty;
        if (k->iys_code != iys || k->brand_code != brand) {
            rc = IZ_EINVAL;
        } else if ((rc = iz__sq_key_names(k->rtype, k->type, k->recipient, &rt, &ty)) == 0 &&
                   (rc = iz__sq_find(&st->q, "SELECT 1 FROM consent_state WHERE " KEY_WHERE,
                                     IZ_SQ_ARGS(SIM_KEY_ARGS(k, rt, ty)), NULL, NULL)) == 1) {
            (*found)++;
            rc = access_apply(st, op, k, rt, ty, codes, ncodes, mediator, now);
        } else if (rc == IZ_ENOTFOUND) {
            rc = 0; /* a recipient no store can hold: no consent */
        }
    }
    return tx_end(st, rc, rc == IZ_ERULE);
}

int iz_sim_consent_retail(iz_sim_store_t *st, const iz_sim_key_t *key, iz_sim_consent_retail_t *out)
{
    if (!st || !key || !out) return IZ_EINVAL;
    memset(out, 0, sizeof *out);
    const char *rt, *ty;
    int rc = iz__sq_key_names(key->rtype, key->type, key->recipient, &rt, &ty);
    if (rc != 0) return rc == IZ_ENOTFOUND ? 0 : rc;
    rc = tx_begin(st, false);
    if (rc == 0)
        rc = iz__sq_get(&st->q, "SELECT count(*) FROM retailer_access WHERE " KEY_WHERE,
                        IZ_SQ_ARGS(SIM_KEY_ARGS(key, rt, ty)), &iz__sq_i64_row, &out->access_count);
    if (rc == 0 &&
        (rc = iz__sq_find(&st->q, "SELECT retailer_code FROM consent_mediator WHERE " KEY_WHERE,
                          IZ_SQ_ARGS(SIM_KEY_ARGS(key, rt, ty)), &iz__sq_i64_row,
                          &out->mediator)) == 1)
        rc = iz__sq_get_text(&st->q, "SELECT title FROM retailers WHERE retailer_code = ?1",
                             IZ_SQ_ARGS(IZ_SQ_I64(out->mediator)), out->title, sizeof out->title);
    return tx_end(st, rc, true);
}

int iz_sim_access_list(iz_sim_store_t *st, const iz_sim_key_t *key, int64_t offset, int64_t limit,
                       iz_sim_retailer_t **list, size_t *n, int64_t *total)
{
    if (!st || !key || !list || !n || !total || offset < 0 || limit < 0) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    *total = 0;
    const char *rt, *ty;
    int rc = iz__sq_key_names(key->rtype, key->type, key->recipient, &rt, &ty);
    if (rc != 0) return rc == IZ_ENOTFOUND ? 0 : rc;
    rc = tx_begin(st, false);
    if (rc == 0)
        rc = iz__sq_get(&st->q, "SELECT count(*) FROM retailer_access WHERE " KEY_WHERE,
                        IZ_SQ_ARGS(SIM_KEY_ARGS(key, rt, ty)), &iz__sq_i64_row, total);
    if (rc == 0)
        rc = iz__sq_list(&st->q,
                         "SELECT " RETAILER_COLS " FROM retailer_access x"
                         " JOIN retailers r ON r.retailer_code = x.retailer_code"
                         " WHERE x.iys_code = ?1 AND x.brand_code = ?2 AND x.rtype = ?3"
                         " AND x.type = ?4 AND x.recipient = ?5 ORDER BY x.retailer_code"
                         " LIMIT ?6 OFFSET ?7",
                         IZ_SQ_ARGS(SIM_KEY_ARGS(key, rt, ty), IZ_SQ_I64(limit), IZ_SQ_I64(offset)),
                         &retailer_row, list, n);
    return tx_end(st, rc, true);
}

/* ---- reconciliation (recon.c) ------------------------------------------- */

int iz_sim_day_changes(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, int64_t after_id,
                       int64_t max_id, int64_t from, int64_t to, size_t limit,
                       iz_sim_change_t **list, size_t *n)
{
    return changes_query(st, iys_code, brand_code, 0, after_id, max_id, from, to - 1, limit, list,
                         n);
}

/* The movements: each change of the day with the status its key had just
 * before it (NULL for a first record), grouped by type and source group. */
static int summary_moves(void *ctx, const iz_row_t *row)
{
    iz_sim_day_stat_t(*out)[2] = ctx;
    iz_type_t t;
    const char *ty = iz_row_text(row, 0);
    if (!ty || iz_type_parse(ty, &t) != 0) return 0;
    iz_sim_day_stat_t *s = &out[t - 1][iz_row_int(row, 1)];
    s->approval += iz_row_i64(row, 2);
    s->rejection += iz_row_i64(row, 3);
    s->total += iz_row_i64(row, 4);
    return 0;
}

static int summary_pending(void *ctx, const iz_row_t *row)
{
    iz_sim_day_stat_t(*out)[2] = ctx;
    iz_type_t t;
    const char *ty = iz_row_text(row, 0);
    if (!ty || iz_type_parse(ty, &t) != 0) return 0;
    out[t - 1][0].pending += iz_row_i64(row, 1);
    out[t - 1][0].total += iz_row_i64(row, 1);
    return 0;
}

int iz_sim_day_summary(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, iz_rtype_t rtype,
                       int64_t from, int64_t to, iz_sim_day_stat_t out[3][2])
{
    const char *rt = iz_rtype_name(rtype);
    if (!st || !out || !rt) return IZ_EINVAL;
    memset(out, 0, 3 * sizeof out[0]);
    int rc = tx_begin(st, false);
    if (rc == 0)
        rc = iz__sq_each(
            &st->q,
            "SELECT type, src, sum(status = 'ONAY' AND (prev IS NULL OR prev = 'RET')),"
            " sum(status = 'RET' AND prev = 'ONAY'), count(*) FROM ("
            " SELECT l.type, l.status, l.source LIKE 'IYS\\_%' ESCAPE '\\' AS src,"
            " (SELECT p.status FROM consent_log p WHERE p.iys_code = l.iys_code"
            "  AND p.brand_code = l.brand_code AND p.rtype = l.rtype AND p.type = l.type"
            "  AND p.recipient = l.recipient AND p.id < l.id ORDER BY p.id DESC LIMIT 1) AS prev"
            " FROM consent_log l WHERE l.iys_code = ?1 AND l.brand_code = ?2 AND l.rtype = ?3"
            " AND l.creation >= ?4 AND l.creation < ?5)"
            " GROUP BY type, src",
            IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code), IZ_SQ_TEXT(rt), IZ_SQ_I64(from),
                       IZ_SQ_I64(to)),
            summary_moves, out);
    /* Items of the day's async requests not yet written (bulk.c). */
    if (rc == 0)
        rc = iz__sq_each(&st->q,
                         "SELECT json_extract(i.body, '$.type'), count(*) FROM bulk_requests b"
                         " JOIN bulk_items i ON i.request_id = b.request_id"
                         " WHERE b.iys_code = ?1 AND b.brand_code = ?2 AND i.status = 'enqueue'"
                         " AND coalesce(json_extract(i.body, '$.recipientType'), 'BIREYSEL') = ?3"
                         " AND b.created >= ?4 AND b.created < ?5 GROUP BY 1",
                         IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code), IZ_SQ_TEXT(rt),
                                    IZ_SQ_I64(from), IZ_SQ_I64(to)),
                         summary_pending, out);
    return tx_end(st, rc, true);
}

static void brand_key_read(const iz_row_t *row, void *out)
{
    iz_sim_brand_key_t *k = out;
    k->iys_code = iz_row_i64(row, 0);
    k->brand_code = iz_row_i64(row, 1);
}

int iz_sim_day_brands(iz_sim_store_t *st, int64_t from, int64_t to, iz_sim_brand_key_t **list,
                      size_t *n)
{
    static const iz_sq_row_t brand_key_row = IZ_SQ_ROW(iz_sim_brand_key_t, brand_key_read);
    if (!st || !list || !n) return IZ_EINVAL;
    *list = NULL;
    *n = 0;
    return iz__sq_list(&st->q,
                       "SELECT iys_code, brand_code FROM brands b WHERE EXISTS("
                       " SELECT 1 FROM consent_log l WHERE l.iys_code = b.iys_code"
                       " AND l.brand_code = b.brand_code AND l.creation >= ?1 AND l.creation < ?2)"
                       " ORDER BY iys_code, brand_code",
                       IZ_SQ_ARGS(IZ_SQ_I64(from), IZ_SQ_I64(to)), &brand_key_row, list, n);
}

static bool recon_date_ok(const char *date)
{
    return date && strnlen(date, 11) == 10;
}

int iz_sim_recon_put(iz_sim_store_t *st, const iz_sim_recon_t *f)
{
    if (!st || !f || !recon_date_ok(f->date) || !f->tsr || f->tsr_len == 0) return IZ_EINVAL;
    /* A new content loses the agreement given to the old one. */
    return iz__sq_run(
        &st->q,
        "INSERT INTO recon_files(iys_code, brand_code, report_date, rows, max_id, hash, tsr,"
        " generated) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        " ON CONFLICT(iys_code, brand_code, report_date) DO UPDATE SET"
        " agreed = CASE WHEN hash = excluded.hash THEN agreed ELSE 0 END,"
        " rows = excluded.rows, max_id = excluded.max_id, hash = excluded.hash,"
        " tsr = excluded.tsr, generated = excluded.generated",
        IZ_SQ_ARGS(IZ_SQ_I64(f->iys_code), IZ_SQ_I64(f->brand_code), IZ_SQ_TEXT(f->date),
                   IZ_SQ_I64(f->rows), IZ_SQ_I64(f->max_id), IZ_SQ_TEXT(f->hash),
                   IZ_SQ_BLOB(f->tsr, f->tsr_len), IZ_SQ_I64(f->generated)));
}

static void recon_read(const iz_row_t *row, void *out)
{
    iz_sim_recon_t *f = out;
    f->iys_code = iz_row_i64(row, 0);
    f->brand_code = iz_row_i64(row, 1);
    iz_row_str(row, 2, f->date, sizeof f->date);
    f->rows = iz_row_i64(row, 3);
    f->max_id = iz_row_i64(row, 4);
    iz_row_str(row, 5, f->hash, sizeof f->hash);
    f->generated = iz_row_i64(row, 6);
    f->agreed = iz_row_i64(row, 7);
    const void *b = iz_row_blob(row, 8);
    size_t len = iz_row_bytes(row, 8);
    if (b && len > 0) {
        f->tsr = iz_xmalloc(len);
        memcpy(f->tsr, b, len);
        f->tsr_len = len;
    }
}

int iz_sim_recon_get(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, const char *date,
                     iz_sim_recon_t *out)
{
    static const iz_sq_row_t recon_row = IZ_SQ_ROW(iz_sim_recon_t, recon_read);
    if (!st || !out) return IZ_EINVAL;
    memset(out, 0, sizeof *out);
    if (!recon_date_ok(date)) return IZ_ENOTFOUND;
    return iz__sq_get(&st->q,
                      "SELECT iys_code, brand_code, report_date, rows, max_id, hash, generated,"
                      " agreed, tsr FROM recon_files"
                      " WHERE iys_code = ?1 AND brand_code = ?2 AND report_date = ?3",
                      IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code), IZ_SQ_TEXT(date)),
                      &recon_row, out);
}

void iz_sim_recon_clear(iz_sim_recon_t *f)
{
    if (!f) return;
    free(f->tsr);
    f->tsr = NULL;
    f->tsr_len = 0;
}

int iz_sim_recon_agree(iz_sim_store_t *st, int64_t iys_code, int64_t brand_code, const char *date,
                       const char *hash, int64_t now)
{
    if (!st || !hash) return IZ_EINVAL;
    if (!recon_date_ok(date)) return IZ_ENOTFOUND;
    /* Only the content the provider compared: a file generated again in
     * between (another hash) is not agreed by an answer about the old one. */
    return iz__sq_update(&st->q,
                         "UPDATE recon_files SET agreed = CASE WHEN agreed > 0 THEN agreed"
                         " ELSE ?5 END WHERE iys_code = ?1 AND brand_code = ?2"
                         " AND report_date = ?3 AND hash = ?4",
                         IZ_SQ_ARGS(IZ_SQ_I64(iys_code), IZ_SQ_I64(brand_code), IZ_SQ_TEXT(date),
                                    IZ_SQ_TEXT(hash), IZ_SQ_I64(now > 0 ? now : 1)));
}

int iz_sim_recon_day_done(iz_sim_store_t *st, const char *date, bool *done)
{
    if (!st || !done || !recon_date_ok(date)) return IZ_EINVAL;
    int rc = iz__sq_find(&st->q, "SELECT 1 FROM recon_days WHERE report_date = ?1",
                         IZ_SQ_ARGS(IZ_SQ_TEXT(date)), NULL, NULL);
    if (rc < 0) return rc;
    *done = rc == 1;
    return 0;
}

int iz_sim_recon_day_mark(iz_sim_store_t *st, const char *date, int64_t now)
{
    if (!st || !recon_date_ok(date)) return IZ_EINVAL;
    return iz__sq_run(&st->q,
                      "INSERT INTO recon_days(report_date, done) VALUES(?1, ?2)"
                      " ON CONFLICT(report_date) DO UPDATE SET done = excluded.done",
                      IZ_SQ_ARGS(IZ_SQ_TEXT(date), IZ_SQ_I64(now)));
}

int iz_sim_recon_purge(iz_sim_store_t *st, const char *before)
{
    if (!st || !recon_date_ok(before)) return IZ_EINVAL;
    int rc = tx_begin(st, true);
    if (rc == 0)
        rc = iz__sq_run(&st->q, "DELETE FROM recon_files WHERE report_date < ?1",
                        IZ_SQ_ARGS(IZ_SQ_TEXT(before)));
    if (rc == 0)
        rc = iz__sq_run(&st->q, "DELETE FROM recon_days WHERE report_date < ?1",
                        IZ_SQ_ARGS(IZ_SQ_TEXT(before)));
    return tx_end(st, rc, false);
}

/* The TSA's key and certificate, copied (any length). */
static void tsa_read(const iz_row_t *row, void *out)
{
    char **pair = out;
    for (int i = 0; i < 2; i++) {
        const char *t = iz_row_text(row, i);
        pair[i] = iz_xstrdup(t ? t : "");
    }
}

static const iz_sq_row_t tsa_row = {.read = tsa_read}; /* into a char *[2] */

int iz_sim_tsa_get(iz_sim_store_t *st, char **key_pem, char **cert_pem)
{
    if (!st || !key_pem || !cert_pem) return IZ_EINVAL;
    *key_pem = *cert_pem = NULL;
    char *pair[2] = {NULL, NULL};
    int rc = tx_begin(st, false);
    if (rc == 0)
        rc = iz__sq_get(&st->q, "SELECT key_pem, cert_pem FROM recon_tsa WHERE id = 1", NULL,
                        &tsa_row, pair);
    rc = tx_end(st, rc, true);
    if (rc != 0) {
        free(pair[0]);
        free(pair[1]);
        return rc;
    }
    *key_pem = pair[0];
    *cert_pem = pair[1];
    return 0;
}

int iz_sim_tsa_put(iz_sim_store_t *st, const char *key_pem, const char *cert_pem)
{
    if (!st || !key_pem || !cert_pem) return IZ_EINVAL;
    /* The first one stored stays: two day-ends that raced agree on it. */
    return iz__sq_run(&st->q,
                      "INSERT OR IGNORE INTO recon_tsa(id, key_pem, cert_pem) VALUES(1, ?1, ?2)",
                      IZ_SQ_ARGS(IZ_SQ_TEXT(key_pem), IZ_SQ_TEXT(cert_pem)));
}
