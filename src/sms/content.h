/*
 * content.h - a brand's SMS text as it goes out: core/content.h's rules
 * with the brand's settings read from the store. The API's sms/send and
 * the panel's campaign page (its live preview too) call this one function,
 * so both add the same footer and give the same warning.
 */
#ifndef IZ_SMS_CONTENT_H
#define IZ_SMS_CONTENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/content.h"
#include "store/store.h"

/* The text (len bytes of UTF-8) of brand b as it goes out, commercial or
 * not, with its encoding and parts for the gateway's flags
 * (iz_sms_gateway_text_flags; 0 for a gateway that sends everything):
 * iz_content_build's answers (IZ_ERULE with out->missing naming the brand
 * setting a commercial text needs), or the store's failure reading the
 * brand's identity. */
int iz_sms_content(iz_store_t *st, const iz_brand_t *b, const char *text, size_t len,
                   bool commercial, unsigned flags, iz_content_t *out);

/* The brand's settings (b, id) as core/content.h takes them; points into
 * b and id. */
iz_content_brand_t iz_sms_content_brand(const iz_brand_t *b, const iz_brand_ident_t *id);

#endif
