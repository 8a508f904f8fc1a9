// core/stats.c: run statistics for benchmarks: mean, median, fractional IQM, the
// stratified percentile bootstrap, learning-curve area, steps to threshold, profiles.
// Leaves out: BCa intervals, probability of improvement (see core/stats.h).
//
// n = values, G = groups (strata), K = resamples, P = curve points, M = thresholds.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/stats.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double lc_stats_mean(const double *x, size_t n) {
    if (n == 0) return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    return s / (double)n;
}

double lc_stats_std(const double *x, size_t n) {
    if (n < 2) return 0;
    double m = lc_stats_mean(x, n), v = 0;
    for (size_t i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m);
    return sqrt(v / (double)(n - 1));
}

double lc_stats_quantile_sorted(const double *sorted, size_t n, double q) {
    if (n == 0) return NAN;
    if (q <= 0) return sorted[0];
    if (q >= 1) return sorted[n - 1];
    double pos = q * (double)(n - 1);
    size_t i = (size_t)floor(pos);
    if (i + 1 >= n) return sorted[n - 1];
    double f = pos - (double)i;
    return sorted[i] + f * (sorted[i + 1] - sorted[i]);
}

// Value i covers [i, i + 1); the IQM is the mean height over [n/4, 3n/4).
double lc_stats_iqm_sorted(const double *sorted, size_t n) {
    if (n == 0) return NAN;
    double lo = (double)n / 4.0, hi = 3.0 * (double)n / 4.0, s = 0;
    for (size_t i = (size_t)floor(lo); i < n && (double)i < hi; i++) {
        double a = (double)i > lo ? (double)i : lo;
        double b = (double)(i + 1) < hi ? (double)(i + 1) : hi;
        if (b > a) s += (b - a) * sorted[i];
    }
    return s / (hi - lo);
}

static double *sorted_copy(const double *x, size_t n) {
    double *c = malloc((n ? n : 1) * sizeof(double));
    if (!c) return NULL;
    memcpy(c, x, n * sizeof(double));
    qsort(c, n, sizeof(double), cmp_double);
    return c;
}

double lc_stats_iqm(const double *x, size_t n) {
    if (n == 0) return NAN;
    double *c = sorted_copy(x, n);
    if (!c) return NAN;
    double r = lc_stats_iqm_sorted(c, n);
    free(c);
    return r;
}

double lc_stats_median(const double *x, size_t n) {
    if (n == 0) return NAN;
    double *c = sorted_copy(x, n);
    if (!c) return NAN;
    double r = lc_stats_quantile_sorted(c, n, 0.5);
    free(c);
    return r;
}

static double stat_mean(double *x, size_t n, void *ctx) {
    (void)ctx;
    return lc_stats_mean(x, n);
}

static double stat_median(double *x, size_t n, void *ctx) {
    (void)ctx;
    qsort(x, n, sizeof(double), cmp_double);
    return lc_stats_quantile_sorted(x, n, 0.5);
}

static double stat_iqm(double *x, size_t n, void *ctx) {
    (void)ctx;
    qsort(x, n, sizeof(double), cmp_double);
    return lc_stats_iqm_sorted(x, n);
}

double lc_stat_frac_above(double *x, size_t n, void *ctx) {
    double tau = *(const double *)ctx;
    if (n == 0) return 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += x[i] > tau;
    return (double)k / (double)n;
}

const char *lc_stat_name(lc_stat s) {
    switch (s) {
    case LC_STAT_MEAN: return "mean";
    case LC_STAT_MEDIAN: return "median";
    case LC_STAT_IQM: return "iqm";
    default: return "?";
    }
}

lc_stat_fn lc_stat_get(lc_stat s) {
    switch (s) {
    case LC_STAT_MEDIAN: return stat_median;
    case LC_STAT_IQM: return stat_iqm;
    default: return stat_mean;
    }
}

int lc_stats_bootstrap_fn(const double *x, const size_t *sizes, int G, lc_stat_fn stat,
                          void *ctx, int resamples, double conf, uint64_t seed, lc_ci *out,
                          lc_error *err) {
    out->point = out->lo = out->hi = NAN;
    size_t n = 0;
    for (int g = 0; g < G; g++) n += sizes[g];
    if (G < 1 || n == 0) return lc_fail(err, LC_ERR_ARG, "bootstrap: no values");
    if (resamples < 1)
        return lc_fail(err, LC_ERR_ARG, "bootstrap: resamples %d must be >= 1", resamples);
    if (!(conf > 0 && conf < 1))
        return lc_fail(err, LC_ERR_ARG, "bootstrap: confidence %g must be in (0, 1)", conf);
    for (int g = 0; g < G; g++)
        if (sizes[g] > UINT32_MAX) return lc_fail(err, LC_ERR_SIZE, "bootstrap: group too large");
    double *buf = malloc(n * sizeof(double));
    double *dist = malloc((size_t)resamples * sizeof(double));
    if (!buf || !dist) {
        free(buf), free(dist);
        return lc_fail(err, LC_ERR_NOMEM, "bootstrap: out of memory for %zu values", n);
    }
    memcpy(buf, x, n * sizeof(double));
    out->point = stat(buf, n, ctx);
    lc_rng rng;
    lc_rng_seed(&rng, seed, 0x626f6f74ULL); // "boot"
    for (int k = 0; k < resamples; k++) {
        size_t off = 0;
        for (int g = 0; g < G; g++) {
            const double *src = x + off;
            for (size_t i = 0; i < sizes[g]; i++)
                buf[off + i] = src[lc_rng_below(&rng, (uint32_t)sizes[g])];
            off += sizes[g];
        }
        dist[k] = stat(buf, n, ctx);
    }
    qsort(dist, (size_t)resamples, sizeof(double), cmp_double);
    out->lo = lc_stats_quantile_sorted(dist, (size_t)resamples, (1 - conf) / 2);
    out->hi = lc_stats_quantile_sorted(dist, (size_t)resamples, (1 + conf) / 2);
    free(buf);
    free(dist);
    return LC_OK;
}

int lc_stats_bootstrap(const double *x, const size_t *sizes, int G, lc_stat s, int resamples,
                       double conf, uint64_t seed, lc_ci *out, lc_error *err) {
    return lc_stats_bootstrap_fn(x, sizes, G, lc_stat_get(s), NULL, resamples, conf, seed, out,
                                 err);
}

double lc_stats_auc(const double *x, const double *y, size_t P) {
    double area = 0, x0 = NAN, px = NAN, py = NAN;
    for (size_t i = 0; i < P; i++) {
        if (!isfinite(y[i]) || !isfinite(x[i])) continue;
        if (isnan(x0)) x0 = x[i];
        else area += (x[i] - px) * (y[i] + py) / 2;
        px = x[i];
        py = y[i];
    }
    if (isnan(x0)) return NAN;
    if (px == x0) return py;
    return area / (px - x0);
}

double lc_stats_steps_to(const double *x, const double *y, size_t P, double threshold) {
    for (size_t i = 0; i < P; i++)
        if (isfinite(y[i]) && y[i] >= threshold) return x[i];
    return NAN;
}

void lc_stats_profile(const double *scores, size_t n, const double *taus, size_t M,
                      double *frac) {
    for (size_t m = 0; m < M; m++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) k += scores[i] > taus[m];
        frac[m] = n ? (double)k / (double)n : 0;
    }
}
