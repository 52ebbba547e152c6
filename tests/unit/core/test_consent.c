/*
 * test_consent.c - the two steps of judging a consent change: field
 * validation (every missing and bad-value code, in field order, TACIR's
 * relaxations, İYS sources) and the state rules against the current record
 * (H462 H463 H175 H174 H178 H467, in İYS's order).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/consent.h"
#include "core/hcode.h"
#include "core/iz.h"

/* Field spellings in the tables: NULL is absent, NUL_ a JSON null, NUM_ a
 * non-string value (a number, an object). */
static const char NUL_[] = "<null>";
static const char NUM_[] = "<number>";

static iz_field_t fld(const char *s)
{
    iz_field_t f = {IZ_FIELD_ABSENT, NULL, 0};
    if (!s) return f;
    if (s == NUL_) {
        f.kind = IZ_FIELD_NULL;
    } else if (s == NUM_) {
        f.kind = IZ_FIELD_NOT_STRING;
    } else {
        f.kind = IZ_FIELD_STRING;
        f.s = s;
        f.len = strlen(s);
    }
    return f;
}

static int64_t tr(const char *s)
{
    int64_t e = 0;
    if (iz_tr_parse(s, strlen(s), &e, NULL) != IZ_OK) fail_msg("bad test date %s", s);
    return e;
}

#define NOW "2026-01-15 12:00:00"

typedef struct {
    const char *recipient, *type, *status, *source, *date, *rtype, *unknown;
    const char *want; /* "H114:recipient H111:type", or "" for success */
} vcase_t;

static void errs_text(const iz_verrs_t *e, char *buf, size_t sz)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < e->n && n < sz; i++)
        n += (size_t)snprintf(buf + n, sz - n, "%s%s:%s", i ? " " : "", e->e[i].code,
                              e->e[i].field ? e->e[i].field : "-");
}

static void run_vcase(const vcase_t *c, bool allow_iys)
{
    iz_consent_raw_t raw = {fld(c->recipient), fld(c->type),  fld(c->status), fld(c->source),
                            fld(c->date),      fld(c->rtype), c->unknown, {0}, {0}};
    iz_validate_opts_t o = {tr(NOW), allow_iys};
    iz_consent_t out;
    iz_verrs_t errs;
    char got[512];
    int rc = iz_consent_validate(&raw, &o, &out, &errs);

    errs_text(&errs, got, sizeof(got));
    if (strcmp(got, c->want) != 0)
        fail_msg("%s/%s/%s/%s/%s/%s: got \"%s\", wanted \"%s\"", c->recipient ? c->recipient : "-",
                 c->type ? c->type : "-", c->status ? c->status : "-", c->source ? c->source : "-",
                 c->date ? c->date : "-", c->rtype ? c->rtype : "-", got, c->want);
    assert_int_equal(rc, errs.n ? IZ_ERULE : IZ_OK);
    for (int i = 0; i < errs.n; i++)
        assert_non_null(iz_hcode(errs.e[i].code));
}

static const vcase_t vcases[] = {
    /* accepted */
    {"0532 123 45 67", "MESAJ", "ONAY", "HS_WEB", "2026-01-15 11:00:00", NULL, NULL, ""},
    {"0532 123 45 67", "ARAMA", "RET", "HS_CAGRI_MERKEZI", "2025-12-01 00:00:00", "BIREYSEL", NULL,
     ""},
    {"Ali@Example.com", "EPOSTA", "ONAY", "HS_EPOSTA", "2015-05-01 00:00:00", NULL, NULL, ""},
    {"05321234567", "MESAJ", "ONAY", "HS_2015", "2015-05-01 00:00:00", NULL, NULL, ""},
    {"05321234567", "MESAJ", "RET", "HS_KARAR", "2026-01-10 10:00:00", NULL, NULL, ""},
    {"05321234567", "MESAJ", "ONAY", "HS_WEB", NOW, NULL, NULL, ""},
    /* TACIR may omit source and consentDate */
    {"05321234567", "MESAJ", "ONAY", NULL, NULL, "TACIR", NULL, ""},
    {"05321234567", "MESAJ", "ONAY", "HS_WEB", NULL, "TACIR", NULL, ""},
    {"05321234567", "MESAJ", "ONAY", NULL, "2026-01-10 10:00:00", "TACIR", NULL, ""},
    /* ... but not as null or "" */
    {"05321234567", "MESAJ", "ONAY", NUL_, NUL_, "TACIR", NULL, "H113:source H112:consentDate"},
    {"05321234567", "MESAJ", "ONAY", "", "", "TACIR", NULL, "H113:source H112:consentDate"},
    /* BIREYSEL may not omit them */
    {"05321234567", "MESAJ", "ONAY", NULL, NULL, NULL, NULL, "H113:source H112:consentDate"},
    {"05321234567", "MESAJ", "ONAY", NULL, NULL, "BIREYSEL", NULL, "H113:source H112:consentDate"},
    /* an invalid recipientType does not relax anything */
    {"05321234567", "MESAJ", "ONAY", NULL, NULL, "tacir", NULL,
     "H113:source H112:consentDate H116:recipientType"},

    /* missing: absent, null, "" */
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     "H114:recipient H111:type H110:status H113:source H112:consentDate"},
    {NUL_, NUL_, NUL_, NUL_, NUL_, NUL_, NULL,
     "H114:recipient H111:type H110:status H113:source H112:consentDate H170:recipientType"},
    {"", "", "", "", "", "", NULL,
     "H114:recipient H111:type H110:status H113:source H112:consentDate H170:recipientType"},
    /* not strings */
    {NUM_, "MESAJ", NUM_, NUM_, NUM_, NUM_, NULL,
     "H121:recipient H115:status H119:source H158:consentDate H116:recipientType"},
    {NUM_, "EPOSTA", "ONAY", "HS_WEB", NOW, NULL, NULL, "H120:recipient"},
    {NUM_, NUM_, "ONAY", "HS_WEB", NOW, NULL, NULL, "H122:recipient H117:type"},
    {NUM_, NULL, "ONAY", "HS_WEB", NOW, NULL, NULL, "H122:recipient H111:type"},
    /* bad values: enums are case-sensitive and exact */
    {"05321234567", "SMS", "EVET", "WEB", "2026-01-10", "KURUMSAL", NULL,
     "H117:type H115:status H119:source H158:consentDate H116:recipientType"},
    {"05321234567", "mesaj", "onay", "hs_web", NOW, "bireysel", NULL,
     "H117:type H115:status H119:source H116:recipientType"},
    {"05321234567", "MESAJ ", " ONAY", "HS_WEB\n", NOW, "BIREYSEL ", NULL,
     "H117:type H115:status H119:source H116:recipientType"},
    /* recipient codes by type */
    {"ali@example.com", "MESAJ", "ONAY", "HS_WEB", NOW, NULL, NULL, "H464:recipient"},
    {"ali@example.com", "ARAMA", "ONAY", "HS_WEB", NOW, NULL, NULL, "H464:recipient"},
    {"0532 123 45 67", "EPOSTA", "ONAY", "HS_WEB", NOW, NULL, NULL, "H464:recipient"},
    {"0532 123 45 6", "MESAJ", "ONAY", "HS_WEB", NOW, NULL, NULL, "H121:recipient"},
    {"+90 532 123 45 67 89 01", "MESAJ", "ONAY", "HS_WEB", NOW, NULL, NULL, "H160:recipient"},
    {"ali@@example.com", "EPOSTA", "ONAY", "HS_WEB", NOW, NULL, NULL, "H120:recipient"},
    {"abc", "FAKS", "ONAY", "HS_WEB", NOW, NULL, NULL, "H122:recipient H117:type"},
    {"abc", NULL, "ONAY", "HS_WEB", NOW, NULL, NULL, "H122:recipient H111:type"},
    {"0532 123 45 67", "FAKS", "ONAY", "HS_WEB", NOW, NULL, NULL, "H117:type"},
    {"ali@example.com", NULL, "ONAY", "HS_WEB", NOW, NULL, NULL, "H111:type"},
    /* sources */
    {"05321234567", "MESAJ", "ONAY", "IYS_WEB", NOW, NULL, NULL, "H119:source"},
    {"05321234567", "MESAJ", "ONAY", "IYS_KISAMESAJ", NOW, NULL, NULL, "H119:source"},
    {"05321234567", "MESAJ", "ONAY", "HS_KARAR", "2026-01-10 10:00:00", NULL, NULL, "H408:source"},
    {"05321234567", "MESAJ", "EVET", "HS_KARAR", "2026-01-10 10:00:00", NULL, NULL, "H115:status"},
    /* consentDate */
    {"05321234567", "MESAJ", "ONAY", "HS_WEB", "2026-01-15T12:00:00", NULL, NULL,
     "H158:consentDate"},
    {"05321234567", "MESAJ", "ONAY", "HS_WEB", "15.01.2026 12:00:00", NULL, NULL,
     "H158:consentDate"},
    {"05321234567", "MESAJ", "ONAY", "HS_WEB", "2025-02-29 12:00:00", NULL, NULL,
     "H157:consentDate"},
    {"05321234567", "MESAJ", "ONAY", "HS_WEB", "2026-01-15 24:00:00", NULL, NULL,
     "H157:consentDate"},
    {"05321234567", "MESAJ", "ONAY", "HS_WEB", "2015-04-30 23:59:59", NULL, NULL,
     "H156:consentDate"},
    {"05321234567", "MESAJ", "ONAY", "HS_WEB", "1999-01-01 00:00:00", NULL, NULL,
     "H156:consentDate"},
    {"05321234567", "MESAJ", "ONAY", "HS_WEB", "2026-01-15 12:00:01", NULL, NULL,
     "H162:consentDate"},
    {"05321234567", "MESAJ", "ONAY", "HS_WEB", "2030-01-01 00:00:00", NULL, NULL,
     "H162:consentDate"},
    {"05321234567", "MESAJ", "ONAY", "HS_2015", "2015-05-01 00:00:01", NULL, NULL,
     "H155:consentDate"},
    {"05321234567", "MESAJ", "ONAY", "HS_2015", "2015-04-30 23:59:59", NULL, NULL,
     "H155:consentDate"},
    {"05321234567", "MESAJ", "ONAY", "HS_2015", "2026-01-01 00:00:00", NULL, NULL,
     "H155:consentDate"},
    {"05321234567", "MESAJ", "ONAY", "HS_2015", "2015-05-01", NULL, NULL, "H158:consentDate"},
    /* unknown field: reported last, with its name */
    {"05321234567", "MESAJ", "ONAY", "HS_WEB", NOW, NULL, "retailerKod", "H118:retailerKod"},
    {NULL, "MESAJ", "ONAY", "HS_WEB", NOW, NULL, "foo", "H114:recipient H118:foo"},
    /* the most errors one change can carry */
    {NUM_, NUM_, NUM_, NUM_, NUM_, NUM_, "x",
     "H122:recipient H117:type H115:status H119:source H158:consentDate H116:recipientType "
     "H118:x"},
};

static void test_validate_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(vcases); i++)
        run_vcase(&vcases[i], false);
}

static void test_validate_output(void **state)
{
    iz_consent_raw_t raw = {
        fld("(0532) 123-4567"),     fld("ARAMA"), fld("RET"), fld("HS_CAGRI_MERKEZI"),
        fld("2026-01-14 09:30:00"), fld("TACIR"), NULL, {0}, {0}};
    iz_validate_opts_t o = {tr(NOW), false};
    iz_consent_t c;
    iz_verrs_t e;
    (void)state;

    assert_int_equal(iz_consent_validate(&raw, &o, &c, &e), IZ_OK);
    assert_int_equal(e.n, 0);
    assert_string_equal(c.recipient, "+905321234567");
    assert_int_equal(c.type, IZ_ARAMA);
    assert_int_equal(c.status, IZ_RET);
    assert_int_equal(c.source, IZ_HS_CAGRI_MERKEZI);
    assert_int_equal(c.rtype, IZ_TACIR);
    assert_true(c.consent_date == tr("2026-01-14 09:30:00"));

    /* default recipientType and lower-cased e-mail */
    iz_consent_raw_t r2 = {fld("Ali.Veli@Example.COM"), fld("EPOSTA"), fld("ONAY"), fld("HS_2015"),
                           fld("2015-05-01 00:00:00"),  fld(NULL),     NULL, {0}, {0}};
    assert_int_equal(iz_consent_validate(&r2, &o, &c, &e), IZ_OK);
    assert_string_equal(c.recipient, "ali.veli@example.com");
    assert_int_equal(c.rtype, IZ_BIREYSEL);
    assert_true(c.consent_date == IZ_EPOCH_2015);

    /* TACIR without source and date */
    iz_consent_raw_t r3 = {fld("05321234567"), fld("MESAJ"), fld("ONAY"), fld(NULL),
                           fld(NULL),          fld("TACIR"), NULL, {0}, {0}};
    assert_int_equal(iz_consent_validate(&r3, &o, &c, &e), IZ_OK);
    assert_int_equal(c.source, IZ_SOURCE_NONE);
    assert_true(c.consent_date == 0);

    /* errs may be NULL; NULL arguments are refused */
    assert_int_equal(iz_consent_validate(&r3, &o, &c, NULL), IZ_OK);
    assert_int_equal(iz_consent_validate(NULL, &o, &c, &e), IZ_EINVAL);
    assert_int_equal(iz_consent_validate(&r3, NULL, &c, &e), IZ_EINVAL);
    assert_int_equal(iz_consent_validate(&r3, &o, NULL, &e), IZ_EINVAL);
}

/* Strings are length-delimited: a NUL inside a value makes it another value. */
static void test_validate_embedded_nul(void **state)
{
    iz_consent_raw_t raw = {fld("05321234567"), fld("MESAJ"), fld("ONAY"), fld("HS_WEB"),
                            fld(NOW),           fld(NULL),    NULL, {0}, {0}};
    iz_validate_opts_t o = {tr(NOW), false};
    iz_consent_t c;
    iz_verrs_t e;
    (void)state;
    raw.status.s = "ONAY\0junk";
    raw.status.len = 9;
    raw.type.s = "MESAJ\0";
    raw.type.len = 6;
    raw.source.s = "HS_WEB_LONGER_THAN_ANY_ENUM_SPELLING_AT_ALL";
    raw.source.len = strlen(raw.source.s);
    assert_int_equal(iz_consent_validate(&raw, &o, &c, &e), IZ_ERULE);
    assert_int_equal(e.n, 3);
    assert_string_equal(e.e[0].code, "H117");
    assert_string_equal(e.e[1].code, "H115");
    assert_string_equal(e.e[2].code, "H119");
}

static void test_validate_iys_sources(void **state)
{
    static const char *const iys[] = {
        "IYS_CM",        "IYS_WEB",    "IYS_WEB_YENI",        "IYS_MOBIL",
        "IYS_KISAMESAJ", "IYS_EPOSTA", "IYS_AHS_HAT_KAPATMA", "IYS_FRAME_EPOSTA",
        "IYS_FRAME_SMS"};
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(iys); i++) {
        vcase_t c = {"05321234567", "MESAJ", "RET", iys[i], NOW, NULL, NULL, "H119:source"};
        run_vcase(&c, false);
        c.want = "";
        run_vcase(&c, true);
    }
    /* HS sources stay allowed when IYS ones are, unknown ones stay refused */
    vcase_t c = {"05321234567", "MESAJ", "ONAY", "HS_MOBIL", NOW, NULL, NULL, ""};
    run_vcase(&c, true);
    c.source = "IYS_BILINMEYEN";
    c.want = "H119:source";
    run_vcase(&c, true);
}

/* ---- rules ---- */

static iz_consent_t mk(iz_status_t st, iz_source_t src, iz_rtype_t rt, const char *date)
{
    iz_consent_t c;
    memset(&c, 0, sizeof(c));
    strcpy(c.recipient, "+905321234567");
    c.type = IZ_MESAJ;
    c.status = st;
    c.source = src;
    c.rtype = rt;
    c.consent_date = date ? tr(date) : 0;
    return c;
}

static iz_current_t cur_of(iz_status_t st, const char *date)
{
    iz_current_t c = {true, st, IZ_HS_WEB, date ? tr(date) : 0};
    return c;
}

static void expect_rule(const char *got, const char *want, int line)
{
    if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
        fail_msg("line %d: got %s, wanted %s", line, got ? got : "ok", want ? want : "ok");
}
#define RULE(c, cur, ctx, want) expect_rule(iz_consent_rules(c, cur, ctx), want, __LINE__)

static void test_rules_order(void **state)
{
    const iz_current_t none = {0};
    const iz_current_t onay = cur_of(IZ_ONAY, "2026-01-10 10:00:00");
    const iz_current_t ret = cur_of(IZ_RET, "2026-01-10 10:00:00");
    iz_rules_ctx_t ctx = {tr(NOW), 0, NULL};
    iz_consent_t c;
    (void)state;

    /* a first record */
    c = mk(IZ_ONAY, IZ_HS_WEB, IZ_BIREYSEL, "2026-01-14 10:00:00");
    RULE(&c, &none, &ctx, NULL);
    RULE(&c, NULL, &ctx, NULL);
    c = mk(IZ_RET, IZ_HS_WEB, IZ_BIREYSEL, "2026-01-14 10:00:00");
    RULE(&c, &none, &ctx, "H175");
    /* a first RET from HS_KARAR is a first RET like any other */
    c = mk(IZ_RET, IZ_HS_KARAR, IZ_BIREYSEL, "2026-01-14 10:00:00");
    RULE(&c, &none, &ctx, "H175");
    RULE(&c, &onay, &ctx, NULL);
    RULE(&c, &ret, &ctx, "H174");

    /* same status twice */
    c = mk(IZ_ONAY, IZ_HS_WEB, IZ_BIREYSEL, "2026-01-14 10:00:00");
    RULE(&c, &onay, &ctx, "H174");
    RULE(&c, &ret, &ctx, NULL);
    c = mk(IZ_RET, IZ_HS_WEB, IZ_BIREYSEL, "2026-01-14 10:00:00");
    RULE(&c, &ret, &ctx, "H174");
    RULE(&c, &onay, &ctx, NULL);

    /* H174 comes before H178: a same-status change that is also older */
    c = mk(IZ_ONAY, IZ_HS_WEB, IZ_BIREYSEL, "2026-01-01 10:00:00");
    RULE(&c, &onay, &ctx, "H174");
    /* H178: not later than the stored consentDate, equal included */
    c = mk(IZ_RET, IZ_HS_WEB, IZ_BIREYSEL, "2026-01-10 10:00:00");
    RULE(&c, &onay, &ctx, "H178");
    c = mk(IZ_RET, IZ_HS_WEB, IZ_BIREYSEL, "2026-01-10 09:59:59");
    RULE(&c, &onay, &ctx, "H178");
    c = mk(IZ_RET, IZ_HS_WEB, IZ_BIREYSEL, "2026-01-10 10:00:01");
    RULE(&c, &onay, &ctx, NULL);
    /* a stored record without a date (TACIR) cannot be H178 */
    {
        iz_current_t undated = cur_of(IZ_ONAY, NULL);
        c = mk(IZ_RET, IZ_HS_WEB, IZ_BIREYSEL, "2015-05-01 00:00:00");
        RULE(&c, &undated, &ctx, NULL);
    }
    /* H175 before H174 for a missing record is moot; with no record a RET is
     * H175 whatever else is wrong with it */
    c = mk(IZ_RET, IZ_HS_WEB, IZ_BIREYSEL, "2015-05-01 00:00:00");
    ctx.activation = tr("2025-01-01 00:00:00");
    RULE(&c, &none, &ctx, "H175");
    ctx.activation = 0;

    /* rules judge İYS-sourced changes the same way */
    c = mk(IZ_RET, IZ_IYS_WEB, IZ_BIREYSEL, "2026-01-14 10:00:00");
    RULE(&c, &none, &ctx, "H175");
    RULE(&c, &ret, &ctx, "H174");
    RULE(&c, &onay, &ctx, NULL);
}

static void test_rules_tacir(void **state)
{
    const iz_current_t none = {0};
    const iz_current_t onay = cur_of(IZ_ONAY, "2026-01-10 10:00:00");
    iz_rules_ctx_t ctx = {tr(NOW), 0, NULL};
    iz_consent_t c;
    (void)state;

    /* first TACIR record may omit both */
    c = mk(IZ_ONAY, IZ_SOURCE_NONE, IZ_TACIR, NULL);
    RULE(&c, &none, &ctx, NULL);
    /* an update needs consentDate (H462) then source (H463) */
    c = mk(IZ_RET, IZ_SOURCE_NONE, IZ_TACIR, NULL);
    RULE(&c, &onay, &ctx, "H462");
    c = mk(IZ_RET, IZ_HS_WEB, IZ_TACIR, NULL);
    RULE(&c, &onay, &ctx, "H462");
    c = mk(IZ_RET, IZ_SOURCE_NONE, IZ_TACIR, "2026-01-14 10:00:00");
    RULE(&c, &onay, &ctx, "H463");
    c = mk(IZ_RET, IZ_HS_WEB, IZ_TACIR, "2026-01-14 10:00:00");
    RULE(&c, &onay, &ctx, NULL);
    /* H462 comes before H174 */
    c = mk(IZ_ONAY, IZ_SOURCE_NONE, IZ_TACIR, NULL);
    RULE(&c, &onay, &ctx, "H462");
    /* a first TACIR RET is still H175 */
    c = mk(IZ_RET, IZ_SOURCE_NONE, IZ_TACIR, NULL);
    RULE(&c, &none, &ctx, "H175");
    /* no date: H467 cannot apply */
    ctx.activation = tr("2025-01-01 00:00:00");
    c = mk(IZ_ONAY, IZ_SOURCE_NONE, IZ_TACIR, NULL);
    RULE(&c, &none, &ctx, NULL);
}

static void test_rules_h467(void **state)
{
    const iz_holidays_t *h = *state;
    const iz_current_t none = {0};
    iz_rules_ctx_t ctx = {0, tr("2025-01-01 00:00:00"), h};
    iz_consent_t c;
    (void)state;

    /* a Friday consent is valid until Wednesday 23:59:59 */
    c = mk(IZ_ONAY, IZ_HS_WEB, IZ_BIREYSEL, "2025-01-03 18:00:00");
    ctx.now = tr("2025-01-08 23:59:59");
    RULE(&c, &none, &ctx, NULL);
    ctx.now = tr("2025-01-09 00:00:00");
    RULE(&c, &none, &ctx, "H467");
    /* the same with no activation date (upload period): never H467 */
    ctx.activation = 0;
    ctx.now = tr("2026-01-09 00:00:00");
    RULE(&c, &none, &ctx, NULL);
    /* nor before the activation */
    ctx.activation = tr("2025-02-01 00:00:00");
    ctx.now = tr("2025-01-31 23:59:59");
    RULE(&c, &none, &ctx, NULL);
    ctx.now = tr("2025-02-01 00:00:00");
    RULE(&c, &none, &ctx, "H467");

    /* Ramazan Bayramı 2026: a Wednesday consent lasts until Tuesday */
    ctx.activation = tr("2025-01-01 00:00:00");
    c = mk(IZ_ONAY, IZ_HS_WEB, IZ_BIREYSEL, "2026-03-18 14:00:00");
    ctx.now = tr("2026-03-24 23:59:59");
    RULE(&c, &none, &ctx, NULL);
    ctx.now = tr("2026-03-25 00:00:00");
    RULE(&c, &none, &ctx, "H467");
    /* without the holiday table the Friday counts and Monday is the end */
    ctx.holidays = NULL;
    ctx.now = tr("2026-03-24 00:00:00");
    RULE(&c, &none, &ctx, "H467");
    ctx.holidays = h;

    /* 2025: admin days after Ramazan Bayramı count as working days */
    c = mk(IZ_RET, IZ_HS_WEB, IZ_BIREYSEL, "2025-03-28 15:00:00");
    {
        iz_current_t onay = cur_of(IZ_ONAY, "2025-01-10 10:00:00");
        ctx.now = tr("2025-04-04 23:59:59");
        RULE(&c, &onay, &ctx, NULL);
        ctx.now = tr("2025-04-05 00:00:00");
        RULE(&c, &onay, &ctx, "H467");
        /* H174 and H178 come before H467 */
        iz_current_t ret = cur_of(IZ_RET, "2025-01-10 10:00:00");
        RULE(&c, &ret, &ctx, "H174");
        iz_current_t newer = cur_of(IZ_ONAY, "2025-03-29 10:00:00");
        RULE(&c, &newer, &ctx, "H178");
    }
    /* HS_2015 consents are always older than 3 business days */
    c = mk(IZ_ONAY, IZ_HS_2015, IZ_BIREYSEL, "2015-05-01 00:00:00");
    ctx.now = tr(NOW);
    RULE(&c, &none, &ctx, "H467");
    /* ctx may be NULL: no H467 */
    RULE(&c, &none, NULL, NULL);
    RULE(NULL, &none, &ctx, "H015");
}

/* Every code the rules return is in the H-code table with İYS's status. */
static void test_rule_codes_known(void **state)
{
    static const struct {
        const char *code;
        int http;
    } t[] = {{"H174", 400}, {"H175", 400}, {"H178", 400}, {"H408", 422},
             {"H462", 400}, {"H463", 400}, {"H467", 422}};
    (void)state;
    for (size_t i = 0; i < IZ_ARRAY_LEN(t); i++)
        assert_int_equal(iz_hcode_http(t[i].code), t[i].http);
}

static int load_table(void **state)
{
    const char *path = getenv("IZIN_HOLIDAYS");
    iz_holidays_t *h = NULL;
    if (iz_holidays_load(path ? path : "data/tr-holidays.csv", &h) != IZ_OK) return -1;
    *state = h;
    return 0;
}

static int free_table(void **state)
{
    iz_holidays_free(*state);
    return 0;
}

/* ---- the retailer fields (core/retail.h) ---- */

/* Validate a good consent with the retailer fields code and list (fld()
 * spellings); the error text as errs_text writes it. */
static int retail_case(const char *code, const char *list, const char *type, iz_consent_t *out,
                       char got[256])
{
    iz_consent_raw_t raw = {fld("05321234567"), fld(type), fld("ONAY"), fld("HS_WEB"),
                            fld("2026-01-15 11:00:00"), fld(NULL), NULL, {0}, {0}};
    raw.retailer_code = fld(code);
    raw.retailer_access = fld(list);
    iz_validate_opts_t o = {tr(NOW), false};
    iz_verrs_t errs;
    int rc = iz_consent_validate(&raw, &o, out, &errs);
    errs_text(&errs, got, 256);
    for (int i = 0; i < errs.n; i++)
        assert_non_null(iz_hcode(errs.e[i].code));
    return rc;
}

static void test_retail_validate(void **state)
{
    (void)state;
    static const struct {
        const char *code, *list, *type, *want;
    } t[] = {
        {NULL, NULL, "MESAJ", ""},
        {"12345678", NULL, "MESAJ", ""},
        {NULL, "12345678|23456789 34567890,45678901", "MESAJ", ""},
        /* İYS's format codes, with the other fields' errors */
        {NUL_, NULL, "MESAJ", "H266:retailerCode"},
        {"", NULL, "MESAJ", "H267:retailerCode"},
        {NUM_, NULL, "MESAJ", "H085:retailerCode"},
        {NULL, NUL_, "MESAJ", "H169:retailerAccess"},
        {NULL, NUM_, "MESAJ", "H085:retailerAccess"},
        {NULL, "|", "MESAJ", "H163:retailerAccess"},
        {NULL, " , ", "MESAJ", "H163:retailerAccess"},
        {NUL_, "", "FAX", "H117:type H266:retailerCode H163:retailerAccess"},
        /* a code of no retailer: H180, alone and only on a well-formed request */
        {"1234567", NULL, "MESAJ", "H180:retailerCode"},
        {"012345678", NULL, "MESAJ", "H180:retailerCode"},
        {"-1234567", NULL, "MESAJ", "H180:retailerCode"},
        {"x", NULL, "MESAJ", "H180:retailerCode"},
        {NULL, "12345678|x", "MESAJ", "H180:retailerAccess"},
        {"x", "x", "MESAJ", "H180:retailerAccess"}, /* the list is judged first */
        {"x", NULL, "FAX", "H117:type"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        iz_consent_t out;
        char got[256];
        int rc = retail_case(t[i].code, t[i].list, t[i].type, &out, got);
        if (strcmp(got, t[i].want) != 0)
            fail_msg("case %zu: got \"%s\", wanted \"%s\"", i, got, t[i].want);
        assert_int_equal(rc, t[i].want[0] ? IZ_ERULE : IZ_OK);
    }
    /* what the fields hold */
    iz_consent_t out;
    char got[256];
    assert_int_equal(retail_case("87654321", "12345678|23456789", "MESAJ", &out, got), 0);
    assert_int_equal(out.retail.code, 87654321);
    assert_int_equal(out.retail.n, 2);
    assert_int_equal(out.retail.access[1], 23456789);
    /* 100 codes are a list; 101 are H126 whatever they are */
    char list[101 * 9 + 1] = "";
    for (int i = 0; i < 100; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i ? "|" : "",
                 10000000 + i);
    assert_int_equal(retail_case(NULL, list, "MESAJ", &out, got), 0);
    assert_int_equal(out.retail.n, 100);
    strcat(list, "|x");
    retail_case(NULL, list, "MESAJ", &out, got);
    assert_string_equal(got, "H126:retailerAccess");
}

static void test_retail_forms(void **state)
{
    (void)state;
    iz_retail_t r = {.code = 12345678, .n = 2, .access = {23456789, 34567890}}, c;
    char text[IZ_RETAIL_LIST_TEXT], h[IZ_RETAIL_HASH_TEXT];
    iz_retail_list_format(&r, text);
    assert_string_equal(text, "23456789,34567890");
    iz_retail_hash_text(&r, h);
    assert_string_equal(h, "12345678/23456789,34567890");
    iz_retail_t only = {.code = 12345678};
    iz_retail_hash_text(&only, h);
    assert_string_equal(h, "12345678/");
    /* the stored text reads back */
    memset(&c, 0, sizeof c);
    assert_int_equal(iz_retail_list_parse(text, strlen(text), &c, NULL), IZ_RETAIL_LIST_OK);
    c.code = r.code;
    assert_true(iz_retail_equal(&c, &r));
    iz_retail_t copy;
    iz_retail_copy(&copy, &r);
    assert_true(iz_retail_equal(&copy, &r));
    size_t bad = 9;
    assert_int_equal(iz_retail_list_parse("12345678 1234", 13, &c, &bad),
                     IZ_RETAIL_LIST_BAD_CODE);
    assert_int_equal(bad, 1);
    /* known codes: the list first, then the code */
    const int64_t known[] = {12345678, 23456789};
    bool at_code = true;
    assert_false(iz_retail_all_known(&r, known, 2, &at_code));
    assert_false(at_code);
    iz_retail_t k = {.code = 99999999, .n = 1, .access = {23456789}};
    assert_false(iz_retail_all_known(&k, known, 2, &at_code));
    assert_true(at_code);
    k.code = 12345678;
    assert_true(iz_retail_all_known(&k, known, 2, &at_code));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_table),
        cmocka_unit_test(test_retail_validate),
        cmocka_unit_test(test_retail_forms),
        cmocka_unit_test(test_validate_output),
        cmocka_unit_test(test_validate_embedded_nul),
        cmocka_unit_test(test_validate_iys_sources),
        cmocka_unit_test(test_rules_order),
        cmocka_unit_test(test_rules_tacir),
        cmocka_unit_test_setup_teardown(test_rules_h467, load_table, free_table),
        cmocka_unit_test(test_rule_codes_known),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
