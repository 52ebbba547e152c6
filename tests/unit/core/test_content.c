/*
 * test_content.c - a commercial SMS's footer (identity, contact, opt-out:
 * what is added, in which order, what counts as already there, what a
 * brand must have) and the commercial wording of informational texts, on
 * real Turkish texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/content.h"
#include "core/iz.h"

static const iz_content_brand_t ACME = {
    .keyword = "ACME",
    .short_number = "4607",
    .trade_name = "ACME Ticaret A.Ş.",
    .mersis = "0123456789012345",
    .contact = "0212 555 01 23",
};

#define OPTOUT "Ret için RET ACME yazıp 4607 numarasına gönderin."
#define IDENT "ACME Ticaret A.Ş., MERSİS: 0123456789012345."
#define CONTACT "İletişim: 0212 555 01 23."

static iz_content_t c; /* large: not on the stack */

static int build(const iz_content_brand_t *b, const char *text, bool commercial)
{
    return iz_content_build(b, text, strlen(text), commercial, 0, &c);
}

static void test_footer_order_and_added(void **state)
{
    (void)state;
    assert_int_equal(build(&ACME, "Yeni sezonda %20 indirim!  \n", true), 0);
    assert_string_equal(c.text, "Yeni sezonda %20 indirim! " IDENT " " CONTACT " " OPTOUT);
    assert_int_equal(c.added, IZ_CONTENT_IDENTITY | IZ_CONTENT_CONTACT | IZ_CONTENT_OPTOUT);
    assert_int_equal(c.len, strlen(c.text));
    assert_int_equal(c.info.encoding, IZ_SMS_GSM7_TR);
    assert_int_equal(c.nwords, 0); /* a commercial text is not warned about */

    /* what the text carries is not added again */
    struct {
        const char *text;
        unsigned added;
    } t[] = {
        {"ACME Ticaret A.Ş.'den %20 indirim, MERSİS 0123456789012345",
         IZ_CONTENT_CONTACT | IZ_CONTENT_OPTOUT},
        {"acme ticaret a.s. (mersis: 0123 4567 8901 2345) indirim",
         IZ_CONTENT_CONTACT | IZ_CONTENT_OPTOUT},
        /* a company's identity is both: the name or the number alone is not */
        {"ACME Ticaret A.Ş.'den %20 indirim",
         IZ_CONTENT_IDENTITY | IZ_CONTENT_CONTACT | IZ_CONTENT_OPTOUT},
        {"MERSİS 0123456789012345 indirim",
         IZ_CONTENT_IDENTITY | IZ_CONTENT_CONTACT | IZ_CONTENT_OPTOUT},
        {"İndirim! Bilgi: 0 (212) 555-0123", IZ_CONTENT_IDENTITY | IZ_CONTENT_OPTOUT},
        {"İndirim! Bilgi: +90 212 555 01 23", IZ_CONTENT_IDENTITY | IZ_CONTENT_OPTOUT},
        {"İndirim! RET ACME yazıp 4607'ye gönderin.", IZ_CONTENT_IDENTITY | IZ_CONTENT_CONTACT},
        {"İndirim " IDENT " " CONTACT " " OPTOUT, 0},
        /* only a part of the trade name, or a longer number, is not it */
        {"ACME'den indirim", IZ_CONTENT_IDENTITY | IZ_CONTENT_CONTACT | IZ_CONTENT_OPTOUT},
        {"İndirim 902125550123999", IZ_CONTENT_IDENTITY | IZ_CONTENT_CONTACT | IZ_CONTENT_OPTOUT},
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(t); i++) {
        assert_int_equal(build(&ACME, t[i].text, true), 0);
        if (c.added != t[i].added)
            fail_msg("'%s': added %u, wanted %u", t[i].text, c.added, t[i].added);
    }
    /* a text with everything goes unchanged */
    assert_int_equal(build(&ACME, "İndirim " IDENT " " CONTACT " " OPTOUT, true), 0);
    assert_string_equal(c.text, "İndirim " IDENT " " CONTACT " " OPTOUT);

    /* a tradesman (esnaf) instead of a company; a trade name ending in a
     * full stop gets no second one */
    iz_content_brand_t esnaf = {.subscriber_number = "08501234567",
                                .tradesman = "Ayşe Yılmaz",
                                .contact = "Çarşı Cad. No: 5 Kadıköy."};
    assert_int_equal(build(&esnaf, "Taze simit geldi", true), 0);
    assert_string_equal(c.text, "Taze simit geldi Ayşe Yılmaz. İletişim: Çarşı Cad. No: 5 "
                                "Kadıköy. Ret için RET yazıp 08501234567 numarasına gönderin.");
    assert_int_equal(build(&esnaf, "AYŞE YILMAZ'dan taze simit, Çarşı Cad. No 5 Kadıköy", true), 0);
    assert_int_equal(c.added, IZ_CONTENT_OPTOUT);
}

static void test_missing_settings(void **state)
{
    (void)state;
    iz_content_brand_t b = ACME;
    b.short_number = "";
    assert_int_equal(build(&b, "İndirim", true), IZ_ERULE);
    assert_int_equal(c.missing, IZ_CONTENT_OPTOUT);
    b = ACME;
    b.mersis = ""; /* a trade name alone is no identity */
    assert_int_equal(build(&b, "İndirim", true), IZ_ERULE);
    assert_int_equal(c.missing, IZ_CONTENT_IDENTITY);
    b.trade_name = NULL;
    b.mersis = "0123456789012345";
    assert_int_equal(build(&b, "İndirim", true), IZ_ERULE);
    assert_int_equal(c.missing, IZ_CONTENT_IDENTITY);
    b = ACME;
    b.contact = "";
    assert_int_equal(build(&b, "İndirim", true), IZ_ERULE);
    assert_int_equal(c.missing, IZ_CONTENT_CONTACT);
    /* an informational text needs none of them */
    iz_content_brand_t none = {0};
    assert_int_equal(build(&none, "Kargonuz yola çıktı.", false), 0);
    assert_string_equal(c.text, "Kargonuz yola çıktı.");
    assert_int_equal(c.added, 0);
    /* bad input */
    assert_int_equal(iz_content_build(&ACME, "a\0b", 3, true, 0, &c), IZ_EINVAL);
    assert_int_equal(build(&ACME, "\xC3(", false), IZ_EINVAL);
    char big[IZ_SMSTEXT_MAX_BYTES + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(build(&ACME, big, false), IZ_ETOOBIG);
    big[IZ_SMSTEXT_MAX_BYTES - 10] = '\0'; /* fits alone, not with its footer */
    assert_int_equal(build(&ACME, big, false), 0);
    assert_int_equal(build(&ACME, big, true), IZ_ETOOBIG);
}

/* The words an informational text is warned about, joined by '|'. */
static const char *warned(const char *text)
{
    static char out[512];
    assert_int_equal(build(&ACME, text, false), 0);
    out[0] = '\0';
    for (size_t i = 0; i < c.nwords; i++) {
        if (i) strcat(out, "|");
        strcat(out, c.words[i]);
    }
    return out;
}

static void test_commercial_wording(void **state)
{
    (void)state;
    static const struct {
        const char *text, *words;
    } t[] = {
        /* informational: no warning */
        {"Sayın müşterimiz, 1.250,00 TL tutarlı Mart faturanızın son ödeme tarihi 15.04.2025'tir. "
         "Bilgi: 0212 555 01 23",
         ""},
        {"Faturanız %20 KDV dahil 1.200 TL'dir.", ""},
        {"Siparişiniz kargoya verildi. Takip no: 123456789", ""},
        {"Doğrulama kodunuz: 482913. Kimseyle paylaşmayın.", ""},
        {"Randevunuz 12 Mayıs Pazartesi saat 14:30'dadır.", ""},
        {"Gecikme faizi %3,5 olarak uygulanacaktır.", ""},
        {"Dosyanızı uygulamadan indirin.", ""}, /* "indir" is not "indirim" */
        /* commercial wording */
        {"Bayramınız kutlu olsun, %20 indirim", "Bayramınız|kutlu|%20|indirim"},
        {"İNDİRİMLİ ürünlerde KAMPANYAMIZ başladı", "İNDİRİMLİ|KAMPANYAMIZ"},
        {"Kampanya'mız sürüyor", "Kampanya'mız"},
        {"Kampanyasız fiyatlar", "Kampanyasız"},
        {"Size özel hediye çeki ve fırsatlar!", "hediye|fırsatlar"},
        {"Anketimize katılın, çekilişe girin", "Anketimize|çekilişe"},
        {"Yeni yılınızı kutlarız", "Yeni yılınızı|kutlarız"},
        {"Alışverişlerinizde puan kazanın, kupon kodu: YAZ", "puan kazanın|kupon"},
        {"Yüzde elli değil 50% indirim", "50%|indirim"},
        {"Size özel teklif", "özel teklif"},
        {"Promosyon kodunuz hazır", "Promosyon"},
        {"indirim indirim İNDİRİM", "indirim|İNDİRİM"}, /* each as written, once */
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(t); i++) {
        const char *got = warned(t[i].text);
        if (strcmp(got, t[i].words) != 0)
            fail_msg("'%s': '%s', wanted '%s'", t[i].text, got, t[i].words);
    }
    /* at most max words */
    char words[2][IZ_CONTENT_WORD_MAX];
    assert_int_equal(iz_content_commercial_words("indirim kampanya hediye", 23, words, 2), 2);
    assert_int_equal(iz_content_commercial_words("indirim \xC3", 10, words, 2), 0);
}

static void test_fields(void **state)
{
    (void)state;
    assert_true(iz_content_mersis_ok("0123456789012345"));
    assert_false(iz_content_mersis_ok("012345678901234"));
    assert_false(iz_content_mersis_ok("01234567890123456"));
    assert_false(iz_content_mersis_ok("012345678901234a"));
    assert_false(iz_content_mersis_ok(NULL));
    assert_true(iz_content_field_ok("", 10));
    assert_true(iz_content_field_ok("Ayşe", 10));
    assert_false(iz_content_field_ok("Ayşe Yılmaz", 10));
    assert_false(iz_content_field_ok("a\nb", 10));
    assert_false(iz_content_field_ok("\xC3", 10));
    assert_string_equal(iz_content_name(IZ_CONTENT_OPTOUT), "optout");
    assert_null(iz_content_name(8));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_footer_order_and_added),
        cmocka_unit_test(test_missing_settings),
        cmocka_unit_test(test_commercial_wording),
        cmocka_unit_test(test_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
