/*
 * qr.h - a small QR code encoder (ISO/IEC 18004) for the consent page's
 * printed link: byte mode, error correction level M, versions 1 to 10
 * (up to 213 bytes), which holds any short URL izin makes.
 *
 * The encoder takes the smallest version that holds the data, lays out
 * the function patterns (finders, separators, timing, alignment, format
 * and, from version 7, version information), places the codewords with
 * their Reed-Solomon error correction interleaved as the standard says,
 * and applies the mask with the lowest penalty (the four rules N1-N4 of
 * the standard, judged with the real format bits; the lowest mask number
 * wins a tie), or the mask the caller names.
 *
 * iz_qr_svg writes the symbol as a standalone SVG with the standard's
 * quiet zone of 4 modules: one <path> of dark runs, no script, no style.
 *
 * Pure: no I/O, no allocation, no global state.
 */
#ifndef IZ_QR_H
#define IZ_QR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IZ_QR_VERSION_MAX 10
#define IZ_QR_SIZE_MAX (17 + 4 * IZ_QR_VERSION_MAX) /* modules a side: 57 */
#define IZ_QR_DATA_MAX 213                          /* bytes version 10-M holds in byte mode */
#define IZ_QR_SVG_MAX 65536                         /* bytes an SVG of any symbol fits in */

typedef struct iz_qr {
    int version;                                  /* 1..10 */
    int size;                                     /* 17 + 4 * version */
    int mask;                                     /* 0..7, the mask applied */
    uint8_t dark[IZ_QR_SIZE_MAX][IZ_QR_SIZE_MAX]; /* [y][x]: 1 dark, 0 light */
} iz_qr_t;

/* Encode len bytes of data. mask is 0..7 to force one, or -1 to choose the
 * best. Returns 0, IZ_ETOOBIG when the data does not fit version 10-M, or
 * IZ_EINVAL for a mask out of range. */
int iz_qr_encode(const void *data, size_t len, int mask, iz_qr_t *out);

/* The symbol as an SVG document (viewBox in modules, quiet zone included,
 * dark modules #000 on a white rectangle) into out (outsz bytes; NUL
 * terminated when outsz > 0). Returns the length the whole document needs,
 * like snprintf; it is below IZ_QR_SVG_MAX for every symbol. */
size_t iz_qr_svg(const iz_qr_t *q, char *out, size_t outsz);

/* The penalty score of a symbol as it stands (rules N1-N4), for tests. */
long iz_qr_penalty(const iz_qr_t *q);

#endif
