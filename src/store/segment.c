/*
 * segment.c - log segments' entries and hash (see segment.h).
 */
#include "store/segment.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/iz.h"

/* Format 1 stores these enums' values: a renumbering must map them. */
_Static_assert(IZ_BIREYSEL == 1 && IZ_TACIR == 2, "segment format 1: rtype");
_Static_assert(IZ_ARAMA == 1 && IZ_MESAJ == 2 && IZ_EPOSTA == 3, "segment format 1: type");
_Static_assert(IZ_ONAY == 1 && IZ_RET == 2, "segment format 1: status");
_Static_assert(IZ_HS_FIZIKSEL_ORTAM == 1 && IZ_HS_KARAR == 13 && IZ_IYS_FRAME_SMS == 22,
               "segment format 1: source");

#define HEAD 17 /* the fixed part of an entry */

static int evidence_of(const char *job_id, int64_t line, char *out, size_t n)
{
    return snprintf(out, n, "{\"job\":\"%s\",\"line\":%" PRId64 "}", job_id, line);
}

size_t iz_seg_prefix(const char *job_id, char out[IZ_SEG_PREFIX_MAX])
{
    int k = snprintf(out, IZ_SEG_PREFIX_MAX, "{\"job\":\"%s\",\"line\":", job_id);
    return k > 0 && k < IZ_SEG_PREFIX_MAX ? (size_t)k : 0;
}

bool iz_seg_fits(const iz_change_t *chg, const char *prefix, size_t plen, int64_t line)
{
    /* A change with retailer fields is never an entry: the format has no
     * room for them, and such rows are few; they take the ordinary path. */
    if (plen == 0 || line < 1 || line > UINT32_MAX || strlen(chg->recipient) > 255 ||
        iz_retail_any(&chg->retail))
        return false;
    const char *e = chg->evidence;
    if (memcmp(e, prefix, plen) != 0) return false;
    e += plen;
    char d[24];
    int k = 0;
    for (uint64_t v = (uint64_t)line; v; v /= 10)
        d[k++] = (char)('0' + v % 10);
    while (k > 0)
        if (*e++ != d[--k]) return false;
    return e[0] == '}' && e[1] == '\0';
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

size_t iz_seg_encode(const iz_change_t *chg, int64_t line, uint8_t *buf)
{
    size_t rl = strlen(chg->recipient);
    buf[0] = (uint8_t)chg->rtype;
    buf[1] = (uint8_t)chg->type;
    buf[2] = (uint8_t)chg->status;
    buf[3] = (uint8_t)chg->source;
    put64(buf + 4, (uint64_t)chg->consent_date);
    uint32_t l = (uint32_t)line;
    buf[12] = (uint8_t)l;
    buf[13] = (uint8_t)(l >> 8);
    buf[14] = (uint8_t)(l >> 16);
    buf[15] = (uint8_t)(l >> 24);
    buf[16] = (uint8_t)rl;
    memcpy(buf + HEAD, chg->recipient, rl);
    return HEAD + rl;
}

int iz_seg_open(iz_seg_t *seg, const iz_seg_meta_t *meta, const uint8_t *data, size_t len)
{
    seg->m = *meta;
    seg->data = data;
    seg->len = len;
    if (meta->count < 1 || meta->count > IZ_SEG_MAX) return IZ_EIO;
    size_t p = 0;
    for (int64_t i = 0; i < meta->count; i++) {
        if (p + HEAD > len || p + HEAD + data[p + 16] > len) return IZ_EIO;
        const uint8_t *e = data + p;
        if (e[0] < IZ_BIREYSEL || e[0] > IZ_TACIR || e[1] < IZ_ARAMA || e[1] > IZ_EPOSTA ||
            e[2] < IZ_ONAY || e[2] > IZ_RET || e[3] >= IZ_SOURCE_COUNT_ || e[16] == 0)
            return IZ_EIO;
        seg->off[i] = (uint32_t)p;
        p += HEAD + e[16];
    }
    return p == len ? 0 : IZ_EIO;
}

void iz_seg_entry(const iz_seg_t *seg, size_t i, iz_change_t *out)
{
    const uint8_t *e = seg->data + seg->off[i];
    memset(out, 0, sizeof *out);
    out->id = seg->m.first_id + (int64_t)i;
    out->brand_id = seg->m.brand_id;
    memcpy(out->recipient, e + HEAD, e[16]);
    out->rtype = (iz_rtype_t)e[0];
    out->type = (iz_type_t)e[1];
    out->status = (iz_status_t)e[2];
    out->source = (iz_source_t)e[3];
    out->consent_date = (int64_t)get64(e + 4);
    out->creation_ms = seg->m.creation_ms;
    out->origin = seg->m.origin;
    out->iys_state = seg->m.iys_state;
    int64_t line = (int64_t)((uint32_t)e[12] | (uint32_t)e[13] << 8 | (uint32_t)e[14] << 16 |
                             (uint32_t)e[15] << 24);
    evidence_of(seg->m.job_id, line, out->evidence, sizeof out->evidence);
}

void iz_seg_hash(const char *prev_hex, const iz_seg_meta_t *m, const uint8_t *data, size_t len,
                 char out[IZ_SHA256_HEX])
{
    char num[4][24], dh[IZ_SHA256_HEX];
    snprintf(num[0], sizeof num[0], "%" PRId64, m->first_id);
    snprintf(num[1], sizeof num[1], "%" PRId64, m->count);
    snprintf(num[2], sizeof num[2], "%" PRId64, m->brand_id);
    snprintf(num[3], sizeof num[3], "%" PRId64, m->creation_ms);
    iz_sha256_hex(data, len, dh);
    const char *f[] = {prev_hex, "segment/1", num[0], num[1], num[2], num[3],
                       iz_origin_name(m->origin), m->job_id, dh};
    iz_sha256_join_hex(f, IZ_ARRAY_LEN(f), out);
}
