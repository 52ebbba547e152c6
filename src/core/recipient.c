/*
 * recipient.c - normalization of phone numbers and e-mail addresses.
 *
 * A consent is keyed by its recipient, so one person must always map to one
 * spelling: otherwise "0532 123 45 67" and "+905321234567" would be two
 * records and an opt-out given under one would not block sending to the
 * other. Phones therefore become E.164 and e-mail addresses lower case.
 *
 * Phones. Spaces, tabs and the punctuation people write numbers with
 * ("-", ".", "(", ")", "/") are dropped; what remains must be an optional
 * leading '+' and digits. İYS refuses a number longer than 15 characters,
 * counted here as the digits plus the '+' (H160). Turkish numbers are
 * recognised in every common form:
 *     +90XXXXXXXXXX  0090XXXXXXXXXX  90XXXXXXXXXX  0XXXXXXXXXX  XXXXXXXXXX
 * where the 10-digit national number starts with 2, 3 or 4 (landlines),
 * 5 (mobiles) or 8 (850 and other non-geographic numbers). The wrong form
 * "+90 0532..." (a trunk 0 after the country code), which İYS stores but no
 * gateway can reach, is repaired by dropping that 0. A number written with
 * another country code ("+49...", "0049...") is kept as E.164 when it has 8
 * to 15 digits and does not start with 0. Without '+' or "00" a number that
 * is not Turkish cannot be told apart from garbage and is refused.
 *
 * E-mail. İYS's written rules: 6 to 265 characters, exactly one '@', no
 * spaces, no Turkish letters (no byte outside ASCII), no special characters
 * other than '.', '_', '-' and, before the '@', '+'; at least the template
 * {1 character}@{2 characters}.{2 characters}. The domain is made of labels
 * of letters, digits and '-', none empty, none starting or ending with '-';
 * the last label (the top-level domain) starts with a letter. The result is
 * lower-cased, as İYS stores it.
 *
 * The codes follow API.md: a value with '@' given as a phone is H464, a
 * phone given as an e-mail is H464, an over-long phone H160, any other bad
 * phone H121, any other bad e-mail H120, and a value that is neither when
 * the type is unknown H122. Raw input longer than IZ_INPUT_MAX is refused
 * after looking at its first IZ_INPUT_MAX bytes only.
 */
#include "core/recipient.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"

#define EMAIL_MIN 6
#define EMAIL_MAX 265
#define PHONE_CHARS_MAX 15 /* İYS: a phone number is at most 15 characters */
#define FOREIGN_MIN_DIGITS 8
#define FOREIGN_MAX_DIGITS 15

static void set_code(const char **hcode, const char *code)
{
    if (hcode) *hcode = code;
}

static int fail(char *out, const char **hcode, const char *code)
{
    if (out) out[0] = '\0';
    set_code(hcode, code);
    return IZ_EINVAL;
}

/* Characters people write inside a phone number that carry no digit. */
static int is_phone_punct(char c)
{
    return c == ' ' || c == '\t' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A Turkish national number: 10 digits, starting with 2, 3, 4, 5 or 8. */
static int national_ok(const char *d, size_t n)
{
    if (n != 10) return 0;
    return d[0] == '2' || d[0] == '3' || d[0] == '4' || d[0] == '5' || d[0] == '8';
}

static void put_turkish(char out[IZ_PHONE_MAX], const char *national)
{
    memcpy(out, "+90", 3);
    memcpy(out + 3, national, 10);
    out[13] = '\0';
}

/* The digits after the country code 90: the national number, possibly with
 * the wrong trunk 0 in front that is dropped. */
static int turkish_after_cc(const char *p, size_t n, char out[IZ_PHONE_MAX], const char **hcode)
{
    if (n == 11 && p[0] == '0') {
        p++;
        n--;
    }
    if (!national_ok(p, n)) return fail(out, hcode, "H121");
    put_turkish(out, p);
    return IZ_OK;
}

int iz_phone_normalize(const char *in, size_t len, char out[IZ_PHONE_MAX], const char **hcode)
{
    char d[PHONE_CHARS_MAX + 1]; /* the first digits; more means H160 anyway */
    size_t nd = 0, scan;
    int plus = 0;
    const char *p;
    size_t n;

    if (!out) return fail(NULL, hcode, "H121");
    if (!in || len == 0) return fail(out, hcode, "H121");
    scan = len > IZ_INPUT_MAX ? IZ_INPUT_MAX : len;
    if (memchr(in, '@', scan)) return fail(out, hcode, "H464");
    for (size_t i = 0; i < scan; i++) {
        char c = in[i];
        if (is_digit(c)) {
            if (nd < sizeof(d)) d[nd] = c;
            nd++;
        } else if (c == '+') {
            if (plus || nd > 0) /* a '+' only in front of the digits */
                return fail(out, hcode, "H121");
            plus = 1;
        } else if (!is_phone_punct(c)) {
            return fail(out, hcode, "H121");
        }
    }
    if (len > IZ_INPUT_MAX || nd + (size_t)plus > PHONE_CHARS_MAX) return fail(out, hcode, "H160");
    if (nd == 0) return fail(out, hcode, "H121");

    p = d;
    n = nd;
    if (!plus && n >= 2 && p[0] == '0' && p[1] == '0') {
        p += 2; /* "00" is the international prefix dialled from Turkey */
        n -= 2;
        plus = 1;
    }
    if (plus) {
        if (n >= 2 && p[0] == '9' && p[1] == '0') return turkish_after_cc(p + 2, n - 2, out, hcode);
        if (n < FOREIGN_MIN_DIGITS || n > FOREIGN_MAX_DIGITS || p[0] == '0')
            return fail(out, hcode, "H121");
        out[0] = '+';
        memcpy(out + 1, p, n);
        out[n + 1] = '\0';
        return IZ_OK;
    }
    if (n == 10) return turkish_after_cc(p, n, out, hcode);
    if (n == 11 && p[0] == '0') return turkish_after_cc(p + 1, n - 1, out, hcode);
    if ((n == 12 || n == 13) && p[0] == '9' && p[1] == '0')
        return turkish_after_cc(p + 2, n - 2, out, hcode);
    return fail(out, hcode, "H121");
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_local_char(char c)
{
    return is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '-' || c == '+';
}

static int is_label_char(char c)
{
    return is_alpha(c) || is_digit(c) || c == '-';
}

/* The domain after the '@': dotted labels, see the top of the file. */
static int domain_ok(const char *s, size_t n)
{
    size_t start = 0, last_dot = SIZE_MAX;

    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            if (!is_label_char(s[i])) return 0;
            continue;
        }
        /* a label ends at s[i] (a dot or the end) */
        if (i == start || s[start] == '-' || s[i - 1] == '-') return 0;
        if (i < n) {
            last_dot = i;
            start = i + 1;
        }
    }
    if (last_dot == SIZE_MAX) return 0; /* no dot */
    /* {2 characters}.{2 characters}, and a top-level domain that starts with
     * a letter (so that an IP address is not taken for a domain) */
    return last_dot >= 2 && n - last_dot - 1 >= 2 && is_alpha(s[last_dot + 1]);
}

int iz_email_normalize(const char *in, size_t len, char out[IZ_RECIPIENT_MAX], const char **hcode)
{
    size_t scan, at = SIZE_MAX;

    if (!out) return fail(NULL, hcode, "H120");
    if (!in || len == 0) return fail(out, hcode, "H120");
    scan = len > IZ_INPUT_MAX ? IZ_INPUT_MAX : len;
    if (!memchr(in, '@', scan)) {
        char phone[IZ_PHONE_MAX];
        if (iz_phone_normalize(in, len, phone, NULL) == IZ_OK) return fail(out, hcode, "H464");
        return fail(out, hcode, "H120");
    }
    if (len < EMAIL_MIN || len > EMAIL_MAX) return fail(out, hcode, "H120");
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '@') {
            if (at != SIZE_MAX) return fail(out, hcode, "H120"); /* two '@' */
            at = i;
        } else if (at == SIZE_MAX) { /* the local part */
            if (!is_local_char(in[i])) return fail(out, hcode, "H120");
        }
    }
    if (at == 0 || !domain_ok(in + at + 1, len - at - 1)) return fail(out, hcode, "H120");
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[len] = '\0';
    return IZ_OK;
}

int iz_recipient_normalize(const char *in, size_t len, iz_type_t type, char out[IZ_RECIPIENT_MAX],
                           const char **hcode)
{
    switch (type) {
    case IZ_MESAJ:
    case IZ_ARAMA:
        return iz_phone_normalize(in, len, out, hcode);
    case IZ_EPOSTA:
        return iz_email_normalize(in, len, out, hcode);
    default:
        break;
    }
    /* Type unknown: a value with '@' can only be an e-mail address, any
     * other value only a phone number. */
    if (in && memchr(in, '@', len > IZ_INPUT_MAX ? IZ_INPUT_MAX : len)) {
        if (iz_email_normalize(in, len, out, NULL) == IZ_OK) return IZ_OK;
    } else if (iz_phone_normalize(in, len, out, NULL) == IZ_OK) {
        return IZ_OK;
    }
    return fail(out, hcode, "H122");
}

unsigned long long iz_phone_pack(const char *e164)
{
    unsigned long long v = 0;

    if (!e164 || strncmp(e164, "+90", 3) != 0) return 0;
    for (int i = 3; i < 13; i++) {
        if (!is_digit(e164[i])) return 0;
        v = v * 10u + (unsigned)(e164[i] - '0');
    }
    return e164[13] == '\0' ? v : 0;
}

unsigned long long iz_phone_pack_raw(const char *in, size_t len)
{
    size_t skip;
    if (len == 10)
        skip = 0;
    else if (len == 11 && in[0] == '0')
        skip = 1;
    else if (len == 12 && in[0] == '9' && in[1] == '0')
        skip = 2;
    else if (len == 13 && in[0] == '+' && in[1] == '9' && in[2] == '0')
        skip = 3;
    else if (len == 14 && in[0] == '0' && in[1] == '0' && in[2] == '9' && in[3] == '0')
        skip = 4;
    else if (len == 14 && in[0] == '+' && in[1] == '9' && in[2] == '0' && in[3] == '0')
        skip = 4;
    else
        return 0;
    const char *d = in + skip;
    if (!(d[0] == '2' || d[0] == '3' || d[0] == '4' || d[0] == '5' || d[0] == '8')) return 0;
    unsigned long long v = 0;
    for (int i = 0; i < 10; i++) {
        unsigned c = (unsigned char)d[i] - '0';
        if (c > 9) return 0;
        v = v * 10u + c;
    }
    return v;
}
