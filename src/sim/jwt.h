/*
 * jwt.h - JSON Web Tokens signed with HS256 (RFC 7519, RFC 7515 compact
 * form): the emulator's access and refresh tokens. Pure functions: the key
 * is the caller's (the emulator keeps it in its store).
 */
#ifndef IZ_SIM_JWT_H
#define IZ_SIM_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define IZ_JWT_MAX 4096 /* bytes of a token this module makes or reads */

/* Encode claims (a JSON object) under the header {"alg":"HS256",
 * "typ":"JWT"} and sign it with key: 0 with *out (free() it), IZ_EINVAL
 * for claims that are not an object, IZ_ETOOBIG when the token would pass
 * IZ_JWT_MAX - 1 bytes. */
int iz_jwt_encode(json_t *claims, const uint8_t *key, size_t keylen, char **out);

/* Check a token of len bytes: three base64url parts, a header naming
 * HS256, a signature made with key (compared in constant time) and a
 * payload that is a JSON object. 0 with *claims (a new reference),
 * IZ_EINVAL when it is malformed or longer than IZ_JWT_MAX, IZ_ERULE when
 * its algorithm or signature is wrong. Expiry is the caller's to judge. */
int iz_jwt_decode(const char *tok, size_t len, const uint8_t *key, size_t keylen, json_t **claims);

#endif
