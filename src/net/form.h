/*
 * form.h - application/x-www-form-urlencoded bodies and query strings, for
 * the handlers that serve forms and pages (HTML escaping is the page kit's,
 * net/page.h).
 */
#ifndef IZ_FORM_H
#define IZ_FORM_H

#include <stddef.h>

#include "net/http.h"

#define IZ_FORM_MAX_FIELDS 64

typedef struct iz_form {
    size_t n;
    const char *name[IZ_FORM_MAX_FIELDS];
    const char *value[IZ_FORM_MAX_FIELDS]; /* decoded, NUL-terminated (arena) */
    size_t value_len[IZ_FORM_MAX_FIELDS];  /* may contain NUL bytes: check it */
} iz_form_t;

/* Parse "a=1&b=x+y%21" from text of len bytes into out (strings in r's
 * arena). Returns 0, or IZ_EINVAL for a bad %-escape or more than
 * IZ_FORM_MAX_FIELDS fields. */
int iz_form_parse(iz_req_t *r, const char *text, size_t len, iz_form_t *out);

/* The first value of name, or NULL. */
const char *iz_form_get(const iz_form_t *f, const char *name);

/* The first value of name when it holds no NUL byte and at most max bytes,
 * else NULL: what a page handler reads, every field bounded. */
const char *iz_form_value(const iz_form_t *f, const char *name, size_t max);

/* Text percent-encoded for a URL query value (every byte but A-Z a-z 0-9
 * - _ . ~ as %XX), in r's arena. */
const char *iz_form_urlencode(iz_req_t *r, const char *text);

#endif
