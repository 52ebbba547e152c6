/*
 * fuzz_bulkjson.c - libFuzzer driver for the bulk JSON reader.
 *
 * The input is a JSON document. It is read whole and again a few bytes a
 * read (the count from the last byte): both must agree (bulk_check.h). And
 * when jansson takes the whole input as an array (no duplicate keys), the
 * reader must read it to the end, one row an element, and give each
 * object's string fields as jansson sees them (the retailer fields as the
 * API reads them).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulk_check.h"
#include "net/jsonconsent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t chunk = size ? 1 + data[size - 1] % 13 : 1;
    digest_t whole = check_stream(IZ_BULK_JSON, data, size, 0);
    digest_t bits = check_stream(IZ_BULK_JSON, data, size, chunk);
    same(whole, bits);

    if (size >= IZ_BULK_LINE_MAX) return 0;
    json_t *all = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!all) return 0;
    if (json_is_array(all)) {
        CHECK(whole.rc == 0);
        CHECK((size_t)whole.rows == json_array_size(all));
        fmem_t m = {data, size, 0, 0};
        iz_bulk_reader_t *r;
        iz_bulk_row_t row;
        CHECK(iz_bulk_open(&r, IZ_BULK_JSON, fmem_read, &m) == 0);
        for (size_t i = 0; i < json_array_size(all); i++) {
            json_t *e = json_array_get(all, i);
            CHECK(iz_bulk_next(r, &row) == 1);
            CHECK(row.line == (int64_t)i);
            CHECK((row.problem.code == IZ_BULK_OK) == (json_is_object(e) != 0));
            if (!json_is_object(e)) continue;
            /* The retailer fields as the API reads them (net/jsonconsent.h). */
            iz_consent_raw_t rr;
            char code[24], list[IZ_RETAIL_JSON_TEXT];
            iz_consent_raw_retail_from_json(e, code, list, &rr);
            const iz_field_t *rf[2] = {&rr.retailer_code, &rr.retailer_access};
            for (int k = 0; k < 2; k++) {
                int f = IZ_BULK_RETAILER_CODE + k;
                CHECK(((row.null_value >> f) & 1) == (rf[k]->kind == IZ_FIELD_NULL));
                CHECK(((row.not_string >> f) & 1) == (rf[k]->kind == IZ_FIELD_NOT_STRING));
                CHECK((row.field[f] != NULL) == (rf[k]->kind == IZ_FIELD_STRING));
                if (row.field[f])
                    CHECK(strlen(row.field[f]) == rf[k]->len &&
                          memcmp(row.field[f], rf[k]->s, rf[k]->len) == 0);
            }
            for (int f = 0; f < IZ_BULK_RETAILER_CODE; f++) {
                json_t *v = json_object_get(e, iz_bulk_field_name(f));
                if (json_is_string(v) && json_string_length(v) > 0)
                    CHECK(row.field[f] && strcmp(row.field[f], json_string_value(v)) == 0);
                else
                    CHECK(!row.field[f]);
                CHECK(((row.not_string >> f) & 1) == (v && !json_is_string(v) && !json_is_null(v)));
            }
        }
        CHECK(iz_bulk_next(r, &row) == 0);
        iz_bulk_close(r);
    }
    json_decref(all);
    return 0;
}
