/*
 * test_hash.c - iz_hash128 is MurmurHash3 x64_128: SMHasher's verification
 * value, and the properties a hash table leans on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/hash.h"

/* SMHasher's check: key i is the bytes 0..i-1 hashed with seed 256 - i;
 * the 256 hashes, hashed with seed 0, give the verification value in their
 * first four bytes (little-endian). */
static void test_reference(void **state)
{
    (void)state;
    uint8_t key[256], hashes[16 * 256];
    for (int i = 0; i < 256; i++) {
        key[i] = (uint8_t)i;
        uint64_t h[2];
        iz_hash128(key, (size_t)i, (uint32_t)(256 - i), h);
        for (int b = 0; b < 8; b++) {
            hashes[16 * i + b] = (uint8_t)(h[0] >> (8 * b));
            hashes[16 * i + 8 + b] = (uint8_t)(h[1] >> (8 * b));
        }
    }
    uint64_t fin[2];
    iz_hash128(hashes, sizeof hashes, 0, fin);
    assert_int_equal((uint32_t)fin[0], 0x6384BA69u);
}

static void test_properties(void **state)
{
    (void)state;
    uint64_t a[2], b[2];
    iz_hash128("", 0, 0, a);
    assert_int_equal(a[0], 0);
    assert_int_equal(a[1], 0);
    iz_hash128("+905321234567", 13, 0, a);
    iz_hash128("+905321234567", 13, 0, b);
    assert_memory_equal(a, b, sizeof a);
    iz_hash128("+905321234568", 13, 0, b);
    assert_memory_not_equal(a, b, sizeof a);
    iz_hash128("+905321234567", 13, 1, b);
    assert_memory_not_equal(a, b, sizeof a);
    /* unaligned input hashes as aligned input does */
    char buf[64];
    memcpy(buf + 3, "0123456789abcdefghijklmnopq", 27);
    iz_hash128(buf + 3, 27, 7, a);
    iz_hash128("0123456789abcdefghijklmnopq", 27, 7, b);
    assert_memory_equal(a, b, sizeof a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_properties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
