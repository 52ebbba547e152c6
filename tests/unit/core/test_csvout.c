/*
 * test_csvout.c - RFC 4180 field quoting: which fields are quoted, how, and
 * that every field reads back as it was (a small RFC 4180 reader here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/csvout.h"

static void test_quoting(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", ""},
        {"+905321234567", "+905321234567"},
        {"ali@example.com", "ali@example.com"},
        {"İğüşçö ı", "İğüşçö ı"}, /* UTF-8 is written as it is */
        {"a;b", "a;b"},           /* a semicolon needs no quotes */
        {" x ", " x "},           /* nor blanks: they are part of the field */
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"\"", "\"\"\"\""},
        {"two\nlines", "\"two\nlines\""},
        {"cr\rhere", "\"cr\rhere\""},
        {"\"a,b\"@example.com", "\"\"\"a,b\"\"@example.com\""},
        /* what a spreadsheet runs as a formula is guarded (CWE-1236) */
        {"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
        {"=1+1", "\"'=1+1\""},
        {"@SUM(A1)", "\"'@SUM(A1)\""},
        {"+cmd|' /C calc'!A0", "\"'+cmd|' /C calc'!A0\""},
        {"-2+3", "\"'-2+3\""},
        {"\tx", "\"'\tx\""},
        {"\rx", "\"'\rx\""},
        /* a number with its sign is none */
        {"+90 532 123 45 67", "+90 532 123 45 67"},
        {"-12.5", "-12.5"},
        {"+", "+"},
        {"a=b", "a=b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].in);
        char out[64];
        size_t k = iz_csv_field(out, cases[i].in, n);
        assert_true(k <= IZ_CSV_FIELD_MAX(n));
        out[k] = '\0';
        assert_string_equal(out, cases[i].out);
        assert_int_equal(iz_csv_needs_quotes(cases[i].in, n),
                         strcmp(cases[i].in, cases[i].out) != 0);
    }
    /* the bound holds for the worst field: a formula of quotes */
    char q[10], out[IZ_CSV_FIELD_MAX(10)];
    memset(q, '"', sizeof q);
    q[0] = '=';
    assert_int_equal(iz_csv_field(out, q, sizeof q), IZ_CSV_FIELD_MAX(10));
    memset(q, '"', sizeof q);
    assert_int_equal(iz_csv_field(out, q, sizeof q), IZ_CSV_FIELD_MAX(10));
}

/* Read one RFC 4180 field from s[0..n) into out; returns its length, or
 * (size_t)-1 when s is not exactly one field. */
static size_t read_field(const char *s, size_t n, char *out)
{
    size_t k = 0;
    if (n == 0 || s[0] != '"') {
        for (size_t i = 0; i < n; i++) {
            if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n') return (size_t)-1;
            out[k++] = s[i];
        }
        return k;
    }
    size_t i = 1;
    for (;;) {
        if (i >= n) return (size_t)-1;
        if (s[i] == '"') {
            if (i + 1 == n) return k;
            if (s[i + 1] != '"') return (size_t)-1;
            i++;
        }
        out[k++] = s[i++];
    }
}

static void test_reads_back(void **state)
{
    (void)state;
    static const char alphabet[] = "ab,\"\r\n; =+-1@";
    uint64_t r = 42;
    for (int round = 0; round < 20000; round++) {
        char in[24], field[IZ_CSV_FIELD_MAX(24)], back[25];
        size_t n = (size_t)(round % 24);
        for (size_t i = 0; i < n; i++) {
            r = r * 6364136223846793005u + 1442695040888963407u;
            in[i] = alphabet[(r >> 33) % (sizeof alphabet - 1)];
        }
        size_t k = iz_csv_field(field, in, n);
        /* a formula-like field (here: one that begins with a CR) reads
         * back with its guard */
        size_t g = iz_csv_formula_like(in, n) ? 1 : 0;
        assert_int_equal(read_field(field, k, back), n + g);
        if (g) assert_int_equal(back[0], '\'');
        assert_memory_equal(back + g, in, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_reads_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
