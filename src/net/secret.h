/*
 * secret.h - API keys and the hashing izin stores instead of them.
 *
 * An API key is "izk_" followed by 48 hex digits (192 random bits from
 * OpenSSL's RAND_bytes). Only its SHA-256 is stored; a key this random needs
 * no salt or slow hash (a guess costs 2^192 tries whatever the hash).
 */
#ifndef IZ_SECRET_H
#define IZ_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define IZ_KEY_LEN 52       /* "izk_" + 48 hex */
#define IZ_SHA256_HEX 65    /* 64 hex + NUL */

/* Make a new random key. 0, or IZ_EIO when no randomness is available. */
int iz_key_generate(char out[IZ_KEY_LEN + 1]);

/* Hex SHA-256 of len bytes. */
void iz_sha256_hex(const void *data, size_t len, char out[IZ_SHA256_HEX]);

/* Constant-time comparison of two NUL-terminated strings. */
bool iz_secret_equal(const char *a, const char *b);

#endif
