// nn/loss.c: softmax, log-softmax and the losses (cross-entropy, MSE, Gaussian
// NLL, BCE with logits), numerically stable, sums in double. Backward adds (+=).
// Leaves out: label smoothing, class weights, reductions other than the mean.
//
// B = batch, V = classes, D = dimensions per sample, n = values.
#include <assert.h>
#include <math.h>

#include "nn/nn.h"

#define LOG_2PI 1.8378770664093453

void lc_log_softmax(float *out, const float *logits, int B, int V) {
    for (int i = 0; i < B; i++) {
        const float *x = logits + (size_t)i * V;
        float *y = out + (size_t)i * V;
        float mx = -INFINITY;
        for (int v = 0; v < V; v++) mx = x[v] > mx ? x[v] : mx;
        double s = 0.0;
        for (int v = 0; v < V; v++) s += exp((double)x[v] - mx);
        double lse = mx + log(s);
        for (int v = 0; v < V; v++) y[v] = (float)((double)x[v] - lse);
    }
}

void lc_softmax(float *out, const float *logits, int B, int V) {
    for (int i = 0; i < B; i++) {
        const float *x = logits + (size_t)i * V;
        float *y = out + (size_t)i * V;
        float mx = -INFINITY;
        for (int v = 0; v < V; v++) mx = x[v] > mx ? x[v] : mx;
        float s = 0.0f;
        for (int v = 0; v < V; v++) {
            y[v] = expf(x[v] - mx);
            s += y[v];
        }
        float inv = 1.0f / s;
        for (int v = 0; v < V; v++) y[v] *= inv;
    }
}

float lc_xent_forward(float *probs, const float *logits, const int *targets, int B, int V) {
    double loss = 0.0;
    for (int i = 0; i < B; i++) {
        const float *x = logits + (size_t)i * V;
        float *p = probs + (size_t)i * V;
        int t = targets[i];
        assert(t >= 0 && t < V);
        float mx = -INFINITY;
        for (int v = 0; v < V; v++) mx = x[v] > mx ? x[v] : mx;
        double s = 0.0;
        for (int v = 0; v < V; v++) s += exp((double)x[v] - mx);
        double lse = mx + log(s);
        for (int v = 0; v < V; v++) p[v] = (float)exp((double)x[v] - lse);
        loss += lse - x[t];
    }
    return B > 0 ? (float)(loss / B) : 0.0f;
}

void lc_xent_backward(float *dlogits, const float *probs, const int *targets, int B, int V,
                      float scale) {
    for (int i = 0; i < B; i++) {
        const float *p = probs + (size_t)i * V;
        float *d = dlogits + (size_t)i * V;
        for (int v = 0; v < V; v++) d[v] += scale * p[v];
        d[targets[i]] -= scale;
    }
}

float lc_mse_forward(const float *pred, const float *target, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)pred[i] - target[i];
        s += d * d;
    }
    return n ? (float)(s / (double)n) : 0.0f;
}

void lc_mse_backward(float *dpred, const float *pred, const float *target, size_t n, float scale) {
    if (!n) return;
    float k = 2.0f * scale / (float)n;
    for (size_t i = 0; i < n; i++) dpred[i] += k * (pred[i] - target[i]);
}

float lc_gauss_nll_forward(const float *mu, const float *logvar, const float *target, int B,
                           int D) {
    double s = 0.0;
    size_t n = (size_t)B * D;
    for (size_t i = 0; i < n; i++) {
        double d = (double)target[i] - mu[i];
        s += 0.5 * (logvar[i] + d * d * exp(-(double)logvar[i]) + LOG_2PI);
    }
    return B > 0 ? (float)(s / B) : 0.0f;
}

void lc_gauss_nll_backward(float *dmu, float *dlogvar, const float *mu, const float *logvar,
                           const float *target, int B, int D, float scale) {
    if (B <= 0) return;
    size_t n = (size_t)B * D;
    float k = scale / (float)B;
    for (size_t i = 0; i < n; i++) {
        float d = target[i] - mu[i];
        float iv = expf(-logvar[i]);
        if (dmu) dmu[i] += k * (-d * iv);
        if (dlogvar) dlogvar[i] += k * 0.5f * (1.0f - d * d * iv);
    }
}

// loss(x, t) = max(x, 0) - x t + log(1 + exp(-|x|)): no overflow for any x.
float lc_bce_logits_forward(const float *logits, const float *target, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = logits[i];
        s += (x > 0.0 ? x : 0.0) - x * target[i] + log1p(exp(-fabs(x)));
    }
    return n ? (float)(s / (double)n) : 0.0f;
}

// dlogits += scale (sigmoid(x) - t) / n.
void lc_bce_logits_backward(float *dlogits, const float *logits, const float *target, size_t n,
                            float scale) {
    if (!n) return;
    float k = scale / (float)n;
    for (size_t i = 0; i < n; i++) {
        float x = logits[i];
        float e = expf(-fabsf(x));
        float sig = x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
        dlogits[i] += k * (sig - target[i]);
    }
}
