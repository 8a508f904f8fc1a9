// nn/optim.c: Adam / AdamW over a whole parameter arena in one flat loop
// (PyTorch semantics, bias correction), gradient norms, clipping, lr schedules.
// Leaves out: SGD with momentum, per-tensor hyper-parameters, fused multi-arena steps.
//
// n = values in the arena (or in the array given).
#include <assert.h>
#include <math.h>
#if defined(__AVX__)
#include <immintrin.h>
#endif
#include <string.h>

#include "nn/fastmath.h"
#include "nn/nn.h"

lc_adam lc_adam_default(float lr) {
    lc_adam a = {lr, 0.9f, 0.999f, 1e-8f, 0.0f};
    return a;
}

// sqrt of a block of LC_VB values >= 0. libm's sqrtf keeps an errno path that
// stops gcc vectorising (without -fno-math-errno), so use the vector instruction
// where there is one: it is the same correctly rounded IEEE square root.
static inline void sqrt_block(float *x) {
#if defined(__AVX512F__)
    _Static_assert(LC_VB == 16, "one AVX-512 vector per block");
    _mm512_storeu_ps(x, _mm512_sqrt_ps(_mm512_loadu_ps(x)));
#elif defined(__AVX__)
    _Static_assert(LC_VB == 16, "two AVX vectors per block");
    _mm256_storeu_ps(x, _mm256_sqrt_ps(_mm256_loadu_ps(x)));
    _mm256_storeu_ps(x + 8, _mm256_sqrt_ps(_mm256_loadu_ps(x + 8)));
#else
    for (int j = 0; j < LC_VB; j++) x[j] = sqrtf(x[j]);
#endif
}

// PyTorch's Adam: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps);
// AdamW first multiplies p by (1 - lr wd).
void lc_adam_step(lc_params *p, const lc_adam *opt) {
    assert(p->params && p->grads && p->m && p->v);
    p->step++;
    double t = (double)p->step;
    double bc1 = 1.0 - pow(opt->beta1, t), bc2 = 1.0 - pow(opt->beta2, t);
    float ss = (float)(opt->lr / bc1), ib = (float)(1.0 / sqrt(bc2));
    float b1 = opt->beta1, b2 = opt->beta2, eps = opt->eps;
    float decay = opt->weight_decay > 0.0f ? 1.0f - opt->lr * opt->weight_decay : 1.0f;
    float *pp = p->params, *pm = p->m, *pv = p->v;
    const float *pg = p->grads;
    size_t i = 0, n = p->n;
    for (; i + LC_VB <= n; i += LC_VB) {
        float P[LC_VB], M[LC_VB], V[LC_VB], G[LC_VB], S[LC_VB];
        memcpy(P, pp + i, sizeof P);
        memcpy(M, pm + i, sizeof M);
        memcpy(V, pv + i, sizeof V);
        memcpy(G, pg + i, sizeof G);
        for (int j = 0; j < LC_VB; j++) {
            M[j] = b1 * M[j] + (1.0f - b1) * G[j];
            V[j] = b2 * V[j] + (1.0f - b2) * G[j] * G[j];
            S[j] = V[j];
        }
        sqrt_block(S);
        for (int j = 0; j < LC_VB; j++) P[j] = P[j] * decay - ss * M[j] / (S[j] * ib + eps);
        memcpy(pp + i, P, sizeof P);
        memcpy(pm + i, M, sizeof M);
        memcpy(pv + i, V, sizeof V);
    }
    for (; i < n; i++) {
        pm[i] = b1 * pm[i] + (1.0f - b1) * pg[i];
        pv[i] = b2 * pv[i] + (1.0f - b2) * pg[i] * pg[i];
        pp[i] = pp[i] * decay - ss * pm[i] / (sqrtf(pv[i]) * ib + eps);
    }
}

float lc_grad_norm(const float *g, size_t n) {
    double acc[LC_VB] = {0};
    size_t i = 0;
    for (; i + LC_VB <= n; i += LC_VB)
        for (int j = 0; j < LC_VB; j++) acc[j] += (double)g[i + j] * g[i + j];
    double s = 0.0;
    for (int j = 0; j < LC_VB; j++) s += acc[j];
    for (; i < n; i++) s += (double)g[i] * g[i];
    return (float)sqrt(s);
}

// As torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when above.
float lc_clip_grad_norm(float *g, size_t n, float max_norm) {
    float norm = lc_grad_norm(g, n);
    if (norm > max_norm) {
        float k = max_norm / (norm + 1e-6f);
        for (size_t i = 0; i < n; i++) g[i] *= k;
    }
    return norm;
}

int lc_all_finite(const float *x, size_t n) {
    // x * 0 is 0 for finite x and NaN for inf or NaN; NaN sticks in the sum.
    float acc[LC_VB] = {0};
    size_t i = 0;
    for (; i + LC_VB <= n; i += LC_VB)
        for (int j = 0; j < LC_VB; j++) acc[j] += x[i + j] * 0.0f;
    float s = 0.0f;
    for (int j = 0; j < LC_VB; j++) s += acc[j];
    for (; i < n; i++) s += x[i] * 0.0f;
    return s == 0.0f;
}

// Warmup: base (step + 1) / warmup for step < warmup. Then, with progress
// p = (step - warmup) / (total - warmup) in [0, 1]: CONST base, LINEAR base (1 - p),
// COSINE base (1 + cos(pi p)) / 2; 0 from step >= total on for LINEAR and COSINE.
// LINEAR is computed in float, as PPO's anneal always was (its results depend on it).
float lc_lr_at(lc_sched s, float base, int64_t step, int64_t total, int64_t warmup) {
    if (step < 0) step = 0;
    if (warmup > 0 && step < warmup) return (float)(base * (double)(step + 1) / (double)warmup);
    if (s == LC_SCHED_CONST) return base;
    int64_t span = total - warmup;
    if (span <= 0 || step >= total) return 0.0f;
    if (s == LC_SCHED_LINEAR) return base * (1.0f - (float)(step - warmup) / (float)span);
    double p = (double)(step - warmup) / (double)span;
    return (float)(base * 0.5 * (1.0 + cos(3.14159265358979323846 * p)));
}
