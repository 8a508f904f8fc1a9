// policy/arch_mlp.c: the "mlp" and "mlp-ln" trunks: one (shared) or two (actor,
// critic) stacks of linear -> [layer norm] -> activation, widths from the config.
// Leaves out: residual connections, dropout, per-layer activations.
//
// R = rows (T * B), O = obs elements, h = a layer's width, L = hidden layers.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

#define MAXL LC_POLICY_MAX_HIDDEN

typedef struct mlp_arch {
    int O, nl, ntrunk, ln;
    int sizes[MAXL + 1]; // sizes[0] = O
    lc_act act;
    int w[2][MAXL], b[2][MAXL], lw[2][MAXL], lb[2][MAXL]; // param indices, trunk 0 = actor
} mlp_arch;

static int mlp_define_common(void **self, lc_params *params, const lc_space *obs,
                             const lc_policy_cfg *cfg, lc_policy_dims *dims, int ln,
                             lc_error *err) {
    if (cfg->nhidden < 1 || cfg->nhidden > MAXL)
        return lc_fail(err, LC_ERR_ARG, "mlp policy: needs 1..%d hidden layers, got %d", MAXL,
                       cfg->nhidden);
    mlp_arch *m = calloc(1, sizeof *m);
    if (!m) return lc_fail(err, LC_ERR_NOMEM, "mlp policy: out of memory");
    m->O = lc_space_size(obs);
    m->nl = cfg->nhidden;
    m->ntrunk = cfg->shared ? 1 : 2;
    m->ln = ln;
    m->act = cfg->act;
    m->sizes[0] = m->O;
    for (int l = 0; l < m->nl; l++) {
        if (cfg->hidden[l] < 1) {
            free(m);
            return lc_fail(err, LC_ERR_ARG, "mlp policy: hidden width %d must be >= 1",
                           cfg->hidden[l]);
        }
        m->sizes[l + 1] = cfg->hidden[l];
    }
    for (int t = 0; t < m->ntrunk; t++) {
        for (int l = 0; l < m->nl; l++) {
            char name[LC_NAME_MAX];
            const char *tn = m->ntrunk == 1 ? "trunk" : t == 0 ? "trunk.pi" : "trunk.v";
            int ws[2] = {m->sizes[l + 1], m->sizes[l]}, bs[1] = {m->sizes[l + 1]};
            snprintf(name, sizeof name, "%s.w%d", tn, l);
            m->w[t][l] = lc_params_add(params, name, 2, ws);
            snprintf(name, sizeof name, "%s.b%d", tn, l);
            m->b[t][l] = lc_params_add(params, name, 1, bs);
            if (ln) {
                snprintf(name, sizeof name, "%s.lnw%d", tn, l);
                m->lw[t][l] = lc_params_add(params, name, 1, bs);
                snprintf(name, sizeof name, "%s.lnb%d", tn, l);
                m->lb[t][l] = lc_params_add(params, name, 1, bs);
            }
        }
    }
    dims->fpi = dims->fv = m->sizes[m->nl];
    dims->shared = m->ntrunk == 1;
    dims->state_size = 0;
    *self = m;
    return LC_OK;
}

static int mlp_define(void **self, lc_params *params, const lc_space *obs,
                      const lc_policy_cfg *cfg, lc_policy_dims *dims, lc_error *err) {
    return mlp_define_common(self, params, obs, cfg, dims, 0, err);
}

static int mlp_ln_define(void **self, lc_params *params, const lc_space *obs,
                         const lc_policy_cfg *cfg, lc_policy_dims *dims, lc_error *err) {
    return mlp_define_common(self, params, obs, cfg, dims, 1, err);
}

static void mlp_init(void *self, lc_params *params, const lc_policy_cfg *cfg, lc_rng *rng) {
    mlp_arch *m = self;
    for (int t = 0; t < m->ntrunk; t++) {
        for (int l = 0; l < m->nl; l++) {
            lc_init_orthogonal(lc_param(params, m->w[t][l]), m->sizes[l + 1], m->sizes[l],
                               cfg->hidden_gain, rng);
            memset(lc_param(params, m->b[t][l]), 0, (size_t)m->sizes[l + 1] * sizeof(float));
            if (m->ln) {
                float *g = lc_param(params, m->lw[t][l]);
                for (int j = 0; j < m->sizes[l + 1]; j++) g[j] = 1.0f;
                memset(lc_param(params, m->lb[t][l]), 0, (size_t)m->sizes[l + 1] * sizeof(float));
            }
        }
    }
}

// Per trunk and layer: z (R, h), [y (R, h), mean (R), rstd (R)], a (R, h).
static size_t layer_size(const mlp_arch *m, int l, size_t R) {
    size_t h = (size_t)m->sizes[l + 1];
    return R * h * (m->ln ? 3 : 2) + (m->ln ? 2 * R : 0);
}

static size_t mlp_acts_size(void *self, int T, int B) {
    mlp_arch *m = self;
    size_t R = (size_t)T * B, n = 0;
    for (int l = 0; l < m->nl; l++) n += layer_size(m, l, R);
    n *= (size_t)m->ntrunk;
    // backward scratch reuses the same amount: two ping-pong buffers and dz, dy
    size_t maxh = 0;
    for (int l = 1; l <= m->nl; l++)
        if ((size_t)m->sizes[l] > maxh) maxh = (size_t)m->sizes[l];
    size_t scratch = 4 * R * maxh;
    return n > scratch ? n : scratch;
}

typedef struct layer_ptrs {
    float *z, *y, *mean, *rstd, *a;
} layer_ptrs;

static layer_ptrs layer_at(const mlp_arch *m, float *acts, int t, int l, size_t R) {
    size_t off = 0;
    for (int tt = 0; tt < t; tt++)
        for (int ll = 0; ll < m->nl; ll++) off += layer_size(m, ll, R);
    for (int ll = 0; ll < l; ll++) off += layer_size(m, ll, R);
    size_t h = (size_t)m->sizes[l + 1];
    layer_ptrs p;
    p.z = acts + off;
    if (m->ln) {
        p.y = p.z + R * h;
        p.mean = p.y + R * h;
        p.rstd = p.mean + R;
        p.a = p.rstd + R;
    } else {
        p.y = p.mean = p.rstd = NULL;
        p.a = p.z + R * h;
    }
    return p;
}

static void mlp_forward(void *self, const lc_params *params, float *acts, const float *x,
                        const uint8_t *reset, const float *state0, float *state_out, int T,
                        int B, float **fpi, float **fv) {
    (void)reset, (void)state0, (void)state_out;
    mlp_arch *m = self;
    size_t R = (size_t)T * B;
    float *out[2] = {NULL, NULL};
    for (int t = 0; t < m->ntrunk; t++) {
        const float *in = x;
        for (int l = 0; l < m->nl; l++) {
            layer_ptrs p = layer_at(m, acts, t, l, R);
            int C = m->sizes[l], H = m->sizes[l + 1];
            lc_linear_forward(p.z, in, lc_param(params, m->w[t][l]), lc_param(params, m->b[t][l]),
                              (int)R, C, H);
            const float *pre = p.z;
            if (m->ln) {
                lc_layernorm_forward(p.y, p.mean, p.rstd, p.z, lc_param(params, m->lw[t][l]),
                                     lc_param(params, m->lb[t][l]), (int)R, H);
                pre = p.y;
            }
            lc_act_forward(m->act, p.a, pre, R * (size_t)H);
            in = p.a;
        }
        out[t] = (float *)in;
    }
    *fpi = out[0];
    *fv = m->ntrunk == 2 ? out[1] : out[0];
}

static void mlp_backward(void *self, lc_params *params, float *work, const float *acts,
                         const float *x, const uint8_t *reset, const float *state0,
                         const float *dfpi, const float *dfv, int T, int B) {
    (void)reset, (void)state0;
    mlp_arch *m = self;
    size_t R = (size_t)T * B;
    size_t maxh = 0;
    for (int l = 1; l <= m->nl; l++)
        if ((size_t)m->sizes[l] > maxh) maxh = (size_t)m->sizes[l];
    float *ping[2] = {work, work + R * maxh};
    float *dz = work + 2 * R * maxh, *dy = work + 3 * R * maxh;
    for (int t = 0; t < m->ntrunk; t++) {
        const float *d = t == 0 ? dfpi : dfv;
        for (int l = m->nl - 1; l >= 0; l--) {
            layer_ptrs p = layer_at(m, (float *)acts, t, l, R);
            int C = m->sizes[l], H = m->sizes[l + 1];
            size_t n = R * (size_t)H;
            memset(dz, 0, n * sizeof(float));
            if (m->ln) {
                memset(dy, 0, n * sizeof(float));
                lc_act_backward(m->act, dy, d, p.y, p.a, n);
                lc_layernorm_backward(dz, lc_grad(params, m->lw[t][l]), lc_grad(params, m->lb[t][l]),
                                      dy, p.z, lc_param(params, m->lw[t][l]), p.mean, p.rstd,
                                      (int)R, H);
            } else {
                lc_act_backward(m->act, dz, d, p.z, p.a, n);
            }
            const float *in = l == 0 ? x : layer_at(m, (float *)acts, t, l - 1, R).a;
            float *din = NULL;
            if (l > 0) {
                din = ping[l & 1];
                memset(din, 0, R * (size_t)C * sizeof(float));
            }
            lc_linear_backward(din, lc_grad(params, m->w[t][l]), lc_grad(params, m->b[t][l]), dz,
                               in, lc_param(params, m->w[t][l]), (int)R, C, H);
            d = din;
        }
    }
}

static void mlp_destroy(void *self) { free(self); }

const lc_policy_arch lc_arch_mlp = {
    .name = "mlp",
    .summary = "multi-layer perceptron (separate or shared actor/critic trunks)",
    .define = mlp_define,
    .init = mlp_init,
    .acts_size = mlp_acts_size,
    .forward = mlp_forward,
    .backward = mlp_backward,
    .destroy = mlp_destroy,
};

const lc_policy_arch lc_arch_mlp_ln = {
    .name = "mlp-ln",
    .summary = "multi-layer perceptron with layer norm before each activation",
    .define = mlp_ln_define,
    .init = mlp_init,
    .acts_size = mlp_acts_size,
    .forward = mlp_forward,
    .backward = mlp_backward,
    .destroy = mlp_destroy,
};
