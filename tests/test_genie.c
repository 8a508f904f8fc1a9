// tests/test_genie.c: the Genie-style world: frame datasets, gradient checks of the LAM
// decoder and the dynamics, a fixed-seed LAM that finds Breakout's actions, the genie
// dream env under the env contract, refusal of corrupted checkpoints. Leaves out: PPO in
// the dream (examples/genie_flow.sh) and long training (bench/bench_genie.c).
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env/env.h"
#include "nn/nn.h"
#include "policy/ppo.h"
#include "tests/helpers/choosers.h"
#include "tests/helpers/cli.h"
#include "tests/helpers/env_contract.h"
#include "tests/helpers/grad_check.h"
#include "worldmodel/frames.h"
#include "worldmodel/genie.h"
#include "worldmodel/tokenizer.h"
#include "worldmodel/worldmodel.h"

#include "tests/helpers/valgrind.h"
#include "loops/init.h"

static char model_path[256], frames_path[256], actions_path[256];

// Random play of Breakout stored at 32x32 (area-averaged; the model works at 16x16).
// (Stored at 16x16 the fixed-seed LAM below lands in a poor optimum: see the report.)
static void collect(lc_frames *fr, int64_t steps, int K, uint64_t seed) {
    lc_error err = {0};
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = K;
    ck_assert_int_eq(lc_env_make(&env, "Breakout-v0", &o, &err), LC_OK);
    ck_assert_msg(lc_frames_collect(fr, env, steps, 32, seed, &err) == LC_OK, "%s", err.msg);
    lc_env_free(env);
}

static lc_genie_cfg tiny_cfg(void) {
    lc_genie_cfg c = lc_genie_cfg_default();
    c.res = 16;
    c.enc_ch = 8;
    c.lam_hidden = 8;
    c.dyn_hidden = 8;
    c.batch = 32;
    c.lam_steps = 30;
    c.dyn_steps = 30;
    c.max_starts = 8;
    return c;
}

// ---------------------------------------------------------------- frames

START_TEST(test_frames_roundtrip) {
    lc_frames fr, back;
    collect(&fr, 300, 2, 5);
    ck_assert_int_eq(fr.H, 32);
    ck_assert_int_eq(fr.game_h, 64);
    ck_assert_int_eq(fr.n_actions, 3);
    ck_assert(fr.n >= 300);
    lc_error err = {0};
    ck_assert_int_eq(lc_frames_validate(&fr, &err), LC_OK);
    char fp[64], ap[64];
    snprintf(fp, sizeof fp, "/tmp/lucid_gt_%d.lucid", (int)getpid());
    snprintf(ap, sizeof ap, "/tmp/lucid_gt_%d.actions.lucid", (int)getpid());
    ck_assert_int_eq(lc_frames_save(&fr, fp, ap, &err), LC_OK);
    ck_assert_msg(lc_frames_load(&back, fp, ap, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(back.n, fr.n);
    ck_assert_mem_eq(back.frames, fr.frames, fr.n * 32 * 32 * 3);
    ck_assert_mem_eq(back.actions, fr.actions, fr.n * sizeof(int32_t));
    lc_frames_free(&back);
    // The frames file alone carries no actions; an actions file is not a frames file.
    ck_assert_int_eq(lc_frames_load(&back, fp, NULL, &err), LC_OK);
    ck_assert_ptr_null(back.actions);
    lc_frames_free(&back);
    ck_assert_int_ne(lc_frames_load(&back, ap, NULL, &err), LC_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "frame_actions"));
    // Actions inconsistent with the frames (an action at a start) are refused.
    fr.actions[0] = 1;
    ck_assert_int_ne(lc_frames_validate(&fr, &err), LC_OK);
    unlink(fp);
    unlink(ap);
    lc_frames_free(&fr);
}
END_TEST

// ---------------------------------------------------------------- gradients

typedef struct genie_loss_ctx {
    lc_genie *g;
    const lc_frames *fr;
    const float *X;
    const size_t *t;
    const int *codes; // NULL: the LAM's loss, else the dynamics'
    int B;
} genie_loss_ctx;

static double genie_loss(void *ctx) {
    genie_loss_ctx *c = ctx;
    return c->codes ? lc_genie_dyn_loss(c->g, c->fr, c->X, c->t, c->codes, c->B)
                    : lc_genie_lam_loss(c->g, c->X, c->t, c->B, NULL);
}

static int perturb_check(lc_genie *g, lc_params *p, int which, const lc_frames *fr,
                         const float *X, const size_t *t, const int *codes, int B, int lam) {
    genie_loss_ctx c = {g, fr, X, t, lam ? NULL : codes, B};
    return lc_test_fd_check(p, which, genie_loss, &c);
}

START_TEST(test_gradients) {
    lc_frames fr;
    collect(&fr, 200, 1, 9);
    lc_genie_cfg c = tiny_cfg();
    lc_genie *g = NULL;
    lc_error err = {0};
    ck_assert_int_eq(lc_genie_new(&g, &c, fr.C, &fr, &err), LC_OK);
    // Larger output layers than the default (near-zero) init so every term matters.
    lc_rng rng;
    lc_rng_seed(&rng, 4, 0);
    lc_genie_cnet_init(&g->dec, &g->lam, 1.0f, &rng);
    lc_genie_cnet_init(&g->dn, &g->dyn, 1.0f, &rng);
    float *X = NULL;
    ck_assert_int_eq(lc_genie_prep_all(g, &fr, &X, &err), LC_OK);
    size_t t[8];
    int B = 0;
    for (size_t i = 1; i + 1 < fr.n && B < 8; i += 5)
        if (lc_genie_triple_ok(&fr, i) && !fr.terminated[i + 1]) t[B++] = i;
    ck_assert_int_eq(B, 8);
    int codes[8];
    for (int i = 0; i < 8; i++) codes[i] = i % c.n_codes;
    // LAM decoder weights: exact gradients (the codes do not move with them).
    int bad = 0;
    for (int l = 0; l < 3; l++) {
        bad += perturb_check(g, &g->lam, g->dec.w[l], &fr, X, t, NULL, B, 1);
        bad += perturb_check(g, &g->lam, g->dec.b[l], &fr, X, t, NULL, B, 1);
    }
    bad += perturb_check(g, &g->lam, g->dec.wc, &fr, X, t, NULL, B, 1); // the code's embedding
    // Dynamics: every conv layer, the action embedding, and the pooled reward / end head.
    for (int l = 0; l < 3; l++) {
        bad += perturb_check(g, &g->dyn, g->dn.w[l], &fr, X, t, codes, B, 0);
        bad += perturb_check(g, &g->dyn, g->dn.b[l], &fr, X, t, codes, B, 0);
    }
    bad += perturb_check(g, &g->dyn, g->dn.wc, &fr, X, t, codes, B, 0);
    bad += perturb_check(g, &g->dyn, g->hw, &fr, X, t, codes, B, 0);
    bad += perturb_check(g, &g->dyn, g->hb, &fr, X, t, codes, B, 0);
    ck_assert_int_eq(bad, 0);
    free(X);
    lc_genie_free(g);
    lc_frames_free(&fr);
}
END_TEST

// ---------------------------------------------------------------- learning

// A fixed-seed LAM on ~4000 random Breakout transitions at 16x16: its latent actions,
// mapped many-to-one to the true actions, must beat the majority action by a margin that
// an untrained or collapsed LAM (one code, or codes unrelated to actions) cannot reach.
START_TEST(test_lam_finds_actions) {
    // Under valgrind (thousands of times slower): little data, a few steps, every code
    // path, no learned-result checks.
    const int quick = lc_test_on_valgrind();
    lc_frames fr;
    collect(&fr, quick ? 400 : 8000, 8, 11);
    lc_genie_cfg c = lc_genie_cfg_default();
    c.lam_steps = quick ? 3 : 1000;
    c.dyn_steps = quick ? 3 : 1000;
    if (quick) c.batch = 8;
    c.holdout = 0.2f;
    lc_nn_set_threads(1);
    lc_genie *g = NULL;
    lc_error err = {0};
    ck_assert_int_eq(lc_genie_new(&g, &c, fr.C, &fr, &err), LC_OK);
    float *X = NULL;
    ck_assert_int_eq(lc_genie_prep_all(g, &fr, &X, &err), LC_OK);
    ck_assert_msg(lc_genie_train(g, &fr, X, NULL, NULL, &err) == LC_OK, "%s", err.msg);
    // Held-out tail.
    size_t hold0 = fr.n - (size_t)(fr.n * c.holdout), nh = 0;
    size_t *idx = malloc(fr.n * sizeof(size_t));
    for (size_t t = hold0 + 1; t + 1 < fr.n; t++)
        if (lc_genie_triple_ok(&fr, t)) idx[nh++] = t;
    int *codes = malloc(nh * sizeof(int));
    lc_genie_infer(g, X, idx, (int)nh, codes);
    long conf[8][3] = {{0}}, per_a[3] = {0};
    for (size_t i = 0; i < nh; i++) {
        conf[codes[i]][fr.actions[idx[i] + 1]]++;
        per_a[fr.actions[idx[i] + 1]]++;
    }
    long hit = 0, maj = 0;
    for (int k = 0; k < 8; k++) {
        long b = 0;
        for (int a = 0; a < 3; a++) b = conf[k][a] > b ? conf[k][a] : b;
        hit += b;
    }
    for (int a = 0; a < 3; a++) maj = per_a[a] > maj ? per_a[a] : maj;
    double acc = (double)hit / nh, chance = (double)maj / nh;
    fprintf(stderr, "genie LAM: consistency %.3f on %zu held-out transitions (chance %.3f)\n", acc,
            nh, chance);
    // 0.96 measured; one code (or codes by paddle position, as an MLP decoder learned) < 0.72.
    ck_assert_msg(quick || (acc > 0.85 && acc > chance + 0.4), "consistency %.3f vs chance %.3f",
                  acc, chance);
    // The dynamics on the same held-out transitions: the next frame from the inferred codes
    // beats copying the last frame and beats random codes; the expected reward is calibrated
    // (its mean near the data's).
    ck_assert_int_ge(g->n_rvals, 2); // 0 and 1 at least
    float *work = malloc(lc_genie_dyn_work(g, 1) * sizeof(float)), *nx = malloc(g->P * sizeof(float));
    double e_inf = 0, e_rnd = 0, e_copy = 0, r_pred = 0, r_real = 0, r_hit = 0, r_miss = 0;
    long n_hit = 0;
    lc_rng rr;
    lc_rng_seed(&rr, 5, 0);
    for (size_t i = 0; i < nh; i++) {
        const float *xp = X + (idx[i] - 1) * g->P, *xc = X + idx[i] * g->P, *xn = xc + g->P;
        float r, e;
        int rc = (int)lc_rng_below(&rr, 8);
        lc_genie_dyn_step(g, work, xp, xc, &rc, 1, nx, &r, &e);
        for (int j = 0; j < g->P; j++) e_rnd += (nx[j] - xn[j]) * (nx[j] - xn[j]);
        lc_genie_dyn_step(g, work, xp, xc, &codes[i], 1, nx, &r, &e);
        for (int j = 0; j < g->P; j++) {
            e_inf += (nx[j] - xn[j]) * (nx[j] - xn[j]);
            e_copy += (xc[j] - xn[j]) * (xc[j] - xn[j]);
        }
        float real = fr.rewards[idx[i] + 1];
        r_pred += r, r_real += real;
        if (real > 0) r_hit += r, n_hit++;
        else r_miss += r;
    }
    r_pred /= nh, r_real /= nh, r_hit /= n_hit > 0 ? n_hit : 1, r_miss /= nh - n_hit;
    fprintf(stderr, "genie dynamics: squared error %.1f (inferred codes) %.1f (random) %.1f (copy); "
            "reward %.4f (real %.4f), %.3f on %ld rewarded steps, %.4f on the rest\n", e_inf,
            e_rnd, e_copy, r_pred, r_real, r_hit, n_hit, r_miss);
    ck_assert_msg(quick || (e_inf < 0.5 * e_copy && e_inf < 0.7 * e_rnd),
                  "dynamics error %g vs copy %g, random %g", e_inf, e_copy, e_rnd);
    // Calibrated: the first design (regression clamped at 0) paid 10x the data's rate. That
    // the head also tells rewarded steps apart needs more data than a unit test has (with
    // 20k frames: 0.46 on rewarded steps, 0.005 elsewhere; lucid eval-genie prints it).
    ck_assert_int_ge(n_hit, quick ? 0 : 5);
    ck_assert_msg(quick || (r_pred > 0.5 * r_real && r_pred < 2.0 * r_real), "reward %g vs %g",
                  r_pred, r_real);
    // The halt threshold: few real held-out transitions exceed it (it is the largest
    // disagreement on training transitions), and a next frame of noise always does.
    ck_assert(g->halt_disagree > 0);
    float *dw = malloc(lc_genie_disagree_work(g, 1) * sizeof(float)), dd;
    long over = 0, noise_over = 0;
    for (size_t i = 0; i < nh; i++) {
        const float *xp = X + (idx[i] - 1) * g->P, *xc = X + idx[i] * g->P;
        float r, e;
        lc_genie_dyn_step(g, work, xp, xc, &codes[i], 1, nx, &r, &e); // the dynamics' frame
        lc_genie_disagree(g, dw, xp, xc, &codes[i], 1, nx, &dd);
        over += dd > g->halt_disagree;
        if (i % 16 == 0) {
            for (int j = 0; j < g->P; j++) nx[j] = (float)lc_rng_uniform(&rr, 0.0, 1.0);
            lc_genie_disagree(g, dw, xp, xc, &codes[i], 1, nx, &dd);
            noise_over += dd > g->halt_disagree;
        }
    }
    fprintf(stderr, "genie halt: %.3f of real transitions over the threshold, noise %ld/%zu\n",
            (double)over / nh, noise_over, (nh + 15) / 16);
    ck_assert_msg(quick || (double)over / nh < 0.1, "%ld of %zu real transitions halt", over, nh);
    ck_assert_int_eq(noise_over, (long)((nh + 15) / 16));
    free(dw);
    free(work);
    free(nx);
    free(codes);
    free(idx);
    free(X);
    lc_genie_free(g);
    lc_frames_free(&fr);
}
END_TEST

// ---------------------------------------------------------------- checkpoints

START_TEST(test_bad_configs) {
    // Every out-of-range setting is an error, before anything divides by it.
    lc_frames fr;
    collect(&fr, 100, 1, 4);
    lc_error err = {0};
    lc_genie *g = NULL;
    for (int k = 0; k < 9; k++) {
        lc_genie_cfg c = tiny_cfg();
        switch (k) {
        case 0: c.res = 0; break;
        case 1: c.res = 12; break; // does not divide the data's 32
        case 2: c.n_codes = 1; break;
        case 3: c.dyn_unroll = -1; break;
        case 4: c.dyn_noise = 2.0f; break;
        case 5: c.dyn_l1 = 2; break;
        case 6: c.start_anywhere = -1; break;
        case 7: c.lam_hidden = 0; break;
        case 8: c.batch = 0; break;
        }
        ck_assert_int_eq(lc_genie_new(&g, &c, fr.C, &fr, &err), LC_ERR_ARG);
        ck_assert_ptr_null(g);
        ck_assert_ptr_nonnull(strstr(err.msg, "genie"));
    }
    lc_frames_free(&fr);
}
END_TEST

START_TEST(test_roundtrip_and_corruption) {
    lc_error err = {0};
    lc_genie *g = NULL;
    ck_assert_msg(lc_genie_load(&g, model_path, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(g->cfg.n_codes, 8);
    ck_assert_int_eq(g->game_h, 64);
    ck_assert_int_ge(g->n_rvals, 1);
    ck_assert(lc_genie_file_is(model_path));
    lc_genie_free(g);
    // Flip one byte in the middle: refused (checksum), never a crash.
    FILE *f = fopen(model_path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)len);
    ck_assert_int_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    char bad[300];
    snprintf(bad, sizeof bad, "%s.bad", model_path);
    buf[len / 2] ^= 0x5a;
    f = fopen(bad, "wb");
    fwrite(buf, 1, (size_t)len, f);
    fclose(f);
    ck_assert_int_ne(lc_genie_load(&g, bad, &err), LC_OK);
    ck_assert_ptr_null(g);
    ck_assert_int_eq(err.code, LC_ERR_CHECKSUM);
    ck_assert(!lc_genie_file_is(bad));
    // Truncated.
    f = fopen(bad, "wb");
    fwrite(buf, 1, (size_t)len / 3, f);
    fclose(f);
    ck_assert_int_ne(lc_genie_load(&g, bad, &err), LC_OK);
    // Through the env API: an error, not a crash.
    char name[320];
    snprintf(name, sizeof name, "dream:%s", bad);
    lc_env *env = NULL;
    ck_assert_int_ne(lc_env_make(&env, name, NULL, &err), LC_OK);
    ck_assert_ptr_null(env);
    // A frames file is not a genie checkpoint.
    ck_assert_int_ne(lc_genie_load(&g, frames_path, &err), LC_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "genie"));
    unlink(bad);
    free(buf);
}
END_TEST

START_TEST(test_dream_env_plays) {
    lc_error err = {0};
    char name[320];
    snprintf(name, sizeof name, "dream:%s?horizon=5", model_path);
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 3;
    ck_assert_msg(lc_env_make(&env, name, &o, &err) == LC_OK, "%s", err.msg);
    const lc_env_spec *sp = lc_env_get_spec(env);
    ck_assert_int_eq(sp->act_space.kind, LC_SPACE_DISCRETE);
    ck_assert_int_eq(sp->act_space.n, 8);
    ck_assert_int_eq(sp->obs_space.dtype, LC_U8);
    ck_assert_int_eq(sp->obs_space.shape[0], 64);
    ck_assert_int_eq(sp->obs_space.shape[2], 3);
    ck_assert_int_eq(sp->max_episode_steps, 5);
    ck_assert_int_eq(lc_env_reset(env, 1, &err), LC_OK);
    int32_t a[3] = {0, 3, 7};
    int truncs = 0;
    for (int s = 0; s < 5; s++) {
        ck_assert_int_eq(lc_env_step(env, a, &err), LC_OK);
        truncs += lc_env_get_buf(env)->truncated[0] | lc_env_get_buf(env)->terminated[0];
    }
    ck_assert_int_ge(truncs, 1);
    a[1] = 8; // out of the latent action space
    ck_assert_int_eq(lc_env_step(env, a, &err), LC_ERR_ACTION);
    lc_env_free(env);
    // Unknown parameters and bad values are refused; halt takes a penalty or "off".
    const char *bad[] = {"temperature=2", "horizon=0", "horizon=", "halt=-1", "halt=1x",
                         "horizon=12345678901234567890123456789012345", "relabel=2",
                         "relabel=", "actions=some", "actions="};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        snprintf(name, sizeof name, "dream:%s?%s", model_path, bad[k]);
        ck_assert_int_eq(lc_env_make(&env, name, &o, &err), LC_ERR_ARG);
        ck_assert_ptr_null(env);
    }
    const char *good[] = {"halt=off", "halt=2.5,horizon=7", "relabel=1,halt=1", "actions=all",
                          "actions=played,horizon=9"};
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++) {
        snprintf(name, sizeof name, "dream:%s?%s", model_path, good[k]);
        ck_assert_msg(lc_env_make(&env, name, &o, &err) == LC_OK, "%s: %s", good[k], err.msg);
        lc_env_free(env);
    }
}
END_TEST

// The dream beside the real game (lc_genie_run_lockstep), with the heads pinned: a reward
// head sure of one class pays that class's value every step, an end head that never fires
// lets every window run W steps (Breakout does not end in 8 random steps), one that always
// fires ends every dream window at its first step.
START_TEST(test_lockstep) {
    lc_error err = {0};
    lc_genie *g = NULL;
    ck_assert_msg(lc_genie_load(&g, model_path, &err) == LC_OK, "%s", err.msg);
    int map[256];
    for (int k = 0; k < g->cfg.n_codes; k++) map[k] = k % g->n_real_actions;
    float *hw = lc_param(&g->dyn, g->hw), *hb = lc_param(&g->dyn, g->hb);
    memset(hw, 0, g->dyn.t[g->hw].size * sizeof(float));
    const int NR = g->n_rvals;
    int top = 0;
    for (int k = 1; k < NR; k++)
        if (g->rvals[k] > g->rvals[top]) top = k;
    ck_assert(g->rvals[top] > 0.5f); // Breakout pays for bricks
    for (int k = 0; k < NR; k++) hb[k] = k == top ? 50.0f : 0.0f;
    hb[NR] = -50.0f;
    lc_genie_lockstep a, b;
    ck_assert_msg(lc_genie_run_lockstep(g, map, 16, 8, 5, NULL, NULL, 0, &a, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(lc_genie_run_lockstep(g, map, 16, 8, 5, NULL, NULL, 0, &b, &err), LC_OK);
    ck_assert(a.windows == b.windows && a.real_ret == b.real_ret && a.dream_ret == b.dream_ret &&
              a.agree == b.agree && a.end_agree == b.end_agree); // seeded
    ck_assert_int_eq(a.windows, 16);
    ck_assert_double_eq_tol(a.dream_ret, 8.0 * g->rvals[top], 1e-3);
    ck_assert_double_eq_tol(a.end_agree, 1.0, 1e-12);
    ck_assert(a.real_ret >= 0 && a.real_ret < 8.0 * g->rvals[top] - 0.5);
    ck_assert_double_eq_tol(a.agree, 0.0, 1e-12); // 8 bricks in 8 steps: never
    hb[NR] = 50.0f; // the dream ends every window at its first step; the game does not
    ck_assert_int_eq(lc_genie_run_lockstep(g, map, 16, 8, 5, NULL, NULL, 0, &b, &err), LC_OK);
    ck_assert_double_eq_tol(b.dream_ret, g->rvals[top], 1e-3);
    ck_assert_double_eq_tol(b.end_agree, 0.0, 1e-12);
    // A chooser: called once per step with the dream's frames (first set at step 0 only);
    // its actions are checked against its action space and its errors stop the run.
    chooser_log cl = {.action = 1, .fail_at = -1};
    ck_assert_msg(lc_genie_run_lockstep(g, map, 4, 8, 5, count_chooser, &cl, g->cfg.n_codes, &b,
                                        &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(cl.calls, 8);
    ck_assert_int_eq(cl.firsts, 4);
    cl = (chooser_log){.action = g->cfg.n_codes, .fail_at = -1};
    ck_assert_int_eq(lc_genie_run_lockstep(g, map, 4, 8, 5, count_chooser, &cl, g->cfg.n_codes,
                                           &b, &err), LC_ERR_ACTION);
    cl = (chooser_log){.action = 0, .fail_at = 3};
    ck_assert_int_eq(lc_genie_run_lockstep(g, map, 4, 8, 5, count_chooser, &cl, g->cfg.n_codes,
                                           &b, &err), LC_ERR_NAN);
    ck_assert_int_eq(cl.calls, 4);
    ck_assert_int_eq(lc_genie_run_lockstep(g, map, 4, 8, 5, count_chooser, &cl, 0, &b, &err),
                     LC_ERR_ARG);
    snprintf(g->env_name, sizeof g->env_name, "NoSuchGame-v0"); // a clear error, no crash
    ck_assert_int_eq(lc_genie_run_lockstep(g, map, 16, 8, 5, NULL, NULL, 0, &b, &err), LC_ERR_NOTFOUND);
    lc_genie_free(g);
}
END_TEST

// Real episodes through the dream's actions (lc_genie_play_real): a chooser that always
// picks latent action k plays exactly the episodes of the fixed real action map[alias[k]]
// (same seed), and those are the episodes of the game stepped by hand with that action.
START_TEST(test_play_real) {
    lc_error err = {0};
    lc_genie *g = NULL;
    ck_assert_msg(lc_genie_load(&g, model_path, &err) == LC_OK, "%s", err.msg);
    int map[256], K = g->cfg.n_codes;
    for (int k = 0; k < K; k++) map[k] = (k + 1) % g->n_real_actions;
    for (int k = 0; k < 3; k++) {
        double m1, s1, m2, s2;
        ck_assert_msg(lc_genie_play_real(g, map, fixed_chooser, &k, K, -1, 12, 4, &m1, &s1, &err) ==
                      LC_OK, "%s", err.msg);
        int real = map[g->code_alias[k]];
        ck_assert_int_eq(lc_genie_play_real(g, map, NULL, NULL, 0, real, 12, 4, &m2, &s2, &err), LC_OK);
        ck_assert(m1 == m2 && s1 == s2);
        // by hand: 8 envs of the game reset from the same seed, the first 12 episodes
        lc_env *env = NULL;
        lc_env_opts o = lc_env_opts_default();
        o.num_envs = 8;
        ck_assert_int_eq(lc_env_make(&env, g->env_name, &o, &err), LC_OK);
        ck_assert_int_eq(lc_env_reset(env, 4, &err), LC_OK);
        int32_t act[8];
        for (int i = 0; i < 8; i++) act[i] = real;
        double sum = 0;
        for (int done = 0; done < 12;) {
            ck_assert_int_eq(lc_env_step(env, act, &err), LC_OK);
            for (int i = 0; i < 8; i++)
                if (lc_env_get_buf(env)->done[i] && done < 12) sum += lc_env_get_buf(env)->ep_return[i], done++;
        }
        lc_env_free(env);
        ck_assert_double_eq_tol(m2, sum / 12, 1e-9);
    }
    // Refused: a fixed action out of the game's space, a chooser's action out of its space.
    double m, sd;
    ck_assert_int_eq(lc_genie_play_real(g, map, NULL, NULL, 0, 3, 4, 4, &m, &sd, &err), LC_ERR_ARG);
    int bad = K;
    ck_assert_int_eq(lc_genie_play_real(g, map, fixed_chooser, &bad, K, -1, 4, 4, &m, &sd, &err),
                     LC_ERR_ACTION);
    lc_genie_free(g);
}
END_TEST

// `lucid eval-genie` as a program (skipped where it was not built): every section, --json
// with the lockstep keys, and --policy with an untrained cnn over the played codes (the
// policy's lockstep, the best fixed action); a file that is not a policy is refused.
START_TEST(test_cli_eval_genie) {
    char bin[512], cmd[4096];
    static char out[1 << 16];
    if (!lc_test_lucid_bin(bin, sizeof bin)) return;
    lc_error err = {0};
    char name[320], pol[300];
    snprintf(name, sizeof name, "dream:%s?actions=played", model_path);
    snprintf(pol, sizeof pol, "%s.policy", model_path);
    lc_ppo_cfg pc;
    lc_policy_cfg pcfg;
    ck_assert_msg(lc_ppo_cfg_for_env(&pc, &pcfg, name, &err) == LC_OK, "%s", err.msg);
    pc.num_envs = 2;
    lc_ppo *ppo = NULL;
    ck_assert_msg(lc_ppo_new(&ppo, name, NULL, &pc, &pcfg, &err) == LC_OK, "%s", err.msg);
    ck_assert_msg(lc_policy_save(lc_ppo_policy(ppo), pol, &err) == LC_OK, "%s", err.msg);
    lc_ppo_free(ppo);
    const char *fmt = "%s eval-genie --model %s --data %s --actions %s --episodes 4 %s 2>&1";
    snprintf(cmd, sizeof cmd, fmt, bin, model_path, frames_path, actions_path, "--json");
    ck_assert_int_eq(lc_test_run_cmd(cmd, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"lockstep_windows\":512"));
    ck_assert_ptr_nonnull(strstr(out, "\"policy_lockstep_agree\":null"));
    char extra[400];
    snprintf(extra, sizeof extra, "--json --policy %s", pol);
    snprintf(cmd, sizeof cmd, fmt, bin, model_path, frames_path, actions_path, extra);
    ck_assert_int_eq(lc_test_run_cmd(cmd, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"policy_return\":"));
    ck_assert_ptr_null(strstr(out, "\"policy_return\":null"));
    ck_assert_ptr_null(strstr(out, "\"policy_lockstep_agree\":null"));
    ck_assert_ptr_null(strstr(out, "\"fixed_action_return\":null"));
    snprintf(extra, sizeof extra, "--policy %s", pol); // the text report
    snprintf(cmd, sizeof cmd, fmt, bin, model_path, frames_path, actions_path, extra);
    ck_assert_int_eq(lc_test_run_cmd(cmd, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "dream beside the real game"));
    ck_assert_ptr_nonnull(strstr(out, "the best fixed action"));
    // A game this program cannot make: the lockstep is skipped with a note, the rest stands.
    char other[300];
    snprintf(other, sizeof other, "%s.other", model_path);
    lc_genie *g = NULL;
    ck_assert_msg(lc_genie_load(&g, model_path, &err) == LC_OK, "%s", err.msg);
    snprintf(g->env_name, sizeof g->env_name, "NoSuchGame-v0");
    ck_assert_msg(lc_genie_save(g, other, &err) == LC_OK, "%s", err.msg);
    lc_genie_free(g);
    snprintf(cmd, sizeof cmd, fmt, bin, other, frames_path, actions_path, "--json");
    ck_assert_int_eq(lc_test_run_cmd(cmd, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "no lockstep with the real game"));
    ck_assert_ptr_nonnull(strstr(out, "\"lockstep_windows\":0,\"lockstep_steps\":16,\"lockstep_real_return\":null"));
    ck_assert_ptr_nonnull(strstr(out, "\"consistency\":"));
    unlink(other);
    snprintf(extra, sizeof extra, "--policy %s", model_path); // a genie file, not a policy
    snprintf(cmd, sizeof cmd, fmt, bin, model_path, frames_path, actions_path, extra);
    int rc = lc_test_run_cmd(cmd, out, sizeof out);
    ck_assert(WIFEXITED(rc) && WEXITSTATUS(rc) != 0);
    ck_assert_ptr_nonnull(strstr(out, "--policy"));
    unlink(pol);
}
END_TEST

START_TEST(test_code_aliases) {
    // Codes 0 and 1 carry the data, code 2 is rare (5 of 805 < 0.25 / 8), 3..7 are unused:
    // each plays its nearest carrying code in the codebook.
    lc_error err = {0};
    lc_genie *g = NULL;
    ck_assert_msg(lc_genie_load(&g, model_path, &err) == LC_OK, "%s", err.msg);
    int K = g->cfg.n_codes, D = g->cfg.code_dim;
    float *cb = lc_param(&g->lam, g->cb); // (K, D)
    lc_rng rng;
    lc_rng_seed(&rng, 5, 0);
    for (int i = 0; i < K * D; i++) cb[i] = lc_rng_normal(&rng);
    for (int q = 0; q < D; q++) {
        cb[2 * D + q] = cb[1 * D + q] + 0.01f; // 2 sits next to 1
        cb[3 * D + q] = cb[0 * D + q] - 0.01f; // 3 next to 0
    }
    int codes[805];
    for (int j = 0; j < 805; j++) codes[j] = j < 400 ? 0 : j < 800 ? 1 : 2;
    g->cfg.rare_code = 0.25f;
    lc_genie_set_aliases(g, codes, 805);
    ck_assert_int_eq(g->code_alias[0], 0);
    ck_assert_int_eq(g->code_alias[1], 1);
    ck_assert_int_eq(g->code_alias[2], 1);
    ck_assert_int_eq(g->code_alias[3], 0);
    for (int k = 4; k < K; k++) {
        double d0 = 0, d1 = 0;
        for (int q = 0; q < D; q++) {
            d0 += (cb[k * D + q] - cb[q]) * (cb[k * D + q] - cb[q]);
            d1 += (cb[k * D + q] - cb[D + q]) * (cb[k * D + q] - cb[D + q]);
        }
        ck_assert_int_eq(g->code_alias[k], d0 <= d1 ? 0 : 1);
    }
    // rare_code 0: only the codes the data never uses are aliased; code 2 plays itself.
    g->cfg.rare_code = 0.0f;
    lc_genie_set_aliases(g, codes, 805);
    ck_assert_int_eq(g->code_alias[2], 2);
    ck_assert_int_eq(g->code_alias[3], 0);
    // Saved and loaded; in the dream, action 2 and action 1 make the same frames. (The
    // tiny model's code embedding and output layer are scaled up so that codes 0 and 1
    // differ in u8 frames.)
    int big[2] = {g->dn.wc, g->dn.w[2]};
    for (int k = 0; k < 2; k++) {
        float *w = lc_param(&g->dyn, big[k]);
        for (size_t i = 0; i < g->dyn.t[big[k]].size; i++) w[i] *= 30.0f;
    }
    g->cfg.rare_code = 0.25f;
    lc_genie_set_aliases(g, codes, 805);
    char path[300];
    snprintf(path, sizeof path, "%s.alias", model_path);
    ck_assert_msg(lc_genie_save(g, path, &err) == LC_OK, "%s", err.msg);
    lc_genie *h = NULL;
    ck_assert_msg(lc_genie_load(&h, path, &err) == LC_OK, "%s", err.msg);
    ck_assert(memcmp(h->code_alias, g->code_alias, (size_t)K) == 0);
    lc_genie_free(h);
    char name[320];
    snprintf(name, sizeof name, "dream:%s?halt=off", path); // a halt would reset alike
    lc_env *e[3] = {NULL, NULL, NULL};
    for (int k = 0; k < 3; k++) {
        ck_assert_msg(lc_env_make(&e[k], name, NULL, &err) == LC_OK, "%s", err.msg);
        ck_assert_int_eq(lc_env_reset(e[k], 9, &err), LC_OK);
    }
    size_t O = (size_t)lc_env_get_spec(e[0])->obs_size;
    int differs = 0;
    for (int t = 0; t < 3; t++) {
        int32_t a[3] = {2, 1, 0};
        for (int k = 0; k < 3; k++) ck_assert_int_eq(lc_env_step(e[k], &a[k], &err), LC_OK);
        const uint8_t *o2 = lc_env_get_buf(e[0])->obs, *o1 = lc_env_get_buf(e[1])->obs,
                      *o0 = lc_env_get_buf(e[2])->obs;
        ck_assert(memcmp(o2, o1, O) == 0);
        differs |= memcmp(o1, o0, O) != 0;
    }
    ck_assert(differs); // codes 0 and 1 are different actions of the trained model
    // actions=played: Discrete(2), the played codes 0 and 1; action 1 plays code 1 (the
    // frames of action 1 above), action 2 is out of the space.
    int played[256];
    ck_assert_int_eq(lc_genie_played_codes(g, played), 2);
    ck_assert_int_eq(played[0], 0);
    ck_assert_int_eq(played[1], 1);
    ck_assert_int_eq(lc_genie_action_code(g, 2, 1), 1);
    ck_assert_int_eq(lc_genie_action_code(g, K, 2), 1);
    ck_assert_int_eq(lc_genie_action_code(g, K, 3), 0);
    lc_env *ep = NULL;
    snprintf(name, sizeof name, "dream:%s?halt=off,actions=played", path);
    ck_assert_msg(lc_env_make(&ep, name, NULL, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(lc_env_get_spec(ep)->act_space.n, 2);
    ck_assert_int_eq(lc_env_reset(ep, 9, &err), LC_OK);
    ck_assert_int_eq(lc_env_reset(e[1], 9, &err), LC_OK);
    for (int t = 0; t < 3; t++) {
        int32_t a1 = 1;
        ck_assert_int_eq(lc_env_step(ep, &a1, &err), LC_OK);
        ck_assert_int_eq(lc_env_step(e[1], &a1, &err), LC_OK);
        ck_assert(memcmp(lc_env_get_buf(ep)->obs, lc_env_get_buf(e[1])->obs, O) == 0);
    }
    int32_t a2 = 2;
    ck_assert_int_eq(lc_env_step(ep, &a2, &err), LC_ERR_ACTION);
    lc_env_free(ep);
    for (int k = 0; k < 3; k++) lc_env_free(e[k]);
    // An alias that points at a code which is itself aliased is refused on load.
    g->code_alias[5] = 2;
    ck_assert_int_eq(lc_genie_save(g, path, &err), LC_OK);
    ck_assert_int_eq(lc_genie_load(&h, path, &err), LC_ERR_FORMAT);
    ck_assert_ptr_null(h);
    ck_assert_ptr_nonnull(strstr(err.msg, "code_alias"));
    unlink(path);
    lc_genie_free(g);
}
END_TEST

// ---------------------------------------------------------------- NaN and divergence

// Catch frames at 8x8 and a genie small enough to train in milliseconds.
static void nan_setup(lc_frames *fr, lc_genie **g, float **X) {
    lc_error err = {0};
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 2;
    ck_assert_int_eq(lc_env_make(&env, "Catch-v0", &o, &err), LC_OK);
    ck_assert_msg(lc_frames_collect(fr, env, 80, 8, 3, &err) == LC_OK, "%s", err.msg);
    lc_env_free(env);
    lc_genie_cfg c = tiny_cfg();
    c.res = 8;
    c.n_codes = 4;
    c.batch = 8;
    c.lam_steps = 20;
    c.dyn_steps = 20;
    ck_assert_msg(lc_genie_new(g, &c, fr->C, fr, &err) == LC_OK, "%s", err.msg);
    ck_assert_msg(lc_genie_prep_all(*g, fr, X, &err) == LC_OK, "%s", err.msg);
}

static void expect_nan(lc_genie *g, const lc_frames *fr, const float *X, const char *what) {
    lc_error err = {0};
    ck_assert_int_eq(lc_genie_train(g, fr, X, NULL, NULL, &err), LC_ERR_NAN);
    ck_assert_msg(strstr(err.msg, what) && strstr(err.msg, "not finite"), "%s", err.msg);
}

// A NaN injected into the LAM, the dynamics or the data, or a parameter so large that the
// forward pass overflows (divergence): training stops with LC_ERR_NAN naming the phase,
// and the model cannot be saved. The same model trains once the NaN is gone.
START_TEST(test_train_nan_stops) {
    lc_frames fr;
    lc_genie *g = NULL;
    float *X = NULL;
    nan_setup(&fr, &g, &X);
    lc_error err = {0};
    float *w = lc_param(&g->lam, g->c1w);
    w[3] = NAN;
    // (a relu maps NaN to 0, so the loss can stay finite: the parameters tell at once)
    expect_nan(g, &fr, X, "genie: LAM parameters are not finite after step 0");
    char path[300];
    snprintf(path, sizeof path, "%s.nan", model_path);
    ck_assert_int_eq(lc_genie_save(g, path, &err), LC_ERR_NAN);
    ck_assert_int_ne(access(path, F_OK), 0);
    lc_genie_free(g);
    free(X);
    lc_frames_free(&fr);

    nan_setup(&fr, &g, &X);
    lc_param(&g->dyn, g->dn.w[1])[5] = NAN;
    expect_nan(g, &fr, X, "genie: dynamics");
    lc_genie_free(g);
    free(X);
    lc_frames_free(&fr);

    nan_setup(&fr, &g, &X); // divergence: finite weights whose products overflow float
    w = lc_param(&g->dyn, g->dn.w[0]);
    for (size_t i = 0; i < g->dyn.t[g->dn.w[0]].size; i++) w[i] = 1e30f;
    expect_nan(g, &fr, X, "genie: dynamics");
    lc_genie_free(g);
    free(X);
    lc_frames_free(&fr);

    nan_setup(&fr, &g, &X);
    X[(size_t)5 * g->P + 7] = NAN; // the data: refused before training
    expect_nan(g, &fr, X, "model frame 5");
    X[(size_t)5 * g->P + 7] = 0.5f;
    ck_assert_msg(lc_genie_train(g, &fr, X, NULL, NULL, &err) == LC_OK, "%s", err.msg);
    ck_assert_msg(lc_genie_save(g, path, &err) == LC_OK, "%s", err.msg);
    unlink(path);
    lc_genie_free(g);
    free(X);
    lc_frames_free(&fr);
}
END_TEST

// The tokenizer's training loop: a NaN weight or an overflowing one stops it (LC_ERR_NAN).
START_TEST(test_tokenizer_nan_stops) {
    lc_error err = {0};
    lc_env *env = NULL;
    ck_assert_int_eq(lc_env_make(&env, "Catch-v0", NULL, &err), LC_OK);
    lc_frames fr;
    ck_assert_msg(lc_frames_collect(&fr, env, 40, 16, 3, &err) == LC_OK, "%s", err.msg);
    lc_env_free(env);
    for (int k = 0; k < 3; k++) {
        lc_tok_cfg c = lc_tok_cfg_default();
        c.side = 16;
        c.hidden = 4;
        c.dim = 4;
        c.codes = 8;
        c.batch = 4;
        c.steps = 10;
        lc_tok *t = NULL;
        ck_assert_msg(lc_tok_new(&t, &c, &err) == LC_OK, "%s", err.msg);
        lc_params *p = lc_tok_params(t);
        if (k == 1) p->params[p->n / 2] = NAN;
        if (k == 2)
            for (size_t i = 0; i < p->n; i++) p->params[i] = p->params[i] < 0 ? -1e30f : 1e30f;
        int rc = lc_tok_train(t, fr.frames, fr.n, NULL, NULL, &err);
        if (k == 0) {
            ck_assert_msg(rc == LC_OK, "%s", err.msg);
        } else {
            ck_assert_int_eq(rc, LC_ERR_NAN);
            ck_assert_msg(strstr(err.msg, "tokenizer: ") && strstr(err.msg, "not finite"), "%s",
                          err.msg);
        }
        lc_tok_free(t);
    }
    lc_frames_free(&fr);
}
END_TEST

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(*n + 1);
    ck_assert_int_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

// `lucid train-genie` keeps the model at --out as it was (same bytes) when training stops
// on a NaN (a token world whose dynamics diverged, trained further with --keep-dynamics)
// or when the learning rate is absurd, and says why.
START_TEST(test_cli_nan_keeps_model) {
    char bin[512], cmd[4096];
    static char out[1 << 14];
    if (!lc_test_lucid_bin(bin, sizeof bin)) return;
    char data[300], good[300], bad[300];
    snprintf(data, sizeof data, "%s.nanframes.lucid", model_path);
    snprintf(good, sizeof good, "%s.good", model_path);
    snprintf(bad, sizeof bad, "%s.diverged", model_path);
    snprintf(cmd, sizeof cmd, "%s collect --frames-only --env Catch-v0 --steps 120 --num-envs 2 "
             "--seed 4 --out %s --quiet 2>&1", bin, data);
    ck_assert_int_eq(lc_test_run_cmd(cmd, out, sizeof out), 0);
    const char *tiny = "--res 8 --codes 4 --code-dim 4 --enc-ch 4 --lam-hidden 4 --batch 8 "
                       "--lam-steps 10 --tok-steps 5 --tok-codes 8 --tok-dim 4 --tok-hidden 4 "
                       "--tok-batch 2 --tdyn-steps 5 --tdyn-hidden 4 --tdyn-emb 4 --tdyn-batch 4 "
                       "--tdyn-unroll 0 --quiet";
    snprintf(cmd, sizeof cmd, "%s train-genie --design tokens --data %s --out %s %s 2>&1", bin,
             data, good, tiny);
    ck_assert_msg(lc_test_run_cmd(cmd, out, sizeof out) == 0, "%s", out);
    // The diverged world: its dynamics' weights blown up to 1e30 (finite: it loads).
    lc_file *f = NULL;
    lc_error err = {0};
    ck_assert_int_eq(lc_file_read(good, &f, &err), LC_OK);
    int blown = 0;
    for (int i = 0; i < lc_file_ntensors(f); i++) {
        const lc_tensor *t = lc_file_tensor_at(f, i);
        if (strncmp(t->name, "tdyn.", 5) != 0 || t->dtype != LC_F32) continue;
        float *x = t->data;
        for (size_t j = 0; j < t->nbytes / sizeof(float); j++) x[j] = x[j] < 0 ? -1e30f : 1e30f;
        blown++;
    }
    ck_assert_int_gt(blown, 0);
    ck_assert_int_eq(lc_file_write(f, bad, &err), LC_OK);
    lc_file_free(f);
    size_t n0, n1;
    char *before = slurp(good, &n0);
    snprintf(cmd, sizeof cmd, "%s train-genie --design tokens --data %s --out %s --tokens-from "
             "%s --keep-dynamics %s 2>&1", bin, data, good, bad, tiny);
    int st = lc_test_run_cmd(cmd, out, sizeof out);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%d: %s", st, out);
    ck_assert_msg(strstr(out, "not finite") != NULL, "%s", out);
    char *after = slurp(good, &n1);
    ck_assert(n1 == n0 && memcmp(before, after, n0) == 0);
    free(after);
    // The pixel design: an absurd learning rate is refused before anything is trained.
    snprintf(cmd, sizeof cmd, "%s train-genie --data %s --out %s --lr 1e30 %s 2>&1", bin, data,
             good, tiny);
    st = lc_test_run_cmd(cmd, out, sizeof out);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0, "%s", out);
    ck_assert_msg(strstr(out, "lr") != NULL, "%s", out);
    after = slurp(good, &n1);
    ck_assert(n1 == n0 && memcmp(before, after, n0) == 0);
    free(after);
    free(before);
    unlink(bad);
    unlink(good);
    unlink(data);
    char adata[320];
    snprintf(adata, sizeof adata, "%s.nanframes.actions.lucid", model_path);
    unlink(adata);
}
END_TEST

// ---------------------------------------------------------------- the whole loop (long)

// LUCID_LONG only (about 6 minutes on 2 cores): Catch-v0 frames without actions -> LAM +
// dynamics -> PPO (cnn, 60k steps) only inside the dream -> the latent->real map from 200
// labelled transitions -> 100 episodes of the real game. A policy blind to the ball
// returns -0.75 in expectation whatever it does (the ball's column is uniform). Measured
// here: 0.94 (the same flow through the CLI, seeds 1-5: 0.92-1.00; PPO on the real game
// with the same 60k steps: 0.94-0.98). The bound 0.7 fails on the previous design
// (dynamics on the LAM's raw codes, all 8 actions: 0.74 here, 0.60-0.90 through the CLI).
START_TEST(test_catch_dream_controller) {
    lc_error err = {0};
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 8;
    ck_assert_int_eq(lc_env_make(&env, "Catch-v0", &o, &err), LC_OK);
    lc_frames fr;
    ck_assert_msg(lc_frames_collect(&fr, env, 20000, 0, 1, &err) == LC_OK, "%s", err.msg);
    lc_env_free(env);
    lc_genie_cfg c = lc_genie_cfg_default();
    c.lam_steps = 3000;
    c.start_anywhere = 0; // whole 7-step episodes: dreams start where the game's do
    lc_genie *g = NULL;
    float *X = NULL;
    ck_assert_msg(lc_genie_new(&g, &c, fr.C, &fr, &err) == LC_OK, "%s", err.msg);
    ck_assert_msg(lc_genie_prep_all(g, &fr, &X, &err) == LC_OK, "%s", err.msg);
    lc_nn_set_threads(1);
    ck_assert_msg(lc_genie_train(g, &fr, X, NULL, NULL, &err) == LC_OK, "%s", err.msg);
    char path[300];
    snprintf(path, sizeof path, "%s.catch", model_path);
    ck_assert_msg(lc_genie_save(g, path, &err) == LC_OK, "%s", err.msg);
    // The map from 200 labelled training transitions: each code -> its most frequent action.
    size_t t[200];
    int n = 0, map[256];
    for (size_t r = 1; r + 1 < fr.n && n < 200; r++)
        if (lc_genie_triple_ok(&fr, r)) t[n++] = r;
    ck_assert_int_eq(lc_genie_label_map(g, X, &fr, t, n, map), LC_OK);
    // The dream beside the real game under random play: the same returns. (Before the
    // dynamics learnt from the played codes, the LAM's "caught" codes were aliased away
    // and the dream paid -0.92 where the game paid -0.73, agreeing on 90% of episodes;
    // measured here now: -0.788 vs -0.805, 95.9%.)
    lc_genie_lockstep ls;
    ck_assert_msg(lc_genie_run_lockstep(g, map, 512, 16, 3, NULL, NULL, 0, &ls, &err) == LC_OK, "%s", err.msg);
    fprintf(stderr, "genie catch lockstep: dream %.3f real %.3f, agree %.3f, ends %.3f\n",
            ls.dream_ret, ls.real_ret, ls.agree, ls.end_agree);
    ck_assert_int_eq(ls.windows, 512);
    ck_assert_msg(fabs(ls.dream_ret - ls.real_ret) < 0.08 && ls.agree > 0.93 && ls.end_agree > 0.97,
                  "dream %.3f vs real %.3f, agree %.3f", ls.dream_ret, ls.real_ret, ls.agree);
    // PPO inside the dream only, on the codes the dream plays.
    char name[320];
    snprintf(name, sizeof name, "dream:%s?actions=played", path);
    lc_ppo_cfg pc;
    lc_policy_cfg pol;
    ck_assert_msg(lc_ppo_cfg_for_env(&pc, &pol, name, &err) == LC_OK, "%s", err.msg);
    pc.total_steps = 60000;
    pc.num_envs = 8;
    pc.seed = 1;
    lc_ppo *ppo = NULL;
    ck_assert_msg(lc_ppo_new(&ppo, name, NULL, &pc, &pol, &err) == LC_OK, "%s", err.msg);
    ck_assert_msg(lc_ppo_train(ppo, NULL, NULL, &err) == LC_OK, "%s", err.msg);
    lc_policy *p = lc_ppo_policy(ppo);
    // The policy in the dream beside the real game: the dream pays what the game pays along
    // the policy's own play (measured: 0.961 of 256 windows agree here, 0.99-1.00 for the
    // CLI's seeds 1-5).
    lc_policy_sampler pch = {.p = p};
    lc_rng_seed(&pch.rng, 7, 0);
    ck_assert_msg(lc_genie_run_lockstep(g, map, 256, 16, 3, lc_policy_sample_cb, &pch,
                                        lc_policy_act_space(p)->n, &ls, &err) == LC_OK, "%s", err.msg);
    fprintf(stderr, "genie catch policy lockstep: dream %.3f real %.3f, agree %.3f\n",
            ls.dream_ret, ls.real_ret, ls.agree);
    ck_assert_msg(ls.agree > 0.9, "agree %.3f", ls.agree);
    // The real game, seen as the dream shows frames; sampled actions.
    lc_policy_sampler ps = {.p = p};
    lc_rng_seed(&ps.rng, 5, 0);
    double ret, sd;
    ck_assert_msg(lc_genie_play_real(g, map, lc_policy_sample_cb, &ps, lc_policy_act_space(p)->n,
                                     -1, 100, 77, &ret, &sd, &err) == LC_OK, "%s", err.msg);
    fprintf(stderr, "genie catch: dream-trained policy returns %.2f in the real game (100 "
            "episodes; ball-blind play: -0.75)\n", ret);
    ck_assert_msg(ret > 0.7, "dream-trained policy returned %.2f", ret);
    free(X);
    lc_ppo_free(ppo);
    lc_genie_free(g);
    lc_frames_free(&fr);
    unlink(path);
}
END_TEST

// A tiny trained checkpoint for the contract and checkpoint tests, written before forking.
static void write_model(void) {
    snprintf(model_path, sizeof model_path, "/tmp/lucid_genie_test_%d.lucid", (int)getpid());
    snprintf(frames_path, sizeof frames_path, "/tmp/lucid_genie_frames_%d.lucid", (int)getpid());
    snprintf(actions_path, sizeof actions_path, "/tmp/lucid_genie_frames_%d.actions.lucid",
             (int)getpid());
    lc_frames fr;
    lc_error err = {0};
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 2;
    if (lc_env_make(&env, "Breakout-v0", &o, &err) || lc_frames_collect(&fr, env, 400, 32, 3, &err)) {
        fprintf(stderr, "test_genie: %s\n", err.msg);
        exit(1);
    }
    lc_env_free(env);
    lc_genie_cfg c = tiny_cfg();
    lc_genie *g = NULL;
    float *X = NULL;
    if (lc_genie_new(&g, &c, fr.C, &fr, &err) || lc_genie_prep_all(g, &fr, &X, &err) ||
        lc_genie_train(g, &fr, X, NULL, NULL, &err) || lc_genie_save(g, model_path, &err) ||
        lc_frames_save(&fr, frames_path, actions_path, &err)) {
        fprintf(stderr, "test_genie: %s\n", err.msg);
        exit(1);
    }
    free(X);
    lc_genie_free(g);
    lc_frames_free(&fr);
}

static Suite *genie_suite(void) {
    Suite *s = suite_create("genie");
    TCase *tc = tcase_create("frames");
    tcase_add_test(tc, test_frames_roundtrip);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_test(tc, test_gradients);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    tc = tcase_create("learning");
    tcase_add_test(tc, test_lam_finds_actions);
    tcase_set_timeout(tc, 900); // ~60 s alone; a machine shared by several builds stretches it
    suite_add_tcase(s, tc);
    tc = tcase_create("checkpoint");
    tcase_add_test(tc, test_bad_configs);
    tcase_add_test(tc, test_roundtrip_and_corruption);
    tcase_add_test(tc, test_dream_env_plays);
    tcase_add_test(tc, test_code_aliases);
    tcase_add_test(tc, test_lockstep);
    tcase_add_test(tc, test_play_real);
    tcase_add_test(tc, test_train_nan_stops);
    tcase_add_test(tc, test_tokenizer_nan_stops);
    tcase_add_test(tc, test_cli_nan_keeps_model);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    tc = tcase_create("cli"); // five eval-genie runs: ~25 s alone, minutes on a shared machine
    tcase_add_test(tc, test_cli_eval_genie);
    tcase_set_timeout(tc, 600);
    suite_add_tcase(s, tc);
    if (getenv("LUCID_LONG")) {
        tc = tcase_create("long");
        tcase_add_test(tc, test_catch_dream_controller);
        tcase_set_timeout(tc, 1800);
        suite_add_tcase(s, tc);
    }
    static char contract_name[300];
    snprintf(contract_name, sizeof contract_name, "dream:%s", model_path);
    TCase *ct = lc_contract_tcase(contract_name, NULL);
    tcase_set_timeout(ct, 120);
    suite_add_tcase(s, ct);
    // The same contract with every optional step path on (relabelling and halting).
    static char contract_all[320];
    snprintf(contract_all, sizeof contract_all, "dream:%s?relabel=1,halt=1", model_path);
    ct = lc_contract_tcase(contract_all, NULL);
    tcase_set_timeout(ct, 120);
    suite_add_tcase(s, ct);
    return s;
}

int main(void) {
    lc_init();
    lc_nn_set_threads(1);
    write_model();
    SRunner *sr = srunner_create(genie_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    unlink(model_path);
    unlink(frames_path);
    unlink(actions_path);
    return failures ? 1 : 0;
}
