/*
 * fuzz_recipient.c - libFuzzer driver for recipient normalization.
 *
 * Every input goes through the phone and e-mail normalizers and through
 * iz_recipient_normalize for each consent type. The invariants checked are
 * the ones the rest of izin relies on: a failure carries the documented
 * H-code and an empty output; a success is an E.164 number ('+', then 8 to
 * 14 digits, not starting with 0) or a lower-case ASCII e-mail address of 6
 * to 265 characters, and normalizing the result again gives it back. The
 * send filter's fast path (iz_phone_pack_raw) must agree with the full
 * normalization on every input it takes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "core/recipient.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) abort();                                                                         \
    } while (0)

static int is_e164(const char *s)
{
    size_t n = strlen(s);
    if (n < 9 || n > 15 || s[0] != '+' || s[1] == '0') return 0;
    for (size_t i = 1; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    if (strncmp(s, "+90", 3) == 0)
        return n == 13 && strchr("23458", s[3]) != NULL && iz_phone_pack(s) != 0;
    return iz_phone_pack(s) == 0;
}

static int is_email(const char *s)
{
    size_t n = strlen(s);
    const char *at = strchr(s, '@');
    if (n < 6 || n > 265 || !at || strchr(at + 1, '@') || !strchr(at, '.')) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80 || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == ' ') return 0;
    return 1;
}

static void check_phone(const char *in, size_t len)
{
    char out[IZ_PHONE_MAX], again[IZ_PHONE_MAX];
    const char *code = NULL;
    unsigned long long fast = iz_phone_pack_raw(in, len);
    if (iz_phone_normalize(in, len, out, &code) == IZ_OK) {
        CHECK(is_e164(out));
        /* The send filter's fast path agrees with the full normalization. */
        CHECK(fast == 0 || fast == iz_phone_pack(out));
        CHECK(iz_phone_normalize(out, strlen(out), again, NULL) == IZ_OK);
        CHECK(strcmp(out, again) == 0);
    } else {
        CHECK(fast == 0);
        CHECK(out[0] == '\0');
        CHECK(code && (!strcmp(code, "H121") || !strcmp(code, "H160") || !strcmp(code, "H464")));
    }
}

static void check_email(const char *in, size_t len)
{
    char out[IZ_RECIPIENT_MAX], again[IZ_RECIPIENT_MAX];
    const char *code = NULL;
    if (iz_email_normalize(in, len, out, &code) == IZ_OK) {
        CHECK(strlen(out) == len);
        CHECK(is_email(out));
        CHECK(iz_email_normalize(out, strlen(out), again, NULL) == IZ_OK);
        CHECK(strcmp(out, again) == 0);
    } else {
        CHECK(out[0] == '\0');
        CHECK(code && (!strcmp(code, "H120") || !strcmp(code, "H464")));
    }
}

static void check_typed(const char *in, size_t len, iz_type_t type)
{
    char out[IZ_RECIPIENT_MAX];
    const char *code = NULL;
    if (iz_recipient_normalize(in, len, type, out, &code) == IZ_OK) {
        CHECK(type == IZ_EPOSTA      ? is_email(out)
              : type == IZ_TYPE_NONE ? (is_email(out) || is_e164(out))
                                     : is_e164(out));
    } else {
        CHECK(out[0] == '\0');
        CHECK(code != NULL && code[0] == 'H');
        if (type == IZ_TYPE_NONE) CHECK(!strcmp(code, "H122"));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly size bytes, so that reading past it is caught */
    char *in = malloc(size ? size : 1);
    if (!in) return 0;
    memcpy(in, data, size);
    check_phone(in, size);
    check_email(in, size);
    check_typed(in, size, IZ_MESAJ);
    check_typed(in, size, IZ_ARAMA);
    check_typed(in, size, IZ_EPOSTA);
    check_typed(in, size, IZ_TYPE_NONE);
    (void)iz_phone_pack(size && memchr(in, 0, size) ? in : "");
    free(in);
    return 0;
}
