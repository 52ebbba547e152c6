/*
 * multipart.h - a streaming reader of multipart/form-data bodies (RFC
 * 7578), for the pages whose forms carry a file (a browser without script
 * can send a file no other way).
 *
 * The body is fed in pieces of any size as it arrives; the reader calls
 * back at the start of each part (its name, filename and type) and with
 * its bytes, in pieces, so that a file of any length goes to disk without
 * memory growing with it. The reader holds at most one part's header block
 * (IZ_MULTIPART_HEADER_MAX bytes) and a delimiter's length of look-ahead.
 *
 * Strict where it matters: a header block over its bound, a part without a
 * form-data name, more than IZ_MULTIPART_PARTS_MAX parts or a body that
 * ends before its closing delimiter is an error (IZ_EINVAL), never a part
 * silently cut short. The preamble and epilogue are ignored, as the RFC
 * says.
 */
#ifndef IZ_MULTIPART_H
#define IZ_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#define IZ_MULTIPART_BOUNDARY_MAX 70 /* RFC 2046 */
#define IZ_MULTIPART_HEADER_MAX 4096 /* bytes of one part's header block */
#define IZ_MULTIPART_NAME_MAX 128    /* bytes of a part's name and of its filename */
#define IZ_MULTIPART_TYPE_MAX 128    /* bytes of a part's Content-Type */
#define IZ_MULTIPART_PARTS_MAX 64

/* A part as its headers describe it (strings NUL-terminated). */
typedef struct iz_multipart_part {
    char name[IZ_MULTIPART_NAME_MAX];
    char filename[IZ_MULTIPART_NAME_MAX]; /* "" when the part is no file */
    bool has_filename;                    /* a file field, even one sent empty */
    char type[IZ_MULTIPART_TYPE_MAX];     /* "" when the part names none */
} iz_multipart_part_t;

/* The callbacks: part when a part begins, data with its bytes (any number
 * of calls, len > 0). A non-zero return stops the reader: feed returns
 * that value then and every later call. */
typedef struct iz_multipart_cb {
    int (*part)(void *ctx, const iz_multipart_part_t *part);
    int (*data)(void *ctx, const char *data, size_t len);
} iz_multipart_cb_t;

typedef struct iz_multipart iz_multipart_t;

/* The boundary of a Content-Type header's value ("multipart/form-data;
 * boundary=..."), quoted or not, into out (IZ_MULTIPART_BOUNDARY_MAX + 1
 * bytes): 0, or IZ_EINVAL when the type is another or names no valid
 * boundary. */
int iz_multipart_boundary(const char *content_type, char *out);

/* A reader of a body with boundary (from iz_multipart_boundary). */
iz_multipart_t *iz_multipart_new(const char *boundary, const iz_multipart_cb_t *cb, void *ctx);

/* Feed len bytes: 0, IZ_EINVAL for a malformed body, or a callback's
 * non-zero value. */
int iz_multipart_feed(iz_multipart_t *m, const char *data, size_t len);

/* The body has ended: 0 when the closing delimiter was read, IZ_EINVAL
 * otherwise (or the error feed returned). */
int iz_multipart_finish(iz_multipart_t *m);

void iz_multipart_free(iz_multipart_t *m);

#endif
