/*
 * index_int.h - the index's internals that its unit tests reach; not for
 * other layers.
 */
#ifndef IZ_INDEX_INT_H
#define IZ_INDEX_INT_H

#include <stddef.h>
#include <stdint.h>

#include "index/index.h"

/* SipHash-2-4 of len bytes under a 16-byte key (the reference algorithm, so
 * its published test vectors apply). */
uint64_t iz__index_siphash(const uint8_t key[16], const void *data, size_t len);

/* Mask every text hash of idx with mask before use. A mask of 0 makes all
 * e-mails and foreign numbers hash alike, so the tests can prove that the
 * full-text comparison, not the hash, decides. Call it on an empty index. */
void iz__index_test_hash_mask(iz_index_t *idx, uint64_t mask);

#endif
