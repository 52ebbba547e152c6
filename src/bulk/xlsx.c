/*
 * xlsx.c - the XLSX reader: the first sheet of a workbook, row by row.
 *
 * An XLSX file is a zip of XML parts (ECMA-376, SpreadsheetML). What is
 * read, in this order:
 *   1. xl/workbook.xml: the sheets in the workbook's order (the first is
 *      read, the others ignored with a warning) and workbookPr's date1904;
 *   2. xl/_rels/workbook.xml.rels: the first sheet's part and the shared
 *      strings' part (xl/worksheets/sheet1.xml and xl/sharedStrings.xml
 *      when the workbook does not say);
 *   3. the shared strings, whole (cells refer to them by index), each
 *      <si>'s text: its <t>, or its rich-text runs' <t> joined, phonetic
 *      runs (<rPh>) left out; at most IZ_BULK_SST_MAX bytes;
 *   4. the sheet, streamed: its zip entry is inflated X_CHUNK bytes at a
 *      time into expat, which is suspended at the end of every row that
 *      has a value, so one row is held at a time, never the sheet.
 * Element names are matched by their local name (producers differ in
 * namespace prefixes); a DOCTYPE is refused.
 *
 * Cells: t="s" a shared string, t="inlineStr" its <is> text, t="str" a
 * formula's text, t="b" TRUE or FALSE, t="e" the error's text, t="d" an
 * ISO date (with 'T' as a space); a number (no t, or t="n") is an Excel
 * serial date in the consentDate column ("YYYY-MM-DD HH:MM:SS", 1900 or
 * 1904 system), and elsewhere its integer digits when it is a whole number
 * (a phone number stored as a number: 5321234567, 5.32123456E9) or its
 * text as written. Cells are placed by their r="C5" (missing cells are
 * empty); the first row with a value is the header.
 */
#include <errno.h>
#include <expat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "bulk/bulk_int.h"
#include "core/iz.h"
#include "core/trtime.h"

#define X_CHUNK (64 * 1024)
#define X_COLS_MAX 16384 /* Excel's last column, XFD */
#define X_HDR_MAX 1024   /* header columns */
#define X_NS '|'         /* expat's namespace separator */
#define X_FBUF (IZ_BULK_LINE_MAX + 64 * IZ_BULK_NFIELDS)

typedef struct xlsx {
    zip_t *zip;
    bool date1904;

    /* workbook.xml and its relationships */
    long nsheets;
    char sheet_name[128];
    char sheet_rid[64];
    char *sheet_part, *sst_part;

    /* shared strings: text (NUL-terminated, one after the other) and where
     * each starts */
    char *sst;
    size_t sst_len, sst_cap;
    uint32_t *sst_off;
    size_t sst_n, sst_ncap;
    bool in_si, in_t;
    int rph; /* depth inside <rPh> */

    /* the sheet */
    zip_file_t *sheet;
    XML_Parser p;
    bool final_sent, finished;
    bool in_v, in_is;
    char ctype; /* 'n', 's', 'i' (inlineStr), 'b', 'e', 't' (str), 'd' */
    long col, last_col;
    int64_t rownum, last_row;
    char *cell; /* the current cell's text */
    size_t cell_len;
    bool cell_long;

    /* the row being read */
    bool header_done, suspended_header;
    size_t ncols;
    int8_t map[X_HDR_MAX];
    char *hdr[X_HDR_MAX];
    char *fbuf;
    size_t flen;
    int foff[IZ_BULK_NFIELDS]; /* offset in fbuf, -1 for none */
    size_t row_bytes;
    bool row_nonempty, row_ready;
    iz_bulk_code_t row_problem;
    char row_detail[96];
    iz__bulk_raw_t raw;
    long raw_next; /* columns written to raw */
} xlsx_t;

/* The local part of an expat name "namespace|local". */
static const char *local(const char *name)
{
    const char *s = strrchr(name, X_NS);
    return s ? s + 1 : name;
}

/* An attribute's value by local name; ns: whether it must have a namespace
 * (r:id) or must not (name). */
static const char *attr(const XML_Char **atts, const char *name, bool ns)
{
    for (int i = 0; atts[i]; i += 2) {
        bool has_ns = strchr(atts[i], X_NS) != NULL;
        if (has_ns == ns && strcmp(local(atts[i]), name) == 0) return atts[i + 1];
    }
    return NULL;
}

/* The sheet and the shared strings are parsed without namespace
 * processing (a million rows make tens of millions of elements, and
 * expat's "namespace|local" names cost a third of the reading): their
 * elements are told by their local name, as they were with the namespaces
 * (their names are SpreadsheetML's), and the sheet's attributes r and t are
 * the unprefixed ones. */
static const char *sheet_local(const char *name)
{
    const char *s = strchr(name, ':');
    return s ? s + 1 : name;
}

static const char *sheet_attr(const XML_Char **atts, const char *name)
{
    for (int i = 0; atts[i]; i += 2)
        if (strcmp(atts[i], name) == 0) return atts[i + 1];
    return NULL;
}

static void XMLCALL refuse_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                                   const XML_Char *pubid, int has_internal)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal;
    iz_bulk_reader_t *r = ud;
    iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_XLSX, -1, 0, "a DOCTYPE is not allowed");
    XML_StopParser(((xlsx_t *)r->impl)->p, XML_FALSE);
}

/* A parser of a part: with namespace processing (names "namespace|local"),
 * or, for the sheet, without (names as written, "c" or "x:c"). */
static XML_Parser new_parser(iz_bulk_reader_t *r, bool ns)
{
    XML_Parser p = ns ? XML_ParserCreateNS(NULL, X_NS) : XML_ParserCreate(NULL);
    if (!p) iz_oom();
    XML_SetUserData(p, r);
    XML_SetStartDoctypeDeclHandler(p, refuse_doctype);
    return p;
}

/* Parse the whole zip entry name, when the workbook has it, with these
 * handlers (text may be NULL). 0, or the failure's code. */
static int parse_part(iz_bulk_reader_t *r, xlsx_t *x, const char *name, bool ns,
                      XML_StartElementHandler start, XML_EndElementHandler end,
                      XML_CharacterDataHandler text)
{
    zip_int64_t idx = zip_name_locate(x->zip, name, ZIP_FL_NOCASE);
    if (idx < 0) return 0;
    zip_file_t *f = zip_fopen_index(x->zip, (zip_uint64_t)idx, 0);
    if (!f)
        return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_XLSX, -1, 0, "%s: %s", name,
                             zip_strerror(x->zip));
    XML_Parser p = new_parser(r, ns);
    XML_SetElementHandler(p, start, end);
    XML_SetCharacterDataHandler(p, text);
    x->p = p;
    for (;;) {
        void *b = XML_GetBuffer(p, X_CHUNK);
        if (!b) iz_oom();
        zip_int64_t n = zip_fread(f, b, X_CHUNK);
        if (n < 0) {
            iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_XLSX, -1, 0, "%s: %s", name,
                          zip_file_strerror(f));
            break;
        }
        if (XML_ParseBuffer(p, (int)n, n == 0) != XML_STATUS_OK) {
            iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_XLSX, -1, 0, "%s, line %lu: %s", name,
                          (unsigned long)XML_GetCurrentLineNumber(p),
                          XML_ErrorString(XML_GetErrorCode(p)));
            break;
        }
        if (n == 0) break;
    }
    zip_fclose(f);
    XML_ParserFree(p);
    x->p = NULL;
    return r->rc;
}

/* ---- workbook.xml and its relationships ---- */

static void XMLCALL wb_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    iz_bulk_reader_t *r = ud;
    xlsx_t *x = r->impl;
    const char *n = local(name), *v;
    if (strcmp(n, "sheet") == 0) {
        if (x->nsheets++ == 0) {
            if ((v = attr(atts, "name", false))) iz_strlcpy(x->sheet_name, v, sizeof x->sheet_name);
            if ((v = attr(atts, "id", true))) iz_strlcpy(x->sheet_rid, v, sizeof x->sheet_rid);
        }
    } else if (strcmp(n, "workbookPr") == 0) {
        v = attr(atts, "date1904", false);
        x->date1904 = v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
    }
}

/* A relationship's target as a part name: relative to xl/, or absolute. */
static char *part_name(const char *target)
{
    if (target[0] == '/') return iz_xstrdup(target + 1);
    char *s = iz_xmalloc(strlen(target) + 4);
    strcpy(s, "xl/");
    strcat(s, target);
    return s;
}

static void XMLCALL rels_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    iz_bulk_reader_t *r = ud;
    xlsx_t *x = r->impl;
    if (strcmp(local(name), "Relationship") != 0) return;
    const char *id = attr(atts, "Id", false), *type = attr(atts, "Type", false);
    const char *target = attr(atts, "Target", false);
    if (!id || !type || !target) return;
    size_t tl = strlen(type);
    if (!x->sheet_part && x->sheet_rid[0] && strcmp(id, x->sheet_rid) == 0)
        x->sheet_part = part_name(target);
    else if (!x->sst_part && tl >= 14 && strcmp(type + tl - 14, "/sharedStrings") == 0)
        x->sst_part = part_name(target);
}

/* ---- shared strings ---- */

static void sst_add(iz_bulk_reader_t *r, xlsx_t *x, const char *s, size_t n)
{
    if (r->rc) return;
    if (x->sst_len + n + 1 + (x->sst_n + 1) * sizeof(uint32_t) > IZ_BULK_SST_MAX) {
        iz__bulk_fail(r, IZ_ETOOBIG, IZ_BULK_E_SST_TOO_BIG, -1, IZ_BULK_SST_MAX / (1024 * 1024),
                      NULL);
        XML_StopParser(x->p, XML_FALSE);
        return;
    }
    if (x->sst_len + n + 1 > x->sst_cap) {
        size_t cap = x->sst_cap ? x->sst_cap : 64 * 1024;
        while (cap < x->sst_len + n + 1)
            cap *= 2;
        x->sst = iz_xrealloc(x->sst, cap);
        x->sst_cap = cap;
    }
    memcpy(x->sst + x->sst_len, s, n);
    x->sst_len += n;
}

static void XMLCALL sst_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    (void)atts;
    iz_bulk_reader_t *r = ud;
    xlsx_t *x = r->impl;
    const char *n = sheet_local(name);
    if (strcmp(n, "si") == 0) {
        if (x->sst_n == x->sst_ncap) {
            x->sst_ncap = x->sst_ncap ? x->sst_ncap * 2 : 1024;
            x->sst_off = iz_xrealloc(x->sst_off, x->sst_ncap * sizeof *x->sst_off);
        }
        x->sst_off[x->sst_n] = (uint32_t)x->sst_len;
        x->in_si = true;
        x->rph = 0;
    } else if (strcmp(n, "rPh") == 0) {
        x->rph++;
    } else if (strcmp(n, "t") == 0) {
        x->in_t = true;
    }
}

static void XMLCALL sst_end(void *ud, const XML_Char *name)
{
    iz_bulk_reader_t *r = ud;
    xlsx_t *x = r->impl;
    const char *n = sheet_local(name);
    if (strcmp(n, "si") == 0 && x->in_si) {
        sst_add(r, x, "", 1); /* its NUL */
        if (!r->rc) x->sst_n++;
        x->in_si = false;
    } else if (strcmp(n, "rPh") == 0) {
        if (x->rph) x->rph--;
    } else if (strcmp(n, "t") == 0) {
        x->in_t = false;
    }
}

static void XMLCALL sst_text(void *ud, const XML_Char *s, int len)
{
    iz_bulk_reader_t *r = ud;
    xlsx_t *x = r->impl;
    if (x->in_si && x->in_t && !x->rph) sst_add(r, x, s, (size_t)len);
}

/* ---- cells ---- */

/* The column of a reference "C5" (0 for A), or -1. */
static long ref_col(const char *ref)
{
    long c = 0;
    int n = 0;
    for (; *ref >= 'A' && *ref <= 'Z'; ref++, n++) {
        if (n == 3) return -1;
        c = c * 26 + (*ref - 'A' + 1);
    }
    return n == 0 || c > X_COLS_MAX ? -1 : c - 1;
}

static void row_problem(xlsx_t *x, iz_bulk_code_t code, const char *detail)
{
    if (x->row_problem != IZ_BULK_OK) return;
    x->row_problem = code;
    iz_strlcpy(x->row_detail, detail ? detail : "", sizeof x->row_detail);
}

/* An Excel serial date as "YYYY-MM-DD HH:MM:SS" into out; false when v is
 * no date (negative, past 9999). 1900 system: serial 1 is 1900-01-01, and
 * Excel counts a 1900-02-29 (serial 60, kept as that text) that never was,
 * so from serial 61 on the days count from 1899-12-30; 1904 system: serial
 * 0 is 1904-01-01. The fraction is the time of day, to the nearest
 * second. */
static bool serial_date(double v, bool date1904, char out[IZ_DATETIME_LEN])
{
    if (!(v >= 0 && v < 2958466.0)) return false;
    int64_t days = (int64_t)floor(v);
    int64_t secs = llround((v - (double)days) * 86400.0);
    if (secs >= 86400) {
        days++;
        secs -= 86400;
    }
    int64_t unix_days;
    if (date1904) {
        unix_days = days - 24107; /* 1904-01-01 is 24107 days before 1970-01-01 */
    } else if (days == 60) {
        iz_tr_format((59 - 25568) * 86400LL + secs - IZ_TR_OFFSET, out); /* 1900-02-28 */
        out[9] = '9';
        return true;
    } else {
        unix_days = days - (days < 60 ? 25568 : 25569); /* 1970-01-01 is serial 25569 */
    }
    if (unix_days > 2932896) return false; /* past 9999-12-31 */
    iz_tr_format(unix_days * 86400 + secs - IZ_TR_OFFSET, out);
    return true;
}

/* A number cell's text for field f (-1: not a consent field) into out (64
 * bytes); returns its length. */
static size_t number_text(const char *s, size_t len, int f, bool date1904, char *out)
{
    /* Digits alone (a phone number), the common cell: its integer as
     * written, without leading zeros, as "%.0f" of its value gives it. */
    if (f != IZ_BULK_CONSENT_DATE && len > 0 && len <= 15 && strspn(s, "0123456789") == len) {
        while (len > 1 && *s == '0') {
            s++;
            len--;
        }
        memcpy(out, s, len);
        out[len] = '\0';
        return len;
    }
    char *end;
    double v = len ? strtod(s, &end) : 0;
    if (len == 0 || end != s + len || !isfinite(v)) goto as_is;
    if (f == IZ_BULK_CONSENT_DATE) {
        if (!serial_date(v, date1904, out)) goto as_is;
        return strlen(out);
    }
    if (v == floor(v) && fabs(v) < 1e15) return (size_t)snprintf(out, 64, "%.0f", v);
as_is:
    if (len > 63) len = 63;
    memcpy(out, s, len);
    out[len] = '\0';
    return len;
}

/* Store one value of the row being read: in the header, or as field f. */
static void row_store(xlsx_t *x, long col, const char *s, size_t len)
{
    if (!x->header_done) {
        if (col < X_HDR_MAX && !x->hdr[col]) x->hdr[col] = iz_xstrndup(s, len);
        x->row_nonempty = true;
        return;
    }
    int f = (size_t)col < x->ncols ? x->map[col] : -1;
    const char *t = iz__bulk_trim(s, &len);
    if (f >= 0 && len > 0 && x->foff[f] < 0) {
        if (x->flen + len + 1 > X_FBUF) {
            row_problem(x, IZ_BULK_R_TOO_LONG, NULL);
        } else {
            x->foff[f] = (int)x->flen;
            memcpy(x->fbuf + x->flen, t, len);
            x->flen += len;
            x->fbuf[x->flen++] = '\0';
        }
    }
    if (len > 0) x->row_nonempty = true;
    /* The raw text: every cell from column A, joined with commas. */
    if (x->raw_next == 0) {
        for (long i = 0; i < col; i++)
            iz__bulk_raw_add_valid(&x->raw, ",", 1);
    } else {
        for (long i = x->raw_next; i <= col; i++)
            iz__bulk_raw_add_valid(&x->raw, ",", 1);
        if (col < x->raw_next) iz__bulk_raw_add_valid(&x->raw, ",", 1);
    }
    iz__bulk_raw_add_cell(&x->raw, s, len ? (size_t)(t - s) + len : 0);
    if (col + 1 > x->raw_next) x->raw_next = col + 1;
}

/* The cell that just ended: its value by its type. */
static void cell_end(xlsx_t *x)
{
    char num[64];
    const char *s = x->cell;
    size_t len = x->cell_len;
    x->cell[len] = '\0';
    if (x->col < 0) {
        row_problem(x, IZ_BULK_R_CELL, "a cell reference out of range");
        return;
    }
    if (x->cell_long) {
        row_problem(x, IZ_BULK_R_TOO_LONG, NULL);
        return;
    }
    int f = x->header_done && (size_t)x->col < x->ncols ? x->map[x->col] : -1;
    switch (x->ctype) {
    case 's': {
        char *end;
        unsigned long i = len ? strtoul(s, &end, 10) : 0;
        if (len == 0 || end != s + len || i >= x->sst_n) {
            char d[96];
            snprintf(d, sizeof d, "shared string %.40s does not exist", s);
            row_problem(x, IZ_BULK_R_CELL, d);
            return;
        }
        s = x->sst + x->sst_off[i];
        len = strlen(s);
        break;
    }
    case 'b':
        if (len == 1 && (s[0] == '0' || s[0] == '1')) {
            s = s[0] == '1' ? "TRUE" : "FALSE";
            len = strlen(s);
        }
        break;
    case 'd': /* ISO 8601: 2024-01-05T10:00:00 */
        if (len >= 19 && x->cell[10] == 'T') {
            x->cell[10] = ' ';
            len = 19;
        }
        break;
    case 'n':
        if (x->header_done) {
            len = number_text(s, len, f, x->date1904, num);
            s = num;
        }
        break;
    default: /* inline strings, formula text, errors: as written */
        break;
    }
    /* The row's bound counts the values, a shared string's whole text. */
    x->row_bytes += len;
    if (x->row_bytes > IZ_BULK_LINE_MAX) {
        row_problem(x, IZ_BULK_R_TOO_LONG, NULL);
        return;
    }
    row_store(x, x->col, s, len);
}

static void row_reset(xlsx_t *x)
{
    x->flen = 0;
    for (int i = 0; i < IZ_BULK_NFIELDS; i++)
        x->foff[i] = -1;
    x->row_bytes = 0;
    x->row_nonempty = false;
    x->row_problem = IZ_BULK_OK;
    x->row_detail[0] = '\0';
    iz__bulk_raw_reset(&x->raw);
    x->raw_next = 0;
    x->last_col = -1;
}

/* The header row is complete: map its columns. */
static void header_end(iz_bulk_reader_t *r, xlsx_t *x)
{
    size_t n = 0;
    for (size_t i = 0; i < X_HDR_MAX; i++)
        if (x->hdr[i]) n = i + 1;
    const char *names[X_HDR_MAX] = {NULL};
    for (size_t i = 0; i < n; i++)
        names[i] = x->hdr[i] ? x->hdr[i] : "";
    x->ncols = n;
    if (iz__bulk_header_map(r, names, n, x->map, x->rownum) < 0) {
        XML_StopParser(x->p, XML_FALSE);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(x->hdr[i]);
        x->hdr[i] = NULL;
    }
    x->header_done = true;
    x->suspended_header = true;
    XML_StopParser(x->p, XML_TRUE);
}

static void XMLCALL sheet_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    iz_bulk_reader_t *r = ud;
    xlsx_t *x = r->impl;
    const char *n = sheet_local(name);
    if (strcmp(n, "c") == 0) {
        const char *ref = sheet_attr(atts, "r"), *t = sheet_attr(atts, "t");
        x->col = ref ? ref_col(ref) : x->last_col + 1;
        if (x->col >= 0) x->last_col = x->col;
        x->ctype = !t || strcmp(t, "n") == 0     ? 'n'
                   : strcmp(t, "s") == 0         ? 's'
                   : strcmp(t, "inlineStr") == 0 ? 'i'
                   : strcmp(t, "b") == 0         ? 'b'
                   : strcmp(t, "e") == 0         ? 'e'
                   : strcmp(t, "d") == 0         ? 'd'
                                                 : 't';
        x->cell_len = 0;
        x->cell_long = false;
        x->in_v = x->in_is = x->in_t = false;
        x->rph = 0;
    } else if (strcmp(n, "v") == 0) {
        x->in_v = true;
    } else if (strcmp(n, "is") == 0) {
        x->in_is = true;
    } else if (strcmp(n, "t") == 0) {
        x->in_t = true;
    } else if (strcmp(n, "rPh") == 0) {
        x->rph++;
    } else if (strcmp(n, "row") == 0) {
        const char *rn = sheet_attr(atts, "r");
        int64_t v;
        x->rownum = rn && iz_parse_i64(rn, 1, INT32_MAX, &v) == 0 ? v : x->last_row + 1;
        x->last_row = x->rownum;
        row_reset(x);
    }
}

static void XMLCALL sheet_end(void *ud, const XML_Char *name)
{
    iz_bulk_reader_t *r = ud;
    xlsx_t *x = r->impl;
    const char *n = sheet_local(name);
    if (strcmp(n, "v") == 0) {
        x->in_v = false;
    } else if (strcmp(n, "t") == 0) {
        x->in_t = false;
    } else if (strcmp(n, "is") == 0) {
        x->in_is = false;
    } else if (strcmp(n, "rPh") == 0) {
        if (x->rph) x->rph--;
    } else if (strcmp(n, "c") == 0) {
        cell_end(x);
    } else if (strcmp(n, "row") == 0) {
        if (!x->row_nonempty && x->row_problem == IZ_BULK_OK) return; /* an empty row */
        if (!x->header_done) {
            header_end(r, x);
        } else {
            x->row_ready = true;
            XML_StopParser(x->p, XML_TRUE);
        }
    }
}

static void XMLCALL sheet_text(void *ud, const XML_Char *s, int len)
{
    iz_bulk_reader_t *r = ud;
    xlsx_t *x = r->impl;
    if (!(x->in_v || (x->in_is && x->in_t && !x->rph))) return;
    if (x->cell_len + (size_t)len > IZ_BULK_LINE_MAX) {
        x->cell_long = true;
        return;
    }
    memcpy(x->cell + x->cell_len, s, (size_t)len);
    x->cell_len += (size_t)len;
}

/* Run the sheet's parser until it suspends (a row, or the header, is
 * ready) or the sheet ends. 0, or the failure's code. */
static int pump(iz_bulk_reader_t *r, xlsx_t *x)
{
    while (!x->finished) {
        XML_ParsingStatus ps;
        enum XML_Status st;
        XML_GetParsingStatus(x->p, &ps);
        if (ps.parsing == XML_SUSPENDED) {
            st = XML_ResumeParser(x->p);
        } else {
            void *b = XML_GetBuffer(x->p, X_CHUNK);
            if (!b) iz_oom();
            zip_int64_t n = zip_fread(x->sheet, b, X_CHUNK);
            if (n < 0)
                return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_XLSX, -1, 0, "%s: %s", x->sheet_part,
                                     zip_file_strerror(x->sheet));
            r->done += (uint64_t)n;
            x->final_sent = n == 0;
            st = XML_ParseBuffer(x->p, (int)n, n == 0);
        }
        if (st == XML_STATUS_ERROR) {
            if (r->rc) return r->rc;
            return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_XLSX, -1, 0, "%s, line %lu: %s",
                                 x->sheet_part, (unsigned long)XML_GetCurrentLineNumber(x->p),
                                 XML_ErrorString(XML_GetErrorCode(x->p)));
        }
        if (st == XML_STATUS_SUSPENDED) return 0;
        if (x->final_sent) x->finished = true;
    }
    return 0;
}

static int xlsx_next(iz_bulk_reader_t *r, iz_bulk_row_t *row)
{
    xlsx_t *x = r->impl;
    x->row_ready = false;
    int rc = pump(r, x);
    if (rc < 0) return rc;
    if (!x->row_ready) return 0;
    row->line = x->rownum;
    iz__bulk_raw_to_row(&x->raw, row);
    if (x->row_problem != IZ_BULK_OK) {
        iz__bulk_note(&row->problem, x->row_problem, x->rownum, IZ_BULK_LINE_MAX, 0, x->row_detail);
        return 1;
    }
    for (int i = 0; i < IZ_BULK_NFIELDS; i++)
        row->field[i] = x->foff[i] >= 0 ? x->fbuf + x->foff[i] : NULL;
    return 1;
}

static void xlsx_free(iz_bulk_reader_t *r)
{
    xlsx_t *x = r->impl;
    if (!x) return;
    if (x->p) XML_ParserFree(x->p);
    if (x->sheet) zip_fclose(x->sheet);
    if (x->zip) zip_discard(x->zip);
    for (size_t i = 0; i < X_HDR_MAX; i++)
        free(x->hdr[i]);
    free(x->sheet_part);
    free(x->sst_part);
    free(x->sst);
    free(x->sst_off);
    free(x->cell);
    free(x->fbuf);
    free(x);
    r->impl = NULL;
}

static const iz__bulk_ops_t xlsx_ops = {xlsx_next, xlsx_free};

int iz__bulk_xlsx_open(iz_bulk_reader_t *r, int fd)
{
    xlsx_t *x = iz_xcalloc(1, sizeof *x);
    r->impl = x;
    r->ops = &xlsx_ops;
    r->done = 0;
    x->cell = iz_xmalloc(IZ_BULK_LINE_MAX + 1);
    x->fbuf = iz_xmalloc(X_FBUF);

    int zfd = dup(fd);
    int zerr = 0;
    if (zfd < 0) return iz__bulk_fail(r, IZ_EIO, IZ_BULK_E_READ, -1, 0, "dup: %s", strerror(errno));
    x->zip = zip_fdopen(zfd, ZIP_RDONLY, &zerr);
    if (!x->zip) {
        zip_error_t ze;
        close(zfd);
        zip_error_init_with_code(&ze, zerr);
        iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_NOT_ZIP, -1, 0, "%s", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return r->rc;
    }

    /* The workbook: its first sheet, the date system; then the shared
     * strings, when there are any. */
    int rc = parse_part(r, x, "xl/workbook.xml", true, wb_start, NULL, NULL);
    if (rc == 0) rc = parse_part(r, x, "xl/_rels/workbook.xml.rels", true, rels_start, NULL, NULL);
    if (rc < 0) return rc;
    if (!x->sheet_part || zip_name_locate(x->zip, x->sheet_part, ZIP_FL_NOCASE) < 0) {
        free(x->sheet_part);
        x->sheet_part = iz_xstrdup("xl/worksheets/sheet1.xml");
    }
    if (!x->sst_part) x->sst_part = iz_xstrdup("xl/sharedStrings.xml");
    if (x->nsheets > 1) iz__bulk_warn(r, IZ_BULK_W_SHEETS, x->nsheets, x->sheet_name);
    rc = parse_part(r, x, x->sst_part, false, sst_start, sst_end, sst_text);
    if (rc < 0) return rc;

    /* The sheet, up to its header. */
    zip_int64_t idx = zip_name_locate(x->zip, x->sheet_part, ZIP_FL_NOCASE);
    zip_stat_t zs;
    if (idx < 0 || !(x->sheet = zip_fopen_index(x->zip, (zip_uint64_t)idx, 0)))
        return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_XLSX, -1, 0, "no worksheet (%s)",
                             x->sheet_part);
    if (zip_stat_index(x->zip, (zip_uint64_t)idx, 0, &zs) == 0 && (zs.valid & ZIP_STAT_SIZE))
        r->total = zs.size;
    x->p = new_parser(r, false);
    XML_SetElementHandler(x->p, sheet_start, sheet_end);
    XML_SetCharacterDataHandler(x->p, sheet_text);
    x->last_col = -1;
    row_reset(x);
    rc = pump(r, x);
    if (rc < 0) return rc;
    if (!x->header_done) return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_EMPTY, -1, 0, NULL);
    return 0;
}
