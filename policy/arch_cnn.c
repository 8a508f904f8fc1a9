// policy/arch_cnn.c: the "cnn" trunk for uint8 (H, W, C) frames: the Nature-DQN
// encoder (conv 32 8x8 s4, 64 4x4 s2, 64 3x3 s1, linear cfg.cnn_features), inputs
// scaled to [0, 1] by the space's high bound (1/255 for pixels, 1 for MinAtar's 0/1
// cells), shared by actor and critic; frames under 36 pixels use 3x3 kernels.
// Leaves out: IMPALA residual encoders, frame-stack specific tricks, pooling.
//
// R = rows, C0/H0/W0 = frame channels/height/width, OC/OH/OW = a layer's output,
// F = features after the linear layer, FL = flattened conv output.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

#define NCONV 3

typedef struct conv_layer {
    int C, H, W, OC, K, S, OH, OW; // input (C, H, W) -> output (OC, OH, OW), kernel K, stride S
    int w, b;                      // param indices
} conv_layer;

typedef struct cnn_arch {
    int C0, H0, W0, FL, F;
    float scale; // 1 / the observation space's high bound (1/255 when unbounded)
    lc_act act;
    conv_layer cv[NCONV];
    int lw, lb;
} cnn_arch;

static int cnn_define(void **self, lc_params *params, const lc_space *obs,
                      const lc_policy_cfg *cfg, lc_policy_dims *dims, lc_error *err) {
    if (obs->ndim != 3)
        return lc_fail(err, LC_ERR_UNSUPPORTED,
                       "cnn policy: needs (H, W, C) image observations, this env's have %d dims",
                       obs->ndim);
    if (cfg->cnn_features < 1)
        return lc_fail(err, LC_ERR_ARG, "cnn policy: cnn_features %d must be >= 1", cfg->cnn_features);
    cnn_arch *m = calloc(1, sizeof *m);
    if (!m) return lc_fail(err, LC_ERR_NOMEM, "cnn policy: out of memory");
    m->H0 = obs->shape[0];
    m->W0 = obs->shape[1];
    m->C0 = obs->shape[2];
    m->act = cfg->act;
    m->F = cfg->cnn_features;
    float high = lc_space_high(obs, 0);
    m->scale = high >= 1.0f && high <= 255.0f ? 1.0f / high : 1.0f / 255.0f;
    static const int big[NCONV][3] = {{32, 8, 4}, {64, 4, 2}, {64, 3, 1}};
    static const int small[NCONV][3] = {{32, 3, 1}, {64, 3, 2}, {64, 3, 1}};
    const int(*spec)[3] = m->H0 >= 36 && m->W0 >= 36 ? big : small;
    int C = m->C0, H = m->H0, W = m->W0;
    for (int l = 0; l < NCONV; l++) {
        conv_layer *c = &m->cv[l];
        c->C = C, c->H = H, c->W = W;
        c->OC = spec[l][0], c->K = spec[l][1], c->S = spec[l][2];
        c->OH = lc_conv_out(H, c->K, c->S, 0);
        c->OW = lc_conv_out(W, c->K, c->S, 0);
        if (c->OH < 1 || c->OW < 1) {
            int h0 = m->H0, w0 = m->W0;
            free(m);
            return lc_fail(err, LC_ERR_UNSUPPORTED, "cnn policy: %dx%d frames are too small", h0,
                           w0);
        }
        char name[LC_NAME_MAX];
        int ws[4] = {c->OC, C, c->K, c->K}, bs[1] = {c->OC};
        snprintf(name, sizeof name, "trunk.conv%d.w", l);
        c->w = lc_params_add(params, name, 4, ws);
        snprintf(name, sizeof name, "trunk.conv%d.b", l);
        c->b = lc_params_add(params, name, 1, bs);
        C = c->OC, H = c->OH, W = c->OW;
    }
    m->FL = C * H * W;
    int ls[2] = {m->F, m->FL}, lb[1] = {m->F};
    m->lw = lc_params_add(params, "trunk.fc.w", 2, ls);
    m->lb = lc_params_add(params, "trunk.fc.b", 1, lb);
    dims->fpi = dims->fv = m->F;
    dims->shared = 1;
    dims->state_size = 0;
    *self = m;
    return LC_OK;
}

static void cnn_init(void *self, lc_params *params, const lc_policy_cfg *cfg, lc_rng *rng) {
    cnn_arch *m = self;
    for (int l = 0; l < NCONV; l++) {
        conv_layer *c = &m->cv[l];
        lc_init_orthogonal(lc_param(params, c->w), c->OC, c->C * c->K * c->K, cfg->hidden_gain, rng);
        memset(lc_param(params, c->b), 0, (size_t)c->OC * sizeof(float));
    }
    lc_init_orthogonal(lc_param(params, m->lw), m->F, m->FL, cfg->hidden_gain, rng);
    memset(lc_param(params, m->lb), 0, (size_t)m->F * sizeof(float));
}

static size_t in_size(const cnn_arch *m) { return (size_t)m->C0 * m->H0 * m->W0; }
static size_t out_size(const conv_layer *c) { return (size_t)c->OC * c->OH * c->OW; }

// The convs' workspace for R rows, shared by the layers: room for each one's chunk
// of images per sgemm (lc_conv2d_ws_size: bounded however large R is, about 10 MB
// at most).
static size_t ws_size(const cnn_arch *m, size_t R) {
    size_t ws = 0;
    int rows = R < 1 ? 1 : (int)R;
    for (int l = 0; l < NCONV; l++) {
        const conv_layer *c = &m->cv[l];
        size_t w = lc_conv2d_ws_size(rows, c->C, c->H, c->W, c->OC, c->K, c->S, 0);
        if (w > ws) ws = w;
    }
    return ws;
}

// acts: xin (R, C0, H0, W0), per conv z and a (R, OC, OH, OW), fc z and a (R, F), ws.
static size_t cnn_acts_size(void *self, int T, int B) {
    cnn_arch *m = self;
    size_t R = (size_t)T * B, n = R * in_size(m), maxl = in_size(m);
    for (int l = 0; l < NCONV; l++) {
        n += 2 * R * out_size(&m->cv[l]);
        if (out_size(&m->cv[l]) > maxl) maxl = out_size(&m->cv[l]);
    }
    if ((size_t)m->F > maxl) maxl = (size_t)m->F;
    n += 2 * R * m->F + ws_size(m, R);
    size_t scratch = 3 * R * maxl + ws_size(m, R);
    return n > scratch ? n : scratch;
}

typedef struct cnn_ptrs {
    float *xin, *z[NCONV], *a[NCONV], *fz, *fa, *ws;
} cnn_ptrs;

static cnn_ptrs ptrs(const cnn_arch *m, float *acts, size_t R) {
    cnn_ptrs p;
    p.xin = acts;
    float *q = acts + R * in_size(m);
    for (int l = 0; l < NCONV; l++) {
        p.z[l] = q;
        p.a[l] = q + R * out_size(&m->cv[l]);
        q = p.a[l] + R * out_size(&m->cv[l]);
    }
    p.fz = q;
    p.fa = q + R * m->F;
    p.ws = p.fa + R * m->F;
    return p;
}

static void cnn_forward(void *self, const lc_params *params, float *acts, const float *x,
                        const uint8_t *reset, const float *state0, float *state_out, int T,
                        int B, float **fpi, float **fv) {
    (void)reset, (void)state0, (void)state_out;
    cnn_arch *m = self;
    size_t R = (size_t)T * B, HW = (size_t)m->H0 * m->W0;
    cnn_ptrs p = ptrs(m, acts, R);
    // (R, H, W, C) 0..high -> (R, C, H, W) in [0, 1]
    for (size_t r = 0; r < R; r++) {
        const float *src = x + r * in_size(m);
        float *dst = p.xin + r * in_size(m);
        for (size_t i = 0; i < HW; i++)
            for (int c = 0; c < m->C0; c++) dst[(size_t)c * HW + i] = src[i * m->C0 + c] * m->scale;
    }
    const float *in = p.xin;
    size_t nws = ws_size(m, R);
    for (int l = 0; l < NCONV; l++) {
        conv_layer *c = &m->cv[l];
        lc_conv2d_forward_ws(p.z[l], p.ws, nws, in, lc_param(params, c->w),
                             lc_param(params, c->b), (int)R, c->C, c->H, c->W, c->OC, c->K, c->S,
                             0);
        lc_act_forward(m->act, p.a[l], p.z[l], R * out_size(c));
        in = p.a[l];
    }
    lc_linear_forward(p.fz, in, lc_param(params, m->lw), lc_param(params, m->lb), (int)R, m->FL,
                      m->F);
    lc_act_forward(m->act, p.fa, p.fz, R * (size_t)m->F);
    *fpi = *fv = p.fa;
}

static void cnn_backward(void *self, lc_params *params, float *work, const float *acts,
                         const float *x, const uint8_t *reset, const float *state0,
                         const float *dfpi, const float *dfv, int T, int B) {
    (void)x, (void)reset, (void)state0, (void)dfv;
    cnn_arch *m = self;
    size_t R = (size_t)T * B, maxl = in_size(m);
    for (int l = 0; l < NCONV; l++)
        if (out_size(&m->cv[l]) > maxl) maxl = out_size(&m->cv[l]);
    if ((size_t)m->F > maxl) maxl = (size_t)m->F;
    float *ping[2] = {work, work + R * maxl}, *dz = work + 2 * R * maxl, *ws = work + 3 * R * maxl;
    cnn_ptrs p = ptrs(m, (float *)acts, R);
    size_t n = R * (size_t)m->F;
    memset(dz, 0, n * sizeof(float));
    lc_act_backward(m->act, dz, dfpi, p.fz, p.fa, n);
    float *d = ping[0];
    memset(d, 0, R * (size_t)m->FL * sizeof(float));
    lc_linear_backward(d, lc_grad(params, m->lw), lc_grad(params, m->lb), dz, p.a[NCONV - 1],
                       lc_param(params, m->lw), (int)R, m->FL, m->F);
    for (int l = NCONV - 1; l >= 0; l--) {
        conv_layer *c = &m->cv[l];
        n = R * out_size(c);
        memset(dz, 0, n * sizeof(float));
        lc_act_backward(m->act, dz, d, p.z[l], p.a[l], n);
        float *din = NULL;
        if (l > 0) {
            din = ping[(NCONV - l) & 1];
            memset(din, 0, R * out_size(&m->cv[l - 1]) * sizeof(float));
        }
        lc_conv2d_backward_ws(din, lc_grad(params, c->w), lc_grad(params, c->b), ws,
                              ws_size(m, R), dz, l ? p.a[l - 1] : p.xin, lc_param(params, c->w),
                              (int)R, c->C, c->H, c->W, c->OC, c->K, c->S, 0);
        d = din;
    }
}

static void cnn_destroy(void *self) { free(self); }

const lc_policy_arch lc_arch_cnn = {
    .name = "cnn",
    .summary = "Nature-DQN conv encoder for uint8 frames (scaled by the space's high) -> shared heads",
    .define = cnn_define,
    .init = cnn_init,
    .acts_size = cnn_acts_size,
    .forward = cnn_forward,
    .backward = cnn_backward,
    .destroy = cnn_destroy,
};
