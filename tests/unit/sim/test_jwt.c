/*
 * test_jwt.c - unit tests of the emulator's HS256 JSON Web Tokens
 * (src/sim/jwt.c): the RFC 7515 A.1-style known answer of an HMAC-SHA256
 * signature over base64url parts, a round trip of claims, and every way a
 * token is refused: another key, a changed payload, a changed or missing
 * signature, alg "none", malformed parts, the size limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/iz.h"
#include "sim/jwt.h"

static const uint8_t KEY[32] = "0123456789abcdef0123456789abcdef";
static const uint8_t KEY2[32] = "0123456789abcdef0123456789abcdeX";

static char *encode(json_t *claims)
{
    char *tok = NULL;
    assert_int_equal(iz_jwt_encode(claims, KEY, sizeof KEY, &tok), 0);
    json_decref(claims);
    return tok;
}

/* A known answer: jwt.io's HS256 sample (header {"alg":"HS256","typ":"JWT"}
 * over the payload {"sub":"1234567890","name":"John Doe","iat":1516239022},
 * key "your-256-bit-secret"), computed independently of this module. */
static void test_known_answer(void **state)
{
    (void)state;
    static const char tok[] =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    static const uint8_t key[] = "your-256-bit-secret";
    json_t *claims = NULL;
    assert_int_equal(iz_jwt_decode(tok, strlen(tok), key, sizeof key - 1, &claims), 0);
    assert_string_equal(json_string_value(json_object_get(claims, "sub")), "1234567890");
    assert_int_equal(json_integer_value(json_object_get(claims, "iat")), 1516239022);
    json_decref(claims);
    /* and this module's header is the same one, so the encoding matches */
    char *mine = NULL;
    json_t *c =
        json_pack("{s:s, s:s, s:i}", "sub", "1234567890", "name", "John Doe", "iat", 1516239022);
    assert_int_equal(iz_jwt_encode(c, key, sizeof key - 1, &mine), 0);
    json_decref(c);
    /* jansson keeps insertion order, so the payload is byte-for-byte the sample's */
    assert_string_equal(mine, tok);
    free(mine);
}

static void test_round_trip(void **state)
{
    (void)state;
    char *tok = encode(json_pack("{s:I, s:I, s:s, s:{s:s}}", "exp", (json_int_t)2000000000, "iat",
                                 (json_int_t)1700000000, "sub", "sp-700001", "serviceProvider",
                                 "iysCode", "700001"));
    /* three base64url parts without padding */
    const char *d1 = strchr(tok, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    assert_non_null(d2);
    assert_null(strchr(d2 + 1, '.'));
    assert_null(strpbrk(tok, "=+/"));
    json_t *claims = NULL;
    assert_int_equal(iz_jwt_decode(tok, strlen(tok), KEY, sizeof KEY, &claims), 0);
    assert_int_equal(json_integer_value(json_object_get(claims, "exp")), 2000000000);
    assert_string_equal(json_string_value(json_object_get(claims, "sub")), "sp-700001");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(claims, "serviceProvider"), "iysCode")),
        "700001");
    json_decref(claims);
    free(tok);
}

static void test_refusals(void **state)
{
    (void)state;
    char *tok = encode(json_pack("{s:s}", "sub", "x"));
    size_t n = strlen(tok);
    json_t *claims = NULL;
    /* another key */
    assert_int_equal(iz_jwt_decode(tok, n, KEY2, sizeof KEY2, &claims), IZ_ERULE);
    assert_null(claims);
    /* a changed signature byte */
    char *bad = strdup(tok);
    bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(iz_jwt_decode(bad, n, KEY, sizeof KEY, &claims), IZ_ERULE);
    /* a signature cut short, or none */
    assert_int_not_equal(iz_jwt_decode(tok, n - 4, KEY, sizeof KEY, &claims), 0);
    const char *d2 = strrchr(tok, '.');
    assert_int_equal(iz_jwt_decode(tok, (size_t)(d2 - tok + 1), KEY, sizeof KEY, &claims),
                     IZ_ERULE);
    /* a payload swapped for another token's (signed with the same key) */
    char *other = encode(json_pack("{s:s}", "sub", "admin"));
    const char *o1 = strchr(other, '.'), *o2 = strrchr(other, '.');
    const char *t1 = strchr(tok, '.');
    char spliced[512];
    snprintf(spliced, sizeof spliced, "%.*s%.*s%s", (int)(t1 - tok), tok, (int)(o2 - o1), o1, d2);
    assert_int_equal(iz_jwt_decode(spliced, strlen(spliced), KEY, sizeof KEY, &claims), IZ_ERULE);
    free(other);
    /* alg "none" with no signature, and alg "none" with the right one */
    static const char none[] = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.";
    assert_int_equal(iz_jwt_decode(none, strlen(none), KEY, sizeof KEY, &claims), IZ_ERULE);
    /* malformed: parts missing or too many, not base64url, not JSON */
    static const char *const malformed[] = {
        "",     "abc",  "a.b",       "a.b.c.d",
        ".b.c", "a..c", "!!!.e30.c", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c"};
    for (size_t i = 0; i < IZ_ARRAY_LEN(malformed); i++)
        assert_int_not_equal(
            iz_jwt_decode(malformed[i], strlen(malformed[i]), KEY, sizeof KEY, &claims), 0);
    /* a NUL inside */
    assert_int_equal(iz_jwt_decode(tok, n + 1, KEY, sizeof KEY, &claims), IZ_EINVAL);
    assert_null(claims);
    free(bad);
    free(tok);
}

static void test_limits(void **state)
{
    (void)state;
    char *tok = NULL;
    json_t *arr = json_array();
    assert_int_equal(iz_jwt_encode(arr, KEY, sizeof KEY, &tok), IZ_EINVAL);
    json_decref(arr);
    char *big = malloc(IZ_JWT_MAX);
    memset(big, 'a', IZ_JWT_MAX - 1);
    big[IZ_JWT_MAX - 1] = '\0';
    json_t *c = json_pack("{s:s}", "pad", big);
    assert_int_equal(iz_jwt_encode(c, KEY, sizeof KEY, &tok), IZ_ETOOBIG);
    assert_null(tok);
    json_decref(c);
    json_t *claims = NULL;
    assert_int_equal(iz_jwt_decode(big, IZ_JWT_MAX - 1 + 1, KEY, sizeof KEY, &claims), IZ_EINVAL);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
