/*
 * reconfile.h - a strict, streaming reader of İYS's daily change file
 * (reconciliation, "mutabakat": GET .../changes/{reportDate}/file).
 *
 * The file is CSV: the header line
 *   creationDate,transactionId,recipient,recipientType,type,status,consentDate,source
 * then one line a change, fields quoted only when they hold a comma or a
 * quote (RFC 4180), dates "YYYY-MM-DD HH:MM:SS" Turkey time, an omitted
 * consentDate or source an empty field, every line ending with "\n".
 *
 * A day may hold millions of lines, so the reader takes the bytes as they
 * come (any chunking) and holds one line at a time (at most
 * IZ_RECON_LINE_MAX bytes). It is strict: every line is either a change,
 * handed to the row callback, or a bad line, handed to the bad-line
 * callback with its number (the header is line 1) and the reason; none is
 * skipped silently. A last line without its "\n" is bad too (a cut file).
 *
 * Pure logic: no I/O, no global state.
 */
#ifndef IZ_RECONFILE_H
#define IZ_RECONFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/enums.h"

#define IZ_RECON_LINE_MAX 2048 /* bytes of one line, its "\n" not counted */
#define IZ_RECON_TXID_MAX 72   /* a transactionId's bytes, NUL included */

/* One change line. The strings point into the reader's line buffer and are
 * valid during the callback only. */
typedef struct iz_recon_line {
    int64_t line;          /* its line number (the header is 1) */
    int64_t creation;      /* creationDate, epoch seconds */
    const char *txid;      /* transactionId, never empty */
    const char *recipient; /* as written (not normalized), never empty */
    size_t recipient_len;
    iz_rtype_t rtype;
    iz_type_t type;
    iz_status_t status;
    int64_t consent_date; /* epoch seconds; 0: the field was empty */
    iz_source_t source;   /* IZ_SOURCE_NONE: the field was empty */
} iz_recon_line_t;

/* A change line; a non-zero return stops the reader (returned by feed/end). */
typedef int (*iz_recon_row_fn)(void *ctx, const iz_recon_line_t *row);
/* A bad line and why (static text); a non-zero return stops the reader. */
typedef int (*iz_recon_bad_fn)(void *ctx, int64_t line, const char *why);

typedef struct iz_reconfile iz_reconfile_t;

/* A new reader (never NULL); the callbacks run from feed and end. */
iz_reconfile_t *iz_reconfile_new(iz_recon_row_fn row, iz_recon_bad_fn bad, void *ctx);

/* The next len bytes of the file. 0, or a callback's non-zero value (then
 * nothing more is read). */
int iz_reconfile_feed(iz_reconfile_t *r, const char *data, size_t len);

/* The end of the file: a last line without "\n" is bad, and so is a file
 * without its header. 0 or a callback's value. */
int iz_reconfile_end(iz_reconfile_t *r);

/* Lines seen so far (the header included), and how many were changes. */
int64_t iz_reconfile_lines(const iz_reconfile_t *r);
int64_t iz_reconfile_rows(const iz_reconfile_t *r);

void iz_reconfile_free(iz_reconfile_t *r);

/* Read one line (without its "\n") into *out: NULL when it is a change,
 * else why not. The strings of *out point into buf, which is changed (the
 * fields are cut out of it in place). Exposed for the tests. */
const char *iz_reconfile_parse_line(char *buf, size_t len, iz_recon_line_t *out);

#endif
