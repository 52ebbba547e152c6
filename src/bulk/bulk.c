/*
 * bulk.c - what the bulk readers share: opening (from a callback, a file
 * descriptor or a path, with the format sniffed when asked), the dispatch
 * to csv.c, xlsx.c and json.c, failures and warnings and their sentences in
 * Turkish and English, the header's column names, the bounded raw text of a
 * row, and Windows-1254.
 */
#include "bulk/bulk_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/iz.h"
#include "core/smstext.h"
#include "core/utf8.h"

const char *iz_bulk_format_name(iz_bulk_format_t f)
{
    switch (f) {
    case IZ_BULK_CSV:
        return "csv";
    case IZ_BULK_XLSX:
        return "xlsx";
    case IZ_BULK_JSON:
        return "json";
    default:
        return "auto";
    }
}

const char *iz_bulk_field_name(iz_bulk_field_t f)
{
    static const char *const names[IZ_BULK_NFIELDS] = {
        "recipient",   "type",          "status",       "source",
        "consentDate", "recipientType", "retailerCode", "retailerAccess"};
    return (int)f >= 0 && f < IZ_BULK_NFIELDS ? names[f] : "";
}

/* The media type of a Content-Type, without parameters, compared
 * case-insensitively with want. */
static bool ctype_is(const char *ct, size_t len, const char *want)
{
    return strlen(want) == len && strncasecmp(ct, want, len) == 0;
}

iz_bulk_format_t iz_bulk_format_sniff(const void *head, size_t len, const char *content_type)
{
    const unsigned char *p = head;
    if (len >= 4 && memcmp(p, "PK\3\4", 4) == 0) return IZ_BULK_XLSX;
    if (content_type && *content_type) {
        const char *ct = content_type;
        while (*ct == ' ' || *ct == '\t')
            ct++;
        size_t n = strcspn(ct, "; \t");
        if (ctype_is(ct, n, "text/csv") || ctype_is(ct, n, "text/plain") ||
            ctype_is(ct, n, "application/csv") || ctype_is(ct, n, "application/vnd.ms-excel") ||
            ctype_is(ct, n, "text/comma-separated-values"))
            return IZ_BULK_CSV;
        if (ctype_is(ct, n, "application/json") ||
            (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0))
            return IZ_BULK_JSON;
        if (ctype_is(ct, n, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
            return IZ_BULK_XLSX;
    }
    size_t i = 0;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) i = 3;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i < len && p[i] == '[') return IZ_BULK_JSON;
    return len > 0 ? IZ_BULK_CSV : IZ_BULK_AUTO;
}

/* ---- notes ---- */

void iz__bulk_note(iz_bulk_note_t *n, iz_bulk_code_t code, int64_t line, long n1, long n2,
                   const char *detail)
{
    n->code = code;
    n->line = line;
    n->n1 = n1;
    n->n2 = n2;
    n->detail[0] = '\0';
    if (!detail) return;
    /* Details echo input (a column's name, jansson's words about a bad
     * element): keep them one line of valid UTF-8, cut at a character. */
    size_t len = strlen(detail), o = 0;
    for (size_t i = 0; i < len;) {
        size_t ok = iz_utf8_valid_prefix(detail + i, len - i);
        if (ok == 0) {
            if (o + 1 >= sizeof n->detail) break;
            n->detail[o++] = '?';
            i++;
            continue;
        }
        size_t k = ok;
        if (o + k >= sizeof n->detail)
            k = iz_utf8_valid_prefix(detail + i, sizeof n->detail - 1 - o);
        for (size_t j = 0; j < k; j++) {
            unsigned char c = (unsigned char)detail[i + j];
            n->detail[o + j] = c < 0x20 ? ' ' : (char)c;
        }
        o += k;
        i += k;
        if (k < ok) break;
    }
    n->detail[o] = '\0';
}

int iz__bulk_fail(iz_bulk_reader_t *r, int rc, iz_bulk_code_t code, int64_t line, long n1,
                  const char *detail, ...)
{
    if (r->rc) return r->rc;
    char buf[4 * sizeof r->failure.detail]; /* iz__bulk_note() cuts it at a character */
    buf[0] = '\0';
    if (detail) {
        va_list ap;
        va_start(ap, detail);
        vsnprintf(buf, sizeof buf, detail, ap);
        va_end(ap);
    }
    iz__bulk_note(&r->failure, code, line, n1, 0, buf);
    r->rc = rc;
    return rc;
}

void iz__bulk_warn(iz_bulk_reader_t *r, iz_bulk_code_t code, long n1, const char *detail)
{
    for (size_t i = 0; i < r->nwarn; i++)
        if (r->warn[i].code == code && strcmp(r->warn[i].detail, detail ? detail : "") == 0) return;
    if (r->nwarn < IZ_BULK_WARN_MAX - 1) {
        iz__bulk_note(&r->warn[r->nwarn++], code, -1, n1, 0, detail);
    } else if (r->nwarn == IZ_BULK_WARN_MAX - 1) {
        iz__bulk_note(&r->warn[r->nwarn++], IZ_BULK_W_MORE, -1, 1, 0, NULL);
    } else {
        r->warn[IZ_BULK_WARN_MAX - 1].n1++;
    }
}

/* The sentences of the notes, by code: {English, Turkish}. In them %1
 * and %2 stand for n1 and n2, %L for the line, %D for the detail. */
static const char *const texts[][2] = {
    [IZ_BULK_OK] = {"No problem.", "Sorun yok."},
    [IZ_BULK_R_COLUMNS] = {"The row has %1 fields; the header has %2 columns.",
                           "Satırda %1 alan var; başlıkta %2 sütun var."},
    [IZ_BULK_R_QUOTE] = {"Bad quoting: a quote inside an unquoted field, or text after a closing "
                         "quote.",
                         "Hatalı tırnak: tırnaksız bir alanın içinde tırnak ya da kapanan "
                         "tırnaktan sonra metin var."},
    [IZ_BULK_R_UNTERMINATED] = {"A quoted field is not closed before the end of the file.",
                                "Tırnaklı bir alan dosyanın sonuna kadar kapanmıyor."},
    [IZ_BULK_R_ENCODING] = {"The row is not valid UTF-8 text (or holds a NUL byte).",
                            "Satır geçerli UTF-8 metin değil (ya da NUL baytı içeriyor)."},
    [IZ_BULK_R_TOO_LONG] = {"The row is longer than %1 bytes.", "Satır %1 bayttan uzun."},
    [IZ_BULK_R_CELL] = {"A cell cannot be read: %D.", "Bir hücre okunamadı: %D."},
    [IZ_BULK_R_JSON] = {"The element is not valid JSON: %D.", "Öğe geçerli JSON değil: %D."},
    [IZ_BULK_R_NOT_OBJECT] = {"The element is not a JSON object.", "Öğe bir JSON nesnesi değil."},
    [IZ_BULK_E_READ] = {"The file cannot be read: %D.", "Dosya okunamadı: %D."},
    [IZ_BULK_E_EMPTY] = {"The file is empty: there is no header line.",
                         "Dosya boş: başlık satırı yok."},
    [IZ_BULK_E_HEADER] = {"The header line cannot be read: %D.", "Başlık satırı okunamadı: %D."},
    [IZ_BULK_E_MISSING_COLUMN] = {"The header has no column %D (the first line must name the "
                                  "columns: recipient,type,status,source,consentDate,"
                                  "recipientType or alici,tip,durum,kaynak,tarih,alici_tipi).",
                                  "Başlık satırında %D sütunu yok (ilk satır sütunları "
                                  "adlandırmalı: recipient,type,status,source,consentDate,"
                                  "recipientType ya da alici,tip,durum,kaynak,tarih,alici_tipi)."},
    [IZ_BULK_E_DUP_COLUMN] = {"The header names the column %D twice.",
                              "Başlık satırında %D sütunu iki kez var."},
    [IZ_BULK_E_HEADER_WIDE] = {"The header has more than %1 columns.",
                               "Başlık satırında %1 sütundan fazlası var."},
    [IZ_BULK_E_LINE_TOO_LONG] = {"The row starting at line %L is longer than %1 bytes (a quote "
                                 "that is never closed?).",
                                 "%L. satırda başlayan kayıt %1 bayttan uzun (kapanmayan bir "
                                 "tırnak olabilir)."},
    [IZ_BULK_E_NOT_ZIP] = {"The file is not an XLSX workbook: %D.",
                           "Dosya bir XLSX çalışma kitabı değil: %D."},
    [IZ_BULK_E_XLSX] = {"The workbook cannot be read: %D.", "Çalışma kitabı okunamadı: %D."},
    [IZ_BULK_E_SST_TOO_BIG] = {"The workbook's shared strings are larger than %1 MiB.",
                               "Çalışma kitabının ortak metin tablosu %1 MiB'tan büyük."},
    [IZ_BULK_E_NOT_ARRAY] = {"The JSON is not an array of consents (it must start with '[').",
                             "JSON bir izin dizisi değil ('[' ile başlamalı)."},
    [IZ_BULK_E_JSON_SYNTAX] = {"The JSON array is broken at element %1: %D.",
                               "JSON dizisi %1. öğede bozuk: %D."},
    [IZ_BULK_E_FORMAT] = {"The file cannot be read this way: %D.",
                          "Dosya bu yoldan okunamıyor: %D."},
    [IZ_BULK_W_EXTRA_COLUMN] = {"Column \"%D\" is not a consent field and was ignored.",
                                "\"%D\" sütunu bir izin alanı değil, yok sayıldı."},
    [IZ_BULK_W_UNKNOWN_KEY] = {"Key \"%D\" is not a consent field and was ignored.",
                               "\"%D\" anahtarı bir izin alanı değil, yok sayıldı."},
    [IZ_BULK_W_CP1254] = {"The file is not UTF-8: it was read as Windows-1254 (Turkish) and "
                          "converted.",
                          "Dosya UTF-8 değil: Windows-1254 (Türkçe) olarak okundu ve "
                          "dönüştürüldü."},
    [IZ_BULK_W_SEMICOLON] = {"The columns are separated by ';'.", "Sütunlar ';' ile ayrılmış."},
    [IZ_BULK_W_SHEETS] = {"The workbook has %1 sheets; only the first, \"%D\", was read.",
                          "Çalışma kitabında %1 sayfa var; yalnızca ilki, \"%D\", okundu."},
    [IZ_BULK_W_MORE] = {"%1 more warnings were left out.", "%1 uyarı daha gösterilmedi."},
};

/* Append n bytes of s to buf (size bytes) at *len, as far as they fit;
 * *len counts them all. */
static void put(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
    if (*len + 1 < size) {
        size_t k = size - 1 - *len < n ? size - 1 - *len : n;
        memcpy(buf + *len, s, k);
    }
    *len += n;
}

size_t iz_bulk_note_text(const iz_bulk_note_t *n, bool en, char *buf, size_t size)
{
    const char *t = (size_t)n->code < IZ_ARRAY_LEN(texts) && texts[n->code][0]
                        ? texts[n->code][en ? 0 : 1]
                    : en ? "Unknown problem."
                         : "Bilinmeyen sorun.";
    size_t len = 0;
    while (*t) {
        const char *pct = strchr(t, '%');
        if (!pct) pct = t + strlen(t);
        put(buf, size, &len, t, (size_t)(pct - t));
        t = pct;
        if (!*t) break;
        char num[24];
        const char *ins = num;
        switch (t[1]) {
        case '1':
            snprintf(num, sizeof num, "%ld", n->n1);
            break;
        case '2':
            snprintf(num, sizeof num, "%ld", n->n2);
            break;
        case 'L':
            snprintf(num, sizeof num, "%lld", (long long)n->line);
            break;
        case 'D':
            ins = n->detail;
            break;
        default:
            ins = "%";
            t--; /* a lone '%' */
        }
        put(buf, size, &len, ins, strlen(ins));
        t += 2;
    }
    if (size > 0) {
        size_t end = len < size ? len : size - 1;
        buf[end] = '\0';
        if (len >= size) buf[iz_utf8_valid_prefix(buf, end)] = '\0'; /* not in a character */
    }
    return len;
}

const char *iz_bulk_note_hcode(const iz_bulk_note_t *n)
{
    return n->code == IZ_BULK_R_JSON || n->code == IZ_BULK_R_NOT_OBJECT ? "H014" : "IZ400";
}

void iz_bulk_row_raw(const iz_bulk_row_t *row, iz_consent_raw_t *raw)
{
    iz_field_t *f[IZ_BULK_NFIELDS] = {
        &raw->recipient,    &raw->type,           &raw->status,        &raw->source,
        &raw->consent_date, &raw->recipient_type, &raw->retailer_code, &raw->retailer_access};
    for (int i = 0; i < IZ_BULK_NFIELDS; i++) {
        if (row->null_value & (1u << i))
            *f[i] = (iz_field_t){IZ_FIELD_NULL, NULL, 0};
        else if (row->field[i])
            *f[i] = (iz_field_t){IZ_FIELD_STRING, row->field[i], strlen(row->field[i])};
        else if (row->not_string & (1u << i))
            *f[i] = (iz_field_t){IZ_FIELD_NOT_STRING, NULL, 0};
        else
            *f[i] = (iz_field_t){IZ_FIELD_ABSENT, NULL, 0};
    }
    raw->unknown_field = NULL;
}

/* ---- the header ---- */

int iz__bulk_header_field(const char *name, size_t len)
{
    static const char *const names[][2] = {
        {"recipient", "alici"},       {"type", "tip"},
        {"status", "durum"},          {"source", "kaynak"},
        {"consentdate", "tarih"},     {"recipienttype", "alicitipi"},
        {"retailercode", "bayikodu"}, {"retaileraccess", "bayierisim"},
    };
    char folded[72], key[72];
    size_t k = 0;
    name = iz__bulk_trim(name, &len);
    if (len == 0 || len >= sizeof folded || iz_smstext_fold(name, len, folded, sizeof folded) != 0)
        return -1;
    for (const char *p = folded; *p; p++)
        if (*p != ' ') key[k++] = *p;
    key[k] = '\0';
    for (int f = 0; f < IZ_BULK_NFIELDS; f++)
        if (strcmp(key, names[f][0]) == 0 || strcmp(key, names[f][1]) == 0) return f;
    return -1;
}

int iz__bulk_header_map(iz_bulk_reader_t *r, const char *const *names, size_t ncols, int8_t *map,
                        int64_t line)
{
    static const char *const tr[IZ_BULK_NFIELDS] = {
        "alici", "tip", "durum", "kaynak", "tarih", "alici_tipi", "bayi_kodu", "bayi_erisim"};
    int col[IZ_BULK_NFIELDS];
    for (int f = 0; f < IZ_BULK_NFIELDS; f++)
        col[f] = -1;
    for (size_t i = 0; i < ncols; i++) {
        size_t len = strlen(names[i]);
        int f = iz__bulk_header_field(names[i], len);
        map[i] = (int8_t)f;
        if (f < 0) {
            const char *s = iz__bulk_trim(names[i], &len);
            if (len > 0) {
                char name[sizeof r->warn[0].detail];
                size_t n = len < sizeof name - 1 ? len : sizeof name - 1;
                while (n < len && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
                    n--; /* cut at a character */
                memcpy(name, s, n);
                name[n] = '\0';
                iz__bulk_warn(r, IZ_BULK_W_EXTRA_COLUMN, 0, name);
            }
            continue;
        }
        if (col[f] >= 0)
            return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_DUP_COLUMN, line, 0, "%s (%s)",
                                 iz_bulk_field_name(f), tr[f]);
        col[f] = (int)i;
    }
    /* recipient, type and status always; source and consentDate unless a
     * recipientType column can make a row TACIR, which may omit them. */
    char missing[sizeof r->failure.detail] = "";
    size_t mlen = 0;
    for (int f = 0; f < IZ_BULK_NFIELDS; f++) {
        bool required =
            f <= IZ_BULK_STATUS || (f < IZ_BULK_RECIPIENT_TYPE && col[IZ_BULK_RECIPIENT_TYPE] < 0);
        if (!required || col[f] >= 0) continue;
        int w = snprintf(missing + mlen, sizeof missing - mlen, "%s%s (%s)", mlen ? ", " : "",
                         iz_bulk_field_name(f), tr[f]);
        if (w > 0) mlen += (size_t)w < sizeof missing - mlen ? (size_t)w : 0;
    }
    if (mlen) return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_MISSING_COLUMN, line, 0, "%s", missing);
    return 0;
}

const char *iz__bulk_trim(const char *s, size_t *len)
{
    size_t n = *len;
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    *len = n;
    return s;
}

/* ---- raw text ---- */

#define RAW_ROOM (IZ_BULK_RAW_MAX - (sizeof IZ_BULK_RAW_CUT - 1))

void iz__bulk_raw_reset(iz__bulk_raw_t *b)
{
    b->len = 0;
    b->cut = false;
}

void iz__bulk_raw_add_valid(iz__bulk_raw_t *b, const char *s, size_t len)
{
    if (b->cut) return;
    size_t room = RAW_ROOM - b->len;
    if (len <= room) {
        memcpy(b->buf + b->len, s, len);
        b->len += len;
        return;
    }
    /* s[room] is the first byte left out: when it continues a character,
     * that character is left out whole. */
    while (room > 0 && ((unsigned char)s[room] & 0xC0) == 0x80)
        room--;
    memcpy(b->buf + b->len, s, room);
    b->len += room;
    memcpy(b->buf + b->len, IZ_BULK_RAW_CUT, sizeof IZ_BULK_RAW_CUT - 1);
    b->len += sizeof IZ_BULK_RAW_CUT - 1;
    b->cut = true;
}

void iz__bulk_raw_add(iz__bulk_raw_t *b, const char *s, size_t len)
{
    while (len > 0 && !b->cut) {
        size_t ok = iz_utf8_valid_prefix(s, len);
        const char *nul = memchr(s, '\0', ok);
        if (nul) ok = (size_t)(nul - s);
        iz__bulk_raw_add_valid(b, s, ok);
        s += ok;
        len -= ok;
        if (len > 0) {
            iz__bulk_raw_add_valid(b, "\xEF\xBF\xBD", 3); /* U+FFFD */
            s++;
            len--;
        }
    }
}

void iz__bulk_raw_add_cell(iz__bulk_raw_t *b, const char *s, size_t len)
{
    bool quote = false;
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        iz__bulk_raw_add(b, s, len);
        return;
    }
    iz__bulk_raw_add_valid(b, "\"", 1);
    for (const char *q; len > 0 && (q = memchr(s, '"', len)) != NULL;) {
        size_t n = (size_t)(q - s) + 1;
        iz__bulk_raw_add(b, s, n);
        iz__bulk_raw_add_valid(b, "\"", 1);
        s += n;
        len -= n;
    }
    iz__bulk_raw_add(b, s, len);
    iz__bulk_raw_add_valid(b, "\"", 1);
}

void iz__bulk_raw_to_row(iz__bulk_raw_t *b, iz_bulk_row_t *row)
{
    b->buf[b->len] = '\0';
    row->raw = b->buf;
    row->raw_len = b->len;
    row->raw_cut = b->cut;
}

/* ---- Windows-1254 ---- */

/* Code points of 0x80-0x9F (U+FFFD where Windows-1254 has no character);
 * 0xA0-0xFF are Latin-1 but for the six Turkish letters below. */
static const uint16_t cp1254_80[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0xFFFD, 0x0178,
};

static uint32_t cp1254(unsigned char c)
{
    switch (c) {
    case 0xD0:
        return 0x011E; /* Ğ */
    case 0xDD:
        return 0x0130; /* İ */
    case 0xDE:
        return 0x015E; /* Ş */
    case 0xF0:
        return 0x011F; /* ğ */
    case 0xFD:
        return 0x0131; /* ı */
    case 0xFE:
        return 0x015F; /* ş */
    default:
        return c < 0xA0 ? cp1254_80[c - 0x80] : c;
    }
}

size_t iz__bulk_cp1254_to_utf8(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] < 0x80)
            out[o++] = (char)in[i];
        else
            o += iz_utf8_put(cp1254(in[i]), out + o);
    }
    return o;
}

/* ---- input ---- */

ssize_t iz__bulk_read(iz_bulk_reader_t *r, void *buf, size_t n)
{
    if (r->pre_off < r->pre_len) {
        size_t k = r->pre_len - r->pre_off;
        if (k > n) k = n;
        memcpy(buf, r->pre + r->pre_off, k);
        r->pre_off += k;
        r->done += k;
        return (ssize_t)k;
    }
    for (;;) {
        ssize_t got = r->read(r->ctx, buf, n);
        if (got >= 0) {
            r->done += (uint64_t)got;
            return got;
        }
        if (errno == EINTR) continue;
        iz__bulk_fail(r, IZ_EIO, IZ_BULK_E_READ, -1, 0, "%s", strerror(errno));
        return -1;
    }
}

static ssize_t fd_read(void *ctx, void *buf, size_t n)
{
    iz_bulk_reader_t *r = ctx;
    return read(r->fd, buf, n);
}

/* ---- opening ---- */

static iz_bulk_reader_t *reader_new(void)
{
    iz_bulk_reader_t *r = iz_xcalloc(1, sizeof *r);
    r->fd = -1;
    return r;
}

/* Start the format's reader; xfd is the descriptor an XLSX workbook opens
 * from (-1 for a stream). */
static int start(iz_bulk_reader_t *r, iz_bulk_format_t fmt, int xfd)
{
    if (fmt == IZ_BULK_AUTO) {
        /* Read ahead what sniffing needs; the readers get it back first. */
        while (r->pre_len < sizeof r->pre) {
            ssize_t got = r->read(r->ctx, r->pre + r->pre_len, sizeof r->pre - r->pre_len);
            if (got < 0 && errno == EINTR) continue;
            if (got < 0)
                return iz__bulk_fail(r, IZ_EIO, IZ_BULK_E_READ, -1, 0, "%s", strerror(errno));
            if (got == 0) break;
            r->pre_len += (size_t)got;
        }
        fmt = iz_bulk_format_sniff(r->pre, r->pre_len, NULL);
        if (fmt == IZ_BULK_AUTO) fmt = IZ_BULK_CSV; /* empty: the CSV reader says so */
    }
    r->fmt = fmt;
    switch (fmt) {
    case IZ_BULK_CSV:
        return iz__bulk_csv_open(r);
    case IZ_BULK_JSON:
        return iz__bulk_json_open(r);
    case IZ_BULK_XLSX:
        if (xfd < 0)
            return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_FORMAT, -1, 0,
                                 "an XLSX workbook must be opened from a file");
        return iz__bulk_xlsx_open(r, xfd);
    default:
        return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_FORMAT, -1, 0, "unknown format %d", (int)fmt);
    }
}

int iz_bulk_open(iz_bulk_reader_t **out, iz_bulk_format_t fmt, iz_bulk_read_fn read, void *ctx)
{
    iz_bulk_reader_t *r = reader_new();
    *out = r;
    if (!read) return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_FORMAT, -1, 0, "no input");
    r->read = read;
    r->ctx = ctx;
    return start(r, fmt, -1);
}

int iz_bulk_open_fd(iz_bulk_reader_t **out, iz_bulk_format_t fmt, int fd)
{
    iz_bulk_reader_t *r = reader_new();
    struct stat st;
    *out = r;
    if (fd < 0) return iz__bulk_fail(r, IZ_EINVAL, IZ_BULK_E_READ, -1, 0, "no file");
    r->fd = fd;
    r->read = fd_read;
    r->ctx = r;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        off_t at = lseek(fd, 0, SEEK_CUR);
        r->total = (uint64_t)st.st_size - (at > 0 && at <= st.st_size ? (uint64_t)at : 0);
    }
    return start(r, fmt, fd);
}

int iz_bulk_open_path(iz_bulk_reader_t **out, iz_bulk_format_t fmt, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        iz_bulk_reader_t *r = reader_new();
        *out = r;
        return iz__bulk_fail(r, IZ_EIO, IZ_BULK_E_READ, -1, 0, "%s: %s", path, strerror(errno));
    }
    int rc = iz_bulk_open_fd(out, fmt, fd);
    (*out)->own_fd = true;
    return rc;
}

int iz_bulk_next(iz_bulk_reader_t *r, iz_bulk_row_t *row)
{
    if (r->rc) return r->rc;
    for (int i = 0; i < IZ_BULK_NFIELDS; i++)
        row->field[i] = NULL;
    row->not_string = 0;
    row->null_value = 0;
    row->problem.code = IZ_BULK_OK;
    row->problem.detail[0] = '\0';
    int rc = r->ops ? r->ops->next(r, row) : IZ_EINVAL;
    if (rc < 0 && !r->rc) iz__bulk_fail(r, rc, IZ_BULK_E_READ, -1, 0, "%s", iz_strerror(rc));
    return rc < 0 ? r->rc : rc;
}

const iz_bulk_note_t *iz_bulk_failure(const iz_bulk_reader_t *r)
{
    return r->rc ? &r->failure : NULL;
}

size_t iz_bulk_warnings(const iz_bulk_reader_t *r, const iz_bulk_note_t **list)
{
    *list = r->warn;
    return r->nwarn;
}

iz_bulk_format_t iz_bulk_format(const iz_bulk_reader_t *r)
{
    return r->fmt;
}

void iz_bulk_progress(const iz_bulk_reader_t *r, uint64_t *done, uint64_t *total)
{
    *done = r->done;
    /* A file that grew, or a zip entry longer than its directory says. */
    *total = r->total && r->done > r->total ? r->done : r->total;
}

void iz_bulk_close(iz_bulk_reader_t *r)
{
    if (!r) return;
    if (r->ops && r->ops->free) r->ops->free(r);
    if (r->own_fd && r->fd >= 0) close(r->fd);
    free(r);
}
