/*
 * fuzz_csv.c - libFuzzer driver for the bulk CSV reader.
 *
 * The input is a CSV file. It is read whole, then again a few bytes a read
 * (the count from the last byte), so that records cross the reads'
 * boundaries everywhere: both reads must give the same rows, problems and
 * failure (bulk_check.h), and every row must be well formed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulk_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t chunk = size ? 1 + data[size - 1] % 13 : 1;
    digest_t whole = check_stream(IZ_BULK_CSV, data, size, 0);
    digest_t bits = check_stream(IZ_BULK_CSV, data, size, chunk);
    same(whole, bits);
    digest_t sniffed = check_stream(IZ_BULK_AUTO, data, size, 0);
    (void)sniffed;
    return 0;
}
