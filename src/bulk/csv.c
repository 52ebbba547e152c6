/*
 * csv.c - the CSV reader: a header line, then one row a record.
 *
 * The dialect is the one spreadsheets and CRMs write (RFC 4180 and what
 * Excel adds to it): fields separated by ',' or ';' (the header's more
 * frequent one outside quotes), quoted with '"' where they hold a
 * separator, a quote (doubled) or line ends; lines ended by LF, CRLF or a
 * lone CR; UTF-8 with or without a BOM, or Windows-1254 when the first
 * chunk is not valid UTF-8. Spaces and tabs around an unquoted field are
 * dropped; a quoted field is kept as it is. A record whose fields are all
 * empty (an empty line, ",,,,,") is skipped.
 *
 * Memory is fixed: one buffer of CSV_BUF bytes that the input streams
 * through (a record must fit in it whole, so a record is bounded by
 * IZ_BULK_LINE_MAX), one for the fields of a record, one for its raw
 * text when that must be cut or repaired (otherwise a row's raw text is
 * its own bytes in the input buffer, ended where its line end was). A
 * record that reaches the buffer's end unfinished is moved to the
 * buffer's start and parsed again once more input is in: records are small
 * beside the buffer, so the second parse costs little.
 *
 * Speed (a 10M-row import reads the file twice): plain field bytes are
 * skipped 8 at a time (first_special), the rest byte by byte.
 */
#include <stdlib.h>
#include <string.h>

#include "bulk/bulk_int.h"
#include "core/iz.h"
#include "core/utf8.h"

#define CSV_BUF (320 * 1024)  /* the input buffer; a record always fits */
#define CSV_CHUNK (64 * 1024) /* the first read (encoding detection), a Windows-1254 read */
#define CSV_COLS_MAX 1024     /* columns of a header */
#define RAW_ROOM (IZ_BULK_RAW_MAX - (sizeof IZ_BULK_RAW_CUT - 1)) /* a raw text not cut */

/* Byte classes: what ends a run of plain field bytes. */
enum { C_PLAIN = 0, C_SEP, C_QUOTE, C_LF, C_CR, C_HIGH, C_NUL };

typedef struct csv {
    char *buf; /* CSV_BUF + 1 bytes of UTF-8; buf[pos..len) not parsed yet */
    size_t pos, len;
    bool eof;
    bool cp1254;
    unsigned char *in; /* CSV_CHUNK bytes read, to be converted from Windows-1254 */
    char sep;
    unsigned char cls[256];
    int64_t line; /* the line the next record starts on */
    size_t ncols;
    int8_t map[CSV_COLS_MAX];        /* column -> field, or -1 */
    char *fbuf;                      /* the stored fields of one record, NUL-terminated */
    const char *f[IZ_BULK_NFIELDS];  /* a data record's fields, in fbuf */
    const char *names[CSV_COLS_MAX]; /* the header's fields, in fbuf */
    iz__bulk_raw_t raw;
} csv_t;

/* One record as parse() found it. */
typedef struct rec {
    size_t start, end; /* its text buf[start..end), without the line end */
    size_t next;       /* where the next record starts */
    int64_t lines;     /* line ends inside it and after it */
    size_t nf;         /* fields */
    bool nonempty;     /* a field has text, or is quoted */
    bool high, nul;    /* a byte >= 0x80, a NUL byte */
    iz_bulk_code_t problem;
} rec_t;

enum { REC_MORE = 0, REC_DONE = 1, REC_END = 2 };

/* Bytes 8 at a time: the first byte of x (little-endian) that is the
 * separator, a quote, CR, LF, NUL or >= 0x80, as its bit index + 7, or 64
 * when there is none. A zero byte's test may also flag the bytes above a
 * real one (its borrow), never one below, so the lowest flag is exact. */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static unsigned first_special(uint64_t x, uint64_t seps)
{
#define ZERO_BYTE(v) (((v)-ONES) & ~(v)&HIGHS)
    uint64_t m = ZERO_BYTE(x ^ seps) | ZERO_BYTE(x ^ (ONES * '"')) | ZERO_BYTE(x ^ (ONES * '\n')) |
                 ZERO_BYTE(x ^ (ONES * '\r')) | ZERO_BYTE(x) | (x & HIGHS);
#undef ZERO_BYTE
    return m ? (unsigned)__builtin_ctzll(m) : 64;
}

/* Skip the plain bytes of an unquoted field: from p to the first byte of
 * another class, or end. */
static const unsigned char *skip_plain(const unsigned char *p, const unsigned char *end,
                                       const unsigned char *cls, uint64_t seps)
{
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, sizeof x);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        x = __builtin_bswap64(x);
#endif
        unsigned bit = first_special(x, seps);
        if (bit < 64) return p + bit / 8;
        p += 8;
    }
    while (p < end && !cls[*p])
        p++;
    return p;
}

/* Count the line ends in [p, e): LF, CRLF (once), lone CR; note bytes
 * >= 0x80 and NULs. */
static int64_t scan_text(const unsigned char *p, const unsigned char *e, rec_t *rec)
{
    int64_t n = 0;
    for (; p < e; p++) {
        unsigned char ch = *p;
        if (ch == '\n')
            n++;
        else if (ch == '\r' && (p + 1 == e || p[1] != '\n'))
            n++;
        else if (ch >= 0x80)
            rec->high = true;
        else if (ch == 0)
            rec->nul = true;
    }
    return n;
}

/* Parse the record at buf[pos]. header: store every field (names) rather
 * than the mapped ones (f). REC_DONE with *rec, REC_MORE when the buffer
 * ends before the record does (and the input has more), REC_END at the end
 * of the input. */
static int parse(csv_t *c, rec_t *rec, bool header)
{
    const unsigned char *b = (const unsigned char *)c->buf;
    const unsigned char *p = b + c->pos, *end = b + c->len;
    const unsigned char *cls = c->cls;
    const unsigned char sep = (unsigned char)c->sep;
    const uint64_t seps = ONES * sep;
    char *fo = c->fbuf;

    memset(rec, 0, sizeof *rec);
    rec->start = c->pos;
    for (int i = 0; i < IZ_BULK_NFIELDS; i++)
        c->f[i] = NULL;
    if (p == end) return c->eof ? REC_END : REC_MORE;

    for (;;) {
        const unsigned char *fs = p, *q = p;
        size_t nf = rec->nf;
        bool store = header ? nf < CSV_COLS_MAX : (nf < c->ncols && c->map[nf] >= 0);
        char *fstart = fo;

        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (q < end && *q == '"') {
            rec->nonempty = true;
            p = q + 1;
            for (;;) {
                const unsigned char *qq = memchr(p, '"', (size_t)(end - p));
                if (!qq) {
                    if (!c->eof) return REC_MORE;
                    rec->lines += scan_text(p, end, rec);
                    rec->problem = IZ_BULK_R_UNTERMINATED;
                    rec->end = rec->next = c->len;
                    return REC_DONE;
                }
                rec->lines += scan_text(p, qq, rec);
                if (store) {
                    memcpy(fo, p, (size_t)(qq - p));
                    fo += qq - p;
                }
                if (qq + 1 == end && !c->eof) return REC_MORE;
                if (qq + 1 < end && qq[1] == '"') {
                    if (store) *fo++ = '"';
                    p = qq + 2;
                    continue;
                }
                p = qq + 1;
                break;
            }
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            if (p == end && !c->eof) return REC_MORE;
            if (p < end && *p != sep && *p != '\n' && *p != '\r') goto bad_quote;
        } else {
            for (;;) {
                p = skip_plain(p, end, cls, seps);
                if (p == end) break;
                unsigned char k = cls[*p];
                if (k == C_HIGH) {
                    rec->high = true;
                    p++;
                    continue;
                }
                if (k == C_NUL) {
                    rec->nul = true;
                    p++;
                    continue;
                }
                if (k == C_QUOTE) goto bad_quote;
                break; /* a separator or a line end */
            }
            if (p == end && !c->eof) return REC_MORE;
            /* Spaces and tabs around the field are dropped. */
            const unsigned char *fe = p;
            while (fs < fe && (*fs == ' ' || *fs == '\t'))
                fs++;
            while (fe > fs && (fe[-1] == ' ' || fe[-1] == '\t'))
                fe--;
            size_t len = (size_t)(fe - fs);
            if (len) rec->nonempty = true;
            if (store) {
                memcpy(fo, fs, len);
                fo += len;
            }
        }
        if (store) {
            *fo++ = '\0';
            if (header)
                c->names[nf] = fstart;
            else if (fo - 1 > fstart)
                c->f[c->map[nf]] = fstart;
        }
        rec->nf++;
        if (p == end) { /* the input's end, no line end */
            rec->end = rec->next = c->len;
            return REC_DONE;
        }
        if (*p == sep) {
            p++;
            continue;
        }
        break; /* a line end */
    }
    goto line_end;

bad_quote:
    /* The record goes on to the end of its line; quotes no longer count. */
    rec->problem = IZ_BULK_R_QUOTE;
    while (p < end && *p != '\n' && *p != '\r') {
        if (*p >= 0x80) rec->high = true;
        if (*p == 0) rec->nul = true;
        p++;
    }
    if (p == end) {
        if (!c->eof) return REC_MORE;
        rec->end = rec->next = c->len;
        return REC_DONE;
    }

line_end:
    rec->end = (size_t)(p - b);
    if (*p == '\r') {
        if (p + 1 == end && !c->eof) return REC_MORE;
        p++;
        if (p < end && *p == '\n') p++;
    } else {
        p++;
    }
    rec->lines++;
    rec->next = (size_t)(p - b);
    return REC_DONE;
}

/* Move what is not parsed to the buffer's start and read more input (as
 * UTF-8, or converted from Windows-1254). 0, or the failure's code. */
static int fill(iz_bulk_reader_t *r, csv_t *c)
{
    if (c->pos > 0) {
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
    }
    if (c->eof) return 0;
    ssize_t got;
    if (!c->cp1254) {
        got = iz__bulk_read(r, c->buf + c->len, CSV_BUF - c->len);
        if (got < 0) return r->rc;
        c->len += (size_t)got;
    } else {
        size_t room = (CSV_BUF - c->len) / 3;
        got = iz__bulk_read(r, c->in, room < CSV_CHUNK ? room : CSV_CHUNK);
        if (got < 0) return r->rc;
        c->len += iz__bulk_cp1254_to_utf8(c->in, (size_t)got, c->buf + c->len);
    }
    if (got == 0) c->eof = true;
    return 0;
}

/* The next record: REC_DONE or REC_END, or a failure's code (negative). */
static int next_record(iz_bulk_reader_t *r, csv_t *c, rec_t *rec, bool header)
{
    for (;;) {
        int k = parse(c, rec, header);
        if (k == REC_END) return REC_END;
        if (k == REC_DONE) {
            if (rec->next - rec->start > IZ_BULK_LINE_MAX) break;
            return REC_DONE;
        }
        if (c->len - c->pos > IZ_BULK_LINE_MAX) break;
        int rc = fill(r, c);
        if (rc < 0) return rc;
    }
    return iz__bulk_fail(r, IZ_ETOOBIG, IZ_BULK_E_LINE_TOO_LONG, c->line, IZ_BULK_LINE_MAX, NULL);
}

static int csv_next(iz_bulk_reader_t *r, iz_bulk_row_t *row)
{
    csv_t *c = r->impl;
    rec_t rec;
    for (;;) {
        int k = next_record(r, c, &rec, false);
        if (k < 0) return k;
        if (k == REC_END) return 0;
        int64_t line = c->line;
        c->line += rec.lines;
        c->pos = rec.next;
        if (!rec.nonempty && rec.problem == IZ_BULK_OK) continue; /* an empty line */

        const char *text = c->buf + rec.start;
        size_t tlen = rec.end - rec.start;
        iz_bulk_code_t problem = rec.problem;
        bool bad_text = rec.nul || (rec.high && iz_utf8_valid_prefix(text, tlen) != tlen);
        row->line = line;
        if (!bad_text && tlen <= RAW_ROOM) {
            /* The common row: its raw text is where it lies, ended where its
             * line end was (already passed; buf has a byte past len for a
             * last line without one). */
            c->buf[rec.end] = '\0';
            row->raw = text;
            row->raw_len = tlen;
            row->raw_cut = false;
        } else {
            iz__bulk_raw_reset(&c->raw);
            if (bad_text)
                iz__bulk_raw_add(&c->raw, text, tlen);
            else
                iz__bulk_raw_add_valid(&c->raw, text, tlen);
            iz__bulk_raw_to_row(&c->raw, row);
        }
        if (problem == IZ_BULK_OK && rec.nf != c->ncols) {
            iz__bulk_note(&row->problem, IZ_BULK_R_COLUMNS, line, (long)rec.nf, (long)c->ncols,
                          NULL);
        } else if (problem == IZ_BULK_OK && bad_text) {
            iz__bulk_note(&row->problem, IZ_BULK_R_ENCODING, line, 0, 0, NULL);
        } else if (problem != IZ_BULK_OK) {
            iz__bulk_note(&row->problem, problem, line, 0, 0, NULL);
        } else {
            for (int i = 0; i < IZ_BULK_NFIELDS; i++)
                row->field[i] = c->f[i];
        }
        return 1;
    }
}

static void csv_free(iz_bulk_reader_t *r)
{
    csv_t *c = r->impl;
    if (!c) return;
    free(c->buf);
    free(c->in);
    free(c->fbuf);
    free(c);
    r->impl = NULL;
}

static const iz__bulk_ops_t csv_ops = {csv_next, csv_free};

/* The delimiter: ';' when the first non-empty line has more of them than
 * commas outside quotes, else ','. */
static char detect_sep(const csv_t *c)
{
    const char *p = c->buf + c->pos, *end = c->buf + c->len;
    long commas = 0, semis = 0;
    bool quoted = false;
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    for (; p < end; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted && (*p == '\n' || *p == '\r'))
            break;
        else if (!quoted && *p == ',')
            commas++;
        else if (!quoted && *p == ';')
            semis++;
    }
    return semis > commas ? ';' : ',';
}

int iz__bulk_csv_open(iz_bulk_reader_t *r)
{
    csv_t *c = iz_xcalloc(1, sizeof *c);
    r->impl = c;
    r->ops = &csv_ops;
    c->buf = iz_xmalloc(CSV_BUF + 1);
    c->fbuf = iz_xmalloc(CSV_BUF + CSV_COLS_MAX +
                         16); /* what parse() may store before a record is found too long */
    c->line = 1;

    /* The first chunk, whole: what the encoding is judged on. */
    while (!c->eof && c->len < CSV_CHUNK) {
        ssize_t got = iz__bulk_read(r, c->buf + c->len, CSV_CHUNK - c->len);
        if (got < 0) return r->rc;
        if (got == 0) c->eof = true;
        c->len += (size_t)got;
    }
    const unsigned char *u = (const unsigned char *)c->buf;
    if (c->len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
        return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_FORMAT, -1, 0,
                             "UTF-16 text; save the file as CSV (UTF-8)");
    if (c->len >= 3 && memcmp(u, "\xEF\xBB\xBF", 3) == 0) {
        c->pos = 3; /* a BOM: UTF-8, whatever follows */
    } else {
        size_t ok = iz_utf8_valid_prefix(c->buf, c->len);
        if (ok < c->len && (c->eof || !iz_utf8_incomplete(c->buf + ok, c->len - ok))) {
            c->cp1254 = true;
            c->in = iz_xmalloc(CSV_CHUNK);
            memcpy(c->in, c->buf, c->len);
            c->len = iz__bulk_cp1254_to_utf8(c->in, c->len, c->buf);
            iz__bulk_warn(r, IZ_BULK_W_CP1254, 0, NULL);
        }
    }

    c->sep = detect_sep(c);
    if (c->sep == ';') iz__bulk_warn(r, IZ_BULK_W_SEMICOLON, 0, NULL);
    c->cls[(unsigned char)c->sep] = C_SEP;
    c->cls['"'] = C_QUOTE;
    c->cls['\n'] = C_LF;
    c->cls['\r'] = C_CR;
    c->cls[0] = C_NUL;
    for (int i = 0x80; i < 0x100; i++)
        c->cls[i] = C_HIGH;

    /* The header: the first record that is not empty. */
    rec_t rec;
    for (;;) {
        int k = next_record(r, c, &rec, true);
        if (k < 0) return k;
        if (k == REC_END) return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_EMPTY, -1, 0, NULL);
        if (rec.nonempty || rec.problem != IZ_BULK_OK) break;
        c->line += rec.lines;
        c->pos = rec.next;
    }
    int64_t hline = c->line;
    size_t tlen = rec.end - rec.start;
    if (rec.problem != IZ_BULK_OK)
        return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_HEADER, hline, 0, "%s",
                             rec.problem == IZ_BULK_R_QUOTE ? "bad quoting" : "unclosed quote");
    if (rec.nul || (rec.high && iz_utf8_valid_prefix(c->buf + rec.start, tlen) != tlen))
        return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_HEADER, hline, 0, "not valid UTF-8 text");
    if (rec.nf > CSV_COLS_MAX)
        return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_HEADER_WIDE, hline, CSV_COLS_MAX, NULL);
    c->ncols = rec.nf;
    int rc = iz__bulk_header_map(r, c->names, c->ncols, c->map, hline);
    if (rc < 0) return rc;
    c->line += rec.lines;
    c->pos = rec.next;
    return 0;
}
