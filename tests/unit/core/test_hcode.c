/*
 * test_hcode.c - the H-code table: sorted, complete for the codes izin
 * uses, İYS's statuses, Turkish messages written with Turkish letters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/hcode.h"
#include "core/iz.h"

static void test_sorted_and_well_formed(void **state)
{
    size_t n = 0;
    const iz_hcode_t *t = iz_hcode_table(&n);
    (void)state;
    assert_true(n > 70);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(t[i].code);
        assert_non_null(t[i].tr);
        assert_non_null(t[i].en);
        assert_true(strlen(t[i].tr) > 5);
        assert_true(strlen(t[i].en) > 5);
        assert_true(t[i].http >= 400 && t[i].http <= 599);
        /* H and 3 digits; ViA's and ViA Pass's codes have 4 (H1000 ...) */
        assert_true((t[i].code[0] == 'H' && (strlen(t[i].code) == 4 || strlen(t[i].code) == 5)) ||
                    (strncmp(t[i].code, "IZ", 2) == 0 &&
                     (strlen(t[i].code) == 5 || strlen(t[i].code) == 6)));
        if (i > 0 && strcmp(t[i - 1].code, t[i].code) >= 0)
            fail_msg("table not sorted at %s", t[i].code);
        assert_ptr_equal(iz_hcode(t[i].code), &t[i]);
        assert_int_equal(iz_hcode_http(t[i].code), t[i].http);
        /* an IZ code's HTTP status is in its name: IZ422, or IZ4221 for one
         * of several distinct 422s */
        if (t[i].code[0] == 'I') {
            char want[8];
            snprintf(want, sizeof(want), "IZ%d", t[i].http);
            assert_memory_equal(t[i].code, want, 5);
        }
    }
}

static void test_codes_izin_uses(void **state)
{
    static const struct {
        const char *code;
        int http;
    } t[] = {
        {"H001", 404},  {"H014", 400},  {"H015", 500},  {"H018", 404},  {"H083", 429},
        {"H084", 429},  {"H085", 400},  {"H086", 429},  {"H089", 429},  {"H091", 422},
        {"H092", 400},  {"H097", 400},  {"H110", 422},  {"H111", 422},  {"H112", 422},
        {"H113", 422},  {"H114", 422},  {"H115", 422},  {"H116", 422},  {"H117", 422},
        {"H118", 422},  {"H119", 422},  {"H120", 422},  {"H121", 422},  {"H122", 422},
        {"H124", 429},  {"H125", 422},  {"H155", 422},  {"H156", 422},  {"H157", 422},
        {"H158", 422},  {"H160", 422},  {"H162", 422},  {"H164", 422},  {"H166", 422},
        {"H168", 422},  {"H170", 422},  {"H174", 400},  {"H175", 400},  {"H178", 400},
        {"H182", 422},  {"H183", 422},  {"H186", 422},  {"H187", 422},  {"H190", 422},
        {"H191", 422},  {"H193", 422},  {"H194", 422},  {"H198", 422},  {"H199", 422},
        {"H351", 401},  {"H353", 403},  {"H400", 422},  {"H408", 422},  {"H462", 400},
        {"H463", 400},  {"H464", 422},  {"H467", 422},  {"H478", 422},  {"H486", 400},
        {"H506", 422},  {"H507", 422},  {"H520", 403},  {"H521", 403},  {"H524", 403},
        {"H525", 422},  {"IZ400", 400}, {"IZ401", 401}, {"IZ404", 404}, {"IZ405", 405},
        {"IZ413", 413}, {"IZ415", 415}, {"IZ429", 429}, {"IZ500", 500}, {"IZ503", 503},
        {"H093", 422},  {"H127", 422},  {"H192", 503},  {"H530", 422},  {"H531", 422},
        {"IZ409", 409}, {"IZ422", 422},
    };
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(t); i++) {
        const iz_hcode_t *h = iz_hcode(t[i].code);
        if (!h) fail_msg("%s missing", t[i].code);
        if (h->http != t[i].http) fail_msg("%s: %d, wanted %d", t[i].code, h->http, t[i].http);
    }
}

/* Every code the source uses - a string literal "Hnnn" or "IZnnn" in any
 * file under src/ - has its entry: the same fault must answer the same
 * code with its status and message everywhere, never a default. The test
 * runs from the project's root (make unit). */
static void scan_file(const char *path, int *missing, int *seen)
{
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("cannot read %s", path);
    char line[4096];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        for (char *p = strchr(line, '"'); p; p = strchr(p + 1, '"')) {
            size_t n = 0;
            if (p[1] == 'H')
                n = 1;
            else if (p[1] == 'I' && p[2] == 'Z')
                n = 2;
            else
                continue;
            size_t d = 0;
            while (p[1 + n + d] >= '0' && p[1 + n + d] <= '9')
                d++;
            if (!(d == 3 || (n == 2 && d == 4)) || p[1 + n + d] != '"') continue;
            char code[8];
            memcpy(code, p + 1, n + d);
            code[n + d] = '\0';
            (*seen)++;
            if (!iz_hcode(code)) {
                print_message("%s:%d: %s is not in the code table\n", path, lineno, code);
                (*missing)++;
            }
        }
    }
    fclose(f);
}

static void test_every_code_in_src(void **state)
{
    (void)state;
    FILE *p = popen("find src -name '*.c' -o -name '*.h'", "r");
    assert_non_null(p);
    char path[1024];
    int missing = 0, seen = 0, files = 0;
    while (fgets(path, sizeof path, p)) {
        path[strcspn(path, "\n")] = '\0';
        scan_file(path, &missing, &seen);
        files++;
    }
    pclose(p);
    assert_true(files > 50); /* it did read the tree */
    assert_true(seen > 150); /* the codes the handlers and rules use */
    assert_int_equal(missing, 0);
}

static void test_messages(void **state)
{
    (void)state;
    /* İYS's words, verbatim */
    assert_string_equal(iz_hcode("H175")->tr,
                        "İlk defa kaydedilen bir iznin durum (status) bilgisi RET olmamalıdır.");
    assert_string_equal(iz_hcode("H467")->tr, "Üç iş günü öncesinde alınan izinler kaydedilemez.");
    assert_string_equal(iz_hcode("H120")->tr,
                        "Alıcı (recipient) kabul edilemedi. Geçerli bir eposta adresi giriniz.");
    assert_string_equal(iz_hcode("H001")->tr, "Hizmet sağlayıcı bulunamadı.");
    assert_non_null(strstr(iz_hcode("H121")->tr, "+905992000000"));
    assert_non_null(strstr(iz_hcode("H155")->tr, "2015-05-01 00:00:00"));
    /* Turkish letters, not their ASCII look-alikes */
    assert_non_null(strstr(iz_hcode("H114")->tr, "Alıcı"));
    assert_non_null(strstr(iz_hcode("IZ400")->tr, "İstek"));
    assert_non_null(strstr(iz_hcode("H174")->en, "status"));
}

static void test_unknown(void **state)
{
    (void)state;
    assert_null(iz_hcode("H999"));
    assert_null(iz_hcode("h121"));
    assert_null(iz_hcode("H12"));
    assert_null(iz_hcode(""));
    assert_null(iz_hcode(NULL));
    assert_int_equal(iz_hcode_http("H999"), 500);
    assert_int_equal(iz_hcode_http(NULL), 500);
    size_t n = 0;
    assert_non_null(iz_hcode_table(NULL));
    (void)iz_hcode_table(&n);
    assert_true(n > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sorted_and_well_formed),
        cmocka_unit_test(test_codes_izin_uses),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_every_code_in_src),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
