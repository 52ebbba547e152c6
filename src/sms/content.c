/*
 * content.c - a brand's SMS text as it goes out (content.h).
 */
#include "sms/content.h"

#include <string.h>

iz_content_brand_t iz_sms_content_brand(const iz_brand_t *b, const iz_brand_ident_t *id)
{
    return (iz_content_brand_t){.keyword = b->keyword,
                                .short_number = b->short_number,
                                .subscriber_number = b->subscriber_number,
                                .trade_name = id->trade_name,
                                .mersis = id->mersis,
                                .tradesman = id->tradesman,
                                .contact = id->contact};
}

int iz_sms_content(iz_store_t *st, const iz_brand_t *b, const char *text, size_t len,
                   bool commercial, unsigned flags, iz_content_t *out)
{
    iz_brand_ident_t id;
    memset(&id, 0, sizeof id);
    if (commercial) {
        int rc = iz_store_brand_ident_get(st, b->id, &id);
        if (rc != 0) {
            memset(out, 0, sizeof *out);
            return rc;
        }
    }
    iz_content_brand_t cb = iz_sms_content_brand(b, &id);
    return iz_content_build(&cb, text, len, commercial, flags, out);
}
