// worldmodel/genie_cnet.c: the conditioned 3x3 conv stack shared by the Genie-style nets
// (the LAM decoder, the pixel dynamics, the token dynamics): forward, backward, sizes.
// Leaves out: strides, normalisation, residual connections.
//
// B = batch, IC/HC/OC = input/hidden/output channels, R = side, CD = condition size.
#include <stdio.h>
#include <string.h>

#include "worldmodel/genie.h"

void lc_genie_cnet_define(lc_genie_cnet *n, lc_params *p, const char *name, int IC, int HC, int OC,
                        int R, int CD) {
    n->IC = IC, n->HC = HC, n->OC = OC, n->R = R, n->CD = CD;
    char wn[64];
    int sc[2] = {HC, CD};
    snprintf(wn, sizeof wn, "%s.wc", name);
    n->wc = lc_params_add(p, wn, 2, sc);
    int io[3][2] = {{HC, IC}, {HC, HC}, {OC, HC}};
    for (int l = 0; l < 3; l++) {
        char nm[64];
        int sw[4] = {io[l][0], io[l][1], 3, 3};
        snprintf(nm, sizeof nm, "%s.c%dw", name, l + 1);
        n->w[l] = lc_params_add(p, nm, 4, sw);
        snprintf(nm, sizeof nm, "%s.c%db", name, l + 1);
        n->b[l] = lc_params_add(p, nm, 1, &io[l][0]);
    }
}

void lc_genie_cnet_init(const lc_genie_cnet *n, lc_params *p, float out_gain, lc_rng *rng) {
    int fan[3] = {n->IC * 9, n->HC * 9, n->HC * 9}, out[3] = {n->HC, n->HC, n->OC};
    for (int l = 0; l < 3; l++) {
        lc_init_kaiming_uniform(lc_param(p, n->w[l]), fan[l], (size_t)out[l] * fan[l], rng);
        memset(lc_param(p, n->b[l]), 0, (size_t)out[l] * sizeof(float));
    }
    float *w = lc_param(p, n->w[2]);
    for (size_t i = 0; i < (size_t)n->OC * fan[2]; i++) w[i] *= out_gain;
    lc_init_kaiming_uniform(lc_param(p, n->wc), n->CD, (size_t)n->HC * n->CD, rng);
}

// Floats of activations (a1, a2, out) and of the im2col workspace for batch B.
size_t lc_genie_cnet_act_size(const lc_genie_cnet *n, int B) {
    return (size_t)B * (2 * n->HC + n->OC) * n->R * n->R;
}
size_t lc_genie_cnet_col_size(const lc_genie_cnet *n) {
    int m = n->IC > n->HC ? n->IC : n->HC;
    return lc_conv2d_col_size(m, n->R, n->R, 3, 1, 1);
}

// Floats of backward scratch for batch B.
size_t lc_genie_cnet_work_size(const lc_genie_cnet *n, int B) {
    return (size_t)B * n->HC * (2 * (size_t)n->R * n->R + 1);
}

// Forward: in (B, IC, R, R), cond (B, CD) -> returns out (B, OC, R, R) inside acts.
const float *lc_genie_cnet_forward(const lc_genie_cnet *n, const lc_params *p, float *acts,
                                 float *col, const float *in, const float *cond, int B) {
    const int R = n->R, HC = n->HC;
    const size_t S = (size_t)R * R;
    float *a1 = acts, *a2 = a1 + (size_t)B * HC * S, *o = a2 + (size_t)B * HC * S;
    lc_conv2d_forward(a1, col, in, lc_param(p, n->w[0]), lc_param(p, n->b[0]), B, n->IC, R, R,
                      HC, 3, 1, 1);
    const float *wc = lc_param(p, n->wc);
    for (int i = 0; i < B; i++) { // + wc cond_i at every position
        const float *ci = cond + (size_t)i * n->CD;
        for (int h = 0; h < HC; h++) {
            float e = 0.0f;
            for (int d = 0; d < n->CD; d++) e += wc[h * n->CD + d] * ci[d];
            float *a = a1 + ((size_t)i * HC + h) * S;
            for (size_t s = 0; s < S; s++) a[s] += e;
        }
    }
    lc_relu_forward(a1, a1, (size_t)B * n->HC * S);
    lc_conv2d_forward(a2, col, a1, lc_param(p, n->w[1]), lc_param(p, n->b[1]), B, n->HC, R, R,
                      n->HC, 3, 1, 1);
    lc_relu_forward(a2, a2, (size_t)B * n->HC * S);
    lc_conv2d_forward(o, col, a2, lc_param(p, n->w[2]), lc_param(p, n->b[2]), B, n->HC, R, R,
                      n->OC, 3, 1, 1);
    return o;
}

// Backward: dout (B, OC, R, R); grads accumulate into p->grads; din (B, IC, R, R) and
// dcond (B, CD) are overwritten when not NULL; da2 (like a2, may be NULL) is a gradient
// arriving at the second layer's output from elsewhere (a head). work: lc_genie_cnet_work_size floats.
void lc_genie_cnet_backward(const lc_genie_cnet *n, lc_params *p, float *work, float *col,
                          const float *acts, const float *in, const float *cond,
                          const float *dout, const float *da2, float *din, float *dcond, int B) {
    const int R = n->R;
    const size_t S = (size_t)R * R, nh = (size_t)B * n->HC * S;
    const float *a1 = acts, *a2 = a1 + nh;
    float *ga = work, *gz = work + nh; // gradients after and before a relu
    memset(ga, 0, nh * sizeof(float));
    lc_conv2d_backward(ga, lc_grad(p, n->w[2]), lc_grad(p, n->b[2]), col, dout, a2,
                       lc_param(p, n->w[2]), B, n->HC, R, R, n->OC, 3, 1, 1);
    if (da2)
        for (size_t i = 0; i < nh; i++) ga[i] += da2[i];
    memset(gz, 0, nh * sizeof(float));
    lc_relu_backward(gz, ga, a2, nh);
    memset(ga, 0, nh * sizeof(float));
    lc_conv2d_backward(ga, lc_grad(p, n->w[1]), lc_grad(p, n->b[1]), col, gz, a1,
                       lc_param(p, n->w[1]), B, n->HC, R, R, n->HC, 3, 1, 1);
    memset(gz, 0, nh * sizeof(float));
    lc_relu_backward(gz, ga, a1, nh);
    float *gs = work + 2 * nh; // (B, HC): gz summed over space, the embedding's gradient
    const float *wc = lc_param(p, n->wc);
    float *dwc = lc_grad(p, n->wc);
    for (int i = 0; i < B; i++) {
        for (int h = 0; h < n->HC; h++) {
            const float *gi = gz + ((size_t)i * n->HC + h) * S;
            float acc = 0.0f;
            for (size_t s = 0; s < S; s++) acc += gi[s];
            gs[(size_t)i * n->HC + h] = acc;
            for (int d = 0; d < n->CD; d++) dwc[h * n->CD + d] += acc * cond[(size_t)i * n->CD + d];
        }
        if (dcond)
            for (int d = 0; d < n->CD; d++) {
                float acc = 0.0f;
                for (int h = 0; h < n->HC; h++) acc += wc[h * n->CD + d] * gs[(size_t)i * n->HC + h];
                dcond[(size_t)i * n->CD + d] = acc;
            }
    }
    if (din) memset(din, 0, (size_t)B * n->IC * S * sizeof(float));
    lc_conv2d_backward(din, lc_grad(p, n->w[0]), lc_grad(p, n->b[0]), col, gz, in,
                       lc_param(p, n->w[0]), B, n->IC, R, R, n->HC, 3, 1, 1);
}
