/*
 * test_xlsx.c - the bulk XLSX reader on workbooks built here with libzip:
 * the first sheet found through workbook.xml and its relationships (a
 * second sheet ignored with a warning), shared strings (rich-text runs
 * joined, phonetic runs left out) and inline strings, phone numbers stored
 * as numbers, Excel serial dates in the 1900 system (its leap-year bug
 * included) and the 1904 one, ISO dates, booleans, missing cells and rows,
 * cells with no reference, a header in Turkish in another order, and the
 * failures: not a zip, no sheet, a header missing a column, an empty
 * sheet, broken XML, a DOCTYPE, a shared string that does not exist.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include <cmocka.h>

#include "../testutil.h"
#include "bulkutil.h"

#define NS "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\""
#define NSR "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""
#define REL "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/izin-test-xlsx-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return iz_test_rmtree(dir);
}

typedef struct part {
    const char *name, *text;
} part_t;

/* Write a zip of parts (NULL-terminated by name) to dir/name; returns the
 * path (static storage). */
static const char *make_zip(const char *name, const part_t *parts)
{
    static char path[128];
    int err;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    assert_non_null(z);
    for (const part_t *p = parts; p->name; p++) {
        zip_source_t *src = zip_source_buffer(z, p->text, strlen(p->text), 0);
        assert_non_null(src);
        assert_true(zip_file_add(z, p->name, src, ZIP_FL_OVERWRITE) >= 0);
    }
    assert_int_equal(zip_close(z), 0);
    return path;
}

static void read_path(const char *path, gots_t *g)
{
    iz_bulk_reader_t *r;
    int rc = iz_bulk_open_path(&r, IZ_BULK_AUTO, path);
    collect(r, rc, g);
}

static const char workbook2[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<workbook " NS " " NSR ">"
    "<workbookPr defaultThemeVersion=\"166925\"/>"
    "<sheets><sheet name=\"Kişiler\" sheetId=\"1\" r:id=\"rId1\"/>"
    "<sheet name=\"Diğer\" sheetId=\"2\" r:id=\"rId2\"/></sheets></workbook>";

static const char rels2[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId2\" Type=\"" REL "worksheet\" Target=\"worksheets/sheet2.xml\"/>"
    "<Relationship Id=\"rId1\" Type=\"" REL "worksheet\" Target=\"worksheets/data.xml\"/>"
    "<Relationship Id=\"rId3\" Type=\"" REL "sharedStrings\" Target=\"/xl/strings.xml\"/>"
    "</Relationships>";

static const char sst[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sst " NS " count=\"11\" uniqueCount=\"11\">"
    "<si><t>alıcı</t></si><si><t>tip</t></si><si><t>Durum</t></si><si><t>kaynak</t></si>"
    "<si><t xml:space=\"preserve\"> tarih </t></si><si><t>Not</t></si><si><t>MESAJ</t></si>"
    "<si><t>ONAY</t></si><si><t>HS_WEB</t></si>"
    "<si><r><t>05</t></r><r><rPr><b/></rPr><t>321234567</t></r>"
    "<rPh sb=\"0\" eb=\"1\"><t>yomi</t></rPh></si>"
    "<si><t>a,b \"c\" &amp; ş</t></si></sst>";

static const char sheet1[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<worksheet " NS "><sheetData>"
    /* the header: tip, alıcı, Durum, kaynak, tarih, Not, alıcı_tipi */
    "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>1</v></c><c r=\"B1\" t=\"s\"><v>0</v></c>"
    "<c r=\"C1\" t=\"s\"><v>2</v></c><c r=\"D1\" t=\"s\"><v>3</v></c>"
    "<c r=\"E1\" t=\"s\"><v>4</v></c><c r=\"F1\" t=\"s\"><v>5</v></c>"
    "<c r=\"G1\" t=\"inlineStr\"><is><t>alıcı_tipi</t></is></c></row>"
    /* a phone as a number, a date serial, inline text */
    "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>6</v></c><c r=\"B2\"><v>5321234567</v></c>"
    "<c r=\"C2\" t=\"s\"><v>7</v></c><c r=\"D2\" t=\"s\"><v>8</v></c>"
    "<c r=\"E2\" s=\"3\"><v>45296.416666666664</v></c><c r=\"F2\" t=\"s\"><v>10</v></c>"
    "<c r=\"G2\" t=\"inlineStr\"><is><t>BIREYSEL</t></is></c></row>"
    /* 90... as a number, a formula's text, midnight, a boolean, no G */
    "<row r=\"3\"><c r=\"A3\" t=\"s\"><v>6</v></c><c r=\"B3\" t=\"n\"><v>905321234567</v></c>"
    "<c r=\"C3\" t=\"str\"><f>UPPER(\"ret\")</f><v>RET</v></c><c r=\"D3\" t=\"s\"><v>8</v></c>"
    "<c r=\"E3\"><v>45296</v></c><c r=\"F3\" t=\"b\"><v>1</v></c></row>"
    /* a row with only a styled empty cell: skipped */
    "<row r=\"4\"><c r=\"A4\" s=\"2\"/></row>"
    /* row 5 missing; in row 6 an exponent, no status, an ISO date */
    "<row r=\"6\"><c r=\"A6\" t=\"s\"><v>6</v></c><c r=\"B6\"><v>5.32123456E9</v></c>"
    "<c r=\"D6\" t=\"s\"><v>8</v></c><c r=\"E6\" t=\"d\"><v>2024-01-05T10:00:00</v></c></row>"
    /* cells with no reference follow each other; rich text */
    "<row r=\"7\"><c t=\"s\"><v>6</v></c><c t=\"s\"><v>9</v></c><c t=\"s\"><v>7</v></c>"
    "<c t=\"s\"><v>8</v></c><c><v>45296.5</v></c></row>"
    /* a shared string that does not exist */
    "<row r=\"8\"><c r=\"A8\" t=\"s\"><v>99</v></c><c r=\"B8\"><v>5321234567</v></c></row>"
    /* a row with no r; a number written with leading zeros */
    "<row><c r=\"A9\" t=\"s\"><v>6</v></c><c r=\"B9\"><v>005321234568</v></c>"
    "<c r=\"C9\" t=\"s\"><v>7</v></c><c r=\"D9\" t=\"s\"><v>8</v></c>"
    "<c r=\"E9\"><v>45296.25</v></c></row>"
    "</sheetData></worksheet>";

static const char sheet2[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<worksheet " NS "><sheetData>"
    "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>other</t></is></c></row>"
    "</sheetData></worksheet>";

static void test_workbook(void **state)
{
    (void)state;
    const part_t parts[] = {{"xl/workbook.xml", workbook2},
                            {"xl/_rels/workbook.xml.rels", rels2},
                            {"xl/strings.xml", sst},
                            {"xl/worksheets/sheet2.xml", sheet2},
                            {"xl/worksheets/data.xml", sheet1},
                            {NULL, NULL}};
    const char *path = make_zip("book.xlsx", parts);
    gots_t g;
    read_path(path, &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 6);
    assert_row(&g.r[0], 2, "5321234567", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 10:00:00",
               "BIREYSEL");
    assert_string_equal(g.r[0].raw,
                        "MESAJ,5321234567,ONAY,HS_WEB,2024-01-05 10:00:00,\"a,b \"\"c\"\" & ş\","
                        "BIREYSEL");
    assert_row(&g.r[1], 3, "905321234567", "MESAJ", "RET", "HS_WEB", "2024-01-05 00:00:00", NULL);
    assert_string_equal(g.r[1].raw, "MESAJ,905321234567,RET,HS_WEB,2024-01-05 00:00:00,TRUE");
    assert_row(&g.r[2], 6, "5321234560", "MESAJ", NULL, "HS_WEB", "2024-01-05 10:00:00", NULL);
    assert_string_equal(g.r[2].raw, "MESAJ,5321234560,,HS_WEB,2024-01-05 10:00:00");
    assert_row(&g.r[3], 7, "05321234567", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 12:00:00", NULL);
    assert_int_equal(g.r[4].line, 8);
    assert_int_equal(g.r[4].problem.code, IZ_BULK_R_CELL);
    assert_string_equal(g.r[4].problem.detail, "shared string 99 does not exist");
    assert_null(g.r[4].f[IZ_BULK_RECIPIENT]);
    assert_row(&g.r[5], 9, "5321234568", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 06:00:00", NULL);

    const iz_bulk_note_t *w = find_warn(&g, IZ_BULK_W_SHEETS, "Kişiler");
    assert_non_null(w);
    assert_int_equal(w->n1, 2);
    assert_non_null(find_warn(&g, IZ_BULK_W_EXTRA_COLUMN, "Not"));
    char msg[200];
    iz_bulk_note_text(w, false, msg, sizeof msg);
    assert_string_equal(msg, "Çalışma kitabında 2 sayfa var; yalnızca ilki, \"Kişiler\", okundu.");
    gots_free(&g);

    /* From a descriptor, which stays open. */
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    iz_bulk_reader_t *r;
    iz_bulk_row_t row;
    assert_int_equal(iz_bulk_open_fd(&r, IZ_BULK_XLSX, fd), 0);
    assert_int_equal(iz_bulk_next(r, &row), 1);
    assert_string_equal(row.recipient, "5321234567");
    while (iz_bulk_next(r, &row) == 1)
        ;
    uint64_t done, total;
    iz_bulk_progress(r, &done, &total);
    assert_int_equal(total, strlen(sheet1));
    assert_int_equal(done, total);
    iz_bulk_close(r);
    assert_true(lseek(fd, 0, SEEK_SET) == 0);
    close(fd);
}

/* A sheet of one header and the given rows (each "<c>...</c>" cells for
 * columns recipient, type, status, source, consentDate). */
static const char *one_sheet(const char *name, const char *workbook, const char *rows)
{
    static char sheet[8192];
    snprintf(sheet, sizeof sheet,
             "<?xml version=\"1.0\"?>\n<worksheet " NS "><sheetData><row r=\"1\">"
             "<c r=\"A1\" t=\"inlineStr\"><is><t>recipient</t></is></c>"
             "<c r=\"B1\" t=\"inlineStr\"><is><t>type</t></is></c>"
             "<c r=\"C1\" t=\"inlineStr\"><is><t>status</t></is></c>"
             "<c r=\"D1\" t=\"inlineStr\"><is><t>source</t></is></c>"
             "<c r=\"E1\" t=\"inlineStr\"><is><t>consentDate</t></is></c></row>%s"
             "</sheetData></worksheet>",
             rows);
    part_t parts[3] = {{"xl/worksheets/sheet1.xml", sheet}, {NULL, NULL}, {NULL, NULL}};
    if (workbook) {
        parts[1] = parts[0];
        parts[0] = (part_t){"xl/workbook.xml", workbook};
    }
    return make_zip(name, parts);
}

/* The consentDate a serial becomes (row r). */
static const char *date_row(int r, const char *serial, char *buf)
{
    sprintf(buf, "<row r=\"%d\"><c r=\"A%d\"><v>5321234567</v></c><c r=\"E%d\"><v>%s</v></c></row>",
            r, r, r, serial);
    return buf;
}

static void test_dates(void **state)
{
    (void)state;
    static const struct {
        const char *serial, *want;
    } d1900[] = {
        {"1", "1900-01-01 00:00:00"},
        {"59", "1900-02-28 00:00:00"},
        {"60", "1900-02-29 00:00:00"}, /* Excel's day that never was */
        {"61", "1900-03-01 00:00:00"},
        {"25569.5", "1970-01-01 12:00:00"},
        {"45296.416666666664", "2024-01-05 10:00:00"},
        {"45657.999999999", "2025-01-01 00:00:00"}, /* rounds to the next day */
        {"4.5296E4", "2024-01-05 00:00:00"},
        {"-1", "-1"},
        {"3000000", "3000000"},
        {"20240105", "20240105"},
    };
    char rows[4096] = "", buf[256];
    for (size_t i = 0; i < IZ_ARRAY_LEN(d1900); i++)
        strcat(rows, date_row((int)i + 2, d1900[i].serial, buf));
    gots_t g;
    read_path(one_sheet("dates.xlsx", NULL, rows), &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal((size_t)g.n, IZ_ARRAY_LEN(d1900));
    for (size_t i = 0; i < IZ_ARRAY_LEN(d1900); i++)
        assert_string_equal(g.r[i].f[IZ_BULK_CONSENT_DATE], d1900[i].want);
    gots_free(&g);

    /* The 1904 date system. */
    static const char wb1904[] =
        "<?xml version=\"1.0\"?>\n<workbook " NS " " NSR "><workbookPr date1904=\"1\"/>"
        "<sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
    rows[0] = '\0';
    strcat(rows, date_row(2, "43834.416666666664", buf));
    strcat(rows, date_row(3, "0", buf));
    read_path(one_sheet("d1904.xlsx", wb1904, rows), &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.r[0].f[IZ_BULK_CONSENT_DATE], "2024-01-05 10:00:00");
    assert_string_equal(g.r[1].f[IZ_BULK_CONSENT_DATE], "1904-01-01 00:00:00");
    assert_int_equal(g.nwarn, 0);
    gots_free(&g);
}

/* A sheet whose SpreadsheetML elements carry a prefix (some generators
 * write <x:row>), with prefixed attributes and an extension list: read as
 * the plain one. */
static void test_prefixed_sheet(void **state)
{
    (void)state;
    static const char sheet[] =
        "<?xml version=\"1.0\"?>\n<x:worksheet "
        "xmlns:x=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
        "xmlns:x14ac=\"http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac\">"
        "<x:sheetData><x:row r=\"1\" x14ac:dyDescent=\"0.25\">"
        "<x:c r=\"A1\" t=\"inlineStr\"><x:is><x:t>recipient</x:t></x:is></x:c>"
        "<x:c r=\"B1\" t=\"inlineStr\"><x:is><x:t>type</x:t></x:is></x:c>"
        "<x:c r=\"C1\" t=\"inlineStr\"><x:is><x:t>status</x:t></x:is></x:c>"
        "<x:c r=\"D1\" t=\"inlineStr\"><x:is><x:t>source</x:t></x:is></x:c>"
        "<x:c r=\"E1\" t=\"inlineStr\"><x:is><x:t>consentDate</x:t></x:is></x:c></x:row>"
        "<x:row r=\"3\"><x:c r=\"A3\"><x:v>5321234567</x:v></x:c>"
        "<x:c r=\"B3\" t=\"inlineStr\"><x:is><x:t>MESAJ</x:t></x:is></x:c>"
        "<x:c r=\"C3\" t=\"inlineStr\"><x:is><x:t>ONAY</x:t></x:is></x:c>"
        "<x:c r=\"E3\"><x:v>45296.416666666664</x:v></x:c></x:row>"
        "</x:sheetData><x:extLst><x:ext uri=\"{X}\"/></x:extLst>"
        "</x:worksheet>";
    part_t parts[2] = {{"xl/worksheets/sheet1.xml", sheet}, {NULL, NULL}};
    gots_t g;
    read_path(make_zip("prefixed.xlsx", parts), &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.r[0].line, 3);
    assert_string_equal(g.r[0].f[IZ_BULK_RECIPIENT], "5321234567");
    assert_string_equal(g.r[0].f[IZ_BULK_TYPE], "MESAJ");
    assert_string_equal(g.r[0].f[IZ_BULK_STATUS], "ONAY");
    assert_string_equal(g.r[0].f[IZ_BULK_CONSENT_DATE], "2024-01-05 10:00:00");
    gots_free(&g);
}

static void test_failures(void **state)
{
    (void)state;
    gots_t g;
    char path[128];

    /* Not a zip. */
    snprintf(path, sizeof path, "%s/text.xlsx", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("recipient,type\n", f);
    fclose(f);
    iz_bulk_reader_t *r;
    int rc = iz_bulk_open_path(&r, IZ_BULK_XLSX, path);
    collect(r, rc, &g);
    assert_int_equal(g.rc, IZ_EINVAL);
    assert_int_equal(g.failure.code, IZ_BULK_E_NOT_ZIP);

    /* A zip with no sheet. */
    const part_t nosheet[] = {{"docProps/app.xml", "<a/>"}, {NULL, NULL}};
    read_path(make_zip("nosheet.xlsx", nosheet), &g);
    assert_int_equal(g.failure.code, IZ_BULK_E_XLSX);
    assert_non_null(strstr(g.failure.detail, "no worksheet"));

    /* A header missing a column fails at open. */
    const part_t nostatus[] = {
        {"xl/worksheets/sheet1.xml",
         "<worksheet " NS "><sheetData><row r=\"2\">"
         "<c r=\"B2\" t=\"inlineStr\"><is><t>recipient</t></is></c>"
         "<c r=\"C2\" t=\"inlineStr\"><is><t>tip</t></is></c>"
         "<c r=\"D2\" t=\"inlineStr\"><is><t>source</t></is></c>"
         "<c r=\"E2\" "
         "t=\"inlineStr\"><is><t>consentDate</t></is></c></row></sheetData></worksheet>"},
        {NULL, NULL}};
    read_path(make_zip("nostatus.xlsx", nostatus), &g);
    assert_int_equal(g.rc, IZ_EINVAL);
    assert_int_equal(g.failure.code, IZ_BULK_E_MISSING_COLUMN);
    assert_string_equal(g.failure.detail, "status (durum)");
    assert_int_equal(g.failure.line, 2);

    /* An empty sheet. */
    const part_t empty[] = {
        {"xl/worksheets/sheet1.xml", "<worksheet " NS "><sheetData/></worksheet>"}, {NULL, NULL}};
    read_path(make_zip("empty.xlsx", empty), &g);
    assert_int_equal(g.failure.code, IZ_BULK_E_EMPTY);

    /* Broken XML after the header: the rows before it, then the failure. */
    char buf[256], row2[128];
    snprintf(buf, sizeof buf, "%s<row r=\"3\"><c r=\"A3\"><v>1</v></c></rox>",
             date_row(2, "45296", row2));
    read_path(one_sheet("broken.xlsx", NULL, buf), &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.rc, IZ_EINVAL);
    assert_int_equal(g.failure.code, IZ_BULK_E_XLSX);
    assert_non_null(strstr(g.failure.detail, "mismatched tag"));
    gots_free(&g);

    /* A DOCTYPE (entity expansion) is refused. */
    const part_t doctype[] = {
        {"xl/worksheets/sheet1.xml",
         "<?xml version=\"1.0\"?><!DOCTYPE w [<!ENTITY a \"aaaa\">]><worksheet " NS "/>"},
        {NULL, NULL}};
    read_path(make_zip("doctype.xlsx", doctype), &g);
    assert_int_equal(g.failure.code, IZ_BULK_E_XLSX);
    assert_non_null(strstr(g.failure.detail, "DOCTYPE"));
}

/* A row's bound counts a shared string's whole text, not its index. */
static void test_row_bound(void **state)
{
    (void)state;
    size_t big = IZ_BULK_LINE_MAX / 2 + 10;
    char *sstx = malloc(big + 256);
    assert_non_null(sstx);
    strcpy(sstx, "<sst " NS "><si><t>");
    size_t n = strlen(sstx);
    memset(sstx + n, '5', big);
    strcpy(sstx + n + big, "</t></si></sst>");
    const part_t parts[] = {
        {"xl/sharedStrings.xml", sstx},
        {"xl/worksheets/sheet1.xml",
         "<worksheet " NS "><sheetData><row r=\"1\">"
         "<c r=\"A1\" t=\"inlineStr\"><is><t>recipient</t></is></c>"
         "<c r=\"B1\" t=\"inlineStr\"><is><t>type</t></is></c>"
         "<c r=\"C1\" t=\"inlineStr\"><is><t>status</t></is></c>"
         "<c r=\"D1\" t=\"inlineStr\"><is><t>recipientType</t></is></c></row>"
         "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>0</v></c><c r=\"B2\" t=\"s\"><v>0</v></c>"
         "<c r=\"C2\" t=\"s\"><v>0</v></c></row>"
         "<row r=\"3\"><c r=\"A3\" t=\"s\"><v>0</v></c><c r=\"B3\"><v>1</v></c></row>"
         "</sheetData></worksheet>"},
        {NULL, NULL}};
    gots_t g;
    read_path(make_zip("bound.xlsx", parts), &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.r[0].problem.code, IZ_BULK_R_TOO_LONG);
    assert_int_equal(g.r[0].line, 2);
    assert_true(g.r[0].raw_cut);
    assert_int_equal(g.r[1].problem.code, IZ_BULK_OK);
    assert_int_equal(strlen(g.r[1].f[IZ_BULK_RECIPIENT]), big);
    assert_string_equal(g.r[1].f[IZ_BULK_TYPE], "1");
    gots_free(&g);
    free(sstx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workbook),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_prefixed_sheet),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_row_bound),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
