/*
 * keyword.h - a brand's SMS keyword: one word of letters (Turkish ones
 * too) and digits (up to four words), kept in Turkish capitals and matched
 * folded (core/smstext.h), so that ÇİÇEK, çiçek and CICEK are one keyword.
 */
#ifndef IZ_KEYWORD_H
#define IZ_KEYWORD_H

#include <stdbool.h>

#define IZ_KEYWORD_MAX 64 /* bytes, NUL included */

/* The keyword as it is kept (Turkish capitals: i -> İ, ı -> I, ç -> Ç,
 * ...) into out. Returns 0, or IZ_EINVAL when it is no keyword for the
 * grammar (core/smsmo.h iz_mo_keyword_check: 1 to 4 words, none an action
 * or channel word) or does not fit. */
int iz_keyword(const char *in, char out[IZ_KEYWORD_MAX]);

/* A short number (4 digits) or a subscriber number (0850 and 7 digits):
 * true when s is one ("" is not). */
bool iz_short_number_ok(const char *s);
bool iz_subscriber_number_ok(const char *s);

#endif
