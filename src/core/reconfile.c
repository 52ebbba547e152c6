/*
 * reconfile.c - İYS's daily change file, read line by line (reconfile.h).
 */
#include "core/reconfile.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "core/trtime.h"

#define NFIELDS 8

static const char header[] =
    "creationDate,transactionId,recipient,recipientType,type,status,consentDate,source";

struct iz_reconfile {
    iz_recon_row_fn row;
    iz_recon_bad_fn bad;
    void *ctx;
    char buf[IZ_RECON_LINE_MAX + 1];
    size_t len;
    bool too_long; /* the current line went past IZ_RECON_LINE_MAX: bad, read to its end */
    int64_t lines, rows;
    int stopped; /* a callback's non-zero value */
};

iz_reconfile_t *iz_reconfile_new(iz_recon_row_fn row, iz_recon_bad_fn bad, void *ctx)
{
    iz_reconfile_t *r = iz_xcalloc(1, sizeof *r);
    r->row = row;
    r->bad = bad;
    r->ctx = ctx;
    return r;
}

void iz_reconfile_free(iz_reconfile_t *r)
{
    free(r);
}

int64_t iz_reconfile_lines(const iz_reconfile_t *r)
{
    return r->lines;
}

int64_t iz_reconfile_rows(const iz_reconfile_t *r)
{
    return r->rows;
}

/* Cut the line into its fields in place: RFC 4180 quoting (a quoted field
 * may hold commas and doubled quotes). NULL, or why the line is not
 * NFIELDS fields. */
static const char *split(char *buf, size_t len, char *f[NFIELDS], size_t flen[NFIELDS])
{
    size_t i = 0, k = 0;
    for (;;) {
        if (k == NFIELDS) return "more than 8 fields";
        char *out = buf + i, *start = out;
        if (i < len && buf[i] == '"') {
            i++;
            for (;;) {
                if (i >= len) return "a quoted field is not closed";
                if (buf[i] == '"') {
                    if (i + 1 < len && buf[i + 1] == '"') {
                        *out++ = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                *out++ = buf[i++];
            }
            if (i < len && buf[i] != ',') return "a quote inside a field";
        } else {
            while (i < len && buf[i] != ',') {
                if (buf[i] == '"') return "a quote inside an unquoted field";
                out++;
                i++;
            }
        }
        f[k] = start;
        flen[k] = (size_t)(out - start);
        k++;
        if (i >= len) break;
        *out = '\0'; /* the comma (or what followed the closing quote) */
        i++;         /* past the comma */
        if (i == len) {
            /* A trailing comma: one more, empty field. */
            if (k == NFIELDS) return "more than 8 fields";
            f[k] = buf + i;
            flen[k++] = 0;
            break;
        }
    }
    if (k != NFIELDS) return "fewer than 8 fields";
    for (size_t j = 0; j < NFIELDS; j++)
        f[j][flen[j]] = '\0';
    return NULL;
}

/* A transactionId: printable ASCII without blanks, commas or quotes. */
static bool txid_ok(const char *s, size_t n)
{
    if (n == 0 || n >= IZ_RECON_TXID_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) return false;
    return true;
}

const char *iz_reconfile_parse_line(char *buf, size_t len, iz_recon_line_t *out)
{
    char *f[NFIELDS];
    size_t fl[NFIELDS];
    memset(out, 0, sizeof *out);
    if (memchr(buf, '\0', len)) return "a NUL byte in the line";
    buf[len] = '\0';
    const char *why = split(buf, len, f, fl);
    if (why) return why;
    const char *hcode;
    if (iz_tr_parse(f[0], fl[0], &out->creation, &hcode) != 0)
        return "creationDate is not YYYY-MM-DD HH:MM:SS";
    if (!txid_ok(f[1], fl[1])) return "transactionId is empty or not a plain token";
    out->txid = f[1];
    if (fl[2] == 0 || fl[2] >= 272) return "recipient is empty or too long";
    out->recipient = f[2];
    out->recipient_len = fl[2];
    if (iz_rtype_parse(f[3], &out->rtype) != 0) return "unknown recipientType";
    if (iz_type_parse(f[4], &out->type) != 0) return "unknown type";
    if (iz_status_parse(f[5], &out->status) != 0) return "unknown status";
    if (fl[6] && iz_tr_parse(f[6], fl[6], &out->consent_date, &hcode) != 0)
        return "consentDate is not YYYY-MM-DD HH:MM:SS";
    if (fl[7] && iz_source_parse(f[7], &out->source) != 0) return "unknown source";
    return NULL;
}

/* One whole line (without "\n") in r->buf. */
static int line_done(iz_reconfile_t *r)
{
    int64_t no = ++r->lines;
    if (r->too_long) {
        r->too_long = false;
        r->len = 0;
        return r->bad(r->ctx, no, "the line is longer than 2048 bytes");
    }
    size_t len = r->len;
    r->len = 0;
    if (no == 1) {
        if (len == sizeof header - 1 && memcmp(r->buf, header, len) == 0) return 0;
        return r->bad(r->ctx, no, "the header is not İYS's change file header");
    }
    iz_recon_line_t row;
    const char *why = iz_reconfile_parse_line(r->buf, len, &row);
    if (why) return r->bad(r->ctx, no, why);
    row.line = no;
    r->rows++;
    return r->row(r->ctx, &row);
}

int iz_reconfile_feed(iz_reconfile_t *r, const char *data, size_t len)
{
    if (r->stopped) return r->stopped;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (data + i)) : len - i;
        if (!r->too_long) {
            if (r->len + n > IZ_RECON_LINE_MAX) {
                r->too_long = true;
            } else {
                memcpy(r->buf + r->len, data + i, n);
                r->len += n;
            }
        }
        i += n;
        if (nl) {
            i++;
            int rc = line_done(r);
            if (rc) return r->stopped = rc;
        }
    }
    return 0;
}

int iz_reconfile_end(iz_reconfile_t *r)
{
    if (r->stopped) return r->stopped;
    int rc = 0;
    if (r->len || r->too_long) {
        int64_t no = r->lines + 1;
        /* The line is read as it is, but a file must end with "\n": one
         * that does not was cut. */
        rc = line_done(r);
        if (rc == 0) rc = r->bad(r->ctx, no, "the file does not end with a newline (cut?)");
    } else if (r->lines == 0) {
        rc = r->bad(r->ctx, 1, "the file is empty: no header");
    }
    return r->stopped = rc;
}
