// policy/arch_gru.c: the "gru" trunk: an MLP encoder (cfg hidden layers, may be
// none) -> a GRU of cfg.rnn_hidden units -> shared actor/critic features. Training
// runs truncated BPTT over the rollout segment with state resets at episode starts.
// Leaves out: LSTMs, stacked recurrent layers, a separate critic trunk.
//
// T = steps, B = sequences, R = T * B rows, O = obs elements, C = encoder output
// width (O without encoder layers), H = recurrent size.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

#define MAXL LC_POLICY_MAX_HIDDEN

typedef struct gru_arch {
    int O, nl, C, H;
    int sizes[MAXL + 1];
    lc_act act;
    int w[MAXL], b[MAXL];
    int wx, wh, bx, bh;
} gru_arch;

static int gru_define(void **self, lc_params *params, const lc_space *obs,
                      const lc_policy_cfg *cfg, lc_policy_dims *dims, lc_error *err) {
    if (cfg->nhidden < 0 || cfg->nhidden > MAXL)
        return lc_fail(err, LC_ERR_ARG, "gru policy: 0..%d encoder layers, got %d", MAXL,
                       cfg->nhidden);
    if (cfg->rnn_hidden < 1)
        return lc_fail(err, LC_ERR_ARG, "gru policy: rnn_hidden %d must be >= 1", cfg->rnn_hidden);
    gru_arch *g = calloc(1, sizeof *g);
    if (!g) return lc_fail(err, LC_ERR_NOMEM, "gru policy: out of memory");
    g->O = lc_space_size(obs);
    g->nl = cfg->nhidden;
    g->act = cfg->act;
    g->sizes[0] = g->O;
    for (int l = 0; l < g->nl; l++) {
        if (cfg->hidden[l] < 1) {
            free(g);
            return lc_fail(err, LC_ERR_ARG, "gru policy: hidden width %d must be >= 1", cfg->hidden[l]);
        }
        g->sizes[l + 1] = cfg->hidden[l];
        char name[LC_NAME_MAX];
        int ws[2] = {g->sizes[l + 1], g->sizes[l]}, bs[1] = {g->sizes[l + 1]};
        snprintf(name, sizeof name, "trunk.enc.w%d", l);
        g->w[l] = lc_params_add(params, name, 2, ws);
        snprintf(name, sizeof name, "trunk.enc.b%d", l);
        g->b[l] = lc_params_add(params, name, 1, bs);
    }
    g->C = g->sizes[g->nl];
    g->H = cfg->rnn_hidden;
    int sx[2] = {3 * g->H, g->C}, sh[2] = {3 * g->H, g->H}, sb[1] = {3 * g->H};
    g->wx = lc_params_add(params, "trunk.gru.wx", 2, sx);
    g->wh = lc_params_add(params, "trunk.gru.wh", 2, sh);
    g->bx = lc_params_add(params, "trunk.gru.bx", 1, sb);
    g->bh = lc_params_add(params, "trunk.gru.bh", 1, sb);
    dims->fpi = dims->fv = g->H;
    dims->shared = 1;
    dims->state_size = g->H;
    *self = g;
    return LC_OK;
}

static void gru_init(void *self, lc_params *params, const lc_policy_cfg *cfg, lc_rng *rng) {
    gru_arch *g = self;
    for (int l = 0; l < g->nl; l++) {
        lc_init_orthogonal(lc_param(params, g->w[l]), g->sizes[l + 1], g->sizes[l],
                           cfg->hidden_gain, rng);
        memset(lc_param(params, g->b[l]), 0, (size_t)g->sizes[l + 1] * sizeof(float));
    }
    // As CleanRL's LSTM: orthogonal recurrent weights with gain 1, zero biases.
    lc_init_orthogonal(lc_param(params, g->wx), 3 * g->H, g->C, 1.0f, rng);
    lc_init_orthogonal(lc_param(params, g->wh), 3 * g->H, g->H, 1.0f, rng);
    memset(lc_param(params, g->bx), 0, 3 * (size_t)g->H * sizeof(float));
    memset(lc_param(params, g->bh), 0, 3 * (size_t)g->H * sizeof(float));
}

// acts: per encoder layer z (R, h), a (R, h); then h (T + 1, B, H), cache (R, 4H).
static size_t enc_size(const gru_arch *g, size_t R) {
    size_t n = 0;
    for (int l = 0; l < g->nl; l++) n += 2 * R * (size_t)g->sizes[l + 1];
    return n;
}

static size_t gru_acts_size(void *self, int T, int B) {
    gru_arch *g = self;
    size_t R = (size_t)T * B;
    size_t n = enc_size(g, R) + (R + B) * g->H + R * LC_GRU_CACHE(g->H);
    size_t maxw = (size_t)g->C;
    for (int l = 0; l <= g->nl; l++)
        if ((size_t)g->sizes[l] > maxw) maxw = (size_t)g->sizes[l];
    size_t scratch = 4 * R * maxw; // dx, two ping-pong buffers, dz
    return n > scratch ? n : scratch;
}

static float *enc_z(const gru_arch *g, float *acts, int l, size_t R) {
    size_t off = 0;
    for (int k = 0; k < l; k++) off += 2 * R * (size_t)g->sizes[k + 1];
    return acts + off;
}

static void gru_forward(void *self, const lc_params *params, float *acts, const float *x,
                        const uint8_t *reset, const float *state0, float *state_out, int T,
                        int B, float **fpi, float **fv) {
    gru_arch *g = self;
    size_t R = (size_t)T * B, H = (size_t)g->H;
    const float *in = x;
    for (int l = 0; l < g->nl; l++) {
        float *z = enc_z(g, acts, l, R);
        float *a = z + R * g->sizes[l + 1];
        lc_linear_forward(z, in, lc_param(params, g->w[l]), lc_param(params, g->b[l]), (int)R,
                          g->sizes[l], g->sizes[l + 1]);
        lc_act_forward(g->act, a, z, R * (size_t)g->sizes[l + 1]);
        in = a;
    }
    float *h = acts + enc_size(g, R);
    float *cache = h + (R + B) * H;
    if (state0) memcpy(h, state0, (size_t)B * H * sizeof(float));
    else memset(h, 0, (size_t)B * H * sizeof(float));
    lc_gru_seq_forward(h, cache, in, reset, lc_param(params, g->wx), lc_param(params, g->wh),
                       lc_param(params, g->bx), lc_param(params, g->bh), T, B, g->C, g->H);
    if (state_out) memcpy(state_out, h + R * H, (size_t)B * H * sizeof(float));
    *fpi = *fv = h + (size_t)B * H;
}

static void gru_backward(void *self, lc_params *params, float *work, const float *acts,
                         const float *x, const uint8_t *reset, const float *state0,
                         const float *dfpi, const float *dfv, int T, int B) {
    (void)state0, (void)dfv;
    gru_arch *g = self;
    size_t R = (size_t)T * B, H = (size_t)g->H;
    size_t maxw = (size_t)g->C;
    for (int l = 0; l <= g->nl; l++)
        if ((size_t)g->sizes[l] > maxw) maxw = (size_t)g->sizes[l];
    float *dx = work, *ping[2] = {work + R * maxw, work + 2 * R * maxw}, *dz = work + 3 * R * maxw;
    const float *h = acts + enc_size(g, R);
    const float *cache = h + (R + B) * H;
    const float *enc_out = g->nl ? enc_z(g, (float *)acts, g->nl - 1, R) + R * g->C : x;
    memset(dx, 0, R * (size_t)g->C * sizeof(float));
    lc_gru_seq_backward(g->nl ? dx : NULL, NULL, lc_grad(params, g->wx), lc_grad(params, g->wh),
                        lc_grad(params, g->bx), lc_grad(params, g->bh), dfpi, h, cache, enc_out,
                        reset, lc_param(params, g->wx), lc_param(params, g->wh), T, B, g->C, g->H);
    const float *d = dx;
    for (int l = g->nl - 1; l >= 0; l--) {
        const float *z = enc_z(g, (float *)acts, l, R);
        const float *a = z + R * g->sizes[l + 1];
        size_t n = R * (size_t)g->sizes[l + 1];
        memset(dz, 0, n * sizeof(float));
        lc_act_backward(g->act, dz, d, z, a, n);
        const float *in = l == 0 ? x : enc_z(g, (float *)acts, l - 1, R) + R * g->sizes[l];
        float *din = NULL;
        if (l > 0) {
            din = ping[l & 1];
            memset(din, 0, R * (size_t)g->sizes[l] * sizeof(float));
        }
        lc_linear_backward(din, lc_grad(params, g->w[l]), lc_grad(params, g->b[l]), dz, in,
                           lc_param(params, g->w[l]), (int)R, g->sizes[l], g->sizes[l + 1]);
        d = din;
    }
}

static void gru_destroy(void *self) { free(self); }

const lc_policy_arch lc_arch_gru = {
    .name = "gru",
    .summary = "MLP encoder -> GRU -> shared heads (recurrent, BPTT over the rollout)",
    .define = gru_define,
    .init = gru_init,
    .acts_size = gru_acts_size,
    .forward = gru_forward,
    .backward = gru_backward,
    .destroy = gru_destroy,
};
