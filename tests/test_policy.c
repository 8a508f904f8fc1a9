// tests/test_policy.c: Check suite for policy/policy.h and the maths of policy/ppo.h:
// distributions vs closed forms, every architecture's gradient (GRU through time
// included) vs finite differences, the PPO loss and its gradient, GAE by hand, acting,
// recurrent state, save/load. Leaves out: training runs (tests/test_ppo.c), timing.
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"
#include "policy/ppo.h"

// ---------------------------------------------------------------- helpers

static lc_space box1(int n, float lo, float hi) {
    int shape[1] = {n};
    return lc_space_box_scalar(LC_F32, 1, shape, lo, hi);
}

static lc_policy *make_policy(const char *arch, const lc_space *os, const lc_space *as, int shared,
                              lc_act act, uint64_t seed) {
    lc_policy_cfg c = lc_policy_cfg_default();
    snprintf(c.arch, sizeof c.arch, "%s", arch);
    c.nhidden = 2;
    c.hidden[0] = 6;
    c.hidden[1] = 5;
    c.shared = shared;
    c.act = act;
    c.rnn_hidden = 4;
    c.cnn_features = 5;
    c.pi_gain = 0.7f; // larger heads than PPO's 0.01 so every term is exercised
    c.log_std_init = -0.3f;
    lc_policy *p;
    lc_error err = {0};
    ck_assert_msg(lc_policy_new(&p, os, as, &c, seed, &err) == LC_OK, "%s", err.msg);
    return p;
}

// Random observations (float or uint8) and valid actions for R rows.
static void random_batch(const lc_policy *p, int R, lc_rng *rng, void **obs, void **act) {
    const lc_space *os = lc_policy_obs_space(p), *as = lc_policy_act_space(p);
    int O = lc_policy_obs_size(p), A = lc_policy_act_size(p);
    if (os->dtype == LC_U8) {
        uint8_t *o = malloc((size_t)R * O);
        for (int i = 0; i < R * O; i++) o[i] = (uint8_t)lc_rng_below(rng, 256);
        *obs = o;
    } else {
        float *o = malloc((size_t)R * O * sizeof(float));
        for (int i = 0; i < R * O; i++) o[i] = (float)lc_rng_uniform(rng, -1.5, 1.5);
        *obs = o;
    }
    if (as->kind == LC_SPACE_BOX) {
        float *a = malloc((size_t)R * A * sizeof(float));
        for (int i = 0; i < R * A; i++) a[i] = (float)lc_rng_uniform(rng, -1, 1);
        *act = a;
    } else {
        int32_t *a = malloc((size_t)R * A * sizeof(int32_t));
        for (int r = 0; r < R; r++)
            for (int c = 0; c < A; c++) {
                int n = as->kind == LC_SPACE_DISCRETE ? as->n : as->nvec[c];
                a[r * A + c] = (int32_t)lc_rng_below(rng, (uint32_t)n);
            }
        *act = a;
    }
}

// The scalar sum(cl logp + ce entropy + cv value) over a pass.
static double objective(lc_policy *p, const void *obs, const void *act, const uint8_t *starts,
                        const float *state0, int T, int B, const float *cl, const float *ce,
                        const float *cv) {
    int R = T * B;
    float *lp = malloc(R * sizeof(float)), *en = malloc(R * sizeof(float)),
          *v = malloc(R * sizeof(float));
    lc_error err = {0};
    ck_assert_msg(lc_policy_evaluate(p, obs, act, starts, state0, T, B, lp, en, v, &err) == LC_OK,
                  "%s", err.msg);
    double s = 0;
    for (int i = 0; i < R; i++) s += (double)cl[i] * lp[i] + (double)ce[i] * en[i] + (double)cv[i] * v[i];
    free(lp), free(en), free(v);
    return s;
}

// Checks every parameter's analytic gradient of the objective against central
// differences; returns the worst relative error.
static double grad_check(lc_policy *p, int T, int B, int recurrent, uint64_t seed) {
    lc_rng rng;
    lc_rng_seed(&rng, seed, 7);
    int R = T * B, S = lc_policy_state_size(p);
    void *obs, *act;
    random_batch(p, R, &rng, &obs, &act);
    float *cl = malloc(R * sizeof(float)), *ce = malloc(R * sizeof(float)),
          *cv = malloc(R * sizeof(float));
    for (int i = 0; i < R; i++) {
        cl[i] = (float)lc_rng_uniform(&rng, -1, 1);
        ce[i] = (float)lc_rng_uniform(&rng, -1, 1);
        cv[i] = (float)lc_rng_uniform(&rng, -1, 1);
    }
    uint8_t *starts = NULL;
    float *state0 = NULL;
    if (recurrent) {
        starts = calloc(R, 1);
        starts[2 * B + 1] = 1; // sequence 1 restarts at t = 2
        starts[0] = 1;
        state0 = malloc((size_t)B * S * sizeof(float));
        for (int i = 0; i < B * S; i++) state0[i] = (float)lc_rng_uniform(&rng, -0.5, 0.5);
    }
    lc_params *P = lc_policy_params(p);
    objective(p, obs, act, starts, state0, T, B, cl, ce, cv);
    lc_params_zero_grad(P);
    lc_policy_backward(p, cl, ce, cv);
    float *g = malloc(P->n * sizeof(float));
    memcpy(g, P->grads, P->n * sizeof(float));
    double worst = 0;
    // Every parameter of small nets; 1500 random ones (and every head one) of big ones.
    size_t checks = P->n <= 3000 ? P->n : 1500 + 64;
    for (size_t k = 0; k < checks; k++) {
        size_t i = k;
        if (P->n > 3000) i = k < 64 ? P->n - 1 - k : lc_rng_below(&rng, (uint32_t)P->n);
        float keep = P->params[i];
        double h = 1e-2 * fmax(1.0, fabs(keep));
        P->params[i] = keep + (float)h;
        double up = objective(p, obs, act, starts, state0, T, B, cl, ce, cv);
        P->params[i] = keep - (float)h;
        double dn = objective(p, obs, act, starts, state0, T, B, cl, ce, cv);
        P->params[i] = keep;
        double num = (up - dn) / (2 * h);
        double e = fabs(num - g[i]) / fmax(0.05, fabs(num) + fabs(g[i]));
        if (e > worst) worst = e;
    }
    free(obs), free(act), free(cl), free(ce), free(cv), free(starts), free(state0), free(g);
    return worst;
}

// ---------------------------------------------------------------- distributions

START_TEST(test_categorical_closed_form) {
    float z[3] = {1.0f, 2.0f, 0.5f};
    double se = exp(1.0) + exp(2.0) + exp(0.5);
    double p[3] = {exp(1.0) / se, exp(2.0) / se, exp(0.5) / se};
    for (int a = 0; a < 3; a++)
        ck_assert_float_eq_tol(lc_categorical_logp(z, 3, a), log(p[a]), 1e-6);
    double h = -(p[0] * log(p[0]) + p[1] * log(p[1]) + p[2] * log(p[2]));
    ck_assert_float_eq_tol(lc_categorical_entropy(z, 3), h, 1e-6);
    float u[4] = {0.3f, 0.3f, 0.3f, 0.3f};
    ck_assert_float_eq_tol(lc_categorical_entropy(u, 4), log(4.0), 1e-6);
    // Large logits stay finite.
    float big[2] = {1000.0f, 0.0f};
    ck_assert_float_eq_tol(lc_categorical_logp(big, 2, 0), 0.0, 1e-6);
    ck_assert(isfinite(lc_categorical_entropy(big, 2)));
}
END_TEST

START_TEST(test_gaussian_closed_form) {
    float x[2] = {0.5f, -1.0f}, mu[2] = {0.0f, 1.0f}, ls[2] = {0.0f, log(2.0f)};
    double lp = 0;
    double sd[2] = {1.0, 2.0};
    for (int j = 0; j < 2; j++) {
        double zz = (x[j] - mu[j]) / sd[j];
        lp += -0.5 * zz * zz - log(sd[j]) - 0.5 * log(2 * M_PI);
    }
    ck_assert_float_eq_tol(lc_gaussian_logp(x, mu, ls, 2), lp, 1e-5);
    double h = 0.5 * log(2 * M_PI * M_E * 1.0) + 0.5 * log(2 * M_PI * M_E * 4.0);
    ck_assert_float_eq_tol(lc_gaussian_entropy(ls, 2), h, 1e-5);
}
END_TEST

// The policy's sampled actions follow its distribution; log-probs agree with evaluate.
START_TEST(test_sampling_matches_distribution) {
    lc_space os = box1(3, -1, 1), as = lc_space_discrete(3);
    lc_policy *p = make_policy("mlp", &os, &as, 0, LC_ACT_TANH, 3);
    enum { N = 4000 };
    float *obs = calloc(N * 3, sizeof(float));
    for (int i = 0; i < N; i++) obs[i * 3] = 0.8f, obs[i * 3 + 1] = -0.3f;
    int32_t *a = malloc(N * sizeof(int32_t));
    float *lp = malloc(N * sizeof(float)), *lp2 = malloc(N * sizeof(float)), *v = malloc(N * sizeof(float));
    lc_rng rng;
    lc_rng_seed(&rng, 5, 0);
    lc_error err = {0};
    ck_assert(lc_policy_act(p, obs, N, NULL, 0, &rng, a, lp, v, &err) == LC_OK);
    int count[3] = {0};
    for (int i = 0; i < N; i++) count[a[i]]++;
    ck_assert(lc_policy_evaluate(p, obs, a, NULL, NULL, 1, N, lp2, NULL, NULL, &err) == LC_OK);
    for (int i = 0; i < N; i++) ck_assert_float_eq_tol(lp[i], lp2[i], 1e-5);
    for (int k = 0; k < 3; k++) {
        int32_t ak = k;
        float lpk;
        ck_assert(lc_policy_evaluate(p, obs, &ak, NULL, NULL, 1, 1, &lpk, NULL, NULL, &err) == LC_OK);
        double pk = exp(lpk), se = sqrt(pk * (1 - pk) / N);
        ck_assert_msg(fabs(count[k] / (double)N - pk) < 5 * se + 1e-3, "action %d: %d vs p %g", k,
                      count[k], pk);
    }
    // Deterministic acting takes the argmax.
    int32_t d;
    ck_assert(lc_policy_act(p, obs, 1, NULL, 1, NULL, &d, NULL, NULL, &err) == LC_OK);
    int best = 0;
    float lpb = -INFINITY;
    for (int k = 0; k < 3; k++) {
        int32_t ak = k;
        float lpk;
        lc_policy_evaluate(p, obs, &ak, NULL, NULL, 1, 1, &lpk, NULL, NULL, &err);
        if (lpk > lpb) lpb = lpk, best = k;
    }
    ck_assert_int_eq(d, best);
    free(obs), free(a), free(lp), free(lp2), free(v);
    lc_policy_free(p);
}
END_TEST

START_TEST(test_gaussian_sampling) {
    lc_space os = box1(2, -1, 1), as = box1(2, -2, 2);
    lc_policy *p = make_policy("mlp", &os, &as, 0, LC_ACT_TANH, 4);
    enum { N = 4000 };
    float *obs = calloc(N * 2, sizeof(float));
    float *a = malloc(N * 2 * sizeof(float)), mean[2];
    lc_error err = {0};
    lc_rng rng;
    lc_rng_seed(&rng, 1, 0);
    ck_assert(lc_policy_act(p, obs, 1, NULL, 1, NULL, mean, NULL, NULL, &err) == LC_OK);
    ck_assert(lc_policy_act(p, obs, N, NULL, 0, &rng, a, NULL, NULL, &err) == LC_OK);
    double sd = exp(-0.3); // log_std_init
    for (int j = 0; j < 2; j++) {
        double m = 0, v = 0;
        for (int i = 0; i < N; i++) m += a[i * 2 + j];
        m /= N;
        for (int i = 0; i < N; i++) v += (a[i * 2 + j] - m) * (a[i * 2 + j] - m);
        v /= N;
        ck_assert_float_eq_tol(m, mean[j], 5 * sd / sqrt(N));
        ck_assert_float_eq_tol(sqrt(v), sd, 0.05 * sd);
    }
    free(obs), free(a);
    lc_policy_free(p);
}
END_TEST

// ---------------------------------------------------------------- gradients

START_TEST(test_grad_mlp_discrete) {
    lc_space os = box1(3, -1, 1), as = lc_space_discrete(3);
    lc_policy *p = make_policy("mlp", &os, &as, 0, LC_ACT_TANH, 11);
    double e = grad_check(p, 1, 7, 0, 1);
    ck_assert_msg(e < 2e-2, "worst relative error %g", e);
    lc_policy_free(p);
}
END_TEST

START_TEST(test_grad_mlp_ln_gaussian) {
    lc_space os = box1(4, -1, 1), as = box1(2, -1, 1);
    lc_policy *p = make_policy("mlp-ln", &os, &as, 0, LC_ACT_TANH, 12);
    double e = grad_check(p, 1, 6, 0, 2);
    ck_assert_msg(e < 2e-2, "worst relative error %g", e);
    lc_policy_free(p);
}
END_TEST

START_TEST(test_grad_mlp_shared_multidiscrete) {
    lc_space os = box1(3, -1, 1);
    int nvec[2] = {3, 2};
    lc_space as = lc_space_multi_discrete(2, nvec);
    lc_policy *p = make_policy("mlp", &os, &as, 1, LC_ACT_TANH, 13);
    double e = grad_check(p, 1, 6, 0, 3);
    ck_assert_msg(e < 2e-2, "worst relative error %g", e);
    lc_policy_free(p);
}
END_TEST

// Backpropagation through time with a reset in the middle of a sequence.
START_TEST(test_grad_gru_through_time) {
    lc_space os = box1(3, -1, 1), as = lc_space_discrete(2);
    lc_policy *p = make_policy("gru", &os, &as, 1, LC_ACT_TANH, 14);
    ck_assert_int_eq(lc_policy_state_size(p), 4);
    double e = grad_check(p, 5, 3, 1, 4);
    ck_assert_msg(e < 2e-2, "worst relative error %g", e);
    lc_policy_free(p);
}
END_TEST

START_TEST(test_grad_cnn) {
    int shape[3] = {12, 12, 2};
    lc_space os = lc_space_box_scalar(LC_U8, 3, shape, 0, 255), as = lc_space_discrete(3);
    lc_policy *p = make_policy("cnn", &os, &as, 1, LC_ACT_TANH, 15);
    double e = grad_check(p, 1, 3, 0, 5);
    ck_assert_msg(e < 2e-2, "worst relative error %g", e);
    lc_policy_free(p);
}
END_TEST

// ---------------------------------------------------------------- PPO loss

START_TEST(test_ppo_loss_value) {
    lc_ppo_cfg c = lc_ppo_cfg_default(); // clip 0.2, vf 0.5, ent 0.01, clip_vloss
    float logp[2] = {logf(1.5f) - 1.0f, logf(0.7f) - 2.0f}, old[2] = {-1.0f, -2.0f};
    float ent[2] = {0.6f, 0.4f}, v[2] = {1.5f, 0.1f}, ov[2] = {1.0f, 0.0f};
    float adv[2] = {1.0f, -2.0f}, ret[2] = {2.0f, 0.5f};
    // row 0: ratio 1.5, A 1: max(-1.5, -1.2) = -1.2 (clipped, no gradient)
    // row 1: ratio 0.7, A -2: max(1.4, 1.6) = 1.6 (clipped, no gradient)
    // value row 0: unclipped (1.5-2)^2 = .25, clipped v 1.2: (1.2-2)^2 = .64 -> .64
    // value row 1: unclipped (0.1-0.5)^2 = .16, clipped 0.1 (inside): .16
    double pg = (-1.2 + 1.6) / 2, vl = 0.5 * (0.64 + 0.16) / 2, en = 0.5;
    double want = pg - 0.01 * en + 0.5 * vl;
    double parts[5];
    float dl[2], de[2], dv[2];
    double loss = lc_ppo_loss(logp, ent, v, old, ov, adv, ret, 2, &c, dl, de, dv, parts);
    ck_assert_float_eq_tol(loss, want, 1e-6);
    ck_assert_float_eq_tol(parts[0], pg, 1e-6);
    ck_assert_float_eq_tol(parts[1], vl, 1e-6);
    ck_assert_float_eq_tol(parts[4], 1.0, 1e-9); // both ratios outside [0.8, 1.2]
    ck_assert_float_eq_tol(parts[3], ((0.5 - log(1.5)) + (-0.3 - log(0.7))) / 2, 1e-6);
    ck_assert_float_eq_tol(dl[0], 0.0, 1e-9);
    ck_assert_float_eq_tol(dl[1], 0.0, 1e-9);
    ck_assert_float_eq_tol(dv[0], 0.0, 1e-9); // the clipped value is outside its range
    ck_assert_float_eq_tol(dv[1], 0.5 * (0.1 - 0.5) / 2, 1e-7);
    ck_assert_float_eq_tol(de[0], -0.01 / 2, 1e-9);
}
END_TEST

// vf_clip_coef (a PPO setting added as one table row): the value is clipped to its own
// range instead of clip_coef's; 0 keeps CleanRL's behaviour exactly.
START_TEST(test_ppo_vf_clip_coef) {
    lc_ppo_cfg c = lc_ppo_cfg_default();
    ck_assert_float_eq(c.vf_clip_coef, 0.0f);
    float logp[1] = {-1.0f}, old[1] = {-1.0f}, ent[1] = {0.5f}, v[1] = {1.5f}, ov[1] = {1.0f};
    float adv[1] = {0.0f}, ret[1] = {2.0f}, dl[1], de[1], dv[1];
    double parts[5];
    // clip 0.2: clipped value 1.2, (1.2-2)^2 = .64 beats (1.5-2)^2 = .25
    lc_ppo_loss(logp, ent, v, old, ov, adv, ret, 1, &c, dl, de, dv, parts);
    ck_assert_float_eq_tol(parts[1], 0.5 * 0.64, 1e-6);
    // vf_clip_coef 0.4: clipped value 1.4, (1.4-2)^2 = .36; still above .25
    c.vf_clip_coef = 0.4f;
    lc_ppo_loss(logp, ent, v, old, ov, adv, ret, 1, &c, dl, de, dv, parts);
    ck_assert_float_eq_tol(parts[1], 0.5 * 0.36, 1e-6);
    // vf_clip_coef 1: the value change (0.5) is inside the range: unclipped .25, gradient flows
    c.vf_clip_coef = 1.0f;
    lc_ppo_loss(logp, ent, v, old, ov, adv, ret, 1, &c, dl, de, dv, parts);
    ck_assert_float_eq_tol(parts[1], 0.5 * 0.25, 1e-6);
    ck_assert_float_eq_tol(dv[0], 0.5 * (1.5 - 2.0), 1e-6);
    // The table gives it a CLI option, a range and a place in checkpoints.
    lc_error err = {0};
    ck_assert_int_eq(lc_settings_parse(lc_ppo_settings(), &c, "vf_clip_coef=-1", &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_settings_parse(lc_ppo_settings(), &c, "vf-clip-coef=0.3", &err), LC_OK);
    ck_assert_float_eq(c.vf_clip_coef, 0.3f);
}
END_TEST

// The gradient of the full PPO minibatch loss through a tiny policy vs finite differences.
START_TEST(test_ppo_loss_grad_through_policy) {
    lc_space os = box1(3, -1, 1), as = lc_space_discrete(3);
    lc_policy *p = make_policy("mlp", &os, &as, 0, LC_ACT_TANH, 21);
    lc_ppo_cfg c = lc_ppo_cfg_default();
    c.ent_coef = 0.05f;
    enum { B = 8 };
    lc_rng rng;
    lc_rng_seed(&rng, 9, 0);
    void *obs, *act;
    random_batch(p, B, &rng, &obs, &act);
    float lp[B], en[B], v[B], old[B], ov[B], adv[B], ret[B], dl[B], de[B], dv[B];
    lc_error err = {0};
    ck_assert(lc_policy_evaluate(p, obs, act, NULL, NULL, 1, B, lp, en, v, &err) == LC_OK);
    for (int i = 0; i < B; i++) {
        // old log-probs close to the current ones so most rows are inside the clip range
        old[i] = lp[i] + (float)lc_rng_uniform(&rng, -0.1, 0.1);
        // value changes either well inside or well outside the clip range (0.2), so
        // the finite differences never straddle a kink
        double dv0 = i % 2 ? lc_rng_uniform(&rng, 0.0, 0.1) : lc_rng_uniform(&rng, 0.35, 0.5);
        ov[i] = v[i] + (float)(i % 4 < 2 ? dv0 : -dv0);
        adv[i] = (float)lc_rng_uniform(&rng, -1, 1);
        ret[i] = (float)lc_rng_uniform(&rng, -1, 1);
    }
    lc_params *P = lc_policy_params(p);
    lc_ppo_loss(lp, en, v, old, ov, adv, ret, B, &c, dl, de, dv, NULL);
    lc_params_zero_grad(P);
    lc_policy_backward(p, dl, de, dv);
    double worst = 0;
    for (size_t i = 0; i < P->n; i++) {
        float keep = P->params[i];
        double h = 1e-2, f[2];
        for (int s = 0; s < 2; s++) {
            P->params[i] = keep + (float)(s ? -h : h);
            lc_policy_evaluate(p, obs, act, NULL, NULL, 1, B, lp, en, v, &err);
            f[s] = lc_ppo_loss(lp, en, v, old, ov, adv, ret, B, &c, NULL, NULL, NULL, NULL);
        }
        P->params[i] = keep;
        double num = (f[0] - f[1]) / (2 * h);
        double e = fabs(num - P->grads[i]) / fmax(0.02, fabs(num) + fabs(P->grads[i]));
        worst = e > worst ? e : worst;
    }
    ck_assert_msg(worst < 3e-2, "worst relative error %g", worst);
    free(obs), free(act);
    lc_policy_free(p);
}
END_TEST

// ---------------------------------------------------------------- GAE

START_TEST(test_gae_by_hand) {
    // T = 3, N = 2. Column 0: terminates at t = 1, column 1: truncated at t = 0
    // (bootstraps from V(final_obs) = 5) and runs on.
    enum { T = 3, N = 2 };
    float g = 0.9f, l = 0.8f;
    float r[T * N] = {1, 2, 3, 4, 5, 6};
    float v[T * N] = {0.5f, 1.0f, 1.5f, 2.0f, 2.5f, 3.0f};
    uint8_t term[T * N] = {0, 0, 1, 0, 0, 0}, trunc[T * N] = {0, 1, 0, 0, 0, 0};
    float fv[T * N] = {0, 5, 0, 0, 0, 0};
    float nv[N] = {7, 8};
    float adv[T * N], ret[T * N];
    lc_gae(adv, ret, r, v, term, trunc, fv, nv, T, N, g, l);
    // column 0
    double d2 = 5 + g * 7 - 2.5, a2 = d2;
    double d1 = 3 + 0 - 1.5, a1 = d1; // terminated: no bootstrap, trace cut
    double d0 = 1 + g * 1.5 - 0.5, a0 = d0 + g * l * a1;
    ck_assert_float_eq_tol(adv[4], a2, 1e-5);
    ck_assert_float_eq_tol(adv[2], a1, 1e-5);
    ck_assert_float_eq_tol(adv[0], a0, 1e-5);
    ck_assert_float_eq_tol(ret[0], a0 + 0.5, 1e-5);
    // column 1
    double e2 = 6 + g * 8 - 3.0, b2 = e2;
    double e1 = 4 + g * 3.0 - 2.0, b1 = e1 + g * l * b2;
    double e0 = 2 + g * 5 - 1.0, b0 = e0; // truncated: V(final_obs), trace cut
    ck_assert_float_eq_tol(adv[5], b2, 1e-5);
    ck_assert_float_eq_tol(adv[3], b1, 1e-5);
    ck_assert_float_eq_tol(adv[1], b0, 1e-5);
    ck_assert_float_eq_tol(ret[1], b0 + 1.0, 1e-5);
    // Without final values a truncation bootstraps from 0.
    lc_gae(adv, ret, r, v, term, trunc, NULL, nv, T, N, g, l);
    ck_assert_float_eq_tol(adv[1], 2 - 1.0, 1e-5);
}
END_TEST

START_TEST(test_gae_lambda_one_is_discounted_return) {
    enum { T = 4 };
    float r[T] = {1, 1, 1, 1}, v[T] = {0.3f, -0.2f, 0.7f, 0.1f}, nv[1] = {2};
    uint8_t z[T] = {0};
    float adv[T], ret[T];
    lc_gae(adv, ret, r, v, z, z, NULL, nv, T, 1, 0.5f, 1.0f);
    double G = 2;
    for (int t = T - 1; t >= 0; t--) {
        G = 1 + 0.5 * G;
        ck_assert_float_eq_tol(ret[t], G, 1e-5);
    }
}
END_TEST

// ---------------------------------------------------------------- acting and state

START_TEST(test_recurrent_state) {
    lc_space os = box1(2, -1, 1), as = lc_space_discrete(2);
    lc_policy *p = make_policy("gru", &os, &as, 1, LC_ACT_TANH, 31);
    float obs[4] = {0.5f, -0.5f, 0.2f, 0.9f};
    float v1[2], v2[2], va[2], vb[2];
    lc_error err = {0};
    uint8_t st[2] = {1, 1}, no[2] = {0, 0}, one[2] = {0, 1};
    ck_assert(lc_policy_act(p, obs, 2, st, 1, NULL, NULL, NULL, v1, &err) == LC_OK);
    // value() looks ahead without advancing: twice the same answer
    ck_assert(lc_policy_value(p, obs, 2, NULL, va, &err) == LC_OK);
    ck_assert(lc_policy_value(p, obs, 2, NULL, vb, &err) == LC_OK);
    ck_assert_float_eq_tol(va[0], vb[0], 1e-9);
    ck_assert_float_eq_tol(va[1], vb[1], 1e-9);
    // and equals what act() sees next from the same state
    ck_assert(lc_policy_act(p, obs, 2, no, 1, NULL, NULL, NULL, v2, &err) == LC_OK);
    ck_assert_float_eq_tol(v2[0], va[0], 1e-6);
    ck_assert(fabsf(v2[0] - v1[0]) > 1e-7); // the state moved
    // a masked value() call computes only the masked rows
    float vm[2] = {42, 42};
    ck_assert(lc_policy_value(p, obs, 2, one, vm, &err) == LC_OK);
    ck_assert_float_eq_tol(vm[0], 0, 1e-9);
    // episode_start zeroes the slot's state: same value as the first step
    float v3[2];
    ck_assert(lc_policy_act(p, obs, 2, one, 1, NULL, NULL, NULL, v3, &err) == LC_OK);
    ck_assert_float_eq_tol(v3[1], v1[1], 1e-6);
    // get/set state round trip, reset
    float s[8];
    lc_policy_get_state(p, s, 2);
    lc_policy_reset_state(p);
    ck_assert(lc_policy_act(p, obs, 2, no, 1, NULL, NULL, NULL, v3, &err) == LC_OK);
    ck_assert_float_eq_tol(v3[0], v1[0], 1e-6);
    ck_assert(lc_policy_set_state(p, s, 2, &err) == LC_OK);
    lc_policy_free(p);
}
END_TEST

START_TEST(test_evaluate_matches_act_recurrent) {
    // Acting step by step and evaluating the whole sequence give the same log-probs.
    lc_space os = box1(2, -1, 1), as = lc_space_discrete(3);
    lc_policy *p = make_policy("gru", &os, &as, 1, LC_ACT_TANH, 32);
    enum { T = 6, B = 2 };
    float obs[T * B * 2];
    lc_rng rng;
    lc_rng_seed(&rng, 3, 0);
    for (int i = 0; i < T * B * 2; i++) obs[i] = (float)lc_rng_uniform(&rng, -1, 1);
    uint8_t starts[T * B] = {1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0};
    int32_t a[T * B];
    float lp[T * B], v[T * B], lp2[T * B], v2[T * B];
    lc_error err = {0};
    for (int t = 0; t < T; t++)
        ck_assert(lc_policy_act(p, obs + t * B * 2, B, starts + t * B, 0, &rng, a + t * B,
                                lp + t * B, v + t * B, &err) == LC_OK);
    ck_assert(lc_policy_evaluate(p, obs, a, starts, NULL, T, B, lp2, NULL, v2, &err) == LC_OK);
    for (int i = 0; i < T * B; i++) {
        ck_assert_float_eq_tol(lp[i], lp2[i], 1e-5);
        ck_assert_float_eq_tol(v[i], v2[i], 1e-5);
    }
    lc_policy_free(p);
}
END_TEST

START_TEST(test_unknown_arch_and_bad_spaces) {
    lc_space os = box1(2, -1, 1), as = lc_space_discrete(2);
    lc_policy_cfg c = lc_policy_cfg_default();
    snprintf(c.arch, sizeof c.arch, "transformer");
    lc_policy *p;
    lc_error err = {0};
    ck_assert_int_eq(lc_policy_new(&p, &os, &as, &c, 1, &err), LC_ERR_ARG);
    ck_assert(strstr(err.msg, "mlp") != NULL); // lists the known ones
    snprintf(c.arch, sizeof c.arch, "cnn");
    ck_assert_int_eq(lc_policy_new(&p, &os, &as, &c, 1, &err), LC_ERR_UNSUPPORTED);
    ck_assert(lc_policy_arch_find("mlp-ln") != NULL);
    ck_assert(lc_policy_cfg_parse_hidden(&c, "32,16,8", &err) == LC_OK);
    ck_assert_int_eq(c.nhidden, 3);
    ck_assert_int_eq(c.hidden[2], 8);
    ck_assert_int_eq(lc_policy_cfg_parse_hidden(&c, "32,,8", &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_policy_cfg_parse_hidden(&c, "abc", &err), LC_ERR_ARG);
}
END_TEST

START_TEST(test_nan_parameters_detected) {
    lc_space os = box1(2, -1, 1), as = lc_space_discrete(2);
    lc_policy *p = make_policy("mlp", &os, &as, 0, LC_ACT_TANH, 33);
    lc_policy_params(p)->params[0] = NAN;
    float obs[2] = {0.1f, 0.2f};
    int32_t a;
    lc_rng rng;
    lc_rng_seed(&rng, 1, 0);
    lc_error err = {0};
    ck_assert_int_eq(lc_policy_act(p, obs, 1, NULL, 0, &rng, &a, NULL, NULL, &err), LC_ERR_NAN);
    lc_policy_free(p);
}
END_TEST

// ---------------------------------------------------------------- files

START_TEST(test_save_load_round_trip) {
    int shape[1] = {3};
    lc_space os = box1(3, -1, 1);
    float lo[2] = {-2, -1}, hi[2] = {2, 1};
    int ash[1] = {2};
    lc_space as = lc_space_box(LC_F32, 1, ash, lo, hi);
    (void)shape;
    lc_policy *p = make_policy("mlp-ln", &os, &as, 0, LC_ACT_GELU, 41);
    double mean[3] = {0.1, -0.2, 0.3}, var[3] = {1.5, 2.5, 0.5};
    lc_error err = {0};
    ck_assert(lc_policy_set_obs_norm(p, 123.0, mean, var, 3, 5.0f, &err) == LC_OK);
    lc_policy_set_env_name(p, "Pendulum-v1");
    char path[] = "/tmp/lucid_test_policy_XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    close(fd);
    ck_assert_msg(lc_policy_save(p, path, &err) == LC_OK, "%s", err.msg);
    lc_policy *q;
    ck_assert_msg(lc_policy_load(&q, path, &err) == LC_OK, "%s", err.msg);
    ck_assert_str_eq(lc_policy_get_cfg(q)->arch, "mlp-ln");
    ck_assert_int_eq(lc_policy_get_cfg(q)->act, LC_ACT_GELU);
    ck_assert_str_eq(lc_policy_env_name(q), "Pendulum-v1");
    ck_assert_int_eq(lc_policy_act_space(q)->kind, LC_SPACE_BOX);
    ck_assert_uint_eq(lc_policy_nparams(q), lc_policy_nparams(p));
    ck_assert(memcmp(lc_policy_params(q)->params, lc_policy_params(p)->params,
                     lc_policy_nparams(p) * sizeof(float)) == 0);
    double count;
    const double *m, *v;
    float clip;
    ck_assert(lc_policy_has_obs_norm(q));
    lc_policy_obs_norm(q, &count, &m, &v, &clip);
    ck_assert_float_eq_tol(count, 123.0, 1e-9);
    ck_assert_float_eq_tol(m[1], -0.2, 1e-9);
    ck_assert_float_eq_tol(v[2], 0.5, 1e-9);
    ck_assert_float_eq_tol(clip, 5.0, 1e-9);
    float obs[3] = {0.3f, 0.1f, -0.7f}, a1[2], a2[2], v1, v2;
    ck_assert(lc_policy_act(p, obs, 1, NULL, 1, NULL, a1, NULL, &v1, &err) == LC_OK);
    ck_assert(lc_policy_act(q, obs, 1, NULL, 1, NULL, a2, NULL, &v2, &err) == LC_OK);
    ck_assert_float_eq_tol(a1[0], a2[0], 1e-9);
    ck_assert_float_eq_tol(a1[1], a2[1], 1e-9);
    ck_assert_float_eq_tol(v1, v2, 1e-9);
    lc_policy_free(q);
    // A corrupted file is an error naming the file, not a crash.
    FILE *f = fopen(path, "r+b");
    ck_assert(f != NULL);
    fseek(f, 40, SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    ck_assert_int_ne(lc_policy_load(&q, path, &err), LC_OK);
    ck_assert(q == NULL);
    ck_assert(strstr(err.msg, path) != NULL);
    unlink(path);
    lc_policy_free(p);
}
END_TEST

START_TEST(test_rollout_copy_columns) {
    lc_space os = box1(2, -1, 1), as = lc_space_discrete(3);
    lc_rollout a, b;
    lc_error err = {0};
    ck_assert(lc_rollout_init(&a, 3, 2, &os, &as, 0, &err) == LC_OK);
    ck_assert(lc_rollout_init(&b, 3, 5, &os, &as, 0, &err) == LC_OK);
    for (int i = 0; i < 6; i++) {
        a.rewards[i] = (float)i;
        ((int32_t *)a.actions)[i] = i % 3;
        ((float *)a.obs)[2 * i + 1] = (float)(10 + i);
    }
    a.next_value[1] = 9.0f;
    ck_assert(lc_rollout_copy_columns(&b, 3, &a, &err) == LC_OK);
    ck_assert_float_eq_tol(b.rewards[1 * 5 + 4], 3.0, 1e-9); // (t 1, col 1) -> (t 1, col 4)
    ck_assert_int_eq(((int32_t *)b.actions)[2 * 5 + 3], 4 % 3);
    ck_assert_float_eq_tol(((float *)b.obs)[2 * (2 * 5 + 4) + 1], 15.0, 1e-9);
    ck_assert_float_eq_tol(b.next_value[4], 9.0, 1e-9);
    ck_assert_int_eq(lc_rollout_copy_columns(&b, 4, &a, &err), LC_ERR_SHAPE);
    lc_rollout_free(&a);
    lc_rollout_free(&b);
}
END_TEST

static Suite *policy_suite(void) {
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("distributions");
    tcase_add_test(tc, test_categorical_closed_form);
    tcase_add_test(tc, test_gaussian_closed_form);
    tcase_add_test(tc, test_sampling_matches_distribution);
    tcase_add_test(tc, test_gaussian_sampling);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_grad_mlp_discrete);
    tcase_add_test(tc, test_grad_mlp_ln_gaussian);
    tcase_add_test(tc, test_grad_mlp_shared_multidiscrete);
    tcase_add_test(tc, test_grad_gru_through_time);
    tcase_add_test(tc, test_grad_cnn);
    suite_add_tcase(s, tc);
    tc = tcase_create("ppo_maths");
    tcase_add_test(tc, test_ppo_loss_value);
    tcase_add_test(tc, test_ppo_vf_clip_coef);
    tcase_add_test(tc, test_ppo_loss_grad_through_policy);
    tcase_add_test(tc, test_gae_by_hand);
    tcase_add_test(tc, test_gae_lambda_one_is_discounted_return);
    suite_add_tcase(s, tc);
    tc = tcase_create("acting");
    tcase_add_test(tc, test_recurrent_state);
    tcase_add_test(tc, test_evaluate_matches_act_recurrent);
    tcase_add_test(tc, test_unknown_arch_and_bad_spaces);
    tcase_add_test(tc, test_nan_parameters_detected);
    suite_add_tcase(s, tc);
    tc = tcase_create("files");
    tcase_add_test(tc, test_save_load_round_trip);
    tcase_add_test(tc, test_rollout_copy_columns);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(policy_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
