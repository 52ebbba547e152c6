/*
 * page.h - izin's HTML page kit: what every Turkish page izin serves shares
 * (the emulator's citizen and authority pages, the consent page, the
 * customer's panel), each piece once.
 *
 *   site     a set of pages with its brand text, its CSS additions and
 *            whether it is served over https; its stylesheet and CSP are
 *            built once, at start-up
 *   page     a document written into memory and sent whole: the layout
 *            (skip link, header with the site's title and subtitle, main,
 *            footer) with the CSS compiled in, then the handler's content
 *   escape   one HTML escaping for element text and quoted attributes
 *   CSRF     a double-submit token: a random value in an HttpOnly,
 *            SameSite=Strict cookie and the same value in each form's
 *            hidden "csrf" field, compared in constant time
 *   cookies  reading one named cookie strictly, setting and clearing one
 *   limits   per-IP counters (net/ratelimit.h) with a Turkish 429 page
 *   refusal  a Turkish 4xx page with a message and a link home
 *
 * Security headers on every page: a Content-Security-Policy that allows no
 * script at all, no other origin, and exactly one stylesheet, the page's
 * own <style> block, named by its SHA-256 (no 'unsafe-inline', so neither a
 * style="" attribute nor an injected <style> can apply):
 *
 *   default-src 'none'; style-src 'sha256-...'; img-src 'self' data:;
 *   form-action 'self'; frame-ancestors 'none'; base-uri 'none'
 *
 * with X-Frame-Options DENY and Referrer-Policy no-referrer. The HTTP layer
 * adds X-Content-Type-Options nosniff and Cache-Control no-store to every
 * answer, pages included.
 *
 * Over https (site.https) every cookie the kit sets is Secure and its name
 * carries the __Host- prefix, which a browser accepts only from this host,
 * over https, for Path=/: a neighbouring subdomain or a network attacker on
 * plain http cannot plant a CSRF or session cookie of ours.
 *
 * Ownership: a site borrows its configuration's strings (they must outlive
 * it, string literals in practice) and is read-only once built, so any
 * number of request threads share it. Strings the kit returns live in the
 * request's arena.
 */
#ifndef IZ_PAGE_H
#define IZ_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "net/form.h"
#include "net/http.h"
#include "net/ratelimit.h"

#define IZ_PAGE_CSS_MAX 16384  /* bytes of a site's whole stylesheet */
#define IZ_PAGE_CSP_MAX 256    /* bytes of the CSP header */
#define IZ_PAGE_COOKIE_MAX 256 /* bytes of a cookie value the kit reads or sets */
#define IZ_PAGE_COOKIE_NAME_MAX 64
#define IZ_PAGE_COOKIE_HEADER_MAX 8192 /* a longer Cookie header is not read */
#define IZ_PAGE_CSRF_FIELD "csrf"      /* the hidden field of every POST form */
#define IZ_PAGE_CSRF_LEN 48            /* hex digits: 192 random bits */

/* What a site tells the kit. Every string is plain text (the kit escapes
 * it) except css; NULL leaves a part out. */
typedef struct iz_page_site_cfg {
    const char *title;      /* the header's title: "İleti Yönetim Sistemi" */
    const char *subtitle;   /* the header's second line */
    const char *footer;     /* one line at the bottom of every page */
    const char *home;       /* a path on this site that refusal pages link to */
    const char *home_label; /* that link's text: "Ana sayfaya dön" when NULL */
    const char *css;        /* rules added after the kit's own (no '<') */
    bool https;             /* served over https: Secure, __Host- cookies */
} iz_page_site_cfg_t;

typedef struct iz_page_site {
    iz_page_site_cfg_t cfg;
    char style[IZ_PAGE_CSS_MAX]; /* the kit's CSS and the site's, as served */
    char csp[IZ_PAGE_CSP_MAX];   /* the Content-Security-Policy header */
} iz_page_site_t;

/* Build a site: its stylesheet and the CSP naming that stylesheet's
 * SHA-256. Returns 0, IZ_EINVAL when css holds '<' (it could end the
 * <style> element) or home is not a path, or IZ_ETOOBIG when the
 * stylesheet is over IZ_PAGE_CSS_MAX. */
int iz_page_site_init(iz_page_site_t *site, const iz_page_site_cfg_t *cfg);

/* ---- escaping ------------------------------------------------------------ */

/* Escape text for HTML element content and for attribute values in double
 * or single quotes: & < > " ' become entities, every other byte is copied.
 * Writes at most outsz bytes (NUL-terminated when outsz > 0) and returns
 * the length the whole escaped text needs, like snprintf. */
size_t iz_page_escape(char *out, size_t outsz, const char *text);

/* The same into r's arena; NULL text gives "". */
const char *iz_page_esc(iz_req_t *r, const char *text);

/* ---- a page --------------------------------------------------------------- */

/* A page being written. Fields are the kit's; use the calls below. */
typedef struct iz_page {
    const iz_page_site_t *site;
    iz_req_t *r;
    FILE *f;
    char *buf;
    size_t len;
    const char *csrf; /* the request's token once a form asked for it */
    int failed;       /* IZ_EIO when no CSRF token could be made */
} iz_page_t;

/* Start a page with the document head (title is plain text), the header
 * and the opening of <main>. Then write the content, and send it with
 * iz_page_end. */
void iz_page_begin(iz_page_t *p, const iz_page_site_t *site, iz_req_t *r, const char *title);

/* Append HTML as it stands: %s values are not escaped, pass them through
 * iz_page_esc. */
void iz_page_printf(iz_page_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void iz_page_puts(iz_page_t *p, const char *html);

/* A message box: kind "ok" (role=status) or "err" (role=alert); text is
 * plain (escaped), html is written as it stands (one of them NULL). */
void iz_page_msg(iz_page_t *p, const char *kind, const char *text, const char *html);

/* Open a POST form to action (a path of this site; cls may be NULL) with
 * the CSRF field in it; the caller writes the fields and "</form>". */
void iz_page_form_post(iz_page_t *p, const char *cls, const char *action);

/* The hidden CSRF field alone, for a form opened by hand. */
void iz_page_csrf_field(iz_page_t *p);

/* Close the layout, add the security headers and answer with status.
 * When no CSRF token could be made the page is replaced by a 503 refusal. */
void iz_page_end(iz_page_t *p, int status);

/* ---- answers that are whole pages ---------------------------------------- */

/* A refusal: status (4xx or 5xx) with a Turkish page, title as heading,
 * message in an alert box (both plain text) and a link to the site's home. */
void iz_page_refuse(iz_req_t *r, const iz_page_site_t *site, int status, const char *title,
                    const char *message);

/* 403: the form's CSRF token did not match ("nothing was changed"). */
void iz_page_csrf_refuse(iz_req_t *r, const iz_page_site_t *site);

/* 429 with Retry-After: retry_after seconds (at least 1). */
void iz_page_too_many(iz_req_t *r, const iz_page_site_t *site, int64_t retry_after);

/* 303 See Other to location (a path of this site, with its query) after a
 * POST, with a short page that links there; text is plain. */
void iz_page_see_other(iz_req_t *r, const iz_page_site_t *site, const char *location,
                       const char *text);

/* ---- requests -------------------------------------------------------------- */

/* Count the request against rl under the client's IP address: false when
 * it may go on; true when it is over the limit and has been answered with
 * the 429 page. */
bool iz_page_limit(iz_req_t *r, const iz_page_site_t *site, iz_ratelimit_t *rl);

/* The checks of a page's POST, in order: the per-IP limit (limit may be
 * NULL), a urlencoded body, a browser's Sec-Fetch-Site when it sends one
 * ("same-origin" only: another site's form is refused before its token is
 * looked at), and the CSRF field equal to the cookie. Returns 0 with form
 * filled, or IZ_EBUSY / IZ_EINVAL when the request was refused and has been
 * answered (429, or the 403 page). */
int iz_page_post_form(iz_req_t *r, const iz_page_site_t *site, iz_ratelimit_t *limit,
                      iz_form_t *form);

/* ---- CSRF ------------------------------------------------------------------ */

/* The request's CSRF token into *token: the cookie's when it is well formed,
 * else a new one, set as a cookie on the answer (call at most once per
 * answer; a page does it through iz_page_form_post). 0, or IZ_EIO when the
 * system has no randomness. */
int iz_page_csrf(iz_req_t *r, const iz_page_site_t *site, const char **token);

/* Double submit: sent equals the cookie's token (constant time). */
bool iz_page_csrf_ok(iz_req_t *r, const iz_page_site_t *site, const char *sent);

/* ---- cookies ----------------------------------------------------------------- */

/* The value of cookie name in the Cookie header text (pure, for tests):
 * 0 with the value in out (outsz bytes), IZ_ENOTFOUND when it is absent,
 * IZ_EINVAL when it is there but not well formed or there more than once
 * (an ambiguity a planted cookie would create), IZ_ETOOBIG when the header
 * is over IZ_PAGE_COOKIE_HEADER_MAX or the value does not fit out. A well
 * formed value is 1 .. IZ_PAGE_COOKIE_MAX bytes of A-Z a-z 0-9 - _ . ~
 * (hex and base64url tokens), unquoted. Other cookies are skipped, however
 * they look. */
int iz_page_cookie_parse(const char *header, const char *name, char *out, size_t outsz);

/* The request's cookie name (with the site's __Host- prefix over https),
 * or NULL when iz_page_cookie_parse does not find it well formed. */
const char *iz_page_cookie(iz_req_t *r, const iz_page_site_t *site, const char *name);

/* Set cookie name to value on the answer: Path=/, HttpOnly,
 * SameSite=Strict, and Secure with the __Host- prefix over https; Max-Age
 * when max_age > 0, else it lasts the browser session. Returns 0, or
 * IZ_EINVAL for a name or value the reader would not accept. */
int iz_page_cookie_set(iz_req_t *r, const iz_page_site_t *site, const char *name, const char *value,
                       int64_t max_age);

/* Clear cookie name (an expired empty value); 0 or IZ_EINVAL. */
int iz_page_cookie_clear(iz_req_t *r, const iz_page_site_t *site, const char *name);

#endif
