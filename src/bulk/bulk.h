/*
 * bulk.h - streaming readers of bulk consent files: CSV, XLSX and JSON
 * arrays, one row at a time, in memory that does not grow with the file.
 *
 * A reader turns a file into rows of the six consent fields (recipient,
 * type, status, source, consentDate, recipientType) and the two optional
 * retailer fields (retailerCode, retailerAccess), each with where it
 * stands in the file and its raw text for errors.csv. It judges nothing
 * about the consent itself: a row goes on to core/consent.c like a single
 * API consent (iz_bulk_row_raw() gives it the validator's form).
 *
 * Three kinds of trouble, kept apart:
 *   - a row problem (row->problem.code != IZ_BULK_OK): this row cannot be
 *     read (wrong column count, bad quoting, not UTF-8, a JSON element that
 *     is not an object ...); its fields are all NULL, its line and raw text
 *     are there for errors.csv, and the file goes on;
 *   - a failure: the file cannot be read on (no usable header, a header
 *     missing a required column, a line over IZ_BULK_LINE_MAX, not a zip,
 *     not a JSON array, a read error): open or next return a negative IZ_E*
 *     code and iz_bulk_failure() says why, with a message in Turkish or
 *     English (iz_bulk_note_text());
 *   - warnings for the job (iz_bulk_warnings()): extra columns ignored (by
 *     name), Windows-1254 detected and converted, ';' as the delimiter, a
 *     workbook's further sheets ignored, unknown JSON keys ignored.
 *
 * Input: CSV and JSON are read through a callback, so one reader serves a
 * file, a pipe or an HTTP upload spooled to a file; XLSX needs random
 * access (a zip's directory is at its end), so it opens only from a path
 * or a file descriptor. Every open sets *out, on failure too (as SQLite's
 * open does), so that iz_bulk_failure() can tell why; the caller always
 * closes it with iz_bulk_close().
 *
 * Bounds: a CSV record (a line, or the lines of a quoted field) and a JSON
 * element are at most IZ_BULK_LINE_MAX bytes, a row's raw text is cut at
 * IZ_BULK_RAW_MAX bytes with a marker, an XLSX shared-string table at most
 * IZ_BULK_SST_MAX bytes. A CSV reader allocates 0.7 MiB whatever the
 * file's size, a JSON reader 0.3 MiB, an XLSX reader its shared strings
 * and 0.2 MiB.
 *
 * Not thread-safe: one reader is used by one thread at a time.
 */
#ifndef IZ_BULK_H
#define IZ_BULK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/consent.h"
#include "core/iz.h"

#define IZ_BULK_LINE_MAX (64 * 1024)         /* a CSV record, a JSON element, an XLSX row */
#define IZ_BULK_RAW_MAX 4096                 /* a row's raw text, the cut marker included */
#define IZ_BULK_RAW_CUT " [...]"             /* ends a raw text that was cut */
#define IZ_BULK_SST_MAX (256u * 1024 * 1024) /* an XLSX shared-string table */
#define IZ_BULK_WARN_MAX 32                  /* warnings kept; the last one counts the rest */

typedef enum {
    IZ_BULK_AUTO = 0, /* for the open functions: sniff the first bytes */
    IZ_BULK_CSV,
    IZ_BULK_XLSX,
    IZ_BULK_JSON
} iz_bulk_format_t;

/* "csv", "xlsx", "json", or "auto". */
const char *iz_bulk_format_name(iz_bulk_format_t f);

/* Pick the format of an upload from its first bytes (head, len: as many as
 * there are, 512 are plenty) and its Content-Type (NULL or "" when none;
 * parameters such as "; charset=" are ignored). A zip's signature means
 * XLSX whatever the type says; then the type decides (text/csv,
 * text/plain, application/csv and Excel's application/vnd.ms-excel are CSV,
 * application/json and +json types JSON, the spreadsheetml type XLSX);
 * without a known type, a first character '[' (after a BOM and white
 * space) is JSON and any other text CSV. IZ_BULK_AUTO when nothing tells
 * (no bytes and no known type). */
iz_bulk_format_t iz_bulk_format_sniff(const void *head, size_t len, const char *content_type);

/* Read up to n bytes into buf: the count (> 0), 0 at the end, -1 with errno
 * on an error (EINTR is retried). */
typedef ssize_t (*iz_bulk_read_fn)(void *ctx, void *buf, size_t n);

/* What a note says: a row problem, a failure, or a warning. */
typedef enum {
    IZ_BULK_OK = 0,
    /* row problems */
    IZ_BULK_R_COLUMNS,      /* n1 fields where the header has n2 */
    IZ_BULK_R_QUOTE,        /* a quote inside an unquoted field, or text after a closing quote */
    IZ_BULK_R_UNTERMINATED, /* a quoted field that runs to the end of the file */
    IZ_BULK_R_ENCODING,     /* not valid UTF-8, or a NUL byte */
    IZ_BULK_R_TOO_LONG,     /* an XLSX row whose text is over IZ_BULK_LINE_MAX */
    IZ_BULK_R_CELL,         /* an XLSX cell that cannot be read (detail) */
    IZ_BULK_R_JSON,         /* a JSON element that does not parse (detail: jansson's words) */
    IZ_BULK_R_NOT_OBJECT,   /* a JSON element that is not an object */
    /* failures */
    IZ_BULK_E_READ,           /* the input could not be read (detail) */
    IZ_BULK_E_EMPTY,          /* no header: the file or the sheet is empty */
    IZ_BULK_E_HEADER,         /* the header line cannot be read (detail) */
    IZ_BULK_E_MISSING_COLUMN, /* detail: the missing columns, e.g. "source, consentDate" */
    IZ_BULK_E_DUP_COLUMN,     /* detail: a field named by two columns */
    IZ_BULK_E_HEADER_WIDE,    /* a header of more than n1 columns */
    IZ_BULK_E_LINE_TOO_LONG,  /* a record over n1 bytes starting at line */
    IZ_BULK_E_NOT_ZIP,        /* not an XLSX file: no zip (detail: libzip's words) */
    IZ_BULK_E_XLSX,           /* a workbook that cannot be read (detail) */
    IZ_BULK_E_SST_TOO_BIG,    /* shared strings over n1 bytes */
    IZ_BULK_E_NOT_ARRAY,      /* JSON that is not an array */
    IZ_BULK_E_JSON_SYNTAX,    /* the array's structure is broken at element n1 (detail) */
    IZ_BULK_E_FORMAT,         /* the format cannot be read this way (detail) */
    /* warnings */
    IZ_BULK_W_EXTRA_COLUMN, /* detail: a column's name, ignored */
    IZ_BULK_W_UNKNOWN_KEY,  /* detail: a JSON key, ignored */
    IZ_BULK_W_CP1254,       /* not UTF-8: read as Windows-1254 and converted */
    IZ_BULK_W_SEMICOLON,    /* the delimiter is ';' */
    IZ_BULK_W_SHEETS,       /* n1 sheets, only the first (detail: its name) read */
    IZ_BULK_W_MORE          /* n1 further warnings left out */
} iz_bulk_code_t;

typedef struct iz_bulk_note {
    iz_bulk_code_t code;
    int64_t line; /* where it happened (a line, a sheet row, an array index), -1 when nowhere */
    long n1, n2;  /* the numbers the note speaks of */
    char detail[160];
} iz_bulk_note_t;

/* The note as one sentence in English (english) or Turkish, written into
 * buf (NUL-terminated, cut to size at a character's boundary); returns the
 * length it needed, as snprintf does. */
size_t iz_bulk_note_text(const iz_bulk_note_t *n, bool english, char *buf, size_t size);

/* The error code a row problem goes into errors.csv with: "H014" for a JSON
 * element that does not parse or is not an object (as the single API
 * answers such a body), "IZ400" for every other. */
const char *iz_bulk_note_hcode(const iz_bulk_note_t *n);

typedef enum {
    IZ_BULK_RECIPIENT = 0,
    IZ_BULK_TYPE,
    IZ_BULK_STATUS,
    IZ_BULK_SOURCE,
    IZ_BULK_CONSENT_DATE,
    IZ_BULK_RECIPIENT_TYPE,
    IZ_BULK_RETAILER_CODE,   /* optional: the code's digits */
    IZ_BULK_RETAILER_ACCESS, /* optional: codes separated by '|', ',' or spaces (core/retail.h) */
    IZ_BULK_NFIELDS
} iz_bulk_field_t;

/* The API's name of a field ("consentDate"). */
const char *iz_bulk_field_name(iz_bulk_field_t f);

/* One row. Every pointer is the reader's and stays valid until the next
 * iz_bulk_next() or iz_bulk_close(). */
typedef struct iz_bulk_row {
    /* The fields: NUL-terminated UTF-8, or NULL when the column is absent
     * or the value empty (or the row has a problem). By name or by index.
     * One exception: a JSON file's retailerCode "" is "" (İYS's H267, as
     * the API answers it). */
    union {
        struct {
            const char *recipient, *type, *status, *source, *consent_date, *recipient_type,
                *retailer_code, *retailer_access;
        };
        const char *field[IZ_BULK_NFIELDS];
    };
    /* JSON only: bit (1u << field) is set when that field held a value that
     * is not a string (a number, true, an object ...); the field is NULL. */
    unsigned not_string;
    /* JSON only: bit (1u << field) is set when a retailer field held null
     * (as the API, the validator answers it; null elsewhere is absent). */
    unsigned null_value;
    /* CSV: the physical line the row starts on (the header is line 1);
     * XLSX: the sheet's row number; JSON: the index in the array (from 0). */
    int64_t line;
    /* The row as it was read, for errors.csv: the CSV line(s) without the
     * line end, the XLSX cells joined with commas (CSV-quoted where
     * needed), the JSON element's text; NUL-terminated, at most
     * IZ_BULK_RAW_MAX bytes, cut at a character's boundary and ended with
     * IZ_BULK_RAW_CUT (raw_cut true) when the row was longer. */
    const char *raw;
    size_t raw_len;
    bool raw_cut;
    iz_bulk_note_t problem; /* code IZ_BULK_OK when the row could be read */
} iz_bulk_row_t;

/* The row's fields in the form iz_consent_validate() takes: NULL as absent,
 * a non-string JSON value as not a string, the rest as strings (borrowed
 * from row). */
void iz_bulk_row_raw(const iz_bulk_row_t *row, iz_consent_raw_t *raw);

typedef struct iz_bulk_reader iz_bulk_reader_t;

/* Open a CSV or JSON stream (IZ_BULK_AUTO sniffs it; an XLSX stream is
 * refused with IZ_BULK_E_FORMAT: open it from a path or fd). Reads the
 * header (CSV) or the array's '[' (JSON) before it returns, so a bad header
 * fails here. Returns 0, or a negative IZ_E* code with iz_bulk_failure()
 * telling why: IZ_EINVAL for content that cannot be read, IZ_EIO when read
 * failed, IZ_ETOOBIG for a line over its bound. *out is set either way;
 * close it. read and ctx are used until iz_bulk_close(). */
int iz_bulk_open(iz_bulk_reader_t **out, iz_bulk_format_t fmt, iz_bulk_read_fn read, void *ctx);

/* Open any format from an open file descriptor, from its current offset for
 * CSV and JSON and whole for XLSX. fd is not closed (XLSX works on a
 * duplicate of it); it must stay open until iz_bulk_close(). */
int iz_bulk_open_fd(iz_bulk_reader_t **out, iz_bulk_format_t fmt, int fd);

/* Open any format from a file; the file is closed by iz_bulk_close(). */
int iz_bulk_open_path(iz_bulk_reader_t **out, iz_bulk_format_t fmt, const char *path);

/* The next row into *row: 1 with a row (possibly one with a problem), 0 at
 * the end, or a negative IZ_E* code on a failure (iz_bulk_failure() says
 * why; every later call returns the same). Empty lines and rows are
 * skipped, not returned. */
int iz_bulk_next(iz_bulk_reader_t *r, iz_bulk_row_t *row);

/* Why the reader failed, or NULL while it has not. */
const iz_bulk_note_t *iz_bulk_failure(const iz_bulk_reader_t *r);

/* The warnings so far (the array is the reader's, valid until the next call
 * of iz_bulk_next() or iz_bulk_close()); returns their number, at most
 * IZ_BULK_WARN_MAX. */
size_t iz_bulk_warnings(const iz_bulk_reader_t *r, const iz_bulk_note_t **list);

/* The format being read. */
iz_bulk_format_t iz_bulk_format(const iz_bulk_reader_t *r);

/* How far the reader is: *done bytes of *total (the input's bytes for CSV
 * and JSON, the sheet's uncompressed bytes for XLSX); *total is 0 when the
 * size is not known (a pipe), and never below *done (an input can prove
 * longer than it said). For a progress bar and an ETA. */
void iz_bulk_progress(const iz_bulk_reader_t *r, uint64_t *done, uint64_t *total);

/* Close the reader and free everything it holds; NULL is allowed. */
void iz_bulk_close(iz_bulk_reader_t *r);

#endif
