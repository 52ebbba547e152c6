/*
 * index.h - the send filter's in-memory index: for every (brand, type,
 * recipientType, recipient) key of the store's current state, its status
 * (ONAY or RET). A commercial message may go only where the index says ONAY.
 *
 * The index is a cache of consent_state. It is filled from the store at
 * start-up (iz_index_build) and kept current by iz_index_apply, which the
 * store's commit hook calls for every committed change of every origin (İYS
 * pulls included), in commit order, so the index never lags a committed
 * change and never holds an uncommitted one.
 *
 * Layout: one open-addressing table (linear probing, power-of-two capacity,
 * load factor at most 0.7, grown by rehash) per (brand, type, rtype). A slot
 * is one 64-bit word whose low 2 bits are the status (0 = empty slot):
 *   - a Turkish mobile or landline ("+90" + 10 digits) is stored as its
 *     number (iz_phone_pack), so 10M phones take a 2^24-slot table: about
 *     13 bytes a consent, empty slots included;
 *   - any other recipient (an e-mail address, a foreign number) is stored as
 *     29 bits of its keyed SipHash-2-4 plus a 32-bit reference to its full
 *     text in an append-only arena; a look-up whose hash bits match compares
 *     the text, so two different addresses never share a verdict.
 * Positions come from a random odd multiplier (phones) and a random SipHash
 * key (text) chosen per index, so nobody can aim keys at one probe chain.
 *
 * Threads: any number of threads may read (iz_index_get*, count, bytes)
 * while one writes (apply, build); writers are serialized by an internal
 * mutex. Readers take a read lock once per batch of up to 65536 keys, never
 * per key; a writer takes the write lock only to publish one slot (or to
 * swap in a grown table or a rebuilt index). Growing a table builds the new
 * one outside the write lock, so readers keep answering from the old one;
 * the writer (and so the commit it runs in) pays the rehash, once per
 * doubling, and memory holds both tables for that moment. The lock prefers
 * writers, so a steady stream of readers cannot starve the commit hook.
 *
 * Ownership: the index owns all its memory; recipient strings passed in are
 * copied when kept. Nothing returned points into the index.
 */
#ifndef IZ_INDEX_H
#define IZ_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "core/enums.h"
#include "store/store.h"

typedef struct iz_index iz_index_t;

/* An empty index with fresh random hash keys. Never NULL (out-of-memory
 * aborts, see core/iz.h). */
iz_index_t *iz_index_new(void);

/* Free the index; no reader or writer may still be using it. NULL is fine. */
void iz_index_free(iz_index_t *idx);

/* Replace the index's contents with the store's current state (every row of
 * iz_store_state_scan). The new contents are built aside and swapped in at
 * once, so readers see either the old or the new index, never a half-built
 * one. Changes that iz_index_apply receives while the build runs are applied
 * to the old contents and replayed onto the new ones before the swap, so a
 * build may run with the commit hook already installed. Memory peaks at
 * about twice the new index's size (the scanned keys are staged, then placed
 * into tables sized for them at once), plus the old contents. Prints nothing.
 * Returns 0, the scan's error (the old contents then stay), or IZ_EBUSY when
 * another build is running. Must not be called from the commit hook. */
int iz_index_build(iz_index_t *idx, iz_store_t *st);

/* Record a committed change: its status replaces the key's (or adds the
 * key). Returns 0, or IZ_EINVAL (and changes nothing) when the change has no
 * usable brand/type/rtype/status/recipient. Quick enough for the commit hook
 * except when it grows a table (a rehash, once per doubling). */
int iz_index_apply(iz_index_t *idx, const iz_change_t *chg);

/* iz_index_apply shaped as an iz_store_change_fn, to install directly:
 *     iz_store_subscribe(st, iz_index_on_change, idx);                    */
void iz_index_on_change(void *idx, const iz_change_t *chg);

/* The status of one normalized recipient (E.164 phone or lower-cased
 * e-mail, as core/recipient.h produces): IZ_ONAY, IZ_RET, or IZ_STATUS_NONE
 * when the key has no record. */
iz_status_t iz_index_get(iz_index_t *idx, int64_t brand_id, iz_type_t type, iz_rtype_t rtype,
                         const char *recipient);

/* The statuses of n normalized recipients into out[0..n) (iz_status_t
 * values), with the slot positions of each group of keys computed and
 * prefetched before any of them is probed. */
void iz_index_get_many(iz_index_t *idx, int64_t brand_id, iz_type_t type, iz_rtype_t rtype,
                       const char *const *recipients, size_t n, uint8_t *out);

/* The fastest path, for Turkish numbers already packed by iz_phone_pack():
 * statuses of keys[0..n) into out[0..n). A key of 0 (iz_phone_pack's "not a
 * Turkish number") or out of range answers IZ_STATUS_NONE; look such
 * recipients up by text instead. */
void iz_index_get_phones(iz_index_t *idx, int64_t brand_id, iz_type_t type, iz_rtype_t rtype,
                         const uint64_t *keys, size_t n, uint8_t *out);

/* Number of keys held, over all brands and types. */
size_t iz_index_count(iz_index_t *idx);

/* Bytes the index holds: tables with their empty slots, the text arena, and
 * the bookkeeping. */
size_t iz_index_bytes(iz_index_t *idx);

#endif
