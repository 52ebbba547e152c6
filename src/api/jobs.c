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

typedef struct upload {
    iz_app_t *app;
    iz_brand_t brand;
    int fd;
    char path[1024];
    char head[SNIFF_BYTES];
    size_t head_len;
    uint64_t bytes;
    int err; /* errno of a failed write, 0 */
    bool kept; /* the file belongs to a job now */
} upload_t;

static void upload_chunk(iz_req_t *r, void *state, const char *data, size_t len)
{
    (void)r;
    upload_t *u = state;
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

static void upload_done(iz_req_t *r, void *state)
{
    upload_t *u = state;
    if (!u->err && fsync(u->fd) != 0) u->err = errno;
    if (u->err) {
        iz_logf(IZ_LOG_ERROR, "api", "cannot spool an upload", "path=%s error=%s", u->path,
                strerror(u->err));
        iz_reply_error(r, u->err == ENOSPC ? "IZ507" : "IZ500", NULL);
        return;
    }
    iz_bulk_format_t fmt =
        iz_bulk_format_sniff(u->head, u->head_len, iz_req_header(r, "Content-Type"));
    if (u->bytes == 0 || fmt == IZ_BULK_AUTO) {
        iz__reply_field(r, "body", NULL, "Dosya boş ya da biçimi tanınmadı (CSV, XLSX, JSON).",
                        "The file is empty or not CSV, XLSX or JSON.");
        return;
    }
    iz_job_t job;
    int rc = iz_job_create(u->app->store, &u->brand, u->path, fmt, &job);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    u->kept = true;
    iz_jobs_wake(u->app->jobs);
    iz_reply_json(r, 202, json_pack("{s:s}", "jobId", job.id));
}

static void upload_free(void *state)
{
    upload_t *u = state;
    if (u->fd >= 0) close(u->fd);
    if (!u->kept && u->path[0]) unlink(u->path);
    free(u);
}

void iz__h_bulk_post(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    upload_t *u = iz_xcalloc(1, sizeof *u);
    u->fd = -1;
    u->app = app;
    if (!app->spool_dir || !app->jobs) {
        free(u);
        iz_reply_error(r, "IZ503", NULL);
        return;
    }
    if (iz__api_brand(r, app, &u->brand) != 0) {
        free(u);
        return;
    }
    snprintf(u->path, sizeof u->path, "%s/upload-XXXXXX", app->spool_dir);
    u->fd = mkstemp(u->path);
    if (u->fd < 0) {
        iz_logf(IZ_LOG_ERROR, "api", "cannot make an upload file", "dir=%s error=%s",
                app->spool_dir, strerror(errno));
        u->path[0] = '\0';
        upload_free(u);
        iz_reply_error(r, "IZ500", NULL);
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

void iz__h_job_get(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_job_t job;
    if (own_job(r, app, &job) != 0) return;
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "jobId", job.id, "state", job.state,
                          "processed", (json_int_t)job.processed, "accepted",
                          (json_int_t)job.accepted, "rejected", (json_int_t)job.rejected);
    json_object_set_new(o, "total", job.total >= 0 ? json_integer(job.total) : json_null());
    /* The rate since the job started, and the time left at that rate. */
    int64_t end = job.finished_ms ? job.finished_ms : (int64_t)time(NULL) * 1000;
    double secs = job.started_ms && end > job.started_ms ? (double)(end - job.started_ms) / 1000
                                                         : 0;
    double rate = secs > 0 ? (double)job.processed / secs : 0;
    json_object_set_new(o, "rowsPerSecond", json_real(rate));
    if (job.total >= 0 && rate > 0 && strcmp(job.state, "RUNNING") == 0)
        json_object_set_new(o, "etaSeconds",
                            json_real((double)(job.total - job.processed) / rate));
    else
        json_object_set_new(o, "etaSeconds", json_null());
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

void iz__h_job_errors_csv(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_job_t job;
    if (own_job(r, app, &job) != 0) return;
    /* Written to an unlinked temporary file page by page, then sent from
     * it: memory does not grow with the number of rejected rows. */
    FILE *f = tmpfile();
    if (!f) {
        iz_reply_error(r, "IZ500", NULL);
        return;
    }
    int rc = iz_job_errors_csv(app->store, job.id, f);
    if (rc != 0) {
        fclose(f);
        if (rc == IZ_EIO)
            iz_reply_error(r, "IZ500", NULL);
        else
            iz__reply_store_error(r, rc);
        return;
    }
    long size = ftell(f);
    int fd = dup(fileno(f));
    fclose(f);
    if (fd < 0 || size < 0 || lseek(fd, 0, SEEK_SET) != 0) {
        if (fd >= 0) close(fd);
        iz_reply_error(r, "IZ500", NULL);
        return;
    }
    iz_reply_fd(r, 200, "text/csv; charset=utf-8", fd, (uint64_t)size);
}
