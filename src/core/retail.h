/*
 * retail.h - a consent's retailer fields (İYS's bayi): retailerCode, the
 * retailer the consent was obtained through, and retailerAccess, the
 * retailers that may see the consent (at most 100).
 *
 * A retailer code is İYS's 8-digit number (10000000 to 99999999: İYS hands
 * out "8 haneli bayi kodu", H067). Whatever way a consent arrives (a JSON
 * body, a CSV or XLSX cell, a JSON file), its retailer fields reach the
 * validator (core/consent.c) as text: retailerCode as the code's digits,
 * retailerAccess as the codes separated by '|', ',' or white space (a
 * JSON array is written that way by net/jsonconsent.c). The text forms of
 * a list with no code in it ("|" for JSON's []) is the empty list.
 *
 * Pure: no I/O, no allocation, no global state.
 */
#ifndef IZ_RETAIL_H
#define IZ_RETAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IZ_RETAIL_ACCESS_MAX 100    /* İYS's H126 above */
#define IZ_RETAIL_CODE_MIN 10000000 /* the smallest 8-digit code */
#define IZ_RETAIL_CODE_MAX 99999999
/* The stored text of an access list: 100 codes of 8 digits and their
 * commas, and the NUL. */
#define IZ_RETAIL_LIST_TEXT (IZ_RETAIL_ACCESS_MAX * 9 + 1)

/* A change's retailer fields: code 0 and n 0 when it has none. Only the
 * first n entries of access mean anything (a copy may leave the rest). */
typedef struct iz_retail {
    uint32_t code;
    uint32_t n;
    uint32_t access[IZ_RETAIL_ACCESS_MAX];
} iz_retail_t;

/* Whether r carries any retailer field. */
static inline bool iz_retail_any(const iz_retail_t *r)
{
    return r->code != 0 || r->n != 0;
}

/* Copy src's meaningful part into dst (not the unused tail of the list). */
void iz_retail_copy(iz_retail_t *dst, const iz_retail_t *src);

/* Whether a and b name the same retailer fields (the list in order). */
bool iz_retail_equal(const iz_retail_t *a, const iz_retail_t *b);

/* Read one code from len bytes of text: true with *out when it is a
 * well-formed code (8 digits, no sign, no space), false otherwise. */
bool iz_retail_code_parse(const char *s, size_t len, uint32_t *out);

/* How a list's text reads. */
typedef enum {
    IZ_RETAIL_LIST_OK = 0,
    IZ_RETAIL_LIST_EMPTY,    /* no code in it: H163 */
    IZ_RETAIL_LIST_TOO_LONG, /* over IZ_RETAIL_ACCESS_MAX codes: H126 */
    IZ_RETAIL_LIST_BAD_CODE  /* a code that is not well-formed: H180; *bad its index */
} iz_retail_list_t;

/* Read a list's text (len bytes; codes separated by '|', ',', spaces or
 * tabs) into r->access and r->n (r->code is left as it is). On
 * IZ_RETAIL_LIST_BAD_CODE *bad (may be NULL) is the first bad code's
 * index; r->n holds the codes read before it. */
iz_retail_list_t iz_retail_list_parse(const char *s, size_t len, iz_retail_t *r, size_t *bad);

/* The list as stored: the codes joined by ',' ("" for none) into out
 * (IZ_RETAIL_LIST_TEXT bytes). */
void iz_retail_list_format(const iz_retail_t *r, char out[IZ_RETAIL_LIST_TEXT]);

/* The text the consent log's hash chain covers for a change's retailer
 * fields: "<code>/<list>" (either side "" when absent), as the store's
 * verifier writes it from the two columns. Only a change with retailer
 * fields hashes it (store.h). */
#define IZ_RETAIL_HASH_TEXT (12 + IZ_RETAIL_LIST_TEXT)
void iz_retail_hash_text(const iz_retail_t *r, char out[IZ_RETAIL_HASH_TEXT]);

/* Whether every code of r (its code and its list) is in known[0..n),
 * sorted ascending. When not, *at_code tells where the first unknown one
 * is: true for retailerCode, false for retailerAccess (the list is checked
 * first, as İYS does). */
bool iz_retail_all_known(const iz_retail_t *r, const int64_t *known, size_t n, bool *at_code);

#endif
