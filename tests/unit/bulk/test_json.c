/*
 * test_json.c - the bulk JSON reader: an array of consent objects read
 * element by element (strings holding brackets, commas and escaped quotes;
 * white space and a BOM; one byte a read), elements that are not objects
 * or not valid JSON as row problems, values that are not strings, null and
 * empty values, unknown keys as warnings, duplicate keys, and the broken
 * arrays that fail the reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bulkutil.h"

/* Read text whole and one byte a read; both must agree; g keeps the
 * first. */
static void read_json(const char *text, gots_t *g)
{
    gots_t h;
    read_mem(IZ_BULK_JSON, text, strlen(text), 0, g);
    read_mem(IZ_BULK_JSON, text, strlen(text), 1, &h);
    assert_int_equal(h.rc, g->rc);
    assert_int_equal(h.n, g->n);
    assert_int_equal(h.failure.code, g->failure.code);
    for (int i = 0; i < g->n; i++) {
        assert_string_equal(h.r[i].raw, g->r[i].raw);
        assert_int_equal(h.r[i].problem.code, g->r[i].problem.code);
    }
    gots_free(&h);
}

static void test_array(void **state)
{
    (void)state;
    gots_t g;
    read_json("\xEF\xBB\xBF [\n"
              " {\"recipient\":\"05321234567\",\"type\":\"MESAJ\",\"status\":\"ONAY\","
              "\"source\":\"HS_WEB\",\"consentDate\":\"2024-01-05 10:00:00\","
              "\"recipientType\":\"BIREYSEL\"} ,\n"
              " {\"recipient\":\"a\\\"}],b\",\"type\":\"ARAMA\",\"status\":\"RET\","
              "\"source\":null,\"consentDate\":\"\",\"extra\":{\"x\":[1,\"]\"]}}\n"
              "]\n",
              &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.r[0].line, 0);
    assert_int_equal(g.r[0].problem.code, IZ_BULK_OK);
    assert_string_equal(g.r[0].f[IZ_BULK_RECIPIENT], "05321234567");
    assert_string_equal(g.r[0].f[IZ_BULK_CONSENT_DATE], "2024-01-05 10:00:00");
    assert_string_equal(g.r[0].f[IZ_BULK_RECIPIENT_TYPE], "BIREYSEL");
    assert_string_equal(g.r[0].raw, "{\"recipient\":\"05321234567\",\"type\":\"MESAJ\","
                                    "\"status\":\"ONAY\",\"source\":\"HS_WEB\",\"consentDate\":"
                                    "\"2024-01-05 10:00:00\",\"recipientType\":\"BIREYSEL\"}");
    assert_int_equal(g.r[1].line, 1);
    assert_string_equal(g.r[1].f[IZ_BULK_RECIPIENT], "a\"}],b");
    assert_string_equal(g.r[1].f[IZ_BULK_TYPE], "ARAMA");
    assert_null(g.r[1].f[IZ_BULK_SOURCE]);       /* null */
    assert_null(g.r[1].f[IZ_BULK_CONSENT_DATE]); /* empty */
    assert_null(g.r[1].f[IZ_BULK_RECIPIENT_TYPE]);
    assert_int_equal(g.r[1].not_string, 0);
    assert_int_equal(g.nwarn, 1);
    assert_non_null(find_warn(&g, IZ_BULK_W_UNKNOWN_KEY, "extra"));
    gots_free(&g);

    read_json("[]", &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 0);
    read_json(" [ \n ] \n", &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 0);
}

static void test_bad_elements(void **state)
{
    (void)state;
    gots_t g;
    read_json("[12, \"x\", [1,2], {\"recipient\":}, {\"type\":\"MESAJ\",\"type\":\"ARAMA\"},"
              " {\"recipient\":5321234567,\"type\":true,\"status\":{},\"source\":\"HS_WEB\"},"
              " {\"recipient\":\"a\\u0000b\"}, null]",
              &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 8);
    assert_int_equal(g.r[0].problem.code, IZ_BULK_R_NOT_OBJECT);
    assert_string_equal(g.r[0].raw, "12");
    assert_int_equal(g.r[1].problem.code, IZ_BULK_R_NOT_OBJECT);
    assert_string_equal(g.r[1].raw, "\"x\"");
    assert_int_equal(g.r[2].problem.code, IZ_BULK_R_NOT_OBJECT);
    assert_string_equal(g.r[2].raw, "[1,2]");
    assert_int_equal(g.r[3].problem.code, IZ_BULK_R_JSON);
    assert_int_equal(g.r[3].line, 3);
    assert_string_equal(iz_bulk_note_hcode(&g.r[3].problem), "H014");
    assert_int_equal(g.r[4].problem.code, IZ_BULK_R_JSON); /* a duplicate key */
    assert_non_null(strstr(g.r[4].problem.detail, "duplicate"));
    assert_int_equal(g.r[5].problem.code, IZ_BULK_OK);
    assert_int_equal(g.r[5].not_string,
                     (1u << IZ_BULK_RECIPIENT) | (1u << IZ_BULK_TYPE) | (1u << IZ_BULK_STATUS));
    assert_null(g.r[5].f[IZ_BULK_RECIPIENT]);
    assert_string_equal(g.r[5].f[IZ_BULK_SOURCE], "HS_WEB");
    assert_int_equal(g.r[6].problem.code, IZ_BULK_R_JSON); /* \u0000 */
    assert_int_equal(g.r[7].problem.code, IZ_BULK_R_NOT_OBJECT);
    assert_int_equal(g.r[7].line, 7);
    char msg[200];
    iz_bulk_note_text(&g.r[0].problem, true, msg, sizeof msg);
    assert_string_equal(msg, "The element is not a JSON object.");

    /* The validator's form of a row with a number for recipient. */
    iz_bulk_row_t row = {0};
    iz_consent_raw_t raw;
    row.not_string = g.r[5].not_string;
    row.source = g.r[5].f[IZ_BULK_SOURCE];
    iz_bulk_row_raw(&row, &raw);
    assert_int_equal(raw.recipient.kind, IZ_FIELD_NOT_STRING);
    assert_int_equal(raw.source.kind, IZ_FIELD_STRING);
    assert_int_equal(raw.consent_date.kind, IZ_FIELD_ABSENT);
    gots_free(&g);
}

static void test_broken_arrays(void **state)
{
    (void)state;
    gots_t g;
    static const struct {
        const char *text;
        iz_bulk_code_t code;
        int rows;
    } cases[] = {
        {"", IZ_BULK_E_NOT_ARRAY, 0},
        {"   ", IZ_BULK_E_NOT_ARRAY, 0},
        {"{\"recipient\":\"x\"}", IZ_BULK_E_NOT_ARRAY, 0},
        {"recipient,type\n", IZ_BULK_E_NOT_ARRAY, 0},
        {"[{}", IZ_BULK_E_JSON_SYNTAX, 1},
        {"[{},", IZ_BULK_E_JSON_SYNTAX, 1},
        {"[{},]", IZ_BULK_E_JSON_SYNTAX, 1},
        {"[{} {}]", IZ_BULK_E_JSON_SYNTAX, 1},
        {"[{},,{}]", IZ_BULK_E_JSON_SYNTAX, 1},
        {"[{}] x", IZ_BULK_E_JSON_SYNTAX, 1},
        {"[{}][]", IZ_BULK_E_JSON_SYNTAX, 1},
        {"[{\"a\":\"]", IZ_BULK_E_JSON_SYNTAX, 0},
        {"[{},}]", IZ_BULK_E_JSON_SYNTAX, 1}, /* once a hang (fuzz_bulkjson) */
        {"[}", IZ_BULK_E_JSON_SYNTAX, 0},
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(cases); i++) {
        read_json(cases[i].text, &g);
        assert_int_equal(g.rc, IZ_EINVAL);
        assert_int_equal(g.failure.code, cases[i].code);
        assert_int_equal(g.n, cases[i].rows);
        gots_free(&g);
    }
    read_json("[{},,{}]", &g);
    char msg[200];
    iz_bulk_note_text(&g.failure, true, msg, sizeof msg);
    assert_string_equal(msg, "The JSON array is broken at element 1: an empty element.");
    gots_free(&g);

    /* An element over the bound. */
    size_t n = IZ_BULK_LINE_MAX + 100;
    char *text = malloc(n + 64);
    assert_non_null(text);
    strcpy(text, "[{}, {\"recipient\":\"");
    size_t len = strlen(text);
    memset(text + len, '5', n);
    strcpy(text + len + n, "\"}]");
    read_mem(IZ_BULK_JSON, text, strlen(text), 0, &g);
    assert_int_equal(g.rc, IZ_ETOOBIG);
    assert_int_equal(g.failure.code, IZ_BULK_E_LINE_TOO_LONG);
    assert_int_equal(g.failure.line, 1);
    assert_int_equal(g.n, 1);
    gots_free(&g);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_array),
        cmocka_unit_test(test_bad_elements),
        cmocka_unit_test(test_broken_arrays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
