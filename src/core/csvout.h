/*
 * csvout.h - writing CSV fields as RFC 4180 does: a field is written as it
 * is unless it holds a comma, a double quote, a CR or an LF; then it is put
 * in double quotes, each double quote inside doubled. Every CSV izin writes
 * (izin export, izin check --blocked) quotes through here, so what one
 * writes, izin's CSV readers read back.
 *
 * Pure: no I/O, no allocation.
 */
#ifndef IZ_CSVOUT_H
#define IZ_CSVOUT_H

#include <stdbool.h>
#include <stddef.h>

/* The most bytes a field of n bytes takes once written: every byte a quote
 * (doubled) and the two quotes around it. */
#define IZ_CSV_FIELD_MAX(n) (2 * (n) + 2)

/* True when the n bytes at s must be quoted. */
bool iz_csv_needs_quotes(const char *s, size_t n);

/* Write the n bytes at s as one CSV field into out, which has room for
 * IZ_CSV_FIELD_MAX(n) bytes; no NUL is added. Returns the bytes written. */
size_t iz_csv_field(char *out, const char *s, size_t n);

#endif
