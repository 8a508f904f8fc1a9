// policy/policy.c: the actor-critic object: a trunk from the arch table, linear
// actor and critic heads, categorical / diagonal Gaussian distributions, acting on N
// env slots with per-slot recurrent state, training passes, obs-norm stats, files.
// Leaves out: the PPO loss (policy/ppo.c), the trunks themselves (policy/arch_*.c).
//
// Letters as policy.h: N slots, T steps, B sequences, R = T*B rows, O obs elements,
// A action elements, L head outputs, S state floats, F trunk features.
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "core/settings.h"

#define LOG_2PI 1.8378770664093453f

enum { HEAD_CAT = 0, HEAD_GAUSS = 1 };

// Buffers for one pass over R rows (acting, values, or a training minibatch).
typedef struct pass {
    size_t rows;        // capacity in rows
    size_t nacts;       // capacity of acts/work in floats
    float *acts, *work; // arch activations and backward scratch
    float *x;           // (R, O) float observations (uint8 converted, or copied)
    float *head;        // (R, L) logits or Gaussian means
    float *value;       // (R)
    float *dhead;       // (R, L)
    float *dfpi, *dfv;  // (R, fpi), (R, fv)
    float *dv;          // (R)
    void *actions;      // (R, A) the evaluated actions (training)
    uint8_t *starts;    // (R) training resets
    float *state0;      // (B, S) training initial state / acting gathered state
    float *state1;      // (B, S) acting: gathered state after the step
    uint8_t *mask;      // (R) acting: gathered episode starts
    float *fpi, *fv;    // pointers into acts after forward
    int T, B;           // the live training pass
} pass;

struct lc_policy {
    lc_policy_cfg cfg;
    lc_space obs_space, act_space;
    int O, A, L, head_kind, ncomp;
    int nvec[LC_MAX_NVEC];
    const lc_policy_arch *arch;
    void *self;
    lc_policy_dims dims;
    lc_params params;
    int hpw, hpb, hvw, hvb, hls; // head param indices (hls: log std, -1 if categorical)
    char env_name[256];
    int has_norm, norm_n;
    double norm_count;
    double *norm_mean, *norm_var; // (norm_n)
    float norm_clip;
    int slots;
    float *state; // (slots, S)
    pass act, train;
};

// ---------------------------------------------------------------- config

lc_policy_cfg lc_policy_cfg_default(void) {
    lc_policy_cfg c;
    memset(&c, 0, sizeof c);
    snprintf(c.arch, sizeof c.arch, "mlp");
    c.nhidden = 2;
    c.hidden[0] = c.hidden[1] = 64;
    c.act = LC_ACT_TANH;
    c.shared = 0;
    c.rnn_hidden = 128;
    c.cnn_features = 256;
    c.log_std_init = 0.0f;
    c.hidden_gain = sqrtf(2.0f);
    c.pi_gain = 0.01f;
    c.v_gain = 1.0f;
    return c;
}

int lc_policy_cfg_parse_hidden(lc_policy_cfg *cfg, const char *s, lc_error *err) {
    if (!s) return lc_fail(err, LC_ERR_ARG, "hidden sizes: missing list");
    int n = 0, w[LC_POLICY_MAX_HIDDEN];
    const char *q = s;
    while (*q) {
        char *end;
        long v = strtol(q, &end, 10);
        if (end == q || v < 1 || v > 65536)
            return lc_fail(err, LC_ERR_ARG, "hidden sizes '%s': expected widths like 64,64", s);
        if (n == LC_POLICY_MAX_HIDDEN)
            return lc_fail(err, LC_ERR_ARG, "hidden sizes '%s': at most %d layers", s,
                           LC_POLICY_MAX_HIDDEN);
        w[n++] = (int)v;
        q = end;
        if (*q == ',' || *q == 'x') q++;
        else if (*q)
            return lc_fail(err, LC_ERR_ARG, "hidden sizes '%s': expected widths like 64,64", s);
    }
    if (n == 0) return lc_fail(err, LC_ERR_ARG, "hidden sizes: empty list");
    cfg->nhidden = n;
    for (int i = 0; i < n; i++) cfg->hidden[i] = w[i];
    return LC_OK;
}

// ---------------------------------------------------------------- creation

static void pass_free(pass *ps) {
    free(ps->acts);
    free(ps->work);
    free(ps->x);
    free(ps->head);
    free(ps->value);
    free(ps->dhead);
    free(ps->dfpi);
    free(ps->dfv);
    free(ps->dv);
    free(ps->actions);
    free(ps->starts);
    free(ps->state0);
    free(ps->state1);
    free(ps->mask);
    memset(ps, 0, sizeof *ps);
}

// Makes room for T x B rows (B sequences for the state buffers).
static int pass_reserve(lc_policy *p, pass *ps, int T, int B, lc_error *err) {
    size_t R = (size_t)T * B;
    size_t na = p->arch->acts_size(p->self, T, B);
    if (R <= ps->rows && na <= ps->nacts && (size_t)B <= ps->rows) return LC_OK;
    size_t rows = R > ps->rows ? R : ps->rows;
    size_t nacts = na > ps->nacts ? na : ps->nacts;
    pass_free(ps);
    size_t S = (size_t)p->dims.state_size, A = (size_t)p->A;
    size_t asz = p->head_kind == HEAD_CAT ? sizeof(int32_t) : sizeof(float);
    ps->rows = rows;
    ps->nacts = nacts;
    ps->acts = malloc((nacts ? nacts : 1) * sizeof(float));
    ps->work = malloc((nacts ? nacts : 1) * sizeof(float));
    ps->x = malloc(rows * p->O * sizeof(float));
    ps->head = malloc(rows * p->L * sizeof(float));
    ps->value = malloc(rows * sizeof(float));
    ps->dhead = malloc(rows * p->L * sizeof(float));
    ps->dfpi = malloc(rows * p->dims.fpi * sizeof(float));
    ps->dfv = malloc(rows * p->dims.fv * sizeof(float));
    ps->dv = malloc(rows * sizeof(float));
    ps->actions = malloc(rows * A * asz);
    ps->starts = malloc(rows);
    size_t ns = rows * S > 0 ? rows * S : 1;
    ps->state0 = malloc(ns * sizeof(float));
    ps->state1 = malloc(ns * sizeof(float));
    ps->mask = malloc(rows);
    if (!ps->acts || !ps->work || !ps->x || !ps->head || !ps->value || !ps->dhead ||
        !ps->dfpi || !ps->dfv || !ps->dv || !ps->actions || !ps->starts || !ps->state0 ||
        !ps->state1 || !ps->mask) {
        pass_free(ps);
        return lc_fail(err, LC_ERR_NOMEM, "policy: out of memory for %zu rows", rows);
    }
    return LC_OK;
}

static int grow_slots(lc_policy *p, int N, lc_error *err) {
    if (N <= p->slots) return LC_OK;
    size_t S = (size_t)p->dims.state_size;
    if (S) {
        float *s = realloc(p->state, (size_t)N * S * sizeof(float));
        if (!s) return lc_fail(err, LC_ERR_NOMEM, "policy: out of memory for %d slots", N);
        memset(s + (size_t)p->slots * S, 0, (size_t)(N - p->slots) * S * sizeof(float));
        p->state = s;
    }
    p->slots = N;
    return LC_OK;
}

int lc_policy_new(lc_policy **out, const lc_space *obs_space, const lc_space *act_space,
                  const lc_policy_cfg *cfg, uint64_t seed, lc_error *err) {
    assert(out && obs_space && act_space && cfg);
    *out = NULL;
    const lc_policy_arch *arch = lc_policy_arch_find(cfg->arch);
    if (!arch) {
        char names[256] = "";
        for (int i = 0; i < lc_policy_arch_count(); i++) {
            const lc_policy_arch *a = lc_policy_arch_at(i);
            if (!a) continue;
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s%s", l ? ", " : "", a->name);
        }
        return lc_fail(err, LC_ERR_ARG, "unknown policy architecture '%s' (known: %s)", cfg->arch,
                       names);
    }
    if (obs_space->kind != LC_SPACE_BOX)
        return lc_fail(err, LC_ERR_UNSUPPORTED, "policy: observations must be a Box space");
    lc_policy *p = calloc(1, sizeof *p);
    if (!p) return lc_fail(err, LC_ERR_NOMEM, "policy: out of memory");
    p->cfg = *cfg;
    p->obs_space = *obs_space;
    p->act_space = *act_space;
    p->arch = arch;
    p->O = lc_space_size(obs_space);
    p->A = lc_space_size(act_space);
    p->hls = -1;
    switch (act_space->kind) {
    case LC_SPACE_DISCRETE:
        if (act_space->n < 1) {
            free(p);
            return lc_fail(err, LC_ERR_ARG, "policy: Discrete(%d) has no actions", act_space->n);
        }
        p->head_kind = HEAD_CAT;
        p->ncomp = 1;
        p->nvec[0] = act_space->n;
        p->L = act_space->n;
        p->A = 1;
        break;
    case LC_SPACE_MULTI_DISCRETE:
        p->head_kind = HEAD_CAT;
        p->ncomp = act_space->shape[0];
        if (act_space->shape[0] < 1 || act_space->shape[0] > LC_MAX_NVEC) {
            free(p);
            return lc_fail(err, LC_ERR_ARG, "policy: MultiDiscrete with %d components",
                           act_space->shape[0]);
        }
        p->L = 0;
        for (int c = 0; c < p->ncomp; c++) {
            if (act_space->nvec[c] < 1) {
                free(p);
                return lc_fail(err, LC_ERR_ARG, "policy: MultiDiscrete component %d has %d choices",
                               c, act_space->nvec[c]);
            }
            p->nvec[c] = act_space->nvec[c];
            p->L += act_space->nvec[c];
        }
        p->A = p->ncomp;
        break;
    case LC_SPACE_BOX:
        if (act_space->dtype != LC_F32) {
            free(p);
            return lc_fail(err, LC_ERR_UNSUPPORTED, "policy: Box actions must be float32");
        }
        p->head_kind = HEAD_GAUSS;
        p->L = p->A;
        break;
    default:
        free(p);
        return lc_fail(err, LC_ERR_UNSUPPORTED, "policy: unsupported action space");
    }
    lc_params_init(&p->params);
    int rc = arch->define(&p->self, &p->params, obs_space, cfg, &p->dims, err);
    if (rc) {
        free(p);
        return rc;
    }
    int hw[2] = {p->L, p->dims.fpi}, hb[1] = {p->L};
    int vw[2] = {1, p->dims.fv}, vb[1] = {1}, ls[1] = {p->L};
    p->hpw = lc_params_add(&p->params, "head.pi.w", 2, hw);
    p->hpb = lc_params_add(&p->params, "head.pi.b", 1, hb);
    p->hvw = lc_params_add(&p->params, "head.v.w", 2, vw);
    p->hvb = lc_params_add(&p->params, "head.v.b", 1, vb);
    if (p->head_kind == HEAD_GAUSS) p->hls = lc_params_add(&p->params, "head.log_std", 1, ls);
    if ((rc = lc_params_alloc(&p->params, err))) {
        lc_policy_free(p);
        return rc;
    }
    lc_rng rng;
    lc_rng_seed(&rng, seed, 0x706f6c6963ULL); // "polic"
    if (arch->init) arch->init(p->self, &p->params, cfg, &rng);
    lc_init_orthogonal(lc_param(&p->params, p->hpw), p->L, p->dims.fpi, cfg->pi_gain, &rng);
    lc_init_orthogonal(lc_param(&p->params, p->hvw), 1, p->dims.fv, cfg->v_gain, &rng);
    memset(lc_param(&p->params, p->hpb), 0, (size_t)p->L * sizeof(float));
    lc_param(&p->params, p->hvb)[0] = 0.0f;
    if (p->hls >= 0) {
        float *l = lc_param(&p->params, p->hls);
        for (int j = 0; j < p->L; j++) l[j] = cfg->log_std_init;
    }
    *out = p;
    return LC_OK;
}

void lc_policy_free(lc_policy *p) {
    if (!p) return;
    if (p->arch && p->arch->destroy && p->self) p->arch->destroy(p->self);
    lc_params_free(&p->params);
    pass_free(&p->act);
    pass_free(&p->train);
    free(p->state);
    free(p->norm_mean);
    free(p->norm_var);
    free(p);
}

const lc_policy_cfg *lc_policy_get_cfg(const lc_policy *p) { return &p->cfg; }
const lc_space *lc_policy_obs_space(const lc_policy *p) { return &p->obs_space; }
const lc_space *lc_policy_act_space(const lc_policy *p) { return &p->act_space; }
int lc_policy_obs_size(const lc_policy *p) { return p->O; }
int lc_policy_act_size(const lc_policy *p) { return p->A; }
int lc_policy_state_size(const lc_policy *p) { return p->dims.state_size; }
lc_params *lc_policy_params(lc_policy *p) { return &p->params; }
size_t lc_policy_nparams(const lc_policy *p) { return p->params.n; }
const char *lc_policy_env_name(const lc_policy *p) { return p->env_name; }
void lc_policy_set_env_name(lc_policy *p, const char *name) {
    snprintf(p->env_name, sizeof p->env_name, "%s", name ? name : "");
}

// ---------------------------------------------------------------- distributions

static float logsumexp(const float *z, int V) {
    float m = z[0];
    for (int j = 1; j < V; j++) m = z[j] > m ? z[j] : m;
    float s = 0.0f;
    for (int j = 0; j < V; j++) s += expf(z[j] - m);
    return m + logf(s);
}

float lc_categorical_logp(const float *logits, int V, int a) {
    assert(a >= 0 && a < V);
    return logits[a] - logsumexp(logits, V);
}

float lc_categorical_entropy(const float *logits, int V) {
    float lse = logsumexp(logits, V), h = 0.0f;
    for (int j = 0; j < V; j++) {
        float lp = logits[j] - lse;
        h -= expf(lp) * lp;
    }
    return h;
}

float lc_gaussian_logp(const float *x, const float *mean, const float *log_std, int D) {
    float s = 0.0f;
    for (int j = 0; j < D; j++) {
        float z = (x[j] - mean[j]) * expf(-log_std[j]);
        s += -0.5f * z * z - log_std[j] - 0.5f * LOG_2PI;
    }
    return s;
}

float lc_gaussian_entropy(const float *log_std, int D) {
    float s = 0.0f;
    for (int j = 0; j < D; j++) s += log_std[j] + 0.5f * (1.0f + LOG_2PI);
    return s;
}

// Categorical over one component: samples (or argmax) into *a, returns log p(a).
static float cat_act(const float *z, int V, int deterministic, lc_rng *rng, int32_t *a) {
    float lse = logsumexp(z, V);
    int pick = 0;
    if (deterministic) {
        for (int j = 1; j < V; j++)
            if (z[j] > z[pick]) pick = j;
    } else {
        float u = lc_rng_float(rng), c = 0.0f;
        pick = V - 1;
        for (int j = 0; j < V; j++) {
            c += expf(z[j] - lse);
            if (u < c) {
                pick = j;
                break;
            }
        }
    }
    *a = pick;
    return z[pick] - lse;
}

// Per row of the head output: log-prob and entropy of the given actions.
static void dist_eval(const lc_policy *p, const float *head, const void *actions, size_t R,
                      float *logp, float *entropy) {
    if (p->head_kind == HEAD_CAT) {
        const int32_t *act = actions;
        for (size_t r = 0; r < R; r++) {
            const float *z = head + r * p->L;
            float lp = 0.0f, h = 0.0f;
            for (int c = 0; c < p->ncomp; c++) {
                int V = p->nvec[c];
                int a = act[r * p->A + c];
                float lse = logsumexp(z, V);
                lp += z[a] - lse;
                if (entropy) {
                    for (int j = 0; j < V; j++) {
                        float l = z[j] - lse;
                        h -= expf(l) * l;
                    }
                }
                z += V;
            }
            if (logp) logp[r] = lp;
            if (entropy) entropy[r] = h;
        }
    } else {
        const float *act = actions;
        const float *ls = lc_param(&p->params, p->hls);
        float ent = lc_gaussian_entropy(ls, p->A);
        for (size_t r = 0; r < R; r++) {
            if (logp) logp[r] = lc_gaussian_logp(act + r * p->A, head + r * p->L, ls, p->A);
            if (entropy) entropy[r] = ent;
        }
    }
}

// dhead (R, L) = d(loss)/d(head) from dlogp and dent per row; log-std grads +=.
static void dist_backward(lc_policy *p, float *dhead, const float *head, const void *actions,
                          size_t R, const float *dlogp, const float *dent) {
    if (p->head_kind == HEAD_CAT) {
        const int32_t *act = actions;
        for (size_t r = 0; r < R; r++) {
            const float *z = head + r * p->L;
            float *dz = dhead + r * p->L;
            float gl = dlogp ? dlogp[r] : 0.0f, ge = dent ? dent[r] : 0.0f;
            for (int c = 0; c < p->ncomp; c++) {
                int V = p->nvec[c];
                int a = act[r * p->A + c];
                float lse = logsumexp(z, V), h = 0.0f;
                if (ge != 0.0f)
                    for (int j = 0; j < V; j++) {
                        float l = z[j] - lse;
                        h -= expf(l) * l;
                    }
                for (int j = 0; j < V; j++) {
                    float l = z[j] - lse, pj = expf(l);
                    dz[j] = gl * ((j == a ? 1.0f : 0.0f) - pj) - ge * pj * (l + h);
                }
                z += V;
                dz += V;
            }
        }
    } else {
        const float *act = actions;
        const float *ls = lc_param(&p->params, p->hls);
        float *dls = lc_grad(&p->params, p->hls);
        int D = p->A;
        for (size_t r = 0; r < R; r++) {
            const float *mu = head + r * D, *x = act + r * D;
            float *dm = dhead + r * D;
            float gl = dlogp ? dlogp[r] : 0.0f, ge = dent ? dent[r] : 0.0f;
            for (int j = 0; j < D; j++) {
                float is = expf(-ls[j]);
                float z = (x[j] - mu[j]) * is;
                dm[j] = gl * z * is;
                dls[j] += gl * (z * z - 1.0f) + ge;
            }
        }
    }
}

// ---------------------------------------------------------------- forward passes

// The rows of obs as floats: a pointer to obs itself when it is already float.
static const float *obs_float(const lc_policy *p, float *buf, const void *obs, size_t R,
                              int copy) {
    size_t n = R * (size_t)p->O;
    if (p->obs_space.dtype == LC_U8) {
        const uint8_t *u = obs;
        for (size_t i = 0; i < n; i++) buf[i] = (float)u[i];
        return buf;
    }
    if (!copy) return obs;
    memcpy(buf, obs, n * sizeof(float));
    return buf;
}

// Trunk + heads over T x B rows of x. Writes ps->head, ps->value, ps->fpi/fv.
static void net_forward(lc_policy *p, pass *ps, const float *x, const uint8_t *reset,
                        const float *state0, float *state_out, int T, int B, int need_head) {
    size_t R = (size_t)T * B;
    p->arch->forward(p->self, &p->params, ps->acts, x, reset, state0, state_out, T, B, &ps->fpi,
                     &ps->fv);
    if (need_head)
        lc_linear_forward(ps->head, ps->fpi, lc_param(&p->params, p->hpw),
                          lc_param(&p->params, p->hpb), (int)R, p->dims.fpi, p->L);
    lc_linear_forward(ps->value, ps->fv, lc_param(&p->params, p->hvw),
                      lc_param(&p->params, p->hvb), (int)R, p->dims.fv, 1);
}

int lc_policy_sample_cb(void *ctx, const uint8_t *obs, int N, const uint8_t *episode_start,
                        int32_t *actions, lc_error *err) {
    lc_policy_sampler *c = ctx;
    return lc_policy_act(c->p, obs, N, episode_start, 0, &c->rng, actions, NULL, NULL, err);
}

int lc_policy_act(lc_policy *p, const void *obs, int N, const uint8_t *episode_start,
                  int deterministic, lc_rng *rng, void *actions, float *logp, float *value,
                  lc_error *err) {
    assert(p && obs && N >= 0);
    assert(deterministic || rng || !actions);
    if (N == 0) return LC_OK;
    int rc;
    if ((rc = grow_slots(p, N, err)) || (rc = pass_reserve(p, &p->act, 1, N, err))) return rc;
    pass *ps = &p->act;
    const float *x = obs_float(p, ps->x, obs, (size_t)N, 0);
    float *state = p->dims.state_size ? p->state : NULL;
    net_forward(p, ps, x, episode_start, state, state, 1, N, 1);
    int bad = 0;
    for (int i = 0; i < N; i++) bad |= !isfinite(ps->value[i]);
    for (size_t i = 0; i < (size_t)N * p->L; i++) bad |= !isfinite(ps->head[i]);
    if (bad) return lc_fail(err, LC_ERR_NAN, "policy: the network produced a non-finite output");
    if (value) memcpy(value, ps->value, (size_t)N * sizeof(float));
    if (p->head_kind == HEAD_CAT) {
        int32_t tmp[LC_MAX_NVEC];
        for (int i = 0; i < N; i++) {
            const float *z = ps->head + (size_t)i * p->L;
            int32_t *a = actions ? (int32_t *)actions + (size_t)i * p->A : tmp;
            float lp = 0.0f;
            for (int c = 0; c < p->ncomp; c++) {
                lp += cat_act(z, p->nvec[c], deterministic || !actions, rng, &a[c]);
                z += p->nvec[c];
            }
            if (logp) logp[i] = lp;
        }
    } else {
        const float *ls = lc_param(&p->params, p->hls);
        int D = p->A;
        for (int i = 0; i < N; i++) {
            const float *mu = ps->head + (size_t)i * D;
            float *a = actions ? (float *)actions + (size_t)i * D : NULL;
            float lp = 0.0f;
            for (int j = 0; j < D; j++) {
                float eps = deterministic || !a ? 0.0f : (float)lc_rng_normal(rng);
                if (a) a[j] = mu[j] + expf(ls[j]) * eps;
                lp += -0.5f * eps * eps - ls[j] - 0.5f * LOG_2PI;
            }
            if (logp) logp[i] = lp;
        }
    }
    return LC_OK;
}

int lc_policy_value(lc_policy *p, const void *obs, int N, const uint8_t *mask, float *value,
                    lc_error *err) {
    assert(p && obs && value && N >= 0);
    if (N == 0) return LC_OK;
    int rc;
    if ((rc = grow_slots(p, N, err)) || (rc = pass_reserve(p, &p->act, 1, N, err))) return rc;
    pass *ps = &p->act;
    size_t S = (size_t)p->dims.state_size;
    // Gather the rows to compute (all when mask is NULL) with their slots' states.
    int n = 0;
    for (int i = 0; i < N; i++) {
        if (mask && !mask[i]) continue;
        float *d = ps->x + (size_t)n * p->O;
        if (p->obs_space.dtype == LC_U8) {
            const uint8_t *u = (const uint8_t *)obs + (size_t)i * p->O;
            for (int j = 0; j < p->O; j++) d[j] = (float)u[j];
        } else {
            memcpy(d, (const float *)obs + (size_t)i * p->O, (size_t)p->O * sizeof(float));
        }
        if (S) memcpy(ps->state0 + (size_t)n * S, p->state + (size_t)i * S, S * sizeof(float));
        n++;
    }
    if (n > 0) net_forward(p, ps, ps->x, NULL, S ? ps->state0 : NULL, NULL, 1, n, 0);
    int k = 0, bad = 0;
    for (int i = 0; i < N; i++) {
        if (mask && !mask[i]) {
            value[i] = 0.0f;
            continue;
        }
        value[i] = ps->value[k++];
        bad |= !isfinite(value[i]);
    }
    if (bad) return lc_fail(err, LC_ERR_NAN, "policy: the critic produced a non-finite value");
    return LC_OK;
}

void lc_policy_get_state(lc_policy *p, float *state, int N) {
    size_t S = (size_t)p->dims.state_size;
    if (!S) return;
    for (int i = 0; i < N; i++) {
        if (i < p->slots) memcpy(state + i * S, p->state + i * S, S * sizeof(float));
        else memset(state + i * S, 0, S * sizeof(float));
    }
}

int lc_policy_set_state(lc_policy *p, const float *state, int N, lc_error *err) {
    size_t S = (size_t)p->dims.state_size;
    if (!S) return LC_OK;
    int rc = grow_slots(p, N, err);
    if (rc) return rc;
    memcpy(p->state, state, (size_t)N * S * sizeof(float));
    return LC_OK;
}

void lc_policy_reset_state(lc_policy *p) {
    if (p->state) memset(p->state, 0, (size_t)p->slots * p->dims.state_size * sizeof(float));
}

// ---------------------------------------------------------------- training passes

int lc_policy_evaluate(lc_policy *p, const void *obs, const void *actions,
                       const uint8_t *starts, const float *state0, int T, int B, float *logp,
                       float *entropy, float *value, lc_error *err) {
    assert(p && obs && actions && T >= 1 && B >= 1);
    int rc = pass_reserve(p, &p->train, T, B, err);
    if (rc) return rc;
    pass *ps = &p->train;
    size_t R = (size_t)T * B, S = (size_t)p->dims.state_size;
    size_t asz = p->head_kind == HEAD_CAT ? sizeof(int32_t) : sizeof(float);
    const float *x = obs_float(p, ps->x, obs, R, 1);
    memcpy(ps->actions, actions, R * p->A * asz);
    if (starts) memcpy(ps->starts, starts, R);
    else memset(ps->starts, 0, R);
    if (S) {
        if (state0) memcpy(ps->state0, state0, (size_t)B * S * sizeof(float));
        else memset(ps->state0, 0, (size_t)B * S * sizeof(float));
    }
    ps->T = T;
    ps->B = B;
    net_forward(p, ps, x, ps->starts, S ? ps->state0 : NULL, NULL, T, B, 1);
    dist_eval(p, ps->head, ps->actions, R, logp, entropy);
    if (value) memcpy(value, ps->value, R * sizeof(float));
    return LC_OK;
}

void lc_policy_backward(lc_policy *p, const float *dlogp, const float *dentropy,
                        const float *dvalue) {
    pass *ps = &p->train;
    assert(ps->T >= 1 && ps->B >= 1);
    int T = ps->T, B = ps->B;
    size_t R = (size_t)T * B, S = (size_t)p->dims.state_size;
    dist_backward(p, ps->dhead, ps->head, ps->actions, R, dlogp, dentropy);
    for (size_t r = 0; r < R; r++) ps->dv[r] = dvalue ? dvalue[r] : 0.0f;
    memset(ps->dfpi, 0, R * p->dims.fpi * sizeof(float));
    lc_linear_backward(ps->dfpi, lc_grad(&p->params, p->hpw), lc_grad(&p->params, p->hpb),
                       ps->dhead, ps->fpi, lc_param(&p->params, p->hpw), (int)R, p->dims.fpi, p->L);
    float *dfv = NULL;
    if (p->dims.shared) {
        lc_linear_backward(ps->dfpi, lc_grad(&p->params, p->hvw), lc_grad(&p->params, p->hvb),
                           ps->dv, ps->fv, lc_param(&p->params, p->hvw), (int)R, p->dims.fv, 1);
    } else {
        dfv = ps->dfv;
        memset(dfv, 0, R * p->dims.fv * sizeof(float));
        lc_linear_backward(dfv, lc_grad(&p->params, p->hvw), lc_grad(&p->params, p->hvb), ps->dv,
                           ps->fv, lc_param(&p->params, p->hvw), (int)R, p->dims.fv, 1);
    }
    p->arch->backward(p->self, &p->params, ps->work, ps->acts, ps->x, ps->starts,
                      S ? ps->state0 : NULL, ps->dfpi, dfv, T, B);
}

// ---------------------------------------------------------------- obs normalisation

int lc_policy_has_obs_norm(const lc_policy *p) { return p->has_norm; }

int lc_policy_set_obs_norm(lc_policy *p, double count, const double *mean, const double *var,
                           int n, float clip, lc_error *err) {
    if (n < 1 || !mean || !var)
        return lc_fail(err, LC_ERR_ARG, "policy: obs-norm statistics of %d values", n);
    for (int i = 0; i < n; i++)
        if (!isfinite(mean[i]) || !isfinite(var[i]) || var[i] < 0)
            return lc_fail(err, LC_ERR_NAN, "policy: obs-norm statistic %d is not finite", i);
    if (n != p->norm_n) {
        double *m = realloc(p->norm_mean, (size_t)n * sizeof(double));
        if (m) p->norm_mean = m;
        double *v = realloc(p->norm_var, (size_t)n * sizeof(double));
        if (v) p->norm_var = v;
        if (!m || !v) return lc_fail(err, LC_ERR_NOMEM, "policy: out of memory");
        p->norm_n = n;
    }
    memcpy(p->norm_mean, mean, (size_t)n * sizeof(double));
    memcpy(p->norm_var, var, (size_t)n * sizeof(double));
    p->norm_count = count;
    p->norm_clip = clip;
    p->has_norm = 1;
    return LC_OK;
}

void lc_policy_obs_norm(const lc_policy *p, double *count, const double **mean,
                        const double **var, float *clip) {
    if (count) *count = p->has_norm ? p->norm_count : 0.0;
    if (mean) *mean = p->has_norm ? p->norm_mean : NULL;
    if (var) *var = p->has_norm ? p->norm_var : NULL;
    if (clip) *clip = p->has_norm ? p->norm_clip : 0.0f;
}

int lc_policy_capture_obs_norm(lc_policy *p, lc_env *env, lc_error *err) {
    double *count, *mean, *var;
    if (lc_env_obs_stats(env, &count, &mean, &var) != LC_OK || !mean) return LC_OK;
    int n = p->has_norm ? p->norm_n : p->O;
    float clip = p->has_norm ? p->norm_clip : 10.0f;
    return lc_policy_set_obs_norm(p, *count, mean, var, n, clip, err);
}

void lc_policy_env_opts(const lc_policy *p, lc_env_opts *opts) {
    opts->normalize_obs = p->has_norm;
    if (p->has_norm) opts->clip_obs = p->norm_clip;
}

int lc_policy_sync_env(const lc_policy *p, lc_env *env, lc_error *err) {
    if (!p->has_norm) return LC_OK;
    double *count, *mean, *var;
    if (lc_env_obs_stats(env, &count, &mean, &var) != LC_OK || !mean)
        return lc_fail(err, LC_ERR_STATE,
                       "policy: trained with obs normalisation, but the env does not normalise "
                       "(make it with lc_policy_env_opts)");
    const lc_env_spec *spec = lc_env_get_spec(env);
    if (spec->obs_size % p->norm_n != 0 || spec->obs_size != p->O)
        return lc_fail(err, LC_ERR_SHAPE,
                       "policy: obs-norm statistics of %d values for an env with %d-element "
                       "observations", p->norm_n, spec->obs_size);
    *count = p->norm_count;
    memcpy(mean, p->norm_mean, (size_t)p->norm_n * sizeof(double));
    memcpy(var, p->norm_var, (size_t)p->norm_n * sizeof(double));
    lc_env_obs_freeze(env, 1);
    return LC_OK;
}

// ---------------------------------------------------------------- files

static void hidden_str(const lc_policy_cfg *c, char *buf, size_t n) {
    buf[0] = 0;
    for (int i = 0; i < c->nhidden; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, "%s%d", i ? "," : "", c->hidden[i]);
    }
}

int lc_policy_to_file(const lc_policy *p, lc_file *f, int with_opt, lc_error *err) {
    const lc_policy_cfg *c = &p->cfg;
    char hs[128];
    hidden_str(c, hs, sizeof hs);
    int rc = 0;
    rc |= lc_file_set_str(f, "policy.arch", c->arch);
    rc |= lc_file_set_str(f, "policy.hidden", hs);
    rc |= lc_file_set_str(f, "policy.act", lc_act_name(c->act));
    rc |= lc_file_set_int(f, "policy.shared", c->shared);
    rc |= lc_file_set_int(f, "policy.rnn_hidden", c->rnn_hidden);
    rc |= lc_file_set_int(f, "policy.cnn_features", c->cnn_features);
    rc |= lc_file_set_float(f, "policy.log_std_init", c->log_std_init);
    rc |= lc_file_set_float(f, "policy.hidden_gain", c->hidden_gain);
    rc |= lc_file_set_float(f, "policy.pi_gain", c->pi_gain);
    rc |= lc_file_set_float(f, "policy.v_gain", c->v_gain);
    rc |= lc_file_set_str(f, "policy.env", p->env_name);
    rc |= lc_file_set_int(f, "obs_norm.on", p->has_norm);
    if (rc) return lc_fail(err, LC_ERR_NOMEM, "policy: cannot store metadata");
    if ((rc = lc_space_to_file(&p->obs_space, f, "obs_space", err)) ||
        (rc = lc_space_to_file(&p->act_space, f, "act_space", err)) ||
        (rc = lc_params_to_file(&p->params, f, "policy", with_opt, err)))
        return rc;
    if (p->has_norm) {
        int64_t shape[1] = {p->norm_n};
        if ((rc = lc_file_add(f, "obs_norm.mean", LC_F64, 1, shape, p->norm_mean, err)) ||
            (rc = lc_file_add(f, "obs_norm.var", LC_F64, 1, shape, p->norm_var, err)))
            return rc;
        if (lc_file_set_float(f, "obs_norm.count", p->norm_count) ||
            lc_file_set_float(f, "obs_norm.clip", p->norm_clip))
            return lc_fail(err, LC_ERR_NOMEM, "policy: cannot store metadata");
    }
    return LC_OK;
}

static int get_float(const lc_file *f, const char *k, float *out, lc_error *err) {
    double v;
    int rc = lc_file_get_float_in(f, k, -HUGE_VAL, HUGE_VAL, &v, err);
    if (!rc) *out = (float)v;
    return rc;
}

// What lc_policy_from_file demands beyond what it reads: meta values of the right type and
// range, and no tensor in the policy's namespaces that its config does not use (a
// trainer checkpoint's optimizer state, when not loaded, is still checked).
static int policy_load_strict(lc_policy *p, const lc_file *f, int with_opt, lc_error *err) {
    static const char *const mine[] = {"policy.", "obs_norm.", "obs_space.", "act_space.", NULL};
    const char *s;
    int64_t v;
    double d;
    int rc = lc_file_get_str(f, "policy.env", &s, err);
    if (rc != LC_OK && rc != LC_ERR_NOTFOUND) return rc;
    if ((rc = lc_file_opt_int(f, "policy.step", 0, INT64_MAX, &v, err)) ||
        (rc = lc_file_opt_float(f, "obs_norm.count", 0, HUGE_VAL, &d, err)) ||
        (rc = lc_file_opt_float(f, "obs_norm.clip", 0, HUGE_VAL, &d, err)))
        return rc;
    if (!with_opt && lc_file_get_int(f, "policy.step", &v, NULL) == LC_OK &&
        (rc = lc_params_from_file(&p->params, f, "policy", 1, err)))
        return rc;
    return lc_file_check_claimed(f, "policy", mine, err);
}

int lc_policy_from_file(lc_policy **out, const lc_file *f, int with_opt, lc_error *err) {
    *out = NULL;
    lc_policy_cfg c = lc_policy_cfg_default();
    const char *s;
    int rc;
    if ((rc = lc_file_get_str(f, "policy.arch", &s, err))) return rc;
    if (strlen(s) >= sizeof c.arch)
        return lc_fail(err, LC_ERR_FORMAT, "policy.arch '%.40s' is too long", s);
    snprintf(c.arch, sizeof c.arch, "%s", s);
    if ((rc = lc_file_get_str(f, "policy.hidden", &s, err))) return rc;
    if ((rc = lc_policy_cfg_parse_hidden(&c, s, err))) return lc_error_prefix(err, "policy file: ");
    if ((rc = lc_file_get_str(f, "policy.act", &s, err))) return rc;
    if (lc_act_parse(s, &c.act)) return lc_fail(err, LC_ERR_FORMAT, "policy.act '%.40s' is unknown", s);
    if ((rc = lc_file_get_i32_in(f, "policy.shared", 0, 1, &c.shared, err)) ||
        (rc = lc_file_get_i32_in(f, "policy.rnn_hidden", 1, 65536, &c.rnn_hidden, err)) ||
        (rc = lc_file_get_i32_in(f, "policy.cnn_features", 1, 65536, &c.cnn_features, err)) ||
        (rc = get_float(f, "policy.log_std_init", &c.log_std_init, err)) ||
        (rc = get_float(f, "policy.hidden_gain", &c.hidden_gain, err)) ||
        (rc = get_float(f, "policy.pi_gain", &c.pi_gain, err)) ||
        (rc = get_float(f, "policy.v_gain", &c.v_gain, err)))
        return rc;
    lc_space os, as;
    if ((rc = lc_space_from_file(&os, f, "obs_space", err)) || (rc = lc_space_from_file(&as, f, "act_space", err)))
        return rc;
    lc_policy *p;
    if ((rc = lc_policy_new(&p, &os, &as, &c, 0, err))) return rc;
    if ((rc = lc_params_from_file(&p->params, f, "policy", with_opt, err))) {
        lc_policy_free(p);
        return rc;
    }
    if (!lc_all_finite(p->params.params, p->params.n)) {
        lc_policy_free(p);
        return lc_fail(err, LC_ERR_NAN, "policy file: parameters are not finite");
    }
    if (lc_file_get_str(f, "policy.env", &s, NULL) == LC_OK) lc_policy_set_env_name(p, s);
    int on = 0;
    int64_t on64 = 0;
    if (lc_file_get_int(f, "obs_norm.on", &on64, NULL) == LC_OK &&
        (rc = lc_file_get_i32_in(f, "obs_norm.on", 0, 1, &on, err))) {
        lc_policy_free(p);
        return rc;
    }
    if (on) {
        int64_t shape[1] = {-1};
        const lc_tensor *m = lc_file_expect(f, "obs_norm.mean", LC_F64, 1, shape, err);
        const lc_tensor *v = m ? lc_file_expect(f, "obs_norm.var", LC_F64, 1, shape, err) : NULL;
        double count = 0;
        float clip = 0;
        if (!m || !v) rc = err ? err->code : LC_ERR_NOTFOUND;
        else if (m->shape[0] != v->shape[0] || m->shape[0] < 1 || m->shape[0] > p->O)
            rc = lc_fail(err, LC_ERR_SHAPE, "obs_norm.mean/var: %lld and %lld values for %d-element "
                         "observations", (long long)m->shape[0], (long long)v->shape[0], p->O);
        else if (!(rc = lc_file_get_float(f, "obs_norm.count", &count, err)) &&
                 !(rc = get_float(f, "obs_norm.clip", &clip, err)))
            rc = lc_policy_set_obs_norm(p, count, m->data, v->data, (int)m->shape[0], clip, err);
        if (rc) {
            lc_policy_free(p);
            return rc;
        }
    }
    if ((rc = policy_load_strict(p, f, with_opt, err))) {
        lc_policy_free(p);
        return rc;
    }
    *out = p;
    return LC_OK;
}

int lc_policy_save(const lc_policy *p, const char *path, lc_error *err) {
    lc_file *f = lc_file_new("policy");
    if (!f) return lc_fail(err, LC_ERR_NOMEM, "policy: out of memory");
    int rc = lc_policy_to_file(p, f, 0, err);
    if (!rc) rc = lc_file_write(f, path, err);
    lc_file_free(f);
    return rc;
}

int lc_policy_load(lc_policy **out, const char *path, lc_error *err) {
    *out = NULL;
    lc_file *f;
    int rc = lc_file_read(path, &f, err);
    if (rc) return rc;
    if (strcmp(lc_file_kind(f), "policy") != 0) {
        rc = lc_fail(err, LC_ERR_FORMAT, "%s: a '%s' file, not a policy", path, lc_file_kind(f));
    } else if ((rc = lc_policy_from_file(out, f, 0, err))) {
        lc_error_prefix(err, "%s: ", path);
    } else {
        lc_file_tensor(f, "ppo.rng"); // a trainer checkpoint's RNG: lc_ppo_resume checks it
        if ((rc = lc_file_check_claimed(f, "policy", NULL, err))) {
            lc_error_prefix(err, "%s: ", path);
            lc_policy_free(*out);
            *out = NULL;
        }
    }
    lc_file_free(f);
    return rc;
}
