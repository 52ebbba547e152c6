/*
 * histo.h - a latency histogram in Prometheus's shape, cheap enough to
 * update on every request: one relaxed atomic add per bucket hit and one
 * for the sum, no lock. Readers take a snapshot that may be a request
 * behind on one counter (Prometheus tolerates that; the series only grow).
 *
 * The buckets suit izin's server: a send-filter check answers in well under
 * a millisecond, a recorded change waits for an fsync (milliseconds), a
 * large upload or a send of 100,000 recipients takes seconds.
 */
#ifndef IZ_HISTO_H
#define IZ_HISTO_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define IZ_HISTO_BOUNDS 14 /* finite upper bounds; +Inf is one more bucket */

/* The upper bounds in seconds, increasing: 0.0005 ... 10. */
extern const double iz_histo_bounds[IZ_HISTO_BOUNDS];

typedef struct iz_histo {
    _Atomic uint64_t bucket[IZ_HISTO_BOUNDS + 1]; /* observations per bucket, not cumulative */
    _Atomic uint64_t sum_ns;                      /* the observations' sum, nanoseconds */
} iz_histo_t;

/* A histogram's figures at one moment, cumulative as Prometheus shows them. */
typedef struct iz_histo_snap {
    uint64_t le[IZ_HISTO_BOUNDS + 1]; /* observations <= bound i; le[IZ_HISTO_BOUNDS]: +Inf */
    uint64_t count;
    double sum; /* seconds */
} iz_histo_snap_t;

/* Count one observation of ns nanoseconds (a zeroed iz_histo_t is empty). */
void iz_histo_observe(iz_histo_t *h, uint64_t ns);

void iz_histo_snapshot(iz_histo_t *h, iz_histo_snap_t *out);

/* Write the _bucket, _sum and _count lines of metric name with labels
 * (already escaped "k=\"v\"" pairs, comma-separated, may be "") in
 * Prometheus text format. */
void iz_histo_write(FILE *f, const char *name, const char *labels, const iz_histo_snap_t *s);

#endif
