/*
 * import_local.c - `izin import --brand CODE FILE` on the local store: the
 * same job the server runs for an upload (bulk/job.h), run here, with the
 * progress display. The file is read where it lies (it must stay until
 * the job ends: a job interrupted by a crash or Ctrl-C stays RUNNING in
 * the store and `izin serve` resumes it from that path, or the same
 * command is given again).
 */
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulk/job.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "core/holidays_data.h"
#include "core/iz.h"

static atomic_bool interrupted;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&interrupted, true);
}

static void show(void *ctx, const iz_job_t *job)
{
    iz_progress_update(ctx, job->processed, job->total, job->accepted, job->rejected);
}

int iz_cli_import_local(const iz_opts_t *o, const char *brand_code, const char *file)
{
    int64_t code;
    if (!brand_code || iz_parse_i64(brand_code, 1, INT64_MAX, &code) != 0) {
        iz_cli_fail("--brand must be a brand code");
        return 2;
    }
    char path[PATH_MAX];
    if (!realpath(file, path) || access(path, R_OK) != 0) {
        iz_cli_fail("cannot read %s", file);
        return 1;
    }
    iz_store_t *st;
    if (iz_cli_open_store(o, &st) != 0) return 1;
    iz_brand_t brand;
    iz_holidays_t *hol = NULL;
    iz_domain_t *dom = NULL;
    int rc = iz_cli_find_brand(st, iz_cli_get(o, "account"), code, &brand);
    if (rc == 0 && iz_holidays_parse(iz_holidays_csv,
                                     (size_t)(iz_holidays_csv_end - iz_holidays_csv), &hol) != 0)
        rc = -1;
    if (rc == 0) {
        iz_domain_conf_t dc = {.store = st, .holidays = hol};
        const char *err = NULL;
        if (iz_domain_open(&dc, &dom, &err) != 0) {
            iz_cli_fail("cannot open the store: %s", err ? err : "");
            rc = -1;
        }
    }
    int exit_code = 1;
    iz_job_t job;
    if (rc == 0 && (rc = iz_job_create(st, &brand, path, IZ_BULK_AUTO, &job)) != 0)
        iz_cli_fail("cannot make the job: %s", iz_strerror(rc));
    if (rc == 0) {
        struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        iz_progress_t *p = iz_progress_new(stderr, isatty(STDERR_FILENO));
        rc = iz_job_run(dom, &job, show, p, &interrupted);
        iz_progress_done(p);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        bool json = iz_cli_get(o, "json") != NULL;
        if (rc != 0) {
            iz_cli_fail("the import stopped: %s (job %s; rows up to line %lld are in)",
                        iz_strerror(rc), job.id, (long long)job.resume_line);
        } else if (strcmp(job.state, "FAILED") == 0) {
            iz_cli_fail("%s", job.error);
        } else if (strcmp(job.state, "DONE") != 0) {
            iz_cli_fail("interrupted (job %s; rows up to line %lld are in, the rest is not)",
                        job.id, (long long)job.resume_line);
        } else {
            exit_code = job.rejected ? 3 : 0;
            if (json)
                printf("{\"jobId\":\"%s\",\"state\":\"%s\",\"total\":%lld,\"accepted\":%lld,"
                       "\"rejected\":%lld}\n",
                       job.id, job.state, (long long)job.total, (long long)job.accepted,
                       (long long)job.rejected);
            else
                printf("job %s: %lld rows, %lld accepted, %lld rejected\n", job.id,
                       (long long)job.processed, (long long)job.accepted,
                       (long long)job.rejected);
            const char *ef = iz_cli_get(o, "errors");
            if (ef) {
                FILE *f = fopen(ef, "w");
                int erc = f ? iz_job_errors_csv(st, job.id, f) : IZ_EIO;
                if (f && fclose(f) != 0) erc = IZ_EIO;
                if (erc != 0) {
                    iz_cli_fail("cannot write %s: %s", ef, iz_strerror(erc));
                    exit_code = 1;
                }
            }
            if (job.rejected) {
                /* The rejected rows, as errors.csv has them. */
                iz_job_error_t *errs = NULL;
                size_t n = 0;
                if (iz_store_job_errors(st, job.id, -1, 20, &errs, &n) == 0)
                    for (size_t i = 0; i < n && !json; i++)
                        fprintf(stderr, "line %lld: %s %s\n", (long long)errs[i].line,
                                errs[i].code, errs[i].message);
                free(errs);
            }
        }
    }
    iz_domain_close(dom);
    iz_store_close(st);
    if (hol) iz_holidays_free(hol);
    return exit_code;
}
