/*
 * segment.h - log segments: a bulk load's new keys, kept compactly.
 *
 * A bulk job's batch mostly brings keys the store has never seen. Writing
 * each as a log row with its indexes, a state row and an outbox row costs
 * about ten b-tree insertions a change; a segment holds up to
 * IZ_SEG_MAX of those changes in one row of log_segments (their ids a
 * run of the log's own sequence), so a new key costs its state row only.
 * The entries' İYS queue rows are made when the sync takes the segment
 * (store_sqlite.c). The encoding is format 1:
 *
 *   entry := rtype u8 | type u8 | status u8 | source u8 | consent_date i64 LE
 *            | line u32 LE | recipient length u8 | recipient bytes
 *
 * rtype, type, status and source are the enum values of core/enums.h,
 * pinned by static asserts in segment.c (a renumbering must map them). The
 * entry's evidence is {"job":"<job_id>","line":<line>}, its creation time,
 * origin and brand the segment's.
 *
 * A segment's hash chains it like a log row: SHA-256 over the previous
 * link's hash, its first id, count, brand, creation_ms, origin, job and the
 * SHA-256 of its data (iz_seg_hash).
 */
#ifndef IZ_STORE_SEGMENT_H
#define IZ_STORE_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "sys/crypto.h"

#define IZ_SEG_MAX 1000        /* entries of one segment: one İYS bulk request */
#define IZ_SEG_ENTRY_MAX (17 + 255)

/* What a segment row holds besides its data. */
typedef struct iz_seg_meta {
    int64_t first_id;
    int64_t count;
    int64_t brand_id;
    int64_t creation_ms;
    iz_origin_t origin;
    char job_id[72];
    iz_iys_state_t iys_state; /* every entry's, before İYS answers */
} iz_seg_meta_t;

/* The evidence's text before the line: {"job":"<job_id>","line": - its
 * length, or 0 when job_id is too long. */
#define IZ_SEG_PREFIX_MAX 128
size_t iz_seg_prefix(const char *job_id, char out[IZ_SEG_PREFIX_MAX]);

/* Whether chg can be an entry (recipient fits, line fits, the evidence is
 * exactly the one the entry gives back: prefix, line, "}"; no retailer
 * fields: a change with them is written as a log row). */
bool iz_seg_fits(const iz_change_t *chg, const char *prefix, size_t plen, int64_t line);

/* Append chg's entry to buf (at least IZ_SEG_ENTRY_MAX bytes free);
 * returns its length. */
size_t iz_seg_encode(const iz_change_t *chg, int64_t line, uint8_t *buf);

/* A decoded segment: the entries' offsets. */
typedef struct iz_seg {
    iz_seg_meta_t m;
    const uint8_t *data;
    size_t len;
    uint32_t off[IZ_SEG_MAX];
} iz_seg_t;

/* Index data (borrowed; must outlive seg) under meta. Returns 0, or
 * IZ_EIO when the data does not hold meta.count well-formed entries. */
int iz_seg_open(iz_seg_t *seg, const iz_seg_meta_t *meta, const uint8_t *data, size_t len);

/* Entry i (0 <= i < count) as a change: fields, id, brand, creation,
 * origin, evidence and the segment's iys_state; nothing of İYS's answer. */
void iz_seg_entry(const iz_seg_t *seg, size_t i, iz_change_t *out);

/* The segment's link of the hash chain, as hex. */
void iz_seg_hash(const char *prev_hex, const iz_seg_meta_t *m, const uint8_t *data, size_t len,
                 char out[IZ_SHA256_HEX]);

#endif
