/*
 * test_hook.c - the pure parts of the customer webhooks (hook/webhook.h):
 * which addresses are public, the URL and secret checks, the signature
 * (RFC 4231's HMAC-SHA256 vectors) and the retry schedule.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/iz.h"
#include "hook/webhook.h"
#include "sys/crypto.h"

static bool pub(const char *addr)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(addr, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
    }
    return iz_hook_addr_public((struct sockaddr *)&ss);
}

static void test_addresses(void **state)
{
    (void)state;
    static const char *const not_public[] = {"0.0.0.0",
                                             "0.1.2.3",
                                             "10.0.0.1",
                                             "10.255.255.255",
                                             "100.64.0.1",
                                             "100.127.255.254",
                                             "127.0.0.1",
                                             "127.8.9.10",
                                             "169.254.169.254",
                                             "172.16.0.1",
                                             "172.31.255.255",
                                             "192.0.0.8",
                                             "192.0.2.1",
                                             "192.168.1.1",
                                             "198.18.0.1",
                                             "198.19.255.1",
                                             "198.51.100.7",
                                             "203.0.113.9",
                                             "224.0.0.1",
                                             "239.255.255.250",
                                             "240.0.0.1",
                                             "255.255.255.255",
                                             "::",
                                             "::1",
                                             "fc00::1",
                                             "fd12:3456::1",
                                             "fe80::1",
                                             "febf::1",
                                             "fec0::1",
                                             "ff02::1",
                                             "2001:db8::1",
                                             "::ffff:127.0.0.1",
                                             "::ffff:10.0.0.1",
                                             "::ffff:169.254.169.254",
                                             "::127.0.0.1",
                                             "64:ff9b::10.0.0.1",
                                             "2002:0a00:0001::1",
                                             "100::1"};
    for (size_t i = 0; i < IZ_ARRAY_LEN(not_public); i++)
        if (pub(not_public[i])) fail_msg("%s taken as public", not_public[i]);
    static const char *const public_[] = {"1.1.1.1",          "8.8.8.8",
                                          "100.63.255.255",   "100.128.0.1",
                                          "172.15.255.255",   "172.32.0.1",
                                          "192.169.0.1",      "93.184.216.34",
                                          "2606:4700::1111",  "2a00:1450:4001::200e",
                                          "::ffff:8.8.8.8",   "64:ff9b::8.8.8.8",
                                          "2002:0808:0808::1"};
    for (size_t i = 0; i < IZ_ARRAY_LEN(public_); i++)
        if (!pub(public_[i])) fail_msg("%s taken as not public", public_[i]);
    assert_false(iz_hook_addr_public(NULL));
}

static void test_urls(void **state)
{
    (void)state;
    iz_hook_url_t u;
    const char *why = NULL;
    assert_int_equal(iz_hook_url_parse("https://hooks.example.com/izin?x=1", false, &u, &why), 0);
    assert_true(u.https);
    assert_string_equal(u.host, "hooks.example.com");
    assert_int_equal(u.port, 443);
    assert_int_equal(iz_hook_url_parse("https://[2606:4700::1111]:8443/h", false, &u, &why), 0);
    assert_string_equal(u.host, "2606:4700::1111");
    assert_int_equal(u.port, 8443);
    assert_int_equal(iz_hook_url_parse("http://127.0.0.1:9000", true, &u, &why), 0);
    assert_false(u.https);
    assert_int_equal(u.port, 9000);
    static const char *const bad[] = {"",
                                      "http://example.com/",
                                      "ftp://example.com/",
                                      "example.com",
                                      "https://",
                                      "https:///path",
                                      "https://user:pw@example.com/",
                                      "https://a@b/",
                                      "https://ex ample.com/",
                                      "https://example.com/#frag",
                                      "https://example.com:0/",
                                      "https://example.com:65536/",
                                      "https://example.com:/",
                                      "https://[::1/",
                                      "https://[zz]/",
                                      "https://exa_mple.com/",
                                      "https://example.com/\x01",
                                      "https://örnek.com/"};
    for (size_t i = 0; i < IZ_ARRAY_LEN(bad); i++) {
        why = NULL;
        if (iz_hook_url_parse(bad[i], false, &u, &why) != IZ_EINVAL)
            fail_msg("%s accepted", bad[i]);
        assert_non_null(why);
        /* The API and the panel say each reason in Turkish. */
        if (strcmp(iz_hook_why_tr(why), "Değer geçersiz.") == 0)
            fail_msg("no Turkish for \"%s\"", why);
    }
    char longurl[IZ_HOOK_URL_MAX + 2];
    memset(longurl, 'a', sizeof longurl - 1);
    memcpy(longurl, "https://a.com/", 14);
    longurl[sizeof longurl - 1] = '\0';
    assert_int_equal(iz_hook_url_parse(longurl, true, &u, &why), IZ_EINVAL);
    longurl[IZ_HOOK_URL_MAX] = '\0';
    assert_int_equal(iz_hook_url_parse(longurl, true, &u, &why), 0);
}

static void test_resolve(void **state)
{
    (void)state;
    iz_hook_url_t u;
    const char *why = NULL;
    char addr[IZ_HOOK_ADDR_MAX];
    assert_int_equal(iz_hook_url_parse("https://127.0.0.1:8443/h", false, &u, &why), 0);
    assert_int_equal(iz_hook_resolve(&u, false, addr, &why), IZ_EINVAL);
    assert_string_equal(addr, "");
    assert_string_not_equal(iz_hook_why_tr(why), "Değer geçersiz.");
    assert_int_equal(iz_hook_resolve(&u, true, addr, &why), 0);
    assert_string_equal(addr, "127.0.0.1");
    assert_int_equal(iz_hook_url_parse("https://[::1]/h", false, &u, &why), 0);
    assert_int_equal(iz_hook_resolve(&u, false, addr, &why), IZ_EINVAL);
    assert_int_equal(iz_hook_resolve(&u, true, addr, &why), 0);
    assert_string_equal(addr, "::1");
    /* A public literal needs no DNS. */
    assert_int_equal(iz_hook_url_parse("https://8.8.8.8/h", false, &u, &why), 0);
    assert_int_equal(iz_hook_resolve(&u, false, addr, &why), 0);
    assert_string_equal(addr, "8.8.8.8");
}

static void test_secrets(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_true(iz_hook_secret_ok("0123456789abcdef", &why));
    char s[IZ_HOOK_SECRET_MAX + 2];
    memset(s, 'x', sizeof s);
    s[IZ_HOOK_SECRET_MAX] = '\0';
    assert_true(iz_hook_secret_ok(s, &why));
    s[IZ_HOOK_SECRET_MAX] = 'x';
    s[IZ_HOOK_SECRET_MAX + 1] = '\0';
    assert_false(iz_hook_secret_ok(s, &why));
    assert_false(iz_hook_secret_ok(NULL, &why));
    assert_false(iz_hook_secret_ok("", &why));
    assert_false(iz_hook_secret_ok("0123456789abcde", &why)); /* 15 */
    assert_false(iz_hook_secret_ok("0123456789 abcdef", &why));
    assert_false(iz_hook_secret_ok("0123456789abcdef\t", &why));
    assert_false(iz_hook_secret_ok("şifreşifreşifreşifre", &why));
    assert_string_equal(
        iz_hook_why_tr(why),
        "Gizli anahtar boşluksuz, yazdırılabilir ASCII karakterlerden oluşmalıdır.");
    assert_false(iz_hook_secret_ok("", &why));
    assert_string_equal(iz_hook_why_tr(why), "Gizli anahtar 16 ile 256 bayt arasında olmalıdır.");
    assert_string_equal(iz_hook_why_tr("something else"), "Değer geçersiz.");
    assert_string_equal(iz_hook_why_tr(NULL), "Değer geçersiz.");
}

/* RFC 4231 test cases 2 (a short key), 6 and 7 (a key longer than the
 * block); and the header's form. */
static void test_signature(void **state)
{
    (void)state;
    char hex[IZ_SHA256_HEX];
    iz_hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    uint8_t key[131];
    memset(key, 0xaa, sizeof key);
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    iz_hmac_sha256_hex(key, sizeof key, m6, strlen(m6), hex);
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    const char *m7 = "This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the HMAC "
                     "algorithm.";
    iz_hmac_sha256_hex(key, sizeof key, m7, strlen(m7), hex);
    assert_string_equal(hex, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
    char sig[IZ_HOOK_SIG_MAX];
    iz_hook_sign("Jefe", "what do ya want for nothing?", 28, sig);
    assert_string_equal(sig,
                        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

/* The first retry within 5 s, each pause up to twice the one before, never
 * over 10 minutes, and a Retry-After respected up to that. */
static void test_backoff(void **state)
{
    (void)state;
    uint64_t rnds[] = {0, 1, 0x7fffffff, 0xffffffffffffffffull, 123456789};
    for (size_t r = 0; r < IZ_ARRAY_LEN(rnds); r++) {
        int64_t prev_max = 0;
        for (int a = 1; a <= 40; a++) {
            int64_t d = iz_hook_backoff_ms(a, 0, rnds[r]);
            int64_t cap = (int64_t)IZ_HOOK_FIRST_RETRY_MS << (a - 1 > 20 ? 20 : a - 1);
            if (cap > IZ_HOOK_RETRY_MAX_MS) cap = IZ_HOOK_RETRY_MAX_MS;
            assert_true(d >= cap / 2 && d <= cap);
            assert_true(d <= IZ_HOOK_RETRY_MAX_MS);
            if (a == 1) assert_true(d <= 5000);
            assert_true(d >= prev_max / 2);
            prev_max = cap;
        }
        assert_true(iz_hook_backoff_ms(30, 0, rnds[r]) >= IZ_HOOK_RETRY_MAX_MS / 2);
        assert_true(iz_hook_backoff_ms(1, 60, rnds[r]) >= 60000);
        assert_true(iz_hook_backoff_ms(1, 86400, rnds[r]) <= IZ_HOOK_RETRY_MAX_MS);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addresses), cmocka_unit_test(test_urls),
        cmocka_unit_test(test_resolve),   cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_signature), cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
