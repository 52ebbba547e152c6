/*
 * outbound.c - the outbound SMS queue (see outbound.h): one dispatcher
 * thread that claims messages from the store, judges them again and writes
 * what became of them, and a pool of workers that hand them to the
 * gateway.
 *
 * The dispatcher is the only writer of a message's state but for its
 * creation (the API's transaction) and delivery reports (which it writes
 * too): so claims, answers and reports never race in the store. Everything
 * shared between the threads is under one mutex; store calls and gateway
 * requests are made without it.
 */
#include "sms/outbound.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/iz.h"
#include "core/recipient.h"
#include "core/smstext.h"
#include "sys/log.h"

#define FLUSH_MAX 256   /* answers written in one transaction at most */
#define FLUSH_MS 20     /* how long an answer may wait for others to share its commit */
#define OPEN_MAX 64     /* open sends looked at a time */
#define REFRESH_MS 1000 /* the open sends are read again at least this often */
#define IDLE_MS 1000    /* the dispatcher's longest sleep */
#define FOLLOW_MS 250   /* between looks at the lease while another node sends */
#define RETRY_MS 1000   /* a failed write is tried again after this */

/* What a send's messages share while they go out: the send's row. refs
 * counts its messages claimed and not yet written back; a send whose last
 * claim found nothing QUEUED (drained) and has no refs may be finished. */
typedef struct send_info {
    iz_sms_msg_t msg;
    int refs;
    bool drained;
    struct send_info *next;
} send_info_t;

/* A claimed message, SENDING, waiting for a worker. */
typedef struct work {
    send_info_t *send;
    int64_t seq;
    char to[IZ_RECIPIENT_MAX];
    char id[IZ_SMS_ID_MAX];
} work_t;

/* A gateway's answer, waiting to be written. */
typedef struct answer {
    send_info_t *send;
    int64_t seq;
    iz_sms_fate_t fate;
    int64_t at_ms;
    char err[128];
} answer_t;

/* A delivery report, waiting to be written; its caller waits on it. */
typedef struct report {
    iz_sms_dlr_t d;
    bool done;
    int rc;
    struct report *next;
} report_t;

struct iz_sms_queue {
    iz_domain_t *dom;
    iz_store_t *st;
    iz_sms_gateway_t *gw;
    unsigned conc;
    double rate;
    int max_parts;
    bool (*lead)(void *ctx); /* several nodes: whether this one sends (NULL: always) */
    void *lead_ctx;
    bool leading; /* recover() ran since this node last did not send */

    pthread_mutex_t mu;
    pthread_cond_t cv_disp; /* the dispatcher: answers, reports, room for work, a wake-up */
    pthread_cond_t cv_work; /* the workers: work */
    pthread_cond_t cv_done; /* waiters: a write was made (gen moved), a report written */
    pthread_t disp;
    pthread_t *workers;
    unsigned nworkers;
    bool stop, workers_gone, woken;

    work_t *work; /* a ring of wcap */
    size_t whead, wlen, wcap;
    unsigned in_flight;
    double next_slot_ms; /* the rate limit's next start */

    answer_t *ans; /* answers to write */
    size_t nans, anscap;
    int64_t first_ans_ms;
    bool urgent; /* an answer someone waits for is among them */

    report_t *rep_head, *rep_tail;

    uint64_t gen; /* writes made */
    send_info_t *sends;

    /* the dispatcher's own (no lock needed) */
    int64_t open_ids[OPEN_MAX];
    int open_prio[OPEN_MAX];
    size_t nopen, cursor;
    int64_t refreshed_ms;
    int64_t retry_ms;

    iz_sms_queue_stats_t stats;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline_ts(int64_t ms_from_now, struct timespec *ts)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms_from_now / 1000;
    ts->tv_nsec += (long)(ms_from_now % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void sleep_ms(double ms)
{
    if (ms <= 0) return;
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
                          .tv_nsec = (long)((ms - (double)(time_t)(ms / 1000) * 1000) * 1e6)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- sends' shared rows ---------------------------------------------------- */

/* The cached row of send id (under mu), or NULL. */
static send_info_t *send_find(iz_sms_queue_t *q, int64_t id)
{
    for (send_info_t *s = q->sends; s; s = s->next)
        if (s->msg.id == id) return s;
    return NULL;
}

static void send_drop(iz_sms_queue_t *q, send_info_t *gone)
{
    for (send_info_t **p = &q->sends; *p; p = &(*p)->next)
        if (*p == gone) {
            *p = gone->next;
            free(gone);
            return;
        }
}

/* ---- the workers ------------------------------------------------------------ */

/* A send refused before it reached the gateway is tried again after these
 * waits (ms), then FAILED: about 4 s, what a restarting Kannel takes. */
#define UNSENT_TRIES 3
static const int64_t unsent_wait_ms[UNSENT_TRIES] = {250, 1000, 3000};

static void *worker_main(void *arg)
{
    iz_sms_queue_t *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->stop && q->wlen == 0)
            pthread_cond_wait(&q->cv_work, &q->mu);
        if (q->stop) break; /* what is left goes back to QUEUED */
        work_t w = q->work[q->whead];
        q->whead = (q->whead + 1) % q->wcap;
        q->wlen--;
        q->in_flight++;
        double wait = 0;
        if (q->rate > 0) {
            double now = (double)now_ms();
            double start = q->next_slot_ms > now ? q->next_slot_ms : now;
            q->next_slot_ms = start + 1000.0 / q->rate;
            wait = start - now;
        }
        pthread_mutex_unlock(&q->mu);
        sleep_ms(wait);

        answer_t a = {.send = w.send, .seq = w.seq};
        iz_sms_out_t out = {.id = w.id,
                            .from = w.send->msg.sender,
                            .to = w.to,
                            .text = w.send->msg.text,
                            .enc = strcmp(w.send->msg.encoding, "GSM7") == 0      ? IZ_SMS_GSM7
                                   : strcmp(w.send->msg.encoding, "GSM7_TR") == 0 ? IZ_SMS_GSM7_TR
                                                                                  : IZ_SMS_UCS2};
        bool unsent = false;
        a.fate = iz_sms_send(q->gw, &out, a.err, sizeof a.err, &unsent);
        /* A message that never reached the gateway (refused: Kannel
         * restarting) is tried again a few times before it is FAILED:
         * it cannot go twice. A stop ends the waiting. */
        for (int t = 0; a.fate == IZ_SMS_FAILED && unsent && t < UNSENT_TRIES; t++) {
            pthread_mutex_lock(&q->mu);
            q->stats.unsent_retries++;
            struct timespec ts;
            deadline_ts(unsent_wait_ms[t], &ts);
            int64_t until = now_ms() + unsent_wait_ms[t];
            while (!q->stop && now_ms() < until)
                pthread_cond_timedwait(&q->cv_done, &q->mu, &ts);
            bool stopping = q->stop;
            pthread_mutex_unlock(&q->mu);
            if (stopping) break;
            a.fate = iz_sms_send(q->gw, &out, a.err, sizeof a.err, &unsent);
        }
        a.at_ms = now_ms();

        pthread_mutex_lock(&q->mu);
        q->in_flight--;
        if (q->nans == q->anscap) {
            q->anscap = q->anscap ? q->anscap * 2 : 256;
            q->ans = iz_xrealloc(q->ans, q->anscap * sizeof *q->ans);
        }
        if (q->nans == 0) q->first_ans_ms = a.at_ms;
        q->ans[q->nans++] = a;
        if (w.send->msg.priority == 0) q->urgent = true;
        if (a.fate == IZ_SMS_SENT)
            q->stats.sent++;
        else if (a.fate == IZ_SMS_FAILED)
            q->stats.failed++;
        else
            q->stats.unknown++;
        if (q->urgent || q->nans >= FLUSH_MAX || q->wlen + q->in_flight <= q->conc)
            pthread_cond_signal(&q->cv_disp);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* ---- the dispatcher: writing answers and reports ----------------------------- */

static const char *fate_state(iz_sms_fate_t f)
{
    return f == IZ_SMS_SENT ? "SENT" : f == IZ_SMS_FAILED ? "FAILED" : "UNKNOWN";
}

/* Write the waiting answers and reports (called with mu held; releases it
 * while writing). Answers move SENDING messages on; a delivery report that
 * came first keeps its state. */
static int flush(iz_sms_queue_t *q)
{
    answer_t *ans = q->ans;
    size_t nans = q->nans;
    report_t *reps = q->rep_head;
    q->ans = NULL;
    q->nans = q->anscap = 0;
    q->urgent = false;
    q->rep_head = q->rep_tail = NULL;
    pthread_mutex_unlock(&q->mu);

    int arc = 0;
    if (nans) {
        iz_sms_move_t *mv = iz_xmalloc(nans * sizeof *mv);
        for (size_t i = 0; i < nans; i++)
            mv[i] = (iz_sms_move_t){.send_id = ans[i].send->msg.id,
                                    .seq = ans[i].seq,
                                    .from = "SENDING",
                                    .to = fate_state(ans[i].fate),
                                    .error = ans[i].fate == IZ_SMS_SENT ? NULL : ans[i].err,
                                    .sent_ms = ans[i].at_ms};
        arc = iz_store_sms_move(q->st, mv, nans);
        free(mv);
        if (arc != 0)
            iz_logf(IZ_LOG_ERROR, "sms", "cannot record the gateway's answers; trying again",
                    "messages=%zu error=%s", nans, iz_strerror(arc));
    }
    size_t nrep = 0;
    for (report_t *r = reps; r; r = r->next)
        nrep++;
    int rrc = 0;
    if (nrep) {
        iz_sms_dlr_t *d = iz_xmalloc(nrep * sizeof *d);
        size_t i = 0;
        for (report_t *r = reps; r; r = r->next)
            d[i++] = r->d;
        rrc = iz_store_sms_dlr(q->st, d, nrep);
        i = 0;
        for (report_t *r = reps; r; r = r->next)
            r->d.found = d[i++].found;
        free(d);
    }

    pthread_mutex_lock(&q->mu);
    if (arc != 0) {
        /* Kept for the next try: the messages stay SENDING meanwhile (and
         * UNKNOWN if the process stops), never QUEUED again. */
        if (q->nans + nans > q->anscap) {
            q->anscap = q->nans + nans;
            q->ans = iz_xrealloc(q->ans, q->anscap * sizeof *q->ans);
        }
        memmove(q->ans + nans, q->ans, q->nans * sizeof *q->ans);
        memcpy(q->ans, ans, nans * sizeof *ans);
        if (q->nans == 0) q->first_ans_ms = now_ms();
        q->nans += nans;
        q->retry_ms = now_ms() + RETRY_MS;
    } else {
        for (size_t i = 0; i < nans; i++)
            ans[i].send->refs--;
    }
    free(ans);
    for (report_t *r = reps; r; r = r->next) {
        r->rc = rrc != 0 ? rrc : r->d.found ? 0 : IZ_ENOTFOUND;
        if (r->rc == 0) q->stats.reports++;
        if (r->rc == IZ_ENOTFOUND) q->stats.reports_unknown++;
        r->done = true;
    }
    q->gen++;
    pthread_cond_broadcast(&q->cv_done);
    return arc;
}

/* Finish the drained sends whose messages are all written back (mu held;
 * released while writing). */
static void finish_sends(iz_sms_queue_t *q)
{
    for (;;) {
        send_info_t *s = q->sends;
        while (s && !(s->drained && s->refs == 0))
            s = s->next;
        if (!s) return;
        int64_t id = s->msg.id;
        send_drop(q, s);
        pthread_mutex_unlock(&q->mu);
        bool done = false;
        int rc = iz_store_sms_finish(q->st, id, &done);
        pthread_mutex_lock(&q->mu);
        if (rc != 0) {
            iz_logf(IZ_LOG_ERROR, "sms", "cannot close a send", "send=%lld error=%s", (long long)id,
                    iz_strerror(rc));
            q->retry_ms = now_ms() + RETRY_MS;
            return; /* found again when the open sends are read */
        }
        /* Out of the open list until it is read again: a finished send is
         * not looked at again. */
        for (size_t i = 0; i < q->nopen; i++)
            if (q->open_ids[i] == id) {
                memmove(q->open_ids + i, q->open_ids + i + 1, (q->nopen - i - 1) * sizeof(int64_t));
                memmove(q->open_prio + i, q->open_prio + i + 1, (q->nopen - i - 1) * sizeof(int));
                q->nopen--;
                if (q->cursor > i) q->cursor--;
                break;
            }
        if (q->cursor >= q->nopen) q->cursor = 0;
        if (done) {
            q->gen++;
            pthread_cond_broadcast(&q->cv_done);
        }
    }
}

/* ---- the dispatcher: claiming ------------------------------------------------------ */

/* The next send to take messages from (mu not held): a send someone waits
 * for first, then the others in turn. 0 when there is none. */
static int64_t next_send(iz_sms_queue_t *q, bool refresh)
{
    int64_t now = now_ms();
    if (refresh || q->nopen == 0 || now - q->refreshed_ms >= REFRESH_MS) {
        int64_t *ids = NULL;
        int *prio = NULL;
        size_t n = 0;
        if (iz_store_sms_open(q->st, OPEN_MAX, &ids, &prio, &n) == 0) {
            q->nopen = n;
            memcpy(q->open_ids, ids, n * sizeof *ids);
            memcpy(q->open_prio, prio, n * sizeof *prio);
            if (q->cursor >= n) q->cursor = 0;
        }
        free(ids);
        free(prio);
        q->refreshed_ms = now;
    }
    /* Drained sends wait for their last answers: skip them. */
    pthread_mutex_lock(&q->mu);
    int64_t pick = 0;
    for (size_t i = 0; i < q->nopen && !pick; i++) {
        send_info_t *s = send_find(q, q->open_ids[i]);
        if (q->open_prio[i] == 0 && !(s && s->drained)) pick = q->open_ids[i];
    }
    for (size_t k = 0; k < q->nopen && !pick; k++) {
        size_t i = (q->cursor + k) % q->nopen;
        send_info_t *s = send_find(q, q->open_ids[i]);
        if (!(s && s->drained)) {
            pick = q->open_ids[i];
            q->cursor = (i + 1) % q->nopen;
        }
    }
    pthread_mutex_unlock(&q->mu);
    return pick;
}

/* Claim up to want messages of send id: judge them again, move the allowed
 * ones to SENDING and the blocked ones to their reason in one transaction,
 * and hand the allowed ones to the workers. Returns how many were claimed
 * (0: the send had none left, or the store failed: *failed). */
static size_t claim(iz_sms_queue_t *q, int64_t id, size_t want, bool *failed)
{
    *failed = false;
    pthread_mutex_lock(&q->mu);
    send_info_t *s = send_find(q, id);
    pthread_mutex_unlock(&q->mu);
    if (!s) {
        s = iz_xcalloc(1, sizeof *s);
        if (iz_store_sms_get(q->st, id, &s->msg) != 0) {
            free(s);
            *failed = true;
            return 0;
        }
        pthread_mutex_lock(&q->mu);
        s->next = q->sends;
        q->sends = s;
        pthread_mutex_unlock(&q->mu);
    }
    iz_sms_rcpt_t *rows = NULL;
    size_t n = 0;
    if (iz_store_sms_queued(q->st, id, want, &rows, &n) != 0) {
        *failed = true;
        return 0;
    }
    /* The last look: a consent withdrawn since the send was queued stops
     * its message. Informational messages go to every valid number. */
    iz_judged_t *v = iz_xcalloc(n ? n : 1, sizeof *v);
    const char **raw = iz_xmalloc((n ? n : 1) * sizeof *raw);
    size_t *len = iz_xmalloc((n ? n : 1) * sizeof *len);
    for (size_t i = 0; i < n; i++) {
        raw[i] = rows[i].recipient;
        len[i] = strlen(rows[i].recipient);
    }
    iz_judge_t j = {.brand_id = s->msg.brand_id,
                    .type = IZ_MESAJ,
                    .rtype = s->msg.rtype,
                    .commercial = s->msg.commercial};
    int rc = n ? iz_domain_judge_list(q->dom, &j, raw, len, n, false, v) : 0;
    iz_sms_move_t *mv = iz_xmalloc((n ? n : 1) * sizeof *mv);
    size_t blocked = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *reason = iz_verdict_reason(v[i].v);
        mv[i] = (iz_sms_move_t){.send_id = id,
                                .seq = rows[i].seq,
                                .from = "QUEUED",
                                .to = reason ? reason : "SENDING",
                                .error = reason ? "blocked when it was to be sent" : NULL};
        if (reason) blocked++;
    }
    if (rc == 0) rc = iz_store_sms_move(q->st, mv, n);
    free(mv);
    free(raw);
    free(len);
    if (rc != 0) {
        iz_logf(IZ_LOG_ERROR, "sms", "cannot take messages from the queue", "send=%lld error=%s",
                (long long)id, iz_strerror(rc));
        free(v);
        free(rows);
        *failed = true;
        return 0;
    }
    pthread_mutex_lock(&q->mu);
    q->stats.blocked += blocked;
    for (size_t i = 0; i < n; i++) {
        if (iz_verdict_reason(v[i].v)) continue;
        work_t *w = &q->work[(q->whead + q->wlen) % q->wcap];
        w->send = s;
        w->seq = rows[i].seq;
        iz_strlcpy(w->to, rows[i].recipient, sizeof w->to);
        iz_strlcpy(w->id, rows[i].gateway_id, sizeof w->id);
        q->wlen++;
        s->refs++;
    }
    if (n < want) s->drained = true;
    if (blocked) {
        q->gen++;
        pthread_cond_broadcast(&q->cv_done);
    }
    pthread_cond_broadcast(&q->cv_work);
    pthread_mutex_unlock(&q->mu);
    free(v);
    free(rows);
    return n;
}

/* At a clean stop: the messages claimed and not handed to the gateway go
 * back to QUEUED (mu held; released while writing). */
static void give_back(iz_sms_queue_t *q)
{
    if (q->wlen == 0) return;
    iz_sms_move_t *mv = iz_xmalloc(q->wlen * sizeof *mv);
    size_t n = 0;
    while (q->wlen) {
        work_t *w = &q->work[q->whead];
        mv[n++] = (iz_sms_move_t){
            .send_id = w->send->msg.id, .seq = w->seq, .from = "SENDING", .to = "QUEUED"};
        w->send->refs--;
        q->whead = (q->whead + 1) % q->wcap;
        q->wlen--;
    }
    pthread_mutex_unlock(&q->mu);
    int rc = iz_store_sms_move(q->st, mv, n);
    if (rc != 0)
        iz_logf(IZ_LOG_ERROR, "sms",
                "cannot put messages back in the queue at stop; they will be "
                "UNKNOWN at the next start",
                "messages=%zu error=%s", n, iz_strerror(rc));
    free(mv);
    pthread_mutex_lock(&q->mu);
}

/* What a stopped sender (this process before a restart, or the node that
 * sent before this one) left SENDING becomes UNKNOWN: never sent again. */
static int recover(iz_sms_queue_t *q)
{
    int64_t left = 0;
    int rc = iz_store_sms_recover(q->st, &left);
    if (rc == 0 && left)
        iz_logf(IZ_LOG_WARN, "sms",
                "messages were being handed to the gateway when izin stopped; they are UNKNOWN "
                "and not sent again",
                "messages=%lld", (long long)left);
    if (rc == 0) q->leading = true;
    return rc;
}

/* Whether this node sends now (called with q->mu held); recover() runs when
 * it starts to. */
static bool sends_now(iz_sms_queue_t *q)
{
    if (!q->lead) return true;
    bool lead = q->lead(q->lead_ctx);
    if (!lead) q->leading = false;
    if (lead && !q->leading) {
        pthread_mutex_unlock(&q->mu);
        int rc = recover(q);
        pthread_mutex_lock(&q->mu);
        if (rc != 0) return false;
    }
    return lead;
}

static void *dispatcher_main(void *arg)
{
    iz_sms_queue_t *q = arg;
    int stop_tries = 0;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        int64_t now = now_ms();
        /* Answers are written before more messages are claimed, so that at
         * most 2 x concurrency messages are ever SENDING (what a crash can
         * leave UNKNOWN). */
        bool room = q->wlen + q->in_flight <= q->conc;
        bool due = q->nans > 0 && now >= q->retry_ms &&
                   (q->urgent || room || q->nans >= FLUSH_MAX ||
                    now - q->first_ans_ms >= FLUSH_MS || q->stop);
        if (q->rep_head || due) {
            if (flush(q) != 0 && q->stop) stop_tries++;
            finish_sends(q);
            continue;
        }
        if (q->stop) {
            if (q->workers_gone && q->nans > 0 && stop_tries >= 3) {
                /* The store keeps failing: these stay SENDING and become
                 * UNKNOWN at the next start, never sent again. */
                iz_logf(IZ_LOG_ERROR, "sms", "cannot record the gateway's last answers",
                        "messages=%zu", q->nans);
                for (size_t i = 0; i < q->nans; i++)
                    q->ans[i].send->refs--;
                q->nans = 0;
            }
            if (!q->workers_gone || q->nans > 0) {
                /* the workers' last answers, or the next try to write them */
                struct timespec ts;
                deadline_ts(q->retry_ms > now ? q->retry_ms - now : FLUSH_MS, &ts);
                pthread_cond_timedwait(&q->cv_disp, &q->mu, &ts);
                continue;
            }
            give_back(q);
            break;
        }
        /* Claim while there is room: up to two batches' worth of messages
         * ahead of the workers. */
        long wait = IDLE_MS;
        if (!sends_now(q)) {
            /* Another node sends the queue: look again in a while. */
            q->woken = false;
            wait = FOLLOW_MS;
        } else if (room && now >= q->retry_ms) {
            bool woken = q->woken;
            q->woken = false;
            size_t want = 2 * q->conc - q->wlen - q->in_flight;
            pthread_mutex_unlock(&q->mu);
            int64_t id = next_send(q, woken);
            size_t got = 0;
            bool failed = false;
            if (id) got = claim(q, id, want, &failed);
            pthread_mutex_lock(&q->mu);
            if (failed) q->retry_ms = now_ms() + RETRY_MS;
            finish_sends(q);
            if (got > 0 || (id && !failed)) continue; /* more may be there */
            if (failed) wait = RETRY_MS;
        }
        if (q->nans > 0) {
            long left = (long)(q->first_ans_ms + FLUSH_MS - now_ms());
            if (q->retry_ms > now) left = (long)(q->retry_ms - now);
            if (left < wait) wait = left < 1 ? 1 : left;
        }
        /* Loop again without sleeping only for what can be done now: a
         * report to write, or a wake-up with room to claim. (Looping on a
         * wake-up without room would hold mu and starve the workers.) */
        if (q->rep_head ||
            (q->woken && q->wlen + q->in_flight <= q->conc && now_ms() >= q->retry_ms))
            continue;
        struct timespec ts;
        deadline_ts(wait, &ts);
        pthread_cond_timedwait(&q->cv_disp, &q->mu, &ts);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* ---- the interface ----------------------------------------------------------------- */

int iz_sms_queue_start(const iz_sms_queue_conf_t *conf, iz_sms_queue_t **out)
{
    *out = NULL;
    if (!conf || !conf->dom || !conf->gateway || conf->concurrency > IZ_SMS_CONCURRENCY_MAX ||
        conf->rate < 0)
        return IZ_EINVAL;
    iz_sms_queue_t *q = iz_xcalloc(1, sizeof *q);
    q->dom = conf->dom;
    q->st = iz_domain_store(conf->dom);
    q->gw = conf->gateway;
    q->conc = conf->concurrency ? conf->concurrency : 16;
    q->rate = conf->rate;
    q->max_parts = conf->max_parts > 0 && conf->max_parts <= 10 ? conf->max_parts : 10;
    q->stats.concurrency = q->conc;
    q->lead = conf->lead;
    q->lead_ctx = conf->lead_ctx;
    int rc = q->lead ? 0 : recover(q);
    if (rc != 0) {
        free(q);
        return rc;
    }
    q->wcap = 2 * (size_t)q->conc + 1;
    q->work = iz_xcalloc(q->wcap, sizeof *q->work);
    if (pthread_mutex_init(&q->mu, NULL) != 0 || pthread_cond_init(&q->cv_disp, NULL) != 0 ||
        pthread_cond_init(&q->cv_work, NULL) != 0 || pthread_cond_init(&q->cv_done, NULL) != 0)
        iz_oom();
    q->woken = true;
    q->workers = iz_xcalloc(q->conc, sizeof *q->workers);
    for (unsigned i = 0; i < q->conc; i++) {
        if (pthread_create(&q->workers[i], NULL, worker_main, q) != 0) break;
        q->nworkers++;
    }
    if (q->nworkers == 0 || pthread_create(&q->disp, NULL, dispatcher_main, q) != 0) {
        pthread_mutex_lock(&q->mu);
        q->stop = true;
        pthread_cond_broadcast(&q->cv_work);
        pthread_mutex_unlock(&q->mu);
        for (unsigned i = 0; i < q->nworkers; i++)
            pthread_join(q->workers[i], NULL);
        free(q->workers);
        free(q->work);
        free(q);
        return IZ_EIO;
    }
    *out = q;
    return 0;
}

void iz_sms_queue_stop(iz_sms_queue_t *q)
{
    if (!q) return;
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    pthread_cond_broadcast(&q->cv_work);
    pthread_cond_broadcast(&q->cv_done); /* a worker waiting to try a refused send again */
    pthread_cond_broadcast(&q->cv_disp);
    pthread_mutex_unlock(&q->mu);
    for (unsigned i = 0; i < q->nworkers; i++)
        pthread_join(q->workers[i], NULL);
    pthread_mutex_lock(&q->mu);
    q->workers_gone = true;
    pthread_cond_broadcast(&q->cv_disp);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->disp, NULL);
    /* No report can be waiting: they are refused once stop is set, and the
     * dispatcher wrote every one that came before. */
    while (q->sends) {
        send_info_t *s = q->sends;
        q->sends = s->next;
        free(s);
    }
    free(q->ans);
    free(q->work);
    free(q->workers);
    pthread_cond_destroy(&q->cv_disp);
    pthread_cond_destroy(&q->cv_work);
    pthread_cond_destroy(&q->cv_done);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

void iz_sms_queue_wake(iz_sms_queue_t *q)
{
    pthread_mutex_lock(&q->mu);
    q->woken = true;
    pthread_cond_signal(&q->cv_disp);
    pthread_mutex_unlock(&q->mu);
}

int iz_sms_queue_put(iz_sms_queue_t *q, iz_sms_msg_t *msg, const iz_sms_item_t *items, size_t n)
{
    int rc = iz_store_sms_queue(q->st, msg, items, n);
    if (rc == 0) iz_sms_queue_wake(q);
    return rc;
}

int iz_sms_queue_reply(iz_sms_queue_t *q, int64_t account_id, int64_t brand_id, const char *from,
                       const char *to, const char *text)
{
    return iz_sms_queue_notice(q, account_id, brand_id, from, to, text, NULL);
}

int iz_sms_queue_notice(iz_sms_queue_t *q, int64_t account_id, int64_t brand_id, const char *from,
                        const char *to, const char *text, char msg_id[IZ_SMS_ID_MAX])
{
    char phone[IZ_PHONE_MAX], id[IZ_SMS_ID_MAX];
    const char *hcode = NULL;
    iz_smstext_info_t info;
    if (!from || !*from || !to || !text || !*text ||
        iz_phone_normalize(to, strlen(to), phone, &hcode) != 0 ||
        iz_smstext_analyze(text, strlen(text), iz_sms_gateway_text_flags(q->gw), &info) != 0 ||
        info.parts > (size_t)q->max_parts)
        return IZ_EINVAL;
    if (iz_sms_new_id(id) != 0) return IZ_EIO;
    iz_sms_msg_t *m = iz_xcalloc(1, sizeof *m);
    m->account_id = account_id;
    m->brand_id = brand_id;
    iz_strlcpy(m->kind, "REPLY", sizeof m->kind);
    m->priority = 0;
    int rc = iz_strlcpy(m->sender, from, sizeof m->sender) == 0 &&
                     iz_strlcpy(m->text, text, sizeof m->text) == 0
                 ? 0
                 : IZ_EINVAL;
    m->commercial = false;
    m->rtype = IZ_BIREYSEL;
    iz_strlcpy(m->encoding, iz_sms_enc_name(info.encoding), sizeof m->encoding);
    m->parts = (int)info.parts;
    m->accepted = 1;
    iz_sms_item_t item = {.recipient = phone, .outcome = "QUEUED", .msg_id = id};
    if (rc == 0) rc = iz_store_sms_queue(q->st, m, &item, 1);
    free(m);
    if (rc == 0 && msg_id) memcpy(msg_id, id, IZ_SMS_ID_MAX);
    return rc;
}

int iz_sms_queue_wait(iz_sms_queue_t *q, int64_t id, long timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        uint64_t gen = q->gen;
        pthread_mutex_unlock(&q->mu);
        iz_sms_counts_t c;
        int rc = iz_store_sms_counts(q->st, id, &c);
        if (rc != 0) return rc;
        if (c.queued + c.sending == 0) return 0;
        int64_t left = deadline - now_ms();
        if (left <= 0) return IZ_EBUSY;
        pthread_mutex_lock(&q->mu);
        if (q->gen == gen && !q->stop) {
            struct timespec ts;
            deadline_ts(left, &ts);
            pthread_cond_timedwait(&q->cv_done, &q->mu, &ts);
        }
        bool stopping = q->stop;
        pthread_mutex_unlock(&q->mu);
        if (stopping) return IZ_EBUSY;
    }
}

int iz_sms_queue_dlr(iz_sms_queue_t *q, const char *msg_id, int status)
{
    if (!msg_id || !*msg_id || strlen(msg_id) >= IZ_SMS_ID_MAX ||
        !(status == 1 || status == 2 || status == 4 || status == 8 || status == 16))
        return IZ_EINVAL;
    for (const char *p = msg_id; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7F) return IZ_EINVAL;
    report_t r = {.d = {.msg_id = msg_id, .status = status, .at_ms = now_ms()}};
    pthread_mutex_lock(&q->mu);
    if (q->stop) {
        pthread_mutex_unlock(&q->mu);
        return IZ_EBUSY;
    }
    if (q->rep_tail)
        q->rep_tail->next = &r;
    else
        q->rep_head = &r;
    q->rep_tail = &r;
    pthread_cond_signal(&q->cv_disp);
    /* The dispatcher writes it at once (with the reports that came
     * meanwhile) and always answers it, stopping included. */
    while (!r.done)
        pthread_cond_wait(&q->cv_done, &q->mu);
    pthread_mutex_unlock(&q->mu);
    return r.rc;
}

void iz_sms_queue_stats(iz_sms_queue_t *q, iz_sms_queue_stats_t *out)
{
    pthread_mutex_lock(&q->mu);
    *out = q->stats;
    out->in_flight = q->in_flight;
    pthread_mutex_unlock(&q->mu);
}
