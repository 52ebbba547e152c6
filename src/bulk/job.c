/*
 * job.c - bulk upload jobs (see job.h): the two passes over the file, the
 * batches recorded with their progress, and the runner thread.
 */
#include "bulk/job.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/csvout.h"
#include "core/hash.h"
#include "core/hcode.h"
#include "core/iz.h"
#include "core/trtime.h"
#include "sys/crypto.h"
#include "sys/log.h"

#define STEP_ERRORS_MAX 2000 /* rejected rows written in one step at most */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int iz_job_create(iz_store_t *st, const iz_brand_t *brand, const char *path, iz_bulk_format_t fmt,
                  iz_job_t *out)
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

/* An address seen in the file: 96 bits of the MurmurHash3 of
 * rtype|type|recipient (normalized; h[1] and h[2] also place it in the
 * table), the line of the row kept so far plus one (0: an empty slot) and
 * that row's consentDate (date32). 20 bytes: a 10M-row file's table is
 * about 270 MB, and only while pass 1 runs. */
typedef struct slot {
    uint32_t h[3];
    uint32_t line1;
    uint32_t date;
} slot_t;

/* A row that lost to another of its address: during pass 1 the slot of
 * that address, then the line kept for it. */
typedef struct loser {
    uint32_t line;
    uint32_t kept;
} loser_t;

#define ADDRS_FIRST (1u << 18)      /* slots before the input's size is judged */
#define ADDRS_SAMPLE (1u << 17)     /* rows read when the table is sized for the whole input */
#define LINE_LIMIT (UINT32_MAX - 1) /* lines past this are not read (see pass1) */

typedef struct addrs {
    slot_t *t;
    size_t cap, n, limit; /* the table grows when n reaches limit (3/4 of cap) */
    loser_t *losers;      /* after pass 1: in line order, with the line kept */
    size_t nlosers, caplosers;
} addrs_t;

/* A consentDate in 32 bits, in the same order: 0 for none (a TACIR row
 * without one), else seconds since İYS's 2015 epoch plus one, held at the
 * ends of the range. A valid row's date lies between that epoch and now,
 * which the range holds exactly until 2151. */
static uint32_t date32(int64_t t)
{
    if (t == 0) return 0;
    int64_t d = t - IZ_EPOCH_2015 + 1;
    return d < 1 ? 1 : d > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/* The slot of the address whose stored hash is h: its own, or the empty
 * one where it goes (linear probing from the place h[1..2] give). */
static size_t slot_find(const addrs_t *a, const uint32_t h[3])
{
    uint64_t x = (uint64_t)h[1] | (uint64_t)h[2] << 32;
    size_t i = (size_t)(((unsigned __int128)x * a->cap) >> 64);
    for (;;) {
        const slot_t *s = &a->t[i];
        if (!s->line1 || (s->h[0] == h[0] && s->h[1] == h[1] && s->h[2] == h[2])) return i;
        if (++i == a->cap) i = 0;
    }
}

/* Move the table to cap slots; the losers' slots move with it. */
static void addrs_resize(addrs_t *a, size_t cap)
{
    addrs_t b = {.t = iz_xcalloc(cap, sizeof(slot_t)), .cap = cap};
    for (size_t i = 0; i < a->cap; i++)
        if (a->t[i].line1) b.t[slot_find(&b, a->t[i].h)] = a->t[i];
    for (size_t k = 0; k < a->nlosers; k++)
        a->losers[k].kept = (uint32_t)slot_find(&b, a->t[a->losers[k].kept].h);
    free(a->t);
    a->t = b.t;
    a->cap = cap;
    a->limit = cap / 4 * 3;
}

/* Size the table for the rows the whole input is expected to hold, judged
 * from the rows read so far and the input's bytes done of total (10%
 * more), so that a large file's table is made once at its size rather than
 * doubled on the way (a doubling holds both tables at once). full: the
 * table has reached its limit, so it grows by half at least. */
static void addrs_size(addrs_t *a, uint64_t rows, uint64_t done, uint64_t total, bool full)
{
    double expect = total && done ? (double)rows * (double)total / (double)done * 1.1 : 0;
    double want = expect * 4 / 3 + 64;
    if (full && want < (double)a->cap * 1.5) want = (double)a->cap * 1.5;
    if (want > (double)UINT32_MAX) want = (double)UINT32_MAX; /* rows are fewer than lines */
    if ((size_t)want > a->cap) addrs_resize(a, (size_t)want);
}

static void loser_add(addrs_t *a, uint32_t line, size_t slot)
{
    if (a->nlosers == a->caplosers) {
        a->caplosers = a->caplosers ? a->caplosers * 2 : 1024;
        a->losers = iz_xrealloc(a->losers, a->caplosers * sizeof *a->losers);
    }
    a->losers[a->nlosers++] = (loser_t){line, (uint32_t)slot};
}

/* A valid row on its way into the table: its address's hash, line and
 * date. */
typedef struct pending {
    uint32_t h[3];
    uint32_t line;
    uint32_t date;
} pending_t;

static void pending_of(const iz_consent_t *c, uint32_t line, pending_t *p)
{
    unsigned char key[2 + IZ_RECIPIENT_MAX];
    size_t len = strnlen(c->recipient, IZ_RECIPIENT_MAX);
    key[0] = (unsigned char)c->rtype;
    key[1] = (unsigned char)c->type;
    memcpy(key + 2, c->recipient, len);
    uint64_t hh[2];
    iz_hash128(key, len + 2, 0, hh);
    *p = (pending_t){
        {(uint32_t)hh[0], (uint32_t)hh[1], (uint32_t)(hh[1] >> 32)}, line, date32(c->consent_date)};
}

static void slot_prefetch(const addrs_t *a, const uint32_t h[3])
{
    uint64_t x = (uint64_t)h[1] | (uint64_t)h[2] << 32;
    __builtin_prefetch(&a->t[(size_t)(((unsigned __int128)x * a->cap) >> 64)]);
}

/* Note a valid row; the earlier of two rows of one address (by consentDate,
 * then by line: rows come in line order) becomes a loser. */
static void addrs_note(addrs_t *a, const pending_t *p)
{
    size_t i = slot_find(a, p->h);
    slot_t *s = &a->t[i];
    if (!s->line1) {
        *s = (slot_t){{p->h[0], p->h[1], p->h[2]}, p->line + 1, p->date};
        a->n++;
    } else if (p->date >= s->date) {
        loser_add(a, s->line1 - 1, i);
        s->line1 = p->line + 1;
        s->date = p->date;
    } else {
        loser_add(a, p->line, i);
    }
}

static int loser_cmp(const void *x, const void *y)
{
    uint32_t a = ((const loser_t *)x)->line, b = ((const loser_t *)y)->line;
    return a < b ? -1 : a > b;
}

/* After pass 1: each loser gets the line kept for its address and the
 * losers go in line order (pass 2 meets them in that order); the table is
 * freed. */
static void addrs_settle(addrs_t *a)
{
    for (size_t k = 0; k < a->nlosers; k++)
        a->losers[k].kept = a->t[a->losers[k].kept].line1 - 1;
    if (a->nlosers) qsort(a->losers, a->nlosers, sizeof *a->losers, loser_cmp);
    free(a->t);
    a->t = NULL;
    a->cap = a->n = a->limit = 0;
}

static void addrs_free(addrs_t *a)
{
    free(a->t);
    free(a->losers);
    memset(a, 0, sizeof *a);
}

/* ---- two buffers between a reading thread and the job's ----------------------- */

/* Both passes read the file in a thread of their own (parsing and
 * validating are half of a job's work): the reading thread fills buffer 0,
 * then 1, then 0 again once the job's thread has given it back, and so on.
 * Without a second thread (pthread_create failed) the job's thread fills
 * each buffer itself when it takes it. */
typedef struct relay {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool full[2];
    atomic_bool quit; /* the job's thread wants no more */
    bool threaded;
    pthread_t th;
    bool (*fill)(void *ctx, int k); /* fill buffer k; false: nothing follows it */
    void *ctx;
    int64_t wait_ms; /* the job's thread waiting for a full buffer */
} relay_t;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *relay_main(void *arg)
{
    relay_t *rl = arg;
    for (int k = 0;; k ^= 1) {
        pthread_mutex_lock(&rl->mu);
        while (rl->full[k] && !atomic_load(&rl->quit))
            pthread_cond_wait(&rl->cv, &rl->mu);
        pthread_mutex_unlock(&rl->mu);
        if (atomic_load(&rl->quit)) break;
        bool more = rl->fill(rl->ctx, k);
        pthread_mutex_lock(&rl->mu);
        rl->full[k] = true;
        pthread_cond_broadcast(&rl->cv);
        pthread_mutex_unlock(&rl->mu);
        if (!more) break;
    }
    return NULL;
}

static void relay_start(relay_t *rl, bool (*fill)(void *, int), void *ctx)
{
    memset(rl, 0, sizeof *rl);
    rl->fill = fill;
    rl->ctx = ctx;
    atomic_init(&rl->quit, false);
    pthread_mutex_init(&rl->mu, NULL);
    pthread_cond_init(&rl->cv, NULL);
    rl->threaded = pthread_create(&rl->th, NULL, relay_main, rl) == 0;
}

/* Wait for buffer k to be full (or fill it here). */
static void relay_take(relay_t *rl, int k)
{
    if (!rl->threaded) {
        rl->fill(rl->ctx, k);
        return;
    }
    int64_t t0 = mono_ms();
    pthread_mutex_lock(&rl->mu);
    while (!rl->full[k])
        pthread_cond_wait(&rl->cv, &rl->mu);
    pthread_mutex_unlock(&rl->mu);
    rl->wait_ms += mono_ms() - t0;
}

/* Buffer k is done with: the reading thread may fill it again. */
static void relay_give_back(relay_t *rl, int k)
{
    pthread_mutex_lock(&rl->mu);
    rl->full[k] = false;
    pthread_cond_broadcast(&rl->cv);
    pthread_mutex_unlock(&rl->mu);
}

/* Stop the reading thread (it ends the buffer it is filling early, see
 * relay_quitting) and wait for it. */
static void relay_stop(relay_t *rl)
{
    if (rl->threaded) {
        pthread_mutex_lock(&rl->mu);
        atomic_store(&rl->quit, true);
        pthread_cond_broadcast(&rl->cv);
        pthread_mutex_unlock(&rl->mu);
        pthread_join(rl->th, NULL);
    }
    pthread_cond_destroy(&rl->cv);
    pthread_mutex_destroy(&rl->mu);
}

static bool relay_quitting(relay_t *rl)
{
    return atomic_load(&rl->quit);
}

/* ---- running a job --------------------------------------------------------------- */

enum { MORE = 0, AT_END, FAILED, STOPPED }; /* what follows a buffer */

typedef struct run {
    const atomic_bool *stop;
    iz_domain_t *dom;
    iz_store_t *st;
    iz_job_t *job;
    iz_brand_t brand;
    addrs_t addrs;
    int64_t pass1_ms, wait_ms, store_ms; /* for the log */
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

/* Why a reader failed, in English, into why (400 bytes). */
static void reader_why(const iz_bulk_reader_t *rd, char *why, size_t size)
{
    iz_strlcpy(why, "the file cannot be read", size);
    const iz_bulk_note_t *n = rd ? iz_bulk_failure(rd) : NULL;
    if (n) iz_bulk_note_text(n, true, why, size);
}

static int open_reader(run_t *r, iz_bulk_reader_t **rd)
{
    iz_bulk_format_t fmt = IZ_BULK_AUTO;
    if (strcmp(r->job->format, "csv") == 0) fmt = IZ_BULK_CSV;
    if (strcmp(r->job->format, "xlsx") == 0) fmt = IZ_BULK_XLSX;
    if (strcmp(r->job->format, "json") == 0) fmt = IZ_BULK_JSON;
    int rc = iz_bulk_open_path(rd, fmt, r->job->path);
    if (rc != 0) {
        char why[400];
        reader_why(*rd, why, sizeof why);
        job_failed(r->job, "%s", why);
    }
    return rc;
}

/* ---- pass 1 ---- */

#define CHUNK_ROWS 16384 /* valid rows a pass-1 buffer holds */
#define PREFETCH 16      /* slots fetched ahead of the row going in: each is a cache miss */

/* A buffer of pass 1: the valid rows' addresses, and how far the reading
 * is at its end. */
typedef struct chunk {
    pending_t *p;
    size_t n;
    uint64_t rows;        /* rows read in all (valid or not) */
    uint64_t done, total; /* the input's bytes (iz_bulk_progress) */
    int end;
} chunk_t;

typedef struct scan {
    relay_t rl;
    chunk_t c[2];
    iz_bulk_reader_t *rd;
    const atomic_bool *stop;
    iz_validate_opts_t vo;
    uint64_t rows;
    char why[400]; /* FAILED */
} scan_t;

/* The reading thread of pass 1: rows are read and validated; each valid
 * one's address is hashed into the chunk. */
static bool scan_fill(void *ctx, int k)
{
    scan_t *sc = ctx;
    chunk_t *c = &sc->c[k];
    iz_bulk_row_t row;
    c->n = 0;
    c->end = MORE;
    while (c->n < CHUNK_ROWS && c->end == MORE) {
        int rc = iz_bulk_next(sc->rd, &row);
        if (rc <= 0) {
            if (rc < 0) reader_why(sc->rd, sc->why, sizeof sc->why);
            c->end = rc < 0 ? FAILED : AT_END;
            break;
        }
        sc->rows++;
        if ((sc->rows & 0xFFFF) == 0 &&
            (relay_quitting(&sc->rl) || (sc->stop && atomic_load(sc->stop))))
            c->end = STOPPED;
        if (row.problem.code != IZ_BULK_OK) continue;
        iz_consent_raw_t raw;
        iz_consent_t v;
        iz_bulk_row_raw(&row, &raw);
        if (iz_consent_validate(&raw, &sc->vo, &v, NULL) != 0) continue;
        if (row.line < 0 || row.line >= LINE_LIMIT) {
            /* Lines are kept in 32 bits: such a file (4 GB of line ends
             * at least) is refused whole. */
            snprintf(sc->why, sizeof sc->why, "The file has more than %lu lines; split it.",
                     (unsigned long)LINE_LIMIT);
            c->end = FAILED;
            break;
        }
        pending_of(&v, (uint32_t)row.line, &c->p[c->n++]);
    }
    c->rows = sc->rows;
    iz_bulk_progress(sc->rd, &c->done, &c->total);
    return c->end == MORE;
}

/* Pass 1: count the rows, find repeats, keep the warnings. Returns 0, 1
 * when told to stop (the job is as it was), or -1 when the file cannot be
 * read on (the job is FAILED). */
static int pass1(run_t *r)
{
    scan_t *sc = iz_xcalloc(1, sizeof *sc);
    sc->stop = r->stop;
    sc->vo = (iz_validate_opts_t){.now = (int64_t)time(NULL)};
    if (open_reader(r, &sc->rd) != 0) {
        iz_bulk_close(sc->rd);
        free(sc);
        return -1;
    }
    addrs_t *a = &r->addrs;
    a->cap = ADDRS_FIRST;
    a->limit = a->cap / 4 * 3;
    a->t = iz_xcalloc(a->cap, sizeof *a->t);
    for (int k = 0; k < 2; k++)
        sc->c[k].p = iz_xmalloc(CHUNK_ROWS * sizeof(pending_t));
    relay_start(&sc->rl, scan_fill, sc);
    bool sized = false;
    int end = MORE;
    for (int k = 0; end == MORE; k ^= 1) {
        relay_take(&sc->rl, k);
        const chunk_t *c = &sc->c[k];
        if (!sized && c->rows >= ADDRS_SAMPLE) {
            addrs_size(a, c->rows, c->done, c->total, false);
            sized = true;
        }
        /* In line order; the slots of the rows a little ahead are fetched
         * meanwhile. */
        for (size_t i = 0; i < c->n; i++) {
            if (i + PREFETCH < c->n) slot_prefetch(a, c->p[i + PREFETCH].h);
            if (a->n >= a->limit) addrs_size(a, c->rows, c->done, c->total, true);
            addrs_note(a, &c->p[i]);
        }
        end = c->end;
        relay_give_back(&sc->rl, k);
    }
    relay_stop(&sc->rl);
    r->wait_ms += sc->rl.wait_ms;
    int rc = 0;
    if (end == STOPPED) {
        rc = 1;
    } else if (end == FAILED) {
        job_failed(r->job, "%s", sc->why);
        rc = -1;
    } else {
        r->job->total = (int64_t)sc->rows;
        const iz_bulk_note_t *w = NULL;
        size_t nw = iz_bulk_warnings(sc->rd, &w);
        size_t off = 0;
        r->job->warnings[0] = '\0';
        for (size_t i = 0; i < nw && off + 2 < sizeof r->job->warnings; i++) {
            char t[300];
            iz_bulk_note_text(&w[i], true, t, sizeof t);
            int n = snprintf(r->job->warnings + off, sizeof r->job->warnings - off, "%s%s",
                             off ? "\n" : "", t);
            if (n < 0) break;
            off += (size_t)n;
        }
        if (off >= sizeof r->job->warnings) utf8_tidy(r->job->warnings);
    }
    iz_bulk_close(sc->rd);
    free(sc->c[0].p);
    free(sc->c[1].p);
    free(sc);
    return rc;
}

/* ---- pass 2 ---- */

/* A rejected row found while reading (a row problem, a repeat, a field that
 * fails validation); it becomes an iz_job_error_t when its batch is
 * written. msg and raw are offsets in the batch's text. */
typedef struct rowerr {
    int64_t line;
    const char *code; /* static text */
    size_t msg;       /* NO_TEXT: the code's own message */
    size_t raw;
} rowerr_t;

#define NO_TEXT SIZE_MAX
#define EV_MAX 96       /* {"job":"<32 hex>","line":<int64>}: 71 bytes at most */
#define CHUNK_ERRORS 64 /* rejected rows handed to the store at a time */

/* A buffer of pass 2, one batch: the valid rows for the domain (with their
 * consent as validated, line, evidence and raw row) and the rows rejected
 * on the way. */
typedef struct batch {
    iz_record_t *recs;
    iz_consent_t *cons; /* recs[i].valid */
    int64_t *lines;
    size_t *raw; /* offsets in text */
    char (*ev)[EV_MAX];
    size_t nrec;
    rowerr_t *errs;
    size_t nerr, caperr;
    char *text; /* raw rows and messages, NUL-terminated */
    size_t ntext, captext;
    int64_t now;             /* the validation's and the domain's */
    int64_t rows, last_line; /* the rows the step covers, the last one's line */
    int end;                 /* MORE, AT_END, FAILED */
    char why[400];           /* FAILED: the reader's failure */
} batch_t;

typedef struct feed {
    relay_t rl;
    batch_t b[2];
    iz_bulk_reader_t *rd;
    const char *job_id;
    int64_t resume_line;
    const loser_t *losers;
    size_t nlosers, next_loser;
    /* the job's thread */
    run_t *r;
    batch_t *cur;                       /* the batch being written */
    iz_job_error_t chunk[CHUNK_ERRORS]; /* rejected rows on their way to the store */
} feed_t;

static void error_set(iz_job_error_t *e, int64_t line, const char *code, const char *message,
                      const char *raw)
{
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

static void batch_init(batch_t *b)
{
    memset(b, 0, sizeof *b);
    b->recs = iz_xcalloc(IZ_JOB_BATCH, sizeof *b->recs);
    b->cons = iz_xcalloc(IZ_JOB_BATCH, sizeof *b->cons);
    b->lines = iz_xcalloc(IZ_JOB_BATCH, sizeof *b->lines);
    b->raw = iz_xcalloc(IZ_JOB_BATCH, sizeof *b->raw);
    b->ev = iz_xcalloc(IZ_JOB_BATCH, sizeof *b->ev);
    /* Record i's inputs are set once: a bulk change, its consent as
     * validated in cons[i] (raw is not read), its evidence in ev[i]. */
    for (size_t i = 0; i < IZ_JOB_BATCH; i++) {
        b->recs[i].origin = IZ_ORIGIN_BULK;
        b->recs[i].valid = &b->cons[i];
        b->recs[i].evidence = b->ev[i];
    }
}

static void batch_free(batch_t *b)
{
    free(b->recs);
    free(b->cons);
    free(b->lines);
    free(b->raw);
    free(b->ev);
    free(b->errs);
    free(b->text);
}

/* Keep n bytes at s (and a NUL) in the batch's text; returns where. */
static size_t text_add(batch_t *b, const char *s, size_t n)
{
    if (b->ntext + n + 1 > b->captext) {
        size_t cap = b->captext ? b->captext * 2 : 256 * 1024;
        while (cap < b->ntext + n + 1)
            cap *= 2;
        b->text = iz_xrealloc(b->text, cap);
        b->captext = cap;
    }
    size_t at = b->ntext;
    memcpy(b->text + at, s, n);
    b->text[at + n] = '\0';
    b->ntext += n + 1;
    return at;
}

static size_t text_raw(batch_t *b, const iz_bulk_row_t *row)
{
    return row->raw ? text_add(b, row->raw, row->raw_len) : text_add(b, "", 0);
}

static void rowerr_add(batch_t *b, int64_t line, const char *code, const char *msg,
                       const iz_bulk_row_t *row)
{
    if (b->nerr == b->caperr) {
        b->caperr = b->caperr ? b->caperr * 2 : 256;
        b->errs = iz_xrealloc(b->errs, b->caperr * sizeof *b->errs);
    }
    rowerr_t *e = &b->errs[b->nerr++];
    e->line = line;
    e->code = code;
    e->msg = msg ? text_add(b, msg, strlen(msg)) : NO_TEXT;
    e->raw = text_raw(b, row);
}

/* Copy a validated consent into dst: its recipient up to the NUL, every
 * other field up to its retailer fields, and of those only the codes of
 * the list (the bytes after a C string's NUL and after the list's n codes
 * are left as they were: nothing reads them). */
static void consent_put(iz_consent_t *dst, const iz_consent_t *v)
{
    const size_t at = offsetof(iz_consent_t, recipient), room = sizeof v->recipient;
    const size_t rt = offsetof(iz_consent_t, retail);
    size_t n = strnlen(v->recipient, room - 1) + 1;
    const char *s = (const char *)v;
    char *d = (char *)dst;
    memcpy(d, s, at + n);
    memcpy(d + at + room, s + at + room, rt - at - room);
    iz_retail_copy(&dst->retail, &v->retail);
}

/* A row's evidence, {"job":"<job_id>","line":<line>}, into out: what
 * snprintf would write, without its cost (one a row). */
static void evidence_of(char out[EV_MAX], const char *job_id, int64_t line)
{
    static const char head[] = "{\"job\":\"", mid[] = "\",\"line\":";
    size_t idl = strnlen(job_id, IZ_JOB_ID_LEN - 1), o = 0;
    memcpy(out, head, sizeof head - 1);
    o += sizeof head - 1;
    memcpy(out + o, job_id, idl);
    o += idl;
    memcpy(out + o, mid, sizeof mid - 1);
    o += sizeof mid - 1;
    uint64_t v = line < 0 ? 0 - (uint64_t)line : (uint64_t)line;
    if (line < 0) out[o++] = '-';
    char digits[20];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (nd)
        out[o++] = digits[--nd];
    out[o++] = '}';
    out[o] = '\0';
}

/* The reading thread of pass 2: rows after resume_line into batch k until
 * it is full, the step has its most rejected rows, or the input ends. */
static bool batch_fill(void *ctx, int k)
{
    feed_t *f = ctx;
    batch_t *b = &f->b[k];
    b->nrec = b->nerr = b->ntext = 0;
    b->rows = 0;
    b->end = MORE;
    b->now = (int64_t)time(NULL);
    iz_validate_opts_t vo = {.now = b->now, .allow_iys_sources = false};
    iz_bulk_row_t row;
    while (b->nrec < IZ_JOB_BATCH && b->nerr < STEP_ERRORS_MAX) {
        int rc = iz_bulk_next(f->rd, &row);
        if (rc <= 0) {
            /* rc < 0: the file changed under the job, or cannot be read
             * on: what was read before stays, the job ends there. */
            if (rc < 0) reader_why(f->rd, b->why, sizeof b->why);
            b->end = rc < 0 ? FAILED : AT_END;
            break;
        }
        if (row.line <= f->resume_line) continue;
        while (f->next_loser < f->nlosers && (int64_t)f->losers[f->next_loser].line < row.line)
            f->next_loser++;
        if (row.problem.code != IZ_BULK_OK) {
            char msg[400];
            iz_bulk_note_text(&row.problem, false, msg, sizeof msg);
            rowerr_add(b, row.line, iz_bulk_note_hcode(&row.problem), msg, &row);
        } else if (f->next_loser < f->nlosers &&
                   (int64_t)f->losers[f->next_loser].line == row.line) {
            char msg[256];
            snprintf(msg, sizeof msg,
                     "Aynı alıcı ve izin tipi dosyada %lld. satırda daha yeni bir izin "
                     "tarihiyle var; o satır alındı.",
                     (long long)f->losers[f->next_loser].kept);
            rowerr_add(b, row.line, "H194", msg, &row);
        } else {
            /* Validated here, once: the domain takes the result as it is
             * (the same now, no İYS sources). A row that fails is rejected
             * here with the code the domain would give it: its first
             * field's. */
            size_t i = b->nrec;
            iz_consent_raw_t raw;
            iz_consent_t v;
            iz_verrs_t ve;
            iz_bulk_row_raw(&row, &raw);
            if (iz_consent_validate(&raw, &vo, &v, &ve) != 0) {
                rowerr_add(b, row.line, ve.n > 0 ? ve.e[0].code : "IZ500", NULL, &row);
            } else {
                /* The batch's memory is cold (two batches are larger than
                 * the caches): only the bytes that say something are
                 * written, the recipient up to its NUL; the records stay
                 * as batch_init set them (the domain writes only their
                 * outputs; raw is not read). */
                consent_put(&b->cons[i], &v);
                evidence_of(b->ev[i], f->job_id, row.line);
                b->lines[i] = row.line;
                b->raw[i] = text_raw(b, &row);
                b->nrec++;
            }
        }
        b->rows++;
        b->last_line = row.line;
        if ((b->rows & 1023) == 0 && relay_quitting(&f->rl)) break;
    }
    return b->end == MORE;
}

/* Inside the batch's transaction: the counters move, and the step's
 * rejected rows (the reader's, then those the domain refused) are
 * written with the job, a chunk at a time. */
static int write_step(iz_store_t *st, void *arg)
{
    feed_t *f = arg;
    const batch_t *b = f->cur;
    iz_job_t *job = f->r->job;
    size_t accepted = 0;
    for (size_t i = 0; i < b->nrec; i++)
        if (b->recs[i].rc == 0 || b->recs[i].rc == IZ_REPEAT) accepted++;
    job->processed += b->rows;
    job->accepted += (int64_t)accepted;
    job->rejected += b->rows - (int64_t)accepted;
    if (b->last_line > job->resume_line) job->resume_line = b->last_line;
    job->updated_ms = now_ms();

    size_t k = 0;
    int rc;
    for (size_t i = 0; i < b->nerr + b->nrec; i++) {
        if (i < b->nerr) {
            const rowerr_t *e = &b->errs[i];
            error_set(&f->chunk[k++], e->line, e->code,
                      e->msg == NO_TEXT ? code_message(e->code) : b->text + e->msg,
                      b->text + e->raw);
        } else {
            size_t j = i - b->nerr;
            const iz_record_t *rec = &b->recs[j];
            if (rec->rc == 0 || rec->rc == IZ_REPEAT) continue;
            const char *code = rec->rc == IZ_EINVAL && rec->errs.n > 0 ? rec->errs.e[0].code
                               : rec->rc == IZ_ERULE && rec->hcode     ? rec->hcode
                               : rec->rc == IZ_ETOOBIG                 ? "IZ413"
                                                                       : "IZ500";
            error_set(&f->chunk[k++], b->lines[j], code, code_message(code), b->text + b->raw[j]);
        }
        if (k == CHUNK_ERRORS) {
            if ((rc = iz_store_job_step(st, job, f->chunk, k)) != 0) return rc;
            k = 0;
        }
    }
    return iz_store_job_step(st, job, f->chunk, k);
}

/* Record a batch and its step; on a store failure the job's counters are
 * as before (nothing of the step committed). */
static int flush(feed_t *f, batch_t *b)
{
    if (b->rows == 0) return 0;
    run_t *r = f->r;
    iz_job_t before = *r->job;
    f->cur = b;
    int64_t t0 = mono_ms();
    int rc = iz_domain_load_then(r->dom, &r->brand, b->now, b->recs, b->nrec, r->job->id, b->lines,
                                 write_step, f);
    r->store_ms += mono_ms() - t0;
    if (rc != 0) *r->job = before;
    return rc;
}

/* Pass 2: record the rows after resume_line, a batch at a time, while the
 * reading thread reads, validates and builds the next batch. Returns 0, or
 * the store's failure. */
static int pass2(run_t *r, iz_job_progress_fn progress, void *ctx)
{
    feed_t *f = iz_xcalloc(1, sizeof *f);
    f->r = r;
    f->job_id = r->job->id;
    f->resume_line = r->job->resume_line;
    f->losers = r->addrs.losers;
    f->nlosers = r->addrs.nlosers;
    if (open_reader(r, &f->rd) != 0) {
        iz_bulk_close(f->rd);
        free(f);
        return 0;
    }
    batch_init(&f->b[0]);
    batch_init(&f->b[1]);
    relay_start(&f->rl, batch_fill, f);
    int src = 0;
    for (int k = 0;; k ^= 1) {
        relay_take(&f->rl, k);
        batch_t *b = &f->b[k];
        if ((src = flush(f, b)) != 0) break;
        if (b->end == FAILED) {
            job_failed(r->job, "%s", b->why);
            break;
        }
        if (b->end == AT_END) {
            iz_strlcpy(r->job->state, "DONE", sizeof r->job->state);
            r->job->finished_ms = now_ms();
            break;
        }
        if (progress) progress(ctx, r->job);
        if (r->stop && atomic_load(r->stop)) break;
        relay_give_back(&f->rl, k);
    }
    relay_stop(&f->rl);
    r->wait_ms += f->rl.wait_ms;
    iz_bulk_close(f->rd);
    batch_free(&f->b[0]);
    batch_free(&f->b[1]);
    free(f);
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

    int64_t t0 = mono_ms();
    int p1 = pass1(&r);
    r.pass1_ms = mono_ms() - t0;
    if (p1 != 0) {
        addrs_free(&r.addrs);
        return p1 > 0 ? 0 : iz_store_job_step(r.st, job, NULL, 0);
    }
    addrs_settle(&r.addrs);
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
    t0 = mono_ms();
    rc = pass2(&r, progress, ctx);
    iz_logf(IZ_LOG_DEBUG, "jobs", "bulk job passes",
            "job=%s rows=%lld repeats=%zu pass1_ms=%lld pass2_ms=%lld store_ms=%lld "
            "wait_reader_ms=%lld",
            job->id, (long long)job->total, r.addrs.nlosers, (long long)r.pass1_ms,
            (long long)(mono_ms() - t0), (long long)r.store_ms, (long long)r.wait_ms);
    if (rc == 0) {
        job->updated_ms = now_ms();
        rc = iz_store_job_step(r.st, job, NULL, 0);
    }
    if (rc == 0 && progress) progress(ctx, job);
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
                /* Several nodes share the store, each its own spool: a job
                 * is run by a node that has its file (the one it was
                 * uploaded to, or one beside it on the same disk). */
                if (iz_store_shared(iz_domain_store(j->dom)) && access(open[i].path, R_OK) != 0)
                    continue;
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
