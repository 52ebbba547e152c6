/*
 * budget.c - the sliding-window İYS rate budget of budget.h: a ring of the
 * last cap start times (monotonic clock), a pause after a 429, and the
 * down flag.
 */
#include "iys/budget.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/iz.h"

#define CAP_MAX 1000
#define RECOVER_MS 10000

struct iz_iys_budget {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    double rate;
    int cap_full;        /* requests a window at the configured rate */
    int cap;             /* now: lowered by 429s */
    int64_t ring[CAP_MAX]; /* the last cap_full start times, ms */
    int head;            /* the next ring slot to write (the oldest start) */
    int reserved;        /* slots promised (iz_iys_budget_try) and not yet used */
    int64_t pause_until; /* no start before this (a 429's Retry-After) */
    int64_t last_429, last_raise;
    bool down;
    uint64_t started, limited;
    int64_t tokens[IZ_IYS_TOKENS_PER_HOUR]; /* the last token requests, ms */
    int token_head;
    iz_iys_gate_fn gate; /* the cluster's window, or NULL */
    void *gate_ctx;
    int64_t gate_until; /* the gate said no until then (mono ms) */
};

void iz_iys_budget_set_gate(iz_iys_budget_t *b, iz_iys_gate_fn fn, void *ctx)
{
    pthread_mutex_lock(&b->mu);
    b->gate = fn;
    b->gate_ctx = ctx;
    pthread_mutex_unlock(&b->mu);
}

static int64_t window_ms(const iz_iys_budget_t *b);

/* Whether the gate (if any) lets a start through now; mu held. A "no" is
 * remembered until its wait is over, so the gate is not asked again and
 * again meanwhile. */
static bool gate_open(iz_iys_budget_t *b, int64_t now)
{
    if (!b->gate) return true;
    if (now < b->gate_until) return false;
    int64_t wait = 0;
    if (b->gate(b->gate_ctx, b->cap, window_ms(b), &wait)) return true;
    b->gate_until = now + (wait > 0 ? wait : 10);
    return false;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

iz_iys_budget_t *iz_iys_budget_new(double rate)
{
    iz_iys_budget_t *b = iz_xcalloc(1, sizeof *b);
    if (!(rate > 0)) rate = 10;
    b->rate = rate;
    /* A window holds floor(rate) starts (at least one) and lasts
     * cap/rate seconds, so the long-run rate is exactly `rate`. */
    double c = floor(rate);
    b->cap_full = c < 1 ? 1 : c > CAP_MAX ? CAP_MAX : (int)c;
    b->cap = b->cap_full;
    int64_t start = mono_ms() - 3600 * 1000;
    for (int i = 0; i < CAP_MAX; i++)
        b->ring[i] = start;
    pthread_mutex_init(&b->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
    return b;
}

void iz_iys_budget_free(iz_iys_budget_t *b)
{
    if (!b) return;
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/* The window: cap_full starts in cap_full/rate seconds plus the margin
 * (a lowered cap lets fewer starts into the same window). */
static int64_t window_ms(const iz_iys_budget_t *b)
{
    return (int64_t)llround((double)b->cap_full * 1000.0 / b->rate) + IZ_IYS_BUDGET_MARGIN_MS;
}

/* When one more request may start: once the start (cap - reserved) places
 * back in the ring is a window old (reserved slots count as starts that
 * are about to happen); never while all of cap are reserved. Called with
 * mu held. */
static int64_t next_start(iz_iys_budget_t *b, int64_t now)
{
    /* A cap lowered by 429s comes back by one every RECOVER_MS without a
     * new one. */
    while (b->cap < b->cap_full && now - b->last_429 >= RECOVER_MS &&
           now - b->last_raise >= RECOVER_MS) {
        b->cap++;
        b->last_raise = now;
    }
    int k = b->cap - b->reserved;
    if (k <= 0) return now + window_ms(b);
    int idx = (b->head - k + b->cap_full * 2) % b->cap_full;
    int64_t t = b->ring[idx] + window_ms(b);
    if (t < b->pause_until) t = b->pause_until;
    return t;
}

int64_t iz_iys_budget_wait_ms(iz_iys_budget_t *b)
{
    pthread_mutex_lock(&b->mu);
    int64_t now = mono_ms();
    int64_t t = next_start(b, now);
    if (t < b->gate_until) t = b->gate_until;
    pthread_mutex_unlock(&b->mu);
    return t > now ? t - now : 0;
}

static void record(iz_iys_budget_t *b, int64_t now)
{
    b->ring[b->head] = now;
    b->head = (b->head + 1) % b->cap_full;
    b->started++;
}

/* A reservation asks only this budget's window and the gate's last "no":
 * the cluster's window counts a start when the request really starts
 * (iz_iys_budget_use), as a start counted at the reservation would leave
 * that window early by the time a sender takes to send. */
bool iz_iys_budget_try(iz_iys_budget_t *b)
{
    pthread_mutex_lock(&b->mu);
    int64_t now = mono_ms();
    bool ok = next_start(b, now) <= now && now >= b->gate_until;
    if (ok) b->reserved++;
    pthread_mutex_unlock(&b->mu);
    return ok;
}

/* Wait until the gate (if any) lets a start through; mu held. */
static void wait_gate(iz_iys_budget_t *b)
{
    for (;;) {
        int64_t now = mono_ms();
        if (gate_open(b, now)) return;
        int64_t t = b->gate_until;
        struct timespec ts = {(time_t)(t / 1000), (long)(t % 1000) * 1000000L};
        pthread_cond_timedwait(&b->cv, &b->mu, &ts);
    }
}

void iz_iys_budget_use(iz_iys_budget_t *b)
{
    pthread_mutex_lock(&b->mu);
    wait_gate(b);
    if (b->reserved > 0) b->reserved--;
    record(b, mono_ms());
    pthread_mutex_unlock(&b->mu);
}

void iz_iys_budget_release(iz_iys_budget_t *b)
{
    pthread_mutex_lock(&b->mu);
    if (b->reserved > 0) b->reserved--;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

void iz_iys_budget_take(iz_iys_budget_t *b)
{
    pthread_mutex_lock(&b->mu);
    for (;;) {
        int64_t now = mono_ms();
        int64_t t = next_start(b, now);
        if (t <= now && gate_open(b, now)) {
            record(b, now);
            break;
        }
        if (t <= now) t = b->gate_until;
        struct timespec ts = {(time_t)(t / 1000), (long)(t % 1000) * 1000000L};
        pthread_cond_timedwait(&b->cv, &b->mu, &ts);
    }
    pthread_mutex_unlock(&b->mu);
}

void iz_iys_budget_answer(iz_iys_budget_t *b, long http, long retry_after_s)
{
    pthread_mutex_lock(&b->mu);
    int64_t now = mono_ms();
    if (http == 429) {
        b->limited++;
        /* Slow down: no start until Retry-After (at least the rest of a
         * window of İYS's), then a fifth fewer a window. */
        int64_t wait = retry_after_s > 0 ? retry_after_s * 1000 : 1000;
        if (wait > 60000) wait = 60000;
        if (now + wait > b->pause_until) b->pause_until = now + wait;
        /* One lowering per window: the 429s of requests already in flight
         * answer the same excess. */
        if (now - b->last_429 > window_ms(b)) {
            int lower = b->cap / 5 > 0 ? b->cap / 5 : 1;
            b->cap = b->cap - lower >= 1 ? b->cap - lower : 1;
        }
        b->last_429 = now;
        b->down = false;
    } else {
        b->down = http == 0 || http >= 500;
    }
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

bool iz_iys_budget_token(iz_iys_budget_t *b)
{
    pthread_mutex_lock(&b->mu);
    int64_t now = mono_ms();
    /* The oldest of the last IZ_IYS_TOKENS_PER_HOUR must be an hour old. */
    bool ok = b->tokens[b->token_head] == 0 || now - b->tokens[b->token_head] >= 3600 * 1000;
    if (ok) {
        b->tokens[b->token_head] = now;
        b->token_head = (b->token_head + 1) % IZ_IYS_TOKENS_PER_HOUR;
    }
    pthread_mutex_unlock(&b->mu);
    return ok;
}

bool iz_iys_budget_down(iz_iys_budget_t *b)
{
    pthread_mutex_lock(&b->mu);
    bool d = b->down;
    pthread_mutex_unlock(&b->mu);
    return d;
}

void iz_iys_budget_stats(iz_iys_budget_t *b, iz_iys_budget_stats_t *o)
{
    pthread_mutex_lock(&b->mu);
    o->started = b->started;
    o->limited = b->limited;
    o->cap = b->cap;
    o->down = b->down;
    pthread_mutex_unlock(&b->mu);
}
