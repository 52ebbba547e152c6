/*
 * utf8.h - strict UTF-8 decoding and encoding, shared by the SMS text
 * rules and the bulk file readers.
 *
 * Strict means what İYS and JSON mean by UTF-8: no overlong forms, no
 * surrogates, nothing above U+10FFFF. Pure: no I/O, no allocation.
 */
#ifndef IZ_UTF8_H
#define IZ_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decode the code point at s[*i] (len bytes in all), advancing *i. Returns
 * 0, or IZ_EINVAL for an invalid or incomplete sequence (*i unchanged). */
int iz_utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp);

/* The length of the longest prefix of s (len bytes) that is valid UTF-8. */
size_t iz_utf8_valid_prefix(const void *s, size_t len);

/* True when s (len bytes, len < 4) is the start of a valid sequence that
 * more bytes could complete: what a chunk that ends inside a character
 * leaves over. */
int iz_utf8_incomplete(const void *s, size_t len);

/* Write cp (at most U+10FFFF, not a surrogate) as UTF-8 into out (room for
 * 4 bytes); returns the bytes written, 0 for a value that is no code
 * point. */
size_t iz_utf8_put(uint32_t cp, char *out);

/* Append cp as UTF-8 to out (outsz bytes, *len used), keeping room for the
 * NUL that ends it; *len advances. Returns 0, IZ_ETOOBIG when it does not
 * fit, IZ_EINVAL for a value that is no code point (out unchanged). */
int iz_utf8_append(char *out, size_t outsz, size_t *len, uint32_t cp);

#endif
