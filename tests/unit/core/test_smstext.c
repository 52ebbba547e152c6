/*
 * test_smstext.c - SMS encodings and part counts at their exact limits
 * (160/161, 155/156, 70/71, escapes and surrogate pairs at a part's end),
 * the Turkish letters of the national single shift table, invalid UTF-8,
 * keyword folding, and the opt-out instruction's wording and detection.
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
#include "core/smstext.h"

/* A text built from pieces: "a*160" repeats "a" 160 times. */
typedef struct {
    const char *piece;
    int times;
} rep_t;

static char *build(const rep_t *reps)
{
    size_t n = 1;
    for (const rep_t *r = reps; r->piece; r++)
        n += strlen(r->piece) * (size_t)r->times;
    char *s = malloc(n);
    s[0] = '\0';
    for (const rep_t *r = reps; r->piece; r++)
        for (int i = 0; i < r->times; i++)
            strcat(s, r->piece);
    return s;
}

typedef struct {
    const char *name;
    rep_t reps[4];
    unsigned flags;
    iz_sms_enc_t enc;
    size_t units;
    size_t parts;
} enc_case_t;

#define A(n)                                                                                       \
    {                                                                                              \
        "a", n                                                                                     \
    }
#define END                                                                                        \
    {                                                                                              \
        NULL, 0                                                                                    \
    }

static const enc_case_t enc_cases[] = {
    {"empty", {END}, 0, IZ_SMS_GSM7, 0, 1},
    {"gsm 1", {A(1), END}, 0, IZ_SMS_GSM7, 1, 1},
    {"gsm 160", {A(160), END}, 0, IZ_SMS_GSM7, 160, 1},
    {"gsm 161", {A(161), END}, 0, IZ_SMS_GSM7, 161, 2},
    {"gsm 306", {A(306), END}, 0, IZ_SMS_GSM7, 306, 2},
    {"gsm 307", {A(307), END}, 0, IZ_SMS_GSM7, 307, 3},
    {"gsm 1530", {A(1530), END}, 0, IZ_SMS_GSM7, 1530, 10},
    {"gsm 1531", {A(1531), END}, 0, IZ_SMS_GSM7, 1531, 11},
    {"euro 80 = 160 septets", {{"€", 80}, END}, 0, IZ_SMS_GSM7, 160, 1},
    {"euro 80 + a", {{"€", 80}, A(1), END}, 0, IZ_SMS_GSM7, 161, 2},
    {"escape at 159", {A(158), {"^", 1}, END}, 0, IZ_SMS_GSM7, 160, 1},
    {"escape at 160", {A(159), {"{", 1}, END}, 0, IZ_SMS_GSM7, 161, 2},
    /* 152 + 2 does not fit 153: the escape starts part 2, and part 2
     * (2 + 152) overflows into a third; plain division would say 2 */
    {"escape not split", {A(152), {"€", 1}, A(152), END}, 0, IZ_SMS_GSM7, 306, 3},
    {"extension set", {{"^{}\\[~]|€\f", 1}, END}, 0, IZ_SMS_GSM7, 20, 1},
    {"default accents",
     {{"@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", 1}, END},
     0,
     IZ_SMS_GSM7,
     42,
     1},
    {"cr lf", {{"a\r\nb", 1}, END}, 0, IZ_SMS_GSM7, 4, 1},
    {"Ç default, ç shift", {{"Ç", 1}, END}, 0, IZ_SMS_GSM7, 1, 1},
    {"ç", {{"ç", 1}, END}, 0, IZ_SMS_GSM7_TR, 2, 1},
    {"Turkish letters", {{"ĞğİıŞşç", 1}, END}, 0, IZ_SMS_GSM7_TR, 14, 1},
    {"Turkish + euro", {{"ş€", 1}, END}, 0, IZ_SMS_GSM7_TR, 4, 1},
    {"ö ü are default", {{"öüÖÜ", 1}, END}, 0, IZ_SMS_GSM7, 4, 1},
    {"tr 155", {A(153), {"ı", 1}, END}, 0, IZ_SMS_GSM7_TR, 155, 1},
    {"tr 156", {A(154), {"ı", 1}, END}, 0, IZ_SMS_GSM7_TR, 156, 2},
    {"tr ş×77", {{"ş", 77}, END}, 0, IZ_SMS_GSM7_TR, 154, 1},
    {"tr ş×78", {{"ş", 78}, END}, 0, IZ_SMS_GSM7_TR, 156, 2},
    {"tr 298", {A(296), {"ğ", 1}, END}, 0, IZ_SMS_GSM7_TR, 298, 2},
    {"tr 299", {A(297), {"ğ", 1}, END}, 0, IZ_SMS_GSM7_TR, 299, 3},
    {"tr shift not split", {A(148), {"İ", 1}, A(148), END}, 0, IZ_SMS_GSM7_TR, 298, 3},
    {"tr off: ş is UCS2", {{"ş", 1}, END}, IZ_SMSTEXT_NO_TR_SHIFT, IZ_SMS_UCS2, 1, 1},
    {"tr off: gsm stays", {A(5), END}, IZ_SMSTEXT_NO_TR_SHIFT, IZ_SMS_GSM7, 5, 1},
    {"tr off: ş×70", {{"ş", 70}, END}, IZ_SMSTEXT_NO_TR_SHIFT, IZ_SMS_UCS2, 70, 1},
    {"backtick", {{"`", 1}, END}, 0, IZ_SMS_UCS2, 1, 1},
    {"ucs2 70", {{"й", 70}, END}, 0, IZ_SMS_UCS2, 70, 1},
    {"ucs2 71", {{"й", 71}, END}, 0, IZ_SMS_UCS2, 71, 2},
    {"ucs2 134", {{"й", 134}, END}, 0, IZ_SMS_UCS2, 134, 2},
    {"ucs2 135", {{"й", 135}, END}, 0, IZ_SMS_UCS2, 135, 3},
    {"Turkish + Cyrillic", {{"şй", 1}, END}, 0, IZ_SMS_UCS2, 2, 1},
    {"emoji counts 2", {{"😀", 35}, END}, 0, IZ_SMS_UCS2, 70, 1},
    {"emoji 36", {{"😀", 36}, END}, 0, IZ_SMS_UCS2, 72, 2},
    {"surrogates not split", {{"й", 66}, {"😀", 1}, {"й", 66}, END}, 0, IZ_SMS_UCS2, 134, 3},
    /* Kannel 1.4.5 cuts UCS-2 every 67 units, a surrogate pair included
     * (seen at its fake SMSC): the same text is 2 parts there */
    {"kannel: surrogate on the boundary", {{"й", 66}, {"😀", 1}, {"й", 66}, END},
     IZ_SMSTEXT_SPLIT_SURROGATES, IZ_SMS_UCS2, 134, 2},
    {"kannel: 135 units", {{"й", 66}, {"😀", 1}, {"й", 67}, END},
     IZ_SMSTEXT_SPLIT_SURROGATES, IZ_SMS_UCS2, 135, 3},
    {"kannel: one part is 70", {{"😀", 35}, END}, IZ_SMSTEXT_SPLIT_SURROGATES, IZ_SMS_UCS2, 70, 1},
    {"kannel: ş×66 😀 ş×66", {{"ş", 66}, {"😀", 1}, {"ş", 66}, END},
     IZ_SMSTEXT_NO_TR_SHIFT | IZ_SMSTEXT_SPLIT_SURROGATES, IZ_SMS_UCS2, 134, 2},
    {"kannel: GSM-7 unchanged", {A(152), {"{", 1}, A(152), END}, IZ_SMSTEXT_SPLIT_SURROGATES,
     IZ_SMS_GSM7, 306, 3},
};

static void test_encodings(void **state)
{
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(enc_cases); i++) {
        const enc_case_t *c = &enc_cases[i];
        char *t = build(c->reps);
        iz_smstext_info_t info;
        int rc = iz_smstext_analyze(t, strlen(t), c->flags, &info);
        if (rc != 0) fail_msg("%s: rc %d", c->name, rc);
        if (info.encoding != c->enc)
            fail_msg("%s: encoding %s, wanted %s", c->name, iz_sms_enc_name(info.encoding),
                     iz_sms_enc_name(c->enc));
        if (info.units != c->units)
            fail_msg("%s: %zu units, wanted %zu", c->name, info.units, c->units);
        if (info.parts != c->parts)
            fail_msg("%s: %zu parts, wanted %zu", c->name, info.parts, c->parts);
        free(t);
    }
}

static void test_part_sizes(void **state)
{
    (void)state;
    iz_smstext_info_t info;
    assert_int_equal(iz_smstext_analyze("abc", 3, 0, &info), 0);
    assert_int_equal(info.part_units, 160);
    assert_int_equal(info.chars, 3);
    char *t = build((rep_t[]){A(200), END});
    assert_int_equal(iz_smstext_analyze(t, strlen(t), 0, &info), 0);
    assert_int_equal(info.part_units, 153);
    free(t);
    assert_int_equal(iz_smstext_analyze("ı", strlen("ı"), 0, &info), 0);
    assert_int_equal(info.part_units, 155);
    assert_int_equal(info.chars, 1);
    t = build((rep_t[]){{"ı", 100}, END});
    assert_int_equal(iz_smstext_analyze(t, strlen(t), 0, &info), 0);
    assert_int_equal(info.part_units, 149);
    free(t);
    assert_int_equal(iz_smstext_analyze("й", strlen("й"), 0, &info), 0);
    assert_int_equal(info.part_units, 70);
    t = build((rep_t[]){{"й", 100}, END});
    assert_int_equal(iz_smstext_analyze(t, strlen(t), 0, &info), 0);
    assert_int_equal(info.part_units, 67);
    free(t);
    assert_string_equal(iz_sms_enc_name(IZ_SMS_GSM7), "GSM7");
    assert_string_equal(iz_sms_enc_name(IZ_SMS_GSM7_TR), "GSM7_TR");
    assert_string_equal(iz_sms_enc_name(IZ_SMS_UCS2), "UCS2");
    assert_null(iz_sms_enc_name(IZ_SMS_ENC_NONE));
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\xC3",             /* truncated */
        "a\xC3(",           /* bad continuation */
        "\xC0\xAF",         /* overlong '/' */
        "\xE0\x80\xAF",     /* overlong, 3 bytes */
        "\xED\xA0\x80",     /* a surrogate */
        "\xF4\x90\x80\x80", /* above U+10FFFF */
        "\xFF",
        "\x80",
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(bad); i++) {
        iz_smstext_info_t info;
        if (iz_smstext_analyze(bad[i], strlen(bad[i]), 0, &info) != IZ_EINVAL)
            fail_msg("case %zu accepted", i);
        char out[16];
        assert_int_equal(iz_smstext_fold(bad[i], strlen(bad[i]), out, sizeof out), IZ_EINVAL);
        assert_string_equal(out, "");
    }
    /* the largest code point and the last one before the surrogates pass */
    iz_smstext_info_t info;
    assert_int_equal(iz_smstext_analyze("\xF4\x8F\xBF\xBF\xED\x9F\xBF", 7, 0, &info), 0);
    assert_int_equal(info.units, 3);
    char *big = malloc(IZ_SMSTEXT_MAX_BYTES + 2);
    memset(big, 'a', IZ_SMSTEXT_MAX_BYTES + 1);
    assert_int_equal(iz_smstext_analyze(big, IZ_SMSTEXT_MAX_BYTES + 1, 0, &info), IZ_ETOOBIG);
    assert_int_equal(iz_smstext_analyze(big, IZ_SMSTEXT_MAX_BYTES, 0, &info), 0);
    free(big);
}

static void test_fold(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"  Ret   Acme. ", "ret acme"},
        {"İPTAL ACME", "iptal acme"},
        {"ıptal acme", "iptal acme"},
        {"Iptal", "iptal"},
        {"ŞĞÇÖÜ şğçöü ÂÎÛ", "sgcou sgcou aiu"},
        {"i\xCC\x87ptal", "iptal"}, /* i + combining dot above */
        {"RET,ACME!!4607", "ret acme 4607"},
        {"Merhaba—dünya", "merhaba dunya"}, /* punctuation beyond ASCII too */
        {"I ı İ i", "i i i i"},
        {"IĞDIR ÇİĞDEM ŞİŞLİ ÖZGÜR", "igdir cigdem sisli ozgur"},
        {"S\xCC\xA7"
         "EHI\xCC\x87R",
         "sehir"},                          /* ŞEHİR: S + cedilla, I + dot above */
        {"ÉLAN Ÿ ŁÓDŹ Ñ", "élan ÿ łódź ñ"}, /* other Latin letters lower-cased */
        {"élan ÿ łódź ß", "élan ÿ łódź ß"},
        {"ACME’ye “RET” «x» …", "acme ye ret x"},
        {"❤️ONAY❤️ 👍🏽 🇹🇷", "onay"},
        {"RE\xC2\xADT\xE2\x80\x8B"
         "ACME\xEF\xBB\xBF",
         "ret acme"}, /* SHY, ZWSP, BOM */
        {"₺100 €5 ×2", "100 5 2"},
        {"Привет Ωmega", "Привет Ωmega"}, /* other scripts are kept */
        {"\t\n", ""},
        {"", ""},
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(cases); i++) {
        char out[96];
        assert_int_equal(iz_smstext_fold(cases[i][0], strlen(cases[i][0]), out, sizeof out), 0);
        assert_string_equal(out, cases[i][1]);
    }
    char small[4];
    assert_int_equal(iz_smstext_fold("abcd", 4, small, sizeof small), IZ_ETOOBIG);
    assert_int_equal(iz_smstext_fold("abc", 3, small, sizeof small), 0);
}

static void test_optout_text(void **state)
{
    (void)state;
    char out[IZ_OPTOUT_MAX];
    assert_int_equal(iz_smstext_optout("ACME", "4607", "", out), 0);
    assert_string_equal(out, "Ret için RET ACME yazıp 4607 numarasına gönderin.");
    /* the short number needs the keyword (it is shared by many brands) */
    assert_int_equal(iz_smstext_optout("", "4607", "08501234567", out), 0);
    assert_string_equal(out, "Ret için RET yazıp 08501234567 numarasına gönderin.");
    assert_int_equal(iz_smstext_optout("ACME", NULL, "08501234567", out), 0);
    assert_string_equal(out, "Ret için RET ACME yazıp 08501234567 numarasına gönderin.");
    assert_int_equal(iz_smstext_optout("ACME", "", "", out), IZ_ENOTFOUND);
    assert_int_equal(iz_smstext_optout(NULL, "4607", NULL, out), IZ_ENOTFOUND);
    assert_int_equal(iz_smstext_optout(NULL, NULL, NULL, out), IZ_ENOTFOUND);
    assert_string_equal(out, "");
    assert_int_equal(iz_smstext_optout("AC\nME", "4607", NULL, out), IZ_EINVAL);
    char kw[200];
    memset(kw, 'K', sizeof kw - 1);
    kw[sizeof kw - 1] = '\0';
    assert_int_equal(iz_smstext_optout(kw, "4607", NULL, out), IZ_ETOOBIG);
    /* the appended instruction costs GSM7_TR (ç, ı) */
    iz_smstext_info_t info;
    assert_int_equal(iz_smstext_optout("ACME", "4607", NULL, out), 0);
    assert_int_equal(iz_smstext_analyze(out, strlen(out), 0, &info), 0);
    assert_int_equal(info.encoding, IZ_SMS_GSM7_TR);
}

static void test_has_optout(void **state)
{
    (void)state;
    const char *ins = "Ret için RET ACME yazıp 4607 numarasına gönderin.";
    static const struct {
        const char *text;
        bool want;
    } kw[] = {
        {"İndirim! Ret için RET ACME yazıp 4607 numarasına gönderin.", true},
        {"İndirim! RET ACME 4607", true},
        {"İndirim. Ret: Acme -> 4607", true},
        {"İNDİRİM RET ACME'yi 4607'ye", true}, /* the apostrophe folds to a space */
        {"4607'ye RET ACME yazın", true},
        {"Ret ACME, 4607 (ücretsiz)", true},
        /* the instruction without the number to send it to does not count */
        {"indirim ret acme", false},
        {"İndirim! RET ACME yazıp gönderin", false},
        {"İndirim! RET ACME yazıp 14607'ye gönderin", false},
        {"İndirim! RET ACME yazıp 46070'e gönderin", false},
        {"İndirim RETACME 4607", false},
        {"İndirim ret acmex 4607", false},
        {"İndirim ACME 4607", false},
        {"İndirim", false},
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(kw); i++) {
        bool got = iz_smstext_has_optout(kw[i].text, strlen(kw[i].text), "ACME", "4607", ins);
        if (got != kw[i].want) fail_msg("'%s': %d, wanted %d", kw[i].text, got, kw[i].want);
    }
    /* a brand with no keyword: "ret" and its number, in any common writing */
    const char *ins2 = "Ret için RET yazıp 08501234567 numarasına gönderin.";
    static const struct {
        const char *text;
        bool want;
    } sub[] = {
        {"Kampanya. RET yazıp 0850 123 45 67'ye gönderin", true},
        {"Kampanya. RET yazıp (0850) 123-45-67'ye gönderin", true},
        {"Kampanya. RET yazıp +90 850 123 45 67'ye gönderin", true},
        {"Kampanya. RET yazıp 8501234567'ye gönderin", true},
        {"Kampanya. RET yazıp gönderin", false},
        {"Kampanya 08501234567", false},
        {"Kampanya. RET yazıp 0850 123 45 68'e gönderin", false},
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(sub); i++) {
        bool got = iz_smstext_has_optout(sub[i].text, strlen(sub[i].text), "", "08501234567", ins2);
        if (got != sub[i].want) fail_msg("'%s': %d, wanted %d", sub[i].text, got, sub[i].want);
    }
    assert_true(iz_smstext_has_optout(ins2, strlen(ins2), NULL, "08501234567", ins2));
    /* no number at all: nothing counts but the exact instruction */
    assert_false(iz_smstext_has_optout("ret acme 4607", 13, "ACME", "", NULL));
    /* invalid UTF-8 never counts as carrying it */
    assert_false(iz_smstext_has_optout("ret acme \xC3", 10, "ACME", "4607", ins));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encodings),    cmocka_unit_test(test_part_sizes),
        cmocka_unit_test(test_invalid_utf8), cmocka_unit_test(test_fold),
        cmocka_unit_test(test_optout_text),  cmocka_unit_test(test_has_optout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
