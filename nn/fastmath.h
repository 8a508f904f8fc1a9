// nn/fastmath.h: internal to nn/: branch-free exp, sigmoid (Cephes, ~2 ulp) and
// tanh (Eigen's rational fit, |error| < 3e-7) in float that gcc vectorises.
// Leaves out: denormal results (exp clamps its argument to [-87, 88]), NaN payloads.
#ifndef LC_NN_FASTMATH_H
#define LC_NN_FASTMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

// Loops over n values run in blocks of LC_VB with a constant trip count, which gcc
// -O2 (very cheap cost model) vectorises, then a scalar tail doing the same maths.
#define LC_VB 16

// a * b + c, fused where the CPU has FMA (an explicit fmaf, never a silent contraction).
#ifdef __FMA__
#define LCX_MA(a, b, c) fmaf((a), (b), (c))
#else
#define LCX_MA(a, b, c) ((a) * (b) + (c))
#endif

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
    float t = LCX_MA(x, 1.44269504088896341f, magic);
    int32_t n = lcx_float_to_bits(t) - lcx_float_to_bits(magic);
    float fn = t - magic;
    float r = LCX_MA(fn, -0.693359375f, x); // ln 2 in two parts: fn * hi is exact
    r = LCX_MA(fn, 2.12194440e-4f, r);
    float y = 1.9875691500E-4f;
    y = LCX_MA(y, r, 1.3981999507E-3f);
    y = LCX_MA(y, r, 8.3334519073E-3f);
    y = LCX_MA(y, r, 4.1665795894E-2f);
    y = LCX_MA(y, r, 1.6666665459E-1f);
    y = LCX_MA(y, r, 5.0000001201E-1f);
    y = LCX_MA(y, r * r, r + 1.0f);
    return y * lcx_bits_to_float((n + 127) << 23);
}

// tanh(x) as Eigen's generic_fast_tanh_float (also onnxruntime's MLAS): an odd
// degree-13 over even degree-6 rational on [-7.9053, 7.9053], x itself for |x| < 4e-4.
// Within 3e-7 absolute of tanh, and about 3x faster than an exp-based form.
static inline float lcx_tanh(float a) {
    const float clamp = 7.90531110763549805f;
    float x = a > clamp ? clamp : a;
    x = x < -clamp ? -clamp : x;
    float x2 = x * x;
    float p = LCX_MA(x2, -2.76076847742355e-16f, 2.00018790482477e-13f);
    p = LCX_MA(x2, p, -8.60467152213735e-11f);
    p = LCX_MA(x2, p, 5.12229709037114e-08f);
    p = LCX_MA(x2, p, 1.48572235717979e-05f);
    p = LCX_MA(x2, p, 6.37261928875436e-04f);
    p = LCX_MA(x2, p, 4.89352455891786e-03f);
    p = x * p;
    float q = LCX_MA(x2, 1.19825839466702e-06f, 1.18534705686654e-04f);
    q = LCX_MA(x2, q, 2.26843463243900e-03f);
    q = LCX_MA(x2, q, 4.89352518554385e-03f);
    float ax = a < 0.0f ? -a : a;
    return ax < 0.0004f ? a : p / q;
}

// 1 / (1 + exp(-x)), accurate in both tails (exp of a non-positive argument only).
static inline float lcx_sigmoid(float x) {
    float ax = x < 0.0f ? -x : x;
    float e = lcx_exp(-ax); // in (0, 1]
    float s = 1.0f / (1.0f + e);
    return x < 0.0f ? e * s : s;
}

#endif
