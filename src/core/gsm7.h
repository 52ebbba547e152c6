/*
 * gsm7.h - the GSM 7-bit alphabets of 3GPP TS 23.038 that Turkish SMS use,
 * in one place: what a character costs going out (core/smstext) and what
 * septets say coming in (core/smsmo).
 *
 *   table                                        23.038     reached by
 *   default alphabet                             6.2.1      (locking table by default)
 *   default extension table                      6.2.1.1    escape 0x1B + septet
 *   Turkish national language single shift       A.2.1      escape 0x1B + septet
 *   Turkish national language locking shift      A.3.1      replaces the default alphabet
 *
 * The Turkish single shift table holds every character of the default
 * extension table at the same septet (form feed ^ { } \ [ ~ ] | €) and adds
 * Ğ İ Ş ç ğ ı ş. Decoding therefore always reads escapes through it: a text
 * sent with the default extension table decodes the same, and one sent with
 * the Turkish table (whose header a gateway seldom passes on) decodes right.
 * The locking shift table differs from the default alphabet at eight septets
 * (€ ı Ğ ğ Ş ş İ ç in place of è ì Ø ø Æ æ ¡ ¿), so it is used only when the
 * caller says the message was sent with it.
 *
 * Packing (6.1.2.1.1): septet i starts at bit 7 * i, least significant bit
 * first. len octets hold floor(8 * len / 7) septets; when that fills the
 * last octet exactly and the last septet is CR, it is the filler of
 * 6.1.2.3.1 (seven spare bits are set to CR) and is dropped.
 *
 * Pure: no I/O, no allocation, no global state.
 */
#ifndef IZ_GSM7_H
#define IZ_GSM7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IZ_GSM7_ESC 0x1B

enum {
    IZ_GSM7_PACKED = 1u << 0,  /* the input is packed septets, else one septet an octet */
    IZ_GSM7_TR_LOCK = 1u << 1, /* sent with the Turkish locking shift table */
};

/* Septets a character costs with the default alphabet as the locking
 * table: 1 when the default alphabet has it, 2 when it is reached by escape
 * (through the default extension table, or also the Turkish single shift
 * table when tr_single), 0 when it cannot be sent so. */
unsigned iz_gsm7_units(uint32_t cp, bool tr_single);

/* Decode len octets of GSM 7-bit text (flags IZ_GSM7_*) into out as UTF-8,
 * NUL-terminated, *outlen bytes before the NUL (outlen may be NULL). An
 * escape followed by an escape is shown as a space and one followed by a
 * septet the shift table lacks as that septet of the locking table (both as
 * 23.038 says); an escape at the very end shows nothing. The output never
 * holds a NUL and is at most 3 bytes a septet. Returns 0, IZ_EINVAL for an
 * unpacked octet above 0x7F, IZ_ETOOBIG when out is too small; out is ""
 * after a failure. */
int iz_gsm7_decode(const void *in, size_t len, unsigned flags, char *out, size_t outsz,
                   size_t *outlen);

#endif
