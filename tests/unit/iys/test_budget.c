/*
 * test_budget.c - the İYS rate budget: never more than its rate in any
 * window (reserved slots included), a 429 stops every start for its
 * Retry-After and lowers the rate, no answer or a 5xx marks the URL down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "iys/budget.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 25 requests at 10 a second: the first 10 at once, then none of any 11
 * in a row closer together than a window (1 s and the margin). */
static void test_no_window_holds_more_than_the_rate(void **state)
{
    (void)state;
    iz_iys_budget_t *b = iz_iys_budget_new(10);
    int64_t t[25];
    for (int i = 0; i < 25; i++) {
        iz_iys_budget_take(b);
        t[i] = mono_ms();
    }
    assert_true(t[9] - t[0] < 50);
    for (int i = 10; i < 25; i++)
        assert_true(t[i] - t[i - 10] >= 1000 + IZ_IYS_BUDGET_MARGIN_MS - 1);
    iz_iys_budget_stats_t st;
    iz_iys_budget_stats(b, &st);
    assert_int_equal(st.started, 25);
    iz_iys_budget_free(b);
}

/* A reserved slot counts as a start: 10 reserved leave none, and a
 * released one comes back. */
static void test_reserved_slots_count(void **state)
{
    (void)state;
    iz_iys_budget_t *b = iz_iys_budget_new(10);
    for (int i = 0; i < 10; i++)
        assert_true(iz_iys_budget_try(b));
    assert_false(iz_iys_budget_try(b));
    assert_true(iz_iys_budget_wait_ms(b) > 0);
    iz_iys_budget_release(b);
    assert_true(iz_iys_budget_try(b));
    for (int i = 0; i < 10; i++)
        iz_iys_budget_use(b);
    assert_false(iz_iys_budget_try(b));
    iz_iys_budget_free(b);
}

static void test_a_429_pauses_and_slows_down(void **state)
{
    (void)state;
    iz_iys_budget_t *b = iz_iys_budget_new(10);
    assert_true(iz_iys_budget_try(b));
    iz_iys_budget_use(b);
    iz_iys_budget_answer(b, 429, 2);
    int64_t w = iz_iys_budget_wait_ms(b);
    assert_true(w > 1900 && w <= 2000);
    assert_false(iz_iys_budget_try(b));
    iz_iys_budget_stats_t st;
    iz_iys_budget_stats(b, &st);
    assert_int_equal(st.limited, 1);
    assert_int_equal(st.cap, 8);
    /* The 429s of requests already in flight answer the same excess. */
    iz_iys_budget_answer(b, 429, 1);
    iz_iys_budget_stats(b, &st);
    assert_int_equal(st.cap, 8);
    iz_iys_budget_free(b);
}

static void test_down_and_up(void **state)
{
    (void)state;
    iz_iys_budget_t *b = iz_iys_budget_new(10);
    assert_false(iz_iys_budget_down(b));
    iz_iys_budget_answer(b, 0, 0);
    assert_true(iz_iys_budget_down(b));
    iz_iys_budget_answer(b, 503, 0);
    assert_true(iz_iys_budget_down(b));
    iz_iys_budget_answer(b, 404, 0); /* an answer: İYS is there */
    assert_false(iz_iys_budget_down(b));
    iz_iys_budget_answer(b, 500, 0);
    iz_iys_budget_answer(b, 202, 0);
    assert_false(iz_iys_budget_down(b));
    iz_iys_budget_free(b);
}

/* A rate below one a second: one start a window of 1/rate seconds. */
static void test_fractional_rate(void **state)
{
    (void)state;
    iz_iys_budget_t *b = iz_iys_budget_new(0.5);
    assert_true(iz_iys_budget_try(b));
    iz_iys_budget_use(b);
    int64_t w = iz_iys_budget_wait_ms(b);
    assert_true(w > 1900 && w <= 2000 + IZ_IYS_BUDGET_MARGIN_MS);
    iz_iys_budget_free(b);
}

/* Token requests: at most IZ_IYS_TOKENS_PER_HOUR an hour to one URL. */
static void test_token_requests_an_hour(void **state)
{
    (void)state;
    iz_iys_budget_t *b = iz_iys_budget_new(10);
    for (int i = 0; i < IZ_IYS_TOKENS_PER_HOUR; i++)
        assert_true(iz_iys_budget_token(b));
    assert_false(iz_iys_budget_token(b));
    iz_iys_budget_free(b);
}

/* The cluster's window (a gate of the store's in izin serve): asked when
 * a request really starts - a reservation does not count there, its use
 * does, and a use waits while the gate says no. */
typedef struct gate {
    int calls, refuse; /* refuse: say no this many times first */
    int64_t counted_at;
} gate_t;

static bool fake_gate(void *ctx, int cap, int64_t window_ms, int64_t *wait_ms)
{
    gate_t *g = ctx;
    assert_int_equal(cap, 10);
    assert_int_equal(window_ms, 1000 + IZ_IYS_BUDGET_MARGIN_MS);
    g->calls++;
    if (g->refuse > 0) {
        g->refuse--;
        *wait_ms = 150;
        return false;
    }
    g->counted_at = mono_ms();
    return true;
}

static void test_gate_counts_the_real_start(void **state)
{
    (void)state;
    iz_iys_budget_t *b = iz_iys_budget_new(10);
    gate_t g = {0};
    iz_iys_budget_set_gate(b, fake_gate, &g);
    assert_true(iz_iys_budget_try(b));
    assert_int_equal(g.calls, 0);
    struct timespec nap = {0, 200 * 1000000L};
    nanosleep(&nap, NULL); /* a sender slow to send */
    int64_t t0 = mono_ms();
    iz_iys_budget_use(b);
    assert_int_equal(g.calls, 1);
    assert_true(g.counted_at >= t0);
    /* another node filled the window: the next use waits for the gate */
    g.refuse = 1;
    assert_true(iz_iys_budget_try(b));
    t0 = mono_ms();
    iz_iys_budget_use(b);
    assert_int_equal(g.calls, 3);
    assert_true(mono_ms() - t0 >= 149);
    /* and a take asks at once */
    iz_iys_budget_take(b);
    assert_int_equal(g.calls, 4);
    /* a take waits for the gate too */
    g.refuse = 1;
    iz_iys_budget_take(b);
    assert_int_equal(g.calls, 6);
    iz_iys_budget_stats_t st;
    iz_iys_budget_stats(b, &st);
    assert_int_equal(st.started, 4);
    iz_iys_budget_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_window_holds_more_than_the_rate),
        cmocka_unit_test(test_reserved_slots_count),
        cmocka_unit_test(test_a_429_pauses_and_slows_down),
        cmocka_unit_test(test_down_and_up),
        cmocka_unit_test(test_fractional_rate),
        cmocka_unit_test(test_token_requests_an_hour),
        cmocka_unit_test(test_gate_counts_the_real_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
