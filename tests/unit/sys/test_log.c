/*
 * test_log.c - structured log lines: the logfmt shape, escaping of every
 * %s value (a forged line or pair is impossible), numbers as printf writes
 * them, and the cut=1 mark on an over-long line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sys/log.h"

static char line[IZ_LOG_LINE_MAX + 1];

static const char *fmt_line(size_t size, iz_log_level_t lvl, const char *comp, const char *msg,
                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    iz__log_format(line, size, 1764647264123LL, lvl, comp, msg, fmt, ap);
    va_end(ap);
    return line;
}

static void test_shape(void **state)
{
    (void)state;
    const char *l = fmt_line(sizeof line, IZ_LOG_WARN, "sync", "İYS refused a change",
                             "id=%lld code=%s n=%zu ratio=%.2f", 42LL, "H174", (size_t)7, 0.5);
    assert_string_equal(l, "time=2025-12-02T03:47:44.123Z level=warn comp=sync "
                           "msg=\"İYS refused a change\" id=42 code=H174 n=7 ratio=0.50");
    l = fmt_line(sizeof line, IZ_LOG_INFO, "x", NULL, "a=%d b=%ld c=%u d=%x e=%05lld f=%zu g=%c",
                 -5, -70000L, 3000000000u, 255u, -42LL, (size_t)18446744073709551615ull, 'q');
    assert_non_null(strstr(l, "a=-5 b=-70000 c=3000000000 d=ff e=-0042 f=18446744073709551615 g=q"));
}

static void test_escaping(void **state)
{
    (void)state;
    /* A path with a newline cannot start a second line; a quote or '='
     * cannot make a pair of its own. */
    const char *l = fmt_line(sizeof line, IZ_LOG_INFO, "http", NULL, "path=%s ua=%s empty=%s",
                             "/v1/x\nlevel=error forged=1", "a \"b\" c=d\\", "");
    assert_null(strchr(l, '\n'));
    assert_string_equal(l, "time=2025-12-02T03:47:44.123Z level=info comp=http "
                           "path=\"/v1/x\\nlevel=error forged=1\" ua=\"a \\\"b\\\" c=d\\\\\" "
                           "empty=\"\"");
    l = fmt_line(sizeof line, IZ_LOG_ERROR, "x", "m", "b=%s", "\x01\x1b[31m\x7f");
    assert_non_null(strstr(l, "b=\"\\x01\\x1b[31m\\x7f\""));
    /* UTF-8 passes as it is; a NULL string is named. */
    l = fmt_line(sizeof line, IZ_LOG_INFO, "x", NULL, "v=%s w=%s", "Öteki", (const char *)NULL);
    assert_non_null(strstr(l, "v=Öteki w=(null)"));
    /* A bounded piece of a string. */
    l = fmt_line(sizeof line, IZ_LOG_INFO, "x", NULL, "p=%.*s q=%.3s", 4, "abcdefgh", "xyz!");
    assert_non_null(strstr(l, "p=abcd q=xyz"));
}

static void test_cut(void **state)
{
    (void)state;
    char big[600];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    const char *l = fmt_line(200, IZ_LOG_INFO, "x", NULL, "v=%s", big);
    size_t n = strlen(l);
    assert_true(n < 200);
    assert_string_equal(l + n - 6, " cut=1");
}

static void test_levels(void **state)
{
    (void)state;
    iz_log_level_t lv;
    assert_int_equal(iz_log_level_parse("warn", &lv), 0);
    assert_int_equal(lv, IZ_LOG_WARN);
    assert_int_equal(iz_log_level_parse("loud", &lv), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_cut),
        cmocka_unit_test(test_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
