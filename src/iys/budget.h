/*
 * budget.h - one İYS rate budget: how many requests may go to one İYS base
 * URL, shared by every account (every provider code, every token) behind
 * this process's address.
 *
 * İYS limits requests per client IP (10 a second), not per account, so
 * every request izin makes to one base URL takes a slot from the URL's one
 * budget. The budget is a sliding window: at most `cap` request starts in
 * any window of cap/rate seconds plus a margin (IZ_IYS_BUDGET_MARGIN_MS),
 * so however İYS aligns its own windows, and with some jitter between a
 * start here and the arrival there, no window of İYS's holds more than its
 * limit.
 *
 * Answers feed back:
 *   - a 429 stops every start until its Retry-After (at least a second) and
 *     lowers the cap by a fifth; it comes back by one every 10 s without a
 *     429, up to the configured rate;
 *   - no answer or a 5xx marks the URL down: the sync engine then sends
 *     only probes through it (sync.h), and the first answer that is neither
 *     marks it up again, so delivery resumes within a second of İYS
 *     answering again.
 *
 * Thread-safe.
 */
#ifndef IZ_IYS_BUDGET_H
#define IZ_IYS_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#define IZ_IYS_BUDGET_MARGIN_MS 50

typedef struct iz_iys_budget iz_iys_budget_t;

/* A budget of rate requests a second (rate > 0). */
iz_iys_budget_t *iz_iys_budget_new(double rate);
void iz_iys_budget_free(iz_iys_budget_t *b);

/* Milliseconds (>= 0) until a request may start. */
int64_t iz_iys_budget_wait_ms(iz_iys_budget_t *b);

/* Reserve a slot when one is free at once: true, and the slot is kept for
 * the caller, who then uses it when the request really starts (the window
 * counts actual starts, so the time between reserving and sending does
 * not squeeze requests together) or releases it when no request is made. */
bool iz_iys_budget_try(iz_iys_budget_t *b);
void iz_iys_budget_use(iz_iys_budget_t *b);
void iz_iys_budget_release(iz_iys_budget_t *b);

/* Several nodes behind one address (domain/cluster.h): a gate the budget
 * asks, after its own window let a start through, whether the cluster's
 * window has room too - true, and the start is counted there; false, with
 * *wait_ms (> 0) until it may. cap and window_ms are this budget's. The
 * gate is asked with the budget's lock held, when the request starts:
 * by iz_iys_budget_take, and for a reserved slot by iz_iys_budget_use
 * (which then waits for the cluster's window; a reservation only avoids a
 * gate that said no). */
typedef bool (*iz_iys_gate_fn)(void *ctx, int cap, int64_t window_ms, int64_t *wait_ms);
void iz_iys_budget_set_gate(iz_iys_budget_t *b, iz_iys_gate_fn fn, void *ctx);

/* Wait for a slot and take it. */
void iz_iys_budget_take(iz_iys_budget_t *b);

/* Feed an answer back: http is its status, 0 when none came. */
void iz_iys_budget_answer(iz_iys_budget_t *b, long http, long retry_after_s);

/* Count a token request when fewer than IZ_IYS_TOKENS_PER_HOUR were made
 * to this URL in the last hour (İYS allows 100 an hour per IP, and a
 * request inside a blocked hour restarts the block): true, and it is
 * counted; false, and no token request may be made now. */
#define IZ_IYS_TOKENS_PER_HOUR 90
bool iz_iys_budget_token(iz_iys_budget_t *b);

/* Whether the URL is down (no answer or a 5xx last). */
bool iz_iys_budget_down(iz_iys_budget_t *b);

typedef struct iz_iys_budget_stats {
    uint64_t started; /* requests started */
    uint64_t limited; /* 429 answers */
    int cap;          /* requests a window now (lowered after a 429) */
    bool down;
} iz_iys_budget_stats_t;

void iz_iys_budget_stats(iz_iys_budget_t *b, iz_iys_budget_stats_t *out);

#endif
