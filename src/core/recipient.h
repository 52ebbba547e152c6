/*
 * recipient.h - recipient normalization.
 *
 * Phones: every common Turkish way of writing a number (05321234567,
 * 5321234567, +90 532 123 45 67, 0090..., (0532) 123-4567, 90532...) becomes
 * E.164 "+90XXXXXXXXXX". The wrong form "+9005..." that İYS accepts but no
 * gateway can reach is repaired to "+905...", never produced. A number
 * written with another country code ("+49...", "0049...") is kept as E.164
 * when it has 8 to 15 digits.
 *
 * E-mail: İYS's rules: 6 to 265 characters, no spaces or Turkish letters,
 * one '@', a dotted domain; '+' is allowed in the local part; the result is
 * lower-cased.
 *
 * Pure functions, no allocation, no global state.
 */
#ifndef IZ_RECIPIENT_H
#define IZ_RECIPIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/enums.h"

#define IZ_RECIPIENT_MAX 272 /* 265 chars of e-mail + NUL, rounded */
#define IZ_PHONE_MAX 16      /* "+" + 14 digits + NUL: İYS caps a phone at 15
                                characters, the '+' included */
#define IZ_INPUT_MAX 1024    /* longer raw input is refused outright */

/* Normalize a phone number of len bytes (not NUL-terminated) into out.
 * Returns 0, or IZ_EINVAL with out set to "" and *hcode (when hcode is not
 * NULL) set to "H160" when the number is longer than 15 characters once
 * spaces and punctuation are removed (digits and '+' counted), "H464" when
 * it is an e-mail address, else "H121". */
int iz_phone_normalize(const char *in, size_t len, char out[IZ_PHONE_MAX], const char **hcode);

/* Normalize an e-mail address into out (lower-cased). Returns 0 or
 * IZ_EINVAL with *hcode "H464" when the value is a phone number, else "H120". */
int iz_email_normalize(const char *in, size_t len, char out[IZ_RECIPIENT_MAX], const char **hcode);

/* Normalize for a consent type: MESAJ/ARAMA as a phone, EPOSTA as an e-mail,
 * IZ_TYPE_NONE as whichever fits (failing with "H122" when neither does). */
int iz_recipient_normalize(const char *in, size_t len, iz_type_t type,
                           char out[IZ_RECIPIENT_MAX], const char **hcode);

/* Pack a normalized Turkish number ("+90" + 10 digits) into an integer;
 * 0 for anything else. Used by the filter index. */
unsigned long long iz_phone_pack(const char *e164);

/* The fast path of the send filter: pack a number as written when it has
 * one of the plain shapes of a Turkish number - "+90XXXXXXXXXX",
 * "0090XXXXXXXXXX", "90XXXXXXXXXX", "0XXXXXXXXXX", "XXXXXXXXXX" (10 national
 * digits starting 2, 3, 4, 5 or 8), or "+900XXXXXXXXXX" (the trunk 0 that
 * normalization repairs) - without spaces or punctuation. 0 when it has
 * none of them: the caller then normalizes it in full. Whenever this
 * returns a key k, iz_phone_normalize(in) succeeds and iz_phone_pack() of
 * its result is k (the fuzz driver checks it). */
unsigned long long iz_phone_pack_raw(const char *in, size_t len);

#endif
