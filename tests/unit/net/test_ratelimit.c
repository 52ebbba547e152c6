/*
 * test_ratelimit.c - the keyed fixed-window counter: limits, the window's
 * reset, keys kept apart, bounded memory under a flood of keys, eviction
 * of ended windows first, a clock that goes back, and exact counts under
 * concurrent callers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "core/iz.h"
#include "net/ratelimit.h"

static iz_ratelimit_t *make(size_t capacity, int64_t limit, int64_t window)
{
    iz_ratelimit_t *rl = NULL;
    assert_int_equal(iz_ratelimit_new(capacity, limit, window, &rl), 0);
    assert_non_null(rl);
    return rl;
}

static void test_bad_arguments(void **state)
{
    (void)state;
    iz_ratelimit_t *rl = NULL;
    assert_int_equal(iz_ratelimit_new(0, 1, 1, &rl), IZ_EINVAL);
    assert_int_equal(iz_ratelimit_new(8, 0, 1, &rl), IZ_EINVAL);
    assert_int_equal(iz_ratelimit_new(8, 1, 0, &rl), IZ_EINVAL);
    assert_int_equal(iz_ratelimit_new(8, -1, 60, &rl), IZ_EINVAL);
    assert_int_equal(iz_ratelimit_new((size_t)IZ_RATELIMIT_MAX_CAPACITY + 1, 1, 1, &rl), IZ_EINVAL);
    assert_null(rl);
    iz_ratelimit_free(NULL);
}

static void test_limit_and_window_reset(void **state)
{
    (void)state;
    iz_ratelimit_t *rl = make(64, 3, 60);
    int64_t retry = -1;
    for (int i = 0; i < 3; i++)
        assert_int_equal(iz_ratelimit_hit(rl, "10.0.0.1", 1000, &retry), 0);
    assert_int_equal(iz_ratelimit_hit(rl, "10.0.0.1", 1000, &retry), IZ_EBUSY);
    assert_int_equal(retry, 60);
    assert_int_equal(iz_ratelimit_hit(rl, "10.0.0.1", 1030, &retry), IZ_EBUSY);
    assert_int_equal(retry, 30);
    assert_int_equal(iz_ratelimit_hit(rl, "10.0.0.1", 1059, &retry), IZ_EBUSY);
    assert_int_equal(retry, 1);
    assert_int_equal(iz_ratelimit_hit(rl, "10.0.0.1", 1059, NULL), IZ_EBUSY);
    /* the window ends 60 s after its first request: a new one opens */
    assert_int_equal(iz_ratelimit_hit(rl, "10.0.0.1", 1060, &retry), 0);
    assert_int_equal(iz_ratelimit_hit(rl, "10.0.0.1", 1061, &retry), 0);
    assert_int_equal(iz_ratelimit_hit(rl, "10.0.0.1", 1062, &retry), 0);
    assert_int_equal(iz_ratelimit_hit(rl, "10.0.0.1", 1063, &retry), IZ_EBUSY);
    assert_int_equal(retry, 57);
    iz_ratelimit_free(rl);
}

static void test_keys_apart(void **state)
{
    (void)state;
    iz_ratelimit_t *rl = make(64, 1, 60);
    assert_int_equal(iz_ratelimit_hit(rl, "10.0.0.1", 5, NULL), 0);
    assert_int_equal(iz_ratelimit_hit(rl, "10.0.0.1", 5, NULL), IZ_EBUSY);
    assert_int_equal(iz_ratelimit_hit(rl, "10.0.0.2", 5, NULL), 0);
    assert_int_equal(iz_ratelimit_hit(rl, "::1", 5, NULL), 0);
    assert_int_equal(iz_ratelimit_hit(rl, "", 5, NULL), 0);
    assert_int_equal(iz_ratelimit_hit(rl, "", 5, NULL), IZ_EBUSY);
    /* a long key costs nothing more and is a key like any other */
    static char big[10000];
    memset(big, 'k', sizeof big - 1);
    assert_int_equal(iz_ratelimit_hit(rl, big, 5, NULL), 0);
    assert_int_equal(iz_ratelimit_hit(rl, big, 5, NULL), IZ_EBUSY);
    big[5000] = 'x';
    assert_int_equal(iz_ratelimit_hit(rl, big, 5, NULL), 0);
    assert_int_equal(iz_ratelimit_count(rl), 6);
    iz_ratelimit_free(rl);
}

/* A window of one second is "at most limit a second" in whole seconds, as
 * the emulator's per-second limit counts. */
static void test_per_second(void **state)
{
    (void)state;
    iz_ratelimit_t *rl = make(64, 10, 1);
    int64_t retry = 0;
    for (int i = 0; i < 10; i++)
        assert_int_equal(iz_ratelimit_hit(rl, "c", 100, NULL), 0);
    assert_int_equal(iz_ratelimit_hit(rl, "c", 100, &retry), IZ_EBUSY);
    assert_int_equal(retry, 1);
    for (int i = 0; i < 10; i++)
        assert_int_equal(iz_ratelimit_hit(rl, "c", 101, NULL), 0);
    assert_int_equal(iz_ratelimit_hit(rl, "c", 101, NULL), IZ_EBUSY);
    iz_ratelimit_free(rl);
}

static void test_clock_back(void **state)
{
    (void)state;
    iz_ratelimit_t *rl = make(64, 1, 60);
    assert_int_equal(iz_ratelimit_hit(rl, "c", 1000, NULL), 0);
    assert_int_equal(iz_ratelimit_hit(rl, "c", 1000, NULL), IZ_EBUSY);
    /* a window that would open in the future starts again now, and its
     * Retry-After stays within one window */
    int64_t retry = 0;
    assert_int_equal(iz_ratelimit_hit(rl, "c", 500, NULL), 0);
    assert_int_equal(iz_ratelimit_hit(rl, "c", 500, &retry), IZ_EBUSY);
    assert_int_equal(retry, 60);
    iz_ratelimit_free(rl);
}

static void test_bounded_memory(void **state)
{
    (void)state;
    iz_ratelimit_t *rl = make(100, 1, 60);
    size_t slots = iz_ratelimit_slots(rl);
    assert_true(slots >= 100 && slots <= 2 * 100 + IZ_RATELIMIT_WAYS);
    char key[32];
    for (int i = 0; i < 200000; i++) {
        snprintf(key, sizeof key, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        /* never refused for want of room: a newcomer always gets a slot */
        assert_int_equal(iz_ratelimit_hit(rl, key, 1000 + i / 1000, NULL), 0);
        if (i % 5000 == 0) assert_true(iz_ratelimit_count(rl) <= slots);
    }
    assert_true(iz_ratelimit_count(rl) <= slots);
    assert_int_equal(iz_ratelimit_slots(rl), slots);
    /* the most recent keys are still counted */
    assert_int_equal(iz_ratelimit_hit(rl, key, 1199, NULL), IZ_EBUSY);
    iz_ratelimit_free(rl);
}

/* n keys named prefix0, prefix1, ... each counted once at now. */
static void fill(iz_ratelimit_t *rl, const char *prefix, int n, int64_t now)
{
    char key[32];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%s%d", prefix, i);
        assert_int_equal(iz_ratelimit_hit(rl, key, now, NULL), 0);
    }
}

/* With a set full of live windows, the key seen longest ago is forgotten,
 * never one that was just refused; ended windows go first. */
static void test_eviction_order(void **state)
{
    (void)state;
    iz_ratelimit_t *rl = make(IZ_RATELIMIT_WAYS, 1, 60); /* one set */
    assert_int_equal(iz_ratelimit_slots(rl), IZ_RATELIMIT_WAYS);
    assert_int_equal(iz_ratelimit_hit(rl, "victim", 0, NULL), 0);
    fill(rl, "k", IZ_RATELIMIT_WAYS - 1, 1);
    assert_int_equal(iz_ratelimit_count(rl), IZ_RATELIMIT_WAYS);
    assert_int_equal(iz_ratelimit_hit(rl, "victim", 5, NULL), IZ_EBUSY); /* seen at 5 */
    /* newcomers at 6..: each forgets the oldest of k0..k6, never victim */
    char key[16];
    for (int i = 0; i < IZ_RATELIMIT_WAYS - 1; i++) {
        snprintf(key, sizeof key, "n%d", i);
        assert_int_equal(iz_ratelimit_hit(rl, key, 6 + i, NULL), 0);
        assert_int_equal(iz_ratelimit_hit(rl, "victim", 6 + i, NULL), IZ_EBUSY);
    }
    assert_int_equal(iz_ratelimit_count(rl), IZ_RATELIMIT_WAYS);
    /* k0 was forgotten: it starts again */
    assert_int_equal(iz_ratelimit_hit(rl, "k0", 20, NULL), 0);
    assert_int_equal(iz_ratelimit_count(rl), IZ_RATELIMIT_WAYS);
    iz_ratelimit_free(rl);
}

static void test_ended_window_goes_first(void **state)
{
    (void)state;
    iz_ratelimit_t *rl = make(IZ_RATELIMIT_WAYS, 1, 60);               /* one set */
    assert_int_equal(iz_ratelimit_hit(rl, "old", 0, NULL), 0);         /* window 0..60 */
    fill(rl, "k", IZ_RATELIMIT_WAYS - 1, 30);                          /* windows 30..90 */
    assert_int_equal(iz_ratelimit_hit(rl, "old", 59, NULL), IZ_EBUSY); /* seen last */
    /* at 61 "old"'s window has ended: the newcomer takes its slot rather
     * than that of a live window seen longer ago */
    assert_int_equal(iz_ratelimit_hit(rl, "new", 61, NULL), 0);
    char key[16];
    for (int i = 0; i < IZ_RATELIMIT_WAYS - 1; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(iz_ratelimit_hit(rl, key, 62, NULL), IZ_EBUSY);
    }
    iz_ratelimit_free(rl);
}

typedef struct worker {
    iz_ratelimit_t *rl;
    int passed;
} worker_t;

static void *hammer(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < 20000; i++)
        if (iz_ratelimit_hit(w->rl, "shared", 77, NULL) == 0) w->passed++;
    return NULL;
}

static void test_threads_count_exactly(void **state)
{
    (void)state;
    iz_ratelimit_t *rl = make(64, 1000, 3600);
    worker_t w[4] = {{rl, 0}, {rl, 0}, {rl, 0}, {rl, 0}};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += w[i].passed;
    }
    assert_int_equal(total, 1000);
    iz_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_limit_and_window_reset),
        cmocka_unit_test(test_keys_apart),
        cmocka_unit_test(test_per_second),
        cmocka_unit_test(test_clock_back),
        cmocka_unit_test(test_bounded_memory),
        cmocka_unit_test(test_eviction_order),
        cmocka_unit_test(test_ended_window_goes_first),
        cmocka_unit_test(test_threads_count_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
