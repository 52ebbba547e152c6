/*
 * fuzz_util.h - what several fuzz drivers share.
 */
#ifndef IZ_FUZZ_UTIL_H
#define IZ_FUZZ_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The input as a C string (malloc'd; read up to its first NUL by callers
 * that take text). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
