// policy/arch_attn.c: the "attn" trunk: each observation element is a token
// (value times a learned per-element vector plus a per-element bias), one pre-norm
// single-head self-attention block with a residual, then the tokens flattened into a
// linear layer and the activation. One (shared) or two (actor, critic) trunks.
// Leaves out: multi-head attention, feed-forward sublayers, stacked blocks, image
// observations and observations of more than ATTN_MAX_TOKENS elements (unsupported).
//
// R = rows (T * B), O = tokens (obs elements), D = token width (cfg.hidden[0]),
// F = feature width (cfg.hidden[last]; D when there is one hidden width).
// Per row: E (O, D) = x[j] We[j] + be[j]; N = LN(E); [Q K V] = N Wqkv^T + bqkv;
// P = softmax(Q K^T / sqrt(D)); Y = P V; H = E + Y Wo^T + bo; f = act(flat(H) Wf^T + bf).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

#define ATTN_MAX_TOKENS 64

typedef struct attn_arch {
    int O, D, F, ntrunk;
    lc_act act;
    // param indices per trunk (0 = actor or shared, 1 = critic)
    int we[2], be[2], lnw[2], lnb[2], wqkv[2], bqkv[2], wo[2], bo[2], wf[2], bf[2];
} attn_arch;

static int attn_define(void **self, lc_params *params, const lc_space *obs,
                       const lc_policy_cfg *cfg, lc_policy_dims *dims, lc_error *err) {
    if (obs->kind != LC_SPACE_BOX || obs->dtype != LC_F32 || obs->ndim != 1)
        return lc_fail(err, LC_ERR_UNSUPPORTED,
                       "attn policy: needs a flat float observation (tokens are its elements)");
    int O = lc_space_size(obs);
    if (O < 1 || O > ATTN_MAX_TOKENS)
        return lc_fail(err, LC_ERR_UNSUPPORTED, "attn policy: %d observation elements (1..%d)", O,
                       ATTN_MAX_TOKENS);
    if (cfg->nhidden < 1 || cfg->nhidden > LC_POLICY_MAX_HIDDEN)
        return lc_fail(err, LC_ERR_ARG, "attn policy: needs 1 or 2 hidden widths (D[,F]), got %d",
                       cfg->nhidden);
    int D = cfg->hidden[0], F = cfg->hidden[cfg->nhidden - 1];
    if (D < 1 || F < 1 || D > 4096 || F > 65536)
        return lc_fail(err, LC_ERR_ARG, "attn policy: widths D %d, F %d out of range", D, F);
    attn_arch *a = calloc(1, sizeof *a);
    if (!a) return lc_fail(err, LC_ERR_NOMEM, "attn policy: out of memory");
    a->O = O;
    a->D = D;
    a->F = F;
    a->act = cfg->act;
    a->ntrunk = cfg->shared ? 1 : 2;
    for (int t = 0; t < a->ntrunk; t++) {
        const char *tn = a->ntrunk == 1 ? "trunk" : t == 0 ? "trunk.pi" : "trunk.v";
        char name[LC_NAME_MAX];
        int s_od[2] = {O, D}, s_d[1] = {D}, s_qkv[2] = {3 * D, D}, s_3d[1] = {3 * D};
        int s_dd[2] = {D, D}, s_f[2] = {F, O * D}, s_fb[1] = {F};
#define ADD(idx, suffix, nd, shape)                          \
    snprintf(name, sizeof name, "%s.%s", tn, suffix);        \
    a->idx[t] = lc_params_add(params, name, nd, shape);
        ADD(we, "emb.w", 2, s_od)
        ADD(be, "emb.b", 2, s_od)
        ADD(lnw, "ln.w", 1, s_d)
        ADD(lnb, "ln.b", 1, s_d)
        ADD(wqkv, "qkv.w", 2, s_qkv)
        ADD(bqkv, "qkv.b", 1, s_3d)
        ADD(wo, "out.w", 2, s_dd)
        ADD(bo, "out.b", 1, s_d)
        ADD(wf, "feat.w", 2, s_f)
        ADD(bf, "feat.b", 1, s_fb)
#undef ADD
    }
    dims->fpi = dims->fv = F;
    dims->shared = a->ntrunk == 1;
    dims->state_size = 0;
    *self = a;
    return LC_OK;
}

static void attn_init(void *self, lc_params *params, const lc_policy_cfg *cfg, lc_rng *rng) {
    attn_arch *a = self;
    size_t OD = (size_t)a->O * a->D;
    for (int t = 0; t < a->ntrunk; t++) {
        // Token vectors and biases ~ N(0, 1): distinct tokens whose layer norm still
        // sees the element's magnitude through the bias.
        lc_init_normal(lc_param(params, a->we[t]), OD, 1.0f, rng);
        lc_init_normal(lc_param(params, a->be[t]), OD, 1.0f, rng);
        float *g = lc_param(params, a->lnw[t]);
        for (int j = 0; j < a->D; j++) g[j] = 1.0f;
        memset(lc_param(params, a->lnb[t]), 0, (size_t)a->D * sizeof(float));
        lc_init_orthogonal(lc_param(params, a->wqkv[t]), 3 * a->D, a->D, 1.0f, rng);
        memset(lc_param(params, a->bqkv[t]), 0, 3 * (size_t)a->D * sizeof(float));
        lc_init_orthogonal(lc_param(params, a->wo[t]), a->D, a->D, 1.0f, rng);
        memset(lc_param(params, a->bo[t]), 0, (size_t)a->D * sizeof(float));
        lc_init_orthogonal(lc_param(params, a->wf[t]), a->F, (int)OD, cfg->hidden_gain, rng);
        memset(lc_param(params, a->bf[t]), 0, (size_t)a->F * sizeof(float));
    }
}

// Forward memory of one trunk, in order: E, N, QKV (3), Y, H (each R*O*D but QKV),
// mean, rstd (R*O), P (R*O*O), Z, f (R*F).
static size_t trunk_size(const attn_arch *a, size_t R) {
    size_t O = (size_t)a->O, D = (size_t)a->D, F = (size_t)a->F;
    return R * (O * D * 7 + 2 * O + O * O + 2 * F);
}

// Backward scratch: dZ (R*F), dH, dY, dN (R*O*D each), dQKV (R*O*3D), dP (O*O).
static size_t scratch_size(const attn_arch *a, size_t R) {
    size_t O = (size_t)a->O, D = (size_t)a->D, F = (size_t)a->F;
    return R * (F + 6 * O * D) + O * O;
}

static size_t attn_acts_size(void *self, int T, int B) {
    attn_arch *a = self;
    size_t R = (size_t)T * B;
    size_t fwd = trunk_size(a, R) * (size_t)a->ntrunk, bwd = scratch_size(a, R);
    return fwd > bwd ? fwd : bwd;
}

typedef struct trunk_ptrs {
    float *E, *N, *QKV, *Y, *H, *mean, *rstd, *P, *Z, *f;
} trunk_ptrs;

static trunk_ptrs trunk_at(const attn_arch *a, float *acts, int t, size_t R) {
    size_t O = (size_t)a->O, D = (size_t)a->D, F = (size_t)a->F, rod = R * O * D;
    trunk_ptrs p;
    p.E = acts + (size_t)t * trunk_size(a, R);
    p.N = p.E + rod;
    p.QKV = p.N + rod;
    p.Y = p.QKV + 3 * rod;
    p.H = p.Y + rod;
    p.mean = p.H + rod;
    p.rstd = p.mean + R * O;
    p.P = p.rstd + R * O;
    p.Z = p.P + R * O * O;
    p.f = p.Z + R * F;
    return p;
}

static void trunk_forward(const attn_arch *a, const lc_params *params, int t, trunk_ptrs p,
                          const float *x, size_t R) {
    int O = a->O, D = a->D, RO = (int)(R * (size_t)O);
    const float *we = lc_param(params, a->we[t]), *be = lc_param(params, a->be[t]);
    for (size_t r = 0; r < R; r++)
        for (int j = 0; j < O; j++) {
            float xv = x[r * O + j], *e = p.E + (r * O + j) * D;
            const float *w = we + (size_t)j * D, *b = be + (size_t)j * D;
            for (int d = 0; d < D; d++) e[d] = xv * w[d] + b[d];
        }
    lc_layernorm_forward(p.N, p.mean, p.rstd, p.E, lc_param(params, a->lnw[t]),
                         lc_param(params, a->lnb[t]), RO, D);
    lc_linear_forward(p.QKV, p.N, lc_param(params, a->wqkv[t]), lc_param(params, a->bqkv[t]), RO,
                      D, 3 * D);
    float scale = 1.0f / sqrtf((float)D);
    for (size_t r = 0; r < R; r++) {
        const float *qkv = p.QKV + r * O * 3 * D;
        float *P = p.P + r * O * O, *Y = p.Y + r * O * D;
        for (int i = 0; i < O; i++) {
            const float *q = qkv + (size_t)i * 3 * D;
            float *Pi = P + (size_t)i * O, mx = -INFINITY;
            for (int j = 0; j < O; j++) {
                const float *k = qkv + (size_t)j * 3 * D + D;
                float s = 0;
                for (int d = 0; d < D; d++) s += q[d] * k[d];
                Pi[j] = s * scale;
                mx = Pi[j] > mx ? Pi[j] : mx;
            }
            float sum = 0;
            for (int j = 0; j < O; j++) sum += Pi[j] = expf(Pi[j] - mx);
            for (int j = 0; j < O; j++) Pi[j] /= sum;
            float *y = Y + (size_t)i * D;
            memset(y, 0, (size_t)D * sizeof(float));
            for (int j = 0; j < O; j++) {
                const float *v = qkv + (size_t)j * 3 * D + 2 * D;
                for (int d = 0; d < D; d++) y[d] += Pi[j] * v[d];
            }
        }
    }
    lc_linear_forward(p.H, p.Y, lc_param(params, a->wo[t]), lc_param(params, a->bo[t]), RO, D, D);
    size_t rod = R * (size_t)O * D;
    for (size_t i = 0; i < rod; i++) p.H[i] += p.E[i];
    lc_linear_forward(p.Z, p.H, lc_param(params, a->wf[t]), lc_param(params, a->bf[t]), (int)R,
                      O * D, a->F);
    lc_act_forward(a->act, p.f, p.Z, R * (size_t)a->F);
}

static void attn_forward(void *self, const lc_params *params, float *acts, const float *x,
                         const uint8_t *reset, const float *state0, float *state_out, int T, int B,
                         float **fpi, float **fv) {
    (void)reset, (void)state0, (void)state_out;
    attn_arch *a = self;
    size_t R = (size_t)T * B;
    for (int t = 0; t < a->ntrunk; t++) trunk_forward(a, params, t, trunk_at(a, acts, t, R), x, R);
    *fpi = trunk_at(a, acts, 0, R).f;
    *fv = trunk_at(a, acts, a->ntrunk - 1, R).f;
}

static void trunk_backward(const attn_arch *a, lc_params *params, int t, trunk_ptrs p,
                           const float *x, const float *df, float *work, size_t R) {
    int O = a->O, D = a->D, F = a->F, RO = (int)(R * (size_t)O);
    size_t rod = R * (size_t)O * D;
    float *dZ = work, *dH = dZ + R * F, *dY = dH + rod, *dN = dY + rod, *dQKV = dN + rod;
    float *dP = dQKV + 3 * rod;
    memset(work, 0, scratch_size(a, R) * sizeof(float));
    lc_act_backward(a->act, dZ, df, p.Z, p.f, R * (size_t)F);
    lc_linear_backward(dH, lc_grad(params, a->wf[t]), lc_grad(params, a->bf[t]), dZ, p.H,
                       lc_param(params, a->wf[t]), (int)R, O * D, F);
    // H = E + Y Wo^T + bo: dH flows to E unchanged and through Wo to Y.
    lc_linear_backward(dY, lc_grad(params, a->wo[t]), lc_grad(params, a->bo[t]), dH, p.Y,
                       lc_param(params, a->wo[t]), RO, D, D);
    float scale = 1.0f / sqrtf((float)D);
    for (size_t r = 0; r < R; r++) {
        const float *qkv = p.QKV + r * O * 3 * D, *P = p.P + r * O * O;
        const float *dYr = dY + r * O * D;
        float *dq = dQKV + r * O * 3 * D;
        for (int i = 0; i < O; i++) {
            const float *Pi = P + (size_t)i * O, *dy = dYr + (size_t)i * D;
            float *dPi = dP + (size_t)i * O, dot = 0;
            for (int j = 0; j < O; j++) {
                const float *v = qkv + (size_t)j * 3 * D + 2 * D;
                float *dv = dq + (size_t)j * 3 * D + 2 * D, s = 0;
                for (int d = 0; d < D; d++) {
                    s += dy[d] * v[d];
                    dv[d] += Pi[j] * dy[d];
                }
                dPi[j] = s;
                dot += s * Pi[j];
            }
            // dS_ij = P_ij (dP_ij - sum_k P_ik dP_ik), times the scale for q and k.
            const float *q = qkv + (size_t)i * 3 * D;
            float *dqi = dq + (size_t)i * 3 * D;
            for (int j = 0; j < O; j++) {
                float ds = Pi[j] * (dPi[j] - dot) * scale;
                const float *k = qkv + (size_t)j * 3 * D + D;
                float *dk = dq + (size_t)j * 3 * D + D;
                for (int d = 0; d < D; d++) {
                    dqi[d] += ds * k[d];
                    dk[d] += ds * q[d];
                }
            }
        }
    }
    lc_linear_backward(dN, lc_grad(params, a->wqkv[t]), lc_grad(params, a->bqkv[t]), dQKV, p.N,
                       lc_param(params, a->wqkv[t]), RO, D, 3 * D);
    // dE = dH (residual) + the layer norm's input gradient, accumulated into dH.
    lc_layernorm_backward(dH, lc_grad(params, a->lnw[t]), lc_grad(params, a->lnb[t]), dN, p.E,
                          lc_param(params, a->lnw[t]), p.mean, p.rstd, RO, D);
    float *dwe = lc_grad(params, a->we[t]), *dbe = lc_grad(params, a->be[t]);
    for (size_t r = 0; r < R; r++)
        for (int j = 0; j < O; j++) {
            float xv = x[r * O + j];
            const float *de = dH + (r * O + j) * D;
            float *gw = dwe + (size_t)j * D, *gb = dbe + (size_t)j * D;
            for (int d = 0; d < D; d++) {
                gw[d] += de[d] * xv;
                gb[d] += de[d];
            }
        }
}

static void attn_backward(void *self, lc_params *params, float *work, const float *acts,
                          const float *x, const uint8_t *reset, const float *state0,
                          const float *dfpi, const float *dfv, int T, int B) {
    (void)reset, (void)state0;
    attn_arch *a = self;
    size_t R = (size_t)T * B;
    for (int t = 0; t < a->ntrunk; t++)
        trunk_backward(a, params, t, trunk_at(a, (float *)acts, t, R), x, t == 0 ? dfpi : dfv,
                       work, R);
}

static void attn_destroy(void *self) { free(self); }

const lc_policy_arch lc_arch_attn = {
    .name = "attn",
    .summary = "self-attention over observation elements as tokens (flat float obs, <= 64)",
    .define = attn_define,
    .init = attn_init,
    .acts_size = attn_acts_size,
    .forward = attn_forward,
    .backward = attn_backward,
    .destroy = attn_destroy,
};
