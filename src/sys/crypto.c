/*
 * crypto.c - SHA-256, randomness and API keys on OpenSSL's libcrypto;
 * sealed secrets on libsodium's secretbox (see crypto.h).
 */
#include "sys/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/iz.h"

static const char hexd[] = "0123456789abcdef";

void iz_hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexd[b[i] >> 4];
        out[2 * i + 1] = hexd[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void iz_sha256(const void *data, size_t n, uint8_t out[32])
{
    unsigned int len = 0;
    if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1 || len != 32) iz_oom();
}

void iz_sha256_hex(const void *data, size_t n, char out[IZ_SHA256_HEX])
{
    uint8_t md[32];
    iz_sha256(data, n, md);
    iz_hex(md, 32, out);
}

void iz_hmac_sha256_hex(const void *key, size_t klen, const void *data, size_t n,
                        char out[IZ_SHA256_HEX])
{
    crypto_auth_hmacsha256_state st;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    /* libsodium's init takes a key of any length (hashed when over the
     * block size, as RFC 2104 says). */
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, data, n);
    crypto_auth_hmacsha256_final(&st, mac);
    iz_hex(mac, sizeof mac, out);
    sodium_memzero(&st, sizeof st);
}

void iz_sha256_join_hex(const char *const *f, size_t nf, char out[IZ_SHA256_HEX])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c) iz_oom();
    int ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    for (size_t i = 0; ok && i < nf; i++) {
        const char *s = f[i] ? f[i] : "";
        if (i > 0) ok = EVP_DigestUpdate(c, "|", 1);
        if (ok) ok = EVP_DigestUpdate(c, s, strlen(s));
    }
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (ok) ok = EVP_DigestFinal_ex(c, md, &len);
    EVP_MD_CTX_free(c);
    if (!ok || len != 32) iz_oom(); /* libcrypto fails only when memory runs out */
    iz_hex(md, 32, out);
}

int iz_random(void *buf, size_t n)
{
    return n > INT32_MAX || RAND_bytes(buf, (int)n) != 1 ? IZ_EIO : 0;
}

int iz_key_generate(char out[IZ_KEY_LEN + 1])
{
    uint8_t raw[24];
    if (iz_random(raw, sizeof raw) != 0) return IZ_EIO;
    memcpy(out, "izk_", 4);
    iz_hex(raw, sizeof raw, out + 4);
    iz_wipe(raw, sizeof raw);
    return 0;
}

bool iz_secret_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb) return false;
    return CRYPTO_memcmp(a, b, la) == 0;
}

/* ---- sealed secrets ------------------------------------------------------- */

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_ok;

static void sodium_start(void)
{
    sodium_ok = sodium_init() >= 0;
}

static bool sodium_ready(void)
{
    pthread_once(&sodium_once, sodium_start);
    return sodium_ok;
}

int iz_seal_key_parse(const char *hex, iz_seal_key_t *out)
{
    size_t n = hex ? strlen(hex) : 0;
    while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r' || hex[n - 1] == ' '))
        n--;
    size_t bin = 0;
    if (n != 64 || sodium_hex2bin(out->k, sizeof out->k, hex, n, NULL, &bin, NULL) != 0 ||
        bin != sizeof out->k) {
        iz_seal_key_wipe(out);
        return IZ_EINVAL;
    }
    return 0;
}

void iz_seal_key_wipe(iz_seal_key_t *k)
{
    iz_wipe(k->k, sizeof k->k);
}

/* Write a new random key to path, 0600, created exclusively. */
static int key_create(const char *path, iz_seal_key_t *out, const char **err)
{
    if (iz_random(out->k, sizeof out->k) != 0) {
        *err = "no randomness for a new secret key";
        return IZ_EIO;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        *err = errno == EEXIST ? "the secret key file appeared while it was being created"
                               : "cannot create the secret key file";
        return IZ_EIO;
    }
    char text[66];
    iz_hex(out->k, sizeof out->k, text);
    text[64] = '\n';
    text[65] = '\0';
    bool ok = write(fd, text, 65) == 65 && fsync(fd) == 0;
    iz_wipe(text, sizeof text);
    if (close(fd) != 0) ok = false;
    if (!ok) {
        unlink(path);
        *err = "cannot write the secret key file";
        return IZ_EIO;
    }
    return 0;
}

int iz_seal_key_load(const char *path, bool create, iz_seal_key_t *out, const char **err)
{
    const char *dummy;
    if (!err) err = &dummy;
    *err = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (!create) {
            *err = "the secret key file does not exist";
            return IZ_ENOTFOUND;
        }
        return key_create(path, out, err);
    }
    if (fd < 0) {
        *err = "cannot open the secret key file";
        return IZ_EIO;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (sb.st_mode & 077) != 0) {
        close(fd);
        *err = "the secret key file must be a regular file readable by its owner only (chmod 600)";
        return IZ_EINVAL;
    }
    char text[130];
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n < 0) {
        *err = "cannot read the secret key file";
        return IZ_EIO;
    }
    text[n] = '\0';
    char *s = text;
    while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
        s++;
    int rc = iz_seal_key_parse(s, out);
    iz_wipe(text, sizeof text);
    if (rc != 0) *err = "the secret key file must hold 64 hex digits";
    return rc;
}

bool iz_is_sealed(const char *s)
{
    return s && strncmp(s, IZ_SEAL_PREFIX, strlen(IZ_SEAL_PREFIX)) == 0;
}

#define SB_VARIANT sodium_base64_VARIANT_ORIGINAL

char *iz_seal(const iz_seal_key_t *k, const void *plain, size_t n)
{
    if (!sodium_ready()) return NULL;
    size_t boxlen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
    unsigned char *box = iz_xmalloc(boxlen);
    if (iz_random(box, crypto_secretbox_NONCEBYTES) != 0) {
        free(box);
        return NULL;
    }
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, plain, n, box, k->k);
    size_t pre = strlen(IZ_SEAL_PREFIX);
    size_t b64 = sodium_base64_ENCODED_LEN(boxlen, SB_VARIANT);
    char *out = iz_xmalloc(pre + b64);
    memcpy(out, IZ_SEAL_PREFIX, pre);
    sodium_bin2base64(out + pre, b64, box, boxlen, SB_VARIANT);
    free(box);
    return out;
}

int iz_unseal(const iz_seal_key_t *k, const char *sealed, char *out, size_t outsz)
{
    if (!iz_is_sealed(sealed) || !sodium_ready()) return IZ_EINVAL;
    const char *b64 = sealed + strlen(IZ_SEAL_PREFIX);
    size_t tl = strlen(b64);
    if (tl > 8192) return IZ_EINVAL;
    size_t cap = tl / 4 * 3 + 3, boxlen = 0;
    unsigned char *box = iz_xmalloc(cap);
    int rc = 0;
    if (sodium_base642bin(box, cap, b64, tl, NULL, &boxlen, NULL, SB_VARIANT) != 0 ||
        boxlen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        rc = IZ_EINVAL;
    } else {
        size_t plen = boxlen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
        if (plen + 1 > outsz) {
            rc = IZ_ETOOBIG;
        } else if (crypto_secretbox_open_easy((unsigned char *)out,
                                              box + crypto_secretbox_NONCEBYTES,
                                              boxlen - crypto_secretbox_NONCEBYTES, box,
                                              k->k) != 0) {
            rc = IZ_ERULE;
        } else {
            out[plen] = '\0';
        }
    }
    if (rc != 0 && outsz) out[0] = '\0';
    free(box);
    return rc;
}

/* ---- passwords ------------------------------------------------------------ */

_Static_assert(IZ_PW_HASH_MAX == crypto_pwhash_STRBYTES, "the store keeps the whole string");

int iz_pw_hash(const char *pw, char out[IZ_PW_HASH_MAX])
{
    size_t n = strnlen(pw, IZ_PW_MAX + 1);
    if (n > IZ_PW_MAX) return IZ_EINVAL;
    if (!sodium_ready()) return IZ_EIO;
    if (crypto_pwhash_str_alg(out, pw, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return IZ_EIO;
    return 0;
}

bool iz_pw_verify(const char *hash, const char *pw)
{
    size_t n = strnlen(pw, IZ_PW_MAX + 1);
    if (n > IZ_PW_MAX || !sodium_ready()) return false;
    if (strnlen(hash, IZ_PW_HASH_MAX) >= IZ_PW_HASH_MAX || strncmp(hash, "$argon2id$", 10) != 0)
        return false;
    return crypto_pwhash_str_verify(hash, pw, n) == 0;
}

bool iz_pw_needs_rehash(const char *hash)
{
    if (strnlen(hash, IZ_PW_HASH_MAX) >= IZ_PW_HASH_MAX || strncmp(hash, "$argon2id$", 10) != 0)
        return true;
    return crypto_pwhash_str_needs_rehash(hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

int iz_pw_generate(char out[IZ_PW_GEN_LEN + 1])
{
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    const size_t na = sizeof alphabet - 1;
    size_t i = 0;
    while (i < IZ_PW_GEN_LEN) {
        uint8_t b[32];
        if (iz_random(b, sizeof b) != 0) return IZ_EIO;
        /* Rejection sampling: a byte past the last whole multiple of the
         * alphabet would favour its first letters. */
        for (size_t k = 0; k < sizeof b && i < IZ_PW_GEN_LEN; k++)
            if (b[k] < 256 - 256 % na) out[i++] = alphabet[b[k] % na];
        iz_wipe(b, sizeof b);
    }
    out[IZ_PW_GEN_LEN] = '\0';
    return 0;
}
