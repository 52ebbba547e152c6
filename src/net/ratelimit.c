/*
 * ratelimit.c - the keyed fixed-window counter of ratelimit.h: one array of
 * slots allocated at creation, grouped in sets of IZ_RATELIMIT_WAYS, and
 * one mutex.
 */
#include "net/ratelimit.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "sys/crypto.h"

typedef struct slot {
    uint64_t hash; /* SipHash of the key */
    int64_t start; /* when the key's window opened */
    int64_t last;  /* the key's latest request, for eviction */
    int64_t count; /* requests passed in the window */
    bool used;
} slot_t;

struct iz_ratelimit {
    pthread_mutex_t mu;
    int64_t limit, window;
    size_t nsets; /* a power of two */
    uint8_t key[crypto_shorthash_KEYBYTES];
    slot_t *slots; /* nsets * IZ_RATELIMIT_WAYS */
};

int iz_ratelimit_new(size_t capacity, int64_t limit, int64_t window, iz_ratelimit_t **out)
{
    if (capacity < 1 || capacity > IZ_RATELIMIT_MAX_CAPACITY || limit < 1 || window < 1)
        return IZ_EINVAL;
    size_t nsets = 1;
    while (nsets * IZ_RATELIMIT_WAYS < capacity)
        nsets *= 2;
    /* libsodium picks its implementations once; safe to call again. */
    if (sodium_init() < 0) return IZ_EIO;
    iz_ratelimit_t *rl = iz_xcalloc(1, sizeof *rl);
    if (iz_random(rl->key, sizeof rl->key) != 0) {
        free(rl);
        return IZ_EIO;
    }
    rl->limit = limit;
    rl->window = window;
    rl->nsets = nsets;
    rl->slots = iz_xcalloc(nsets * IZ_RATELIMIT_WAYS, sizeof *rl->slots);
    pthread_mutex_init(&rl->mu, NULL);
    *out = rl;
    return 0;
}

void iz_ratelimit_free(iz_ratelimit_t *rl)
{
    if (!rl) return;
    pthread_mutex_destroy(&rl->mu);
    iz_wipe(rl->key, sizeof rl->key);
    free(rl->slots);
    free(rl);
}

/* The slot of hash h in its set: its own, else a free one, else one whose
 * window has ended, else the one seen longest ago. Called with rl->mu
 * held; a slot that is not h's own comes back unused. */
static slot_t *slot_for(iz_ratelimit_t *rl, uint64_t h, int64_t now)
{
    slot_t *set = rl->slots + (size_t)(h & (rl->nsets - 1)) * IZ_RATELIMIT_WAYS;
    slot_t *free_slot = NULL, *ended = NULL, *oldest = NULL;
    for (size_t i = 0; i < IZ_RATELIMIT_WAYS; i++) {
        slot_t *s = &set[i];
        if (!s->used) {
            if (!free_slot) free_slot = s;
            continue;
        }
        if (s->hash == h) return s;
        if (!ended && now - s->start >= rl->window) ended = s;
        if (!oldest || s->last < oldest->last) oldest = s;
    }
    slot_t *s = free_slot ? free_slot : ended ? ended : oldest;
    memset(s, 0, sizeof *s);
    return s;
}

int iz_ratelimit_hit(iz_ratelimit_t *rl, const char *key, int64_t now, int64_t *retry_after)
{
    uint8_t hb[crypto_shorthash_BYTES];
    crypto_shorthash(hb, (const unsigned char *)key, strlen(key), rl->key);
    uint64_t h;
    memcpy(&h, hb, sizeof h);
    int rc = 0;
    pthread_mutex_lock(&rl->mu);
    slot_t *s = slot_for(rl, h, now);
    /* A window that has ended, or one that opens in the future because the
     * clock went back, starts again now. */
    if (!s->used || now - s->start >= rl->window || now < s->start) {
        s->used = true;
        s->hash = h;
        s->start = now;
        s->count = 0;
    }
    s->last = now;
    if (s->count >= rl->limit) {
        rc = IZ_EBUSY;
        if (retry_after) *retry_after = s->start + rl->window - now;
    } else {
        s->count++;
    }
    pthread_mutex_unlock(&rl->mu);
    return rc;
}

size_t iz_ratelimit_count(iz_ratelimit_t *rl)
{
    size_t n = 0, all = rl->nsets * IZ_RATELIMIT_WAYS;
    pthread_mutex_lock(&rl->mu);
    for (size_t i = 0; i < all; i++)
        n += rl->slots[i].used;
    pthread_mutex_unlock(&rl->mu);
    return n;
}

size_t iz_ratelimit_slots(const iz_ratelimit_t *rl)
{
    return rl->nsets * IZ_RATELIMIT_WAYS;
}
