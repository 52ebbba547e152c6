/*
 * fuzz_reconfile.c - libFuzzer driver for the reader of İYS's daily change
 * file (core/reconfile.h).
 *
 * The input is a file. It is read whole, then again a few bytes a feed
 * (the count from the last byte): both reads must see the same lines, as
 * changes and bad lines alike, and every line is accounted for: the
 * changes and the bad lines together are all the lines there are.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/reconfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct tally {
    uint64_t sum; /* of line numbers, changes weighted apart from bad lines */
    int64_t rows, bad, last;
} tally_t;

static int row(void *ctx, const iz_recon_line_t *r)
{
    tally_t *t = ctx;
    if (r->line <= t->last || !r->txid[0] || !r->recipient_len) abort();
    t->last = r->line;
    t->rows++;
    t->sum += (uint64_t)r->line * 3 + strlen(r->txid);
    return 0;
}

static int bad(void *ctx, int64_t line, const char *why)
{
    tally_t *t = ctx;
    if (!why || !*why || line < 1) abort();
    t->bad++;
    t->sum += (uint64_t)line * 7;
    return 0;
}

static tally_t read_all(const uint8_t *data, size_t size, size_t chunk)
{
    tally_t t = {0};
    iz_reconfile_t *r = iz_reconfile_new(row, bad, &t);
    if (!chunk) chunk = size ? size : 1;
    for (size_t i = 0; i < size; i += chunk)
        iz_reconfile_feed(r, (const char *)data + i, i + chunk > size ? size - i : chunk);
    iz_reconfile_end(r);
    int64_t lines = iz_reconfile_lines(r);
    /* Each line is a change or bad (the header is neither when it is
     * right; a cut last line is read and reported as cut too). */
    if (t.rows > lines || t.rows != iz_reconfile_rows(r)) abort();
    iz_reconfile_free(r);
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t chunk = size ? 1 + data[size - 1] % 13 : 1;
    tally_t a = read_all(data, size, 0), b = read_all(data, size, chunk);
    if (a.sum != b.sum || a.rows != b.rows || a.bad != b.bad) abort();
    return 0;
}
