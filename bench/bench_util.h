// bench/bench_util.h: what every benchmark shares (header-only): a monotonic clock and
// the figure it prints, the median over repeats with their min and max (core/stats.h's
// median), as a time or as a rate, and one format for it. Leaves out: the timing loops
// themselves (each bench sizes and alternates its own blocks), warm-up policy.
//
// A repeat is one timed block (many calls or steps); a shared machine slows some
// blocks down, so the median says what a run sustains and min..max how noisy it was.
// The best block alone flatters (it is what this header replaced).
#ifndef LC_BENCH_UTIL_H
#define LC_BENCH_UTIL_H

#include <stdio.h>
#include <time.h>

#include "core/stats.h"

static inline double bench_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// The median of n repeats with the smallest and the largest.
typedef struct bench_stat {
    double med, min, max;
    int n;
} bench_stat;

static inline bench_stat bench_stat_of(const double *v, int n) {
    bench_stat s = {0, 0, 0, n};
    if (n < 1) return s;
    s.med = lc_stats_median(v, (size_t)n);
    s.min = s.max = v[0];
    for (int i = 1; i < n; i++) {
        if (v[i] < s.min) s.min = v[i];
        if (v[i] > s.max) s.max = v[i];
    }
    return s;
}

// work / t for a stat of seconds (the median of rates is the rate of the median time
// for an odd n; min and max swap).
static inline bench_stat bench_rate(bench_stat t, double work) {
    bench_stat r = {work / t.med, work / t.max, work / t.min, t.n};
    return r;
}

// s * scale as "MED [MIN-MAX]" with prec decimals, into buf; returns buf.
static inline const char *bench_fmt(char *buf, size_t cap, bench_stat s, double scale, int prec) {
    snprintf(buf, cap, "%.*f [%.*f-%.*f]", prec, s.med * scale, prec, s.min * scale, prec,
             s.max * scale);
    return buf;
}

#endif
