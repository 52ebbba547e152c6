/*
 * test_recipient.c - phone and e-mail normalization: every Turkish way of
 * writing a number, foreign numbers, every refusal code, and the e-mail
 * rules of İYS at their edges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/iz.h"
#include "core/recipient.h"

typedef struct {
    const char *in;
    const char *want; /* normalized value, or NULL when refused */
    const char *code; /* H-code when refused */
} case_t;

/* Run one case through fn-like dispatch: kind 'p' phone, 'e' e-mail, or a
 * type for iz_recipient_normalize. */
static void check(const case_t *c, int kind, iz_type_t type)
{
    char out[IZ_RECIPIENT_MAX];
    const char *code = "unset";
    int rc;

    memset(out, 'x', sizeof(out));
    if (kind == 'p')
        rc = iz_phone_normalize(c->in, strlen(c->in), out, &code);
    else if (kind == 'e')
        rc = iz_email_normalize(c->in, strlen(c->in), out, &code);
    else
        rc = iz_recipient_normalize(c->in, strlen(c->in), type, out, &code);

    if (c->want) {
        if (rc != IZ_OK) fail_msg("'%s': refused with %s, wanted %s", c->in, code, c->want);
        if (strcmp(out, c->want) != 0) fail_msg("'%s': got '%s', wanted '%s'", c->in, out, c->want);
        /* A normalized value normalizes to itself. */
        if (kind == 'p' || (kind == 0 && type != IZ_EPOSTA && c->want[0] == '+')) {
            char again[IZ_PHONE_MAX];
            assert_int_equal(iz_phone_normalize(out, strlen(out), again, NULL), IZ_OK);
            assert_string_equal(again, out);
        } else {
            char again[IZ_RECIPIENT_MAX];
            assert_int_equal(iz_email_normalize(out, strlen(out), again, NULL), IZ_OK);
            assert_string_equal(again, out);
        }
    } else {
        if (rc != IZ_EINVAL) fail_msg("'%s': accepted as '%s', wanted %s", c->in, out, c->code);
        if (strcmp(code, c->code) != 0) fail_msg("'%s': code %s, wanted %s", c->in, code, c->code);
        if (out[0] != '\0') fail_msg("'%s': out not emptied on failure", c->in);
    }
}

static const case_t phones_ok[] = {
    /* +90 */
    {"+905321234567", "+905321234567", NULL},
    {"+90 532 123 45 67", "+905321234567", NULL},
    {"+90 (532) 123-45-67", "+905321234567", NULL},
    {"+90-532-123-4567", "+905321234567", NULL},
    {"  +90 532 123 45 67  ", "+905321234567", NULL},
    /* 0090 */
    {"00905321234567", "+905321234567", NULL},
    {"0090 532 123 45 67", "+905321234567", NULL},
    /* 90 with 12 digits */
    {"905321234567", "+905321234567", NULL},
    {"90 532 123 4567", "+905321234567", NULL},
    /* trunk 0 */
    {"05321234567", "+905321234567", NULL},
    {"0532 123 45 67", "+905321234567", NULL},
    {"(0532) 123-4567", "+905321234567", NULL},
    {"0532.123.45.67", "+905321234567", NULL},
    {"0532/123 45 67", "+905321234567", NULL},
    {"\t0532\t1234567", "+905321234567", NULL},
    {"0 (532) 123 45 67", "+905321234567", NULL},
    /* 10 digits */
    {"5321234567", "+905321234567", NULL},
    {"532 123 45 67", "+905321234567", NULL},
    {"(532) 1234567", "+905321234567", NULL},
    /* the wrong form with a trunk 0 after the country code, repaired */
    {"+9005321234567", "+905321234567", NULL},
    {"+90 0532 123 45 67", "+905321234567", NULL},
    {"+900 532 123 45 67", "+905321234567", NULL},
    {"0090 0532 123 45 67", "+905321234567", NULL},
    {"9005321234567", "+905321234567", NULL},
    /* landlines and non-geographic numbers */
    {"02121234567", "+902121234567", NULL},
    {"2161234567", "+902161234567", NULL},
    {"0312 123 45 67", "+903121234567", NULL},
    {"+90 412 123 45 67", "+904121234567", NULL},
    {"0850 123 45 67", "+908501234567", NULL},
    {"0 850 123 45 67", "+908501234567", NULL},
    {"+905991234567", "+905991234567", NULL},
    /* other countries */
    {"+4915112345678", "+4915112345678", NULL},
    {"+49 151 1234 5678", "+4915112345678", NULL},
    {"0049 151 1234 567", "+491511234567", NULL},
    {"+1 (212) 555-0100", "+12125550100", NULL},
    {"+44 20 7946 0958", "+442079460958", NULL},
    {"+44123456", "+44123456", NULL},
    {"+99412345678901", "+99412345678901", NULL},
};

static const case_t phones_bad[] = {
    /* H121: not a number */
    {"abc", NULL, "H121"},
    {"0532 123 45 6x", NULL, "H121"},
    {"0532_1234567", NULL, "H121"},
    {"0532 123 45 67 dahili 2", NULL, "H121"},
    {"0532\n1234567", NULL, "H121"},
    {"0532\xc2\xa0"
     "1234567",
     NULL, "H121"}, /* no-break space */
    {"+", NULL, "H121"},
    {"---", NULL, "H121"},
    {" ", NULL, "H121"},
    {"()", NULL, "H121"},
    {"++905321234567", NULL, "H121"},
    {"90+5321234567", NULL, "H121"},
    {"0532+1234567", NULL, "H121"},
    {"#05321234567", NULL, "H121"},
    {"0532 123 45 67;", NULL, "H121"},
    /* H121: the wrong number of digits, or not a Turkish national number */
    {"532123456", NULL, "H121"},
    {"53212345678", NULL, "H121"},
    {"053212345678", NULL, "H121"},
    {"0532123456", NULL, "H121"},
    {"+90 532 123 45 6", NULL, "H121"},
    {"+90 532 123 45 678", NULL, "H121"},
    {"+90532123456789", NULL, "H121"},
    {"90532123456", NULL, "H121"},
    {"6321234567", NULL, "H121"},
    {"1234567890", NULL, "H121"},
    {"9321234567", NULL, "H121"},
    {"0632 123 45 67", NULL, "H121"},
    {"0132 123 45 67", NULL, "H121"},
    {"+90 632 123 45 67", NULL, "H121"},
    {"+90 032 123 45 67", NULL, "H121"},
    {"+90 0632 123 45 67", NULL, "H121"},
    {"+9000532123456", NULL, "H121"},
    {"0090 632 123 45 67", NULL, "H121"},
    {"4441234", NULL, "H121"},
    {"3338", NULL, "H121"},
    {"4915112345678", NULL, "H121"},
    /* H121: foreign numbers out of shape */
    {"+4412345", NULL, "H121"},
    {"+0123456789", NULL, "H121"},
    {"000491511234567", NULL, "H121"},
    {"0044 1234", NULL, "H121"},
    /* H160: more than 15 characters once spaces and punctuation are gone */
    {"+123456789012345", NULL, "H160"},
    {"1234567890123456", NULL, "H160"},
    {"+90 532 123 45 67 89 01", NULL, "H160"},
    {"0049 151 1234 56789", NULL, "H160"},
    {"0532 123 45 67 0532 123", NULL, "H160"},
    {"00 90 0532 123 45 67 8", NULL, "H160"},
    /* H464: an e-mail address given as a phone */
    {"ali@example.com", NULL, "H464"},
    {"0532@1234567", NULL, "H464"},
    {"@", NULL, "H464"},
};

static void test_phone_accepted(void **state)
{
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(phones_ok); i++)
        check(&phones_ok[i], 'p', IZ_TYPE_NONE);
}

static void test_phone_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(phones_bad); i++)
        check(&phones_bad[i], 'p', IZ_TYPE_NONE);
}

/* Exactly 15 characters is allowed; the 0090 form of a Turkish number is 14. */
static void test_phone_length_bounds(void **state)
{
    char out[IZ_PHONE_MAX];
    const char *code = NULL;
    (void)state;
    assert_int_equal(iz_phone_normalize("+12345678901234", 15, out, &code), IZ_OK);
    assert_string_equal(out, "+12345678901234");
    assert_int_equal(strlen(out) + 1, IZ_PHONE_MAX);
    assert_int_equal(iz_phone_normalize("+123456789012345", 16, out, &code), IZ_EINVAL);
    assert_string_equal(code, "H160");
    assert_int_equal(iz_phone_normalize("00 90 0532 123 45 67", 20, out, &code), IZ_OK);
    assert_string_equal(out, "+905321234567");
}

/* Raw input over IZ_INPUT_MAX: H160 when it looks like a number, H121 or
 * H464 otherwise; only the first IZ_INPUT_MAX bytes are looked at. */
static void test_phone_huge_input(void **state)
{
    static char buf[IZ_INPUT_MAX * 4];
    char out[IZ_PHONE_MAX];
    const char *code = NULL;
    (void)state;

    memset(buf, '5', sizeof(buf));
    assert_int_equal(iz_phone_normalize(buf, sizeof(buf), out, &code), IZ_EINVAL);
    assert_string_equal(code, "H160");

    memset(buf, ' ', sizeof(buf)); /* spaces around a valid number */
    memcpy(buf + 10, "05321234567", 11);
    assert_int_equal(iz_phone_normalize(buf, IZ_INPUT_MAX, out, &code), IZ_OK);
    assert_string_equal(out, "+905321234567");
    assert_int_equal(iz_phone_normalize(buf, IZ_INPUT_MAX + 1, out, &code), IZ_EINVAL);
    assert_string_equal(code, "H160");

    memset(buf, 'a', sizeof(buf));
    assert_int_equal(iz_phone_normalize(buf, sizeof(buf), out, &code), IZ_EINVAL);
    assert_string_equal(code, "H121");
    buf[3] = '@';
    assert_int_equal(iz_phone_normalize(buf, sizeof(buf), out, &code), IZ_EINVAL);
    assert_string_equal(code, "H464");
}

/* The length is what counts, not a NUL: bytes after len are ignored and a
 * NUL inside len is refused. */
static void test_phone_not_nul_terminated(void **state)
{
    char out[IZ_PHONE_MAX];
    const char *code = NULL;
    (void)state;
    assert_int_equal(iz_phone_normalize("05321234567999", 11, out, &code), IZ_OK);
    assert_string_equal(out, "+905321234567");
    assert_int_equal(iz_phone_normalize("0532\0"
                                        "1234567",
                                        12, out, &code),
                     IZ_EINVAL);
    assert_string_equal(code, "H121");
    assert_int_equal(iz_phone_normalize("", 0, out, &code), IZ_EINVAL);
    assert_string_equal(code, "H121");
    assert_int_equal(iz_phone_normalize(NULL, 5, out, &code), IZ_EINVAL);
    /* hcode may be NULL */
    assert_int_equal(iz_phone_normalize("x", 1, out, NULL), IZ_EINVAL);
}

static const case_t emails_ok[] = {
    {"ali@example.com", "ali@example.com", NULL},
    {"Ali.Veli@Example.COM", "ali.veli@example.com", NULL},
    {"ALI@EXAMPLE.COM.TR", "ali@example.com.tr", NULL},
    {"ali+haber@example.com", "ali+haber@example.com", NULL},
    {"ali+haber+2@example.com.tr", "ali+haber+2@example.com.tr", NULL},
    {"a_b-c.d@sub.example.org", "a_b-c.d@sub.example.org", NULL},
    {"-ali@example.com", "-ali@example.com", NULL},
    {"_ali@example.com", "_ali@example.com", NULL},
    {".ali@example.com", ".ali@example.com", NULL},
    {"ali..veli@example.com", "ali..veli@example.com", NULL},
    {"ali--veli__x@example.com", "ali--veli__x@example.com", NULL},
    {"a@bc.de", "a@bc.de", NULL},
    {"123@example.com", "123@example.com", NULL},
    {"05321234567@example.com", "05321234567@example.com", NULL},
    {"ali@my-domain.com.tr", "ali@my-domain.com.tr", NULL},
    {"ali@x1.io", "ali@x1.io", NULL},
    {"ali@123.example.com", "ali@123.example.com", NULL},
    {"ali@xn--gzel-9ra.com", "ali@xn--gzel-9ra.com", NULL},
    {"ali@example.xn--p1ai", "ali@example.xn--p1ai", NULL},
};

static const case_t emails_bad[] = {
    /* H120 */
    {"ali@@example.com", NULL, "H120"},
    {"ali@veli@example.com", NULL, "H120"},
    {"ali @example.com", NULL, "H120"},
    {"ali@example .com", NULL, "H120"},
    {" ali@example.com", NULL, "H120"},
    {"ali@example.com ", NULL, "H120"},
    {"ali@example.com\n", NULL, "H120"},
    {"ali\t@example.com", NULL, "H120"},
    {"çağrı@example.com", NULL, "H120"},
    {"ali@örnek.com", NULL, "H120"},
    {"ALİ@example.com", NULL, "H120"},
    {"ışık@example.com", NULL, "H120"},
    {"ali@example", NULL, "H120"},
    {"ali@.com", NULL, "H120"},
    {"ali@example..com", NULL, "H120"},
    {"ali@example.com.", NULL, "H120"},
    {"ali@.example.com", NULL, "H120"},
    {"ali@-example.com", NULL, "H120"},
    {"ali@example-.com", NULL, "H120"},
    {"ali@exa_mple.com", NULL, "H120"},
    {"ali@exam+ple.com", NULL, "H120"},
    {"@example.com", NULL, "H120"},
    {"ali@", NULL, "H120"},
    {"ali@example.c", NULL, "H120"},
    {"ali@example.123", NULL, "H120"},
    {"ali@example.1a", NULL, "H120"},
    {"ali@1.2.3.4", NULL, "H120"},
    {"ali@[1.2.3.4]", NULL, "H120"},
    {"a@b.cd", NULL, "H120"}, /* {1}@{2}.{2}: the domain name is 1 character */
    {"a@bc.d", NULL, "H120"},
    {"a@b.c", NULL, "H120"},
    {"ali!@example.com", NULL, "H120"},
    {"ali'@example.com", NULL, "H120"},
    {"ali%x@example.com", NULL, "H120"},
    {"ali&veli@example.com", NULL, "H120"},
    {"ali=veli@example.com", NULL, "H120"},
    {"ali?@example.com", NULL, "H120"},
    {"ali,veli@example.com", NULL, "H120"},
    {"ali/veli@example.com", NULL, "H120"},
    {"{ali}@example.com", NULL, "H120"},
    {"\"ali\"@example.com", NULL, "H120"},
    {"ali@example.com,veli@example.com", NULL, "H120"},
    {"hello", NULL, "H120"},
    {"12345", NULL, "H120"},
    {"+90 532", NULL, "H120"},
    /* H464: a phone number given as an e-mail address */
    {"05321234567", NULL, "H464"},
    {"+90 532 123 45 67", NULL, "H464"},
    {"(0532) 123-4567", NULL, "H464"},
    {"+4915112345678", NULL, "H464"},
};

static void test_email_accepted(void **state)
{
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(emails_ok); i++)
        check(&emails_ok[i], 'e', IZ_TYPE_NONE);
}

static void test_email_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(emails_bad); i++)
        check(&emails_bad[i], 'e', IZ_TYPE_NONE);
}

/* 6 to 265 characters. With İYS's template {1}@{2}.{2} the shortest valid
 * address has 7, so 5 and 6 characters are refused and 7 accepted. */
static void test_email_length_bounds(void **state)
{
    char in[300], out[IZ_RECIPIENT_MAX];
    const char *code = NULL;
    const char *dom = "@example.com";
    size_t dl = strlen(dom);
    (void)state;

    for (size_t len = 264; len <= 267; len++) {
        memset(in, 'a', len - dl);
        memcpy(in + len - dl, dom, dl);
        in[len] = '\0';
        int rc = iz_email_normalize(in, len, out, &code);
        if (len <= 265) {
            assert_int_equal(rc, IZ_OK);
            assert_int_equal(strlen(out), len);
        } else {
            assert_int_equal(rc, IZ_EINVAL);
            assert_string_equal(code, "H120");
        }
    }
    /* 265 upper-case characters come out lower-cased and complete */
    memset(in, 'A', 265 - dl);
    memcpy(in + 265 - dl, "@EXAMPLE.COM", dl);
    assert_int_equal(iz_email_normalize(in, 265, out, &code), IZ_OK);
    assert_int_equal(out[0], 'a');
    assert_string_equal(out + 265 - dl, dom);

    assert_int_equal(iz_email_normalize("a@b.c", 5, out, &code), IZ_EINVAL);
    assert_int_equal(iz_email_normalize("a@b.cd", 6, out, &code), IZ_EINVAL);
    assert_int_equal(iz_email_normalize("a@bc.de", 7, out, &code), IZ_OK);
    assert_int_equal(iz_email_normalize("", 0, out, &code), IZ_EINVAL);
    assert_string_equal(code, "H120");
    assert_int_equal(iz_email_normalize("ali@example.com\0x", 17, out, &code), IZ_EINVAL);
    assert_string_equal(code, "H120");
}

static void test_recipient_by_type(void **state)
{
    static const struct {
        const char *in;
        iz_type_t type;
        const char *want, *code;
    } t[] = {
        {"0532 123 45 67", IZ_MESAJ, "+905321234567", NULL},
        {"0532 123 45 67", IZ_ARAMA, "+905321234567", NULL},
        {"0532 123 45 67", IZ_EPOSTA, NULL, "H464"},
        {"0532 123 45 67", IZ_TYPE_NONE, "+905321234567", NULL},
        {"Ali@Example.com", IZ_EPOSTA, "ali@example.com", NULL},
        {"Ali@Example.com", IZ_MESAJ, NULL, "H464"},
        {"Ali@Example.com", IZ_ARAMA, NULL, "H464"},
        {"Ali@Example.com", IZ_TYPE_NONE, "ali@example.com", NULL},
        {"abc", IZ_MESAJ, NULL, "H121"},
        {"abc", IZ_EPOSTA, NULL, "H120"},
        {"abc", IZ_TYPE_NONE, NULL, "H122"},
        {"ali@@example.com", IZ_TYPE_NONE, NULL, "H122"},
        {"+90 632 123 45 67", IZ_TYPE_NONE, NULL, "H122"},
        {"1234567890123456", IZ_TYPE_NONE, NULL, "H122"},
        {"1234567890123456", IZ_MESAJ, NULL, "H160"},
        {"abc", (iz_type_t)99, NULL, "H122"},
    };
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(t); i++) {
        case_t c = {t[i].in, t[i].want, t[i].code};
        check(&c, 0, t[i].type);
    }
}

static void test_phone_pack(void **state)
{
    (void)state;
    assert_true(iz_phone_pack("+905321234567") == 5321234567ULL);
    assert_true(iz_phone_pack("+902121234567") == 2121234567ULL);
    assert_true(iz_phone_pack("+908501234567") == 8501234567ULL);
    assert_true(iz_phone_pack("+4915112345678") == 0);
    assert_true(iz_phone_pack("+90532123456") == 0);
    assert_true(iz_phone_pack("+9053212345678") == 0);
    assert_true(iz_phone_pack("+90532123456a") == 0);
    assert_true(iz_phone_pack("05321234567") == 0);
    assert_true(iz_phone_pack("ali@example.com") == 0);
    assert_true(iz_phone_pack("") == 0);
    assert_true(iz_phone_pack(NULL) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phone_accepted),
        cmocka_unit_test(test_phone_refused),
        cmocka_unit_test(test_phone_length_bounds),
        cmocka_unit_test(test_phone_huge_input),
        cmocka_unit_test(test_phone_not_nul_terminated),
        cmocka_unit_test(test_email_accepted),
        cmocka_unit_test(test_email_refused),
        cmocka_unit_test(test_email_length_bounds),
        cmocka_unit_test(test_recipient_by_type),
        cmocka_unit_test(test_phone_pack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
