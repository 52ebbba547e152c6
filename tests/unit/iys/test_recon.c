/*
 * test_recon.c - the reconciliation's comparison of a line of İYS's file
 * with izin's change of the same transactionId: every field counts, the
 * recipient after normalization, an empty consentDate or source is an
 * omitted one; and the default report date (yesterday, Turkey time).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/trtime.h"
#include "iys/recon.h"

static int64_t tr(const char *s)
{
    int64_t e;
    const char *h;
    assert_int_equal(iz_tr_parse(s, strlen(s), &e, &h), 0);
    return e;
}

static void pair(iz_recon_line_t *row, iz_change_t *c)
{
    memset(row, 0, sizeof *row);
    memset(c, 0, sizeof *c);
    row->txid = "tx1";
    row->recipient = "+905321234567";
    row->recipient_len = strlen(row->recipient);
    row->rtype = IZ_BIREYSEL;
    row->type = IZ_MESAJ;
    row->status = IZ_ONAY;
    row->consent_date = tr("2024-05-01 09:00:00");
    row->source = IZ_HS_WEB;
    row->creation = tr("2024-05-01 10:00:00");
    strcpy(c->recipient, "+905321234567");
    c->rtype = IZ_BIREYSEL;
    c->type = IZ_MESAJ;
    c->status = IZ_ONAY;
    c->consent_date = row->consent_date;
    c->source = IZ_HS_WEB;
    strcpy(c->iys_txid, "tx1");
}

static void test_compare_every_field(void **state)
{
    (void)state;
    iz_recon_line_t row;
    iz_change_t c;
    pair(&row, &c);
    assert_null(iz_recon_compare(&row, &c));

    pair(&row, &c);
    row.recipient = "+905321234568";
    row.recipient_len = strlen(row.recipient);
    assert_string_equal(iz_recon_compare(&row, &c), "recipient");

    pair(&row, &c);
    row.recipient = "not a phone";
    row.recipient_len = strlen(row.recipient);
    assert_string_equal(iz_recon_compare(&row, &c), "recipient");

    pair(&row, &c);
    row.rtype = IZ_TACIR;
    assert_string_equal(iz_recon_compare(&row, &c), "recipientType");

    pair(&row, &c);
    row.type = IZ_ARAMA;
    assert_string_equal(iz_recon_compare(&row, &c), "type");

    pair(&row, &c);
    row.status = IZ_RET;
    assert_string_equal(iz_recon_compare(&row, &c), "status");

    pair(&row, &c);
    row.consent_date += 1;
    assert_string_equal(iz_recon_compare(&row, &c), "consentDate");

    pair(&row, &c);
    row.consent_date = 0; /* empty in the file, set in izin */
    assert_string_equal(iz_recon_compare(&row, &c), "consentDate");

    pair(&row, &c);
    row.source = IZ_SOURCE_NONE;
    assert_string_equal(iz_recon_compare(&row, &c), "source");

    /* A TACIR change without consentDate and source on both sides. */
    pair(&row, &c);
    row.consent_date = c.consent_date = 0;
    row.source = c.source = IZ_SOURCE_NONE;
    row.rtype = c.rtype = IZ_TACIR;
    assert_null(iz_recon_compare(&row, &c));

    /* An e-mail is compared as izin keeps it (normalized). */
    pair(&row, &c);
    row.type = c.type = IZ_EPOSTA;
    row.recipient = "Ali@Example.com";
    row.recipient_len = strlen(row.recipient);
    const char *h;
    assert_int_equal(iz_recipient_normalize("Ali@Example.com", 15, IZ_EPOSTA, c.recipient, &h), 0);
    assert_null(iz_recon_compare(&row, &c));
}

static void test_yesterday_in_turkey(void **state)
{
    (void)state;
    char d[11];
    /* 2024-05-01 23:30 UTC is 2024-05-02 02:30 in Turkey: yesterday there is
     * the 1st. */
    iz_recon_yesterday(tr("2024-05-02 02:30:00"), d);
    assert_string_equal(d, "2024-05-01");
    iz_recon_yesterday(tr("2024-01-01 00:00:00"), d);
    assert_string_equal(d, "2023-12-31");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_every_field),
        cmocka_unit_test(test_yesterday_in_turkey),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
