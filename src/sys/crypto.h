/*
 * crypto.h - the cryptography every layer shares, each piece once: SHA-256
 * and its hex form, randomness, API keys, constant-time comparison, and
 * secrets sealed at rest.
 *
 * API keys: "izk_" followed by 48 hex digits (192 random bits). Only their
 * SHA-256 is stored; a key this random needs no salt or slow hash (a guess
 * costs 2^192 tries whatever the hash).
 *
 * Sealed secrets (İYS passwords, gateway and webhook secrets) are encrypted
 * with libsodium's secretbox (XSalsa20-Poly1305) under a 32-byte key kept
 * outside the database: a 0600 key file beside it, or the environment. The
 * stored text is "sb1:" + base64(nonce | box); a changed byte or a wrong key
 * fails the authentication and is refused, never read as garbage.
 */
#ifndef IZ_CRYPTO_H
#define IZ_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IZ_SHA256_HEX 65 /* 64 hex digits + NUL */
#define IZ_KEY_LEN 52    /* "izk_" + 48 hex */

/* SHA-256 of n bytes, raw and as lower-case hex. */
void iz_sha256(const void *data, size_t n, uint8_t out[32]);
void iz_sha256_hex(const void *data, size_t n, char out[IZ_SHA256_HEX]);

/* Hex SHA-256 of nf strings joined with '|' (a NULL string counts as ""):
 * the hash of the consent logs' chains and of the emulator's
 * transactionIds. */
void iz_sha256_join_hex(const char *const *f, size_t nf, char out[IZ_SHA256_HEX]);

/* HMAC-SHA256 (RFC 2104) of n bytes under a key of klen bytes, as
 * lower-case hex: the signature of a customer webhook's body. */
void iz_hmac_sha256_hex(const void *key, size_t klen, const void *data, size_t n,
                        char out[IZ_SHA256_HEX]);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void iz_hex(const uint8_t *b, size_t n, char *out);

/* n random bytes from the system's generator; 0, or IZ_EIO when it has
 * none to give (the caller must then refuse what needed them). */
int iz_random(void *buf, size_t n);

/* A new API key. 0, or IZ_EIO when no randomness is available. */
int iz_key_generate(char out[IZ_KEY_LEN + 1]);

/* Constant-time comparison of two NUL-terminated strings (their lengths
 * may differ; that is all a mismatch then tells). */
bool iz_secret_equal(const char *a, const char *b);

/* ---- passwords (the panel's users) ------------------------------------------ */

#define IZ_PW_HASH_MAX 128 /* libsodium's crypto_pwhash_STRBYTES, NUL included */
#define IZ_PW_MIN 12       /* characters a chosen password has at least */
#define IZ_PW_MAX 256      /* bytes of a password, at most (longer ones are refused) */
#define IZ_PW_GEN_LEN 20   /* characters of a generated one-time password */

/* The argon2id string of pw (libsodium crypto_pwhash_str, interactive
 * limits: 2 passes over 64 MiB, some 0.1 s; the salt is drawn inside).
 * 0, IZ_EINVAL for a password over IZ_PW_MAX bytes, IZ_EIO when libsodium
 * cannot (no memory for the 64 MiB). */
int iz_pw_hash(const char *pw, char out[IZ_PW_HASH_MAX]);

/* True when pw is the password of hash (an argon2id string); false for
 * anything else, a malformed hash included. Takes as long as iz_pw_hash. */
bool iz_pw_verify(const char *hash, const char *pw);

/* True when hash was made with other limits (or another algorithm) than
 * iz_pw_hash uses now, so a login that has just verified the password
 * should store iz_pw_hash's string in its place: raising the limits then
 * reaches every user as they log in. */
bool iz_pw_needs_rehash(const char *hash);

/* A new one-time password: IZ_PW_GEN_LEN characters from 56 letters and
 * digits that cannot be mistaken for one another (no 0 O o 1 l I), some
 * 116 bits. 0, or IZ_EIO without randomness. */
int iz_pw_generate(char out[IZ_PW_GEN_LEN + 1]);

/* ---- sealed secrets ------------------------------------------------------- */

typedef struct iz_seal_key {
    uint8_t k[32];
} iz_seal_key_t;

#define IZ_SEAL_PREFIX "sb1:"

/* The key in the file at path: 64 hex digits (white space around them is
 * ignored). When the file does not exist and create is true, a new random
 * key is written there with mode 0600 (the directory must exist). A file
 * other users can read is refused. *err (static text) says why on failure:
 * IZ_ENOTFOUND (no file and !create), IZ_EINVAL (bad content or mode),
 * IZ_EIO. */
int iz_seal_key_load(const char *path, bool create, iz_seal_key_t *out, const char **err);

/* A key given as 64 hex digits (IZIN_SECRET_KEY); IZ_EINVAL otherwise. */
int iz_seal_key_parse(const char *hex, iz_seal_key_t *out);

/* Wipe a key. */
void iz_seal_key_wipe(iz_seal_key_t *k);

/* Seal plain (n bytes) into a new NUL-terminated text (free() it). Never
 * NULL (out of memory aborts); NULL only when no randomness is available. */
char *iz_seal(const iz_seal_key_t *k, const void *plain, size_t n);

/* Open a sealed text into out (outsz bytes, NUL-terminated). IZ_EINVAL for
 * text that is not a sealed value, IZ_ERULE when the authentication fails
 * (a wrong key or a changed value), IZ_ETOOBIG when out is too small. */
int iz_unseal(const iz_seal_key_t *k, const char *sealed, char *out, size_t outsz);

/* Whether s looks like a sealed value (has the prefix). */
bool iz_is_sealed(const char *s);

#endif
