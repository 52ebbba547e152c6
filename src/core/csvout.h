/*
 * csvout.h - writing CSV fields as RFC 4180 does: a field is written as it
 * is unless it holds a comma, a double quote, a CR or an LF; then it is put
 * in double quotes, each double quote inside doubled. Every CSV izin writes
 * (izin export, izin check --blocked, the check stream's and a bulk job's
 * errors.csv) quotes through here, so what one writes, izin's CSV readers
 * read back - but for a field a spreadsheet would run as a formula (CSV
 * injection, CWE-1236): one that begins with '=', '@', a tab or a CR, or
 * with '+' or '-' and is not a number (a phone number "+90..." is one) is
 * written quoted with a single quote before it ('=HYPERLINK(...) shows as
 * text). Such fields are only ever refused input written back for a person
 * to read (a file's bad line): no valid recipient, type or date is one.
 *
 * Pure: no I/O, no allocation.
 */
#ifndef IZ_CSVOUT_H
#define IZ_CSVOUT_H

#include <stdbool.h>
#include <stddef.h>

/* The most bytes a field of n bytes takes once written: every byte a quote
 * (doubled) and the two quotes around it (a formula's guard takes the
 * place of its first byte's doubling: that byte is no quote). */
#define IZ_CSV_FIELD_MAX(n) (2 * (n) + 2)

/* True when the n bytes at s must be quoted (for RFC 4180: a formula-like
 * field is quoted as well). */
bool iz_csv_needs_quotes(const char *s, size_t n);

/* True when a spreadsheet would take the n bytes at s for a formula. */
bool iz_csv_formula_like(const char *s, size_t n);

/* Write the n bytes at s as one CSV field into out, which has room for
 * IZ_CSV_FIELD_MAX(n) bytes; no NUL is added. Returns the bytes written. */
size_t iz_csv_field(char *out, const char *s, size_t n);

#endif
