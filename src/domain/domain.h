/*
 * domain.h - the two operations the product is about, each in one place:
 * recording a consent change from any origin, and judging whether a
 * commercial message may go to a recipient.
 *
 * Every entrance calls these and nothing else writes consents or asks the
 * filter index: the API (api/), the İYS sync's pulls and pushes (iys/), the
 * command line (cli/), and the coming bulk files, inbound SMS, consent page
 * and panel. So every change is judged by the same rules and leaves the
 * same trace, whatever way it came in.
 *
 * Recording (iz_domain_record): the fields as they arrived are validated as
 * İYS validates them (core/consent.h, every failure with its H-code), then
 * the whole call - one change or a batch of up to IZ_DOMAIN_BATCH_MAX - is
 * applied in one store transaction, each change judged against the current
 * record by İYS's state rules inside that transaction (so two concurrent
 * changes of one address cannot both pass a rule only one may pass). A
 * first RET, which İYS refuses (H175), is kept: an opt-out is never lost,
 * it is stored with iys.state LOCAL and warning H175 and blocks sending, for
 * every origin. Otherwise the change is PENDING for İYS (LOCAL when the
 * account has no İYS), its RET deadline (3 business days) starts, and the
 * commit subscribers - the filter index, the metrics, the sync engine -
 * see it in commit order.
 * A change may name retailers (retailerCode, retailerAccess): when izin
 * holds the brand's whole list of retailers (read from İYS, store.h
 * iz_store_retailer_codes), a code not on it is refused as İYS would
 * refuse it (H180, a field error); otherwise İYS judges it.
 *
 * Changes reported by İYS (iz_domain_apply_remote) are applied with origin
 * IYS and without the rules (İYS has judged them); one that cannot be read
 * is kept in the store's quarantine with its raw JSON, logged and counted,
 * never skipped.
 *
 * Judging (iz_domain_judge*): a commercial message may go to (brand,
 * recipient, type, recipientType) only when the current status is ONAY; no
 * record blocks it (NO_CONSENT), so does RET; an unusable recipient is
 * INVALID. With commercial false every valid recipient is allowed. Lists
 * and streams are judged in batches: recipients normalized, Turkish numbers
 * packed, then one index look-up with one read lock for the batch.
 *
 * Threads: an iz_domain_t is shared by every thread of the process; its
 * calls are thread-safe (the store and the index serialize what they must).
 */
#ifndef IZ_DOMAIN_H
#define IZ_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/consent.h"
#include "core/plans.h"
#include "core/trtime.h"
#include "index/index.h"
#include "store/store.h"

typedef struct iz_domain iz_domain_t;

typedef struct iz_domain_conf {
    iz_store_t *store;             /* not owned; outlives the domain */
    const iz_holidays_t *holidays; /* not owned; NULL: weekends only (tests) */
    const char *default_iys_url;   /* İYS for accounts that set none; NULL: none */
    iz_index_t *index;             /* not owned; NULL: verdicts read the store */
    const iz_plans_t *plans;       /* not owned; NULL: no account is bounded (the operator's
                                      own commands) */
} iz_domain_conf_t;

/* Set up the domain over a store: subscribe the index (when there is one)
 * and the change counters to the store's commits, then build the index
 * from the store (changes committed meanwhile are not missed). Returns 0,
 * or an IZ_E* code with *err (static text) saying why. */
int iz_domain_open(const iz_domain_conf_t *conf, iz_domain_t **out, const char **err);

/* Unsubscribe and free; no call may still be running. NULL is fine. */
void iz_domain_close(iz_domain_t *d);

/* The store, for what only reads it (brands, history, the changes feed). */
iz_store_t *iz_domain_store(const iz_domain_t *d);

/* Whether an account's changes go to İYS (its own URL or the default). */
bool iz_domain_iys_configured(const iz_domain_t *d, const iz_account_t *acct);

/* ---- recording ------------------------------------------------------------ */

#define IZ_DOMAIN_BATCH_MAX 10000 /* changes in one iz_domain_record call */

/* One change to record, and what became of it. */
typedef struct iz_record {
    /* in */
    iz_consent_raw_t raw; /* the fields as they arrived (strings borrowed) */
    iz_origin_t origin;   /* API, BULK, SMS, URL, PANEL (IYS: iz_domain_apply_remote) */
    const char *evidence; /* proof kept with the change: a JSON object's text (ip, userAgent,
                             callId, file and line, message id, ...), or NULL */
    const iz_consent_t *valid; /* or NULL; else the fields as iz_consent_validate gave them
                                  (same now, İYS sources not allowed): raw is not read */
    /* out */
    int rc;            /* 0 recorded; IZ_REPEAT an identical change existed (chg is it);
                          IZ_EINVAL a field is wrong (errs); IZ_ERULE a state rule refused
                          it (hcode); IZ_ETOOBIG evidence over IZ_EVIDENCE_MAX - 1 bytes;
                          IZ_EIO / IZ_EBUSY the store failed */
    iz_verrs_t errs;   /* IZ_EINVAL: every field failure with its H-code */
    const char *hcode; /* IZ_ERULE: the refusing H-code (static text) */
    iz_change_t chg;   /* 0 / IZ_REPEAT: the stored change (iys_state, warning "H175", ...) */
} iz_record_t;

/* Plans (F9): an account's plan bounds its consent records (the store's
 * account_usage: every record of its brands, as İYS counts a
 * subscription's consents, see store.h). A change from any origin but İYS
 * that would make a new ONAY record while the account holds its plan's
 * limit or more is refused: rc IZ_ERULE with hcode "IZ4031" (403); a RET,
 * a first RET too, and every change of an existing record go through.
 * An account without a plan, or with none of the plans known, is not
 * bounded. */

/* An account's plan and usage, for the API, the panel and /metrics: plan
 * NULL when the account has none (or one the plans do not know). */
typedef struct iz_usage {
    const iz_plan_t *plan; /* into the domain's plans */
    int64_t used;          /* consent records */
} iz_usage_t;
int iz_domain_usage(iz_domain_t *d, int64_t account_id, iz_usage_t *out);

/* The plans the domain bounds accounts by (NULL: none). */
const iz_plans_t *iz_domain_plans(const iz_domain_t *d);

/* Record n changes (1 <= n <= IZ_DOMAIN_BATCH_MAX) of brand, registered at
 * now (epoch seconds: H162 and H467 are judged against it), in one store
 * transaction. Returns 0 when the store was reached (each record's rc
 * tells its fate), IZ_EINVAL for bad arguments, or the store's failure
 * (then nothing was written and every record's rc is that failure). */
int iz_domain_record(iz_domain_t *d, const iz_brand_t *brand, int64_t now, iz_record_t *recs,
                     size_t n);

/* iz_domain_record, and then(st, ctx) inside the same store transaction
 * after the changes (each record's rc is known then, but for a refusal by
 * a state rule only its store-level rc: the hcode is set too). A bulk job
 * writes its progress and rejected rows there, so they commit with the
 * rows they speak of. n may be 0 (then alone runs). */
int iz_domain_record_then(iz_domain_t *d, const iz_brand_t *brand, int64_t now, iz_record_t *recs,
                          size_t n, iz_store_then_fn then, void *ctx);

/* A bulk load (a job's batch): iz_domain_record_then for records of origin
 * BULK whose keys are believed new - the common case of a first load. The
 * store keeps a new key's change compactly (store.h, iz_store_consent_load_then);
 * any other record is judged and written exactly as iz_domain_record does.
 * Record i's evidence must be {"job":"<job_id>","line":<lines[i]>}. n may be up
 * to IZ_DOMAIN_LOAD_MAX. */
#define IZ_DOMAIN_LOAD_MAX 50000
int iz_domain_load_then(iz_domain_t *d, const iz_brand_t *brand, int64_t now, iz_record_t *recs,
                        size_t n, const char *job_id, const int64_t *lines, iz_store_then_fn then,
                        void *ctx);

/* Read one item İYS reported (a page of the pull, a push, a repair of the
 * reconciliation when repair_date is not NULL) into c, as
 * iz_domain_apply_remote reads each: NULL when it can be applied, else why
 * not (it is then quarantined). No store is touched. */
const char *iz_domain_remote_item(json_t *it, int64_t brand_id, const char *repair_date,
                                  iz_change_t *c);

/* Apply the changes İYS reports for brand (a change pull page or a push
 * body's list; via is "pull" or "push", source the pull's "IYS" or "HS", or
 * NULL), with origin IYS. A change izin sent itself, or already applied, is
 * recognized (its transactionId or an identical change) and not written
 * again. An item that cannot be read is written to the quarantine with its
 * raw JSON and the reason, logged, and counted in *quarantined. Returns 0
 * when every item was applied or quarantined (the pull cursor may move),
 * else the store's failure (the cursor must stay). *applied and
 * *quarantined may be NULL. */
int iz_domain_apply_remote(iz_domain_t *d, const iz_brand_t *brand, const char *via,
                           const char *source, json_t *list, size_t *applied, size_t *quarantined);

/* What became of one item of iz_domain_repair_remote. */
typedef struct iz_repair {
    int rc; /* 0 applied; IZ_REPEAT izin has it already (an identical change, or
               the same transactionId): state is that change's İYS state, so
               PENDING or SENT means izin's own change still waits for İYS's
               answer; IZ_EINVAL it could not be read, or the store refused it:
               quarantined */
    iz_iys_state_t state;
} iz_repair_t;

/* A reconciliation's repair: İYS changes of report_date ("YYYY-MM-DD") that
 * izin did not have (a missed pull), applied as iz_domain_apply_remote
 * applies a pull's page (origin IYS, via "recon" for the quarantine) with
 * {"repair":"reconciliation","reportDate":...} in each change's evidence.
 * out[i] gets item i's fate; *applied (may be NULL) how many were written.
 * Returns 0 when every item was applied, found or quarantined, else the
 * store's failure. */
int iz_domain_repair_remote(iz_domain_t *d, const iz_brand_t *brand, const char *report_date,
                            json_t *list, iz_repair_t *out, size_t *applied);

/* Bring the filter index up to changes another process committed to the
 * store (`izin iys reconcile`, a local `izin import` or admin command run
 * beside `izin serve`): every consent_log row past the last one this
 * process saw puts its key's current record into the index. Cheap when
 * nothing is new (one read of the log's end); the sync engine calls it
 * every second. *seen (may be NULL) gets how many rows were read. */
int iz_domain_catch_up(iz_domain_t *d, size_t *seen);

/* The process is stopping: a catch-up under way returns after the page it
 * is on (a long one - another process's bulk load read key by key - would
 * hold a worker's stop up). */
void iz_domain_stopping(iz_domain_t *d);

/* Whether the filter index may be behind the shared store (several nodes:
 * domain/cluster.h sets it while the node cannot hear or read the other
 * nodes' changes, and clears it once caught up). While stale, judging a
 * commercial send answers IZ_EBUSY (the API's 503 IZ503) rather than a
 * verdict that may be out of date. */
void iz_domain_set_stale(iz_domain_t *d, bool stale);
bool iz_domain_stale(const iz_domain_t *d);

/* Counts since start, for /metrics. */
typedef struct iz_domain_stats {
    uint64_t changes[IZ_ORIGIN_COUNT_]; /* committed changes by origin */
    uint64_t local_ret;                 /* first RETs kept LOCAL (H175) */
    uint64_t quarantined;               /* İYS changes put in quarantine */
} iz_domain_stats_t;
void iz_domain_stats(const iz_domain_t *d, iz_domain_stats_t *out);

/* A brand's RET deadlines at now (epoch s): pending (open, deadline not
 * passed), at risk (pending with less than one business day left), missed
 * (open past the deadline, or closed after it). The sync engine counts
 * every brand's the same way for /metrics. */
typedef struct iz_ret_tally {
    int64_t pending, at_risk, missed;
} iz_ret_tally_t;
int iz_domain_ret_tally(iz_domain_t *d, int64_t brand_id, int64_t now, iz_ret_tally_t *out);

/* ---- judging ---------------------------------------------------------------- */

typedef enum {
    IZ_VERDICT_ALLOWED = 0,
    IZ_VERDICT_NO_CONSENT,
    IZ_VERDICT_RET,
    IZ_VERDICT_INVALID
} iz_verdict_t;

/* "NO_CONSENT", "RET", "INVALID"; NULL for ALLOWED. */
const char *iz_verdict_reason(iz_verdict_t v);

/* What is being sent: to which brand, on which channel, to which kind of
 * recipient, and whether it is commercial. */
typedef struct iz_judge {
    int64_t brand_id;
    iz_type_t type;
    iz_rtype_t rtype;
    bool commercial;
} iz_judge_t;

/* One recipient as written (len bytes): *v gets the verdict and norm the
 * normalized form (for every verdict but INVALID). Returns 0, or the
 * store's failure (without an index) - *v must then not be used. */
int iz_domain_judge(iz_domain_t *d, const iz_judge_t *j, const char *raw, size_t len,
                    char norm[IZ_RECIPIENT_MAX], iz_verdict_t *v);

/* One recipient of a list, judged. */
typedef struct iz_judged {
    iz_verdict_t v; /* meaningless for a repeat */
    bool repeat;    /* the same address (after normalization) came earlier in the list:
                       answer it there, once; INVALID items are never repeats */
    char norm[IZ_RECIPIENT_MAX];
} iz_judged_t;

/* A list: item i as written in raw[i] (len[i] bytes; a NULL raw[i] is a
 * value that is not a string: INVALID). With drop_repeats an address seen
 * earlier in the list is marked repeat and judged once. Returns 0 or the
 * store's failure. */
int iz_domain_judge_list(iz_domain_t *d, const iz_judge_t *j, const char *const *raw,
                         const size_t *len, size_t n, bool drop_repeats, iz_judged_t *out);

/* A stream of recipients one a line (a text/plain body, a file, a pipe), of
 * any length, in bounded memory. Lines are trimmed (spaces, tabs, CR);
 * blank lines are skipped; a line over IZ_INPUT_MAX bytes is INVALID and
 * handed on cut to 64 bytes followed by "...". Each line is answered, in
 * input order, by the callback: the line as written, its normalized form
 * (NULL for INVALID) and the verdict. Repeats are answered again. */
typedef void (*iz_judge_line_fn)(void *ctx, const char *line, size_t len, const char *norm,
                                 size_t normlen, iz_verdict_t v);

typedef struct iz_judge_stream iz_judge_stream_t;

/* A new stream (never NULL); fn is called from feed and end. */
iz_judge_stream_t *iz_judge_stream_new(iz_domain_t *d, const iz_judge_t *j, iz_judge_line_fn fn,
                                       void *ctx);
/* Take the next len bytes. Returns 0, or the store's failure (then every
 * later call returns it too and nothing more is answered). */
int iz_judge_stream_feed(iz_judge_stream_t *s, const char *data, size_t len);
/* The last line (without a newline) and the rest of the batch. */
int iz_judge_stream_end(iz_judge_stream_t *s);
/* Lines answered so far, allowed and blocked. */
void iz_judge_stream_counts(const iz_judge_stream_t *s, uint64_t *allowed, uint64_t *blocked);
void iz_judge_stream_free(iz_judge_stream_t *s);

/* ---- a change as JSON ---------------------------------------------------- */

/* The JSON form of a stored change (a new reference): id, recipient,
 * recipientType, type, status, source and consentDate (when present),
 * creationDate, origin, the retailer fields, and iys {state, transactionId,
 * error} - how the API answers a change. */
json_t *iz_change_json(const iz_change_t *c);

/* The changes feed's item of a change (a new reference): iz_change_json
 * without iys, whose state moves after the change is recorded; what the
 * feed (GET /v1/brands/{b}/changes) lists and a webhook delivers, so that
 * one change always reads the same. */
json_t *iz_change_feed_json(const iz_change_t *c);

#endif
