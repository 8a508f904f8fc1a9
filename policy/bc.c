// policy/bc.c: behaviour cloning (cross-entropy on labelled observations, the critic on
// returns), folding a latent-action head into a real-action one through a many-to-one map,
// and copying parameters between policies of one shape (warm starts for PPO).
// Leaves out: recurrent policies (BC over sequences), Box actions, DAgger.
//
// Letters: N = labelled rows, B = minibatch rows, O = obs elements, K = latent actions,
// n = real actions, F = actor features.
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

lc_bc_cfg lc_bc_cfg_default(void) {
    lc_bc_cfg c = {.steps = 2000, .batch = 64, .lr = 5e-4f, .vf_coef = 0.5f,
                   .max_grad_norm = 0.5f, .seed = 1};
    return c;
}

// Feed-forward Discrete policies only; their row size in bytes.
static int bc_shape(const lc_policy *p, size_t *row, lc_error *err) {
    if (lc_policy_act_space(p)->kind != LC_SPACE_DISCRETE || lc_policy_state_size(p) != 0)
        return lc_fail(err, LC_ERR_UNSUPPORTED,
                       "behaviour cloning: feed-forward policies with Discrete actions only");
    *row = (size_t)lc_policy_obs_size(p) * (lc_policy_obs_space(p)->dtype == LC_U8 ? 1 : 4);
    return LC_OK;
}

int lc_bc_train(lc_policy *p, const void *obs, const size_t *rows, const int32_t *labels,
                const float *returns, size_t N, const lc_bc_cfg *cfg, lc_bc_progress progress,
                void *ctx, lc_error *err) {
    size_t row;
    int rc = bc_shape(p, &row, err);
    if (rc) return rc;
    const int n = lc_policy_act_space(p)->n, B = cfg->batch;
    if (N < 1 || B < 1 || cfg->steps < 0 || !(cfg->lr > 0) || cfg->vf_coef < 0)
        return lc_fail(err, LC_ERR_ARG, "behaviour cloning: %zu rows, batch %d, steps %d, lr %g",
                       N, B, cfg->steps, (double)cfg->lr);
    for (size_t i = 0; i < N; i++)
        if (labels[i] < 0 || labels[i] >= n)
            return lc_fail(err, LC_ERR_ARG, "behaviour cloning: label %d of row %zu is not an "
                           "action of Discrete(%d)", (int)labels[i], i, n);
    uint8_t *xb = malloc((size_t)B * row);
    int32_t *ab = malloc((size_t)B * sizeof(int32_t));
    float *rb = malloc((size_t)B * sizeof(float)), *logp = malloc((size_t)B * sizeof(float));
    float *ent = malloc((size_t)B * sizeof(float)), *val = malloc((size_t)B * sizeof(float));
    float *dlogp = malloc((size_t)B * sizeof(float)), *dval = malloc((size_t)B * sizeof(float));
    if (!xb || !ab || !rb || !logp || !ent || !val || !dlogp || !dval) {
        rc = lc_fail(err, LC_ERR_NOMEM, "behaviour cloning: out of memory");
        goto done;
    }
    lc_params *pr = lc_policy_params(p);
    lc_adam opt = lc_adam_default(cfg->lr);
    lc_rng rng;
    lc_rng_seed(&rng, cfg->seed, 0xbc);
    double run = NAN;
    for (int s = 0; s < cfg->steps; s++) {
        for (int b = 0; b < B; b++) {
            size_t i = (size_t)lc_rng_below(&rng, (uint32_t)(N < UINT32_MAX ? N : UINT32_MAX));
            memcpy(xb + (size_t)b * row, (const uint8_t *)obs + (rows ? rows[i] : i) * row, row);
            ab[b] = labels[i];
            rb[b] = returns ? returns[i] : 0.0f;
        }
        if ((rc = lc_policy_evaluate(p, xb, ab, NULL, NULL, 1, B, logp, ent, val, err))) goto done;
        double loss = 0;
        for (int b = 0; b < B; b++) {
            loss -= logp[b] / B;
            dlogp[b] = -1.0f / B;
            float d = returns ? val[b] - rb[b] : 0.0f;
            loss += cfg->vf_coef * 0.5 * d * d / B;
            dval[b] = cfg->vf_coef * d / B;
        }
        if (!isfinite(loss)) {
            rc = lc_fail(err, LC_ERR_NAN, "behaviour cloning: the loss is not finite at step %d", s);
            goto done;
        }
        lc_params_zero_grad(pr);
        lc_policy_backward(p, dlogp, NULL, dval);
        if (cfg->max_grad_norm > 0) lc_clip_grad_norm(pr->grads, pr->n, cfg->max_grad_norm);
        lc_adam_step(pr, &opt);
        run = isnan(run) ? loss : 0.98 * run + 0.02 * loss;
        if (progress && (s + 1) % 100 == 0 && progress(ctx, s + 1, run)) break;
    }
    if (!lc_all_finite(pr->params, pr->n))
        rc = lc_fail(err, LC_ERR_NAN, "behaviour cloning: a parameter is not finite");
done:
    free(xb), free(ab), free(rb), free(logp), free(ent), free(val), free(dlogp), free(dval);
    return rc;
}

int lc_bc_accuracy(lc_policy *p, const void *obs, const size_t *rows, const int32_t *labels,
                   size_t N, double *accuracy, lc_error *err) {
    size_t row;
    int rc = bc_shape(p, &row, err);
    if (rc) return rc;
    enum { CH = 256 };
    uint8_t *xb = malloc(CH * row);
    if (!xb) return lc_fail(err, LC_ERR_NOMEM, "behaviour cloning: out of memory");
    int32_t a[CH];
    size_t hit = 0;
    for (size_t i0 = 0; i0 < N && !rc; i0 += CH) {
        int m = N - i0 < CH ? (int)(N - i0) : CH;
        for (int i = 0; i < m; i++)
            memcpy(xb + (size_t)i * row,
                   (const uint8_t *)obs + (rows ? rows[i0 + i] : i0 + i) * row, row);
        rc = lc_policy_act(p, xb, m, NULL, 1, NULL, a, NULL, NULL, err);
        for (int i = 0; i < m && !rc; i++) hit += a[i] == labels[i0 + i];
    }
    free(xb);
    *accuracy = N ? (double)hit / N : 0.0;
    return rc;
}

// Both tables name the same tensors in the same order with the same shapes.
static int same_table(const lc_params *a, const lc_params *b) {
    if (a->ntensors != b->ntensors || a->n != b->n) return 0;
    for (int i = 0; i < a->ntensors; i++) {
        const lc_param_tensor *x = &a->t[i], *y = &b->t[i];
        if (strcmp(x->name, y->name) || x->ndim != y->ndim || x->size != y->size) return 0;
        for (int d = 0; d < x->ndim; d++)
            if (x->shape[d] != y->shape[d]) return 0;
    }
    return 1;
}

static int same_space(const lc_space *a, const lc_space *b) {
    if (a->kind != b->kind || a->dtype != b->dtype || a->ndim != b->ndim) return 0;
    for (int d = 0; d < a->ndim && d < 3; d++)
        if (a->shape[d] != b->shape[d]) return 0;
    if (a->kind == LC_SPACE_DISCRETE) return a->n == b->n;
    if (a->kind == LC_SPACE_MULTI_DISCRETE)
        for (int c = 0; c < a->shape[0] && c < LC_MAX_NVEC; c++)
            if (a->nvec[c] != b->nvec[c]) return 0;
    return 1;
}

int lc_policy_copy_params(lc_policy *dst, const lc_policy *src, lc_error *err) {
    char ds[128], ss[128];
    const char *what = NULL;
    if (strcmp(lc_policy_get_cfg(dst)->arch, lc_policy_get_cfg(src)->arch)) what = "architecture";
    else if (!same_space(lc_policy_obs_space(dst), lc_policy_obs_space(src)))
        what = "observation space";
    else if (!same_space(lc_policy_act_space(dst), lc_policy_act_space(src))) what = "action space";
    if (what) {
        const lc_space *a = NULL, *b = NULL;
        if (what[0] == 'o') a = lc_policy_obs_space(src), b = lc_policy_obs_space(dst);
        if (what[0] == 'a' && what[1] == 'c')
            a = lc_policy_act_space(src), b = lc_policy_act_space(dst);
        if (a) {
            lc_space_describe(a, ss, sizeof ss);
            lc_space_describe(b, ds, sizeof ds);
        } else {
            snprintf(ss, sizeof ss, "%s", lc_policy_get_cfg(src)->arch);
            snprintf(ds, sizeof ds, "%s", lc_policy_get_cfg(dst)->arch);
        }
        return lc_fail(err, LC_ERR_SHAPE, "the policy's %s is %s, this one's %s", what, ss, ds);
    }
    lc_params *d = lc_policy_params(dst);
    const lc_params *s = lc_policy_params((lc_policy *)src);
    if (!same_table(d, s))
        return lc_fail(err, LC_ERR_SHAPE, "the policy's layers differ from this one's (%zu "
                       "parameters vs %zu: other widths or features)", s->n, d->n);
    memcpy(d->params, s->params, d->n * sizeof(float));
    return LC_OK;
}

int lc_policy_fold_actions(lc_policy **out, const lc_policy *p, const int *map,
                           const double *mass, int n, int *exact, lc_error *err) {
    *out = NULL;
    const lc_space *as = lc_policy_act_space(p);
    if (as->kind != LC_SPACE_DISCRETE || lc_policy_has_obs_norm(p))
        return lc_fail(err, LC_ERR_UNSUPPORTED, "fold: the policy's actions are not Discrete, "
                       "or it carries observation statistics");
    const int K = as->n;
    if (n < 1) return lc_fail(err, LC_ERR_ARG, "fold: Discrete(%d) has no actions", n);
    for (int k = 0; k < K; k++)
        if (map[k] < 0 || map[k] >= n || !(mass[k] >= 0))
            return lc_fail(err, LC_ERR_ARG, "fold: code %d maps to %d (of %d), mass %g", k,
                           map[k], n, mass[k]);
    lc_space real = lc_space_discrete(n);
    lc_policy *q = NULL;
    int rc = lc_policy_new(&q, lc_policy_obs_space(p), &real, lc_policy_get_cfg(p), 1, err);
    if (rc) return rc;
    lc_policy_set_env_name(q, lc_policy_env_name(p));
    lc_params *qp = lc_policy_params(q);
    const lc_params *pp = lc_policy_params((lc_policy *)p);
    int qw = lc_params_find(qp, "head.pi.w"), qb = lc_params_find(qp, "head.pi.b");
    int pw = lc_params_find(pp, "head.pi.w"), pb = lc_params_find(pp, "head.pi.b");
    assert(qw >= 0 && qb >= 0 && pw >= 0 && pb >= 0);
    for (int i = 0; i < qp->ntensors; i++) { // everything but the actor head: as it was
        if (i == qw || i == qb) continue;
        int j = lc_params_find(pp, qp->t[i].name);
        assert(j >= 0 && pp->t[j].size == qp->t[i].size);
        memcpy(lc_param(qp, i), lc_param(pp, j), qp->t[i].size * sizeof(float));
    }
    const int F = qp->t[qw].shape[1];
    int ok = 1;
    for (int a = 0; a < n; a++) {
        int rep = -1, with_mass = 0;
        double tot = 0;
        for (int k = 0; k < K; k++) {
            if (map[k] != a || mass[k] <= 0) continue;
            tot += mass[k];
            with_mass++;
            if (rep < 0 || mass[k] > mass[rep]) rep = k;
        }
        float *w = lc_param(qp, qw) + (size_t)a * F, *b = lc_param(qp, qb) + a;
        if (rep < 0) {
            memset(w, 0, (size_t)F * sizeof(float));
            *b = -30.0f;
            continue;
        }
        ok &= with_mass == 1;
        memcpy(w, lc_param(pp, pw) + (size_t)rep * F, (size_t)F * sizeof(float));
        *b = lc_param(pp, pb)[rep] + (float)log(tot / mass[rep]);
    }
    if (exact) *exact = ok;
    *out = q;
    return LC_OK;
}

int lc_policy_fold_refine(lc_policy *q, lc_policy *p, const int *map, const void *obs,
                          const size_t *rows, size_t N, int steps, uint64_t seed, lc_error *err) {
    size_t row;
    int rc = bc_shape(p, &row, err);
    if (rc) return rc;
    const int B = 64, K = lc_policy_act_space(p)->n, n = lc_policy_act_space(q)->n;
    if (N < 1 || lc_policy_obs_size(q) != lc_policy_obs_size(p))
        return lc_fail(err, LC_ERR_ARG, "fold: %zu rows, or the policies observe differently", N);
    lc_params *qp = lc_policy_params(q);
    const int hw = lc_params_find(qp, "head.pi.w"), hb = lc_params_find(qp, "head.pi.b");
    uint8_t *xb = malloc((size_t)B * row);
    int32_t code[64], act[64];
    float logp[64], dlogp[64];
    float *keep = malloc(qp->n * sizeof(float)); // the trunk and critic, restored each step
    if (!xb || !keep) {
        free(xb), free(keep);
        return lc_fail(err, LC_ERR_NOMEM, "fold: out of memory");
    }
    memcpy(keep, qp->params, qp->n * sizeof(float));
    lc_adam opt = lc_adam_default(3e-3f);
    lc_rng rng;
    lc_rng_seed(&rng, seed, 0xf01d);
    for (int s = 0; s < steps && !rc; s++) {
        for (int b = 0; b < B; b++) {
            size_t i = (size_t)lc_rng_below(&rng, (uint32_t)(N < UINT32_MAX ? N : UINT32_MAX));
            memcpy(xb + (size_t)b * row, (const uint8_t *)obs + (rows ? rows[i] : i) * row, row);
        }
        // an action drawn from the folded distribution: a latent code, then its real action
        if ((rc = lc_policy_act(p, xb, B, NULL, 0, &rng, code, NULL, NULL, err))) break;
        for (int b = 0; b < B; b++) {
            if (code[b] < 0 || code[b] >= K || map[code[b]] < 0 || map[code[b]] >= n) {
                rc = lc_fail(err, LC_ERR_ARG, "fold: code %d has no real action", code[b]);
                break;
            }
            act[b] = map[code[b]];
            dlogp[b] = -1.0f / B;
        }
        if (rc || (rc = lc_policy_evaluate(q, xb, act, NULL, NULL, 1, B, logp, NULL, NULL, err)))
            break;
        lc_params_zero_grad(qp);
        lc_policy_backward(q, dlogp, NULL, NULL);
        lc_adam_step(qp, &opt);
        for (int i = 0; i < qp->ntensors; i++) // only the actor head learns
            if (i != hw && i != hb)
                memcpy(lc_param(qp, i), keep + qp->t[i].offset, qp->t[i].size * sizeof(float));
    }
    if (!rc && !lc_all_finite(qp->params, qp->n))
        rc = lc_fail(err, LC_ERR_NAN, "fold: a parameter is not finite");
    free(xb), free(keep);
    return rc;
}
