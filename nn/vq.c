// nn/vq.c: vector quantisation (VQ-VAE): nearest code by an sgemm of distances,
// straight-through gradient, codebook and commitment losses.
// Leaves out: EMA codebook updates, dead-code restarts, product quantisation.
//
// B = vectors, K = codes, D = code dimension.
#include <assert.h>
#include <cblas.h>
#include <float.h>
#include <string.h>

#include "nn/nn.h"

// Stack scratch for |e|^2 (K) and a chunk of dot products (rows, K).
#define VQ_STACK 8192

static int nearest_brute(const float *zb, const float *codebook, int K, int D) {
    int best = 0;
    float bd = FLT_MAX;
    for (int k = 0; k < K; k++) {
        const float *e = codebook + (size_t)k * D;
        float d = 0.0f;
        for (int j = 0; j < D; j++) {
            float t = zb[j] - e[j];
            d += t * t;
        }
        if (d < bd) {
            bd = d;
            best = k;
        }
    }
    return best;
}

lc_vq_losses lc_vq_forward(float *zq, int *codes, const float *z, const float *codebook, int B,
                           int K, int D) {
    assert(B >= 0 && K >= 1 && D >= 1);
    float buf[VQ_STACK];
    if (2 * K <= VQ_STACK) {
        // |z - e|^2 = |z|^2 - 2 z.e + |e|^2; |z|^2 is the same for every k.
        float *esq = buf, *dot = buf + K;
        int rows = (VQ_STACK - K) / K;
        for (int k = 0; k < K; k++) {
            const float *e = codebook + (size_t)k * D;
            float s = 0.0f;
            for (int j = 0; j < D; j++) s += e[j] * e[j];
            esq[k] = s;
        }
        for (int b0 = 0; b0 < B; b0 += rows) {
            int nb = B - b0 < rows ? B - b0 : rows;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, K, D, 1.0f,
                        z + (size_t)b0 * D, D, codebook, D, 0.0f, dot, K);
            for (int i = 0; i < nb; i++) {
                const float *dr = dot + (size_t)i * K;
                int best = 0;
                float bd = FLT_MAX;
                for (int k = 0; k < K; k++) {
                    float d = esq[k] - 2.0f * dr[k];
                    if (d < bd) {
                        bd = d;
                        best = k;
                    }
                }
                codes[b0 + i] = best;
            }
        }
    } else {
        for (int b = 0; b < B; b++) codes[b] = nearest_brute(z + (size_t)b * D, codebook, K, D);
    }
    double s = 0.0;
    for (int b = 0; b < B; b++) {
        const float *e = codebook + (size_t)codes[b] * D;
        const float *zb = z + (size_t)b * D;
        memcpy(zq + (size_t)b * D, e, (size_t)D * sizeof(float));
        for (int j = 0; j < D; j++) {
            double t = (double)zb[j] - e[j];
            s += t * t;
        }
    }
    float l = B > 0 ? (float)(s / ((double)B * D)) : 0.0f;
    lc_vq_losses out = {l, l};
    return out;
}

void lc_vq_backward(float *dz, float *dcodebook, const float *dzq, const float *z,
                    const float *codebook, const int *codes, int B, int K, int D, float beta) {
    if (B <= 0) return;
    float k = 2.0f / ((float)B * (float)D);
    for (int b = 0; b < B; b++) {
        assert(codes[b] >= 0 && codes[b] < K);
        const float *e = codebook + (size_t)codes[b] * D;
        const float *zb = z + (size_t)b * D;
        float *de = dcodebook ? dcodebook + (size_t)codes[b] * D : NULL;
        float *d = dz ? dz + (size_t)b * D : NULL;
        const float *g = dzq ? dzq + (size_t)b * D : NULL;
        for (int j = 0; j < D; j++) {
            float diff = zb[j] - e[j];
            if (d) d[j] += (g ? g[j] : 0.0f) + beta * k * diff;
            if (de) de[j] -= k * diff;
        }
    }
    (void)K;
}
