/*
 * hash.c - MurmurHash3 x64_128 (see hash.h): 16-byte blocks mixed into two
 * 64-bit lanes, the tail, then a final avalanche of both lanes. Its output
 * matches the reference (SMHasher's verification value 0x6384BA69, which
 * the unit test checks).
 */
#include "core/hash.h"

#include <string.h>

static uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

/* A little-endian 64-bit word at p (any alignment). */
static uint64_t word64(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
#else
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
#endif
}

void iz_hash128(const void *data, size_t len, uint32_t seed, uint64_t out[2])
{
    static const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    const uint8_t *p = data;
    uint64_t h1 = seed, h2 = seed, k1, k2;
    size_t nblocks = len / 16;

    for (size_t i = 0; i < nblocks; i++, p += 16) {
        k1 = word64(p);
        k2 = word64(p + 8);
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl64(h1, 27);
        h1 += h2;
        h1 = h1 * 5 + 0x52dce729;
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
        h2 = rotl64(h2, 31);
        h2 += h1;
        h2 = h2 * 5 + 0x38495ab5;
    }

    /* The tail: up to 15 bytes, the first 8 into k1, the rest into k2. */
    k1 = 0;
    k2 = 0;
    size_t tail = len & 15;
    for (size_t i = tail; i > 8; i--)
        k2 ^= (uint64_t)p[i - 1] << (8 * (i - 9));
    if (tail > 8) {
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
    }
    for (size_t i = tail < 8 ? tail : 8; i > 0; i--)
        k1 ^= (uint64_t)p[i - 1] << (8 * (i - 1));
    if (tail > 0) {
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
    }

    h1 ^= (uint64_t)len;
    h2 ^= (uint64_t)len;
    h1 += h2;
    h2 += h1;
    h1 = iz_hash_mix64(h1);
    h2 = iz_hash_mix64(h2);
    h1 += h2;
    h2 += h1;
    out[0] = h1;
    out[1] = h2;
}
