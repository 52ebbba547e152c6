/*
 * bulk_check.h - what the bulk reader fuzz drivers (fuzz_csv.c,
 * fuzz_xlsx.c, fuzz_bulkjson.c) check of every reader, header-only: a row
 * is well formed (raw text NUL-terminated, bounded, valid UTF-8; fields
 * non-empty valid UTF-8; no field on a row with a problem; a known problem
 * code; lines that never go back), a failure has a known code and stays,
 * every note has a sentence in both languages. And two reads of the same
 * input must give the same rows.
 */
#ifndef IZ_FUZZ_BULK_CHECK_H
#define IZ_FUZZ_BULK_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "bulk/bulk.h"
#include "core/utf8.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) abort();                                                                         \
    } while (0)

/* A digest of what a reader gave, to compare two reads. */
typedef struct digest {
    long rows;
    int rc;
    iz_bulk_code_t failure;
    unsigned long h; /* of every row's line, problem, fields and raw text */
} digest_t;

static inline unsigned long mix(unsigned long h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ul;
    return h;
}

static inline void check_note(const iz_bulk_note_t *n)
{
    char buf[512];
    CHECK(iz_bulk_note_text(n, true, buf, sizeof buf) > 0);
    CHECK(iz_utf8_valid_prefix(buf, strlen(buf)) == strlen(buf));
    CHECK(iz_bulk_note_text(n, false, buf, sizeof buf) > 0);
    CHECK(iz_utf8_valid_prefix(buf, strlen(buf)) == strlen(buf));
    CHECK(strlen(n->detail) < sizeof n->detail);
}

static inline void check_text(const char *s)
{
    size_t n = strlen(s);
    CHECK(iz_utf8_valid_prefix(s, n) == n);
}

/* Read every row of r (rc: what open returned), check it, and close r. */
static inline digest_t check_reader(iz_bulk_reader_t *r, int rc)
{
    digest_t d = {0, 0, IZ_BULK_OK, 14695981039346656037ul};
    iz_bulk_row_t row;
    int64_t last = -1;
    while (rc == 0 && (rc = iz_bulk_next(r, &row)) == 1) {
        d.rows++;
        CHECK(row.raw && strlen(row.raw) == row.raw_len && row.raw_len <= IZ_BULK_RAW_MAX);
        check_text(row.raw);
        CHECK(!row.raw_cut ||
              (row.raw_len >= strlen(IZ_BULK_RAW_CUT) &&
               strcmp(row.raw + row.raw_len - strlen(IZ_BULK_RAW_CUT), IZ_BULK_RAW_CUT) == 0));
        CHECK(row.line > last);
        last = row.line;
        CHECK(row.problem.code >= IZ_BULK_OK && row.problem.code < IZ_BULK_E_READ);
        check_note(&row.problem);
        for (int i = 0; i < IZ_BULK_NFIELDS; i++) {
            if (!row.field[i]) continue;
            CHECK(row.problem.code == IZ_BULK_OK);
            /* "" only for a JSON file's retailerCode (H267, as the API) */
            CHECK(row.field[i][0] != '\0' || i == IZ_BULK_RETAILER_CODE);
            check_text(row.field[i]);
            CHECK(!(row.not_string & (1u << i)));
        }
        iz_consent_raw_t raw;
        iz_bulk_row_raw(&row, &raw);
        d.h = mix(d.h, &row.line, sizeof row.line);
        d.h = mix(d.h, &row.problem.code, sizeof row.problem.code);
        d.h = mix(d.h, &row.not_string, sizeof row.not_string);
        d.h = mix(d.h, row.raw, row.raw_len);
        for (int i = 0; i < IZ_BULK_NFIELDS; i++)
            d.h = mix(d.h, row.field[i] ? row.field[i] : "\1",
                      row.field[i] ? strlen(row.field[i]) + 1 : 1);
        rc = 0;
    }
    d.rc = rc;
    CHECK(rc <= 0);
    const iz_bulk_note_t *f = iz_bulk_failure(r);
    if (rc < 0) {
        CHECK(f != NULL);
        CHECK(f->code >= IZ_BULK_E_READ && f->code < IZ_BULK_W_EXTRA_COLUMN);
        check_note(f);
        d.failure = f->code;
        CHECK(iz_bulk_next(r, &row) == rc); /* a failure stays */
    } else {
        CHECK(f == NULL);
        CHECK(iz_bulk_next(r, &row) == 0);
    }
    const iz_bulk_note_t *w;
    size_t nw = iz_bulk_warnings(r, &w);
    CHECK(nw <= IZ_BULK_WARN_MAX);
    for (size_t i = 0; i < nw; i++) {
        CHECK(w[i].code >= IZ_BULK_W_EXTRA_COLUMN);
        check_note(&w[i]);
    }
    uint64_t done, total;
    iz_bulk_progress(r, &done, &total);
    CHECK(total == 0 || done <= total);
    iz_bulk_close(r);
    return d;
}

/* Input from memory, chunk bytes a read (0: as much as asked). */
typedef struct fmem {
    const uint8_t *s;
    size_t len, off, chunk;
} fmem_t;

static inline ssize_t fmem_read(void *ctx, void *buf, size_t n)
{
    fmem_t *m = ctx;
    size_t k = m->len - m->off;
    if (k > n) k = n;
    if (m->chunk && k > m->chunk) k = m->chunk;
    memcpy(buf, m->s + m->off, k);
    m->off += k;
    return (ssize_t)k;
}

/* Read data as fmt through the callback, chunk bytes a read. */
static inline digest_t check_stream(iz_bulk_format_t fmt, const uint8_t *data, size_t size,
                                    size_t chunk)
{
    fmem_t m = {data, size, 0, chunk};
    iz_bulk_reader_t *r;
    int rc = iz_bulk_open(&r, fmt, fmem_read, &m);
    return check_reader(r, rc);
}

static inline void same(digest_t a, digest_t b)
{
    CHECK(a.rows == b.rows && a.rc == b.rc && a.failure == b.failure && a.h == b.h);
}

#endif
