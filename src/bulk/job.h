/*
 * job.h - bulk upload jobs: a file of consents (CSV, XLSX, JSON) recorded
 * row by row exactly like single consents, in the background, surviving a
 * restart.
 *
 * A job is made QUEUED for a file already on disk (an upload is spooled
 * first), then run by the runner thread of `izin serve` or, for `izin
 * import`, in the caller's thread. Running it reads the file twice:
 *   1. every row is read and validated to count the rows and to find the
 *      same address (recipient, type, recipientType) twice in the file: the
 *      row with the later consentDate is kept (the later line on a tie),
 *      the other is rejected (H194) naming the line that is kept; a file
 *      the reader cannot read on (a header missing a required column, a
 *      broken zip, a line over the bound) fails the job at once, with
 *      nothing stored;
 *   2. the rows are recorded through the domain layer (origin BULK, the
 *      same H-codes and rules as a single consent, evidence {job, line}) in
 *      batches; each batch's rejected rows (with line, code, message and the
 *      raw row) and the job's counters and resume_line commit in the same
 *      transaction as its changes.
 * So a job killed at any point resumes after its last committed batch: no
 * row is stored twice and none is lost, and errors.csv lists each rejected
 * row once. Rows that cannot be read (wrong column count, bad quoting) are
 * rejected with their line; empty lines are skipped.
 */
#ifndef IZ_BULK_JOB_H
#define IZ_BULK_JOB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "bulk/bulk.h"
#include "domain/domain.h"
#include "store/store.h"

/* Rows recorded in one transaction (a bulk load, iz_domain_load_then): 500
 * commits for 10M rows. Two batches are held at once (one read while the
 * other is recorded), each row about 2.3 KB with its record (iz_record_t
 * embeds an iz_change_t): about 90 MB. */
#define IZ_JOB_BATCH 20000
_Static_assert(IZ_JOB_BATCH <= IZ_DOMAIN_LOAD_MAX, "a batch is one bulk load");

/* Make a QUEUED job for the file at path (fmt: its format, or AUTO to sniff
 * it when the job runs) of brand. */
int iz_job_create(iz_store_t *st, const iz_brand_t *brand, const char *path,
                  iz_bulk_format_t fmt, iz_job_t *out);

/* Called after each committed batch (and at the end) with the job as it
 * stands. */
typedef void (*iz_job_progress_fn)(void *ctx, const iz_job_t *job);

/* Whether a RUNNING job is run by a process that is still alive (its owner
 * is another live process of this host): then nobody else may run it. */
bool iz_job_owned_elsewhere(const iz_job_t *job);

/* Run a job to its end in this thread: resumes after job->resume_line.
 * The job's owner becomes this process.
 * Returns 0 when the job ended (DONE or FAILED, in job->state, its reason
 * in job->error), or the store's failure (the job stays RUNNING and may be
 * run again). stop, when not NULL, is polled between batches. */
int iz_job_run(iz_domain_t *dom, iz_job_t *job, iz_job_progress_fn progress, void *ctx,
               const atomic_bool *stop);

/* Write errors.csv of a job to out: the header "line,code,message,raw"
 * and every rejected row in line order, fields quoted as RFC 4180 says.
 * Returns 0, the store's failure, or IZ_EIO when out cannot be written. */
int iz_job_errors_csv(iz_store_t *st, const char *job_id, FILE *out);

/* The background runner of `izin serve`: runs the QUEUED and RUNNING jobs
 * of the store one after another, oldest first (those of an earlier run
 * too), and new ones when woken. */
typedef struct iz_jobs iz_jobs_t;

int iz_jobs_start(iz_domain_t *dom, iz_jobs_t **out);
void iz_jobs_wake(iz_jobs_t *j);
void iz_jobs_stop(iz_jobs_t *j);

#endif
