/*
 * fuzz_mo_decode.c - libFuzzer driver for the inbound SMS decoders
 * (iz_mo_decode: UTF-8 with replacement, UCS-2/UTF-16BE, Latin-1, GSM 7-bit
 * packed and not, with the Turkish shift tables), then the grammar on what
 * they give. The first byte picks the coding, the rest is the message.
 *
 * Invariants checked on every input:
 *   - IZ_MO_DECODED_MAX(len) always suffices; only UCS-2 (odd length, lone
 *     surrogates) and unpacked GSM-7 (an octet above 0x7F) can fail, and
 *     unpacked GSM-7 fails exactly then;
 *   - the output is valid UTF-8 with no NUL inside, as long as *outlen says;
 *   - a buffer of exactly outlen + 1 bytes gives the same, one byte less is
 *     IZ_ETOOBIG with "" written;
 *   - UTF-8 that is valid and has no NUL comes back unchanged, anything else
 *     has replacements; Latin-1 replaces exactly its NULs; UCS-2 encodes
 *     back to the input (NULs aside);
 *   - the grammar reads every output without failing (under the text limit).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "core/smsmo.h"
#include "core/smstext.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The output, encoded back to UTF-16BE, is the input (U+FFFD for U+0000). */
static void check_ucs2(const uint8_t *in, size_t len, const char *out, size_t n)
{
    size_t i = 0, k = 0;
    while (i < n) {
        uint32_t cp;
        if (iz_utf8_next((const unsigned char *)out, n, &i, &cp) != 0) abort();
        uint16_t u[2];
        size_t units = 1;
        if (cp >= 0x10000) {
            u[0] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
            u[1] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
            units = 2;
        } else {
            u[0] = (uint16_t)cp;
        }
        for (size_t j = 0; j < units; j++, k += 2) {
            if (k + 2 > len) abort();
            uint16_t got = (uint16_t)(in[k] << 8 | in[k + 1]);
            if (got != u[j] && !(got == 0 && u[j] == 0xFFFD)) abort();
        }
    }
    if (k != len) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    iz_mo_coding_t coding = (iz_mo_coding_t)(data[0] % IZ_MO_CODING_COUNT_);
    const uint8_t *in = data + 1;
    size_t len = size - 1, cap = IZ_MO_DECODED_MAX(len), n, rep;
    char *out = malloc(cap);
    if (!out) abort();
    int rc = iz_mo_decode(in, len, coding, out, cap, &n, &rep);

    bool high = false, nul = false;
    for (size_t i = 0; i < len; i++) {
        high |= in[i] > 0x7F;
        nul |= in[i] == 0;
    }
    if (coding == IZ_MO_GSM7 || coding == IZ_MO_GSM7_TR) {
        if ((rc == IZ_EINVAL) != high) abort();
    } else if (coding == IZ_MO_UCS2) {
        if (len % 2 && rc != IZ_EINVAL) abort();
    } else if (rc != 0) {
        abort();
    }
    if (rc != 0) {
        if (rc != IZ_EINVAL || out[0] != '\0' || n != 0 || rep != 0) abort();
        free(out);
        return 0;
    }
    if (n >= cap || strlen(out) != n || iz_utf8_valid_prefix(out, n) != n) abort();
    if (coding == IZ_MO_UTF8) {
        bool clean = !nul && iz_utf8_valid_prefix(in, len) == len;
        if (clean != (rep == 0)) abort();
        if (clean && (n != len || memcmp(out, in, len) != 0)) abort();
    }
    if (coding == IZ_MO_LATIN1) {
        size_t zeros = 0;
        for (size_t i = 0; i < len; i++)
            zeros += in[i] == 0;
        if (rep != zeros) abort();
    }
    if (coding == IZ_MO_UCS2) check_ucs2(in, len, out, n);

    /* the exact size works, one byte less does not */
    char *exact = malloc(n + 1);
    size_t n2, rep2;
    if (!exact) abort();
    if (iz_mo_decode(in, len, coding, exact, n + 1, &n2, &rep2) != 0 || n2 != n || rep2 != rep ||
        memcmp(exact, out, n + 1) != 0)
        abort();
    if (iz_mo_decode(in, len, coding, exact, n, &n2, NULL) != IZ_ETOOBIG || n2 != 0) abort();
    if (n > 0 && exact[0] != '\0') abort();
    free(exact);

    static const iz_mo_keyword_t kws[] = {{"ACME", 1}, {"Kırmızı Kedi", 2}, {"İZMİR", 3}};
    iz_mo_parse_t p;
    rc = iz_mo_parse(out, n, kws, IZ_ARRAY_LEN(kws), &p);
    if (rc != (n > IZ_SMSTEXT_MAX_BYTES ? IZ_ETOOBIG : 0)) abort();
    if ((p.status != IZ_STATUS_NONE) != (p.why == IZ_MO_COMMAND)) abort();
    free(out);
    return 0;
}
