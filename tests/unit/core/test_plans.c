/*
 * test_plans.c - the plans file's strict reader (good files, every kind of
 * bad line with its number), the built-in sample, and the VAT arithmetic in
 * kuruş.
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
#include "core/plans.h"
#include "core/plans_data.h"

static iz_plans_t p;

static int parse(const char *text, int *line, char *err)
{
    return iz_plans_parse(text, strlen(text), &p, line, err, 160);
}

static void test_good(void **state)
{
    (void)state;
    int line;
    char err[160];
    assert_int_equal(parse("# yorum\n\n  a | Başlangıç | 5.000 | 1500 # fiyat\r\n"
                           "b_2|KOBİ|25,000|3500.5\n"
                           "c | Bizi arayın | - | -",
                           &line, err),
                     0);
    assert_int_equal(p.n, 3);
    assert_string_equal(p.plan[0].code, "a");
    assert_string_equal(p.plan[0].name, "Başlangıç");
    assert_int_equal(p.plan[0].limit, 5000);
    assert_int_equal(p.plan[0].price_kurus, 150000);
    assert_int_equal(p.plan[1].limit, 25000);
    assert_int_equal(p.plan[1].price_kurus, 350050);
    assert_int_equal(p.plan[2].limit, 0);
    assert_int_equal(p.plan[2].price_kurus, -1);
    assert_ptr_equal(iz_plans_find(&p, "b_2"), &p.plan[1]);
    assert_null(iz_plans_find(&p, "B_2"));
    char codes[64];
    iz_plans_codes(&p, codes, sizeof codes);
    assert_string_equal(codes, "a, b_2, c");
}

static void test_bad(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int line;
        const char *why;
    } t[] = {
        {"", 1, "no plan"},
        {"# only a comment\n", 1, "no plan"},
        {"a | A | 1\n", 1, "four fields"},
        {"a | A | 1 | 1 | 1\n", 1, "four fields"},
        {"ok | A | 1 | 1\nA | B | 1 | 1\n", 2, "code"},
        {"ok | A | 1 | 1\n\nok | B | 1 | 1\n", 3, "already"},
        {"a |  | 1 | 1\n", 1, "name"},
        {"a | A | 0 | 1\n", 1, "limit"},
        {"a | A | -5 | 1\n", 1, "limit"},
        {"a | A | 1.00 | 1\n", 1, "limit"},
        {"a | A | 1.0000 | 1\n", 1, "limit"},
        {"a | A | 99999999999999999999 | 1\n", 1, "limit"},
        {"a | A | on | 1\n", 1, "limit"},
        {"a | A | 1 | 1,50\n", 1, "price"},
        {"a | A | 1 | 1.505\n", 1, "price"},
        {"a | A | 1 | 1.\n", 1, "price"},
        {"a | A | 1 | .5\n", 1, "price"},
        {"a | A | 1 | 99999999999999999999\n", 1, "price"},
        /* 17 digits pass the reading's bound, but not ×100 into kuruş. */
        {"a | A | 1 | 92233720368547759\n", 1, "price"},
        {"a | A | 1 | 9223372036854775.9\n", 1, "price"},
        {"a | A\x01 | 1 | 1\n", 1, "control"},
        {"a | A\xC3 | 1 | 1\n", 1, "UTF-8"},
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(t); i++) {
        int line = -1;
        char err[160];
        if (parse(t[i].text, &line, err) != IZ_EINVAL) fail_msg("'%s' was taken", t[i].text);
        if (line != t[i].line || !strstr(err, t[i].why))
            fail_msg("'%s': line %d '%s', wanted line %d '%s'", t[i].text, line, err, t[i].line,
                     t[i].why);
    }
}

static void test_builtin_sample(void **state)
{
    (void)state;
    int line;
    char err[160];
    assert_int_equal(iz_plans_parse(iz_plans_conf, (size_t)(iz_plans_conf_end - iz_plans_conf), &p,
                                    &line, err, sizeof err),
                     0);
    /* the market's tiers, "call us" above, and the demo's */
    static const int64_t limits[] = {1000, 5000, 25000, 75000, 150000, 250000, 0};
    assert_int_equal(p.n, IZ_ARRAY_LEN(limits));
    for (size_t i = 0; i < p.n; i++)
        assert_int_equal(p.plan[i].limit, limits[i]);
    assert_non_null(iz_plans_find(&p, "demo"));
    assert_int_equal(iz_plans_find(&p, "bizi-arayin")->price_kurus, -1);
}

static void test_vat(void **state)
{
    (void)state;
    assert_int_equal(iz_plan_with_vat(150000), 180000); /* 1500.00 -> 1800.00 */
    assert_int_equal(iz_plan_with_vat(10005), 12006);   /* 100.05 -> 120.06 exactly */
    assert_int_equal(iz_plan_with_vat(1), 1);           /* 0.012 -> 0.01 */
    assert_int_equal(iz_plan_with_vat(3), 4);           /* 0.036 -> 0.04 */
    assert_int_equal(iz_plan_with_vat(0), 0);
    assert_int_equal(iz_plan_with_vat(-1), -1);
    char s[32];
    iz_money_format(12006, s);
    assert_string_equal(s, "120.06");
    iz_money_format(5, s);
    assert_string_equal(s, "0.05");
    iz_money_format(-1, s);
    assert_string_equal(s, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_builtin_sample),
        cmocka_unit_test(test_vat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
