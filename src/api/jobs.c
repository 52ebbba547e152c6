/*
 * jobs.c - bulk upload over HTTP: POST .../consents/bulk spools the body to
 * a file as it arrives (memory does not grow with it), makes a job and
 * answers 202 at once; GET /v1/jobs/{id} shows its progress and GET
 * /v1/jobs/{id}/errors.csv every rejected row. A job is its account's
 * alone: another account's key gets 404, as for an unknown job.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api_int.h"
#include "bulk/job.h"
#include "core/iz.h"
#include "sys/log.h"

#define SNIFF_BYTES 512
#define FIRST_ERRORS 1000

struct iz_upload {
    iz_app_t *app;
    iz_brand_t brand;
    int fd;
    char path[1024];
    char head[SNIFF_BYTES];
    size_t head_len;
    uint64_t bytes;
    int err;   /* errno of a failed write, 0 */
    bool kept; /* the file belongs to a job now */
};

int iz_upload_open(iz_app_t *app, const iz_brand_t *brand, iz_upload_t **out)
{
    *out = NULL;
    if (!app->spool_dir || !app->jobs) return IZ_EBUSY;
    iz_upload_t *u = iz_xcalloc(1, sizeof *u);
    u->app = app;
    u->brand = *brand;
    snprintf(u->path, sizeof u->path, "%s/upload-XXXXXX", app->spool_dir);
    u->fd = mkstemp(u->path);
    if (u->fd < 0) {
        iz_logf(IZ_LOG_ERROR, "api", "cannot make an upload file", "dir=%s error=%s",
                app->spool_dir, strerror(errno));
        free(u);
        return IZ_EIO;
    }
    *out = u;
    return 0;
}

void iz_upload_write(iz_upload_t *u, const char *data, size_t len)
{
    if (u->err) return;
    if (u->head_len < SNIFF_BYTES) {
        size_t k = SNIFF_BYTES - u->head_len < len ? SNIFF_BYTES - u->head_len : len;
        memcpy(u->head + u->head_len, data, k);
        u->head_len += k;
    }
    while (len > 0) {
        ssize_t w = write(u->fd, data, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            u->err = w < 0 ? errno : EIO;
            return;
        }
        data += w;
        len -= (size_t)w;
        u->bytes += (uint64_t)w;
    }
}

int iz_upload_finish(iz_upload_t *u, const char *content_type, iz_job_t *job)
{
    if (!u->err && fsync(u->fd) != 0) u->err = errno;
    if (u->err) {
        iz_logf(IZ_LOG_ERROR, "api", "cannot spool an upload", "path=%s error=%s", u->path,
                strerror(u->err));
        return u->err == ENOSPC ? IZ_ETOOBIG : IZ_EIO;
    }
    iz_bulk_format_t fmt = iz_bulk_format_sniff(u->head, u->head_len, content_type);
    if (u->bytes == 0 || fmt == IZ_BULK_AUTO) return IZ_EINVAL;
    int rc = iz_job_create(u->app->store, &u->brand, u->path, fmt, job);
    if (rc != 0) return rc;
    u->kept = true;
    iz_jobs_wake(u->app->jobs);
    return 0;
}

void iz_upload_free(iz_upload_t *u)
{
    if (!u) return;
    if (u->fd >= 0) close(u->fd);
    if (!u->kept && u->path[0]) unlink(u->path);
    free(u);
}

static void upload_chunk(iz_req_t *r, void *state, const char *data, size_t len)
{
    (void)r;
    iz_upload_write(state, data, len);
}

static void upload_done(iz_req_t *r, void *state)
{
    iz_job_t job;
    int rc = iz_upload_finish(state, iz_req_header(r, "Content-Type"), &job);
    if (rc == IZ_EINVAL)
        iz__reply_field(r, "body", NULL, "Dosya boş ya da biçimi tanınmadı (CSV, XLSX, JSON).",
                        "The file is empty or not CSV, XLSX or JSON.");
    else if (rc == IZ_EIO || rc == IZ_ETOOBIG)
        iz_reply_error(r, rc == IZ_ETOOBIG ? "IZ507" : "IZ500", NULL);
    else if (rc != 0)
        iz__reply_store_error(r, rc);
    else
        iz_reply_json(r, 202, json_pack("{s:s}", "jobId", job.id));
}

static void upload_free(void *state)
{
    iz_upload_free(state);
}

void iz__h_bulk_post(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    if (iz__api_brand(r, app, &brand) != 0) return;
    iz_upload_t *u;
    int rc = iz_upload_open(app, &brand, &u);
    if (rc != 0) {
        iz_reply_error(r, rc == IZ_EBUSY ? "IZ503" : "IZ500", NULL);
        return;
    }
    iz_req_stream(r, upload_chunk, upload_done, upload_free, u);
}

/* The job of this account, or an answer (404) and -1. */
static int own_job(iz_req_t *r, iz_app_t *app, iz_job_t *job)
{
    const char *id = iz_req_param(r, "jobId");
    int rc = id && strlen(id) == IZ_JOB_ID_LEN - 1 ? iz_store_job_get(app->store, id, job)
                                                     : IZ_ENOTFOUND;
    if (rc == 0 && job->account_id == iz_req_account(r)) return 0;
    if (rc == 0 || rc == IZ_ENOTFOUND)
        iz_reply_error(r, "IZ404", iz_req_english(r) ? "job not found" : "İş bulunamadı.");
    else
        iz__reply_store_error(r, rc);
    return -1;
}

void iz_job_rate(const iz_job_t *job, double *rate, double *eta)
{
    /* The rate since the job started, and the time left at that rate. */
    int64_t end = job->finished_ms ? job->finished_ms : (int64_t)time(NULL) * 1000;
    double secs =
        job->started_ms && end > job->started_ms ? (double)(end - job->started_ms) / 1000 : 0;
    *rate = secs > 0 ? (double)job->processed / secs : 0;
    *eta = job->total >= 0 && *rate > 0 && strcmp(job->state, "RUNNING") == 0
               ? (double)(job->total - job->processed) / *rate
               : -1;
}

void iz__h_job_get(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_job_t job;
    if (own_job(r, app, &job) != 0) return;
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "jobId", job.id, "state", job.state,
                          "processed", (json_int_t)job.processed, "accepted",
                          (json_int_t)job.accepted, "rejected", (json_int_t)job.rejected);
    json_object_set_new(o, "total", job.total >= 0 ? json_integer(job.total) : json_null());
    double rate, eta;
    iz_job_rate(&job, &rate, &eta);
    json_object_set_new(o, "rowsPerSecond", json_real(rate));
    json_object_set_new(o, "etaSeconds", eta >= 0 ? json_real(eta) : json_null());
    if (job.error[0]) json_object_set_new(o, "error", json_string(job.error));
    json_t *warn = json_array();
    for (char *p = job.warnings; *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        json_array_append_new(warn, json_string(p));
        if (!nl) break;
        p = nl + 1;
    }
    json_object_set_new(o, "warnings", warn);
    iz_job_error_t *errs = NULL;
    size_t n = 0;
    json_t *ea = json_array();
    if (iz_store_job_errors(app->store, job.id, -1, FIRST_ERRORS, &errs, &n) == 0)
        for (size_t i = 0; i < n; i++)
            json_array_append_new(ea, json_pack("{s:I, s:s, s:s}", "line", (json_int_t)errs[i].line,
                                                "code", errs[i].code, "message",
                                                errs[i].message));
    free(errs);
    json_object_set_new(o, "errors", ea);
    iz_reply_json(r, 200, o);
}

int iz_job_errors_file(iz_app_t *app, const char *job_id, int *fd, uint64_t *size)
{
    /* Written to an unlinked temporary file page by page, then sent from
     * it: memory does not grow with the number of rejected rows. */
    FILE *f = tmpfile();
    if (!f) return IZ_EIO;
    int rc = iz_job_errors_csv(app->store, job_id, f);
    long end = rc == 0 ? ftell(f) : -1;
    int d = rc == 0 ? dup(fileno(f)) : -1;
    fclose(f);
    if (rc != 0) return rc;
    if (d < 0 || end < 0 || lseek(d, 0, SEEK_SET) != 0) {
        if (d >= 0) close(d);
        return IZ_EIO;
    }
    *fd = d;
    *size = (uint64_t)end;
    return 0;
}

void iz__h_job_errors_csv(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_job_t job;
    if (own_job(r, app, &job) != 0) return;
    int fd;
    uint64_t size;
    int rc = iz_job_errors_file(app, job.id, &fd, &size);
    if (rc == IZ_EIO)
        iz_reply_error(r, "IZ500", NULL);
    else if (rc != 0)
        iz__reply_store_error(r, rc);
    else
        iz_reply_fd(r, 200, "text/csv; charset=utf-8", fd, size);
}
