/*
 * recon.h - the daily reconciliation with İYS ("mutabakat"): for one brand
 * and one day, İYS's change file of the day is compared with izin's own
 * view of that day, what a missed pull left out is repaired, and when the
 * two agree the agreement is recorded with İYS and İYS's timestamp of the
 * file is kept as evidence.
 *
 * A run, step by step:
 *   1. GET .../changes/{date}/file, streamed to an unlinked temporary file
 *      while its SHA-384 is computed (a day may hold millions of lines:
 *      memory does not grow with it); 204 means İYS recorded no change.
 *   2. The file is read strictly (core/reconfile.h); a bad line is a
 *      mismatch with its line number, never skipped. Each change line is
 *      looked up by its transactionId:
 *        - izin has that change: its fields must be the line's, else the
 *          line is a mismatch (DIFFERENT); it is never "repaired" blindly;
 *        - izin does not: an İYS-side change izin never pulled (or one of
 *          izin's own whose answer it has not had yet). It goes through the
 *          domain's apply-remote path (iz_domain_repair_remote) with origin
 *          IYS and the repair noted in its evidence: written (repaired), or
 *          found identical in izin (a change of izin's still PENDING or SENT
 *          for İYS is not a mismatch: pending), or quarantined (mismatch).
 *          When izin already holds a newer change of that key, applying the
 *          older one would turn the current record back: it is reported
 *          (SUPERSEDED), not applied.
 *   3. Every change izin sent that İYS accepted on that day (İYS's
 *      creationDate, store iys_days) must be in the file: one that is not
 *      is a mismatch (MISSING). A bitmap over the day's log id span tells
 *      which were seen, so this too is bounded (a bit a log id).
 *   4. No mismatch: GET .../agreements/{date} must give the same SHA-384
 *      (else a HASH mismatch: the file served is not the file İYS
 *      hashed), PUT .../agreements/{date} {agreementStatus:true, hashValue}
 *      records the agreement, GET .../agreements/{date}/timestamp gives the
 *      RFC 3161 reply, kept with the result.
 *   5. The result goes to the store (iys_recon): MATCHED (nothing to do),
 *      REPAIRED (repairs made, no mismatch), MISMATCH (something could not
 *      be repaired: details say what), FAILED (İYS did not answer, refused
 *      the call, or the agreement could not be recorded: run again later).
 *
 * Every request goes through the İYS client, so through the İYS URL's one
 * rate budget, like every other İYS call.
 */
#ifndef IZ_IYS_RECON_H
#define IZ_IYS_RECON_H

#include "core/reconfile.h"
#include "domain/domain.h"
#include "iys/client.h"
#include "store/store.h"

#define IZ_RECON_DETAILS_KEPT 1000 /* mismatches described in a result; the rest counted */

/* Reconcile brand's day date ("YYYY-MM-DD", Turkey time) through cli. The
 * result is kept in the store and, when out is not NULL, given to the
 * caller (free its tsr and details with free()). Returns 0 when a result
 * was recorded (whatever its status), IZ_EINVAL for bad arguments, or the
 * store's failure. */
int iz_recon_run(iz_domain_t *dom, iz_iys_t *cli, const iz_brand_t *brand, const char *date,
                 iz_recon_t *out);

/* Whether a line of İYS's file describes change c (found by its
 * transactionId): NULL when every field agrees, else the first field that
 * does not ("recipient", "recipientType", "type", "status", "consentDate",
 * "source"). Exposed for the tests. */
const char *iz_recon_compare(const iz_recon_line_t *row, const iz_change_t *c);

/* A result as the API and `izin iys reconcile --json` show it:
 * {brandCode, date, status, rows, matched, repaired, pending, mismatched,
 *  hashValue, agreed, agreedAt, timestamp (the RFC 3161 reply, base64),
 *  mismatches:[{kind, line?, transactionId?, ...}], error, startedAt,
 *  finishedAt}; absent values are null. */
json_t *iz_recon_json(const iz_recon_t *r, int64_t brand_code);

/* Yesterday's date in Turkey time, for a moment now (epoch s). */
void iz_recon_yesterday(int64_t now, char out[11]);

#endif
