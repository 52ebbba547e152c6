/*
 * job.c - bulk upload jobs (see job.h): the two passes over the file, the
 * batches recorded with their progress, and the runner thread.
 */
#include "bulk/job.h"

#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/csvout.h"
#include "core/hcode.h"
#include "core/iz.h"
#include "sys/crypto.h"
#include "sys/log.h"

#define STEP_ERRORS_MAX 2000 /* rejected rows written in one step at most */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int iz_job_create(iz_store_t *st, const iz_brand_t *brand, const char *path,
                  iz_bulk_format_t fmt, iz_job_t *out)
{
    memset(out, 0, sizeof *out);
    uint8_t rnd[16];
    if (iz_random(rnd, sizeof rnd) != 0) return IZ_EIO;
    iz_hex(rnd, sizeof rnd, out->id);
    out->account_id = brand->account_id;
    out->brand_id = brand->id;
    iz_strlcpy(out->state, "QUEUED", sizeof out->state);
    iz_strlcpy(out->format, iz_bulk_format_name(fmt), sizeof out->format);
    if (iz_strlcpy(out->path, path, sizeof out->path) != 0) return IZ_ETOOBIG;
    out->total = -1;
    out->resume_line = -1;
    out->created_ms = now_ms();
    out->updated_ms = out->created_ms;
    return iz_store_job_add(st, out);
}

/* "host:pid" of this process. */
static void self_owner(char *out, size_t n)
{
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    snprintf(out, n, "%s:%ld", host, (long)getpid());
}

bool iz_job_owned_elsewhere(const iz_job_t *job)
{
    if (strcmp(job->state, "RUNNING") != 0 || !job->owner[0]) return false;
    char me[96];
    self_owner(me, sizeof me);
    if (strcmp(me, job->owner) == 0) return false;
    const char *colon = strrchr(job->owner, ':');
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    if (!colon || (size_t)(colon - job->owner) != strlen(host) ||
        strncmp(job->owner, host, strlen(host)) != 0)
        return true; /* another host's: not ours to judge (one node for now) */
    long pid = strtol(colon + 1, NULL, 10);
    if (pid <= 0) return false;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* ---- pass 1: the same address twice ------------------------------------------ */

/* An address: a 16-byte BLAKE2b of "rtype|type|recipient" (normalized). */
typedef struct addr {
    uint8_t h[16];
    int64_t line;   /* the row kept so far */
    int64_t date;   /* its consentDate */
    uint64_t index; /* its place among the rows */
    bool used;
} addr_t;

typedef struct addrs {
    addr_t *t;
    size_t cap, n;   /* cap a power of two */
    uint8_t *losers; /* bit per row index: rejected as a repeat */
    size_t losers_bytes;
} addrs_t;

static void key_of(const iz_consent_t *c, uint8_t h[16])
{
    char buf[IZ_RECIPIENT_MAX + 32];
    int n = snprintf(buf, sizeof buf, "%d|%d|%s", (int)c->rtype, (int)c->type, c->recipient);
    crypto_generichash(h, 16, (const uint8_t *)buf, (size_t)n, NULL, 0);
}

static addr_t *addr_slot(addrs_t *a, const uint8_t h[16])
{
    uint64_t x;
    memcpy(&x, h, sizeof x);
    size_t i = (size_t)x & (a->cap - 1);
    while (a->t[i].used && memcmp(a->t[i].h, h, 16) != 0)
        i = (i + 1) & (a->cap - 1);
    return &a->t[i];
}

static void addrs_grow(addrs_t *a)
{
    addrs_t b = {.cap = a->cap ? a->cap * 2 : 1024};
    b.t = iz_xcalloc(b.cap, sizeof *b.t);
    for (size_t i = 0; i < a->cap; i++)
        if (a->t[i].used) *addr_slot(&b, a->t[i].h) = a->t[i];
    free(a->t);
    a->t = b.t;
    a->cap = b.cap;
}

static void mark_loser(addrs_t *a, uint64_t index)
{
    size_t byte = (size_t)(index / 8);
    if (byte >= a->losers_bytes) {
        size_t nb = a->losers_bytes ? a->losers_bytes : 4096;
        while (nb <= byte)
            nb *= 2;
        a->losers = iz_xrealloc(a->losers, nb);
        memset(a->losers + a->losers_bytes, 0, nb - a->losers_bytes);
        a->losers_bytes = nb;
    }
    a->losers[byte] |= (uint8_t)(1u << (index % 8));
}

static bool is_loser(const addrs_t *a, uint64_t index)
{
    size_t byte = (size_t)(index / 8);
    return byte < a->losers_bytes && (a->losers[byte] & (1u << (index % 8)));
}

/* Note a valid row; the earlier of two rows of one address (by consentDate,
 * then by line) becomes a loser. */
static void addrs_note(addrs_t *a, const iz_consent_t *c, int64_t line, uint64_t index)
{
    if ((a->n + 1) * 4 >= a->cap * 3) addrs_grow(a);
    uint8_t h[16];
    key_of(c, h);
    addr_t *s = addr_slot(a, h);
    if (!s->used) {
        *s = (addr_t){.line = line, .date = c->consent_date, .index = index, .used = true};
        memcpy(s->h, h, 16);
        a->n++;
        return;
    }
    if (c->consent_date >= s->date) {
        mark_loser(a, s->index);
        s->line = line;
        s->date = c->consent_date;
        s->index = index;
    } else {
        mark_loser(a, index);
    }
}

/* The line kept for the address of c. */
static int64_t addrs_kept(addrs_t *a, const iz_consent_t *c)
{
    uint8_t h[16];
    key_of(c, h);
    addr_t *s = addr_slot(a, h);
    return s->used ? s->line : -1;
}

static void addrs_free(addrs_t *a)
{
    free(a->t);
    free(a->losers);
}

/* ---- running a job --------------------------------------------------------------- */

typedef struct run {
    const atomic_bool *stop;
    iz_domain_t *dom;
    iz_store_t *st;
    iz_job_t *job;
    iz_brand_t brand;
    addrs_t addrs;
    /* the batch being built */
    iz_record_t *recs;
    int64_t *rec_line;
    char **rec_raw;
    char (*rec_ev)[64];
    size_t nrec;
    iz_job_error_t *errs; /* rejected rows of the step, in line order at write */
    size_t nerr;
    int64_t step_last_line; /* the last row the step covers */
    int64_t step_rows;
    /* the values of the batch's rows (the reader's pointers do not last) */
    char **vals; /* IZ_JOB_BATCH * IZ_BULK_NFIELDS */
} run_t;

static void job_failed(iz_job_t *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void job_failed(iz_job_t *job, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(job->error, sizeof job->error, fmt, ap);
    va_end(ap);
    iz_strlcpy(job->state, "FAILED", sizeof job->state);
    job->finished_ms = now_ms();
}

/* After a cut by iz_strlcpy: drop a last character left incomplete. */
static void utf8_tidy(char *s)
{
    size_t n = strlen(s), p = n;
    while (p > 0 && ((unsigned char)s[p - 1] & 0xC0) == 0x80)
        p--;
    if (p == 0) return;
    unsigned char lead = (unsigned char)s[p - 1];
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (p - 1 + want > n) s[p - 1] = '\0';
}

static void add_error(run_t *r, int64_t line, const char *code, const char *message,
                      const char *raw)
{
    iz_job_error_t *e = &r->errs[r->nerr++];
    e->line = line;
    iz_strlcpy(e->code, code, sizeof e->code);
    /* A message or raw row too long for the record is cut at a character's
     * boundary: what errors.csv shows of it is a diagnostic. */
    if (iz_strlcpy(e->message, message, sizeof e->message) != 0) utf8_tidy(e->message);
    if (iz_strlcpy(e->raw, raw ? raw : "", sizeof e->raw) != 0) utf8_tidy(e->raw);
}

static const char *code_message(const char *code)
{
    const iz_hcode_t *h = iz_hcode(code);
    return h ? h->tr : code;
}

/* Inside the batch's transaction: the rejected records join the step's
 * errors, the counters move, and the step is written. */
static int write_step(iz_store_t *st, void *arg)
{
    run_t *r = arg;
    size_t accepted = 0;
    for (size_t i = 0; i < r->nrec; i++) {
        iz_record_t *rec = &r->recs[i];
        if (rec->rc == 0 || rec->rc == IZ_REPEAT) {
            accepted++;
            continue;
        }
        const char *code = rec->rc == IZ_EINVAL && rec->errs.n > 0 ? rec->errs.e[0].code
                           : rec->rc == IZ_ERULE && rec->hcode ? rec->hcode
                           : rec->rc == IZ_ETOOBIG             ? "IZ413"
                                                               : "IZ500";
        add_error(r, r->rec_line[i], code, code_message(code), r->rec_raw[i]);
    }
    iz_job_t *job = r->job;
    job->processed += r->step_rows;
    job->accepted += (int64_t)accepted;
    job->rejected += (int64_t)(r->step_rows - (int64_t)accepted);
    if (r->step_last_line > job->resume_line) job->resume_line = r->step_last_line;
    job->updated_ms = now_ms();
    return iz_store_job_step(st, job, r->errs, r->nerr);
}

static void batch_clear(run_t *r)
{
    for (size_t i = 0; i < r->nrec; i++) {
        free(r->rec_raw[i]);
        for (int f = 0; f < IZ_BULK_NFIELDS; f++) {
            free(r->vals[i * IZ_BULK_NFIELDS + (size_t)f]);
            r->vals[i * IZ_BULK_NFIELDS + (size_t)f] = NULL;
        }
    }
    r->nrec = 0;
    r->nerr = 0;
    r->step_rows = 0;
}

/* Record the batch and its step; on a store failure the job's counters are
 * as before (nothing of the step committed). */
static int flush(run_t *r)
{
    if (r->step_rows == 0) return 0;
    iz_job_t before = *r->job;
    int rc = iz_domain_load_then(r->dom, &r->brand, (int64_t)time(NULL), r->recs, r->nrec,
                                 r->job->id, r->rec_line, write_step, r);
    if (rc != 0) {
        *r->job = before;
        return rc;
    }
    batch_clear(r);
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? iz_xstrdup(s) : NULL;
}

/* One readable row of pass 2 into the batch. */
static void add_row(run_t *r, const iz_bulk_row_t *row)
{
    size_t i = r->nrec++;
    iz_record_t *rec = &r->recs[i];
    memset(rec, 0, sizeof *rec);
    char **v = &r->vals[i * IZ_BULK_NFIELDS];
    for (int f = 0; f < IZ_BULK_NFIELDS; f++)
        v[f] = dup_or_null(row->field[f]);
    iz_bulk_row_t copy = *row;
    for (int f = 0; f < IZ_BULK_NFIELDS; f++)
        copy.field[f] = v[f];
    iz_bulk_row_raw(&copy, &rec->raw);
    rec->origin = IZ_ORIGIN_BULK;
    snprintf(r->rec_ev[i], sizeof r->rec_ev[i], "{\"job\":\"%s\",\"line\":%lld}", r->job->id,
             (long long)row->line);
    rec->evidence = r->rec_ev[i];
    r->rec_line[i] = row->line;
    r->rec_raw[i] = iz_xstrdup(row->raw ? row->raw : "");
}

static int open_reader(run_t *r, iz_bulk_reader_t **rd)
{
    iz_bulk_format_t fmt = IZ_BULK_AUTO;
    if (strcmp(r->job->format, "csv") == 0) fmt = IZ_BULK_CSV;
    if (strcmp(r->job->format, "xlsx") == 0) fmt = IZ_BULK_XLSX;
    if (strcmp(r->job->format, "json") == 0) fmt = IZ_BULK_JSON;
    int rc = iz_bulk_open_path(rd, fmt, r->job->path);
    if (rc != 0) {
        char why[400] = "the file cannot be read";
        const iz_bulk_note_t *n = *rd ? iz_bulk_failure(*rd) : NULL;
        if (n) iz_bulk_note_text(n, true, why, sizeof why);
        job_failed(r->job, "%s", why);
    }
    return rc;
}

static void reader_failed(run_t *r, iz_bulk_reader_t *rd)
{
    char why[400] = "the file cannot be read";
    const iz_bulk_note_t *n = iz_bulk_failure(rd);
    if (n) iz_bulk_note_text(n, true, why, sizeof why);
    job_failed(r->job, "%s", why);
}

/* Pass 1: count the rows, find repeats, keep the warnings. Returns 0, 1
 * when told to stop (the job is as it was), or -1 when the file cannot be
 * read on (the job is FAILED). */
static int pass1(run_t *r)
{
    iz_bulk_reader_t *rd = NULL;
    if (open_reader(r, &rd) != 0) {
        iz_bulk_close(rd);
        return -1;
    }
    iz_validate_opts_t vo = {.now = (int64_t)time(NULL)};
    iz_bulk_row_t row;
    uint64_t index = 0;
    int rc;
    while ((rc = iz_bulk_next(rd, &row)) == 1) {
        if (row.problem.code == IZ_BULK_OK) {
            iz_consent_raw_t raw;
            iz_consent_t c;
            iz_bulk_row_raw(&row, &raw);
            if (iz_consent_validate(&raw, &vo, &c, NULL) == 0)
                addrs_note(&r->addrs, &c, row.line, index);
        }
        index++;
        if ((index & 0xFFFF) == 0 && r->stop && atomic_load(r->stop)) {
            iz_bulk_close(rd);
            return 1;
        }
    }
    if (rc < 0) {
        reader_failed(r, rd);
        iz_bulk_close(rd);
        return -1;
    }
    r->job->total = (int64_t)index;
    const iz_bulk_note_t *w = NULL;
    size_t nw = iz_bulk_warnings(rd, &w);
    size_t off = 0;
    r->job->warnings[0] = '\0';
    for (size_t i = 0; i < nw && off + 2 < sizeof r->job->warnings; i++) {
        char t[300];
        iz_bulk_note_text(&w[i], true, t, sizeof t);
        int k = snprintf(r->job->warnings + off, sizeof r->job->warnings - off, "%s%s",
                         off ? "\n" : "", t);
        if (k < 0) break;
        off += (size_t)k;
    }
    if (off >= sizeof r->job->warnings) utf8_tidy(r->job->warnings);
    iz_bulk_close(rd);
    return 0;
}

/* Pass 2: record the rows after resume_line. Returns 0, or the store's
 * failure. */
static int pass2(run_t *r, iz_job_progress_fn progress, void *ctx, const atomic_bool *stop)
{
    iz_bulk_reader_t *rd = NULL;
    if (open_reader(r, &rd) != 0) {
        iz_bulk_close(rd);
        return 0;
    }
    iz_validate_opts_t vo = {.now = (int64_t)time(NULL)};
    iz_bulk_row_t row;
    uint64_t index = 0;
    int rc, src = 0;
    while ((rc = iz_bulk_next(rd, &row)) == 1) {
        uint64_t me = index++;
        if (row.line <= r->job->resume_line) continue;
        if (row.problem.code != IZ_BULK_OK) {
            char msg[400];
            iz_bulk_note_text(&row.problem, false, msg, sizeof msg);
            add_error(r, row.line, iz_bulk_note_hcode(&row.problem), msg, row.raw);
        } else if (is_loser(&r->addrs, me)) {
            iz_consent_raw_t raw;
            iz_consent_t c;
            iz_bulk_row_raw(&row, &raw);
            int64_t kept = iz_consent_validate(&raw, &vo, &c, NULL) == 0
                               ? addrs_kept(&r->addrs, &c)
                               : -1;
            char msg[256];
            snprintf(msg, sizeof msg,
                     "Aynı alıcı ve izin tipi dosyada %lld. satırda daha yeni bir izin "
                     "tarihiyle var; o satır alındı.",
                     (long long)kept);
            add_error(r, row.line, "H194", msg, row.raw);
        } else {
            add_row(r, &row);
        }
        r->step_rows++;
        r->step_last_line = row.line;
        if (r->nrec >= IZ_JOB_BATCH || r->nerr >= STEP_ERRORS_MAX) {
            if ((src = flush(r)) != 0) break;
            if (progress) progress(ctx, r->job);
            if (stop && atomic_load(stop)) break;
        }
    }
    if (src == 0 && rc < 0) {
        /* The file changed under the job, or cannot be read on: what was
         * recorded stays, the job ends here. */
        src = flush(r);
        reader_failed(r, rd);
    } else if (src == 0 && !(stop && atomic_load(stop))) {
        src = flush(r);
        if (src == 0 && rc == 0) {
            iz_strlcpy(r->job->state, "DONE", sizeof r->job->state);
            r->job->finished_ms = now_ms();
        }
    }
    iz_bulk_close(rd);
    return src;
}

int iz_job_run(iz_domain_t *dom, iz_job_t *job, iz_job_progress_fn progress, void *ctx,
               const atomic_bool *stop)
{
    run_t r = {.stop = stop, .dom = dom, .st = iz_domain_store(dom), .job = job};
    iz_brand_t *brands = NULL;
    size_t nb = 0;
    int rc = iz_store_brands_all(r.st, &brands, &nb);
    if (rc != 0) return rc;
    bool found = false;
    for (size_t i = 0; i < nb && !found; i++)
        if (brands[i].id == job->brand_id) {
            r.brand = brands[i];
            found = true;
        }
    free(brands);
    if (!found) {
        job_failed(job, "the brand of the job no longer exists");
        return iz_store_job_step(r.st, job, NULL, 0);
    }
    iz_strlcpy(job->state, "RUNNING", sizeof job->state);
    self_owner(job->owner, sizeof job->owner);
    if (!job->started_ms) job->started_ms = now_ms();
    job->updated_ms = now_ms();
    if ((rc = iz_store_job_step(r.st, job, NULL, 0)) != 0) return rc;

    int p1 = pass1(&r);
    if (p1 != 0) {
        addrs_free(&r.addrs);
        return p1 > 0 ? 0 : iz_store_job_step(r.st, job, NULL, 0);
    }
    /* The counters restart from what the store has (a resumed job). */
    iz_job_t stored;
    if (iz_store_job_get(r.st, job->id, &stored) == 0) {
        job->processed = stored.processed;
        job->accepted = stored.accepted;
        job->rejected = stored.rejected;
        job->resume_line = stored.resume_line;
    }
    if ((rc = iz_store_job_step(r.st, job, NULL, 0)) != 0) {
        addrs_free(&r.addrs);
        return rc;
    }
    r.recs = iz_xcalloc(IZ_JOB_BATCH, sizeof *r.recs);
    r.rec_line = iz_xcalloc(IZ_JOB_BATCH, sizeof *r.rec_line);
    r.rec_raw = iz_xcalloc(IZ_JOB_BATCH, sizeof *r.rec_raw);
    r.rec_ev = iz_xcalloc(IZ_JOB_BATCH, sizeof *r.rec_ev);
    r.errs = iz_xcalloc(IZ_JOB_BATCH + STEP_ERRORS_MAX, sizeof *r.errs);
    r.vals = iz_xcalloc((size_t)IZ_JOB_BATCH * IZ_BULK_NFIELDS, sizeof *r.vals);
    rc = pass2(&r, progress, ctx, stop);
    batch_clear(&r);
    if (rc == 0) {
        job->updated_ms = now_ms();
        rc = iz_store_job_step(r.st, job, NULL, 0);
    }
    if (rc == 0 && progress) progress(ctx, job);
    free(r.recs);
    free(r.rec_line);
    free(r.rec_raw);
    free(r.rec_ev);
    free(r.errs);
    free(r.vals);
    addrs_free(&r.addrs);
    return rc;
}

/* ---- errors.csv ------------------------------------------------------------------- */

static void put_field(FILE *f, const char *s)
{
    size_t n = strlen(s);
    char *buf = iz_xmalloc(IZ_CSV_FIELD_MAX(n));
    fwrite(buf, 1, iz_csv_field(buf, s, n), f);
    free(buf);
}

int iz_job_errors_csv(iz_store_t *st, const char *job_id, FILE *out)
{
    fputs("line,code,message,raw\n", out);
    int64_t after = -1;
    for (;;) {
        iz_job_error_t *errs = NULL;
        size_t n = 0;
        int rc = iz_store_job_errors(st, job_id, after, 10000, &errs, &n);
        if (rc != 0) return rc;
        for (size_t i = 0; i < n; i++) {
            fprintf(out, "%lld,", (long long)errs[i].line);
            put_field(out, errs[i].code);
            fputc(',', out);
            put_field(out, errs[i].message);
            fputc(',', out);
            put_field(out, errs[i].raw);
            fputc('\n', out);
            after = errs[i].line;
        }
        free(errs);
        if (n < 10000) break;
    }
    return ferror(out) || fflush(out) != 0 ? IZ_EIO : 0;
}

/* ---- the runner thread -------------------------------------------------------------- */

struct iz_jobs {
    iz_domain_t *dom;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool woken;
    atomic_bool stop;
};

static void *runner(void *arg)
{
    iz_jobs_t *j = arg;
    while (!atomic_load(&j->stop)) {
        iz_job_t *open = NULL;
        size_t n = 0;
        if (iz_store_jobs_open(iz_domain_store(j->dom), &open, &n) == 0) {
            for (size_t i = 0; i < n && !atomic_load(&j->stop); i++) {
                /* A job `izin import` is running now is its own; one whose
                 * process died is taken over from its last batch. */
                if (iz_job_owned_elsewhere(&open[i])) continue;
                int rc = iz_job_run(j->dom, &open[i], NULL, NULL, &j->stop);
                if (rc != 0)
                    iz_logf(IZ_LOG_ERROR, "jobs", "a bulk job stopped on a store failure",
                            "job=%s error=%s", open[i].id, iz_strerror(rc));
                else
                    iz_logf(IZ_LOG_INFO, "jobs", "bulk job ended",
                            "job=%s state=%s rows=%lld accepted=%lld rejected=%lld", open[i].id,
                            open[i].state, (long long)open[i].processed,
                            (long long)open[i].accepted, (long long)open[i].rejected);
            }
        }
        free(open);
        pthread_mutex_lock(&j->mu);
        if (!j->woken && !atomic_load(&j->stop)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&j->cv, &j->mu, &ts);
        }
        j->woken = false;
        pthread_mutex_unlock(&j->mu);
    }
    return NULL;
}

int iz_jobs_start(iz_domain_t *dom, iz_jobs_t **out)
{
    iz_jobs_t *j = iz_xcalloc(1, sizeof *j);
    j->dom = dom;
    atomic_init(&j->stop, false);
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    if (pthread_create(&j->th, NULL, runner, j) != 0) {
        pthread_cond_destroy(&j->cv);
        pthread_mutex_destroy(&j->mu);
        free(j);
        return IZ_EIO;
    }
    *out = j;
    return 0;
}

void iz_jobs_wake(iz_jobs_t *j)
{
    if (!j) return;
    pthread_mutex_lock(&j->mu);
    j->woken = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

void iz_jobs_stop(iz_jobs_t *j)
{
    if (!j) return;
    atomic_store(&j->stop, true);
    iz_jobs_wake(j);
    pthread_join(j->th, NULL);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
}
