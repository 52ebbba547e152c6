/*
 * test_enums.c - the İYS enum spellings (exact, case-sensitive, round trip)
 * and the shared helpers of core/iz.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/enums.h"
#include "core/iz.h"

static void test_types(void **state)
{
    static const char *const names[] = {"ARAMA", "MESAJ", "EPOSTA"};
    iz_type_t v;
    (void)state;
    for (int i = 1; i <= 3; i++) {
        assert_string_equal(iz_type_name((iz_type_t)i), names[i - 1]);
        assert_int_equal(iz_type_parse(names[i - 1], &v), IZ_OK);
        assert_int_equal(v, i);
    }
    assert_int_equal(IZ_ARAMA, 1);
    assert_null(iz_type_name(IZ_TYPE_NONE));
    assert_null(iz_type_name((iz_type_t)4));
    assert_null(iz_type_name((iz_type_t)-1));
    v = IZ_MESAJ;
    assert_int_equal(iz_type_parse("mesaj", &v), IZ_EINVAL);
    assert_int_equal(iz_type_parse("SMS", &v), IZ_EINVAL);
    assert_int_equal(iz_type_parse("", &v), IZ_EINVAL);
    assert_int_equal(iz_type_parse("MESAJ ", &v), IZ_EINVAL);
    assert_int_equal(iz_type_parse(NULL, &v), IZ_EINVAL);
    assert_int_equal(v, IZ_MESAJ); /* untouched */
}

static void test_status_rtype(void **state)
{
    iz_status_t s;
    iz_rtype_t r;
    (void)state;
    assert_string_equal(iz_status_name(IZ_ONAY), "ONAY");
    assert_string_equal(iz_status_name(IZ_RET), "RET");
    assert_null(iz_status_name(IZ_STATUS_NONE));
    assert_int_equal(iz_status_parse("RET", &s), IZ_OK);
    assert_int_equal(s, IZ_RET);
    assert_int_equal(iz_status_parse("Onay", &s), IZ_EINVAL);
    assert_int_equal(iz_status_parse("RED", &s), IZ_EINVAL);

    assert_string_equal(iz_rtype_name(IZ_BIREYSEL), "BIREYSEL");
    assert_string_equal(iz_rtype_name(IZ_TACIR), "TACIR");
    assert_null(iz_rtype_name((iz_rtype_t)3));
    assert_int_equal(iz_rtype_parse("TACIR", &r), IZ_OK);
    assert_int_equal(r, IZ_TACIR);
    assert_int_equal(iz_rtype_parse("BİREYSEL", &r), IZ_EINVAL);
    assert_int_equal(iz_rtype_parse("KURUMSAL", &r), IZ_EINVAL);
}

static void test_sources(void **state)
{
    static const char *const hs[] = {
        "HS_FIZIKSEL_ORTAM", "HS_ISLAK_IMZA",    "HS_ETKINLIK",     "HS_ATM",
        "HS_EORTAM",         "HS_WEB",           "HS_MOBIL",        "HS_MESAJ",
        "HS_EPOSTA",         "HS_CAGRI_MERKEZI", "HS_SOSYAL_MEDYA", "HS_2015",
        "HS_KARAR"};
    static const char *const iys[] = {
        "IYS_CM",        "IYS_WEB",    "IYS_WEB_YENI",        "IYS_MOBIL",
        "IYS_KISAMESAJ", "IYS_EPOSTA", "IYS_AHS_HAT_KAPATMA", "IYS_FRAME_EPOSTA",
        "IYS_FRAME_SMS"};
    iz_source_t v;
    int seen = 0;
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(hs); i++) {
        assert_int_equal(iz_source_parse(hs[i], &v), IZ_OK);
        assert_string_equal(iz_source_name(v), hs[i]);
        assert_true(iz_source_is_hs(v));
        seen++;
    }
    for (size_t i = 0; i < IZ_ARRAY_LEN(iys); i++) {
        assert_int_equal(iz_source_parse(iys[i], &v), IZ_OK);
        assert_string_equal(iz_source_name(v), iys[i]);
        assert_false(iz_source_is_hs(v));
        seen++;
    }
    /* every value has a name, and the lists above are complete */
    assert_int_equal(seen, IZ_SOURCE_COUNT_ - 1);
    for (int i = 1; i < IZ_SOURCE_COUNT_; i++) {
        iz_source_t back;
        assert_non_null(iz_source_name((iz_source_t)i));
        assert_int_equal(iz_source_parse(iz_source_name((iz_source_t)i), &back), IZ_OK);
        assert_int_equal(back, i);
    }
    assert_null(iz_source_name(IZ_SOURCE_NONE));
    assert_null(iz_source_name(IZ_SOURCE_COUNT_));
    assert_false(iz_source_is_hs(IZ_SOURCE_NONE));
    assert_false(iz_source_is_hs(IZ_SOURCE_COUNT_));
    assert_int_equal(iz_source_parse("HS_TACIR", &v), IZ_EINVAL);
    assert_int_equal(iz_source_parse("HS_FIZIKSEL_MAGAZA", &v), IZ_EINVAL);
    assert_int_equal(iz_source_parse("hs_web", &v), IZ_EINVAL);
    assert_int_equal(iz_source_parse("HS_", &v), IZ_EINVAL);
}

static void test_origin_state(void **state)
{
    static const char *const origins[] = {"API", "BULK", "SMS", "URL", "PANEL", "IYS"};
    static const char *const states[] = {"PENDING", "SENT", "ACCEPTED", "REJECTED", "LOCAL"};
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(origins); i++) {
        iz_origin_t o;
        assert_int_equal(iz_origin_parse(origins[i], &o), IZ_OK);
        assert_int_equal(o, (int)i + 1);
        assert_string_equal(iz_origin_name(o), origins[i]);
    }
    for (size_t i = 0; i < IZ_ARRAY_LEN(states); i++) {
        iz_iys_state_t s;
        assert_int_equal(iz_iys_state_parse(states[i], &s), IZ_OK);
        assert_int_equal(s, (int)i + 1);
        assert_string_equal(iz_iys_state_name(s), states[i]);
    }
    iz_origin_t o = IZ_ORIGIN_API;
    iz_iys_state_t s = IZ_IYS_LOCAL;
    assert_int_equal(iz_origin_parse("api", &o), IZ_EINVAL);
    assert_int_equal(iz_iys_state_parse("local", &s), IZ_EINVAL);
    assert_null(iz_origin_name(IZ_ORIGIN_NONE));
    assert_null(iz_origin_name((iz_origin_t)7));
    assert_null(iz_iys_state_name(IZ_IYS_NONE));
    assert_null(iz_iys_state_name((iz_iys_state_t)6));
}

/* ---- core/iz.h ---- */

static void test_strerror(void **state)
{
    static const int rcs[] = {IZ_OK,  IZ_REPEAT, IZ_ENOMEM, IZ_EINVAL,  IZ_ENOTFOUND,   IZ_EEXIST,
                              IZ_EIO, IZ_ERULE,  IZ_EBUSY,  IZ_ETOOBIG, IZ_EUNSUPPORTED};
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(rcs); i++) {
        assert_non_null(iz_strerror(rcs[i]));
        assert_string_not_equal(iz_strerror(rcs[i]), "unknown error");
    }
    assert_string_equal(iz_strerror(-1000), "unknown error");
}

static void test_strlcpy(void **state)
{
    char b[6];
    (void)state;
    assert_int_equal(iz_strlcpy(b, "abc", sizeof(b)), IZ_OK);
    assert_string_equal(b, "abc");
    assert_int_equal(iz_strlcpy(b, "abcde", sizeof(b)), IZ_OK);
    assert_string_equal(b, "abcde");
    assert_int_equal(iz_strlcpy(b, "abcdef", sizeof(b)), IZ_ETOOBIG);
    assert_string_equal(b, "abcde");
    assert_int_equal(iz_strlcpy(b, "", sizeof(b)), IZ_OK);
    assert_string_equal(b, "");
    assert_int_equal(iz_strlcpy(b, "x", 0), IZ_ETOOBIG);
    assert_int_equal(iz_strlcpy(b, "x", 1), IZ_ETOOBIG);
    assert_string_equal(b, "");
}

static void test_parse_i64(void **state)
{
    static const struct {
        const char *s;
        int64_t min, max;
        int rc;
        int64_t want;
    } t[] = {
        {"0", 0, 10, IZ_OK, 0},
        {"10", 0, 10, IZ_OK, 10},
        {"007", 0, 10, IZ_OK, 7},
        {"-5", -10, 10, IZ_OK, -5},
        {"-0", -10, 10, IZ_OK, 0},
        {"9223372036854775807", INT64_MIN, INT64_MAX, IZ_OK, INT64_MAX},
        {"-9223372036854775808", INT64_MIN, INT64_MAX, IZ_OK, INT64_MIN},
        {"9223372036854775808", INT64_MIN, INT64_MAX, IZ_EINVAL, 0},
        {"-9223372036854775809", INT64_MIN, INT64_MAX, IZ_EINVAL, 0},
        {"99999999999999999999999", INT64_MIN, INT64_MAX, IZ_EINVAL, 0},
        {"18446744073709551626", INT64_MIN, INT64_MAX, IZ_EINVAL, 0},
        {"11", 0, 10, IZ_EINVAL, 0},
        {"-1", 0, 10, IZ_EINVAL, 0},
        {"", 0, 10, IZ_EINVAL, 0},
        {"-", 0, 10, IZ_EINVAL, 0},
        {"+5", 0, 10, IZ_EINVAL, 0},
        {" 5", 0, 10, IZ_EINVAL, 0},
        {"5 ", 0, 10, IZ_EINVAL, 0},
        {"5\n", 0, 10, IZ_EINVAL, 0},
        {"0x5", 0, 10, IZ_EINVAL, 0},
        {"5.0", 0, 10, IZ_EINVAL, 0},
        {"1e3", 0, 10000, IZ_EINVAL, 0},
        {"--5", -10, 10, IZ_EINVAL, 0},
        {"5", 10, 0, IZ_EINVAL, 0},
    };
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(t); i++) {
        int64_t v = 4242;
        int rc = iz_parse_i64(t[i].s, t[i].min, t[i].max, &v);
        if (rc != t[i].rc) fail_msg("'%s': rc %d, wanted %d", t[i].s, rc, t[i].rc);
        if (rc == IZ_OK && v != t[i].want) fail_msg("'%s': got %lld", t[i].s, (long long)v);
        if (rc != IZ_OK && v != 4242) fail_msg("'%s': out changed on failure", t[i].s);
    }
    int64_t v;
    assert_int_equal(iz_parse_i64(NULL, 0, 1, &v), IZ_EINVAL);
    assert_int_equal(iz_parse_i64("1", 0, 1, NULL), IZ_EINVAL);
}

static void test_alloc_and_wipe(void **state)
{
    char secret[16] = "hunter2-hunter2";
    char *p;
    (void)state;
    p = iz_xstrndup("abcdef", 3);
    assert_string_equal(p, "abc");
    free(p);
    p = iz_xstrndup("ab", 10);
    assert_string_equal(p, "ab");
    free(p);
    p = iz_xstrdup("");
    assert_string_equal(p, "");
    free(p);
    p = iz_xmalloc(0);
    assert_non_null(p);
    p = iz_xrealloc(p, 64);
    memset(p, 1, 64);
    free(p);
    p = iz_xcalloc(8, 8);
    for (int i = 0; i < 64; i++)
        assert_int_equal(p[i], 0);
    free(p);
    iz_wipe(secret, sizeof(secret));
    for (size_t i = 0; i < sizeof(secret); i++)
        assert_int_equal(secret[i], 0);
    iz_wipe(NULL, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),     cmocka_unit_test(test_status_rtype),
        cmocka_unit_test(test_sources),   cmocka_unit_test(test_origin_state),
        cmocka_unit_test(test_strerror),  cmocka_unit_test(test_strlcpy),
        cmocka_unit_test(test_parse_i64), cmocka_unit_test(test_alloc_and_wipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
