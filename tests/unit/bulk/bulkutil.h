/*
 * bulkutil.h - what the bulk reader tests share: input from memory in
 * chunks of a chosen size (so that records cross every read boundary), and
 * all rows of a reader collected as copies. Header-only (static
 * functions), like ../testutil.h; include it after cmocka.h.
 */
#ifndef IZ_BULKUTIL_H
#define IZ_BULKUTIL_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bulk/bulk.h"

typedef struct memin {
    const char *s;
    size_t len, off, chunk;
    bool fail; /* answer -1 (EIO) once the text is read */
} memin_t;

static inline ssize_t mem_read(void *ctx, void *buf, size_t n)
{
    memin_t *m = ctx;
    size_t k = m->len - m->off;
    if (k == 0 && m->fail) {
        errno = EIO;
        return -1;
    }
    if (k > n) k = n;
    if (m->chunk && k > m->chunk) k = m->chunk;
    memcpy(buf, m->s + m->off, k);
    m->off += k;
    return (ssize_t)k;
}

#define GOT_MAX 64

/* A row, copied. */
typedef struct got {
    int64_t line;
    char *f[IZ_BULK_NFIELDS];
    unsigned not_string;
    char *raw;
    bool raw_cut;
    iz_bulk_note_t problem;
} got_t;

typedef struct gots {
    got_t r[GOT_MAX];
    int n;
    int rc; /* what open or the last next returned: 0 at the end, or a failure */
    iz_bulk_note_t failure;
    iz_bulk_note_t warn[IZ_BULK_WARN_MAX];
    size_t nwarn;
} gots_t;

static inline char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Read every row of an opened reader (rc: what open returned) into g, then
 * close it. */
static inline void collect(iz_bulk_reader_t *r, int rc, gots_t *g)
{
    iz_bulk_row_t row;
    memset(g, 0, sizeof *g);
    while (rc == 0 && (rc = iz_bulk_next(r, &row)) == 1) {
        if (g->n == GOT_MAX) abort();
        got_t *o = &g->r[g->n++];
        o->line = row.line;
        for (int i = 0; i < IZ_BULK_NFIELDS; i++)
            o->f[i] = dup_or_null(row.field[i]);
        o->not_string = row.not_string;
        o->raw = strndup(row.raw, row.raw_len);
        if (strlen(row.raw) != row.raw_len) abort();
        o->raw_cut = row.raw_cut;
        o->problem = row.problem;
        rc = 0;
    }
    g->rc = rc;
    if (iz_bulk_failure(r)) g->failure = *iz_bulk_failure(r);
    const iz_bulk_note_t *w;
    g->nwarn = iz_bulk_warnings(r, &w);
    memcpy(g->warn, w, g->nwarn * sizeof *w);
    iz_bulk_close(r);
}

static inline void gots_free(gots_t *g)
{
    for (int i = 0; i < g->n; i++) {
        for (int k = 0; k < IZ_BULK_NFIELDS; k++)
            free(g->r[i].f[k]);
        free(g->r[i].raw);
    }
    g->n = 0;
}

/* Read text (len bytes) as fmt through the callback, chunk bytes a read
 * (0: as much as asked). */
static inline void read_mem(iz_bulk_format_t fmt, const char *text, size_t len, size_t chunk,
                            gots_t *g)
{
    memin_t m = {text, len, 0, chunk, false};
    iz_bulk_reader_t *r;
    int rc = iz_bulk_open(&r, fmt, mem_read, &m);
    collect(r, rc, g);
}

/* The warning with code, or NULL. */
static inline const iz_bulk_note_t *find_warn(const gots_t *g, iz_bulk_code_t code,
                                              const char *detail)
{
    for (size_t i = 0; i < g->nwarn; i++)
        if (g->warn[i].code == code && (!detail || strcmp(g->warn[i].detail, detail) == 0))
            return &g->warn[i];
    return NULL;
}

/* A row read without problem, with these fields (NULL: none). */
static inline void assert_row(const got_t *r, int64_t line, const char *recipient, const char *type,
                              const char *status, const char *source, const char *date,
                              const char *rtype)
{
    const char *want[IZ_BULK_NFIELDS] = {recipient, type, status, source, date, rtype};
    assert_int_equal(r->problem.code, IZ_BULK_OK);
    assert_int_equal(r->line, line);
    for (int k = 0; k < IZ_BULK_NFIELDS; k++) {
        if (want[k])
            assert_string_equal(r->f[k], want[k]);
        else
            assert_null(r->f[k]);
    }
}

#endif
