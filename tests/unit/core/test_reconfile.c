/*
 * test_reconfile.c - the strict, streaming reader of İYS's daily change
 * file: every line is either a change or a bad line with its number, in
 * whatever chunks the bytes come; nothing is skipped silently.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/reconfile.h"
#include "core/trtime.h"

#define HDR "creationDate,transactionId,recipient,recipientType,type,status,consentDate,source\n"

typedef struct seen {
    int rows, bad;
    int64_t row_lines[16], bad_lines[16];
    char txid[16][80], rec[16][80], why[16][96];
    iz_source_t src[16];
    int64_t consent[16];
} seen_t;

static int on_row(void *ctx, const iz_recon_line_t *r)
{
    seen_t *s = ctx;
    if (s->rows < 16) {
        s->row_lines[s->rows] = r->line;
        snprintf(s->txid[s->rows], sizeof s->txid[0], "%s", r->txid);
        snprintf(s->rec[s->rows], sizeof s->rec[0], "%.*s", (int)r->recipient_len, r->recipient);
        s->src[s->rows] = r->source;
        s->consent[s->rows] = r->consent_date;
    }
    s->rows++;
    return 0;
}

static int on_bad(void *ctx, int64_t line, const char *why)
{
    seen_t *s = ctx;
    if (s->bad < 16) {
        s->bad_lines[s->bad] = line;
        snprintf(s->why[s->bad], sizeof s->why[0], "%s", why);
    }
    s->bad++;
    return 0;
}

/* Feed text in chunks of `chunk` bytes (0: all at once). */
static void run(const char *text, size_t chunk, seen_t *s)
{
    memset(s, 0, sizeof *s);
    iz_reconfile_t *r = iz_reconfile_new(on_row, on_bad, s);
    size_t n = strlen(text);
    if (!chunk) chunk = n ? n : 1;
    for (size_t i = 0; i < n; i += chunk)
        assert_int_equal(iz_reconfile_feed(r, text + i, i + chunk > n ? n - i : chunk), 0);
    assert_int_equal(iz_reconfile_end(r), 0);
    iz_reconfile_free(r);
}

static const char good[] =
    HDR "2024-05-01 10:00:00,tx1,+905321234567,BIREYSEL,MESAJ,ONAY,2024-05-01 09:00:00,HS_WEB\n"
        "2024-05-01 10:00:01,tx2,ali@example.com,TACIR,EPOSTA,RET,,\n"
        "2024-05-01 10:00:02,\"tx3\",\"+905321234568\",BIREYSEL,ARAMA,RET,2024-05-01 "
        "10:00:00,IYS_MOBIL\n";

static void test_good_file_any_chunking(void **state)
{
    (void)state;
    size_t chunks[] = {0, 1, 2, 7, 64};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        seen_t s;
        run(good, chunks[c], &s);
        assert_int_equal(s.bad, 0);
        assert_int_equal(s.rows, 3);
        assert_int_equal(s.row_lines[0], 2);
        assert_int_equal(s.row_lines[2], 4);
        assert_string_equal(s.txid[0], "tx1");
        assert_string_equal(s.txid[2], "tx3"); /* quotes removed */
        assert_string_equal(s.rec[1], "ali@example.com");
        assert_int_equal(s.src[0], IZ_HS_WEB);
        assert_int_equal(s.src[1], IZ_SOURCE_NONE); /* TACIR: empty source */
        assert_int_equal(s.consent[1], 0);          /* and empty consentDate */
        int64_t e;
        const char *h;
        assert_int_equal(iz_tr_parse("2024-05-01 09:00:00", 19, &e, &h), 0);
        assert_int_equal(s.consent[0], e);
    }
}

static void test_bad_lines_are_numbered(void **state)
{
    (void)state;
    seen_t s;
    run(HDR "2024-05-01 10:00:00,tx1,+905321234567,BIREYSEL,MESAJ,ONAY,,HS_WEB\n"   /* 2 ok */
            "2024-05-01 10:00:00,tx2,+905321234567,BIREYSEL,MESAJ,ONAY,,HS_WEB,x\n" /* 3 */
            "2024-05-01 10:00:00,tx3,+905321234567,BIREYSEL,MESAJ,ONAY\n"           /* 4 */
            "2024-05-01 10:00:00,tx4,+905321234567,BIREYSEL,SMS,ONAY,,HS_WEB\n"     /* 5 */
            "2024-05-01,tx5,+905321234567,BIREYSEL,MESAJ,ONAY,,HS_WEB\n"            /* 6 */
            "2024-05-01 10:00:00,,+905321234567,BIREYSEL,MESAJ,ONAY,,HS_WEB\n"      /* 7 */
            "2024-05-01 10:00:00,tx8,+905321234567,BIREYSEL,MESAJ,ONAY,,HS_WEB\r\n" /* 8 */
            "2024-05-01 10:00:00,\"tx9,+905321234567,BIREYSEL,MESAJ,ONAY,,HS_WEB\n" /* 9 */
            "\n"                                                                    /* 10 */
            "2024-05-01 10:00:00,t x,+905321234567,BIREYSEL,MESAJ,ONAY,,HS_WEB\n"   /* 11 */
            "2024-05-01 10:00:00,tx12,+905321234567,BIREYSEL,MESAJ,ONAY,,HS_WEB\n", /* 12 ok */
        3, &s);
    assert_int_equal(s.rows, 2);
    assert_int_equal(s.row_lines[0], 2);
    assert_int_equal(s.row_lines[1], 12);
    assert_int_equal(s.bad, 9);
    int64_t want[] = {3, 4, 5, 6, 7, 8, 9, 10, 11};
    for (int i = 0; i < 9; i++)
        assert_int_equal(s.bad_lines[i], want[i]);
    assert_string_equal(s.why[0], "more than 8 fields");
    assert_string_equal(s.why[1], "fewer than 8 fields");
    assert_string_equal(s.why[2], "unknown type");
    assert_string_equal(s.why[5], "unknown source"); /* "HS_WEB\r": strict */
}

static void test_header_end_and_length(void **state)
{
    (void)state;
    seen_t s;
    run("", 0, &s); /* no header at all */
    assert_int_equal(s.bad, 1);
    assert_int_equal(s.bad_lines[0], 1);

    run("creationDate,transactionId\n", 0, &s); /* a header İYS does not write */
    assert_int_equal(s.bad, 1);
    assert_int_equal(s.bad_lines[0], 1);

    run(HDR, 0, &s); /* a day with no change: just the header */
    assert_int_equal(s.bad, 0);
    assert_int_equal(s.rows, 0);

    /* A cut file: the last line lacks its newline. It is read, and the
     * cut is reported at its number. */
    run(HDR "2024-05-01 10:00:00,tx1,+905321234567,BIREYSEL,MESAJ,ONAY,,HS_WEB", 5, &s);
    assert_int_equal(s.rows, 1);
    assert_int_equal(s.bad, 1);
    assert_int_equal(s.bad_lines[0], 2);

    /* A line over the limit is one bad line, and the next one is read. */
    size_t big = IZ_RECON_LINE_MAX + 100;
    char *text = malloc(sizeof HDR + big + 200);
    strcpy(text, HDR);
    size_t at = strlen(text);
    memset(text + at, 'x', big);
    strcpy(text + at + big, "\n2024-05-01 10:00:00,tx1,+905321234567,BIREYSEL,MESAJ,ONAY,,\n");
    run(text, 1000, &s);
    free(text);
    assert_int_equal(s.bad, 1);
    assert_int_equal(s.bad_lines[0], 2);
    assert_int_equal(s.rows, 1);
    assert_int_equal(s.row_lines[0], 3);
}

static int stop_at_first(void *ctx, const iz_recon_line_t *r)
{
    (void)ctx;
    (void)r;
    return 7;
}

static void test_a_callback_stops_the_reader(void **state)
{
    (void)state;
    seen_t s = {0};
    iz_reconfile_t *r = iz_reconfile_new(stop_at_first, on_bad, &s);
    assert_int_equal(iz_reconfile_feed(r, good, strlen(good)), 7);
    assert_int_equal(iz_reconfile_feed(r, good, strlen(good)), 7);
    assert_int_equal(iz_reconfile_end(r), 7);
    assert_int_equal(iz_reconfile_rows(r), 1);
    iz_reconfile_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file_any_chunking),
        cmocka_unit_test(test_bad_lines_are_numbered),
        cmocka_unit_test(test_header_end_and_length),
        cmocka_unit_test(test_a_callback_stops_the_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
