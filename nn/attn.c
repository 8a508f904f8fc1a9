// nn/attn.c: the transformer block of nn/attn.h: pre-layer-norm multi-head self-attention
// and MLP with residuals, forward and backward. Projections are one sgemm over all B T
// rows; the scores and the weighted sums are one sgemm per (batch, head) on strided views
// of the QKV rows (no copies). Leaves out: masks, dropout, fused kernels.
//
// B = batch, T = positions, C = width, NH = heads, HD = head dim, A = NH HD, F = MLP hidden,
// N = B T rows.
// Saved activations, in order: xn1 (N, C), mean1 (N), rstd1 (N), qkv (N, 3A),
//   P (B, NH, T, T) softmax weights (inference: one (T, T)), att (N, A), y (N, C),
//   and with F > 0: xn2 (N, C), mean2 (N), rstd2 (N), h (N, F) after relu.
#include "nn/attn.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/fastmath.h"

static int add_named(lc_params *p, const char *prefix, const char *what, int ndim,
                     const int *shape) {
    char nm[LC_NAME_MAX];
    snprintf(nm, sizeof nm, "%s.%s", prefix, what);
    return lc_params_add(p, nm, ndim, shape);
}

void lc_attn_define(lc_attn *a, lc_params *p, const char *prefix, int C, int NH, int HD, int F) {
    assert(C > 0 && NH > 0 && HD > 0 && F >= 0);
    a->C = C, a->NH = NH, a->HD = HD, a->F = F;
    const int A = NH * HD;
    int sqkv[2] = {3 * A, C}, n3 = 3 * A, so[2] = {C, A};
    a->ln1w = add_named(p, prefix, "ln1w", 1, &C);
    a->ln1b = add_named(p, prefix, "ln1b", 1, &C);
    a->wqkv = add_named(p, prefix, "wqkv", 2, sqkv);
    a->bqkv = add_named(p, prefix, "bqkv", 1, &n3);
    a->wo = add_named(p, prefix, "wo", 2, so);
    a->bo = add_named(p, prefix, "bo", 1, &C);
    a->ln2w = a->ln2b = a->w1 = a->b1 = a->w2 = a->b2 = -1;
    if (F > 0) {
        int s1[2] = {F, C}, s2[2] = {C, F};
        a->ln2w = add_named(p, prefix, "ln2w", 1, &C);
        a->ln2b = add_named(p, prefix, "ln2b", 1, &C);
        a->w1 = add_named(p, prefix, "w1", 2, s1);
        a->b1 = add_named(p, prefix, "b1", 1, &F);
        a->w2 = add_named(p, prefix, "w2", 2, s2);
        a->b2 = add_named(p, prefix, "b2", 1, &C);
    }
}

static void fill(float *x, size_t n, float v) {
    for (size_t i = 0; i < n; i++) x[i] = v;
}

void lc_attn_init(const lc_attn *a, lc_params *p, float out_gain, lc_rng *rng) {
    const int C = a->C, A = a->NH * a->HD, F = a->F;
    fill(lc_param(p, a->ln1w), (size_t)C, 1.0f);
    fill(lc_param(p, a->ln1b), (size_t)C, 0.0f);
    lc_init_xavier_uniform(lc_param(p, a->wqkv), C, 3 * A, (size_t)3 * A * C, rng);
    fill(lc_param(p, a->bqkv), (size_t)3 * A, 0.0f);
    float *wo = lc_param(p, a->wo);
    lc_init_xavier_uniform(wo, A, C, (size_t)C * A, rng);
    for (size_t i = 0; i < (size_t)C * A; i++) wo[i] *= out_gain;
    fill(lc_param(p, a->bo), (size_t)C, 0.0f);
    if (F > 0) {
        fill(lc_param(p, a->ln2w), (size_t)C, 1.0f);
        fill(lc_param(p, a->ln2b), (size_t)C, 0.0f);
        lc_init_kaiming_uniform(lc_param(p, a->w1), C, (size_t)F * C, rng);
        fill(lc_param(p, a->b1), (size_t)F, 0.0f);
        float *w2 = lc_param(p, a->w2);
        lc_init_xavier_uniform(w2, F, C, (size_t)C * F, rng);
        for (size_t i = 0; i < (size_t)C * F; i++) w2[i] *= out_gain;
        fill(lc_param(p, a->b2), (size_t)C, 0.0f);
    }
}

// Offsets of the saved activations (floats).
typedef struct attn_layout {
    size_t xn1, mean1, rstd1, qkv, P, att, y, xn2, mean2, rstd2, h, total;
} attn_layout;

static attn_layout layout(const lc_attn *a, int B, int T, int train) {
    const size_t N = (size_t)B * T, C = a->C, A = (size_t)a->NH * a->HD, F = a->F;
    attn_layout l;
    size_t o = 0;
    l.xn1 = o, o += N * C;
    l.mean1 = o, o += N;
    l.rstd1 = o, o += N;
    l.qkv = o, o += N * 3 * A;
    l.P = o, o += (train ? (size_t)B * a->NH : 1) * T * T;
    l.att = o, o += N * A;
    l.y = o, o += N * C;
    l.xn2 = l.mean2 = l.rstd2 = l.h = o;
    if (F > 0) {
        l.xn2 = o, o += N * C;
        l.mean2 = o, o += N;
        l.rstd2 = o, o += N;
        l.h = o, o += N * F;
    }
    l.total = o;
    return l;
}

size_t lc_attn_act_size(const lc_attn *a, int B, int T, int train) {
    return layout(a, B, T, train).total;
}

size_t lc_attn_work_size(const lc_attn *a, int B, int T) {
    const size_t N = (size_t)B * T, A = (size_t)a->NH * a->HD;
    return N * ((size_t)a->F + 3 * (size_t)a->C + 4 * A) + (size_t)T * T;
}

// Softmax of each of the T rows of s (T, T) in place.
static void softmax_rows(float *s, int T) {
    for (int r = 0; r < T; r++) {
        float *x = s + (size_t)r * T, m = x[0];
        for (int j = 1; j < T; j++) m = x[j] > m ? x[j] : m;
        float acc[LC_VB] = {0}, z = 0.0f;
        int j = 0;
        for (; j + LC_VB <= T; j += LC_VB) {
            float v[LC_VB];
            memcpy(v, x + j, sizeof v);
            for (int k = 0; k < LC_VB; k++) {
                v[k] = lcx_exp(v[k] - m);
                acc[k] += v[k];
            }
            memcpy(x + j, v, sizeof v);
        }
        for (; j < T; j++) z += x[j] = lcx_exp(x[j] - m);
        for (int k = 0; k < LC_VB; k++) z += acc[k];
        const float inv = 1.0f / z;
        for (j = 0; j < T; j++) x[j] *= inv;
    }
}

void lc_attn_forward(const lc_attn *a, const lc_params *p, float *acts, float *out,
                     const float *in, int B, int T, int train) {
    const int C = a->C, NH = a->NH, HD = a->HD, A = NH * HD, F = a->F, N = B * T;
    const attn_layout l = layout(a, B, T, train);
    float *xn1 = acts + l.xn1, *qkv = acts + l.qkv, *att = acts + l.att, *y = acts + l.y;
    lc_layernorm_forward(xn1, acts + l.mean1, acts + l.rstd1, in, lc_param(p, a->ln1w),
                         lc_param(p, a->ln1b), N, C);
    lc_linear_forward(qkv, xn1, lc_param(p, a->wqkv), lc_param(p, a->bqkv), N, C, 3 * A);
    const float scale = 1.0f / sqrtf((float)HD);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const float *q = qkv + (size_t)b * T * 3 * A + (size_t)h * HD;
            float *P = acts + l.P + (train ? ((size_t)b * NH + h) * T * T : 0);
            // scores (T, T) = Q K^T / sqrt(HD), then softmax over keys
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, HD, scale, q, 3 * A,
                        q + A, 3 * A, 0.0f, P, T);
            softmax_rows(P, T);
            // att rows (T, HD of head h) = P V
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, HD, T, 1.0f, P, T,
                        q + 2 * A, 3 * A, 0.0f, att + (size_t)b * T * A + (size_t)h * HD, A);
        }
    lc_linear_forward(y, att, lc_param(p, a->wo), lc_param(p, a->bo), N, A, C);
    for (size_t i = 0; i < (size_t)N * C; i++) y[i] += in[i];
    if (F == 0) {
        memcpy(out, y, (size_t)N * C * sizeof(float));
        return;
    }
    float *xn2 = acts + l.xn2, *hh = acts + l.h;
    lc_layernorm_forward(xn2, acts + l.mean2, acts + l.rstd2, y, lc_param(p, a->ln2w),
                         lc_param(p, a->ln2b), N, C);
    lc_linear_forward(hh, xn2, lc_param(p, a->w1), lc_param(p, a->b1), N, C, F);
    lc_relu_forward(hh, hh, (size_t)N * F);
    lc_linear_forward(out, hh, lc_param(p, a->w2), lc_param(p, a->b2), N, F, C);
    for (size_t i = 0; i < (size_t)N * C; i++) out[i] += y[i];
}

void lc_attn_backward(const lc_attn *a, lc_params *p, float *work, const float *acts,
                      const float *in, const float *dout, float *din, int B, int T) {
    const int C = a->C, NH = a->NH, HD = a->HD, A = NH * HD, F = a->F, N = B * T;
    const size_t NC = (size_t)N * C;
    const attn_layout l = layout(a, B, T, 1);
    const float *xn1 = acts + l.xn1, *qkv = acts + l.qkv, *att = acts + l.att, *y = acts + l.y;
    float *dh = work, *dxn = dh + (size_t)N * F, *dy = dxn + NC, *dx = dy + NC,
          *datt = dx + NC, *dqkv = datt + (size_t)N * A, *dP = dqkv + (size_t)N * 3 * A;
    // MLP branch: dy = dout + its gradient through LN2, W1, relu, W2
    memcpy(dy, dout, NC * sizeof(float));
    if (F > 0) {
        const float *hh = acts + l.h;
        memset(dh, 0, (size_t)N * F * sizeof(float));
        lc_linear_backward(dh, lc_grad(p, a->w2), lc_grad(p, a->b2), dout, hh,
                           lc_param(p, a->w2), N, F, C);
        for (size_t i = 0; i < (size_t)N * F; i++)
            if (hh[i] <= 0.0f) dh[i] = 0.0f;
        memset(dxn, 0, NC * sizeof(float));
        lc_linear_backward(dxn, lc_grad(p, a->w1), lc_grad(p, a->b1), dh, acts + l.xn2,
                           lc_param(p, a->w1), N, C, F);
        lc_layernorm_backward(dy, lc_grad(p, a->ln2w), lc_grad(p, a->ln2b), dxn, y,
                              lc_param(p, a->ln2w), acts + l.mean2, acts + l.rstd2, N, C);
    }
    // attention branch
    memset(datt, 0, (size_t)N * A * sizeof(float));
    lc_linear_backward(datt, lc_grad(p, a->wo), lc_grad(p, a->bo), dy, att, lc_param(p, a->wo),
                       N, A, C);
    const float scale = 1.0f / sqrtf((float)HD);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const size_t ro = (size_t)b * T * 3 * A + (size_t)h * HD;
            const float *q = qkv + ro, *P = acts + l.P + ((size_t)b * NH + h) * T * T;
            const float *dO = datt + (size_t)b * T * A + (size_t)h * HD;
            float *dq = dqkv + ro;
            // dP = dO V^T; dV = P^T dO
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, HD, 1.0f, dO, A,
                        q + 2 * A, 3 * A, 0.0f, dP, T);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, HD, T, 1.0f, P, T, dO, A,
                        0.0f, dq + 2 * A, 3 * A);
            // through the softmax: dS = P (dP - sum_j P dP), times the score scale
            for (int r = 0; r < T; r++) {
                const float *pr = P + (size_t)r * T;
                float *d = dP + (size_t)r * T, s = 0.0f;
                for (int j = 0; j < T; j++) s += pr[j] * d[j];
                for (int j = 0; j < T; j++) d[j] = pr[j] * (d[j] - s) * scale;
            }
            // dQ = dS K; dK = dS^T Q
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, HD, T, 1.0f, dP, T,
                        q + A, 3 * A, 0.0f, dq, 3 * A);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, HD, T, 1.0f, dP, T, q,
                        3 * A, 0.0f, dq + A, 3 * A);
        }
    memset(dxn, 0, NC * sizeof(float));
    lc_linear_backward(dxn, lc_grad(p, a->wqkv), lc_grad(p, a->bqkv), dqkv, xn1,
                       lc_param(p, a->wqkv), N, C, 3 * A);
    // the residual, then LN1 (into dx when the caller wants no input gradient)
    float *gx = din;
    if (!gx) {
        gx = dx;
        memset(gx, 0, NC * sizeof(float));
    }
    for (size_t i = 0; i < NC; i++) gx[i] += dy[i];
    lc_layernorm_backward(gx, lc_grad(p, a->ln1w), lc_grad(p, a->ln1b), dxn, in,
                          lc_param(p, a->ln1w), acts + l.mean1, acts + l.rstd1, N, C);
}
