/*
 * test_crypto.c - SHA-256 against its published vectors, the joined hash of
 * the logs' chains, API keys, and sealed secrets: a round trip, a wrong key
 * and a changed byte refused, the key file created 0600 and a readable one
 * refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/iz.h"
#include "sys/crypto.h"

static void test_sha256(void **state)
{
    (void)state;
    char hex[IZ_SHA256_HEX];
    iz_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    iz_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* join: "a|b||c" with NULL as "" */
    const char *f[] = {"a", "b", NULL, "c"};
    char j[IZ_SHA256_HEX];
    iz_sha256_join_hex(f, 4, j);
    iz_sha256_hex("a|b||c", 6, hex);
    assert_string_equal(j, hex);
}

static void test_keys(void **state)
{
    (void)state;
    char a[IZ_KEY_LEN + 1], b[IZ_KEY_LEN + 1];
    assert_int_equal(iz_key_generate(a), 0);
    assert_int_equal(iz_key_generate(b), 0);
    assert_int_equal(strlen(a), IZ_KEY_LEN);
    assert_memory_equal(a, "izk_", 4);
    assert_false(iz_secret_equal(a, b));
    assert_true(iz_secret_equal(a, a));
    assert_false(iz_secret_equal("abc", "abcd"));
}

static void test_seal(void **state)
{
    (void)state;
    iz_seal_key_t k, other;
    assert_int_equal(
        iz_seal_key_parse("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", &k),
        0);
    assert_int_equal(
        iz_seal_key_parse("ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", &other),
        0);
    assert_int_equal(iz_seal_key_parse("abc", &other), IZ_EINVAL);
    assert_int_equal(
        iz_seal_key_parse("ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", &other),
        0);
    char *s = iz_seal(&k, "şifre-İYS", strlen("şifre-İYS"));
    assert_non_null(s);
    assert_true(iz_is_sealed(s));
    assert_null(strstr(s, "şifre"));
    char out[64];
    assert_int_equal(iz_unseal(&k, s, out, sizeof out), 0);
    assert_string_equal(out, "şifre-İYS");
    /* Two seals of one value differ (a fresh nonce each). */
    char *s2 = iz_seal(&k, "şifre-İYS", strlen("şifre-İYS"));
    assert_string_not_equal(s, s2);
    free(s2);
    /* A wrong key, a changed byte, a cut value, a small buffer. */
    assert_int_equal(iz_unseal(&other, s, out, sizeof out), IZ_ERULE);
    assert_string_equal(out, "");
    char *bad = strdup(s);
    size_t n = strlen(bad);
    bad[n - 5] = bad[n - 5] == 'A' ? 'B' : 'A';
    assert_int_equal(iz_unseal(&k, bad, out, sizeof out), IZ_ERULE);
    bad[10] = '\0';
    assert_int_equal(iz_unseal(&k, bad, out, sizeof out), IZ_EINVAL);
    assert_int_equal(iz_unseal(&k, "plain", out, sizeof out), IZ_EINVAL);
    assert_int_equal(iz_unseal(&k, s, out, 4), IZ_ETOOBIG);
    free(bad);
    free(s);
}

static void test_key_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/izin-crypto-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/izin.db.key", dir);
    iz_seal_key_t a, b;
    const char *err = NULL;
    assert_int_equal(iz_seal_key_load(path, false, &a, &err), IZ_ENOTFOUND);
    assert_int_equal(iz_seal_key_load(path, true, &a, &err), 0);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(iz_seal_key_load(path, false, &b, &err), 0);
    assert_memory_equal(a.k, b.k, sizeof a.k);
    chmod(path, 0644);
    assert_int_equal(iz_seal_key_load(path, false, &b, &err), IZ_EINVAL);
    assert_non_null(err);
    unlink(path);
    rmdir(dir);
}

/* A hash made with weaker limits than iz_pw_hash's is due for a new one;
 * iz_pw_hash's own is not; anything else (no argon2id) is. */
static void test_pw_rehash(void **state)
{
    (void)state;
    char weak[IZ_PW_HASH_MAX], now[IZ_PW_HASH_MAX];
    assert_int_equal(crypto_pwhash_str_alg(weak, "bir-parola-123", 14, crypto_pwhash_OPSLIMIT_MIN,
                                           crypto_pwhash_MEMLIMIT_MIN,
                                           crypto_pwhash_ALG_ARGON2ID13),
                     0);
    assert_true(iz_pw_verify(weak, "bir-parola-123"));
    assert_true(iz_pw_needs_rehash(weak));
    assert_int_equal(iz_pw_hash("bir-parola-123", now), 0);
    assert_false(iz_pw_needs_rehash(now));
    assert_true(iz_pw_needs_rehash("$2y$10$notargon"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256),   cmocka_unit_test(test_pw_rehash),
        cmocka_unit_test(test_keys),     cmocka_unit_test(test_seal),
        cmocka_unit_test(test_key_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
