// core/stats.h: statistics for comparing RL runs (Agarwal et al. 2021, "Deep RL at
// the edge of the statistical precipice", the rliable library): mean, median, IQM,
// stratified percentile bootstrap confidence intervals, learning-curve area, steps to
// a threshold and performance profiles. Leaves out: BCa intervals, probability of
// improvement, optimality gap, task-bootstrap (resampling the tasks themselves).
//
// Letters: n = values (runs), G = groups (tasks / envs: strata), K = resamples,
// P = points of a learning curve, M = thresholds (taus) of a profile.
//
// IQM is the interquartile mean with FRACTIONAL weighting: the sorted values are laid
// end to end, value i covering [i, i + 1), and the IQM is the mean height over
// [n/4, 3n/4). For n divisible by 4 this is the mean of the middle n/2 values
// (IQM {1..8} = mean {3,4,5,6} = 4.5), as rliable (scipy.stats.trim_mean(x, 0.25));
// otherwise the two boundary values count in part (IQM {1,2,3,4,5} = (0.75*2 + 3 +
// 0.75*4) / 2.5 = 3), where trim_mean would drop floor(n/4) values from each end.
//
// Non-finite values are the caller's to remove: these functions assume finite input.
#ifndef LC_CORE_STATS_H
#define LC_CORE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define LC_STATS_RESAMPLES 2000 // default bootstrap resamples (K)

// Summaries of n values (NAN when n == 0). The const versions copy; none allocate
// except median and iqm (a sorted copy; NAN if that allocation fails).
double lc_stats_mean(const double *x, size_t n);
double lc_stats_median(const double *x, size_t n);
double lc_stats_iqm(const double *x, size_t n);
// The IQM of already sorted values (ascending).
double lc_stats_iqm_sorted(const double *sorted, size_t n);
// The q-quantile (0 <= q <= 1) of sorted values with linear interpolation between
// order statistics (numpy.percentile's default): position q (n - 1).
double lc_stats_quantile_sorted(const double *sorted, size_t n, double q);
// Sample standard deviation (n - 1 in the denominator; 0 when n < 2).
double lc_stats_std(const double *x, size_t n);

// A statistic over n values that may REORDER x (sorting in place), ctx is free use.
typedef double (*lc_stat_fn)(double *x, size_t n, void *ctx);

typedef enum lc_stat { LC_STAT_MEAN = 0, LC_STAT_MEDIAN, LC_STAT_IQM, LC_STAT_COUNT } lc_stat;
const char *lc_stat_name(lc_stat s); // "mean", "median", "iqm"
// The lc_stat_fn for a named statistic (ctx unused).
lc_stat_fn lc_stat_get(lc_stat s);

typedef struct lc_ci {
    double point;  // the statistic on all the data
    double lo, hi; // the percentile interval of the bootstrap distribution
} lc_ci;

// Stratified percentile bootstrap (rliable's StratifiedBootstrap): x holds G groups
// back to back, group g being sizes[g] values (runs of one task). Each of K resamples
// draws sizes[g] values with replacement within every group, pools them and applies
// stat; the interval is the (1 - conf)/2 and (1 + conf)/2 quantiles of the K values.
// G = 1 is the plain bootstrap. The same seed gives the same interval. Constant data
// gives lo = hi = point. LC_ERR_ARG: no values, K < 1, conf outside (0, 1);
// LC_ERR_NOMEM.
int lc_stats_bootstrap_fn(const double *x, const size_t *sizes, int G, lc_stat_fn stat,
                          void *ctx, int resamples, double conf, uint64_t seed, lc_ci *out,
                          lc_error *err);
int lc_stats_bootstrap(const double *x, const size_t *sizes, int G, lc_stat s, int resamples,
                       double conf, uint64_t seed, lc_ci *out, lc_error *err);

// ---- learning curves: P points (x ascending, e.g. env steps; y returns)

// Area under the curve by the trapezoidal rule over the points with finite y, divided
// by the x span of those points: the curve's mean height, in return units, so runs of
// different lengths compare. One finite point gives its y; none gives NAN.
double lc_stats_auc(const double *x, const double *y, size_t P);
// The first x whose y >= threshold (no interpolation); NAN when no point reaches it.
double lc_stats_steps_to(const double *x, const double *y, size_t P, double threshold);

// ---- performance profiles

// frac[m] = (number of the n scores > taus[m]) / n, for M thresholds (0 when n == 0).
void lc_stats_profile(const double *scores, size_t n, const double *taus, size_t M,
                      double *frac);
// The lc_stat_fn form of one point of a profile: ctx points to the double tau.
double lc_stat_frac_above(double *x, size_t n, void *ctx);

#endif
