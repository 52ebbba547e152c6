/*
 * hash.h - a fast non-cryptographic 128-bit hash (MurmurHash3 x64_128,
 * Austin Appleby's public-domain design, written here from its
 * description): for hash tables whose keys nobody chooses to collide, such
 * as the addresses a bulk job looks for twice in its file. Not for anything
 * an attacker may aim at (use BLAKE2b there: sys/crypto.h).
 *
 * Pure: no I/O, no allocation, no global state. The result is the same on
 * every machine (the input is read as little-endian words).
 */
#ifndef IZ_HASH_H
#define IZ_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The 128-bit hash of len bytes at data under seed, as two 64-bit words
 * (out[0] is MurmurHash3's h1, out[1] its h2). */
void iz_hash128(const void *data, size_t len, uint32_t seed, uint64_t out[2]);

/* MurmurHash3's 64-bit finalizer: every bit of x moves every bit of the
 * result (a bijection), to spread small integer keys over a table. */
static inline uint64_t iz_hash_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

#endif
