/*
 * bulk_int.h - what the three bulk readers (csv.c, xlsx.c, json.c) share
 * with bulk.c: the reader's common state, the input layer, failures,
 * warnings, the header's column names and the raw-text buffer. Not for
 * use outside src/bulk/.
 */
#ifndef IZ_BULK_INT_H
#define IZ_BULK_INT_H

#include "bulk/bulk.h"

/* One format's operations. next fills row and returns as iz_bulk_next();
 * free releases r->impl. */
typedef struct iz__bulk_ops {
    int (*next)(iz_bulk_reader_t *r, iz_bulk_row_t *row);
    void (*free)(iz_bulk_reader_t *r);
} iz__bulk_ops_t;

struct iz_bulk_reader {
    iz_bulk_format_t fmt;
    const iz__bulk_ops_t *ops;
    void *impl; /* the format's own state */

    /* Input of CSV and JSON: bytes read ahead to sniff the format (pre),
     * then the callback. */
    iz_bulk_read_fn read;
    void *ctx;
    int fd;      /* -1, or the descriptor of open_fd / open_path */
    bool own_fd; /* opened by open_path: closed by iz_bulk_close() */
    unsigned char pre[512];
    size_t pre_len, pre_off;
    uint64_t done, total; /* progress: input bytes consumed, of total (0: unknown) */

    int rc; /* the failure's IZ_E* code, 0 while there is none */
    iz_bulk_note_t failure;
    iz_bulk_note_t warn[IZ_BULK_WARN_MAX];
    size_t nwarn;
};

int iz__bulk_csv_open(iz_bulk_reader_t *r);
int iz__bulk_json_open(iz_bulk_reader_t *r);
int iz__bulk_xlsx_open(iz_bulk_reader_t *r, int fd);

/* Read up to n bytes of input (the sniffed bytes first): the count, 0 at
 * the end, or -1 after recording an IZ_BULK_E_READ failure. */
ssize_t iz__bulk_read(iz_bulk_reader_t *r, void *buf, size_t n);

/* Record the reader's failure (the first one stays) and return rc. detail
 * is printf-style, may be NULL. */
int iz__bulk_fail(iz_bulk_reader_t *r, int rc, iz_bulk_code_t code, int64_t line, long n1,
                  const char *detail, ...) __attribute__((format(printf, 6, 7)));

/* Add a warning (one already given with the same code and detail is not
 * repeated); past IZ_BULK_WARN_MAX - 1 warnings the last one counts the
 * rest. */
void iz__bulk_warn(iz_bulk_reader_t *r, iz_bulk_code_t code, long n1, const char *detail);

/* Set a note. */
void iz__bulk_note(iz_bulk_note_t *n, iz_bulk_code_t code, int64_t line, long n1, long n2,
                   const char *detail);

/* The field a header cell names (English or Turkish, any case, Turkish
 * letters folded, '_' '-' and spaces ignored), or -1. */
int iz__bulk_header_field(const char *name, size_t len);

/* Map a header's columns to fields: map[i] the field of column i, or -1
 * (extra columns: a warning each). Fails the reader (and returns its code)
 * for a field named twice or a required column missing; line is the
 * header's place. */
int iz__bulk_header_map(iz_bulk_reader_t *r, const char *const *names, size_t ncols, int8_t *map,
                        int64_t line);

/* A row's raw text, bounded: appended to, then ended. */
typedef struct iz__bulk_raw {
    char buf[IZ_BULK_RAW_MAX + 1];
    size_t len;
    bool cut;
} iz__bulk_raw_t;

void iz__bulk_raw_reset(iz__bulk_raw_t *b);

/* Append len bytes; invalid UTF-8 and NUL bytes become U+FFFD; once the
 * bound is reached the text is cut at a character's boundary and ended
 * with IZ_BULK_RAW_CUT. */
void iz__bulk_raw_add(iz__bulk_raw_t *b, const char *s, size_t len);

/* Append len bytes known to be valid UTF-8 with no NUL (faster). */
void iz__bulk_raw_add_valid(iz__bulk_raw_t *b, const char *s, size_t len);

/* Append one cell CSV-quoted when it holds a comma, quote or line end. */
void iz__bulk_raw_add_cell(iz__bulk_raw_t *b, const char *s, size_t len);

/* Point row's raw text at b. */
void iz__bulk_raw_to_row(iz__bulk_raw_t *b, iz_bulk_row_t *row);

/* Windows-1254 to UTF-8: n bytes of in into out (room for 3 n bytes);
 * returns the bytes written. */
size_t iz__bulk_cp1254_to_utf8(const unsigned char *in, size_t n, char *out);

/* Trim spaces and tabs at both ends of s[0..*len). Returns the new start. */
const char *iz__bulk_trim(const char *s, size_t *len);

#endif
