/*
 * fuzz_smstext.c - libFuzzer driver for the SMS text parser (UTF-8 decoding,
 * encoding choice, part counting, keyword folding).
 *
 * Invariants checked on every input:
 *   - analyze succeeds exactly on valid UTF-8 of at most IZ_SMSTEXT_MAX_BYTES;
 *   - on success the counts agree: parts >= 1, each part holds no more than
 *     the one-part limit of its encoding, and the parts hold all the units;
 *     a gateway that cuts UCS-2 anywhere (Kannel) gets exactly
 *     ceil(units / 67) parts of a longer text, never more than the greedy
 *     split's;
 *   - the opt-out is found only in a text whose digits hold the number;
 *   - fold accepts the same UTF-8, never lengthens the text, and is
 *     idempotent (folding a folded text changes nothing).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "core/smstext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t single_limit(iz_sms_enc_t e)
{
    return e == IZ_SMS_GSM7      ? IZ_SMS_GSM7_SINGLE
           : e == IZ_SMS_GSM7_TR ? IZ_SMS_GSM7_TR_SINGLE
                                 : IZ_SMS_UCS2_SINGLE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t greedy_parts = 0;
    for (unsigned flags = 0; flags <= (IZ_SMSTEXT_NO_TR_SHIFT | IZ_SMSTEXT_SPLIT_SURROGATES);
         flags++) {
        iz_smstext_info_t info;
        int rc = iz_smstext_analyze(text, size, flags, &info);
        if (size > IZ_SMSTEXT_MAX_BYTES) {
            if (rc != IZ_ETOOBIG) abort();
            continue;
        }
        if (rc != 0) {
            if (rc != IZ_EINVAL) abort();
            continue;
        }
        if (info.parts < 1 || !iz_sms_enc_name(info.encoding)) abort();
        if (info.units < info.chars && info.encoding != IZ_SMS_UCS2) abort();
        if (info.part_units > single_limit(info.encoding)) abort();
        if (info.parts == 1 && info.units > single_limit(info.encoding)) abort();
        if (info.parts * info.part_units < info.units) abort();
        if ((flags & IZ_SMSTEXT_NO_TR_SHIFT) && info.encoding == IZ_SMS_GSM7_TR) abort();
        if (flags == IZ_SMSTEXT_NO_TR_SHIFT) greedy_parts = info.parts;
        if (flags == (IZ_SMSTEXT_NO_TR_SHIFT | IZ_SMSTEXT_SPLIT_SURROGATES)) {
            if (info.parts > greedy_parts) abort();
            if (info.encoding == IZ_SMS_UCS2 && info.units > IZ_SMS_UCS2_SINGLE &&
                info.parts != (info.units + IZ_SMS_UCS2_CONCAT - 1) / IZ_SMS_UCS2_CONCAT)
                abort();
        }
    }
    if (size <= IZ_SMSTEXT_MAX_BYTES && iz_smstext_has_optout(text, size, "ACME", "4607", NULL)) {
        char *d = malloc(size + 1);
        if (!d) abort();
        size_t k = 0;
        for (size_t i = 0; i < size; i++)
            if (text[i] >= '0' && text[i] <= '9') d[k++] = text[i];
        d[k] = '\0';
        if (!strstr(d, "4607")) abort();
        free(d);
    }
    (void)iz_smstext_has_optout(text, size, "", "08501234567", NULL);
    if (size > IZ_SMSTEXT_MAX_BYTES) return 0;
    char *a = malloc(size + 1), *b = malloc(size + 1);
    if (!a || !b) abort();
    int rc = iz_smstext_fold(text, size, a, size + 1);
    iz_smstext_info_t info;
    bool valid = iz_smstext_analyze(text, size, 0, &info) == 0;
    if ((rc == 0) != valid) abort();
    if (rc == 0) {
        size_t n = strlen(a);
        if (n > size) abort();
        if (iz_smstext_fold(a, n, b, size + 1) != 0 || strcmp(a, b) != 0) abort();
    }
    free(a);
    free(b);
    return 0;
}
