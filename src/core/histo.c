/*
 * histo.c - see histo.h.
 */
#include "core/histo.h"

const double iz_histo_bounds[IZ_HISTO_BOUNDS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};

/* The bounds in nanoseconds, for a comparison without floating point. */
static const uint64_t bounds_ns[IZ_HISTO_BOUNDS] = {
    500000ull,     1000000ull,    2500000ull,    5000000ull,    10000000ull,
    25000000ull,   50000000ull,   100000000ull,  250000000ull,  500000000ull,
    1000000000ull, 2500000000ull, 5000000000ull, 10000000000ull};

void iz_histo_observe(iz_histo_t *h, uint64_t ns)
{
    size_t i = 0;
    while (i < IZ_HISTO_BOUNDS && ns > bounds_ns[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

void iz_histo_snapshot(iz_histo_t *h, iz_histo_snap_t *out)
{
    uint64_t run = 0;
    for (size_t i = 0; i <= IZ_HISTO_BOUNDS; i++) {
        run += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        out->le[i] = run;
    }
    out->count = run;
    out->sum = (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9;
}

void iz_histo_write(FILE *f, const char *name, const char *labels, const iz_histo_snap_t *s)
{
    const char *sep = labels[0] ? "," : "";
    for (size_t i = 0; i < IZ_HISTO_BOUNDS; i++)
        fprintf(f, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, iz_histo_bounds[i],
                (unsigned long long)s->le[i]);
    fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
            (unsigned long long)s->le[IZ_HISTO_BOUNDS]);
    if (labels[0]) {
        fprintf(f, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, labels, s->sum, name, labels,
                (unsigned long long)s->count);
    } else {
        fprintf(f, "%s_sum %.6f\n%s_count %llu\n", name, s->sum, name,
                (unsigned long long)s->count);
    }
}
