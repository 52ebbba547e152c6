/*
 * hcode.h - the İYS error codes (H-codes) izin uses, with the HTTP status
 * İYS answers them with and a Turkish and an English message, plus izin's
 * own IZ-codes for failures İYS has no code for.
 *
 * The table follows ../shared/reference/iys-error-codes.md; the Turkish
 * messages are İYS's own wording.
 */
#ifndef IZ_HCODE_H
#define IZ_HCODE_H

#include <stddef.h>

typedef struct iz_hcode {
    const char *code;  /* "H121", "IZ400" */
    int http;          /* İYS's HTTP status for this code */
    const char *tr;    /* İYS's Turkish message */
    const char *en;    /* the same in English */
} iz_hcode_t;

/* The table entry for code, or NULL when the code is unknown. */
const iz_hcode_t *iz_hcode(const char *code);

/* HTTP status for code; 500 for an unknown code (a programming error: every
 * code the source uses is in the table, which a unit test checks). */
int iz_hcode_http(const char *code);

/* The whole table, sorted by code (strcmp order); *n receives its length.
 * Static storage: never freed. */
const iz_hcode_t *iz_hcode_table(size_t *n);

#endif
