/*
 * jwt.c - HS256 JSON Web Tokens (jwt.h): base64url without padding and
 * HMAC-SHA256 from libsodium, JSON from jansson.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/iz.h"
#include "sim/jwt.h"

#define B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define SIG_LEN crypto_auth_hmacsha256_BYTES

/* The header every token of this module has: HS256, and nothing else that
 * a reader would have to judge. */
static const char header_json[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static void hmac(const uint8_t *key, size_t keylen, const char *data, size_t n,
                 uint8_t out[SIG_LEN])
{
    crypto_auth_hmacsha256_state s;
    crypto_auth_hmacsha256_init(&s, key, keylen);
    crypto_auth_hmacsha256_update(&s, (const unsigned char *)data, n);
    crypto_auth_hmacsha256_final(&s, out);
    sodium_memzero(&s, sizeof s);
}

/* Append the base64url form of n bytes at *p (room checked by the caller). */
static char *b64_put(char *p, const void *bin, size_t n)
{
    size_t room = sodium_base64_encoded_len(n, B64_VARIANT);
    sodium_bin2base64(p, room, bin, n, B64_VARIANT);
    return p + strlen(p);
}

int iz_jwt_encode(json_t *claims, const uint8_t *key, size_t keylen, char **out)
{
    if (!json_is_object(claims) || !key || !out) return IZ_EINVAL;
    *out = NULL;
    char *payload = json_dumps(claims, JSON_COMPACT);
    if (!payload) iz_oom();
    size_t hn = sizeof header_json - 1, pn = strlen(payload);
    size_t need = sodium_base64_encoded_len(hn, B64_VARIANT) +
                  sodium_base64_encoded_len(pn, B64_VARIANT) +
                  sodium_base64_encoded_len(SIG_LEN, B64_VARIANT) + 2;
    if (need > IZ_JWT_MAX) {
        free(payload);
        return IZ_ETOOBIG;
    }
    char *tok = iz_xmalloc(need);
    char *p = b64_put(tok, header_json, hn);
    *p++ = '.';
    p = b64_put(p, payload, pn);
    free(payload);
    uint8_t sig[SIG_LEN];
    hmac(key, keylen, tok, (size_t)(p - tok), sig);
    *p++ = '.';
    b64_put(p, sig, sizeof sig);
    *out = tok;
    return 0;
}

/* Decode one base64url part into a new NUL-terminated buffer (*n bytes
 * without the NUL); NULL when it is not base64url. */
static char *b64_get(const char *s, size_t len, size_t *n)
{
    char *buf = iz_xmalloc(len + 1);
    const char *end = NULL;
    if (sodium_base642bin((unsigned char *)buf, len, s, len, NULL, n, &end, B64_VARIANT) != 0 ||
        end != s + len) {
        free(buf);
        return NULL;
    }
    buf[*n] = '\0';
    return buf;
}

/* A decoded part as a JSON object (new reference), or NULL. */
static json_t *part_object(const char *s, size_t len)
{
    size_t n = 0;
    char *text = b64_get(s, len, &n);
    if (!text) return NULL;
    json_t *o = json_loadb(text, n, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    if (!json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int iz_jwt_decode(const char *tok, size_t len, const uint8_t *key, size_t keylen, json_t **claims)
{
    if (!tok || !key || !claims) return IZ_EINVAL;
    *claims = NULL;
    if (len == 0 || len >= IZ_JWT_MAX || memchr(tok, '\0', len)) return IZ_EINVAL;
    const char *d1 = memchr(tok, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
    if (!d1 || !d2 || d1 == tok || d2 == d1 + 1 ||
        memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)))
        return IZ_EINVAL;
    json_t *header = part_object(tok, (size_t)(d1 - tok));
    if (!header) return IZ_EINVAL;
    const char *alg = json_string_value(json_object_get(header, "alg"));
    bool hs256 = alg && strcmp(alg, "HS256") == 0;
    json_decref(header);
    if (!hs256) return IZ_ERULE; /* "none" and every other algorithm: refused */

    size_t sn = 0;
    char *sig = b64_get(d2 + 1, len - (size_t)(d2 + 1 - tok), &sn);
    if (!sig) return IZ_EINVAL;
    uint8_t want[SIG_LEN];
    hmac(key, keylen, tok, (size_t)(d2 - tok), want);
    bool ok = sn == SIG_LEN && sodium_memcmp(sig, want, SIG_LEN) == 0;
    free(sig);
    if (!ok) return IZ_ERULE;
    json_t *payload = part_object(d1 + 1, (size_t)(d2 - d1 - 1));
    if (!payload) return IZ_EINVAL;
    *claims = payload;
    return 0;
}
