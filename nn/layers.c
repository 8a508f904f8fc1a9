// nn/layers.c: linear (OpenBLAS sgemm), elementwise activations, layer norm,
// embedding, and the OpenBLAS thread-count helper. Backward passes add (+=).
// Leaves out: losses (nn/loss.c), recurrent, convolutional and VQ layers.
//
// B = batch, C = input features, OC = output features, V = table rows.
#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "nn/fastmath.h"
#include "nn/nn.h"

void lc_nn_set_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }
int lc_nn_get_threads(void) { return openblas_get_num_threads(); }

// ---------------------------------------------------------------- linear

void lc_linear_forward(float *out, const float *in, const float *w, const float *b, int B, int C,
                       int OC) {
    assert(B >= 0 && C >= 0 && OC >= 0);
    if (B == 0 || OC == 0) return;
    float beta = 0.0f;
    if (b) { // preset every row to the bias; sgemm then accumulates with beta = 1
        for (int i = 0; i < B; i++) memcpy(out + (size_t)i * OC, b, (size_t)OC * sizeof(float));
        beta = 1.0f;
    }
    if (C == 0) {
        if (!b) memset(out, 0, (size_t)B * OC * sizeof(float));
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, OC, C, 1.0f, in, C, w, C, beta, out,
                OC);
}

void lc_linear_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                        const float *w, int B, int C, int OC) {
    assert(B >= 0 && C >= 0 && OC >= 0);
    if (B == 0 || OC == 0) return;
    if (db) { // column sums, LC_VB columns at a time in local accumulators
        int o = 0;
        for (; o + LC_VB <= OC; o += LC_VB) {
            float acc[LC_VB] = {0};
            for (int i = 0; i < B; i++) {
                const float *d = dout + (size_t)i * OC + o;
                for (int j = 0; j < LC_VB; j++) acc[j] += d[j];
            }
            for (int j = 0; j < LC_VB; j++) db[o + j] += acc[j];
        }
        for (; o < OC; o++) {
            float acc = 0.0f;
            for (int i = 0; i < B; i++) acc += dout[(size_t)i * OC + o];
            db[o] += acc;
        }
    }
    if (C == 0) return;
    // dw (OC, C) += dout^T (OC, B) @ in (B, C)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, B, 1.0f, dout, OC, in, C, 1.0f, dw,
                C);
    // din (B, C) += dout (B, OC) @ w (OC, C)
    if (din)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, C, OC, 1.0f, dout, OC, w, C,
                    1.0f, din, C);
}

// ---------------------------------------------------------------- activations

// Each map runs blocks of LC_VB values through local arrays (so in/out may alias
// and gcc needs no runtime alias checks to vectorise), then a scalar tail.
#define LC_MAP1(NAME, EXPR)                                                                        \
    void NAME(float *out, const float *in, size_t n) {                                             \
        size_t i = 0;                                                                              \
        for (; i + LC_VB <= n; i += LC_VB) {                                                       \
            float a[LC_VB], o[LC_VB];                                                              \
            memcpy(a, in + i, sizeof a);                                                           \
            for (int j = 0; j < LC_VB; j++) {                                                      \
                float x = a[j];                                                                    \
                o[j] = (EXPR);                                                                     \
            }                                                                                      \
            memcpy(out + i, o, sizeof o);                                                          \
        }                                                                                          \
        for (; i < n; i++) {                                                                       \
            float x = in[i];                                                                       \
            out[i] = (EXPR);                                                                       \
        }                                                                                          \
    }

// din += dout * f'(s), where s is the saved forward value (input or output).
#define LC_MAP2(NAME, EXPR)                                                                        \
    void NAME(float *din, const float *dout, const float *saved, size_t n) {                       \
        size_t i = 0;                                                                              \
        for (; i + LC_VB <= n; i += LC_VB) {                                                       \
            float g[LC_VB], s[LC_VB], d[LC_VB];                                                    \
            memcpy(g, dout + i, sizeof g);                                                         \
            memcpy(s, saved + i, sizeof s);                                                        \
            memcpy(d, din + i, sizeof d);                                                          \
            for (int j = 0; j < LC_VB; j++) {                                                      \
                float x = s[j];                                                                    \
                d[j] += g[j] * (EXPR);                                                             \
            }                                                                                      \
            memcpy(din + i, d, sizeof d);                                                          \
        }                                                                                          \
        for (; i < n; i++) {                                                                       \
            float x = saved[i];                                                                    \
            din[i] += dout[i] * (EXPR);                                                            \
        }                                                                                          \
    }

#define GELU_K 0.7978845608028654f // sqrt(2 / pi)
#define GELU_C 0.044715f

// 0.5 x (1 + tanh u) = x sigmoid(2 u): no cancellation in the negative tail.
static inline float gelu_f(float x) {
    return x * lcx_sigmoid(2.0f * GELU_K * (x + GELU_C * x * x * x));
}

static inline float gelu_df(float x) {
    float s = lcx_sigmoid(2.0f * GELU_K * (x + GELU_C * x * x * x));
    return s + x * s * (1.0f - s) * 2.0f * GELU_K * (1.0f + 3.0f * GELU_C * x * x);
}

static inline float silu_df(float x) {
    float s = lcx_sigmoid(x);
    return s * (1.0f + x * (1.0f - s));
}

LC_MAP1(lc_relu_forward, x > 0.0f ? x : 0.0f)
LC_MAP2(lc_relu_backward, x > 0.0f ? 1.0f : 0.0f) // x = output
LC_MAP1(lc_tanh_forward, lcx_tanh(x))
LC_MAP2(lc_tanh_backward, 1.0f - x * x) // x = output
LC_MAP1(lc_silu_forward, x * lcx_sigmoid(x))
LC_MAP2(lc_silu_backward, silu_df(x)) // x = input
LC_MAP1(lc_gelu_forward, gelu_f(x))
LC_MAP2(lc_gelu_backward, gelu_df(x)) // x = input

static const char *act_names[] = {"none", "relu", "tanh", "silu", "gelu"};

const char *lc_act_name(lc_act a) {
    return (unsigned)a < sizeof act_names / sizeof *act_names ? act_names[a] : "?";
}

int lc_act_parse(const char *s, lc_act *a) {
    for (int i = 0; s && i < (int)(sizeof act_names / sizeof *act_names); i++) {
        if (strcmp(s, act_names[i]) == 0) {
            *a = (lc_act)i;
            return LC_OK;
        }
    }
    return LC_ERR_ARG;
}

void lc_act_forward(lc_act a, float *out, const float *in, size_t n) {
    switch (a) {
    case LC_ACT_NONE:
        if (out != in) memmove(out, in, n * sizeof(float));
        break;
    case LC_ACT_RELU: lc_relu_forward(out, in, n); break;
    case LC_ACT_TANH: lc_tanh_forward(out, in, n); break;
    case LC_ACT_SILU: lc_silu_forward(out, in, n); break;
    case LC_ACT_GELU: lc_gelu_forward(out, in, n); break;
    }
}

void lc_act_backward(lc_act a, float *din, const float *dout, const float *in, const float *out,
                     size_t n) {
    switch (a) {
    case LC_ACT_NONE:
        for (size_t i = 0; i < n; i++) din[i] += dout[i];
        break;
    case LC_ACT_RELU: lc_relu_backward(din, dout, out, n); break;
    case LC_ACT_TANH: lc_tanh_backward(din, dout, out, n); break;
    case LC_ACT_SILU: lc_silu_backward(din, dout, in, n); break;
    case LC_ACT_GELU: lc_gelu_backward(din, dout, in, n); break;
    }
}

// ---------------------------------------------------------------- layer norm

#define LN_EPS 1e-5f

// Row reductions in LC_VB independent lanes (so gcc vectorises them without
// reassociating), then the lanes summed in order.
static float lane_sum(const float *x, int n) {
    float acc[LC_VB] = {0};
    int i = 0;
    for (; i + LC_VB <= n; i += LC_VB)
        for (int j = 0; j < LC_VB; j++) acc[j] += x[i + j];
    float s = 0.0f;
    for (int j = 0; j < LC_VB; j++) s += acc[j];
    for (; i < n; i++) s += x[i];
    return s;
}

static float lane_sqdev(const float *x, float m, int n) {
    float acc[LC_VB] = {0};
    int i = 0;
    for (; i + LC_VB <= n; i += LC_VB)
        for (int j = 0; j < LC_VB; j++) acc[j] += (x[i + j] - m) * (x[i + j] - m);
    float s = 0.0f;
    for (int j = 0; j < LC_VB; j++) s += acc[j];
    for (; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return s;
}

void lc_layernorm_forward(float *out, float *mean, float *rstd, const float *in, const float *w,
                          const float *b, int B, int C) {
    for (int i = 0; i < B; i++) {
        const float *x = in + (size_t)i * C;
        float *y = out + (size_t)i * C;
        float m = lane_sum(x, C) / (float)C;
        float s = 1.0f / sqrtf(lane_sqdev(x, m, C) / (float)C + LN_EPS);
        int c = 0;
        for (; c + LC_VB <= C; c += LC_VB) {
            float xv[LC_VB], o[LC_VB];
            memcpy(xv, x + c, sizeof xv);
            for (int j = 0; j < LC_VB; j++) o[j] = (xv[j] - m) * s * w[c + j] + b[c + j];
            memcpy(y + c, o, sizeof o);
        }
        for (; c < C; c++) y[c] = (x[c] - m) * s * w[c] + b[c];
        mean[i] = m;
        rstd[i] = s;
    }
}

void lc_layernorm_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                           const float *w, const float *mean, const float *rstd, int B, int C) {
    for (int i = 0; i < B; i++) {
        const float *x = in + (size_t)i * C;
        const float *g = dout + (size_t)i * C;
        float *dx = din + (size_t)i * C;
        float m = mean[i], s = rstd[i];
        // Two reductions (llm.c): the means of dnorm and of dnorm * norm.
        float a1[LC_VB] = {0}, a2[LC_VB] = {0};
        int c = 0;
        for (; c + LC_VB <= C; c += LC_VB)
            for (int j = 0; j < LC_VB; j++) {
                float dn = w[c + j] * g[c + j];
                a1[j] += dn;
                a2[j] += dn * ((x[c + j] - m) * s);
            }
        float dmean = 0.0f, dnn = 0.0f;
        for (int j = 0; j < LC_VB; j++) dmean += a1[j], dnn += a2[j];
        for (; c < C; c++) {
            float dn = w[c] * g[c];
            dmean += dn;
            dnn += dn * ((x[c] - m) * s);
        }
        dmean /= (float)C;
        dnn /= (float)C;
        for (c = 0; c < C; c++) {
            float nrm = (x[c] - m) * s;
            float dn = w[c] * g[c];
            db[c] += g[c];
            dw[c] += nrm * g[c];
            dx[c] += (dn - dmean - nrm * dnn) * s;
        }
    }
}

// ---------------------------------------------------------------- embedding

void lc_embedding_forward(float *out, const int *ids, const float *table, int B, int V, int C) {
    for (int i = 0; i < B; i++) {
        assert(ids[i] >= 0 && ids[i] < V);
        memcpy(out + (size_t)i * C, table + (size_t)ids[i] * C, (size_t)C * sizeof(float));
    }
    (void)V;
}

void lc_embedding_backward(float *dtable, const float *dout, const int *ids, int B, int V, int C) {
    for (int i = 0; i < B; i++) {
        assert(ids[i] >= 0 && ids[i] < V);
        float *d = dtable + (size_t)ids[i] * C;
        const float *g = dout + (size_t)i * C;
        for (int c = 0; c < C; c++) d[c] += g[c];
    }
    (void)V;
}
