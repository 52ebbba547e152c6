/*
 * test_csv.c - the bulk CSV reader: comma and semicolon, quotes (embedded
 * separators, doubled quotes, line ends), unterminated and stray quotes,
 * BOM, CRLF and lone CR, Windows-1254 with Turkish letters, English and
 * Turkish headers in any order and case, extra columns, missing and
 * doubled columns, wrong column counts, empty lines and the line numbers
 * after them, the bounds (a line over 64 KiB, a raw text over 4 KiB), bad
 * UTF-8 and NUL bytes, read errors; the format sniffer, the notes' text and
 * the validator's form of a row. Every input is read whole and also a few
 * bytes at a time, so that records cross the reads' boundaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../testutil.h"
#include "bulkutil.h"

#define HDR "recipient,type,status,source,consentDate,recipientType\n"

static const size_t chunks[] = {0, 1, 2, 3, 7, 64};

/* Read text as CSV with every chunk size; the results must agree, and the
 * whole-read one is left in g. */
static void read_csv(const char *text, size_t len, gots_t *g)
{
    read_mem(IZ_BULK_CSV, text, len, 0, g);
    for (size_t c = 1; c < IZ_ARRAY_LEN(chunks); c++) {
        gots_t h;
        read_mem(IZ_BULK_CSV, text, len, chunks[c], &h);
        assert_int_equal(h.rc, g->rc);
        assert_int_equal(h.n, g->n);
        assert_int_equal(h.failure.code, g->failure.code);
        for (int i = 0; i < g->n; i++) {
            assert_int_equal(h.r[i].line, g->r[i].line);
            assert_string_equal(h.r[i].raw, g->r[i].raw);
            assert_int_equal(h.r[i].problem.code, g->r[i].problem.code);
            for (int k = 0; k < IZ_BULK_NFIELDS; k++) {
                if (g->r[i].f[k])
                    assert_string_equal(h.r[i].f[k], g->r[i].f[k]);
                else
                    assert_null(h.r[i].f[k]);
            }
        }
        gots_free(&h);
    }
}

static void read_str(const char *text, gots_t *g)
{
    read_csv(text, strlen(text), g);
}

static void test_basic(void **state)
{
    (void)state;
    gots_t g;
    read_str(HDR "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL\n"
                 "5329998877,ARAMA,RET,HS_MESAJ,2024-01-06 11:00:00,\n",
             &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 2);
    assert_row(&g.r[0], 2, "05321234567", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 10:00:00",
               "BIREYSEL");
    assert_string_equal(g.r[0].raw, "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL");
    assert_false(g.r[0].raw_cut);
    assert_row(&g.r[1], 3, "5329998877", "ARAMA", "RET", "HS_MESAJ", "2024-01-06 11:00:00", NULL);
    assert_int_equal(g.nwarn, 0);
    gots_free(&g);

    /* No line end after the last row. */
    read_str(HDR "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL", &g);
    assert_int_equal(g.n, 1);
    assert_row(&g.r[0], 2, "05321234567", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 10:00:00",
               "BIREYSEL");
    gots_free(&g);

    /* A header alone: no rows, no failure. */
    read_str(HDR, &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 0);
}

static void test_bom_crlf(void **state)
{
    (void)state;
    gots_t g;
    read_str("\xEF\xBB\xBFrecipient,type,status,source,consentDate,recipientType\r\n"
             "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL\r\n"
             "\r\n"
             "05321234568,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL\r\n",
             &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 2);
    assert_row(&g.r[0], 2, "05321234567", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 10:00:00",
               "BIREYSEL");
    assert_string_equal(g.r[0].raw, "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL");
    assert_row(&g.r[1], 4, "05321234568", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 10:00:00",
               "BIREYSEL");
    assert_null(find_warn(&g, IZ_BULK_W_CP1254, NULL));
    gots_free(&g);

    /* Old Mac line ends: a lone CR. */
    read_str("recipient,type,status,source,consentDate\r05321234567,MESAJ,ONAY,HS_WEB,"
             "2024-01-05 10:00:00\r\r05321234568,MESAJ,RET,HS_WEB,2024-01-05 10:00:00\r",
             &g);
    assert_int_equal(g.n, 2);
    assert_row(&g.r[0], 2, "05321234567", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 10:00:00", NULL);
    assert_row(&g.r[1], 4, "05321234568", "MESAJ", "RET", "HS_WEB", "2024-01-05 10:00:00", NULL);
    gots_free(&g);
}

static void test_cp1254(void **state)
{
    (void)state;
    gots_t g;
    /* alıcı;tip;durum;kaynak;tarih;alıcı_tipi;Açıklama in Windows-1254,
     * with every Turkish letter in a row. */
    read_str("al\xFD"
             "c\xFD;tip;durum;kaynak;tarih;al\xFD"
             "c\xFD_tipi;A\xE7\xFDklama\n"
             "05321234567;MESAJ;ONAY;HS_WEB;2024-01-05 10:00:00;TAC\xDDR;"
             "\xE7\xC7\xF0\xD0\xFD\xDD\xF6\xD6\xFE\xDE\xFC\xDC \x80\n",
             &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 1);
    assert_row(&g.r[0], 2, "05321234567", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 10:00:00",
               "TACİR");
    assert_string_equal(g.r[0].raw,
                        "05321234567;MESAJ;ONAY;HS_WEB;2024-01-05 10:00:00;TACİR;çÇğĞıİöÖşŞüÜ €");
    assert_non_null(find_warn(&g, IZ_BULK_W_CP1254, NULL));
    assert_non_null(find_warn(&g, IZ_BULK_W_SEMICOLON, NULL));
    assert_non_null(find_warn(&g, IZ_BULK_W_EXTRA_COLUMN, "Açıklama"));
    gots_free(&g);

    /* Valid UTF-8 with the same letters is not converted. */
    read_str("alıcı,tip,durum,kaynak,tarih,alıcı_tipi\n05321234567,MESAJ,ONAY,HS_WEB,"
             "2024-01-05 10:00:00,TACİR\n",
             &g);
    assert_row(&g.r[0], 2, "05321234567", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 10:00:00",
               "TACİR");
    assert_null(find_warn(&g, IZ_BULK_W_CP1254, NULL));
    gots_free(&g);
}

static void test_semicolon_and_quotes(void **state)
{
    (void)state;
    gots_t g;
    read_str("recipient;type;status;source;consentDate;recipientType;note\n"
             "\"0532 123,45 67\";MESAJ;ONAY;\"HS_\"\"WEB\"\"\";\"2024-01-05 10:00:00\";;\"a;b\"\n"
             "05321234568;MESAJ;\"ON\nAY\";HS_WEB;2024-01-05 10:00:00;BIREYSEL;\"x\r\ny\"\n"
             "05321234569;MESAJ;ONAY;HS_WEB;2024-01-05 10:00:00;\"\";\n",
             &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 3);
    assert_row(&g.r[0], 2, "0532 123,45 67", "MESAJ", "ONAY", "HS_\"WEB\"", "2024-01-05 10:00:00",
               NULL);
    assert_string_equal(g.r[0].raw, "\"0532 123,45 67\";MESAJ;ONAY;\"HS_\"\"WEB\"\"\";"
                                    "\"2024-01-05 10:00:00\";;\"a;b\"");
    /* Quoted line ends: the row starts on line 3 and spans three lines. */
    assert_row(&g.r[1], 3, "05321234568", "MESAJ", "ON\nAY", "HS_WEB", "2024-01-05 10:00:00",
               "BIREYSEL");
    assert_string_equal(
        g.r[1].raw, "05321234568;MESAJ;\"ON\nAY\";HS_WEB;2024-01-05 10:00:00;BIREYSEL;\"x\r\ny\"");
    assert_row(&g.r[2], 6, "05321234569", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 10:00:00", NULL);
    assert_non_null(find_warn(&g, IZ_BULK_W_SEMICOLON, NULL));
    assert_non_null(find_warn(&g, IZ_BULK_W_EXTRA_COLUMN, "note"));
    gots_free(&g);

    /* Spaces around fields are dropped, inside quotes kept. */
    read_str(HDR " 05321234567 ,\tMESAJ, \"ONAY \" ,HS_WEB,2024-01-05 10:00:00, \n", &g);
    assert_row(&g.r[0], 2, "05321234567", "MESAJ", "ONAY ", "HS_WEB", "2024-01-05 10:00:00", NULL);
    gots_free(&g);
}

static void test_bad_quotes(void **state)
{
    (void)state;
    gots_t g;
    read_str(HDR "053\"21,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL\n"
                 "\"05321234567\"x,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL\n"
                 "05321234568,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL\n"
                 "05321234569,MESAJ,ONAY,\"HS_WEB,2024-01-05 10:00:00,BIREYSEL\n"
                 "05321234570,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL\n",
             &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 4);
    assert_int_equal(g.r[0].problem.code, IZ_BULK_R_QUOTE);
    assert_int_equal(g.r[0].line, 2);
    assert_null(g.r[0].f[IZ_BULK_RECIPIENT]);
    assert_string_equal(g.r[0].raw, "053\"21,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL");
    assert_int_equal(g.r[1].problem.code, IZ_BULK_R_QUOTE);
    assert_int_equal(g.r[1].line, 3);
    assert_row(&g.r[2], 4, "05321234568", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 10:00:00",
               "BIREYSEL");
    /* An opened quote runs to the end of the file: one row, with every
     * line after it. */
    assert_int_equal(g.r[3].problem.code, IZ_BULK_R_UNTERMINATED);
    assert_int_equal(g.r[3].line, 5);
    assert_non_null(strstr(g.r[3].raw, "05321234570"));
    for (int k = 0; k < IZ_BULK_NFIELDS; k++)
        assert_null(g.r[3].f[k]);
    assert_string_equal(iz_bulk_note_hcode(&g.r[3].problem), "IZ400");
    gots_free(&g);
}

static void test_column_count(void **state)
{
    (void)state;
    gots_t g;
    read_str(HDR "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00\n"
                 "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL,x\n"
                 "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL\n",
             &g);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.r[0].problem.code, IZ_BULK_R_COLUMNS);
    assert_int_equal(g.r[0].problem.n1, 5);
    assert_int_equal(g.r[0].problem.n2, 6);
    assert_null(g.r[0].f[IZ_BULK_RECIPIENT]);
    assert_int_equal(g.r[1].problem.code, IZ_BULK_R_COLUMNS);
    assert_int_equal(g.r[1].problem.n1, 7);
    assert_int_equal(g.r[1].line, 3);
    assert_int_equal(g.r[2].problem.code, IZ_BULK_OK);
    char msg[200];
    iz_bulk_note_text(&g.r[0].problem, true, msg, sizeof msg);
    assert_string_equal(msg, "The row has 5 fields; the header has 6 columns.");
    iz_bulk_note_text(&g.r[0].problem, false, msg, sizeof msg);
    assert_string_equal(msg, "Satırda 5 alan var; başlıkta 6 sütun var.");
    gots_free(&g);
}

static void test_empty_lines(void **state)
{
    (void)state;
    gots_t g;
    read_str("\n\r\n" HDR "\n"
             "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL\n"
             "\n"
             ",,,,,\n"
             "  \t\n"
             ";;\n" /* not a separator here: one field, so a wrong count */
             "05321234568,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL\n"
             "\n\n",
             &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 3);
    /* the header is on line 3 */
    assert_row(&g.r[0], 5, "05321234567", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 10:00:00",
               "BIREYSEL");
    assert_int_equal(g.r[1].problem.code, IZ_BULK_R_COLUMNS);
    assert_int_equal(g.r[1].line, 9);
    assert_row(&g.r[2], 10, "05321234568", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 10:00:00",
               "BIREYSEL");
    gots_free(&g);
}

static void test_headers(void **state)
{
    (void)state;
    gots_t g;
    /* Turkish names, any case, Turkish letters or not, in another order. */
    static const char *const headers[] = {
        "DURUM,alici,Tip,KAYNAK,Tarih,ALICI_TIPI",
        "durum,alıcı,tip,kaynak,tarih,alıcı_tipi",
        "Durum,ALICI,TİP,Kaynak,TARİH,Alıcı Tipi",
        "status,Recipient,TYPE,Source,consent_date,recipient-type",
        "Status,recipient,type,source,ConsentDate,RecipientType",
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(headers); i++) {
        char text[512];
        snprintf(text, sizeof text, "%s\nONAY,05321234567,MESAJ,HS_WEB,2024-01-05 10:00:00,TACIR\n",
                 headers[i]);
        read_str(text, &g);
        assert_int_equal(g.rc, 0);
        assert_int_equal(g.n, 1);
        assert_row(&g.r[0], 2, "05321234567", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 10:00:00",
                   "TACIR");
        assert_int_equal(g.nwarn, 0);
        gots_free(&g);
    }

    /* Extra columns: ignored, each named in a warning. */
    read_str("Ad Soyad,recipient,type,status,source,consentDate,Not,\n"
             "Ayşe,05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,x,\n",
             &g);
    assert_int_equal(g.n, 1);
    assert_row(&g.r[0], 2, "05321234567", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 10:00:00", NULL);
    assert_int_equal(g.nwarn, 2);
    assert_non_null(find_warn(&g, IZ_BULK_W_EXTRA_COLUMN, "Ad Soyad"));
    assert_non_null(find_warn(&g, IZ_BULK_W_EXTRA_COLUMN, "Not"));
    char msg[200];
    iz_bulk_note_text(&g.warn[0], true, msg, sizeof msg);
    assert_string_equal(msg, "Column \"Ad Soyad\" is not a consent field and was ignored.");
    gots_free(&g);

    /* recipientType present: source and consentDate may be left out (TACIR). */
    read_str("recipient,type,status,recipientType\n05321234567,MESAJ,ONAY,TACIR\n", &g);
    assert_int_equal(g.rc, 0);
    assert_row(&g.r[0], 2, "05321234567", "MESAJ", "ONAY", NULL, NULL, "TACIR");
    gots_free(&g);
}

static void test_header_failures(void **state)
{
    (void)state;
    gots_t g;
    char msg[400];

    read_str("recipient,type,source,consentDate\n05321234567,MESAJ,HS_WEB,2024-01-05 10:00:00\n",
             &g);
    assert_int_equal(g.rc, IZ_EINVAL);
    assert_int_equal(g.failure.code, IZ_BULK_E_MISSING_COLUMN);
    assert_string_equal(g.failure.detail, "status (durum)");
    assert_int_equal(g.failure.line, 1);
    iz_bulk_note_text(&g.failure, true, msg, sizeof msg);
    assert_non_null(strstr(msg, "The header has no column status (durum)"));
    iz_bulk_note_text(&g.failure, false, msg, sizeof msg);
    assert_non_null(strstr(msg, "Başlık satırında status (durum) sütunu yok"));

    read_str("recipient,type,status\n", &g);
    assert_int_equal(g.failure.code, IZ_BULK_E_MISSING_COLUMN);
    assert_string_equal(g.failure.detail, "source (kaynak), consentDate (tarih)");

    /* No header at all: the first data line is read as one. */
    read_str("05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00\n", &g);
    assert_int_equal(g.failure.code, IZ_BULK_E_MISSING_COLUMN);
    assert_string_equal(g.failure.detail, "recipient (alici), type (tip), status (durum), "
                                          "source (kaynak), consentDate (tarih)");

    read_str("recipient,alıcı,type,status,source,consentDate\n", &g);
    assert_int_equal(g.rc, IZ_EINVAL);
    assert_int_equal(g.failure.code, IZ_BULK_E_DUP_COLUMN);
    assert_string_equal(g.failure.detail, "recipient (alici)");

    read_str("", &g);
    assert_int_equal(g.failure.code, IZ_BULK_E_EMPTY);
    read_str("\n\r\n,,,\n", &g);
    assert_int_equal(g.failure.code, IZ_BULK_E_EMPTY);

    read_str("recipient,\"type,status,source,consentDate\n", &g);
    assert_int_equal(g.failure.code, IZ_BULK_E_HEADER);

    read_str("\xFF\xFEr\0e\0", &g);
    assert_int_equal(g.failure.code, IZ_BULK_E_FORMAT);
}

static void test_bounds(void **state)
{
    (void)state;
    gots_t g;
    size_t big = IZ_BULK_LINE_MAX + 100;
    char *text = malloc(2 * big);
    assert_non_null(text);

    /* A line over IZ_BULK_LINE_MAX fails the reader, with its line. */
    strcpy(text, HDR "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL\n");
    size_t n = strlen(text);
    memset(text + n, 'x', big);
    n += big;
    memcpy(text + n, "\n", 2);
    n++;
    read_csv(text, n, &g);
    assert_int_equal(g.rc, IZ_ETOOBIG);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.failure.code, IZ_BULK_E_LINE_TOO_LONG);
    assert_int_equal(g.failure.line, 3);
    gots_free(&g);

    /* A quote never closed in a large file: the same. */
    strcpy(text, HDR "\"05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL\n");
    n = strlen(text);
    for (size_t i = 0; i < 2200; i++) {
        memcpy(text + n, "05321234567,MESAJ,ONAY,HS_WEB\n", 30);
        n += 30;
    }
    read_csv(text, n, &g);
    assert_int_equal(g.rc, IZ_ETOOBIG);
    assert_int_equal(g.failure.line, 2);

    /* A long row (under the bound) is read; its raw text is cut at 4 KiB. */
    strcpy(text, "recipient,type,status,source,consentDate,note\n05321234567,MESAJ,ONAY,HS_WEB,"
                 "2024-01-05 10:00:00,");
    n = strlen(text);
    for (size_t i = 0; i < 3000; i++) {
        memcpy(text + n, "ş", 2); /* two bytes: the cut falls inside a letter */
        n += 2;
    }
    text[n] = '\0';
    read_csv(text, n, &g);
    assert_int_equal(g.n, 1);
    assert_row(&g.r[0], 2, "05321234567", "MESAJ", "ONAY", "HS_WEB", "2024-01-05 10:00:00", NULL);
    assert_true(g.r[0].raw_cut);
    size_t rl = strlen(g.r[0].raw);
    assert_true(rl <= IZ_BULK_RAW_MAX);
    assert_true(rl > IZ_BULK_RAW_MAX - 8);
    assert_string_equal(g.r[0].raw + rl - strlen(IZ_BULK_RAW_CUT), IZ_BULK_RAW_CUT);
    assert_memory_equal(g.r[0].raw + rl - strlen(IZ_BULK_RAW_CUT) - 2, "ş", 2);
    gots_free(&g);
    free(text);
}

static void test_bad_text(void **state)
{
    (void)state;
    gots_t g;
    /* Past the first chunk, a byte that is not UTF-8 is that row's problem
     * (the file was judged UTF-8 on its first chunk). */
    size_t cap = 200 * 1024;
    char *text = malloc(cap);
    assert_non_null(text);
    strcpy(text, HDR);
    size_t n = strlen(text);
    int rows = 0;
    while (n < 100 * 1024) {
        n += (size_t)sprintf(text + n, "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,İ\n");
        rows++;
    }
    n += (size_t)sprintf(text + n, "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,TAC\xDDR\n");
    memcpy(text + n, "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,A\0B\n", 54);
    n += 54;
    memin_t m = {text, n, 0, 0, false};
    iz_bulk_reader_t *r;
    int rc = iz_bulk_open(&r, IZ_BULK_CSV, mem_read, &m);
    iz_bulk_row_t row;
    int k = 0;
    assert_int_equal(rc, 0);
    while ((rc = iz_bulk_next(r, &row)) == 1) {
        k++;
        if (k <= rows) {
            assert_int_equal(row.problem.code, IZ_BULK_OK);
            continue;
        }
        assert_int_equal(row.problem.code, IZ_BULK_R_ENCODING);
        assert_int_equal(row.line, k + 1);
        if (k == rows + 1)
            assert_string_equal(row.raw, "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,TAC"
                                         "\xEF\xBF\xBDR");
        else
            assert_string_equal(row.raw, "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,A"
                                         "\xEF\xBF\xBD"
                                         "B");
    }
    assert_int_equal(rc, 0);
    assert_int_equal(k, rows + 2);
    iz_bulk_close(r);
    free(text);

    /* A read error fails the reader. */
    static const char t[] = HDR "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL\n";
    m = (memin_t){t, strlen(t), 0, 0, true};
    rc = iz_bulk_open(&r, IZ_BULK_CSV, mem_read, &m);
    collect(r, rc, &g);
    assert_int_equal(g.rc, IZ_EIO);
    assert_int_equal(g.failure.code, IZ_BULK_E_READ);
    gots_free(&g);
}

static void test_path_and_sniff(void **state)
{
    (void)state;
    char dir[] = "/tmp/izin-test-csv-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/a.csv", dir);
    static const char t[] = HDR "05321234567,MESAJ,ONAY,HS_WEB,2024-01-05 10:00:00,BIREYSEL\n";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(t, f);
    fclose(f);

    iz_bulk_reader_t *r;
    iz_bulk_row_t row;
    uint64_t done, total;
    assert_int_equal(iz_bulk_open_path(&r, IZ_BULK_AUTO, path), 0);
    assert_int_equal(iz_bulk_format(r), IZ_BULK_CSV);
    assert_int_equal(iz_bulk_next(r, &row), 1);
    assert_string_equal(row.recipient, "05321234567");
    assert_int_equal(iz_bulk_next(r, &row), 0);
    assert_int_equal(iz_bulk_next(r, &row), 0);
    iz_bulk_progress(r, &done, &total);
    assert_int_equal(total, strlen(t));
    assert_int_equal(done, total);
    iz_bulk_close(r);

    /* A missing file. */
    snprintf(path, sizeof path, "%s/none.csv", dir);
    assert_int_equal(iz_bulk_open_path(&r, IZ_BULK_CSV, path), IZ_EIO);
    assert_int_equal(iz_bulk_failure(r)->code, IZ_BULK_E_READ);
    assert_int_equal(iz_bulk_next(r, &row), IZ_EIO);
    iz_bulk_close(r);
    assert_int_equal(iz_test_rmtree(dir), 0);

    /* The sniffer. */
    assert_int_equal(iz_bulk_format_sniff("PK\3\4xx", 6, "text/csv"), IZ_BULK_XLSX);
    assert_int_equal(iz_bulk_format_sniff("[{}]", 4, "text/csv; charset=utf-8"), IZ_BULK_CSV);
    assert_int_equal(iz_bulk_format_sniff("a,b", 3, "Application/JSON"), IZ_BULK_JSON);
    assert_int_equal(iz_bulk_format_sniff("a,b", 3, "application/vnd.api+json"), IZ_BULK_JSON);
    assert_int_equal(iz_bulk_format_sniff("a,b", 3, "application/vnd.ms-excel"), IZ_BULK_CSV);
    assert_int_equal(
        iz_bulk_format_sniff("", 0,
                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        IZ_BULK_XLSX);
    assert_int_equal(iz_bulk_format_sniff("\xEF\xBB\xBF \r\n [", 8, NULL), IZ_BULK_JSON);
    assert_int_equal(iz_bulk_format_sniff("a,b", 3, "application/octet-stream"), IZ_BULK_CSV);
    assert_int_equal(iz_bulk_format_sniff("", 0, NULL), IZ_BULK_AUTO);
    assert_string_equal(iz_bulk_format_name(IZ_BULK_XLSX), "xlsx");

    /* An XLSX workbook cannot come through a stream. */
    memin_t m = {"PK\3\4", 4, 0, 0, false};
    assert_int_equal(iz_bulk_open(&r, IZ_BULK_AUTO, mem_read, &m), IZ_EINVAL);
    assert_int_equal(iz_bulk_failure(r)->code, IZ_BULK_E_FORMAT);
    iz_bulk_close(r);
}

static void test_row_raw(void **state)
{
    (void)state;
    iz_bulk_row_t row = {0};
    iz_consent_raw_t raw;
    row.recipient = "05321234567";
    row.status = "ONAY";
    row.not_string = 1u << IZ_BULK_TYPE;
    iz_bulk_row_raw(&row, &raw);
    assert_int_equal(raw.recipient.kind, IZ_FIELD_STRING);
    assert_int_equal(raw.recipient.len, 11);
    assert_int_equal(raw.type.kind, IZ_FIELD_NOT_STRING);
    assert_int_equal(raw.status.kind, IZ_FIELD_STRING);
    assert_int_equal(raw.source.kind, IZ_FIELD_ABSENT);
    assert_null(raw.unknown_field);
    assert_string_equal(iz_bulk_field_name(IZ_BULK_CONSENT_DATE), "consentDate");
}

/* More warnings than are kept: the last one counts the rest. */
static void test_many_warnings(void **state)
{
    (void)state;
    char text[4096] = "recipient,type,status,source,consentDate";
    for (int i = 0; i < IZ_BULK_WARN_MAX + 10; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), ",x%d", i);
    strcat(text, "\n");
    gots_t g;
    read_str(text, &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.nwarn, IZ_BULK_WARN_MAX);
    assert_int_equal(g.warn[IZ_BULK_WARN_MAX - 1].code, IZ_BULK_W_MORE);
    assert_int_equal(g.warn[IZ_BULK_WARN_MAX - 1].n1, 11);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),           cmocka_unit_test(test_bom_crlf),
        cmocka_unit_test(test_cp1254),          cmocka_unit_test(test_semicolon_and_quotes),
        cmocka_unit_test(test_bad_quotes),      cmocka_unit_test(test_column_count),
        cmocka_unit_test(test_empty_lines),     cmocka_unit_test(test_headers),
        cmocka_unit_test(test_header_failures), cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_bad_text),        cmocka_unit_test(test_path_and_sniff),
        cmocka_unit_test(test_row_raw),         cmocka_unit_test(test_many_warnings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
