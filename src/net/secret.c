/*
 * secret.c - key generation and hashing on OpenSSL's libcrypto.
 */
#include "net/secret.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "core/iz.h"

static const char hexd[] = "0123456789abcdef";

int iz_key_generate(char out[IZ_KEY_LEN + 1])
{
    unsigned char raw[24];
    if (RAND_bytes(raw, sizeof raw) != 1) return IZ_EIO;
    memcpy(out, "izk_", 4);
    for (size_t i = 0; i < sizeof raw; i++) {
        out[4 + 2 * i] = hexd[raw[i] >> 4];
        out[5 + 2 * i] = hexd[raw[i] & 15];
    }
    out[IZ_KEY_LEN] = '\0';
    iz_wipe(raw, sizeof raw);
    return 0;
}

void iz_sha256_hex(const void *data, size_t len, char out[IZ_SHA256_HEX])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) iz_oom();
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = hexd[md[i] >> 4];
        out[2 * i + 1] = hexd[md[i] & 15];
    }
    out[64] = '\0';
}

bool iz_secret_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb) return false;
    return CRYPTO_memcmp(a, b, la) == 0;
}
