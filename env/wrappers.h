// env/wrappers.h: the array kernels behind lc_env_opts' wrappers: running
// mean/variance (Gymnasium's RunningMeanStd), observation normalisation, frame stacks.
// Leaves out: the vector bookkeeping that decides when to call them (env/env.c).
//
// Letters: R = rows in a batch, E = elements per row, P = positions per frame (E / C),
// C = channels (the frame's last axis), K = frames in a stack.
#ifndef LC_ENV_WRAPPERS_H
#define LC_ENV_WRAPPERS_H

#include <stddef.h>
#include <stdint.h>

#define LC_RMS_EPS_COUNT 1e-4 // RunningMeanStd(epsilon=1e-4): the prior count
#define LC_NORM_EPS 1e-8      // added to the variance before the square root

// Running statistics of E elements: *count, mean (E), var (E). Starts at count 1e-4,
// mean 0, var 1 as Gymnasium does.
void lc_rms_init(double *count, double *mean, double *var, int E);
// Merges the batch of rows r of x (R, stride floats, first E used) where mask is NULL or
// mask[r] != 0, with Chan et al.'s parallel formula (batch moments in two passes, in
// row order, so the result does not depend on how the rows were produced).
// tmp: (2 * E) doubles of scratch.
void lc_rms_update(double *count, double *mean, double *var, int E, const float *x, int R,
                   size_t stride, const uint8_t *mask, double *tmp);
// The same for one scalar statistic over R doubles.
void lc_rms_update_scalar(double *count, double *mean, double *var, const double *x, int R);

// out[j] = clip((x[j] - mean[j]) / sqrt(var[j] + 1e-8), -clip, clip), j in [0, E).
void lc_normalize(float *out, const float *x, const double *mean, const double *var, int E,
                  float clip);

// A stacked row holds K frames interleaved on the last axis: (P, K * C) elements of
// es bytes, oldest frame first. push drops the oldest frame and appends frame (P, C);
// fill sets every slot to frame. frame may be NULL for push: then only the shift.
void lc_stack_push(void *row, const void *frame, int P, int C, int K, size_t es);
void lc_stack_fill(void *row, const void *frame, int P, int C, int K, size_t es);

#endif
