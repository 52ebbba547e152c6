/*
 * iz.h - the conventions every izin module shares: return codes, the
 * out-of-memory policy and a few tiny helpers.
 *
 * Error convention: functions return int, 0 on success and a negative IZ_E*
 * value on failure; results come back through out-parameters. Validation
 * failures additionally carry an İYS H-code (see core/hcode.h).
 *
 * Out-of-memory policy: izin is a server whose state lives in its store, so
 * an allocation failure aborts the process through iz_oom(); a restart loses
 * nothing that was acknowledged. Every allocation goes through the iz_x*
 * wrappers below, which never return NULL.
 */
#ifndef IZ_H
#define IZ_H

#include <stddef.h>
#include <stdint.h>

enum {
    IZ_OK = 0,
    IZ_REPEAT = 1, /* not an error: an identical change already existed */
    IZ_ENOMEM = -1,
    IZ_EINVAL = -2,       /* bad argument or input */
    IZ_ENOTFOUND = -3,    /* no such row */
    IZ_EEXIST = -4,       /* unique value already taken */
    IZ_EIO = -5,          /* file or database I/O failure */
    IZ_ERULE = -6,        /* refused by an İYS rule; the H-code says which */
    IZ_EBUSY = -7,        /* try again later */
    IZ_ETOOBIG = -8,      /* input over its limit */
    IZ_EUNSUPPORTED = -9, /* not available in this build or configuration */
    IZ_EQUOTA = -10       /* over the account's plan (its consent limit) */
};

/* A short English description of an IZ_* return code; never NULL. */
const char *iz_strerror(int rc);

/* Abort with a message; called when memory runs out. */
void iz_oom(void) __attribute__((noreturn));

void *iz_xmalloc(size_t n);
void *iz_xcalloc(size_t n, size_t size);
void *iz_xrealloc(void *p, size_t n);
char *iz_xstrdup(const char *s);
char *iz_xstrndup(const char *s, size_t n);

/* Copy src into dst of size dstsz, always NUL-terminating. Returns
 * IZ_ETOOBIG (and a truncated copy) when src did not fit. */
int iz_strlcpy(char *dst, const char *src, size_t dstsz);

/* Strictly parse a decimal integer in [min, max] from the whole of s: an
 * optional '-' and digits, nothing else (no spaces, no '+'). Returns 0, or
 * IZ_EINVAL (out untouched) for anything else, overflow included. */
int iz_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Overwrite a secret in memory so that the compiler cannot drop the write. */
void iz_wipe(void *p, size_t n);

#define IZ_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
