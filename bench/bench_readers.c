/*
 * bench_readers.c - the bulk file readers' speed on one core (issue 10):
 * rows a second of a typical 6-column file read through src/bulk/, with
 * nothing else done with the rows.
 *
 * It writes the files it reads into a temporary directory (TMPDIR, else
 * /tmp) and removes them at the end: a CSV (comma, LF, UTF-8), the same
 * with ';', CRLF and quoted dates, the same in Windows-1254, a JSON array,
 * and an XLSX workbook (shared strings for the text columns, the phone
 * numbers as numbers, the dates as serials). Each file is read three times
 * and the best run counts (the machine is shared). The file is in the page
 * cache, so what is measured is the reader, not the disk.
 *
 *   bench_readers [--rows N] [--xlsx-rows N]   (defaults 1000000 and 1000000)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#include "bulk/bulk.h"
#include "core/iz.h"

#define T_CSV 2e6 /* rows a second, one core */

static const char *const types[] = {"MESAJ", "ARAMA"};
static const char *const statuses[] = {"ONAY", "RET"};
static const char *const sources[] = {"HS_WEB", "HS_FIZIKSEL_ORTAM", "HS_MESAJ", "HS_EORTAM"};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The i-th row's values. */
static void row_values(long i, char phone[16], const char **type, const char **status,
                       const char **source, char date[20])
{
    snprintf(phone, 16, "0532%07ld", i % 10000000);
    *type = types[i & 1];
    *status = statuses[(i >> 1) & 1];
    *source = sources[(i >> 2) & 3];
    snprintf(date, 20, "2024-%02ld-%02ld %02ld:%02ld:00", 1 + i % 12, 1 + i % 28, i % 24, i % 60);
}

enum { PLAIN, SEMI_QUOTED, CP1254 };

static void write_csv(const char *path, long n, int kind)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    if (kind == PLAIN)
        fputs("recipient,type,status,source,consentDate,recipientType\n", f);
    else if (kind == SEMI_QUOTED)
        fputs("alıcı;tip;durum;kaynak;tarih;alıcı_tipi\r\n", f);
    else
        fputs("al\xFD"
              "c\xFD,tip,durum,kaynak,tarih,al\xFD"
              "c\xFD_tipi\n",
              f);
    for (long i = 0; i < n; i++) {
        char phone[16], date[20];
        const char *type, *status, *source;
        row_values(i, phone, &type, &status, &source, date);
        if (kind == PLAIN)
            fprintf(f, "%s,%s,%s,%s,%s,BIREYSEL\n", phone, type, status, source, date);
        else if (kind == SEMI_QUOTED)
            fprintf(f, "%s;%s;%s;%s;\"%s\";BIREYSEL\r\n", phone, type, status, source, date);
        else
            fprintf(f, "%s,%s,%s,%s,%s,%s\n", phone, type, status, source, date,
                    i % 10 ? "BIREYSEL" : "TAC\xDDR");
    }
    fclose(f);
}

static void write_json(const char *path, long n)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    fputs("[\n", f);
    for (long i = 0; i < n; i++) {
        char phone[16], date[20];
        const char *type, *status, *source;
        row_values(i, phone, &type, &status, &source, date);
        fprintf(f,
                "%s{\"recipient\":\"%s\",\"type\":\"%s\",\"status\":\"%s\",\"source\":\"%s\","
                "\"consentDate\":\"%s\",\"recipientType\":\"BIREYSEL\"}\n",
                i ? "," : "", phone, type, status, source, date);
    }
    fputs("]\n", f);
    fclose(f);
}

/* A growing text buffer for the XLSX parts. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf_t;

static void sb_add(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap ? b->cap * 2 : 1 << 20;
        b->s = iz_xrealloc(b->s, b->cap);
    }
}

static void add_part(zip_t *z, const char *name, sbuf_t *b)
{
    zip_source_t *src = zip_source_buffer(z, b->s, b->len, 0);
    zip_int64_t idx = src ? zip_file_add(z, name, src, ZIP_FL_OVERWRITE) : -1;
    if (idx < 0) {
        fprintf(stderr, "zip: %s\n", zip_strerror(z));
        exit(1);
    }
    zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 1);
}

static void write_xlsx(const char *path, long n)
{
    static const char *const strings[] = {
        "recipient", "type",      "status",  "source", "consentDate", "recipientType",
        "MESAJ",     "ARAMA",     "ONAY",    "RET",    "HS_WEB",      "HS_FIZIKSEL_ORTAM",
        "HS_MESAJ",  "HS_EORTAM", "BIREYSEL"};
    sbuf_t wb = {0}, rels = {0}, sst = {0}, sheet = {0};
    int err;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) {
        fprintf(stderr, "zip_open %s: %d\n", path, err);
        exit(1);
    }
    sb_add(&wb, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
                "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
                "<sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>");
    sb_add(&rels,
           "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
           "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
           "2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
           "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
           "2006/relationships/sharedStrings\" Target=\"sharedStrings.xml\"/></Relationships>");
    sb_add(&sst, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sst "
                 "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">");
    for (size_t i = 0; i < IZ_ARRAY_LEN(strings); i++)
        sb_add(&sst, "<si><t>%s</t></si>", strings[i]);
    sb_add(&sst, "</sst>");
    sb_add(&sheet, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<worksheet "
                   "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>"
                   "<row r=\"1\">");
    for (int c = 0; c < 6; c++)
        sb_add(&sheet, "<c r=\"%c1\" t=\"s\"><v>%d</v></c>", 'A' + c, c);
    sb_add(&sheet, "</row>");
    for (long i = 0; i < n; i++) {
        long r = i + 2;
        double serial = 45292.0 + (double)(i % 700) + (double)(i % 86400) / 86400.0;
        sb_add(&sheet,
               "<row r=\"%ld\"><c r=\"A%ld\"><v>%ld</v></c><c r=\"B%ld\" t=\"s\"><v>%d</v></c>"
               "<c r=\"C%ld\" t=\"s\"><v>%d</v></c><c r=\"D%ld\" t=\"s\"><v>%d</v></c>"
               "<c r=\"E%ld\" s=\"1\"><v>%.10g</v></c><c r=\"F%ld\" t=\"s\"><v>14</v></c></row>",
               r, r, 5320000000L + i % 10000000, r, 6 + (int)(i & 1), r, 8 + (int)((i >> 1) & 1), r,
               10 + (int)((i >> 2) & 3), r, serial, r);
    }
    sb_add(&sheet, "</sheetData></worksheet>");
    add_part(z, "xl/workbook.xml", &wb);
    add_part(z, "xl/_rels/workbook.xml.rels", &rels);
    add_part(z, "xl/sharedStrings.xml", &sst);
    add_part(z, "xl/worksheets/sheet1.xml", &sheet);
    if (zip_close(z) != 0) {
        fprintf(stderr, "zip_close: %s\n", zip_strerror(z));
        exit(1);
    }
    free(wb.s);
    free(rels.s);
    free(sst.s);
    free(sheet.s);
}

/* The resident set size now, in KiB. */
static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static long grown_kib; /* how much the RSS grew while a reader ran, the most of a file's runs */

/* Read path once: rows a second; every row must be read without problem. */
static double read_once(const char *path, long want)
{
    long rss0 = rss_kib();
    iz_bulk_reader_t *r;
    iz_bulk_row_t row;
    long rows = 0;
    double t0 = now();
    int rc = iz_bulk_open_path(&r, IZ_BULK_AUTO, path);
    if (rc == 0) {
        while ((rc = iz_bulk_next(r, &row)) == 1) {
            if (row.problem.code != IZ_BULK_OK || !row.recipient || !row.consent_date) {
                char msg[256];
                iz_bulk_note_text(&row.problem, true, msg, sizeof msg);
                fprintf(stderr, "%s: line %lld: %s %s\n", path, (long long)row.line, msg, row.raw);
                exit(1);
            }
            rows++;
        }
    }
    double t = now() - t0;
    if (rc < 0) {
        char msg[256];
        iz_bulk_note_text(iz_bulk_failure(r), true, msg, sizeof msg);
        fprintf(stderr, "%s: %s\n", path, msg);
        exit(1);
    }
    if (rss_kib() - rss0 > grown_kib) grown_kib = rss_kib() - rss0;
    iz_bulk_close(r);
    if (rows != want) {
        fprintf(stderr, "%s: %ld rows read, %ld written\n", path, rows, want);
        exit(1);
    }
    return (double)rows / t;
}

static double best_of(const char *path, long n, int runs, long *grown)
{
    double best = 0;
    grown_kib = 0;
    for (int i = 0; i < runs; i++) {
        double v = read_once(path, n);
        if (v > best) best = v;
    }
    *grown = grown_kib;
    return best;
}

static void line(const char *figure, double value, const char *unit, const char *target,
                 const char *result)
{
    char v[32];
    snprintf(v, sizeof v, "%.2f %s", value, unit);
    printf("%-48s  %-16s  %-10s  %s\n", figure, v, target, result);
}

int main(int argc, char **argv)
{
    long n = 1000000, nx = 1000000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
            n = atol(argv[++i]);
        else if (strcmp(argv[i], "--xlsx-rows") == 0 && i + 1 < argc)
            nx = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--rows N] [--xlsx-rows N]\n", argv[0]);
            return 2;
        }
    }
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/izin-bench-readers-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror(dir);
        return 1;
    }
    char csv[600], semi[600], win[600], json[600], xlsx[600];
    snprintf(csv, sizeof csv, "%s/plain.csv", dir);
    snprintf(semi, sizeof semi, "%s/semicolon.csv", dir);
    snprintf(win, sizeof win, "%s/cp1254.csv", dir);
    snprintf(json, sizeof json, "%s/rows.json", dir);
    snprintf(xlsx, sizeof xlsx, "%s/rows.xlsx", dir);

    fprintf(stderr, "bench_readers: writing %ld-row files and a %ld-row workbook in %s\n", n, nx,
            dir);
    write_csv(csv, n, PLAIN);
    write_csv(semi, n, SEMI_QUOTED);
    write_csv(win, n, CP1254);
    write_json(json, n);
    write_xlsx(xlsx, nx);

    long g_csv, g_semi, g_win, g_json, g_xlsx;
    double r_csv = best_of(csv, n, 3, &g_csv);
    double r_semi = best_of(semi, n, 3, &g_semi);
    double r_win = best_of(win, n, 3, &g_win);
    double r_json = best_of(json, n, 3, &g_json);
    double r_xlsx = best_of(xlsx, nx, 2, &g_xlsx);

    char fig[96];
    printf("%-48s  %-16s  %-10s  %s\n", "figure", "value", "target", "result");
    snprintf(fig, sizeof fig, "CSV reader, 1 core (%ld rows, 6 columns)", n);
    line(fig, r_csv / 1e6, "M rows/s", ">= 2 M/s", r_csv >= T_CSV ? "PASS" : "FAIL");
    line("  ';', CRLF, quoted dates, Turkish header", r_semi / 1e6, "M rows/s", "", "");
    line("  Windows-1254, converted to UTF-8", r_win / 1e6, "M rows/s", "", "");
    snprintf(fig, sizeof fig, "JSON array reader (%ld objects)", n);
    line(fig, r_json / 1e6, "M rows/s", "", "");
    snprintf(fig, sizeof fig, "XLSX reader (%ld rows, numbers and serials)", nx);
    line(fig, r_xlsx / 1e6, "M rows/s", "", "");
    line("memory a CSV reader adds (RSS, any file size)", (double)g_csv / 1024.0, "MiB", "", "");
    line("memory the XLSX reader adds (RSS)", (double)g_xlsx / 1024.0, "MiB", "", "");
    (void)g_semi;
    (void)g_win;
    (void)g_json;

    unlink(csv);
    unlink(semi);
    unlink(win);
    unlink(json);
    unlink(xlsx);
    rmdir(dir);
    return r_csv >= T_CSV ? 0 : 1;
}
