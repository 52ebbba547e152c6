/*
 * test_jsonconsent.c - a consent's JSON object read into raw fields: each
 * field's kind (absent, null, not a string, string with its length and
 * embedded NUL bytes), and the first unknown key with and without the
 * emulator's extra accepted names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/consent.h"
#include "net/jsonconsent.h"

static json_t *parse(const char *text)
{
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    assert_non_null(j);
    return j;
}

static void test_field_kinds(void **state)
{
    (void)state;
    json_t *o = parse("{\"recipient\":\"a@b.co\",\"type\":null,\"status\":5,"
                      "\"source\":[\"x\"],\"consentDate\":\"\",\"other\":1}");
    iz_consent_raw_t raw;
    iz_consent_raw_from_json(o, NULL, &raw);
    assert_int_equal(raw.recipient.kind, IZ_FIELD_STRING);
    assert_int_equal(raw.recipient.len, 6);
    assert_memory_equal(raw.recipient.s, "a@b.co", 6);
    assert_int_equal(raw.type.kind, IZ_FIELD_NULL);
    assert_int_equal(raw.status.kind, IZ_FIELD_NOT_STRING);
    assert_int_equal(raw.source.kind, IZ_FIELD_NOT_STRING);
    assert_int_equal(raw.consent_date.kind, IZ_FIELD_STRING);
    assert_int_equal(raw.consent_date.len, 0);
    assert_int_equal(raw.recipient_type.kind, IZ_FIELD_ABSENT);
    assert_null(raw.recipient_type.s);
    assert_string_equal(raw.unknown_field, "other");
    json_decref(o);
}

static void test_embedded_nul(void **state)
{
    (void)state;
    json_t *o = parse("{\"recipient\":\"a\\u0000b\"}");
    iz_consent_raw_t raw;
    iz_consent_raw_from_json(o, NULL, &raw);
    assert_int_equal(raw.recipient.kind, IZ_FIELD_STRING);
    assert_int_equal(raw.recipient.len, 3);
    assert_null(raw.unknown_field);
    json_decref(o);
}

static void test_unknown_field(void **state)
{
    (void)state;
    static const char *const extra[] = {"retailerCode", "retailerAccess", NULL};
    json_t *o = parse("{\"type\":\"MESAJ\",\"retailerCode\":1,\"retailerAccess\":[],\"x\":1}");
    iz_consent_raw_t raw;
    iz_consent_raw_from_json(o, NULL, &raw);
    assert_string_equal(raw.unknown_field, "retailerCode"); /* the first, in the object's order */
    iz_consent_raw_from_json(o, extra, &raw);
    assert_string_equal(raw.unknown_field, "x");
    json_decref(o);

    o = parse("{\"recipient\":\"a\",\"type\":\"MESAJ\",\"status\":\"ONAY\",\"source\":\"HS_WEB\","
              "\"consentDate\":\"2024-01-01 10:00:00\",\"recipientType\":\"BIREYSEL\","
              "\"retailerCode\":\"7\"}");
    iz_consent_raw_from_json(o, extra, &raw);
    assert_null(raw.unknown_field);
    json_decref(o);
}

static void test_field_from_json(void **state)
{
    (void)state;
    iz_field_t f = {IZ_FIELD_STRING, "stale", 5};
    iz_field_from_json(&f, NULL);
    assert_int_equal(f.kind, IZ_FIELD_ABSENT);
    assert_null(f.s);
    assert_int_equal(f.len, 0);
    json_t *v = json_true();
    iz_field_from_json(&f, v);
    assert_int_equal(f.kind, IZ_FIELD_NOT_STRING);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_kinds),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_unknown_field),
        cmocka_unit_test(test_field_from_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
