/*
 * test_gsm7.c - the GSM 7-bit tables of 3GPP TS 23.038 septet by septet
 * (default alphabet, Turkish locking shift, the default extension and
 * Turkish single shift tables), escapes at their edges, packing (the
 * textbook "hellohello" and the CR filler of 6.1.2.3.1), and that what a
 * character costs going out agrees with what the tables decode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/gsm7.h"
#include "core/iz.h"
#include "core/utf8.h"

/* Every septet but the escape, in order, as the two locking tables show
 * them (23.038 6.2.1 and A.3.1). */
static const char default_table[] =
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
static const char turkish_table[] =
    "@£$¥€éùıòÇ\nĞğ\rÅåΔ_ΦΓΛΩΠΨΣΘΞŞşßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "İABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§çabcdefghijklmnopqrstuvwxyzäöñüà";

/* The Turkish single shift table (A.2.1); its first ten are the default
 * extension table (6.2.1.1). */
static const uint8_t shift_septets[] = {0x0A, 0x14, 0x28, 0x29, 0x2F, 0x3C, 0x3D, 0x3E, 0x40,
                                        0x65, 0x47, 0x49, 0x53, 0x63, 0x67, 0x69, 0x73};
static const char shift_chars[] = "\f^{}\\[~]|€ĞİŞçğış";

/* Pack n septets as 23.038 6.1.2.1.1 does; returns the octets. */
static size_t pack(const uint8_t *septets, size_t n, uint8_t *out)
{
    size_t bytes = (n * 7 + 7) / 8;
    memset(out, 0, bytes);
    for (size_t i = 0; i < n; i++) {
        size_t bit = i * 7;
        out[bit / 8] |= (uint8_t)(septets[i] << (bit % 8));
        if (bit % 8 > 1) out[bit / 8 + 1] |= (uint8_t)(septets[i] >> (8 - bit % 8));
    }
    return bytes;
}

static void decode_ok(const void *in, size_t len, unsigned flags, const char *want)
{
    char out[1024];
    size_t n = 99;
    int rc = iz_gsm7_decode(in, len, flags, out, sizeof out, &n);
    if (rc != 0) fail_msg("decode failed: %d (want '%s')", rc, want);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_locking_tables(void **state)
{
    (void)state;
    uint8_t septets[128], packed[128];
    size_t n = 0;
    for (unsigned s = 0; s < 128; s++)
        if (s != IZ_GSM7_ESC) septets[n++] = (uint8_t)s;
    decode_ok(septets, n, 0, default_table);
    decode_ok(septets, n, IZ_GSM7_TR_LOCK, turkish_table);
    /* 127 septets leave 7 spare bits in the last octet: the CR filler */
    septets[n] = '\r';
    size_t bytes = pack(septets, n + 1, packed);
    assert_int_equal(bytes, 112);
    decode_ok(packed, bytes, IZ_GSM7_PACKED, default_table);
    decode_ok(packed, bytes, IZ_GSM7_PACKED | IZ_GSM7_TR_LOCK, turkish_table);
}

static void test_shift_table(void **state)
{
    (void)state;
    uint8_t in[2 * sizeof shift_septets];
    for (size_t i = 0; i < sizeof shift_septets; i++) {
        in[2 * i] = IZ_GSM7_ESC;
        in[2 * i + 1] = shift_septets[i];
    }
    /* the same under either locking table: the shift table comes first */
    decode_ok(in, sizeof in, 0, shift_chars);
    decode_ok(in, sizeof in, IZ_GSM7_TR_LOCK, shift_chars);
    /* a septet the shift table lacks: the locking table's character */
    decode_ok("\x1B"
              "A\x1B\x04",
              4, 0, "Aè");
    decode_ok("\x1B"
              "A\x1B\x04",
              4, IZ_GSM7_TR_LOCK, "A€");
    /* escape escape is a space; an escape at the end shows nothing */
    decode_ok("A\x1B\x1B"
              "B",
              4, 0, "A B");
    decode_ok("AB\x1B", 3, 0, "AB");
    decode_ok("\x1B", 1, 0, "");
    decode_ok("\x1B\x1B\x1B", 3, 0, " ");
}

static void test_turkish_words(void **state)
{
    (void)state;
    /* İPTAL ACME, ÇIKIŞ, çıkış with the single shift table */
    decode_ok("\x1B\x49PTAL ACME", 11, 0, "İPTAL ACME");
    decode_ok("\x09IKI\x1B\x53", 6, 0, "ÇIKIŞ");
    decode_ok("\x1B\x63\x1B\x69k\x1B\x69\x1B\x73", 9, 0, "çıkış");
    /* BAŞLA, HAYIR with the locking shift table: Ş and ı are one septet */
    decode_ok("BA\x1CLA", 5, IZ_GSM7_TR_LOCK, "BAŞLA");
    decode_ok("hay\x07r", 5, IZ_GSM7_TR_LOCK, "hayır");
    decode_ok("hay\x07r", 5, 0, "hayìr");
    decode_ok("\x40PTAL \x60\x07k\x07\x1D", 11, IZ_GSM7_TR_LOCK, "İPTAL çıkış");
}

static void test_packing(void **state)
{
    (void)state;
    /* the textbook example */
    decode_ok("\xE8\x32\x9B\xFD\x46\x97\xD9\xEC\x37", 9, IZ_GSM7_PACKED, "hellohello");
    uint8_t septets[16], packed[16];
    /* 7 septets leave 7 spare bits: CR there is filler, @ (zeros) is not */
    memcpy(septets, "RET ACM\r", 8);
    size_t bytes = pack(septets, 8, packed);
    assert_int_equal(bytes, 7);
    decode_ok(packed, bytes, IZ_GSM7_PACKED, "RET ACM");
    bytes = pack(septets, 7, packed);
    assert_int_equal(bytes, 7);
    decode_ok(packed, bytes, IZ_GSM7_PACKED, "RET ACM@");
    /* eight septets that fill seven octets, the last a real character */
    memcpy(septets, "RET ACME", 8);
    decode_ok(packed, pack(septets, 8, packed), IZ_GSM7_PACKED, "RET ACME");
    /* a wanted CR at an octet boundary is followed by another (6.1.2.3.1) */
    memcpy(septets, "RET ACM\r\r", 9);
    decode_ok(packed, pack(septets, 9, packed), IZ_GSM7_PACKED, "RET ACM\r\r");
    /* escapes across octets */
    static const uint8_t ipt[] = {0x1B, 0x49, 'P', 'T', 'A', 'L', ' ', 'A', 'C', 'M', 'E'};
    decode_ok(packed, pack(ipt, sizeof ipt, packed), IZ_GSM7_PACKED, "İPTAL ACME");
    /* every length of octets decodes (any octet is valid packed) */
    uint8_t all[64];
    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (uint8_t)(0xFF - i * 7);
    for (size_t len = 0; len <= sizeof all; len++) {
        char out[512];
        size_t n;
        assert_int_equal(iz_gsm7_decode(all, len, IZ_GSM7_PACKED, out, sizeof out, &n), 0);
        assert_int_equal(iz_utf8_valid_prefix(out, n), n);
        assert_int_equal(strlen(out), n);
    }
    decode_ok("", 0, IZ_GSM7_PACKED, "");
}

static void test_errors(void **state)
{
    (void)state;
    char out[16];
    size_t n = 99;
    /* unpacked octets are septets: the top bit is never set */
    assert_int_equal(iz_gsm7_decode("RET\x80", 4, 0, out, sizeof out, &n), IZ_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(n, 0);
    assert_int_equal(iz_gsm7_decode("\x1B\xC9", 2, 0, out, sizeof out, &n), IZ_EINVAL);
    /* the buffer bounds the output, NUL included */
    assert_int_equal(iz_gsm7_decode("ABCD", 4, 0, out, 4, &n), IZ_ETOOBIG);
    assert_string_equal(out, "");
    assert_int_equal(iz_gsm7_decode("ABCD", 4, 0, out, 5, &n), 0);
    assert_string_equal(out, "ABCD");
    /* € is three bytes */
    assert_int_equal(iz_gsm7_decode("\x1B\x65", 2, 0, out, 3, &n), IZ_ETOOBIG);
    assert_int_equal(iz_gsm7_decode("\x1B\x65", 2, 0, out, 4, &n), 0);
    assert_int_equal(iz_gsm7_decode("", 0, 0, out, 0, NULL), IZ_ETOOBIG);
    assert_int_equal(iz_gsm7_decode("", 0, 0, out, 1, NULL), 0);
}

/* What a character costs agrees with the tables it decodes from. */
static void test_units(void **state)
{
    (void)state;
    for (unsigned s = 0; s < 128; s++) {
        if (s == IZ_GSM7_ESC) continue;
        uint8_t in = (uint8_t)s;
        char out[8];
        size_t n, i = 0;
        uint32_t cp;
        assert_int_equal(iz_gsm7_decode(&in, 1, 0, out, sizeof out, &n), 0);
        assert_int_equal(iz_utf8_next((const unsigned char *)out, n, &i, &cp), 0);
        assert_int_equal(iz_gsm7_units(cp, false), 1);
        assert_int_equal(iz_gsm7_units(cp, true), 1);
    }
    for (size_t k = 0; k < sizeof shift_septets; k++) {
        uint8_t in[2] = {IZ_GSM7_ESC, shift_septets[k]};
        char out[8];
        size_t n, i = 0;
        uint32_t cp;
        assert_int_equal(iz_gsm7_decode(in, 2, 0, out, sizeof out, &n), 0);
        assert_int_equal(iz_utf8_next((const unsigned char *)out, n, &i, &cp), 0);
        assert_int_equal(iz_gsm7_units(cp, true), 2);
        assert_int_equal(iz_gsm7_units(cp, false), k < 10 ? 2 : 0);
    }
    assert_int_equal(iz_gsm7_units('`', true), 0);
    assert_int_equal(iz_gsm7_units(0, true), 0);
    assert_int_equal(iz_gsm7_units(0x1B, true), 0);
    assert_int_equal(iz_gsm7_units(0x00F6, false), 1); /* ö */
    assert_int_equal(iz_gsm7_units(0x00D6, false), 1); /* Ö */
    assert_int_equal(iz_gsm7_units(0x00E7, false), 0); /* ç: only by the Turkish shift */
    assert_int_equal(iz_gsm7_units(0x1F44D, true), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locking_tables), cmocka_unit_test(test_shift_table),
        cmocka_unit_test(test_turkish_words),  cmocka_unit_test(test_packing),
        cmocka_unit_test(test_errors),         cmocka_unit_test(test_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
