/*
 * json.c - the JSON reader: a top-level array of consent objects, one
 * element at a time.
 *
 * The array is never parsed whole. A small scanner finds each top-level
 * element's bytes (following strings, their escapes and the nesting depth)
 * in a buffer the input streams through, and hands just those bytes to
 * jansson. So an element that is not valid JSON, or not an object, is a row
 * problem and the file goes on; only a broken array (no '[', a missing ','
 * or ']', an unclosed element at the end, text after the ']') fails the
 * reader. Keys are the API's English names, matched exactly as the single
 * API matches them; other keys are ignored with a warning. An element, like
 * a CSV record, is at most IZ_BULK_LINE_MAX bytes.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulk/bulk_int.h"
#include "core/iz.h"
#include "net/jsonconsent.h"

#define J_BUF (256 * 1024)

typedef struct jr {
    char *buf; /* J_BUF bytes; buf[pos..len) not read yet */
    size_t pos, len;
    bool eof;
    bool done;   /* the closing ']' was read */
    int64_t idx; /* the next element's index */
    char *fbuf;  /* the fields of one element */
    iz__bulk_raw_t raw;
} jr_t;

static bool ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Move what is not read to the buffer's start and read more. 0, or the
 * failure's code. */
static int fill(iz_bulk_reader_t *r, jr_t *j)
{
    if (j->pos > 0) {
        memmove(j->buf, j->buf + j->pos, j->len - j->pos);
        j->len -= j->pos;
        j->pos = 0;
    }
    if (j->eof) return 0;
    ssize_t got = iz__bulk_read(r, j->buf + j->len, J_BUF - j->len);
    if (got < 0) return r->rc;
    if (got == 0) j->eof = true;
    j->len += (size_t)got;
    return 0;
}

/* Skip white space; the next byte, or -1 at the end of the input. Fails
 * with a negative code (below -1) when reading fails. */
static int peek(iz_bulk_reader_t *r, jr_t *j)
{
    for (;;) {
        while (j->pos < j->len && ws(j->buf[j->pos]))
            j->pos++;
        if (j->pos < j->len) return (unsigned char)j->buf[j->pos];
        if (j->eof) return -1;
        int rc = fill(r, j);
        if (rc < 0) return rc - 1; /* IZ_E* codes are -1 and below: keep them apart from -1 */
    }
}

/* Find where the element starting at buf[pos] ends (*end: its last byte
 * + 1). 1 when found, 0 when the buffer ends first, -1 when the input ends
 * inside a string or an object. */
static int element_end(const jr_t *j, size_t *end)
{
    const char *b = j->buf;
    size_t i = j->pos, depth = 0;
    bool instr = false, esc = false;
    for (; i < j->len; i++) {
        char ch = b[i];
        if (instr) {
            if (esc)
                esc = false;
            else if (ch == '\\')
                esc = true;
            else if (ch == '"')
                instr = false;
            continue;
        }
        if (ch == '"') {
            instr = true;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (depth == 0) break; /* the array's end after a scalar */
            if (--depth == 0) {
                *end = i + 1;
                return 1;
            }
        } else if (ch == ',' && depth == 0) {
            break;
        }
    }
    if (i == j->len && !j->eof) return 0;
    if (i == j->len && (instr || depth > 0)) return -1;
    while (i > j->pos && ws(b[i - 1]))
        i--;
    *end = i;
    return 1;
}

static int syntax(iz_bulk_reader_t *r, jr_t *j, const char *what)
{
    return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_JSON_SYNTAX, j->idx, (long)j->idx, "%s", what);
}

/* Turn one element into row. */
static void element_row(iz_bulk_reader_t *r, jr_t *j, const char *s, size_t n, iz_bulk_row_t *row)
{
    json_error_t err;
    json_t *v = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    iz__bulk_raw_reset(&j->raw);
    iz__bulk_raw_add(&j->raw, s, n);
    iz__bulk_raw_to_row(&j->raw, row);
    row->line = j->idx;
    if (!v) {
        iz__bulk_note(&row->problem, IZ_BULK_R_JSON, j->idx, 0, 0, err.text);
        return;
    }
    if (!json_is_object(v)) {
        iz__bulk_note(&row->problem, IZ_BULK_R_NOT_OBJECT, j->idx, 0, 0, NULL);
        json_decref(v);
        return;
    }
    const char *key;
    json_t *val;
    size_t flen = 0;
    json_object_foreach(v, key, val)
    {
        int f = 0;
        while (f < IZ_BULK_NFIELDS && strcmp(key, iz_bulk_field_name(f)) != 0)
            f++;
        if (f == IZ_BULK_NFIELDS) {
            iz__bulk_warn(r, IZ_BULK_W_UNKNOWN_KEY, 0, key);
            continue;
        }
        if (f == IZ_BULK_RETAILER_CODE || f == IZ_BULK_RETAILER_ACCESS) continue; /* below */
        if (json_is_string(val)) {
            size_t len = json_string_length(val);
            if (len == 0) continue;
            /* The values are no longer than the element's text. */
            row->field[f] = j->fbuf + flen;
            memcpy(j->fbuf + flen, json_string_value(val), len + 1);
            flen += len + 1;
        } else if (!json_is_null(val)) {
            row->not_string |= 1u << f;
        }
    }
    /* The retailer fields as the API reads them (an integer code, an
     * array of codes), as text. That text is never longer than the
     * element's own: fbuf has room. */
    iz_consent_raw_t rr;
    char code[24], list[IZ_RETAIL_JSON_TEXT];
    iz_consent_raw_retail_from_json(v, code, list, &rr);
    const iz_field_t *rf[2] = {&rr.retailer_code, &rr.retailer_access};
    for (int i = 0; i < 2; i++) {
        int f = i == 0 ? IZ_BULK_RETAILER_CODE : IZ_BULK_RETAILER_ACCESS;
        if (rf[i]->kind == IZ_FIELD_NULL) {
            row->null_value |= 1u << f;
        } else if (rf[i]->kind == IZ_FIELD_NOT_STRING) {
            row->not_string |= 1u << f;
        } else if (rf[i]->kind == IZ_FIELD_STRING) {
            row->field[f] = j->fbuf + flen;
            memcpy(j->fbuf + flen, rf[i]->s, rf[i]->len);
            j->fbuf[flen + rf[i]->len] = '\0';
            flen += rf[i]->len + 1;
        }
    }
    json_decref(v);
}

/* The array's ']' at buf[pos]: nothing but white space may follow. 0, or
 * the failure's code. */
static int close_array(iz_bulk_reader_t *r, jr_t *j)
{
    j->pos++;
    j->done = true;
    int c = peek(r, j);
    if (c < -1) return c + 1;
    return c == -1 ? 0 : syntax(r, j, "text after the array's ']'");
}

static int json_next(iz_bulk_reader_t *r, iz_bulk_row_t *row)
{
    jr_t *j = r->impl;
    if (j->done) return 0;
    int c = peek(r, j);
    if (c < -1) return c + 1;
    if (j->idx > 0) {
        /* After an element: a ',' and the next one, or the ']'. */
        if (c == ']') {
            int rc = close_array(r, j);
            return rc < 0 ? rc : 0;
        }
        if (c != ',')
            return syntax(r, j,
                          c == -1 ? "the array is not closed with ']'"
                                  : "no ',' or ']' after an element");
        j->pos++;
        c = peek(r, j);
        if (c < -1) return c + 1;
        if (c == ']') return syntax(r, j, "a ',' before ']'");
    } else if (c == ']') {
        int rc = close_array(r, j);
        return rc < 0 ? rc : 0;
    }
    if (c == -1) return syntax(r, j, "the array is not closed with ']'");
    if (c == ',') return syntax(r, j, "an empty element");

    size_t end = 0;
    int found;
    for (;;) {
        found = element_end(j, &end);
        if (found || j->len - j->pos > IZ_BULK_LINE_MAX) break;
        int rc = fill(r, j);
        if (rc < 0) return rc;
    }
    if (found < 0) return syntax(r, j, "an element is not closed");
    if (!found || end - j->pos > IZ_BULK_LINE_MAX)
        return iz__bulk_fail(r, IZ_ETOOBIG, IZ_BULK_E_LINE_TOO_LONG, j->idx, IZ_BULK_LINE_MAX,
                             NULL);
    if (end == j->pos) return syntax(r, j, "a stray '}' or ']'");
    element_row(r, j, j->buf + j->pos, end - j->pos, row);
    j->pos = end;
    j->idx++;
    return 1;
}

static void json_free(iz_bulk_reader_t *r)
{
    jr_t *j = r->impl;
    if (!j) return;
    free(j->buf);
    free(j->fbuf);
    free(j);
    r->impl = NULL;
}

static const iz__bulk_ops_t json_ops = {json_next, json_free};

int iz__bulk_json_open(iz_bulk_reader_t *r)
{
    jr_t *j = iz_xcalloc(1, sizeof *j);
    r->impl = j;
    r->ops = &json_ops;
    j->buf = iz_xmalloc(J_BUF);
    j->fbuf = iz_xmalloc(IZ_BULK_LINE_MAX + IZ_BULK_NFIELDS + 1);
    while (j->len < 3 && !j->eof) {
        int rc = fill(r, j);
        if (rc < 0) return rc;
    }
    if (j->len >= 3 && memcmp(j->buf, "\xEF\xBB\xBF", 3) == 0) j->pos = 3;
    int c = peek(r, j);
    if (c < -1) return c + 1;
    if (c != '[') return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_NOT_ARRAY, -1, 0, NULL);
    j->pos++;
    return 0;
}
