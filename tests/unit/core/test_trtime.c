/*
 * test_trtime.c - Turkey time parsing and formatting, the holiday table,
 * and the 3-business-day count around the real holidays of 2025 and 2026
 * (data/tr-holidays.csv, found through IZIN_HOLIDAYS).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/iz.h"
#include "core/trtime.h"

/* Epoch of a Turkey-time "YYYY-MM-DD HH:MM:SS", failing the test if bad. */
static int64_t tr(const char *s)
{
    int64_t e = 0;
    const char *code = NULL;
    if (iz_tr_parse(s, strlen(s), &e, &code) != IZ_OK) fail_msg("bad test date '%s' (%s)", s, code);
    return e;
}

static int64_t day_of(const char *ymd)
{
    int64_t e = 0;
    if (iz_tr_parse_date(ymd, &e) != IZ_OK) fail_msg("bad test date '%s'", ymd);
    return iz_tr_day(e);
}

static int load_table(void **state)
{
    const char *path = getenv("IZIN_HOLIDAYS");
    iz_holidays_t *h = NULL;
    if (!path) path = "data/tr-holidays.csv";
    if (iz_holidays_load(path, &h) != IZ_OK) return -1;
    *state = h;
    return 0;
}

static int free_table(void **state)
{
    iz_holidays_free(*state);
    return 0;
}

static void test_parse_ok(void **state)
{
    int64_t e = -1;
    (void)state;
    assert_int_equal(iz_tr_parse("2015-05-01 00:00:00", 19, &e, NULL), IZ_OK);
    assert_true(e == IZ_EPOCH_2015);
    assert_true(tr("1970-01-01 03:00:00") == 0);
    assert_true(tr("1970-01-01 00:00:00") == -IZ_TR_OFFSET);
    assert_true(tr("2026-03-20 12:34:56") == 1773999296LL);
    assert_true(tr("2024-02-29 23:59:59") == tr("2024-03-01 00:00:00") - 1);
    assert_true(tr("2000-02-29 00:00:00") + 86400 == tr("2000-03-01 00:00:00"));
    assert_true(tr("2025-12-31 23:59:59") + 1 == tr("2026-01-01 00:00:00"));
    assert_true(tr("9999-12-31 23:59:59") == 253402300799LL - IZ_TR_OFFSET);
    /* not NUL-terminated: only len bytes are read */
    assert_int_equal(iz_tr_parse("2025-01-01 10:00:00xyz", 19, &e, NULL), IZ_OK);
    assert_true(e == tr("2025-01-01 10:00:00"));
}

static void test_parse_bad(void **state)
{
    static const struct {
        const char *s, *code;
    } t[] = {
        /* H158: not the format */
        {"", "H158"},
        {"2025-01-01", "H158"},
        {"2025-01-01T10:00:00", "H158"},
        {"2025-01-01 10:00", "H158"},
        {"2025-01-01 10:00:00.000", "H158"},
        {"2025-01-01 10:00:00Z", "H158"},
        {"2025/01/01 10:00:00", "H158"},
        {"01-01-2025 10:00:00", "H158"},
        {"2025-1-01 10:00:00", "H158"},
        {"2025-01-1 10:00:00", "H158"},
        {"2025-01-01  0:00:00", "H158"},
        {" 2025-01-01 10:00:00", "H158"},
        {"2025-01-01 10:00:00 ", "H158"},
        {"+025-01-01 10:00:00", "H158"},
        {"-025-01-01 10:00:00", "H158"},
        {"2025-01-01 10:00:0a", "H158"},
        {"2025-01-01 1O:00:00", "H158"},
        {"2025-01-01 10-00-00", "H158"},
        {"2025-01-01\t10:00:00", "H158"},
        {"20250101 100000", "H158"},
        {"1430427600", "H158"},
        /* H157: the format, but no such date or time */
        {"2025-13-01 10:00:00", "H157"},
        {"2025-00-10 10:00:00", "H157"},
        {"2025-01-00 10:00:00", "H157"},
        {"2025-01-32 10:00:00", "H157"},
        {"2025-04-31 10:00:00", "H157"},
        {"2025-06-31 10:00:00", "H157"},
        {"2025-02-29 10:00:00", "H157"},
        {"2100-02-29 10:00:00", "H157"},
        {"2024-02-30 10:00:00", "H157"},
        {"2025-01-01 24:00:00", "H157"},
        {"2025-01-01 23:60:00", "H157"},
        {"2025-01-01 23:59:60", "H157"},
        {"2025-01-01 99:99:99", "H157"},
    };
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(t); i++) {
        int64_t e = 12345;
        const char *code = "unset";
        if (iz_tr_parse(t[i].s, strlen(t[i].s), &e, &code) != IZ_EINVAL)
            fail_msg("'%s' accepted", t[i].s);
        if (strcmp(code, t[i].code) != 0) fail_msg("'%s': %s, wanted %s", t[i].s, code, t[i].code);
        assert_true(e == 12345); /* untouched on failure */
    }
    assert_int_equal(iz_tr_parse(NULL, 19, NULL, NULL), IZ_EINVAL);
    assert_int_equal(iz_tr_parse("2025-01-01\0"
                                 "10:00:00",
                                 19, NULL, NULL),
                     IZ_EINVAL);
}

static void test_format(void **state)
{
    char out[IZ_DATETIME_LEN];
    (void)state;
    iz_tr_format(IZ_EPOCH_2015, out);
    assert_string_equal(out, "2015-05-01 00:00:00");
    iz_tr_format(0, out);
    assert_string_equal(out, "1970-01-01 03:00:00");
    iz_tr_format(-1 - IZ_TR_OFFSET, out);
    assert_string_equal(out, "1969-12-31 23:59:59");
    iz_tr_format(tr("2024-02-29 21:05:09"), out);
    assert_string_equal(out, "2024-02-29 21:05:09");
    iz_tr_format(INT64_MAX, out);
    assert_string_equal(out, "9999-12-31 23:59:59");
    iz_tr_format(INT64_MIN, out);
    assert_string_equal(out, "0000-01-01 00:00:00");

    /* round trip across leap years and centuries, odd seconds included */
    for (int64_t e = -2208988800LL; e < 4102444800LL; e += 7919 * 37) {
        int64_t back = 0;
        iz_tr_format(e, out);
        assert_int_equal(strlen(out), IZ_DATETIME_LEN - 1);
        assert_int_equal(iz_tr_parse(out, strlen(out), &back, NULL), IZ_OK);
        assert_true(back == e);
    }
}

static void test_parse_date_and_day(void **state)
{
    int64_t e = 0;
    (void)state;
    assert_int_equal(iz_tr_parse_date("2026-03-20", &e), IZ_OK);
    assert_true(e == tr("2026-03-20 00:00:00"));
    assert_int_equal(iz_tr_parse_date("2026-02-30", &e), IZ_EINVAL);
    assert_int_equal(iz_tr_parse_date("2026-03-2", &e), IZ_EINVAL);
    assert_int_equal(iz_tr_parse_date("2026-03-201", &e), IZ_EINVAL);
    assert_int_equal(iz_tr_parse_date("2026-03-20 ", &e), IZ_EINVAL);
    assert_int_equal(iz_tr_parse_date("", &e), IZ_EINVAL);
    assert_int_equal(iz_tr_parse_date(NULL, &e), IZ_EINVAL);

    assert_true(iz_tr_day(0) == 0);
    assert_true(iz_tr_day(-IZ_TR_OFFSET) == 0);      /* 1970-01-01 00:00 TR */
    assert_true(iz_tr_day(-IZ_TR_OFFSET - 1) == -1); /* 1969-12-31 23:59:59 TR */
    /* 21:00 UTC is already the next day in Turkey */
    assert_true(iz_tr_day(tr("2025-01-03 00:00:00")) == day_of("2025-01-03"));
    assert_true(iz_tr_day(tr("2025-01-03 23:59:59")) == day_of("2025-01-03"));
    assert_true(iz_tr_day(tr("2025-01-04 00:00:00")) == day_of("2025-01-03") + 1);
    (void)iz_tr_day(INT64_MAX); /* must not overflow */
    (void)iz_tr_day(INT64_MIN);
}

static void test_holidays_parse_inline(void **state)
{
    static const char csv[] = "\xEF\xBB\xBF"
                              "date,name,kind\r\n"
                              "2026-03-20,Ramazan Bayramı 1. gün,full\r\n"
                              "\r\n"
                              "2026-03-19,\"Arife, \"\"yarım\"\" gün\",half\n"
                              "2026-04-02,\"İdari izin - kamu (tam gün)\",admin\n"
                              "2026-03-23,\"Bir gün, iki kayıt\",half\n"
                              "2026-03-23,İkinci kayıt,full\n"
                              "2026-03-24,\"\",admin\n"
                              "2026-03-25,Sonsuz satır sonu yok,full";
    iz_holidays_t *h = NULL;
    (void)state;
    assert_int_equal(iz_holidays_parse(csv, sizeof(csv) - 1, &h), IZ_OK);
    assert_non_null(h);
    assert_int_equal(iz_holidays_count(h), 7);
    assert_false(iz_is_business_day(h, day_of("2026-03-20")));
    assert_true(iz_is_business_day(h, day_of("2026-03-19")));  /* half */
    assert_true(iz_is_business_day(h, day_of("2026-04-02")));  /* admin */
    assert_false(iz_is_business_day(h, day_of("2026-03-23"))); /* half + full */
    assert_true(iz_is_business_day(h, day_of("2026-03-24")));
    assert_false(iz_is_business_day(h, day_of("2026-03-25")));
    assert_true(iz_is_business_day(h, day_of("2026-03-26")));
    assert_false(iz_is_business_day(h, day_of("2026-03-21"))); /* Saturday */
    iz_holidays_free(h);

    /* a header alone is an empty table */
    assert_int_equal(iz_holidays_parse("date,name,kind\n", 15, &h), IZ_OK);
    assert_int_equal(iz_holidays_count(h), 0);
    assert_true(iz_is_business_day(h, day_of("2026-03-20")));
    iz_holidays_free(h);
}

static void test_holidays_parse_bad(void **state)
{
    static const char *const bad[] = {
        "",
        "date,name\n",
        "tarih,isim,tur\n2026-01-01,Yılbaşı,full\n",
        "date,name,kind\n2026-01-01,Yılbaşı,tam\n",
        "date,name,kind\n2026-01-01,Yılbaşı,Full\n",
        "date,name,kind\n2026-01-01,Yılbaşı\n",
        "date,name,kind\n2026-01-01,Yılbaşı,full,extra\n",
        "date,name,kind\n2026-02-30,Yok,full\n",
        "date,name,kind\n2026-1-01,Yılbaşı,full\n",
        "date,name,kind\n2026-01-01 ,Yılbaşı,full\n",
        "date,name,kind\n2026-01-01,\"açık tırnak,full\n",
        "date,name,kind\n2026-01-01,\"x\"y,full\n",
        "date,name,kind\n2026-01-01,a\"b,full\n",
        "date,name,kind\n2026-01-01,Yılbaşı,full\n,,\n",
    };
    iz_holidays_t *h = (iz_holidays_t *)1;
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(bad); i++) {
        if (iz_holidays_parse(bad[i], strlen(bad[i]), &h) != IZ_EINVAL)
            fail_msg("accepted: %s", bad[i]);
        assert_null(h);
    }
    {
        /* an over-long name field */
        static char big[4096];
        size_t n = (size_t)snprintf(big, sizeof(big), "date,name,kind\n2026-01-01,");
        memset(big + n, 'x', 2000);
        memcpy(big + n + 2000, ",full\n", 6);
        assert_int_equal(iz_holidays_parse(big, n + 2006, &h), IZ_EINVAL);
    }
    assert_int_equal(iz_holidays_load("/nonexistent/tr-holidays.csv", &h), IZ_EIO);
    assert_null(h);
}

static void test_real_table(void **state)
{
    const iz_holidays_t *h = *state;
    assert_int_equal(iz_holidays_count(h), 199);
    /* full holidays */
    assert_false(iz_is_business_day(h, day_of("2026-01-01")));
    assert_false(iz_is_business_day(h, day_of("2026-03-20")));
    assert_false(iz_is_business_day(h, day_of("2025-10-29")));
    assert_false(iz_is_business_day(h, day_of("2025-07-15")));
    /* half days (arife) and admin days are working days */
    assert_true(iz_is_business_day(h, day_of("2026-03-19")));
    assert_true(iz_is_business_day(h, day_of("2025-10-28")));
    assert_true(iz_is_business_day(h, day_of("2025-04-02")));
    assert_true(iz_is_business_day(h, day_of("2024-06-20")));
    /* 2021-07-19: both half and admin, still a working day */
    assert_true(iz_is_business_day(h, day_of("2021-07-19")));
    /* weekends */
    assert_false(iz_is_business_day(h, day_of("2026-03-21")));
    assert_false(iz_is_business_day(h, day_of("2026-03-22")));
    assert_true(iz_is_business_day(h, day_of("2026-03-23")));
    /* NULL table: weekends only */
    assert_true(iz_is_business_day(NULL, day_of("2026-03-20")));
    assert_false(iz_is_business_day(NULL, day_of("2026-03-21")));
}

static void test_deadlines(void **state)
{
    const iz_holidays_t *h = *state;
    static const struct {
        const char *consent, *deadline;
    } t[] = {
        /* a Friday consent: until Wednesday 23:59:59 */
        {"2025-01-03 00:00:00", "2025-01-08 23:59:59"},
        {"2025-01-03 23:59:59", "2025-01-08 23:59:59"},
        /* a weekend consent counts from Monday */
        {"2025-01-04 10:00:00", "2025-01-08 23:59:59"},
        {"2025-01-05 10:00:00", "2025-01-08 23:59:59"},
        {"2025-01-06 10:00:00", "2025-01-09 23:59:59"},
        /* Ramazan Bayramı 2026: arife Thu 19 (half, working), Fri 20 full */
        {"2026-03-17 09:00:00", "2026-03-23 23:59:59"},
        {"2026-03-18 09:00:00", "2026-03-24 23:59:59"},
        {"2026-03-19 09:00:00", "2026-03-25 23:59:59"},
        {"2026-03-20 09:00:00", "2026-03-25 23:59:59"},
        /* Ramazan Bayramı 2025: Mon 31 and Tue 1 full, Wed-Fri admin days */
        {"2025-03-28 15:00:00", "2025-04-04 23:59:59"},
        /* Kurban Bayramı 2025: Fri 6 and Mon 9 full */
        {"2025-06-04 12:00:00", "2025-06-11 23:59:59"},
        /* Kurban Bayramı 2026: arife Tue 26, Wed 27 - Sat 30 full */
        {"2026-05-22 12:00:00", "2026-06-01 23:59:59"},
        {"2026-05-25 12:00:00", "2026-06-02 23:59:59"},
        {"2026-05-26 12:00:00", "2026-06-03 23:59:59"},
        /* Cumhuriyet Bayramı 2025: arife Tue 28 half, Wed 29 full */
        {"2025-10-27 12:00:00", "2025-10-31 23:59:59"},
        /* 15 Temmuz 2025 (Tuesday) */
        {"2025-07-14 12:00:00", "2025-07-18 23:59:59"},
        /* across the new year */
        {"2025-12-31 12:00:00", "2026-01-06 23:59:59"},
    };
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(t); i++) {
        char got[IZ_DATETIME_LEN];
        iz_tr_format(iz_bizday_deadline(h, tr(t[i].consent)), got);
        if (strcmp(got, t[i].deadline) != 0)
            fail_msg("consent %s: deadline %s, wanted %s", t[i].consent, got, t[i].deadline);
    }
    /* without a table only weekends count: the Friday of the bayram works */
    {
        char got[IZ_DATETIME_LEN];
        iz_tr_format(iz_bizday_deadline(NULL, tr("2026-03-18 09:00:00")), got);
        assert_string_equal(got, "2026-03-23 23:59:59");
    }
}

static void test_bizdays_between(void **state)
{
    const iz_holidays_t *h = *state;
    (void)state;
    assert_int_equal(iz_bizdays_between(h, tr("2025-01-03 10:00:00"), tr("2025-01-03 23:00:00")),
                     0);
    assert_int_equal(iz_bizdays_between(h, tr("2025-01-03 10:00:00"), tr("2025-01-02 10:00:00")),
                     0);
    assert_int_equal(iz_bizdays_between(h, tr("2025-01-03 10:00:00"), tr("2025-01-08 00:00:00")),
                     3);
    assert_int_equal(iz_bizdays_between(h, tr("2026-03-18 10:00:00"), tr("2026-03-24 10:00:00")),
                     3);
    assert_int_equal(iz_bizdays_between(NULL, tr("2026-03-18 10:00:00"), tr("2026-03-24 10:00:00")),
                     4);
    /* whole years: 261 weekdays less 10 full holidays on weekdays */
    assert_int_equal(iz_bizdays_between(h, tr("2024-12-31 12:00:00"), tr("2025-12-31 12:00:00")),
                     251);
    assert_int_equal(iz_bizdays_between(h, tr("2025-12-31 12:00:00"), tr("2026-12-31 12:00:00")),
                     251);
    assert_int_equal(iz_bizdays_between(NULL, tr("2024-12-31 12:00:00"), tr("2025-12-31 12:00:00")),
                     261);
    /* the arithmetic agrees with walking day by day, 1969 to 2031 */
    {
        int64_t from = tr("1969-12-20 08:00:00");
        int64_t d0 = iz_tr_day(from);
        int walked = 0;
        for (int64_t d = d0 + 1; d < d0 + 22700; d++) {
            walked += iz_is_business_day(h, d);
            if (d % 97 == 0)
                assert_int_equal(iz_bizdays_between(h, from, (d - d0) * 86400 + from), walked);
        }
    }
    /* the deadline is the end of the day on which the count reaches 3 */
    for (int64_t d = day_of("2025-01-01"); d < day_of("2027-01-01"); d++) {
        int64_t c = d * 86400 - IZ_TR_OFFSET + 3600 * 11;
        int64_t dl = iz_bizday_deadline(h, c);
        assert_int_equal(iz_bizdays_between(h, c, dl), 3);
        assert_int_equal(iz_bizdays_between(h, c, dl - 86400), 2);
        assert_true(iz_is_business_day(h, iz_tr_day(dl)));
        assert_true(iz_tr_day(dl + 1) == iz_tr_day(dl) + 1);
    }
    assert_true(iz_bizdays_between(NULL, INT64_MIN / 2, INT64_MAX / 2) > 0);
}

static void test_empty_table(void **state)
{
    iz_holidays_t *h = iz_holidays_empty();
    (void)state;
    assert_non_null(h);
    assert_int_equal(iz_holidays_count(h), 0);
    assert_int_equal(iz_holidays_count(NULL), 0);
    assert_true(iz_bizday_deadline(h, tr("2025-01-03 10:00:00")) == tr("2025-01-08 23:59:59"));
    iz_holidays_free(h);
    iz_holidays_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_parse_date_and_day),
        cmocka_unit_test(test_holidays_parse_inline),
        cmocka_unit_test(test_holidays_parse_bad),
        cmocka_unit_test(test_empty_table),
        cmocka_unit_test_setup_teardown(test_real_table, load_table, free_table),
        cmocka_unit_test_setup_teardown(test_deadlines, load_table, free_table),
        cmocka_unit_test_setup_teardown(test_bizdays_between, load_table, free_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
