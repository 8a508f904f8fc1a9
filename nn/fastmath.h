// nn/fastmath.h: internal to nn/: branch-free exp, tanh and sigmoid in float
// that gcc vectorises (Cephes polynomials, within ~2 ulp of libm), plus a block loop helper.
// Leaves out: denormal results (exp clamps its argument to [-87, 88]), NaN payloads.
#ifndef LC_NN_FASTMATH_H
#define LC_NN_FASTMATH_H

#include <stdint.h>
#include <string.h>

// Loops over n values run in blocks of LC_VB with a constant trip count, which gcc
// -O2 (very cheap cost model) vectorises, then a scalar tail doing the same maths.
#define LC_VB 16

static inline float lcx_bits_to_float(int32_t i) {
    float f;
    memcpy(&f, &i, sizeof f);
    return f;
}

static inline int32_t lcx_float_to_bits(float f) {
    int32_t i;
    memcpy(&i, &f, sizeof i);
    return i;
}

// exp(x) for x in [-87, 88] (clamped outside); Cephes expf, <= 2 ulp.
static inline float lcx_exp(float x) {
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    // Round x log2(e) to the nearest integer with the 1.5 * 2^23 trick (no libm call).
    const float magic = 12582912.0f;
    float t = x * 1.44269504088896341f + magic;
    int32_t n = lcx_float_to_bits(t) - lcx_float_to_bits(magic);
    float fn = t - magic;
    float r = x - fn * 0.693359375f; // ln 2 in two parts: the product is exact
    r = r - fn * -2.12194440e-4f;
    float z = r * r;
    float y = 1.9875691500E-4f;
    y = y * r + 1.3981999507E-3f;
    y = y * r + 8.3334519073E-3f;
    y = y * r + 4.1665795894E-2f;
    y = y * r + 1.6666665459E-1f;
    y = y * r + 5.0000001201E-1f;
    y = y * z + r + 1.0f;
    return y * lcx_bits_to_float((n + 127) << 23);
}

// tanh(x): an odd polynomial for |x| < 0.625 (Cephes tanhf), else (1 - e)/(1 + e)
// with e = exp(-2|x|), so neither branch cancels; both are computed and one selected.
static inline float lcx_tanh(float x) {
    float ax = x < 0.0f ? -x : x;
    float z = x * x;
    float p = -5.70498872745E-3f;
    p = p * z + 2.06390887954E-2f;
    p = p * z - 5.37397155531E-2f;
    p = p * z + 1.33314422036E-1f;
    p = p * z - 3.33332819422E-1f;
    float small = p * z * x + x;
    float e = lcx_exp(-2.0f * (ax > 9.0f ? 9.0f : ax));
    float big = (1.0f - e) / (1.0f + e);
    big = x < 0.0f ? -big : big;
    return ax < 0.625f ? small : big;
}

// 1 / (1 + exp(-x)), accurate in both tails (exp of a non-positive argument only).
static inline float lcx_sigmoid(float x) {
    float ax = x < 0.0f ? -x : x;
    float e = lcx_exp(-ax); // in (0, 1]
    float s = 1.0f / (1.0f + e);
    return x < 0.0f ? e * s : s;
}

#endif
