/*
 * test_standing.c - an account's standing with İYS read from İYS's answers:
 * which error codes hold the account (and whose subscription they are
 * about), a subscription's state and consent figures, and a partner's
 * authorization listing with codes written as numbers or as text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/iz.h"
#include "iys/standing.h"

static void test_codes_about_the_account_hold_it(void **state)
{
    (void)state;
    const char *paused = "Abonelik durumu PAUSED iken sadece HS abonelik sorgulama servisine "
                         "istek atılabilir.";
    const char *expired = "Abonelik durumu EXPIRED iken sadece HS abonelik sorgulama servisine "
                          "istek atılabilir.";
    const char *partner = "Abonelik durumu PAUSED iken sadece Entegratör abonelik sorgulama "
                          "servisine istek atılabilir.";
    assert_int_equal(iz_standing_hold_of_code("H520", paused), IZ_HOLD_SUB_PAUSED);
    assert_int_equal(iz_standing_hold_of_code("H520", expired), IZ_HOLD_SUB_EXPIRED);
    assert_int_equal(iz_standing_hold_of_code("H520", partner), IZ_HOLD_PARTNER_PAUSED);
    assert_int_equal(iz_standing_hold_of_code("H520", NULL), IZ_HOLD_SUB_PAUSED);
    assert_int_equal(iz_standing_hold_of_code("H521", NULL), IZ_HOLD_SUB_CLOSED);
    assert_int_equal(iz_standing_hold_of_code("H524", "1 için ait abonelik kaydı bulunamadı."),
                     IZ_HOLD_SUB_NONE);
    assert_int_equal(iz_standing_hold_of_code("H437", NULL), IZ_HOLD_SUB_NONE);
    assert_int_equal(iz_standing_hold_of_code("H525", NULL), IZ_HOLD_LIMIT_FULL);
    assert_int_equal(iz_standing_hold_of_code("H586", NULL), IZ_HOLD_NO_API);
    assert_int_equal(
        iz_standing_hold_of_code("H353", "iysCode, kullanıcı izinleriyle eşleştirilemiyor"),
        IZ_HOLD_NOT_AUTHORIZED);
    /* the brand or type ones hold one brand or type, not the account */
    assert_int_equal(
        iz_standing_hold_of_code("H353", "brandCode, kullanıcı izinleriyle eşleştirilemiyor"),
        IZ_HOLD_NONE);
    assert_int_equal(iz_standing_h353_field("brandCode, kullanıcı izinleriyle eşleştirilemiyor"),
                     IZ_H353_BRAND);
    assert_int_equal(iz_standing_h353_field("type, kullanıcı izinleriyle eşleştirilemiyor"),
                     IZ_H353_TYPE);
    assert_int_equal(
        iz_standing_h353_field("integratorIysCode, kullanıcı izinleriyle eşleştirilemiyor"),
        IZ_H353_IYSCODE);
    assert_int_equal(iz_standing_h353_field("Alan, kullanıcı izinleriyle eşleştirilemiyor"),
                     IZ_H353_OTHER);
    assert_int_equal(iz_standing_h353_field(NULL), IZ_H353_OTHER);
    /* codes about the change itself do not */
    assert_int_equal(iz_standing_hold_of_code("H174", NULL), IZ_HOLD_NONE);
    assert_int_equal(iz_standing_hold_of_code("H467", NULL), IZ_HOLD_NONE);
    assert_int_equal(iz_standing_hold_of_code(NULL, NULL), IZ_HOLD_NONE);
    /* names; only the limit lets some calls through */
    assert_string_equal(iz_hold_name(IZ_HOLD_SUB_PAUSED), "SUBSCRIPTION_PAUSED");
    assert_string_equal(iz_hold_name(IZ_HOLD_LIMIT_FULL), "CONSENT_LIMIT_FULL");
    assert_string_equal(iz_hold_name(IZ_HOLD_NONE), "");
    assert_string_equal(iz_hold_name(IZ_HOLD_COUNT_), "");
    for (int h = 1; h < IZ_HOLD_COUNT_; h++) {
        assert_true(iz_hold_name((iz_hold_t)h)[0] != '\0');
        assert_int_equal(iz_hold_stops_all((iz_hold_t)h), h != IZ_HOLD_LIMIT_FULL);
    }
    assert_false(iz_hold_stops_all(IZ_HOLD_NONE));
}

static iz_hold_t sub_hold(const char *text, bool partner, iz_sub_t *sub)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    assert_int_equal(iz_standing_sub_parse(j, sub), 0);
    json_decref(j);
    return iz_standing_sub_hold(sub, partner);
}

static void test_subscription_states_and_the_consent_limit(void **state)
{
    (void)state;
    iz_sub_t s;
    assert_int_equal(sub_hold("{\"status\":\"ACTIVE\",\"consentLimit\":100,\"usedConsentLimit\":3,"
                              "\"consentLimitExceed\":false}",
                              false, &s),
                     IZ_HOLD_NONE);
    assert_string_equal(s.status, "ACTIVE");
    assert_int_equal(s.consent_limit, 100);
    assert_int_equal(s.used, 3);
    assert_int_equal(s.limit_exceed, 0);
    /* used reaches the limit: full, unless it may be passed */
    assert_int_equal(sub_hold("{\"status\":\"ACTIVE\",\"consentLimit\":3,\"usedConsentLimit\":3,"
                              "\"consentLimitExceed\":false}",
                              false, &s),
                     IZ_HOLD_LIMIT_FULL);
    assert_int_equal(sub_hold("{\"status\":\"ACTIVE\",\"consentLimit\":3,\"usedConsentLimit\":4,"
                              "\"consentLimitExceed\":true}",
                              false, &s),
                     IZ_HOLD_NONE);
    /* -1 is no limit; a partner is shown no figures */
    assert_int_equal(
        sub_hold("{\"status\":\"ACTIVE\",\"consentLimit\":-1,\"usedConsentLimit\":9}", false, &s),
        IZ_HOLD_NONE);
    assert_int_equal(s.consent_limit, -1);
    assert_int_equal(sub_hold("{\"status\":\"ACTIVE\"}", false, &s), IZ_HOLD_NONE);
    assert_int_equal(s.used, -1);
    assert_int_equal(s.limit_exceed, -1);
    assert_int_equal(sub_hold("{\"status\":\"PAUSED\"}", false, &s), IZ_HOLD_SUB_PAUSED);
    assert_int_equal(sub_hold("{\"status\":\"EXPIRED\"}", false, &s), IZ_HOLD_SUB_EXPIRED);
    assert_int_equal(sub_hold("{\"status\":\"CLOSED\"}", false, &s), IZ_HOLD_SUB_CLOSED);
    assert_int_equal(sub_hold("{\"status\":\"CLOSED\"}", true, &s), IZ_HOLD_PARTNER_CLOSED);
    assert_int_equal(sub_hold("{\"status\":\"PAUSED\"}", true, &s), IZ_HOLD_PARTNER_PAUSED);
    /* a state İYS does not document does not stop izin */
    assert_int_equal(sub_hold("{\"status\":\"ASKIDA\"}", false, &s), IZ_HOLD_NONE);
    /* no status: not a subscription */
    json_t *j = json_loads("{\"consentLimit\":3}", 0, NULL);
    assert_int_equal(iz_standing_sub_parse(j, &s), IZ_EINVAL);
    json_decref(j);
    assert_int_equal(iz_standing_sub_parse(NULL, &s), IZ_EINVAL);
}

static void test_the_partner_listing(void **state)
{
    (void)state;
    /* İYS's example writes the codes as text; the emulator as numbers */
    json_t *page =
        json_loads("[{\"brandCode\":\"12345609\",\"iysCode\":\"123458\",\"agreementControl\":true,"
                   "\"MESAJ\":\"write\",\"ARAMA\":\"read\",\"EPOSTA\":null,\"viaControl\":false},"
                   " {\"brandCode\":7001,\"iysCode\":700,\"MESAJ\":\"read\"},"
                   " {\"brandCode\":\"x\",\"iysCode\":700},"
                   " {\"iysCode\":700}, 5]",
                   0, NULL);
    assert_non_null(page);
    iz_grant_t *g = NULL;
    size_t n = 0, skipped = 0;
    assert_int_equal(iz_standing_grants_parse(page, &g, &n, &skipped), 0);
    assert_int_equal(n, 2);
    assert_int_equal(skipped, 3);
    const iz_grant_t *a = iz_standing_grant(g, n, 123458, 12345609);
    assert_non_null(a);
    assert_true(a->agreement);
    assert_int_equal(iz_standing_right(a, IZ_MESAJ), IZ_RIGHT_WRITE);
    assert_int_equal(iz_standing_right(a, IZ_ARAMA), IZ_RIGHT_READ);
    assert_int_equal(iz_standing_right(a, IZ_EPOSTA), IZ_RIGHT_NONE);
    assert_int_equal(iz_standing_right(a, IZ_TYPE_NONE), IZ_RIGHT_NONE);
    const iz_grant_t *b = iz_standing_grant(g, n, 700, 7001);
    assert_non_null(b);
    assert_false(b->agreement);
    assert_int_equal(iz_standing_right(b, IZ_MESAJ), IZ_RIGHT_READ);
    assert_null(iz_standing_grant(g, n, 700, 7002));
    assert_int_equal(iz_standing_right(NULL, IZ_MESAJ), IZ_RIGHT_NONE);
    assert_true(iz_standing_authorized(g, n, 700));
    assert_false(iz_standing_authorized(g, n, 701));
    /* a second page appends */
    json_t *more =
        json_loads("[{\"brandCode\":7101,\"iysCode\":701,\"EPOSTA\":\"write\"}]", 0, NULL);
    assert_int_equal(iz_standing_grants_parse(more, &g, &n, &skipped), 0);
    assert_int_equal(n, 3);
    assert_true(iz_standing_authorized(g, n, 701));
    assert_int_equal(iz_standing_grants_parse(json_object_get(more, "list"), &g, &n, &skipped),
                     IZ_EINVAL);
    json_decref(more);
    json_decref(page);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_about_the_account_hold_it),
        cmocka_unit_test(test_subscription_states_and_the_consent_limit),
        cmocka_unit_test(test_the_partner_listing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
