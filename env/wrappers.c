// env/wrappers.c: running statistics, normalisation and frame stacking kernels.
// Pure functions over arrays; every reduction runs in a fixed order so results do
// not depend on threading. Leaves out: float16, per-channel image statistics.
#include "env/wrappers.h"

#include <math.h>
#include <string.h>

void lc_rms_init(double *count, double *mean, double *var, int E) {
    *count = LC_RMS_EPS_COUNT;
    for (int j = 0; j < E; j++) {
        mean[j] = 0.0;
        var[j] = 1.0;
    }
}

static void merge(double *count, double *mean, double *var, double bmean, double bvar, double bcount,
                  int j) {
    double tot = *count + bcount;
    double delta = bmean - mean[j];
    double m2 = var[j] * *count + bvar * bcount + delta * delta * *count * bcount / tot;
    mean[j] += delta * bcount / tot;
    var[j] = m2 / tot;
}

void lc_rms_update(double *count, double *mean, double *var, int E, const float *x, int R,
                   size_t stride, const uint8_t *mask, double *tmp) {
    double *bmean = tmp, *bm2 = tmp + E;
    int n = 0;
    for (int j = 0; j < E; j++) bmean[j] = bm2[j] = 0.0;
    for (int r = 0; r < R; r++) {
        if (mask && !mask[r]) continue;
        const float *row = x + (size_t)r * stride;
        for (int j = 0; j < E; j++) bmean[j] += row[j];
        n++;
    }
    if (n == 0) return;
    for (int j = 0; j < E; j++) bmean[j] /= n;
    for (int r = 0; r < R; r++) {
        if (mask && !mask[r]) continue;
        const float *row = x + (size_t)r * stride;
        for (int j = 0; j < E; j++) {
            double d = row[j] - bmean[j];
            bm2[j] += d * d;
        }
    }
    for (int j = 0; j < E; j++) merge(count, mean, var, bmean[j], bm2[j] / n, n, j);
    *count += n;
}

void lc_rms_update_scalar(double *count, double *mean, double *var, const double *x, int R) {
    if (R <= 0) return;
    double m = 0.0, m2 = 0.0;
    for (int r = 0; r < R; r++) m += x[r];
    m /= R;
    for (int r = 0; r < R; r++) m2 += (x[r] - m) * (x[r] - m);
    merge(count, mean, var, m, m2 / R, R, 0);
    *count += R;
}

void lc_normalize(float *out, const float *x, const double *mean, const double *var, int E,
                  float clip) {
    for (int j = 0; j < E; j++) {
        double z = (x[j] - mean[j]) / sqrt(var[j] + LC_NORM_EPS);
        if (z > clip) z = clip;
        if (z < -clip) z = -clip;
        out[j] = (float)z;
    }
}

void lc_stack_push(void *row, const void *frame, int P, int C, int K, size_t es) {
    unsigned char *r = row;
    const unsigned char *f = frame;
    size_t slot = (size_t)C * es, group = slot * (size_t)K;
    for (int p = 0; p < P; p++) {
        unsigned char *g = r + (size_t)p * group;
        memmove(g, g + slot, group - slot);
        if (f) memcpy(g + group - slot, f + (size_t)p * slot, slot);
    }
}

void lc_stack_fill(void *row, const void *frame, int P, int C, int K, size_t es) {
    unsigned char *r = row;
    const unsigned char *f = frame;
    size_t slot = (size_t)C * es, group = slot * (size_t)K;
    for (int p = 0; p < P; p++)
        for (int k = 0; k < K; k++) memcpy(r + (size_t)p * group + (size_t)k * slot, f + (size_t)p * slot, slot);
}
