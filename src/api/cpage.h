/*
 * cpage.h - the consent page (F4, API.md "Consent page"): each brand's
 * public page at /c/{slug} where a person gives or withdraws consent,
 * proven by a 6-digit code sent by SMS.
 *
 *   GET  /c/{slug}          the brand's name, its information text, the form
 *   POST /c/{slug}/otp      sends the code, answers with the code form
 *   POST /c/{slug}/verify   checks the code, records each chosen channel
 *                           through the domain (origin URL, source HS_WEB,
 *                           the evidence), answers with a confirmation
 *   GET  /c/{slug}/qr.svg   the page's link (--public-url) as a QR code
 *
 * Codes live in memory only, hashed (HMAC-SHA-256 under a key drawn at
 * start, bound to the brand, the number and the choices made), for
 * `ttl` seconds and 5 tries; a restart forgets them (the person asks for a
 * new one). Limits: 1 code a minute and 5 an hour per number, 10 codes an
 * hour and 30 POSTs a minute per client address.
 */
#ifndef IZ_API_CPAGE_H
#define IZ_API_CPAGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct iz_cpage iz_cpage_t;

#define IZ_CPAGE_TTL 180            /* seconds a code is valid */
#define IZ_CPAGE_PUBLIC_URL_MAX 140 /* bytes: with a 63-byte slug the link fits a QR code */

/* Make the page's state: public_url is the base of the links ("http[s]://
 * host[:port][/path]", no trailing '/', query or fragment), ttl the
 * seconds a code lives (1..3600). 0, IZ_EINVAL for a bad URL or ttl, or
 * IZ_EIO when there is no randomness. */
int iz_cpage_new(const char *public_url, int64_t ttl, iz_cpage_t **out);
void iz_cpage_free(iz_cpage_t *cp);

/* The public link of the page of slug (the --public-url base, "/c/", the
 * slug: what its QR code holds) into out of size bytes: 0, IZ_ETOOBIG
 * when it does not fit. */
int iz_cpage_link(const iz_cpage_t *cp, const char *slug, char *out, size_t size);

#endif
