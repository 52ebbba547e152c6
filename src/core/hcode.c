/*
 * hcode.c - the table of every error code izin answers with - İYS's
 * H-codes and izin's own IZ-codes - each with the HTTP status İYS answers
 * it with, the Turkish message and an English one.
 *
 * The table is data: data/hcodes.tsv, one line a code (where each entry
 * comes from is written at its top). The build turns it into a sorted C
 * array (hcode_table.inc), searched here by bisection; a unit test checks
 * the order and that every code the source uses is in it.
 */
#include "core/hcode.h"

#include <stdlib.h>
#include <string.h>

#include "core/iz.h"

/* Generated from data/hcodes.tsv by the build (see the Makefile). */
static const iz_hcode_t table[] = {
#include "hcode_table.inc"
};

static int cmp_code(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const iz_hcode_t *)elem)->code);
}

const iz_hcode_t *iz_hcode(const char *code)
{
    if (!code) return NULL;
    return bsearch(code, table, IZ_ARRAY_LEN(table), sizeof(table[0]), cmp_code);
}

int iz_hcode_http(const char *code)
{
    const iz_hcode_t *h = iz_hcode(code);
    /* Every code the source uses is in the table (a unit test reads src/
     * for them); an unknown one is a programming error and answers as one. */
    return h ? h->http : 500;
}

const iz_hcode_t *iz_hcode_table(size_t *n)
{
    if (n) *n = IZ_ARRAY_LEN(table);
    return table;
}
