/*
 * ratelimit.h - a keyed fixed-window counter with bounded memory: "at most
 * limit requests every window seconds for each key", where a key names who
 * is counted (a client's IP address, or a short text such as "otp:" and a
 * phone number).
 *
 * A key's window opens with its first request and lasts window seconds;
 * within it the first limit requests pass and the rest are refused with the
 * seconds left until it ends (a Retry-After). With window 1 this is "at most
 * limit a second", counted in whole seconds.
 *
 * Memory is fixed when the limiter is made: capacity slots of a few bytes,
 * never more, whatever the keys. A key is not stored, only its 64-bit
 * SipHash under a random key drawn at creation, so a key's length costs
 * nothing and nobody outside can choose keys that land in one part of the
 * table. The table is set-associative: a key lives in one set of
 * IZ_RATELIMIT_WAYS slots; a new key takes a free slot of its set, else one
 * whose window has ended, else the one seen longest ago (forgotten: its
 * count starts again). A flood of distinct keys can therefore make the
 * limiter forget a counted key, but never grow and never refuse a newcomer
 * because the table is full; choose capacity above the number of clients
 * expected within one window.
 *
 * Thread-safe: every call takes the limiter's mutex.
 */
#ifndef IZ_RATELIMIT_H
#define IZ_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define IZ_RATELIMIT_WAYS 8                  /* slots a key may use */
#define IZ_RATELIMIT_MAX_CAPACITY (1u << 24) /* slots of one limiter */

typedef struct iz_ratelimit iz_ratelimit_t;

/* A limiter of limit requests (>= 1) every window seconds (>= 1) for each
 * key, remembering at least capacity keys (1 .. IZ_RATELIMIT_MAX_CAPACITY;
 * rounded up to a power of two). Returns 0 with *out (free with
 * iz_ratelimit_free), IZ_EINVAL for a value out of range, or IZ_EIO when
 * the system has no randomness for the hash key. */
int iz_ratelimit_new(size_t capacity, int64_t limit, int64_t window, iz_ratelimit_t **out);

/* Free a limiter (NULL is fine). */
void iz_ratelimit_free(iz_ratelimit_t *rl);

/* Count one request of key (a NUL-terminated text) at now (epoch seconds).
 * Returns 0 when it may pass, or IZ_EBUSY when the key is over its limit,
 * with *retry_after (may be NULL) set to the seconds until its window
 * ends (at least 1). A refused request is not counted again. */
int iz_ratelimit_hit(iz_ratelimit_t *rl, const char *key, int64_t now, int64_t *retry_after);

/* Keys remembered now, and the slots there are for them (both for tests
 * and statistics; count never exceeds slots). */
size_t iz_ratelimit_count(iz_ratelimit_t *rl);
size_t iz_ratelimit_slots(const iz_ratelimit_t *rl);

#endif
