/*
 * test_progress.c - the progress display of long command-line jobs,
 * written into a memory stream under a clock the test moves: plain lines at
 * most every 2 s with the rate over the last seconds and the time left, an
 * unknown total, the terminal's line redrawn at most ten times a second and
 * never wider than the terminal, and the last line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/progress.h"

typedef struct fx {
    char *buf;
    size_t len;
    FILE *out;
    int64_t now;
} fx_t;

static int64_t fake_clock(void *ctx)
{
    return ((fx_t *)ctx)->now;
}

static int fx_up(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->out = open_memstream(&f->buf, &f->len);
    f->now = 1000000;
    *state = f;
    return f->out ? 0 : -1;
}

static int fx_down(void **state)
{
    fx_t *f = *state;
    fclose(f->out);
    free(f->buf);
    free(f);
    return 0;
}

static iz_progress_t *progress(fx_t *f, bool tty)
{
    iz_progress_t *p = iz_progress_new(f->out, tty);
    iz_progress_set_clock(p, fake_clock, f);
    return p;
}

/* What was written so far (the stream flushed). */
static const char *text(fx_t *f)
{
    fflush(f->out);
    return f->buf ? f->buf : "";
}

static size_t count(const char *s, char ch)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == ch;
    return n;
}

static void test_plain_lines(void **state)
{
    fx_t *f = *state;
    iz_progress_t *p = progress(f, false);
    /* 1000 rows every half second: 2000 rows/s */
    for (int i = 1; i <= 3; i++) {
        f->now += 500;
        iz_progress_update(p, 1000 * i, 10000, 1000 * i - i, i);
    }
    assert_string_equal(text(f), ""); /* nothing before 2 s */
    f->now += 500;
    iz_progress_update(p, 4000, 10000, 3990, 10);
    assert_string_equal(text(f), "processed=4000 total=10000 accepted=3990 rejected=10 "
                                 "rows_per_s=2000 eta_s=3\n");
    f->now += 500;
    iz_progress_update(p, 5000, 10000, 4990, 10);
    assert_int_equal(count(text(f), '\n'), 1); /* the next one only 2 s later */
    f->now += 1500;
    iz_progress_update(p, 8000, 10000, 7990, 10);
    assert_int_equal(count(text(f), '\n'), 2);
    assert_non_null(strstr(text(f), "\nprocessed=8000 total=10000 accepted=7990 rejected=10 "));
    /* the last line: the average of the whole run (10000 rows in 4.5 s) */
    f->now += 500;
    iz_progress_update(p, 10000, 10000, 9990, 10);
    iz_progress_done(p);
    assert_non_null(strstr(text(f), "\nprocessed=10000 total=10000 accepted=9990 rejected=10 "
                                    "rows_per_s=2222 eta_s=0\n"));
    assert_int_equal(count(text(f), '\n'), 3);
    assert_null(strchr(text(f), '\r'));
}

static void test_rate_follows_the_job(void **state)
{
    fx_t *f = *state;
    iz_progress_t *p = progress(f, false);
    /* 10 s at 1000 rows/s, then it stops: the rate over the last 5 s falls
     * to 0 and the time left is no longer known */
    int64_t n = 0;
    for (int i = 0; i < 40; i++) {
        f->now += 250;
        n += 250;
        iz_progress_update(p, n, 100000, n, 0);
    }
    assert_non_null(strstr(text(f), "processed=10000 total=100000 accepted=10000 rejected=0 "
                                    "rows_per_s=1000 eta_s=90\n"));
    for (int i = 0; i < 24; i++) {
        f->now += 250;
        iz_progress_update(p, n, 100000, n, 0);
    }
    assert_non_null(strstr(text(f), "processed=10000 total=100000 accepted=10000 rejected=0 "
                                    "rows_per_s=0 eta_s=unknown\n"));
    /* and it picks up again */
    for (int i = 0; i < 24; i++) {
        f->now += 250;
        n += 1000;
        iz_progress_update(p, n, 100000, n, 0);
    }
    assert_non_null(strstr(text(f), "rows_per_s=4000 eta_s="));
    iz_progress_done(p);
}

static void test_unknown_total(void **state)
{
    fx_t *f = *state;
    iz_progress_t *p = progress(f, false);
    f->now += 2000;
    iz_progress_update(p, 500, -1, 490, 10);
    assert_string_equal(text(f), "processed=500 total=unknown accepted=490 rejected=10 "
                                 "rows_per_s=250 eta_s=unknown\n");
    iz_progress_done(p);
}

static void test_no_update_no_output(void **state)
{
    fx_t *f = *state;
    iz_progress_done(progress(f, false));
    iz_progress_done(progress(f, true));
    iz_progress_done(NULL);
    assert_string_equal(text(f), "");
}

static void test_terminal_line(void **state)
{
    fx_t *f = *state;
    iz_progress_t *p = progress(f, true);
    /* an update every 10 ms for 1 s: drawn at once, then at most every
     * 100 ms */
    for (int i = 1; i <= 100; i++) {
        f->now += 10;
        iz_progress_update(p, 1000 * i, 200000, 1000 * i, 0);
    }
    const char *t = text(f);
    assert_int_equal(t[0], '\r');
    assert_in_range(count(t, '\r'), 10, 11);
    assert_null(strchr(t, '\n'));
    /* the last drawn line (at 91,000 rows; 80 columns, so the brief words):
     * a bar, the percentage, counts, rate, time left */
    const char *line = strrchr(t, '\r') + 1;
    assert_int_equal(line[0], '[');
    assert_non_null(strstr(line, "#-"));
    assert_non_null(strstr(line, "] 45% 91000/200.0k "));
    assert_non_null(strstr(line, "/s ETA 0:0"));
    assert_non_null(strstr(line, " ok 91000 rej 0"));
    assert_true(strlen(line) <= 79);
    /* the bar keeps its width while the numbers grow */
    long width = -1;
    for (const char *d = strchr(t, '\r'); d; d = strchr(d + 1, '\r')) {
        assert_int_equal(d[1], '[');
        long w = strchr(d, ']') - d;
        if (width < 0) width = w;
        assert_int_equal(w, width);
    }

    /* a shorter line blanks what is left of the longer one */
    f->now += 200;
    iz_progress_update(p, 100000, 200000, 99000, 1000);
    f->now += 200;
    iz_progress_update(p, 100000, -1, 1, 0);
    line = strrchr(text(f), '\r') + 1;
    assert_true(strncmp(line, "100.0k rows  ", 13) == 0); /* the full words fit */
    assert_non_null(strstr(line, " rows/s  accepted 1  rejected 0 "));
    assert_null(strchr(line, '['));
    assert_null(strchr(line, '%'));
    assert_true(line[strlen(line) - 1] == ' ');

    /* the end: 100% with the time taken, and a newline */
    f->now += 200;
    iz_progress_update(p, 200000, 200000, 199000, 1000);
    iz_progress_done(p);
    t = text(f);
    assert_int_equal(t[strlen(t) - 1], '\n');
    line = strrchr(t, '\r') + 1;
    assert_non_null(strstr(line, "###] 100% 200.0k/200.0k "));
    assert_null(strstr(line, "-]"));
    assert_non_null(strstr(line, "/s in 0:01 ok 199.0k rej 1000"));
    assert_int_equal(strspn(strstr(line, "rej 1000") + 8, " "),
                     strlen(strstr(line, "rej 1000") + 8) - 1);
    assert_true(strlen(line) <= 80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plain_lines, fx_up, fx_down),
        cmocka_unit_test_setup_teardown(test_rate_follows_the_job, fx_up, fx_down),
        cmocka_unit_test_setup_teardown(test_unknown_total, fx_up, fx_down),
        cmocka_unit_test_setup_teardown(test_no_update_no_output, fx_up, fx_down),
        cmocka_unit_test_setup_teardown(test_terminal_line, fx_up, fx_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
