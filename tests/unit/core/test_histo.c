/*
 * test_histo.c - the latency histogram: each observation lands in the first
 * bucket whose bound it does not exceed (a value on a bound counts in it,
 * as Prometheus's le says), the snapshot is cumulative, the sum and count
 * add up, and the text is Prometheus's; concurrent observers lose nothing.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/histo.h"

static void test_buckets(void **state)
{
    (void)state;
    iz_histo_t h = {0};
    iz_histo_snap_t s;
    iz_histo_snapshot(&h, &s);
    assert_int_equal(s.count, 0);
    assert_int_equal(s.le[IZ_HISTO_BOUNDS], 0);
    iz_histo_observe(&h, 0);           /* le 0.0005 */
    iz_histo_observe(&h, 500000);      /* exactly 0.0005: still le 0.0005 */
    iz_histo_observe(&h, 500001);      /* le 0.001 */
    iz_histo_observe(&h, 30000000);    /* 30 ms: le 0.05 */
    iz_histo_observe(&h, 10000000000); /* 10 s: le 10 */
    iz_histo_observe(&h, 60000000000); /* a minute: +Inf only */
    iz_histo_snapshot(&h, &s);
    assert_int_equal(s.count, 6);
    assert_int_equal(s.le[0], 2);
    assert_int_equal(s.le[1], 3);
    assert_int_equal(s.le[5], 3);  /* le 0.025 */
    assert_int_equal(s.le[6], 4);  /* le 0.05 */
    assert_int_equal(s.le[12], 4); /* le 5 */
    assert_int_equal(s.le[13], 5); /* le 10 */
    assert_int_equal(s.le[IZ_HISTO_BOUNDS], 6);
    for (size_t i = 1; i <= IZ_HISTO_BOUNDS; i++)
        assert_true(s.le[i] >= s.le[i - 1]);
    assert_true(s.sum > 70.0309 && s.sum < 70.0311); /* 0.0005 + 0.0005 + 0.03 + 10 + 60 */
    for (size_t i = 1; i < IZ_HISTO_BOUNDS; i++)
        assert_true(iz_histo_bounds[i] > iz_histo_bounds[i - 1]);
    assert_true(iz_histo_bounds[0] == 0.0005 && iz_histo_bounds[IZ_HISTO_BOUNDS - 1] == 10);
}

static void test_text(void **state)
{
    (void)state;
    iz_histo_t h = {0};
    iz_histo_observe(&h, 2000000); /* 2 ms */
    iz_histo_snap_t s;
    iz_histo_snapshot(&h, &s);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    iz_histo_write(f, "x_seconds", "route=\"check\"", &s);
    fclose(f);
    assert_non_null(strstr(out, "x_seconds_bucket{route=\"check\",le=\"0.001\"} 0\n"));
    assert_non_null(strstr(out, "x_seconds_bucket{route=\"check\",le=\"0.0025\"} 1\n"));
    assert_non_null(strstr(out, "x_seconds_bucket{route=\"check\",le=\"10\"} 1\n"));
    assert_non_null(strstr(out, "x_seconds_bucket{route=\"check\",le=\"+Inf\"} 1\n"));
    assert_non_null(strstr(out, "x_seconds_sum{route=\"check\"} 0.002000\n"));
    assert_non_null(strstr(out, "x_seconds_count{route=\"check\"} 1\n"));
    size_t lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, IZ_HISTO_BOUNDS + 3);
    free(out);
    out = NULL;
    f = open_memstream(&out, &len);
    iz_histo_write(f, "y", "", &s);
    fclose(f);
    assert_non_null(strstr(out, "y_bucket{le=\"0.0005\"} 0\n"));
    assert_non_null(strstr(out, "y_sum 0.002000\ny_count 1\n"));
    free(out);
}

#define THREADS 4
#define EACH 100000

static void *observer(void *arg)
{
    iz_histo_t *h = arg;
    for (uint64_t i = 0; i < EACH; i++)
        iz_histo_observe(h, (i % 16) * 1000000); /* 0..15 ms */
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    iz_histo_t h = {0};
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, observer, &h), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    iz_histo_snap_t s;
    iz_histo_snapshot(&h, &s);
    assert_int_equal(s.count, (uint64_t)THREADS * EACH);
    /* 0..15 ms, 16 values each EACH/16 times a thread: sum 120 ms * EACH/16 */
    double want = 0.120 * (EACH / 16) * THREADS;
    assert_true(s.sum > want - 1e-6 && s.sum < want + 1e-6);
    assert_int_equal(s.le[4], (uint64_t)THREADS * (EACH / 16) * 11); /* <= 10 ms: 0..10 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
