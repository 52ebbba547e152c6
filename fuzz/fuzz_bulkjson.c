/*
 * fuzz_bulkjson.c - libFuzzer driver for the bulk JSON reader.
 *
 * The input is a JSON document. It is read whole and again a few bytes a
 * read (the count from the last byte): both must agree (bulk_check.h). And
 * when jansson takes the whole input as an array (no duplicate keys), the
 * reader must read it to the end, one row an element, and give each
 * object's string fields as jansson sees them.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulk_check.h"

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
            for (int f = 0; f < IZ_BULK_NFIELDS; f++) {
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
