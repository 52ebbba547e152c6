/*
 * test_smsmo.c - inbound SMS: a table of what people write (every example
 * of spec/SMS.md, Turkish letters in every spelling, dropped diacritics,
 * punctuation, emoji, keywords of one word and of two, of one brand and of
 * two, both action words, neither, long and empty texts), each row with the
 * status, channels and brand it must give; then the decoders (UTF-8 with
 * replacement, UCS-2 with surrogates, Latin-1, GSM-7 with the Turkish
 * shift tables, packed and not), SMPP codings and keyword checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/iz.h"
#include "core/smsmo.h"
#include "core/smstext.h"

/* The keywords of the brands on one shared short number. */
static const iz_mo_keyword_t kws[] = {
    {"ACME", 1},         /* 0 */
    {"AcmeShop", 1},     /* 1: a second keyword of brand 1 */
    {"ŞEKER", 2},        /* 2 */
    {"Kırmızı Kedi", 3}, /* 3: two words */
    {"KIRMIZI", 4},      /* 4: the first word of another brand's keyword */
    {"İZMİR", 5},        /* 5 */
    {"ORTAK", 6},        /* 6: the same keyword for two brands (a bad setup) */
    {"ortak", 7},        /* 7 */
    {"", 8},             /* 8: empty, never matches */
    {NULL, 9},           /* 9 */
};

#define NONE IZ_STATUS_NONE
#define RET IZ_RET
#define ONAY IZ_ONAY
#define CMD IZ_MO_COMMAND
#define NOACT IZ_MO_NO_ACTION
#define BOTH IZ_MO_BOTH_ACTIONS
#define UNCLEAR IZ_MO_UNCLEAR_CONSENT
#define M IZ_MO_CHANNEL(IZ_MESAJ)
#define A IZ_MO_CHANNEL(IZ_ARAMA)
#define E IZ_MO_CHANNEL(IZ_EPOSTA)
#define NOKW IZ_MO_KEYWORD_NONE
#define AMBIG IZ_MO_KEYWORD_AMBIGUOUS
#define ANY (-1) /* unknown words not checked */

typedef struct {
    const char *text;
    iz_status_t status;
    iz_mo_why_t why;
    unsigned channels;
    int all;
    int keyword;
    int unknown;
} row_t;

static const row_t rows[] = {
    /* the examples of spec/SMS.md */
    {"RET ACME", RET, CMD, 0, 0, 0, 0},
    {"ret acme", RET, CMD, 0, 0, 0, 0},
    {"İPTAL ACME", RET, CMD, 0, 0, 0, 0},
    {"ıptal acme", RET, CMD, 0, 0, 0, 0},
    {"Iptal", RET, CMD, 0, 0, NOKW, 0},
    {"RET ACME ARAMA", RET, CMD, A, 0, 0, 0},
    {"ONAY ACME", ONAY, CMD, 0, 0, 0, 0},
    {"evet", ONAY, CMD, 0, 0, NOKW, 0},
    {"  Ret   Acme. ", RET, CMD, 0, 0, 0, 0},
    {"ACME RET", RET, CMD, 0, 0, 0, 0},
    /* case, and the four i's in every place */
    {"Ret Acme", RET, CMD, 0, 0, 0, 0},
    {"rEt aCmE", RET, CMD, 0, 0, 0, 0},
    {"İptal Acme", RET, CMD, 0, 0, 0, 0},
    {"iptal ACME", RET, CMD, 0, 0, 0, 0},
    {"IPTAL ACME", RET, CMD, 0, 0, 0, 0},
    {"İPTAL", RET, CMD, 0, 0, NOKW, 0},
    {"ıPTAL acme", RET, CMD, 0, 0, 0, 0},
    {"Iptal acme", RET, CMD, 0, 0, 0, 0},
    {"i\xCC\x87ptal acme", RET, CMD, 0, 0, 0, 0}, /* i + combining dot (lower-cased İ) */
    {"I\xCC\x87PTAL ACME", RET, CMD, 0, 0, 0, 0}, /* decomposed İ */
    {"HAYIR ACME", RET, CMD, 0, 0, 0, 0},
    {"Hayır", RET, CMD, 0, 0, NOKW, 0},
    {"hayir acme", RET, CMD, 0, 0, 0, 0},
    {"HAYİR ACME", RET, CMD, 0, 0, 0, 0},
    {"hayır, teşekkürler", RET, CMD, 0, 0, NOKW, 0},
    {"ÇIKIŞ ACME", RET, CMD, 0, 0, 0, 0},
    {"çıkış acme", RET, CMD, 0, 0, 0, 0},
    {"CIKIS ACME", RET, CMD, 0, 0, 0, 0},
    {"Çikiş", RET, CMD, 0, 0, NOKW, 0},
    {"cıkıs", RET, CMD, 0, 0, NOKW, 0},
    {"C\xCC\xA7IKIS\xCC\xA7 ACME", RET, CMD, 0, 0, 0, 0}, /* decomposed Ç and Ş */
    {"STOP ACME", RET, CMD, 0, 0, 0, 0},
    {"stop", RET, CMD, 0, 0, NOKW, 0},
    {"RED ACME", RET, CMD, 0, 0, 0, 0},
    {"red", RET, CMD, 0, 0, NOKW, 0},
    {"Ret", RET, CMD, 0, 0, NOKW, 0},
    /* opt-in words */
    {"ONAY", ONAY, CMD, 0, 0, NOKW, 0},
    {"Onay acme", ONAY, CMD, 0, 0, 0, 0},
    {"EVET ACME", ONAY, CMD, 0, 0, 0, 0},
    {"Evet", ONAY, CMD, 0, 0, NOKW, 0},
    {"KABUL ACME", ONAY, CMD, 0, 0, 0, 0},
    {"kabul", ONAY, CMD, 0, 0, NOKW, 0},
    {"BAŞLA ACME", ONAY, CMD, 0, 0, 0, 0},
    {"basla acme", ONAY, CMD, 0, 0, 0, 0},
    {"Başla", ONAY, CMD, 0, 0, NOKW, 0},
    {"BASLA", ONAY, CMD, 0, 0, NOKW, 0},
    /* channels, in both spellings and any place */
    {"RET ACME SMS", RET, CMD, M, 0, 0, 0},
    {"RET ACME MESAJ", RET, CMD, M, 0, 0, 0},
    {"ret acme mesaj", RET, CMD, M, 0, 0, 0},
    {"ret acme ara", RET, CMD, A, 0, 0, 0},
    {"Ret Acme Arama", RET, CMD, A, 0, 0, 0},
    {"RET ACME EPOSTA", RET, CMD, E, 0, 0, 0},
    {"RET ACME E-POSTA", RET, CMD, E, 0, 0, 0},
    {"ret acme e-posta", RET, CMD, E, 0, 0, 0},
    {"RET ACME EMAIL", RET, CMD, E, 0, 0, 0},
    {"RET ACME E-MAIL", RET, CMD, E, 0, 0, 0},
    {"RET ACME MAIL", RET, CMD, E, 0, 0, 0},
    {"RET ACME TÜMÜ", RET, CMD, 0, 1, 0, 0},
    {"ret acme tumu", RET, CMD, 0, 1, 0, 0},
    {"RET ACME HEPSİ", RET, CMD, 0, 1, 0, 0},
    {"RET ACME SMS ARAMA", RET, CMD, M | A, 0, 0, 0},
    {"ONAY ACME SMS", ONAY, CMD, M, 0, 0, 0},
    {"ONAY ACME ARAMA MESAJ", ONAY, CMD, M | A, 0, 0, 0},
    {"SMS RET ACME", RET, CMD, M, 0, 0, 0},
    {"ARAMA İPTAL ACME", RET, CMD, A, 0, 0, 0},
    {"ONAY ACME E-POSTA", ONAY, CMD, E, 0, 0, 0},
    {"E posta ret acme", RET, CMD, E, 0, 0, 0},
    {"RET ACME SMS ve ARAMA", RET, CMD, M | A, 0, 0, 1},
    /* punctuation and emoji */
    {"RET, ACME!", RET, CMD, 0, 0, 0, 0},
    {"RET.ACME", RET, CMD, 0, 0, 0, 0},
    {"RET-ACME", RET, CMD, 0, 0, 0, 0},
    {"ret:acme", RET, CMD, 0, 0, 0, 0},
    {"\"RET ACME\"", RET, CMD, 0, 0, 0, 0},
    {"RET ACME 👍", RET, CMD, 0, 0, 0, 0},
    {"🙏 İptal ACME 🙏", RET, CMD, 0, 0, 0, 0},
    {"RET👍ACME", RET, CMD, 0, 0, 0, 0},
    {"❤️ONAY❤️ ACME", ONAY, CMD, 0, 0, 0, 0},
    {"👨‍👩‍👧 evet acme", ONAY, CMD, 0, 0, 0, 0},
    {"🇹🇷 RET ACME 🇹🇷", RET, CMD, 0, 0, 0, 0},
    {"1️⃣ ret acme", RET, CMD, 0, 0, 0, 0},
    {"RET ACME…", RET, CMD, 0, 0, 0, 0},
    {"RET “ACME”", RET, CMD, 0, 0, 0, 0},
    {"RET «ACME»", RET, CMD, 0, 0, 0, 0},
    {"RET\tACME\r\n", RET, CMD, 0, 0, 0, 0},
    {"RET\xC2\xA0"
     "ACME",
     RET, CMD, 0, 0, 0, 0}, /* no-break space */
    {"RET\xE2\x80\x8B"
     "ACME",
     RET, CMD, 0, 0, 0, 0}, /* zero width space */
    {"RE\xC2\xAD"
     "T ACME",
     RET, CMD, 0, 0, 0, 0}, /* soft hyphen */
    {"R E T ACME", NONE, NOACT, 0, 0, 0, 3},
    {"RETACME", NONE, NOACT, 0, 0, NOKW, 1},
    {"ＲＥＴ ＡＣＭＥ", NONE, NOACT, 0, 0, NOKW, 2}, /* full-width letters are not folded */
    /* keyword first or last, words around it */
    {"ACME İPTAL", RET, CMD, 0, 0, 0, 0},
    {"Acme iptal lütfen", RET, CMD, 0, 0, 0, 0},
    {"RET ACME lütfen", RET, CMD, 0, 0, 0, 0},
    {"Lütfen RET ACME", RET, CMD, 0, 0, 0, 0},
    {"Merhaba, ACME'den gelen mesajları istemiyorum. İptal.", RET, CMD, 0, 0, 0, 3},
    {"Beni listeden çıkarın RET ACME", RET, CMD, 0, 0, 0, 3},
    {"Ret acme'yi", RET, CMD, 0, 0, 0, 0},
    {"İPTAL ACME’ye", RET, CMD, 0, 0, 0, 0},
    {"ACME'ye onay veriyorum", ONAY, CMD, 0, 0, 0, 0},
    {"ONAY ACME’ye", ONAY, CMD, 0, 0, 0, 0},
    {"ONAY ACME'nin SMS", ONAY, CMD, M, 0, 0, 0},
    {"Kabul ediyorum ACME", ONAY, CMD, 0, 0, 0, 0},
    {"onay vermiyorum ACME", NONE, UNCLEAR, 0, 0, 0, 1},
    {"ACME kabul etmiyorum", NONE, UNCLEAR, 0, 0, 0, 1},
    {"ONAY ACME lütfen", ONAY, CMD, 0, 0, 0, 0},
    {"Evet istiyorum", ONAY, CMD, 0, 0, NOKW, 0},
    {"evet tesekkurler", ONAY, CMD, 0, 0, NOKW, 0},
    {"Merhaba, ONAY ACME, iyi günler", ONAY, CMD, 0, 0, 0, 0},
    {"ONAY ACME 4607", ONAY, CMD, 0, 0, 0, 0},
    {"RET ACME 4607", RET, CMD, 0, 0, 0, 0},
    {"ONAY e", NONE, UNCLEAR, 0, 0, NOKW, 1}, /* a case ending only after a keyword */
    {"evet ama sadece sms", NONE, UNCLEAR, M, 0, NOKW, 2},
    /* both action classes, or neither */
    {"RET ONAY ACME", NONE, BOTH, 0, 0, 0, 0},
    {"evet iptal", NONE, BOTH, 0, 0, NOKW, 0},
    {"Hayır, onay", NONE, BOTH, 0, 0, NOKW, 0},
    {"ACME", NONE, NOACT, 0, 0, 0, 0},
    {"", NONE, NOACT, 0, 0, NOKW, 0},
    {"   ", NONE, NOACT, 0, 0, NOKW, 0},
    {"...", NONE, NOACT, 0, 0, NOKW, 0},
    {"👍", NONE, NOACT, 0, 0, NOKW, 0},
    {"merhaba", NONE, NOACT, 0, 0, NOKW, 0},
    {"SMS ARAMA", NONE, NOACT, M | A, 0, NOKW, 0},
    {"Artık mesaj istemiyorum", NONE, NOACT, M, 0, NOKW, 2},
    /* several words of one class are one action */
    {"RET IPTAL ACME", RET, CMD, 0, 0, 0, 0},
    {"ONAY EVET KABUL", ONAY, CMD, 0, 0, NOKW, 0},
    {"RET RET RET", RET, CMD, 0, 0, NOKW, 0},
    {"STOP, çıkış, iptal!!!", RET, CMD, 0, 0, NOKW, 0},
    /* brand keywords */
    {"RET FOO", RET, CMD, 0, 0, NOKW, 1},
    {"ONAY FOO", NONE, UNCLEAR, 0, 0, NOKW, 1},
    {"RET ACME ŞEKER", RET, CMD, 0, 0, AMBIG, 0},
    {"RET ŞEKER", RET, CMD, 0, 0, 2, 0},
    {"ret seker", RET, CMD, 0, 0, 2, 0},
    {"RET Şeker", RET, CMD, 0, 0, 2, 0},
    {"ret SEKER", RET, CMD, 0, 0, 2, 0},
    {"RET ACMESHOP", RET, CMD, 0, 0, 1, 0},
    {"RET ACME ACMESHOP", RET, CMD, 0, 0, 0, 0}, /* two keywords of one brand */
    {"RET ACMESHOP ACME", RET, CMD, 0, 0, 1, 0},
    {"RET KIRMIZI KEDİ", RET, CMD, 0, 0, 3, 0},
    {"ret kirmizi kedi", RET, CMD, 0, 0, 3, 0},
    {"Kırmızı Kedi'ye onay", ONAY, CMD, 0, 0, 3, 0},
    {"RET KIRMIZI", RET, CMD, 0, 0, 4, 0},
    {"RET KEDİ KIRMIZI", RET, CMD, 0, 0, 4, 1},
    {"RET KIRMIZI KEDI ACME", RET, CMD, 0, 0, AMBIG, 0},
    {"İZMİR RET", RET, CMD, 0, 0, 5, 0},
    {"izmir ret", RET, CMD, 0, 0, 5, 0},
    {"IZMIR RET", RET, CMD, 0, 0, 5, 0},
    {"ızmır ret", RET, CMD, 0, 0, 5, 0},
    {"ACME RET ACME", RET, CMD, 0, 0, 0, 0},
    {"RET ORTAK", RET, CMD, 0, 0, AMBIG, 0},
    {"ONAY ACME ŞEKER", ONAY, CMD, 0, 0, AMBIG, 0},
};

/* Check one parse against a row; the row's text names a failure. */
static void check_row(const row_t *r, const iz_mo_parse_t *p)
{
    if (p->status != r->status || p->why != r->why || p->channels != r->channels ||
        p->all != (r->all != 0) || p->keyword != r->keyword ||
        (r->unknown != ANY && p->unknown != (size_t)r->unknown))
        fail_msg("'%s': status %d why %s channels %u all %d keyword %d unknown %zu; wanted "
                 "status %d why %s channels %u all %d keyword %d unknown %d",
                 r->text, p->status, iz_mo_why_name(p->why), p->channels, p->all, p->keyword,
                 p->unknown, r->status, iz_mo_why_name(r->why), r->channels, r->all, r->keyword,
                 r->unknown);
}

static void test_grammar_table(void **state)
{
    (void)state;
    size_t n = 0;
    for (size_t i = 0; i < IZ_ARRAY_LEN(rows); i++) {
        const row_t *r = &rows[i];
        iz_mo_parse_t p;
        int rc = iz_mo_parse(r->text, strlen(r->text), kws, IZ_ARRAY_LEN(kws), &p);
        if (rc != 0) fail_msg("'%s': rc %d", r->text, rc);
        check_row(r, &p);
        assert_true((p.status != NONE) == (p.why == CMD));
        n++;
    }
    assert_true(n >= 100);
}

/* Every row parses alike with the keywords given in another order, and
 * with its text folded first (the parse reads only the folded form). */
static void test_grammar_invariants(void **state)
{
    (void)state;
    iz_mo_keyword_t rev[IZ_ARRAY_LEN(kws)];
    for (size_t k = 0; k < IZ_ARRAY_LEN(kws); k++)
        rev[k] = kws[IZ_ARRAY_LEN(kws) - 1 - k];
    for (size_t i = 0; i < IZ_ARRAY_LEN(rows); i++) {
        const row_t *r = &rows[i];
        iz_mo_parse_t a, b, c;
        char folded[256];
        assert_int_equal(iz_mo_parse(r->text, strlen(r->text), kws, IZ_ARRAY_LEN(kws), &a), 0);
        assert_int_equal(iz_mo_parse(r->text, strlen(r->text), rev, IZ_ARRAY_LEN(rev), &b), 0);
        assert_int_equal(iz_smstext_fold(r->text, strlen(r->text), folded, sizeof folded), 0);
        assert_int_equal(iz_mo_parse(folded, strlen(folded), kws, IZ_ARRAY_LEN(kws), &c), 0);
        if (a.status != b.status || a.channels != b.channels || a.all != b.all ||
            a.unknown != b.unknown || (a.keyword < 0) != (b.keyword < 0) ||
            (a.keyword >= 0 && kws[a.keyword].brand != rev[b.keyword].brand))
            fail_msg("'%s' depends on the keywords' order", r->text);
        if (a.status != c.status || a.why != c.why || a.channels != c.channels || a.all != c.all ||
            a.keyword != c.keyword || a.words != c.words || a.unknown != c.unknown)
            fail_msg("'%s' parses apart from its folded form", r->text);
    }
}

/* Without keywords (a brand's own 0850 number): the action alone. */
static void test_no_keywords(void **state)
{
    (void)state;
    iz_mo_parse_t p;
    assert_int_equal(iz_mo_parse("RET ACME", 8, NULL, 0, &p), 0);
    assert_int_equal(p.status, RET);
    assert_int_equal(p.keyword, NOKW);
    assert_int_equal(p.unknown, 1);
    assert_int_equal(iz_mo_parse("ONAY ACME", 9, NULL, 0, &p), 0);
    assert_int_equal(p.status, NONE);
    assert_int_equal(p.why, UNCLEAR);
    assert_int_equal(iz_mo_parse("evet, sms", 9, NULL, 0, &p), 0);
    assert_int_equal(p.status, ONAY);
    assert_int_equal(p.channels, M);
}

/* Long texts: words beyond counting, the limit, and over it. */
static void test_long_texts(void **state)
{
    (void)state;
    size_t max = IZ_SMSTEXT_MAX_BYTES;
    char *t = malloc(max + 2);
    iz_mo_parse_t p;

    /* "RET ACME" and spaces up to the limit */
    memset(t, ' ', max + 1);
    memcpy(t, "RET ACME", 8);
    assert_int_equal(iz_mo_parse(t, max, kws, IZ_ARRAY_LEN(kws), &p), 0);
    assert_int_equal(p.status, RET);
    assert_int_equal(p.keyword, 0);
    assert_int_equal(p.words, 2);
    /* one byte over: too big, and help */
    assert_int_equal(iz_mo_parse(t, max + 1, kws, IZ_ARRAY_LEN(kws), &p), IZ_ETOOBIG);
    assert_int_equal(p.status, NONE);
    assert_int_equal(p.keyword, NOKW);

    /* the most words a text can have ("a a a ..."), the opt-out last */
    for (size_t i = 0; i < max; i += 2) {
        t[i] = 'a';
        t[i + 1] = ' ';
    }
    memcpy(t + max - 8, "RET ACME", 8);
    assert_int_equal(iz_mo_parse(t, max, kws, IZ_ARRAY_LEN(kws), &p), 0);
    assert_int_equal(p.status, RET);
    assert_int_equal(p.keyword, 0);
    assert_int_equal(p.words, max / 2 - 2);
    assert_int_equal(p.unknown, max / 2 - 4);
    /* the same words with an opt-in: unclear */
    t[max - 10] = ' ';
    memcpy(t + max - 9, "ONAY ACME", 9);
    assert_int_equal(iz_mo_parse(t, max, kws, IZ_ARRAY_LEN(kws), &p), 0);
    assert_int_equal(p.status, NONE);
    assert_int_equal(p.why, UNCLEAR);

    /* a polite essay: "lütfen" many times around "İptal ACME" */
    size_t n = 0;
    const char *lutfen = "lütfen ";
    while (n + strlen(lutfen) + 12 < max) {
        memcpy(t + n, lutfen, strlen(lutfen));
        n += strlen(lutfen);
    }
    memcpy(t + n, "İptal ACME", strlen("İptal ACME"));
    n += strlen("İptal ACME");
    assert_int_equal(iz_mo_parse(t, n, kws, IZ_ARRAY_LEN(kws), &p), 0);
    assert_int_equal(p.status, RET);
    assert_int_equal(p.keyword, 0);
    assert_int_equal(p.unknown, 0);
    free(t);

    /* invalid UTF-8 is refused (the decoder never gives it) */
    assert_int_equal(iz_mo_parse("RET \xC3", 5, kws, IZ_ARRAY_LEN(kws), &p), IZ_EINVAL);
    assert_int_equal(p.status, NONE);
}

static void test_keyword_check(void **state)
{
    (void)state;
    static const struct {
        const char *kw;
        int rc;
    } cases[] = {
        {"ACME", 0},
        {"Kırmızı Kedi", 0},
        {"A B C D", 0},
        {"ŞEKER", 0},
        {"LÜTFEN", 0},
        {"4607", 0},
        {"A B C D E", IZ_EINVAL},
        {"", IZ_EINVAL},
        {"   ", IZ_EINVAL},
        {"!!!", IZ_EINVAL},
        {"ARA", IZ_EINVAL},
        {"RET", IZ_EINVAL},
        {"İptal", IZ_EINVAL},
        {"E-POSTA", IZ_EINVAL},
        {"ACME SMS", IZ_EINVAL},
        {"Tümü", IZ_EINVAL},
        {"AC\xC3", IZ_EINVAL},
        {"0123456789012345678901234567890123456789012345678901234567890123", 0},
        {"01234567890123456789012345678901234567890123456789012345678901234", IZ_ETOOBIG},
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(cases); i++)
        if (iz_mo_keyword_check(cases[i].kw) != cases[i].rc)
            fail_msg("keyword '%s': %d, wanted %d", cases[i].kw, iz_mo_keyword_check(cases[i].kw),
                     cases[i].rc);
    assert_int_equal(iz_mo_keyword_check(NULL), IZ_EINVAL);
}

/* ---- decoding ---- */

static void decode_ok(const void *in, size_t len, iz_mo_coding_t c, const char *want,
                      size_t want_replaced)
{
    char out[512];
    size_t n = 99, rep = 99;
    int rc = iz_mo_decode(in, len, c, out, sizeof out, &n, &rep);
    if (rc != 0) fail_msg("coding %d: rc %d, wanted '%s'", c, rc, want);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
    assert_int_equal(rep, want_replaced);
}

static void decode_fails(const void *in, size_t len, iz_mo_coding_t c, int want)
{
    char out[64];
    size_t n = 99, rep = 99;
    assert_int_equal(iz_mo_decode(in, len, c, out, sizeof out, &n, &rep), want);
    assert_string_equal(out, "");
    assert_int_equal(n, 0);
    assert_int_equal(rep, 0);
}

static void test_decode_utf8(void **state)
{
    (void)state;
    decode_ok("İPTAL ACME", strlen("İPTAL ACME"), IZ_MO_UTF8, "İPTAL ACME", 0);
    decode_ok("", 0, IZ_MO_UTF8, "", 0);
    decode_ok("RET 👍", strlen("RET 👍"), IZ_MO_UTF8, "RET 👍", 0);
    /* each maximal invalid subpart is one U+FFFD */
    decode_ok("RET ACME\xFF", 9, IZ_MO_UTF8, "RET ACME\xEF\xBF\xBD", 1);
    decode_ok("a\xE2\x82"
              "b",
              4, IZ_MO_UTF8,
              "a\xEF\xBF\xBD"
              "b",
              1);                                                        /* cut € */
    decode_ok("\xF0\x9F\x91", 3, IZ_MO_UTF8, "\xEF\xBF\xBD", 1);         /* cut emoji at the end */
    decode_ok("\xC0\xAF", 2, IZ_MO_UTF8, "\xEF\xBF\xBD\xEF\xBF\xBD", 2); /* overlong */
    decode_ok("\xED\xA0\x80", 3, IZ_MO_UTF8, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 3);
    decode_ok("\xF4\x90\x80\x80", 4, IZ_MO_UTF8, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD",
              4);
    decode_ok("a\0b", 3, IZ_MO_UTF8,
              "a\xEF\xBF\xBD"
              "b",
              1); /* never a NUL inside */
    /* Windows-1254 sent as UTF-8: the Turkish letters are lost, the ASCII
     * command is not */
    decode_ok("\xDDPTAL ACME", 10, IZ_MO_UTF8, "\xEF\xBF\xBDPTAL ACME", 1);
    char out[64];
    size_t n;
    assert_int_equal(iz_mo_decode("RET ACME\xFF", 9, IZ_MO_UTF8, out, sizeof out, &n, NULL), 0);
    iz_mo_parse_t p;
    assert_int_equal(iz_mo_parse(out, n, kws, IZ_ARRAY_LEN(kws), &p), 0);
    assert_int_equal(p.status, RET);
    assert_int_equal(p.keyword, 0);
}

static void test_decode_ucs2(void **state)
{
    (void)state;
    static const char ipt[] = "\x01\x30\x00P\x00T\x00"
                              "A\x00L\x00 \x00"
                              "A\x00"
                              "C\x00M\x00"
                              "E";
    decode_ok(ipt, sizeof ipt - 1, IZ_MO_UCS2, "İPTAL ACME", 0);
    char out[64];
    size_t n;
    iz_mo_parse_t p;
    assert_int_equal(iz_mo_decode(ipt, sizeof ipt - 1, IZ_MO_UCS2, out, sizeof out, &n, NULL), 0);
    assert_int_equal(iz_mo_parse(out, n, kws, IZ_ARRAY_LEN(kws), &p), 0);
    assert_int_equal(p.status, RET);
    assert_int_equal(p.keyword, 0);
    /* çıkış ş ğ, a surrogate pair (👍), a NUL */
    decode_ok("\x00\xE7\x01\x31\x00k\x01\x31\x01\x5F", 10, IZ_MO_UCS2, "çıkış", 0);
    decode_ok("\x00R\xD8\x3D\xDC\x4D", 6, IZ_MO_UCS2, "R👍", 0);
    decode_ok("\x00\x00\x00"
              "A",
              4, IZ_MO_UCS2,
              "\xEF\xBF\xBD"
              "A",
              1);
    decode_ok("", 0, IZ_MO_UCS2, "", 0);
    /* odd lengths and lone surrogates */
    decode_fails("\x00", 1, IZ_MO_UCS2, IZ_EINVAL);
    decode_fails("\x00R\x00", 3, IZ_MO_UCS2, IZ_EINVAL);
    decode_fails("\xD8\x3D", 2, IZ_MO_UCS2, IZ_EINVAL);
    decode_fails("\xD8\x3D\x00"
                 "A",
                 4, IZ_MO_UCS2, IZ_EINVAL);
    decode_fails("\xDC\x4D\x00"
                 "A",
                 4, IZ_MO_UCS2, IZ_EINVAL);
    decode_fails("\xD8\x3D\xD8\x3D", 4, IZ_MO_UCS2, IZ_EINVAL);
    decode_fails("\x00R\xD8\x3D\xDC", 5, IZ_MO_UCS2, IZ_EINVAL);
}

static void test_decode_gsm_latin1(void **state)
{
    (void)state;
    /* the Turkish single shift table by default */
    decode_ok("\x1B\x49PTAL ACME", 11, IZ_MO_GSM7, "İPTAL ACME", 0);
    decode_ok("\x09IKI\x1B\x53", 6, IZ_MO_GSM7, "ÇIKIŞ", 0);
    decode_ok("\x00", 1, IZ_MO_GSM7, "@", 0); /* septet 0 is @, not NUL */
    /* the locking shift table when asked */
    decode_ok("BA\x1CLA", 5, IZ_MO_GSM7_TR, "BAŞLA", 0);
    decode_ok("BA\x1CLA", 5, IZ_MO_GSM7, "BAÆLA", 0);
    /* packed: the textbook example, then İPTAL with the locking table */
    decode_ok("\xE8\x32\x9B\xFD\x46\x97\xD9\xEC\x37", 9, IZ_MO_GSM7_PACKED, "hellohello", 0);
    /* 0x40 'P' 'T' 'A' 'L' packed: 5 septets in 5 octets */
    decode_ok("\x40\x28\x35\xC8\x04", 5, IZ_MO_GSM7_TR_PACKED, "İPTAL", 0);
    decode_ok("\x40\x28\x35\xC8\x04", 5, IZ_MO_GSM7_PACKED, "¡PTAL", 0);
    decode_fails("RET\xC5", 4, IZ_MO_GSM7, IZ_EINVAL);
    /* Latin-1 */
    decode_ok("\xC7ok g\xFCzel, RET ACME", 19, IZ_MO_LATIN1, "Çok güzel, RET ACME", 0);
    decode_ok("a\0", 2, IZ_MO_LATIN1, "a\xEF\xBF\xBD", 1);
    /* an unknown coding */
    decode_fails("RET", 3, IZ_MO_CODING_COUNT_, IZ_EINVAL);
    decode_fails("RET", 3, (iz_mo_coding_t)-1, IZ_EINVAL);
}

static void test_decode_bounds(void **state)
{
    (void)state;
    char out[64];
    size_t n;
    /* the output buffer bounds every coding, NUL included */
    assert_int_equal(iz_mo_decode("RET", 3, IZ_MO_UTF8, out, 3, &n, NULL), IZ_ETOOBIG);
    assert_string_equal(out, "");
    assert_int_equal(iz_mo_decode("RET", 3, IZ_MO_UTF8, out, 4, &n, NULL), 0);
    assert_int_equal(iz_mo_decode("\xFF", 1, IZ_MO_UTF8, out, 3, &n, NULL), IZ_ETOOBIG);
    assert_int_equal(iz_mo_decode("\xFF", 1, IZ_MO_UTF8, out, 4, &n, NULL), 0);
    assert_int_equal(iz_mo_decode("\xE9", 1, IZ_MO_LATIN1, out, 2, &n, NULL), IZ_ETOOBIG);
    assert_int_equal(iz_mo_decode("\x01\x30", 2, IZ_MO_UCS2, out, 2, &n, NULL), IZ_ETOOBIG);
    assert_int_equal(iz_mo_decode("", 0, IZ_MO_UTF8, out, 0, &n, NULL), IZ_ETOOBIG);
    assert_int_equal(iz_mo_decode("", 0, IZ_MO_GSM7, out, 1, &n, NULL), 0);
    assert_string_equal(out, "");
    /* IZ_MO_DECODED_MAX is enough for the worst input of every coding */
    static const struct {
        iz_mo_coding_t c;
        unsigned char byte;
    } worst[] = {
        {IZ_MO_UTF8, 0xFF},        {IZ_MO_UTF8, 0x00},           {IZ_MO_LATIN1, 0xE9},
        {IZ_MO_UCS2, 0x20},        {IZ_MO_GSM7_TR, 0x04},        {IZ_MO_GSM7, 0x10},
        {IZ_MO_GSM7_PACKED, 0x00}, {IZ_MO_GSM7_TR_PACKED, 0x84}, {IZ_MO_GSM7_PACKED, 0xFF},
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(worst); i++) {
        for (size_t len = 0; len <= 70; len += worst[i].c == IZ_MO_UCS2 ? 2 : 1) {
            unsigned char in[70];
            char big[IZ_MO_DECODED_MAX(70)];
            memset(in, worst[i].byte, sizeof in);
            int rc = iz_mo_decode(in, len, worst[i].c, big, IZ_MO_DECODED_MAX(len), &n, NULL);
            if (rc != 0)
                fail_msg("coding %d byte %02x len %zu: %d", worst[i].c, worst[i].byte, len, rc);
            assert_true(n < IZ_MO_DECODED_MAX(len));
            assert_int_equal(strlen(big), n);
        }
    }
}

static void test_smpp_codings(void **state)
{
    (void)state;
    static const struct {
        int dc;
        int rc;
        iz_mo_coding_t c;
    } cases[] = {
        {0, 0, IZ_MO_GSM7},         {1, 0, IZ_MO_LATIN1},       {3, 0, IZ_MO_LATIN1},
        {8, 0, IZ_MO_UCS2},         {0x10, 0, IZ_MO_GSM7},      {0x11, 0, IZ_MO_GSM7},
        {0x18, 0, IZ_MO_UCS2},      {0x48, 0, IZ_MO_UCS2},      {0xC8, 0, IZ_MO_GSM7},
        {0xE0, 0, IZ_MO_UCS2},      {0xF0, 0, IZ_MO_GSM7},      {0xF3, 0, IZ_MO_GSM7},
        {2, IZ_EUNSUPPORTED, 0},    {4, IZ_EUNSUPPORTED, 0},    {5, IZ_EUNSUPPORTED, 0},
        {6, IZ_EUNSUPPORTED, 0},    {9, IZ_EUNSUPPORTED, 0},    {0x14, IZ_EUNSUPPORTED, 0},
        {0x30, IZ_EUNSUPPORTED, 0}, {0x9F, IZ_EUNSUPPORTED, 0}, {0xF4, IZ_EUNSUPPORTED, 0},
        {-1, IZ_EUNSUPPORTED, 0},   {256, IZ_EUNSUPPORTED, 0},
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(cases); i++) {
        iz_mo_coding_t c = IZ_MO_CODING_COUNT_;
        int rc = iz_mo_coding_from_smpp(cases[i].dc, &c);
        if (rc != cases[i].rc) fail_msg("data_coding 0x%x: %d", cases[i].dc, rc);
        assert_int_equal(c, rc == 0 ? cases[i].c : IZ_MO_CODING_COUNT_);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grammar_table), cmocka_unit_test(test_grammar_invariants),
        cmocka_unit_test(test_no_keywords),   cmocka_unit_test(test_long_texts),
        cmocka_unit_test(test_keyword_check), cmocka_unit_test(test_decode_utf8),
        cmocka_unit_test(test_decode_ucs2),   cmocka_unit_test(test_decode_gsm_latin1),
        cmocka_unit_test(test_decode_bounds), cmocka_unit_test(test_smpp_codings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
